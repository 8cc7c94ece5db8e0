//! The occurred-time index: every event of the log placed in the "as happened" order.
//!
//! Each event gets an effective time: its `occurred_at`; for a correction or retraction,
//! the effective time of the event it supersedes (so it takes effect at that event's
//! occurred position, and a correction recorded late changes the early picture); for an
//! event that cannot be decoded (it will be quarantined), its `recorded_at`. The order is
//! (effective time, sequence): ties keep log order, and a correction always sorts after
//! the event it supersedes, which has the same time and a lower sequence.
//!
//! Kept in memory (about 50 bytes per event: times, first sequence per event id, the
//! sorted order), built from the log on the first "as happened" query and extended with
//! what was appended since at each later one. Events whose effective time lies before the
//! end of the order are merged in, so the order is always exact for the head it was
//! extended to.

use std::collections::HashMap;

use proto_events::{Timestamp, codec};

use crate::folder::supersedes;
use crate::prepare::RawEvent;

/// One event's place, worked out off the index lock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    pub seq: u64,
    pub occurred: i64,
    /// The event's id (as u128), if it decodes.
    pub id: Option<u128>,
    /// For a correction or retraction: the id it supersedes.
    pub supersedes: Option<u128>,
}

/// Decodes what the index needs from one stored event (no validation: an event the fold
/// will quarantine only needs a place).
pub(crate) fn place(raw: &RawEvent) -> Placed {
    let recorded = nanos(raw.recorded_at);
    match codec::decode_msgpack(&raw.bytes) {
        Ok(envelope) => Placed {
            seq: raw.seq,
            occurred: nanos(envelope.occurred_at),
            id: Some(envelope.id.as_uuid().as_u128()),
            supersedes: supersedes(&envelope.payload).map(|id| id.as_uuid().as_u128()),
        },
        Err(_) => Placed {
            seq: raw.seq,
            occurred: recorded,
            id: None,
            supersedes: None,
        },
    }
}

/// A time as Unix nanoseconds, clamped to i64 (years 1678–2262; validated events are
/// within 2000–2199).
pub(crate) fn nanos(time: Timestamp) -> i64 {
    let value = time.as_unix_nanos();
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

/// Back from [`nanos`].
pub(crate) fn timestamp(nanos: i64) -> Timestamp {
    Timestamp::from_unix_nanos(i128::from(nanos)).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A place in the "as happened" order.
pub(crate) type Key = (i64, u64);

#[derive(Debug, Default)]
pub(crate) struct OccurredIndex {
    /// The last sequence indexed; sequences 1..=head are all here.
    head: u64,
    /// Effective time by sequence − 1.
    effective: Vec<i64>,
    /// The first sequence of each event id (a retry beyond the duplicate window is stored
    /// twice; the fold applies the first).
    first_seq_of_id: HashMap<u128, u64>,
    /// Every event, sorted by (effective time, sequence).
    order: Vec<Key>,
}

impl OccurredIndex {
    pub(crate) fn head(&self) -> u64 {
        self.head
    }

    /// Adds the next events of the log (`head + 1` onwards, consecutive).
    pub(crate) fn extend(&mut self, placed: &[Placed]) -> Result<(), String> {
        let mut new_keys = Vec::with_capacity(placed.len());
        for event in placed {
            if event.seq != self.head + 1 {
                return Err(format!(
                    "the index expected sequence {} and got {}",
                    self.head + 1,
                    event.seq
                ));
            }
            let target = event
                .supersedes
                .and_then(|id| self.first_seq_of_id.get(&id).copied());
            let time = match target {
                Some(target_seq) => self.effective[(target_seq - 1) as usize],
                None => event.occurred,
            };
            if let Some(id) = event.id {
                self.first_seq_of_id.entry(id).or_insert(event.seq);
            }
            self.effective.push(time);
            self.head = event.seq;
            new_keys.push((time, event.seq));
        }
        new_keys.sort_unstable();
        match (self.order.last(), new_keys.first()) {
            (_, None) => {}
            (None, Some(_)) => self.order = new_keys,
            (Some(last), Some(first)) if last < first => self.order.extend(new_keys),
            _ => {
                let old = std::mem::take(&mut self.order);
                self.order = merge(old, new_keys);
            }
        }
        Ok(())
    }

    /// How many events have an effective time at or before `time`.
    pub(crate) fn count_until(&self, time: i64) -> usize {
        self.order.partition_point(|(t, _)| *t <= time)
    }

    /// The key of the `position`-th event in the order (1-based).
    pub(crate) fn key_at(&self, position: u64) -> Option<Key> {
        let index = usize::try_from(position).ok()?.checked_sub(1)?;
        self.order.get(index).copied()
    }

    /// The sequences of the first `count` events in the order.
    pub(crate) fn seqs_until(&self, count: usize) -> Vec<u64> {
        self.order[..count.min(self.order.len())]
            .iter()
            .map(|(_, seq)| *seq)
            .collect()
    }
}

fn merge(old: Vec<Key>, new: Vec<Key>) -> Vec<Key> {
    let mut merged = Vec::with_capacity(old.len() + new.len());
    let mut old = old.into_iter().peekable();
    let mut new = new.into_iter().peekable();
    loop {
        let take_old = match (old.peek(), new.peek()) {
            (Some(a), Some(b)) => a < b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_old { old.next() } else { new.next() };
        merged.extend(next);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, occurred: i64, id: u128, supersedes: Option<u128>) -> Placed {
        Placed {
            seq,
            occurred,
            id: Some(id),
            supersedes,
        }
    }

    #[test]
    fn late_events_merge_in_and_corrections_take_their_targets_place() {
        let mut index = OccurredIndex::default();
        index
            .extend(&[event(1, 10, 1, None), event(2, 30, 2, None)])
            .expect("extend");
        // A late report (occurred at 20) and a correction of event 1 (occurred at 40).
        index
            .extend(&[event(3, 20, 3, None), event(4, 40, 4, Some(1))])
            .expect("extend");
        assert_eq!(index.seqs_until(4), vec![1, 4, 3, 2]);
        assert_eq!(index.count_until(15), 2);
        // A snapshot over the first two events taken at head 2 ended at (30, 2); the
        // correction now sorts second, so that snapshot no longer matches the order.
        assert_eq!(index.key_at(1), Some((10, 1)));
        assert_eq!(index.key_at(2), Some((10, 4)));
        assert_eq!(index.key_at(5), None);
        assert!(index.extend(&[event(9, 1, 9, None)]).is_err());
    }
}
