//! The golden vectors: every example encoded both ways, plus old-version events with the
//! current events they must upcast to. Written to `proto-events/vectors/` by
//! `cargo run -p proto-events --bin write-contract`; a test fails when the checked-in files
//! differ from what this module produces.

use serde::Serialize;

use super::*;
use crate::codec::{encode_json_pretty, encode_msgpack};

/// The folder, under `vectors/`, of old-version events and their upcasts.
pub const VECTOR_UPCAST_DIR: &str = "upcast";

/// Every vector file: its path relative to `proto-events/vectors/` and its bytes.
///
/// - `<kind>.json`: the example as indented JSON with a final newline;
/// - `<kind>.msgpack`: the same envelope as MessagePack with field names;
/// - `upcast/need_raised.v1.json` and `.msgpack`: a version 1 `need_raised`, written the
///   way an older emitter wrote it, and `upcast/need_raised.v1.upcast.json`: the current
///   envelope a reader must turn it into.
pub fn vector_files() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for envelope in all_examples() {
        let name = envelope.kind().as_str();
        files.push((format!("{name}.json"), pretty_json(&envelope).into_bytes()));
        files.push((format!("{name}.msgpack"), encode_msgpack(&envelope)));
    }
    let old = need_raised_v1();
    let stem = format!("{VECTOR_UPCAST_DIR}/need_raised.v1");
    files.push((format!("{stem}.json"), old.json.into_bytes()));
    files.push((format!("{stem}.msgpack"), old.msgpack));
    files.push((
        format!("{stem}.upcast.json"),
        pretty_json(&old.upcast).into_bytes(),
    ));
    files
}

fn pretty_json(envelope: &Envelope) -> String {
    format!("{}\n", encode_json_pretty(envelope))
}

/// An event written at an older schema version, and what it reads as today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldVersionVector {
    /// Indented JSON with a final newline, fields in wire order, `"v": 1`.
    pub json: String,
    /// MessagePack with field names, fields in wire order.
    pub msgpack: Vec<u8>,
    /// The current envelope decoding either of them must yield.
    pub upcast: Envelope,
}

/// A `need_raised` at version 1, before needs had an urgency: it must decode to a version 2
/// `need_raised` with urgency `normal`.
pub fn need_raised_v1() -> OldVersionVector {
    let occurred_at = at("2026-02-20T10:00:00Z");
    let mut current = example(Kind::NeedRaised);
    current.id = example_id(Kind::NeedRaised, occurred_at);
    current.occurred_at = occurred_at;
    current.aggregate = aggregate(AggregateType::Need, "need-family-housing");
    current.correlation = None;
    current.causation = None;
    let payload = NeedRaisedV1 {
        category: NeedCategory::Housing,
        subcategory: Some(label("familjeboende")),
        quantity: 12,
        unit: Unit::Beds,
        people: Some(12),
        needed_by: Some(at("2026-02-27T12:00:00Z")),
        addressed_to: Some(org("malmo-stad")),
        language: None,
        note: Some(text(
            "Tre familjer behöver boende efter att de lämnat ankomstboendet.",
        )),
    };
    let wire = WireEnvelope {
        id: current.id,
        kind: Kind::NeedRaised.as_str(),
        v: 1,
        incident: &current.incident,
        org: &current.org,
        function: &current.function,
        aggregate: &current.aggregate,
        occurred_at: current.occurred_at,
        status: current.status,
        audience: &current.audience,
        correlation: current.correlation,
        causation: current.causation,
        area: &current.area,
        lang: current.lang.as_ref(),
        payload: &payload,
    };
    let json = serde_json::to_string_pretty(&wire).expect("a JSON encoding cannot fail");
    let msgpack = rmp_serde::to_vec_named(&wire).expect("a MessagePack encoding cannot fail");
    current.payload = Payload::NeedRaised(NeedRaised::from(payload));
    OldVersionVector {
        json: format!("{json}\n"),
        msgpack,
        upcast: current,
    }
}

/// The envelope's wire shape with any `v` and payload, as an older emitter wrote it. Kept
/// apart from [`Envelope`]'s own serde, which only ever writes current versions.
#[derive(Serialize)]
struct WireEnvelope<'a, P: Serialize> {
    id: EventId,
    kind: &'static str,
    v: u16,
    incident: &'a IncidentId,
    org: &'a OrgId,
    function: &'a Label,
    aggregate: &'a AggregateRef,
    occurred_at: Timestamp,
    status: Status,
    audience: &'a Audience,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation: Option<EventId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    causation: Option<EventId>,
    area: &'a AreaCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<&'a LangTag>,
    payload: &'a P,
}
