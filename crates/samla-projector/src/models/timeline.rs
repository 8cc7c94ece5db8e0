//! Timeline indexes. The timeline itself is served from the log by sequence; this keeps
//! only which sequences belong where, in chunks:
//! `m/timeline/<incident>/<status>/<slice>/<facet>/<chunk>` → the sequences, where the
//! facet is `all`, `o.<org>` (emitter) or `k.<kind>`. A viewer's timeline is the merge of
//! the slices it may see, in one facet. A chunk holds the sequences of one range of 4,096
//! (`<chunk>` is the sequence shifted right by 12). The time index
//! `m/timeline_time/<chunk>` keeps the first and last `recorded_at` of each 4,096
//! sequences of the log, so a time maps to a sequence range without reading the log.
//!
//! There is no facet per aggregate: the log's subjects already name the aggregate
//! (`samla.evt.<incident>.<org>.<type>.<id>`), so JetStream indexes an aggregate's events
//! itself. The projector's copy (fold version 4) was read by nothing and cost a fifth of
//! the fold and over half of the timeline's keys.
//!
//! Every event lands in three chunks, so recording must be cheap. The appends of a batch
//! wait in a small map by chunk key, and [`Timeline::settle`] (the end of every batch)
//! adds them to the chunks: most of a batch's events fall into few chunks, so each is
//! looked up once a batch, not once an event (a lookup in the ordered map compares long
//! keys that share their scope and slice). A chunk keeps its sequences as they are stored
//! (ascending, delta-encoded varints: one or two bytes a sequence instead of eight), so
//! appending is a push and writing a chunk is a copy — nothing is encoded twice.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::{Bound, Deref, RangeInclusive};
use std::sync::Arc;

use imbl::OrdMap;

use crate::error::ProjectorError;
use crate::store::Change;
use crate::table::{Backing, Changed, Fault, RowKey, Scope, Table, TableKey, TrackedTable};
use crate::visibility::SliceId;
use proto_events::{Envelope, Timestamp};

/// Sequences per range of the chunks and of the time index (a power of two).
pub const CHUNK_SHIFT: u32 = 12;

/// The prefix of every chunk's stored key.
const CHUNK_PREFIX: &str = "m/timeline/";

/// The prefix of the time index's stored keys (`m/timeline_time/<range>`).
const TIMES_PREFIX: &str = "m/timeline_time/";

/// The key of one chunk: its stored form (`m/timeline/<incident>/<status>/<slice>/<facet>/
/// <chunk as 12 hex digits>`), which orders chunks as the store does, and its scope.
/// Shared behind an [`Arc`], so a replay checkpoint's copy of a map node copies pointers.
#[derive(Clone)]
pub struct TimelineKey(Arc<KeyParts>);

/// What a [`TimelineKey`] holds.
#[derive(Debug, PartialEq, Eq)]
pub struct KeyParts {
    pub scope: Scope,
    encoded: Box<str>,
}

impl Deref for TimelineKey {
    type Target = KeyParts;
    fn deref(&self) -> &KeyParts {
        &self.0
    }
}

impl std::fmt::Debug for TimelineKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.encoded)
    }
}

// Equality and order are the stored key's alone (the scope is part of it), so a chunk can
// be looked up by a borrowed `str`.
impl PartialEq for TimelineKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.encoded == other.0.encoded
    }
}
impl Eq for TimelineKey {}
impl PartialOrd for TimelineKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for TimelineKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.encoded.cmp(&other.0.encoded)
    }
}
impl Borrow<str> for TimelineKey {
    fn borrow(&self) -> &str {
        &self.0.encoded
    }
}

impl KeyParts {
    /// The stored key.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// The slice, facet and chunk (a range of sequences shifted right by [`CHUNK_SHIFT`]),
    /// read from the stored key.
    fn slice_facet_chunk(&self) -> (&str, &str, u64) {
        let mut parts = self.encoded[CHUNK_PREFIX.len()..].split('/').skip(2);
        let slice = parts.next().unwrap_or_default();
        let facet = parts.next().unwrap_or_default();
        let chunk = parts
            .next()
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .unwrap_or_default();
        (slice, facet, chunk)
    }

    pub fn slice(&self) -> &str {
        self.slice_facet_chunk().0
    }

    pub fn facet(&self) -> &str {
        self.slice_facet_chunk().1
    }

    pub fn chunk(&self) -> u64 {
        self.slice_facet_chunk().2
    }
}

impl TimelineKey {
    /// Reads a stored chunk key back (`None` when it is not one).
    fn parse(encoded: &str) -> Option<Self> {
        let mut parts = encoded.strip_prefix(CHUNK_PREFIX)?.split('/');
        let incident = proto_events::IncidentId::new(parts.next()?).ok()?;
        let status = parts.next()?.parse().ok()?;
        SliceId::parse(parts.next()?)?;
        let facet = parts.next()?;
        let chunk = parts.next()?;
        let valid = !facet.is_empty()
            && chunk.len() == 12
            && u64::from_str_radix(chunk, 16).is_ok()
            && parts.next().is_none();
        valid.then(|| {
            TimelineKey(Arc::new(KeyParts {
                scope: Scope { incident, status },
                encoded: encoded.into(),
            }))
        })
    }
}

/// The sequences of one chunk, ascending, as stored: the first as an unsigned LEB128
/// varint, each next one as its (positive) difference from the one before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Postings {
    bytes: Vec<u8>,
    last: u64,
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// One varint from the front of `bytes`: its value and the rest.
fn take_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (index, byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[index + 1..]));
        }
    }
    None
}

impl Postings {
    /// Appends `seq` if it is above every sequence held (an event folded out of order, in
    /// an "as happened" replay, is not indexed again).
    pub fn push(&mut self, seq: u64) {
        if self.bytes.is_empty() {
            put_varint(&mut self.bytes, seq);
        } else if self.last < seq {
            put_varint(&mut self.bytes, seq - self.last);
        } else {
            return;
        }
        self.last = seq;
    }

    /// The first and last sequence held.
    pub fn span(&self) -> Option<(u64, u64)> {
        take_varint(&self.bytes).map(|(first, _)| (first, self.last))
    }

    /// The sequences, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let mut rest = self.bytes.as_slice();
        let mut previous = 0u64;
        std::iter::from_fn(move || {
            let (delta, tail) = take_varint(rest)?;
            rest = tail;
            previous += delta;
            Some(previous)
        })
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The stored value: a MessagePack `bin` holding the varints.
    fn stored(&self) -> Vec<u8> {
        let length = self.bytes.len();
        let mut out = Vec::with_capacity(length + 5);
        if let Ok(short) = u8::try_from(length) {
            out.extend_from_slice(&[0xc4, short]);
        } else if let Ok(medium) = u16::try_from(length) {
            out.push(0xc5);
            out.extend_from_slice(&medium.to_be_bytes());
        } else {
            out.push(0xc6);
            // A chunk holds at most 4,096 sequences of at most 10 bytes each.
            out.extend_from_slice(&(length as u32).to_be_bytes());
        }
        out.extend_from_slice(&self.bytes);
        out
    }

    /// Reads a stored value back; `None` unless it is a `bin` of ascending varints.
    fn from_stored(value: &[u8]) -> Option<Self> {
        let (&marker, rest) = value.split_first()?;
        let (length, body) = match marker {
            0xc4 => (usize::from(*rest.first()?), rest.get(1..)?),
            0xc5 => (
                usize::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?)),
                rest.get(2..)?,
            ),
            0xc6 => (
                u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize,
                rest.get(4..)?,
            ),
            _ => return None,
        };
        if body.len() != length {
            return None;
        }
        let mut postings = Postings::default();
        let mut remaining = body;
        let mut first = true;
        while !remaining.is_empty() {
            let (delta, tail) = take_varint(remaining)?;
            if !first && delta == 0 {
                return None;
            }
            postings.push(postings.last.checked_add(delta)?);
            first = false;
            remaining = tail;
        }
        Some(postings)
    }
}

/// The timeline's chunks, with the ones appended to since the last drain.
///
/// Backed by the store (as the engine keeps them), only some chunks stay in memory: those
/// appended to since the last completed write, and those of the newest range of sequences,
/// which the fold goes on appending to. A chunk of an older range is complete once the
/// fold has passed it (it folds in log order), so it leaves memory at the next eviction and
/// is read back from the store when a view reads it. Without this, the chunks grew with
/// the log: 29 MiB at 1,000,000 events, every one of them in memory for as long as the
/// projector ran.
#[derive(Clone, Default)]
pub struct Chunks {
    rows: OrdMap<TimelineKey, Arc<Postings>>,
    /// Keys appended to since the last drain, once each.
    changed: Changed<TimelineKey>,
    /// The store behind the chunks not in memory, once backed.
    backing: Option<Backing>,
    /// Backed: the keys of the latest drain, whose write may still be in flight; they stay
    /// in memory until the next eviction after it.
    drained: Vec<TimelineKey>,
    /// Backed: every chunk the store holds that memory may not is of a range below this
    /// one (0: the store holds none that memory does not, so it is not read).
    stored_below: u64,
    /// The newest range appended to.
    newest: u64,
}

impl std::fmt::Debug for Chunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunks")
            .field("rows", &self.rows.len())
            .field("changed", &self.changed.len())
            .field("stored_below", &self.stored_below)
            .finish()
    }
}

/// The range of sequences of the chunk stored under `encoded` (its last 12 hex digits).
fn range_of(encoded: &str) -> u64 {
    encoded
        .rsplit('/')
        .next()
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .unwrap_or_default()
}

impl Chunks {
    /// Every chunk in memory, in key order: all of them unless the chunks are backed.
    pub fn iter(&self) -> impl Iterator<Item = (&TimelineKey, &Postings)> {
        self.rows.iter().map(|(key, postings)| (key, &**postings))
    }

    /// The store, when it may hold chunks that memory does not.
    fn store(&self) -> Option<&Backing> {
        self.backing.as_ref().filter(|_| self.stored_below > 0)
    }

    /// The first chunk key at or after `from`, in memory or in the store.
    fn first_key_from(&self, from: &str) -> Option<String> {
        let resident = self
            .rows
            .range::<_, str>((Bound::Included(from), Bound::Unbounded))
            .next()
            .map(|(key, _)| key.encoded.to_string());
        let stored = self.store().and_then(|backing| {
            let (key, _) = backing.scan_raw(from.as_bytes()).next()?;
            Some(String::from_utf8_lossy(&key).into_owned())
        });
        match (resident, stored) {
            (Some(resident), Some(stored)) => Some(resident.min(stored)),
            (resident, stored) => resident.or(stored),
        }
    }

    /// The chunks of the ranges `ranges` under `prefix` (a slice's facet: `…/<facet>/`):
    /// those in memory, then those read from the store that memory does not hold. Only
    /// those ranges are read, so a query's cost follows the ranges it needs, not the log.
    fn in_ranges(&self, prefix: &str, ranges: RangeInclusive<u64>) -> Vec<Arc<Postings>> {
        let start = format!("{prefix}{:012x}", ranges.start());
        let wanted = |key: &str| key.starts_with(prefix) && range_of(key) <= *ranges.end();
        let mut found: Vec<Arc<Postings>> = self
            .rows
            .range::<_, str>((Bound::Included(start.as_str()), Bound::Unbounded))
            .take_while(|(key, _)| wanted(&key.encoded))
            .map(|(_, postings)| postings.clone())
            .collect();
        if let Some(backing) = self.store() {
            for (key, value) in backing.scan_raw(start.as_bytes()) {
                let text = String::from_utf8_lossy(&key);
                if !wanted(&text) {
                    break;
                }
                if !self.rows.contains_key(&*text) {
                    found.extend(Self::decode_stored(backing, &text, &value).map(Arc::new));
                }
            }
        }
        found
    }

    /// A stored chunk read back (one that does not decode is the backing's fault).
    fn decode_stored(backing: &Backing, key: &str, value: &[u8]) -> Option<Postings> {
        let postings = Postings::from_stored(value);
        if postings.is_none() {
            backing.note_fault(Fault::undecodable(format!("{key}: malformed postings")));
        }
        postings
    }

    /// The chunk stored under `encoded`, in memory or read from the store.
    pub fn get(&self, encoded: &str) -> Option<Arc<Postings>> {
        if let Some(postings) = self.rows.get(encoded) {
            return Some(postings.clone());
        }
        let backing = self.store()?;
        let value = backing.read_raw(encoded.as_bytes())?;
        Self::decode_stored(backing, encoded, &value).map(Arc::new)
    }

    /// Chunks in memory.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn mark_changed(changed: &mut Changed<TimelineKey>, key: &TimelineKey) {
        changed.mark(Arc::as_ptr(&key.0) as usize, key);
    }

    /// Appends `seqs` (ascending, as folded) to the chunk stored under `encoded` (in
    /// `scope`, of range `range`), reading it from the store if it left memory, or
    /// creating it.
    fn append(&mut self, encoded: &str, scope: &Scope, range: u64, seqs: &[u64]) {
        self.newest = self.newest.max(range);
        if let Some((key, postings)) = self.rows.get_key_value_mut(encoded) {
            Self::mark_changed(&mut self.changed, key);
            // Copies the chunk only if a replay checkpoint shares it.
            let postings = Arc::make_mut(postings);
            for seq in seqs {
                postings.push(*seq);
            }
            return;
        }
        let key = TimelineKey(Arc::new(KeyParts {
            scope: scope.clone(),
            encoded: encoded.into(),
        }));
        // Only a chunk of a range below `stored_below` can be in the store and not here:
        // a fold in log order reads nothing here.
        let mut postings = match self.store() {
            Some(backing) if range < self.stored_below => backing
                .read_raw(encoded.as_bytes())
                .and_then(|value| Self::decode_stored(backing, encoded, &value))
                .unwrap_or_default(),
            _ => Postings::default(),
        };
        for seq in seqs {
            postings.push(*seq);
        }
        Self::mark_changed(&mut self.changed, &key);
        self.rows.insert(key, Arc::new(postings));
    }

    fn drain_changes(&mut self, out: &mut Vec<Change>) {
        let keys = self.changed.take();
        for key in &keys {
            let value = self.rows.get(key).map(|postings| postings.stored());
            out.push((key.encoded.as_bytes().to_vec(), value));
        }
        if self.backing.is_some() {
            self.drained = keys;
        }
    }

    fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        let text = std::str::from_utf8(key)
            .map_err(|_| ProjectorError::Corrupt("a timeline key is not UTF-8".into()))?;
        let key = TimelineKey::parse(text)
            .ok_or_else(|| ProjectorError::Corrupt(format!("{text}: malformed key")))?;
        let postings = Postings::from_stored(value)
            .ok_or_else(|| ProjectorError::Corrupt(format!("{text}: malformed postings")))?;
        self.newest = self.newest.max(range_of(text));
        self.rows.insert(key, Arc::new(postings));
        Ok(())
    }
}

impl TrackedTable for Chunks {
    fn discard_changes(&mut self) {
        self.changed.clear();
    }

    /// Backs the chunks by `backing`. A store that is not `complete` may hold chunks of
    /// every range up to the newest the time index names, and those are read back when
    /// appended to or read.
    fn attach(&mut self, backing: &Backing, complete: bool) {
        self.backing = Some(backing.clone());
        self.stored_below = if complete {
            0
        } else {
            let newest_stored = backing
                .scan_prefix_raw(TIMES_PREFIX.as_bytes())
                .last()
                .map(|(key, _)| range_of(&String::from_utf8_lossy(&key)));
            newest_stored.map_or(0, |range| range + 1)
        };
        self.newest = self.newest.max(self.stored_below.saturating_sub(1));
    }

    fn load_whole(&mut self) {
        let Some(backing) = self.store().cloned() else {
            return;
        };
        for (key, value) in backing.scan_prefix_raw(CHUNK_PREFIX.as_bytes()) {
            let text = String::from_utf8_lossy(&key);
            if self.rows.contains_key(&*text) {
                continue;
            }
            let parsed = TimelineKey::parse(&text);
            let postings = Self::decode_stored(&backing, &text, &value);
            if let (Some(key), Some(postings)) = (parsed, postings) {
                self.rows.insert(key, Arc::new(postings));
            }
        }
        self.stored_below = 0;
    }

    /// Lets go of the chunks of ranges below the newest that the store holds as they are.
    fn evict(&mut self) {
        if self.backing.is_none() {
            return;
        }
        let newest = self.newest;
        let mut kept: OrdMap<TimelineKey, Arc<Postings>> = self
            .rows
            .iter()
            .filter(|(key, _)| range_of(&key.encoded) >= newest)
            .map(|(key, postings)| (key.clone(), postings.clone()))
            .collect();
        for key in self.changed.keys().iter().chain(&self.drained) {
            if let Some(postings) = self.rows.get(key) {
                kept.insert(key.clone(), postings.clone());
            }
        }
        if kept.len() < self.rows.len() {
            // Every chunk let go is of a range below the newest.
            self.stored_below = self.stored_below.max(newest);
        }
        self.rows = kept;
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
        self.backing
            .is_none()
            .then(|| CHUNK_PREFIX.as_bytes().to_vec())
    }

    fn verify(&self) -> usize {
        let Some(backing) = &self.backing else {
            return 0;
        };
        let mut stored = 0;
        for (key, value) in backing.scan_prefix_raw(CHUNK_PREFIX.as_bytes()) {
            let text = String::from_utf8_lossy(&key);
            if TimelineKey::parse(&text).is_none() {
                backing.note_fault(Fault::undecodable(format!("{text}: malformed key")));
            }
            Self::decode_stored(backing, &text, &value);
            stored += 1;
        }
        stored
    }

    fn mark_all_changed(&mut self) {
        self.changed.set_all(self.rows.keys().cloned());
    }
}

/// The first and last event of one chunk of the log, with their `recorded_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// The appends of the batch being folded, by chunk key, in first-touch order.
#[derive(Debug, Clone, Default)]
struct Pending {
    at: HashMap<Box<str>, usize>,
    chunks: Vec<PendingChunk>,
}

#[derive(Debug, Clone)]
struct PendingChunk {
    encoded: Box<str>,
    scope: Scope,
    range: u64,
    seqs: Vec<u64>,
}

impl Pending {
    fn add(&mut self, encoded: &str, scope: &Scope, range: u64, seq: u64) {
        if let Some(&index) = self.at.get(encoded) {
            self.chunks[index].seqs.push(seq);
            return;
        }
        self.at.insert(encoded.into(), self.chunks.len());
        self.chunks.push(PendingChunk {
            encoded: encoded.into(),
            scope: scope.clone(),
            range,
            seqs: vec![seq],
        });
    }

    fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Timeline {
    pub table: Chunks,
    pub times: Table<ChunkKey, TimeRange>,
    /// Appends not yet in `table` (empty between batches: see [`Timeline::settle`]).
    pending: Pending,
    /// A reused buffer for chunk keys (not state).
    scratch: String,
}

impl Default for Timeline {
    fn default() -> Self {
        Self::new()
    }
}

/// `m/timeline/<incident>/<status>/`: every chunk of one scope.
fn scope_prefix(scope: &Scope) -> String {
    format!("{CHUNK_PREFIX}{}/{}/", scope.incident, scope.status)
}

impl Timeline {
    pub fn new() -> Self {
        Self {
            table: Chunks::default(),
            times: Table::new("timeline_time"),
            pending: Pending::default(),
            scratch: String::new(),
        }
    }

    /// Notes that event `seq` belongs to `key`'s scope and slice, under each facet. The
    /// chunks hold it after the next [`Timeline::settle`].
    pub fn record(&mut self, key: &RowKey, seq: u64, recorded_at: Timestamp, envelope: &Envelope) {
        let chunk = seq >> CHUNK_SHIFT;
        let mut buffer = std::mem::take(&mut self.scratch);
        buffer.clear();
        // Writing to a String cannot fail.
        let _ = write!(
            buffer,
            "{CHUNK_PREFIX}{}/{}/{}/",
            key.scope.incident, key.scope.status, key.slice
        );
        let base = buffer.len();
        for facet in 0..3 {
            buffer.truncate(base);
            let _ = match facet {
                0 => write!(buffer, "{ALL}/{chunk:012x}"),
                1 => write!(buffer, "o.{}/{chunk:012x}", envelope.org),
                _ => write!(buffer, "k.{}/{chunk:012x}", envelope.kind()),
            };
            self.pending.add(&buffer, &key.scope, chunk, seq);
        }
        self.scratch = buffer;
        let range = self.times.row_mut(ChunkKey(chunk));
        if range.first_recorded_at.is_none() {
            range.first_seq = seq;
            range.first_recorded_at = Some(recorded_at);
        }
        range.last_seq = seq;
        range.last_recorded_at = Some(recorded_at);
    }

    /// Adds the appends recorded since the last call to their chunks. The fold calls it at
    /// the end of every batch, before anyone reads.
    pub fn settle(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for chunk in pending.chunks {
            self.table
                .append(&chunk.encoded, &chunk.scope, chunk.range, &chunk.seqs);
        }
    }

    /// The chunks of `scope` in `facet` over the slices `visible` admits, of the ranges
    /// `ranges`. Skips from one slice to the next and reads only the facet's chunks of those
    /// ranges in each, so the cost follows the slices, the facet and the ranges, not every
    /// chunk of the scope (300,000 events: 25–29 ms a query when it walked them all).
    fn visible_chunks(
        &self,
        prefix: &str,
        facet: &str,
        visible: impl Fn(&SliceId) -> bool,
        ranges: RangeInclusive<u64>,
    ) -> Vec<Arc<Postings>> {
        debug_assert!(
            self.pending.is_empty(),
            "the timeline is read before it settled"
        );
        let mut found = Vec::new();
        let mut cursor = prefix.to_string();
        while let Some(key) = self.table.first_key_from(&cursor) {
            let Some(rest) = key.strip_prefix(prefix) else {
                break;
            };
            let slice = rest.split('/').next().unwrap_or_default();
            if SliceId::parse(slice).is_some_and(|id| visible(&id)) {
                let facet_prefix = format!("{prefix}{slice}/{facet}/");
                found.extend(self.table.in_ranges(&facet_prefix, ranges.clone()));
            }
            // Past every key of this slice ('0' follows '/').
            cursor = format!("{prefix}{slice}0");
        }
        found
    }

    /// Up to `limit` sequences below `before` (exclusive), newest first, in one facet, over
    /// the slices `visible` admits. Reads the ranges from the one holding `before - 1`
    /// down, in windows that double, and stops once it holds `limit`: every sequence of a
    /// lower range is below every one found.
    pub fn latest(
        &self,
        scope: &Scope,
        facet: &str,
        visible: impl Fn(&SliceId) -> bool,
        before: u64,
        limit: usize,
    ) -> Vec<u64> {
        if limit == 0 || before == 0 {
            return Vec::new();
        }
        let prefix = scope_prefix(scope);
        let mut seqs: Vec<u64> = Vec::new();
        // No range above the newest appended to holds anything.
        let mut top = ((before - 1) >> CHUNK_SHIFT).min(self.table.newest);
        let mut width = 1u64;
        loop {
            let bottom = top.saturating_sub(width - 1);
            for postings in self.visible_chunks(&prefix, facet, &visible, bottom..=top) {
                seqs.extend(postings.iter().filter(|seq| *seq < before));
            }
            if seqs.len() >= limit || bottom == 0 {
                break;
            }
            top = bottom - 1;
            width = width.saturating_mul(2);
        }
        seqs.sort_unstable_by(|a, b| b.cmp(a));
        seqs.truncate(limit);
        seqs
    }

    /// Every scope that holds an event, in key order (from memory and the store).
    pub fn scopes(&self) -> Vec<Scope> {
        let mut found = Vec::new();
        let mut cursor = CHUNK_PREFIX.to_string();
        while let Some(key) = self.table.first_key_from(&cursor) {
            let Some(key) = TimelineKey::parse(&key) else {
                break;
            };
            // Past every key of this scope ('0' follows '/').
            cursor = scope_prefix(&key.scope);
            cursor.pop();
            cursor.push('0');
            found.push(key.scope.clone());
        }
        found
    }

    /// Every sequence after `after` (exclusive) in the whole timeline over the visible
    /// slices, ascending.
    pub fn after(&self, scope: &Scope, visible: impl Fn(&SliceId) -> bool, after: u64) -> Vec<u64> {
        let prefix = scope_prefix(scope);
        let chunks = self.visible_chunks(&prefix, ALL, visible, (after >> CHUNK_SHIFT)..=u64::MAX);
        let mut seqs: Vec<u64> = chunks
            .iter()
            .filter(|postings| postings.span().is_some_and(|(_, last)| last > after))
            .flat_map(|postings| postings.iter().filter(|seq| *seq > after))
            .collect();
        seqs.sort_unstable();
        seqs
    }

    /// The chunks whose events were recorded at or before `at`: a time's place in the log,
    /// to the chunk, without reading it.
    pub fn last_chunk_recorded_by(&self, at: Timestamp) -> Option<TimeRange> {
        self.times
            .iter()
            .map(|(_, range)| range.into_owned())
            .take_while(|range| range.first_recorded_at.is_some_and(|first| first <= at))
            .last()
    }

    /// Every table, for change tracking.
    pub fn tables_mut(&mut self) -> [&mut dyn TrackedTable; 2] {
        self.settle();
        [&mut self.table, &mut self.times]
    }

    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        self.settle();
        self.table.drain_changes(out);
        self.times.drain_changes(out);
    }

    pub fn owns(&self, table: &str) -> bool {
        table == "timeline" || table == self.times.name()
    }

    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        if key.starts_with(b"m/timeline_time/") {
            self.times.load(key, value)
        } else {
            self.table.load(key, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_keep_ascending_sequences_and_read_back_from_their_stored_form() {
        let mut postings = Postings::default();
        let seqs = [1u64, 2, 3, 130, 131, 20_000, 1 << 40];
        for seq in seqs {
            postings.push(seq);
        }
        // Out of order and repeated sequences are not indexed again.
        postings.push(5);
        postings.push(1 << 40);
        assert_eq!(postings.iter().collect::<Vec<_>>(), seqs);
        let stored = postings.stored();
        assert_eq!(stored[0], 0xc4);
        assert_eq!(Postings::from_stored(&stored), Some(postings.clone()));

        let mut long = Postings::default();
        for seq in (1..=4096u64).map(|n| n * 1000) {
            long.push(seq);
        }
        let stored = long.stored();
        assert_eq!(stored[0], 0xc5);
        assert_eq!(Postings::from_stored(&stored), Some(long));
    }

    #[test]
    fn malformed_postings_are_refused() {
        assert_eq!(Postings::from_stored(&[]), None);
        assert_eq!(Postings::from_stored(&[0x93, 1, 2, 3]), None);
        assert_eq!(Postings::from_stored(&[0xc4, 2, 1]), None);
        // A repeated sequence (a zero difference).
        assert_eq!(Postings::from_stored(&[0xc4, 2, 1, 0]), None);
        // A varint that never ends.
        assert_eq!(Postings::from_stored(&[0xc4, 1, 0x80]), None);
    }

    /// One batch's events land in the chunks of their ranges when the batch settles, as
    /// they do folded one at a time; no chunk is kept per aggregate.
    #[test]
    fn a_batch_settles_into_the_chunks_of_its_ranges() {
        use crate::models::testkit::*;
        use crate::{KvStore, fold_in_memory};
        use proto_events::AggregateType::Need;
        use proto_events::payload::NeedUpdated;

        let mut log = Log::new();
        log.join(&["a", "b"]);
        let events = 9_000u64;
        for n in 0..events {
            let update = NeedUpdated {
                quantity: Some(n as u32),
                urgency: None,
                needed_by: None,
                reason: None,
            };
            let emitter = ["a", "b"][(n % 2) as usize];
            log.event(emitter, Need, &format!("need-{}", n % 30), update)
                .send();
        }
        let raws = log.raw_events();
        let (one_by_one, stored_one_by_one) = fold_in_memory(raws, 1).expect("fold");
        let (in_one_batch, stored_in_one_batch) = fold_in_memory(raws, raws.len()).expect("fold");
        assert_eq!(
            stored_one_by_one.digest().expect("digest"),
            stored_in_one_batch.digest().expect("digest")
        );
        let chunks = |models: &crate::ReadModels| -> Vec<(String, u64, Vec<u64>)> {
            models
                .timeline
                .table
                .iter()
                .map(|(key, postings)| {
                    (
                        key.facet().to_string(),
                        key.chunk(),
                        postings.iter().collect(),
                    )
                })
                .collect()
        };
        let chunks_in_one_batch = chunks(&in_one_batch.models);
        assert_eq!(chunks(&one_by_one.models), chunks_in_one_batch);
        // Each event under the whole timeline, its emitter and its kind, in the range of
        // 4,096 sequences it falls in.
        let mut expected: std::collections::BTreeMap<(String, u64), Vec<u64>> = Default::default();
        for raw in raws {
            let envelope = proto_events::codec::decode_msgpack(&raw.bytes).expect("decode");
            for facet in [
                ALL.to_string(),
                format!("o.{}", envelope.org),
                format!("k.{}", envelope.kind()),
            ] {
                expected
                    .entry((facet, raw.seq >> CHUNK_SHIFT))
                    .or_default()
                    .push(raw.seq);
            }
        }
        let mut chunks_in_one_batch = chunks_in_one_batch;
        chunks_in_one_batch.sort();
        let expected: Vec<(String, u64, Vec<u64>)> = expected
            .into_iter()
            .map(|((facet, chunk), seqs)| (facet, chunk, seqs))
            .collect();
        assert!(
            chunks_in_one_batch.len() >= 3 * 3,
            "three ranges, three facets at least"
        );
        assert_eq!(chunks_in_one_batch, expected);
    }

    /// `events` updates of 40 needs by `a`, `b` and `c` in turn (every `rare`-th by `d`
    /// instead, when given), one in seven to `b` only and one in seven to `a` and `c`.
    fn needs_log(events: u32, rare: Option<u32>) -> crate::models::testkit::Log {
        use proto_events::AggregateType::Need;
        use proto_events::payload::NeedUpdated;

        let mut log = crate::models::testkit::Log::new();
        log.join(&["a", "b", "c", "d"]);
        for n in 0..events {
            let update = NeedUpdated {
                quantity: Some(n),
                urgency: None,
                needed_by: None,
                reason: None,
            };
            let id = format!("need-{}", n % 40);
            let emitter = match rare {
                Some(rare) if n % rare == 0 => "d",
                _ => ["a", "b", "c"][(n % 3) as usize],
            };
            let draft = log.event(emitter, Need, &id, update);
            match n % 7 {
                0 => draft.to(&["b"]).send(),
                1 => draft.to(&["a", "c"]).send(),
                _ => draft.send(),
            };
        }
        log
    }

    /// `latest` skips from slice to slice and stops early; a plain walk over every chunk
    /// is the reference.
    #[test]
    fn latest_pages_equal_a_walk_over_every_chunk() {
        use crate::models::testkit::*;

        let models = needs_log(10_000, None).fold();
        let timeline = &models.timeline;
        let slices: Vec<SliceId> = timeline
            .table
            .iter()
            .filter_map(|(key, _)| SliceId::parse(key.slice()))
            .collect();
        assert!(
            slices.iter().any(|s| *s != SliceId::network()),
            "restricted slices made"
        );
        let reference = |facet: &str, visible: &dyn Fn(&SliceId) -> bool, before, limit| {
            let mut seqs: Vec<u64> = timeline
                .table
                .iter()
                .filter(|(key, _)| {
                    key.facet() == facet
                        && SliceId::parse(key.slice()).is_some_and(|id| visible(&id))
                })
                .flat_map(|(_, postings)| postings.iter())
                .filter(|seq| *seq < before)
                .collect();
            seqs.sort_unstable_by(|a, b| b.cmp(a));
            seqs.truncate(limit);
            seqs
        };
        let everything = |_: &SliceId| true;
        let network = |slice: &SliceId| *slice == SliceId::network();
        let some = |slice: &SliceId| *slice != SliceId::network() || slice.to_string().len() > 3;
        let visibles: [&dyn Fn(&SliceId) -> bool; 3] = [&everything, &network, &some];
        for facet in [ALL, "o.b", "k.need_updated"] {
            for visible in visibles {
                for before in [u64::MAX, 9_000, 8_192, 4_097, 2_500, 17, 1, 0] {
                    for limit in [0, 1, 50, 500, usize::MAX] {
                        assert_eq!(
                            timeline.latest(&actual(), facet, visible, before, limit),
                            reference(facet, visible, before, limit),
                            "{facet}, before {before}, limit {limit}"
                        );
                    }
                }
            }
        }
        // `after` reads from the range holding `after` on: the whole timeline above it.
        for visible in visibles {
            for after in [0, 4_095, 4_096, 8_191, 9_000, 20_000] {
                let mut expected = reference(ALL, visible, u64::MAX, usize::MAX);
                expected.retain(|seq| *seq > after);
                expected.reverse();
                assert_eq!(
                    timeline.after(&actual(), visible, after),
                    expected,
                    "after {after}"
                );
            }
        }
    }

    /// Backed by sled as the engine keeps it (a drain every 500 events, its write landing
    /// one drain late, everything the store holds let go after every write), the timeline
    /// answers every query as one kept whole in memory: while the fold passes three ranges
    /// of sequences, and after the store is opened again in the middle of a range, whose
    /// chunks the fold then appends to from the store.
    #[test]
    fn a_backed_timeline_answers_as_one_in_memory() {
        use crate::models::testkit::*;
        use crate::store::{KvStore, SledStore};
        use crate::{Folder, apply_raw, by_seq, fold_in_memory};

        // `d` emits rarely, so its chunks go many writes without a change.
        let log = needs_log(10_000, Some(1_300));
        let raws = log.raw_events().to_vec();
        let by_seq = by_seq(&raws);
        let everything = |_: &SliceId| true;
        let network = |slice: &SliceId| *slice == SliceId::network();
        let restricted = |slice: &SliceId| *slice != SliceId::network();
        let visibles: [&dyn Fn(&SliceId) -> bool; 3] = [&everything, &network, &restricted];
        let same = |backed: &Folder, whole: &Folder, at: &str| {
            let (backed, whole) = (&backed.models.timeline, &whole.models.timeline);
            assert_eq!(backed.scopes(), whole.scopes(), "{at}");
            let applied = raws.len() as u64;
            for facet in [ALL, "o.a", "o.d", "k.need_updated", "k.none"] {
                for visible in visibles {
                    for before in [u64::MAX, 6_000, 4_096, 4_095, 17] {
                        for limit in [1, 50, 5_000] {
                            assert_eq!(
                                backed.latest(&actual(), facet, visible, before, limit),
                                whole.latest(&actual(), facet, visible, before, limit),
                                "{at}: {facet}, before {before}, limit {limit}"
                            );
                        }
                    }
                }
            }
            for visible in visibles {
                for after in [0, 4_000, 8_190, applied] {
                    assert_eq!(
                        backed.after(&actual(), visible, after),
                        whole.after(&actual(), visible, after),
                        "{at}: after {after}"
                    );
                }
            }
        };

        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = SledStore::open(dir.path()).expect("sled");
        let mut backed = Folder::new();
        backed.attach(&store.backing());
        let mut whole = Folder::new();
        let mut in_flight = None;
        // Folds `batch` into both, writes the drain before this one and lets go of what
        // the store holds.
        let mut writer = store.clone();
        let mut step = |backed: &mut Folder,
                        whole: &mut Folder,
                        batch: &[crate::RawEvent],
                        in_flight: &mut Option<Vec<crate::store::Change>>| {
            apply_raw(backed, batch, &by_seq);
            apply_raw(whole, batch, &by_seq);
            assert_eq!(backed.models.fault(), None);
            if let Some(landed) = in_flight.replace(backed.drain_changes()) {
                writer.apply(landed).expect("sled");
            }
            backed.evict_over(0);
        };
        // To the middle of the second range (4,096..8,191).
        let (first, rest) = raws.split_at(6_000);
        for batch in first.chunks(500) {
            step(&mut backed, &mut whole, batch, &mut in_flight);
            same(&backed, &whole, &format!("at {}", backed.applied_seq()));
        }
        let chunks = &backed.models.timeline.table;
        assert!(chunks.len() < whole.models.timeline.table.len());
        assert!(
            chunks.iter().all(|(key, _)| key.chunk() == 1),
            "only the newest range stays in memory: {chunks:?}"
        );
        drop(backed);
        store
            .apply(in_flight.take().expect("a drain"))
            .expect("sled");

        let mut reopened = Folder::open(&store, 0).expect("open");
        assert_eq!(reopened.models.fault(), None);
        assert!(reopened.models.timeline.table.is_empty(), "nothing read in");
        same(&reopened, &whole, "opened");
        for batch in rest.chunks(500) {
            step(&mut reopened, &mut whole, batch, &mut in_flight);
            same(&reopened, &whole, &format!("at {}", reopened.applied_seq()));
        }
        store
            .apply(in_flight.take().expect("a drain"))
            .expect("sled");
        let (_, in_memory) = fold_in_memory(&raws, 500).expect("fold");
        assert_eq!(
            store.digest().expect("digest"),
            in_memory.digest().expect("digest"),
            "the backed fold wrote other chunks"
        );
    }

    #[test]
    fn chunk_keys_read_back_and_name_their_parts() {
        let text = "m/timeline/inc-1/actual/net/o.kommun/000000000002";
        let key = TimelineKey::parse(text).expect("a chunk key");
        assert_eq!(key.encoded(), text);
        assert_eq!(key.slice(), "net");
        assert_eq!(key.facet(), "o.kommun");
        assert_eq!(key.chunk(), 2);
        assert!(TimelineKey::parse("m/timeline/inc-1/actual/net/all").is_none());
        assert!(TimelineKey::parse("m/timeline/inc-1/actual/net/all/2/x").is_none());
    }
}
