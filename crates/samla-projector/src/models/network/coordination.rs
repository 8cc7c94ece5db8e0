//! Coordination: meetings (scheduled, held), decisions (with the log position the picture
//! they were based on had reached), and actions (assigned, completed).

use std::collections::BTreeSet;

use proto_events::{AggregateRef, Envelope, OrgId, Payload, Timestamp};
use serde::{Deserialize, Serialize};

use super::Network;
use crate::gauge::Gauge;
use crate::models::{Common, Effect, Position, put};
use crate::table::RowKey;

/// An aggregate reference as `type/id`, e.g. `need/n1`.
pub fn reference(aggregate: &AggregateRef) -> String {
    format!("{}/{}", aggregate.kind, aggregate.id)
}

fn references(aggregates: &BTreeSet<AggregateRef>) -> BTreeSet<String> {
    aggregates.iter().map(reference).collect()
}

/// One meeting (aggregate `meeting`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingRow {
    pub common: Common,
    pub forum: Gauge<String>,
    pub starts_at: Gauge<Timestamp>,
    pub participants: Gauge<BTreeSet<OrgId>>,
    pub convened_by: Gauge<OrgId>,
    /// When it was held (`occurred_at`).
    pub held_at: Gauge<Timestamp>,
    pub attending: Gauge<BTreeSet<OrgId>>,
    /// Aggregates on the agenda, as `type/id`.
    pub agenda: Gauge<BTreeSet<String>>,
    pub minutes_ref: Gauge<Option<String>>,
}

/// One decision (aggregate `decision`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRow {
    pub common: Common,
    pub body: Gauge<String>,
    pub text: Gauge<String>,
    pub rationale: Gauge<Option<String>>,
    /// The stream sequence the picture the decision was based on had reached.
    pub based_on_seq: Gauge<u64>,
    pub refs: Gauge<BTreeSet<String>>,
    pub meeting: Gauge<Option<String>>,
    pub effective_from: Gauge<Option<Timestamp>>,
    pub decided_by: Gauge<OrgId>,
    pub decided_at: Gauge<Timestamp>,
}

/// One action (aggregate `action`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRow {
    pub common: Common,
    pub description: Gauge<String>,
    pub assigned_org: Gauge<OrgId>,
    pub assigned_function: Gauge<String>,
    pub decision: Gauge<Option<String>>,
    pub due_by: Gauge<Option<Timestamp>>,
    pub assigned_by: Gauge<OrgId>,
    pub assigned_at: Gauge<Timestamp>,
    pub completed_at: Gauge<Timestamp>,
    pub outcome: Gauge<String>,
}

pub fn effect(
    network: &mut Network,
    key: &RowKey,
    envelope: &Envelope,
    payload: &Payload,
    at: &Position,
    effect: Effect,
) {
    match payload {
        Payload::MeetingScheduled(p) => {
            let row = network.meetings.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.forum, at, effect, p.forum.as_str().to_string());
            put(&mut row.starts_at, at, effect, p.starts_at);
            put(&mut row.participants, at, effect, p.participants.clone());
            put(&mut row.convened_by, at, effect, envelope.org.clone());
        }
        Payload::MeetingHeld(p) => {
            let row = network.meetings.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.held_at, at, effect, at.occurred_at);
            put(&mut row.attending, at, effect, p.attending.clone());
            put(&mut row.agenda, at, effect, references(&p.agenda));
            put(
                &mut row.minutes_ref,
                at,
                effect,
                p.minutes_ref.as_ref().map(|m| m.as_str().to_string()),
            );
        }
        Payload::DecisionRecorded(p) => {
            let row = network.decisions.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.body, at, effect, p.body.as_str().to_string());
            put(&mut row.text, at, effect, p.text.as_str().to_string());
            put(
                &mut row.rationale,
                at,
                effect,
                p.rationale.as_ref().map(|r| r.as_str().to_string()),
            );
            put(&mut row.based_on_seq, at, effect, p.based_on_seq);
            put(&mut row.refs, at, effect, references(&p.refs));
            put(
                &mut row.meeting,
                at,
                effect,
                p.meeting.as_ref().map(|m| m.as_str().to_string()),
            );
            put(&mut row.effective_from, at, effect, p.effective_from);
            put(&mut row.decided_by, at, effect, envelope.org.clone());
            put(&mut row.decided_at, at, effect, at.occurred_at);
        }
        Payload::ActionAssigned(p) => {
            let row = network.actions.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(
                &mut row.description,
                at,
                effect,
                p.description.as_str().to_string(),
            );
            put(&mut row.assigned_org, at, effect, p.assigned_org.clone());
            put(
                &mut row.assigned_function,
                at,
                effect,
                p.assigned_function.as_str().to_string(),
            );
            put(
                &mut row.decision,
                at,
                effect,
                p.decision.as_ref().map(|d| d.as_str().to_string()),
            );
            put(&mut row.due_by, at, effect, p.due_by);
            put(&mut row.assigned_by, at, effect, envelope.org.clone());
            put(&mut row.assigned_at, at, effect, at.occurred_at);
        }
        Payload::ActionCompleted(p) => {
            let row = network.actions.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.completed_at, at, effect, at.occurred_at);
            put(&mut row.outcome, at, effect, p.outcome.as_str().to_string());
        }
        _ => {}
    }
}
