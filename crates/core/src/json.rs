//! Guards for JSON that clients send: a nesting-depth check that runs before any
//! parser recurses, and parse-error wording as ES words it.

use crate::error::{Error, Result};

/// Fails when `body` nests objects/arrays deeper than `max_depth`.
/// It scans bytes once, skipping strings, so it is safe on hostile input.
pub fn check_depth(body: &[u8], max_depth: usize) -> Result<()> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(Error::x_content_parse(format!(
                        "The nesting depth of the document exceeds the allowed maximum of [{max_depth}]"
                    )));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parses a JSON body as ES does, mapping syntax errors to a 400
/// `x_content_parse_exception` with line and column.
pub fn parse_body(body: &[u8], max_depth: usize) -> Result<serde_json::Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    check_depth(body, max_depth)?;
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

pub fn json_error(e: &serde_json::Error) -> Error {
    Error::new(
        400,
        "x_content_parse_exception",
        format!("[{}:{}] failed to parse JSON: {e}", e.line(), e.column()),
    )
    .caused_by(Error::new(400, "json_parse_exception", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth() {
        assert!(check_depth(br#"{"a":[{"b":1}]}"#, 3).is_ok());
        assert!(check_depth(br#"{"a":[{"b":1}]}"#, 2).is_err());
        assert!(check_depth(br#"{"a":"[[[[[[["}"#, 2).is_ok());
        let deep = "[".repeat(10_000);
        assert!(check_depth(deep.as_bytes(), 100).is_err());
    }

    #[test]
    fn malformed() {
        let e = parse_body(b"{\"a\":", 10).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.kind, "x_content_parse_exception");
    }
}
