//! Quarantine: every event that reached the log but cannot be used — undecodable, an
//! unknown kind or newer version, invalid, subject and envelope disagreeing, personal data
//! that slipped past an older guard, a correction pointing nowhere — with its sequence and
//! the reason. The fold goes on; nothing is dropped silently.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ProjectorError;
use crate::store::Change;
use crate::table::{Table, TableKey, TrackedTable};

/// One quarantined event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineRow {
    pub seq: u64,
    /// RFC 3339.
    pub recorded_at: String,
    pub subject: String,
    /// A stable code: `malformed`, `too_large`, `unknown_kind`, `unsupported_version`,
    /// `invalid`, `personal_data`, `subject_mismatch`, `bad_supersedes`.
    pub code: String,
    /// The field at fault, if one is.
    pub field: String,
    pub reason: String,
    /// The event id, when it could be read.
    pub event_id: Option<String>,
}

/// `m/quarantine/<seq as 16 hex digits>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct QuarantineKey(pub u64);

impl TableKey for QuarantineKey {
    fn encode(&self, table: &str) -> Vec<u8> {
        format!("m/{table}/{:016x}", self.0).into_bytes()
    }
    fn decode(rest: &str) -> Option<Self> {
        u64::from_str_radix(rest, 16).ok().map(QuarantineKey)
    }
}

#[derive(Debug, Clone)]
pub struct Quarantine {
    pub table: Table<QuarantineKey, QuarantineRow>,
}

impl Default for Quarantine {
    fn default() -> Self {
        Self::new()
    }
}

impl Quarantine {
    pub fn new() -> Self {
        Self {
            table: Table::in_memory("quarantine"),
        }
    }

    pub fn add(&mut self, row: QuarantineRow) {
        let key = QuarantineKey(row.seq);
        *self.table.row_mut(key) = row;
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn rows(&self) -> impl Iterator<Item = Cow<'_, QuarantineRow>> {
        self.table.iter().map(|(_, row)| row)
    }

    /// Every table, for change tracking.
    pub fn tables_mut(&mut self) -> [&mut dyn TrackedTable; 1] {
        [&mut self.table]
    }

    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        self.table.drain_changes(out);
    }

    pub fn owns(&self, table: &str) -> bool {
        table == self.table.name()
    }

    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        self.table.load(key, value)
    }
}
