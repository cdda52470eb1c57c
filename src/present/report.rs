//! Charts and a self-contained HTML report for a run, comparison or merged batch directory:
//! outcome curves with bands, small multiples per region, flows, survival of exits, the key
//! table with confidence intervals, and the resolved scenarios.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::present::chart::{self, Marker, Panel, PlotError};
use crate::present::data::{self, Curve, DataError, Part};
use crate::stats::mean_ci;
use crate::stats::survival::kaplan_meier;

/// Errors making charts or the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading outputs failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Drawing failed.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// Writing failed.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Bad request (unknown metric, grouping).
    #[error("{0}")]
    Usage(String),
}

/// How curves are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// One panel, one curve per scenario (and swept point).
    Scenario,
    /// One panel per region (small multiples), one curve per scenario.
    Region,
}

/// Units and scale of a metric for axis labels.
pub fn metric_axis(metric: &str) -> (String, f64) {
    match metric {
        m if m.ends_with("_rate")
            || m.ends_with("_share")
            || m.starts_with("share_")
            || m.contains("vulnerab")
            || m == "relapsed_cum_share" =>
        {
            (format!("{m} (%)"), 100.0)
        }
        "mean_income" | "median_income" => {
            (format!("{metric} (yuan/person/year, 2020 prices)"), 1.0)
        }
        "poverty_gap" | "poverty_severity" | "gini" | "theil" | "theil_region" => {
            (metric.to_string(), 1.0)
        }
        m => (m.to_string(), 1.0),
    }
}

/// Phase changes and shocks from the resolved scenarios found in `parts`' directories.
pub fn markers(parts: &[Part]) -> Vec<Marker> {
    let mut out: Vec<Marker> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for p in parts {
        let f = p.dir.join("scenario.resolved.toml");
        if !seen.insert(f.clone()) || !f.exists() {
            continue;
        }
        let Ok(l) = crate::scenario::load_file(&f, &[]) else {
            continue;
        };
        let c = &l.config;
        let dec = |t: u32| {
            let d = c.calendar.date(t);
            d.year as f64 + (d.month as f64 - 1.0) / 12.0
        };
        for ph in c.phases.iter().filter(|p| p.start > 0) {
            let m = Marker {
                x: dec(ph.start),
                label: ph.name.clone(),
            };
            if !out.iter().any(|o| o.x == m.x && o.label == m.label) {
                out.push(m);
            }
        }
        for s in &c.shocks {
            let name = match s.kind {
                crate::model::config::ShockKind::Pandemic => "pandemic",
                crate::model::config::ShockKind::PriceCollapse => "price collapse",
                crate::model::config::ShockKind::Disaster => "disaster",
            };
            let m = Marker {
                x: dec(s.start),
                label: format!("{name} shock"),
            };
            if !out.iter().any(|o| o.x == m.x && o.label == m.label) {
                out.push(m);
            }
        }
    }
    out
}

/// Draws `metric` from `dir` grouped `by`, into `stem` (.png, .svg, .csv).
pub fn plot_metric(
    dir: &Path,
    metric: &str,
    by: By,
    region: &str,
    stem: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    let parts = data::read_table(dir, "metrics")?;
    if parts.is_empty() {
        return Err(ReportError::Usage(format!(
            "{}: no metrics table",
            dir.display()
        )));
    }
    let marks = markers(&parts);
    let (ylabel, scale) = metric_axis(metric);
    let panels = match by {
        By::Scenario => vec![Panel {
            title: region.to_string(),
            curves: data::curves(&parts, metric, region)?,
        }],
        By::Region => {
            let mut regions = data::west_regions(&parts);
            if regions.is_empty() {
                regions.push("WEST".into());
            }
            regions.truncate(36);
            regions
                .iter()
                .map(|r| {
                    Ok(Panel {
                        title: r.clone(),
                        curves: data::curves(&parts, metric, r)?,
                    })
                })
                .collect::<Result<Vec<_>, DataError>>()?
        }
    };
    let title = format!("{metric}: mean and 95% band across replicates");
    Ok(chart::curves_chart(
        stem, &title, &ylabel, scale, &panels, &marks,
    )?)
}

/// Standard measures charted in reports, with titles.
pub const REPORT_METRICS: [(&str, &str); 5] = [
    (
        "relapse_rate",
        "Return to poverty: relapses / exited households at each annual assessment",
    ),
    (
        "poverty_rate",
        "Poverty headcount ratio (trailing-year income below the line)",
    ),
    (
        "vulnerability_share",
        "Vulnerable non-poor households (P(poor) above the threshold)",
    ),
    ("mean_income", "Mean per-capita income"),
    (
        "transfer_income_share",
        "Share of income from transfers, social cash and reserve top-ups",
    ),
];

/// One row of the key table: a scenario (and point) with means and CI half-widths.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    /// Scenario (and point).
    pub label: String,
    /// Replicates.
    pub n: usize,
    /// (name, mean, ci95) per measure.
    pub values: Vec<(&'static str, f64, f64)>,
}

/// WEST rows of a metrics part: (tick, measure → value).
type WestRows = Vec<(u32, BTreeMap<String, f64>)>;

fn west_rows(p: &Part) -> Result<WestRows, DataError> {
    let path = p.dir.join("metrics.parquet");
    let err = |e: polars::prelude::PolarsError| DataError::Column {
        path: path.clone(),
        message: e.to_string(),
    };
    let region =
        p.df.column("region")
            .and_then(|c| c.str().cloned())
            .map_err(err)?;
    let tick =
        p.df.column("tick")
            .and_then(|c| c.u32().cloned())
            .map_err(err)?;
    let names = [
        "poverty_rate",
        "relapse_rate",
        "relapsed_cum_share",
        "vulnerability_share",
        "ever_exited",
        "ever_relapsed",
        "exited_start",
        "relapses",
    ];
    let cols: Vec<(String, polars::prelude::Float64Chunked)> = names
        .iter()
        .filter_map(|n| {
            p.df.column(n)
                .ok()
                .and_then(|c| c.f64().ok().cloned())
                .map(|c| (n.to_string(), c))
        })
        .collect();
    let mut out = Vec::new();
    for i in 0..p.df.height() {
        if region.get(i) != Some("WEST") {
            continue;
        }
        let mut m = BTreeMap::new();
        for (n, c) in &cols {
            m.insert(n.clone(), c.get(i).unwrap_or(f64::NAN));
        }
        out.push((tick.get(i).unwrap_or(0), m));
    }
    Ok(out)
}

/// The key table: per scenario, across replicates.
pub fn key_table(metrics: &[Part], flows: &[Part]) -> Result<Vec<KeyRow>, DataError> {
    let mut groups: BTreeMap<String, Vec<[f64; 6]>> = BTreeMap::new();
    for p in metrics {
        let rows = west_rows(p)?;
        let Some((_, last)) = rows.iter().max_by_key(|(t, _)| *t) else {
            continue;
        };
        let g = |m: &BTreeMap<String, f64>, k: &str| m.get(k).copied().unwrap_or(f64::NAN);
        // Mean annual relapse rate over all assessments with households at risk.
        // Mean annual relapse rate over the annual assessments (the year's last tick) at
        // which some household was at risk (the rate is NaN when none was).
        let tpy =
            data::ticks_per_year(&data::decimal_years(&p.df, &p.dir.join("metrics.parquet"))?);
        let annual: Vec<f64> = rows
            .iter()
            .filter(|(t, m)| (t + 1) % tpy == 0 && g(m, "relapse_rate").is_finite())
            .map(|(_, m)| g(m, "relapse_rate"))
            .collect();
        let relapse = if annual.is_empty() {
            f64::NAN
        } else {
            annual.iter().sum::<f64>() / annual.len() as f64
        };
        let sustained = g(last, "ever_exited") - g(last, "ever_relapsed");
        // Aid: fiscal aid, donations and procurement over the horizon; eastern gains: profits.
        let (mut aid, mut profits, mut have_flows) = (0.0, 0.0, false);
        for f in flows.iter().filter(|f| {
            f.scenario == p.scenario && f.replicate == p.replicate && f.point == p.point
        }) {
            have_flows = true;
            if let (Ok(ch), Ok(a)) = (
                f.df.column("channel").and_then(|c| c.str().cloned()),
                f.df.column("amount").and_then(|c| c.f64().cloned()),
            ) {
                for i in 0..f.df.height() {
                    match ch.get(i) {
                        Some("fiscal_aid" | "donations" | "procurement") => {
                            aid += a.get(i).unwrap_or(0.0)
                        }
                        Some("profits") => profits += a.get(i).unwrap_or(0.0),
                        _ => {}
                    }
                }
            }
        }
        let cost = if have_flows && sustained > 0.0 {
            aid / sustained
        } else {
            f64::NAN
        };
        let gains = if have_flows { profits / 1e9 } else { f64::NAN };
        let label = if p.point.is_empty() {
            p.scenario.clone()
        } else {
            format!("{} ({})", p.scenario, p.point)
        };
        groups.entry(label).or_default().push([
            g(last, "poverty_rate"),
            relapse,
            g(last, "relapsed_cum_share"),
            g(last, "vulnerability_share"),
            cost,
            gains,
        ]);
    }
    let names = [
        "poverty rate at end",
        "mean annual relapse rate",
        "ever relapsed / ever exited",
        "vulnerability share at end",
        "aid yuan per sustained exit",
        "eastern firm profits (bn yuan)",
    ];
    Ok(groups
        .into_iter()
        .map(|(label, reps)| KeyRow {
            label,
            n: reps.len(),
            values: (0..6)
                .map(|k| {
                    let xs: Vec<f64> = reps.iter().map(|r| r[k]).collect();
                    let (m, h) = mean_ci(&xs);
                    (names[k], m, h)
                })
                .collect(),
        })
        .collect())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn fmt_value(name: &str, m: f64, h: f64) -> String {
    if m.is_nan() {
        return "—".into();
    }
    let h = if h.is_finite() { h } else { 0.0 };
    if name.contains("rate") || name.contains("share") || name.contains('/') {
        format!("{:.2}% ± {:.2}", 100.0 * m, 100.0 * h)
    } else if m.abs() >= 1e4 {
        format!("{:.0} ± {:.0}", m, h)
    } else {
        format!("{:.3} ± {:.3}", m, h)
    }
}

/// Writes every standard chart of `dir` into `charts` and returns the PNG files with captions.
pub fn standard_charts(dir: &Path, charts: &Path) -> Result<Vec<(PathBuf, String)>, ReportError> {
    std::fs::create_dir_all(charts).map_err(|e| ReportError::Io {
        path: charts.into(),
        source: e,
    })?;
    let mut out = Vec::new();
    for (m, caption) in REPORT_METRICS {
        let files = plot_metric(
            dir,
            m,
            By::Scenario,
            "WEST",
            &charts.join(format!("{m}_by_scenario")),
        )?;
        out.push((files[0].clone(), format!("{caption} — western households")));
    }
    let metrics = data::read_table(dir, "metrics")?;
    if data::west_regions(&metrics).len() > 1 {
        let files = plot_metric(
            dir,
            "poverty_rate",
            By::Region,
            "WEST",
            &charts.join("poverty_rate_by_region"),
        )?;
        out.push((
            files[0].clone(),
            "Poverty rate per western region (small multiples)".into(),
        ));
        let files = plot_metric(
            dir,
            "relapse_rate",
            By::Region,
            "WEST",
            &charts.join("relapse_rate_by_region"),
        )?;
        out.push((
            files[0].clone(),
            "Return to poverty per western region (small multiples)".into(),
        ));
    }
    let flows = data::read_table(dir, "flows")?;
    let mut scenarios: Vec<String> = flows.iter().map(|p| p.scenario.clone()).collect();
    scenarios.dedup();
    for s in scenarios {
        let series = data::flow_series(&flows, &s)?;
        let stem = charts.join(format!(
            "flows_{}",
            s.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_")
        ));
        let files = chart::flows_chart(
            &stem,
            &format!("Flows along pairing links: {s} (annual, summed over links)"),
            &series,
        )?;
        out.push((
            files[0].clone(),
            format!("Capital, labour, talent and products along the links, both directions — {s}"),
        ));
    }
    let panel = data::read_table(dir, "households")?;
    if !panel.is_empty() {
        let spells = data::spells(&panel)?;
        let kms: Vec<(String, _)> = spells
            .iter()
            .map(|(s, sp)| (s.clone(), kaplan_meier(sp)))
            .collect();
        let files = chart::survival_chart(&charts.join("survival"), &kms)?;
        out.push((files[0].clone(), "Survival of poverty exits: share of exited households not yet relapsed, by years since first exit".into()));
    }
    Ok(out)
}

/// Writes `dir/report/index.html` (charts embedded) and the chart files beside it.
pub fn write_report(dir: &Path) -> Result<PathBuf, ReportError> {
    let rdir = dir.join("report");
    let charts = standard_charts(dir, &rdir)?;
    let metrics = data::read_table(dir, "metrics")?;
    let flows = data::read_table(dir, "flows")?;
    let table = key_table(&metrics, &flows)?;
    let mut h = String::new();
    let title = format!("xiezuo report: {}", dir.display());
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:4px 8px;text-align:right}}th:first-child,td:first-child{{text-align:left}}img{{max-width:100%;border:1px solid #ddd}}pre{{background:#f6f6f6;padding:8px;overflow:auto;max-height:30em}}</style></head><body>",
        esc(&title)
    );
    let _ = write!(h, "<h1>{}</h1><p>Generated by xiezuo {} (commit {}). Values are means across replicates with 95% confidence-interval half-widths (Student t); western households unless stated.</p>", esc(&title), env!("CARGO_PKG_VERSION"), env!("XIEZUO_GIT_COMMIT"));
    let mut scen: Vec<&str> = metrics.iter().map(|p| p.scenario.as_str()).collect();
    scen.dedup();
    let _ = write!(
        h,
        "<h2>Scenarios compared</h2><ul>{}</ul>",
        scen.iter()
            .map(|s| format!("<li>{}</li>", esc(s)))
            .collect::<String>()
    );
    let _ = write!(
        h,
        "<h2>Key results</h2><table><tr><th>scenario</th><th>replicates</th>"
    );
    if let Some(r) = table.first() {
        for (n, _, _) in &r.values {
            let _ = write!(h, "<th>{}</th>", esc(n));
        }
    }
    let _ = write!(h, "</tr>");
    for r in &table {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td>", esc(&r.label), r.n);
        for (n, m, c) in &r.values {
            let _ = write!(h, "<td>{}</td>", fmt_value(n, *m, *c));
        }
        let _ = write!(h, "</tr>");
    }
    let _ = write!(h, "</table><p>Aid per sustained exit = fiscal aid + donations + procurement over the horizon / households that exited and never relapsed (real scale). Eastern gains = profits repatriated by eastern firms. “—” = not available (e.g. flows not kept in a batch).</p><h2>Charts</h2>");
    for (png, caption) in &charts {
        let bytes = std::fs::read(png).map_err(|e| ReportError::Io {
            path: png.clone(),
            source: e,
        })?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let name = png
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let _ = write!(h, "<figure><img alt=\"{}\" src=\"data:image/png;base64,{b64}\"><figcaption>{} (<code>{}</code>, SVG and CSV beside it)</figcaption></figure>", esc(caption), esc(caption), esc(&name));
    }
    let _ = write!(h, "<h2>Resolved scenarios</h2>");
    let mut seen = std::collections::BTreeSet::new();
    for p in &metrics {
        let f = p.dir.join("scenario.resolved.toml");
        if seen.insert(f.clone()) {
            if let Ok(t) = std::fs::read_to_string(&f) {
                let _ = write!(h, "<h3>{}</h3><pre>{}</pre>", esc(&p.scenario), esc(&t));
            }
        }
    }
    let _ = writeln!(h, "</body></html>");
    let path = rdir.join("index.html");
    std::fs::write(&path, h).map_err(|e| ReportError::Io {
        path: path.clone(),
        source: e,
    })?;
    Ok(path)
}

/// Renders a curve table as CSV text (used by tests to compare with summaries).
pub fn curves_csv(curves: &[Curve]) -> String {
    let mut s = String::new();
    for c in curves {
        for i in 0..c.x.len() {
            let _ = writeln!(s, "{},{},{}", c.label, c.x[i], c.mean[i]);
        }
    }
    s
}
