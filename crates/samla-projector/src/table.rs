//! Tables of read-model rows with change tracking: folds mutate rows in memory; after
//! each batch the engine drains the changed rows and writes them in one atomic store batch
//! (coalescing many events on one aggregate into one write).
//!
//! Rows live in a persistent map ([`imbl::OrdMap`], a B-tree whose nodes are shared
//! between clones), each key and row behind an [`Arc`]: cloning a table is O(1), and after
//! a clone a write copies only the path to the row it changes (up to 16 key and row
//! pointers a node) and the row itself. Replay keeps many checkpoints of the whole state this way
//! (see [`crate::replay`]); the live engine never clones, so each node and row has one
//! owner and is changed in place.
//!
//! A table can be **backed** by the store it is written to ([`Backing`]): the map then
//! holds only the rows changed since the last completed write, and reads of any other row
//! go to the store (see [`TrackedTable::attach`]). The live engine backs its tables, so its memory
//! follows what a write window changes, not the size of the crisis; replay and tests keep
//! every row in memory.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::iter::Peekable;
use std::ops::{Bound, RangeBounds};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use imbl::OrdMap;

use proto_events::{IncidentId, Status};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ProjectorError;
use crate::store::Change;
use crate::visibility::SliceId;

mod fault;
pub use fault::Fault;

/// Which picture: one incident, actual events or an exercise or test, viewed apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Scope {
    pub incident: IncidentId,
    pub status: Status,
}

/// The table a stored key belongs to: `m/<table>/…` → `<table>` (empty when the key is
/// not a read-model key).
pub fn table_name(key: &[u8]) -> &str {
    std::str::from_utf8(key)
        .ok()
        .and_then(|text| text.strip_prefix("m/"))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
}

/// A table key: encodes to `m/<table>/<…>` and back. Its order must be the order of its
/// encodings as bytes: a backed table merges rows in memory with rows read from the store
/// in one pass.
pub trait TableKey: Ord + Clone {
    fn encode(&self, table: &str) -> Vec<u8>;
    /// Decodes the part after `m/<table>/`.
    fn decode(rest: &str) -> Option<Self>;
}

/// The key of one aggregate's row in one slice: `m/<table>/<incident>/<status>/<id>/<slice>`.
/// All slices of one aggregate sort together, so a viewer's merge reads them in one run.
/// Ordered as its encoding is (see [`TableKey`]): part by part, each part as if followed
/// by its `/` (so `a-b` sorts before `a`, as `a-b/` does before `a/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RowKey {
    pub scope: Scope,
    pub id: String,
    pub slice: SliceId,
}

/// Two key parts compared as their encodings are when each is followed by `/` (parts
/// never hold a `/`: they are tokens, hex or `net`).
pub(crate) fn cmp_part(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let shared = a.len().min(b.len());
    a[..shared].cmp(&b[..shared]).then_with(|| {
        let after = |part: &[u8]| part.get(shared).copied().unwrap_or(b'/');
        after(a).cmp(&after(b))
    })
}

impl Ord for RowKey {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_part(self.scope.incident.as_str(), other.scope.incident.as_str())
            .then_with(|| cmp_part(self.scope.status.as_str(), other.scope.status.as_str()))
            .then_with(|| cmp_part(&self.id, &other.id))
            .then_with(|| self.slice.as_str().cmp(other.slice.as_str()))
    }
}

impl PartialOrd for RowKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl TableKey for RowKey {
    fn encode(&self, table: &str) -> Vec<u8> {
        format!(
            "m/{table}/{}/{}/{}/{}",
            self.scope.incident, self.scope.status, self.id, self.slice
        )
        .into_bytes()
    }

    fn decode(rest: &str) -> Option<Self> {
        let mut parts = rest.split('/');
        let incident = IncidentId::new(parts.next()?).ok()?;
        let status = Status::from_str(parts.next()?).ok()?;
        let id = parts.next()?.to_string();
        let slice = SliceId::parse(parts.next()?)?;
        parts.next().is_none().then_some(RowKey {
            scope: Scope { incident, status },
            id,
            slice,
        })
    }
}

/// Change tracking of a table, without its key and row types: what replay needs to
/// forget changes it will never write, or to write a table whole, and what the engine
/// needs to back a table by its store.
pub trait TrackedTable {
    /// Forgets which rows changed since the last drain (a replay keeps no store).
    fn discard_changes(&mut self);
    /// Marks every row changed, so the next drain encodes the whole table. Only for a
    /// table with every row in memory (not backed).
    fn mark_all_changed(&mut self);
    /// Backs the table by `backing`; `complete` when every row the store holds for it is
    /// in memory (a fresh store): until a row leaves memory, the store is not read. A table
    /// that keeps its rows in memory ignores it.
    fn attach(&mut self, _backing: &Backing, _complete: bool) {}
    /// Backed: reads every stored row into memory, so the store is not read until rows
    /// leave memory again.
    fn load_whole(&mut self) {}
    /// Backed: forgets the rows in memory that the store holds as they are, keeping those
    /// changed since the latest drain and those of the latest drain itself. Call it only
    /// once every write but the latest drain's has landed in the store.
    fn evict(&mut self) {}
    /// Rows held in memory.
    fn resident(&self) -> usize;
    /// Rows changed since the last drain: what the next write will encode.
    fn changed(&self) -> usize;
    /// Backed: rows held in memory that an eviction could let go (0 for a table kept
    /// whole in memory).
    fn evictable(&self) -> usize {
        0
    }
    /// The stored key prefix of a table that keeps every row in memory even where others
    /// are backed (its rows are loaded when the store is opened); `None` for one that is
    /// backed.
    fn whole_in_memory(&self) -> Option<Vec<u8>>;
    /// Backed: reads every stored row once, so a row that cannot be read shows as the
    /// backing's fault now rather than in a later fold; returns how many were read.
    fn verify(&self) -> usize {
        0
    }
}

/// The store behind backed tables: the read-model tree, read where a row is not in
/// memory. A read that fails (an I/O error, a row that does not decode) is kept as the
/// backing's [`Fault`]: the engine checks it after every batch and stops before it writes
/// anything folded from a row it could not read, and a load of the read models sorts it
/// into damage (rebuild) or a store out of reach (stop).
#[derive(Clone)]
pub struct Backing {
    tree: sled::Tree,
    fault: Arc<Mutex<Option<Fault>>>,
    reads: Arc<ReadCounts>,
}

/// The fold's reads of the store: how many, and the time they took.
#[derive(Debug, Default)]
struct ReadCounts {
    reads: std::sync::atomic::AtomicU64,
    nanos: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Backing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backing")
            .field("fault", &self.fault())
            .finish()
    }
}

impl Backing {
    pub fn new(tree: sled::Tree) -> Self {
        Self {
            tree,
            fault: Arc::default(),
            reads: Arc::default(),
        }
    }

    /// The fold's reads of the store so far (a row, or an aggregate's rows, read back into
    /// memory) and the time they took, decoding included.
    pub fn reads(&self) -> (u64, std::time::Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.reads.reads.load(Relaxed),
            std::time::Duration::from_nanos(self.reads.nanos.load(Relaxed)),
        )
    }

    /// Counts one read of the fold's that began at `started`.
    fn count_read(&self, started: std::time::Instant) {
        use std::sync::atomic::Ordering::Relaxed;
        self.reads.reads.fetch_add(1, Relaxed);
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.reads.nanos.fetch_add(nanos, Relaxed);
    }

    /// The first read that failed, if one did.
    pub fn fault(&self) -> Option<Fault> {
        self.fault
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    pub(crate) fn note_fault(&self, fault: Fault) {
        tracing::error!(%fault, "a read-model row could not be read from the store");
        self.fault
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .get_or_insert(fault);
    }

    /// The stored value at `key` as it is, counted as a read of the fold's (for a table
    /// with its own encoding: the timeline's chunks).
    pub(crate) fn read_raw(&self, key: &[u8]) -> Option<sled::IVec> {
        let started = std::time::Instant::now();
        let found = self.tree.get(key).unwrap_or_else(|error| {
            self.note_fault(Fault::sled(String::from_utf8_lossy(key), error));
            None
        });
        self.count_read(started);
        found
    }

    /// The stored entries from `from` on, in key order, as they are; a read that fails
    /// ends them and is the fault.
    pub(crate) fn scan_raw(
        &self,
        from: &[u8],
    ) -> impl Iterator<Item = (sled::IVec, sled::IVec)> + use<'_> {
        let mut entries = self.tree.range(from..);
        std::iter::from_fn(move || match entries.next()? {
            Ok(entry) => Some(entry),
            Err(error) => {
                self.note_fault(Fault::sled("reading the store", error));
                None
            }
        })
    }

    /// The stored entries whose key starts with `prefix`, in key order, as they are.
    pub(crate) fn scan_prefix_raw<'a>(
        &'a self,
        prefix: &'a [u8],
    ) -> impl Iterator<Item = (sled::IVec, sled::IVec)> + use<'a> {
        self.scan_raw(prefix)
            .take_while(move |(key, _)| key.starts_with(prefix))
    }

    /// The stored row at `key`, decoded.
    fn read<V: DeserializeOwned>(&self, key: &[u8]) -> Option<V> {
        match self.tree.get(key) {
            Ok(Some(bytes)) => self.decode(key, &bytes),
            Ok(None) => None,
            Err(error) => {
                self.note_fault(Fault::sled(String::from_utf8_lossy(key), error));
                None
            }
        }
    }

    fn decode<V: DeserializeOwned>(&self, key: &[u8], bytes: &[u8]) -> Option<V> {
        rmp_serde::from_slice(bytes)
            .map_err(|error| {
                self.note_fault(Fault::undecodable(format!(
                    "{}: the stored row does not decode: {error}",
                    String::from_utf8_lossy(key)
                )));
            })
            .ok()
    }
}

/// Hashes an address (already unique): one multiplication.
#[derive(Default)]
pub(crate) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_usize(&mut self, value: usize) {
        self.0 = (value as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

/// A set of addresses.
type Addresses = HashSet<usize, BuildHasherDefault<AddressHasher>>;

/// The keys of rows changed since the last drain, once each: clones of the map's own key
/// pointers (no key is copied), told apart by the address the caller names — each is held
/// here, so no two live ones share one. (A row removed and created again between two
/// drains is listed twice; both entries write its final state.)
#[derive(Clone)]
pub(crate) struct Changed<T> {
    keys: Vec<T>,
    at: Addresses,
}

impl<T> Default for Changed<T> {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            at: Addresses::default(),
        }
    }
}

impl<T: Clone> Changed<T> {
    /// Notes that the row whose key lives at `address` changed (once per drain).
    pub(crate) fn mark(&mut self, address: usize, key: &T) {
        if self.at.insert(address) {
            self.keys.push(key.clone());
        }
    }

    /// The keys changed since the last drain, in first-touch order; forgets them.
    pub(crate) fn take(&mut self) -> Vec<T> {
        self.at.clear();
        std::mem::take(&mut self.keys)
    }

    /// Forgets every change.
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.at.clear();
    }

    /// Every key of the table, as changed.
    pub(crate) fn set_all(&mut self, keys: impl Iterator<Item = T>) {
        self.at.clear();
        self.keys = keys.collect();
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The keys changed since the last drain.
    pub(crate) fn keys(&self) -> &[T] {
        &self.keys
    }
}

/// A row held in memory: the row, or (in a backed table) its removal, not yet written.
type Slot<V> = Option<Arc<V>>;

/// The rows of one read model, with the rows changed since the last drain: every row in
/// memory, or (backed) the rows changed since the last completed write over the store.
#[derive(Clone)]
pub struct Table<K, V> {
    name: &'static str,
    rows: OrdMap<Arc<K>, Slot<V>>,
    changed: Changed<Arc<K>>,
    backing: Option<Backing>,
    /// Backed: the keys of the latest drain, whose write may not have landed yet.
    drained: Vec<Arc<K>>,
    /// Never backed: small tables that views borrow from whole.
    in_memory: bool,
    /// Backed: aggregates whose stored rows are all in memory (see
    /// [`Table::load_aggregate`]), by their stored key prefix; forgotten at each eviction.
    loaded: HashSet<Vec<u8>>,
    /// Backed: every row the store holds is in memory (nothing left memory since a fresh
    /// store or [`TrackedTable::load_whole`]), so a row not in memory is not stored either.
    complete: bool,
}

/// Notes that the row at `key` changed (once per drain).
fn mark_changed<K>(changed: &mut Changed<Arc<K>>, key: &Arc<K>) {
    changed.mark(Arc::as_ptr(key) as usize, key);
}

impl<K, V> std::fmt::Debug for Table<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.name)
            .field("resident", &self.rows.len())
            .field("changed", &self.changed.len())
            .field("backed", &self.backing.is_some())
            .finish()
    }
}

/// A row and its key as read: borrowed from memory, or decoded from the store.
pub type Read<'a, K, V> = (Cow<'a, K>, Cow<'a, V>);

/// Reading.
impl<K: TableKey, V: DeserializeOwned + Clone> Table<K, V> {
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The store to read rows from that are not in memory: none when the table is not
    /// backed, or holds every stored row in memory.
    fn store(&self) -> Option<&Backing> {
        self.backing.as_ref().filter(|_| !self.complete)
    }

    /// The row at `key`: from memory, or read from the store.
    pub fn get(&self, key: &K) -> Option<Cow<'_, V>> {
        match self.rows.get(key) {
            Some(slot) => slot.as_deref().map(Cow::Borrowed),
            None => self
                .store()
                .and_then(|backing| backing.read(&key.encode(self.name)))
                .map(Cow::Owned),
        }
    }

    /// Rows in key order within `range`.
    pub fn range<R: RangeBounds<K>>(&self, range: R) -> Rows<'_, K, V> {
        let stored = self.store().map(|backing| {
            let encode = |bound: Bound<&K>, unbounded: Bound<Vec<u8>>| match bound {
                Bound::Included(key) => Bound::Included(key.encode(self.name)),
                Bound::Excluded(key) => Bound::Excluded(key.encode(self.name)),
                Bound::Unbounded => unbounded,
            };
            let prefix = self.store_prefix();
            // The first key after every key with the prefix: its `/` raised to `0`.
            let mut beyond = prefix.clone();
            if let Some(last) = beyond.last_mut() {
                *last += 1;
            }
            let bounds = (
                encode(range.start_bound(), Bound::Included(prefix.clone())),
                encode(range.end_bound(), Bound::Excluded(beyond)),
            );
            Stored::new(
                backing,
                prefix.len(),
                backing.tree.range::<Vec<u8>, _>(bounds),
            )
            .peekable()
        });
        Rows {
            resident: self
                .rows
                .range::<_, K>((range.start_bound(), range.end_bound()))
                .peekable(),
            stored,
        }
    }

    pub fn iter(&self) -> Rows<'_, K, V> {
        self.range::<std::ops::RangeFull>(..)
    }

    /// How many rows the table has (a backed table counts its stored rows).
    pub fn len(&self) -> usize {
        if self.backing.is_some() {
            self.iter().count()
        } else {
            self.rows.len()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Reads the stored rows under `prefix` (this table's, or a part of it) into memory,
    /// as stored (not changed); a row already in memory is newer and stays.
    fn read_in(&mut self, backing: &Backing, prefix: &[u8]) {
        let stored: Vec<(K, V)> = Stored::new(
            backing,
            self.store_prefix().len(),
            backing.tree.scan_prefix(prefix),
        )
        .collect();
        for (key, row) in stored {
            if !self.rows.contains_key(&key) {
                self.rows.insert(Arc::new(key), Some(Arc::new(row)));
            }
        }
    }

    /// The key prefix of this table in the store.
    pub fn store_prefix(&self) -> Vec<u8> {
        format!("m/{}/", self.name).into_bytes()
    }
}

/// Aggregates: every slice's row of one aggregate, read together.
impl<V: Serialize + DeserializeOwned + Default + Clone> Table<RowKey, V> {
    /// The stored key prefix of the aggregate at `key`: `m/<table>/<incident>/<status>/<id>/`.
    fn aggregate_prefix(&self, key: &RowKey) -> Vec<u8> {
        format!(
            "m/{}/{}/{}/{}/",
            self.name, key.scope.incident, key.scope.status, key.id
        )
        .into_bytes()
    }

    /// Backed: brings every stored row of the aggregate at `key` (each slice's) into
    /// memory as stored (not changed), in one read of the store, so that
    /// [`Table::aggregate`] and the fold's changes to the aggregate read memory only. The
    /// fold calls it before it places an aggregate in the picture, which reads all its rows.
    pub fn load_aggregate(&mut self, key: &RowKey) {
        let Some(backing) = self.store().cloned() else {
            return;
        };
        let prefix = self.aggregate_prefix(key);
        if self.loaded.contains(&prefix) {
            return;
        }
        let started = std::time::Instant::now();
        self.read_in(&backing, &prefix);
        backing.count_read(started);
        self.loaded.insert(prefix);
    }

    /// Every slice's row of the aggregate at `key`, in key order: from memory alone once
    /// [`Table::load_aggregate`] brought them in.
    pub fn aggregate(&self, key: &RowKey) -> impl Iterator<Item = Read<'_, RowKey, V>> {
        let start = RowKey {
            scope: key.scope.clone(),
            id: key.id.clone(),
            slice: SliceId::network(),
        };
        let in_memory = self.store().is_none() || self.loaded.contains(&self.aggregate_prefix(key));
        let rows = if in_memory {
            Rows {
                resident: self.rows.range::<_, RowKey>(&start..).peekable(),
                stored: None,
            }
        } else {
            self.range(&start..)
        };
        let (scope, id) = (key.scope.clone(), key.id.clone());
        rows.take_while(move |(k, _)| k.scope == scope && k.id == id)
    }
}

/// Rows of a table in key order: those in memory merged with those in the store (a row
/// in memory stands for its stored copy; a removal in memory hides it).
pub struct Rows<'a, K: TableKey, V: DeserializeOwned> {
    resident:
        Peekable<imbl::ordmap::RangedIter<'a, Arc<K>, Slot<V>, imbl::shared_ptr::DefaultSharedPtr>>,
    stored: Option<Peekable<Stored<K, V>>>,
}

impl<K: TableKey, V: DeserializeOwned> std::fmt::Debug for Rows<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("from_store", &self.stored.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a, K: TableKey, V: DeserializeOwned + Clone> Iterator for Rows<'a, K, V> {
    type Item = Read<'a, K, V>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let order = match (
                self.resident.peek(),
                self.stored.as_mut().and_then(Peekable::peek),
            ) {
                (None, None) => return None,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((mine, _)), Some((stored, _))) => (***mine).cmp(stored),
            };
            if order == Ordering::Equal {
                // The row in memory is newer than its stored copy.
                self.stored.as_mut().and_then(Iterator::next);
            }
            if order == Ordering::Greater {
                let (key, row) = self.stored.as_mut().and_then(Iterator::next)?;
                return Some((Cow::Owned(key), Cow::Owned(row)));
            }
            let (key, slot) = self.resident.next()?;
            if let Some(row) = slot {
                return Some((Cow::Borrowed(&**key), Cow::Borrowed(&**row)));
            }
        }
    }
}

/// Rows of a table read from the store, decoded (rows that cannot be read are the
/// backing's fault, and skipped).
struct Stored<K, V> {
    backing: Backing,
    prefix_len: usize,
    iter: sled::Iter,
    rows: std::marker::PhantomData<fn() -> (K, V)>,
}

impl<K, V> Stored<K, V> {
    /// The rows `iter` reads from the store, their keys after the table's prefix of
    /// `prefix_len` bytes.
    fn new(backing: &Backing, prefix_len: usize, iter: sled::Iter) -> Self {
        Self {
            backing: backing.clone(),
            prefix_len,
            iter,
            rows: std::marker::PhantomData,
        }
    }
}

impl<K: TableKey, V: DeserializeOwned> Iterator for Stored<K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        loop {
            let (key, bytes) = match self.iter.next()? {
                Ok(entry) => entry,
                Err(error) => {
                    self.backing
                        .note_fault(Fault::sled("reading a table", error));
                    return None;
                }
            };
            let decoded = std::str::from_utf8(&key[self.prefix_len.min(key.len())..])
                .ok()
                .and_then(K::decode);
            let Some(decoded) = decoded else {
                self.backing.note_fault(Fault::undecodable(format!(
                    "{}: malformed key",
                    String::from_utf8_lossy(&key)
                )));
                continue;
            };
            if let Some(row) = self.backing.decode(&key, &bytes) {
                return Some((decoded, row));
            }
        }
    }
}

impl<K: TableKey, V: DeserializeOwned + Clone> TrackedTable for Table<K, V> {
    fn discard_changes(&mut self) {
        self.changed.clear();
    }

    fn mark_all_changed(&mut self) {
        debug_assert!(
            self.backing.is_none(),
            "a backed table is never written whole"
        );
        self.changed.set_all(self.rows.keys().cloned());
    }

    fn attach(&mut self, backing: &Backing, complete: bool) {
        if !self.in_memory {
            self.backing = Some(backing.clone());
            self.complete = complete;
        }
    }

    fn load_whole(&mut self) {
        let Some(backing) = self.store().cloned() else {
            return;
        };
        self.read_in(&backing, &self.store_prefix());
        self.complete = true;
    }

    fn evict(&mut self) {
        if self.backing.is_none() {
            return;
        }
        let mut kept = OrdMap::new();
        for key in self.changed.keys().iter().chain(&self.drained) {
            if let Some(slot) = self.rows.get(&**key) {
                kept.insert(key.clone(), slot.clone());
            }
        }
        if kept.len() < self.rows.len() {
            self.complete = false;
        }
        self.rows = kept;
        self.loaded.clear();
    }

    fn resident(&self) -> usize {
        self.rows.len()
    }

    fn changed(&self) -> usize {
        self.changed.len()
    }

    fn evictable(&self) -> usize {
        if self.backing.is_some() {
            self.rows.len()
        } else {
            0
        }
    }

    fn whole_in_memory(&self) -> Option<Vec<u8>> {
        self.in_memory.then(|| self.store_prefix())
    }

    fn verify(&self) -> usize {
        if self.backing.is_some() {
            self.iter().count()
        } else {
            0
        }
    }
}

impl<K: TableKey, V: Serialize + DeserializeOwned + Default + Clone> Table<K, V> {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            rows: OrdMap::new(),
            changed: Changed::default(),
            backing: None,
            drained: Vec::new(),
            in_memory: false,
            loaded: HashSet::new(),
            complete: false,
        }
    }

    /// A table that keeps every row in memory even where others are backed: for small
    /// tables whose rows views borrow.
    pub fn in_memory(name: &'static str) -> Self {
        Self {
            in_memory: true,
            ..Self::new(name)
        }
    }

    /// The row at `key` in memory, read into memory from the store if it is there.
    fn slot_mut(&mut self, key: &K) -> Option<(Arc<K>, &mut Slot<V>)> {
        if !self.rows.contains_key(key)
            && let Some(backing) = self.store()
        {
            let started = std::time::Instant::now();
            let row = backing.read::<V>(&key.encode(self.name));
            backing.count_read(started);
            if let Some(row) = row {
                self.rows.insert(Arc::new(key.clone()), Some(Arc::new(row)));
            }
        }
        let (stored, slot) = self.rows.get_key_value_mut(key)?;
        Some((stored.clone(), slot))
    }

    /// The row for `key`, created empty if missing, marked changed.
    pub fn row_mut(&mut self, key: K) -> &mut V {
        let stored = match self.slot_mut(&key) {
            Some((stored, _)) => stored,
            None => {
                let stored = Arc::new(key);
                self.rows.insert(stored.clone(), None);
                stored
            }
        };
        mark_changed(&mut self.changed, &stored);
        let slot = self
            .rows
            .get_mut(&stored)
            .expect("the row was just found or inserted");
        // Copies the row only if a replay checkpoint shares it.
        Arc::make_mut(slot.get_or_insert_with(Arc::default))
    }

    /// The row for `key` if it exists, marked changed.
    pub fn existing_mut(&mut self, key: &K) -> Option<&mut V> {
        let (stored, _) = self.slot_mut(key)?;
        let slot = self.rows.get_mut(key)?;
        let row = slot.as_mut()?;
        mark_changed(&mut self.changed, &stored);
        Some(Arc::make_mut(row))
    }

    /// Removes the row at `key` (in a backed table, a removal held until written).
    pub fn remove(&mut self, key: &K) {
        if self.backing.is_some() {
            let stored = Arc::new(key.clone());
            self.rows.insert(stored.clone(), None);
            mark_changed(&mut self.changed, &stored);
        } else if let Some((stored, _)) = self.rows.remove_with_key(key) {
            mark_changed(&mut self.changed, &stored);
        }
    }

    /// Appends the changes since the last drain (encoded) to `out`. Rows are encoded
    /// positionally (MessagePack arrays, no field names): a third of the bytes to encode,
    /// write and keep. So the order of a row's fields is part of the fold version.
    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        let keys = self.changed.take();
        for key in &keys {
            let encoded_key = key.encode(self.name);
            let value = self
                .rows
                .get(&**key)
                .and_then(Option::as_deref)
                .map(|row| rmp_serde::to_vec(row).expect("read-model rows always encode"));
            out.push((encoded_key, value));
        }
        if self.backing.is_some() {
            self.drained = keys;
        }
    }

    /// Loads one stored row (at start-up) into memory. The key must belong to this table.
    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        let text = std::str::from_utf8(key)
            .map_err(|_| ProjectorError::Corrupt(format!("{}: key is not UTF-8", self.name)))?;
        let rest = text
            .strip_prefix("m/")
            .and_then(|t| t.strip_prefix(self.name))
            .and_then(|t| t.strip_prefix('/'))
            .ok_or_else(|| ProjectorError::Corrupt(format!("{text}: not a {} key", self.name)))?;
        let key = K::decode(rest)
            .ok_or_else(|| ProjectorError::Corrupt(format!("{text}: malformed key")))?;
        let row = rmp_serde::from_slice(value)
            .map_err(|error| ProjectorError::Corrupt(format!("{text}: {error}")))?;
        self.rows.insert(Arc::new(key), Some(Arc::new(row)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::store::{KvStore, SledStore};

    /// Ids and incidents whose parts end where another's go on with `-` or `_`: where
    /// comparing parts and comparing their encodings could differ.
    const TOKENS: [&str; 6] = ["a", "a-b", "a_b", "ab", "b", "a-"];

    fn row_key() -> impl Strategy<Value = RowKey> {
        (
            0..TOKENS.len(),
            0..3usize,
            0..TOKENS.len(),
            prop_oneof![
                Just(SliceId::network()),
                Just(SliceId::parse("r-00000000000000aa").expect("slice"))
            ],
        )
            .prop_map(|(incident, status, id, slice)| RowKey {
                scope: Scope {
                    incident: IncidentId::new(TOKENS[incident]).expect("incident"),
                    status: [Status::Actual, Status::Exercise, Status::Test][status],
                },
                id: TOKENS[id].to_string(),
                slice,
            })
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Adds to the row, creating it.
        Add(RowKey, u64),
        /// Adds to the row if it exists.
        AddExisting(RowKey, u64),
        Remove(RowKey),
        /// Brings an aggregate's stored rows into memory.
        Load(RowKey),
        /// Brings every stored row into memory.
        LoadWhole,
        /// Drains; the drain before lands in the store (one write is always in flight).
        Write,
        Evict,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (row_key(), 1..100u64).prop_map(|(k, n)| Op::Add(k, n)),
            2 => (row_key(), 1..100u64).prop_map(|(k, n)| Op::AddExisting(k, n)),
            1 => row_key().prop_map(Op::Remove),
            2 => row_key().prop_map(Op::Load),
            1 => Just(Op::LoadWhole),
            1 => Just(Op::Write),
            1 => Just(Op::Evict),
        ]
    }

    fn rows(table: &Table<RowKey, u64>, from: Option<&RowKey>) -> Vec<(RowKey, u64)> {
        let read = |(key, row): Read<'_, RowKey, u64>| (key.into_owned(), *row);
        match from {
            Some(from) => table.range(from..).map(read).collect(),
            None => table.iter().map(read).collect(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn row_keys_order_as_their_encodings(a in row_key(), b in row_key()) {
            prop_assert_eq!(a.cmp(&b), a.encode("t").cmp(&b.encode("t")));
        }

        /// A backed table, its rows written with one write in flight and evicted as the
        /// engine does, reads as a table that keeps every row in memory.
        #[test]
        fn a_backed_table_reads_as_one_in_memory(
            ops in proptest::collection::vec(op(), 1..120),
            probes in proptest::collection::vec(row_key(), 1..6),
            fresh in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut store = SledStore::open(dir.path()).expect("sled");
            // A row of another table sorts right after this one's: it must not show.
            store
                .apply(vec![(b"m/t0".to_vec(), Some(rmp_serde::to_vec(&7u64).expect("encodes")))])
                .expect("sled");
            let mut backed: Table<RowKey, u64> = Table::new("t");
            backed.attach(&store.backing(), fresh);
            let mut whole: Table<RowKey, u64> = Table::new("t");
            let mut in_flight: Option<Vec<Change>> = None;
            for op in ops {
                match op {
                    Op::Add(key, n) => {
                        *backed.row_mut(key.clone()) += n;
                        *whole.row_mut(key) += n;
                    }
                    Op::AddExisting(key, n) => {
                        let a = backed.existing_mut(&key).map(|row| { *row += n; *row });
                        let b = whole.existing_mut(&key).map(|row| { *row += n; *row });
                        prop_assert_eq!(a, b);
                    }
                    Op::Remove(key) => {
                        backed.remove(&key);
                        whole.remove(&key);
                    }
                    Op::Write => {
                        let mut changes = Vec::new();
                        backed.drain_changes(&mut changes);
                        if let Some(landed) = in_flight.replace(changes) {
                            store.apply(landed).expect("sled");
                        }
                        whole.discard_changes();
                    }
                    Op::Load(key) => {
                        backed.load_aggregate(&key);
                        whole.load_aggregate(&key);
                    }
                    Op::LoadWhole => backed.load_whole(),
                    Op::Evict => backed.evict(),
                }
                prop_assert_eq!(rows(&backed, None), rows(&whole, None));
                for probe in &probes {
                    prop_assert_eq!(backed.get(probe).map(|row| *row), whole.get(probe).map(|row| *row));
                    prop_assert_eq!(rows(&backed, Some(probe)), rows(&whole, Some(probe)));
                    let aggregate = |table: &Table<RowKey, u64>| -> Vec<(RowKey, u64)> {
                        table.aggregate(probe).map(|(k, row)| (k.into_owned(), *row)).collect()
                    };
                    prop_assert_eq!(aggregate(&backed), aggregate(&whole));
                }
            }
            prop_assert_eq!(backed.backing.as_ref().and_then(Backing::fault), None);
            // Once everything landed, the store holds exactly the rows.
            let mut changes = Vec::new();
            backed.drain_changes(&mut changes);
            store.apply(in_flight.take().unwrap_or_default()).expect("sled");
            store.apply(changes).expect("sled");
            // An empty drain: no write of the table's is in flight any more.
            backed.drain_changes(&mut Vec::new());
            backed.evict();
            prop_assert_eq!(backed.resident(), 0);
            prop_assert_eq!(rows(&backed, None), rows(&whole, None));
        }
    }

    #[test]
    fn a_row_that_does_not_decode_is_the_backings_fault() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SledStore::open(dir.path()).expect("sled");
        let mut table: Table<RowKey, u64> = Table::new("t");
        table.attach(&store.backing(), false);
        let key = RowKey {
            scope: Scope {
                incident: IncidentId::new("a").expect("incident"),
                status: Status::Actual,
            },
            id: "x".to_string(),
            slice: SliceId::network(),
        };
        store
            .apply(vec![(key.encode("t"), Some(b"\xc1".to_vec()))])
            .expect("sled");
        assert_eq!(table.get(&key), None);
        let fault = table
            .backing
            .as_ref()
            .and_then(Backing::fault)
            .expect("a fault");
        let text = fault.to_string();
        assert!(
            text.contains("m/t/a/actual/x/net") && text.contains("does not decode"),
            "{text}"
        );
        assert!(fault.is_damage(), "bytes that do not decode are damage");
    }
}
