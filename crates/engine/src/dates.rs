//! Dates as Elasticsearch reads them: named formats (`strict_date_optional_time`,
//! `epoch_millis`, …), Java-style patterns (`yyyy-MM-dd HH:mm:ss`), `||`-separated
//! alternatives, and date math (`now-1d/d`, `2024-01-01||+1M/M`) with the rounding
//! rules of range queries. All values are epoch milliseconds (UTC).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use searchgate_core::{Error, Result};

/// The format of a `date` field without a `format` parameter.
pub const DEFAULT_FORMAT: &str = "strict_date_optional_time||epoch_millis";

const NAMED: &[&str] = &[
    "epoch_millis",
    "epoch_second",
    "strict_date_optional_time",
    "date_optional_time",
    "strict_date_optional_time_nanos",
    "strict_date_time",
    "date_time",
    "strict_date_time_no_millis",
    "date_time_no_millis",
    "strict_date",
    "date",
    "strict_date_hour_minute_second",
    "date_hour_minute_second",
    "strict_date_hour_minute_second_millis",
    "date_hour_minute_second_millis",
    "strict_date_hour_minute",
    "date_hour_minute",
    "strict_year_month",
    "year_month",
    "strict_year",
    "year",
    "iso8601",
    "basic_date",
    "basic_date_time",
];

/// Whether a `format` mapping parameter is one searchgate can parse: named formats
/// and Java-style patterns, `||`-separated.
pub fn valid_format(format: &str) -> bool {
    format.split("||").all(|f| {
        let f = f.trim();
        if NAMED.contains(&f) {
            return true;
        }
        let mut in_quote = false;
        let mut has_field = false;
        for c in f.chars() {
            if c == '\'' {
                in_quote = !in_quote;
            } else if !in_quote {
                if "yuMdHhmsSaXZx".contains(c) {
                    has_field = true;
                } else if !" -/:.,T_".contains(c) {
                    return false;
                }
            }
        }
        has_field && !in_quote
    })
}

/// Parses `s` with a `||`-separated list of formats.
pub fn parse_date(s: &str, format: Option<&str>) -> Option<i64> {
    let format = format.unwrap_or(DEFAULT_FORMAT);
    format
        .split("||")
        .find_map(|f| parse_one(s.trim(), f.trim()))
}

fn parse_one(s: &str, format: &str) -> Option<i64> {
    match format {
        "epoch_millis" => s.parse::<f64>().ok().map(|v| v as i64),
        "epoch_second" => s.parse::<f64>().ok().map(|v| (v * 1000.0) as i64),
        "strict_date_optional_time"
        | "date_optional_time"
        | "strict_date_optional_time_nanos"
        | "strict_date_time"
        | "date_time"
        | "strict_date_time_no_millis"
        | "date_time_no_millis"
        | "strict_date"
        | "date"
        | "strict_date_hour_minute_second"
        | "date_hour_minute_second"
        | "strict_date_hour_minute_second_millis"
        | "date_hour_minute_second_millis"
        | "strict_date_hour_minute"
        | "date_hour_minute"
        | "strict_year_month"
        | "year_month"
        | "strict_year"
        | "year"
        | "iso8601" => parse_iso(s),
        "basic_date" => NaiveDate::parse_from_str(s, "%Y%m%d").ok().map(midnight),
        "basic_date_time" => DateTime::parse_from_str(s, "%Y%m%dT%H%M%S%.3f%#z")
            .ok()
            .map(|d| d.timestamp_millis()),
        pattern => parse_pattern(s, pattern),
    }
}

fn midnight(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0)
}

/// ISO 8601 with optional parts: `2024`, `2024-05`, `2024-05-06`, `2024-05-06T07`,
/// `…T07:08`, `…:09`, `….123`, and a zone `Z`, `+01:00`, `+0100`, `+01`.
pub fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let mut i = 0;
    let num = |i: &mut usize, n: usize| -> Option<u32> {
        if *i + n > b.len() || !b[*i..*i + n].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = std::str::from_utf8(&b[*i..*i + n]).ok()?.parse().ok()?;
        *i += n;
        Some(v)
    };
    let negative_year = b.first() == Some(&b'-');
    if negative_year {
        return None;
    }
    let year = num(&mut i, 4)? as i32;
    let (mut month, mut day) = (1, 1);
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0u32);
    if i < b.len() && b[i] == b'-' {
        i += 1;
        month = num(&mut i, 2)?;
        if i < b.len() && b[i] == b'-' {
            i += 1;
            day = num(&mut i, 2)?;
        }
    }
    if i < b.len() && (b[i] == b'T' || b[i] == b't' || b[i] == b' ') {
        i += 1;
        hour = num(&mut i, 2)?;
        if i < b.len() && b[i] == b':' {
            i += 1;
            minute = num(&mut i, 2)?;
            if i < b.len() && b[i] == b':' {
                i += 1;
                second = num(&mut i, 2)?;
                if i < b.len() && (b[i] == b'.' || b[i] == b',') {
                    i += 1;
                    let start = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    let frac = &s[start..i];
                    if frac.is_empty() || frac.len() > 9 {
                        return None;
                    }
                    nanos = format!("{frac:0<9}").parse().ok()?;
                }
            }
        }
    }
    let mut offset_secs = 0i64;
    if i < b.len() {
        match b[i] {
            b'Z' | b'z' => i += 1,
            b'+' | b'-' => {
                let sign = if b[i] == b'-' { -1 } else { 1 };
                i += 1;
                let oh = num(&mut i, 2)? as i64;
                let mut om = 0;
                if i < b.len() && b[i] == b':' {
                    i += 1;
                }
                if i < b.len() {
                    om = num(&mut i, 2)? as i64;
                }
                offset_secs = sign * (oh * 3600 + om * 60);
            }
            _ => return None,
        }
    }
    if i != b.len() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let dt = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    Some(dt.and_utc().timestamp_millis() - offset_secs * 1000)
}

/// A Java DateTimeFormatter pattern, converted to chrono's syntax.
fn parse_pattern(s: &str, pattern: &str) -> Option<i64> {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut has_time = false;
    let mut has_zone = false;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        match c {
            'y' | 'u' => out.push_str(if n == 2 { "%y" } else { "%Y" }),
            'M' => out.push_str(match n {
                1 | 2 => "%m",
                3 => "%b",
                _ => "%B",
            }),
            'd' => out.push_str("%d"),
            'H' => {
                has_time = true;
                out.push_str("%H")
            }
            'h' => {
                has_time = true;
                out.push_str("%I")
            }
            'm' => out.push_str("%M"),
            's' => out.push_str("%S"),
            'S' => out.push_str("%3f"),
            'a' => out.push_str("%p"),
            'X' | 'Z' | 'x' => {
                has_zone = true;
                out.push_str("%#z")
            }
            '\'' => {
                let end = chars[i + 1..].iter().position(|&x| x == '\'')?;
                out.extend(&chars[i + 1..i + 1 + end]);
                i += end + 2;
                continue;
            }
            other => {
                for _ in 0..n {
                    out.push(other)
                }
            }
        }
        i += n;
    }
    if has_zone {
        return DateTime::parse_from_str(s, &out)
            .ok()
            .map(|d| d.timestamp_millis());
    }
    if has_time {
        return NaiveDateTime::parse_from_str(s, &out)
            .ok()
            .map(|d| d.and_utc().timestamp_millis());
    }
    NaiveDate::parse_from_str(s, &out).ok().map(midnight)
}

/// Renders epoch millis as ES renders a date with the default format.
pub fn format_millis(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(d) => d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

/// Which way a rounded date math expression resolves (`/d`): range bounds `gt` and
/// `lte` round up to the last millisecond of the unit; `gte` and `lt` round down.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Down,
    Up,
}

/// Resolves a date math expression (`now-1d/d`, `2024-01-01||+1M`) or a plain date.
pub fn resolve(expr: &str, format: Option<&str>, now_ms: i64, round: Round) -> Result<i64> {
    let bad = || {
        Error::new(
            400,
            "parse_exception",
            format!(
                "failed to parse date field [{expr}] with format [{}]",
                format.unwrap_or(DEFAULT_FORMAT)
            ),
        )
    };
    let (anchor, math) = if let Some(rest) = expr.strip_prefix("now") {
        (now_ms, rest)
    } else if let Some((date, math)) = expr.split_once("||") {
        (parse_date(date, format).ok_or_else(bad)?, math)
    } else {
        return parse_date(expr, format).ok_or_else(bad);
    };
    let mut t = Utc.timestamp_millis_opt(anchor).single().ok_or_else(bad)?;
    let b: Vec<char> = math.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let op = b[i];
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n: i64 = if i == start {
            1
        } else {
            b[start..i]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| bad())?
        };
        let unit = *b.get(i).ok_or_else(bad)?;
        i += 1;
        t = match op {
            '+' => add(t, n, unit).ok_or_else(bad)?,
            '-' => add(t, -n, unit).ok_or_else(bad)?,
            '/' => {
                let down = round_down(t, unit).ok_or_else(bad)?;
                match round {
                    Round::Down => down,
                    Round::Up => add(down, 1, unit).ok_or_else(bad)? - Duration::milliseconds(1),
                }
            }
            _ => return Err(bad()),
        };
    }
    Ok(t.timestamp_millis())
}

fn add(t: DateTime<Utc>, n: i64, unit: char) -> Option<DateTime<Utc>> {
    Some(match unit {
        'y' => with_months(t, n * 12)?,
        'M' => with_months(t, n)?,
        'w' => t + Duration::weeks(n),
        'd' => t + Duration::days(n),
        'h' | 'H' => t + Duration::hours(n),
        'm' => t + Duration::minutes(n),
        's' => t + Duration::seconds(n),
        _ => return None,
    })
}

fn with_months(t: DateTime<Utc>, n: i64) -> Option<DateTime<Utc>> {
    let total = t.year() as i64 * 12 + t.month0() as i64 + n;
    let (y, m0) = (total.div_euclid(12) as i32, total.rem_euclid(12) as u32);
    let last_day = (28..=31)
        .rev()
        .find(|d| NaiveDate::from_ymd_opt(y, m0 + 1, *d).is_some())?;
    let d = NaiveDate::from_ymd_opt(y, m0 + 1, t.day().min(last_day))?;
    Some(d.and_time(t.time()).and_utc())
}

fn round_down(t: DateTime<Utc>, unit: char) -> Option<DateTime<Utc>> {
    let d = t.date_naive();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|x| x.and_utc());
    match unit {
        'y' => midnight(NaiveDate::from_ymd_opt(d.year(), 1, 1)?),
        'M' => midnight(NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?),
        'w' => midnight(d - Duration::days(d.weekday().num_days_from_monday() as i64)),
        'd' => midnight(d),
        'h' | 'H' => d.and_hms_opt(t.hour(), 0, 0).map(|x| x.and_utc()),
        'm' => d.and_hms_opt(t.hour(), t.minute(), 0).map(|x| x.and_utc()),
        's' => d
            .and_hms_opt(t.hour(), t.minute(), t.second())
            .map(|x| x.and_utc()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_forms() {
        assert_eq!(parse_iso("2013-01-01T10:00:00Z"), Some(1357034400000));
        assert_eq!(parse_iso("2013-01-01"), Some(1356998400000));
        assert_eq!(parse_iso("2013-01-01T11:00:00+01:00"), Some(1357034400000));
        assert_eq!(
            parse_iso("2026-07-11T10:16:37+00:00"),
            parse_iso("2026-07-11T10:16:37Z")
        );
        assert_eq!(parse_iso("2013-01-01T10:00:00.5Z"), Some(1357034400500));
        assert_eq!(parse_iso("nope"), None);
        assert_eq!(parse_iso("2013-13-01"), None);
    }

    #[test]
    fn format_validation() {
        assert!(valid_format("yyyy-MM-dd||epoch_millis"));
        assert!(valid_format("yyyy/MM/dd HH:mm:ss"));
        assert!(!valid_format("no such format !!"));
    }

    #[test]
    fn formats() {
        assert_eq!(parse_date("1357034400000", None), Some(1357034400000));
        assert_eq!(
            parse_date("2013/01/01", Some("yyyy/MM/dd")),
            Some(1356998400000)
        );
        assert_eq!(
            parse_date("2013-01-01 10:00:00", Some("yyyy-MM-dd HH:mm:ss")),
            Some(1357034400000)
        );
        assert_eq!(
            parse_date("1357034400", Some("epoch_second")),
            Some(1357034400000)
        );
    }

    #[test]
    fn math() {
        let now = parse_iso("2024-03-15T12:34:56Z").unwrap();
        assert_eq!(
            resolve("now-1d/d", None, now, Round::Down).unwrap(),
            parse_iso("2024-03-14").unwrap()
        );
        assert_eq!(
            resolve("now-1d/d", None, now, Round::Up).unwrap(),
            parse_iso("2024-03-14T23:59:59.999Z").unwrap()
        );
        assert_eq!(
            resolve("2024-01-31||+1M", None, now, Round::Down).unwrap(),
            parse_iso("2024-02-29").unwrap()
        );
        assert_eq!(
            resolve("now/M", None, now, Round::Down).unwrap(),
            parse_iso("2024-03-01").unwrap()
        );
        assert!(resolve("now-1x", None, now, Round::Down).is_err());
    }
}
