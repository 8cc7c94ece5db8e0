//! Strategies for the payloads of issues, reports, coordination and corrections; the
//! building blocks are in `strategies.rs`.

use super::*;

pub(super) fn issues_and_reports(kind: Kind) -> BoxedStrategy<Payload> {
    match kind {
        Kind::IssueRaised => (
            (
                org(),
                option::of(label()),
                word(IssueCategory::ALL),
                word(Severity::ALL),
            ),
            (text(), option::of(time()), btree_set(aggregate_ref(), 0..4)),
        )
            .prop_map(
                |(
                    (addressed_to, addressed_function, category, severity),
                    (summary, due_by, refs),
                )| {
                    IssueRaised {
                        addressed_to,
                        addressed_function,
                        category,
                        severity,
                        summary,
                        due_by,
                        refs,
                    }
                    .into()
                },
            )
            .boxed(),
        Kind::IssueAcknowledged => option::of(text())
            .prop_map(|note| IssueAcknowledged { note }.into())
            .boxed(),
        Kind::IssueAssigned => (org(), label(), option::of(time()))
            .prop_map(|(owner_org, owner_function, due_by)| {
                IssueAssigned {
                    owner_org,
                    owner_function,
                    due_by,
                }
                .into()
            })
            .boxed(),
        Kind::IssueEscalated => (
            1_u8..=3,
            option::of(org()),
            option::of(label()),
            text(),
            option::of(time()),
        )
            .prop_map(|(level, to_org, to_forum, reason, due_by)| {
                IssueEscalated {
                    level,
                    to_org,
                    to_forum,
                    reason,
                    due_by,
                }
                .into()
            })
            .boxed(),
        Kind::IssueResolved => (text(), btree_set(aggregate_ref(), 0..4))
            .prop_map(|(resolution, refs)| IssueResolved { resolution, refs }.into())
            .boxed(),
        Kind::IssueReopened => text()
            .prop_map(|reason| IssueReopened { reason }.into())
            .boxed(),
        Kind::SituationReported => (
            (any::<u32>(), word(ReportVersion::ALL), period(), text()),
            (
                option::of(text()),
                option::of(text()),
                option::of(text()),
                option::of(text()),
            ),
            (
                option::of(word(Severity::ALL)),
                option::of(word(Confidence::ALL)),
                people_counts(),
                option::of(time()),
            ),
        )
            .prop_map(
                |(
                    (number, version, (period_from, period_to), summary),
                    (consequences, actions_taken, needs, outlook),
                    (severity, confidence, counts, next_report_at),
                )| {
                    SituationReported {
                        number,
                        version,
                        period_from,
                        period_to,
                        summary,
                        consequences,
                        actions_taken,
                        needs,
                        outlook,
                        severity,
                        confidence,
                        counts,
                        next_report_at,
                    }
                    .into()
                },
            )
            .boxed(),
        Kind::ArrivalsReported => (period(), people_counts(), any::<bool>())
            .prop_map(|((period_from, period_to), counts, estimated)| {
                ArrivalsReported {
                    period_from,
                    period_to,
                    counts,
                    estimated,
                }
                .into()
            })
            .boxed(),
        Kind::ServiceCapacityReported => {
            (word(ServiceKind::ALL), count(), count(), option::of(lang()))
                .prop_map(|(service, available, used, language)| {
                    ServiceCapacityReported {
                        service,
                        available,
                        used,
                        language,
                    }
                    .into()
                })
                .boxed()
        }
        Kind::HospitalStatusReported => (
            word(FacilityStatus::ALL),
            word(EmergencyDepartmentStatus::ALL),
            btree_map(word(BedType::ALL), count(), 0..5),
        )
            .prop_map(|(facility_status, emergency_department, beds_available)| {
                HospitalStatusReported {
                    facility_status,
                    emergency_department,
                    beds_available,
                }
                .into()
            })
            .boxed(),
        Kind::AlertIssued => (
            (
                word(AlertMessageType::ALL),
                word(AlertScope::ALL),
                word(AlertUrgency::ALL),
            ),
            (word(AlertSeverity::ALL), word(AlertCertainty::ALL), label()),
            (
                option::of(text()),
                btree_set(area(), 1..4),
                option::of(time()),
            ),
        )
            .prop_map(
                |(
                    (message_type, scope, urgency),
                    (severity, certainty, headline),
                    (instruction, areas, expires_at),
                )| {
                    AlertIssued {
                        message_type,
                        scope,
                        urgency,
                        severity,
                        certainty,
                        headline,
                        instruction,
                        areas,
                        expires_at,
                    }
                    .into()
                },
            )
            .boxed(),
        Kind::InformationRequested => (org(), vec(text(), 1..4), option::of(time()))
            .prop_map(|(addressed_to, questions, answer_by)| {
                InformationRequested {
                    addressed_to,
                    questions,
                    answer_by,
                }
                .into()
            })
            .boxed(),
        _ => vec(text(), 0..4)
            .prop_map(|answers| InformationProvided { answers }.into())
            .boxed(),
    }
}

pub(super) fn coordination_and_hygiene(kind: Kind) -> BoxedStrategy<Payload> {
    match kind {
        Kind::MeetingScheduled => (label(), time(), orgs(0..5))
            .prop_map(|(forum, starts_at, participants)| {
                MeetingScheduled {
                    forum,
                    starts_at,
                    participants,
                }
                .into()
            })
            .boxed(),
        Kind::MeetingHeld => (
            orgs(0..5),
            btree_set(aggregate_ref(), 0..4),
            option::of(label()),
        )
            .prop_map(|(attending, agenda, minutes_ref)| {
                MeetingHeld {
                    attending,
                    agenda,
                    minutes_ref,
                }
                .into()
            })
            .boxed(),
        Kind::DecisionRecorded => (
            (label(), text(), option::of(text()), any::<u64>()),
            (
                btree_set(aggregate_ref(), 0..4),
                option::of(aggregate_id()),
                option::of(time()),
            ),
        )
            .prop_map(
                |((body, text, rationale, based_on_seq), (refs, meeting, effective_from))| {
                    DecisionRecorded {
                        body,
                        text,
                        rationale,
                        based_on_seq,
                        refs,
                        meeting,
                        effective_from,
                    }
                    .into()
                },
            )
            .boxed(),
        Kind::ActionAssigned => (
            text(),
            org(),
            label(),
            option::of(aggregate_id()),
            option::of(time()),
        )
            .prop_map(
                |(description, assigned_org, assigned_function, decision, due_by)| {
                    ActionAssigned {
                        description,
                        assigned_org,
                        assigned_function,
                        decision,
                        due_by,
                    }
                    .into()
                },
            )
            .boxed(),
        Kind::ActionCompleted => text()
            .prop_map(|outcome| ActionCompleted { outcome }.into())
            .boxed(),
        Kind::EventCorrected => {
            let ordinary: Vec<Kind> = Kind::ALL
                .iter()
                .copied()
                .filter(|k| !k.is_hygiene())
                .collect();
            (
                event_id(),
                select(ordinary).prop_flat_map(payload_of),
                text(),
            )
                .prop_map(|(supersedes, replacement, reason)| {
                    EventCorrected {
                        supersedes,
                        replacement: TaggedPayload::new(replacement),
                        reason,
                    }
                    .into()
                })
                .boxed()
        }
        _ => (event_id(), word(RetractionReason::ALL), option::of(text()))
            .prop_map(|(supersedes, reason, note)| {
                EventRetracted {
                    supersedes,
                    reason,
                    note,
                }
                .into()
            })
            .boxed(),
    }
}
