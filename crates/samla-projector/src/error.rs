//! The projector's one error type.

use samla_log::LogError;

#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// The read-model store could not be opened, read or written.
    #[error("read-model storage: {0}")]
    Storage(String),
    /// Another process holds the read-model folder's lock: the folder is fine, but in use.
    #[error("read models in use: {0}")]
    InUse(String),
    /// Stored read models cannot be read back: rebuild them from the log.
    #[error("read models are corrupt and must be rebuilt: {0}")]
    Corrupt(String),
    /// The log could not be read: retry when NATS is back if the error
    /// [is retryable](LogError::is_retryable); otherwise it says what a person must do (a
    /// stream that is gone: [`LogError::StreamMissing`]).
    #[error("reading the log: {0}")]
    Log(#[from] LogError),
    /// A replay asked for a sequence beyond the log's head: ask for at most `head`.
    #[error("sequence {asked} is beyond the log's head {head}")]
    BeyondHead { asked: u64, head: u64 },
    /// A catch-up to the head consumed no event for too long (the log out of reach, say).
    #[error("the catch-up stalled: {0}")]
    Stalled(String),
    /// Shutting down.
    #[error("stopped")]
    Stopped,
}
