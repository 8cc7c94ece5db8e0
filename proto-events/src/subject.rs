//! NATS subjects, derived from the envelope and never free:
//! `samla.evt.<incident>.<org>.<aggregate_type>.<aggregate_id>` for the log and
//! `samla.ingest.<incident>.<org>` for the ingest service. Every token is a checked
//! `[a-z0-9_-]` identifier, so no wildcard or token can be injected.

use std::fmt;
use std::str::FromStr;

use crate::envelope::{AggregateRef, Envelope};
use crate::ids::{AggregateId, IncidentId, OrgId};
use crate::vocab::AggregateType;

/// The prefix of every log subject.
pub const EVENT_PREFIX: &str = "samla.evt";
/// The subjects of the log stream.
pub const EVENT_WILDCARD: &str = "samla.evt.>";
/// The prefix of every ingest subject.
pub const INGEST_PREFIX: &str = "samla.ingest";

/// A log subject.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventSubject {
    pub incident: IncidentId,
    pub org: OrgId,
    pub aggregate: AggregateRef,
}

impl EventSubject {
    /// The subject filter for all organisations' events on this subject's aggregate
    /// (`samla.evt.<incident>.*.<type>.<id>`), used for optimistic concurrency.
    pub fn aggregate_filter(&self) -> String {
        aggregate_filter(&self.incident, self.aggregate.kind, &self.aggregate.id)
    }
}

impl fmt::Display for EventSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{EVENT_PREFIX}.{}.{}.{}.{}",
            self.incident, self.org, self.aggregate.kind, self.aggregate.id
        )
    }
}

/// Why a subject could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid subject {subject:?}: {reason}")]
pub struct SubjectError {
    pub subject: String,
    pub reason: String,
}

impl FromStr for EventSubject {
    type Err = SubjectError;
    fn from_str(subject: &str) -> Result<Self, SubjectError> {
        let fail = |reason: String| SubjectError {
            subject: subject.to_string(),
            reason,
        };
        let rest = subject
            .strip_prefix("samla.evt.")
            .ok_or_else(|| fail("does not start with samla.evt.".into()))?;
        let tokens: Vec<&str> = rest.split('.').collect();
        let [incident, org, aggregate_type, aggregate_id] = tokens[..] else {
            return Err(fail(format!(
                "expected 4 tokens after samla.evt, found {}",
                tokens.len()
            )));
        };
        Ok(EventSubject {
            incident: IncidentId::new(incident).map_err(|e| fail(format!("incident {e}")))?,
            org: OrgId::new(org).map_err(|e| fail(format!("organisation {e}")))?,
            aggregate: AggregateRef {
                kind: AggregateType::from_str(aggregate_type).map_err(fail)?,
                id: AggregateId::new(aggregate_id)
                    .map_err(|e| fail(format!("aggregate id {e}")))?,
            },
        })
    }
}

impl Envelope {
    /// The log subject this event is appended on.
    pub fn subject(&self) -> EventSubject {
        EventSubject {
            incident: self.incident.clone(),
            org: self.org.clone(),
            aggregate: self.aggregate.clone(),
        }
    }
}

/// `samla.evt.<incident>.*.<type>.<id>`: every organisation's events on one aggregate.
pub fn aggregate_filter(incident: &IncidentId, kind: AggregateType, id: &AggregateId) -> String {
    format!("{EVENT_PREFIX}.{incident}.*.{kind}.{id}")
}

/// `samla.evt.<incident>.>`: every event of one incident.
pub fn incident_filter(incident: &IncidentId) -> String {
    format!("{EVENT_PREFIX}.{incident}.>")
}

/// An ingest subject: where an organisation sends its events for one incident.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IngestSubject {
    pub incident: IncidentId,
    pub org: OrgId,
}

impl fmt::Display for IngestSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{INGEST_PREFIX}.{}.{}", self.incident, self.org)
    }
}

impl FromStr for IngestSubject {
    type Err = SubjectError;
    fn from_str(subject: &str) -> Result<Self, SubjectError> {
        let fail = |reason: String| SubjectError {
            subject: subject.to_string(),
            reason,
        };
        let rest = subject
            .strip_prefix("samla.ingest.")
            .ok_or_else(|| fail("does not start with samla.ingest.".into()))?;
        let tokens: Vec<&str> = rest.split('.').collect();
        let [incident, org] = tokens[..] else {
            return Err(fail(format!(
                "expected 2 tokens after samla.ingest, found {}",
                tokens.len()
            )));
        };
        Ok(IngestSubject {
            incident: IncidentId::new(incident).map_err(|e| fail(format!("incident {e}")))?,
            org: OrgId::new(org).map_err(|e| fail(format!("organisation {e}")))?,
        })
    }
}

/// The ingest subjects one organisation may publish on: `samla.ingest.*.<org>`.
pub fn ingest_permission(org: &OrgId) -> String {
    format!("{INGEST_PREFIX}.*.{org}")
}

/// The inbox prefix of an organisation's NATS user: `_INBOX_<org>`.
pub fn inbox_prefix(org: &OrgId) -> String {
    format!("_INBOX_{org}")
}
