//! Charts (plotters, PNG and SVG, drawn with the embedded font of [`super::font`], so
//! no system fonts are needed): curves with 95% bands across replicates in one panel or in
//! small multiples (optionally on one shared y scale), outcome-versus-parameter charts,
//! flows along links and Kaplan–Meier survival. Year axes show whole years, each once;
//! large numbers read `13,000` or `1.2 bn`; the legend sits below the panels, never on the
//! data. Each chart's numbers are also written as CSV beside it, saying what x is.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::present::data::{year_x, Curve, FlowSeries, X_YEAR};
use crate::present::font;
use crate::present::names::{thousands, Kind};
use crate::stats::survival::KaplanMeier;

/// A chart that could not be drawn: the file and why.
#[derive(Debug, thiserror::Error)]
#[error("chart {path}: {message}")]
pub struct PlotError {
    /// Chart file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

const COLOURS: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 128),
    RGBColor(128, 0, 0),
    RGBColor(0, 100, 0),
    RGBColor(75, 0, 130),
    RGBColor(0, 128, 128),
    RGBColor(210, 105, 30),
    RGBColor(112, 128, 144),
    RGBColor(199, 21, 133),
    RGBColor(85, 107, 47),
    RGBColor(0, 0, 0),
];

/// A vertical marker (policy phase change or shock) at decimal year `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Decimal year.
    pub x: f64,
    /// Label.
    pub label: String,
}

/// One panel of curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Panel title.
    pub title: String,
    /// Curves.
    pub curves: Vec<Curve>,
    /// Axis label of this panel when it differs from the figure's (flows).
    pub y_label: Option<String>,
}

impl Panel {
    /// A panel with the figure's axis label.
    pub fn new(title: impl Into<String>, curves: Vec<Curve>) -> Panel {
        Panel {
            title: title.into(),
            curves,
            y_label: None,
        }
    }
}

/// The horizontal axis.
#[derive(Debug, Clone, PartialEq)]
pub enum XAxis {
    /// Calendar years (whole-year ticks).
    Years,
    /// A numeric value with this label (a swept parameter, years since exit).
    Value(String),
}

/// How curves are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Lines with a shaded 95% band.
    Bands,
    /// Points with 95% error bars, joined by thin lines.
    Points,
}

/// Everything one chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Title above the panels.
    pub title: String,
    /// Horizontal axis.
    pub x: XAxis,
    /// Vertical axis label (with unit).
    pub y_label: String,
    /// How y ticks are written.
    pub kind: Kind,
    /// Factor from stored values to the y axis (100 for percentages).
    pub scale: f64,
    /// Panels (one, or small multiples).
    pub panels: Vec<Panel>,
    /// Phase and shock markers (year axes only).
    pub markers: Vec<Marker>,
    /// Small multiples share one y scale.
    pub shared_y: bool,
    /// Draw a line at y = 0 (differences).
    pub zero_line: bool,
    /// Lines with bands, or points with error bars.
    pub style: Style,
    /// A fixed y range (axis units), e.g. 0–100% for survival.
    pub y_fixed: Option<(f64, f64)>,
}

impl Figure {
    /// A figure of curves over calendar years with bands, default options.
    pub fn years(title: String, y_label: String, kind: Kind, scale: f64) -> Figure {
        Figure {
            title,
            x: XAxis::Years,
            y_label,
            kind,
            scale,
            panels: Vec::new(),
            markers: Vec::new(),
            shared_y: false,
            zero_line: false,
            style: Style::Bands,
            y_fixed: None,
        }
    }
}

type DrawResult = Result<(), String>;

/// A linear axis whose ticks are exactly `keys` (plotters would choose its own).
struct KeyAxis {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

impl Ranged for KeyAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let r = if span == 0.0 {
            0.5
        } else {
            (v - self.lo) / span
        };
        limit.0 + ((limit.1 - limit.0) as f64 * r).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A "nice" step (1, 2, 2.5 or 5 × 10^k) for about `target` intervals over `span`.
pub fn nice_step(span: f64, target: f64) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / target;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let n = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    n * mag
}

/// Ticks at the multiples of `step` within `[lo, hi]`.
pub fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last.max(first))
        .map(|k| k as f64 * step)
        .filter(|v| *v >= lo - step * 1e-6 && *v <= hi + step * 1e-6)
        .collect()
}

/// Whole-year ticks within `[x0, x1]`, each year once: every year up to 12 years, then
/// every 2nd, 5th or 10th.
pub fn year_ticks(x0: f64, x1: f64) -> Vec<f64> {
    let span = x1 - x0;
    let step = if span <= 12.0 {
        1.0
    } else if span <= 24.0 {
        2.0
    } else if span <= 60.0 {
        5.0
    } else {
        10.0
    };
    ticks(x0.ceil(), x1.floor(), step)
}

fn decimals(step: f64) -> usize {
    let mut d = 0;
    while d < 6 {
        let s = step * 10f64.powi(d as i32);
        if (s - s.round()).abs() < 1e-6 * s.abs().max(1.0) {
            break;
        }
        d += 1;
    }
    d
}

/// A tick label: `13,000`, `1.2 bn`, `350 m`, `12.5` — for ticks `step` apart on an axis
/// whose largest absolute value is `max_abs`. Never scientific notation.
pub fn tick_label(v: f64, step: f64, max_abs: f64) -> String {
    let (div, suffix) = if max_abs >= 1e9 {
        (1e9, " bn")
    } else if max_abs >= 1e6 {
        (1e6, " m")
    } else {
        (1.0, "")
    };
    let d = decimals(step / div);
    let v = v / div;
    // Avoid "-0".
    let v = if v.abs() < 0.5 * 10f64.powi(-(d as i32)) {
        0.0
    } else {
        v
    };
    format!("{}{suffix}", thousands(&format!("{v:.d$}")))
}

/// Whether the figure's measure cannot be negative (every mean is ≥ 0 and it is not a
/// difference): its bands are then cut at zero, as the measure itself cannot go below.
fn non_negative(fig: &Figure) -> bool {
    !fig.zero_line
        && fig
            .panels
            .iter()
            .flat_map(|p| p.curves.iter().flat_map(|c| c.mean.iter()))
            .all(|m| !m.is_finite() || *m >= 0.0)
}

/// The lower band of point `i` of `c` as drawn.
fn lower(c: &Curve, i: usize, floor: bool) -> f64 {
    if floor {
        c.lo[i].max(0.0)
    } else {
        c.lo[i]
    }
}

/// The colour of each series label across all panels (first appearance order).
fn colours(fig: &Figure) -> Vec<(String, RGBColor)> {
    let mut out: Vec<(String, RGBColor)> = Vec::new();
    for p in &fig.panels {
        for c in &p.curves {
            if !out.iter().any(|(l, _)| *l == c.label) {
                let col = COLOURS[out.len() % COLOURS.len()];
                out.push((c.label.clone(), col));
            }
        }
    }
    out
}

fn colour_of(cols: &[(String, RGBColor)], label: &str) -> RGBColor {
    cols.iter()
        .find(|(l, _)| l == label)
        .map(|(_, c)| *c)
        .unwrap_or(BLACK)
}

/// The y range (axis units) of some panels' curves, padded, starting at zero for
/// non-negative measures unless that would squash the curves.
fn y_range(fig: &Figure, panels: &[&Panel]) -> Option<(f64, f64)> {
    if let Some(r) = fig.y_fixed {
        return Some(r);
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let floor = non_negative(fig);
    for p in panels {
        for c in &p.curves {
            for i in 0..c.x.len() {
                for v in [lower(c, i, floor), c.hi[i], c.mean[i]] {
                    if v.is_finite() {
                        lo = lo.min(v * fig.scale);
                        hi = hi.max(v * fig.scale);
                    }
                }
            }
        }
    }
    if !lo.is_finite() {
        return None;
    }
    if fig.zero_line {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if lo >= 0.0 && lo < 0.5 * hi {
        lo = 0.0;
    }
    if hi - lo < 1e-12 * hi.abs().max(1.0) {
        let d = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
        lo -= d;
        hi += d;
    }
    let step = nice_step(hi - lo, 5.0);
    let lo = if lo == 0.0 {
        0.0
    } else {
        (lo / step).floor() * step
    };
    let hi = (hi / step).ceil() * step;
    Some((lo, hi))
}

fn x_range(fig: &Figure) -> Option<(f64, f64)> {
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in &fig.panels {
        for c in &p.curves {
            for &x in &c.x {
                x0 = x0.min(x);
                x1 = x1.max(x);
            }
        }
    }
    if !x0.is_finite() {
        return None;
    }
    Some(match fig.x {
        XAxis::Years => {
            let (a, mut b) = (x0.floor(), x1.ceil());
            if b <= x1 + 1e-9 && b - a < 1.0 + 1e-9 {
                b = a + 1.0;
            }
            if b < x1 + 1e-9 {
                b += 1.0;
            }
            (a, b)
        }
        XAxis::Value(_) => {
            let pad = if x1 > x0 {
                (x1 - x0) * 0.05
            } else {
                x0.abs().max(1.0) * 0.1
            };
            (x0 - pad, x1 + pad)
        }
    })
}

struct Legend {
    rows: Vec<Vec<(String, RGBColor)>>,
}

const LEGEND_FONT: u32 = 14;
const LEGEND_ROW: u32 = 22;
/// Pixels above the panels for the figure's title.
const TITLE_HEIGHT: u32 = 34;

fn legend_layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    cols: &[(String, RGBColor)],
    width: u32,
) -> Legend {
    let style: TextStyle = ("sans-serif", LEGEND_FONT).into_font().into();
    let mut rows: Vec<Vec<(String, RGBColor)>> = vec![vec![]];
    let mut used = 20u32;
    for (label, col) in cols {
        let w = root
            .estimate_text_size(label, &style)
            .map(|(w, _)| w)
            .unwrap_or(8 * label.chars().count() as u32)
            + 46;
        if used + w > width.saturating_sub(20) && !rows.last().is_some_and(|r| r.is_empty()) {
            rows.push(vec![]);
            used = 20;
        }
        if let Some(r) = rows.last_mut() {
            r.push((label.clone(), *col));
        }
        used += w;
    }
    rows.retain(|r| !r.is_empty());
    Legend { rows }
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, legend: &Legend) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let style: TextStyle = ("sans-serif", LEGEND_FONT).into_font().into();
    for (r, row) in legend.rows.iter().enumerate() {
        let y = 6 + r as i32 * LEGEND_ROW as i32 + LEGEND_ROW as i32 / 2;
        let mut x = 20i32;
        for (label, col) in row {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 26, y)],
                col.stroke_width(3),
            ))
            .map_err(err)?;
            area.draw(&Text::new(
                label.clone(),
                (x + 32, y - LEGEND_FONT as i32 / 2 - 1),
                style.clone(),
            ))
            .map_err(err)?;
            let w = area
                .estimate_text_size(label, &style)
                .map(|(w, _)| w)
                .unwrap_or(8 * label.chars().count() as u32);
            x += w as i32 + 46;
        }
    }
    Ok(())
}

fn grid(n: usize) -> (usize, usize) {
    if n == 3 {
        return (1, 3);
    }
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    (n.div_ceil(cols).max(1), cols)
}

/// Pixel size of a figure's panels (without title and legend).
fn panels_size(fig: &Figure) -> (u32, u32) {
    let (rows, cols) = grid(fig.panels.len());
    if fig.panels.len() <= 1 {
        (960, 520)
    } else {
        ((480 * cols as u32).max(960), 330 * rows as u32)
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    panel: &Panel,
    xr: (f64, f64),
    yr: Option<(f64, f64)>,
    cols: &[(String, RGBColor)],
    first_col: bool,
    bottom_row: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let Some((lo, hi)) = yr else {
        area.titled(&format!("{} (no data)", panel.title), ("sans-serif", 16))
            .map_err(err)?;
        return Ok(());
    };
    let small = fig.panels.len() > 1;
    let step = nice_step(hi - lo, if small { 4.0 } else { 6.0 });
    let yticks = ticks(lo, hi, step);
    let ymax = lo.abs().max(hi.abs());
    // Headroom for the marker labels, above the last tick.
    let markers: Vec<&Marker> = fig
        .markers
        .iter()
        .filter(|m| fig.x == XAxis::Years && m.x >= xr.0 && m.x <= xr.1)
        .collect();
    let top = if markers.is_empty() {
        hi
    } else {
        hi + (hi - lo) * 0.16
    };
    let (x0, x1) = xr;
    let xticks = match &fig.x {
        XAxis::Years => year_ticks(x0, x1),
        XAxis::Value(_) => ticks(x0, x1, nice_step(x1 - x0, 5.0)),
    };
    let xstep = match &fig.x {
        XAxis::Years => 1.0,
        XAxis::Value(_) => nice_step(x1 - x0, 5.0),
    };
    let xmax = x0.abs().max(x1.abs());
    let years = fig.x == XAxis::Years;
    let y_label = panel.y_label.clone().unwrap_or_else(|| fig.y_label.clone());
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", if small { 16 } else { 18 }))
        .margin(10)
        .x_label_area_size(if bottom_row || !small { 44 } else { 28 })
        .y_label_area_size(if first_col || panel.y_label.is_some() || !small {
            84
        } else {
            62
        })
        .build_cartesian_2d(
            KeyAxis {
                lo: x0,
                hi: x1,
                keys: xticks,
            },
            KeyAxis {
                lo,
                hi: top,
                keys: yticks,
            },
        )
        .map_err(err)?;
    let x_desc = match &fig.x {
        XAxis::Years => "year".to_string(),
        XAxis::Value(l) => l.clone(),
    };
    let xfmt = move |x: &f64| {
        if years {
            format!("{:.0}", x)
        } else {
            tick_label(*x, xstep, xmax)
        }
    };
    let yfmt = move |y: &f64| tick_label(*y, step, ymax);
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08));
    if bottom_row || !small {
        mesh.x_desc(x_desc);
    }
    if first_col || panel.y_label.is_some() || !small {
        mesh.y_desc(y_label);
    }
    mesh.draw().map_err(err)?;
    if fig.zero_line && lo < 0.0 && top > 0.0 {
        chart
            .draw_series(LineSeries::new(
                [(x0, 0.0), (x1, 0.0)],
                BLACK.mix(0.6).stroke_width(1),
            ))
            .map_err(err)?;
    }
    for (k, m) in markers.iter().enumerate() {
        chart
            .draw_series(DashedLineSeries::new(
                [(m.x, lo), (m.x, top)],
                4,
                3,
                BLACK.mix(0.45).stroke_width(1),
            ))
            .map_err(err)?;
        // Labels in the headroom, on two alternating rows so neighbours do not overlap.
        let row = if k % 2 == 0 { 0.97 } else { 0.90 };
        chart
            .draw_series(std::iter::once(Text::new(
                format!(" {}", m.label),
                (m.x, lo + (top - lo) * row),
                ("sans-serif", 12).into_font().color(&BLACK.mix(0.75)),
            )))
            .map_err(err)?;
    }
    let s = fig.scale;
    let floor = non_negative(fig);
    for c in &panel.curves {
        let col = colour_of(cols, &c.label);
        match fig.style {
            Style::Bands => {
                if c.lo.iter().zip(&c.hi).any(|(l, h)| h > l) {
                    let mut band: Vec<(f64, f64)> =
                        c.x.iter().zip(&c.hi).map(|(&x, &h)| (x, h * s)).collect();
                    band.extend(
                        (0..c.x.len())
                            .rev()
                            .map(|i| (c.x[i], lower(c, i, floor) * s)),
                    );
                    chart
                        .draw_series(std::iter::once(Polygon::new(band, col.mix(0.18).filled())))
                        .map_err(err)?;
                }
                chart
                    .draw_series(LineSeries::new(
                        c.x.iter().zip(&c.mean).map(|(&x, &m)| (x, m * s)),
                        col.stroke_width(2),
                    ))
                    .map_err(err)?;
                if c.x.len() <= 40 && c.x_is == X_YEAR {
                    chart
                        .draw_series(
                            c.x.iter()
                                .zip(&c.mean)
                                .map(|(&x, &m)| Circle::new((x, m * s), 3, col.filled())),
                        )
                        .map_err(err)?;
                }
            }
            Style::Points => {
                chart
                    .draw_series(LineSeries::new(
                        c.x.iter().zip(&c.mean).map(|(&x, &m)| (x, m * s)),
                        col.mix(0.5).stroke_width(1),
                    ))
                    .map_err(err)?;
                for i in 0..c.x.len() {
                    chart
                        .draw_series(LineSeries::new(
                            [(c.x[i], lower(c, i, floor) * s), (c.x[i], c.hi[i] * s)],
                            col.stroke_width(2),
                        ))
                        .map_err(err)?;
                }
                chart
                    .draw_series(
                        c.x.iter()
                            .zip(&c.mean)
                            .map(|(&x, &m)| Circle::new((x, m * s), 4, col.filled())),
                    )
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
    legend: &Legend,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let cols = colours(fig);
    let root = root.titled(&fig.title, ("sans-serif", 20)).map_err(err)?;
    let (_, h) = root.dim_in_pixel();
    let (body, foot) = root.split_vertically(h.saturating_sub(legend_rows_height(legend)).max(100));
    draw_legend(&foot, legend)?;
    let (rows, ncols) = grid(fig.panels.len());
    let areas = body.split_evenly((rows, ncols));
    let Some(xr) = x_range(fig) else {
        body.titled("(no data)", ("sans-serif", 16)).map_err(err)?;
        return Ok(());
    };
    let all: Vec<&Panel> = fig.panels.iter().collect();
    let shared = y_range(fig, &all);
    for (i, p) in fig.panels.iter().enumerate() {
        let yr = if fig.shared_y || fig.panels.len() == 1 {
            shared
        } else {
            y_range(fig, &[p])
        };
        let yr = if p.curves.is_empty() { None } else { yr };
        draw_panel(
            &areas[i],
            fig,
            p,
            xr,
            yr,
            &cols,
            i % ncols == 0,
            i / ncols == rows - 1 || i + ncols >= fig.panels.len(),
        )?;
    }
    Ok(())
}

/// Warns (stderr) about every name in `fig` with a character the font lacks.
fn check_glyphs(fig: &Figure) {
    font::warn_missing("chart title", &fig.title);
    for p in &fig.panels {
        font::warn_missing("panel title", &p.title);
        for c in &p.curves {
            font::warn_missing("series name", &c.label);
        }
    }
    for m in &fig.markers {
        font::warn_missing("marker", &m.label);
    }
}

/// Draws `fig` as `stem.png` and `stem.svg`.
pub fn render(stem: &Path, fig: &Figure) -> Result<Vec<PathBuf>, PlotError> {
    font::register();
    check_glyphs(fig);
    let (w, h) = panels_size(fig);
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let cols = colours(fig);
    let legend = {
        let mut buf = vec![0u8; w as usize * 3];
        let probe = BitMapBackend::with_buffer(&mut buf, (w, 1)).into_drawing_area();
        legend_layout(&probe, &cols, w)
    };
    let size = (w, h + legend_rows_height(&legend) + TITLE_HEIGHT);
    let draw = |root: DrawingArea<_, Shift>| -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        draw_figure(&root, fig, &legend)?;
        root.present().map_err(err)
    };
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |message| PlotError { path, message }
    };
    draw(BitMapBackend::new(&png, size).into_drawing_area()).map_err(fail(&png))?;
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(err)
            .and_then(|_| draw_figure(&root, fig, &legend))
            .and_then(|_| root.present().map_err(err))
            .map_err(fail(&svg))?;
    }
    Ok(vec![png, svg])
}

fn legend_rows_height(legend: &Legend) -> u32 {
    if legend.rows.is_empty() {
        0
    } else {
        legend.rows.len() as u32 * LEGEND_ROW + 14
    }
}

fn write_csv(stem: &Path, text: &str) -> Result<PathBuf, PlotError> {
    let path = stem.with_extension("csv");
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    crate::output::write_text(dir, &name, text).map_err(|e| PlotError {
        path: path.clone(),
        message: e.to_string(),
    })
}

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The CSV of a figure's curves (values in stored units, not scaled): for year axes
/// `panel,series,year,x,x_is,mean,lower,upper,n`, otherwise `panel,series,x,x_is,…`.
pub fn figure_csv(fig: &Figure) -> String {
    let years = fig.x == XAxis::Years;
    let mut csv = if years {
        String::from("panel,series,year,x,x_is,mean,lower,upper,n\n")
    } else {
        String::from("panel,series,x,x_is,mean,lower,upper,n\n")
    };
    for p in &fig.panels {
        for c in &p.curves {
            for i in 0..c.x.len() {
                let _ = write!(csv, "{},{},", q(&p.title), q(&c.label));
                if years {
                    let _ = write!(csv, "{},", c.x[i].floor() as i64);
                }
                let _ = writeln!(
                    csv,
                    "{},{},{},{},{},{}",
                    c.x[i],
                    q(&c.x_is),
                    c.mean[i],
                    c.lo[i],
                    c.hi[i],
                    c.n[i]
                );
            }
        }
    }
    csv
}

/// Draws `fig` (PNG, SVG) and writes its numbers as `stem.csv`.
pub fn figure(stem: &Path, fig: &Figure) -> Result<Vec<PathBuf>, PlotError> {
    let mut files = render(stem, fig)?;
    files.push(write_csv(stem, &figure_csv(fig))?);
    Ok(files)
}

/// Kaplan–Meier curves (one per scenario) with Greenwood 95% bands.
pub fn survival_chart(
    stem: &Path,
    kms: &[(String, KaplanMeier)],
) -> Result<Vec<PathBuf>, PlotError> {
    let curves = kms
        .iter()
        .map(|(label, km)| {
            // Step function: repeat each survival level until the next event time.
            let mut c = Curve::plain(
                format!("{label} (n = {})", km.at_risk.first().copied().unwrap_or(0)),
                "years since first exit",
                vec![],
                vec![],
            );
            for i in 0..km.time.len() {
                let mut push = |x: f64, j: usize| {
                    c.x.push(x);
                    c.mean.push(km.survival[j]);
                    c.lo.push(km.lower[j]);
                    c.hi.push(km.upper[j]);
                    c.n.push(km.at_risk[j]);
                };
                if i > 0 {
                    push(km.time[i], i - 1);
                }
                push(km.time[i], i);
            }
            c
        })
        .collect();
    let fig = Figure {
        title: "Time from poverty exit to relapse (Kaplan–Meier, 95% Greenwood band)".into(),
        x: XAxis::Value("years since first exit from poverty".into()),
        y_label: "% of exited households not yet relapsed".into(),
        kind: Kind::Percent,
        scale: 100.0,
        panels: vec![Panel::new("", curves)],
        markers: vec![],
        shared_y: false,
        zero_line: false,
        style: Style::Bands,
        y_fixed: Some((0.0, 100.0)),
    };
    let mut files = render(stem, &fig)?;
    let mut csv = String::from("scenario,years_since_exit,survival,lower,upper,at_risk,hazard\n");
    for (label, km) in kms {
        for i in 0..km.time.len() {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{}",
                q(label),
                km.time[i],
                km.survival[i],
                km.lower[i],
                km.upper[i],
                km.at_risk[i],
                km.hazard[i]
            );
        }
    }
    files.push(write_csv(stem, &csv)?);
    Ok(files)
}

/// Flows along links: one panel per flow kind (capital, labour, talent, products), one line
/// per channel and direction (summed over links); annual totals, stocks at the year end,
/// each drawn in the middle of its year.
pub fn flows_chart(
    stem: &Path,
    title: &str,
    flows: &FlowSeries,
) -> Result<Vec<PathBuf>, PlotError> {
    let kinds = [
        ("capital", "Capital", "yuan per year"),
        ("labour", "Labour", "workers per year (stock: year end)"),
        ("talent", "Talent", "person-months per year"),
        ("products", "Products", "yuan per year"),
    ];
    let mut panels = Vec::new();
    for (kind, name, unit) in kinds {
        let mut by_channel: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
        for ((_, channel, flow, dir, _), years) in flows {
            if flow != kind {
                continue;
            }
            let arrow = if dir == "east_to_west" {
                "east → west"
            } else {
                "west → east"
            };
            let e = by_channel
                .entry(format!("{} ({arrow})", channel.replace('_', " ")))
                .or_default();
            for (y, a) in years {
                *e.entry(*y).or_insert(0.0) += a;
            }
        }
        let curves = by_channel
            .into_iter()
            .filter(|(_, ys)| ys.values().any(|v| *v != 0.0))
            .map(|(label, ys)| {
                Curve::plain(
                    label,
                    X_YEAR,
                    ys.keys().map(|y| year_x(*y)).collect(),
                    ys.values().copied().collect(),
                )
            })
            .collect();
        panels.push(Panel {
            title: name.to_string(),
            curves,
            y_label: Some(unit.to_string()),
        });
    }
    let fig = Figure {
        title: title.to_string(),
        panels,
        ..Figure::years(String::new(), String::new(), Kind::Money, 1.0)
    };
    let mut files = render(stem, &fig)?;
    let mut csv = String::from("link,channel,flow,direction,unit,year,x,x_is,amount\n");
    for ((link, ch, flow, dir, unit), ys) in flows {
        for (y, a) in ys {
            let _ = writeln!(
                csv,
                "{},{ch},{flow},{dir},{unit},{y},{},{},{a}",
                q(link),
                year_x(*y),
                q(X_YEAR)
            );
        }
    }
    files.push(write_csv(stem, &csv)?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_plain_numbers_with_separators_or_units() {
        assert_eq!(tick_label(13_000.0, 1_000.0, 20_000.0), "13,000");
        assert_eq!(tick_label(12_500.0, 2_500.0, 20_000.0), "12,500");
        assert_eq!(tick_label(1.2e9, 2e8, 2e9), "1.2 bn");
        assert_eq!(tick_label(1.0e9, 5e8, 2e9), "1.0 bn");
        assert_eq!(tick_label(3.5e8, 5e7, 4e8), "350 m");
        assert_eq!(tick_label(12.5, 2.5, 20.0), "12.5");
        assert_eq!(tick_label(-0.0000001, 0.5, 2.0), "0.0");
        assert_eq!(tick_label(-1_234_000.0, 1e5, 2e6), "-1.2 m");
        for v in [1.3e4, 2.0e5, 7.5e9, 0.001] {
            let s = tick_label(v, v / 4.0, v);
            assert!(!s.contains('e'), "{s}");
        }
    }

    #[test]
    fn year_ticks_are_whole_and_unrepeated() {
        assert_eq!(year_ticks(2016.0, 2018.0), vec![2016.0, 2017.0, 2018.0]);
        assert_eq!(year_ticks(2016.0, 2017.0), vec![2016.0, 2017.0]);
        let long = year_ticks(2016.0, 2046.0);
        assert!(long.len() <= 16 && long.iter().all(|y| y.fract() == 0.0));
        let labels: Vec<String> = year_ticks(2016.0, 2019.0)
            .iter()
            .map(|y| format!("{y:.0}"))
            .collect();
        let mut dedup = labels.clone();
        dedup.dedup();
        assert_eq!(labels, dedup);
    }

    #[test]
    fn small_multiples_share_one_y_scale_unless_asked_not_to() {
        let panel = |v: f64| {
            Panel::new(
                "p",
                vec![Curve::plain(
                    "a".into(),
                    X_YEAR,
                    vec![2016.5, 2017.5],
                    vec![v, 2.0 * v],
                )],
            )
        };
        let mut fig = Figure::years("t".into(), "%".into(), Kind::Percent, 100.0);
        fig.panels = vec![panel(0.01), panel(0.4)];
        fig.shared_y = true;
        let all: Vec<&Panel> = fig.panels.iter().collect();
        let shared = y_range(&fig, &all).unwrap();
        assert_eq!(shared, (0.0, 80.0));
        let small = y_range(&fig, &[&fig.panels[0]]).unwrap();
        assert!(small.1 <= 2.0, "{small:?}");
        // Bands of a measure that cannot be negative stop at zero.
        let mut c = Curve::plain("a".into(), X_YEAR, vec![2016.5], vec![0.01]);
        c.lo = vec![-0.05];
        fig.panels = vec![Panel::new("p", vec![c])];
        let all: Vec<&Panel> = fig.panels.iter().collect();
        assert_eq!(y_range(&fig, &all).unwrap().0, 0.0);
    }

    #[test]
    fn a_short_run_gets_a_year_axis_of_whole_years() {
        let mut fig = Figure::years("t".into(), "%".into(), Kind::Percent, 100.0);
        fig.panels.push(Panel::new(
            "p",
            vec![Curve::plain(
                "a".into(),
                X_YEAR,
                vec![2016.5, 2017.5],
                vec![0.1, 0.2],
            )],
        ));
        let (x0, x1) = x_range(&fig).unwrap();
        assert_eq!((x0, x1), (2016.0, 2018.0));
        assert_eq!(year_ticks(x0, x1), vec![2016.0, 2017.0, 2018.0]);
    }
}
