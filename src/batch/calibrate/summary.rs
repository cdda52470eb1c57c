//! What a run says about each target: the target's table, column, scope and year reduced to
//! one number, read from the same tables a user sees (`metrics`, `flows`, `markets`,
//! `links`), so a target names its measure as the outputs do.
//!
//! Per tick, the rows of the scope are *summed* (a `metrics` scope has one row; `markets`
//! sums the scope's regions; `flows` and `links` the links whose western or eastern region
//! is in the scope), then the year's ticks are reduced: `year_end` takes the year's last
//! tick, `year_sum` adds the ticks up, `year_mean` averages them. The result is multiplied
//! by the target's `scale`.

use polars::prelude::*;

use crate::batch::calibrate::spec::Target;
use crate::model::config::{Config, Side};
use crate::output::recorder::{LinkRows, MarketRows, MetricsRows};
use crate::output::tables::{links_frame, markets_frame, metrics_frame};
use crate::output::TableRecorder;

/// Whether region `i` of `cfg` is in `scope` (a region name, `WEST`, `EAST` or `ALL`).
fn in_scope(cfg: &Config, i: usize, scope: &str) -> bool {
    let r = &cfg.regions[i];
    match scope {
        "ALL" => true,
        "WEST" => r.side == Side::West,
        "EAST" => r.side == Side::East,
        name => r.name == name,
    }
}

/// Whether link `l` touches `scope` (its western region is in it, or its eastern one).
fn link_in_scope(cfg: &Config, l: usize, scope: &str) -> bool {
    let k = &cfg.links[l];
    match scope {
        "ALL" | "WEST" | "EAST" => true,
        _ => in_scope(cfg, k.west, scope) || in_scope(cfg, k.east, scope),
    }
}

/// The values of the float column `name` of `df` (NaN for nulls).
fn floats(df: &DataFrame, name: &str) -> Vec<f64> {
    df.column(name)
        .ok()
        .and_then(|c| {
            c.f64()
                .ok()
                .map(|c| (0..c.len()).map(|i| c.get(i).unwrap_or(f64::NAN)).collect())
        })
        .unwrap_or_default()
}

/// The elements of `v` at the indices `keep`, in order.
fn pick<T: Clone>(v: &[T], keep: &[usize]) -> Vec<T> {
    keep.iter().map(|&i| v[i].clone()).collect()
}

/// Metrics columns a run computes only on ticks whose recorder asks for them
/// ([`crate::model::recorder::Recorder::wants_distribution`]): the distribution measures.
pub const DISTRIBUTION_COLUMNS: [&str; 7] = [
    "mean_vulnerability",
    "median_income",
    "gini",
    "theil_region",
    "theil",
    "theil_within",
    "theil_between",
];

/// Whether some target reads a distribution measure on ticks other than the year's last
/// (a `year_sum` or `year_mean` of one): then a run must compute them every tick; else at
/// year ends only, which changes no target's value.
pub fn needs_distribution_every_tick(targets: &[Target]) -> bool {
    targets.iter().any(|t| {
        t.table == "metrics"
            && DISTRIBUTION_COLUMNS.contains(&t.measure.as_str())
            && t.aggregate != "year_end"
    })
}

/// The target's value in one run (before averaging over replicates): NaN when the year has
/// no tick in the run or the scope has no row.
pub fn evaluate(cfg: &Config, rec: &TableRecorder, t: &Target) -> f64 {
    let cal = &cfg.calendar;
    let ticks = cal.ticks as usize;
    let mut per_tick = vec![0.0f64; ticks];
    let mut seen = vec![false; ticks];
    let mut add = |tick: u32, v: f64| {
        if let Some(x) = per_tick.get_mut(tick as usize) {
            *x += v;
            seen[tick as usize] = true;
        }
    };
    let in_year = |tick: u32| cal.date(tick).year == t.year;
    // The table's rows of the scope and year, as a frame, with their ticks.
    let frame = match t.table.as_str() {
        "metrics" => {
            let rows = &rec.metrics;
            let keep: Vec<usize> = (0..rows.tick.len())
                .filter(|&i| rows.region[i] == t.region && in_year(rows.tick[i]))
                .collect();
            let sub = MetricsRows {
                tick: pick(&rows.tick, &keep),
                region: pick(&rows.region, &keep),
                side: pick(&rows.side, &keep),
                m: pick(&rows.m, &keep),
                sys: pick(&rows.sys, &keep),
            };
            Some((metrics_frame(cfg, &sub), sub.tick))
        }
        "markets" => {
            let rows = &rec.markets;
            let keep: Vec<usize> = (0..rows.tick.len())
                .filter(|&i| {
                    in_scope(cfg, rows.region[i] as usize, &t.region) && in_year(rows.tick[i])
                })
                .collect();
            let sub = MarketRows {
                tick: pick(&rows.tick, &keep),
                region: pick(&rows.region, &keep),
                r: pick(&rows.r, &keep),
            };
            Some((markets_frame(cfg, &sub), sub.tick))
        }
        "links" => {
            let rows = &rec.links;
            let keep: Vec<usize> = (0..rows.tick.len())
                .filter(|&i| {
                    link_in_scope(cfg, rows.link[i] as usize, &t.region) && in_year(rows.tick[i])
                })
                .collect();
            let sub = LinkRows {
                tick: pick(&rows.tick, &keep),
                link: pick(&rows.link, &keep),
                r: pick(&rows.r, &keep),
            };
            Some((links_frame(cfg, &sub), sub.tick))
        }
        _ => None,
    };
    match frame {
        Some((df, ticks)) => {
            if let Ok(df) = df {
                for (tick, v) in ticks.iter().zip(floats(&df, &t.measure)) {
                    add(*tick, v);
                }
            }
        }
        None => {
            let rows = &rec.flows;
            for i in 0..rows.tick.len() {
                if rows.channel[i].as_str() == t.measure
                    && link_in_scope(cfg, rows.link[i] as usize, &t.region)
                    && in_year(rows.tick[i])
                {
                    add(rows.tick[i], rows.amount[i]);
                }
            }
            // A year's ticks without a row of the channel carried nothing.
            for (tick, s) in seen.iter_mut().enumerate() {
                if in_year(tick as u32) {
                    *s = true;
                }
            }
        }
    }
    let year: Vec<f64> = (0..ticks)
        .filter(|&i| seen[i])
        .map(|i| per_tick[i])
        .collect();
    if year.is_empty() {
        return f64::NAN;
    }
    let v = match t.aggregate.as_str() {
        "year_sum" => year.iter().sum(),
        "year_mean" => year.iter().sum::<f64>() / year.len() as f64,
        _ => *year.last().unwrap_or(&f64::NAN),
    };
    v * t.scale
}
