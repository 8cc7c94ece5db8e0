//! The examples are valid, deterministic and complete, and the catalogue is consistent.

use std::collections::BTreeSet;

use proto_events::envelope::Audience;
use proto_events::examples::{all_examples, example};
use proto_events::schema::envelope_schema;
use proto_events::vocab::Status;
use proto_events::{Kind, Payload};
use serde_json::Value;

#[test]
fn every_example_validates() {
    for envelope in all_examples() {
        if let Err(error) = envelope.validate() {
            panic!("the {} example is invalid: {error}", envelope.kind());
        }
    }
}

#[test]
fn there_is_one_deterministic_example_per_kind() {
    let examples = all_examples();
    assert_eq!(examples.len(), Kind::ALL.len());
    for (envelope, kind) in examples.iter().zip(Kind::ALL) {
        assert_eq!(envelope.kind(), *kind);
        assert_eq!(
            *envelope,
            example(*kind),
            "{kind} example changes between calls"
        );
    }
    let ids: BTreeSet<_> = examples.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), examples.len(), "two examples share an id");
    for envelope in &examples {
        assert_eq!(
            envelope.id.as_uuid().get_version_num(),
            7,
            "{}",
            envelope.kind()
        );
    }
}

#[test]
fn kind_wire_names_are_unique_snake_case_and_round_trip() {
    let names: BTreeSet<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names.len(), Kind::ALL.len(), "duplicate wire names");
    for kind in Kind::ALL {
        let name = kind.as_str();
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && !name.starts_with('_')
                && !name.ends_with('_'),
            "{name} is not snake_case"
        );
        assert_eq!(Kind::from_name(name), Some(*kind));
        assert!(kind.current_version() >= 1);
        assert_eq!(kind.aggregate_type().is_none(), kind.is_hygiene(), "{name}");
    }
    let payload_types: BTreeSet<&str> = Kind::ALL.iter().map(|k| k.payload_type_name()).collect();
    assert_eq!(
        payload_types.len(),
        Kind::ALL.len(),
        "two kinds share a payload type"
    );
    assert_eq!(Kind::from_name("NeedRaised"), None);
}

/// Between them the examples fill every field, so the vectors exercise every field's
/// encoding: each example's payload has every property its schema lists.
#[test]
fn examples_fill_every_payload_field() {
    for kind in Kind::ALL {
        let schema = envelope_schema(Some(*kind)).to_value();
        let pointer = format!("/$defs/{}/properties", kind.payload_type_name());
        let properties = schema
            .pointer(&pointer)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{kind}: no {pointer} in its schema"));
        let payload = serde_json::to_value(example(*kind)).expect("JSON")["payload"].clone();
        for name in properties.keys() {
            assert!(
                payload.get(name).is_some(),
                "the {kind} example leaves payload.{name} out"
            );
        }
    }
}

#[test]
fn examples_cover_the_envelope_options() {
    let examples = all_examples();
    let statuses: BTreeSet<Status> = examples.iter().map(|e| e.status).collect();
    assert_eq!(statuses.len(), Status::ALL.len(), "every status is used");
    assert!(examples.iter().any(|e| e.correlation.is_some()));
    assert!(examples.iter().any(|e| e.correlation.is_none()));
    assert!(examples.iter().any(|e| e.causation.is_some()));
    assert!(examples.iter().any(|e| e.lang.is_some()));
    assert!(examples.iter().any(|e| e.lang.is_none()));
    assert!(
        examples
            .iter()
            .any(|e| matches!(e.audience, Audience::Orgs(_)))
    );
    assert!(examples.iter().any(|e| e.audience == Audience::Network));
    assert!(
        examples
            .iter()
            .any(|e| e.occurred_at.as_unix_nanos() % 1_000_000_000 != 0),
        "one example has fractional seconds"
    );
}

#[test]
fn the_correction_example_replaces_the_need_raised_example() {
    let correction = example(Kind::EventCorrected);
    let raised = example(Kind::NeedRaised);
    let Payload::EventCorrected(corrected) = &correction.payload else {
        panic!("not a correction");
    };
    assert_eq!(corrected.supersedes, raised.id);
    assert_eq!(corrected.replacement.kind(), Kind::NeedRaised);
    assert_eq!(correction.aggregate, raised.aggregate);
    assert_ne!(
        *corrected.replacement.0, raised.payload,
        "the correction changes something"
    );
    let retraction = example(Kind::EventRetracted);
    let Payload::EventRetracted(retracted) = &retraction.payload else {
        panic!("not a retraction");
    };
    let superseded = all_examples()
        .into_iter()
        .find(|e| e.id == retracted.supersedes)
        .expect("the retraction supersedes an example");
    assert_eq!(retraction.aggregate, superseded.aggregate);
}

/// Threads point at other examples, never at nothing, and never forward in time.
#[test]
fn example_threads_point_at_earlier_examples() {
    let examples = all_examples();
    for envelope in &examples {
        for target in [envelope.correlation, envelope.causation]
            .into_iter()
            .flatten()
        {
            let earlier = examples
                .iter()
                .find(|e| e.id == target)
                .unwrap_or_else(|| panic!("{} points at an unknown event", envelope.kind()));
            assert!(
                earlier.occurred_at <= envelope.occurred_at,
                "{} answers the later {}",
                envelope.kind(),
                earlier.kind()
            );
        }
    }
}
