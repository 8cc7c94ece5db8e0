//! Feeds arbitrary bytes through both ingest doors exactly as far as the log: framed as
//! an HTTP JSON body and as a NATS MessagePack request, every item decoded by the
//! contract's codec and checked as the service checks it (organisation, incident, rules,
//! the personal-data guard). Nothing may panic, overflow the stack or allocate without
//! bound, and whatever is admitted must be something the log may hold: an event of the
//! caller's own organisation (and, on the NATS door, of the incident in the subject), on
//! the subject derived from it, whose stored bytes decode again to a valid event.
//!
//! The caller is the organisation and incident of the contract's golden vectors, so a
//! corpus seeded from `proto-events/vectors/` starts from admitted events.

#![no_main]

use libfuzzer_sys::fuzz_target;
use proto_events::{IncidentId, OrgId, Timestamp, decode_msgpack};
use samla_api::IngestConfig;
use samla_api::ingest::fuzz::{Door, admit_request};

const ORG: &str = "malmo-stad";
const INCIDENT: &str = "malmo-reception-2026";
/// A fixed clock, so a crash found once reproduces (the vectors are from March 2026).
const NOW_UNIX_SECONDS: i64 = 1_775_000_000;

fuzz_target!(|data: &[u8]| {
    let org = OrgId::new(ORG).expect("the caller's organisation");
    let incident = IncidentId::new(INCIDENT).expect("the caller's incident");
    let now = Timestamp::from_unix_seconds(NOW_UNIX_SECONDS).expect("a fixed clock");
    let max_future_seconds = IngestConfig::default().max_future_seconds;
    for door in [Door::Http, Door::Nats] {
        let Ok(items) = admit_request(door, data, &org, &incident, now) else {
            continue;
        };
        assert!(!items.is_empty(), "{door:?}: a request without an answer");
        for item in items {
            match item {
                Ok(append) => {
                    let envelope = decode_msgpack(&append.payload)
                        .expect("what is admitted decodes again from its stored bytes");
                    assert_eq!(envelope.org, org, "{door:?}: admitted for another org");
                    if door == Door::Nats {
                        assert_eq!(envelope.incident, incident, "admitted for another incident");
                    }
                    assert_eq!(append.subject, envelope.subject().to_string());
                    let prefix = format!("samla.evt.{}.{ORG}.", envelope.incident);
                    assert!(append.subject.starts_with(&prefix), "{}", append.subject);
                    assert_eq!(append.id, envelope.id.to_string());
                    envelope
                        .validate_at(now, max_future_seconds)
                        .expect("what is admitted is valid");
                }
                Err(error) => {
                    assert!(!error.code.is_empty(), "{door:?}: an error without a code");
                    assert!(
                        !error.reason.is_empty(),
                        "{door:?}: an error without a reason"
                    );
                }
            }
        }
    }
});
