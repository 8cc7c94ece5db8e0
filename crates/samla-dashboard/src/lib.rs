//! # samla-dashboard — the coordination room's web page
//!
//! One hand-written page (HTML, CSS and vanilla JavaScript modules, no framework, no build
//! step) that shows an incident's shared picture live: the headline figures, housing per
//! site, open needs by category and urgency, open and overdue issues per organisation,
//! the latest situation reports and the timeline — in Swedish, English or Ukrainian — and
//! replays it to any moment, as known or as it happened. Every file is embedded in the
//! binary (`include_str!`), so a server needs no files beside it and the browser loads
//! nothing from anywhere else: the Content-Security-Policy says `default-src 'self'`.
//!
//! [`routes`] serves `GET /` (the page) and `GET /assets/<file>`; merge it into the
//! gateway's router. The page reads only the public API of `samla-api` (queries, the live
//! stream, `/v1/session`) with the session cookie, so it sees exactly what its credential
//! may see — visibility and the suppression of small counts are the API's, never the
//! page's.
//!
//! What it is not: no server-side rendering, no templating, no state, no API of its own.
//!
//! Layout:
//! - `lib.rs`: [`routes`], the response headers (CSP, caching, `nosniff`).
//! - `assets.rs`: the embedded files, their content types and entity tags.
//! - `assets/`: the page. `index.html`; `app.js` (start, session, refresh orchestration,
//!   live stream); `api.js` (fetch helpers); `i18n.js` and `i18n-<lang>.json` (messages,
//!   plurals, dates in Europe/Stockholm); `render.js` (the panels); `replay.js` (the
//!   time slider); `dom.js` (element helpers that never parse HTML); `app.css`.

mod assets;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use assets::{ASSETS, Asset};

/// The page's Content-Security-Policy: everything from this origin only. No inline script
/// or style (the page has none), no plug-ins, no framing, no `<base>` rewriting.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// What a dashboard request can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DashboardError {
    /// No embedded asset has this name: ask for one the page references.
    #[error("no dashboard asset named {name:?}")]
    AssetNotFound { name: String },
}

impl IntoResponse for DashboardError {
    fn into_response(self) -> Response {
        // The gateway's error shape, so a client branches on one format.
        let body = format!(
            r#"{{"error":{{"code":"not_found","message":{}}}}}"#,
            json_string(&self.to_string())
        );
        let mut response = (StatusCode::NOT_FOUND, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// `GET /` (the page) and `GET /assets/<file>`. Stateless, so it merges into a router of
/// any state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{file}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve(assets::index(), &headers)
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Result<Response, DashboardError> {
    let found = assets::find(&file).ok_or(DashboardError::AssetNotFound { name: file })?;
    Ok(serve(found, &headers))
}

/// One asset, or `304 Not Modified` when the browser holds this version. The assets'
/// names carry no version, so the browser revalidates every time (`no-cache`) and the
/// entity tag makes that cheap; after an upgrade a reload picks up the new files.
fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let etag = asset.etag();
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A JSON string literal (the crate needs no JSON library for one message).
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests;
