//! Bad input is refused with the error code and the field a caller needs, never a panic.
//!
//! Each refusal is checked the four ways a tool may send an event (JSON or MessagePack,
//! `kind` first or `payload` first) where the way matters. Tests of personal data go
//! through decoding and then `Envelope::validate`, as ingest does.

use std::time::{Duration, Instant};

use proto_events::codec::{MAX_EVENT_BYTES, encode_msgpack};
use proto_events::examples::{all_examples, example};
use proto_events::{DecodeError, Kind, decode_json, decode_msgpack, encode_json};
use serde_json::{Value, json};

use crate::support::{
    ALL_WAYS, Encoding, Order, assert_malformed_at, assert_refused_at, decode, decode_all_ways,
    encode_value, example_value,
};

// ----- personal data (these depend on the real guard in src/guard.rs) ---------------------

fn with_note(note: &str) -> Value {
    let mut value = example_value(Kind::NeedClaimed);
    value["payload"]["note"] = json!(note);
    value
}

#[test]
fn personal_identity_number_with_century_in_a_note_is_refused() {
    assert_refused_at(
        &with_note("Gäller barnet med personnummer 19121212-1212."),
        "payload.note",
        "personal_data",
    );
}

#[test]
fn personal_identity_number_without_century_in_a_note_is_refused() {
    assert_refused_at(
        &with_note("Avser 121212-1212 i gruppen."),
        "payload.note",
        "personal_data",
    );
}

#[test]
fn coordination_number_in_a_note_is_refused() {
    // Day 12 + 60 = 72; the last digit is the Luhn check digit.
    assert_refused_at(
        &with_note("Samordningsnummer 121272-1219."),
        "payload.note",
        "personal_data",
    );
}

#[test]
fn email_address_in_an_issue_summary_is_refused() {
    let mut value = example_value(Kind::IssueRaised);
    value["payload"]["summary"] =
        json!("Kontakta handläggaren på anna.andersson@example.se om skolplatserna.");
    assert_refused_at(&value, "payload.summary", "personal_data");
}

#[test]
fn personal_identity_number_hidden_in_an_aggregate_id_is_refused() {
    let mut value = example_value(Kind::NeedRaised);
    value["aggregate"]["id"] = json!("need-191212121212");
    assert_refused_at(&value, "aggregate.id", "personal_data");
}

#[test]
fn personal_data_in_a_correction_replacement_is_refused() {
    let mut value = example_value(Kind::EventCorrected);
    value["payload"]["replacement"]["payload"]["note"] = json!("Gäller 19121212-1212.");
    assert_refused_at(&value, "payload.replacement.payload.note", "personal_data");
}

#[test]
fn the_personal_data_error_says_what_was_found_and_where() {
    let envelope = decode_json(&serde_json::to_vec(&with_note("Pnr 19121212-1212")).expect("JSON"))
        .expect("decodes");
    let error = envelope.validate().expect_err("refused");
    assert_eq!(error.field, "payload.note");
    assert!(error.personal_data.is_some());
    assert!(
        error.reason.contains("characters 4..17"),
        "{}",
        error.reason
    );
}

// ----- identifiers, numbers and times ---------------------------------------------------

#[test]
fn organisation_ids_that_could_inject_into_a_subject_are_refused() {
    for bad in ["a.b", "x>", "*", "malmo stad", "Malmo-stad", "malmö", ""] {
        let mut value = example_value(Kind::NeedRaised);
        value["org"] = json!(bad);
        let reason = assert_malformed_at(&value, "org");
        assert!(reason.contains("organisation id"), "{bad:?}: {reason}");
    }
    let mut value = example_value(Kind::NeedRaised);
    value["org"] = json!("a".repeat(65));
    assert_malformed_at(&value, "org");
}

#[test]
fn other_tokens_are_checked_where_they_are() {
    let mut value = example_value(Kind::NeedRaised);
    value["aggregate"]["id"] = json!("need.1");
    assert_malformed_at(&value, "aggregate.id");
    let mut value = example_value(Kind::NeedRaised);
    value["incident"] = json!("malmo>");
    assert_malformed_at(&value, "incident");
    let mut value = example_value(Kind::NeedRaised);
    value["payload"]["addressed_to"] = json!("region.skane");
    assert_malformed_at(&value, "payload.addressed_to");
    let mut value = example_value(Kind::NeedRaised);
    value["id"] = json!("019CB2A8-4C60-7A0D-B361-6D6C6100000D");
    assert_malformed_at(&value, "id");
}

#[test]
fn a_negative_count_is_refused() {
    let mut value = example_value(Kind::NeedRaised);
    value["payload"]["quantity"] = json!(-3);
    assert_malformed_at(&value, "payload.quantity");
}

#[test]
fn a_count_beyond_u32_is_refused() {
    let mut value = example_value(Kind::OccupancyReported);
    value["payload"]["occupied"] = json!(u64::from(u32::MAX) + 1);
    assert_malformed_at(&value, "payload.occupied");
}

#[test]
fn a_timestamp_without_a_zone_is_refused() {
    let mut value = example_value(Kind::NeedRaised);
    value["occurred_at"] = json!("2026-03-03T07:45:00");
    let reason = assert_malformed_at(&value, "occurred_at");
    assert!(reason.contains("time zone"), "{reason}");
}

#[test]
fn a_timestamp_with_an_offset_is_normalised_to_utc() {
    let mut value = example_value(Kind::NeedRaised);
    value["occurred_at"] = json!("2026-03-03T08:45:00+01:00");
    for (way, result) in decode_all_ways(&value) {
        let envelope = result.unwrap_or_else(|error| panic!("{way}: {error}"));
        assert_eq!(envelope, example(Kind::NeedRaised), "{way}");
    }
}

// ----- kinds and versions ---------------------------------------------------------------

#[test]
fn an_unknown_kind_is_its_own_error_with_the_event_id() {
    let mut value = example_value(Kind::NeedRaised);
    value["kind"] = json!("need_teleported");
    for (way, result) in decode_all_ways(&value) {
        match result {
            Err(error @ DecodeError::UnknownKind { .. }) => {
                assert_eq!(error.code(), "unknown_kind");
                assert_eq!(error.field(), "kind");
                assert_eq!(
                    error.event_id(),
                    Some(example(Kind::NeedRaised).id),
                    "{way}"
                );
                assert!(error.to_string().contains("need_teleported"));
            }
            other => panic!("{way}: {other:?}"),
        }
    }
}

#[test]
fn a_newer_version_is_refused_as_unsupported() {
    let mut value = example_value(Kind::NeedRaised);
    value["v"] = json!(3);
    // The newer payload may have fields this code has never heard of.
    value["payload"]["priority_lane"] = json!("blue");
    for (way, result) in decode_all_ways(&value) {
        match result {
            Err(DecodeError::UnsupportedVersion {
                kind,
                v,
                current,
                id,
            }) => {
                assert_eq!((kind, v, current), (Kind::NeedRaised, 3, 2), "{way}");
                assert_eq!(id, Some(example(Kind::NeedRaised).id), "{way}");
            }
            other => panic!("{way}: {other:?}"),
        }
    }
}

#[test]
fn version_zero_and_missing_kind_are_malformed() {
    let mut value = example_value(Kind::NeedRaised);
    value["v"] = json!(0);
    let reason = assert_malformed_at(&value, "v");
    assert!(reason.contains("nonzero"), "{reason}");
    let mut value = example_value(Kind::NeedRaised);
    value.as_object_mut().map(|m| m.remove("kind"));
    let reason = assert_malformed_at(&value, "");
    assert!(reason.contains("kind"), "{reason}");
}

// ----- size, truncation, trailing bytes, nesting ------------------------------------------

#[test]
fn ten_megabytes_are_refused_before_parsing() {
    // A MessagePack map header and a 10 MB string: parsing it would take a while and then
    // fail differently; the size check answers first.
    let mut bytes = vec![0x81, 0xa2, b'i', b'd', 0xdb];
    let len: u32 = 10 * 1024 * 1024;
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.resize(bytes.len() + len as usize, b'a');
    let started = Instant::now();
    let result = decode_msgpack(&bytes);
    let elapsed = started.elapsed();
    assert_eq!(
        result,
        Err(DecodeError::TooLarge {
            size: bytes.len(),
            max: MAX_EVENT_BYTES
        })
    );
    assert_eq!(result.expect_err("refused").code(), "too_large");
    assert!(decode_json(&bytes).is_err_and(|e| e.code() == "too_large"));
    // Comparing a length takes nanoseconds; this bound only catches a parse.
    assert!(elapsed < Duration::from_millis(50), "took {elapsed:?}");
    // One byte over the limit is refused too; the limit itself is not the problem.
    assert!(matches!(
        decode_msgpack(&vec![0xc0; MAX_EVENT_BYTES + 1]),
        Err(DecodeError::TooLarge { .. })
    ));
    assert!(matches!(
        decode_msgpack(&vec![0xc0; MAX_EVENT_BYTES]),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn every_prefix_of_every_msgpack_vector_fails_cleanly() {
    for envelope in all_examples() {
        let bytes = encode_msgpack(&envelope);
        for len in 0..bytes.len() {
            match decode_msgpack(&bytes[..len]) {
                Err(DecodeError::Malformed { .. }) => {}
                other => panic!("{} cut at {len}: {other:?}", envelope.kind()),
            }
        }
        let json = encode_json(&envelope);
        for len in (0..json.len()).step_by(7) {
            assert!(
                decode_json(&json.as_bytes()[..len]).is_err(),
                "{} JSON cut at {len}",
                envelope.kind()
            );
        }
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let envelope = example(Kind::OccupancyReported);
    let mut msgpack = encode_msgpack(&envelope);
    msgpack.push(0x00);
    match decode_msgpack(&msgpack) {
        Err(DecodeError::Malformed { field, reason }) => {
            assert_eq!(field, "");
            assert!(reason.contains("trailing"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A second event glued to the first is garbage too.
    let twice = [encode_msgpack(&envelope), encode_msgpack(&envelope)].concat();
    assert!(matches!(
        decode_msgpack(&twice),
        Err(DecodeError::Malformed { .. })
    ));
    let json = format!("{} x", encode_json(&envelope));
    assert!(
        matches!(decode_json(json.as_bytes()), Err(DecodeError::Malformed { field, .. }) if field.is_empty())
    );
    // Whitespace after JSON is not garbage.
    let json = format!("{}\n", encode_json(&envelope));
    assert_eq!(decode_json(json.as_bytes()), Ok(envelope));
}

/// The envelope of `kind` with `payload` replaced by the raw MessagePack `nested`, in either
/// position.
fn msgpack_with_raw_payload(kind: Kind, nested: &[u8], order: Order) -> Vec<u8> {
    msgpack_with_raw_value(&example_value(kind), nested, order)
}

fn msgpack_with_raw_value(envelope: &Value, nested: &[u8], order: Order) -> Vec<u8> {
    let mut value = envelope.clone();
    value.as_object_mut().map(|m| m.remove("payload"));
    let head = encode_value(&value, Encoding::Msgpack, Order::Wire);
    // A fixmap (fewer than 16 fields): one more field, then the fields in either order.
    assert!((0x80..0x8f).contains(&head[0]));
    let key = [0xa7, b'p', b'a', b'y', b'l', b'o', b'a', b'd'];
    let mut bytes = vec![head[0] + 1];
    match order {
        Order::Wire => {
            bytes.extend_from_slice(&head[1..]);
            bytes.extend_from_slice(&key);
            bytes.extend_from_slice(nested);
        }
        Order::PayloadFirst => {
            bytes.extend_from_slice(&key);
            bytes.extend_from_slice(nested);
            bytes.extend_from_slice(&head[1..]);
        }
    }
    bytes
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    // 100,000 one-element arrays (0x91) around a nil: over the size cap, refused unread.
    let mut nested = vec![0x91; 100_000];
    nested.push(0xc0);
    let bytes = msgpack_with_raw_payload(Kind::NeedRaised, &nested, Order::Wire);
    assert!(matches!(
        decode_msgpack(&bytes),
        Err(DecodeError::TooLarge { .. })
    ));
    // Just under the cap, the parser must meet the nesting itself and stop at its limit:
    // for a known kind (payload decoded in place or buffered) and an unknown one (payload
    // skipped), in both positions.
    let mut nested = vec![0x91; MAX_EVENT_BYTES - 1024];
    nested.push(0xc0);
    for kind in [Kind::NeedRaised, Kind::EventCorrected] {
        for order in [Order::Wire, Order::PayloadFirst] {
            let bytes = msgpack_with_raw_payload(kind, &nested, order);
            assert!(bytes.len() <= MAX_EVENT_BYTES);
            assert!(
                matches!(decode_msgpack(&bytes), Err(DecodeError::Malformed { .. })),
                "{kind}, {order:?}"
            );
        }
    }
    let mut unknown = example_value(Kind::NeedRaised);
    unknown["kind"] = json!("need_teleported");
    for order in [Order::Wire, Order::PayloadFirst] {
        let bytes = msgpack_with_raw_value(&unknown, &nested, order);
        assert!(decode_msgpack(&bytes).is_err(), "unknown kind, {order:?}");
    }

    // JSON: as deep as fits under the cap.
    let depth = MAX_EVENT_BYTES / 2 - 1024;
    let nested = format!("{}null{}", "[".repeat(depth), "]".repeat(depth));
    for kind in ["need_raised", "need_teleported"] {
        let id = r#""id":"019cb2a8-4c60-7a0d-b361-6d6c6100000d""#;
        for text in [
            format!(r#"{{{id},"kind":"{kind}","v":2,"payload":{nested}}}"#),
            format!(r#"{{"payload":{nested},{id},"kind":"{kind}","v":2}}"#),
        ] {
            assert!(text.len() <= MAX_EVENT_BYTES);
            // An unknown kind's payload may be skipped without being read into memory;
            // what matters is an error, not a stack overflow.
            let result = decode_json(text.as_bytes());
            assert!(
                matches!(result, Err(DecodeError::Malformed { .. }))
                    || (kind == "need_teleported"
                        && matches!(result, Err(DecodeError::UnknownKind { .. }))),
                "{kind}: {result:?}"
            );
        }
    }
}

// ----- fields that do not belong, and rules across fields -------------------------------

#[test]
fn supersedes_on_an_ordinary_event_is_an_unknown_field() {
    let mut value = example_value(Kind::NeedRaised);
    value["payload"]["supersedes"] = json!(example(Kind::NeedClaimed).id.to_string());
    let reason = assert_malformed_at(&value, "payload.supersedes");
    assert!(reason.contains("unknown field `supersedes`"), "{reason}");
    let mut value = example_value(Kind::NeedRaised);
    value["supersedes"] = json!(example(Kind::NeedClaimed).id.to_string());
    let reason = assert_malformed_at(&value, "supersedes");
    assert!(reason.contains("unknown field `supersedes`"), "{reason}");
}

#[test]
fn occupancy_beyond_the_capacity_in_the_same_event_is_refused() {
    let mut value = example_value(Kind::OccupancyReported);
    value["payload"] = json!({"occupied": 110, "reserved": 12, "capacity": 120});
    assert_refused_at(&value, "payload.occupied", "inconsistent");
    value["payload"] = json!({"occupied": 108, "reserved": 12, "capacity": 120});
    for (way, result) in decode_all_ways(&value) {
        assert_eq!(
            result.map(|e| e.validate()),
            Ok(Ok(())),
            "{way}: exactly full is fine"
        );
    }
}

#[test]
fn the_wrong_aggregate_type_for_a_kind_is_refused() {
    let mut value = example_value(Kind::NeedRaised);
    value["aggregate"]["type"] = json!("site");
    assert_refused_at(&value, "aggregate.type", "inconsistent");
    let mut value = example_value(Kind::NeedRaised);
    value["aggregate"]["type"] = json!("person");
    assert_malformed_at(&value, "aggregate.type");
}

#[test]
fn other_cross_field_rules_name_their_field() {
    let mut value = example_value(Kind::SituationReported);
    value["payload"]["period_to"] = json!("2026-03-04T16:00:00Z");
    assert_refused_at(&value, "payload.period_to", "inconsistent");
    let mut value = example_value(Kind::NeedRaised);
    value["payload"]["quantity"] = json!(0);
    assert_refused_at(&value, "payload.quantity", "out_of_range");
    let mut value = example_value(Kind::IssueEscalated);
    value["payload"]["level"] = json!(4);
    assert_refused_at(&value, "payload.level", "out_of_range");
    let mut value = example_value(Kind::EventCorrected);
    value["payload"]["replacement"]["payload"]["quantity"] = json!(0);
    assert_refused_at(
        &value,
        "payload.replacement.payload.quantity",
        "out_of_range",
    );
    let mut value = example_value(Kind::IssueRaised);
    value["audience"] = json!({"orgs": []});
    assert_refused_at(&value, "audience.orgs", "invalid");
    let mut value = example_value(Kind::NeedRaised);
    value["occurred_at"] = json!("1999-12-31T23:00:00Z");
    assert_refused_at(&value, "occurred_at", "out_of_range");
    let mut value = example_value(Kind::NeedRaised);
    value["function"] = json!("   ");
    assert_refused_at(&value, "function", "invalid");
}

#[test]
fn a_correction_cannot_replace_a_correction() {
    let mut value = example_value(Kind::EventCorrected);
    let inner = example_value(Kind::EventRetracted)["payload"].clone();
    value["payload"]["replacement"] = json!({"kind": "event_retracted", "v": 1, "payload": inner});
    assert_refused_at(&value, "payload.replacement.kind", "invalid");
}

// ----- field order -------------------------------------------------------------------------

#[test]
fn payload_before_kind_decodes_and_its_errors_name_the_payload_field() {
    for kind in [
        Kind::HospitalStatusReported,
        Kind::NeedRaised,
        Kind::EventCorrected,
    ] {
        let value = example_value(kind);
        for (encoding, order) in ALL_WAYS {
            let bytes = encode_value(&value, encoding, order);
            assert_eq!(
                decode(&bytes, encoding),
                Ok(example(kind)),
                "{kind} {encoding:?} {order:?}"
            );
        }
    }
    let mut value = example_value(Kind::HospitalStatusReported);
    value["payload"]["facility_status"] = json!(5);
    assert_malformed_at(&value, "payload.facility_status");
    let mut value = example_value(Kind::HospitalStatusReported);
    value["payload"]["beds_available"]["intensive_care"] = json!(-1);
    // The path tracker cannot print an enum map key; it names the map.
    assert_malformed_at(&value, "payload.beds_available.?");
    let mut value = example_value(Kind::EventCorrected);
    value["payload"]["replacement"]["payload"]["unit"] = json!("barrels");
    assert_malformed_at(&value, "payload.replacement.payload.unit");
}

#[test]
fn duplicate_fields_are_refused() {
    let json = encode_json(&example(Kind::NeedRaised));
    let doubled = json.replacen(
        r#""org":"migrationsverket","#,
        r#""org":"migrationsverket","org":"polisen","#,
        1,
    );
    assert_ne!(doubled, json);
    assert!(matches!(
        decode_json(doubled.as_bytes()),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn not_a_map_is_malformed() {
    for bytes in [&b"[]"[..], b"null", b"42", b"\"event\"", b""] {
        assert!(matches!(
            decode_json(bytes),
            Err(DecodeError::Malformed { .. })
        ));
    }
    for bytes in [&[0x90u8][..], &[0xc0], &[0x2a], &[], &[0xc1]] {
        assert!(matches!(
            decode_msgpack(bytes),
            Err(DecodeError::Malformed { .. })
        ));
    }
}
