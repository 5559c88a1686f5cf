//! Balancers: which healthy node gets the next request.
//!
//! The pool filters the nodes first (alive or due for a retry, breaker admitting,
//! not already tried by this request), so a [`Selector`] only ranks healthy
//! candidates. One file per algorithm; [`new_selector`] builds the configured one.

mod ewma;
mod least_outstanding;
mod p2c_peak_ewma;
mod round_robin;
mod weighted;

pub use ewma::LowestEwma;
pub use least_outstanding::LeastOutstanding;
pub use p2c_peak_ewma::P2cPeakEwma;
pub use round_robin::RoundRobin;
pub use weighted::WeightedRoundRobin;

use crate::config::BalancerKind;
use crate::node::Node;
use rand::{Rng, RngCore};
use std::sync::Arc;
use tokio::time::Instant;

pub trait Selector: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &'static str;

    /// Picks one of `candidates` (never empty) and returns its index.
    fn select(&self, candidates: &[Arc<Node>], now: Instant, rng: &mut dyn RngCore) -> usize;
}

pub fn new_selector(kind: BalancerKind) -> Box<dyn Selector> {
    match kind {
        BalancerKind::RoundRobin => Box::new(RoundRobin::default()),
        BalancerKind::WeightedRoundRobin => Box::new(WeightedRoundRobin::default()),
        BalancerKind::LeastOutstanding => Box::new(LeastOutstanding),
        BalancerKind::Ewma => Box::new(LowestEwma),
        BalancerKind::P2cPeakEwma => Box::new(P2cPeakEwma),
    }
}

/// Index of the lowest cost; ties broken at random so equal nodes share the load.
pub(crate) fn argmin_random_tie(costs: impl Iterator<Item = f64>, rng: &mut dyn RngCore) -> usize {
    let mut best = 0;
    let mut best_cost = f64::INFINITY;
    let mut ties = 0u32;
    for (i, c) in costs.enumerate() {
        if c < best_cost {
            best = i;
            best_cost = c;
            ties = 1;
        } else if c == best_cost {
            ties += 1;
            // reservoir sampling over the ties
            if rng.random_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    best
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    pub fn rng() -> StdRng {
        StdRng::seed_from_u64(42)
    }

    pub fn nodes(weights: &[u32]) -> Vec<Arc<Node>> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| crate::node::test_node(i, *w))
            .collect()
    }

    /// How many of `n` picks go to each node.
    pub fn histogram(s: &dyn Selector, nodes: &[Arc<Node>], n: usize) -> Vec<usize> {
        let mut rng = rng();
        let mut h = vec![0; nodes.len()];
        for _ in 0..n {
            h[s.select(nodes, Instant::now(), &mut rng)] += 1;
        }
        h
    }
}
