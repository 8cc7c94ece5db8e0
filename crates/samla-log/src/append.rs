//! Appending one event: the item, its headers, the publish, and what the answer means.
//!
//! Optimistic concurrency is checked by the server over the aggregate's filter subject
//! `<prefix>.<incident>.*.<type>.<id>` (every organisation's events on that aggregate).
//! The server checks that expectation *before* de-duplication, so a retry of an event that
//! already landed comes back as "wrong last sequence". A conflict is therefore resolved by
//! looking through the aggregate's events after the expected sequence for this event id,
//! on the stream leader (`STREAM.MSG.GET` with `next_by_subj`; a direct get could be
//! answered by a lagging replica): found means it already landed (a duplicate with its
//! original sequence), not found is a real conflict carrying the current sequence.

use std::time::Duration;

use async_nats::Subject;
use async_nats::header::{HeaderMap, HeaderName};
use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;

use crate::Log;
use crate::api::{ApiError, PubAckReply, codes, parse_api_answer, refused};
use crate::error::LogError;

pub(crate) const MSG_ID: HeaderName = HeaderName::from_static("Nats-Msg-Id");
pub(crate) const EXPECTED_LAST_SUBJECT_SEQUENCE: HeaderName =
    HeaderName::from_static("Nats-Expected-Last-Subject-Sequence");
pub(crate) const EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT: HeaderName =
    HeaderName::from_static("Nats-Expected-Last-Subject-Sequence-Subject");

/// The longest event id accepted (UUIDs are 36; room for other schemes, bounded).
const MAX_ID_LEN: usize = 128;
/// How often an append is retried internally when the server says the answer is not
/// settled yet (an id or an aggregate still being committed by a concurrent batch).
const UNSETTLED_RETRIES: u32 = 5;

/// One event to append, as bytes. The subject is the event's place in the log:
/// `<prefix>.<incident>.<org>.<aggregate_type>.<aggregate_id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendItem {
    pub subject: String,
    /// The event id, sent as `Nats-Msg-Id`: a retry with the same id is a duplicate.
    pub id: String,
    pub payload: Bytes,
    /// Optimistic concurrency: append only if the aggregate's last event is at this
    /// sequence (0 = the aggregate has no events yet).
    pub expected_seq: Option<u64>,
}

/// Where an event landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    /// The event id was already in the log; `seq` is where the first copy landed.
    pub duplicate: bool,
}

/// An item checked and converted once, reused by every attempt.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) subject: Subject,
    pub(crate) id: String,
    pub(crate) payload: Bytes,
    pub(crate) expected_seq: Option<u64>,
    /// Byte ranges of the incident, type and id tokens in `subject`: the aggregate.
    aggregate: [(usize, usize); 3],
}

impl Prepared {
    pub(crate) fn new(item: AppendItem, prefix: &str) -> Result<Prepared, LogError> {
        let invalid = |reason: String| LogError::InvalidItem { reason };
        if item.id.is_empty()
            || item.id.len() > MAX_ID_LEN
            || !item.id.bytes().all(|byte| byte.is_ascii_graphic())
        {
            return Err(invalid(format!(
                "event id {:?} must be 1..={MAX_ID_LEN} printable ASCII characters without spaces",
                item.id
            )));
        }
        let aggregate = aggregate_ranges(&item.subject, prefix).ok_or_else(|| {
            invalid(format!(
                "subject {:?} is not <{prefix}>.<incident>.<org>.<type>.<id> with literal tokens",
                item.subject
            ))
        })?;
        Ok(Prepared {
            subject: Subject::from(item.subject),
            id: item.id,
            payload: item.payload,
            expected_seq: item.expected_seq,
            aggregate,
        })
    }

    /// The aggregate's (incident, type, id) tokens, as a key for batch splitting.
    pub(crate) fn aggregate_key(&self) -> [&str; 3] {
        let subject = self.subject.as_str();
        self.aggregate.map(|(start, end)| &subject[start..end])
    }

    /// `<prefix>.<incident>.*.<type>.<id>`: every organisation's events on the aggregate.
    pub(crate) fn aggregate_filter(&self) -> String {
        let subject = self.subject.as_str();
        let (incident_end, type_start) = (self.aggregate[0].1, self.aggregate[1].0);
        let mut filter = String::with_capacity(subject.len());
        filter.push_str(&subject[..incident_end]);
        filter.push_str(".*.");
        filter.push_str(&subject[type_start..]);
        filter
    }

    /// `Nats-Msg-Id` and, when asked for, the aggregate expectation.
    pub(crate) fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(MSG_ID, self.id.as_str());
        if let Some(expected) = self.expected_seq {
            headers.insert(EXPECTED_LAST_SUBJECT_SEQUENCE, expected.to_string());
            headers.insert(
                EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT,
                self.aggregate_filter(),
            );
        }
        headers
    }
}

/// Checks `<prefix>.<incident>.<org>.<type>.<id>` and returns the byte ranges of the
/// incident, type and id tokens.
fn aggregate_ranges(subject: &str, prefix: &str) -> Option<[(usize, usize); 3]> {
    let rest = subject.strip_prefix(prefix)?.strip_prefix('.')?;
    let mut ranges = [(0usize, 0usize); 4];
    let mut count = 0;
    let mut start = prefix.len() + 1;
    for token in rest.split('.') {
        if count == 4
            || token.is_empty()
            || !token
                .bytes()
                .all(|byte| byte.is_ascii_graphic() && byte != b'*' && byte != b'>')
        {
            return None;
        }
        ranges[count] = (start, start + token.len());
        start += token.len() + 1;
        count += 1;
    }
    (count == 4).then_some([ranges[0], ranges[2], ranges[3]])
}

/// What one publish answered.
pub(crate) enum Published {
    /// Stored; `batch_count` is set on the commit of an atomic batch.
    Stored {
        appended: Appended,
        batch_count: Option<u64>,
    },
    Refused(ApiError),
}

impl Log {
    /// Appends one event and waits for the server's acknowledgement.
    ///
    /// A retry with the same id returns the first copy's sequence with `duplicate: true`
    /// (within the duplicate window), also when `expected_seq` is stale because the first
    /// attempt landed. A real optimistic-concurrency failure is `LogError::Conflict`.
    pub async fn append(&self, item: AppendItem) -> Result<Appended, LogError> {
        let prepared = Prepared::new(item, &self.inner.config.subject_prefix)?;
        self.append_prepared(&prepared).await
    }

    pub(crate) async fn append_prepared(&self, item: &Prepared) -> Result<Appended, LogError> {
        let mut unsettled = 0;
        let started = std::time::Instant::now();
        loop {
            let error = match self.publish_one(item).await? {
                Published::Stored { appended, .. } => return Ok(appended),
                Published::Refused(error) => error,
            };
            let outcome = match error.err_code {
                codes::WRONG_LAST_SEQUENCE => self.resolve_conflict(item, &error).await?,
                // The same id is in a batch being committed right now: ask again shortly.
                codes::DUPLICATE_IN_PROCESS => None,
                _ => return Err(append_refused(error)),
            };
            if let Some(outcome) = outcome {
                return outcome;
            }
            unsettled += 1;
            if unsettled > UNSETTLED_RETRIES {
                return Err(LogError::Timeout {
                    what: format!("event {} to settle (another commit holds it)", item.id),
                    after_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                });
            }
            tokio::time::sleep(Duration::from_millis(10u64 << unsettled)).await;
        }
    }

    /// Publishes one event (headers from [`Prepared::headers`]) and parses the answer.
    pub(crate) async fn publish_one(&self, item: &Prepared) -> Result<Published, LogError> {
        let message = self
            .inner
            .connection
            .request(
                item.subject.clone(),
                Some(item.headers()),
                item.payload.clone(),
                None,
                "append acknowledgement",
            )
            .await?;
        parse_pub_ack(&message.payload)
    }

    /// After "wrong last sequence": did this very event land after the expected sequence
    /// (then it is a duplicate), or did someone else's (a conflict)? `None` = not settled
    /// (the server refused because the aggregate is mid-commit), ask again.
    async fn resolve_conflict(
        &self,
        item: &Prepared,
        error: &ApiError,
    ) -> Result<Option<Result<Appended, LogError>>, LogError> {
        let expected_seq = item.expected_seq.unwrap_or(0);
        let filter = item.aggregate_filter();
        let mut next = expected_seq.saturating_add(1);
        let mut last_seen = None;
        while let Some((seq, msg_id)) = self.next_on_subject(next, &filter).await? {
            if msg_id.as_deref() == Some(item.id.as_str()) {
                return Ok(Some(Ok(Appended {
                    seq,
                    duplicate: true,
                })));
            }
            last_seen = Some(seq);
            next = seq.saturating_add(1);
        }
        // "wrong last sequence: N" names the aggregate's last sequence when the check ran;
        // without a number the aggregate was mid-commit (clustered streams), not settled.
        let reported = error
            .description
            .rsplit(':')
            .next()
            .and_then(|number| number.trim().parse::<u64>().ok());
        let current_seq = match (last_seen, reported) {
            (Some(seen), _) => seen,
            (None, Some(reported)) if reported != expected_seq => reported,
            _ => return Ok(None),
        };
        Ok(Some(Err(LogError::Conflict {
            expected_seq,
            current_seq,
        })))
    }

    /// The first event at or after `seq` on `filter`, with its `Nats-Msg-Id`, read from the
    /// stream leader.
    async fn next_on_subject(
        &self,
        seq: u64,
        filter: &str,
    ) -> Result<Option<(u64, Option<String>)>, LogError> {
        #[derive(Deserialize)]
        struct Answer {
            message: StoredMessage,
        }
        #[derive(Deserialize)]
        struct StoredMessage {
            seq: u64,
            #[serde(default)]
            hdrs: Option<String>,
        }
        let body = serde_json::json!({ "seq": seq, "next_by_subj": filter });
        let body =
            serde_json::to_vec(&body).map_err(|error| LogError::protocol("msg get", error))?;
        let subject = async_nats::Subject::from(format!(
            "$JS.API.STREAM.MSG.GET.{}",
            self.inner.config.stream_name
        ));
        let message = self
            .inner
            .connection
            .request(subject, None, Bytes::from(body), None, "aggregate lookup")
            .await?;
        match parse_api_answer::<Answer>(&message.payload, "aggregate lookup")? {
            Ok(answer) => {
                let msg_id = match answer.message.hdrs {
                    Some(encoded) => {
                        let raw = base64::engine::general_purpose::STANDARD
                            .decode(encoded)
                            .map_err(|error| {
                                LogError::protocol("aggregate lookup headers", error)
                            })?;
                        header_value(&raw, "Nats-Msg-Id")
                    }
                    None => None,
                };
                Ok(Some((answer.message.seq, msg_id)))
            }
            Err(error) if error.err_code == codes::NO_MESSAGE_FOUND => Ok(None),
            Err(error) if error.err_code == codes::STREAM_NOT_FOUND => {
                Err(LogError::stream_missing(&self.inner.config.stream_name))
            }
            Err(error) => Err(refused("aggregate lookup", error)),
        }
    }
}

/// Parses a publish acknowledgement.
pub(crate) fn parse_pub_ack(payload: &[u8]) -> Result<Published, LogError> {
    let reply: PubAckReply = serde_json::from_slice(payload)
        .map_err(|error| LogError::protocol("append acknowledgement", error))?;
    match reply.error {
        Some(error) => Ok(Published::Refused(error)),
        None if reply.seq == 0 => Err(LogError::protocol(
            "append acknowledgement",
            "no sequence in the acknowledgement",
        )),
        None => Ok(Published::Stored {
            appended: Appended {
                seq: reply.seq,
                duplicate: reply.duplicate,
            },
            batch_count: reply.count,
        }),
    }
}

/// Maps a refused publish to what the caller must do.
pub(crate) fn append_refused(error: ApiError) -> LogError {
    let description = error.description.to_ascii_lowercase();
    let full = matches!(
        error.err_code,
        codes::STORAGE_RESOURCES_EXCEEDED | codes::INSUFFICIENT_RESOURCES
    ) || (error.err_code == codes::STREAM_STORE_FAILED
        && (description.contains("maximum bytes") || description.contains("maximum messages")))
        || description.contains("resource limits exceeded");
    if full {
        return LogError::LogFull {
            reason: format!("{} (error code {})", error.description, error.err_code),
        };
    }
    if error.code == 503
        || matches!(
            error.err_code,
            codes::CLUSTER_NOT_AVAILABLE | codes::STREAM_OFFLINE | codes::JETSTREAM_NOT_ENABLED
        )
    {
        return LogError::unavailable(format!(
            "{} (error code {})",
            error.description, error.err_code
        ));
    }
    LogError::Rejected {
        err_code: error.err_code,
        description: error.description,
    }
}

/// Finds a header's value in a raw `NATS/1.0` header block (names compare
/// case-insensitively, as NATS headers do).
pub(crate) fn header_value(raw: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    text.split("\r\n").skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(subject: &str) -> AppendItem {
        AppendItem {
            subject: subject.to_owned(),
            id: "0190a0f0-0000-7000-8000-000000000001".to_owned(),
            payload: Bytes::from_static(b"x"),
            expected_seq: Some(3),
        }
    }

    #[test]
    fn prepares_aggregate_filter_and_key() {
        let prepared = Prepared::new(item("samla.evt.inc1.org-a.need.n_1"), "samla.evt").unwrap();
        assert_eq!(prepared.aggregate_filter(), "samla.evt.inc1.*.need.n_1");
        assert_eq!(prepared.aggregate_key(), ["inc1", "need", "n_1"]);
        let headers = prepared.headers();
        assert_eq!(
            headers
                .get("Nats-Expected-Last-Subject-Sequence-Subject")
                .map(|value| value.as_str()),
            Some("samla.evt.inc1.*.need.n_1")
        );
    }

    #[test]
    fn refuses_bad_subjects_and_ids() {
        for subject in [
            "samla.evt.a.b.c",
            "samla.evt.a.b.c.d.e",
            "samla.evt.a.*.c.d",
            "samla.evt.a..c.d",
            "other.evt.a.b.c.d",
            "samla.evtx.a.b.c.d",
            "samla.evt.a.b c.c.d",
        ] {
            assert!(
                Prepared::new(item(subject), "samla.evt").is_err(),
                "{subject} accepted"
            );
        }
        let mut bad_id = item("samla.evt.a.b.c.d");
        bad_id.id = "has space".to_owned();
        assert!(Prepared::new(bad_id, "samla.evt").is_err());
    }

    #[test]
    fn finds_header_values() {
        let raw = b"NATS/1.0\r\nNats-Batch-Id: b1\r\nnats-msg-id: abc\r\n\r\n";
        assert_eq!(header_value(raw, "Nats-Msg-Id"), Some("abc".to_owned()));
        assert_eq!(header_value(raw, "Nats-Expected-Stream"), None);
    }

    #[test]
    fn full_log_errors_say_so() {
        let error = append_refused(ApiError {
            code: 500,
            err_code: codes::STREAM_STORE_FAILED,
            description: "maximum bytes exceeded".to_owned(),
        });
        assert!(matches!(error, LogError::LogFull { .. }));
    }
}
