//! Test support shared by the handler and gateway tests:
//!
//! - [`send`]/[`call`] drive a `Router` with `oneshot` and return a [`Resp`]
//!   (status, headers, whole body), checking the product header on every answer;
//! - `FakeBackend`: a small in-memory `Backend` for the handler tests. It keeps
//!   documents in maps, answers every search with all documents of the target (minus
//!   `match_none`), and panics on a search of the index `boom` so that the
//!   catch-panic layer can be tested.

use async_trait::async_trait;
use searchgate_core::dsl::Query;
use searchgate_core::model::*;
use searchgate_core::{Backend, ClusterIdentity, Error, Result};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

struct Doc {
    source: Value,
    version: i64,
    seq_no: i64,
}

struct FakeIndex {
    info: IndexInfo,
    docs: BTreeMap<String, Doc>,
}

#[derive(Default)]
pub struct FakeBackend {
    indices: Mutex<BTreeMap<String, FakeIndex>>,
    next_seq: Mutex<i64>,
    pub closed: AtomicBool,
    /// Last search request seen, for assertions on parameter handling.
    pub last_search: Mutex<Option<SearchRequest>>,
    pub last_count: Mutex<Option<CountRequest>>,
}

fn raw(v: &Value) -> Box<RawValue> {
    RawValue::from_string(v.to_string()).expect("serialized JSON is valid")
}

fn wildcard(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, post)) => name.starts_with(pre) && name.ends_with(post),
    }
}

fn filter_source(v: &Value, f: &SourceFilter) -> Option<Value> {
    match f {
        SourceFilter::All => Some(v.clone()),
        SourceFilter::None => None,
        SourceFilter::Filter { includes, excludes } => {
            let obj = v.as_object()?;
            let m: Map<String, Value> = obj
                .iter()
                .filter(|(k, _)| includes.is_empty() || includes.iter().any(|p| wildcard(p, k)))
                .filter(|(k, _)| !excludes.iter().any(|p| wildcard(p, k)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Some(Value::Object(m))
        }
    }
}

impl FakeBackend {
    pub fn new() -> Self {
        FakeBackend::default()
    }

    fn resolve(indices: &BTreeMap<String, FakeIndex>, t: &IndexTarget) -> Result<Vec<String>> {
        let expr = t.expression.as_str();
        if expr.is_empty() || expr == "_all" || expr == "*" {
            return Ok(indices.keys().cloned().collect());
        }
        let mut out = Vec::new();
        for part in expr.split(',') {
            if part.contains('*') {
                out.extend(indices.keys().filter(|k| wildcard(part, k)).cloned());
            } else if indices.contains_key(part) {
                out.push(part.to_string());
            } else if !t.ignore_unavailable {
                return Err(Error::index_not_found(part));
            }
        }
        Ok(out)
    }

    fn seq(&self) -> i64 {
        let mut s = self.next_seq.lock().unwrap();
        *s += 1;
        *s - 1
    }

    fn ensure_index(&self, name: &str) -> Result<()> {
        validate_index_name(name)?;
        let mut idx = self.indices.lock().unwrap();
        if !idx.contains_key(name) {
            idx.insert(
                name.to_string(),
                FakeIndex {
                    info: IndexInfo {
                        name: name.to_string(),
                        uuid: format!("uuid-{name}"),
                        creation_date: 0,
                        settings: IndexSettings::default(),
                        mappings: Mapping::new(),
                    },
                    docs: BTreeMap::new(),
                },
            );
        }
        Ok(())
    }

    fn write(
        &self,
        index: &str,
        id: &str,
        version: i64,
        seq_no: i64,
        result: WriteResult,
    ) -> WriteResponse {
        WriteResponse {
            _index: index.to_string(),
            _id: id.to_string(),
            _version: version,
            result,
            forced_refresh: false,
            _shards: Shards::ok(1),
            _seq_no: seq_no,
            _primary_term: 1,
            get: None,
        }
    }
}

#[async_trait]
impl Backend for FakeBackend {
    async fn identity(&self) -> Result<ClusterIdentity> {
        Ok(ClusterIdentity {
            cluster_name: "fake-cluster".into(),
            cluster_uuid: "fake-uuid".into(),
            node_name: "fake-node".into(),
        })
    }

    async fn health(&self, target: Option<&IndexTarget>) -> Result<ClusterHealth> {
        let idx = self.indices.lock().unwrap();
        let names = match target {
            Some(t) => FakeBackend::resolve(&idx, t)?,
            None => idx.keys().cloned().collect(),
        };
        let yellow = names
            .iter()
            .any(|n| idx[n].info.settings.number_of_replicas > 0);
        let n = names.len() as u32;
        Ok(ClusterHealth {
            cluster_name: "fake-cluster".into(),
            status: if yellow {
                HealthStatus::Yellow
            } else {
                HealthStatus::Green
            },
            timed_out: false,
            number_of_nodes: 1,
            number_of_data_nodes: 1,
            active_primary_shards: n,
            active_shards: n,
            relocating_shards: 0,
            initializing_shards: 0,
            unassigned_shards: if yellow { n } else { 0 },
            delayed_unassigned_shards: 0,
            number_of_pending_tasks: 0,
            number_of_in_flight_fetch: 0,
            task_max_waiting_in_queue_millis: 0,
            active_shards_percent_as_number: if yellow { 50.0 } else { 100.0 },
        })
    }

    async fn index_stats(&self, target: &IndexTarget) -> Result<Vec<IndexStats>> {
        let idx = self.indices.lock().unwrap();
        Ok(FakeBackend::resolve(&idx, target)?
            .into_iter()
            .map(|n| {
                let i = &idx[&n];
                IndexStats {
                    name: n.clone(),
                    uuid: i.info.uuid.clone(),
                    docs_count: i.docs.len() as u64,
                    docs_deleted: 0,
                    store_bytes: 1000 * i.docs.len() as u64 + 225,
                    number_of_shards: i.info.settings.number_of_shards,
                    number_of_replicas: i.info.settings.number_of_replicas,
                }
            })
            .collect())
    }

    async fn create_index(&self, req: CreateIndexRequest) -> Result<()> {
        validate_index_name(&req.index)?;
        let mut idx = self.indices.lock().unwrap();
        if idx.contains_key(&req.index) {
            return Err(Error::index_already_exists(
                &req.index,
                &format!("uuid-{}", req.index),
            ));
        }
        idx.insert(
            req.index.clone(),
            FakeIndex {
                info: IndexInfo {
                    name: req.index.clone(),
                    uuid: format!("uuid-{}", req.index),
                    creation_date: 1_700_000_000_000,
                    settings: req.settings,
                    mappings: req.mappings,
                },
                docs: BTreeMap::new(),
            },
        );
        Ok(())
    }

    async fn delete_index(&self, target: &IndexTarget) -> Result<Vec<String>> {
        let mut idx = self.indices.lock().unwrap();
        let names = FakeBackend::resolve(&idx, target)?;
        for n in &names {
            idx.remove(n);
        }
        Ok(names)
    }

    async fn get_index(&self, target: &IndexTarget) -> Result<Vec<IndexInfo>> {
        let idx = self.indices.lock().unwrap();
        Ok(FakeBackend::resolve(&idx, target)?
            .iter()
            .map(|n| idx[n].info.clone())
            .collect())
    }

    async fn put_mapping(&self, target: &IndexTarget, mapping: Mapping) -> Result<()> {
        let mut idx = self.indices.lock().unwrap();
        for n in FakeBackend::resolve(&idx, target)? {
            idx.get_mut(&n)
                .expect("resolved")
                .info
                .mappings
                .merge(&mapping)?;
        }
        Ok(())
    }

    async fn put_settings(
        &self,
        target: &IndexTarget,
        settings: BTreeMap<String, Value>,
    ) -> Result<()> {
        let mut idx = self.indices.lock().unwrap();
        for n in FakeBackend::resolve(&idx, target)? {
            idx.get_mut(&n)
                .expect("resolved")
                .info
                .settings
                .apply(settings.clone())?;
        }
        Ok(())
    }

    async fn refresh(&self, target: &IndexTarget) -> Result<Shards> {
        let idx = self.indices.lock().unwrap();
        Ok(Shards::ok(FakeBackend::resolve(&idx, target)?.len() as u32))
    }

    async fn index(&self, req: IndexRequest) -> Result<WriteResponse> {
        let source: Value = serde_json::from_slice(&req.source)
            .map_err(|e| Error::document_parsing(format!("[1:1] failed to parse: {e}")))?;
        if !source.is_object() {
            return Err(Error::document_parsing(
                "[1:1] failed to parse: not an object",
            ));
        }
        self.ensure_index(&req.index)?;
        let seq_no = self.seq();
        let mut idx = self.indices.lock().unwrap();
        let index = idx.get_mut(&req.index).expect("ensured");
        let id = req.id.unwrap_or_else(|| format!("gen-{seq_no}"));
        let (version, result) = match index.docs.get(&id) {
            Some(_) if req.op_type == OpType::Create => {
                return Err(Error::version_conflict(
                    &req.index,
                    "uuid",
                    &id,
                    "document already exists",
                ))
            }
            Some(d) => (d.version + 1, WriteResult::Updated),
            None => (1, WriteResult::Created),
        };
        index.docs.insert(
            id.clone(),
            Doc {
                source,
                version,
                seq_no,
            },
        );
        Ok(self.write(&req.index, &id, version, seq_no, result))
    }

    async fn get(&self, req: GetRequest) -> Result<GetResponse> {
        let idx = self.indices.lock().unwrap();
        let index = idx
            .get(&req.index)
            .ok_or_else(|| Error::index_not_found(&req.index))?;
        Ok(match index.docs.get(&req.id) {
            None => GetResponse::not_found(&req.index, &req.id),
            Some(d) => GetResponse {
                _index: req.index.clone(),
                _id: req.id.clone(),
                _version: Some(d.version),
                _seq_no: Some(d.seq_no),
                _primary_term: Some(1),
                found: true,
                _source: filter_source(&d.source, &req.source).map(|v| raw(&v)),
            },
        })
    }

    async fn delete(&self, req: DeleteRequest) -> Result<WriteResponse> {
        let seq_no = self.seq();
        let mut idx = self.indices.lock().unwrap();
        let index = idx
            .get_mut(&req.index)
            .ok_or_else(|| Error::index_not_found(&req.index))?;
        Ok(match index.docs.remove(&req.id) {
            Some(d) => self.write(
                &req.index,
                &req.id,
                d.version + 1,
                seq_no,
                WriteResult::Deleted,
            ),
            None => self.write(&req.index, &req.id, 1, seq_no, WriteResult::NotFound),
        })
    }

    async fn update(&self, req: UpdateRequest) -> Result<WriteResponse> {
        let seq_no = self.seq();
        let mut idx = self.indices.lock().unwrap();
        let index = idx
            .get_mut(&req.index)
            .ok_or_else(|| Error::index_not_found(&req.index))?;
        match index.docs.get_mut(&req.id) {
            Some(d) => {
                if let (Some(Value::Object(patch)), Some(obj)) =
                    (&req.doc, d.source.as_object_mut())
                {
                    for (k, v) in patch {
                        obj.insert(k.clone(), v.clone());
                    }
                }
                d.version += 1;
                d.seq_no = seq_no;
                Ok(self.write(&req.index, &req.id, d.version, seq_no, WriteResult::Updated))
            }
            None => {
                let source = if req.doc_as_upsert {
                    req.doc.clone()
                } else {
                    req.upsert.clone()
                };
                match source {
                    Some(source) => {
                        index.docs.insert(
                            req.id.clone(),
                            Doc {
                                source,
                                version: 1,
                                seq_no,
                            },
                        );
                        Ok(self.write(&req.index, &req.id, 1, seq_no, WriteResult::Created))
                    }
                    None => Err(Error::document_missing(&req.index, "uuid", &req.id)),
                }
            }
        }
    }

    async fn mget(&self, req: MgetRequest) -> Result<MgetResponse> {
        let mut docs = Vec::new();
        for g in req.docs {
            let (index, id) = (g.index.clone(), g.id.clone());
            docs.push(match self.get(g).await {
                Ok(r) => MgetItem::Doc(r),
                Err(e) => MgetItem::Error {
                    _index: index,
                    _id: id,
                    error: e.cause_json(),
                },
            });
        }
        Ok(MgetResponse { docs })
    }

    async fn bulk(&self, req: BulkRequest) -> Result<BulkResponse> {
        let mut items = Vec::new();
        for item in req.items {
            let action = item.action();
            let res = match item {
                BulkItem::Index(r) => {
                    let (i, id) = (r.index.clone(), r.id.clone());
                    self.index(r).await.map_err(|e| (i, id, e))
                }
                BulkItem::Delete(r) => {
                    let (i, id) = (r.index.clone(), Some(r.id.clone()));
                    self.delete(r).await.map_err(|e| (i, id, e))
                }
                BulkItem::Update(r) => {
                    let (i, id) = (r.index.clone(), Some(r.id.clone()));
                    self.update(r).await.map_err(|e| (i, id, e))
                }
                BulkItem::Failed {
                    index, id, error, ..
                } => Err((index, id, error)),
            };
            items.push(match res {
                Ok(w) => (action, BulkItemResult::from_write(w)),
                Err((i, id, e)) => (action, BulkItemResult::from_error(&i, id.as_deref(), &e)),
            });
        }
        Ok(BulkResponse { took: 1, items })
    }

    async fn search(&self, req: SearchRequest) -> Result<SearchResponse> {
        if req.target.expression == "boom" {
            panic!("the fake backend panics on purpose: secret-rust-detail");
        }
        *self.last_search.lock().unwrap() = Some(req.clone());
        let idx = self.indices.lock().unwrap();
        let names = FakeBackend::resolve(&idx, &req.target)?;
        let none = matches!(req.body.query, Some(Query::MatchNone));
        let mut hits = Vec::new();
        for n in &names {
            for (id, d) in &idx[n].docs {
                if !none {
                    hits.push(Hit {
                        _index: n.clone(),
                        _id: id.clone(),
                        _version: None,
                        _seq_no: None,
                        _primary_term: None,
                        _score: Some(1.0),
                        _source: filter_source(&d.source, &req.body.source).map(|v| raw(&v)),
                        sort: None,
                    });
                }
            }
        }
        let total = hits.len() as u64;
        let hits: Vec<Hit> = hits
            .into_iter()
            .skip(req.body.from)
            .take(req.body.size)
            .collect();
        Ok(SearchResponse {
            took: 1,
            timed_out: false,
            _shards: Shards::ok_search(names.len() as u32),
            hits: Hits {
                total: Some(if req.total_hits_as_int {
                    Total::Int(total)
                } else {
                    Total::Object(TotalHits {
                        value: total,
                        relation: TotalRelation::Eq,
                    })
                }),
                max_score: if hits.is_empty() { None } else { Some(1.0) },
                hits,
            },
            aggregations: None,
        })
    }

    async fn count(&self, req: CountRequest) -> Result<CountResponse> {
        *self.last_count.lock().unwrap() = Some(req.clone());
        let idx = self.indices.lock().unwrap();
        let names = FakeBackend::resolve(&idx, &req.target)?;
        let count = names.iter().map(|n| idx[n].docs.len() as u64).sum();
        Ok(CountResponse {
            count,
            _shards: Shards::ok_search(names.len() as u32),
        })
    }

    async fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::SeqCst);
        Ok(())
    }
}

/// A whole answer of the router.
pub struct Resp {
    pub status: axum::http::StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: bytes::Bytes,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// Asserts an ES error body with this status and type.
    pub fn es_error(&self, status: u16, kind: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        let b = self.json();
        assert_eq!(b["status"], status, "{b}");
        assert_eq!(b["error"]["type"], kind, "{b}");
        assert!(b["error"]["root_cause"].is_array(), "{b}");
        self
    }
}

/// Sends `req` through `app` and reads the whole answer, which must carry the
/// product header (the official clients refuse answers without it).
pub async fn send(app: &axum::Router, req: axum::http::Request<axum::body::Body>) -> Resp {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let what = format!("{} {}", req.method(), req.uri());
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        headers
            .get("x-elastic-product")
            .map(|v| v.to_str().unwrap()),
        Some("Elasticsearch"),
        "every response carries the product header: {what}"
    );
    Resp {
        status,
        headers,
        body,
    }
}

/// A test harness around a `Router`: [`call`] and a GET, as methods.
pub(crate) trait Drive {
    fn router(&self) -> &axum::Router;

    async fn call(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<axum::body::Body>,
    ) -> Resp {
        call(self.router(), method, uri, headers, body).await
    }

    async fn get(&self, uri: &str) -> Resp {
        call(self.router(), "GET", uri, &[], axum::body::Body::empty()).await
    }
}

/// [`send`] of a request built from its parts.
pub async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<axum::body::Body>,
) -> Resp {
    let mut b = axum::http::Request::builder()
        .method(axum::http::Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    send(app, b.body(body.into()).unwrap()).await
}
