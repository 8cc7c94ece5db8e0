//! One stored event by sequence, in one request (`STREAM.MSG.GET` on the stream leader):
//! for readers that need a few events out of order — the projector fetching the event a
//! correction supersedes, a timeline page — where a consumer would cost a round of set-up
//! and a pull of many messages to use one.

use base64::Engine as _;
use bytes::Bytes;
use proto_events::Timestamp;
use serde::Deserialize;

use crate::Log;
use crate::api::{codes, parse_api_answer, refused};
use crate::error::LogError;

/// One stored event: where it is, when it was recorded, its subject and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub subject: String,
    pub payload: Bytes,
}

impl Log {
    /// The event at `seq`, or `None` when the log has none there ([`LogError::StreamMissing`]
    /// when the log's stream is gone).
    pub async fn get(&self, seq: u64) -> Result<Option<StoredEvent>, LogError> {
        #[derive(Deserialize)]
        struct Answer {
            message: Stored,
        }
        #[derive(Deserialize)]
        struct Stored {
            subject: String,
            seq: u64,
            #[serde(default)]
            data: Option<String>,
            time: String,
        }
        let body = serde_json::to_vec(&serde_json::json!({ "seq": seq }))
            .map_err(|error| LogError::protocol("msg get", error))?;
        let subject = async_nats::Subject::from(format!(
            "$JS.API.STREAM.MSG.GET.{}",
            self.inner.config.stream_name
        ));
        let message = self
            .inner
            .connection
            .request(subject, None, Bytes::from(body), None, "event lookup")
            .await?;
        match parse_api_answer::<Answer>(&message.payload, "event lookup")? {
            Ok(answer) => {
                let payload = match answer.message.data {
                    Some(encoded) => base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .map_err(|error| LogError::protocol("event lookup data", error))?,
                    None => Vec::new(),
                };
                let recorded_at = Timestamp::parse(&answer.message.time)
                    .map_err(|error| LogError::protocol("event lookup time", error))?;
                Ok(Some(StoredEvent {
                    seq: answer.message.seq,
                    recorded_at,
                    subject: answer.message.subject,
                    payload: Bytes::from(payload),
                }))
            }
            Err(error) if error.err_code == codes::NO_MESSAGE_FOUND => Ok(None),
            Err(error) if error.err_code == codes::STREAM_NOT_FOUND => {
                Err(LogError::stream_missing(&self.inner.config.stream_name))
            }
            Err(error) => Err(refused("event lookup", error)),
        }
    }
}
