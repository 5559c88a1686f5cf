//! Index administration: create/get/delete, settings, and index-name rules.

use super::mapping::Mapping;
use crate::error::{Error, Result};
use crate::units::parse_time;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// ES's rules for index names (`MetadataCreateIndexService.validateIndexOrAliasName`).
pub fn validate_index_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid_index_name(name, why));
    if name.is_empty() {
        return bad("must not be empty");
    }
    if name != name.to_lowercase() {
        return bad("must be lowercase");
    }
    for c in ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'] {
        if name.contains(c) {
            return bad(
                r#"must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?]"#,
            );
        }
    }
    if name.starts_with('_') || name.starts_with('-') || name.starts_with('+') {
        return bad("must not start with '_', '-', or '+'");
    }
    if name == "." || name == ".." {
        return bad("must not be '.' or '..'");
    }
    if name.len() > 255 {
        return bad("index name is too long, (> 255)");
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// fsync before each write is acknowledged.
    #[default]
    Request,
    /// fsync every `sync_interval`.
    Async,
}

/// Index settings searchgate acts on; the rest is kept as given (flat `index.*` keys).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSettings {
    pub number_of_shards: u32,
    pub number_of_replicas: u32,
    /// `None`: refresh disabled (`-1`).
    pub refresh_interval: Option<Duration>,
    /// Whether `index.refresh_interval` was set explicitly: as in ES, only an index
    /// without it becomes search-idle (no scheduled refreshes while nobody searches).
    pub refresh_interval_explicit: bool,
    /// `index.search.idle.after` (30 s).
    pub search_idle_after: Duration,
    pub durability: Durability,
    pub sync_interval: Duration,
    pub max_result_window: usize,
    pub other: BTreeMap<String, Value>,
}

impl Default for IndexSettings {
    fn default() -> Self {
        IndexSettings {
            number_of_shards: 1,
            number_of_replicas: 1,
            refresh_interval: Some(Duration::from_secs(1)),
            refresh_interval_explicit: false,
            search_idle_after: Duration::from_secs(30),
            durability: Durability::Request,
            sync_interval: Duration::from_secs(5),
            max_result_window: 10_000,
            other: BTreeMap::new(),
        }
    }
}

/// Flattens `{"index":{"number_of_shards":1}}` and `{"number_of_shards":1}` to
/// `index.number_of_shards` keys.
pub fn flatten_settings(v: &Value) -> Result<BTreeMap<String, Value>> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(o) => {
                for (k, val) in o {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, val, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    let mut raw = BTreeMap::new();
    match v {
        Value::Object(_) => walk("", v, &mut raw),
        Value::Null => {}
        _ => return Err(Error::illegal_argument("settings must be an object")),
    }
    Ok(raw
        .into_iter()
        .map(|(k, v)| {
            if k.starts_with("index.") {
                (k, v)
            } else {
                (format!("index.{k}"), v)
            }
        })
        .collect())
}

fn setting_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl IndexSettings {
    pub fn parse(v: &Value) -> Result<IndexSettings> {
        let mut s = IndexSettings::default();
        s.apply(flatten_settings(v)?)?;
        Ok(s)
    }

    /// Applies flat `index.*` settings (from create or `PUT _settings`).
    pub fn apply(&mut self, flat: BTreeMap<String, Value>) -> Result<()> {
        for (k, v) in flat {
            let sv = setting_str(&v);
            let int = |name: &str| -> Result<u64> {
                sv.parse::<u64>().map_err(|_| {
                    Error::illegal_argument(format!(
                        "Failed to parse value [{sv}] for setting [{name}]"
                    ))
                })
            };
            match k.as_str() {
                "index.number_of_shards" => {
                    let n = int(&k)?;
                    if n == 0 {
                        return Err(Error::illegal_argument(
                            "Failed to parse value [0] for setting [index.number_of_shards] must be >= 1",
                        ));
                    }
                    self.number_of_shards = n as u32
                }
                "index.number_of_replicas" => self.number_of_replicas = int(&k)? as u32,
                "index.refresh_interval" => {
                    self.refresh_interval = parse_time(&k, &sv)?;
                    self.refresh_interval_explicit = true;
                }
                "index.search.idle.after" => {
                    self.search_idle_after =
                        parse_time(&k, &sv)?.unwrap_or(Duration::from_secs(30));
                }
                "index.translog.durability" => {
                    self.durability = match sv.to_ascii_lowercase().as_str() {
                        "request" => Durability::Request,
                        "async" => Durability::Async,
                        _ => {
                            return Err(Error::illegal_argument(format!(
                                "no enum constant for [index.translog.durability]: [{sv}]"
                            )))
                        }
                    }
                }
                "index.translog.sync_interval" => {
                    self.sync_interval = parse_time(&k, &sv)?.unwrap_or(Duration::from_secs(5))
                }
                "index.max_result_window" => self.max_result_window = int(&k)? as usize,
                _ => {}
            }
            // Shown as given (`"5s"`, not a normalized form), as ES shows settings.
            if k != "index.number_of_shards" && k != "index.number_of_replicas" {
                self.other.insert(k, Value::String(sv));
            }
        }
        Ok(())
    }

    /// The flat settings, as `GET /{index}/_settings?flat_settings=true` shows them:
    /// every setting as it was given, plus the shard counts.
    pub fn to_flat(&self) -> BTreeMap<String, Value> {
        let mut m = self.other.clone();
        m.insert(
            "index.number_of_shards".into(),
            json!(self.number_of_shards.to_string()),
        );
        m.insert(
            "index.number_of_replicas".into(),
            json!(self.number_of_replicas.to_string()),
        );
        m
    }

    /// The nested form (`{"index":{...}}`) that `GET /{index}` shows.
    pub fn to_nested(&self) -> Value {
        let mut root = Map::new();
        for (k, v) in self.to_flat() {
            let mut cur = &mut root;
            let parts: Vec<&str> = k.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                cur = cur
                    .entry(p.to_string())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                    .expect("settings nest as objects");
            }
            cur.insert(parts[parts.len() - 1].to_string(), v);
        }
        Value::Object(root)
    }
}

#[derive(Debug, Clone)]
pub struct CreateIndexRequest {
    pub index: String,
    pub settings: IndexSettings,
    pub mappings: Mapping,
    pub aliases: Option<Value>,
}

impl CreateIndexRequest {
    /// Parses the body of `PUT /{index}`.
    pub fn parse(index: &str, body: &Value) -> Result<CreateIndexRequest> {
        let mut req = CreateIndexRequest {
            index: index.to_string(),
            settings: IndexSettings::default(),
            mappings: Mapping::new(),
            aliases: None,
        };
        match body {
            Value::Null => {}
            Value::Object(o) => {
                for (k, v) in o {
                    match k.as_str() {
                        "settings" => req.settings = IndexSettings::parse(v)?,
                        "mappings" => req.mappings = Mapping::parse(v)?,
                        "aliases" => req.aliases = Some(v.clone()),
                        _ => {
                            return Err(Error::new(
                                400,
                                "parse_exception",
                                format!("unknown key [{k}] for create index"),
                            ))
                        }
                    }
                }
            }
            _ => return Err(Error::parsing("request body must be an object")),
        }
        Ok(req)
    }
}

/// What `GET /{index}` shows for one index.
#[derive(Debug, Clone)]
pub struct IndexInfo {
    pub name: String,
    pub uuid: String,
    pub creation_date: i64,
    pub settings: IndexSettings,
    pub mappings: Mapping,
}

impl IndexInfo {
    pub fn to_json(&self) -> Value {
        let mut settings = self.settings.to_nested();
        if let Some(idx) = settings.get_mut("index").and_then(Value::as_object_mut) {
            idx.insert("uuid".into(), json!(self.uuid));
            idx.insert(
                "creation_date".into(),
                json!(self.creation_date.to_string()),
            );
            idx.insert("provided_name".into(), json!(self.name));
            idx.insert("version".into(), json!({"created": "8512000"}));
        }
        json!({
            "aliases": {},
            "mappings": self.mappings.to_json(),
            "settings": settings,
        })
    }
}

/// Per-index figures for `_cat/indices`, `_cluster/health`, stats.
#[derive(Debug, Clone)]
pub struct IndexStats {
    pub name: String,
    pub uuid: String,
    pub docs_count: u64,
    pub docs_deleted: u64,
    pub store_bytes: u64,
    pub number_of_shards: u32,
    pub number_of_replicas: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_index_name("logs-2024").is_ok());
        assert!(validate_index_name("Logs").is_err());
        assert!(validate_index_name("_x").is_err());
        assert!(validate_index_name("-x").is_err());
        assert!(validate_index_name("a*b").is_err());
    }

    #[test]
    fn settings_forms() {
        let s = IndexSettings::parse(&json!({"index": {"number_of_shards": 1, "refresh_interval": "-1"}, "number_of_replicas": "0"})).unwrap();
        assert_eq!(s.number_of_replicas, 0);
        assert_eq!(s.refresh_interval, None);
        let n = s.to_nested();
        assert_eq!(n["index"]["number_of_shards"], "1");
        assert_eq!(n["index"]["refresh_interval"], "-1");
    }
}
