//! Test support: real OpenSearch nodes through `scripts/opensearch` and a small load
//! driver (the fault proxy is the `sg-faultproxy` crate).

#![allow(dead_code)]

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use searchgate_upstream::{ForwardRequest, Upstream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Why real OpenSearch cannot run here, if it cannot.
pub fn opensearch_unavailable() -> Option<String> {
    if std::env::var("SEARCHGATE_SKIP_OPENSEARCH").is_ok_and(|v| v == "1") {
        return Some("SEARCHGATE_SKIP_OPENSEARCH=1".into());
    }
    for tool in ["java", "mvn"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output();
        if !found.is_ok_and(|o| o.status.success()) {
            return Some(format!(
                "{tool} not found (needed to build and run the OpenSearch launcher)"
            ));
        }
    }
    None
}

/// A cluster started by `scripts/opensearch` under its own name and ports, stopped
/// on drop.
pub struct Cluster {
    pub name: String,
    pub urls: Vec<String>,
}

impl Cluster {
    pub fn start(name: &str, nodes: usize, http_port: u16, transport_port: u16) -> Cluster {
        let out = Command::new(repo_root().join("scripts/opensearch"))
            .args(["start", "--name", name, "--nodes", &nodes.to_string()])
            .args([
                "--http-port",
                &http_port.to_string(),
                "--transport-port",
                &transport_port.to_string(),
            ])
            .args(["--heap", "512m", "--timeout", "240"])
            .output()
            .expect("run scripts/opensearch");
        if !out.status.success() {
            panic!(
                "scripts/opensearch start failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let urls: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(urls.len(), nodes, "urls: {urls:?}");
        Cluster {
            name: name.into(),
            urls,
        }
    }

    fn script(&self, args: &[&str]) {
        let out = Command::new(repo_root().join("scripts/opensearch"))
            .args(args)
            .args(["--name", &self.name])
            .output()
            .expect("run scripts/opensearch");
        if !out.status.success() {
            panic!(
                "scripts/opensearch {args:?} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// `kill -9` of node `n` (1-based).
    pub fn kill_node(&self, n: usize) {
        self.script(&["kill-node", &n.to_string()]);
    }

    /// Starts node `n` again and waits for green (blocking: run it in spawn_blocking).
    pub fn start_node(&self, n: usize) {
        self.script(&["start-node", &n.to_string(), "--timeout", "240"]);
    }

    pub fn addr(&self, i: usize) -> std::net::SocketAddr {
        self.urls[i].trim_start_matches("http://").parse().unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::env::var("SEARCHGATE_KEEP_OPENSEARCH").is_ok_and(|v| v == "1") {
            return;
        }
        let _ = Command::new(repo_root().join("scripts/opensearch"))
            .args(["stop", "--name", &self.name])
            .output();
    }
}

pub fn json_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h
}

/// The headers elasticsearch-py 8/9 sends.
pub fn vendor_headers(ndjson: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "accept",
        HeaderValue::from_static("application/vnd.elasticsearch+json; compatible-with=8"),
    );
    h.insert(
        "content-type",
        HeaderValue::from_static(if ndjson {
            "application/vnd.elasticsearch+x-ndjson; compatible-with=8"
        } else {
            "application/vnd.elasticsearch+json; compatible-with=8"
        }),
    );
    h
}

pub fn req(method: Method, path: &str, body: &str) -> ForwardRequest {
    ForwardRequest::new(method, path, json_headers(), Bytes::from(body.to_string()))
}

/// Forwards and reads the whole answer: (status, body as JSON or string).
pub async fn call(
    gw: &Upstream,
    r: ForwardRequest,
) -> Result<(u16, serde_json::Value), searchgate_core::Error> {
    let resp = gw.forward(r).await?;
    let status = resp.status.as_u16();
    let bytes = resp.body.collect().await?;
    let v = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
    });
    Ok((status, v))
}

#[derive(Debug, Default)]
pub struct LoadStats {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    pub shard_failures: AtomicU64,
    pub errors: parking_lot::Mutex<Vec<String>>,
}

impl LoadStats {
    pub fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// Runs `concurrency` loops of `make()` requests until `stop` is set or `max`
/// requests were made; a request fails on any error or non-2xx status.
pub async fn load(
    gw: Upstream,
    concurrency: usize,
    max: u64,
    stop: Arc<AtomicBool>,
    make: fn(u64) -> ForwardRequest,
) -> Arc<LoadStats> {
    let stats = Arc::new(LoadStats::default());
    let issued = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (gw, stats, issued, stop) = (gw.clone(), stats.clone(), issued.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                if i >= max || stop.load(Ordering::Relaxed) {
                    return;
                }
                match call(&gw, make(i)).await {
                    Ok((s, body)) if (200..300).contains(&s) => {
                        stats.ok.fetch_add(1, Ordering::Relaxed);
                        if body
                            .pointer("/_shards/failed")
                            .and_then(|v| v.as_u64())
                            .unwrap_or(0)
                            > 0
                        {
                            stats.shard_failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok((s, body)) => {
                        stats.failed.fetch_add(1, Ordering::Relaxed);
                        stats.errors.lock().push(format!("status {s}: {body}"));
                    }
                    Err(e) => {
                        stats.failed.fetch_add(1, Ordering::Relaxed);
                        stats.errors.lock().push(e.to_body().to_string());
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    stats
}

/// Requests per node URL, from the gateway's nodes view.
pub fn requests_by_node(gw: &Upstream) -> Vec<(String, u64)> {
    let v = gw.nodes_view();
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["url"].as_str().unwrap().to_string(),
                n["requests"].as_u64().unwrap(),
            )
        })
        .collect()
}

pub fn node_view(gw: &Upstream, url: &str) -> serde_json::Value {
    gw.nodes_view()["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["url"] == url)
        .cloned()
        .unwrap()
}

pub async fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
