//! The picture computed the old way, from every row: a view per site, need, issue, series,
//! report and alert, then counted. Kept as the oracle the folded figures are held to.

use std::collections::{BTreeMap, BTreeSet};

use proto_events::vocab::Urgency;
use proto_events::{Status, Timestamp};

use super::{
    AreaPicture, AreaTotals, ArrivalsFigures, IssuesFigures, NeedsFigures, Picture, PictureOptions,
    SitrepLine,
};
use crate::models::ReadModels;
use crate::table::Scope;
use crate::views::issues::{IssueFilter, IssueView, issues, issues_by_org};
use crate::views::needs::{NeedFilter, NeedStats, need_stats, needs};
use crate::views::network::{IncidentView, incident};
use crate::views::reports::{
    ArrivalsTotals, SitrepView, alerts, arrivals_series, arrivals_totals, latest_situation_reports,
    situation_reports,
};
use crate::views::sites::{HousingTotals, housing_totals, sites};
use crate::views::{PeopleCount, VisibleSlices};
use crate::visibility::Viewer;

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
        .scopes()
        .into_iter()
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
