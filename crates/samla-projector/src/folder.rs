//! The folder: read models plus the engine's own indexes (event id → sequence, and which
//! events were corrected or retracted), applying prepared batches in sequence order.
//!
//! Applying is pure given the superseded events it needs (a folder whose tables are backed
//! by its store reads rows back from it, its own state): the engine first asks
//! [`Folder::wanted`] which stored events to fetch from the log, fetches them, then calls
//! [`Folder::apply_batch`]. So the same code folds the live log (sled) and a vector in a
//! test (memory), and both reach the same bytes.
//!
//! Index keys live under `x/` (engine bookkeeping, outside the digest): the id index in
//! its blocks (`x/idb/<first id>`, see [`crate::ids`]), the correction state per corrected
//! event (`x/corr/<seq>`).
//!
//! The indexes are persistent like the read models' tables (the id index in shared blocks,
//! [`crate::ids`]; the correction state an [`imbl`] map), so a folder clones in O(1):
//! replay keeps checkpoints of whole folders in memory.

use std::collections::HashMap;

use imbl::OrdMap;

use proto_events::{EventId, Payload};
use serde::{Deserialize, Serialize};

use crate::error::ProjectorError;
use crate::ids::IdIndex;
use crate::models::ReadModels;
use crate::models::quarantine::QuarantineRow;
use crate::prepare::{Prepared, Usable, quarantine_row};
use crate::recorded::{Recorded, Superseded};
use crate::store::{CHECKPOINT_KEY, Change, KvStore, SledStore};

const CORRECTIONS_PREFIX: &str = "x/corr/";

/// What became of a corrected or retracted event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionState {
    /// The latest correction's sequence: its replacement is the payload in force.
    pub latest_correction: Option<u64>,
    pub retracted: bool,
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub applied: u64,
    pub quarantined: u64,
    /// Events whose id was applied before (a retry beyond the duplicate window), or at or
    /// below the checkpoint: skipped.
    pub skipped: u64,
    pub last_seq: u64,
}

/// Read models and the indexes that feed them.
#[derive(Debug, Clone, Default)]
pub struct Folder {
    pub models: ReadModels,
    /// Event ids are UUIDv7 (time first), so new ones mostly land in the last block of
    /// this index: a checkpoint shares all of it but a block or two.
    ids: IdIndex,
    corrections: OrdMap<u64, CorrectionState>,
    applied_seq: u64,
    changed_corrections: Vec<u64>,
}

impl Folder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last sequence applied (the checkpoint).
    pub fn applied_seq(&self) -> u64 {
        self.applied_seq
    }

    /// How many distinct event ids were applied.
    pub fn ids_len(&self) -> usize {
        self.ids.len()
    }

    /// Loads read models, indexes and checkpoint from a store, every row into memory.
    pub fn load(store: &impl KvStore) -> Result<Self, ProjectorError> {
        let mut folder = Folder::new();
        for (key, value) in store.scan_prefix(crate::store::MODEL_PREFIX)? {
            folder.models.load(&key, &value)?;
        }
        folder.load_indexes(store)?;
        Ok(folder)
    }

    /// Backs the read models and the id index by `backing`, a store that holds none of
    /// their rows yet (a rebuild's fresh folder; see [`ReadModels::attach`]).
    pub fn attach(&mut self, backing: &crate::table::Backing) {
        self.models.attach(backing);
        self.ids.attach(backing);
    }

    /// Backed: lets go of what the store holds as it is — the id index's blocks but the
    /// last, and the read models' rows once they hold more than `budget` (see
    /// [`ReadModels::evict_over`]). Call it only once every write but the latest drain's
    /// has landed.
    pub fn evict_over(&mut self, budget: usize) {
        self.models.evict_over(budget);
        self.ids.evict();
    }

    /// Opens the read models of a store as the engine keeps them, backed by the store
    /// (see [`ReadModels::open`]), with the indexes and checkpoint.
    pub fn open(store: &SledStore, resident_rows: usize) -> Result<Self, ProjectorError> {
        let mut folder = Folder {
            models: ReadModels::open(store, resident_rows)?,
            ..Folder::default()
        };
        if let Some(backing) = folder.models.backing() {
            folder.ids.attach(&backing.clone());
        }
        folder.load_indexes(store)?;
        Ok(folder)
    }

    /// Loads the id index, the correction states and the checkpoint.
    fn load_indexes(&mut self, store: &impl KvStore) -> Result<(), ProjectorError> {
        let folder = self;
        for (key, value) in store.scan_prefix(crate::ids::BLOCKS_PREFIX.as_bytes())? {
            folder.ids.load(&key, &value)?;
        }
        for (key, value) in store.scan_prefix(CORRECTIONS_PREFIX.as_bytes())? {
            let text = String::from_utf8_lossy(&key);
            let seq = text
                .strip_prefix(CORRECTIONS_PREFIX)
                .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                .ok_or_else(|| ProjectorError::Corrupt(format!("{text}: malformed key")))?;
            let state = rmp_serde::from_slice(&value)
                .map_err(|error| ProjectorError::Corrupt(format!("{text}: {error}")))?;
            folder.corrections.insert(seq, state);
        }
        folder.applied_seq = store.checkpoint()?;
        Ok(())
    }

    /// The stored events (by sequence) a batch needs that are not in the batch itself:
    /// the events its corrections and retractions supersede, and their latest corrections.
    pub fn wanted(&self, batch: &[Prepared]) -> Vec<u64> {
        let in_batch: HashMap<u128, u64> = batch
            .iter()
            .filter_map(|p| match p {
                Prepared::Usable(u) => Some((u.envelope.id.as_uuid().as_u128(), u.seq)),
                Prepared::Quarantined(_) => None,
            })
            .collect();
        let mut wanted = Vec::new();
        for prepared in batch {
            let Prepared::Usable(usable) = prepared else {
                continue;
            };
            let Some(target) = supersedes(&usable.envelope.payload) else {
                continue;
            };
            let key = target.as_uuid().as_u128();
            if in_batch.contains_key(&key) {
                continue;
            }
            if let Some(seq) = self.ids.get(key) {
                wanted.push(seq);
                if let Some(latest) = self.corrections.get(&seq).and_then(|c| c.latest_correction) {
                    wanted.push(latest);
                }
            }
        }
        wanted.sort_unstable();
        wanted.dedup();
        wanted
    }

    /// Applies a batch in sequence order. `fetched` holds the events [`Folder::wanted`]
    /// named (prepared). Pure: reads nothing but the folder's own rows.
    pub fn apply_batch(
        &mut self,
        batch: Vec<Prepared>,
        fetched: &HashMap<u64, Prepared>,
    ) -> BatchOutcome {
        self.apply_events(batch, fetched, true)
    }

    /// Applies a batch in the order given, whatever its sequences: for folding the log in
    /// another order than the stream's ("as happened", see [`crate::replay`]). Nothing is
    /// skipped for being at or below the checkpoint (which becomes the highest sequence
    /// applied); an id applied before is still skipped. Pure, as [`Folder::apply_batch`].
    pub fn apply_in_given_order(
        &mut self,
        batch: Vec<Prepared>,
        fetched: &HashMap<u64, Prepared>,
    ) -> BatchOutcome {
        self.apply_events(batch, fetched, false)
    }

    fn apply_events(
        &mut self,
        batch: Vec<Prepared>,
        fetched: &HashMap<u64, Prepared>,
        skip_at_or_below_checkpoint: bool,
    ) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        // Earlier events of this batch, for corrections that point at them (boxed as they
        // came: moving each envelope into the map copied it, and again at every growth).
        let mut seen: HashMap<u64, Box<Usable>> = HashMap::with_capacity(batch.len());
        for prepared in batch {
            let seq = prepared.seq();
            if skip_at_or_below_checkpoint && seq <= self.applied_seq {
                outcome.skipped += 1;
                continue;
            }
            match prepared {
                Prepared::Quarantined(row) => {
                    self.models.quarantine.add(row);
                    outcome.quarantined += 1;
                }
                Prepared::Usable(usable) => {
                    let id = usable.envelope.id.as_uuid().as_u128();
                    if self.ids.contains(id) {
                        outcome.skipped += 1;
                    } else {
                        match self.resolve(&usable, &seen, fetched) {
                            Ok(superseded) => {
                                self.models.apply_unsettled(&Recorded {
                                    seq,
                                    recorded_at: usable.recorded_at,
                                    subject: &usable.subject,
                                    envelope: &usable.envelope,
                                    superseded: superseded.as_ref(),
                                });
                                self.note_supersession(&usable, superseded.as_ref());
                                self.ids.insert(id, seq);
                                outcome.applied += 1;
                                seen.insert(seq, usable);
                            }
                            Err(row) => {
                                self.models.quarantine.add(*row);
                                outcome.quarantined += 1;
                            }
                        }
                    }
                }
            }
            self.applied_seq = self.applied_seq.max(seq);
            outcome.last_seq = seq;
        }
        self.models.settle();
        outcome
    }

    fn note_supersession(&mut self, usable: &Usable, superseded: Option<&Superseded>) {
        let Some(superseded) = superseded else { return };
        let state = self.corrections.entry(superseded.seq).or_default();
        match usable.envelope.payload {
            Payload::EventCorrected(_) => state.latest_correction = Some(usable.seq),
            Payload::EventRetracted(_) => state.retracted = true,
            _ => {}
        }
        self.changed_corrections.push(superseded.seq);
    }

    /// For a correction or retraction: the event it supersedes with the payload in force,
    /// or the quarantine row saying why it cannot apply.
    fn resolve(
        &self,
        usable: &Usable,
        seen: &HashMap<u64, Box<Usable>>,
        fetched: &HashMap<u64, Prepared>,
    ) -> Result<Option<Superseded>, Box<QuarantineRow>> {
        let Some(target) = supersedes(&usable.envelope.payload) else {
            return Ok(None);
        };
        let refuse = |reason: String| {
            Box::new(quarantine_row(
                usable.seq,
                usable.recorded_at,
                &usable.subject.to_string(),
                "bad_supersedes",
                "payload.supersedes",
                reason,
                Some(usable.envelope.id.to_string()),
            ))
        };
        let lookup = |seq: u64| -> Option<&Usable> {
            seen.get(&seq)
                .map(|u| &**u)
                .or_else(|| match fetched.get(&seq) {
                    Some(Prepared::Usable(u)) => Some(&**u),
                    _ => None,
                })
        };
        let Some(target_seq) = self.ids.get(target.as_uuid().as_u128()) else {
            return Err(refuse(format!(
                "supersedes {target}, which is not in the log (or was quarantined)"
            )));
        };
        let original = lookup(target_seq).ok_or_else(|| {
            refuse(format!(
                "supersedes {target} at sequence {target_seq}, which could not be read back"
            ))
        })?;
        let state = self
            .corrections
            .get(&target_seq)
            .copied()
            .unwrap_or_default();
        if state.retracted {
            return Err(refuse(format!(
                "supersedes {target}, which was already retracted"
            )));
        }
        let mine = &usable.envelope;
        let theirs = &original.envelope;
        if theirs.kind().is_hygiene() {
            return Err(refuse(format!(
                "supersedes {target}, a {}; point at the original event instead",
                theirs.kind()
            )));
        }
        if theirs.org != mine.org {
            return Err(refuse(format!(
                "only {} (who emitted {target}) may correct or retract it",
                theirs.org
            )));
        }
        if theirs.incident != mine.incident || theirs.aggregate != mine.aggregate {
            return Err(refuse(format!(
                "{target} concerns {}/{} {}; a correction must be on the same aggregate",
                theirs.incident, theirs.aggregate.kind, theirs.aggregate.id
            )));
        }
        if theirs.audience != mine.audience || theirs.status != mine.status {
            return Err(refuse(format!(
                "{target} has another audience or status; a correction keeps both"
            )));
        }
        if let Payload::EventCorrected(correction) = &mine.payload
            && correction.replacement.kind() != theirs.kind()
        {
            return Err(refuse(format!(
                "the replacement is a {} but {target} is a {}",
                correction.replacement.kind(),
                theirs.kind()
            )));
        }
        let mut envelope = theirs.clone();
        if let Some(latest) = state.latest_correction {
            let correction = lookup(latest).ok_or_else(|| {
                refuse(format!(
                    "the latest correction of {target} (sequence {latest}) could not be read back"
                ))
            })?;
            if let Payload::EventCorrected(c) = &correction.envelope.payload {
                envelope.payload = (*c.replacement.0).clone();
            }
        }
        Ok(Some(Superseded {
            seq: target_seq,
            recorded_at: original.recorded_at,
            envelope,
        }))
    }

    /// Forgets the changes since the last drain without encoding them: a replay folds
    /// without a store, and a folder kept as a checkpoint must not carry them.
    pub fn discard_changes(&mut self) {
        for table in self.models.tables_mut() {
            table.discard_changes();
        }
        self.ids.discard_changes();
        self.changed_corrections.clear();
    }

    /// The whole state as changes to an empty store — what [`Folder::load`] reads back,
    /// and (for the read models) byte for byte what the engine's drains would have
    /// written.
    pub fn full_state(&self) -> Vec<Change> {
        let mut whole = self.clone();
        for table in whole.models.tables_mut() {
            table.mark_all_changed();
        }
        whole.ids.mark_all_changed();
        whole.changed_corrections = whole.corrections.keys().copied().collect();
        whole.drain_changes()
    }

    /// Every change since the last drain — read models, indexes and the checkpoint — for
    /// one atomic store batch.
    pub fn drain_changes(&mut self) -> Vec<Change> {
        let mut changes = self.models.drain_changes();
        self.ids.drain_changes(&mut changes);
        let mut corrected = std::mem::take(&mut self.changed_corrections);
        corrected.sort_unstable();
        corrected.dedup();
        for seq in corrected {
            if let Some(state) = self.corrections.get(&seq) {
                let value = rmp_serde::to_vec(state).expect("correction state encodes");
                changes.push((
                    format!("{CORRECTIONS_PREFIX}{seq:016x}").into_bytes(),
                    Some(value),
                ));
            }
        }
        changes.push((
            CHECKPOINT_KEY.to_vec(),
            Some(self.applied_seq.to_be_bytes().to_vec()),
        ));
        changes
    }
}

/// The event a correction or retraction supersedes.
pub fn supersedes(payload: &Payload) -> Option<EventId> {
    match payload {
        Payload::EventCorrected(c) => Some(c.supersedes),
        Payload::EventRetracted(r) => Some(r.supersedes),
        _ => None,
    }
}
