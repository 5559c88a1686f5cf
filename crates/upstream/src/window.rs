//! A sliding window of counters in time slots (a ring of buckets), used by the
//! retry budget (requests, retries) and the breaker's error rate (requests, failures).

use std::time::Duration;
use tokio::time::Instant;

/// `K` counters summed over the last `window`, kept in `slots` buckets.
#[derive(Debug, Clone)]
pub(crate) struct Window<const K: usize> {
    start: Instant,
    slot: Duration,
    /// (slot number, counts) per bucket; a bucket whose number is too old is stale.
    buckets: Vec<(u64, [u64; K])>,
}

impl<const K: usize> Window<K> {
    pub(crate) fn new(window: Duration, slots: usize, now: Instant) -> Self {
        let slots = slots.max(1);
        let slot = (window / slots as u32).max(Duration::from_millis(1));
        Window {
            start: now,
            slot,
            buckets: vec![(u64::MAX, [0; K]); slots],
        }
    }

    fn slot_no(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.start).as_nanos() / self.slot.as_nanos()) as u64
    }

    pub(crate) fn add(&mut self, now: Instant, counter: usize, n: u64) {
        let no = self.slot_no(now);
        let len = self.buckets.len() as u64;
        let bucket = &mut self.buckets[(no % len) as usize];
        if bucket.0 != no {
            *bucket = (no, [0; K]);
        }
        bucket.1[counter] += n;
    }

    pub(crate) fn sum(&self, now: Instant) -> [u64; K] {
        let no = self.slot_no(now);
        let len = self.buckets.len() as u64;
        let mut out = [0; K];
        for (bno, counts) in &self.buckets {
            if *bno != u64::MAX && *bno <= no && no - *bno < len {
                for (o, c) in out.iter_mut().zip(counts) {
                    *o += c;
                }
            }
        }
        out
    }

    pub(crate) fn clear(&mut self) {
        for b in &mut self.buckets {
            *b = (u64::MAX, [0; K]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn old_slots_fall_out() {
        let now = Instant::now();
        let mut w = Window::<2>::new(Duration::from_secs(10), 10, now);
        w.add(now, 0, 5);
        w.add(now, 1, 1);
        tokio::time::advance(Duration::from_secs(5)).await;
        w.add(Instant::now(), 0, 2);
        assert_eq!(w.sum(Instant::now()), [7, 1]);
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(w.sum(Instant::now()), [2, 0]);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(w.sum(Instant::now()), [0, 0]);
    }
}
