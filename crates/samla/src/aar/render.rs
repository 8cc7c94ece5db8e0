//! The after-action report as self-contained HTML (inline CSS and SVG, nothing fetched)
//! or Markdown, in Swedish or English.

use std::fmt::Write as _;

use super::svg;
use super::{Figures, Spread};

/// The report's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Sv,
    En,
}

/// What the report says about where its figures come from.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub last_seq: u64,
    pub chain_head: String,
    pub digest: String,
}

struct Words {
    title: &'static str,
    covers: &'static str,
    needs: &'static str,
    raised: &'static str,
    met: &'static str,
    category: &'static str,
    organisation: &'static str,
    claim: &'static str,
    meet: &'static str,
    median: &'static str,
    p90: &'static str,
    count: &'static str,
    issues: &'static str,
    acknowledge: &'static str,
    resolve: &'static str,
    escalations: &'static str,
    beds: &'static str,
    capacity: &'static str,
    occupied: &'static str,
    arrivals: &'static str,
    day: &'static str,
    sitreps: &'static str,
    delay: &'static str,
    key_events: &'static str,
    decisions: &'static str,
    based_on: &'static str,
    changed_since: &'static str,
    nothing_changed: &'static str,
    method: &'static str,
}

const SV: Words = Words {
    title: "Efterhandsrapport",
    covers: "Rapporten bygger på Samlas logg",
    needs: "Behov: inkomna och tillgodosedda per dag",
    raised: "inkomna",
    met: "tillgodosedda",
    category: "Kategori",
    organisation: "Organisation",
    claim: "Tid till åtagande",
    meet: "Tid till tillgodosett",
    median: "median",
    p90: "90:e percentil",
    count: "antal",
    issues: "Ärenden mellan aktörer",
    acknowledge: "Tid till kvittens",
    resolve: "Tid till lösning",
    escalations: "Eskaleringar",
    beds: "Boendeplatser och beläggning (vid dagens slut)",
    capacity: "platser",
    occupied: "belagda",
    arrivals: "Ankomster per dag",
    day: "Dag",
    sitreps: "Lägesrapporternas punktlighet (tid efter periodens slut)",
    delay: "fördröjning",
    key_events: "Viktiga händelser",
    decisions: "Beslut och deras underlag",
    based_on: "fattat på lägesbilden vid sekvens",
    changed_since: "Därefter ändrades underlaget:",
    nothing_changed: "Inget av underlaget ändrades efteråt.",
    method: "Alla tider räknas på när saker hände (occurred_at). Endast händelser riktade till hela nätverket med status \u{201c}actual\u{201d} räknas; återkallade händelser räknas inte och rättade räknas med rättelsen.",
};

const EN: Words = Words {
    title: "After-action report",
    covers: "This report is computed from Samla's log",
    needs: "Needs raised and met per day",
    raised: "raised",
    met: "met",
    category: "Category",
    organisation: "Organisation",
    claim: "Time to claim",
    meet: "Time to meet",
    median: "median",
    p90: "90th percentile",
    count: "count",
    issues: "Issues between actors",
    acknowledge: "Time to acknowledge",
    resolve: "Time to resolve",
    escalations: "Escalations",
    beds: "Bed capacity and occupancy (end of day)",
    capacity: "capacity",
    occupied: "occupied",
    arrivals: "Arrivals per day",
    day: "Day",
    sitreps: "Situation report punctuality (time after the period's end)",
    delay: "delay",
    key_events: "Key events",
    decisions: "Decisions and what they were based on",
    based_on: "taken on the picture at sequence",
    changed_since: "Afterwards, the facts it relied on changed:",
    nothing_changed: "None of the facts it relied on changed afterwards.",
    method: "Durations use when things happened (occurred_at). Only events addressed to the whole network with status \u{201c}actual\u{201d} count; retracted events do not, corrected ones count as corrected.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Sv => &SV,
        Lang::En => &EN,
    }
}

/// A need category's name for people (`housing` → `boende` / `housing`).
pub fn category_label(code: &str, lang: Lang) -> String {
    let sv = match code {
        "housing" => "boende",
        "health_care" => "hälso- och sjukvård",
        "school_places" => "skolplatser",
        "food" => "mat",
        "clothing" => "kläder",
        "interpretation" => "tolkning",
        "transport" => "transport",
        "legal" => "juridiskt stöd",
        "psychosocial" => "psykosocialt stöd",
        "other" => "övrigt",
        other => other,
    };
    match lang {
        Lang::Sv => sv.to_owned(),
        Lang::En => code.replace('_', " "),
    }
}

/// `3 d 4 h`, `2 h 15 min`, `40 min`.
pub fn duration(seconds: Option<i64>) -> String {
    let Some(seconds) = seconds else {
        return "–".into();
    };
    let sign = if seconds < 0 { "−" } else { "" };
    let seconds = seconds.unsigned_abs();
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    if days > 0 {
        format!("{sign}{days} d {hours} h")
    } else if hours > 0 {
        format!("{sign}{hours} h {minutes} min")
    } else {
        format!("{sign}{minutes} min")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A table: header and rows of cells (already text).
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn html(&self) -> String {
        let mut out = String::from("<table><thead><tr>");
        for cell in &self.header {
            let _ = write!(out, "<th>{}</th>", escape(cell));
        }
        out.push_str("</tr></thead><tbody>");
        for row in &self.rows {
            out.push_str("<tr>");
            for cell in row {
                let _ = write!(out, "<td>{}</td>", escape(cell));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!(
            "| {} |\n|{}\n",
            self.header.join(" | "),
            "---|".repeat(self.header.len())
        );
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | ").replace('\n', " "));
        }
        out
    }
}

fn spread_row(first: &str, second: Option<&str>, spread: &Spread) -> Vec<String> {
    let mut row = vec![first.to_owned()];
    if let Some(second) = second {
        row.push(second.to_owned());
    }
    row.extend([
        spread.count.to_string(),
        duration(spread.median_seconds),
        duration(spread.p90_seconds),
    ]);
    row
}

/// One section: a heading, maybe a chart (HTML only), maybe a table, maybe paragraphs.
struct Section {
    heading: String,
    chart: Option<String>,
    table: Option<Table>,
    paragraphs: Vec<String>,
}

fn sections(figures: &Figures, lang: Lang) -> Vec<Section> {
    let w = words(lang);
    let days = &figures.days;
    let mut out = Vec::new();

    let total = |map: Option<&std::collections::BTreeMap<String, u32>>| {
        map.map_or(0, |m| m.values().sum::<u32>()) as f64
    };
    let raised: Vec<f64> = days
        .iter()
        .map(|d| total(figures.needs_per_day.get(d).map(|n| &n.raised)))
        .collect();
    let met: Vec<f64> = days
        .iter()
        .map(|d| total(figures.needs_per_day.get(d).map(|n| &n.met)))
        .collect();
    let mut categories: std::collections::BTreeMap<&str, (u32, u32)> =
        std::collections::BTreeMap::new();
    for day in figures.needs_per_day.values() {
        for (category, count) in &day.raised {
            categories.entry(category).or_default().0 += count;
        }
        for (category, count) in &day.met {
            categories.entry(category).or_default().1 += count;
        }
    }
    out.push(Section {
        heading: w.needs.into(),
        chart: Some(svg::bars(
            w.needs,
            days,
            &[(w.raised, raised), (w.met, met)],
        )),
        table: Some(Table {
            header: vec![
                w.category.into(),
                w.raised.into(),
                w.met.into(),
                format!("{} ({})", w.meet, w.median),
                format!("{} ({})", w.meet, w.p90),
            ],
            rows: categories
                .iter()
                .map(|(category, (raised, met))| {
                    let spread = figures
                        .time_to_meet_by_category
                        .get(*category)
                        .copied()
                        .unwrap_or_default();
                    vec![
                        (*category).to_owned(),
                        raised.to_string(),
                        met.to_string(),
                        duration(spread.median_seconds),
                        duration(spread.p90_seconds),
                    ]
                })
                .collect(),
        }),
        paragraphs: vec![],
    });

    for (heading, map) in [
        (w.claim, &figures.time_to_claim),
        (w.meet, &figures.time_to_meet),
    ] {
        out.push(Section {
            heading: heading.into(),
            chart: None,
            table: Some(Table {
                header: vec![
                    w.organisation.into(),
                    w.category.into(),
                    w.count.into(),
                    w.median.into(),
                    w.p90.into(),
                ],
                rows: map
                    .iter()
                    .flat_map(|(org, by)| {
                        by.iter()
                            .map(move |(category, spread)| spread_row(org, Some(category), spread))
                    })
                    .collect(),
            }),
            paragraphs: vec![],
        });
    }

    let mut rows = vec![
        spread_row(w.acknowledge, None, &figures.issue_time_to_acknowledge),
        spread_row(w.resolve, None, &figures.issue_time_to_resolve),
    ];
    for (org, count) in &figures.escalations {
        rows.push(vec![
            format!("{}: {org}", w.escalations),
            count.to_string(),
            "".into(),
            "".into(),
        ]);
    }
    out.push(Section {
        heading: w.issues.into(),
        chart: None,
        table: Some(Table {
            header: vec!["".into(), w.count.into(), w.median.into(), w.p90.into()],
            rows,
        }),
        paragraphs: vec![],
    });

    let capacity: Vec<f64> = days
        .iter()
        .map(|d| {
            figures
                .beds_per_day
                .get(d)
                .map_or(0.0, |b| b.capacity as f64)
        })
        .collect();
    let occupied: Vec<f64> = days
        .iter()
        .map(|d| {
            figures
                .beds_per_day
                .get(d)
                .map_or(0.0, |b| b.occupied as f64)
        })
        .collect();
    out.push(Section {
        heading: w.beds.into(),
        chart: Some(svg::lines(
            w.beds,
            days,
            &[(w.capacity, capacity), (w.occupied, occupied)],
        )),
        table: None,
        paragraphs: vec![],
    });

    let arrivals: Vec<f64> = days
        .iter()
        .map(|d| {
            figures
                .arrivals_per_day
                .get(d)
                .map_or(0.0, |by| by.values().sum::<u64>() as f64)
        })
        .collect();
    out.push(Section {
        heading: w.arrivals.into(),
        chart: Some(svg::bars(w.arrivals, days, &[(w.arrivals, arrivals)])),
        table: Some(Table {
            header: vec![w.day.into(), w.organisation.into(), w.arrivals.into()],
            rows: figures
                .arrivals_per_day
                .iter()
                .flat_map(|(day, by)| {
                    by.iter()
                        .map(move |(org, n)| vec![day.clone(), org.clone(), n.to_string()])
                })
                .collect(),
        }),
        paragraphs: vec![],
    });

    out.push(Section {
        heading: w.sitreps.into(),
        chart: None,
        table: Some(Table {
            header: vec![
                w.organisation.into(),
                w.count.into(),
                format!("{} ({})", w.delay, w.median),
                format!("{} ({})", w.delay, w.p90),
            ],
            rows: figures
                .sitrep_delay
                .iter()
                .map(|(org, spread)| spread_row(org, None, spread))
                .collect(),
        }),
        paragraphs: vec![],
    });

    out.push(Section {
        heading: w.key_events.into(),
        chart: None,
        table: Some(Table {
            header: vec![w.day.into(), "".into(), "".into()],
            rows: figures
                .key_events
                .iter()
                .map(|(at, kind, text)| {
                    vec![crate::sitrep::stockholm(*at), kind.clone(), text.clone()]
                })
                .collect(),
        }),
        paragraphs: vec![],
    });

    let mut paragraphs = Vec::new();
    for decision in &figures.decisions {
        paragraphs.push(format!(
            "{} — {}: {} ({} {}).",
            crate::sitrep::stockholm(decision.occurred_at),
            decision.body,
            decision.text,
            w.based_on,
            decision.based_on_seq
        ));
        if decision.changed_since.is_empty() {
            paragraphs.push(w.nothing_changed.into());
        } else {
            paragraphs.push(format!(
                "{} {}",
                w.changed_since,
                decision.changed_since.join("; ")
            ));
        }
    }
    out.push(Section {
        heading: w.decisions.into(),
        chart: None,
        table: None,
        paragraphs,
    });
    out
}

fn coverage_line(figures: &Figures, coverage: &Coverage, lang: Lang) -> String {
    let w = words(lang);
    format!(
        "{} 1–{} ({} {}), chain head {}, replica digest {}.",
        w.covers,
        coverage.last_seq,
        figures.events_counted,
        if lang == Lang::Sv {
            "händelser räknade"
        } else {
            "events counted"
        },
        coverage.chain_head,
        coverage.digest
    )
}

/// Self-contained HTML.
pub fn html(figures: &Figures, coverage: &Coverage, lang: Lang) -> String {
    let w = words(lang);
    let title = format!(
        "{} — {}",
        w.title,
        figures.title.as_deref().unwrap_or(&figures.incident)
    );
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}}\
         h1{{font-size:1.6rem}}h2{{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}}\
         table{{border-collapse:collapse;margin:.5rem 0}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}}\
         .chart{{width:100%;height:auto}}.coverage{{font-size:.85rem;color:#444;word-break:break-all}}\
         </style></head><body><h1>{}</h1><p class=\"coverage\">{}</p><p>{}</p>",
        if lang == Lang::Sv { "sv" } else { "en" },
        escape(&title),
        escape(&title),
        escape(&coverage_line(figures, coverage, lang)),
        escape(w.method)
    );
    for section in sections(figures, lang) {
        let _ = write!(out, "<section><h2>{}</h2>", escape(&section.heading));
        if let Some(chart) = &section.chart {
            out.push_str(chart);
        }
        if let Some(table) = &section.table {
            out.push_str(&table.html());
        }
        for paragraph in &section.paragraphs {
            let _ = write!(out, "<p>{}</p>", escape(paragraph));
        }
        out.push_str("</section>");
    }
    out.push_str("</body></html>\n");
    out
}

/// Markdown (the charts' numbers are in the tables).
pub fn markdown(figures: &Figures, coverage: &Coverage, lang: Lang) -> String {
    let w = words(lang);
    let mut out = format!(
        "# {} — {}\n\n{}\n\n{}\n",
        w.title,
        figures.title.as_deref().unwrap_or(&figures.incident),
        coverage_line(figures, coverage, lang),
        w.method
    );
    for section in sections(figures, lang) {
        let _ = write!(out, "\n## {}\n\n", section.heading);
        if let Some(table) = &section.table {
            out.push_str(&table.markdown());
        }
        for paragraph in &section.paragraphs {
            let _ = writeln!(out, "{paragraph}\n");
        }
    }
    out
}
