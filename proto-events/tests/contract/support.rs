//! Helpers shared by the contract tests: paths, the four ways a tool may send an event
//! (JSON or MessagePack, `kind` first or `payload` first), and assertions on errors.

use std::path::PathBuf;

use proto_events::codec::encode_json_pretty;
use proto_events::examples::example;
use proto_events::{DecodeError, Envelope, Kind, decode_json, decode_msgpack};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn vectors_dir() -> PathBuf {
    crate_dir().join("vectors")
}

pub fn schema_dir() -> PathBuf {
    crate_dir().join("schema")
}

/// Reads a checked-in file, saying which one is missing and how to make it.
pub fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| {
        panic!(
            "cannot read {} ({error}): run `cargo run -p proto-events --bin write-contract`",
            path.display()
        )
    })
}

/// The example of `kind` as a JSON value, to be changed by a test.
pub fn example_value(kind: Kind) -> Value {
    serde_json::to_value(example(kind)).expect("an example converts to a JSON value")
}

/// The pretty JSON of an envelope, as in the vectors.
pub fn pretty(envelope: &Envelope) -> String {
    format!("{}\n", encode_json_pretty(envelope))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Msgpack,
}

/// Where `payload` sits among the envelope's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As this crate writes it: `id, kind, v, …, payload`.
    Wire,
    /// `payload` before everything, as a tool with other habits may write it.
    PayloadFirst,
}

pub const ALL_WAYS: [(Encoding, Order); 4] = [
    (Encoding::Json, Order::Wire),
    (Encoding::Json, Order::PayloadFirst),
    (Encoding::Msgpack, Order::Wire),
    (Encoding::Msgpack, Order::PayloadFirst),
];

const WIRE_ORDER: &[&str] = &[
    "id",
    "kind",
    "v",
    "incident",
    "org",
    "function",
    "aggregate",
    "occurred_at",
    "status",
    "audience",
    "correlation",
    "causation",
    "area",
    "lang",
    "payload",
];

/// A JSON value whose top-level keys are written in a chosen order, whatever order
/// `serde_json::Map` keeps them in.
struct Ordered<'a>(&'a Value, Order);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Value::Object(map) = self.0 else {
            return self.0.serialize(serializer);
        };
        let rank = |key: &str| -> usize {
            if key == "payload" && self.1 == Order::PayloadFirst {
                return 0;
            }
            1 + WIRE_ORDER
                .iter()
                .position(|k| *k == key)
                .unwrap_or(WIRE_ORDER.len())
        };
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by_key(|key| rank(key));
        let mut out = serializer.serialize_map(Some(keys.len()))?;
        for key in keys {
            out.serialize_entry(key, &map[key.as_str()])?;
        }
        out.end()
    }
}

pub fn encode_value(value: &Value, encoding: Encoding, order: Order) -> Vec<u8> {
    let ordered = Ordered(value, order);
    match encoding {
        Encoding::Json => serde_json::to_vec(&ordered).expect("JSON encoding"),
        Encoding::Msgpack => rmp_serde::to_vec_named(&ordered).expect("MessagePack encoding"),
    }
}

pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<Envelope, DecodeError> {
    match encoding {
        Encoding::Json => decode_json(bytes),
        Encoding::Msgpack => decode_msgpack(bytes),
    }
}

/// Decodes `value` sent each of the four ways.
pub fn decode_all_ways(value: &Value) -> Vec<(String, Result<Envelope, DecodeError>)> {
    ALL_WAYS
        .iter()
        .map(|&(encoding, order)| {
            let bytes = encode_value(value, encoding, order);
            (format!("{encoding:?}, {order:?}"), decode(&bytes, encoding))
        })
        .collect()
}

/// Asserts that `value` is refused as malformed at `field`, sent any of the four ways.
/// Returns one of the reasons, for further checks.
pub fn assert_malformed_at(value: &Value, field: &str) -> String {
    let mut reason = String::new();
    for (way, result) in decode_all_ways(value) {
        match result {
            Err(DecodeError::Malformed {
                field: found,
                reason: why,
            }) => {
                assert_eq!(found, field, "{way}: wrong field; reason: {why}");
                reason = why;
            }
            other => panic!("{way}: expected a malformed error at {field}, got {other:?}"),
        }
    }
    reason
}

/// Asserts that `value` decodes (any of the four ways) but is refused by validation at
/// `field` with `code` — the ingest path: decode, then validate.
pub fn assert_refused_at(value: &Value, field: &str, code: &str) {
    for (way, result) in decode_all_ways(value) {
        let envelope = result.unwrap_or_else(|error| panic!("{way}: should decode: {error}"));
        match envelope.validate() {
            Err(error) => {
                assert_eq!(error.field, field, "{way}: wrong field: {error}");
                assert_eq!(error.code, code, "{way}: wrong code: {error}");
            }
            Ok(()) => panic!("{way}: expected a {code} error at {field}, but it validated"),
        }
    }
}
