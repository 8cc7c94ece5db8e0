//! One replay in progress: a [`Folder`] started empty, from a checkpoint in memory or from
//! a snapshot, folded along a line batch by batch with the engine's own steps (prepare →
//! fetch what corrections supersede → apply). No store is kept beside it: the changes
//! of each batch are discarded, and a snapshot or a digest encodes the folder whole
//! ([`Folder::full_state`]) when it is wanted.
//!
//! The CPU work (prepare, apply) runs on tokio's blocking pool, so a long replay does not
//! stall the server's other tasks. It is pipelined in pieces of [`PIECE`] events: while
//! one piece is applied, the next is read and prepared (decoded and checked) on the other
//! core. Folding the ~500 events from a checkpoint to a query's moment is most of an
//! as-of query's time, and about a third of that is reading and preparing.

use std::collections::HashMap;

use proto_events::Timestamp;
use samla_log::Log;
use tokio::sync::mpsc;

use crate::error::ProjectorError;
use crate::folder::Folder;
use crate::prepare::{Prepared, RawEvent, prepare};
use crate::replay::Sense;
use crate::replay::source::get_many;

#[derive(Debug, Default)]
pub(crate) struct Run {
    pub folder: Folder,
    /// Events folded along the line (the start's position included).
    pub position: u64,
    /// Events folded by this replay (after its start).
    pub folded: u64,
    /// The highest sequence folded.
    pub last_seq: u64,
    /// `recorded_at` of the last event folded by this replay.
    pub last_recorded: Option<Timestamp>,
}

/// Events per piece of the pipeline: small enough that reading and preparing the next
/// piece overlaps applying this one even for a short fold, large enough that the hand-
/// overs between tasks cost little.
const PIECE: usize = 128;

fn task_failed(error: tokio::task::JoinError) -> ProjectorError {
    ProjectorError::Storage(format!("a replay task failed: {error}"))
}

/// Where a fold's events come from, in line order.
pub(crate) enum Source<'a> {
    /// Events already in memory.
    Given(std::vec::IntoIter<RawEvent>),
    /// Events a reader task sends as it reads them from the log.
    Reading(&'a mut mpsc::Receiver<Result<RawEvent, ProjectorError>>),
}

impl Source<'_> {
    /// The next `count` events (fewer only if the source ends: an error for a reading).
    async fn take(&mut self, count: usize) -> Result<Vec<RawEvent>, ProjectorError> {
        match self {
            Source::Given(events) => Ok(events.by_ref().take(count).collect()),
            Source::Reading(receiver) => {
                let mut raws = Vec::with_capacity(count);
                while raws.len() < count {
                    match receiver.recv().await {
                        Some(raw) => raws.push(raw?),
                        None => {
                            return Err(ProjectorError::Log(samla_log::LogError::Unavailable {
                                reason: "reading the log for a replay stopped early".to_owned(),
                            }));
                        }
                    }
                }
                Ok(raws)
            }
        }
    }
}

/// A piece read and being prepared on the blocking pool.
type Preparing = tokio::task::JoinHandle<(Vec<RawEvent>, Vec<Prepared>)>;

fn prepare_piece(raws: Vec<RawEvent>) -> Preparing {
    tokio::task::spawn_blocking(move || {
        let prepared = raws.iter().map(prepare).collect();
        (raws, prepared)
    })
}

impl Run {
    /// Folds `raws`, the next events along the line, in the order given.
    pub(crate) async fn fold(
        &mut self,
        log: &Log,
        raws: Vec<RawEvent>,
        sense: Sense,
        batch_max: usize,
    ) -> Result<(), ProjectorError> {
        let count = raws.len();
        self.fold_from(
            log,
            Source::Given(raws.into_iter()),
            count,
            sense,
            batch_max,
        )
        .await
    }

    /// Folds the next `count` events of `source`, pipelined: the next piece is read and
    /// prepared while this one is applied.
    pub(crate) async fn fold_from(
        &mut self,
        log: &Log,
        mut source: Source<'_>,
        count: usize,
        sense: Sense,
        batch_max: usize,
    ) -> Result<(), ProjectorError> {
        let piece = PIECE.min(batch_max.max(1));
        // Corrections mostly point at recent events: look among this fold's before the log.
        let mut nearby: HashMap<u64, RawEvent> = HashMap::with_capacity(count);
        let mut remaining = count;
        let first = source.take(piece.min(remaining)).await?;
        remaining -= first.len();
        let mut preparing = Some(prepare_piece(first));
        while let Some(current) = preparing.take() {
            let (raws, prepared) = current.await.map_err(task_failed)?;
            if raws.is_empty() {
                break;
            }
            nearby.extend(raws.iter().map(|raw| (raw.seq, raw.clone())));
            let wanted = self.folder.wanted(&prepared);
            let (near, far): (Vec<u64>, Vec<u64>) =
                wanted.into_iter().partition(|seq| nearby.contains_key(seq));
            let mut fetched: HashMap<u64, Prepared> = near
                .into_iter()
                .filter_map(|seq| nearby.get(&seq).map(|raw| (seq, prepare(raw))))
                .collect();
            for raw in get_many(log, far).await? {
                fetched.insert(raw.seq, prepare(&raw));
            }
            let folded = raws.len() as u64;
            let highest = raws.iter().map(|raw| raw.seq).max().unwrap_or(0);
            let last_recorded = raws.last().map(|raw| raw.recorded_at);
            let folder = std::mem::take(&mut self.folder);
            let applying = tokio::task::spawn_blocking(move || {
                let mut folder = folder;
                match sense {
                    Sense::Known => folder.apply_batch(prepared, &fetched),
                    Sense::Happened => folder.apply_in_given_order(prepared, &fetched),
                };
                folder.discard_changes();
                folder
            });
            // Meanwhile: read the next piece and start preparing it.
            let next = async {
                if remaining == 0 {
                    return Ok(None);
                }
                let raws = source.take(piece.min(remaining)).await?;
                remaining -= raws.len();
                Ok::<_, ProjectorError>(Some(prepare_piece(raws)))
            };
            let (applied, next) = tokio::join!(applying, next);
            self.folder = applied.map_err(task_failed)?;
            preparing = next?;
            self.position += folded;
            self.folded += folded;
            self.last_seq = self.last_seq.max(highest);
            if last_recorded.is_some() {
                self.last_recorded = last_recorded;
            }
        }
        Ok(())
    }
}
