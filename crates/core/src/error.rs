//! The one error type of searchgate and its mapping to Elasticsearch error bodies.
//!
//! Every crate converts its failures into [`Error`] before they leave it; the server
//! renders it once, at the HTTP edge, as
//! `{"error":{"root_cause":[…],"type":"…","reason":"…"},"status":N}`.
//! The `type` strings are the exact ones Elasticsearch uses so that clients that
//! switch on them (elasticsearch-py maps 404/409/400 to exception classes) keep working.

use serde_json::{Map, Value};

/// Who is to blame for a failure: it decides whether a retry may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The request is wrong; retrying it will fail again.
    Client,
    /// A backend (a remote node, the disk) failed; another try may work.
    Upstream,
    /// A bug or an invariant broken inside searchgate.
    Internal,
}

/// An Elasticsearch-shaped error: HTTP status, ES `type`, `reason` and extra fields
/// (such as `index`, `index_uuid`, `resource.id`) that ES puts beside them.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {reason}")]
pub struct Error {
    pub status: u16,
    pub kind: &'static str,
    pub reason: String,
    /// Boxed to keep `Result<T, Error>` small.
    pub extra: Box<Map<String, Value>>,
    pub blame: Blame,
    /// For `root_cause`: a more specific error that caused this one.
    pub caused_by: Option<Box<Error>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(status: u16, kind: &'static str, reason: impl Into<String>) -> Self {
        let blame = if status >= 500 {
            Blame::Internal
        } else {
            Blame::Client
        };
        Error {
            status,
            kind,
            reason: reason.into(),
            extra: Box::default(),
            blame,
            caused_by: None,
        }
    }

    /// Adds a field beside `type` and `reason` (e.g. `index`).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn caused_by(mut self, cause: Error) -> Self {
        self.caused_by = Some(Box::new(cause));
        self
    }

    pub fn with_blame(mut self, blame: Blame) -> Self {
        self.blame = blame;
        self
    }

    pub fn is_retryable(&self) -> bool {
        self.blame == Blame::Upstream
    }

    // === constructors for the errors ES clients see most ===

    pub fn bad_request(kind: &'static str, reason: impl Into<String>) -> Self {
        Error::new(400, kind, reason)
    }

    pub fn parsing(reason: impl Into<String>) -> Self {
        Error::new(400, "parsing_exception", reason)
    }

    pub fn illegal_argument(reason: impl Into<String>) -> Self {
        Error::new(400, "illegal_argument_exception", reason)
    }

    pub fn x_content_parse(reason: impl Into<String>) -> Self {
        Error::new(400, "x_content_parse_exception", reason)
    }

    pub fn action_request_validation(reason: impl Into<String>) -> Self {
        Error::new(
            400,
            "action_request_validation_exception",
            format!("Validation Failed: 1: {};", reason.into()),
        )
    }

    pub fn index_not_found(index: &str) -> Self {
        Error::new(
            404,
            "index_not_found_exception",
            "no such index [".to_string() + index + "]",
        )
        .with("resource.type", "index_or_alias")
        .with("resource.id", index)
        .with("index_uuid", "_na_")
        .with("index", index)
    }

    pub fn index_already_exists(index: &str, uuid: &str) -> Self {
        Error::new(
            400,
            "resource_already_exists_exception",
            format!("index [{index}/{uuid}] already exists"),
        )
        .with("index_uuid", uuid)
        .with("index", index)
    }

    pub fn invalid_index_name(index: &str, why: &str) -> Self {
        Error::new(
            400,
            "invalid_index_name_exception",
            format!("Invalid index name [{index}], {why}"),
        )
        .with("index_uuid", "_na_")
        .with("index", index)
    }

    pub fn version_conflict(index: &str, uuid: &str, id: &str, detail: &str) -> Self {
        Error::new(
            409,
            "version_conflict_engine_exception",
            format!("[{id}]: version conflict, {detail}"),
        )
        .with("index_uuid", uuid)
        .with("shard", "0")
        .with("index", index)
    }

    pub fn document_missing(index: &str, uuid: &str, id: &str) -> Self {
        Error::new(
            404,
            "document_missing_exception",
            format!("[{id}]: document missing"),
        )
        .with("index_uuid", uuid)
        .with("shard", "0")
        .with("index", index)
    }

    pub fn strict_dynamic_mapping(field: &str, path: &str) -> Self {
        let within = if path.is_empty() { "_doc" } else { path };
        Error::new(
            400,
            "strict_dynamic_mapping_exception",
            format!(
                "[{within}] mapping set to strict, dynamic introduction of [{field}] within [{within}] is not allowed"
            ),
        )
    }

    pub fn mapper_parsing(reason: impl Into<String>) -> Self {
        Error::new(400, "mapper_parsing_exception", reason)
    }

    pub fn document_parsing(reason: impl Into<String>) -> Self {
        Error::new(400, "document_parsing_exception", reason)
    }

    pub fn too_large(len: u64, limit: u64) -> Self {
        Error::new(
            413,
            "content_too_long_exception",
            format!("request body is too large: {len} bytes, the limit is {limit} bytes"),
        )
    }

    pub fn internal(reason: impl Into<String>) -> Self {
        Error::new(500, "internal_server_error", reason).with_blame(Blame::Internal)
    }

    /// A failure of the machine under us (disk, fsync): ES reports these as
    /// `translog_exception`, `engine_exception` and so on, with status 500.
    pub fn storage(kind: &'static str, reason: impl Into<String>) -> Self {
        Error::new(500, kind, reason).with_blame(Blame::Upstream)
    }

    /// The `{"type":..,"reason":..,...}` object of this error (without root_cause).
    pub fn cause_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("type".into(), Value::String(self.kind.to_string()));
        obj.insert("reason".into(), Value::String(self.reason.clone()));
        for (k, v) in self.extra.iter() {
            obj.insert(k.clone(), v.clone());
        }
        if let Some(cause) = &self.caused_by {
            obj.insert("caused_by".into(), cause.cause_json());
        }
        Value::Object(obj)
    }

    /// What ES reports as `root_cause`: the outermost error. (ES unwraps causes only
    /// while they are its own exceptions; the causes searchgate attaches stand for
    /// parser and JDK exceptions, which ES shows under `caused_by` only.)
    pub fn root(&self) -> &Error {
        self
    }

    /// The full ES error body.
    pub fn to_body(&self) -> Value {
        let mut root = self.root().cause_json();
        if let Value::Object(m) = &mut root {
            m.remove("caused_by");
        }
        let mut error = self.cause_json();
        if let Value::Object(m) = &mut error {
            let mut with_root = Map::new();
            with_root.insert("root_cause".into(), Value::Array(vec![root]));
            for (k, v) in std::mem::take(m) {
                with_root.insert(k, v);
            }
            *m = with_root;
        }
        serde_json::json!({ "error": error, "status": self.status })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_es_shape() {
        let e = Error::index_not_found("nope");
        let b = e.to_body();
        assert_eq!(b["status"], 404);
        assert_eq!(b["error"]["type"], "index_not_found_exception");
        assert_eq!(
            b["error"]["root_cause"][0]["type"],
            "index_not_found_exception"
        );
        assert_eq!(b["error"]["reason"], "no such index [nope]");
        assert_eq!(b["error"]["index"], "nope");
    }

    #[test]
    fn root_cause_is_outermost() {
        let e = Error::x_content_parse("[1:10] failed to parse")
            .caused_by(Error::illegal_argument("bad"));
        let b = e.to_body();
        assert_eq!(
            b["error"]["root_cause"][0]["type"],
            "x_content_parse_exception"
        );
        assert!(b["error"]["root_cause"][0].get("caused_by").is_none());
        assert_eq!(b["error"]["type"], "x_content_parse_exception");
        assert_eq!(b["error"]["caused_by"]["reason"], "bad");
    }
}
