//! Charts and the HTML page of the claims catalogue (`xiezuo claims --out`): one chart per
//! claim, each measure's effect B − A relative to A's mean with its 95% interval, with the
//! mechanism on (blue) and off (orange); `claims.html` shows each verdict beside its
//! by-construction label, with the measures, ablation, robustness and decomposition.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::RGBColor;

use crate::batch::claims::{
    share_text, Claim, ClaimResult, Comparison, Expect, Robustness, Verdict, ALPHA,
};
use crate::present::chart::PlotError;
use crate::present::report::{esc, figure_html, ReportError};
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

/// CSS class of a verdict (colours the cell).
fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Supported => "sup",
        Verdict::Contradicted => "con",
        Verdict::Inconclusive => "inc",
    }
}

/// One comparison's measures as an HTML table.
fn measures_table(h: &mut String, name: &str, c: &Comparison) {
    let _ = write!(
        h,
        "<p>{} <span class=\"{}\">{}</span></p><table><tr><th>measure</th><th>expect B − A</th><th>A</th><th>B</th><th>B − A</th><th>95% CI</th><th>p (Holm)</th><th>verdict</th></tr>",
        esc(name),
        class(c.verdict),
        c.verdict.as_str()
    );
    for m in &c.measures {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.5}</td><td>{:.5}</td><td>{:+.5}</td><td>± {:.5}</td><td>{:.3}</td><td class=\"{}\">{}</td></tr>",
            esc(&m.label),
            if m.expect == Expect::Lower { "&lt; 0" } else { "&gt; 0" },
            m.mean_a,
            m.mean_b,
            m.diff,
            m.ci95,
            m.p_holm,
            class(m.verdict),
            m.verdict.as_str()
        );
    }
    let _ = write!(h, "</table>");
}

/// One robustness check: its share and the parameters' rank correlations.
fn robustness_html(h: &mut String, title: &str, points: &str, rb: &Robustness) {
    let [before, share, after] = rb.lead(title, points);
    let [k, range, rho] = Robustness::HEADER.map(esc);
    let _ = write!(
        h,
        "<p>{}<b>{}</b>{}</p><table><tr><th>{k}</th><th>{range}</th><th>{rho}</th></tr>",
        esc(&before),
        esc(&share),
        esc(&after)
    );
    for [k, range, rho] in rb.rows() {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&k),
            esc(&range),
            esc(&rho)
        );
    }
    let _ = write!(h, "</table>");
}

/// Writes `dir/claims.html`: a self-contained page (charts embedded from `dir/charts`, which
/// [`claims_charts`] must have drawn) with a summary table, where each verdict stands beside
/// the claim's by-construction label and its ablation, then one section per claim.
/// `claims` supplies the source papers and files; `command` is the command line shown.
pub fn claims_html(
    dir: &Path,
    claims: &[&Claim],
    results: &[ClaimResult],
    command: &str,
) -> Result<PathBuf, ReportError> {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>xiezuo claims</title><style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:0.5em 0}}td,th{{border:1px solid #bbb;padding:4px 8px;text-align:right}}th:first-child,td:first-child{{text-align:left}}img{{max-width:100%;border:1px solid #ddd}}.sup{{background:#d9f0d3}}.con{{background:#f4cccc}}.inc{{background:#eee}}.yes{{background:#fde0a0;font-weight:bold}}.partly{{background:#fff2cc}}.flag{{color:#a00;font-weight:bold}}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>The claims catalogue</h1><p>Generated by <code>{}</code> with xiezuo {} (commit {}), model digest <code>{}</code>. Each claim compares two arms with common random numbers (replicate <i>i</i> of both arms has the same seed) on the measures its file names, each the mean over a window of years of the western side. A measure is <b>supported</b> when the paired difference B − A has the claimed sign and its two-sided p-value, Holm-adjusted across the claim's measures, is below {ALPHA}; <b>contradicted</b> when significant the other way; else <b>inconclusive</b>. <i>With the mechanism off</i> is the same comparison with the claim's ablation overrides: a claim still supported there does not isolate the mechanism it names (flagged in red). <i>By construction</i> is the claim file's own label of how much of the effect follows mechanically from an input: read a verdict together with it.</p>",
        esc(command),
        env!("CARGO_PKG_VERSION"),
        env!("XIEZUO_GIT_COMMIT"),
        crate::batch::claims::model_digest()
    );
    let posterior = results.iter().any(|r| r.posterior.is_some());
    let _ = write!(h, "<h2>Summary</h2><table><tr><th>claim</th><th>verdict</th><th>by construction</th><th>with the mechanism off</th><th>robustness (claimed sign)</th>{}<th>replicates</th></tr>", if posterior { "<th>over accepted sets</th>" } else { "" });
    for r in results {
        let off = match (&r.ablated, r.isolates()) {
            (None, _) => "no ablation".to_string(),
            (Some(a), Some(false)) => format!(
                "<span class=\"flag\">{} — does not isolate the mechanism</span>",
                a.verdict.as_str()
            ),
            (Some(a), _) => a.verdict.as_str().to_string(),
        };
        let mut robust = share_text(r.robustness.as_ref());
        if posterior {
            robust.push_str(&format!("</td><td>{}", share_text(r.posterior.as_ref())));
        }
        let _ = write!(
            h,
            "<tr><td><a href=\"#{id}\">{id}</a> {}</td><td class=\"{}\">{}</td><td class=\"{}\">{}</td><td>{off}</td><td>{robust}</td><td>{}</td></tr>",
            esc(&r.statement),
            class(r.full.verdict),
            r.full.verdict.as_str(),
            esc(&r.construction.0),
            esc(&r.construction.0),
            r.replicates,
            id = esc(&r.id),
        );
    }
    let _ = write!(h, "</table>");
    for r in results {
        let claim = claims.iter().find(|c| c.id == r.id);
        let _ = write!(
            h,
            "<h2 id=\"{}\">{}: {}</h2><p>Verdict <span class=\"{}\">{}</span>; by construction: <span class=\"{}\">{}</span>.",
            esc(&r.id),
            esc(&r.id),
            esc(&r.statement),
            class(r.full.verdict),
            r.full.verdict.as_str(),
            esc(&r.construction.0),
            esc(&r.construction.0)
        );
        if !r.construction.1.is_empty() {
            let _ = write!(h, " {}", esc(&r.construction.1));
        }
        let _ = write!(h, "</p>");
        if let Some(c) = claim {
            let _ = write!(
                h,
                "<p>Sources: {}. Claim file: <code>{}</code>.</p>",
                c.sources
                    .iter()
                    .map(|s| format!("<code>{}</code>", esc(s)))
                    .collect::<Vec<_>>()
                    .join(", "),
                esc(&c.file.display().to_string())
            );
            if !c.ablation.is_empty() {
                let _ = write!(
                    h,
                    "<p>Mechanism off: <code>{}</code>.</p>",
                    esc(&c.ablation.join(" "))
                );
            }
        }
        measures_table(&mut h, "Comparison:", &r.full);
        if let Some(a) = &r.ablated {
            measures_table(&mut h, "With the mechanism off:", a);
            if r.isolates() == Some(false) {
                let _ = write!(h, "<p class=\"flag\">Still supported with the mechanism off: this comparison does not isolate the mechanism the claim names.</p>");
            }
        }
        if let Some(rb) = &r.robustness {
            robustness_html(&mut h, "Robustness", "Latin-hypercube points", rb);
        }
        if let Some(rb) = &r.posterior {
            robustness_html(
                &mut h,
                "Robustness over a calibration's accepted parameter sets",
                "sets drawn by weight",
                rb,
            );
        }
        if !r.parts.is_empty() {
            let _ = write!(h, "<p>Decomposition: B with one part switched off, the rest kept; the share of B − A it carries is 1 − (B − A with the part off) / (B − A).</p><table><tr><th>part off</th><th>measure</th><th>B − A</th><th>95% CI</th><th>share it carries</th></tr>");
            for (name, c) in &r.parts {
                for (m, full) in c.measures.iter().zip(&r.full.measures) {
                    let _ = write!(
                        h,
                        "<tr><td>{}</td><td>{}</td><td>{:+.5}</td><td>± {:.5}</td><td>{:.0}%</td></tr>",
                        esc(name),
                        esc(&m.label),
                        m.diff,
                        m.ci95,
                        100.0 * (1.0 - m.diff / full.diff)
                    );
                }
            }
            let _ = write!(h, "</table>");
        }
        let png = dir.join("charts").join(format!("{}.png", r.id));
        if png.exists() {
            figure_html(
                &mut h,
                &png,
                &format!(
                    "{}: each measure's B − A in % of A's mean with its 95% interval",
                    r.id
                ),
            )?;
        }
    }
    let _ = writeln!(h, "</body></html>");
    crate::output::write_text(dir, "claims.html", &h).map_err(|e| ReportError::Io {
        path: dir.join("claims.html"),
        source: std::io::Error::other(e.to_string()),
    })
}
