//! Coordination: meetings, decisions (with the log position they were based on), actions.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::envelope::AggregateRef;
use crate::ids::{AggregateId, Label, OrgId, Text};
use crate::time::Timestamp;

/// A network meeting was scheduled. Emitted by the convenor. Aggregate: `meeting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingScheduled {
    /// The forum, e.g. "coordination meeting", "crisis management group".
    pub forum: Label,
    pub starts_at: Timestamp,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub participants: BTreeSet<OrgId>,
}

/// A meeting was held. Emitted by the convenor. Aggregate: `meeting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingHeld {
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub attending: BTreeSet<OrgId>,
    /// Needs, issues and other aggregates on the agenda.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub agenda: BTreeSet<AggregateRef>,
    /// Where the minutes are kept (a document reference, not their content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_ref: Option<Label>,
}

/// A decision was recorded, with the log position (stream sequence) the picture it was
/// based on had reached, so a review can show what was known when it was made. Emitted by
/// the deciding body. EDXL-SitRep `actionPlan` (closest). Aggregate: `decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecorded {
    /// The body and its mandate, e.g. "crisis management group".
    pub body: Label,
    pub text: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<Text>,
    /// The stream sequence of the last event in the picture the decision was based on.
    pub based_on_seq: u64,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub refs: BTreeSet<AggregateRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<AggregateId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<Timestamp>,
}

/// An action was assigned to an organisation and function. Emitted by the deciding body.
/// Aggregate: `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionAssigned {
    pub description: Text,
    pub assigned_org: OrgId,
    pub assigned_function: Label,
    /// The decision it carries out (a `decision` aggregate id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<AggregateId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_by: Option<Timestamp>,
}

/// An action was completed. Emitted by the assigned organisation. Aggregate: `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionCompleted {
    pub outcome: Text,
}
