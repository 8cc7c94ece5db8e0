//! Sites and housing offers as a viewer sees them.

use proto_events::OrgId;
use proto_events::vocab::{HousingType, SiteKind, SiteStatus};

use super::{Merged, VisibleSlices, merged};
use crate::gauge::{earliest, latest, total};
use crate::models::ReadModels;
use crate::models::sites::{OfferRow, OfferState, SiteRow};
use crate::table::Scope;

/// One site: capacity declared vs occupied vs reserved vs free.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct SiteView {
    pub id: String,
    pub name: Option<String>,
    pub kind: Option<SiteKind>,
    pub area: Option<String>,
    pub owner: Option<OrgId>,
    pub status: Option<SiteStatus>,
    pub capacity: u32,
    pub night_only_beds: u32,
    pub occupied: u32,
    pub reserved: u32,
    /// `capacity - occupied - reserved`, never below zero.
    pub free: u32,
    /// More people than beds.
    pub over_capacity: bool,
    pub last_seq: u64,
}

impl SiteView {
    fn merge(group: &Merged<'_, SiteRow>) -> Self {
        let rows = &group.rows;
        let capacity = latest(rows.iter().map(|r| &r.capacity)).map_or(0, |(_, v)| *v);
        let occupied = latest(rows.iter().map(|r| &r.occupied)).map_or(0, |(_, v)| *v);
        let reserved = latest(rows.iter().map(|r| &r.reserved)).map_or(0, |(_, v)| *v);
        let used = u64::from(occupied) + u64::from(reserved);
        SiteView {
            id: group.id.clone(),
            name: latest(rows.iter().map(|r| &r.name)).map(|(_, v)| v.clone()),
            kind: latest(rows.iter().map(|r| &r.kind)).map(|(_, v)| *v),
            area: latest(rows.iter().map(|r| &r.common.area)).map(|(_, v)| v.clone()),
            owner: earliest(rows.iter().map(|r| &r.common.owner)).map(|(_, v)| v.clone()),
            status: latest(rows.iter().map(|r| &r.status)).map(|(_, v)| *v),
            capacity,
            night_only_beds: latest(rows.iter().map(|r| &r.night_only_beds)).map_or(0, |(_, v)| *v),
            occupied,
            reserved,
            free: u32::try_from(u64::from(capacity).saturating_sub(used)).unwrap_or(0),
            over_capacity: used > u64::from(capacity),
            last_seq: rows.iter().map(|r| r.common.last_seq).max().unwrap_or(0),
        }
    }
}

/// Every site the viewer may see, in id order.
pub fn sites(models: &ReadModels, scope: &Scope, visible: &VisibleSlices) -> Vec<SiteView> {
    merged(&models.sites, scope, visible)
        .iter()
        .map(SiteView::merge)
        .collect()
}

/// Totals over sites: what the picture shows first.
#[derive(serde::Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HousingTotals {
    pub sites: u32,
    pub open_sites: u32,
    pub capacity: u64,
    pub occupied: u64,
    pub reserved: u64,
    pub free: u64,
    pub over_capacity_sites: u32,
}

impl std::ops::AddAssign for HousingTotals {
    /// Totals over more sites (e.g. several incidents of an area).
    fn add_assign(&mut self, other: HousingTotals) {
        self.sites += other.sites;
        self.open_sites += other.open_sites;
        self.capacity += other.capacity;
        self.occupied += other.occupied;
        self.reserved += other.reserved;
        self.free += other.free;
        self.over_capacity_sites += other.over_capacity_sites;
    }
}

pub fn housing_totals(sites: &[SiteView]) -> HousingTotals {
    let mut totals = HousingTotals::default();
    for site in sites {
        totals.sites += 1;
        if matches!(site.status, Some(SiteStatus::Open) | Some(SiteStatus::Full)) {
            totals.open_sites += 1;
        }
        if site.status == Some(SiteStatus::Closed) {
            continue;
        }
        totals.capacity += u64::from(site.capacity);
        totals.occupied += u64::from(site.occupied);
        totals.reserved += u64::from(site.reserved);
        totals.free += u64::from(site.free);
        totals.over_capacity_sites += u32::from(site.over_capacity);
    }
    totals
}

/// One housing offer.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct OfferView {
    pub id: String,
    pub offered_by: Option<OrgId>,
    pub housing_type: Option<HousingType>,
    pub units: u32,
    pub beds: u32,
    pub beds_taken: i64,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub offered_to: Option<OrgId>,
    pub state: Option<OfferState>,
    pub area: Option<String>,
    pub last_seq: u64,
}

pub fn offers(models: &ReadModels, scope: &Scope, visible: &VisibleSlices) -> Vec<OfferView> {
    merged(&models.offers, scope, visible)
        .iter()
        .map(|group: &Merged<'_, OfferRow>| {
            let rows = &group.rows;
            OfferView {
                id: group.id.clone(),
                offered_by: earliest(rows.iter().map(|r| &r.common.owner)).map(|(_, v)| v.clone()),
                housing_type: latest(rows.iter().map(|r| &r.housing_type)).map(|(_, v)| *v),
                units: latest(rows.iter().map(|r| &r.units)).map_or(0, |(_, v)| *v),
                beds: latest(rows.iter().map(|r| &r.beds)).map_or(0, |(_, v)| *v),
                beds_taken: total(rows.iter().map(|r| &r.beds_taken)),
                available_from: latest(rows.iter().map(|r| &r.available_from))
                    .map(|(_, v)| v.clone()),
                available_until: latest(rows.iter().map(|r| &r.available_until))
                    .map(|(_, v)| v.clone()),
                offered_to: latest(rows.iter().map(|r| &r.offered_to)).map(|(_, v)| v.clone()),
                state: latest(rows.iter().map(|r| &r.state)).map(|(_, v)| *v),
                area: latest(rows.iter().map(|r| &r.common.area)).map(|(_, v)| v.clone()),
                last_seq: rows.iter().map(|r| r.common.last_seq).max().unwrap_or(0),
            }
        })
        .collect()
}
