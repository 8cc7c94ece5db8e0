//! Query parameters, parsed and documented by the same structs.
//!
//! Each struct here is both what a handler receives ([`Params`]) and what the OpenAPI
//! document lists (`IntoParams`), so the document cannot name a parameter the code does not
//! read, nor miss one it does. A handler takes several of them (`Params<ReadParams>`,
//! `Params<PageParams>`, …); each parses the whole query string and ignores the parameters
//! that belong to the others (and unknown ones such as cache busters).
//!
//! Every malformed value answers 400 `invalid_parameter` naming the parameter, in the one
//! error shape: a number that is not one, an unknown status or category, an id with a
//! character no id may hold, a parameter given twice.
//!
//! What every read takes — the picture (`status`), the position it must reflect
//! (`min_seq`) and the moment it shows (`as_of`, `at_seq`, `sense`) — is [`ReadParams`]:
//! the handlers and the document pick them up from there.

use std::borrow::Cow;
use std::fmt::Display;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use proto_events::vocab::{NeedCategory, Urgency};
use proto_events::{AggregateId, AreaCode, IncidentId, Kind, OrgId, Status, Timestamp};
use samla_projector::replay::{ReplayPoint, Sense};
use samla_projector::views::needs::NeedStatus;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use super::{MAX_PAGE, MIN_SEQ_WAIT};
use crate::error::ApiError;

/// The most timeline events one page holds.
pub const MAX_TIMELINE_PAGE: usize = 500;
/// The timeline page size when `limit` is not given.
pub const DEFAULT_TIMELINE_PAGE: usize = 50;

/// Every query parameter name, so an error can name its parameter with a `&'static str`.
/// A unit test checks that every documented parameter is here.
const NAMES: &[&str] = &[
    "status", "min_seq", "limit", "cursor", "org", "category", "urgency", "state", "area", "open",
    "kind", "before", "from_seq", "as_of", "at_seq", "sense",
];

pub(crate) fn bad(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::InvalidParameter {
        field,
        message: message.into(),
    }
}

/// A query-parameter struct: deserialised from the query string, then checked as a whole.
pub trait QueryParams: DeserializeOwned {
    /// Checks what one value's type cannot (ranges, required values).
    fn check(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

/// Extracts `T` from the query string; every failure is 400 `invalid_parameter` naming the
/// parameter.
#[derive(Debug, Clone, Default)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: QueryParams> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let params = parse_query::<T>(query)?;
        params.check()?;
        Ok(Params(params))
    }
}

/// Parses a query string into `T`, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let inner = error.inner().to_string();
        let path = error.path().to_string();
        // A value's error has the parameter as its path; a duplicate is the struct's own
        // error and names the parameter in backticks.
        let named = NAMES
            .iter()
            .copied()
            .find(|name| *name == path)
            .or_else(|| {
                let quoted = inner.split('`').nth(1)?;
                NAMES.iter().copied().find(|name| *name == quoted)
            });
        let field = named.unwrap_or("query");
        let message = if inner.starts_with("duplicate field") {
            format!("{field}: given more than once")
        } else if named.is_some() {
            format!("{field}: {inner}")
        } else {
            format!("the query string cannot be read: {inner}")
        };
        bad(field, message)
    })
}

/// Deserialises an optional value through its `FromStr`, so the message is the type's own
/// (`unknown Status "x"; expected one of: actual, exercise, test`).
fn from_str<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: Display,
{
    let text = Cow::<'de, str>::deserialize(deserializer)?;
    text.parse().map(Some).map_err(D::Error::custom)
}

fn token<'de, D, T>(
    deserializer: D,
    new: impl FnOnce(String) -> Result<T, proto_events::ids::TokenError>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    let text = Cow::<'de, str>::deserialize(deserializer)?;
    new(text.into_owned()).map(Some).map_err(D::Error::custom)
}

fn org<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OrgId>, D::Error> {
    token(deserializer, OrgId::new)
}

fn area<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<AreaCode>, D::Error> {
    token(deserializer, AreaCode::new)
}

fn aggregate_id<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<AggregateId>, D::Error> {
    token(deserializer, AggregateId::new)
}

fn kind<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Kind>, D::Error> {
    let text = Cow::<'de, str>::deserialize(deserializer)?;
    Kind::from_name(&text).map(Some).ok_or_else(|| {
        D::Error::custom(format_args!(
            "unknown event kind {text:?}; expected one of the contract's kinds, e.g. need_raised"
        ))
    })
}

fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Timestamp>, D::Error> {
    let text = Cow::<'de, str>::deserialize(deserializer)?;
    Timestamp::parse(&text).map(Some).map_err(D::Error::custom)
}

fn sense<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Sense>, D::Error> {
    let text = Cow::<'de, str>::deserialize(deserializer)?;
    SENSES
        .iter()
        .copied()
        .find(|sense| sense.as_str() == text)
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format_args!(
                "unknown sense {text:?}; expected known (the log as recorded up to the moment) or happened (what had occurred by then, late reports included)"
            ))
        })
}

const SENSES: &[Sense] = &[Sense::Known, Sense::Happened];

fn need_status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NeedStatus>, D::Error> {
    let text = Cow::<'de, str>::deserialize(deserializer)?;
    NEED_STATUSES
        .iter()
        .copied()
        .find(|status| status.as_str() == text)
        .map(Some)
        .ok_or_else(|| {
            D::Error::custom(format_args!(
                "unknown need status {text:?}; expected {}",
                names(NEED_STATUSES.iter().map(|status| status.as_str()))
            ))
        })
}

const NEED_STATUSES: &[NeedStatus] = &[
    NeedStatus::Open,
    NeedStatus::Claimed,
    NeedStatus::MetPartly,
    NeedStatus::Met,
    NeedStatus::Cancelled,
];

fn names<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

/// A string schema with the given values, for OpenAPI.
fn enum_schema<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().collect::<Vec<_>>()))
        .build()
}

/// A vocabulary as an OpenAPI string enum, its values taken from the code (inlined into
/// the parameters that use it).
macro_rules! vocabulary_schema {
    ($(#[$doc:meta])* $name:ident, $values:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                enum_schema($values).into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

vocabulary_schema!(
    /// `actual`, `exercise` or `test`.
    StatusName,
    Status::ALL.iter().map(|s| s.as_str())
);
vocabulary_schema!(
    /// A need category.
    NeedCategoryName,
    NeedCategory::ALL.iter().map(|c| c.as_str())
);
vocabulary_schema!(
    /// An urgency.
    UrgencyName,
    Urgency::ALL.iter().map(|u| u.as_str())
);
vocabulary_schema!(
    /// A need's state.
    NeedStatusName,
    NEED_STATUSES.iter().map(|s| s.as_str())
);
vocabulary_schema!(
    /// `known` or `happened`.
    SenseName,
    SENSES.iter().map(|s| s.as_str())
);
vocabulary_schema!(
    /// An event kind.
    KindName,
    Kind::ALL.iter().map(|k| k.as_str())
);

/// What every read takes: which picture, and which log position it must reflect.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// Which picture: `actual` (the default), `exercise` or `test`. Exercise and test
    /// events never mix with actual ones.
    #[serde(default, deserialize_with = "from_str")]
    #[param(value_type = Option<StatusName>, inline)]
    pub status: Option<Status>,
    /// Wait (at most 10 s) until the read models have applied this log sequence — the `seq`
    /// an ingest reply gave — so a client reads its own write. 503 `not_yet_applied` when
    /// they do not in time.
    #[param(minimum = 0)]
    pub min_seq: Option<u64>,
    /// Replay: the picture at this moment instead of now (RFC 3339 with a zone, e.g.
    /// `2026-03-01T14:00:00Z`), in the sense `sense` names. Ages and overdue flags are
    /// computed with this moment as `now`. The answer's `as_of` says what it reflects.
    #[serde(default, deserialize_with = "timestamp")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
    /// Replay: the picture as known once the log up to this sequence was applied (`now`
    /// is that event's `recorded_at`). Not with `as_of`, and only as known.
    #[param(minimum = 0)]
    pub at_seq: Option<u64>,
    /// Which time a replay follows (only with `as_of` or `at_seq`): `known` (the
    /// default) is what the network knew — the log as recorded up to the moment; `happened`
    /// is what had occurred by then, late reports included, corrections at the time of
    /// what they correct.
    #[serde(default, deserialize_with = "sense")]
    #[param(value_type = Option<SenseName>, inline)]
    pub sense: Option<Sense>,
}

impl QueryParams for ReadParams {
    fn check(&self) -> Result<(), ApiError> {
        self.point().map(|_| ())
    }
}

impl ReadParams {
    /// The picture asked for: actual unless named.
    pub fn status(&self) -> Status {
        self.status.unwrap_or(Status::Actual)
    }

    /// The replay point asked for, or `None` for the live picture; 400 for a combination
    /// that names no single moment.
    pub fn point(&self) -> Result<Option<ReplayPoint>, ApiError> {
        match (self.as_of, self.at_seq, self.sense) {
            (Some(_), Some(_), _) => Err(bad(
                "at_seq",
                "at_seq: give either at_seq (a log position) or as_of (a time), not both",
            )),
            (None, Some(_), Some(Sense::Happened)) => Err(bad(
                "sense",
                "sense: happened needs a time (as_of); at_seq is a position in the log as recorded, so it is always as known",
            )),
            (None, None, Some(_)) => Err(bad(
                "sense",
                "sense: applies to a replay; give as_of (a time) or at_seq (a log position) too",
            )),
            (None, Some(seq), _) => Ok(Some(ReplayPoint::KnownAtSeq(seq))),
            (Some(at), None, Some(Sense::Happened)) => Ok(Some(ReplayPoint::HappenedAt(at))),
            (Some(at), None, _) => Ok(Some(ReplayPoint::KnownAt(at))),
            (None, None, None) => Ok(None),
        }
    }
}

/// A page of a list in id order: `limit` items after `cursor`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 1000 (larger values are capped at 1000). All items by
    /// default, up to 1000.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// The last id of the previous page (its `next_cursor`): the page starts after it.
    #[serde(default, deserialize_with = "aggregate_id")]
    #[param(value_type = Option<String>, pattern = "^[a-z0-9_-]{1,64}$")]
    pub cursor: Option<AggregateId>,
}

impl QueryParams for PageParams {
    fn check(&self) -> Result<(), ApiError> {
        check_limit(self.limit)
    }
}

fn check_limit(limit: Option<usize>) -> Result<(), ApiError> {
    match limit {
        Some(0) => Err(bad("limit", "limit: must be at least 1")),
        _ => Ok(()),
    }
}

impl PageParams {
    /// The page size: the limit asked for, capped at [`MAX_PAGE`].
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE)
    }
}

/// Filters of the needs list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NeedFilters {
    /// Needs raised by, addressed to, or claimed by this organisation.
    #[serde(default, deserialize_with = "org")]
    #[param(value_type = Option<String>, pattern = "^[a-z0-9_-]{1,64}$")]
    pub org: Option<OrgId>,
    /// Needs of this category.
    #[serde(default, deserialize_with = "from_str")]
    #[param(value_type = Option<NeedCategoryName>, inline)]
    pub category: Option<NeedCategory>,
    /// Needs of this urgency.
    #[serde(default, deserialize_with = "from_str")]
    #[param(value_type = Option<UrgencyName>, inline)]
    pub urgency: Option<Urgency>,
    /// Needs in this state at `now`.
    #[serde(default, deserialize_with = "need_status")]
    #[param(value_type = Option<NeedStatusName>, inline)]
    pub state: Option<NeedStatus>,
    /// Needs in this area.
    #[serde(default, deserialize_with = "area")]
    #[param(value_type = Option<String>, pattern = "^[a-z0-9_-]{1,64}$")]
    pub area: Option<AreaCode>,
    /// Only needs still to be met (open, claimed or met in part).
    pub open: Option<bool>,
}

impl QueryParams for NeedFilters {}

/// Filters of the issues list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IssueFilters {
    /// Issues raised by, addressed to, or owned by this organisation.
    #[serde(default, deserialize_with = "org")]
    #[param(value_type = Option<String>, pattern = "^[a-z0-9_-]{1,64}$")]
    pub org: Option<OrgId>,
    /// Only issues not resolved.
    pub open: Option<bool>,
}

impl QueryParams for IssueFilters {}

/// The timeline's paging (newest first, by log sequence) and filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// Events per page, 1 to 500 (larger values are capped at 500); 50 by default.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Only events before this log sequence (exclusive): the previous page's
    /// `next_before`.
    #[param(minimum = 0)]
    pub before: Option<u64>,
    /// Only events of this organisation.
    #[serde(default, deserialize_with = "org")]
    #[param(value_type = Option<String>, pattern = "^[a-z0-9_-]{1,64}$")]
    pub org: Option<OrgId>,
    /// Only events of this kind.
    #[serde(default, deserialize_with = "kind")]
    #[param(value_type = Option<KindName>, inline)]
    pub kind: Option<Kind>,
}

impl QueryParams for TimelineParams {
    fn check(&self) -> Result<(), ApiError> {
        check_limit(self.limit)
    }
}

impl TimelineParams {
    pub fn limit(&self) -> usize {
        self.limit
            .unwrap_or(DEFAULT_TIMELINE_PAGE)
            .clamp(1, MAX_TIMELINE_PAGE)
    }
}

/// The area of the cross-incident picture.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaParams {
    /// The area (e.g. a municipality code): every incident touching it is summed.
    #[serde(default, deserialize_with = "area")]
    #[param(value_type = Option<String>, pattern = "^[a-z0-9_-]{1,64}$", required = true)]
    pub area: Option<AreaCode>,
}

impl QueryParams for AreaParams {
    fn check(&self) -> Result<(), ApiError> {
        self.area().map(|_| ())
    }
}

impl AreaParams {
    /// The area; 400 when it is missing.
    pub fn area(&self) -> Result<&AreaCode, ApiError> {
        self.area
            .as_ref()
            .ok_or_else(|| bad("area", "area: required; name the area, e.g. ?area=1280"))
    }
}

/// Where a live stream starts, besides the `Last-Event-ID` header.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveParams {
    /// Which picture: `actual` (the default), `exercise` or `test`.
    #[serde(default, deserialize_with = "from_str")]
    #[param(value_type = Option<StatusName>, inline)]
    pub status: Option<Status>,
    /// Start with this sequence (an alternative to `Last-Event-ID: from_seq - 1`). Without
    /// either, the stream starts with what is applied next.
    #[param(minimum = 0)]
    pub from_seq: Option<u64>,
}

impl QueryParams for LiveParams {}

impl LiveParams {
    pub fn status(&self) -> Status {
        self.status.unwrap_or(Status::Actual)
    }
}

/// The incident in the path.
#[derive(Debug, Clone, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IncidentPath {
    /// The incident id: 1 to 64 characters of `a-z`, `0-9`, `_` and `-`.
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    pub incident: String,
}

/// The incident named in the path, checked: 400 `invalid_parameter` (`incident`) when it
/// is not an incident id.
#[derive(Debug, Clone)]
pub struct Incident(pub IncidentId);

impl<S: Send + Sync> FromRequestParts<S> for Incident {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| bad("incident", format!("incident: {}", rejection.body_text())))?;
        IncidentId::new(text)
            .map(Incident)
            .map_err(|error| bad("incident", format!("incident: {error}")))
    }
}

/// The `min_seq` wait in force: [`MIN_SEQ_WAIT`] unless the router carries a
/// [`super::MinSeqWait`] extension.
pub(crate) fn min_seq_wait(parts: &Parts) -> std::time::Duration {
    parts
        .extensions
        .get::<super::MinSeqWait>()
        .map_or(MIN_SEQ_WAIT, |wait| wait.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(query: &str) -> (String, String) {
        match parse_query::<TimelineParams>(query) {
            Ok(_) => panic!("{query} parsed"),
            Err(error) => (
                error.field().unwrap_or_default().to_string(),
                error.to_string(),
            ),
        }
    }

    #[test]
    fn every_documented_parameter_can_be_named_in_an_error() {
        let documented = [
            ReadParams::into_params(|| None),
            PageParams::into_params(|| None),
            NeedFilters::into_params(|| None),
            IssueFilters::into_params(|| None),
            TimelineParams::into_params(|| None),
            AreaParams::into_params(|| None),
            LiveParams::into_params(|| None),
        ];
        for parameter in documented.iter().flatten() {
            assert!(
                NAMES.contains(&parameter.name.as_str()),
                "{}",
                parameter.name
            );
        }
    }

    #[test]
    fn errors_name_the_parameter() {
        assert_eq!(
            error("limit=ten"),
            (
                "limit".into(),
                "limit: invalid digit found in string".into()
            )
        );
        assert_eq!(
            error("limit=1&limit=2"),
            ("limit".into(), "limit: given more than once".into())
        );
        assert_eq!(error("org=Alfa").0, "org");
        assert_eq!(error("kind=nothing").0, "kind");
        assert_eq!(error("before=-1").0, "before");
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        let params: TimelineParams = parse_query("_=123&limit=5").expect("parses");
        assert_eq!(params.limit(), 5);
    }
}
