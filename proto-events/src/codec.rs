//! Encoding and decoding: MessagePack with field names on NATS, JSON over HTTP.
//!
//! Decoding outside input is bounded: a size cap before any parsing, a nesting limit, no
//! trailing bytes, no panic on any input. An unknown kind or a newer version is its own
//! error, with the event's id when it could be read, so ingest can refuse it precisely and
//! the projector can quarantine it.

use std::io::Cursor;

use serde::Deserialize;

use crate::catalogue::Kind;
use crate::envelope::{Envelope, EnvelopeOutcome, Unsupported};
use crate::ids::EventId;

/// The largest encoded event accepted, in bytes. Events are counts and short texts
/// (typically 300–600 bytes); attachments go by reference.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// The deepest nesting of maps and arrays accepted in MessagePack input.
pub const MAX_NESTING: usize = 16;

/// Why bytes are not a usable event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("event is {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error("{}: {reason}", if field.is_empty() { "event" } else { field.as_str() })]
    Malformed {
        /// The path of the field at fault (`payload.quantity`), empty for the whole event.
        field: String,
        reason: String,
    },
    #[error(
        "unknown kind {kind:?}: this Samla does not know it (see proto-events/schema for the known kinds)"
    )]
    UnknownKind { kind: String, id: Option<EventId> },
    #[error(
        "version {v} of {kind} is newer than this Samla knows (current version {current}); upgrade the reader"
    )]
    UnsupportedVersion {
        kind: Kind,
        v: u16,
        current: u16,
        id: Option<EventId>,
    },
}

impl DecodeError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::TooLarge { .. } => "too_large",
            DecodeError::Malformed { .. } => "malformed",
            DecodeError::UnknownKind { .. } => "unknown_kind",
            DecodeError::UnsupportedVersion { .. } => "unsupported_version",
        }
    }

    /// The field at fault, as a path; empty for the whole event.
    pub fn field(&self) -> &str {
        match self {
            DecodeError::TooLarge { .. } => "",
            DecodeError::Malformed { field, .. } => field,
            DecodeError::UnknownKind { .. } => "kind",
            DecodeError::UnsupportedVersion { .. } => "v",
        }
    }

    /// The event's id, when it could be read.
    pub fn event_id(&self) -> Option<EventId> {
        match self {
            DecodeError::UnknownKind { id, .. } | DecodeError::UnsupportedVersion { id, .. } => *id,
            _ => None,
        }
    }

    fn from_unsupported(unsupported: Unsupported) -> Self {
        match unsupported {
            Unsupported::UnknownKind { kind, id } => DecodeError::UnknownKind { kind, id },
            Unsupported::NewerVersion { kind, v, id } => DecodeError::UnsupportedVersion {
                kind,
                v,
                current: kind.current_version(),
                id,
            },
        }
    }
}

/// Encodes an envelope as MessagePack with field names (the NATS wire format).
pub fn encode_msgpack(envelope: &Envelope) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(512);
    encode_msgpack_into(envelope, &mut buffer);
    buffer
}

/// Appends the MessagePack encoding of an envelope to `buffer`.
pub fn encode_msgpack_into(envelope: &Envelope, buffer: &mut Vec<u8>) {
    let mut serializer = rmp_serde::Serializer::new(buffer).with_struct_map();
    // Writing to a Vec cannot fail, and every type in the contract has string keys.
    envelope
        .serialize(&mut serializer)
        .expect("encoding an envelope to MessagePack cannot fail");
}

/// Encodes an envelope as compact JSON (the HTTP wire format).
pub fn encode_json(envelope: &Envelope) -> String {
    serde_json::to_string(envelope).expect("encoding an envelope to JSON cannot fail")
}

/// Encodes an envelope as indented JSON, for people and golden vectors.
pub fn encode_json_pretty(envelope: &Envelope) -> String {
    serde_json::to_string_pretty(envelope).expect("encoding an envelope to JSON cannot fail")
}

use serde::Serialize;

/// Decodes one MessagePack envelope.
pub fn decode_msgpack(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    check_size(bytes)?;
    match decode_msgpack_outcome(bytes) {
        Ok(outcome) => outcome.0.map_err(DecodeError::from_unsupported),
        // The fast path keeps no field path; decode again, tracking it, to name the field.
        Err(_) => Err(msgpack_error_with_path(bytes)),
    }
}

fn decode_msgpack_outcome(bytes: &[u8]) -> Result<EnvelopeOutcome, String> {
    let mut deserializer = rmp_serde::Deserializer::new(Cursor::new(bytes));
    deserializer.set_max_depth(MAX_NESTING);
    let outcome = EnvelopeOutcome::deserialize(&mut deserializer).map_err(|e| e.to_string())?;
    let consumed = usize::try_from(deserializer.position()).unwrap_or(usize::MAX);
    if consumed != bytes.len() {
        return Err(format!(
            "{} trailing bytes after the event",
            bytes.len().saturating_sub(consumed)
        ));
    }
    Ok(outcome)
}

fn msgpack_error_with_path(bytes: &[u8]) -> DecodeError {
    let mut deserializer = rmp_serde::Deserializer::new(Cursor::new(bytes));
    deserializer.set_max_depth(MAX_NESTING);
    match serde_path_to_error::deserialize::<_, EnvelopeOutcome>(&mut deserializer) {
        Err(error) => malformed(error.path().to_string(), error.inner().to_string()),
        Ok(_) => {
            let consumed = usize::try_from(deserializer.position()).unwrap_or(usize::MAX);
            malformed(
                String::new(),
                format!(
                    "{} trailing bytes after the event",
                    bytes.len().saturating_sub(consumed)
                ),
            )
        }
    }
}

/// Decodes one JSON envelope.
pub fn decode_json(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    check_size(bytes)?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let outcome = serde_path_to_error::deserialize::<_, EnvelopeOutcome>(&mut deserializer)
        .map_err(|error| malformed(error.path().to_string(), error.inner().to_string()))?;
    deserializer
        .end()
        .map_err(|error| malformed(String::new(), error.to_string()))?;
    outcome.0.map_err(DecodeError::from_unsupported)
}

/// Decodes one envelope from a JSON value already parsed (an item of an HTTP array).
pub fn decode_json_value(value: serde_json::Value) -> Result<Envelope, DecodeError> {
    let outcome = serde_path_to_error::deserialize::<_, EnvelopeOutcome>(value)
        .map_err(|error| malformed(error.path().to_string(), error.inner().to_string()))?;
    outcome.0.map_err(DecodeError::from_unsupported)
}

fn check_size(bytes: &[u8]) -> Result<(), DecodeError> {
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            max: MAX_EVENT_BYTES,
        });
    }
    Ok(())
}

fn malformed(path: String, reason: String) -> DecodeError {
    // serde_path_to_error writes "." for the root. A payload buffered because it came
    // before `kind` is decoded afterwards; its error then starts with its own path, which
    // continues the path where it was buffered (the envelope's, or a correction's
    // `payload.replacement`). Both may be buffered, so there may be two such prefixes.
    let mut field = if path == "." { String::new() } else { path };
    let mut reason = reason.as_str();
    while reason.starts_with("payload")
        && let Some((inner, rest)) = reason.split_once(": ")
        && !inner.contains(' ')
    {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(inner);
        reason = rest;
    }
    DecodeError::Malformed {
        field,
        reason: reason.to_string(),
    }
}
