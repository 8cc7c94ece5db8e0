//! Resources (furniture, clothing, volunteer hours, friend families, activities, premises,
//! transport, food) and housing offers.
//!
//! A resource is offered by its owner, committed against a recent need (or, for furniture,
//! an accepted housing offer) up to three times, delivered, and — for things in ongoing
//! use — asked back by the owner and released by the user; some are withdrawn unused. A
//! housing offer is answered (accepted in whole or part, or declined) by the Migration
//! Agency or social services, or withdrawn.

use proto_events::payload::{
    HousingOfferWithdrawn, HousingOffered, OfferAnswered, ResourceCommitted, ResourceDelivered,
    ResourceOffered, ResourceReleased, ResourceReturnRequested, ResourceWithdrawn,
};
use proto_events::vocab::{
    AggregateType, HousingType, NeedCategory, OfferAnswer, ResourceCategory, RetractionReason,
    Status, Suitability, Unit,
};
use proto_events::{AggregateId, Envelope, EventId, Payload};

use super::{Crisis, Step, Thread, text};
use crate::clock::{DAY, HOUR, MINUTE, timestamp};
use crate::orgs::{Org, Role};
use crate::text as phrases;

#[derive(Debug)]
pub(crate) struct Resource {
    thread: Thread,
    cluster: u32,
    owner: (Org, Role),
    category: ResourceCategory,
    remaining: u32,
    stage: ResourceStage,
    offered: Option<EventId>,
    commitments: u8,
    /// The live commitment: its event, quantity, need or offer, and the receiver.
    committed: Option<(EventId, u32, Target, Org)>,
    delivered: Option<EventId>,
    return_requested: Option<EventId>,
    attempts: u8,
}

#[derive(Debug, Clone)]
enum Target {
    Need(AggregateId),
    Offer(AggregateId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResourceStage {
    Offer,
    Open,
    Committed,
    Delivered,
    ReturnRequested,
}

fn owners(category: ResourceCategory) -> &'static [(Org, Role)] {
    use Org::*;
    match category {
        ResourceCategory::Furniture => &[
            (Kyrkan, Role::Field),
            (Frivilliga, Role::Field),
            (Malmo, Role::Housing),
        ],
        ResourceCategory::Clothing => &[
            (Kyrkan, Role::Field),
            (RaddaBarnen, Role::Coordination),
            (Frivilliga, Role::Field),
        ],
        ResourceCategory::VolunteerHours => &[
            (Frivilliga, Role::Field),
            (Kyrkan, Role::Coordination),
            (RaddaBarnen, Role::Coordination),
        ],
        ResourceCategory::FriendFamily => &[
            (Frivilliga, Role::Coordination),
            (Kyrkan, Role::Coordination),
        ],
        ResourceCategory::LanguageCafe => &[(Kyrkan, Role::Field), (Frivilliga, Role::Field)],
        ResourceCategory::HomeworkHelp => &[
            (RaddaBarnen, Role::Children),
            (Frivilliga, Role::Field),
            (Kyrkan, Role::Field),
        ],
        ResourceCategory::Sports => &[(Frivilliga, Role::Field), (Malmo, Role::School)],
        ResourceCategory::Premises => &[(Kyrkan, Role::Coordination), (Malmo, Role::Housing)],
        ResourceCategory::Transport => &[
            (Frivilliga, Role::Field),
            (Malmo, Role::Duty),
            (Kyrkan, Role::Field),
        ],
        ResourceCategory::Food => &[(Kyrkan, Role::Field), (Frivilliga, Role::Field)],
        ResourceCategory::Other => &[(Frivilliga, Role::Coordination)],
    }
}

fn resource_sizing(category: ResourceCategory) -> (Unit, u32, u32) {
    match category {
        ResourceCategory::Furniture => (Unit::Items, 5, 40),
        ResourceCategory::Clothing => (Unit::Sets, 20, 150),
        ResourceCategory::VolunteerHours => (Unit::Hours, 20, 200),
        ResourceCategory::FriendFamily => (Unit::People, 2, 15),
        ResourceCategory::LanguageCafe | ResourceCategory::HomeworkHelp => (Unit::Places, 5, 30),
        ResourceCategory::Sports => (Unit::Places, 10, 40),
        ResourceCategory::Premises => (Unit::Other, 1, 1),
        ResourceCategory::Transport => (Unit::Seats, 8, 20),
        ResourceCategory::Food => (Unit::Meals, 50, 300),
        ResourceCategory::Other => (Unit::Items, 10, 60),
    }
}

/// The need categories a resource of each category can go to.
fn serves(category: ResourceCategory) -> &'static [NeedCategory] {
    match category {
        ResourceCategory::Furniture => &[NeedCategory::Housing],
        ResourceCategory::Clothing => &[NeedCategory::Clothing],
        ResourceCategory::VolunteerHours => &[
            NeedCategory::Food,
            NeedCategory::Other,
            NeedCategory::Psychosocial,
        ],
        ResourceCategory::FriendFamily | ResourceCategory::Sports => &[NeedCategory::Psychosocial],
        ResourceCategory::LanguageCafe => &[NeedCategory::Psychosocial, NeedCategory::Other],
        ResourceCategory::HomeworkHelp => &[NeedCategory::SchoolPlaces],
        ResourceCategory::Premises => &[
            NeedCategory::SchoolPlaces,
            NeedCategory::Psychosocial,
            NeedCategory::Housing,
        ],
        ResourceCategory::Transport => &[NeedCategory::Transport],
        ResourceCategory::Food => &[NeedCategory::Food],
        ResourceCategory::Other => &[NeedCategory::Other],
    }
}

/// Resources that stay in use and can be asked back.
fn in_ongoing_use(category: ResourceCategory) -> bool {
    matches!(
        category,
        ResourceCategory::Premises
            | ResourceCategory::VolunteerHours
            | ResourceCategory::FriendFamily
            | ResourceCategory::LanguageCafe
            | ResourceCategory::HomeworkHelp
            | ResourceCategory::Sports
            | ResourceCategory::Transport
    )
}

impl Crisis {
    pub(super) fn spawn_resource(&mut self, at: i64, cluster: u32) -> Option<Envelope> {
        let category = self.weighted(&[
            (ResourceCategory::Furniture, 12),
            (ResourceCategory::Clothing, 14),
            (ResourceCategory::VolunteerHours, 14),
            (ResourceCategory::FriendFamily, 8),
            (ResourceCategory::LanguageCafe, 8),
            (ResourceCategory::HomeworkHelp, 8),
            (ResourceCategory::Sports, 8),
            (ResourceCategory::Premises, 6),
            (ResourceCategory::Transport, 10),
            (ResourceCategory::Food, 10),
            (ResourceCategory::Other, 2),
        ]);
        let owner = self.pick(owners(category));
        let area = self.cluster_area(cluster);
        let participants = [owner.0, Org::Malmo, Org::Migrationsverket];
        let thread = self.open_thread(AggregateType::Resource, "res", area, &participants, false);
        let (_, low, high) = resource_sizing(category);
        let resource = Resource {
            thread,
            cluster,
            owner,
            category,
            remaining: self.count(low, high),
            stage: ResourceStage::Offer,
            offered: None,
            commitments: 0,
            committed: None,
            delivered: None,
            return_requested: None,
            attempts: 0,
        };
        self.run_resource(at, Box::new(resource))
    }

    fn resource_event(
        &mut self,
        resource: &mut Resource,
        at: i64,
        who: (Org, Role),
        causation: Option<EventId>,
        with_lang: bool,
        payload: impl Into<Payload>,
    ) -> Envelope {
        self.emit(
            &mut resource.thread,
            (who.0, who.0.function(who.1)),
            at,
            causation,
            with_lang,
            payload,
        )
    }

    pub(super) fn run_resource(
        &mut self,
        at: i64,
        mut resource: Box<Resource>,
    ) -> Option<Envelope> {
        let owner = resource.owner;
        match resource.stage {
            ResourceStage::Offer => {
                let (unit, _, _) = resource_sizing(resource.category);
                let until = self
                    .chance(60)
                    .then(|| timestamp(at + self.between(7 * DAY, 21 * DAY)));
                let conditions = self
                    .chance(60)
                    .then(|| text(phrases::resource_conditions(resource.category)));
                let payload = ResourceOffered {
                    category: resource.category,
                    quantity: resource.remaining,
                    unit,
                    available_from: Some(timestamp(at)),
                    available_until: until,
                    conditions,
                };
                let envelope = self.resource_event(&mut resource, at, owner, None, true, payload);
                resource.offered = Some(envelope.id);
                if self.chance(2) {
                    // Offered by mistake: retracted, and nothing more happens to it.
                    self.retract_later(
                        &envelope,
                        RetractionReason::EnteredInError,
                        10 * MINUTE,
                        3 * HOUR,
                    );
                    return Some(envelope);
                }
                resource.stage = ResourceStage::Open;
                let next = self.later(at, HOUR, 20 * HOUR);
                self.schedule(next, Step::Resource(resource));
                Some(envelope)
            }
            ResourceStage::Open => self.commit_resource(at, resource),
            ResourceStage::Committed => {
                let (commitment, quantity, target, receiver) = resource.committed.clone()?;
                let who = if self.chance(70) {
                    owner
                } else {
                    (receiver, Role::Coordination)
                };
                let occurred = if self.chance(5) {
                    self.set_back(at, resource.thread.last_at)
                } else {
                    at
                };
                let need = match target {
                    Target::Need(id) => Some(id),
                    Target::Offer(_) => None,
                };
                let envelope = self.resource_event(
                    &mut resource,
                    occurred,
                    who,
                    Some(commitment),
                    false,
                    ResourceDelivered { quantity, need },
                );
                resource.delivered = Some(envelope.id);
                if resource.remaining > 0 && resource.commitments < 3 && self.chance(50) {
                    resource.stage = ResourceStage::Open;
                    let next = self.later(at, 2 * HOUR, DAY);
                    self.schedule(next, Step::Resource(resource));
                } else if in_ongoing_use(resource.category) && self.chance(60) {
                    resource.stage = ResourceStage::Delivered;
                    let next = self.later(at, DAY, 6 * DAY);
                    self.schedule(next, Step::Resource(resource));
                }
                Some(envelope)
            }
            ResourceStage::Delivered => {
                let (_, quantity, _, receiver) = resource.committed.clone()?;
                if self.chance(45) {
                    // The owner needs it back.
                    let return_by = timestamp(at + self.between(DAY, 4 * DAY));
                    let reason = Some(text(self.pick(phrases::RETURN_REASONS)));
                    let delivered = resource.delivered;
                    let envelope = self.resource_event(
                        &mut resource,
                        at,
                        owner,
                        delivered,
                        true,
                        ResourceReturnRequested { return_by, reason },
                    );
                    resource.return_requested = Some(envelope.id);
                    resource.stage = ResourceStage::ReturnRequested;
                    let next = self.later(at, 2 * HOUR, DAY);
                    let next = self.ready(receiver, next);
                    self.schedule(next, Step::Resource(resource));
                    return Some(envelope);
                }
                let reason = Some(text(self.pick(phrases::RESOURCE_RELEASED)));
                let delivered = resource.delivered;
                Some(self.resource_event(
                    &mut resource,
                    at,
                    (receiver, Role::Coordination),
                    delivered,
                    true,
                    ResourceReleased {
                        quantity: Some(quantity),
                        reason,
                    },
                ))
            }
            ResourceStage::ReturnRequested => {
                let (_, quantity, _, receiver) = resource.committed.clone()?;
                let asked = resource.return_requested;
                let reason = Some(text(self.pick(phrases::RESOURCE_RELEASED)));
                Some(self.resource_event(
                    &mut resource,
                    at,
                    (receiver, Role::Coordination),
                    asked,
                    true,
                    ResourceReleased {
                        quantity: Some(quantity),
                        reason,
                    },
                ))
            }
        }
    }

    fn commit_resource(&mut self, at: i64, mut resource: Box<Resource>) -> Option<Envelope> {
        let owner = resource.owner;
        if self.chance(8) || resource.attempts >= 3 {
            let reason = Some(text(self.pick(phrases::RESOURCE_WITHDRAWN)));
            let offered = resource.offered;
            return Some(self.resource_event(
                &mut resource,
                at,
                owner,
                offered,
                true,
                ResourceWithdrawn { reason },
            ));
        }
        let cluster = resource.cluster as usize;
        let furniture = resource.category == ResourceCategory::Furniture;
        let exercise = resource.thread.status == Status::Exercise;
        let offer = if furniture
            && !exercise
            && self.world.clusters[cluster].offers.len() > 0
            && self.chance(50)
        {
            let index = self.rng_index(self.world.clusters[cluster].offers.len());
            self.world.clusters[cluster].offers.get(index).cloned()
        } else {
            None
        };
        let (target, answered, receiver) = match offer {
            Some((id, answer, receiver)) if resource.thread.admits(receiver) => {
                (Target::Offer(id), answer, receiver)
            }
            Some(_) => {
                resource.attempts += 1;
                let next = self.later(at, 3 * HOUR, 12 * HOUR);
                self.schedule(next, Step::Resource(resource));
                return None;
            }
            None => match self.pooled_need(resource.cluster, serves(resource.category), exercise) {
                Some(need) if resource.thread.admits(need.raiser) => {
                    (Target::Need(need.id), need.raised, need.raiser)
                }
                _ => {
                    // Nothing to commit against yet: try again later.
                    resource.attempts += 1;
                    let next = self.later(at, 3 * HOUR, 12 * HOUR);
                    self.schedule(next, Step::Resource(resource));
                    return None;
                }
            },
        };
        let quantity = if resource.remaining <= 1 {
            resource.remaining.max(1)
        } else {
            self.count(1, resource.remaining)
        };
        resource.remaining = resource.remaining.saturating_sub(quantity);
        resource.commitments += 1;
        let expected_at = Some(timestamp(at + self.between(2 * HOUR, 2 * DAY)));
        let payload = ResourceCommitted {
            need: match &target {
                Target::Need(id) => Some(id.clone()),
                Target::Offer(_) => None,
            },
            offer: match &target {
                Target::Offer(id) => Some(id.clone()),
                Target::Need(_) => None,
            },
            quantity,
            expected_at,
        };
        // The commitment answers the need's raise (or the offer's acceptance).
        let envelope =
            self.resource_event(&mut resource, at, owner, Some(answered), false, payload);
        resource.committed = Some((envelope.id, quantity, target, receiver));
        resource.stage = ResourceStage::Committed;
        let next = self.later(at, 2 * HOUR, 30 * HOUR);
        self.schedule(next, Step::Resource(resource));
        Some(envelope)
    }
}

// ----- housing offers ----------------------------------------------------------------------

#[derive(Debug)]
pub(crate) struct HousingOffer {
    thread: Thread,
    cluster: u32,
    offerer: (Org, Role),
    receiver: (Org, Role),
    beds: u32,
    stage: OfferStage,
    offered: Option<EventId>,
    answered: Option<EventId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OfferStage {
    Offer,
    Answer,
    /// Declined or partly used: withdrawn later by the offerer.
    Withdraw,
}

impl Crisis {
    pub(super) fn spawn_offer(&mut self, at: i64, cluster: u32) -> Option<Envelope> {
        let offerer = self.weighted(&[
            ((Org::Malmo, Role::Housing), 50),
            ((Org::Kyrkan, Role::Coordination), 20),
            ((Org::Frivilliga, Role::Coordination), 20),
            ((Org::Operator, Role::Housing), 10),
        ]);
        let receiver = self.pick(&[
            (Org::Migrationsverket, Role::Housing),
            (Org::Malmo, Role::Social),
        ]);
        let area = self.cluster_area(cluster);
        let thread = self.open_thread(
            AggregateType::Offer,
            "offer",
            area,
            &[offerer.0, receiver.0],
            false,
        );
        let offer = HousingOffer {
            thread,
            cluster,
            offerer,
            receiver,
            beds: 0,
            stage: OfferStage::Offer,
            offered: None,
            answered: None,
        };
        self.run_offer(at, Box::new(offer))
    }

    pub(super) fn run_offer(&mut self, at: i64, mut offer: Box<HousingOffer>) -> Option<Envelope> {
        let (offerer, receiver) = (offer.offerer, offer.receiver);
        match offer.stage {
            OfferStage::Offer => {
                let housing_type = self.weighted(&[
                    (HousingType::Apartment, 50),
                    (HousingType::Room, 25),
                    (HousingType::House, 10),
                    (HousingType::Dormitory, 15),
                ]);
                let (units, beds) = match housing_type {
                    HousingType::Apartment => {
                        let units = self.count(1, 6);
                        (units, units * self.count(2, 5))
                    }
                    HousingType::Room => (1, self.count(1, 3)),
                    HousingType::House => (1, self.count(4, 8)),
                    HousingType::Dormitory => (1, self.count(10, 40)),
                };
                offer.beds = beds;
                let mut suitable_for = std::collections::BTreeSet::new();
                for (flag, percent) in [
                    (Suitability::Family, 55),
                    (Suitability::Accessible, 20),
                    (Suitability::Pets, 10),
                    (Suitability::Single, 25),
                ] {
                    if self.chance(percent) {
                        suitable_for.insert(flag);
                    }
                }
                let from = at + self.between(0, 5 * DAY);
                let until = self
                    .chance(50)
                    .then(|| timestamp(from + self.between(30 * DAY, 180 * DAY)));
                let offered_to = self.chance(50).then(|| receiver.0.org_id());
                let payload = HousingOffered {
                    housing_type,
                    units,
                    beds,
                    available_from: timestamp(from),
                    available_until: until,
                    suitable_for,
                    offered_to,
                };
                let envelope = self.emit(
                    &mut offer.thread,
                    (offerer.0, offerer.0.function(offerer.1)),
                    at,
                    None,
                    false,
                    payload,
                );
                offer.offered = Some(envelope.id);
                offer.stage = OfferStage::Answer;
                let next = self.later(at, 2 * HOUR, DAY);
                let next = self.ready(receiver.0, next);
                self.schedule(next, Step::Offer(offer));
                Some(envelope)
            }
            OfferStage::Answer => {
                if self.chance(12) {
                    return Some(self.withdraw_offer(at, &mut offer));
                }
                let accepted = self.chance(70);
                let payload = if accepted {
                    let quantity = if offer.beds > 1 && self.chance(30) {
                        self.count(1, offer.beds - 1)
                    } else {
                        offer.beds
                    };
                    OfferAnswered {
                        answer: OfferAnswer::Accepted,
                        quantity: Some(quantity),
                        reason: None,
                    }
                } else {
                    OfferAnswered {
                        answer: OfferAnswer::Declined,
                        quantity: None,
                        reason: Some(text(self.pick(phrases::OFFER_DECLINED))),
                    }
                };
                let offered = offer.offered;
                let envelope = self.emit(
                    &mut offer.thread,
                    (receiver.0, receiver.0.function(receiver.1)),
                    at,
                    offered,
                    !accepted,
                    payload,
                );
                offer.answered = Some(envelope.id);
                if accepted && offer.thread.is_public_actual() {
                    let id = offer.thread.aggregate.id.clone();
                    self.world.clusters[offer.cluster as usize].offers.push((
                        id,
                        envelope.id,
                        receiver.0,
                    ));
                }
                if (!accepted && self.chance(50)) || (accepted && self.chance(6)) {
                    offer.stage = OfferStage::Withdraw;
                    let next = self.later(at, 4 * HOUR, 4 * DAY);
                    self.schedule(next, Step::Offer(offer));
                }
                Some(envelope)
            }
            OfferStage::Withdraw => Some(self.withdraw_offer(at, &mut offer)),
        }
    }

    fn withdraw_offer(&mut self, at: i64, offer: &mut HousingOffer) -> Envelope {
        let offerer = offer.offerer;
        let reason = Some(text(self.pick(phrases::OFFER_WITHDRAWN)));
        let causation = offer.answered.or(offer.offered);
        self.emit(
            &mut offer.thread,
            (offerer.0, offerer.0.function(offerer.1)),
            at,
            causation,
            true,
            HousingOfferWithdrawn { reason },
        )
    }
}
