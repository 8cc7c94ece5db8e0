//! Resources: offered, committed against a need or an offer, delivered, released, asked
//! back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{AggregateId, Text};
use crate::time::Timestamp;
use crate::vocab::{ResourceCategory, Unit};

/// A resource was offered: furniture, clothing, volunteer hours, a friend family, an
/// activity (language café, homework help, sports), premises, transport. Emitted by any
/// organisation. EDXL-RM `OfferUnsolicitedResource`. Aggregate: `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceOffered {
    pub category: ResourceCategory,
    pub quantity: u32,
    pub unit: Unit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_from: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Text>,
}

/// A resource offer was withdrawn before it was used. Emitted by the offering
/// organisation. EDXL-RM Cancel. Aggregate: `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceWithdrawn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// Part of a resource was committed against a need and/or a housing offer. Emitted by the
/// supplying organisation. EDXL-RM `CommitResource`. Aggregate: `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceCommitted {
    /// The need it goes to (a `need` aggregate id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need: Option<AggregateId>,
    /// The housing offer it furnishes (an `offer` aggregate id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<AggregateId>,
    pub quantity: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_at: Option<Timestamp>,
}

/// A committed resource was delivered. Emitted by the supplier or the receiver. EDXL-RM
/// `ReportResourceDeploymentStatus`. Aggregate: `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceDelivered {
    pub quantity: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need: Option<AggregateId>,
}

/// A resource in use was released back to its owner. Emitted by its user. EDXL-RM
/// `ReleaseResource`. Aggregate: `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceReleased {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// The owner asked for a resource back (the parish needs its hall). EDXL-RM
/// `RequestReturn`. Aggregate: `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceReturnRequested {
    pub return_by: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}
