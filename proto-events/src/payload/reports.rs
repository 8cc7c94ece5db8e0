//! Reports and counts: situation reports, arrivals, service and hospital capacity, alerts,
//! requests for information.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{AreaCode, Label, LangTag, OrgId, Text};
use crate::time::Timestamp;
use crate::vocab::{
    AlertCertainty, AlertMessageType, AlertScope, AlertSeverity, AlertUrgency, BedType, Confidence,
    EmergencyDepartmentStatus, FacilityStatus, ReportVersion, ServiceKind, Severity,
};

/// Counts of people in a situation report or an arrivals report: "to date" figures are
/// gauges (the latest one counts), "this period" figures add up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeopleCounts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals_this_period: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals_to_date: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_to_date: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_placement: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unaccompanied_minors_to_date: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub households_this_period: Option<u32>,
}

/// A numbered, versioned situation report for a period, by one organisation for its remit
/// or by the convenor for the joint picture. EDXL-SitRep `SituationInformation` /
/// `ManagementReportingSummary`; MSB lägesbild; the WIS lägesrapport headings. Aggregate:
/// `report` (one series per organisation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SituationReported {
    pub number: u32,
    pub version: ReportVersion,
    pub period_from: Timestamp,
    pub period_to: Timestamp,
    /// Lägesbild: the situation.
    pub summary: Text,
    /// Konsekvenser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consequences: Option<Text>,
    /// Vidtagna åtgärder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_taken: Option<Text>,
    /// Behov.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<Text>,
    /// Kommande 24 timmar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlook: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    #[serde(default)]
    pub counts: PeopleCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_report_at: Option<Timestamp>,
}

/// Arrivals in an area over a period, as counts. Emitted by the Migration Agency, the
/// municipality or the police. EDXL-SitRep count pattern; HXL `#affected+refugees+ind`.
/// Aggregate: `arrivals` (one series per reporting organisation and area).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArrivalsReported {
    pub period_from: Timestamp,
    pub period_to: Timestamp,
    pub counts: PeopleCounts,
    #[serde(default)]
    pub estimated: bool,
}

/// A service's capacity: school places, primary-care slots, interpreter hours. Emitted by
/// the school office, the region, the interpretation service. HXL `#capacity`,
/// `#service`. Aggregate: `service`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCapacityReported {
    pub service: ServiceKind,
    pub available: u32,
    pub used: u32,
    /// For interpreters: the language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<LangTag>,
}

/// A hospital's status and free beds by type. Emitted by the region. EDXL-HAVE.
/// Aggregate: `hospital`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HospitalStatusReported {
    pub facility_status: FacilityStatus,
    pub emergency_department: EmergencyDepartmentStatus,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub beds_available: BTreeMap<BedType, u32>,
}

/// An alert to the network or the public. Emitted by an authority with the mandate.
/// CAP 1.2. Aggregate: `alert`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertIssued {
    pub message_type: AlertMessageType,
    pub scope: AlertScope,
    pub urgency: AlertUrgency,
    pub severity: AlertSeverity,
    pub certainty: AlertCertainty,
    pub headline: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<Text>,
    pub areas: BTreeSet<AreaCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

/// An organisation asked another for information. EDXL-RM `RequestInformation`; WIS
/// begäran. Aggregate: `information_request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InformationRequested {
    pub addressed_to: OrgId,
    pub questions: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_by: Option<Timestamp>,
}

/// The addressee answered a request for information. EDXL-RM
/// `ResponseToRequestInformation`. Aggregate: `information_request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InformationProvided {
    pub answers: Vec<Text>,
}
