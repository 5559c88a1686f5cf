//! The node pool of a cluster: the current node list (swapped whole when sniffing
//! finds a change) and the selection of a node for an attempt, with health
//! filtering under every balancer.
//!
//! Selection:
//! 1. candidates = nodes not yet tried by this request that are alive or due for a
//!    retry, whose breaker admits a request, and that have a free connection;
//!    (the last condition is dropped if it leaves no candidate);
//! 2. the balancer picks one; its breaker admits it (or, racing another request for
//!    a half-open probe, the pick is dropped and we go again);
//! 3. with no candidate at all, the untried node closest to revival is forced
//!    (all dead: try the one most likely to be back rather than fail).

use crate::breaker::Admission;
use crate::config::UpstreamConfig;
use crate::node::{base_url, Node};
use crate::select::Selector;
use arc_swap::ArcSwap;
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct NodePool {
    nodes: ArcSwap<Vec<Arc<Node>>>,
    next_id: AtomicUsize,
    selector: Box<dyn Selector>,
    rng: Mutex<StdRng>,
}

/// A node chosen for one attempt.
#[derive(Debug)]
pub(crate) struct Pick {
    pub node: Arc<Node>,
    pub admission: Admission,
    /// Chosen although unavailable (every node was dead or open).
    pub forced: bool,
}

impl NodePool {
    pub(crate) fn new(config: &UpstreamConfig, selector: Box<dyn Selector>) -> Self {
        let nodes: Vec<Arc<Node>> = config
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let url = crate::config::parse_node_url(&n.url).expect("validated");
                Arc::new(Node::new(i, base_url(&url), n.weight, true, config))
            })
            .collect();
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        NodePool {
            next_id: AtomicUsize::new(nodes.len()),
            nodes: ArcSwap::from_pointee(nodes),
            selector,
            rng: Mutex::new(rng),
        }
    }

    pub(crate) fn nodes(&self) -> Arc<Vec<Arc<Node>>> {
        self.nodes.load_full()
    }

    pub(crate) fn selector_name(&self) -> &'static str {
        self.selector.name()
    }

    /// Picks a node for an attempt, excluding the node ids in `tried`.
    pub(crate) fn pick(&self, tried: &[usize]) -> Option<Pick> {
        let nodes = self.nodes.load();
        let now = Instant::now();
        let untried: Vec<&Arc<Node>> = nodes.iter().filter(|n| !tried.contains(&n.id())).collect();
        if untried.is_empty() {
            return None;
        }
        let mut candidates: Vec<Arc<Node>> = untried
            .iter()
            .filter(|n| n.is_selectable(now))
            .map(|n| Arc::clone(n))
            .collect();
        let with_free: Vec<Arc<Node>> = candidates
            .iter()
            .filter(|n| n.permits.available_permits() > 0)
            .cloned()
            .collect();
        if !with_free.is_empty() {
            candidates = with_free;
        }
        while !candidates.is_empty() {
            let i = {
                let mut rng = self.rng.lock();
                self.selector.select(&candidates, now, &mut *rng)
            };
            let node = candidates.swap_remove(i);
            match node.admit(now, false) {
                Admission::Reject => continue,
                admission => {
                    return Some(Pick {
                        node,
                        admission,
                        forced: false,
                    })
                }
            }
        }
        // nothing available: the node closest to revival
        let node = untried
            .iter()
            .min_by_key(|n| n.revival_at(now))
            .map(|n| Arc::clone(n))?;
        let admission = node.admit(now, true);
        tracing::debug!(
            node = node.url(),
            "no node available, forcing the one closest to revival"
        );
        Some(Pick {
            node,
            admission,
            forced: true,
        })
    }

    /// Replaces the node list by `urls` (from sniffing), keeping the node objects
    /// (and so their state and statistics) of the URLs already known and every seed.
    pub(crate) fn update(&self, urls: &[String], config: &UpstreamConfig) -> bool {
        let current = self.nodes.load_full();
        let mut next: Vec<Arc<Node>> = Vec::new();
        for node in current.iter() {
            if node.is_seed() || urls.iter().any(|u| u == node.url()) {
                next.push(node.clone());
            }
        }
        for url in urls {
            if !next.iter().any(|n| n.url() == url) {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                tracing::info!(node = %url, "node discovered by sniffing");
                next.push(Arc::new(Node::new(id, url.clone(), 1, false, config)));
            }
        }
        let changed = next.len() != current.len()
            || next
                .iter()
                .zip(current.iter())
                .any(|(a, b)| a.id() != b.id());
        if changed {
            self.nodes.store(Arc::new(next));
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::ExponentialBackoff;
    use crate::config::{BalancerKind, NodeConfig};
    use std::time::Duration;

    fn pool(n: usize, kind: BalancerKind) -> NodePool {
        let config = UpstreamConfig {
            nodes: (0..n)
                .map(|i| NodeConfig::new(format!("http://127.0.0.1:{}", 9000 + i)))
                .collect(),
            seed: Some(1),
            ..UpstreamConfig::default()
        };
        NodePool::new(&config, crate::select::new_selector(kind))
    }

    fn backoff() -> ExponentialBackoff {
        ExponentialBackoff::try_new(Duration::from_secs(1), Duration::from_secs(30), 0.0).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn dead_nodes_are_skipped_then_retried() {
        let p = pool(3, BalancerKind::RoundRobin);
        let nodes = p.nodes();
        nodes[1].on_failure(Instant::now(), Admission::Pass, "refused", Some(&backoff()));
        for _ in 0..10 {
            assert_ne!(p.pick(&[]).unwrap().node.id(), 1);
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        let picked: Vec<usize> = (0..6).map(|_| p.pick(&[]).unwrap().node.id()).collect();
        assert!(
            picked.contains(&1),
            "due for a retry after its backoff: {picked:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn all_dead_forces_the_closest_to_revival() {
        let p = pool(3, BalancerKind::P2cPeakEwma);
        let nodes = p.nodes();
        let now = Instant::now();
        // node 0 dead 3 times (4 s), node 1 once (1 s), node 2 twice (2 s)
        for (i, times) in [(0, 3), (1, 1), (2, 2)] {
            for _ in 0..times {
                nodes[i].on_failure(now, Admission::Pass, "refused", Some(&backoff()));
            }
        }
        let pick = p.pick(&[]).unwrap();
        assert!(pick.forced);
        assert_eq!(pick.node.id(), 1);
        let pick = p.pick(&[1]).unwrap();
        assert_eq!(pick.node.id(), 2);
        assert!(p.pick(&[0, 1, 2]).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn open_breaker_is_skipped_and_probed_once() {
        let p = pool(2, BalancerKind::RoundRobin);
        let nodes = p.nodes();
        for _ in 0..5 {
            nodes[0].on_failure(Instant::now(), Admission::Pass, "503", None);
        }
        assert!(nodes[0].is_alive(), "no dead marking requested");
        for _ in 0..10 {
            assert_eq!(p.pick(&[]).unwrap().node.id(), 1);
        }
        tokio::time::advance(Duration::from_secs(5)).await;
        let picks: Vec<Pick> = (0..4).map(|_| p.pick(&[]).unwrap()).collect();
        let probes: Vec<&Pick> = picks.iter().filter(|p| p.node.id() == 0).collect();
        assert_eq!(probes.len(), 1, "one probe while half-open");
        assert_eq!(probes[0].admission, Admission::Probe);
    }

    #[tokio::test(start_paused = true)]
    async fn sniffed_nodes_join_and_leave_seeds_stay() {
        let config = UpstreamConfig {
            nodes: vec![NodeConfig::new("http://a:1")],
            ..Default::default()
        };
        let p = NodePool::new(
            &config,
            crate::select::new_selector(BalancerKind::RoundRobin),
        );
        assert!(p.update(&["http://a:1".into(), "http://b:1".into()], &config));
        assert_eq!(p.nodes().len(), 2);
        assert!(!p.update(&["http://b:1".into(), "http://a:1".into()], &config));
        assert!(p.update(&["http://c:1".into()], &config));
        let urls: Vec<String> = p.nodes().iter().map(|n| n.url().to_string()).collect();
        assert_eq!(urls, ["http://a:1", "http://c:1"]);
    }
}
