//! Nobody speaks for another organisation, not even through the log: an event whose
//! subject and envelope disagree, written straight to the stream with the ingest
//! service's own credential (as a misconfigured tool holding it might), is quarantined with
//! a reason naming the mismatch, and the fold goes on past it.

use std::time::Duration;

use bytes::Bytes;
use proto_events::Kind;
use reqwest::StatusCode;
use samla_log::AppendItem;
use serde_json::{Value, json};

use crate::common::{Serve, envelope, http, json_of, shared};

const INCIDENT: &str = "impersonation-at-the-log";
const OTHER_INCIDENT: &str = "impersonation-elsewhere";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_and_envelope_that_disagree_are_quarantined_and_the_fold_goes_on() {
    let env = tokio::task::spawn_blocking(shared)
        .await
        .expect("the shared server");
    let folder = tempfile::tempdir().expect("a read-model folder");
    let replica = Serve::start(env, folder.path()).await;
    let http = http();

    // The incident, with alfa and bravo in its network, through the door.
    let network = json!([
        json_of(&envelope(
            Kind::IncidentDeclared,
            INCIDENT,
            "alfa",
            INCIDENT
        )),
        json_of(&envelope(
            Kind::OrganisationJoined,
            INCIDENT,
            "alfa",
            "alfa"
        )),
    ]);
    post_stored(&replica, &http, env.token("alfa"), &network).await;
    let joined = json!([json_of(&envelope(
        Kind::OrganisationJoined,
        INCIDENT,
        "bravo",
        "bravo"
    ))]);
    post_stored(&replica, &http, env.token("bravo"), &joined).await;

    // Written with the ingest credential: alfa's subject, bravo's envelope.
    let log = env.ingest_log().await;
    let forged_org = envelope(Kind::NeedRaised, INCIDENT, "bravo", "need-forged-org");
    let forged_org_seq = append_raw(
        &log,
        format!("samla.evt.{INCIDENT}.alfa.need.need-forged-org"),
        &forged_org,
    )
    .await;
    // And one whose subject names this incident while the envelope names another.
    let forged_incident = envelope(Kind::NeedRaised, OTHER_INCIDENT, "alfa", "need-forged-inc");
    let forged_incident_seq = append_raw(
        &log,
        format!("samla.evt.{INCIDENT}.alfa.need.need-forged-inc"),
        &forged_incident,
    )
    .await;

    // A valid event after them, through the door: the fold must get past the forgeries.
    let after = envelope(Kind::NeedRaised, INCIDENT, "alfa", "need-after-forgery");
    let after_seq = post_stored(
        &replica,
        &http,
        env.token("alfa"),
        &json!([json_of(&after)]),
    )
    .await[0];
    assert!(after_seq > forged_incident_seq && forged_incident_seq > forged_org_seq);

    let (status, quarantine) = replica
        .get(
            &http,
            &env.operator_token,
            &format!("/v1/incidents/{INCIDENT}/quarantine?min_seq={after_seq}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{quarantine}");
    let rows = quarantine["items"].as_array().expect("quarantine items");
    let row = |seq: u64| {
        rows.iter()
            .find(|row| row["seq"] == seq)
            .unwrap_or_else(|| panic!("seq {seq} is not quarantined: {quarantine:#}"))
    };
    let org_row = row(forged_org_seq);
    assert_eq!(org_row["code"], "subject_mismatch", "{org_row}");
    assert_eq!(org_row["field"], "org", "{org_row}");
    assert_eq!(org_row["event_id"], forged_org.id.to_string(), "{org_row}");
    let reason = org_row["reason"].as_str().expect("a reason");
    assert!(
        reason.contains(".alfa.") && reason.contains(".bravo."),
        "the reason names both organisations: {reason}"
    );
    let incident_row = row(forged_incident_seq);
    assert_eq!(incident_row["code"], "subject_mismatch", "{incident_row}");
    assert_eq!(incident_row["field"], "incident", "{incident_row}");
    assert!(
        incident_row["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains(OTHER_INCIDENT)),
        "{incident_row}"
    );

    // The fold went on: the valid event after them is applied, the forgeries are not.
    for token in [env.token("alfa"), env.token("bravo"), &env.operator_token] {
        let (status, needs) = replica
            .get(
                &http,
                token,
                &format!("/v1/incidents/{INCIDENT}/needs?min_seq={after_seq}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{needs}");
        let ids: Vec<&str> = needs["items"]
            .as_array()
            .expect("need items")
            .iter()
            .filter_map(|need| need["id"].as_str())
            .collect();
        assert!(ids.contains(&"need-after-forgery"), "{needs:#}");
        assert!(
            !ids.iter().any(|id| id.starts_with("need-forged")),
            "a forged event reached the picture: {needs:#}"
        );
    }
    let timeline = replica
        .timeline_seqs(&http, env.token("bravo"), INCIDENT, after_seq)
        .await;
    assert!(timeline.contains(&after_seq));
    assert!(
        !timeline.contains(&forged_org_seq) && !timeline.contains(&forged_incident_seq),
        "a forged event is on the timeline: {timeline:?}"
    );
    // Nor did the forged incident appear anywhere.
    let (status, other) = replica
        .get(
            &http,
            &env.operator_token,
            &format!("/v1/incidents/{OTHER_INCIDENT}/needs"),
        )
        .await;
    assert!(
        status == StatusCode::NOT_FOUND || other["items"].as_array().is_some_and(Vec::is_empty),
        "{status} {other}"
    );
    replica.kill().await;
}

/// Posts items that must all be stored; returns their sequences.
async fn post_stored(
    replica: &Serve,
    http: &reqwest::Client,
    token: &str,
    items: &Value,
) -> Vec<u64> {
    let (status, _, text) = replica
        .post_raw(http, token, items.to_string().into_bytes())
        .await
        .expect("post");
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let replies: Value = serde_json::from_str(&text).expect("a reply array");
    replies
        .as_array()
        .expect("a reply array")
        .iter()
        .map(|reply| {
            reply["seq"]
                .as_u64()
                .unwrap_or_else(|| panic!("not stored: {reply}"))
        })
        .collect()
}

/// Appends an envelope on a subject of the caller's choosing (what the ingest service
/// would never do), returning its sequence.
async fn append_raw(
    log: &samla_log::Log,
    subject: String,
    envelope: &proto_events::Envelope,
) -> u64 {
    let appended = tokio::time::timeout(
        Duration::from_secs(30),
        log.append(AppendItem {
            subject,
            id: envelope.id.to_string(),
            payload: Bytes::from(proto_events::encode_msgpack(envelope)),
            expected_seq: None,
        }),
    )
    .await
    .expect("the append answers")
    .expect("the server takes the forged event from the ingest user");
    assert!(!appended.duplicate);
    appended.seq
}
