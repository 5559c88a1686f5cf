//! `_cat`: the compact text tables people read (`?v` header, `?h=` columns, `?s=`
//! sort, `?bytes=` unit, `?help`), or `?format=json` (an array of objects whose
//! values are strings, as ES renders them).

use super::{EsPath, MaybeIndex};
use crate::error::ApiResult;
use crate::params::{Params, INDICES_OPTIONS};
use crate::response;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use searchgate_core::model::{CountRequest, HealthStatus, IndexTarget};
use searchgate_core::units::format_bytes;
use searchgate_core::Error;
use serde_json::{Map, Value};
use std::cmp::Ordering;

const CAT_COMMON: &[&str] = &[
    "format",
    "h",
    "help",
    "v",
    "s",
    "local",
    "master_timeout",
    "bytes",
    "time",
    "ts",
];

/// One column of a `_cat` table.
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// Numbers align right and sort numerically.
    pub numeric: bool,
    /// Shown when `h` is not given.
    pub default: bool,
    pub desc: &'static str,
}

const fn col(
    name: &'static str,
    aliases: &'static [&'static str],
    numeric: bool,
    desc: &'static str,
) -> Column {
    Column {
        name,
        aliases,
        numeric,
        default: true,
        desc,
    }
}

/// A cell value; sizes render per `?bytes=`.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Num(u64),
    Bytes(u64),
    /// Shown as-is, sorted by the number.
    Display(String, f64),
    Null,
}

impl Cell {
    fn render(&self, bytes_unit: Option<u64>) -> Option<String> {
        match self {
            Cell::Text(s) | Cell::Display(s, _) => Some(s.clone()),
            Cell::Num(n) => Some(n.to_string()),
            Cell::Bytes(n) => Some(match bytes_unit {
                Some(u) => (n / u).to_string(),
                None => format_bytes(*n),
            }),
            Cell::Null => None,
        }
    }

    fn cmp(&self, other: &Cell) -> Ordering {
        let num = |c: &Cell| match c {
            Cell::Num(n) | Cell::Bytes(n) => Some(*n as f64),
            Cell::Display(_, f) => Some(*f),
            _ => None,
        };
        match (num(self), num(other)) {
            (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
            _ => self.render(None).cmp(&other.render(None)),
        }
    }
}

pub struct Table {
    pub columns: &'static [Column],
    pub rows: Vec<Vec<Cell>>,
}

fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, post)) => {
            name.len() >= pre.len() + post.len()
                && name.starts_with(pre)
                && glob_match_rest(post, &name[pre.len()..])
        }
    }
}

fn glob_match_rest(pattern: &str, rest: &str) -> bool {
    if !pattern.contains('*') {
        return rest.ends_with(pattern);
    }
    (0..=rest.len())
        .filter(|i| rest.is_char_boundary(*i))
        .any(|i| {
            let (pre, post) = pattern.split_once('*').expect("has a star");
            rest[i..].starts_with(pre) && glob_match_rest(post, &rest[i + pre.len()..])
        })
}

impl Table {
    fn find(&self, key: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name == key || c.aliases.contains(&key))
    }

    /// Renders the table per the request's `_cat` parameters.
    pub fn render(mut self, p: &Params) -> ApiResult {
        if p.flag("help")? {
            let mut out = String::new();
            let w = self.columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
            for c in self.columns {
                out.push_str(&format!(
                    "{:w$} | {} | {}\n",
                    c.name,
                    c.aliases.join(","),
                    c.desc
                ));
            }
            return Ok(response::text(StatusCode::OK, out));
        }
        // Columns: `h` (names, aliases, wildcards) or the defaults.
        let cols: Vec<usize> = match p.get("h").filter(|h| !h.is_empty()) {
            Some(h) => {
                let mut v = Vec::new();
                for key in h.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                    if key.contains('*') {
                        v.extend(
                            (0..self.columns.len())
                                .filter(|i| glob_match(key, self.columns[*i].name)),
                        );
                    } else if let Some(i) = self.find(key) {
                        v.push(i);
                    }
                }
                v
            }
            None => {
                // `ts=false` (on `_cat/health`, `_cat/count`) drops the time columns.
                let ts = p.bool_or("ts", true)?;
                (0..self.columns.len())
                    .filter(|i| self.columns[*i].default)
                    .filter(|i| {
                        ts || ![EPOCH.name, TIMESTAMP.name].contains(&self.columns[*i].name)
                    })
                    .collect()
            }
        };
        // Sort: `s=col[:asc|:desc],...`.
        if let Some(s) = p.get("s").filter(|s| !s.is_empty()) {
            let mut keys = Vec::new();
            for part in s.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                let (name, desc) = match part.rsplit_once(':') {
                    Some((n, "desc")) => (n, true),
                    Some((n, "asc")) => (n, false),
                    _ => (part, false),
                };
                let i = self.find(name).ok_or_else(|| {
                    Error::illegal_argument(format!("Unable to sort by unknown sort key `{name}`"))
                })?;
                keys.push((i, desc));
            }
            self.rows.sort_by(|a, b| {
                for (i, desc) in &keys {
                    let o = a[*i].cmp(&b[*i]);
                    let o = if *desc { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        let bytes_unit = match p.get("bytes") {
            None => None,
            Some(u) => Some(match u.to_ascii_lowercase().as_str() {
                "b" => 1,
                "kb" => 1 << 10,
                "mb" => 1 << 20,
                "gb" => 1 << 30,
                "tb" => 1 << 40,
                "pb" => 1 << 50,
                other => {
                    return Err(Error::illegal_argument(format!(
                        "failed to parse [bytes] with value [{other}]"
                    ))
                    .into())
                }
            }),
        };
        let cells: Vec<Vec<Option<String>>> = self
            .rows
            .iter()
            .map(|r| cols.iter().map(|i| r[*i].render(bytes_unit)).collect())
            .collect();
        match p.get("format").map(str::to_ascii_lowercase).as_deref() {
            None | Some("text") | Some("txt") => Ok(response::text(
                StatusCode::OK,
                self.text(&cols, &cells, p.flag("v")?),
            )),
            Some("json") => {
                let rows: Vec<Value> = cells
                    .into_iter()
                    .map(|r| {
                        let m: Map<String, Value> = cols
                            .iter()
                            .zip(r)
                            .map(|(i, c)| {
                                (
                                    self.columns[*i].name.to_string(),
                                    c.map_or(Value::Null, Value::String),
                                )
                            })
                            .collect();
                        Value::Object(m)
                    })
                    .collect();
                Ok(response::ok(&rows))
            }
            Some(other) => Err(Error::illegal_argument(format!(
                "Unsupported format [{other}]: searchgate renders _cat as text or json"
            ))
            .into()),
        }
    }

    fn text(&self, cols: &[usize], cells: &[Vec<Option<String>>], header: bool) -> String {
        let shown = |c: &Option<String>| c.clone().unwrap_or_else(|| "-".into());
        let mut widths: Vec<usize> = cols
            .iter()
            .map(|i| {
                if header {
                    self.columns[*i].name.len()
                } else {
                    0
                }
            })
            .collect();
        for row in cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(shown(c).chars().count());
            }
        }
        let mut out = String::new();
        let mut line = |values: Vec<String>| {
            let last = values.len().saturating_sub(1);
            for (k, (v, i)) in values.iter().zip(cols).enumerate() {
                let w = widths[k];
                let pad = w.saturating_sub(v.chars().count());
                if self.columns[*i].numeric {
                    out.push_str(&" ".repeat(pad));
                    out.push_str(v);
                } else {
                    out.push_str(v);
                    if k != last {
                        out.push_str(&" ".repeat(pad));
                    }
                }
                if k != last {
                    out.push(' ');
                }
            }
            out.push('\n');
        };
        if header {
            line(
                cols.iter()
                    .map(|i| self.columns[*i].name.to_string())
                    .collect(),
            );
        }
        for row in cells {
            line(row.iter().map(shown).collect());
        }
        out
    }
}

/// `GET /_cat`: the list of `_cat` endpoints.
pub async fn cat_root(p: Params) -> ApiResult {
    p.allow(&[])?;
    Ok(response::text(
        StatusCode::OK,
        "=^.^=\n/_cat/indices\n/_cat/indices/{index}\n/_cat/health\n/_cat/count\n/_cat/count/{index}\n"
            .to_string(),
    ))
}

static INDICES_COLUMNS: &[Column] = &[
    col("health", &["h"], false, "current health status"),
    col("status", &["s"], false, "open/close status"),
    col("index", &["i", "idx"], false, "index name"),
    col("uuid", &["id", "uuid"], false, "index uuid"),
    col(
        "pri",
        &["p", "shards.primary", "shardsPrimary"],
        true,
        "number of primary shards",
    ),
    col(
        "rep",
        &["r", "shards.replica", "shardsReplica"],
        true,
        "number of replica shards",
    ),
    col("docs.count", &["dc", "docsCount"], true, "available docs"),
    col("docs.deleted", &["dd", "docsDeleted"], true, "deleted docs"),
    col(
        "store.size",
        &["ss", "storeSize"],
        true,
        "store size of primaries & replicas",
    ),
    col("pri.store.size", &[], true, "store size of primaries"),
    col("dataset.size", &[], true, "total size of dataset"),
];

fn health_name(s: HealthStatus) -> Cell {
    Cell::Text(s.as_str().to_string())
}

/// `GET /_cat/indices` and `GET /_cat/indices/{index}`.
pub async fn indices(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
) -> ApiResult {
    p.allow(&[
        CAT_COMMON,
        INDICES_OPTIONS,
        &["health", "pri", "include_unloaded_segments"],
    ])?;
    let target = p.target(path.expr())?;
    let mut stats = st.backend.index_stats(&target).await?;
    stats.sort_by(|a, b| a.name.cmp(&b.name));
    let mut rows = Vec::with_capacity(stats.len());
    for s in stats {
        let health = st
            .backend
            .health(Some(&IndexTarget::new(s.name.clone())))
            .await?
            .status;
        if let Some(want) = p.get("health") {
            if want != health.as_str() {
                continue;
            }
        }
        rows.push(vec![
            health_name(health),
            Cell::Text("open".into()),
            Cell::Text(s.name),
            Cell::Text(s.uuid),
            Cell::Num(s.number_of_shards.into()),
            Cell::Num(s.number_of_replicas.into()),
            Cell::Num(s.docs_count),
            Cell::Num(s.docs_deleted),
            Cell::Bytes(s.store_bytes),
            Cell::Bytes(s.store_bytes),
            Cell::Bytes(s.store_bytes),
        ]);
    }
    Table {
        columns: INDICES_COLUMNS,
        rows,
    }
    .render(&p)
}

/// The time columns that lead `_cat/health` and `_cat/count`, filled by [`now_cells`];
/// `ts=false` drops them.
const EPOCH: Column = col(
    "epoch",
    &["t", "time"],
    true,
    "seconds since 1970-01-01 00:00:00",
);
const TIMESTAMP: Column = col(
    "timestamp",
    &["ts", "hms", "hhmmss"],
    false,
    "time in HH:MM:SS",
);

/// `epoch` and `timestamp` cells for now.
fn now_cells() -> (Cell, Cell) {
    let now = chrono::Utc::now();
    (
        Cell::Num(now.timestamp().max(0) as u64),
        Cell::Text(now.format("%H:%M:%S").to_string()),
    )
}

static HEALTH_COLUMNS: &[Column] = &[
    EPOCH,
    TIMESTAMP,
    col("cluster", &["cl"], false, "cluster name"),
    col("status", &["st"], false, "health status"),
    col(
        "node.total",
        &["nt", "nodeTotal"],
        true,
        "total number of nodes",
    ),
    col(
        "node.data",
        &["nd", "nodeData"],
        true,
        "number of nodes that can store data",
    ),
    col(
        "shards",
        &["t", "sh", "shards.total", "shardsTotal"],
        true,
        "total number of shards",
    ),
    col(
        "pri",
        &["p", "shards.primary", "shardsPrimary"],
        true,
        "number of primary shards",
    ),
    col(
        "relo",
        &["r", "shards.relocating", "shardsRelocating"],
        true,
        "number of relocating nodes",
    ),
    col(
        "init",
        &["i", "shards.initializing", "shardsInitializing"],
        true,
        "number of initializing nodes",
    ),
    col(
        "unassign",
        &["u", "shards.unassigned", "shardsUnassigned"],
        true,
        "number of unassigned shards",
    ),
    col(
        "unassign.pri",
        &["up", "shards.unassigned.primary"],
        true,
        "number of unassigned primary shards",
    ),
    col(
        "pending_tasks",
        &["pt", "pendingTasks"],
        true,
        "number of pending tasks",
    ),
    col(
        "max_task_wait_time",
        &["mtwt", "maxTaskWaitTime"],
        true,
        "wait time of longest task pending",
    ),
    col(
        "active_shards_percent",
        &["asp", "activeShardsPercent"],
        true,
        "active number of shards in percent",
    ),
];

/// `GET /_cat/health`.
pub async fn health(State(st): State<AppState>, p: Params) -> ApiResult {
    p.allow(&[CAT_COMMON])?;
    let h = st.backend.health(None).await?;
    let (epoch, ts) = now_cells();
    let wait = if h.task_max_waiting_in_queue_millis == 0 {
        Cell::Display("-".into(), 0.0)
    } else {
        Cell::Display(
            format!("{}ms", h.task_max_waiting_in_queue_millis),
            h.task_max_waiting_in_queue_millis as f64,
        )
    };
    let row = vec![
        epoch,
        ts,
        Cell::Text(h.cluster_name.clone()),
        health_name(h.status),
        Cell::Num(h.number_of_nodes.into()),
        Cell::Num(h.number_of_data_nodes.into()),
        Cell::Num(h.active_shards.into()),
        Cell::Num(h.active_primary_shards.into()),
        Cell::Num(h.relocating_shards.into()),
        Cell::Num(h.initializing_shards.into()),
        Cell::Num(h.unassigned_shards.into()),
        Cell::Num(0),
        Cell::Num(h.number_of_pending_tasks.into()),
        wait,
        Cell::Display(
            format!("{:.1}%", h.active_shards_percent_as_number),
            h.active_shards_percent_as_number,
        ),
    ];
    Table {
        columns: HEALTH_COLUMNS,
        rows: vec![row],
    }
    .render(&p)
}

static COUNT_COLUMNS: &[Column] = &[
    EPOCH,
    TIMESTAMP,
    col(
        "count",
        &["dc", "docs.count", "docsCount"],
        true,
        "the document count",
    ),
];

/// `GET|POST /_cat/count` and `GET|POST /_cat/count/{index}`.
pub async fn count(
    State(st): State<AppState>,
    EsPath(path): EsPath<MaybeIndex>,
    p: Params,
) -> ApiResult {
    p.allow(&[CAT_COMMON, INDICES_OPTIONS])?;
    let target = p.target(path.expr())?;
    let c = st
        .backend
        .count(CountRequest {
            target,
            query: None,
        })
        .await?;
    let (epoch, ts) = now_cells();
    Table {
        columns: COUNT_COLUMNS,
        rows: vec![vec![epoch, ts, Cell::Num(c.count)]],
    }
    .render(&p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("docs.*", "docs.count"));
        assert!(glob_match("*size", "store.size"));
        assert!(glob_match("*.*", "store.size"));
        assert!(!glob_match("docs.*", "store.size"));
    }
}
