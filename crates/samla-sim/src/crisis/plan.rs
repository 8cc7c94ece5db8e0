//! The plan made when a crisis is constructed: the joins, the clusters with their sites,
//! series and spawners, the global series, the alerts, the drill and the closing — every
//! first step in the queue.

use proto_events::vocab::{
    AggregateType, AlertMessageType, Confidence, IncidentPhase, PresenceStatus, ServiceKind,
    SiteKind, SiteStatus, Status,
};

use super::network::{Alert, Drill, NetworkStep, Presence};
use super::periodic::{ArrivalsSeries, PeriodicStep, ReportSeries, ServiceSeries};
use super::world::{Cluster, Site};
use super::{Crisis, MALMO, Step, Thread, area, fixed_thread, series_thread};
use crate::clock::{DAY, HOUR, MINUTE};
use crate::orgs::{Org, Role};
use crate::text as phrases;

/// Responsibilities the convenor assigns on day 0: function, lead, supporters.
pub(super) const RESPONSIBILITIES: &[(&str, Org, &[Org])] = &[
    (
        "samordning av mottagningen",
        Org::Malmo,
        &[Org::Lansstyrelsen],
    ),
    (
        "boende och placering",
        Org::Malmo,
        &[Org::Migrationsverket, Org::Operator, Org::Kyrkan],
    ),
    (
        "asylprövning och bosättning",
        Org::Migrationsverket,
        &[Org::Malmo],
    ),
    ("hälso- och sjukvård", Org::Region, &[Org::Primarvard]),
    ("skolplatser", Org::Malmo, &[]),
    (
        "frivilligsamordning och gåvor",
        Org::Frivilliga,
        &[Org::Kyrkan, Org::RaddaBarnen],
    ),
    ("barnrättsfrågor", Org::RaddaBarnen, &[Org::Malmo]),
    ("ordning och säkerhet", Org::Polisen, &[Org::Operator]),
    (
        "regional samordning och lägesbild",
        Org::Lansstyrelsen,
        &[Org::Malmo, Org::Region],
    ),
];

impl Crisis {
    /// Lays out the crisis: clusters, sites, series, and every first step.
    pub(super) fn plan(&mut self) {
        let start = self.clock.start;
        let scale = self.config.scale;
        // Joins: the convenor a minute after declaring, the others every few minutes.
        let mut at = start + MINUTE;
        for org in Org::ALL {
            self.joined_at[org.index()] = at;
            self.schedule(at, Step::Network(NetworkStep::Join(org)));
            at += self.between(2 * MINUTE, 6 * MINUTE);
        }
        self.schedule(start, Step::Network(NetworkStep::Declare));
        self.schedule(start - MINUTE, Step::DayTick(0));
        self.schedule(
            start + 40 * MINUTE,
            Step::Network(NetworkStep::Phase(IncidentPhase::Response)),
        );
        let mut at = start + 2 * HOUR;
        for index in 0..RESPONSIBILITIES.len() {
            self.schedule(at, Step::Network(NetworkStep::Responsibility(index as u8)));
            at += self.between(5 * MINUTE, 20 * MINUTE);
        }
        let days = self.config.days;
        let recovery = (days >= 3).then(|| self.clock.day_start(days * 7 / 10) + HOUR);
        if let Some(when) = recovery {
            self.schedule(
                when,
                Step::Network(NetworkStep::Phase(IncidentPhase::Recovery)),
            );
        }
        for cluster in 0..scale {
            self.plan_cluster(cluster, recovery);
        }
        self.plan_global_series();
        self.plan_alerts();
        if self.config.exercise_share_percent > 0 {
            let day = days / 2;
            let when = self.clock.day_start(day) + 2 * HOUR + self.between(0, HOUR);
            let site = self.exercise_thread(AggregateType::Site, "site");
            let alert = self.exercise_thread(AggregateType::Alert, "larm");
            self.schedule(
                when,
                Step::Network(NetworkStep::Drill(Box::new(Drill {
                    step: 0,
                    site,
                    alert,
                    alert_issued: None,
                }))),
            );
        }
        let closing_stages = if self.config.ongoing { 0 } else { 4u8 };
        for stage in 0..closing_stages {
            self.schedule(
                self.closing_at + i64::from(stage) * 5 * MINUTE,
                Step::Closing(stage),
            );
        }
    }

    fn exercise_thread(&mut self, kind: AggregateType, prefix: &str) -> Thread {
        let mut thread = fixed_thread(kind, self.mint.aggregate(prefix), area(MALMO));
        thread.status = Status::Exercise;
        thread
    }

    fn plan_cluster(&mut self, cluster: u32, recovery: Option<i64>) {
        let start = self.clock.start;
        let mut record = Cluster::new(cluster);
        let name = record.name.clone();
        let mut layouts = vec![
            (
                format!("Mottagningsboendet {name}"),
                Org::Operator,
                SiteKind::Temporary,
                120,
                260,
            ),
            (
                format!("Evakueringsboende {name}, idrottshallen"),
                Org::Malmo,
                SiteKind::Evacuation,
                60,
                150,
            ),
            (
                format!("Lägenhetspoolen {name}"),
                Org::Migrationsverket,
                SiteKind::ApartmentPool,
                30,
                90,
            ),
        ];
        if self.chance(50) || cluster == 0 {
            layouts.push((
                format!("Församlingshemmet {name}"),
                Org::Kyrkan,
                SiteKind::Premises,
                20,
                40,
            ));
        }
        for (index, (site_name, operator, kind, low, high)) in layouts.into_iter().enumerate() {
            let capacity = self.count(low, high);
            record.sites.push(Site {
                id: self.mint.aggregate("site"),
                name: site_name,
                operator,
                kind,
                capacity,
                status: SiteStatus::Closed,
                occupied: 0,
                root: None,
                registered: false,
            });
            let when = self.ready(operator, start + 10 * MINUTE) + self.between(0, 3 * HOUR);
            self.schedule(
                when,
                Step::Periodic(PeriodicStep::SiteRegistered {
                    cluster,
                    site: index as u32,
                }),
            );
            if kind == SiteKind::Premises
                && let Some(recovery) = recovery
            {
                // The parish needs its hall back once the worst is over.
                let when = recovery + self.between(HOUR, 6 * HOUR);
                self.schedule(
                    when,
                    Step::Network(NetworkStep::CloseSite {
                        cluster,
                        site: index as u32,
                    }),
                );
            }
        }
        let district = record.area.clone();
        self.world.clusters.push(record);
        self.start_spawners(cluster, 25 * MINUTE);

        // Arrivals counted by the Migration Agency, per cluster, daily.
        let thread = series_thread(
            AggregateType::Arrivals,
            self.mint.aggregate("ank"),
            district.clone(),
        );
        self.add_arrivals(
            thread,
            Org::Migrationsverket,
            Role::Reports,
            Some(cluster),
            false,
        );
        // Situation reports: the municipality and the site operator, per cluster.
        for (org, role, offset, confidence) in [
            (
                Org::Malmo,
                Role::Coordination,
                4 * HOUR,
                Confidence::Probable,
            ),
            (
                Org::Operator,
                Role::Reports,
                10 * HOUR,
                Confidence::Confirmed,
            ),
        ] {
            let thread = series_thread(
                AggregateType::Report,
                self.mint.aggregate("lage"),
                district.clone(),
            );
            self.add_report(thread, org, role, Some(cluster), 1, offset, confidence);
        }
        // School places and primary care, per cluster.
        for (org, role, service, available, every_days) in [
            (
                Org::Malmo,
                Role::School,
                ServiceKind::CompulsorySchool,
                60,
                1,
            ),
            (
                Org::Malmo,
                Role::School,
                ServiceKind::UpperSecondarySchool,
                30,
                2,
            ),
            (Org::Malmo, Role::School, ServiceKind::Preschool, 25, 2),
            (
                Org::Primarvard,
                Role::Health,
                ServiceKind::PrimaryCare,
                80,
                1,
            ),
        ] {
            let thread = series_thread(
                AggregateType::Service,
                self.mint.aggregate("tjanst"),
                district.clone(),
            );
            self.add_service(thread, org, role, service, None, available, every_days);
        }
        // Presence: who does what in this district.
        for (org, (activity, sector)) in [
            (Org::Migrationsverket, phrases::PRESENCE[0]),
            (Org::Malmo, phrases::PRESENCE[1]),
            (Org::Primarvard, phrases::PRESENCE[2]),
            (Org::Malmo, phrases::PRESENCE[3]),
            (Org::Kyrkan, phrases::PRESENCE[4]),
            (Org::RaddaBarnen, phrases::PRESENCE[5]),
            (Org::Frivilliga, phrases::PRESENCE[7]),
            (Org::Polisen, phrases::PRESENCE[9]),
        ] {
            let mut thread = fixed_thread(
                AggregateType::Presence,
                self.mint.aggregate("narvaro"),
                district.clone(),
            );
            thread.lang = super::Lang::Sv;
            let when = self.ready(org, start + 3 * HOUR) + self.between(0, 8 * HOUR);
            let presence = Presence {
                thread,
                org,
                sector,
                activity,
                status: PresenceStatus::Ongoing,
                starts_at: when,
            };
            self.schedule(
                when,
                Step::Network(NetworkStep::Presence(Box::new(presence))),
            );
        }
        // Weekly district meeting, the first on day 1.
        let first = start + 5 * HOUR + self.between(0, 2 * HOUR);
        self.schedule(
            first,
            Step::Periodic(PeriodicStep::Meetings {
                cluster: Some(cluster),
            }),
        );
    }

    fn plan_global_series(&mut self) {
        let city = area(MALMO);
        let thread = series_thread(
            AggregateType::Arrivals,
            self.mint.aggregate("ank"),
            city.clone(),
        );
        self.add_arrivals(thread, Org::Malmo, Role::Social, None, false);
        let thread = series_thread(
            AggregateType::Arrivals,
            self.mint.aggregate("ank"),
            city.clone(),
        );
        self.add_arrivals(thread, Org::Polisen, Role::Duty, None, true);
        for (org, role, every_days, offset, confidence) in [
            (
                Org::Lansstyrelsen,
                Role::Coordination,
                1,
                9 * HOUR,
                Confidence::Probable,
            ),
            (
                Org::Migrationsverket,
                Role::Reports,
                1,
                3 * HOUR,
                Confidence::Confirmed,
            ),
            (
                Org::Region,
                Role::Health,
                1,
                2 * HOUR + 30 * MINUTE,
                Confidence::Probable,
            ),
            (Org::Polisen, Role::Reports, 1, HOUR, Confidence::Estimated),
            (
                Org::RaddaBarnen,
                Role::Coordination,
                2,
                8 * HOUR,
                Confidence::Probable,
            ),
        ] {
            let mut thread = series_thread(
                AggregateType::Report,
                self.mint.aggregate("lage"),
                city.clone(),
            );
            if org == Org::Polisen && self.config.restricted_share_percent > 0 {
                // The police's picture goes to the agencies that need it.
                thread.audience = super::audience_of(&[
                    Org::Polisen,
                    Org::Malmo,
                    Org::Migrationsverket,
                    Org::Lansstyrelsen,
                ]);
            }
            self.add_report(thread, org, role, None, every_days, offset, confidence);
        }
        for (org, role, service, language, available, every_days) in [
            (
                Org::Region,
                Role::Interpreters,
                ServiceKind::Interpreters,
                Some("ar"),
                40,
                1,
            ),
            (
                Org::Region,
                Role::Interpreters,
                ServiceKind::Interpreters,
                Some("uk"),
                30,
                1,
            ),
            (
                Org::Region,
                Role::Interpreters,
                ServiceKind::Interpreters,
                Some("fa"),
                20,
                2,
            ),
            (
                Org::Region,
                Role::Interpreters,
                ServiceKind::Interpreters,
                Some("ti"),
                8,
                2,
            ),
            (
                Org::RaddaBarnen,
                Role::Children,
                ServiceKind::Psychosocial,
                None,
                25,
                2,
            ),
        ] {
            let thread = series_thread(
                AggregateType::Service,
                self.mint.aggregate("tjanst"),
                city.clone(),
            );
            self.add_service(thread, org, role, service, language, available, every_days);
        }
        let when = self.ready(Org::Region, self.clock.start + HOUR);
        self.schedule(when, Step::Periodic(PeriodicStep::Hospital));
        let when = self.clock.start + 6 * HOUR + 2 * DAY;
        self.schedule(
            when,
            Step::Periodic(PeriodicStep::Meetings { cluster: None }),
        );
    }

    fn add_arrivals(
        &mut self,
        thread: Thread,
        org: Org,
        role: Role,
        cluster: Option<u32>,
        night: bool,
    ) {
        let series = self.world.arrivals.len() as u32;
        self.world.arrivals.push(ArrivalsSeries {
            thread,
            org,
            role,
            cluster,
            last_to: self.clock.start - 12 * HOUR,
            night,
            counted: 0,
        });
        let after = self.joined_at[org.index()];
        self.schedule_arrivals(after, series, true);
    }

    #[allow(clippy::too_many_arguments)]
    fn add_report(
        &mut self,
        thread: Thread,
        org: Org,
        role: Role,
        cluster: Option<u32>,
        every_days: u32,
        offset: i64,
        confidence: Confidence,
    ) {
        let series = self.world.reports.len() as u32;
        self.world.reports.push(ReportSeries {
            thread,
            org,
            role,
            cluster,
            number: 0,
            last_to: self.clock.start,
            last_initial: None,
            every_days,
            offset,
            confidence,
        });
        let after = self.joined_at[org.index()];
        self.schedule_report(after, series, true);
    }

    #[allow(clippy::too_many_arguments)]
    fn add_service(
        &mut self,
        thread: Thread,
        org: Org,
        role: Role,
        service: ServiceKind,
        language: Option<&'static str>,
        available: u32,
        every_days: u32,
    ) {
        let series = self.world.services.len() as u32;
        let used = available / 3;
        self.world.services.push(ServiceSeries {
            thread,
            org,
            role,
            service,
            language,
            available,
            used,
            every_days,
            offset: 2 * HOUR,
        });
        let when = self.ready(org, self.clock.start + 2 * HOUR) + self.between(0, 2 * HOUR);
        self.schedule(when, Step::Periodic(PeriodicStep::Service { series }));
    }

    fn plan_alerts(&mut self) {
        let days = self.config.days;
        let plans = [
            (
                Org::Lansstyrelsen,
                (days / 10).min(days - 1),
                "Ökat antal ankomster väntas till Skåne",
                "Förbered fler mottagningsplatser och bemanning.",
            ),
            (
                Org::Polisen,
                days * 2 / 3,
                "Kall natt: behov av nattlogi vid stationen",
                "Håll evakueringsboendet öppet hela natten.",
            ),
        ];
        for (org, day, headline, instruction) in plans {
            let thread = fixed_thread(
                AggregateType::Alert,
                self.mint.aggregate("larm"),
                area(MALMO),
            );
            let planned = self.clock.day_start(day) + 3 * HOUR + self.between(0, 2 * HOUR);
            let when = self.ready(org, planned);
            let alert = Alert {
                thread,
                org,
                headline,
                instruction,
                message_type: AlertMessageType::Alert,
                previous: None,
            };
            self.schedule(when, Step::Network(NetworkStep::Alert(Box::new(alert))));
        }
    }
}
