//! In-memory tables of read-model rows with change tracking: folds mutate rows in memory;
//! after each batch the engine drains the changed rows and writes them in one atomic
//! store batch (coalescing many events on one aggregate into one write).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

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

/// The rows of one read model, kept in memory, with the set of rows changed since the
/// last drain.
#[derive(Debug, Clone)]
pub struct Table<K, V> {
    name: &'static str,
    rows: BTreeMap<K, V>,
    changed: BTreeSet<K>,
}

impl<K: TableKey, V: Serialize + DeserializeOwned + Default> Table<K, V> {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            rows: BTreeMap::new(),
            changed: BTreeSet::new(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The row for `key`, created empty if missing, marked changed.
    pub fn row_mut(&mut self, key: K) -> &mut V {
        // Between two writes most rows are touched many times: clone the key only the
        // first time.
        if !self.changed.contains(&key) {
            self.changed.insert(key.clone());
        }
        self.rows.entry(key).or_default()
    }

    /// The row for `key` if it exists, marked changed.
    pub fn existing_mut(&mut self, key: &K) -> Option<&mut V> {
        let row = self.rows.get_mut(key)?;
        if !self.changed.contains(key) {
            self.changed.insert(key.clone());
        }
        Some(row)
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.rows.get(key)
    }

    pub fn remove(&mut self, key: &K) {
        if self.rows.remove(key).is_some() {
            self.changed.insert(key.clone());
        }
    }

    /// Rows in key order within `range`.
    pub fn range<R: std::ops::RangeBounds<K>>(&self, range: R) -> impl Iterator<Item = (&K, &V)> {
        self.rows.range(range)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.rows.iter()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Appends the changes since the last drain (encoded) to `out`. Rows are encoded
    /// positionally (MessagePack arrays, no field names): a third of the bytes to encode,
    /// write and keep. So the order of a row's fields is part of the fold version.
    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        for key in std::mem::take(&mut self.changed) {
            let encoded_key = key.encode(self.name);
            let value = self
                .rows
                .get(&key)
                .map(|row| rmp_serde::to_vec(row).expect("read-model rows always encode"));
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
        self.rows.insert(key, row);
        Ok(())
    }

    /// The key prefix of this table in the store.
    pub fn store_prefix(&self) -> Vec<u8> {
        format!("m/{}/", self.name).into_bytes()
    }
}
