//! Least outstanding requests: the node with the fewest requests in flight (ties at
//! random).

use super::{argmin_random_tie, Selector};
use crate::node::Node;
use rand::RngCore;
use std::sync::Arc;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct LeastOutstanding;

impl Selector for LeastOutstanding {
    fn name(&self) -> &'static str {
        "least_outstanding"
    }

    fn select(&self, candidates: &[Arc<Node>], _now: Instant, rng: &mut dyn RngCore) -> usize {
        argmin_random_tie(candidates.iter().map(|n| n.in_flight() as f64), rng)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[tokio::test]
    async fn fewest_in_flight() {
        let nodes = nodes(&[1, 1, 1]);
        let _g = [nodes[0].start(), nodes[0].start(), nodes[1].start()];
        let s = LeastOutstanding;
        assert_eq!(histogram(&s, &nodes, 50), [0, 0, 50]);
        let _g2 = [nodes[2].start(), nodes[2].start()];
        assert_eq!(histogram(&s, &nodes, 50), [0, 50, 0]);
    }

    #[tokio::test]
    async fn ties_are_shared() {
        let nodes = nodes(&[1, 1, 1]);
        let h = histogram(&LeastOutstanding, &nodes, 3000);
        assert!(h.iter().all(|c| (900..1100).contains(c)), "{h:?}");
    }
}
