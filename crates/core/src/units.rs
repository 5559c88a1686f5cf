//! ES unit strings: time values (`1s`, `500ms`, `-1`) and byte sizes (`100mb`).

use crate::error::{Error, Result};
use std::time::Duration;

/// Parses a time value. `-1` (and `-1s` etc.) mean "disabled" and give `None`.
pub fn parse_time(setting: &str, s: &str) -> Result<Option<Duration>> {
    let s = s.trim();
    if s == "-1" || s.starts_with('-') {
        return Ok(None);
    }
    let err = || {
        Error::illegal_argument(format!(
            "failed to parse setting [{setting}] with value [{s}] as a time value: unit is missing or unrecognized"
        ))
    };
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .ok_or_else(err)?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| err())?;
    let secs = match unit {
        "nanos" => n / 1e9,
        "micros" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return Err(err()),
    };
    Ok(Some(Duration::from_secs_f64(secs)))
}

/// Parses a byte size such as `100mb`, `1kb`, `512` (bytes).
pub fn parse_bytes(setting: &str, s: &str) -> Result<u64> {
    let t = s.trim().to_ascii_lowercase();
    let err = || {
        Error::illegal_argument(format!(
            "failed to parse setting [{setting}] with value [{s}] as a size in bytes"
        ))
    };
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| err())?;
    let mult: f64 = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" => 1024.0,
        "m" | "mb" => 1024.0 * 1024.0,
        "g" | "gb" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1024f64.powi(4),
        _ => return Err(err()),
    };
    Ok((n * mult) as u64)
}

/// Renders bytes as `_cat` does (`1.2mb`, `225b`).
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["b", "kb", "mb", "gb", "tb"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n}b")
    } else {
        let s = format!("{v:.1}");
        let s = s.strip_suffix(".0").unwrap_or(&s).to_string();
        format!("{s}{}", UNITS[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("x", "1s").unwrap(), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_time("x", "500ms").unwrap(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_time("x", "-1").unwrap(), None);
        assert!(parse_time("x", "5 parsecs").is_err());
    }

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("x", "100mb").unwrap(), 100 * 1024 * 1024);
        assert_eq!(parse_bytes("x", "1kb").unwrap(), 1024);
        assert_eq!(parse_bytes("x", "12").unwrap(), 12);
        assert_eq!(format_bytes(225), "225b");
        assert_eq!(format_bytes(1536), "1.5kb");
    }
}
