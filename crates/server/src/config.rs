//! Configuration: defaults ← TOML file (`--config`) ← `SEARCHGATE_*` environment
//! (nested keys with `__`, e.g. `SEARCHGATE_HTTP__MAX_CONTENT_LENGTH=10mb`) ← CLI
//! flags. The merged [`RawConfig`] is checked once by [`RawConfig::validate`] into a
//! [`Config`] whose every bound is explicit.
//!
//! ```toml
//! data_dir = "./data"
//! listen = "127.0.0.1:9200"
//! cluster_name = "searchgate"
//! # node_name = "node-1"          # default: the host name
//! log_level = "info"              # or an EnvFilter directive; RUST_LOG wins
//! destructive_requires_name = true  # refuse DELETE /* and DELETE /_all (ES 8 default)
//!
//! [http]
//! max_content_length = "100mb"    # like ES's http.max_content_length
//! max_nesting_depth = 100         # deepest JSON nesting in a request body
//! max_bulk_actions = 100000       # most actions in one _bulk request
//! shutdown_timeout = "30s"        # drain time for in-flight requests on SIGTERM
//! worker_threads = 0              # threads serving HTTP (and the gateway); 0: one per core, 1: single-threaded
//!
//! [engine]
//! writer_memory = "64mb"          # per index writer
//! writer_threads = 1
//! auto_create_index = true        # action.auto_create_index
//!
//! # Gateway mode, instead of the embedded engine: either node URLs ...
//! [upstream]
//! urls = "http://10.0.0.1:9200,http://10.0.0.2:9200"   # --upstream, SEARCHGATE_UPSTREAM
//! allow_unavailable_at_start = false   # start even when no node answers
//!
//! # ... or one cluster with every setting of `searchgate_upstream::UpstreamConfig`
//! [[clusters]]
//! name = "main"
//! nodes = ["https://10.0.0.1:9200"]
//! tls = { ca = "/etc/ssl/es-ca.pem" }
//! ```

use crate::state::Limits;
use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use searchgate_core::units::{format_bytes, parse_bytes, parse_time};
use searchgate_upstream::UpstreamConfig;
use serde::{Deserialize, Serialize};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Top-level keys the environment may set; other `SEARCHGATE_*` variables (used by
/// scripts and tests) are not configuration and are left alone.
const ENV_KEYS: &[&str] = &[
    "destructive_requires_name",
    "data_dir",
    "listen",
    "cluster_name",
    "node_name",
    "log_level",
    "http",
    "engine",
    "upstream",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: `{key}` = {value:?}: {why}")]
    Invalid {
        key: &'static str,
        value: String,
        why: String,
    },
    /// The gateway's cluster cannot work: a bad node URL, an unreadable or bad CA
    /// file, a bound out of range.
    #[error("configuration: {what}: {source}")]
    Upstream {
        what: String,
        source: searchgate_upstream::ConfigError,
    },
}

fn invalid(key: &'static str, value: impl ToString, why: impl ToString) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: value.to_string(),
        why: why.to_string(),
    }
}

/// A byte size or duration as a TOML/env value: a string with a unit, or a number
/// (bytes; for durations, milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Unit {
    Num(u64),
    Str(String),
}

impl Unit {
    fn s(v: &str) -> Unit {
        Unit::Str(v.to_string())
    }

    fn bytes(&self, key: &'static str) -> Result<u64, ConfigError> {
        match self {
            Unit::Num(n) => Ok(*n),
            Unit::Str(s) => parse_bytes(key, s)
                .map_err(|_| invalid(key, s, "not a byte size (e.g. 100mb, 512kb, 1048576)")),
        }
    }

    fn duration(&self, key: &'static str) -> Result<Duration, ConfigError> {
        match self {
            Unit::Num(n) => Ok(Duration::from_millis(*n)),
            Unit::Str(s) => match parse_time(key, s) {
                Ok(Some(d)) => Ok(d),
                Ok(None) => Err(invalid(key, s, "must be positive")),
                Err(_) => Err(invalid(key, s, "not a time value (e.g. 30s, 500ms)")),
            },
        }
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unit::Num(n) => write!(f, "{n}"),
            Unit::Str(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawHttp {
    pub max_content_length: Unit,
    pub max_nesting_depth: usize,
    pub max_bulk_actions: usize,
    pub shutdown_timeout: Unit,
    /// Worker threads of the async runtime that serves HTTP (and forwards, in gateway
    /// mode); 0 means one per core, 1 a single-threaded runtime (no work stealing,
    /// no cross-thread wake-ups: the cheapest per request when the proxy shares its
    /// cores). The engine's indexing and search threads are separate.
    pub worker_threads: usize,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            max_content_length: Unit::s("100mb"),
            max_nesting_depth: 100,
            max_bulk_actions: 100_000,
            shutdown_timeout: Unit::s("30s"),
            worker_threads: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawEngine {
    pub writer_memory: Unit,
    pub writer_threads: usize,
    pub auto_create_index: bool,
}

impl Default for RawEngine {
    fn default() -> Self {
        RawEngine {
            writer_memory: Unit::s("64mb"),
            writer_threads: 1,
            auto_create_index: true,
        }
    }
}

/// Node URLs of `upstream.urls`: one comma-separated string (as `--upstream` and
/// `SEARCHGATE_UPSTREAM` give them) or a TOML array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Urls {
    One(String),
    Many(Vec<String>),
}

impl Urls {
    fn joined(&self) -> String {
        match self {
            Urls::One(s) => s.clone(),
            Urls::Many(v) => v.join(","),
        }
    }
}

/// `[upstream]`: gateway mode from node URLs, and the start-up policy of the gateway.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawUpstream {
    /// Serve as a gateway in front of these nodes (every upstream setting default).
    pub urls: Option<Urls>,
    /// Start even when no node of the cluster answers the start-up health check.
    pub allow_unavailable_at_start: bool,
}

/// The configuration as layered, before validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub data_dir: PathBuf,
    pub listen: String,
    pub cluster_name: String,
    pub node_name: Option<String>,
    pub log_level: String,
    /// `action.destructive_requires_name`: refuse `DELETE /*` and `DELETE /_all`.
    pub destructive_requires_name: bool,
    pub http: RawHttp,
    pub engine: RawEngine,
    pub upstream: RawUpstream,
    /// Gateway mode with one cluster described in full (nodes, credentials, TLS,
    /// balancer, timeouts ...). Several clusters (federation) are not built yet.
    pub clusters: Vec<UpstreamConfig>,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            data_dir: PathBuf::from("./data"),
            listen: "127.0.0.1:9200".into(),
            cluster_name: "searchgate".into(),
            node_name: None,
            log_level: "info".into(),
            destructive_requires_name: true,
            http: RawHttp::default(),
            engine: RawEngine::default(),
            upstream: RawUpstream::default(),
            clusters: Vec::new(),
        }
    }
}

/// The settings CLI flags can override: only those given are set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    #[serde(skip_serializing_if = "HttpOverrides::is_empty")]
    pub http: HttpOverrides,
    #[serde(skip_serializing_if = "UpstreamOverrides::is_empty")]
    pub upstream: UpstreamOverrides,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct UpstreamOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_unavailable_at_start: Option<bool>,
}

impl UpstreamOverrides {
    fn is_empty(&self) -> bool {
        self.urls.is_none() && self.allow_unavailable_at_start.is_none()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct HttpOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_content_length: Option<String>,
}

impl HttpOverrides {
    fn is_empty(&self) -> bool {
        self.max_content_length.is_none()
    }
}

/// Settings of the embedded engine.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    pub writer_memory: usize,
    pub writer_threads: usize,
    pub auto_create_index: bool,
}

/// Gateway mode: the one cluster searchgate forwards every request to.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewaySettings {
    /// Validated (node URLs, TLS files, bounds).
    pub cluster: UpstreamConfig,
    /// Start even when no node answers the start-up health check.
    pub allow_unavailable_at_start: bool,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub cluster_name: String,
    pub node_name: String,
    pub log_level: String,
    pub limits: Limits,
    pub shutdown_timeout: Duration,
    /// `http.worker_threads`; `None`: one per core.
    pub worker_threads: Option<usize>,
    pub engine: EngineSettings,
    /// `Some`: serve as a gateway in front of a cluster instead of the embedded engine.
    pub gateway: Option<GatewaySettings>,
}

impl RawConfig {
    /// Layers the sources: defaults, then `file`, then `env` (name → value pairs,
    /// normally `std::env::vars()`), then the CLI `overrides`.
    pub fn load(
        file: Option<&Path>,
        env: &[(String, String)],
        overrides: &Overrides,
    ) -> Result<RawConfig, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(RawConfig::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(invalid("--config", path.display(), "no such file"));
            }
            fig = fig.merge(Toml::file(path));
        }
        // The environment is passed in (not read here) so that tests need no
        // `set_var`; keys nest with `__` as figment's `Env::split("__")` does.
        let mut env_fig = Figment::new();
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("SEARCHGATE_") else {
                continue;
            };
            let key = rest.to_ascii_lowercase();
            let top = key.split("__").next().unwrap_or_default();
            if !ENV_KEYS.contains(&top) {
                continue;
            }
            // `SEARCHGATE_UPSTREAM` is the URL list of `--upstream`: a string, kept
            // as it is (the other `upstream.*` keys nest as usual).
            if key == "upstream" {
                env_fig = env_fig.merge(Serialized::default("upstream.urls", v.as_str()));
                continue;
            }
            let dotted = key.replace("__", ".");
            // Values read as figment's Env reads them: numbers, booleans, else strings.
            let Ok(value) = v.parse::<figment::value::Value>();
            env_fig = env_fig.merge(Serialized::default(&dotted, value));
        }
        fig = fig.merge(env_fig).merge(Serialized::defaults(overrides));
        fig.extract().map_err(|e| ConfigError::Load(Box::new(e)))
    }

    pub fn validate(self) -> Result<Config, ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "", "must not be empty"));
        }
        let listen = match self.listen.parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => self
                .listen
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .ok_or_else(|| {
                    invalid(
                        "listen",
                        &self.listen,
                        "not an address (e.g. 127.0.0.1:9200)",
                    )
                })?,
        };
        if self.cluster_name.trim().is_empty() {
            return Err(invalid(
                "cluster_name",
                &self.cluster_name,
                "must not be empty",
            ));
        }
        let node_name = match self.node_name {
            Some(n) if n.trim().is_empty() => {
                return Err(invalid("node_name", n, "must not be empty"))
            }
            Some(n) => n,
            None => default_node_name(),
        };
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .map_err(|e| invalid("log_level", &self.log_level, e))?;

        let h = &self.http;
        let max_content_length = h.max_content_length.bytes("http.max_content_length")?;
        if max_content_length == 0 || max_content_length > i32::MAX as u64 {
            return Err(invalid(
                "http.max_content_length",
                &h.max_content_length,
                "must be between 1 byte and 2gb",
            ));
        }
        if !(1..=10_000).contains(&h.max_nesting_depth) {
            return Err(invalid(
                "http.max_nesting_depth",
                h.max_nesting_depth,
                "must be between 1 and 10000",
            ));
        }
        if h.max_bulk_actions == 0 {
            return Err(invalid(
                "http.max_bulk_actions",
                h.max_bulk_actions,
                "must be at least 1",
            ));
        }
        let shutdown_timeout = h.shutdown_timeout.duration("http.shutdown_timeout")?;
        if h.worker_threads > 1024 {
            return Err(invalid(
                "http.worker_threads",
                h.worker_threads,
                "must be between 0 (one per core) and 1024",
            ));
        }

        let e = &self.engine;
        if !(1..=64).contains(&e.writer_threads) {
            return Err(invalid(
                "engine.writer_threads",
                e.writer_threads,
                "must be between 1 and 64",
            ));
        }
        let writer_memory = e.writer_memory.bytes("engine.writer_memory")?;
        // tantivy wants at least 15 MB per writer thread.
        let min_memory = e.writer_threads as u64 * (15 << 20);
        if !(min_memory..=(4 << 30)).contains(&writer_memory) {
            return Err(invalid(
                "engine.writer_memory",
                &e.writer_memory,
                format!(
                    "must be between {} (15mb per writer thread) and 4gb",
                    format_bytes(min_memory)
                ),
            ));
        }

        let gateway = gateway_settings(&self.upstream, self.clusters)?;

        Ok(Config {
            data_dir: self.data_dir,
            listen,
            cluster_name: self.cluster_name,
            node_name,
            log_level: self.log_level,
            limits: Limits {
                max_content_length,
                max_nesting_depth: h.max_nesting_depth,
                max_bulk_actions: h.max_bulk_actions,
                destructive_requires_name: self.destructive_requires_name,
            },
            shutdown_timeout,
            worker_threads: (h.worker_threads > 0).then_some(h.worker_threads),
            engine: EngineSettings {
                writer_memory: writer_memory as usize,
                writer_threads: e.writer_threads,
                auto_create_index: e.auto_create_index,
            },
            gateway,
        })
    }
}

/// Gateway mode from `upstream.urls` or `[[clusters]]` (not both; one cluster).
fn gateway_settings(
    upstream: &RawUpstream,
    mut clusters: Vec<UpstreamConfig>,
) -> Result<Option<GatewaySettings>, ConfigError> {
    let cluster = match (&upstream.urls, clusters.len()) {
        (None, 0) => return Ok(None),
        (Some(urls), 0) => {
            UpstreamConfig::from_urls(&urls.joined()).map_err(|source| ConfigError::Upstream {
                what: "`upstream.urls` (--upstream, SEARCHGATE_UPSTREAM)".into(),
                source,
            })?
        }
        (Some(urls), _) => {
            return Err(invalid(
                "upstream.urls",
                urls.joined(),
                "--upstream (upstream.urls, SEARCHGATE_UPSTREAM) and [[clusters]] both name \
                 the gateway's cluster: use one of them",
            ))
        }
        (None, 1) => {
            let cluster = clusters.remove(0);
            cluster.validate().map_err(|source| ConfigError::Upstream {
                what: format!("[[clusters]] entry [{}]", cluster.name),
                source,
            })?;
            cluster
        }
        (None, n) => {
            let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
            return Err(invalid(
                "clusters",
                format!("{n} clusters: {}", names.join(", ")),
                "federation is not built yet: the gateway serves exactly one cluster; \
                 keep one [[clusters]] entry",
            ));
        }
    };
    Ok(Some(GatewaySettings {
        cluster,
        allow_unavailable_at_start: upstream.allow_unavailable_at_start,
    }))
}

/// ES names a node after its host by default.
fn default_node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "searchgate-1".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The configuration from these layers, which must load and validate.
    fn valid(file: Option<&Path>, env: &[(String, String)], cli: &Overrides) -> Config {
        RawConfig::load(file, env, cli).unwrap().validate().unwrap()
    }

    /// Why validation refuses these CLI flags (the layers themselves must load).
    fn validation_error(cli: &Overrides) -> String {
        RawConfig::load(None, &[], cli)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_validate() {
        let c = valid(None, &[], &Overrides::default());
        assert_eq!(c.listen, "127.0.0.1:9200".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.limits.max_content_length, 100 << 20);
        assert_eq!(c.limits.max_nesting_depth, 100);
    }

    #[test]
    fn layers_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sg.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9300\"\ncluster_name = \"from-file\"\n[http]\nmax_content_length = \"1mb\"\nmax_nesting_depth = 50\n",
        )
        .unwrap();
        let env = env(&[
            ("SEARCHGATE_CLUSTER_NAME", "from-env"),
            ("SEARCHGATE_HTTP__MAX_NESTING_DEPTH", "20"),
            ("SEARCHGATE_BIN", "/not/config"),
            ("SEARCHGATE_URL", "http://x"),
        ]);
        let cli = Overrides {
            listen: Some("127.0.0.1:9400".into()),
            ..Default::default()
        };
        let c = valid(Some(&file), &env, &cli);
        assert_eq!(c.listen.port(), 9400);
        assert_eq!(c.cluster_name, "from-env");
        assert_eq!(c.limits.max_content_length, 1 << 20);
        assert_eq!(c.limits.max_nesting_depth, 20);
    }

    #[test]
    fn env_numbers_and_strings() {
        let env = env(&[
            ("SEARCHGATE_HTTP__MAX_CONTENT_LENGTH", "2048"),
            ("SEARCHGATE_DATA_DIR", "/tmp/x"),
        ]);
        let c = valid(None, &env, &Overrides::default());
        assert_eq!(c.limits.max_content_length, 2048);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn example_file_is_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("searchgate.example.toml");
        let from_file = valid(Some(&path), &[], &Overrides::default());
        let defaults = RawConfig::default().validate().unwrap();
        assert_eq!(from_file, defaults);
    }

    #[test]
    fn clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sg.toml");
        std::fs::write(&file, "[http]\nmax_content_lenght = \"1mb\"\n").unwrap();
        let e = RawConfig::load(Some(&file), &[], &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_content_lenght"), "{e}");

        let cli = Overrides {
            http: HttpOverrides {
                max_content_length: Some("lots".into()),
            },
            ..Default::default()
        };
        let e = validation_error(&cli);
        assert!(
            e.contains("http.max_content_length") && e.contains("lots"),
            "{e}"
        );

        let cli = Overrides {
            listen: Some("nowhere".into()),
            ..Default::default()
        };
        let e = validation_error(&cli);
        assert!(e.contains("listen"), "{e}");

        let e = RawConfig::load(Some(Path::new("/no/such.toml")), &[], &Overrides::default())
            .unwrap_err();
        assert!(e.to_string().contains("no such file"));
    }

    fn gateway(file: Option<&Path>, env: &[(String, String)], cli: &Overrides) -> GatewaySettings {
        valid(file, env, cli).gateway.expect("gateway mode")
    }

    fn load_error(file: Option<&Path>, env: &[(String, String)], cli: &Overrides) -> String {
        match RawConfig::load(file, env, cli) {
            Ok(raw) => raw.validate().unwrap_err().to_string(),
            Err(e) => e.to_string(),
        }
    }

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let file = dir.path().join("sg.toml");
        std::fs::write(&file, text).unwrap();
        file
    }

    #[test]
    fn gateway_from_urls_in_every_layer() {
        assert_eq!(valid(None, &[], &Overrides::default()).gateway, None);
        let g = gateway(
            None,
            &env(&[(
                "SEARCHGATE_UPSTREAM",
                "http://127.0.0.1:9200, http://127.0.0.1:9201",
            )]),
            &Overrides::default(),
        );
        let urls: Vec<&str> = g.cluster.nodes.iter().map(|n| n.url.as_str()).collect();
        assert_eq!(urls, ["http://127.0.0.1:9200", "http://127.0.0.1:9201"]);
        assert!(!g.allow_unavailable_at_start);

        let dir = tempfile::tempdir().unwrap();
        let file = write(
            &dir,
            "[upstream]\nurls = [\"http://h1:9200\", \"http://h2:9200\"]\nallow_unavailable_at_start = true\n",
        );
        let g = gateway(Some(&file), &[], &Overrides::default());
        assert_eq!(g.cluster.nodes.len(), 2);
        assert!(g.allow_unavailable_at_start);
        // env beats the file, flags beat env
        let e = env(&[("SEARCHGATE_UPSTREAM", "http://from-env:9200")]);
        let g = gateway(Some(&file), &e, &Overrides::default());
        assert_eq!(g.cluster.nodes[0].url, "http://from-env:9200");
        assert!(g.allow_unavailable_at_start, "the rest of [upstream] stays");
        let cli = Overrides {
            upstream: UpstreamOverrides {
                urls: Some("http://u:p@from-cli:9200".into()),
                allow_unavailable_at_start: None,
            },
            ..Default::default()
        };
        let g = gateway(Some(&file), &e, &cli);
        assert_eq!(g.cluster.nodes[0].url, "http://from-cli:9200");
        assert!(g.cluster.credentials.is_some());
        let e = env(&[
            ("SEARCHGATE_UPSTREAM", "http://h:9200"),
            ("SEARCHGATE_UPSTREAM__ALLOW_UNAVAILABLE_AT_START", "true"),
        ]);
        assert!(gateway(None, &e, &Overrides::default()).allow_unavailable_at_start);
    }

    #[test]
    fn gateway_from_a_clusters_entry() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            &dir,
            r#"
[[clusters]]
name = "main"
nodes = ["http://127.0.0.1:9200", { url = "http://127.0.0.1:9201", weight = 3 }]
balancer = "round_robin"
timeouts = { read = "5s" }
credentials = { api_key = "abc==" }
"#,
        );
        let g = gateway(Some(&file), &[], &Overrides::default());
        assert_eq!(g.cluster.name, "main");
        assert_eq!(g.cluster.nodes[1].weight, 3);
        assert_eq!(
            g.cluster.balancer,
            searchgate_upstream::BalancerKind::RoundRobin
        );
        assert_eq!(g.cluster.timeouts.read, Duration::from_secs(5));
        assert_eq!(g.cluster.timeouts.connect, Duration::from_secs(10));
    }

    /// The commented `[[clusters]]` example of `searchgate.example.toml` parses, and
    /// the values it shows are the defaults (but for its nodes, credentials and tls).
    #[test]
    fn example_clusters_entry_is_valid_and_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("searchgate.example.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let start = text.find("# [[clusters]]").expect("a [[clusters]] example");
        let entry: Vec<&str> = text[start..]
            .lines()
            .take_while(|l| l.starts_with('#'))
            .filter(|l| !l.starts_with("#  ")) // continued comments
            .map(|l| l.trim_start_matches("# "))
            .filter(|l| !l.starts_with("tls"))
            .collect();
        assert!(entry.len() > 10, "{entry:?}");
        let dir = tempfile::tempdir().unwrap();
        let file = write(&dir, &entry.join("\n"));
        let g = gateway(Some(&file), &[], &Overrides::default());
        let mut expected = UpstreamConfig {
            nodes: vec![
                searchgate_upstream::NodeConfig::new("http://10.0.0.1:9200"),
                searchgate_upstream::NodeConfig::weighted("http://10.0.0.2:9200", 2),
            ],
            ..UpstreamConfig::default()
        };
        assert!(g.cluster.credentials.is_some());
        expected.credentials = g.cluster.credentials.clone();
        assert_eq!(g.cluster, expected);
    }

    #[test]
    fn gateway_errors_are_clear() {
        let cli = |urls: &str| Overrides {
            upstream: UpstreamOverrides {
                urls: Some(urls.into()),
                allow_unavailable_at_start: None,
            },
            ..Default::default()
        };
        let e = load_error(None, &[], &cli("htp://x:9200"));
        assert!(
            e.contains("--upstream") && e.contains("invalid node url [htp://x:9200]"),
            "{e}"
        );
        let e = load_error(None, &[], &cli(""));
        assert!(e.contains("has no nodes"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let file = write(
            &dir,
            "[[clusters]]\nname = \"secure\"\nnodes = [\"https://127.0.0.1:9200\"]\ntls = { ca = \"/no/such/ca.pem\" }\n",
        );
        let e = load_error(Some(&file), &[], &Overrides::default());
        assert!(
            e.contains("[[clusters]] entry [secure]") && e.contains("/no/such/ca.pem"),
            "{e}"
        );
        // a CA file that is not a certificate
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate\n").unwrap();
        let file = write(
            &dir,
            &format!(
                "[[clusters]]\nnodes = [\"https://127.0.0.1:9200\"]\ntls = {{ ca = {:?} }}\n",
                ca.display().to_string()
            ),
        );
        let e = load_error(Some(&file), &[], &Overrides::default());
        assert!(e.contains(&ca.display().to_string()), "{e}");

        let file = write(
            &dir,
            "[[clusters]]\nname = \"a\"\nnodes = [\"http://h1:9200\"]\n[[clusters]]\nname = \"b\"\nnodes = [\"http://h2:9200\"]\n",
        );
        let e = load_error(Some(&file), &[], &Overrides::default());
        assert!(
            e.contains("federation is not built yet") && e.contains("a, b"),
            "{e}"
        );
        let e = load_error(Some(&file), &[], &cli("http://h3:9200"));
        assert!(e.contains("use one of them"), "{e}");

        let file = write(&dir, "[[clusters]]\nnodez = [\"http://h1:9200\"]\n");
        let e = load_error(Some(&file), &[], &Overrides::default());
        assert!(e.contains("nodez"), "{e}");
        let file = write(&dir, "[upstream]\nallow_unavailable = true\n");
        let e = load_error(Some(&file), &[], &Overrides::default());
        assert!(e.contains("allow_unavailable"), "{e}");
    }
}
