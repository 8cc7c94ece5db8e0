//! One replay in progress: a [`Folder`] started empty, from a checkpoint in memory or from
//! a snapshot, folded along a line batch by batch with the engine's own steps (prepare →
//! fetch what corrections supersede → apply). No store is kept beside it: the changes
//! of each batch are discarded, and a snapshot or a digest encodes the folder whole
//! ([`Folder::full_state`]) when it is wanted.
//!
//! The CPU work (prepare, apply) runs on tokio's blocking pool, one batch at a time, so a
//! long replay does not stall the server's other tasks.

use std::collections::HashMap;

use proto_events::Timestamp;
use samla_log::Log;

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

fn task_failed(error: tokio::task::JoinError) -> ProjectorError {
    ProjectorError::Storage(format!("a replay task failed: {error}"))
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
        // Corrections mostly point at recent events: look in this chunk before the log.
        let nearby: HashMap<u64, RawEvent> = raws.iter().map(|r| (r.seq, r.clone())).collect();
        for batch in raws.chunks(batch_max.max(1)) {
            let batch = batch.to_vec();
            let count = batch.len() as u64;
            let highest = batch.iter().map(|raw| raw.seq).max().unwrap_or(0);
            let last_recorded = batch.last().map(|raw| raw.recorded_at);
            let folder = std::mem::take(&mut self.folder);
            let (folder, prepared, wanted) = tokio::task::spawn_blocking(move || {
                let prepared: Vec<Prepared> = batch.iter().map(prepare).collect();
                let wanted = folder.wanted(&prepared);
                (folder, prepared, wanted)
            })
            .await
            .map_err(task_failed)?;
            let (near, far): (Vec<u64>, Vec<u64>) =
                wanted.into_iter().partition(|seq| nearby.contains_key(seq));
            let mut fetched: HashMap<u64, Prepared> = near
                .into_iter()
                .filter_map(|seq| nearby.get(&seq).map(|raw| (seq, prepare(raw))))
                .collect();
            for raw in get_many(log, far).await? {
                fetched.insert(raw.seq, prepare(&raw));
            }
            self.folder = tokio::task::spawn_blocking(move || {
                let mut folder = folder;
                match sense {
                    Sense::Known => folder.apply_batch(prepared, &fetched),
                    Sense::Happened => folder.apply_in_given_order(prepared, &fetched),
                };
                folder.discard_changes();
                folder
            })
            .await
            .map_err(task_failed)?;
            self.position += count;
            self.folded += count;
            self.last_seq = self.last_seq.max(highest);
            if last_recorded.is_some() {
                self.last_recorded = last_recorded;
            }
        }
        Ok(())
    }
}
