//! Queries: the picture and every read model, as the caller may see it.
//!
//! All routes are `GET`, take the credential as a bearer token (or the dashboard's
//! cookie), and answer `{"applied_seq", "state", …, "items"}` so a client knows which log
//! position the answer reflects. `status=actual|exercise|test` picks the picture (actual by
//! default: exercises never mix with real events). `min_seq=N` waits (bounded) until the
//! read models applied N, so a client reads its own write without sleeping. Lists that can
//! grow long take `limit` and `cursor` (the last id seen) and answer `next_cursor`.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use proto_events::vocab::{NeedCategory, Urgency};
use proto_events::{AreaCode, IncidentId, OrgId, Status, Timestamp};
use samla_log::Log;
use samla_projector::engine::Projector;
use samla_projector::views::needs::{NeedFilter, NeedStatus};
use samla_projector::views::{self, VisibleSlices};
use samla_projector::{ReadModels, Scope, Viewer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::tokens::{Principal, SharedTokens};

/// The longest a `min_seq` query waits for the read models.
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
}

/// The query routes, with their own state.
pub fn query_router(state: QueryState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/digest", get(digest))
        .route("/v1/picture", get(area_picture))
        .route("/v1/incidents", get(incidents))
        .route("/v1/incidents/{incident}/picture", get(picture))
        .route("/v1/incidents/{incident}/sites", get(sites))
        .route("/v1/incidents/{incident}/offers", get(offers))
        .route("/v1/incidents/{incident}/needs", get(needs))
        .route("/v1/incidents/{incident}/resources", get(resources))
        .route("/v1/incidents/{incident}/issues", get(issues))
        .route("/v1/incidents/{incident}/reports", get(reports))
        .route("/v1/incidents/{incident}/network", get(network))
        .route("/v1/incidents/{incident}/timeline", get(timeline))
        .route("/v1/incidents/{incident}/quarantine", get(quarantine))
        .route("/v1/incidents/{incident}/live", get(crate::live::live))
        .with_state(state)
}

/// Query errors are [`ApiError`]s: one error type, one JSON shape for the whole API.
pub type QueryError = ApiError;

fn bad(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::InvalidParameter {
        field,
        message: message.into(),
    }
}

fn unavailable(reason: impl Into<String>) -> ApiError {
    ApiError::Unavailable {
        reason: reason.into(),
        retry_after: Duration::from_secs(1),
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

fn require_operator(principal: &Principal) -> Result<(), QueryError> {
    match principal {
        Principal::Operator => Ok(()),
        _ => Err(ApiError::Forbidden {
            message: "this route needs the operator token".into(),
        }),
    }
}

/// Parameters every incident query takes.
#[derive(Debug, Default, Deserialize)]
pub struct Common {
    pub status: Option<String>,
    pub min_seq: Option<u64>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    /// Filters (each route uses the ones that apply).
    pub org: Option<String>,
    pub category: Option<String>,
    pub urgency: Option<String>,
    pub state: Option<String>,
    pub area: Option<String>,
    pub open: Option<bool>,
    pub kind: Option<String>,
    pub before: Option<u64>,
}

fn parse<T: std::str::FromStr>(
    field: &'static str,
    value: &Option<String>,
) -> Result<Option<T>, QueryError>
where
    T::Err: std::fmt::Display,
{
    value
        .as_deref()
        .map(|text| {
            text.parse::<T>()
                .map_err(|e| bad(field, format!("{field}: {e}")))
        })
        .transpose()
}

/// What one query works on: whose view, which picture, at which `now`.
struct Ctx {
    viewer: Viewer,
    scope: Scope,
    now: Timestamp,
}

async fn prepare(
    state: &QueryState,
    headers: &HeaderMap,
    incident: &str,
    params: &Common,
) -> Result<Ctx, QueryError> {
    let principal = principal(headers, &state.tokens)?;
    let incident =
        IncidentId::new(incident).map_err(|e| bad("incident", format!("incident: {e}")))?;
    let status = parse::<Status>("status", &params.status)?.unwrap_or(Status::Actual);
    wait_for(state, params.min_seq).await?;
    Ok(Ctx {
        viewer: viewer_of(&principal),
        scope: Scope { incident, status },
        now: Timestamp::now(),
    })
}

async fn wait_for(state: &QueryState, min_seq: Option<u64>) -> Result<(), QueryError> {
    wait_loaded(state).await?;
    if let Some(seq) = min_seq
        && !state.projector.wait_for_seq(seq, MIN_SEQ_WAIT).await
    {
        return Err(ApiError::NotYetApplied {
            applied: state.projector.applied_seq(),
            wanted: seq,
            waited: MIN_SEQ_WAIT,
        });
    }
    Ok(())
}

/// Waits (bounded) until the projector loaded its stored read models: right after a
/// start they are empty, and an empty answer would look like an empty crisis.
pub async fn wait_loaded(state: &QueryState) -> Result<(), QueryError> {
    if state.projector.wait_loaded(MIN_SEQ_WAIT).await {
        Ok(())
    } else {
        Err(unavailable("the read models are still loading"))
    }
}

/// The answer's frame: which position it reflects and how trustworthy that is.
fn answer(state: &QueryState, ctx: Option<&Ctx>, body: Value) -> Json<Value> {
    let mut frame = json!({
        "applied_seq": state.projector.applied_seq(),
        "state": state.projector.state().as_str(),
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
fn page<T: Serialize>(items: Vec<T>, id: impl Fn(&T) -> &str, params: &Common) -> Value {
    let limit = params.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
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

fn read<T>(state: &QueryState, f: impl FnOnce(&ReadModels) -> T) -> T {
    state.projector.read(f)
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `{state, applied_seq, head_seq}`: 200 when ready, 503 while catching up or rebuilding.
async fn readyz(State(state): State<QueryState>) -> Response {
    let ready = state.projector.state();
    let head = state
        .projector
        .metrics()
        .head_seq
        .load(std::sync::atomic::Ordering::Relaxed);
    let body = Json(json!({
        "state": ready.as_str(),
        "applied_seq": state.projector.applied_seq(),
        "head_seq": head,
    }));
    let code = if ready == samla_projector::engine::ReadyState::Ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, body).into_response()
}

/// Prometheus text format.
async fn metrics(State(state): State<QueryState>) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let m = state.projector.metrics();
    let applied = m.applied_seq.load(Relaxed);
    let head = m.head_seq.load(Relaxed);
    let text = format!(
        "# HELP samla_projector_applied_seq Last stream sequence applied to the read models.\n\
         # TYPE samla_projector_applied_seq gauge\nsamla_projector_applied_seq {applied}\n\
         # HELP samla_log_head_seq Last stream sequence in the log.\n\
         # TYPE samla_log_head_seq gauge\nsamla_log_head_seq {head}\n\
         # HELP samla_projector_lag_events Events in the log not yet applied.\n\
         # TYPE samla_projector_lag_events gauge\nsamla_projector_lag_events {}\n\
         # HELP samla_projector_applied_events_total Events applied since start.\n\
         # TYPE samla_projector_applied_events_total counter\nsamla_projector_applied_events_total {}\n\
         # HELP samla_projector_quarantined_events_total Events quarantined since start.\n\
         # TYPE samla_projector_quarantined_events_total counter\nsamla_projector_quarantined_events_total {}\n\
         # HELP samla_projector_skipped_events_total Events skipped as already applied.\n\
         # TYPE samla_projector_skipped_events_total counter\nsamla_projector_skipped_events_total {}\n\
         # HELP samla_projector_batches_total Batches written.\n\
         # TYPE samla_projector_batches_total counter\nsamla_projector_batches_total {}\n",
        head.saturating_sub(applied),
        m.applied_events.load(Relaxed),
        m.quarantined_events.load(Relaxed),
        m.skipped_events.load(Relaxed),
        m.batches.load(Relaxed),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn digest(
    State(state): State<QueryState>,
    headers: HeaderMap,
) -> Result<Json<Value>, QueryError> {
    require_operator(&principal(&headers, &state.tokens)?)?;
    let digest = state
        .projector
        .digest()
        .map_err(|e| unavailable(e.to_string()))?;
    let (digest, checkpoint) =
        digest.ok_or_else(|| unavailable("the read models are not open yet"))?;
    Ok(Json(
        json!({ "digest": digest, "checkpoint": checkpoint, "algorithm": "sha256 over m/ keys and values in key order" }),
    ))
}

#[derive(Debug, Deserialize)]
struct AreaParams {
    area: String,
    status: Option<String>,
    min_seq: Option<u64>,
}

async fn area_picture(
    State(state): State<QueryState>,
    headers: HeaderMap,
    Query(params): Query<AreaParams>,
) -> Result<Json<Value>, QueryError> {
    let principal = principal(&headers, &state.tokens)?;
    let area =
        AreaCode::new(params.area.as_str()).map_err(|e| bad("area", format!("area: {e}")))?;
    let status = parse::<Status>("status", &params.status)?.unwrap_or(Status::Actual);
    wait_for(&state, params.min_seq).await?;
    let viewer = viewer_of(&principal);
    let now = Timestamp::now();
    let picture = read(&state, |m| {
        views::picture::picture_by_area(m, area.as_str(), status, &viewer, now)
    });
    Ok(answer(
        &state,
        None,
        json!({ "area": area, "status": status, "picture": picture }),
    ))
}

async fn incidents(
    State(state): State<QueryState>,
    headers: HeaderMap,
    Query(params): Query<Common>,
) -> Result<Json<Value>, QueryError> {
    let principal = principal(&headers, &state.tokens)?;
    let status = parse::<Status>("status", &params.status)?.unwrap_or(Status::Actual);
    wait_for(&state, params.min_seq).await?;
    let viewer = viewer_of(&principal);
    let items = read(&state, |m| {
        let mut out = Vec::new();
        for incident in m.network.incident_ids() {
            let scope = Scope { incident, status };
            let visible = VisibleSlices::new(m, &scope, &viewer);
            out.extend(views::network::incidents(m, &scope, &visible));
        }
        out
    });
    Ok(answer(
        &state,
        None,
        json!({ "status": status, "items": items }),
    ))
}

macro_rules! incident_route {
    ($name:ident, |$m:ident, $ctx:ident, $visible:ident, $params:ident| $body:expr) => {
        async fn $name(
            State(state): State<QueryState>,
            headers: HeaderMap,
            Path(incident): Path<String>,
            Query($params): Query<Common>,
        ) -> Result<Json<Value>, QueryError> {
            let $ctx = prepare(&state, &headers, &incident, &$params).await?;
            let body = read(&state, |$m| {
                let $visible = VisibleSlices::new($m, &$ctx.scope, &$ctx.viewer);
                $body
            })?;
            Ok(answer(&state, Some(&$ctx), body))
        }
    };
}

incident_route!(picture, |m, ctx, _visible, _params| {
    Ok::<_, QueryError>(
        json!({ "picture": views::picture::picture(m, &ctx.scope, &ctx.viewer, ctx.now) }),
    )
});

incident_route!(sites, |m, ctx, visible, params| {
    let sites = views::sites::sites(m, &ctx.scope, &visible);
    let totals = views::sites::housing_totals(&sites);
    let mut body = page(sites, |s| s.id.as_str(), &params);
    body["totals"] = json!(totals);
    Ok::<_, QueryError>(body)
});

incident_route!(offers, |m, ctx, visible, params| {
    Ok::<_, QueryError>(page(
        views::sites::offers(m, &ctx.scope, &visible),
        |o| o.id.as_str(),
        &params,
    ))
});

incident_route!(needs, |m, ctx, visible, params| {
    let filter = NeedFilter {
        org: parse::<OrgId>("org", &params.org)?,
        category: parse::<NeedCategory>("category", &params.category)?,
        urgency: parse::<Urgency>("urgency", &params.urgency)?,
        status: parse_need_status(&params.state)?,
        area: params.area.clone(),
        open_only: params.open.unwrap_or(false),
    };
    let needs = views::needs::needs(m, &ctx.scope, &visible, ctx.now, &filter);
    let stats = views::needs::need_stats(&needs);
    let mut body = page(needs, |n| n.id.as_str(), &params);
    body["stats"] = json!(stats);
    Ok::<_, QueryError>(body)
});

incident_route!(resources, |m, ctx, visible, params| {
    Ok::<_, QueryError>(page(
        views::resources::resources(m, &ctx.scope, &visible, ctx.now),
        |r| r.id.as_str(),
        &params,
    ))
});

incident_route!(issues, |m, ctx, visible, params| {
    let filter = views::issues::IssueFilter {
        org: parse::<OrgId>("org", &params.org)?,
        open_only: params.open.unwrap_or(false),
        ..Default::default()
    };
    let issues = views::issues::issues(m, &ctx.scope, &visible, ctx.now, &filter);
    let by_org = views::issues::issues_by_org(&issues);
    let stats = views::issues::issue_stats(&issues);
    let mut body = page(issues, |i| i.id.as_str(), &params);
    body["by_org"] = json!(by_org);
    body["stats"] = json!(stats);
    Ok::<_, QueryError>(body)
});

incident_route!(reports, |m, ctx, visible, _params| {
    let sitreps = views::reports::situation_reports(m, &ctx.scope, &visible, &ctx.viewer);
    let latest: BTreeMap<_, _> = views::reports::situation_reports_by_org(&sitreps);
    Ok::<_, QueryError>(json!({
        "situation_reports": sitreps,
        "latest_by_org": latest,
        "arrivals": views::reports::arrivals(m, &ctx.scope, &visible, &ctx.viewer),
        "services": views::reports::services(m, &ctx.scope, &visible),
        "hospitals": views::reports::hospitals(m, &ctx.scope, &visible),
        "alerts": views::reports::alerts(m, &ctx.scope, &visible, ctx.now),
        "information_requests": views::reports::information_requests(m, &ctx.scope, &visible, ctx.now),
    }))
});

incident_route!(network, |m, ctx, visible, _params| {
    Ok::<_, QueryError>(json!({
        "incident": views::network::incident(m, &ctx.scope, &visible),
        "organisations": views::network::organisations(m, &ctx.scope, &visible),
        "responsibilities": views::network::responsibilities(m, &ctx.scope, &visible),
        "presence": views::network::presence(m, &ctx.scope, &visible),
        "meetings": views::network::meetings(m, &ctx.scope, &visible),
        "decisions": views::network::decisions(m, &ctx.scope, &visible),
        "actions": views::network::actions(m, &ctx.scope, &visible, ctx.now),
    }))
});

fn parse_need_status(value: &Option<String>) -> Result<Option<NeedStatus>, QueryError> {
    let Some(text) = value else { return Ok(None) };
    [NeedStatus::Open, NeedStatus::Claimed, NeedStatus::MetPartly, NeedStatus::Met, NeedStatus::Cancelled]
        .into_iter()
        .find(|status| status.as_str() == text)
        .map(Some)
        .ok_or_else(|| {
            bad(
                "state",
                format!("state: unknown need status {text:?}; expected open, claimed, met_partly, met or cancelled"),
            )
        })
}

/// The timeline, newest first, served from the log by sequence: `before` (exclusive) and
/// `limit` page through it.
async fn timeline(
    State(state): State<QueryState>,
    headers: HeaderMap,
    Path(incident): Path<String>,
    Query(params): Query<Common>,
) -> Result<Json<Value>, QueryError> {
    let ctx = prepare(&state, &headers, &incident, &params).await?;
    let limit = params.limit.unwrap_or(50).clamp(1, 500);
    let before = params.before.unwrap_or(u64::MAX);
    // One index facet narrows the read; any further filter is applied to what it finds.
    let facet = match (&params.org, &params.kind) {
        (Some(org), _) => format!("o.{org}"),
        (None, Some(kind)) => format!("k.{kind}"),
        (None, None) => samla_projector::models::timeline::ALL.to_string(),
    };
    let seqs = read(&state, |m| {
        let visible = VisibleSlices::new(m, &ctx.scope, &ctx.viewer);
        m.timeline.latest(
            &ctx.scope,
            &facet,
            |slice| visible.contains(slice),
            before,
            limit,
        )
    });
    let mut items = Vec::with_capacity(seqs.len());
    for seq in &seqs {
        if let Some(item) = timeline_item(&state.log, *seq).await?
            && params.kind.as_deref().is_none_or(|k| item["kind"] == k)
        {
            items.push(item);
        }
    }
    let next_before = (seqs.len() == limit)
        .then(|| seqs.last().copied())
        .flatten();
    Ok(answer(
        &state,
        Some(&ctx),
        json!({ "items": items, "next_before": next_before }),
    ))
}

/// One event of the timeline, read from the log.
pub async fn timeline_item(log: &Log, seq: u64) -> Result<Option<Value>, QueryError> {
    let unavailable =
        |e: samla_log::LogError| unavailable(format!("the log could not be read: {e}"));
    let stored = log.get(seq).await.map_err(unavailable)?;
    Ok(stored.and_then(|stored| {
        let envelope = proto_events::decode_msgpack(&stored.payload).ok()?;
        Some(event_json(seq, stored.recorded_at, &envelope))
    }))
}

/// An event as the API shows it: where it is in the log, a summary, and the envelope.
pub fn event_json(seq: u64, recorded_at: Timestamp, envelope: &proto_events::Envelope) -> Value {
    json!({
        "seq": seq,
        "recorded_at": recorded_at,
        "occurred_at": envelope.occurred_at,
        "kind": envelope.kind().as_str(),
        "org": envelope.org,
        "aggregate": envelope.aggregate,
        "summary": samla_projector::summary::summarise(envelope),
        "event": serde_json::to_value(envelope).unwrap_or(Value::Null),
    })
}

/// Events that reached the log but cannot be used (operator only).
async fn quarantine(
    State(state): State<QueryState>,
    headers: HeaderMap,
    Path(incident): Path<String>,
    Query(params): Query<Common>,
) -> Result<Json<Value>, QueryError> {
    require_operator(&principal(&headers, &state.tokens)?)?;
    let ctx = prepare(&state, &headers, &incident, &params).await?;
    let token = format!("samla.evt.{}.", ctx.scope.incident);
    let rows: Vec<Value> = read(&state, |m| {
        m.quarantine
            .rows()
            .filter(|row| row.subject.starts_with(&token))
            .map(|row| {
                json!({
                    "seq": row.seq, "recorded_at": row.recorded_at, "subject": row.subject,
                    "code": row.code, "field": row.field, "reason": row.reason, "event_id": row.event_id,
                })
            })
            .collect()
    });
    Ok(answer(
        &state,
        Some(&ctx),
        json!({ "total": rows.len(), "items": rows }),
    ))
}
