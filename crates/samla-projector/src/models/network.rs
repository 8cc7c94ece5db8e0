//! The network: the incident, who joined it (membership decides who sees network events),
//! who leads which function, who does what where, and — in [`coordination`] — meetings,
//! decisions and actions.
//!
//! Membership: an organisation is a member of a scope's network when the latest of its
//! own `organisation_joined` / `organisation_left` events in the network slice of that
//! scope is a join. A join counts only when the organisation emits it about itself (the
//! `org` aggregate's id is its own id), so nobody can enrol another organisation into a
//! network's picture; a leave counts from the organisation itself or from the incident's
//! convenor (who declared it, or its lead organisation). Membership is per scope: joining
//! the actual picture does not enrol an organisation into an exercise.

pub mod coordination;

use std::collections::BTreeSet;

use proto_events::vocab::{IncidentPhase, IncidentType, OrgType, PresenceStatus, Sector};
use proto_events::{Envelope, OrgId, Payload, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Common, Effect, Position, put};
use crate::error::ProjectorError;
use crate::gauge::Gauge;
use crate::store::Change;
use crate::table::{RowKey, Scope, Table, TrackedTable};
use crate::visibility::SliceId;

/// The incident itself (aggregate `incident`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRow {
    pub common: Common,
    pub title: Gauge<String>,
    pub incident_type: Gauge<IncidentType>,
    pub areas: Gauge<BTreeSet<String>>,
    pub lead_org: Gauge<OrgId>,
    pub declared_by: Gauge<OrgId>,
    pub started_at: Gauge<Timestamp>,
    pub description: Gauge<Option<String>>,
    pub phase: Gauge<IncidentPhase>,
}

/// One organisation of the network (aggregate `org`, id = the organisation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRow {
    pub common: Common,
    pub name: Gauge<String>,
    pub org_type: Gauge<OrgType>,
    pub functions: Gauge<BTreeSet<String>>,
    pub contact_function: Gauge<Option<String>>,
    /// `true` after a join, `false` after a leave: the latest decides.
    pub member: Gauge<bool>,
    pub joined_at: Gauge<Timestamp>,
}

/// A function with its lead and supporting organisations (aggregate `responsibility`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsibilityRow {
    pub common: Common,
    pub function: Gauge<String>,
    pub lead_org: Gauge<OrgId>,
    pub supporting_orgs: Gauge<BTreeSet<OrgId>>,
    pub assigned_by: Gauge<OrgId>,
}

/// Who does what where (aggregate `presence`; the area is the envelope's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceRow {
    pub common: Common,
    pub org: Gauge<OrgId>,
    pub sector: Gauge<Sector>,
    pub activity: Gauge<String>,
    pub status: Gauge<PresenceStatus>,
    pub starts_at: Gauge<Option<Timestamp>>,
    pub ends_at: Gauge<Option<Timestamp>>,
}

/// The network read models.
#[derive(Debug, Clone)]
pub struct Network {
    pub incidents: Table<RowKey, IncidentRow>,
    pub orgs: Table<RowKey, OrgRow>,
    pub responsibilities: Table<RowKey, ResponsibilityRow>,
    pub presence: Table<RowKey, PresenceRow>,
    pub meetings: Table<RowKey, coordination::MeetingRow>,
    pub decisions: Table<RowKey, coordination::DecisionRow>,
    pub actions: Table<RowKey, coordination::ActionRow>,
}

impl Default for Network {
    fn default() -> Self {
        Self::new()
    }
}

impl Network {
    pub fn new() -> Self {
        Self {
            incidents: Table::in_memory("incidents"),
            orgs: Table::in_memory("orgs"),
            responsibilities: Table::new("responsibilities"),
            presence: Table::new("presence"),
            meetings: Table::new("meetings"),
            decisions: Table::new("decisions"),
            actions: Table::new("actions"),
        }
    }

    pub fn effect(
        &mut self,
        key: &RowKey,
        envelope: &Envelope,
        payload: &Payload,
        at: &Position,
        effect: Effect,
    ) {
        match payload {
            Payload::IncidentDeclared(p) => {
                let row = self.incidents.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                put(&mut row.title, at, effect, p.title.as_str().to_string());
                put(&mut row.incident_type, at, effect, p.incident_type);
                let areas = p.areas.iter().map(|a| a.as_str().to_string()).collect();
                put(&mut row.areas, at, effect, areas);
                put(&mut row.lead_org, at, effect, p.lead_org.clone());
                put(&mut row.declared_by, at, effect, envelope.org.clone());
                put(&mut row.started_at, at, effect, p.started_at);
                put(
                    &mut row.description,
                    at,
                    effect,
                    p.description.as_ref().map(|d| d.as_str().to_string()),
                );
            }
            Payload::IncidentPhaseChanged(p) => {
                let row = self.incidents.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                put(&mut row.phase, at, effect, p.phase);
            }
            Payload::OrganisationJoined(p) => {
                let row = self.orgs.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                put(&mut row.name, at, effect, p.name.as_str().to_string());
                put(&mut row.org_type, at, effect, p.org_type);
                let functions = p.functions.iter().map(|f| f.as_str().to_string()).collect();
                put(&mut row.functions, at, effect, functions);
                put(
                    &mut row.contact_function,
                    at,
                    effect,
                    p.contact_function.as_ref().map(|c| c.as_str().to_string()),
                );
                // Undo always retracts: retracting a value never set is a no-op.
                if envelope.org.as_str() == key.id || effect == Effect::Undo {
                    put(&mut row.member, at, effect, true);
                    put(&mut row.joined_at, at, effect, at.occurred_at);
                }
            }
            Payload::OrganisationLeft(_) => {
                let allowed =
                    envelope.org.as_str() == key.id || self.is_convenor(&key.scope, &envelope.org);
                let row = self.orgs.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                if allowed || effect == Effect::Undo {
                    put(&mut row.member, at, effect, false);
                }
            }
            Payload::ResponsibilityAssigned(p) => {
                let row = self.responsibilities.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                put(
                    &mut row.function,
                    at,
                    effect,
                    p.function.as_str().to_string(),
                );
                put(&mut row.lead_org, at, effect, p.lead_org.clone());
                put(
                    &mut row.supporting_orgs,
                    at,
                    effect,
                    p.supporting_orgs.clone(),
                );
                put(&mut row.assigned_by, at, effect, envelope.org.clone());
            }
            Payload::OperationalPresenceDeclared(p) => {
                let row = self.presence.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                put(&mut row.org, at, effect, envelope.org.clone());
                put(&mut row.sector, at, effect, p.sector);
                put(
                    &mut row.activity,
                    at,
                    effect,
                    p.activity.as_str().to_string(),
                );
                put(&mut row.status, at, effect, p.presence_status);
                put(&mut row.starts_at, at, effect, p.starts_at);
                put(&mut row.ends_at, at, effect, p.ends_at);
            }
            _ => coordination::effect(self, key, envelope, payload, at, effect),
        }
    }

    /// Whether `org` declared the scope's incident or leads it (network slice).
    fn is_convenor(&self, scope: &Scope, org: &OrgId) -> bool {
        self.incidents.iter().any(|(key, row)| {
            key.scope == *scope
                && key.slice.is_network()
                && (row.declared_by.value() == Some(org) || row.lead_org.value() == Some(org))
        })
    }

    /// Every table, for change tracking.
    pub fn tables_mut(&mut self) -> [&mut dyn TrackedTable; 7] {
        [
            &mut self.incidents,
            &mut self.orgs,
            &mut self.responsibilities,
            &mut self.presence,
            &mut self.meetings,
            &mut self.decisions,
            &mut self.actions,
        ]
    }

    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        self.incidents.drain_changes(out);
        self.orgs.drain_changes(out);
        self.responsibilities.drain_changes(out);
        self.presence.drain_changes(out);
        self.meetings.drain_changes(out);
        self.decisions.drain_changes(out);
        self.actions.drain_changes(out);
    }

    /// Whether `table` (the name after `m/`) is one of this model's tables.
    pub fn owns(&self, table: &str) -> bool {
        [
            self.incidents.name(),
            self.orgs.name(),
            self.responsibilities.name(),
            self.presence.name(),
            self.meetings.name(),
            self.decisions.name(),
            self.actions.name(),
        ]
        .contains(&table)
    }

    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        match crate::table::table_name(key) {
            "incidents" => self.incidents.load(key, value),
            "orgs" => self.orgs.load(key, value),
            "responsibilities" => self.responsibilities.load(key, value),
            "presence" => self.presence.load(key, value),
            "meetings" => self.meetings.load(key, value),
            "decisions" => self.decisions.load(key, value),
            "actions" => self.actions.load(key, value),
            other => Err(ProjectorError::Corrupt(format!(
                "{other}: not a network table"
            ))),
        }
    }

    /// Whether `org` joined the network of `scope`'s incident (and has not left).
    pub fn is_member(&self, scope: &Scope, org: &OrgId) -> bool {
        let key = RowKey {
            scope: scope.clone(),
            id: org.as_str().to_string(),
            slice: SliceId::network(),
        };
        self.orgs
            .get(&key)
            .and_then(|row| row.member.value().copied())
            .unwrap_or(false)
    }

    /// Every member of `scope`'s network, in id order.
    /// Every incident any event declared or any organisation joined, in id order.
    pub fn incident_ids(&self) -> Vec<proto_events::IncidentId> {
        let mut ids: Vec<proto_events::IncidentId> = self
            .incidents
            .iter()
            .map(|(key, _)| key.scope.incident.clone())
            .chain(self.orgs.iter().map(|(key, _)| key.scope.incident.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    pub fn members(&self, scope: &Scope) -> Vec<OrgId> {
        self.orgs
            .iter()
            .filter(|(key, row)| {
                key.scope == *scope && key.slice.is_network() && row.member.value() == Some(&true)
            })
            .filter_map(|(key, _)| OrgId::new(key.id.as_str()).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests;
