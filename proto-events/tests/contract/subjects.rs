//! NATS subjects: built from the envelope, parsed strictly, never a wildcard.

use std::str::FromStr;

use proto_events::examples::all_examples;
use proto_events::subject::{aggregate_filter, inbox_prefix, incident_filter, ingest_permission};
use proto_events::vocab::AggregateType;
use proto_events::{AggregateId, AggregateRef, EventSubject, IncidentId, IngestSubject, OrgId};

fn event_subject() -> EventSubject {
    EventSubject {
        incident: IncidentId::new("malmo-reception-2026").expect("valid"),
        org: OrgId::new("migrationsverket").expect("valid"),
        aggregate: AggregateRef::new(
            AggregateType::InformationRequest,
            AggregateId::new("rfi_housing-01").expect("valid"),
        ),
    }
}

#[test]
fn event_subjects_round_trip() {
    let subject = event_subject();
    let text = subject.to_string();
    assert_eq!(
        text,
        "samla.evt.malmo-reception-2026.migrationsverket.information_request.rfi_housing-01"
    );
    assert_eq!(EventSubject::from_str(&text), Ok(subject.clone()));
    assert_eq!(
        subject.aggregate_filter(),
        "samla.evt.malmo-reception-2026.*.information_request.rfi_housing-01"
    );
    assert_eq!(
        subject.aggregate_filter(),
        aggregate_filter(
            &subject.incident,
            subject.aggregate.kind,
            &subject.aggregate.id
        )
    );
    assert_eq!(
        incident_filter(&subject.incident),
        "samla.evt.malmo-reception-2026.>"
    );
}

#[test]
fn every_example_has_a_subject_that_parses_back() {
    for envelope in all_examples() {
        let subject = envelope.subject();
        let text = subject.to_string();
        assert_eq!(text.split('.').count(), 6, "{text}");
        assert_eq!(EventSubject::from_str(&text), Ok(subject), "{text}");
    }
}

#[test]
fn ingest_subjects_round_trip() {
    let subject = IngestSubject {
        incident: IncidentId::new("malmo-reception-2026").expect("valid"),
        org: OrgId::new("radda-barnen").expect("valid"),
    };
    let text = subject.to_string();
    assert_eq!(text, "samla.ingest.malmo-reception-2026.radda-barnen");
    assert_eq!(IngestSubject::from_str(&text), Ok(subject.clone()));
    assert_eq!(
        ingest_permission(&subject.org),
        "samla.ingest.*.radda-barnen"
    );
    assert_eq!(inbox_prefix(&subject.org), "_INBOX_radda-barnen");
}

#[test]
fn event_subject_parsing_refuses_wildcards_missing_tokens_and_upper_case() {
    for bad in [
        "samla.evt.*.migrationsverket.need.need-1",
        "samla.evt.malmo.>",
        "samla.evt.malmo.migrationsverket.need.>",
        "samla.evt.malmo.*.need.need-1",
        "samla.evt.malmo.migrationsverket.need",
        "samla.evt.malmo.migrationsverket",
        "samla.evt.",
        "samla.evt",
        "samla.evt.malmo..need.need-1",
        "samla.evt.malmo.migrationsverket.need.need-1.extra",
        "samla.evt.Malmo.migrationsverket.need.need-1",
        "samla.evt.malmo.Migrationsverket.need.need-1",
        "samla.evt.malmo.migrationsverket.Need.need-1",
        "samla.evt.malmo.migrationsverket.need.NEED-1",
        "samla.evt.malmo.migrationsverket.person.p-1",
        "samla.evt.malmö.migrationsverket.need.need-1",
        "samla.evt.malmo.migrations verket.need.need-1",
        "samla.ingest.malmo.migrationsverket",
        "SAMLA.EVT.malmo.migrationsverket.need.need-1",
        "",
    ] {
        let error = EventSubject::from_str(bad).expect_err(bad);
        assert_eq!(error.subject, bad);
        assert!(!error.reason.is_empty());
    }
}

#[test]
fn ingest_subject_parsing_refuses_wildcards_missing_tokens_and_upper_case() {
    for bad in [
        "samla.ingest.*.radda-barnen",
        "samla.ingest.malmo.*",
        "samla.ingest.>",
        "samla.ingest.malmo",
        "samla.ingest.malmo.radda-barnen.extra",
        "samla.ingest.Malmo.radda-barnen",
        "samla.ingest.malmo.Radda-Barnen",
        "samla.ingest..radda-barnen",
        "samla.evt.malmo.radda-barnen",
        "",
    ] {
        assert!(IngestSubject::from_str(bad).is_err(), "{bad}");
    }
}
