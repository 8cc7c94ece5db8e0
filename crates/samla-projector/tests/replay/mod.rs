//! Replays against a real nats-server: as-of pictures equal a fresh fold of exactly the
//! right events in both senses, a late report is in "as happened" but not in "as known",
//! and snapshots are used, verified and refused when corrupt or stale; checkpoints in
//! memory (`checkpoints.rs`) answer the same and are dropped when a late event makes them
//! stale.

mod checkpoints;

use std::collections::{BTreeMap, HashMap};

use proto_events::{Envelope, Payload, Timestamp, codec};
use rand::{Rng, SeedableRng};
use samla_projector::replay::{ReplayConfig, ReplayPoint, Replayer, Sense};
use samla_projector::{
    Folder, KvStore, MemoryStore, Prepared, RawEvent, ReadModels, Recorded, Scope, Superseded,
    fold_in_memory, prepare,
};
use samla_testkit::NatsServer;

use super::{append_all, open_log, read_all};

/// A replayer with snapshots every `every` events and no checkpoints in memory: the
/// tests of snapshots count what they load.
fn replayer(log: &samla_log::Log, dir: &std::path::Path, every: u64) -> Replayer {
    replayer_with_checkpoints(log, dir, every, 0)
}

fn replayer_with_checkpoints(
    log: &samla_log::Log,
    dir: &std::path::Path,
    every: u64,
    checkpoint_every: u64,
) -> Replayer {
    let config = ReplayConfig {
        snapshot_every: every,
        // Every multiple of `every` along these short lines.
        max_snapshots_per_line: 32,
        batch_max: 100,
        checkpoint_every,
        ..ReplayConfig::default()
    };
    Replayer::open(log.clone(), dir.to_path_buf(), config).expect("open replayer")
}

/// Folds stored events into read models in the order given with a plain
/// `ReadModels::apply` loop and its own bookkeeping of corrections — independent of the
/// folder the replayer uses — and digests the result.
#[derive(Default)]
struct ReferenceFold {
    models: ReadModels,
    store: MemoryStore,
    /// Event id → (seq, recorded_at, envelope as first stored).
    originals: HashMap<u128, (u64, Timestamp, Envelope)>,
    /// Superseded seq → the payload in force.
    in_force: HashMap<u64, Payload>,
}

impl ReferenceFold {
    fn apply(&mut self, raw: &RawEvent) {
        let Prepared::Usable(usable) = prepare(raw) else {
            panic!("the generated crisis has no bad events (seq {})", raw.seq);
        };
        let envelope = &usable.envelope;
        let target = match &envelope.payload {
            Payload::EventCorrected(c) => Some(c.supersedes),
            Payload::EventRetracted(r) => Some(r.supersedes),
            _ => None,
        };
        let superseded = target.map(|id| {
            let (seq, recorded_at, original) = self
                .originals
                .get(&id.as_uuid().as_u128())
                .unwrap_or_else(|| panic!("seq {} supersedes an unknown event", raw.seq))
                .clone();
            let mut envelope = original;
            if let Some(payload) = self.in_force.get(&seq) {
                envelope.payload = payload.clone();
            }
            Superseded {
                seq,
                recorded_at,
                envelope,
            }
        });
        self.models.apply(&Recorded {
            seq: usable.seq,
            recorded_at: usable.recorded_at,
            subject: &usable.subject,
            envelope,
            superseded: superseded.as_ref(),
        });
        if let (Payload::EventCorrected(c), Some(s)) = (&envelope.payload, &superseded) {
            self.in_force.insert(s.seq, (*c.replacement.0).clone());
        }
        self.originals
            .entry(envelope.id.as_uuid().as_u128())
            .or_insert((usable.seq, usable.recorded_at, envelope.clone()));
    }

    fn digest(&mut self) -> String {
        self.store
            .apply(self.models.drain_changes())
            .expect("memory store");
        self.store.digest().expect("digest")
    }
}

/// The "as happened" order of the stored events, worked out from the envelopes: by
/// occurred time, a correction or retraction at the time of the event it supersedes.
fn happened_order(raws: &[RawEvent]) -> Vec<(Timestamp, u64)> {
    let mut time_of: HashMap<u128, Timestamp> = HashMap::new();
    let mut order: Vec<(Timestamp, u64)> = raws
        .iter()
        .map(|raw| {
            let envelope = codec::decode_msgpack(&raw.bytes).expect("decode");
            let target = match &envelope.payload {
                Payload::EventCorrected(c) => Some(c.supersedes),
                Payload::EventRetracted(r) => Some(r.supersedes),
                _ => None,
            };
            let time = target
                .and_then(|id| time_of.get(&id.as_uuid().as_u128()).copied())
                .unwrap_or(envelope.occurred_at);
            time_of
                .entry(envelope.id.as_uuid().as_u128())
                .or_insert(time);
            (time, raw.seq)
        })
        .collect();
    order.sort();
    order
}

fn known_digest(raws: &[RawEvent]) -> String {
    let (_, store) = fold_in_memory(raws, 250).expect("fold");
    store.digest().expect("digest")
}

/// Moves every occurred time by `seconds` (the crisis then happens around real time).
fn shifted(events: &[Envelope], seconds: i64) -> Vec<Envelope> {
    events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            event.occurred_at = event.occurred_at.plus_seconds(seconds);
            event
        })
        .collect()
}

fn nanos_between(rng: &mut impl Rng, low: Timestamp, high: Timestamp) -> Timestamp {
    let nanos = rng.random_range(low.as_unix_nanos()..=high.as_unix_nanos());
    Timestamp::from_unix_nanos(nanos).expect("time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_of_pictures_equal_a_fresh_fold_of_exactly_the_right_events() {
    let seed = 20261124;
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    let events = samla_sim::generate_n(seed, 3_000);
    // Appended in a few rounds, so that recorded times spread out.
    for round in events.chunks(700) {
        append_all(&log, round).await;
    }
    let raws = read_all(&log).await;
    let order = happened_order(&raws);
    let late = order.windows(2).filter(|w| w[0].1 > w[1].1).count();
    assert!(late > 10, "the crisis should have late reports ({late})");

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let first = raws[0].recorded_at.plus_seconds(-1);
    let last = raws[raws.len() - 1].recorded_at.plus_seconds(1);
    let mut known_times: Vec<Timestamp> = (0..50)
        .map(|_| nanos_between(&mut rng, first, last))
        .collect();
    // Exact recorded times too: an event recorded at T is known at T.
    for _ in 0..5 {
        known_times.push(raws[rng.random_range(0..raws.len())].recorded_at);
    }
    let (earliest, latest) = (order[0].0, order[order.len() - 1].0);
    let happened_times: Vec<Timestamp> = (0..50)
        .map(|_| {
            nanos_between(
                &mut rng,
                earliest.plus_seconds(-60),
                latest.plus_seconds(60),
            )
        })
        .collect();

    // References, folded once along each line in ascending time ("known" with the
    // engine's pipeline, as `fold_in_memory`; batch boundaries do not matter).
    let mut known_reference: BTreeMap<Timestamp, (u64, String)> = BTreeMap::new();
    let mut sorted_times = known_times.clone();
    sorted_times.sort();
    let (mut folder, mut store, mut applied) = (Folder::new(), MemoryStore::new(), 0);
    for time in sorted_times {
        // The last sequence recorded at or before T, and everything before it was too.
        let n = raws.iter().filter(|r| r.recorded_at <= time).count();
        assert!(raws[..n].iter().all(|r| r.recorded_at <= time));
        let batch: Vec<Prepared> = raws[applied..n].iter().map(prepare).collect();
        let fetched = folder
            .wanted(&batch)
            .into_iter()
            .map(|seq| (seq, prepare(&raws[(seq - 1) as usize])))
            .collect();
        folder.apply_batch(batch, &fetched);
        store.apply(folder.drain_changes()).expect("store");
        applied = n;
        known_reference.insert(time, (n as u64, store.digest().expect("digest")));
    }
    let mut happened_reference: BTreeMap<Timestamp, (u64, u64, String)> = BTreeMap::new();
    let mut sorted_times = happened_times.clone();
    sorted_times.sort();
    let mut reference = ReferenceFold::default();
    let mut folded = 0;
    for time in sorted_times {
        while folded < order.len() && order[folded].0 <= time {
            reference.apply(&raws[(order[folded].1 - 1) as usize]);
            folded += 1;
        }
        let highest = order[..folded].iter().map(|(_, s)| *s).max().unwrap_or(0);
        happened_reference.insert(time, (folded as u64, highest, reference.digest()));
    }

    // Snapshots alone, then snapshots with checkpoints in memory between them.
    for checkpoint_every in [0, 150] {
        let dir = tempfile::tempdir().expect("tempdir");
        let replay = replayer_with_checkpoints(&log, dir.path(), 400, checkpoint_every);
        // Queried in random order, so replays start from snapshots at many positions.
        for (index, time) in known_times.iter().enumerate() {
            let (replayed, digest) = replay
                .at_with_digest(ReplayPoint::KnownAt(*time))
                .await
                .expect("known");
            let (n, expected) = &known_reference[time];
            assert_eq!(
                (replayed.seq, replayed.events),
                (*n, *n),
                "known at {time} (#{index})"
            );
            assert_eq!(&digest, expected, "known at {time} (#{index})");
            assert_eq!(replayed.at, *time);
            assert_eq!(replayed.sense, Sense::Known);
            if *n > 0 && index % 10 == 0 {
                let by_seq = replay
                    .at_with_digest(ReplayPoint::KnownAtSeq(*n))
                    .await
                    .expect("known at seq");
                assert_eq!(&by_seq.1, expected);
                assert_eq!(by_seq.0.at, raws[(*n - 1) as usize].recorded_at);
            }
        }
        for (index, time) in happened_times.iter().enumerate() {
            let (replayed, digest) = replay
                .at_with_digest(ReplayPoint::HappenedAt(*time))
                .await
                .expect("happened");
            let (events, highest, expected) = &happened_reference[time];
            assert_eq!(
                (replayed.events, replayed.seq),
                (*events, *highest),
                "happened at {time} (#{index})"
            );
            assert_eq!(&digest, expected, "happened at {time} (#{index})");
            assert_eq!(replayed.at, *time);
            assert_eq!(replayed.sense, Sense::Happened);
        }
        let stats = replay.stats();
        assert!(stats.snapshots_written >= 10, "{stats:?}");
        if checkpoint_every == 0 {
            assert!(stats.snapshots_loaded > 50, "{stats:?}");
        } else {
            assert!(stats.checkpoints_used > 50, "{stats:?}");
            assert!(stats.checkpoints_kept >= 30, "{stats:?}");
        }
        assert_eq!(stats.indexed_events, raws.len() as u64);
        let (_, at_head) = replay
            .at_with_digest(ReplayPoint::KnownAt(last))
            .await
            .expect("head");
        assert_eq!(at_head, known_digest(&raws));
        assert!(matches!(
            replay
                .at(ReplayPoint::KnownAtSeq(raws.len() as u64 + 1))
                .await,
            Err(samla_projector::ProjectorError::BeyondHead { .. })
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_report_is_in_as_happened_but_not_in_as_known() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    let generated = samla_sim::generate_n(41, 600);
    // The crisis is moved so that event 300 occurs now: the first half happened before
    // the appends, the second half mostly after them.
    let split = 300;
    let now = Timestamp::now();
    let events = shifted(
        &generated,
        now.seconds_since(generated[split].occurred_at) - 1,
    );
    // A late report: after the split in the log, occurred over a minute before now.
    // (Events after it occur in the future of the real clock; the log does not check
    // that, only ingest does, and the fold only orders by it.)
    let late = (split..events.len())
        .find(|&i| events[i].occurred_at < now.plus_seconds(-60) && !events[i].kind().is_hygiene())
        .expect("the crisis has a late report after the split");
    append_all(&log, &events[..split]).await;
    append_all(&log, &events[split..]).await;
    let raws = read_all(&log).await;
    let (before, after) = (raws[split - 1].recorded_at, raws[split].recorded_at);
    assert!(before < after, "appends are apart in time");
    // T1: between the two appends, from the log's own clock.
    let t1 = Timestamp::from_unix_nanos((before.as_unix_nanos() + after.as_unix_nanos()) / 2)
        .expect("time");
    let late_seq = late as u64 + 1;
    assert!(events[late].occurred_at < t1 && raws[late].recorded_at > t1);

    let dir = tempfile::tempdir().expect("tempdir");
    let replay = replayer(&log, dir.path(), 100);
    let scope = Scope {
        incident: events[late].incident.clone(),
        status: events[late].status,
    };
    let sequences = |models: &ReadModels| models.timeline.after(&scope, |_| true, 0);

    let (known, known_digest_at_t1) = replay
        .at_with_digest(ReplayPoint::KnownAt(t1))
        .await
        .expect("known");
    assert_eq!(known.seq, split as u64);
    assert_eq!(known_digest_at_t1, known_digest(&raws[..split]));
    assert!(!sequences(&known.models).contains(&late_seq));

    let (happened, happened_digest) = replay
        .at_with_digest(ReplayPoint::HappenedAt(t1))
        .await
        .expect("happened");
    assert!(sequences(&happened.models).contains(&late_seq));
    // And exactly the events that occurred by T1, in occurred order.
    let order = happened_order(&raws);
    let mut reference = ReferenceFold::default();
    let mut count = 0;
    for (time, seq) in &order {
        if *time <= t1 {
            reference.apply(&raws[(*seq - 1) as usize]);
            count += 1;
        }
    }
    assert_eq!(happened.events, count);
    assert_eq!(happened_digest, reference.digest());
    assert!(
        order
            .iter()
            .any(|(time, seq)| *time > t1 && *seq > split as u64),
        "some events of the second append occurred after T1"
    );
    assert!((count as usize) < raws.len());

    // Known at the end, the late report is in both.
    let everything = replay
        .at(ReplayPoint::KnownAt(raws[raws.len() - 1].recorded_at))
        .await
        .expect("known at end");
    assert!(sequences(&everything.models).contains(&late_seq));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_shorten_replays_and_bad_ones_are_refused() {
    let server = NatsServer::start().expect("nats-server");
    let log = open_log(&server).await;
    let events = samla_sim::generate_n(77, 2_300);
    append_all(&log, &events[..2_000]).await;
    let raws = read_all(&log).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let replay = replayer(&log, dir.path(), 500);

    let first = replay
        .at(ReplayPoint::KnownAtSeq(1_234))
        .await
        .expect("first");
    assert_eq!((first.started_from, first.folded), (0, 1_234));
    assert_eq!(replay.stats().snapshots_written, 2, "at 500 and 1,000");
    let (second, digest) = replay
        .at_with_digest(ReplayPoint::KnownAtSeq(1_240))
        .await
        .expect("second");
    assert_eq!((second.started_from, second.folded), (1_000, 240));
    assert_eq!(digest, known_digest(&raws[..1_240]));
    assert_eq!(replay.stats().events_folded, 1_234 + 240);

    // A flipped byte in the snapshot at 1,000: refused, deleted, and the answer is still
    // right, from the snapshot at 500.
    let at_1000 = replay
        .snapshots()
        .into_iter()
        .find(|s| s.sense == Sense::Known && s.position == 1_000)
        .expect("snapshot at 1,000");
    let mut bytes = std::fs::read(&at_1000.path).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&at_1000.path, &bytes).expect("corrupt");
    let refused_before = replay.stats().snapshots_refused;
    let (third, digest) = replay
        .at_with_digest(ReplayPoint::KnownAtSeq(1_240))
        .await
        .expect("third");
    assert_eq!((third.started_from, third.folded), (500, 740));
    assert_eq!(digest, known_digest(&raws[..1_240]));
    assert_eq!(replay.stats().snapshots_refused, refused_before + 1);
    // Folding past 1,000 again wrote a good one; a reopened replayer finds it on disk.
    let truncated = dir.path().join("known-00000000000001f4.snap");
    let bytes = std::fs::read(&truncated).expect("snapshot at 500");
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).expect("truncate");
    let reopened = replayer(&log, dir.path(), 500);
    let fourth = reopened
        .at(ReplayPoint::KnownAtSeq(1_010))
        .await
        .expect("fourth");
    assert_eq!((fourth.started_from, fourth.folded), (1_000, 10));
    let (fifth, digest) = reopened
        .at_with_digest(ReplayPoint::KnownAtSeq(700))
        .await
        .expect("fifth");
    assert_eq!(
        (fifth.started_from, fifth.folded),
        (0, 700),
        "truncated 500"
    );
    assert_eq!(digest, known_digest(&raws[..700]));
    assert_eq!(reopened.stats().snapshots_refused, 1);

    // "As happened" snapshots: used while the order they cover stands...
    let order = happened_order(&raws);
    let t = order[1_600].0;
    let (first, _) = replay
        .at_with_digest(ReplayPoint::HappenedAt(t))
        .await
        .expect("happened");
    assert_eq!(first.started_from, 0);
    let again = replay
        .at(ReplayPoint::HappenedAt(t))
        .await
        .expect("happened again");
    assert_eq!(again.started_from, 1_500);
    assert!(again.folded < 200, "{}", again.folded);

    // ...and refused once a late append sorts before them.
    let mut more = events[2_000..].to_vec();
    let plain = more
        .iter()
        .position(|e| !e.kind().is_hygiene())
        .expect("a plain event");
    more[plain].occurred_at = order[10].0;
    append_all(&log, &more).await;
    let raws = read_all(&log).await;
    let refused_before = replay.stats().snapshots_refused;
    let (after, digest) = replay
        .at_with_digest(ReplayPoint::HappenedAt(t))
        .await
        .expect("happened after the late append");
    assert_eq!(after.started_from, 0, "every happened snapshot is stale");
    assert!(replay.stats().snapshots_refused >= refused_before + 3);
    let order = happened_order(&raws);
    let mut reference = ReferenceFold::default();
    for (time, seq) in &order {
        if *time <= t {
            reference.apply(&raws[(*seq - 1) as usize]);
        }
    }
    assert_eq!(digest, reference.digest());

    // Several queries at one point share one picture.
    let shared = replay
        .at_shared(ReplayPoint::HappenedAt(t))
        .await
        .expect("shared");
    let again = replay
        .at_shared(ReplayPoint::HappenedAt(t))
        .await
        .expect("shared again");
    assert!(std::sync::Arc::ptr_eq(&shared, &again));
    assert_eq!(replay.stats().cache_hits, 1);

    // Bounded disk: allowed 4 snapshots per line, a 2,300-event line keeps them 500
    // apart (250 doubled once), and the finer ones written before are deleted.
    let thin_dir = tempfile::tempdir().expect("tempdir");
    replayer(&log, thin_dir.path(), 250)
        .warm(Sense::Known)
        .await
        .expect("warm");
    let thin = Replayer::open(
        log.clone(),
        thin_dir.path().to_path_buf(),
        ReplayConfig {
            snapshot_every: 250,
            max_snapshots_per_line: 4,
            ..ReplayConfig::default()
        },
    )
    .expect("open");
    assert_eq!(thin.snapshots().len(), 9);
    let (replayed, digest) = thin
        .at_with_digest(ReplayPoint::KnownAtSeq(2_100))
        .await
        .expect("thin");
    assert_eq!(digest, known_digest(&raws[..2_100]));
    assert_eq!(replayed.started_from, 2_000);
    let positions: Vec<u64> = thin.snapshots().iter().map(|s| s.position).collect();
    assert_eq!(positions, vec![500, 1_000, 1_500, 2_000]);
}
