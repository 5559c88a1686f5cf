//! The background task of a cluster: health checks of every node (every
//! `health.interval`, first round at start), an early check of each dead node when
//! its backoff expires (so it is resurrected without a client request paying for
//! it), and sniffing (`GET /_nodes/http`) when enabled.

use crate::client::SendError;
use crate::node::Node;
use crate::upstream::Inner;
use searchgate_core::Error;
use serde_json::Value;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::time::Instant;

const FAR: Duration = Duration::from_secs(86400 * 365);
const MIN_SLEEP: Duration = Duration::from_millis(50);

pub(crate) async fn run(weak: Weak<Inner>) {
    let start = Instant::now();
    let mut next_check = start;
    let mut next_sniff = start;
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let config = &inner.config;
        let checks_on = !config.health.interval.is_zero();
        let now = Instant::now();
        if config.sniff.enabled && now >= next_sniff {
            if let Err(e) = sniff(&inner).await {
                tracing::warn!(cluster = %config.name, error = %e, "sniffing failed");
            }
            next_sniff = Instant::now() + config.sniff.interval;
        }
        let nodes = inner.pool.nodes();
        if checks_on && now >= next_check {
            check_nodes(&inner, &nodes).await;
            next_check = Instant::now() + config.health.interval;
        } else if checks_on {
            // dead nodes whose backoff is over get a check of their own
            let due: Vec<Arc<Node>> = nodes
                .iter()
                .filter(|n| n.dead_until().is_some_and(|t| t <= now))
                .cloned()
                .collect();
            if !due.is_empty() {
                check_nodes(&inner, &due).await;
            }
        }
        let now = Instant::now();
        let mut wake = if config.sniff.enabled {
            next_sniff
        } else {
            now + FAR
        };
        if checks_on {
            wake = wake.min(next_check);
            for n in inner.pool.nodes().iter() {
                if let Some(t) = n.dead_until() {
                    wake = wake.min(t);
                }
            }
        }
        drop(nodes);
        drop(inner);
        tokio::time::sleep_until(wake.max(now + MIN_SLEEP)).await;
    }
}

/// Checks `nodes` concurrently and records the outcomes.
pub(crate) async fn check_nodes(inner: &Inner, nodes: &[Arc<Node>]) -> Vec<Result<(), String>> {
    let checks = nodes.iter().map(|n| async move {
        let result = check(inner, n).await;
        n.on_check(Instant::now(), result.clone(), &inner.dead_backoff);
        if let Err(e) = &result {
            tracing::debug!(node = n.url(), cause = %e, "health check failed");
        }
        result
    });
    futures_util::future::join_all(checks).await
}

async fn check(inner: &Inner, node: &Node) -> Result<(), String> {
    let url = format!("{}{}", node.url(), inner.config.health.path);
    let timeout = inner.config.health.timeout;
    match inner.client.get(&url, inner.auth.as_ref(), timeout).await {
        Ok((status, _)) if status.is_success() => Ok(()),
        Ok((status, _)) => Err(format!("health check answered status {}", status.as_u16())),
        Err(SendError::Timeout) => Err(format!(
            "health check timed out after {}ms",
            timeout.as_millis()
        )),
        Err(SendError::Connect(cause) | SendError::Transport(cause)) => Err(cause),
    }
}

/// Asks the nodes, alive ones first, for `GET /_nodes/http` and updates the pool.
pub(crate) async fn sniff(inner: &Inner) -> Result<Vec<String>, Error> {
    let config = &inner.config;
    let mut nodes: Vec<Arc<Node>> = inner.pool.nodes().iter().cloned().collect();
    nodes.sort_by_key(|n| !n.is_alive());
    let scheme = config.sniff.scheme.clone().unwrap_or_else(|| {
        config
            .nodes
            .first()
            .and_then(|n| n.url.split("://").next())
            .unwrap_or("http")
            .to_string()
    });
    let mut last_err = None;
    for node in nodes {
        let url = format!("{}/_nodes/http", node.url());
        let body = match inner
            .client
            .get(&url, inner.auth.as_ref(), config.health.timeout)
            .await
        {
            Ok((status, body)) if status.is_success() => body,
            Ok((status, _)) => {
                last_err = Some(format!("{}: status {}", node.url(), status.as_u16()));
                continue;
            }
            Err(SendError::Timeout) => {
                last_err = Some(format!("{}: timed out", node.url()));
                continue;
            }
            Err(SendError::Connect(cause) | SendError::Transport(cause)) => {
                last_err = Some(format!("{}: {cause}", node.url()));
                continue;
            }
        };
        let json: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                last_err = Some(format!("{}: bad _nodes/http answer: {e}", node.url()));
                continue;
            }
        };
        let urls = node_urls(&json, &scheme);
        if urls.is_empty() {
            last_err = Some(format!("{}: _nodes/http listed no http node", node.url()));
            continue;
        }
        if inner.pool.update(&urls, config) {
            tracing::info!(cluster = %config.name, nodes = ?urls, "node list changed by sniffing");
        }
        return Ok(urls);
    }
    Err(Error::new(
        502,
        "sniff_exception",
        format!(
            "cannot sniff cluster [{}]: {}",
            config.name,
            last_err.unwrap_or_else(|| "no node".into())
        ),
    )
    .with_blame(searchgate_core::Blame::Upstream))
}

/// URLs of the nodes in a `_nodes/http` answer that serve HTTP and are not
/// dedicated cluster managers.
pub(crate) fn node_urls(json: &Value, scheme: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let Some(nodes) = json.get("nodes").and_then(Value::as_object) else {
        return urls;
    };
    for info in nodes.values() {
        let roles: Vec<&str> = info
            .get("roles")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let manager_only = !roles.is_empty()
            && roles
                .iter()
                .all(|r| *r == "master" || *r == "cluster_manager" || *r == "voting_only");
        if manager_only {
            continue;
        }
        let Some(addr) = info
            .pointer("/http/publish_address")
            .and_then(Value::as_str)
        else {
            continue;
        };
        // "host/1.2.3.4:9200" (a host name is kept, for TLS) or "1.2.3.4:9200"
        let (host_part, port) = match addr.rsplit_once(':') {
            Some(x) => x,
            None => continue,
        };
        let host = match host_part.split_once('/') {
            Some((name, ip)) => {
                if name.is_empty() {
                    ip
                } else {
                    name
                }
            }
            None => host_part,
        };
        urls.push(format!("{scheme}://{host}:{port}"));
    }
    urls.sort();
    urls
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn publish_addresses() {
        let j = json!({"nodes": {
            "a": {"roles": ["data", "ingest"], "http": {"publish_address": "127.0.0.1:9250"}},
            "b": {"roles": ["cluster_manager"], "http": {"publish_address": "127.0.0.1:9251"}},
            "c": {"http": {"publish_address": "es3.local/10.0.0.3:9200"}},
            "d": {"http": {"publish_address": "/10.0.0.4:9200"}},
            "e": {"roles": ["data"]},
            "f": {"http": {"publish_address": "[::1]:9200"}}
        }});
        assert_eq!(
            node_urls(&j, "http"),
            [
                "http://10.0.0.4:9200",
                "http://127.0.0.1:9250",
                "http://[::1]:9200",
                "http://es3.local:9200"
            ]
        );
    }
}
