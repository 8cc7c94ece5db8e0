//! Issues between actors: a problem one organisation raises with another, solved
//! directly with the actor concerned, escalated when it is not.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::envelope::AggregateRef;
use crate::ids::{Label, OrgId, Text};
use crate::time::Timestamp;
use crate::vocab::{IssueCategory, Severity};

/// An issue was raised with an organisation. Emitted by any organisation. No standard
/// message (closest: EDXL-SitRep `FieldObservation`). Aggregate: `issue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRaised {
    pub addressed_to: OrgId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addressed_function: Option<Label>,
    pub category: IssueCategory,
    pub severity: Severity,
    /// What the problem is, without personal data.
    pub summary: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_by: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub refs: BTreeSet<AggregateRef>,
}

/// The addressee acknowledged the issue. EDXL-RM `Acknowledge`. Aggregate: `issue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueAcknowledged {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// The issue got an owner (organisation and function). Emitted by the addressee or the
/// convenor. Aggregate: `issue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueAssigned {
    pub owner_org: OrgId,
    pub owner_function: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_by: Option<Timestamp>,
}

/// The issue was escalated to a higher level (a forum or an organisation such as the
/// county board). Emitted by the raiser, the owner or the convenor. EDXL-RM
/// `NotifyAuxiliaryRecipients` (closest). Aggregate: `issue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueEscalated {
    /// 1 = the owners' managers, 2 = the network's coordination meeting, 3 = the crisis
    /// management group or county board.
    pub level: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_org: Option<OrgId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_forum: Option<Label>,
    pub reason: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_by: Option<Timestamp>,
}

/// The issue was resolved. Emitted by the owner. Aggregate: `issue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueResolved {
    pub resolution: Text,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub refs: BTreeSet<AggregateRef>,
}

/// A resolved issue was reopened. Emitted by the raiser. Aggregate: `issue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueReopened {
    pub reason: Text,
}
