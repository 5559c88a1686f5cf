//! The body of a forwarded response: the part read ahead (all of it, for small
//! bodies) followed by the rest streamed from the node. While the body is not
//! finished it holds the connection permits and counts as in flight on the node.

use crate::client::BodyStream;
use crate::node::{InFlight, Node};
use bytes::{Bytes, BytesMut};
use futures_util::stream::{Stream, StreamExt};
use searchgate_core::{Blame, Error};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::OwnedSemaphorePermit;

/// What an unfinished body keeps busy: a connection of the cluster and of the node.
#[derive(Debug)]
pub(crate) struct AttemptGuard {
    pub(crate) _total: OwnedSemaphorePermit,
    pub(crate) _node: OwnedSemaphorePermit,
    pub(crate) _in_flight: InFlight,
}

/// A `Stream` of body chunks; errors are ES errors naming the node (a node that
/// breaks in mid-body: the status line has been sent, so the server can only cut
/// the connection).
pub struct ResponseBody {
    chunks: VecDeque<Bytes>,
    rest: Option<BodyStream>,
    guard: Option<AttemptGuard>,
    node: Option<Arc<Node>>,
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody")
            .field(
                "buffered",
                &self.chunks.iter().map(Bytes::len).sum::<usize>(),
            )
            .field("streaming", &self.rest.is_some())
            .finish()
    }
}

impl ResponseBody {
    /// A complete body.
    pub fn from_bytes(bytes: Bytes) -> Self {
        let mut chunks = VecDeque::new();
        if !bytes.is_empty() {
            chunks.push_back(bytes);
        }
        ResponseBody {
            chunks,
            rest: None,
            guard: None,
            node: None,
        }
    }

    pub(crate) fn new(
        chunks: VecDeque<Bytes>,
        rest: Option<BodyStream>,
        guard: Option<AttemptGuard>,
        node: Arc<Node>,
    ) -> Self {
        // a complete body needs neither the connection nor the in-flight count
        let guard = if rest.is_some() { guard } else { None };
        ResponseBody {
            chunks,
            rest,
            guard,
            node: Some(node),
        }
    }

    /// The whole body is in memory (it was read ahead): its length is known.
    pub fn is_complete(&self) -> bool {
        self.rest.is_none()
    }

    /// The length, when the body is complete.
    pub fn len_if_complete(&self) -> Option<u64> {
        self.is_complete()
            .then(|| self.chunks.iter().map(|c| c.len() as u64).sum())
    }

    /// Reads the whole body.
    pub async fn collect(mut self) -> Result<Bytes, Error> {
        if self.rest.is_none() && self.chunks.len() <= 1 {
            return Ok(self.chunks.pop_front().unwrap_or_default());
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = self.next().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(buf.freeze())
    }
}

impl Stream for ResponseBody {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(chunk) = this.chunks.pop_front() {
            return Poll::Ready(Some(Ok(chunk)));
        }
        let Some(rest) = this.rest.as_mut() else {
            this.guard = None;
            return Poll::Ready(None);
        };
        match rest.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(Some(Err(e))) => {
                this.rest = None;
                this.guard = None;
                let node = this
                    .node
                    .as_ref()
                    .map(|n| n.url().to_string())
                    .unwrap_or_default();
                let cause = crate::error::root_cause(&e);
                if let Some(n) = &this.node {
                    n.on_body_error(&cause);
                }
                let (status, kind) = if e.timeout {
                    (504, "timeout_exception")
                } else {
                    (502, "bad_gateway_exception")
                };
                let err = Error::new(
                    status,
                    kind,
                    format!("node [{node}] failed while sending the response body: {cause}"),
                )
                .with("node", node)
                .with("cause", cause)
                .with_blame(Blame::Upstream);
                Poll::Ready(Some(Err(err)))
            }
            Poll::Ready(None) => {
                this.rest = None;
                this.guard = None;
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.chunks.len();
        if self.rest.is_none() {
            (n, Some(n))
        } else {
            (n, None)
        }
    }
}
