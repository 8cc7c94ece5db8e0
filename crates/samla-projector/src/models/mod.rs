//! The read models and the one pure fold that feeds them all.
//!
//! [`ReadModels::apply`] takes a [`Recorded`] event and changes rows: it reads nothing but
//! the read models' own rows (in memory, or read back from their store when the tables are
//! backed — see [`ReadModels::open`]), no clock, no randomness, so every replica that
//! applies the same log holds the same bytes.
//! Each model is a module with a row type and an `effect` function that applies an event
//! (or undoes it, for corrections and retractions) to the row of its aggregate in the
//! event's audience slice. Time-based answers (age, overdue, expired claims) are not
//! stored: views compute them from a `now` at query time.
//!
//! A correction undoes the superseded event's effect (with the payload in force) and
//! applies the replacement in the superseded event's position; a retraction only undoes.

pub mod issues;
pub mod needs;
pub mod network;
pub mod quarantine;
pub mod reports;
pub mod resources;
pub mod sites;
#[cfg(test)]
pub mod testkit;
pub mod timeline;

use std::collections::{BTreeMap, BTreeSet};

use proto_events::{Envelope, OrgId, Payload, Timestamp};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::error::ProjectorError;
use crate::gauge::Gauge;
use crate::recorded::Recorded;
use crate::store::Change;
use crate::store::{KvStore, SledStore};
use crate::table::{Backing, Fault, RowKey, Scope, Table, TableKey, TrackedTable};
use crate::views::picture::figures::{Counted, PictureFigures};
use crate::visibility::{SliceId, slice_of};

/// The name and version of the fold. Bump the version whenever any model's rows or rules
/// change: replicas then rebuild from the log instead of mixing two versions.
pub const FOLD_NAME: &str = "samla-read-models";
/// (2: rows encoded positionally instead of with field names; 3: timeline postings stored
/// as delta-encoded varints; 4: an aggregate's timeline chunks keyed by their first
/// sequence, up to 1,024 sequences each, instead of one per 4,096 sequences of the log;
/// 5: no timeline facet per aggregate — the log's subjects index an aggregate's events;
/// 6: the id index stored in its blocks, so that they can leave memory.)
pub const FOLD_VERSION: u32 = 6;

/// Apply an event, or undo one (for a correction or retraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Apply,
    Undo,
}

impl Effect {
    /// +1 or -1 for counters.
    pub fn sign(self) -> i64 {
        match self {
            Effect::Apply => 1,
            Effect::Undo => -1,
        }
    }
}

/// Where an effect lands: the sequence gauges are set at (a correction uses the
/// superseded event's), and the event that causes it.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    /// The sequence gauge values are set (or retracted) at.
    pub gauge_seq: u64,
    /// The sequence of the event being applied now (the correction's own, for a correction).
    pub event_seq: u64,
    /// When the effect's event happened (the superseded event's for a correction).
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
}

/// Sets a gauge on apply, retracts its value on undo.
pub fn put<T>(gauge: &mut Gauge<T>, at: &Position, effect: Effect, value: T) {
    match effect {
        Effect::Apply => gauge.set(at.gauge_seq, value),
        Effect::Undo => gauge.retract(at.gauge_seq),
    }
}

/// Rows every aggregate row carries: the last event on it (in this slice) and where the
/// aggregate is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Common {
    /// The last event on this aggregate in this slice: what `expected_seq` is compared with.
    pub last_seq: u64,
    pub area: Gauge<String>,
    /// The organisation whose event opened this aggregate's row in this slice; views
    /// merge it with [`crate::gauge::earliest`].
    pub owner: Gauge<OrgId>,
}

impl Common {
    pub fn touch(&mut self, envelope: &Envelope, at: &Position, effect: Effect) {
        // A retraction or correction is an event on the aggregate's subject too: a
        // client's `expected_seq` taken from a view must include it.
        self.last_seq = self.last_seq.max(at.event_seq);
        put(
            &mut self.area,
            at,
            effect,
            envelope.area.as_str().to_string(),
        );
        if self.owner.is_empty() || effect == Effect::Undo {
            put(&mut self.owner, at, effect, envelope.org.clone());
        }
    }
}

/// Notes (or forgets, on undo) that something happened at `at.occurred_at`, keyed by the
/// sequence it holds, so a correction replaces it in place and a retraction removes it.
pub(crate) fn mark(moments: &mut Marks, at: &Position, effect: Effect) {
    match effect {
        Effect::Apply => moments.insert(at.gauge_seq, at.occurred_at),
        Effect::Undo => moments.remove(at.gauge_seq),
    }
}

/// Moments keyed by the sequence of the event that holds each (see [`mark`]), ascending.
///
/// Most rows hold none or one (a need's claims, an issue's acknowledgements): a sorted
/// vector whose first entry lives inline, where a `BTreeMap` allocated a node of ~200 bytes
/// for one. Stored as a MessagePack map of sequence to moment, as that map was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks(SmallVec<[(u64, Timestamp); 1]>);

impl Marks {
    /// Sets the moment held by `seq`.
    pub fn insert(&mut self, seq: u64, at: Timestamp) {
        match self.0.binary_search_by_key(&seq, |(s, _)| *s) {
            Ok(index) => self.0[index].1 = at,
            Err(index) => {
                self.0.reserve_exact(1);
                self.0.insert(index, (seq, at));
            }
        }
    }

    /// Forgets the moment held by `seq`.
    pub fn remove(&mut self, seq: u64) {
        self.0.retain(|(s, _)| *s != seq);
    }

    /// The moments, by ascending sequence.
    pub fn values(&self) -> impl Iterator<Item = Timestamp> + '_ {
        self.0.iter().map(|(_, at)| *at)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Marks {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(seq, at)| (seq, at)))
    }
}

impl<'de> Deserialize<'de> for Marks {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<u64, Timestamp>::deserialize(deserializer)?;
        Ok(Marks(map.into_iter().collect()))
    }
}

/// The members of a restricted slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceRow {
    pub members: BTreeSet<OrgId>,
}

/// The key of a slice's registry row: `m/slices/<incident>/<slice>`, ordered as its
/// encoding is (see [`TableKey`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceKey {
    pub incident: proto_events::IncidentId,
    pub slice: SliceId,
}

impl Ord for SliceKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        crate::table::cmp_part(self.incident.as_str(), other.incident.as_str())
            .then_with(|| self.slice.as_str().cmp(other.slice.as_str()))
    }
}

impl PartialOrd for SliceKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl TableKey for SliceKey {
    fn encode(&self, table: &str) -> Vec<u8> {
        format!("m/{table}/{}/{}", self.incident, self.slice).into_bytes()
    }
    fn decode(rest: &str) -> Option<Self> {
        let (incident, slice) = rest.split_once('/')?;
        Some(SliceKey {
            incident: proto_events::IncidentId::new(incident).ok()?,
            slice: SliceId::parse(slice)?,
        })
    }
}

/// Every read model, in memory.
#[derive(Debug, Clone)]
pub struct ReadModels {
    pub slices: Table<SliceKey, SliceRow>,
    pub sites: Table<RowKey, sites::SiteRow>,
    pub offers: Table<RowKey, sites::OfferRow>,
    pub needs: Table<RowKey, needs::NeedRow>,
    pub resources: Table<RowKey, resources::ResourceRow>,
    pub issues: Table<RowKey, issues::IssueRow>,
    pub reports: reports::Reports,
    pub network: network::Network,
    pub timeline: timeline::Timeline,
    pub quarantine: quarantine::Quarantine,
    /// The picture's counts per slice, kept by the fold from the rows above (derived:
    /// never stored, rebuilt as rows load).
    pub picture: PictureFigures,
    /// The store the tables are backed by, if they are (see [`ReadModels::open`]).
    backing: Option<Backing>,
}

impl Default for ReadModels {
    fn default() -> Self {
        Self::new()
    }
}

impl ReadModels {
    pub fn new() -> Self {
        Self {
            slices: Table::in_memory("slices"),
            sites: Table::new("sites"),
            offers: Table::new("offers"),
            needs: Table::new("needs"),
            resources: Table::new("resources"),
            issues: Table::new("issues"),
            reports: reports::Reports::new(),
            network: network::Network::new(),
            timeline: timeline::Timeline::new(),
            quarantine: quarantine::Quarantine::new(),
            picture: PictureFigures::default(),
            backing: None,
        }
    }

    /// Read models over `store`, as the engine keeps them: every table but the small ones
    /// ([`Table::in_memory`]: slices, incidents, organisations, quarantine) is backed by
    /// the store, holding in memory only the rows changed since the last completed write
    /// (and the timeline's chunks of the newest range: see [`timeline::Chunks`]). The tables kept in
    /// memory are loaded, every stored row is read once (a row that is damaged fails here
    /// as [`ProjectorError::Corrupt`], so the engine rebuilds; one sled cannot read for a
    /// reason that says nothing against the data, as [`ProjectorError::Storage`], so it
    /// stops: see [`Fault::into_load_error`]), and the picture's figures are worked out
    /// from the rows.
    ///
    /// When the backed tables hold at most `resident_rows` rows, they are read into memory
    /// whole, and the store is not read again until rows leave memory (see
    /// [`ReadModels::evict_over`]).
    pub fn open(store: &SledStore, resident_rows: usize) -> Result<Self, ProjectorError> {
        Self::open_backed_by(store, &store.backing(), resident_rows)
    }

    /// [`ReadModels::open`], the backed tables read through `backing` (the store's own but
    /// in tests, which give it one that fails).
    fn open_backed_by(
        store: &SledStore,
        backing: &Backing,
        resident_rows: usize,
    ) -> Result<Self, ProjectorError> {
        let mut models = ReadModels::new();
        models.attach_all(backing, false);
        let whole: Vec<Vec<u8>> = models
            .tables_mut()
            .iter()
            .filter_map(|table| table.whole_in_memory())
            .collect();
        for prefix in whole {
            for (key, value) in store.scan_prefix(&prefix)? {
                models.load_row(&key, &value)?;
            }
        }
        let stored: usize = models.tables_mut().iter().map(|table| table.verify()).sum();
        if stored <= resident_rows {
            for table in models.tables_mut() {
                table.load_whole();
            }
        }
        models.picture = crate::views::picture::figures::rebuilt(&models);
        // A row that does not decode, or that sled finds damaged, is corruption (the
        // engine rebuilds); a store sled could not read (permissions, too many open files,
        // the disk) says nothing against the folder (the engine stops, leaving it).
        match models.fault() {
            Some(fault) => Err(fault.into_load_error()),
            None => Ok(models),
        }
    }

    /// Backs every table but the small ones by `backing`, a store that holds no rows of
    /// them yet (a rebuild's fresh folder): the store is not read until rows leave memory.
    pub fn attach(&mut self, backing: &Backing) {
        self.attach_all(backing, true);
    }

    /// Backs every table but the small ones by `backing`; `complete` when the store holds
    /// no row that is not in memory (see [`TrackedTable::attach`]).
    fn attach_all(&mut self, backing: &Backing, complete: bool) {
        for table in self.tables_mut() {
            table.attach(backing, complete);
        }
        self.backing = Some(backing.clone());
    }

    /// Forgets the rows of backed tables that the store holds as they are (see
    /// [`TrackedTable::evict`]): only once every write but the latest drain's landed.
    pub fn evict(&mut self) {
        for table in self.tables_mut() {
            table.evict();
        }
    }

    /// [`ReadModels::evict`] once the backed tables hold more than `budget` rows in
    /// memory: below it, rows stay for the fold to change again without reading them back.
    pub fn evict_over(&mut self, budget: usize) {
        let held: usize = self
            .tables_mut()
            .iter()
            .map(|table| table.evictable())
            .sum();
        if held > budget {
            self.evict();
        }
    }

    /// The store behind the backed tables, if they are.
    pub fn backing(&self) -> Option<&Backing> {
        self.backing.as_ref()
    }

    /// The first read of a backed row that failed, if one did: what was folded since may
    /// rest on a row taken as missing, so nothing more may be written.
    pub fn fault(&self) -> Option<Fault> {
        self.backing.as_ref().and_then(Backing::fault)
    }

    /// The fold's reads of the store so far and their time (see [`Backing::reads`]).
    pub fn store_reads(&self) -> (u64, std::time::Duration) {
        self.backing
            .as_ref()
            .map(Backing::reads)
            .unwrap_or_default()
    }

    /// Rows held in memory, over every table.
    pub fn resident_rows(&mut self) -> usize {
        self.tables_mut().iter().map(|table| table.resident()).sum()
    }

    /// Rows changed since the last drain, over every table: what the next write encodes.
    pub fn changed_rows(&mut self) -> usize {
        self.tables_mut().iter().map(|table| table.changed()).sum()
    }

    /// Folds one recorded event into every read model. Pure.
    ///
    /// The engine guarantees: the event decoded and validated, its subject matches its
    /// envelope, its id was not applied before, and a correction or retraction carries the
    /// event it supersedes (same organisation, aggregate and audience).
    pub fn apply(&mut self, recorded: &Recorded<'_>) {
        self.apply_unsettled(recorded);
        self.settle();
    }

    /// [`ReadModels::apply`] for one event of a batch: the timeline's appends wait for
    /// [`ReadModels::settle`], which must follow before anyone reads.
    pub fn apply_unsettled(&mut self, recorded: &Recorded<'_>) {
        let envelope = recorded.envelope;
        let (slice, members) = slice_of(envelope);
        if let Some(members) = members {
            self.slices
                .row_mut(SliceKey {
                    incident: envelope.incident.clone(),
                    slice: slice.clone(),
                })
                .members = members;
        }
        let key = RowKey {
            scope: Scope {
                incident: envelope.incident.clone(),
                status: envelope.status,
            },
            id: envelope.aggregate.id.as_str().to_string(),
            slice,
        };
        self.timeline
            .record(&key, recorded.seq, recorded.recorded_at, envelope);
        match (&envelope.payload, recorded.superseded) {
            (Payload::EventCorrected(correction), Some(superseded)) => {
                let at = Position {
                    gauge_seq: superseded.seq,
                    event_seq: recorded.seq,
                    occurred_at: superseded.envelope.occurred_at,
                    recorded_at: recorded.recorded_at,
                };
                self.effect(
                    &key,
                    &superseded.envelope,
                    &superseded.envelope.payload,
                    &at,
                    Effect::Undo,
                );
                self.effect(
                    &key,
                    &superseded.envelope,
                    &correction.replacement.0,
                    &at,
                    Effect::Apply,
                );
            }
            (Payload::EventRetracted(_), Some(superseded)) => {
                let at = Position {
                    gauge_seq: superseded.seq,
                    event_seq: recorded.seq,
                    occurred_at: superseded.envelope.occurred_at,
                    recorded_at: recorded.recorded_at,
                };
                self.effect(
                    &key,
                    &superseded.envelope,
                    &superseded.envelope.payload,
                    &at,
                    Effect::Undo,
                );
            }
            (Payload::EventCorrected(_) | Payload::EventRetracted(_), None) => {
                // The engine quarantines these before they reach the fold.
            }
            (payload, _) => {
                let at = Position {
                    gauge_seq: recorded.seq,
                    event_seq: recorded.seq,
                    occurred_at: envelope.occurred_at,
                    recorded_at: recorded.recorded_at,
                };
                self.effect(&key, envelope, payload, &at, Effect::Apply);
            }
        }
    }

    /// Applies or undoes one payload's effect on the aggregate at `key`. `envelope` gives
    /// the emitter, area and audience; `payload` may be a correction's replacement.
    fn effect(
        &mut self,
        key: &RowKey,
        envelope: &Envelope,
        payload: &Payload,
        at: &Position,
        effect: Effect,
    ) {
        // The picture's counts: the aggregate's contribution out before, back in after.
        let counted = Counted::of(payload.kind());
        if let Some(counted) = counted {
            counted.load(self, key);
        }
        let before = counted.map(|counted| counted.placement(self, key));
        sites::effect(
            &mut self.sites,
            &mut self.offers,
            key,
            envelope,
            payload,
            at,
            effect,
        );
        needs::effect(&mut self.needs, key, envelope, payload, at, effect);
        resources::effect(&mut self.resources, key, envelope, payload, at, effect);
        issues::effect(&mut self.issues, key, envelope, payload, at, effect);
        self.reports.effect(key, envelope, payload, at, effect);
        self.network.effect(key, envelope, payload, at, effect);
        if let (Some(counted), Some(before)) = (counted, before) {
            let after = counted.placement(self, key);
            self.picture.replace(counted, key, before, after);
        }
    }

    /// Ends a batch folded with [`ReadModels::apply_unsettled`].
    pub fn settle(&mut self) {
        self.timeline.settle();
    }

    /// Every table, for change tracking.
    pub fn tables_mut(&mut self) -> Vec<&mut dyn TrackedTable> {
        let mut tables: Vec<&mut dyn TrackedTable> = vec![
            &mut self.slices,
            &mut self.sites,
            &mut self.offers,
            &mut self.needs,
            &mut self.resources,
            &mut self.issues,
        ];
        tables.extend(self.reports.tables_mut());
        tables.extend(self.network.tables_mut());
        tables.extend(self.timeline.tables_mut());
        tables.extend(self.quarantine.tables_mut());
        tables
    }

    /// Every change since the last drain, encoded for the store.
    pub fn drain_changes(&mut self) -> Vec<Change> {
        let mut out = Vec::new();
        self.slices.drain_changes(&mut out);
        self.sites.drain_changes(&mut out);
        self.offers.drain_changes(&mut out);
        self.needs.drain_changes(&mut out);
        self.resources.drain_changes(&mut out);
        self.issues.drain_changes(&mut out);
        self.reports.drain_changes(&mut out);
        self.network.drain_changes(&mut out);
        self.timeline.drain_changes(&mut out);
        self.quarantine.drain_changes(&mut out);
        out
    }

    /// Loads one stored read-model entry at start-up, routing it by its table name, and
    /// counts a loaded row into the picture's figures as the fold would have.
    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        let name = crate::table::table_name(key);
        let counted = Counted::of_table(name).and_then(|counted| {
            let rest = std::str::from_utf8(key).ok()?.strip_prefix("m/")?;
            let row_key = RowKey::decode(rest.strip_prefix(name)?.strip_prefix('/')?)?;
            let before = counted.placement(self, &row_key);
            Some((counted, row_key, before))
        });
        self.load_row(key, value)?;
        if let Some((counted, row_key, before)) = counted {
            let after = counted.placement(self, &row_key);
            self.picture.replace(counted, &row_key, before, after);
        }
        Ok(())
    }

    fn load_row(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        let text = std::str::from_utf8(key)
            .map_err(|_| ProjectorError::Corrupt("a read-model key is not UTF-8".into()))?;
        match crate::table::table_name(key) {
            "slices" => self.slices.load(key, value),
            "sites" => self.sites.load(key, value),
            "offers" => self.offers.load(key, value),
            "needs" => self.needs.load(key, value),
            "resources" => self.resources.load(key, value),
            "issues" => self.issues.load(key, value),
            other => {
                if self.reports.owns(other) {
                    self.reports.load(key, value)
                } else if self.network.owns(other) {
                    self.network.load(key, value)
                } else if self.timeline.owns(other) {
                    self.timeline.load(key, value)
                } else if self.quarantine.owns(other) {
                    self.quarantine.load(key, value)
                } else {
                    Err(ProjectorError::Corrupt(format!(
                        "{text}: unknown read-model table"
                    )))
                }
            }
        }
    }

    /// The members of a restricted slice.
    pub fn slice_members(
        &self,
        incident: &proto_events::IncidentId,
        slice: &SliceId,
    ) -> Option<BTreeSet<OrgId>> {
        self.slices
            .get(&SliceKey {
                incident: incident.clone(),
                slice: slice.clone(),
            })
            .map(|row| row.into_owned().members)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::models::testkit::t;

    #[test]
    fn marks_keep_one_moment_per_sequence_and_are_stored_as_the_map_they_replace() {
        let mut marks = Marks::default();
        marks.insert(9, t(9));
        marks.insert(5, t(5));
        marks.insert(9, t(10));
        assert_eq!(marks.values().collect::<Vec<_>>(), [t(5), t(10)]);
        let stored = rmp_serde::to_vec(&marks).expect("encodes");
        let map = BTreeMap::from([(5u64, t(5)), (9, t(10))]);
        assert_eq!(stored, rmp_serde::to_vec(&map).expect("encodes"));
        assert_eq!(
            rmp_serde::from_slice::<Marks>(&stored).expect("decodes"),
            marks
        );
        marks.remove(5);
        marks.remove(9);
        assert!(marks.is_empty());
    }

    /// Backed rows sled cannot read while the read models load, for a reason that says
    /// nothing against the data, fail the load with `Storage` (the engine stops and leaves
    /// the folder), not `Corrupt` (which it rebuilds over, meeting the same cause). Here
    /// the backing's tree is dropped from under its handle, which sled answers with
    /// `CollectionNotFound`: the one such error a test can cause (an I/O error on a file
    /// sled holds open cannot be).
    #[test]
    fn a_store_sled_cannot_read_while_loading_is_storage_not_corruption() {
        let folder = tempfile::tempdir().expect("tempdir");
        let store = SledStore::open(folder.path()).expect("sled");
        let other = sled::Config::new()
            .temporary(true)
            .open()
            .expect("a second sled");
        let gone = other.open_tree("gone").expect("tree");
        assert!(other.drop_tree("gone").expect("drop the tree"));

        let error = ReadModels::open_backed_by(&store, &Backing::new(gone), 10)
            .expect_err("a load through a tree that is gone");
        assert!(matches!(error, ProjectorError::Storage(_)), "{error}");
        let text = error.to_string();
        assert!(
            text.contains("could not be read") && text.contains("left as it is"),
            "{text}"
        );
    }
}
