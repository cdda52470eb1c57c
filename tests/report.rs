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

    // The relapse curve's points are the comparison table's yearly means.
    let f = std::fs::File::open(out.join("comparison.parquet")).unwrap();
    let cmp = ParquetReader::new(f).finish().unwrap();
    let measure = cmp.column("measure").unwrap().str().unwrap().clone();
    let year = cmp.column("year").unwrap().i32().unwrap().clone();
    let a = cmp.column("a_mean").unwrap().f64().unwrap().clone();
    let b = cmp.column("b_mean").unwrap().f64().unwrap().clone();
    let csv = std::fs::read_to_string(rdir.join("relapse_rate_by_scenario.csv")).unwrap();
    let mut checked = 0;
    for line in csv.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (label, x, mean) = (
            cols[1].trim_matches('"'),
            cols[2].parse::<f64>().unwrap(),
            cols[3].parse::<f64>().unwrap(),
        );
        // Annual measures are plotted at the end of their year.
        let y = (x - 1.0).round() as i32;
        for i in 0..cmp.height() {
            if measure.get(i) == Some("relapse_rate") && year.get(i) == Some(y) {
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
        }
    }
    assert!(checked >= 10, "only {checked} points checked");
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
    xiezuo(&["report", ds]);
    big(&d.join("report/index.html"), 50_000);
}
