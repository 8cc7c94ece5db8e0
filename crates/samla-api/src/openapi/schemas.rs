//! Shapes of the answers (frames, counts of people, timeline events) and of the ingest
//! request, for the OpenAPI document only; `views.rs` holds the views.
//!
//! The handlers build their answers as `serde_json::Value` from the projector's view types,
//! which do not derive `ToSchema` (they belong to `samla-projector`, which knows nothing of
//! HTTP). These types describe the same JSON field by field. They are never built: utoipa
//! reads them. A test validates real answers of every route against these schemas, so a
//! view that changes shape fails it.
//!
//! Vocabulary fields (categories, states, phases) are strings here; the contract's JSON
//! Schemas (`proto-events/schema/`) list their values.

#![allow(dead_code, reason = "described for OpenAPI, never built")]

use std::borrow::Cow;

use utoipa::openapi::Ref;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::{RefOr, schema::SchemaType};
use utoipa::{PartialSchema, ToSchema};

/// A count of people as one viewer sees it: a number, or for views published beyond the
/// network (share tokens) `{"suppressed": true, "below": N}` when the true count is between 1
/// and N - 1 — a marked non-number, never a fake integer.
pub struct PeopleCount;

impl PartialSchema for PeopleCount {
    fn schema() -> RefOr<Schema> {
        let suppressed = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "suppressed",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .enum_values(Some([true])),
            )
            .required("suppressed")
            .property(
                "below",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .description(Some("The suppression threshold: the count is below it.")),
            )
            .required("below")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .description(Some(
                "A small count of people, suppressed for a share-token view.",
            ));
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .item(suppressed)
            .description(Some(
                "A count of people: a number, or — in views for share tokens (wall screens, \
                 exports beyond the network) — `{\"suppressed\": true, \"below\": N}` when it is \
                 between 1 and N - 1. Never a fake integer.",
            ))
            .into()
    }
}

impl ToSchema for PeopleCount {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PeopleCount")
    }
}

/// Who an answer was computed for: `{"org": "<org>"}`, `"share"` or `"operator"`.
pub struct ViewerName;

impl PartialSchema for ViewerName {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property("org", ObjectBuilder::new().schema_type(Type::String))
                    .required("org"),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["share", "operator"])),
            )
            .description(Some(
                "Whose view this is: an organisation's, a share token's (small counts of \
                 people suppressed) or the operator's.",
            ))
            .into()
    }
}

impl ToSchema for ViewerName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Viewer")
    }
}

/// A schema defined by the contract (`proto-events`): a placeholder here, replaced by the
/// contract's own JSON Schema when the document is assembled.
macro_rules! contract_schema {
    ($name:ident) => {
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(SchemaType::AnyValue)
                    .description(Some(super::CONTRACT_PLACEHOLDER))
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

contract_schema!(Envelope);
contract_schema!(AggregateRef);

/// Whether the read models are current.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadyState {
    /// At the log's head.
    Ready,
    /// Applying events behind the head (after a start or a burst).
    CatchingUp,
    /// Rebuilding from the log beside the live models.
    Rebuilding,
}

/// Every answer says which log position it reflects.
#[derive(ToSchema)]
pub struct Frame {
    /// The last log sequence the read models applied: the answer reflects the log up to it.
    pub applied_seq: u64,
    pub state: ReadyState,
    /// For a replay (`as_of` or `at_seq`): which moment the answer shows. `null` for the
    /// live picture.
    pub as_of: Option<AsOf>,
}

/// The moment a replayed answer shows.
#[derive(ToSchema)]
pub struct AsOf {
    /// `known` (the log as recorded up to the moment) or `happened` (what had occurred by
    /// then).
    pub sense: String,
    /// The moment (RFC 3339): `as_of`, or for `at_seq` the `recorded_at` of that event.
    /// Ages and overdue flags are computed at it.
    pub at: String,
    /// The highest log sequence folded into the answer (0: none).
    pub seq: u64,
    /// How many events of the log the answer folds.
    pub events: u64,
}

/// The frame of an answer about one incident.
#[derive(ToSchema)]
pub struct IncidentFrame {
    #[serde(flatten)]
    pub frame: Frame,
    pub incident: String,
    /// `actual`, `exercise` or `test`.
    pub status: String,
    pub viewer: ViewerName,
    /// The instant ages, overdue flags and expired claims were computed at (RFC 3339).
    pub now: String,
}

/// `GET /v1/chain`: the head of the log's hash chain.
#[derive(ToSchema)]
pub struct ChainHead {
    /// The last sequence the chain covers (0: an empty log).
    pub seq: u64,
    /// When that event was recorded (RFC 3339); `null` for an empty log.
    pub recorded_at: Option<String>,
    /// The full chain's link at `seq` (hex SHA-256): changes if any event, its subject or
    /// its recorded time is changed, removed or re-recorded.
    pub link: String,
    /// The content chain's link at `seq` (hex): the same without recorded times, so a
    /// faithful copy keeps it and a changed event does not.
    pub content: String,
    /// The stream the chain was computed from.
    pub stream: String,
    /// How the links are made.
    pub algorithm: String,
}

/// `GET /healthz`.
#[derive(ToSchema)]
pub struct Health {
    /// Always `ok`: the process answers.
    pub status: String,
}

/// `GET /readyz`.
#[derive(ToSchema)]
pub struct Readiness {
    pub state: ReadyState,
    pub applied_seq: u64,
    /// The log's last sequence as last seen.
    pub head_seq: u64,
}

/// `GET /v1/digest`: a digest of the read models at a checkpoint, to compare replicas.
#[derive(ToSchema)]
pub struct Digest {
    /// Hex SHA-256.
    pub digest: String,
    /// The log sequence the read models were checkpointed at.
    pub checkpoint: u64,
    pub algorithm: String,
}

/// One event as the timeline and the live stream show it.
#[derive(ToSchema)]
pub struct TimelineEvent {
    /// The event's log sequence.
    pub seq: u64,
    /// When the log stored it (RFC 3339).
    pub recorded_at: String,
    /// When it happened, as reported (RFC 3339).
    pub occurred_at: String,
    pub kind: String,
    pub org: String,
    pub aggregate: AggregateRef,
    /// One line a person can read.
    pub summary: String,
    /// The event as stored.
    pub event: Envelope,
}

/// `GET /v1/incidents/{incident}/timeline`: newest first.
#[derive(ToSchema)]
pub struct Timeline {
    #[serde(flatten)]
    pub frame: IncidentFrame,
    pub items: Vec<TimelineEvent>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    pub next_before: Option<u64>,
}

/// An event that reached the log but cannot be used.
#[derive(ToSchema)]
pub struct QuarantinedEvent {
    pub seq: u64,
    pub recorded_at: String,
    pub subject: String,
    /// `malformed`, `too_large`, `unknown_kind`, `unsupported_version`, `invalid`,
    /// `personal_data`, `subject_mismatch` or `bad_supersedes`.
    pub code: String,
    /// The field at fault; empty when none is.
    pub field: String,
    pub reason: String,
    pub event_id: Option<String>,
}

/// `GET /v1/incidents/{incident}/quarantine`.
#[derive(ToSchema)]
pub struct Quarantine {
    #[serde(flatten)]
    pub frame: IncidentFrame,
    pub total: usize,
    pub items: Vec<QuarantinedEvent>,
}

/// The body of `POST /v1/events`: one item, or an array of 1 to `max_items_per_request`
/// items (1000 by default).
pub struct IngestRequest;

impl PartialSchema for IngestRequest {
    fn schema() -> RefOr<Schema> {
        let max = crate::IngestConfig::default().max_items_per_request;
        OneOfBuilder::new()
            .item(Ref::from_schema_name(IngestItem::name()))
            .item(
                ArrayBuilder::new()
                    .items(Ref::from_schema_name(IngestItem::name()))
                    .min_items(Some(1))
                    .max_items(Some(max)),
            )
            .description(Some(
                "One item or an array of items. Each is checked on its own: one item's \
                 mistake never fails another.",
            ))
            .into()
    }
}

impl ToSchema for IngestRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("IngestRequest")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((IngestItem::name().into_owned(), IngestItem::schema()));
        IngestItem::schemas(schemas);
    }
}

/// One event to store: an envelope, or `{"event": <envelope>, "expected_seq": N}` to store
/// it only if its aggregate's last sequence is N (0: the aggregate is new).
pub struct IngestItem;

impl PartialSchema for IngestItem {
    fn schema() -> RefOr<Schema> {
        let envelope = || Ref::from_schema_name(Envelope::name());
        let wrapper = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("event", envelope())
            .required("event")
            .property(
                "expected_seq",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .description(Some(
                        "Store only if the aggregate's last sequence is this (0: new); \
                         otherwise the item is refused with `conflict` and `current_seq`.",
                    )),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        OneOfBuilder::new().item(envelope()).item(wrapper).into()
    }
}

impl ToSchema for IngestItem {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("IngestItem")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Envelope::name().into_owned(), Envelope::schema()));
    }
}
