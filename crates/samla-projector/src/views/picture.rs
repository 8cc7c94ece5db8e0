//! The picture: the one summary per incident a dashboard shows first — arrivals, beds,
//! open needs, open and overdue issues, the latest situation reports, active alerts — and
//! the same rolled up over every incident in an area, so a regional body sees all its
//! municipalities at once.
//!
//! Figures are summed raw and suppressed for the viewer last (a sum of small counts may
//! well be shown); each incident's visible slices are computed on their own, so a viewer's
//! membership in one incident never opens another.

use std::collections::{BTreeMap, BTreeSet};

use proto_events::vocab::{IncidentPhase, NeedCategory, Urgency};
use proto_events::{OrgId, Status, Timestamp};

use super::issues::{IssueFilter, IssueView, OrgIssues, issues, issues_by_org};
use super::needs::{NeedFilter, NeedStats, need_stats, needs};
use super::network::{IncidentView, incident};
use super::reports::{
    ArrivalsTotals, SitrepView, alerts, arrivals_series, arrivals_totals, latest_situation_reports,
    situation_reports,
};
use super::sites::{HousingTotals, housing_totals, sites};
use super::{DEFAULT_SUPPRESSION_THRESHOLD, PeopleCount, VisibleSlices};
use crate::models::ReadModels;
use crate::table::Scope;
use crate::visibility::Viewer;

/// How much the picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureOptions {
    /// How many of the latest situation reports to list.
    pub situation_reports: usize,
    /// Counts of people below this are suppressed for share viewers.
    pub suppression_threshold: u64,
}

impl Default for PictureOptions {
    fn default() -> Self {
        Self {
            situation_reports: 5,
            suppression_threshold: DEFAULT_SUPPRESSION_THRESHOLD,
        }
    }
}

/// Arrivals, as counts of people for the viewer.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ArrivalsFigures {
    pub series: u32,
    /// The sum over series of each one's latest "arrivals to date".
    pub to_date: PeopleCount,
    pub awaiting_placement: PeopleCount,
    /// The latest day with arrivals reported (UTC, `YYYY-MM-DD`) and that day's arrivals.
    pub latest_day: Option<String>,
    pub latest_day_arrivals: PeopleCount,
    pub per_day: BTreeMap<String, PeopleCount>,
}

/// Open needs.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct NeedsFigures {
    pub open: u32,
    pub overdue: u32,
    pub claim_expired: u32,
    pub by_urgency: BTreeMap<Urgency, u32>,
    pub by_category: BTreeMap<NeedCategory, u32>,
    /// People concerned by open needs.
    pub people: PeopleCount,
}

/// Open issues.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct IssuesFigures {
    pub open: u32,
    pub overdue: u32,
    pub unacknowledged: u32,
    /// Per responsible organisation.
    pub by_org: BTreeMap<OrgId, OrgIssues>,
}

/// One line of the latest situation reports.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct SitrepLine {
    pub id: String,
    pub reported_by: OrgId,
    pub number: u32,
    pub period_to: Timestamp,
}

/// One incident's picture for one viewer at `now`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub scope: Scope,
    pub title: Option<String>,
    pub phase: Option<IncidentPhase>,
    /// The areas the incident declared.
    pub areas: BTreeSet<String>,
    pub arrivals: ArrivalsFigures,
    pub beds: HousingTotals,
    pub needs: NeedsFigures,
    pub issues: IssuesFigures,
    pub situation_reports: Vec<SitrepLine>,
    pub active_alerts: u32,
    /// The latest event behind any figure shown.
    pub last_seq: u64,
}

/// What one incident holds for one viewer, before suppression.
#[derive(Debug, Clone)]
struct Gathered {
    scope: Scope,
    incident: Option<IncidentView>,
    arrivals: ArrivalsTotals,
    beds: HousingTotals,
    needs: NeedStats,
    issues: Vec<IssueView>,
    sitreps: Vec<SitrepView>,
    active_alerts: u32,
    last_seq: u64,
    /// Every area the incident declared or a visible aggregate carries.
    areas: BTreeSet<String>,
}

fn gather(models: &ReadModels, scope: &Scope, viewer: &Viewer, now: Timestamp) -> Gathered {
    let visible = VisibleSlices::new(models, scope, viewer);
    let incident = incident(models, scope, &visible);
    let site_views = sites(models, scope, &visible);
    let need_views = needs(models, scope, &visible, now, &NeedFilter::default());
    let issue_views = issues(models, scope, &visible, now, &IssueFilter::default());
    let series = arrivals_series(models, scope, &visible);
    let sitreps = situation_reports(models, scope, &visible, viewer);
    let alert_views = alerts(models, scope, &visible, now);

    let mut areas: BTreeSet<String> = incident
        .as_ref()
        .map(|i| i.areas.clone())
        .unwrap_or_default();
    areas.extend(site_views.iter().filter_map(|s| s.area.clone()));
    areas.extend(need_views.iter().filter_map(|n| n.area.clone()));
    areas.extend(issue_views.iter().filter_map(|i| i.area.clone()));
    areas.extend(series.iter().filter_map(|s| s.area.clone()));
    areas.extend(sitreps.iter().filter_map(|s| s.area.clone()));
    areas.extend(alert_views.iter().flat_map(|a| a.areas.iter().cloned()));

    let last_seq = [
        incident.as_ref().map_or(0, |i| i.last_seq),
        site_views.iter().map(|s| s.last_seq).max().unwrap_or(0),
        need_views.iter().map(|n| n.last_seq).max().unwrap_or(0),
        issue_views.iter().map(|i| i.last_seq).max().unwrap_or(0),
        series.iter().map(|s| s.last_seq).max().unwrap_or(0),
        sitreps.iter().map(|s| s.last_seq).max().unwrap_or(0),
        alert_views.iter().map(|a| a.last_seq).max().unwrap_or(0),
    ]
    .into_iter()
    .max()
    .unwrap_or(0);

    Gathered {
        scope: scope.clone(),
        incident,
        arrivals: arrivals_totals(&series),
        beds: housing_totals(&site_views),
        needs: need_stats(&need_views),
        issues: issue_views,
        sitreps,
        active_alerts: u32::try_from(alert_views.iter().filter(|a| a.active).count())
            .unwrap_or(u32::MAX),
        last_seq,
        areas,
    }
}

impl Gathered {
    fn is_empty(&self) -> bool {
        self.last_seq == 0
    }

    fn picture(&self, viewer: &Viewer, options: &PictureOptions) -> Picture {
        let people =
            |count: u64| PeopleCount::for_viewer(count, viewer, options.suppression_threshold);
        let open_issues: Vec<&IssueView> = self.issues.iter().filter(|i| i.is_open()).collect();
        Picture {
            scope: self.scope.clone(),
            title: self.incident.as_ref().and_then(|i| i.title.clone()),
            phase: self.incident.as_ref().and_then(|i| i.phase),
            areas: self
                .incident
                .as_ref()
                .map(|i| i.areas.clone())
                .unwrap_or_default(),
            arrivals: ArrivalsFigures {
                series: self.arrivals.series,
                to_date: people(self.arrivals.to_date),
                awaiting_placement: people(self.arrivals.awaiting_placement),
                latest_day: self
                    .arrivals
                    .latest_day
                    .as_ref()
                    .map(|(day, _)| day.clone()),
                latest_day_arrivals: people(
                    self.arrivals.latest_day.as_ref().map_or(0, |(_, n)| *n),
                ),
                per_day: self
                    .arrivals
                    .per_day
                    .iter()
                    .map(|(day, n)| (day.clone(), people(*n)))
                    .collect(),
            },
            beds: self.beds,
            needs: NeedsFigures {
                open: self.needs.open,
                overdue: self.needs.overdue,
                claim_expired: self.needs.claim_expired,
                by_urgency: self.needs.by_urgency.clone(),
                by_category: self.needs.by_category.clone(),
                people: people(self.needs.people_open),
            },
            issues: IssuesFigures {
                open: u32::try_from(open_issues.len()).unwrap_or(u32::MAX),
                overdue: u32::try_from(open_issues.iter().filter(|i| i.overdue).count())
                    .unwrap_or(u32::MAX),
                unacknowledged: u32::try_from(
                    open_issues
                        .iter()
                        .filter(|i| i.acknowledged_at.is_none())
                        .count(),
                )
                .unwrap_or(u32::MAX),
                by_org: issues_by_org(&self.issues),
            },
            situation_reports: latest_situation_reports(&self.sitreps, options.situation_reports)
                .into_iter()
                .map(|s| SitrepLine {
                    id: s.id,
                    reported_by: s.reported_by,
                    number: s.number,
                    period_to: s.period_to,
                })
                .collect(),
            active_alerts: self.active_alerts,
            last_seq: self.last_seq,
        }
    }
}

/// One incident's picture for `viewer` at `now`.
pub fn picture(models: &ReadModels, scope: &Scope, viewer: &Viewer, now: Timestamp) -> Picture {
    picture_with(models, scope, viewer, now, &PictureOptions::default())
}

pub fn picture_with(
    models: &ReadModels,
    scope: &Scope,
    viewer: &Viewer,
    now: Timestamp,
    options: &PictureOptions,
) -> Picture {
    gather(models, scope, viewer, now).picture(viewer, options)
}

/// Sums over the incidents of an area.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct AreaTotals {
    pub incidents: u32,
    pub arrivals_to_date: PeopleCount,
    pub awaiting_placement: PeopleCount,
    pub latest_day: Option<String>,
    pub latest_day_arrivals: PeopleCount,
    pub beds: HousingTotals,
    pub open_needs: u32,
    pub overdue_needs: u32,
    pub open_needs_by_urgency: BTreeMap<Urgency, u32>,
    pub open_issues: u32,
    pub overdue_issues: u32,
    pub active_alerts: u32,
    pub last_seq: u64,
}

/// Every incident in an area, each as its own picture, and their sums.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct AreaPicture {
    pub area: String,
    pub status: Status,
    pub incidents: Vec<Picture>,
    pub totals: AreaTotals,
}

/// Every incident of `status` the viewer may see that declared `area` or has a visible
/// aggregate in it, each computed with its own visible slices, and the sums over them.
pub fn picture_by_area(
    models: &ReadModels,
    area: &str,
    status: Status,
    viewer: &Viewer,
    now: Timestamp,
) -> AreaPicture {
    picture_by_area_with(
        models,
        area,
        status,
        viewer,
        now,
        &PictureOptions::default(),
    )
}

pub fn picture_by_area_with(
    models: &ReadModels,
    area: &str,
    status: Status,
    viewer: &Viewer,
    now: Timestamp,
    options: &PictureOptions,
) -> AreaPicture {
    // Every scope that holds any event: the timeline index names them cheaply.
    let scopes: BTreeSet<Scope> = models
        .timeline
        .table
        .iter()
        .map(|(key, _)| key.scope.clone())
        .filter(|scope| scope.status == status)
        .collect();
    let gathered: Vec<Gathered> = scopes
        .iter()
        .map(|scope| gather(models, scope, viewer, now))
        .filter(|g| !g.is_empty() && g.areas.contains(area))
        .collect();

    let people = |count: u64| PeopleCount::for_viewer(count, viewer, options.suppression_threshold);
    let mut beds = HousingTotals::default();
    let mut per_day: BTreeMap<String, u64> = BTreeMap::new();
    let (mut to_date, mut awaiting) = (0u64, 0u64);
    let mut by_urgency: BTreeMap<Urgency, u32> = BTreeMap::new();
    let (mut open_needs, mut overdue_needs, mut open_issues, mut overdue_issues, mut active_alerts) =
        (0, 0, 0, 0, 0);
    let mut last_seq = 0;
    let pictures: Vec<Picture> = gathered
        .iter()
        .map(|g| g.picture(viewer, options))
        .collect();
    for (g, p) in gathered.iter().zip(&pictures) {
        to_date += g.arrivals.to_date;
        awaiting += g.arrivals.awaiting_placement;
        for (day, n) in &g.arrivals.per_day {
            *per_day.entry(day.clone()).or_default() += n;
        }
        beds.sites += g.beds.sites;
        beds.open_sites += g.beds.open_sites;
        beds.capacity += g.beds.capacity;
        beds.occupied += g.beds.occupied;
        beds.reserved += g.beds.reserved;
        beds.free += g.beds.free;
        beds.over_capacity_sites += g.beds.over_capacity_sites;
        open_needs += g.needs.open;
        overdue_needs += g.needs.overdue;
        for (urgency, n) in &g.needs.by_urgency {
            *by_urgency.entry(*urgency).or_default() += n;
        }
        open_issues += p.issues.open;
        overdue_issues += p.issues.overdue;
        active_alerts += g.active_alerts;
        last_seq = last_seq.max(g.last_seq);
    }
    let latest_day = per_day.iter().next_back().map(|(day, n)| (day.clone(), *n));
    AreaPicture {
        area: area.to_string(),
        status,
        totals: AreaTotals {
            incidents: u32::try_from(pictures.len()).unwrap_or(u32::MAX),
            arrivals_to_date: people(to_date),
            awaiting_placement: people(awaiting),
            latest_day: latest_day.as_ref().map(|(day, _)| day.clone()),
            latest_day_arrivals: people(latest_day.map_or(0, |(_, n)| n)),
            beds,
            open_needs,
            overdue_needs,
            open_needs_by_urgency: by_urgency,
            open_issues,
            overdue_issues,
            active_alerts,
            last_seq,
        },
        incidents: pictures,
    }
}

#[cfg(test)]
mod tests;
