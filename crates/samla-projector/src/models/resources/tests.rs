//! Resources: given events, then the state a viewer sees.

use proto_events::AggregateType::Resource;
use proto_events::payload::{
    ResourceCommitted, ResourceDelivered, ResourceOffered, ResourceReleased,
    ResourceReturnRequested, ResourceWithdrawn,
};
use proto_events::vocab::{ResourceCategory, Unit};

use crate::models::resources::ResourceState;
use crate::models::testkit::*;
use crate::views::resources::{ResourceView, committed_to_need, resource, resources};

fn offered(quantity: u32) -> ResourceOffered {
    ResourceOffered {
        category: ResourceCategory::Furniture,
        quantity,
        unit: Unit::Items,
        available_from: None,
        available_until: None,
        conditions: None,
    }
}

fn committed(need: &str, quantity: u32) -> ResourceCommitted {
    ResourceCommitted {
        need: Some(agg(need)),
        offer: None,
        quantity,
        expected_at: None,
    }
}

fn delivered(quantity: u32) -> ResourceDelivered {
    ResourceDelivered {
        quantity,
        need: None,
    }
}

fn seen(log: &Log, viewer: &str, id: &str, now: i64) -> Option<ResourceView> {
    let models = log.fold();
    resource(&models, &actual(), id, &visible_to(&models, viewer), t(now))
}

#[test]
fn a_resource_goes_from_offered_to_committed_delivered_and_released() {
    let mut log = Log::new();
    log.join(&["kyrkan", "kommun"]);
    log.event("kyrkan", Resource, "r1", offered(20)).send();
    log.event("kyrkan", Resource, "r1", committed("n1", 8))
        .send();
    log.event(
        "kyrkan",
        Resource,
        "r1",
        ResourceCommitted {
            offer: Some(agg("o1")),
            ..committed("n2", 4)
        },
    )
    .send();
    let view = seen(&log, "kommun", "r1", 10).expect("visible");
    assert_eq!(view.state, Some(ResourceState::Committed));
    assert_eq!(view.offered_by, Some(org("kyrkan")));
    assert_eq!(view.category, Some(ResourceCategory::Furniture));
    assert_eq!((view.offered, view.committed, view.available), (20, 12, 8));
    assert_eq!(view.committed_to_needs.get("n1"), Some(&8));
    assert_eq!(view.committed_to_offers.get("o1"), Some(&4));

    log.event("kyrkan", Resource, "r1", delivered(12)).send();
    log.event(
        "kommun",
        Resource,
        "r1",
        ResourceReleased {
            quantity: Some(5),
            reason: None,
        },
    )
    .send();
    let view = seen(&log, "kommun", "r1", 10).expect("visible");
    assert_eq!(view.state, Some(ResourceState::Released));
    assert_eq!((view.delivered, view.released, view.in_use), (12, 5, 7));

    log.event(
        "kommun",
        Resource,
        "r1",
        ResourceReleased {
            quantity: None,
            reason: None,
        },
    )
    .send();
    let view = seen(&log, "kommun", "r1", 10).expect("visible");
    assert_eq!(
        (view.released, view.in_use),
        (12, 0),
        "a release without a quantity gives back all"
    );
    assert_eq!(view.last_seq, log.last_seq());
}

#[test]
fn a_return_request_becomes_overdue_and_a_withdrawn_offer_has_nothing_available() {
    let mut log = Log::new();
    log.join(&["kyrkan", "kommun"]);
    log.event("kyrkan", Resource, "hall", offered(1)).send();
    log.event("kyrkan", Resource, "hall", committed("n1", 1))
        .send();
    log.event("kyrkan", Resource, "hall", delivered(1)).send();
    log.event(
        "kyrkan",
        Resource,
        "hall",
        ResourceReturnRequested {
            return_by: t(100),
            reason: None,
        },
    )
    .send();
    let models = log.fold();
    let visible = visible_to(&models, "kommun");
    let before = resource(&models, &actual(), "hall", &visible, t(99)).expect("visible");
    let after = resource(&models, &actual(), "hall", &visible, t(101)).expect("visible");
    assert_eq!(before.state, Some(ResourceState::ReturnRequested));
    assert_eq!(before.return_by, Some(t(100)));
    assert!(!before.return_overdue);
    assert!(after.return_overdue);

    log.event("kyrkan", Resource, "chairs", offered(30)).send();
    log.event(
        "kyrkan",
        Resource,
        "chairs",
        ResourceWithdrawn { reason: None },
    )
    .send();
    let chairs = seen(&log, "kommun", "chairs", 10).expect("visible");
    assert_eq!(chairs.state, Some(ResourceState::Withdrawn));
    assert_eq!(chairs.available, 0);
}

#[test]
fn corrections_and_retractions_adjust_offers_and_commitments() {
    let mut log = Log::new();
    log.join(&["kyrkan"]);
    let offer = log.event("kyrkan", Resource, "r1", offered(20)).send();
    let commit = log
        .event("kyrkan", Resource, "r1", committed("n1", 8))
        .send();
    log.correct(offer, offered(25));
    log.correct(commit, committed("n2", 6));
    let view = seen(&log, "kyrkan", "r1", 10).expect("visible");
    assert_eq!((view.offered, view.committed, view.available), (25, 6, 19));
    assert_eq!(
        view.committed_to_needs.get("n1"),
        None,
        "the commitment moved to n2"
    );
    assert_eq!(view.committed_to_needs.get("n2"), Some(&6));
    assert_eq!(view.state, Some(ResourceState::Committed));
    log.retract(commit);
    let view = seen(&log, "kyrkan", "r1", 10).expect("visible");
    assert_eq!((view.committed, view.available), (0, 25));
    assert!(view.committed_to_needs.is_empty());
    assert_eq!(view.state, Some(ResourceState::Offered));
}

#[test]
fn commitments_in_a_restricted_slice_count_only_for_its_members() {
    let mut log = Log::new();
    log.join(&["kyrkan", "kommun", "polisen"]);
    log.event("kyrkan", Resource, "r1", offered(20)).send();
    log.event("kyrkan", Resource, "r1", committed("n1", 5))
        .send();
    log.event("kyrkan", Resource, "r1", committed("n1", 3))
        .to(&["kommun"])
        .send();
    let models = log.fold();
    let for_kommun = resources(&models, &actual(), &visible_to(&models, "kommun"), t(10));
    let for_polisen = resources(&models, &actual(), &visible_to(&models, "polisen"), t(10));
    // Counters add up over the slices a viewer may see.
    assert_eq!(committed_to_need(&for_kommun, "n1"), 8);
    assert_eq!(committed_to_need(&for_polisen, "n1"), 5);
}
