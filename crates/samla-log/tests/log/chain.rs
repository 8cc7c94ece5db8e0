//! The hash chain: intact logs verify, a doctored copy is caught where the event changed,
//! and a faithful-looking copy is caught by its `recorded_at` values.

use samla_log::chain::{self, Interval};

use crate::*;

const EVENTS: u64 = 200;
const EVERY: u64 = 50;
const DOCTORED_SEQ: u64 = 123;

async fn fill(log: &Log) {
    let items: Vec<AppendItem> = (1..=EVENTS)
        .map(|n| {
            item(
                log,
                "kommun",
                &format!("agg-{}", n % 17),
                &format!("id-{n}"),
                &format!("event {n}"),
                None,
            )
        })
        .collect();
    for chunk in items.chunks(100) {
        for result in log.append_batch(chunk.to_vec()).await {
            seq_of(&result);
        }
    }
}

/// Re-appends every record of `original` into `copy`, changing the bytes of `doctor`.
async fn copy_into(original: &Log, copy: &Log, doctor: Option<u64>) {
    for record in read_all(original, ReadFilter::All).await {
        let mut payload = record.payload().to_vec();
        if Some(record.seq()) == doctor {
            payload[0] ^= 0x20; // "event" → "Event": one byte
        }
        let appended = copy
            .append(AppendItem {
                subject: record.subject().to_owned(),
                id: record.msg_id().unwrap_or_default().to_owned(),
                payload: Bytes::from(payload),
                expected_seq: None,
            })
            .await
            .expect("re-append");
        assert_eq!(appended.seq, record.seq(), "the copy keeps the sequences");
    }
}

async fn log_on(server: &NatsServer) -> Log {
    let connection = connect_to(&[server.client_url()]).await;
    Log::open(&connection, own_config("chain", 64 * MIB))
        .await
        .expect("open log")
}

#[tokio::test]
async fn the_chain_verifies_an_intact_log_and_names_where_a_copy_departs() {
    let original_server = NatsServer::start().expect("server");
    let original = log_on(&original_server).await;
    fill(&original).await;
    let export = chain::compute(&original, EVERY, true, |_| {})
        .await
        .expect("chain");
    assert_eq!(export.head.seq, EVENTS);
    assert_eq!(export.points.len() as u64, EVENTS / EVERY);

    // Intact: the same log, recomputed, and the same log grown by more events.
    let again = chain::compute(&original, EVERY, true, |_| {})
        .await
        .expect("chain");
    assert_eq!(again, export, "the chain is deterministic");
    assert!(chain::compare(&export, &again).intact());
    seq_of(
        &original
            .append(item(&original, "kommun", "late", "id-late", "later", None))
            .await,
    );
    let grown = chain::compute(&original, EVERY, true, |_| {})
        .await
        .expect("chain");
    let verdict = chain::compare(&export, &grown);
    assert!(verdict.intact(), "{verdict:?}");
    assert_eq!(verdict.beyond_export, 1);

    // A doctored copy: every event re-appended into a fresh stream, one byte changed.
    let doctored_server = NatsServer::start().expect("server");
    let doctored = log_on(&doctored_server).await;
    copy_into(&original, &doctored, Some(DOCTORED_SEQ)).await;
    let actual = chain::compute(&doctored, EVERY, true, |_| {})
        .await
        .expect("chain");
    let verdict = chain::compare(&export, &actual);
    assert!(!verdict.intact());
    assert_eq!(
        verdict.chain_departs,
        Some(Interval {
            after: 0,
            up_to: EVERY
        }),
        "re-recorded from the start"
    );
    assert_eq!(
        verdict.content_departs,
        Some(Interval {
            after: 100,
            up_to: 150
        }),
        "the content departs in the interval holding seq {DOCTORED_SEQ}"
    );
    assert_eq!(verdict.first_changed_seq, Some(DOCTORED_SEQ));

    // A faithful-looking copy: every event re-appended unchanged. Its recorded_at differ.
    let faithful_server = NatsServer::start().expect("server");
    let faithful = log_on(&faithful_server).await;
    copy_into(&original, &faithful, None).await;
    let actual = chain::compute(&faithful, EVERY, false, |_| {})
        .await
        .expect("chain");
    let verdict = chain::compare(&export, &actual);
    assert!(!verdict.intact(), "a re-written log is caught: {verdict:?}");
    assert_eq!(
        verdict.chain_departs,
        Some(Interval {
            after: 0,
            up_to: EVERY
        })
    );
    assert_eq!(verdict.content_departs, None, "the content is the same");
    assert_eq!(verdict.missing_after, None);

    // A copy that lost its last events.
    let short_server = NatsServer::start().expect("server");
    let short = log_on(&short_server).await;
    for record in read_all(&original, ReadFilter::All)
        .await
        .into_iter()
        .take(180)
    {
        short
            .append(AppendItem {
                subject: record.subject().to_owned(),
                id: record.msg_id().unwrap_or_default().to_owned(),
                payload: record.payload().clone(),
                expected_seq: None,
            })
            .await
            .expect("re-append");
    }
    let actual = chain::compute(&short, EVERY, false, |_| {})
        .await
        .expect("chain");
    let verdict = chain::compare(&export, &actual);
    assert_eq!(verdict.missing_after, Some(180));
    assert_eq!(
        verdict.content_departs,
        Some(Interval {
            after: 150,
            up_to: 200
        })
    );
}
