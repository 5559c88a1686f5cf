//! Handler tests: the whole `Router` driven with `oneshot` against `FakeBackend`:
//! routing, content negotiation, headers, error bodies (400/404/405/406/413),
//! `filter_path`, `pretty`, `_cat` text.

use crate::routes::app;
use crate::state::{AppState, Limits};
use crate::testing::{Drive, FakeBackend, Resp};
use axum::body::Body;
use axum::http::StatusCode;
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;

struct T {
    app: Router,
    backend: Arc<FakeBackend>,
}

impl Drive for T {
    fn router(&self) -> &Router {
        &self.app
    }
}

impl T {
    fn new() -> T {
        T::with_limits(Limits::default())
    }

    fn with_limits(limits: Limits) -> T {
        let backend = Arc::new(FakeBackend::new());
        T {
            app: app(AppState::new(backend.clone(), limits)),
            backend,
        }
    }

    async fn json(&self, method: &str, uri: &str, body: Value) -> Resp {
        self.call(
            method,
            uri,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    async fn index(&self, index: &str, id: &str, doc: Value) {
        let r = self.json("PUT", &format!("/{index}/_doc/{id}"), doc).await;
        assert!(r.status.is_success(), "{}", r.text());
    }
}

// === cluster ===

#[tokio::test]
async fn root_answers_like_a_cluster() {
    let t = T::new();
    let r = t.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/json");
    let b = r.json();
    assert_eq!(b["name"], "fake-node");
    assert_eq!(b["cluster_name"], "fake-cluster");
    assert_eq!(b["cluster_uuid"], "fake-uuid");
    assert_eq!(b["version"]["number"], "8.17.0");
    assert_eq!(b["version"]["build_flavor"], "default");
    assert_eq!(b["version"]["minimum_wire_compatibility_version"], "7.17.0");
    assert_eq!(b["tagline"], "You Know, for Search");

    let r = t
        .call("GET", "/", &[("x-opaque-id", "abc-1")], Body::empty())
        .await;
    assert_eq!(r.header("x-opaque-id"), "abc-1");

    let r = t.call("HEAD", "/", &[], Body::empty()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn liveness() {
    let t = T::new();
    assert_eq!(
        t.get("/_searchgate/health").await.json(),
        json!({"status": "ok"})
    );
}

#[tokio::test]
async fn cluster_health() {
    let t = T::new();
    t.json(
        "PUT",
        "/green",
        json!({"settings": {"number_of_replicas": 0}}),
    )
    .await;
    let r = t
        .get("/_cluster/health/green?wait_for_status=green&timeout=5s")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "green");
    assert_eq!(r.json()["timed_out"], false);

    t.json("PUT", "/yellow", json!({})).await;
    let r = t
        .get("/_cluster/health/yellow?wait_for_status=green&timeout=10ms")
        .await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(r.json()["timed_out"], true);
    assert_eq!(r.json()["status"], "yellow");

    t.get("/_cluster/health?wait_for_status=purple")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/_cluster/health/nope")
        .await
        .es_error(404, "index_not_found_exception");
}

// === routing errors ===

#[tokio::test]
async fn unknown_route_is_es_400() {
    let t = T::new();
    let r = t.get("/_searchgate_no_such_api/a/b/c?pretty").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"error": "no handler found for uri [/_searchgate_no_such_api/a/b/c?pretty] and method [GET]", "status": 400})
    );
    let r = t.call("POST", "/idx/_frob", &[], Body::empty()).await;
    assert_eq!(
        r.json()["error"],
        "no handler found for uri [/idx/_frob] and method [POST]"
    );
}

#[tokio::test]
async fn wrong_method_is_es_405_with_allow() {
    let t = T::new();
    let r = t.call("DELETE", "/_cat/health", &[], Body::empty()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let allow: Vec<&str> = r.header("allow").split(',').map(str::trim).collect();
    assert!(allow.contains(&"GET"), "{allow:?}");
    let b = r.json();
    assert_eq!(b["status"], 405);
    let msg = b["error"].as_str().unwrap();
    assert!(
        msg.starts_with(
            "Incorrect HTTP method for uri [/_cat/health] and method [DELETE], allowed: ["
        ),
        "{msg}"
    );
    assert!(msg.contains("GET"));

    let r = t.json("PUT", "/_cluster/health", json!({})).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.header("allow").contains("GET"));
    let r = t.call("GET", "/idx/_update/1", &[], Body::empty()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.header("allow").contains("POST"));
}

#[tokio::test]
async fn extractor_failures_are_es_400() {
    let t = T::new();
    t.get("/idx/_search?q=%ZZ")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/idx/_search?q=%FF")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/%FF/_doc/1")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/_search?frob=1")
        .await
        .es_error(400, "illegal_argument_exception");
    let r = t.get("/_search?frob=1").await;
    assert_eq!(
        r.json()["error"]["reason"],
        "request [/_search] contains unrecognized parameter: [frob]"
    );
}

#[tokio::test]
async fn panic_becomes_500_without_rust_details() {
    let t = T::new();
    let r = t.get("/boom/_search").await;
    r.es_error(500, "internal_server_error");
    let text = r.text();
    assert!(
        !text.contains("secret-rust-detail") && !text.contains("panicked"),
        "{text}"
    );
}

// === content negotiation ===

#[tokio::test]
async fn vendor_media_types_are_echoed() {
    let t = T::new();
    for compat in [7, 8, 9] {
        let mt = format!("application/vnd.elasticsearch+json; compatible-with={compat}");
        let r = t
            .call(
                "PUT",
                &format!("/v{compat}/_doc/1"),
                &[("content-type", &mt), ("accept", &mt)],
                r#"{"a":1}"#,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(
            r.header("content-type"),
            format!("application/vnd.elasticsearch+json;compatible-with={compat}")
        );
    }
    // bulk: x-ndjson content type and no Accept → the vendor JSON type back
    let nd = "application/vnd.elasticsearch+x-ndjson; compatible-with=9";
    let r = t
        .call(
            "POST",
            "/_bulk",
            &[("content-type", nd)],
            "{\"index\":{\"_index\":\"b\"}}\n{\"x\":1}\n",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        "application/vnd.elasticsearch+json;compatible-with=9"
    );
    // plain JSON otherwise, errors included
    let r = t.get("/nope/_doc/1").await;
    assert_eq!(r.header("content-type"), "application/json");
    let r = t
        .call(
            "GET",
            "/nope/_doc/1",
            &[(
                "accept",
                "application/vnd.elasticsearch+json;compatible-with=8",
            )],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.header("content-type"),
        "application/vnd.elasticsearch+json;compatible-with=8"
    );
}

#[tokio::test]
async fn media_type_errors() {
    let t = T::new();
    let r = t
        .call("POST", "/_search", &[("content-type", "text/plain")], "{}")
        .await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        r.json(),
        json!({"error": "Content-Type header [text/plain] is not supported", "status": 406})
    );
    let r = t
        .call(
            "POST",
            "/_search",
            &[("content-type", "application/xml")],
            "{}",
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_ACCEPTABLE);
    // no body: the content type does not matter
    let r = t
        .call(
            "GET",
            "/_search",
            &[("content-type", "text/plain")],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // plain ndjson and missing content type are fine
    let r = t
        .call(
            "POST",
            "/_bulk",
            &[("content-type", "application/x-ndjson")],
            "{\"index\":{\"_index\":\"b\"}}\n{\"x\":1}\n",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = t.call("POST", "/_search", &[], "{}").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = t
        .call(
            "GET",
            "/",
            &[(
                "accept",
                "application/vnd.elasticsearch+json; compatible-with=5",
            )],
            Body::empty(),
        )
        .await;
    r.es_error(400, "media_type_header_exception");
}

// === bodies ===

#[tokio::test]
async fn malformed_and_deep_json() {
    let t = T::new();
    for bad in [
        r#"{"query": {"match_all": {}}"#,
        "{not json",
        r#"{"query": }"#,
        "\u{0}\u{1}",
    ] {
        t.call(
            "POST",
            "/_search",
            &[("content-type", "application/json")],
            bad,
        )
        .await
        .es_error(400, "x_content_parse_exception");
    }
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
    t.call("PUT", "/i/_doc/1", &[], deep.clone())
        .await
        .es_error(400, "x_content_parse_exception");
    t.call("POST", "/_search", &[], deep)
        .await
        .es_error(400, "x_content_parse_exception");
    // the `source` parameter stands in for a body
    let r = t
        .get("/_search?source=%7B%22size%22%3A0%7D&source_content_type=application/json")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    t.get("/_search?source=%7Bbad")
        .await
        .es_error(400, "x_content_parse_exception");
    // a GET may carry a search body
    t.index("i", "1", json!({"a": 1})).await;
    let r = t.call("GET", "/i/_search", &[], r#"{"size": 0}"#).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["hits"]["hits"], json!([]));
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let t = T::with_limits(Limits {
        max_content_length: 1024,
        ..Limits::default()
    });
    let big = format!("{{\"t\":\"{}\"}}", "x".repeat(4096));
    let r = t
        .call(
            "PUT",
            "/big/_doc/1",
            &[("content-type", "application/json")],
            big.clone(),
        )
        .await;
    r.es_error(413, "content_too_long_exception");
    // chunked: no Content-Length, caught while reading
    let chunks: Vec<Result<Bytes, std::io::Error>> = big
        .as_bytes()
        .chunks(100)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let r = t
        .call(
            "PUT",
            "/big/_doc/1",
            &[("content-type", "application/json")],
            body,
        )
        .await;
    r.es_error(413, "content_too_long_exception");
    let r = t.json("PUT", "/small/_doc/1", json!({"t": "x"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
}

// === pretty and filter_path ===

#[tokio::test]
async fn pretty_output() {
    let t = T::new();
    let plain = t.get("/_cluster/health").await.text();
    assert!(!plain.contains('\n'));
    for uri in ["/_cluster/health?pretty", "/_cluster/health?pretty=true"] {
        let r = t.get(uri).await;
        let text = r.text();
        assert!(
            text.starts_with("{\n  \"cluster_name\" : \"fake-cluster\",\n"),
            "{text}"
        );
        assert!(text.ends_with("}\n"));
    }
    assert!(!t
        .get("/_cluster/health?pretty=false")
        .await
        .text()
        .contains('\n'));
    // errors are pretty too
    let r = t.get("/nope/_search?pretty").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("\n  \"error\" : {"), "{}", r.text());
}

#[tokio::test]
async fn filter_path_on_responses() {
    let t = T::new();
    assert_eq!(
        t.get("/?filter_path=version.number").await.json(),
        json!({"version": {"number": "8.17.0"}})
    );
    assert_eq!(t.get("/?filter_path=no_such_key").await.json(), json!({}));
    t.index("f", "a", json!({"n": 1, "t": "x"})).await;
    t.index("f", "b", json!({"n": 2})).await;
    let r = t.get("/f/_search?filter_path=hits.hits._id").await;
    assert_eq!(
        r.json(),
        json!({"hits": {"hits": [{"_id": "a"}, {"_id": "b"}]}})
    );
    let r = t.get("/f/_search?filter_path=-hits,-_shards&pretty").await;
    assert_eq!(r.json(), json!({"took": 1, "timed_out": false}));
    let r = t.get("/f/_search?filter_path=%2A%2A%2A").await;
    assert_eq!(r.status, StatusCode::OK);
    // not on errors (as in ES): the client still gets the error
    let r = t.get("/nope/_search?filter_path=hits.hits._id").await;
    r.es_error(404, "index_not_found_exception");
}

// === indices ===

#[tokio::test]
async fn index_lifecycle() {
    let t = T::new();
    let r = t
        .json(
            "PUT",
            "/books",
            json!({"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": {"properties": {"title": {"type": "text"}}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"acknowledged": true, "shards_acknowledged": true, "index": "books"})
    );
    t.json("PUT", "/books", json!({}))
        .await
        .es_error(400, "resource_already_exists_exception");
    t.json("PUT", "/Books", json!({}))
        .await
        .es_error(400, "invalid_index_name_exception");
    t.json("PUT", "/x", json!({"nope": {}}))
        .await
        .es_error(400, "parse_exception");
    t.call("PUT", "/x", &[], "{\"settings\": {")
        .await
        .es_error(400, "x_content_parse_exception");

    assert_eq!(
        t.call("HEAD", "/books", &[], Body::empty()).await.status,
        StatusCode::OK
    );
    let r = t.call("HEAD", "/nope", &[], Body::empty()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.is_empty());

    let b = t.get("/books").await.json();
    assert_eq!(
        b["books"]["mappings"]["properties"]["title"]["type"],
        "text"
    );
    assert_eq!(b["books"]["settings"]["index"]["number_of_replicas"], "0");
    assert_eq!(b["books"]["settings"]["index"]["uuid"], "uuid-books");
    let b = t.get("/books?flat_settings=true").await.json();
    assert_eq!(b["books"]["settings"]["index.number_of_replicas"], "0");

    let r = t
        .json(
            "PUT",
            "/books/_mapping",
            json!({"properties": {"year": {"type": "long"}}}),
        )
        .await;
    assert_eq!(r.json(), json!({"acknowledged": true}));
    let b = t.get("/books/_mapping").await.json();
    assert_eq!(b["books"]["mappings"]["properties"]["year"]["type"], "long");
    assert!(t.get("/_mapping").await.json()["books"].is_object());

    let r = t
        .json(
            "PUT",
            "/books/_settings",
            json!({"index": {"number_of_replicas": 2}}),
        )
        .await;
    assert_eq!(r.json(), json!({"acknowledged": true}));
    let r = t
        .json(
            "PUT",
            "/books/_settings",
            json!({"settings": {"index.refresh_interval": "5s"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let b = t.get("/books/_settings").await.json();
    assert_eq!(b["books"]["settings"]["index"]["number_of_replicas"], "2");
    // shown as given, as ES shows settings
    assert_eq!(b["books"]["settings"]["index"]["refresh_interval"], "5s");

    let r = t.call("POST", "/books/_refresh", &[], Body::empty()).await;
    assert_eq!(
        r.json(),
        json!({"_shards": {"total": 1, "successful": 1, "failed": 0}})
    );
    assert_eq!(
        t.call("POST", "/_flush", &[], Body::empty()).await.status,
        StatusCode::OK
    );
    assert_eq!(t.get("/_refresh").await.status, StatusCode::OK);

    for expr in ["*", "_all", "books,b*"] {
        t.call("DELETE", &format!("/{expr}"), &[], Body::empty())
            .await
            .es_error(400, "illegal_argument_exception");
    }
    let r = t.call("DELETE", "/books", &[], Body::empty()).await;
    assert_eq!(r.json(), json!({"acknowledged": true}));
    t.call("DELETE", "/books", &[], Body::empty())
        .await
        .es_error(404, "index_not_found_exception");
    t.get("/books/_mapping")
        .await
        .es_error(404, "index_not_found_exception");
}

// === documents ===

#[tokio::test]
async fn document_crud() {
    let t = T::new();
    let r = t
        .json(
            "PUT",
            "/docs/_doc/a%2Fb?refresh=true",
            json!({"t": "x", "n": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.header("location"), "/docs/_doc/a%2Fb");
    assert_eq!(r.json()["result"], "created");
    assert_eq!(r.json()["_id"], "a/b");
    let r = t
        .json("PUT", "/docs/_doc/a%2Fb", json!({"t": "y", "n": 2}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("location"), "");
    assert_eq!(r.json()["_version"], 2);

    let r = t.json("POST", "/docs/_doc", json!({"t": "auto"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.json()["_id"].as_str().unwrap().to_string();
    assert!(r.header("location").ends_with(&id));

    t.json("PUT", "/docs/_create/a%2Fb", json!({"t": "z"}))
        .await
        .es_error(409, "version_conflict_engine_exception");
    t.json("PUT", "/docs/_doc/a%2Fb?op_type=create", json!({"t": "z"}))
        .await
        .es_error(409, "version_conflict_engine_exception");
    t.json("PUT", "/docs/_doc/x?op_type=frob", json!({}))
        .await
        .es_error(400, "illegal_argument_exception");
    t.json("PUT", "/docs/_doc/x?if_seq_no=0", json!({}))
        .await
        .es_error(400, "action_request_validation_exception");
    t.json("PUT", "/docs/_doc/x?refresh=sometimes", json!({}))
        .await
        .es_error(400, "illegal_argument_exception");
    t.call("PUT", "/docs/_doc/x", &[], Body::empty())
        .await
        .es_error(400, "action_request_validation_exception");
    t.call("PUT", "/docs/_doc/x", &[], "[1,2]")
        .await
        .es_error(400, "document_parsing_exception");

    let r = t.get("/docs/_doc/a%2Fb").await;
    assert_eq!(r.status, StatusCode::OK);
    let b = r.json();
    assert_eq!(b["found"], true);
    assert_eq!(b["_source"], json!({"t": "y", "n": 2}));
    let b = t.get("/docs/_doc/a%2Fb?_source_includes=t").await.json();
    assert_eq!(b["_source"], json!({"t": "y"}));
    let b = t.get("/docs/_doc/a%2Fb?_source=false").await.json();
    assert!(b.get("_source").is_none());

    let r = t.get("/docs/_doc/missing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["found"], false);
    let r = t
        .call("HEAD", "/docs/_doc/missing", &[], Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.is_empty());
    assert_eq!(
        t.call("HEAD", "/docs/_doc/a%2Fb", &[], Body::empty())
            .await
            .status,
        StatusCode::OK
    );
    t.get("/nope/_doc/1")
        .await
        .es_error(404, "index_not_found_exception");

    let r = t.get("/docs/_source/a%2Fb").await;
    assert_eq!(r.json(), json!({"t": "y", "n": 2}));
    let r = t.get("/docs/_source/missing").await;
    r.es_error(404, "resource_not_found_exception");
    assert_eq!(
        r.json()["error"]["reason"],
        "Document not found [docs]/[missing]"
    );

    let r = t
        .json("POST", "/docs/_update/a%2Fb", json!({"doc": {"n": 3}}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["result"], "updated");
    let r = t
        .json(
            "POST",
            "/docs/_update/new",
            json!({"doc": {"n": 1}, "doc_as_upsert": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    t.json("POST", "/docs/_update/ghost", json!({"doc": {"n": 1}}))
        .await
        .es_error(404, "document_missing_exception");
    t.call("POST", "/docs/_update/x", &[], Body::empty())
        .await
        .es_error(400, "action_request_validation_exception");
    t.call("POST", "/docs/_update/x", &[], "{\"doc\": {")
        .await
        .es_error(400, "x_content_parse_exception");

    let r = t.call("DELETE", "/docs/_doc/new", &[], Body::empty()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["result"], "deleted");
    let r = t.call("DELETE", "/docs/_doc/new", &[], Body::empty()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["result"], "not_found");
}

#[tokio::test]
async fn mget_forms() {
    let t = T::new();
    t.index("m", "1", json!({"a": 1, "b": 2})).await;
    let r = t
        .json(
            "POST",
            "/_mget",
            json!({"docs": [{"_index": "m", "_id": "1"}, {"_index": "m", "_id": "2"}]}),
        )
        .await;
    let b = r.json();
    assert_eq!(b["docs"][0]["found"], true);
    assert_eq!(b["docs"][1]["found"], false);
    let b = t
        .json(
            "GET",
            "/m/_mget?_source_includes=a",
            json!({"ids": ["1", 2]}),
        )
        .await
        .json();
    assert_eq!(b["docs"][0]["_source"], json!({"a": 1}));
    assert_eq!(b["docs"][1]["_id"], "2");
    let b = t
        .json(
            "POST",
            "/m/_mget",
            json!({"docs": [{"_id": "1", "_source": ["b"]}]}),
        )
        .await
        .json();
    assert_eq!(b["docs"][0]["_source"], json!({"b": 2}));
    t.json("POST", "/_mget", json!({"ids": ["1"]}))
        .await
        .es_error(400, "action_request_validation_exception");
    t.json("POST", "/_mget", json!({"docs": []}))
        .await
        .es_error(400, "action_request_validation_exception");
    t.json("POST", "/_mget", json!({"frob": []}))
        .await
        .es_error(400, "parsing_exception");
    let b = t
        .json(
            "POST",
            "/_mget",
            json!({"docs": [{"_index": "nope", "_id": "1"}]}),
        )
        .await
        .json();
    assert_eq!(b["docs"][0]["error"]["type"], "index_not_found_exception");
}

// === bulk ===

#[tokio::test]
async fn bulk_items() {
    let t = T::new();
    let body = "{\"index\":{\"_index\":\"b\",\"_id\":\"1\"}}\n{\"x\":1}\n{\"create\":{\"_id\":\"1\"}}\n{\"x\":2}\n{\"delete\":{\"_id\":\"9\"}}\n{\"update\":{\"_id\":\"1\"}}\n{\"doc\":{\"x\":3}}\n";
    let r = t
        .call(
            "POST",
            "/b/_bulk?refresh=wait_for",
            &[("content-type", "application/x-ndjson")],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let b = r.json();
    assert_eq!(b["errors"], true);
    assert_eq!(b["items"][0]["index"]["status"], 201);
    assert_eq!(b["items"][1]["create"]["status"], 409);
    assert_eq!(b["items"][2]["delete"]["status"], 404);
    assert_eq!(b["items"][3]["update"]["status"], 200);

    t.call("POST", "/_bulk", &[], "{\"frob\":{}}\n{}\n")
        .await
        .es_error(400, "illegal_argument_exception");
    t.call("POST", "/_bulk", &[], Body::empty())
        .await
        .es_error(400, "parse_exception");
    let r = t
        .call("POST", "/_bulk", &[], "{\"index\":{\"_index\":\"b\"}}\n{}")
        .await;
    r.es_error(400, "illegal_argument_exception");
    assert_eq!(
        r.json()["error"]["reason"],
        "The bulk request must be terminated by a newline [\\n]"
    );
    t.call(
        "POST",
        "/_bulk?refresh=sometimes",
        &[],
        "{\"index\":{\"_index\":\"b\"}}\n{}\n",
    )
    .await
    .es_error(400, "illegal_argument_exception");

    let t = T::with_limits(Limits {
        max_bulk_actions: 1,
        ..Limits::default()
    });
    let r = t
        .call(
            "PUT",
            "/_bulk",
            &[],
            "{\"index\":{\"_index\":\"b\"}}\n{}\n{\"index\":{\"_index\":\"b\"}}\n{}\n",
        )
        .await;
    r.es_error(400, "illegal_argument_exception");
}

// === search ===

#[tokio::test]
async fn search_params_override_body() {
    let t = T::new();
    for i in 0..5 {
        t.index("s", &i.to_string(), json!({"n": i})).await;
    }
    let r = t
        .json(
            "POST",
            "/s/_search?from=1&size=2&sort=n:desc&_source=false&track_total_hits=100",
            json!({"size": 10, "query": {"match_all": {}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let b = r.json();
    assert_eq!(b["hits"]["hits"].as_array().unwrap().len(), 2);
    assert_eq!(b["hits"]["total"], json!({"value": 5, "relation": "eq"}));
    let req = t.backend.last_search.lock().unwrap().clone().unwrap();
    assert_eq!((req.body.from, req.body.size), (1, 2));
    assert_eq!(req.body.sort.len(), 1);
    assert_eq!(req.body.source, searchgate_core::model::SourceFilter::None);

    let r = t
        .get("/s/_search?q=n:1&df=title&default_operator=AND&rest_total_hits_as_int=true")
        .await;
    assert_eq!(r.json()["hits"]["total"], 5);
    let req = t.backend.last_search.lock().unwrap().clone().unwrap();
    match req.body.query {
        Some(searchgate_core::dsl::Query::QueryString(q)) => {
            assert_eq!(q.query, "n:1");
            assert_eq!(q.default_field.as_deref(), Some("title"));
            assert_eq!(q.default_operator, searchgate_core::dsl::Operator::And);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        t.get("/s,nope*/_search?ignore_unavailable=true")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        t.get("/_all/_search").await.json()["hits"]["total"]["value"],
        5
    );
    t.get("/s/_search?size=ten")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/s/_search?from=-1")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/s/_search?sort=n:sideways")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/s/_search?track_total_hits=-5")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/s/_search?scroll=1m")
        .await
        .es_error(400, "illegal_argument_exception");
    t.json("POST", "/s/_search", json!({"query": {"nope": {}}}))
        .await
        .es_error(400, "parsing_exception");
    t.json("POST", "/s/_search", json!({"querry": {}}))
        .await
        .es_error(400, "parsing_exception");
    t.get("/nope/_search")
        .await
        .es_error(404, "index_not_found_exception");
}

#[tokio::test]
async fn count_forms() {
    let t = T::new();
    t.index("c", "1", json!({"n": 1})).await;
    t.index("c", "2", json!({"n": 2})).await;
    let r = t.get("/c/_count").await;
    assert_eq!(r.json()["count"], 2);
    let r = t
        .json("POST", "/_count", json!({"query": {"match_none": {}}}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(t
        .backend
        .last_count
        .lock()
        .unwrap()
        .clone()
        .unwrap()
        .query
        .is_some());
    t.json("POST", "/c/_count", json!({"size": 1}))
        .await
        .es_error(400, "parsing_exception");
    let r = t.get("/c/_count?q=n:1").await;
    assert_eq!(r.status, StatusCode::OK);
    t.get("/nope/_count")
        .await
        .es_error(404, "index_not_found_exception");
}

// === _cat ===

#[tokio::test]
async fn cat_indices_text_and_json() {
    let t = T::new();
    t.json(
        "PUT",
        "/alpha",
        json!({"settings": {"number_of_replicas": 0}}),
    )
    .await;
    t.json("PUT", "/beta", json!({})).await;
    for i in 0..3 {
        t.index("alpha", &i.to_string(), json!({"a": i})).await;
    }
    let r = t.get("/_cat/indices?v").await;
    assert_eq!(r.header("content-type"), "text/plain; charset=UTF-8");
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "health",
            "status",
            "index",
            "uuid",
            "pri",
            "rep",
            "docs.count",
            "docs.deleted",
            "store.size",
            "pri.store.size",
            "dataset.size"
        ]
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        [
            "green",
            "open",
            "alpha",
            "uuid-alpha",
            "1",
            "0",
            "3",
            "0",
            "3.1kb",
            "3.1kb",
            "3.1kb"
        ]
    );
    assert!(lines[2].starts_with("yellow open   beta "), "{text}");
    // numbers align right under their header
    let col = lines[0].find("docs.count").unwrap() + "docs.count".len();
    assert_eq!(&lines[1][col - 1..col], "3");

    let r = t.get("/_cat/indices").await;
    assert!(r.text().starts_with("green  open alpha"), "{}", r.text());

    let r = t.get("/_cat/indices/alpha?format=json&bytes=b").await;
    assert_eq!(r.header("content-type"), "application/json");
    let rows = r.json();
    assert_eq!(rows[0]["index"], "alpha");
    assert_eq!(rows[0]["docs.count"], "3");
    assert_eq!(rows[0]["store.size"], "3225");

    let r = t.get("/_cat/indices?h=i,dc&s=docs.count:desc").await;
    assert_eq!(r.text(), "alpha 3\nbeta  0\n");
    let r = t
        .get("/_cat/indices?h=index,docs.*&s=index:desc&v=true")
        .await;
    assert_eq!(
        r.text()
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["index", "docs.count", "docs.deleted"]
    );
    assert!(r.text().lines().nth(1).unwrap().starts_with("beta"));
    t.get("/_cat/indices?s=frob")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/_cat/indices?format=xml")
        .await
        .es_error(400, "illegal_argument_exception");
    t.get("/_cat/indices/nope")
        .await
        .es_error(404, "index_not_found_exception");
    assert!(t
        .get("/_cat/indices?help")
        .await
        .text()
        .contains("docs.count"));
    // pretty JSON works on _cat too
    assert!(t
        .get("/_cat/indices?format=json&pretty")
        .await
        .text()
        .contains("\n  {\n"));
}

#[tokio::test]
async fn cat_health_and_count() {
    let t = T::new();
    t.json("PUT", "/c", json!({"settings": {"number_of_replicas": 0}}))
        .await;
    t.index("c", "1", json!({})).await;
    let r = t.get("/_cat/health?v").await;
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        &lines[0].split_whitespace().collect::<Vec<_>>()[..4],
        ["epoch", "timestamp", "cluster", "status"]
    );
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[0].len(), 10);
    assert_eq!(row[1].len(), 8);
    assert_eq!(&row[2..4], ["fake-cluster", "green"]);
    assert_eq!(*row.last().unwrap(), "100.0%");
    let r = t.get("/_cat/health?ts=false").await;
    assert!(r.text().starts_with("fake-cluster green"), "{}", r.text());

    let r = t.get("/_cat/count/c?v").await;
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["epoch", "timestamp", "count"]
    );
    assert_eq!(lines[1].split_whitespace().nth(2), Some("1"));
    let rows = t
        .call("POST", "/_cat/count?format=json", &[], Body::empty())
        .await
        .json();
    assert_eq!(rows[0]["count"], "1");
    t.get("/_cat/count/nope")
        .await
        .es_error(404, "index_not_found_exception");
    assert!(t.get("/_cat").await.text().starts_with("=^.^="));
}
