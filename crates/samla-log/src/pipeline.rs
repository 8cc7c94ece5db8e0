//! Pipelined appends: every event its own publish, all of them in flight at once.
//!
//! The events go out one after another on the one connection, each with its own reply
//! subject under a fresh inbox, and their acknowledgements are collected afterwards. The
//! server handles one connection's messages in the order it receives them, so the log keeps
//! the input order — as long as every item lands on the first try. Items whose answer says
//! "ask again" (a stale expectation that may be our own retry, an id mid-commit elsewhere)
//! are settled one by one afterwards with [`Log::append_prepared`] (the id makes a re-send
//! safe: it lands once). Items without an answer within the request timeout are answered
//! with a retryable error (timeout, or unavailable when the connection would not take the
//! events): a retry with the same ids is safe.
//!
//! This is the fastest way in when the server syncs on its own interval. With
//! `sync_interval: always` the server syncs every one of these publishes on its own, and
//! atomic batches ([`crate::CommitMode::Atomic`]) are many times faster.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use crate::Log;
use crate::api::codes;
use crate::append::{Appended, Prepared, Published, append_refused, parse_pub_ack};
use crate::connect::{Violation, ViolationKind};
use crate::error::LogError;

/// Where one item stands after the pipelined round.
enum Pending {
    /// No answer (yet).
    Waiting,
    /// The server said "ask again": settle on its own.
    AskAgain,
    Done(Result<Appended, LogError>),
}

impl Log {
    /// Publishes `items` in order, all in flight at once, and answers each in input order.
    pub(crate) async fn append_pipelined(
        &self,
        items: &[&Prepared],
    ) -> Vec<Result<Appended, LogError>> {
        if let [item] = items {
            return vec![self.append_prepared(item).await];
        }
        let timeout = self.inner.connection.request_timeout();
        let mut pending: Vec<Pending> = items.iter().map(|_| Pending::Waiting).collect();
        let sent = self.publish_all(items, &mut pending, timeout).await;
        let mut answers = Vec::with_capacity(items.len());
        for (item, pending) in items.iter().zip(pending) {
            answers.push(match pending {
                Pending::Done(answer) => answer,
                Pending::AskAgain => self.append_prepared(item).await,
                Pending::Waiting => Err(match &sent {
                    Err(error) => error.clone(),
                    Ok(()) => LogError::Timeout {
                        what: "the append acknowledgement".to_owned(),
                        after_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                    },
                }),
            });
        }
        answers
    }

    /// Sends every item with reply subject `<inbox>.<index>` and fills in the answers that
    /// come back within `timeout`. An error means the events could not all be handed to
    /// the server (the connection is down); what was answered before stays answered.
    async fn publish_all(
        &self,
        items: &[&Prepared],
        pending: &mut [Pending],
        timeout: Duration,
    ) -> Result<(), LogError> {
        let client = &self.inner.connection.client;
        let violations = &self.inner.connection.violations;
        let since = violations.generation();
        let inbox = client.new_inbox();
        let unreachable = || {
            LogError::unavailable(format!(
                "the NATS server did not take the events within {} ms (is it reachable?)",
                timeout.as_millis()
            ))
        };
        // While disconnected the client buffers, and a flush waits for the reconnect:
        // bound the whole hand-over.
        let send = async {
            let replies = client
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
            Ok::<_, LogError>(replies)
        };
        let deadline = Instant::now() + timeout;
        let mut replies = tokio::time::timeout_at(deadline, send)
            .await
            .map_err(|_| unreachable())??;

        // A permission violation comes as an asynchronous server error, not as an answer:
        // watch for one on our subjects (or on the reply inbox) while waiting.
        let subjects: HashSet<&str> = items.iter().map(|item| item.subject.as_str()).collect();
        let mut denied_subjects: HashSet<String> = HashSet::new();
        let mut inbox_denied = false;
        let mut waiting = items.len();
        while waiting > 0 {
            let concerns = |violation: &Violation| match violation.kind {
                ViolationKind::Publish => {
                    subjects.contains(violation.subject.as_str())
                        && !denied_subjects.contains(&violation.subject)
                }
                ViolationKind::Subscribe => !inbox_denied,
            };
            let message = tokio::select! {
                biased;
                message = tokio::time::timeout_at(deadline, replies.next()) => message,
                denied = violations.wait(since, &concerns) => {
                    let subject = match &denied {
                        LogError::PermissionDenied { operation, subject } if operation == "publish" => {
                            Some(subject.clone())
                        }
                        _ => None,
                    };
                    for (item, pending) in items.iter().zip(pending.iter_mut()) {
                        let concerned = subject.as_deref().is_none_or(|s| s == item.subject.as_str());
                        if concerned && matches!(pending, Pending::Waiting) {
                            *pending = Pending::Done(Err(denied.clone()));
                            waiting -= 1;
                        }
                    }
                    match subject {
                        Some(subject) => {
                            denied_subjects.insert(subject);
                        }
                        None => inbox_denied = true,
                    }
                    continue;
                }
            };
            let message = match message {
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
            if !matches!(pending[index], Pending::Waiting) {
                continue;
            }
            waiting -= 1;
            pending[index] = if message.status.is_some() || message.payload.is_empty() {
                // A status instead of an acknowledgement: no responders (the stream has no
                // leader right now).
                Pending::Done(Err(LogError::unavailable(
                    "nothing answered the append (no JetStream leader for the log right now)",
                )))
            } else {
                match parse_pub_ack(&message.payload) {
                    Ok(Published::Stored { appended, .. }) => Pending::Done(Ok(appended)),
                    Ok(Published::Refused(error)) => match error.err_code {
                        // May be our own earlier copy, or mid-commit: settled on its own.
                        codes::WRONG_LAST_SEQUENCE | codes::DUPLICATE_IN_PROCESS => {
                            Pending::AskAgain
                        }
                        _ => Pending::Done(Err(append_refused(error))),
                    },
                    Err(error) => Pending::Done(Err(error)),
                }
            };
        }
        // Dropping the subscriber unsubscribes; a late answer goes nowhere.
        drop(replies);
        Ok(())
    }
}
