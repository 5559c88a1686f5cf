//! Query-string parameters: decoding (strictly: bad escapes or UTF-8 are a 400),
//! typed getters with ES's error wording, and the check that refuses parameters an
//! endpoint does not know (`request [/x] contains unrecognized parameter: [y]`).

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use percent_encoding::percent_decode;
use searchgate_core::model::{IfMatch, IndexTarget, Refresh, SourceFilter};
use searchgate_core::units::parse_time;
use searchgate_core::{Error, Result};
use std::time::Duration;

/// Parameters every endpoint accepts (ES's global parameters).
pub const GLOBAL: &[&str] = &[
    "pretty",
    "human",
    "error_trace",
    "filter_path",
    "source",
    "source_content_type",
];

/// Index-expression options shared by multi-index APIs.
pub const INDICES_OPTIONS: &[&str] = &[
    "ignore_unavailable",
    "allow_no_indices",
    "expand_wildcards",
    "ignore_throttled",
];

/// The decoded query string of a request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// The request path, for error messages.
    path: String,
}

fn decode(raw: &str) -> Result<String> {
    if let Some(bad) = unterminated_escape(raw) {
        return Err(Error::illegal_argument(format!(
            "unterminated escape sequence at end of string: {bad}"
        )));
    }
    let plus = raw.replace('+', " ");
    let bytes: Vec<u8> = percent_decode(plus.as_bytes()).collect();
    String::from_utf8(bytes).map_err(|_| {
        Error::illegal_argument(format!(
            "invalid UTF-8 in the query string parameter [{raw}]"
        ))
    })
}

/// ES refuses `%` not followed by two hex digits.
fn unterminated_escape(raw: &str) -> Option<&str> {
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Some(&raw[i..]);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    None
}

impl Params {
    pub fn parse(path: &str, query: Option<&str>) -> Result<Params> {
        let mut pairs = Vec::new();
        for part in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Params {
            pairs,
            path: path.to_string(),
        })
    }

    /// The last value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    /// Refuses any parameter that is neither global nor in `allowed`.
    pub fn allow(&self, allowed: &[&[&str]]) -> Result<()> {
        for (k, _) in &self.pairs {
            let known = GLOBAL.contains(&k.as_str())
                || allowed.iter().any(|list| list.contains(&k.as_str()));
            if !known {
                return Err(Error::illegal_argument(format!(
                    "request [{}] contains unrecognized parameter: [{k}]",
                    self.path
                )));
            }
        }
        Ok(())
    }

    /// A boolean: absent → `default`; `""` (bare `?flag`) and `true` → true.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some("") | Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(Error::illegal_argument(format!(
                "Failed to parse value [{other}] as only [true] or [false] are allowed."
            ))),
        }
    }

    pub fn flag(&self, key: &str) -> Result<bool> {
        self.bool_or(key, false)
    }

    pub fn i64(&self, key: &str) -> Result<Option<i64>> {
        self.get(key)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    Error::illegal_argument(format!(
                        "Failed to parse long parameter [{key}] with value [{v}]"
                    ))
                })
            })
            .transpose()
    }

    pub fn usize(&self, key: &str) -> Result<Option<usize>> {
        match self.i64(key)? {
            None => Ok(None),
            Some(n) if n < 0 => Err(Error::illegal_argument(format!(
                "[{key}] parameter cannot be negative, found [{n}]"
            ))),
            Some(n) => Ok(Some(n as usize)),
        }
    }

    /// A time value (`30s`); `-1` gives `None` inside the `Some`.
    pub fn time(&self, key: &str) -> Result<Option<Option<Duration>>> {
        self.get(key).map(|v| parse_time(key, v)).transpose()
    }

    pub fn refresh(&self) -> Result<Refresh> {
        Refresh::parse(self.get("refresh"))
    }

    /// `if_seq_no` + `if_primary_term`, validated as a pair like ES does.
    pub fn if_match(&self) -> Result<IfMatch> {
        let m = IfMatch {
            if_seq_no: self.i64("if_seq_no")?,
            if_primary_term: self.i64("if_primary_term")?,
        };
        validate_if_match(&m)?;
        Ok(m)
    }

    /// `_source`, `_source_includes`, `_source_excludes` (and the 7.x `_source_include`);
    /// `None` when none is given.
    pub fn source_filter(&self) -> Option<SourceFilter> {
        let inc = self.get("_source_includes").or(self.get("_source_include"));
        let exc = self.get("_source_excludes").or(self.get("_source_exclude"));
        if self.get("_source").is_none() && inc.is_none() && exc.is_none() {
            return None;
        }
        Some(SourceFilter::from_params(self.get("_source"), inc, exc))
    }

    /// An index expression from the path with `ignore_unavailable`/`allow_no_indices`.
    pub fn target(&self, expression: &str) -> Result<IndexTarget> {
        let mut t = IndexTarget::new(expression);
        t.ignore_unavailable = self.bool_or("ignore_unavailable", t.ignore_unavailable)?;
        t.allow_no_indices = self.bool_or("allow_no_indices", t.allow_no_indices)?;
        Ok(t)
    }
}

pub fn validate_if_match(m: &IfMatch) -> Result<()> {
    match (m.if_seq_no, m.if_primary_term) {
        (Some(s), None) | (Some(s), Some(0)) if s >= 0 => Err(Error::action_request_validation(
            "ifSeqNo is set, but primary term is [0]",
        )),
        (None, Some(t)) if t != 0 => Err(Error::action_request_validation(format!(
            "ifSeqNo is unassigned, but primary term is [{t}]"
        ))),
        (Some(s), _) if s < 0 => Err(Error::illegal_argument(format!(
            "sequence numbers must be non negative. got [{s}]."
        ))),
        (_, Some(t)) if t < 0 => Err(Error::illegal_argument(format!(
            "primary term must be non negative. got [{t}]"
        ))),
        _ => Ok(()),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        // The edge has parsed them already (see `edge::edge`).
        if let Some(p) = parts.extensions.get::<Params>() {
            return Ok(p.clone());
        }
        Ok(Params::parse(parts.uri.path(), parts.uri.query())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        let p = Params::parse("/x", Some("q=a+b%3Ac&pretty&size=5")).unwrap();
        assert_eq!(p.get("q"), Some("a b:c"));
        assert_eq!(p.get("pretty"), Some(""));
        assert!(p.flag("pretty").unwrap());
        assert_eq!(p.usize("size").unwrap(), Some(5));
        assert!(Params::parse("/x", Some("q=%ZZ")).is_err());
        assert!(Params::parse("/x", Some("q=%")).is_err());
        assert!(Params::parse("/x", Some("q=%FF")).is_err());
    }

    #[test]
    fn unknown_param() {
        let p = Params::parse("/_search", Some("pretty&frob=1")).unwrap();
        let e = p.allow(&[&["q"]]).unwrap_err();
        assert_eq!(
            e.reason,
            "request [/_search] contains unrecognized parameter: [frob]"
        );
    }

    #[test]
    fn if_match_pairs() {
        let p = Params::parse("/x", Some("if_seq_no=1")).unwrap();
        assert_eq!(
            p.if_match().unwrap_err().kind,
            "action_request_validation_exception"
        );
        let p = Params::parse("/x", Some("if_seq_no=1&if_primary_term=1")).unwrap();
        assert_eq!(p.if_match().unwrap().if_seq_no, Some(1));
        let p = Params::parse("/x", Some("if_seq_no=x")).unwrap();
        assert_eq!(p.if_match().unwrap_err().kind, "illegal_argument_exception");
    }
}
