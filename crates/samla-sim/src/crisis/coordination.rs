//! Issues between actors, requests for information, meetings with their decisions, and
//! the actions decisions assign.
//!
//! Issue lifecycle: raised; acknowledged by the addressee (or first escalated when it is
//! not); assigned; escalated up to level 3 when overdue; resolved by the owner; now and
//! then reopened by the raiser and resolved again. A meeting is scheduled the day before,
//! held, and its decisions recorded with `based_on_seq` (the number of events generated
//! before the decision); each decision assigns actions that the assigned organisation
//! completes.

use std::collections::BTreeSet;

use proto_events::payload::{
    ActionAssigned, ActionCompleted, DecisionRecorded, InformationProvided, InformationRequested,
    IssueAcknowledged, IssueAssigned, IssueEscalated, IssueRaised, IssueReopened, IssueResolved,
    MeetingHeld, MeetingScheduled,
};
use proto_events::vocab::{AggregateType, IssueCategory, Severity};
use proto_events::{AggregateId, AggregateRef, Envelope, EventId, Payload};

use super::{Crisis, Step, Thread, fixed_thread, label, text};
use crate::clock::{DAY, HOUR, MINUTE, timestamp};
use crate::orgs::{Org, Role};
use crate::text as phrases;

// ----- issues ------------------------------------------------------------------------------

#[derive(Debug)]
pub(crate) struct Issue {
    thread: Thread,
    raiser: (Org, Role),
    addressee: (Org, Role),
    stage: IssueStage,
    raised: Option<EventId>,
    last: Option<EventId>,
    level: u8,
    acknowledged: bool,
    /// Escalations still to come.
    escalations: u8,
    reopen: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IssueStage {
    Acknowledge,
    Assign,
    Escalate,
    Resolve,
    Reopen,
}

fn addressees(category: IssueCategory) -> &'static [(Org, Role)] {
    use Org::*;
    match category {
        IssueCategory::Capacity => &[
            (Operator, Role::Housing),
            (Malmo, Role::Housing),
            (Primarvard, Role::Health),
            (Migrationsverket, Role::Housing),
        ],
        IssueCategory::Coordination => &[
            (Malmo, Role::Coordination),
            (Frivilliga, Role::Coordination),
        ],
        IssueCategory::InformationGap => &[
            (Migrationsverket, Role::Reports),
            (Malmo, Role::School),
            (Lansstyrelsen, Role::Coordination),
        ],
        IssueCategory::Mandate => &[(Malmo, Role::Social), (Lansstyrelsen, Role::Coordination)],
        IssueCategory::Safety => &[(Polisen, Role::Duty), (Operator, Role::Housing)],
        IssueCategory::Shortfall => &[
            (Region, Role::Interpreters),
            (Malmo, Role::Duty),
            (Kyrkan, Role::Coordination),
            (Frivilliga, Role::Coordination),
        ],
    }
}

impl Crisis {
    pub(super) fn spawn_issue(&mut self, at: i64, cluster: u32) -> Option<Envelope> {
        let category = self.weighted(&[
            (IssueCategory::Capacity, 25),
            (IssueCategory::Coordination, 20),
            (IssueCategory::InformationGap, 15),
            (IssueCategory::Mandate, 8),
            (IssueCategory::Safety, 10),
            (IssueCategory::Shortfall, 22),
        ]);
        let addressee = self.pick(addressees(category));
        let raisers: Vec<Org> = Org::ALL
            .iter()
            .copied()
            .filter(|org| *org != addressee.0 && self.joined_by(*org, at))
            .collect();
        if raisers.is_empty() {
            return None;
        }
        let raiser = (self.pick(&raisers), Role::Coordination);
        let area = self.cluster_area(cluster);
        let participants = [raiser.0, addressee.0, Org::Malmo, Org::Lansstyrelsen];
        let mut thread = self.open_thread(AggregateType::Issue, "issue", area, &participants, true);
        if category == IssueCategory::Safety && self.config.restricted_share_percent > 0 {
            // Safety matters go to those who must act, not the whole network.
            thread.audience =
                super::audience_of(&[raiser.0, addressee.0, Org::Polisen, Org::Malmo]);
        }
        let lang = thread.lang;
        let severity = self.weighted(&[
            (Severity::Minor, 30),
            (Severity::Moderate, 45),
            (Severity::Severe, 20),
            (Severity::Extreme, 5),
        ]);
        let mut refs = BTreeSet::new();
        let site_count = self.world.clusters[cluster as usize].sites.len();
        // An exercise refers to no actual aggregate.
        let actual = thread.status == proto_events::vocab::Status::Actual;
        if actual && site_count > 0 && self.chance(50) {
            let index = self.rng_index(site_count);
            let site = &self.world.clusters[cluster as usize].sites[index];
            if site.registered {
                refs.insert(AggregateRef::new(AggregateType::Site, site.id.clone()));
            }
        }
        if self.chance(40)
            && actual
            && let Some(need) =
                self.pooled_need(cluster, proto_events::vocab::NeedCategory::ALL, false)
        {
            refs.insert(AggregateRef::new(AggregateType::Need, need.id));
        }
        let payload = IssueRaised {
            addressed_to: addressee.0.org_id(),
            addressed_function: self
                .chance(50)
                .then(|| label(addressee.0.function(addressee.1))),
            category,
            severity,
            summary: text(self.phrase(phrases::issue_summary(category), lang)),
            due_by: Some(timestamp(at + self.between(4 * HOUR, 2 * DAY))),
            refs,
        };
        let envelope = self.emit(
            &mut thread,
            (raiser.0, raiser.0.function(raiser.1)),
            at,
            None,
            true,
            payload.clone(),
        );
        if thread.is_public_actual() {
            self.world.issues.push(thread.aggregate.clone());
        }
        if self.chance(3) {
            let mut fixed = payload;
            fixed.severity = if severity == Severity::Minor {
                Severity::Moderate
            } else {
                Severity::Minor
            };
            self.correct_later(&envelope, fixed.into(), 15 * MINUTE, 4 * HOUR);
        }
        let unacknowledged = self.chance(10);
        let escalations = if unacknowledged {
            1
        } else if self.chance(25) {
            self.count(1, 3) as u8
        } else {
            0
        };
        let issue = Issue {
            thread,
            raiser,
            addressee,
            stage: if unacknowledged {
                IssueStage::Escalate
            } else {
                IssueStage::Acknowledge
            },
            raised: Some(envelope.id),
            last: Some(envelope.id),
            level: 0,
            acknowledged: false,
            escalations,
            reopen: self.chance(10),
        };
        let next = if unacknowledged {
            self.later(at, 6 * HOUR, DAY)
        } else {
            self.later(at, 20 * MINUTE, 5 * HOUR)
        };
        let next = self.ready(addressee.0, next);
        self.schedule(next, Step::Issue(Box::new(issue)));
        Some(envelope)
    }

    fn issue_event(
        &mut self,
        issue: &mut Issue,
        at: i64,
        who: (Org, Role),
        causation: Option<EventId>,
        payload: impl Into<Payload>,
    ) -> Envelope {
        let envelope = self.emit(
            &mut issue.thread,
            (who.0, who.0.function(who.1)),
            at,
            causation,
            true,
            payload,
        );
        issue.last = Some(envelope.id);
        envelope
    }

    pub(super) fn run_issue(&mut self, at: i64, mut issue: Box<Issue>) -> Option<Envelope> {
        let (raiser, addressee) = (issue.raiser, issue.addressee);
        let envelope = match issue.stage {
            IssueStage::Acknowledge => {
                let note = self
                    .chance(50)
                    .then(|| text(self.pick(phrases::ISSUE_ACK_NOTES)));
                let raised = issue.raised;
                let envelope = self.issue_event(
                    &mut issue,
                    at,
                    addressee,
                    raised,
                    IssueAcknowledged { note },
                );
                issue.acknowledged = true;
                issue.stage = if self.chance(70) {
                    IssueStage::Assign
                } else {
                    self.after_work_stage(&issue)
                };
                envelope
            }
            IssueStage::Assign => {
                let by = if addressee.0 != Org::Malmo && self.chance(20) {
                    (Org::Malmo, Role::Coordination)
                } else {
                    addressee
                };
                let payload = IssueAssigned {
                    owner_org: addressee.0.org_id(),
                    owner_function: label(addressee.0.function(addressee.1)),
                    due_by: Some(timestamp(at + self.between(4 * HOUR, 2 * DAY))),
                };
                let last = issue.last;
                let envelope = self.issue_event(&mut issue, at, by, last, payload);
                issue.stage = self.after_work_stage(&issue);
                envelope
            }
            IssueStage::Escalate => {
                issue.level = (issue.level + 1).min(3);
                issue.escalations = issue.escalations.saturating_sub(1);
                let by = if self.chance(70) {
                    raiser
                } else {
                    (Org::Malmo, Role::Coordination)
                };
                let (to_org, to_forum) = match issue.level {
                    1 => (None, Some(label("närmaste chefer hos berörda parter"))),
                    2 => (None, Some(label("samverkansmötet"))),
                    _ => (
                        Some(Org::Lansstyrelsen.org_id()),
                        Some(label("regional samverkanskonferens")),
                    ),
                };
                let payload = IssueEscalated {
                    level: issue.level,
                    to_org,
                    to_forum,
                    reason: text(self.pick(phrases::ESCALATION_REASONS)),
                    due_by: Some(timestamp(at + self.between(4 * HOUR, DAY))),
                };
                let last = issue.last;
                let envelope = self.issue_event(&mut issue, at, by, last, payload);
                // An issue escalated before anyone acknowledged it gets acknowledged now.
                issue.stage = if issue.acknowledged {
                    self.after_work_stage(&issue)
                } else {
                    IssueStage::Acknowledge
                };
                envelope
            }
            IssueStage::Resolve => {
                let mut refs = BTreeSet::new();
                if issue.thread.status == proto_events::vocab::Status::Actual
                    && self.world.decisions.len() > 0
                    && self.chance(30)
                {
                    let index = self.rng_index(self.world.decisions.len());
                    if let Some(decision) = self.world.decisions.get(index) {
                        refs.insert(decision.clone());
                    }
                }
                let payload = IssueResolved {
                    resolution: text(self.pick(phrases::RESOLUTIONS)),
                    refs,
                };
                let last = issue.last;
                let envelope = self.issue_event(&mut issue, at, addressee, last, payload);
                if issue.reopen {
                    issue.reopen = false;
                    issue.stage = IssueStage::Reopen;
                    let next = self.later(at, 4 * HOUR, 2 * DAY);
                    self.schedule(next, Step::Issue(issue));
                }
                return Some(envelope);
            }
            IssueStage::Reopen => {
                let payload = IssueReopened {
                    reason: text(self.pick(phrases::REOPEN_REASONS)),
                };
                let last = issue.last;
                let envelope = self.issue_event(&mut issue, at, raiser, last, payload);
                issue.stage = IssueStage::Resolve;
                envelope
            }
        };
        let next = match issue.stage {
            IssueStage::Escalate => self.later(at, 4 * HOUR, DAY),
            _ => self.later(at, 30 * MINUTE, 8 * HOUR),
        };
        self.schedule(next, Step::Issue(issue));
        Some(envelope)
    }

    fn after_work_stage(&self, issue: &Issue) -> IssueStage {
        if issue.escalations > 0 {
            IssueStage::Escalate
        } else {
            IssueStage::Resolve
        }
    }
}

// ----- requests for information ------------------------------------------------------------

#[derive(Debug)]
pub(crate) struct InfoRequest {
    thread: Thread,
    addressee: Org,
    requested: EventId,
}

impl Crisis {
    pub(super) fn spawn_info(&mut self, at: i64, cluster: u32) -> Option<Envelope> {
        let asker = self.pick(&[
            Org::Lansstyrelsen,
            Org::Malmo,
            Org::Migrationsverket,
            Org::Region,
            Org::RaddaBarnen,
        ]);
        let candidates: Vec<Org> = [
            Org::Malmo,
            Org::Migrationsverket,
            Org::Region,
            Org::Operator,
            Org::Primarvard,
        ]
        .into_iter()
        .filter(|org| *org != asker)
        .collect();
        let addressee = self.pick(&candidates);
        let area = self.cluster_area(cluster);
        let mut thread = self.open_thread(
            AggregateType::InformationRequest,
            "info",
            area,
            &[asker, addressee],
            true,
        );
        let lang = thread.lang;
        let questions = (0..self.count(1, 3))
            .map(|_| text(self.phrase(phrases::QUESTIONS, lang)))
            .collect();
        let payload = InformationRequested {
            addressed_to: addressee.org_id(),
            questions,
            answer_by: Some(timestamp(at + self.between(4 * HOUR, 2 * DAY))),
        };
        let envelope = self.emit(
            &mut thread,
            (asker, asker.coordinator()),
            at,
            None,
            true,
            payload,
        );
        if self.chance(85) {
            let next = self.later(at, HOUR, 20 * HOUR);
            let next = self.ready(addressee, next);
            let request = InfoRequest {
                thread,
                addressee,
                requested: envelope.id,
            };
            self.schedule(next, Step::Info(Box::new(request)));
        }
        Some(envelope)
    }

    pub(super) fn run_info(&mut self, at: i64, mut request: InfoRequest) -> Option<Envelope> {
        let lang = request.thread.lang;
        let answers = (0..self.count(1, 2))
            .map(|_| text(self.phrase(phrases::ANSWERS, lang)))
            .collect();
        let addressee = request.addressee;
        let requested = request.requested;
        Some(self.emit(
            &mut request.thread,
            (addressee, addressee.coordinator()),
            at,
            Some(requested),
            true,
            InformationProvided { answers },
        ))
    }
}

// ----- meetings, decisions, actions --------------------------------------------------------

#[derive(Debug)]
pub(crate) struct Meeting {
    thread: Thread,
    convenor: (Org, Role),
    forum: &'static str,
    participants: Vec<Org>,
    stage: MeetingStage,
    starts_at: i64,
    held: Option<EventId>,
    decisions_left: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MeetingStage {
    Schedule,
    Hold,
    Decide,
}

#[derive(Debug)]
pub(crate) struct Action {
    thread: Thread,
    convenor: (Org, Role),
    assigned: Org,
    decision: AggregateId,
    /// The event it answers: the decision, then the assignment.
    causation: EventId,
    assigned_event: bool,
}

impl Crisis {
    /// Opens a meeting (scheduled now, held `starts_at`) and emits its scheduling.
    pub(super) fn open_meeting(
        &mut self,
        at: i64,
        starts_at: i64,
        regional: bool,
        area: proto_events::AreaCode,
    ) -> Option<Envelope> {
        let (convenor, forum, participants) = if regional {
            (
                (Org::Lansstyrelsen, Role::Coordination),
                phrases::FORUMS[1],
                vec![
                    Org::Lansstyrelsen,
                    Org::Malmo,
                    Org::Migrationsverket,
                    Org::Region,
                    Org::Polisen,
                ],
            )
        } else {
            (
                (Org::Malmo, Role::Coordination),
                phrases::FORUMS[0],
                vec![
                    Org::Malmo,
                    Org::Migrationsverket,
                    Org::Operator,
                    Org::Polisen,
                    Org::Primarvard,
                    Org::Kyrkan,
                    Org::RaddaBarnen,
                    Org::Frivilliga,
                ],
            )
        };
        let thread = fixed_thread(AggregateType::Meeting, self.mint.aggregate("mote"), area);
        let meeting = Meeting {
            thread,
            convenor,
            forum,
            participants,
            stage: MeetingStage::Schedule,
            starts_at,
            held: None,
            decisions_left: 0,
        };
        self.run_meeting(at, Box::new(meeting))
    }

    pub(super) fn run_meeting(&mut self, at: i64, mut meeting: Box<Meeting>) -> Option<Envelope> {
        let convenor = meeting.convenor;
        let function = convenor.0.function(convenor.1);
        match meeting.stage {
            MeetingStage::Schedule => {
                let payload = MeetingScheduled {
                    forum: label(meeting.forum),
                    starts_at: timestamp(meeting.starts_at),
                    participants: meeting
                        .participants
                        .iter()
                        .map(|org| org.org_id())
                        .collect(),
                };
                let envelope = self.emit(
                    &mut meeting.thread,
                    (convenor.0, function),
                    at,
                    None,
                    true,
                    payload,
                );
                meeting.stage = MeetingStage::Hold;
                let held_at = meeting.starts_at + self.between(75 * MINUTE, 2 * HOUR);
                self.schedule(held_at, Step::Meeting(meeting));
                Some(envelope)
            }
            MeetingStage::Hold => {
                let mut attending: BTreeSet<_> = meeting
                    .participants
                    .iter()
                    .map(|org| org.org_id())
                    .collect();
                if attending.len() > 3 && self.chance(40) {
                    let absent = self.pick(&meeting.participants[1..]);
                    attending.remove(&absent.org_id());
                }
                let agenda = self.recent_refs(4);
                let payload = MeetingHeld {
                    attending,
                    agenda,
                    minutes_ref: Some(label("protokoll i kommunens diarium")),
                };
                let scheduled = meeting.thread.root;
                let envelope = self.emit(
                    &mut meeting.thread,
                    (convenor.0, function),
                    at,
                    scheduled,
                    true,
                    payload,
                );
                meeting.held = Some(envelope.id);
                meeting.decisions_left = self.count(1, 3);
                meeting.stage = MeetingStage::Decide;
                let next = at + self.between(2 * MINUTE, 6 * MINUTE);
                self.schedule(next, Step::Meeting(meeting));
                Some(envelope)
            }
            MeetingStage::Decide => {
                meeting.decisions_left = meeting.decisions_left.saturating_sub(1);
                let (decision_text, rationale) = self.pick(phrases::DECISIONS);
                let decision_id = self.mint.aggregate("beslut");
                // The decision shares the meeting's thread: its correlation is the
                // meeting's root, its causation the meeting being held.
                let mut thread = fixed_thread(
                    AggregateType::Decision,
                    decision_id.clone(),
                    meeting.thread.area.clone(),
                );
                thread.root = meeting.thread.root;
                let payload = DecisionRecorded {
                    body: label(meeting.forum),
                    text: text(decision_text),
                    rationale: Some(text(rationale)),
                    based_on_seq: self.emitted,
                    refs: self.recent_refs(3),
                    meeting: Some(meeting.thread.aggregate.id.clone()),
                    effective_from: Some(timestamp(at)),
                };
                let held = meeting.held;
                let envelope = self.emit(
                    &mut thread,
                    (convenor.0, function),
                    at,
                    held,
                    true,
                    payload.clone(),
                );
                self.world.decisions.push(thread.aggregate.clone());
                if self.chance(5) {
                    let mut fixed = payload;
                    fixed.rationale = Some(text("Rättat efter justering av protokollet."));
                    self.correct_later(&envelope, fixed.into(), HOUR, DAY);
                }
                for _ in 0..self.count(1, 2) {
                    let candidates: Vec<Org> = meeting
                        .participants
                        .iter()
                        .copied()
                        .filter(|org| *org != Org::Lansstyrelsen)
                        .collect();
                    let assigned = self.pick(&candidates);
                    let mut action_thread = fixed_thread(
                        AggregateType::Action,
                        self.mint.aggregate("atgard"),
                        meeting.thread.area.clone(),
                    );
                    action_thread.root = meeting.thread.root;
                    let action = Action {
                        thread: action_thread,
                        convenor,
                        assigned,
                        decision: decision_id.clone(),
                        causation: envelope.id,
                        assigned_event: false,
                    };
                    let when = at + self.between(MINUTE, 4 * MINUTE);
                    self.schedule(when, Step::Action(Box::new(action)));
                }
                if meeting.decisions_left > 0 {
                    let next = at + self.between(5 * MINUTE, 15 * MINUTE);
                    self.schedule(next, Step::Meeting(meeting));
                }
                Some(envelope)
            }
        }
    }

    pub(super) fn run_action(&mut self, at: i64, mut action: Box<Action>) -> Option<Envelope> {
        if !action.assigned_event {
            let payload = ActionAssigned {
                description: text(self.pick(phrases::ACTIONS)),
                assigned_org: action.assigned.org_id(),
                assigned_function: label(action.assigned.coordinator()),
                decision: Some(action.decision.clone()),
                due_by: Some(timestamp(at + self.between(DAY, 4 * DAY))),
            };
            let convenor = action.convenor;
            let causation = action.causation;
            let envelope = self.emit(
                &mut action.thread,
                (convenor.0, convenor.0.function(convenor.1)),
                at,
                Some(causation),
                true,
                payload,
            );
            if self.chance(85) {
                action.assigned_event = true;
                action.causation = envelope.id;
                let next = self.later(at, 3 * HOUR, 3 * DAY);
                self.schedule(next, Step::Action(action));
            }
            return Some(envelope);
        }
        // Completion, sometimes reported the day after it happened.
        let occurred = if self.chance(10) {
            self.set_back(at, action.thread.last_at)
        } else {
            at
        };
        let assigned = action.assigned;
        let causation = action.causation;
        let outcome = text(self.pick(phrases::ACTION_OUTCOMES));
        Some(self.emit(
            &mut action.thread,
            (assigned, assigned.coordinator()),
            occurred,
            Some(causation),
            true,
            ActionCompleted { outcome },
        ))
    }

    /// Up to `count` recent network-visible needs and issues, for agendas and refs.
    fn recent_refs(&mut self, count: usize) -> BTreeSet<AggregateRef> {
        let mut refs = BTreeSet::new();
        let clusters = self.world.clusters.len();
        for _ in 0..count {
            if self.chance(50) && self.world.issues.len() > 0 {
                let index = self.rng_index(self.world.issues.len());
                if let Some(issue) = self.world.issues.get(index) {
                    refs.insert(issue.clone());
                }
            } else if clusters > 0 {
                let cluster = self.rng_index(clusters);
                let pool = &self.world.clusters[cluster].needs;
                if pool.len() > 0 {
                    let index = self.rng_index(pool.len());
                    if let Some(need) = self.world.clusters[cluster].needs.get(index) {
                        refs.insert(AggregateRef::new(AggregateType::Need, need.id.clone()));
                    }
                }
            }
        }
        refs
    }
}
