//! The one place where a failure becomes an HTTP response.
//!
//! [`ApiError`] wraps `searchgate_core::Error` (rendered as ES's
//! `{"error":{"root_cause":[..],"type":..,"reason":..},"status":N}`) and the few
//! routing-level failures that ES answers with a bare string
//! (`{"error":"no handler found for uri [..] and method [..]","status":400}`).

use crate::response;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use searchgate_core::Error;
use serde_json::json;

/// Marks a response as an error body: `filter_path` does not apply to it (as in ES).
#[derive(Debug, Clone, Copy)]
pub struct ErrorBody;

#[derive(Debug)]
pub enum ApiError {
    /// An ES error with type, reason and root cause.
    Es(Error),
    /// A routing-level error that ES reports as a plain string.
    Simple { status: StatusCode, message: String },
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

impl ApiError {
    pub fn simple(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::Simple {
            status,
            message: message.into(),
        }
    }

    /// `400 no handler found for uri [..] and method [..]`.
    pub fn no_handler(uri: &str, method: &str) -> Self {
        ApiError::simple(
            StatusCode::BAD_REQUEST,
            format!("no handler found for uri [{uri}] and method [{method}]"),
        )
    }

    /// `405 Incorrect HTTP method ...`, with the `Allow` header.
    pub fn method_not_allowed(uri: &str, method: &str, allowed: &[String]) -> Response {
        let mut resp = ApiError::simple(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "Incorrect HTTP method for uri [{uri}] and method [{method}], allowed: [{}]",
                allowed.join(", ")
            ),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&allowed.join(",")) {
            resp.headers_mut().insert(axum::http::header::ALLOW, v);
        }
        resp
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Es(e) => {
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::Simple { status, .. } => *status,
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Es(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            ApiError::Es(e) => {
                if status.is_server_error() {
                    tracing::error!(status = e.status, kind = e.kind, reason = %e.reason, "request failed");
                } else {
                    tracing::debug!(status = e.status, kind = e.kind, reason = %e.reason, "request rejected");
                }
                e.to_body()
            }
            ApiError::Simple { message, .. } => {
                json!({ "error": message, "status": status.as_u16() })
            }
        };
        let mut resp = response::json(status, &body);
        resp.extensions_mut().insert(ErrorBody);
        resp
    }
}

/// The answer to a panic caught by the catch-panic layer: a 500 ES body that says
/// nothing of the Rust message (it is logged instead).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let msg = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("<non-string panic payload>");
    tracing::error!(panic = msg, "handler panicked");
    ApiError::Es(Error::internal(
        "an internal error occurred while handling the request",
    ))
    .into_response()
}
