//! Errors of the upstream crate.
//!
//! [`ConfigError`] is a start-up error (bad URL, unreadable or bad CA file, a bound
//! out of range). Failures of a forwarded request are [`searchgate_core::Error`]s
//! shaped like Elasticsearch errors, with two extra fields beside `type` and
//! `reason`: `node` (the URL of the node that failed last) and `cause` (what failed,
//! e.g. `connection refused`), plus `attempts` when the request was retried.

use crate::client::SendError;
use searchgate_core::{Blame, Error};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// A configuration that cannot work; the message says which setting and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cluster [{cluster}] has no nodes")]
    NoNodes { cluster: String },
    #[error("invalid node url [{url}]: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid setting [{field}]: {reason}")]
    Invalid { field: String, reason: String },
    #[error("cannot use {what} file [{}]: {reason}", path.display())]
    TlsFile {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("tls: {0}")]
    Tls(String),
    #[error("cannot build the http client: {0}")]
    Client(String),
}

/// Why one attempt on one node failed, before it becomes an ES error.
#[derive(Debug, Clone)]
pub(crate) enum AttemptError {
    /// The connection could not be made: the request never left.
    Connect { node: String, cause: String },
    /// No response (or no complete body) within the deadline.
    Timeout { node: String, after: Duration },
    /// The connection broke after the request was (maybe) sent.
    Transport { node: String, cause: String },
    /// No connection could be had from the pool in time (a local limit, not the node's fault).
    PoolExhausted {
        node: String,
        limit: usize,
        waited: Duration,
    },
}

impl AttemptError {
    /// The request certainly did not reach the node, so even a write may go elsewhere.
    pub(crate) fn never_sent(&self) -> bool {
        matches!(
            self,
            AttemptError::Connect { .. } | AttemptError::PoolExhausted { .. }
        )
    }

    pub(crate) fn node(&self) -> &str {
        match self {
            AttemptError::Connect { node, .. }
            | AttemptError::Timeout { node, .. }
            | AttemptError::Transport { node, .. }
            | AttemptError::PoolExhausted { node, .. } => node,
        }
    }

    pub(crate) fn cause(&self) -> String {
        match self {
            AttemptError::Connect { cause, .. } | AttemptError::Transport { cause, .. } => {
                cause.clone()
            }
            AttemptError::Timeout { after, .. } => {
                format!("timed out after {}ms", after.as_millis())
            }
            AttemptError::PoolExhausted { limit, waited, .. } => {
                format!(
                    "no free connection ({limit} in use) after {}ms",
                    waited.as_millis()
                )
            }
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({ "node": self.node(), "cause": self.cause() })
    }

    /// The ES error for this failure.
    pub(crate) fn to_error(&self) -> Error {
        let node = self.node().to_string();
        let cause = self.cause();
        let e = match self {
            AttemptError::Connect { .. } => Error::new(
                502,
                "connect_exception",
                format!("cannot connect to node [{node}]: {cause}"),
            ),
            AttemptError::Timeout { after, .. } => Error::new(
                504,
                "timeout_exception",
                format!(
                    "node [{node}] did not answer within {}ms",
                    after.as_millis()
                ),
            ),
            AttemptError::Transport { .. } => Error::new(
                502,
                "bad_gateway_exception",
                format!("node [{node}] failed: {cause}"),
            ),
            AttemptError::PoolExhausted { .. } => Error::new(
                429,
                "es_rejected_execution_exception",
                format!("rejected execution: no free connection to node [{node}]: {cause}"),
            ),
        };
        e.with("node", node)
            .with("cause", cause)
            .with_blame(Blame::Upstream)
    }
}

/// The error of a request whose every attempt failed without a response.
pub(crate) fn exhausted(
    cluster: &str,
    attempts: &[AttemptError],
    why_stopped: Option<&str>,
) -> Error {
    let Some(last) = attempts.last() else {
        return no_living_nodes(cluster);
    };
    let mut e = last.to_error();
    if attempts.len() > 1 || why_stopped.is_some() {
        let mut reason = e.reason.clone();
        if attempts.len() > 1 {
            reason = format!("{reason} (after {} attempts)", attempts.len());
        }
        if let Some(why) = why_stopped {
            reason = format!("{reason}; not retried: {why}");
        }
        e.reason = reason;
        e = e.with(
            "attempts",
            Value::Array(attempts.iter().map(AttemptError::to_json).collect()),
        );
    }
    e
}

pub(crate) fn no_living_nodes(cluster: &str) -> Error {
    Error::new(
        503,
        "no_living_nodes_exception",
        format!("no node of cluster [{cluster}] can be tried"),
    )
    .with("cluster", cluster)
    .with_blame(Blame::Upstream)
}

/// Turns a client error into the attempt's failure class.
pub(crate) fn classify(node: &str, err: SendError, elapsed: Duration) -> AttemptError {
    let node = node.to_string();
    match err {
        SendError::Connect(cause) => AttemptError::Connect { node, cause },
        SendError::Timeout => AttemptError::Timeout {
            node,
            after: elapsed,
        },
        SendError::Transport(cause) => AttemptError::Transport { node, cause },
    }
}

/// The innermost message of an error chain, lowercased as our messages are
/// (`connection refused`, `connection reset by peer`, `invalid peer certificate: ...`).
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = err;
    let mut msgs = vec![cur.to_string()];
    while let Some(next) = cur.source() {
        msgs.push(next.to_string());
        cur = next;
    }
    // the innermost is usually the OS or TLS message; keep one level above it for
    // context when the innermost is terse ("os error 111" style are kept as is)
    let inner = msgs.pop().unwrap_or_default();
    let inner = match inner.find(" (os error") {
        Some(i) => inner[..i].to_string(),
        None => inner,
    };
    let mut chars = inner.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
        None => "unknown error".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_error_names_node_and_cause() {
        let e = AttemptError::Connect {
            node: "http://127.0.0.1:1".into(),
            cause: "connection refused".into(),
        };
        let b = e.to_error().to_body();
        assert_eq!(b["status"], 502);
        assert_eq!(b["error"]["type"], "connect_exception");
        assert_eq!(b["error"]["node"], "http://127.0.0.1:1");
        assert_eq!(b["error"]["cause"], "connection refused");
        assert_eq!(
            b["error"]["reason"],
            "cannot connect to node [http://127.0.0.1:1]: connection refused"
        );
    }

    #[test]
    fn exhausted_lists_attempts() {
        let a = vec![
            AttemptError::Connect {
                node: "http://a".into(),
                cause: "connection refused".into(),
            },
            AttemptError::Timeout {
                node: "http://b".into(),
                after: Duration::from_millis(1500),
            },
        ];
        let e = exhausted("c", &a, None);
        assert_eq!(e.status, 504);
        assert_eq!(e.kind, "timeout_exception");
        assert_eq!(
            e.reason,
            "node [http://b] did not answer within 1500ms (after 2 attempts)"
        );
        assert_eq!(e.extra["attempts"][0]["node"], "http://a");
        assert!(e.is_retryable());
        assert_eq!(exhausted("c", &[], None).status, 503);
    }
}
