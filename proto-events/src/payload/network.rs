//! Network: the incident, who joined it, who is responsible for what, who does what where.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{AreaCode, Label, OrgId, Text};
use crate::time::Timestamp;
use crate::vocab::{IncidentPhase, IncidentType, OrgType, PresenceStatus, Sector};

/// An incident was declared and the network convened. Emitted by the convening
/// organisation (municipal crisis management, the county board). EDXL-SitRep
/// `IncidentInformation`; CAP incidents. Aggregate: `incident`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentDeclared {
    pub title: Label,
    pub incident_type: IncidentType,
    /// Every municipality or district the incident covers.
    pub areas: BTreeSet<AreaCode>,
    pub lead_org: OrgId,
    pub started_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// The incident moved to another phase. Emitted by the convening organisation.
/// EDXL-SitRep `incidentLifecyclePhase`. Aggregate: `incident`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPhaseChanged {
    pub phase: IncidentPhase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// An organisation joined the incident's network; from now on it sees network events.
/// Emitted by the joining organisation. HXL `#org+code/+type`; EDXL-RM
/// `ContactInformation`. Aggregate: `org`, id = the organisation's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationJoined {
    pub name: Label,
    pub org_type: OrgType,
    /// Functions the organisation brings, e.g. "housing", "interpretation".
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub functions: BTreeSet<Label>,
    /// A functional contact ("duty officer, social services"), never a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_function: Option<Label>,
}

/// An organisation left the network. Emitted by the organisation or the convenor.
/// Aggregate: `org`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationLeft {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// A function was given a lead organisation (and supporters). Emitted by the convenor or a
/// decision body. 3W `#sector` + `#org`; ICS roles. Aggregate: `responsibility`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponsibilityAssigned {
    /// The function, e.g. "housing coordination", "school places".
    pub function: Label,
    pub lead_org: OrgId,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub supporting_orgs: BTreeSet<OrgId>,
}

/// Who does what where (3W/4W: `#org #sector #activity #adm2 #date+start #status`).
/// Emitted by any organisation about itself. Aggregate: `presence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationalPresenceDeclared {
    pub sector: Sector,
    pub activity: Label,
    pub presence_status: PresenceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
}
