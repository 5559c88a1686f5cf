//! `searchgate serve`: builds the backend stack from the configuration, binds,
//! serves until a signal, drains, and closes the backend.

use crate::config::Config;
use crate::routes;
use crate::shutdown;
use crate::state::AppState;
use axum::serve::ListenerExt;
use searchgate_core::Backend;
use searchgate_engine::{Engine, EngineConfig};
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
}

/// The backend stack, built top-down from the configuration. Today: the embedded
/// engine; the guard/optimizer/cache decorators and the gateway come here later.
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

/// Runs the server until SIGINT/SIGTERM, then shuts down gracefully.
pub async fn run(cfg: Config) -> Result<(), ServeError> {
    let backend = build_backend(&cfg).await?;
    let listener = match TcpListener::bind(cfg.listen).await {
        Ok(l) => l,
        Err(source) => {
            close(&backend).await;
            return Err(ServeError::Bind {
                addr: cfg.listen,
                source,
            });
        }
    };
    let addr = listener.local_addr().unwrap_or(cfg.listen);
    info!(
        listen = %addr,
        data_dir = %cfg.data_dir.display(),
        cluster_name = %cfg.cluster_name,
        node_name = %cfg.node_name,
        "searchgate is serving the Elasticsearch API"
    );
    let app = routes::app(AppState::new(backend.clone(), cfg.limits));
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
            close(&backend).await;
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
    backend.close().await.map_err(ServeError::Close)?;
    info!("backend flushed and closed; bye");
    Ok(())
}

async fn close(backend: &Arc<dyn Backend>) {
    if let Err(e) = backend.close().await {
        warn!(error = %e, "closing the backend failed");
    }
}
