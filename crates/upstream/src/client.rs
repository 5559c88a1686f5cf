//! The HTTP/1.1 client to the nodes: hyper-util's pooled client (keep-alive, idle
//! connections per node, connect timeout, `TCP_NODELAY`) over rustls with the
//! cluster's TLS configuration, plus the two timeouts a proxy needs: the request's
//! remaining total time for the answer's head, and the longest silence while its
//! body streams (`timeouts.read`).
//!
//! It is hyper-util's client used directly, not through a general-purpose client:
//! the gateway only forwards origin-form requests to known nodes, so redirects,
//! cookies, proxies and URL re-parsing would be work on every request for nothing
//! (they were about a fifth of the gateway's user time under reqwest, see
//! BENCHMARKS.md). With `gzip = true` the answers go through tower-http's
//! decompression, which asks for gzip and decodes; otherwise bodies pass as they are.

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;
use tower::ServiceExt;
use tower_http::decompression::Decompression;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Pool = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Why a request got no answer head.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The connection could not be made (refused, unreachable, TLS handshake,
    /// connect timeout): the request never left.
    Connect(String),
    /// No answer head within the time left.
    Timeout,
    /// The connection broke after the request may have left.
    Transport(String),
}

/// A failure while the body streams.
#[derive(Debug)]
pub(crate) struct BodyError {
    pub(crate) timeout: bool,
    pub(crate) cause: String,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.cause)
    }
}

impl std::error::Error for BodyError {}

impl From<BodyError> for SendError {
    /// A body that went silent or broke: the request had left.
    fn from(e: BodyError) -> SendError {
        if e.timeout {
            SendError::Timeout
        } else {
            SendError::Transport(e.cause)
        }
    }
}

pub(crate) type BodyStream = BoxStream<'static, Result<Bytes, BodyError>>;

/// An answer's head, and its body as a stream of chunks.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: BodyStream,
}

#[derive(Clone)]
pub(crate) struct HttpClient {
    pool: Pool,
    gzip: bool,
    read_timeout: Duration,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("gzip", &self.gzip)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    pub(crate) fn new(
        tls: rustls::ClientConfig,
        connect_timeout: Duration,
        read_timeout: Duration,
        idle_per_node: usize,
        idle_timeout: Duration,
        gzip: bool,
    ) -> HttpClient {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let pool = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(idle_timeout)
            .pool_max_idle_per_host(idle_per_node)
            .build(https);
        HttpClient {
            pool,
            gzip,
            read_timeout,
        }
    }

    /// Sends one request and waits for the answer's head at most `timeout` (and at
    /// most the read timeout).
    pub(crate) async fn send(
        &self,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Answer, SendError> {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;
        let call = async {
            if self.gzip {
                Decompression::new(self.pool.clone())
                    .oneshot(req)
                    .await
                    .map(|r| r.map(|b| b.map_err(BoxError::from).boxed()))
            } else {
                self.pool
                    .request(req)
                    .await
                    .map(|r| r.map(|b| b.map_err(BoxError::from).boxed()))
            }
        };
        let resp: Response<BoxBody<Bytes, BoxError>> =
            match tokio::time::timeout(timeout.min(self.read_timeout), call).await {
                Err(_) => return Err(SendError::Timeout),
                Ok(Err(e)) if e.is_connect() => {
                    return Err(SendError::Connect(crate::error::root_cause(&e)))
                }
                Ok(Err(e)) => return Err(SendError::Transport(crate::error::root_cause(&e))),
                Ok(Ok(r)) => r,
            };
        let (parts, body) = resp.into_parts();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body: chunks(body, self.read_timeout),
        })
    }

    /// `GET url` with optional credentials, the whole (small) body read within `timeout`.
    pub(crate) async fn get(
        &self,
        url: &str,
        auth: Option<&HeaderValue>,
        timeout: Duration,
    ) -> Result<(StatusCode, Bytes), SendError> {
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| SendError::Transport(e.to_string()))?;
        let mut headers = HeaderMap::new();
        if let Some(auth) = auth {
            headers.insert(http::header::AUTHORIZATION, auth.clone());
        }
        let started = tokio::time::Instant::now();
        let answer = self
            .send(Method::GET, uri, headers, Bytes::new(), timeout)
            .await?;
        let mut body = Vec::new();
        let mut chunks = answer.body;
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, chunks.next()).await {
                Err(_) => return Err(SendError::Timeout),
                Ok(None) => break,
                Ok(Some(Ok(c))) => body.extend_from_slice(&c),
                Ok(Some(Err(e))) => return Err(e.into()),
            }
        }
        Ok((answer.status, Bytes::from(body)))
    }
}

/// The data frames of `body`, each within `read_timeout` of the previous one.
fn chunks(body: BoxBody<Bytes, BoxError>, read_timeout: Duration) -> BodyStream {
    stream::unfold(Some(body), move |state| async move {
        let mut body = state?;
        loop {
            match tokio::time::timeout(read_timeout, body.frame()).await {
                Err(_) => {
                    let err = BodyError {
                        timeout: true,
                        cause: format!("no data for {}ms", read_timeout.as_millis()),
                    };
                    return Some((Err(err), None));
                }
                Ok(None) => return None,
                Ok(Some(Err(e))) => {
                    let err = BodyError {
                        timeout: false,
                        cause: crate::error::root_cause(e.as_ref()),
                    };
                    return Some((Err(err), None));
                }
                Ok(Some(Ok(frame))) => {
                    // trailers are not forwarded (ES does not send them)
                    if let Ok(data) = frame.into_data() {
                        return Some((Ok(data), Some(body)));
                    }
                }
            }
        }
    })
    .boxed()
}
