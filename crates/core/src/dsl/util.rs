//! Helpers shared by the clause parsers: the `{"<field>": {...}}` shape, scalars,
//! boosts, and ES-worded errors.

use super::Query;
use crate::error::{Error, Result};
use serde_json::{Map, Value};

/// A JSON scalar as a query value (a term, a range bound).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    pub fn from_json(clause: &str, v: &Value) -> Result<Scalar> {
        match v {
            Value::String(s) => Ok(Scalar::Str(s.clone())),
            Value::Bool(b) => Ok(Scalar::Bool(*b)),
            Value::Number(n) => Ok(match n.as_i64() {
                Some(i) => Scalar::Int(i),
                None => Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
            }),
            _ => Err(Error::parsing(format!(
                "[{clause}] unknown token [{}] after [value]",
                token_name(v)
            ))),
        }
    }

    /// The value as text, as ES renders it when it analyzes a number.
    pub fn as_text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }

    pub fn to_json(&self) -> Value {
        match self {
            Scalar::Str(s) => Value::String(s.clone()),
            Scalar::Int(i) => Value::from(*i),
            Scalar::Float(f) => Value::from(*f),
            Scalar::Bool(b) => Value::Bool(*b),
        }
    }
}

pub(crate) fn token_name(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "START_OBJECT",
        Value::Array(_) => "START_ARRAY",
        Value::String(_) => "VALUE_STRING",
        Value::Number(_) => "VALUE_NUMBER",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Null => "VALUE_NULL",
    }
}

pub(crate) fn expect_object<'a>(clause: &str, v: &'a Value) -> Result<&'a Map<String, Value>> {
    v.as_object().ok_or_else(|| {
        Error::parsing(format!(
            "[{clause}] query malformed, no start_object after query name"
        ))
    })
}

/// `{"<field>": <params>}`: exactly one field. Returns the field and its params.
/// Keys that ES allows beside the field (`boost`, `_name`) are returned in `extra`.
pub(crate) fn one_field<'a>(
    clause: &str,
    v: &'a Value,
) -> Result<(&'a str, &'a Value, Option<f32>)> {
    let obj = expect_object(clause, v)?;
    let mut field = None;
    let mut boost = None;
    for (k, val) in obj {
        match k.as_str() {
            "boost" => boost = Some(as_f32(clause, k, val)?),
            "_name" => {}
            _ => {
                if let Some((prev, _)) = field {
                    return Err(Error::parsing(format!(
                        "[{clause}] query doesn't support multiple fields, found [{prev}] and [{k}]"
                    )));
                }
                field = Some((k.as_str(), val));
            }
        }
    }
    match field {
        Some((f, p)) => Ok((f, p, boost)),
        None => Err(Error::illegal_argument(format!(
            "[{clause}] requires a field name"
        ))),
    }
}

pub(crate) fn as_f32(clause: &str, key: &str, v: &Value) -> Result<f32> {
    match v {
        Value::Number(n) => Ok(n.as_f64().unwrap_or(1.0) as f32),
        Value::String(s) => s
            .parse::<f32>()
            .map_err(|_| Error::parsing(format!("[{clause}] failed to parse [{key}] value [{s}]"))),
        _ => Err(Error::parsing(format!(
            "[{clause}] [{key}] must be a number, found [{}]",
            token_name(v)
        ))),
    }
}

pub(crate) fn as_u32(clause: &str, key: &str, v: &Value) -> Result<u32> {
    match v {
        Value::Number(n) if n.as_u64().is_some() => {
            Ok(n.as_u64().unwrap_or(0).min(u32::MAX as u64) as u32)
        }
        Value::String(s) => s
            .parse::<u32>()
            .map_err(|_| Error::parsing(format!("[{clause}] failed to parse [{key}] value [{s}]"))),
        _ => Err(Error::parsing(format!(
            "[{clause}] [{key}] must be a non-negative integer"
        ))),
    }
}

pub(crate) fn as_bool(clause: &str, key: &str, v: &Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(Error::parsing(format!(
            "[{clause}] failed to parse [{key}] as a boolean"
        ))),
    }
}

pub(crate) fn as_string(clause: &str, key: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(Error::parsing(format!(
            "[{clause}] [{key}] unknown token [{}]",
            token_name(v)
        ))),
    }
}

pub(crate) fn unsupported(clause: &str, key: &str) -> Error {
    Error::parsing(format!("[{clause}] query does not support [{key}]"))
}

pub(crate) fn parse_match_all(v: &Value) -> Result<Query> {
    let obj = expect_object("match_all", v)?;
    let mut boost = 1.0;
    for (k, val) in obj {
        match k.as_str() {
            "boost" => boost = as_f32("match_all", k, val)?,
            "_name" => {}
            _ => return Err(unsupported("match_all", k)),
        }
    }
    Ok(Query::MatchAll { boost })
}

/// Parses a single query or an array of queries (as `bool.must` accepts both).
pub(crate) fn query_list(clause: &str, v: &Value) -> Result<Vec<Query>> {
    match v {
        Value::Array(items) => items.iter().map(Query::parse).collect(),
        Value::Object(_) => Ok(vec![Query::parse(v)?]),
        _ => Err(Error::parsing(format!(
            "[{clause}] query malformed, expected an object or an array"
        ))),
    }
}
