//! What an index keeps beside its tantivy files (`index.json`): name, uuid,
//! creation date, settings, mapping, and the ES path → tantivy field table.
//! Written atomically (temp file, fsync, rename, fsync of the directory) before a
//! change is acknowledged.

use searchgate_core::model::{IndexSettings, Mapping};
use searchgate_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

pub const FILE: &str = "index.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMeta {
    pub name: String,
    pub uuid: String,
    pub creation_date: i64,
    /// Flat `index.*` settings.
    pub settings: BTreeMap<String, Value>,
    pub mapping: Value,
    pub field_names: BTreeMap<String, String>,
}

/// The meta in typed form.
#[derive(Debug, Clone)]
pub struct IndexMeta {
    pub name: String,
    pub uuid: String,
    pub creation_date: i64,
    pub settings: IndexSettings,
    pub mapping: Mapping,
    pub field_names: BTreeMap<String, String>,
}

impl IndexMeta {
    pub fn load(dir: &Path) -> Result<IndexMeta> {
        let bytes = fs::read(dir.join(FILE)).map_err(|e| {
            Error::storage("io_exception", format!("cannot read index metadata: {e}"))
        })?;
        let s: StoredMeta = serde_json::from_slice(&bytes).map_err(|e| {
            Error::storage(
                "corrupt_state_exception",
                format!("bad index metadata: {e}"),
            )
        })?;
        let mut settings = IndexSettings::default();
        settings.apply(s.settings)?;
        Ok(IndexMeta {
            name: s.name,
            uuid: s.uuid,
            creation_date: s.creation_date,
            settings,
            mapping: Mapping::parse(&s.mapping)?,
            field_names: s.field_names,
        })
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        let stored = StoredMeta {
            name: self.name.clone(),
            uuid: self.uuid.clone(),
            creation_date: self.creation_date,
            settings: self.settings.to_flat(),
            mapping: self.mapping.to_json(),
            field_names: self.field_names.clone(),
        };
        let bytes =
            serde_json::to_vec_pretty(&stored).map_err(|e| Error::internal(e.to_string()))?;
        write_atomic(dir, FILE, &bytes).map_err(|e| {
            Error::storage("io_exception", format!("cannot write index metadata: {e}"))
        })
    }
}

/// Writes `name` in `dir` atomically and durably.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, dir.join(name))?;
    fs::File::open(dir)?.sync_all()
}
