//! Single-document APIs: index, create, get, delete, update, mget.

use super::search::SourceFilter;
use super::{Refresh, Shards};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpType {
    #[default]
    Index,
    Create,
}

/// Optimistic concurrency conditions (`if_seq_no` + `if_primary_term`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IfMatch {
    pub if_seq_no: Option<i64>,
    pub if_primary_term: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct IndexRequest {
    pub index: String,
    /// `None`: generate an id (`POST /{index}/_doc`).
    pub id: Option<String>,
    /// The document, as the client sent it (validated as a JSON object by the engine).
    pub source: bytes::Bytes,
    pub op_type: OpType,
    pub if_match: IfMatch,
    pub refresh: Refresh,
}

#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub index: String,
    pub id: String,
    pub if_match: IfMatch,
    pub refresh: Refresh,
}

/// `POST /{index}/_update/{id}`: a partial document (`doc`), optionally upserted.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    pub index: String,
    pub id: String,
    pub doc: Option<Value>,
    pub upsert: Option<Value>,
    pub doc_as_upsert: bool,
    pub detect_noop: bool,
    pub if_match: IfMatch,
    pub refresh: Refresh,
    /// `_source` of the response's `get` section, if asked for.
    pub source: Option<SourceFilter>,
}

#[derive(Debug, Clone)]
pub struct GetRequest {
    pub index: String,
    pub id: String,
    pub source: SourceFilter,
    pub realtime: bool,
}

#[derive(Debug, Clone)]
pub struct MgetRequest {
    pub docs: Vec<GetRequest>,
}

/// The result of a write: ES's `result` field.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WriteResult {
    Created,
    Updated,
    Deleted,
    NotFound,
    Noop,
}

#[derive(Debug, Clone, Serialize)]
pub struct WriteResponse {
    pub _index: String,
    pub _id: String,
    pub _version: i64,
    pub result: WriteResult,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forced_refresh: bool,
    pub _shards: Shards,
    pub _seq_no: i64,
    pub _primary_term: i64,
    /// For updates with `_source` asked: the document after the update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub get: Option<GetResponse>,
}

impl WriteResponse {
    /// HTTP status: 201 for a created document, 404 for a delete of a missing one.
    pub fn status(&self) -> u16 {
        match self.result {
            WriteResult::Created => 201,
            WriteResult::NotFound => 404,
            _ => 200,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GetResponse {
    pub _index: String,
    pub _id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _seq_no: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _primary_term: Option<i64>,
    pub found: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _source: Option<Box<RawValue>>,
}

impl GetResponse {
    pub fn not_found(index: &str, id: &str) -> Self {
        GetResponse {
            _index: index.to_string(),
            _id: id.to_string(),
            _version: None,
            _seq_no: None,
            _primary_term: None,
            found: false,
            _source: None,
        }
    }
}

/// One entry of `_mget`'s `docs`: a document, or an error for that entry.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum MgetItem {
    Doc(GetResponse),
    Error {
        _index: String,
        _id: String,
        error: Value,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct MgetResponse {
    pub docs: Vec<MgetItem>,
}
