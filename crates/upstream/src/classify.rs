//! Which requests may be retried on another node.
//!
//! - [`RequestKind::Read`]: `GET`, `HEAD`, `OPTIONS`, and `POST` to the read APIs
//!   that take a body (`_search`, `_msearch`, `_count`, `_mget`, `_field_caps`,
//!   `_validate/query`, `_explain`, `_termvectors`, templates, `_analyze` …).
//! - [`RequestKind::IdempotentWrite`]: `PUT|POST /{index}/_doc/{id}`: the same
//!   document again; retried only when `retry.idempotent_writes` is on.
//! - [`RequestKind::Write`]: everything else; retried only if it never left
//!   (the connection could not be made).
//!
//! `POST /_search/scroll` and `POST /{index}/_search/point_in_time` are writes: a
//! retried scroll could skip a page, a retried PIT leaks a context.

use http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Read,
    IdempotentWrite,
    Write,
}

/// Final path segments of `POST` endpoints that only read.
const READ_ENDPOINTS: &[&str] = &[
    "_search",
    "_msearch",
    "_count",
    "_mget",
    "_field_caps",
    "_termvectors",
    "_mtermvectors",
    "_analyze",
    "_search_shards",
    "_rank_eval",
    "_render",
    "_terms_enum",
    "_knn_search",
];

impl RequestKind {
    /// Classifies a request by method and path (the query string is ignored).
    pub fn classify(method: &Method, path_and_query: &str) -> RequestKind {
        if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
            return RequestKind::Read;
        }
        let path = path_and_query.split(['?', '#']).next().unwrap_or("");
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if method == Method::POST {
            if segs
                .windows(2)
                .any(|w| w == ["_search", "scroll"] || w == ["_search", "point_in_time"])
            {
                return RequestKind::Write;
            }
            let read = segs.iter().enumerate().any(|(i, s)| {
                READ_ENDPOINTS.contains(s)
                    // _validate/query, _explain/{id}, _search/template, _msearch/template,
                    // _render/template
                    || (*s == "_validate" && segs.get(i + 1) == Some(&"query"))
                    || (*s == "_explain" && i >= 1)
            });
            let writes = [
                "_delete_by_query",
                "_update_by_query",
                "_doc",
                "_update",
                "_create",
                "_bulk",
            ];
            if read && !segs.iter().any(|s| writes.contains(s)) {
                return RequestKind::Read;
            }
        }
        if (method == Method::PUT || method == Method::POST)
            && segs.len() == 3
            && segs[1] == "_doc"
            && !segs[0].starts_with('_')
        {
            let create = path_and_query.contains("op_type=create");
            if !create {
                return RequestKind::IdempotentWrite;
            }
        }
        RequestKind::Write
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            RequestKind::Read => "read",
            RequestKind::IdempotentWrite => "idempotent_write",
            RequestKind::Write => "write",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(m: Method, p: &str) -> RequestKind {
        RequestKind::classify(&m, p)
    }

    #[test]
    fn reads() {
        use RequestKind::Read;
        assert_eq!(k(Method::GET, "/idx/_doc/1"), Read);
        assert_eq!(k(Method::HEAD, "/idx"), Read);
        for p in [
            "/_search",
            "/idx/_search?size=1",
            "/a,b/_msearch",
            "/_count",
            "/idx/_mget",
            "/idx/_field_caps?fields=*",
            "/idx/_validate/query?explain",
            "/idx/_explain/1",
            "/idx/_search/template",
            "/_msearch/template",
            "/_render/template",
            "/idx/_termvectors/1",
            "/_analyze",
        ] {
            assert_eq!(k(Method::POST, p), Read, "{p}");
        }
    }

    #[test]
    fn writes() {
        use RequestKind::*;
        assert_eq!(k(Method::PUT, "/idx/_doc/1"), IdempotentWrite);
        assert_eq!(k(Method::POST, "/idx/_doc/1?refresh=true"), IdempotentWrite);
        assert_eq!(k(Method::PUT, "/idx/_doc/1?op_type=create"), Write);
        assert_eq!(k(Method::POST, "/idx/_doc"), Write);
        assert_eq!(k(Method::PUT, "/idx/_create/1"), Write);
        assert_eq!(k(Method::POST, "/_bulk"), Write);
        assert_eq!(k(Method::POST, "/idx/_update/1"), Write);
        assert_eq!(k(Method::DELETE, "/idx/_doc/1"), Write);
        assert_eq!(k(Method::POST, "/_search/scroll"), Write);
        assert_eq!(
            k(Method::POST, "/idx/_search/point_in_time?keep_alive=1m"),
            Write
        );
        assert_eq!(k(Method::POST, "/idx/_delete_by_query"), Write);
        assert_eq!(k(Method::POST, "/idx/_refresh"), Write);
        assert_eq!(k(Method::PUT, "/idx"), Write);
        // an index named like an endpoint is still the index
        assert_eq!(k(Method::POST, "/_search_idx/_bulk"), Write);
        // ... and a document id like an endpoint is still an id
        assert_eq!(k(Method::POST, "/idx/_update/_search"), Write);
    }
}
