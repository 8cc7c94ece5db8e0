//! # proto-events — Samla's event contract
//!
//! What every organisation codes against: the envelope, the catalogue of event kinds and
//! their payloads, the wire codec (MessagePack with field names on NATS, JSON over HTTP),
//! the NATS subjects, validation with errors that name the field, and the personal-data
//! guard. Pure serde data.
//!
//! What it is not: it knows nothing of NATS connections, tokio, sled or HTTP. Other crates
//! move these bytes; this one defines them.
//!
//! Layout:
//! - [`envelope`]: [`Envelope`], [`AggregateRef`], [`Audience`], the hand-written serde
//!   that puts `kind` and `v` beside a nested `payload`.
//! - [`catalogue`]: [`Kind`] and [`Payload`], declared once for every kind.
//! - [`payload`]: the payload types, by group; [`vocab`]: closed vocabularies.
//! - [`ids`], [`time`]: checked identifiers, bounded text, RFC 3339 UTC timestamps.
//! - [`codec`]: bounded encode/decode; [`subject`]: subjects built and parsed.
//! - [`validate`], [`guard`]: the rules types cannot express, and the personal-data guard.
//! - [`upcast`]: how older schema versions are read; [`schema`]: JSON Schema generation.
//!
//! The wire shape is documented in `proto-events/README.md`; the JSON Schemas are in
//! `proto-events/schema/` and golden vectors in `proto-events/vectors/`.

pub mod catalogue;
pub mod codec;
pub mod envelope;
pub mod examples;
pub mod guard;
pub mod ids;
pub mod payload;
pub mod schema;
pub mod subject;
pub mod time;
pub mod upcast;
pub mod validate;
pub mod vocab;

pub use catalogue::{Kind, Payload};
pub use codec::{DecodeError, decode_json, decode_msgpack, encode_json, encode_msgpack};
pub use envelope::{AggregateRef, Audience, Envelope, TaggedPayload};
pub use ids::{AggregateId, AreaCode, EventId, IncidentId, Label, LangTag, OrgId, Text};
pub use subject::{EventSubject, IngestSubject};
pub use time::Timestamp;
pub use validate::ValidationError;
pub use vocab::{AggregateType, Status};
