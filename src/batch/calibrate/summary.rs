//! What a run says about each target: the target's table, column, scope and year reduced to
//! one number, read from the same tables a user sees (`metrics`, `flows`, `markets`,
//! `links`), so a target names its measure as the outputs do.
//!
//! Per tick, the rows of the scope are *summed* (a `metrics` scope has one row; `markets`
//! sums the scope's regions; `flows` and `links` the links whose western or eastern region
//! is in the scope), then the year's ticks are reduced: `year_end` takes the year's last
//! tick, `year_sum` adds the ticks up, `year_mean` averages them. The result is multiplied
//! by the target's `scale`.
//!
//! The groups `PAIRED` and `UNPAIRED` ([`GROUPS`]) are the western regions that are the
//! western end of some link, and those of none. A group's `metrics` value combines its
//! regions' rows: means ([`GROUP_MEANS`]) weighted by the rows' `households`, counts
//! ([`SUMMABLE`](crate::batch::calibrate::spec::SUMMABLE)) added up. A target with a
//! `control` and a `base_year` is a difference in differences of logs:
//! `ln(v(scope, year) / v(scope, base)) − ln(v(control, year) / v(control, base))`.

use polars::prelude::*;

use crate::batch::calibrate::spec::{Target, GROUPS, GROUP_MEANS};
use crate::model::config::{Config, Side};
use crate::output::recorder::{LinkRows, MarketRows, MetricsRows};
use crate::output::tables::{links_frame, markets_frame, metrics_frame};
use crate::output::TableRecorder;

/// Whether region `i` of `cfg` is in `scope` (a region name, `WEST`, `EAST`, `ALL`,
/// `PAIRED` or `UNPAIRED`).
fn in_scope(cfg: &Config, i: usize, scope: &str) -> bool {
    let r = &cfg.regions[i];
    let paired = || cfg.links.iter().any(|k| k.west == i);
    match scope {
        "ALL" => true,
        "WEST" => r.side == Side::West,
        "EAST" => r.side == Side::East,
        "PAIRED" => r.side == Side::West && paired(),
        "UNPAIRED" => r.side == Side::West && !paired(),
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
/// no tick in the run or the scope has no row (or, for a difference in differences, when a
/// value is not positive).
pub fn evaluate(cfg: &Config, rec: &TableRecorder, t: &Target) -> f64 {
    match &t.did {
        None => value(cfg, rec, t, &t.region, t.year) * t.scale,
        Some(d) => {
            let growth = |scope: &str| {
                let (now, then) = (
                    value(cfg, rec, t, scope, t.year),
                    value(cfg, rec, t, scope, d.base_year),
                );
                if now > 0.0 && then > 0.0 {
                    (now / then).ln()
                } else {
                    f64::NAN
                }
            };
            growth(&t.region) - growth(&d.control)
        }
    }
}

/// The value of `t`'s table and measure for `scope` in `year`, reduced over the year's ticks
/// by `t.aggregate` (unscaled).
fn value(cfg: &Config, rec: &TableRecorder, t: &Target, scope: &str, year: i32) -> f64 {
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
    let in_year = |tick: u32| cal.date(tick).year == year;
    // A group's means are weighted by households (`weight` per tick); other rows add up.
    let grouped = t.table == "metrics" && GROUPS.contains(&scope);
    let mean = grouped && GROUP_MEANS.contains(&t.measure.as_str());
    let mut weight = vec![0.0f64; ticks];
    // The table's rows of the scope and year, as a frame, with their ticks.
    let frame = match t.table.as_str() {
        "metrics" => {
            // One row per tick, or for a group its regions' rows, combined below.
            let rows = &rec.metrics;
            let in_rows = |name: &str| {
                if grouped {
                    cfg.regions
                        .iter()
                        .position(|r| r.name == name)
                        .is_some_and(|i| in_scope(cfg, i, scope))
                } else {
                    name == scope
                }
            };
            let keep: Vec<usize> = (0..rows.tick.len())
                .filter(|&i| in_year(rows.tick[i]) && in_rows(&rows.region[i]))
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
                .filter(|&i| in_scope(cfg, rows.region[i] as usize, scope) && in_year(rows.tick[i]))
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
                    link_in_scope(cfg, rows.link[i] as usize, scope) && in_year(rows.tick[i])
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
                let households = if mean {
                    floats(&df, "households")
                } else {
                    vec![1.0; ticks.len()]
                };
                for ((tick, v), h) in ticks.iter().zip(floats(&df, &t.measure)).zip(households) {
                    add(*tick, h * v);
                    if let Some(w) = weight.get_mut(*tick as usize) {
                        *w += h;
                    }
                }
            }
        }
        None => {
            let rows = &rec.flows;
            for i in 0..rows.tick.len() {
                if rows.channel[i].as_str() == t.measure
                    && link_in_scope(cfg, rows.link[i] as usize, scope)
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
        .map(|i| {
            if mean {
                per_tick[i] / weight[i]
            } else {
                per_tick[i]
            }
        })
        .collect();
    if year.is_empty() {
        return f64::NAN;
    }
    match t.aggregate.as_str() {
        "year_sum" => year.iter().sum(),
        "year_mean" => year.iter().sum::<f64>() / year.len() as f64,
        _ => *year.last().unwrap_or(&f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::calibrate::spec::{downscale, Did};
    use crate::model::run::run;
    use crate::scenario::load_builtin;

    fn target(measure: &str, region: &str, year: i32, aggregate: &str) -> Target {
        Target {
            name: "t".into(),
            table: "metrics".into(),
            measure: measure.into(),
            region: region.into(),
            year,
            aggregate: aggregate.into(),
            scale: 1.0,
            value: 0.0,
            sigma: 1.0,
            justification: "j".into(),
            source: "s".into(),
            holdout: false,
            did: None,
        }
    }

    /// A small `zhejiang_mountain_sea` run: 19 paired and 7 unpaired mountain counties.
    fn zhejiang() -> (Config, TableRecorder) {
        let base = load_builtin("zhejiang_mountain_sea.toml", &[]).expect("loads");
        let cfg = load_builtin("zhejiang_mountain_sea.toml", &downscale(&base, 0.02))
            .expect("loads")
            .config;
        let mut rec = TableRecorder::new(&cfg, false);
        run(&cfg, &mut rec);
        (cfg, rec)
    }

    #[test]
    fn groups_combine_their_regions_rows_and_did_is_a_difference_of_log_growths() {
        let (cfg, rec) = zhejiang();
        let paired: Vec<usize> = (0..cfg.regions.len())
            .filter(|&i| in_scope(&cfg, i, "PAIRED"))
            .collect();
        let unpaired: Vec<usize> = (0..cfg.regions.len())
            .filter(|&i| in_scope(&cfg, i, "UNPAIRED"))
            .collect();
        assert_eq!((paired.len(), unpaired.len()), (19, 7));
        // The group's mean income at the end of 2020, by hand from the regions' rows.
        let end = (0..cfg.calendar.ticks)
            .filter(|&k| cfg.calendar.date(k).year == 2020)
            .max()
            .expect("2020 simulated");
        let by_hand = |group: &[usize]| {
            let (mut num, mut den) = (0.0, 0.0);
            let df = metrics_frame(&cfg, &rec.metrics).expect("frame");
            let (y, h) = (floats(&df, "mean_income"), floats(&df, "households"));
            for i in 0..rec.metrics.tick.len() {
                let name = &rec.metrics.region[i];
                if rec.metrics.tick[i] == end && group.iter().any(|&g| cfg.regions[g].name == *name)
                {
                    num += h[i] * y[i];
                    den += h[i];
                }
            }
            num / den
        };
        let v = evaluate(
            &cfg,
            &rec,
            &target("mean_income", "PAIRED", 2020, "year_end"),
        );
        assert!((v / by_hand(&paired) - 1.0).abs() < 1e-12, "{v}");
        let c = evaluate(
            &cfg,
            &rec,
            &target("mean_income", "UNPAIRED", 2020, "year_end"),
        );
        assert!((c / by_hand(&unpaired) - 1.0).abs() < 1e-12, "{c}");
        // Counts add up: the two groups make the west.
        let count = |scope| evaluate(&cfg, &rec, &target("relapses", scope, 2020, "year_sum"));
        let west = count("WEST");
        assert!(west > 0.0);
        assert!(((count("PAIRED") + count("UNPAIRED")) / west - 1.0).abs() < 1e-9);
        // The difference in differences, by hand; against itself it is 0.
        let mut did = target("mean_income", "PAIRED", 2020, "year_end");
        did.did = Some(Did {
            control: "UNPAIRED".into(),
            base_year: 2016,
        });
        let at =
            |scope, year| evaluate(&cfg, &rec, &target("mean_income", scope, year, "year_end"));
        let expect = (at("PAIRED", 2020) / at("PAIRED", 2016)).ln()
            - (at("UNPAIRED", 2020) / at("UNPAIRED", 2016)).ln();
        assert_eq!(evaluate(&cfg, &rec, &did).to_bits(), expect.to_bits());
        did.did = Some(Did {
            control: "PAIRED".into(),
            base_year: 2016,
        });
        assert_eq!(evaluate(&cfg, &rec, &did), 0.0);
    }

    #[test]
    fn an_empty_group_has_no_value() {
        let cfg = load_builtin(
            "two_way_market.toml",
            &[
                "region.Upland.households=300".into(),
                "region.Coastal.households=100".into(),
            ],
        )
        .expect("loads")
        .config;
        let mut rec = TableRecorder::new(&cfg, false);
        run(&cfg, &mut rec);
        assert!(evaluate(
            &cfg,
            &rec,
            &target("mean_income", "UNPAIRED", 2021, "year_end")
        )
        .is_nan());
        let paired = evaluate(
            &cfg,
            &rec,
            &target("mean_income", "PAIRED", 2021, "year_end"),
        );
        let upland = evaluate(
            &cfg,
            &rec,
            &target("mean_income", "Upland", 2021, "year_end"),
        );
        assert!((paired / upland - 1.0).abs() < 1e-12);
    }
}
