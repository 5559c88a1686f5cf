//! The query DSL as a typed AST.
//!
//! [`Query::parse`] turns the JSON of a `query` object into a [`Query`], with errors
//! worded as Elasticsearch words them (`parsing_exception`, `unknown query [x]`,
//! `[term] query does not support [y]`). A clause searchgate does not know is kept as
//! [`Query::Other`] with its raw JSON, so a gateway can forward it unchanged; the
//! embedded engine rejects it with a 400 naming it.
//!
//! One file per clause family: [`leaf`] (term-level), [`full_text`] (match family),
//! [`compound`] (bool, constant_score).

pub mod compound;
pub mod full_text;
pub mod leaf;
pub(crate) mod util;

pub use compound::{BoolQuery, ConstantScoreQuery};
pub use full_text::{
    MatchPhraseQuery, MatchQuery, MinimumShouldMatch, MultiMatchQuery, MultiMatchType, Operator,
    QueryStringQuery,
};
pub use leaf::{ExistsQuery, IdsQuery, PrefixQuery, RangeQuery, TermQuery, TermsQuery};
pub use util::Scalar;

use crate::error::{Error, Result};
use serde_json::Value;

/// A parsed query clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    MatchAll {
        boost: f32,
    },
    MatchNone,
    Match(MatchQuery),
    MatchPhrase(MatchPhraseQuery),
    MultiMatch(MultiMatchQuery),
    QueryString(QueryStringQuery),
    Term(TermQuery),
    Terms(TermsQuery),
    Range(RangeQuery),
    Exists(ExistsQuery),
    Prefix(PrefixQuery),
    Ids(IdsQuery),
    Bool(BoolQuery),
    ConstantScore(ConstantScoreQuery),
    /// A clause this version does not model; kept verbatim.
    Other {
        name: String,
        body: Value,
    },
}

/// Clause names searchgate does not model but that Elasticsearch has: they parse to
/// [`Query::Other`] (a gateway forwards them). Anything else is an unknown query.
const KNOWN_UNMODELLED: &[&str] = &[
    "wildcard",
    "regexp",
    "fuzzy",
    "nested",
    "has_child",
    "has_parent",
    "geo_distance",
    "geo_bounding_box",
    "geo_shape",
    "geo_polygon",
    "function_score",
    "script_score",
    "script",
    "dis_max",
    "boosting",
    "match_bool_prefix",
    "match_phrase_prefix",
    "simple_query_string",
    "span_term",
    "span_near",
    "span_or",
    "span_not",
    "span_first",
    "more_like_this",
    "percolate",
    "combined_fields",
    "intervals",
    "distance_feature",
    "rank_feature",
    "pinned",
    "terms_set",
    "knn",
    "wrapper",
    "parent_id",
    "type",
];

impl Query {
    /// Parses a query object such as `{"match":{"title":"x"}}`.
    pub fn parse(value: &Value) -> Result<Query> {
        let obj = match value {
            Value::Object(o) => o,
            _ => {
                return Err(Error::parsing(
                    "[_na] query malformed, must start with start_object",
                ))
            }
        };
        let mut iter = obj.iter();
        let (name, body) = match iter.next() {
            Some(kv) => kv,
            None => return Err(Error::parsing("query malformed, empty clause found")),
        };
        if let Some((extra, _)) = iter.next() {
            return Err(Error::parsing(format!(
                "[{name}] malformed query, expected [END_OBJECT] but found [FIELD_NAME] ([{extra}])"
            )));
        }
        Query::parse_named(name, body)
    }

    fn parse_named(name: &str, body: &Value) -> Result<Query> {
        match name {
            "match_all" => util::parse_match_all(body),
            "match_none" => {
                util::expect_object(name, body)?;
                Ok(Query::MatchNone)
            }
            "match" => full_text::parse_match(body).map(Query::Match),
            "match_phrase" => full_text::parse_match_phrase(body).map(Query::MatchPhrase),
            "multi_match" => full_text::parse_multi_match(body).map(Query::MultiMatch),
            "query_string" => full_text::parse_query_string(body).map(Query::QueryString),
            "term" => leaf::parse_term(body).map(Query::Term),
            "terms" => leaf::parse_terms(body).map(Query::Terms),
            "range" => leaf::parse_range(body).map(Query::Range),
            "exists" => leaf::parse_exists(body).map(Query::Exists),
            "prefix" => leaf::parse_prefix(body).map(Query::Prefix),
            "ids" => leaf::parse_ids(body).map(Query::Ids),
            "bool" => compound::parse_bool(body).map(Query::Bool),
            "constant_score" => compound::parse_constant_score(body).map(Query::ConstantScore),
            other if KNOWN_UNMODELLED.contains(&other) => Ok(Query::Other {
                name: other.to_string(),
                body: body.clone(),
            }),
            other => Err(
                Error::parsing(format!("unknown query [{other}]")).caused_by(Error::new(
                    400,
                    "named_object_not_found_exception",
                    format!("[1:1] unknown field [{other}]"),
                )),
            ),
        }
    }

    /// Visits every clause of the tree, depth first (parents before children).
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Query)) {
        f(self);
        match self {
            Query::Bool(b) => {
                for q in b
                    .must
                    .iter()
                    .chain(&b.should)
                    .chain(&b.filter)
                    .chain(&b.must_not)
                {
                    q.walk(f);
                }
            }
            Query::ConstantScore(c) => c.filter.walk(f),
            _ => {}
        }
    }

    /// The name ES uses for this clause.
    pub fn name(&self) -> &str {
        match self {
            Query::MatchAll { .. } => "match_all",
            Query::MatchNone => "match_none",
            Query::Match(_) => "match",
            Query::MatchPhrase(_) => "match_phrase",
            Query::MultiMatch(_) => "multi_match",
            Query::QueryString(_) => "query_string",
            Query::Term(_) => "term",
            Query::Terms(_) => "terms",
            Query::Range(_) => "range",
            Query::Exists(_) => "exists",
            Query::Prefix(_) => "prefix",
            Query::Ids(_) => "ids",
            Query::Bool(_) => "bool",
            Query::ConstantScore(_) => "constant_score",
            Query::Other { name, .. } => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_query_is_named() {
        let e = Query::parse(&json!({"nope": {}})).unwrap_err();
        assert_eq!(e.kind, "parsing_exception");
        assert_eq!(e.reason, "unknown query [nope]");
    }

    #[test]
    fn known_unmodelled_is_kept() {
        let q = Query::parse(&json!({"wildcard": {"f": "a*"}})).unwrap();
        assert!(matches!(q, Query::Other { ref name, .. } if name == "wildcard"));
    }

    #[test]
    fn two_keys_rejected() {
        let e = Query::parse(&json!({"match_all": {}, "term": {}})).unwrap_err();
        assert_eq!(e.kind, "parsing_exception");
    }

    #[test]
    fn empty_clause_is_refused() {
        assert_eq!(
            Query::parse(&json!({})).unwrap_err().reason,
            "query malformed, empty clause found"
        );
    }
}
