//! `_search` and `_count`: the body parsed into `SearchBody`, URI parameters laid
//! over it as ES does (`q`, `from`, `size`, `sort`, `_source*`, ...).

use super::{EsPath, MaybeIndex};
use crate::body::Body;
use crate::error::ApiResult;
use crate::params::{Params, INDICES_OPTIONS};
use crate::response;
use crate::state::AppState;
use axum::extract::State;
use searchgate_core::dsl::{Operator, Query, QueryStringQuery};
use searchgate_core::model::{
    parse_sort_param, CountRequest, SearchBody, SearchRequest, TrackTotalHits,
};
use searchgate_core::{Error, Result};
use serde_json::Value;

/// Parameters ES's `_search` takes that searchgate accepts and leaves to the backend
/// or ignores (one node, one shard per index: nothing to tune).
const SEARCH_ACCEPTED: &[&str] = &[
    "q",
    "df",
    "default_operator",
    "analyzer",
    "analyze_wildcard",
    "lenient",
    "from",
    "size",
    "sort",
    "_source",
    "_source_includes",
    "_source_excludes",
    "_source_include",
    "_source_exclude",
    "track_total_hits",
    "track_scores",
    "rest_total_hits_as_int",
    "timeout",
    "terminate_after",
    "request_cache",
    "typed_keys",
    "search_type",
    "preference",
    "routing",
    "batched_reduce_size",
    "ccs_minimize_roundtrips",
    "max_concurrent_shard_requests",
    "pre_filter_shard_size",
    "allow_partial_search_results",
    "explain",
    "version",
    "seq_no_primary_term",
    "stored_fields",
    "docvalue_fields",
    "stats",
    "suggest_field",
    "suggest_mode",
    "suggest_size",
    "suggest_text",
    "include_named_queries_score",
    "force_synthetic_source",
    "scroll",
];

const COUNT_ACCEPTED: &[&str] = &[
    "q",
    "df",
    "default_operator",
    "analyzer",
    "analyze_wildcard",
    "lenient",
    "min_score",
    "terminate_after",
    "preference",
    "routing",
];

fn default_operator(p: &Params) -> Result<Operator> {
    match p
        .get("default_operator")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("or") => Ok(Operator::Or),
        Some("and") => Ok(Operator::And),
        Some(other) => Err(Error::illegal_argument(format!(
            "No enum constant org.elasticsearch.index.query.Operator.{}",
            other.to_ascii_uppercase()
        ))),
    }
}

/// `q=` as a `query_string` query with `df`, `default_operator`, `lenient`.
fn uri_query(p: &Params) -> Result<Option<Query>> {
    let Some(q) = p.get("q") else { return Ok(None) };
    Ok(Some(Query::QueryString(QueryStringQuery {
        query: q.to_string(),
        default_field: p.get("df").map(str::to_string),
        fields: vec![],
        default_operator: default_operator(p)?,
        boost: 1.0,
        lenient: p.flag("lenient")?,
    })))
}

fn track_total_hits(s: &str) -> Result<TrackTotalHits> {
    match s {
        "true" | "" => Ok(TrackTotalHits::UpTo(u64::MAX)),
        "false" => Ok(TrackTotalHits::Disabled),
        n => match n.parse::<i64>() {
            Ok(-1) => Ok(TrackTotalHits::UpTo(u64::MAX)),
            Ok(i) if i >= 0 => Ok(TrackTotalHits::UpTo(i as u64)),
            Ok(_) => Err(Error::illegal_argument(
                "[track_total_hits] parameter must be positive or equals to -1, got ".to_string()
                    + n,
            )),
            Err(_) => Err(Error::illegal_argument(format!(
                "Failed to parse value [{n}] as only [true] or [false] are allowed."
            ))),
        },
    }
}

/// The search request from the body and the URI parameters (which win, as in ES).
pub fn search_request(p: &Params, body: &Value, expr: &str) -> Result<SearchRequest> {
    if p.has("scroll") {
        return Err(Error::illegal_argument(
            "[scroll] is not supported by searchgate; use search_after for deep pagination",
        ));
    }
    let mut b = SearchBody::parse(body)?;
    if let Some(q) = uri_query(p)? {
        b.query = Some(q);
    }
    if let Some(from) = p.usize("from")? {
        b.from = from;
    }
    if let Some(size) = p.usize("size")? {
        b.size = size;
    }
    if let Some(sort) = p.get("sort") {
        b.sort = parse_sort_param(sort)?;
    }
    if let Some(sf) = p.source_filter() {
        b.source = sf;
    }
    if let Some(t) = p.get("track_total_hits") {
        b.track_total_hits = track_total_hits(t)?;
    }
    if p.has("track_scores") {
        b.track_scores = p.flag("track_scores")?;
    }
    if p.has("explain") {
        b.explain = p.flag("explain")?;
    }
    if p.has("version") {
        b.version = p.flag("version")?;
    }
    if p.has("seq_no_primary_term") {
        b.seq_no_primary_term = p.flag("seq_no_primary_term")?;
    }
    if let Some(n) = p.usize("terminate_after")? {
        b.terminate_after = Some(n as u64);
    }
    if let Some(t) = p.get("timeout") {
        b.timeout = Some(t.to_string());
    }
    let total_hits_as_int = p.flag("rest_total_hits_as_int")?;
    Ok(SearchRequest {
        target: p.target(expr)?,
        body: b,
        total_hits_as_int,
    })
}

/// `GET|POST /_search` and `GET|POST /{index}/_search`.
pub async fn search(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[SEARCH_ACCEPTED, INDICES_OPTIONS])?;
    let req = search_request(&p, &body.json(&st)?, path.expr())?;
    let resp = st.backend.search(req).await?;
    Ok(response::ok(&resp))
}

/// The count request: a body with only `query`, or `q=`.
pub fn count_request(p: &Params, body: &Value, expr: &str) -> Result<CountRequest> {
    let mut query = None;
    match body {
        Value::Null => {}
        Value::Object(o) => {
            for (k, v) in o {
                match k.as_str() {
                    "query" => query = Some(Query::parse(v)?),
                    other => {
                        return Err(Error::parsing(format!(
                            "request does not support [{other}]"
                        )))
                    }
                }
            }
        }
        _ => return Err(Error::parsing("request body must be an object")),
    }
    if let Some(q) = uri_query(p)? {
        query = Some(q);
    }
    Ok(CountRequest {
        target: p.target(expr)?,
        query,
    })
}

/// `GET|POST /_count` and `GET|POST /{index}/_count`.
pub async fn count(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[COUNT_ACCEPTED, INDICES_OPTIONS])?;
    let req = count_request(&p, &body.json(&st)?, path.expr())?;
    let resp = st.backend.count(req).await?;
    Ok(response::ok(&resp))
}
