//! The two replays along their lines: "as known" (the log prefix) and "as happened"
//! (the occurred-time order), each starting from the nearest usable checkpoint in memory
//! or snapshot on disk, keeping the checkpoints and writing the snapshots it folds past.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use proto_events::Timestamp;
use samla_log::{Head, ReadRange};
use tokio::sync::mpsc;

use crate::error::ProjectorError;
use crate::folder::Folder;
use crate::prepare::RawEvent;
use crate::replay::checkpoints::Checkpoint;
use crate::replay::index::{Key, OccurredIndex, nanos, place, timestamp};
use crate::replay::run::{Run, Source};
use crate::replay::snapshot::{self, Header, StateStore};
use crate::replay::{Replayed, Replayer, Sense, source};
use crate::store::KvStore;

/// The most events read into memory at once between snapshot boundaries.
const CHUNK_MAX: u64 = 10_000;
/// Events decoded per step while building the occurred-time index.
const INDEX_CHUNK: usize = 20_000;

/// Where a replay starts: the line's grid intervals and what it may start from.
pub(super) struct Plan {
    pub sense: Sense,
    pub target: u64,
    /// Snapshots on disk every this many events.
    pub snapshot_every: u64,
    /// Checkpoints in memory every this many events (0: none).
    pub checkpoint_every: u64,
    /// Fill the checkpoints from the first one missing, rather than starting as near
    /// `target` as possible ([`Replayer::warm`]).
    pub fill: bool,
}

/// Events a replay's reader may read ahead of its fold.
const READ_AHEAD: usize = 4096;

/// Aborts the task when dropped (a replay that fails or is cancelled stops its reader).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends the records of a bounded read, which must be `first, first + 1, …` without a
/// gap, until the read ends, a gap or an error (sent as an error), or the fold stops.
async fn read_in_order(
    mut records: samla_log::Records,
    first: u64,
    sender: mpsc::Sender<Result<RawEvent, ProjectorError>>,
) {
    let mut expected = first;
    while let Some(record) = records.next().await {
        let raw = match record {
            Ok(record) if record.seq() == expected => Ok(RawEvent::from(record)),
            Ok(record) => Err(ProjectorError::Log(samla_log::LogError::Unavailable {
                reason: format!(
                    "reading the log for a replay: sequence {} came where {expected} was due",
                    record.seq()
                ),
            })),
            Err(error) => Err(ProjectorError::Log(error)),
        };
        let failed = raw.is_err();
        if sender.send(raw).await.is_err() || failed {
            return;
        }
        expected += 1;
    }
}

/// What a replay started from.
pub(super) struct Start {
    /// 0: the start of the line.
    pub position: u64,
    pub from_snapshot: Option<Header>,
}

impl Replayer {
    /// "As known": the prefix `1..=seq`, or up to the last event recorded by `time`.
    pub(super) async fn known(
        &self,
        seq: Option<u64>,
        time: Option<Timestamp>,
        want_digest: bool,
        fill: bool,
    ) -> Result<(Replayed, Option<String>), ProjectorError> {
        let log = &self.inner.log;
        let head = log.head().await?;
        self.note_head(head.last_seq);
        let target = match (seq, time) {
            (Some(seq), _) if seq > head.last_seq => {
                return Err(ProjectorError::BeyondHead {
                    asked: seq,
                    head: head.last_seq,
                });
            }
            (Some(seq), _) => seq,
            (None, Some(time)) => self.known_seq_at(time, &head).await?,
            (None, None) => head.last_seq,
        };
        let plan = Plan {
            sense: Sense::Known,
            target,
            snapshot_every: self.interval(head.last_seq),
            checkpoint_every: self.checkpoint_interval(head.last_seq),
            fill,
        };
        let (mut run, start) = self.start(&plan, None, None).await?;
        // A reader task reads ahead while the fold works (see `run.rs`).
        let (sender, mut receiver) = mpsc::channel(READ_AHEAD);
        // Held until the fold is done; dropping it stops the reader.
        let _reader = match run.position < target {
            true => {
                let records = log.read(ReadRange::span(run.position + 1, target)).await?;
                Some(AbortOnDrop(tokio::spawn(read_in_order(
                    records,
                    run.position + 1,
                    sender,
                ))))
            }
            false => None,
        };
        while run.position < target {
            let (next_snapshot, next_checkpoint, chunk_end) = plan.next_stops(run.position);
            let count = (chunk_end - run.position) as usize;
            run.fold_from(
                log,
                Source::Reading(&mut receiver),
                count,
                Sense::Known,
                self.inner.config.batch_max,
            )
            .await?;
            let key = (run.last_recorded.map_or(0, nanos), run.position);
            if Some(run.position) == next_checkpoint {
                self.keep_checkpoint(&run, Sense::Known, key);
            }
            if run.position == next_snapshot {
                self.write_boundary(&run, Sense::Known, key, head.last_seq)
                    .await?;
            }
        }
        let at = match (time, seq) {
            (Some(time), _) => time,
            _ if target == 0 => head.identity.created,
            _ => match run.last_recorded {
                Some(recorded) => recorded,
                None => source::recorded_at(log, target).await?,
            },
        };
        self.finish(run, start, Sense::Known, at, target, want_digest)
            .await
    }

    /// The last sequence recorded at or before `time`.
    pub(super) async fn known_seq_at(
        &self,
        time: Timestamp,
        head: &Head,
    ) -> Result<u64, ProjectorError> {
        if head.last_seq == 0 {
            return Ok(0);
        }
        if head.last_recorded_at.is_some_and(|last| last <= time) {
            return Ok(head.last_seq);
        }
        let (mut low, mut high) = (0, head.last_seq);
        let wanted = nanos(time);
        let mut narrow = |position: u64, recorded: i64| {
            if position > head.last_seq {
                return;
            }
            if recorded <= wanted {
                low = low.max(position);
            } else {
                high = high.min(position);
            }
        };
        for ((sense, position), (_, header)) in self.catalogue().iter() {
            if *sense == Sense::Known {
                narrow(*position, header.last_key_time);
            }
        }
        for (position, recorded) in self.checkpoints().known_times() {
            narrow(position, recorded);
        }
        source::last_recorded_by(&self.inner.log, time, low, high.max(low + 1)).await
    }

    /// "As happened": the events that occurred by `time`, in occurred order.
    pub(super) async fn happened(
        &self,
        time: Timestamp,
        want_digest: bool,
        fill: bool,
    ) -> Result<(Replayed, Option<String>), ProjectorError> {
        let log = &self.inner.log;
        let head = log.head().await?.last_seq;
        self.note_head(head);
        let every = self.interval(head);
        let checkpoint_every = self.checkpoint_interval(head);
        let (seqs, keys, usable, built_head, target) = {
            let mut index = self.inner.index.lock().await;
            self.extend_index(&mut index, head).await?;
            let count = index.count_until(nanos(time));
            let target = count as u64;
            // The key of the event at each position where a snapshot or a checkpoint may
            // be taken.
            let mut keys: BTreeMap<u64, Key> = BTreeMap::new();
            for step in [every, checkpoint_every] {
                if step == 0 {
                    continue;
                }
                for k in 1..=target / step {
                    if let Some(key) = index.key_at(k * step) {
                        keys.insert(k * step, key);
                    }
                }
            }
            // A snapshot at position p holds the first p events of the order it was built
            // on. The log only grows, so it holds our first p events exactly when its last
            // key is our p-th key (an event sorting before it would have pushed our p-th
            // key down). One built on a head at or below ours that fails that never will
            // again: it is deleted. One built on a newer head may be right for the newer
            // order: it is left alone.
            let mut stale = Vec::new();
            let mut usable: BTreeMap<u64, Key> = BTreeMap::new();
            for ((sense, position), (path, header)) in self.catalogue().iter() {
                if *sense != Sense::Happened {
                    continue;
                }
                let theirs = (header.last_key_time, header.last_key_seq);
                if index.key_at(*position) == Some(theirs) {
                    if *position <= target {
                        usable.insert(*position, theirs);
                    }
                } else if header.built_head <= index.head() {
                    stale.push((*position, path.clone()));
                }
            }
            self.forget(Sense::Happened, &stale);
            // The same rule for the checkpoints in memory. They were all built on heads
            // at or below the index's (it only grows), so a mismatch is stale for good.
            let dropped = self
                .checkpoints()
                .drop_where(Sense::Happened, |checkpoint| {
                    index.key_at(checkpoint.position) != Some(checkpoint.key)
                });
            self.inner
                .counters
                .checkpoints_dropped
                .fetch_add(dropped, Ordering::Relaxed);
            (index.seqs_until(count), keys, usable, index.head(), target)
        };
        let plan = Plan {
            sense: Sense::Happened,
            target,
            snapshot_every: every,
            checkpoint_every,
            fill,
        };
        let (mut run, start) = self.start(&plan, Some(&usable), Some(&keys)).await?;
        while run.position < target {
            let (next_snapshot, next_checkpoint, chunk_end) = plan.next_stops(run.position);
            let wanted = &seqs[run.position as usize..chunk_end as usize];
            let mut found = source::read_seqs(log, wanted).await?;
            let raws: Vec<RawEvent> = wanted.iter().filter_map(|seq| found.remove(seq)).collect();
            run.fold(log, raws, Sense::Happened, self.inner.config.batch_max)
                .await?;
            let Some(key) = keys.get(&run.position).copied() else {
                continue;
            };
            if Some(run.position) == next_checkpoint {
                self.keep_checkpoint(&run, Sense::Happened, key);
            }
            if run.position == next_snapshot {
                self.write_boundary(&run, Sense::Happened, key, built_head)
                    .await?;
            }
        }
        self.finish(run, start, Sense::Happened, time, target, want_digest)
            .await
    }

    /// Reads what was appended since the index was last extended, up to `head`.
    async fn extend_index(
        &self,
        index: &mut OccurredIndex,
        head: u64,
    ) -> Result<(), ProjectorError> {
        if index.head() >= head {
            return Ok(());
        }
        let mut records = self
            .inner
            .log
            .read(ReadRange::span(index.head() + 1, head))
            .await?;
        let mut done = false;
        while !done {
            let mut raws = Vec::with_capacity(INDEX_CHUNK);
            while raws.len() < INDEX_CHUNK {
                match records.next().await {
                    Some(record) => raws.push(RawEvent::from(record?)),
                    None => {
                        done = true;
                        break;
                    }
                }
            }
            let placed =
                tokio::task::spawn_blocking(move || raws.iter().map(place).collect::<Vec<_>>())
                    .await
                    .map_err(|e| ProjectorError::Storage(e.to_string()))?;
            index.extend(&placed).map_err(|reason| {
                ProjectorError::Log(samla_log::LogError::Unavailable { reason })
            })?;
        }
        if index.head() < head {
            return Err(ProjectorError::Log(samla_log::LogError::Unavailable {
                reason: format!(
                    "indexing the log stopped at sequence {} of {head}",
                    index.head()
                ),
            }));
        }
        self.inner
            .counters
            .indexed_events
            .store(index.head(), Ordering::Relaxed);
        Ok(())
    }

    /// The state to start from: the nearest checkpoint in memory, or a snapshot on disk if
    /// one is nearer, at or below the plan's target (with `fill`, at or below the first
    /// checkpoint missing); or the start of the line. Unreadable snapshots met on the way
    /// are deleted. `only` and `keys` ("as happened"): the snapshot positions allowed,
    /// and the key at each grid position of the current order, with the last key each
    /// snapshot or checkpoint must hold — checked again here, as a replay on an older head
    /// may have kept a checkpoint since the caller dropped the stale ones.
    async fn start(
        &self,
        plan: &Plan,
        only: Option<&BTreeMap<u64, Key>>,
        keys: Option<&BTreeMap<u64, Key>>,
    ) -> Result<(Run, Start), ProjectorError> {
        let sense = plan.sense;
        let mut limit = plan.target;
        if plan.fill && plan.checkpoint_every > 0 {
            let reached = self.checkpoints().contiguous(sense, plan.checkpoint_every);
            limit = limit.min(reached + plan.checkpoint_every - 1);
        }
        let checkpoint = match limit {
            0 => None,
            _ => self.checkpoints().nearest(sense, limit, |checkpoint| {
                keys.is_none_or(|keys| keys.get(&checkpoint.position) == Some(&checkpoint.key))
            }),
        };
        let floor = checkpoint.as_ref().map_or(0, |c| c.position);
        let candidates: Vec<(u64, PathBuf)> = match limit {
            _ if limit <= floor => Vec::new(),
            _ => self
                .catalogue()
                .range((sense, floor + 1)..=(sense, limit))
                .rev()
                .filter(|((_, position), _)| only.is_none_or(|only| only.contains_key(position)))
                .map(|((_, position), (path, _))| (*position, path.clone()))
                .collect(),
        };
        for (position, path) in candidates {
            let expected = self.inner.expected.clone();
            let file = path.clone();
            let loaded = tokio::task::spawn_blocking(move || {
                let (header, store) = snapshot::load(&file, &expected, sense, position)?;
                let folder = Folder::load(&store).map_err(|error| error.to_string())?;
                if sense == Sense::Known && folder.applied_seq() != position {
                    return Err(format!(
                        "the checkpoint inside is {}, not {position}",
                        folder.applied_seq()
                    ));
                }
                Ok((header, folder))
            })
            .await
            .map_err(|e| ProjectorError::Storage(e.to_string()))?;
            match loaded {
                // Replaced meanwhile by a snapshot of a newer order: right for that one.
                Ok((header, _))
                    if only.is_some_and(|only| {
                        only.get(&position) != Some(&(header.last_key_time, header.last_key_seq))
                    }) => {}
                Ok((header, folder)) => {
                    self.inner
                        .counters
                        .snapshots_loaded
                        .fetch_add(1, Ordering::Relaxed);
                    let run = Run {
                        folder,
                        position,
                        last_seq: header.last_seq,
                        last_recorded: (sense == Sense::Known)
                            .then(|| timestamp(header.last_key_time)),
                        ..Run::default()
                    };
                    // Loaded once: later replays near here start from memory.
                    if plan.checkpoint_every > 0 && position % plan.checkpoint_every == 0 {
                        let key = (header.last_key_time, header.last_key_seq);
                        self.keep_checkpoint(&run, sense, key);
                    }
                    let start = Start {
                        position,
                        from_snapshot: Some(header),
                    };
                    return Ok((run, start));
                }
                Err(reason) => {
                    tracing::warn!(file = %path.display(), %reason, "snapshot refused; falling back");
                    self.forget(sense, &[(position, path)]);
                }
            }
        }
        let Some(checkpoint) = checkpoint else {
            let start = Start {
                position: 0,
                from_snapshot: None,
            };
            return Ok((Run::default(), start));
        };
        self.inner
            .counters
            .checkpoints_used
            .fetch_add(1, Ordering::Relaxed);
        let run = Run {
            folder: checkpoint.folder.clone(),
            position: checkpoint.position,
            last_seq: checkpoint.last_seq,
            last_recorded: checkpoint.last_recorded,
            ..Run::default()
        };
        let start = Start {
            position: checkpoint.position,
            from_snapshot: None,
        };
        Ok((run, start))
    }

    /// Keeps the state `run` reached as a checkpoint (a clone: O(1)).
    fn keep_checkpoint(&self, run: &Run, sense: Sense, key: Key) {
        if self.checkpoints().contains(sense, run.position) {
            return;
        }
        let checkpoint = Checkpoint {
            folder: run.folder.clone(),
            position: run.position,
            last_seq: run.last_seq,
            last_recorded: (sense == Sense::Known)
                .then_some(run.last_recorded)
                .flatten(),
            key,
        };
        if self.checkpoints().insert(sense, checkpoint) {
            self.inner
                .counters
                .checkpoints_made
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes the snapshot at the boundary `run` just reached, unless there is one.
    async fn write_boundary(
        &self,
        run: &Run,
        sense: Sense,
        key: Key,
        built_head: u64,
    ) -> Result<(), ProjectorError> {
        if self.catalogue().contains_key(&(sense, run.position)) {
            return Ok(());
        }
        let header = Header {
            format: snapshot::FORMAT,
            fold: self.inner.expected.fold.clone(),
            log: self.inner.expected.log.clone(),
            line: sense.as_str().to_string(),
            position: run.position,
            last_seq: run.last_seq,
            last_key_time: key.0,
            last_key_seq: key.1,
            built_head,
            body_len: 0,
            body_sha256: String::new(),
        };
        let dir = self.inner.dir.clone();
        let folder = run.folder.clone();
        let written = tokio::task::spawn_blocking(move || {
            let store = whole_store(&folder)?;
            snapshot::write(&dir, header, &store)
        })
        .await
        .map_err(|e| ProjectorError::Storage(e.to_string()))?;
        match written {
            Ok((path, header)) => {
                self.inner
                    .counters
                    .snapshots_written
                    .fetch_add(1, Ordering::Relaxed);
                self.catalogue()
                    .insert((sense, header.position), (path, header));
            }
            // A full disk must not fail the replay: snapshots only make it faster.
            Err(error) => tracing::warn!(%error, "cannot write a replay snapshot"),
        }
        Ok(())
    }

    /// Deletes the snapshots off each line's current grid (the interval doubled as the
    /// log grew), keeping the disk a line takes bounded, and drops the checkpoints off
    /// theirs. They were good; they are only more than the bound allows.
    pub(super) fn prune(&self) {
        // Both lines are as long as the log.
        let head = self.inner.counters.log_head.load(Ordering::Relaxed);
        let interval = self.interval(head);
        {
            let mut catalogue = self.catalogue();
            let off_grid: Vec<(Sense, u64)> = catalogue
                .keys()
                .filter(|(_, position)| position % interval != 0)
                .copied()
                .collect();
            for key in off_grid {
                if let Some((path, _)) = catalogue.remove(&key) {
                    snapshot::remove(&path);
                }
            }
        }
        let mut checkpoints = self.checkpoints();
        checkpoints.prune(self.checkpoint_interval(head));
        self.inner
            .counters
            .checkpoints_kept
            .store(checkpoints.len() as u64, Ordering::Relaxed);
    }

    fn note_head(&self, head: u64) {
        self.inner
            .counters
            .log_head
            .fetch_max(head, Ordering::Relaxed);
    }

    /// Deletes unusable snapshots and forgets them.
    fn forget(&self, sense: Sense, snapshots: &[(u64, PathBuf)]) {
        if snapshots.is_empty() {
            return;
        }
        let mut catalogue = self.catalogue();
        for (position, path) in snapshots {
            catalogue.remove(&(sense, *position));
            snapshot::remove(path);
            self.inner
                .counters
                .snapshots_refused
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    async fn finish(
        &self,
        run: Run,
        start: Start,
        sense: Sense,
        at: Timestamp,
        events: u64,
        want_digest: bool,
    ) -> Result<(Replayed, Option<String>), ProjectorError> {
        let digest = match want_digest {
            true => {
                let folder = run.folder.clone();
                let digest = tokio::task::spawn_blocking(move || whole_store(&folder)?.digest())
                    .await
                    .map_err(|e| ProjectorError::Storage(e.to_string()))??;
                Some(digest)
            }
            false => None,
        };
        let replayed = Replayed {
            models: run.folder.models,
            sense,
            at,
            seq: run.last_seq,
            events,
            folded: run.folded,
            started_from: start.position,
            from_snapshot: start.from_snapshot.is_some(),
        };
        Ok((replayed, digest))
    }
}

impl Plan {
    /// From `position`: the next snapshot position, the next checkpoint position (if
    /// checkpoints are kept), and where the next chunk of events ends (the nearest of
    /// those, the target, and a bounded read).
    fn next_stops(&self, position: u64) -> (u64, Option<u64>, u64) {
        let next_snapshot = (position / self.snapshot_every + 1) * self.snapshot_every;
        let next_checkpoint = (self.checkpoint_every > 0)
            .then(|| (position / self.checkpoint_every + 1) * self.checkpoint_every);
        let chunk_end = self
            .target
            .min(next_snapshot)
            .min(next_checkpoint.unwrap_or(u64::MAX))
            .min(position + CHUNK_MAX);
        (next_snapshot, next_checkpoint, chunk_end)
    }
}

/// The whole key-value state of `folder`, as a snapshot stores it. Blocking.
fn whole_store(folder: &Folder) -> Result<StateStore, ProjectorError> {
    let mut store = StateStore::default();
    store.apply(folder.full_state())?;
    Ok(store)
}
