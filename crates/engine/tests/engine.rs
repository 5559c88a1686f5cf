//! End-to-end tests of the embedded engine through the `Backend` trait.

use searchgate_core::dsl::Query;
use searchgate_core::model::*;
use searchgate_core::Backend;
use searchgate_engine::{Engine, EngineConfig};
use serde_json::{json, Value};
use std::sync::Arc;

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if !entry.file_name().to_string_lossy().ends_with(".lock") {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

async fn engine(dir: &std::path::Path) -> Arc<Engine> {
    Engine::open(EngineConfig::new(dir)).await.unwrap()
}

async fn create_with_mapping(e: &Engine, index: &str, mapping: Value) {
    let mappings = Mapping::parse(&mapping).unwrap();
    let req = CreateIndexRequest {
        index: index.into(),
        settings: Default::default(),
        mappings,
        aliases: None,
    };
    e.create_index(req).await.unwrap();
}

fn doc(index: &str, id: &str, v: Value) -> IndexRequest {
    IndexRequest {
        index: index.into(),
        id: Some(id.into()),
        source: bytes::Bytes::from(v.to_string()),
        op_type: OpType::Index,
        if_match: IfMatch::default(),
        refresh: Refresh::False,
    }
}

fn get(index: &str, id: &str) -> GetRequest {
    GetRequest {
        index: index.into(),
        id: id.into(),
        source: SourceFilter::All,
        realtime: true,
    }
}

async fn search(e: &Engine, index: &str, body: Value) -> Value {
    let req = SearchRequest {
        target: IndexTarget::new(index),
        body: SearchBody::parse(&body).unwrap(),
        total_hits_as_int: false,
    };
    serde_json::to_value(e.search(req).await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_realtime_get_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path()).await;
    let r = e
        .index(doc("t", "1", json!({"title": "hello world", "n": 5})))
        .await
        .unwrap();
    assert_eq!(
        (r._version, r._seq_no, r.result),
        (1, 0, WriteResult::Created)
    );
    let r = e
        .index(doc("t", "1", json!({"title": "hello there", "n": 6})))
        .await
        .unwrap();
    assert_eq!(
        (r._version, r._seq_no, r.result),
        (2, 1, WriteResult::Updated)
    );
    // Real-time get before any refresh.
    let g = e.get(get("t", "1")).await.unwrap();
    assert!(g.found);
    assert_eq!(g._version, Some(2));
    assert_eq!(
        serde_json::from_str::<Value>(g._source.unwrap().get()).unwrap()["n"],
        6
    );
    // Search sees it after a refresh.
    e.refresh(&IndexTarget::new("t")).await.unwrap();
    let s = search(&e, "t", json!({"query": {"match": {"title": "hello"}}})).await;
    assert_eq!(s["hits"]["total"]["value"], 1);
    assert_eq!(s["hits"]["hits"][0]["_id"], "1");
    // Conflicts.
    let mut c = doc("t", "1", json!({"x": 1}));
    c.op_type = OpType::Create;
    assert_eq!(e.index(c).await.unwrap_err().status, 409);
    let mut m = doc("t", "1", json!({"x": 1}));
    m.if_match = IfMatch {
        if_seq_no: Some(0),
        if_primary_term: Some(1),
    };
    assert_eq!(
        e.index(m).await.unwrap_err().kind,
        "version_conflict_engine_exception"
    );
    // Dynamic mapping added text + keyword and long.
    let info = e.get_index(&IndexTarget::new("t")).await.unwrap();
    let mapping = info[0].mappings.to_json();
    assert_eq!(
        mapping["properties"]["title"]["fields"]["keyword"]["type"],
        "keyword"
    );
    assert_eq!(mapping["properties"]["n"]["type"], "long");
    assert_eq!(mapping["properties"]["x"]["type"], "long");
}

#[tokio::test(flavor = "multi_thread")]
async fn bm25_matches_opensearch() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path()).await;
    let docs = [
        "the quick brown fox",
        "the lazy dog",
        "quick quick fox jumps over",
        "nothing here",
    ];
    for (i, d) in docs.iter().enumerate() {
        e.index(doc("b", &i.to_string(), json!({"body": d})))
            .await
            .unwrap();
    }
    // A doc without the field: Lucene's docCount and avgdl ignore it.
    e.index(doc("b", "x", json!({"other": 1}))).await.unwrap();
    e.refresh(&IndexTarget::new("b")).await.unwrap();
    let s = search(&e, "b", json!({"query": {"match": {"body": "quick"}}})).await;
    let n = 4.0f64;
    let df = 2.0f64;
    let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    let avgdl = (4.0 + 3.0 + 5.0 + 2.0) / 4.0;
    let score = |tf: f64, dl: f64| idf * 2.2 * tf / (tf + 1.2 * (1.0 - 0.75 + 0.75 * dl / avgdl));
    let hits = s["hits"]["hits"].as_array().unwrap();
    assert_eq!(hits[0]["_id"], "2");
    let got0 = hits[0]["_score"].as_f64().unwrap();
    let got1 = hits[1]["_score"].as_f64().unwrap();
    assert!(
        (got0 - score(2.0, 5.0)).abs() < 1e-4,
        "{got0} vs {}",
        score(2.0, 5.0)
    );
    assert!(
        (got1 - score(1.0, 4.0)).abs() < 1e-4,
        "{got1} vs {}",
        score(1.0, 4.0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sorting_filters_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path()).await;
    create_with_mapping(&e, "s", json!({"properties": {
        "tag": {"type": "keyword"}, "n": {"type": "integer"}, "d": {"type": "date"}, "f": {"type": "double"}
    }})).await;
    let rows = [
        ("a", 3, "2024-01-01", 1.5),
        ("b", 1, "2024-02-01", 2.5),
        ("c", 2, "2024-03-01", 0.5),
    ];
    for (i, (t, n, d, f)) in rows.iter().enumerate() {
        e.index(doc(
            "s",
            &i.to_string(),
            json!({"tag": t, "n": n, "d": d, "f": f}),
        ))
        .await
        .unwrap();
    }
    e.index(doc("s", "m", json!({"tag": "z"}))).await.unwrap();
    e.refresh(&IndexTarget::new("s")).await.unwrap();
    let ids = |v: &Value| {
        v["hits"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let s = search(&e, "s", json!({"sort": [{"n": "desc"}]})).await;
    assert_eq!(ids(&s), vec!["0", "2", "1", "m"]);
    assert_eq!(s["hits"]["hits"][3]["sort"][0], i64::MIN);
    assert!(s["hits"]["hits"][0]["_score"].is_null());
    let s = search(
        &e,
        "s",
        json!({"sort": [{"n": {"order": "asc", "missing": "_first"}}]}),
    )
    .await;
    assert_eq!(ids(&s), vec!["m", "1", "2", "0"]);
    let s = search(&e, "s", json!({"sort": ["tag"], "size": 2})).await;
    assert_eq!(ids(&s), vec!["0", "1"]);
    assert_eq!(s["hits"]["hits"][1]["sort"][0], "b");
    let s = search(&e, "s", json!({"sort": ["tag"], "search_after": ["b"]})).await;
    assert_eq!(ids(&s), vec!["2", "m"]);
    let s = search(
        &e,
        "s",
        json!({"query": {"range": {"d": {"gte": "2024-01-15", "lt": "2024-03-01"}}}}),
    )
    .await;
    assert_eq!(ids(&s), vec!["1"]);
    let s = search(&e, "s", json!({"query": {"bool": {"filter": [{"range": {"f": {"gt": 1.0}}}], "must_not": [{"term": {"tag": "b"}}]}}})).await;
    assert_eq!(ids(&s), vec!["0"]);
    assert_eq!(s["hits"]["hits"][0]["_score"], 0.0);
    let s = search(
        &e,
        "s",
        json!({"query": {"exists": {"field": "n"}}, "track_total_hits": 2, "size": 0}),
    )
    .await;
    assert_eq!(s["hits"]["total"], json!({"value": 2, "relation": "gte"}));
    let err = e
        .search(SearchRequest {
            target: IndexTarget::new("s"),
            body: SearchBody::parse(&json!({"sort": ["nope"]})).unwrap(),
            total_hits_as_int: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status, 400);
    let c = e
        .count(CountRequest {
            target: IndexTarget::new("s"),
            query: Some(Query::parse(&json!({"terms": {"tag": ["a", "z"]}})).unwrap()),
        })
        .await
        .unwrap();
    assert_eq!(c.count, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn log_replay_after_crash() {
    let parent = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir_in(parent.path()).unwrap();
    {
        let e = engine(dir.path()).await;
        for i in 0..50 {
            e.index(doc("w", &i.to_string(), json!({"i": i})))
                .await
                .unwrap();
        }
        e.delete(DeleteRequest {
            index: "w".into(),
            id: "7".into(),
            if_match: IfMatch::default(),
            refresh: Refresh::False,
        })
        .await
        .unwrap();
        // No close(): copy the files as a kill -9 would leave them (the writer's
        // lock is held by this process, so the copy is opened instead).
        copy_dir(dir.path(), &dir.path().join("../crash-copy"));
        std::mem::forget(e);
    }
    let e = engine(&dir.path().join("../crash-copy")).await;
    e.refresh(&IndexTarget::new("w")).await.unwrap();
    let c = e
        .count(CountRequest {
            target: IndexTarget::new("w"),
            query: None,
        })
        .await
        .unwrap();
    assert_eq!(c.count, 49);
    assert!(!e.get(get("w", "7")).await.unwrap().found);
    let g = e.get(get("w", "8")).await.unwrap();
    assert_eq!(g._version, Some(1));
    // Sequence numbers continue after the replayed ones.
    let r = e.index(doc("w", "new", json!({"i": 1}))).await.unwrap();
    assert_eq!(r._seq_no, 51);
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_items_and_updates() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path()).await;
    let body = b"{\"index\":{\"_index\":\"k\",\"_id\":\"1\"}}\n{\"a\":1}\n{\"create\":{\"_index\":\"k\",\"_id\":\"1\"}}\n{\"a\":2}\n{\"update\":{\"_index\":\"k\",\"_id\":\"1\"}}\n{\"doc\":{\"b\":2}}\n{\"delete\":{\"_index\":\"k\",\"_id\":\"9\"}}\n{\"index\":{\"_index\":\"k\",\"_id\":\"2\"}}\n{\"a\":\"not a number\"}\n";
    let req = parse_bulk(body, None, Refresh::True).unwrap();
    let r = serde_json::to_value(e.bulk(req).await.unwrap()).unwrap();
    assert_eq!(r["errors"], true);
    let statuses: Vec<u64> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i.as_object().unwrap().values().next().unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses, vec![201, 409, 200, 404, 400]);
    let g = e.get(get("k", "1")).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(g._source.unwrap().get()).unwrap(),
        json!({"a": 1, "b": 2})
    );
    // noop update
    let u = parse_update_body(
        "k",
        "1",
        b"{\"doc\":{\"b\":2}}",
        IfMatch::default(),
        Refresh::False,
    )
    .unwrap();
    assert_eq!(e.update(u).await.unwrap().result, WriteResult::Noop);
    // upsert
    let u = parse_update_body(
        "k",
        "3",
        b"{\"doc\":{\"z\":1},\"doc_as_upsert\":true}",
        IfMatch::default(),
        Refresh::False,
    )
    .unwrap();
    assert_eq!(e.update(u).await.unwrap().result, WriteResult::Created);
    let u = parse_update_body(
        "k",
        "4",
        b"{\"doc\":{\"z\":1}}",
        IfMatch::default(),
        Refresh::False,
    )
    .unwrap();
    assert_eq!(e.update(u).await.unwrap_err().status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregations() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path()).await;
    create_with_mapping(&e, "f", json!({"properties": {
        "carrier": {"type": "keyword"}, "delay": {"type": "integer"}, "ts": {"type": "date"}, "name": {"type": "text"}
    }})).await;
    let rows = [
        ("UA", 10, "2013-01-01T10:00:00Z"),
        ("UA", 20, "2013-01-01T11:00:00Z"),
        ("AA", 5, "2013-01-02T10:00:00Z"),
    ];
    for (i, (c, d, t)) in rows.iter().enumerate() {
        e.index(doc(
            "f",
            &i.to_string(),
            json!({"carrier": c, "delay": d, "ts": t}),
        ))
        .await
        .unwrap();
    }
    e.refresh(&IndexTarget::new("f")).await.unwrap();
    let s = search(&e, "f", json!({"size": 0, "query": {"range": {"delay": {"gte": 6}}}, "aggs": {
        "by_carrier": {"terms": {"field": "carrier"}, "aggs": {"avg_delay": {"avg": {"field": "delay"}}}},
        "delay_stats": {"stats": {"field": "delay"}},
        "per_day": {"date_histogram": {"field": "ts", "calendar_interval": "day"}}
    }}))
    .await;
    let a = &s["aggregations"];
    assert_eq!(a["by_carrier"]["buckets"][0]["key"], "UA");
    assert_eq!(a["by_carrier"]["buckets"][0]["doc_count"], 2);
    assert_eq!(a["by_carrier"]["buckets"][0]["avg_delay"]["value"], 15.0);
    assert_eq!(a["delay_stats"]["count"], 2);
    assert_eq!(a["delay_stats"]["max"], 20.0);
    assert_eq!(a["per_day"]["buckets"][0]["key"], 1356998400000i64);
    assert_eq!(
        a["per_day"]["buckets"][0]["key_as_string"],
        "2013-01-01T00:00:00.000Z"
    );
    assert_eq!(a["per_day"]["buckets"][0]["doc_count"], 2);
    let err = e
        .search(SearchRequest {
            target: IndexTarget::new("f"),
            body: SearchBody::parse(&json!({"aggs": {"x": {"terms": {"field": "name"}}}})).unwrap(),
            total_hits_as_int: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn pruned_top_hits_equal_exact_ones() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path()).await;
    for i in 0..300 {
        let text = format!(
            "{} fox {}",
            "quick ".repeat(i % 7 + 1),
            "lazy ".repeat(i % 5)
        );
        e.index(doc("p", &i.to_string(), json!({"t": text})))
            .await
            .unwrap();
    }
    e.refresh(&IndexTarget::new("p")).await.unwrap();
    let q = json!({"match": {"t": "quick fox"}});
    let exact = search(
        &e,
        "p",
        json!({"query": q, "size": 20, "track_total_hits": true}),
    )
    .await;
    let pruned = search(
        &e,
        "p",
        json!({"query": q, "size": 20, "track_total_hits": 10}),
    )
    .await;
    assert_eq!(
        exact["hits"]["total"],
        json!({"value": 300, "relation": "eq"})
    );
    assert_eq!(
        pruned["hits"]["total"],
        json!({"value": 10, "relation": "gte"})
    );
    let ids = |v: &Value| {
        v["hits"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["_id"].clone(), h["_score"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&exact), ids(&pruned));
    assert_eq!(exact["hits"]["max_score"], pruned["hits"]["max_score"]);
}
