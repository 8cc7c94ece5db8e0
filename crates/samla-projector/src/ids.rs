//! The id index: every applied event's id and the sequence that applied it, so a retry
//! beyond JetStream's duplicate window is skipped and a correction finds the event it
//! supersedes.
//!
//! It holds an entry per event of the log, so its size per entry is the projector's memory
//! per event. Ids sit in sorted blocks of up to [`BLOCK_MAX`], ids and sequences in two
//! arrays (24 bytes an entry, where a `(u128, u64)` pair pads to 32), the blocks in a
//! persistent map by their first id. An ordered map of single entries spent ~85 bytes an
//! entry: half-full nodes, each with room for its children.
//!
//! Clones share every block ([`Arc`]): replay keeps a folder every 1,000 events, and a
//! write after a clone copies only the block it changes. Event ids are UUIDv7 (time
//! first), so new ones land at or near the end of the last block; a block that overflows
//! near its end keeps most of its entries, so blocks filled in order stay nearly full.

use std::sync::Arc;

use imbl::OrdMap;

/// The most entries in one block.
pub const BLOCK_MAX: usize = 512;

/// One block: ids ascending, each with its sequence.
#[derive(Debug, Default)]
struct Block {
    ids: Vec<u128>,
    seqs: Vec<u64>,
}

/// A copy (made when a block shared with a clone is written) keeps room for a full block,
/// as every block has: one that grew by doubling would take twice its size.
impl Clone for Block {
    fn clone(&self) -> Self {
        let mut copy = Block::with_room();
        copy.ids.extend_from_slice(&self.ids);
        copy.seqs.extend_from_slice(&self.seqs);
        copy
    }
}

impl Block {
    fn with_room() -> Self {
        Block {
            ids: Vec::with_capacity(BLOCK_MAX + 1),
            seqs: Vec::with_capacity(BLOCK_MAX + 1),
        }
    }

    /// Splits off the entries from `at` on into a new block.
    fn split_off(&mut self, at: usize) -> Block {
        let mut right = Block::with_room();
        right.ids.extend(self.ids.drain(at..));
        right.seqs.extend(self.seqs.drain(at..));
        right
    }
}

/// Event id → the sequence that applied it.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    /// Blocks by their first id; every id of a block sorts before the next block's key.
    blocks: OrdMap<u128, Arc<Block>>,
    len: usize,
}

impl IdIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The block that holds `id` if any block does: the last one starting at or before it.
    fn block_of(&self, id: u128) -> Option<(u128, &Arc<Block>)> {
        self.blocks
            .range(..=id)
            .next_back()
            .map(|(first, block)| (*first, block))
    }

    /// The sequence that applied `id`.
    pub fn get(&self, id: u128) -> Option<u64> {
        let (_, block) = self.block_of(id)?;
        let index = block.ids.binary_search(&id).ok()?;
        Some(block.seqs[index])
    }

    pub fn contains(&self, id: u128) -> bool {
        self.get(id).is_some()
    }

    /// Records that `seq` applied `id`; false (and no change) if `id` is already there.
    pub fn insert(&mut self, id: u128, seq: u64) -> bool {
        // The block to insert into: the one starting at or before `id`, else the first
        // (which then starts at `id`), else a new one.
        let first = match self.block_of(id) {
            Some((first, _)) => first,
            None => match self.blocks.keys().next() {
                Some(&first) => first,
                None => {
                    self.blocks.insert(id, Arc::new(Block::with_room()));
                    id
                }
            },
        };
        let entries = Arc::make_mut(
            self.blocks
                .get_mut(&first)
                .expect("the block was just found"),
        );
        let Err(index) = entries.ids.binary_search(&id) else {
            return false;
        };
        entries.ids.insert(index, id);
        entries.seqs.insert(index, seq);
        let starts_at = entries.ids[0];
        // Near the end (ids in time order): keep the block nearly full, so the blocks
        // behind the newest stay so. Elsewhere: halves, room on both sides.
        let right = (entries.ids.len() > BLOCK_MAX).then(|| {
            let at = if index >= BLOCK_MAX * 3 / 4 {
                BLOCK_MAX * 7 / 8
            } else {
                entries.ids.len() / 2
            };
            entries.split_off(at)
        });
        self.len += 1;
        if starts_at != first {
            // `id` went before every other: the first block now starts at it.
            let block = self.blocks.remove(&first).expect("the block is there");
            self.blocks.insert(starts_at, block);
        }
        if let Some(right) = right {
            self.blocks.insert(right.ids[0], Arc::new(right));
        }
        true
    }

    /// Every id and its sequence, ids ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u128, u64)> + '_ {
        self.blocks
            .values()
            .flat_map(|block| block.ids.iter().copied().zip(block.seqs.iter().copied()))
    }
}

impl Extend<(u128, u64)> for IdIndex {
    fn extend<I: IntoIterator<Item = (u128, u64)>>(&mut self, pairs: I) {
        for (id, seq) in pairs {
            self.insert(id, seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// The index answers as an ordered map of the same inserts would, whatever their
    /// order, and its blocks stay sorted, bounded and keyed by their first id.
    fn check_against_map(inserts: &[(u128, u64)], probes: &[u128]) {
        let mut index = IdIndex::new();
        let mut map = BTreeMap::new();
        for &(id, seq) in inserts {
            let fresh = !map.contains_key(&id);
            if fresh {
                map.insert(id, seq);
            }
            assert_eq!(index.insert(id, seq), fresh, "insert {id}");
        }
        assert_eq!(index.len(), map.len());
        assert_eq!(
            index.iter().collect::<Vec<_>>(),
            map.iter().map(|(id, seq)| (*id, *seq)).collect::<Vec<_>>()
        );
        for probe in probes.iter().chain(map.keys()) {
            assert_eq!(index.get(*probe), map.get(probe).copied(), "get {probe}");
        }
        for (first, block) in index.blocks.iter() {
            assert_eq!(block.ids.first(), Some(first));
            assert!(block.ids.len() <= BLOCK_MAX);
            assert!(block.ids.windows(2).all(|pair| pair[0] < pair[1]));
            assert_eq!(block.ids.len(), block.seqs.len());
        }
    }

    #[test]
    fn ascending_ids_fill_blocks_nearly_full() {
        let inserts: Vec<(u128, u64)> = (0..20_000u64)
            .map(|seq| (u128::from(seq) << 64, seq))
            .collect();
        check_against_map(&inserts, &[1, u128::MAX]);
        let mut index = IdIndex::new();
        index.extend(inserts);
        let full: usize = index.blocks.len() * BLOCK_MAX;
        assert!(
            index.len() * 8 >= full * 7 - 8 * BLOCK_MAX,
            "{} entries in {} blocks",
            index.len(),
            index.blocks.len()
        );
    }

    #[test]
    fn a_clone_keeps_its_entries_while_the_original_grows() {
        let mut index = IdIndex::new();
        index.extend((0..2_000u64).map(|seq| (u128::from(seq) * 3, seq)));
        let snapshot = index.clone();
        index.extend((0..2_000u64).map(|seq| (u128::from(seq) * 3 + 1, seq + 10_000)));
        assert_eq!(snapshot.len(), 2_000);
        assert_eq!(snapshot.get(1), None);
        assert_eq!(index.get(1), Some(10_000));
        assert_eq!(snapshot.get(3), Some(1));
    }

    proptest! {
        #[test]
        fn answers_as_an_ordered_map_does(
            inserts in proptest::collection::vec((0u128..5_000, 0u64..1_000_000), 0..3_000),
            probes in proptest::collection::vec(0u128..6_000, 0..50),
        ) {
            check_against_map(&inserts, &probes);
        }

        #[test]
        fn ids_mostly_in_order_answer_as_an_ordered_map_does(
            jitter in proptest::collection::vec(0u128..40, 1..4_000),
        ) {
            // UUIDv7 from several clocks: ascending, each a little behind or ahead.
            let inserts: Vec<(u128, u64)> = jitter
                .iter()
                .enumerate()
                .map(|(seq, j)| ((seq as u128) * 16 + j, seq as u64))
                .collect();
            check_against_map(&inserts, &[]);
        }
    }
}
