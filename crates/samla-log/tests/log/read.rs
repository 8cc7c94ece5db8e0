//! Reading: byte-identical round trips across a restart, reads by time/incident/span, the tail, typed records.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_batched_events_survive_a_restart_byte_for_byte() {
    let mut server = NatsServer::start().expect("start server");
    let connection = connect_to(&[server.client_url()]).await;
    let config = LogConfig::new(256 * MIB);
    let log = Log::open(&connection, config.clone()).await.expect("open");

    // 3,000 aggregates for 10,000 events: batches are cut where an aggregate repeats.
    let items: Vec<AppendItem> = (0..10_000)
        .map(|index| {
            let aggregate = format!("n{}", index % 3000);
            let payload = format!("{index:05} {}", "situational picture ".repeat(12));
            item(
                &log,
                "org-a",
                &aggregate,
                &format!("ev-{index}"),
                &payload,
                None,
            )
        })
        .collect();
    let started = Instant::now();
    let results = log.append_batch(items.clone()).await;
    eprintln!(
        "appended 10,000 events in {:?} (sync_interval: always)",
        started.elapsed()
    );
    for (index, result) in results.iter().enumerate() {
        assert_eq!(
            result,
            &Ok(Appended {
                seq: index as u64 + 1,
                duplicate: false
            })
        );
    }

    tokio::task::block_in_place(|| server.restart()).expect("restart server");
    let log = wait_for(
        "the log to reopen after the restart",
        Duration::from_secs(20),
        || {
            let connection = connection.clone();
            let config = config.clone();
            async move { Log::open(&connection, config).await.ok() }
        },
    )
    .await;

    let started = Instant::now();
    let records = read_all(&log, ReadFilter::All).await;
    eprintln!("read 10,000 events in {:?}", started.elapsed());
    assert_eq!(records.len(), items.len());
    for (index, (record, sent)) in records.iter().zip(&items).enumerate() {
        assert_eq!(record.seq(), index as u64 + 1);
        assert_eq!(record.subject(), sent.subject);
        assert_eq!(record.msg_id(), Some(sent.id.as_str()));
        assert_eq!(record.payload(), &sent.payload);
    }
    let head = log.head().await.expect("head");
    assert_eq!(head.last_seq, 10_000);
    assert_eq!(&head.identity, log.identity());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_by_time_by_incident_and_by_span() {
    let log = open_shared("reads").await;
    let prefix = log.config().subject_prefix.clone();
    let event = |incident: &str, id: String| AppendItem {
        subject: format!("{prefix}.{incident}.org-a.report.r1"),
        id,
        payload: Bytes::from_static(b"report"),
        expected_seq: None,
    };
    let early = log
        .append_batch(
            (0..5)
                .map(|index| event("inc-a", format!("early-{index}")))
                .collect(),
        )
        .await;
    assert!(early.iter().all(Result::is_ok));
    let between = Timestamp::now();
    let late = log
        .append_batch(
            (0..6)
                .map(|index| {
                    event(
                        if index % 2 == 0 { "inc-a" } else { "inc-b" },
                        format!("late-{index}"),
                    )
                })
                .collect(),
        )
        .await;
    assert!(late.iter().all(Result::is_ok));

    let known_then = log
        .read(ReadRange::recorded_until(between))
        .await
        .expect("read")
        .collect_all()
        .await
        .expect("records");
    let ids: Vec<&str> = known_then
        .iter()
        .filter_map(|record| record.msg_id())
        .collect();
    assert_eq!(ids, ["early-0", "early-1", "early-2", "early-3", "early-4"]);
    assert!(
        known_then
            .iter()
            .all(|record| record.recorded_at() <= between)
    );

    // Exactly at a recorded time: that event is included, the next is not.
    let all = read_all(&log, ReadFilter::All).await;
    let at = all[6].recorded_at();
    let upto = log
        .read(ReadRange::recorded_until(at))
        .await
        .expect("read")
        .collect_all()
        .await
        .expect("records");
    let expected = all
        .iter()
        .take_while(|record| record.recorded_at() <= at)
        .count();
    assert!(expected >= 7);
    assert_eq!(upto.len(), expected);

    let incident_b = log
        .read(ReadRange::incident("inc-b", 1))
        .await
        .expect("read")
        .collect_all()
        .await
        .expect("records");
    let ids: Vec<&str> = incident_b
        .iter()
        .filter_map(|record| record.msg_id())
        .collect();
    assert_eq!(ids, ["late-1", "late-3", "late-5"]);

    let span = log
        .read(ReadRange::span(3, 5))
        .await
        .expect("read")
        .collect_all()
        .await
        .expect("records");
    let seqs: Vec<u64> = span.iter().map(samla_log::RawRecord::seq).collect();
    assert_eq!(seqs, [3, 4, 5]);
    let past_the_end = log
        .read(ReadRange::span(100, 200))
        .await
        .expect("read")
        .collect_all()
        .await
        .expect("records");
    assert!(past_the_end.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tail_cut_by_a_server_restart_resumes_without_gap_or_duplicate() {
    let mut server = NatsServer::start().expect("start server");
    let connection = connect_to(&[server.client_url()]).await;
    let log = Log::open(&connection, LogConfig::new(64 * MIB))
        .await
        .expect("open");
    let batch = |from: usize, count: usize| -> Vec<AppendItem> {
        (from..from + count)
            .map(|index| {
                item(
                    &log,
                    "org-a",
                    &format!("n{index}"),
                    &format!("ev-{index}"),
                    "tail",
                    None,
                )
            })
            .collect()
    };
    // More than one pull's worth, so the server still holds undelivered events when it stops.
    assert!(
        log.append_batch(batch(0, 3000))
            .await
            .iter()
            .all(Result::is_ok)
    );

    let mut tail = log.tail(1, ReadFilter::All).expect("tail");
    let mut seen = Vec::new();
    while seen.len() < 150 {
        seen.push(tail.next().await.expect("tail record").seq());
    }
    tokio::task::block_in_place(|| server.restart()).expect("restart");
    let more = wait_for("appends after the restart", Duration::from_secs(20), || {
        let log = log.clone();
        let items = batch(3000, 300);
        async move {
            let results = log.append_batch(items).await;
            results.iter().all(Result::is_ok).then_some(results)
        }
    })
    .await;
    assert_eq!(more.len(), 300);
    let resumed = tokio::time::timeout(Duration::from_secs(30), async {
        while seen.len() < 3300 {
            seen.push(tail.next().await.expect("tail record").seq());
        }
    })
    .await;
    assert!(
        resumed.is_ok(),
        "the tail resumed; got {} records",
        seen.len()
    );
    let expected: Vec<u64> = (1..=3300).collect();
    assert_eq!(seen, expected, "no gap, no duplicate");
    assert_eq!(tail.last_seq(), 3300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_envelopes_round_trip_and_garbage_is_delivered_as_undecodable() {
    let connection = connect_to(&[NatsServer::shared().client_url()]).await;
    let log = Log::open(&connection, LogConfig::new(8 * MIB))
        .await
        .expect("open");
    let events: Vec<(proto_events::Envelope, Option<u64>)> = proto_events::examples::all_examples()
        .into_iter()
        .map(|envelope| (envelope, None))
        .collect();
    let results = log.append_events(&events).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let garbage = AppendItem {
        subject: events[0].0.subject().to_string(),
        id: "not-an-envelope".to_owned(),
        payload: Bytes::from_static(b"\xc1 garbage"),
        expected_seq: None,
    };
    let garbage_seq = log.append(garbage).await.expect("garbage").seq;

    let records = read_all(&log, ReadFilter::All).await;
    assert_eq!(records.len(), events.len() + 1);
    for record in &records {
        match record.decode() {
            samla_log::Decoded::Event(recorded) => {
                let index = usize::try_from(recorded.seq - 1).expect("index");
                assert_eq!(recorded.envelope, events[index].0);
                assert_eq!(recorded.recorded_at, record.recorded_at());
            }
            samla_log::Decoded::Undecodable(undecodable) => {
                assert_eq!(undecodable.seq, garbage_seq);
                assert_eq!(undecodable.msg_id.as_deref(), Some("not-an-envelope"));
                assert!(!undecodable.reason.to_string().is_empty());
            }
        }
    }
}
