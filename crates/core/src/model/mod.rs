//! Typed requests and responses of the APIs searchgate serves, one file per API family.
//! Response types serialize to exactly the JSON Elasticsearch returns.

pub mod bulk;
pub mod cluster;
pub mod doc;
pub mod index;
pub mod mapping;
pub mod search;

pub use bulk::*;
pub use cluster::*;
pub use doc::*;
pub use index::*;
pub use mapping::*;
pub use search::*;

use serde::Serialize;

/// `_shards` in responses. searchgate's embedded indices have one primary and no replicas.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Shards {
    pub total: u32,
    pub successful: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u32>,
    pub failed: u32,
}

impl Shards {
    pub fn ok(n: u32) -> Self {
        Shards {
            total: n,
            successful: n,
            skipped: None,
            failed: 0,
        }
    }
    pub fn ok_search(n: u32) -> Self {
        Shards {
            total: n,
            successful: n,
            skipped: Some(0),
            failed: 0,
        }
    }
}

/// `?refresh=` on writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refresh {
    #[default]
    False,
    True,
    WaitFor,
}

impl Refresh {
    pub fn parse(s: Option<&str>) -> crate::Result<Refresh> {
        match s {
            None | Some("false") => Ok(Refresh::False),
            Some("") | Some("true") => Ok(Refresh::True),
            Some("wait_for") => Ok(Refresh::WaitFor),
            Some(other) => Err(crate::Error::illegal_argument(format!(
                "Unknown value for refresh: [{other}]."
            ))),
        }
    }
}
