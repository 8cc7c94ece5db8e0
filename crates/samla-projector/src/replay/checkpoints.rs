//! Checkpoints in memory: whole folders kept along each line every
//! [`ReplayConfig::checkpoint_every`](crate::replay::ReplayConfig) events, so a replay
//! clones the nearest one (O(1): the read models and indexes are persistent maps, see
//! [`crate::table`]) and folds at most one interval of events — instead of reading,
//! verifying and decoding a snapshot file into a fresh state every time.
//!
//! Consecutive checkpoints share every node of their maps that the events between them
//! did not change, so one costs about what its interval changed (the rows touched and the
//! tree paths to them), not the whole state. The count per line is bounded the way the
//! snapshots on disk are: past `max_checkpoints_per_line` intervals, the interval doubles
//! and the checkpoints off the coarser grid are dropped.
//!
//! "As happened" checkpoints carry the key of their last event in the order they were
//! built on; one is usable while that key is still the `position`-th of the current order
//! (nothing appended since sorts before it), and is dropped otherwise — the rule of the
//! "as happened" snapshots, see `lines.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use proto_events::Timestamp;

use crate::folder::Folder;
use crate::replay::Sense;
use crate::replay::index::Key;

/// One folded state along a line.
#[derive(Debug)]
pub(crate) struct Checkpoint {
    /// The state after the first `position` events of the line, with no pending changes.
    pub folder: Folder,
    /// Events folded along the line.
    pub position: u64,
    /// The highest sequence folded.
    pub last_seq: u64,
    /// For "as known": the `recorded_at` of event `position`.
    pub last_recorded: Option<Timestamp>,
    /// The key of event `position` along the line: for "as known" its recorded time
    /// (Unix nanoseconds) and sequence, for "as happened" its place in the order.
    pub key: Key,
}

/// The checkpoints of both lines, by line and position.
#[derive(Debug, Default)]
pub(crate) struct Checkpoints {
    kept: BTreeMap<(Sense, u64), Arc<Checkpoint>>,
}

impl Checkpoints {
    pub(crate) fn len(&self) -> usize {
        self.kept.len()
    }

    pub(crate) fn contains(&self, sense: Sense, position: u64) -> bool {
        self.kept.contains_key(&(sense, position))
    }

    pub(crate) fn insert(&mut self, sense: Sense, checkpoint: Checkpoint) -> bool {
        let key = (sense, checkpoint.position);
        if self.kept.contains_key(&key) {
            return false;
        }
        self.kept.insert(key, Arc::new(checkpoint));
        true
    }

    /// The checkpoint nearest at or below `limit` on `sense`'s line that is `usable`.
    pub(crate) fn nearest(
        &self,
        sense: Sense,
        limit: u64,
        usable: impl Fn(&Checkpoint) -> bool,
    ) -> Option<Arc<Checkpoint>> {
        self.kept
            .range((sense, 1)..=(sense, limit))
            .rev()
            .map(|(_, checkpoint)| checkpoint)
            .find(|checkpoint| usable(checkpoint))
            .cloned()
    }

    /// The highest grid position `p` (a multiple of `interval`) such that every grid
    /// position from `interval` to `p` has a checkpoint; 0 if the first is missing.
    pub(crate) fn contiguous(&self, sense: Sense, interval: u64) -> u64 {
        let mut reached = 0;
        for (_, position) in self
            .kept
            .range((sense, 1)..=(sense, u64::MAX))
            .map(|(k, _)| *k)
        {
            if position % interval != 0 {
                continue;
            }
            if position != reached + interval {
                break;
            }
            reached = position;
        }
        reached
    }

    /// Drops the checkpoints of `sense`'s line for which `stale` holds; returns how many.
    pub(crate) fn drop_where(&mut self, sense: Sense, stale: impl Fn(&Checkpoint) -> bool) -> u64 {
        let before = self.kept.len();
        self.kept
            .retain(|(line, _), checkpoint| *line != sense || !stale(checkpoint));
        (before - self.kept.len()) as u64
    }

    /// Drops the checkpoints off the grid of `interval`.
    pub(crate) fn prune(&mut self, interval: u64) {
        self.kept
            .retain(|(_, position), _| interval > 0 && position % interval == 0);
    }

    /// The "as known" checkpoints' recorded times, to narrow a search by time.
    pub(crate) fn known_times(&self) -> impl Iterator<Item = (u64, i64)> + '_ {
        self.kept
            .range((Sense::Known, 1)..=(Sense::Known, u64::MAX))
            .map(|((_, position), checkpoint)| (*position, checkpoint.key.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(position: u64) -> Checkpoint {
        Checkpoint {
            folder: Folder::new(),
            position,
            last_seq: position,
            last_recorded: None,
            key: (position as i64, position),
        }
    }

    #[test]
    fn nearest_contiguous_and_pruning_follow_the_grid() {
        let mut kept = Checkpoints::default();
        for position in [100, 200, 300, 500, 600] {
            assert!(kept.insert(Sense::Known, checkpoint(position)));
        }
        assert!(!kept.insert(Sense::Known, checkpoint(200)), "kept once");
        kept.insert(Sense::Happened, checkpoint(100));
        let any = |_: &Checkpoint| true;
        assert_eq!(
            kept.nearest(Sense::Known, 450, any).map(|c| c.position),
            Some(300)
        );
        assert_eq!(
            kept.nearest(Sense::Known, 99, any).map(|c| c.position),
            None
        );
        let below_250 = kept.nearest(Sense::Known, 450, |c| c.position < 250);
        assert_eq!(below_250.map(|c| c.position), Some(200));
        assert_eq!(kept.contiguous(Sense::Known, 100), 300);
        assert_eq!(kept.contiguous(Sense::Happened, 100), 100);
        assert_eq!(kept.contiguous(Sense::Happened, 200), 0);
        assert_eq!(kept.drop_where(Sense::Happened, |c| c.position == 100), 1);
        kept.prune(200);
        let left: Vec<u64> = kept.known_times().map(|(position, _)| position).collect();
        assert_eq!(left, vec![200, 600]);
        assert_eq!(kept.len(), 2);
    }
}
