//! Who may see what. Every event belongs to one audience slice: the network (every
//! organisation that joined the incident) or a restricted slice (the listed organisations
//! plus the emitter, who always sees its own). Read models keep aggregates per slice; a
//! viewer's picture merges the slices it may see — counters add up, gauges take the latest
//! by sequence — so no figure can leak a restricted event.

use std::collections::BTreeSet;
use std::fmt;

use proto_events::{Audience, Envelope, OrgId};
use sha2::{Digest, Sha256};

/// An audience slice: `net`, or `r-<16 hex>` named by a hash of its members.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SliceId(String);

impl SliceId {
    pub fn network() -> Self {
        SliceId("net".to_string())
    }

    /// The slice of a restricted audience: its members are the listed organisations and
    /// the emitter.
    pub fn restricted(members: &BTreeSet<OrgId>) -> Self {
        let mut hasher = Sha256::new();
        for member in members {
            hasher.update(member.as_str().as_bytes());
            hasher.update(b",");
        }
        let digest = hasher.finalize();
        SliceId(format!("r-{}", hex::encode(&digest[..8])))
    }

    pub fn is_network(&self) -> bool {
        self.0 == "net"
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses a slice id read back from a key.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = text == "net"
            || (text.len() == 18
                && text.starts_with("r-")
                && text[2..].chars().all(|c| c.is_ascii_hexdigit()));
        valid.then(|| SliceId(text.to_string()))
    }
}

impl fmt::Display for SliceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The slice an event belongs to, and for a restricted one its members.
pub fn slice_of(envelope: &Envelope) -> (SliceId, Option<BTreeSet<OrgId>>) {
    match &envelope.audience {
        Audience::Network => (SliceId::network(), None),
        Audience::Orgs(orgs) => {
            let mut members = orgs.clone();
            members.insert(envelope.org.clone());
            (SliceId::restricted(&members), Some(members))
        }
    }
}

/// Who is looking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// An organisation: the network slice (when it is a member of the incident's network)
    /// and the restricted slices it belongs to.
    Org(OrgId),
    /// A read-only share token (wall screens, views beyond the network): the network
    /// slice only, with small counts of people suppressed.
    Share,
    /// The operator: every slice (for quarantine, digest and diagnosis).
    Operator,
}

impl Viewer {
    /// Whether this viewer may see `slice`, given its members (`None` for the network
    /// slice) and whether the viewer is a member of the incident's network.
    pub fn sees(
        &self,
        slice: &SliceId,
        members: Option<&BTreeSet<OrgId>>,
        network_member: bool,
    ) -> bool {
        match self {
            Viewer::Operator => true,
            Viewer::Share => slice.is_network(),
            Viewer::Org(org) => {
                if slice.is_network() {
                    network_member
                } else {
                    members.is_some_and(|m| m.contains(org))
                }
            }
        }
    }

    /// Whether figures of people shown to this viewer must suppress small counts.
    pub fn suppresses_small_counts(&self) -> bool {
        matches!(self, Viewer::Share)
    }
}
