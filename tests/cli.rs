//! The command line as a user runs it: shipped scenarios, outputs, determinism, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xiezuo"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn scenario(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

const SHIPPED: [&str; 6] = [
    "baseline_no_pairing.toml",
    "one_way_aid.toml",
    "two_way_market.toml",
    "two_way_budget_neutral.toml",
    "china_2021_pairings.toml",
    "zhejiang_mountain_sea.toml",
];

#[test]
fn every_shipped_scenario_checks_and_runs_a_short_horizon() {
    let tmp = tempfile::tempdir().unwrap();
    for s in SHIPPED {
        let out = run(&["check", &scenario(s)]);
        assert!(
            out.status.success(),
            "{s}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dir = tmp.path().join(s);
        let out = run(&[
            "run",
            &scenario(s),
            "--out",
            dir.to_str().unwrap(),
            "--years",
            "1",
        ]);
        assert!(
            out.status.success(),
            "{s}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for f in [
            "metrics.parquet",
            "flows.parquet",
            "links.parquet",
            "scenario.resolved.toml",
            "manifest.json",
        ] {
            let p = dir.join(f);
            assert!(
                p.metadata().map(|m| m.len() > 0).unwrap_or(false),
                "{s}: {f} missing or empty"
            );
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("poverty") && stdout.contains("relapse"),
            "{s}: summary table missing:\n{stdout}"
        );
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet" || e == "csv"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn run_into(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        "--out",
        dir.to_str().unwrap(),
        "--panel",
        "--years",
        "3",
    ];
    args.extend_from_slice(extra);
    args.insert(1, "");
    let sc = scenario("two_way_market.toml");
    args[1] = &sc;
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn same_seed_gives_identical_files_across_runs_and_thread_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let c = tmp.path().join("c");
    run_into(&a, &["--threads", "1"]);
    run_into(&b, &["--threads", "1"]);
    run_into(&c, &["--threads", "2"]);
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert_eq!(
        fa.len(),
        6,
        "metrics, flows, links, markets, accounts, households"
    );
    assert!(fa == fb, "two runs with the same seed differ");
    assert!(fa == fc, "1 thread and 2 threads differ");
    let d = tmp.path().join("d");
    run_into(&d, &["--seed", "99"]);
    assert!(
        files(&d) != fa,
        "a different seed should change the outputs"
    );
}

#[test]
fn csv_format_and_refusal_of_non_empty_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("csv");
    let out = run(&[
        "run",
        &scenario("one_way_aid.toml"),
        "--out",
        dir.to_str().unwrap(),
        "--format",
        "csv",
        "--years",
        "1",
    ]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let header = text.lines().next().unwrap();
    for col in [
        "tick",
        "date",
        "region",
        "side",
        "households",
        "poverty_rate",
        "poverty_gap",
        "poverty_severity",
        "relapse_rate",
        "relapsed_cum_share",
        "relapses_per_household",
        "relapses_cum",
        "exit_survival_3y",
        "entry_rate",
        "vulnerability_share",
        "mean_income",
        "median_income",
        "gini",
        "transfer_income_share",
    ] {
        assert!(
            header.split(',').any(|h| h == col),
            "metrics.csv lacks column {col}"
        );
    }
    assert!(text.contains(",ALL,") && text.contains(",WEST,") && text.contains(",Upland,"));
    let flows = std::fs::read_to_string(dir.join("flows.csv")).unwrap();
    assert!(flows.starts_with("tick,date,link,east,west,flow,channel,direction,amount,unit"));
    // Again into the same directory: refused with exit code 2 unless --force.
    let again = run(&[
        "run",
        &scenario("one_way_aid.toml"),
        "--out",
        dir.to_str().unwrap(),
        "--years",
        "1",
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = run(&[
        "run",
        &scenario("one_way_aid.toml"),
        "--out",
        dir.to_str().unwrap(),
        "--years",
        "1",
        "--force",
    ]);
    assert!(forced.status.success());
}

/// Writes `text` as `name` in a temp dir, checks it, and returns (exit code, stderr).
fn bad(files: &[(&str, &str)], extra: &[&str]) -> (Option<i32>, String, PathBuf) {
    let tmp = tempfile::tempdir().unwrap().keep();
    for (name, text) in files {
        std::fs::write(tmp.join(name), text).unwrap();
    }
    let out_dir = tmp.join("out");
    let main = tmp.join(files[0].0);
    let mut args = vec![
        "run".to_string(),
        main.to_str().unwrap().to_string(),
        "--out".into(),
        out_dir.to_str().unwrap().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = bin().args(&args).output().unwrap();
    assert!(
        !out_dir.exists(),
        "output directory was created for bad input"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    (out.status.code(), stderr, tmp)
}

const BASE: &str = r#"name = "t"
[time]
start = "2016-01"
years = 2

[[region]]
name = "East"
side = "east"
households = 50
income_median = 20000.0
wage = 50000.0

[[region]]
name = "West"
side = "west"
households = 100
income_median = 6000.0
wage = 20000.0

[[link]]
east = "East"
west = "West"
"#;

fn with(line_after: &str, insert: &str) -> String {
    BASE.replacen(line_after, &format!("{line_after}\n{insert}"), 1)
}

#[test]
fn the_base_test_scenario_is_valid() {
    let (code, err, _) = {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("ok.toml");
        std::fs::write(&p, BASE).unwrap();
        let out = run(&["check", p.to_str().unwrap()]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
            (),
        )
    };
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn unknown_key_names_file_line_key_and_suggests() {
    let (code, err, _) = bad(
        &[("s.toml", &with("households = 100", "housholds = 3"))],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("s.toml:17"), "{err}");
    assert!(
        err.contains("region[1].housholds") && err.contains("did you mean `households`"),
        "{err}"
    );
}

#[test]
fn wrong_type_is_reported() {
    let (code, err, _) = bad(
        &[(
            "s.toml",
            &BASE.replace("households = 100", "households = \"many\""),
        )],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("s.toml:16") && err.contains("region[1].households"),
        "{err}"
    );
}

#[test]
fn negative_households_are_rejected() {
    let (code, err, _) = bad(
        &[(
            "s.toml",
            &BASE.replace("households = 100", "households = -5"),
        )],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("region[1].households"), "{err}");
}

#[test]
fn probability_out_of_range_and_nan_are_rejected() {
    let (code, err, _) = bad(
        &[("s.toml", &with("households = 100", "credibility = 1.5"))],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("s.toml:17")
            && err.contains("region[1].credibility")
            && err.contains("[0, 1]"),
        "{err}"
    );
    let (code, err, _) = bad(
        &[("s.toml", &with("households = 100", "credibility = nan"))],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("region[1].credibility") && err.contains("finite"),
        "{err}"
    );
}

#[test]
fn link_to_missing_region_lists_regions() {
    let (code, err, _) = bad(
        &[(
            "s.toml",
            &BASE.replace("west = \"West\"", "west = \"Wset\""),
        )],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("link[0].west")
            && err.contains("did you mean `West`")
            && err.contains("regions are: East, West"),
        "{err}"
    );
}

#[test]
fn bad_enum_value_lists_allowed_values() {
    let (code, err, _) = bad(
        &[(
            "s.toml",
            &BASE.replacen("side = \"west\"", "side = \"middle\"", 1),
        )],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("region[1].side") && err.contains("east") && err.contains("west"),
        "{err}"
    );
    let (code, err, _) = bad(
        &[(
            "s.toml",
            &BASE.replace("years = 2", "years = 2\nstep = \"week\""),
        )],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("time.step") && err.contains("month, quarter, year"),
        "{err}"
    );
}

#[test]
fn extends_cycle_is_reported() {
    let (code, err, _) = bad(
        &[
            ("a.toml", "extends = \"b.toml\"\nname = \"a\""),
            ("b.toml", "extends = \"a.toml\"\nname = \"b\""),
        ],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("cycle") && err.contains("a.toml") && err.contains("b.toml"),
        "{err}"
    );
}

#[test]
fn dates_outside_the_horizon_are_rejected() {
    let text = format!("{BASE}\n[[phase]]\nname = \"late\"\nstart = \"2030-01\"\n");
    let (code, err, _) = bad(&[("s.toml", &text)], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("phase[0].start") && err.contains("outside the horizon"),
        "{err}"
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let (code, err, _) = bad(
        &[("s.toml", &BASE.replace("years = 2", "years = = 2"))],
        &[],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("s.toml:4") && err.contains("syntax"), "{err}");
}

#[test]
fn bad_overrides_are_reported() {
    let (code, err, _) = bad(
        &[("s.toml", BASE)],
        &["--set", "region.Nowhere.households=5"],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("Nowhere") && err.contains("East, West"),
        "{err}"
    );
    let (code, err, _) = bad(&[("s.toml", BASE)], &["--set", "policy.leakage=2"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("policy.leakage") && err.contains("--set"),
        "{err}"
    );
}

#[test]
fn allocation_must_sum_to_one() {
    let text = format!("{BASE}\n[policy.allocation]\ntransfers = 0.9\n");
    let (code, err, _) = bad(&[("s.toml", &text)], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("policy.allocation") && err.contains("sum to 1"),
        "{err}"
    );
}

#[test]
fn extended_files_report_their_own_lines() {
    let child = "extends = \"s.toml\"\nname = \"child\"\n\n[poverty]\nline = -1.0\n";
    let (code, err, _) = bad(&[("child.toml", child), ("s.toml", BASE)], &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("child.toml:5") && err.contains("poverty.line"),
        "{err}"
    );
}
