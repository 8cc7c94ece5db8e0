//! Appending: optimistic concurrency, duplicates, batch rules, a full log.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_claims_one_wins_and_a_retry_of_the_winner_is_a_duplicate() {
    let log = open_shared("claims").await;
    let raised = log
        .append(item(&log, "org-a", "n1", "raised", "raised", Some(0)))
        .await
        .expect("raise");

    let writers: Vec<_> = (0..32)
        .map(|writer| {
            let log = log.clone();
            let claim = item(
                &log,
                &format!("org-{writer}"),
                "n1",
                &format!("claim-{writer}"),
                "claim",
                Some(raised.seq),
            );
            tokio::spawn(async move { (claim.clone(), log.append(claim).await) })
        })
        .collect();
    let mut winners = Vec::new();
    let mut conflicts = Vec::new();
    for writer in writers {
        let (claim, result) = writer.await.expect("writer task");
        match result {
            Ok(appended) => winners.push((claim, appended)),
            Err(LogError::Conflict {
                expected_seq,
                current_seq,
            }) => conflicts.push((claim, expected_seq, current_seq)),
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    assert_eq!(conflicts.len(), 31);
    let (winning_claim, won) = winners.pop().expect("a winner");
    assert!(!won.duplicate);
    for (_, expected_seq, current_seq) in &conflicts {
        assert_eq!(*expected_seq, raised.seq);
        assert_eq!(
            *current_seq, won.seq,
            "the conflict names the winner's sequence"
        );
    }

    // A retry of the winner is its original sequence — also after more events landed.
    assert_eq!(
        log.append(winning_claim.clone()).await,
        Ok(Appended {
            seq: won.seq,
            duplicate: true
        })
    );
    let update = log
        .append(item(&log, "org-b", "n1", "update", "update", None))
        .await
        .expect("update");
    assert_eq!(
        log.append(winning_claim).await,
        Ok(Appended {
            seq: won.seq,
            duplicate: true
        })
    );
    // A loser retrying still conflicts, now with the latest sequence.
    let (losing_claim, _, _) = conflicts.pop().expect("a loser");
    assert_eq!(
        log.append(losing_claim).await,
        Err(LogError::Conflict {
            expected_seq: raised.seq,
            current_seq: update.seq
        })
    );
    let aggregate = ReadFilter::Subject(format!("{}.inc-1.*.need.n1", log.config().subject_prefix));
    assert_eq!(read_all(&log, aggregate).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_twice_is_one_copy() {
    let log = open_shared("twice").await;
    let event = item(&log, "org-a", "n1", "only-once", "payload", None);
    let first = log.append(event.clone()).await.expect("first");
    let second = log.append(event.clone()).await.expect("second");
    assert_eq!(
        second,
        Appended {
            seq: first.seq,
            duplicate: true
        }
    );
    // In one batch (atomic: padded past the pipelined threshold), twice.
    let mut batch = vec![event.clone(), event];
    let padding = pad_to_atomic(&log, &mut batch, "twice-pad");
    let in_batch = log.append_batch(batch).await;
    assert_eq!(in_batch[..2], [Ok(second), Ok(second)]);
    assert_eq!(read_all(&log, ReadFilter::All).await.len(), 1 + padding);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_holds_one_claim_per_need_and_survives_a_stored_id() {
    batch_rules(open_shared_with("batches", CommitMode::Atomic).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_appends_keep_the_same_rules() {
    batch_rules(open_shared_with("pipebatches", CommitMode::Pipelined).await).await;
}

async fn batch_rules(log: Log) {
    let raised = log
        .append(item(&log, "org-a", "n1", "raised", "raised", Some(0)))
        .await
        .expect("raise");

    // Two claims on one need in one call: exactly one lands. (Padded so that the first
    // level is an atomic batch with the atomic mode; the second claim is a level of its own.)
    let mut claims = vec![
        item(&log, "org-b", "n1", "claim-b", "claim", Some(raised.seq)),
        item(&log, "org-c", "n2", "other-need", "raised", Some(0)),
    ];
    pad_to_atomic(&log, &mut claims, "claims-pad");
    claims.insert(
        2,
        item(&log, "org-c", "n1", "claim-c", "claim", Some(raised.seq)),
    );
    let results = log.append_batch(claims).await;
    let claim_seq = seq_of(&results[0]);
    seq_of(&results[1]);
    assert_eq!(
        results[2],
        Err(LogError::Conflict {
            expected_seq: raised.seq,
            current_seq: claim_seq
        })
    );
    let need = ReadFilter::Subject(format!("{}.inc-1.*.need.n1", log.config().subject_prefix));
    let ids: Vec<String> = read_all(&log, need)
        .await
        .iter()
        .filter_map(|record| record.msg_id().map(str::to_owned))
        .collect();
    assert_eq!(ids, ["raised", "claim-b"]);

    // A batch with one already-stored id stores the others, once; sent again, all are
    // duplicates with their first sequences.
    let stored = log
        .append(item(&log, "org-a", "s1", "stored", "x", None))
        .await
        .expect("stored");
    let mut batch: Vec<AppendItem> = ["fresh-1", "stored", "fresh-2", "fresh-3"]
        .iter()
        .enumerate()
        .map(|(index, id)| {
            let aggregate = if *id == "stored" {
                "s1".to_owned()
            } else {
                format!("f{index}")
            };
            item(&log, "org-a", &aggregate, id, "x", None)
        })
        .collect();
    let padding = pad_to_atomic(&log, &mut batch, "stored-pad") as u64;
    let before = log.head().await.expect("head").messages;
    let first = log.append_batch(batch.clone()).await;
    assert_eq!(
        first[1],
        Ok(Appended {
            seq: stored.seq,
            duplicate: true
        })
    );
    for index in [0, 2, 3] {
        assert!(matches!(
            first[index],
            Ok(Appended {
                duplicate: false,
                ..
            })
        ));
    }
    assert_eq!(
        log.head().await.expect("head").messages,
        before + 3 + padding
    );
    let again = log.append_batch(batch).await;
    for (first, again) in first.iter().zip(&again) {
        assert_eq!(
            again.as_ref().map(|appended| appended.seq),
            first.as_ref().map(|a| a.seq)
        );
        assert!(matches!(
            again,
            Ok(Appended {
                duplicate: true,
                ..
            })
        ));
    }
    assert_eq!(
        log.head().await.expect("head").messages,
        before + 3 + padding
    );
}

/// Requests appended together: each request's events land in its order, each aggregate's
/// in input order, every item answered where it landed.
async fn requests_together(log: Log) {
    // 12 requests of 30 events over 8 aggregates each, overlapping between requests.
    let requests: Vec<Vec<AppendItem>> = (0..12)
        .map(|request| {
            (0..30)
                .map(|position| {
                    let aggregate = format!("g{}", (request * 3 + position * 5) % 8 + request % 4);
                    item(
                        &log,
                        "org-a",
                        &aggregate,
                        &format!("r{request}-{position}"),
                        "x",
                        None,
                    )
                })
                .collect()
        })
        .collect();
    let answers = log.append_requests(requests.clone()).await;
    let mut landed: HashMap<String, u64> = HashMap::new();
    for (items, answers) in requests.iter().zip(&answers) {
        assert_eq!(items.len(), answers.len());
        let seqs: Vec<u64> = answers.iter().map(seq_of).collect();
        assert!(
            seqs.windows(2).all(|pair| pair[0] < pair[1]),
            "a request's events out of order: {seqs:?}"
        );
        for (item, seq) in items.iter().zip(seqs) {
            landed.insert(item.id.clone(), seq);
        }
    }
    let records = read_all(&log, ReadFilter::All).await;
    assert_eq!(records.len(), 12 * 30);
    for record in &records {
        let id = record.msg_id().expect("msg id");
        assert_eq!(
            landed.get(id),
            Some(&record.seq()),
            "{id} answered where it landed"
        );
    }
    // Per aggregate, the log holds the events in input order (request by request).
    let mut input_order: HashMap<String, Vec<String>> = HashMap::new();
    for item in requests.iter().flatten() {
        input_order
            .entry(item.subject.clone())
            .or_default()
            .push(item.id.clone());
    }
    let mut log_order: HashMap<String, Vec<String>> = HashMap::new();
    for record in &records {
        log_order
            .entry(record.subject().to_owned())
            .or_default()
            .push(record.msg_id().expect("msg id").to_owned());
    }
    assert_eq!(log_order, input_order);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_appended_together_keep_their_order_in_atomic_batches() {
    requests_together(open_shared_with("together", CommitMode::Atomic).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_appended_together_keep_their_order_pipelined() {
    requests_together(open_shared_with("pipetogether", CommitMode::Pipelined).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_log_refuses_appends_clearly_and_stays_readable() {
    let connection = connect_to(&[NatsServer::shared().client_url()]).await;
    // More than the server's max_file_store (1 GiB in the test kit): refused at open.
    let error = Log::open(&connection, own_config("huge", 4096 * MIB))
        .await
        .expect_err("too big");
    assert!(matches!(error, LogError::StorageLimit { .. }), "{error}");

    let log = Log::open(&connection, own_config("full", 64 * 1024))
        .await
        .expect("open");
    let payload = "x".repeat(1000);
    let mut stored = 0;
    let full = loop {
        let event = item(
            &log,
            "org-a",
            &format!("n{stored}"),
            &format!("ev-{stored}"),
            &payload,
            None,
        );
        match log.append(event).await {
            Ok(_) => stored += 1,
            Err(error) => break error,
        }
        assert!(stored < 100, "a 64 KiB log took 100 KiB");
    };
    assert!(matches!(full, LogError::LogFull { .. }), "{full}");
    eprintln!("a full log answers: {full}");
    assert!(full.to_string().contains("full"));
    let batch: Vec<AppendItem> = (0..3)
        .map(|index| {
            item(
                &log,
                "org-b",
                &format!("b{index}"),
                &format!("late-{index}"),
                &payload,
                None,
            )
        })
        .collect();
    for result in log.append_batch(batch).await {
        assert!(
            matches!(result, Err(LogError::LogFull { .. })),
            "{result:?}"
        );
    }
    assert_eq!(read_all(&log, ReadFilter::All).await.len(), stored);
}
