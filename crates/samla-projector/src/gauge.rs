//! The two kinds of figure a read model keeps, and how viewers merge them.
//!
//! A [`Gauge`] is a value that a later report replaces (occupancy, capacity, a status, a
//! "to date" count): it remembers which event set it (the stream sequence), so viewers can
//! take the latest among the slices they may see, a correction can replace the value in
//! its original position, and a retraction can fall back to the value before it. A
//! [`Counter`] adds up contributions ("this period" counts, quantities met); viewers sum
//! the slices they may see, and corrections and retractions subtract what the superseded
//! event added.

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

/// How many earlier values a gauge keeps for retractions to fall back on. A retraction of
/// a value older than this many later values changes nothing visible: a later report
/// already replaced it.
pub const GAUGE_HISTORY: usize = 4;

/// A value replaced by later reports, remembering the sequence of the event that set it.
///
/// Most gauges only ever hold one value, and a read model row holds a dozen of them: the
/// first value lives inline (no allocation of its own), later ones spill to the heap with
/// room for exactly what they hold. Stored as a sequence of `(seq, value)` pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Gauge<T> {
    /// `(seq, value)`, ascending by sequence, at most [`GAUGE_HISTORY`] long.
    entries: SmallVec<[(u64, T); 1]>,
}

impl<T> Default for Gauge<T> {
    fn default() -> Self {
        Self {
            entries: SmallVec::new(),
        }
    }
}

impl<T> Gauge<T> {
    /// Sets the value as of event `seq`. A correction passes the superseded event's
    /// sequence, so its value takes that position, not the latest one.
    pub fn set(&mut self, seq: u64, value: T) {
        match self.entries.binary_search_by_key(&seq, |(s, _)| *s) {
            Ok(index) => self.entries[index].1 = value,
            Err(index) => {
                if index == 0 && self.entries.len() >= GAUGE_HISTORY {
                    // Older than everything kept: a later value already replaced it.
                    return;
                }
                self.entries.reserve_exact(1);
                self.entries.insert(index, (seq, value));
                if self.entries.len() > GAUGE_HISTORY {
                    self.entries.remove(0);
                }
            }
        }
    }

    /// Forgets the value set by event `seq` (a retraction or the undo of a correction).
    pub fn retract(&mut self, seq: u64) {
        self.entries.retain(|(s, _)| *s != seq);
    }

    /// The current value and the sequence that set it.
    pub fn current(&self) -> Option<(u64, &T)> {
        self.entries.last().map(|(s, v)| (*s, v))
    }

    pub fn value(&self) -> Option<&T> {
        self.entries.last().map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The latest value among several slices' gauges: the viewer's merge rule for gauges.
pub fn latest<'a, T: 'a>(gauges: impl IntoIterator<Item = &'a Gauge<T>>) -> Option<(u64, &'a T)> {
    gauges
        .into_iter()
        .filter_map(Gauge::current)
        .max_by_key(|(seq, _)| *seq)
}

/// The earliest value among several slices' gauges: for facts set once, such as who
/// created an aggregate.
pub fn earliest<'a, T: 'a>(gauges: impl IntoIterator<Item = &'a Gauge<T>>) -> Option<(u64, &'a T)> {
    gauges
        .into_iter()
        .filter_map(Gauge::current)
        .min_by_key(|(seq, _)| *seq)
}

/// A sum of contributions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Counter(pub i64);

impl Counter {
    /// Adds `amount` times `sign` (+1 to apply an event, -1 to undo it).
    pub fn add(&mut self, amount: u64, sign: i64) {
        let amount = i64::try_from(amount).unwrap_or(i64::MAX);
        self.0 = self.0.saturating_add(amount.saturating_mul(sign));
    }

    pub fn get(&self) -> i64 {
        self.0
    }
}

/// The viewer's merge rule for counters: the sum over visible slices.
pub fn total<'a>(counters: impl IntoIterator<Item = &'a Counter>) -> i64 {
    counters.into_iter().map(|c| c.0).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_takes_the_latest_and_falls_back_on_retraction() {
        let mut gauge = Gauge::default();
        gauge.set(5, 10);
        gauge.set(9, 20);
        assert_eq!(gauge.current(), Some((9, &20)));
        gauge.retract(9);
        assert_eq!(gauge.current(), Some((5, &10)));
    }

    #[test]
    fn correction_keeps_its_original_position() {
        let mut gauge = Gauge::default();
        gauge.set(5, 10);
        gauge.set(9, 20);
        // Correcting the event at 5 does not override the later report at 9.
        gauge.set(5, 11);
        assert_eq!(gauge.current(), Some((9, &20)));
        gauge.retract(9);
        assert_eq!(gauge.current(), Some((5, &11)));
    }

    #[test]
    fn history_is_bounded() {
        let mut gauge = Gauge::default();
        for seq in 1..=10 {
            gauge.set(seq, seq);
        }
        assert_eq!(gauge.entries.len(), GAUGE_HISTORY);
        gauge.set(1, 99);
        assert_eq!(gauge.current(), Some((10, &10)));
    }

    #[test]
    fn stored_as_the_sequence_of_pairs_it_holds() {
        let mut gauge = Gauge::default();
        gauge.set(5, 10u32);
        let one = rmp_serde::to_vec(&gauge).expect("encodes");
        assert_eq!(
            one,
            rmp_serde::to_vec(&vec![(5u64, 10u32)]).expect("encodes")
        );
        gauge.set(9, 20);
        let two = rmp_serde::to_vec(&gauge).expect("encodes");
        assert_eq!(
            two,
            rmp_serde::to_vec(&vec![(5u64, 10u32), (9, 20)]).expect("encodes")
        );
        assert_eq!(
            rmp_serde::from_slice::<Gauge<u32>>(&two).expect("decodes"),
            gauge
        );
    }

    #[test]
    fn latest_across_slices() {
        let mut a = Gauge::default();
        let mut b = Gauge::default();
        a.set(3, "a");
        b.set(7, "b");
        assert_eq!(latest([&a, &b]), Some((7, &"b")));
    }
}
