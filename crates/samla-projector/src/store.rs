//! Where read models live: a small key-value trait with a sled implementation and an
//! in-memory one. Folds never touch it; the engine writes each batch's changes, the id
//! index and the checkpoint in one atomic batch.
//!
//! Keys: `m/…` are read-model state (in the digest), `meta/…` are bookkeeping
//! (checkpoint, log identity, fold versions; not in the digest).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::error::ProjectorError;

/// The prefix of every read-model key.
pub const MODEL_PREFIX: &[u8] = b"m/";
/// The prefix of bookkeeping keys.
pub const META_PREFIX: &[u8] = b"meta/";
/// The checkpoint: the last stream sequence applied (big-endian u64).
pub const CHECKPOINT_KEY: &[u8] = b"meta/checkpoint";

/// One stored key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// One change: a key set to a value, or removed.
pub type Change = (Vec<u8>, Option<Vec<u8>>);

/// A key-value store for read models.
pub trait KvStore {
    /// Applies all changes at once: all or none of them are visible after a crash.
    fn apply(&mut self, changes: Vec<Change>) -> Result<(), ProjectorError>;
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectorError>;
    /// Every key and value with this prefix, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<Entry>, ProjectorError>;

    /// The last sequence applied.
    fn checkpoint(&self) -> Result<u64, ProjectorError> {
        Ok(self
            .get(CHECKPOINT_KEY)?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// SHA-256 over the read-model keys and values in key order (bookkeeping excluded):
    /// equal on every replica that applied the same log.
    fn digest(&self) -> Result<String, ProjectorError> {
        let mut hasher = Sha256::new();
        for (key, value) in self.scan_prefix(MODEL_PREFIX)? {
            hasher.update((key.len() as u64).to_be_bytes());
            hasher.update(&key);
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(&value);
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

/// Read models in memory: for fold tests and the differential test.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemoryStore {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl KvStore for MemoryStore {
    fn apply(&mut self, changes: Vec<Change>) -> Result<(), ProjectorError> {
        for (key, value) in changes {
            match value {
                Some(value) => {
                    self.entries.insert(key, value);
                }
                None => {
                    self.entries.remove(&key);
                }
            }
        }
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectorError> {
        Ok(self.entries.get(key).cloned())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<Entry>, ProjectorError> {
        Ok(self
            .entries
            .range(prefix.to_vec()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect())
    }
}

/// Read models in a sled tree: one tree, so one batch is atomic.
#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
}

/// sled's page cache: bounded so a replica's memory does not grow with the log.
pub const SLED_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Frees the tree nodes sled replaced in a batch of `changes` changes.
///
/// sled frees what a write replaces through crossbeam-epoch, whose collector frees at most
/// 8 bags of 64 objects each time a thread has pinned 128 times. One batch of thousands of
/// changes leaves far more garbage than that, and the projector pins little else, so the
/// garbage piled up: a catch-up of 300,000 events peaked at 1.2–1.3 GiB in most runs
/// against ~450 MiB in the others. Each flush of a fresh guard moves this thread's
/// garbage to the global queue and frees up to 8 expired bags; a few flushes more than the
/// batch can have filled cost ~0.1 µs each when nothing is left.
fn collect_garbage(changes: usize) {
    for _ in 0..(changes / 16 + 64) {
        crossbeam_epoch::pin().flush();
    }
}

impl SledStore {
    /// Opens (or creates) the read-model folder.
    pub fn open(path: &std::path::Path) -> Result<Self, ProjectorError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(SLED_CACHE_BYTES)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|error| {
                ProjectorError::Storage(format!("cannot open {}: {error}", path.display()))
            })?;
        let tree = db
            .open_tree("read_models")
            .map_err(|error| ProjectorError::Storage(error.to_string()))?;
        Ok(Self { db, tree })
    }

    /// The tree as a backing for read-model tables.
    pub fn backing(&self) -> crate::table::Backing {
        crate::table::Backing::new(self.tree.clone())
    }

    /// Writes sled's buffers to disk (sled's flush is weaker than a full sync; read models
    /// are rebuildable, so this is enough).
    pub fn flush(&self) -> Result<(), ProjectorError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|error| ProjectorError::Storage(error.to_string()))
    }
}

impl SledStore {
    /// Applies `changes` in several sled batches of at most `part` changes, in order: not
    /// atomic, so only for a folder nobody reads and nobody resumes (a rebuild's, swapped in
    /// only once complete). sled keeps every node a batch replaces until the batch ends, so
    /// one huge batch costs memory in proportion to its size; parts bound it.
    pub fn apply_in_parts(&self, changes: Vec<Change>, part: usize) -> Result<(), ProjectorError> {
        let mut batch = sled::Batch::default();
        let mut in_batch = 0usize;
        for (key, value) in changes {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
            in_batch += 1;
            if in_batch >= part.max(1) {
                self.tree
                    .apply_batch(std::mem::take(&mut batch))
                    .map_err(|error| ProjectorError::Storage(error.to_string()))?;
                collect_garbage(in_batch);
                in_batch = 0;
            }
        }
        self.tree
            .apply_batch(batch)
            .map_err(|error| ProjectorError::Storage(error.to_string()))?;
        collect_garbage(in_batch);
        Ok(())
    }
}

impl KvStore for SledStore {
    fn apply(&mut self, changes: Vec<Change>) -> Result<(), ProjectorError> {
        let count = changes.len();
        let mut batch = sled::Batch::default();
        for (key, value) in changes {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        self.tree
            .apply_batch(batch)
            .map_err(|error| ProjectorError::Storage(error.to_string()))?;
        collect_garbage(count);
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectorError> {
        self.tree
            .get(key)
            .map(|value| value.map(|v| v.to_vec()))
            .map_err(|error| ProjectorError::Storage(error.to_string()))
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<Entry>, ProjectorError> {
        self.tree
            .scan_prefix(prefix)
            .map(|item| {
                item.map(|(key, value)| (key.to_vec(), value.to_vec()))
                    .map_err(|error| ProjectorError::Storage(error.to_string()))
            })
            .collect()
    }
}
