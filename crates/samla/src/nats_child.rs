//! The managed nats-server of `samla up`: found (or installed), configured under the data
//! folder with the same per-organisation users as production, started in its own process
//! group (so a Ctrl-C in the terminal reaches only `samla`, which stops it last), killed by
//! the kernel if `samla` dies (`setpriv --pdeathsig KILL`, where util-linux has it), and
//! reloaded when `samla org add` changes its users.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use rustix::process::{Pid, Signal, kill_process};
use tokio::process::{Child, Command};

use crate::exit::{CliError, CliResult, unavailable};
use crate::local::{Credentials, LocalStack, write_private};

/// The version the project pins and installs.
pub const PINNED_VERSION: &str = "2.15.1";

/// The config templates shared with the test kit and `deploy/`.
pub const SINGLE_TEMPLATE: &str = include_str!("../../../deploy/nats/single.conf.template");
pub const CLUSTER_NODE_TEMPLATE: &str =
    include_str!("../../../deploy/nats/cluster-node.conf.template");

/// How long a start may take before it is reported as failed.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// How long a graceful stop may take before the server is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(15);

/// A running managed nats-server.
#[derive(Debug)]
pub struct ManagedNats {
    child: Child,
    url: String,
    log: PathBuf,
}

impl ManagedNats {
    /// Writes the config and users, starts the server, and waits until JetStream is ready.
    pub async fn start(
        stack: &LocalStack,
        credentials: &Credentials,
        client_port: u16,
        max_file_store: u64,
    ) -> CliResult<ManagedNats> {
        let binary = find_or_install_binary().await?;
        write_auth(stack, credentials)?;
        // A port picked here is released before the server binds it, so another process
        // may take it meanwhile: try again with new ports a few times.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(stack, &binary, client_port, max_file_store).await {
                Err(CliError::Unavailable(message))
                    if attempt < 4 && message.contains("address already in use") =>
                {
                    tracing::info!("a port was taken meanwhile; starting nats-server again");
                }
                outcome => return outcome,
            }
        }
    }

    async fn start_once(
        stack: &LocalStack,
        binary: &Path,
        client_port: u16,
        max_file_store: u64,
    ) -> CliResult<ManagedNats> {
        // Both ports held at once, so the OS cannot hand out the same one twice.
        let client = if client_port == 0 {
            Some(loopback_listener()?)
        } else {
            None
        };
        let monitor = loopback_listener()?;
        let client_port = match &client {
            Some(listener) => listener.local_addr().context("a free port")?.port(),
            None => client_port,
        };
        let monitor_port = monitor.local_addr().context("a free port")?.port();
        drop((client, monitor));
        let config = render_config(stack, client_port, monitor_port, max_file_store)?;
        write_private(&stack.nats_config(), config.as_bytes())?;

        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stack.nats_log())
            .with_context(|| format!("opening {}", stack.nats_log().display()))?;
        let mut command = if setpriv_available() {
            let mut command = Command::new("setpriv");
            command.arg("--pdeathsig").arg("KILL").arg("--").arg(binary);
            command
        } else {
            Command::new(binary)
        };
        command
            .arg("-c")
            .arg(stack.nats_config())
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("opening the nats-server log")?)
            .stderr(log)
            .process_group(0)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut managed = ManagedNats {
            child,
            url: format!("nats://127.0.0.1:{client_port}"),
            log: stack.nats_log(),
        };
        managed.wait_ready(monitor_port).await?;
        Ok(managed)
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn wait_ready(&mut self, monitor_port: u16) -> CliResult {
        let health = format!("http://127.0.0.1:{monitor_port}/healthz?js-enabled-only=true");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .context("building an HTTP client")?;
        let deadline = tokio::time::Instant::now() + START_DEADLINE;
        let mut poll = tokio::time::interval(Duration::from_millis(50));
        loop {
            poll.tick().await;
            if let Some(status) = self.child.try_wait().context("watching nats-server")? {
                return Err(unavailable(format!(
                    "nats-server exited at start ({status}); its log {} ends with:\n{}",
                    self.log.display(),
                    log_tail(&self.log)
                )));
            }
            if let Ok(response) = client.get(&health).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(unavailable(format!(
                    "nats-server did not become ready within {}s; see {}:\n{}",
                    START_DEADLINE.as_secs(),
                    self.log.display(),
                    log_tail(&self.log)
                )));
            }
        }
    }

    /// Resolves once the server has exited by itself (killed, crashed, out of memory):
    /// the error to stop the stack with, naming the exit and the end of its log.
    pub async fn exited(&mut self) -> CliError {
        let status = match self.child.wait().await {
            Ok(status) => status.to_string(),
            Err(error) => format!("its state could not be read: {error}"),
        };
        CliError::Unavailable(format!(
            "the managed nats-server stopped ({status}), so samla stops too; the data is kept: \
             run samla up again. Its log {} ends with:\n{}",
            self.log.display(),
            log_tail(&self.log)
        ))
    }

    /// Stops the server gracefully (SIGTERM: it flushes and closes its files), killing it
    /// if it takes longer than the deadline.
    pub async fn stop(mut self) -> CliResult {
        if let Some(pid) = self.child.id().and_then(|id| Pid::from_raw(id as i32)) {
            let _ = kill_process(pid, Signal::TERM);
        }
        match tokio::time::timeout(STOP_DEADLINE, self.child.wait()).await {
            Ok(status) => {
                status.context("waiting for nats-server")?;
            }
            Err(_) => {
                tracing::warn!("nats-server did not stop in time; killing it");
                self.child.kill().await.context("killing nats-server")?;
            }
        }
        Ok(())
    }
}

/// Writes `nats/auth.conf`: the users of the local stack.
pub fn write_auth(stack: &LocalStack, credentials: &Credentials) -> CliResult {
    let block = credentials
        .nats_permissions()
        .render()
        .map_err(|error| CliError::Failed(anyhow::Error::new(error)))?;
    write_private(&stack.nats_auth(), block.as_bytes())
}

/// Asks the running managed server to reload its config (users). False if none runs.
pub fn reload(stack: &LocalStack) -> CliResult<bool> {
    let Ok(text) = std::fs::read_to_string(stack.nats_pid_file()) else {
        return Ok(false);
    };
    let Some(pid) = text.trim().parse::<i32>().ok().and_then(Pid::from_raw) else {
        return Ok(false);
    };
    match kill_process(pid, Signal::HUP) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::SRCH) => Ok(false),
        Err(error) => Err(CliError::Failed(anyhow::anyhow!(
            "could not signal nats-server (pid {}) to reload: {error}",
            pid.as_raw_nonzero()
        ))),
    }
}

fn render_config(
    stack: &LocalStack,
    client_port: u16,
    monitor_port: u16,
    max_file_store: u64,
) -> CliResult<String> {
    let store = stack.nats_store();
    let extra = format!(
        "pid_file: \"{}\"\ninclude \"auth.conf\"\n",
        stack.nats_pid_file().display()
    );
    let values: [(&str, String); 9] = [
        ("server_name", "samla-local".to_owned()),
        ("host", "127.0.0.1".to_owned()),
        ("client_port", client_port.to_string()),
        ("monitor_port", monitor_port.to_string()),
        ("max_payload", (1u64 << 20).to_string()),
        ("store_dir", store.display().to_string()),
        ("max_file_store", max_file_store.to_string()),
        ("max_memory_store", (64u64 << 20).to_string()),
        ("sync_interval", "always".to_owned()),
    ];
    let mut values: Vec<(&str, String)> = values.to_vec();
    values.push(("extra", extra));
    render(SINGLE_TEMPLATE, &values)
}

/// Fills every `{{name}}` of a `deploy/nats/` template; a placeholder without a value is
/// an error naming it (a template change must not produce a half-configured server).
pub fn render(template: &str, values: &[(&str, String)]) -> CliResult<String> {
    let mut config = template.to_owned();
    for (name, value) in values {
        config = config.replace(&format!("{{{{{name}}}}}"), value);
    }
    if let Some(at) = config.find("{{") {
        let rest = &config[at..];
        let name = rest
            .get(..rest.find("}}").map_or(rest.len(), |end| end + 2))
            .unwrap_or(rest);
        return Err(CliError::Failed(anyhow::anyhow!(
            "the nats-server template has a placeholder samla does not fill: {name}"
        )));
    }
    Ok(config)
}

/// A loopback listener on a port the OS picks.
fn loopback_listener() -> CliResult<std::net::TcpListener> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?)
}

fn setpriv_available() -> bool {
    std::process::Command::new("setpriv")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// `nats-server --version` → `2.15.1`.
fn version_of(binary: &Path) -> Option<(u32, u32, u32)> {
    let output = std::process::Command::new(binary)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.trim().strip_prefix("nats-server: v")?;
    let mut parts = version
        .split(['.', '-'])
        .map(|part| part.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

fn supported(binary: &Path) -> bool {
    version_of(binary).is_some_and(|version| version >= (2, 15, 0))
}

/// Folders that may hold the project's `.tools/` and `deploy/`: the source tree this binary
/// was built from, and the current folder and its parents.
fn project_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(root) = built_from.ancestors().nth(2) {
        roots.push(root.to_path_buf());
    }
    if let Ok(current) = std::env::current_dir() {
        roots.extend(current.ancestors().map(Path::to_path_buf));
    }
    roots
}

/// `SAMLA_NATS_SERVER`, then `nats-server` on PATH (2.15+), then the tool folder; else
/// runs `deploy/install-nats-server.sh`.
pub async fn find_or_install_binary() -> CliResult<PathBuf> {
    if let Some(path) = std::env::var_os("SAMLA_NATS_SERVER") {
        let path = PathBuf::from(path);
        return if supported(&path) {
            Ok(path)
        } else {
            Err(CliError::Usage(format!(
                "SAMLA_NATS_SERVER={} is not a nats-server 2.15 or newer",
                path.display()
            )))
        };
    }
    if let Some(path) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file() && supported(candidate))
    }) {
        return Ok(path);
    }
    let tool = |root: &Path| {
        root.join(".tools")
            .join(format!("nats-server-{PINNED_VERSION}"))
            .join("nats-server")
    };
    let roots = project_roots();
    if let Some(path) = roots
        .iter()
        .map(|root| tool(root))
        .find(|path| path.is_file())
    {
        return Ok(path);
    }
    let Some(root) = roots
        .iter()
        .find(|root| root.join("deploy/install-nats-server.sh").is_file())
    else {
        return Err(unavailable(format!(
            "no nats-server 2.15+ found: set SAMLA_NATS_SERVER, put one on PATH, or run \
             deploy/install-nats-server.sh {PINNED_VERSION} in the Samla source tree"
        )));
    };
    eprintln!(
        "samla: installing nats-server {PINNED_VERSION} into {} (first start only)",
        root.join(".tools").display()
    );
    let status = Command::new("bash")
        .arg(root.join("deploy/install-nats-server.sh"))
        .arg(PINNED_VERSION)
        .stdout(Stdio::null())
        .status()
        .await
        .context("running deploy/install-nats-server.sh")?;
    let path = tool(root);
    if status.success() && path.is_file() {
        Ok(path)
    } else {
        Err(unavailable(format!(
            "deploy/install-nats-server.sh {PINNED_VERSION} failed ({status}); it needs Python 3 with pip"
        )))
    }
}
