//! The routes' headers, and checks of the page's files that a browser would only reveal
//! at run time: references that resolve, nothing inline that the CSP would block, nothing
//! from another origin, and complete translations.

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt as _;

use super::*;

async fn get(
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, String) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = routes::<()>()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn asset_text(name: &str) -> &'static str {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no asset {name}"))
        .body
}

#[tokio::test]
async fn the_page_is_served_at_the_root_with_a_strict_policy() {
    let (status, headers, body) = get("/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header_text(&headers, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let csp = header_text(&headers, header::CONTENT_SECURITY_POLICY);
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe"),
        "no unsafe-inline or unsafe-eval: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(
        header_text(&headers, header::X_CONTENT_TYPE_OPTIONS),
        "nosniff"
    );
    assert_eq!(header_text(&headers, header::CACHE_CONTROL), "no-cache");
    assert!(header_text(&headers, header::ETAG).starts_with('"'));
    assert!(body.contains(r#"<script type="module" src="/assets/app.js">"#));
}

#[tokio::test]
async fn every_asset_has_its_content_type_and_revalidates_by_etag() {
    for asset in ASSETS.iter().skip(1) {
        let path = format!("/assets/{}", asset.name);
        let (status, headers, body) = get(&path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let expected = match asset.name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("json") => "application/json",
            Some("svg") => "image/svg+xml",
            other => panic!("an asset of unexpected type {other:?}: {}", asset.name),
        };
        assert_eq!(
            header_text(&headers, header::CONTENT_TYPE),
            expected,
            "{path}"
        );
        assert_eq!(body, asset.body);
        assert!(
            header_text(&headers, header::CONTENT_SECURITY_POLICY)
                .starts_with("default-src 'self'")
        );

        let etag = header_text(&headers, header::ETAG).to_owned();
        let (status, headers, body) = get(&path, &[(header::IF_NONE_MATCH, &etag)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(body.is_empty());
        assert_eq!(header_text(&headers, header::ETAG), etag);
        let (status, _, _) = get(&path, &[(header::IF_NONE_MATCH, "\"0000000000000000\"")]).await;
        assert_eq!(status, StatusCode::OK, "a stale tag gets the file");
    }
}

#[tokio::test]
async fn unknown_assets_are_404_and_the_page_is_not_an_asset() {
    for path in [
        "/assets/nope.js",
        "/assets/index.html",
        "/assets/..%2Fsrc%2Flib.rs",
        "/assets/app.js%00",
    ] {
        let (status, headers, body) = get(path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            header_text(&headers, header::CONTENT_TYPE),
            "application/json"
        );
        let json: Value = serde_json::from_str(&body).expect("a JSON error");
        assert_eq!(json["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn the_routes_merge_into_a_router_with_state() {
    #[derive(Clone)]
    struct Gateway;
    let app: Router = Router::new()
        .route("/v1/thing", axum::routing::get(|| async { "thing" }))
        .merge(routes::<Gateway>())
        .with_state(Gateway);
    let response = app
        .oneshot(Request::get("/").body(Body::empty()).expect("request"))
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
}

/// Every `"…"` value of `attribute="…"` in `html`.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!("{attribute}=\"");
    html.match_indices(&needle)
        .filter(|(at, _)| {
            // A whole attribute name, not the end of a longer one.
            html[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_whitespace())
        })
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn the_page_has_nothing_inline_that_the_policy_would_block() {
    let html = asset_text("index.html");
    for (at, _) in html.match_indices("<script") {
        let tag = &html[at..at + html[at..].find('>').expect("a closed tag")];
        assert!(tag.contains(" src=\"/assets/"), "inline script: {tag}");
    }
    assert!(!html.contains("<style"), "inline <style>");
    assert!(
        attribute_values(html, "style").is_empty(),
        "style attributes"
    );
    let lowered = html.to_lowercase();
    for handler in [
        "onclick=",
        "onload=",
        "onsubmit=",
        "onchange=",
        "oninput=",
        "onerror=",
    ] {
        assert!(!lowered.contains(handler), "inline handler {handler}");
    }
    assert!(!lowered.contains("javascript:"));
}

#[test]
fn every_reference_resolves_to_an_embedded_asset() {
    let names: BTreeSet<&str> = ASSETS.iter().map(|a| a.name).collect();
    let html = asset_text("index.html");
    let mut referenced: Vec<String> = Vec::new();
    for attribute in ["src", "href"] {
        for value in attribute_values(html, attribute) {
            if let Some(name) = value.strip_prefix("/assets/") {
                referenced.push(name.to_owned());
            } else {
                assert!(
                    value.starts_with('#'),
                    "a reference outside /assets/: {value}"
                );
            }
        }
    }
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        for line in asset.body.lines() {
            let line = line.trim();
            if let Some((_, rest)) = line.split_once(" from './") {
                let name = rest.split('\'').next().expect("a quoted module");
                referenced.push(name.to_owned());
            }
        }
    }
    // Messages are fetched by language.
    for lang in ["sv", "en", "uk"] {
        referenced.push(format!("i18n-{lang}.json"));
    }
    assert!(referenced.len() > 10, "{referenced:?}");
    for name in &referenced {
        assert!(
            names.contains(name.as_str()),
            "{name} is referenced but not embedded"
        );
    }
}

#[test]
fn nothing_is_loaded_from_another_origin() {
    for asset in ASSETS {
        // The one permitted absolute URL is the SVG namespace, which is a name, not a load.
        let body = asset
            .body
            .replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for scheme in ["http://", "https://", "//cdn", "@import"] {
            assert!(!body.contains(scheme), "{} contains {scheme}", asset.name);
        }
        assert!(
            !body.contains("innerHTML"),
            "{} builds markup from strings",
            asset.name
        );
        assert!(!body.contains("eval("), "{} evaluates strings", asset.name);
    }
}

fn catalogue(lang: &str) -> BTreeMap<String, Value> {
    let text = asset_text(&format!("i18n-{lang}.json"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("i18n-{lang}.json: {e}"))
}

/// `{name}` placeholders in every form of a message.
fn placeholders(message: &Value) -> BTreeSet<String> {
    let texts: Vec<&str> = match message {
        Value::String(text) => vec![text.as_str()],
        Value::Object(forms) => forms.values().filter_map(Value::as_str).collect(),
        other => panic!("a message is a string or plural forms, not {other}"),
    };
    let mut names = BTreeSet::new();
    for text in texts {
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            names.insert(rest[start + 1..start + end].to_owned());
            rest = &rest[start + end..];
        }
    }
    names
}

#[test]
fn every_language_has_every_message_with_its_plural_forms_and_placeholders() {
    let english = catalogue("en");
    for lang in ["sv", "uk"] {
        let other = catalogue(lang);
        let missing: Vec<_> = english.keys().filter(|k| !other.contains_key(*k)).collect();
        let extra: Vec<_> = other.keys().filter(|k| !english.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        assert!(extra.is_empty(), "{lang} has unknown {extra:?}");
        for (key, message) in &english {
            let translated = &other[key];
            assert_eq!(
                placeholders(message),
                placeholders(translated),
                "{lang} {key}: other placeholders"
            );
            if let Value::Object(forms) = translated {
                let forms: BTreeSet<&str> = forms.keys().map(String::as_str).collect();
                // CLDR: Swedish and English have one/other, Ukrainian one/few/many/other.
                let wanted: BTreeSet<&str> = match lang {
                    "uk" => ["one", "few", "many", "other"].into(),
                    _ => ["one", "other"].into(),
                };
                assert_eq!(forms, wanted, "{lang} {key}: plural forms");
            }
        }
    }
}

/// Keys the scripts pass to `t` as literals: `t('key'` not preceded by a word character.
fn literal_keys(script: &str) -> BTreeSet<String> {
    script
        .match_indices("t('")
        .filter(|(at, _)| {
            script[..*at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'))
        })
        .filter_map(|(at, _)| script[at + 3..].split('\'').next().map(str::to_owned))
        .collect()
}

#[test]
fn every_message_the_page_asks_for_exists() {
    let english = catalogue("en");
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        keys.extend(literal_keys(asset.body));
    }
    for attribute in ["data-i18n", "data-i18n-aria-label", "data-i18n-title"] {
        keys.extend(
            attribute_values(asset_text("index.html"), attribute)
                .into_iter()
                .map(str::to_owned),
        );
    }
    // Keys built at run time.
    for status in ["live", "connecting", "reconnecting", "offline"] {
        keys.insert(format!("conn_{status}"));
    }
    for state in ["catching_up", "rebuilding"] {
        keys.insert(format!("state_{state}"));
    }
    for tile in ["arrivals", "beds", "needs", "issues", "alerts"] {
        keys.insert(format!("tile.{tile}"));
    }
    for key in ["overdue_count", "claims_expired", "unacknowledged_count"] {
        keys.insert(key.to_owned());
    }
    assert!(keys.len() > 80, "found only {} keys", keys.len());
    let missing: Vec<_> = keys.iter().filter(|k| !english.contains_key(*k)).collect();
    assert!(missing.is_empty(), "messages missing: {missing:?}");
}

#[test]
fn every_value_of_the_contracts_vocabularies_has_a_label() {
    use proto_events::vocab::*;
    let mut wanted: Vec<String> = proto_events::Kind::ALL
        .iter()
        .map(|kind| format!("kind.{}", kind.as_str()))
        .collect();
    macro_rules! vocabulary {
        ($prefix:literal, $type:ty) => {
            wanted.extend(
                <$type>::ALL
                    .iter()
                    .map(|v| format!("{}.{}", $prefix, v.as_str())),
            );
        };
    }
    vocabulary!("need_category", NeedCategory);
    vocabulary!("urgency", Urgency);
    vocabulary!("unit", Unit);
    vocabulary!("site_status", SiteStatus);
    vocabulary!("site_kind", SiteKind);
    vocabulary!("issue_category", IssueCategory);
    vocabulary!("severity", Severity);
    vocabulary!("report_version", ReportVersion);
    vocabulary!("resource_category", ResourceCategory);
    vocabulary!("phase", IncidentPhase);
    vocabulary!("org_type", OrgType);
    vocabulary!("fulfilment", Fulfilment);
    vocabulary!("service", ServiceKind);
    for lang in ["en", "sv", "uk"] {
        let messages = catalogue(lang);
        let missing: Vec<_> = wanted
            .iter()
            .filter(|k| !messages.contains_key(*k))
            .collect();
        assert!(missing.is_empty(), "{lang} has no label for {missing:?}");
    }
}

#[test]
fn the_page_lists_the_contracts_urgencies_and_need_categories_in_order() {
    use proto_events::vocab::{NeedCategory, Urgency};
    let render = asset_text("render.js");
    let quoted = |values: Vec<&str>| values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>();
    let urgencies = quoted(Urgency::ALL.iter().map(|u| u.as_str()).collect());
    assert!(
        render.contains(&format!("const URGENCIES = [{}];", urgencies.join(", "))),
        "render.js URGENCIES differs from the contract: {urgencies:?}"
    );
    for category in quoted(NeedCategory::ALL.iter().map(|c| c.as_str()).collect()) {
        assert!(
            render.contains(&format!("  {category},\n")),
            "render.js lacks {category}"
        );
    }
}
