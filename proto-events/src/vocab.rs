//! Closed vocabularies: categories, urgencies, statuses. Each is a snake_case string on the
//! wire. Adding a value is a new schema version of the kinds that use it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        concat!("unknown ", stringify!($name), " {:?}; expected one of: {}"),
                        text,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

vocabulary!(
    /// Whether an event is real. Exercise and test events never mix with actual ones
    /// (CAP `status`, EDXL-DE `distributionStatus`).
    Status { Actual = "actual", Exercise = "exercise", Test = "test" }
);

vocabulary!(
    /// The type of aggregate an event concerns; part of its subject.
    AggregateType {
        Incident = "incident",
        Org = "org",
        Responsibility = "responsibility",
        Presence = "presence",
        Site = "site",
        Offer = "offer",
        Need = "need",
        Resource = "resource",
        Issue = "issue",
        Report = "report",
        Arrivals = "arrivals",
        Service = "service",
        Hospital = "hospital",
        Alert = "alert",
        InformationRequest = "information_request",
        Meeting = "meeting",
        Decision = "decision",
        Action = "action",
    }
);

vocabulary!(
    /// The kind of crisis (EDXL-SitRep incident type).
    IncidentType {
        RefugeeReception = "refugee_reception",
        Evacuation = "evacuation",
        Flooding = "flooding",
        Fire = "fire",
        InfrastructureFailure = "infrastructure_failure",
        PublicHealth = "public_health",
        Other = "other",
    }
);

vocabulary!(
    /// The lifecycle phase of an incident (EDXL-SitRep `incidentLifecyclePhase`).
    IncidentPhase { Alert = "alert", Response = "response", Recovery = "recovery", Closed = "closed" }
);

vocabulary!(
    /// What kind of body an organisation is (HXL `#org+type`).
    OrgType {
        Authority = "authority",
        Municipality = "municipality",
        Region = "region",
        Ngo = "ngo",
        FaithBased = "faith_based",
        Volunteer = "volunteer",
        Private = "private",
    }
);

vocabulary!(
    /// A field of work (3W `#sector`).
    Sector {
        Housing = "housing",
        Health = "health",
        Education = "education",
        Food = "food",
        Protection = "protection",
        Psychosocial = "psychosocial",
        Logistics = "logistics",
        Coordination = "coordination",
        Information = "information",
        Other = "other",
    }
);

vocabulary!(
    /// Whether an operational presence is planned, ongoing or over.
    PresenceStatus { Planned = "planned", Ongoing = "ongoing", Completed = "completed" }
);

vocabulary!(
    /// The kind of a housing site.
    SiteKind {
        Evacuation = "evacuation",
        Temporary = "temporary",
        ApartmentPool = "apartment_pool",
        Premises = "premises",
    }
);

vocabulary!(
    /// The state of a housing site (EDXL-HAVE facility status pattern).
    SiteStatus { Open = "open", Full = "full", Closed = "closed", Evacuating = "evacuating" }
);

vocabulary!(
    /// What a housing offer is.
    HousingType { Apartment = "apartment", House = "house", Room = "room", Dormitory = "dormitory" }
);

vocabulary!(
    /// What a housing offer suits.
    Suitability { Family = "family", Accessible = "accessible", Pets = "pets", Single = "single" }
);

vocabulary!(
    /// An answer to an offer (EDXL-RM Accept/Decline).
    OfferAnswer { Accepted = "accepted", Declined = "declined" }
);

vocabulary!(
    /// The category of a need.
    NeedCategory {
        Housing = "housing",
        HealthCare = "health_care",
        SchoolPlaces = "school_places",
        Food = "food",
        Clothing = "clothing",
        Interpretation = "interpretation",
        Transport = "transport",
        Legal = "legal",
        Psychosocial = "psychosocial",
        Other = "other",
    }
);

vocabulary!(
    /// How soon a need must be met.
    Urgency {
        /// Now: life, health or a night without a roof is at stake.
        Critical = "critical",
        /// Within a day.
        High = "high",
        /// Within days; the default for needs raised before urgency existed (v1).
        Normal = "normal",
        /// When possible.
        Low = "low",
    }
);

vocabulary!(
    /// The unit a quantity counts.
    Unit {
        Beds = "beds",
        Places = "places",
        Meals = "meals",
        Hours = "hours",
        Seats = "seats",
        Items = "items",
        Sets = "sets",
        People = "people",
        Other = "other",
    }
);

vocabulary!(
    /// How far a need was met.
    Fulfilment { Partly = "partly", Fully = "fully" }
);

vocabulary!(
    /// The category of an offered resource.
    ResourceCategory {
        Furniture = "furniture",
        Clothing = "clothing",
        VolunteerHours = "volunteer_hours",
        FriendFamily = "friend_family",
        LanguageCafe = "language_cafe",
        HomeworkHelp = "homework_help",
        Sports = "sports",
        Premises = "premises",
        Transport = "transport",
        Food = "food",
        Other = "other",
    }
);

vocabulary!(
    /// What an issue between actors is about.
    IssueCategory {
        Capacity = "capacity",
        Coordination = "coordination",
        InformationGap = "information_gap",
        Mandate = "mandate",
        Safety = "safety",
        Shortfall = "shortfall",
    }
);

vocabulary!(
    /// How serious an issue is.
    Severity { Minor = "minor", Moderate = "moderate", Severe = "severe", Extreme = "extreme" }
);

vocabulary!(
    /// Which version of a numbered situation report this is (EDXL-SitRep).
    ReportVersion { Initial = "initial", Update = "update", Final = "final", Correction = "correction" }
);

vocabulary!(
    /// How sure a report is (EDXL-SitRep `reportConfidence`).
    Confidence { Confirmed = "confirmed", Probable = "probable", Estimated = "estimated" }
);

vocabulary!(
    /// A reported service capacity.
    ServiceKind {
        Preschool = "preschool",
        CompulsorySchool = "compulsory_school",
        UpperSecondarySchool = "upper_secondary_school",
        PrimaryCare = "primary_care",
        Interpreters = "interpreters",
        Psychosocial = "psychosocial",
        Other = "other",
    }
);

vocabulary!(
    /// A hospital's overall state (EDXL-HAVE `OperationalStatus`).
    FacilityStatus { Normal = "normal", Strained = "strained", Critical = "critical", Closed = "closed" }
);

vocabulary!(
    /// Emergency department state (EDXL-HAVE `EmergencyDepartmentStatus`).
    EmergencyDepartmentStatus { Open = "open", Diversion = "diversion", Closed = "closed" }
);

vocabulary!(
    /// Bed types reported by a hospital (EDXL-HAVE `BedCapacity`).
    BedType {
        General = "general",
        IntensiveCare = "intensive_care",
        Paediatric = "paediatric",
        Psychiatric = "psychiatric",
        Maternity = "maternity",
    }
);

vocabulary!(
    /// CAP `msgType`.
    AlertMessageType { Alert = "alert", Update = "update", Cancel = "cancel" }
);

vocabulary!(
    /// CAP `scope`.
    AlertScope { Public = "public", Restricted = "restricted" }
);

vocabulary!(
    /// CAP `urgency`.
    AlertUrgency { Immediate = "immediate", Expected = "expected", Future = "future", Past = "past", Unknown = "unknown" }
);

vocabulary!(
    /// CAP `severity`.
    AlertSeverity { Extreme = "extreme", Severe = "severe", Moderate = "moderate", Minor = "minor", Unknown = "unknown" }
);

vocabulary!(
    /// CAP `certainty`.
    AlertCertainty { Observed = "observed", Likely = "likely", Possible = "possible", Unlikely = "unlikely", Unknown = "unknown" }
);

vocabulary!(
    /// Why an event was retracted.
    RetractionReason { EnteredInError = "entered_in_error", Duplicate = "duplicate", Other = "other" }
);
