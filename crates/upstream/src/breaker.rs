//! The circuit breaker of one node.
//!
//! ```text
//!            failures in a row ≥ N, or failure rate ≥ r over the window
//!   Closed ───────────────────────────────────────────────────────────▶ Open{until}
//!     ▲                                                                   │ cool-down over
//!     │ probe succeeds                                                    ▼
//!     └────────────────────────────── HalfOpen ◀── probe fails: Open again, cool-down doubled
//! ```
//!
//! In `HalfOpen` exactly one request (the probe) is let through; the others go to
//! other nodes. A synchronous state machine under the node's lock, driven by the
//! outcomes the forwarding loop reports, with tokio's clock so tests run in
//! paused time (linkerd drives the same states from an async task; the node pool
//! here needs to read the state synchronously while selecting, so it is a plain struct).

use crate::config::BreakerConfig;
use crate::window::Window;
use serde_json::{json, Value};
use tokio::time::Instant;

const REQUESTS: usize = 0;
const FAILURES: usize = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// What the breaker lets a request do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Closed: go ahead.
    Pass,
    /// Half-open: this request is the probe; report its outcome with `probe = true`.
    Probe,
    /// Open (or a probe is already out).
    Reject,
}

#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: BreakerState,
    consecutive_failures: u32,
    window: Window<2>,
    /// Times opened without a successful probe in between (doubles the cool-down).
    trips: u32,
    total_trips: u64,
}

impl Breaker {
    pub fn new(config: BreakerConfig, now: Instant) -> Self {
        let window = Window::new(config.window, 10, now);
        Breaker {
            config,
            state: BreakerState::Closed,
            consecutive_failures: 0,
            window,
            trips: 0,
            total_trips: 0,
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a request could be admitted now (no state change), for selection.
    pub fn is_available(&self, now: Instant) -> bool {
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open { until } => now >= until,
            BreakerState::HalfOpen { probing } => !probing,
        }
    }

    /// When the breaker will admit a request again (`None` if it does now).
    pub fn available_at(&self, now: Instant) -> Option<Instant> {
        match self.state {
            BreakerState::Open { until } if now < until => Some(until),
            _ => None,
        }
    }

    /// Admits a request, moving Open → HalfOpen once the cool-down is over.
    pub fn admit(&mut self, now: Instant) -> Admission {
        if !self.config.enabled {
            return Admission::Pass;
        }
        match self.state {
            BreakerState::Closed => Admission::Pass,
            BreakerState::Open { until } if now < until => Admission::Reject,
            BreakerState::Open { .. } | BreakerState::HalfOpen { probing: false } => {
                self.state = BreakerState::HalfOpen { probing: true };
                Admission::Probe
            }
            BreakerState::HalfOpen { probing: true } => Admission::Reject,
        }
    }

    /// Forced admission when every node is unavailable: the request goes anyway and
    /// counts as a probe if the breaker is not closed.
    pub fn force(&mut self) -> Admission {
        match self.state {
            BreakerState::Closed => Admission::Pass,
            _ => {
                self.state = BreakerState::HalfOpen { probing: true };
                Admission::Probe
            }
        }
    }

    pub fn on_success(&mut self, now: Instant, admission: Admission) {
        self.consecutive_failures = 0;
        self.window.add(now, REQUESTS, 1);
        if admission == Admission::Probe || matches!(self.state, BreakerState::HalfOpen { .. }) {
            self.close();
        }
    }

    pub fn on_failure(&mut self, now: Instant, admission: Admission) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.window.add(now, REQUESTS, 1);
        self.window.add(now, FAILURES, 1);
        if !self.config.enabled {
            return;
        }
        match self.state {
            BreakerState::HalfOpen { .. } => self.open(now),
            BreakerState::Open { .. } => {
                if admission == Admission::Probe {
                    self.open(now);
                }
            }
            BreakerState::Closed => {
                let [requests, failures] = self.window.sum(now);
                let rate_tripped = requests >= self.config.min_requests as u64
                    && failures as f64 >= self.config.failure_rate * requests as f64;
                if self.consecutive_failures >= self.config.consecutive_failures || rate_tripped {
                    self.open(now);
                }
            }
        }
    }

    /// A probe that ended without an outcome (cancelled): let another one go.
    pub fn release_probe(&mut self) {
        if self.state == (BreakerState::HalfOpen { probing: true }) {
            self.state = BreakerState::HalfOpen { probing: false };
        }
    }

    fn open(&mut self, now: Instant) {
        self.trips = self.trips.saturating_add(1);
        self.total_trips += 1;
        let exp = (self.trips - 1).min(16);
        let cool = self
            .config
            .cool_down
            .saturating_mul(1 << exp)
            .min(self.config.max_cool_down);
        self.state = BreakerState::Open { until: now + cool };
        tracing::warn!(
            failures = self.consecutive_failures,
            cool_down_ms = cool.as_millis() as u64,
            "circuit breaker open"
        );
    }

    fn close(&mut self) {
        self.state = BreakerState::Closed;
        self.trips = 0;
        self.consecutive_failures = 0;
        self.window.clear();
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    pub fn view(&self, now: Instant) -> Value {
        let [requests, failures] = self.window.sum(now);
        let (state, retry_in_ms) = match self.state {
            BreakerState::Closed => ("closed", None),
            BreakerState::Open { until } if now < until => {
                ("open", Some(until.duration_since(now).as_millis() as u64))
            }
            BreakerState::Open { .. } => ("half_open", None),
            BreakerState::HalfOpen { .. } => ("half_open", None),
        };
        json!({
            "state": state,
            "retry_in_ms": retry_in_ms,
            "window_requests": requests,
            "window_failures": failures,
            "trips": self.total_trips,
        })
    }

    #[cfg(test)]
    fn cool_down_for_tests(&self, now: Instant) -> Option<std::time::Duration> {
        self.available_at(now).map(|t| t - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::time::advance;

    fn config() -> BreakerConfig {
        BreakerConfig {
            consecutive_failures: 3,
            failure_rate: 0.5,
            min_requests: 10,
            window: Duration::from_secs(10),
            cool_down: Duration::from_secs(5),
            max_cool_down: Duration::from_secs(12),
            ..BreakerConfig::default()
        }
    }

    fn now() -> Instant {
        Instant::now()
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_then_probes() {
        let mut b = Breaker::new(config(), now());
        for _ in 0..2 {
            assert_eq!(b.admit(now()), Admission::Pass);
            b.on_failure(now(), Admission::Pass);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.on_failure(now(), Admission::Pass);
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        assert_eq!(b.admit(now()), Admission::Reject);
        assert!(!b.is_available(now()));
        assert_eq!(b.cool_down_for_tests(now()), Some(Duration::from_secs(5)));

        advance(Duration::from_secs(5)).await;
        assert!(b.is_available(now()));
        assert_eq!(b.admit(now()), Admission::Probe);
        // only one probe at a time
        assert_eq!(b.admit(now()), Admission::Reject);
        assert!(!b.is_available(now()));
        b.on_success(now(), Admission::Probe);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.admit(now()), Admission::Pass);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_probe_doubles_the_cool_down_up_to_the_max() {
        let mut b = Breaker::new(config(), now());
        for _ in 0..3 {
            b.on_failure(now(), Admission::Pass);
        }
        let mut cools = vec![];
        for _ in 0..3 {
            cools.push(b.cool_down_for_tests(now()).unwrap().as_secs());
            advance(b.cool_down_for_tests(now()).unwrap()).await;
            assert_eq!(b.admit(now()), Admission::Probe);
            b.on_failure(now(), Admission::Probe);
        }
        assert_eq!(cools, [5, 10, 12]);
        advance(Duration::from_secs(12)).await;
        assert_eq!(b.admit(now()), Admission::Probe);
        b.on_success(now(), Admission::Probe);
        // closed again: the next trip starts from the base cool-down
        for _ in 0..3 {
            b.on_failure(now(), Admission::Pass);
        }
        assert_eq!(b.cool_down_for_tests(now()), Some(Duration::from_secs(5)));
    }

    #[tokio::test(start_paused = true)]
    async fn opens_on_error_rate() {
        let mut b = Breaker::new(config(), now());
        // alternate: never 3 in a row, but 50 % failures
        for i in 0..9 {
            if i % 2 == 0 {
                b.on_failure(now(), Admission::Pass);
            } else {
                b.on_success(now(), Admission::Pass);
            }
            advance(Duration::from_millis(100)).await;
        }
        assert_eq!(b.state(), BreakerState::Closed, "below min_requests");
        b.on_failure(now(), Admission::Pass); // 10 requests, 6 failures
        assert!(matches!(b.state(), BreakerState::Open { .. }));
    }

    #[tokio::test(start_paused = true)]
    async fn old_failures_age_out_of_the_rate() {
        let mut b = Breaker::new(config(), now());
        for _ in 0..5 {
            b.on_success(now(), Admission::Pass);
            b.on_failure(now(), Admission::Pass);
        }
        // exactly 50 % of 10: trips
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        let mut b = Breaker::new(config(), now());
        for _ in 0..4 {
            b.on_failure(now(), Admission::Pass);
            b.on_success(now(), Admission::Pass);
        }
        advance(Duration::from_secs(11)).await;
        b.on_success(now(), Admission::Pass);
        b.on_failure(now(), Admission::Pass);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_probe_lets_another_go() {
        let mut b = Breaker::new(config(), now());
        for _ in 0..3 {
            b.on_failure(now(), Admission::Pass);
        }
        advance(Duration::from_secs(5)).await;
        assert_eq!(b.admit(now()), Admission::Probe);
        b.release_probe();
        assert_eq!(b.admit(now()), Admission::Probe);
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_breaker_always_passes() {
        let mut b = Breaker::new(
            BreakerConfig {
                enabled: false,
                ..config()
            },
            now(),
        );
        for _ in 0..100 {
            b.on_failure(now(), Admission::Pass);
        }
        assert_eq!(b.admit(now()), Admission::Pass);
        assert_eq!(b.consecutive_failures(), 100);
    }
}
