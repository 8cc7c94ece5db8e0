//! Timeline indexes. The timeline itself is served from the log by sequence; this keeps
//! only which sequences belong to which scope and audience slice, in chunks of 4,096
//! sequences (`m/timeline/<incident>/<status>/<slice>/<chunk>` → the sequences), so a
//! viewer's timeline is the merge of the slices it may see. Filters by organisation and
//! aggregate use the log's subjects; by kind, the decoded events.

use serde::{Deserialize, Serialize};

use crate::error::ProjectorError;
use crate::store::Change;
use crate::table::{RowKey, Scope, Table, TableKey};
use crate::visibility::SliceId;

/// Sequences per chunk (a power of two).
pub const CHUNK_SHIFT: u32 = 12;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimelineKey {
    pub scope: Scope,
    pub slice: SliceId,
    pub chunk: u64,
}

impl TableKey for TimelineKey {
    fn encode(&self, table: &str) -> Vec<u8> {
        format!(
            "m/{table}/{}/{}/{}/{:012x}",
            self.scope.incident, self.scope.status, self.slice, self.chunk
        )
        .into_bytes()
    }
    fn decode(rest: &str) -> Option<Self> {
        let mut parts = rest.split('/');
        let incident = proto_events::IncidentId::new(parts.next()?).ok()?;
        let status = parts.next()?.parse().ok()?;
        let slice = SliceId::parse(parts.next()?)?;
        let chunk = u64::from_str_radix(parts.next()?, 16).ok()?;
        parts.next().is_none().then_some(TimelineKey {
            scope: Scope { incident, status },
            slice,
            chunk,
        })
    }
}

/// The sequences of one chunk, ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Postings(pub Vec<u64>);

#[derive(Debug, Clone)]
pub struct Timeline {
    pub table: Table<TimelineKey, Postings>,
}

impl Default for Timeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Timeline {
    pub fn new() -> Self {
        Self {
            table: Table::new("timeline"),
        }
    }

    /// Notes that event `seq` belongs to `key`'s scope and slice.
    pub fn record(&mut self, key: &RowKey, seq: u64) {
        let chunk_key = TimelineKey {
            scope: key.scope.clone(),
            slice: key.slice.clone(),
            chunk: seq >> CHUNK_SHIFT,
        };
        let postings = &mut self.table.row_mut(chunk_key).0;
        if postings.last().is_none_or(|last| *last < seq) {
            postings.push(seq);
        }
    }

    /// Up to `limit` sequences below `before` (exclusive), newest first, over the slices
    /// `visible` admits.
    pub fn latest(
        &self,
        scope: &Scope,
        visible: impl Fn(&SliceId) -> bool,
        before: u64,
        limit: usize,
    ) -> Vec<u64> {
        let mut seqs: Vec<u64> = self
            .table
            .iter()
            .filter(|(key, _)| key.scope == *scope && visible(&key.slice))
            .filter(|(key, _)| (key.chunk << CHUNK_SHIFT) < before)
            .flat_map(|(_, postings)| postings.0.iter().copied().filter(|seq| *seq < before))
            .collect();
        seqs.sort_unstable_by(|a, b| b.cmp(a));
        seqs.truncate(limit);
        seqs
    }

    /// Every sequence after `after` (exclusive) over the visible slices, ascending.
    pub fn after(&self, scope: &Scope, visible: impl Fn(&SliceId) -> bool, after: u64) -> Vec<u64> {
        let mut seqs: Vec<u64> = self
            .table
            .iter()
            .filter(|(key, _)| key.scope == *scope && visible(&key.slice))
            .filter(|(key, _)| ((key.chunk + 1) << CHUNK_SHIFT) > after)
            .flat_map(|(_, postings)| postings.0.iter().copied().filter(|seq| *seq > after))
            .collect();
        seqs.sort_unstable();
        seqs
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
