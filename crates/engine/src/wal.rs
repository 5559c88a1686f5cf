//! The write-ahead log (ES calls it the translog) of one index.
//!
//! A write is appended here, and fsynced (per request by default), before it is
//! acknowledged. Each tantivy commit records the highest sequence number it holds;
//! on open, records past it are replayed. After a commit the log is emptied.
//!
//! Record: `len: u32 LE | crc32(payload): u32 LE | payload`, payload =
//! `op: u8 | seq_no: i64 | version: i64 | id_len: u32 | id | source`.
//! A torn or corrupt tail (a crash mid-append) ends the replay there.

use parking_lot::Mutex;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub enum WalOp {
    Index {
        id: String,
        seq_no: i64,
        version: i64,
        source: Vec<u8>,
    },
    Delete {
        id: String,
        seq_no: i64,
        version: i64,
    },
}

impl WalOp {
    pub fn seq_no(&self) -> i64 {
        match self {
            WalOp::Index { seq_no, .. } | WalOp::Delete { seq_no, .. } => *seq_no,
        }
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let (op, id, seq_no, version, source): (u8, &str, i64, i64, &[u8]) = match self {
            WalOp::Index {
                id,
                seq_no,
                version,
                source,
            } => (1, id, *seq_no, *version, source),
            WalOp::Delete {
                id,
                seq_no,
                version,
            } => (2, id, *seq_no, *version, &[]),
        };
        let len = 1 + 8 + 8 + 4 + id.len() + source.len();
        let start = out.len();
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.push(op);
        out.extend_from_slice(&seq_no.to_le_bytes());
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&(id.len() as u32).to_le_bytes());
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(source);
        let crc = crc32fast::hash(&out[start + 8..]);
        out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    }

    fn decode(payload: &[u8]) -> Option<WalOp> {
        let op = *payload.first()?;
        let seq_no = i64::from_le_bytes(payload.get(1..9)?.try_into().ok()?);
        let version = i64::from_le_bytes(payload.get(9..17)?.try_into().ok()?);
        let id_len = u32::from_le_bytes(payload.get(17..21)?.try_into().ok()?) as usize;
        let id = String::from_utf8(payload.get(21..21 + id_len)?.to_vec()).ok()?;
        let rest = payload.get(21 + id_len..)?;
        match op {
            1 => Some(WalOp::Index {
                id,
                seq_no,
                version,
                source: rest.to_vec(),
            }),
            2 => Some(WalOp::Delete {
                id,
                seq_no,
                version,
            }),
            _ => None,
        }
    }
}

/// Decodes records until the first torn or corrupt one; returns the ops and the
/// length of the valid prefix.
pub fn decode_all(data: &[u8]) -> (Vec<WalOp>, usize) {
    let mut ops = Vec::new();
    let mut pos = 0;
    while pos + 8 <= data.len() {
        let len = u32::from_le_bytes(data[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().expect("4 bytes"));
        let Some(payload) = data.get(pos + 8..pos + 8 + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        match WalOp::decode(payload) {
            Some(op) => ops.push(op),
            None => break,
        }
        pos += 8 + len;
    }
    (ops, pos)
}

/// The appending side of the log, owned by the index's write lock.
pub struct Wal {
    dir: PathBuf,
    file: File,
    generation: u64,
    sync: Arc<WalSync>,
}

/// The fsync side, shared so that a writer can wait for durability after it has
/// released the write lock; concurrent writers share one fsync (group commit).
pub struct WalSync {
    file: Mutex<File>,
    written: AtomicU64,
    synced: Mutex<u64>,
}

impl WalSync {
    /// Returns once everything appended up to `offset` is on disk.
    pub fn sync_to(&self, offset: u64) -> std::io::Result<()> {
        let mut synced = self.synced.lock();
        if *synced >= offset {
            return Ok(());
        }
        let target = self.written.load(Ordering::Acquire);
        self.file.lock().sync_data()?;
        *synced = target.max(*synced);
        Ok(())
    }

    /// fsync of everything written so far (the `async` durability tick).
    pub fn sync_all(&self) -> std::io::Result<()> {
        self.sync_to(self.written.load(Ordering::Acquire))
    }
}

fn gen_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("translog-{generation:012}.tlog"))
}

fn generations(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut gens = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().to_string();
        if let Some(g) = name
            .strip_prefix("translog-")
            .and_then(|s| s.strip_suffix(".tlog"))
        {
            if let Ok(g) = g.parse() {
                gens.push(g);
            }
        }
    }
    gens.sort_unstable();
    Ok(gens)
}

impl Wal {
    /// Opens the log in `dir`, returning the ops it holds (all generations, in order).
    pub fn open(dir: &Path) -> std::io::Result<(Wal, Vec<WalOp>)> {
        fs::create_dir_all(dir)?;
        let gens = generations(dir)?;
        let mut ops = Vec::new();
        for g in &gens {
            let mut data = Vec::new();
            File::open(gen_path(dir, *g))?.read_to_end(&mut data)?;
            let (mut o, _valid) = decode_all(&data);
            ops.append(&mut o);
        }
        let generation = gens.last().map(|g| g + 1).unwrap_or(1);
        let file = Self::create_gen(dir, generation)?;
        let sync = Arc::new(WalSync {
            file: Mutex::new(file.try_clone()?),
            written: AtomicU64::new(0),
            synced: Mutex::new(0),
        });
        Ok((
            Wal {
                dir: dir.to_path_buf(),
                file,
                generation,
                sync,
            },
            ops,
        ))
    }

    fn create_gen(dir: &Path, generation: u64) -> std::io::Result<File> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(gen_path(dir, generation))?;
        File::open(dir)?.sync_all()?;
        Ok(file)
    }

    pub fn sync_handle(&self) -> Arc<WalSync> {
        Arc::clone(&self.sync)
    }

    /// Appends encoded records; returns the offset a writer must see synced.
    pub fn append(&mut self, encoded: &[u8]) -> std::io::Result<u64> {
        self.file.write_all(encoded)?;
        let end = self
            .sync
            .written
            .fetch_add(encoded.len() as u64, Ordering::AcqRel)
            + encoded.len() as u64;
        Ok(end)
    }

    /// After a commit that holds every record: start a new, empty generation and
    /// delete the old ones.
    pub fn reset(&mut self) -> std::io::Result<()> {
        let old: Vec<u64> = generations(&self.dir)?;
        self.generation += 1;
        let file = Self::create_gen(&self.dir, self.generation)?;
        *self.sync.file.lock() = file.try_clone()?;
        self.file = file;
        // Offsets restart with the new file; nobody waits on the old one any more
        // (the commit made its records durable).
        let written = self.sync.written.load(Ordering::Acquire);
        *self.sync.synced.lock() = written;
        for g in old {
            if g != self.generation {
                let _ = fs::remove_file(gen_path(&self.dir, g));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut wal, ops) = Wal::open(dir.path()).unwrap();
            assert!(ops.is_empty());
            let mut buf = Vec::new();
            WalOp::Index {
                id: "a".into(),
                seq_no: 0,
                version: 1,
                source: b"{\"x\":1}".to_vec(),
            }
            .encode_into(&mut buf);
            WalOp::Delete {
                id: "a".into(),
                seq_no: 1,
                version: 2,
            }
            .encode_into(&mut buf);
            let end = wal.append(&buf).unwrap();
            wal.sync_handle().sync_to(end).unwrap();
            // A torn record at the end.
            wal.append(&[9, 0, 0, 0, 1, 2]).unwrap();
        }
        let (_wal, ops) = Wal::open(dir.path()).unwrap();
        assert_eq!(ops.len(), 2);
        assert_eq!(
            ops[1],
            WalOp::Delete {
                id: "a".into(),
                seq_no: 1,
                version: 2
            }
        );
    }

    #[test]
    fn reset_empties() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path()).unwrap();
        let mut buf = Vec::new();
        WalOp::Delete {
            id: "a".into(),
            seq_no: 0,
            version: 1,
        }
        .encode_into(&mut buf);
        wal.append(&buf).unwrap();
        wal.reset().unwrap();
        drop(wal);
        let (_wal, ops) = Wal::open(dir.path()).unwrap();
        assert!(ops.is_empty());
    }
}
