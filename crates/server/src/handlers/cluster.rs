//! Cluster-level endpoints: `GET|HEAD /`, `_cluster/health`, and searchgate's own
//! liveness probe `_searchgate/health`.

use super::{EsPath, MaybeIndex};
use crate::error::ApiResult;
use crate::params::{Params, INDICES_OPTIONS};
use crate::response;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use searchgate_core::model::{HealthStatus, IndexTarget};
use searchgate_core::Error;
use serde_json::json;
use std::time::Duration;

/// The Elasticsearch version searchgate speaks.
pub const ES_VERSION: &str = "8.17.0";
pub const LUCENE_VERSION: &str = "9.12.0";

/// `GET /` (and `HEAD /`, whose body axum drops).
pub async fn root(State(st): State<AppState>, p: Params) -> ApiResult {
    p.allow(&[])?;
    let id = st.backend.identity().await?;
    Ok(response::ok(&json!({
        "name": id.node_name,
        "cluster_name": id.cluster_name,
        "cluster_uuid": id.cluster_uuid,
        "version": {
            "number": ES_VERSION,
            "build_flavor": "default",
            "build_type": "tar",
            "build_hash": concat!("searchgate-", env!("CARGO_PKG_VERSION")),
            "build_date": "2024-12-11T12:08:05.663969764Z",
            "build_snapshot": false,
            "lucene_version": LUCENE_VERSION,
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0"
        },
        "tagline": "You Know, for Search"
    })))
}

/// `GET /_searchgate/health`: the process is up and serving.
pub async fn liveness(p: Params) -> ApiResult {
    p.allow(&[])?;
    Ok(response::ok(&json!({"status": "ok"})))
}

const HEALTH_PARAMS: &[&str] = &[
    "level",
    "local",
    "master_timeout",
    "timeout",
    "wait_for_active_shards",
    "wait_for_events",
    "wait_for_nodes",
    "wait_for_no_initializing_shards",
    "wait_for_no_relocating_shards",
    "wait_for_status",
    "return_200_for_cluster_health_timeout",
];

fn parse_status(s: &str) -> Result<HealthStatus, Error> {
    match s.to_ascii_lowercase().as_str() {
        "green" => Ok(HealthStatus::Green),
        "yellow" => Ok(HealthStatus::Yellow),
        "red" => Ok(HealthStatus::Red),
        other => Err(Error::illegal_argument(format!(
            "unknown cluster health status [{other}]"
        ))),
    }
}

/// `GET /_cluster/health` and `GET /_cluster/health/{index}`: with `wait_for_status`,
/// polls until the status is at least as good or `timeout` (default 30s) passes; then
/// ES answers 408 with `timed_out`.
pub async fn health(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
) -> ApiResult {
    p.allow(&[HEALTH_PARAMS, INDICES_OPTIONS])?;
    let wait_for = p.get("wait_for_status").map(parse_status).transpose()?;
    let timeout = p
        .time("timeout")?
        .flatten()
        .unwrap_or(Duration::from_secs(30));
    let return_200 = p.flag("return_200_for_cluster_health_timeout")?;
    let target: Option<IndexTarget> = path.index.map(|i| p.target(&i)).transpose()?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut h = st.backend.health(target.as_ref()).await?;
        let satisfied = wait_for.is_none_or(|w| h.status <= w);
        let now = tokio::time::Instant::now();
        if satisfied || now >= deadline {
            h.timed_out = !satisfied;
            let status = if satisfied || return_200 {
                StatusCode::OK
            } else {
                StatusCode::REQUEST_TIMEOUT
            };
            return Ok(response::json(status, &h));
        }
        tokio::time::sleep((deadline - now).min(Duration::from_millis(100))).await;
    }
}
