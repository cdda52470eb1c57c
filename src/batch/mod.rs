//! Running scenarios: single runs, replicates in parallel, yearly summaries and two-scenario
//! comparisons with spreads across replicates; [`runner`] runs whole batch files.

pub mod runner;

use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::Config;
use crate::engine;
use crate::output::TableRecorder;
use crate::rng::Streams;
use crate::world::World;

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Everything recorded.
    pub recorder: TableRecorder,
    /// Final state.
    pub world: World,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs one configuration to its horizon.
pub fn run_one(cfg: &Config, panel: bool) -> RunResult {
    let start = Instant::now();
    let mut rec = TableRecorder::new(cfg, panel);
    let world = engine::run(cfg, &mut rec);
    RunResult {
        recorder: rec,
        world,
        elapsed: start.elapsed(),
    }
}

/// The configuration of replicate `r`: same scenario, seed derived from the master seed
/// and the replicate index (never from the thread that runs it).
pub fn replicate_config(cfg: &Config, r: u32) -> Config {
    let mut c = cfg.clone();
    c.seed = Streams::new(cfg.seed).replicate_seed(r as u64);
    c
}

/// One year's headline numbers for the western side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YearRow {
    /// Calendar year of the year's last tick.
    pub year: i32,
    /// Western poverty headcount ratio at the year end.
    pub poverty_rate: f64,
    /// Western relapses during the year over households exited at the year's start
    /// (NaN when none had exited).
    pub relapse_rate: f64,
    /// Western vulnerability share at the year end.
    pub vulnerability_share: f64,
    /// Western mean per-capita income at the year end.
    pub mean_income: f64,
    /// East/west mean income ratio at the year end.
    pub east_west_ratio: f64,
    /// Share of western income from transfers at the year end.
    pub transfer_income_share: f64,
}

/// Names of the [`YearRow`] measures, in order.
pub const YEAR_MEASURES: [&str; 6] = [
    "poverty_rate",
    "relapse_rate",
    "vulnerability_share",
    "mean_income",
    "east_west_ratio",
    "transfer_income_share",
];

impl YearRow {
    /// The measures in [`YEAR_MEASURES`] order.
    pub fn values(&self) -> [f64; 6] {
        [
            self.poverty_rate,
            self.relapse_rate,
            self.vulnerability_share,
            self.mean_income,
            self.east_west_ratio,
            self.transfer_income_share,
        ]
    }
}

/// Yearly summary of a run from its recorded metrics (rows `WEST` and `ALL`).
pub fn yearly(cfg: &Config, rec: &TableRecorder) -> Vec<YearRow> {
    let tpy = cfg.calendar.ticks_per_year();
    let m = &rec.metrics;
    let mut out = Vec::new();
    let years = cfg.calendar.ticks / tpy;
    for y in 0..years {
        let first = y * tpy;
        let last = first + tpy - 1;
        let mut relapses = 0.0;
        let mut exited_first = 0.0;
        let mut end = None;
        let mut ratio = f64::NAN;
        for i in 0..m.tick.len() {
            let t = m.tick[i];
            if t < first || t > last {
                continue;
            }
            if m.region[i] == "WEST" {
                relapses += m.m[i].relapses;
                if t == first {
                    exited_first = m.m[i].exited_start;
                }
                if t == last {
                    end = Some(m.m[i]);
                }
            }
            if m.region[i] == "ALL" && t == last {
                ratio = m.sys[i].map(|s| s.east_west_ratio).unwrap_or(f64::NAN);
            }
        }
        if let Some(e) = end {
            out.push(YearRow {
                year: cfg.calendar.date(last).year,
                poverty_rate: e.poverty_rate,
                // Undefined (NaN) in a year that starts with no exited household at risk.
                relapse_rate: if exited_first > 0.0 {
                    relapses / exited_first
                } else {
                    f64::NAN
                },
                vulnerability_share: e.vulnerability_share,
                mean_income: e.mean_income,
                east_west_ratio: ratio,
                transfer_income_share: e.transfer_income_share,
            });
        }
    }
    out
}

/// Runs `n` replicates in parallel and returns their results in replicate order.
pub fn replicates(cfg: &Config, n: u32, panel: bool) -> Vec<RunResult> {
    (0..n)
        .into_par_iter()
        .map(|r| run_one(&replicate_config(cfg, r), panel))
        .collect()
}

/// Mean, and half-width of a 95% confidence interval (Student t) of `xs`.
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    if xs.iter().any(|x| x.is_nan()) {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    if n == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if n < 2.0 {
        return (mean, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, t95(n as usize - 1) * (var / n).sqrt())
}

/// Two-sided 95% Student-t quantile for `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if df == 0 {
        f64::NAN
    } else if df <= 30 {
        T[df - 1]
    } else {
        1.96 + 2.5 / df as f64
    }
}

/// Per-year comparison of one measure between two scenarios.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// Year.
    pub year: i32,
    /// Measure name.
    pub measure: &'static str,
    /// Mean and CI half-width in scenario A.
    pub a: (f64, f64),
    /// Mean and CI half-width in scenario B.
    pub b: (f64, f64),
    /// Mean of B − A and the CI half-width of the difference (Welch).
    pub diff: (f64, f64),
}

/// Compares yearly summaries of replicates of A and B.
pub fn compare(a: &[Vec<YearRow>], b: &[Vec<YearRow>]) -> Vec<CompareRow> {
    let mut out = Vec::new();
    let years = a
        .first()
        .map(|r| r.len())
        .unwrap_or(0)
        .min(b.first().map(|r| r.len()).unwrap_or(0));
    for y in 0..years {
        for (k, name) in YEAR_MEASURES.iter().enumerate() {
            let xa: Vec<f64> = a.iter().map(|r| r[y].values()[k]).collect();
            let xb: Vec<f64> = b.iter().map(|r| r[y].values()[k]).collect();
            let (ma, ha) = mean_ci(&xa);
            let (mb, hb) = mean_ci(&xb);
            let sa = se(&xa);
            let sb = se(&xb);
            let se_d = (sa * sa + sb * sb).sqrt();
            // Welch–Satterthwaite degrees of freedom.
            let (na, nb) = (xa.len() as f64, xb.len() as f64);
            let num = (sa * sa + sb * sb).powi(2);
            let den = sa.powi(4) / (na - 1.0).max(1.0) + sb.powi(4) / (nb - 1.0).max(1.0);
            let df = if den > 0.0 {
                (num / den).floor().max(1.0) as usize
            } else {
                (xa.len() + xb.len()).saturating_sub(2).max(1)
            };
            out.push(CompareRow {
                year: a[0][y].year,
                measure: name,
                a: (ma, ha),
                b: (mb, hb),
                diff: (mb - ma, t95(df) * se_d),
            });
        }
    }
    out
}

fn se(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_of_constant_is_zero_and_grows_with_spread() {
        let (m, h) = mean_ci(&[2.0, 2.0, 2.0]);
        assert_eq!((m, h), (2.0, 0.0));
        let (_, h1) = mean_ci(&[1.0, 2.0, 3.0]);
        let (_, h2) = mean_ci(&[0.0, 2.0, 4.0]);
        assert!(h2 > h1 && h1 > 0.0);
    }
}
