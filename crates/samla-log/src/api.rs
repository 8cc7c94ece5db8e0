//! Requests to the server: every one has a timeout, races the permission-violation
//! capture, and has its JetStream error answer parsed into plain data.

use std::time::Duration;

use async_nats::{HeaderMap, Message, Subject};
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::connect::{Connection, Violation, ViolationKind};
use crate::error::LogError;

/// A JetStream API error as the server sends it: `{"code", "err_code", "description"}`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct ApiError {
    #[serde(default)]
    pub(crate) code: u64,
    #[serde(default)]
    pub(crate) err_code: u64,
    #[serde(default)]
    pub(crate) description: String,
}

/// JetStream error codes this crate acts on (nats-server `server/errors.json`).
pub(crate) mod codes {
    pub(crate) const INSUFFICIENT_RESOURCES: u64 = 10023;
    pub(crate) const STREAM_NOT_FOUND: u64 = 10059;
    pub(crate) const STREAM_NAME_IN_USE: u64 = 10058;
    pub(crate) const STORAGE_RESOURCES_EXCEEDED: u64 = 10047;
    pub(crate) const STREAM_STORE_FAILED: u64 = 10077;
    pub(crate) const WRONG_LAST_SEQUENCE: u64 = 10071;
    pub(crate) const NO_MESSAGE_FOUND: u64 = 10037;
    pub(crate) const DUPLICATE_IN_PROCESS: u64 = 10158;
    pub(crate) const JETSTREAM_NOT_ENABLED_FOR_ACCOUNT: u64 = 10039;
    pub(crate) const JETSTREAM_NOT_ENABLED: u64 = 10076;
    pub(crate) const CLUSTER_NOT_AVAILABLE: u64 = 10008;
    pub(crate) const STREAM_OFFLINE: u64 = 10118;
}

/// A publish acknowledgement, or the error the stream answered instead.
#[derive(Debug, Deserialize)]
pub(crate) struct PubAckReply {
    #[serde(default)]
    pub(crate) error: Option<ApiError>,
    #[serde(default)]
    pub(crate) seq: u64,
    #[serde(default)]
    pub(crate) duplicate: bool,
    /// Set on the commit of an atomic batch: how many messages it stored.
    #[serde(default)]
    pub(crate) count: Option<u64>,
}

impl Connection {
    /// Sends one request and waits for its answer, at most `timeout` (the connection's
    /// request timeout when `None`). A permission violation on `subject` (publish) or on any
    /// subscription (our reply inbox) ends the wait at once with `PermissionDenied`.
    pub(crate) async fn request(
        &self,
        subject: Subject,
        headers: Option<HeaderMap>,
        payload: Bytes,
        timeout: Option<Duration>,
        what: &str,
    ) -> Result<Message, LogError> {
        let timeout = timeout.unwrap_or(self.request_timeout);
        let since = self.violations.generation();
        let mut request = async_nats::Request::new()
            .payload(payload)
            .timeout(Some(timeout));
        if let Some(headers) = headers {
            request = request.headers(headers);
        }
        let answer = self.client.send_request(subject.clone(), request);
        let concerns = |violation: &Violation| match violation.kind {
            ViolationKind::Publish => violation.subject == subject.as_str(),
            ViolationKind::Subscribe => true,
        };
        tokio::select! {
            biased;
            answer = answer => answer.map_err(|error| request_error(&error, what, timeout)),
            denied = self.violations.wait(since, &concerns) => Err(denied),
        }
    }

    /// A JetStream API call (`$JS.API.<api>`) with a JSON body; returns the parsed answer
    /// or the server's API error.
    pub(crate) async fn api<T: DeserializeOwned>(
        &self,
        api: &str,
        body: Bytes,
        what: &str,
    ) -> Result<Result<T, ApiError>, LogError> {
        let subject = Subject::from(format!("$JS.API.{api}"));
        let message = self.request(subject, None, body, None, what).await?;
        parse_api_answer(&message.payload, what)
    }
}

/// Parses an API answer: `{"error": {...}}` or the expected body.
pub(crate) fn parse_api_answer<T: DeserializeOwned>(
    payload: &[u8],
    what: &str,
) -> Result<Result<T, ApiError>, LogError> {
    #[derive(Deserialize)]
    struct ErrorOnly {
        #[serde(default)]
        error: Option<ApiError>,
    }
    let probe: ErrorOnly =
        serde_json::from_slice(payload).map_err(|error| LogError::protocol(what, error))?;
    if let Some(error) = probe.error {
        return Ok(Err(error));
    }
    serde_json::from_slice(payload)
        .map(Ok)
        .map_err(|error| LogError::protocol(what, error))
}

fn request_error(error: &async_nats::RequestError, what: &str, timeout: Duration) -> LogError {
    match error.kind() {
        async_nats::RequestErrorKind::TimedOut => LogError::Timeout {
            what: what.to_owned(),
            after_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        },
        async_nats::RequestErrorKind::NoResponders => LogError::unavailable(format!(
            "nothing answered {what} (no JetStream stream or API listening; is the server up \
             and the stream placed?)"
        )),
        async_nats::RequestErrorKind::MaxPayloadExceeded => LogError::InvalidItem {
            reason: format!("{what}: {error}"),
        },
        _ => LogError::unavailable(format!("{what}: {error}")),
    }
}

/// Maps an API error on a management call to the error the caller acts on.
pub(crate) fn refused(what: &str, error: ApiError) -> LogError {
    match error.err_code {
        codes::JETSTREAM_NOT_ENABLED
        | codes::JETSTREAM_NOT_ENABLED_FOR_ACCOUNT
        | codes::CLUSTER_NOT_AVAILABLE
        | codes::STREAM_OFFLINE => LogError::unavailable(format!(
            "{what}: {} (error code {})",
            error.description, error.err_code
        )),
        _ if error.code == 503 => LogError::unavailable(format!(
            "{what}: {} (error code {})",
            error.description, error.err_code
        )),
        _ => LogError::Refused {
            what: what.to_owned(),
            err_code: error.err_code,
            description: error.description,
        },
    }
}
