//! Examples of the issues, reports, coordination and hygiene kinds.

use super::*;

pub(super) fn issues(kind: Kind) -> Envelope {
    let issue = aggregate(AggregateType::Issue, ISSUE);
    let thread = |e: Envelope, answered: Kind| answering(e, Kind::IssueRaised, answered);
    match kind {
        Kind::IssueRaised => {
            let mut e = event(
                kind,
                "radda-barnen",
                SAVE_THE_CHILDREN,
                issue,
                "2026-03-05T10:00:00Z",
                IssueRaised {
                    addressed_to: org("malmo-stad"),
                    addressed_function: Some(label("samordnare, grundskoleförvaltningen")),
                    category: IssueCategory::Capacity,
                    severity: Severity::Moderate,
                    summary: text(
                        "Barnen på mottagningsplatsen har väntat över en vecka på skolplats. Vi behöver en plan för introduktionsklasser.",
                    ),
                    due_by: Some(at("2026-03-09T12:00:00Z")),
                    refs: [
                        aggregate(AggregateType::Site, SITE),
                        aggregate(AggregateType::Need, "need-school-places"),
                    ]
                    .into(),
                },
            );
            // Raised with the municipality alone before the whole network sees it.
            e.audience = Audience::Orgs(orgs(&["malmo-stad"]));
            e
        }
        Kind::IssueAcknowledged => thread(
            event(
                kind,
                "malmo-stad",
                "samordnare, grundskoleförvaltningen",
                issue,
                "2026-03-05T13:30:00Z",
                IssueAcknowledged {
                    note: Some(text("Vi tittar på lediga lokaler i Hyllie och Holma.")),
                },
            ),
            Kind::IssueRaised,
        ),
        Kind::IssueAssigned => thread(
            event(
                kind,
                "malmo-stad",
                CRISIS_STAFF,
                issue,
                "2026-03-05T14:00:00Z",
                IssueAssigned {
                    owner_org: org("malmo-stad"),
                    owner_function: label("samordnare, grundskoleförvaltningen"),
                    due_by: Some(at("2026-03-10T12:00:00Z")),
                },
            ),
            Kind::IssueAcknowledged,
        ),
        Kind::IssueEscalated => {
            let mut e = thread(
                event(
                    kind,
                    "radda-barnen",
                    SAVE_THE_CHILDREN,
                    issue,
                    "2026-03-10T13:00:00Z",
                    IssueEscalated {
                        level: 3,
                        to_org: Some(org("lansstyrelsen-skane")),
                        to_forum: Some(label("regional samverkanskonferens")),
                        reason: text(
                            "The deadline passed without a plan; the municipality needs support from neighbouring municipalities.",
                        ),
                        due_by: Some(at("2026-03-13T12:00:00Z")),
                    },
                ),
                Kind::IssueAssigned,
            );
            e.lang = lang("en");
            e.audience = Audience::Orgs(orgs(&["lansstyrelsen-skane", "malmo-stad"]));
            e
        }
        Kind::IssueResolved => thread(
            event(
                kind,
                "malmo-stad",
                "samordnare, grundskoleförvaltningen",
                issue,
                "2026-03-16T09:00:00Z",
                IssueResolved {
                    resolution: text("Två introduktionsklasser startar i Holma skola på måndag."),
                    refs: [
                        aggregate(AggregateType::Decision, DECISION),
                        aggregate(AggregateType::Resource, RESOURCE),
                    ]
                    .into(),
                },
            ),
            Kind::IssueEscalated,
        ),
        _ => thread(
            event(
                Kind::IssueReopened,
                "radda-barnen",
                SAVE_THE_CHILDREN,
                issue,
                "2026-03-24T10:00:00Z",
                IssueReopened {
                    reason: text("Klasserna räcker inte för de barn som kom förra veckan."),
                },
            ),
            Kind::IssueResolved,
        ),
    }
}

pub(super) fn reports(kind: Kind) -> Envelope {
    match kind {
        Kind::SituationReported => event(
            kind,
            "malmo-stad",
            CRISIS_STAFF,
            aggregate(AggregateType::Report, "malmo-stad-lagesbild"),
            "2026-03-06T16:00:00Z",
            SituationReported {
                number: 5,
                version: ReportVersion::Update,
                period_from: at("2026-03-05T16:00:00Z"),
                period_to: at("2026-03-06T16:00:00Z"),
                summary: text("Mottagandet fungerar men boendet i Hyllie är fullt nattetid."),
                consequences: Some(text("Nya ankomster hänvisas till församlingshemmet.")),
                actions_taken: Some(text(
                    "Extra personal på kvällarna; fler tolktimmar beställda.",
                )),
                needs: Some(text("Lägenheter för familjer och skolplatser.")),
                outlook: Some(text("Två bussar väntas under de kommande dygnet.")),
                severity: Some(Severity::Severe),
                confidence: Some(Confidence::Probable),
                counts: PeopleCounts {
                    arrivals_this_period: Some(64),
                    arrivals_to_date: Some(412),
                    placed_to_date: Some(350),
                    awaiting_placement: Some(62),
                    unaccompanied_minors_to_date: Some(9),
                    households_this_period: Some(21),
                },
                next_report_at: Some(at("2026-03-07T16:00:00Z")),
            },
        ),
        Kind::ArrivalsReported => {
            let mut e = event(
                kind,
                "migrationsverket",
                MIGRATION_COORDINATOR,
                aggregate(AggregateType::Arrivals, "migrationsverket-1280"),
                "2026-03-06T06:00:00Z",
                ArrivalsReported {
                    period_from: at("2026-03-05T06:00:00Z"),
                    period_to: at("2026-03-06T06:00:00Z"),
                    counts: PeopleCounts {
                        arrivals_this_period: Some(58),
                        arrivals_to_date: Some(398),
                        placed_to_date: Some(341),
                        awaiting_placement: Some(57),
                        unaccompanied_minors_to_date: Some(8),
                        households_this_period: Some(19),
                    },
                    estimated: true,
                },
            );
            e.lang = None;
            e
        }
        Kind::ServiceCapacityReported => event(
            kind,
            "region-skane",
            "samordnare, tolkförmedlingen",
            aggregate(AggregateType::Service, "region-skane-interpreters-uk"),
            "2026-03-04T07:00:00Z",
            ServiceCapacityReported {
                service: ServiceKind::Interpreters,
                available: 25,
                used: 18,
                language: lang("uk"),
            },
        ),
        Kind::HospitalStatusReported => {
            let mut e = event(
                kind,
                "region-skane",
                REGION_DUTY,
                aggregate(AggregateType::Hospital, "sus-malmo"),
                "2026-03-04T06:30:00Z",
                HospitalStatusReported {
                    facility_status: FacilityStatus::Strained,
                    emergency_department: EmergencyDepartmentStatus::Open,
                    beds_available: BTreeMap::from([
                        (BedType::General, 14),
                        (BedType::IntensiveCare, 2),
                        (BedType::Paediatric, 5),
                    ]),
                },
            );
            // Shared with the municipality and the county board only.
            e.audience = Audience::Orgs(orgs(&["lansstyrelsen-skane", "malmo-stad"]));
            e.lang = None;
            e
        }
        Kind::AlertIssued => {
            let mut e = event(
                kind,
                "polisen",
                "vakthavande befäl, polisregion Syd",
                aggregate(AggregateType::Alert, "alert-malmo-central-evening"),
                "2026-03-03T15:00:00Z",
                AlertIssued {
                    message_type: AlertMessageType::Alert,
                    scope: AlertScope::Restricted,
                    urgency: AlertUrgency::Expected,
                    severity: AlertSeverity::Moderate,
                    certainty: AlertCertainty::Likely,
                    headline: label("Trängsel väntas vid Malmö C vid kvällstågens ankomst"),
                    instruction: Some(text(
                        "Mottagningspersonal möter vid spår ett och två; bussar till Hyllie från Centralplan.",
                    )),
                    areas: [area("1280"), area("malmo-centrum")].into(),
                    expires_at: Some(at("2026-03-03T23:00:00Z")),
                },
            );
            e.status = Status::Exercise;
            e
        }
        Kind::InformationRequested => event(
            kind,
            "lansstyrelsen-skane",
            COUNTY_BOARD,
            aggregate(
                AggregateType::InformationRequest,
                "lansstyrelsen-rfi-housing",
            ),
            "2026-03-05T08:00:00Z",
            InformationRequested {
                addressed_to: org("malmo-stad"),
                questions: vec![
                    text("Hur många platser i tillfälliga boenden finns lediga i kväll?"),
                    text("Behöver kommunen stöd med boende från grannkommunerna?"),
                ],
                answer_by: Some(at("2026-03-05T14:00:00Z")),
            },
        ),
        _ => answering(
            event(
                Kind::InformationProvided,
                "malmo-stad",
                CRISIS_STAFF,
                aggregate(
                    AggregateType::InformationRequest,
                    "lansstyrelsen-rfi-housing",
                ),
                "2026-03-05T12:30:00Z",
                InformationProvided {
                    answers: vec![
                        text("Omkring tjugo platser i kväll, färre i helgen."),
                        text("Ja, för familjer från nästa vecka."),
                    ],
                },
            ),
            Kind::InformationRequested,
            Kind::InformationRequested,
        ),
    }
}

pub(super) fn coordination(kind: Kind) -> Envelope {
    let meeting = aggregate(AggregateType::Meeting, MEETING);
    match kind {
        Kind::MeetingScheduled => event(
            kind,
            "malmo-stad",
            CRISIS_STAFF,
            meeting,
            "2026-03-04T10:00:00Z",
            MeetingScheduled {
                forum: label("samverkansmöte, mottagandet i Malmö"),
                starts_at: at("2026-03-06T08:00:00Z"),
                participants: orgs(&[
                    "malmo-stad",
                    "migrationsverket",
                    "polisen",
                    "radda-barnen",
                    "region-skane",
                    "svenska-kyrkan-malmo",
                ]),
            },
        ),
        Kind::MeetingHeld => answering(
            event(
                kind,
                "malmo-stad",
                CRISIS_STAFF,
                meeting,
                "2026-03-06T09:30:00Z",
                MeetingHeld {
                    attending: orgs(&[
                        "malmo-stad",
                        "migrationsverket",
                        "radda-barnen",
                        "region-skane",
                        "svenska-kyrkan-malmo",
                    ]),
                    agenda: [
                        aggregate(AggregateType::Issue, ISSUE),
                        aggregate(AggregateType::Need, NEED),
                        aggregate(AggregateType::Site, SITE),
                    ]
                    .into(),
                    minutes_ref: Some(label(
                        "diarium krisledningsstaben, minnesanteckningar vecka tio",
                    )),
                },
            ),
            Kind::MeetingScheduled,
            Kind::MeetingScheduled,
        ),
        Kind::DecisionRecorded => answering(
            event(
                kind,
                "malmo-stad",
                "krisledningsnämnden, Malmö stad",
                aggregate(AggregateType::Decision, DECISION),
                "2026-03-06T09:45:00Z",
                DecisionRecorded {
                    body: label("krisledningsnämnden, Malmö stad"),
                    text: text("Boendet i Hyllie bemannas med extra personal kvällar och nätter."),
                    rationale: Some(text(
                        "Beläggningen är över åttio procent och ankomsterna sker sent.",
                    )),
                    based_on_seq: 1842,
                    refs: [aggregate(AggregateType::Site, SITE)].into(),
                    meeting: Some(aggregate_id(MEETING)),
                    effective_from: Some(at("2026-03-06T18:00:00Z")),
                },
            ),
            Kind::MeetingScheduled,
            Kind::MeetingHeld,
        ),
        Kind::ActionAssigned => answering(
            event(
                kind,
                "malmo-stad",
                CRISIS_STAFF,
                aggregate(AggregateType::Action, ACTION),
                "2026-03-06T10:00:00Z",
                ActionAssigned {
                    description: text("Ta fram ett schema för kvälls- och nattbemanning i Hyllie."),
                    assigned_org: org("malmo-stad"),
                    assigned_function: label(SOCIAL_SERVICES),
                    decision: Some(aggregate_id(DECISION)),
                    due_by: Some(at("2026-03-06T15:00:00Z")),
                },
            ),
            Kind::MeetingScheduled,
            Kind::DecisionRecorded,
        ),
        _ => answering(
            event(
                Kind::ActionCompleted,
                "malmo-stad",
                SOCIAL_SERVICES,
                aggregate(AggregateType::Action, ACTION),
                "2026-03-06T14:20:00Z",
                ActionCompleted {
                    outcome: text("Schemat är klart; bemanningen börjar i kväll."),
                },
            ),
            Kind::MeetingScheduled,
            Kind::ActionAssigned,
        ),
    }
}

pub(super) fn hygiene(kind: Kind) -> Envelope {
    match kind {
        Kind::EventCorrected => answering(
            event(
                kind,
                "migrationsverket",
                MIGRATION_COORDINATOR,
                aggregate(AggregateType::Need, NEED),
                "2026-03-03T08:05:00Z",
                EventCorrected {
                    supersedes: id_of(Kind::NeedRaised),
                    replacement: TaggedPayload::new(super::operations::need_raised_payload(36)),
                    reason: text("Fel antal tolktimmar angavs; det ska vara trettiosex."),
                },
            ),
            Kind::NeedRaised,
            Kind::NeedRaised,
        ),
        _ => answering(
            event(
                Kind::EventRetracted,
                "malmo-stad",
                SOCIAL_SERVICES,
                aggregate(AggregateType::Site, SITE),
                "2026-03-04T06:00:00Z",
                EventRetracted {
                    supersedes: id_of(Kind::OccupancyReported),
                    reason: RetractionReason::Duplicate,
                    note: Some(text("Samma rapport skickades två gånger från surfplattan.")),
                },
            ),
            Kind::SiteRegistered,
            Kind::OccupancyReported,
        ),
    }
}
