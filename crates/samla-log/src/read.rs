//! Reading the log: bounded reads ([`Records`]: a span by sequence, up to a server time,
//! per incident) and the live [`Tail`]. Both run on one cursor.
//!
//! The cursor is our own ordered consumer: an ephemeral, memory-backed, ack-less pull
//! consumer starting at the next sequence we want. It remembers the last stream sequence
//! it delivered and the last consumer sequence it saw. A consumer-sequence jump (missed
//! messages), a missed heartbeat, a deleted consumer or a restarted server drop the
//! consumer and make a new one from `last + 1`; anything at or below `last` that arrives
//! twice is skipped. So a tail resumes after reconnects and restarts without gap or
//! duplicate.
//!
//! Why not async-nats' own ordered consumer: it recreates itself from its last delivered
//! sequence, but before it delivered anything it recreates with "deliver all" — from
//! sequence 1, not from where we asked — which for a tail started at the head would
//! re-read the whole log. Owning the loop also lets a bounded read give up with a clear
//! error instead of retrying forever.

use std::time::Duration;

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::stream::ConsumerErrorKind;
use futures::StreamExt;

use proto_events::Timestamp;

use crate::Log;
use crate::error::LogError;

/// Pull batch size: big enough for rebuild throughput, small enough to bound memory.
const PULL_BATCH: usize = 1000;
/// Idle heartbeat of a pull; two missed ones mean the consumer or server is gone.
const PULL_HEARTBEAT: Duration = Duration::from_secs(1);
/// How long one pull request lives on the server.
const PULL_EXPIRES: Duration = Duration::from_secs(5);
/// The server deletes an abandoned read consumer after this long.
const CONSUMER_INACTIVE_THRESHOLD: Duration = Duration::from_secs(10);
/// A bounded read that makes no progress for this long fails as unavailable.
const BOUNDED_READ_PATIENCE: Duration = Duration::from_secs(30);

/// One event as stored: where it is in the log, when the server recorded it, its subject,
/// id and bytes.
#[derive(Debug, Clone)]
pub struct RawRecord {
    seq: u64,
    recorded_at: Timestamp,
    message: async_nats::Message,
}

impl RawRecord {
    /// The stream sequence: the global order.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// When the server stored it (knowledge time).
    pub fn recorded_at(&self) -> Timestamp {
        self.recorded_at
    }

    /// `<prefix>.<incident>.<org>.<type>.<id>`.
    pub fn subject(&self) -> &str {
        self.message.subject.as_str()
    }

    /// The event id (`Nats-Msg-Id`), if the message has one.
    pub fn msg_id(&self) -> Option<&str> {
        self.header("Nats-Msg-Id")
    }

    /// Any stored header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.message
            .headers
            .as_ref()?
            .get(name)
            .map(async_nats::HeaderValue::as_str)
    }

    /// The event's bytes, exactly as appended.
    pub fn payload(&self) -> &bytes::Bytes {
        &self.message.payload
    }

    /// The event's bytes, taking them out.
    pub fn into_payload(self) -> bytes::Bytes {
        self.message.payload
    }
}

/// Which events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ReadFilter {
    /// The whole log.
    #[default]
    All,
    /// One incident: `<prefix>.<incident>.>`.
    Incident(String),
    /// Any subject filter inside the log (wildcards allowed), e.g. one aggregate.
    Subject(String),
}

/// A bounded read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadRange {
    /// The first sequence (1 = the start of the log).
    pub from_seq: u64,
    /// The last sequence, inclusive; `None` = the head when the read starts.
    pub to_seq: Option<u64>,
    /// Stop before the first event recorded after this time: "the log as known at T".
    /// The log is read as a prefix, so this is exact while server clocks move forward.
    pub recorded_until: Option<Timestamp>,
    pub filter: ReadFilter,
}

impl ReadRange {
    /// Sequences `from_seq..=to_seq`.
    pub fn span(from_seq: u64, to_seq: u64) -> Self {
        ReadRange {
            from_seq,
            to_seq: Some(to_seq),
            ..ReadRange::default()
        }
    }

    /// Everything recorded at or before `at`.
    pub fn recorded_until(at: Timestamp) -> Self {
        ReadRange {
            from_seq: 1,
            recorded_until: Some(at),
            ..ReadRange::default()
        }
    }

    /// One incident, from `from_seq` to the head.
    pub fn incident(incident: impl Into<String>, from_seq: u64) -> Self {
        ReadRange {
            from_seq,
            filter: ReadFilter::Incident(incident.into()),
            ..ReadRange::default()
        }
    }
}

/// The records of a bounded read, in log order. Ends after the last one.
#[derive(Debug)]
pub struct Records {
    cursor: Cursor,
}

impl Records {
    /// The next record, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<RawRecord, LogError>> {
        self.cursor.next().await
    }

    /// Reads everything into memory (fine for spans you know are small).
    pub async fn collect_all(mut self) -> Result<Vec<RawRecord>, LogError> {
        let mut records = Vec::new();
        while let Some(record) = self.next().await {
            records.push(record?);
        }
        Ok(records)
    }

    /// As a `futures::Stream`.
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<RawRecord, LogError>> {
        futures::stream::unfold(self, |mut records| async move {
            records.next().await.map(|item| (item, records))
        })
    }
}

/// A live tail: every event from a sequence on, forever, in order, across reconnects and
/// server restarts, without gap or duplicate.
#[derive(Debug)]
pub struct Tail {
    cursor: Cursor,
}

impl Tail {
    /// The next record; waits for new events. Outages (no server, no stream leader) are
    /// waited out with backoff and logged, never returned, and so is a stream that is gone
    /// (it may be restored); the only error is a `Gap` (sequences missing from the log),
    /// after which the tail goes on. It never ends.
    pub async fn next(&mut self) -> Result<RawRecord, LogError> {
        loop {
            if let Some(item) = self.cursor.next().await {
                return item;
            }
        }
    }

    /// The last sequence delivered (the one before the start if none yet).
    pub fn last_seq(&self) -> u64 {
        self.cursor.next_seq.saturating_sub(1)
    }

    /// As a `futures::Stream` that never ends.
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<RawRecord, LogError>> {
        futures::stream::unfold(self, |mut tail| async move {
            let item = tail.next().await;
            Some((item, tail))
        })
    }
}

impl Log {
    /// A bounded read. The end is fixed when it starts (`to_seq`, or the head then), so it
    /// finishes even while appends continue. An outage is waited out for a while, then
    /// returned; a stream that is gone is [`LogError::StreamMissing`] at once.
    pub async fn read(&self, range: ReadRange) -> Result<Records, LogError> {
        let filter = self.filter_subject(&range.filter)?;
        let head = self.head().await?.last_seq;
        let end_seq = range.to_seq.map_or(head, |to| to.min(head));
        let from_seq = range.from_seq.max(1);
        Ok(Records {
            cursor: Cursor {
                log: self.clone(),
                filter,
                next_seq: from_seq,
                end_seq: Some(end_seq),
                recorded_until: range.recorded_until,
                done: from_seq > end_seq,
                consumer: None,
                last_consumer_seq: 0,
                held_back: None,
                patience: Some(BOUNDED_READ_PATIENCE),
            },
        })
    }

    /// A live tail from `from_seq` (use `head().last_seq + 1` for new events only).
    pub fn tail(&self, from_seq: u64, filter: ReadFilter) -> Result<Tail, LogError> {
        let filter = self.filter_subject(&filter)?;
        Ok(Tail {
            cursor: Cursor {
                log: self.clone(),
                filter,
                next_seq: from_seq.max(1),
                end_seq: None,
                recorded_until: None,
                done: false,
                consumer: None,
                last_consumer_seq: 0,
                held_back: None,
                patience: None,
            },
        })
    }

    fn filter_subject(&self, filter: &ReadFilter) -> Result<Option<String>, LogError> {
        let prefix = &self.inner.config.subject_prefix;
        match filter {
            ReadFilter::All => Ok(None),
            ReadFilter::Incident(incident) => {
                if incident.is_empty()
                    || !incident
                        .bytes()
                        .all(|byte| byte.is_ascii_graphic() && !b".*>".contains(&byte))
                {
                    return Err(LogError::InvalidItem {
                        reason: format!("incident {incident:?} is not one literal subject token"),
                    });
                }
                Ok(Some(format!("{prefix}.{incident}.>")))
            }
            ReadFilter::Subject(subject) => {
                let inside = subject
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1);
                if !inside || subject.contains(char::is_whitespace) {
                    return Err(LogError::InvalidItem {
                        reason: format!("filter {subject:?} is not inside the log ({prefix}.>)"),
                    });
                }
                Ok(Some(subject.clone()))
            }
        }
    }
}

/// The live consumer of a cursor.
struct Active {
    name: String,
    messages: pull::Stream,
}

impl std::fmt::Debug for Active {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Active")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Cursor {
    log: Log,
    filter: Option<String>,
    /// The next stream sequence wanted: everything below was delivered.
    next_seq: u64,
    /// Inclusive end of a bounded read.
    end_seq: Option<u64>,
    recorded_until: Option<Timestamp>,
    done: bool,
    consumer: Option<Active>,
    last_consumer_seq: u64,
    /// A record found after a gap: the gap is reported first, then this.
    held_back: Option<RawRecord>,
    /// Bounded reads give up after this long without progress; tails never do.
    patience: Option<Duration>,
}

/// What a pull produced.
enum Step {
    Deliver(RawRecord),
    Skip,
    Restart(String),
}

impl Cursor {
    async fn next(&mut self) -> Option<Result<RawRecord, LogError>> {
        let mut failures: u32 = 0;
        let started = tokio::time::Instant::now();
        loop {
            if let Some(record) = self.held_back.take() {
                return Some(Ok(record));
            }
            if self.done || self.end_seq.is_some_and(|end| self.next_seq > end) {
                self.finish();
                return None;
            }
            if self.consumer.is_none() {
                match self.start_consumer().await {
                    Ok(true) => {}
                    Ok(false) => {
                        // Nothing left that matches before the end: a bounded read is over.
                        self.finish();
                        return None;
                    }
                    Err(error) => {
                        failures += 1;
                        // A bounded read ends at once when the stream is gone: waiting
                        // will not bring it back. A tail waits on, as for an outage (and
                        // says why), in case it is restored.
                        let gone = matches!(error, LogError::StreamMissing { .. });
                        if let Some(patience) = self.patience
                            && (gone || started.elapsed() >= patience)
                        {
                            return Some(Err(error));
                        }
                        if failures % 20 == 10 {
                            tracing::warn!(%error, failures, next_seq = self.next_seq, "the log cannot be read yet; still retrying");
                        } else {
                            tracing::debug!(%error, failures, "read consumer could not be made; retrying");
                        }
                        tokio::time::sleep(retry_delay(failures)).await;
                        continue;
                    }
                }
            }
            let step = match self.consumer.as_mut() {
                Some(active) => match active.messages.next().await {
                    Some(Ok(message)) => self.accept(message),
                    Some(Err(error)) => Step::Restart(format!("pull failed: {error}")),
                    None => Step::Restart("pull stream ended".to_owned()),
                },
                None => continue,
            };
            match step {
                Step::Deliver(record) => {
                    if let Some(until) = self.recorded_until
                        && record.recorded_at > until
                    {
                        self.finish();
                        return None;
                    }
                    if let Some(end) = self.end_seq
                        && record.seq > end
                    {
                        self.finish();
                        return None;
                    }
                    let expected = self.next_seq;
                    self.next_seq = record.seq + 1;
                    // On the whole log every sequence exists (deletes are denied).
                    if self.filter.is_none() && record.seq > expected {
                        self.held_back = Some(record.clone());
                        return Some(Err(LogError::Gap {
                            expected,
                            found: record.seq,
                        }));
                    }
                    return Some(Ok(record));
                }
                Step::Skip => {}
                Step::Restart(reason) => {
                    tracing::debug!(%reason, next_seq = self.next_seq, "read consumer restarts");
                    self.drop_consumer();
                    failures += 1;
                    if let Some(patience) = self.patience
                        && started.elapsed() >= patience
                    {
                        return Some(Err(LogError::unavailable(format!(
                            "reading the log made no progress for {patience:?}: {reason}"
                        ))));
                    }
                    tokio::time::sleep(retry_delay(failures)).await;
                }
            }
        }
    }

    /// Checks one delivered message against what we delivered before.
    fn accept(&mut self, message: async_nats::jetstream::Message) -> Step {
        let (seq, consumer_seq, pending, recorded_at) = match message.info() {
            Ok(info) => (
                info.stream_sequence,
                info.consumer_sequence,
                info.pending,
                info.published.unix_timestamp_nanos(),
            ),
            Err(error) => return Step::Restart(format!("message without JetStream info: {error}")),
        };
        if consumer_seq != self.last_consumer_seq + 1 {
            return Step::Restart(format!(
                "consumer sequence jumped from {} to {consumer_seq}",
                self.last_consumer_seq
            ));
        }
        self.last_consumer_seq = consumer_seq;
        if seq < self.next_seq {
            return Step::Skip;
        }
        let Ok(recorded_at) = Timestamp::from_unix_nanos(recorded_at) else {
            return Step::Restart(format!("message {seq} has an impossible timestamp"));
        };
        // Nothing else matches right now: a bounded read whose end is fixed is complete.
        if pending == 0 && self.end_seq.is_some() {
            self.done = true;
        }
        Step::Deliver(RawRecord {
            seq,
            recorded_at,
            message: message.message,
        })
    }

    /// Makes a consumer from `next_seq`. `Ok(false)`: a bounded read with nothing to read.
    async fn start_consumer(&mut self) -> Result<bool, LogError> {
        let inner = &self.log.inner;
        let config = pull::Config {
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: self.next_seq,
            },
            ack_policy: AckPolicy::None,
            filter_subject: self.filter.clone().unwrap_or_default(),
            inactive_threshold: CONSUMER_INACTIVE_THRESHOLD,
            num_replicas: 1,
            memory_storage: true,
            ..pull::Config::default()
        };
        let consumer = inner
            .jetstream
            .create_consumer_on_stream(config, &inner.config.stream_name)
            .await
            .map_err(|error| match error.kind() {
                ConsumerErrorKind::JetStream(answer)
                    if answer.error_code() == ErrorCode::STREAM_NOT_FOUND =>
                {
                    LogError::stream_missing(&inner.config.stream_name)
                }
                _ => LogError::unavailable(format!("cannot create a read consumer: {error}")),
            })?;
        let name = consumer.cached_info().name.clone();
        if self.end_seq.is_some() && consumer.cached_info().num_pending == 0 {
            delete_later(&self.log, name);
            return Ok(false);
        }
        let messages = consumer
            .stream()
            .max_messages_per_batch(PULL_BATCH)
            .heartbeat(PULL_HEARTBEAT)
            .expires(PULL_EXPIRES)
            .messages()
            .await
            .map_err(|error| LogError::unavailable(format!("cannot pull from the log: {error}")))?;
        self.last_consumer_seq = 0;
        self.consumer = Some(Active { name, messages });
        Ok(true)
    }

    fn drop_consumer(&mut self) {
        if let Some(active) = self.consumer.take() {
            delete_later(&self.log, active.name);
        }
    }

    fn finish(&mut self) {
        self.done = true;
        self.drop_consumer();
    }
}

impl Drop for Cursor {
    fn drop(&mut self) {
        self.drop_consumer();
    }
}

/// Deletes a read consumer in the background (best effort: the server removes it after
/// [`CONSUMER_INACTIVE_THRESHOLD`] anyway).
fn delete_later(log: &Log, name: String) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let jetstream = log.inner.jetstream.clone();
    let stream = log.inner.config.stream_name.clone();
    runtime.spawn(async move {
        if let Err(error) = jetstream.delete_consumer_from_stream(&name, &stream).await {
            tracing::trace!(%error, consumer = %name, "read consumer not deleted");
        }
    });
}

fn retry_delay(failures: u32) -> Duration {
    Duration::from_millis(50u64 << failures.min(5)).min(Duration::from_secs(1))
}
