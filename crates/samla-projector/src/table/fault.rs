//! The first read of the store behind backed tables that failed, and what it says about
//! the folder: damage to rebuild over, or a store that could not be reached.

use crate::error::ProjectorError;

/// Why a read of the store behind backed tables failed (the first such read of a
/// [`super::Backing`]): what was read, and either sled's error or that the bytes read do
/// not decode.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    what: String,
    /// sled's error when sled could not read; `None` when the stored bytes (or key) were
    /// read but do not decode.
    sled: Option<sled::Error>,
}

impl Fault {
    /// sled could not read `what`.
    pub(crate) fn sled(what: impl Into<String>, error: sled::Error) -> Self {
        Fault {
            what: what.into(),
            sled: Some(error),
        }
    }

    /// What was read does not decode: `what` says which row and how.
    pub(crate) fn undecodable(what: impl Into<String>) -> Self {
        Fault {
            what: what.into(),
            sled: None,
        }
    }

    /// Whether the fault is damage to the stored read models rather than a store that
    /// could not be reached: sled's error sorted as [`crate::store::from_sled`] sorts it
    /// (corruption, not a permission, no space or too many open files), and bytes that do
    /// not decode are damage.
    pub fn is_damage(&self) -> bool {
        self.sled.as_ref().is_none_or(crate::store::is_corrupt)
    }

    /// The fault as the error of loading the read models: damage is
    /// [`ProjectorError::Corrupt`] (the engine rebuilds them beside), anything else
    /// [`ProjectorError::Storage`] (the engine stops and leaves the folder as it is, since
    /// rebuilding beside it would meet the same cause).
    pub fn into_load_error(self) -> ProjectorError {
        let message = format!("a read-model row could not be read: {self}");
        if self.is_damage() {
            ProjectorError::Corrupt(message)
        } else {
            ProjectorError::Storage(format!("{message}: {}", crate::store::FOLDER_LEFT_AS_IT_IS))
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sled {
            Some(error) => write!(f, "{}: {error}", self.what),
            None => f.write_str(&self.what),
        }
    }
}
