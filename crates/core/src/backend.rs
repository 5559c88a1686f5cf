//! The `Backend` trait: the one interface between the HTTP layer and whatever
//! answers (the embedded engine, an upstream cluster, a federation), and between
//! decorators (guard, optimizer, cache) and what they wrap.
//!
//! Every method takes a typed request and returns a typed response or an
//! [`Error`](crate::Error) that renders as an ES error body.

use crate::error::Result;
use crate::model::*;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// Identity of the cluster a backend presents (`GET /`).
#[derive(Debug, Clone)]
pub struct ClusterIdentity {
    pub cluster_name: String,
    pub cluster_uuid: String,
    pub node_name: String,
}

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Name and uuid of the cluster this backend is.
    async fn identity(&self) -> Result<ClusterIdentity>;

    /// `_cluster/health`, optionally restricted to some indices.
    async fn health(&self, target: Option<&IndexTarget>) -> Result<ClusterHealth>;

    /// Figures per index for `_cat/indices` and health; the target's missing
    /// concrete indices are a 404.
    async fn index_stats(&self, target: &IndexTarget) -> Result<Vec<IndexStats>>;

    /// `PUT /{index}`.
    async fn create_index(&self, req: CreateIndexRequest) -> Result<()>;

    /// `DELETE /{index}`: returns the names deleted.
    async fn delete_index(&self, target: &IndexTarget) -> Result<Vec<String>>;

    /// `GET /{index}` (and `HEAD`, `_mapping`, `_settings`).
    async fn get_index(&self, target: &IndexTarget) -> Result<Vec<IndexInfo>>;

    /// `PUT /{index}/_mapping`: merges into each target index.
    async fn put_mapping(&self, target: &IndexTarget, mapping: Mapping) -> Result<()>;

    /// `PUT /{index}/_settings` with flat `index.*` keys.
    async fn put_settings(
        &self,
        target: &IndexTarget,
        settings: BTreeMap<String, serde_json::Value>,
    ) -> Result<()>;

    /// `POST /{index}/_refresh`: returns the shards refreshed.
    async fn refresh(&self, target: &IndexTarget) -> Result<Shards>;

    /// `PUT|POST /{index}/_doc/{id}`, `POST /{index}/_doc`, `PUT /{index}/_create/{id}`.
    async fn index(&self, req: IndexRequest) -> Result<WriteResponse>;

    /// `GET /{index}/_doc/{id}`: real-time.
    async fn get(&self, req: GetRequest) -> Result<GetResponse>;

    /// `DELETE /{index}/_doc/{id}`.
    async fn delete(&self, req: DeleteRequest) -> Result<WriteResponse>;

    /// `POST /{index}/_update/{id}`.
    async fn update(&self, req: UpdateRequest) -> Result<WriteResponse>;

    /// `_mget`.
    async fn mget(&self, req: MgetRequest) -> Result<MgetResponse>;

    /// `_bulk`.
    async fn bulk(&self, req: BulkRequest) -> Result<BulkResponse>;

    /// `_search`.
    async fn search(&self, req: SearchRequest) -> Result<SearchResponse>;

    /// `_count`.
    async fn count(&self, req: CountRequest) -> Result<CountResponse>;

    /// Flushes and closes: called once on shutdown.
    async fn close(&self) -> Result<()>;
}
