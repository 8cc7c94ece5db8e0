//! Feeds arbitrary bytes to both decoders. Neither may panic, overflow the stack or
//! allocate without bound; whatever decodes must be an event of the contract's shape,
//! so it survives its own round trip through both encodings, and validating it (the
//! personal-data guard included) must not panic either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use proto_events::codec::encode_json_pretty;
use proto_events::{Envelope, decode_json, decode_msgpack, encode_json, encode_msgpack};

fn check_round_trip(envelope: &Envelope) {
    let msgpack = encode_msgpack(envelope);
    assert_eq!(decode_msgpack(&msgpack).as_ref(), Ok(envelope));
    assert_eq!(
        encode_msgpack(envelope),
        msgpack,
        "encoding is deterministic"
    );
    let json = encode_json(envelope);
    assert_eq!(decode_json(json.as_bytes()).as_ref(), Ok(envelope));
    let pretty = encode_json_pretty(envelope);
    assert_eq!(decode_json(pretty.as_bytes()).as_ref(), Ok(envelope));
    let _ = envelope.validate();
}

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = decode_msgpack(data) {
        check_round_trip(&envelope);
    }
    if let Ok(envelope) = decode_json(data) {
        check_round_trip(&envelope);
    }
});
