//! Identifiers: aggregate ids that are unique by construction and carry no digit run
//! longer than two, and UUIDv7 event ids built from the event's time.
//!
//! Aggregate ids look like `need-kx7q-hb2m`: a prefix naming the type and two groups of
//! four characters. In each group the first and last characters are letters and the middle
//! two may be digits, so no id ever holds three digits in a row and the personal-data guard
//! (which looks for identity, case and phone numbers) has nothing to find. The groups encode
//! a counter scrambled by a seeded bijection, so ids never repeat within a crisis and look
//! unrelated to each other.

use proto_events::{AggregateId, EventId};

/// Letters without the easily confused `i`, `l` and `o`.
const LETTERS: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
/// Letters and the digits 2–9 (no `0`/`1`, which read as `o`/`l`).
const MIXED: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// The counter space: 2^37 ids, fewer than the 23·31·31·23 squared that two groups hold.
const BITS: u32 = 37;
const MASK: u64 = (1 << BITS) - 1;

#[derive(Debug)]
pub(crate) struct Mint {
    multiplier: u64,
    offset: u64,
    aggregates: u64,
    events: u32,
}

impl Mint {
    pub(crate) fn new(seed_bits: u64) -> Self {
        Mint {
            // Odd, so that multiplication modulo 2^37 is a bijection.
            multiplier: (seed_bits.rotate_left(17) & MASK) | 1 | 0x10_0000,
            offset: seed_bits.rotate_left(41) & MASK,
            aggregates: 0,
            events: 0,
        }
    }

    /// A new aggregate id with the given prefix (a short word of letters and dashes).
    pub(crate) fn aggregate(&mut self, prefix: &str) -> AggregateId {
        let scrambled = (self
            .aggregates
            .wrapping_mul(self.multiplier)
            .wrapping_add(self.offset))
            & MASK;
        self.aggregates += 1;
        let mut text = String::with_capacity(prefix.len() + 10);
        text.push_str(prefix);
        let mut rest = scrambled;
        for _ in 0..2 {
            text.push('-');
            let mut group = [0u8; 4];
            for (position, slot) in group.iter_mut().enumerate() {
                let alphabet = if position == 0 || position == 3 {
                    LETTERS
                } else {
                    MIXED
                };
                let radix = alphabet.len() as u64;
                *slot = alphabet[(rest % radix) as usize];
                rest /= radix;
            }
            text.extend(group.iter().map(|&b| char::from(b)));
        }
        AggregateId::new(text).expect("generated aggregate ids are valid tokens")
    }

    /// A UUIDv7 for an event that occurred at `millis`: the time in the first 48 bits, a
    /// per-crisis counter in the middle (so ids are unique even within one millisecond)
    /// and `random` bits for the rest.
    pub(crate) fn event(&mut self, millis: i64, random: u64) -> EventId {
        let counter = self.events;
        self.events = self.events.wrapping_add(1);
        let r = random.to_be_bytes();
        let c = counter.to_be_bytes();
        let bytes = [r[0], r[1], r[2], c[0], c[1], c[2], c[3], r[3], r[4], r[5]];
        let millis = u64::try_from(millis).unwrap_or(0);
        EventId::from_uuid(uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid())
    }
}

/// The longest run of ASCII digits in `text`.
pub fn longest_digit_run(text: &str) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_ids_are_unique_and_have_short_digit_runs() {
        let mut mint = Mint::new(0xdead_beef_1234);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50_000 {
            let id = mint.aggregate("need");
            assert!(longest_digit_run(id.as_str()) <= 2, "{id}");
            assert!(seen.insert(id));
        }
    }
}
