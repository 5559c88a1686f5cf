//! Latency estimates of a node, both exponentially weighted by *time* (the weight
//! of the past decays as `e^(−Δt/decay)`, as in tower's and linkerd's `PeakEwma`):
//!
//! - the plain EWMA, reported as `ewma_ms` and used by the `ewma` balancer;
//! - the peak-sensitive EWMA: a sample above the estimate replaces it at once, so a
//!   node that turns slow is avoided immediately and trusted again only gradually.
//!
//! Between samples both estimates decay toward zero when read for selection, so an
//! idle node looks cheaper over time and is tried again (otherwise a node that was
//! slow once would never be measured again).

use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct LatencyEstimate {
    decay_ns: f64,
    ewma_ns: f64,
    peak_ns: f64,
    updated: Instant,
    samples: u64,
}

impl LatencyEstimate {
    pub fn new(default_rtt: Duration, decay: Duration, now: Instant) -> Self {
        let d = default_rtt.as_nanos() as f64;
        LatencyEstimate {
            decay_ns: decay.as_nanos().max(1) as f64,
            ewma_ns: d,
            peak_ns: d,
            updated: now,
            samples: 0,
        }
    }

    fn weight(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.updated).as_nanos() as f64;
        (-elapsed / self.decay_ns).exp()
    }

    /// Records one round trip.
    pub fn observe(&mut self, rtt: Duration, now: Instant) {
        let rtt = rtt.as_nanos() as f64;
        let w = self.weight(now);
        if self.samples == 0 {
            // the default is a guess: the first sample replaces it
            self.ewma_ns = rtt;
            self.peak_ns = rtt;
        } else {
            self.ewma_ns = self.ewma_ns * w + rtt * (1.0 - w);
            self.peak_ns = if rtt > self.peak_ns {
                rtt
            } else {
                self.peak_ns * w + rtt * (1.0 - w)
            };
        }
        self.updated = now;
        self.samples += 1;
    }

    /// The plain EWMA as of the last sample, in ms (for reports).
    pub fn ewma_ms(&self) -> f64 {
        self.ewma_ns / 1e6
    }

    pub fn peak_ms(&self) -> f64 {
        self.peak_ns / 1e6
    }

    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The plain EWMA decayed for the time since the last sample (selection cost).
    pub fn ewma_cost(&self, now: Instant) -> f64 {
        self.ewma_ns * self.weight(now)
    }

    /// The peak EWMA decayed for the time since the last sample (selection cost).
    pub fn peak_cost(&self, now: Instant) -> f64 {
        self.peak_ns * self.weight(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::advance;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn peak_jumps_up_and_decays_down() {
        let mut e = LatencyEstimate::new(30 * MS, Duration::from_secs(10), Instant::now());
        assert_eq!(e.peak_ms(), 30.0);
        e.observe(5 * MS, Instant::now());
        assert_eq!(e.peak_ms(), 5.0, "the first sample replaces the default");
        advance(Duration::from_millis(100)).await;
        e.observe(50 * MS, Instant::now());
        assert_eq!(e.peak_ms(), 50.0, "a peak is taken at once");
        assert!(
            e.ewma_ms() < 6.0,
            "the plain ewma moves slowly: {}",
            e.ewma_ms()
        );
        // fast samples bring the peak down gradually: after 10 s about e^-1 of it is left
        for _ in 0..100 {
            advance(Duration::from_millis(100)).await;
            e.observe(5 * MS, Instant::now());
        }
        let p = e.peak_ms();
        assert!(p > 5.0 + 45.0 * 0.3 && p < 5.0 + 45.0 * 0.45, "{p}");
    }

    #[tokio::test(start_paused = true)]
    async fn idle_cost_decays_toward_zero() {
        let mut e = LatencyEstimate::new(30 * MS, Duration::from_secs(10), Instant::now());
        e.observe(50 * MS, Instant::now());
        let c0 = e.peak_cost(Instant::now());
        advance(Duration::from_secs(10)).await;
        let c1 = e.peak_cost(Instant::now());
        assert!((c1 / c0 - (-1f64).exp()).abs() < 1e-6);
        assert_eq!(
            e.peak_ms(),
            50.0,
            "the report is the last estimate, not decayed"
        );
    }
}
