//! Smooth weighted round robin (nginx's): each pick adds every candidate's weight
//! to its running score, takes the highest, and subtracts the total from it. Weights
//! 5:1:1 give `a a b a c a a` rather than `a a a a a b c`.

use super::Selector;
use crate::node::Node;
use parking_lot::Mutex;
use rand::RngCore;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::time::Instant;

#[derive(Debug, Default)]
pub struct WeightedRoundRobin {
    /// Running score per node id.
    current: Mutex<HashMap<usize, i64>>,
}

impl Selector for WeightedRoundRobin {
    fn name(&self) -> &'static str {
        "weighted_round_robin"
    }

    fn select(&self, candidates: &[Arc<Node>], _now: Instant, _rng: &mut dyn RngCore) -> usize {
        let mut current = self.current.lock();
        let mut total = 0i64;
        let mut best = 0;
        let mut best_score = i64::MIN;
        for (i, node) in candidates.iter().enumerate() {
            let w = node.weight() as i64;
            total += w;
            let score = current.entry(node.id()).or_insert(0);
            *score += w;
            if *score > best_score {
                best_score = *score;
                best = i;
            }
        }
        *current.entry(candidates[best].id()).or_insert(0) -= total;
        if current.len() > candidates.len() * 4 + 16 {
            // forget nodes that left the pool
            let ids: Vec<usize> = candidates.iter().map(|n| n.id()).collect();
            current.retain(|id, _| ids.contains(id));
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[tokio::test]
    async fn smooth_sequence() {
        let nodes = nodes(&[5, 1, 1]);
        let s = WeightedRoundRobin::default();
        let picks: Vec<usize> = (0..7)
            .map(|_| s.select(&nodes, Instant::now(), &mut rng()))
            .collect();
        assert_eq!(picks, [0, 0, 1, 0, 2, 0, 0]);
    }

    #[tokio::test]
    async fn proportional_to_weights() {
        let nodes = nodes(&[3, 2, 1]);
        let s = WeightedRoundRobin::default();
        assert_eq!(histogram(&s, &nodes, 600), [300, 200, 100]);
        // a node leaving the candidates: the others share by weight
        assert_eq!(histogram(&s, &nodes[1..], 300), [200, 100]);
    }
}
