//! `scenarios/mechanisms/`: one small scenario per mechanism, off and on (issue 10 item 11).
//! Each pair must differ only in the mechanism's keys (and its name), so that comparing the
//! two isolates the mechanism; and a pair runs through `compare` as a user would.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Flattens a TOML table to `path → value text` (array elements by index).
fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        toml::Value::Array(a) if a.iter().all(|x| x.is_table()) && !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn resolved(name: &str) -> BTreeMap<String, String> {
    let path = root().join("scenarios/mechanisms").join(name);
    let loaded = xiezuo::scenario::load_file(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut out = BTreeMap::new();
    flatten("", &toml::Value::Table(loaded.resolved), &mut out);
    out
}

/// The pairs and the keys each may differ in (besides `name` and `description`).
const PAIRS: [(&str, &[&str]); 11] = [
    ("monitoring", &["protection.monitoring_detection"]),
    ("assistance", &["protection.assistance_cap"]),
    ("insurance", &["protection.insurance_premium"]),
    ("supervision", &["policy.supervision"]),
    ("evaluation", &["centre.third_party"]),
    ("matching", &["policy.joint_research"]),
    ("outcome", &["centre.outcome_weight", "centre.reallocation"]),
    (
        "reserve",
        &["policy.allocation.transfers", "policy.allocation.reserve"],
    ),
    ("social", &["social.mobilisation"]),
    ("relief", &["social.targeting"]),
    (
        "training",
        &[
            "policy.allocation.welfare_posts",
            "policy.allocation.training",
        ],
    ),
];

#[test]
fn each_pair_differs_only_in_its_mechanism() {
    let mut files: Vec<String> = std::fs::read_dir(root().join("scenarios/mechanisms"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| f.ends_with(".toml") && f != "small.toml")
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        2 * PAIRS.len(),
        "every file belongs to a pair: {files:?}"
    );
    for (m, keys) in PAIRS {
        let (off, on) = (
            resolved(&format!("{m}_off.toml")),
            resolved(&format!("{m}_on.toml")),
        );
        let all: std::collections::BTreeSet<&String> = off.keys().chain(on.keys()).collect();
        let differ: Vec<&str> = all
            .into_iter()
            .filter(|k| off.get(*k) != on.get(*k))
            .map(|k| k.as_str())
            .filter(|k| *k != "name" && *k != "description")
            .collect();
        let mut want: Vec<&str> = keys.to_vec();
        want.sort();
        assert_eq!(differ, want, "{m}: the pair differs in {differ:?}");
    }
}

#[test]
fn a_pair_runs_through_compare() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = root().join("scenarios/mechanisms");
    let o = Command::new(env!("CARGO_BIN_EXE_xiezuo"))
        .args([
            "compare",
            dir.join("insurance_off.toml").to_str().unwrap(),
            dir.join("insurance_on.toml").to_str().unwrap(),
            "--replicates",
            "2",
            "--out",
            tmp.path().join("cmp").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(tmp.path().join("cmp/comparison.parquet").exists());
}

#[test]
#[ignore = "a measurement for the notes: cargo test --release --test mechanism_files -- --ignored --nocapture"]
fn every_pair_measured() {
    #[path = "common/mod.rs"]
    mod common;
    let measures: [fn(&xiezuo::model::metrics::Measures) -> f64; 3] = [
        |m| m.relapses_per_household,
        |m| m.poverty_rate,
        |m| m.registered_relapses / m.households,
    ];
    let load = |f: &str| {
        xiezuo::scenario::load_file(&root().join("scenarios/mechanisms").join(f), &[])
            .unwrap_or_else(|e| panic!("{e}"))
            .config
    };
    for (m, _) in PAIRS {
        let (off, on) = (
            load(&format!("{m}_off.toml")),
            load(&format!("{m}_on.toml")),
        );
        for (from, to) in [(2016, 2020), (2021, 2025)] {
            let a = common::west_means(&off, from, to, &measures);
            let b = common::west_means(&on, from, to, &measures);
            let cells: Vec<String> = (0..measures.len())
                .map(|k| {
                    let (d, h) = common::paired(&a, &b, k);
                    format!("{d:+.5} ± {h:.5}")
                })
                .collect();
            eprintln!("| {m} | {from}–{to} | {} |", cells.join(" | "));
        }
    }
}
