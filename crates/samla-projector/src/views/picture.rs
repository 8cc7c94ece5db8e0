//! The picture: the one summary per incident a dashboard shows first — arrivals, beds,
//! open needs, open and overdue issues, the latest situation reports, active alerts — and
//! the same rolled up over every incident in an area, so a regional body sees all its
//! municipalities at once.
//!
//! Figures are summed raw and suppressed for the viewer last (a sum of small counts may
//! well be shown); each incident's visible slices are computed on their own, so a viewer's
//! membership in one incident never opens another.
//!
//! The counts come folded per slice ([`figures`]): a picture sums the slices the viewer
//! may see and merges only the few aggregates that have rows in several slices, so it
//! costs the same at a thousand events as at a million. `oracle.rs` (tests only) computes
//! the same picture from every row, the way the views do, and the tests hold the two
//! equal.

use std::collections::{BTreeMap, BTreeSet};

pub mod figures;
#[cfg(test)]
mod oracle;

use proto_events::vocab::{IncidentPhase, NeedCategory, Urgency};
use proto_events::{OrgId, Status, Timestamp};

use super::issues::OrgIssues;
use super::network::{IncidentView, incident};
use super::sites::HousingTotals;
use super::{DEFAULT_SUPPRESSION_THRESHOLD, PeopleCount, VisibleSlices};
use crate::models::ReadModels;
use crate::table::Scope;
use crate::visibility::Viewer;
use figures::Summed;

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
    summed: Summed,
    last_seq: u64,
    /// Every area the incident declared or a visible aggregate carries (when asked for).
    areas: BTreeSet<String>,
}

fn gather(
    models: &ReadModels,
    scope: &Scope,
    viewer: &Viewer,
    now: Timestamp,
    options: &PictureOptions,
    with_areas: bool,
) -> Gathered {
    let visible = VisibleSlices::new(models, scope, viewer);
    let incident = incident(models, scope, &visible);
    let summed = models.picture.sum(
        models,
        scope,
        &visible,
        now,
        options.situation_reports,
        with_areas,
    );
    let mut areas: BTreeSet<String> = incident
        .as_ref()
        .map(|i| i.areas.clone())
        .unwrap_or_default();
    areas.extend(summed.areas.iter().cloned());
    let last_seq = incident
        .as_ref()
        .map_or(0, |i| i.last_seq)
        .max(summed.last_seq);
    Gathered {
        scope: scope.clone(),
        incident,
        summed,
        last_seq,
        areas,
    }
}

impl Gathered {
    fn is_empty(&self) -> bool {
        self.last_seq == 0
    }

    /// The latest day with arrivals reported, and the arrivals that day.
    fn latest_day(&self) -> Option<(&String, u64)> {
        self.summed
            .per_day
            .iter()
            .next_back()
            .map(|(day, n)| (day, *n))
    }

    fn picture(&self, viewer: &Viewer, options: &PictureOptions) -> Picture {
        let people =
            |count: u64| PeopleCount::for_viewer(count, viewer, options.suppression_threshold);
        let s = &self.summed;
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
                series: s.series,
                to_date: people(s.arrivals_to_date),
                awaiting_placement: people(s.awaiting_placement),
                latest_day: self.latest_day().map(|(day, _)| day.clone()),
                latest_day_arrivals: people(self.latest_day().map_or(0, |(_, n)| n)),
                per_day: s
                    .per_day
                    .iter()
                    .map(|(day, n)| (day.clone(), people(*n)))
                    .collect(),
            },
            beds: s.beds,
            needs: NeedsFigures {
                open: s.needs_open,
                overdue: s.needs_overdue,
                claim_expired: s.claims_expired,
                by_urgency: s.needs_by_urgency.clone(),
                by_category: s.needs_by_category.clone(),
                people: people(s.people_open),
            },
            issues: IssuesFigures {
                open: s.issues_open,
                overdue: s.issues_overdue,
                unacknowledged: s.issues_unacknowledged,
                by_org: s.issues_by_org.clone(),
            },
            situation_reports: s.sitreps.clone(),
            active_alerts: s.active_alerts,
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
    gather(models, scope, viewer, now, options, false).picture(viewer, options)
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
    // Every scope with a counted aggregate or an incident: any other holds nothing a
    // picture shows.
    let mut scopes = models.picture.scopes();
    scopes.extend(
        models
            .network
            .incidents
            .iter()
            .map(|(key, _)| key.scope.clone()),
    );
    let gathered: Vec<Gathered> = scopes
        .iter()
        .filter(|scope| scope.status == status)
        .map(|scope| gather(models, scope, viewer, now, options, true))
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
    for g in &gathered {
        let s = &g.summed;
        to_date += s.arrivals_to_date;
        awaiting += s.awaiting_placement;
        for (day, n) in &s.per_day {
            *per_day.entry(day.clone()).or_default() += n;
        }
        beds += s.beds;
        open_needs += s.needs_open;
        overdue_needs += s.needs_overdue;
        for (urgency, n) in &s.needs_by_urgency {
            *by_urgency.entry(*urgency).or_default() += n;
        }
        open_issues += s.issues_open;
        overdue_issues += s.issues_overdue;
        active_alerts += s.active_alerts;
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
