//! The ingest path without the log, for the cargo-fuzz target in `crates/samla-api/fuzz/`:
//! [`admit_request`] frames a request's bytes as one door does, decodes every item with
//! the contract's codec and runs the checks both doors share ([`protocol::admit`]). It is
//! hidden from the docs and is not an API: nothing but the fuzz target calls it.

use proto_events::{IncidentId, OrgId, Timestamp};
use samla_log::AppendItem;

use super::msgpack::frame_msgpack;
use super::protocol::{self, Caller, Decoded, ItemError, admit, codes};
use super::{IngestConfig, ItemReply};
use crate::error::ApiError;

/// Which door's framing [`admit_request`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// `POST /v1/events`: JSON; the organisation comes from the token.
    Http,
    /// A request on `samla.ingest.<incident>.<org>`: MessagePack; the organisation and the
    /// incident come from the subject.
    Nats,
}

/// What the doors make of `body` sent by `org` (and, on the NATS door, for `incident`),
/// checked at `now` with the default [`IngestConfig`]: for each item, what would be
/// appended to the log (on `samla.evt`) or why it is refused. `Err` is a refusal of the
/// whole request (no items, too many). Rate limits and the body-size cap are not applied:
/// they do not look at the bytes.
pub fn admit_request(
    door: Door,
    body: &[u8],
    org: &OrgId,
    incident: &IncidentId,
    now: Timestamp,
) -> Result<Vec<Result<AppendItem, ItemError>>, ApiError> {
    let config = IngestConfig::default();
    let (items, caller) = match door {
        Door::Http => (
            protocol::frame_json(body, config.max_items_per_request)?,
            Caller {
                org: org.clone(),
                incident: None,
            },
        ),
        Door::Nats => (
            frame_msgpack(body, config.max_items_per_request)?,
            Caller {
                org: org.clone(),
                incident: Some(incident.clone()),
            },
        ),
    };
    Ok(items
        .into_iter()
        .map(|item| match item {
            Decoded::Ready {
                envelope,
                expected_seq,
            } => admit(
                &caller,
                &envelope,
                expected_seq,
                now,
                config.max_future_seconds,
                samla_log::DEFAULT_SUBJECT_PREFIX,
            ),
            Decoded::Refused(ItemReply::Refused { error, .. }) => Err(error),
            Decoded::Refused(ItemReply::Stored { .. }) => Err(ItemError::new(
                codes::INTERNAL,
                "",
                "framing answered an item as stored",
            )),
        })
        .collect())
}
