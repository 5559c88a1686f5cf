//! The catalog of indices in a data directory: opening them at start, creating
//! and deleting them, and resolving index expressions (`a,b`, `logs-*`, `_all`,
//! `-excluded`) as Elasticsearch does.

use crate::meta::IndexMeta;
use crate::shard::{Shard, ShardConfig};
use parking_lot::{Mutex, RwLock};
use searchgate_core::model::{validate_index_name, CreateIndexRequest, IndexTarget};
use searchgate_core::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Catalog {
    root: PathBuf,
    cfg: ShardConfig,
    indices: RwLock<BTreeMap<String, Arc<Shard>>>,
    /// Serializes creation so two auto-creates of one name do not race.
    create_lock: Mutex<()>,
}

impl Catalog {
    /// Opens every index under `root/indices`.
    pub fn open(root: &Path, cfg: ShardConfig) -> Result<Catalog> {
        let dir = root.join("indices");
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::storage(
                "io_exception",
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        let mut indices = BTreeMap::new();
        for entry in
            std::fs::read_dir(&dir).map_err(|e| Error::storage("io_exception", e.to_string()))?
        {
            let path = entry
                .map_err(|e| Error::storage("io_exception", e.to_string()))?
                .path();
            if !path.join(crate::meta::FILE).exists() {
                // A creation that did not finish: nothing was acknowledged.
                let _ = std::fs::remove_dir_all(&path);
                continue;
            }
            let shard = Shard::open(&path, cfg)?;
            indices.insert(shard.name.clone(), Arc::new(shard));
        }
        Ok(Catalog {
            root: root.to_path_buf(),
            cfg,
            indices: RwLock::new(indices),
            create_lock: Mutex::new(()),
        })
    }

    pub fn all(&self) -> Vec<Arc<Shard>> {
        self.indices.read().values().cloned().collect()
    }

    pub fn get(&self, name: &str) -> Option<Arc<Shard>> {
        self.indices.read().get(name).cloned()
    }

    /// A concrete index for a single-document API (no wildcards).
    pub fn concrete(&self, name: &str) -> Result<Arc<Shard>> {
        self.get(name).ok_or_else(|| Error::index_not_found(name))
    }

    pub fn create(&self, req: CreateIndexRequest) -> Result<Arc<Shard>> {
        validate_index_name(&req.index)?;
        let _guard = self.create_lock.lock();
        if let Some(existing) = self.get(&req.index) {
            return Err(Error::index_already_exists(&req.index, &existing.uuid));
        }
        let uuid = new_uuid();
        let dir = self.root.join("indices").join(&uuid);
        let meta = IndexMeta {
            name: req.index.clone(),
            uuid,
            creation_date: chrono::Utc::now().timestamp_millis(),
            settings: req.settings,
            mapping: req.mappings,
            field_names: BTreeMap::new(),
        };
        let shard = match Shard::create(&dir, meta, self.cfg) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        self.indices
            .write()
            .insert(req.index.clone(), Arc::clone(&shard));
        Ok(shard)
    }

    /// The index for a write, created with defaults if missing and allowed.
    pub fn for_write(&self, name: &str, auto_create: bool) -> Result<Arc<Shard>> {
        if let Some(s) = self.get(name) {
            return Ok(s);
        }
        if !auto_create {
            return Err(Error::index_not_found(name));
        }
        validate_index_name(name)?;
        match self.create(CreateIndexRequest {
            index: name.to_string(),
            settings: Default::default(),
            mappings: searchgate_core::model::Mapping::new(),
            aliases: None,
        }) {
            Ok(s) => Ok(s),
            Err(e) if e.kind == "resource_already_exists_exception" => self.concrete(name),
            Err(e) => Err(e),
        }
    }

    pub fn delete(&self, names: &[String]) -> Result<()> {
        let removed: Vec<Arc<Shard>> = {
            let mut map = self.indices.write();
            names.iter().filter_map(|n| map.remove(n)).collect()
        };
        for shard in removed {
            shard.close_for_delete();
            let dir = shard.dir().to_path_buf();
            drop(shard);
            // First the metadata: without it a directory is not an index, so a crash
            // from here on cannot bring the deleted index back.
            std::fs::remove_file(dir.join(crate::meta::FILE))
                .and_then(|_| std::fs::File::open(&dir)?.sync_all())
                .map_err(|e| {
                    Error::storage(
                        "io_exception",
                        format!("cannot delete {}: {e}", dir.display()),
                    )
                })?;
            // The index is gone from the catalog; its files go now. A file still
            // being written by a thread that held the index a moment ago can make
            // one pass fail, so try a few times.
            let mut result = Ok(());
            for attempt in 0..5 {
                result = std::fs::remove_dir_all(&dir);
                if result.is_ok() || !dir.exists() {
                    result = Ok(());
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20 << attempt));
            }
            if let Err(e) = result {
                tracing::warn!(dir = %dir.display(), error = %e, "could not remove a deleted index's files");
            }
        }
        Ok(())
    }

    /// Resolves an index expression as ES does for searches.
    pub fn resolve(&self, target: &IndexTarget) -> Result<Vec<Arc<Shard>>> {
        let map = self.indices.read();
        let expr = target.expression.trim();
        let mut names: Vec<String> = Vec::new();
        let parts: Vec<&str> = if expr.is_empty() {
            vec!["_all"]
        } else {
            expr.split(',').map(str::trim).collect()
        };
        let mut saw_wildcard = false;
        for part in parts {
            if part.is_empty() {
                continue;
            }
            if part == "_all" || part == "*" {
                saw_wildcard = true;
                for n in map.keys() {
                    if !n.starts_with('.') && !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            } else if let Some(excl) = part.strip_prefix('-').filter(|_| saw_wildcard) {
                names.retain(|n| !crate::fields::wildcard_match(excl, n));
            } else if part.contains('*') {
                saw_wildcard = true;
                for n in map.keys() {
                    if crate::fields::wildcard_match(part, n)
                        && (!n.starts_with('.') || part.starts_with('.'))
                        && !names.contains(n)
                    {
                        names.push(n.clone());
                    }
                }
            } else if map.contains_key(part) {
                if !names.iter().any(|n| n == part) {
                    names.push(part.to_string());
                }
            } else if !target.ignore_unavailable {
                return Err(Error::index_not_found(part));
            }
        }
        if names.is_empty() && !target.allow_no_indices {
            return Err(Error::index_not_found(expr));
        }
        Ok(names.iter().filter_map(|n| map.get(n).cloned()).collect())
    }

    /// Resolves concrete names for destructive operations: wildcards are refused
    /// (`action.destructive_requires_name` is true by default in ES 8).
    pub fn resolve_for_delete(&self, target: &IndexTarget) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for part in target
            .expression
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            if part == "_all" || part.contains('*') {
                return Err(Error::illegal_argument(
                    "Wildcard expressions or all indices are not allowed",
                ));
            }
            match self.get(part) {
                Some(_) => out.push(part.to_string()),
                None if target.ignore_unavailable => {}
                None => return Err(Error::index_not_found(part)),
            }
        }
        Ok(out)
    }
}

/// ES-style ids and uuids: 20 characters of URL-safe base64 (15 random bytes).
pub fn new_uuid() -> String {
    use base64::Engine as _;
    let bytes: [u8; 15] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
