//! Phrase banks for free text, in Swedish with some English. Group-level facts only: no
//! person, no address, no number that could pass for an identity, case or phone number
//! (digit runs in generated text are at most three long, and mostly absent).

use proto_events::vocab::{IssueCategory, NeedCategory, ResourceCategory};

/// A phrase in Swedish and English; the generator picks one and sets `lang` to match.
pub(crate) type Phrase = (&'static str, &'static str);

pub(crate) const DISTRICTS: &[(&str, &str)] = &[
    ("rosengard", "Rosengård"),
    ("hyllie", "Hyllie"),
    ("fosie", "Fosie"),
    ("husie", "Husie"),
    ("kirseberg", "Kirseberg"),
    ("oxie", "Oxie"),
    ("limhamn-bunkeflo", "Limhamn-Bunkeflo"),
    ("vaster", "Väster"),
    ("norr", "Norr"),
    ("soder", "Söder"),
    ("centrum", "Centrum"),
    ("innerstaden", "Innerstaden"),
];

pub(crate) fn need_subcategory(category: NeedCategory) -> &'static [&'static str] {
    match category {
        NeedCategory::Housing => &[
            "familjeboende",
            "boende för ensamkommande barn",
            "tillgängligt boende",
            "korttidsboende",
        ],
        NeedCategory::HealthCare => &[
            "hälsoundersökning",
            "läkemedel",
            "barnhälsovård",
            "tandvård",
        ],
        NeedCategory::SchoolPlaces => &[
            "förskola",
            "grundskola",
            "gymnasieskola",
            "förberedelseklass",
        ],
        NeedCategory::Food => &["frukost", "lunch", "kvällsmat", "specialkost"],
        NeedCategory::Clothing => &["vinterkläder", "skor", "barnkläder", "sängkläder"],
        NeedCategory::Interpretation => &["telefontolk", "platstolk", "auktoriserad tolk"],
        NeedCategory::Transport => &[
            "buss till boendet",
            "transport till vårdcentralen",
            "skolskjuts",
        ],
        NeedCategory::Legal => &["asylrättslig rådgivning", "information om rättigheter"],
        NeedCategory::Psychosocial => &["samtalsstöd", "stöd till barn och unga", "krisstöd"],
        NeedCategory::Other => &[
            "hygienartiklar",
            "barnvagnar",
            "leksaker",
            "laddare och adaptrar",
        ],
    }
}

pub(crate) fn need_note(category: NeedCategory) -> &'static [Phrase] {
    match category {
        NeedCategory::Housing => &[
            (
                "Familjer som väntar på placering efter ankomst i natt.",
                "Families awaiting placement after arriving overnight.",
            ),
            (
                "Behov av boende med plats för barnvagn och rullstol.",
                "Housing needed with room for prams and a wheelchair.",
            ),
            (
                "Boendet är fullt; behöver platser inom kommunen.",
                "The site is full; places needed within the municipality.",
            ),
        ],
        NeedCategory::HealthCare => &[
            (
                "Hälsoundersökningar för nyanlända, helst denna vecka.",
                "Health checks for new arrivals, preferably this week.",
            ),
            (
                "Flera barn behöver träffa barnsjuksköterska.",
                "Several children need to see a child health nurse.",
            ),
        ],
        NeedCategory::SchoolPlaces => &[
            (
                "Barn i skolålder som ännu saknar skolplacering.",
                "School-age children who still lack a school place.",
            ),
            (
                "Förberedelseklass behövs nära boendet.",
                "A preparatory class is needed near the site.",
            ),
        ],
        NeedCategory::Food => &[
            (
                "Matservering räcker inte till helgen.",
                "Meal service will not cover the weekend.",
            ),
            (
                "Behov av specialkost och barnmat.",
                "Special diets and baby food are needed.",
            ),
        ],
        NeedCategory::Clothing => &[
            (
                "Många kom utan vinterkläder.",
                "Many arrived without winter clothing.",
            ),
            (
                "Storlekar för barn saknas mest.",
                "Children's sizes are most lacking.",
            ),
        ],
        NeedCategory::Interpretation => &[
            (
                "Tolk behövs vid informationsmöten på boendet.",
                "Interpreters needed at information meetings on site.",
            ),
            (
                "Tolk till hälsoundersökningar.",
                "Interpreters for health checks.",
            ),
        ],
        NeedCategory::Transport => &[
            (
                "Transport från stationen till boendet på kvällen.",
                "Transport from the station to the site in the evening.",
            ),
            (
                "Resor till vårdcentralen för undersökning.",
                "Trips to the health centre for examinations.",
            ),
        ],
        NeedCategory::Legal => &[(
            "Frågor om uppehållstillstånd och rättigheter.",
            "Questions about residence permits and rights.",
        )],
        NeedCategory::Psychosocial => &[
            (
                "Barn och unga behöver aktiviteter och samtalsstöd.",
                "Children and young people need activities and support.",
            ),
            (
                "Oro bland boende efter nyheter hemifrån.",
                "Worry among residents after news from home.",
            ),
        ],
        NeedCategory::Other => &[
            (
                "Hygienartiklar och blöjor tar slut.",
                "Hygiene products and nappies are running out.",
            ),
            (
                "Barnvagnar och bärselar behövs.",
                "Prams and baby carriers are needed.",
            ),
        ],
    }
}

pub(crate) const CLAIM_NOTES: &[Phrase] = &[
    (
        "Vi tar detta och återkommer med tider.",
        "We take this and will come back with times.",
    ),
    (
        "Ordnas genom vår jour.",
        "Arranged through our duty service.",
    ),
    (
        "Vi kan lösa en del redan i dag.",
        "We can cover part of it today.",
    ),
];
pub(crate) const MET_NOTES: &[Phrase] = &[
    ("Levererat till boendet.", "Delivered to the site."),
    ("Klart enligt överenskommelse.", "Done as agreed."),
    ("Resten följer i morgon.", "The rest follows tomorrow."),
];
pub(crate) const UPDATE_REASONS: &[Phrase] = &[
    ("Fler ankomster än väntat.", "More arrivals than expected."),
    (
        "Behovet har minskat efter placeringar.",
        "The need has shrunk after placements.",
    ),
    ("Tidpunkten har ändrats.", "The timing has changed."),
];
pub(crate) const CANCEL_REASONS: &[Phrase] = &[
    (
        "Löst inom egen verksamhet.",
        "Solved within our own service.",
    ),
    ("Behovet finns inte längre.", "The need no longer exists."),
    (
        "Ersatt av ett nytt behov med rätt omfattning.",
        "Replaced by a new need of the right size.",
    ),
];
pub(crate) const RELEASE_REASONS: &[Phrase] = &[
    (
        "Vi fick inte fram resurser i tid.",
        "We could not find resources in time.",
    ),
    (
        "Personalen behövs på annat håll.",
        "The staff are needed elsewhere.",
    ),
];

pub(crate) fn resource_conditions(category: ResourceCategory) -> &'static str {
    match category {
        ResourceCategory::Furniture => "Hämtas från vårt lager, vardagar.",
        ResourceCategory::Clothing => "Sorterat efter storlek, hämtas i församlingshemmet.",
        ResourceCategory::VolunteerHours => "Volontärer med introduktion, dagtid och kvällar.",
        ResourceCategory::FriendFamily => "Vänfamiljer som träffar nyanlända familjer varje vecka.",
        ResourceCategory::LanguageCafe => "Språkcafé två kvällar i veckan.",
        ResourceCategory::HomeworkHelp => "Läxhjälp efter skolan, med fika.",
        ResourceCategory::Sports => "Fotboll och simning för barn, utrustning finns.",
        ResourceCategory::Premises => "Lokalen kan användas vardagar, ej vid gudstjänst.",
        ResourceCategory::Transport => "Minibuss med förare, bokas dagen innan.",
        ResourceCategory::Food => "Matkassar från insamlingen.",
        ResourceCategory::Other => "Skänkt av företag i närområdet.",
    }
}
pub(crate) const RESOURCE_WITHDRAWN: &[&str] = &[
    "Lagret är tomt.",
    "Volontärerna har fått förhinder.",
    "Lokalen behövs för egen verksamhet.",
];
pub(crate) const RESOURCE_RELEASED: &[&str] = &[
    "Behovet är täckt.",
    "Verksamheten flyttar till boendets egna lokaler.",
    "Perioden är slut.",
];
pub(crate) const RETURN_REASONS: &[&str] = &[
    "Lokalen behövs till konfirmationsläger.",
    "Utrustningen behövs i egen verksamhet.",
    "Bilen ska på service.",
];

pub(crate) const OFFER_DECLINED: &[&str] = &[
    "Ligger för långt från skola och vårdcentral.",
    "Passar inte familjens storlek.",
    "Tillträdet är för sent.",
];
pub(crate) const OFFER_WITHDRAWN: &[&str] = &[
    "Värden har ändrat sig.",
    "Lägenheten behövs för annan placering.",
    "Renovering har påbörjats.",
];

pub(crate) fn issue_summary(category: IssueCategory) -> &'static [Phrase] {
    match category {
        IssueCategory::Capacity => &[
            (
                "Boendet närmar sig fullt och nya ankomster väntas i kväll.",
                "The site is nearly full and new arrivals are expected tonight.",
            ),
            (
                "Vårdcentralen hinner inte med hälsoundersökningarna.",
                "The health centre cannot keep up with health checks.",
            ),
        ],
        IssueCategory::Coordination => &[
            (
                "Två organisationer planerar samma aktivitet samma kväll.",
                "Two organisations plan the same activity on the same evening.",
            ),
            (
                "Oklart vem som bokar transporter från stationen.",
                "Unclear who books transport from the station.",
            ),
        ],
        IssueCategory::InformationGap => &[
            (
                "Vi saknar prognos för ankomster nästa vecka.",
                "We lack a forecast of arrivals next week.",
            ),
            (
                "Lägesbilden för skolplaceringar är inte uppdaterad.",
                "The picture of school placements is out of date.",
            ),
        ],
        IssueCategory::Mandate => &[(
            "Oklart vilket ansvar kommunen har för ensamkommande under helgen.",
            "Unclear which body is responsible for unaccompanied minors over the weekend.",
        )],
        IssueCategory::Safety => &[
            (
                "Oro för trängsel vid matutdelningen.",
                "Concern about crowding at food distribution.",
            ),
            (
                "Obehöriga har setts vid boendets entré på kvällen.",
                "Unauthorised people seen at the site entrance in the evening.",
            ),
        ],
        IssueCategory::Shortfall => &[
            (
                "Tolkar i arabiska och ukrainska räcker inte.",
                "Not enough Arabic and Ukrainian interpreters.",
            ),
            (
                "Barnkläder och vinterskor saknas.",
                "Children's clothing and winter shoes are lacking.",
            ),
        ],
    }
}
pub(crate) const ISSUE_ACK_NOTES: &[&str] = &[
    "Mottaget, vi tittar på det.",
    "Vi återkommer före dagens slut.",
];
pub(crate) const ESCALATION_REASONS: &[&str] = &[
    "Ingen lösning före tidsgränsen.",
    "Frågan kräver beslut om resurser över organisationsgränser.",
    "Problemet växer och påverkar flera boenden.",
];
pub(crate) const RESOLUTIONS: &[&str] = &[
    "Löst genom omfördelning av personal.",
    "Överenskommelse om ansvar nedskriven och spridd.",
    "Extra platser öppnade i grannboendet.",
    "Rutin införd och kommunicerad till alla parter.",
];
pub(crate) const REOPEN_REASONS: &[&str] = &[
    "Problemet har kommit tillbaka.",
    "Lösningen höll bara över helgen.",
];

pub(crate) const QUESTIONS: &[Phrase] = &[
    (
        "Hur många platser kan ni ta emot nästa vecka?",
        "How many places can you take next week?",
    ),
    (
        "Vilken prognos har ni för ankomster?",
        "What is your forecast of arrivals?",
    ),
    (
        "Hur många barn väntar på skolplacering?",
        "How many children are waiting for a school place?",
    ),
    (
        "Finns tolkar i tigrinja tillgängliga?",
        "Are Tigrinya interpreters available?",
    ),
    (
        "När kan hälsoundersökningarna starta?",
        "When can health checks start?",
    ),
];
pub(crate) const ANSWERS: &[Phrase] = &[
    (
        "Vi kan ta emot ungefär lika många som denna vecka.",
        "We can take about as many as this week.",
    ),
    (
        "Prognosen är oförändrad, underlag följer i lägesrapporten.",
        "The forecast is unchanged; details follow in the situation report.",
    ),
    (
        "Se bifogad sammanställning i lägesrapporten.",
        "See the summary in the situation report.",
    ),
    ("Ja, från och med i morgon.", "Yes, from tomorrow on."),
];

pub(crate) const SITREP_SUMMARIES: &[&str] = &[
    "Fortsatt många ankomster; mottagningen fungerar men är ansträngd.",
    "Lugnare dygn; placeringar går enligt plan.",
    "Ankomsterna ökar; boendena närmar sig full beläggning.",
    "Stabilt läge; samverkan fungerar väl.",
    "Hög belastning på vård och tolkar; övriga funktioner stabila.",
];
pub(crate) const SITREP_CONSEQUENCES: &[&str] = &[
    "Väntetider för placering och hälsoundersökning.",
    "Personal arbetar övertid; risk för utmattning.",
    "Skolorna behöver fler förberedelseklasser.",
];
pub(crate) const SITREP_ACTIONS: &[&str] = &[
    "Extra platser öppnade, fler volontärer inkallade.",
    "Samordnad transport från stationen.",
    "Informationsmöten med tolk på boendet.",
];
pub(crate) const SITREP_NEEDS: &[&str] = &[
    "Fler boendeplatser och tolkar.",
    "Vinterkläder och hygienartiklar.",
    "Skolplatser och fritidsaktiviteter.",
];
pub(crate) const SITREP_OUTLOOK: &[&str] = &[
    "Fortsatt höga ankomster väntas kommande dygn.",
    "Minskande ankomster; fokus på placering.",
    "Oförändrat läge väntas.",
];

pub(crate) const DECISIONS: &[(&str, &str)] = &[
    (
        "Öppna ytterligare evakueringsplatser i idrottshallen.",
        "Boendena är nära full beläggning.",
    ),
    (
        "Samordna alla transporter från stationen via kommunens jour.",
        "Dubbelbokningar har förekommit.",
    ),
    (
        "Prioritera hälsoundersökningar för barnfamiljer.",
        "Barnen har väntat längst.",
    ),
    (
        "Inrätta ett gemensamt schema för språkcafé och läxhjälp.",
        "Aktiviteterna krockade.",
    ),
    (
        "Begär stöd från länsstyrelsen för regional fördelning.",
        "Kommunens kapacitet räcker inte.",
    ),
];
pub(crate) const ACTIONS: &[&str] = &[
    "Ta fram lista över lediga lokaler.",
    "Boka tolkar till informationsmöten.",
    "Sammanställ behov av skolplatser per stadsområde.",
    "Ordna schema för volontärer.",
    "Ta fram kommunikation till boende om vård.",
];
pub(crate) const ACTION_OUTCOMES: &[&str] = &[
    "Klart och redovisat.",
    "Genomfört, underlag delat i nätverket.",
    "Klart med mindre avvikelser.",
];

pub(crate) const CORRECTION_REASONS: &[&str] = &[
    "Fel antal angavs.",
    "Fel kategori eller brådska angavs.",
    "Siffrorna var från fel tidpunkt.",
    "Skrivfel i ursprungligt meddelande.",
];
pub(crate) const RETRACTION_NOTES: &[&str] = &[
    "Skickades två gånger.",
    "Registrerades av misstag.",
    "Avsåg en annan insats.",
];

pub(crate) const PRESENCE: &[(&str, proto_events::vocab::Sector)] = &[
    (
        "mottagning och registrering",
        proto_events::vocab::Sector::Coordination,
    ),
    ("boende och placering", proto_events::vocab::Sector::Housing),
    ("hälsoundersökningar", proto_events::vocab::Sector::Health),
    ("skolintroduktion", proto_events::vocab::Sector::Education),
    ("matutdelning", proto_events::vocab::Sector::Food),
    ("barnaktiviteter", proto_events::vocab::Sector::Protection),
    ("samtalsstöd", proto_events::vocab::Sector::Psychosocial),
    ("transporter", proto_events::vocab::Sector::Logistics),
    (
        "information till nyanlända",
        proto_events::vocab::Sector::Information,
    ),
    (
        "trygghet kring boendet",
        proto_events::vocab::Sector::Protection,
    ),
];

pub(crate) const FORUMS: &[&str] = &[
    "samverkansmöte, mottagningen",
    "regional samverkanskonferens",
];
