//! One realistic example event per kind, fixed and deterministic: a municipality (Malmö)
//! receiving refugees at a reception site with the Migration Agency, the region, the
//! police, the Church of Sweden parish, Save the Children and the county board.
//!
//! The examples are the source of the golden vectors in `proto-events/vectors/` (written by
//! `cargo run -p proto-events --bin write-contract`), of documentation, and of tests in
//! other crates that need "an event of kind X". Every example passes
//! [`Envelope::validate`]; between them they fill in every optional field of the envelope
//! and of every payload, use every status, a restricted audience, a correction whose
//! replacement is a `need_raised` payload, and a timestamp with fractional seconds.
//!
//! Events of one thread point at each other (`correlation`, `causation`, `supersedes`) by
//! the ids of the other examples. Ids are UUIDv7 built from the example's `occurred_at` and
//! its place in the catalogue, so they are stable and sort by time as real ones would.
//!
//! Layout: this file has the entry points and the small builders; `examples/operations.rs`
//! the network, housing, needs and resources examples; `examples/reporting.rs` the issues,
//! reports, coordination and hygiene examples; `examples/vectors.rs` the golden vector files
//! made from them, including the old-version `need_raised` that must upcast.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalogue::{Kind, Payload};
use crate::envelope::{AggregateRef, Audience, Envelope, TaggedPayload};
use crate::ids::{AggregateId, AreaCode, EventId, IncidentId, Label, LangTag, OrgId, Text};
use crate::payload::*;
use crate::time::Timestamp;
use crate::vocab::*;

mod operations;
mod reporting;
mod vectors;

pub use vectors::{OldVersionVector, VECTOR_UPCAST_DIR, need_raised_v1, vector_files};

/// The incident every example belongs to.
pub const EXAMPLE_INCIDENT: &str = "malmo-reception-2026";

/// The example event of `kind`.
pub fn example(kind: Kind) -> Envelope {
    match kind {
        Kind::IncidentDeclared
        | Kind::IncidentPhaseChanged
        | Kind::OrganisationJoined
        | Kind::OrganisationLeft
        | Kind::ResponsibilityAssigned
        | Kind::OperationalPresenceDeclared => operations::network(kind),
        Kind::SiteRegistered
        | Kind::CapacityDeclared
        | Kind::OccupancyReported
        | Kind::SiteStatusChanged
        | Kind::HousingOffered
        | Kind::HousingOfferWithdrawn
        | Kind::OfferAnswered => operations::housing(kind),
        Kind::NeedRaised
        | Kind::NeedUpdated
        | Kind::NeedClaimed
        | Kind::NeedClaimReleased
        | Kind::NeedMet
        | Kind::NeedCancelled => operations::needs(kind),
        Kind::ResourceOffered
        | Kind::ResourceWithdrawn
        | Kind::ResourceCommitted
        | Kind::ResourceDelivered
        | Kind::ResourceReleased
        | Kind::ResourceReturnRequested => operations::resources(kind),
        Kind::IssueRaised
        | Kind::IssueAcknowledged
        | Kind::IssueAssigned
        | Kind::IssueEscalated
        | Kind::IssueResolved
        | Kind::IssueReopened => reporting::issues(kind),
        Kind::SituationReported
        | Kind::ArrivalsReported
        | Kind::ServiceCapacityReported
        | Kind::HospitalStatusReported
        | Kind::AlertIssued
        | Kind::InformationRequested
        | Kind::InformationProvided => reporting::reports(kind),
        Kind::MeetingScheduled
        | Kind::MeetingHeld
        | Kind::DecisionRecorded
        | Kind::ActionAssigned
        | Kind::ActionCompleted => reporting::coordination(kind),
        Kind::EventCorrected | Kind::EventRetracted => reporting::hygiene(kind),
    }
}

/// The example of every kind, in catalogue order.
pub fn all_examples() -> Vec<Envelope> {
    Kind::ALL.iter().map(|kind| example(*kind)).collect()
}

// ----- building blocks -------------------------------------------------------------------
//
// The helpers below take literals written in this file; a literal that fails its check is
// a bug in this file, caught by the tests, so `expect` is right here.

fn org(id: &str) -> OrgId {
    OrgId::new(id).expect("example organisation ids are valid")
}

fn orgs(ids: &[&str]) -> BTreeSet<OrgId> {
    ids.iter().map(|id| org(id)).collect()
}

fn area(code: &str) -> AreaCode {
    AreaCode::new(code).expect("example areas are valid")
}

fn label(text: &str) -> Label {
    Label::new(text).expect("example labels are short")
}

fn labels(texts: &[&str]) -> BTreeSet<Label> {
    texts.iter().map(|text| label(text)).collect()
}

fn text(text: &str) -> Text {
    Text::new(text).expect("example texts are short")
}

fn at(time: &str) -> Timestamp {
    Timestamp::parse(time).expect("example timestamps are valid")
}

fn aggregate_id(id: &str) -> AggregateId {
    AggregateId::new(id).expect("example aggregate ids are valid")
}

fn aggregate(kind: AggregateType, id: &str) -> AggregateRef {
    AggregateRef::new(kind, aggregate_id(id))
}

fn lang(tag: &str) -> Option<LangTag> {
    Some(LangTag::new(tag).expect("example language tags are valid"))
}

/// A UUIDv7 whose time is `occurred_at` and whose remaining bits name the kind, so every
/// example has its own stable id.
fn example_id(kind: Kind, occurred_at: Timestamp) -> EventId {
    let index = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    let index = u8::try_from(index).unwrap_or(u8::MAX);
    let millis = u64::try_from(occurred_at.as_unix_nanos() / 1_000_000).unwrap_or(0);
    // "samla" in the random bits, then the kind's place in the catalogue.
    let bytes = [0x0a, index, 0x73, 0x61, 0x6d, 0x6c, 0x61, 0x00, 0x00, index];
    EventId::from_uuid(uuid::Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid())
}

/// The id of another kind's example, for `correlation`, `causation` and `supersedes`.
fn id_of(kind: Kind) -> EventId {
    example(kind).id
}

/// An actual event for the whole network, in area 1280 (Malmö), written in Swedish; the
/// caller adjusts what differs.
fn event(
    kind: Kind,
    emitter: &str,
    function: &str,
    aggregate_ref: AggregateRef,
    occurred_at: &str,
    payload: impl Into<Payload>,
) -> Envelope {
    let occurred_at = at(occurred_at);
    let payload = payload.into();
    debug_assert_eq!(payload.kind(), kind, "example payload of the wrong kind");
    Envelope {
        id: example_id(kind, occurred_at),
        incident: IncidentId::new(EXAMPLE_INCIDENT).expect("the example incident id is valid"),
        org: org(emitter),
        function: label(function),
        aggregate: aggregate_ref,
        occurred_at,
        status: Status::Actual,
        audience: Audience::Network,
        correlation: None,
        causation: None,
        area: area("1280"),
        lang: lang("sv"),
        payload,
    }
}

/// `correlation` = the root of the thread, `causation` = the event answered.
fn answering(mut envelope: Envelope, root: Kind, answered: Kind) -> Envelope {
    envelope.correlation = Some(id_of(root));
    envelope.causation = Some(id_of(answered));
    envelope
}

// ----- names shared by the examples (in `operations.rs` and `reporting.rs`) ---------------

const CRISIS_STAFF: &str = "krisledningsstab, Malmö stad";
const SOCIAL_SERVICES: &str = "samordnare, socialtjänsten";
const MIGRATION_COORDINATOR: &str = "samordnare, mottagningsenheten";
const REGION_DUTY: &str = "tjänsteman i beredskap, Region Skåne";
const PARISH: &str = "diakon, Svenska kyrkan Malmö";
const SAVE_THE_CHILDREN: &str = "samordnare, Rädda Barnen Malmö";
const COUNTY_BOARD: &str = "tjänsteman i beredskap, Länsstyrelsen Skåne";

const SITE: &str = "site-hyllie-sporthall";
const OFFER: &str = "offer-mkb-holma";
const NEED: &str = "need-interpretation-health";
const RESOURCE: &str = "resource-parish-hall";
const ISSUE: &str = "issue-school-places";
const MEETING: &str = "meeting-coordination-w10";
const DECISION: &str = "decision-extra-evening-staff";
const ACTION: &str = "action-staff-rota";
