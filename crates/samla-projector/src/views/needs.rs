//! Needs as a viewer sees them: status from the merged facts and `now` (a claim past its
//! expiry no longer holds), ages, overdue flags, times to claim and to meet, and counts of
//! open needs by category, urgency, area and organisation.

use std::collections::BTreeMap;

use proto_events::vocab::{NeedCategory, Unit, Urgency};
use proto_events::{OrgId, Timestamp};

use super::{DurationStats, Merged, VisibleSlices, earliest, last_seq, merged, merged_one, value};
use crate::gauge::total;
use crate::models::ReadModels;
use crate::models::needs::NeedRow;
use crate::table::Scope;

/// Where a need stands at `now`.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum NeedStatus {
    /// Nobody holds a live claim and nothing was met yet.
    Open,
    /// An organisation holds a claim that has not expired.
    Claimed,
    /// Part of the quantity was met.
    MetPartly,
    /// Met fully (a `fully` report, or the quantity met reached the quantity needed).
    Met,
    Cancelled,
}

impl NeedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NeedStatus::Open => "open",
            NeedStatus::Claimed => "claimed",
            NeedStatus::MetPartly => "met_partly",
            NeedStatus::Met => "met",
            NeedStatus::Cancelled => "cancelled",
        }
    }

    /// Still to be met: open, claimed or met in part.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            NeedStatus::Open | NeedStatus::Claimed | NeedStatus::MetPartly
        )
    }
}

/// One need at `now`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct NeedView {
    pub id: String,
    pub status: NeedStatus,
    pub category: Option<NeedCategory>,
    pub subcategory: Option<String>,
    pub unit: Option<Unit>,
    pub quantity: u32,
    pub met_quantity: u64,
    /// `quantity - met_quantity`, never below zero; zero once met or cancelled.
    pub remaining: u64,
    pub people: Option<u32>,
    pub urgency: Option<Urgency>,
    pub raised_by: Option<OrgId>,
    pub addressed_to: Option<OrgId>,
    pub language: Option<String>,
    /// The organisation holding a live claim (not expired at `now`).
    pub claimed_by: Option<OrgId>,
    pub claim_quantity: Option<u32>,
    pub claim_expires_at: Option<Timestamp>,
    /// A claim lapsed before the need was met: it shows open again.
    pub claim_expired: bool,
    /// Who held the lapsed claim.
    pub expired_claim_by: Option<OrgId>,
    pub raised_at: Option<Timestamp>,
    pub needed_by: Option<Timestamp>,
    /// `needed_by` passed and the need is still open.
    pub overdue: bool,
    /// `now - raised_at`.
    pub age_seconds: Option<i64>,
    /// Raised → first claim (`occurred_at`).
    pub time_to_claim_seconds: Option<i64>,
    /// Raised → first `fully` report (`occurred_at`).
    pub time_to_meet_seconds: Option<i64>,
    pub area: Option<String>,
    pub last_seq: u64,
}

impl NeedView {
    /// The merged view of one need, or `None` when the viewer cannot see it being raised
    /// (a claim or report on a need one may not see shows nothing).
    fn merge(group: &Merged<'_, NeedRow>, now: Timestamp) -> Option<Self> {
        let rows = &group.rows;
        let raised_at = value(rows, |r| &r.raised_at)?;
        let quantity = value(rows, |r| &r.quantity).unwrap_or(0);
        let met_quantity = u64::try_from(total(rows.iter().map(|r| &r.met_quantity))).unwrap_or(0);
        let fully_met_at = earliest(rows.iter().map(|r| &r.fully_met_at));
        let cancelled = value(rows, |r| &r.cancelled_at).is_some();
        let met = fully_met_at.is_some() || (quantity > 0 && met_quantity >= u64::from(quantity));
        let claim = value(rows, |r| &r.claim).flatten();
        // A claim on a need met or cancelled did its work: it cannot lapse any more.
        let claim_lapsed =
            !(met || cancelled) && claim.as_ref().is_some_and(|c| c.expires_at < now);
        let live_claim = claim.as_ref().filter(|_| !claim_lapsed);
        let status = if cancelled {
            NeedStatus::Cancelled
        } else if met {
            NeedStatus::Met
        } else if met_quantity > 0 {
            NeedStatus::MetPartly
        } else if live_claim.is_some() {
            NeedStatus::Claimed
        } else {
            NeedStatus::Open
        };
        let claim_expired = claim_lapsed;
        let needed_by = value(rows, |r| &r.needed_by).flatten();
        let first_claim = earliest(rows.iter().map(|r| &r.claimed_at));
        Some(NeedView {
            id: group.id.clone(),
            status,
            category: value(rows, |r| &r.category),
            subcategory: value(rows, |r| &r.subcategory).flatten(),
            unit: value(rows, |r| &r.unit),
            quantity,
            met_quantity,
            remaining: if status.is_open() {
                u64::from(quantity).saturating_sub(met_quantity)
            } else {
                0
            },
            people: value(rows, |r| &r.people).flatten(),
            urgency: value(rows, |r| &r.urgency),
            raised_by: value(rows, |r| &r.raised_by),
            addressed_to: value(rows, |r| &r.addressed_to).flatten(),
            language: value(rows, |r| &r.language).flatten(),
            claimed_by: live_claim.map(|c| c.org.clone()),
            claim_quantity: live_claim.and_then(|c| c.quantity),
            claim_expires_at: claim.as_ref().map(|c| c.expires_at),
            claim_expired,
            expired_claim_by: claim
                .as_ref()
                .filter(|_| claim_expired)
                .map(|c| c.org.clone()),
            raised_at: Some(raised_at),
            needed_by,
            overdue: status.is_open() && needed_by.is_some_and(|by| by < now),
            age_seconds: Some(now.seconds_since(raised_at)),
            time_to_claim_seconds: first_claim.map(|c| c.seconds_since(raised_at)),
            time_to_meet_seconds: fully_met_at.map(|m| m.seconds_since(raised_at)),
            area: value(rows, |r| &r.common.area),
            last_seq: last_seq(rows, |r| r.common.last_seq),
        })
    }
}

/// Which needs to show. Empty fields admit everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NeedFilter {
    /// Raised by, addressed to, or claimed by this organisation.
    pub org: Option<OrgId>,
    pub category: Option<NeedCategory>,
    pub urgency: Option<Urgency>,
    pub status: Option<NeedStatus>,
    pub area: Option<String>,
    /// Only needs still to be met (open, claimed or met in part).
    pub open_only: bool,
}

impl NeedFilter {
    pub fn admits(&self, need: &NeedView) -> bool {
        let org_ok = self.org.as_ref().is_none_or(|org| {
            need.raised_by.as_ref() == Some(org)
                || need.addressed_to.as_ref() == Some(org)
                || need.claimed_by.as_ref() == Some(org)
        });
        org_ok
            && self.category.is_none_or(|c| need.category == Some(c))
            && self.urgency.is_none_or(|u| need.urgency == Some(u))
            && self.status.is_none_or(|s| need.status == s)
            && self
                .area
                .as_ref()
                .is_none_or(|a| need.area.as_ref() == Some(a))
            && (!self.open_only || need.status.is_open())
    }
}

/// The needs the viewer may see at `now` that `filter` admits, in id order.
pub fn needs(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
    now: Timestamp,
    filter: &NeedFilter,
) -> Vec<NeedView> {
    merged(&models.needs, scope, visible)
        .iter()
        .filter_map(|group| NeedView::merge(group, now))
        .filter(|need| filter.admits(need))
        .collect()
}

/// One need, if the viewer may see it.
pub fn need(
    models: &ReadModels,
    scope: &Scope,
    id: &str,
    visible: &VisibleSlices,
    now: Timestamp,
) -> Option<NeedView> {
    merged_one(&models.needs, scope, id, visible).and_then(|group| NeedView::merge(&group, now))
}

/// Counts over needs: what the picture and the needs board show first.
#[derive(serde::Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct NeedStats {
    pub total: u32,
    /// Still to be met.
    pub open: u32,
    pub overdue: u32,
    pub claim_expired: u32,
    pub by_status: BTreeMap<NeedStatus, u32>,
    /// Open needs only, in the maps below.
    pub by_category: BTreeMap<NeedCategory, u32>,
    pub by_urgency: BTreeMap<Urgency, u32>,
    pub by_area: BTreeMap<String, u32>,
    pub by_raiser: BTreeMap<OrgId, u32>,
    pub by_claimer: BTreeMap<OrgId, u32>,
    /// People concerned by open needs (as raised).
    pub people_open: u64,
    pub time_to_claim: DurationStats,
    pub time_to_meet: DurationStats,
}

pub fn need_stats(needs: &[NeedView]) -> NeedStats {
    let mut stats = NeedStats::default();
    let mut to_claim = Vec::new();
    let mut to_meet = Vec::new();
    for need in needs {
        stats.total += 1;
        *stats.by_status.entry(need.status).or_default() += 1;
        to_claim.extend(need.time_to_claim_seconds);
        to_meet.extend(need.time_to_meet_seconds);
        if !need.status.is_open() {
            continue;
        }
        stats.open += 1;
        stats.overdue += u32::from(need.overdue);
        stats.claim_expired += u32::from(need.claim_expired);
        stats.people_open += u64::from(need.people.unwrap_or(0));
        if let Some(category) = need.category {
            *stats.by_category.entry(category).or_default() += 1;
        }
        if let Some(urgency) = need.urgency {
            *stats.by_urgency.entry(urgency).or_default() += 1;
        }
        if let Some(area) = &need.area {
            *stats.by_area.entry(area.clone()).or_default() += 1;
        }
        if let Some(raiser) = &need.raised_by {
            *stats.by_raiser.entry(raiser.clone()).or_default() += 1;
        }
        if let Some(claimer) = &need.claimed_by {
            *stats.by_claimer.entry(claimer.clone()).or_default() += 1;
        }
    }
    stats.time_to_claim = DurationStats::of(to_claim);
    stats.time_to_meet = DurationStats::of(to_meet);
    stats
}
