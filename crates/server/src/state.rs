//! The state every handler shares: the backend stack and the request limits and guards.

use searchgate_core::Backend;
use std::sync::Arc;

/// Bounds the HTTP layer enforces on each request (see `config::Limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `http.max_content_length`: largest request body, bytes.
    pub max_content_length: u64,
    /// Deepest nesting of objects/arrays in a JSON body.
    pub max_nesting_depth: usize,
    /// Most actions in one `_bulk` request.
    pub max_bulk_actions: usize,
    /// `action.destructive_requires_name` (ES 8: true): `DELETE /*` and
    /// `DELETE /_all` are refused.
    pub destructive_requires_name: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_content_length: 100 * 1024 * 1024,
            max_nesting_depth: 100,
            max_bulk_actions: 100_000,
            destructive_requires_name: true,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub backend: Arc<dyn Backend>,
    pub limits: Limits,
}

impl AppState {
    pub fn new(backend: Arc<dyn Backend>, limits: Limits) -> Self {
        AppState { backend, limits }
    }
}
