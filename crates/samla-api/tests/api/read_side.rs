//! The read side through the router: queries and the live stream as each organisation may
//! see them, `min_seq` for reading one's own write, and a live stream that resumes with
//! `Last-Event-ID` without gap or duplicate, also after the server restarts.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use proto_events::{Audience, Envelope, Kind, Status};
use samla_api::query::QueryState;
use samla_api::tokens::SharedTokens;
use samla_api::{AppState, app};
use samla_projector::engine::{self, EngineConfig, Projector};
use serde_json::{Value, json};
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::common::{
    Gateway, envelope, fixture, gateway, json as to_json, org_id, post_json, seq, test_config,
};

/// A gateway with a projector in the same process, on its own read-model folder.
pub struct ReadSide {
    pub router: Router,
    /// What the router serves, for `samla_api::run` over a real socket.
    pub state: AppState,
    pub projector: Projector,
    stop: watch::Sender<bool>,
    service: tokio::task::JoinHandle<Result<(), samla_projector::ProjectorError>>,
}

pub async fn read_side(folder: &std::path::Path) -> ReadSide {
    let gateway = gateway(test_config()).await;
    let projector = Projector::new();
    let (stop, stopped) = watch::channel(false);
    let service = tokio::spawn(engine::run(
        projector.clone(),
        gateway.log.clone(),
        EngineConfig::new(folder),
        stopped,
    ));
    let tokens = SharedTokens::fixed(fixture().tokens.clone());
    let state = AppState {
        ingest: gateway.service.clone(),
        tokens: tokens.clone(),
        query: Some(
            QueryState::new(
                projector.clone(),
                gateway.log.clone(),
                tokens,
                folder.join("replay"),
            )
            .expect("open the replay folder"),
        ),
    };
    ReadSide {
        router: app(state.clone()),
        state,
        projector,
        stop,
        service,
    }
}

/// The router of a gateway with a read side whose projector never runs: enough for every
/// answer decided before the read models are consulted (401, 403, 400, 404, 405). With
/// `wait`, a query that waits for the read models gives up after it (503).
pub async fn unloaded_router(wait: Duration) -> Router {
    let gateway = gateway(test_config()).await;
    // Never replays (nothing is ever loaded), but the folder must exist while it runs.
    router_without_projector(
        &gateway,
        tempfile::tempdir().expect("a temporary folder").keep(),
    )
    .layer(axum::Extension(samla_api::query::MinSeqWait(wait)))
}

/// The router of `gateway` with a read side over a projector that never runs, replaying
/// into `replay`.
pub fn router_without_projector(gateway: &Gateway, replay: std::path::PathBuf) -> Router {
    let tokens = SharedTokens::fixed(fixture().tokens.clone());
    app(AppState {
        ingest: gateway.service.clone(),
        tokens: tokens.clone(),
        query: Some(
            QueryState::new(Projector::new(), gateway.log.clone(), tokens, replay)
                .expect("open the replay folder"),
        ),
    })
}

impl ReadSide {
    pub async fn shut(self) {
        let _ = self.stop.send(true);
        self.service
            .await
            .expect("projector task")
            .expect("projector");
    }
}

pub fn event(
    kind: Kind,
    incident: &str,
    org: &str,
    aggregate: &str,
    audience: Audience,
) -> Envelope {
    let mut event = envelope(kind, incident, org, aggregate);
    event.audience = audience;
    event.status = Status::Actual;
    event
}

pub fn joined(incident: &str, org: &str) -> Envelope {
    event(
        Kind::OrganisationJoined,
        incident,
        org,
        org,
        Audience::Network,
    )
}

pub async fn post_one(router: &Router, org: &str, event: &Envelope) -> u64 {
    let (status, _, body) = post_json(router, org, &json!([to_json(event)])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    seq(&body[0])
}

pub async fn get(router: &Router, org: &str, path: &str) -> (StatusCode, Value) {
    let token = fixture().org_tokens[org].clone();
    let response = router
        .clone()
        .oneshot(
            Request::get(path)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("the router answers");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Opens the live stream and collects events until `until` sequences were seen (or the
/// deadline passes). Returns the sequences in order.
async fn live(
    router: &Router,
    org: &str,
    incident: &str,
    last_event_id: Option<u64>,
    until: usize,
) -> Vec<u64> {
    let body = live_connect(router, org, incident, last_event_id).await;
    live_collect(body, until).await
}

/// The projector's count of live feeds once `settled` holds for it, or after 10 s: feeds
/// start and end on tasks of their own, a moment after their connection does.
pub async fn settled_subscribers(projector: &Projector, settled: impl Fn(usize) -> bool) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !settled(projector.subscribers()) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    projector.subscribers()
}

/// Opens the live stream: its body once the stream answered.
async fn live_connect(
    router: &Router,
    org: &str,
    incident: &str,
    last_event_id: Option<u64>,
) -> Body {
    let token = fixture().org_tokens[org].clone();
    let mut request = Request::get(format!("/v1/incidents/{incident}/live"))
        .header("authorization", format!("Bearer {token}"));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("the router answers");
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body()
}

/// The sequences of the next `until` events of a live stream (fewer if the deadline
/// passes), in order.
async fn live_collect(mut body: Body, until: usize) -> Vec<u64> {
    live_collect_from(&mut body, until).await
}

/// [`live_collect`] on a body the caller keeps, to leave the stream open after.
async fn live_collect_from(body: &mut Body, until: usize) -> Vec<u64> {
    let mut text = String::new();
    let mut seqs = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seqs.len() < until {
        let frame = tokio::time::timeout_at(deadline, body.frame()).await;
        let Ok(Some(Ok(frame))) = frame else { break };
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if let Some(id) = block.lines().find_map(|line| line.strip_prefix("id: ")) {
                seqs.push(id.trim().parse().expect("numeric id"));
            }
        }
    }
    seqs
}

/// An organisation that opens the live stream before its join is folded sees nothing at
/// first; once it joins, the stream shows what became visible — the network's events from
/// before the join too, in order — exactly as a reconnect from the same point would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_shows_what_became_visible_when_its_viewer_joins() {
    let folder = tempfile::tempdir().expect("tempdir");
    let side = read_side(folder.path()).await;
    let incident = "live-join";
    let alfa_joined = post_one(&side.router, "alfa", &joined(incident, "alfa")).await;
    let early = post_one(
        &side.router,
        "alfa",
        &event(
            Kind::NeedRaised,
            incident,
            "alfa",
            "need-early",
            Audience::Network,
        ),
    )
    .await;
    let (status, _) = get(
        &side.router,
        "alfa",
        &format!("/v1/incidents/{incident}/needs?min_seq={early}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "both folded before bravo connects");
    // Not a member yet: bravo's stream starts empty.
    let body = live_connect(&side.router, "bravo", incident, Some(0)).await;
    let bravo_joined = post_one(&side.router, "bravo", &joined(incident, "bravo")).await;
    let seen = live_collect(body, 3).await;
    assert_eq!(seen, vec![alfa_joined, early, bravo_joined]);
    let reconnected = live(&side.router, "bravo", incident, Some(0), 3).await;
    assert_eq!(
        reconnected, seen,
        "a reconnect from the start sees the same"
    );
    side.shut().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restricted_events_stay_with_their_audience_everywhere() {
    let folder = tempfile::tempdir().expect("tempdir");
    let side = read_side(folder.path()).await;
    let incident = "visibility-read";
    post_one(&side.router, "alfa", &joined(incident, "alfa")).await;
    post_one(&side.router, "bravo", &joined(incident, "bravo")).await;
    let open = event(
        Kind::NeedRaised,
        incident,
        "bravo",
        "need-open",
        Audience::Network,
    );
    let network_seq = post_one(&side.router, "bravo", &open).await;
    let only_alfa = Audience::Orgs([org_id("alfa")].into());
    let secret = event(Kind::NeedRaised, incident, "alfa", "need-secret", only_alfa);
    let secret_seq = post_one(&side.router, "alfa", &secret).await;

    let needs = |org: &'static str| {
        let router = side.router.clone();
        async move {
            let (status, body) = get(
                &router,
                org,
                &format!("/v1/incidents/{incident}/needs?min_seq={secret_seq}"),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let ids: Vec<String> = body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|n| n["id"].as_str().unwrap_or_default().to_string())
                .collect();
            (ids, body)
        }
    };
    let (alfa_needs, _) = needs("alfa").await;
    let (bravo_needs, bravo_body) = needs("bravo").await;
    assert_eq!(alfa_needs, vec!["need-open", "need-secret"]);
    assert_eq!(bravo_needs, vec!["need-open"], "{bravo_body}");

    let (_, alfa_picture) = get(
        &side.router,
        "alfa",
        &format!("/v1/incidents/{incident}/picture"),
    )
    .await;
    let (_, bravo_picture) = get(
        &side.router,
        "bravo",
        &format!("/v1/incidents/{incident}/picture"),
    )
    .await;
    let open_needs = |p: &Value| p["picture"]["needs"]["open"].as_u64();
    assert_eq!(open_needs(&alfa_picture), Some(2), "{alfa_picture}");
    assert_eq!(open_needs(&bravo_picture), Some(1), "{bravo_picture}");

    let timeline = |body: &Value| -> Vec<u64> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["seq"].as_u64().expect("seq"))
            .collect()
    };
    let (_, alfa_timeline) = get(
        &side.router,
        "alfa",
        &format!("/v1/incidents/{incident}/timeline"),
    )
    .await;
    let (_, bravo_timeline) = get(
        &side.router,
        "bravo",
        &format!("/v1/incidents/{incident}/timeline"),
    )
    .await;
    assert!(timeline(&alfa_timeline).contains(&secret_seq));
    assert!(
        !timeline(&bravo_timeline).contains(&secret_seq),
        "{bravo_timeline}"
    );
    assert!(timeline(&bravo_timeline).contains(&network_seq));

    // The live stream from the start: bravo gets the three network events, never alfa's.
    let bravo_live = live(&side.router, "bravo", incident, Some(0), 3).await;
    assert_eq!(bravo_live.len(), 3);
    assert!(!bravo_live.contains(&secret_seq));
    let alfa_live = live(&side.router, "alfa", incident, Some(0), 4).await;
    assert!(alfa_live.contains(&secret_seq));

    // Quarantine and digest are the operator's.
    let (status, _) = get(&side.router, "alfa", "/v1/digest").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    side.shut().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_stream_resumes_without_gap_or_duplicate_across_a_restart() {
    let folder = tempfile::tempdir().expect("tempdir");
    let incident = "live-resume";
    let side = read_side(folder.path()).await;
    post_one(&side.router, "charlie", &joined(incident, "charlie")).await;
    let first = post_one(
        &side.router,
        "charlie",
        &event(
            Kind::NeedRaised,
            incident,
            "charlie",
            "need-first",
            Audience::Network,
        ),
    )
    .await;
    // Connected from the start, the client receives the event it posted.
    let received = live(&side.router, "charlie", incident, Some(first - 1), 1).await;
    assert_eq!(received, vec![first]);

    // Disconnected: three more land, then the server (gateway and projector) restarts.
    let mut later = Vec::new();
    for name in ["need-a", "need-b", "need-c"] {
        later.push(
            post_one(
                &side.router,
                "charlie",
                &event(
                    Kind::NeedRaised,
                    incident,
                    "charlie",
                    name,
                    Audience::Network,
                ),
            )
            .await,
        );
    }
    let (status, _) = get(
        &side.router,
        "charlie",
        &format!("/v1/incidents/{incident}/needs?min_seq={}", later[2]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    side.shut().await;

    let side = read_side(folder.path()).await;
    let resumed = live(&side.router, "charlie", incident, Some(first), 3).await;
    assert_eq!(
        resumed, later,
        "exactly the three events after Last-Event-ID"
    );
    side.shut().await;
}

/// A client that leaves a live stream ends its feed at once, though its incident stays
/// quiet: before, the feed noticed only when the next event for the incident came to be
/// sent, and kept the read side open until then (for a quiet incident, until the server
/// stopped, where dropping the last handle of the store at runtime shutdown could hang).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_feed_ends_when_its_client_leaves_a_quiet_incident() {
    let folder = tempfile::tempdir().expect("tempdir");
    let side = read_side(folder.path()).await;
    let incident = "live-leave";
    let joined_seq = post_one(&side.router, "charlie", &joined(incident, "charlie")).await;
    assert_eq!(side.projector.subscribers(), 0, "no stream yet");
    let mut body = live_connect(&side.router, "charlie", incident, Some(0)).await;
    let seen = live_collect_from(&mut body, 1).await;
    assert_eq!(seen, vec![joined_seq]);
    assert_eq!(
        side.projector.subscribers(),
        1,
        "the feed follows the notices"
    );

    drop(body);
    assert_eq!(
        settled_subscribers(&side.projector, |count| count == 0).await,
        0,
        "the feed ended when its client left, with no event after"
    );
    side.shut().await;
}

/// The data of the first `until` live events for a bearer `token`.
async fn live_data(router: &Router, token: &str, incident: &str, until: usize) -> Vec<Value> {
    let response = router
        .clone()
        .oneshot(
            Request::get(format!("/v1/incidents/{incident}/live"))
                .header("authorization", format!("Bearer {token}"))
                .header("last-event-id", "0")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("the router answers");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let (mut text, mut data) = (String::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while data.len() < until {
        let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await else {
            break;
        };
        if let Ok(bytes) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if let Some(line) = block.lines().find_map(|line| line.strip_prefix("data: ")) {
                data.push(serde_json::from_str(line).expect("JSON data"));
            }
        }
    }
    data
}

/// Small counts of people never reach a share token: not in the timeline's events, not
/// in the live stream, not in a summary; a network member sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_viewers_never_receive_small_counts_of_people() {
    let folder = tempfile::tempdir().expect("tempdir");
    let side = read_side(folder.path()).await;
    let incident = "small-counts";
    post_one(&side.router, "alfa", &joined(incident, "alfa")).await;
    let mut arrivals = event(
        Kind::ArrivalsReported,
        incident,
        "alfa",
        "arrivals-small",
        Audience::Network,
    );
    let proto_events::Payload::ArrivalsReported(payload) = &mut arrivals.payload else {
        panic!("an arrivals report");
    };
    payload.counts.arrivals_this_period = Some(3);
    payload.counts.arrivals_to_date = Some(40);
    let seq = post_one(&side.router, "alfa", &arrivals).await;
    let timeline = |token: String| {
        let router = side.router.clone();
        async move {
            let (_, _, answer) = crate::common::call(
                &router,
                "GET",
                &format!("/v1/incidents/{incident}/timeline?min_seq={seq}"),
                crate::common::Credential::Bearer(&token),
                None,
            )
            .await;
            answer["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|item| item["seq"] == seq)
                .cloned()
                .expect("the arrivals report")
        }
    };
    let fixture = fixture();
    let shared = timeline(fixture.share_token.clone()).await;
    let counts = &shared["event"]["payload"]["counts"];
    assert_eq!(
        counts["arrivals_this_period"],
        json!({"suppressed": true, "below": 5})
    );
    assert_eq!(counts["arrivals_to_date"], 40, "large counts stay");
    let summary = shared["summary"].as_str().expect("a summary");
    assert!(!summary.contains('3'), "{summary}");
    let member = timeline(fixture.org_tokens["alfa"].clone()).await;
    assert_eq!(
        member["event"]["payload"]["counts"]["arrivals_this_period"],
        3
    );
    assert!(
        member["summary"]
            .as_str()
            .expect("a summary")
            .contains("3 arrivals"),
        "{member}"
    );

    let live = live_data(&side.router, &fixture.share_token, incident, 2).await;
    let report = live
        .iter()
        .find(|item| item["seq"] == seq)
        .expect("the report on the live stream");
    assert_eq!(
        report["event"]["payload"]["counts"]["arrivals_this_period"],
        json!({"suppressed": true, "below": 5})
    );
    assert_eq!(report["summary"], shared["summary"]);
    side.shut().await;
}
