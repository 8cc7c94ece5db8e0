//! The local stack's folder and its credentials.
//!
//! ```text
//! <data-dir>/
//!   stack.json                     where the running stack listens (removed on a clean stop)
//!   config/tokens.json             hashed API tokens (what every replica reads)
//!   config/local-credentials.json  the plaintext tokens and NATS passwords, owner-only,
//!                                  so each start can print them
//!   nats/nats.conf, nats/auth.conf the managed server's config and its users
//!   nats/store/                    JetStream's files: the log
//!   nats/nats.pid, nats/nats.log
//!   read-models/                   the projector's sled folders
//! ```

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use proto_events::OrgId;
use samla_api::nats_permissions::{NatsCredential, NatsPermissions, OrgUser, generate_password};
use samla_api::tokens::{TokenEntry, TokenKind, TokenStore, generate_token, hash_token};
use serde::{Deserialize, Serialize};

use crate::exit::{CliError, CliResult, usage};

/// The paths of one local stack.
#[derive(Debug, Clone)]
pub struct LocalStack {
    root: PathBuf,
}

impl LocalStack {
    pub fn at(root: impl Into<PathBuf>) -> Self {
        LocalStack { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn config_dir(&self) -> PathBuf {
        self.root.join("config")
    }
    pub fn tokens_file(&self) -> PathBuf {
        samla_api::tokens::tokens_path(&self.config_dir())
    }
    pub fn credentials_file(&self) -> PathBuf {
        self.config_dir().join("local-credentials.json")
    }
    pub fn nats_dir(&self) -> PathBuf {
        self.root.join("nats")
    }
    pub fn nats_config(&self) -> PathBuf {
        self.nats_dir().join("nats.conf")
    }
    pub fn nats_auth(&self) -> PathBuf {
        self.nats_dir().join("auth.conf")
    }
    pub fn nats_store(&self) -> PathBuf {
        self.nats_dir().join("store")
    }
    pub fn nats_pid_file(&self) -> PathBuf {
        self.nats_dir().join("nats.pid")
    }
    pub fn nats_log(&self) -> PathBuf {
        self.nats_dir().join("nats.log")
    }
    pub fn read_models(&self) -> PathBuf {
        self.root.join("read-models")
    }
    pub fn stack_file(&self) -> PathBuf {
        self.root.join("stack.json")
    }

    /// Creates the folders (owner-only where secrets live).
    pub fn create(&self) -> CliResult {
        for dir in [
            self.root.clone(),
            self.config_dir(),
            self.nats_dir(),
            self.nats_store(),
        ] {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        use std::os::unix::fs::PermissionsExt as _;
        for dir in [self.config_dir(), self.nats_dir()] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("making {} owner-only", dir.display()))?;
        }
        Ok(())
    }

    /// Where the running stack listens, if one said so.
    pub fn running(&self) -> Option<RunningStack> {
        let text = std::fs::read_to_string(self.stack_file()).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn write_running(&self, running: &RunningStack) -> CliResult {
        let text = serde_json::to_string_pretty(running).context("encoding stack.json")?;
        write_private(&self.stack_file(), text.as_bytes())
    }
}

/// `stack.json`: how clients on this machine find the running local stack.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunningStack {
    /// The API and dashboard, e.g. `http://127.0.0.1:8080/`.
    pub api: String,
    pub nats: String,
    pub pid: u32,
}

/// One organisation's local credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgCredentials {
    /// The API token (`samla_…`).
    pub token: String,
    /// The password of the NATS user `org-<org>`.
    pub nats_password: String,
}

/// Every credential of a local stack, in plaintext (the file is owner-only).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub orgs: BTreeMap<OrgId, OrgCredentials>,
    pub share_token: String,
    pub operator_token: String,
    pub ingest_password: String,
    pub projector_password: String,
}

impl Credentials {
    fn fresh() -> Self {
        Credentials {
            orgs: BTreeMap::new(),
            share_token: generate_token(),
            operator_token: generate_token(),
            ingest_password: generate_password(),
            projector_password: generate_password(),
        }
    }

    /// Reads the stack's credentials, creating them on the first start.
    pub fn load_or_create(stack: &LocalStack) -> CliResult<Credentials> {
        let path = stack.credentials_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|error| {
                CliError::Failed(anyhow::anyhow!(
                    "{} is damaged ({error}); move it away to start with new credentials",
                    path.display()
                ))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let credentials = Credentials::fresh();
                credentials.save(stack)?;
                Ok(credentials)
            }
            Err(error) => Err(CliError::Failed(
                anyhow::Error::new(error).context(format!("reading {}", path.display())),
            )),
        }
    }

    /// Reads them, or says how to get a stack first.
    pub fn load(stack: &LocalStack) -> CliResult<Credentials> {
        let path = stack.credentials_file();
        if !path.exists() {
            return Err(usage(format!(
                "no local stack in {} (no {}): start one with `samla up --data-dir {}`, or give --api and --token",
                stack.root().display(),
                path.display(),
                stack.root().display()
            )));
        }
        Credentials::load_or_create(stack)
    }

    /// Adds `org` (new token and NATS password) unless it exists; says whether it did.
    pub fn ensure_org(&mut self, org: &OrgId) -> bool {
        if self.orgs.contains_key(org) {
            return false;
        }
        self.orgs.insert(
            org.clone(),
            OrgCredentials {
                token: generate_token(),
                nats_password: generate_password(),
            },
        );
        true
    }

    /// The token of `org`, or an error naming the organisations there are.
    pub fn org_token(&self, org: &str) -> CliResult<&str> {
        let found = OrgId::new(org)
            .ok()
            .and_then(|org| self.orgs.get(&org))
            .map(|credentials| credentials.token.as_str());
        found.ok_or_else(|| {
            let known: Vec<String> = self.orgs.keys().map(ToString::to_string).collect();
            usage(format!(
                "organisation `{org}` is not in this local stack (known: {}); add it with `samla org add {org}`",
                if known.is_empty() { "none".to_owned() } else { known.join(", ") }
            ))
        })
    }

    /// Writes the credentials file and the hashed token file every replica reads.
    pub fn save(&self, stack: &LocalStack) -> CliResult {
        stack.create()?;
        let text = serde_json::to_string_pretty(self).context("encoding the credentials")?;
        write_private(&stack.credentials_file(), text.as_bytes())?;
        self.token_store()?
            .write(&stack.tokens_file())
            .map_err(|error| CliError::Failed(anyhow::Error::new(error)))
    }

    /// The hashed tokens.
    pub fn token_store(&self) -> CliResult<TokenStore> {
        let mut entries: Vec<TokenEntry> = self
            .orgs
            .iter()
            .map(|(org, credentials)| TokenEntry {
                kind: TokenKind::Org,
                org: Some(org.clone()),
                sha256: hash_token(&credentials.token),
                label: Some(format!("{org} (local stack)")),
            })
            .collect();
        entries.push(TokenEntry {
            kind: TokenKind::Share,
            org: None,
            sha256: hash_token(&self.share_token),
            label: Some("wall screens (local stack)".into()),
        });
        entries.push(TokenEntry {
            kind: TokenKind::Operator,
            org: None,
            sha256: hash_token(&self.operator_token),
            label: Some("operator (local stack)".into()),
        });
        let text = serde_json::json!({ "tokens": entries }).to_string();
        TokenStore::from_json(&text)
            .map_err(|reason| CliError::Failed(anyhow::anyhow!("token file: {reason}")))
    }

    /// The NATS users: each organisation, the ingest service, the projector.
    pub fn nats_permissions(&self) -> NatsPermissions {
        let orgs = self
            .orgs
            .iter()
            .map(|(org, credentials)| OrgUser {
                org: org.clone(),
                credential: NatsCredential::Password(credentials.nats_password.clone()),
            })
            .collect();
        let mut permissions =
            NatsPermissions::new(orgs, NatsCredential::Password(self.ingest_password.clone()));
        permissions.projector = Some(NatsCredential::Password(self.projector_password.clone()));
        permissions
    }
}

/// Writes `bytes` to `path` with mode 0600, through a temp file renamed over it.
pub fn write_private(path: &Path, bytes: &[u8]) -> CliResult {
    let temp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .with_context(|| format!("writing {}", temp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
