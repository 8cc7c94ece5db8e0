//! The events the ingest phases send: the first N events of the seeded crisis, with ids
//! made unique to this run, encoded once both ways an organisation sends them —
//! MessagePack (NATS door) and JSON (HTTP door) — and cut into requests by organisation.
//!
//! Unique ids: every event id, and every reference to one (`correlation`, `causation`,
//! `supersedes`), is XORed with one random mask per run over the UUID's random bits. The
//! mapping is one-to-one, so references still point at the right events and ids stay
//! valid time-ordered UUIDv7s; a second run never sends an id the first one sent, so no
//! figure is ever flattered by the log's de-duplication.
//!
//! A request carries events of one organisation and one incident only (the subject, or
//! the token, names the organisation, and the ingest service refuses an event naming
//! another), in emission order per organisation.

use std::collections::BTreeMap;

use async_nats::Subject;
use bytes::Bytes;
use proto_events::{EventId, IncidentId, IngestSubject, OrgId, Payload, Status};

/// The bits of a UUIDv7 that are random (`rand_a` and `rand_b`): below the 48-bit
/// timestamp and the version nibble, without the two variant bits.
const RANDOM_BITS: u128 = ((1u128 << 76) - 1) & !(0b11u128 << 62);

/// One event, ready for either door.
#[derive(Debug, Clone)]
pub(crate) struct IngestEvent {
    /// Index into [`IngestLoad::senders`].
    pub sender: usize,
    /// `status: actual` (the live stream shows actual events by default).
    pub actual: bool,
    pub msgpack: Bytes,
    pub json: Bytes,
}

/// Who sends: one organisation in one incident.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Sender {
    pub org: OrgId,
    pub incident: IncidentId,
}

impl Sender {
    pub(crate) fn subject(&self) -> Subject {
        Subject::from(
            IngestSubject {
                incident: self.incident.clone(),
                org: self.org.clone(),
            }
            .to_string(),
        )
    }
}

/// The generated events.
#[derive(Debug)]
pub(crate) struct IngestLoad {
    pub senders: Vec<Sender>,
    pub events: Vec<IngestEvent>,
    /// How many distinct event kinds the events hold.
    kinds: u64,
}

/// One request: events of one sender, encoded for both doors.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub sender: usize,
    pub events: usize,
    /// A MessagePack array of envelopes (one envelope alone for a single event).
    pub msgpack: Bytes,
    /// A JSON array of envelopes (one envelope alone for a single event).
    pub json: Bytes,
}

/// The first `n` events of the crisis seeded with `seed`, ids XORed with `mask`.
pub(crate) fn generate(seed: u64, n: usize, mask: u128) -> IngestLoad {
    let mut senders: BTreeMap<Sender, usize> = BTreeMap::new();
    let mut sender_list = Vec::new();
    let mut events = Vec::with_capacity(n);
    let mut kinds = std::collections::BTreeSet::new();
    let mut progress = crate::progress::Progress::new("generate the ingest events", n as u64);
    for mut envelope in samla_sim::generate_n(seed, n) {
        make_unique(&mut envelope, mask);
        kinds.insert(envelope.kind());
        let sender = Sender {
            org: envelope.org.clone(),
            incident: envelope.incident.clone(),
        };
        let index = *senders.entry(sender.clone()).or_insert_with(|| {
            sender_list.push(sender);
            sender_list.len() - 1
        });
        events.push(IngestEvent {
            sender: index,
            actual: envelope.status == Status::Actual,
            msgpack: Bytes::from(proto_events::encode_msgpack(&envelope)),
            json: Bytes::from(proto_events::encode_json(&envelope)),
        });
        progress.tick(events.len() as u64);
    }
    progress.done();
    IngestLoad {
        senders: sender_list,
        events,
        kinds: kinds.len() as u64,
    }
}

/// A mask for [`generate`] from 128 random bits.
pub(crate) fn mask_from(random: u128) -> u128 {
    random & RANDOM_BITS
}

fn remap(id: EventId, mask: u128) -> EventId {
    EventId::from_uuid(uuid::Uuid::from_u128(id.as_uuid().as_u128() ^ mask))
}

/// Gives the event, and every reference it makes to another event, this run's ids.
fn make_unique(envelope: &mut proto_events::Envelope, mask: u128) {
    envelope.id = remap(envelope.id, mask);
    envelope.correlation = envelope.correlation.map(|id| remap(id, mask));
    envelope.causation = envelope.causation.map(|id| remap(id, mask));
    match &mut envelope.payload {
        Payload::EventCorrected(corrected) => {
            corrected.supersedes = remap(corrected.supersedes, mask);
        }
        Payload::EventRetracted(retracted) => {
            retracted.supersedes = remap(retracted.supersedes, mask);
        }
        _ => {}
    }
}

impl IngestLoad {
    /// Mean, smallest and largest MessagePack size, and the number of kinds.
    pub(crate) fn sizes(&self) -> (u64, u64, u64, u64) {
        let sizes = self.events.iter().map(|event| event.msgpack.len() as u64);
        let total: u64 = sizes.clone().sum();
        (
            total / (self.events.len().max(1) as u64),
            sizes.clone().min().unwrap_or(0),
            sizes.max().unwrap_or(0),
            self.kinds,
        )
    }

    /// The first `count` events cut into requests of at most `batch` events of one sender
    /// each, in the order their last event was emitted.
    pub(crate) fn requests(&self, count: usize, batch: usize) -> Vec<Request> {
        let batch = batch.max(1);
        let mut pending: Vec<Vec<usize>> = vec![Vec::new(); self.senders.len()];
        let mut requests = Vec::with_capacity(count / batch + self.senders.len());
        for (index, event) in self.events.iter().take(count).enumerate() {
            let open = &mut pending[event.sender];
            open.push(index);
            if open.len() == batch {
                requests.push(self.request(event.sender, &std::mem::take(open)));
            }
        }
        for (sender, open) in pending.into_iter().enumerate() {
            if !open.is_empty() {
                requests.push(self.request(sender, &open));
            }
        }
        requests
    }

    fn request(&self, sender: usize, indices: &[usize]) -> Request {
        let (msgpack, json) = match indices {
            [one] => (
                self.events[*one].msgpack.clone(),
                self.events[*one].json.clone(),
            ),
            many => {
                let mut msgpack = Vec::new();
                write_array_header(&mut msgpack, many.len());
                let mut json = Vec::from(b"[".as_slice());
                for (position, index) in many.iter().enumerate() {
                    let event = &self.events[*index];
                    msgpack.extend_from_slice(&event.msgpack);
                    if position > 0 {
                        json.push(b',');
                    }
                    json.extend_from_slice(&event.json);
                }
                json.push(b']');
                (Bytes::from(msgpack), Bytes::from(json))
            }
        };
        Request {
            sender,
            events: indices.len(),
            msgpack,
            json,
        }
    }
}

/// A MessagePack array header for `len` items.
fn write_array_header(out: &mut Vec<u8>, len: usize) {
    if len < 16 {
        out.push(0x90 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0xdc);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_change_but_stay_v7_and_references_follow() {
        let mask = mask_from(u128::MAX);
        let load = generate(7, 3_000, mask);
        let original = samla_sim::generate_n(7, 3_000);
        let mut corrections = 0;
        for (event, before) in load.events.iter().zip(&original) {
            let after = proto_events::decode_msgpack(&event.msgpack).expect("decodes");
            assert_ne!(after.id, before.id);
            assert_eq!(after.id.as_uuid().get_version_num(), 7);
            assert_eq!(remap(after.id, mask), before.id, "one-to-one");
            after.validate().expect("still valid");
            if let Payload::EventCorrected(corrected) = &after.payload {
                corrections += 1;
                assert!(
                    original
                        .iter()
                        .any(|e| remap(e.id, mask) == corrected.supersedes)
                );
            }
            let json = proto_events::decode_json(&event.json).expect("JSON decodes");
            assert_eq!(json, after);
        }
        assert!(corrections > 0, "the crisis has corrections");
    }

    #[test]
    fn requests_hold_one_sender_each_and_cover_every_event() {
        let load = generate(7, 2_000, 0);
        let requests = load.requests(1_500, 100);
        assert_eq!(requests.iter().map(|r| r.events).sum::<usize>(), 1_500);
        for request in &requests {
            assert!(request.events <= 100);
            let items: Vec<serde_json::Value> =
                serde_json::from_slice(&request.json).expect("a JSON array");
            assert_eq!(items.len(), request.events);
            let decoded: Vec<serde_json::Value> =
                rmp_serde::from_slice(&request.msgpack).expect("a MessagePack array");
            assert_eq!(decoded.len(), request.events);
            let org = &load.senders[request.sender].org;
            assert!(items.iter().all(|item| item["org"] == org.as_str()));
        }
        let single = load.requests(10, 1);
        assert_eq!(single.len(), 10);
        assert!(proto_events::decode_msgpack(&single[0].msgpack).is_ok());
    }
}
