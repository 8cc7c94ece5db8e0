//! The catalogue: every event kind, its wire name, its current schema version, the
//! aggregate type it belongs to and its payload type — declared once, here.

use serde::{Deserialize, Deserializer};

use crate::payload::*;
use crate::vocab::AggregateType;

macro_rules! catalogue {
    ($( $variant:ident($payload:ty) = $name:literal, $version:literal, $aggregate:expr; )+) => {
        /// An event kind. On the wire: the snake_case name in the envelope's `kind`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind { $($variant),+ }

        impl Kind {
            /// Every kind, in catalogue order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),+];

            /// The wire name, e.g. `need_raised`.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name),+ }
            }

            /// The schema version this code writes and folds; older versions are upcast on
            /// decode, newer ones are refused.
            pub fn current_version(self) -> u16 {
                match self { $(Kind::$variant => $version),+ }
            }

            /// The aggregate type an event of this kind concerns; `None` for corrections
            /// and retractions, which concern the aggregate of the event they supersede.
            pub fn aggregate_type(self) -> Option<AggregateType> {
                match self { $(Kind::$variant => $aggregate),+ }
            }

            /// Looks a kind up by its wire name.
            pub fn from_name(name: &str) -> Option<Kind> {
                match name { $($name => Some(Kind::$variant),)+ _ => None }
            }

            /// The payload type's name in the JSON Schemas.
            pub fn payload_type_name(self) -> &'static str {
                match self { $(Kind::$variant => stringify!($payload)),+ }
            }
        }

        /// The payload of an event: one variant per kind, holding that kind's type.
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
        #[serde(untagged)]
        pub enum Payload { $($variant($payload)),+ }

        impl Payload {
            pub fn kind(&self) -> Kind {
                match self { $(Payload::$variant(_) => Kind::$variant),+ }
            }
        }

        $(
            impl From<$payload> for Payload {
                fn from(payload: $payload) -> Self {
                    Payload::$variant(payload)
                }
            }
        )+

        /// Decodes the payload of a kind at its current version.
        pub(crate) fn deserialize_current<'de, D: Deserializer<'de>>(
            kind: Kind,
            deserializer: D,
        ) -> Result<Payload, D::Error> {
            match kind { $(Kind::$variant => <$payload>::deserialize(deserializer).map(Payload::$variant)),+ }
        }

        /// The JSON Schema of a kind's current payload.
        pub fn payload_schema(kind: Kind, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
            match kind { $(Kind::$variant => generator.subschema_for::<$payload>()),+ }
        }
    };
}

use AggregateType as A;

catalogue! {
    // Network
    IncidentDeclared(IncidentDeclared) = "incident_declared", 1, Some(A::Incident);
    IncidentPhaseChanged(IncidentPhaseChanged) = "incident_phase_changed", 1, Some(A::Incident);
    OrganisationJoined(OrganisationJoined) = "organisation_joined", 1, Some(A::Org);
    OrganisationLeft(OrganisationLeft) = "organisation_left", 1, Some(A::Org);
    ResponsibilityAssigned(ResponsibilityAssigned) = "responsibility_assigned", 1, Some(A::Responsibility);
    OperationalPresenceDeclared(OperationalPresenceDeclared) = "operational_presence_declared", 1, Some(A::Presence);
    // Housing and sites
    SiteRegistered(SiteRegistered) = "site_registered", 1, Some(A::Site);
    CapacityDeclared(CapacityDeclared) = "capacity_declared", 1, Some(A::Site);
    OccupancyReported(OccupancyReported) = "occupancy_reported", 1, Some(A::Site);
    SiteStatusChanged(SiteStatusChanged) = "site_status_changed", 1, Some(A::Site);
    HousingOffered(HousingOffered) = "housing_offered", 1, Some(A::Offer);
    HousingOfferWithdrawn(HousingOfferWithdrawn) = "housing_offer_withdrawn", 1, Some(A::Offer);
    OfferAnswered(OfferAnswered) = "offer_answered", 1, Some(A::Offer);
    // Needs
    NeedRaised(NeedRaised) = "need_raised", 2, Some(A::Need);
    NeedUpdated(NeedUpdated) = "need_updated", 1, Some(A::Need);
    NeedClaimed(NeedClaimed) = "need_claimed", 1, Some(A::Need);
    NeedClaimReleased(NeedClaimReleased) = "need_claim_released", 1, Some(A::Need);
    NeedMet(NeedMet) = "need_met", 1, Some(A::Need);
    NeedCancelled(NeedCancelled) = "need_cancelled", 1, Some(A::Need);
    // Resources
    ResourceOffered(ResourceOffered) = "resource_offered", 1, Some(A::Resource);
    ResourceWithdrawn(ResourceWithdrawn) = "resource_withdrawn", 1, Some(A::Resource);
    ResourceCommitted(ResourceCommitted) = "resource_committed", 1, Some(A::Resource);
    ResourceDelivered(ResourceDelivered) = "resource_delivered", 1, Some(A::Resource);
    ResourceReleased(ResourceReleased) = "resource_released", 1, Some(A::Resource);
    ResourceReturnRequested(ResourceReturnRequested) = "resource_return_requested", 1, Some(A::Resource);
    // Issues between actors
    IssueRaised(IssueRaised) = "issue_raised", 1, Some(A::Issue);
    IssueAcknowledged(IssueAcknowledged) = "issue_acknowledged", 1, Some(A::Issue);
    IssueAssigned(IssueAssigned) = "issue_assigned", 1, Some(A::Issue);
    IssueEscalated(IssueEscalated) = "issue_escalated", 1, Some(A::Issue);
    IssueResolved(IssueResolved) = "issue_resolved", 1, Some(A::Issue);
    IssueReopened(IssueReopened) = "issue_reopened", 1, Some(A::Issue);
    // Reports
    SituationReported(SituationReported) = "situation_reported", 1, Some(A::Report);
    ArrivalsReported(ArrivalsReported) = "arrivals_reported", 1, Some(A::Arrivals);
    ServiceCapacityReported(ServiceCapacityReported) = "service_capacity_reported", 1, Some(A::Service);
    HospitalStatusReported(HospitalStatusReported) = "hospital_status_reported", 1, Some(A::Hospital);
    AlertIssued(AlertIssued) = "alert_issued", 1, Some(A::Alert);
    InformationRequested(InformationRequested) = "information_requested", 1, Some(A::InformationRequest);
    InformationProvided(InformationProvided) = "information_provided", 1, Some(A::InformationRequest);
    // Coordination
    MeetingScheduled(MeetingScheduled) = "meeting_scheduled", 1, Some(A::Meeting);
    MeetingHeld(MeetingHeld) = "meeting_held", 1, Some(A::Meeting);
    DecisionRecorded(DecisionRecorded) = "decision_recorded", 1, Some(A::Decision);
    ActionAssigned(ActionAssigned) = "action_assigned", 1, Some(A::Action);
    ActionCompleted(ActionCompleted) = "action_completed", 1, Some(A::Action);
    // Hygiene
    EventCorrected(EventCorrected) = "event_corrected", 1, None;
    EventRetracted(EventRetracted) = "event_retracted", 1, None;
}

impl Kind {
    /// Corrections and retractions supersede another event.
    pub fn is_hygiene(self) -> bool {
        matches!(self, Kind::EventCorrected | Kind::EventRetracted)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decodes a payload of `kind` written at schema version `v`: the current version
/// directly, an older one through its upcast (see `upcast.rs`). The caller has refused
/// versions newer than the current one.
pub(crate) fn deserialize_payload<'de, D: Deserializer<'de>>(
    kind: Kind,
    v: u16,
    deserializer: D,
) -> Result<Payload, D::Error> {
    if v == kind.current_version() {
        deserialize_current(kind, deserializer)
    } else {
        crate::upcast::deserialize_older(kind, v, deserializer)
    }
}
