//! The outer middleware every request and response goes through.
//!
//! - Content negotiation: the official clients send
//!   `application/vnd.elasticsearch+json; compatible-with=8` (or 9, and the
//!   `x-ndjson` variant for bulk). A JSON answer carries the vendor type back when the
//!   client asked for it (`Accept` first, else `Content-Type`), else
//!   `application/json`.
//! - `X-Elastic-Product: Elasticsearch` on every response, errors and HEAD included;
//!   `X-Opaque-Id` echoed back.
//!
//! [`render`], inside it, only for searchgate's own answers (not for what the
//! gateway forwards: the cluster applies these itself):
//!
//! - `pretty` and `filter_path` on JSON responses (`filter_path` not on error
//!   bodies, as in ES).
//! - A 405 from the router becomes ES's `Incorrect HTTP method ...` body.

use crate::error::{ApiError, ErrorBody};
use crate::filter_path::FilterPath;
use crate::params::Params;
use crate::response;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use searchgate_core::Error;

pub const PRODUCT_HEADER: HeaderName = HeaderName::from_static("x-elastic-product");
/// Echoed back as ES does, so that clients can match responses to requests.
pub const OPAQUE_ID: HeaderName = HeaderName::from_static("x-opaque-id");

/// The kind of a media type as ES sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Essence {
    Json,
    Ndjson,
    VendorJson,
    VendorNdjson,
    /// `*/*` or `application/*` in an `Accept`.
    Any,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Media {
    pub essence: Essence,
    /// `compatible-with=N`.
    pub compat: Option<u8>,
}

/// Parses one media type (`type/subtype; param=value`).
pub fn media_type(s: &str) -> Option<Media> {
    let mut parts = s.split(';');
    let essence = parts.next()?.trim().to_ascii_lowercase();
    let essence = match essence.as_str() {
        "application/json" => Essence::Json,
        "application/x-ndjson" => Essence::Ndjson,
        "application/vnd.elasticsearch+json" => Essence::VendorJson,
        "application/vnd.elasticsearch+x-ndjson" => Essence::VendorNdjson,
        "*/*" | "application/*" => Essence::Any,
        "" => return None,
        _ => Essence::Other,
    };
    let mut compat = None;
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            if k.trim().eq_ignore_ascii_case("compatible-with") {
                compat = Some(v.trim().trim_matches('"').parse::<u8>().unwrap_or(0));
            }
        }
    }
    Some(Media { essence, compat })
}

/// What the response's JSON content type is: the vendor type with a version, or plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Negotiated {
    pub vendor: Option<u8>,
}

impl Negotiated {
    pub fn from_headers(headers: &HeaderMap) -> Result<Negotiated, Error> {
        let vendor_of = |name: header::HeaderName| -> Result<Option<u8>, Error> {
            let Some(v) = headers.get(&name) else {
                return Ok(None);
            };
            let s = String::from_utf8_lossy(v.as_bytes());
            for m in s.split(',').filter_map(media_type) {
                if matches!(m.essence, Essence::VendorJson | Essence::VendorNdjson) {
                    return match m.compat {
                        Some(n @ 7..=9) => Ok(Some(n)),
                        _ => Err(Error::new(
                            400,
                            "media_type_header_exception",
                            format!("Invalid media-type value on headers [{name}]"),
                        )
                        .caused_by(Error::new(
                            400,
                            "status_exception",
                            format!(
                                "A compatible version is required on the [{name}] header for [{s}]; searchgate accepts compatible-with=7, 8 or 9"
                            ),
                        ))),
                    };
                }
            }
            Ok(None)
        };
        let accept = vendor_of(header::ACCEPT)?;
        let content = vendor_of(header::CONTENT_TYPE)?;
        Ok(Negotiated {
            vendor: accept.or(content),
        })
    }

    pub fn json_content_type(&self) -> HeaderValue {
        match self.vendor {
            Some(n) => HeaderValue::from_str(&format!(
                "application/vnd.elasticsearch+json;compatible-with={n}"
            ))
            .unwrap_or_else(|_| HeaderValue::from_static(response::JSON)),
            None => HeaderValue::from_static(response::JSON),
        }
    }
}

/// `pretty` and `filter_path`, read once at the edge.
#[derive(Debug, Clone, Default)]
struct Rendering {
    pretty: bool,
    filter: Option<FilterPath>,
}

impl Rendering {
    fn from_params(p: &Params) -> Rendering {
        Rendering {
            pretty: p.get("pretty").is_some_and(|v| v != "false"),
            filter: p.get("filter_path").and_then(FilterPath::parse),
        }
    }
}

fn path_and_query(req: &Request) -> String {
    req.uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| "/".into())
}

/// The outer middleware of both modes (installed with `axum::middleware::from_fn`):
/// negotiation, the product header, `X-Opaque-Id`, the access log. It never reads a
/// body, so forwarded responses stream through it untouched.
pub async fn edge(req: Request, next: Next) -> Response {
    let started = tokio::time::Instant::now();
    let method = req.method().clone();
    let uri = path_and_query(&req);
    let opaque_id = req.headers().get(OPAQUE_ID).cloned();
    let (negotiated, mut resp) = match Negotiated::from_headers(req.headers()) {
        Ok(n) => (n, next.run(req).await),
        Err(e) => (Negotiated::default(), ApiError::from(e).into_response()),
    };
    // Only searchgate's own JSON is exactly `application/json`; a cluster's answer
    // (`application/json; charset=UTF-8`, or the vendor type the gateway restored)
    // keeps its content type.
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == response::JSON.as_bytes());
    if is_json {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, negotiated.json_content_type());
    }
    let headers = resp.headers_mut();
    headers.insert(PRODUCT_HEADER, HeaderValue::from_static("Elasticsearch"));
    if let Some(id) = opaque_id {
        headers.insert(OPAQUE_ID, id);
    }
    tracing::debug!(
        method = %method,
        uri = %uri,
        status = resp.status().as_u16(),
        took_us = started.elapsed().as_micros() as u64,
        "request"
    );
    resp
}

/// The rendering middleware of searchgate's own answers (the embedded engine's
/// routes, the gateway's `/_searchgate/*`), inside [`edge`]: parses the query string
/// once for the handlers, turns the router's bare 405 into ES's body, and applies
/// `pretty` and `filter_path`. Forwarded requests never pass through it: the cluster
/// has applied those parameters itself.
pub async fn render(mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let uri = path_and_query(&req);
    // Parsed once here and handed to the handler's `Params` extractor. A bad query
    // string is answered by that extractor; here it only means no `pretty`/`filter_path`.
    let rendering = match Params::parse(req.uri().path(), req.uri().query()) {
        Ok(p) => {
            let r = Rendering::from_params(&p);
            req.extensions_mut().insert(p);
            r
        }
        Err(_) => Rendering::default(),
    };
    let mut resp = next.run(req).await;
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && resp.extensions().get::<ErrorBody>().is_none()
    {
        resp = rewrite_405(&resp, &uri, &method);
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == response::JSON.as_bytes());
    if is_json && method != Method::HEAD && (rendering.pretty || rendering.filter.is_some()) {
        resp = rerender(resp, &rendering).await;
    }
    resp
}

/// The router's bare 405 → ES's body, keeping the `Allow` header it computed.
fn rewrite_405(resp: &Response, uri: &str, method: &Method) -> Response {
    let allowed: Vec<String> = resp
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            s.split(',')
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect()
        })
        .unwrap_or_default();
    ApiError::method_not_allowed(uri, method.as_str(), &allowed)
}

/// Applies `filter_path` and `pretty` to a JSON response.
async fn rerender(resp: Response, r: &Rendering) -> Response {
    let is_error = resp.extensions().get::<ErrorBody>().is_some();
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return response::empty(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let (Some(f), false) = (&r.filter, is_error) {
        value = f.apply(value);
    }
    let out = if r.pretty {
        response::to_pretty(&value)
    } else {
        serde_json::to_vec(&value)
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    match out {
        Ok(b) => Response::from_parts(parts, Body::from(b)),
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        let m = media_type("application/vnd.elasticsearch+json; compatible-with=8").unwrap();
        assert_eq!(
            m,
            Media {
                essence: Essence::VendorJson,
                compat: Some(8)
            }
        );
        let m = media_type("Application/JSON; charset=UTF-8").unwrap();
        assert_eq!(m.essence, Essence::Json);
        assert_eq!(media_type("text/plain").unwrap().essence, Essence::Other);
    }

    #[test]
    fn negotiation() {
        let mut h = HeaderMap::new();
        assert_eq!(Negotiated::from_headers(&h).unwrap().vendor, None);
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.elasticsearch+x-ndjson; compatible-with=9"),
        );
        assert_eq!(Negotiated::from_headers(&h).unwrap().vendor, Some(9));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "text/plain,application/vnd.elasticsearch+json;compatible-with=8",
            ),
        );
        assert_eq!(Negotiated::from_headers(&h).unwrap().vendor, Some(8));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.elasticsearch+json;compatible-with=5"),
        );
        assert!(Negotiated::from_headers(&h).is_err());
    }
}
