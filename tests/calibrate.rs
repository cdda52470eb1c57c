//! `xiezuo calibrate` as a user runs it. Calibrating to figures the model itself produced at
//! known parameters recovers them within their 95% intervals; the result does not depend on
//! the thread count, and a calibration stopped after two generations and resumed equals one
//! run straight through; bad targets and calibration files are errors that name the file,
//! line and key (exit 2) and leave no output behind.

use std::path::Path;
use std::process::{Command, Output};

use xiezuo::batch::calibrate::{summary, Targets};

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

/// The tiny scenario every test calibrates: `baseline_no_pairing` with 1,000 households (the
/// calibration runs only the years its targets need: 2016–2019).
const SET: [&str; 4] = [
    "region.Upland.households=800",
    "region.Upland.weight=25.0",
    "region.Coastal.households=200",
    "region.Coastal.weight=20.0",
];

/// The known parameters. `prices.inflation` only deflates the `_current` measures, which no
/// target reads: the data cannot constrain it, and the posterior must say so.
const TRUTH: [(&str, f64); 3] = [
    ("poverty.line", 3000.0),
    ("households.remittance_share", 0.5),
    ("prices.inflation", 0.02),
];

/// Targets (measure, scope, year) the truth is measured on.
const MEASURES: [(&str, &str); 4] = [
    ("poverty_rate", "WEST"),
    ("gini", "WEST"),
    ("share_remittance", "WEST"),
    ("mean_income", "WEST"),
];

fn target_block(name: &str, measure: &str, region: &str, value: f64, sigma: f64) -> String {
    format!(
        "[[target]]\nname = \"{name}\"\nmeasure = \"{measure}\"\nregion = \"{region}\"\nyear = 2019\naggregate = \"year_mean\"\nvalue = {value}\nsigma = {sigma}\nsource = \"the model at known parameters\"\njustification = \"replicate sd of the model output\"\n\n"
    )
}

/// Writes the targets file: each measure's mean and sd over 8 replicates of the scenario at
/// the known parameters (the sd is the σ: the noise a single run carries).
fn write_targets(dir: &Path) {
    let mut placeholder = String::new();
    for (m, r) in MEASURES {
        placeholder.push_str(&target_block(m, m, r, 1.0, 1.0));
    }
    let t = Targets::from_str("targets.toml", &placeholder).expect("placeholder targets");
    let mut set: Vec<String> = SET.iter().map(|s| s.to_string()).collect();
    for (k, v) in TRUTH {
        set.push(format!("{k}={v}"));
    }
    let l = xiezuo::scenario::load_builtin("baseline_no_pairing", &set).expect("scenario");
    let mut values = vec![Vec::new(); MEASURES.len()];
    for seed in 0..8u64 {
        let mut cfg = l.config.clone();
        cfg.seed = 1000 + seed;
        cfg.calendar.ticks = 4 * cfg.calendar.ticks_per_year();
        let res = xiezuo::batch::replicate::run_one(&cfg, false);
        for (k, g) in t.targets.iter().enumerate() {
            values[k].push(summary::evaluate(&cfg, &res.recorder, g));
        }
    }
    let mut text = String::from("scenario = \"baseline_no_pairing\"\n\n");
    for (k, (m, r)) in MEASURES.iter().enumerate() {
        let v = &values[k];
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        assert!(mean.is_finite() && sd > 0.0, "{m}: mean {mean}, sd {sd}");
        text.push_str(&target_block(m, m, r, mean, sd));
    }
    std::fs::write(dir.join("targets.toml"), text).expect("write targets");
}

fn write_calibration(dir: &Path, generations: usize) {
    let set: Vec<String> = SET.iter().map(|s| format!("\"{s}\"")).collect();
    let text = format!(
        r#"name = "self_test"
scenario = "builtin:baseline_no_pairing"
targets = "targets.toml"
set = [{}]
replicates = 1
seed = 11
batch = 16

[abc]
population = 60
generations = {generations}
max_evaluations = 3000

[[parameter]]
key = "poverty.line"
low = 2000.0
high = 4500.0

[[parameter]]
key = "households.remittance_share"
low = 0.2
high = 0.7

[[parameter]]
key = "prices.inflation"
low = 0.0
high = 0.05
"#,
        set.join(", ")
    );
    std::fs::write(dir.join("cal.toml"), text).expect("write calibration");
}

/// (parameter, q025, median, q975, sd_ratio) rows of posterior.csv.
fn posterior(dir: &Path) -> Vec<(String, f64, f64, f64, f64)> {
    let text = std::fs::read_to_string(dir.join("posterior.csv")).expect("posterior.csv");
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).expect(n);
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let x = |n: &str| f[col(n)].parse::<f64>().expect("number");
            (
                f[col("parameter")].to_string(),
                x("q025"),
                x("median"),
                x("q975"),
                x("sd_ratio"),
            )
        })
        .collect()
}

#[test]
fn calibration_recovers_known_parameters_whatever_the_threads_and_resumes_exactly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write_targets(d);
    write_calibration(d, 4);
    let cal = d.join("cal.toml");
    let cal = cal.to_str().expect("utf-8");
    let a = d.join("a");
    ok(&run(&[
        "calibrate",
        cal,
        "--out",
        a.to_str().expect("utf-8"),
    ]));
    for (key, lo, med, hi, ratio) in posterior(&a) {
        let truth = TRUTH.iter().find(|t| t.0 == key).expect("known key").1;
        assert!(
            lo <= truth && truth <= hi,
            "{key}: truth {truth} outside the 95% interval [{lo}, {hi}] (median {med})"
        );
        if key == "prices.inflation" {
            assert!(
                ratio > 0.7,
                "{key}: no target reads it, yet its sd ratio is {ratio}"
            );
        } else {
            assert!(
                ratio < 0.5,
                "{key}: the targets should constrain it (sd ratio {ratio})"
            );
        }
    }
    // One thread gives the same generations.
    let b = d.join("b");
    ok(&run(&[
        "--threads",
        "1",
        "calibrate",
        cal,
        "--out",
        b.to_str().expect("utf-8"),
    ]));
    let gens = |p: &Path| std::fs::read(p.join("generations.csv")).expect("generations.csv");
    assert_eq!(gens(&a), gens(&b), "thread count changed the calibration");
    // Two generations, then resumed to four, equals four straight through.
    write_calibration(d, 2);
    let c = d.join("c");
    ok(&run(&[
        "calibrate",
        cal,
        "--out",
        c.to_str().expect("utf-8"),
    ]));
    assert_ne!(gens(&a), gens(&c));
    write_calibration(d, 4);
    ok(&run(&[
        "calibrate",
        cal,
        "--out",
        c.to_str().expect("utf-8"),
        "--resume",
    ]));
    assert_eq!(gens(&a), gens(&c), "resuming changed the calibration");
    // Another calibration's directory is refused.
    std::fs::write(
        d.join("cal.toml"),
        std::fs::read_to_string(d.join("cal.toml"))
            .expect("read")
            .replace("seed = 11", "seed = 12"),
    )
    .expect("write");
    let o = run(&[
        "calibrate",
        cal,
        "--out",
        c.to_str().expect("utf-8"),
        "--resume",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("other inputs"));
}

fn bad(dir: &Path, targets: &str, calibration_extra: &str) -> Output {
    std::fs::write(dir.join("t.toml"), targets).expect("write");
    std::fs::write(
        dir.join("c.toml"),
        format!(
            "name = \"bad\"\nscenario = \"builtin:baseline_no_pairing\"\ntargets = \"t.toml\"\n{calibration_extra}\n[[parameter]]\nkey = \"households.income_noise\"\nlow = 0.1\nhigh = 0.5\n"
        ),
    )
    .expect("write");
    let out = dir.join("out");
    run(&[
        "calibrate",
        dir.join("c.toml").to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ])
}

#[test]
fn bad_files_name_the_file_line_and_key_and_leave_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let good = target_block("pov", "poverty_rate", "WEST", 0.1, 0.02);
    let cases: [(String, &str, &str); 11] = [
        (
            format!("{good}{}", target_block("gini", "gini", "WEST", 0.3, -1.0)),
            "",
            "t.toml:19: key `target[1].sigma`",
        ),
        (
            target_block("pov", "poverty_ratio", "WEST", 0.1, 0.02),
            "",
            "key `target[0].measure`: `poverty_ratio` is not a numeric column of the `metrics` table; allowed: households, poverty_rate",
        ),
        (
            target_block("pov", "poverty_rate", "Nowhere", 0.1, 0.02),
            "",
            "key `target[0].region`: `Nowhere` is not a scope of the scenario; allowed: WEST, EAST, ALL, PAIRED, UNPAIRED, Upland, Coastal",
        ),
        (
            good.replace("year = 2019", "year = 2040"),
            "",
            "key `target[0].year`: 2040 is outside the scenario's horizon 2016–2025",
        ),
        (good.clone(), "scale = 2.0", "c.toml:4: key `scale`: must be in (0, 1]"),
        (
            good.replace("source = \"the model at known parameters\"\n", ""),
            "",
            "key `target[0]`: missing field `source`",
        ),
        (
            good.replace("year = 2019", "year = 2019\ncontrol = \"UNPAIRED\""),
            "",
            "key `target[0].control`: a difference in differences needs `base_year` too",
        ),
        (
            good.replace("year = 2019", "year = 2019\ncontrol = \"PAIRED\"\nbase_year = 2019"),
            "",
            "key `target[0].base_year`: 2019 must come before the target's year 2019",
        ),
        (
            good.replace("year = 2019", "year = 2019\ncontrol = \"Elsewhere\"\nbase_year = 2017"),
            "",
            "key `target[0].control`: `Elsewhere` is not a scope of the scenario",
        ),
        (
            good.replace("year_mean", "year_sum"),
            "",
            "key `target[0].aggregate`: `year_sum` of `poverty_rate` adds up a stock or a rate",
        ),
        (
            target_block("g", "gini", "PAIRED", 0.3, 0.1),
            "",
            "key `target[0].region`: `PAIRED` combines regions' `metrics` rows, which it can do for the means mean_income, poverty_rate, poverty_gap, poverty_severity (weighted by households) and the counts",
        ),
    ];
    for (targets, extra, want) in cases {
        let o = bad(d, &targets, extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "want `{want}` in: {err}");
        assert!(!d.join("out").exists(), "bad input left output behind");
    }
}

/// The full-size case, run by hand (about as long as the shipped calibration:
/// `cargo test --release --test calibrate -- --ignored`): the shipped calibration of
/// `china_2021_pairings`, with its targets' values replaced by what the model gives at known
/// parameters (the middle of each prior, in the prior's uniform scale; 4 replicates) and
/// their σ kept, recovers every parameter the data constrain within its 95% interval.
#[test]
#[ignore]
fn full_size_calibration_recovers_known_parameters() {
    use xiezuo::batch::calibrate::{self, Calibration};
    use xiezuo::stats::abc::Candidate;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("calibration/china_2021_pairings.toml");
    let c = Calibration::load(&file).expect("calibration");
    let truth: Vec<f64> = c
        .parameters
        .iter()
        .map(|p| {
            let (lo, hi) = p.prior.z_bounds();
            p.prior.from_z(0.5 * (lo + hi))
        })
        .collect();
    let mut values = vec![0.0; c.targets.targets.len()];
    let reps = 4;
    for i in 0..reps {
        let cand = Candidate {
            generation: 1000,
            index: i,
            theta: truth.clone(),
        };
        let v = calibrate::evaluate(&c, &cand, u32::MAX).expect("runs");
        for (s, x) in values.iter_mut().zip(v) {
            *s += x / reps as f64;
        }
    }
    let mut doc: toml::Table = c.targets.text.parse().expect("targets toml");
    if let Some(toml::Value::Array(ts)) = doc.get_mut("target") {
        for (t, v) in ts.iter_mut().zip(&values) {
            if let toml::Value::Table(t) = t {
                t.insert("value".into(), toml::Value::Float(*v));
            }
        }
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    std::fs::write(d.join("targets.toml"), toml::to_string(&doc).expect("toml")).expect("write");
    let text = c
        .text
        .replace(
            "targets = \"targets/china_2021_pairings.toml\"",
            "targets = \"targets.toml\"",
        )
        .replace(
            "scenario = \"../scenarios/china_2021_pairings.toml\"",
            &format!(
                "scenario = \"{}\"",
                root.join("scenarios/china_2021_pairings.toml").display()
            ),
        );
    std::fs::write(d.join("cal.toml"), text).expect("write");
    let out = d.join("out");
    ok(&run(&[
        "calibrate",
        d.join("cal.toml").to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]));
    let mut constrained = 0;
    for (key, lo, med, hi, ratio) in posterior(&out) {
        let j = c.parameters.iter().position(|p| p.key == key).expect("key");
        let t = truth[j];
        println!("{key}: truth {t}, median {med} [{lo}, {hi}], sd ratio {ratio:.2}");
        if ratio < 0.5 {
            constrained += 1;
            assert!(lo <= t && t <= hi, "{key}: truth {t} outside [{lo}, {hi}]");
        }
    }
    assert!(constrained > 0, "the targets constrain no parameter");
}
