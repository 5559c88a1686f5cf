//! One node of a cluster: its URL and weight, its state (alive, or dead until a
//! backoff expires), its circuit breaker, latency estimates and counters, and the
//! semaphore that bounds the requests (and so the connections) in flight to it.

use crate::backoff::ExponentialBackoff;
use crate::breaker::{Admission, Breaker};
use crate::config::UpstreamConfig;
use crate::ewma::LatencyEstimate;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// The URL a node is known by: no trailing slash, so `base + path_and_query` works.
pub(crate) fn base_url(url: &url::Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

#[derive(Debug)]
pub struct Node {
    id: usize,
    base: String,
    weight: u32,
    /// From the configuration (kept when sniffing no longer reports it).
    seed: bool,
    in_flight: AtomicUsize,
    requests: AtomicU64,
    errors: AtomicU64,
    pub(crate) permits: Arc<Semaphore>,
    state: Mutex<NodeState>,
}

#[derive(Debug)]
struct NodeState {
    /// `Some` while dead: the node is tried again from this instant on.
    dead_until: Option<Instant>,
    /// Times marked dead in a row (the backoff exponent); 0 once alive again.
    dead_count: u32,
    /// The backoff of the last time it was marked dead.
    backoff: Option<Duration>,
    latency: LatencyEstimate,
    breaker: Breaker,
    last_error: Option<String>,
    last_check: Option<(Instant, bool)>,
    resurrections: u64,
}

impl Node {
    pub(crate) fn new(
        id: usize,
        base: String,
        weight: u32,
        seed: bool,
        config: &UpstreamConfig,
    ) -> Self {
        let now = Instant::now();
        Node {
            id,
            base,
            weight: weight.max(1),
            seed,
            in_flight: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            permits: Arc::new(Semaphore::new(config.pool.max_connections_per_node)),
            state: Mutex::new(NodeState {
                dead_until: None,
                dead_count: 0,
                backoff: None,
                latency: LatencyEstimate::new(
                    config.latency.default_rtt,
                    config.latency.decay,
                    now,
                ),
                breaker: Breaker::new(config.breaker.clone(), now),
                last_error: None,
                last_check: None,
                resurrections: 0,
            }),
        }
    }

    /// Stable, unique within a pool: selectors key their state by it.
    pub fn id(&self) -> usize {
        self.id
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// The URL of `path_and_query` (origin form, `/path?query`) on this node: its
    /// base path prefix, if it has one, then the path.
    pub(crate) fn request_url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base, path_and_query)
    }

    /// [`Node::request_url`] as the client's `Uri`; the error says why it is not one.
    pub(crate) fn request_uri(&self, path_and_query: &str) -> Result<http::Uri, String> {
        self.request_url(path_and_query)
            .parse()
            .map_err(|e: http::uri::InvalidUri| format!("invalid request target: {e}"))
    }

    pub fn weight(&self) -> u32 {
        self.weight
    }

    pub(crate) fn is_seed(&self) -> bool {
        self.seed
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn is_alive(&self) -> bool {
        self.state.lock().dead_until.is_none()
    }

    /// Alive, or dead with its backoff over; and its breaker admits a request.
    pub(crate) fn is_selectable(&self, now: Instant) -> bool {
        let s = self.state.lock();
        s.dead_until.is_none_or(|t| now >= t) && s.breaker.is_available(now)
    }

    /// When the node can be tried again: now, or the later of its dead backoff and
    /// its breaker's cool-down.
    pub(crate) fn revival_at(&self, now: Instant) -> Instant {
        let s = self.state.lock();
        let dead = s.dead_until.unwrap_or(now);
        let breaker = s.breaker.available_at(now).unwrap_or(now);
        dead.max(breaker).max(now)
    }

    pub(crate) fn dead_until(&self) -> Option<Instant> {
        self.state.lock().dead_until
    }

    /// Cost for the `ewma` balancer (ns).
    pub fn ewma_cost(&self, now: Instant) -> f64 {
        self.state.lock().latency.ewma_cost(now)
    }

    /// Cost for the `p2c_peak_ewma` balancer: peak EWMA × (outstanding + 1).
    pub fn peak_ewma_cost(&self, now: Instant) -> f64 {
        let latency = self.state.lock().latency.peak_cost(now);
        latency * (self.in_flight() as f64 + 1.0)
    }

    pub(crate) fn admit(&self, now: Instant, force: bool) -> Admission {
        let mut s = self.state.lock();
        if force {
            s.breaker.force()
        } else {
            s.breaker.admit(now)
        }
    }

    pub(crate) fn release_probe(&self) {
        self.state.lock().breaker.release_probe();
    }

    /// Starts counting a request in flight; the guard ends it.
    pub(crate) fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        InFlight { node: self.clone() }
    }

    pub(crate) fn observe_latency(&self, rtt: Duration, now: Instant) {
        self.state.lock().latency.observe(rtt, now);
    }

    /// A request succeeded (as far as node health goes): resurrects a dead node.
    pub(crate) fn on_success(&self, now: Instant, admission: Admission) {
        let mut s = self.state.lock();
        s.breaker.on_success(now, admission);
        if s.dead_until.take().is_some() {
            s.resurrections += 1;
            tracing::info!(node = %self.base, "node resurrected by a successful request");
        }
        s.dead_count = 0;
    }

    /// A request failed because of the node: it counts for the breaker and, if
    /// `mark_dead`, the node is dead for the next backoff step.
    pub(crate) fn on_failure(
        &self,
        now: Instant,
        admission: Admission,
        cause: &str,
        mark_dead: Option<&ExponentialBackoff>,
    ) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut s = self.state.lock();
        s.breaker.on_failure(now, admission);
        s.last_error = Some(cause.to_string());
        if let Some(backoff) = mark_dead {
            Self::mark_dead_locked(&self.base, &mut s, now, cause, backoff);
        }
    }

    /// A response body broke after the response was handed back.
    pub(crate) fn on_body_error(&self, cause: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.state.lock().last_error = Some(cause.to_string());
    }

    fn mark_dead_locked(
        base: &str,
        s: &mut NodeState,
        now: Instant,
        cause: &str,
        backoff: &ExponentialBackoff,
    ) {
        s.dead_count = s.dead_count.saturating_add(1);
        let delay = backoff.base(s.dead_count);
        if s.dead_until.is_none() {
            tracing::warn!(node = %base, cause, retry_in_ms = delay.as_millis() as u64, "node marked dead");
        }
        s.dead_until = Some(now + delay);
        s.backoff = Some(delay);
    }

    /// Outcome of a health check.
    pub(crate) fn on_check(
        &self,
        now: Instant,
        result: Result<(), String>,
        backoff: &ExponentialBackoff,
    ) {
        let mut s = self.state.lock();
        s.last_check = Some((now, result.is_ok()));
        match result {
            Ok(()) => {
                if s.dead_until.take().is_some() {
                    s.resurrections += 1;
                    tracing::info!(node = %self.base, "node resurrected by a health check");
                }
                s.dead_count = 0;
            }
            Err(cause) => {
                s.last_error = Some(cause.clone());
                Self::mark_dead_locked(&self.base, &mut s, now, &cause, backoff);
            }
        }
    }

    pub(crate) fn view(&self, now: Instant) -> Value {
        let s = self.state.lock();
        let (state, dead_for) = match s.dead_until {
            None => ("alive", None),
            Some(t) => (
                "dead",
                Some(t.saturating_duration_since(now).as_millis() as u64),
            ),
        };
        json!({
            "url": self.base,
            "weight": self.weight,
            "seed": self.seed,
            "state": state,
            "retry_in_ms": dead_for,
            "dead_count": s.dead_count,
            "backoff_ms": s.dead_until.and(s.backoff).map(|b| b.as_millis() as u64),
            "in_flight": self.in_flight(),
            "requests": self.requests(),
            "errors": self.errors(),
            "consecutive_failures": s.breaker.consecutive_failures(),
            "ewma_ms": round3(s.latency.ewma_ms()),
            "peak_ewma_ms": round3(s.latency.peak_ms()),
            "latency_samples": s.latency.samples(),
            "breaker": s.breaker.view(now),
            "resurrections": s.resurrections,
            "last_error": s.last_error,
            "last_check": s.last_check.map(|(t, ok)| json!({
                "ago_ms": now.saturating_duration_since(t).as_millis() as u64,
                "ok": ok,
            })),
            "free_connections": self.permits.available_permits(),
        })
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Counts one request in flight on a node until dropped.
#[derive(Debug)]
pub(crate) struct InFlight {
    node: Arc<Node>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.node.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
pub(crate) fn test_node(id: usize, weight: u32) -> Arc<Node> {
    Arc::new(Node::new(
        id,
        format!("http://n{id}"),
        weight,
        true,
        &UpstreamConfig::default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::advance;

    #[test]
    fn request_uri_is_the_base_and_the_target_as_sent() {
        for base in [
            "http://127.0.0.1:9200",
            "https://es.example:9243/prefix",
            "http://[::1]:9200",
        ] {
            let node = Node::new(0, base.to_string(), 1, true, &UpstreamConfig::default());
            for pq in [
                "/",
                "/idx/_search?q=a%20b&size=3",
                "/idx/_doc/%C3%A9t%C3%A9",
                "/_cat/indices?v&h=index,docs.count",
                "/idx/_search?",
                "/a//b",
                "/idx/_doc/a%2Fb?x=%2F",
            ] {
                let uri = node.request_uri(pq).unwrap();
                assert_eq!(uri.to_string(), format!("{base}{pq}"), "{base} {pq}");
            }
            // what an HTTP server would not have accepted as a target either
            assert!(node.request_uri("/idx/_doc/a b").is_err());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn dead_backoff_and_resurrection() {
        let n = test_node(0, 1);
        let b = ExponentialBackoff::try_new(Duration::from_secs(1), Duration::from_secs(30), 0.0)
            .unwrap();
        let now = Instant::now();
        n.on_failure(now, Admission::Pass, "connection refused", Some(&b));
        assert!(!n.is_alive());
        assert!(!n.is_selectable(now));
        assert_eq!(n.revival_at(now), now + Duration::from_secs(1));
        advance(Duration::from_secs(1)).await;
        assert!(n.is_selectable(Instant::now()), "due for a retry");
        n.on_failure(
            Instant::now(),
            Admission::Pass,
            "connection refused",
            Some(&b),
        );
        assert_eq!(
            n.dead_until(),
            Some(Instant::now() + Duration::from_secs(2))
        );
        n.on_check(Instant::now(), Err("refused".into()), &b);
        assert_eq!(
            n.dead_until(),
            Some(Instant::now() + Duration::from_secs(4))
        );
        n.on_check(Instant::now(), Ok(()), &b);
        assert!(n.is_alive());
        assert_eq!(n.view(Instant::now())["resurrections"], 1);
        n.on_failure(Instant::now(), Admission::Pass, "x", Some(&b));
        assert_eq!(
            n.dead_until(),
            Some(Instant::now() + Duration::from_secs(1)),
            "backoff starts over"
        );
        n.on_success(Instant::now(), Admission::Pass);
        assert!(n.is_alive());
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_guard() {
        let n = test_node(0, 1);
        let g1 = n.start();
        let g2 = n.start();
        assert_eq!(n.in_flight(), 2);
        drop(g1);
        assert_eq!(n.in_flight(), 1);
        drop(g2);
        assert_eq!((n.in_flight(), n.requests()), (0, 2));
    }
}
