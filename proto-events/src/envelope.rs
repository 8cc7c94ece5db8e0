//! The envelope every event travels in, and its hand-written serde.
//!
//! Wire shape (JSON shown; MessagePack uses the same field names):
//! `{"id", "kind", "v", "incident", "org", "function", "aggregate": {"type", "id"},
//! "occurred_at", "status", "audience", "correlation"?, "causation"?, "area", "lang"?,
//! "payload": {…}}`, fields written in that order, optional ones omitted when absent.
//!
//! Why hand-written: `kind` and `v` sit beside a nested `payload`, and the payload's type
//! depends on both. When `kind` and `v` come first (as this crate writes them) the payload
//! is decoded straight into its type; when another tool writes them after the payload, the
//! payload is buffered once and decoded afterwards. An unknown kind or a newer version is
//! reported as such ([`crate::codec::DecodeError`]) with the event's id, never as a panic.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalogue::{Kind, Payload, deserialize_payload};
use crate::ids::{AggregateId, AreaCode, EventId, IncidentId, Label, LangTag, OrgId};
use crate::time::Timestamp;
use crate::vocab::{AggregateType, Status};

/// The aggregate an event concerns: its type and its id (`{"type": "need", "id": "…"}`).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct AggregateRef {
    #[serde(rename = "type")]
    pub kind: AggregateType,
    pub id: AggregateId,
}

impl AggregateRef {
    pub fn new(kind: AggregateType, id: AggregateId) -> Self {
        Self { kind, id }
    }
}

/// Who may see an event: the whole network (every organisation that joined the incident)
/// or listed organisations. The emitter always sees its own events.
/// On the wire: `"network"` or `{"orgs": ["a", "b"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Network,
    Orgs(BTreeSet<OrgId>),
}

impl Audience {
    /// Whether `viewer` may see an event with this audience emitted by `emitter`.
    pub fn admits(&self, viewer: &OrgId, emitter: &OrgId) -> bool {
        match self {
            Audience::Network => true,
            Audience::Orgs(orgs) => viewer == emitter || orgs.contains(viewer),
        }
    }
}

/// One event: who says what about which aggregate of which incident, when it happened,
/// and who may see it. `recorded_at` and the stream sequence are not here: the log assigns
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: EventId,
    pub incident: IncidentId,
    /// The emitting organisation. Ingest takes it from the credential and refuses an
    /// envelope that names another.
    pub org: OrgId,
    /// The emitter's role, e.g. "duty officer, social services" — never a person's name.
    pub function: Label,
    pub aggregate: AggregateRef,
    /// When it happened, as reported by the emitter.
    pub occurred_at: Timestamp,
    pub status: Status,
    pub audience: Audience,
    /// The root event of the thread this event belongs to.
    pub correlation: Option<EventId>,
    /// The event this one answers.
    pub causation: Option<EventId>,
    pub area: AreaCode,
    /// The language of the free text in this event.
    pub lang: Option<LangTag>,
    pub payload: Payload,
}

impl Envelope {
    pub fn kind(&self) -> Kind {
        self.payload.kind()
    }

    /// The schema version this envelope is written at (always the current one: older
    /// versions are upcast when decoded).
    pub fn version(&self) -> u16 {
        self.kind().current_version()
    }
}

/// A payload with its kind and version beside it — `{"kind", "v", "payload"}` — as used
/// by [`crate::payload::EventCorrected::replacement`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedPayload(pub Box<Payload>);

impl TaggedPayload {
    pub fn new(payload: impl Into<Payload>) -> Self {
        Self(Box::new(payload.into()))
    }
    pub fn kind(&self) -> Kind {
        self.0.kind()
    }
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let optional = usize::from(self.correlation.is_some())
            + usize::from(self.causation.is_some())
            + usize::from(self.lang.is_some());
        let mut s = serializer.serialize_struct("Envelope", 12 + optional)?;
        let kind = self.kind();
        s.serialize_field("id", &self.id)?;
        s.serialize_field("kind", kind.as_str())?;
        s.serialize_field("v", &kind.current_version())?;
        s.serialize_field("incident", &self.incident)?;
        s.serialize_field("org", &self.org)?;
        s.serialize_field("function", &self.function)?;
        s.serialize_field("aggregate", &self.aggregate)?;
        s.serialize_field("occurred_at", &self.occurred_at)?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("audience", &self.audience)?;
        if let Some(correlation) = &self.correlation {
            s.serialize_field("correlation", correlation)?;
        }
        if let Some(causation) = &self.causation {
            s.serialize_field("causation", causation)?;
        }
        s.serialize_field("area", &self.area)?;
        if let Some(lang) = &self.lang {
            s.serialize_field("lang", lang)?;
        }
        s.serialize_field("payload", &self.payload)?;
        s.end()
    }
}

impl Serialize for TaggedPayload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let kind = self.kind();
        let mut s = serializer.serialize_struct("TaggedPayload", 3)?;
        s.serialize_field("kind", kind.as_str())?;
        s.serialize_field("v", &kind.current_version())?;
        s.serialize_field("payload", &*self.0)?;
        s.end()
    }
}

/// What decoding an envelope can yield besides an envelope: an event this code cannot
/// read yet. Kept apart from malformed input so ingest and quarantine can say which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unsupported {
    UnknownKind {
        kind: String,
        id: Option<EventId>,
    },
    NewerVersion {
        kind: Kind,
        v: u16,
        id: Option<EventId>,
    },
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsupported::UnknownKind { kind, .. } => write!(f, "unknown kind {kind:?}"),
            Unsupported::NewerVersion { kind, v, .. } => write!(
                f,
                "version {v} of {kind} is newer than this code knows (current version {})",
                kind.current_version()
            ),
        }
    }
}

/// The result of decoding an envelope: an envelope, or an event of an unknown kind or a
/// newer version.
pub(crate) struct EnvelopeOutcome(pub Result<Envelope, Unsupported>);

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        EnvelopeOutcome::deserialize(deserializer)?
            .0
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for EnvelopeOutcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

impl<'de> Deserialize<'de> for TaggedPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TaggedPayloadVisitor)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum EnvelopeField {
    Id,
    Kind,
    V,
    Incident,
    Org,
    Function,
    Aggregate,
    OccurredAt,
    Status,
    Audience,
    Correlation,
    Causation,
    Area,
    Lang,
    Payload,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum TaggedPayloadField {
    Kind,
    V,
    Payload,
}

/// `kind`, `v` and `payload` as they arrive, in any order.
#[derive(Default)]
struct PayloadParts {
    kind: Option<KindName>,
    v: Option<u16>,
    payload: Option<PendingPayload>,
}

enum KindName {
    Known(Kind),
    Unknown(String),
}

enum PendingPayload {
    Decoded(Payload),
    /// `payload` came before `kind` or `v`: kept as a generic value until they arrive.
    Buffered(serde_json::Value),
    /// The kind is unknown or the version newer: the payload is skipped unread.
    Skipped,
}

impl PayloadParts {
    fn read_kind<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error> {
        if self.kind.is_some() {
            return Err(de::Error::duplicate_field("kind"));
        }
        let name: Cow<'de, str> = map.next_value()?;
        self.kind = Some(match Kind::from_name(&name) {
            Some(kind) => KindName::Known(kind),
            None => KindName::Unknown(name.into_owned()),
        });
        Ok(())
    }

    fn read_version<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error> {
        if self.v.is_some() {
            return Err(de::Error::duplicate_field("v"));
        }
        // Refused while the value is read, so the error names the field `v`.
        let v: std::num::NonZeroU16 = map.next_value()?;
        self.v = Some(v.get());
        Ok(())
    }

    fn read_payload<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error> {
        if self.payload.is_some() {
            return Err(de::Error::duplicate_field("payload"));
        }
        self.payload = Some(match (&self.kind, self.v) {
            (Some(KindName::Known(kind)), Some(v)) if v <= kind.current_version() => {
                PendingPayload::Decoded(map.next_value_seed(PayloadSeed { kind: *kind, v })?)
            }
            (Some(_), Some(_)) | (Some(KindName::Unknown(_)), None) => {
                map.next_value::<IgnoredAny>()?;
                PendingPayload::Skipped
            }
            _ => PendingPayload::Buffered(map.next_value()?),
        });
        Ok(())
    }

    /// The payload, or why this code cannot read it.
    fn finish<E: de::Error>(self, id: Option<EventId>) -> Result<Result<Payload, Unsupported>, E> {
        let kind = match self.kind {
            None => return Err(de::Error::missing_field("kind")),
            Some(KindName::Unknown(kind)) => return Ok(Err(Unsupported::UnknownKind { kind, id })),
            Some(KindName::Known(kind)) => kind,
        };
        let v = self.v.ok_or_else(|| de::Error::missing_field("v"))?;
        if v > kind.current_version() {
            return Ok(Err(Unsupported::NewerVersion { kind, v, id }));
        }
        match self.payload {
            None => Err(de::Error::missing_field("payload")),
            Some(PendingPayload::Decoded(payload)) => Ok(Ok(payload)),
            Some(PendingPayload::Buffered(value)) => {
                let mut track = serde_path_to_error::Track::new();
                let tracked = serde_path_to_error::Deserializer::new(value, &mut track);
                match (PayloadSeed { kind, v }).deserialize(tracked) {
                    Ok(payload) => Ok(Ok(payload)),
                    Err(error) => Err(de::Error::custom(format_args!(
                        "payload.{}: {}",
                        track.path(),
                        error
                    ))),
                }
            }
            Some(PendingPayload::Skipped) => Err(de::Error::custom("payload could not be read")),
        }
    }
}

struct PayloadSeed {
    kind: Kind,
    v: u16,
}

impl<'de> DeserializeSeed<'de> for PayloadSeed {
    type Value = Payload;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Payload, D::Error> {
        deserialize_payload(self.kind, self.v, deserializer)
    }
}

fn set_once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| de::Error::missing_field(name))
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = EnvelopeOutcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event envelope (a map with id, kind, v, …, payload)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvelopeOutcome, A::Error> {
        let mut id = None;
        let mut incident = None;
        let mut org = None;
        let mut function = None;
        let mut aggregate = None;
        let mut occurred_at = None;
        let mut status = None;
        let mut audience = None;
        let mut correlation = None;
        let mut causation = None;
        let mut area = None;
        let mut lang = None;
        let mut parts = PayloadParts::default();
        while let Some(field) = map.next_key::<EnvelopeField>()? {
            match field {
                EnvelopeField::Id => set_once(&mut id, &mut map, "id")?,
                EnvelopeField::Kind => parts.read_kind(&mut map)?,
                EnvelopeField::V => parts.read_version(&mut map)?,
                EnvelopeField::Incident => set_once(&mut incident, &mut map, "incident")?,
                EnvelopeField::Org => set_once(&mut org, &mut map, "org")?,
                EnvelopeField::Function => set_once(&mut function, &mut map, "function")?,
                EnvelopeField::Aggregate => set_once(&mut aggregate, &mut map, "aggregate")?,
                EnvelopeField::OccurredAt => set_once(&mut occurred_at, &mut map, "occurred_at")?,
                EnvelopeField::Status => set_once(&mut status, &mut map, "status")?,
                EnvelopeField::Audience => set_once(&mut audience, &mut map, "audience")?,
                EnvelopeField::Correlation => set_once(&mut correlation, &mut map, "correlation")?,
                EnvelopeField::Causation => set_once(&mut causation, &mut map, "causation")?,
                EnvelopeField::Area => set_once(&mut area, &mut map, "area")?,
                EnvelopeField::Lang => set_once(&mut lang, &mut map, "lang")?,
                EnvelopeField::Payload => parts.read_payload(&mut map)?,
            }
        }
        let payload = match parts.finish(id)? {
            Ok(payload) => payload,
            Err(unsupported) => return Ok(EnvelopeOutcome(Err(unsupported))),
        };
        Ok(EnvelopeOutcome(Ok(Envelope {
            id: required(id, "id")?,
            incident: required(incident, "incident")?,
            org: required(org, "org")?,
            function: required(function, "function")?,
            aggregate: required(aggregate, "aggregate")?,
            occurred_at: required(occurred_at, "occurred_at")?,
            status: required(status, "status")?,
            audience: required(audience, "audience")?,
            correlation,
            causation,
            area: required(area, "area")?,
            lang,
            payload,
        })))
    }
}

struct TaggedPayloadVisitor;

impl<'de> Visitor<'de> for TaggedPayloadVisitor {
    type Value = TaggedPayload;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tagged payload (a map with kind, v and payload)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TaggedPayload, A::Error> {
        let mut parts = PayloadParts::default();
        while let Some(field) = map.next_key::<TaggedPayloadField>()? {
            match field {
                TaggedPayloadField::Kind => parts.read_kind(&mut map)?,
                TaggedPayloadField::V => parts.read_version(&mut map)?,
                TaggedPayloadField::Payload => parts.read_payload(&mut map)?,
            }
        }
        match parts.finish(None)? {
            Ok(payload) => Ok(TaggedPayload(Box::new(payload))),
            Err(unsupported) => Err(de::Error::custom(unsupported)),
        }
    }
}
