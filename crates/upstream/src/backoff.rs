//! Exponential backoff: `min · 2^(n−1)` capped at `max`, with optional jitter.
//!
//! Used twice: for a dead node (1 s, 2 s, 4 s … 30 s, no jitter, like
//! elastic-transport's `dead_node_backoff_factor`/`max_dead_node_backoff`) and
//! between the retries of one request (a few ms, jittered so that retries of many
//! requests do not arrive together).

use rand::Rng;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialBackoff {
    min: Duration,
    max: Duration,
    /// Fraction of the delay that is random: the delay is drawn from
    /// `[d·(1−jitter), d]`.
    jitter: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidBackoff {
    #[error("minimum backoff must be greater than 0")]
    ZeroMin,
    #[error("maximum backoff ({max:?}) must not be less than the minimum ({min:?})")]
    MaxBelowMin { min: Duration, max: Duration },
    #[error("jitter must be in [0, 1], got {0}")]
    Jitter(f64),
}

impl ExponentialBackoff {
    pub fn try_new(min: Duration, max: Duration, jitter: f64) -> Result<Self, InvalidBackoff> {
        if min.is_zero() {
            return Err(InvalidBackoff::ZeroMin);
        }
        if max < min {
            return Err(InvalidBackoff::MaxBelowMin { min, max });
        }
        if !(0.0..=1.0).contains(&jitter) {
            return Err(InvalidBackoff::Jitter(jitter));
        }
        Ok(ExponentialBackoff { min, max, jitter })
    }

    /// The delay before try `n` (n ≥ 1) without jitter: `min · 2^(n−1)`, capped.
    pub fn base(&self, n: u32) -> Duration {
        let exp = n.saturating_sub(1).min(32);
        self.min.saturating_mul(1u32 << exp.min(31)).min(self.max)
    }

    /// The delay before try `n`, jittered.
    pub fn delay(&self, n: u32, rng: &mut (impl Rng + ?Sized)) -> Duration {
        let base = self.base(n);
        if self.jitter == 0.0 {
            return base;
        }
        let low = base.mul_f64(1.0 - self.jitter);
        if low >= base {
            return base;
        }
        rng.random_range(low..=base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn doubles_up_to_the_cap_like_elastic_transport() {
        let b = ExponentialBackoff::try_new(Duration::from_secs(1), Duration::from_secs(30), 0.0)
            .unwrap();
        let secs: Vec<u64> = (1..=8).map(|n| b.base(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(b.base(1000), Duration::from_secs(30));
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(b.delay(3, &mut rng), Duration::from_secs(4));
    }

    #[test]
    fn jitter_stays_in_range() {
        let b = ExponentialBackoff::try_new(Duration::from_millis(20), Duration::from_secs(1), 0.5)
            .unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        for n in 1..10 {
            for _ in 0..100 {
                let d = b.delay(n, &mut rng);
                assert!(d <= b.base(n) && d >= b.base(n) / 2, "{n}: {d:?}");
            }
        }
    }

    #[test]
    fn invalid_parameters() {
        assert_eq!(
            ExponentialBackoff::try_new(Duration::ZERO, Duration::from_secs(1), 0.0),
            Err(InvalidBackoff::ZeroMin)
        );
        assert!(matches!(
            ExponentialBackoff::try_new(Duration::from_secs(2), Duration::from_secs(1), 0.0),
            Err(InvalidBackoff::MaxBelowMin { .. })
        ));
        assert_eq!(
            ExponentialBackoff::try_new(Duration::from_secs(1), Duration::from_secs(1), 1.5),
            Err(InvalidBackoff::Jitter(1.5))
        );
    }
}
