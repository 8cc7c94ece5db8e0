//! A 3-node cluster: the stream leader dies mid-burst, with either commit mode.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_r3_leader_mid_burst_loses_no_acknowledged_event() {
    leader_dies_mid_burst(CommitMode::Atomic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_r3_leader_mid_pipelined_burst_loses_no_acknowledged_event() {
    leader_dies_mid_burst(CommitMode::Pipelined).await;
}

/// 3,000 events in calls of 100 over 500 aggregates, re-sending what failed retryably;
/// the stream leader is killed after 500 are acknowledged. Every event must end up in the
/// log exactly once, at the sequence its acknowledgement gave.
async fn leader_dies_mid_burst(commit: CommitMode) {
    let mut cluster = NatsCluster::start(3).expect("start cluster");
    let connection = connect_to(&cluster.client_urls()).await;
    let config = LogConfig {
        replicas: 3,
        commit,
        ..LogConfig::new(64 * MIB)
    };
    let log = wait_for("the R3 log to open", Duration::from_secs(20), || {
        let connection = connection.clone();
        let config = config.clone();
        async move { Log::open(&connection, config).await.ok() }
    })
    .await;

    const EVENTS: usize = 3000;
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let writer = {
        let log = log.clone();
        tokio::spawn(async move {
            let mut acknowledged: HashMap<String, u64> = HashMap::new();
            let mut retried = 0;
            let mut pending: Vec<AppendItem> = (0..EVENTS)
                .map(|index| {
                    item(
                        &log,
                        "org-a",
                        &format!("n{}", index % 500),
                        &format!("ev-{index}"),
                        "r3",
                        None,
                    )
                })
                .collect();
            let give_up = Instant::now() + Duration::from_secs(60);
            while !pending.is_empty() {
                assert!(
                    Instant::now() < give_up,
                    "{} events never acknowledged",
                    pending.len()
                );
                let chunk: Vec<AppendItem> = pending.drain(..pending.len().min(100)).collect();
                let results = log.append_batch(chunk.clone()).await;
                let mut failed = Vec::new();
                for (event, result) in chunk.into_iter().zip(results) {
                    match result {
                        Ok(appended) => {
                            if let Some(previous) =
                                acknowledged.insert(event.id.clone(), appended.seq)
                            {
                                assert_eq!(
                                    previous, appended.seq,
                                    "{} acknowledged twice",
                                    event.id
                                );
                            }
                        }
                        Err(error) if error.is_retryable() => failed.push(event),
                        Err(error) => panic!("append failed for good: {error}"),
                    }
                }
                let _ = acked_tx.send(acknowledged.len());
                if !failed.is_empty() {
                    retried += failed.len();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    failed.append(&mut pending);
                    pending = failed;
                }
            }
            eprintln!("{retried} appends were retried after the leader died");
            acknowledged
        })
    };

    while acked_rx.recv().await.is_some_and(|acked| acked < 500) {}
    let leader = log.head().await.expect("head").leader.expect("a leader");
    let index = cluster.node_by_name(&leader).expect("leader node");
    tokio::task::block_in_place(|| cluster.node_mut(index).kill());
    eprintln!("killed stream leader {leader}");

    let acknowledged = writer.await.expect("writer");
    assert_eq!(acknowledged.len(), EVENTS);
    let records = wait_for("the log to be readable", Duration::from_secs(30), || {
        let log = log.clone();
        async move {
            let records = log
                .read(ReadRange::span(1, u64::MAX))
                .await
                .ok()?
                .collect_all()
                .await
                .ok()?;
            (records.len() >= EVENTS).then_some(records)
        }
    })
    .await;
    let mut seen = HashSet::new();
    for record in &records {
        let id = record.msg_id().expect("msg id").to_owned();
        assert_eq!(
            acknowledged.get(&id),
            Some(&record.seq()),
            "{id} at its acknowledged sequence"
        );
        assert!(seen.insert(id), "exactly once");
    }
    assert_eq!(seen.len(), EVENTS);
}
