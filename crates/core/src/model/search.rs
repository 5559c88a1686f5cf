//! `_search` and `_count`: the request body as typed values, and the response.

use super::Shards;
use crate::dsl::util::{as_bool, token_name};
use crate::dsl::Query;
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Which indices a request targets and how missing ones are treated.
#[derive(Debug, Clone)]
pub struct IndexTarget {
    /// The expression as given: comma list, wildcards, `_all`; empty = all.
    pub expression: String,
    pub ignore_unavailable: bool,
    pub allow_no_indices: bool,
}

impl IndexTarget {
    pub fn new(expression: impl Into<String>) -> Self {
        IndexTarget {
            expression: expression.into(),
            ignore_unavailable: false,
            allow_no_indices: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    First,
    Last,
    Value(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SortSpec {
    Score {
        order: Order,
    },
    Doc {
        order: Order,
    },
    Field {
        field: String,
        order: Order,
        missing: Missing,
        unmapped_type: Option<String>,
        /// `min`/`max`/… for multi-valued fields; default min (asc) / max (desc).
        mode: Option<String>,
        format: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum SourceFilter {
    #[default]
    All,
    None,
    Filter {
        includes: Vec<String>,
        excludes: Vec<String>,
    },
}

impl SourceFilter {
    /// Parses the `_source` value of a search body or a get request.
    pub fn parse(v: &Value) -> Result<SourceFilter> {
        let strings = |v: &Value| -> Result<Vec<String>> {
            match v {
                Value::String(s) => Ok(vec![s.clone()]),
                Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str().map(str::to_string).ok_or_else(|| {
                            Error::parsing("[_source] expected a string in the array")
                        })
                    })
                    .collect(),
                Value::Null => Ok(vec![]),
                _ => Err(Error::parsing(format!(
                    "[_source] unknown token [{}]",
                    token_name(v)
                ))),
            }
        };
        match v {
            Value::Bool(true) => Ok(SourceFilter::All),
            Value::Bool(false) => Ok(SourceFilter::None),
            Value::String(_) | Value::Array(_) => Ok(SourceFilter::Filter {
                includes: strings(v)?,
                excludes: vec![],
            }),
            Value::Object(o) => {
                let mut includes = vec![];
                let mut excludes = vec![];
                for (k, val) in o {
                    match k.as_str() {
                        "includes" | "include" => includes = strings(val)?,
                        "excludes" | "exclude" => excludes = strings(val)?,
                        // elasticsearch-py 9's dsl sends it on every search; there are
                        // no vector fields to exclude.
                        "exclude_vectors" => {}
                        _ => {
                            return Err(Error::parsing(format!(
                                "Unknown key for a {} in [{k}].",
                                token_name(val)
                            )))
                        }
                    }
                }
                if includes.is_empty() && excludes.is_empty() {
                    Ok(SourceFilter::All)
                } else {
                    Ok(SourceFilter::Filter { includes, excludes })
                }
            }
            _ => Err(Error::parsing(
                "[_source] must be a boolean, string, array or object",
            )),
        }
    }

    /// From the URI parameters `_source`, `_source_includes`, `_source_excludes`.
    pub fn from_params(
        source: Option<&str>,
        includes: Option<&str>,
        excludes: Option<&str>,
    ) -> SourceFilter {
        let split = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        let mut inc = vec![];
        match source {
            Some("false") => return SourceFilter::None,
            Some("true") | None | Some("") => {}
            Some(list) => inc = split(list),
        }
        if let Some(i) = includes {
            inc.extend(split(i));
        }
        let exc = excludes.map(split).unwrap_or_default();
        if inc.is_empty() && exc.is_empty() {
            SourceFilter::All
        } else {
            SourceFilter::Filter {
                includes: inc,
                excludes: exc,
            }
        }
    }
}

/// `track_total_hits`: count exactly up to a bound (default 10,000), or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackTotalHits {
    Disabled,
    UpTo(u64),
}

impl Default for TrackTotalHits {
    fn default() -> Self {
        TrackTotalHits::UpTo(10_000)
    }
}

/// The body of `_search`, parsed.
#[derive(Debug, Clone)]
pub struct SearchBody {
    pub query: Option<Query>,
    pub from: usize,
    pub size: usize,
    pub sort: Vec<SortSpec>,
    pub source: SourceFilter,
    pub track_total_hits: TrackTotalHits,
    pub track_scores: bool,
    pub min_score: Option<f32>,
    pub post_filter: Option<Query>,
    pub search_after: Option<Vec<Value>>,
    /// Aggregations, in ES JSON; the engine interprets them.
    pub aggs: Option<Value>,
    pub highlight: Option<Value>,
    pub version: bool,
    pub seq_no_primary_term: bool,
    pub explain: bool,
    pub timeout: Option<String>,
    pub terminate_after: Option<u64>,
    /// `stored_fields`, `docvalue_fields`, `fields`, `script_fields`, ...: accepted,
    /// kept raw for a gateway.
    pub other: Map<String, Value>,
}

impl Default for SearchBody {
    fn default() -> Self {
        SearchBody {
            query: None,
            from: 0,
            size: 10,
            sort: vec![],
            source: SourceFilter::All,
            track_total_hits: TrackTotalHits::default(),
            track_scores: false,
            min_score: None,
            post_filter: None,
            search_after: None,
            aggs: None,
            highlight: None,
            version: false,
            seq_no_primary_term: false,
            explain: false,
            timeout: None,
            terminate_after: None,
            other: Map::new(),
        }
    }
}

fn as_usize(key: &str, v: &Value) -> Result<usize> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) if i >= 0 => Ok(i as usize),
            Some(i) => Err(Error::illegal_argument(format!(
                "[{key}] parameter cannot be negative, found [{i}]"
            ))),
            None => Err(Error::parsing(format!("[{key}] must be an integer"))),
        },
        Value::String(s) => s
            .parse()
            .map_err(|_| Error::parsing(format!("[{key}] failed to parse [{s}]"))),
        _ => Err(Error::parsing(format!(
            "[{key}] unknown token [{}]",
            token_name(v)
        ))),
    }
}

impl SearchBody {
    /// Parses a `_search` body. Unknown top-level keys are a 400 as in ES.
    pub fn parse(v: &Value) -> Result<SearchBody> {
        let obj = match v {
            Value::Object(o) => o,
            Value::Null => return Ok(SearchBody::default()),
            _ => {
                return Err(Error::parsing(
                    "request body or source parameter is required",
                ))
            }
        };
        let mut b = SearchBody::default();
        for (k, val) in obj {
            match k.as_str() {
                "query" => b.query = Some(Query::parse(val)?),
                "from" => b.from = as_usize("from", val)?,
                "size" => b.size = as_usize("size", val)?,
                "sort" => b.sort = parse_sort(val)?,
                "_source" => b.source = SourceFilter::parse(val)?,
                "track_total_hits" => b.track_total_hits = parse_track_total_hits(val)?,
                "track_scores" => b.track_scores = as_bool("track_scores", k, val)?,
                "min_score" => {
                    b.min_score = Some(
                        val.as_f64()
                            .ok_or_else(|| Error::parsing("[min_score] must be a number"))?
                            as f32,
                    )
                }
                "post_filter" => b.post_filter = Some(Query::parse(val)?),
                "search_after" => {
                    b.search_after = Some(
                        val.as_array()
                            .cloned()
                            .ok_or_else(|| Error::parsing("[search_after] must be an array"))?,
                    )
                }
                "aggs" | "aggregations" => {
                    if !val.is_object() {
                        return Err(Error::parsing(format!(
                            "Found two aggregation type definitions in [{k}]"
                        )));
                    }
                    b.aggs = Some(val.clone())
                }
                "highlight" => b.highlight = Some(val.clone()),
                "version" => b.version = as_bool("version", k, val)?,
                "seq_no_primary_term" => {
                    b.seq_no_primary_term = as_bool("seq_no_primary_term", k, val)?
                }
                "explain" => b.explain = as_bool("explain", k, val)?,
                "timeout" => b.timeout = val.as_str().map(String::from),
                "terminate_after" => b.terminate_after = Some(as_usize(k, val)? as u64),
                "stored_fields" | "docvalue_fields" | "fields" | "script_fields" | "stats"
                | "indices_boost" | "collapse" | "rescore" | "suggest" | "profile" | "pit"
                | "runtime_mappings" | "slice" | "ext" | "knn" | "rank" | "retriever" => {
                    b.other.insert(k.clone(), val.clone());
                }
                _ => {
                    return Err(Error::parsing(format!(
                        "Unknown key for a {} in [{k}].",
                        token_name(val)
                    )))
                }
            }
        }
        Ok(b)
    }
}

fn parse_track_total_hits(v: &Value) -> Result<TrackTotalHits> {
    match v {
        Value::Bool(true) => Ok(TrackTotalHits::UpTo(u64::MAX)),
        Value::Bool(false) => Ok(TrackTotalHits::Disabled),
        Value::Number(n) => match n.as_i64() {
            Some(-1) => Ok(TrackTotalHits::UpTo(u64::MAX)),
            Some(i) if i >= 0 => Ok(TrackTotalHits::UpTo(i as u64)),
            _ => Err(Error::illegal_argument(
                "[track_total_hits] parameter must be positive or equals to -1",
            )),
        },
        Value::String(s) => match s.as_str() {
            "true" => Ok(TrackTotalHits::UpTo(u64::MAX)),
            "false" => Ok(TrackTotalHits::Disabled),
            n => n.parse::<u64>().map(TrackTotalHits::UpTo).map_err(|_| {
                Error::illegal_argument("[track_total_hits] must be a boolean or an integer")
            }),
        },
        _ => Err(Error::parsing(
            "[track_total_hits] must be a boolean or an integer",
        )),
    }
}

fn parse_order(v: &Value) -> Result<Order> {
    match v.as_str().map(|s| s.to_ascii_lowercase()) {
        Some(s) if s == "asc" => Ok(Order::Asc),
        Some(s) if s == "desc" => Ok(Order::Desc),
        _ => Err(Error::illegal_argument(format!(
            "Unknown SortOrder [{}]",
            v.as_str().unwrap_or("?")
        ))),
    }
}

fn sort_one(field: &str, params: Option<&Value>) -> Result<SortSpec> {
    let mut order = None;
    let mut missing = Missing::Last;
    let mut unmapped_type = None;
    let mut mode = None;
    let mut format = None;
    match params {
        None => {}
        Some(Value::String(_)) => order = Some(parse_order(params.unwrap_or(&Value::Null))?),
        Some(Value::Object(o)) => {
            for (k, val) in o {
                match k.as_str() {
                    "order" => order = Some(parse_order(val)?),
                    "missing" => {
                        missing = match val.as_str() {
                            Some("_last") => Missing::Last,
                            Some("_first") => Missing::First,
                            _ => Missing::Value(val.clone()),
                        }
                    }
                    "unmapped_type" => unmapped_type = val.as_str().map(String::from),
                    "mode" => mode = val.as_str().map(String::from),
                    "format" => format = val.as_str().map(String::from),
                    "numeric_type" | "nested" => {}
                    _ => return Err(Error::parsing(format!("[field_sort] unknown field [{k}]"))),
                }
            }
        }
        Some(other) => {
            return Err(Error::parsing(format!(
                "[sort] unknown token [{}]",
                token_name(other)
            )))
        }
    }
    Ok(match field {
        "_score" => SortSpec::Score {
            order: order.unwrap_or(Order::Desc),
        },
        "_doc" => SortSpec::Doc {
            order: order.unwrap_or(Order::Asc),
        },
        _ => SortSpec::Field {
            field: field.to_string(),
            order: order.unwrap_or(Order::Asc),
            missing,
            unmapped_type,
            mode,
            format,
        },
    })
}

/// `sort`: a string, an object, or an array of those.
pub fn parse_sort(v: &Value) -> Result<Vec<SortSpec>> {
    let one = |item: &Value| -> Result<SortSpec> {
        match item {
            Value::String(s) => sort_one(s, None),
            Value::Object(o) if o.len() == 1 => {
                let (k, p) = o.iter().next().expect("one entry");
                sort_one(k, Some(p))
            }
            Value::Object(_) => Err(Error::parsing("[sort] expects one field per object")),
            _ => Err(Error::parsing(format!(
                "[sort] unknown token [{}]",
                token_name(item)
            ))),
        }
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

/// Parses the URI form `sort=field:desc,other`.
pub fn parse_sort_param(s: &str) -> Result<Vec<SortSpec>> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|part| match part.split_once(':') {
            Some((f, o)) => sort_one(f, Some(&Value::String(o.to_string()))),
            None => sort_one(part, None),
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub target: IndexTarget,
    pub body: SearchBody,
    /// `rest_total_hits_as_int=true`: `hits.total` as a plain number.
    pub total_hits_as_int: bool,
}

#[derive(Debug, Clone)]
pub struct CountRequest {
    pub target: IndexTarget,
    pub query: Option<Query>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct TotalHits {
    pub value: u64,
    pub relation: TotalRelation,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum TotalRelation {
    #[serde(rename = "eq")]
    Eq,
    #[serde(rename = "gte")]
    Gte,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub _index: String,
    pub _id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _seq_no: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _primary_term: Option<i64>,
    /// `null` when sorting by a field without `track_scores`.
    pub _score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _source: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Total {
    Object(TotalHits),
    Int(u64),
}

#[derive(Debug, Clone, Serialize)]
pub struct Hits {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Total>,
    pub max_score: Option<f32>,
    pub hits: Vec<Hit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResponse {
    pub took: u64,
    pub timed_out: bool,
    pub _shards: Shards,
    pub hits: Hits,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregations: Option<Box<RawValue>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CountResponse {
    pub count: u64,
    pub _shards: Shards,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sort_forms() {
        let s = parse_sort(&json!(["_score", {"n": "desc"}, {"d": {"order": "asc", "missing": "_first", "unmapped_type": "long"}}])).unwrap();
        assert_eq!(s[0], SortSpec::Score { order: Order::Desc });
        assert!(matches!(&s[1], SortSpec::Field { field, order: Order::Desc, .. } if field == "n"));
        assert!(
            matches!(&s[2], SortSpec::Field { missing: Missing::First, unmapped_type: Some(t), .. } if t == "long")
        );
        let p = parse_sort_param("a:desc,_doc").unwrap();
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn source_forms() {
        assert_eq!(
            SourceFilter::parse(&json!(false)).unwrap(),
            SourceFilter::None
        );
        assert_eq!(
            SourceFilter::parse(&json!({"exclude_vectors": false})).unwrap(),
            SourceFilter::All
        );
        assert!(
            matches!(SourceFilter::parse(&json!(["a", "b.*"])).unwrap(), SourceFilter::Filter { includes, .. } if includes.len() == 2)
        );
    }

    #[test]
    fn body_unknown_key() {
        let e = SearchBody::parse(&json!({"querry": {}})).unwrap_err();
        assert_eq!(e.kind, "parsing_exception");
        assert!(e.reason.contains("querry"));
    }

    #[test]
    fn tth() {
        let b = SearchBody::parse(&json!({"track_total_hits": 100})).unwrap();
        assert_eq!(b.track_total_hits, TrackTotalHits::UpTo(100));
        let b = SearchBody::parse(&json!({"track_total_hits": false})).unwrap();
        assert_eq!(b.track_total_hits, TrackTotalHits::Disabled);
    }
}
