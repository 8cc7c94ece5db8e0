//! Properties over generated events of every kind, and over bytes nobody should trust.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use proto_events::codec::{encode_json_pretty, encode_msgpack};
use proto_events::examples::all_examples;
use proto_events::{Envelope, Kind, decode_json, decode_msgpack, encode_json};

use crate::strategies::{any_envelope, envelope_of};
use crate::support::{Encoding, Order, decode, encode_value};
use crate::vectors::validator;

/// Everything that must hold for one valid envelope.
fn check_envelope(envelope: &Envelope) -> Result<(), TestCaseError> {
    prop_assert_eq!(envelope.validate(), Ok(()));

    let msgpack = encode_msgpack(envelope);
    prop_assert_eq!(&decode_msgpack(&msgpack).map_err(fail)?, envelope);
    prop_assert_eq!(
        &encode_msgpack(&envelope.clone()),
        &msgpack,
        "deterministic"
    );

    let json = encode_json(envelope);
    prop_assert_eq!(&decode_json(json.as_bytes()).map_err(fail)?, envelope);
    prop_assert_eq!(&encode_json(&envelope.clone()), &json, "deterministic");
    let pretty = encode_json_pretty(envelope);
    prop_assert_eq!(&decode_json(pretty.as_bytes()).map_err(fail)?, envelope);

    // The two encodings carry the same fields: MessagePack read as JSON equals the JSON.
    let from_msgpack: serde_json::Value = rmp_serde::from_slice(&msgpack).map_err(fail)?;
    let from_json: serde_json::Value = serde_json::from_str(&json).map_err(fail)?;
    prop_assert_eq!(&from_msgpack, &from_json);

    // Field order does not matter to a reader.
    for encoding in [Encoding::Json, Encoding::Msgpack] {
        let bytes = encode_value(&from_json, encoding, Order::PayloadFirst);
        prop_assert_eq!(&decode(&bytes, encoding).map_err(fail)?, envelope);
    }
    Ok(())
}

fn fail(error: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(error.to_string())
}

/// 32 generated envelopes of each kind in turn, so no kind is left to chance; each also
/// validates against its kind's JSON Schema.
#[test]
fn every_kind_round_trips_and_matches_its_schema() {
    for kind in Kind::ALL {
        let schema = validator(&format!("{}.schema.json", kind.as_str()));
        let mut runner = TestRunner::new(Config {
            cases: 32,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&envelope_of(*kind), |envelope| {
            check_envelope(&envelope)?;
            let instance = serde_json::to_value(&envelope).map_err(fail)?;
            let errors: Vec<String> = schema
                .iter_errors(&instance)
                .map(|e| e.to_string())
                .collect();
            prop_assert!(errors.is_empty(), "{} schema: {:?}", kind, errors);
            Ok(())
        });
        if let Err(error) = result {
            panic!("{kind}: {error}");
        }
    }
}

/// One edit to a byte string: flip bits at, insert before, or delete at a position.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Insert(Index, u8),
    Delete(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 1_u8..=255).prop_map(|(at, bits)| Edit::Flip(at, bits)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Edit::Insert(at, byte)),
        any::<Index>().prop_map(Edit::Delete),
    ]
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for edit in edits {
        match edit {
            Edit::Flip(at, bits) if !bytes.is_empty() => {
                let at = at.index(bytes.len());
                bytes[at] ^= bits;
            }
            Edit::Insert(at, byte) => {
                let at = at.index(bytes.len() + 1);
                bytes.insert(at, *byte);
            }
            Edit::Delete(at) if !bytes.is_empty() => {
                let at = at.index(bytes.len());
                bytes.remove(at);
            }
            _ => {}
        }
    }
}

/// Whatever decodes is a valid event of the contract's shape: it survives its own round trip.
fn round_trips_if_decoded(
    result: Result<Envelope, proto_events::DecodeError>,
) -> Result<(), TestCaseError> {
    if let Ok(envelope) = result {
        prop_assert_eq!(
            &decode_msgpack(&encode_msgpack(&envelope)).map_err(fail)?,
            &envelope
        );
        prop_assert_eq!(
            &decode_json(encode_json(&envelope).as_bytes()).map_err(fail)?,
            &envelope
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 256, ..Config::default() })]

    #[test]
    fn any_envelope_round_trips(envelope in any_envelope()) {
        check_envelope(&envelope)?;
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in vec(any::<u8>(), 0..600)) {
        round_trips_if_decoded(decode_msgpack(&bytes))?;
        round_trips_if_decoded(decode_json(&bytes))?;
    }

    /// Bytes that start like an envelope (a MessagePack map) get further into the decoder.
    #[test]
    fn decoding_arbitrary_maps_never_panics(
        header in 0x80_u8..0x90,
        body in vec(any::<u8>(), 0..600),
    ) {
        let bytes = [vec![header], body].concat();
        round_trips_if_decoded(decode_msgpack(&bytes))?;
    }

    #[test]
    fn decoding_mutated_msgpack_never_panics(
        envelope in any_envelope(),
        edits in vec(edit(), 1..6),
    ) {
        let mut bytes = encode_msgpack(&envelope);
        apply(&mut bytes, &edits);
        round_trips_if_decoded(decode_msgpack(&bytes))?;
    }

    #[test]
    fn decoding_mutated_examples_never_panics(
        envelope in select(all_examples()),
        edits in vec(edit(), 1..4),
    ) {
        let mut bytes = encode_msgpack(&envelope);
        apply(&mut bytes, &edits);
        round_trips_if_decoded(decode_msgpack(&bytes))?;
        let mut text = encode_json(&envelope).into_bytes();
        apply(&mut text, &edits);
        round_trips_if_decoded(decode_json(&text))?;
    }
}
