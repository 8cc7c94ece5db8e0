//! Turning stored bytes into something a fold may see: decode, validate, and check that
//! the subject and the envelope agree. Pure and independent per event, so the engine can
//! run it in parallel with writing the previous batch. Whatever fails goes to quarantine
//! with its reason; nothing is dropped.

use bytes::Bytes;
use proto_events::{Envelope, EventSubject, Timestamp, codec};

use crate::models::quarantine::QuarantineRow;

/// One stored event, as read from the log.
#[derive(Debug, Clone)]
pub struct RawEvent {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub subject: String,
    pub bytes: Bytes,
}

impl From<samla_log::RawRecord> for RawEvent {
    fn from(record: samla_log::RawRecord) -> Self {
        RawEvent {
            seq: record.seq(),
            recorded_at: record.recorded_at(),
            subject: record.subject().to_string(),
            bytes: record.into_payload(),
        }
    }
}

impl From<samla_log::StoredEvent> for RawEvent {
    fn from(event: samla_log::StoredEvent) -> Self {
        RawEvent {
            seq: event.seq,
            recorded_at: event.recorded_at,
            subject: event.subject,
            bytes: event.payload,
        }
    }
}

/// A decoded, valid event whose subject matches its envelope.
#[derive(Debug, Clone)]
pub struct Usable {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub subject: EventSubject,
    pub envelope: Envelope,
}

/// What an event became.
#[derive(Debug, Clone)]
pub enum Prepared {
    Usable(Box<Usable>),
    Quarantined(QuarantineRow),
}

impl Prepared {
    pub fn seq(&self) -> u64 {
        match self {
            Prepared::Usable(usable) => usable.seq,
            Prepared::Quarantined(row) => row.seq,
        }
    }
}

/// A quarantine row for event `raw`.
pub fn quarantine_row(
    raw_seq: u64,
    recorded_at: Timestamp,
    subject: &str,
    code: &str,
    field: &str,
    reason: String,
    event_id: Option<String>,
) -> QuarantineRow {
    QuarantineRow {
        seq: raw_seq,
        recorded_at: recorded_at.to_string(),
        subject: subject.to_string(),
        code: code.to_string(),
        field: field.to_string(),
        reason,
        event_id,
    }
}

/// Decodes and checks one stored event.
pub fn prepare(raw: &RawEvent) -> Prepared {
    let quarantine = |code: &str, field: &str, reason: String, id: Option<String>| {
        Prepared::Quarantined(quarantine_row(
            raw.seq,
            raw.recorded_at,
            &raw.subject,
            code,
            field,
            reason,
            id,
        ))
    };
    let envelope = match codec::decode_msgpack(&raw.bytes) {
        Ok(envelope) => envelope,
        Err(error) => {
            return quarantine(
                error.code(),
                error.field(),
                error.to_string(),
                error.event_id().map(|id| id.to_string()),
            );
        }
    };
    // The id as text only for a quarantine row: most events need none.
    let id = || Some(envelope.id.to_string());
    if let Err(error) = envelope.validate() {
        return quarantine(error.code, &error.field, error.reason, id());
    }
    let subject: EventSubject = match raw.subject.parse() {
        Ok(subject) => subject,
        Err(error) => return quarantine("subject_mismatch", "", error.to_string(), id()),
    };
    // Field by field: the same as comparing with `envelope.subject()`, without copying it.
    if subject.org != envelope.org
        || subject.incident != envelope.incident
        || subject.aggregate != envelope.aggregate
    {
        let field = if subject.org != envelope.org {
            "org"
        } else if subject.incident != envelope.incident {
            "incident"
        } else {
            "aggregate"
        };
        return quarantine(
            "subject_mismatch",
            field,
            format!(
                "stored on {} but the envelope says {}; nobody may speak for another organisation or aggregate",
                raw.subject,
                envelope.subject()
            ),
            id(),
        );
    }
    Prepared::Usable(Box::new(Usable {
        seq: raw.seq,
        recorded_at: raw.recorded_at,
        subject,
        envelope,
    }))
}
