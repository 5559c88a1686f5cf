//! Every endpoint searchgate serves, registered in one place, and the whole
//! `Router` with its layers ([`app`]).
//!
//! `HEAD` is answered by the `GET` handler (axum drops the body). A path with an
//! optional `{index}` (`/_search`, `/{index}/_search`) is two routes to one handler.
//! An unknown path is ES's 400 `no handler found`; a known path with another method
//! is a 405 with `Allow` (rewritten to ES's body by the edge).

use crate::edge;
use crate::error::{panic_response, ApiError};
use crate::handlers::{bulk, cat, cluster, docs, indices, search};
use crate::state::AppState;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

/// The endpoint table.
pub fn routes() -> Router<AppState> {
    Router::new()
        // cluster
        .route("/", get(cluster::root))
        .route("/_searchgate/health", get(cluster::liveness))
        .route("/_cluster/health", get(cluster::health))
        .route("/_cluster/health/{index}", get(cluster::health))
        // _cat
        .route("/_cat", get(cat::cat_root))
        .route("/_cat/indices", get(cat::indices))
        .route("/_cat/indices/{index}", get(cat::indices))
        .route("/_cat/health", get(cat::health))
        .route("/_cat/count", get(cat::count).post(cat::count))
        .route("/_cat/count/{index}", get(cat::count).post(cat::count))
        // indices
        .route(
            "/{index}",
            put(indices::create)
                .delete(indices::delete)
                .get(indices::get),
        )
        .route("/_mapping", get(indices::get_mapping))
        .route(
            "/{index}/_mapping",
            get(indices::get_mapping)
                .put(indices::put_mapping)
                .post(indices::put_mapping),
        )
        .route("/_settings", get(indices::get_settings))
        .route(
            "/{index}/_settings",
            get(indices::get_settings).put(indices::put_settings),
        )
        .route("/_refresh", post(indices::refresh).get(indices::refresh))
        .route(
            "/{index}/_refresh",
            post(indices::refresh).get(indices::refresh),
        )
        // a refresh commits in the embedded engine: that is all a flush is
        .route("/_flush", post(indices::refresh).get(indices::refresh))
        .route(
            "/{index}/_flush",
            post(indices::refresh).get(indices::refresh),
        )
        // documents
        .route("/{index}/_doc", post(docs::index))
        .route(
            "/{index}/_doc/{id}",
            put(docs::index)
                .post(docs::index)
                .get(docs::get)
                .delete(docs::delete),
        )
        .route(
            "/{index}/_create/{id}",
            put(docs::create).post(docs::create),
        )
        .route("/{index}/_source/{id}", get(docs::source))
        .route("/{index}/_update/{id}", post(docs::update))
        .route("/_mget", get(docs::mget).post(docs::mget))
        .route("/{index}/_mget", get(docs::mget).post(docs::mget))
        // bulk
        .route("/_bulk", post(bulk::bulk).put(bulk::bulk))
        .route("/{index}/_bulk", post(bulk::bulk).put(bulk::bulk))
        // search
        .route("/_search", get(search::search).post(search::search))
        .route("/{index}/_search", get(search::search).post(search::search))
        .route("/_count", get(search::count).post(search::count))
        .route("/{index}/_count", get(search::count).post(search::count))
        .fallback(no_handler)
}

/// ES's answer to a path it has no handler for.
async fn no_handler(req: Request) -> Response {
    let uri = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    ApiError::no_handler(uri, req.method().as_str()).into_response()
}

/// The embedded engine's application: routes, panic catching, the rendering of
/// searchgate's answers (`pretty`, `filter_path`, ES's 405), and the edge middleware
/// outermost so that every response (panics, fallbacks, 405s included) gets the
/// product header and the negotiated content type. (The gateway mode mounts
/// [`crate::gateway::app`] instead.)
///
/// The routes sit inside as one service: `Router::layer` would run a layer *inside*
/// each method router, before axum adds the `Allow` header to a 405.
pub fn app(state: AppState) -> Router {
    Router::new()
        .fallback_service(routes().with_state(state))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(edge::render))
        .layer(axum::middleware::from_fn(edge::edge))
}
