//! Deterministic ids, so importing the same file twice adds nothing.
//!
//! - Event id: a UUIDv8 (RFC 9562 "custom") whose 122 free bits are the first bits of
//!   SHA-256 over `samla-import/1 · event · incident · org · kind · row key`. The contract
//!   accepts any canonical lower-case UUID; v8 says honestly that it is not time-ordered.
//!   The kind is in the hash so one spreadsheet row imported as two kinds (a need raised,
//!   then met) gives two events.
//! - Aggregate id: `imp-` and 32 letters `a`–`p` (the first 128 bits of SHA-256 over
//!   `samla-import/1 · aggregate · incident · org · aggregate type · aggregate key`, one
//!   letter per 4 bits). Letters only, so the personal-data guard, which reads digits, can
//!   never mistake one for a number; `imp-` tells a reader where the id came from.
//! - Row key: the mapping's `source.key` cells, or else a hash of the row's *content* (the
//!   event it becomes, ids left out) and its occurrence number (the second identical row
//!   of a file is `#1`), so identical rows stay distinct and re-importing keeps them apart
//!   the same way.
//!
//! Parts are joined with a 0x1f separator that no cell can hold unnoticed (cells are
//! trimmed text; the separator is a control character).

use proto_events::{AggregateType, EventId, Kind};
use sha2::{Digest, Sha256};

const DOMAIN: &str = "samla-import/1";
const SEPARATOR: u8 = 0x1f;

fn hash(parts: &[&str]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN.as_bytes());
    for part in parts {
        hasher.update([SEPARATOR]);
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// The event id of a row.
pub fn event_id(incident: &str, org: &str, kind: Kind, row_key: &str) -> EventId {
    let digest = hash(&["event", incident, org, kind.as_str(), row_key]);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    EventId::from_uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// The aggregate id of a row whose mapping gives none.
pub fn aggregate_id(
    incident: &str,
    org: &str,
    aggregate_type: AggregateType,
    aggregate_key: &str,
) -> String {
    let digest = hash(&[
        "aggregate",
        incident,
        org,
        aggregate_type.as_str(),
        aggregate_key,
    ]);
    let mut id = String::with_capacity(36);
    id.push_str("imp-");
    for byte in &digest[..16] {
        id.push(char::from(b'a' + (byte >> 4)));
        id.push(char::from(b'a' + (byte & 0x0f)));
    }
    id
}

/// A row key from key cells.
pub(crate) fn key_of_cells(cells: &[&str]) -> String {
    let mut key = String::from("key");
    for cell in cells {
        key.push(char::from(SEPARATOR));
        key.push_str(cell);
    }
    key
}

/// A row key from the row's content and how many identical rows came before it.
pub(crate) fn key_of_content(content: &[u8], occurrence: u32) -> String {
    let digest = Sha256::digest(content);
    let mut key = String::from("content:");
    for byte in &digest[..16] {
        key.push_str(&format!("{byte:02x}"));
    }
    key.push_str(&format!("#{occurrence}"));
    key
}

/// A short fingerprint of a key, for spotting duplicates without keeping the keys.
pub(crate) fn fingerprint(text: &str) -> u128 {
    fingerprint_bytes(text.as_bytes())
}

pub(crate) fn fingerprint_bytes(bytes: &[u8]) -> u128 {
    let digest = Sha256::digest(bytes);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_canonical_v8_uuids_the_contract_accepts() {
        let id = event_id("demo", "malmo-stad", Kind::NeedRaised, "key\u{1f}B-17");
        let text = id.to_string();
        assert_eq!(EventId::parse(&text), Ok(id));
        assert_eq!(id.as_uuid().get_version_num(), 8);
        assert_eq!(
            id,
            event_id("demo", "malmo-stad", Kind::NeedRaised, "key\u{1f}B-17")
        );
        assert_ne!(
            id,
            event_id("demo", "malmo-stad", Kind::NeedMet, "key\u{1f}B-17")
        );
        assert_ne!(
            id,
            event_id("demo", "lund", Kind::NeedRaised, "key\u{1f}B-17")
        );
    }

    #[test]
    fn aggregate_ids_are_tokens_without_digits() {
        let id = aggregate_id("demo", "malmo-stad", AggregateType::Need, "key\u{1f}B-17");
        assert_eq!(id.len(), 36);
        assert!(proto_events::AggregateId::new(id.clone()).is_ok());
        assert!(!id[4..].chars().any(|c| c.is_ascii_digit()));
        assert!(proto_events::guard::find_personal_data(&id).is_none());
    }

    #[test]
    fn keys_keep_their_parts_apart() {
        assert_ne!(key_of_cells(&["ab", "c"]), key_of_cells(&["a", "bc"]));
        assert_ne!(key_of_content(b"x", 0), key_of_content(b"x", 1));
    }
}
