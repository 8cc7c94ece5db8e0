//! What every fault test stands on: a nats-server with Samla's permission block (service
//! users and a few organisation users), a token file, `samla serve` as a child process
//! that can be SIGKILLed, and small HTTP and log helpers.
//!
//! Tests that only add events share one server ([`shared`]) and isolate themselves by
//! incident; a test that stops, fills or compares a whole log starts its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use proto_events::examples::example;
use proto_events::{AggregateId, Envelope, EventId, IncidentId, Kind, OrgId};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use samla_api::nats_permissions::{
    NatsCredential, NatsPermissions, OrgUser, ServiceRole, generate_password, org_connect_options,
    service_connect_options,
};
use samla_api::tokens::{TokenKind, TokenStore};
use samla_log::{ConnectOptions, Log, LogConfig, ReadRange};
use samla_testkit::{NatsServer, NatsServerBuilder};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// The organisations every fault server knows (NATS users and tokens).
pub const ORGS: [&str; 3] = ["alfa", "bravo", "charlie"];

/// The log's byte budget in these tests (the server's `max_file_store` is 1 GiB).
pub const LOG_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// How long a `samla serve` may take to print its API address.
pub const START_DEADLINE: Duration = Duration::from_secs(60);

/// The credentials of a fault server: NATS passwords for the organisations and the three
/// services, the permission block rendered from them, and a token file with a token per
/// organisation and the operator's.
pub struct Secrets {
    pub ingest_password: String,
    pub projector_password: String,
    pub api_password: String,
    pub org_passwords: BTreeMap<&'static str, String>,
    pub org_tokens: BTreeMap<&'static str, String>,
    pub operator_token: String,
    pub tokens_file: PathBuf,
    /// The `authorization` block for nats-server's config.
    pub permission_block: String,
    /// Holds the token file; removed with the secrets.
    config: TempDir,
}

impl Secrets {
    /// Fresh random passwords and tokens for [`ORGS`] and the services.
    pub fn generate() -> Secrets {
        let org_passwords: BTreeMap<&'static str, String> =
            ORGS.iter().map(|org| (*org, generate_password())).collect();
        let ingest_password = generate_password();
        let projector_password = generate_password();
        let api_password = generate_password();
        let mut permissions = NatsPermissions::new(
            org_passwords
                .iter()
                .map(|(org, password)| OrgUser {
                    org: org_id(org),
                    credential: NatsCredential::Password(password.clone()),
                })
                .collect(),
            NatsCredential::Password(ingest_password.clone()),
        );
        permissions.projector = Some(NatsCredential::Password(projector_password.clone()));
        permissions.api = Some(NatsCredential::Password(api_password.clone()));
        let permission_block = permissions.render().expect("render the permission block");

        let config = tempfile::tempdir().expect("a config folder");
        let mut tokens = TokenStore::empty();
        let mut org_tokens = BTreeMap::new();
        for org in ORGS {
            let token = tokens
                .create(TokenKind::Org, Some(org_id(org)), None)
                .expect("an org token");
            org_tokens.insert(org, token.plaintext);
        }
        let operator_token = tokens
            .create(TokenKind::Operator, None, None)
            .expect("the operator token")
            .plaintext;
        let tokens_file = config.path().join("tokens.json");
        tokens.write(&tokens_file).expect("write the token file");
        Secrets {
            ingest_password,
            projector_password,
            api_password,
            org_passwords,
            org_tokens,
            operator_token,
            tokens_file,
            permission_block,
            config,
        }
    }

    /// How `samla serve` reaches `nats_urls` with these credentials.
    pub fn serve_options(&self, nats_urls: Vec<String>) -> ServeOptions {
        ServeOptions {
            nats_urls,
            ingest_password: self.ingest_password.clone(),
            projector_password: self.projector_password.clone(),
            tokens_file: self.tokens_file.clone(),
            log_max_bytes: LOG_MAX_BYTES,
            extra_args: Vec::new(),
        }
    }
}

/// A permissioned nats-server and the credentials around it.
pub struct Env {
    pub server: NatsServer,
    pub ingest_password: String,
    pub projector_password: String,
    pub api_password: String,
    pub org_passwords: BTreeMap<&'static str, String>,
    pub org_tokens: BTreeMap<&'static str, String>,
    pub operator_token: String,
    pub tokens_file: PathBuf,
    /// Holds the token file; removed with the environment.
    _config: TempDir,
}

impl Env {
    /// A server of its own with the permission block (for tests that stop or fill it).
    pub fn start() -> Env {
        Env::start_with(NatsServer::builder())
    }

    /// As [`Env::start`] on a customised builder; the permission block is added here.
    pub fn start_with(builder: NatsServerBuilder) -> Env {
        let secrets = Secrets::generate();
        let server = builder
            .extra_config(&secrets.permission_block)
            .start()
            .expect("start a permissioned nats-server");
        Env {
            server,
            ingest_password: secrets.ingest_password,
            projector_password: secrets.projector_password,
            api_password: secrets.api_password,
            org_passwords: secrets.org_passwords,
            org_tokens: secrets.org_tokens,
            operator_token: secrets.operator_token,
            tokens_file: secrets.tokens_file,
            _config: secrets.config,
        }
    }

    pub fn url(&self) -> String {
        self.server.client_url()
    }

    pub fn token(&self, org: &str) -> &str {
        &self.org_tokens[org]
    }

    /// The log as the ingest service sees it (the only user that may write it), opened
    /// with the budget `samla serve` is given.
    pub async fn ingest_log(&self) -> Log {
        let options = ConnectOptions {
            request_timeout: Duration::from_secs(10),
            ..service_connect_options(ServiceRole::Ingest, &self.ingest_password)
        };
        open_log(&self.url(), options, LOG_MAX_BYTES).await
    }

    /// An organisation's own NATS connection (its user, its inbox prefix).
    pub async fn org_client(&self, org: &str) -> async_nats::Client {
        let options = org_connect_options(&org_id(org), &self.org_passwords[org]);
        let samla_log::Auth::UserPassword { user, password } = options.auth else {
            unreachable!("the fault tests use password users");
        };
        async_nats::ConnectOptions::with_user_and_password(user, password)
            .custom_inbox_prefix(options.inbox_prefix.expect("an org inbox prefix"))
            .request_timeout(Some(Duration::from_secs(10)))
            .connect(self.url())
            .await
            .expect("connect as an organisation")
    }
}

/// The binary's shared server, for tests that only add events (isolated by incident).
pub fn shared() -> &'static Env {
    static SHARED: OnceLock<Env> = OnceLock::new();
    SHARED.get_or_init(Env::start)
}

pub async fn open_log(url: &str, options: ConnectOptions, max_bytes: u64) -> Log {
    let connection = samla_log::connect(&[url], options)
        .await
        .expect("connect to the log's server");
    Log::open(&connection, LogConfig::new(max_bytes))
        .await
        .expect("open the log")
}

pub fn org_id(org: &str) -> OrgId {
    OrgId::new(org).expect("a valid org id")
}

/// How a `samla serve` child is started: where its NATS is, as whom, and anything more.
pub struct ServeOptions {
    pub nats_urls: Vec<String>,
    pub ingest_password: String,
    pub projector_password: String,
    pub tokens_file: PathBuf,
    /// `--log-max-bytes`.
    pub log_max_bytes: u64,
    /// Further arguments (e.g. `--log-replicas 3`).
    pub extra_args: Vec<String>,
}

impl Env {
    /// How `samla serve` runs on this server by default.
    pub fn serve_options(&self) -> ServeOptions {
        ServeOptions {
            nats_urls: vec![self.url()],
            ingest_password: self.ingest_password.clone(),
            projector_password: self.projector_password.clone(),
            tokens_file: self.tokens_file.clone(),
            log_max_bytes: LOG_MAX_BYTES,
            extra_args: Vec::new(),
        }
    }
}

/// A `samla serve` child: one replica (ingest, projector, API) with its own read models.
pub struct Serve {
    pub child: Child,
    /// `http://127.0.0.1:PORT/`.
    pub api: String,
    /// Every stderr line so far (the child's diagnostics, for failure messages).
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    /// `samla serve` on `env`'s server with the read models in `data_dir`, on a free port,
    /// returning once it printed its API address.
    pub async fn start(env: &Env, data_dir: &Path) -> Serve {
        Serve::start_with(env, data_dir, LOG_MAX_BYTES).await
    }

    /// As [`Serve::start`] with the log's byte budget (`--log-max-bytes`).
    pub async fn start_with(env: &Env, data_dir: &Path, log_max_bytes: u64) -> Serve {
        let options = ServeOptions {
            log_max_bytes,
            ..env.serve_options()
        };
        Serve::start_on(&options, data_dir).await
    }

    /// `samla serve` as `options` say, with the read models in `data_dir`, on a free
    /// port, returning once it printed its API address.
    pub async fn start_on(options: &ServeOptions, data_dir: &Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_samla"))
            .arg("serve")
            .arg("--log-max-bytes")
            .arg(options.log_max_bytes.to_string())
            .arg("--nats-url")
            .arg(options.nats_urls.join(","))
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--tokens-file")
            .arg(&options.tokens_file)
            .args(["--http", "127.0.0.1:0"])
            .args(&options.extra_args)
            .env("SAMLA_INGEST_PASSWORD", &options.ingest_password)
            .env("SAMLA_PROJECTOR_PASSWORD", &options.projector_password)
            .env_remove("SAMLA_CONFIG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn samla serve");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        let mut err_lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let stderr_reader = tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                sink.lock().expect("stderr lock").push(line);
            }
        });
        let mut out_lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let api = tokio::time::timeout(START_DEADLINE, async {
            while let Ok(Some(line)) = out_lines.next_line().await {
                if let Some(api) = line.strip_prefix("API: ") {
                    return Some(api.to_owned());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        // Keep reading stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = out_lines.next_line().await {} });
        let Some(api) = api else {
            let _ = child.kill().await;
            // The reader ends when the killed child's stderr closes: all of the reason is in.
            let _ = tokio::time::timeout(Duration::from_secs(5), stderr_reader).await;
            panic!(
                "samla serve printed no API address; stderr: {:#?}",
                stderr.lock().expect("stderr lock")
            );
        };
        Serve { child, api, stderr }
    }

    /// SIGKILL, and wait until it is gone.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().expect("stderr lock").join("\n")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.api, path.trim_start_matches('/'))
    }

    /// `GET /readyz`: (state, applied_seq, head_seq), or `None` if it did not answer.
    pub async fn readyz(&self, http: &reqwest::Client) -> Option<(String, u64, u64)> {
        let response = http
            .get(self.url("/readyz"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        let body: Value = response.json().await.ok()?;
        Some((
            body["state"].as_str()?.to_owned(),
            body["applied_seq"].as_u64()?,
            body["head_seq"].as_u64()?,
        ))
    }

    /// Waits until `/readyz` says `ready` with everything up to `seq` applied.
    pub async fn wait_ready_at(&self, http: &reqwest::Client, seq: u64, deadline: Duration) {
        let what = format!("samla serve ready at {seq}");
        samla_testkit::wait_for(&what, deadline, || async {
            match self.readyz(http).await {
                Some((state, applied, _)) if state == "ready" && applied >= seq => Some(()),
                _ => None,
            }
        })
        .await;
    }

    /// `GET path` with a bearer token: status and JSON body (`Null` if not JSON).
    pub async fn get(
        &self,
        http: &reqwest::Client,
        token: &str,
        path: &str,
    ) -> (StatusCode, Value) {
        let response = http
            .get(self.url(path))
            .bearer_auth(token)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// `GET /v1/digest` with `operator_token`: (digest, checkpoint).
    pub async fn digest_as(&self, http: &reqwest::Client, operator_token: &str) -> (String, u64) {
        let (status, body) = self.get(http, operator_token, "/v1/digest").await;
        assert_eq!(status, StatusCode::OK, "GET /v1/digest: {body}");
        (
            body["digest"].as_str().expect("a digest").to_owned(),
            body["checkpoint"].as_u64().expect("a checkpoint"),
        )
    }

    /// `GET /v1/digest` until its checkpoint is `seq`: the stored digest may lag the
    /// in-memory picture (and `/readyz`) by the head write delay and the write under way.
    pub async fn digest_at(&self, http: &reqwest::Client, env: &Env, seq: u64) -> (String, u64) {
        self.digest_as_at(http, &env.operator_token, seq).await
    }

    /// As [`Serve::digest_at`] with `operator_token`.
    pub async fn digest_as_at(
        &self,
        http: &reqwest::Client,
        operator_token: &str,
        seq: u64,
    ) -> (String, u64) {
        samla_testkit::wait_for(
            &format!("the digest at checkpoint {seq}"),
            Duration::from_secs(30),
            || async {
                let (digest, checkpoint) = self.digest_as(http, operator_token).await;
                (checkpoint == seq).then_some((digest, checkpoint))
            },
        )
        .await
    }

    /// `POST /v1/events` with raw bytes as JSON: status, headers, body text.
    pub async fn post_raw(
        &self,
        http: &reqwest::Client,
        token: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, HeaderMap, String), reqwest::Error> {
        let response = http
            .post(self.url("/v1/events"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .timeout(Duration::from_secs(30))
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await?;
        Ok((status, headers, text))
    }

    /// Every sequence the timeline shows `token`'s caller for `incident`, once the read
    /// models applied `min_seq` (pages of 500, newest first, gathered).
    pub async fn timeline_seqs(
        &self,
        http: &reqwest::Client,
        token: &str,
        incident: &str,
        min_seq: u64,
    ) -> Vec<u64> {
        let mut seqs = Vec::new();
        let mut before: Option<u64> = None;
        loop {
            let mut path = format!("/v1/incidents/{incident}/timeline?limit=500&min_seq={min_seq}");
            if let Some(before) = before {
                path.push_str(&format!("&before={before}"));
            }
            let (status, body) = self.get(http, token, &path).await;
            assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
            let items = body["items"].as_array().expect("timeline items");
            seqs.extend(items.iter().filter_map(|item| item["seq"].as_u64()));
            match body["next_before"].as_u64() {
                Some(next) if !items.is_empty() => before = Some(next),
                _ => break,
            }
        }
        seqs.sort_unstable();
        seqs
    }
}

/// `samla projector --digest-at-head` on an empty folder against `nats_urls` (with
/// `extra_args`, e.g. `--log-replicas 3`): the digest and checkpoint of a clean fold.
pub async fn clean_digest_on(
    nats_urls: &[String],
    projector_password: &str,
    extra_args: &[&str],
) -> (String, u64) {
    let folder = tempfile::tempdir().expect("a clean folder");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_samla"))
        .args(["projector", "--digest-at-head", "--json", "--log-max-bytes"])
        .arg(LOG_MAX_BYTES.to_string())
        .arg("--nats-url")
        .arg(nats_urls.join(","))
        .arg("--data-dir")
        .arg(folder.path())
        .args(extra_args)
        .env("SAMLA_PROJECTOR_PASSWORD", projector_password)
        .env_remove("SAMLA_CONFIG")
        .output()
        .await
        .expect("run samla projector");
    assert!(
        output.status.success(),
        "samla projector --digest-at-head failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).expect("a JSON digest");
    (
        answer["digest"].as_str().expect("digest").to_owned(),
        answer["checkpoint"].as_u64().expect("checkpoint"),
    )
}

/// An HTTP client for tests (no proxy from the environment, short connect timeout).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client")
}

/// The contract's example of `kind`, by `org` on `aggregate_id` in `incident`, with a
/// fresh id.
pub fn envelope(kind: Kind, incident: &str, org: &str, aggregate_id: &str) -> Envelope {
    let mut envelope = example(kind);
    envelope.id = EventId::new_v7();
    envelope.incident = IncidentId::new(incident).expect("an incident id");
    envelope.org = org_id(org);
    envelope.aggregate.id = AggregateId::new(aggregate_id).expect("an aggregate id");
    envelope
}

/// An envelope as the JSON the HTTP door takes.
pub fn json_of(envelope: &Envelope) -> Value {
    serde_json::from_str(&proto_events::encode_json(envelope)).expect("envelope JSON")
}

/// Every event id stored for `incident`, in log order, with its sequence.
pub async fn stored(log: &Log, incident: &str) -> Vec<(u64, String)> {
    log.read(ReadRange::incident(incident, 1))
        .await
        .expect("start reading the incident")
        .collect_all()
        .await
        .expect("read the incident")
        .iter()
        .filter_map(|record| record.msg_id().map(|id| (record.seq(), id.to_owned())))
        .collect()
}

/// A seed from `SAMLA_CRASH_SEED` (to vary a run by hand), else `default`; printed so a
/// failing run can be repeated.
pub fn seed(test: &str, default: u64) -> u64 {
    let seed = std::env::var("SAMLA_CRASH_SEED")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(default);
    eprintln!("{test}: seed {seed} (set SAMLA_CRASH_SEED to vary it)");
    seed
}
