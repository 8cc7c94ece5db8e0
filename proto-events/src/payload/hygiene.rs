//! Corrections and retractions: the log is never edited; a later event supersedes an
//! earlier one, and every read model honours it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::envelope::TaggedPayload;
use crate::ids::{EventId, Text};
use crate::vocab::RetractionReason;

/// An earlier event was corrected: `replacement` is the payload it should have had (the
/// same kind). Emitted by the original emitter, on the same aggregate. CAP Update with
/// references; EDXL-RM `MessageRecall`. Aggregate: that of the superseded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventCorrected {
    pub supersedes: EventId,
    pub replacement: TaggedPayload,
    pub reason: Text,
}

/// An earlier event was retracted: it should never have been emitted. Emitted by the
/// original emitter, on the same aggregate. CAP Cancel. Aggregate: that of the
/// superseded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRetracted {
    pub supersedes: EventId,
    pub reason: RetractionReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}
