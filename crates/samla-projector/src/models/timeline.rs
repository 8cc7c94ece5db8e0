//! Timeline indexes. The timeline itself is served from the log by sequence; this keeps
//! only which sequences belong where, in chunks of 4,096 sequences:
//! `m/timeline/<incident>/<status>/<slice>/<facet>/<chunk>` → the sequences, where the
//! facet is `all`, `o.<org>` (emitter), `k.<kind>` or `a.<type>.<id>` (aggregate). A
//! viewer's timeline is the merge of the slices it may see, in one facet. The time index
//! `m/timeline_time/<chunk>` keeps the first and last `recorded_at` of each chunk, so a
//! time maps to a sequence range without reading the log.

use serde::{Deserialize, Serialize};

use crate::error::ProjectorError;
use crate::store::Change;
use crate::table::{RowKey, Scope, Table, TableKey, TrackedTable};
use crate::visibility::SliceId;
use proto_events::{Envelope, Timestamp};

/// Sequences per chunk (a power of two).
pub const CHUNK_SHIFT: u32 = 12;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimelineKey {
    pub scope: Scope,
    pub slice: SliceId,
    pub facet: String,
    pub chunk: u64,
}

impl TableKey for TimelineKey {
    fn encode(&self, table: &str) -> Vec<u8> {
        format!(
            "m/{table}/{}/{}/{}/{}/{:012x}",
            self.scope.incident, self.scope.status, self.slice, self.facet, self.chunk
        )
        .into_bytes()
    }
    fn decode(rest: &str) -> Option<Self> {
        let mut parts = rest.split('/');
        let incident = proto_events::IncidentId::new(parts.next()?).ok()?;
        let status = parts.next()?.parse().ok()?;
        let slice = SliceId::parse(parts.next()?)?;
        let facet = parts.next()?.to_string();
        let chunk = u64::from_str_radix(parts.next()?, 16).ok()?;
        parts.next().is_none().then_some(TimelineKey {
            scope: Scope { incident, status },
            slice,
            facet,
            chunk,
        })
    }
}

/// The sequences of one chunk, ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Postings(pub Vec<u64>);

/// The first and last event of one chunk of the log, with their `recorded_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub first_seq: u64,
    pub first_recorded_at: Option<Timestamp>,
    pub last_seq: u64,
    pub last_recorded_at: Option<Timestamp>,
}

/// `m/timeline_time/<chunk>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChunkKey(pub u64);

impl TableKey for ChunkKey {
    fn encode(&self, table: &str) -> Vec<u8> {
        format!("m/{table}/{:012x}", self.0).into_bytes()
    }
    fn decode(rest: &str) -> Option<Self> {
        u64::from_str_radix(rest, 16).ok().map(ChunkKey)
    }
}

/// The facet of the whole timeline.
pub const ALL: &str = "all";

/// The facets an event is indexed under.
pub fn facets(envelope: &Envelope) -> [String; 4] {
    [
        ALL.to_string(),
        format!("o.{}", envelope.org),
        format!("k.{}", envelope.kind()),
        format!("a.{}.{}", envelope.aggregate.kind, envelope.aggregate.id),
    ]
}

#[derive(Debug, Clone)]
pub struct Timeline {
    pub table: Table<TimelineKey, Postings>,
    pub times: Table<ChunkKey, TimeRange>,
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
            times: Table::new("timeline_time"),
        }
    }

    /// Notes that event `seq` belongs to `key`'s scope and slice, under each facet.
    pub fn record(&mut self, key: &RowKey, seq: u64, recorded_at: Timestamp, envelope: &Envelope) {
        for facet in facets(envelope) {
            let chunk_key = TimelineKey {
                scope: key.scope.clone(),
                slice: key.slice.clone(),
                facet,
                chunk: seq >> CHUNK_SHIFT,
            };
            let postings = &mut self.table.row_mut(chunk_key).0;
            if postings.last().is_none_or(|last| *last < seq) {
                postings.push(seq);
            }
        }
        let range = self.times.row_mut(ChunkKey(seq >> CHUNK_SHIFT));
        if range.first_recorded_at.is_none() {
            range.first_seq = seq;
            range.first_recorded_at = Some(recorded_at);
        }
        range.last_seq = seq;
        range.last_recorded_at = Some(recorded_at);
    }

    /// Up to `limit` sequences below `before` (exclusive), newest first, in one facet, over
    /// the slices `visible` admits.
    pub fn latest(
        &self,
        scope: &Scope,
        facet: &str,
        visible: impl Fn(&SliceId) -> bool,
        before: u64,
        limit: usize,
    ) -> Vec<u64> {
        let mut seqs: Vec<u64> = self
            .table
            .iter()
            .filter(|(key, _)| key.scope == *scope && key.facet == facet && visible(&key.slice))
            .filter(|(key, _)| (key.chunk << CHUNK_SHIFT) < before)
            .flat_map(|(_, postings)| postings.0.iter().copied().filter(|seq| *seq < before))
            .collect();
        seqs.sort_unstable_by(|a, b| b.cmp(a));
        seqs.truncate(limit);
        seqs
    }

    /// Every sequence after `after` (exclusive) in the whole timeline over the visible
    /// slices, ascending.
    pub fn after(&self, scope: &Scope, visible: impl Fn(&SliceId) -> bool, after: u64) -> Vec<u64> {
        let mut seqs: Vec<u64> = self
            .table
            .iter()
            .filter(|(key, _)| key.scope == *scope && key.facet == ALL && visible(&key.slice))
            .filter(|(key, _)| ((key.chunk + 1) << CHUNK_SHIFT) > after)
            .flat_map(|(_, postings)| postings.0.iter().copied().filter(|seq| *seq > after))
            .collect();
        seqs.sort_unstable();
        seqs
    }

    /// The chunks whose events were recorded at or before `at`: a time's place in the log,
    /// to the chunk, without reading it.
    pub fn last_chunk_recorded_by(&self, at: Timestamp) -> Option<&TimeRange> {
        self.times
            .iter()
            .map(|(_, range)| range)
            .take_while(|range| range.first_recorded_at.is_some_and(|first| first <= at))
            .last()
    }

    /// Every table, for change tracking.
    pub fn tables_mut(&mut self) -> [&mut dyn TrackedTable; 2] {
        [&mut self.table, &mut self.times]
    }

    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        self.table.drain_changes(out);
        self.times.drain_changes(out);
    }

    pub fn owns(&self, table: &str) -> bool {
        table == self.table.name() || table == self.times.name()
    }

    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        let text = std::str::from_utf8(key).unwrap_or_default();
        if text.starts_with("m/timeline_time/") {
            self.times.load(key, value)
        } else {
            self.table.load(key, value)
        }
    }
}
