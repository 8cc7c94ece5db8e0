//! Reports and counts: situation reports, arrivals, service capacity, hospital status,
//! alerts and requests for information — one table each.
//!
//! A situation report, a service or hospital report, and an alert each replace the one
//! before on the same aggregate, so each is kept whole as one gauge (a later report that
//! leaves a field out does not inherit the earlier value). Arrivals keep "to date" figures
//! as separate gauges (a report may carry only some) and "this period" figures as counters,
//! plus a per-day series of arrivals (by the UTC day of `period_to`) for charts.

use std::collections::{BTreeMap, BTreeSet};

use proto_events::vocab::{
    AlertCertainty, AlertMessageType, AlertScope, AlertSeverity, AlertUrgency, BedType, Confidence,
    EmergencyDepartmentStatus, FacilityStatus, ReportVersion, ServiceKind, Severity,
};
use proto_events::{Envelope, OrgId, Payload, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Common, Effect, Position, put};
use crate::error::ProjectorError;
use crate::gauge::{Counter, Gauge};
use crate::store::Change;
use crate::table::{RowKey, Table, TrackedTable};

/// The counts a situation report carried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedCounts {
    pub arrivals_this_period: Option<u32>,
    pub arrivals_to_date: Option<u32>,
    pub placed_to_date: Option<u32>,
    pub awaiting_placement: Option<u32>,
    pub unaccompanied_minors_to_date: Option<u32>,
    pub households_this_period: Option<u32>,
}

/// One situation report, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sitrep {
    pub number: u32,
    pub version: ReportVersion,
    pub period_from: Timestamp,
    pub period_to: Timestamp,
    pub summary: String,
    pub consequences: Option<String>,
    pub actions_taken: Option<String>,
    pub needs: Option<String>,
    pub outlook: Option<String>,
    pub severity: Option<Severity>,
    pub confidence: Option<Confidence>,
    pub counts: ReportedCounts,
    pub next_report_at: Option<Timestamp>,
    /// When it was issued (`occurred_at`).
    pub reported_at: Timestamp,
    pub reported_by: OrgId,
}

/// One series of situation reports (one organisation's) in one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SitrepRow {
    pub common: Common,
    pub report: Gauge<Sitrep>,
    /// How many reports the series holds.
    pub reports: Counter,
}

/// One arrivals series (one organisation and area) in one slice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrivalsRow {
    pub common: Common,
    pub reported_by: Gauge<OrgId>,
    pub arrivals_to_date: Gauge<u32>,
    pub placed_to_date: Gauge<u32>,
    pub awaiting_placement: Gauge<u32>,
    pub unaccompanied_minors_to_date: Gauge<u32>,
    pub arrivals_this_period: Counter,
    pub households_this_period: Counter,
    pub period_from: Gauge<Timestamp>,
    pub period_to: Gauge<Timestamp>,
    pub estimated: Gauge<bool>,
    /// Arrivals this period, by the UTC day (`YYYY-MM-DD`) of `period_to`.
    pub per_day: BTreeMap<String, Counter>,
}

/// One service capacity report, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceReport {
    pub service: ServiceKind,
    pub available: u32,
    pub used: u32,
    pub language: Option<String>,
    pub reported_at: Timestamp,
    pub reported_by: OrgId,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub common: Common,
    pub report: Gauge<ServiceReport>,
}

/// One hospital status report, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalReport {
    pub facility_status: FacilityStatus,
    pub emergency_department: EmergencyDepartmentStatus,
    pub beds_available: BTreeMap<BedType, u32>,
    pub reported_at: Timestamp,
    pub reported_by: OrgId,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalRow {
    pub common: Common,
    pub report: Gauge<HospitalReport>,
}

/// An alert as last issued or updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub message_type: AlertMessageType,
    pub scope: AlertScope,
    pub urgency: AlertUrgency,
    pub severity: AlertSeverity,
    pub certainty: AlertCertainty,
    pub headline: String,
    pub instruction: Option<String>,
    pub areas: BTreeSet<String>,
    pub expires_at: Option<Timestamp>,
    pub issued_at: Timestamp,
    pub issued_by: OrgId,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRow {
    pub common: Common,
    /// The latest `alert` or `update` message.
    pub alert: Gauge<Alert>,
    /// Whether the latest message was a `cancel`.
    pub cancelled: Gauge<bool>,
}

/// An answer to a request for information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub by: OrgId,
    pub at: Timestamp,
    pub answers: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoRequestRow {
    pub common: Common,
    pub requested_by: Gauge<OrgId>,
    pub requested_at: Gauge<Timestamp>,
    pub addressed_to: Gauge<OrgId>,
    pub questions: Gauge<Vec<String>>,
    pub answer_by: Gauge<Option<Timestamp>>,
    /// Every answer, by sequence.
    pub answers: BTreeMap<u64, Answer>,
}

/// The reports read models.
#[derive(Debug, Clone)]
pub struct Reports {
    pub sitreps: Table<RowKey, SitrepRow>,
    pub arrivals: Table<RowKey, ArrivalsRow>,
    pub services: Table<RowKey, ServiceRow>,
    pub hospitals: Table<RowKey, HospitalRow>,
    pub alerts: Table<RowKey, AlertRow>,
    pub inforeq: Table<RowKey, InfoRequestRow>,
}

impl Default for Reports {
    fn default() -> Self {
        Self::new()
    }
}

fn owned(value: &Option<proto_events::Text>) -> Option<String> {
    value.as_ref().map(|t| t.as_str().to_string())
}

/// The UTC day of an instant, `YYYY-MM-DD`.
pub fn utc_day(at: Timestamp) -> String {
    at.as_jiff()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

impl Reports {
    pub fn new() -> Self {
        Self {
            sitreps: Table::new("sitreps"),
            arrivals: Table::new("arrivals"),
            services: Table::new("services"),
            hospitals: Table::new("hospitals"),
            alerts: Table::new("alerts"),
            inforeq: Table::new("inforeq"),
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
        let sign = effect.sign();
        match payload {
            Payload::SituationReported(p) => {
                let row = self.sitreps.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                let c = &p.counts;
                let report = Sitrep {
                    number: p.number,
                    version: p.version,
                    period_from: p.period_from,
                    period_to: p.period_to,
                    summary: p.summary.as_str().to_string(),
                    consequences: owned(&p.consequences),
                    actions_taken: owned(&p.actions_taken),
                    needs: owned(&p.needs),
                    outlook: owned(&p.outlook),
                    severity: p.severity,
                    confidence: p.confidence,
                    counts: ReportedCounts {
                        arrivals_this_period: c.arrivals_this_period,
                        arrivals_to_date: c.arrivals_to_date,
                        placed_to_date: c.placed_to_date,
                        awaiting_placement: c.awaiting_placement,
                        unaccompanied_minors_to_date: c.unaccompanied_minors_to_date,
                        households_this_period: c.households_this_period,
                    },
                    next_report_at: p.next_report_at,
                    reported_at: at.occurred_at,
                    reported_by: envelope.org.clone(),
                };
                put(&mut row.report, at, effect, report);
                row.reports.add(1, sign);
            }
            Payload::ArrivalsReported(p) => {
                let row = self.arrivals.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                let c = &p.counts;
                put(&mut row.reported_by, at, effect, envelope.org.clone());
                for (gauge, value) in [
                    (&mut row.arrivals_to_date, c.arrivals_to_date),
                    (&mut row.placed_to_date, c.placed_to_date),
                    (&mut row.awaiting_placement, c.awaiting_placement),
                    (
                        &mut row.unaccompanied_minors_to_date,
                        c.unaccompanied_minors_to_date,
                    ),
                ] {
                    if let Some(value) = value {
                        put(gauge, at, effect, value);
                    }
                }
                if let Some(arrived) = c.arrivals_this_period {
                    row.arrivals_this_period.add(u64::from(arrived), sign);
                    let day = utc_day(p.period_to);
                    let counter = row.per_day.entry(day.clone()).or_default();
                    counter.add(u64::from(arrived), sign);
                    if effect == Effect::Undo && counter.get() == 0 {
                        row.per_day.remove(&day);
                    }
                }
                if let Some(households) = c.households_this_period {
                    row.households_this_period.add(u64::from(households), sign);
                }
                put(&mut row.period_from, at, effect, p.period_from);
                put(&mut row.period_to, at, effect, p.period_to);
                put(&mut row.estimated, at, effect, p.estimated);
            }
            Payload::ServiceCapacityReported(p) => {
                let row = self.services.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                let report = ServiceReport {
                    service: p.service,
                    available: p.available,
                    used: p.used,
                    language: p.language.as_ref().map(|l| l.as_str().to_string()),
                    reported_at: at.occurred_at,
                    reported_by: envelope.org.clone(),
                };
                put(&mut row.report, at, effect, report);
            }
            Payload::HospitalStatusReported(p) => {
                let row = self.hospitals.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                let report = HospitalReport {
                    facility_status: p.facility_status,
                    emergency_department: p.emergency_department,
                    beds_available: p.beds_available.clone(),
                    reported_at: at.occurred_at,
                    reported_by: envelope.org.clone(),
                };
                put(&mut row.report, at, effect, report);
            }
            Payload::AlertIssued(p) => {
                let row = self.alerts.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                let cancel = p.message_type == AlertMessageType::Cancel;
                put(&mut row.cancelled, at, effect, cancel);
                if !cancel {
                    let alert = Alert {
                        message_type: p.message_type,
                        scope: p.scope,
                        urgency: p.urgency,
                        severity: p.severity,
                        certainty: p.certainty,
                        headline: p.headline.as_str().to_string(),
                        instruction: p.instruction.as_ref().map(|i| i.as_str().to_string()),
                        areas: p.areas.iter().map(|a| a.as_str().to_string()).collect(),
                        expires_at: p.expires_at,
                        issued_at: at.occurred_at,
                        issued_by: envelope.org.clone(),
                    };
                    put(&mut row.alert, at, effect, alert);
                }
            }
            Payload::InformationRequested(p) => {
                let row = self.inforeq.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                put(&mut row.requested_by, at, effect, envelope.org.clone());
                put(&mut row.requested_at, at, effect, at.occurred_at);
                put(&mut row.addressed_to, at, effect, p.addressed_to.clone());
                let questions = p.questions.iter().map(|q| q.as_str().to_string()).collect();
                put(&mut row.questions, at, effect, questions);
                put(&mut row.answer_by, at, effect, p.answer_by);
            }
            Payload::InformationProvided(p) => {
                let row = self.inforeq.row_mut(key.clone());
                row.common.touch(envelope, at, effect);
                match effect {
                    Effect::Apply => {
                        let answer = Answer {
                            by: envelope.org.clone(),
                            at: at.occurred_at,
                            answers: u32::try_from(p.answers.len()).unwrap_or(u32::MAX),
                        };
                        row.answers.insert(at.gauge_seq, answer);
                    }
                    Effect::Undo => {
                        row.answers.remove(&at.gauge_seq);
                    }
                }
            }
            _ => {}
        }
    }

    /// Every table, for change tracking.
    pub fn tables_mut(&mut self) -> [&mut dyn TrackedTable; 6] {
        [
            &mut self.sitreps,
            &mut self.arrivals,
            &mut self.services,
            &mut self.hospitals,
            &mut self.alerts,
            &mut self.inforeq,
        ]
    }

    pub fn drain_changes(&mut self, out: &mut Vec<Change>) {
        self.sitreps.drain_changes(out);
        self.arrivals.drain_changes(out);
        self.services.drain_changes(out);
        self.hospitals.drain_changes(out);
        self.alerts.drain_changes(out);
        self.inforeq.drain_changes(out);
    }

    /// Whether `table` (the name after `m/`) is one of this model's tables.
    pub fn owns(&self, table: &str) -> bool {
        [
            self.sitreps.name(),
            self.arrivals.name(),
            self.services.name(),
            self.hospitals.name(),
            self.alerts.name(),
            self.inforeq.name(),
        ]
        .contains(&table)
    }

    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), ProjectorError> {
        match crate::table::table_name(key) {
            "sitreps" => self.sitreps.load(key, value),
            "arrivals" => self.arrivals.load(key, value),
            "services" => self.services.load(key, value),
            "hospitals" => self.hospitals.load(key, value),
            "alerts" => self.alerts.load(key, value),
            "inforeq" => self.inforeq.load(key, value),
            other => Err(ProjectorError::Corrupt(format!(
                "{other}: not a reports table"
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
