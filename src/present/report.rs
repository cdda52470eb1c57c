//! Charts and a self-contained HTML report for a run, comparison or merged batch directory:
//! outcome curves with bands, small multiples per region or per scenario, flows, survival of
//! exits, the key table with confidence intervals; for a comparison the difference B − A
//! over time with its band, the yearly table the terminal prints and a post-withdrawal
//! summary; for a batch outcome-versus-parameter charts and the failed runs; and the
//! resolved scenarios. `plot_metric` is behind `xiezuo plot`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::model::config::Config;
use crate::present::chart::{self, Figure, Marker, Panel, PlotError, Style, XAxis};
use crate::present::data::{self, CmpRow, Curve, DataError, Layout, Part, X_YEAR};
use crate::present::names::{self, metric_info, region_title, Kind};
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
    /// Bad request (unknown metric or region, grouping): the user's input, exit code 2.
    #[error("{0}")]
    Usage(String),
}

/// How curves are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// One panel, one curve per scenario (and swept point).
    Scenario,
    /// One panel per western region (small multiples), one curve per scenario.
    Region,
    /// One panel per scenario (small multiples), one curve per swept point.
    Point,
}

/// What `plot_metric` draws.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Grouping.
    pub by: By,
    /// Rows for [`By::Scenario`] and [`By::Point`]: a region, `WEST`, `EAST` or `ALL`;
    /// `None` is `WEST`. A region given goes into the default file name.
    pub region: Option<String>,
    /// Small multiples share one y scale (default) or each panel has its own.
    pub shared_y: bool,
}

impl PlotOptions {
    /// The rows drawn (`WEST` unless a region was given).
    pub fn rows(&self) -> &str {
        self.region.as_deref().unwrap_or("WEST")
    }
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            by: By::Scenario,
            region: None,
            shared_y: true,
        }
    }
}

impl By {
    /// The grouping's name in file names and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            By::Scenario => "scenario",
            By::Region => "region",
            By::Point => "point",
        }
    }
}

/// Phase changes and shocks from the resolved scenarios found in `parts`' directories.
pub fn markers(parts: &[Part]) -> Vec<Marker> {
    let mut out: Vec<Marker> = Vec::new();
    for c in configs(parts).values() {
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

/// The resolved scenario of each scenario label found beside `parts` (runs, comparisons).
fn configs(parts: &[Part]) -> BTreeMap<String, Config> {
    let mut out = BTreeMap::new();
    for p in parts {
        if out.contains_key(&p.scenario) {
            continue;
        }
        let f = p.dir.join("scenario.resolved.toml");
        if let Ok(l) = crate::scenario::load_file(&f, &[]) {
            out.insert(p.scenario.clone(), l.config);
        }
    }
    out
}

/// "did you mean" among `candidates`, and the list of them.
fn unknown(what: &str, name: &str, candidates: &[String], dir: &Path) -> ReportError {
    let hint = crate::scenario::error::suggest(name, candidates.iter().map(String::as_str))
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    ReportError::Usage(format!(
        "{}: no {what} `{name}`{hint} (available: {})",
        dir.display(),
        candidates.join(", ")
    ))
}

fn replicates_note(panels: &[Panel]) -> String {
    let n = panels
        .iter()
        .flat_map(|p| p.curves.iter().flat_map(|c| c.n.iter().copied()))
        .max()
        .unwrap_or(0);
    if n > 1 {
        format!(" (mean and 95% band across {n} replicates)")
    } else {
        String::new()
    }
}

/// The figure of `metric` from metrics `parts` grouped as `opts` says.
pub fn metric_figure(
    parts: &[Part],
    metric: &str,
    opts: &PlotOptions,
    marks: &[Marker],
) -> Result<Figure, ReportError> {
    let info = metric_info(metric);
    let (title, panels) = match opts.by {
        By::Scenario => (
            format!("{}: {}", info.title, region_title(opts.rows())),
            vec![Panel::new("", data::curves(parts, metric, opts.rows())?)],
        ),
        By::Region => {
            let mut regions = data::west_regions(parts);
            if regions.is_empty() {
                regions.push("WEST".into());
            }
            regions.truncate(36);
            let panels = regions
                .iter()
                .map(|r| Ok(Panel::new(r.clone(), data::curves(parts, metric, r)?)))
                .collect::<Result<Vec<_>, DataError>>()?;
            (format!("{} by western region", info.title), panels)
        }
        By::Point => {
            let mut scenarios: Vec<String> = Vec::new();
            for p in parts {
                if !scenarios.contains(&p.scenario) {
                    scenarios.push(p.scenario.clone());
                }
            }
            scenarios.truncate(36);
            let by_point = |p: &Part| {
                if p.point.is_empty() {
                    "all runs".to_string()
                } else {
                    p.point.clone()
                }
            };
            let panels = scenarios
                .iter()
                .map(|s| {
                    let mine: Vec<Part> =
                        parts.iter().filter(|p| &p.scenario == s).cloned().collect();
                    Ok(Panel::new(
                        s.clone(),
                        data::curves_by(&mine, metric, opts.rows(), &by_point)?,
                    ))
                })
                .collect::<Result<Vec<_>, DataError>>()?;
            (
                format!(
                    "{}: {}, by scenario and swept value",
                    info.title,
                    region_title(opts.rows())
                ),
                panels,
            )
        }
    };
    let mut fig = Figure::years(
        title + &replicates_note(&panels),
        info.axis.clone(),
        info.kind,
        info.scale,
    );
    fig.panels = panels;
    fig.markers = marks.to_vec();
    fig.shared_y = opts.shared_y;
    Ok(fig)
}

/// Draws `metric` from `dir` grouped as `opts` says, into `out` or by default
/// `dir/charts/METRIC[_REGION]_by_BY` (.png, .svg, .csv), where REGION is the region's
/// file-name form, distinct among the directory's regions. An unknown metric or region is
/// a [`ReportError::Usage`] with a "did you mean"; nothing is written then.
pub fn plot_metric(
    dir: &Path,
    metric: &str,
    opts: &PlotOptions,
    out: Option<&Path>,
) -> Result<Vec<PathBuf>, ReportError> {
    let parts = data::read_table(dir, "metrics")?;
    if parts.is_empty() {
        return Err(ReportError::Usage(format!(
            "{}: no metrics table",
            dir.display()
        )));
    }
    let measures = data::measure_names(&parts);
    if !measures.iter().any(|m| m == metric) {
        return Err(unknown("metric", metric, &measures, dir));
    }
    let regions = data::all_regions(&parts);
    if opts.by == By::Region && opts.region.is_some() {
        return Err(ReportError::Usage(
            "--region picks the rows of --by scenario or --by point; --by region draws one panel per western region".into(),
        ));
    }
    if !regions.iter().any(|r| r == opts.rows()) {
        return Err(unknown("region", opts.rows(), &regions, dir));
    }
    let stem = match (out, &opts.region) {
        (Some(o), _) => o.to_path_buf(),
        (None, None) => dir
            .join("charts")
            .join(format!("{metric}_by_{}", opts.by.name())),
        (None, Some(r)) => {
            let names: Vec<&str> = regions.iter().map(String::as_str).collect();
            let stems = names::file_stems(&names);
            let i = names.iter().position(|n| n == r).unwrap_or(0);
            dir.join("charts")
                .join(format!("{metric}_{}_by_{}", stems[i], opts.by.name()))
        }
    };
    let fig = metric_figure(&parts, metric, opts, &markers(&parts))?;
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| ReportError::Io {
            path: parent.into(),
            source: e,
        })?;
    }
    Ok(chart::figure(&stem, &fig)?)
}

/// Standard measures charted in reports, with captions.
pub const REPORT_METRICS: [(&str, &str); 7] = [
    (
        "relapse_rate",
        "Return to poverty: relapses / exited households at each annual assessment, drawn in the middle of the assessed year",
    ),
    (
        "relapses_per_household",
        "Return to poverty as a count: relapses per household at each annual assessment (its denominator does not grow with exits, unlike the rate's)",
    ),
    (
        "exit_survival_3y",
        "Survival of exits: share of exits still out of poverty three years on, from each assessment's relapse hazards by years since the exit (period life table)",
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

/// Per-run outcomes of the key table, in [`KEY_NAMES`] order.
fn run_outcomes(p: &Part, flows: &[Part]) -> Result<Option<[f64; 6]>, DataError> {
    let (years, last) = data::west_years(p)?;
    let Some(last) = last else {
        return Ok(None);
    };
    // Mean annual relapse rate over the annual assessments at which some household was at
    // risk (the rate is NaN when none was).
    let annual: Vec<f64> = years
        .iter()
        .map(|y| y.relapse_rate)
        .filter(|r| r.is_finite())
        .collect();
    let relapse = if annual.is_empty() {
        f64::NAN
    } else {
        annual.iter().sum::<f64>() / annual.len() as f64
    };
    let sustained = last.ever_exited - last.ever_relapsed;
    // Aid: fiscal aid, donations and procurement over the horizon; eastern gains: profits.
    // Summing every row is right for monthly rows and for a yearly batch's year totals.
    let (mut aid, mut profits, mut have_flows) = (0.0, 0.0, false);
    for f in flows
        .iter()
        .filter(|f| f.scenario == p.scenario && f.replicate == p.replicate && f.point == p.point)
    {
        have_flows = true;
        let (ch, a) = (f.strs("channel")?, f.f64s("amount")?);
        for i in 0..f.df.height() {
            match ch.get(i) {
                Some("fiscal_aid" | "donations" | "procurement") => aid += a.get(i).unwrap_or(0.0),
                Some("profits") => profits += a.get(i).unwrap_or(0.0),
                _ => {}
            }
        }
    }
    let cost = if have_flows && sustained > 0.0 {
        aid / sustained
    } else {
        f64::NAN
    };
    let gains = if have_flows { profits / 1e9 } else { f64::NAN };
    Ok(Some([
        last.poverty_rate,
        relapse,
        last.relapsed_cum_share,
        last.vulnerability_share,
        cost,
        gains,
    ]))
}

/// Names of the key table's measures.
pub const KEY_NAMES: [&str; 6] = [
    "poverty rate at end",
    "mean annual relapse rate",
    "ever relapsed / ever exited",
    "vulnerability share at end",
    "aid yuan per sustained exit",
    "eastern firm profits (bn yuan)",
];

/// The key table: per scenario (and point), across replicates.
pub fn key_table(metrics: &[Part], flows: &[Part]) -> Result<Vec<KeyRow>, DataError> {
    let mut groups: Vec<(String, Vec<[f64; 6]>)> = Vec::new();
    for p in metrics {
        let Some(o) = run_outcomes(p, flows)? else {
            continue;
        };
        let label = p.label();
        match groups.iter_mut().find(|(l, _)| *l == label) {
            Some((_, v)) => v.push(o),
            None => groups.push((label, vec![o])),
        }
    }
    Ok(groups
        .into_iter()
        .map(|(label, reps)| KeyRow {
            label,
            n: reps.len(),
            values: (0..6)
                .map(|k| {
                    let xs: Vec<f64> = reps.iter().map(|r| r[k]).collect();
                    let (m, h) = mean_ci(&xs);
                    (KEY_NAMES[k], m, h)
                })
                .collect(),
        })
        .collect())
}

/// A sweep point: (scenario, point label), its parameter values, outcomes per replicate.
type SweepPoint = ((String, String), Vec<(String, f64)>, Vec<[f64; 6]>);

/// Points of a curve: x and the values across replicates.
type Samples = Vec<(f64, Vec<f64>)>;

/// Outcomes against each swept parameter: one figure per numeric parameter, one panel per
/// outcome, one series per scenario, points with 95% error bars across replicates.
pub fn sweep_figures(metrics: &[Part]) -> Result<Vec<(String, Figure)>, DataError> {
    let keys: Vec<String> = {
        let mut k: Vec<String> = Vec::new();
        for p in metrics {
            for (key, _) in &p.params {
                if !k.contains(key) {
                    k.push(key.clone());
                }
            }
        }
        k
    };
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    // (scenario, point label) → (params, outcomes per replicate)
    let mut runs: Vec<SweepPoint> = Vec::new();
    for p in metrics {
        let Some(o) = run_outcomes(p, &[])? else {
            continue;
        };
        let key = (p.scenario.clone(), p.point.clone());
        match runs.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, v)) => v.push(o),
            None => runs.push((key, p.params.clone(), vec![o])),
        }
    }
    let outcomes = [
        (1, "Mean annual relapse rate"),
        (0, "Poverty rate at the end"),
        (2, "Ever relapsed / ever exited"),
    ];
    let mut out = Vec::new();
    for key in &keys {
        let mut panels = Vec::new();
        for (k, title) in outcomes {
            let mut series: Vec<(String, Samples)> = Vec::new();
            for ((scen, _), params, reps) in &runs {
                let Some(x) = params.iter().find(|(n, _)| n == key).map(|(_, v)| *v) else {
                    continue;
                };
                let vals: Vec<f64> = reps.iter().map(|r| r[k]).collect();
                match series.iter_mut().find(|(s, _)| s == scen) {
                    Some((_, pts)) => pts.push((x, vals)),
                    None => series.push((scen.clone(), vec![(x, vals)])),
                }
            }
            let curves = series
                .into_iter()
                .map(|(label, mut pts)| {
                    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Curve::from_samples(label, key, pts)
                })
                .collect();
            panels.push(Panel::new(title, curves));
        }
        let fig = Figure {
            title: format!("Outcomes against {key} (mean and 95% interval across replicates, western households)"),
            x: XAxis::Value(key.clone()),
            y_label: "%".into(),
            kind: Kind::Percent,
            scale: 100.0,
            panels,
            markers: vec![],
            shared_y: false,
            zero_line: false,
            style: Style::Points,
            y_fixed: None,
        };
        out.push((key.clone(), fig));
    }
    Ok(out)
}

/// The post-withdrawal summary of a comparison: per measure, A, B and B − A (paired by
/// replicate) with 95% intervals, over the assessments from the withdrawal phase on.
#[derive(Debug, Clone, PartialEq)]
pub struct PostWithdrawal {
    /// The phase and the years covered, in words.
    pub period: String,
    /// One row per measure.
    pub rows: Vec<PostRow>,
}

/// A measure's post-withdrawal values: (name, A, B, B − A paired, pairs), each value a
/// (mean, 95% half-width).
pub type PostRow = (&'static str, (f64, f64), (f64, f64), (f64, f64), usize);

/// The withdrawal phase of `cfg`: the first phase named like "withdrawal", else the first
/// later phase that stops fiscal aid.
fn withdrawal(cfg: &Config) -> Option<(&str, u32)> {
    cfg.phases
        .iter()
        .find(|p| p.name.to_lowercase().contains("withdraw"))
        .or_else(|| {
            cfg.phases
                .iter()
                .find(|p| p.start > 0 && p.scales.fiscal_aid == 0.0)
        })
        .map(|p| (p.name.as_str(), p.start))
}

/// Per-replicate post-withdrawal outcomes: mean relapse rate, cumulative relapses, mean
/// year-end poverty rate, poverty rate at the end.
fn post_outcomes(p: &Part, start: u32) -> Result<Option<[f64; 4]>, DataError> {
    let (years, last) = data::west_years(p)?;
    let after: Vec<&data::WestYear> = years.iter().filter(|y| y.tick >= start).collect();
    let Some(last) = last else {
        return Ok(None);
    };
    if after.is_empty() {
        return Ok(None);
    }
    let rel: Vec<f64> = after
        .iter()
        .map(|y| y.relapse_rate)
        .filter(|r| r.is_finite())
        .collect();
    let mean_rel = if rel.is_empty() {
        f64::NAN
    } else {
        rel.iter().sum::<f64>() / rel.len() as f64
    };
    let cum: f64 = after
        .iter()
        .map(|y| {
            if y.relapses.is_finite() {
                y.relapses
            } else {
                0.0
            }
        })
        .sum();
    let pov = after.iter().map(|y| y.poverty_rate).sum::<f64>() / after.len() as f64;
    Ok(Some([mean_rel, cum, pov, last.poverty_rate]))
}

/// Names of the post-withdrawal measures.
pub const POST_NAMES: [&str; 4] = [
    "mean annual relapse rate",
    "cumulative relapses (households)",
    "mean year-end poverty rate",
    "poverty rate at end",
];

/// The post-withdrawal summary of scenarios `a` and `b` among `metrics`, or `None` when
/// neither scenario has a withdrawal phase inside the horizon.
pub fn post_withdrawal(
    metrics: &[Part],
    a: &str,
    b: &str,
) -> Result<Option<PostWithdrawal>, DataError> {
    let cfgs = configs(metrics);
    let Some((name, start, cfg)) = [a, b].iter().find_map(|s| {
        let c = cfgs.get(*s)?;
        withdrawal(c).map(|(n, t)| (n.to_string(), t, c))
    }) else {
        return Ok(None);
    };
    let arm = |s: &str| -> Result<BTreeMap<u32, [f64; 4]>, DataError> {
        let mut out = BTreeMap::new();
        for p in metrics.iter().filter(|p| p.scenario == s) {
            if let Some(o) = post_outcomes(p, start)? {
                out.insert(p.replicate, o);
            }
        }
        Ok(out)
    };
    let (ra, rb) = (arm(a)?, arm(b)?);
    if ra.is_empty() || rb.is_empty() {
        return Ok(None);
    }
    let first = cfg.calendar.date(start).year;
    let last_tick = metrics
        .iter()
        .filter_map(|p| data::west_years(p).ok().and_then(|(_, l)| l))
        .map(|l| l.year)
        .max()
        .unwrap_or(first as i64);
    let rows = (0..4)
        .map(|k| {
            let xa: Vec<f64> = ra.values().map(|o| o[k]).collect();
            let xb: Vec<f64> = rb.values().map(|o| o[k]).collect();
            let d: Vec<f64> = ra
                .iter()
                .filter_map(|(i, oa)| rb.get(i).map(|ob| ob[k] - oa[k]))
                .collect();
            (
                POST_NAMES[k],
                mean_ci(&xa),
                mean_ci(&xb),
                mean_ci(&d),
                d.len(),
            )
        })
        .collect();
    Ok(Some(PostWithdrawal {
        period: format!(
            "from the `{name}` phase ({first}) to the end ({last_tick}): the annual assessments from {first} on"
        ),
        rows,
    }))
}

/// The figure of B − A over the years (comparison table), one panel per share measure.
pub fn difference_figure(rows: &[CmpRow], a: &str, b: &str, paired: bool, n: usize) -> Figure {
    let measures = [
        "relapse_rate",
        "relapses_per_household",
        "poverty_rate",
        "vulnerability_share",
        "transfer_income_share",
    ];
    let label = format!("B − A: {b} − {a}");
    let panels = measures
        .iter()
        .map(|m| {
            let mut c = Curve::plain(label.clone(), X_YEAR, vec![], vec![]);
            for r in rows
                .iter()
                .filter(|r| r.measure == *m && r.diff.0.is_finite())
            {
                let h = if r.diff.1.is_finite() { r.diff.1 } else { 0.0 };
                c.x.push(data::year_x(r.year));
                c.mean.push(r.diff.0);
                c.lo.push(r.diff.0 - h);
                c.hi.push(r.diff.0 + h);
                c.n.push(n);
            }
            Panel::new(metric_info(m).title, vec![c])
        })
        .collect();
    let mut fig = Figure::years(
        format!(
            "Difference B − A over time, western households, with its 95% {} interval",
            if paired { "paired" } else { "Welch" }
        ),
        "percentage points".into(),
        Kind::Percent,
        100.0,
    );
    fig.panels = panels;
    fig.zero_line = true;
    fig
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fmt_value(name: &str, m: f64, h: f64) -> String {
    if m.is_nan() {
        return "—".into();
    }
    let h = if h.is_finite() { h } else { 0.0 };
    if name.contains("rate") || name.contains("share") || name.contains('/') {
        format!("{:.2}% ± {:.2}", 100.0 * m, 100.0 * h)
    } else if m.abs() >= 1e4 || name.contains("(households)") || name.contains("yuan per") {
        format!(
            "{} ± {}",
            chart::tick_label(m, 1.0, 1.0),
            chart::tick_label(h, 1.0, 1.0)
        )
    } else {
        format!("{:.3} ± {:.3}", m, h)
    }
}

/// A chart written for the report: the PNG and its caption.
pub type Shown = (PathBuf, String);

/// Writes every standard chart of `dir` into `charts` and returns the PNG files with captions.
pub fn standard_charts(dir: &Path, charts: &Path) -> Result<Vec<Shown>, ReportError> {
    std::fs::create_dir_all(charts).map_err(|e| ReportError::Io {
        path: charts.into(),
        source: e,
    })?;
    let mut out = Vec::new();
    let metrics = data::read_table(dir, "metrics")?;
    if metrics.is_empty() {
        return Err(ReportError::Usage(format!(
            "{}: no metrics table",
            dir.display()
        )));
    }
    let marks = markers(&metrics);
    let swept = metrics.iter().any(|p| !p.point.is_empty());
    for (m, caption) in REPORT_METRICS {
        if !data::measure_names(&metrics).iter().any(|c| c == m) {
            continue;
        }
        let opts = PlotOptions::default();
        let fig = metric_figure(&metrics, m, &opts, &marks)?;
        let files = chart::figure(&charts.join(format!("{m}_by_scenario")), &fig)?;
        out.push((files[0].clone(), format!("{caption} — western households")));
        if swept {
            let opts = PlotOptions {
                by: By::Point,
                ..PlotOptions::default()
            };
            let fig = metric_figure(&metrics, m, &opts, &marks)?;
            let files = chart::figure(&charts.join(format!("{m}_by_point")), &fig)?;
            out.push((
                files[0].clone(),
                format!("{caption} — small multiples, one panel per scenario, one curve per swept value (shared y scale)"),
            ));
        }
    }
    if data::west_regions(&metrics).len() > 1 {
        for (m, caption) in [
            (
                "poverty_rate",
                "Poverty rate per western region (small multiples, shared y scale)",
            ),
            (
                "relapse_rate",
                "Return to poverty per western region (small multiples, shared y scale)",
            ),
        ] {
            let opts = PlotOptions {
                by: By::Region,
                ..PlotOptions::default()
            };
            let fig = metric_figure(&metrics, m, &opts, &marks)?;
            let files = chart::figure(&charts.join(format!("{m}_by_region")), &fig)?;
            out.push((files[0].clone(), caption.into()));
        }
    }
    let stems =
        |names: &[String]| names::file_stems(&names.iter().map(String::as_str).collect::<Vec<_>>());
    for (key, fig) in sweep_figures(&metrics)? {
        let stem = stems(std::slice::from_ref(&key)).remove(0);
        let files = chart::figure(&charts.join(format!("sweep_{stem}")), &fig)?;
        out.push((
            files[0].clone(),
            format!("Outcomes against the swept parameter {key}: mean and 95% interval across replicates per point, one series per scenario"),
        ));
    }
    let flows = data::read_table(dir, "flows")?;
    let mut series: Vec<String> = Vec::new();
    for p in &flows {
        if !series.contains(&p.label()) {
            series.push(p.label());
        }
    }
    if series.len() <= 8 {
        for (s, stem) in series.iter().zip(stems(&series)) {
            let fs = data::flow_series(&flows, s)?;
            let files = chart::flows_chart(
                &charts.join(format!("flows_{stem}")),
                &format!("Flows along pairing links: {s} (annual, summed over links)"),
                &fs,
            )?;
            out.push((
                files[0].clone(),
                format!(
                    "Capital, labour, talent and products along the links, both directions — {s}"
                ),
            ));
        }
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

pub(crate) fn figure_html(h: &mut String, png: &Path, caption: &str) -> Result<(), ReportError> {
    let bytes = std::fs::read(png).map_err(|e| ReportError::Io {
        path: png.to_path_buf(),
        source: e,
    })?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let name = png
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let _ = write!(h, "<figure><img alt=\"{}\" src=\"data:image/png;base64,{b64}\"><figcaption>{} (<code>{}</code>, SVG and CSV beside it)</figcaption></figure>", esc(caption), esc(caption), esc(&name));
    Ok(())
}

fn pct(v: (f64, f64)) -> String {
    if v.0.is_nan() {
        "—".into()
    } else {
        let h = if v.1.is_finite() { v.1 } else { 0.0 };
        format!("{:.2} ± {:.2}%", 100.0 * v.0, 100.0 * h)
    }
}

/// The compare section: B − A over time, the yearly table, the post-withdrawal summary.
fn compare_section(
    h: &mut String,
    dir: &Path,
    rdir: &Path,
    metrics: &[Part],
) -> Result<(), ReportError> {
    let Some((rows, a, b)) = data::comparison(dir)? else {
        return Ok(());
    };
    let paired = rows.iter().any(|r| r.diff_welch.is_some());
    let kind = if paired {
        "paired across replicates that share a seed (common random numbers)"
    } else {
        "Welch (unpaired)"
    };
    let n = metrics.iter().filter(|p| p.scenario == a).count();
    let _ = write!(
        h,
        "<h2>A versus B</h2><p>A = <b>{}</b>, B = <b>{}</b>, {n} replicates each. Differences are B − A with their 95% interval, {kind}.</p>",
        esc(&a),
        esc(&b)
    );
    let fig = difference_figure(&rows, &a, &b, paired, n);
    let files = chart::figure(&rdir.join("difference_b_minus_a"), &fig)?;
    figure_html(
        h,
        &files[0],
        "B − A over time with its 95% band (relapse at each annual assessment, other measures at the year end; each year drawn in its middle); the line at zero is no difference",
    )?;
    // The yearly table, as the terminal prints it.
    let _ = write!(
        h,
        "<h3>Yearly table (western households, mean ± 95% half-width)</h3><table><tr><th>year</th><th>relapse A</th><th>relapse B</th><th>B − A</th><th>poverty A</th><th>poverty B</th><th>B − A</th></tr>"
    );
    let mut years: Vec<i64> = rows.iter().map(|r| r.year).collect();
    years.dedup();
    for y in years {
        let get = |m: &str| rows.iter().find(|r| r.year == y && r.measure == m);
        if let (Some(rel), Some(pov)) = (get("relapse_rate"), get("poverty_rate")) {
            let _ = write!(
                h,
                "<tr><td>{y}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                pct(rel.a),
                pct(rel.b),
                pct(rel.diff),
                pct(pov.a),
                pct(pov.b),
                pct(pov.diff)
            );
        }
    }
    let _ = write!(h, "</table>");
    match post_withdrawal(metrics, &a, &b)? {
        Some(pw) => {
            let _ = write!(
                h,
                "<h3>After the withdrawal</h3><p>Western households, {}. B − A is paired by replicate index.</p><table><tr><th>measure</th><th>A</th><th>B</th><th>B − A</th><th>pairs</th></tr>",
                esc(&pw.period)
            );
            for (name, va, vb, d, pairs) in &pw.rows {
                let f = |v: &(f64, f64)| fmt_value(name, v.0, v.1);
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{pairs}</td></tr>",
                    esc(name),
                    f(va),
                    f(vb),
                    f(d)
                );
            }
            let _ = write!(h, "</table><p>Cumulative relapses: households (real scale) relapsing at the assessments of those years.</p>");
        }
        None => {
            let _ = write!(
                h,
                "<p>Neither scenario has a withdrawal phase within the horizon, so there is no post-withdrawal summary.</p>"
            );
        }
    }
    Ok(())
}

/// The sensitivity section of a batch analysed by `xiezuo sensitivity` (its
/// `sensitivity.parquet`): one chart per scenario and output and the indices as a table.
/// Nothing when the batch was not analysed.
fn sensitivity_section(h: &mut String, dir: &Path, rdir: &Path) -> Result<(), ReportError> {
    let Some(rows) = crate::batch::sensitivity::read(dir)
        .map_err(|e| ReportError::Usage(format!("{}: {e}", dir.display())))?
    else {
        return Ok(());
    };
    let _ = write!(
        h,
        "<h2>Sensitivity</h2><p>Global sensitivity of the batch's outputs (<code>xiezuo sensitivity</code>): Sobol first-order and total indices (share of the output's variance due to a parameter alone, and with its interactions) or Morris μ* and σ, with 95% bootstrap intervals. Replicate noise counts as variance: with few replicates, totals of noisy outputs are biased upward.</p>"
    );
    let files = crate::present::sensitivity::sensitivity_charts(&rdir.join("sensitivity"), &rows)?;
    for png in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
    {
        let caption = png
            .file_stem()
            .map(|s| s.to_string_lossy().replace('_', " "))
            .unwrap_or_default();
        figure_html(h, png, &caption)?;
    }
    let mut last: Option<&crate::batch::sensitivity::IndexRow> = None;
    for r in &rows {
        if !last.is_some_and(|l| l.same_output(r)) {
            if last.is_some() {
                let _ = write!(h, "</table>");
            }
            let _ = write!(
                h,
                "<h3>{}</h3><table><tr><th>parameter</th><th>index</th><th>estimate</th><th>95% interval</th></tr>",
                esc(&r.heading())
            );
            last = Some(r);
        }
        let iv = if r.low.is_nan() {
            "—".to_string()
        } else {
            format!("[{:.3}, {:.3}]", r.low, r.high)
        };
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{:.3}</td><td>{iv}</td></tr>",
            esc(&r.parameter),
            esc(&r.index),
            r.estimate
        );
    }
    if last.is_some() {
        let _ = write!(h, "</table>");
    }
    Ok(())
}

/// Writes `dir/report/index.html` (charts embedded) and the chart files beside it.
pub fn write_report(dir: &Path) -> Result<PathBuf, ReportError> {
    let rdir = dir.join("report");
    let layout = data::layout(dir)?;
    let charts = standard_charts(dir, &rdir)?;
    let metrics = data::read_table(dir, "metrics")?;
    let flows = data::read_table(dir, "flows")?;
    let table = key_table(&metrics, &flows)?;
    let mut h = String::new();
    let title = format!("xiezuo report: {}", dir.display());
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:0.5em 0}}td,th{{border:1px solid #bbb;padding:4px 8px;text-align:right}}th:first-child,td:first-child{{text-align:left}}img{{max-width:100%;border:1px solid #ddd}}pre{{background:#f6f6f6;padding:8px;overflow:auto;max-height:30em}}</style></head><body>",
        esc(&title)
    );
    let _ = write!(h, "<h1>{}</h1><p>Generated by xiezuo {} (commit {}). Values are means across replicates with 95% confidence-interval half-widths (Student t); western households unless stated. A value of a year (an annual assessment, a year's flow total, a yearly difference) is drawn in the middle of that year; a value of a tick at the start of its month.</p>", esc(&title), env!("CARGO_PKG_VERSION"), env!("XIEZUO_GIT_COMMIT"));
    let mut scen: Vec<&str> = Vec::new();
    for p in &metrics {
        if !scen.contains(&p.scenario.as_str()) {
            scen.push(&p.scenario);
        }
    }
    let _ = write!(
        h,
        "<h2>Scenarios</h2><ul>{}</ul>",
        scen.iter()
            .map(|s| format!("<li>{}</li>", esc(s)))
            .collect::<String>()
    );
    if layout == Layout::Batch {
        let failed = data::failed_runs(dir);
        let _ = write!(h, "<h2>Failed runs</h2>");
        if failed.is_empty() {
            let _ = write!(h, "<p>None: every run of the batch succeeded.</p>");
        } else {
            let _ = write!(
                h,
                "<p>{} run(s) failed and are left out of every table and chart (see <code>failed/</code>):</p><ul>",
                failed.len()
            );
            for (id, msg) in &failed {
                let _ = write!(h, "<li>run {id}: <code>{}</code></li>", esc(msg));
            }
            let _ = write!(h, "</ul>");
        }
    }
    let _ = write!(
        h,
        "<h2>Key results</h2><table><tr><th>scenario</th><th>replicates</th>"
    );
    for n in KEY_NAMES {
        let _ = write!(h, "<th>{}</th>", esc(n));
    }
    let _ = write!(h, "</tr>");
    for r in &table {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td>", esc(&r.label), r.n);
        for (n, m, c) in &r.values {
            let _ = write!(h, "<td>{}</td>", fmt_value(n, *m, *c));
        }
        let _ = write!(h, "</tr>");
    }
    let _ = write!(h, "</table><p>Aid per sustained exit = fiscal aid + donations + procurement over the horizon / households that exited and never relapsed (real scale). Eastern gains = profits repatriated by eastern firms. “—” = not available (e.g. flows not kept in a batch).</p>");
    if layout == Layout::Compare {
        compare_section(&mut h, dir, &rdir, &metrics)?;
    }
    let _ = write!(h, "<h2>Charts</h2>");
    for (png, caption) in &charts {
        figure_html(&mut h, png, caption)?;
    }
    sensitivity_section(&mut h, dir, &rdir)?;
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
    let path = crate::output::write_text(&rdir, "index.html", &h).map_err(|e| ReportError::Io {
        path: rdir.join("index.html"),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_tables_read_as_numbers() {
        assert_eq!(
            fmt_value("poverty rate at end", 0.1234, 0.01),
            "12.34% ± 1.00"
        );
        assert_eq!(
            fmt_value("aid yuan per sustained exit", 13_000.4, 1_200.0),
            "13,000 ± 1,200"
        );
        assert_eq!(fmt_value("x", f64::NAN, 0.0), "—");
    }
}
