//! Index administration: create, delete, exists, get, mappings, settings, refresh,
//! flush.

use super::{EsPath, IndexOnly, MaybeIndex};
use crate::body::Body;
use crate::error::ApiResult;
use crate::params::{Params, INDICES_OPTIONS};
use crate::response;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use searchgate_core::model::{flatten_settings, CreateIndexRequest, IndexInfo, Mapping};
use searchgate_core::Error;
use serde_json::{json, Map, Value};

const MASTER: &[&str] = &["master_timeout", "timeout"];
const GET_PARAMS: &[&str] = &[
    "flat_settings",
    "include_defaults",
    "local",
    "features",
    "include_type_name",
];

/// The answer to an accepted change: `{"acknowledged": true}`.
fn acknowledged() -> Response {
    response::ok(&json!({"acknowledged": true}))
}

/// `PUT /{index}`.
pub async fn create(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexOnly>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[MASTER, &["wait_for_active_shards", "include_type_name"]])?;
    let req = CreateIndexRequest::parse(&path.index, &body.json(&st)?)?;
    st.backend.create_index(req).await?;
    Ok(response::ok(&json!({
        "acknowledged": true,
        "shards_acknowledged": true,
        "index": path.index,
    })))
}

/// `DELETE /{index}`.
pub async fn delete(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexOnly>,
    p: Params,
) -> ApiResult {
    p.allow(&[MASTER, INDICES_OPTIONS])?;
    if st.limits.destructive_requires_name
        && path
            .index
            .split(',')
            .any(|e| e == "_all" || e.contains('*'))
    {
        return Err(
            Error::illegal_argument("Wildcard expressions or all indices are not allowed").into(),
        );
    }
    let target = p.target(&path.index)?;
    st.backend.delete_index(&target).await?;
    Ok(acknowledged())
}

/// The answer of the index-reading APIs: an object with an `entry` for each index
/// the expression resolves to, keyed by its name.
async fn per_index(
    st: &AppState,
    p: &Params,
    expr: &str,
    entry: impl Fn(&IndexInfo) -> Value,
) -> ApiResult {
    let mut out = Map::new();
    for info in st.backend.get_index(&p.target(expr)?).await? {
        out.insert(info.name.clone(), entry(&info));
    }
    Ok(response::ok(&out))
}

/// `GET /{index}` (and `HEAD /{index}`: 200 or 404, no body).
pub async fn get(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexOnly>,
    p: Params,
) -> ApiResult {
    p.allow(&[MASTER, INDICES_OPTIONS, GET_PARAMS])?;
    let flat = p.flag("flat_settings")?;
    per_index(&st, &p, &path.index, |info| {
        let mut v = info.to_json();
        if flat {
            v["settings"] = flat_json(info);
        }
        v
    })
    .await
}

fn flat_json(info: &IndexInfo) -> Value {
    let mut m: Map<String, Value> = info.settings.to_flat().into_iter().collect();
    m.insert("index.uuid".into(), json!(info.uuid));
    m.insert(
        "index.creation_date".into(),
        json!(info.creation_date.to_string()),
    );
    m.insert("index.provided_name".into(), json!(info.name));
    m.insert("index.version.created".into(), json!("8512000"));
    Value::Object(m)
}

/// `GET /_mapping` and `GET /{index}/_mapping`.
pub async fn get_mapping(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
) -> ApiResult {
    p.allow(&[MASTER, INDICES_OPTIONS, &["local", "include_type_name"]])?;
    per_index(
        &st,
        &p,
        path.expr(),
        |info| json!({"mappings": info.mappings.to_json()}),
    )
    .await
}

/// `PUT|POST /{index}/_mapping`.
pub async fn put_mapping(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexOnly>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[
        MASTER,
        INDICES_OPTIONS,
        &["write_index_only", "include_type_name"],
    ])?;
    if body.is_empty() {
        return Err(Error::action_request_validation("mapping source is required").into());
    }
    let mapping = Mapping::parse(&body.json(&st)?)?;
    let target = p.target(&path.index)?;
    st.backend.put_mapping(&target, mapping).await?;
    Ok(acknowledged())
}

/// `GET /_settings` and `GET /{index}/_settings`.
pub async fn get_settings(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
) -> ApiResult {
    p.allow(&[MASTER, INDICES_OPTIONS, GET_PARAMS])?;
    let flat = p.flag("flat_settings")?;
    per_index(&st, &p, path.expr(), |info| {
        let settings = if flat {
            flat_json(info)
        } else {
            info.to_json()["settings"].take()
        };
        json!({"settings": settings})
    })
    .await
}

/// `PUT /{index}/_settings` (`{"index":{..}}`, flat keys, or wrapped in `settings`).
pub async fn put_settings(
    State(st): State<AppState>,
    EsPath(path): EsPath<IndexOnly>,
    p: Params,
    body: Body,
) -> ApiResult {
    p.allow(&[
        MASTER,
        INDICES_OPTIONS,
        &["preserve_existing", "flat_settings", "reopen"],
    ])?;
    let mut v = body.json(&st)?;
    if v.is_null() {
        return Err(Error::action_request_validation("no settings to update").into());
    }
    if let Some(inner) = v
        .get_mut("settings")
        .filter(|s| s.is_object())
        .map(Value::take)
    {
        v = inner;
    }
    let flat = flatten_settings(&v)?;
    let target = p.target(&path.index)?;
    st.backend.put_settings(&target, flat).await?;
    Ok(acknowledged())
}

/// `POST|GET /_refresh` and `POST|GET /{index}/_refresh`; `_flush` (with or without
/// the index) maps here too: a refresh commits in the embedded engine.
pub async fn refresh(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
) -> ApiResult {
    p.allow(&[INDICES_OPTIONS, &["force", "wait_if_ongoing"]])?;
    let target = p.target(path.expr())?;
    let shards = st.backend.refresh(&target).await?;
    Ok(response::ok(&json!({"_shards": shards})))
}
