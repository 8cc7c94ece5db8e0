//! Queries: the picture and every read model, as the caller may see it.
//!
//! All routes are `GET`, take the credential as a bearer token (or the dashboard's
//! cookie), and answer `{"applied_seq", "state", …, "items"}` so a client knows which log
//! position the answer reflects. `status=actual|exercise|test` picks the picture (actual by
//! default: exercises never mix with real events). `min_seq=N` waits (bounded) until the
//! read models applied N, so a client reads its own write without sleeping. Lists that can
//! grow long take `limit` and `cursor` (the last id seen) and answer `next_cursor`.
//!
//! **Replay.** Every read also answers for a past moment: `as_of=<time>` or
//! `at_seq=<n>`, with `sense=known|happened` (see [`params::ReadParams`]). The
//! [`Replayer`] folds the log to that point (from its nearest snapshot) and the same view
//! functions read the result, with the same visibility rules and that moment as `now`; the
//! answer's `as_of` says which sense, moment, sequence and number of events it reflects.
//! Concurrent reads at one point — a dashboard's routes — share one fold.
//!
//! Layout: this file holds what every route shares (state, the caller, the wait, the
//! answer's frame, paging); `params.rs` the query parameters (parsed and documented by the
//! same structs); `routes.rs` the handlers, each with its OpenAPI description.
//! [`query_routes`] registers them through `utoipa_axum`, which is what makes the router
//! and the OpenAPI document one list.

pub mod params;
mod redact;
mod routes;

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use std::path::PathBuf;
use std::sync::Arc;

use proto_events::{IncidentId, Timestamp};
use samla_log::Log;
use samla_log::chain::Chain;
use samla_projector::engine::Projector;
use samla_projector::replay::{ReplayConfig, ReplayPoint, Replayed, Replayer};
use samla_projector::{ProjectorError, ReadModels, Scope, Viewer};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::tokens::{Principal, SharedTokens};
use params::{PageParams, ReadParams};

/// The longest a `min_seq` query (or a query right after a start) waits for the read
/// models, unless the router carries a [`MinSeqWait`].
pub const MIN_SEQ_WAIT: Duration = Duration::from_secs(10);
/// The most items one page holds.
pub const MAX_PAGE: usize = 1000;
/// The dashboard's session cookie.
pub const SESSION_COOKIE: &str = "samla_session";

/// What the query routes share.
#[derive(Debug, Clone)]
pub struct QueryState {
    pub projector: Projector,
    pub log: Log,
    pub tokens: SharedTokens,
    /// Answers reads at a past moment (`as_of`, `at_seq`).
    pub replayer: Replayer,
    /// The log's hash chain as far as it was last asked for (`GET /v1/chain` extends it
    /// to the head): computed from the stream, never from the read models.
    pub chain: Arc<tokio::sync::Mutex<Chain>>,
    /// Set when the server stops ([`QueryState::close_streams`]): every live stream ends,
    /// so a dashboard left open does not hold the HTTP door's graceful shutdown forever.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
}

impl QueryState {
    /// The read side over `projector` and `log`, keeping replay snapshots in `replay_dir`
    /// (disposable: a replica may delete them at any time; `<read models>/replay` is the
    /// usual place).
    pub fn new(
        projector: Projector,
        log: Log,
        tokens: SharedTokens,
        replay_dir: impl Into<PathBuf>,
    ) -> Result<QueryState, ProjectorError> {
        let replayer = Replayer::open(log.clone(), replay_dir.into(), ReplayConfig::default())?;
        Ok(QueryState {
            projector,
            log,
            tokens,
            replayer,
            chain: Arc::default(),
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
        })
    }

    /// Ends every live stream, now and any opened after: the server is stopping. A client
    /// resumes with `Last-Event-ID` once a server answers again.
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    /// Whether the live streams are closing, to watch.
    pub(crate) fn streams_closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

/// Overrides [`MIN_SEQ_WAIT`] for one router: `app(state).layer(Extension(MinSeqWait(d)))`.
/// Tests use it so a `min_seq` that is never reached answers 503 without a 10 s wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinSeqWait(pub Duration);

/// The query routes with their state (the routes of [`query_routes`]).
pub fn query_router(state: QueryState) -> Router {
    let (router, _) = query_routes().split_for_parts();
    router.with_state(state)
}

/// Every query route, registered with its OpenAPI description: the one list the router
/// and the document are made from.
pub fn query_routes() -> OpenApiRouter<QueryState> {
    OpenApiRouter::default()
        .routes(routes!(routes::healthz))
        .routes(routes!(routes::readyz))
        .routes(routes!(routes::metrics))
        .routes(routes!(routes::digest))
        .routes(routes!(routes::chain))
        .routes(routes!(routes::area_picture))
        .routes(routes!(routes::incidents))
        .routes(routes!(routes::picture))
        .routes(routes!(routes::sites))
        .routes(routes!(routes::offers))
        .routes(routes!(routes::needs))
        .routes(routes!(routes::resources))
        .routes(routes!(routes::issues))
        .routes(routes!(routes::reports))
        .routes(routes!(routes::network))
        .routes(routes!(routes::timeline))
        .routes(routes!(routes::quarantine))
        .routes(routes!(crate::live::live))
}

/// Query errors are [`ApiError`]s: one error type, one JSON shape for the whole API.
pub type QueryError = ApiError;

fn unavailable(reason: impl Into<String>) -> ApiError {
    ApiError::Unavailable {
        reason: reason.into(),
        retry_after: Duration::from_secs(1),
    }
}

/// The log could not be read: out of reach (retry), or its stream is gone (a person must
/// restore it, so no retry is suggested).
fn log_unreadable(error: samla_log::LogError) -> ApiError {
    match error {
        samla_log::LogError::StreamMissing { .. } => ApiError::LogMissing {
            reason: error.to_string(),
        },
        error => unavailable(format!("the log could not be read: {error}")),
    }
}

/// Who asks: from `Authorization: Bearer`, or the dashboard's session cookie.
pub fn principal(headers: &HeaderMap, tokens: &SharedTokens) -> Result<Principal, QueryError> {
    let unauthorized = || ApiError::Unauthorized;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let cookie = || {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value.to_string())
    };
    let presented = bearer.or_else(cookie).ok_or_else(unauthorized)?;
    tokens.verify(&presented).ok_or_else(unauthorized)
}

/// The viewer a credential reads as.
pub fn viewer_of(principal: &Principal) -> Viewer {
    match principal {
        Principal::Organisation(org) => Viewer::Org(org.clone()),
        Principal::Share { .. } => Viewer::Share,
        Principal::Operator => Viewer::Operator,
    }
}

/// The caller of a query route, authenticated before any parameter is looked at (so a
/// request without a credential is 401 whatever its parameters), with the `min_seq` wait in
/// force on this router.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub wait: Duration,
}

impl FromRequestParts<QueryState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &QueryState) -> Result<Self, ApiError> {
        Ok(Caller {
            principal: principal(&parts.headers, &state.tokens)?,
            wait: params::min_seq_wait(parts),
        })
    }
}

/// A caller holding the operator token: 403 `forbidden` for any other credential, before
/// any parameter is looked at.
#[derive(Debug, Clone)]
pub struct OperatorCaller(pub Caller);

impl FromRequestParts<QueryState> for OperatorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &QueryState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match caller.principal {
            Principal::Operator => Ok(OperatorCaller(caller)),
            _ => Err(ApiError::Forbidden {
                message: "this route needs the operator token".into(),
            }),
        }
    }
}

/// Which picture a read looks at: the live read models, or a replay.
struct Moment {
    /// The replayed picture; `None` for the live one.
    replay: Option<Arc<Replayed>>,
    /// The instant time-based fields use: now, or the replay's moment.
    now: Timestamp,
}

impl Moment {
    /// Runs `f` on the read models this moment shows.
    fn read<T>(&self, state: &QueryState, f: impl FnOnce(&ReadModels) -> T) -> T {
        match &self.replay {
            Some(replayed) => f(&replayed.models),
            None => state.projector.read(f),
        }
    }
}

/// What one query works on: whose view, which picture, at which moment.
struct Ctx {
    viewer: Viewer,
    scope: Scope,
    now: Timestamp,
    moment: Moment,
}

async fn prepare(
    state: &QueryState,
    caller: &Caller,
    incident: IncidentId,
    read: &ReadParams,
) -> Result<Ctx, QueryError> {
    let moment = moment(state, caller, read).await?;
    Ok(Ctx {
        viewer: viewer_of(&caller.principal),
        scope: Scope {
            incident,
            status: read.status(),
        },
        now: moment.now,
        moment,
    })
}

/// Waits as `min_seq` asks, then finds the picture the read looks at: live, or replayed
/// to `as_of` / `at_seq`.
async fn moment(
    state: &QueryState,
    caller: &Caller,
    read: &ReadParams,
) -> Result<Moment, QueryError> {
    wait_for(state, caller.wait, read.min_seq).await?;
    let Some(point) = read.point()? else {
        return Ok(Moment {
            replay: None,
            now: Timestamp::now(),
        });
    };
    if let ReplayPoint::KnownAtSeq(seq) = point {
        let head = state.log.head().await.map_err(log_unreadable)?;
        if seq > head.last_seq {
            return Err(params::bad(
                "at_seq",
                format!(
                    "at_seq: {seq} is beyond the log's last sequence, {}",
                    head.last_seq
                ),
            ));
        }
    }
    let replayed = state
        .replayer
        .at_shared(point)
        .await
        .map_err(|error| match error {
            ProjectorError::Log(error) => log_unreadable(error),
            error => unavailable(format!("the replay could not be made: {error}")),
        })?;
    Ok(Moment {
        now: replayed.at,
        replay: Some(replayed),
    })
}

async fn wait_for(
    state: &QueryState,
    wait: Duration,
    min_seq: Option<u64>,
) -> Result<(), QueryError> {
    wait_loaded_for(state, wait).await?;
    if let Some(seq) = min_seq
        && !state.projector.wait_for_seq(seq, wait).await
    {
        return Err(ApiError::NotYetApplied {
            applied: state.projector.applied_seq(),
            wanted: seq,
            waited: wait,
        });
    }
    Ok(())
}

/// Waits (bounded) until the projector loaded its stored read models: right after a
/// start they are empty, and an empty answer would look like an empty crisis.
pub async fn wait_loaded(state: &QueryState) -> Result<(), QueryError> {
    wait_loaded_for(state, MIN_SEQ_WAIT).await
}

pub(crate) async fn wait_loaded_for(state: &QueryState, wait: Duration) -> Result<(), QueryError> {
    if state.projector.wait_loaded(wait).await {
        Ok(())
    } else {
        Err(unavailable("the read models are still loading"))
    }
}

/// The answer's frame: which position it reflects and how trustworthy that is, and for
/// a replay, which moment it shows.
fn answer(state: &QueryState, moment: &Moment, ctx: Option<&Ctx>, body: Value) -> Json<Value> {
    let mut frame = json!({
        "applied_seq": state.projector.applied_seq(),
        "state": state.projector.state().as_str(),
        "as_of": moment.replay.as_deref().map(|replayed| json!({
            "sense": replayed.sense.as_str(),
            "at": replayed.at,
            "seq": replayed.seq,
            "events": replayed.events,
        })),
    });
    if let Some(ctx) = ctx {
        frame["incident"] = json!(ctx.scope.incident);
        frame["status"] = json!(ctx.scope.status);
        frame["viewer"] = match &ctx.viewer {
            Viewer::Org(org) => json!({ "org": org }),
            Viewer::Share => json!("share"),
            Viewer::Operator => json!("operator"),
        };
        frame["now"] = json!(ctx.now);
    }
    if let (Value::Object(frame_map), Value::Object(body_map)) = (&mut frame, body) {
        frame_map.extend(body_map);
    }
    Json(frame)
}

/// A page of `items` (already in id order) after `cursor`, with the next cursor.
fn page<T: Serialize>(items: Vec<T>, id: impl Fn(&T) -> &str, params: &PageParams) -> Value {
    let limit = params.limit();
    let start = match &params.cursor {
        Some(cursor) => items
            .iter()
            .position(|item| id(item) > cursor.as_str())
            .unwrap_or(items.len()),
        None => 0,
    };
    let total = items.len();
    let chunk: Vec<&T> = items.iter().skip(start).take(limit).collect();
    let next_cursor = (start + chunk.len() < total)
        .then(|| chunk.last().map(|item| id(item).to_string()))
        .flatten();
    json!({ "total": total, "items": chunk, "next_cursor": next_cursor })
}

/// One event of the timeline, read from the log, as `viewer` may see it.
pub async fn timeline_item(
    log: &Log,
    seq: u64,
    viewer: &Viewer,
) -> Result<Option<Value>, QueryError> {
    let stored = log.get(seq).await.map_err(log_unreadable)?;
    Ok(stored.and_then(|stored| {
        let envelope = proto_events::decode_msgpack(&stored.payload).ok()?;
        Some(event_json(seq, stored.recorded_at, &envelope, viewer))
    }))
}

/// An event as the API shows it to `viewer`: where it is in the log, a summary, and the
/// envelope (small counts of people suppressed for viewers beyond the network).
pub fn event_json(
    seq: u64,
    recorded_at: Timestamp,
    envelope: &proto_events::Envelope,
    viewer: &Viewer,
) -> Value {
    let (event, summary) = redact::event_for(envelope, viewer);
    json!({
        "seq": seq,
        "recorded_at": recorded_at,
        "occurred_at": envelope.occurred_at,
        "kind": envelope.kind().as_str(),
        "org": envelope.org,
        "aggregate": envelope.aggregate,
        "summary": summary,
        "event": event,
    })
}
