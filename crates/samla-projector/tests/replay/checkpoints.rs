//! Checkpoints in memory: replays answered from one equal a fresh fold (and leave it
//! unchanged for the next), a snapshot loaded after a restart becomes one, their count is
//! bounded, and a late event that sorts before "as happened" checkpoints drops them.

use samla_projector::replay::{ReplayConfig, ReplayPoint, Replayer, Sense};
use samla_testkit::NatsServer;

use super::{ReferenceFold, happened_order, known_digest, replayer_with_checkpoints};
use crate::{append_all, open_log, read_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_from_checkpoints_equal_a_fresh_fold_and_late_events_drop_stale_ones() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    let events = samla_sim::generate_n(93, 1_700);
    append_all(&log, &events[..1_500]).await;
    let raws = read_all(&log).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let replay = replayer_with_checkpoints(&log, dir.path(), 1_000, 100);

    // Warming the known line keeps a checkpoint every 100 events and writes the snapshot.
    assert_eq!(replay.warm(Sense::Known).await.expect("warm"), 1_500);
    let stats = replay.stats();
    assert_eq!((stats.checkpoints_kept, stats.snapshots_written), (15, 1));

    // From the checkpoint at 1,200, in memory: 34 events folded, the same picture.
    let (from_checkpoint, digest) = replay
        .at_with_digest(ReplayPoint::KnownAtSeq(1_234))
        .await
        .expect("known");
    assert_eq!(
        (
            from_checkpoint.started_from,
            from_checkpoint.folded,
            from_checkpoint.from_snapshot
        ),
        (1_200, 34, false)
    );
    assert_eq!(digest, known_digest(&raws[..1_234]));
    assert_eq!(from_checkpoint.at, raws[1_233].recorded_at);
    // Exactly at a checkpoint: nothing folded; its time is its last event's.
    let (exact, digest) = replay
        .at_with_digest(ReplayPoint::KnownAtSeq(1_200))
        .await
        .expect("exact");
    assert_eq!((exact.started_from, exact.folded), (1_200, 0));
    assert_eq!(digest, known_digest(&raws[..1_200]));
    assert_eq!(exact.at, raws[1_199].recorded_at);
    // Folding on from a checkpoint leaves it as it was for the next replay.
    let (_, digest) = replay
        .at_with_digest(ReplayPoint::KnownAtSeq(1_299))
        .await
        .expect("further");
    assert_eq!(digest, known_digest(&raws[..1_299]));
    let (again, digest) = replay
        .at_with_digest(ReplayPoint::KnownAtSeq(1_210))
        .await
        .expect("again");
    assert_eq!((again.started_from, again.folded), (1_200, 10));
    assert_eq!(digest, known_digest(&raws[..1_210]));
    // A time between two events, found with the checkpoints' recorded times.
    let time = raws[876].recorded_at;
    let (by_time, digest) = replay
        .at_with_digest(ReplayPoint::KnownAt(time))
        .await
        .expect("by time");
    let n = raws.iter().filter(|raw| raw.recorded_at <= time).count();
    assert_eq!(by_time.seq, n as u64);
    assert_eq!(digest, known_digest(&raws[..n]));

    // After a restart only the snapshot is left: loaded once, then a checkpoint.
    let reopened = replayer_with_checkpoints(&log, dir.path(), 1_000, 100);
    let loaded = reopened
        .at(ReplayPoint::KnownAtSeq(1_050))
        .await
        .expect("loaded");
    assert_eq!((loaded.started_from, loaded.from_snapshot), (1_000, true));
    let (from_memory, digest) = reopened
        .at_with_digest(ReplayPoint::KnownAtSeq(1_020))
        .await
        .expect("from memory");
    assert_eq!(
        (from_memory.started_from, from_memory.from_snapshot),
        (1_000, false)
    );
    assert_eq!(digest, known_digest(&raws[..1_020]));
    assert_eq!(reopened.stats().snapshots_loaded, 1);

    // The happened line: checkpoints every 100 positions of the occurred order.
    replay.warm(Sense::Happened).await.expect("warm happened");
    let order = happened_order(&raws);
    let t = order[1_234].0;
    let reference = |raws: &[samla_projector::RawEvent], t| {
        let mut reference = ReferenceFold::default();
        let mut count = 0;
        for (time, seq) in happened_order(raws) {
            if time <= t {
                reference.apply(&raws[(seq - 1) as usize]);
                count += 1;
            }
        }
        (count, reference.digest())
    };
    let (happened, digest) = replay
        .at_with_digest(ReplayPoint::HappenedAt(t))
        .await
        .expect("happened");
    let (count, expected) = reference(&raws, t);
    assert_eq!(happened.events, count);
    assert_eq!(happened.started_from, count / 100 * 100);
    assert!(!happened.from_snapshot && happened.folded < 100);
    assert_eq!(digest, expected);

    // A late event that occurred before the 11th event of the order sorts before every
    // checkpoint of the happened line: all are dropped, the answer is still right, and the
    // line fills again.
    let mut more = events[1_500..].to_vec();
    let plain = more
        .iter()
        .position(|e| !e.kind().is_hygiene())
        .expect("a plain event");
    more[plain].occurred_at = order[10].0;
    append_all(&log, &more).await;
    let raws = read_all(&log).await;
    let dropped_before = replay.stats().checkpoints_dropped;
    let (after, digest) = replay
        .at_with_digest(ReplayPoint::HappenedAt(t))
        .await
        .expect("happened after the late append");
    assert_eq!(after.started_from, 0, "every happened checkpoint is stale");
    assert!(replay.stats().checkpoints_dropped >= dropped_before + 15);
    let (count, expected) = reference(&raws, t);
    assert_eq!(after.events, count);
    assert_eq!(digest, expected);
    let (refilled, digest) = replay
        .at_with_digest(ReplayPoint::HappenedAt(t))
        .await
        .expect("happened again");
    assert_eq!(refilled.started_from, count / 100 * 100);
    assert_eq!(digest, expected);
    // The known line is a prefix: its checkpoints stay.
    let (known, digest) = replay
        .at_with_digest(ReplayPoint::KnownAtSeq(1_650))
        .await
        .expect("known after the append");
    assert_eq!((known.started_from, known.folded), (1_500, 150));
    assert_eq!(digest, known_digest(&raws[..1_650]));

    // Bounded: 4 per line on a 1,700-event line keeps them 400 apart (100 doubled twice).
    let bounded_dir = tempfile::tempdir().expect("tempdir");
    let bounded = Replayer::open(
        log.clone(),
        bounded_dir.path().to_path_buf(),
        ReplayConfig {
            checkpoint_every: 100,
            max_checkpoints_per_line: 4,
            ..ReplayConfig::default()
        },
    )
    .expect("open");
    bounded.warm(Sense::Known).await.expect("warm");
    assert_eq!(bounded.stats().checkpoints_kept, 4);
    let (replayed, digest) = bounded
        .at_with_digest(ReplayPoint::KnownAtSeq(1_500))
        .await
        .expect("bounded");
    assert_eq!((replayed.started_from, replayed.folded), (1_200, 300));
    assert_eq!(digest, known_digest(&raws[..1_500]));
}
