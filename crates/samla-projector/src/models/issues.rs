//! STUB (lead): the models helper fills this in.

use proto_events::{Envelope, Payload};
use serde::{Deserialize, Serialize};

use super::{Common, Effect, Position};
use crate::table::{RowKey, Table};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRow {
    pub common: Common,
}

pub fn effect(
    _table: &mut Table<RowKey, IssueRow>,
    _key: &RowKey,
    _envelope: &Envelope,
    _payload: &Payload,
    _at: &Position,
    _effect: Effect,
) {
}
