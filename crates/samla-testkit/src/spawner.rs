//! The kill-on-crash watchdog: every nats-server is forked by one long-lived thread.
//!
//! Each server runs as `setpriv --pdeathsig KILL -- nats-server -c <conf>`. The kernel's
//! parent-death signal fires when the *thread* that forked the child exits, not the
//! process; test harnesses run each test on its own short-lived thread, so forking from
//! the test thread would kill the server as soon as that test returned. Forking from a
//! dedicated thread that lives as long as the process means the signal fires exactly when
//! the test process dies — by panic=abort, a signal, or `std::process::exit` — and no
//! server outlives it. No `unsafe` is needed: `setpriv` (util-linux) makes the `prctl`
//! call in the child before it execs nats-server.
//!
//! Ordinary cleanup is still `Drop` (kill and wait); the watchdog covers the exits where
//! no destructor runs, including the `NatsServer::shared` static.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};

use crate::TestkitError;

struct SpawnRequest {
    command: Command,
    reply: Sender<std::io::Result<Child>>,
}

/// The sender half of the spawner thread's queue. A static is never dropped, so the
/// thread's receive loop never ends and the thread lives until the process exits.
static SPAWNER: OnceLock<Sender<SpawnRequest>> = OnceLock::new();

fn spawner() -> Result<&'static Sender<SpawnRequest>, TestkitError> {
    if let Some(sender) = SPAWNER.get() {
        return Ok(sender);
    }
    let (sender, receiver) = channel::<SpawnRequest>();
    // Two threads may race here; the loser's thread sees its sender dropped and ends,
    // before it has forked anything, so no server ever depends on it.
    std::thread::Builder::new()
        .name("samla-testkit-spawner".to_string())
        .spawn(move || {
            for mut request in receiver {
                // If the requester is gone, nobody would ever kill or reap the child.
                if let Err(std::sync::mpsc::SendError(Ok(mut child))) =
                    request.reply.send(request.command.spawn())
                {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        })
        .map_err(|error| TestkitError::environment("start the testkit spawner thread", error))?;
    Ok(SPAWNER.get_or_init(|| sender))
}

/// Starts `binary -c config` under the watchdog, in its own process group, with stdout
/// and stderr appended to `log`.
pub(crate) fn spawn_nats_server(
    binary: &Path,
    config: &Path,
    log: &Path,
) -> Result<Child, TestkitError> {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|error| {
            TestkitError::environment(format!("open the server log {}", log.display()), error)
        })?;
    let log_for_stderr = log_file
        .try_clone()
        .map_err(|error| TestkitError::environment("duplicate the server log handle", error))?;

    let mut command = Command::new("setpriv");
    command
        .arg("--pdeathsig")
        .arg("KILL")
        .arg("--")
        .arg(binary)
        .arg("-c")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_for_stderr))
        // Its own process group: a Ctrl-C in the terminal reaches the test process, whose
        // death then takes the server down through the watchdog, instead of racing it.
        .process_group(0);

    let (reply, answer) = channel();
    spawner()?
        .send(SpawnRequest { command, reply })
        .map_err(|_| {
            TestkitError::environment(
                "hand the spawn request to the testkit spawner thread",
                std::io::Error::other("the spawner thread has ended"),
            )
        })?;
    let spawned = answer.recv().map_err(|_| {
        TestkitError::environment(
            "receive the spawned nats-server from the testkit spawner thread",
            std::io::Error::other("the spawner thread has ended"),
        )
    })?;
    spawned.map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => TestkitError::InstallSetpriv { source: error },
        _ => TestkitError::environment(format!("start {}", binary.display()), error),
    })
}
