//! The events every phase sends: the first N events of the seeded crisis (samla-sim),
//! encoded once as they go on the wire — subject, event id (`Nats-Msg-Id`) and MessagePack
//! bytes — so encoding is never part of a measurement.

use std::collections::BTreeSet;

use async_nats::Subject;
use bytes::Bytes;
use samla_sim::{Crisis, CrisisConfig};

use crate::progress::Progress;

/// One event, ready to publish.
#[derive(Debug, Clone)]
pub(crate) struct WireEvent {
    pub subject: Subject,
    pub id: String,
    pub payload: Bytes,
}

/// The generated log and what it is made of.
#[derive(Debug)]
pub(crate) struct GeneratedLog {
    pub events: Vec<WireEvent>,
    pub kinds: u64,
    pub mean_bytes: u64,
    pub min_bytes: u64,
    pub max_bytes: u64,
    /// The earliest and latest `occurred_at` (the span of "as happened" moments).
    pub occurred: Option<crate::as_of::Span>,
}

/// The first `n` events of a crisis sized for `n` (as `samla_sim::generate_n`, but
/// streaming: a million envelopes are never held at once, only their bytes).
pub(crate) fn generate(seed: u64, n: usize) -> GeneratedLog {
    let mut config = CrisisConfig::sized_for(n).with_seed(seed);
    loop {
        if let Some(log) = try_generate(config.clone(), n) {
            return log;
        }
        // Sizing is an estimate: grow as generate_n does until the crisis is long enough.
        if config.days < 21 {
            config.days = (config.days * 2).min(21);
        } else {
            config.scale = config.scale.saturating_mul(2);
        }
    }
}

fn try_generate(config: CrisisConfig, n: usize) -> Option<GeneratedLog> {
    let mut progress = Progress::new("generate the crisis", n as u64);
    let mut events = Vec::with_capacity(n);
    let mut kinds = BTreeSet::new();
    let (mut total, mut min, mut max) = (0u64, u64::MAX, 0u64);
    let mut occurred: Option<crate::as_of::Span> = None;
    for envelope in Crisis::new(config).take(n) {
        let at = envelope.occurred_at;
        occurred = Some(match occurred {
            None => crate::as_of::Span {
                earliest: at,
                latest: at,
            },
            Some(span) => crate::as_of::Span {
                earliest: span.earliest.min(at),
                latest: span.latest.max(at),
            },
        });
        let payload = proto_events::encode_msgpack(&envelope);
        let size = payload.len() as u64;
        total += size;
        min = min.min(size);
        max = max.max(size);
        kinds.insert(envelope.kind());
        events.push(WireEvent {
            subject: Subject::from(envelope.subject().to_string()),
            id: envelope.id.to_string(),
            payload: Bytes::from(payload),
        });
        progress.tick(events.len() as u64);
    }
    if events.len() < n {
        return None;
    }
    progress.done();
    Some(GeneratedLog {
        mean_bytes: total / n.max(1) as u64,
        min_bytes: if n == 0 { 0 } else { min },
        max_bytes: max,
        kinds: kinds.len() as u64,
        occurred,
        events,
    })
}
