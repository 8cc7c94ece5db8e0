//! Simulated time: milliseconds since the Unix epoch, days counted from the crisis start,
//! and a working clock that skips the night.
//!
//! Each day's working window opens at the start's time of day and lasts eleven hours.
//! Delays in a lifecycle ("claimed two to eight working hours after it was raised") are
//! measured on the working clock, so most events fall inside working hours; night-time
//! events (evening occupancy, the police's night report) are placed on the wall clock.

use proto_events::Timestamp;

pub(crate) const MINUTE: i64 = 60_000;
pub(crate) const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;
/// The length of a working day.
pub(crate) const WORK_DAY: i64 = 11 * HOUR;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub(crate) start: i64,
}

impl Clock {
    pub(crate) fn new(start: Timestamp) -> Self {
        let millis = start.as_unix_nanos() / 1_000_000;
        Clock {
            start: i64::try_from(millis).unwrap_or(0),
        }
    }

    /// The wall time at which day `day` opens.
    pub(crate) fn day_start(&self, day: u32) -> i64 {
        self.start + i64::from(day) * DAY
    }

    /// The day (from zero) a wall time falls on; times before the start count as day 0.
    pub(crate) fn day_of(&self, wall: i64) -> u32 {
        u32::try_from((wall - self.start).max(0) / DAY).unwrap_or(u32::MAX)
    }

    /// Working milliseconds from the start up to `wall`; night time counts as the end of
    /// that day's window.
    fn work_of(&self, wall: i64) -> i64 {
        let since = (wall - self.start).max(0);
        let day = since / DAY;
        day * WORK_DAY + (since % DAY).min(WORK_DAY)
    }

    fn wall_of(&self, work: i64) -> i64 {
        self.start + (work / WORK_DAY) * DAY + work % WORK_DAY
    }

    /// `wall` moved on by `delay` working milliseconds: a delay that runs past the end of
    /// the window continues the next morning.
    pub(crate) fn after_work(&self, wall: i64, delay: i64) -> i64 {
        let moved = self.wall_of(self.work_of(wall) + delay.max(0));
        moved.max(wall)
    }
}

/// Milliseconds rounded down to the whole second: reported times carry no fraction, as
/// people and most tools report them (and the encoding is a little shorter).
pub(crate) fn whole_second(millis: i64) -> i64 {
    millis - millis.rem_euclid(1000)
}

/// A timestamp from milliseconds since the Unix epoch, in whole seconds.
pub(crate) fn timestamp(millis: i64) -> Timestamp {
    Timestamp::from_unix_nanos(i128::from(whole_second(millis)) * 1_000_000)
        .expect("simulated times stay within the supported range")
}
