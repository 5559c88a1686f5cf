//! searchgate-server: the HTTP edge of searchgate and the `searchgate` binary's pieces.
//!
//! A request goes `edge` (content negotiation, product header) → `render`
//! (`pretty`/`filter_path`, ES's 405) → `routes` (one table of every endpoint) → a
//! handler in `handlers/` (extract → typed request from `searchgate_core::model` →
//! [`Backend`] → ES JSON). The HTTP layer holds no search logic: everything past the
//! handler is a typed call.
//!
//! In gateway mode (`serve --upstream`), [`gateway::app`] replaces the route table:
//! `edge` → a pass-through to a remote cluster (`searchgate_upstream`), with only
//! `/_searchgate/*` answered locally.
//!
//! - [`cli`] and [`config`]: `searchgate serve` and its layered configuration.
//! - [`serve`]: builds the backend, binds, serves, and shuts down gracefully.
//! - [`routes`]: the endpoint table and [`routes::app`], the whole `Router`.
//! - [`gateway`]: the gateway mode's `Router`.

#![forbid(unsafe_code)]
// `searchgate_core::Error` is ~150 bytes; errors are the cold path and boxing them
// here would only move the allocation. (The same lint fires in core.)
#![allow(clippy::result_large_err)]

pub mod body;
pub mod cli;
pub mod config;
pub mod edge;
pub mod error;
pub mod filter_path;
pub mod gateway;
pub mod handlers;
pub mod params;
pub mod response;
pub mod routes;
pub mod serve;
pub mod shutdown;
pub mod state;

#[cfg(test)]
mod gateway_tests;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub use searchgate_core::Backend;
pub use state::AppState;
