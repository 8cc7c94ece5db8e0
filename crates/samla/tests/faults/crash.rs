//! A replica can crash anywhere: `samla serve` SIGKILLed at seeded random points of a
//! 20,000-event catch-up ends, after its last restart, with the digest of a clean fold.

use std::time::{Duration, Instant};

use rand::{Rng as _, SeedableRng as _};
use reqwest::StatusCode;

use crate::common::{Env, Serve, clean_digest_on, http, seed};

const EVENTS: usize = 20_000;
const KILLS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_at_twenty_random_points_of_a_catch_up_ends_with_the_clean_digest() {
    let seed = seed("crash loop", 20_261_123);
    let env = tokio::task::spawn_blocking(Env::start)
        .await
        .expect("start the server");
    let log = env.ingest_log().await;
    let events: Vec<_> = samla_sim::generate_n(seed, EVENTS)
        .into_iter()
        .map(|envelope| (envelope, None))
        .collect();
    for chunk in events.chunks(1000) {
        for (index, result) in log.append_events(chunk).await.into_iter().enumerate() {
            let appended = result.unwrap_or_else(|error| panic!("append item {index}: {error}"));
            assert!(!appended.duplicate, "seed {seed}: a generated id repeated");
        }
    }
    let head = log.head().await.expect("the log's head").last_seq;
    assert_eq!(head, EVENTS as u64);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut kill_points: Vec<u64> = (0..KILLS)
        .map(|_| rng.random_range(1..EVENTS as u64))
        .collect();
    kill_points.sort_unstable();
    let folder = tempfile::tempdir().expect("a read-model folder");
    let http = http();
    let mut reached_at_kill = Vec::with_capacity(KILLS);
    for kill_at in &kill_points {
        let replica = Serve::start(&env, folder.path()).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        let reached = loop {
            if let Some((_, applied, _)) = replica.readyz(&http).await
                && applied >= *kill_at
            {
                break applied;
            }
            assert!(
                Instant::now() < deadline,
                "seed {seed}: the replica never applied {kill_at}; stderr:\n{}",
                replica.stderr_text()
            );
            // Polling a child's progress: there is no event to wait on from outside.
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        replica.kill().await;
        reached_at_kill.push(reached);
    }
    eprintln!("crash loop: kill points {kill_points:?}, applied when killed {reached_at_kill:?}");

    let replica = Serve::start(&env, folder.path()).await;
    replica
        .wait_ready_at(&http, head, Duration::from_secs(60))
        .await;
    let (digest, checkpoint) = replica.digest_at(&http, &env, head).await;
    let (status, quarantine) = replica
        .get(
            &http,
            &env.operator_token,
            &format!(
                "/v1/incidents/{}/quarantine",
                samla_sim::CrisisConfig::demo().incident
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{quarantine}");
    assert_eq!(quarantine["total"], 0, "seed {seed}: {quarantine}");
    replica.kill().await;

    let clean = clean_digest(&env).await;
    assert_eq!(
        (digest, checkpoint),
        clean,
        "seed {seed}: the crashed replica's digest differs from a clean fold (kill points {kill_points:?})"
    );
}

/// `samla projector --digest-at-head` on an empty folder: the digest of a clean fold.
pub async fn clean_digest(env: &Env) -> (String, u64) {
    clean_digest_on(&[env.url()], &env.projector_password, &[]).await
}
