//! Charts of the claims catalogue (`xiezuo claims --out`): one chart per claim, each
//! measure's effect B − A relative to A's mean with its 95% interval, with the mechanism on
//! (blue) and off (orange).

use std::path::{Path, PathBuf};

use plotters::prelude::RGBColor;

use crate::batch::claims::{ClaimResult, Comparison};
use crate::present::chart::PlotError;
use crate::present::sensitivity::{prepare, render, Chart, Points};

/// Per measure of `c`: the effect and its interval in % of A's mean (NaN where A's mean is
/// 0).
fn relative(c: &Comparison) -> Points {
    c.measures
        .iter()
        .map(|m| {
            let base = m.mean_a.abs();
            if base > 0.0 {
                let k = 100.0 / base;
                (m.diff * k, (m.diff - m.ci95) * k, (m.diff + m.ci95) * k)
            } else {
                (f64::NAN, f64::NAN, f64::NAN)
            }
        })
        .collect()
}

/// Draws one chart per claim into `dir` (`<id>.png`, `<id>.svg`); returns the files.
pub fn claims_charts(dir: &Path, results: &[ClaimResult]) -> Result<Vec<PathBuf>, PlotError> {
    prepare(dir)?;
    let mut files = Vec::new();
    for r in results {
        let mut series = vec![(
            "comparison".to_string(),
            RGBColor(0, 114, 178),
            relative(&r.full),
        )];
        let mut title = format!("{}: {}", r.id, r.full.verdict.as_str());
        if let Some(a) = &r.ablated {
            series.push((
                "mechanism off".to_string(),
                RGBColor(213, 94, 0),
                relative(a),
            ));
            title.push_str(&format!(" (mechanism off: {})", a.verdict.as_str()));
        }
        title.push_str(&format!("; by construction: {}", r.construction.0));
        let chart = Chart {
            title,
            params: r
                .full
                .measures
                .iter()
                .map(|m| {
                    let expect = if m.expect == crate::batch::claims::Expect::Lower {
                        "↓"
                    } else {
                        "↑"
                    };
                    // "measure (scope, aggregate, from–to)" → "↓ measure from–to".
                    let name = m.label.split(" (").next().unwrap_or(&m.label);
                    let window = m
                        .label
                        .rsplit(", ")
                        .next()
                        .unwrap_or("")
                        .trim_end_matches(')');
                    format!("{expect} {name} {window}")
                })
                .collect(),
            series,
            x_label: "B − A, % of A's mean, 95% interval (blue: comparison; orange: mechanism off; arrow: claimed direction)".into(),
        };
        files.extend(render(&dir.join(&r.id), &chart)?);
    }
    Ok(files)
}
