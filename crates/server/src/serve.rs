//! `searchgate serve`: builds what answers the requests from the configuration (the
//! embedded engine, or the gateway in front of a cluster), binds, serves until a
//! signal, drains, and closes the backend.

use crate::config::{Config, GatewaySettings};
use crate::gateway;
use crate::routes;
use crate::shutdown;
use crate::state::{AppState, Limits};
use axum::serve::ListenerExt;
use axum::Router;
use searchgate_core::Backend;
use searchgate_engine::{Engine, EngineConfig};
use searchgate_upstream::Upstream;
use std::sync::Arc;
use tokio::net::TcpListener;
use tracing::{info, warn};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the engine in {dir}: {source}")]
    Open {
        dir: String,
        source: searchgate_core::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
    #[error("closing the backend failed: {0}")]
    Close(searchgate_core::Error),
    #[error("cannot set up the gateway: {0}")]
    Upstream(searchgate_upstream::ConfigError),
    #[error(
        "the gateway cannot reach its cluster: {0}; to start anyway, pass \
         --allow-unavailable-at-start (upstream.allow_unavailable_at_start = true)"
    )]
    Unavailable(String),
}

/// What answers the requests.
#[derive(Clone)]
pub enum Stack {
    /// The embedded engine (behind the `Backend` trait).
    Embedded(Arc<dyn Backend>),
    /// A remote cluster, every request forwarded.
    Gateway(Upstream),
}

impl Stack {
    /// Builds the stack the configuration asks for.
    pub async fn build(cfg: &Config) -> Result<Stack, ServeError> {
        match &cfg.gateway {
            None => Ok(Stack::Embedded(build_backend(cfg).await?)),
            Some(g) => Ok(Stack::Gateway(build_gateway(g).await?)),
        }
    }

    /// The application for this stack: the embedded route table or the gateway's.
    pub fn app(&self, limits: Limits) -> Router {
        match self {
            Stack::Embedded(backend) => routes::app(AppState::new(backend.clone(), limits)),
            Stack::Gateway(upstream) => gateway::app(upstream.clone(), limits),
        }
    }

    /// Flushes and closes the engine; the gateway has nothing to flush (its health
    /// task ends with the last `Upstream` clone).
    pub async fn close(&self) -> Result<(), searchgate_core::Error> {
        match self {
            Stack::Embedded(backend) => backend.close().await,
            Stack::Gateway(_) => Ok(()),
        }
    }
}

/// The embedded backend stack, built top-down from the configuration. Today: the
/// engine; the guard/optimizer/cache decorators come here later.
pub async fn build_backend(cfg: &Config) -> Result<Arc<dyn Backend>, ServeError> {
    let mut ec = EngineConfig::new(&cfg.data_dir);
    ec.cluster_name = cfg.cluster_name.clone();
    ec.node_name = cfg.node_name.clone();
    ec.writer_memory = cfg.engine.writer_memory;
    ec.writer_threads = cfg.engine.writer_threads;
    ec.auto_create_index = cfg.engine.auto_create_index;
    let engine = Engine::open(ec).await.map_err(|source| ServeError::Open {
        dir: cfg.data_dir.display().to_string(),
        source,
    })?;
    Ok(engine)
}

/// The gateway's upstream: built from the validated cluster config, then every node
/// checked once. No node answering is a start-up error unless allowed.
pub async fn build_gateway(g: &GatewaySettings) -> Result<Upstream, ServeError> {
    let upstream = Upstream::new(g.cluster.clone()).map_err(ServeError::Upstream)?;
    let report = upstream.check_health().await;
    for (url, result) in &report.nodes {
        match result {
            Ok(()) => info!(cluster = %report.cluster, node = %url, "upstream node answers"),
            Err(e) => {
                warn!(cluster = %report.cluster, node = %url, error = %e, "upstream node does not answer")
            }
        }
    }
    if let Err(e) = report.require_any_alive() {
        if !g.allow_unavailable_at_start {
            return Err(ServeError::Unavailable(e.reason));
        }
        warn!(cluster = %report.cluster, "no upstream node answers; starting anyway (allow_unavailable_at_start): requests fail until one does");
    }
    Ok(upstream)
}

/// Runs the server until SIGINT/SIGTERM, then shuts down gracefully.
pub async fn run(cfg: Config) -> Result<(), ServeError> {
    let stack = Stack::build(&cfg).await?;
    let listener = match TcpListener::bind(cfg.listen).await {
        Ok(l) => l,
        Err(source) => {
            close(&stack).await;
            return Err(ServeError::Bind {
                addr: cfg.listen,
                source,
            });
        }
    };
    let addr = listener.local_addr().unwrap_or(cfg.listen);
    match &stack {
        Stack::Embedded(_) => info!(
            listen = %addr,
            data_dir = %cfg.data_dir.display(),
            cluster_name = %cfg.cluster_name,
            node_name = %cfg.node_name,
            "searchgate is serving the Elasticsearch API"
        ),
        Stack::Gateway(up) => info!(
            listen = %addr,
            cluster = %up.name(),
            nodes = %up.node_urls().join(","),
            balancer = %up.config().balancer.as_str(),
            "searchgate is serving the Elasticsearch API as a gateway"
        ),
    }
    let app = stack.app(cfg.limits);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });

    tokio::select! {
        res = &mut server => {
            close(&stack).await;
            return match res {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(ServeError::Serve(e)),
                Err(e) => Err(ServeError::Serve(std::io::Error::other(e.to_string()))),
            };
        }
        sig = shutdown::signal() => {
            info!(signal = sig, timeout = ?cfg.shutdown_timeout, "shutting down: no new connections, draining in-flight requests");
        }
    }
    let _ = stop_tx.send(());
    tokio::select! {
        _ = &mut server => info!("all requests drained"),
        _ = tokio::time::sleep(cfg.shutdown_timeout) => {
            warn!(timeout = ?cfg.shutdown_timeout, "requests still in flight after the shutdown timeout; closing anyway");
            server.abort();
        }
        sig = shutdown::signal() => {
            warn!(signal = sig, "second signal: closing without waiting for in-flight requests");
            server.abort();
        }
    }
    stack.close().await.map_err(ServeError::Close)?;
    match stack {
        Stack::Embedded(_) => info!("backend flushed and closed; bye"),
        Stack::Gateway(_) => info!("bye"),
    }
    Ok(())
}

async fn close(stack: &Stack) {
    if let Err(e) = stack.close().await {
        warn!(error = %e, "closing the backend failed");
    }
}
