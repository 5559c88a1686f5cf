//! `_bulk`: the NDJSON request, parsed into typed items, and the per-item response.
//!
//! As in ES, a malformed action line fails the whole request (400), while a bad
//! document fails only its own item.

use super::doc::{DeleteRequest, IfMatch, IndexRequest, OpType, UpdateRequest};
use super::search::SourceFilter;
use super::{Refresh, Shards};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub enum BulkItem {
    Index(IndexRequest),
    Update(UpdateRequest),
    Delete(DeleteRequest),
    /// An item that failed to parse (e.g. a bad update body): reported in place.
    Failed {
        action: BulkAction,
        index: String,
        id: Option<String>,
        error: Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BulkAction {
    Index,
    Create,
    Update,
    Delete,
}

impl BulkAction {
    pub fn name(self) -> &'static str {
        match self {
            BulkAction::Index => "index",
            BulkAction::Create => "create",
            BulkAction::Update => "update",
            BulkAction::Delete => "delete",
        }
    }
}

impl BulkItem {
    pub fn action(&self) -> BulkAction {
        match self {
            BulkItem::Index(r) if r.op_type == OpType::Create => BulkAction::Create,
            BulkItem::Index(_) => BulkAction::Index,
            BulkItem::Update(_) => BulkAction::Update,
            BulkItem::Delete(_) => BulkAction::Delete,
            BulkItem::Failed { action, .. } => *action,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BulkRequest {
    pub items: Vec<BulkItem>,
    pub refresh: Refresh,
}

/// One line of `items` in the response: `{"index": {...}}`.
#[derive(Debug, Clone, Serialize)]
pub struct BulkItemResult {
    pub _index: String,
    pub _id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<super::doc::WriteResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _shards: Option<Shards>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _seq_no: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub _primary_term: Option<i64>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

impl BulkItemResult {
    pub fn from_write(w: super::doc::WriteResponse) -> Self {
        BulkItemResult {
            status: w.status(),
            _index: w._index,
            _id: Some(w._id),
            _version: Some(w._version),
            result: Some(w.result),
            _shards: Some(w._shards),
            _seq_no: Some(w._seq_no),
            _primary_term: Some(w._primary_term),
            error: None,
        }
    }

    pub fn from_error(index: &str, id: Option<&str>, e: &Error) -> Self {
        BulkItemResult {
            _index: index.to_string(),
            _id: id.map(str::to_string),
            _version: None,
            result: None,
            _shards: None,
            _seq_no: None,
            _primary_term: None,
            status: e.status,
            error: Some(e.cause_json()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BulkResponse {
    pub took: u64,
    pub items: Vec<(BulkAction, BulkItemResult)>,
}

impl Serialize for BulkResponse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Item<'a>(BulkAction, &'a BulkItemResult);
        impl Serialize for Item<'_> {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(self.0.name(), self.1)?;
                m.end()
            }
        }
        let errors = self.items.iter().any(|(_, r)| r.error.is_some());
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("errors", &errors)?;
        m.serialize_entry("took", &self.took)?;
        let items: Vec<Item> = self.items.iter().map(|(a, r)| Item(*a, r)).collect();
        m.serialize_entry("items", &items)?;
        m.end()
    }
}

fn action_error(line: usize, msg: impl Into<String>) -> Error {
    Error::illegal_argument(format!(
        "Malformed action/metadata line [{line}], {}",
        msg.into()
    ))
}

fn meta_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses an NDJSON bulk body. `default_index` comes from `/{index}/_bulk`.
pub fn parse_bulk(
    body: &[u8],
    default_index: Option<&str>,
    refresh: Refresh,
) -> Result<BulkRequest> {
    let mut items = Vec::new();
    let mut lines = body
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace));
    while let Some((lineno, line)) = lines.next() {
        let action_val: Value = serde_json::from_slice(line).map_err(|e| {
            action_error(
                lineno,
                format!("expected START_OBJECT but found a malformed line: {e}"),
            )
        })?;
        let obj = action_val
            .as_object()
            .ok_or_else(|| action_error(lineno, "expected START_OBJECT"))?;
        if obj.len() != 1 {
            return Err(action_error(lineno, "expected a single action"));
        }
        let (name, meta) = obj.iter().next().expect("one entry");
        let action = match name.as_str() {
            "index" => BulkAction::Index,
            "create" => BulkAction::Create,
            "update" => BulkAction::Update,
            "delete" => BulkAction::Delete,
            other => {
                return Err(Error::illegal_argument(format!(
                    "Malformed action/metadata line [{lineno}], expected field [create], [delete], [index] or [update] but found [{other}]"
                )))
            }
        };
        let meta: &Map<String, Value> = meta
            .as_object()
            .ok_or_else(|| action_error(lineno, "expected START_OBJECT for the action metadata"))?;
        let mut index = default_index.map(str::to_string);
        let mut id = None;
        let mut if_match = IfMatch::default();
        let mut source_filter = None;
        for (k, v) in meta {
            match k.as_str() {
                "_index" => index = meta_string(v),
                "_id" => id = meta_string(v),
                "if_seq_no" => if_match.if_seq_no = v.as_i64(),
                "if_primary_term" => if_match.if_primary_term = v.as_i64(),
                "_source" => source_filter = Some(SourceFilter::parse(v)?),
                "routing" | "_routing" | "pipeline" | "require_alias" | "retry_on_conflict"
                | "version" | "version_type" | "dynamic_templates" | "_type" => {}
                other => {
                    return Err(Error::illegal_argument(format!(
                        "Action/metadata line [{lineno}] contains an unknown parameter [{other}]"
                    )))
                }
            }
        }
        let index = index.ok_or_else(|| Error::action_request_validation("index is missing"))?;
        if action == BulkAction::Delete {
            let id = id.ok_or_else(|| Error::action_request_validation("id is missing"))?;
            items.push(BulkItem::Delete(DeleteRequest {
                index,
                id,
                if_match,
                refresh,
            }));
            continue;
        }
        let (_, source) = lines.next().ok_or_else(|| {
            Error::illegal_argument(format!(
                "The bulk request must be terminated by a newline [\\n]; missing source for line [{lineno}]"
            ))
        })?;
        match action {
            BulkAction::Index | BulkAction::Create => {
                if action == BulkAction::Create && id.is_none() {
                    // ES generates an id for create without one.
                }
                items.push(BulkItem::Index(IndexRequest {
                    index,
                    id,
                    source: bytes::Bytes::copy_from_slice(source),
                    op_type: if action == BulkAction::Create {
                        OpType::Create
                    } else {
                        OpType::Index
                    },
                    if_match,
                    refresh,
                }))
            }
            BulkAction::Update => {
                let Some(id) = id else {
                    return Err(Error::action_request_validation("id is missing"));
                };
                match parse_update_body(&index, &id, source, if_match, refresh) {
                    Ok(mut u) => {
                        if u.source.is_none() {
                            u.source = source_filter;
                        }
                        items.push(BulkItem::Update(u))
                    }
                    // An update line ES cannot parse fails the whole request, as its
                    // parser reads the bodies up front; what it can parse but not run
                    // (a script here) fails only its item.
                    Err(error) if error.kind != "illegal_argument_exception" => return Err(error),
                    Err(error) => items.push(BulkItem::Failed {
                        action,
                        index,
                        id: Some(id),
                        error,
                    }),
                }
            }
            BulkAction::Delete => unreachable!("handled above"),
        }
    }
    if items.is_empty() {
        return Err(Error::action_request_validation("no requests added"));
    }
    Ok(BulkRequest { items, refresh })
}

/// Parses the body of an update (`_update` API or a bulk update line).
pub fn parse_update_body(
    index: &str,
    id: &str,
    body: &[u8],
    if_match: IfMatch,
    refresh: Refresh,
) -> Result<UpdateRequest> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        Error::x_content_parse(format!("[1:1] failed to parse update request: {e}"))
    })?;
    let obj = v
        .as_object()
        .ok_or_else(|| Error::x_content_parse("[1:1] update request must be an object"))?;
    let mut u = UpdateRequest {
        index: index.to_string(),
        id: id.to_string(),
        doc: None,
        upsert: None,
        doc_as_upsert: false,
        detect_noop: true,
        if_match,
        refresh,
        source: None,
    };
    for (k, val) in obj {
        match k.as_str() {
            "doc" => {
                if !val.is_object() {
                    return Err(Error::x_content_parse("[update] doc must be an object"));
                }
                u.doc = Some(val.clone())
            }
            "upsert" => u.upsert = Some(val.clone()),
            "doc_as_upsert" => u.doc_as_upsert = val.as_bool().unwrap_or(false),
            "detect_noop" => u.detect_noop = val.as_bool().unwrap_or(true),
            "_source" => u.source = Some(SourceFilter::parse(val)?),
            "script" | "scripted_upsert" => {
                return Err(Error::illegal_argument(
                    "scripted updates are not supported by the embedded engine",
                ))
            }
            "lang" | "params" => {}
            other => {
                return Err(Error::x_content_parse(format!(
                    "[1:2] [UpdateRequest] unknown field [{other}]"
                )))
            }
        }
    }
    if u.doc.is_none() && u.upsert.is_none() {
        return Err(Error::action_request_validation("script or doc is missing"));
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_actions() {
        let body = b"{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n{\"delete\":{\"_index\":\"a\",\"_id\":\"2\"}}\n{\"create\":{\"_id\":\"3\"}}\n{\"y\":2}\n{\"update\":{\"_id\":\"1\"}}\n{\"doc\":{\"x\":2}}\n";
        let r = parse_bulk(body, Some("a"), Refresh::False).unwrap();
        let actions: Vec<_> = r.items.iter().map(|i| i.action()).collect();
        assert_eq!(
            actions,
            vec![
                BulkAction::Index,
                BulkAction::Delete,
                BulkAction::Create,
                BulkAction::Update
            ]
        );
    }

    #[test]
    fn malformed_action_rejects_all() {
        let e = parse_bulk(b"{\"index\":{}\n{}\n", Some("a"), Refresh::False).unwrap_err();
        assert_eq!(e.status, 400);
        let e = parse_bulk(b"{\"frob\":{}}\n{}\n", Some("a"), Refresh::False).unwrap_err();
        assert_eq!(e.kind, "illegal_argument_exception");
    }

    #[test]
    fn unparsable_update_fails_all_script_fails_item() {
        assert!(parse_bulk(
            b"{\"update\":{\"_id\":\"1\"}}\n{\"doc\":{}, broken\n",
            Some("a"),
            Refresh::False
        )
        .is_err());
        let r = parse_bulk(
            b"{\"update\":{\"_id\":\"1\"}}\n{\"script\":\"x\"}\n",
            Some("a"),
            Refresh::False,
        )
        .unwrap();
        assert!(matches!(r.items[0], BulkItem::Failed { .. }));
    }
}
