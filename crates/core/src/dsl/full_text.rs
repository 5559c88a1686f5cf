//! Full-text clauses: `match`, `match_phrase`, `multi_match`, and `query_string`
//! (the simple `field:value` subset that the URI `q=` form needs).

use super::util::{
    as_bool, as_f32, as_string, as_u32, expect_object, one_field, unsupported, Scalar,
};
use crate::error::{Error, Result};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Operator {
    #[default]
    Or,
    And,
}

impl Operator {
    fn parse(clause: &str, v: &Value) -> Result<Operator> {
        match as_string(clause, "operator", v)?
            .to_ascii_lowercase()
            .as_str()
        {
            "or" => Ok(Operator::Or),
            "and" => Ok(Operator::And),
            other => Err(Error::illegal_argument(format!(
                "operator needs to be either [and] or [or], but not [{other}]"
            ))),
        }
    }
}

/// `minimum_should_match`: an integer, a negative integer, or a percentage
/// (the combination form `3<90%` is accepted and resolved by the engine).
#[derive(Debug, Clone, PartialEq)]
pub struct MinimumShouldMatch(pub String);

impl MinimumShouldMatch {
    pub(crate) fn parse(clause: &str, v: &Value) -> Result<Self> {
        Ok(MinimumShouldMatch(as_string(
            clause,
            "minimum_should_match",
            v,
        )?))
    }

    /// How many of `optional` clauses must match, as Lucene's `Queries.calculateMinShouldMatch`.
    pub fn resolve(&self, optional: usize) -> usize {
        let spec = self.0.trim();
        let mut result = optional as i64;
        for part in spec.split_whitespace() {
            if let Some((cond, rest)) = part.split_once('<') {
                let cond: i64 = cond.parse().unwrap_or(0);
                if optional as i64 > cond {
                    result = resolve_simple(rest, optional);
                } else {
                    result = optional as i64;
                }
            } else {
                result = resolve_simple(part, optional);
            }
        }
        result.clamp(0, optional as i64) as usize
    }
}

fn resolve_simple(spec: &str, optional: usize) -> i64 {
    let n = optional as i64;
    if let Some(p) = spec.strip_suffix('%') {
        let pct: f64 = p.parse().unwrap_or(0.0);
        let calc = ((pct * n as f64) / 100.0) as i64;
        if pct < 0.0 {
            n + calc
        } else {
            calc
        }
    } else {
        let v: i64 = spec.parse().unwrap_or(0);
        if v < 0 {
            n + v
        } else {
            v
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchQuery {
    pub field: String,
    pub query: Scalar,
    pub operator: Operator,
    pub minimum_should_match: Option<MinimumShouldMatch>,
    pub boost: f32,
    pub analyzer: Option<String>,
    pub zero_terms_query_all: bool,
    pub lenient: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatchPhraseQuery {
    pub field: String,
    pub query: String,
    pub slop: u32,
    pub boost: f32,
    pub analyzer: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MultiMatchType {
    #[default]
    BestFields,
    MostFields,
    Phrase,
    CrossFields,
    PhrasePrefix,
    BoolPrefix,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MultiMatchQuery {
    pub query: Scalar,
    /// Field patterns with optional `^boost` suffixes, as given.
    pub fields: Vec<String>,
    pub kind: MultiMatchType,
    pub operator: Operator,
    pub minimum_should_match: Option<MinimumShouldMatch>,
    pub tie_breaker: Option<f32>,
    pub boost: f32,
    pub slop: u32,
    pub lenient: bool,
}

/// `query_string` in the subset searchgate supports: whitespace-separated
/// `field:value` or bare `value` terms, `AND`/`OR` between them, and quoted phrases.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryStringQuery {
    pub query: String,
    pub default_field: Option<String>,
    pub fields: Vec<String>,
    pub default_operator: Operator,
    pub boost: f32,
    pub lenient: bool,
}

pub(crate) fn parse_match(v: &Value) -> Result<MatchQuery> {
    let (field, params, outer_boost) = one_field("match", v)?;
    let mut q = MatchQuery {
        field: field.to_string(),
        query: Scalar::Str(String::new()),
        operator: Operator::Or,
        minimum_should_match: None,
        boost: outer_boost.unwrap_or(1.0),
        analyzer: None,
        zero_terms_query_all: false,
        lenient: false,
    };
    match params {
        Value::Object(o) => {
            let mut query = None;
            for (k, val) in o {
                match k.as_str() {
                    "query" => query = Some(Scalar::from_json("match", val)?),
                    "operator" => q.operator = Operator::parse("match", val)?,
                    "minimum_should_match" => {
                        q.minimum_should_match = Some(MinimumShouldMatch::parse("match", val)?)
                    }
                    "boost" => q.boost = as_f32("match", k, val)?,
                    "analyzer" => q.analyzer = Some(as_string("match", k, val)?),
                    "lenient" => q.lenient = as_bool("match", k, val)?,
                    "zero_terms_query" => {
                        q.zero_terms_query_all =
                            as_string("match", k, val)?.eq_ignore_ascii_case("all")
                    }
                    "fuzziness"
                    | "prefix_length"
                    | "max_expansions"
                    | "fuzzy_transpositions"
                    | "auto_generate_synonyms_phrase_query"
                    | "cutoff_frequency"
                    | "_name" => {}
                    _ => {
                        return Err(Error::parsing(format!(
                            "[match] query does not support [{k}]"
                        )))
                    }
                }
            }
            q.query = query.ok_or_else(|| {
                Error::parsing(format!(
                    "No text specified for text query on field [{field}]"
                ))
            })?;
        }
        Value::Array(_) => {
            return Err(Error::parsing(
                "[match] unknown token [START_ARRAY] after [".to_string() + field + "]",
            ))
        }
        other => q.query = Scalar::from_json("match", other)?,
    }
    Ok(q)
}

pub(crate) fn parse_match_phrase(v: &Value) -> Result<MatchPhraseQuery> {
    let (field, params, outer_boost) = one_field("match_phrase", v)?;
    let mut q = MatchPhraseQuery {
        field: field.to_string(),
        query: String::new(),
        slop: 0,
        boost: outer_boost.unwrap_or(1.0),
        analyzer: None,
    };
    match params {
        Value::Object(o) => {
            let mut query = None;
            for (k, val) in o {
                match k.as_str() {
                    "query" => query = Some(as_string("match_phrase", k, val)?),
                    "slop" => q.slop = as_u32("match_phrase", k, val)?,
                    "boost" => q.boost = as_f32("match_phrase", k, val)?,
                    "analyzer" => q.analyzer = Some(as_string("match_phrase", k, val)?),
                    "zero_terms_query" | "_name" => {}
                    _ => {
                        return Err(Error::parsing(format!(
                            "[match_phrase] query does not support [{k}]"
                        )))
                    }
                }
            }
            q.query = query.ok_or_else(|| {
                Error::parsing(format!(
                    "No text specified for text query on field [{field}]"
                ))
            })?;
        }
        other => q.query = as_string("match_phrase", "query", other)?,
    }
    Ok(q)
}

pub(crate) fn parse_multi_match(v: &Value) -> Result<MultiMatchQuery> {
    let obj = expect_object("multi_match", v)?;
    let mut q = MultiMatchQuery {
        query: Scalar::Str(String::new()),
        fields: vec![],
        kind: MultiMatchType::BestFields,
        operator: Operator::Or,
        minimum_should_match: None,
        tie_breaker: None,
        boost: 1.0,
        slop: 0,
        lenient: false,
    };
    let mut query = None;
    for (k, val) in obj {
        match k.as_str() {
            "query" => query = Some(Scalar::from_json("multi_match", val)?),
            "fields" => match val {
                Value::Array(items) => {
                    for i in items {
                        q.fields.push(as_string("multi_match", k, i)?);
                    }
                }
                other => q.fields.push(as_string("multi_match", k, other)?),
            },
            "type" => {
                q.kind = match as_string("multi_match", k, val)?.as_str() {
                    "best_fields" => MultiMatchType::BestFields,
                    "most_fields" => MultiMatchType::MostFields,
                    "phrase" => MultiMatchType::Phrase,
                    "cross_fields" => MultiMatchType::CrossFields,
                    "phrase_prefix" => MultiMatchType::PhrasePrefix,
                    "bool_prefix" => MultiMatchType::BoolPrefix,
                    other => {
                        return Err(Error::parsing(format!(
                            "[multi_match] query does not support type {other}"
                        )))
                    }
                }
            }
            "operator" => q.operator = Operator::parse("multi_match", val)?,
            "minimum_should_match" => {
                q.minimum_should_match = Some(MinimumShouldMatch::parse("multi_match", val)?)
            }
            "tie_breaker" => q.tie_breaker = Some(as_f32("multi_match", k, val)?),
            "boost" => q.boost = as_f32("multi_match", k, val)?,
            "slop" => q.slop = as_u32("multi_match", k, val)?,
            "lenient" => q.lenient = as_bool("multi_match", k, val)?,
            "analyzer"
            | "fuzziness"
            | "prefix_length"
            | "max_expansions"
            | "zero_terms_query"
            | "auto_generate_synonyms_phrase_query"
            | "fuzzy_transpositions"
            | "_name" => {}
            _ => return Err(unsupported("multi_match", k)),
        }
    }
    q.query = query.ok_or_else(|| Error::parsing("[multi_match] requires query value"))?;
    Ok(q)
}

pub(crate) fn parse_query_string(v: &Value) -> Result<QueryStringQuery> {
    let obj = expect_object("query_string", v)?;
    let mut q = QueryStringQuery {
        query: String::new(),
        default_field: None,
        fields: vec![],
        default_operator: Operator::Or,
        boost: 1.0,
        lenient: false,
    };
    let mut query = None;
    for (k, val) in obj {
        match k.as_str() {
            "query" => query = Some(as_string("query_string", k, val)?),
            "default_field" => q.default_field = Some(as_string("query_string", k, val)?),
            "fields" => {
                for i in val.as_array().into_iter().flatten() {
                    q.fields.push(as_string("query_string", k, i)?);
                }
            }
            "default_operator" => q.default_operator = Operator::parse("query_string", val)?,
            "boost" => q.boost = as_f32("query_string", k, val)?,
            "lenient" => q.lenient = as_bool("query_string", k, val)?,
            "analyze_wildcard" | "analyzer" | "_name" | "allow_leading_wildcard" => {}
            _ => return Err(unsupported("query_string", k)),
        }
    }
    q.query =
        query.ok_or_else(|| Error::parsing("[query_string] must be provided with a [query]"))?;
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::Query;
    use serde_json::json;

    #[test]
    fn match_forms() {
        let q =
            Query::parse(&json!({"match": {"d": {"query": "a b", "operator": "AND"}}})).unwrap();
        match q {
            Query::Match(m) => {
                assert_eq!(m.operator, Operator::And);
                assert_eq!(m.query, Scalar::Str("a b".into()));
            }
            _ => panic!(),
        }
        let e = Query::parse(&json!({"match": {"d": {"query": "a", "oops": 1}}})).unwrap_err();
        assert_eq!(e.reason, "[match] query does not support [oops]");
    }

    #[test]
    fn msm_resolution() {
        let m = |s: &str, n| MinimumShouldMatch(s.into()).resolve(n);
        assert_eq!(m("2", 3), 2);
        assert_eq!(m("-1", 3), 2);
        assert_eq!(m("75%", 4), 3);
        assert_eq!(m("-25%", 4), 3);
        assert_eq!(m("3<90%", 2), 2);
        assert_eq!(m("3<90%", 10), 9);
        assert_eq!(m("5", 3), 3);
    }

    #[test]
    fn multi_match_fields() {
        let q =
            Query::parse(&json!({"multi_match": {"query": "x", "fields": ["a^2", "b"]}})).unwrap();
        assert!(matches!(q, Query::MultiMatch(ref m) if m.fields == vec!["a^2", "b"]));
    }
}
