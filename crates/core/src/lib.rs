//! searchgate-core: the Elasticsearch data model shared by every part of searchgate.
//!
//! - [`dsl`]: the query DSL as a typed AST, parsed with ES-worded errors.
//! - [`model`]: typed requests and responses, one module per API family.
//! - [`backend`]: the [`Backend`] trait that the engine, the gateway and the
//!   decorators implement.
//! - [`error`]: the one error type, rendered once as an ES error body.
//!
//! This crate does no I/O.

pub mod backend;
pub mod dsl;
pub mod error;
pub mod json;
pub mod model;
pub mod units;

pub use backend::{Backend, ClusterIdentity};
pub use error::{Blame, Error, Result};
