//! Aggregations, run by tantivy's aggregation framework (whose request and result
//! JSON follow Elasticsearch's). This module translates a request for one index:
//! ES field paths become the index's fast-field columns, `date_histogram` (dates
//! are epoch-millisecond numbers here) becomes a `histogram` with the interval in
//! milliseconds, and afterwards date buckets get integer keys and `key_as_string`.
//!
//! Supported: terms, histogram, date_histogram (fixed intervals and calendar
//! units up to a week), range, avg, sum, min, max, stats, extended_stats,
//! value_count, cardinality, percentiles. Calendar months/quarters/years are refused.

use crate::dates;
use crate::fields::FieldTable;
use searchgate_core::model::FieldType;
use searchgate_core::{Error, Result};
use serde_json::{json, Map, Value};

/// Paths (agg names from the root) of `date_histogram`s, whose results need date keys.
pub type DatePaths = Vec<Vec<String>>;

const DAY_MS: i64 = 86_400_000;

fn interval_ms(s: &str) -> Result<i64> {
    let named = match s {
        "second" | "1s" => Some(1000),
        "minute" | "1m" => Some(60_000),
        "hour" | "1h" => Some(3_600_000),
        "day" | "1d" => Some(DAY_MS),
        "week" | "1w" => Some(7 * DAY_MS),
        "month" | "1M" | "quarter" | "1q" | "year" | "1y" => {
            return Err(Error::illegal_argument(format!(
                "date_histogram with calendar interval [{s}] is not supported by the embedded engine yet"
            )))
        }
        _ => None,
    };
    if let Some(ms) = named {
        return Ok(ms);
    }
    match searchgate_core::units::parse_time("interval", s)? {
        Some(d) if d.as_millis() > 0 => Ok(d.as_millis() as i64),
        _ => Err(Error::illegal_argument(format!(
            "failed to parse interval [{s}]"
        ))),
    }
}

/// Translates the `aggs` object of a request for one index.
pub fn translate(aggs: &Value, table: &FieldTable) -> Result<(Value, DatePaths)> {
    let mut dates = Vec::new();
    let v = translate_level(aggs, table, &mut Vec::new(), &mut dates)?;
    Ok((v, dates))
}

fn translate_level(
    aggs: &Value,
    table: &FieldTable,
    path: &mut Vec<String>,
    dates: &mut DatePaths,
) -> Result<Value> {
    let obj = aggs
        .as_object()
        .ok_or_else(|| Error::parsing("[aggs] must be an object"))?;
    let mut out = Map::new();
    for (name, def) in obj {
        let def = def
            .as_object()
            .ok_or_else(|| Error::parsing(format!("Expected [START_OBJECT] under [{name}]")))?;
        let mut agg = Map::new();
        path.push(name.clone());
        for (k, body) in def {
            match k.as_str() {
                "aggs" | "aggregations" => {
                    agg.insert("aggs".into(), translate_level(body, table, path, dates)?);
                }
                "meta" => {
                    agg.insert(k.clone(), body.clone());
                }
                kind => {
                    let (kind, body) = translate_agg(kind, body, table)?;
                    if kind == "date_histogram" {
                        dates.push(path.clone());
                        agg.insert("histogram".into(), body);
                    } else {
                        agg.insert(kind.to_string(), body);
                    }
                }
            }
        }
        path.pop();
        out.insert(name.clone(), Value::Object(agg));
    }
    Ok(Value::Object(out))
}

fn column(table: &FieldTable, field: &str) -> Result<String> {
    match table.get(field) {
        None => Ok(format!("__unmapped__{field}")),
        Some(info) if info.ty == FieldType::Text => Err(Error::illegal_argument(format!(
            "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [{field}] in order to load field data by uninverting the inverted index. Note that this can use significant memory."
        ))),
        Some(info) => Ok(table.column_name(info).unwrap_or_else(|| format!("__unmapped__{field}"))),
    }
}

fn translate_agg<'a>(kind: &'a str, body: &Value, table: &FieldTable) -> Result<(&'a str, Value)> {
    let mut b = body
        .as_object()
        .cloned()
        .ok_or_else(|| Error::parsing(format!("[{kind}] must be an object")))?;
    if let Some(Value::String(f)) = b.get("field").cloned() {
        b.insert("field".into(), Value::String(column(table, &f)?));
    }
    if kind == "date_histogram" {
        let interval = ["fixed_interval", "calendar_interval", "interval"]
            .iter()
            .find_map(|k| b.remove(*k))
            .and_then(|v| v.as_str().map(String::from))
            .ok_or_else(|| Error::illegal_argument("Required one of fields [fixed_interval, calendar_interval], but none were specified."))?;
        let ms = interval_ms(&interval)?;
        let mut h = Map::new();
        h.insert("field".into(), b.remove("field").unwrap_or(Value::Null));
        h.insert("interval".into(), json!(ms));
        if ms % (7 * DAY_MS) == 0 && interval.contains('w') || interval == "week" {
            // ES weeks start on Monday; the epoch was a Thursday.
            h.insert("offset".into(), json!(4 * DAY_MS));
        }
        if let Some(m) = b.remove("min_doc_count") {
            h.insert("min_doc_count".into(), m);
        }
        if let Some(Value::Object(eb)) = b.remove("extended_bounds") {
            let conv = |v: &Value| -> Option<Value> {
                match v {
                    Value::Number(n) => Some(Value::Number(n.clone())),
                    Value::String(s) => dates::parse_date(s, None).map(|ms| json!(ms)),
                    _ => None,
                }
            };
            let mut e = Map::new();
            for (k, v) in &eb {
                if let Some(c) = conv(v) {
                    e.insert(k.clone(), c);
                }
            }
            h.insert("extended_bounds".into(), Value::Object(e));
        }
        if let Some(k) = b.remove("keyed") {
            h.insert("keyed".into(), k);
        }
        return Ok(("date_histogram", Value::Object(h)));
    }
    Ok((kind, Value::Object(b)))
}

/// Gives `date_histogram` buckets integer keys and `key_as_string`, as ES does.
pub fn fix_dates(result: &mut Value, paths: &DatePaths) {
    for path in paths {
        fix_path(result, path);
    }
}

fn fix_path(node: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(agg) = node.get_mut(first) else {
        return;
    };
    if rest.is_empty() {
        if let Some(buckets) = agg.get_mut("buckets").and_then(Value::as_array_mut) {
            for b in buckets {
                if let Some(k) = b.get("key").and_then(Value::as_f64) {
                    let ms = k as i64;
                    b["key"] = json!(ms);
                    b["key_as_string"] = json!(dates::format_millis(ms));
                }
            }
        }
        return;
    }
    // Descend through every bucket of this agg.
    if let Some(buckets) = agg.get_mut("buckets").and_then(Value::as_array_mut) {
        for b in buckets {
            fix_path(b, rest);
        }
    } else {
        fix_path(agg, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(interval_ms("1d").unwrap(), DAY_MS);
        assert_eq!(interval_ms("12h").unwrap(), 12 * 3_600_000);
        assert!(interval_ms("month").is_err());
    }
}
