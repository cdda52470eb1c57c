//! Helpers shared by the mechanism tests: a small population at the scenario's real scale,
//! per-replicate means of western measures over a window of year ends, paired differences.

#![allow(dead_code)]

use xiezuo::batch::replicate::replicates;
use xiezuo::model::config::Config;
use xiezuo::model::metrics::Measures;
use xiezuo::scenario::load_builtin;
use xiezuo::stats::mean_ci;

/// Paired replicates per arm (ODD: 20 paired replicates on ≤ 5,000 households).
pub const REPS: u32 = 20;

/// A built-in scenario with 5,000 simulated western (500 eastern) households at four times
/// the weight: the same real population, so that aid per household is the scenario's; then
/// the overrides `set`.
pub fn small(name: &str, set: &[&str]) -> Config {
    let mut o: Vec<String> = vec![
        "region.Upland.households=5000".into(),
        "region.Upland.weight=200".into(),
        "region.Coastal.households=500".into(),
        "region.Coastal.weight=800".into(),
    ];
    o.extend(set.iter().map(|s| s.to_string()));
    load_builtin(name, &o)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

/// Per replicate (common random numbers: replicate `i` of every arm has the same seed), the
/// mean of each measure over the western side's year ends from `from` to `to` (years,
/// inclusive).
pub fn west_means(
    cfg: &Config,
    from: i32,
    to: i32,
    measures: &[fn(&Measures) -> f64],
) -> Vec<Vec<f64>> {
    let tpy = cfg.calendar.ticks_per_year();
    replicates(cfg, REPS, false)
        .iter()
        .map(|r| {
            let m = &r.recorder.metrics;
            let mut sum = vec![0.0; measures.len()];
            let mut n = 0.0;
            for i in 0..m.tick.len() {
                let t = m.tick[i];
                let year = cfg.calendar.date(t).year;
                if m.region[i] != "WEST" || (t + 1) % tpy != 0 || year < from || year > to {
                    continue;
                }
                for (s, f) in sum.iter_mut().zip(measures) {
                    *s += f(&m.m[i]);
                }
                n += 1.0;
            }
            sum.iter().map(|s| s / n).collect()
        })
        .collect()
}

/// Mean and 95% half-width of `b[k] − a[k]` over paired replicates.
pub fn paired(a: &[Vec<f64>], b: &[Vec<f64>], k: usize) -> (f64, f64) {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y[k] - x[k]).collect();
    mean_ci(&d)
}

/// Prints, for each measure `names[k]`, the paired effect on − off and the off − off
/// difference of a control arm (the mechanism's other keys varied with it switched off).
pub fn print_effects(names: &[&str], off: &[Vec<f64>], on: &[Vec<f64>], same: &[Vec<f64>]) {
    for (k, what) in names.iter().enumerate() {
        let (d, h) = paired(off, on, k);
        let (d0, h0) = paired(off, same, k);
        eprintln!("{what}: on − off {d:+.5} ± {h:.5}; off − off {d0:+.5} ± {h0:.5}");
    }
}
