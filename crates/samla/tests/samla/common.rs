//! Running `samla` as a child: its output lines arrive on channels, so tests wait for a
//! line with a deadline instead of sleeping.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};
use serde_json::Value;

pub const START_DEADLINE: Duration = Duration::from_secs(120);

pub fn samla_binary() -> &'static str {
    env!("CARGO_BIN_EXE_samla")
}

/// A `samla up` child and what it printed.
pub struct Up {
    pub child: Child,
    pub data_dir: PathBuf,
    pub api: String,
    pub nats: String,
    pub org_tokens: Vec<(String, String)>,
    pub share_token: String,
    pub operator_token: String,
    pub stderr: Receiver<String>,
    /// Every stderr line read so far.
    pub stderr_seen: Vec<String>,
}

impl Up {
    /// `samla up --data-dir DIR --http 127.0.0.1:0 [extra]`, read up to the operator token.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Up {
        let mut child = Command::new(samla_binary())
            .arg("up")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--http", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn samla up");
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        let mut printed = Vec::new();
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let line = match stdout.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => line,
                Err(error) => {
                    let errors: Vec<String> = stderr.try_iter().collect();
                    let _ = child.kill();
                    panic!("samla up printed {printed:?} then {error:?}; stderr: {errors:#?}");
                }
            };
            let done = line.starts_with("Operator token: ");
            printed.push(line);
            if done {
                break;
            }
        }
        assert!(
            printed[0].starts_with("Dashboard: http://"),
            "the first line is the dashboard URL: {printed:?}"
        );
        let value = |prefix: &str| {
            printed
                .iter()
                .find_map(|line| line.strip_prefix(prefix))
                .unwrap_or_else(|| panic!("no `{prefix}` line in {printed:?}"))
                .to_owned()
        };
        let org_tokens = printed
            .iter()
            .filter_map(|line| line.strip_prefix("Token "))
            .filter_map(|rest| rest.split_once(": "))
            .map(|(org, token)| (org.to_owned(), token.to_owned()))
            .collect();
        Up {
            api: value("Dashboard: "),
            nats: value("NATS: "),
            share_token: value("Share token: "),
            operator_token: value("Operator token: "),
            org_tokens,
            child,
            data_dir: data_dir.to_owned(),
            stderr,
            stderr_seen: Vec::new(),
        }
    }

    pub fn org_token(&self, org: &str) -> &str {
        self.org_tokens
            .iter()
            .find(|(name, _)| name == org)
            .map(|(_, token)| token.as_str())
            .unwrap_or_else(|| panic!("no token for {org}"))
    }

    /// Waits for a stderr line containing `needle` and returns it.
    pub fn wait_stderr(&mut self, needle: &str, deadline: Duration) -> String {
        let until = Instant::now() + deadline;
        if let Some(line) = self.stderr_seen.iter().find(|line| line.contains(needle)) {
            return line.clone();
        }
        loop {
            match self
                .stderr
                .recv_timeout(until.saturating_duration_since(Instant::now()))
            {
                Ok(line) => {
                    self.stderr_seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!(
                        "no stderr line with `{needle}`; saw {:#?}",
                        self.stderr_seen
                    )
                }
            }
        }
    }

    /// The managed nats-server's pid (from its pid file).
    pub fn nats_pid(&self) -> i32 {
        std::fs::read_to_string(self.data_dir.join("nats/nats.pid"))
            .expect("nats.pid")
            .trim()
            .parse()
            .expect("a pid")
    }

    /// Sends SIGINT (Ctrl-C) and waits for the exit.
    pub fn interrupt(self) -> (ExitStatus, Vec<String>) {
        let pid = Pid::from_raw(self.child.id() as i32).expect("a pid");
        kill_process(pid, Signal::INT).expect("send SIGINT");
        self.wait_exit("after SIGINT")
    }

    /// Waits up to 60 s for samla up to exit (`when` says after what, for the failure);
    /// returns its status and every stderr line.
    pub fn wait_exit(mut self, when: &str) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "samla up did not stop {when}");
            // Polling a child's exit has no blocking-with-deadline API in std.
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = std::mem::take(&mut self.stderr_seen);
        // The reader thread ends with the pipe, once every line is in.
        stderr.extend(self.stderr.iter());
        (status, stderr)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines of `stream` as they come, read on a thread of their own.
pub fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if send.send(line).is_err() {
                return;
            }
        }
    });
    receive
}

/// `GET path` as JSON with a token (blocking, for tests).
pub fn get(api: &str, token: &str, path: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("{api}{}", path.trim_start_matches('/')))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON");
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    })
}

/// Whether a process exists (and is not a zombie).
pub fn process_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            // Field 3 is the state; after the `)` that ends the command name.
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z")
        })
        .unwrap_or(false)
}

/// How long a command run by [`run`] may take before the test fails: a command that was
/// meant to fail but serves instead (say, `samla up`) fails the test rather than hang it.
pub const RUN_DEADLINE: Duration = Duration::from_secs(300);

/// Runs `samla ARGS` to completion with `stdin`, returning (exit code, stdout, stderr).
/// Killed, and the test failed, if it runs past [`RUN_DEADLINE`].
pub fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(samla_binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn samla");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let pid = child.id();
    let (done, finished) = channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let output = match finished.recv_timeout(RUN_DEADLINE) {
        Ok(output) => output.expect("samla output"),
        Err(_) => {
            if let Some(pid) = Pid::from_raw(pid as i32) {
                let _ = kill_process(pid, Signal::KILL);
            }
            panic!("samla {args:?} still ran after {RUN_DEADLINE:?}");
        }
    };
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A `samla up` in a fresh folder with the demo crisis loaded at once, its first day at
/// `start`: the folder (keep it alive), the data folder, the stack, and `samla demo`'s
/// JSON summary.
pub fn up_with_demo_at(start: &str) -> (tempfile::TempDir, PathBuf, Up, Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let up = Up::start(&data, &[]);
    let data_arg = data.to_str().expect("utf-8");
    let (code, stdout, stderr) = run(
        &["demo", "--data-dir", data_arg, "--start", start, "--json"],
        "",
    );
    assert_eq!(code, 0, "{stdout} {stderr}");
    let loaded: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(loaded["refused"], 0, "{loaded}");
    (dir, data, up, loaded)
}
