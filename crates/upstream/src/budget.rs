//! The retry budget: retries may be at most `ratio` of the requests plus a floor of
//! `min_per_sec`, both counted over a sliding window (like tower's `TpsBudget` and
//! linkerd's retry budgets). When a cluster fails, the retries it sees are bounded
//! to about `ratio` more traffic, instead of multiplying the load by `max_retries + 1`.

use crate::window::Window;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;

const REQUESTS: usize = 0;
const RETRIES: usize = 1;

#[derive(Debug)]
pub struct RetryBudget {
    ratio: f64,
    reserve: f64,
    window: Mutex<Window<2>>,
    exhausted: std::sync::atomic::AtomicU64,
}

impl RetryBudget {
    pub fn new(ratio: f64, min_per_sec: u32, window: Duration) -> Self {
        RetryBudget {
            ratio,
            reserve: min_per_sec as f64 * window.as_secs_f64(),
            window: Mutex::new(Window::new(window, 10, Instant::now())),
            exhausted: Default::default(),
        }
    }

    /// Counts a request (its first attempt).
    pub fn deposit(&self) {
        self.window.lock().add(Instant::now(), REQUESTS, 1);
    }

    /// Takes one retry from the budget, or says there is none left.
    pub fn try_withdraw(&self) -> bool {
        let now = Instant::now();
        let mut w = self.window.lock();
        let [requests, retries] = w.sum(now);
        if (retries as f64) + 1.0 <= self.reserve + self.ratio * requests as f64 {
            w.add(now, RETRIES, 1);
            true
        } else {
            drop(w);
            self.exhausted
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            false
        }
    }

    pub fn view(&self) -> Value {
        let [requests, retries] = self.window.lock().sum(Instant::now());
        json!({
            "ratio": self.ratio,
            "reserve": self.reserve,
            "window_requests": requests,
            "window_retries": retries,
            "denied": self.exhausted.load(std::sync::atomic::Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn floor_then_ratio() {
        let b = RetryBudget::new(0.1, 1, Duration::from_secs(10));
        // the floor: 1/s over 10 s
        for _ in 0..10 {
            assert!(b.try_withdraw());
        }
        assert!(!b.try_withdraw());
        // 100 requests buy 10 more retries
        for _ in 0..100 {
            b.deposit();
        }
        for _ in 0..10 {
            assert!(b.try_withdraw());
        }
        assert!(!b.try_withdraw());
        assert_eq!(b.view()["denied"], 2);
    }

    #[tokio::test(start_paused = true)]
    async fn refills_as_the_window_slides() {
        let b = RetryBudget::new(0.1, 0, Duration::from_secs(10));
        for _ in 0..20 {
            b.deposit();
        }
        assert!(b.try_withdraw());
        assert!(b.try_withdraw());
        assert!(!b.try_withdraw());
        tokio::time::advance(Duration::from_secs(11)).await;
        // requests and retries both aged out: nothing to spend
        assert!(!b.try_withdraw());
        for _ in 0..10 {
            b.deposit();
        }
        assert!(b.try_withdraw());
        assert!(!b.try_withdraw());
    }

    /// Under a steady failing load, retries stay within ratio·requests + floor.
    #[tokio::test(start_paused = true)]
    async fn steady_failure_is_bounded() {
        let b = RetryBudget::new(0.1, 1, Duration::from_secs(10));
        let (mut requests, mut retries) = (0u64, 0u64);
        for _ in 0..600 {
            // 100 requests per second, each wanting 3 retries
            for _ in 0..10 {
                b.deposit();
                requests += 1;
                for _ in 0..3 {
                    if b.try_withdraw() {
                        retries += 1;
                    }
                }
            }
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        // 60 s: 6000 requests; at most 10 % plus 1/s (+ one window of reserve)
        assert_eq!(requests, 6000);
        assert!(retries <= 600 + 60 + 10, "{retries}");
        assert!(retries >= 550, "{retries}");
    }
}
