//! searchgate-engine: the embedded backend.
//!
//! One tantivy index per Elasticsearch index under `DATA_DIR/indices/<uuid>/`, with
//! its mapping and settings in `index.json` and a write-ahead log in `wal/`.
//! [`Engine`] implements [`searchgate_core::Backend`]; the modules each own one job:
//!
//! - [`catalog`]: the set of indices and index expressions.
//! - [`shard`]: one index: writes, versions, real-time get, refresh.
//! - [`wal`]: the write-ahead log.
//! - [`fields`], [`document`], [`analysis`], [`dates`]: mappings → tantivy schema,
//!   documents → tantivy documents, dynamic mapping, analyzers, date formats.
//! - [`query`], [`collect`], [`search`]: DSL → tantivy queries, top-K collection
//!   with sorting, and the search response.

pub mod aggs;
pub mod analysis;
pub mod catalog;
pub mod collect;
pub mod dates;
pub mod document;
pub mod fields;
pub mod meta;
pub mod query;
pub mod search;
pub mod shard;
pub mod source;
pub mod wal;

use async_trait::async_trait;
use catalog::Catalog;
use searchgate_core::model::*;
use searchgate_core::{Backend, ClusterIdentity, Error, Result};
use serde_json::{Map, Value};
use shard::{Shard, ShardConfig, ShardOp};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings of the embedded engine that come from searchgate's configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub data_dir: PathBuf,
    pub cluster_name: String,
    pub node_name: String,
    /// Memory budget of each index writer, bytes.
    pub writer_memory: usize,
    /// Indexing threads of each index writer.
    pub writer_threads: usize,
    /// Whether writes to a missing index create it (`action.auto_create_index`).
    pub auto_create_index: bool,
}

impl EngineConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        EngineConfig {
            data_dir: data_dir.into(),
            cluster_name: "searchgate".into(),
            node_name: "searchgate-1".into(),
            writer_memory: 64 << 20,
            writer_threads: 1,
            auto_create_index: true,
        }
    }
}

pub struct Engine {
    cfg: EngineConfig,
    cluster_uuid: String,
    catalog: Arc<Catalog>,
    stop: Arc<AtomicBool>,
    background: parking_lot::Mutex<Option<std::thread::JoinHandle<()>>>,
}

fn blocking_err(e: tokio::task::JoinError) -> Error {
    Error::internal(format!("a worker task failed: {e}"))
}

impl Engine {
    /// Opens (or initializes) the data directory, replaying each index's log.
    pub async fn open(cfg: EngineConfig) -> Result<Arc<Engine>> {
        let c = cfg.clone();
        tokio::task::spawn_blocking(move || Engine::open_blocking(c))
            .await
            .map_err(blocking_err)?
    }

    pub fn open_blocking(cfg: EngineConfig) -> Result<Arc<Engine>> {
        std::fs::create_dir_all(&cfg.data_dir).map_err(|e| {
            Error::storage(
                "io_exception",
                format!("cannot create data dir {}: {e}", cfg.data_dir.display()),
            )
        })?;
        let cluster_uuid = load_cluster_uuid(&cfg.data_dir)?;
        let shard_cfg = ShardConfig {
            writer_memory: cfg.writer_memory,
            writer_threads: cfg.writer_threads,
        };
        let catalog = Arc::new(Catalog::open(&cfg.data_dir, shard_cfg)?);
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let catalog = Arc::clone(&catalog);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("searchgate-refresh".into())
                .spawn(move || background_loop(catalog, stop))
                .map_err(|e| Error::internal(e.to_string()))?
        };
        Ok(Arc::new(Engine {
            cfg,
            cluster_uuid,
            catalog,
            stop,
            background: parking_lot::Mutex::new(Some(handle)),
        }))
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn write_shard(&self, index: &str) -> Result<Arc<Shard>> {
        self.catalog.for_write(index, self.cfg.auto_create_index)
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        tokio::task::spawn_blocking(f).await.map_err(blocking_err)
    }
}

/// Refreshes indices whose interval has passed and syncs `async` logs.
fn background_loop(catalog: Arc<Catalog>, stop: Arc<AtomicBool>) {
    let mut last_sync: BTreeMap<String, Instant> = BTreeMap::new();
    while !stop.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(50));
        for shard in catalog.all() {
            if shard.is_deleted() {
                continue;
            }
            let settings = shard.settings();
            if let Some(interval) = settings.refresh_interval {
                let due = shard.last_refresh.lock().elapsed() >= interval && !shard.search_idle();
                if due {
                    if let Err(e) = shard.refresh() {
                        tracing::error!(index = %shard.name, error = %e, "scheduled refresh failed");
                    }
                }
            }
            if settings.durability == Durability::Async {
                let last = last_sync
                    .entry(shard.uuid.clone())
                    .or_insert_with(Instant::now);
                if last.elapsed() >= settings.sync_interval {
                    *last = Instant::now();
                    if let Err(e) = shard.sync_wal() {
                        tracing::error!(index = %shard.name, error = %e, "translog sync failed");
                    }
                }
            }
        }
    }
}

fn load_cluster_uuid(dir: &std::path::Path) -> Result<String> {
    let path = dir.join("cluster.json");
    if let Ok(bytes) = std::fs::read(&path) {
        if let Some(u) = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["cluster_uuid"].as_str().map(String::from))
        {
            return Ok(u);
        }
    }
    let uuid = catalog::new_uuid();
    let body = serde_json::json!({ "cluster_uuid": uuid }).to_string();
    meta::write_atomic(dir, "cluster.json", body.as_bytes())
        .map_err(|e| Error::storage("io_exception", format!("cannot write cluster.json: {e}")))?;
    Ok(uuid)
}

/// Parses a document body: it must be a JSON object.
fn parse_source(bytes: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(Error::document_parsing("[1:1] failed to parse: the document must be a JSON object")
            .caused_by(Error::new(400, "not_x_content_exception", "Compressor detection can only be called on some xcontent bytes or compressed xcontent bytes"))),
        Err(e) => Err(Error::document_parsing(format!("[{}:{}] failed to parse: {e}", e.line(), e.column()))
            .caused_by(Error::new(400, "json_parse_exception", e.to_string()))),
    }
}

fn index_op(req: &IndexRequest) -> Result<ShardOp> {
    let doc = parse_source(&req.source)?;
    let id = match &req.id {
        Some(id) if id.is_empty() => return Err(Error::action_request_validation("id is missing")),
        Some(id) if id.len() > 512 => {
            return Err(Error::action_request_validation(format!(
                "id [{}...] is too long, must be no longer than 512 bytes but was: {}",
                &id[..20.min(id.len())],
                id.len()
            )))
        }
        Some(id) => id.clone(),
        None => catalog::new_uuid(),
    };
    Ok(ShardOp::Index {
        id,
        source: req.source.clone(),
        doc,
        op_type: req.op_type,
        if_match: req.if_match,
    })
}

fn after_write(shard: &Shard, refresh: Refresh, resp: &mut WriteResponse) -> Result<()> {
    match refresh {
        Refresh::False => Ok(()),
        Refresh::True => {
            shard.refresh()?;
            resp.forced_refresh = true;
            Ok(())
        }
        Refresh::WaitFor => shard.refresh(),
    }
}

#[async_trait]
impl Backend for Engine {
    async fn identity(&self) -> Result<ClusterIdentity> {
        Ok(ClusterIdentity {
            cluster_name: self.cfg.cluster_name.clone(),
            cluster_uuid: self.cluster_uuid.clone(),
            node_name: self.cfg.node_name.clone(),
        })
    }

    async fn health(&self, target: Option<&IndexTarget>) -> Result<ClusterHealth> {
        let shards = match target {
            Some(t) => self.catalog.resolve(t)?,
            None => self.catalog.all(),
        };
        let primaries = shards.len() as u32;
        let unassigned: u32 = shards.iter().map(|s| s.settings().number_of_replicas).sum();
        let status = if unassigned > 0 {
            HealthStatus::Yellow
        } else {
            HealthStatus::Green
        };
        let active = primaries;
        let pct = if primaries + unassigned == 0 {
            100.0
        } else {
            100.0 * active as f64 / (primaries + unassigned) as f64
        };
        Ok(ClusterHealth {
            cluster_name: self.cfg.cluster_name.clone(),
            status,
            timed_out: false,
            number_of_nodes: 1,
            number_of_data_nodes: 1,
            active_primary_shards: primaries,
            active_shards: active,
            relocating_shards: 0,
            initializing_shards: 0,
            unassigned_shards: unassigned,
            delayed_unassigned_shards: 0,
            number_of_pending_tasks: 0,
            number_of_in_flight_fetch: 0,
            task_max_waiting_in_queue_millis: 0,
            active_shards_percent_as_number: pct,
        })
    }

    async fn index_stats(&self, target: &IndexTarget) -> Result<Vec<IndexStats>> {
        let shards = self.catalog.resolve(target)?;
        self.run(move || shards.iter().map(|s| s.stats()).collect())
            .await
    }

    async fn create_index(&self, req: CreateIndexRequest) -> Result<()> {
        let catalog = Arc::clone(&self.catalog);
        self.run(move || catalog.create(req).map(|_| ())).await?
    }

    async fn delete_index(&self, target: &IndexTarget) -> Result<Vec<String>> {
        let names = self.catalog.resolve_for_delete(target)?;
        let catalog = Arc::clone(&self.catalog);
        let n = names.clone();
        self.run(move || catalog.delete(&n)).await??;
        Ok(names)
    }

    async fn get_index(&self, target: &IndexTarget) -> Result<Vec<IndexInfo>> {
        Ok(self
            .catalog
            .resolve(target)?
            .iter()
            .map(|s| s.info())
            .collect())
    }

    async fn put_mapping(&self, target: &IndexTarget, mapping: Mapping) -> Result<()> {
        let shards = self.catalog.resolve(target)?;
        if shards.is_empty() {
            return Err(Error::index_not_found(&target.expression));
        }
        self.run(move || shards.iter().try_for_each(|s| s.put_mapping(&mapping)))
            .await?
    }

    async fn put_settings(
        &self,
        target: &IndexTarget,
        settings: BTreeMap<String, Value>,
    ) -> Result<()> {
        let shards = self.catalog.resolve(target)?;
        self.run(move || {
            shards
                .iter()
                .try_for_each(|s| s.put_settings(settings.clone()))
        })
        .await?
    }

    async fn refresh(&self, target: &IndexTarget) -> Result<Shards> {
        let shards = self.catalog.resolve(target)?;
        let n = shards.len() as u32;
        self.run(move || shards.iter().try_for_each(|s| s.refresh()))
            .await??;
        Ok(Shards::ok(n))
    }

    async fn index(&self, req: IndexRequest) -> Result<WriteResponse> {
        let op = index_op(&req)?;
        let shard = self.write_shard(&req.index)?;
        self.run(move || {
            let mut r = shard.write(vec![op]).pop().expect("one result")?;
            after_write(&shard, req.refresh, &mut r)?;
            Ok(r)
        })
        .await?
    }

    async fn get(&self, req: GetRequest) -> Result<GetResponse> {
        let shard = self.catalog.concrete(&req.index)?;
        self.run(move || shard.get(&req.id, &req.source)).await?
    }

    async fn delete(&self, req: DeleteRequest) -> Result<WriteResponse> {
        let shard = self.catalog.concrete(&req.index)?;
        self.run(move || {
            let mut r = shard
                .write(vec![ShardOp::Delete {
                    id: req.id.clone(),
                    if_match: req.if_match,
                }])
                .pop()
                .expect("one result")?;
            after_write(&shard, req.refresh, &mut r)?;
            Ok(r)
        })
        .await?
    }

    async fn update(&self, req: UpdateRequest) -> Result<WriteResponse> {
        let shard = self.write_shard(&req.index)?;
        self.run(move || {
            let refresh = req.refresh;
            let mut r = shard
                .write(vec![ShardOp::Update(Box::new(req))])
                .pop()
                .expect("one result")?;
            after_write(&shard, refresh, &mut r)?;
            Ok(r)
        })
        .await?
    }

    async fn mget(&self, req: MgetRequest) -> Result<MgetResponse> {
        let catalog = Arc::clone(&self.catalog);
        self.run(move || {
            let docs = req
                .docs
                .iter()
                .map(|g| {
                    match catalog
                        .concrete(&g.index)
                        .and_then(|s| s.get(&g.id, &g.source))
                    {
                        Ok(d) => MgetItem::Doc(d),
                        Err(e) => MgetItem::Error {
                            _index: g.index.clone(),
                            _id: g.id.clone(),
                            error: e.cause_json(),
                        },
                    }
                })
                .collect();
            MgetResponse { docs }
        })
        .await
    }

    async fn bulk(&self, req: BulkRequest) -> Result<BulkResponse> {
        let start = Instant::now();
        let n = req.items.len();
        let mut results: Vec<Option<(BulkAction, BulkItemResult)>> = (0..n).map(|_| None).collect();
        // Group by index, keeping each index's items in request order.
        let mut groups: Vec<(Arc<Shard>, Vec<(usize, BulkAction, ShardOp)>)> = Vec::new();
        for (i, item) in req.items.into_iter().enumerate() {
            let action = item.action();
            let (index, id, op) = match item {
                BulkItem::Index(r) => (r.index.clone(), r.id.clone(), index_op(&r)),
                BulkItem::Delete(d) => (
                    d.index.clone(),
                    Some(d.id.clone()),
                    Ok(ShardOp::Delete {
                        id: d.id,
                        if_match: d.if_match,
                    }),
                ),
                BulkItem::Update(u) => (
                    u.index.clone(),
                    Some(u.id.clone()),
                    Ok(ShardOp::Update(Box::new(u))),
                ),
                BulkItem::Failed {
                    index, id, error, ..
                } => (index, id, Err(error)),
            };
            let shard = match action {
                BulkAction::Delete => self.catalog.concrete(&index),
                _ => self.write_shard(&index),
            };
            match (shard, op) {
                (Ok(shard), Ok(op)) => {
                    match groups.iter_mut().find(|(s, _)| Arc::ptr_eq(s, &shard)) {
                        Some((_, ops)) => ops.push((i, action, op)),
                        None => groups.push((shard, vec![(i, action, op)])),
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    results[i] = Some((
                        action,
                        BulkItemResult::from_error(&index, id.as_deref(), &e),
                    ));
                }
            }
        }
        let refresh = req.refresh;
        let done = self
            .run(move || {
                let mut out = Vec::new();
                for (shard, ops) in groups {
                    let (meta, ops): (Vec<(usize, BulkAction)>, Vec<ShardOp>) =
                        ops.into_iter().map(|(i, a, op)| ((i, a), op)).unzip();
                    let ids: Vec<Option<String>> = ops
                        .iter()
                        .map(|op| match op {
                            ShardOp::Index { id, .. } | ShardOp::Delete { id, .. } => {
                                Some(id.clone())
                            }
                            ShardOp::Update(u) => Some(u.id.clone()),
                        })
                        .collect();
                    let rs = shard.write(ops);
                    let forced = refresh != Refresh::False && shard.refresh().is_ok();
                    for (((i, action), r), id) in meta.into_iter().zip(rs).zip(ids) {
                        let item = match r {
                            Ok(mut w) => {
                                w.forced_refresh = forced && refresh == Refresh::True;
                                BulkItemResult::from_write(w)
                            }
                            Err(e) => BulkItemResult::from_error(&shard.name, id.as_deref(), &e),
                        };
                        out.push((i, action, item));
                    }
                }
                out
            })
            .await?;
        for (i, action, item) in done {
            results[i] = Some((action, item));
        }
        Ok(BulkResponse {
            took: start.elapsed().as_millis() as u64,
            items: results
                .into_iter()
                .map(|r| r.expect("every item has a result"))
                .collect(),
        })
    }

    async fn search(&self, req: SearchRequest) -> Result<SearchResponse> {
        let shards = self.catalog.resolve(&req.target)?;
        shards.iter().try_for_each(|s| s.before_search())?;
        search::search(&shards, &req)
    }

    async fn count(&self, req: CountRequest) -> Result<CountResponse> {
        let shards = self.catalog.resolve(&req.target)?;
        shards.iter().try_for_each(|s| s.before_search())?;
        search::count(&shards, &req)
    }

    async fn close(&self) -> Result<()> {
        self.stop.store(true, Ordering::Release);
        let handle = self.background.lock().take();
        if let Some(h) = handle {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
        let catalog = Arc::clone(&self.catalog);
        self.run(move || catalog.all().iter().try_for_each(|s| s.close()))
            .await?
    }
}
