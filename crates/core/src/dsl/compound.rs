//! Compound clauses: `bool` and `constant_score`.

use super::full_text::MinimumShouldMatch;
use super::util::{as_f32, expect_object, query_list, unsupported};
use super::Query;
use crate::error::{Error, Result};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BoolQuery {
    pub must: Vec<Query>,
    pub should: Vec<Query>,
    pub filter: Vec<Query>,
    pub must_not: Vec<Query>,
    pub minimum_should_match: Option<MinimumShouldMatch>,
    pub boost: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstantScoreQuery {
    pub filter: Box<Query>,
    pub boost: f32,
}

pub(crate) fn parse_bool(v: &Value) -> Result<BoolQuery> {
    let obj = expect_object("bool", v)?;
    let mut q = BoolQuery {
        boost: 1.0,
        ..Default::default()
    };
    for (k, val) in obj {
        match k.as_str() {
            "must" => q.must.extend(query_list("bool", val)?),
            "should" => q.should.extend(query_list("bool", val)?),
            "filter" => q.filter.extend(query_list("bool", val)?),
            "must_not" | "mustNot" => q.must_not.extend(query_list("bool", val)?),
            "minimum_should_match" => {
                q.minimum_should_match = Some(MinimumShouldMatch::parse("bool", val)?)
            }
            "boost" => q.boost = as_f32("bool", k, val)?,
            "adjust_pure_negative" | "_name" | "disable_coord" => {}
            _ => {
                return Err(Error::parsing(format!(
                    "[bool] query does not support [{k}]"
                )))
            }
        }
    }
    Ok(q)
}

pub(crate) fn parse_constant_score(v: &Value) -> Result<ConstantScoreQuery> {
    let obj = expect_object("constant_score", v)?;
    let mut filter = None;
    let mut boost = 1.0;
    for (k, val) in obj {
        match k.as_str() {
            "filter" => filter = Some(Query::parse(val)?),
            "boost" => boost = as_f32("constant_score", k, val)?,
            "_name" => {}
            _ => return Err(unsupported("constant_score", k)),
        }
    }
    let filter =
        filter.ok_or_else(|| Error::parsing("[constant_score] requires a 'filter' element"))?;
    Ok(ConstantScoreQuery {
        filter: Box::new(filter),
        boost,
    })
}

#[cfg(test)]
mod tests {
    use crate::dsl::Query;
    use serde_json::json;

    #[test]
    fn bool_accepts_object_or_array() {
        let q = Query::parse(&json!({"bool": {
            "must": {"match": {"a": "x"}},
            "filter": [{"term": {"b": 1}}, {"range": {"c": {"gte": 2}}}],
            "minimum_should_match": 1
        }}))
        .unwrap();
        match q {
            Query::Bool(b) => {
                assert_eq!(b.must.len(), 1);
                assert_eq!(b.filter.len(), 2);
                assert!(b.minimum_should_match.is_some());
            }
            _ => panic!(),
        }
    }

    #[test]
    fn bool_unknown_key() {
        let e = Query::parse(&json!({"bool": {"shoud": []}})).unwrap_err();
        assert_eq!(e.reason, "[bool] query does not support [shoud]");
    }
}
