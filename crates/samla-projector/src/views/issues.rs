//! Issues between actors as a viewer sees them: who must act, since when, whether it is
//! overdue at `now`, how far it was escalated, and per organisation how many are open.

use std::collections::BTreeMap;

use proto_events::vocab::{IssueCategory, Severity};
use proto_events::{OrgId, Timestamp};

use super::{DurationStats, earliest, last_seq, value};
use super::{Merged, VisibleSlices, merged, merged_one};
use crate::gauge::total;
use crate::models::ReadModels;
use crate::models::issues::IssueRow;
use crate::table::Scope;

/// Where an issue stands: the furthest step taken, unless resolved.
#[derive(serde::Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum IssueStatus {
    Open,
    Acknowledged,
    Assigned,
    Escalated,
    Resolved,
}

impl IssueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueStatus::Open => "open",
            IssueStatus::Acknowledged => "acknowledged",
            IssueStatus::Assigned => "assigned",
            IssueStatus::Escalated => "escalated",
            IssueStatus::Resolved => "resolved",
        }
    }
}

/// One issue at `now`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct IssueView {
    pub id: String,
    pub status: IssueStatus,
    pub raised_by: Option<OrgId>,
    pub addressed_to: Option<OrgId>,
    pub addressed_function: Option<String>,
    pub owner_org: Option<OrgId>,
    pub owner_function: Option<String>,
    /// Who must act: the owner once assigned, else the addressee.
    pub responsible: Option<OrgId>,
    pub category: Option<IssueCategory>,
    pub severity: Option<Severity>,
    pub summary: Option<String>,
    pub raised_at: Option<Timestamp>,
    pub due_by: Option<Timestamp>,
    /// `due_by` passed and it is not resolved.
    pub overdue: bool,
    /// `now - raised_at`.
    pub age_seconds: Option<i64>,
    /// The first acknowledgement.
    pub acknowledged_at: Option<Timestamp>,
    pub time_to_acknowledge_seconds: Option<i64>,
    /// The latest escalation's level (0 when never escalated).
    pub escalation_level: u8,
    pub highest_escalation: u8,
    pub escalated_to_org: Option<OrgId>,
    pub escalated_to_forum: Option<String>,
    pub resolved_at: Option<Timestamp>,
    pub resolution: Option<String>,
    pub time_to_resolve_seconds: Option<i64>,
    pub reopened: u64,
    pub area: Option<String>,
    pub last_seq: u64,
}

impl IssueView {
    pub fn is_open(&self) -> bool {
        self.status != IssueStatus::Resolved
    }

    /// `None` when the viewer cannot see the issue being raised.
    fn merge(group: &Merged<'_, IssueRow>, now: Timestamp) -> Option<Self> {
        let rows = &group.rows;
        let raised_at = value(rows, |r| &r.raised_at)?;
        let owner = value(rows, |r| &r.owner);
        let latest_escalation = rows
            .iter()
            .flat_map(|r| r.escalations.iter())
            .max_by_key(|(seq, _)| **seq)
            .map(|(_, step)| step.clone());
        let highest = rows
            .iter()
            .flat_map(|r| r.escalations.values())
            .map(|step| step.level)
            .max()
            .unwrap_or(0);
        let acknowledged_at = earliest(rows.iter().map(|r| &r.acknowledged_at));
        let resolved_at = value(rows, |r| &r.resolved_at).flatten();
        let status = if resolved_at.is_some() {
            IssueStatus::Resolved
        } else if latest_escalation.is_some() {
            IssueStatus::Escalated
        } else if owner.is_some() {
            IssueStatus::Assigned
        } else if acknowledged_at.is_some() {
            IssueStatus::Acknowledged
        } else {
            IssueStatus::Open
        };
        let addressed_to = value(rows, |r| &r.addressed_to);
        let due_by = value(rows, |r| &r.due_by).flatten();
        Some(IssueView {
            id: group.id.clone(),
            status,
            raised_by: value(rows, |r| &r.raised_by),
            responsible: owner
                .as_ref()
                .map(|o| o.org.clone())
                .or_else(|| addressed_to.clone()),
            addressed_to,
            addressed_function: value(rows, |r| &r.addressed_function).flatten(),
            owner_org: owner.as_ref().map(|o| o.org.clone()),
            owner_function: owner.map(|o| o.function),
            category: value(rows, |r| &r.category),
            severity: value(rows, |r| &r.severity),
            summary: value(rows, |r| &r.summary),
            raised_at: Some(raised_at),
            due_by,
            overdue: resolved_at.is_none() && due_by.is_some_and(|by| by < now),
            age_seconds: Some(now.seconds_since(raised_at)),
            acknowledged_at,
            time_to_acknowledge_seconds: acknowledged_at.map(|a| a.seconds_since(raised_at)),
            escalation_level: latest_escalation.as_ref().map_or(0, |step| step.level),
            highest_escalation: highest,
            escalated_to_org: latest_escalation
                .as_ref()
                .and_then(|step| step.to_org.clone()),
            escalated_to_forum: latest_escalation.and_then(|step| step.to_forum),
            resolved_at,
            resolution: resolved_at.and_then(|_| value(rows, |r| &r.resolution)),
            time_to_resolve_seconds: resolved_at.map(|r| r.seconds_since(raised_at)),
            reopened: u64::try_from(total(rows.iter().map(|r| &r.reopened))).unwrap_or(0),
            area: value(rows, |r| &r.common.area),
            last_seq: last_seq(rows, |r| r.common.last_seq),
        })
    }
}

/// Which issues to show. Empty fields admit everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueFilter {
    /// Raised by, addressed to, or owned by this organisation.
    pub org: Option<OrgId>,
    pub category: Option<IssueCategory>,
    pub severity: Option<Severity>,
    pub area: Option<String>,
    pub open_only: bool,
    pub overdue_only: bool,
}

impl IssueFilter {
    pub fn admits(&self, issue: &IssueView) -> bool {
        let org_ok = self.org.as_ref().is_none_or(|org| {
            issue.raised_by.as_ref() == Some(org)
                || issue.addressed_to.as_ref() == Some(org)
                || issue.owner_org.as_ref() == Some(org)
        });
        org_ok
            && self.category.is_none_or(|c| issue.category == Some(c))
            && self.severity.is_none_or(|s| issue.severity == Some(s))
            && self
                .area
                .as_ref()
                .is_none_or(|a| issue.area.as_ref() == Some(a))
            && (!self.open_only || issue.is_open())
            && (!self.overdue_only || issue.overdue)
    }
}

/// The issues the viewer may see at `now` that `filter` admits, in id order.
pub fn issues(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
    now: Timestamp,
    filter: &IssueFilter,
) -> Vec<IssueView> {
    merged(&models.issues, scope, visible)
        .iter()
        .filter_map(|group| IssueView::merge(group, now))
        .filter(|issue| filter.admits(issue))
        .collect()
}

/// One issue, if the viewer may see it.
pub fn issue(
    models: &ReadModels,
    scope: &Scope,
    id: &str,
    visible: &VisibleSlices,
    now: Timestamp,
) -> Option<IssueView> {
    merged_one(&models.issues, scope, id, visible).and_then(|group| IssueView::merge(&group, now))
}

/// Open issues of one responsible organisation.
#[derive(serde::Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrgIssues {
    pub open: u32,
    pub overdue: u32,
    pub unacknowledged: u32,
    pub escalated: u32,
    pub oldest_age_seconds: Option<i64>,
    pub highest_escalation: u8,
}

/// Open issues per responsible organisation (the owner once assigned, else the addressee).
pub fn issues_by_org(issues: &[IssueView]) -> BTreeMap<OrgId, OrgIssues> {
    let mut out: BTreeMap<OrgId, OrgIssues> = BTreeMap::new();
    for issue in issues.iter().filter(|i| i.is_open()) {
        let Some(org) = &issue.responsible else {
            continue;
        };
        let entry = out.entry(org.clone()).or_default();
        entry.open += 1;
        entry.overdue += u32::from(issue.overdue);
        entry.unacknowledged += u32::from(issue.acknowledged_at.is_none());
        entry.escalated += u32::from(issue.escalation_level > 0);
        entry.oldest_age_seconds = entry.oldest_age_seconds.max(issue.age_seconds);
        entry.highest_escalation = entry.highest_escalation.max(issue.highest_escalation);
    }
    out
}

/// Counts over issues.
#[derive(serde::Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueStats {
    pub total: u32,
    pub open: u32,
    pub overdue: u32,
    pub unacknowledged: u32,
    /// Open issues only.
    pub by_severity: BTreeMap<Severity, u32>,
    pub time_to_acknowledge: DurationStats,
    pub time_to_resolve: DurationStats,
}

pub fn issue_stats(issues: &[IssueView]) -> IssueStats {
    let mut stats = IssueStats::default();
    let mut to_acknowledge = Vec::new();
    let mut to_resolve = Vec::new();
    for issue in issues {
        stats.total += 1;
        to_acknowledge.extend(issue.time_to_acknowledge_seconds);
        to_resolve.extend(issue.time_to_resolve_seconds);
        if !issue.is_open() {
            continue;
        }
        stats.open += 1;
        stats.overdue += u32::from(issue.overdue);
        stats.unacknowledged += u32::from(issue.acknowledged_at.is_none());
        if let Some(severity) = issue.severity {
            *stats.by_severity.entry(severity).or_default() += 1;
        }
    }
    stats.time_to_acknowledge = DurationStats::of(to_acknowledge);
    stats.time_to_resolve = DurationStats::of(to_resolve);
    stats
}
