//! Power of two random choices over peak-EWMA cost (Finagle, linkerd, tower's
//! `p2c` + `PeakEwma`): draw two distinct candidates at random and take the
//! cheaper, where cost = peak-sensitive EWMA latency × (outstanding requests + 1).
//!
//! The random pair keeps load spread (no herding on the single best node), the
//! peak makes a node that slows down lose traffic at once, and the outstanding
//! factor shifts load off a node that is queueing before its latency shows it.

use super::Selector;
use crate::node::Node;
use rand::{Rng, RngCore};
use std::sync::Arc;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct P2cPeakEwma;

impl Selector for P2cPeakEwma {
    fn name(&self) -> &'static str {
        "p2c_peak_ewma"
    }

    fn select(&self, candidates: &[Arc<Node>], now: Instant, rng: &mut dyn RngCore) -> usize {
        let n = candidates.len();
        if n == 1 {
            return 0;
        }
        let a = rng.random_range(0..n);
        let mut b = rng.random_range(0..n - 1);
        if b >= a {
            b += 1;
        }
        let (ca, cb) = (
            candidates[a].peak_ewma_cost(now),
            candidates[b].peak_ewma_cost(now),
        );
        if cb < ca {
            b
        } else {
            a
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn slow_node_gets_little() {
        let nodes = nodes(&[1, 1, 1]);
        for n in &nodes {
            n.observe_latency(Duration::from_millis(3), Instant::now());
        }
        nodes[2].observe_latency(Duration::from_millis(53), Instant::now());
        let h = histogram(&P2cPeakEwma, &nodes, 3000);
        // node 2 only wins when paired with itself, which p2c never does
        assert_eq!(h[2], 0, "{h:?}");
        assert!(h[0] > 1300 && h[1] > 1300, "{h:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn outstanding_requests_shift_load() {
        let nodes = nodes(&[1, 1]);
        for n in &nodes {
            n.observe_latency(Duration::from_millis(5), Instant::now());
        }
        let _busy: Vec<_> = (0..3).map(|_| nodes[0].start()).collect();
        assert_eq!(histogram(&P2cPeakEwma, &nodes, 100), [0, 100]);
    }

    #[tokio::test(start_paused = true)]
    async fn equal_nodes_share_evenly() {
        let nodes = nodes(&[1, 1, 1, 1]);
        let h = histogram(&P2cPeakEwma, &nodes, 4000);
        assert!(h.iter().all(|c| (850..1150).contains(c)), "{h:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn deterministic_with_a_seed() {
        let nodes = nodes(&[1, 1, 1]);
        let a = histogram(&P2cPeakEwma, &nodes, 100);
        let b = histogram(&P2cPeakEwma, &nodes, 100);
        assert_eq!(a, b);
    }
}
