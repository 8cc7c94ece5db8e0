//! The generator's promises, checked on real output: determinism, validity, lifecycles,
//! guard-safe ids, coverage of every kind, sizes, and exact-length prefixes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use proto_events::payload::{NeedClaimed, NeedMet};
use proto_events::validate::guard_text;
use proto_events::vocab::{AggregateType, Fulfilment, Status};
use proto_events::{AggregateRef, Audience, Envelope, EventId, Kind, Payload, encode_msgpack};
use samla_sim::{Crisis, CrisisConfig, generate, generate_n, longest_digit_run, organisations};

fn demo() -> Vec<Envelope> {
    generate(CrisisConfig::demo())
}

fn encoded(events: &[Envelope]) -> Vec<Vec<u8>> {
    events.iter().map(encode_msgpack).collect()
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes() {
    let first = encoded(&demo());
    let second = encoded(&demo());
    assert_eq!(first.len(), second.len());
    assert!(first == second, "two runs of the demo differ");
    let other = encoded(&generate(CrisisConfig::demo().with_seed(7)));
    assert_ne!(first, other);
    // A larger scale is deterministic too.
    let config = CrisisConfig {
        scale: 3,
        days: 5,
        ..CrisisConfig::demo()
    };
    assert!(encoded(&generate(config.clone())) == encoded(&generate(config)));
}

#[test]
fn every_event_of_a_twenty_thousand_event_crisis_validates_and_follows_its_lifecycle() {
    let config = CrisisConfig::sized_for(20_000);
    let events = generate(config.clone());
    println!(
        "sized_for(20000) = scale {} days {}: {} events",
        config.scale,
        config.days,
        events.len()
    );
    assert!(
        (18_000..40_000).contains(&events.len()),
        "{} events",
        events.len()
    );
    for event in &events {
        if let Err(error) = event.validate() {
            panic!("{} {} does not validate: {error}", event.kind(), event.id);
        }
    }
    check_lifecycles(&events);
}

#[test]
fn the_demo_follows_its_lifecycles_and_reports_its_mix() {
    let events = demo();
    for event in &events {
        event
            .validate()
            .unwrap_or_else(|error| panic!("{} does not validate: {error}", event.kind()));
    }
    check_lifecycles(&events);

    let mut kinds: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut sizes: BTreeMap<Kind, usize> = BTreeMap::new();
    for event in &events {
        *kinds.entry(event.kind()).or_default() += 1;
        *sizes.entry(event.kind()).or_default() += encode_msgpack(event).len();
    }
    let bytes: usize = events.iter().map(|e| encode_msgpack(e).len()).sum();
    let mean = bytes / events.len();
    println!(
        "demo: {} events, mean msgpack size {mean} bytes",
        events.len()
    );
    for (kind, count) in &kinds {
        println!(
            "  {kind:<32} {count:>5}  mean {} bytes",
            sizes[kind] / count
        );
    }
    let missing: Vec<_> = Kind::ALL
        .iter()
        .filter(|kind| !kinds.contains_key(kind))
        .collect();
    assert!(
        missing.is_empty(),
        "kinds missing from the demo: {missing:?}"
    );
    assert!(
        (2_000..=4_000).contains(&events.len()),
        "{} events",
        events.len()
    );
    // The envelope alone is about 330 bytes with named fields (three UUIDs, a timestamp,
    // the function); situation reports with their counts are about 700.
    assert!((300..=500).contains(&mean), "mean size {mean}");

    let needs: BTreeSet<_> = events
        .iter()
        .filter(|e| e.aggregate.kind == AggregateType::Need)
        .map(|e| &e.aggregate.id)
        .collect();
    assert!(needs.len() >= 200, "{} needs", needs.len());

    let exercise = events
        .iter()
        .filter(|e| e.status == Status::Exercise)
        .count();
    let restricted = events
        .iter()
        .filter(|e| matches!(e.audience, Audience::Orgs(_)))
        .count();
    println!("  exercise {exercise}, restricted {restricted}");
    assert!(exercise >= 6, "{exercise} exercise events");
    assert!(restricted >= 50, "{restricted} restricted events");

    let orgs = organisations(&CrisisConfig::demo());
    assert_eq!(orgs.len(), 10);
    let emitters: BTreeSet<_> = events.iter().map(|e| e.org.clone()).collect();
    assert_eq!(emitters, orgs.iter().map(|o| o.id.clone()).collect());
}

#[test]
fn lifecycles_hold_for_other_seeds_lengths_and_scales() {
    for seed in 1..=40u64 {
        let config = CrisisConfig {
            seed,
            days: 1 + (seed as u32 % 21),
            scale: 1 + (seed as u32 % 3),
            exercise_share_percent: [0, 2, 50, 100][(seed % 4) as usize],
            restricted_share_percent: [0, 8, 100, 30][((seed / 4) % 4) as usize],
            ..CrisisConfig::demo()
        };
        let events = generate(config);
        for event in &events {
            event
                .validate()
                .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        }
        check_lifecycles(&events);
    }
}

#[test]
fn ids_carry_no_personal_data_and_no_long_digit_runs() {
    let events = generate(CrisisConfig {
        scale: 2,
        ..CrisisConfig::demo()
    });
    let mut ids = BTreeSet::new();
    for event in &events {
        assert!(ids.insert(event.id), "duplicate event id {}", event.id);
        for (field, value) in [
            ("incident", event.incident.as_str()),
            ("org", event.org.as_str()),
            ("aggregate.id", event.aggregate.id.as_str()),
            ("area", event.area.as_str()),
            ("id", &event.id.to_string()),
        ] {
            guard_text(field, value).unwrap_or_else(|error| panic!("{error}"));
            // The municipality code is four digits by definition; everything else
            // keeps to three.
            if value != "1280" && field != "id" {
                assert!(longest_digit_run(value) <= 3, "{field} {value:?}");
            }
        }
        // Free text: no digit run longer than three anywhere in the payload.
        let json = serde_json::to_value(&event.payload).unwrap_or_default();
        check_strings(&json);
        // Event ids are UUIDv7 carrying occurred_at's milliseconds.
        let uuid = event.id.as_uuid();
        assert_eq!(uuid.get_version_num(), 7);
        let (seconds, nanos) = uuid
            .get_timestamp()
            .map(|t| t.to_unix())
            .unwrap_or_default();
        let millis = i128::from(seconds) * 1000 + i128::from(nanos / 1_000_000);
        assert_eq!(millis, event.occurred_at.as_unix_nanos() / 1_000_000);
    }
}

fn check_strings(value: &serde_json::Value) {
    match value {
        // Timestamps, event ids and the municipality code are the places long digit runs
        // belong.
        serde_json::Value::String(text)
            if text != "1280"
                && proto_events::Timestamp::parse(text).is_err()
                && EventId::parse(text).is_err() =>
        {
            assert!(longest_digit_run(text) <= 3, "text {text:?}");
        }
        serde_json::Value::Array(items) => items.iter().for_each(check_strings),
        serde_json::Value::Object(fields) => fields.values().for_each(check_strings),
        _ => {}
    }
}

#[test]
fn a_hundred_thousand_events_stream_without_trouble() {
    let started = Instant::now();
    let config = CrisisConfig::sized_for(100_000);
    let mut crisis = Crisis::new(config.clone());
    let mut count = 0usize;
    let mut kinds = BTreeSet::new();
    let mut aggregates = 0usize;
    for event in crisis.by_ref().take(100_000) {
        count += 1;
        kinds.insert(event.kind());
        if event.kind() == Kind::NeedRaised {
            aggregates += 1;
        }
    }
    println!(
        "100,000 events (scale {}, {} days) in {:?}; {} needs raised; reached day {}",
        config.scale,
        config.days,
        started.elapsed(),
        aggregates,
        crisis.current_day()
    );
    assert_eq!(count, 100_000);
    assert_eq!(
        kinds.len(),
        Kind::ALL.len() - missing_below_full_length(&kinds).len()
    );
    assert!(aggregates >= 10_000, "{aggregates} needs");
}

/// The kinds that only the end of a crisis produces (it is cut at 100,000 events).
fn missing_below_full_length(kinds: &BTreeSet<Kind>) -> Vec<Kind> {
    let late = [Kind::OrganisationLeft];
    Kind::ALL
        .iter()
        .copied()
        .filter(|kind| !kinds.contains(kind) && late.contains(kind))
        .collect()
}

#[test]
fn generate_n_gives_exactly_n_events_with_a_mix_of_kinds() {
    for n in [0, 1, 17, 200, 1_500, 6_000] {
        let events = generate_n(11, n);
        assert_eq!(events.len(), n);
        assert!(events.iter().all(|e| e.validate().is_ok()));
    }
    let kinds: BTreeSet<Kind> = generate_n(11, 200).iter().map(Envelope::kind).collect();
    assert!(
        kinds.len() >= 12,
        "only {} kinds in 200 events: {kinds:?}",
        kinds.len()
    );
    let kinds: BTreeSet<Kind> = generate_n(11, 1_500).iter().map(Envelope::kind).collect();
    assert!(
        kinds.len() >= 35,
        "only {} kinds in 1,500 events",
        kinds.len()
    );
    // The same seed and length give the same events.
    assert!(encoded(&generate_n(3, 500)) == encoded(&generate_n(3, 500)));
}

#[test]
fn decisions_record_the_position_they_were_based_on_and_days_are_counted() {
    let crisis = Crisis::new(CrisisConfig::demo());
    let days = CrisisConfig::demo().days;
    let mut decisions = 0;
    let mut last_day = 0;
    let events: Vec<Envelope> = Crisis::new(CrisisConfig::demo()).collect();
    for (index, event) in events.iter().enumerate() {
        if let Payload::DecisionRecorded(decision) = &event.payload {
            assert_eq!(decision.based_on_seq, index as u64);
            decisions += 1;
        }
        last_day = last_day.max(crisis.day_of(event));
    }
    assert!(decisions >= 5, "{decisions} decisions");
    assert_eq!(last_day, days - 1);
}

// ----- the lifecycle checker -------------------------------------------------------------

#[derive(Default)]
struct AggregateState {
    kinds: Vec<Kind>,
    status: Option<Status>,
    audience: Option<Audience>,
    last_occurred: Option<proto_events::Timestamp>,
    need: NeedState,
    issue_resolved: bool,
    closed: bool,
    /// The creating event was retracted: nothing may follow but hygiene.
    retracted: bool,
    committed: bool,
    delivered: bool,
}

#[derive(Default)]
struct NeedState {
    claim: Option<(proto_events::OrgId, proto_events::Timestamp)>,
}

fn check_lifecycles(events: &[Envelope]) {
    let mut seen: BTreeMap<
        EventId,
        (
            AggregateRef,
            Kind,
            proto_events::OrgId,
            proto_events::Timestamp,
        ),
    > = BTreeMap::new();
    let mut aggregates: BTreeMap<AggregateRef, AggregateState> = BTreeMap::new();
    let mut joined = BTreeSet::new();
    let mut left = BTreeSet::new();
    let mut latest = None;
    let mut late_reports = 0;
    for event in events {
        let key = event.aggregate.clone();
        let kind = event.kind();
        let context = format!("{kind} {} on {} {}", event.id, key.kind, key.id);

        // Organisations speak only while members (the convenor declares, then joins).
        if matches!(kind, Kind::OrganisationJoined | Kind::IncidentDeclared) {
            joined.insert(event.org.clone());
        }
        assert!(
            joined.contains(&event.org),
            "{context}: {} has not joined",
            event.org
        );
        assert!(
            !left.contains(&event.org),
            "{context}: {} has left",
            event.org
        );
        if kind == Kind::OrganisationLeft {
            left.insert(event.org.clone());
        }

        // Threads point backwards.
        for (name, reference) in [
            ("correlation", event.correlation),
            ("causation", event.causation),
        ] {
            if let Some(reference) = reference {
                assert!(
                    seen.contains_key(&reference),
                    "{context}: {name} {reference} is not an earlier event"
                );
            }
        }
        // Aggregate references point at aggregates that exist, of the same status (an
        // exercise never touches an actual aggregate), and a network-visible event never
        // names a restricted aggregate.
        for reference in referenced_aggregates(&event.payload) {
            let target = aggregates.get(&reference).unwrap_or_else(|| {
                panic!(
                    "{context}: refers to unknown {} {}",
                    reference.kind, reference.id
                )
            });
            assert_eq!(
                target.status,
                Some(event.status),
                "{context}: refers across statuses"
            );
            if event.audience == Audience::Network {
                assert_eq!(
                    target.audience,
                    Some(Audience::Network),
                    "{context}: names a restricted aggregate"
                );
            }
        }

        // Time: mostly forward; late reports go back, but never within an aggregate.
        if let Some(latest) = latest
            && event.occurred_at.seconds_since(latest) < -3600
        {
            late_reports += 1;
        }
        latest = latest.max(Some(event.occurred_at));

        let state = aggregates.entry(key.clone()).or_default();
        if state.kinds.is_empty() {
            assert!(
                creates(kind, key.kind),
                "{context}: an aggregate cannot start with {kind}"
            );
        } else if opens_once(key.kind) {
            assert!(
                !creates(kind, key.kind),
                "{context}: the aggregate already exists"
            );
        }
        assert!(
            !state.retracted || kind.is_hygiene(),
            "{context}: after the creating event was retracted"
        );
        // An aggregate is exercise or actual, network or restricted, for its whole life
        // (an organisation's own aggregate is shared by joins and leaves alike).
        assert!(
            state.status.is_none_or(|s| s == event.status),
            "{context}: status changed"
        );
        state.status = Some(event.status);
        if key.kind != AggregateType::Incident && key.kind != AggregateType::Org {
            assert!(
                state.audience.as_ref().is_none_or(|a| *a == event.audience),
                "{context}: audience changed"
            );
        }
        state.audience = Some(event.audience.clone());
        if let Audience::Orgs(orgs) = &event.audience {
            assert!(
                orgs.contains(&event.org),
                "{context}: the emitter is outside the audience"
            );
        }

        match &event.payload {
            Payload::EventCorrected(correction) => {
                let (target_aggregate, target_kind, target_org, target_at) = seen
                    .get(&correction.supersedes)
                    .unwrap_or_else(|| panic!("{context}: corrects an unknown event"));
                assert_eq!(
                    target_aggregate, &key,
                    "{context}: corrects another aggregate"
                );
                assert_eq!(
                    *target_kind,
                    correction.replacement.kind(),
                    "{context}: replacement of another kind"
                );
                assert!(
                    !target_kind.is_hygiene(),
                    "{context}: corrects a correction"
                );
                assert_eq!(
                    target_org, &event.org,
                    "{context}: not the original emitter"
                );
                assert!(
                    event.occurred_at >= *target_at,
                    "{context}: corrects the future"
                );
                assert_eq!(event.causation, Some(correction.supersedes));
            }
            Payload::EventRetracted(retraction) => {
                let (target_aggregate, target_kind, target_org, target_at) = seen
                    .get(&retraction.supersedes)
                    .unwrap_or_else(|| panic!("{context}: retracts an unknown event"));
                assert_eq!(
                    target_aggregate, &key,
                    "{context}: retracts another aggregate"
                );
                assert!(
                    !target_kind.is_hygiene(),
                    "{context}: retracts a correction"
                );
                assert_eq!(
                    target_org, &event.org,
                    "{context}: not the original emitter"
                );
                assert!(
                    event.occurred_at >= *target_at,
                    "{context}: retracts the future"
                );
                if creates(*target_kind, key.kind) {
                    state.retracted = true;
                }
            }
            payload => {
                if let Some(last) = state.last_occurred {
                    assert!(
                        event.occurred_at >= last,
                        "{context}: occurred before the aggregate's previous event"
                    );
                }
                state.last_occurred = Some(event.occurred_at);
                check_transition(state, event, payload, &context);
            }
        }
        state.kinds.push(kind);
        assert!(
            seen.insert(event.id, (key, kind, event.org.clone(), event.occurred_at))
                .is_none(),
            "{context}: duplicate id"
        );
    }
    if events.len() >= 2_000 {
        assert!(late_reports >= 3, "only {late_reports} late reports");
    }
    let corrections = events
        .iter()
        .filter(|e| e.kind() == Kind::EventCorrected)
        .count();
    let retractions = events
        .iter()
        .filter(|e| e.kind() == Kind::EventRetracted)
        .count();
    println!(
        "checked {} events: {late_reports} late reports, {corrections} corrections, {retractions} retractions",
        events.len()
    );
}

fn check_transition(
    state: &mut AggregateState,
    event: &Envelope,
    payload: &Payload,
    context: &str,
) {
    let at = event.occurred_at;
    match payload {
        Payload::NeedUpdated(_) | Payload::NeedCancelled(_) => {
            assert!(!state.closed, "{context}: need already closed");
            if matches!(payload, Payload::NeedCancelled(_)) {
                state.closed = true;
            }
        }
        Payload::NeedClaimed(NeedClaimed {
            claim_expires_at, ..
        }) => {
            assert!(!state.closed, "{context}: need already closed");
            if let Some((_, expires)) = &state.need.claim {
                assert!(
                    *expires < at,
                    "{context}: claimed while another claim is live"
                );
            }
            state.need.claim = Some((event.org.clone(), *claim_expires_at));
        }
        Payload::NeedClaimReleased(_) => {
            let claim = state.need.claim.take();
            assert!(
                claim.is_some_and(|(org, expires)| org == event.org && at <= expires),
                "{context}: no live claim of the emitter"
            );
        }
        Payload::NeedMet(NeedMet { fulfilment, .. }) => {
            assert!(!state.closed, "{context}: need already closed");
            if let Some((org, expires)) = &state.need.claim
                && *org == event.org
            {
                assert!(at <= *expires, "{context}: met after the claim expired");
            }
            if *fulfilment == Fulfilment::Fully {
                state.closed = true;
            }
        }
        Payload::IssueAcknowledged(_) | Payload::IssueAssigned(_) | Payload::IssueEscalated(_) => {
            assert!(!state.issue_resolved, "{context}: issue is resolved");
        }
        Payload::IssueResolved(_) => {
            assert!(!state.issue_resolved, "{context}: resolved twice");
            state.issue_resolved = true;
        }
        Payload::IssueReopened(_) => {
            assert!(state.issue_resolved, "{context}: reopened an open issue");
            state.issue_resolved = false;
        }
        Payload::ResourceCommitted(_) | Payload::ResourceWithdrawn(_) => {
            assert!(!state.closed, "{context}: resource withdrawn");
            state.committed = true;
            state.closed = matches!(payload, Payload::ResourceWithdrawn(_));
        }
        Payload::ResourceDelivered(_) => {
            assert!(state.committed, "{context}: delivered uncommitted");
            state.delivered = true;
        }
        Payload::ResourceReleased(_) | Payload::ResourceReturnRequested(_) => {
            assert!(state.delivered, "{context}: nothing delivered");
        }
        Payload::OfferAnswered(_) | Payload::HousingOfferWithdrawn(_) => {
            assert!(!state.closed, "{context}: offer withdrawn");
            state.closed = matches!(payload, Payload::HousingOfferWithdrawn(_));
        }
        Payload::ActionCompleted(_) | Payload::InformationProvided(_) | Payload::MeetingHeld(_) => {
            assert!(!state.closed, "{context}: done twice");
            state.closed = true;
        }
        _ => {}
    }
}

/// Which kinds may open an aggregate of each type.
fn creates(kind: Kind, aggregate: AggregateType) -> bool {
    match aggregate {
        AggregateType::Need => kind == Kind::NeedRaised,
        AggregateType::Issue => kind == Kind::IssueRaised,
        AggregateType::Resource => kind == Kind::ResourceOffered,
        AggregateType::Offer => kind == Kind::HousingOffered,
        AggregateType::Site => kind == Kind::SiteRegistered,
        AggregateType::Meeting => kind == Kind::MeetingScheduled,
        AggregateType::Action => kind == Kind::ActionAssigned,
        AggregateType::InformationRequest => kind == Kind::InformationRequested,
        AggregateType::Incident => kind == Kind::IncidentDeclared,
        AggregateType::Org => kind == Kind::OrganisationJoined,
        _ => !kind.is_hygiene(),
    }
}

/// Aggregate types whose creating kind appears once (series such as reports repeat theirs).
fn opens_once(aggregate: AggregateType) -> bool {
    matches!(
        aggregate,
        AggregateType::Need
            | AggregateType::Issue
            | AggregateType::Resource
            | AggregateType::Offer
            | AggregateType::Site
            | AggregateType::Meeting
            | AggregateType::Action
            | AggregateType::InformationRequest
            | AggregateType::Incident
    )
}

fn referenced_aggregates(payload: &Payload) -> Vec<AggregateRef> {
    let need = |id: &proto_events::AggregateId| AggregateRef::new(AggregateType::Need, id.clone());
    match payload {
        Payload::IssueRaised(x) => x.refs.iter().cloned().collect(),
        Payload::IssueResolved(x) => x.refs.iter().cloned().collect(),
        Payload::MeetingHeld(x) => x.agenda.iter().cloned().collect(),
        Payload::DecisionRecorded(x) => {
            let mut refs: Vec<_> = x.refs.iter().cloned().collect();
            refs.extend(
                x.meeting
                    .iter()
                    .map(|id| AggregateRef::new(AggregateType::Meeting, id.clone())),
            );
            refs
        }
        Payload::ActionAssigned(x) => x
            .decision
            .iter()
            .map(|id| AggregateRef::new(AggregateType::Decision, id.clone()))
            .collect(),
        Payload::ResourceCommitted(x) => {
            let mut refs: Vec<_> = x.need.iter().map(need).collect();
            refs.extend(
                x.offer
                    .iter()
                    .map(|id| AggregateRef::new(AggregateType::Offer, id.clone())),
            );
            refs
        }
        Payload::ResourceDelivered(x) => x.need.iter().map(need).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn an_ongoing_crisis_has_no_closing_steps_and_otherwise_the_same_events() {
    let closed = demo();
    let ongoing = generate(CrisisConfig {
        ongoing: true,
        ..CrisisConfig::demo()
    });
    let closing = |events: &[Envelope]| {
        events
            .iter()
            .filter(|event| {
                event.kind() == Kind::OrganisationLeft
                    || matches!(&event.payload, Payload::IncidentPhaseChanged(change)
                        if change.phase == proto_events::vocab::IncidentPhase::Closed)
            })
            .count()
    };
    assert!(closing(&closed) >= 3, "the default crisis closes");
    assert_eq!(closing(&ongoing), 0, "an ongoing one does not");
    let ids = |events: &[Envelope]| events.iter().map(|e| e.id).collect::<BTreeSet<_>>();
    assert!(
        ids(&ongoing).is_subset(&ids(&closed)),
        "the same events up to the end"
    );
    // The four closing steps: the final joint report, two organisations leaving, closed.
    assert_eq!(closed.len() - ongoing.len(), 4);
}
