//! The benchmark's one error type. Variants say what the person running it must do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The options make no sense (zero events, zero repeats, …): fix the command line.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// No usable nats-server: install the pinned one (`deploy/install-nats-server.sh`).
    #[error("cannot start a nats-server: {0}")]
    InstallNatsServer(String),
    /// A server misbehaved during a measurement (refused a publish, lost a consumer, …):
    /// look at the message, then run again.
    #[error("NATS failed during {phase}: {reason}")]
    Nats { phase: String, reason: String },
    /// A measurement produced something other than what was sent (a short read, a
    /// duplicate that should not be one): a bug in Samla, the server or the bench.
    #[error("{phase} is wrong: {reason}")]
    WrongResult { phase: String, reason: String },
    /// The gateway under test (ingest service, its doors, its read side) failed, refused
    /// what it should take, or answered other than it must: a bug in Samla or the bench.
    #[error("the gateway failed during {phase}: {reason}")]
    Gateway { phase: String, reason: String },
    /// The projector process could not be started: build it
    /// (`cargo build --release -p samla-projector`) or name it with `--projector-bin`.
    #[error("cannot start the projector {program}: {reason}")]
    StartProjector { program: PathBuf, reason: String },
    /// The projector process failed or stopped before reaching the head: read its output.
    #[error("the projector process failed: {0}")]
    ProjectorFailed(String),
    /// A local file or folder (temp dirs, sled, the output file) could not be used.
    #[error("storage: {0}")]
    Storage(String),
    /// `--fail-on-worse`: figures are worse than in the report compared with (the report
    /// was printed first).
    #[error("{0}")]
    Worse(String),
}

impl BenchError {
    pub(crate) fn nats(phase: &str, reason: impl std::fmt::Display) -> Self {
        BenchError::Nats {
            phase: phase.to_owned(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn wrong(phase: &str, reason: impl std::fmt::Display) -> Self {
        BenchError::WrongResult {
            phase: phase.to_owned(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn gateway(phase: &str, reason: impl std::fmt::Display) -> Self {
        BenchError::Gateway {
            phase: phase.to_owned(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn storage(reason: impl std::fmt::Display) -> Self {
        BenchError::Storage(reason.to_string())
    }
}
