//! searchgate's gateway backend: one remote Elasticsearch/OpenSearch cluster.
//!
//! [`Upstream`] forwards requests byte for byte to the cluster's nodes and streams
//! the answers back, and makes the cluster sturdier on the way:
//!
//! - a connection pool (keep-alive; 100 connections in flight to the cluster and 20
//!   to a node by default), timeouts (connect 10 s, read 30 s, total 60 s), gzip,
//!   rustls with a custom CA, client certificates or an explicit `insecure` mode,
//!   basic or API-key credentials ([`config`]);
//! - node health: periodic checks, optional sniffing, dead nodes retried after an
//!   exponential backoff (1 s · 2^(n−1) ≤ 30 s) and resurrected by a good check or
//!   request; with every node dead, the one closest to revival is tried ([`pool`]);
//! - balancers behind one [`Selector`] trait, peak-EWMA with power of two choices
//!   by default ([`select`]);
//! - retries of safe requests only ([`RequestKind`]), on another node, with jittered
//!   backoff and a retry budget ([`budget`]);
//! - a circuit breaker per node ([`breaker`]);
//! - failures it cannot hide as ES error bodies naming the node and the cause.
//!
//! Mounting it (the server's gateway mode):
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use searchgate_upstream::{ForwardRequest, Upstream, UpstreamConfig};
//! let upstream = Upstream::new(UpstreamConfig::from_urls("http://127.0.0.1:9200")?)?;
//! upstream.check_health().await.require_any_alive()?;
//! let req = ForwardRequest::new(http::Method::GET, "/_cluster/health", http::HeaderMap::new(), bytes::Bytes::new());
//! match upstream.forward(req).await {
//!     Ok(resp) => { /* resp.status, resp.headers, resp.body (a Stream of Bytes) */ }
//!     Err(e) => { /* e.status, e.to_body(): an ES error body with `node` and `cause` */ }
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod backoff;
mod body;
pub mod breaker;
pub mod budget;
mod classify;
mod client;
pub mod config;
mod error;
mod ewma;
mod headers;
mod health;
mod node;
pub mod pool;
pub mod select;
mod tls;
mod upstream;
mod window;

pub use body::ResponseBody;
pub use classify::RequestKind;
pub use config::{
    BalancerKind, BreakerConfig, Credentials, HealthConfig, LatencyConfig, NodeConfig, PoolConfig,
    RetryConfig, SniffConfig, TimeoutConfig, TlsConfig, UpstreamConfig,
};
pub use error::ConfigError;
pub use headers::{downstream_headers, is_hop_by_hop, plain_media_type};
pub use node::Node;
pub use select::Selector;
pub use upstream::{ForwardRequest, ForwardResponse, HealthReport, Upstream};
