//! The network and the incident's arc: the declaration and the joins, responsibilities
//! and operational presence, phase changes, alerts, the exercise drill, and the closing
//! sequence. (What is scheduled when is laid out in `plan.rs`.)

use proto_events::payload::{
    AlertIssued, IncidentDeclared, IncidentPhaseChanged, OccupancyReported,
    OperationalPresenceDeclared, OrganisationJoined, OrganisationLeft, ResponsibilityAssigned,
    SiteRegistered, SiteStatusChanged,
};
use proto_events::vocab::{
    AggregateType, AlertCertainty, AlertMessageType, AlertScope, AlertSeverity, AlertUrgency,
    IncidentPhase, IncidentType, PresenceStatus, ReportVersion, Sector, SiteKind, SiteStatus,
};
use proto_events::{AggregateId, Envelope, EventId, Payload};

use super::periodic::PeriodicStep;
use super::plan::RESPONSIBILITIES;
use super::{Crisis, MALMO, Step, Thread, area, fixed_thread, label, text};
use crate::clock::{DAY, HOUR, MINUTE, timestamp};
use crate::orgs::{Org, Role};

#[derive(Debug)]
pub(crate) enum NetworkStep {
    Declare,
    Join(Org),
    Phase(IncidentPhase),
    Responsibility(u8),
    Presence(Box<Presence>),
    Alert(Box<Alert>),
    Drill(Box<Drill>),
    CloseSite { cluster: u32, site: u32 },
}

#[derive(Debug)]
pub(crate) struct Presence {
    pub(super) thread: Thread,
    pub(super) org: Org,
    pub(super) sector: Sector,
    pub(super) activity: &'static str,
    pub(super) status: PresenceStatus,
    pub(super) starts_at: i64,
}

#[derive(Debug)]
pub(crate) struct Alert {
    pub(super) thread: Thread,
    pub(super) org: Org,
    pub(super) headline: &'static str,
    pub(super) instruction: &'static str,
    pub(super) message_type: AlertMessageType,
    pub(super) previous: Option<EventId>,
}

/// The evacuation drill: an exercise site, an exercise alert, the site evacuated and
/// closed, the alert cancelled — all on their own aggregates, status `exercise`.
#[derive(Debug)]
pub(crate) struct Drill {
    pub(super) step: u8,
    pub(super) site: Thread,
    pub(super) alert: Thread,
    pub(super) alert_issued: Option<EventId>,
}

impl Crisis {
    pub(super) fn run_network(&mut self, at: i64, step: NetworkStep) -> Option<Envelope> {
        match step {
            NetworkStep::Declare => {
                let mut areas: std::collections::BTreeSet<_> = [area(MALMO)].into();
                for cluster in self.world.clusters.iter().take(12) {
                    areas.insert(cluster.area.clone());
                }
                let payload = IncidentDeclared {
                    title: label("Mottagning av skyddssökande i Malmö"),
                    incident_type: IncidentType::RefugeeReception,
                    areas,
                    lead_org: Org::Malmo.org_id(),
                    started_at: timestamp(at),
                    description: Some(text(
                        "Ett stort antal skyddssökande anländer till Malmö. Kommunen sammankallar samverkansnätverket för mottagning, boende, vård och skola.",
                    )),
                };
                let mut thread = self.incident_thread();
                let envelope = self.emit(
                    &mut thread,
                    (Org::Malmo, Org::Malmo.coordinator()),
                    at,
                    None,
                    true,
                    payload,
                );
                self.world.incident_root = Some(envelope.id);
                Some(envelope)
            }
            NetworkStep::Join(org) => {
                let payload = OrganisationJoined {
                    name: label(org.name()),
                    org_type: org.org_type(),
                    functions: org.functions().iter().map(|f| label(f)).collect(),
                    contact_function: Some(label(org.coordinator())),
                };
                // Joining answers the convening: the thread is the incident's.
                let mut thread = fixed_thread(AggregateType::Org, org_aggregate(org), area(MALMO));
                thread.root = self.world.incident_root;
                let declared = self.world.incident_root;
                Some(self.emit(
                    &mut thread,
                    (org, org.coordinator()),
                    at,
                    declared,
                    true,
                    payload,
                ))
            }
            NetworkStep::Phase(phase) => {
                let reason = match phase {
                    IncidentPhase::Response => "Nätverket är samlat och mottagningen igång.",
                    IncidentPhase::Recovery => {
                        "Ankomsterna har minskat; fokus på placering och etablering."
                    }
                    IncidentPhase::Closed => "Mottagningen övergår i ordinarie verksamhet.",
                    IncidentPhase::Alert => "Förhöjd beredskap.",
                };
                let mut thread = self.incident_thread();
                Some(self.emit(
                    &mut thread,
                    (Org::Malmo, Org::Malmo.coordinator()),
                    at,
                    None,
                    true,
                    IncidentPhaseChanged {
                        phase,
                        reason: Some(text(reason)),
                    },
                ))
            }
            NetworkStep::Responsibility(index) => {
                let (function, lead, supporting) = RESPONSIBILITIES[usize::from(index)];
                let payload = ResponsibilityAssigned {
                    function: label(function),
                    lead_org: lead.org_id(),
                    supporting_orgs: supporting.iter().map(|org| org.org_id()).collect(),
                };
                let mut thread = fixed_thread(
                    AggregateType::Responsibility,
                    self.mint.aggregate("ansvar"),
                    area(MALMO),
                );
                Some(self.emit(
                    &mut thread,
                    (Org::Malmo, Org::Malmo.coordinator()),
                    at,
                    None,
                    true,
                    payload,
                ))
            }
            NetworkStep::Presence(mut presence) => {
                let payload = OperationalPresenceDeclared {
                    sector: presence.sector,
                    activity: label(presence.activity),
                    presence_status: presence.status,
                    starts_at: Some(timestamp(presence.starts_at)),
                    ends_at: (presence.status == PresenceStatus::Completed).then(|| timestamp(at)),
                };
                let org = presence.org;
                let previous = presence.thread.root;
                let envelope = self.emit(
                    &mut presence.thread,
                    (org, org.coordinator()),
                    at,
                    previous,
                    true,
                    payload,
                );
                if presence.status == PresenceStatus::Ongoing
                    && self.config.days >= 3
                    && self.chance(40)
                {
                    // Wound down in the recovery phase.
                    presence.status = PresenceStatus::Completed;
                    let when = self.clock.day_start(self.config.days * 7 / 10)
                        + self.between(2 * HOUR, 10 * HOUR);
                    if when > at {
                        self.schedule(when, Step::Network(NetworkStep::Presence(presence)));
                    }
                }
                Some(envelope)
            }
            NetworkStep::Alert(alert) => Some(self.run_alert(at, alert)),
            NetworkStep::Drill(drill) => Some(self.run_drill(at, drill)),
            NetworkStep::CloseSite { cluster, site } => self.run_periodic(
                at,
                PeriodicStep::SiteStatus {
                    cluster,
                    site,
                    status: SiteStatus::Closed,
                },
            ),
        }
    }

    fn incident_thread(&self) -> Thread {
        let id = AggregateId::new(self.config.incident.as_str())
            .expect("an incident id is a valid aggregate id");
        let mut thread = fixed_thread(AggregateType::Incident, id, area(MALMO));
        thread.root = self.world.incident_root;
        thread
    }

    fn run_alert(&mut self, at: i64, mut alert: Box<Alert>) -> Envelope {
        let org = alert.org;
        let payload = AlertIssued {
            message_type: alert.message_type,
            scope: AlertScope::Restricted,
            urgency: AlertUrgency::Expected,
            severity: AlertSeverity::Moderate,
            certainty: AlertCertainty::Likely,
            headline: label(alert.headline),
            instruction: (alert.message_type != AlertMessageType::Cancel)
                .then(|| text(alert.instruction)),
            areas: [area(MALMO)].into(),
            expires_at: Some(timestamp(at + 3 * DAY)),
        };
        let previous = alert.previous;
        let envelope = self.emit(
            &mut alert.thread,
            (org, org.function(Role::Duty)),
            at,
            previous,
            true,
            payload,
        );
        alert.previous = Some(envelope.id);
        let next = match alert.message_type {
            AlertMessageType::Alert => {
                Some((AlertMessageType::Update, self.later(at, DAY, 2 * DAY)))
            }
            AlertMessageType::Update => {
                Some((AlertMessageType::Cancel, self.later(at, DAY, 3 * DAY)))
            }
            AlertMessageType::Cancel => None,
        };
        if let Some((message_type, when)) = next {
            alert.message_type = message_type;
            self.schedule(when, Step::Network(NetworkStep::Alert(alert)));
        }
        envelope
    }

    fn run_drill(&mut self, at: i64, mut drill: Box<Drill>) -> Envelope {
        let operator = Org::Operator;
        let operator_function = operator.function(Role::Housing);
        let step = drill.step;
        let envelope = match step {
            0 => {
                let payload = SiteRegistered {
                    name: label("Övningsanläggning Hyllie (övning)"),
                    site_kind: SiteKind::Temporary,
                    services: Default::default(),
                    accessible: true,
                };
                self.emit(
                    &mut drill.site,
                    (operator, operator_function),
                    at,
                    None,
                    true,
                    payload,
                )
            }
            1 | 5 => {
                let cancel = step == 5;
                let payload = AlertIssued {
                    message_type: if cancel {
                        AlertMessageType::Cancel
                    } else {
                        AlertMessageType::Alert
                    },
                    scope: AlertScope::Restricted,
                    urgency: AlertUrgency::Immediate,
                    severity: AlertSeverity::Severe,
                    certainty: AlertCertainty::Observed,
                    headline: label("ÖVNING: utrymning av boende"),
                    instruction: (!cancel).then(|| {
                        text("ÖVNING. Utrym övningsanläggningen enligt plan och rapportera läget.")
                    }),
                    areas: [area(MALMO)].into(),
                    expires_at: Some(timestamp(at + 4 * HOUR)),
                };
                let previous = drill.alert_issued;
                let envelope = self.emit(
                    &mut drill.alert,
                    (Org::Lansstyrelsen, Org::Lansstyrelsen.function(Role::Duty)),
                    at,
                    previous,
                    true,
                    payload,
                );
                drill.alert_issued.get_or_insert(envelope.id);
                envelope
            }
            2 => {
                let cause = drill.alert_issued;
                let payload = SiteStatusChanged {
                    site_status: SiteStatus::Evacuating,
                    reason: Some(text("Övning: utrymning pågår.")),
                };
                self.emit(
                    &mut drill.site,
                    (operator, operator_function),
                    at,
                    cause,
                    true,
                    payload,
                )
            }
            3 => self.emit(
                &mut drill.site,
                (operator, operator_function),
                at,
                None,
                false,
                Payload::from(OccupancyReported {
                    occupied: 0,
                    reserved: 0,
                    capacity: None,
                }),
            ),
            _ => {
                let payload = SiteStatusChanged {
                    site_status: SiteStatus::Closed,
                    reason: Some(text("Övningen är avslutad.")),
                };
                self.emit(
                    &mut drill.site,
                    (operator, operator_function),
                    at,
                    None,
                    true,
                    payload,
                )
            }
        };
        if step < 5 {
            // Steps 0-5: site, alert, evacuating, empty, closed, alert cancelled.
            drill.step = step + 1;
            let when = at + self.between(10 * MINUTE, 25 * MINUTE);
            self.schedule(when, Step::Network(NetworkStep::Drill(drill)));
        }
        envelope
    }

    pub(super) fn run_closing(&mut self, at: i64, stage: u8) -> Option<Envelope> {
        match stage {
            0 => {
                // The county board's joint report for the whole period, final version.
                let series = self
                    .world
                    .reports
                    .iter()
                    .position(|s| s.org == Org::Lansstyrelsen)?;
                Some(self.report_situation(at, series as u32, ReportVersion::Final))
            }
            1 | 2 => {
                let org = if stage == 1 {
                    Org::Frivilliga
                } else {
                    Org::RaddaBarnen
                };
                let mut thread = fixed_thread(AggregateType::Org, org_aggregate(org), area(MALMO));
                thread.root = self.world.incident_root;
                let payload = OrganisationLeft {
                    reason: Some(text("Uppdraget i mottagningen är avslutat.")),
                };
                Some(self.emit(
                    &mut thread,
                    (org, org.coordinator()),
                    at,
                    None,
                    true,
                    payload,
                ))
            }
            _ => self.run_network(at, NetworkStep::Phase(IncidentPhase::Closed)),
        }
    }
}

/// An organisation's aggregate id is its organisation id.
fn org_aggregate(org: Org) -> AggregateId {
    AggregateId::new(org.id()).expect("organisation ids are valid aggregate ids")
}
