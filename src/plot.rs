//! Charts (plotters, with an embedded DejaVu Sans font so no system fonts are needed):
//! outcome curves per year with 95% confidence bands across replicates.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;

use crate::batch::{mean_ci, yearly, RunResult, YearRow, YEAR_MEASURES};
use crate::scenario::Loaded;

static FONT: Once = Once::new();
const FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register_font() {
    FONT.call_once(|| {
        // The bytes are a valid TrueType font shipped with the crate; failure would only
        // mean text is not drawn, which the caller notices in the chart.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

/// Charts drawn by `compare`: measure index in [`YEAR_MEASURES`], title, y label, scale.
const CHARTS: [(usize, &str, &str, f64); 4] = [
    (
        1,
        "Return to poverty (western households)",
        "relapses / exited households per year (%)",
        100.0,
    ),
    (
        0,
        "Poverty rate (western households)",
        "headcount ratio at year end (%)",
        100.0,
    ),
    (
        2,
        "Vulnerability (western non-poor households)",
        "share with P(poor) > threshold (%)",
        100.0,
    ),
    (
        3,
        "Mean income (western households)",
        "yuan per person per year (2020 prices)",
        1.0,
    ),
];

/// One curve: years, means and CI half-widths.
struct Curve {
    label: String,
    years: Vec<i32>,
    mean: Vec<f64>,
    half: Vec<f64>,
}

fn curve(label: &str, rows: &[Vec<YearRow>], k: usize, scale: f64) -> Curve {
    let n = rows.iter().map(|r| r.len()).min().unwrap_or(0);
    let mut c = Curve {
        label: label.to_string(),
        years: Vec::new(),
        mean: Vec::new(),
        half: Vec::new(),
    };
    for y in 0..n {
        let xs: Vec<f64> = rows.iter().map(|r| r[y].values()[k] * scale).collect();
        let (m, h) = mean_ci(&xs);
        if m.is_nan() {
            continue; // undefined that year (e.g. no exited household at risk yet)
        }
        c.years.push(rows[0][y].year);
        c.mean.push(m);
        c.half.push(if h.is_finite() { h } else { 0.0 });
    }
    c
}

fn draw(
    path: &Path,
    title: &str,
    ylabel: &str,
    curves: &[Curve],
    marks: &[(i32, String)],
) -> Result<(), String> {
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (x0, x1) = curves
        .iter()
        .flat_map(|c| c.years.iter().copied())
        .fold((i32::MAX, i32::MIN), |(a, b), y| (a.min(y), b.max(y)));
    if x0 > x1 {
        return Err("no data".into());
    }
    let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
    for c in curves {
        for (m, h) in c.mean.iter().zip(&c.half) {
            y0 = y0.min(m - h);
            y1 = y1.max(m + h);
        }
    }
    let pad = ((y1 - y0) * 0.1).max(1e-9);
    let (y0, y1) = ((y0 - pad).min(0.0_f64.max(y0 - pad)), y1 + pad);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((x0 as f64 - 0.3)..(x1 as f64 + 0.3), y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("year (value at year end; relapse over the year)")
        .y_desc(ylabel)
        .x_label_formatter(&|x| format!("{}", x.round() as i32))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    for (year, name) in marks {
        let x = *year as f64 - 0.5;
        chart
            .draw_series(LineSeries::new(
                [(x, y0), (x, y1)],
                BLACK.mix(0.4).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Text::new(
                name.clone(),
                (x + 0.05, y1 - pad * 0.5),
                ("sans-serif", 14),
            )))
            .map_err(|e| e.to_string())?;
    }
    let colours = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
    ];
    for (i, c) in curves.iter().enumerate() {
        let col = colours[i % colours.len()];
        let mut band: Vec<(f64, f64)> = c
            .years
            .iter()
            .zip(c.mean.iter().zip(&c.half))
            .map(|(&y, (m, h))| (y as f64, m + h))
            .collect();
        band.extend(
            c.years
                .iter()
                .zip(c.mean.iter().zip(&c.half))
                .rev()
                .map(|(&y, (m, h))| (y as f64, m - h)),
        );
        chart
            .draw_series(std::iter::once(Polygon::new(band, col.mix(0.2).filled())))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                c.years.iter().zip(&c.mean).map(|(&y, &m)| (y as f64, m)),
                col.stroke_width(3),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("{} (mean, 95% band)", c.label))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Draws the comparison charts into `out`; returns the files written.
pub fn compare_charts(
    out: &Path,
    a: &Loaded,
    b: &Loaded,
    ra: &[RunResult],
    rb: &[RunResult],
) -> Result<Vec<PathBuf>, (PathBuf, String)> {
    register_font();
    let ya: Vec<Vec<YearRow>> = ra.iter().map(|r| yearly(&a.config, &r.recorder)).collect();
    let yb: Vec<Vec<YearRow>> = rb.iter().map(|r| yearly(&b.config, &r.recorder)).collect();
    let marks: Vec<(i32, String)> = a
        .config
        .phases
        .iter()
        .filter(|p| p.start > 0)
        .map(|p| (a.config.calendar.date(p.start).year, p.name.clone()))
        .collect();
    let mut files = Vec::new();
    for (k, title, ylabel, scale) in CHARTS {
        let path = out.join(format!("{}.png", YEAR_MEASURES[k]));
        let curves = [
            curve(&a.config.name, &ya, k, scale),
            curve(&b.config.name, &yb, k, scale),
        ];
        draw(&path, title, ylabel, &curves, &marks).map_err(|e| (path.clone(), e))?;
        files.push(path);
    }
    Ok(files)
}
