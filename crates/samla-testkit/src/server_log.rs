//! Reading a server's log file (stdout and stderr of nats-server, appended across
//! restarts): the tail for error messages, and markers such as reload results.

use std::path::Path;

/// How many log lines an error message carries.
const TAIL_LINES: usize = 40;

/// The whole log as text (lossy), or an empty string if it cannot be read.
pub(crate) fn read_log(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The log's current length in bytes, to read only what is written after a point.
pub(crate) fn log_length(path: &Path) -> u64 {
    std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0)
}

/// The log from byte `offset` on.
pub(crate) fn read_log_since(path: &Path, offset: u64) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    bytes
        .get(start..)
        .map(|new| String::from_utf8_lossy(new).into_owned())
        .unwrap_or_default()
}

/// The last lines of `text`.
pub(crate) fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    if lines.is_empty() {
        "(the log is empty)".to_string()
    } else {
        lines[start..].join("\n")
    }
}

/// Whether nats-server (or setpriv) said a port was taken.
pub(crate) fn says_address_in_use(text: &str) -> bool {
    text.contains("address already in use")
}

/// What nats-server logs after a SIGHUP.
pub(crate) const RELOAD_SUCCEEDED: &str = "Reloaded server configuration";
pub(crate) const RELOAD_FAILED: &str = "Failed to reload server configuration";
