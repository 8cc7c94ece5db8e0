//! The network as a viewer sees it: the incident, its organisations and their membership,
//! responsibilities, who does what where, meetings, decisions, and actions (overdue at
//! `now`).

use std::collections::{BTreeMap, BTreeSet};

use proto_events::vocab::{IncidentPhase, IncidentType, OrgType, PresenceStatus, Sector};
use proto_events::{OrgId, Timestamp};

use super::{VisibleSlices, merged};
use super::{last_seq, value};
use crate::models::ReadModels;
use crate::table::Scope;

/// The incident.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct IncidentView {
    pub id: String,
    pub title: Option<String>,
    pub incident_type: Option<IncidentType>,
    pub areas: BTreeSet<String>,
    pub lead_org: Option<OrgId>,
    pub declared_by: Option<OrgId>,
    pub started_at: Option<Timestamp>,
    pub description: Option<String>,
    pub phase: Option<IncidentPhase>,
    pub last_seq: u64,
}

/// Every incident aggregate of the scope the viewer may see (normally one).
pub fn incidents(models: &ReadModels, scope: &Scope, visible: &VisibleSlices) -> Vec<IncidentView> {
    merged(&models.network.incidents, scope, visible)
        .iter()
        .map(|group| {
            let rows = &group.rows;
            IncidentView {
                id: group.id.clone(),
                title: value(rows, |r| &r.title),
                incident_type: value(rows, |r| &r.incident_type),
                areas: value(rows, |r| &r.areas).unwrap_or_default(),
                lead_org: value(rows, |r| &r.lead_org),
                declared_by: value(rows, |r| &r.declared_by),
                started_at: value(rows, |r| &r.started_at),
                description: value(rows, |r| &r.description).flatten(),
                phase: value(rows, |r| &r.phase),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            }
        })
        .collect()
}

/// The incident: the first declared one the viewer may see.
pub fn incident(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
) -> Option<IncidentView> {
    incidents(models, scope, visible)
        .into_iter()
        .filter(|i| i.started_at.is_some())
        .min_by_key(|i| i.started_at)
}

/// One organisation of the network.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct OrgView {
    pub id: String,
    pub name: Option<String>,
    pub org_type: Option<OrgType>,
    pub functions: BTreeSet<String>,
    pub contact_function: Option<String>,
    /// Whether it is a member of the network now (network slice only).
    pub member: bool,
    pub joined_at: Option<Timestamp>,
    pub last_seq: u64,
}

/// Every organisation the viewer may see, members or not, in id order.
pub fn organisations(models: &ReadModels, scope: &Scope, visible: &VisibleSlices) -> Vec<OrgView> {
    merged(&models.network.orgs, scope, visible)
        .iter()
        .map(|group| {
            let rows = &group.rows;
            let member = OrgId::new(group.id.as_str())
                .is_ok_and(|org| models.network.is_member(scope, &org));
            OrgView {
                id: group.id.clone(),
                name: value(rows, |r| &r.name),
                org_type: value(rows, |r| &r.org_type),
                functions: value(rows, |r| &r.functions).unwrap_or_default(),
                contact_function: value(rows, |r| &r.contact_function).flatten(),
                member,
                joined_at: value(rows, |r| &r.joined_at),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            }
        })
        .collect()
}

/// A function and who leads and supports it.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ResponsibilityView {
    pub id: String,
    pub function: Option<String>,
    pub lead_org: Option<OrgId>,
    pub supporting_orgs: BTreeSet<OrgId>,
    pub assigned_by: Option<OrgId>,
    pub last_seq: u64,
}

pub fn responsibilities(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
) -> Vec<ResponsibilityView> {
    merged(&models.network.responsibilities, scope, visible)
        .iter()
        .map(|group| {
            let rows = &group.rows;
            ResponsibilityView {
                id: group.id.clone(),
                function: value(rows, |r| &r.function),
                lead_org: value(rows, |r| &r.lead_org),
                supporting_orgs: value(rows, |r| &r.supporting_orgs).unwrap_or_default(),
                assigned_by: value(rows, |r| &r.assigned_by),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            }
        })
        .collect()
}

/// One organisation's activity in one area (3W).
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct PresenceView {
    pub id: String,
    pub org: Option<OrgId>,
    pub sector: Option<Sector>,
    pub activity: Option<String>,
    pub status: Option<PresenceStatus>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub area: Option<String>,
    pub last_seq: u64,
}

pub fn presence(models: &ReadModels, scope: &Scope, visible: &VisibleSlices) -> Vec<PresenceView> {
    merged(&models.network.presence, scope, visible)
        .iter()
        .map(|group| {
            let rows = &group.rows;
            PresenceView {
                id: group.id.clone(),
                org: value(rows, |r| &r.org),
                sector: value(rows, |r| &r.sector),
                activity: value(rows, |r| &r.activity),
                status: value(rows, |r| &r.status),
                starts_at: value(rows, |r| &r.starts_at).flatten(),
                ends_at: value(rows, |r| &r.ends_at).flatten(),
                area: value(rows, |r| &r.common.area),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            }
        })
        .collect()
}

/// Who does what where: organisations per area and sector, over presences not completed.
pub fn who_does_what_where(
    presence: &[PresenceView],
) -> BTreeMap<(String, Sector), BTreeSet<OrgId>> {
    let mut out: BTreeMap<(String, Sector), BTreeSet<OrgId>> = BTreeMap::new();
    for one in presence {
        if one.status == Some(PresenceStatus::Completed) {
            continue;
        }
        if let (Some(area), Some(sector), Some(org)) = (&one.area, one.sector, &one.org) {
            out.entry((area.clone(), sector))
                .or_default()
                .insert(org.clone());
        }
    }
    out
}

/// One meeting.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct MeetingView {
    pub id: String,
    pub forum: Option<String>,
    pub starts_at: Option<Timestamp>,
    pub participants: BTreeSet<OrgId>,
    pub convened_by: Option<OrgId>,
    pub held: bool,
    pub held_at: Option<Timestamp>,
    pub attending: BTreeSet<OrgId>,
    pub agenda: BTreeSet<String>,
    pub minutes_ref: Option<String>,
    pub last_seq: u64,
}

pub fn meetings(models: &ReadModels, scope: &Scope, visible: &VisibleSlices) -> Vec<MeetingView> {
    merged(&models.network.meetings, scope, visible)
        .iter()
        .map(|group| {
            let rows = &group.rows;
            let held_at = value(rows, |r| &r.held_at);
            MeetingView {
                id: group.id.clone(),
                forum: value(rows, |r| &r.forum),
                starts_at: value(rows, |r| &r.starts_at),
                participants: value(rows, |r| &r.participants).unwrap_or_default(),
                convened_by: value(rows, |r| &r.convened_by),
                held: held_at.is_some(),
                held_at,
                attending: value(rows, |r| &r.attending).unwrap_or_default(),
                agenda: value(rows, |r| &r.agenda).unwrap_or_default(),
                minutes_ref: value(rows, |r| &r.minutes_ref).flatten(),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            }
        })
        .collect()
}

/// One decision, with the log position its picture had reached.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct DecisionView {
    pub id: String,
    pub body: Option<String>,
    pub text: Option<String>,
    pub rationale: Option<String>,
    /// Replay the picture to this sequence to see what was known when it was decided.
    pub based_on_seq: Option<u64>,
    pub refs: BTreeSet<String>,
    pub meeting: Option<String>,
    pub effective_from: Option<Timestamp>,
    pub decided_by: Option<OrgId>,
    pub decided_at: Option<Timestamp>,
    pub last_seq: u64,
}

pub fn decisions(models: &ReadModels, scope: &Scope, visible: &VisibleSlices) -> Vec<DecisionView> {
    merged(&models.network.decisions, scope, visible)
        .iter()
        .map(|group| {
            let rows = &group.rows;
            DecisionView {
                id: group.id.clone(),
                body: value(rows, |r| &r.body),
                text: value(rows, |r| &r.text),
                rationale: value(rows, |r| &r.rationale).flatten(),
                based_on_seq: value(rows, |r| &r.based_on_seq),
                refs: value(rows, |r| &r.refs).unwrap_or_default(),
                meeting: value(rows, |r| &r.meeting).flatten(),
                effective_from: value(rows, |r| &r.effective_from).flatten(),
                decided_by: value(rows, |r| &r.decided_by),
                decided_at: value(rows, |r| &r.decided_at),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            }
        })
        .collect()
}

/// One action at `now`.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ActionView {
    pub id: String,
    pub description: Option<String>,
    pub assigned_org: Option<OrgId>,
    pub assigned_function: Option<String>,
    pub decision: Option<String>,
    pub due_by: Option<Timestamp>,
    pub assigned_by: Option<OrgId>,
    pub assigned_at: Option<Timestamp>,
    pub completed: bool,
    pub completed_at: Option<Timestamp>,
    pub outcome: Option<String>,
    /// `due_by` passed and it is not completed.
    pub overdue: bool,
    pub age_seconds: Option<i64>,
    pub last_seq: u64,
}

pub fn actions(
    models: &ReadModels,
    scope: &Scope,
    visible: &VisibleSlices,
    now: Timestamp,
) -> Vec<ActionView> {
    merged(&models.network.actions, scope, visible)
        .iter()
        .map(|group| {
            let rows = &group.rows;
            let completed_at = value(rows, |r| &r.completed_at);
            let due_by = value(rows, |r| &r.due_by).flatten();
            let assigned_at = value(rows, |r| &r.assigned_at);
            ActionView {
                id: group.id.clone(),
                description: value(rows, |r| &r.description),
                assigned_org: value(rows, |r| &r.assigned_org),
                assigned_function: value(rows, |r| &r.assigned_function),
                decision: value(rows, |r| &r.decision).flatten(),
                due_by,
                assigned_by: value(rows, |r| &r.assigned_by),
                assigned_at,
                completed: completed_at.is_some(),
                completed_at,
                outcome: completed_at.and_then(|_| value(rows, |r| &r.outcome)),
                overdue: completed_at.is_none() && due_by.is_some_and(|by| by < now),
                age_seconds: assigned_at.map(|at| now.seconds_since(at)),
                last_seq: last_seq(rows, |r| r.common.last_seq),
            }
        })
        .collect()
}
