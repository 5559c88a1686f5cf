//! Request bodies: the size limit (from `Content-Length` first, then while reading,
//! so chunked bodies are bounded too; [`read_within`], also used by the gateway),
//! the accepted content types, and JSON parsing with the nesting-depth limit.

use crate::edge::{media_type, Essence};
use crate::error::ApiError;
use crate::params::Params;
use crate::state::AppState;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use searchgate_core::json::{check_depth, parse_body};
use searchgate_core::{Error, Result};
use serde_json::Value;

/// The raw body of a request, read within `max_content_length`. Empty when the
/// request has none; the `source` query parameter stands in for a missing body as
/// in ES.
#[derive(Debug, Clone, Default)]
pub struct Body(pub Bytes);

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// ES reads bodies only as JSON (or NDJSON for bulk); anything else is a 406.
fn check_content_type(content_type: Option<&HeaderValue>) -> Result<(), ApiError> {
    let Some(ct) = content_type else {
        return Ok(());
    };
    let raw = String::from_utf8_lossy(ct.as_bytes()).into_owned();
    match media_type(&raw) {
        Some(m) if m.essence.is_json_like() => Ok(()),
        _ => Err(ApiError::simple(
            StatusCode::NOT_ACCEPTABLE,
            format!("Content-Type header [{raw}] is not supported"),
        )),
    }
}

fn too_long_streamed(limit: u64) -> Error {
    Error::new(
        413,
        "content_too_long_exception",
        format!("request body is too large: more than {limit} bytes, the limit is {limit} bytes"),
    )
}

/// Reads a request body within `limit` bytes: a declared `Content-Length` over the
/// limit is refused before reading, a chunked body while reading. Both are ES's 413.
/// Shared by the embedded handlers ([`Body`]) and the gateway's pass-through.
pub async fn read_within(
    headers: &HeaderMap,
    body: axum::body::Body,
    limit: u64,
) -> Result<Bytes, ApiError> {
    if let Some(len) = declared_length(headers) {
        if len > limit {
            return Err(Error::too_large(len, limit).into());
        }
    }
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    let collected = Limited::new(body, limit_usize)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                ApiError::from(too_long_streamed(limit))
            } else {
                ApiError::from(Error::bad_request(
                    "parse_exception",
                    format!("failed to read the request body: {e}"),
                ))
            }
        })?;
    Ok(collected.to_bytes())
}

impl FromRequest<AppState> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.limits.max_content_length;
        let declared = declared_length(req.headers());
        if let Some(len) = declared {
            if len > limit {
                return Err(Error::too_large(len, limit).into());
            }
        }
        // Checked before reading when the length is known, after reading otherwise.
        let content_type = req.headers().get(header::CONTENT_TYPE).cloned();
        if declared.is_some_and(|l| l > 0) {
            check_content_type(content_type.as_ref())?;
        }
        let (parts, body) = req.into_parts();
        let bytes = read_within(&parts.headers, body, limit).await?;
        let uri = parts.uri;
        if !bytes.is_empty() && declared.is_none() {
            check_content_type(content_type.as_ref())?;
        }
        if bytes.is_empty() && uri.query().is_some_and(|q| q.contains("source=")) {
            let params = Params::parse(uri.path(), uri.query())?;
            if let Some(src) = params.get("source") {
                if src.len() as u64 > limit {
                    return Err(Error::too_large(src.len() as u64, limit).into());
                }
                return Ok(Body(Bytes::copy_from_slice(src.as_bytes())));
            }
        }
        Ok(Body(bytes))
    }
}

impl Body {
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(u8::is_ascii_whitespace)
    }

    /// Parses the body as JSON (`Null` when empty), with the nesting limit.
    pub fn json(&self, state: &AppState) -> Result<Value> {
        parse_body(&self.0, state.limits.max_nesting_depth)
    }

    /// Checks only the nesting depth (for documents, which the backend parses).
    pub fn check_depth(&self, state: &AppState) -> Result<()> {
        check_depth(&self.0, state.limits.max_nesting_depth)
    }

    /// A body that must be there (`source is missing` otherwise, as ES says).
    pub fn required(&self, what: &str) -> Result<()> {
        if self.is_empty() {
            return Err(Error::action_request_validation(format!(
                "{what} is missing"
            )));
        }
        Ok(())
    }
}

impl Essence {
    pub fn is_json_like(self) -> bool {
        !matches!(self, Essence::Other)
    }
}
