//! The live stream: `GET /v1/incidents/{incident}/live`, Server-Sent Events, one per
//! visible applied event (`id` = stream sequence, `event: applied`, data = the event with
//! its one-line summary), with keep-alives.
//!
//! A client reconnecting with `Last-Event-ID: N` (or `?from_seq=N+1`) is first served,
//! from the log, every visible event after N that the read models have applied — the
//! timeline index says which — then the live notices; notices at or below the last event
//! sent are skipped. So there is no gap and no duplicate, also across a server restart
//! (the index and the log are on disk).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use samla_projector::views::VisibleSlices;
use samla_projector::{Scope, Viewer};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::openapi::responses::LiveErrors;
use crate::query::params::{Incident, IncidentPath, LiveParams, Params};
use crate::query::{Caller, QueryError, QueryState, event_json, timeline_item, viewer_of};

/// The live stream of an incident: Server-Sent Events, one per visible applied event.
///
/// Each event has `id:` its log sequence, `event: applied` and as `data:` a
/// `TimelineEvent` (the event with its one-line summary). Keep-alive comments every 15 s.
/// Reconnect with `Last-Event-ID` (an `EventSource` does) to resume without gap or
/// duplicate; the stream also ends, to be resumed that way, when the client cannot keep up
/// and when the server stops.
#[utoipa::path(
    get,
    path = "/v1/incidents/{incident}/live",
    tag = "live",
    params(
        IncidentPath,
        LiveParams,
        ("Last-Event-ID" = Option<u64>, Header,
            description = "Resume after this sequence: the last `id` received."),
    ),
    responses(
        (status = 200, description = "A `text/event-stream`; each `data:` is a `TimelineEvent`.",
            content_type = "text/event-stream", body = String),
        LiveErrors,
    ),
)]
pub async fn live(
    State(state): State<QueryState>,
    caller: Caller,
    Incident(incident): Incident,
    Params(params): Params<LiveParams>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, QueryError> {
    let status = params.status();
    crate::query::wait_loaded_for(&state, caller.wait).await?;
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // Without either, the stream starts with what is applied next.
    let after = last_event_id
        .or(params.from_seq.map(|seq| seq.saturating_sub(1)))
        .unwrap_or_else(|| state.projector.applied_seq());
    let scope = Scope { incident, status };
    let viewer = viewer_of(&caller.principal);
    let (sender, mut receiver) = mpsc::channel::<Event>(256);
    tokio::spawn(feed(state, scope, viewer, after, sender));
    let stream = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx).map(|e| e.map(Ok)));
    Ok(Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("keep-alive"),
    ))
}

fn sse_event(seq: u64, data: &serde_json::Value) -> Event {
    Event::default()
        .id(seq.to_string())
        .event("applied")
        .data(data.to_string())
}

/// Replays from the log, then forwards live notices, until the client goes away (noticed
/// at once, also while no notice comes) or the server stops.
///
/// When what the viewer may see changes (it joins the incident, a restricted group
/// grows), events folded before the notice that shows the change may have become visible
/// too: the stream then reads on from the timeline, in order, instead of the notice, so a
/// live stream holds exactly what a reconnect from the same point would (an organisation
/// connected before its own join was folded missed the events before the join).
async fn feed(
    state: QueryState,
    scope: Scope,
    viewer: Viewer,
    after: u64,
    sender: mpsc::Sender<Event>,
) {
    // Subscribe first, so nothing applied during the replay is missed.
    let mut notices = state.projector.subscribe();
    let mut closing = state.streams_closing();
    let (mut visible, backlog) = state.projector.read(|m| {
        let visible = VisibleSlices::new(m, &scope, &viewer);
        let backlog = m
            .timeline
            .after(&scope, |slice| visible.contains(slice), after);
        (visible, backlog)
    });
    let mut last_sent = after;
    if !send_from_log(&state, &viewer, backlog, &sender, &mut last_sent).await {
        return;
    }
    let closed = async move {
        // An error means the state is gone, which also means close.
        let _ = closing.wait_for(|closing| *closing).await;
    };
    let mut closed = std::pin::pin!(closed);
    loop {
        // A client that went away ends the feed at once, not at the next notice for its
        // incident: on a quiet incident that may never come, and the feed would hold the
        // read side (and its store) open for as long as the server runs. A stopping
        // server ends it too: the stream's end lets the connection close.
        let received = tokio::select! {
            received = notices.recv() => received,
            () = sender.closed() => return,
            () = &mut closed => return,
        };
        let notice = match received {
            Ok(notice) => notice,
            Err(RecvError::Lagged(missed)) => {
                // Too slow to follow live: end the stream; the client resumes from its
                // Last-Event-ID through the log, without a gap.
                tracing::info!(missed, "live stream lagged; closing so the client resumes");
                return;
            }
            Err(RecvError::Closed) => return,
        };
        let (now_visible, backlog) = state.projector.read(|m| {
            let now_visible = VisibleSlices::new(m, &scope, &viewer);
            let backlog = (now_visible != visible).then(|| {
                m.timeline
                    .after(&scope, |slice| now_visible.contains(slice), last_sent)
            });
            (now_visible, backlog)
        });
        visible = now_visible;
        if let Some(backlog) = backlog {
            if !send_from_log(&state, &viewer, backlog, &sender, &mut last_sent).await {
                return;
            }
            continue;
        }
        for changed in notice.events {
            if changed.seq <= last_sent
                || changed.envelope.incident != scope.incident
                || changed.envelope.status != scope.status
                || !visible.contains(&changed.slice)
            {
                continue;
            }
            let data = event_json(changed.seq, changed.recorded_at, &changed.envelope, &viewer);
            if sender.send(sse_event(changed.seq, &data)).await.is_err() {
                return;
            }
            last_sent = changed.seq;
        }
    }
}

/// Sends the events at `seqs` (ascending), read from the log. `false` when the stream
/// should end: the client went away, the server is stopping, or the log could not be read
/// (the client reconnects with Last-Event-ID and resumes).
async fn send_from_log(
    state: &QueryState,
    viewer: &Viewer,
    seqs: Vec<u64>,
    sender: &mpsc::Sender<Event>,
    last_sent: &mut u64,
) -> bool {
    let closing = state.streams_closing();
    for seq in seqs {
        if *closing.borrow() {
            return false;
        }
        match timeline_item(&state.log, seq, viewer).await {
            Ok(Some(item)) => {
                if sender.send(sse_event(seq, &item)).await.is_err() {
                    return false;
                }
                *last_sent = seq;
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "live stream: replay from the log failed");
                return false;
            }
        }
    }
    true
}
