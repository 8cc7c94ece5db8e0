//! Examples of the network, housing, needs and resources kinds.

use super::*;

pub(super) fn network(kind: Kind) -> Envelope {
    let incident = aggregate(AggregateType::Incident, EXAMPLE_INCIDENT);
    match kind {
        Kind::IncidentDeclared => {
            let mut e = event(
                kind,
                "malmo-stad",
                CRISIS_STAFF,
                incident,
                "2026-03-02T07:30:00Z",
                IncidentDeclared {
                    title: label("Mottagande av skyddssökande i Malmö"),
                    incident_type: IncidentType::RefugeeReception,
                    areas: [area("1280"), area("1233"), area("se-12")].into(),
                    lead_org: org("malmo-stad"),
                    started_at: at("2026-03-02T06:00:00Z"),
                    description: Some(text(
                        "Stora ankomster med tåg och buss väntas de närmaste veckorna. Malmö stad sammankallar nätverket för mottagandet vid Hyllie.",
                    )),
                },
            );
            e.area = area("se-12");
            e
        }
        Kind::IncidentPhaseChanged => answering(
            event(
                kind,
                "malmo-stad",
                CRISIS_STAFF,
                incident,
                "2026-03-02T12:00:00Z",
                IncidentPhaseChanged {
                    phase: IncidentPhase::Response,
                    reason: Some(text(
                        "De första bussarna har anlänt till mottagningsplatsen.",
                    )),
                },
            ),
            Kind::IncidentDeclared,
            Kind::IncidentDeclared,
        ),
        Kind::OrganisationJoined => event(
            kind,
            "radda-barnen",
            SAVE_THE_CHILDREN,
            aggregate(AggregateType::Org, "radda-barnen"),
            "2026-03-02T09:05:00Z",
            OrganisationJoined {
                name: label("Rädda Barnen"),
                org_type: OrgType::Ngo,
                functions: labels(&["barnvänliga platser", "psykosocialt stöd"]),
                contact_function: Some(label(SAVE_THE_CHILDREN)),
            },
        ),
        Kind::OrganisationLeft => {
            let mut e = event(
                kind,
                "frivilliga-hyllie",
                "samordnare, Frivilliga i Hyllie",
                aggregate(AggregateType::Org, "frivilliga-hyllie"),
                "2026-03-20T16:00:00Z",
                OrganisationLeft {
                    reason: Some(text(
                        "Our volunteers have joined the parish's language café instead.",
                    )),
                },
            );
            e.lang = lang("en");
            e
        }
        Kind::ResponsibilityAssigned => answering(
            event(
                kind,
                "malmo-stad",
                CRISIS_STAFF,
                aggregate(AggregateType::Responsibility, "housing-coordination"),
                "2026-03-02T10:00:00Z",
                ResponsibilityAssigned {
                    function: label("samordning av boende"),
                    lead_org: org("malmo-stad"),
                    supporting_orgs: orgs(&["migrationsverket", "svenska-kyrkan-malmo"]),
                },
            ),
            Kind::IncidentDeclared,
            Kind::IncidentDeclared,
        ),
        _ => event(
            Kind::OperationalPresenceDeclared,
            "svenska-kyrkan-malmo",
            PARISH,
            aggregate(
                AggregateType::Presence,
                "svenska-kyrkan-malmo-language-cafe",
            ),
            "2026-03-03T08:00:00Z",
            OperationalPresenceDeclared {
                sector: Sector::Psychosocial,
                activity: label("språkcafé och läxhjälp"),
                presence_status: PresenceStatus::Ongoing,
                starts_at: Some(at("2026-03-04T15:00:00Z")),
                ends_at: Some(at("2026-06-14T18:00:00Z")),
            },
        ),
    }
}

pub(super) fn housing(kind: Kind) -> Envelope {
    let site = aggregate(AggregateType::Site, SITE);
    let offer = aggregate(AggregateType::Offer, OFFER);
    match kind {
        Kind::SiteRegistered => event(
            kind,
            "malmo-stad",
            SOCIAL_SERVICES,
            site,
            "2026-03-02T08:00:00Z",
            SiteRegistered {
                name: label("Tillfälligt boende Hyllie sporthall"),
                site_kind: SiteKind::Temporary,
                services: labels(&["måltider", "sjukvårdsrum", "tolk på plats"]),
                accessible: true,
            },
        ),
        Kind::CapacityDeclared => {
            let mut e = answering(
                event(
                    kind,
                    "malmo-stad",
                    SOCIAL_SERVICES,
                    site,
                    "2026-03-02T08:10:00Z",
                    CapacityDeclared {
                        beds: 120,
                        night_only_beds: Some(40),
                    },
                ),
                Kind::SiteRegistered,
                Kind::SiteRegistered,
            );
            // No free text beyond the function: the language is left out.
            e.lang = None;
            e
        }
        Kind::OccupancyReported => {
            let mut e = event(
                kind,
                "malmo-stad",
                SOCIAL_SERVICES,
                site,
                "2026-03-03T21:41:27.25Z",
                OccupancyReported {
                    occupied: 86,
                    reserved: 12,
                    capacity: Some(120),
                },
            );
            e.correlation = Some(id_of(Kind::SiteRegistered));
            e.lang = None;
            e
        }
        Kind::SiteStatusChanged => event(
            kind,
            "malmo-stad",
            SOCIAL_SERVICES,
            site,
            "2026-03-05T22:15:00Z",
            SiteStatusChanged {
                site_status: SiteStatus::Full,
                reason: Some(text("Alla sängar är belagda eller reserverade för natten.")),
            },
        ),
        Kind::HousingOffered => event(
            kind,
            "mkb",
            "bostadssamordnare, MKB Fastighets AB",
            offer,
            "2026-03-04T09:00:00Z",
            HousingOffered {
                housing_type: HousingType::Apartment,
                units: 6,
                beds: 24,
                available_from: at("2026-03-09T00:00:00Z"),
                available_until: Some(at("2026-09-30T00:00:00Z")),
                suitable_for: [Suitability::Family, Suitability::Accessible].into(),
                offered_to: Some(org("malmo-stad")),
            },
        ),
        Kind::HousingOfferWithdrawn => answering(
            event(
                kind,
                "mkb",
                "bostadssamordnare, MKB Fastighets AB",
                offer,
                "2026-03-12T10:30:00Z",
                HousingOfferWithdrawn {
                    reason: Some(text(
                        "Två av lägenheterna behövs för en vattenskada i Holma.",
                    )),
                },
            ),
            Kind::HousingOffered,
            Kind::HousingOffered,
        ),
        _ => answering(
            event(
                Kind::OfferAnswered,
                "malmo-stad",
                SOCIAL_SERVICES,
                offer,
                "2026-03-04T13:20:00Z",
                OfferAnswered {
                    answer: OfferAnswer::Accepted,
                    quantity: Some(4),
                    reason: Some(text(
                        "Fyra lägenheter tas för familjer, två behövs inte just nu.",
                    )),
                },
            ),
            Kind::HousingOffered,
            Kind::HousingOffered,
        ),
    }
}

pub(super) fn needs(kind: Kind) -> Envelope {
    let need = aggregate(AggregateType::Need, NEED);
    match kind {
        Kind::NeedRaised => event(
            kind,
            "migrationsverket",
            MIGRATION_COORDINATOR,
            need,
            "2026-03-03T07:45:00Z",
            need_raised_payload(30),
        ),
        Kind::NeedUpdated => answering(
            event(
                kind,
                "migrationsverket",
                MIGRATION_COORDINATOR,
                need,
                "2026-03-03T15:00:00Z",
                NeedUpdated {
                    quantity: Some(40),
                    urgency: Some(Urgency::Critical),
                    needed_by: Some(at("2026-03-04T08:00:00Z")),
                    reason: Some(text("Fler ankomster än väntat med kvällståget.")),
                },
            ),
            Kind::NeedRaised,
            Kind::NeedRaised,
        ),
        Kind::NeedClaimed => answering(
            event(
                kind,
                "region-skane",
                REGION_DUTY,
                need,
                "2026-03-03T16:10:00Z",
                NeedClaimed {
                    claim_expires_at: at("2026-03-04T16:10:00Z"),
                    quantity: Some(20),
                    note: Some(text("Regionens tolkförmedling tar förmiddagarna.")),
                },
            ),
            Kind::NeedRaised,
            Kind::NeedUpdated,
        ),
        Kind::NeedClaimReleased => answering(
            event(
                kind,
                "region-skane",
                REGION_DUTY,
                need,
                "2026-03-04T07:30:00Z",
                NeedClaimReleased {
                    reason: Some(text("Tolkarna behövs på akuten under morgonen.")),
                },
            ),
            Kind::NeedRaised,
            Kind::NeedClaimed,
        ),
        Kind::NeedMet => answering(
            event(
                kind,
                "region-skane",
                REGION_DUTY,
                need,
                "2026-03-05T17:00:00Z",
                NeedMet {
                    quantity: 20,
                    fulfilment: Fulfilment::Partly,
                    note: Some(text(
                        "Hälsoundersökningarna under tisdag och onsdag hade tolk.",
                    )),
                },
            ),
            Kind::NeedRaised,
            Kind::NeedClaimed,
        ),
        _ => answering(
            event(
                Kind::NeedCancelled,
                "migrationsverket",
                MIGRATION_COORDINATOR,
                need,
                "2026-03-06T09:00:00Z",
                NeedCancelled {
                    reason: Some(text("Resterande timmar täcks av telefontolk via avtal.")),
                },
            ),
            Kind::NeedRaised,
            Kind::NeedMet,
        ),
    }
}

/// The payload of the `need_raised` example, also the replacement in the correction.
pub(super) fn need_raised_payload(quantity: u32) -> NeedRaised {
    NeedRaised {
        category: NeedCategory::Interpretation,
        subcategory: Some(label("hälsoundersökningar")),
        quantity,
        unit: Unit::Hours,
        people: Some(45),
        urgency: Urgency::High,
        needed_by: Some(at("2026-03-05T16:00:00Z")),
        addressed_to: Some(org("region-skane")),
        language: lang("uk"),
        note: Some(text(
            "Tolk behövs vid hälsoundersökningar på mottagningsplatsen i Hyllie.",
        )),
    }
}

pub(super) fn resources(kind: Kind) -> Envelope {
    let resource = aggregate(AggregateType::Resource, RESOURCE);
    let with_offer_thread =
        |e: Envelope| answering(e, Kind::ResourceOffered, Kind::ResourceOffered);
    match kind {
        Kind::ResourceOffered => event(
            kind,
            "svenska-kyrkan-malmo",
            PARISH,
            resource,
            "2026-03-03T10:00:00Z",
            ResourceOffered {
                category: ResourceCategory::Premises,
                quantity: 1,
                unit: Unit::Other,
                available_from: Some(at("2026-03-04T07:00:00Z")),
                available_until: Some(at("2026-04-30T20:00:00Z")),
                conditions: Some(text(
                    "Församlingshemmet i Hyllie, vardagar. Söndagar behövs lokalen för gudstjänst.",
                )),
            },
        ),
        Kind::ResourceWithdrawn => {
            let mut e = with_offer_thread(event(
                kind,
                "svenska-kyrkan-malmo",
                PARISH,
                resource,
                "2026-03-03T11:00:00Z",
                ResourceWithdrawn {
                    reason: Some(text("Test of the withdrawal flow before go-live.")),
                },
            ));
            e.status = Status::Test;
            e.lang = lang("en");
            e
        }
        Kind::ResourceCommitted => {
            let mut e = with_offer_thread(event(
                kind,
                "svenska-kyrkan-malmo",
                PARISH,
                resource,
                "2026-03-04T08:00:00Z",
                ResourceCommitted {
                    need: Some(aggregate_id("need-daytime-premises")),
                    offer: Some(aggregate_id(OFFER)),
                    quantity: 1,
                    expected_at: Some(at("2026-03-04T12:00:00Z")),
                },
            ));
            e.lang = None;
            e
        }
        Kind::ResourceDelivered => {
            let mut e = with_offer_thread(event(
                kind,
                "malmo-stad",
                SOCIAL_SERVICES,
                resource,
                "2026-03-04T12:05:00Z",
                ResourceDelivered {
                    quantity: 1,
                    need: Some(aggregate_id("need-daytime-premises")),
                },
            ));
            e.lang = None;
            e
        }
        Kind::ResourceReleased => with_offer_thread(event(
            kind,
            "malmo-stad",
            SOCIAL_SERVICES,
            resource,
            "2026-04-20T15:00:00Z",
            ResourceReleased {
                quantity: Some(1),
                reason: Some(text("Dagverksamheten flyttar till skolans matsal.")),
            },
        )),
        _ => with_offer_thread(event(
            Kind::ResourceReturnRequested,
            "svenska-kyrkan-malmo",
            PARISH,
            resource,
            "2026-04-10T09:00:00Z",
            ResourceReturnRequested {
                return_by: at("2026-04-18T12:00:00Z"),
                reason: Some(text("Lokalen behövs för konfirmationslägret.")),
            },
        )),
    }
}
