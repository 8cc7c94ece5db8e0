//! Issues between actors: given events, then the state a viewer sees.

use std::collections::BTreeSet;

use proto_events::AggregateType::Issue;
use proto_events::payload::{
    IssueAcknowledged, IssueAssigned, IssueEscalated, IssueRaised, IssueReopened, IssueResolved,
};
use proto_events::vocab::{IssueCategory, Severity};

use crate::models::testkit::*;
use crate::views::issues::{
    IssueFilter, IssueStatus, IssueView, issue, issue_stats, issues, issues_by_org,
};

fn raised(to: &str, severity: Severity, due_minute: Option<i64>) -> IssueRaised {
    IssueRaised {
        addressed_to: org(to),
        addressed_function: Some(label("social services")),
        category: IssueCategory::Capacity,
        severity,
        summary: text("no interpreters at the site in the evening"),
        due_by: due_minute.map(t),
        refs: BTreeSet::new(),
    }
}

fn escalated(level: u8) -> IssueEscalated {
    IssueEscalated {
        level,
        to_org: Some(org("lansstyrelsen")),
        to_forum: None,
        reason: text("no answer"),
        due_by: None,
    }
}

fn resolved() -> IssueResolved {
    IssueResolved {
        resolution: text("evening interpreters booked"),
        refs: BTreeSet::new(),
    }
}

fn seen(log: &Log, viewer: &str, id: &str, now: i64) -> Option<IssueView> {
    let models = log.fold();
    issue(&models, &actual(), id, &visible_to(&models, viewer), t(now))
}

#[test]
fn an_issue_is_acknowledged_assigned_escalated_and_resolved() {
    let mut log = Log::new();
    log.join(&["polisen", "kommun", "lansstyrelsen"]);
    log.event(
        "polisen",
        Issue,
        "i1",
        raised("kommun", Severity::Severe, Some(120)),
    )
    .at(0)
    .send();
    let open = seen(&log, "kommun", "i1", 10).expect("visible");
    assert_eq!(open.status, IssueStatus::Open);
    assert_eq!(open.responsible, Some(org("kommun")));
    assert_eq!(open.age_seconds, Some(600));

    log.event("kommun", Issue, "i1", IssueAcknowledged { note: None })
        .at(30)
        .send();
    let acknowledged = seen(&log, "polisen", "i1", 31).expect("visible");
    assert_eq!(acknowledged.status, IssueStatus::Acknowledged);
    assert_eq!(acknowledged.time_to_acknowledge_seconds, Some(30 * 60));

    let assignment = IssueAssigned {
        owner_org: org("kommun"),
        owner_function: label("interpretation service"),
        due_by: Some(t(300)),
    };
    log.event("kommun", Issue, "i1", assignment).at(40).send();
    let assigned = seen(&log, "polisen", "i1", 200).expect("visible");
    assert_eq!(assigned.status, IssueStatus::Assigned);
    assert_eq!(
        assigned.owner_function.as_deref(),
        Some("interpretation service")
    );
    assert_eq!(
        assigned.due_by,
        Some(t(300)),
        "the assignment moved the due time"
    );
    assert!(!assigned.overdue);

    log.event("polisen", Issue, "i1", escalated(2))
        .at(60)
        .send();
    log.event("polisen", Issue, "i1", escalated(1))
        .at(61)
        .send();
    let up = seen(&log, "kommun", "i1", 400).expect("visible");
    assert_eq!(up.status, IssueStatus::Escalated);
    assert_eq!((up.escalation_level, up.highest_escalation), (1, 2));
    assert_eq!(up.escalated_to_org, Some(org("lansstyrelsen")));
    assert!(up.overdue);

    log.event("kommun", Issue, "i1", resolved()).at(90).send();
    let done = seen(&log, "kommun", "i1", 400).expect("visible");
    assert_eq!(done.status, IssueStatus::Resolved);
    assert_eq!(done.time_to_resolve_seconds, Some(90 * 60));
    assert_eq!(
        done.resolution.as_deref(),
        Some("evening interpreters booked")
    );
    assert!(!done.overdue);
    assert_eq!(done.last_seq, log.last_seq());
}

#[test]
fn an_issue_is_overdue_at_query_time_and_a_reopened_issue_is_open_again() {
    let mut log = Log::new();
    log.join(&["polisen", "kommun"]);
    log.event(
        "polisen",
        Issue,
        "i1",
        raised("kommun", Severity::Moderate, Some(60)),
    )
    .send();
    let models = log.fold();
    let visible = visible_to(&models, "polisen");
    assert!(
        !issue(&models, &actual(), "i1", &visible, t(59))
            .expect("visible")
            .overdue
    );
    assert!(
        issue(&models, &actual(), "i1", &visible, t(61))
            .expect("visible")
            .overdue
    );
    log.event("kommun", Issue, "i1", resolved()).send();
    log.event(
        "polisen",
        Issue,
        "i1",
        IssueReopened {
            reason: text("still no interpreter"),
        },
    )
    .send();
    let reopened = seen(&log, "polisen", "i1", 61).expect("visible");
    assert!(reopened.is_open());
    assert!(reopened.overdue);
    assert_eq!(reopened.reopened, 1);
    assert_eq!(reopened.resolved_at, None);
}

#[test]
fn corrections_and_retractions_replace_gauges_and_remove_marks() {
    let mut log = Log::new();
    log.join(&["polisen", "kommun"]);
    let raise = log
        .event(
            "polisen",
            Issue,
            "i1",
            raised("kommun", Severity::Minor, None),
        )
        .send();
    let ack = log
        .event("kommun", Issue, "i1", IssueAcknowledged { note: None })
        .send();
    let escalation = log.event("polisen", Issue, "i1", escalated(3)).send();
    log.event("kommun", Issue, "i1", resolved()).send();
    let reopen = log
        .event(
            "polisen",
            Issue,
            "i1",
            IssueReopened {
                reason: text("not solved"),
            },
        )
        .send();
    log.correct(raise, raised("kommun", Severity::Extreme, Some(500)));
    log.correct(escalation, escalated(1));
    log.retract(ack);
    let view = seen(&log, "kommun", "i1", 100).expect("visible");
    assert_eq!(view.severity, Some(Severity::Extreme));
    assert_eq!(view.due_by, Some(t(500)));
    assert_eq!(
        view.highest_escalation, 1,
        "the corrected level replaced the old one"
    );
    assert_eq!(view.acknowledged_at, None);
    assert_eq!(view.reopened, 1);
    assert!(view.is_open());
    log.retract(reopen);
    let view = seen(&log, "kommun", "i1", 100).expect("visible");
    assert_eq!(view.reopened, 0);
    assert_eq!(view.status, IssueStatus::Resolved);
}

#[test]
fn an_issue_addressed_to_one_organisation_is_invisible_to_others() {
    let mut log = Log::new();
    log.join(&["polisen", "kommun", "kyrkan"]);
    log.event(
        "polisen",
        Issue,
        "private",
        raised("kommun", Severity::Severe, Some(5)),
    )
    .to(&["kommun"])
    .send();
    log.event(
        "polisen",
        Issue,
        "shared",
        raised("kommun", Severity::Minor, None),
    )
    .send();
    let models = log.fold();
    let for_org = |viewer| {
        issues(
            &models,
            &actual(),
            &visible_to(&models, viewer),
            t(10),
            &IssueFilter::default(),
        )
    };
    assert_eq!(for_org("kommun").len(), 2);
    assert_eq!(for_org("polisen").len(), 2);
    let kyrkan = for_org("kyrkan");
    assert_eq!(
        kyrkan.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["shared"]
    );
    let per_org = issues_by_org(&kyrkan);
    assert_eq!(
        per_org.get(&org("kommun")).map(|o| (o.open, o.overdue)),
        Some((1, 0))
    );
    let per_org = issues_by_org(&for_org("kommun"));
    assert_eq!(
        per_org.get(&org("kommun")).map(|o| (o.open, o.overdue)),
        Some((2, 1))
    );
}

#[test]
fn open_and_overdue_issues_are_counted_per_responsible_organisation() {
    let mut log = Log::new();
    log.join(&["polisen", "kommun", "region", "lansstyrelsen"]);
    log.event(
        "polisen",
        Issue,
        "a",
        raised("kommun", Severity::Severe, Some(20)),
    )
    .at(0)
    .send();
    log.event(
        "polisen",
        Issue,
        "b",
        raised("kommun", Severity::Minor, None),
    )
    .at(10)
    .send();
    log.event(
        "kommun",
        Issue,
        "c",
        raised("region", Severity::Moderate, Some(500)),
    )
    .at(0)
    .send();
    let handover = IssueAssigned {
        owner_org: org("lansstyrelsen"),
        owner_function: label("regional coordination"),
        due_by: None,
    };
    log.event("region", Issue, "c", handover).at(5).send();
    log.event(
        "region",
        Issue,
        "d",
        raised("kommun", Severity::Minor, None),
    )
    .at(0)
    .send();
    log.event("kommun", Issue, "d", resolved()).at(30).send();
    let models = log.fold();
    let all = issues(
        &models,
        &actual(),
        &visible_to(&models, "kommun"),
        t(60),
        &IssueFilter::default(),
    );
    let per_org = issues_by_org(&all);
    let kommun = per_org.get(&org("kommun")).copied().unwrap_or_default();
    assert_eq!(
        (kommun.open, kommun.overdue, kommun.unacknowledged),
        (2, 1, 2)
    );
    assert_eq!(kommun.oldest_age_seconds, Some(3600));
    assert_eq!(per_org.get(&org("lansstyrelsen")).map(|o| o.open), Some(1));
    assert_eq!(
        per_org.get(&org("region")),
        None,
        "the owner answers for it now"
    );
    let stats = issue_stats(&all);
    assert_eq!((stats.total, stats.open, stats.overdue), (4, 3, 1));
    assert_eq!(stats.time_to_resolve.max_seconds, Some(1800));
    let overdue = IssueFilter {
        overdue_only: true,
        ..Default::default()
    };
    let picked = issues(
        &models,
        &actual(),
        &visible_to(&models, "kommun"),
        t(60),
        &overdue,
    );
    assert_eq!(
        picked.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
}
