//! Configuration of one upstream cluster, as the server reads it from a TOML
//! `[[clusters]]` entry or from `--upstream URL[,URL...]`.
//!
//! ```toml
//! [[clusters]]
//! name = "main"
//! nodes = ["http://10.0.0.1:9200", { url = "http://10.0.0.2:9200", weight = 2 }]
//! balancer = "p2c_peak_ewma"        # round_robin | weighted_round_robin |
//!                                   # least_outstanding | ewma | p2c_peak_ewma
//! credentials = { username = "elastic", password = "changeme" }   # or { api_key = "..." }
//! tls = { ca = "/etc/ssl/es-ca.pem", cert = "client.pem", key = "client.key", insecure = false }
//! pool = { max_connections = 100, max_connections_per_node = 20 }
//! timeouts = { connect = "10s", read = "30s", total = "60s" }
//! health = { interval = "30s", path = "/" }
//! sniff = { enabled = false, interval = "5m" }
//! retry = { max_retries = 3, idempotent_writes = false, budget_ratio = 0.1 }
//! breaker = { consecutive_failures = 5, failure_rate = 0.5, cool_down = "5s" }
//! ```
//!
//! Every field has a default (the ones of the original service: 100/20 connections,
//! 10 s / 30 s / 60 s timeouts, health checks every 30 s); [`UpstreamConfig::validate`]
//! checks everything that can be checked before the first request, including that the
//! TLS files are readable and hold what they should.

use crate::error::ConfigError;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// One cluster: its nodes and how to talk to them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Name used in logs, errors and `GET /_searchgate/nodes`.
    pub name: String,
    /// Seed nodes: base URLs (`http://host:9200`, optionally with a path prefix).
    pub nodes: Vec<NodeConfig>,
    pub balancer: BalancerKind,
    /// Seed for the balancers' random choices; `None` seeds from the OS.
    pub seed: Option<u64>,
    pub credentials: Option<Credentials>,
    pub tls: TlsConfig,
    pub pool: PoolConfig,
    pub timeouts: TimeoutConfig,
    pub health: HealthConfig,
    pub sniff: SniffConfig,
    pub retry: RetryConfig,
    pub breaker: BreakerConfig,
    pub latency: LatencyConfig,
    /// Ask the nodes for gzip-compressed responses (decompressed by the gateway).
    /// Saves bandwidth to a remote cluster; costs CPU on both sides, so it is off by
    /// default (on loopback it cut the gateway's throughput by a fifth, see P5).
    pub gzip: bool,
    /// Rewrite the Elasticsearch vendor media types of the official clients
    /// (`application/vnd.elasticsearch+json; compatible-with=8`) to plain ones going
    /// up, and back on the way down. OpenSearch rejects the vendor types.
    pub rewrite_media_types: bool,
    /// Bodies of retryable requests are read ahead up to this many bytes before the
    /// response is handed back, so that a node dying in mid-response is retried
    /// instead of truncating the answer. Larger bodies stream.
    pub buffer_bytes: usize,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            name: "upstream".into(),
            nodes: Vec::new(),
            balancer: BalancerKind::default(),
            seed: None,
            credentials: None,
            tls: TlsConfig::default(),
            pool: PoolConfig::default(),
            timeouts: TimeoutConfig::default(),
            health: HealthConfig::default(),
            sniff: SniffConfig::default(),
            retry: RetryConfig::default(),
            breaker: BreakerConfig::default(),
            latency: LatencyConfig::default(),
            gzip: false,
            rewrite_media_types: true,
            buffer_bytes: 256 * 1024,
        }
    }
}

/// A node: a base URL and a weight (used by `weighted_round_robin`).
///
/// In TOML either a plain string or `{ url = "...", weight = 2 }`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeConfig {
    pub url: String,
    pub weight: u32,
}

impl NodeConfig {
    pub fn new(url: impl Into<String>) -> Self {
        NodeConfig {
            url: url.into(),
            weight: 1,
        }
    }

    pub fn weighted(url: impl Into<String>, weight: u32) -> Self {
        NodeConfig {
            url: url.into(),
            weight,
        }
    }
}

impl<'de> Deserialize<'de> for NodeConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = NodeConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a node URL or a table { url = \"...\", weight = N }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeConfig, E> {
                Ok(NodeConfig::new(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeConfig, A::Error> {
                let mut url = None;
                let mut weight = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "url" => url = Some(map.next_value::<String>()?),
                        "weight" => weight = Some(map.next_value::<u32>()?),
                        other => return Err(de::Error::unknown_field(other, &["url", "weight"])),
                    }
                }
                let url = url.ok_or_else(|| de::Error::missing_field("url"))?;
                Ok(NodeConfig {
                    url,
                    weight: weight.unwrap_or(1),
                })
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

/// Which balancer picks a node for each request. All of them only see the nodes
/// that are healthy (alive or due for a retry, breaker not open).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BalancerKind {
    RoundRobin,
    WeightedRoundRobin,
    LeastOutstanding,
    /// Lowest response time (a time-decayed EWMA of the latency).
    Ewma,
    /// Power of two random choices, cost = peak-sensitive EWMA × (outstanding + 1)
    /// (Finagle's and linkerd's algorithm).
    #[default]
    P2cPeakEwma,
}

impl BalancerKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            BalancerKind::RoundRobin => "round_robin",
            BalancerKind::WeightedRoundRobin => "weighted_round_robin",
            BalancerKind::LeastOutstanding => "least_outstanding",
            BalancerKind::Ewma => "ewma",
            BalancerKind::P2cPeakEwma => "p2c_peak_ewma",
        }
    }
}

/// Credentials sent to every node (they replace an `Authorization` header of the
/// client). Without them, the client's own `Authorization` is passed through.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Credentials {
    Basic {
        username: String,
        password: String,
    },
    /// `api_key` is either the encoded key (`base64(id:key)`, as Kibana shows it) or
    /// given as `id` + `api_key`.
    ApiKey {
        api_key: String,
        id: Option<String>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => {
                write!(f, "Basic {{ username: {username:?}, password: \"***\" }}")
            }
            Credentials::ApiKey { id, .. } => {
                write!(f, "ApiKey {{ id: {id:?}, api_key: \"***\" }}")
            }
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the CA certificate(s) to trust instead of the Mozilla roots.
    pub ca: Option<PathBuf>,
    /// PEM client certificate chain (with `key`) for mutual TLS.
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    pub key: Option<PathBuf>,
    /// Accept any server certificate. For development only; logged as a warning.
    pub insecure: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct PoolConfig {
    /// Requests in flight to the whole cluster (each holds a connection).
    pub max_connections: usize,
    /// Requests in flight to one node; also the idle connections kept per node.
    pub max_connections_per_node: usize,
    /// How long an idle keep-alive connection is kept.
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
    /// How long a request waits for a free connection before a 429.
    #[serde(with = "duration")]
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_connections: 100,
            max_connections_per_node: 20,
            idle_timeout: Duration::from_secs(90),
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TimeoutConfig {
    #[serde(with = "duration")]
    pub connect: Duration,
    /// Longest silence while reading a response.
    #[serde(with = "duration")]
    pub read: Duration,
    /// Deadline of a whole forwarded request, retries and body included.
    #[serde(with = "duration")]
    pub total: Duration,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        TimeoutConfig {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(30),
            total: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// Period of the health checks of every node; `0s` turns them off (dead nodes
    /// are then only retried by requests).
    #[serde(with = "duration")]
    pub interval: Duration,
    /// `GET` this path; any 2xx is healthy (`/` or `/_cluster/health`).
    pub path: String,
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// A dead node is retried after `dead_backoff · 2^(n−1)`, n = failures in a row...
    #[serde(with = "duration")]
    pub dead_backoff: Duration,
    /// ... capped here (elastic-transport: 1 s and 30 s).
    #[serde(with = "duration")]
    pub dead_backoff_max: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            interval: Duration::from_secs(30),
            path: "/".into(),
            timeout: Duration::from_secs(5),
            dead_backoff: Duration::from_secs(1),
            dead_backoff_max: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct SniffConfig {
    /// Discover the cluster's nodes with `GET /_nodes/http`, on start and periodically.
    pub enabled: bool,
    #[serde(with = "duration")]
    pub interval: Duration,
    /// Scheme for sniffed nodes; defaults to the scheme of the first seed.
    pub scheme: Option<String>,
}

impl Default for SniffConfig {
    fn default() -> Self {
        SniffConfig {
            enabled: false,
            interval: Duration::from_secs(300),
            scheme: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries after the first attempt, each on another node.
    pub max_retries: u32,
    /// Retry `PUT|POST /{index}/_doc/{id}` like a read (the write is idempotent by id;
    /// a retried one may answer `updated` where the first would have said `created`).
    pub idempotent_writes: bool,
    /// Statuses that make a safe request try another node.
    pub on_status: Vec<u16>,
    /// Backoff before retry n: a random duration in [d/2, d], d = base · 2^(n−1) ≤ max.
    #[serde(with = "duration")]
    pub backoff_base: Duration,
    #[serde(with = "duration")]
    pub backoff_max: Duration,
    /// Retry budget: retries may be at most this fraction of the requests...
    pub budget_ratio: f64,
    /// ... plus this many per second (a floor for low traffic) ...
    pub budget_min_per_sec: u32,
    /// ... counted over this sliding window.
    #[serde(with = "duration")]
    pub budget_window: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 3,
            idempotent_writes: false,
            on_status: vec![429, 502, 503, 504],
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_secs(1),
            budget_ratio: 0.1,
            budget_min_per_sec: 1,
            budget_window: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    pub enabled: bool,
    /// Open after this many failures in a row...
    pub consecutive_failures: u32,
    /// ... or when at least this fraction of the requests in `window` failed ...
    pub failure_rate: f64,
    /// ... once the window holds at least `min_requests`.
    pub min_requests: u32,
    #[serde(with = "duration")]
    pub window: Duration,
    /// Open for this long, then half-open: one probe request decides. The cool-down
    /// doubles each time a probe fails, up to `max_cool_down`.
    #[serde(with = "duration")]
    pub cool_down: Duration,
    #[serde(with = "duration")]
    pub max_cool_down: Duration,
    /// Response statuses that count as failures (transport errors always do).
    pub failure_statuses: Vec<u16>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            enabled: true,
            consecutive_failures: 5,
            failure_rate: 0.5,
            min_requests: 20,
            window: Duration::from_secs(10),
            cool_down: Duration::from_secs(5),
            max_cool_down: Duration::from_secs(60),
            failure_statuses: vec![502, 503, 504],
        }
    }
}

/// Latency estimation for the `ewma` and `p2c_peak_ewma` balancers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyConfig {
    /// Decay period of the estimates (linkerd: 10 s).
    #[serde(with = "duration")]
    pub decay: Duration,
    /// Estimate of a node never measured (linkerd: 30 ms).
    #[serde(with = "duration")]
    pub default_rtt: Duration,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig {
            decay: Duration::from_secs(10),
            default_rtt: Duration::from_millis(30),
        }
    }
}

// === impl UpstreamConfig ===

impl UpstreamConfig {
    /// The config of `--upstream URL[,URL...]`: those nodes with every default.
    /// Credentials in a URL (`https://user:pass@host:9200`) become the cluster's
    /// basic credentials.
    pub fn from_urls(urls: &str) -> Result<Self, ConfigError> {
        let mut config = UpstreamConfig::default();
        for raw in urls.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let mut url = parse_node_url(raw)?;
            if !url.username().is_empty() {
                let username = percent_decode(url.username());
                let password = percent_decode(url.password().unwrap_or(""));
                let creds = Credentials::Basic { username, password };
                match &config.credentials {
                    Some(existing) if *existing != creds => {
                        return Err(ConfigError::Invalid {
                            field: "upstream".into(),
                            reason: "the URLs carry different credentials".into(),
                        })
                    }
                    _ => config.credentials = Some(creds),
                }
                let _ = url.set_username("");
                let _ = url.set_password(None);
            }
            config
                .nodes
                .push(NodeConfig::new(url.as_str().trim_end_matches('/')));
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the whole configuration, including that TLS files exist and parse.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field: &str, reason: String| ConfigError::Invalid {
            field: format!("clusters[{}].{field}", self.name),
            reason,
        };
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty".into()));
        }
        if self.nodes.is_empty() {
            return Err(ConfigError::NoNodes {
                cluster: self.name.clone(),
            });
        }
        let mut seen = HashSet::new();
        for node in &self.nodes {
            let url = parse_node_url(&node.url)?;
            if !url.username().is_empty() {
                return Err(ConfigError::InvalidUrl {
                    url: node.url.clone(),
                    reason: "put credentials in `credentials`, not in a node URL".into(),
                });
            }
            if node.weight == 0 {
                return Err(invalid(
                    "nodes.weight",
                    format!("must be at least 1 (node {})", node.url),
                ));
            }
            if !seen.insert(crate::node::base_url(&url)) {
                return Err(ConfigError::InvalidUrl {
                    url: node.url.clone(),
                    reason: "listed twice".into(),
                });
            }
        }
        match &self.credentials {
            Some(Credentials::Basic { username, .. }) if username.is_empty() => {
                return Err(invalid("credentials.username", "must not be empty".into()))
            }
            Some(Credentials::ApiKey { api_key, .. }) if api_key.is_empty() => {
                return Err(invalid("credentials.api_key", "must not be empty".into()))
            }
            _ => {}
        }
        // Reads and parses the files: a bad CA is a start-up error, not a failed request.
        crate::tls::client_config(&self.tls)?;

        let positive = |field: &str, d: Duration| {
            if d.is_zero() {
                Err(invalid(field, "must be greater than 0".into()))
            } else {
                Ok(())
            }
        };
        positive("timeouts.connect", self.timeouts.connect)?;
        positive("timeouts.read", self.timeouts.read)?;
        positive("timeouts.total", self.timeouts.total)?;
        positive("pool.acquire_timeout", self.pool.acquire_timeout)?;
        positive("health.timeout", self.health.timeout)?;
        positive("latency.decay", self.latency.decay)?;
        positive("retry.budget_window", self.retry.budget_window)?;
        if self.pool.max_connections == 0 {
            return Err(invalid("pool.max_connections", "must be at least 1".into()));
        }
        if self.pool.max_connections_per_node == 0 {
            return Err(invalid(
                "pool.max_connections_per_node",
                "must be at least 1".into(),
            ));
        }
        if !self.health.path.starts_with('/') {
            return Err(invalid(
                "health.path",
                format!("must start with '/', got [{}]", self.health.path),
            ));
        }
        crate::backoff::ExponentialBackoff::try_new(
            self.health.dead_backoff,
            self.health.dead_backoff_max,
            0.0,
        )
        .map_err(|e| invalid("health.dead_backoff", e.to_string()))?;
        crate::backoff::ExponentialBackoff::try_new(
            self.retry.backoff_base,
            self.retry.backoff_max,
            0.5,
        )
        .map_err(|e| invalid("retry.backoff_base", e.to_string()))?;
        if self.sniff.enabled {
            positive("sniff.interval", self.sniff.interval)?;
            if let Some(s) = &self.sniff.scheme {
                if s != "http" && s != "https" {
                    return Err(invalid(
                        "sniff.scheme",
                        format!("must be http or https, got [{s}]"),
                    ));
                }
            }
        }
        if self.retry.max_retries > 10 {
            return Err(invalid(
                "retry.max_retries",
                format!("at most 10, got {}", self.retry.max_retries),
            ));
        }
        if !(0.0..=10.0).contains(&self.retry.budget_ratio) || self.retry.budget_ratio.is_nan() {
            return Err(invalid(
                "retry.budget_ratio",
                format!("must be in [0, 10], got {}", self.retry.budget_ratio),
            ));
        }
        if let Some(s) = self
            .retry
            .on_status
            .iter()
            .find(|s| !(100..=599).contains(*s))
        {
            return Err(invalid(
                "retry.on_status",
                format!("not an HTTP status: {s}"),
            ));
        }
        let b = &self.breaker;
        if b.enabled {
            if b.consecutive_failures == 0 {
                return Err(invalid(
                    "breaker.consecutive_failures",
                    "must be at least 1".into(),
                ));
            }
            if !(b.failure_rate > 0.0 && b.failure_rate <= 1.0) {
                return Err(invalid(
                    "breaker.failure_rate",
                    format!("must be in (0, 1], got {}", b.failure_rate),
                ));
            }
            positive("breaker.window", b.window)?;
            positive("breaker.cool_down", b.cool_down)?;
            if b.max_cool_down < b.cool_down {
                return Err(invalid(
                    "breaker.max_cool_down",
                    "must not be less than cool_down".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Parses and checks a node URL: http(s), a host, no query or fragment.
pub(crate) fn parse_node_url(raw: &str) -> Result<url::Url, ConfigError> {
    let bad = |reason: String| ConfigError::InvalidUrl {
        url: raw.to_string(),
        reason,
    };
    let url = url::Url::parse(raw).map_err(|e| bad(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad(format!(
            "scheme must be http or https, not [{}]",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a node URL takes no query or fragment".into()));
    }
    Ok(url)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Durations as ES time values in TOML (`"10s"`, `"250ms"`, `"5m"`).
pub mod duration {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(de::Error::custom)
    }

    /// `"10s"` → 10 s; `"0"` → zero.
    pub fn parse(s: &str) -> Result<Duration, String> {
        if s.trim() == "0" {
            return Ok(Duration::ZERO);
        }
        match searchgate_core::units::parse_time("duration", s) {
            Ok(Some(d)) => Ok(d),
            Ok(None) => Err(format!("[{s}] is not a positive time value")),
            Err(e) => Err(e.reason),
        }
    }

    #[allow(clippy::manual_is_multiple_of)] // rust-version 1.85
    pub fn format(d: Duration) -> String {
        let ms = d.as_millis();
        if ms == 0 && !d.is_zero() {
            format!("{}micros", d.as_micros())
        } else if ms % 1000 != 0 {
            format!("{ms}ms")
        } else if ms % 60_000 == 0 && ms > 0 {
            format!("{}m", ms / 60_000)
        } else {
            format!("{}s", ms / 1000)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_like_json_with_defaults() {
        let c: UpstreamConfig = serde_json::from_value(serde_json::json!({
            "name": "main",
            "nodes": ["http://127.0.0.1:9200", {"url": "http://127.0.0.1:9201", "weight": 3}],
            "balancer": "least_outstanding",
            "timeouts": {"read": "5s"},
            "credentials": {"username": "elastic", "password": "pw"}
        }))
        .unwrap();
        assert_eq!(c.nodes[1], NodeConfig::weighted("http://127.0.0.1:9201", 3));
        assert_eq!(c.balancer, BalancerKind::LeastOutstanding);
        assert_eq!(c.timeouts.read, Duration::from_secs(5));
        assert_eq!(c.timeouts.connect, Duration::from_secs(10));
        assert_eq!(c.pool.max_connections, 100);
        assert_eq!(c.pool.max_connections_per_node, 20);
        assert_eq!(c.health.interval, Duration::from_secs(30));
        assert!(matches!(c.credentials, Some(Credentials::Basic { .. })));
        c.validate().unwrap();
    }

    #[test]
    fn api_key_credentials() {
        let c: Credentials =
            serde_json::from_value(serde_json::json!({"api_key": "abc=="})).unwrap();
        assert_eq!(
            c,
            Credentials::ApiKey {
                api_key: "abc==".into(),
                id: None
            }
        );
        assert!(!format!("{c:?}").contains("abc"));
    }

    #[test]
    fn unknown_fields_are_errors() {
        let e =
            serde_json::from_value::<UpstreamConfig>(serde_json::json!({"nodez": []})).unwrap_err();
        assert!(e.to_string().contains("unknown field `nodez`"), "{e}");
        let e = serde_json::from_value::<UpstreamConfig>(
            serde_json::json!({"nodes": [{"url": "http://a:1", "wieght": 2}]}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("wieght"), "{e}");
    }

    #[test]
    fn from_urls_splits_and_takes_credentials() {
        let c =
            UpstreamConfig::from_urls("http://u:p%40ss@127.0.0.1:9200/, https://u:p%40ss@h2:9243")
                .unwrap();
        assert_eq!(c.nodes.len(), 2);
        assert_eq!(c.nodes[0].url, "http://127.0.0.1:9200");
        assert_eq!(c.nodes[1].url, "https://h2:9243");
        assert_eq!(
            c.credentials,
            Some(Credentials::Basic {
                username: "u".into(),
                password: "p@ss".into()
            })
        );
    }

    #[test]
    fn validation_errors_are_clear() {
        let e = UpstreamConfig::from_urls("ftp://x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid node url [ftp://x]: scheme must be http or https, not [ftp]"
        );
        let e = UpstreamConfig::from_urls("not a url").unwrap_err();
        assert!(
            e.to_string().starts_with("invalid node url [not a url]: "),
            "{e}"
        );
        let e = UpstreamConfig::from_urls("").unwrap_err();
        assert_eq!(e.to_string(), "cluster [upstream] has no nodes");
        let e = UpstreamConfig::from_urls("http://a:1,http://a:1/").unwrap_err();
        assert!(e.to_string().contains("listed twice"), "{e}");
        let mut c = UpstreamConfig::from_urls("http://a:1").unwrap();
        c.timeouts.total = Duration::ZERO;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "invalid setting [clusters[upstream].timeouts.total]: must be greater than 0"
        );
    }

    #[test]
    fn durations_round_trip() {
        for (s, d) in [
            ("10s", 10_000),
            ("250ms", 250),
            ("5m", 300_000),
            ("1.5s", 1500),
        ] {
            assert_eq!(duration::parse(s).unwrap(), Duration::from_millis(d));
        }
        assert_eq!(duration::format(Duration::from_millis(1500)), "1500ms");
        assert_eq!(duration::format(Duration::from_secs(300)), "5m");
        assert!(duration::parse("ten").is_err());
    }
}
