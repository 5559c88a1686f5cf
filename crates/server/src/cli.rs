//! The command line: `searchgate serve [OPTIONS]` and `searchgate --version`.
//! Flags override the config file and the environment (see `config`).

use crate::config::{HttpOverrides, Overrides, RawConfig, UpstreamOverrides};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "searchgate",
    version,
    long_version = concat!(env!("CARGO_PKG_VERSION"), " (speaks the Elasticsearch 8.17 REST API)"),
    about = "A search server that speaks the Elasticsearch REST API (it is not Elasticsearch)",
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Elasticsearch REST API from the embedded engine, or as a gateway in
    /// front of an Elasticsearch/OpenSearch cluster (--upstream)
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Configuration is layered: defaults < --config FILE < SEARCHGATE_* environment \
(e.g. SEARCHGATE_LISTEN, SEARCHGATE_HTTP__MAX_CONTENT_LENGTH) < flags.

Gateway mode: with --upstream (SEARCHGATE_UPSTREAM, or `urls` in the file's [upstream] table), \
or with one [[clusters]] entry in the file (nodes, credentials, TLS, balancer, pool, timeouts, \
health checks, sniffing, retries, breaker: see searchgate.example.toml), every request is \
forwarded to that cluster and its answer streamed back; only /_searchgate/health and \
/_searchgate/nodes (the upstream nodes' state) are answered locally. Storage and engine \
settings are then unused. At start-up the nodes are checked and searchgate exits if none \
answers, unless --allow-unavailable-at-start."
)]
pub struct ServeArgs {
    /// Directory for indices and their write-ahead logs [default: ./data]
    #[arg(long, value_name = "DIR", help_heading = "Storage")]
    pub data_dir: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:9200]
    #[arg(long, value_name = "ADDR", help_heading = "Network")]
    pub listen: Option<String>,

    /// Largest request body accepted, like ES's http.max_content_length [default: 100mb]
    #[arg(long, value_name = "SIZE", help_heading = "Network")]
    pub max_content_length: Option<String>,

    /// Cluster name shown by GET / and _cluster/health [default: searchgate]
    #[arg(long, value_name = "NAME", help_heading = "Cluster")]
    pub cluster_name: Option<String>,

    /// Node name shown by GET / [default: the host name]
    #[arg(long, value_name = "NAME", help_heading = "Cluster")]
    pub node_name: Option<String>,

    /// Serve as a gateway in front of this Elasticsearch/OpenSearch cluster instead of
    /// the embedded engine: node URLs, comma-separated; credentials in a URL
    /// (https://user:pass@host:9200) become basic auth [env: SEARCHGATE_UPSTREAM]
    #[arg(long, value_name = "URL[,URL...]", help_heading = "Gateway")]
    pub upstream: Option<String>,

    /// Start the gateway even if no node of the cluster answers the start-up check
    /// (requests fail with 502/503 until one does) [config: upstream.allow_unavailable_at_start]
    #[arg(long, help_heading = "Gateway")]
    pub allow_unavailable_at_start: bool,

    /// TOML configuration file
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        env = "SEARCHGATE_CONFIG",
        help_heading = "General"
    )]
    pub config: Option<PathBuf>,

    /// Log level or filter (error, warn, info, debug, trace; RUST_LOG wins) [default: info]
    #[arg(long, value_name = "LEVEL", help_heading = "General")]
    pub log_level: Option<String>,
}

impl ServeArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            data_dir: self.data_dir.clone(),
            listen: self.listen.clone(),
            cluster_name: self.cluster_name.clone(),
            node_name: self.node_name.clone(),
            log_level: self.log_level.clone(),
            http: HttpOverrides {
                max_content_length: self.max_content_length.clone(),
            },
            upstream: UpstreamOverrides {
                urls: self.upstream.clone(),
                allow_unavailable_at_start: self.allow_unavailable_at_start.then_some(true),
            },
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colors only on a terminal: logs redirected to a file stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let config = match RawConfig::load(args.config.as_deref(), &env, &args.overrides())
        .and_then(RawConfig::validate)
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("searchgate: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log_level);
    // One thread: tokio's current-thread scheduler, which skips the work-stealing
    // machinery and the hand-off between the main and the worker thread of a
    // one-worker multi-thread runtime (forwarding to a static upstream at 2,000
    // req/s: 58-61 vs 64-69 us of CPU per request; see BENCHMARKS.md).
    let mut builder = match config.worker_threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().thread_name("searchgate").build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("searchgate: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crate::serve::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "searchgate stopped");
            eprintln!("searchgate: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_flags() {
        let cli = Cli::try_parse_from([
            "searchgate",
            "serve",
            "--data-dir",
            "/d",
            "--listen",
            "0.0.0.0:9201",
            "--max-content-length",
            "1kb",
        ])
        .unwrap();
        let Command::Serve(a) = cli.command;
        let o = a.overrides();
        assert_eq!(o.data_dir, Some(PathBuf::from("/d")));
        assert_eq!(o.http.max_content_length.as_deref(), Some("1kb"));
    }
}
