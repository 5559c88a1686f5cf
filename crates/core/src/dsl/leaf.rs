//! Term-level clauses: `term`, `terms`, `range`, `exists`, `prefix`, `ids`.
//! None of them analyzes its input; all but `term` score as constants.

use super::util::{
    as_bool, as_f32, as_string, expect_object, one_field, token_name, unsupported, Scalar,
};
use crate::error::{Error, Result};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct TermQuery {
    pub field: String,
    pub value: Scalar,
    pub boost: f32,
    pub case_insensitive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TermsQuery {
    pub field: String,
    pub values: Vec<Scalar>,
    pub boost: f32,
}

/// `range`: bounds as given (numbers, date strings or date math); the engine
/// interprets them by the field's type.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeQuery {
    pub field: String,
    pub gt: Option<Scalar>,
    pub gte: Option<Scalar>,
    pub lt: Option<Scalar>,
    pub lte: Option<Scalar>,
    pub format: Option<String>,
    pub time_zone: Option<String>,
    pub boost: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExistsQuery {
    pub field: String,
    pub boost: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrefixQuery {
    pub field: String,
    pub value: String,
    pub case_insensitive: bool,
    pub boost: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdsQuery {
    pub values: Vec<String>,
    pub boost: f32,
}

pub(crate) fn parse_term(v: &Value) -> Result<TermQuery> {
    let (field, params, outer_boost) = one_field("term", v)?;
    let mut q = TermQuery {
        field: field.to_string(),
        value: Scalar::Bool(false),
        boost: outer_boost.unwrap_or(1.0),
        case_insensitive: false,
    };
    match params {
        Value::Object(o) => {
            let mut value = None;
            for (k, val) in o {
                match k.as_str() {
                    "value" => value = Some(Scalar::from_json("term", val)?),
                    "boost" => q.boost = as_f32("term", k, val)?,
                    "case_insensitive" => q.case_insensitive = as_bool("term", k, val)?,
                    "_name" => {}
                    _ => return Err(unsupported("term", k)),
                }
            }
            q.value = value.ok_or_else(|| Error::illegal_argument("value cannot be null"))?;
        }
        Value::Array(_) => {
            return Err(Error::parsing(
                "[term] query does not support array of values",
            ))
        }
        Value::Null => return Err(Error::illegal_argument("value cannot be null")),
        other => q.value = Scalar::from_json("term", other)?,
    }
    Ok(q)
}

pub(crate) fn parse_terms(v: &Value) -> Result<TermsQuery> {
    let obj = expect_object("terms", v)?;
    let mut boost = 1.0;
    let mut field: Option<(&str, &Vec<Value>)> = None;
    for (k, val) in obj {
        match k.as_str() {
            "boost" => boost = as_f32("terms", k, val)?,
            "_name" => {}
            _ => match val {
                Value::Array(items) => {
                    if let Some((prev, _)) = field {
                        return Err(Error::parsing(format!(
                            "[terms] query does not support multiple fields, found [{prev}] and [{k}]"
                        )));
                    }
                    field = Some((k, items));
                }
                Value::Object(_) => {
                    return Err(Error::parsing(
                        "[terms] query does not support terms lookup in this version",
                    ))
                }
                _ => {
                    return Err(Error::parsing(format!(
                        "[terms] query does not support [{k}]"
                    )))
                }
            },
        }
    }
    let (field, items) = field
        .ok_or_else(|| Error::parsing("[terms] query requires a field with an array of values"))?;
    let values = items
        .iter()
        .map(|i| Scalar::from_json("terms", i))
        .collect::<Result<Vec<_>>>()?;
    Ok(TermsQuery {
        field: field.to_string(),
        values,
        boost,
    })
}

pub(crate) fn parse_range(v: &Value) -> Result<RangeQuery> {
    let (field, params, outer_boost) = one_field("range", v)?;
    let obj = expect_object("range", params)?;
    let mut q = RangeQuery {
        field: field.to_string(),
        gt: None,
        gte: None,
        lt: None,
        lte: None,
        format: None,
        time_zone: None,
        boost: outer_boost.unwrap_or(1.0),
    };
    let bound = |val: &Value| -> Result<Option<Scalar>> {
        if val.is_null() {
            Ok(None)
        } else {
            Scalar::from_json("range", val).map(Some)
        }
    };
    let mut include_lower = true;
    let mut include_upper = true;
    let mut from = None;
    let mut to = None;
    for (k, val) in obj {
        match k.as_str() {
            "gt" => q.gt = bound(val)?,
            "gte" => q.gte = bound(val)?,
            "lt" => q.lt = bound(val)?,
            "lte" => q.lte = bound(val)?,
            "from" => from = bound(val)?,
            "to" => to = bound(val)?,
            "include_lower" => include_lower = as_bool("range", k, val)?,
            "include_upper" => include_upper = as_bool("range", k, val)?,
            "format" => q.format = Some(as_string("range", k, val)?),
            "time_zone" => q.time_zone = Some(as_string("range", k, val)?),
            "boost" => q.boost = as_f32("range", k, val)?,
            "relation" | "_name" => {}
            _ => return Err(unsupported("range", k)),
        }
    }
    if from.is_some() {
        if include_lower {
            q.gte = from;
        } else {
            q.gt = from;
        }
    }
    if to.is_some() {
        if include_upper {
            q.lte = to;
        } else {
            q.lt = to;
        }
    }
    Ok(q)
}

pub(crate) fn parse_exists(v: &Value) -> Result<ExistsQuery> {
    let obj = expect_object("exists", v)?;
    let mut field = None;
    let mut boost = 1.0;
    for (k, val) in obj {
        match k.as_str() {
            "field" => field = Some(as_string("exists", k, val)?),
            "boost" => boost = as_f32("exists", k, val)?,
            "_name" => {}
            _ => return Err(unsupported("exists", k)),
        }
    }
    let field =
        field.ok_or_else(|| Error::illegal_argument("[exists] must be provided with a [field]"))?;
    Ok(ExistsQuery { field, boost })
}

pub(crate) fn parse_prefix(v: &Value) -> Result<PrefixQuery> {
    let (field, params, outer_boost) = one_field("prefix", v)?;
    let mut q = PrefixQuery {
        field: field.to_string(),
        value: String::new(),
        case_insensitive: false,
        boost: outer_boost.unwrap_or(1.0),
    };
    match params {
        Value::Object(o) => {
            let mut value = None;
            for (k, val) in o {
                match k.as_str() {
                    "value" => value = Some(as_string("prefix", k, val)?),
                    "boost" => q.boost = as_f32("prefix", k, val)?,
                    "case_insensitive" => q.case_insensitive = as_bool("prefix", k, val)?,
                    "rewrite" | "_name" => {}
                    _ => return Err(unsupported("prefix", k)),
                }
            }
            q.value = value.ok_or_else(|| Error::illegal_argument("value cannot be null"))?;
        }
        Value::String(s) => q.value = s.clone(),
        Value::Number(_) | Value::Bool(_) => q.value = as_string("prefix", "value", params)?,
        other => {
            return Err(Error::parsing(format!(
                "[prefix] unknown token [{}] after [{field}]",
                token_name(other)
            )))
        }
    }
    Ok(q)
}

pub(crate) fn parse_ids(v: &Value) -> Result<IdsQuery> {
    let obj = expect_object("ids", v)?;
    let mut q = IdsQuery {
        values: vec![],
        boost: 1.0,
    };
    for (k, val) in obj {
        match k.as_str() {
            "values" => {
                let items = val
                    .as_array()
                    .ok_or_else(|| Error::parsing("[ids] [values] must be an array"))?;
                for i in items {
                    q.values.push(as_string("ids", "values", i)?);
                }
            }
            "boost" => q.boost = as_f32("ids", k, val)?,
            "type" | "_name" => {}
            _ => return Err(unsupported("ids", k)),
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use crate::dsl::{Query, Scalar};
    use serde_json::json;

    #[test]
    fn term_short_and_long_forms() {
        let short = Query::parse(&json!({"term": {"section": "games"}})).unwrap();
        let long = Query::parse(&json!({"term": {"section": {"value": "games"}}})).unwrap();
        assert_eq!(short, long);
        match long {
            Query::Term(t) => assert_eq!(t.value, Scalar::Str("games".into())),
            _ => panic!(),
        }
    }

    #[test]
    fn term_unknown_param_is_named() {
        let e = Query::parse(&json!({"term": {"f": {"value": 1, "bogus": 2}}})).unwrap_err();
        assert_eq!(e.reason, "[term] query does not support [bogus]");
    }

    #[test]
    fn range_from_to_forms() {
        let q =
            Query::parse(&json!({"range": {"n": {"from": 1, "to": 5, "include_upper": false}}}))
                .unwrap();
        match q {
            Query::Range(r) => {
                assert_eq!(r.gte, Some(Scalar::Int(1)));
                assert_eq!(r.lt, Some(Scalar::Int(5)));
            }
            _ => panic!(),
        }
    }

    #[test]
    fn terms_needs_array() {
        assert!(Query::parse(&json!({"terms": {"f": "x"}})).is_err());
        let q = Query::parse(&json!({"terms": {"f": ["a", 2], "boost": 2}})).unwrap();
        assert!(matches!(q, Query::Terms(ref t) if t.values.len() == 2 && t.boost == 2.0));
    }
}
