//! searchgate-engine: the embedded backend (being written).

use async_trait::async_trait;
use searchgate_core::model::*;
use searchgate_core::{Backend, ClusterIdentity, Error, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Settings of the embedded engine that come from searchgate's configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub data_dir: PathBuf,
    pub cluster_name: String,
    pub node_name: String,
    /// Memory budget of each index writer, bytes.
    pub writer_memory: usize,
    /// Threads of each index writer.
    pub writer_threads: usize,
    /// Default `index.translog.durability` for new indices is `request`; this
    /// overrides the sync interval used when an index asks for `async`.
    pub default_sync_interval: Duration,
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
            default_sync_interval: Duration::from_secs(5),
            auto_create_index: true,
        }
    }
}

pub struct Engine {
    _cfg: EngineConfig,
}

impl Engine {
    pub async fn open(cfg: EngineConfig) -> Result<Arc<Engine>> {
        Ok(Arc::new(Engine { _cfg: cfg }))
    }
}

fn todo() -> Error {
    Error::internal("not implemented yet")
}

#[async_trait]
impl Backend for Engine {
    async fn identity(&self) -> Result<ClusterIdentity> { Err(todo()) }
    async fn health(&self, _t: Option<&IndexTarget>) -> Result<ClusterHealth> { Err(todo()) }
    async fn index_stats(&self, _t: &IndexTarget) -> Result<Vec<IndexStats>> { Err(todo()) }
    async fn create_index(&self, _r: CreateIndexRequest) -> Result<()> { Err(todo()) }
    async fn delete_index(&self, _t: &IndexTarget) -> Result<Vec<String>> { Err(todo()) }
    async fn get_index(&self, _t: &IndexTarget) -> Result<Vec<IndexInfo>> { Err(todo()) }
    async fn put_mapping(&self, _t: &IndexTarget, _m: Mapping) -> Result<()> { Err(todo()) }
    async fn put_settings(&self, _t: &IndexTarget, _s: BTreeMap<String, serde_json::Value>) -> Result<()> { Err(todo()) }
    async fn refresh(&self, _t: &IndexTarget) -> Result<Shards> { Err(todo()) }
    async fn index(&self, _r: IndexRequest) -> Result<WriteResponse> { Err(todo()) }
    async fn get(&self, _r: GetRequest) -> Result<GetResponse> { Err(todo()) }
    async fn delete(&self, _r: DeleteRequest) -> Result<WriteResponse> { Err(todo()) }
    async fn update(&self, _r: UpdateRequest) -> Result<WriteResponse> { Err(todo()) }
    async fn mget(&self, _r: MgetRequest) -> Result<MgetResponse> { Err(todo()) }
    async fn bulk(&self, _r: BulkRequest) -> Result<BulkResponse> { Err(todo()) }
    async fn search(&self, _r: SearchRequest) -> Result<SearchResponse> { Err(todo()) }
    async fn count(&self, _r: CountRequest) -> Result<CountResponse> { Err(todo()) }
    async fn close(&self) -> Result<()> { Ok(()) }
}
