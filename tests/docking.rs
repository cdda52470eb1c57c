//! Docking of the model with its own reference distributions (issue 15): a change that moves
//! output bytes without meaning to change the model (own `ln`/`exp`, another reduction order
//! or draw layout) must leave the distribution of every measure unchanged. The reference,
//! `tests/docking/reference.csv`, holds year-end western measures of 30 seeds of three
//! scenarios made by the model before such a change; the test runs 30 *other* seeds of the
//! same scenarios (independent samples) and compares each measure and year with a
//! two-sample Kolmogorov–Smirnov test. Under an unchanged model about 1% of the tests reject
//! at α = 0.01; the test fails when clearly more do. A changed model (income noise × 1.4)
//! must fail it. `tests/golden.rs` catches every byte that moves; this test says whether the
//! move matters.
//!
//! Re-make the reference only when the model's behaviour is meant to change (and say so in
//! the CHANGELOG): `XIEZUO_BLESS_DOCKING=1 cargo test --release --test docking`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rayon::prelude::*;
use xiezuo::batch::calibrate::spec::downscale;
use xiezuo::model::metrics::Measures;
use xiezuo::model::run::run;
use xiezuo::output::TableRecorder;
use xiezuo::scenario::load_builtin;
use xiezuo::stats::testing::ks_two_sample;

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/docking/reference.csv");
const SEEDS: u64 = 30;
/// Reference seeds are 1..=30; candidate seeds start here.
const CANDIDATE_SEED: u64 = 1001;
const ALPHA: f64 = 0.01;

type Measure = (&'static str, fn(&Measures) -> f64);

/// Year-end western measures compared (a spread of levels, rates, distribution and labour
/// measures; the monitoring ones are live in `china_2021_pairings`).
const MEASURES: [Measure; 15] = [
    ("poverty_rate", |m| m.poverty_rate),
    ("poverty_gap", |m| m.poverty_gap),
    ("exit_rate", |m| m.exit_rate),
    ("relapse_rate", |m| m.relapse_rate),
    ("mean_income", |m| m.mean_income),
    ("median_income", |m| m.median_income),
    ("gini", |m| m.gini),
    ("mean_vulnerability", |m| m.mean_vulnerability),
    ("vulnerability_share", |m| m.vulnerability_share),
    ("transfer_income_share", |m| m.transfer_income_share),
    ("dibao_share", |m| m.dibao_share),
    ("migrants", |m| m.migrants),
    ("local_jobs", |m| m.local_jobs),
    ("mean_skill", |m| m.mean_skill),
    ("monitored_share", |m| m.monitored_share),
];

/// (scenario, overrides): small enough for CI, long enough to cover aid, withdrawal and a
/// shock.
fn scenarios() -> Vec<(&'static str, Vec<String>)> {
    let small = |name: &'static str| {
        (
            name,
            vec![
                "region.Upland.households=3000".to_string(),
                "region.Coastal.households=600".to_string(),
                "time.years=8".to_string(),
            ],
        )
    };
    let china = load_builtin("china_2021_pairings.toml", &[]).expect("built-in");
    let mut china_set = downscale(&china, 0.05);
    china_set.push("time.years=6".to_string());
    vec![
        small("two_way_market"),
        small("one_way_aid"),
        ("china_2021_pairings", china_set),
    ]
}

/// (scenario, measure, year).
type Key = (String, String, i32);
/// (scenario, measure, year) → values over seeds, in seed order.
type Sample = BTreeMap<Key, Vec<f64>>;

fn sample(scenarios: &[(&'static str, Vec<String>)], first_seed: u64) -> Sample {
    let jobs: Vec<(usize, u64)> = (0..scenarios.len())
        .flat_map(|s| (first_seed..first_seed + SEEDS).map(move |seed| (s, seed)))
        .collect();
    let rows: Vec<Vec<(Key, f64)>> = jobs
        .par_iter()
        .map(|&(s, seed)| {
            let (name, set) = &scenarios[s];
            let mut cfg = load_builtin(&format!("{name}.toml"), set)
                .expect("a valid scenario")
                .config;
            cfg.seed = seed;
            let mut rec = TableRecorder::new(&cfg, false);
            run(&cfg, &mut rec);
            let tpy = cfg.calendar.ticks_per_year();
            let m = &rec.metrics;
            let mut out = Vec::new();
            for i in 0..m.tick.len() {
                let t = m.tick[i];
                if m.region[i] != "WEST" || (t + 1) % tpy != 0 {
                    continue;
                }
                let year = cfg.calendar.date(t).year;
                for (measure, f) in MEASURES {
                    out.push(((name.to_string(), measure.to_string(), year), f(&m.m[i])));
                }
            }
            out
        })
        .collect();
    let mut sample = Sample::new();
    for run_rows in rows {
        for (key, v) in run_rows {
            sample.entry(key).or_default().push(v);
        }
    }
    sample
}

fn read_reference() -> Sample {
    let text = std::fs::read_to_string(REFERENCE).expect(
        "tests/docking/reference.csv (make it with XIEZUO_BLESS_DOCKING=1 cargo test --release --test docking)",
    );
    let mut sample = Sample::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let v: f64 = f[4].parse().expect("a number");
        sample
            .entry((
                f[0].to_string(),
                f[2].to_string(),
                f[3].parse().expect("a year"),
            ))
            .or_default()
            .push(v);
    }
    sample
}

fn write_reference(sample: &Sample) {
    let mut s = String::from("scenario,seed,measure,year,value\n");
    for ((scenario, measure, year), values) in sample {
        for (k, v) in values.iter().enumerate() {
            writeln!(s, "{scenario},{},{measure},{year},{v:?}", k as u64 + 1).unwrap();
        }
    }
    std::fs::create_dir_all(std::path::Path::new(REFERENCE).parent().unwrap()).unwrap();
    std::fs::write(REFERENCE, s).unwrap();
}

/// KS tests of every (scenario, measure, year) present in both samples with at least 10
/// non-NaN values in each: (key, D, p), sorted by p.
fn compare(reference: &Sample, candidate: &Sample) -> Vec<(String, f64, f64)> {
    let mut out = Vec::new();
    for (key, a) in candidate {
        let Some(b) = reference.get(key) else {
            continue;
        };
        let live = |x: &[f64]| x.iter().filter(|v| !v.is_nan()).count() >= 10;
        if !live(a) || !live(b) {
            continue;
        }
        let (d, p) = ks_two_sample(a, b);
        out.push((format!("{} {} {}", key.0, key.1, key.2), d, p));
    }
    out.sort_by(|x, y| x.2.total_cmp(&y.2));
    out
}

/// The most rejections at α that `m` tests of an unchanged model allow: the mean plus four
/// binomial standard deviations, and at least 3 (the measures are correlated, so rejections
/// come in small clusters).
fn allowed(m: usize) -> usize {
    let mean = ALPHA * m as f64;
    let sd = (m as f64 * ALPHA * (1.0 - ALPHA)).sqrt();
    ((mean + 4.0 * sd).ceil() as usize).max(3)
}

fn report(tests: &[(String, f64, f64)]) -> String {
    let mut s = String::new();
    for (key, d, p) in tests.iter().take(12) {
        writeln!(s, "  {key:<55} D = {d:.3}  p = {p:.2e}").unwrap();
    }
    s
}

#[test]
fn the_model_docks_with_its_reference_distributions() {
    let scenarios = scenarios();
    if std::env::var_os("XIEZUO_BLESS_DOCKING").is_some() {
        write_reference(&sample(&scenarios, 1));
        return;
    }
    let reference = read_reference();
    let candidate = sample(&scenarios, CANDIDATE_SEED);
    let tests = compare(&reference, &candidate);
    // Every scenario, measure and year in the reference is compared (or has too few values).
    assert!(tests.len() >= 200, "only {} comparisons", tests.len());
    let rejected = tests.iter().filter(|t| t.2 < ALPHA).count();
    println!(
        "{} KS tests, {rejected} rejected at α = {ALPHA} (allowed {}); smallest p:\n{}",
        tests.len(),
        allowed(tests.len()),
        report(&tests)
    );
    assert!(
        rejected <= allowed(tests.len()),
        "{rejected} of {} KS tests reject at α = {ALPHA} (allowed {}): the model's distributions moved.\n{}",
        tests.len(),
        allowed(tests.len()),
        report(&tests)
    );
}

#[test]
fn docking_detects_a_changed_model() {
    let reference = read_reference();
    let mut changed = scenarios();
    changed.truncate(1);
    // Income noise 0.25 → 0.35: a behavioural change the test must see.
    changed[0]
        .1
        .push("households.income_noise=0.35".to_string());
    let candidate = sample(&changed, CANDIDATE_SEED);
    let tests = compare(&reference, &candidate);
    let rejected = tests.iter().filter(|t| t.2 < ALPHA).count();
    assert!(
        rejected > allowed(tests.len()),
        "only {rejected} of {} KS tests reject a model with 40% more income noise (allowed {})",
        tests.len(),
        allowed(tests.len())
    );
}
