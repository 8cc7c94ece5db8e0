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
//!
//! Each block is stored as it is (`x/idb/<first id, 32 hex digits>` → 24 bytes an entry:
//! the id and the sequence, big-endian), and a drain writes the blocks changed since the
//! last one — mostly the last block. Backed by the store (as the engine keeps it), a
//! block leaves memory once written, unless it is the last one: the index's memory is
//! then its blocks' first ids, not an entry per event of the log (34 MiB at 1,000,000
//! events when every block stayed). A lookup in a block that left memory reads it back:
//! only a retry of an old event, a correction of one, or an id from a clock far behind.

use std::collections::BTreeSet;
use std::sync::Arc;

use imbl::OrdMap;

use crate::error::ProjectorError;
use crate::store::Change;
use crate::table::Backing;

/// The prefix of the stored blocks' keys.
pub const BLOCKS_PREFIX: &str = "x/idb/";

/// Bytes a stored entry takes: the id and the sequence.
const ENTRY_BYTES: usize = 24;

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
    /// The stored form: each entry's id and sequence, big-endian.
    fn stored(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.ids.len() * ENTRY_BYTES);
        for (id, seq) in self.ids.iter().zip(&self.seqs) {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&seq.to_be_bytes());
        }
        out
    }

    /// A stored block read back; `None` unless it holds whole entries, ids ascending,
    /// the first one `first`.
    fn from_stored(first: u128, value: &[u8]) -> Option<Self> {
        if value.is_empty() || !value.len().is_multiple_of(ENTRY_BYTES) {
            return None;
        }
        let mut block = Block::with_room();
        for entry in value.chunks_exact(ENTRY_BYTES) {
            let id = u128::from_be_bytes(entry[..16].try_into().ok()?);
            let seq = u64::from_be_bytes(entry[16..].try_into().ok()?);
            if block.ids.last().is_some_and(|last| *last >= id) {
                return None;
            }
            block.ids.push(id);
            block.seqs.push(seq);
        }
        (block.ids[0] == first).then_some(block)
    }

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

/// A block in memory, or `None`: in the store only.
type Slot = Option<Arc<Block>>;

/// The stored key of the block whose first id is `first`.
fn block_key(first: u128) -> Vec<u8> {
    format!("{BLOCKS_PREFIX}{first:032x}").into_bytes()
}

/// Event id → the sequence that applied it.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    /// Blocks by their first id; every id of a block sorts before the next block's key.
    blocks: OrdMap<u128, Slot>,
    len: usize,
    /// First ids of the blocks changed since the last drain, and of blocks that no longer
    /// start there (their stored key is removed).
    changed: BTreeSet<u128>,
    /// The store, once backed.
    backing: Option<Backing>,
    /// Backed: the blocks of the latest drain, whose write may still be in flight.
    drained: Vec<u128>,
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
    fn block_of(&self, id: u128) -> Option<(u128, &Slot)> {
        self.blocks
            .range(..=id)
            .next_back()
            .map(|(first, block)| (*first, block))
    }

    /// The stored block that starts at `first` (one that cannot be read is the backing's
    /// fault, and reads as empty).
    fn read_block(&self, first: u128) -> Arc<Block> {
        let Some(backing) = &self.backing else {
            return Arc::default();
        };
        let key = block_key(first);
        let value = backing.read_raw(&key);
        let block = value
            .as_deref()
            .and_then(|value| Block::from_stored(first, value));
        if block.is_none() {
            backing.note_fault(crate::table::Fault::undecodable(format!(
                "{}: the id block is missing or malformed",
                String::from_utf8_lossy(&key)
            )));
        }
        Arc::new(block.unwrap_or_default())
    }

    /// The sequence that applied `id`.
    pub fn get(&self, id: u128) -> Option<u64> {
        let (first, slot) = self.block_of(id)?;
        let read;
        let block = match slot {
            Some(block) => block,
            None => {
                read = self.read_block(first);
                &read
            }
        };
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
                    self.blocks.insert(id, Some(Arc::new(Block::with_room())));
                    id
                }
            },
        };
        if matches!(self.blocks.get(&first), Some(None)) {
            let block = self.read_block(first);
            self.blocks.insert(first, Some(block));
        }
        let slot = self
            .blocks
            .get_mut(&first)
            .expect("the block was just found");
        let entries = Arc::make_mut(slot.as_mut().expect("the block was just read"));
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
        self.changed.insert(first);
        if starts_at != first {
            // `id` went before every other: the first block now starts at it.
            let block = self.blocks.remove(&first).expect("the block is there");
            self.blocks.insert(starts_at, block);
            self.changed.insert(starts_at);
        }
        if let Some(right) = right {
            self.changed.insert(right.ids[0]);
            self.blocks.insert(right.ids[0], Some(Arc::new(right)));
        }
        true
    }

    /// Every id and its sequence, ids ascending (blocks in the store read back).
    pub fn iter(&self) -> impl Iterator<Item = (u128, u64)> + '_ {
        self.blocks.iter().flat_map(|(first, slot)| {
            let block = slot.clone().unwrap_or_else(|| self.read_block(*first));
            (0..block.ids.len()).map(move |at| (block.ids[at], block.seqs[at]))
        })
    }

    /// Backs the index by `backing`, whose stored blocks it reads back when needed.
    pub fn attach(&mut self, backing: &Backing) {
        self.backing = Some(backing.clone());
    }

    /// Loads a stored block (on open). Backed, it only takes note of the block's first id
    /// and how many entries it holds, and reads it again when needed.
    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        let text = String::from_utf8_lossy(key);
        let malformed = || ProjectorError::Corrupt(format!("{text}: malformed id block"));
        let first = text
            .strip_prefix(BLOCKS_PREFIX)
            .and_then(|hex| u128::from_str_radix(hex, 16).ok())
            .ok_or_else(malformed)?;
        let block = Block::from_stored(first, value).ok_or_else(malformed)?;
        self.len += block.ids.len();
        let slot = self.backing.is_none().then(|| Arc::new(block));
        self.blocks.insert(first, slot);
        Ok(())
    }

    /// The blocks changed since the last drain, encoded (a block that no longer starts
    /// where it did is removed).
    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        let changed = std::mem::take(&mut self.changed);
        for first in &changed {
            let value = match self.blocks.get(first) {
                Some(Some(block)) => Some(block.stored()),
                Some(None) => continue,
                None => None,
            };
            out.push((block_key(*first), value));
        }
        if self.backing.is_some() {
            self.drained = changed.into_iter().collect();
        }
    }

    /// Forgets the changes since the last drain.
    pub fn discard_changes(&mut self) {
        self.changed.clear();
    }

    /// Marks every block changed, so the next drain writes the whole index. Only for an
    /// index with every block in memory (not backed).
    pub fn mark_all_changed(&mut self) {
        debug_assert!(
            self.backing.is_none(),
            "a backed index is never written whole"
        );
        self.changed = self.blocks.keys().copied().collect();
    }

    /// Backed: lets go of the blocks the store holds as they are, but the last one (where
    /// new ids land). Call it only once every write but the latest drain's has landed.
    pub fn evict(&mut self) {
        if self.backing.is_none() {
            return;
        }
        let last = self.blocks.keys().next_back().copied();
        let keep: BTreeSet<u128> = self
            .changed
            .iter()
            .chain(&self.drained)
            .copied()
            .chain(last)
            .collect();
        let resident: Vec<u128> = self
            .blocks
            .iter()
            .filter(|(first, slot)| slot.is_some() && !keep.contains(first))
            .map(|(first, _)| *first)
            .collect();
        for first in resident {
            self.blocks.insert(first, None);
        }
    }

    /// Blocks held in memory.
    pub fn resident_blocks(&self) -> usize {
        self.blocks.values().filter(|slot| slot.is_some()).count()
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
            let block = block.as_ref().expect("in memory");
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

        /// Backed by sled, its drains written one drain late and every block the store
        /// holds let go after each write, the index answers as an ordered map does, and
        /// so does the index read back from the store at the end.
        #[test]
        fn a_backed_index_answers_as_an_ordered_map_does(
            steps in proptest::collection::vec(
                (proptest::collection::vec((0u128..3_000, 0u64..1_000_000), 0..80), any::<bool>()),
                1..30,
            ),
            probes in proptest::collection::vec(0u128..3_500, 0..30),
        ) {
            use crate::store::{KvStore, SledStore};
            let dir = tempfile::tempdir().expect("tempdir");
            let mut store = SledStore::open(dir.path()).expect("sled");
            let backing = store.backing();
            let mut index = IdIndex::new();
            index.attach(&backing);
            let mut map = BTreeMap::new();
            let mut in_flight: Option<Vec<Change>> = None;
            for (inserts, write) in steps {
                for (id, seq) in inserts {
                    let fresh = !map.contains_key(&id);
                    if fresh {
                        map.insert(id, seq);
                    }
                    prop_assert_eq!(index.insert(id, seq), fresh, "insert {}", id);
                }
                if write {
                    let mut drained = Vec::new();
                    index.drain_changes(&mut drained);
                    if let Some(landed) = in_flight.replace(drained) {
                        store.apply(landed).expect("sled");
                    }
                    index.evict();
                    prop_assert!(index.resident_blocks() <= index.drained.len() + 1);
                }
                for probe in probes.iter().chain(map.keys()) {
                    prop_assert_eq!(index.get(*probe), map.get(probe).copied(), "get {}", probe);
                }
            }
            prop_assert_eq!(index.len(), map.len());
            let mut last = Vec::new();
            index.drain_changes(&mut last);
            if let Some(landed) = in_flight.take() {
                store.apply(landed).expect("sled");
            }
            store.apply(last).expect("sled");
            prop_assert_eq!(backing.fault(), None);
            let mut reopened = IdIndex::new();
            reopened.attach(&backing);
            for (key, value) in store.scan_prefix(BLOCKS_PREFIX.as_bytes()).expect("scan") {
                reopened.load(&key, &value).expect("a well-formed block");
            }
            prop_assert_eq!(reopened.resident_blocks(), 0);
            prop_assert_eq!(reopened.len(), map.len());
            let expected: Vec<(u128, u64)> = map.iter().map(|(id, seq)| (*id, *seq)).collect();
            prop_assert_eq!(reopened.iter().collect::<Vec<_>>(), expected);
            prop_assert_eq!(backing.fault(), None);
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
