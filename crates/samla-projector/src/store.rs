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
        match self.get(CHECKPOINT_KEY)? {
            None => Ok(0),
            Some(bytes) => <[u8; 8]>::try_from(bytes.as_slice())
                .map(u64::from_be_bytes)
                .map_err(|_| {
                    ProjectorError::Corrupt(format!(
                        "the checkpoint is {} bytes long, not 8",
                        bytes.len()
                    ))
                }),
        }
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

/// How long [`SledStore::open`] waits for a folder's lock before it gives up.
///
/// sled locks its file while any part of a `Db` holds it, and some parts outlive the drop
/// of the last handle for a moment (its flusher thread, frees deferred by
/// crossbeam-epoch). A folder closed and opened again in the same process, as a restart
/// of the engine or a test does, could find the lock still held; sled's own tests wait on
/// it for this reason. A lock that is still held after this long belongs to somebody else.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A sled error as the projector's. Data sled cannot read back (a file cut short or
/// overwritten, a format it does not know) is [`ProjectorError::Corrupt`]: rebuild it from
/// the log. Anything else (permissions, no space left, too many open files, the disk
/// failing) is [`ProjectorError::Storage`]: the folder may be whole, and a rebuild would
/// meet the same cause, so nothing is rebuilt over it.
pub(crate) fn from_sled(error: sled::Error) -> ProjectorError {
    if is_corrupt(&error) {
        ProjectorError::Corrupt(error.to_string())
    } else {
        ProjectorError::Storage(error.to_string())
    }
}

/// What a read-model error that says nothing against the folder adds: the engine stops
/// rather than rebuild beside it.
pub(crate) const FOLDER_LEFT_AS_IT_IS: &str = "the folder was left as it is; fix the cause \
     (its permissions, free space, the open-file limit, the disk) and start again, or move \
     the folder away to rebuild the read models from the log";

/// Whether `error` says the data is unreadable, rather than that it could not be reached.
pub(crate) fn is_corrupt(error: &sled::Error) -> bool {
    match error {
        sled::Error::Corruption { .. }
        | sled::Error::Unsupported(_)
        | sled::Error::ReportableBug(_) => true,
        sled::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
        ),
        sled::Error::CollectionNotFound(_) => false,
    }
}

/// Whether sled refused to open a folder because its lock is held.
fn lock_is_held(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.to_string().starts_with("could not acquire lock"))
}

impl SledStore {
    /// Opens (or creates) the read-model folder, waiting up to [`LOCK_WAIT`] for its lock.
    pub fn open(path: &std::path::Path) -> Result<Self, ProjectorError> {
        Self::open_waiting(path, LOCK_WAIT, || {})
    }

    /// [`SledStore::open`], waiting up to `wait` for the folder's lock; `on_wait` is called
    /// each time the lock was found held.
    pub fn open_waiting(
        path: &std::path::Path,
        wait: std::time::Duration,
        mut on_wait: impl FnMut(),
    ) -> Result<Self, ProjectorError> {
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(5);
        let db = loop {
            let opened = sled::Config::new()
                .path(path)
                .cache_capacity(SLED_CACHE_BYTES)
                .mode(sled::Mode::HighThroughput)
                .open();
            match opened {
                Ok(db) => break db,
                Err(error) if lock_is_held(&error) && started.elapsed() < wait => {
                    on_wait();
                    std::thread::sleep(pause.min(wait.saturating_sub(started.elapsed())));
                    pause = (pause * 2).min(std::time::Duration::from_millis(200));
                }
                Err(error) if lock_is_held(&error) => {
                    return Err(ProjectorError::InUse(format!(
                        "cannot open {}: another process holds its lock (waited {:.1} s): \
                         stop the other projector using this folder, or give this one a \
                         data folder of its own ({error})",
                        path.display(),
                        wait.as_secs_f64()
                    )));
                }
                Err(error) => {
                    let path = path.display();
                    return Err(if is_corrupt(&error) {
                        ProjectorError::Corrupt(format!("cannot open {path}: {error}"))
                    } else {
                        ProjectorError::Storage(format!(
                            "cannot open {path}: {error}: {FOLDER_LEFT_AS_IT_IS}"
                        ))
                    });
                }
            }
        };
        let tree = db.open_tree("read_models").map_err(from_sled)?;
        Ok(Self { db, tree })
    }

    /// Whether any key starts with `prefix` (reads one key at most).
    pub fn has_prefix(&self, prefix: &[u8]) -> Result<bool, ProjectorError> {
        match self.tree.scan_prefix(prefix).next() {
            None => Ok(false),
            Some(entry) => entry.map(|_| true).map_err(from_sled),
        }
    }

    /// The tree as a backing for read-model tables.
    pub fn backing(&self) -> crate::table::Backing {
        crate::table::Backing::new(self.tree.clone())
    }

    /// Writes sled's buffers to disk (sled's flush is weaker than a full sync; read models
    /// are rebuildable, so this is enough).
    pub fn flush(&self) -> Result<(), ProjectorError> {
        self.db.flush().map(|_| ()).map_err(from_sled)
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
                    .map_err(from_sled)?;
                collect_garbage(in_batch);
                in_batch = 0;
            }
        }
        self.tree.apply_batch(batch).map_err(from_sled)?;
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
        self.tree.apply_batch(batch).map_err(from_sled)?;
        collect_garbage(count);
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectorError> {
        self.tree
            .get(key)
            .map(|value| value.map(|v| v.to_vec()))
            .map_err(from_sled)
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<Entry>, ProjectorError> {
        self.tree
            .scan_prefix(prefix)
            .map(|item| {
                item.map(|(key, value)| (key.to_vec(), value.to_vec()))
                    .map_err(from_sled)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder closed in this process can stay locked for a moment after the drop; an
    /// open in that moment waits for the lock rather than failing.
    #[test]
    fn open_waits_for_a_lock_that_is_let_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut held = SledStore::open(dir.path()).expect("first open");
        held.apply(vec![(b"m/row".to_vec(), Some(b"kept".to_vec()))])
            .expect("write");
        held.flush().expect("flush");
        let (waiting, found_held) = std::sync::mpsc::channel();
        let path = dir.path().to_path_buf();
        let opener = std::thread::spawn(move || {
            SledStore::open_waiting(&path, std::time::Duration::from_secs(60), || {
                let _ = waiting.send(());
            })
        });
        found_held
            .recv()
            .expect("the second open found the lock held");
        drop(held);
        let store = opener.join().expect("opener").expect("opened once let go");
        assert_eq!(store.get(b"m/row").expect("read"), Some(b"kept".to_vec()));
    }

    /// A lock held throughout is somebody else's: the open gives up after the wait, says
    /// the folder is in use (not broken) and what to do.
    #[test]
    fn open_gives_up_on_a_folder_in_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let _held = SledStore::open(dir.path()).expect("first open");
        let mut waits = 0;
        let error =
            SledStore::open_waiting(dir.path(), std::time::Duration::from_millis(50), || {
                waits += 1
            })
            .expect_err("the folder is in use");
        assert!(waits >= 1, "never waited");
        let ProjectorError::InUse(message) = &error else {
            panic!("not reported as in use: {error}");
        };
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(
            message.contains("another process holds its lock"),
            "{message}"
        );
        assert!(message.contains("data folder of its own"), "{message}");
    }
}
