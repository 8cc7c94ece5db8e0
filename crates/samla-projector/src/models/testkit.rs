//! Given events → then state: a compact log builder for the read-model tests.
//!
//! A [`Log`] hands out sequential sequences, deterministic event ids and recorded times
//! (minute `seq` after [`T0`], plus 30 seconds), so tests read as a list of facts. Folding
//! goes through [`crate::fold_in_memory`] exactly as the engine would, twice (one event
//! per batch and five per batch) to prove batching never changes the read models, then
//! reloads the stored bytes into a fresh [`Folder`]: every test also proves its rows
//! survive the store encoding.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use proto_events::payload::{EventCorrected, EventRetracted, OrganisationJoined};
use proto_events::vocab::{OrgType, RetractionReason};
use proto_events::{
    AggregateId, AggregateRef, AggregateType, AreaCode, Audience, Envelope, EventId, IncidentId,
    Label, OrgId, Payload, Status, TaggedPayload, Text, Timestamp, codec,
};

use crate::models::ReadModels;
use crate::prepare::RawEvent;
use crate::store::KvStore;
use crate::table::Scope;
use crate::views::VisibleSlices;
use crate::visibility::Viewer;
use crate::{Folder, fold_in_memory};

/// The incident every test event belongs to.
pub const INCIDENT: &str = "flood-2026";
/// Minute 0 of every test.
pub const T0: &str = "2026-03-01T08:00:00Z";
/// The area events carry unless a test says otherwise.
pub const AREA: &str = "1280";

/// `minutes` after [`T0`].
pub fn t(minutes: i64) -> Timestamp {
    Timestamp::parse(T0)
        .expect("T0 parses")
        .plus_seconds(minutes * 60)
}

pub fn org(id: &str) -> OrgId {
    OrgId::new(id).expect("test org id")
}

pub fn label(text: &str) -> Label {
    Label::new(text).expect("test label")
}

pub fn text(text: &str) -> Text {
    Text::new(text).expect("test text")
}

pub fn area(code: &str) -> AreaCode {
    AreaCode::new(code).expect("test area")
}

pub fn agg(id: &str) -> AggregateId {
    AggregateId::new(id).expect("test aggregate id")
}

pub fn scope(status: Status) -> Scope {
    Scope {
        incident: IncidentId::new(INCIDENT).expect("test incident"),
        status,
    }
}

pub fn actual() -> Scope {
    scope(Status::Actual)
}

pub fn viewer(id: &str) -> Viewer {
    Viewer::Org(org(id))
}

/// The slices organisation `id` may see in the actual picture.
pub fn visible_to(models: &ReadModels, id: &str) -> VisibleSlices {
    VisibleSlices::new(models, &actual(), &viewer(id))
}

/// Events in log order.
#[derive(Debug, Default)]
pub struct Log {
    events: Vec<RawEvent>,
    envelopes: BTreeMap<EventId, Envelope>,
}

/// One event being written; [`Draft::send`] appends it.
#[derive(Debug)]
pub struct Draft<'a> {
    log: &'a mut Log,
    envelope: Envelope,
}

impl Log {
    pub fn new() -> Self {
        Self::default()
    }

    /// The sequence the next event gets.
    pub fn next_seq(&self) -> u64 {
        self.events.len() as u64 + 1
    }

    /// The events appended, in log order.
    pub fn raw_events(&self) -> &[RawEvent] {
        &self.events
    }

    /// The sequence of the last event appended.
    pub fn last_seq(&self) -> u64 {
        self.events.len() as u64
    }

    /// An actual, network-wide event by `org` on aggregate `kind`/`id`, occurring at
    /// minute `seq`, in area [`AREA`].
    pub fn event(
        &mut self,
        emitter: &str,
        kind: AggregateType,
        id: &str,
        payload: impl Into<Payload>,
    ) -> Draft<'_> {
        let seq = self.next_seq();
        let envelope = Envelope {
            id: event_id(seq),
            incident: IncidentId::new(INCIDENT).expect("test incident"),
            org: org(emitter),
            function: label("duty officer"),
            aggregate: AggregateRef::new(kind, agg(id)),
            occurred_at: t(seq as i64),
            status: Status::Actual,
            audience: Audience::Network,
            correlation: None,
            causation: None,
            area: area(AREA),
            lang: None,
            payload: payload.into(),
        };
        Draft {
            log: self,
            envelope,
        }
    }

    /// Each organisation joins the actual network (emitting its own `organisation_joined`).
    pub fn join(&mut self, orgs: &[&str]) {
        for id in orgs {
            self.event(id, AggregateType::Org, id, joined(id)).send();
        }
    }

    /// Each organisation joins the network of another incident or status.
    pub fn join_in(&mut self, incident: &str, status: Status, orgs: &[&str]) {
        for id in orgs {
            self.event(id, AggregateType::Org, id, joined(id))
                .incident(incident)
                .status(status)
                .send();
        }
    }

    /// Corrects event `original`: same emitter, aggregate, audience, status and area.
    pub fn correct(&mut self, original: EventId, replacement: impl Into<Payload>) -> EventId {
        let payload = EventCorrected {
            supersedes: original,
            replacement: TaggedPayload::new(replacement),
            reason: text("entered wrongly"),
        };
        self.supersede(original, payload.into())
    }

    /// Retracts event `original`.
    pub fn retract(&mut self, original: EventId) -> EventId {
        let payload = EventRetracted {
            supersedes: original,
            reason: RetractionReason::EnteredInError,
            note: None,
        };
        self.supersede(original, payload.into())
    }

    fn supersede(&mut self, original: EventId, payload: Payload) -> EventId {
        let theirs = self
            .envelopes
            .get(&original)
            .expect("superseded event is in the log")
            .clone();
        let seq = self.next_seq();
        let envelope = Envelope {
            id: event_id(seq),
            occurred_at: t(seq as i64),
            payload,
            ..theirs
        };
        Draft {
            log: self,
            envelope,
        }
        .send()
    }

    fn push(&mut self, envelope: Envelope) -> EventId {
        let seq = self.next_seq();
        let id = envelope.id;
        self.events.push(RawEvent {
            seq,
            recorded_at: t(seq as i64).plus_seconds(30),
            subject: envelope.subject().to_string(),
            bytes: Bytes::from(codec::encode_msgpack(&envelope)),
        });
        self.envelopes.insert(id, envelope);
        id
    }

    /// Folds the log as the engine would, and returns the read models read back from the
    /// stored bytes. Panics if batching changes the result or any event was quarantined.
    pub fn fold(&self) -> ReadModels {
        let (folder, store) = fold_in_memory(&self.events, 1).expect("fold one by one");
        let quarantined: Vec<_> = folder.models.quarantine.rows().collect();
        assert!(
            quarantined.is_empty(),
            "test events were quarantined: {quarantined:?}"
        );
        let (_, batched) = fold_in_memory(&self.events, 5).expect("fold in batches");
        assert_eq!(
            store.digest().expect("digest"),
            batched.digest().expect("digest"),
            "batching changed the read models"
        );
        Folder::load(&store).expect("stored rows read back").models
    }
}

impl Draft<'_> {
    /// Addresses the event to these organisations only (the emitter always sees it).
    pub fn to(mut self, orgs: &[&str]) -> Self {
        self.envelope.audience =
            Audience::Orgs(orgs.iter().map(|id| org(id)).collect::<BTreeSet<_>>());
        self
    }

    /// When it happened: `minutes` after [`T0`].
    pub fn at(mut self, minutes: i64) -> Self {
        self.envelope.occurred_at = t(minutes);
        self
    }

    pub fn area(mut self, code: &str) -> Self {
        self.envelope.area = area(code);
        self
    }

    /// Belongs to another incident than [`INCIDENT`].
    pub fn incident(mut self, id: &str) -> Self {
        self.envelope.incident = IncidentId::new(id).expect("test incident");
        self
    }

    pub fn status(mut self, status: Status) -> Self {
        self.envelope.status = status;
        self
    }

    pub fn send(self) -> EventId {
        self.log.push(self.envelope)
    }
}

/// A deterministic, canonical event id for sequence `seq`.
pub fn event_id(seq: u64) -> EventId {
    EventId::parse(&format!("00000000-0000-7000-8000-{seq:012x}")).expect("canonical test id")
}

/// `organisation_joined` for `id`.
pub fn joined(id: &str) -> OrganisationJoined {
    OrganisationJoined {
        name: label(id),
        org_type: OrgType::Authority,
        functions: BTreeSet::new(),
        contact_function: None,
    }
}
