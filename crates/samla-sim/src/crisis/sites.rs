//! Sites: registration, declared capacity, occupancy twice a day (the evening figures
//! now and then sent late, the next morning), and status following the figures (full,
//! open again, closed). Each site is one aggregate, reported on by its operator.

use std::collections::BTreeSet;

use proto_events::payload::{
    CapacityDeclared, OccupancyReported, SiteRegistered, SiteStatusChanged,
};
use proto_events::vocab::{AggregateType, RetractionReason, SiteKind, SiteStatus};
use proto_events::{Envelope, EventId};

use super::periodic::PeriodicStep;
use super::{Crisis, Step, label, series_thread, text};
use crate::clock::{DAY, HOUR, MINUTE};
use crate::orgs::{Org, Role};

impl Crisis {
    /// Emits on a site's thread (taken out and put back, so the world is not borrowed).
    fn site_event(
        &mut self,
        cluster: u32,
        site: u32,
        at: i64,
        causation: Option<EventId>,
        with_lang: bool,
        payload: impl Into<proto_events::Payload>,
    ) -> Envelope {
        let (c, s) = (cluster as usize, site as usize);
        let record = &self.world.clusters[c].sites[s];
        let operator = record.operator;
        let mut thread = series_thread(
            AggregateType::Site,
            record.id.clone(),
            self.world.clusters[c].area.clone(),
        );
        thread.root = record.root;
        let role = if operator == Org::Kyrkan {
            Role::Coordination
        } else {
            Role::Housing
        };
        let envelope = self.emit(
            &mut thread,
            (operator, operator.function(role)),
            at,
            causation,
            with_lang,
            payload,
        );
        self.world.clusters[c].sites[s].root = thread.root;
        envelope
    }

    pub(super) fn register_site(&mut self, at: i64, cluster: u32, site: u32) -> Envelope {
        let record = &self.world.clusters[cluster as usize].sites[site as usize];
        let (kind, name) = (record.kind, record.name.clone());
        let all = [
            "mat",
            "hälsoundersökning",
            "barnhörna",
            "tolk på plats",
            "tvätt",
            "informationsdisk",
        ];
        let mut services = BTreeSet::new();
        for service in all {
            if self.chance(50) {
                services.insert(label(service));
            }
        }
        let accessible = kind != SiteKind::Evacuation || self.chance(30);
        let payload = SiteRegistered {
            name: label(&name),
            site_kind: kind,
            services,
            accessible,
        };
        let envelope = self.site_event(cluster, site, at, None, true, payload);
        self.world.clusters[cluster as usize].sites[site as usize].registered = true;
        let next = at + self.between(2 * MINUTE, 10 * MINUTE);
        self.schedule(
            next,
            Step::Periodic(PeriodicStep::SiteCapacity { cluster, site }),
        );
        let open = next + self.between(2 * MINUTE, 10 * MINUTE);
        self.schedule(
            open,
            Step::Periodic(PeriodicStep::SiteStatus {
                cluster,
                site,
                status: SiteStatus::Open,
            }),
        );
        let first = self.occupancy_slot(open, false);
        self.schedule(
            first,
            Step::Periodic(PeriodicStep::Occupancy {
                cluster,
                site,
                evening: false,
                occurred: None,
            }),
        );
        envelope
    }

    pub(super) fn declare_capacity(&mut self, at: i64, cluster: u32, site: u32) -> Envelope {
        let record = &self.world.clusters[cluster as usize].sites[site as usize];
        let kind = record.kind;
        let night_only = (kind == SiteKind::Evacuation).then_some(record.capacity / 3);
        let payload = CapacityDeclared {
            beds: record.capacity,
            night_only_beds: night_only,
        };
        let envelope = self.site_event(cluster, site, at, None, false, payload.clone());
        if self.chance(5) {
            let mut fixed = payload;
            fixed.beds += 10;
            fixed.night_only_beds = fixed.night_only_beds.map(|beds| beds.min(fixed.beds));
            self.world.clusters[cluster as usize].sites[site as usize].capacity = fixed.beds;
            self.correct_later(&envelope, fixed.into(), 20 * MINUTE, 3 * HOUR);
        }
        envelope
    }

    pub(super) fn change_site_status(
        &mut self,
        at: i64,
        cluster: u32,
        site: u32,
        status: SiteStatus,
    ) -> Option<Envelope> {
        let record = &mut self.world.clusters[cluster as usize].sites[site as usize];
        if record.status == status {
            return None;
        }
        record.status = status;
        let reason = match status {
            SiteStatus::Full => Some(text("Alla platser är belagda.")),
            SiteStatus::Open => Some(text("Platser har frigjorts efter placeringar.")),
            SiteStatus::Closed => Some(text("Lokalen återgår till ordinarie verksamhet.")),
            SiteStatus::Evacuating => None,
        };
        Some(self.site_event(
            cluster,
            site,
            at,
            None,
            true,
            SiteStatusChanged {
                site_status: status,
                reason,
            },
        ))
    }

    /// The next morning (07:00–07:40) or evening (19:30–20:30) occupancy slot after `at`.
    fn occupancy_slot(&mut self, at: i64, evening: bool) -> i64 {
        let day = self.clock.day_of(at);
        let offset = if evening {
            13 * HOUR + 30 * MINUTE + self.between(0, HOUR)
        } else {
            HOUR + self.between(0, 40 * MINUTE)
        };
        let mut slot = self.clock.day_start(day) + offset;
        if slot <= at {
            slot += DAY;
        }
        slot
    }

    pub(super) fn report_occupancy(
        &mut self,
        at: i64,
        cluster: u32,
        site: u32,
        evening: bool,
        occurred: Option<i64>,
    ) -> Option<Envelope> {
        if self.world.clusters[cluster as usize].sites[site as usize].status == SiteStatus::Closed {
            // A closed site stops reporting.
            return None;
        }
        // Schedule the next report first: evening after morning, morning after evening.
        let next = self.occupancy_slot(at, !evening);
        if !evening && self.chance(3) {
            // This evening's figures will come in the next morning, late.
            let morning = self.clock.day_start(self.clock.day_of(next) + 1)
                + self.between(5 * MINUTE, 30 * MINUTE);
            self.schedule(
                morning,
                Step::Periodic(PeriodicStep::Occupancy {
                    cluster,
                    site,
                    evening: true,
                    occurred: Some(next),
                }),
            );
        } else {
            self.schedule(
                next,
                Step::Periodic(PeriodicStep::Occupancy {
                    cluster,
                    site,
                    evening: !evening,
                    occurred: None,
                }),
            );
        }
        let c = cluster as usize;
        let open_capacity: u32 = self.world.clusters[c]
            .sites
            .iter()
            .filter(|s| s.registered && s.status != SiteStatus::Closed)
            .map(|s| s.capacity)
            .sum();
        let record = &self.world.clusters[c].sites[site as usize];
        let (capacity, status) = (record.capacity, record.status);
        let awaiting = self.world.clusters[c].counts.awaiting;
        let spread = self.count(85, 105);
        let share = u64::from(awaiting) * u64::from(capacity) / u64::from(open_capacity.max(1));
        let occupied = u32::try_from(share * u64::from(spread) / 100)
            .unwrap_or(u32::MAX)
            .min(capacity);
        let reserved = self.count(0, 6.min(capacity - occupied));
        self.world.clusters[c].sites[site as usize].occupied = occupied;
        let payload = OccupancyReported {
            occupied,
            reserved,
            capacity: self.chance(70).then_some(capacity),
        };
        let when = occurred.unwrap_or(at);
        let envelope = self.site_event(cluster, site, when, None, false, payload.clone());
        if self.chance(2) {
            let mut fixed = payload;
            fixed.occupied = fixed.occupied.saturating_sub(self.count(1, 5));
            self.correct_later(&envelope, fixed.into(), 15 * MINUTE, 3 * HOUR);
        } else if self.chance(1) {
            self.retract_later(
                &envelope,
                RetractionReason::EnteredInError,
                10 * MINUTE,
                2 * HOUR,
            );
        }
        // Status follows the figures; a full site is expanded now and then.
        let load = occupied + reserved;
        if status == SiteStatus::Open && load * 100 >= capacity * 97 {
            let when = at + self.between(5 * MINUTE, 30 * MINUTE);
            self.schedule(
                when,
                Step::Periodic(PeriodicStep::SiteStatus {
                    cluster,
                    site,
                    status: SiteStatus::Full,
                }),
            );
            if self.chance(35) {
                let grow = self.count(20, 60);
                self.world.clusters[c].sites[site as usize].capacity += grow;
                let when = self.later(at, 2 * HOUR, 8 * HOUR);
                self.schedule(
                    when,
                    Step::Periodic(PeriodicStep::SiteCapacity { cluster, site }),
                );
            }
        } else if status == SiteStatus::Full && load * 100 < capacity * 90 {
            let when = at + self.between(5 * MINUTE, 30 * MINUTE);
            self.schedule(
                when,
                Step::Periodic(PeriodicStep::SiteStatus {
                    cluster,
                    site,
                    status: SiteStatus::Open,
                }),
            );
        }
        Some(envelope)
    }
}
