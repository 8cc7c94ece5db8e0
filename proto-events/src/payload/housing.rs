//! Housing and reception sites: sites, capacity, occupancy, status, housing offers.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{Label, OrgId, Text};
use crate::time::Timestamp;
use crate::vocab::{HousingType, OfferAnswer, SiteKind, SiteStatus, Suitability};

/// A housing or reception site was registered. Emitted by the municipality, the Migration
/// Agency or a site operator. Sahana `cr_shelter`; HXL `#loc+facility`; EDXL-RM resource.
/// Aggregate: `site`. The site's name is public; a private address never is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteRegistered {
    pub name: Label,
    pub site_kind: SiteKind,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub services: BTreeSet<Label>,
    #[serde(default)]
    pub accessible: bool,
}

/// A site's bed capacity was declared. Emitted by the site operator. HXL `#capacity`;
/// Sahana capacity. Aggregate: `site`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityDeclared {
    pub beds: u32,
    /// Beds usable only at night (evacuation halls), included in `beds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub night_only_beds: Option<u32>,
}

/// A site's occupancy (counts only) at a moment. Emitted by the site operator.
/// EDXL-SitRep "in temporary shelters"; HXL `#population`. Aggregate: `site`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OccupancyReported {
    pub occupied: u32,
    #[serde(default)]
    pub reserved: u32,
    /// The capacity the operator counts against, when it reports one; then
    /// `occupied + reserved` must not exceed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
}

/// A site opened, filled, closed or is being evacuated. Emitted by the site operator.
/// EDXL-HAVE facility status pattern. Aggregate: `site`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteStatusChanged {
    pub site_status: SiteStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// Housing was offered. Emitted by a municipal housing company, the parish, an employer,
/// or an NGO on behalf of private hosts. EDXL-RM `OfferUnsolicitedResource`; HXL
/// `#capacity`. Aggregate: `offer`. Area only, never a private address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HousingOffered {
    pub housing_type: HousingType,
    pub units: u32,
    pub beds: u32,
    pub available_from: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub suitable_for: BTreeSet<Suitability>,
    /// The organisation the offer is made to, if not the whole network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_to: Option<OrgId>,
}

/// A housing offer was withdrawn. Emitted by the offering organisation. EDXL-RM Cancel.
/// Aggregate: `offer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HousingOfferWithdrawn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// An offer (housing or resource) was accepted or declined. Emitted by the receiver.
/// EDXL-RM `ResponseToOfferUnsolicitedResources`. Aggregate: `offer` or `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferAnswered {
    pub answer: OfferAnswer,
    /// Beds or units taken when accepted in part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}
