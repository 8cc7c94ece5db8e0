//! Broken read models rebuild themselves, and say so: `samla serve` finding its read-model
//! folder deleted, truncated, or ahead of a log restored from an older backup, rebuilds by
//! itself; `/readyz` never says `ready` before the replica is back at the log's head, and
//! the digest it then serves is a clean fold's.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{Env, Serve, http, seed};
use crate::crash::clean_digest;

const EVENTS: usize = 12_000;
const BACKUP_AT: usize = 5_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_truncated_and_ahead_of_the_log_read_models_rebuild_and_say_so_until_ready() {
    let seed = seed("rebuild", 4_411);
    let mut env = tokio::task::spawn_blocking(Env::start)
        .await
        .expect("start the server");
    let events: Vec<_> = samla_sim::generate_n(seed, EVENTS)
        .into_iter()
        .map(|envelope| (envelope, None))
        .collect();
    let log = env.ingest_log().await;
    append(&log, &events[..BACKUP_AT]).await;
    drop(log);
    // A backup of the log as it was at BACKUP_AT events, taken with the server stopped.
    let backup = tempfile::tempdir().expect("a backup folder");
    tokio::task::block_in_place(|| {
        env.server.stop();
        copy_dir(&env.server.jetstream_data_dir(), backup.path());
        env.server.start_again()
    })
    .expect("start the server again");
    let log = env.ingest_log().await;
    append(&log, &events[BACKUP_AT..]).await;
    let head = log.head().await.expect("the head").last_seq;
    assert_eq!(head, EVENTS as u64);
    let clean = clean_digest(&env).await;

    let http = http();
    let folder = tempfile::tempdir().expect("a read-model folder");
    let read_models = folder.path().join("read-models");
    let replica = Serve::start(&env, &read_models).await;
    replica
        .wait_ready_at(&http, head, Duration::from_secs(120))
        .await;
    assert_eq!(
        replica.digest_at(&http, &env, head).await,
        clean,
        "the first fold"
    );
    replica.kill().await;

    // 1. The folder deleted.
    std::fs::remove_dir_all(&read_models).expect("delete the read models");
    let seen = restart_and_watch(&env, &read_models, head).await;
    eprintln!("rebuild after deletion: {seen:?}");
    assert_eq!(seen.digest, clean, "after deletion");
    assert!(
        seen.said_not_ready(),
        "a deleted folder is rebuilt, and /readyz says so: {seen:?}"
    );

    // 2. Every file of the folder cut to half its length.
    let cut = truncate_all(&read_models);
    assert!(cut > 0, "no file to truncate in {}", read_models.display());
    let seen = restart_and_watch(&env, &read_models, head).await;
    eprintln!("rebuild after truncating {cut} files: {seen:?}");
    assert_eq!(seen.digest, clean, "after truncation");
    assert!(
        seen.said_not_ready(),
        "a truncated folder is rebuilt, and /readyz says so: {seen:?}"
    );

    // 3. The log restored from the older backup: the checkpoint is ahead of the log.
    tokio::task::block_in_place(|| {
        env.server.stop();
        let live = env.server.jetstream_data_dir();
        std::fs::remove_dir_all(&live).expect("remove the live store");
        copy_dir(backup.path(), &live);
        env.server.start_again()
    })
    .expect("start the server on the backup");
    let restored_head = env.ingest_log().await.head().await.expect("head").last_seq;
    assert_eq!(
        restored_head, BACKUP_AT as u64,
        "the backup holds the older log"
    );
    let restored_clean = clean_digest(&env).await;
    let seen = restart_and_watch(&env, &read_models, restored_head).await;
    eprintln!("rebuild after restoring an older log: {seen:?}");
    assert_eq!(
        seen.digest, restored_clean,
        "the replica serves the restored log's picture, not ghosts of the newer one"
    );
    assert!(
        seen.said_not_ready(),
        "a checkpoint ahead of the log is rebuilt, and /readyz says so: {seen:?}"
    );
}

/// What `/readyz` said from the start of a replica until it was ready at the head.
#[derive(Debug)]
struct Seen {
    /// Each state in the order first seen.
    states: Vec<String>,
    /// How many `/readyz` answers were read.
    #[allow(dead_code, reason = "shown in the Debug output of failures")]
    answers: usize,
    digest: (String, u64),
}

impl Seen {
    /// Whether `/readyz` first answered `rebuilding` or `catching_up` (503).
    fn said_not_ready(&self) -> bool {
        self.states
            .first()
            .is_some_and(|state| state == "rebuilding" || state == "catching_up")
    }
}

/// Starts the replica on `folder` and polls `/readyz` until it is ready at `head`;
/// asserts it never said `ready` anywhere else.
async fn restart_and_watch(env: &Env, folder: &Path, head: u64) -> Seen {
    let http = http();
    let replica = Serve::start(env, folder).await;
    let mut states: Vec<String> = Vec::new();
    let mut answers = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some((state, applied, reported_head)) = replica.readyz(&http).await {
            answers += 1;
            if !states.contains(&state) {
                states.push(state.clone());
            }
            if state == "ready" {
                assert_eq!(
                    applied,
                    head,
                    "/readyz said ready at {applied} (head {reported_head}) while the log's head is {head}; states so far {states:?}; stderr:\n{}",
                    replica.stderr_text()
                );
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "never ready at {head}; states {states:?}; stderr:\n{}",
            replica.stderr_text()
        );
        // Polling from outside: there is no event to wait on.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let digest = replica.digest_at(&http, env, head).await;
    replica.kill().await;
    Seen {
        states,
        answers,
        digest,
    }
}

async fn append(log: &samla_log::Log, events: &[(proto_events::Envelope, Option<u64>)]) {
    for chunk in events.chunks(1000) {
        for result in log.append_events(chunk).await {
            result.expect("append");
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a folder");
    for entry in std::fs::read_dir(from).expect("read a folder") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Cuts every non-empty file under `folder` to half its length; returns how many.
fn truncate_all(folder: &Path) -> usize {
    let mut cut = 0;
    for entry in std::fs::read_dir(folder).expect("read a folder") {
        let entry = entry.expect("an entry");
        let path = entry.path();
        if entry.file_type().expect("a file type").is_dir() {
            cut += truncate_all(&path);
        } else {
            let length = entry.metadata().expect("metadata").len();
            if length > 1 {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|file| file.set_len(length / 2))
                    .expect("truncate a file");
                cut += 1;
            }
        }
    }
    cut
}
