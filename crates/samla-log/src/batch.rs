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
//! Hence two rules here: a batch holds at most one event per aggregate (the next event on
//! the same aggregate starts a new batch, so order is kept), and a batch that fails for any
//! reason is re-sent event by event (pipelined), so every item gets its own answer; ids make
//! that safe even when the failed batch did land.
//!
//! Fast-ingest batches (2.14, `allow_batched`, with server flow control) are not used:
//! they are not atomic. Atomic batches need no flow control at 1,000 events.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use async_nats::header::HeaderName;
use futures::future::join_all;

use crate::append::{Prepared, Published, append_refused, parse_pub_ack};
use crate::error::LogError;
use crate::{AppendItem, Appended, Log, MAX_BATCH_EVENTS};

const BATCH_ID: HeaderName = HeaderName::from_static("Nats-Batch-Id");
const BATCH_SEQUENCE: HeaderName = HeaderName::from_static("Nats-Batch-Sequence");
const BATCH_COMMIT: HeaderName = HeaderName::from_static("Nats-Batch-Commit");

impl Log {
    /// Appends many events, in order, and answers every item in input order.
    ///
    /// Items go out in atomic batches of at most [`MAX_BATCH_EVENTS`], each with at most
    /// one event per aggregate (a repeated aggregate starts the next batch). A batch that
    /// fails is re-sent event by event, so one item's duplicate, conflict or refusal never
    /// fails another. Items are independent: there is no all-or-nothing across them.
    pub async fn append_batch(&self, items: Vec<AppendItem>) -> Vec<Result<Appended, LogError>> {
        let prefix = self.inner.config.subject_prefix.as_str();
        let mut results: Vec<Option<Result<Appended, LogError>>> = Vec::with_capacity(items.len());
        let mut prepared: Vec<(usize, Prepared)> = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            match Prepared::new(item, prefix) {
                Ok(item) => {
                    results.push(None);
                    prepared.push((index, item));
                }
                Err(error) => results.push(Some(Err(error))),
            }
        }

        for group in split_into_batches(&prepared) {
            let group = &prepared[group];
            if let [(index, item)] = group {
                results[*index] = Some(self.append_prepared(item).await);
                continue;
            }
            match self.commit_atomic(group).await {
                Ok(last_seq) => {
                    let first_seq = last_seq + 1 - group.len() as u64;
                    for (offset, (index, _)) in group.iter().enumerate() {
                        results[*index] = Some(Ok(Appended {
                            seq: first_seq + offset as u64,
                            duplicate: false,
                        }));
                    }
                }
                Err(reason) => {
                    tracing::debug!(%reason, events = group.len(), "atomic batch failed; re-sending event by event");
                    let answers =
                        join_all(group.iter().map(|(_, item)| self.append_prepared(item))).await;
                    for ((index, _), answer) in group.iter().zip(answers) {
                        results[*index] = Some(answer);
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| {
                    Err(LogError::protocol("append batch", "an item got no answer"))
                })
            })
            .collect()
    }

    /// Sends one atomic batch and returns the sequence of its last event.
    async fn commit_atomic(&self, group: &[(usize, Prepared)]) -> Result<u64, LogError> {
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
        for (position, (_, item)) in group.iter().enumerate() {
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

/// Cuts items into consecutive runs of at most [`MAX_BATCH_EVENTS`] with no aggregate
/// twice. Consecutive runs keep the input order in the log.
fn split_into_batches(items: &[(usize, Prepared)]) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut seen: HashSet<[&str; 3]> = HashSet::new();
    for (position, (_, item)) in items.iter().enumerate() {
        let key = item.aggregate_key();
        if position - start == MAX_BATCH_EVENTS || seen.contains(&key) {
            batches.push(start..position);
            start = position;
            seen.clear();
        }
        seen.insert(key);
    }
    if start < items.len() {
        batches.push(start..items.len());
    }
    batches
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn prepared(aggregates: &[&str]) -> Vec<(usize, Prepared)> {
        aggregates
            .iter()
            .enumerate()
            .map(|(index, aggregate)| {
                let item = AppendItem {
                    subject: format!("samla.evt.i.org{index}.need.{aggregate}"),
                    id: format!("id-{index}"),
                    payload: Bytes::new(),
                    expected_seq: None,
                };
                (index, Prepared::new(item, "samla.evt").unwrap())
            })
            .collect()
    }

    #[test]
    fn a_repeated_aggregate_starts_the_next_batch() {
        let items = prepared(&["a", "b", "a", "c", "b", "b"]);
        assert_eq!(split_into_batches(&items), vec![0..2, 2..5, 5..6]);
    }

    #[test]
    fn batches_hold_at_most_the_server_limit() {
        let names: Vec<String> = (0..2500).map(|index| format!("n{index}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let items = prepared(&names);
        assert_eq!(
            split_into_batches(&items),
            vec![0..1000, 1000..2000, 2000..2500]
        );
    }
}
