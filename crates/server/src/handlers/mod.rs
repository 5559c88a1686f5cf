//! Endpoint handlers, one file per API family. Each is extract → typed request
//! (`searchgate_core::model`) → `Backend` call → ES JSON; none holds search logic.

pub mod bulk;
pub mod cat;
pub mod cluster;
pub mod docs;
pub mod indices;
pub mod search;

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use searchgate_core::Error;
use serde::de::DeserializeOwned;

/// `Path`, with its rejections (bad percent-encoding, bad UTF-8) as ES 400 bodies.
pub struct EsPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for EsPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(EsPath(v)),
            Err(_) => Err(Error::illegal_argument(format!(
                "failed to decode the path [{}]: it is not valid percent-encoded UTF-8",
                parts.uri.path()
            ))
            .into()),
        }
    }
}

/// `/{index}/_doc/{id}` and the like.
#[derive(serde::Deserialize)]
pub struct IndexId {
    pub index: String,
    pub id: String,
}

/// `/{index}/...`.
#[derive(serde::Deserialize)]
pub struct IndexOnly {
    pub index: String,
}

/// `/{index}/...` and its twin without the index (`/_search` and `/{index}/_search`),
/// so that one handler serves both: `index` is `None` on the twin.
#[derive(serde::Deserialize)]
pub struct MaybeIndex {
    pub index: Option<String>,
}

impl MaybeIndex {
    /// The index expression to resolve: empty (every index) on the route without one.
    pub fn expr(&self) -> &str {
        self.index.as_deref().unwrap_or_default()
    }
}

/// `/{index}/_doc/{id}` and `/{index}/_doc`: `id` is `None` when the backend is to
/// generate it.
#[derive(serde::Deserialize)]
pub struct IndexMaybeId {
    pub index: String,
    pub id: Option<String>,
}
