//! Header handling of the pass-through.
//!
//! Going up: drop hop-by-hop headers and the ones the client stack sets itself
//! (`Host`, `Content-Length`; `Accept-Encoding` too when the gateway asks for gzip
//! itself and decodes, otherwise the client's is kept and a compressed answer
//! passes through as it is), put the cluster's credentials in
//! `Authorization` when configured, and rewrite the Elasticsearch vendor media types
//! (`application/vnd.elasticsearch+json; compatible-with=8`) to the plain ones that
//! OpenSearch accepts.
//!
//! Going down: drop hop-by-hop headers, and answer a client that asked for a vendor
//! type with the vendor `Content-Type`, as Elasticsearch 8 does. The server adds
//! `X-Elastic-Product: Elasticsearch`.

use crate::config::Credentials;
use base64::Engine;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Connection-level headers (RFC 9110 §7.6.1) that a proxy must not forward.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// Names listed in `Connection: a, b` are hop-by-hop too.
fn connection_listed(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The `Authorization` value for the configured credentials.
pub(crate) fn authorization(creds: &Credentials) -> HeaderValue {
    let b64 = base64::engine::general_purpose::STANDARD;
    let value = match creds {
        Credentials::Basic { username, password } => {
            format!("Basic {}", b64.encode(format!("{username}:{password}")))
        }
        Credentials::ApiKey {
            api_key,
            id: Some(id),
        } => format!("ApiKey {}", b64.encode(format!("{id}:{api_key}"))),
        Credentials::ApiKey { api_key, id: None } => format!("ApiKey {api_key}"),
    };
    let mut v = HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

/// Headers to send to the node for a client request with `headers`.
pub(crate) fn upstream_headers(
    headers: &HeaderMap,
    auth: Option<&HeaderValue>,
    rewrite_media_types: bool,
    keep_accept_encoding: bool,
) -> HeaderMap {
    let listed = connection_listed(headers);
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if is_hop_by_hop(name)
            || listed.iter().any(|l| l == name.as_str())
            || name == header::HOST
            || name == header::CONTENT_LENGTH
            || (name == header::ACCEPT_ENCODING && !keep_accept_encoding)
            || name == header::EXPECT
        {
            continue;
        }
        if rewrite_media_types && (name == header::ACCEPT || name == header::CONTENT_TYPE) {
            if let Some(plain) = plain_media_type(value) {
                out.append(name.clone(), plain);
                continue;
            }
        }
        out.append(name.clone(), value.clone());
    }
    if let Some(auth) = auth {
        out.insert(header::AUTHORIZATION, auth.clone());
    }
    out
}

/// Headers of a node's response to pass to the client.
pub fn downstream_headers(headers: &HeaderMap) -> HeaderMap {
    let listed = connection_listed(headers);
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if is_hop_by_hop(name) || listed.iter().any(|l| l == name.as_str()) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// `application/vnd.elasticsearch+json; compatible-with=8` → `application/json`
/// (also `+x-ndjson`, `+yaml`, `+cbor`, `+smile`, and lists in `Accept`).
/// `None` if there is nothing to rewrite.
pub fn plain_media_type(value: &HeaderValue) -> Option<HeaderValue> {
    let s = value.to_str().ok()?;
    if !s.to_ascii_lowercase().contains("vnd.elasticsearch+") {
        return None;
    }
    let parts: Vec<String> = s
        .split(',')
        .map(|item| {
            let mut params = item.split(';').map(str::trim);
            let mime = params.next().unwrap_or("");
            let lower = mime.to_ascii_lowercase();
            match lower.strip_prefix("application/vnd.elasticsearch+") {
                Some(sub) => {
                    let rest: Vec<&str> = params
                        .filter(|p| !p.to_ascii_lowercase().starts_with("compatible-with"))
                        .collect();
                    let mut out = format!("application/{sub}");
                    for p in rest {
                        out.push_str("; ");
                        out.push_str(p);
                    }
                    out
                }
                None => item.trim().to_string(),
            }
        })
        .collect();
    HeaderValue::from_str(&parts.join(", ")).ok()
}

/// The `compatible-with` version a client asked for with a vendor media type in
/// `Accept` (or, lacking one, `Content-Type`).
pub(crate) fn requested_compat(headers: &HeaderMap) -> Option<u8> {
    let probe = |v: &HeaderValue| -> Option<u8> {
        let s = v.to_str().ok()?.to_ascii_lowercase();
        if !s.contains("application/vnd.elasticsearch+json") {
            return None;
        }
        let at = s.find("compatible-with=")?;
        s[at + "compatible-with=".len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse()
            .ok()
    };
    headers.get(header::ACCEPT).and_then(probe).or_else(|| {
        if headers.contains_key(header::ACCEPT) {
            None
        } else {
            headers.get(header::CONTENT_TYPE).and_then(probe)
        }
    })
}

/// Sets the vendor `Content-Type` on a JSON response for a client that asked for it.
pub(crate) fn restore_vendor_content_type(headers: &mut HeaderMap, compat: u8) {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if is_json {
        let v = format!("application/vnd.elasticsearch+json;compatible-with={compat}");
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(header::CONTENT_TYPE, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hv(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn vendor_types_become_plain() {
        assert_eq!(
            plain_media_type(&hv("application/vnd.elasticsearch+json; compatible-with=8")).unwrap(),
            "application/json"
        );
        assert_eq!(
            plain_media_type(&hv(
                "application/vnd.elasticsearch+x-ndjson;compatible-with=9"
            ))
            .unwrap(),
            "application/x-ndjson"
        );
        assert_eq!(
            plain_media_type(&hv(
                "application/vnd.elasticsearch+json; compatible-with=8; charset=utf-8"
            ))
            .unwrap(),
            "application/json; charset=utf-8"
        );
        assert_eq!(
            plain_media_type(&hv(
                "application/vnd.elasticsearch+json;compatible-with=8, text/plain"
            ))
            .unwrap(),
            "application/json, text/plain"
        );
        assert!(plain_media_type(&hv("application/json")).is_none());
    }

    #[test]
    fn upstream_filtering() {
        let mut h = HeaderMap::new();
        h.insert("connection", hv("keep-alive, x-private"));
        h.insert("x-private", hv("1"));
        h.insert("host", hv("gateway:9200"));
        h.insert("content-length", hv("10"));
        h.insert("accept-encoding", hv("gzip"));
        h.insert("transfer-encoding", hv("chunked"));
        h.insert(
            "content-type",
            hv("application/vnd.elasticsearch+x-ndjson; compatible-with=8"),
        );
        h.insert(
            "accept",
            hv("application/vnd.elasticsearch+json; compatible-with=8"),
        );
        h.insert("x-opaque-id", hv("abc"));
        h.insert("authorization", hv("Basic Y2xpZW50OnB3"));
        let creds = Credentials::Basic {
            username: "elastic".into(),
            password: "changeme".into(),
        };
        let out = upstream_headers(&h, Some(&authorization(&creds)), true, false);
        let names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert_eq!(out["content-type"], "application/x-ndjson");
        assert_eq!(out["accept"], "application/json");
        assert_eq!(out["x-opaque-id"], "abc");
        assert_eq!(out["authorization"], "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==");
        // without configured credentials the client's pass through; no rewrite when off
        let out = upstream_headers(&h, None, false, false);
        assert_eq!(out["authorization"], "Basic Y2xpZW50OnB3");
        assert_eq!(
            out["accept"],
            "application/vnd.elasticsearch+json; compatible-with=8"
        );
    }

    #[test]
    fn api_key_forms() {
        let a = authorization(&Credentials::ApiKey {
            api_key: "ZW5jb2RlZA==".into(),
            id: None,
        });
        assert_eq!(a, "ApiKey ZW5jb2RlZA==");
        let a = authorization(&Credentials::ApiKey {
            api_key: "key".into(),
            id: Some("id".into()),
        });
        assert_eq!(a, "ApiKey aWQ6a2V5");
    }

    #[test]
    fn vendor_content_type_going_down() {
        let mut req = HeaderMap::new();
        req.insert(
            "accept",
            hv("application/vnd.elasticsearch+json; compatible-with=9"),
        );
        assert_eq!(requested_compat(&req), Some(9));
        let mut resp = HeaderMap::new();
        resp.insert("content-type", hv("application/json; charset=UTF-8"));
        resp.insert("transfer-encoding", hv("chunked"));
        let mut down = downstream_headers(&resp);
        assert!(!down.contains_key("transfer-encoding"));
        restore_vendor_content_type(&mut down, 9);
        assert_eq!(
            down["content-type"],
            "application/vnd.elasticsearch+json;compatible-with=9"
        );
        // text responses (_cat) are left alone
        let mut cat = HeaderMap::new();
        cat.insert("content-type", hv("text/plain; charset=UTF-8"));
        restore_vendor_content_type(&mut cat, 8);
        assert_eq!(cat["content-type"], "text/plain; charset=UTF-8");
        assert_eq!(requested_compat(&HeaderMap::new()), None);
    }
}
