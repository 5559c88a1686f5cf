//! Lowest response time: the node with the lowest time-decayed EWMA latency. An
//! idle node's estimate decays toward zero, so a node that was slow is measured
//! again after a while. It herds (every request goes to the one fastest node until
//! its latency rises); `p2c_peak_ewma` is the better default.

use super::{argmin_random_tie, Selector};
use crate::node::Node;
use rand::RngCore;
use std::sync::Arc;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct LowestEwma;

impl Selector for LowestEwma {
    fn name(&self) -> &'static str {
        "ewma"
    }

    fn select(&self, candidates: &[Arc<Node>], now: Instant, rng: &mut dyn RngCore) -> usize {
        argmin_random_tie(candidates.iter().map(|n| n.ewma_cost(now)), rng)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn fastest_wins_until_idle_decay() {
        let nodes = nodes(&[1, 1]);
        nodes[0].observe_latency(Duration::from_millis(2), Instant::now());
        nodes[1].observe_latency(Duration::from_millis(50), Instant::now());
        assert_eq!(histogram(&LowestEwma, &nodes, 20), [20, 0]);
        // node 0 keeps answering in 2 ms; node 1 is idle and its estimate decays
        for _ in 0..40 {
            tokio::time::advance(Duration::from_secs(1)).await;
            nodes[0].observe_latency(Duration::from_millis(2), Instant::now());
        }
        assert_eq!(
            histogram(&LowestEwma, &nodes, 1),
            [0, 1],
            "re-measured after ~30 s idle"
        );
    }
}
