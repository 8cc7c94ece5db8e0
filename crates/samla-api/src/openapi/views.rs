//! The projector's views as the query routes answer them, for the OpenAPI document only
//! (see `schemas.rs` for why they are described by hand and how they are checked).

#![allow(dead_code, reason = "described for OpenAPI, never built")]

use std::collections::BTreeMap;

use utoipa::ToSchema;

use super::schemas::{Frame, IncidentFrame, PeopleCount, ViewerName};

/// A site: shelter, accommodation.
#[derive(ToSchema)]
pub struct Site {
    pub id: String,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub area: Option<String>,
    pub owner: Option<String>,
    pub status: Option<String>,
    pub capacity: u32,
    pub night_only_beds: u32,
    pub occupied: u32,
    pub reserved: u32,
    /// `capacity - occupied - reserved`, never below zero.
    pub free: u32,
    /// More people than beds.
    pub over_capacity: bool,
    pub last_seq: u64,
}

/// Beds summed over sites.
#[derive(ToSchema)]
pub struct HousingTotals {
    pub sites: u32,
    pub open_sites: u32,
    pub capacity: u64,
    pub occupied: u64,
    pub reserved: u64,
    pub free: u64,
    pub over_capacity_sites: u32,
}

/// `GET /v1/incidents/{incident}/sites`.
#[derive(ToSchema)]
pub struct SitesPage {
    #[serde(flatten)]
    pub frame: IncidentFrame,
    /// Items in the whole list (all pages).
    pub total: usize,
    pub items: Vec<Site>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Over every visible site, not only this page.
    pub totals: HousingTotals,
}

/// A housing offer.
#[derive(ToSchema)]
pub struct Offer {
    pub id: String,
    pub offered_by: Option<String>,
    pub housing_type: Option<String>,
    pub units: u32,
    pub beds: u32,
    pub beds_taken: i64,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub offered_to: Option<String>,
    pub state: Option<String>,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// `GET /v1/incidents/{incident}/offers`.
#[derive(ToSchema)]
pub struct OffersPage {
    #[serde(flatten)]
    pub frame: IncidentFrame,
    pub total: usize,
    pub items: Vec<Offer>,
    pub next_cursor: Option<String>,
}

/// A need (EDXL-RM request) as it stands at `now`.
#[derive(ToSchema)]
pub struct Need {
    pub id: String,
    /// `open`, `claimed`, `met_partly`, `met` or `cancelled`.
    pub status: String,
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub unit: Option<String>,
    pub quantity: u32,
    pub met_quantity: u64,
    /// `quantity - met_quantity`, never below zero; zero once met or cancelled.
    pub remaining: u64,
    pub people: Option<u32>,
    pub urgency: Option<String>,
    pub raised_by: Option<String>,
    pub addressed_to: Option<String>,
    pub language: Option<String>,
    /// The organisation holding a live claim (not expired at `now`).
    pub claimed_by: Option<String>,
    pub claim_quantity: Option<u32>,
    pub claim_expires_at: Option<String>,
    /// A claim lapsed before the need was met: it shows open again.
    pub claim_expired: bool,
    pub expired_claim_by: Option<String>,
    pub raised_at: Option<String>,
    pub needed_by: Option<String>,
    /// `needed_by` passed and the need is still open.
    pub overdue: bool,
    pub age_seconds: Option<i64>,
    pub time_to_claim_seconds: Option<i64>,
    pub time_to_meet_seconds: Option<i64>,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// Summary of durations in whole seconds.
#[derive(ToSchema)]
pub struct DurationStats {
    pub count: u32,
    pub mean_seconds: Option<i64>,
    /// The lower median.
    pub median_seconds: Option<i64>,
    pub max_seconds: Option<i64>,
}

/// Counts over the filtered needs (all pages).
#[derive(ToSchema)]
pub struct NeedStats {
    pub total: u32,
    pub open: u32,
    pub overdue: u32,
    pub claim_expired: u32,
    pub by_status: BTreeMap<String, u32>,
    /// Open needs only, here and in the maps below.
    pub by_category: BTreeMap<String, u32>,
    pub by_urgency: BTreeMap<String, u32>,
    pub by_area: BTreeMap<String, u32>,
    pub by_raiser: BTreeMap<String, u32>,
    pub by_claimer: BTreeMap<String, u32>,
    /// People concerned by open needs (as raised).
    pub people_open: u64,
    pub time_to_claim: DurationStats,
    pub time_to_meet: DurationStats,
}

/// `GET /v1/incidents/{incident}/needs`.
#[derive(ToSchema)]
pub struct NeedsPage {
    #[serde(flatten)]
    pub frame: IncidentFrame,
    pub total: usize,
    pub items: Vec<Need>,
    pub next_cursor: Option<String>,
    pub stats: NeedStats,
}

/// A resource offered, committed, delivered, released.
#[derive(ToSchema)]
pub struct Resource {
    pub id: String,
    pub state: Option<String>,
    pub category: Option<String>,
    pub unit: Option<String>,
    pub offered_by: Option<String>,
    pub offered_at: Option<String>,
    pub offered: u32,
    pub committed: u64,
    pub delivered: u64,
    pub released: u64,
    /// Delivered and not released.
    pub in_use: u64,
    /// Offered and not committed (zero once withdrawn).
    pub available: u64,
    pub committed_to_needs: BTreeMap<String, u64>,
    pub committed_to_offers: BTreeMap<String, u64>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub return_by: Option<String>,
    pub return_overdue: bool,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// `GET /v1/incidents/{incident}/resources`.
#[derive(ToSchema)]
pub struct ResourcesPage {
    #[serde(flatten)]
    pub frame: IncidentFrame,
    pub total: usize,
    pub items: Vec<Resource>,
    pub next_cursor: Option<String>,
}

/// An issue between organisations.
#[derive(ToSchema)]
pub struct Issue {
    pub id: String,
    /// `open`, `acknowledged`, `assigned`, `escalated` or `resolved`.
    pub status: String,
    pub raised_by: Option<String>,
    pub addressed_to: Option<String>,
    pub addressed_function: Option<String>,
    pub owner_org: Option<String>,
    pub owner_function: Option<String>,
    /// Who must act: the owner once assigned, else the addressee.
    pub responsible: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
    pub summary: Option<String>,
    pub raised_at: Option<String>,
    pub due_by: Option<String>,
    pub overdue: bool,
    pub age_seconds: Option<i64>,
    pub acknowledged_at: Option<String>,
    pub time_to_acknowledge_seconds: Option<i64>,
    pub escalation_level: u8,
    pub highest_escalation: u8,
    pub escalated_to_org: Option<String>,
    pub escalated_to_forum: Option<String>,
    pub resolved_at: Option<String>,
    pub resolution: Option<String>,
    pub time_to_resolve_seconds: Option<i64>,
    pub reopened: u64,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// One organisation's open issues.
#[derive(ToSchema)]
pub struct OrgIssues {
    pub open: u32,
    pub overdue: u32,
    pub unacknowledged: u32,
    pub escalated: u32,
    pub oldest_age_seconds: Option<i64>,
    pub highest_escalation: u8,
}

/// Counts over the filtered issues (all pages).
#[derive(ToSchema)]
pub struct IssueStats {
    pub total: u32,
    pub open: u32,
    pub overdue: u32,
    pub unacknowledged: u32,
    /// Open issues only.
    pub by_severity: BTreeMap<String, u32>,
    pub time_to_acknowledge: DurationStats,
    pub time_to_resolve: DurationStats,
}

/// `GET /v1/incidents/{incident}/issues`.
#[derive(ToSchema)]
pub struct IssuesPage {
    #[serde(flatten)]
    pub frame: IncidentFrame,
    pub total: usize,
    pub items: Vec<Issue>,
    pub next_cursor: Option<String>,
    /// Open issues per responsible organisation.
    pub by_org: BTreeMap<String, OrgIssues>,
    pub stats: IssueStats,
}

/// Counts of people a situation report gives, as the viewer may see them.
#[derive(ToSchema)]
pub struct PeopleFigures {
    pub arrivals_this_period: Option<PeopleCount>,
    pub arrivals_to_date: Option<PeopleCount>,
    pub placed_to_date: Option<PeopleCount>,
    pub awaiting_placement: Option<PeopleCount>,
    pub unaccompanied_minors_to_date: Option<PeopleCount>,
    pub households_this_period: Option<PeopleCount>,
}

/// A situation report (EDXL-SitRep), latest version.
#[derive(ToSchema)]
pub struct SituationReport {
    pub id: String,
    pub reported_by: String,
    pub number: u32,
    pub version: String,
    pub period_from: String,
    pub period_to: String,
    pub summary: String,
    pub consequences: Option<String>,
    pub actions_taken: Option<String>,
    pub needs: Option<String>,
    pub outlook: Option<String>,
    pub severity: Option<String>,
    pub confidence: Option<String>,
    pub counts: PeopleFigures,
    pub next_report_at: Option<String>,
    pub reported_at: String,
    pub report_seq: u64,
    pub reports_in_series: u64,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// A series of arrivals reports, as the viewer may see it.
#[derive(ToSchema)]
pub struct Arrivals {
    pub id: String,
    pub reported_by: Option<String>,
    pub arrivals_to_date: Option<PeopleCount>,
    pub placed_to_date: Option<PeopleCount>,
    pub awaiting_placement: Option<PeopleCount>,
    pub unaccompanied_minors_to_date: Option<PeopleCount>,
    pub arrivals_this_period: PeopleCount,
    pub households_this_period: PeopleCount,
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    pub estimated: bool,
    /// Arrivals per day (`YYYY-MM-DD`).
    pub per_day: BTreeMap<String, PeopleCount>,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// A service's capacity (interpreting, transport, …).
#[derive(ToSchema)]
pub struct ServiceCapacity {
    pub id: String,
    pub service: String,
    pub available: u32,
    pub used: u32,
    pub free: u32,
    pub language: Option<String>,
    pub reported_by: String,
    pub reported_at: String,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// A hospital's status (EDXL-HAVE).
#[derive(ToSchema)]
pub struct Hospital {
    pub id: String,
    pub facility_status: String,
    pub emergency_department: String,
    pub beds_available: BTreeMap<String, u32>,
    pub reported_by: String,
    pub reported_at: String,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// An alert (CAP).
#[derive(ToSchema)]
pub struct Alert {
    pub id: String,
    pub active: bool,
    pub cancelled: bool,
    pub expired: bool,
    pub message_type: String,
    pub scope: String,
    pub urgency: String,
    pub severity: String,
    pub certainty: String,
    pub headline: String,
    pub instruction: Option<String>,
    pub areas: Vec<String>,
    pub expires_at: Option<String>,
    pub issued_at: String,
    pub issued_by: String,
    pub last_seq: u64,
}

/// A request for information and whether it was answered.
#[derive(ToSchema)]
pub struct InformationRequest {
    pub id: String,
    pub requested_by: Option<String>,
    pub addressed_to: Option<String>,
    pub questions: Vec<String>,
    pub requested_at: String,
    pub answer_by: Option<String>,
    pub answered: bool,
    pub answered_at: Option<String>,
    pub answered_by: Vec<String>,
    pub time_to_answer_seconds: Option<i64>,
    pub overdue: bool,
    pub age_seconds: i64,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// `GET /v1/incidents/{incident}/reports`.
#[derive(ToSchema)]
pub struct Reports {
    #[serde(flatten)]
    pub frame: IncidentFrame,
    pub situation_reports: Vec<SituationReport>,
    /// Each organisation's latest situation report.
    pub latest_by_org: BTreeMap<String, SituationReport>,
    pub arrivals: Vec<Arrivals>,
    pub services: Vec<ServiceCapacity>,
    pub hospitals: Vec<Hospital>,
    pub alerts: Vec<Alert>,
    pub information_requests: Vec<InformationRequest>,
}

/// An incident as declared.
#[derive(ToSchema)]
pub struct IncidentSummary {
    pub id: String,
    pub title: Option<String>,
    pub incident_type: Option<String>,
    pub areas: Vec<String>,
    pub lead_org: Option<String>,
    pub declared_by: Option<String>,
    pub started_at: Option<String>,
    pub description: Option<String>,
    pub phase: Option<String>,
    pub last_seq: u64,
}

/// An organisation of the network.
#[derive(ToSchema)]
pub struct Organisation {
    pub id: String,
    pub name: Option<String>,
    pub org_type: Option<String>,
    pub functions: Vec<String>,
    pub contact_function: Option<String>,
    /// Joined and not left.
    pub member: bool,
    pub joined_at: Option<String>,
    pub last_seq: u64,
}

/// Who leads a function, who supports.
#[derive(ToSchema)]
pub struct Responsibility {
    pub id: String,
    pub function: Option<String>,
    pub lead_org: Option<String>,
    pub supporting_orgs: Vec<String>,
    pub assigned_by: Option<String>,
    pub last_seq: u64,
}

/// Operational presence (3W: who does what where).
#[derive(ToSchema)]
pub struct Presence {
    pub id: String,
    pub org: Option<String>,
    pub sector: Option<String>,
    pub activity: Option<String>,
    pub status: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub area: Option<String>,
    pub last_seq: u64,
}

/// A meeting, scheduled or held.
#[derive(ToSchema)]
pub struct Meeting {
    pub id: String,
    pub forum: Option<String>,
    pub starts_at: Option<String>,
    pub participants: Vec<String>,
    pub convened_by: Option<String>,
    pub held: bool,
    pub held_at: Option<String>,
    pub attending: Vec<String>,
    pub agenda: Vec<String>,
    pub minutes_ref: Option<String>,
    pub last_seq: u64,
}

/// A decision recorded.
#[derive(ToSchema)]
pub struct Decision {
    pub id: String,
    pub body: Option<String>,
    pub text: Option<String>,
    pub rationale: Option<String>,
    pub based_on_seq: Option<u64>,
    pub refs: Vec<String>,
    pub meeting: Option<String>,
    pub effective_from: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub last_seq: u64,
}

/// An action assigned, and whether it was completed.
#[derive(ToSchema)]
pub struct Action {
    pub id: String,
    pub description: Option<String>,
    pub assigned_org: Option<String>,
    pub assigned_function: Option<String>,
    pub decision: Option<String>,
    pub due_by: Option<String>,
    pub assigned_by: Option<String>,
    pub assigned_at: Option<String>,
    pub completed: bool,
    pub completed_at: Option<String>,
    pub outcome: Option<String>,
    pub overdue: bool,
    pub age_seconds: Option<i64>,
    pub last_seq: u64,
}

/// `GET /v1/incidents/{incident}/network`. Unlike the other incident answers, `incident`
/// is the incident itself, not its id.
#[derive(ToSchema)]
pub struct Network {
    #[serde(flatten)]
    pub frame: Frame,
    /// `actual`, `exercise` or `test`.
    pub status: String,
    pub viewer: ViewerName,
    /// The instant ages and overdue flags were computed at (RFC 3339).
    pub now: String,
    /// `null` until the incident is declared (in what the viewer may see).
    pub incident: Option<IncidentSummary>,
    pub organisations: Vec<Organisation>,
    pub responsibilities: Vec<Responsibility>,
    pub presence: Vec<Presence>,
    pub meetings: Vec<Meeting>,
    pub decisions: Vec<Decision>,
    pub actions: Vec<Action>,
}

/// `GET /v1/incidents`: the incidents the caller may see.
#[derive(ToSchema)]
pub struct Incidents {
    #[serde(flatten)]
    pub frame: Frame,
    pub status: String,
    pub items: Vec<IncidentSummary>,
}

/// Arrivals figures of a picture.
#[derive(ToSchema)]
pub struct ArrivalsFigures {
    pub series: u32,
    pub to_date: PeopleCount,
    pub awaiting_placement: PeopleCount,
    pub latest_day: Option<String>,
    pub latest_day_arrivals: PeopleCount,
    pub per_day: BTreeMap<String, PeopleCount>,
}

/// Needs figures of a picture.
#[derive(ToSchema)]
pub struct NeedsFigures {
    pub open: u32,
    pub overdue: u32,
    pub claim_expired: u32,
    pub by_urgency: BTreeMap<String, u32>,
    pub by_category: BTreeMap<String, u32>,
    /// People concerned by open needs.
    pub people: PeopleCount,
}

/// Issues figures of a picture.
#[derive(ToSchema)]
pub struct IssuesFigures {
    pub open: u32,
    pub overdue: u32,
    pub unacknowledged: u32,
    pub by_org: BTreeMap<String, OrgIssues>,
}

/// A situation report, one line.
#[derive(ToSchema)]
pub struct SituationReportLine {
    pub id: String,
    pub reported_by: String,
    pub number: u32,
    pub period_to: String,
}

/// Incident and status of a picture.
#[derive(ToSchema)]
pub struct PictureScope {
    pub incident: String,
    pub status: String,
}

/// The common operational picture of one incident for one viewer.
#[derive(ToSchema)]
pub struct Picture {
    pub scope: PictureScope,
    pub title: Option<String>,
    pub phase: Option<String>,
    pub areas: Vec<String>,
    pub arrivals: ArrivalsFigures,
    pub beds: HousingTotals,
    pub needs: NeedsFigures,
    pub issues: IssuesFigures,
    /// The latest situation reports.
    pub situation_reports: Vec<SituationReportLine>,
    pub active_alerts: u32,
    pub last_seq: u64,
}

/// `GET /v1/incidents/{incident}/picture`.
#[derive(ToSchema)]
pub struct IncidentPicture {
    #[serde(flatten)]
    pub frame: IncidentFrame,
    pub picture: Picture,
}

/// Sums over the incidents of an area.
#[derive(ToSchema)]
pub struct AreaTotals {
    pub incidents: u32,
    pub arrivals_to_date: PeopleCount,
    pub awaiting_placement: PeopleCount,
    pub latest_day: Option<String>,
    pub latest_day_arrivals: PeopleCount,
    pub beds: HousingTotals,
    pub open_needs: u32,
    pub overdue_needs: u32,
    pub open_needs_by_urgency: BTreeMap<String, u32>,
    pub open_issues: u32,
    pub overdue_issues: u32,
    pub active_alerts: u32,
    pub last_seq: u64,
}

/// The picture of every incident touching an area.
#[derive(ToSchema)]
pub struct AreaPictureBody {
    pub area: String,
    pub status: String,
    pub incidents: Vec<Picture>,
    pub totals: AreaTotals,
}

/// `GET /v1/picture?area=…`.
#[derive(ToSchema)]
pub struct AreaPicture {
    #[serde(flatten)]
    pub frame: Frame,
    pub area: String,
    pub status: String,
    pub picture: AreaPictureBody,
}
