//! Needs: given events, then the state a viewer sees.

use proto_events::AggregateType::Need;
use proto_events::payload::{
    NeedCancelled, NeedClaimReleased, NeedClaimed, NeedMet, NeedRaised, NeedUpdated,
};
use proto_events::vocab::{Fulfilment, NeedCategory, Unit, Urgency};

use crate::models::testkit::*;
use crate::views::needs::{NeedFilter, NeedStatus, NeedView, need, need_stats, needs};

fn raised(category: NeedCategory, quantity: u32, urgency: Urgency) -> NeedRaised {
    NeedRaised {
        category,
        subcategory: None,
        quantity,
        unit: Unit::Beds,
        people: Some(quantity),
        urgency,
        needed_by: None,
        addressed_to: None,
        language: None,
        note: None,
    }
}

fn claimed(expires_minute: i64) -> NeedClaimed {
    NeedClaimed {
        claim_expires_at: t(expires_minute),
        quantity: None,
        note: None,
    }
}

fn met(quantity: u32, fulfilment: Fulfilment) -> NeedMet {
    NeedMet {
        quantity,
        fulfilment,
        note: None,
    }
}

fn update_quantity(quantity: u32) -> NeedUpdated {
    NeedUpdated {
        quantity: Some(quantity),
        urgency: None,
        needed_by: None,
        reason: None,
    }
}

/// Need `id` as `viewer` sees it at minute `now`.
fn seen(log: &Log, viewer: &str, id: &str, now: i64) -> Option<NeedView> {
    let models = log.fold();
    need(&models, &actual(), id, &visible_to(&models, viewer), t(now))
}

fn all(log: &Log, viewer: &str, now: i64) -> Vec<NeedView> {
    let models = log.fold();
    needs(
        &models,
        &actual(),
        &visible_to(&models, viewer),
        t(now),
        &NeedFilter::default(),
    )
}

#[test]
fn a_need_goes_from_raised_to_claimed_to_met() {
    let mut log = Log::new();
    log.join(&["kommun", "kyrkan"]);
    log.event(
        "kommun",
        Need,
        "n1",
        raised(NeedCategory::Housing, 10, Urgency::Critical),
    )
    .at(10)
    .send();
    let open = seen(&log, "kyrkan", "n1", 20).expect("visible");
    assert_eq!(open.status, NeedStatus::Open);
    assert_eq!(open.raised_by, Some(org("kommun")));
    assert_eq!(open.age_seconds, Some(600));
    assert_eq!((open.quantity, open.remaining), (10, 10));

    log.event("kyrkan", Need, "n1", claimed(600)).at(40).send();
    let claim = seen(&log, "kommun", "n1", 50).expect("visible");
    assert_eq!(claim.status, NeedStatus::Claimed);
    assert_eq!(claim.claimed_by, Some(org("kyrkan")));
    assert_eq!(claim.time_to_claim_seconds, Some(30 * 60));
    assert_eq!(claim.last_seq, log.last_seq());

    log.event("kyrkan", Need, "n1", met(4, Fulfilment::Partly))
        .at(60)
        .send();
    let part = seen(&log, "kommun", "n1", 70).expect("visible");
    assert_eq!(part.status, NeedStatus::MetPartly);
    assert_eq!((part.met_quantity, part.remaining), (4, 6));
    assert_eq!(part.time_to_meet_seconds, None);

    log.event("kyrkan", Need, "n1", met(6, Fulfilment::Fully))
        .at(100)
        .send();
    let done = seen(&log, "kommun", "n1", 110).expect("visible");
    assert_eq!(done.status, NeedStatus::Met);
    assert_eq!((done.met_quantity, done.remaining), (10, 0));
    assert_eq!(done.time_to_meet_seconds, Some(90 * 60));
    assert_eq!(done.claimed_by, Some(org("kyrkan")));
}

#[test]
fn a_claim_expires_at_query_time() {
    let mut log = Log::new();
    log.join(&["kommun", "kyrkan"]);
    log.event(
        "kommun",
        Need,
        "n1",
        raised(NeedCategory::Food, 3, Urgency::High),
    )
    .send();
    log.event("kyrkan", Need, "n1", claimed(120)).send();
    let models = log.fold();
    let visible = visible_to(&models, "kommun");
    let before = need(&models, &actual(), "n1", &visible, t(119)).expect("visible");
    let after = need(&models, &actual(), "n1", &visible, t(121)).expect("visible");
    assert_eq!(before.status, NeedStatus::Claimed);
    assert!(!before.claim_expired);
    assert_eq!(after.status, NeedStatus::Open);
    assert!(after.claim_expired);
    assert_eq!(after.claimed_by, None);
    assert_eq!(after.expired_claim_by, Some(org("kyrkan")));
    // A need met before the claim lapsed stays met: the expiry no longer matters.
    log.event("kyrkan", Need, "n1", met(3, Fulfilment::Fully))
        .send();
    let met = seen(&log, "kommun", "n1", 500).expect("visible");
    assert_eq!(met.status, NeedStatus::Met);
    assert!(!met.claim_expired);
    assert_eq!(met.claimed_by, Some(org("kyrkan")));
}

#[test]
fn a_released_claim_opens_the_need_and_a_cancelled_need_is_closed() {
    let mut log = Log::new();
    log.join(&["kommun", "kyrkan"]);
    log.event(
        "kommun",
        Need,
        "n1",
        raised(NeedCategory::Clothing, 3, Urgency::Low),
    )
    .send();
    log.event("kyrkan", Need, "n1", claimed(600)).send();
    log.event("kyrkan", Need, "n1", NeedClaimReleased { reason: None })
        .send();
    let released = seen(&log, "kommun", "n1", 10).expect("visible");
    assert_eq!(released.status, NeedStatus::Open);
    assert!(!released.claim_expired);
    // The first claim still dates the time to claim.
    assert_eq!(released.time_to_claim_seconds, Some(60));
    log.event("kommun", Need, "n1", NeedCancelled { reason: None })
        .send();
    let cancelled = seen(&log, "kommun", "n1", 10).expect("visible");
    assert_eq!(cancelled.status, NeedStatus::Cancelled);
    assert_eq!(cancelled.remaining, 0);
}

#[test]
fn a_need_is_overdue_when_its_deadline_passes_unmet() {
    let mut log = Log::new();
    log.join(&["kommun"]);
    let mut need = raised(NeedCategory::Transport, 2, Urgency::Normal);
    need.needed_by = Some(t(60));
    log.event("kommun", Need, "n1", need).send();
    assert!(!seen(&log, "kommun", "n1", 59).expect("visible").overdue);
    assert!(seen(&log, "kommun", "n1", 61).expect("visible").overdue);
    // Moving the deadline (an update) moves the answer.
    log.event(
        "kommun",
        Need,
        "n1",
        NeedUpdated {
            needed_by: Some(t(90)),
            ..update_quantity(2)
        },
    )
    .send();
    assert!(!seen(&log, "kommun", "n1", 61).expect("visible").overdue);
    log.event("kommun", Need, "n1", met(2, Fulfilment::Partly))
        .send();
    let met = seen(&log, "kommun", "n1", 200).expect("visible");
    assert_eq!(
        met.status,
        NeedStatus::Met,
        "the quantity met reached the quantity needed"
    );
    assert!(!met.overdue);
}

#[test]
fn corrections_and_retractions_of_gauges_keep_their_position() {
    let mut log = Log::new();
    log.join(&["kommun"]);
    let raise = log
        .event(
            "kommun",
            Need,
            "n1",
            raised(NeedCategory::Food, 10, Urgency::Normal),
        )
        .send();
    let update = log.event("kommun", Need, "n1", update_quantity(8)).send();
    log.correct(raise, raised(NeedCategory::Clothing, 12, Urgency::High));
    let corrected = seen(&log, "kommun", "n1", 10).expect("visible");
    // The later update still rules the quantity; the correction replaced the rest.
    assert_eq!(corrected.quantity, 8);
    assert_eq!(corrected.category, Some(NeedCategory::Clothing));
    assert_eq!(corrected.urgency, Some(Urgency::High));
    assert_eq!(corrected.last_seq, log.last_seq());
    log.retract(update);
    let retracted = seen(&log, "kommun", "n1", 10).expect("visible");
    assert_eq!(retracted.quantity, 12);
    assert_eq!(
        retracted.last_seq,
        log.last_seq(),
        "a retraction is the aggregate's latest event"
    );
    // Retracting the raise leaves nothing to show.
    log.retract(raise);
    assert!(seen(&log, "kommun", "n1", 10).is_none());
}

#[test]
fn corrections_and_retractions_of_counters_subtract_what_was_added() {
    let mut log = Log::new();
    log.join(&["kommun", "kyrkan"]);
    log.event(
        "kommun",
        Need,
        "n1",
        raised(NeedCategory::Food, 10, Urgency::Normal),
    )
    .send();
    let claim = log.event("kyrkan", Need, "n1", claimed(600)).send();
    let first = log
        .event("kyrkan", Need, "n1", met(4, Fulfilment::Partly))
        .send();
    let second = log
        .event("kyrkan", Need, "n1", met(6, Fulfilment::Fully))
        .send();
    assert_eq!(
        seen(&log, "kommun", "n1", 10).expect("visible").status,
        NeedStatus::Met
    );
    log.correct(first, met(3, Fulfilment::Partly));
    log.retract(second);
    let now = seen(&log, "kommun", "n1", 10).expect("visible");
    assert_eq!((now.met_quantity, now.remaining), (3, 7));
    assert_eq!(now.status, NeedStatus::MetPartly);
    assert_eq!(now.time_to_meet_seconds, None);
    log.retract(first);
    log.retract(claim);
    let bare = seen(&log, "kommun", "n1", 10).expect("visible");
    assert_eq!(bare.status, NeedStatus::Open);
    assert_eq!(bare.met_quantity, 0);
    assert_eq!(bare.time_to_claim_seconds, None);
}

#[test]
fn a_need_addressed_to_one_organisation_is_invisible_to_others() {
    let mut log = Log::new();
    log.join(&["kommun", "region", "kyrkan"]);
    log.event(
        "kommun",
        Need,
        "secret",
        raised(NeedCategory::HealthCare, 2, Urgency::Critical),
    )
    .to(&["region"])
    .send();
    log.event(
        "kommun",
        Need,
        "public",
        raised(NeedCategory::Food, 5, Urgency::Low),
    )
    .send();
    let ids = |viewer| {
        all(&log, viewer, 10)
            .into_iter()
            .map(|n| n.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("region"), ["public", "secret"]);
    assert_eq!(ids("kommun"), ["public", "secret"]);
    assert_eq!(ids("kyrkan"), ["public"]);
    let stats = need_stats(&all(&log, "kyrkan", 10));
    assert_eq!(stats.open, 1);
    assert_eq!(stats.by_urgency.get(&Urgency::Critical), None);
}

#[test]
fn each_viewer_gets_the_latest_status_it_may_see() {
    let mut log = Log::new();
    log.join(&["kommun", "kyrkan", "polisen"]);
    log.event(
        "kommun",
        Need,
        "n1",
        raised(NeedCategory::Housing, 10, Urgency::High),
    )
    .send();
    log.event("kyrkan", Need, "n1", claimed(600)).send();
    // The claimer tells only the raiser that it let go, and the raiser tells only the
    // claimer the quantity shrank.
    log.event("kyrkan", Need, "n1", NeedClaimReleased { reason: None })
        .to(&["kommun"])
        .send();
    log.event("kommun", Need, "n1", update_quantity(5))
        .to(&["kyrkan"])
        .send();
    let insider = seen(&log, "kommun", "n1", 10).expect("visible");
    let outsider = seen(&log, "polisen", "n1", 10).expect("visible");
    assert_eq!(insider.status, NeedStatus::Open);
    assert_eq!(outsider.status, NeedStatus::Claimed);
    // The latest quantity, never a sum of the slices.
    assert_eq!(insider.quantity, 5);
    assert_eq!(outsider.quantity, 10);
    assert_eq!(
        outsider.last_seq, 5,
        "the restricted events do not show in the outsider's last_seq"
    );
}

#[test]
fn filters_and_stats_count_open_needs_by_category_urgency_area_and_organisation() {
    let mut log = Log::new();
    log.join(&["kommun", "kyrkan", "region"]);
    log.event(
        "kommun",
        Need,
        "a",
        raised(NeedCategory::Food, 1, Urgency::High),
    )
    .at(0)
    .send();
    log.event(
        "region",
        Need,
        "b",
        raised(NeedCategory::Food, 2, Urgency::Low),
    )
    .at(0)
    .area("1281")
    .send();
    log.event(
        "kommun",
        Need,
        "c",
        raised(NeedCategory::Legal, 3, Urgency::High),
    )
    .at(0)
    .send();
    log.event("kyrkan", Need, "a", claimed(600)).at(10).send();
    log.event("kyrkan", Need, "c", claimed(600)).at(30).send();
    log.event("kyrkan", Need, "c", met(3, Fulfilment::Fully))
        .at(60)
        .send();
    let models = log.fold();
    let visible = visible_to(&models, "kommun");
    let pick = |filter: NeedFilter| {
        needs(&models, &actual(), &visible, t(100), &filter)
            .into_iter()
            .map(|n| n.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pick(NeedFilter {
            org: Some(org("kyrkan")),
            ..Default::default()
        }),
        ["a", "c"]
    );
    assert_eq!(
        pick(NeedFilter {
            org: Some(org("region")),
            ..Default::default()
        }),
        ["b"]
    );
    assert_eq!(
        pick(NeedFilter {
            org: Some(org("kommun")),
            ..Default::default()
        }),
        ["a", "c"]
    );
    assert_eq!(
        pick(NeedFilter {
            category: Some(NeedCategory::Food),
            ..Default::default()
        }),
        ["a", "b"]
    );
    assert_eq!(
        pick(NeedFilter {
            urgency: Some(Urgency::High),
            open_only: true,
            ..Default::default()
        }),
        ["a"]
    );
    assert_eq!(
        pick(NeedFilter {
            area: Some("1281".into()),
            ..Default::default()
        }),
        ["b"]
    );
    assert_eq!(
        pick(NeedFilter {
            status: Some(NeedStatus::Met),
            ..Default::default()
        }),
        ["c"]
    );
    let stats = need_stats(&needs(
        &models,
        &actual(),
        &visible,
        t(100),
        &NeedFilter::default(),
    ));
    assert_eq!((stats.total, stats.open), (3, 2));
    assert_eq!(stats.by_category.get(&NeedCategory::Food), Some(&2));
    assert_eq!(stats.by_claimer.get(&org("kyrkan")), Some(&1));
    assert_eq!(stats.by_raiser.get(&org("kommun")), Some(&1));
    assert_eq!(stats.by_area.get("1281"), Some(&1));
    assert_eq!(stats.people_open, 3);
    assert_eq!(stats.time_to_claim.count, 2);
    assert_eq!(stats.time_to_claim.mean_seconds, Some(20 * 60));
    assert_eq!(stats.time_to_claim.median_seconds, Some(10 * 60));
    assert_eq!(stats.time_to_meet.max_seconds, Some(60 * 60));
}
