//! Series that report on a rhythm: sites (in `sites.rs`), arrivals, situation reports,
//! service capacity, hospital status, and the weekly meetings. Each series is one
//! aggregate; its next report is its one pending step.

use std::collections::BTreeMap;

use proto_events::payload::{
    ArrivalsReported, HospitalStatusReported, PeopleCounts, ServiceCapacityReported,
    SituationReported,
};
use proto_events::vocab::{
    AggregateType, BedType, Confidence, EmergencyDepartmentStatus, FacilityStatus, ReportVersion,
    ServiceKind, Severity, SiteStatus,
};
use proto_events::{AggregateId, AreaCode, Envelope, EventId, LangTag};

use super::world::Counts;
use super::{Crisis, Step, Thread, series_thread, text};
use crate::clock::{DAY, HOUR, MINUTE, timestamp};
use crate::orgs::{Org, Role};
use crate::text as phrases;

#[derive(Debug, Clone, Copy)]
pub(crate) enum PeriodicStep {
    SiteRegistered {
        cluster: u32,
        site: u32,
    },
    SiteCapacity {
        cluster: u32,
        site: u32,
    },
    SiteStatus {
        cluster: u32,
        site: u32,
        status: SiteStatus,
    },
    /// `occurred` is set when the report is emitted late (the evening's figures sent in
    /// the next morning).
    Occupancy {
        cluster: u32,
        site: u32,
        evening: bool,
        occurred: Option<i64>,
    },
    Arrivals {
        series: u32,
        occurred: Option<i64>,
    },
    Report {
        series: u32,
        version: ReportVersion,
    },
    Service {
        series: u32,
    },
    Hospital,
    Meetings {
        cluster: Option<u32>,
    },
}

#[derive(Debug)]
pub(crate) struct ArrivalsSeries {
    pub(crate) thread: Thread,
    pub(crate) org: Org,
    pub(crate) role: Role,
    /// The cluster counted, or none for all of them.
    pub(crate) cluster: Option<u32>,
    pub(crate) last_to: i64,
    /// The police's night count: every second night, sent the next morning.
    pub(crate) night: bool,
    pub(crate) counted: u32,
}

#[derive(Debug)]
pub(crate) struct ReportSeries {
    pub(crate) thread: Thread,
    pub(crate) org: Org,
    pub(crate) role: Role,
    pub(crate) cluster: Option<u32>,
    pub(crate) number: u32,
    pub(crate) last_to: i64,
    pub(crate) last_initial: Option<EventId>,
    pub(crate) every_days: u32,
    /// When in the day it reports, from the day's start.
    pub(crate) offset: i64,
    pub(crate) confidence: Confidence,
}

#[derive(Debug)]
pub(crate) struct ServiceSeries {
    pub(crate) thread: Thread,
    pub(crate) org: Org,
    pub(crate) role: Role,
    pub(crate) service: ServiceKind,
    pub(crate) language: Option<&'static str>,
    pub(crate) available: u32,
    pub(crate) used: u32,
    pub(crate) every_days: u32,
    pub(crate) offset: i64,
}

#[derive(Debug)]
pub(crate) struct HospitalSeries {
    pub(crate) thread: Thread,
}

impl Crisis {
    pub(super) fn run_periodic(&mut self, at: i64, step: PeriodicStep) -> Option<Envelope> {
        match step {
            PeriodicStep::SiteRegistered { cluster, site } => {
                Some(self.register_site(at, cluster, site))
            }
            PeriodicStep::SiteCapacity { cluster, site } => {
                Some(self.declare_capacity(at, cluster, site))
            }
            PeriodicStep::SiteStatus {
                cluster,
                site,
                status,
            } => self.change_site_status(at, cluster, site, status),
            PeriodicStep::Occupancy {
                cluster,
                site,
                evening,
                occurred,
            } => self.report_occupancy(at, cluster, site, evening, occurred),
            PeriodicStep::Arrivals { series, occurred } => {
                Some(self.report_arrivals(at, series, occurred))
            }
            PeriodicStep::Report { series, version } => {
                Some(self.report_situation(at, series, version))
            }
            PeriodicStep::Service { series } => Some(self.report_service(at, series)),
            PeriodicStep::Hospital => Some(self.report_hospital(at)),
            PeriodicStep::Meetings { cluster } => self.run_meeting_series(at, cluster),
        }
    }

    fn report_arrivals(&mut self, at: i64, series: u32, occurred: Option<i64>) -> Envelope {
        let index = series as usize;
        let (org, role, cluster, night, last_to) = {
            let s = &self.world.arrivals[index];
            (s.org, s.role, s.cluster, s.night, s.last_to)
        };
        let when = occurred.unwrap_or(at);
        let counts = match cluster {
            Some(c) => self.world.clusters[c as usize].counts,
            None => self.world.totals,
        };
        let people = if night {
            // The police count at the station overnight: a flow, estimated.
            let counted = counts.arrivals_today * self.count(15, 35) / 100;
            let total = self.world.arrivals[index].counted + counted;
            self.world.arrivals[index].counted = total;
            PeopleCounts {
                arrivals_this_period: Some(counted),
                arrivals_to_date: Some(total),
                ..PeopleCounts::default()
            }
        } else {
            people_counts(&counts)
        };
        let payload = ArrivalsReported {
            period_from: timestamp(last_to.min(when)),
            period_to: timestamp(when),
            counts: people,
            estimated: night,
        };
        let mut thread = self.world.arrivals[index].thread.clone();
        let envelope = self.emit(
            &mut thread,
            (org, org.function(role)),
            when,
            None,
            false,
            payload.clone(),
        );
        let s = &mut self.world.arrivals[index];
        s.thread = thread;
        s.last_to = when;
        if self.chance(4) {
            let mut fixed = payload;
            fixed.counts.arrivals_this_period = fixed.counts.arrivals_this_period.map(|n| n + 3);
            fixed.counts.arrivals_to_date = fixed.counts.arrivals_to_date.map(|n| n + 3);
            self.correct_later(&envelope, fixed.into(), 30 * MINUTE, 4 * HOUR);
        }
        self.schedule_arrivals(at, series, false);
        envelope
    }

    /// Schedules the next arrivals report of a series: the first after `after`, or the
    /// one on the next reporting day.
    pub(super) fn schedule_arrivals(&mut self, after: i64, series: u32, first: bool) {
        let (night, offset) = {
            let s = &self.world.arrivals[series as usize];
            (
                s.night,
                if s.cluster.is_some() {
                    90 * MINUTE
                } else {
                    2 * HOUR
                },
            )
        };
        let day = self.clock.day_of(after);
        if night {
            // Counted late in the evening two days on, sent the following morning.
            let counted_day = day + 1;
            let occurred =
                self.clock.day_start(counted_day) + 16 * HOUR + self.between(0, 110 * MINUTE);
            let sent =
                self.clock.day_start(counted_day + 1) + self.between(30 * MINUTE, 90 * MINUTE);
            self.schedule(
                sent,
                Step::Periodic(PeriodicStep::Arrivals {
                    series,
                    occurred: Some(occurred),
                }),
            );
        } else {
            let jitter = self.between(0, 20 * MINUTE);
            let next = self.next_daily(after, offset + jitter, 1, first);
            self.schedule(
                next,
                Step::Periodic(PeriodicStep::Arrivals {
                    series,
                    occurred: None,
                }),
            );
        }
    }

    pub(super) fn report_situation(
        &mut self,
        at: i64,
        series: u32,
        version: ReportVersion,
    ) -> Envelope {
        let index = series as usize;
        let (org, role, cluster, confidence, every_days) = {
            let s = &self.world.reports[index];
            (s.org, s.role, s.cluster, s.confidence, s.every_days)
        };
        let fresh = matches!(version, ReportVersion::Initial | ReportVersion::Final);
        if fresh {
            self.world.reports[index].number += 1;
        }
        let number = self.world.reports[index].number.max(1);
        let period_from = self.world.reports[index].last_to.min(at);
        let counts = match (org, cluster) {
            (Org::Polisen, _) => PeopleCounts::default(),
            (_, Some(c)) => people_counts(&self.world.clusters[c as usize].counts),
            (_, None) => people_counts(&self.world.totals),
        };
        let intensity = self.intensity(self.clock.day_of(at));
        let severity = match intensity {
            120.. if self.chance(40) => Severity::Severe,
            95.. => Severity::Moderate,
            _ => Severity::Minor,
        };
        let summary = self.pick(phrases::SITREP_SUMMARIES);
        let payload = SituationReported {
            number,
            version,
            period_from: timestamp(period_from),
            period_to: timestamp(at),
            summary: text(summary),
            consequences: self
                .chance(30)
                .then(|| text(self.pick(phrases::SITREP_CONSEQUENCES))),
            actions_taken: self
                .chance(30)
                .then(|| text(self.pick(phrases::SITREP_ACTIONS))),
            needs: self
                .chance(25)
                .then(|| text(self.pick(phrases::SITREP_NEEDS))),
            outlook: self
                .chance(30)
                .then(|| text(self.pick(phrases::SITREP_OUTLOOK))),
            severity: Some(severity),
            confidence: Some(confidence),
            counts,
            next_report_at: (version != ReportVersion::Final)
                .then(|| timestamp(at + i64::from(every_days) * DAY)),
        };
        let causation = if fresh {
            None
        } else {
            self.world.reports[index].last_initial
        };
        let mut thread = self.world.reports[index].thread.clone();
        let envelope = self.emit(
            &mut thread,
            (org, org.function(role)),
            at,
            causation,
            true,
            payload.clone(),
        );
        let s = &mut self.world.reports[index];
        s.thread = thread;
        if fresh {
            s.last_to = at;
            s.last_initial = Some(envelope.id);
        }
        if version == ReportVersion::Initial {
            if self.chance(10) {
                // An update of the same number later in the day (now and then a
                // correction version instead).
                let version = if self.chance(20) {
                    ReportVersion::Correction
                } else {
                    ReportVersion::Update
                };
                let when = self.later(at, HOUR, 3 * HOUR);
                self.schedule(
                    when,
                    Step::Periodic(PeriodicStep::Report { series, version }),
                );
            } else if self.chance(2) {
                let mut fixed = payload;
                fixed.summary = text("Rättad lägesbild: siffrorna avsåg fel period.");
                self.correct_later(&envelope, fixed.into(), 30 * MINUTE, 3 * HOUR);
            }
            self.schedule_report(at, series, false);
        }
        envelope
    }

    /// Schedules the next initial report of a series: the first after `after`, or the
    /// one on the next reporting day.
    pub(super) fn schedule_report(&mut self, after: i64, series: u32, first: bool) {
        let (every_days, offset) = {
            let s = &self.world.reports[series as usize];
            (s.every_days, s.offset)
        };
        let jitter = self.between(0, 30 * MINUTE);
        let next = self.next_daily(after, offset + jitter, every_days, first);
        self.schedule(
            next,
            Step::Periodic(PeriodicStep::Report {
                series,
                version: ReportVersion::Initial,
            }),
        );
    }

    /// The time `offset` into a reporting day: the first such time after `after`, or,
    /// for a series that just reported, the one `every_days` days on.
    fn next_daily(&self, after: i64, offset: i64, every_days: u32, first: bool) -> i64 {
        let day = self.clock.day_of(after);
        if first {
            let today = self.clock.day_start(day) + offset;
            if today > after {
                today
            } else {
                self.clock.day_start(day + 1) + offset
            }
        } else {
            self.clock.day_start(day + every_days.max(1)) + offset
        }
    }

    fn report_service(&mut self, at: i64, series: u32) -> Envelope {
        let index = series as usize;
        let intensity = self.intensity(self.clock.day_of(at));
        let drift = self.count(0, 6);
        let extra = self.count(0, 4);
        let s = &mut self.world.services[index];
        // Use follows the crisis; capacity is added when it runs short.
        let target = s.available * intensity / 140;
        s.used = if s.used < target {
            (s.used + drift).min(s.available)
        } else {
            s.used.saturating_sub(drift)
        };
        if s.used * 10 >= s.available * 9 {
            s.available += extra + 2;
        }
        let payload = ServiceCapacityReported {
            service: s.service,
            available: s.available,
            used: s.used,
            language: s
                .language
                .map(|tag| LangTag::new(tag).expect("language tags in the bank are valid")),
        };
        let (org, role, every_days, offset) = (s.org, s.role, s.every_days, s.offset);
        let mut thread = s.thread.clone();
        let envelope = self.emit(
            &mut thread,
            (org, org.function(role)),
            at,
            None,
            false,
            payload,
        );
        self.world.services[index].thread = thread;
        let day = self.clock.day_of(at) + every_days.max(1);
        let next = self.clock.day_start(day) + offset + self.between(0, 40 * MINUTE);
        self.schedule(next, Step::Periodic(PeriodicStep::Service { series }));
        envelope
    }

    fn report_hospital(&mut self, at: i64) -> Envelope {
        let intensity = self.intensity(self.clock.day_of(at));
        let facility_status = if self.chance(3) {
            FacilityStatus::Critical
        } else if intensity >= 120 && self.chance(50) {
            FacilityStatus::Strained
        } else {
            FacilityStatus::Normal
        };
        let emergency_department = if facility_status == FacilityStatus::Critical && self.chance(50)
        {
            EmergencyDepartmentStatus::Diversion
        } else {
            EmergencyDepartmentStatus::Open
        };
        let mut beds_available = BTreeMap::new();
        for (bed, low, high) in [
            (BedType::General, 5, 60),
            (BedType::IntensiveCare, 0, 8),
            (BedType::Paediatric, 2, 20),
            (BedType::Psychiatric, 0, 12),
            (BedType::Maternity, 1, 10),
        ] {
            beds_available.insert(bed, self.count(low, high));
        }
        let payload = HospitalStatusReported {
            facility_status,
            emergency_department,
            beds_available,
        };
        let mut thread = match &self.world.hospital {
            Some(series) => series.thread.clone(),
            None => series_thread(
                AggregateType::Hospital,
                hospital_id(),
                AreaCode::new(super::MALMO).expect("a valid area"),
            ),
        };
        let envelope = self.emit(
            &mut thread,
            (Org::Region, Org::Region.function(Role::Health)),
            at,
            None,
            false,
            payload,
        );
        self.world.hospital = Some(HospitalSeries { thread });
        // Twice a day: 07:00 and 15:00 in the working window.
        let day = self.clock.day_of(at);
        let jitter = self.between(0, 20 * MINUTE);
        let next = if at < self.clock.day_start(day) + 5 * HOUR {
            self.clock.day_start(day) + 9 * HOUR + jitter
        } else {
            self.clock.day_start(day + 1) + HOUR + jitter
        };
        self.schedule(next, Step::Periodic(PeriodicStep::Hospital));
        envelope
    }

    fn run_meeting_series(&mut self, at: i64, cluster: Option<u32>) -> Option<Envelope> {
        // Scheduled the day before; held mid-morning.
        let day = self.clock.day_of(at) + 1;
        let starts_at =
            self.clock.day_start(day) + 3 * HOUR + if cluster.is_none() { HOUR } else { 0 };
        let next = at + 7 * DAY;
        self.schedule(next, Step::Periodic(PeriodicStep::Meetings { cluster }));
        let area = match cluster {
            Some(c) => self.world.clusters[c as usize].area.clone(),
            None => AreaCode::new(super::MALMO).expect("a valid area"),
        };
        if starts_at + 3 * HOUR >= self.closing_at {
            return None;
        }
        self.open_meeting(at, starts_at, cluster.is_none(), area)
    }
}

pub(super) fn hospital_id() -> AggregateId {
    AggregateId::new("sus-malmo").expect("a valid aggregate id")
}

fn people_counts(counts: &Counts) -> PeopleCounts {
    PeopleCounts {
        arrivals_this_period: Some(counts.arrivals_today),
        arrivals_to_date: Some(counts.arrivals_to_date),
        placed_to_date: Some(counts.placed_to_date),
        awaiting_placement: Some(counts.awaiting),
        unaccompanied_minors_to_date: Some(counts.minors_to_date),
        households_this_period: Some(counts.households_today),
    }
}
