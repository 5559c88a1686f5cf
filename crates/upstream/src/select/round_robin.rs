//! Round robin over the healthy nodes.

use super::Selector;
use crate::node::Node;
use rand::RngCore;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct RoundRobin(AtomicUsize);

impl Selector for RoundRobin {
    fn name(&self) -> &'static str {
        "round_robin"
    }

    fn select(&self, candidates: &[Arc<Node>], _now: Instant, _rng: &mut dyn RngCore) -> usize {
        self.0.fetch_add(1, Ordering::Relaxed) % candidates.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[tokio::test]
    async fn cycles() {
        let nodes = nodes(&[1, 1, 1]);
        let s = RoundRobin::default();
        let picks: Vec<usize> = (0..6)
            .map(|_| s.select(&nodes, Instant::now(), &mut rng()))
            .collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
        assert_eq!(histogram(&s, &nodes[..2], 10), [5, 5]);
    }
}
