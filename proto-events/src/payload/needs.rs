//! Needs: raised, updated, claimed, met, cancelled. Group-level: categories and counts,
//! never a household or a person. The raiser keeps the link to its own case system.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{Label, LangTag, OrgId, Text};
use crate::time::Timestamp;
use crate::vocab::{Fulfilment, NeedCategory, Unit, Urgency};

/// A need was raised. Emitted by the Migration Agency, social services, a school, the
/// region, Save the Children, the parish. EDXL-RM `RequestResource`; Sahana `req_req`; HXL
/// `#need`, `#inneed+ind`. Aggregate: `need`. Version 2 added `urgency` (see
/// [`NeedRaisedV1`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedRaised {
    pub category: NeedCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<Label>,
    pub quantity: u32,
    pub unit: Unit,
    /// How many people the need concerns, as a count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<u32>,
    pub urgency: Urgency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed_by: Option<Timestamp>,
    /// The organisation asked to meet it, if one was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addressed_to: Option<OrgId>,
    /// For interpretation: the language needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<LangTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// `need_raised` version 1, before needs had an urgency. Decoded from old logs and upcast
/// to [`NeedRaised`] with urgency `normal` (what coordinators assumed for such needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedRaisedV1 {
    pub category: NeedCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<Label>,
    pub quantity: u32,
    pub unit: Unit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed_by: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addressed_to: Option<OrgId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<LangTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl From<NeedRaisedV1> for NeedRaised {
    fn from(old: NeedRaisedV1) -> Self {
        NeedRaised {
            category: old.category,
            subcategory: old.subcategory,
            quantity: old.quantity,
            unit: old.unit,
            people: old.people,
            urgency: Urgency::Normal,
            needed_by: old.needed_by,
            addressed_to: old.addressed_to,
            language: old.language,
            note: old.note,
        }
    }
}

/// A need changed: quantity, urgency or deadline. Emitted by the raiser. EDXL-RM Update.
/// Aggregate: `need`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedUpdated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed_by: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// An organisation claimed a need: it will meet it, and others need not. The claim lapses
/// at `claim_expires_at` unless the need is met. Appended with optimistic concurrency so the
/// first of two racing claims wins. EDXL-RM `CommitResource` (closest). Aggregate: `need`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedClaimed {
    pub claim_expires_at: Timestamp,
    /// Part of the quantity claimed; absent means all of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// The claiming organisation released its claim before meeting the need. Aggregate: `need`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedClaimReleased {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// A need was met, in part or fully. Emitted by the raiser or the claimer. EDXL-RM
/// `NotifyResourceRequestDisposition`; HXL `#reached`. Aggregate: `need`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedMet {
    pub quantity: u32,
    pub fulfilment: Fulfilment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

/// A need was cancelled. Emitted by the raiser. EDXL-RM Cancel; CAP Cancel.
/// Aggregate: `need`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedCancelled {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}
