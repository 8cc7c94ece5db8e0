//! proptest strategies for valid envelopes of every kind.
//!
//! Every generated envelope passes `Envelope::validate`: counts respect the cross-field
//! rules, periods end after they start, and free text comes from a guard-safe alphabet
//! (letters, spaces, punctuation, no digits and no `@`), so the personal-data guard never
//! trips; tokens are `[a-z-]{1,20}`. Times have random nanoseconds, so the encoding of
//! fractional seconds is exercised.

use std::collections::BTreeSet;
use std::fmt::Debug;

use proptest::collection::{btree_map, btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proto_events::payload::*;
use proto_events::vocab::*;
use proto_events::{
    AggregateId, AggregateRef, AreaCode, Audience, Envelope, EventId, IncidentId, Kind, Label,
    LangTag, OrgId, Payload, TaggedPayload, Text, Timestamp,
};

#[path = "strategies_reports.rs"]
mod reports;
use reports::{coordination_and_hygiene, issues_and_reports};

const WORDS: &str = "[A-Za-zåäöÅÄÖéü][A-Za-zåäöÅÄÖéü ,.;:!?()'/-]{0,40}";

pub fn label() -> impl Strategy<Value = Label> + Clone {
    WORDS.prop_map(|text| Label::new(text).expect("short"))
}

pub fn text() -> impl Strategy<Value = Text> + Clone {
    prop_oneof![
        WORDS.prop_map(|text| Text::new(text).expect("short")),
        vec(WORDS, 1..6).prop_map(|parts| Text::new(parts.join(". ")).expect("short")),
    ]
}

fn token() -> impl Strategy<Value = String> + Clone {
    "[a-z-]{1,20}"
}

pub fn org() -> impl Strategy<Value = OrgId> + Clone {
    token().prop_map(|t| OrgId::new(t).expect("a token"))
}

fn orgs(size: std::ops::Range<usize>) -> impl Strategy<Value = BTreeSet<OrgId>> + Clone {
    btree_set(org(), size)
}

fn area() -> impl Strategy<Value = AreaCode> + Clone {
    token().prop_map(|t| AreaCode::new(t).expect("a token"))
}

fn aggregate_id() -> impl Strategy<Value = AggregateId> + Clone {
    token().prop_map(|t| AggregateId::new(t).expect("a token"))
}

fn aggregate_ref() -> impl Strategy<Value = AggregateRef> + Clone {
    (select(AggregateType::ALL), aggregate_id()).prop_map(|(kind, id)| AggregateRef::new(kind, id))
}

fn lang() -> impl Strategy<Value = LangTag> + Clone {
    "[a-z]{2,3}(-[a-z]{2,8})?".prop_map(|t| LangTag::new(t).expect("a language tag"))
}

fn event_id() -> impl Strategy<Value = EventId> + Clone {
    any::<u128>().prop_map(|bits| EventId::from_uuid(uuid::Uuid::from_u128(bits)))
}

/// A time in 2000–2199 (the years `validate` accepts), with or without fractional seconds.
pub fn time() -> impl Strategy<Value = Timestamp> + Clone {
    let seconds = 946_684_800_i64..7_258_118_400_i64;
    let nanos = prop_oneof![Just(0_u32), Just(250_000_000_u32), 0_u32..1_000_000_000];
    (seconds, nanos).prop_map(|(seconds, nanos)| {
        Timestamp::from_unix_nanos(i128::from(seconds) * 1_000_000_000 + i128::from(nanos))
            .expect("in range")
    })
}

/// A time and a later (or equal) one.
fn period() -> impl Strategy<Value = (Timestamp, Timestamp)> + Clone {
    (time(), 0_i64..100_000_000).prop_map(|(from, length)| (from, from.plus_seconds(length)))
}

fn word<T: Clone + Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> + Clone {
    select(all)
}

fn count() -> impl Strategy<Value = u32> + Clone {
    prop_oneof![0_u32..1000, any::<u32>()]
}

fn positive() -> impl Strategy<Value = u32> + Clone {
    prop_oneof![1_u32..1000, 1_u32..=u32::MAX]
}

fn people_counts() -> impl Strategy<Value = PeopleCounts> + Clone {
    (
        option::of(count()),
        option::of(count()),
        option::of(count()),
        option::of(count()),
        option::of(count()),
        option::of(count()),
    )
        .prop_map(|(a, b, c, d, e, f)| PeopleCounts {
            arrivals_this_period: a,
            arrivals_to_date: b,
            placed_to_date: c,
            awaiting_placement: d,
            unaccompanied_minors_to_date: e,
            households_this_period: f,
        })
}

/// Valid envelopes of `kind`.
pub fn envelope_of(kind: Kind) -> BoxedStrategy<Envelope> {
    let aggregate_type = match kind.aggregate_type() {
        Some(fixed) => Just(fixed).boxed(),
        None => select(AggregateType::ALL).boxed(),
    };
    let audience = prop_oneof![Just(Audience::Network), orgs(1..5).prop_map(Audience::Orgs),];
    let who = (
        event_id(),
        token(),
        org(),
        label(),
        aggregate_type,
        aggregate_id(),
    );
    let what = (
        time(),
        word(Status::ALL),
        audience,
        option::of(event_id()),
        option::of(event_id()),
        area(),
        option::of(lang()),
        payload_of(kind),
    );
    (who, what)
        .prop_map(
            |(
                (id, incident, org, function, aggregate_type, aggregate_id),
                (occurred_at, status, audience, correlation, causation, area, lang, payload),
            )| Envelope {
                id,
                incident: IncidentId::new(incident).expect("a token"),
                org,
                function,
                aggregate: AggregateRef::new(aggregate_type, aggregate_id),
                occurred_at,
                status,
                audience,
                correlation,
                causation,
                area,
                lang,
                payload,
            },
        )
        .boxed()
}

/// Valid envelopes of any kind.
pub fn any_envelope() -> BoxedStrategy<Envelope> {
    select(Kind::ALL).prop_flat_map(envelope_of).boxed()
}

/// Valid payloads of `kind`.
pub fn payload_of(kind: Kind) -> BoxedStrategy<Payload> {
    match kind {
        Kind::IncidentDeclared
        | Kind::IncidentPhaseChanged
        | Kind::OrganisationJoined
        | Kind::OrganisationLeft
        | Kind::ResponsibilityAssigned
        | Kind::OperationalPresenceDeclared
        | Kind::SiteRegistered
        | Kind::CapacityDeclared
        | Kind::OccupancyReported
        | Kind::SiteStatusChanged
        | Kind::HousingOffered
        | Kind::HousingOfferWithdrawn
        | Kind::OfferAnswered => network_and_housing(kind),
        Kind::NeedRaised
        | Kind::NeedUpdated
        | Kind::NeedClaimed
        | Kind::NeedClaimReleased
        | Kind::NeedMet
        | Kind::NeedCancelled
        | Kind::ResourceOffered
        | Kind::ResourceWithdrawn
        | Kind::ResourceCommitted
        | Kind::ResourceDelivered
        | Kind::ResourceReleased
        | Kind::ResourceReturnRequested => needs_and_resources(kind),
        Kind::IssueRaised
        | Kind::IssueAcknowledged
        | Kind::IssueAssigned
        | Kind::IssueEscalated
        | Kind::IssueResolved
        | Kind::IssueReopened
        | Kind::SituationReported
        | Kind::ArrivalsReported
        | Kind::ServiceCapacityReported
        | Kind::HospitalStatusReported
        | Kind::AlertIssued
        | Kind::InformationRequested
        | Kind::InformationProvided => issues_and_reports(kind),
        Kind::MeetingScheduled
        | Kind::MeetingHeld
        | Kind::DecisionRecorded
        | Kind::ActionAssigned
        | Kind::ActionCompleted
        | Kind::EventCorrected
        | Kind::EventRetracted => coordination_and_hygiene(kind),
    }
}

fn network_and_housing(kind: Kind) -> BoxedStrategy<Payload> {
    match kind {
        Kind::IncidentDeclared => (
            label(),
            word(IncidentType::ALL),
            btree_set(area(), 1..4),
            org(),
            time(),
            option::of(text()),
        )
            .prop_map(
                |(title, incident_type, areas, lead_org, started_at, description)| {
                    IncidentDeclared {
                        title,
                        incident_type,
                        areas,
                        lead_org,
                        started_at,
                        description,
                    }
                    .into()
                },
            )
            .boxed(),
        Kind::IncidentPhaseChanged => (word(IncidentPhase::ALL), option::of(text()))
            .prop_map(|(phase, reason)| IncidentPhaseChanged { phase, reason }.into())
            .boxed(),
        Kind::OrganisationJoined => (
            label(),
            word(OrgType::ALL),
            btree_set(label(), 0..4),
            option::of(label()),
        )
            .prop_map(|(name, org_type, functions, contact_function)| {
                OrganisationJoined {
                    name,
                    org_type,
                    functions,
                    contact_function,
                }
                .into()
            })
            .boxed(),
        Kind::OrganisationLeft => option::of(text())
            .prop_map(|reason| OrganisationLeft { reason }.into())
            .boxed(),
        Kind::ResponsibilityAssigned => (label(), org(), orgs(0..4))
            .prop_map(|(function, lead_org, supporting_orgs)| {
                ResponsibilityAssigned {
                    function,
                    lead_org,
                    supporting_orgs,
                }
                .into()
            })
            .boxed(),
        Kind::OperationalPresenceDeclared => (
            word(Sector::ALL),
            label(),
            word(PresenceStatus::ALL),
            option::of(time()),
            option::of(time()),
        )
            .prop_map(|(sector, activity, presence_status, starts_at, ends_at)| {
                OperationalPresenceDeclared {
                    sector,
                    activity,
                    presence_status,
                    starts_at,
                    ends_at,
                }
                .into()
            })
            .boxed(),
        Kind::SiteRegistered => (
            label(),
            word(SiteKind::ALL),
            btree_set(label(), 0..4),
            any::<bool>(),
        )
            .prop_map(|(name, site_kind, services, accessible)| {
                SiteRegistered {
                    name,
                    site_kind,
                    services,
                    accessible,
                }
                .into()
            })
            .boxed(),
        Kind::CapacityDeclared => count()
            .prop_flat_map(|beds| (Just(beds), option::of(0..=beds)))
            .prop_map(|(beds, night_only_beds)| {
                CapacityDeclared {
                    beds,
                    night_only_beds,
                }
                .into()
            })
            .boxed(),
        Kind::OccupancyReported => (
            0_u32..1_000_000,
            0_u32..1_000_000,
            option::of(0_u32..1_000_000),
        )
            .prop_map(|(occupied, reserved, headroom)| {
                let capacity = headroom.map(|extra| occupied + reserved + extra);
                OccupancyReported {
                    occupied,
                    reserved,
                    capacity,
                }
                .into()
            })
            .boxed(),
        Kind::SiteStatusChanged => (word(SiteStatus::ALL), option::of(text()))
            .prop_map(|(site_status, reason)| {
                SiteStatusChanged {
                    site_status,
                    reason,
                }
                .into()
            })
            .boxed(),
        Kind::HousingOffered => (
            word(HousingType::ALL),
            count(),
            positive(),
            period(),
            any::<bool>(),
            btree_set(word(Suitability::ALL), 0..4),
            option::of(org()),
        )
            .prop_map(
                |(
                    housing_type,
                    units,
                    beds,
                    (from, until),
                    open_ended,
                    suitable_for,
                    offered_to,
                )| {
                    HousingOffered {
                        housing_type,
                        units,
                        beds,
                        available_from: from,
                        available_until: (!open_ended).then_some(until),
                        suitable_for,
                        offered_to,
                    }
                    .into()
                },
            )
            .boxed(),
        Kind::HousingOfferWithdrawn => option::of(text())
            .prop_map(|reason| HousingOfferWithdrawn { reason }.into())
            .boxed(),
        _ => (
            word(OfferAnswer::ALL),
            option::of(count()),
            option::of(text()),
        )
            .prop_map(|(answer, quantity, reason)| {
                OfferAnswered {
                    answer,
                    quantity,
                    reason,
                }
                .into()
            })
            .boxed(),
    }
}

fn needs_and_resources(kind: Kind) -> BoxedStrategy<Payload> {
    match kind {
        Kind::NeedRaised => (
            (
                word(NeedCategory::ALL),
                option::of(label()),
                positive(),
                word(Unit::ALL),
            ),
            (option::of(count()), word(Urgency::ALL), option::of(time())),
            (option::of(org()), option::of(lang()), option::of(text())),
        )
            .prop_map(
                |(
                    (category, subcategory, quantity, unit),
                    (people, urgency, needed_by),
                    (addressed_to, language, note),
                )| {
                    NeedRaised {
                        category,
                        subcategory,
                        quantity,
                        unit,
                        people,
                        urgency,
                        needed_by,
                        addressed_to,
                        language,
                        note,
                    }
                    .into()
                },
            )
            .boxed(),
        Kind::NeedUpdated => (
            option::of(count()),
            option::of(word(Urgency::ALL)),
            option::of(time()),
            option::of(text()),
        )
            .prop_map(|(quantity, urgency, needed_by, reason)| {
                NeedUpdated {
                    quantity,
                    urgency,
                    needed_by,
                    reason,
                }
                .into()
            })
            .boxed(),
        Kind::NeedClaimed => (time(), option::of(count()), option::of(text()))
            .prop_map(|(claim_expires_at, quantity, note)| {
                NeedClaimed {
                    claim_expires_at,
                    quantity,
                    note,
                }
                .into()
            })
            .boxed(),
        Kind::NeedClaimReleased => option::of(text())
            .prop_map(|reason| NeedClaimReleased { reason }.into())
            .boxed(),
        Kind::NeedMet => (positive(), word(Fulfilment::ALL), option::of(text()))
            .prop_map(|(quantity, fulfilment, note)| {
                NeedMet {
                    quantity,
                    fulfilment,
                    note,
                }
                .into()
            })
            .boxed(),
        Kind::NeedCancelled => option::of(text())
            .prop_map(|reason| NeedCancelled { reason }.into())
            .boxed(),
        Kind::ResourceOffered => (
            word(ResourceCategory::ALL),
            positive(),
            word(Unit::ALL),
            option::of(period()),
            option::of(time()),
            option::of(text()),
        )
            .prop_map(
                |(category, quantity, unit, window, lone_until, conditions)| {
                    // With a start, the end follows it; without one, any end.
                    let (available_from, available_until) = match window {
                        Some((from, until)) => (Some(from), Some(until)),
                        None => (None, lone_until),
                    };
                    ResourceOffered {
                        category,
                        quantity,
                        unit,
                        available_from,
                        available_until,
                        conditions,
                    }
                    .into()
                },
            )
            .boxed(),
        Kind::ResourceWithdrawn => option::of(text())
            .prop_map(|reason| ResourceWithdrawn { reason }.into())
            .boxed(),
        Kind::ResourceCommitted => (
            prop_oneof![
                (aggregate_id(), option::of(aggregate_id())).prop_map(|(n, o)| (Some(n), o)),
                aggregate_id().prop_map(|o| (None, Some(o))),
            ],
            positive(),
            option::of(time()),
        )
            .prop_map(|((need, offer), quantity, expected_at)| {
                ResourceCommitted {
                    need,
                    offer,
                    quantity,
                    expected_at,
                }
                .into()
            })
            .boxed(),
        Kind::ResourceDelivered => (count(), option::of(aggregate_id()))
            .prop_map(|(quantity, need)| ResourceDelivered { quantity, need }.into())
            .boxed(),
        Kind::ResourceReleased => (option::of(count()), option::of(text()))
            .prop_map(|(quantity, reason)| ResourceReleased { quantity, reason }.into())
            .boxed(),
        _ => (time(), option::of(text()))
            .prop_map(|(return_by, reason)| ResourceReturnRequested { return_by, reason }.into())
            .boxed(),
    }
}
