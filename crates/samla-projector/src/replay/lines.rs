//! The two replays along their lines: "as known" (the log prefix) and "as happened"
//! (the occurred-time order), each starting from the nearest usable snapshot and writing
//! the missing ones it folds past.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use proto_events::Timestamp;
use samla_log::{Head, ReadRange};

use crate::error::ProjectorError;
use crate::folder::Folder;
use crate::prepare::RawEvent;
use crate::replay::index::{Key, OccurredIndex, nanos, place, timestamp};
use crate::replay::run::Run;
use crate::replay::snapshot::{self, Header, StateStore};
use crate::replay::{Replayed, Replayer, Sense, source};

/// The most events read into memory at once between snapshot boundaries.
const CHUNK_MAX: u64 = 10_000;
/// Events decoded per step while building the occurred-time index.
const INDEX_CHUNK: usize = 20_000;

impl Replayer {
    /// "As known": the prefix `1..=seq`, or up to the last event recorded by `time`.
    pub(super) async fn known(
        &self,
        seq: Option<u64>,
        time: Option<Timestamp>,
        want_digest: bool,
    ) -> Result<(Replayed, Option<StateStore>), ProjectorError> {
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
        let every = self.interval(head.last_seq);
        let (mut run, start) = self
            .start(Sense::Known, target, every, want_digest, None)
            .await?;
        let mut records = match run.position < target {
            true => Some(log.read(ReadRange::span(run.position + 1, target)).await?),
            false => None,
        };
        while let Some(records) = records.as_mut()
            && run.position < target
        {
            let next_boundary = (run.position / every + 1) * every;
            let chunk_end = target.min(next_boundary).min(run.position + CHUNK_MAX);
            let mut raws = Vec::with_capacity((chunk_end - run.position) as usize);
            while (raws.len() as u64) < chunk_end - run.position {
                match records.next().await {
                    Some(record) => raws.push(RawEvent::from(record?)),
                    None => break,
                }
            }
            let expected_seq = run.position + raws.len() as u64;
            if raws.is_empty() || raws.last().map(|raw| raw.seq) != Some(expected_seq) {
                return Err(ProjectorError::Log(samla_log::LogError::Unavailable {
                    reason: format!(
                        "reading the log for a replay stopped before sequence {chunk_end}"
                    ),
                }));
            }
            run.fold(log, raws, Sense::Known, self.inner.config.batch_max)
                .await?;
            if run.position == next_boundary {
                let recorded = run.last_recorded.map_or(0, nanos);
                let key = (recorded, next_boundary);
                self.write_boundary(&mut run, Sense::Known, key, head.last_seq)
                    .await?;
            }
        }
        let at = match (time, seq) {
            (Some(time), _) => time,
            _ if target == 0 => head.identity.created,
            _ => match (run.last_recorded, &start) {
                (Some(recorded), _) => recorded,
                (None, Some(header)) => timestamp(header.last_key_time),
                (None, None) => source::recorded_at(log, target).await?,
            },
        };
        self.finish(run, start, Sense::Known, at, target).await
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
        for ((sense, position), (_, header)) in self.catalogue().iter() {
            if *sense != Sense::Known || *position > head.last_seq {
                continue;
            }
            if header.last_key_time <= wanted {
                low = low.max(*position);
            } else {
                high = high.min(*position);
            }
        }
        source::last_recorded_by(&self.inner.log, time, low, high.max(low + 1)).await
    }

    /// "As happened": the events that occurred by `time`, in occurred order.
    pub(super) async fn happened(
        &self,
        time: Timestamp,
        want_digest: bool,
    ) -> Result<(Replayed, Option<StateStore>), ProjectorError> {
        let log = &self.inner.log;
        let head = log.head().await?.last_seq;
        self.note_head(head);
        let every = self.interval(head);
        let (seqs, boundaries, usable, built_head, target) = {
            let mut index = self.inner.index.lock().await;
            self.extend_index(&mut index, head).await?;
            let count = index.count_until(nanos(time));
            let target = count as u64;
            let boundaries: BTreeMap<u64, Key> = (1..=target / every)
                .filter_map(|k| index.key_at(k * every).map(|key| (k * every, key)))
                .collect();
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
            (
                index.seqs_until(count),
                boundaries,
                usable,
                index.head(),
                target,
            )
        };
        let (mut run, start) = self
            .start(Sense::Happened, target, every, want_digest, Some(&usable))
            .await?;
        while run.position < target {
            let next_boundary = (run.position / every + 1) * every;
            let chunk_end = target.min(next_boundary).min(run.position + CHUNK_MAX);
            let wanted = &seqs[run.position as usize..chunk_end as usize];
            let mut found = source::read_seqs(log, wanted).await?;
            let raws: Vec<RawEvent> = wanted.iter().filter_map(|seq| found.remove(seq)).collect();
            run.fold(log, raws, Sense::Happened, self.inner.config.batch_max)
                .await?;
            if run.position == next_boundary
                && let Some(key) = boundaries.get(&next_boundary).copied()
            {
                self.write_boundary(&mut run, Sense::Happened, key, built_head)
                    .await?;
            }
        }
        self.finish(run, start, Sense::Happened, time, target).await
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

    /// The state to start from: the nearest usable snapshot at or below `target`, or
    /// nothing. Unreadable snapshots met on the way are deleted. `only`: the positions
    /// allowed, with the last key each must hold ("as happened").
    async fn start(
        &self,
        sense: Sense,
        target: u64,
        every: u64,
        want_digest: bool,
        only: Option<&BTreeMap<u64, Key>>,
    ) -> Result<(Run, Option<Header>), ProjectorError> {
        let candidates: Vec<(u64, PathBuf)> = match target {
            0 => Vec::new(),
            _ => self
                .catalogue()
                .range((sense, 1)..=(sense, target))
                .rev()
                .filter(|((_, position), _)| only.is_none_or(|only| only.contains_key(position)))
                .map(|((_, position), (path, _))| (*position, path.clone()))
                .collect(),
        };
        for (position, path) in candidates {
            let keep_store = want_digest || (position / every + 1) * every <= target;
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
                Ok((header, folder, keep_store.then_some(store)))
            })
            .await
            .map_err(|e| ProjectorError::Storage(e.to_string()))?;
            match loaded {
                // Replaced meanwhile by a snapshot of a newer order: right for that one.
                Ok((header, _, _))
                    if only.is_some_and(|only| {
                        only.get(&position) != Some(&(header.last_key_time, header.last_key_seq))
                    }) => {}
                Ok((header, folder, store)) => {
                    self.inner
                        .counters
                        .snapshots_loaded
                        .fetch_add(1, Ordering::Relaxed);
                    let run = Run {
                        folder,
                        store,
                        position,
                        last_seq: header.last_seq,
                        ..Run::default()
                    };
                    return Ok((run, Some(header)));
                }
                Err(reason) => {
                    tracing::warn!(file = %path.display(), %reason, "snapshot refused; falling back");
                    self.forget(sense, &[(position, path)]);
                }
            }
        }
        let keep_store = want_digest || every <= target;
        let run = Run {
            store: keep_store.then(StateStore::default),
            ..Run::default()
        };
        Ok((run, None))
    }

    /// Writes the snapshot at the boundary `run` just reached, unless there is one.
    async fn write_boundary(
        &self,
        run: &mut Run,
        sense: Sense,
        key: Key,
        built_head: u64,
    ) -> Result<(), ProjectorError> {
        if self.catalogue().contains_key(&(sense, run.position)) || run.store.is_none() {
            return Ok(());
        }
        run.drain().await?;
        let Some(store) = run.store.take() else {
            return Ok(());
        };
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
        let (store, written) = tokio::task::spawn_blocking(move || {
            let written = snapshot::write(&dir, header, &store);
            (store, written)
        })
        .await
        .map_err(|e| ProjectorError::Storage(e.to_string()))?;
        run.store = Some(store);
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
    /// log grew), keeping the disk a line takes bounded. They were good; they are only
    /// more than the bound allows.
    pub(super) fn prune(&self) {
        // Both lines are as long as the log.
        let interval = self.interval(self.inner.counters.log_head.load(Ordering::Relaxed));
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
        mut run: Run,
        start: Option<Header>,
        sense: Sense,
        at: Timestamp,
        events: u64,
    ) -> Result<(Replayed, Option<StateStore>), ProjectorError> {
        run.drain().await?;
        let replayed = Replayed {
            models: run.folder.models,
            sense,
            at,
            seq: run.last_seq,
            events,
            folded: run.folded,
            started_from: start.map_or(0, |header| header.position),
        };
        Ok((replayed, run.store))
    }
}
