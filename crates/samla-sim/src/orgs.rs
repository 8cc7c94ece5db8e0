//! The network of the demo crisis: ten organisations around a reception site in Malmö,
//! each with the functions (roles, never people) it speaks through.

use proto_events::OrgId;
use proto_events::vocab::OrgType;

use crate::config::CrisisConfig;

/// An organisation of the generated network, as `samla demo` provisions it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub org_type: OrgType,
    /// The functions it emits through, e.g. "socialjour, socialtjänsten".
    pub functions: Vec<String>,
}

/// The organisations of a crisis, in the order they join it. The network is the same for
/// every configuration today; the configuration is taken so that a larger scenario can
/// add organisations without changing the signature.
pub fn organisations(_config: &CrisisConfig) -> Vec<Organisation> {
    Org::ALL
        .iter()
        .map(|org| Organisation {
            id: org.org_id(),
            name: org.name().to_string(),
            org_type: org.org_type(),
            functions: org
                .functions()
                .iter()
                .map(|function| function.to_string())
                .collect(),
        })
        .collect()
}

/// An organisation as the generator knows it: a small copyable index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Org {
    Malmo,
    Lansstyrelsen,
    Migrationsverket,
    Operator,
    Polisen,
    Region,
    Primarvard,
    Kyrkan,
    RaddaBarnen,
    Frivilliga,
}

impl Org {
    /// Join order: the convenor first, then the county board and the agencies.
    pub(crate) const ALL: [Org; 10] = [
        Org::Malmo,
        Org::Lansstyrelsen,
        Org::Migrationsverket,
        Org::Operator,
        Org::Polisen,
        Org::Region,
        Org::Primarvard,
        Org::Kyrkan,
        Org::RaddaBarnen,
        Org::Frivilliga,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn id(self) -> &'static str {
        match self {
            Org::Malmo => "malmo-stad",
            Org::Lansstyrelsen => "lansstyrelsen-skane",
            Org::Migrationsverket => "migrationsverket",
            Org::Operator => "nordisk-boendedrift",
            Org::Polisen => "polisen",
            Org::Region => "region-skane",
            Org::Primarvard => "primarvard-malmo",
            Org::Kyrkan => "svenska-kyrkan-malmo",
            Org::RaddaBarnen => "radda-barnen",
            Org::Frivilliga => "frivilliga-malmo",
        }
    }

    pub(crate) fn org_id(self) -> OrgId {
        OrgId::new(self.id()).expect("organisation ids are valid tokens")
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Org::Malmo => "Malmö stad",
            Org::Lansstyrelsen => "Länsstyrelsen Skåne",
            Org::Migrationsverket => "Migrationsverket",
            Org::Operator => "Nordisk Boendedrift",
            Org::Polisen => "Polisen, region Syd",
            Org::Region => "Region Skåne",
            Org::Primarvard => "Primärvården Malmö",
            Org::Kyrkan => "Svenska kyrkan i Malmö",
            Org::RaddaBarnen => "Rädda Barnen",
            Org::Frivilliga => "Frivilligcentralen Malmö",
        }
    }

    pub(crate) fn org_type(self) -> OrgType {
        match self {
            Org::Malmo => OrgType::Municipality,
            Org::Lansstyrelsen | Org::Migrationsverket | Org::Polisen => OrgType::Authority,
            Org::Region | Org::Primarvard => OrgType::Region,
            Org::Operator => OrgType::Private,
            Org::Kyrkan => OrgType::FaithBased,
            Org::RaddaBarnen => OrgType::Ngo,
            Org::Frivilliga => OrgType::Volunteer,
        }
    }

    /// Every function the organisation speaks through; the first is its coordinator.
    pub(crate) fn functions(self) -> &'static [&'static str] {
        match self {
            Org::Malmo => &[
                "samordnare, krisledningen",
                "socialjour, socialtjänsten",
                "handläggare, bostadsenheten",
                "samordnare, skolkontoret",
                "tjänsteperson i beredskap, Malmö stad",
            ],
            Org::Lansstyrelsen => &[
                "regional samordnare, beredskapsenheten",
                "tjänsteperson i beredskap, länsstyrelsen",
            ],
            Org::Migrationsverket => &[
                "samordnare, mottagningsenheten",
                "boendeenheten, region Syd",
                "lägesbildsfunktionen, region Syd",
            ],
            Org::Operator => &[
                "platschef, mottagningsboendet",
                "driftsamordnare, boendedriften",
            ],
            Org::Polisen => &[
                "vakthavande befäl, lokalpolisområde Malmö",
                "samverkansfunktionen, polisregion Syd",
            ],
            Org::Region => &[
                "regional särskild sjukvårdsledning",
                "tolkförmedlingen, Region Skåne",
                "vårdsamordnare, Skånes universitetssjukhus",
            ],
            Org::Primarvard => &[
                "verksamhetschef, vårdcentralen",
                "hälsoundersökningar, asylhälsan",
            ],
            Org::Kyrkan => &["samordnare, diakonin", "diakon, församlingen"],
            Org::RaddaBarnen => &[
                "samordnare, Rädda Barnen Malmö",
                "programansvarig, barnrätt",
            ],
            Org::Frivilliga => &["samordnare, frivilligcentralen", "volontärsamordnare"],
        }
    }

    /// The coordinating function: convenes, reports and answers for the organisation.
    pub(crate) fn coordinator(self) -> &'static str {
        self.functions()[0]
    }

    /// The function that handles a given line of work, falling back to the coordinator.
    pub(crate) fn function(self, role: Role) -> &'static str {
        let functions = self.functions();
        let index = match (self, role) {
            (Org::Malmo, Role::Social) => 1,
            (Org::Malmo, Role::Housing) => 2,
            (Org::Malmo, Role::School) => 3,
            (Org::Malmo, Role::Duty) => 4,
            (Org::Lansstyrelsen, Role::Duty) => 1,
            (Org::Migrationsverket, Role::Housing) => 1,
            (Org::Migrationsverket, Role::Reports) => 2,
            (Org::Operator, Role::Housing | Role::Reports) => 1,
            (Org::Polisen, Role::Reports | Role::Duty) => 1,
            (Org::Region, Role::Interpreters) => 1,
            (Org::Region, Role::Health) => 2,
            (Org::Primarvard, Role::Health) => 1,
            (Org::Kyrkan, Role::Field) => 1,
            (Org::RaddaBarnen, Role::Children) => 1,
            (Org::Frivilliga, Role::Field) => 1,
            _ => 0,
        };
        functions[index]
    }
}

/// A line of work, used to pick the function that speaks for an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Coordination,
    Social,
    Housing,
    School,
    Duty,
    Reports,
    Interpreters,
    Health,
    Field,
    Children,
}
