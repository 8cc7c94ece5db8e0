//! The thin typed layer: `proto_events::Envelope` in, decoded records out.
//!
//! Appending derives everything from the envelope: the subject
//! (`samla.evt.<incident>.<org>.<type>.<id>`), the id (`Nats-Msg-Id` = event id) and the
//! MessagePack bytes. Reading decodes each record; one that does not decode, or whose
//! envelope does not match where it is stored, is delivered as [`Undecodable`] with the
//! reason — never dropped, never a panic. What to do with it (quarantine) is the reader's
//! policy, not this crate's.

use bytes::Bytes;
use proto_events::{DecodeError, Envelope, EventId, Timestamp, codec};

use crate::error::LogError;
use crate::read::RawRecord;
use crate::{AppendItem, Appended, Log};

/// An event as recorded: its envelope and where and when the log stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub envelope: Envelope,
}

/// A stored message that is not a usable event, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub subject: String,
    pub msg_id: Option<String>,
    pub reason: UndecodableReason,
    /// The stored bytes, for the quarantine view.
    pub payload: Bytes,
}

/// Why a stored message is not a usable event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndecodableReason {
    /// The bytes are not a known envelope (malformed, unknown kind, newer version…).
    #[error("{0}")]
    Decode(DecodeError),
    /// The envelope names another place than the subject it is stored on.
    #[error("stored on subject {subject} but the envelope's subject is {envelope_subject}")]
    SubjectMismatch {
        subject: String,
        envelope_subject: String,
    },
    /// The envelope's id differs from the message id it was de-duplicated by.
    #[error("stored with message id {msg_id} but the envelope's id is {envelope_id}")]
    IdMismatch { msg_id: String, envelope_id: String },
}

/// A decoded record: an event, or a message that is not one (delivered, not an error:
/// the reader decides what to do with it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "events are the common case; boxing them would allocate once per event on the read path"
)]
pub enum Decoded {
    Event(RecordedEvent),
    Undecodable(Undecodable),
}

impl Decoded {
    /// The stream sequence either way.
    pub fn seq(&self) -> u64 {
        match self {
            Decoded::Event(event) => event.seq,
            Decoded::Undecodable(undecodable) => undecodable.seq,
        }
    }
}

impl AppendItem {
    /// The item for `envelope`: its subject, its id as `Nats-Msg-Id`, its MessagePack
    /// bytes, and the optional aggregate expectation.
    pub fn from_envelope(envelope: &Envelope, expected_seq: Option<u64>) -> AppendItem {
        AppendItem {
            subject: envelope.subject().to_string(),
            id: envelope.id.to_string(),
            payload: Bytes::from(codec::encode_msgpack(envelope)),
            expected_seq,
        }
    }
}

impl Log {
    /// Appends one envelope (see [`Log::append`]).
    pub async fn append_event(
        &self,
        envelope: &Envelope,
        expected_seq: Option<u64>,
    ) -> Result<Appended, LogError> {
        self.append(AppendItem::from_envelope(envelope, expected_seq))
            .await
    }

    /// Appends many envelopes with group commit (see [`Log::append_batch`]); answers in
    /// input order.
    pub async fn append_events(
        &self,
        events: &[(Envelope, Option<u64>)],
    ) -> Vec<Result<Appended, LogError>> {
        let items = events
            .iter()
            .map(|(envelope, expected_seq)| AppendItem::from_envelope(envelope, *expected_seq))
            .collect();
        self.append_batch(items).await
    }
}

impl RawRecord {
    /// Decodes the envelope and checks it against where it is stored.
    pub fn decode(&self) -> Decoded {
        let undecodable = |reason| Undecodable {
            seq: self.seq(),
            recorded_at: self.recorded_at(),
            subject: self.subject().to_owned(),
            msg_id: self.msg_id().map(str::to_owned),
            reason,
            payload: self.payload().clone(),
        };
        let envelope = match codec::decode_msgpack(self.payload()) {
            Ok(envelope) => envelope,
            Err(error) => {
                return Decoded::Undecodable(undecodable(UndecodableReason::Decode(error)));
            }
        };
        let envelope_subject = envelope.subject().to_string();
        if envelope_subject != self.subject() {
            return Decoded::Undecodable(undecodable(UndecodableReason::SubjectMismatch {
                subject: self.subject().to_owned(),
                envelope_subject,
            }));
        }
        if let Some(msg_id) = self.msg_id()
            && EventId::parse(msg_id).ok() != Some(envelope.id)
        {
            return Decoded::Undecodable(undecodable(UndecodableReason::IdMismatch {
                msg_id: msg_id.to_owned(),
                envelope_id: envelope.id.to_string(),
            }));
        }
        Decoded::Event(RecordedEvent {
            seq: self.seq(),
            recorded_at: self.recorded_at(),
            envelope,
        })
    }
}
