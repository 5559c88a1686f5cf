//! The gateway in front of a real three-node OpenSearch 2.19.6 cluster started by
//! `scripts/opensearch` (once for this test binary, under its own name and ports),
//! with the fault proxy between the gateway and the nodes where a fault is needed.
//!
//! One `#[test]` runs the scenarios in order on the one cluster (a kill -9 in one
//! scenario must not land in the middle of another's measurement), reports each,
//! and stops the cluster at the end. Skipped, with a message, without Java or Maven.

mod support;

use bytes::Bytes;
use http::{HeaderMap, Method};
use searchgate_upstream::{BalancerKind, ForwardRequest, RequestKind, Upstream, UpstreamConfig};
use sg_faultproxy::{FaultProxy, Mode};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{call, req, Cluster};
use tokio::time::Instant;

const INDEX: &str = "sg-docs";
const DOCS: usize = 300;

type Scenario = fn(Arc<Cluster>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

#[test]
fn gateway_against_a_real_three_node_cluster() {
    if let Some(why) = support::opensearch_unavailable() {
        eprintln!("SKIPPED gateway_against_a_real_three_node_cluster: {why}");
        return;
    }
    let t0 = Instant::now();
    let cluster = Arc::new(Cluster::start("sg-upstream-test", 3, 9460, 9560));
    eprintln!(
        "cluster up in {:.1}s: {:?}",
        t0.elapsed().as_secs_f64(),
        cluster.urls
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let scenarios: Vec<(&str, Scenario)> = vec![
        ("pass_through", |c| Box::pin(pass_through(c))),
        ("sniffing", |c| Box::pin(sniffing(c))),
        ("write_never_sent_is_retried", |c| {
            Box::pin(write_never_sent_is_retried(c))
        }),
        ("peak_ewma_avoids_a_slow_node", |c| {
            Box::pin(peak_ewma_avoids_a_slow_node(c))
        }),
        ("one_node_answering_503", |c| {
            Box::pin(one_node_answering_503(c))
        }),
        ("resets_and_black_hole", |c| {
            Box::pin(resets_and_black_hole(c))
        }),
        ("kill_node_under_load", |c| {
            Box::pin(kill_node_under_load(c))
        }),
    ];
    // SEARCHGATE_UPSTREAM_SCENARIOS=a,b runs only those (pass_through creates the index)
    let only = std::env::var("SEARCHGATE_UPSTREAM_SCENARIOS").ok();
    let mut failed = Vec::new();
    for (name, scenario) in scenarios {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|s| s == name))
        {
            continue;
        }
        let t = Instant::now();
        let result = rt.block_on(rt.spawn(scenario(cluster.clone())));
        match result {
            Ok(()) => eprintln!("scenario {name}: ok ({:.1}s)", t.elapsed().as_secs_f64()),
            Err(e) => {
                eprintln!("scenario {name}: FAILED: {e}");
                failed.push(name);
            }
        }
    }
    drop(rt);
    drop(cluster); // stops the nodes
    assert!(failed.is_empty(), "failed scenarios: {failed:?}");
}

fn gateway(urls: &[String], tune: impl FnOnce(&mut UpstreamConfig)) -> Upstream {
    let mut config = UpstreamConfig::from_urls(&urls.join(",")).unwrap();
    config.name = "test".into();
    config.seed = Some(11);
    tune(&mut config);
    Upstream::new(config).unwrap()
}

fn search(i: u64) -> ForwardRequest {
    let body = format!(
        r#"{{"query":{{"match":{{"title":"doc {}"}}}},"size":5}}"#,
        i % 50
    );
    req(Method::POST, &format!("/{INDEX}/_search"), &body)
}

async fn direct(url: &str, path: &str) -> Bytes {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
        .get(format!("{url}{path}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
}

// === scenarios ===

async fn pass_through(c: Arc<Cluster>) {
    let gw = gateway(&c.urls, |_| {});
    // a cluster kept from an earlier run (SEARCHGATE_KEEP_OPENSEARCH=1) has the index
    let _ = call(&gw, req(Method::DELETE, &format!("/{INDEX}"), ""))
        .await
        .unwrap();
    let (s, b) = call(
        &gw,
        req(
            Method::PUT,
            &format!("/{INDEX}"),
            r#"{"settings":{"number_of_shards":1,"number_of_replicas":2},
                "mappings":{"properties":{"title":{"type":"text"},"n":{"type":"long"}}}}"#,
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        (s, &b["acknowledged"]),
        (200, &serde_json::json!(true)),
        "{b}"
    );

    // a single document, with the headers of elasticsearch-py 8
    let r = ForwardRequest::new(
        Method::PUT,
        format!("/{INDEX}/_doc/1?refresh=true"),
        support::vendor_headers(false),
        Bytes::from_static(br#"{"title":"doc one","n":1}"#),
    );
    assert_eq!(r.kind, RequestKind::IdempotentWrite);
    let resp = gw.forward(r).await.unwrap();
    assert_eq!(resp.status, 201);
    assert_eq!(
        resp.headers["content-type"],
        "application/vnd.elasticsearch+json;compatible-with=8"
    );
    let body: serde_json::Value =
        serde_json::from_slice(&resp.body.collect().await.unwrap()).unwrap();
    assert_eq!(body["result"], "created");

    // bulk, as x-ndjson with the vendor type
    let mut ndjson = String::new();
    for i in 2..=DOCS {
        ndjson.push_str(&format!(
            "{{\"index\":{{\"_id\":\"{i}\"}}}}\n{{\"title\":\"doc {i}\",\"n\":{i}}}\n"
        ));
    }
    let resp = gw
        .forward(ForwardRequest::new(
            Method::POST,
            format!("/{INDEX}/_bulk?refresh=true"),
            support::vendor_headers(true),
            Bytes::from(ndjson),
        ))
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    let body: serde_json::Value =
        serde_json::from_slice(&resp.body.collect().await.unwrap()).unwrap();
    assert_eq!(body["errors"], false);
    assert_eq!(body["items"].as_array().unwrap().len(), DOCS - 1);

    let (s, b) = call(
        &gw,
        req(
            Method::GET,
            "/_cluster/health?wait_for_status=green&timeout=60s",
            "",
        ),
    )
    .await
    .unwrap();
    assert_eq!((s, b["status"].as_str()), (200, Some("green")), "{b}");

    let (s, b) = call(
        &gw,
        req(
            Method::POST,
            &format!("/{INDEX}/_search"),
            r#"{"query":{"match":{"title":"doc"}},"size":1}"#,
        ),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(b["hits"]["total"]["value"], DOCS as u64);
    let (s, b) = call(&gw, req(Method::GET, &format!("/{INDEX}/_count"), ""))
        .await
        .unwrap();
    assert_eq!((s, b["count"].as_u64()), (200, Some(DOCS as u64)));

    // byte for byte: the same bytes as straight from a node
    for path in [
        format!("/{INDEX}/_doc/1"),
        format!("/{INDEX}/_search?q=title:doc&size=0&filter_path=hits.total"),
    ] {
        let via = gw
            .forward(req(Method::GET, &path, ""))
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap();
        assert_eq!(via, direct(&c.urls[0], &path).await, "{path}");
    }

    // HEAD, 404s and errors pass through as answers, not gateway errors
    let resp = gw
        .forward(req(Method::HEAD, &format!("/{INDEX}"), ""))
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert!(resp.body.collect().await.unwrap().is_empty());
    let (s, b) = call(&gw, req(Method::GET, &format!("/{INDEX}/_doc/nope"), ""))
        .await
        .unwrap();
    assert_eq!((s, &b["found"]), (404, &serde_json::json!(false)));
    let (s, b) = call(&gw, req(Method::GET, "/nope/_search", ""))
        .await
        .unwrap();
    assert_eq!(
        (s, b["error"]["type"].as_str()),
        (404, Some("index_not_found_exception"))
    );
    let (s, b) = call(
        &gw,
        req(
            Method::POST,
            &format!("/{INDEX}/_search"),
            r#"{"query":{"nope":{}}}"#,
        ),
    )
    .await
    .unwrap();
    assert_eq!(s, 400, "{b}");

    // text output
    let resp = gw
        .forward(req(
            Method::GET,
            &format!("/_cat/indices/{INDEX}?v&h=index,docs.count"),
            "",
        ))
        .await
        .unwrap();
    assert!(resp.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(resp.body.collect().await.unwrap().to_vec()).unwrap();
    let docs = DOCS.to_string();
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().eq([INDEX, docs.as_str()])),
        "{text}"
    );

    // gzip off (the default): a client that accepts gzip gets the node's compressed
    // answer as it is; gzip on: the gateway asks for it and decodes, the body is plain
    // JSON with its length set
    let search = || {
        let mut h = HeaderMap::new();
        h.insert("accept-encoding", "gzip".parse().unwrap());
        ForwardRequest::new(
            Method::GET,
            format!("/{INDEX}/_search?size=50"),
            h,
            Bytes::new(),
        )
    };
    let resp = gw.forward(search()).await.unwrap();
    assert_eq!(resp.headers["content-encoding"], "gzip");
    let compressed = resp.body.collect().await.unwrap();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&compressed[..]),
        &mut plain,
    )
    .unwrap();
    assert!(serde_json::from_slice::<serde_json::Value>(&plain).is_ok());
    let gzip_gw = gateway(&c.urls, |cfg| cfg.gzip = true);
    let resp = gzip_gw.forward(search()).await.unwrap();
    assert!(resp.headers.get("content-encoding").is_none());
    let len: usize = resp.headers["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = resp.body.collect().await.unwrap();
    assert_eq!(len, body.len());
    assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());

    let view = gw.nodes_view();
    assert_eq!(view["balancer"], "p2c_peak_ewma");
    for n in view["nodes"].as_array().unwrap() {
        assert_eq!(n["state"], "alive", "{n}");
        assert_eq!(n["in_flight"], 0, "{n}");
    }
}

async fn sniffing(c: Arc<Cluster>) {
    let gw = gateway(&c.urls[..1], |cfg| cfg.sniff.enabled = true);
    let found = gw.sniff().await.unwrap();
    assert_eq!(found, c.urls, "sniffed");
    let mut urls = gw.node_urls();
    urls.sort();
    assert_eq!(urls, c.urls);
    let (s, _) = call(&gw, search(1)).await.unwrap();
    assert_eq!(s, 200);
}

async fn write_never_sent_is_retried(c: Arc<Cluster>) {
    let closed = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    // round robin starts with the closed port; no health checks to mark it dead first
    let gw = gateway(&[closed.clone(), c.urls[0].clone()], |cfg| {
        cfg.balancer = BalancerKind::RoundRobin;
        cfg.health.interval = Duration::ZERO;
    });
    let r = req(
        Method::POST,
        &format!("/{INDEX}/_doc"),
        r#"{"title":"auto id"}"#,
    );
    assert_eq!(r.kind, RequestKind::Write);
    let resp = gw.forward(r).await.unwrap();
    assert_eq!(
        (resp.status.as_u16(), resp.attempts),
        (201, 2),
        "connect error: the write never left"
    );
    assert_eq!(support::node_view(&gw, &closed)["state"], "dead");

    // a write that reached a node that then reset the connection is not retried
    let proxy = FaultProxy::start(c.addr(1)).await;
    let gw = gateway(&[proxy.url(), c.urls[2].clone()], |cfg| {
        cfg.balancer = BalancerKind::RoundRobin;
        cfg.health.interval = Duration::ZERO;
    });
    // round robin: the proxy, the node, then the proxy again for the write; the
    // first request leaves a kept-alive connection to the proxy
    for _ in 0..2 {
        let (s, _) = call(&gw, req(Method::GET, "/", "")).await.unwrap();
        assert_eq!(s, 200);
    }
    proxy.set_mode(Mode::Reset);
    let e = gw
        .forward(req(
            Method::POST,
            &format!("/{INDEX}/_doc"),
            r#"{"title":"maybe sent"}"#,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.status, 502, "{e:?}");
    assert_eq!(e.extra["node"], proxy.url().as_str());
    eprintln!("write cut after it left: {}", e.to_body());
}

#[derive(Debug)]
struct Measured {
    slow_share: f64,
    counts: Vec<u64>,
    p50_ms: f64,
    p99_ms: f64,
}

/// Three nodes through proxies, the third +50 ms; `n` searches at concurrency 2
/// (more would saturate the 2-core machine and measure its CPU queue, not the node).
async fn run_with_slow_node(c: &Cluster, balancer: BalancerKind, n: u64) -> Measured {
    let mut proxies = Vec::new();
    for i in 0..3 {
        proxies.push(FaultProxy::start(c.addr(i)).await);
    }
    proxies[2].set_mode(Mode::Latency(Duration::from_millis(50)));
    let urls: Vec<String> = proxies.iter().map(|p| p.url()).collect();
    let gw = gateway(&urls, |cfg| cfg.balancer = balancer);
    // warm up connections and estimates
    support::load(gw.clone(), 4, 60, Arc::new(AtomicBool::new(false)), search).await;
    let before: Vec<u64> = support::requests_by_node(&gw).iter().map(|x| x.1).collect();
    let mut lat = Vec::new();
    let stats = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    let issued = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for _ in 0..2 {
        let (gw, stats, issued) = (gw.clone(), stats.clone(), issued.clone());
        tasks.push(tokio::spawn(async move {
            while issued.fetch_add(1, Ordering::Relaxed) < n {
                let t = Instant::now();
                let i = issued.load(Ordering::Relaxed);
                let (s, _) = call(&gw, search(i)).await.unwrap();
                assert_eq!(s, 200);
                stats.lock().push(t.elapsed());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    lat.extend(stats.lock().iter().copied());
    lat.sort();
    let after: Vec<u64> = support::requests_by_node(&gw).iter().map(|x| x.1).collect();
    let counts: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    let total: u64 = counts.iter().sum();
    let pct =
        |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    Measured {
        slow_share: counts[2] as f64 / total as f64,
        counts,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    }
}

async fn peak_ewma_avoids_a_slow_node(c: Arc<Cluster>) {
    // warm the nodes up (JIT, caches) so that the first balancer measured is not penalised
    let warm = gateway(&c.urls, |_| {});
    support::load(warm, 4, 400, Arc::new(AtomicBool::new(false)), search).await;
    let n = 800;
    let rr = run_with_slow_node(&c, BalancerKind::RoundRobin, n).await;
    let p2c = run_with_slow_node(&c, BalancerKind::P2cPeakEwma, n).await;
    let lo = run_with_slow_node(&c, BalancerKind::LeastOutstanding, n).await;
    eprintln!("one node +50 ms, {n} searches at concurrency 2:");
    for (name, m) in [
        ("p2c_peak_ewma", &p2c),
        ("round_robin", &rr),
        ("least_outstanding", &lo),
    ] {
        eprintln!(
            "  {name:18} requests per node {:?} (slow node {:.1} %), p50 {:.1} ms, p99 {:.1} ms",
            m.counts,
            m.slow_share * 100.0,
            m.p50_ms,
            m.p99_ms
        );
    }
    assert!(
        rr.slow_share > 0.3,
        "round robin is blind to latency: {rr:?}"
    );
    // p2c still sends the slow node some load when the fast ones queue (cost is
    // latency × (outstanding + 1)), but measurably less: under half of round robin's
    assert!(
        p2c.slow_share < rr.slow_share / 2.0,
        "peak-EWMA should avoid the slow node: {p2c:?} vs {rr:?}"
    );
}

async fn one_node_answering_503(c: Arc<Cluster>) {
    let mut proxies = Vec::new();
    for i in 0..3 {
        proxies.push(FaultProxy::start(c.addr(i)).await);
    }
    proxies[0].set_mode(Mode::Status503);
    let urls: Vec<String> = proxies.iter().map(|p| p.url()).collect();
    let gw = gateway(&urls, |cfg| cfg.balancer = BalancerKind::RoundRobin);
    let n = 400;
    let t0 = Instant::now();
    let stats = support::load(gw.clone(), 4, n, Arc::new(AtomicBool::new(false)), search).await;
    let elapsed = t0.elapsed();
    let view = gw.nodes_view();
    let attempts: u64 = support::requests_by_node(&gw).iter().map(|x| x.1).sum();
    let cfg = gw.config();
    let bound = n as f64 * (1.0 + cfg.retry.budget_ratio)
        + cfg.retry.budget_min_per_sec as f64 * (elapsed + cfg.retry.budget_window).as_secs_f64();
    eprintln!(
        "one node 503: {n} searches, {} failed, {attempts} upstream attempts (bound {bound:.0}), \
         {} answered by the 503 node, retries {}; 503 node: {}",
        stats.failed(),
        proxies[0].answered_503(),
        view["retries"],
        support::node_view(&gw, &urls[0])
    );
    assert_eq!(stats.failed(), 0, "{:?}", stats.errors.lock().first());
    assert!((attempts as f64) <= bound);
    assert_eq!(support::node_view(&gw, &urls[0])["state"], "dead");
}

async fn resets_and_black_hole(c: Arc<Cluster>) {
    let mut proxies = Vec::new();
    for i in 0..3 {
        proxies.push(FaultProxy::start(c.addr(i)).await);
    }
    let urls: Vec<String> = proxies.iter().map(|p| p.url()).collect();
    let gw = gateway(&urls, |cfg| {
        cfg.balancer = BalancerKind::RoundRobin;
        cfg.timeouts.read = Duration::from_secs(1);
        cfg.timeouts.total = Duration::from_secs(10);
        cfg.health.interval = Duration::from_secs(1);
    });
    support::load(gw.clone(), 4, 30, Arc::new(AtomicBool::new(false)), search).await;

    proxies[1].set_mode(Mode::Reset);
    let stats = support::load(gw.clone(), 4, 200, Arc::new(AtomicBool::new(false)), search).await;
    eprintln!(
        "resets: 200 searches, {} failed; node: {}",
        stats.failed(),
        support::node_view(&gw, &urls[1])
    );
    assert_eq!(stats.failed(), 0, "{:?}", stats.errors.lock().first());
    assert!(proxies[1].counters.resets.load(Ordering::Relaxed) > 0);

    proxies[1].set_mode(Mode::Pass);
    support::wait_for(
        "node 2 alive after the resets",
        Duration::from_secs(40),
        || support::node_view(&gw, &urls[1])["state"] == "alive",
    )
    .await;
    proxies[1].set_mode(Mode::BlackHole);
    let t0 = Instant::now();
    let stats = support::load(gw.clone(), 4, 100, Arc::new(AtomicBool::new(false)), search).await;
    eprintln!(
        "black hole: 100 searches in {:?}, {} failed; node: {}",
        t0.elapsed(),
        stats.failed(),
        support::node_view(&gw, &urls[1])
    );
    assert_eq!(stats.failed(), 0, "{:?}", stats.errors.lock().first());
    assert_eq!(support::node_view(&gw, &urls[1])["state"], "dead");

    // back to normal: the node is checked and resurrected
    proxies[1].set_mode(Mode::Pass);
    support::wait_for(
        "node 2 alive after the black hole",
        Duration::from_secs(40),
        || support::node_view(&gw, &urls[1])["state"] == "alive",
    )
    .await;
}

async fn kill_node_under_load(c: Arc<Cluster>) {
    let gw = gateway(&c.urls, |cfg| cfg.health.interval = Duration::from_secs(1));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(support::load(gw.clone(), 4, u64::MAX, stop.clone(), search));
    tokio::time::sleep(Duration::from_secs(2)).await;

    let victim = c.urls[1].clone();
    let t_kill = Instant::now();
    let c2 = c.clone();
    tokio::task::spawn_blocking(move || c2.kill_node(2))
        .await
        .unwrap();
    support::wait_for(
        "the killed node marked dead",
        Duration::from_secs(10),
        || support::node_view(&gw, &victim)["state"] == "dead",
    )
    .await;
    eprintln!(
        "killed node 2: dead in the gateway after {:?}",
        t_kill.elapsed()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;

    let c2 = c.clone();
    let t_start = Instant::now();
    tokio::task::spawn_blocking(move || c2.start_node(2))
        .await
        .unwrap();
    eprintln!(
        "node 2 restarted and cluster green after {:?}",
        t_start.elapsed()
    );
    support::wait_for("the restarted node alive", Duration::from_secs(30), || {
        support::node_view(&gw, &victim)["state"] == "alive"
    })
    .await;
    let before = support::node_view(&gw, &victim)["requests"]
        .as_u64()
        .unwrap();
    support::wait_for(
        "the restarted node back in rotation",
        Duration::from_secs(30),
        || {
            support::node_view(&gw, &victim)["requests"]
                .as_u64()
                .unwrap()
                > before + 20
        },
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let stats = load.await.unwrap();
    eprintln!(
        "kill -9 under load: {} searches ok, {} failed, {} with shard failures, retries {}; node 2: {}",
        stats.ok(),
        stats.failed(),
        stats.shard_failures.load(Ordering::Relaxed),
        gw.nodes_view()["retries"],
        support::node_view(&gw, &victim)
    );
    assert_eq!(
        stats.failed(),
        0,
        "failed searches: {:?}",
        &stats.errors.lock()[..stats.errors.lock().len().min(3)]
    );
    assert!(stats.ok() > 100);
}
