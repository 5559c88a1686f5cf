//! Gateway mode tests: `gateway::app` driven with `oneshot` in front of a small
//! fake cluster (an axum server on 127.0.0.1 that echoes what it received), and the
//! start-up of `serve::build_gateway`.

use crate::config::GatewaySettings;
use crate::gateway;
use crate::serve::{build_gateway, ServeError};
use crate::state::Limits;
use crate::testing::Drive;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use searchgate_upstream::{Upstream, UpstreamConfig};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Size of `/big`: beyond the upstream's read-ahead, so it streams.
const BIG: usize = 1 << 20;

/// A fake cluster: `/` answers like OpenSearch, `/compact` is exact JSON, `/missing`
/// an ES 404, `/big` a streamed MiB, anything else echoes the request it got.
struct FakeCluster {
    url: String,
    hits: Arc<AtomicUsize>,
}

impl FakeCluster {
    async fn start() -> FakeCluster {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = Router::new().fallback(move |req: Request| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                answer(req).await
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeCluster { url, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn reply(status: u16, content_type: &str, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

async fn answer(req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    const OS_JSON: &str = "application/json; charset=UTF-8";
    match parts.uri.path() {
        "/" => reply(
            200,
            OS_JSON,
            "{\n  \"name\" : \"fake-1\",\n  \"version\" : {\n    \"distribution\" : \"opensearch\"\n  }\n}\n",
        ),
        "/compact" => reply(200, "application/json", r#"{"a":1,"b":{"c":2}}"#),
        "/missing" => reply(
            404,
            OS_JSON,
            r#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [missing]"}],"type":"index_not_found_exception","reason":"no such index [missing]"},"status":404}"#,
        ),
        "/big" => {
            let chunks = (0..BIG / 65536).map(|i| Ok::<_, std::io::Error>(Bytes::from(vec![b'a' + i as u8 % 26; 65536])));
            reply(200, "text/plain", Body::from_stream(futures_util::stream::iter(chunks)))
        }
        _ => {
            let headers: serde_json::Map<String, Value> = parts
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("?"))))
                .collect();
            let echo = json!({
                "method": parts.method.as_str(),
                "uri": parts.uri.to_string(),
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            });
            let mut r = reply(200, OS_JSON, echo.to_string());
            r.headers_mut().insert("x-node", "fake-1".parse().unwrap());
            r
        }
    }
}

struct Gw {
    app: Router,
    upstream: Upstream,
}

impl Drive for Gw {
    fn router(&self) -> &Router {
        &self.app
    }
}

impl Gw {
    fn new(urls: &str) -> Gw {
        Gw::with_limits(urls, Limits::default())
    }

    fn with_limits(urls: &str, limits: Limits) -> Gw {
        let mut cfg = UpstreamConfig::from_urls(urls).unwrap();
        cfg.health.interval = std::time::Duration::ZERO;
        let upstream = Upstream::new(cfg).unwrap();
        Gw {
            app: gateway::app(upstream.clone(), limits),
            upstream,
        }
    }
}

/// A port nothing listens on (bound, then closed).
async fn dead_url() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

#[tokio::test]
async fn requests_pass_through_unchanged() {
    let fake = FakeCluster::start().await;
    let gw = Gw::new(&fake.url);
    // odd spacing, a query string with pretty and filter_path: all of it goes up as is
    let body = "{ \"query\" :  {\"match_all\":{}} }\n";
    let r = gw
        .call(
            "POST",
            "/idx/_search?pretty&filter_path=hits.hits._id&q=a%20b",
            &[
                ("content-type", "application/json"),
                ("x-opaque-id", "req-7"),
                ("authorization", "Basic dTpw"),
            ],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let echo = r.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(
        echo["uri"],
        "/idx/_search?pretty&filter_path=hits.hits._id&q=a%20b"
    );
    assert_eq!(echo["body"], body);
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["headers"]["x-opaque-id"], "req-7");
    assert_eq!(echo["headers"]["authorization"], "Basic dTpw");
    // the node's headers come back, its content type too; the opaque id is echoed
    assert_eq!(r.header("x-node"), "fake-1");
    assert_eq!(r.header("content-type"), "application/json; charset=UTF-8");
    assert_eq!(r.header("x-opaque-id"), "req-7");
    // the response is not re-rendered: the bytes are the node's, not pretty-printed
    // nor filtered again (the node applied pretty/filter_path itself)
    assert!(!r.text().contains('\n'), "{}", r.text());
    assert_eq!(fake.hits(), 1);
}

#[tokio::test]
async fn answers_are_the_nodes_bytes() {
    let fake = FakeCluster::start().await;
    let gw = Gw::new(&fake.url);
    // exactly `application/json` (what searchgate's own answers carry), with the
    // parameters the embedded mode would apply: still the node's bytes
    let r = gw.get("/compact?pretty&filter_path=a").await;
    assert_eq!(r.text(), r#"{"a":1,"b":{"c":2}}"#);
    // GET / is the cluster's
    let r = gw.get("/").await;
    assert_eq!(r.json()["version"]["distribution"], "opensearch");
    assert!(r.text().starts_with("{\n  \"name\" : \"fake-1\""));
    // a node's error passes through with its status and body, not re-rendered
    let r = gw.get("/missing?pretty").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["type"], "index_not_found_exception");
    assert!(!r.text().contains('\n'));
    // HEAD: the status, no body
    let r = gw.call("HEAD", "/", &[], Body::empty()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn large_answers_stream_through_whole() {
    let fake = FakeCluster::start().await;
    let gw = Gw::new(&fake.url);
    let r = gw.get("/big").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.len(), BIG);
    assert!(r.body[..65536].iter().all(|&b| b == b'a'));
    assert!(r.body[BIG - 65536..].iter().all(|&b| b == b'p'));
}

#[tokio::test]
async fn vendor_media_types_are_handled() {
    let fake = FakeCluster::start().await;
    let gw = Gw::new(&fake.url);
    let mt = "application/vnd.elasticsearch+json; compatible-with=8";
    let r = gw
        .call(
            "PUT",
            "/v/_doc/1",
            &[("content-type", mt), ("accept", mt)],
            r#"{"a":1}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // plain types go up (OpenSearch refuses the vendor ones) ...
    let echo = r.json();
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["headers"]["accept"], "application/json");
    // ... and the vendor type comes back
    assert_eq!(
        r.header("content-type"),
        "application/vnd.elasticsearch+json;compatible-with=8"
    );
    // a version searchgate does not speak is refused here, not forwarded
    let bad = "application/vnd.elasticsearch+json; compatible-with=5";
    let r = gw
        .call("GET", "/x", &[("accept", bad)], Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["type"], "media_type_header_exception");
    assert_eq!(fake.hits(), 1);
}

#[tokio::test]
async fn body_limit_applies_before_forwarding() {
    let fake = FakeCluster::start().await;
    let gw = Gw::with_limits(
        &fake.url,
        Limits {
            max_content_length: 1024,
            ..Limits::default()
        },
    );
    let big = format!("{{\"t\":\"{}\"}}", "x".repeat(4096));
    let json_ct = [("content-type", "application/json")];
    let r = gw.call("PUT", "/big/_doc/1", &json_ct, big.clone()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let b = r.json();
    assert_eq!(b["status"], 413);
    assert_eq!(b["error"]["type"], "content_too_long_exception");
    // chunked: caught while reading
    let chunks: Vec<Result<Bytes, std::io::Error>> = big
        .as_bytes()
        .chunks(100)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let r = gw
        .call(
            "PUT",
            "/big/_doc/1",
            &json_ct,
            Body::from_stream(futures_util::stream::iter(chunks)),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(fake.hits(), 0, "nothing over the limit was forwarded");
    let r = gw
        .call("PUT", "/small/_doc/1", &json_ct, r#"{"t":1}"#)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(fake.hits(), 1);
}

#[tokio::test]
async fn unreachable_cluster_is_an_es_error_naming_node_and_cause() {
    let dead = dead_url().await;
    let gw = Gw::new(&dead);
    let r = gw.get("/idx/_search").await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text());
    let b = r.json();
    assert_eq!(b["status"], 502);
    assert_eq!(b["error"]["type"], "connect_exception");
    assert_eq!(b["error"]["node"], dead.as_str());
    assert!(
        b["error"]["cause"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{b}"
    );
    assert_eq!(b["error"]["root_cause"][0]["type"], "connect_exception");
    assert_eq!(r.header("content-type"), "application/json");
    // answered locally whatever the cluster's state
    let r = gw.get("/_searchgate/health").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"status": "ok"}));
    let nodes = gw.get("/_searchgate/nodes").await.json();
    assert_eq!(nodes["nodes"][0]["url"], dead.as_str());
    assert_eq!(nodes["nodes"][0]["state"], "dead");
    assert_eq!(nodes["failed"], 1);
}

#[tokio::test]
async fn local_routes_render_like_searchgate() {
    let fake = FakeCluster::start().await;
    let gw = Gw::new(&fake.url);
    let r = gw.get("/_searchgate/nodes?pretty").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text().starts_with("{\n  \"cluster\" : \"upstream\""),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["balancer"], "p2c_peak_ewma");
    assert_eq!(r.json()["nodes"][0]["url"], fake.url.as_str());
    let r = gw.get("/_searchgate/nodes?filter_path=nodes.url").await;
    assert_eq!(r.json(), json!({"nodes": [{"url": fake.url}]}));
    // a wrong method is ES's 405 with Allow; an unknown parameter ES's 400
    let r = gw
        .call("POST", "/_searchgate/nodes", &[], Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), "GET,HEAD");
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .starts_with("Incorrect HTTP method for uri [/_searchgate/nodes]"));
    let r = gw.get("/_searchgate/nodes?bogus=1").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(fake.hits(), 0, "none of these was forwarded");
    assert_eq!(gw.upstream.nodes_view()["requests"], 0);
}

#[tokio::test]
async fn dot_segments_are_refused() {
    let fake = FakeCluster::start().await;
    let gw = Gw::new(&fake.url);
    let r = gw
        .call("DELETE", "/idx/_doc/%2E%2E", &[], Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["type"], "illegal_argument_exception");
    assert_eq!(fake.hits(), 0);
}

fn settings(urls: &str, allow: bool) -> GatewaySettings {
    let mut cluster = UpstreamConfig::from_urls(urls).unwrap();
    cluster.health.interval = std::time::Duration::ZERO;
    GatewaySettings {
        cluster,
        allow_unavailable_at_start: allow,
    }
}

#[tokio::test]
async fn start_up_needs_a_living_node_unless_allowed() {
    let dead = dead_url().await;
    let e = build_gateway(&settings(&dead, false)).await.unwrap_err();
    assert!(matches!(e, ServeError::Unavailable(_)));
    let msg = e.to_string();
    assert!(
        msg.contains(&dead) && msg.contains("connection refused"),
        "{msg}"
    );
    assert!(msg.contains("--allow-unavailable-at-start"), "{msg}");
    build_gateway(&settings(&dead, true)).await.unwrap();
    // one living node of two is enough
    let fake = FakeCluster::start().await;
    let up = build_gateway(&settings(&format!("{dead},{}", fake.url), false))
        .await
        .unwrap();
    assert_eq!(up.node_urls().len(), 2);
}
