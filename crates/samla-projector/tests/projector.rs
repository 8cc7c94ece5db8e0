//! The projector against a real nats-server and real sled folders: the service's read
//! models equal the pure in-memory fold (differential), replicas and rebuilds agree byte
//! for byte (digest), bad events land in quarantine while the rest is applied, and a
//! projector killed at seeded random points ends with exactly the state of a clean fold.

use std::borrow::Cow;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use bytes::Bytes;
use proto_events::{Envelope, codec};
use rand::{Rng, SeedableRng};
use samla_log::{AppendItem, ConnectOptions, Log, LogConfig, ReadRange};
use samla_projector::engine::{self, EngineConfig};
use samla_projector::{KvStore, RawEvent, SledStore, fold_in_memory};
use samla_testkit::NatsServer;

mod replay;

/// Events in the CI-sized crisis.
const CRISIS_EVENTS: usize = 20_000;

async fn open_log(server: &NatsServer) -> Log {
    let connection = samla_log::connect(&[server.client_url()], ConnectOptions::default())
        .await
        .expect("connect");
    Log::open(&connection, LogConfig::new(1 << 30))
        .await
        .expect("open log")
}

async fn append_all(log: &Log, events: &[Envelope]) {
    for chunk in events.chunks(5_000) {
        let items: Vec<(Envelope, Option<u64>)> = chunk.iter().map(|e| (e.clone(), None)).collect();
        for result in log.append_events(&items).await {
            result.expect("append");
        }
    }
}

async fn read_all(log: &Log) -> Vec<RawEvent> {
    let head = log.head().await.expect("head").last_seq;
    log.read(ReadRange::span(1, head))
        .await
        .expect("read")
        .collect_all()
        .await
        .expect("read all")
        .into_iter()
        .map(RawEvent::from)
        .collect()
}

fn reference_digest(raws: &[RawEvent]) -> String {
    let (_, store) = fold_in_memory(raws, 1000).expect("fold");
    store.digest().expect("digest")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_equals_the_pure_fold_and_replicas_agree() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    let events = samla_sim::generate_n(7, CRISIS_EVENTS);
    append_all(&log, &events).await;
    let raws = read_all(&log).await;
    assert_eq!(raws.len(), CRISIS_EVENTS);

    let reference = reference_digest(&raws);
    let (clean, _) = fold_in_memory(&raws, 1000).expect("fold");
    let refused: Vec<_> = clean.models.quarantine.rows().take(3).collect();
    assert!(
        refused.is_empty(),
        "the generated crisis should fold without quarantine: {refused:#?}"
    );
    // Batch boundaries do not change the read models.
    let (_, small_batches) = fold_in_memory(&raws, 7).expect("fold");
    assert_eq!(small_batches.digest().expect("digest"), reference);

    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    let (digest_one, checkpoint_one) =
        engine::catch_up_and_digest(log.clone(), EngineConfig::new(first.path()))
            .await
            .expect("first replica");
    let mut config = EngineConfig::new(second.path());
    config.batch_max = 333;
    // Several batches folded per write, so coalesced writes are what is compared; and
    // every row leaves memory once written, so this replica folds rows read back from sled.
    config.write_every = 1_000;
    config.resident_rows = 0;
    let (digest_two, checkpoint_two) = engine::catch_up_and_digest(log.clone(), config)
        .await
        .expect("second replica");
    // Writes cut by the rows they change, not by events, with a budget some rows outgrow.
    let third = tempfile::tempdir().expect("tempdir");
    let mut config = EngineConfig::new(third.path());
    config.batch_max = 50;
    config.write_every = usize::MAX;
    config.write_rows = 64;
    config.resident_rows = 200;
    let (digest_three, checkpoint_three) = engine::catch_up_and_digest(log.clone(), config)
        .await
        .expect("third replica");
    assert_eq!(checkpoint_one, CRISIS_EVENTS as u64);
    assert_eq!(checkpoint_two, CRISIS_EVENTS as u64);
    assert_eq!(checkpoint_three, CRISIS_EVENTS as u64);
    assert_eq!(
        digest_one, reference,
        "sled after the service differs from the pure fold"
    );
    assert_eq!(digest_two, reference, "two replicas disagree");
    assert_eq!(
        digest_three, reference,
        "writes cut by rows changed the read models"
    );

    // A restart loads what is on disk and changes nothing.
    let (again, _) = engine::catch_up_and_digest(log.clone(), EngineConfig::new(first.path()))
        .await
        .expect("restart");
    assert_eq!(again, reference);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_are_quarantined_and_the_rest_applied() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    let events = samla_sim::generate_n(11, 300);
    append_all(&log, &events[..100]).await;

    // A truncated message, an unknown kind and an organisation mismatch, written as a
    // misconfigured tool with a service credential might.
    let valid = &events[100];
    let mut truncated = codec::encode_msgpack(valid);
    truncated.truncate(truncated.len() / 2);
    let mut unknown: serde_json::Value =
        serde_json::from_str(&codec::encode_json(&events[101])).expect("json");
    unknown["kind"] = "spaceship_landed".into();
    let unknown_bytes = rmp_serde::to_vec_named(&unknown).expect("msgpack");
    let mismatch = &events[102];
    let foreign_subject = format!(
        "samla.evt.{}.someone-else.{}.{}",
        mismatch.incident, mismatch.aggregate.kind, mismatch.aggregate.id
    );
    let bad = [
        (valid.subject().to_string(), valid.id.to_string(), truncated),
        (
            events[101].subject().to_string(),
            events[101].id.to_string(),
            unknown_bytes,
        ),
        (
            foreign_subject,
            mismatch.id.to_string(),
            codec::encode_msgpack(mismatch),
        ),
    ];
    for (subject, id, payload) in bad {
        log.append(AppendItem {
            subject,
            id,
            payload: Bytes::from(payload),
            expected_seq: None,
        })
        .await
        .expect("append bad");
    }
    append_all(&log, &events[103..]).await;
    let raws = read_all(&log).await;
    let head = raws.len() as u64;

    let folder = tempfile::tempdir().expect("tempdir");
    let (digest, checkpoint) =
        engine::catch_up_and_digest(log.clone(), EngineConfig::new(folder.path()))
            .await
            .expect("projector");
    assert_eq!(checkpoint, head, "the projector stopped at a bad event");
    assert_eq!(digest, reference_digest(&raws));

    let store = SledStore::open(&folder.path().join("models-1")).expect("open");
    let loaded = samla_projector::Folder::load(&store).expect("load");
    let rows: Vec<_> = loaded
        .models
        .quarantine
        .rows()
        .map(Cow::into_owned)
        .collect();
    let codes: Vec<(u64, &str)> = rows.iter().map(|r| (r.seq, r.code.as_str())).collect();
    assert_eq!(
        codes,
        vec![
            (101, "malformed"),
            (102, "unknown_kind"),
            (103, "subject_mismatch")
        ],
        "{rows:#?}"
    );
    assert_eq!(rows[2].field, "org");
    assert!(rows[1].reason.contains("spaceship_landed"));
    // Every other event was applied: its id is in the index.
    assert_eq!(
        loaded.ids_len() as u64,
        head - 3 - superseding_refusals(&raws)
    );
}

/// The projector binary following the log into `folder` with `--progress` (and `options`),
/// its stdout piped to read the progress lines from.
fn spawn_with_progress(
    server: &NatsServer,
    folder: &std::path::Path,
    options: &[&str],
) -> (std::process::Child, std::process::ChildStdout) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_samla-projector"))
        .args(["--nats-url", &server.client_url(), "--progress"])
        .args(options)
        .arg("--data-dir")
        .arg(folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn projector");
    let stdout = child.stdout.take().expect("stdout");
    (child, stdout)
}

/// The projector binary catching `folder` up to the log's head (`--digest-at-head`): its
/// stdout, `digest <digest> checkpoint <seq>`, once it succeeded.
fn digest_at_head(server: &NatsServer, folder: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_samla-projector"))
        .args(["--nats-url", &server.client_url(), "--digest-at-head"])
        .arg("--data-dir")
        .arg(folder)
        .output()
        .expect("run to the head");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits up to 60 s for `child` to exit (`after` says after what, for the failure) and
/// returns its output; kills it if it does not.
fn exit_within_a_minute(child: std::process::Child, after: &str) -> std::process::Output {
    let pid = child.id().to_string();
    let (ended, end) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = ended.send(child.wait_with_output());
    });
    end.recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("the projector did not exit within 60 s {after}")
        })
        .expect("its output")
}

/// Corrections the fold refused (none expected from the generator, but counted honestly).
fn superseding_refusals(raws: &[RawEvent]) -> u64 {
    let (folder, _) = fold_in_memory(raws, 1000).expect("fold");
    folder
        .models
        .quarantine
        .rows()
        .filter(|r| r.code == "bad_supersedes")
        .count() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_points_it_ends_with_the_clean_fold() {
    let seed: u64 = std::env::var("SAMLA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261123);
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    let events = samla_sim::generate_n(seed, CRISIS_EVENTS);
    append_all(&log, &events).await;
    let raws = read_all(&log).await;
    let reference = reference_digest(&raws);
    let folder = tempfile::tempdir().expect("tempdir");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut kill_points: Vec<u64> = (0..6)
        .map(|_| rng.random_range(1..CRISIS_EVENTS as u64))
        .collect();
    kill_points.sort_unstable();
    for kill_at in &kill_points {
        // Kills land between coalesced writes of several batches.
        let options = ["--batch-max", "250", "--write-every", "700"];
        let (mut child, stdout) = spawn_with_progress(&server, folder.path(), &options);
        let mut reached = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            if let Some(seq) = line
                .strip_prefix("applied ")
                .and_then(|s| s.parse::<u64>().ok())
            {
                reached = seq;
                if seq >= *kill_at {
                    break;
                }
            }
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        assert!(
            reached >= *kill_at,
            "seed {seed}: projector never reached {kill_at}"
        );
    }
    let text = digest_at_head(&server, folder.path());
    let expected = format!("digest {reference} checkpoint {}", CRISIS_EVENTS);
    assert_eq!(
        text.trim(),
        expected,
        "seed {seed}, kill points {kill_points:?}"
    );
}

/// A projector restarted on read models already at the head applies nothing, so no batch
/// would say how far it is: `--progress` says the checkpoint it loaded first. (The crash
/// loop above waits for these lines; without it, a restart at the head would wait forever.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_says_the_loaded_checkpoint_on_a_restart_at_the_head() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    append_all(&log, &samla_sim::generate_n(7, 300)).await;
    let head = log.head().await.expect("head").last_seq;
    let folder = tempfile::tempdir().expect("tempdir");
    digest_at_head(&server, folder.path());
    let (mut child, stdout) = spawn_with_progress(&server, folder.path(), &[]);
    let (lines, first) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let line = BufReader::new(stdout).lines().next();
        let _ = lines.send(line);
    });
    let first = first.recv_timeout(std::time::Duration::from_secs(60));
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let first = first
        .expect("a progress line within 60 s")
        .expect("a line before the end of output")
        .expect("readable");
    assert_eq!(first, format!("applied {head}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_read_models_are_rebuilt_beside_the_live_ones() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    let events = samla_sim::generate_n(3, 3_000);
    append_all(&log, &events).await;
    let raws = read_all(&log).await;
    let reference = reference_digest(&raws);
    let folder = tempfile::tempdir().expect("tempdir");
    let run = || engine::catch_up_and_digest(log.clone(), EngineConfig::new(folder.path()));
    assert_eq!(run().await.expect("first").0, reference);

    let current = || {
        let name = std::fs::read_to_string(folder.path().join("CURRENT"))
            .unwrap_or_else(|_| "models-1".into());
        folder.path().join(name.trim())
    };
    type Breakage = Box<dyn Fn(&std::path::Path)>;
    let breakages: [(&str, Breakage); 6] = [
        (
            "a fold version from another release",
            Box::new(|path| {
                let mut store = SledStore::open(path).expect("open");
                store
                    .apply(vec![(
                        b"meta/fold".to_vec(),
                        Some(b"samla-read-models/0".to_vec()),
                    )])
                    .expect("write");
                store.flush().expect("flush");
            }),
        ),
        (
            "a checkpoint ahead of the log (restored from an older backup)",
            Box::new(|path| {
                let mut store = SledStore::open(path).expect("open");
                store
                    .apply(vec![(
                        b"meta/checkpoint".to_vec(),
                        Some(1_000_000u64.to_be_bytes().to_vec()),
                    )])
                    .expect("write");
                store.flush().expect("flush");
            }),
        ),
        (
            "the folder deleted",
            Box::new(|path| std::fs::remove_dir_all(path).expect("delete")),
        ),
        (
            "sled's config file cut short (sled: corrupted data)",
            Box::new(|path| cut_to_half(&path.join("conf"))),
        ),
        (
            "a checkpoint of the wrong length",
            Box::new(|path| write_meta(path, b"meta/checkpoint", Some(vec![1, 2, 3]))),
        ),
        (
            "the checkpoint lost, the rows kept (a fold from the start would count twice)",
            Box::new(|path| write_meta(path, b"meta/checkpoint", None)),
        ),
    ];
    for (what, break_it) in breakages {
        let before = current();
        break_it(&before);
        let still_there = before.exists();
        let (digest, checkpoint) = run().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(digest, reference, "{what}");
        assert_eq!(checkpoint, raws.len() as u64, "{what}");
        if still_there {
            assert_ne!(
                current(),
                before,
                "{what}: rebuilt in place instead of beside"
            );
        }
    }
}

/// Cuts a file to half its length.
fn cut_to_half(path: &std::path::Path) {
    let length = std::fs::metadata(path).expect("metadata").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|file| file.set_len(length / 2))
        .expect("cut a file");
}

/// Sets (or, with `None`, removes) one bookkeeping key of a read-model folder.
fn write_meta(folder: &std::path::Path, key: &[u8], value: Option<Vec<u8>>) {
    let mut store = SledStore::open(folder).expect("open");
    store.apply(vec![(key.to_vec(), value)]).expect("write");
    store.flush().expect("flush");
}

/// The read-model folders (`models-<n>`) of a data folder.
fn model_folders(data_dir: &std::path::Path) -> Vec<std::ffi::OsString> {
    let mut folders: Vec<_> = std::fs::read_dir(data_dir)
        .expect("list")
        .map(|entry| entry.expect("entry").file_name())
        .filter(|name| name.to_string_lossy().starts_with("models-"))
        .collect();
    folders.sort();
    folders
}

/// sled 0.34 panics, rather than return an error, on some bytes overwritten in its data
/// file. That is damage like any other: the engine rebuilds beside it instead of dying
/// with it (and dying again on every restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_sled_panics_on_is_rebuilt_beside() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    append_all(&log, &samla_sim::generate_n(3, CRISIS_EVENTS)).await;
    let raws = read_all(&log).await;
    let folder = tempfile::tempdir().expect("tempdir");
    let run = || engine::catch_up_and_digest(log.clone(), EngineConfig::new(folder.path()));
    assert_eq!(run().await.expect("first").0, reference_digest(&raws));
    let models = folder.path().join("models-1");

    // Where damage makes sled panic depends on how its log was laid out: find such a place
    // on a copy, so the premise is checked rather than assumed.
    let length = std::fs::metadata(models.join("db"))
        .expect("metadata")
        .len();
    let panics_at = [4, 5, 3, 6, 2]
        .into_iter()
        .map(|eighth| length * eighth / 8)
        .find(|&at| {
            let copy = tempfile::tempdir().expect("tempdir");
            for file in ["conf", "db"] {
                std::fs::copy(models.join(file), copy.path().join(file)).expect("copy");
            }
            overwrite(&copy.path().join("db"), at);
            let path = copy.path().to_path_buf();
            // An error sled returns is not what this looks for: only a panic counts.
            std::panic::catch_unwind(move || {
                SledStore::open(&path)
                    .and_then(|store| samla_projector::folder::Folder::open(&store, 25_000))
                    .map(drop)
            })
            .is_err()
        });
    let at = panics_at.expect("no place in sled's data file where damage makes it panic");
    overwrite(&models.join("db"), at);

    let (digest, checkpoint) = run().await.expect("a panic in sled ended the engine");
    assert_eq!(digest, reference_digest(&raws));
    assert_eq!(checkpoint, raws.len() as u64);
    assert_eq!(model_folders(folder.path()), vec!["models-2"]);
}

/// A catch-up to the head (`--digest-at-head`) whose log goes out of reach on the way,
/// the connection left open with nothing more arriving, gives up once nothing was applied
/// for its stall deadline and says why, instead of waiting a day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_up_that_stalls_gives_up_and_says_why() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    append_all(&log, &samla_sim::generate_n(9, CRISIS_EVENTS)).await;
    // The crisis is ~8 MB on the wire: 1 MB of it passes, then the network dies.
    let (_relay, through) = through_a_dying_relay(&server).await;
    let folder = tempfile::tempdir().expect("tempdir");
    let mut config = EngineConfig::new(folder.path());
    config.catch_up_stall = std::time::Duration::from_secs(2);

    let caught_up = engine::catch_up_and_digest(through, config);
    let error = tokio::time::timeout(std::time::Duration::from_secs(60), caught_up)
        .await
        .expect("still waiting a minute after the log went out of reach")
        .expect_err("caught up through a dead network");
    assert!(
        matches!(error, samla_projector::ProjectorError::Stalled(_)),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains(&format!("of the log's {CRISIS_EVENTS}")),
        "{text}"
    );
    assert!(text.contains("NATS server"), "{text}");
}

/// The log, read through a relay to `server` that dies after 1 MB without closing.
async fn through_a_dying_relay(server: &NatsServer) -> (samla_testkit::Relay, Log) {
    let relay = samla_testkit::Relay::with_budget(
        std::net::SocketAddr::from(([127, 0, 0, 1], server.port())),
        1 << 20,
    );
    let connection = samla_log::connect(
        &[format!("nats://{}", relay.address())],
        ConnectOptions::default(),
    )
    .await
    .expect("connect through the relay");
    let log = Log::open(&connection, LogConfig::new(1 << 30))
        .await
        .expect("open log");
    (relay, log)
}

/// A projector rebuilding (its fold version changed) from a log it reads through a relay
/// that dies after 1 MB, without closing: the crisis is ~8 MB on the wire.
struct DyingRebuild {
    _server: NatsServer,
    log: Log,
    folder: tempfile::TempDir,
    relay: samla_testkit::Relay,
    projector: engine::Projector,
    stop: tokio::sync::watch::Sender<bool>,
    running: tokio::task::JoinHandle<Result<(), samla_projector::ProjectorError>>,
    raws: Vec<RawEvent>,
}

impl DyingRebuild {
    async fn start() -> DyingRebuild {
        let server = NatsServer::start().expect("nats-server");
        let log = open_log(&server).await;
        append_all(&log, &samla_sim::generate_n(11, CRISIS_EVENTS)).await;
        let raws = read_all(&log).await;
        let folder = tempfile::tempdir().expect("tempdir");
        engine::catch_up_and_digest(log.clone(), EngineConfig::new(folder.path()))
            .await
            .expect("first");
        write_meta(
            &folder.path().join("models-1"),
            b"meta/fold",
            Some(b"samla-read-models/0".to_vec()),
        );
        let (relay, through) = through_a_dying_relay(&server).await;
        let projector = engine::Projector::new();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(engine::run(
            projector.clone(),
            through,
            EngineConfig::new(folder.path()),
            stopped,
        ));
        DyingRebuild {
            _server: server,
            log,
            folder,
            relay,
            projector,
            stop,
            running,
            raws,
        }
    }

    /// Waits (up to 2 min) for `condition` on the projector and the relay, failing at once
    /// if the projector ends first.
    async fn wait_for(
        &mut self,
        what: &str,
        condition: impl Fn(&engine::Projector, &samla_testkit::Relay) -> bool,
    ) {
        let (projector, relay) = (&self.projector, &self.relay);
        let waited = samla_testkit::wait_for(what, std::time::Duration::from_secs(120), || {
            let met = condition(projector, relay);
            async move { met.then_some(()) }
        });
        tokio::select! {
            () = waited => {}
            ended = &mut self.running => panic!("the projector ended before {what}: {ended:?}"),
        }
    }
}

/// A rebuild whose log goes out of reach in its middle, for longer than a read waits,
/// goes on where it stopped once the log is back, rather than end the projector (and
/// `samla up` with it) and start over on the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_goes_on_where_it_stopped_when_the_log_comes_back() {
    let mut rebuild = DyingRebuild::start().await;
    rebuild
        .wait_for("rebuild finding the log out of reach", |projector, _| {
            projector.metrics().log_retries.load(Ordering::Relaxed) > 0
        })
        .await;
    assert!(rebuild.relay.spent());
    assert_eq!(rebuild.projector.state(), engine::ReadyState::Rebuilding);

    rebuild.relay.revive();
    let head = rebuild.raws.len() as u64;
    rebuild
        .wait_for(
            "rebuild reaching the head once the log was back",
            |projector, _| {
                projector.state() != engine::ReadyState::Rebuilding
                    && projector.applied_seq() >= head
            },
        )
        .await;
    let _ = rebuild.stop.send(true);
    let DyingRebuild {
        log,
        folder,
        projector,
        running,
        raws,
        ..
    } = rebuild;
    running.await.expect("join").expect("the projector ran on");
    drop(projector); // it holds the store open
    assert_eq!(model_folders(folder.path()), vec!["models-2"]);
    let (digest, _) = engine::catch_up_and_digest(log, EngineConfig::new(folder.path()))
        .await
        .expect("after");
    assert_eq!(digest, reference_digest(&raws));
}

/// A stop asked for while a rebuild waits for its log is a clean stop, and a prompt one:
/// not an error, and not a wait for the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_during_a_rebuild_is_clean_and_prompt() {
    let mut rebuild = DyingRebuild::start().await;
    rebuild
        .wait_for("rebuild reading from a dead network", |projector, relay| {
            relay.spent() && projector.state() == engine::ReadyState::Rebuilding
        })
        .await;
    let _ = rebuild.stop.send(true);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), rebuild.running)
        .await
        .expect("still rebuilding 10 s after the stop");
    ended.expect("join").expect("a stop is not a failure");
}

/// A stop asked for while the projector starts with its log out of reach (the connection
/// open, nothing coming back) is a clean stop, and a prompt one: not a wait for its request
/// for the log's head to time out, then an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_the_log_is_away_at_the_start_is_clean_and_prompt() {
    let server = NatsServer::start().expect("nats-server");
    let relay =
        samla_testkit::Relay::start(std::net::SocketAddr::from(([127, 0, 0, 1], server.port())));
    // Requests wait a minute for an answer: far longer than the stop may take.
    let options = ConnectOptions {
        request_timeout: std::time::Duration::from_secs(60),
        ..ConnectOptions::default()
    };
    let connection = samla_log::connect(&[format!("nats://{}", relay.address())], options)
        .await
        .expect("connect through the relay");
    let log = Log::open(&connection, LogConfig::new(1 << 30))
        .await
        .expect("open log");
    relay.silence_held();
    let folder = tempfile::tempdir().expect("tempdir");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(engine::run(
        engine::Projector::new(),
        log,
        EngineConfig::new(folder.path()),
        stopped,
    ));
    let _ = stop.send(true);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), running)
        .await
        .expect("still starting 10 s after the stop");
    ended.expect("join").expect("a stop is not a failure");
}

/// A rebuild whose log's stream is deleted while it waits for the log (the network died in
/// its middle) ends once the server answers again, with `StreamMissing` naming the stream,
/// rather than wait for the stream as for NATS to come back: for ever, or until the stall
/// guard of a catch-up (two minutes) says the log is out of reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_whose_stream_is_deleted_ends_saying_so() {
    let mut rebuild = DyingRebuild::start().await;
    rebuild
        .wait_for("rebuild reading from a dead network", |projector, relay| {
            relay.spent() && projector.state() == engine::ReadyState::Rebuilding
        })
        .await;
    let stream = rebuild.log.config().stream_name.clone();
    let deleted = rebuild
        .log
        .connection()
        .nats_client()
        .request(format!("$JS.API.STREAM.DELETE.{stream}"), Bytes::new())
        .await
        .expect("delete the stream");
    let answer = String::from_utf8_lossy(&deleted.payload);
    assert!(answer.contains(r#""success":true"#), "{answer}");
    rebuild.relay.revive();

    let ended = tokio::time::timeout(std::time::Duration::from_secs(30), rebuild.running)
        .await
        .expect("still rebuilding 30 s after its stream was deleted and the server answered");
    let error = ended
        .expect("join")
        .expect_err("a rebuild without its stream");
    assert!(
        matches!(
            &error,
            samla_projector::ProjectorError::Log(samla_log::LogError::StreamMissing { stream: named })
                if *named == stream
        ),
        "{error}"
    );
}

/// Writes 4 KiB of garbage into a file at `at`.
fn overwrite(path: &std::path::Path, at: u64) {
    use std::io::{Seek, Write};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    file.seek(std::io::SeekFrom::Start(at)).expect("seek");
    file.write_all(&[0xA5; 4096]).expect("write");
}

/// An error that says nothing against the folder (here, something that is not a folder
/// where the read models should be; in the field, permissions, no space left, too many
/// open files) stops the engine and leaves everything as it was: a rebuild would meet the
/// same cause, and swapping it in would throw the old folder away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_that_cannot_be_reached_is_left_as_it_is() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    append_all(&log, &samla_sim::generate_n(5, 200)).await;
    let folder = tempfile::tempdir().expect("tempdir");
    let models = folder.path().join("models-1");
    std::fs::write(&models, b"not a folder").expect("write");

    let error = engine::catch_up_and_digest(log.clone(), EngineConfig::new(folder.path()))
        .await
        .expect_err("opened a file as a folder");
    assert!(
        matches!(error, samla_projector::ProjectorError::Storage(_)),
        "{error}"
    );
    let text = error.to_string();
    assert!(text.contains(&models.display().to_string()), "{text}");
    assert!(text.contains("left as it is"), "{text}");
    assert_eq!(model_folders(folder.path()), vec!["models-1"]);
    assert_eq!(std::fs::read(&models).expect("read"), b"not a folder");
    assert!(!folder.path().join("CURRENT").exists());
}

/// systemd and container runtimes stop a service with SIGTERM: the projector stops
/// cleanly on it, as on Ctrl-C, rather than die of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_projector_cleanly() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    append_all(&log, &samla_sim::generate_n(9, 100)).await;
    let folder = tempfile::tempdir().expect("tempdir");
    let (child, stdout) = spawn_with_progress(&server, folder.path(), &[]);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a progress line").expect("readable");
    assert!(first.starts_with("applied "), "{first}");
    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = exit_within_a_minute(child, "of SIGTERM");
    assert!(output.status.success(), "{:?}", output.status);
}

/// An empty log has a digest too: that of no read models, at checkpoint 0. (The head, 0,
/// was "reached" before the read models were even opened, and the catch-up stopped the
/// projector before it could answer.)
#[test]
fn the_digest_of_an_empty_log_is_that_of_no_read_models() {
    let server = NatsServer::start().expect("nats-server");
    let folder = tempfile::tempdir().expect("tempdir");
    let text = digest_at_head(&server, folder.path());
    let nothing = samla_projector::MemoryStore::new()
        .digest()
        .expect("digest");
    assert_eq!(text.trim(), format!("digest {nothing} checkpoint 0"));
}

/// A second projector pointed at a folder another one is using must not take it over: the
/// folder is not broken, so it is not rebuilt beside; the second one stops and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_in_use_is_not_rebuilt_beside() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    append_all(&log, &samla_sim::generate_n(5, 200)).await;
    let folder = tempfile::tempdir().expect("tempdir");
    let run = || engine::catch_up_and_digest(log.clone(), EngineConfig::new(folder.path()));
    let (digest, _) = run().await.expect("first");
    let models = folder.path().join("models-1");
    let in_use = SledStore::open(&models).expect("open");

    let error = run().await.expect_err("a folder in use was opened");
    assert!(
        matches!(error, samla_projector::ProjectorError::InUse(_)),
        "{error}"
    );
    assert!(error.to_string().contains("models-1"), "{error}");
    assert_eq!(model_folders(folder.path()), vec!["models-1"]);
    let current = std::fs::read_to_string(folder.path().join("CURRENT"));
    assert!(current.is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound));

    // The service binary, which runs until Ctrl-C, ends by itself with that error rather
    // than living on with its projector stopped.
    let child = Command::new(env!("CARGO_BIN_EXE_samla-projector"))
        .args(["--nats-url", &server.client_url(), "--data-dir"])
        .arg(folder.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn projector");
    let output = exit_within_a_minute(child, "of its start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("read models in use"), "{stderr}");

    drop(in_use);
    assert_eq!(run().await.expect("once let go").0, digest);

    // Beside a running engine, a second one is refused at once by the data folder's lock
    // (a rebuild holds no read-model folder while it swaps them).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let projector = engine::Projector::new();
    let config = EngineConfig::new(folder.path());
    let running = tokio::spawn(engine::run(projector.clone(), log.clone(), config, stopped));
    let head = log.head().await.expect("head").last_seq;
    let day = std::time::Duration::from_secs(24 * 3600);
    assert!(projector.wait_loaded(day).await && projector.wait_until_current(head, day).await);
    let error = run().await.expect_err("two engines on one data folder");
    assert!(
        error.to_string().contains(&format!(
            "another projector is using {}",
            folder.path().display()
        )),
        "{error}"
    );
    let _ = stop.send(true);
    running
        .await
        .expect("join")
        .expect("the first engine ran on");
}

/// Stored events for a pure fold, numbered from 1, recorded a second apart.
fn raw_events(events: &[Envelope]) -> Vec<RawEvent> {
    events
        .iter()
        .enumerate()
        .map(|(index, envelope)| RawEvent {
            seq: index as u64 + 1,
            recorded_at: proto_events::Timestamp::from_unix_seconds(1_780_000_000 + index as i64)
                .expect("time"),
            subject: envelope.subject().to_string(),
            bytes: Bytes::from(codec::encode_msgpack(envelope)),
        })
        .collect()
}

#[test]
fn an_event_stored_twice_beyond_the_duplicate_window_is_applied_once() {
    let events = samla_sim::generate_n(5, 400);
    let once = raw_events(&events);
    // The same id again later in the log, as a retry after the 24 h window would land.
    let mut twice_events = events.clone();
    twice_events.push(events[10].clone());
    let twice = raw_events(&twice_events);
    let (folder_once, store_once) = fold_in_memory(&once, 100).expect("fold");
    let (folder_twice, store_twice) = fold_in_memory(&twice, 100).expect("fold");
    assert_eq!(folder_twice.applied_seq(), once.len() as u64 + 1);
    assert_eq!(folder_twice.ids_len(), folder_once.ids_len());
    assert_eq!(
        store_twice.digest().expect("digest"),
        store_once.digest().expect("digest")
    );
}
