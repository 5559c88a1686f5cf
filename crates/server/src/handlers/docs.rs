//! Single-document APIs: index, create, get, `_source`, delete, update, `_mget`.

use super::{EsPath, IndexId, IndexMaybeId, MaybeIndex};
use crate::body::Body;
use crate::error::ApiResult;
use crate::params::Params;
use crate::response;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use searchgate_core::model::{
    parse_update_body, DeleteRequest, GetRequest, IndexRequest, IndexTarget, MgetRequest, OpType,
    SourceFilter, WriteResponse,
};
use searchgate_core::{Error, Result};
use serde_json::Value;

const WRITE: &[&str] = &[
    "refresh",
    "routing",
    "timeout",
    "wait_for_active_shards",
    "version",
    "version_type",
    "if_seq_no",
    "if_primary_term",
    "pipeline",
    "require_alias",
    "require_data_stream",
    "op_type",
    "include_source_on_error",
];

const READ: &[&str] = &[
    "_source",
    "_source_includes",
    "_source_excludes",
    "_source_include",
    "_source_exclude",
    "realtime",
    "refresh",
    "routing",
    "preference",
    "stored_fields",
    "version",
    "version_type",
    "force_synthetic_source",
];

/// What `Location` escapes in an index name or id (as Java's `URLEncoder` does).
const LOCATION: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*');

/// A write's response: the status from the result, `Location` on 201 as ES sends it.
pub fn write_response(w: &WriteResponse) -> Response {
    let status = StatusCode::from_u16(w.status()).unwrap_or(StatusCode::OK);
    let mut resp = response::json(status, w);
    if status == StatusCode::CREATED {
        let loc = format!(
            "/{}/_doc/{}",
            utf8_percent_encode(&w._index, LOCATION),
            utf8_percent_encode(&w._id, LOCATION)
        );
        if let Ok(v) = HeaderValue::from_str(&loc) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
    }
    resp
}

fn op_type(p: &Params) -> Result<OpType> {
    match p.get("op_type") {
        None | Some("index") => Ok(OpType::Index),
        Some("create") => Ok(OpType::Create),
        Some(other) => Err(Error::illegal_argument(format!(
            "opType must be 'create' or 'index', found: [{other}]"
        ))),
    }
}

async fn index_doc(
    st: AppState,
    index: String,
    id: Option<String>,
    p: Params,
    body: Body,
    op: OpType,
) -> ApiResult {
    body.required("source")?;
    body.check_depth(&st)?;
    let req = IndexRequest {
        index,
        id,
        source: body.0,
        op_type: op,
        if_match: p.if_match()?,
        refresh: p.refresh()?,
    };
    let w = st.backend.index(req).await?;
    Ok(write_response(&w))
}

/// `PUT|POST /{index}/_doc/{id}`, and `POST /{index}/_doc` where the backend
/// generates the id (`op_type=create` makes either a create).
pub async fn index(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexMaybeId>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[WRITE])?;
    let op = op_type(&p)?;
    index_doc(st, path.index, path.id, p, body, op).await
}

/// `PUT|POST /{index}/_create/{id}`: 409 if the document exists.
pub async fn create(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexId>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[WRITE])?;
    index_doc(st, path.index, Some(path.id), p, body, OpType::Create).await
}

async fn get_one(
    st: &AppState,
    p: &Params,
    index: String,
    id: String,
) -> Result<searchgate_core::model::GetResponse> {
    if p.flag("refresh")? {
        st.backend.refresh(&IndexTarget::new(index.clone())).await?;
    }
    let req = GetRequest {
        index,
        id,
        source: p.source_filter().unwrap_or_default(),
        realtime: p.bool_or("realtime", true)?,
    };
    st.backend.get(req).await
}

/// `GET|HEAD /{index}/_doc/{id}`: 200, or 404 with `found: false`.
pub async fn get(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexId>,
    p: Params,
) -> ApiResult {
    p.allow(&[READ])?;
    let g = get_one(&st, &p, path.index, path.id).await?;
    let status = if g.found {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok(response::json(status, &g))
}

/// `GET|HEAD /{index}/_source/{id}`: only the source.
pub async fn source(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexId>,
    p: Params,
) -> ApiResult {
    p.allow(&[READ])?;
    let (index, id) = (path.index.clone(), path.id.clone());
    let g = get_one(&st, &p, path.index, path.id).await?;
    match g._source {
        Some(raw) if g.found => Ok(response::raw_json(
            StatusCode::OK,
            raw.get().as_bytes().to_vec(),
        )),
        _ => Err(Error::new(
            404,
            "resource_not_found_exception",
            format!("Document not found [{index}]/[{id}]"),
        )
        .into()),
    }
}

/// `DELETE /{index}/_doc/{id}`: 404 with `result: not_found` when missing.
pub async fn delete(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexId>,
    p: Params,
) -> ApiResult {
    p.allow(&[WRITE])?;
    let req = DeleteRequest {
        index: path.index,
        id: path.id,
        if_match: p.if_match()?,
        refresh: p.refresh()?,
    };
    let w = st.backend.delete(req).await?;
    Ok(write_response(&w))
}

/// `POST /{index}/_update/{id}`: `doc`, `upsert`, `doc_as_upsert`.
pub async fn update(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexId>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[
        WRITE,
        &[
            "retry_on_conflict",
            "lang",
            "_source",
            "_source_includes",
            "_source_excludes",
        ],
    ])?;
    if body.is_empty() {
        return Err(Error::action_request_validation("script or doc is missing").into());
    }
    body.check_depth(&st)?;
    let mut req = parse_update_body(&path.index, &path.id, &body.0, p.if_match()?, p.refresh()?)?;
    if let Some(sf) = p.source_filter() {
        req.source = Some(sf);
    }
    let w = st.backend.update(req).await?;
    Ok(write_response(&w))
}

fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses an `_mget` body (`docs` or `ids`) into get requests.
pub fn parse_mget(
    body: &Value,
    path_index: Option<&str>,
    default_source: &SourceFilter,
    realtime: bool,
) -> Result<MgetRequest> {
    let obj = match body {
        Value::Object(o) => o,
        Value::Null => return Err(Error::action_request_validation("no documents to get")),
        _ => return Err(Error::parsing("request body must be an object")),
    };
    let mut docs = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for (k, v) in obj {
        match k.as_str() {
            "docs" => {
                let arr = v
                    .as_array()
                    .ok_or_else(|| Error::parsing("docs array element should include an object"))?;
                for (i, d) in arr.iter().enumerate() {
                    let d = d.as_object().ok_or_else(|| {
                        Error::parsing("docs array element should include an object")
                    })?;
                    let mut index = path_index.map(str::to_string);
                    let mut id = None;
                    let mut source = default_source.clone();
                    for (dk, dv) in d {
                        match dk.as_str() {
                            "_index" => index = dv.as_str().map(str::to_string),
                            "_id" => id = id_string(dv),
                            "_source" => source = SourceFilter::parse(dv)?,
                            "routing" | "_routing" | "stored_fields" | "version"
                            | "version_type" | "_type" => {}
                            other => {
                                return Err(Error::parsing(format!(
                                    "Unknown key for a {} in [{other}].",
                                    if dv.is_object() {
                                        "START_OBJECT"
                                    } else {
                                        "VALUE"
                                    }
                                )))
                            }
                        }
                    }
                    match (index, id) {
                        (Some(index), Some(id)) => docs.push(GetRequest {
                            index,
                            id,
                            source,
                            realtime,
                        }),
                        (None, _) => missing.push(format!("index is missing for doc {i}")),
                        (_, None) => missing.push(format!("id is missing for doc {i}")),
                    }
                }
            }
            "ids" => {
                let arr = v
                    .as_array()
                    .ok_or_else(|| Error::parsing("ids must be an array"))?;
                for (i, idv) in arr.iter().enumerate() {
                    let id = id_string(idv).ok_or_else(|| {
                        Error::parsing("ids array element should only contain ids")
                    })?;
                    match path_index {
                        Some(index) => docs.push(GetRequest {
                            index: index.to_string(),
                            id,
                            source: default_source.clone(),
                            realtime,
                        }),
                        None => missing.push(format!("index is missing for doc {i}")),
                    }
                }
            }
            other => {
                return Err(Error::parsing(format!(
                    "unknown key [{other}] for a START_ARRAY, expected [docs] or [ids]"
                )))
            }
        }
    }
    if !missing.is_empty() {
        let list: Vec<String> = missing
            .iter()
            .enumerate()
            .map(|(n, m)| format!("{}: {m};", n + 1))
            .collect();
        return Err(Error::new(
            400,
            "action_request_validation_exception",
            format!("Validation Failed: {}", list.join(" ")),
        ));
    }
    if docs.is_empty() {
        return Err(Error::action_request_validation("no documents to get"));
    }
    Ok(MgetRequest { docs })
}

/// `GET|POST /_mget` and `GET|POST /{index}/_mget` (the default `_index` of the
/// docs).
pub async fn mget(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[READ])?;
    let default_source = p.source_filter().unwrap_or_default();
    let req = parse_mget(
        &body.json(&st)?,
        path.index.as_deref(),
        &default_source,
        p.bool_or("realtime", true)?,
    )?;
    if p.flag("refresh")? {
        let mut names: Vec<&str> = req.docs.iter().map(|d| d.index.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut target = IndexTarget::new(names.join(","));
        target.ignore_unavailable = true;
        st.backend.refresh(&target).await?;
    }
    let resp = st.backend.mget(req).await?;
    Ok(response::ok(&resp))
}
