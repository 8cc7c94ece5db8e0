//! The picture: given events from every model, then the summary each viewer sees.

use std::collections::{BTreeMap, BTreeSet};

use proto_events::AggregateType::{Alert, Arrivals, Incident, Issue, Need, Report, Site};
use proto_events::Status;
use proto_events::payload::{
    AlertIssued, ArrivalsReported, CapacityDeclared, IncidentDeclared, IssueRaised, NeedRaised,
    OccupancyReported, PeopleCounts, SiteRegistered, SituationReported,
};
use proto_events::vocab::{
    AlertCertainty, AlertMessageType, AlertScope, AlertSeverity, AlertUrgency, IncidentType,
    IssueCategory, NeedCategory, ReportVersion, Severity, SiteKind, Unit, Urgency,
};

use super::{Picture, picture, picture_by_area};
use crate::models::ReadModels;
use crate::models::testkit::*;
use crate::views::PeopleCount;
use crate::visibility::Viewer;

fn need(urgency: Urgency, people: u32) -> NeedRaised {
    NeedRaised {
        category: NeedCategory::Housing,
        subcategory: None,
        quantity: people,
        unit: Unit::Beds,
        people: Some(people),
        urgency,
        needed_by: None,
        addressed_to: None,
        language: None,
        note: None,
    }
}

fn issue(to: &str, due_minute: i64) -> IssueRaised {
    IssueRaised {
        addressed_to: org(to),
        addressed_function: None,
        category: IssueCategory::Coordination,
        severity: Severity::Moderate,
        summary: text("who runs the night shift?"),
        due_by: Some(t(due_minute)),
        refs: BTreeSet::new(),
    }
}

fn site(log: &mut Log, emitter: &str, id: &str, beds: u32) {
    let registered = SiteRegistered {
        name: label(id),
        site_kind: SiteKind::Evacuation,
        services: BTreeSet::new(),
        accessible: true,
    };
    log.event(emitter, Site, id, registered).send();
    log.event(
        emitter,
        Site,
        id,
        CapacityDeclared {
            beds,
            night_only_beds: None,
        },
    )
    .send();
}

fn occupancy(occupied: u32) -> OccupancyReported {
    OccupancyReported {
        occupied,
        reserved: 0,
        capacity: None,
    }
}

fn arrived(period_to: i64, this_period: u32, to_date: u32) -> ArrivalsReported {
    ArrivalsReported {
        period_from: t(period_to - 60),
        period_to: t(period_to),
        counts: PeopleCounts {
            arrivals_this_period: Some(this_period),
            arrivals_to_date: Some(to_date),
            ..Default::default()
        },
        estimated: false,
    }
}

fn declared(areas: &[&str]) -> IncidentDeclared {
    IncidentDeclared {
        title: label("reception"),
        incident_type: IncidentType::RefugeeReception,
        areas: areas.iter().map(|a| area(a)).collect(),
        lead_org: org("kommun"),
        started_at: t(0),
        description: None,
    }
}

fn sitrep(number: u32, period_to: i64) -> SituationReported {
    SituationReported {
        number,
        version: ReportVersion::Update,
        period_from: t(period_to - 60),
        period_to: t(period_to),
        summary: text("steady"),
        consequences: None,
        actions_taken: None,
        needs: None,
        outlook: None,
        severity: None,
        confidence: None,
        counts: PeopleCounts::default(),
        next_report_at: None,
    }
}

fn seen(models: &ReadModels, viewer: &str, now: i64) -> Picture {
    picture(models, &actual(), &self::viewer(viewer), t(now))
}

/// A small reception: two sites, arrivals from two series, needs, issues, reports, an alert.
fn reception() -> Log {
    let mut log = Log::new();
    log.join(&["kommun", "migrationsverket", "region", "kyrkan"]);
    log.event("kommun", Incident, "reception", declared(&["1280"]))
        .send();
    site(&mut log, "kommun", "hall", 100);
    site(&mut log, "kommun", "school", 40);
    log.event("kommun", Site, "hall", occupancy(70)).send();
    log.event("kommun", Site, "school", occupancy(10)).send();
    log.event("migrationsverket", Arrivals, "mv", arrived(900, 50, 50))
        .send();
    log.event("migrationsverket", Arrivals, "mv", arrived(1000, 30, 80))
        .send();
    log.event("kommun", Arrivals, "kommun", arrived(1000, 5, 12))
        .send();
    log.event("kommun", Need, "n1", need(Urgency::Critical, 8))
        .send();
    log.event("kommun", Need, "n2", need(Urgency::High, 2))
        .send();
    log.event("kommun", Need, "n3", need(Urgency::High, 1))
        .send();
    log.event("kyrkan", Issue, "i1", issue("kommun", 30)).send();
    log.event("kommun", Issue, "i2", issue("region", 500))
        .send();
    log.event("kommun", Report, "kommun-lage", sitrep(1, 60))
        .send();
    log.event("region", Report, "region-lage", sitrep(4, 90))
        .send();
    let alert = AlertIssued {
        message_type: AlertMessageType::Alert,
        scope: AlertScope::Restricted,
        urgency: AlertUrgency::Expected,
        severity: AlertSeverity::Moderate,
        certainty: AlertCertainty::Likely,
        headline: label("heat"),
        instruction: None,
        areas: BTreeSet::from([area("1280")]),
        expires_at: None,
    };
    log.event("region", Alert, "heat", alert).send();
    log
}

#[test]
fn the_picture_sums_every_model_for_the_viewer() {
    let log = reception();
    let models = log.fold();
    let shown = seen(&models, "kyrkan", 100);
    assert_eq!(shown.title.as_deref(), Some("reception"));
    assert_eq!(shown.arrivals.to_date, PeopleCount::Count(92));
    assert_eq!(shown.arrivals.latest_day.as_deref(), Some("2026-03-02"));
    assert_eq!(shown.arrivals.latest_day_arrivals, PeopleCount::Count(35));
    assert_eq!(
        (shown.beds.capacity, shown.beds.occupied, shown.beds.free),
        (140, 80, 60)
    );
    assert_eq!(shown.needs.open, 3);
    assert_eq!(
        shown.needs.by_urgency,
        BTreeMap::from([(Urgency::Critical, 1), (Urgency::High, 2)])
    );
    assert_eq!(shown.needs.people, PeopleCount::Count(11));
    assert_eq!((shown.issues.open, shown.issues.overdue), (2, 1));
    assert_eq!(
        shown.issues.by_org.get(&org("kommun")).map(|o| o.overdue),
        Some(1)
    );
    let reports: Vec<(&str, u32)> = shown
        .situation_reports
        .iter()
        .map(|r| (r.reported_by.as_str(), r.number))
        .collect();
    assert_eq!(reports, [("region", 4), ("kommun", 1)]);
    assert_eq!(shown.active_alerts, 1);
    assert_eq!(shown.last_seq, log.last_seq());
}

#[test]
fn events_addressed_to_one_organisation_count_only_in_its_picture() {
    let mut log = reception();
    log.event("region", Need, "secret", need(Urgency::Critical, 3))
        .to(&["kommun"])
        .send();
    log.event("region", Issue, "private", issue("kommun", 10))
        .to(&["kommun"])
        .send();
    let models = log.fold();
    let insider = seen(&models, "kommun", 100);
    let outsider = seen(&models, "kyrkan", 100);
    assert_eq!((insider.needs.open, outsider.needs.open), (4, 3));
    assert_eq!(insider.needs.by_urgency.get(&Urgency::Critical), Some(&2));
    assert_eq!(outsider.needs.by_urgency.get(&Urgency::Critical), Some(&1));
    assert_eq!((insider.issues.open, outsider.issues.open), (3, 2));
    assert_eq!((insider.issues.overdue, outsider.issues.overdue), (2, 1));
    assert_eq!(insider.last_seq, log.last_seq());
    assert!(
        outsider.last_seq < log.last_seq() - 1,
        "restricted events never show in another's last_seq"
    );
}

#[test]
fn occupancy_reported_in_a_restricted_slice_replaces_not_adds() {
    let mut log = reception();
    // The operator tells the region a fresher figure for the hall than the network saw.
    log.event("kommun", Site, "hall", occupancy(95))
        .to(&["region"])
        .send();
    let models = log.fold();
    assert_eq!(seen(&models, "region", 100).beds.occupied, 105);
    assert_eq!(seen(&models, "kyrkan", 100).beds.occupied, 80);
    // A later network report is the latest for everyone again.
    log.event("kommun", Site, "hall", occupancy(60)).send();
    let models = log.fold();
    assert_eq!(seen(&models, "region", 100).beds.occupied, 70);
    assert_eq!(seen(&models, "kyrkan", 100).beds.occupied, 70);
}

#[test]
fn exercise_events_never_change_the_actual_picture() {
    let log = reception();
    let before = seen(&log.fold(), "kommun", 100);
    let mut log = reception();
    log.join_in(INCIDENT, Status::Exercise, &["kommun"]);
    log.event("kommun", Need, "drill", need(Urgency::Critical, 50))
        .status(Status::Exercise)
        .send();
    log.event("kommun", Arrivals, "mv", arrived(1100, 500, 580))
        .status(Status::Exercise)
        .send();
    log.event("kommun", Site, "hall", occupancy(100))
        .status(Status::Exercise)
        .send();
    let models = log.fold();
    assert_eq!(seen(&models, "kommun", 100), before);
    let drill = picture(&models, &scope(Status::Exercise), &viewer("kommun"), t(100));
    assert_eq!(drill.needs.open, 1);
    assert_eq!(drill.arrivals.to_date, PeopleCount::Count(580));
}

#[test]
fn a_share_viewer_sees_small_counts_of_people_suppressed() {
    let mut log = Log::new();
    log.join(&["kommun"]);
    log.event("kommun", Arrivals, "a", arrived(60, 3, 3)).send();
    log.event("kommun", Need, "n1", need(Urgency::High, 2))
        .send();
    log.event("kommun", Need, "secret", need(Urgency::High, 9))
        .to(&["kommun"])
        .send();
    let models = log.fold();
    let wall = picture(&models, &actual(), &Viewer::Share, t(100));
    assert_eq!(wall.arrivals.to_date, PeopleCount::Suppressed { below: 5 });
    assert_eq!(
        wall.arrivals.latest_day_arrivals,
        PeopleCount::Suppressed { below: 5 }
    );
    assert_eq!(wall.needs.people, PeopleCount::Suppressed { below: 5 });
    assert_eq!(
        wall.needs.open, 1,
        "a share viewer sees the network slice only"
    );
    let member = seen(&models, "kommun", 100);
    assert_eq!(member.arrivals.to_date, PeopleCount::Count(3));
    assert_eq!(member.needs.people, PeopleCount::Count(11));
}

#[test]
fn the_area_picture_rolls_up_every_incident_in_the_area_the_viewer_may_see() {
    let mut log = Log::new();
    // Incident one declares 1280 and 1281; incident two only has events in 1281; incident
    // three is elsewhere.
    log.join(&["kommun", "lansstyrelsen"]);
    log.event("kommun", Incident, "one", declared(&["1280", "1281"]))
        .send();
    log.event("kommun", Arrivals, "a", arrived(60, 10, 10))
        .send();
    for (incident, code) in [("two", "1281"), ("three", "0180")] {
        log.join_in(incident, Status::Actual, &["grannkommun", "lansstyrelsen"]);
        log.event("grannkommun", Arrivals, "a", arrived(1000, 7, 7))
            .incident(incident)
            .area(code)
            .send();
        log.event("grannkommun", Need, "n", need(Urgency::Critical, 4))
            .incident(incident)
            .area(code)
            .send();
    }
    let models = log.fold();
    let region = picture_by_area(
        &models,
        "1281",
        Status::Actual,
        &viewer("lansstyrelsen"),
        t(100),
    );
    let incidents: Vec<&str> = region
        .incidents
        .iter()
        .map(|p| p.scope.incident.as_str())
        .collect();
    assert_eq!(incidents, [INCIDENT, "two"]);
    assert_eq!(region.totals.incidents, 2);
    assert_eq!(region.totals.arrivals_to_date, PeopleCount::Count(17));
    assert_eq!(region.totals.latest_day.as_deref(), Some("2026-03-02"));
    assert_eq!(region.totals.latest_day_arrivals, PeopleCount::Count(7));
    assert_eq!(
        region.totals.open_needs_by_urgency.get(&Urgency::Critical),
        Some(&1)
    );
    // A municipality that is a member of incident one only sees incident one.
    let local = picture_by_area(&models, "1281", Status::Actual, &viewer("kommun"), t(100));
    assert_eq!(local.incidents.len(), 1);
    assert_eq!(local.totals.arrivals_to_date, PeopleCount::Count(10));
    // Nothing in the exercise picture.
    let drill = picture_by_area(
        &models,
        "1281",
        Status::Exercise,
        &viewer("lansstyrelsen"),
        t(100),
    );
    assert!(drill.incidents.is_empty());
}

mod generated;
