//! Snapshots of folded state on disk: disposable, self-verifying caches.
//!
//! A snapshot is the whole key-value state of a [`Folder`] (read models, id index,
//! correction index, checkpoint) after folding the first `position` events of one line
//! (the log in stream order for "as known", in occurred order for "as happened"). One file
//! per snapshot, `<dir>/<known|happened>-<position, 16 hex digits>.snap`:
//!
//! ```text
//! b"SAMLASNP" | header length (u32 LE) | header (MessagePack, named) | body
//! body = { key length (u32 LE) | key | value length (u32 LE) | value }*   (key order)
//! ```
//!
//! The header names the snapshot format, the fold (`samla-read-models/<version>`), the
//! log identity (stream + creation time), the line and position, and carries the body's
//! length and SHA-256. A snapshot whose header does not match this process's fold and log
//! is deleted when the folder is opened; one whose body does not match its checksum (a torn
//! write, a flipped bit) is deleted when it is loaded, and the replay falls back to an
//! earlier snapshot or to folding from the start. Files are written to a temporary name and
//! renamed, so a reader never sees half a snapshot.
//!
//! [`Folder`]: crate::folder::Folder

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ProjectorError;
use crate::replay::Sense;
use crate::store::{Change, Entry, KvStore};

const MAGIC: &[u8; 8] = b"SAMLASNP";
/// Bump when the file layout or the meaning of a position changes.
pub(crate) const FORMAT: u32 = 1;
/// A header longer than this is not one of ours.
const MAX_HEADER_BYTES: u32 = 64 * 1024;

/// Temporary files get unique names, so two queries writing the same snapshot at once
/// never write into one file.
static TEMPORARY_COUNTER: AtomicU64 = AtomicU64::new(0);

/// What a snapshot holds, without its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Header {
    pub format: u32,
    /// `samla-read-models/<version>`.
    pub fold: String,
    /// The log identity (`<stream>@<created>`).
    pub log: String,
    /// `known` or `happened`.
    pub line: String,
    /// Events folded along the line.
    pub position: u64,
    /// The highest stream sequence folded.
    pub last_seq: u64,
    /// The key of the last event folded along the line: for "known", the `recorded_at`
    /// (Unix nanoseconds) and sequence of event `position`; for "happened", its occurred
    /// key in the order (effective time, sequence).
    pub last_key_time: i64,
    pub last_key_seq: u64,
    /// The log head the line's order was taken at. A "happened" snapshot is usable while
    /// `last_key` is still the `position`-th key of the order; one that is not, built on
    /// a head at or below the current one, is stale for good and deleted.
    pub built_head: u64,
    pub body_len: u64,
    pub body_sha256: String,
}

impl Header {
    pub(crate) fn sense(&self) -> Option<Sense> {
        match self.line.as_str() {
            "known" => Some(Sense::Known),
            "happened" => Some(Sense::Happened),
            _ => None,
        }
    }
}

/// The identity every snapshot in one folder must carry.
#[derive(Debug, Clone)]
pub(crate) struct Expected {
    pub fold: String,
    pub log: String,
}

impl Expected {
    fn admits(&self, header: &Header) -> bool {
        header.format == FORMAT
            && header.fold == self.fold
            && header.log == self.log
            && header.sense().is_some()
    }
}

/// The file name of a snapshot.
pub(crate) fn file_name(sense: Sense, position: u64) -> String {
    format!("{}-{position:016x}.snap", sense.as_str())
}

/// The full key-value state of a folder, in key order: what [`crate::folder::Folder::load`]
/// reads and what a snapshot stores.
#[derive(Debug, Default, Clone)]
pub(crate) struct StateStore {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl StateStore {
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Vec<u8>, &Vec<u8>)> {
        self.entries.iter()
    }
}

impl KvStore for StateStore {
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

/// Lists the snapshots in `dir` that belong to this fold and log; deletes the others and
/// any temporary file left by an interrupted write. Returns the headers and how many files
/// were refused.
pub(crate) fn scan(
    dir: &Path,
    expected: &Expected,
) -> Result<(Vec<(PathBuf, Header)>, u64), ProjectorError> {
    let mut found = Vec::new();
    let mut refused = 0;
    let listing = std::fs::read_dir(dir).map_err(|error| {
        ProjectorError::Storage(format!("cannot list {}: {error}", dir.display()))
    })?;
    for entry in listing {
        let path = entry
            .map_err(|error| ProjectorError::Storage(error.to_string()))?
            .path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.contains(".snap.tmp-") {
            remove(&path);
            continue;
        }
        if !name.ends_with(".snap") {
            continue;
        }
        match read_header(&path) {
            Ok(header)
                if expected.admits(&header)
                    && header
                        .sense()
                        .is_some_and(|sense| file_name(sense, header.position) == name) =>
            {
                found.push((path, header));
            }
            Ok(_) => {
                tracing::info!(file = %path.display(), "snapshot of another fold or log; deleted");
                refused += 1;
                remove(&path);
            }
            Err(reason) => {
                tracing::warn!(file = %path.display(), %reason, "unreadable snapshot; deleted");
                refused += 1;
                remove(&path);
            }
        }
    }
    Ok((found, refused))
}

/// Deletes a snapshot file (best effort: a file that stays is verified again next time).
pub(crate) fn remove(path: &Path) {
    if let Err(error) = std::fs::remove_file(path)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(file = %path.display(), %error, "cannot delete a snapshot");
    }
}

fn read_header(path: &Path) -> Result<Header, String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut prefix = [0u8; 12];
    file.read_exact(&mut prefix).map_err(|e| e.to_string())?;
    let length = header_length(&prefix)?;
    let mut bytes = vec![0u8; length];
    file.read_exact(&mut bytes).map_err(|e| e.to_string())?;
    rmp_serde::from_slice(&bytes).map_err(|e| format!("header: {e}"))
}

fn header_length(prefix: &[u8]) -> Result<usize, String> {
    if prefix.len() < 12 || &prefix[..8] != MAGIC {
        return Err("not a Samla snapshot (bad magic)".into());
    }
    let length = u32::from_le_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]);
    if length > MAX_HEADER_BYTES {
        return Err(format!("header of {length} bytes"));
    }
    Ok(length as usize)
}

/// Writes a snapshot of `store` (temporary file, then rename). `header` gets the body's
/// length and checksum. Blocking.
pub(crate) fn write(
    dir: &Path,
    mut header: Header,
    store: &StateStore,
) -> Result<(PathBuf, Header), ProjectorError> {
    let mut body = Vec::new();
    for (key, value) in store.iter() {
        put_bytes(&mut body, key)?;
        put_bytes(&mut body, value)?;
    }
    header.body_len = body.len() as u64;
    header.body_sha256 = hex::encode(Sha256::digest(&body));
    let encoded = rmp_serde::to_vec_named(&header)
        .map_err(|error| ProjectorError::Storage(format!("snapshot header: {error}")))?;
    let header_len = u32::try_from(encoded.len())
        .ok()
        .filter(|length| *length <= MAX_HEADER_BYTES)
        .ok_or_else(|| ProjectorError::Storage("snapshot header too long".into()))?;
    let sense = header
        .sense()
        .ok_or_else(|| ProjectorError::Storage(format!("bad line {:?}", header.line)))?;
    let path = dir.join(file_name(sense, header.position));
    let temporary = dir.join(format!(
        "{}.tmp-{}-{}",
        file_name(sense, header.position),
        std::process::id(),
        TEMPORARY_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file_bytes = Vec::with_capacity(12 + encoded.len() + body.len());
    file_bytes.extend_from_slice(MAGIC);
    file_bytes.extend_from_slice(&header_len.to_le_bytes());
    file_bytes.extend_from_slice(&encoded);
    file_bytes.extend_from_slice(&body);
    let storage = |error: std::io::Error| {
        ProjectorError::Storage(format!("cannot write {}: {error}", temporary.display()))
    };
    std::fs::write(&temporary, &file_bytes).map_err(storage)?;
    std::fs::rename(&temporary, &path).map_err(storage)?;
    Ok((path, header))
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), ProjectorError> {
    let length = u32::try_from(bytes.len())
        .map_err(|_| ProjectorError::Storage("a state entry over 4 GiB".into()))?;
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Reads and verifies a snapshot: the header must match `expected` line and position, the
/// body its length and checksum. Blocking. `Err` says why the file cannot be used.
pub(crate) fn load(
    path: &Path,
    expected: &Expected,
    sense: Sense,
    position: u64,
) -> Result<(Header, StateStore), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let length = header_length(&bytes)?;
    let header_end = 12 + length;
    let header: Header = bytes
        .get(12..header_end)
        .ok_or("truncated header")
        .and_then(|slice| rmp_serde::from_slice(slice).map_err(|_| "undecodable header"))?;
    if !expected.admits(&header) || header.sense() != Some(sense) || header.position != position {
        return Err("the header names another fold, log, line or position".into());
    }
    let body = &bytes[header_end..];
    if body.len() as u64 != header.body_len {
        return Err(format!(
            "the body has {} bytes, the header says {}",
            body.len(),
            header.body_len
        ));
    }
    if hex::encode(Sha256::digest(body)) != header.body_sha256 {
        return Err("the body does not match its SHA-256".into());
    }
    let mut entries = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let key = take_bytes(&mut rest)?;
        let value = take_bytes(&mut rest)?;
        entries.push((key.to_vec(), value.to_vec()));
    }
    // Written in key order: collecting sorted pairs builds the map in one pass instead of
    // searching it once per key.
    let store = StateStore {
        entries: entries.into_iter().collect(),
    };
    Ok((header, store))
}

fn take_bytes<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let (length, tail) = rest
        .split_first_chunk::<4>()
        .ok_or("truncated entry length")?;
    let length = u32::from_le_bytes(*length) as usize;
    if tail.len() < length {
        return Err("truncated entry".into());
    }
    let (bytes, tail) = tail.split_at(length);
    *rest = tail;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(position: u64) -> Header {
        Header {
            format: FORMAT,
            fold: "fold/1".into(),
            log: "LOG@2026-01-01T00:00:00Z".into(),
            line: "known".into(),
            position,
            last_seq: position,
            last_key_time: 7,
            last_key_seq: position,
            built_head: position,
            body_len: 0,
            body_sha256: String::new(),
        }
    }

    fn expected() -> Expected {
        Expected {
            fold: "fold/1".into(),
            log: "LOG@2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_written_snapshot_loads_back_and_a_flipped_bit_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = StateStore::default();
        store
            .apply(vec![
                (b"m/a".to_vec(), Some(b"one".to_vec())),
                (
                    b"meta/checkpoint".to_vec(),
                    Some(5u64.to_be_bytes().to_vec()),
                ),
            ])
            .expect("apply");
        let (path, written) = write(dir.path(), header(5), &store).expect("write");
        let (read, loaded) = load(&path, &expected(), Sense::Known, 5).expect("load");
        assert_eq!(read, written);
        assert_eq!(loaded.entries, store.entries);
        let (found, refused) = scan(dir.path(), &expected()).expect("scan");
        assert_eq!((found.len(), refused), (1, 0));

        let mut bytes = std::fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        let refusal = load(&path, &expected(), Sense::Known, 5).expect_err("corrupt");
        assert!(refusal.contains("SHA-256"), "{refusal}");

        let other = Expected {
            fold: "fold/2".into(),
            ..expected()
        };
        let (found, refused) = scan(dir.path(), &other).expect("scan");
        assert_eq!((found.len(), refused), (0, 1));
        assert!(!path.exists(), "a snapshot of another fold is deleted");
    }
}
