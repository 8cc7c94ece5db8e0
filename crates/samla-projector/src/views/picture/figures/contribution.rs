//! One aggregate's contribution to the picture: what its merged view adds, computed from
//! its rows (one row when all of them sit in one slice, or the rows a viewer may see).

use std::collections::BTreeMap;

use proto_events::vocab::{NeedCategory, SiteStatus, Urgency};
use proto_events::{OrgId, Timestamp};

use crate::gauge::{latest, total};
use crate::models::issues::IssueRow;
use crate::models::needs::NeedRow;
use crate::models::reports::{AlertRow, ArrivalsRow, SitrepRow};
use crate::models::sites::SiteRow;
use crate::views::picture::SitrepLine;
use crate::views::sites::HousingTotals;
use crate::views::{earliest, value};

/// What one aggregate's merged view adds to the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub(super) last_seq: u64,
    /// The areas it names (for the picture by area).
    pub(super) areas: Vec<String>,
    pub(super) part: Part,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    Site(HousingTotals),
    /// `None` once met or cancelled.
    Need(Option<OpenNeed>),
    /// `None` once resolved.
    Issue(Option<OpenIssue>),
    Arrivals {
        to_date: u64,
        awaiting_placement: u64,
        per_day: Vec<(String, u64)>,
    },
    Sitrep {
        report_seq: u64,
        line: SitrepLine,
    },
    Alert {
        cancelled: bool,
        expires_at: Option<Timestamp>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OpenNeed {
    pub(super) category: Option<NeedCategory>,
    pub(super) urgency: Option<Urgency>,
    pub(super) people: u64,
    pub(super) needed_by: Option<Timestamp>,
    /// The current claim's expiry: it lapsed once `now` passed it.
    pub(super) claim_expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OpenIssue {
    pub(super) responsible: Option<OrgId>,
    pub(super) acknowledged: bool,
    pub(super) escalated: bool,
    pub(super) highest_escalation: u8,
    pub(super) raised_at: Timestamp,
    pub(super) due_by: Option<Timestamp>,
}

fn area_of(area: Option<String>) -> Vec<String> {
    area.into_iter().collect()
}

fn last_seq_of<V>(rows: &[&V], seq: impl Fn(&V) -> u64) -> u64 {
    rows.iter().map(|row| seq(row)).max().unwrap_or(0)
}

// The functions below mirror the views' merges (`SiteView::merge`, `NeedView::merge`, …)
// field for field, keeping only what the picture shows; the picture's tests hold them to
// the views on generated crises.

pub(super) fn site(_id: &str, rows: &[&SiteRow]) -> Option<Contribution> {
    let capacity = latest(rows.iter().map(|r| &r.capacity)).map_or(0, |(_, v)| *v);
    let occupied = latest(rows.iter().map(|r| &r.occupied)).map_or(0, |(_, v)| *v);
    let reserved = latest(rows.iter().map(|r| &r.reserved)).map_or(0, |(_, v)| *v);
    let status = latest(rows.iter().map(|r| &r.status)).map(|(_, v)| *v);
    let used = u64::from(occupied) + u64::from(reserved);
    let free = u32::try_from(u64::from(capacity).saturating_sub(used)).unwrap_or(0);
    let counted = status != Some(SiteStatus::Closed);
    let totals = HousingTotals {
        sites: 1,
        open_sites: u32::from(matches!(
            status,
            Some(SiteStatus::Open) | Some(SiteStatus::Full)
        )),
        capacity: if counted { u64::from(capacity) } else { 0 },
        occupied: if counted { u64::from(occupied) } else { 0 },
        reserved: if counted { u64::from(reserved) } else { 0 },
        free: if counted { u64::from(free) } else { 0 },
        over_capacity_sites: u32::from(counted && used > u64::from(capacity)),
    };
    Some(Contribution {
        last_seq: last_seq_of(rows, |r| r.common.last_seq),
        areas: area_of(value(rows, |r| &r.common.area)),
        part: Part::Site(totals),
    })
}

pub(super) fn need(_id: &str, rows: &[&NeedRow]) -> Option<Contribution> {
    value(rows, |r| &r.raised_at)?;
    let quantity = value(rows, |r| &r.quantity).unwrap_or(0);
    let met_quantity = u64::try_from(total(rows.iter().map(|r| &r.met_quantity))).unwrap_or(0);
    let fully_met = earliest(rows.iter().map(|r| &r.fully_met_at)).is_some();
    let cancelled = value(rows, |r| &r.cancelled_at).is_some();
    let met = fully_met || (quantity > 0 && met_quantity >= u64::from(quantity));
    let open = (!cancelled && !met).then(|| OpenNeed {
        category: value(rows, |r| &r.category),
        urgency: value(rows, |r| &r.urgency),
        people: u64::from(value(rows, |r| &r.people).flatten().unwrap_or(0)),
        needed_by: value(rows, |r| &r.needed_by).flatten(),
        claim_expires_at: latest(rows.iter().map(|r| &r.claim))
            .and_then(|(_, claim)| claim.as_ref().map(|c| c.expires_at)),
    });
    Some(Contribution {
        last_seq: last_seq_of(rows, |r| r.common.last_seq),
        areas: area_of(value(rows, |r| &r.common.area)),
        part: Part::Need(open),
    })
}

pub(super) fn issue(_id: &str, rows: &[&IssueRow]) -> Option<Contribution> {
    let raised_at = value(rows, |r| &r.raised_at)?;
    let resolved = value(rows, |r| &r.resolved_at).flatten().is_some();
    let open = (!resolved).then(|| {
        let owner = latest(rows.iter().map(|r| &r.owner)).map(|(_, o)| o.org.clone());
        let latest_level = rows
            .iter()
            .flat_map(|r| r.escalations.iter())
            .max_by_key(|(seq, _)| **seq)
            .map_or(0, |(_, step)| step.level);
        OpenIssue {
            responsible: owner.or_else(|| value(rows, |r| &r.addressed_to)),
            acknowledged: earliest(rows.iter().map(|r| &r.acknowledged_at)).is_some(),
            escalated: latest_level > 0,
            highest_escalation: rows
                .iter()
                .flat_map(|r| r.escalations.values())
                .map(|step| step.level)
                .max()
                .unwrap_or(0),
            raised_at,
            due_by: value(rows, |r| &r.due_by).flatten(),
        }
    });
    Some(Contribution {
        last_seq: last_seq_of(rows, |r| r.common.last_seq),
        areas: area_of(value(rows, |r| &r.common.area)),
        part: Part::Issue(open),
    })
}

pub(super) fn arrivals(_id: &str, rows: &[&ArrivalsRow]) -> Option<Contribution> {
    let mut per_day: BTreeMap<&str, i64> = BTreeMap::new();
    for row in rows {
        for (day, counter) in &row.per_day {
            *per_day.entry(day.as_str()).or_default() += counter.get();
        }
    }
    Some(Contribution {
        last_seq: last_seq_of(rows, |r| r.common.last_seq),
        areas: area_of(value(rows, |r| &r.common.area)),
        part: Part::Arrivals {
            to_date: u64::from(value(rows, |r| &r.arrivals_to_date).unwrap_or(0)),
            awaiting_placement: u64::from(value(rows, |r| &r.awaiting_placement).unwrap_or(0)),
            per_day: per_day
                .into_iter()
                .map(|(day, n)| (day.to_string(), u64::try_from(n).unwrap_or(0)))
                .collect(),
        },
    })
}

pub(super) fn sitrep(id: &str, rows: &[&SitrepRow]) -> Option<Contribution> {
    let (report_seq, report) = latest(rows.iter().map(|r| &r.report))?;
    Some(Contribution {
        last_seq: last_seq_of(rows, |r| r.common.last_seq),
        areas: area_of(value(rows, |r| &r.common.area)),
        part: Part::Sitrep {
            report_seq,
            line: SitrepLine {
                id: id.to_string(),
                reported_by: report.reported_by.clone(),
                number: report.number,
                period_to: report.period_to,
            },
        },
    })
}

pub(super) fn alert(_id: &str, rows: &[&AlertRow]) -> Option<Contribution> {
    let (_, alert) = latest(rows.iter().map(|r| &r.alert))?;
    Some(Contribution {
        last_seq: last_seq_of(rows, |r| r.common.last_seq),
        areas: alert.areas.iter().cloned().collect(),
        part: Part::Alert {
            cancelled: value(rows, |r| &r.cancelled).unwrap_or(false),
            expires_at: alert.expires_at,
        },
    })
}
