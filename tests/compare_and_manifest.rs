//! `compare` uses common random numbers and a paired interval; manifests say what was run
//! (both scenarios, every seed, every `--set`, the command line) and nothing that varies
//! between identical runs; names cannot write outside `--out`; scenario format versions.

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiezuo"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn shipped(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A scenario extending a shipped one, with its own name and extra top-level lines.
fn write_child(dir: &Path, file: &str, parent: &str, name: &str, extra: &str) -> String {
    let p = dir.join(file);
    std::fs::write(
        &p,
        format!(
            "extends = {:?}\nname = {name:?}\n{extra}\n",
            shipped(parent)
        ),
    )
    .unwrap();
    p.to_string_lossy().into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn both_arms_share_one_seed_list_and_the_interval_is_paired() {
    let tmp = tempfile::tempdir().unwrap();
    // B's file has another run.seed: today's seeds must still come from A (or --seed).
    let a = write_child(
        tmp.path(),
        "a.toml",
        "one_way_aid.toml",
        "arm_a",
        "[run]\nseed = 11",
    );
    let b = write_child(
        tmp.path(),
        "b.toml",
        "two_way_market.toml",
        "arm_b",
        "[run]\nseed = 99",
    );
    let out = tmp.path().join("cmp");
    let o = run(&[
        "compare",
        &a,
        &b,
        "--replicates",
        "4",
        "--years",
        "6",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "--set",
        "households.illness_prob=0.1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m = json(&out.join("manifest.json"));
    let sc = m["scenarios"].as_array().unwrap();
    assert_eq!(sc.len(), 2, "both scenarios recorded");
    assert_eq!(sc[0]["name"], "arm_a");
    assert_eq!(sc[1]["name"], "arm_b");
    assert_eq!(sc[0]["seeds"].as_array().unwrap().len(), 4);
    assert_eq!(sc[0]["seeds"], sc[1]["seeds"], "common random numbers");
    assert_eq!(sc[1]["set"][0], "households.illness_prob=0.1");
    assert!(sc[1]["files"].as_array().unwrap().len() >= 2);
    let cmd: Vec<&str> = m["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(&cmd[..2], &["xiezuo", "compare"]);
    assert!(
        m.get("wall_time_seconds").is_none(),
        "wall time is kept apart"
    );
    assert!(json(&out.join("timing.json"))["wall_time_seconds"].is_number());
    // Paired and Welch intervals are both kept; with common random numbers the paired one
    // is the narrower for most year × measure rows.
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (p, w) = (col("diff_ci95"), col("diff_ci95_welch"));
    let (mut narrower, mut rows, mut log_ratio) = (0, 0, 0.0);
    for l in lines {
        let c: Vec<&str> = l.split(',').collect();
        let (hp, hw): (f64, f64) = (
            c[p].parse().unwrap_or(f64::NAN),
            c[w].parse().unwrap_or(f64::NAN),
        );
        if hp.is_finite() && hw.is_finite() && hw > 0.0 {
            rows += 1;
            narrower += (hp < hw) as u32;
            // Measures differ in units (rates, yuan): compare the half-widths as ratios.
            log_ratio += (hp / hw).ln();
        }
    }
    assert!(
        rows > 10 && narrower * 2 > rows && log_ratio < 0.0,
        "paired narrower in {narrower} of {rows}; mean log ratio of half-widths {}",
        log_ratio / rows as f64
    );
    // --seed replaces A's seed for both arms.
    let out2 = tmp.path().join("cmp2");
    let o = run(&[
        "compare",
        &a,
        &b,
        "--replicates",
        "2",
        "--years",
        "1",
        "--seed",
        "5",
        "--out",
        out2.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m2 = json(&out2.join("manifest.json"));
    assert_eq!(m2["counts"]["master_seed"], 5);
    assert_ne!(m2["scenarios"][0]["seeds"], sc[0]["seeds"]);
}

#[test]
fn identical_runs_write_identical_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    let s = shipped("one_way_aid.toml");
    let mut texts = Vec::new();
    for (d, threads) in [("a", "1"), ("b", "2")] {
        let out = tmp.path().join(d);
        let o = run(&[
            "--threads",
            threads,
            "run",
            &s,
            "--years",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let t = std::fs::read_to_string(out.join("manifest.json")).unwrap();
        texts.push(t.replace(out.to_str().unwrap(), "OUT"));
    }
    assert_eq!(texts[0], texts[1]);
}

#[test]
fn names_cannot_write_outside_out_and_must_differ() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("inner").join("cmp");
    for bad in ["../../escaped", "/abs/x", "a/b", ""] {
        let a = write_child(tmp.path(), "bad.toml", "one_way_aid.toml", bad, "");
        let o = run(&[
            "compare",
            &a,
            &shipped("two_way_market.toml"),
            "--replicates",
            "1",
            "--years",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("bad.toml") && err.contains("`name`"), "{err}");
        assert!(!tmp.path().join("escaped").exists());
        assert!(!out.exists(), "nothing written");
    }
    let a = write_child(tmp.path(), "a.toml", "one_way_aid.toml", "same", "");
    let b = write_child(tmp.path(), "b.toml", "two_way_market.toml", "same", "");
    let o = run(&[
        "compare",
        &a,
        &b,
        "--replicates",
        "1",
        "--years",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("both scenarios are named `same`"));
    assert!(!out.exists(), "nothing written");
    // Unicode names are fine.
    let c = write_child(
        tmp.path(),
        "c.toml",
        "one_way_aid.toml",
        "东西部协作 (Chun'an)",
        "",
    );
    let o = run(&["check", &c]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn scenario_format_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let old = write_child(
        tmp.path(),
        "old.toml",
        "one_way_aid.toml",
        "old",
        "format = 1",
    );
    let o = run(&["check", &old]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("note:") && err.contains("format 2 changed"),
        "{err}"
    );
    let new = write_child(
        tmp.path(),
        "new.toml",
        "one_way_aid.toml",
        "new",
        "format = 9",
    );
    let o = run(&["check", &new]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("new.toml:3: key `format`"));
    // Outputs record the formats.
    let out = tmp.path().join("run");
    let o = run(&[
        "run",
        &shipped("one_way_aid.toml"),
        "--years",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let m = json(&out.join("manifest.json"));
    assert_eq!(m["output_format"], 3);
    assert_eq!(m["scenario_format"], 3);
    let r = std::fs::read_to_string(out.join("scenario.resolved.toml")).unwrap();
    assert!(r.contains("\nformat = 3\n"), "{r}");
}

#[test]
fn a_scenario_needs_a_western_region_and_an_empty_east_is_not_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let region = |name: &str, side: &str| {
        format!(
            "[[region]]\nname = {name:?}\nside = {side:?}\nhouseholds = 500\nincome_median = 7000.0\nwage = 20000.0\n"
        )
    };
    let head = "name = \"s\"\n[time]\nstart = \"2016-01\"\nyears = 2\n";
    let east_only = tmp.path().join("east.toml");
    std::fs::write(&east_only, format!("{head}{}", region("Coast", "east"))).unwrap();
    let o = run(&["check", east_only.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("key `region`") && err.contains("western region"),
        "{err}"
    );
    // West only: no EAST rows (not rows of zeros).
    let west_only = tmp.path().join("west.toml");
    std::fs::write(&west_only, format!("{head}{}", region("Hills", "west"))).unwrap();
    let out = tmp.path().join("w");
    let o = run(&[
        "run",
        west_only.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(csv.contains(",WEST,") && csv.contains(",ALL,"));
    assert!(
        !csv.contains(",EAST,"),
        "an empty EAST aggregate is reported"
    );
}

#[test]
fn a_bad_out_is_bad_input_said_once_and_force_leaves_no_stale_table() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a_file");
    std::fs::write(&file, "x").unwrap();
    let s = shipped("one_way_aid.toml");
    for out in [file.clone(), file.join("sub")] {
        let o = run(&["run", &s, "--years", "1", "--out", out.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("--out") && err.contains("not a directory"),
            "{err}"
        );
        assert_eq!(
            err.matches("not a directory").count(),
            1,
            "said twice: {err}"
        );
    }
    // --force removes the tables an earlier run owned (here the panel) before writing.
    let out = tmp.path().join("run");
    let o = run(&[
        "run",
        &s,
        "--years",
        "1",
        "--panel",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(out.join("households.parquet").exists());
    let o = run(&[
        "run",
        &s,
        "--years",
        "1",
        "--force",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(
        !out.join("households.parquet").exists(),
        "stale panel left behind"
    );
    assert!(out.join("metrics.parquet").exists());
}
