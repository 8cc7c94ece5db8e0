//! Needs: raised, sometimes updated, claimed (claims lapse or are released now and then),
//! met in part or fully, or cancelled. A few are raised twice by mistake and the duplicate
//! retracted; a few are corrected.
//!
//! Lifecycle, as the tests check it: `need_raised` first; `need_claimed` only while no
//! claim is live (none yet, released, lapsed, or met in part); `need_claim_released` only
//! by the live claimer; nothing after `need_met` fully or `need_cancelled` but
//! corrections and retractions. Needs are met before their claim expires.

use proto_events::payload::{
    NeedCancelled, NeedClaimReleased, NeedClaimed, NeedMet, NeedRaised, NeedUpdated,
};
use proto_events::vocab::{
    AggregateType, Fulfilment, NeedCategory, RetractionReason, Unit, Urgency,
};
use proto_events::{Audience, Envelope, EventId, LangTag, Payload};

use super::world::NeedRef;
use super::{Crisis, Step, Thread, label, text};
use crate::clock::{DAY, HOUR, MINUTE, timestamp};
use crate::orgs::{Org, Role};
use crate::text as phrases;

#[derive(Debug)]
pub(crate) struct Need {
    thread: Thread,
    cluster: u32,
    raiser: (Org, Role),
    claimer: (Org, Role),
    category: NeedCategory,
    quantity: u32,
    stage: Stage,
    raised: Option<EventId>,
    claim: Option<EventId>,
    claim_expires: i64,
    met: u32,
    /// What the live claim will come to, drawn when it is made.
    claim_outcome: ClaimOutcome,
    /// Set on a need raised a second time by mistake: the payload raised again. Its
    /// only other event is the retraction.
    duplicate_of: Option<Box<NeedRaised>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Raise,
    Open,
    Claimed,
    /// Met in part; the raiser cancels the rest.
    CancelRest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClaimOutcome {
    Meet,
    Release,
    Lapse,
}

const LANGUAGES: &[&str] = &["ar", "uk", "fa", "ti", "so", "prs", "ru", "ku"];

fn raisers(category: NeedCategory) -> &'static [(Org, Role)] {
    use Org::*;
    match category {
        NeedCategory::Housing => &[
            (Migrationsverket, Role::Housing),
            (Malmo, Role::Social),
            (Operator, Role::Housing),
        ],
        NeedCategory::HealthCare => &[
            (Migrationsverket, Role::Coordination),
            (RaddaBarnen, Role::Children),
            (Malmo, Role::Social),
            (Operator, Role::Housing),
        ],
        NeedCategory::SchoolPlaces => &[
            (Malmo, Role::Social),
            (Migrationsverket, Role::Coordination),
            (RaddaBarnen, Role::Children),
        ],
        NeedCategory::Food => &[(Operator, Role::Housing), (Malmo, Role::Social)],
        NeedCategory::Clothing => &[
            (RaddaBarnen, Role::Children),
            (Operator, Role::Housing),
            (Malmo, Role::Social),
        ],
        NeedCategory::Interpretation => &[
            (Primarvard, Role::Health),
            (Malmo, Role::Social),
            (Polisen, Role::Duty),
            (Migrationsverket, Role::Coordination),
        ],
        NeedCategory::Transport => &[
            (Migrationsverket, Role::Housing),
            (Operator, Role::Housing),
            (Primarvard, Role::Health),
        ],
        NeedCategory::Legal => &[(RaddaBarnen, Role::Children), (Malmo, Role::Social)],
        NeedCategory::Psychosocial => &[
            (RaddaBarnen, Role::Children),
            (Malmo, Role::Social),
            (Primarvard, Role::Health),
            (Operator, Role::Housing),
        ],
        NeedCategory::Other => &[(Operator, Role::Housing), (RaddaBarnen, Role::Children)],
    }
}

fn claimers(category: NeedCategory) -> &'static [(Org, Role)] {
    use Org::*;
    match category {
        NeedCategory::Housing => &[
            (Malmo, Role::Housing),
            (Kyrkan, Role::Field),
            (Frivilliga, Role::Field),
            (Operator, Role::Housing),
        ],
        NeedCategory::HealthCare => &[(Primarvard, Role::Health), (Region, Role::Health)],
        NeedCategory::SchoolPlaces => &[(Malmo, Role::School)],
        NeedCategory::Food => &[
            (Kyrkan, Role::Field),
            (Frivilliga, Role::Field),
            (Malmo, Role::Duty),
        ],
        NeedCategory::Clothing => &[
            (Kyrkan, Role::Field),
            (Frivilliga, Role::Field),
            (RaddaBarnen, Role::Coordination),
        ],
        NeedCategory::Interpretation => &[(Region, Role::Interpreters)],
        NeedCategory::Transport => &[
            (Malmo, Role::Duty),
            (Frivilliga, Role::Field),
            (Kyrkan, Role::Field),
        ],
        NeedCategory::Legal => &[
            (Kyrkan, Role::Coordination),
            (RaddaBarnen, Role::Coordination),
        ],
        NeedCategory::Psychosocial => &[
            (Region, Role::Health),
            (RaddaBarnen, Role::Children),
            (Kyrkan, Role::Field),
            (Frivilliga, Role::Field),
        ],
        NeedCategory::Other => &[(Frivilliga, Role::Field), (Kyrkan, Role::Field)],
    }
}

/// Unit and quantity range of a need of each category.
fn sizing(category: NeedCategory) -> (Unit, u32, u32) {
    match category {
        NeedCategory::Housing => (Unit::Beds, 2, 14),
        NeedCategory::HealthCare => (Unit::People, 3, 25),
        NeedCategory::SchoolPlaces => (Unit::Places, 2, 20),
        NeedCategory::Food => (Unit::Meals, 30, 300),
        NeedCategory::Clothing => (Unit::Sets, 10, 80),
        NeedCategory::Interpretation => (Unit::Hours, 2, 24),
        NeedCategory::Transport => (Unit::Seats, 4, 40),
        NeedCategory::Legal => (Unit::Hours, 2, 12),
        NeedCategory::Psychosocial => (Unit::Hours, 4, 30),
        NeedCategory::Other => (Unit::Items, 10, 100),
    }
}

impl Crisis {
    pub(super) fn spawn_need(&mut self, at: i64, cluster: u32) -> Option<Envelope> {
        let category = self.weighted(&[
            (NeedCategory::Housing, 20),
            (NeedCategory::HealthCare, 12),
            (NeedCategory::SchoolPlaces, 10),
            (NeedCategory::Food, 10),
            (NeedCategory::Clothing, 12),
            (NeedCategory::Interpretation, 12),
            (NeedCategory::Transport, 8),
            (NeedCategory::Legal, 4),
            (NeedCategory::Psychosocial, 8),
            (NeedCategory::Other, 4),
        ]);
        let candidates: Vec<(Org, Role)> = raisers(category)
            .iter()
            .copied()
            .filter(|(org, _)| self.joined_by(*org, at))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let raiser = self.pick(&candidates);
        let claimer = self.pick_claimer(category, raiser.0);
        let (_, low, high) = sizing(category);
        let quantity = self.count(low, high);
        let area = self.cluster_area(cluster);
        let thread = self.open_thread(
            AggregateType::Need,
            "need",
            area,
            &[raiser.0, claimer.0],
            true,
        );
        let need = Need {
            thread,
            cluster,
            raiser,
            claimer,
            category,
            quantity,
            stage: Stage::Raise,
            raised: None,
            claim: None,
            claim_expires: 0,
            met: 0,
            claim_outcome: ClaimOutcome::Meet,
            duplicate_of: None,
        };
        self.run_need(at, Box::new(need))
    }

    fn pick_claimer(&mut self, category: NeedCategory, not: Org) -> (Org, Role) {
        let options: Vec<(Org, Role)> = claimers(category)
            .iter()
            .copied()
            .filter(|(org, _)| *org != not)
            .collect();
        if options.is_empty() {
            (Org::Malmo, Role::Duty)
        } else {
            self.pick(&options)
        }
    }

    pub(super) fn run_need(&mut self, at: i64, need: Box<Need>) -> Option<Envelope> {
        match need.stage {
            Stage::Raise => Some(self.raise_need(at, need)),
            Stage::Open => Some(self.open_need_step(at, need)),
            Stage::Claimed => self.claimed_need_step(at, need),
            Stage::CancelRest => {
                let mut need = need;
                let lang = need.thread.lang;
                let payload = NeedCancelled {
                    reason: Some(text(self.phrase(phrases::CANCEL_REASONS, lang))),
                };
                let (raiser, raised) = (need.raiser, need.raised);
                Some(self.need_event(&mut need, at, raiser, raised, payload))
            }
        }
    }

    fn need_event(
        &mut self,
        need: &mut Need,
        at: i64,
        who: (Org, Role),
        causation: Option<EventId>,
        payload: impl Into<Payload>,
    ) -> Envelope {
        let function = who.0.function(who.1);
        self.emit(
            &mut need.thread,
            (who.0, function),
            at,
            causation,
            true,
            payload,
        )
    }

    fn raise_need(&mut self, at: i64, mut need: Box<Need>) -> Envelope {
        let raiser = need.raiser;
        if let Some(payload) = need.duplicate_of.take() {
            // Raised again by mistake; the raiser retracts it as a duplicate.
            let envelope = self.need_event(&mut need, at, raiser, None, *payload);
            self.retract_later(&envelope, RetractionReason::Duplicate, 5 * MINUTE, 2 * HOUR);
            return envelope;
        }
        let lang = need.thread.lang;
        let (unit, _, _) = sizing(need.category);
        let urgency = self.weighted(&[
            (Urgency::Critical, 8),
            (Urgency::High, 27),
            (Urgency::Normal, 45),
            (Urgency::Low, 20),
        ]);
        let needed_within = match urgency {
            Urgency::Critical => self.between(2 * HOUR, 8 * HOUR),
            Urgency::High => self.between(12 * HOUR, DAY),
            _ => self.between(2 * DAY, 5 * DAY),
        };
        let people = match need.category {
            NeedCategory::Housing | NeedCategory::HealthCare | NeedCategory::SchoolPlaces => {
                Some(need.quantity)
            }
            NeedCategory::Psychosocial | NeedCategory::Legal => Some(self.count(2, 20)),
            _ => None,
        };
        let addressed = self.chance(40);
        let subcategory = self
            .chance(60)
            .then(|| label(self.pick(phrases::need_subcategory(need.category))));
        let language = (need.category == NeedCategory::Interpretation).then(|| {
            LangTag::new(self.pick(LANGUAGES)).expect("language tags in the bank are valid")
        });
        let note = self
            .chance(70)
            .then(|| text(self.phrase(phrases::need_note(need.category), lang)));
        let payload = NeedRaised {
            category: need.category,
            subcategory,
            quantity: need.quantity,
            unit,
            people,
            urgency,
            needed_by: Some(timestamp(at + needed_within)),
            addressed_to: addressed.then(|| need.claimer.0.org_id()),
            language,
            note,
        };
        let envelope = self.need_event(&mut need, at, raiser, None, payload.clone());
        need.raised = Some(envelope.id);
        let pooled = NeedRef {
            id: need.thread.aggregate.id.clone(),
            raised: envelope.id,
            category: need.category,
            raiser: raiser.0,
        };
        if need.thread.is_public_actual() {
            self.world.clusters[need.cluster as usize]
                .needs
                .push(pooled);
        } else if need.thread.audience == Audience::Network {
            self.world.exercise_needs.push(pooled);
        }
        if self.chance(3) {
            // Wrong quantity or urgency: corrected by the raiser within hours.
            let mut fixed = payload.clone();
            fixed.quantity = payload.quantity + self.count(1, 4);
            if fixed.urgency == Urgency::Low {
                fixed.urgency = Urgency::Normal;
            }
            self.correct_later(&envelope, fixed.into(), 10 * MINUTE, 3 * HOUR);
        }
        if self.chance(2) {
            // The same need raised a second time by mistake: a new aggregate.
            let mut thread = need.thread.clone();
            thread.aggregate.id = self.mint.aggregate("need");
            thread.root = None;
            let duplicate = Need {
                thread,
                cluster: need.cluster,
                raiser,
                claimer: need.claimer,
                category: need.category,
                quantity: need.quantity,
                stage: Stage::Raise,
                raised: None,
                claim: None,
                claim_expires: 0,
                met: 0,
                claim_outcome: ClaimOutcome::Meet,
                duplicate_of: Some(Box::new(payload)),
            };
            let when = self.later(at, MINUTE, 10 * MINUTE);
            self.schedule(when, Step::Need(Box::new(duplicate)));
        }
        let next = if urgency == Urgency::Critical {
            self.later(at, 5 * MINUTE, HOUR)
        } else {
            self.later(at, 20 * MINUTE, 6 * HOUR)
        };
        need.stage = Stage::Open;
        let next = self.ready(need.claimer.0, next);
        self.schedule(next, Step::Need(need));
        envelope
    }

    fn open_need_step(&mut self, at: i64, mut need: Box<Need>) -> Envelope {
        let lang = need.thread.lang;
        let (raiser, raised) = (need.raiser, need.raised);
        let roll = self.count(0, 99);
        if roll < 6 {
            let payload = NeedCancelled {
                reason: Some(text(self.phrase(phrases::CANCEL_REASONS, lang))),
            };
            return self.need_event(&mut need, at, raiser, raised, payload);
        }
        if roll < 18 {
            let quantity = if self.chance(50) {
                need.quantity + self.count(1, 6)
            } else {
                (need.quantity * 2 / 3).max(1)
            };
            need.quantity = quantity;
            let urgency = self
                .chance(40)
                .then(|| self.pick(&[Urgency::High, Urgency::Normal]));
            let payload = NeedUpdated {
                quantity: Some(quantity),
                urgency,
                needed_by: None,
                reason: Some(text(self.phrase(phrases::UPDATE_REASONS, lang))),
            };
            let envelope = self.need_event(&mut need, at, raiser, raised, payload);
            if self.chance(8) {
                self.retract_later(
                    &envelope,
                    RetractionReason::EnteredInError,
                    10 * MINUTE,
                    2 * HOUR,
                );
            }
            let next = self.later(at, 30 * MINUTE, 5 * HOUR);
            self.schedule(next, Step::Need(need));
            return envelope;
        }
        // A claim. After a lapse or release someone else may take it over; within a
        // restricted audience only the organisations it lists can.
        if need.claim.is_some() && need.thread.audience == Audience::Network {
            need.claimer = self.pick_claimer(need.category, raiser.0);
        }
        let expires = at + self.between(6 * HOUR, 2 * DAY);
        let note = self
            .chance(40)
            .then(|| text(self.phrase(phrases::CLAIM_NOTES, lang)));
        let payload = NeedClaimed {
            claim_expires_at: timestamp(expires),
            quantity: None,
            note,
        };
        let claimer = need.claimer;
        let envelope = self.need_event(&mut need, at, claimer, raised, payload);
        need.claim = Some(envelope.id);
        need.claim_expires = expires;
        need.claim_outcome = self.weighted(&[
            (ClaimOutcome::Meet, 84),
            (ClaimOutcome::Release, 8),
            (ClaimOutcome::Lapse, 8),
        ]);
        need.stage = Stage::Claimed;
        let next = match need.claim_outcome {
            // A lapse emits nothing: the next step comes after the expiry.
            ClaimOutcome::Lapse => self.later(expires, 30 * MINUTE, 4 * HOUR),
            _ => self.before_expiry(at, need.claim_expires, HOUR, 14 * HOUR),
        };
        self.schedule(next, Step::Need(need));
        envelope
    }

    /// A working delay after `at`, but before the claim expires.
    fn before_expiry(&mut self, at: i64, expires: i64, low: i64, high: i64) -> i64 {
        let planned = self.later(at, low, high);
        planned.min(expires - 5 * MINUTE).max(at + MINUTE)
    }

    fn claimed_need_step(&mut self, at: i64, mut need: Box<Need>) -> Option<Envelope> {
        let lang = need.thread.lang;
        let (claimer, claim) = (need.claimer, need.claim);
        match need.claim_outcome {
            ClaimOutcome::Lapse => {
                // The claim lapsed silently; the need is open again.
                need.stage = Stage::Open;
                self.run_need(at, need)
            }
            ClaimOutcome::Release => {
                let payload = NeedClaimReleased {
                    reason: Some(text(self.phrase(phrases::RELEASE_REASONS, lang))),
                };
                let envelope = self.need_event(&mut need, at, claimer, claim, payload);
                need.stage = Stage::Open;
                let next = self.later(at, HOUR, 6 * HOUR);
                self.schedule(next, Step::Need(need));
                Some(envelope)
            }
            ClaimOutcome::Meet => {
                let remaining = need.quantity.saturating_sub(need.met).max(1);
                let partly = remaining >= 2 && need.met == 0 && self.chance(35);
                let quantity = if partly {
                    self.count(1, remaining - 1)
                } else {
                    remaining
                };
                let who = if self.chance(85) {
                    claimer
                } else {
                    need.raiser
                };
                // Now and then it is reported hours after it happened.
                let occurred = if self.chance(4) {
                    self.set_back(at, need.thread.last_at)
                } else {
                    at
                };
                let note = self
                    .chance(40)
                    .then(|| text(self.phrase(phrases::MET_NOTES, lang)));
                let payload = NeedMet {
                    quantity,
                    fulfilment: if partly {
                        Fulfilment::Partly
                    } else {
                        Fulfilment::Fully
                    },
                    note,
                };
                let envelope = self.need_event(&mut need, occurred, who, claim, payload.clone());
                need.met += quantity;
                if self.chance(2) {
                    let mut fixed = payload;
                    fixed.quantity = quantity + 1;
                    self.correct_later(&envelope, fixed.into(), 30 * MINUTE, 5 * HOUR);
                }
                if partly {
                    if self.chance(15) {
                        need.stage = Stage::CancelRest;
                        let next = self.later(at, HOUR, 8 * HOUR);
                        self.schedule(next, Step::Need(need));
                    } else {
                        let next = self.before_expiry(at, need.claim_expires, HOUR, 10 * HOUR);
                        self.schedule(next, Step::Need(need));
                    }
                }
                Some(envelope)
            }
        }
    }
}
