//! One nats-server with JetStream: [`NatsServer`] and its [`NatsServerBuilder`].
//!
//! Each server owns a temp folder holding its rendered config (`server.conf`), its
//! JetStream store (`store/`) and its log (`server.log`). Ports are chosen free once and
//! kept for the server's life, so a restarted server comes back where clients expect it.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use tempfile::TempDir;

use crate::config::{ClusterConfig, HOST, ServerConfig};
use crate::probe::{free_ports, http_get};
use crate::server_log::{
    RELOAD_FAILED, RELOAD_SUCCEEDED, log_length, read_log, read_log_since, says_address_in_use,
    tail,
};
use crate::{TestkitError, nats_server_binary, spawner};

/// How long a server may take to answer `/healthz` with 200 after it is started. Generous
/// because CI machines are small and several test binaries start servers at once.
pub(crate) const READY_DEADLINE: Duration = Duration::from_secs(20);

/// How long a graceful stop (SIGTERM) may take before the server is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// How long nats-server may take to log the result of a SIGHUP.
const RELOAD_DEADLINE: Duration = Duration::from_secs(10);

/// The polling interval for readiness, exit and reload checks.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Default JetStream `max_file_store`: 1 GiB.
pub const DEFAULT_MAX_FILE_STORE: u64 = 1024 * 1024 * 1024;

/// Temp folders are named `samla-testkit-<pid>-…` so a later run can remove those left
/// by a test process that died without running destructors.
const TEMP_PREFIX: &str = "samla-testkit-";

/// Builds a single server; see [`NatsServer::builder`].
#[derive(Debug, Clone)]
pub struct NatsServerBuilder {
    binary: Option<PathBuf>,
    server_name: String,
    sync_always: bool,
    max_file_store: u64,
    extra: String,
}

impl Default for NatsServerBuilder {
    fn default() -> Self {
        NatsServerBuilder {
            binary: None,
            server_name: "samla-test".to_string(),
            sync_always: true,
            max_file_store: DEFAULT_MAX_FILE_STORE,
            extra: String::new(),
        }
    }
}

impl NatsServerBuilder {
    /// Use this binary instead of [`nats_server_binary`] (e.g. an old version for a
    /// refusal test).
    pub fn binary(mut self, path: PathBuf) -> Self {
        self.binary = Some(path);
        self
    }

    /// `sync_interval: always` (the default, as in production) or nats-server's own
    /// 2-minute default, for measuring the difference.
    pub fn sync_always(mut self, yes: bool) -> Self {
        self.sync_always = yes;
        self
    }

    /// JetStream `max_file_store` in bytes (default 1 GiB); small values let tests fill
    /// the store.
    pub fn max_file_store(mut self, bytes: u64) -> Self {
        self.max_file_store = bytes;
        self
    }

    /// Text appended to the rendered config (accounts and users blocks).
    pub fn extra_config(mut self, text: &str) -> Self {
        self.extra = text.to_string();
        self
    }

    /// The `server_name` (default `samla-test`).
    pub fn server_name(mut self, name: &str) -> Self {
        self.server_name = name.to_string();
        self
    }

    /// Starts the server and waits until `/healthz` says JetStream is ready. Retries once
    /// with fresh ports if a chosen port was taken in the meantime.
    pub fn start(self) -> Result<NatsServer, TestkitError> {
        let settings = self.into_settings()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let [client_port, monitor_port] = two_free_ports()?;
            let mut server = NatsServer::prepare(settings.clone(), client_port, monitor_port)?;
            match server.spawn_and_wait(Instant::now() + READY_DEADLINE) {
                Ok(()) => return Ok(server),
                Err(error) if attempt < 2 && server.log_says_address_in_use(0) => drop(error),
                Err(error) => return Err(error),
            }
        }
    }

    pub(crate) fn into_settings(self) -> Result<Settings, TestkitError> {
        let binary = match self.binary {
            Some(binary) => binary,
            None => nats_server_binary()?,
        };
        if !binary.is_file() {
            return Err(TestkitError::InstallNatsServer {
                message: format!(
                    "no nats-server binary at {}; run `deploy/install-nats-server.sh`",
                    binary.display()
                ),
            });
        }
        Ok(Settings {
            binary,
            server_name: self.server_name,
            sync_always: self.sync_always,
            max_file_store: self.max_file_store,
            extra: self.extra,
            cluster: None,
        })
    }
}

fn two_free_ports() -> Result<[u16; 2], TestkitError> {
    let ports = free_ports(2)?;
    Ok([ports[0], ports[1]])
}

/// What a server is started with, kept for restarts.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub binary: PathBuf,
    pub server_name: String,
    pub sync_always: bool,
    pub max_file_store: u64,
    pub extra: String,
    pub cluster: Option<ClusterPlacement>,
}

/// A node's place in a cluster.
#[derive(Debug, Clone)]
pub(crate) struct ClusterPlacement {
    pub cluster_name: String,
    pub cluster_port: u16,
    pub route_ports: Vec<u16>,
}

/// A running (or stopped) nats-server with JetStream, owned by a test.
///
/// Dropping it kills the server and removes its temp folder. If the test process dies
/// without running destructors, the watchdog (see `spawner.rs`) kills the server.
#[derive(Debug)]
pub struct NatsServer {
    settings: Settings,
    client_port: u16,
    monitor_port: u16,
    config_path: PathBuf,
    store_dir: PathBuf,
    log_path: PathBuf,
    child: Option<Child>,
    // Last, so the folder is removed after everything else is dropped.
    dir: TempDir,
}

impl NatsServer {
    /// A single node with JetStream on free ports, a temp store and `sync_interval:
    /// always`, ready to use.
    pub fn start() -> Result<NatsServer, TestkitError> {
        NatsServer::builder().start()
    }

    /// A builder for a server with non-default settings.
    pub fn builder() -> NatsServerBuilder {
        NatsServerBuilder::default()
    }

    /// One server per test binary, started on first use and shared by every test in it.
    /// Never dropped: the watchdog kills it when the test process exits. Tests sharing it
    /// must use their own stream names. Panics if the server cannot start (the message
    /// says how to fix it), since it serves tests only.
    pub fn shared() -> &'static NatsServer {
        static SHARED: OnceLock<NatsServer> = OnceLock::new();
        SHARED.get_or_init(|| match NatsServer::start() {
            Ok(server) => server,
            Err(error) => panic!("could not start the shared test nats-server: {error}"),
        })
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn client_url(&self) -> String {
        format!("nats://{HOST}:{}", self.client_port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.client_port
    }

    /// The HTTP monitoring port (`/healthz`, `/jsz`, `/varz`).
    pub fn monitor_port(&self) -> u16 {
        self.monitor_port
    }

    /// `http://127.0.0.1:MONITOR_PORT`.
    pub fn monitor_url(&self) -> String {
        format!("http://{HOST}:{}", self.monitor_port)
    }

    /// The configured JetStream `store_dir`; nats-server keeps its data under
    /// `<store_dir>/jetstream` (see [`NatsServer::jetstream_data_dir`]).
    pub fn store_dir(&self) -> &Path {
        &self.store_dir
    }

    /// `<store_dir>/jetstream`, where the stream folders and message blocks are.
    pub fn jetstream_data_dir(&self) -> PathBuf {
        self.store_dir.join("jetstream")
    }

    /// The rendered config file.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// The server's stdout and stderr, appended across restarts.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The `server_name` (JetStream peers and stream leaders are reported by it).
    pub fn server_name(&self) -> &str {
        &self.settings.server_name
    }

    /// The process id while the server is started (until `kill` or `stop`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the server process is alive (it may have crashed on its own).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// SIGKILL, like a power cut for the process (with `sync_interval: always`,
    /// acknowledged writes are on disk). Waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM (graceful shutdown), waits up to 10 s, then SIGKILL.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if send_signal(&child, Signal::TERM).is_ok() {
            let deadline = Instant::now() + STOP_DEADLINE;
            while Instant::now() < deadline {
                if !matches!(child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(POLL_INTERVAL);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Graceful stop, then start again on the same ports with the same store and config;
    /// returns once the server is ready.
    pub fn restart(&mut self) -> Result<(), TestkitError> {
        self.stop();
        self.start_again()
    }

    /// Starts a killed or stopped server again (same ports, store and config) and waits
    /// until it is ready.
    pub fn start_again(&mut self) -> Result<(), TestkitError> {
        if self.is_running() {
            return Err(TestkitError::StopServerFirst {
                server_name: self.settings.server_name.clone(),
            });
        }
        self.kill();
        // The ports are fixed now; if another process briefly holds one (a free-port
        // probe elsewhere), trying again shortly after is all that can be done.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let log_before = log_length(&self.log_path);
            match self.spawn_and_wait(Instant::now() + READY_DEADLINE) {
                Ok(()) => return Ok(()),
                Err(error) if attempt < 3 && self.log_says_address_in_use(log_before) => {
                    drop(error);
                    self.kill();
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// SIGHUP: nats-server re-reads its config file (after [`NatsServer::rewrite_config`]).
    /// Returns once the server has logged that the reload succeeded; an error if it
    /// logged that it refused the new config.
    pub fn reload(&self) -> Result<(), TestkitError> {
        let Some(child) = self.child.as_ref() else {
            return Err(TestkitError::StartServerFirst {
                server_name: self.settings.server_name.clone(),
            });
        };
        let log_before = log_length(&self.log_path);
        send_signal(child, Signal::HUP).map_err(|error| {
            TestkitError::environment(format!("send SIGHUP to nats-server {}", child.id()), error)
        })?;
        let deadline = Instant::now() + RELOAD_DEADLINE;
        loop {
            let new_lines = read_log_since(&self.log_path, log_before);
            if new_lines.contains(RELOAD_SUCCEEDED) {
                return Ok(());
            }
            if new_lines.contains(RELOAD_FAILED) {
                return Err(self.log_error("nats-server refused the rewritten config on reload"));
            }
            if Instant::now() >= deadline {
                return Err(self.log_error("nats-server did not log a reload result within 10 s"));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Replaces the extra config text (accounts, users) and re-renders the config file.
    /// Takes effect on [`NatsServer::reload`] or the next start.
    pub fn rewrite_config(&mut self, extra: &str) -> Result<(), TestkitError> {
        self.settings.extra = extra.to_string();
        self.write_config()
    }

    /// GET a monitoring endpoint (`/jsz`, `/varz`, `/healthz`, …) and parse its JSON;
    /// `None` if the server does not answer 200 with JSON.
    pub fn monitor_json(&self, path: &str) -> Option<serde_json::Value> {
        let answer = http_get(self.monitor_port, path)?;
        if answer.status != 200 {
            return None;
        }
        serde_json::from_str(&answer.body).ok()
    }

    /// The JetStream meta leader's server name as this node sees it (`/jsz`), if any.
    pub fn jetstream_meta_leader(&self) -> Option<String> {
        self.monitor_json("/jsz")?
            .pointer("/meta_cluster/leader")?
            .as_str()
            .filter(|leader| !leader.is_empty())
            .map(str::to_string)
    }

    /// Creates the temp folder and config file, without starting the process.
    pub(crate) fn prepare(
        settings: Settings,
        client_port: u16,
        monitor_port: u16,
    ) -> Result<NatsServer, TestkitError> {
        remove_stale_temp_folders();
        let dir = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|error| TestkitError::environment("create a temp folder", error))?;
        let store_dir = dir.path().join("store");
        std::fs::create_dir_all(&store_dir).map_err(|error| {
            TestkitError::environment(format!("create {}", store_dir.display()), error)
        })?;
        let server = NatsServer {
            settings,
            client_port,
            monitor_port,
            config_path: dir.path().join("server.conf"),
            store_dir,
            log_path: dir.path().join("server.log"),
            child: None,
            dir,
        };
        server.write_config()?;
        Ok(server)
    }

    fn write_config(&self) -> Result<(), TestkitError> {
        let cluster = self
            .settings
            .cluster
            .as_ref()
            .map(|placement| ClusterConfig {
                cluster_name: &placement.cluster_name,
                cluster_port: placement.cluster_port,
                route_ports: &placement.route_ports,
            });
        let text = ServerConfig {
            server_name: &self.settings.server_name,
            client_port: self.client_port,
            monitor_port: self.monitor_port,
            store_dir: &self.store_dir,
            max_file_store: self.settings.max_file_store,
            sync_always: self.settings.sync_always,
            extra: &self.settings.extra,
            cluster,
        }
        .render()?;
        std::fs::write(&self.config_path, text).map_err(|error| {
            TestkitError::environment(format!("write {}", self.config_path.display()), error)
        })
    }

    fn spawn_and_wait(&mut self, deadline: Instant) -> Result<(), TestkitError> {
        self.spawn()?;
        self.wait_until_ready(deadline)
    }

    /// Starts the process without waiting (a cluster starts every node before waiting,
    /// since no node is healthy alone).
    pub(crate) fn spawn(&mut self) -> Result<(), TestkitError> {
        let child =
            spawner::spawn_nats_server(&self.settings.binary, &self.config_path, &self.log_path)?;
        self.child = Some(child);
        Ok(())
    }

    /// Polls `/healthz` until it answers 200 (JetStream ready; in a cluster, current with
    /// the meta leader), the process exits, or the deadline passes.
    pub(crate) fn wait_until_ready(&mut self, deadline: Instant) -> Result<(), TestkitError> {
        let mut last_answer = "no answer".to_string();
        loop {
            let Some(child) = self.child.as_mut() else {
                return Err(TestkitError::StartServerFirst {
                    server_name: self.settings.server_name.clone(),
                });
            };
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(self.log_error(&format!(
                    "nats-server `{}` exited ({status}) before it was ready",
                    self.settings.server_name
                )));
            }
            if let Some(answer) = http_get(self.monitor_port, "/healthz") {
                if answer.status == 200 {
                    return Ok(());
                }
                last_answer = format!("{} {}", answer.status, answer.body.trim());
            }
            if Instant::now() >= deadline {
                let error = self.log_error(&format!(
                    "nats-server `{}` was not ready within {} s (last /healthz answer: {last_answer})",
                    self.settings.server_name,
                    READY_DEADLINE.as_secs()
                ));
                self.kill();
                return Err(error);
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    pub(crate) fn log_says_address_in_use(&self, since: u64) -> bool {
        says_address_in_use(&read_log_since(&self.log_path, since))
    }

    fn log_error(&self, what: &str) -> TestkitError {
        TestkitError::CheckServerLog {
            what: what.to_string(),
            log_path: self.log_path.clone(),
            log_tail: tail(&read_log(&self.log_path)),
        }
    }

    /// The temp folder holding config, store and log.
    pub fn temp_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn send_signal(child: &Child, signal: Signal) -> std::io::Result<()> {
    let pid = Pid::from_child(child);
    rustix::process::kill_process(pid, signal).map_err(std::io::Error::from)
}

/// Removes `samla-testkit-<pid>-*` temp folders whose process is gone: what a test
/// process leaves behind when it dies without destructors (the shared server, a crash).
/// Runs once per process; failures are ignored, as the folders are only clutter.
fn remove_stale_temp_folders() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(rest) = name
                .to_str()
                .and_then(|name| name.strip_prefix(TEMP_PREFIX))
            else {
                continue;
            };
            let Some(pid) = rest
                .split('-')
                .next()
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if pid != std::process::id() && crate::probe::process_is_gone(pid) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
}
