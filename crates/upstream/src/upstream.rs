//! [`Upstream`]: one remote cluster as a pass-through service.
//!
//! ```text
//! forward(req) ─▶ pick a node (health filter + balancer) ─▶ connection permits
//!     ▲             (cluster: 100, node: 20)
//!     │                 ─▶ send (connect 10 s / read 30 s / deadline 60 s)
//!     │                 ─▶ record outcome (latency, dead/alive, breaker)
//!     └─ retry on another node, if the request is safe to retry, the failure is
//!        retryable, fewer than max_retries were made and the budget allows
//! ```
//!
//! The request bytes go up unchanged; the response comes back with its status and
//! headers (hop-by-hop ones dropped) and a streaming body. Only `GET /_nodes/http`
//! (sniffing) is ever parsed.

use crate::backoff::ExponentialBackoff;
use crate::body::{AttemptGuard, ResponseBody};
use crate::breaker::Admission;
use crate::budget::RetryBudget;
use crate::classify::RequestKind;
use crate::client::HttpClient;
use crate::config::{RetryConfig, UpstreamConfig};
use crate::error::{classify, exhausted, AttemptError, ConfigError};
use crate::headers;
use crate::health;
use crate::node::Node;
use crate::pool::{NodePool, Pick};
use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::SeedableRng;
use searchgate_core::Error;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio::time::{timeout_at, Instant};

/// A request to pass through.
#[derive(Debug, Clone)]
pub struct ForwardRequest {
    pub method: Method,
    /// Path and query exactly as the client sent them (`/idx/_search?size=1`).
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Decides whether the request may be retried; [`ForwardRequest::new`]
    /// classifies by method and path.
    pub kind: RequestKind,
}

impl ForwardRequest {
    pub fn new(
        method: Method,
        path_and_query: impl Into<String>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        let path_and_query = path_and_query.into();
        let kind = RequestKind::classify(&method, &path_and_query);
        ForwardRequest {
            method,
            path_and_query,
            headers,
            body,
            kind,
        }
    }

    pub fn with_kind(mut self, kind: RequestKind) -> Self {
        self.kind = kind;
        self
    }
}

/// A node's answer: status, headers (hop-by-hop removed, vendor media type restored)
/// and the body.
#[derive(Debug)]
pub struct ForwardResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: ResponseBody,
    /// The node that answered.
    pub node: String,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
}

/// Outcome of [`Upstream::check_health`] for each node.
#[derive(Debug, Clone)]
pub struct HealthReport {
    pub cluster: String,
    pub nodes: Vec<(String, Result<(), String>)>,
}

impl HealthReport {
    pub fn alive(&self) -> usize {
        self.nodes.iter().filter(|(_, r)| r.is_ok()).count()
    }

    /// `Err` naming every node and its failure when none answered: for a server that
    /// wants to refuse to start in front of a cluster it cannot reach.
    pub fn require_any_alive(&self) -> Result<(), Error> {
        if self.alive() > 0 {
            return Ok(());
        }
        let detail: Vec<String> = self
            .nodes
            .iter()
            .map(|(url, r)| {
                format!(
                    "{url}: {}",
                    r.as_ref().err().map(String::as_str).unwrap_or("ok")
                )
            })
            .collect();
        Err(Error::new(
            503,
            "no_living_nodes_exception",
            format!(
                "no node of cluster [{}] answered: {}",
                self.cluster,
                detail.join("; ")
            ),
        )
        .with("cluster", self.cluster.clone())
        .with_blame(searchgate_core::Blame::Upstream))
    }
}

/// One remote cluster. Cheap to clone (an `Arc`); the health checks and sniffing
/// run in a background task that ends when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct Upstream {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: UpstreamConfig,
    pub(crate) client: HttpClient,
    pub(crate) pool: NodePool,
    budget: RetryBudget,
    total: Arc<Semaphore>,
    pub(crate) auth: Option<HeaderValue>,
    pub(crate) dead_backoff: ExponentialBackoff,
    retry_backoff: ExponentialBackoff,
    rng: Mutex<StdRng>,
    requests: AtomicU64,
    retries: AtomicU64,
    failed: AtomicU64,
    background: Mutex<Option<JoinHandle<()>>>,
    background_started: std::sync::atomic::AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.background.get_mut().take() {
            task.abort();
        }
    }
}

impl Upstream {
    /// Validates `config`, builds the TLS config and the HTTP client. Called inside
    /// a Tokio runtime, it also starts the health checks (first round at once) and
    /// sniffing; no request is made before that task runs, so a cluster that is down
    /// at start-up is not an error here: see [`Upstream::check_health`].
    pub fn new(config: UpstreamConfig) -> Result<Upstream, ConfigError> {
        config.validate()?;
        let tls = crate::tls::client_config(&config.tls)?;
        if config.tls.insecure {
            tracing::warn!(cluster = %config.name, "tls certificate verification is off (insecure = true)");
        }
        let client = HttpClient::new(
            tls,
            config.timeouts.connect,
            config.timeouts.read,
            config.pool.max_connections_per_node,
            config.pool.idle_timeout,
            config.gzip,
        );
        let dead_backoff = ExponentialBackoff::try_new(
            config.health.dead_backoff,
            config.health.dead_backoff_max,
            0.0,
        )
        .expect("validated");
        let retry_backoff = retry_backoff(&config.retry);
        let rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s.wrapping_add(1)),
            None => StdRng::from_os_rng(),
        };
        let selector = crate::select::new_selector(config.balancer);
        let inner = Arc::new(Inner {
            pool: NodePool::new(&config, selector),
            budget: RetryBudget::new(
                config.retry.budget_ratio,
                config.retry.budget_min_per_sec,
                config.retry.budget_window,
            ),
            total: Arc::new(Semaphore::new(config.pool.max_connections)),
            auth: config.credentials.as_ref().map(headers::authorization),
            dead_backoff,
            retry_backoff,
            rng: Mutex::new(rng),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            background: Mutex::new(None),
            background_started: Default::default(),
            client,
            config,
        });
        let upstream = Upstream { inner };
        upstream.ensure_background();
        Ok(upstream)
    }

    /// Starts the health/sniff task if it is not running and a runtime is there
    /// (`new` may have been called outside one).
    fn ensure_background(&self) {
        if self.inner.background_started.load(Ordering::Acquire) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut slot = self.inner.background.lock();
        if slot.is_none() {
            *slot = Some(handle.spawn(health::run(Arc::downgrade(&self.inner))));
            self.inner.background_started.store(true, Ordering::Release);
        }
    }

    pub fn config(&self) -> &UpstreamConfig {
        &self.inner.config
    }

    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// Checks every node now (`GET health.path`) and updates their states.
    pub async fn check_health(&self) -> HealthReport {
        self.ensure_background();
        let nodes = self.inner.pool.nodes();
        let results = health::check_nodes(&self.inner, &nodes).await;
        HealthReport {
            cluster: self.inner.config.name.clone(),
            nodes: nodes
                .iter()
                .map(|n| n.url().to_string())
                .zip(results)
                .collect(),
        }
    }

    /// Sniffs the nodes now (`GET /_nodes/http`); returns the URLs found.
    pub async fn sniff(&self) -> Result<Vec<String>, Error> {
        health::sniff(&self.inner).await
    }

    /// URLs of the nodes currently in the pool.
    pub fn node_urls(&self) -> Vec<String> {
        self.inner
            .pool
            .nodes()
            .iter()
            .map(|n| n.url().to_string())
            .collect()
    }

    /// `GET /_searchgate/nodes`: every node with its state, load, latency, counters
    /// and breaker, plus the cluster's retry budget.
    pub fn nodes_view(&self) -> Value {
        let now = Instant::now();
        let inner = &self.inner;
        let c = &inner.config;
        let nodes: Vec<Value> = inner.pool.nodes().iter().map(|n| n.view(now)).collect();
        json!({
            "cluster": c.name,
            "balancer": inner.pool.selector_name(),
            "requests": inner.requests.load(Ordering::Relaxed),
            "retries": inner.retries.load(Ordering::Relaxed),
            "failed": inner.failed.load(Ordering::Relaxed),
            "retry_budget": inner.budget.view(),
            "pool": {
                "max_connections": c.pool.max_connections,
                "free_connections": inner.total.available_permits(),
                "max_connections_per_node": c.pool.max_connections_per_node,
            },
            "health": {
                "interval": crate::config::duration::format(c.health.interval),
                "path": c.health.path,
                "sniff": c.sniff.enabled,
            },
            "nodes": nodes,
        })
    }

    /// Forwards one request, retrying on other nodes where that is safe. A response
    /// from a node is returned whatever its status (after retries, the last one);
    /// `Err` when no node answered, naming the last node and the cause, or (400,
    /// nothing sent) when the path cannot be sent unchanged (see [`unforwardable`]).
    pub async fn forward(&self, req: ForwardRequest) -> Result<ForwardResponse, Error> {
        self.ensure_background();
        if let Some(why) = unforwardable(&req.path_and_query) {
            return Err(Error::bad_request(
                "illegal_argument_exception",
                format!(
                    "the gateway cannot forward [{} {}]: {why}",
                    req.method, req.path_and_query
                ),
            ));
        }
        let inner = &*self.inner;
        let config = &inner.config;
        let deadline = Instant::now() + config.timeouts.total;
        inner.requests.fetch_add(1, Ordering::Relaxed);
        inner.budget.deposit();

        let up_headers = headers::upstream_headers(
            &req.headers,
            inner.auth.as_ref(),
            config.rewrite_media_types,
            !config.gzip,
        );
        let compat = if config.rewrite_media_types {
            headers::requested_compat(&req.headers)
        } else {
            None
        };
        let retry_safe = match req.kind {
            RequestKind::Read => true,
            RequestKind::IdempotentWrite => config.retry.idempotent_writes,
            RequestKind::Write => false,
        };
        let read_ahead = retry_safe && config.buffer_bytes > 0;

        let mut tried: Vec<usize> = Vec::new();
        let mut failures: Vec<AttemptError> = Vec::new();
        let mut held: Option<ForwardResponse> = None;
        let mut stopped: Option<&'static str> = None;
        // None: every node has been tried (the error says how many)
        while let Some(pick) = inner.pool.pick(&tried) {
            tried.push(pick.node.id());
            let attempts = tried.len() as u32;
            if pick.forced {
                tracing::debug!(
                    node = pick.node.url(),
                    "every node is down or open: trying the one closest to revival"
                );
            }
            let outcome = self
                .attempt(&pick, &req, &up_headers, deadline, read_ahead, attempts)
                .await;
            let retry_wanted = match &outcome {
                Ok(resp) => retry_safe && config.retry.on_status.contains(&resp.status.as_u16()),
                Err(e) => retry_safe || e.never_sent(),
            };
            match outcome {
                Ok(mut resp) => {
                    if let Some(v) = compat {
                        headers::restore_vendor_content_type(&mut resp.headers, v);
                    }
                    if !retry_wanted {
                        return Ok(resp);
                    }
                    held = Some(resp);
                }
                Err(e) => {
                    tracing::debug!(node = e.node(), cause = %e.cause(), attempt = attempts, "attempt failed");
                    failures.push(e);
                }
            }
            if !retry_wanted {
                break;
            }
            if attempts > config.retry.max_retries {
                stopped = Some("max_retries reached");
                break;
            }
            if tried.len() >= inner.pool.nodes().len() {
                // every node tried: no retry to spend the budget on
                break;
            }
            if Instant::now() >= deadline {
                stopped = Some("deadline reached");
                break;
            }
            if !inner.budget.try_withdraw() {
                stopped = Some("retry budget exhausted");
                break;
            }
            inner.retries.fetch_add(1, Ordering::Relaxed);
            let delay = {
                let mut rng = inner.rng.lock();
                inner.retry_backoff.delay(attempts, &mut *rng)
            };
            let wake = Instant::now() + delay;
            if wake >= deadline {
                stopped = Some("deadline reached");
                break;
            }
            tokio::time::sleep_until(wake).await;
        }
        if let Some(mut resp) = held {
            resp.attempts = tried.len() as u32;
            return Ok(resp);
        }
        inner.failed.fetch_add(1, Ordering::Relaxed);
        let err = exhausted(&config.name, &failures, stopped);
        tracing::warn!(cluster = %config.name, method = %req.method, path = %req.path_and_query,
            error = %err, "request failed on every node tried");
        Err(err)
    }

    async fn attempt(
        &self,
        pick: &Pick,
        req: &ForwardRequest,
        up_headers: &HeaderMap,
        deadline: Instant,
        read_ahead: bool,
        attempt_no: u32,
    ) -> Result<ForwardResponse, AttemptError> {
        let inner = &*self.inner;
        let config = &inner.config;
        let node = &pick.node;
        let mut probe = ProbeGuard {
            node,
            armed: pick.admission == Admission::Probe,
        };

        // connections: the cluster's, then the node's
        let wait_until = deadline.min(Instant::now() + config.pool.acquire_timeout);
        let started = Instant::now();
        let exhausted_err = |limit| AttemptError::PoolExhausted {
            node: node.url().to_string(),
            limit,
            waited: started.elapsed(),
        };
        let total = match timeout_at(wait_until, inner.total.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => return Err(exhausted_err(config.pool.max_connections)),
        };
        let node_permit = match timeout_at(wait_until, node.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => return Err(exhausted_err(config.pool.max_connections_per_node)),
        };
        let in_flight = node.start();

        let sent = Instant::now();
        let remaining = deadline.saturating_duration_since(sent);
        let fail = |err: AttemptError, probe: &mut ProbeGuard| {
            probe.armed = false;
            node.on_failure(
                Instant::now(),
                pick.admission,
                &err.cause(),
                Some(&inner.dead_backoff),
            );
            err
        };
        if remaining.is_zero() {
            // the request's own deadline, spent waiting: not the node's fault
            return Err(AttemptError::Timeout {
                node: node.url().to_string(),
                after: config.timeouts.total,
            });
        }
        let uri = match node.request_uri(&req.path_and_query) {
            Ok(uri) => uri,
            Err(cause) => {
                probe.armed = false;
                return Err(AttemptError::Transport {
                    node: node.url().to_string(),
                    cause,
                });
            }
        };
        let result = inner
            .client
            .send(
                req.method.clone(),
                uri,
                up_headers.clone(),
                req.body.clone(),
                remaining,
            )
            .await;
        let resp = match result {
            Ok(r) => r,
            Err(e) => return Err(fail(classify(node.url(), e, sent.elapsed()), &mut probe)),
        };
        let status = resp.status;
        node.observe_latency(sent.elapsed(), Instant::now());
        let code = status.as_u16();
        let retry_status = config.retry.on_status.contains(&code);
        let mut resp_headers = headers::downstream_headers(&resp.headers);

        // read ahead: small bodies of retryable requests (a node dying mid-body is
        // then retried), and bodies of retryable statuses (frees the connection)
        // the length the node declared (tower-http removes it from a body it decodes)
        let content_length = resp
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let mut chunks = VecDeque::new();
        let mut stream = resp.body;
        let mut complete = false;
        let limit = config.buffer_bytes as u64;
        if (read_ahead || retry_status) && content_length.is_none_or(|l| l <= limit) {
            let mut len = 0u64;
            while len <= limit {
                match timeout_at(deadline, stream.next()).await {
                    Ok(Some(Ok(chunk))) => {
                        len += chunk.len() as u64;
                        chunks.push_back(chunk);
                    }
                    Ok(Some(Err(e))) => {
                        return Err(fail(
                            classify(node.url(), e.into(), sent.elapsed()),
                            &mut probe,
                        ));
                    }
                    Ok(None) => {
                        complete = true;
                        break;
                    }
                    Err(_) => {
                        let err = AttemptError::Timeout {
                            node: node.url().to_string(),
                            after: sent.elapsed(),
                        };
                        return Err(fail(err, &mut probe));
                    }
                }
            }
        }
        if complete && req.method != Method::HEAD {
            // the length of what was read (a body decoded from gzip has lost its
            // header; a passed-through compressed body keeps its encoding)
            let len: usize = chunks.iter().map(Bytes::len).sum();
            resp_headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
        }

        let now = Instant::now();
        probe.armed = false;
        let failure_status = config.breaker.failure_statuses.contains(&code);
        let dead_status = matches!(code, 502..=504);
        if failure_status || dead_status {
            let cause = format!("status {code}");
            node.on_failure(
                now,
                pick.admission,
                &cause,
                dead_status.then_some(&inner.dead_backoff),
            );
        } else {
            node.on_success(now, pick.admission);
        }

        let guard = AttemptGuard {
            _total: total,
            _node: node_permit,
            _in_flight: in_flight,
        };
        let (rest, guard) = if complete {
            (None, None)
        } else {
            (Some(stream), Some(guard))
        };
        Ok(ForwardResponse {
            status,
            headers: resp_headers,
            body: ResponseBody::new(chunks, rest, guard, node.clone()),
            node: node.url().to_string(),
            attempts: attempt_no,
        })
    }
}

/// Why a request target is refused, if it is. The target goes up as received, but a
/// `.` or `..` path segment (`%2E` and `%2e` included) or a `\` is read differently
/// by the URL parsers on the way (WHATWG URLs, RFC 3986 dot-segment removal in
/// proxies and load balancers): `DELETE /idx/_doc/..` can reach `DELETE /idx/`.
/// Such a request is refused rather than risk another resource being reached.
pub(crate) fn unforwardable(path_and_query: &str) -> Option<&'static str> {
    let path = path_and_query.split('?').next().unwrap_or("");
    if path.contains('\\') {
        return Some("a `\\` in the path would reach the node as `/`");
    }
    let dot = |seg: &str| {
        let lower = seg.to_ascii_lowercase().replace("%2e", ".");
        lower == "." || lower == ".."
    };
    if path.split('/').any(dot) {
        return Some(
            "a `.` or `..` path segment would be removed on the way (and another resource reached)",
        );
    }
    None
}

fn retry_backoff(retry: &RetryConfig) -> ExponentialBackoff {
    ExponentialBackoff::try_new(retry.backoff_base, retry.backoff_max, 0.5).expect("validated")
}

/// Gives a half-open breaker's probe back when the attempt ends without an outcome
/// (the client went away while it was in flight).
struct ProbeGuard<'a> {
    node: &'a Arc<Node>,
    armed: bool,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.node.release_probe();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}

    /// What the check lets through is sent as it is, up to percent-encoding; what it
    /// refuses would have been changed by the URL parser.
    #[test]
    fn unforwardable_paths() {
        let sent = |pq: &str| {
            let url = url::Url::parse(&format!("http://127.0.0.1:9200{pq}")).unwrap();
            match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            }
        };
        for ok in [
            "/",
            "/idx/_search?q=a.b&size=1",
            "/idx/_doc/a.b",
            "/.kibana/_doc/...",
            "/idx/_doc/%2E%2E%2E",
            "/idx/_doc/x?routing=..",
            "/_cat/indices?v&h=..",
            "/idx/_doc/a%2Fb",
            "/%2Ehidden",
            "/idx/_doc/has%20space",
        ] {
            assert_eq!(unforwardable(ok), None, "{ok}");
            assert_eq!(sent(ok), ok, "{ok} is sent unchanged");
        }
        for bad in [
            "/.",
            "/..",
            "/%2E",
            "/%2e%2E",
            "/.%2e",
            "/idx/_doc/..",
            "/idx/_doc/../x",
            "/idx/./_search",
            "/idx/_doc/a\\b",
        ] {
            assert!(unforwardable(bad).is_some(), "{bad}");
            assert_ne!(sent(bad), bad, "{bad} would be changed");
        }
    }

    #[tokio::test]
    async fn dot_segments_are_refused_not_changed() {
        let gw = Upstream::new(UpstreamConfig::from_urls("http://127.0.0.1:1").unwrap()).unwrap();
        let req = ForwardRequest::new(
            Method::DELETE,
            "/idx/_doc/..",
            HeaderMap::new(),
            Bytes::new(),
        );
        let e = gw.forward(req).await.unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.kind, "illegal_argument_exception");
        assert!(e.reason.contains("[DELETE /idx/_doc/..]"), "{}", e.reason);
        assert_eq!(gw.nodes_view()["requests"], 0, "nothing was sent");
    }

    /// The server mounts `forward` in axum handlers: its future must be `Send`,
    /// and the response body a `Send` stream.
    #[tokio::test]
    async fn forward_future_and_body_are_send() {
        let gw = Upstream::new(UpstreamConfig::from_urls("http://127.0.0.1:1").unwrap()).unwrap();
        let fut = gw.forward(ForwardRequest::new(
            Method::GET,
            "/",
            HeaderMap::new(),
            Bytes::new(),
        ));
        assert_send(&fut);
        drop(fut);
        assert_send_sync::<Upstream>();
        fn body_is_send(
            b: ResponseBody,
        ) -> impl futures_util::Stream<Item = Result<Bytes, Error>> + Send {
            b
        }
        let _ = body_is_send;
    }
}
