//! Charts and reports: files are produced and non-trivial, and the plotted numbers are the
//! numbers of the summary tables (not the pixels).

use std::path::Path;
use std::process::Command;

use polars::prelude::*;

fn xiezuo(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xiezuo"))
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn big(p: &Path, min: u64) {
    let len = p
        .metadata()
        .unwrap_or_else(|_| panic!("{} missing", p.display()))
        .len();
    assert!(len >= min, "{} is only {len} bytes", p.display());
}

#[test]
fn compare_writes_charts_and_a_report_whose_numbers_match_the_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    let o = out.to_str().unwrap();
    let stdout = xiezuo(&[
        "compare",
        "--replicates",
        "3",
        "--years",
        "7",
        "--out",
        o,
        "--set",
        "region.Upland.households=4000",
    ]);
    assert!(
        stdout.contains("report: ") && stdout.contains("index.html"),
        "{stdout}"
    );
    let rdir = out.join("report");
    for m in [
        "relapse_rate",
        "poverty_rate",
        "vulnerability_share",
        "mean_income",
    ] {
        big(&rdir.join(format!("{m}_by_scenario.png")), 15_000);
        big(&rdir.join(format!("{m}_by_scenario.svg")), 5_000);
    }
    big(&rdir.join("survival.png"), 15_000);
    big(&rdir.join("flows_two_way_market.png"), 15_000);
    let html = std::fs::read_to_string(rdir.join("index.html")).unwrap();
    assert!(html.len() > 200_000, "report should embed its images");
    assert!(html.matches("data:image/png;base64,").count() >= 7);
    assert!(
        html.contains("Key results") && html.contains("one_way_aid") && html.contains("[[region]]")
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the report must not need the network"
    );

    // The relapse curve's points are the comparison table's yearly means, each drawn in
    // the middle of its year.
    let f = std::fs::File::open(out.join("comparison.parquet")).unwrap();
    let cmp = ParquetReader::new(f).finish().unwrap();
    let measure = cmp.column("measure").unwrap().str().unwrap().clone();
    let year = cmp.column("year").unwrap().i32().unwrap().clone();
    let a = cmp.column("a_mean").unwrap().f64().unwrap().clone();
    let b = cmp.column("b_mean").unwrap().f64().unwrap().clone();
    let d = cmp.column("diff_mean").unwrap().f64().unwrap().clone();
    let dh = cmp.column("diff_ci95").unwrap().f64().unwrap().clone();
    let table = |m: &str, y: i32| {
        (0..cmp.height())
            .find(|&i| measure.get(i) == Some(m) && year.get(i) == Some(y))
            .unwrap_or_else(|| panic!("no {m} {y} in comparison.parquet"))
    };
    let rows = read_csv(&rdir.join("relapse_rate_by_scenario.csv"));
    let mut checked = 0;
    for r in &rows {
        let (label, y, x, mean) = (
            r["series"].as_str(),
            r["year"].parse::<i32>().unwrap(),
            r["x"].parse::<f64>().unwrap(),
            r["mean"].parse::<f64>().unwrap(),
        );
        assert_eq!(x, y as f64 + 0.5, "{label} {y}");
        let i = table("relapse_rate", y);
        let want = if label == "one_way_aid" {
            a.get(i)
        } else {
            b.get(i)
        }
        .unwrap();
        assert!(
            (want - mean).abs() < 1e-9,
            "{label} {y}: chart {mean} vs table {want}"
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} points checked");

    // B − A over time with its band: the comparison table's difference and interval.
    big(&rdir.join("difference_b_minus_a.png"), 15_000);
    let rows = read_csv(&rdir.join("difference_b_minus_a.csv"));
    let mut checked = 0;
    for r in rows.iter().filter(|r| r["panel"].contains("relapse")) {
        let y = r["year"].parse::<i32>().unwrap();
        let i = table("relapse_rate", y);
        let (m, lo, hi): (f64, f64, f64) = (
            r["mean"].parse().unwrap(),
            r["lower"].parse().unwrap(),
            r["upper"].parse().unwrap(),
        );
        assert!((m - d.get(i).unwrap()).abs() < 1e-12);
        assert!((hi - lo - 2.0 * dh.get(i).unwrap()).abs() < 1e-9);
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} differences checked");

    // The yearly table the terminal prints, and the post-withdrawal summary (2021-2022).
    assert!(html.contains("Yearly table") && html.contains("After the withdrawal"));
    for y in 2017..=2022 {
        let i = table("poverty_rate", y);
        let cell = format!("<td>{y}</td>");
        assert!(
            html.contains(&cell),
            "year {y} missing from the yearly table"
        );
        let pov = format!("{:.2} ±", 100.0 * a.get(i).unwrap());
        assert!(html.contains(&pov), "poverty of A in {y} ({pov}) missing");
    }
    let mean_relapse_a = [2021, 2022]
        .iter()
        .map(|&y| a.get(table("relapse_rate", y)).unwrap())
        .sum::<f64>()
        / 2.0;
    let cell = format!(
        "<td>mean annual relapse rate</td><td>{:.2}%",
        100.0 * mean_relapse_a
    );
    assert!(
        html.contains(&cell),
        "{cell} missing from the post-withdrawal summary"
    );
    assert!(html.contains("cumulative relapses"));
}

/// Splits a CSV line (fields may be quoted, with doubled quotes inside).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// A chart CSV as rows of `column → value`.
fn read_csv(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let head = fields(lines.next().expect("a header"));
    lines
        .map(|l| head.iter().cloned().zip(fields(l)).collect())
        .collect()
}

#[test]
fn plot_by_region_and_report_of_a_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("china");
    let r = run.to_str().unwrap();
    xiezuo(&[
        "run",
        &format!(
            "{}/scenarios/china_2021_pairings.toml",
            env!("CARGO_MANIFEST_DIR")
        ),
        "--out",
        r,
        "--years",
        "2",
        "--panel",
    ]);
    let stdout = xiezuo(&["plot", r, "--metric", "poverty_rate", "--by", "region"]);
    assert!(stdout.contains("poverty_rate_by_region.png"));
    big(&run.join("charts/poverty_rate_by_region.png"), 30_000);
    let csv = std::fs::read_to_string(run.join("charts/poverty_rate_by_region.csv")).unwrap();
    for region in ["Gansu", "Yunnan", "Sichuan", "Qinghai"] {
        assert!(
            csv.contains(&format!("\"{region}\"")),
            "panel {region} missing"
        );
    }
    // Each panel its own y scale on request.
    xiezuo(&[
        "plot",
        r,
        "--metric",
        "poverty_rate",
        "--by",
        "region",
        "--y-scale",
        "free",
        "--out",
        &run.join("charts/free").to_string_lossy(),
    ]);
    big(&run.join("charts/free.png"), 30_000);
    xiezuo(&["report", r]);
    big(&run.join("report/index.html"), 100_000);
    big(&run.join("report/survival.png"), 10_000);

    // A merged batch.
    let b = tmp.path().join("b.toml");
    std::fs::write(
        &b,
        "name = \"t\"\nseed = 1\nreplicates = 2\nyears = 3\n[[scenario]]\nbuiltin = \"two_way_market.toml\"\nset = [\"region.Upland.households=1000\", \"region.Coastal.households=200\"]\n[sweep]\nmethod = \"grid\"\n[[sweep.param]]\nkey = \"policy.leakage\"\nvalues = [0.0, 0.3]\n[output]\ntables = [\"metrics\", \"flows\"]\n",
    )
    .unwrap();
    let d = tmp.path().join("sweep");
    let ds = d.to_str().unwrap();
    xiezuo(&["batch", b.to_str().unwrap(), "--out", ds]);
    xiezuo(&["merge", ds]);
    xiezuo(&["plot", ds, "--metric", "mean_income"]);
    let csv = std::fs::read_to_string(d.join("charts/mean_income_by_scenario.csv")).unwrap();
    assert!(
        csv.contains("leakage=0") && csv.contains("leakage=0.3"),
        "one curve per swept value:\n{}",
        &csv[..csv.len().min(400)]
    );
    // A failed run (as `batch` records it) is listed in the report.
    std::fs::create_dir_all(d.join("failed")).unwrap();
    std::fs::write(
        d.join("failed/run-000099.txt"),
        "run 99 (scenario `t`, point 9, replicate 0): key `policy.leakage`: must be in [0, 1], got 7\n",
    )
    .unwrap();
    xiezuo(&["report", ds]);
    big(&d.join("report/index.html"), 50_000);
    let html = std::fs::read_to_string(d.join("report/index.html")).unwrap();
    assert!(
        html.contains("Failed runs") && html.contains("run 99") && html.contains("got 7"),
        "failed runs are listed"
    );
    // Small multiples per scenario (one curve per swept value) and outcomes against the
    // swept parameter, with one point per value.
    for m in ["relapse_rate", "poverty_rate"] {
        big(&d.join(format!("report/{m}_by_point.png")), 15_000);
    }
    let sweep = d.join("report/sweep_policy_leakage.csv");
    big(&d.join("report/sweep_policy_leakage.png"), 15_000);
    let rows = read_csv(&sweep);
    let xs: std::collections::BTreeSet<String> = rows.iter().map(|r| r["x"].clone()).collect();
    assert_eq!(xs.len(), 2, "{xs:?}");
    assert!(
        rows.iter().all(|r| r["n"] == "2"),
        "two replicates per point"
    );
}
