//! Issues between actors: raised with an organisation, acknowledged, assigned an owner,
//! escalated, resolved, reopened.
//!
//! Gauges hold what later events replace (the owner, the due time, whether it is resolved
//! now); small maps keyed by sequence hold the moments and levels durations and "highest
//! escalation" need, so a retraction removes exactly its own mark.

use std::collections::BTreeMap;

use proto_events::vocab::{IssueCategory, Severity};
use proto_events::{Envelope, OrgId, Payload, Timestamp};
use serde::{Deserialize, Serialize};

use super::mark;
use super::{Common, Effect, Marks, Position, put};
use crate::gauge::{Counter, Gauge};
use crate::table::{RowKey, Table};

/// Who owns an issue: an organisation and a function in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueOwner {
    pub org: OrgId,
    pub function: String,
}

/// One escalation step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub level: u8,
    pub to_org: Option<OrgId>,
    pub to_forum: Option<String>,
    pub at: Timestamp,
}

/// One issue in one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRow {
    pub common: Common,
    pub raised_by: Gauge<OrgId>,
    pub raised_at: Gauge<Timestamp>,
    pub addressed_to: Gauge<OrgId>,
    pub addressed_function: Gauge<Option<String>>,
    pub category: Gauge<IssueCategory>,
    pub severity: Gauge<Severity>,
    pub summary: Gauge<String>,
    /// Set by the raise, and replaced by an assignment or escalation that names one.
    pub due_by: Gauge<Option<Timestamp>>,
    /// Every acknowledgement's `occurred_at`, by sequence.
    pub acknowledged_at: Marks,
    pub owner: Gauge<IssueOwner>,
    /// Every escalation, by sequence: the latest is the current level, the maximum the
    /// highest reached.
    pub escalations: BTreeMap<u64, Escalation>,
    /// When it was resolved (`occurred_at`), or `None` after a reopening.
    pub resolved_at: Gauge<Option<Timestamp>>,
    pub resolution: Gauge<String>,
    pub reopened: Counter,
}

pub fn effect(
    table: &mut Table<RowKey, IssueRow>,
    key: &RowKey,
    envelope: &Envelope,
    payload: &Payload,
    at: &Position,
    effect: Effect,
) {
    match payload {
        Payload::IssueRaised(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.raised_by, at, effect, envelope.org.clone());
            put(&mut row.raised_at, at, effect, at.occurred_at);
            put(&mut row.addressed_to, at, effect, p.addressed_to.clone());
            put(
                &mut row.addressed_function,
                at,
                effect,
                p.addressed_function
                    .as_ref()
                    .map(|f| f.as_str().to_string()),
            );
            put(&mut row.category, at, effect, p.category);
            put(&mut row.severity, at, effect, p.severity);
            put(&mut row.summary, at, effect, p.summary.as_str().to_string());
            put(&mut row.due_by, at, effect, p.due_by);
        }
        Payload::IssueAcknowledged(_) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            mark(&mut row.acknowledged_at, at, effect);
        }
        Payload::IssueAssigned(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            let owner = IssueOwner {
                org: p.owner_org.clone(),
                function: p.owner_function.as_str().to_string(),
            };
            put(&mut row.owner, at, effect, owner);
            if p.due_by.is_some() {
                put(&mut row.due_by, at, effect, p.due_by);
            }
        }
        Payload::IssueEscalated(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            match effect {
                Effect::Apply => {
                    let step = Escalation {
                        level: p.level,
                        to_org: p.to_org.clone(),
                        to_forum: p.to_forum.as_ref().map(|f| f.as_str().to_string()),
                        at: at.occurred_at,
                    };
                    row.escalations.insert(at.gauge_seq, step);
                }
                Effect::Undo => {
                    row.escalations.remove(&at.gauge_seq);
                }
            }
            if p.due_by.is_some() {
                put(&mut row.due_by, at, effect, p.due_by);
            }
        }
        Payload::IssueResolved(p) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.resolved_at, at, effect, Some(at.occurred_at));
            put(
                &mut row.resolution,
                at,
                effect,
                p.resolution.as_str().to_string(),
            );
        }
        Payload::IssueReopened(_) => {
            let row = table.row_mut(key.clone());
            row.common.touch(envelope, at, effect);
            put(&mut row.resolved_at, at, effect, None);
            row.reopened.add(1, effect.sign());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
