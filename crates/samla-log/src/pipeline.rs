//! Pipelined appends: every event its own publish, all of them in flight at once.
//!
//! The events go out one after another on the one connection, each with its own reply
//! subject under a fresh inbox, and their acknowledgements are collected afterwards. The
//! server handles one connection's messages in the order it receives them, so the log keeps
//! the input order — as long as every item lands on the first try. Items whose answer says
//! "ask again" (a stale expectation that may be our own retry, an id mid-commit elsewhere)
//! or that got no answer in time (or a status such as "no responders" instead of one) are
//! settled one by one afterwards with
//! [`Log::append_prepared`] (the id makes a re-send safe: it lands once).
//!
//! This is the fastest way in when the server syncs on its own interval. With
//! `sync_interval: always` the server syncs every one of these publishes on its own, and
//! atomic batches ([`crate::CommitMode::Atomic`]) are many times faster.

use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use crate::Log;
use crate::api::codes;
use crate::append::{Appended, Prepared, Published, append_refused, parse_pub_ack};
use crate::error::LogError;

impl Log {
    /// Publishes `items` in order, all in flight at once, and answers each in input order.
    pub(crate) async fn append_pipelined(
        &self,
        items: &[&Prepared],
    ) -> Vec<Result<Appended, LogError>> {
        if let [item] = items {
            return vec![self.append_prepared(item).await];
        }
        let mut answers: Vec<Option<Result<Appended, LogError>>> =
            items.iter().map(|_| None).collect();
        if let Err(error) = self.publish_all(items, &mut answers).await {
            tracing::debug!(%error, "pipelined publish failed; settling item by item");
        }
        // What got no final answer (unsettled, or no answer at all) is settled on its own.
        for (item, answer) in items.iter().zip(answers.iter_mut()) {
            if answer.is_none() {
                *answer = Some(self.append_prepared(item).await);
            }
        }
        answers
            .into_iter()
            .map(|answer| answer.unwrap_or_else(|| Err(LogError::protocol("append", "no answer"))))
            .collect()
    }

    /// Sends every item with reply subject `<inbox>.<index>` and fills in the answers that
    /// came back final within the request timeout.
    async fn publish_all(
        &self,
        items: &[&Prepared],
        answers: &mut [Option<Result<Appended, LogError>>],
    ) -> Result<(), LogError> {
        let client = &self.inner.connection.client;
        let inbox = client.new_inbox();
        let mut replies = client
            .subscribe(format!("{inbox}.*"))
            .await
            .map_err(|error| LogError::unavailable(format!("append replies: {error}")))?;
        for (index, item) in items.iter().enumerate() {
            client
                .publish_with_reply_and_headers(
                    item.subject.clone(),
                    format!("{inbox}.{index}"),
                    item.headers(),
                    item.payload.clone(),
                )
                .await
                .map_err(|error| LogError::unavailable(format!("append publish: {error}")))?;
        }
        client
            .flush()
            .await
            .map_err(|error| LogError::unavailable(format!("append flush: {error}")))?;

        let timeout: Duration = self.inner.connection.request_timeout();
        let deadline = Instant::now() + timeout;
        let mut waiting = items.len();
        while waiting > 0 {
            let message = match tokio::time::timeout_at(deadline, replies.next()).await {
                Ok(Some(message)) => message,
                Ok(None) | Err(_) => break,
            };
            let Some(index) = message
                .subject
                .as_str()
                .rsplit('.')
                .next()
                .and_then(|token| token.parse::<usize>().ok())
                .filter(|index| *index < items.len())
            else {
                continue;
            };
            if answers[index].is_some() {
                continue;
            }
            waiting -= 1;
            // A status instead of an acknowledgement (503 no responders while the stream
            // has no leader): no answer; settled on its own, which reports it properly.
            if message.status.is_some() || message.payload.is_empty() {
                continue;
            }
            answers[index] = match parse_pub_ack(&message.payload) {
                Ok(Published::Stored { appended, .. }) => Some(Ok(appended)),
                Ok(Published::Refused(error)) => match error.err_code {
                    // Settled one by one: may be our own earlier copy, or mid-commit.
                    codes::WRONG_LAST_SEQUENCE | codes::DUPLICATE_IN_PROCESS => None,
                    _ => Some(Err(append_refused(error))),
                },
                Err(error) => Some(Err(error)),
            };
        }
        // Dropping the subscriber unsubscribes; a late answer goes nowhere.
        drop(replies);
        Ok(())
    }
}
