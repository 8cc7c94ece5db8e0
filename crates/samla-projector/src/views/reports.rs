//! Reports as a viewer sees them: situation reports (latest per series and per
//! organisation), arrivals (latest "to date" figures, "this period" sums and a per-day
//! series), service capacity, hospital status, alerts active at `now`, and requests for
//! information with whether they were answered.
//!
//! Counts of people reach a viewer only as [`PeopleCount`], so a share viewer sees small
//! counts suppressed; [`arrivals_series`] gives the raw figures for totals, which are
//! suppressed after summing.

use std::collections::{BTreeMap, BTreeSet};

use proto_events::vocab::{
    AlertCertainty, AlertMessageType, AlertScope, AlertSeverity, AlertUrgency, BedType, Confidence,
    EmergencyDepartmentStatus, FacilityStatus, ReportVersion, ServiceKind, Severity,
};
use proto_events::{OrgId, Timestamp};

use super::{DEFAULT_SUPPRESSION_THRESHOLD, Merged, PeopleCount, VisibleSlices, merged};
use super::{last_seq, value};
use crate::gauge::{latest, total};
use crate::models::ReadModels;
use crate::models::reports::{ArrivalsRow, InfoRequestRow, ReportedCounts, SitrepRow};
use crate::table::Scope;
use crate::visibility::Viewer;

/// A count of people for `viewer`, with the default threshold.
pub fn people(count: u64, viewer: &Viewer) -> PeopleCount {
    PeopleCount::for_viewer(count, viewer, DEFAULT_SUPPRESSION_THRESHOLD)
}

fn people_opt(count: Option<u32>, viewer: &Viewer) -> Option<PeopleCount> {
    count.map(|c| people(u64::from(c), viewer))
}

fn non_negative(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The counts of a situation report, as shown to one viewer.
#[derive(serde::Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeopleFigures {
    pub arrivals_this_period: Option<PeopleCount>,
    pub arrivals_to_date: Option<PeopleCount>,
    pub placed_to_date: Option<PeopleCount>,
    pub awaiting_placement: Option<PeopleCount>,
    pub unaccompanied_minors_to_date: Option<PeopleCount>,
    pub households_this_period: Option<PeopleCount>,
}

impl PeopleFigures {
    fn of(counts: &ReportedCounts, viewer: &Viewer) -> Self {
        PeopleFigures {
            arrivals_this_period: people_opt(counts.arrivals_this_period, viewer),
            arrivals_to_date: people_opt(counts.arrivals_to_date, viewer),
            placed_to_date: people_opt(counts.placed_to_date, viewer),
            awaiting_placement: people_opt(counts.awaiting_placement, viewer),
            unaccompanied_minors_to_date: people_opt(counts.unaccompanied_minors_to_date, viewer),
            households_this_period: people_opt(counts.households_this_period, viewer),
        }
    }
}

/// The latest situation report of one series.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct SitrepView {
    pub id: String,
    pub reported_by: OrgId,
    pub number: u32,
    pub version: ReportVersion,
    pub period_from: Timestamp,
    pub period_to: Timestamp,
    pub summary: String,
    pub consequences: Option<String>,
    pub actions_taken: Option<String>,
    pub needs: Option<String>,
    pub outlook: Option<String>,
    pub severity: Option<Severity>,
    pub confidence: Option<Confidence>,
    pub counts: PeopleFigures,
    pub next_report_at: Option<Timestamp>,
    pub reported_at: Timestamp,
    /// The sequence of the event that set this report.
    pub report_seq: u64,
    /// Reports in the series the viewer may see.
    pub reports_in_series: u64,
    pub area: Option<String>,
    pub last_seq: u64,
}

impl SitrepView {
    fn merge(group: &Merged<'_, SitrepRow>, viewer: &Viewer) -> Option<Self> {
        let rows = &group.rows;
        let (report_seq, report) = latest(rows.iter().map(|r| &r.report))?;
        Some(SitrepView {
            id: group.id.clone(),
            reported_by: report.reported_by.clone(),
            number: report.number,
            version: report.version,
            period_from: report.period_from,
            period_to: report.period_to,
            summary: report.summary.clone(),
            consequences: report.consequences.clone(),
            actions_taken: report.actions_taken.clone(),
            needs: report.needs.clone(),
            outlook: report.outlook.clone(),
            severity: report.severity,
            confidence: report.confidence,
            counts: PeopleFigures::of(&report.counts, viewer),
            next_report_at: report.next_report_at,
            reported_at: report.reported_at,
            report_seq,
            reports_in_series: non_negative(total(rows.iter().map(|r| &r.reports))),
            area: value(rows, |r| &r.common.area),
            last_seq: last_seq(rows, |r| r.common.last_seq),
        })
    }
}

/// The latest report of every series the viewer may see, in id order.
pub fn situation_reports(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
    viewer: &Viewer,
) -> Vec<SitrepView> {
    merged(&models.reports.sitreps, scope, visible)
        .iter()
        .filter_map(|group| SitrepView::merge(group, viewer))
        .collect()
}

/// The `limit` most recent reports: latest `period_to` first, then latest issued.
pub fn latest_situation_reports(reports: &[SitrepView], limit: usize) -> Vec<SitrepView> {
    let mut sorted = reports.to_vec();
    sorted.sort_by_key(|r| std::cmp::Reverse((r.period_to, r.report_seq)));
    sorted.truncate(limit);
    sorted
}

/// The latest report per organisation (over all its series).
pub fn situation_reports_by_org(reports: &[SitrepView]) -> BTreeMap<OrgId, SitrepView> {
    let mut out: BTreeMap<OrgId, SitrepView> = BTreeMap::new();
    for report in reports {
        let newer = out
            .get(&report.reported_by)
            .is_none_or(|kept| report.report_seq > kept.report_seq);
        if newer {
            out.insert(report.reported_by.clone(), report.clone());
        }
    }
    out
}

/// One arrivals series, raw (for totals; see [`ArrivalsView`] for display).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ArrivalsSeries {
    pub id: String,
    pub reported_by: Option<OrgId>,
    pub arrivals_to_date: Option<u32>,
    pub placed_to_date: Option<u32>,
    pub awaiting_placement: Option<u32>,
    pub unaccompanied_minors_to_date: Option<u32>,
    pub arrivals_this_period: u64,
    pub households_this_period: u64,
    pub period_from: Option<Timestamp>,
    pub period_to: Option<Timestamp>,
    pub estimated: bool,
    /// Arrivals by UTC day of the period's end.
    pub per_day: BTreeMap<String, u64>,
    pub area: Option<String>,
    pub last_seq: u64,
}

impl ArrivalsSeries {
    fn merge(group: &Merged<'_, ArrivalsRow>) -> Self {
        let rows = &group.rows;
        let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
        for row in rows {
            for (day, counter) in &row.per_day {
                *per_day.entry(day.clone()).or_default() += counter.get();
            }
        }
        ArrivalsSeries {
            id: group.id.clone(),
            reported_by: value(rows, |r| &r.reported_by),
            arrivals_to_date: value(rows, |r| &r.arrivals_to_date),
            placed_to_date: value(rows, |r| &r.placed_to_date),
            awaiting_placement: value(rows, |r| &r.awaiting_placement),
            unaccompanied_minors_to_date: value(rows, |r| &r.unaccompanied_minors_to_date),
            arrivals_this_period: non_negative(total(rows.iter().map(|r| &r.arrivals_this_period))),
            households_this_period: non_negative(total(
                rows.iter().map(|r| &r.households_this_period),
            )),
            period_from: value(rows, |r| &r.period_from),
            period_to: value(rows, |r| &r.period_to),
            estimated: value(rows, |r| &r.estimated).unwrap_or(false),
            per_day: per_day
                .into_iter()
                .map(|(day, n)| (day, non_negative(n)))
                .collect(),
            area: value(rows, |r| &r.common.area),
            last_seq: last_seq(rows, |r| r.common.last_seq),
        }
    }
}

/// Every arrivals series the viewer may see, raw, in id order.
pub fn arrivals_series(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
) -> Vec<ArrivalsSeries> {
    merged(&models.reports.arrivals, scope, visible)
        .iter()
        .map(ArrivalsSeries::merge)
        .collect()
}

/// One arrivals series as shown to a viewer.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ArrivalsView {
    pub id: String,
    pub reported_by: Option<OrgId>,
    pub arrivals_to_date: Option<PeopleCount>,
    pub placed_to_date: Option<PeopleCount>,
    pub awaiting_placement: Option<PeopleCount>,
    pub unaccompanied_minors_to_date: Option<PeopleCount>,
    /// The sum of every period reported.
    pub arrivals_this_period: PeopleCount,
    pub households_this_period: PeopleCount,
    pub period_from: Option<Timestamp>,
    pub period_to: Option<Timestamp>,
    pub estimated: bool,
    pub per_day: BTreeMap<String, PeopleCount>,
    pub area: Option<String>,
    pub last_seq: u64,
}

impl ArrivalsView {
    pub fn of(series: &ArrivalsSeries, viewer: &Viewer) -> Self {
        ArrivalsView {
            id: series.id.clone(),
            reported_by: series.reported_by.clone(),
            arrivals_to_date: people_opt(series.arrivals_to_date, viewer),
            placed_to_date: people_opt(series.placed_to_date, viewer),
            awaiting_placement: people_opt(series.awaiting_placement, viewer),
            unaccompanied_minors_to_date: people_opt(series.unaccompanied_minors_to_date, viewer),
            arrivals_this_period: people(series.arrivals_this_period, viewer),
            households_this_period: people(series.households_this_period, viewer),
            period_from: series.period_from,
            period_to: series.period_to,
            estimated: series.estimated,
            per_day: series
                .per_day
                .iter()
                .map(|(day, n)| (day.clone(), people(*n, viewer)))
                .collect(),
            area: series.area.clone(),
            last_seq: series.last_seq,
        }
    }
}

/// Every arrivals series the viewer may see, as shown to it.
pub fn arrivals(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
    viewer: &Viewer,
) -> Vec<ArrivalsView> {
    arrivals_series(models, scope, visible)
        .iter()
        .map(|series| ArrivalsView::of(series, viewer))
        .collect()
}

/// Sums over arrivals series (raw; suppress for display).
#[derive(serde::Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct ArrivalsTotals {
    pub series: u32,
    /// The sum of each series' latest `arrivals_to_date`.
    pub to_date: u64,
    pub awaiting_placement: u64,
    pub unaccompanied_minors_to_date: u64,
    /// The sum of every period of every series.
    pub this_period: u64,
    pub per_day: BTreeMap<String, u64>,
    /// The latest day with arrivals reported, and the arrivals that day.
    pub latest_day: Option<(String, u64)>,
    pub last_seq: u64,
}

pub fn arrivals_totals(series: &[ArrivalsSeries]) -> ArrivalsTotals {
    let mut totals = ArrivalsTotals::default();
    for one in series {
        totals.series += 1;
        totals.to_date += u64::from(one.arrivals_to_date.unwrap_or(0));
        totals.awaiting_placement += u64::from(one.awaiting_placement.unwrap_or(0));
        totals.unaccompanied_minors_to_date +=
            u64::from(one.unaccompanied_minors_to_date.unwrap_or(0));
        totals.this_period += one.arrivals_this_period;
        for (day, n) in &one.per_day {
            *totals.per_day.entry(day.clone()).or_default() += n;
        }
        totals.last_seq = totals.last_seq.max(one.last_seq);
    }
    totals.latest_day = totals
        .per_day
        .iter()
        .next_back()
        .map(|(day, n)| (day.clone(), *n));
    totals
}

/// A service's latest capacity.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
    pub id: String,
    pub service: ServiceKind,
    pub available: u32,
    pub used: u32,
    /// `available - used`, never below zero.
    pub free: u32,
    pub language: Option<String>,
    pub reported_by: OrgId,
    pub reported_at: Timestamp,
    pub area: Option<String>,
    pub last_seq: u64,
}

pub fn services(models: &ReadModels, scope: &Scope, visible: &VisibleSlices) -> Vec<ServiceView> {
    merged(&models.reports.services, scope, visible)
        .iter()
        .filter_map(|group| {
            let rows = &group.rows;
            let (_, report) = latest(rows.iter().map(|r| &r.report))?;
            Some(ServiceView {
                id: group.id.clone(),
                service: report.service,
                available: report.available,
                used: report.used,
                free: report.available.saturating_sub(report.used),
                language: report.language.clone(),
                reported_by: report.reported_by.clone(),
                reported_at: report.reported_at,
                area: value(rows, |r| &r.common.area),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            })
        })
        .collect()
}

/// A hospital's latest status.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct HospitalView {
    pub id: String,
    pub facility_status: FacilityStatus,
    pub emergency_department: EmergencyDepartmentStatus,
    pub beds_available: BTreeMap<BedType, u32>,
    pub reported_by: OrgId,
    pub reported_at: Timestamp,
    pub area: Option<String>,
    pub last_seq: u64,
}

pub fn hospitals(models: &ReadModels, scope: &Scope, visible: &VisibleSlices) -> Vec<HospitalView> {
    merged(&models.reports.hospitals, scope, visible)
        .iter()
        .filter_map(|group| {
            let rows = &group.rows;
            let (_, report) = latest(rows.iter().map(|r| &r.report))?;
            Some(HospitalView {
                id: group.id.clone(),
                facility_status: report.facility_status,
                emergency_department: report.emergency_department,
                beds_available: report.beds_available.clone(),
                reported_by: report.reported_by.clone(),
                reported_at: report.reported_at,
                area: value(rows, |r| &r.common.area),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            })
        })
        .collect()
}

/// An alert at `now`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct AlertView {
    pub id: String,
    /// Neither cancelled nor expired at `now`.
    pub active: bool,
    pub cancelled: bool,
    pub expired: bool,
    pub message_type: AlertMessageType,
    pub scope: AlertScope,
    pub urgency: AlertUrgency,
    pub severity: AlertSeverity,
    pub certainty: AlertCertainty,
    pub headline: String,
    pub instruction: Option<String>,
    pub areas: BTreeSet<String>,
    pub expires_at: Option<Timestamp>,
    pub issued_at: Timestamp,
    pub issued_by: OrgId,
    pub last_seq: u64,
}

/// Every alert the viewer may see, in id order.
pub fn alerts(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
    now: Timestamp,
) -> Vec<AlertView> {
    merged(&models.reports.alerts, scope, visible)
        .iter()
        .filter_map(|group| {
            let rows = &group.rows;
            let (_, alert) = latest(rows.iter().map(|r| &r.alert))?;
            let cancelled = value(rows, |r| &r.cancelled).unwrap_or(false);
            let expired = alert.expires_at.is_some_and(|at| at <= now);
            Some(AlertView {
                id: group.id.clone(),
                active: !cancelled && !expired,
                cancelled,
                expired,
                message_type: alert.message_type,
                scope: alert.scope,
                urgency: alert.urgency,
                severity: alert.severity,
                certainty: alert.certainty,
                headline: alert.headline.clone(),
                instruction: alert.instruction.clone(),
                areas: alert.areas.clone(),
                expires_at: alert.expires_at,
                issued_at: alert.issued_at,
                issued_by: alert.issued_by.clone(),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            })
        })
        .collect()
}

/// A request for information at `now`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct InfoRequestView {
    pub id: String,
    pub requested_by: Option<OrgId>,
    pub addressed_to: Option<OrgId>,
    pub questions: Vec<String>,
    pub requested_at: Timestamp,
    pub answer_by: Option<Timestamp>,
    pub answered: bool,
    /// The first answer.
    pub answered_at: Option<Timestamp>,
    pub answered_by: BTreeSet<OrgId>,
    pub time_to_answer_seconds: Option<i64>,
    /// `answer_by` passed without an answer.
    pub overdue: bool,
    pub age_seconds: i64,
    pub area: Option<String>,
    pub last_seq: u64,
}

impl InfoRequestView {
    fn merge(group: &Merged<'_, InfoRequestRow>, now: Timestamp) -> Option<Self> {
        let rows = &group.rows;
        let requested_at = value(rows, |r| &r.requested_at)?;
        let answers: Vec<_> = rows.iter().flat_map(|r| r.answers.values()).collect();
        let answered_at = answers.iter().map(|a| a.at).min();
        let answer_by = value(rows, |r| &r.answer_by).flatten();
        Some(InfoRequestView {
            id: group.id.clone(),
            requested_by: value(rows, |r| &r.requested_by),
            addressed_to: value(rows, |r| &r.addressed_to),
            questions: value(rows, |r| &r.questions).unwrap_or_default(),
            requested_at,
            answer_by,
            answered: answered_at.is_some(),
            answered_at,
            answered_by: answers.iter().map(|a| a.by.clone()).collect(),
            time_to_answer_seconds: answered_at.map(|a| a.seconds_since(requested_at)),
            overdue: answered_at.is_none() && answer_by.is_some_and(|by| by < now),
            age_seconds: now.seconds_since(requested_at),
            area: value(rows, |r| &r.common.area),
            last_seq: last_seq(rows, |r| r.common.last_seq),
        })
    }
}

/// Every request for information the viewer may see, in id order.
pub fn information_requests(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
    now: Timestamp,
) -> Vec<InfoRequestView> {
    merged(&models.reports.inforeq, scope, visible)
        .iter()
        .filter_map(|group| InfoRequestView::merge(group, now))
        .collect()
}
