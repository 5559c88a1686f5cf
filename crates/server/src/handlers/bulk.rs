//! `_bulk`: NDJSON in, per-item results out (always 200 unless the request as a
//! whole is malformed).

use super::{EsPath, MaybeIndex};
use crate::body::Body;
use crate::error::ApiResult;
use crate::params::Params;
use crate::response;
use crate::state::AppState;
use axum::extract::State;
use searchgate_core::model::parse_bulk;
use searchgate_core::Error;

const BULK: &[&str] = &[
    "refresh",
    "routing",
    "timeout",
    "wait_for_active_shards",
    "pipeline",
    "require_alias",
    "require_data_stream",
    "list_executed_pipelines",
    "include_source_on_error",
    "_source",
    "_source_includes",
    "_source_excludes",
    "type",
];

/// `POST|PUT /_bulk` and `POST|PUT /{index}/_bulk` (the default `_index` of the
/// actions).
pub async fn bulk(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[BULK])?;
    let refresh = p.refresh()?;
    if body.is_empty() {
        return Err(Error::bad_request("parse_exception", "request body is required").into());
    }
    if !body.0.ends_with(b"\n") {
        return Err(Error::illegal_argument(
            "The bulk request must be terminated by a newline [\\n]",
        )
        .into());
    }
    body.check_depth(&st)?;
    let req = parse_bulk(&body.0, path.index.as_deref(), refresh)?;
    let max = st.limits.max_bulk_actions;
    if req.items.len() > max {
        return Err(Error::illegal_argument(format!(
            "bulk request has [{}] actions, more than the limit of [{max}] (http.max_bulk_actions)",
            req.items.len()
        ))
        .into());
    }
    let resp = st.backend.bulk(req).await?;
    Ok(response::ok(&resp))
}
