//! The network: given events, then membership and the coordination views.

use std::collections::BTreeSet;

use proto_events::AggregateType::{
    Action, Decision, Incident, Meeting, Need, Org, Presence, Responsibility,
};
use proto_events::Status;
use proto_events::payload::{
    ActionAssigned, ActionCompleted, DecisionRecorded, IncidentDeclared, IncidentPhaseChanged,
    MeetingHeld, MeetingScheduled, NeedRaised, OperationalPresenceDeclared, OrganisationLeft,
    ResponsibilityAssigned,
};
use proto_events::vocab::{
    IncidentPhase, IncidentType, NeedCategory, PresenceStatus, Sector, Unit, Urgency,
};

use crate::models::testkit::*;
use crate::table::Scope;
use crate::views::needs::{NeedFilter, needs};
use crate::views::network::{
    actions, decisions, incident, meetings, organisations, presence, responsibilities,
    who_does_what_where,
};

fn declared() -> IncidentDeclared {
    IncidentDeclared {
        title: label("spring flood"),
        incident_type: IncidentType::Flooding,
        areas: BTreeSet::from([area("1280")]),
        lead_org: org("kommun"),
        started_at: t(0),
        description: None,
    }
}

fn need() -> NeedRaised {
    NeedRaised {
        category: NeedCategory::Food,
        subcategory: None,
        quantity: 10,
        unit: Unit::Meals,
        people: None,
        urgency: Urgency::High,
        needed_by: None,
        addressed_to: None,
        language: None,
        note: None,
    }
}

fn left() -> OrganisationLeft {
    OrganisationLeft { reason: None }
}

/// How many needs `viewer` sees in the actual picture.
fn needs_seen(log: &Log, viewer: &str) -> usize {
    let models = log.fold();
    needs(
        &models,
        &actual(),
        &visible_to(&models, viewer),
        t(100),
        &NeedFilter::default(),
    )
    .len()
}

#[test]
fn only_members_see_network_events_and_leaving_ends_it() {
    let mut log = Log::new();
    log.join(&["kommun"]);
    log.event("kommun", Incident, "flood", declared()).send();
    log.event("kommun", Need, "n1", need()).send();
    assert_eq!(needs_seen(&log, "kommun"), 1);
    assert_eq!(
        needs_seen(&log, "kyrkan"),
        0,
        "not joined: sees nothing of the network"
    );
    // Joining for someone else does not enrol them.
    log.event("kommun", Org, "kyrkan", joined("kyrkan")).send();
    assert_eq!(needs_seen(&log, "kyrkan"), 0);
    // Joining an exercise does not enrol into the actual picture.
    log.join_in(INCIDENT, Status::Exercise, &["kyrkan"]);
    assert_eq!(needs_seen(&log, "kyrkan"), 0);
    log.join(&["kyrkan", "polisen"]);
    assert_eq!(needs_seen(&log, "kyrkan"), 1);
    // Another member cannot expel it; the convenor can, and it can leave itself.
    log.event("polisen", Org, "kyrkan", left()).send();
    assert_eq!(needs_seen(&log, "kyrkan"), 1);
    log.event("kommun", Org, "kyrkan", left()).send();
    assert_eq!(needs_seen(&log, "kyrkan"), 0, "removed by the convenor");
    log.event("polisen", Org, "polisen", left()).send();
    assert_eq!(needs_seen(&log, "polisen"), 0, "left by itself");
    let models = log.fold();
    assert_eq!(models.network.members(&actual()), [org("kommun")]);
    let exercise = Scope {
        status: Status::Exercise,
        ..actual()
    };
    assert!(models.network.is_member(&exercise, &org("kyrkan")));
}

#[test]
fn a_retracted_join_ends_membership_and_a_corrected_join_renames() {
    let mut log = Log::new();
    log.join(&["kommun"]);
    let join = log.event("kyrkan", Org, "kyrkan", joined("kyrkan")).send();
    log.event("kommun", Need, "n1", need()).send();
    log.correct(
        join,
        proto_events::payload::OrganisationJoined {
            name: label("Svenska kyrkan"),
            ..joined("kyrkan")
        },
    );
    let models = log.fold();
    let orgs = organisations(&models, &actual(), &visible_to(&models, "kommun"));
    let kyrkan = orgs.iter().find(|o| o.id == "kyrkan").expect("listed");
    assert_eq!(kyrkan.name.as_deref(), Some("Svenska kyrkan"));
    assert!(kyrkan.member, "the correction keeps the membership");
    assert_eq!(needs_seen(&log, "kyrkan"), 1);
    log.retract(join);
    assert_eq!(needs_seen(&log, "kyrkan"), 0);
    let models = log.fold();
    let orgs = organisations(&models, &actual(), &visible_to(&models, "kommun"));
    assert!(
        !orgs
            .iter()
            .find(|o| o.id == "kyrkan")
            .expect("listed")
            .member
    );
}

#[test]
fn the_incident_responsibilities_and_who_does_what_where() {
    let mut log = Log::new();
    log.join(&["kommun", "kyrkan", "region"]);
    log.event("kommun", Incident, "flood", declared()).send();
    let phase = log
        .event(
            "kommun",
            Incident,
            "flood",
            IncidentPhaseChanged {
                phase: IncidentPhase::Response,
                reason: None,
            },
        )
        .send();
    let housing = ResponsibilityAssigned {
        function: label("housing coordination"),
        lead_org: org("kommun"),
        supporting_orgs: BTreeSet::from([org("kyrkan")]),
    };
    log.event("kommun", Responsibility, "housing", housing)
        .send();
    for (who, id, sector, status, area) in [
        (
            "kyrkan",
            "p1",
            Sector::Psychosocial,
            PresenceStatus::Ongoing,
            "1280",
        ),
        (
            "region",
            "p2",
            Sector::Health,
            PresenceStatus::Ongoing,
            "1280",
        ),
        (
            "region",
            "p3",
            Sector::Health,
            PresenceStatus::Completed,
            "1281",
        ),
    ] {
        let declared = OperationalPresenceDeclared {
            sector,
            activity: label("support"),
            presence_status: status,
            starts_at: None,
            ends_at: None,
        };
        log.event(who, Presence, id, declared).area(area).send();
    }
    let models = log.fold();
    let visible = visible_to(&models, "region");
    let flood = incident(&models, &actual(), &visible).expect("declared");
    assert_eq!(flood.title.as_deref(), Some("spring flood"));
    assert_eq!(flood.phase, Some(IncidentPhase::Response));
    assert_eq!(flood.areas, BTreeSet::from(["1280".to_string()]));
    let lead = &responsibilities(&models, &actual(), &visible)[0];
    assert_eq!(lead.lead_org, Some(org("kommun")));
    assert!(lead.supporting_orgs.contains(&org("kyrkan")));
    let map = who_does_what_where(&presence(&models, &actual(), &visible));
    assert_eq!(map.len(), 2, "the completed presence drops out");
    assert_eq!(
        map.get(&("1280".to_string(), Sector::Health)),
        Some(&BTreeSet::from([org("region")]))
    );

    log.retract(phase);
    let models = log.fold();
    let flood = incident(&models, &actual(), &visible_to(&models, "region")).expect("declared");
    assert_eq!(flood.phase, None);
    assert_eq!(flood.last_seq, log.last_seq());
}

#[test]
fn meetings_decisions_and_actions() {
    let mut log = Log::new();
    log.join(&["kommun", "kyrkan"]);
    let scheduled = MeetingScheduled {
        forum: label("coordination meeting"),
        starts_at: t(60),
        participants: BTreeSet::from([org("kommun"), org("kyrkan")]),
    };
    log.event("kommun", Meeting, "m1", scheduled).send();
    let held = MeetingHeld {
        attending: BTreeSet::from([org("kyrkan")]),
        agenda: BTreeSet::from([proto_events::AggregateRef::new(
            proto_events::AggregateType::Need,
            agg("n1"),
        )]),
        minutes_ref: None,
    };
    log.event("kommun", Meeting, "m1", held).at(65).send();
    let decision = DecisionRecorded {
        body: label("crisis management group"),
        text: text("open the sports hall"),
        rationale: None,
        based_on_seq: 3,
        refs: BTreeSet::new(),
        meeting: Some(agg("m1")),
        effective_from: None,
    };
    let decided = log.event("kommun", Decision, "d1", decision.clone()).send();
    log.correct(
        decided,
        DecisionRecorded {
            based_on_seq: 4,
            ..decision
        },
    );
    let action = ActionAssigned {
        description: text("prepare 40 beds"),
        assigned_org: org("kyrkan"),
        assigned_function: label("volunteers"),
        decision: Some(agg("d1")),
        due_by: Some(t(120)),
    };
    log.event("kommun", Action, "a1", action).at(70).send();
    let models = log.fold();
    let visible = visible_to(&models, "kyrkan");
    let meeting = &meetings(&models, &actual(), &visible)[0];
    assert!(meeting.held);
    assert_eq!(meeting.held_at, Some(t(65)));
    assert_eq!(meeting.agenda, BTreeSet::from(["need/n1".to_string()]));
    let decided = &decisions(&models, &actual(), &visible)[0];
    assert_eq!(decided.based_on_seq, Some(4));
    assert_eq!(decided.meeting.as_deref(), Some("m1"));
    let open = &actions(&models, &actual(), &visible, t(121))[0];
    assert!(open.overdue);
    assert_eq!(open.age_seconds, Some(51 * 60));
    log.event(
        "kyrkan",
        Action,
        "a1",
        ActionCompleted {
            outcome: text("beds ready"),
        },
    )
    .send();
    let models = log.fold();
    let done = &actions(&models, &actual(), &visible_to(&models, "kyrkan"), t(121))[0];
    assert!(done.completed);
    assert!(!done.overdue);
    assert_eq!(done.outcome.as_deref(), Some("beds ready"));
}
