//! Validation beyond the types: cross-field rules, aggregate consistency, and the
//! personal-data guard over every free text and identifier. Errors name the field (as a
//! path such as `payload.occupied`) and the reason.
//!
//! Decoding already enforces what types can: token syntax, text lengths, non-negative
//! counts, timestamps with a zone, no unknown fields (so `supersedes` exists only on
//! corrections and retractions). This module checks the rest, and is also run by the
//! projector on events already in the log (an event that slipped past an older guard is
//! quarantined, not folded).
//!
//! Layout: this file has the rules and the guard; `validate/strings.rs` the quick scan of a
//! payload's strings that lets a clean payload skip the JSON walk; tests in
//! `validate/tests.rs`.

use serde::Serialize;

use crate::catalogue::Payload;
use crate::envelope::{Audience, Envelope};
use crate::guard::{PersonalDataKind, find_personal_data};
use crate::time::Timestamp;

mod strings;
#[cfg(test)]
mod tests;

use strings::{Scan, scan_strings};

/// Most organisations an audience may list.
pub const MAX_AUDIENCE_ORGS: usize = 64;

/// Why an event is refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// The path of the field at fault, e.g. `payload.summary`.
    pub field: String,
    /// A stable code: `personal_data`, `out_of_range`, `inconsistent`, `invalid`.
    pub code: &'static str,
    pub reason: String,
    /// What the personal-data guard found, when that is the reason.
    pub personal_data: Option<PersonalDataKind>,
}

impl ValidationError {
    fn new(field: impl Into<String>, code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            reason: reason.into(),
            personal_data: None,
        }
    }
}

/// Checks one string with the personal-data guard.
pub fn guard_text(field: &str, text: &str) -> Result<(), ValidationError> {
    match find_personal_data(text) {
        None => Ok(()),
        Some(finding) => Err(ValidationError {
            field: field.to_string(),
            code: "personal_data",
            reason: format!(
                "{} at characters {}..{}; personal data about people must stay in your own systems, so the shared log refuses it",
                finding.kind.describe(),
                text[..finding.start].chars().count(),
                text[..finding.end].chars().count()
            ),
            personal_data: Some(finding.kind),
        }),
    }
}

impl Envelope {
    /// Every rule that does not need a clock. Returns the first error.
    pub fn validate(&self) -> Result<(), ValidationError> {
        // Identifiers become subjects and are seen by every organisation: guard them too.
        guard_text("incident", self.incident.as_str())?;
        guard_text("org", self.org.as_str())?;
        guard_text("aggregate.id", self.aggregate.id.as_str())?;
        guard_text("area", self.area.as_str())?;
        guard_text("function", self.function.as_str())?;
        if self.function.as_str().trim().is_empty() {
            return Err(ValidationError::new(
                "function",
                "invalid",
                "must name the emitter's role, e.g. \"duty officer, social services\"",
            ));
        }
        let kind = self.kind();
        if let Some(expected) = kind.aggregate_type()
            && self.aggregate.kind != expected
        {
            return Err(ValidationError::new(
                "aggregate.type",
                "inconsistent",
                format!(
                    "{kind} concerns a {expected} aggregate, not a {}",
                    self.aggregate.kind
                ),
            ));
        }
        check_year("occurred_at", self.occurred_at)?;
        if let Audience::Orgs(orgs) = &self.audience {
            if orgs.is_empty() {
                return Err(ValidationError::new(
                    "audience.orgs",
                    "invalid",
                    "lists no organisation; use \"network\" to address the whole network",
                ));
            }
            if orgs.len() > MAX_AUDIENCE_ORGS {
                return Err(ValidationError::new(
                    "audience.orgs",
                    "out_of_range",
                    format!(
                        "lists {} organisations; at most {MAX_AUDIENCE_ORGS}",
                        orgs.len()
                    ),
                ));
            }
        }
        check_payload_rules(&self.payload, "payload")?;
        guard_payload(&self.payload)
    }

    /// [`Envelope::validate`] plus the rules that need the clock: an event cannot have
    /// occurred more than `max_future_seconds` after `now`.
    pub fn validate_at(
        &self,
        now: Timestamp,
        max_future_seconds: i64,
    ) -> Result<(), ValidationError> {
        self.validate()?;
        if self.occurred_at > now.plus_seconds(max_future_seconds) {
            return Err(ValidationError::new(
                "occurred_at",
                "out_of_range",
                format!("{} is in the future (now is {now})", self.occurred_at),
            ));
        }
        Ok(())
    }
}

fn check_year(field: &str, time: Timestamp) -> Result<(), ValidationError> {
    let year = time.year();
    if !(2000..=2199).contains(&year) {
        return Err(ValidationError::new(
            field,
            "out_of_range",
            format!("year {year} is outside 2000-2199"),
        ));
    }
    Ok(())
}

fn check_order(
    prefix: &str,
    from_name: &str,
    from: Timestamp,
    to_name: &str,
    to: Option<Timestamp>,
) -> Result<(), ValidationError> {
    match to {
        Some(to) if to < from => Err(ValidationError::new(
            format!("{prefix}.{to_name}"),
            "inconsistent",
            format!("{to} is before {from_name} {from}"),
        )),
        _ => Ok(()),
    }
}

fn positive(field: String, value: u32) -> Result<(), ValidationError> {
    if value == 0 {
        return Err(ValidationError::new(
            field,
            "out_of_range",
            "must be at least 1",
        ));
    }
    Ok(())
}

fn check_payload_rules(payload: &Payload, p: &str) -> Result<(), ValidationError> {
    match payload {
        Payload::IncidentDeclared(x) if x.areas.is_empty() => Err(ValidationError::new(
            format!("{p}.areas"),
            "invalid",
            "must list at least one area",
        )),
        Payload::CapacityDeclared(x) => match x.night_only_beds {
            Some(night) if night > x.beds => Err(ValidationError::new(
                format!("{p}.night_only_beds"),
                "inconsistent",
                format!(
                    "{night} night-only beds exceed the {} beds declared",
                    x.beds
                ),
            )),
            _ => Ok(()),
        },
        Payload::OccupancyReported(x) => match x.capacity {
            Some(capacity)
                if u64::from(x.occupied) + u64::from(x.reserved) > u64::from(capacity) =>
            {
                Err(ValidationError::new(
                    format!("{p}.occupied"),
                    "inconsistent",
                    format!(
                        "occupied {} + reserved {} exceed the capacity {capacity} reported in the same event",
                        x.occupied, x.reserved
                    ),
                ))
            }
            _ => Ok(()),
        },
        Payload::HousingOffered(x) => {
            positive(format!("{p}.beds"), x.beds)?;
            check_order(
                p,
                "available_from",
                x.available_from,
                "available_until",
                x.available_until,
            )
        }
        Payload::OfferAnswered(_) => Ok(()),
        Payload::NeedRaised(x) => positive(format!("{p}.quantity"), x.quantity),
        Payload::NeedMet(x) => positive(format!("{p}.quantity"), x.quantity),
        Payload::ResourceOffered(x) => {
            positive(format!("{p}.quantity"), x.quantity)?;
            match x.available_from {
                Some(from) => check_order(
                    p,
                    "available_from",
                    from,
                    "available_until",
                    x.available_until,
                ),
                None => Ok(()),
            }
        }
        Payload::ResourceCommitted(x) => {
            positive(format!("{p}.quantity"), x.quantity)?;
            if x.need.is_none() && x.offer.is_none() {
                return Err(ValidationError::new(
                    format!("{p}.need"),
                    "invalid",
                    "a commitment names the need or the offer it goes to",
                ));
            }
            Ok(())
        }
        Payload::IssueEscalated(x) if !(1..=3).contains(&x.level) => Err(ValidationError::new(
            format!("{p}.level"),
            "out_of_range",
            format!("level {} is outside 1-3", x.level),
        )),
        Payload::SituationReported(x) => check_order(
            p,
            "period_from",
            x.period_from,
            "period_to",
            Some(x.period_to),
        ),
        Payload::ArrivalsReported(x) => check_order(
            p,
            "period_from",
            x.period_from,
            "period_to",
            Some(x.period_to),
        ),
        Payload::AlertIssued(x) if x.areas.is_empty() => Err(ValidationError::new(
            format!("{p}.areas"),
            "invalid",
            "must list at least one area",
        )),
        Payload::InformationRequested(x) if x.questions.is_empty() => Err(ValidationError::new(
            format!("{p}.questions"),
            "invalid",
            "must ask at least one question",
        )),
        Payload::EventCorrected(x) => {
            let replacement = &*x.replacement.0;
            if replacement.kind().is_hygiene() {
                return Err(ValidationError::new(
                    format!("{p}.replacement.kind"),
                    "invalid",
                    "a correction replaces the payload of an ordinary event, not of another correction or retraction",
                ));
            }
            check_payload_rules(replacement, &format!("{p}.replacement.payload"))
        }
        _ => Ok(()),
    }
}

/// Runs the guard over every string in the payload, naming the field by its path.
///
/// Almost every payload is clean, so a scan that builds nothing answers first (see
/// `validate/strings.rs`); only when it finds personal data, or cannot be sure, does the
/// walk over the payload's JSON value run. The walk alone shapes the error, so the field,
/// the reason and which of several fields is named are what they always were.
fn guard_payload(payload: &Payload) -> Result<(), ValidationError> {
    match scan_strings(payload) {
        Scan::Clean => Ok(()),
        Scan::PersonalData | Scan::Unsure => guard_json_walk(payload),
    }
}

/// The guard by way of `serde_json::to_value`: every string value of the JSON object, in
/// its (sorted) key order, named by its path (`payload.questions[1]`). Map keys are not
/// checked.
fn guard_json_walk<T: Serialize + ?Sized>(payload: &T) -> Result<(), ValidationError> {
    let value = serde_json::to_value(payload).map_err(|error| {
        ValidationError::new("payload", "invalid", format!("cannot be checked: {error}"))
    })?;
    let mut path = String::from("payload");
    guard_value(&value, &mut path)
}

fn guard_value(value: &serde_json::Value, path: &mut String) -> Result<(), ValidationError> {
    match value {
        serde_json::Value::String(text) => guard_text(path, text),
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                guard_value(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        serde_json::Value::Object(fields) => {
            for (name, item) in fields {
                let len = path.len();
                path.push('.');
                path.push_str(name);
                guard_value(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
