//! Charts as a user meets them: where a year's assessment sits on the time axis (the same in
//! a run and a yearly batch), names in Chinese and names that sanitise alike, tick labels,
//! `plot`'s file names and errors, and outputs written as CSV.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiezuo"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn scenario(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

const SMALL: [&str; 4] = [
    "--set",
    "region.Upland.households=1000",
    "--set",
    "region.Coastal.households=200",
];

/// A short, small run of `two_way_market` into `dir`, with extra arguments.
fn small_run(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run".to_string(),
        scenario("two_way_market.toml"),
        "--out".into(),
        dir.to_str().unwrap().into(),
        "--years".into(),
        "3".into(),
    ];
    args.extend(SMALL.iter().map(|s| s.to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
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

/// The x at which `year`'s value is drawn in a chart CSV (the one series it holds).
fn x_of_year(csv: &Path, year: &str) -> (f64, String) {
    let rows = read_csv(csv);
    let row = rows
        .iter()
        .find(|r| r.get("year").map(String::as_str) == Some(year))
        .unwrap_or_else(|| panic!("{}: no row for {year}", csv.display()));
    (row["x"].parse().unwrap(), row["x_is"].clone())
}

#[test]
fn the_2017_assessment_sits_inside_2017_in_a_run_and_in_a_yearly_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("run");
    small_run(&r, &[]);
    ok(&["plot", r.to_str().unwrap(), "--metric", "relapse_rate"]);
    let (x_run, is) = x_of_year(&r.join("charts/relapse_rate_by_scenario.csv"), "2017");

    let b = tmp.path().join("yearly.toml");
    std::fs::write(
        &b,
        "name = \"yearly\"\nseed = 1\nreplicates = 1\nyears = 3\n[[scenario]]\nbuiltin = \"two_way_market.toml\"\nset = [\"region.Upland.households=1000\", \"region.Coastal.households=200\"]\n[output]\ntables = [\"metrics\"]\nyearly = true\n",
    )
    .unwrap();
    let d = tmp.path().join("batch");
    let ds = d.to_str().unwrap();
    ok(&["batch", b.to_str().unwrap(), "--out", ds, "--jobs", "1"]);
    ok(&["merge", ds]);
    ok(&["plot", ds, "--metric", "relapse_rate"]);
    let (x_batch, _) = x_of_year(&d.join("charts/relapse_rate_by_scenario.csv"), "2017");

    assert!(
        (2017.0..2018.0).contains(&x_run),
        "run: the 2017 assessment is drawn at {x_run}"
    );
    assert_eq!(x_run, x_batch, "run and yearly batch disagree");
    assert!(
        is.contains("middle of the year"),
        "the CSV says what x is: {is}"
    );

    // The step is stored, not guessed: a yearly batch of a monthly run says 12.
    for dir in [&r, &d] {
        let f = std::fs::File::open(dir.join("metrics.parquet")).unwrap();
        use polars::prelude::*;
        let df = ParquetReader::new(f).finish().unwrap();
        let tpy = df.column("ticks_per_year").unwrap().u32().unwrap().clone();
        assert!(tpy.iter().all(|t| t == Some(12)), "{}", dir.display());
    }
}

#[test]
fn plot_names_the_region_in_the_file_and_rejects_unknown_metrics_and_regions() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("run");
    let rs = r.to_str().unwrap();
    small_run(&r, &[]);

    let out = run(&["plot", rs, "--metric", "relapse_rat"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `relapse_rate`"), "{err}");
    let out = run(&["plot", rs, "--metric", "poverty_rate", "--region", "Uplnd"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `Upland`"), "{err}");
    assert!(err.contains("WEST"), "lists the regions: {err}");
    let out = run(&["plot", rs, "--by", "region", "--region", "Upland"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!r.join("charts").exists(), "a refused plot wrote nothing");
    let out = run(&["plot", &tmp.path().join("nothing").to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2), "not an output directory");

    for region in ["Upland", "Coastal", "WEST"] {
        let out = ok(&["plot", rs, "--metric", "poverty_rate", "--region", region]);
        let png = r.join(format!("charts/poverty_rate_{region}_by_scenario.png"));
        assert!(png.exists(), "{}", String::from_utf8_lossy(&out.stdout));
    }
    ok(&["plot", rs, "--metric", "poverty_rate"]);
    assert!(r.join("charts/poverty_rate_by_scenario.png").exists());
}

#[test]
fn runs_written_as_csv_are_plotted_and_reported_like_parquet_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("parquet");
    let c = tmp.path().join("csv");
    small_run(&p, &[]);
    small_run(&c, &["--format", "csv"]);
    assert!(c.join("metrics.csv").exists() && !c.join("metrics.parquet").exists());
    for d in [&p, &c] {
        ok(&["plot", d.to_str().unwrap(), "--metric", "mean_income"]);
        ok(&["report", d.to_str().unwrap()]);
        assert!(d.join("report/index.html").exists());
    }
    // The same numbers whichever format the run was written in.
    let a = read_csv(&p.join("charts/mean_income_by_scenario.csv"));
    let b = read_csv(&c.join("charts/mean_income_by_scenario.csv"));
    assert_eq!(a.len(), b.len());
    for (ra, rb) in a.iter().zip(&b) {
        assert_eq!(ra["x"], rb["x"]);
        let (ma, mb): (f64, f64) = (ra["mean"].parse().unwrap(), rb["mean"].parse().unwrap());
        assert!((ma - mb).abs() <= 1e-9 * ma.abs().max(1.0), "{ma} vs {mb}");
    }
    let (pa, pb) = (
        read_csv(&p.join("report/relapse_rate_by_scenario.csv")),
        read_csv(&c.join("report/relapse_rate_by_scenario.csv")),
    );
    assert_eq!(pa.len(), pb.len());
}

/// Text of every `<text>` element of an SVG.
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).unwrap();
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = t.split_once('>')?.1;
            Some(body.split_once("</text>")?.0.trim().to_string())
        })
        .collect()
}

#[test]
fn axes_show_whole_years_once_and_money_without_exponents() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("run");
    let rs = r.to_str().unwrap();
    small_run(&r, &[]);
    ok(&["plot", rs, "--metric", "mean_income"]);
    ok(&["plot", rs, "--metric", "relapse_rate"]);
    for chart in [
        "mean_income_by_scenario.svg",
        "relapse_rate_by_scenario.svg",
    ] {
        let texts = svg_texts(&r.join("charts").join(chart));
        let years: Vec<&String> = texts
            .iter()
            .filter(|t| t.len() == 4 && t.starts_with("20"))
            .collect();
        assert!(years.len() >= 3, "{chart}: {texts:?}");
        let mut dedup = years.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(
            dedup.len(),
            years.len(),
            "{chart}: repeated years {years:?}"
        );
        assert!(
            !texts
                .iter()
                .any(|t| t.contains("mean_income") || t.contains("relapse_rate")),
            "{chart}: column names as labels: {texts:?}"
        );
    }
    let texts = svg_texts(&r.join("charts/mean_income_by_scenario.svg"));
    assert!(
        texts.iter().any(|t| t.contains(",000")),
        "thousands separators: {texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("e4") || t.contains("e3")),
        "scientific notation: {texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("yuan")), "unit: {texts:?}");
}

#[test]
fn a_chinese_scenario_name_is_drawn_and_a_missing_glyph_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path().join("run");
    let rs = r.to_str().unwrap();
    small_run(&r, &["--set", "name=东西部协作·两路"]);
    let out = ok(&["plot", rs, "--metric", "poverty_rate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("warning"), "{err}");
    let png = r.join("charts/poverty_rate_by_scenario.png");
    assert!(png.metadata().unwrap().len() > 20_000);
    let csv = std::fs::read_to_string(r.join("charts/poverty_rate_by_scenario.csv")).unwrap();
    assert!(csv.contains("东西部协作·两路"));

    // U+20000 is outside GB2312 and the embedded font: the chart is drawn, with a warning.
    let r2 = tmp.path().join("run2");
    small_run(&r2, &["--set", "name=𠀀村"]);
    let out = ok(&["plot", r2.to_str().unwrap(), "--metric", "poverty_rate"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("U+20000") && err.contains("𠀀村"), "{err}");
}

/// Writes a scenario file extending a shipped one under another name.
fn named(dir: &Path, file: &str, parent: &str, name: &str) -> PathBuf {
    let p = dir.join(file);
    std::fs::write(
        &p,
        format!("extends = {:?}\nname = {:?}\n", scenario(parent), name),
    )
    .unwrap();
    p
}

#[test]
fn chart_files_of_names_that_sanitise_alike_stay_distinct() {
    let tmp = tempfile::tempdir().unwrap();
    let a = named(tmp.path(), "a.toml", "one_way_aid.toml", "Chun'an");
    let b = named(tmp.path(), "b.toml", "two_way_market.toml", "Chun an");
    let out = tmp.path().join("cmp");
    let mut args = vec![
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--replicates",
        "2",
        "--years",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(SMALL);
    ok(&args);
    let flows: Vec<String> = std::fs::read_dir(out.join("report"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("flows_") && n.ends_with(".png"))
        .collect();
    assert_eq!(flows.len(), 2, "{flows:?}");
    assert!(
        flows.iter().all(|f| f.starts_with("flows_Chun_an-")),
        "{flows:?}"
    );
    // Each chart's CSV names its own scenario.
    for f in &flows {
        let csv =
            std::fs::read_to_string(out.join("report").join(f.replace(".png", ".csv"))).unwrap();
        assert!(!csv.is_empty());
    }
}
