//! Group commit: many events in atomic batches, one sync per batch (nats-server 2.15).
//!
//! The atomic batch protocol (ADR-50; checked against nats-server 2.15.1):
//! - every message carries `Nats-Batch-Id` (≤ 64 characters) and `Nats-Batch-Sequence`
//!   (1, 2, … without gaps); the last one also `Nats-Batch-Commit: 1`;
//! - messages before the commit are plain publishes without a reply subject: the server
//!   answers a batch message only if it has a reply subject (with an empty body), so none
//!   is needed and nothing waits per event;
//! - the commit is a request; the answer is a pub ack `{"seq": <last>, "batch", "count"}`
//!   (the batch occupies `seq - count + 1 ..= seq`) or an error pub ack with `err_code`;
//!   the whole batch is stored or none of it;
//! - a duplicate `Nats-Msg-Id` anywhere in the batch fails all of it (10201) without
//!   saying which; a failed expectation fails all of it (10071); a gap (a lost message)
//!   fails it as incomplete (10176); an unfinished batch is dropped after 10 s;
//! - the server checks a subject-filter expectation once per batch and reuses the answer,
//!   so two claims on one aggregate in one batch were both stored.
//!
//! Hence two rules here: an event with an expectation is the first event on its aggregate
//! in its batch, and a batch that fails for any reason is re-sent event by event
//! (pipelined, in order), so every item gets its own answer; ids make that safe even when
//! the failed batch did land.
//!
//! How items become batches ([`Log::append_requests`]): the items of several requests are
//! laid out in *levels*, committed one after another, each in atomic batches of at most
//! [`MAX_BATCH_EVENTS`] in input order. An item's level is never lower than the previous
//! item's of its own request, nor than the previous item's on its aggregate — and one
//! higher than the latter if the item carries an expectation. So a request's events and an
//! aggregate's events land in input order, and an expectation is checked against exactly
//! the events before it. Requests share batches: 20 requests of 100 events without
//! expectations are two batches of 1,000, not ~27 of ~75 (the split by consecutive runs
//! without a repeated aggregate that this replaced). Between requests there is no order to
//! keep: they were concurrent.
//!
//! Fast-ingest batches (2.14, `allow_batched`, with server flow control) are not used:
//! they are not atomic. Atomic batches need no flow control at 1,000 events.
//!
//! With [`CommitMode::Pipelined`] there are no batches: every event is its own publish,
//! all in flight at once on one connection, in input order (see `pipeline.rs`). With
//! [`CommitMode::Atomic`], a group of fewer than [`MIN_ATOMIC_BATCH_EVENTS`] goes out that
//! way too: the server's per-batch staging costs more than a few syncs.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use async_nats::header::HeaderName;

use crate::append::{Prepared, Published, append_refused, parse_pub_ack};
use crate::error::LogError;
use crate::{AppendItem, Appended, CommitMode, Log, MAX_BATCH_EVENTS, MIN_ATOMIC_BATCH_EVENTS};

const BATCH_ID: HeaderName = HeaderName::from_static("Nats-Batch-Id");
const BATCH_SEQUENCE: HeaderName = HeaderName::from_static("Nats-Batch-Sequence");
const BATCH_COMMIT: HeaderName = HeaderName::from_static("Nats-Batch-Commit");

type Answer = Result<Appended, LogError>;

impl Log {
    /// Appends many events, in order, and answers every item in input order.
    ///
    /// The same as [`Log::append_requests`] with one request: the log keeps the items'
    /// order. Items are independent: one item's duplicate, conflict or refusal never fails
    /// another, and there is no all-or-nothing across them.
    pub async fn append_batch(&self, items: Vec<AppendItem>) -> Vec<Answer> {
        self.append_requests(vec![items])
            .await
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// Appends the items of several independent requests together (group commit) and
    /// answers each request's items in its order.
    ///
    /// Each request's items land in the log in their order; between requests there is no
    /// order. With [`CommitMode::Atomic`] they go out in atomic batches (see the module
    /// header for how); a batch that fails is re-sent event by event, so every item gets its
    /// own answer. With [`CommitMode::Pipelined`] every event is published on its own, all
    /// in flight at once.
    pub async fn append_requests(&self, requests: Vec<Vec<AppendItem>>) -> Vec<Vec<Answer>> {
        let prefix = self.inner.config.subject_prefix.as_str();
        let mut answers: Vec<Vec<Option<Answer>>> = Vec::with_capacity(requests.len());
        // (request, position) of every item that passed the checks, in input order.
        let mut prepared: Vec<((usize, usize), Prepared)> = Vec::new();
        for (request, items) in requests.into_iter().enumerate() {
            let mut mine = Vec::with_capacity(items.len());
            for (position, item) in items.into_iter().enumerate() {
                match Prepared::new(item, prefix) {
                    Ok(item) => {
                        mine.push(None);
                        prepared.push(((request, position), item));
                    }
                    Err(error) => mine.push(Some(Err(error))),
                }
            }
            answers.push(mine);
        }

        // While the client reconnects it would buffer the events and answer nothing until
        // the server is back: say "unavailable" now instead, so callers retry (same ids).
        let outcomes = if let Some(error) = self.not_connected() {
            prepared.iter().map(|_| Err(error.clone())).collect()
        } else {
            self.commit_prepared(&prepared).await
        };
        for (((request, position), _), outcome) in prepared.iter().zip(outcomes) {
            answers[*request][*position] = Some(outcome);
        }
        answers.into_iter().map(answered).collect()
    }

    /// `Unavailable` while the connection to the server is down (reconnecting).
    pub(crate) fn not_connected(&self) -> Option<LogError> {
        match self.inner.connection.client.connection_state() {
            async_nats::connection::State::Connected => None,
            state => Some(LogError::unavailable(format!(
                "not connected to the NATS server ({state:?}; reconnecting)"
            ))),
        }
    }

    /// Commits the checked items as the configured mode says; answers in input order.
    async fn commit_prepared(&self, prepared: &[((usize, usize), Prepared)]) -> Vec<Answer> {
        match self.inner.config.commit {
            CommitMode::Pipelined => {
                let items: Vec<&Prepared> = prepared.iter().map(|(_, item)| item).collect();
                self.append_pipelined(&items).await
            }
            // Too few for a batch to pay for itself: one level of pipelined publishes.
            CommitMode::Atomic if prepared.len() < MIN_ATOMIC_BATCH_EVENTS => {
                let items: Vec<&Prepared> = prepared.iter().map(|(_, item)| item).collect();
                self.append_pipelined(&items).await
            }
            CommitMode::Atomic => self.append_in_levels(prepared).await,
        }
    }

    /// Commits the items level by level in atomic batches; answers in input order.
    async fn append_in_levels(&self, items: &[((usize, usize), Prepared)]) -> Vec<Answer> {
        let mut answers: Vec<Option<Answer>> = items.iter().map(|_| None).collect();
        for level in levels(items) {
            for batch in level.chunks(MAX_BATCH_EVENTS) {
                let group: Vec<&Prepared> = batch.iter().map(|&index| &items[index].1).collect();
                let outcomes = self.commit_or_resend(&group).await;
                for (&index, outcome) in batch.iter().zip(outcomes) {
                    answers[index] = Some(outcome);
                }
            }
        }
        answered(answers)
    }

    /// One atomic batch; if it fails, every item re-sent on its own (in order). A group
    /// too small for a batch to pay off goes out pipelined.
    async fn commit_or_resend(&self, group: &[&Prepared]) -> Vec<Answer> {
        if group.len() < MIN_ATOMIC_BATCH_EVENTS {
            return self.append_pipelined(group).await;
        }
        match self.commit_atomic(group).await {
            Ok(last_seq) => {
                let first_seq = last_seq + 1 - group.len() as u64;
                (0..group.len() as u64)
                    .map(|offset| {
                        Ok(Appended {
                            seq: first_seq + offset,
                            duplicate: false,
                        })
                    })
                    .collect()
            }
            // The connection is down: re-sending would only wait for it again.
            Err(reason) if self.not_connected().is_some() => {
                group.iter().map(|_| Err(reason.clone())).collect()
            }
            Err(reason) => {
                tracing::debug!(%reason, events = group.len(), "atomic batch failed; re-sending event by event");
                self.append_pipelined(group).await
            }
        }
    }

    /// Sends one atomic batch and returns the sequence of its last event.
    async fn commit_atomic(&self, group: &[&Prepared]) -> Result<u64, LogError> {
        let _permit = self
            .inner
            .batch_permits
            .acquire()
            .await
            .map_err(|error| LogError::unavailable(format!("batch permits closed: {error}")))?;
        let counter = self.inner.batch_counter.fetch_add(1, Ordering::Relaxed);
        let batch_id = format!("{}{counter}", self.inner.batch_prefix);
        let client = &self.inner.connection.client;
        let last = group.len() - 1;
        for (position, item) in group.iter().enumerate() {
            let mut headers = item.headers();
            headers.insert(BATCH_ID, batch_id.as_str());
            headers.insert(BATCH_SEQUENCE, (position + 1).to_string());
            if position < last {
                client
                    .publish_with_headers(item.subject.clone(), headers, item.payload.clone())
                    .await
                    .map_err(|error| LogError::unavailable(format!("batch publish: {error}")))?;
                continue;
            }
            headers.insert(BATCH_COMMIT, "1");
            let answer = self
                .inner
                .connection
                .request(
                    item.subject.clone(),
                    Some(headers),
                    item.payload.clone(),
                    None,
                    "atomic batch commit",
                )
                .await?;
            return match parse_pub_ack(&answer.payload)? {
                Published::Stored {
                    appended: Appended { seq, .. },
                    batch_count: count,
                } => {
                    if count != Some(group.len() as u64) || seq < group.len() as u64 {
                        return Err(LogError::protocol(
                            "atomic batch commit",
                            format!("stored {count:?} events, sent {}", group.len()),
                        ));
                    }
                    Ok(seq)
                }
                Published::Refused(error) => Err(append_refused(error)),
            };
        }
        Err(LogError::protocol("atomic batch", "empty batch"))
    }
}

/// Every answer, with a protocol error where one is missing (a bug, never expected).
fn answered(answers: Vec<Option<Answer>>) -> Vec<Answer> {
    answers
        .into_iter()
        .map(|answer| {
            answer
                .unwrap_or_else(|| Err(LogError::protocol("append batch", "an item got no answer")))
        })
        .collect()
}

/// Lays the items out in levels (see the module header): the indexes of each level's
/// items, in input order. A level holds each aggregate at most once; an aggregate's items
/// are in ascending levels; a request's items in non-decreasing levels.
fn levels(items: &[((usize, usize), Prepared)]) -> Vec<Vec<usize>> {
    let mut levels: Vec<Vec<usize>> = Vec::new();
    let mut last_of_aggregate: HashMap<[&str; 3], usize> = HashMap::new();
    let mut request_floor: Option<(usize, usize)> = None;
    for (index, ((request, _), item)) in items.iter().enumerate() {
        let floor = match request_floor {
            Some((current, level)) if current == *request => level,
            _ => 0,
        };
        let key = item.aggregate_key();
        // An expectation must be the first event on its aggregate in its batch (the server
        // checks it against the log before the batch); other events may follow their
        // aggregate's previous one in the same level, after it.
        let level = match (last_of_aggregate.get(&key), item.expected_seq) {
            (Some(&previous), Some(_)) => floor.max(previous + 1),
            (Some(&previous), None) => floor.max(previous),
            (None, _) => floor,
        };
        last_of_aggregate.insert(key, level);
        request_floor = Some((*request, level));
        if levels.len() <= level {
            levels.resize_with(level + 1, Vec::new);
        }
        levels[level].push(index);
    }
    levels
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    /// Items of `requests`, each a list of aggregate names; a name ending in `!` carries an
    /// expectation.
    fn prepared(requests: &[&[&str]]) -> Vec<((usize, usize), Prepared)> {
        let mut items = Vec::new();
        for (request, aggregates) in requests.iter().enumerate() {
            for (position, aggregate) in aggregates.iter().enumerate() {
                let (aggregate, expected_seq) = match aggregate.strip_suffix('!') {
                    Some(aggregate) => (aggregate, Some(7)),
                    None => (*aggregate, None),
                };
                let item = AppendItem {
                    subject: format!("samla.evt.i.org{request}.need.{aggregate}"),
                    id: format!("id-{request}-{position}"),
                    payload: Bytes::new(),
                    expected_seq,
                };
                items.push((
                    (request, position),
                    Prepared::new(item, "samla.evt").unwrap(),
                ));
            }
        }
        items
    }

    #[test]
    fn an_expectation_starts_a_level_on_its_aggregate_and_a_request_never_goes_down() {
        let items = prepared(&[&["a", "b", "a!", "c", "b!", "b", "b!"]]);
        assert_eq!(levels(&items), vec![vec![0, 1], vec![2, 3, 4, 5], vec![6]]);
        // Without expectations one request is one level, whatever it repeats.
        let items = prepared(&[&["a", "b", "a", "c", "b", "b"]]);
        assert_eq!(levels(&items), vec![vec![0, 1, 2, 3, 4, 5]]);
    }

    #[test]
    fn requests_share_levels_but_keep_each_aggregate_in_order() {
        // Request 0: a, b, a!; request 1: c, a!, d; request 2: e, a.
        let items = prepared(&[&["a", "b", "a!"], &["c", "a!", "d"], &["e", "a"]]);
        // Request 1's `a!` must follow request 0's `a!` (level 1): level 2, and its `d` may
        // not go below it; request 2 starts again at level 0, but its `a` follows the last.
        assert_eq!(
            levels(&items),
            vec![vec![0, 1, 3, 6], vec![2], vec![4, 5, 7]]
        );
    }

    #[test]
    fn many_requests_on_distinct_aggregates_make_one_level() {
        let names: Vec<Vec<String>> = (0..25)
            .map(|r| (0..100).map(|i| format!("n{r}x{i}")).collect())
            .collect();
        let names: Vec<Vec<&str>> = names
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        let requests: Vec<&[&str]> = names.iter().map(Vec::as_slice).collect();
        let items = prepared(&requests);
        let levels = levels(&items);
        assert_eq!(levels.len(), 1);
        assert_eq!(levels[0].len(), 2500);
        assert_eq!(
            levels[0]
                .chunks(MAX_BATCH_EVENTS)
                .map(<[usize]>::len)
                .collect::<Vec<_>>(),
            vec![1000, 1000, 500]
        );
    }
}
