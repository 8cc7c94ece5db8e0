//! What a fold sees: an event as recorded in the log, and the event it supersedes.

use proto_events::{Envelope, EventSubject, Timestamp};

/// One decoded, valid event at its place in the log.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    /// The stream sequence: the global order.
    pub seq: u64,
    /// When the log stored it (knowledge time).
    pub recorded_at: Timestamp,
    pub subject: &'a EventSubject,
    pub envelope: &'a Envelope,
    /// For a correction or retraction: the event it supersedes, with the payload in force
    /// before this event (the latest correction's replacement, if it was corrected before).
    pub superseded: Option<&'a Superseded>,
}

/// The event a correction or retraction points at, as it stood before.
#[derive(Debug, Clone, PartialEq)]
pub struct Superseded {
    pub seq: u64,
    pub recorded_at: Timestamp,
    /// The superseded event, its payload replaced by the one in force.
    pub envelope: Envelope,
}
