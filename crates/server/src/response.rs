//! Rendering of responses: compact JSON (the default), ES-style pretty JSON, `_cat`
//! text, empty bodies. Handlers serialize typed values straight to bytes; the edge
//! re-renders only when the client asked for `pretty` or `filter_path`.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;
use std::io;

pub const JSON: &str = "application/json";
pub const TEXT: &str = "text/plain; charset=UTF-8";

/// A compact JSON response with `Content-Type: application/json` (the edge swaps in
/// the vendor media type when the client asked for it).
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => raw_json(status, bytes),
        Err(e) => {
            tracing::error!(error = %e, "failed to serialize a response");
            raw_json(
                StatusCode::INTERNAL_SERVER_ERROR,
                searchgate_core::Error::internal("failed to render the response")
                    .to_body()
                    .to_string()
                    .into_bytes(),
            )
        }
    }
}

/// `200 OK` with a JSON body.
pub fn ok<T: Serialize + ?Sized>(value: &T) -> Response {
    json(StatusCode::OK, value)
}

/// A response whose body is already JSON bytes.
pub fn raw_json(status: StatusCode, bytes: Vec<u8>) -> Response {
    with_type(status, Body::from(bytes), JSON)
}

/// A `_cat` text response.
pub fn text(status: StatusCode, body: String) -> Response {
    with_type(status, Body::from(body), TEXT)
}

/// A status with no body (`HEAD /{index}`).
pub fn empty(status: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}

fn with_type(status: StatusCode, body: Body, content_type: &'static str) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// Serializes `value` as Elasticsearch pretty-prints (Jackson's default printer:
/// two-space indent, `"key" : value`, `{ }` and `[ ]` when empty), with the trailing
/// newline ES adds.
pub fn to_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, EsPretty::default());
    value.serialize(&mut ser)?;
    out.push(b'\n');
    Ok(out)
}

#[derive(Default)]
struct EsPretty {
    indent: usize,
    has_value: bool,
}

impl EsPretty {
    fn newline<W: ?Sized + io::Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.indent {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + io::Write>(&mut self, w: &mut W, c: &[u8]) -> io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        w.write_all(c)
    }

    fn close<W: ?Sized + io::Write>(&mut self, w: &mut W, c: &[u8]) -> io::Result<()> {
        self.indent -= 1;
        if self.has_value {
            self.newline(w)?;
        } else {
            w.write_all(b" ")?;
        }
        w.write_all(c)
    }

    fn item<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }
}

impl serde_json::ser::Formatter for EsPretty {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b" : ")
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_like_es() {
        let v = json!({"a": 1, "b": [], "c": {}, "d": [1, {"e": "x"}]});
        let s = String::from_utf8(to_pretty(&v).unwrap()).unwrap();
        assert_eq!(
            s,
            "{\n  \"a\" : 1,\n  \"b\" : [ ],\n  \"c\" : { },\n  \"d\" : [\n    1,\n    {\n      \"e\" : \"x\"\n    }\n  ]\n}\n"
        );
    }
}
