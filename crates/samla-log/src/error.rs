//! The one error type of this crate. Variants are named for what the caller must do, and
//! carry plain data (no async-nats type), so the error is `Clone` and one batch failure can
//! be handed to every item it concerns.

/// What went wrong with the log, phrased for the caller's next move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The nats-server is older than Samla supports: upgrade it. Atomic batches arrived in
    /// 2.12, the subject-filter expectation header in 2.11, and one sync per atomic batch
    /// (which group commit relies on) in 2.15.
    #[error(
        "nats-server {found} is too old: Samla needs {required} or newer (one sync per atomic \
         batch arrived in 2.15, atomic batches in 2.12, the subject-filter expectation header \
         in 2.11); upgrade the server (deploy/install-nats-server.sh)"
    )]
    ServerTooOld { found: String, required: String },

    /// The stream on the server differs from the configuration Samla expects: an operator
    /// or another tool changed it. Refuse to run until a human decides.
    #[error(
        "log stream {stream} has drifted from its expected configuration: field `{field}` is \
         {found}, expected {expected}; restore the field (or change Samla's configuration) \
         before starting"
    )]
    ConfigDrift {
        stream: String,
        field: String,
        expected: String,
        found: String,
    },

    /// Samla's own log configuration is unusable (for example replicas 2, or a zero
    /// `max_bytes`): fix the configuration.
    #[error("invalid log configuration: {reason}")]
    InvalidConfig { reason: String },

    /// The log's `max_bytes` does not fit in what the server or account may store: lower
    /// `max_bytes` or raise the server's `max_file_store` / the account's JetStream limit.
    #[error("log stream {stream} cannot reserve {requested} bytes: {reason}")]
    StorageLimit {
        stream: String,
        requested: u64,
        reason: String,
    },

    /// The log reached its `max_bytes` and refuses new events (nothing was dropped; the log
    /// stays readable). An operator must grow the volume and `max_bytes`.
    #[error("the log is full and refused the event ({reason}); it stays readable; grow max_bytes")]
    LogFull { reason: String },

    /// Optimistic concurrency: the aggregate moved on since `expected_seq`. Re-read the
    /// aggregate (its last event is at `current_seq`) and decide again.
    #[error(
        "conflict: the aggregate's last event is at sequence {current_seq}, not at the expected \
         {expected_seq}"
    )]
    Conflict { expected_seq: u64, current_seq: u64 },

    /// The item cannot be appended as given (subject outside the log, empty id, too large):
    /// fix the item; retrying will not help.
    #[error("invalid item: {reason}")]
    InvalidItem { reason: String },

    /// The stream refused this message for a reason that retrying will not change (for
    /// example a `Nats-TTL` or `Nats-Rollup` header, which the log forbids).
    #[error("the log refused the message: {description} (error code {err_code})")]
    Rejected { err_code: u64, description: String },

    /// The server refused a management request (purge, delete, update, …) or answered one
    /// with an error this crate does not interpret.
    #[error("the server refused {what}: {description} (error code {err_code})")]
    Refused {
        what: String,
        err_code: u64,
        description: String,
    },

    /// The connection's user may not publish or subscribe where the log needs it: fix the
    /// NATS permissions.
    #[error(
        "permission denied on subject {subject} ({operation}); fix this user's NATS permissions"
    )]
    PermissionDenied { operation: String, subject: String },

    /// The log cannot be reached right now (no server, no stream leader, JetStream down):
    /// retry later with the same event id.
    #[error("the log is unavailable: {reason}; retry later with the same event id")]
    Unavailable { reason: String },

    /// The log's stream does not exist on the server: it was deleted, or never created
    /// there. Not an outage, so not retryable: waiting will not bring it back, and Samla
    /// does not create it again while it runs, since a new stream would start an empty
    /// history under read models folded from the old one.
    #[error(
        "log stream {stream} does not exist on this server: it was deleted, or never created \
         here. Samla creates it only when a service that owns the log starts (samla serve, \
         samla up), never while running, since a new stream would start an empty history: \
         restore the stream from a backup (nats stream restore; deploy/README.md), or point at the server that holds it; to start \
         over with an empty log instead, start the services again (they create it and \
         rebuild their read models from it)"
    )]
    StreamMissing { stream: String },

    /// No answer in time. For an append the outcome is unknown: retry with the same event
    /// id, the log de-duplicates it.
    #[error(
        "timed out after {after_ms} ms waiting for {what}; retry (appends with the same event id)"
    )]
    Timeout { what: String, after_ms: u64 },

    /// A read found sequences missing from the log (they should never be: the stream denies
    /// deletes). Investigate the stream; the records after the gap are still delivered.
    #[error("gap in the log: expected sequence {expected}, found {found}")]
    Gap { expected: u64, found: u64 },

    /// The server answered with something this crate cannot parse: a bug or a version
    /// mismatch; report it.
    #[error("unexpected answer from the server for {what}: {detail}")]
    Protocol { what: String, detail: String },
}

impl LogError {
    pub(crate) fn protocol(what: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        LogError::Protocol {
            what: what.into(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn stream_missing(stream: impl Into<String>) -> Self {
        LogError::StreamMissing {
            stream: stream.into(),
        }
    }

    pub(crate) fn unavailable(reason: impl std::fmt::Display) -> Self {
        LogError::Unavailable {
            reason: reason.to_string(),
        }
    }

    /// Whether retrying the same call later (with the same event id) can succeed. A
    /// missing stream ([`LogError::StreamMissing`]) is not: only a person can restore it.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            LogError::Unavailable { .. } | LogError::Timeout { .. }
        )
    }
}
