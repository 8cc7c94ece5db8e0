//! HTTP credentials: bearer tokens, stored hashed in `<config>/tokens.json`, a file every
//! replica reads.
//!
//! A token is 32 random bytes, written `samla_<base64url, no padding>` (49 characters),
//! shown once when created; the file keeps only its SHA-256 (a random 256-bit token needs
//! no slow password hash: there is nothing to guess). The credential decides who speaks:
//!
//! ```json
//! { "tokens": [
//!     { "kind": "org", "org": "malmo-stad", "sha256": "<64 hex>", "label": "incident tool" },
//!     { "kind": "share", "sha256": "<64 hex>", "label": "wall screen, crisis room" },
//!     { "kind": "operator", "sha256": "<64 hex>" } ] }
//! ```
//!
//! - `org`: posts events as that organisation and reads as it;
//! - `share`: read-only (wall screens; optionally scoped to one organisation's view);
//! - `operator`: quarantine, digest, metrics detail. Neither `share` nor `operator` may post
//!   events.
//!
//! Verification hashes the presented token and compares it with every entry in constant
//! time. [`SharedTokens`] re-reads the file when it changes, so `samla org add` on one
//! replica reaches all of them without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use proto_events::OrgId;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Every token starts with this, so a leaked one is easy to find in logs and scanners.
pub const TOKEN_PREFIX: &str = "samla_";

/// The file name under the config folder.
pub const TOKENS_FILE: &str = "tokens.json";

/// Tokens longer than this are refused without hashing.
const MAX_TOKEN_LEN: usize = 256;

/// `<config_dir>/tokens.json`.
pub fn tokens_path(config_dir: &Path) -> PathBuf {
    config_dir.join(TOKENS_FILE)
}

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Org,
    Share,
    Operator,
}

/// One stored token: who it is for and the SHA-256 of the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    pub kind: TokenKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgId>,
    /// Lower-case hex of SHA-256 over the token's UTF-8 bytes.
    pub sha256: String,
    /// What the token is for, for people reading the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Who presented a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Organisation(OrgId),
    Share { org: Option<OrgId> },
    Operator,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    tokens: Vec<TokenEntry>,
}

/// The known tokens.
#[derive(Debug, Clone, Default)]
pub struct TokenStore {
    entries: Vec<TokenEntry>,
    hashes: Vec<[u8; 32]>,
}

/// A token just created: the plaintext exists only here; show it once.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub plaintext: String,
    pub entry: TokenEntry,
}

impl TokenStore {
    /// No tokens: every request is refused.
    pub fn empty() -> Self {
        TokenStore::default()
    }

    /// Reads `<config>/tokens.json`.
    pub fn load(path: &Path) -> Result<Self, ApiError> {
        let text = std::fs::read_to_string(path).map_err(|error| token_file(path, error))?;
        Self::from_json(&text).map_err(|reason| ApiError::TokenFile {
            path: path.to_owned(),
            reason,
        })
    }

    /// Parses and checks the file's content.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let file: TokenFile = serde_json::from_str(text).map_err(|error| error.to_string())?;
        let mut store = TokenStore::empty();
        for entry in file.tokens {
            store.insert(entry)?;
        }
        Ok(store)
    }

    fn insert(&mut self, entry: TokenEntry) -> Result<(), String> {
        match (entry.kind, &entry.org) {
            (TokenKind::Org, None) => {
                return Err(format!("an org token ({}) must name its org", entry.sha256));
            }
            (TokenKind::Operator, Some(org)) => {
                return Err(format!("an operator token may not name an org ({org})"));
            }
            _ => {}
        }
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&entry.sha256, &mut hash)
            .ok()
            .filter(|()| entry.sha256.bytes().all(|b| !b.is_ascii_uppercase()))
            .ok_or_else(|| format!("sha256 {:?} must be 64 lower-case hex digits", entry.sha256))?;
        if self.hashes.contains(&hash) {
            return Err(format!("token {} is listed twice", entry.sha256));
        }
        self.hashes.push(hash);
        self.entries.push(entry);
        Ok(())
    }

    pub fn entries(&self) -> &[TokenEntry] {
        &self.entries
    }

    /// Who `presented` belongs to, if anyone. Every entry is compared, in constant time
    /// per entry, so timing says nothing about which hash was close.
    pub fn verify(&self, presented: &str) -> Option<Principal> {
        if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
            return None;
        }
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (index, hash) in self.hashes.iter().enumerate() {
            if constant_time_eq(hash, &digest) {
                found = Some(index);
            }
        }
        let entry = &self.entries[found?];
        Some(match entry.kind {
            TokenKind::Org => Principal::Organisation(entry.org.clone()?),
            TokenKind::Share => Principal::Share {
                org: entry.org.clone(),
            },
            TokenKind::Operator => Principal::Operator,
        })
    }

    /// Creates a token, adds its hash, and returns the plaintext (once).
    pub fn create(
        &mut self,
        kind: TokenKind,
        org: Option<OrgId>,
        label: Option<String>,
    ) -> Result<NewToken, ApiError> {
        let plaintext = generate_token();
        let entry = TokenEntry {
            kind,
            org,
            sha256: hash_token(&plaintext),
            label,
        };
        self.insert(entry.clone())
            .map_err(|reason| ApiError::InvalidToken { reason })?;
        Ok(NewToken { plaintext, entry })
    }

    /// Writes the file with mode 0600, atomically (a temp file renamed over it), so a
    /// replica reading it never sees half a file.
    pub fn write(&self, path: &Path) -> Result<(), ApiError> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;

        let file = TokenFile {
            tokens: self.entries.clone(),
        };
        let mut text = serde_json::to_string_pretty(&file).map_err(|e| token_file(path, e))?;
        text.push('\n');
        let temp = path.with_extension("json.tmp");
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .map_err(|error| token_file(&temp, error))?;
        out.write_all(text.as_bytes())
            .and_then(|()| out.sync_all())
            .map_err(|error| token_file(&temp, error))?;
        std::fs::rename(&temp, path).map_err(|error| token_file(path, error))
    }
}

fn token_file(path: &Path, error: impl std::fmt::Display) -> ApiError {
    ApiError::TokenFile {
        path: path.to_owned(),
        reason: error.to_string(),
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a
        .iter()
        .zip(b)
        .fold(0u8, |difference, (x, y)| difference | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// A new token: `samla_` + 32 random bytes from the thread's CSPRNG, base64url.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Lower-case hex SHA-256 of a token, as stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token store every request reads, re-read from its file when the file changes.
#[derive(Debug, Clone)]
pub struct SharedTokens {
    current: Arc<RwLock<Arc<TokenStore>>>,
    source: Option<Arc<Source>>,
}

#[derive(Debug)]
struct Source {
    path: PathBuf,
    /// SHA-256 of the file as last loaded: a change of content, not of the clock, reloads.
    fingerprint: std::sync::Mutex<Option<[u8; 32]>>,
}

impl SharedTokens {
    /// A fixed set of tokens (tests, embedded use).
    pub fn fixed(store: TokenStore) -> Self {
        SharedTokens {
            current: Arc::new(RwLock::new(Arc::new(store))),
            source: None,
        }
    }

    /// Tokens from a file, re-read by [`SharedTokens::reload_if_changed`].
    pub fn from_file(path: &Path) -> Result<Self, ApiError> {
        let fingerprint = file_fingerprint(path);
        let store = TokenStore::load(path)?;
        Ok(SharedTokens {
            current: Arc::new(RwLock::new(Arc::new(store))),
            source: Some(Arc::new(Source {
                path: path.to_owned(),
                fingerprint: std::sync::Mutex::new(fingerprint),
            })),
        })
    }

    /// The tokens in force now.
    pub fn current(&self) -> Arc<TokenStore> {
        let guard = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(&guard)
    }

    pub fn verify(&self, presented: &str) -> Option<Principal> {
        self.current().verify(presented)
    }

    /// Re-reads the file if its modification time changed. A file that does not parse is
    /// reported and the tokens in force stay (a half-edited file must not lock everyone
    /// out). Returns whether new tokens were loaded.
    pub fn reload_if_changed(&self) -> Result<bool, ApiError> {
        let Some(source) = &self.source else {
            return Ok(false);
        };
        let fingerprint = file_fingerprint(&source.path);
        let mut seen = source
            .fingerprint
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if fingerprint == *seen {
            return Ok(false);
        }
        let store = TokenStore::load(&source.path)?;
        *seen = fingerprint;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(store);
        Ok(true)
    }
}

fn file_fingerprint(path: &Path) -> Option<[u8; 32]> {
    let bytes = std::fs::read(path).ok()?;
    Some(Sha256::digest(&bytes).into())
}
