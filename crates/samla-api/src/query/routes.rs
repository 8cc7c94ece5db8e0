//! The query handlers, each with its OpenAPI description (`#[utoipa::path]`): the path,
//! parameters, answer and errors stated beside the code that serves them.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use samla_projector::Scope;
use samla_projector::engine::ReadyState;
use samla_projector::views::needs::NeedFilter;
use samla_projector::views::{self, VisibleSlices};
use serde_json::{Value, json};

use super::params::{
    AreaParams, Incident, IncidentPath, IssueFilters, NeedFilters, PageParams, Params, ReadParams,
    TimelineParams,
};
use super::{
    Caller, OperatorCaller, QueryError, QueryState, answer, log_unreadable, moment, page, prepare,
    timeline_item, unavailable, viewer_of,
};
use crate::openapi::responses::{OperatorErrors, OperatorReadErrors, ReadErrors};
use crate::openapi::schemas::{ChainHead, Digest, Health, Quarantine, Readiness, Timeline};
use crate::openapi::views::{
    AreaPicture, IncidentPicture, Incidents, IssuesPage, NeedsPage, Network, OffersPage, Reports,
    ResourcesPage, SitesPage,
};

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    security(()),
    responses((status = 200, description = "The process answers.", body = Health)),
)]
pub(super) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness of the read models.
///
/// 200 when they are at the log's head, 503 while they catch up or rebuild (same body).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Ready.", body = Readiness),
        (status = 503, description = "Catching up or rebuilding.", body = Readiness),
    ),
)]
pub(super) async fn readyz(State(state): State<QueryState>) -> Response {
    let ready = state.projector.state();
    let head = state.projector.metrics().head_seq.load(Relaxed);
    let body = Json(json!({
        "state": ready.as_str(),
        "applied_seq": state.projector.applied_seq(),
        "head_seq": head,
    }));
    let code = if ready == ReadyState::Ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, body).into_response()
}

/// The projector's gauges and counters in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    security(()),
    responses((status = 200, description = "Prometheus text format 0.0.4.",
        content_type = "text/plain; version=0.0.4", body = String)),
)]
pub(super) async fn metrics(State(state): State<QueryState>) -> Response {
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
         # TYPE samla_projector_batches_total counter\nsamla_projector_batches_total {}\n\
         # HELP samla_projector_resident_rows Read-model rows held in memory after the latest write (the rest are read from sled as needed).\n\
         # TYPE samla_projector_resident_rows gauge\nsamla_projector_resident_rows {}\n\
         # HELP samla_projector_rebuild_log_retries_total Times a rebuild found the log out of reach and waited for it to go on.\n\
         # TYPE samla_projector_rebuild_log_retries_total counter\nsamla_projector_rebuild_log_retries_total {}\n",
        head.saturating_sub(applied),
        m.applied_events.load(Relaxed),
        m.quarantined_events.load(Relaxed),
        m.skipped_events.load(Relaxed),
        m.batches.load(Relaxed),
        m.resident_rows.load(Relaxed),
        m.log_retries.load(Relaxed),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// A digest of the read models at their checkpoint, to compare replicas (operator only).
#[utoipa::path(
    get,
    path = "/v1/digest",
    tag = "operations",
    responses((status = 200, description = "The digest.", body = Digest), OperatorErrors),
)]
pub(super) async fn digest(
    State(state): State<QueryState>,
    _operator: OperatorCaller,
) -> Result<Json<Value>, QueryError> {
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

/// The head of the log's hash chain.
///
/// What organisations keep (and the dashboard and reports show) so they can prove later
/// that the log they are shown is the log that was written: `samla verify --against`
/// recomputes the chain from the stream and names where a copy departs. Computed from the
/// stream itself, never from the read models; any credential may ask.
#[utoipa::path(
    get,
    path = "/v1/chain",
    tag = "operations",
    responses((status = 200, description = "The chain's head.", body = ChainHead), ReadErrors),
)]
pub(super) async fn chain(
    State(state): State<QueryState>,
    _caller: Caller,
) -> Result<Json<Value>, QueryError> {
    let mut chain = state.chain.lock().await;
    let head = chain.catch_up(&state.log).await.map_err(log_unreadable)?;
    Ok(Json(json!({
        "seq": head.seq,
        "recorded_at": head.recorded_at,
        "link": head.link,
        "content": head.content,
        "stream": state.log.config().stream_name,
        "algorithm": CHAIN_ALGORITHM,
    })))
}

/// How the chain is made, as `GET /v1/chain` states it.
pub const CHAIN_ALGORITHM: &str = "samla log chain v1: link n = SHA-256(link n-1, seq, subject, \
    recorded_at, event bytes), each length-prefixed, from SHA-256(\"samla log chain v1\"); \
    content: the same without recorded_at";

/// The picture of every incident touching an area, with totals across them.
#[utoipa::path(
    get,
    path = "/v1/picture",
    tag = "queries",
    params(AreaParams, ReadParams),
    responses((status = 200, description = "The area's picture.", body = AreaPicture), ReadErrors),
)]
pub(super) async fn area_picture(
    State(state): State<QueryState>,
    caller: Caller,
    Params(area): Params<AreaParams>,
    Params(read_params): Params<ReadParams>,
) -> Result<Json<Value>, QueryError> {
    let area = area.area()?.clone();
    let status = read_params.status();
    let moment = moment(&state, &caller, &read_params).await?;
    let viewer = viewer_of(&caller.principal);
    let picture = moment.read(&state, |m| {
        views::picture::picture_by_area(m, area.as_str(), status, &viewer, moment.now)
    });
    Ok(answer(
        &state,
        &moment,
        None,
        json!({ "area": area, "status": status, "picture": picture }),
    ))
}

/// The incidents the caller may see.
#[utoipa::path(
    get,
    path = "/v1/incidents",
    tag = "queries",
    params(ReadParams),
    responses((status = 200, description = "The incidents.", body = Incidents), ReadErrors),
)]
pub(super) async fn incidents(
    State(state): State<QueryState>,
    caller: Caller,
    Params(read_params): Params<ReadParams>,
) -> Result<Json<Value>, QueryError> {
    let status = read_params.status();
    let moment = moment(&state, &caller, &read_params).await?;
    let viewer = viewer_of(&caller.principal);
    let items = moment.read(&state, |m| {
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
        &moment,
        None,
        json!({ "status": status, "items": items }),
    ))
}

/// An incident route: authenticated caller, checked incident, `status` and `min_seq`, and
/// the route's own parameters; the body reads the visible slices of the read models.
macro_rules! incident_route {
    (
        $(#[doc = $doc:literal])*
        $name:ident, $path:literal, $body:ident, $errors:ident,
        |$m:ident, $ctx:ident, $visible:ident $(, $extra:ident: $extra_ty:ident)*| $expr:expr
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            get,
            path = $path,
            tag = "queries",
            params(IncidentPath, ReadParams $(, $extra_ty)*),
            responses((status = 200, description = "The answer.", body = $body), $errors),
        )]
        pub(super) async fn $name(
            State(state): State<QueryState>,
            caller: Caller,
            Incident(incident): Incident,
            Params(read_params): Params<ReadParams>,
            $(Params($extra): Params<$extra_ty>,)*
        ) -> Result<Json<Value>, QueryError> {
            let $ctx = prepare(&state, &caller, incident, &read_params).await?;
            let body = $ctx.moment.read(&state, |$m| {
                let $visible = VisibleSlices::new($m, &$ctx.scope, &$ctx.viewer);
                $expr
            });
            Ok(answer(&state, &$ctx.moment, Some(&$ctx), body))
        }
    };
}

incident_route!(
    /// The common operational picture of an incident.
    ///
    /// Arrivals, beds, needs, issues, latest situation reports, alerts. Counts of people
    /// are suppressed when small for share tokens (`PeopleCount`).
    picture, "/v1/incidents/{incident}/picture", IncidentPicture, ReadErrors,
    |m, ctx, _visible| json!({ "picture": views::picture::picture(m, &ctx.scope, &ctx.viewer, ctx.now) })
);

incident_route!(
    /// Sites (shelters, accommodation) with beds, a page at a time, and totals over all.
    sites, "/v1/incidents/{incident}/sites", SitesPage, ReadErrors,
    |m, ctx, visible, paging: PageParams| {
        let sites = views::sites::sites(m, &ctx.scope, &visible);
        let totals = views::sites::housing_totals(&sites);
        let mut body = page(sites, |s| s.id.as_str(), &paging);
        body["totals"] = json!(totals);
        body
    }
);

incident_route!(
    /// Housing offers, a page at a time.
    offers, "/v1/incidents/{incident}/offers", OffersPage, ReadErrors,
    |m, ctx, visible, paging: PageParams| {
        page(views::sites::offers(m, &ctx.scope, &visible), |o| o.id.as_str(), &paging)
    }
);

incident_route!(
    /// Needs as they stand at `now`.
    ///
    /// Filtered, a page at a time, with counts over all the filtered needs.
    needs, "/v1/incidents/{incident}/needs", NeedsPage, ReadErrors,
    |m, ctx, visible, paging: PageParams, filters: NeedFilters| {
        let filter = NeedFilter {
            org: filters.org.clone(),
            category: filters.category,
            urgency: filters.urgency,
            status: filters.state,
            area: filters.area.as_ref().map(|area| area.as_str().to_owned()),
            open_only: filters.open.unwrap_or(false),
        };
        let needs = views::needs::needs(m, &ctx.scope, &visible, ctx.now, &filter);
        let stats = views::needs::need_stats(&needs);
        let mut body = page(needs, |n| n.id.as_str(), &paging);
        body["stats"] = json!(stats);
        body
    }
);

incident_route!(
    /// Resources offered, committed, delivered and released, a page at a time.
    resources, "/v1/incidents/{incident}/resources", ResourcesPage, ReadErrors,
    |m, ctx, visible, paging: PageParams| {
        page(
            views::resources::resources(m, &ctx.scope, &visible, ctx.now),
            |r| r.id.as_str(),
            &paging,
        )
    }
);

incident_route!(
    /// Issues between organisations.
    ///
    /// Filtered, a page at a time, with counts per responsible organisation and over all.
    issues, "/v1/incidents/{incident}/issues", IssuesPage, ReadErrors,
    |m, ctx, visible, paging: PageParams, filters: IssueFilters| {
        let filter = views::issues::IssueFilter {
            org: filters.org.clone(),
            open_only: filters.open.unwrap_or(false),
            ..Default::default()
        };
        let issues = views::issues::issues(m, &ctx.scope, &visible, ctx.now, &filter);
        let by_org = views::issues::issues_by_org(&issues);
        let stats = views::issues::issue_stats(&issues);
        let mut body = page(issues, |i| i.id.as_str(), &paging);
        body["by_org"] = json!(by_org);
        body["stats"] = json!(stats);
        body
    }
);

incident_route!(
    /// Reports: situation reports, arrivals, services, hospitals, alerts, requests.
    ///
    /// Requests for information included. Counts of people are suppressed when small for
    /// share tokens (`PeopleCount`).
    reports, "/v1/incidents/{incident}/reports", Reports, ReadErrors,
    |m, ctx, visible| {
        let sitreps = views::reports::situation_reports(m, &ctx.scope, &visible, &ctx.viewer);
        let latest: BTreeMap<_, _> = views::reports::situation_reports_by_org(&sitreps);
        json!({
            "situation_reports": sitreps,
            "latest_by_org": latest,
            "arrivals": views::reports::arrivals(m, &ctx.scope, &visible, &ctx.viewer),
            "services": views::reports::services(m, &ctx.scope, &visible),
            "hospitals": views::reports::hospitals(m, &ctx.scope, &visible),
            "alerts": views::reports::alerts(m, &ctx.scope, &visible, ctx.now),
            "information_requests": views::reports::information_requests(m, &ctx.scope, &visible, ctx.now),
        })
    }
);

incident_route!(
    /// The network of an incident.
    ///
    /// The incident itself (as `incident`), its organisations, responsibilities, presence
    /// (3W), meetings, decisions and actions.
    network, "/v1/incidents/{incident}/network", Network, ReadErrors,
    |m, ctx, visible| json!({
        "incident": views::network::incident(m, &ctx.scope, &visible),
        "organisations": views::network::organisations(m, &ctx.scope, &visible),
        "responsibilities": views::network::responsibilities(m, &ctx.scope, &visible),
        "presence": views::network::presence(m, &ctx.scope, &visible),
        "meetings": views::network::meetings(m, &ctx.scope, &visible),
        "decisions": views::network::decisions(m, &ctx.scope, &visible),
        "actions": views::network::actions(m, &ctx.scope, &visible, ctx.now),
    })
);

/// The timeline, newest first.
///
/// Served from the log by sequence: `before` (exclusive) and `limit` page through it;
/// `org` and `kind` filter it.
#[utoipa::path(
    get,
    path = "/v1/incidents/{incident}/timeline",
    tag = "queries",
    params(IncidentPath, ReadParams, TimelineParams),
    responses((status = 200, description = "A page of the timeline.", body = Timeline), ReadErrors),
)]
pub(super) async fn timeline(
    State(state): State<QueryState>,
    caller: Caller,
    Incident(incident): Incident,
    Params(read_params): Params<ReadParams>,
    Params(params): Params<TimelineParams>,
) -> Result<Json<Value>, QueryError> {
    let ctx = prepare(&state, &caller, incident, &read_params).await?;
    let limit = params.limit();
    let before = params.before.unwrap_or(u64::MAX);
    // One index facet narrows the read; any further filter is applied to what it finds.
    let facet = match (&params.org, &params.kind) {
        (Some(org), _) => format!("o.{org}"),
        (None, Some(kind)) => format!("k.{kind}"),
        (None, None) => samla_projector::models::timeline::ALL.to_string(),
    };
    let seqs = ctx.moment.read(&state, |m| {
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
        if let Some(item) = timeline_item(&state.log, *seq, &ctx.viewer).await?
            && params.kind.is_none_or(|k| item["kind"] == k.as_str())
        {
            items.push(item);
        }
    }
    let next_before = (seqs.len() == limit)
        .then(|| seqs.last().copied())
        .flatten();
    Ok(answer(
        &state,
        &ctx.moment,
        Some(&ctx),
        json!({ "items": items, "next_before": next_before }),
    ))
}

/// Quarantined events of an incident (operator only).
///
/// Events that reached the log but cannot be used, with the reason.
#[utoipa::path(
    get,
    path = "/v1/incidents/{incident}/quarantine",
    tag = "operations",
    params(IncidentPath, ReadParams),
    responses((status = 200, description = "The quarantined events.", body = Quarantine),
        OperatorReadErrors),
)]
pub(super) async fn quarantine(
    State(state): State<QueryState>,
    OperatorCaller(caller): OperatorCaller,
    Incident(incident): Incident,
    Params(read_params): Params<ReadParams>,
) -> Result<Json<Value>, QueryError> {
    let ctx = prepare(&state, &caller, incident, &read_params).await?;
    let token = format!("samla.evt.{}.", ctx.scope.incident);
    let rows: Vec<Value> = ctx.moment.read(&state, |m| {
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
        &ctx.moment,
        Some(&ctx),
        json!({ "total": rows.len(), "items": rows }),
    ))
}
