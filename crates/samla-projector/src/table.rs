//! In-memory tables of read-model rows with change tracking: folds mutate rows in memory;
//! after each batch the engine drains the changed rows and writes them in one atomic
//! store batch (coalescing many events on one aggregate into one write).
//!
//! Rows live in a persistent map ([`imbl::OrdMap`], a B-tree whose nodes are shared
//! between clones), each key and row behind an [`Arc`]: cloning a table is O(1), and after
//! a clone a write copies only the path to the row it changes (up to 16 key and row
//! pointers a node) and the row itself. Replay keeps many checkpoints of the whole state this way
//! (see [`crate::replay`]); the live engine never clones, so each node and row has one
//! owner and is changed in place.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use imbl::OrdMap;

use proto_events::{IncidentId, Status};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ProjectorError;
use crate::store::Change;
use crate::visibility::SliceId;

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

/// A table key: encodes to `m/<table>/<…>` and back.
pub trait TableKey: Ord + Clone {
    fn encode(&self, table: &str) -> Vec<u8>;
    /// Decodes the part after `m/<table>/`.
    fn decode(rest: &str) -> Option<Self>;
}

/// The key of one aggregate's row in one slice: `m/<table>/<incident>/<status>/<id>/<slice>`.
/// All slices of one aggregate sort together, so a viewer's merge reads them in one run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    pub scope: Scope,
    pub id: String,
    pub slice: SliceId,
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
/// forget changes it will never write, or to write a table whole.
pub trait TrackedTable {
    /// Forgets which rows changed since the last drain (a replay keeps no store).
    fn discard_changes(&mut self);
    /// Marks every row changed, so the next drain encodes the whole table.
    fn mark_all_changed(&mut self);
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
}

/// The rows of one read model, kept in memory, with the rows changed since the last
/// drain.
#[derive(Clone)]
pub struct Table<K, V> {
    name: &'static str,
    rows: OrdMap<Arc<K>, Arc<V>>,
    changed: Changed<Arc<K>>,
}

/// Notes that the row at `key` changed (once per drain).
fn mark_changed<K>(changed: &mut Changed<Arc<K>>, key: &Arc<K>) {
    changed.mark(Arc::as_ptr(key) as usize, key);
}

impl<K, V> std::fmt::Debug for Table<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.name)
            .field("rows", &self.rows.len())
            .field("changed", &self.changed.len())
            .finish()
    }
}

/// Reading.
impl<K: TableKey, V> Table<K, V> {
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.rows.get(key).map(|row| &**row)
    }

    /// Rows in key order within `range`.
    pub fn range<R: std::ops::RangeBounds<K>>(&self, range: R) -> impl Iterator<Item = (&K, &V)> {
        self.rows.range(range).map(|(key, row)| (&**key, &**row))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.rows.iter().map(|(key, row)| (&**key, &**row))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl<K: TableKey, V: Clone> TrackedTable for Table<K, V> {
    fn discard_changes(&mut self) {
        self.changed.clear();
    }

    fn mark_all_changed(&mut self) {
        self.changed.set_all(self.rows.keys().cloned());
    }
}

impl<K: TableKey, V: Serialize + DeserializeOwned + Default + Clone> Table<K, V> {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            rows: OrdMap::new(),
            changed: Changed::default(),
        }
    }

    /// The row for `key`, created empty if missing, marked changed.
    pub fn row_mut(&mut self, key: K) -> &mut V {
        let stored = match self.rows.get_key_value(&key) {
            Some((stored, _)) => stored.clone(),
            None => {
                let stored = Arc::new(key);
                self.rows.insert(stored.clone(), Arc::default());
                stored
            }
        };
        mark_changed(&mut self.changed, &stored);
        let row = self
            .rows
            .get_mut(&stored)
            .expect("the row was just found or inserted");
        // Copies the row only if a replay checkpoint shares it.
        Arc::make_mut(row)
    }

    /// The row for `key` if it exists, marked changed.
    pub fn existing_mut(&mut self, key: &K) -> Option<&mut V> {
        let (stored, row) = self.rows.get_key_value_mut(key)?;
        mark_changed(&mut self.changed, stored);
        Some(Arc::make_mut(row))
    }

    pub fn remove(&mut self, key: &K) {
        if let Some((stored, _)) = self.rows.remove_with_key(key) {
            mark_changed(&mut self.changed, &stored);
        }
    }

    /// Appends the changes since the last drain (encoded) to `out`. Rows are encoded
    /// positionally (MessagePack arrays, no field names): a third of the bytes to encode,
    /// write and keep. So the order of a row's fields is part of the fold version.
    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        for key in self.changed.take() {
            let encoded_key = key.encode(self.name);
            let value = self
                .rows
                .get(&*key)
                .map(|row| rmp_serde::to_vec(&**row).expect("read-model rows always encode"));
            out.push((encoded_key, value));
        }
    }

    /// Loads one stored row (at start-up). The key must belong to this table.
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
        self.rows.insert(Arc::new(key), Arc::new(row));
        Ok(())
    }

    /// The key prefix of this table in the store.
    pub fn store_prefix(&self) -> Vec<u8> {
        format!("m/{}/", self.name).into_bytes()
    }
}
