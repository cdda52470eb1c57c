//! Charts of a sensitivity analysis (`xiezuo sensitivity`): for each scenario and output,
//! Sobol first-order and total indices per parameter with their 95% intervals, or Morris
//! μ* per parameter with its interval and σ beside it; PNG and SVG with the embedded font.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::batch::sensitivity::IndexRow;
use crate::present::chart::PlotError;
use crate::present::font;

/// One index's values per parameter: (estimate, low, high).
pub type Points = Vec<(f64, f64, f64)>;

/// One chart of estimates with intervals: rows down the side (parameters, measures), one
/// dot with its interval bar per series in each row, a line at 0 (shared by the sensitivity
/// and claims charts).
pub struct Chart {
    /// Title above the chart.
    pub title: String,
    /// Row labels, top to bottom.
    pub params: Vec<String>,
    /// (series name, colour, per row (estimate, low, high)); the axis label names the
    /// colours (no legend box over the data).
    pub series: Vec<(String, RGBColor, Points)>,
    /// Horizontal axis label.
    pub x_label: String,
}

/// Draws one chart per scenario and output of `rows` into `dir` (created if needed), named
/// `<scenario>_<measure>_<region>_<from>-<to>.png` / `.svg`; returns the files written.
pub fn sensitivity_charts(dir: &Path, rows: &[IndexRow]) -> Result<Vec<PathBuf>, PlotError> {
    prepare(dir)?;
    let mut files = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let r0 = &rows[start];
        let end = start
            + rows[start..]
                .iter()
                .take_while(|r| r0.same_output(r))
                .count();
        let group = &rows[start..end];
        start = end;
        let mut params: Vec<String> = Vec::new();
        for r in group {
            if !params.contains(&r.parameter) {
                params.push(r.parameter.clone());
            }
        }
        let (indices, x_label): (&[(&str, RGBColor)], &str) = if r0.method == "saltelli" {
            (
                    &[
                        ("first", RGBColor(0, 114, 178)),
                        ("total", RGBColor(213, 94, 0)),
                    ],
                    "Sobol index (share of the output's variance): blue first order, orange total; bars: 95% bootstrap intervals",
                )
        } else {
            (
                &[("mu_star", RGBColor(0, 114, 178)), ("sigma", RGBColor(213, 94, 0))],
                "Morris elementary effects (output units per parameter range): blue μ* with its 95% interval, orange σ",
            )
        };
        let series = indices
            .iter()
            .map(|(name, colour)| {
                let v = params
                    .iter()
                    .map(|p| {
                        group
                            .iter()
                            .find(|r| &r.parameter == p && r.index == *name)
                            .map(|r| (r.estimate, r.low, r.high))
                            .unwrap_or((f64::NAN, f64::NAN, f64::NAN))
                    })
                    .collect();
                (name.to_string(), *colour, v)
            })
            .collect();
        let chart = Chart {
            title: r0.heading(),
            params,
            series,
            x_label: x_label.to_string(),
        };
        let stem = dir.join(format!(
            "{}_{}_{}_{}-{}",
            r0.scenario, r0.measure, r0.region, r0.from, r0.to
        ));
        files.extend(render(&stem, &chart)?);
    }
    Ok(files)
}

/// Creates the chart folder `dir` and registers the embedded font.
pub fn prepare(dir: &Path) -> Result<(), PlotError> {
    std::fs::create_dir_all(dir).map_err(|e| PlotError {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    font::register();
    Ok(())
}

/// Draws `c` as `stem.png` and `stem.svg`; returns the files written.
pub fn render(stem: &Path, c: &Chart) -> Result<Vec<PathBuf>, PlotError> {
    let size = (900, 140 + 44 * c.params.len() as u32);
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| PlotError { path, message }
    };
    draw(BitMapBackend::new(&png, size).into_drawing_area(), c).map_err(fail(&png))?;
    draw(SVGBackend::new(&svg, size).into_drawing_area(), c).map_err(fail(&svg))?;
    Ok(vec![png, svg])
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    c: &Chart,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let values = c
        .series
        .iter()
        .flat_map(|(_, _, v)| v.iter().flat_map(|&(a, b, d)| [a, b, d]))
        .filter(|x| x.is_finite());
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(l, h), x| (l.min(x), h.max(x)));
    let pad = 0.05 * (hi - lo).max(1e-9);
    let n = c.params.len();
    let params = c.params.clone();
    let mut chart = ChartBuilder::on(&root)
        .caption(&c.title, ("sans-serif", 18))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(230)
        .build_cartesian_2d((lo - pad)..(hi + pad), -0.5f64..(n as f64 - 0.5))
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n.max(1))
        .y_label_formatter(&|y: &f64| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < params.len() {
                params[n - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc(c.x_label.as_str())
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, -0.5), (0.0, n as f64 - 0.5)],
            BLACK.mix(0.4),
        ))
        .map_err(e)?;
    let k = c.series.len() as f64;
    for (s, (_, colour, v)) in c.series.iter().enumerate() {
        // Parameters top to bottom in the order given; series side by side within a row.
        let offset = (s as f64 - (k - 1.0) / 2.0) * 0.22;
        let y = |i: usize| (n - 1 - i) as f64 + offset;
        let colour = *colour;
        chart
            .draw_series(
                v.iter()
                    .enumerate()
                    .filter(|(_, p)| p.1.is_finite())
                    .map(|(i, p)| {
                        PathElement::new([(p.1, y(i)), (p.2, y(i))], colour.stroke_width(2))
                    }),
            )
            .map_err(e)?;
        chart
            .draw_series(
                v.iter()
                    .enumerate()
                    .filter(|(_, p)| p.0.is_finite())
                    .map(|(i, p)| Circle::new((p.0, y(i)), 5, colour.filled())),
            )
            .map_err(e)?;
    }
    root.present().map_err(e)
}
