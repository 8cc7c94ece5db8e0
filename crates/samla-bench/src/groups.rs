//! Groups of figures, so one run can measure a part (`--only ingest,live`, `--skip
//! rebuild`). A group that cannot run without another pulls it in (the reads and the
//! rebuild read the log the raw publish leaves); a group whose ratios need a baseline
//! pulls that in too, unless it is skipped explicitly.

use std::collections::BTreeSet;
use std::fmt;

use crate::error::BenchError;

/// One group of figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Raw pipelined publish with `Nats-Msg-Id` (default sync).
    Publish,
    /// Raw durable publishes (`sync_interval: always`): pipelined and atomic batches.
    Durable,
    /// Raw ordered read and the naive loop.
    Read,
    /// The projector process' rebuild, its memory and disk, and the rebuild taken apart.
    Rebuild,
    /// As-of queries (as known, as happened) on the log the rebuild reads.
    AsOf,
    /// Ingest through the gateway's NATS and HTTP doors (default sync).
    Ingest,
    /// Durable ingest through group commit (`sync_interval: always`).
    GroupCommit,
    /// Live latency from ingest request to live-stream client.
    Live,
}

impl Group {
    pub const ALL: [Group; 8] = [
        Group::Publish,
        Group::Durable,
        Group::Read,
        Group::Rebuild,
        Group::AsOf,
        Group::Ingest,
        Group::GroupCommit,
        Group::Live,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Group::Publish => "publish",
            Group::Durable => "durable",
            Group::Read => "read",
            Group::Rebuild => "rebuild",
            Group::AsOf => "as-of",
            Group::Ingest => "ingest",
            Group::GroupCommit => "group-commit",
            Group::Live => "live",
        }
    }

    /// One line for `--help` and the table.
    pub fn describe(self) -> &'static str {
        match self {
            Group::Publish => "raw JetStream publish with Nats-Msg-Id (default sync)",
            Group::Durable => "raw publishes with sync_interval: always",
            Group::Read => "raw ordered read and the naive loop (needs publish)",
            Group::Rebuild => {
                "the projector process' rebuild, memory, disk and stages (needs publish)"
            }
            Group::AsOf => {
                "as-of queries (as known, as happened) at random moments (needs publish)"
            }
            Group::Ingest => "ingest through the gateway's NATS and HTTP doors (default sync)",
            Group::GroupCommit => "durable ingest through group commit (sync_interval: always)",
            Group::Live => {
                "latency from an ingest request to a live-stream client at a steady rate"
            }
        }
    }

    pub fn parse(text: &str) -> Result<Group, BenchError> {
        Group::ALL
            .into_iter()
            .find(|group| group.name() == text.trim())
            .ok_or_else(|| {
                BenchError::InvalidOptions(format!(
                    "no group {text:?}; the groups are {}",
                    Group::ALL.map(Group::name).join(", ")
                ))
            })
    }

    /// Groups this one cannot run without.
    pub fn requires(self) -> &'static [Group] {
        match self {
            Group::Read | Group::Rebuild | Group::AsOf => &[Group::Publish],
            _ => &[],
        }
    }

    /// Baselines this group's ratios are taken against.
    fn compared_with(self) -> &'static [Group] {
        match self {
            Group::Rebuild => &[Group::Read],
            Group::Ingest => &[Group::Publish],
            Group::GroupCommit => &[Group::Durable],
            _ => &[],
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a comma-separated list of group names.
pub fn parse_list(text: &str) -> Result<Vec<Group>, BenchError> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(Group::parse)
        .collect()
}

/// The groups to run: `only` (every group when `None`) without `skip`, plus what they
/// require and the baselines of their ratios (unless skipped). Returns the groups and a
/// note per group pulled in.
pub fn select(
    only: Option<&[Group]>,
    skip: &[Group],
) -> Result<(BTreeSet<Group>, Vec<String>), BenchError> {
    let mut chosen: BTreeSet<Group> = match only {
        Some(only) => only.iter().copied().collect(),
        None => Group::ALL.into_iter().collect(),
    };
    chosen.retain(|group| !skip.contains(group));
    let mut notes = Vec::new();
    for group in chosen.clone() {
        for needed in group.requires() {
            if skip.contains(needed) {
                return Err(BenchError::InvalidOptions(format!(
                    "{group} needs {needed}, which is skipped"
                )));
            }
            if chosen.insert(*needed) {
                notes.push(format!("also running {needed}: {group} needs it"));
            }
        }
        for baseline in group.compared_with() {
            if !skip.contains(baseline) && chosen.insert(*baseline) {
                notes.push(format!(
                    "also running {baseline}: the baseline of {group}'s ratios"
                ));
            }
        }
    }
    if chosen.is_empty() {
        return Err(BenchError::InvalidOptions(
            "no group left to run".to_owned(),
        ));
    }
    Ok((chosen, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_pulls_in_what_is_needed() {
        let (all, notes) = select(None, &[]).unwrap();
        assert_eq!(all.len(), Group::ALL.len());
        assert!(notes.is_empty());

        let only = parse_list("ingest,live").unwrap();
        let (chosen, notes) = select(Some(&only), &[]).unwrap();
        assert_eq!(
            chosen.into_iter().collect::<Vec<_>>(),
            vec![Group::Publish, Group::Ingest, Group::Live]
        );
        assert_eq!(notes.len(), 1);

        let (chosen, _) = select(Some(&only), &[Group::Publish]).unwrap();
        assert!(
            !chosen.contains(&Group::Publish),
            "a skipped baseline stays out"
        );

        assert!(select(Some(&[Group::Read]), &[Group::Publish]).is_err());
        assert!(parse_list("ingest,nope").is_err());
        assert!(select(None, &Group::ALL).is_err());
    }
}
