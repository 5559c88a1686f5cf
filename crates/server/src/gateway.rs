//! Gateway mode: searchgate in front of a remote Elasticsearch/OpenSearch cluster.
//!
//! The gateway's `Router` replaces the embedded engine's route table; nothing in
//! the handlers knows about it. Two paths are answered locally, through the same
//! [`edge::render`] as the embedded routes:
//!
//! - `GET /_searchgate/health`: liveness of this process (not of the cluster);
//! - `GET /_searchgate/nodes`: the upstream pool ([`Upstream::nodes_view`]).
//!
//! Every other request goes to [`forward`]: the body is read within
//! `http.max_content_length` (413 beyond, as in embedded mode), and method, path,
//! query, headers and body are handed to [`Upstream::forward`] unchanged. The
//! node's status, headers and body come back as they are, the body streamed
//! (`Body::from_stream`). No body is parsed and `pretty`/`filter_path` are not
//! re-applied: the cluster has applied them from the forwarded query string. The
//! outer [`edge::edge`] adds `X-Elastic-Product` (the official clients insist on
//! it) and checks the vendor media types; the upstream crate rewrites those to
//! plain types going up and restores them coming down.
//!
//! A failure no node could answer for (every node refused, timed out, or the pool
//! is exhausted) is an ES error body from `forward`, with `node` and `cause`.

use crate::body::read_within;
use crate::edge;
use crate::error::{panic_response, ApiError};
use crate::handlers::cluster;
use crate::params::Params;
use crate::response;
use crate::state::Limits;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use searchgate_upstream::{ForwardRequest, Upstream};
use tower_http::catch_panic::CatchPanicLayer;

/// What the gateway's handlers share.
#[derive(Clone, Debug)]
pub struct GatewayState {
    pub upstream: Upstream,
    pub limits: Limits,
}

/// The whole gateway application: the local `/_searchgate/*` routes, everything
/// else forwarded; panic catching and the edge as in embedded mode.
pub fn app(upstream: Upstream, limits: Limits) -> Router {
    let state = GatewayState { upstream, limits };
    // The local routes sit inside `render` as one service (like the embedded table),
    // so that a 405 reaches it with its `Allow` header and `?pretty` works.
    let local = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn(edge::render))
        .service(
            Router::new()
                .route("/_searchgate/health", get(cluster::liveness))
                .route("/_searchgate/nodes", get(nodes))
                .with_state(state.clone()),
        );
    Router::new()
        .route_service("/_searchgate/health", local.clone())
        .route_service("/_searchgate/nodes", local)
        .fallback(forward)
        .with_state(state)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(edge::edge))
}

/// `GET /_searchgate/nodes`: every upstream node with its state, in-flight
/// requests, latency estimate, counters and breaker, and the retry budget.
async fn nodes(State(gw): State<GatewayState>, p: Params) -> Result<Response, ApiError> {
    p.allow(&[])?;
    Ok(response::ok(&gw.upstream.nodes_view()))
}

/// The pass-through: the request as it came, the response as the node sent it.
pub async fn forward(State(gw): State<GatewayState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match read_within(&parts.headers, body, gw.limits.max_content_length).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let req = ForwardRequest::new(parts.method, path_and_query, parts.headers, body);
    match gw.upstream.forward(req).await {
        Ok(r) => {
            let mut resp = Response::new(Body::from_stream(r.body));
            *resp.status_mut() = r.status;
            *resp.headers_mut() = r.headers;
            resp
        }
        Err(e) => ApiError::Es(e).into_response(),
    }
}
