//! Resources as a viewer sees them: quantities offered, committed, delivered and released,
//! the last step taken, and whether a requested return is overdue at `now`.

use std::collections::BTreeMap;

use proto_events::vocab::{ResourceCategory, Unit};
use proto_events::{OrgId, Timestamp};

use super::{Merged, VisibleSlices, merged, merged_one};
use super::{last_seq, value};
use crate::gauge::{Counter, total};
use crate::models::ReadModels;
use crate::models::resources::{ResourceRow, ResourceState};
use crate::table::Scope;

/// One resource at `now`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ResourceView {
    pub id: String,
    pub state: Option<ResourceState>,
    pub category: Option<ResourceCategory>,
    pub unit: Option<Unit>,
    pub offered_by: Option<OrgId>,
    pub offered_at: Option<Timestamp>,
    pub offered: u32,
    pub committed: u64,
    pub delivered: u64,
    pub released: u64,
    /// Delivered and not released.
    pub in_use: u64,
    /// Offered and not committed (zero once withdrawn).
    pub available: u64,
    pub committed_to_needs: BTreeMap<String, u64>,
    pub committed_to_offers: BTreeMap<String, u64>,
    pub available_from: Option<Timestamp>,
    pub available_until: Option<Timestamp>,
    pub return_by: Option<Timestamp>,
    /// A return was asked for by a time now past, and the resource is still out.
    pub return_overdue: bool,
    pub area: Option<String>,
    pub last_seq: u64,
}

fn non_negative(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Sums per-target counter maps over slices.
fn sum_maps<'a>(
    maps: impl IntoIterator<Item = &'a BTreeMap<String, Counter>>,
) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, i64> = BTreeMap::new();
    for map in maps {
        for (target, counter) in map {
            *out.entry(target.clone()).or_default() += counter.get();
        }
    }
    out.into_iter()
        .filter(|(_, sum)| *sum > 0)
        .map(|(target, sum)| (target, non_negative(sum)))
        .collect()
}

impl ResourceView {
    /// `None` when the viewer cannot see the resource being offered.
    fn merge(group: &Merged<'_, ResourceRow>, now: Timestamp) -> Option<Self> {
        let rows = &group.rows;
        let offered_at = value(rows, |r| &r.offered_at)?;
        let state = value(rows, |r| &r.state);
        let offered = value(rows, |r| &r.offered).unwrap_or(0);
        let committed = non_negative(total(rows.iter().map(|r| &r.committed)));
        let delivered = non_negative(total(rows.iter().map(|r| &r.delivered)));
        let mut released = non_negative(total(rows.iter().map(|r| &r.released)));
        if state == Some(ResourceState::Released) && value(rows, |r| &r.released_all) == Some(true)
        {
            released = released.max(delivered);
        }
        let return_by = value(rows, |r| &r.return_by);
        let out = !matches!(
            state,
            Some(ResourceState::Released | ResourceState::Withdrawn)
        );
        Some(ResourceView {
            id: group.id.clone(),
            state,
            category: value(rows, |r| &r.category),
            unit: value(rows, |r| &r.unit),
            offered_by: value(rows, |r| &r.offered_by),
            offered_at: Some(offered_at),
            offered,
            committed,
            delivered,
            released,
            in_use: delivered.saturating_sub(released),
            available: if state == Some(ResourceState::Withdrawn) {
                0
            } else {
                u64::from(offered).saturating_sub(committed)
            },
            committed_to_needs: sum_maps(rows.iter().map(|r| &r.committed_to_needs)),
            committed_to_offers: sum_maps(rows.iter().map(|r| &r.committed_to_offers)),
            available_from: value(rows, |r| &r.available_from).flatten(),
            available_until: value(rows, |r| &r.available_until).flatten(),
            return_by,
            return_overdue: out && return_by.is_some_and(|by| by < now),
            area: value(rows, |r| &r.common.area),
            last_seq: last_seq(rows, |r| r.common.last_seq),
        })
    }
}

/// Every resource the viewer may see, in id order.
pub fn resources(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
    now: Timestamp,
) -> Vec<ResourceView> {
    merged(&models.resources, scope, visible)
        .iter()
        .filter_map(|group| ResourceView::merge(group, now))
        .collect()
}

/// One resource, if the viewer may see it.
pub fn resource(
    models: &ReadModels,
    scope: &Scope,
    id: &str,
    visible: &VisibleSlices,
    now: Timestamp,
) -> Option<ResourceView> {
    merged_one(&models.resources, scope, id, visible)
        .and_then(|group| ResourceView::merge(&group, now))
}

/// How much of every resource the viewer may see was committed against `need`.
pub fn committed_to_need(resources: &[ResourceView], need: &str) -> u64 {
    resources
        .iter()
        .filter_map(|r| r.committed_to_needs.get(need))
        .sum()
}
