//! Charts as inline SVG: no scripts, no fonts to fetch, readable when printed.

use std::fmt::Write as _;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 44.0;
const COLOURS: [&str; 6] = [
    "#1f5fa8", "#d9822b", "#2b8a3e", "#a61e4d", "#5f3dc4", "#495057",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A rounded maximum for the y axis and its four grid steps.
fn scale(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if max <= step * magnitude {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

fn frame(out: &mut String, title: &str, labels: &[String], top: f64) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}" class="chart"><title>{t}</title><text x="{LEFT}" y="16" font-size="13" font-weight="bold">{t}</text>"#,
        t = escape(title)
    );
    let plot_height = HEIGHT - TOP - BOTTOM;
    for grid in 0..=4 {
        let y = TOP + plot_height * (1.0 - f64::from(grid) / 4.0);
        let value = top * f64::from(grid) / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" font-size="10" text-anchor="end">{value}</text>"##,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 4.0,
            ty = y + 3.0,
            value = if top >= 10.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.1}")
            }
        );
    }
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    let every = (labels.len() / 12).max(1);
    for (index, label) in labels.iter().enumerate() {
        if index % every == 0 {
            let x = LEFT + slot * (index as f64 + 0.5);
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{y}" font-size="10" text-anchor="middle">{l}</text>"#,
                y = HEIGHT - BOTTOM + 14.0,
                l = escape(label.get(5..).unwrap_or(label))
            );
        }
    }
}

fn legend(out: &mut String, names: &[&str]) {
    for (index, name) in names.iter().enumerate() {
        let x = LEFT + 150.0 * index as f64;
        let y = HEIGHT - 12.0;
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{ry}" width="10" height="10" fill="{c}"/><text x="{tx}" y="{y}" font-size="11">{n}</text>"#,
            ry = y - 9.0,
            c = COLOURS[index % COLOURS.len()],
            tx = x + 14.0,
            n = escape(name)
        );
    }
}

/// Grouped bars: one group per label, one bar per series.
pub fn bars(title: &str, labels: &[String], series: &[(&str, Vec<f64>)]) -> String {
    let max = series
        .iter()
        .flat_map(|(_, values)| values.iter().copied())
        .fold(0.0, f64::max);
    let top = scale(max);
    let mut out = String::new();
    frame(&mut out, title, labels, top);
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    let bar = (slot * 0.8) / series.len().max(1) as f64;
    for (index, (_, values)) in series.iter().enumerate() {
        for (position, value) in values.iter().enumerate() {
            let height = plot_height * value / top;
            let x = LEFT + slot * position as f64 + slot * 0.1 + bar * index as f64;
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{height:.1}" fill="{c}"><title>{l}: {value}</title></rect>"#,
                y = TOP + plot_height - height,
                w = (bar - 1.0).max(1.0),
                c = COLOURS[index % COLOURS.len()],
                l = escape(labels.get(position).map_or("", String::as_str))
            );
        }
    }
    legend(
        &mut out,
        &series.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
    );
    out.push_str("</svg>");
    out
}

/// Lines: one per series, a point per label.
pub fn lines(title: &str, labels: &[String], series: &[(&str, Vec<f64>)]) -> String {
    let max = series
        .iter()
        .flat_map(|(_, values)| values.iter().copied())
        .fold(0.0, f64::max);
    let top = scale(max);
    let mut out = String::new();
    frame(&mut out, title, labels, top);
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT - RIGHT) / labels.len().max(1) as f64;
    for (index, (_, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(position, value)| {
                format!(
                    "{:.1},{:.1}",
                    LEFT + slot * (position as f64 + 0.5),
                    TOP + plot_height * (1.0 - value / top)
                )
            })
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{p}"/>"#,
            c = COLOURS[index % COLOURS.len()],
            p = points.join(" ")
        );
    }
    legend(
        &mut out,
        &series.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_closed_svg_with_escaped_titles() {
        let labels = vec!["2026-03-02".to_owned(), "2026-03-03".to_owned()];
        let svg = bars(
            "Needs <raised>",
            &labels,
            &[("raised", vec![3.0, 7.0]), ("met", vec![1.0, 0.0])],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Needs &lt;raised&gt;"));
        assert_eq!(
            svg.matches("<rect").count(),
            4 + 2,
            "4 bars and 2 legend keys"
        );
        let svg = lines("Beds", &labels, &[("capacity", vec![10.0, 12.0])]);
        assert!(svg.contains("<polyline"));
        assert_eq!(scale(7.0), 10.0);
        assert_eq!(scale(23.0), 25.0);
    }
}
