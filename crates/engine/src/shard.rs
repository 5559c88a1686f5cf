//! One ES index on disk: its tantivy index, writer and reader, its write-ahead log,
//! and the map of writes not yet visible to search (ES's LiveVersionMap) that makes
//! `GET` real-time and version checks exact.
//!
//! Writes to one index are serialized by its write lock: version checks, sequence
//! numbers, the log append and the hand-off to tantivy's indexing threads happen
//! under it; the fsync happens after it, shared by concurrent writers.
//! A refresh commits tantivy (recording the highest sequence number in the commit
//! payload), empties the log, reloads the reader and prunes the live map.

use crate::analysis;
use crate::document::{build_document, dynamic_updates};
use crate::fields::{self, FieldTable};
use crate::meta::IndexMeta;
use crate::source;
use crate::wal::{Wal, WalOp, WalSync};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use searchgate_core::model::*;
use searchgate_core::{Error, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument,
    Term, TERMINATED,
};

pub const PRIMARY_TERM: i64 = 1;

/// Engine-wide knobs a shard needs.
#[derive(Debug, Clone, Copy)]
pub struct ShardConfig {
    pub writer_memory: usize,
    pub writer_threads: usize,
}

/// What the searcher side sees: mapping, field table and reader, swapped as one
/// when the mapping grows.
pub struct View {
    pub mapping: Arc<Mapping>,
    pub table: Arc<FieldTable>,
    pub reader: IndexReader,
}

#[derive(Debug, Clone)]
struct LiveEntry {
    seq_no: i64,
    version: i64,
    /// `None`: deleted.
    source: Option<Bytes>,
}

impl LiveEntry {
    fn bytes(&self) -> usize {
        self.source.as_ref().map(Bytes::len).unwrap_or(0) + 64
    }
}

/// The state of a document as a write sees it.
#[derive(Debug, Clone)]
struct Current {
    seq_no: i64,
    version: i64,
    source: Option<Bytes>,
    deleted: bool,
    /// Where the committed document is, when it was found in the reader.
    addr: Option<DocAddress>,
}

struct WriteState {
    index: Index,
    writer: Option<IndexWriter>,
    wal: Wal,
    live: HashMap<String, LiveEntry>,
    /// Bytes of source held by `live`.
    live_bytes: usize,
    next_seq: i64,
    meta: IndexMeta,
    dirty: bool,
}

/// A write to apply, already parsed.
pub enum ShardOp {
    Index {
        id: String,
        source: Bytes,
        doc: Map<String, Value>,
        op_type: OpType,
        if_match: IfMatch,
    },
    Delete {
        id: String,
        if_match: IfMatch,
    },
    Update(Box<UpdateRequest>),
}

impl ShardOp {
    /// Every object a write may bring new fields with (for dynamic mapping).
    fn docs(&self) -> Vec<&Map<String, Value>> {
        match self {
            ShardOp::Index { doc, .. } => vec![doc],
            ShardOp::Delete { .. } => vec![],
            ShardOp::Update(u) => [&u.doc, &u.upsert]
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .collect(),
        }
    }
}

pub struct Shard {
    pub name: String,
    pub uuid: String,
    pub creation_date: i64,
    dir: PathBuf,
    cfg: ShardConfig,
    view: RwLock<Arc<View>>,
    write: Mutex<WriteState>,
    wal_sync: Arc<WalSync>,
    settings: RwLock<IndexSettings>,
    deleted: AtomicBool,
    pub last_refresh: Mutex<Instant>,
    /// When a search last read this index (`None`: never).
    last_search: Mutex<Option<Instant>>,
}

/// Unrefreshed writes the live version map may hold (their sources, for real-time
/// get) before a refresh is forced, bounding memory and the log during bulk loads
/// into a search-idle index.
const LIVE_MAP_LIMIT_BYTES: usize = 48 << 20;

fn io_err(kind: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::storage(kind, e.to_string())
}

fn tv_err(e: tantivy::TantivyError) -> Error {
    Error::storage("engine_exception", e.to_string())
}

fn open_reader(index: &Index) -> Result<IndexReader> {
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(tv_err)
}

fn open_writer(index: &Index, cfg: ShardConfig) -> Result<IndexWriter> {
    let threads = cfg.writer_threads.max(1);
    let memory = cfg.writer_memory.max(threads * 16_000_000);
    index
        .writer_with_num_threads(threads, memory)
        .map_err(tv_err)
}

fn open_index(dir: &Path) -> Result<Index> {
    let mut index = Index::open_in_dir(dir.join("tantivy")).map_err(tv_err)?;
    index.set_tokenizers(analysis::tokenizer_manager());
    Ok(index)
}

fn committed_seq(index: &Index) -> Result<i64> {
    let metas = index.load_metas().map_err(tv_err)?;
    Ok(metas
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|v| v["max_seq_no"].as_i64())
        .unwrap_or(-1))
}

impl Shard {
    /// Creates a new index in `dir`.
    pub fn create(dir: &Path, mut meta: IndexMeta, cfg: ShardConfig) -> Result<Shard> {
        fields::validate_mapping(&meta.mapping)?;
        let tv_dir = dir.join("tantivy");
        std::fs::create_dir_all(&tv_dir).map_err(io_err("io_exception"))?;
        let schema =
            fields::extend_schema(&fields::base_schema(), &meta.mapping, &mut meta.field_names)
                .unwrap_or_else(fields::base_schema);
        let mut index = Index::create_in_dir(&tv_dir, schema).map_err(tv_err)?;
        index.set_tokenizers(analysis::tokenizer_manager());
        meta.save(dir)?;
        Self::assemble(dir, index, meta, cfg, Vec::new())
    }

    /// Opens an existing index, replaying its log past the last commit.
    pub fn open(dir: &Path, cfg: ShardConfig) -> Result<Shard> {
        let meta = IndexMeta::load(dir)?;
        let index = open_index(dir)?;
        let committed = committed_seq(&index)?;
        let (_, ops) = Wal::open(&dir.join("wal")).map_err(io_err("translog_exception"))?;
        let replay: Vec<WalOp> = ops.into_iter().filter(|o| o.seq_no() > committed).collect();
        Self::assemble(dir, index, meta, cfg, replay)
    }

    fn assemble(
        dir: &Path,
        index: Index,
        meta: IndexMeta,
        cfg: ShardConfig,
        replay: Vec<WalOp>,
    ) -> Result<Shard> {
        let (wal, _) = Wal::open(&dir.join("wal")).map_err(io_err("translog_exception"))?;
        let wal_sync = wal.sync_handle();
        let table = Arc::new(FieldTable::build(
            &index.schema(),
            &meta.mapping,
            &meta.field_names,
        ));
        let reader = open_reader(&index)?;
        let committed = committed_seq(&index)?;
        let mut writer = open_writer(&index, cfg)?;
        let mut max_seq = committed;
        let replayed = !replay.is_empty();
        for op in replay {
            max_seq = max_seq.max(op.seq_no());
            match op {
                WalOp::Index {
                    id,
                    seq_no,
                    version,
                    source,
                } => {
                    writer.delete_term(Term::from_field_text(table.id, &id));
                    let doc = serde_json::from_slice::<Value>(&source)
                        .ok()
                        .and_then(|v| v.as_object().cloned())
                        .unwrap_or_default();
                    let mut tdoc = TantivyDocument::default();
                    // A document that was acknowledged was valid for the mapping then;
                    // the mapping only grows, so it is valid now.
                    let _ = build_document(&table, &meta.mapping, &id, &doc, &mut tdoc);
                    add_internal(&table, &mut tdoc, &id, &source, seq_no, version);
                    writer.add_document(tdoc).map_err(tv_err)?;
                }
                WalOp::Delete { id, .. } => {
                    writer.delete_term(Term::from_field_text(table.id, &id));
                }
            }
        }
        let mut wal = wal;
        if replayed {
            commit(&mut writer, max_seq)?;
            reader.reload().map_err(tv_err)?;
        }
        // Everything before is in a commit now: drop older log generations.
        wal.reset().map_err(io_err("translog_exception"))?;
        let view = View {
            mapping: Arc::new(meta.mapping.clone()),
            table,
            reader,
        };
        Ok(Shard {
            name: meta.name.clone(),
            uuid: meta.uuid.clone(),
            creation_date: meta.creation_date,
            dir: dir.to_path_buf(),
            cfg,
            view: RwLock::new(Arc::new(view)),
            settings: RwLock::new(meta.settings.clone()),
            write: Mutex::new(WriteState {
                index,
                writer: Some(writer),
                wal,
                live: HashMap::new(),
                live_bytes: 0,
                next_seq: max_seq + 1,
                meta,
                dirty: false,
            }),
            wal_sync,
            deleted: AtomicBool::new(false),
            last_refresh: Mutex::new(Instant::now()),
            last_search: Mutex::new(None),
        })
    }

    pub fn view(&self) -> Arc<View> {
        Arc::clone(&self.view.read())
    }

    pub fn settings(&self) -> IndexSettings {
        self.settings.read().clone()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the index before its files are removed: no more refreshes, and the
    /// writer (with its merge threads, which write files) is closed.
    pub fn close_for_delete(&self) {
        self.deleted.store(true, Ordering::Release);
        let mut w = self.write.lock();
        if let Some(writer) = w.writer.take() {
            if let Err(e) = writer.wait_merging_threads() {
                tracing::warn!(index = %self.name, error = %e, "merge threads ended with an error");
            }
        }
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    pub fn info(&self) -> IndexInfo {
        IndexInfo {
            name: self.name.clone(),
            uuid: self.uuid.clone(),
            creation_date: self.creation_date,
            settings: self.settings(),
            mappings: (*self.view().mapping).clone(),
        }
    }

    // === mapping and settings ===

    /// Merges `update` into the mapping; grows the tantivy schema if needed.
    pub fn put_mapping(&self, update: &Mapping) -> Result<()> {
        let mut w = self.write.lock();
        if w.writer.is_none() {
            return Err(Error::index_not_found(&self.name));
        }
        let mut merged = w.meta.mapping.clone();
        merged.merge(update)?;
        fields::validate_mapping(&merged)?;
        self.apply_mapping(&mut w, merged)
    }

    fn apply_mapping(&self, w: &mut WriteState, mapping: Mapping) -> Result<()> {
        if mapping == w.meta.mapping {
            return Ok(());
        }
        let mut names = w.meta.field_names.clone();
        let new_schema = fields::extend_schema(&w.index.schema(), &mapping, &mut names);
        let mut meta = w.meta.clone();
        meta.mapping = mapping;
        meta.field_names = names;
        let reader = if let Some(schema) = new_schema {
            // tantivy's schema is fixed per index: commit, close the writer, append
            // the new fields to the schema in meta.json, and reopen.
            let seq = w.next_seq - 1;
            let writer = w.writer.as_mut().expect("writer open");
            commit(writer, seq)?;
            w.wal.reset().map_err(io_err("translog_exception"))?;
            let writer = w.writer.take().expect("writer open");
            writer.wait_merging_threads().map_err(tv_err)?;
            let mut metas = w.index.load_metas().map_err(tv_err)?;
            metas.schema = schema;
            let mut bytes =
                serde_json::to_vec_pretty(&metas).map_err(|e| Error::internal(e.to_string()))?;
            bytes.push(b'\n');
            meta.save(&self.dir)?;
            crate::meta::write_atomic(&self.dir.join("tantivy"), "meta.json", &bytes)
                .map_err(io_err("io_exception"))?;
            let index = open_index(&self.dir)?;
            w.writer = Some(open_writer(&index, self.cfg)?);
            w.index = index;
            open_reader(&w.index)?
        } else {
            meta.save(&self.dir)?;
            self.view().reader.clone()
        };
        let table = Arc::new(FieldTable::build(
            &w.index.schema(),
            &meta.mapping,
            &meta.field_names,
        ));
        *self.view.write() = Arc::new(View {
            mapping: Arc::new(meta.mapping.clone()),
            table,
            reader,
        });
        w.meta = meta;
        Ok(())
    }

    pub fn put_settings(&self, flat: std::collections::BTreeMap<String, Value>) -> Result<()> {
        let mut w = self.write.lock();
        for k in flat.keys() {
            if k == "index.number_of_shards" {
                return Err(Error::illegal_argument(format!(
                    "Can't update non dynamic settings [[{k}]] for open indices [[{}]]",
                    self.name
                )));
            }
        }
        let mut settings = w.meta.settings.clone();
        settings.apply(flat)?;
        w.meta.settings = settings.clone();
        w.meta.save(&self.dir)?;
        *self.settings.write() = settings;
        Ok(())
    }

    // === writes ===

    /// Applies writes in order; one result per op. Waits for durability as the
    /// index's `translog.durability` says.
    pub fn write(&self, ops: Vec<ShardOp>) -> Vec<Result<WriteResponse>> {
        // Dynamic mapping first, so every document is indexed with its fields mapped.
        let mut results: Vec<Option<Result<WriteResponse>>> =
            (0..ops.len()).map(|_| None).collect();
        let view = self.view();
        let mut grown: Option<Mapping> = None;
        for (i, op) in ops.iter().enumerate() {
            for doc in op.docs() {
                let base = grown.as_ref().unwrap_or(&view.mapping);
                match dynamic_updates(base, doc) {
                    Ok(Some(m)) => grown = Some(m),
                    Ok(None) => {}
                    Err(e) => results[i] = Some(Err(e)),
                }
            }
        }
        let mut w = self.write.lock();
        if w.writer.is_none() {
            return ops
                .iter()
                .map(|_| Err(Error::index_not_found(&self.name)))
                .collect();
        }
        if let Some(m) = grown {
            let mut merged = w.meta.mapping.clone();
            if let Err(e) = merged
                .merge(&m)
                .and_then(|_| self.apply_mapping(&mut w, merged))
            {
                return ops.iter().map(|_| Err(e.clone())).collect();
            }
        }
        let view = self.view();
        let searcher = view.reader.searcher();
        let mut wal_buf = Vec::new();
        let mut pending: HashMap<String, LiveEntry> = HashMap::new();
        let mut applied: Vec<(String, Option<TantivyDocument>, bool)> = Vec::new();
        for (i, op) in ops.into_iter().enumerate() {
            if results[i].is_some() {
                continue;
            }
            let r = self.prepare(
                &mut w,
                &view,
                &searcher,
                &mut pending,
                op,
                &mut wal_buf,
                &mut applied,
            );
            results[i] = Some(r);
        }
        let mut offset = 0;
        if !wal_buf.is_empty() {
            match w.wal.append(&wal_buf) {
                Ok(o) => offset = o,
                Err(e) => {
                    // Nothing was handed to tantivy yet: fail every write of the batch.
                    let err = Error::storage(
                        "translog_exception",
                        format!("failed to write the translog: {e}"),
                    );
                    w.next_seq -= applied.len() as i64;
                    return results
                        .into_iter()
                        .map(|r| match r {
                            Some(Ok(_)) => Err(err.clone()),
                            Some(Err(e)) => Err(e),
                            None => Err(err.clone()),
                        })
                        .collect();
                }
            }
        }
        {
            let writer = w.writer.as_ref().expect("writer open");
            for (id, doc, existed) in applied {
                if existed {
                    writer.delete_term(Term::from_field_text(view.table.id, &id));
                }
                if let Some(doc) = doc {
                    if let Err(e) = writer.add_document(doc) {
                        tracing::error!(index = %self.name, error = %e, "indexing failed after the log append");
                    }
                }
            }
        }
        if !pending.is_empty() {
            w.dirty = true;
            w.live_bytes += pending.values().map(LiveEntry::bytes).sum::<usize>();
            w.live.extend(pending);
        }
        let pressure = w.live_bytes > LIVE_MAP_LIMIT_BYTES;
        drop(w);
        if pressure {
            if let Err(e) = self.refresh() {
                tracing::error!(index = %self.name, error = %e, "refresh under memory pressure failed");
            }
        }
        if offset > 0 && self.settings.read().durability == Durability::Request {
            if let Err(e) = self.wal_sync.sync_to(offset) {
                let err = Error::storage(
                    "translog_exception",
                    format!("failed to sync the translog: {e}"),
                );
                return results.into_iter().map(|_| Err(err.clone())).collect();
            }
        }
        results
            .into_iter()
            .map(|r| r.expect("every op has a result"))
            .collect()
    }

    pub fn sync_wal(&self) -> Result<()> {
        self.wal_sync
            .sync_all()
            .map_err(io_err("translog_exception"))
    }

    fn current(
        &self,
        w: &WriteState,
        searcher: &Searcher,
        table: &FieldTable,
        pending: &HashMap<String, LiveEntry>,
        id: &str,
    ) -> Result<Option<Current>> {
        if let Some(e) = pending.get(id).or_else(|| w.live.get(id)) {
            return Ok(Some(Current {
                seq_no: e.seq_no,
                version: e.version,
                deleted: e.source.is_none(),
                source: e.source.clone(),
                addr: None,
            }));
        }
        match find_doc(searcher, table, id)? {
            None => Ok(None),
            Some(addr) => {
                let (seq_no, version) = doc_versions(searcher, addr)?;
                Ok(Some(Current {
                    seq_no,
                    version,
                    source: None,
                    deleted: false,
                    addr: Some(addr),
                }))
            }
        }
    }

    fn load_source(
        &self,
        searcher: &Searcher,
        table: &FieldTable,
        cur: &Current,
    ) -> Result<Option<Bytes>> {
        if cur.deleted {
            return Ok(None);
        }
        if let Some(s) = &cur.source {
            return Ok(Some(s.clone()));
        }
        // `current` found it in the reader: read its source there, no second lookup.
        match cur.addr {
            None => Ok(None),
            Some(addr) => Ok(Some(stored_source(searcher, table, addr)?)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &self,
        w: &mut WriteState,
        view: &View,
        searcher: &Searcher,
        pending: &mut HashMap<String, LiveEntry>,
        op: ShardOp,
        wal_buf: &mut Vec<u8>,
        applied: &mut Vec<(String, Option<TantivyDocument>, bool)>,
    ) -> Result<WriteResponse> {
        let table = &view.table;
        match op {
            ShardOp::Index {
                id,
                source,
                doc,
                op_type,
                if_match,
            } => {
                let cur = self.current(w, searcher, table, pending, &id)?;
                let live = cur.as_ref().filter(|c| !c.deleted);
                if op_type == OpType::Create {
                    if let Some(c) = live {
                        return Err(Error::version_conflict(
                            &self.name,
                            &self.uuid,
                            &id,
                            &format!("document already exists (current version [{}])", c.version),
                        ));
                    }
                }
                check_if_match(&self.name, &self.uuid, &id, &if_match, live)?;
                let mut tdoc = TantivyDocument::default();
                build_document(table, &view.mapping, &id, &doc, &mut tdoc)?;
                Ok(self.index_prepared(
                    w,
                    table,
                    pending,
                    wal_buf,
                    applied,
                    id,
                    source,
                    tdoc,
                    cur.as_ref(),
                ))
            }
            ShardOp::Delete { id, if_match } => {
                let cur = self.current(w, searcher, table, pending, &id)?;
                let live = cur.as_ref().filter(|c| !c.deleted);
                check_if_match(&self.name, &self.uuid, &id, &if_match, live)?;
                let seq_no = w.next_seq;
                w.next_seq += 1;
                let Some(c) = live else {
                    return Ok(self.response(&id, 1, seq_no, WriteResult::NotFound));
                };
                let version = c.version + 1;
                record(
                    wal_buf,
                    pending,
                    WalOp::Delete {
                        id: id.clone(),
                        seq_no,
                        version,
                    },
                    None,
                );
                applied.push((id.clone(), None, true));
                Ok(self.response(&id, version, seq_no, WriteResult::Deleted))
            }
            ShardOp::Update(u) => {
                let cur = self.current(w, searcher, table, pending, &u.id)?;
                let live = cur.as_ref().filter(|c| !c.deleted);
                check_if_match(&self.name, &self.uuid, &u.id, &u.if_match, live)?;
                let (new_source, created) = match live {
                    None => {
                        let doc = match (&u.upsert, u.doc_as_upsert) {
                            (Some(up), _) => up.clone(),
                            (None, true) => u.doc.clone().unwrap_or(Value::Object(Map::new())),
                            (None, false) => {
                                return Err(Error::document_missing(&self.name, &self.uuid, &u.id))
                            }
                        };
                        (doc, true)
                    }
                    Some(c) => {
                        let bytes = self.load_source(searcher, table, c)?.unwrap_or_default();
                        let mut obj: Map<String, Value> =
                            serde_json::from_slice(&bytes).unwrap_or_default();
                        let changed = match &u.doc {
                            Some(Value::Object(patch)) => source::merge(&mut obj, patch),
                            _ => false,
                        };
                        if !changed && u.detect_noop {
                            let mut r =
                                self.response(&u.id, c.version, c.seq_no, WriteResult::Noop);
                            r.get = u
                                .source
                                .as_ref()
                                .map(|f| self.get_section(&u.id, c, &bytes, f));
                            return Ok(r);
                        }
                        (Value::Object(obj), false)
                    }
                };
                let Value::Object(doc) = new_source else {
                    return Err(Error::x_content_parse("[upsert] must be an object"));
                };
                let bytes = Bytes::from(Value::Object(doc.clone()).to_string());
                let mut tdoc = TantivyDocument::default();
                build_document(table, &view.mapping, &u.id, &doc, &mut tdoc)?;
                let mut r = self.index_prepared(
                    w,
                    table,
                    pending,
                    wal_buf,
                    applied,
                    u.id.clone(),
                    bytes.clone(),
                    tdoc,
                    cur.as_ref(),
                );
                if created {
                    r.result = WriteResult::Created;
                }
                if let Some(f) = &u.source {
                    let c = Current {
                        seq_no: r._seq_no,
                        version: r._version,
                        source: None,
                        deleted: false,
                        addr: None,
                    };
                    r.get = Some(self.get_section(&u.id, &c, &bytes, f));
                }
                Ok(r)
            }
        }
    }

    fn get_section(
        &self,
        id: &str,
        c: &Current,
        bytes: &[u8],
        filter: &SourceFilter,
    ) -> GetResponse {
        GetResponse {
            _index: self.name.clone(),
            _id: id.to_string(),
            _version: None,
            _seq_no: Some(c.seq_no),
            _primary_term: Some(PRIMARY_TERM),
            found: true,
            _source: source::filter_source(bytes, filter),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn index_prepared(
        &self,
        w: &mut WriteState,
        table: &FieldTable,
        pending: &mut HashMap<String, LiveEntry>,
        wal_buf: &mut Vec<u8>,
        applied: &mut Vec<(String, Option<TantivyDocument>, bool)>,
        id: String,
        source: Bytes,
        mut tdoc: TantivyDocument,
        cur: Option<&Current>,
    ) -> WriteResponse {
        let seq_no = w.next_seq;
        w.next_seq += 1;
        let version = cur.map(|c| c.version + 1).unwrap_or(1);
        let existed = cur.is_some();
        let result = if cur.map(|c| !c.deleted).unwrap_or(false) {
            WriteResult::Updated
        } else {
            WriteResult::Created
        };
        add_internal(table, &mut tdoc, &id, &source, seq_no, version);
        let op = WalOp::Index {
            id: id.clone(),
            seq_no,
            version,
            source: source.to_vec(),
        };
        record(wal_buf, pending, op, Some(source));
        applied.push((id.clone(), Some(tdoc), existed));
        self.response(&id, version, seq_no, result)
    }

    fn response(&self, id: &str, version: i64, seq_no: i64, result: WriteResult) -> WriteResponse {
        WriteResponse {
            _index: self.name.clone(),
            _id: id.to_string(),
            _version: version,
            result,
            forced_refresh: false,
            _shards: if result == WriteResult::Noop {
                Shards::ok(0)
            } else {
                Shards::ok(1)
            },
            _seq_no: seq_no,
            _primary_term: PRIMARY_TERM,
            get: None,
        }
    }

    // === reads ===

    /// Real-time get: sees every acknowledged write.
    pub fn get(&self, id: &str, filter: &SourceFilter) -> Result<GetResponse> {
        let live = self.write.lock().live.get(id).cloned();
        let found = |seq_no, version, bytes: &[u8]| GetResponse {
            _index: self.name.clone(),
            _id: id.to_string(),
            _version: Some(version),
            _seq_no: Some(seq_no),
            _primary_term: Some(PRIMARY_TERM),
            found: true,
            _source: source::filter_source(bytes, filter),
        };
        if let Some(e) = live {
            return Ok(match &e.source {
                Some(b) => found(e.seq_no, e.version, b),
                None => GetResponse::not_found(&self.name, id),
            });
        }
        let view = self.view();
        let searcher = view.reader.searcher();
        match find_doc(&searcher, &view.table, id)? {
            None => Ok(GetResponse::not_found(&self.name, id)),
            Some(addr) => {
                let (seq_no, version) = doc_versions(&searcher, addr)?;
                let bytes = stored_source(&searcher, &view.table, addr)?;
                Ok(found(seq_no, version, &bytes))
            }
        }
    }

    // === refresh ===

    /// Whether scheduled refreshes are paused: ES's search-idle shards (no search
    /// for `index.search.idle.after`, and no explicit `refresh_interval`).
    pub fn search_idle(&self) -> bool {
        let settings = self.settings.read();
        if settings.refresh_interval_explicit {
            return false;
        }
        match *self.last_search.lock() {
            None => true,
            Some(t) => t.elapsed() >= settings.search_idle_after,
        }
    }

    /// Called before a search reads this index: an idle index with pending writes
    /// is refreshed first, as ES makes a search on a search-idle shard wait for the
    /// refresh.
    pub fn before_search(&self) -> Result<()> {
        let idle = self.search_idle();
        *self.last_search.lock() = Some(Instant::now());
        if idle && self.write.lock().dirty {
            self.refresh()?;
        }
        Ok(())
    }

    /// Makes every acknowledged write searchable (a tantivy commit and reload).
    pub fn refresh(&self) -> Result<()> {
        *self.last_refresh.lock() = Instant::now();
        let mut w = self.write.lock();
        if !w.dirty || w.writer.is_none() {
            return Ok(());
        }
        let seq = w.next_seq - 1;
        commit(w.writer.as_mut().expect("writer open"), seq)?;
        w.wal.reset().map_err(io_err("translog_exception"))?;
        w.dirty = false;
        let view = self.view();
        view.reader.reload().map_err(tv_err)?;
        w.live.retain(|_, e| e.seq_no > seq);
        w.live_bytes = w.live.values().map(LiveEntry::bytes).sum();
        Ok(())
    }

    /// Commits and syncs; called on shutdown.
    pub fn close(&self) -> Result<()> {
        self.refresh()?;
        self.sync_wal()
    }

    pub fn stats(&self) -> IndexStats {
        let view = self.view();
        let searcher = view.reader.searcher();
        let docs = searcher.num_docs();
        let max: u64 = searcher
            .segment_readers()
            .iter()
            .map(|s| s.max_doc() as u64)
            .sum();
        let settings = self.settings();
        IndexStats {
            name: self.name.clone(),
            uuid: self.uuid.clone(),
            docs_count: docs,
            docs_deleted: max - docs,
            store_bytes: dir_size(&self.dir),
            number_of_shards: settings.number_of_shards,
            number_of_replicas: settings.number_of_replicas,
        }
    }
}

/// Records a write: its log record, and its entry in the batch's live map.
fn record(
    wal_buf: &mut Vec<u8>,
    pending: &mut HashMap<String, LiveEntry>,
    op: WalOp,
    source: Option<Bytes>,
) {
    op.encode_into(wal_buf);
    let (id, seq_no, version) = match op {
        WalOp::Index {
            id,
            seq_no,
            version,
            ..
        }
        | WalOp::Delete {
            id,
            seq_no,
            version,
        } => (id, seq_no, version),
    };
    pending.insert(
        id,
        LiveEntry {
            seq_no,
            version,
            source,
        },
    );
}

fn commit(writer: &mut IndexWriter, max_seq: i64) -> Result<()> {
    let mut prepared = writer.prepare_commit().map_err(tv_err)?;
    prepared.set_payload(&serde_json::json!({ "max_seq_no": max_seq }).to_string());
    prepared.commit().map_err(tv_err)?;
    Ok(())
}

fn add_internal(
    table: &FieldTable,
    doc: &mut TantivyDocument,
    id: &str,
    source: &[u8],
    seq_no: i64,
    version: i64,
) {
    doc.add_text(table.id, id);
    doc.add_bytes(table.source, source);
    doc.add_i64(table.seq_no, seq_no);
    doc.add_i64(table.version, version);
}

fn check_if_match(
    index: &str,
    uuid: &str,
    id: &str,
    m: &IfMatch,
    cur: Option<&Current>,
) -> Result<()> {
    let (Some(seq), term) = (m.if_seq_no, m.if_primary_term) else {
        return Ok(());
    };
    let term = term.unwrap_or(PRIMARY_TERM);
    match cur {
        None => Err(Error::version_conflict(
            index,
            uuid,
            id,
            &format!("required seqNo [{seq}], primary term [{term}] but no document was found"),
        )),
        Some(c) if c.seq_no != seq || term != PRIMARY_TERM => Err(Error::version_conflict(
            index,
            uuid,
            id,
            &format!(
                "required seqNo [{seq}], primary term [{term}]. current document has seqNo [{}] and primary term [{PRIMARY_TERM}]",
                c.seq_no
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// The live document with `_id == id` in the committed reader.
pub fn find_doc(searcher: &Searcher, table: &FieldTable, id: &str) -> Result<Option<DocAddress>> {
    let term = Term::from_field_text(table.id, id);
    for (ord, seg) in searcher.segment_readers().iter().enumerate() {
        let inv = seg.inverted_index(table.id).map_err(tv_err)?;
        let Some(mut postings) = inv
            .read_postings(&term, IndexRecordOption::Basic)
            .map_err(|e| Error::storage("engine_exception", e.to_string()))?
        else {
            continue;
        };
        let alive = seg.alive_bitset();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if alive.map(|a| a.is_alive(doc)).unwrap_or(true) {
                return Ok(Some(DocAddress::new(ord as u32, doc)));
            }
            doc = postings.advance();
        }
    }
    Ok(None)
}

pub fn doc_versions(searcher: &Searcher, addr: DocAddress) -> Result<(i64, i64)> {
    let seg = searcher.segment_reader(addr.segment_ord);
    let ff = seg.fast_fields();
    let seq = ff
        .i64(fields::SEQ_NO)
        .map_err(tv_err)?
        .first(addr.doc_id)
        .unwrap_or(0);
    let version = ff
        .i64(fields::VERSION)
        .map_err(tv_err)?
        .first(addr.doc_id)
        .unwrap_or(1);
    Ok((seq, version))
}

pub fn stored_source(searcher: &Searcher, table: &FieldTable, addr: DocAddress) -> Result<Bytes> {
    let doc: TantivyDocument = searcher.doc(addr).map_err(tv_err)?;
    Ok(doc
        .get_first(table.source)
        .and_then(|v| v.as_bytes())
        .map(Bytes::copy_from_slice)
        .unwrap_or_default())
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_size(&e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
