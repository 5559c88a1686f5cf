//! `sg-loadgen`: the benchmark harness's HTTP load generator.
//!
//! * `run`  — replays a query set (JSONL: `{"id","kind","method","path","body"}`) round-robin
//!   over N keep-alive HTTP/1.1 connections, either closed-loop (every connection sends its
//!   next request as soon as the previous answer is read: maximum throughput) or open-loop
//!   at a fixed rate, where request `i` is *due* at `start + i/rate` and its latency is
//!   measured from that intended time, not from when a free connection finally sent it. A
//!   server that stalls therefore shows its stall in the percentiles (no coordinated
//!   omission, the wrk2 model). Latencies go into HDR histograms, overall and per kind.
//! * `bulk` — streams a prepared bulk NDJSON file (action line + source line per document)
//!   to `/{index}/_bulk` in batches with bounded concurrency and reports documents/s.
//!
//! Results are printed as a short summary on stderr and written as JSON (`--out`, or stdout).

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, Parser, Subcommand, ValueEnum};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Highest latency the histograms hold, in microseconds (larger values are clamped).
const MAX_LATENCY_US: u64 = 120_000_000;

#[derive(Parser)]
#[command(
    name = "sg-loadgen",
    version,
    about = "HTTP load generator of the searchgate benchmark harness"
)]
struct Cli {
    /// Worker threads of the tokio runtime (the generator shares the machine with the server).
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a query set against a server and measure throughput and latency.
    Run(RunArgs),
    /// Stream a bulk NDJSON file into an index and measure documents per second.
    Bulk(BulkArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum Mode {
    /// Every connection sends as soon as its previous answer is read (max throughput).
    Closed,
    /// Fixed offered rate; latency from the intended send time (no coordinated omission).
    Open,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Base URL of the server, e.g. http://127.0.0.1:9200
    #[arg(long)]
    url: String,
    /// Query file(s), JSONL with id, kind, method, path, body. Repeatable.
    #[arg(long = "queries", required = true)]
    queries: Vec<PathBuf>,
    /// Keep only these kinds (comma-separated).
    #[arg(long, value_delimiter = ',')]
    kinds: Vec<String>,
    /// Drop these kinds (comma-separated).
    #[arg(long, value_delimiter = ',')]
    exclude_kinds: Vec<String>,
    #[arg(long, value_enum, default_value_t = Mode::Closed)]
    mode: Mode,
    /// Keep-alive connections (closed loop: concurrency; open loop: most requests in flight).
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Measured duration in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Warm-up in seconds before measuring (same mode, results discarded).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Offered rate in requests/s (open loop only).
    #[arg(long)]
    rate: Option<f64>,
    /// Per-request timeout in seconds (counted as an error).
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Write the JSON result here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Free-form label copied into the result.
    #[arg(long)]
    label: Option<String>,
}

#[derive(Args, Debug)]
struct BulkArgs {
    #[arg(long)]
    url: String,
    /// Target index (requests go to /{index}/_bulk).
    #[arg(long)]
    index: String,
    /// Bulk NDJSON file: an action line and a source line per document.
    #[arg(long)]
    file: PathBuf,
    /// Documents per bulk request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Bulk requests in flight.
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Send only the first N documents.
    #[arg(long)]
    limit: Option<usize>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 300.0)]
    timeout: f64,
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = rt.block_on(async {
        match cli.command {
            Command::Run(args) => run_cmd(args).await,
            Command::Bulk(args) => bulk_cmd(args).await,
        }
    });
    if let Err(e) = result {
        eprintln!("sg-loadgen: error: {e}");
        std::process::exit(2);
    }
}

type Res<T> = Result<T, String>;

// ------------------------------------------------------------------ connections

struct Target {
    addr: SocketAddr,
    host: String,
    base_path: String,
}

fn parse_url(url: &str) -> Res<Target> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("only http:// URLs are supported: {url}"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let with_port = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {hostport}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {hostport}"))?;
    Ok(Target {
        addr,
        host: hostport.to_string(),
        base_path: path.to_string(),
    })
}

struct Conn {
    target: Arc<Target>,
    sender: Option<SendRequest<Full<Bytes>>>,
    reconnects: u64,
}

impl Conn {
    fn new(target: Arc<Target>) -> Self {
        Conn {
            target,
            sender: None,
            reconnects: 0,
        }
    }

    async fn connect(&mut self) -> Res<()> {
        let stream = TcpStream::connect(self.target.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.target.addr))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        self.sender = Some(sender);
        Ok(())
    }

    /// Sends one request and reads the whole answer: (status, body).
    async fn send(
        &mut self,
        method: &Method,
        path: &str,
        body: &Bytes,
        ctype: &str,
    ) -> Res<(u16, Bytes)> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            if self.sender.is_some() {
                self.reconnects += 1;
            }
            self.connect().await?;
        }
        let sender = self.sender.as_mut().expect("connected");
        if let Err(e) = sender.ready().await {
            self.sender = None;
            return Err(format!("connection: {e}"));
        }
        let mut req = Request::builder()
            .method(method.clone())
            .uri(format!("{}{}", self.target.base_path, path))
            .header(HOST, self.target.host.as_str());
        if !body.is_empty() {
            req = req.header(CONTENT_TYPE, ctype);
        }
        let req = req
            .body(Full::new(body.clone()))
            .map_err(|e| format!("request: {e}"))?;
        let resp = match sender.send_request(req).await {
            Ok(r) => r,
            Err(e) => {
                self.sender = None;
                return Err(format!("send: {e}"));
            }
        };
        let status = resp.status().as_u16();
        match resp.into_body().collect().await {
            Ok(b) => Ok((status, b.to_bytes())),
            Err(e) => {
                self.sender = None;
                Err(format!("body: {e}"))
            }
        }
    }
}

// ------------------------------------------------------------------ query sets

#[derive(Deserialize)]
struct QueryLine {
    id: String,
    kind: String,
    #[serde(default = "default_method")]
    method: String,
    path: String,
    #[serde(default)]
    body: Option<Value>,
}

fn default_method() -> String {
    "POST".into()
}

struct Query {
    kind: usize,
    method: Method,
    path: String,
    body: Bytes,
}

fn load_queries(args: &RunArgs) -> Res<(Vec<Query>, Vec<String>)> {
    let mut kinds: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for file in &args.queries {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let q: QueryLine = serde_json::from_str(line)
                .map_err(|e| format!("{}:{}: {e}", file.display(), n + 1))?;
            if !args.kinds.is_empty() && !args.kinds.contains(&q.kind) {
                continue;
            }
            if args.exclude_kinds.contains(&q.kind) {
                continue;
            }
            let kind = match kinds.iter().position(|k| *k == q.kind) {
                Some(i) => i,
                None => {
                    kinds.push(q.kind.clone());
                    kinds.len() - 1
                }
            };
            let method = Method::from_bytes(q.method.to_uppercase().as_bytes())
                .map_err(|_| format!("{}: bad method in query {}", file.display(), q.id))?;
            let body = match q.body {
                None | Some(Value::Null) => Bytes::new(),
                Some(v) => Bytes::from(serde_json::to_vec(&v).expect("json")),
            };
            out.push(Query {
                kind,
                method,
                path: q.path,
                body,
            });
        }
    }
    if out.is_empty() {
        return Err("no queries left after the kind filters".into());
    }
    Ok((out, kinds))
}

// ------------------------------------------------------------------ statistics

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("histogram bounds")
}

#[derive(Clone)]
struct KindStats {
    hist: Histogram<u64>,
    errors: u64,
    bytes: u64,
}

struct Stats {
    kinds: Vec<KindStats>,
    /// Open loop only: time from the actual send to the answer (what a closed-loop tool reports).
    service: Histogram<u64>,
    statuses: BTreeMap<String, u64>,
    error_samples: Vec<String>,
    reconnects: u64,
    dropped: u64,
}

impl Stats {
    fn new(nkinds: usize) -> Self {
        Stats {
            kinds: vec![
                KindStats {
                    hist: new_hist(),
                    errors: 0,
                    bytes: 0
                };
                nkinds
            ],
            service: new_hist(),
            statuses: BTreeMap::new(),
            error_samples: Vec::new(),
            reconnects: 0,
            dropped: 0,
        }
    }

    fn merge(&mut self, o: Stats) {
        for (a, b) in self.kinds.iter_mut().zip(o.kinds) {
            a.hist.add(&b.hist).expect("same bounds");
            a.errors += b.errors;
            a.bytes += b.bytes;
        }
        self.service.add(&o.service).expect("same bounds");
        for (k, v) in o.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        for s in o.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(s);
            }
        }
        self.reconnects += o.reconnects;
        self.dropped += o.dropped;
    }

    fn record(
        &mut self,
        kind: usize,
        outcome: &Res<(u16, Bytes)>,
        latency: Duration,
        service: Duration,
    ) {
        let k = &mut self.kinds[kind];
        match outcome {
            Ok((status, body)) if (200..300).contains(status) => {
                k.hist.saturating_record(latency.as_micros().max(1) as u64);
                k.bytes += body.len() as u64;
                self.service
                    .saturating_record(service.as_micros().max(1) as u64);
                *self.statuses.entry(status.to_string()).or_default() += 1;
            }
            Ok((status, body)) => {
                k.errors += 1;
                *self.statuses.entry(status.to_string()).or_default() += 1;
                if self.error_samples.len() < 5 {
                    let text = String::from_utf8_lossy(&body[..body.len().min(300)]).to_string();
                    self.error_samples.push(format!("{status}: {text}"));
                }
            }
            Err(e) => {
                k.errors += 1;
                *self.statuses.entry("transport_error".into()).or_default() += 1;
                if self.error_samples.len() < 5 {
                    self.error_samples.push(e.clone());
                }
            }
        }
    }
}

fn ms(us: u64) -> f64 {
    (us as f64) / 1000.0
}

fn hist_json(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return Value::Null;
    }
    json!({
        "p50": ms(h.value_at_quantile(0.50)),
        "p90": ms(h.value_at_quantile(0.90)),
        "p99": ms(h.value_at_quantile(0.99)),
        "p99_9": ms(h.value_at_quantile(0.999)),
        "max": ms(h.max()),
        "min": ms(h.min()),
        "mean": h.mean() / 1000.0,
    })
}

// ------------------------------------------------------------------ run

struct Phase {
    mode: Mode,
    duration: Duration,
    rate: f64,
    timeout: Duration,
}

async fn run_phase(
    target: Arc<Target>,
    queries: Arc<Vec<Query>>,
    nkinds: usize,
    connections: usize,
    phase: Phase,
) -> Res<(Stats, f64, u64)> {
    // Connect everything before the clock starts.
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut c = Conn::new(target.clone());
        c.connect().await?;
        conns.push(c);
    }
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(5);
    let end = start + phase.duration;
    let total: u64 = match phase.mode {
        Mode::Closed => u64::MAX,
        Mode::Open => (phase.rate * phase.duration.as_secs_f64()).ceil() as u64,
    };
    // An open loop that falls behind keeps sending its backlog for a while, then gives up
    // and counts what is left as dropped (reported, never silently lost).
    let hard_end = end + phase.duration * 2 + Duration::from_secs(10);
    let mut handles = Vec::with_capacity(connections);
    for mut conn in conns {
        let queries = queries.clone();
        let next = next.clone();
        let mode = phase.mode;
        let rate = phase.rate;
        let timeout = phase.timeout;
        handles.push(tokio::spawn(async move {
            let mut st = Stats::new(nkinds);
            tokio::time::sleep_until(start).await;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let intended = match mode {
                    Mode::Closed => {
                        if Instant::now() >= end {
                            break;
                        }
                        None
                    }
                    Mode::Open => {
                        if i >= total {
                            break;
                        }
                        let due = start + Duration::from_secs_f64(i as f64 / rate);
                        if Instant::now() >= hard_end {
                            st.dropped += 1;
                            continue;
                        }
                        tokio::time::sleep_until(due).await;
                        Some(due)
                    }
                };
                let q = &queries[(i % queries.len() as u64) as usize];
                let sent = Instant::now();
                let outcome = match tokio::time::timeout(
                    timeout,
                    conn.send(&q.method, &q.path, &q.body, "application/json"),
                )
                .await
                {
                    Ok(r) => r,
                    Err(_) => {
                        conn.sender = None;
                        Err(format!("timeout after {:?}", timeout))
                    }
                };
                let done = Instant::now();
                let latency = done - intended.unwrap_or(sent);
                st.record(q.kind, &outcome, latency, done - sent);
            }
            st.reconnects = conn.reconnects;
            st
        }));
    }
    let mut stats = Stats::new(nkinds);
    for h in handles {
        stats.merge(h.await.map_err(|e| format!("worker: {e}"))?);
    }
    let elapsed = (Instant::now() - start).as_secs_f64();
    let sent = next.load(Ordering::Relaxed).min(total);
    Ok((stats, elapsed, sent))
}

async fn run_cmd(args: RunArgs) -> Res<()> {
    let target = Arc::new(parse_url(&args.url)?);
    let (queries, kinds) = load_queries(&args)?;
    let queries = Arc::new(queries);
    let rate = match args.mode {
        Mode::Open => {
            let r = args.rate.ok_or("--mode open needs --rate")?;
            if r <= 0.0 {
                return Err("--rate must be positive".into());
            }
            r
        }
        Mode::Closed => 0.0,
    };
    let connections = args.connections.max(1);
    let timeout = Duration::from_secs_f64(args.timeout);
    if args.warmup > 0.0 {
        let phase = Phase {
            mode: args.mode,
            duration: Duration::from_secs_f64(args.warmup),
            rate,
            timeout,
        };
        let (w, _, _) = run_phase(
            target.clone(),
            queries.clone(),
            kinds.len(),
            connections,
            phase,
        )
        .await?;
        let werr: u64 = w.kinds.iter().map(|k| k.errors).sum();
        let wok: u64 = w.kinds.iter().map(|k| k.hist.len()).sum();
        eprintln!(
            "sg-loadgen: warm-up {:.1}s: {wok} ok, {werr} errors",
            args.warmup
        );
    }
    let phase = Phase {
        mode: args.mode,
        duration: Duration::from_secs_f64(args.duration),
        rate,
        timeout,
    };
    let (stats, elapsed, sent) =
        run_phase(target, queries.clone(), kinds.len(), connections, phase).await?;

    let mut all = new_hist();
    let mut per_kind = serde_json::Map::new();
    let (mut ok, mut errors, mut bytes) = (0u64, 0u64, 0u64);
    for (name, k) in kinds.iter().zip(&stats.kinds) {
        all.add(&k.hist).expect("same bounds");
        ok += k.hist.len();
        errors += k.errors;
        bytes += k.bytes;
        per_kind.insert(
            name.clone(),
            json!({
                "ok": k.hist.len(),
                "errors": k.errors,
                "qps": k.hist.len() as f64 / elapsed,
                "latency_ms": hist_json(&k.hist),
                "mean_response_bytes": if k.hist.is_empty() { 0 } else { k.bytes / k.hist.len() },
            }),
        );
    }
    let result = json!({
        "tool": "sg-loadgen",
        "label": args.label,
        "url": args.url,
        "mode": format!("{:?}", args.mode).to_lowercase(),
        "connections": connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "offered_rate": if args.mode == Mode::Open { json!(rate) } else { Value::Null },
        "queries": queries.len(),
        "query_files": args.queries.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "elapsed_s": elapsed,
        "requests": sent,
        "ok": ok,
        "errors": errors,
        "dropped": stats.dropped,
        "qps": ok as f64 / elapsed,
        "latency_ms": hist_json(&all),
        "latency_from": if args.mode == Mode::Open { "intended send time" } else { "actual send time" },
        "service_time_ms": if args.mode == Mode::Open { hist_json(&stats.service) } else { Value::Null },
        "response_bytes": bytes,
        "statuses": stats.statuses,
        "error_samples": stats.error_samples,
        "reconnects": stats.reconnects,
        "per_kind": per_kind,
    });
    let lat = &result["latency_ms"];
    eprintln!(
        "sg-loadgen: {} {} conns {:.1}s: {ok} ok, {errors} errors, {:.0} req/s, p50 {} p99 {} p99.9 {} max {} ms",
        result["mode"].as_str().unwrap_or(""),
        connections,
        elapsed,
        ok as f64 / elapsed,
        lat["p50"],
        lat["p99"],
        lat["p99_9"],
        lat["max"],
    );
    write_out(&args.out, &result)
}

fn write_out(out: &Option<PathBuf>, v: &Value) -> Res<()> {
    let text = serde_json::to_string_pretty(v).expect("json");
    match out {
        Some(p) => std::fs::write(p, text + "\n").map_err(|e| format!("{}: {e}", p.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

// ------------------------------------------------------------------ bulk

struct BulkTotals {
    docs: u64,
    failed_items: u64,
    http_errors: u64,
    retries: u64,
    samples: Vec<String>,
    hist: Histogram<u64>,
}

/// Counts failed items of a bulk answer; the common all-good answer is recognised without parsing.
fn failed_items(body: &[u8]) -> Res<(u64, Option<String>)> {
    let head = &body[..body.len().min(200)];
    if head.windows(15).any(|w| w == b"\"errors\":false")
        || head.windows(16).any(|w| w == b"\"errors\": false")
    {
        return Ok((0, None));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("bulk answer is not JSON: {e}"))?;
    if v["errors"] == Value::Bool(false) {
        return Ok((0, None));
    }
    let mut n = 0;
    let mut first = None;
    for item in v["items"].as_array().map(|a| a.as_slice()).unwrap_or(&[]) {
        if let Some(op) = item.as_object().and_then(|o| o.values().next()) {
            let status = op["status"].as_u64().unwrap_or(0);
            if !(200..300).contains(&status) {
                n += 1;
                if first.is_none() {
                    first = Some(op["error"].to_string());
                }
            }
        }
    }
    Ok((n, first))
}

async fn bulk_cmd(args: BulkArgs) -> Res<()> {
    let target = Arc::new(parse_url(&args.url)?);
    let data = Bytes::from(
        std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?,
    );
    // Split into batches of `batch` documents (2 lines each), as zero-copy slices.
    let mut batches: Vec<(Bytes, u64)> = Vec::new();
    let (mut start, mut lines, mut docs_total) = (0usize, 0usize, 0usize);
    let limit = args.limit.unwrap_or(usize::MAX);
    let per = args.batch.max(1) * 2;
    let mut pos = 0usize;
    while pos < data.len() && docs_total < limit {
        let nl = match data[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => pos + i + 1,
            None => data.len(),
        };
        pos = nl;
        lines += 1;
        if lines % 2 == 0 {
            docs_total += 1;
        }
        if lines == per || docs_total == limit {
            batches.push((data.slice(start..pos), (lines / 2) as u64));
            start = pos;
            lines = 0;
        }
    }
    if lines > 0 && docs_total < limit {
        batches.push((data.slice(start..pos), lines.div_ceil(2) as u64));
    }
    let total_bytes: usize = batches.iter().map(|b| b.0.len()).sum();
    let batches = Arc::new(batches);
    let path = Arc::new(format!("/{}/_bulk", args.index));
    let next = Arc::new(AtomicU64::new(0));
    let timeout = Duration::from_secs_f64(args.timeout);
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (batches, path, next, target) =
            (batches.clone(), path.clone(), next.clone(), target.clone());
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::new(target);
            let mut t = BulkTotals {
                docs: 0,
                failed_items: 0,
                http_errors: 0,
                retries: 0,
                samples: Vec::new(),
                hist: new_hist(),
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= batches.len() {
                    break;
                }
                let (body, n) = &batches[i];
                let mut attempt = 0;
                loop {
                    let s = Instant::now();
                    let r = tokio::time::timeout(
                        timeout,
                        conn.send(&Method::POST, &path, body, "application/x-ndjson"),
                    )
                    .await
                    .unwrap_or_else(|_| Err("timeout".into()));
                    t.hist
                        .saturating_record((Instant::now() - s).as_micros().max(1) as u64);
                    match r {
                        Ok((429, _)) | Ok((503, _)) if attempt < 10 => {
                            attempt += 1;
                            t.retries += 1;
                            tokio::time::sleep(Duration::from_millis(100 << attempt.min(5))).await;
                            continue;
                        }
                        Ok((status, resp)) if (200..300).contains(&status) => {
                            match failed_items(&resp) {
                                Ok((f, first)) => {
                                    t.docs += n - f;
                                    t.failed_items += f;
                                    if let Some(s) = first {
                                        if t.samples.len() < 3 {
                                            t.samples.push(s);
                                        }
                                    }
                                }
                                Err(e) => {
                                    t.http_errors += 1;
                                    t.samples.push(e);
                                }
                            }
                        }
                        Ok((status, resp)) => {
                            t.http_errors += 1;
                            if t.samples.len() < 3 {
                                t.samples.push(format!(
                                    "{status}: {}",
                                    String::from_utf8_lossy(&resp[..resp.len().min(300)])
                                ));
                            }
                        }
                        Err(e) => {
                            t.http_errors += 1;
                            if t.samples.len() < 3 {
                                t.samples.push(e);
                            }
                        }
                    }
                    break;
                }
            }
            t
        }));
    }
    let mut docs = 0;
    let mut failed = 0;
    let mut http_errors = 0;
    let mut retries = 0;
    let mut samples = Vec::new();
    let mut hist = new_hist();
    for h in handles {
        let t = h.await.map_err(|e| format!("worker: {e}"))?;
        docs += t.docs;
        failed += t.failed_items;
        http_errors += t.http_errors;
        retries += t.retries;
        samples.extend(t.samples);
        hist.add(&t.hist).expect("same bounds");
    }
    let elapsed = (Instant::now() - t0).as_secs_f64();
    let result = json!({
        "tool": "sg-loadgen bulk",
        "url": args.url,
        "index": args.index,
        "file": args.file.display().to_string(),
        "batch_docs": args.batch,
        "concurrency": args.concurrency,
        "requests": batches.len(),
        "docs_sent": docs_total,
        "docs_ok": docs,
        "failed_items": failed,
        "http_errors": http_errors,
        "retries": retries,
        "error_samples": samples,
        "bytes": total_bytes,
        "elapsed_s": elapsed,
        "docs_per_s": docs as f64 / elapsed,
        "mb_per_s": total_bytes as f64 / elapsed / 1e6,
        "request_latency_ms": hist_json(&hist),
    });
    eprintln!(
        "sg-loadgen: bulk {} docs into {} in {:.2}s: {:.0} docs/s, {} failed items, {} http errors",
        docs,
        args.index,
        elapsed,
        docs as f64 / elapsed,
        failed,
        http_errors
    );
    write_out(&args.out, &result)?;
    if failed > 0 || http_errors > 0 {
        return Err(format!(
            "{failed} failed items, {http_errors} failed requests"
        ));
    }
    Ok(())
}
