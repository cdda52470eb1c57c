//! Charts (plotters, PNG and SVG, with an embedded DejaVu Sans font so that no system fonts
//! are needed): outcome curves with 95% bands across replicates (one panel, or small
//! multiples per region), flows along links, and Kaplan–Meier survival of exits.
//! Each chart's numbers are also written as CSV beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::present::data::{Curve, FlowSeries};
use crate::stats::survival::KaplanMeier;

static FONT: Once = Once::new();
const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() {
    FONT.call_once(|| {
        // The bytes are a valid TrueType font shipped with the crate.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

/// A chart that could not be drawn: the file and why.
#[derive(Debug, thiserror::Error)]
#[error("chart {path}: {message}")]
pub struct PlotError {
    /// Chart file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

const COLOURS: [RGBColor; 10] = [
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
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn draw_curves<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    ylabel: &str,
    scale: f64,
    markers: &[Marker],
    legend: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for c in &panel.curves {
        for i in 0..c.x.len() {
            x0 = x0.min(c.x[i]);
            x1 = x1.max(c.x[i]);
            y0 = y0.min(c.lo[i] * scale);
            y1 = y1.max(c.hi[i] * scale);
        }
    }
    if !x0.is_finite() {
        area.titled(&format!("{} (no data)", panel.title), ("sans-serif", 16))
            .map_err(err)?;
        return Ok(());
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    // Start the axis at zero for non-negative measures unless that would squash the curves.
    let pad = ((y1 - y0) * 0.08).max(1e-9 * y1.abs().max(1.0));
    let lo = if y0 >= 0.0 && y0 < 0.5 * y1 {
        0.0
    } else {
        y0 - pad
    };
    let hi = y1 + pad * 2.5;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1 + (x1 - x0) * 0.02, lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("year")
        .y_desc(ylabel)
        .x_label_formatter(&|x| format!("{:.0}", x))
        .y_label_formatter(&|y| {
            if y.abs() >= 1e4 {
                format!("{:.3e}", y)
            } else {
                format!("{:.1}", y)
            }
        })
        .label_style(("sans-serif", 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    for m in markers.iter().filter(|m| m.x >= x0 && m.x <= x1) {
        chart
            .draw_series(LineSeries::new(
                [(m.x, lo), (m.x, hi)],
                BLACK.mix(0.45).stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                m.label.clone(),
                (m.x, hi - pad * 0.3),
                ("sans-serif", 12).into_font().color(&BLACK.mix(0.7)),
            )))
            .map_err(err)?;
    }
    for (i, c) in panel.curves.iter().enumerate() {
        let col = COLOURS[i % COLOURS.len()];
        let mut band: Vec<(f64, f64)> =
            c.x.iter()
                .zip(&c.hi)
                .map(|(&x, &h)| (x, h * scale))
                .collect();
        band.extend(c.x.iter().zip(&c.lo).rev().map(|(&x, &l)| (x, l * scale)));
        chart
            .draw_series(std::iter::once(Polygon::new(band, col.mix(0.18).filled())))
            .map_err(err)?;
        let s = chart
            .draw_series(LineSeries::new(
                c.x.iter().zip(&c.mean).map(|(&x, &m)| (x, m * scale)),
                col.stroke_width(2),
            ))
            .map_err(err)?;
        if legend {
            s.label(c.label.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(3))
            });
        }
    }
    if legend && !panel.curves.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.5))
            .label_font(("sans-serif", 13))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

fn grid(n: usize) -> (usize, usize) {
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    (n.div_ceil(cols).max(1), cols)
}

/// Draws outcome curves: one panel, or small multiples (one panel per entry of `panels`),
/// each curve with its 95% band; writes `stem.png`, `stem.svg` and `stem.csv`.
pub fn curves_chart(
    stem: &Path,
    title: &str,
    ylabel: &str,
    scale: f64,
    panels: &[Panel],
    markers: &[Marker],
) -> Result<Vec<PathBuf>, PlotError> {
    let (rows, cols) = grid(panels.len());
    let size = (
        if cols == 1 { 960 } else { 520 * cols as u32 },
        if rows == 1 {
            560
        } else {
            360 * rows as u32 + 40
        },
    );
    let mut files = render_both(
        stem,
        size,
        &Spec::Curves {
            title,
            ylabel,
            scale,
            panels,
            markers,
            rows,
            cols,
        },
    )?;
    let mut csv = String::from("panel,label,x,mean,lower,upper\n");
    for p in panels {
        for c in &p.curves {
            for i in 0..c.x.len() {
                let _ = writeln!(
                    csv,
                    "{:?},{:?},{},{},{},{}",
                    p.title, c.label, c.x[i], c.mean[i], c.lo[i], c.hi[i]
                );
            }
        }
    }
    let path = stem.with_extension("csv");
    std::fs::write(&path, csv).map_err(|e| PlotError {
        path: path.clone(),
        message: e.to_string(),
    })?;
    files.push(path);
    Ok(files)
}

#[allow(clippy::too_many_arguments)]
fn draw_all<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    ylabel: &str,
    scale: f64,
    panels: &[Panel],
    markers: &[Marker],
    rows: usize,
    cols: usize,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let root = root.titled(title, ("sans-serif", 22)).map_err(err)?;
    let areas = root.split_evenly((rows, cols));
    for (i, p) in panels.iter().enumerate() {
        draw_curves(
            &areas[i],
            p,
            ylabel,
            scale,
            markers,
            i == 0 || panels.len() <= 4,
        )?;
    }
    Ok(())
}

/// What to draw (one spec, rendered once per backend).
enum Spec<'a> {
    Curves {
        title: &'a str,
        ylabel: &'a str,
        scale: f64,
        panels: &'a [Panel],
        markers: &'a [Marker],
        rows: usize,
        cols: usize,
    },
    Km(&'a Panel),
}

fn draw_spec<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, spec: &Spec<'_>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    match spec {
        Spec::Curves {
            title,
            ylabel,
            scale,
            panels,
            markers,
            rows,
            cols,
        } => draw_all(root, title, ylabel, *scale, panels, markers, *rows, *cols),
        Spec::Km(p) => draw_km(root, p),
    }
}

/// Draws `spec` on a fresh white drawing area and presents it.
fn draw_into<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, spec: &Spec<'_>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    draw_spec(&root, spec)?;
    root.present().map_err(err)
}

/// Renders `spec` as `stem.png` and `stem.svg`.
fn render_both(stem: &Path, size: (u32, u32), spec: &Spec<'_>) -> Result<Vec<PathBuf>, PlotError> {
    register_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    draw_into(BitMapBackend::new(&png, size).into_drawing_area(), spec).map_err(|message| {
        PlotError {
            path: png.clone(),
            message,
        }
    })?;
    draw_into(SVGBackend::new(&svg, size).into_drawing_area(), spec).map_err(|message| {
        PlotError {
            path: svg.clone(),
            message,
        }
    })?;
    Ok(vec![png, svg])
}

/// Kaplan–Meier curves (one per scenario) with Greenwood 95% bands.
pub fn survival_chart(
    stem: &Path,
    kms: &[(String, KaplanMeier)],
) -> Result<Vec<PathBuf>, PlotError> {
    let panel = Panel {
        title: "Time from poverty exit to relapse (Kaplan–Meier, 95% Greenwood band)".into(),
        curves: kms
            .iter()
            .map(|(label, km)| {
                // Step function: repeat each survival level until the next event time.
                let mut c = Curve {
                    label: format!("{label} (n = {})", km.at_risk[0]),
                    x: vec![],
                    mean: vec![],
                    lo: vec![],
                    hi: vec![],
                };
                for i in 0..km.time.len() {
                    if i > 0 {
                        c.x.push(km.time[i]);
                        c.mean.push(km.survival[i - 1]);
                        c.lo.push(km.lower[i - 1]);
                        c.hi.push(km.upper[i - 1]);
                    }
                    c.x.push(km.time[i]);
                    c.mean.push(km.survival[i]);
                    c.lo.push(km.lower[i]);
                    c.hi.push(km.upper[i]);
                }
                c
            })
            .collect(),
    };
    let files = render_both(stem, (960, 560), &Spec::Km(&panel))?;
    let mut csv = String::from("scenario,years_since_exit,survival,lower,upper,at_risk,hazard\n");
    for (label, km) in kms {
        for i in 0..km.time.len() {
            let _ = writeln!(
                csv,
                "{label:?},{},{},{},{},{},{}",
                km.time[i], km.survival[i], km.lower[i], km.upper[i], km.at_risk[i], km.hazard[i]
            );
        }
    }
    let path = stem.with_extension("csv");
    std::fs::write(&path, csv).map_err(|e| PlotError {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let mut files = files;
    files.push(path);
    Ok(files)
}

fn draw_km<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, panel: &Panel) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let x1 = panel
        .curves
        .iter()
        .flat_map(|c| c.x.iter().copied())
        .fold(1.0f64, f64::max);
    let mut chart = ChartBuilder::on(root)
        .caption(&panel.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x1 * 1.02, 0.0..1.05)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("years since first exit from poverty")
        .y_desc("share not yet relapsed")
        .label_style(("sans-serif", 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    for (i, c) in panel.curves.iter().enumerate() {
        let col = COLOURS[i % COLOURS.len()];
        let mut band: Vec<(f64, f64)> = c.x.iter().zip(&c.hi).map(|(&x, &h)| (x, h)).collect();
        band.extend(c.x.iter().zip(&c.lo).rev().map(|(&x, &l)| (x, l)));
        chart
            .draw_series(std::iter::once(Polygon::new(band, col.mix(0.18).filled())))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                c.x.iter().zip(&c.mean).map(|(&x, &m)| (x, m)),
                col.stroke_width(2),
            ))
            .map_err(err)?
            .label(c.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::LowerLeft)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Flows along links: one panel per flow kind (capital, labour, talent, products), one line
/// per channel and direction (summed over links), annual totals (stocks: annual means).
pub fn flows_chart(
    stem: &Path,
    title: &str,
    flows: &FlowSeries,
) -> Result<Vec<PathBuf>, PlotError> {
    let kinds = [
        ("capital", "yuan per year"),
        ("labour", "workers per year (stock: mean)"),
        ("talent", "person-months per year"),
        ("products", "yuan per year"),
    ];
    let mut panels = Vec::new();
    for (kind, _) in kinds {
        let mut by_channel: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<i64, f64>,
        > = Default::default();
        for ((_, channel, flow, dir, _), years) in flows {
            if flow != kind {
                continue;
            }
            let arrow = if dir == "east_to_west" {
                "E→W"
            } else {
                "W→E"
            };
            let e = by_channel
                .entry(format!("{channel} ({arrow})"))
                .or_default();
            for (y, a) in years {
                *e.entry(*y).or_insert(0.0) += a;
            }
        }
        let curves = by_channel
            .into_iter()
            .filter(|(_, ys)| ys.values().any(|v| *v != 0.0))
            .map(|(label, ys)| {
                let x: Vec<f64> = ys.keys().map(|y| *y as f64).collect();
                let m: Vec<f64> = ys.values().copied().collect();
                Curve {
                    label,
                    x,
                    lo: m.clone(),
                    hi: m.clone(),
                    mean: m,
                }
            })
            .collect();
        panels.push(Panel {
            title: format!(
                "{kind} ({})",
                kinds
                    .iter()
                    .find(|k| k.0 == kind)
                    .map(|k| k.1)
                    .unwrap_or("")
            ),
            curves,
        });
    }
    let (rows, cols) = (2, 2);
    let files = render_both(
        stem,
        (1300, 900),
        &Spec::Curves {
            title,
            ylabel: "",
            scale: 1.0,
            panels: &panels,
            markers: &[],
            rows,
            cols,
        },
    )?;
    let mut csv = String::from("link,channel,flow,direction,unit,year,amount\n");
    for ((link, ch, flow, dir, unit), ys) in flows {
        for (y, a) in ys {
            let _ = writeln!(csv, "{link:?},{ch},{flow},{dir},{unit},{y},{a}");
        }
    }
    let path = stem.with_extension("csv");
    std::fs::write(&path, csv).map_err(|e| PlotError {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let mut files = files;
    files.push(path);
    Ok(files)
}
