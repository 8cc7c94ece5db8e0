//! Reports: given events, then the state a viewer sees.

use std::collections::{BTreeMap, BTreeSet};

use proto_events::AggregateType::{Alert, Arrivals, Hospital, InformationRequest, Report, Service};
use proto_events::payload::{
    AlertIssued, ArrivalsReported, HospitalStatusReported, InformationProvided,
    InformationRequested, PeopleCounts, ServiceCapacityReported, SituationReported,
};
use proto_events::vocab::{
    AlertCertainty, AlertMessageType, AlertScope, AlertSeverity, AlertUrgency, BedType,
    EmergencyDepartmentStatus, FacilityStatus, ReportVersion, ServiceKind,
};

use crate::models::testkit::*;
use crate::views::PeopleCount;
use crate::views::reports::{
    ArrivalsView, alerts, arrivals, arrivals_series, arrivals_totals, hospitals,
    information_requests, latest_situation_reports, services, situation_reports,
    situation_reports_by_org,
};
use crate::visibility::Viewer;

fn sitrep(number: u32, period_to: i64, summary: &str) -> SituationReported {
    SituationReported {
        number,
        version: if number == 1 {
            ReportVersion::Initial
        } else {
            ReportVersion::Update
        },
        period_from: t(period_to - 60),
        period_to: t(period_to),
        summary: text(summary),
        consequences: None,
        actions_taken: None,
        needs: Some(text("interpreters")),
        outlook: None,
        severity: None,
        confidence: None,
        counts: PeopleCounts {
            arrivals_to_date: Some(40 * number),
            awaiting_placement: Some(3),
            ..Default::default()
        },
        next_report_at: None,
    }
}

/// Arrivals over the period ending at minute `period_to`.
fn arrived(period_to: i64, this_period: u32, to_date: u32) -> ArrivalsReported {
    ArrivalsReported {
        period_from: t(period_to - 60),
        period_to: t(period_to),
        counts: PeopleCounts {
            arrivals_this_period: Some(this_period),
            arrivals_to_date: Some(to_date),
            awaiting_placement: Some(to_date / 10),
            ..Default::default()
        },
        estimated: false,
    }
}

fn alert(message_type: AlertMessageType, expires: Option<i64>) -> AlertIssued {
    AlertIssued {
        message_type,
        scope: AlertScope::Restricted,
        urgency: AlertUrgency::Immediate,
        severity: AlertSeverity::Severe,
        certainty: AlertCertainty::Observed,
        headline: label("rising water at the reception site"),
        instruction: None,
        areas: BTreeSet::from([area("1280")]),
        expires_at: expires.map(t),
    }
}

fn service(available: u32, used: u32) -> ServiceCapacityReported {
    ServiceCapacityReported {
        service: ServiceKind::CompulsorySchool,
        available,
        used,
        language: None,
    }
}

#[test]
fn the_latest_situation_report_per_series_and_per_organisation() {
    let mut log = Log::new();
    log.join(&["kommun", "region"]);
    log.event("kommun", Report, "kommun-lage", sitrep(1, 60, "calm"))
        .send();
    log.event("kommun", Report, "kommun-lage", sitrep(2, 120, "busier"))
        .send();
    log.event(
        "region",
        Report,
        "region-lage",
        sitrep(1, 90, "hospitals fine"),
    )
    .send();
    let models = log.fold();
    let visible = visible_to(&models, "kommun");
    let viewer = viewer("kommun");
    let all = situation_reports(&models, &actual(), &visible, &viewer);
    assert_eq!(all.len(), 2);
    let kommun = &all[0];
    assert_eq!((kommun.number, kommun.summary.as_str()), (2, "busier"));
    assert_eq!(kommun.reports_in_series, 2);
    assert_eq!(kommun.counts.arrivals_to_date, Some(PeopleCount::Count(80)));
    assert_eq!(kommun.needs.as_deref(), Some("interpreters"));
    let latest = latest_situation_reports(&all, 1);
    assert_eq!(latest[0].id, "kommun-lage", "the latest period first");
    let by_org = situation_reports_by_org(&all);
    assert_eq!(by_org.get(&org("region")).map(|r| r.number), Some(1));
}

#[test]
fn a_corrected_report_keeps_its_place_and_a_retracted_one_falls_back() {
    let mut log = Log::new();
    log.join(&["kommun"]);
    let first = log
        .event("kommun", Report, "lage", sitrep(1, 60, "calm"))
        .send();
    let second = log
        .event("kommun", Report, "lage", sitrep(2, 120, "busier"))
        .send();
    log.correct(first, sitrep(1, 60, "calm, corrected"));
    let show = |log: &Log| {
        let models = log.fold();
        situation_reports(
            &models,
            &actual(),
            &visible_to(&models, "kommun"),
            &viewer("kommun"),
        )
    };
    let now = show(&log);
    assert_eq!(
        now[0].summary, "busier",
        "correcting report 1 does not override report 2"
    );
    log.correct(second, sitrep(2, 120, "busier, corrected"));
    assert_eq!(show(&log)[0].summary, "busier, corrected");
    log.retract(second);
    let now = show(&log);
    assert_eq!(
        (now[0].number, now[0].summary.as_str()),
        (1, "calm, corrected")
    );
    assert_eq!(now[0].reports_in_series, 1);
    assert_eq!(now[0].last_seq, log.last_seq());
}

#[test]
fn arrivals_keep_the_latest_to_date_figures_and_add_up_per_day() {
    let mut log = Log::new();
    log.join(&["migrationsverket", "polisen"]);
    // T0 is 08:00 on 1 March; minute 960 is midnight.
    let day_one = log
        .event(
            "migrationsverket",
            Arrivals,
            "mv-1280",
            arrived(900, 30, 30),
        )
        .send();
    let day_two = log
        .event(
            "migrationsverket",
            Arrivals,
            "mv-1280",
            arrived(1000, 20, 50),
        )
        .send();
    log.event("polisen", Arrivals, "pol-1280", arrived(1010, 10, 10))
        .send();
    let totals_of = |log: &Log| {
        let models = log.fold();
        arrivals_totals(&arrivals_series(
            &models,
            &actual(),
            &visible_to(&models, "polisen"),
        ))
    };
    let totals = totals_of(&log);
    assert_eq!(
        (totals.series, totals.to_date, totals.this_period),
        (2, 60, 60)
    );
    assert_eq!(
        totals.per_day,
        BTreeMap::from([
            ("2026-03-01".to_string(), 30),
            ("2026-03-02".to_string(), 30)
        ])
    );
    assert_eq!(totals.latest_day, Some(("2026-03-02".to_string(), 30)));
    assert_eq!(totals.awaiting_placement, 6);

    log.correct(day_two, arrived(1000, 25, 55));
    let totals = totals_of(&log);
    assert_eq!((totals.to_date, totals.this_period), (65, 65));
    assert_eq!(totals.latest_day, Some(("2026-03-02".to_string(), 35)));
    log.retract(day_one);
    let totals = totals_of(&log);
    assert_eq!(
        (totals.to_date, totals.this_period),
        (65, 35),
        "the later to-date figure stands"
    );
    assert_eq!(totals.per_day.len(), 1, "a day with nothing left drops out");
}

#[test]
fn a_share_viewer_sees_small_counts_of_people_suppressed() {
    let mut log = Log::new();
    log.join(&["migrationsverket"]);
    log.event("migrationsverket", Arrivals, "mv", arrived(60, 3, 30))
        .send();
    let models = log.fold();
    let share = Viewer::Share;
    let visible = crate::views::VisibleSlices::new(&models, &actual(), &share);
    let shown: Vec<ArrivalsView> = arrivals(&models, &actual(), &visible, &share);
    assert_eq!(
        shown[0].arrivals_this_period,
        PeopleCount::Suppressed { below: 5 }
    );
    assert_eq!(shown[0].arrivals_to_date, Some(PeopleCount::Count(30)));
    let member = viewer("migrationsverket");
    let shown = arrivals(
        &models,
        &actual(),
        &visible_to(&models, "migrationsverket"),
        &member,
    );
    assert_eq!(shown[0].arrivals_this_period, PeopleCount::Count(3));
}

#[test]
fn services_and_hospitals_show_their_latest_report() {
    let mut log = Log::new();
    log.join(&["skolan", "region"]);
    let first = log
        .event("skolan", Service, "school-places", service(40, 10))
        .send();
    log.event("skolan", Service, "school-places", service(40, 35))
        .send();
    log.correct(first, service(45, 10));
    let beds = BTreeMap::from([(BedType::General, 12), (BedType::IntensiveCare, 1)]);
    let status = HospitalStatusReported {
        facility_status: FacilityStatus::Strained,
        emergency_department: EmergencyDepartmentStatus::Open,
        beds_available: beds.clone(),
    };
    log.event("region", Hospital, "sus", status).send();
    let models = log.fold();
    let visible = visible_to(&models, "region");
    let school = &services(&models, &actual(), &visible)[0];
    assert_eq!(
        (school.available, school.used, school.free),
        (40, 35, 5),
        "the later report stands"
    );
    let hospital = &hospitals(&models, &actual(), &visible)[0];
    assert_eq!(hospital.facility_status, FacilityStatus::Strained);
    assert_eq!(hospital.beds_available, beds);
}

#[test]
fn an_alert_is_active_until_it_expires_or_a_cancel_the_viewer_may_see() {
    let mut log = Log::new();
    log.join(&["lansstyrelsen", "kommun", "kyrkan"]);
    log.event(
        "lansstyrelsen",
        Alert,
        "flood",
        alert(AlertMessageType::Alert, Some(300)),
    )
    .send();
    log.event(
        "lansstyrelsen",
        Alert,
        "storm",
        alert(AlertMessageType::Alert, None),
    )
    .send();
    let models = log.fold();
    let visible = visible_to(&models, "kommun");
    let active = |now| {
        alerts(&models, &actual(), &visible, t(now))
            .into_iter()
            .filter(|a| a.active)
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(active(299), ["flood", "storm"]);
    assert_eq!(active(300), ["storm"], "expired at its expiry time");
    // The cancel reaches only the municipality.
    log.event(
        "lansstyrelsen",
        Alert,
        "storm",
        alert(AlertMessageType::Cancel, None),
    )
    .to(&["kommun"])
    .send();
    let models = log.fold();
    let for_org = |id| alerts(&models, &actual(), &visible_to(&models, id), t(10));
    assert!(!for_org("kommun")[1].active);
    assert!(for_org("kommun")[1].cancelled);
    assert!(for_org("kyrkan")[1].active);
    assert_eq!(
        for_org("kommun")[1].headline,
        "rising water at the reception site"
    );
}

#[test]
fn information_requests_are_answered_or_overdue() {
    let mut log = Log::new();
    log.join(&["kommun", "migrationsverket"]);
    let request = InformationRequested {
        addressed_to: org("migrationsverket"),
        questions: vec![text("how many arrivals tomorrow?")],
        answer_by: Some(t(60)),
    };
    log.event("kommun", InformationRequest, "q1", request)
        .at(0)
        .send();
    let answer = log
        .event(
            "migrationsverket",
            InformationRequest,
            "q1",
            InformationProvided {
                answers: vec![text("about 40")],
            },
        )
        .at(30)
        .send();
    let show = |log: &Log| {
        let models = log.fold();
        information_requests(&models, &actual(), &visible_to(&models, "kommun"), t(90))
    };
    let answered = &show(&log)[0];
    assert!(answered.answered);
    assert!(!answered.overdue);
    assert_eq!(answered.time_to_answer_seconds, Some(1800));
    assert_eq!(
        answered.answered_by,
        BTreeSet::from([org("migrationsverket")])
    );
    log.retract(answer);
    let open = &show(&log)[0];
    assert!(!open.answered);
    assert!(open.overdue);
    assert_eq!(open.age_seconds, 90 * 60);
}
