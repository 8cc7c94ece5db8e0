//! The simulated world behind the events: reception clusters (one per unit of scale), their
//! people counts, sites and small pools of recent aggregates that later events refer to;
//! the daily population update; and the spawners that open new aggregates.

use std::collections::VecDeque;

use proto_events::vocab::{NeedCategory, SiteKind, SiteStatus};
use proto_events::{AggregateId, AggregateRef, AreaCode, EventId};

use super::periodic::{ArrivalsSeries, HospitalSeries, ReportSeries, ServiceSeries};
use super::{Crisis, Spawner, Spawns, Step, area};
use crate::clock::{HOUR, MINUTE, WORK_DAY};
use crate::orgs::Org;
use crate::text::DISTRICTS;

#[derive(Debug, Default)]
pub(crate) struct World {
    /// The incident's declaration: the root of the network's thread.
    pub(crate) incident_root: Option<EventId>,
    pub(crate) clusters: Vec<Cluster>,
    /// Counts over all clusters, for city-wide and regional reports.
    pub(crate) totals: Counts,
    pub(crate) arrivals: Vec<ArrivalsSeries>,
    pub(crate) reports: Vec<ReportSeries>,
    pub(crate) services: Vec<ServiceSeries>,
    pub(crate) hospital: Option<HospitalSeries>,
    /// Recent decisions, for issue resolutions to refer to.
    pub(crate) decisions: Ring<AggregateRef>,
    /// Recent network-visible exercise needs, for exercise resources: an exercise never
    /// touches an actual aggregate.
    pub(crate) exercise_needs: Ring<NeedRef>,
    /// Recent network-visible issues, for meeting agendas and decisions.
    pub(crate) issues: Ring<AggregateRef>,
}

/// One reception cluster: a district with its own sites and flows. Scale 1 has one.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub(crate) area: AreaCode,
    pub(crate) name: String,
    pub(crate) counts: Counts,
    pub(crate) sites: Vec<Site>,
    /// Recent network-visible, actual needs that resources may be committed against.
    pub(crate) needs: Ring<NeedRef>,
    /// Accepted housing offers that furniture may be committed against.
    pub(crate) offers: Ring<(AggregateId, EventId, Org)>,
}

/// People counts: arrivals and placements are flows per day, the rest to date.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub(crate) arrivals_today: u32,
    pub(crate) households_today: u32,
    pub(crate) arrivals_to_date: u32,
    pub(crate) placed_to_date: u32,
    pub(crate) awaiting: u32,
    pub(crate) minors_to_date: u32,
}

#[derive(Debug)]
pub(crate) struct Site {
    pub(crate) id: AggregateId,
    pub(crate) name: String,
    pub(crate) operator: Org,
    pub(crate) kind: SiteKind,
    pub(crate) capacity: u32,
    pub(crate) status: SiteStatus,
    pub(crate) occupied: u32,
    pub(crate) root: Option<EventId>,
    /// Whether its registration has been emitted (reports start after it).
    pub(crate) registered: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct NeedRef {
    pub(crate) id: AggregateId,
    pub(crate) raised: EventId,
    pub(crate) category: NeedCategory,
    pub(crate) raiser: Org,
}

/// A bounded queue of recent items; the oldest falls out.
#[derive(Debug)]
pub(crate) struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> Default for Ring<T> {
    fn default() -> Self {
        Ring::new(24)
    }
}

impl<T> Ring<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Ring {
            items: VecDeque::with_capacity(capacity),
            capacity,
        }
    }
    pub(crate) fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.items.get(index)
    }
}

impl Cluster {
    pub(crate) fn new(index: u32) -> Self {
        let count = DISTRICTS.len() as u32;
        let (code, name) = DISTRICTS[(index % count) as usize];
        let round = index / count;
        let (area_code, name) = if round == 0 {
            (code.to_string(), name.to_string())
        } else {
            let suffix = letters(round);
            (
                format!("{code}-{suffix}"),
                format!("{name} {}", suffix.to_uppercase()),
            )
        };
        Cluster {
            area: area(&area_code),
            name,
            counts: Counts::default(),
            sites: Vec::new(),
            needs: Ring::default(),
            offers: Ring::new(12),
        }
    }
}

/// A number written in letters (`a`, `b`, …, `z`, `ba`, …), for district suffixes.
fn letters(mut number: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'a' + (number % 26) as u8);
        number /= 26;
        if number == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Crisis {
    /// How busy day `day` is, in per cent of the plateau: arrivals build up over the first
    /// days, stay high for about a week and a half, then ease off.
    pub(super) fn intensity(&self, day: u32) -> u32 {
        let normalised = day * 21 / self.config.days.max(1);
        match normalised {
            0 => 60,
            1 => 80,
            2 => 100,
            3..=10 => 120,
            11..=15 => 95,
            _ => 65,
        }
    }

    /// The daily population update: arrivals over the last day, placements out of the
    /// sites, unaccompanied minors. Runs just before each day opens; emits nothing.
    pub(super) fn run_day_tick(&mut self, _at: i64, day: u32) {
        let intensity = self.intensity(day);
        let mut totals = Counts::default();
        for index in 0..self.world.clusters.len() {
            let spread = self.count(70, 130);
            let arrivals = 42 * intensity * spread / 10_000;
            let placed_share = self.count(18, 40);
            let minors_share = self.count(2, 6);
            let household_size = self.count(2, 4);
            let counts = &mut self.world.clusters[index].counts;
            let placed = counts.awaiting * placed_share / 100;
            counts.arrivals_today = arrivals;
            counts.households_today = arrivals.div_ceil(household_size);
            counts.arrivals_to_date += arrivals;
            counts.placed_to_date += placed;
            counts.awaiting = counts.awaiting + arrivals - placed;
            counts.minors_to_date += arrivals * minors_share / 100;
            totals.arrivals_today += counts.arrivals_today;
            totals.households_today += counts.households_today;
            totals.arrivals_to_date += counts.arrivals_to_date;
            totals.placed_to_date += counts.placed_to_date;
            totals.awaiting += counts.awaiting;
            totals.minors_to_date += counts.minors_to_date;
        }
        self.world.totals = totals;
        if day + 1 < self.config.days {
            let next = self.clock.day_start(day + 1) - 30 * MINUTE;
            self.schedule(next, Step::DayTick(day + 1));
        }
    }

    /// Starts the spawners of a cluster `delay` after the crisis start.
    pub(super) fn start_spawners(&mut self, cluster: u32, delay: i64) {
        for (what, offset) in [
            (Spawns::Need, 0),
            (Spawns::Resource, 90 * MINUTE),
            (Spawns::HousingOffer, 2 * HOUR),
            (Spawns::Issue, 2 * HOUR),
            (Spawns::InfoRequest, 3 * HOUR),
        ] {
            let jitter = self.between(0, 20 * MINUTE);
            let at = self.clock.start + delay + offset + jitter;
            self.schedule(at, Step::Spawn(Spawner { what, cluster }));
        }
    }

    /// Opens one new aggregate and schedules the spawner's next firing.
    pub(super) fn run_spawner(&mut self, at: i64, spawner: Spawner) -> Option<super::Envelope> {
        let intensity = i64::from(self.intensity(self.clock.day_of(at)));
        // Mean gap in working milliseconds; uniform 0..2·mean keeps the rate and stays
        // in integer arithmetic (bit-identical everywhere).
        let mean = WORK_DAY * 1000 * 100 / (spawner.what.rate_per_mille() * intensity).max(1);
        let next = self.later(at, 0, 2 * mean);
        self.schedule(next, Step::Spawn(spawner));
        match spawner.what {
            Spawns::Need => self.spawn_need(at, spawner.cluster),
            Spawns::Resource => self.spawn_resource(at, spawner.cluster),
            Spawns::HousingOffer => self.spawn_offer(at, spawner.cluster),
            Spawns::Issue => self.spawn_issue(at, spawner.cluster),
            Spawns::InfoRequest => self.spawn_info(at, spawner.cluster),
        }
    }

    /// The area of a new aggregate in a cluster: mostly its district, sometimes the whole
    /// municipality.
    pub(super) fn cluster_area(&mut self, cluster: u32) -> AreaCode {
        if self.chance(25) {
            area(super::MALMO)
        } else {
            self.world.clusters[cluster as usize].area.clone()
        }
    }

    /// A recent need of the cluster in one of the given categories, if there is one
    /// (for an exercise, a recent exercise need of any cluster).
    pub(super) fn pooled_need(
        &mut self,
        cluster: u32,
        wanted: &[NeedCategory],
        exercise: bool,
    ) -> Option<NeedRef> {
        let pool = if exercise {
            &self.world.exercise_needs
        } else {
            &self.world.clusters[cluster as usize].needs
        };
        let matching: Vec<usize> = (0..pool.len())
            .filter(|&i| {
                pool.get(i)
                    .is_some_and(|need| wanted.contains(&need.category))
            })
            .collect();
        if matching.is_empty() {
            return None;
        }
        let index = matching[self.rng_index(matching.len())];
        let pool = if exercise {
            &self.world.exercise_needs
        } else {
            &self.world.clusters[cluster as usize].needs
        };
        pool.get(index).cloned()
    }

    pub(super) fn rng_index(&mut self, len: usize) -> usize {
        use rand::Rng;
        self.rng.random_range(0..len.max(1))
    }
}
