//! The one error type of the test kit. Each variant is named for what the caller must do.

use std::path::PathBuf;

/// Why a nats-server could not be found, started, signalled or configured.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// No suitable nats-server binary: the message says which script to run.
    #[error("{message}")]
    InstallNatsServer {
        /// The full explanation, including the install command.
        message: String,
    },

    /// `setpriv` (util-linux) is needed for the kill-on-crash watchdog.
    #[error(
        "`setpriv` (from util-linux) was not found or failed to run ({source}); the test kit \
         starts every nats-server through `setpriv --pdeathsig KILL` so that no server outlives \
         a crashed test. Install util-linux (Debian/Ubuntu: sudo apt-get install util-linux)"
    )]
    InstallSetpriv {
        /// The error from spawning `setpriv`.
        #[source]
        source: std::io::Error,
    },

    /// The server exited or never became ready; its log tail is included.
    #[error("{what}; server log {log_path}:\n{log_tail}")]
    CheckServerLog {
        /// What went wrong, in a sentence.
        what: String,
        /// The full log file.
        log_path: PathBuf,
        /// The last lines of the log.
        log_tail: String,
    },

    /// A file, folder, port or process operation failed on this machine.
    #[error("{what}: {source}")]
    CheckEnvironment {
        /// What the test kit was doing.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A configuration template has a placeholder the renderer was not given (a bug in the
    /// template or in the test kit).
    #[error(
        "config template placeholder `{{{{{placeholder}}}}}` has no value; fix the template or the test kit"
    )]
    FixTemplate {
        /// The placeholder's name.
        placeholder: String,
    },

    /// The operation needs a running server (e.g. `reload`), but it was killed or stopped.
    #[error("nats-server `{server_name}` is not running; call `start_again` first")]
    StartServerFirst {
        /// The server's name.
        server_name: String,
    },

    /// The operation needs a stopped server (e.g. `start_again`), but it is running.
    #[error("nats-server `{server_name}` is already running; call `kill` or `stop` first")]
    StopServerFirst {
        /// The server's name.
        server_name: String,
    },
}

impl TestkitError {
    pub(crate) fn environment(what: impl Into<String>, source: std::io::Error) -> Self {
        TestkitError::CheckEnvironment {
            what: what.into(),
            source,
        }
    }
}
