//! Executes `_search` and `_count` over one or more indices: compiles the query per
//! index, collects top hits with [`crate::collect::HitCollector`], merges indices
//! by sort key, fetches `_source` for the page, and shapes the ES response.

use crate::aggs;
use crate::collect::{compare_keys, Candidate, HitCollector, KeySource, KeySpec, SortValue};
use crate::fields::{self, FieldTable};
use crate::query::{compile, CompileCtx};
use crate::shard::{Shard, PRIMARY_TERM};
use crate::source::filter_source;
use searchgate_core::model::*;
use searchgate_core::{Error, Result};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::intermediate_agg_result::IntermediateAggregationResults;
use tantivy::aggregation::{
    AggContextParams, AggregationLimitsGuard, DistributedAggregationCollector,
};
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query as TQuery};
use tantivy::schema::Value as _;
use tantivy::{DocAddress, Searcher, TantivyDocument};

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn sort_error(reason: String) -> Error {
    Error::new(400, "query_shard_exception", reason)
}

/// Resolves the sort of a request against one index's fields.
fn key_specs(sort: &[SortSpec], table: &FieldTable) -> Result<Vec<KeySpec>> {
    if sort.is_empty() {
        return Ok(vec![KeySpec {
            source: KeySource::Score,
            order: Order::Desc,
            missing_first: false,
            missing_value: None,
        }]);
    }
    sort.iter()
        .map(|s| {
            Ok(match s {
                SortSpec::Score { order } => KeySpec { source: KeySource::Score, order: *order, missing_first: false, missing_value: None },
                SortSpec::Doc { order } => KeySpec { source: KeySource::Doc, order: *order, missing_first: false, missing_value: None },
                SortSpec::Field { field, order, missing, unmapped_type, .. } => {
                    let source = if field == "_id" {
                        KeySource::Str(fields::ID.to_string())
                    } else {
                        match table.get(field) {
                            None => {
                                if unmapped_type.is_some() {
                                    KeySource::Missing
                                } else {
                                    return Err(sort_error(format!("No mapping found for [{field}] in order to sort on")));
                                }
                            }
                            Some(info) => {
                                let col = table.column_name(info);
                                match (info.ty, col) {
                                    (searchgate_core::model::FieldType::Text, _) => {
                                        return Err(Error::illegal_argument(format!(
                                            "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [{field}] in order to load field data by uninverting the inverted index. Note that this can use significant memory."
                                        )))
                                    }
                                    (_, None) => KeySource::Missing,
                                    (t, Some(c)) if t.is_integer() || t.is_date() => KeySource::I64(c),
                                    (t, Some(c)) if t.is_float() => KeySource::F64(c),
                                    (searchgate_core::model::FieldType::Boolean, Some(c)) => KeySource::Bool(c),
                                    (searchgate_core::model::FieldType::Keyword, Some(c)) => KeySource::Str(c),
                                    _ => KeySource::Missing,
                                }
                            }
                        }
                    };
                    let (missing_first, missing_value) = match missing {
                        Missing::First => (true, None),
                        Missing::Last => (false, None),
                        Missing::Value(v) => (false, sort_value_from_json(v, &source)),
                    };
                    KeySpec { source, order: *order, missing_first, missing_value }
                }
            })
        })
        .collect()
}

fn sort_value_from_json(v: &Value, source: &KeySource) -> Option<SortValue> {
    match source {
        KeySource::I64(_) | KeySource::Bool(_) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .or_else(|| v.as_bool().map(i64::from))
            .map(SortValue::I64),
        KeySource::F64(_) => v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .map(SortValue::F64),
        KeySource::Str(_) => v.as_str().map(|s| SortValue::Str(s.to_string())),
        KeySource::Score => v.as_f64().map(|f| SortValue::Score(f as f32)),
        KeySource::Doc => v.as_u64().map(SortValue::Doc),
        KeySource::Missing => None,
    }
}

fn sort_value_to_json(v: &SortValue, spec: &KeySpec) -> Value {
    let desc = spec.order == Order::Desc;
    match v {
        SortValue::I64(i) => json!(i),
        SortValue::F64(f) => json!(f),
        SortValue::Str(s) => json!(s),
        // As an f32 prints (`0.28768212`), not widened to f64 digits.
        SortValue::Score(s) => s
            .to_string()
            .parse::<f64>()
            .map(|f| json!(f))
            .unwrap_or(Value::Null),
        SortValue::Doc(d) => json!(d & 0xffff_ffff),
        SortValue::Missing => match &spec.source {
            KeySource::I64(_) | KeySource::Bool(_) | KeySource::Missing => {
                let last = !spec.missing_first;
                json!(if last != desc { i64::MAX } else { i64::MIN })
            }
            KeySource::F64(_) => {
                let last = !spec.missing_first;
                json!(if last != desc { f64::MAX } else { f64::MIN })
            }
            _ => Value::Null,
        },
    }
}

fn search_after_values(after: &[Value], specs: &[KeySpec]) -> Result<Vec<SortValue>> {
    if after.len() != specs.len() {
        return Err(Error::illegal_argument(format!(
            "search_after has {} value(s) but sort has {}.",
            after.len(),
            specs.len()
        )));
    }
    Ok(after
        .iter()
        .zip(specs)
        .map(|(v, s)| {
            if v.is_null() {
                SortValue::Missing
            } else {
                match (&s.source, v) {
                    (KeySource::I64(_), Value::Number(n))
                        if n.as_i64() == Some(i64::MAX) || n.as_i64() == Some(i64::MIN) =>
                    {
                        SortValue::Missing
                    }
                    _ => sort_value_from_json(v, &s.source).unwrap_or(SortValue::Missing),
                }
            }
        })
        .collect())
}

/// The query of one index (for aggregations) and, when there is a `post_filter`,
/// the query for hits (the main query with the post filter as a filter).
type MainAndHitsQuery = (Box<dyn TQuery>, Option<Box<dyn TQuery>>);

fn index_queries(body: &SearchBody, table: &FieldTable, now: i64) -> Result<MainAndHitsQuery> {
    let ctx = CompileCtx { table, now_ms: now };
    let main: Box<dyn TQuery> = match &body.query {
        Some(q) => compile(q, &ctx)?,
        None => Box::new(AllQuery),
    };
    Ok(match &body.post_filter {
        None => (main, None),
        Some(pf) => {
            let hits: Box<dyn TQuery> = Box::new(BooleanQuery::new(vec![
                (Occur::Must, main.box_clone()),
                (
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(compile(pf, &ctx)?, 0.0)),
                ),
            ]));
            (main, Some(hits))
        }
    })
}

fn agg_error(e: tantivy::TantivyError) -> Error {
    match e {
        tantivy::TantivyError::AggregationError(a) => Error::illegal_argument(a.to_string()),
        tantivy::TantivyError::InvalidArgument(a) => Error::illegal_argument(a),
        other => Error::storage("search_phase_execution_exception", other.to_string()),
    }
}

fn agg_context() -> AggContextParams {
    AggContextParams::new(
        AggregationLimitsGuard::default(),
        crate::analysis::tokenizer_manager(),
    )
}

struct ShardHits {
    shard: usize,
    searcher: Searcher,
    table: Arc<FieldTable>,
    hits: Vec<Candidate>,
}

pub fn search(shards: &[Arc<Shard>], req: &SearchRequest) -> Result<SearchResponse> {
    let start = Instant::now();
    let body = &req.body;
    let window = shards
        .iter()
        .map(|s| s.settings().max_result_window)
        .min()
        .unwrap_or(10_000);
    if body.from + body.size > window {
        return Err(Error::illegal_argument(format!(
            "Result window is too large, from + size must be less than or equal to: [{window}] but was [{}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.",
            body.from + body.size
        )));
    }
    let now = now_ms();
    let k = body.from + body.size;
    // A sort on `_score` alone is the default sort: no `sort` values in hits.
    let explicit_sort = !body
        .sort
        .iter()
        .all(|s| matches!(s, SortSpec::Score { order: Order::Desc }));
    let mut per_shard = Vec::new();
    let mut total = 0u64;
    let mut pruned = false;
    let mut max_score: Option<f32> = None;
    let mut specs_first: Option<Vec<KeySpec>> = None;
    let mut agg_acc: Option<(
        IntermediateAggregationResults,
        Aggregations,
        aggs::DatePaths,
    )> = None;
    for (i, shard) in shards.iter().enumerate() {
        let view = shard.view();
        let specs = key_specs(&body.sort, &view.table)?;
        let scoring = specs.iter().any(|s| matches!(s.source, KeySource::Score))
            || body.track_scores
            || body.min_score.is_some();
        let search_after = match &body.search_after {
            Some(a) => Some(search_after_values(a, &specs)?),
            None => None,
        };
        let (main_query, hits_query) = index_queries(body, &view.table, now)?;
        let searcher = view.reader.searcher();
        let exact_count_up_to = match body.track_total_hits {
            TrackTotalHits::Disabled => 0,
            TrackTotalHits::UpTo(n) => n,
        };
        let collector = HitCollector {
            specs: specs.clone(),
            k,
            min_score: body.min_score,
            scoring,
            search_after,
            exact_count_up_to,
        };
        let search_err = |e: tantivy::TantivyError| {
            Error::storage("search_phase_execution_exception", e.to_string())
        };
        let fruit = match &body.aggs {
            None => searcher
                .search(hits_query.as_ref().unwrap_or(&main_query), &collector)
                .map_err(search_err)?,
            Some(aggs_json) => {
                let (translated, date_paths) = aggs::translate(aggs_json, &view.table)?;
                let agg_req: Aggregations = serde_json::from_value(translated)
                    .map_err(|e| Error::parsing(format!("failed to parse aggregations: {e}")))?;
                let agg_collector =
                    DistributedAggregationCollector::from_aggs(agg_req.clone(), agg_context());
                let (fruit, agg_fruit) = match &hits_query {
                    None => searcher
                        .search(&main_query, &(collector, agg_collector))
                        .map_err(agg_error)?,
                    Some(hq) => (
                        searcher.search(hq, &collector).map_err(search_err)?,
                        searcher
                            .search(&main_query, &agg_collector)
                            .map_err(agg_error)?,
                    ),
                };
                match &mut agg_acc {
                    None => agg_acc = Some((agg_fruit, agg_req, date_paths)),
                    Some((acc, _, _)) => acc.merge_fruits(agg_fruit).map_err(agg_error)?,
                }
                fruit
            }
        };
        total += fruit.count;
        pruned |= fruit.pruned;
        if scoring {
            max_score = match (max_score, fruit.max_score) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        if specs_first.is_none() {
            specs_first = Some(specs);
        }
        per_shard.push(ShardHits {
            shard: i,
            searcher,
            table: Arc::clone(&view.table),
            hits: fruit.hits,
        });
    }
    let specs = specs_first.unwrap_or_default();
    // Merge indices: by key, then index order, then position.
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (si, sh) in per_shard.iter().enumerate() {
        for hi in 0..sh.hits.len() {
            merged.push((si, hi));
        }
    }
    merged.sort_by(|a, b| {
        let ha = &per_shard[a.0].hits[a.1];
        let hb = &per_shard[b.0].hits[b.1];
        compare_keys(&specs, &ha.key, &hb.key)
            .then(per_shard[a.0].shard.cmp(&per_shard[b.0].shard))
            .then(ha.doc.segment_ord.cmp(&hb.doc.segment_ord))
            .then(ha.doc.doc_id.cmp(&hb.doc.doc_id))
    });
    let scores_shown = !explicit_sort
        || body.track_scores
        || specs.iter().any(|s| matches!(s.source, KeySource::Score));
    let mut hits = Vec::new();
    for (si, hi) in merged.into_iter().skip(body.from).take(body.size) {
        let sh = &per_shard[si];
        let c = &sh.hits[hi];
        let shard = &shards[sh.shard];
        hits.push(fetch_hit(
            shard,
            &sh.searcher,
            &sh.table,
            c.doc,
            body,
            if scores_shown { Some(c.score) } else { None },
            explicit_sort.then(|| {
                c.key
                    .iter()
                    .zip(&specs)
                    .map(|(v, s)| sort_value_to_json(v, s))
                    .collect()
            }),
        )?);
    }
    let total_hits = match body.track_total_hits {
        TrackTotalHits::Disabled => None,
        TrackTotalHits::UpTo(limit) => {
            let (value, relation) = if total > limit || (pruned && total >= limit) {
                (limit, TotalRelation::Gte)
            } else {
                (total, TotalRelation::Eq)
            };
            Some(if req.total_hits_as_int {
                Total::Int(total)
            } else {
                Total::Object(TotalHits { value, relation })
            })
        }
    };
    let max_score = if scores_shown
        && !(explicit_sort
            && !matches!(specs.first().map(|s| &s.source), Some(KeySource::Score))
            && !body.track_scores)
    {
        max_score.filter(|_| total > 0 && body.size > 0)
    } else {
        None
    };
    let aggregations = match agg_acc {
        None => None,
        Some((acc, req, date_paths)) => {
            let result = acc
                .into_final_result(req, AggregationLimitsGuard::default())
                .map_err(agg_error)?;
            let mut v = serde_json::to_value(result).map_err(|e| Error::internal(e.to_string()))?;
            aggs::fix_dates(&mut v, &date_paths);
            Some(RawValue::from_string(v.to_string()).map_err(|e| Error::internal(e.to_string()))?)
        }
    };
    Ok(SearchResponse {
        took: start.elapsed().as_millis() as u64,
        timed_out: false,
        _shards: Shards::ok_search(shards.len() as u32),
        hits: Hits {
            total: total_hits,
            max_score,
            hits,
        },
        aggregations,
    })
}

fn fetch_hit(
    shard: &Shard,
    searcher: &Searcher,
    table: &FieldTable,
    addr: DocAddress,
    body: &SearchBody,
    score: Option<f32>,
    sort: Option<Vec<Value>>,
) -> Result<Hit> {
    let doc: TantivyDocument = searcher
        .doc(addr)
        .map_err(|e| Error::storage("fetch_phase_execution_exception", e.to_string()))?;
    let id = doc
        .get_first(table.id)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let source = doc
        .get_first(table.source)
        .and_then(|v| v.as_bytes())
        .unwrap_or(b"{}");
    let version = doc.get_first(table.version).and_then(|v| v.as_i64());
    let seq_no = doc.get_first(table.seq_no).and_then(|v| v.as_i64());
    Ok(Hit {
        _index: shard.name.clone(),
        _id: id,
        _version: if body.version { version } else { None },
        _seq_no: if body.seq_no_primary_term {
            seq_no
        } else {
            None
        },
        _primary_term: if body.seq_no_primary_term {
            Some(PRIMARY_TERM)
        } else {
            None
        },
        _score: score,
        _source: filter_source(source, &body.source),
        sort,
    })
}

pub fn count(shards: &[Arc<Shard>], req: &CountRequest) -> Result<CountResponse> {
    let now = now_ms();
    let mut total = 0u64;
    for shard in shards {
        let view = shard.view();
        let ctx = CompileCtx {
            table: &view.table,
            now_ms: now,
        };
        let q: Box<dyn TQuery> = match &req.query {
            Some(q) => compile(q, &ctx)?,
            None => Box::new(AllQuery),
        };
        let searcher = view.reader.searcher();
        total += q
            .count(&searcher)
            .map_err(|e| Error::storage("search_phase_execution_exception", e.to_string()))?
            as u64;
    }
    Ok(CountResponse {
        count: total,
        _shards: Shards::ok_search(shards.len() as u32),
    })
}
