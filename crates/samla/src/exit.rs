//! Exit codes and the one error type of the command line.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | done |
//! | 1 | failure (anything not below; for `samla projector`, also a log whose stream is gone, which no retry brings back) |
//! | 2 | usage: a wrong flag or argument, a bad config file |
//! | 3 | bad input: some events or rows were refused (each is reported; the good ones landed) |
//! | 4 | unavailable: NATS or the Samla API could not be reached, or answered 503 |
//! | 5 | not allowed: the token is missing, unknown, or may not do this |

use std::process::ExitCode;

/// What went wrong, grouped by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag, argument or config value is wrong: fix the command.
    #[error("{0}")]
    Usage(String),
    /// Some input was refused; the report says which and why.
    #[error("{0}")]
    BadInput(String),
    /// A service could not be reached: start it, or check the URL.
    #[error("{0}")]
    Unavailable(String),
    /// The credential is missing or not allowed.
    #[error("{0}")]
    NotAllowed(String),
    /// Anything else.
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
    /// clap's own error (help and version included), printed the way clap prints it.
    #[error("{0}")]
    Clap(#[from] clap::Error),
}

impl CliError {
    pub fn code(&self) -> u8 {
        match self {
            CliError::Failed(_) => 1,
            CliError::Usage(_) => 2,
            CliError::BadInput(_) => 3,
            CliError::Unavailable(_) => 4,
            CliError::NotAllowed(_) => 5,
            CliError::Clap(error) => {
                if error.use_stderr() {
                    2
                } else {
                    0
                }
            }
        }
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;

/// Prints the error (clap's own way for clap errors) and turns it into the exit code.
pub fn report(error: &CliError) -> ExitCode {
    match error {
        CliError::Clap(error) => {
            let _ = error.print();
        }
        other => eprintln!("samla: {other}"),
    }
    ExitCode::from(error.code())
}

/// Shorthand for a usage error.
pub fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// Shorthand for an unavailable service.
pub fn unavailable(message: impl Into<String>) -> CliError {
    CliError::Unavailable(message.into())
}
