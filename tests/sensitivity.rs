//! `xiezuo sensitivity` as a user runs it: a small Saltelli and a small Morris batch on a
//! downscaled scenario, merged and analysed. A parameter that cannot change the output
//! (`prices.inflation` only deflates the `_current` measures) gets indices of exactly zero;
//! one that does (the poverty line) does not. Bad sensitivity sections are errors naming
//! the key (exit 2). The batch's report (`xiezuo report`) carries the indices.

use std::path::Path;
use std::process::{Command, Output};

use polars::prelude::*;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiezuo"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn batch(method: &str, samples: u32, extra: &str) -> String {
    format!(
        r#"name = "sens_test"
seed = 7
replicates = 1
years = 3

[[scenario]]
builtin = "baseline_no_pairing.toml"
label = "base"
set = ["region.Upland.households=600", "region.Upland.weight=1666.0", "region.Coastal.households=200", "region.Coastal.weight=2000.0"]

[sweep]
method = "{method}"
samples = {samples}

[[sweep.param]]
key = "poverty.line"
min = 3000.0
max = 6000.0

[[sweep.param]]
key = "prices.inflation"
min = 0.0
max = 0.05

[output]
tables = ["metrics"]
yearly = true
regions = ["WEST"]

[sensitivity]
outputs = [{{ measure = "poverty_rate", region = "WEST", from = 2017, to = 2018 }}]
resamples = 200
{extra}"#
    )
}

/// Runs, merges and analyses a batch; returns the sensitivity table.
fn analyse(dir: &Path, text: &str) -> DataFrame {
    let file = dir.join("sens.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let (f, o) = (file.to_str().unwrap(), out.to_str().unwrap());
    ok(&run(&["batch", f, "--out", o, "--jobs", "2"]));
    ok(&run(&["merge", o]));
    let r = run(&["sensitivity", f, o]);
    ok(&r);
    assert!(String::from_utf8_lossy(&r.stdout).contains("poverty.line"));
    assert!(out.join("sensitivity.csv").exists());
    let charts: Vec<_> = std::fs::read_dir(out.join("sensitivity"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    for ext in ["png", "svg"] {
        let name = format!("base_poverty_rate_WEST_2017-2018.{ext}");
        assert!(charts.contains(&name), "{name} not among {charts:?}");
    }
    // The report of the batch carries the indices: a chart per output and the table.
    ok(&run(&["report", o]));
    let html = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    assert!(
        html.contains("<h2>Sensitivity</h2>"),
        "no sensitivity section"
    );
    assert!(html.contains("<code>poverty.line</code>"));
    assert!(out
        .join("report/sensitivity/base_poverty_rate_WEST_2017-2018.png")
        .exists());
    let p = std::fs::File::open(out.join("sensitivity.parquet")).unwrap();
    ParquetReader::new(p).finish().unwrap()
}

fn value(df: &DataFrame, parameter: &str, index: &str) -> f64 {
    let p = df.column("parameter").unwrap().str().unwrap().clone();
    let i = df.column("index").unwrap().str().unwrap().clone();
    let e = df.column("estimate").unwrap().f64().unwrap().clone();
    (0..df.height())
        .find(|&k| p.get(k) == Some(parameter) && i.get(k) == Some(index))
        .and_then(|k| e.get(k))
        .unwrap_or_else(|| panic!("no {index} of {parameter}"))
}

#[test]
fn sobol_indices_of_a_parameter_without_effect_are_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let df = analyse(tmp.path(), &batch("saltelli", 8, ""));
    assert_eq!(df.height(), 4, "first and total of two parameters");
    assert_eq!(value(&df, "prices.inflation", "total"), 0.0);
    assert_eq!(value(&df, "prices.inflation", "first"), 0.0);
    let st = value(&df, "poverty.line", "total");
    assert!(
        st > 0.5,
        "the poverty line explains the poverty rate: total index {st}"
    );
}

#[test]
fn morris_effects_of_a_parameter_without_effect_are_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let df = analyse(tmp.path(), &batch("morris", 4, ""));
    assert_eq!(df.height(), 6, "mu_star, mu and sigma of two parameters");
    assert_eq!(value(&df, "prices.inflation", "mu_star"), 0.0);
    assert!(value(&df, "poverty.line", "mu_star") > 0.05);
    assert!(
        value(&df, "poverty.line", "mu") > 0.0,
        "a higher line, more poverty"
    );
}

#[test]
fn bad_sensitivity_sections_name_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (batch("lhs", 8, ""), "sensitivity"),
        (
            batch("saltelli", 8, "").replace("from = 2017, to = 2018", "from = 2019, to = 2018"),
            "sensitivity.outputs[0].to",
        ),
        (
            batch("saltelli", 8, "").replace("resamples = 200", "resamples = 1"),
            "sensitivity.resamples",
        ),
        (
            batch("saltelli", 8, "")
                .replace("method = \"saltelli\"", "method = \"saltelli\"\nlevels = 4"),
            "sweep.levels",
        ),
    ];
    for (i, (text, key)) in cases.iter().enumerate() {
        let f = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&f, text).unwrap();
        let o = run(&[
            "batch",
            f.to_str().unwrap(),
            "--out",
            tmp.path().join(format!("o{i}")).to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "case {i}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&format!("key `{key}`")), "case {i}: {err}");
    }
    // A measure that is not a column: named, with the columns there are (exit 2).
    let df_dir = tmp.path().join("m");
    std::fs::create_dir_all(&df_dir).unwrap();
    let text = batch("morris", 2, "");
    analyse(&df_dir, &text);
    let f = df_dir.join("sens2.toml");
    std::fs::write(
        &f,
        text.replace("measure = \"poverty_rate\"", "measure = \"povrety_rate\""),
    )
    .unwrap();
    let o = run(&[
        "sensitivity",
        f.to_str().unwrap(),
        df_dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("povrety_rate") && err.contains("poverty_rate"),
        "{err}"
    );
}
