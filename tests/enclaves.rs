//! Enclaves and the policy cliff (004; ODD §7.6): the eastern plants a link brings share
//! one enclave park whose productivity rises with its tenants (`firms.agglomeration`); the
//! incentives promised to them are a policy a phase can cut (`phase.scales.incentives`). A
//! cliff after the push (mobilisation cut to 0.3, incentives ended) stalls the park when
//! its plants' returns fall below the hurdle and they leave, and each exit lowers the
//! others' productivity.

mod common;

use common::{paired, print_effects, small as builtin, west_means, REPS};
use xiezuo::batch::replicate::replicates;
use xiezuo::model::config::Config;

fn small(set: &[&str]) -> Config {
    builtin("two_way_market.toml", set)
}

/// Per replicate: eastern plants in the west at the end of the run, and plant exits over
/// 2021–2025 per plant present at the start of 2021.
fn plants(cfg: &Config) -> Vec<Vec<f64>> {
    let west = cfg.regions.iter().position(|r| r.name == "Upland").unwrap() as u16;
    let tpy = cfg.calendar.ticks_per_year();
    replicates(cfg, REPS, false)
        .iter()
        .map(|r| {
            let m = &r.recorder.markets;
            let (mut at_2021, mut exits, mut end) = (0.0, 0.0, 0.0);
            for i in 0..m.tick.len() {
                if m.region[i] != west {
                    continue;
                }
                let year = cfg.calendar.date(m.tick[i]).year;
                if m.tick[i] + 1 == 5 * tpy {
                    at_2021 = m.r[i].east_firms;
                }
                if year >= 2021 {
                    exits += m.r[i].east_exits;
                }
                end = m.r[i].east_firms;
            }
            vec![end, exits / at_2021.max(1.0)]
        })
        .collect()
}

const CONTINUITY: [&str; 2] = [
    "phase.withdrawal.scales.firms=1",
    "phase.withdrawal.scales.incentives=1",
];
const CLIFF: [&str; 2] = [
    "phase.withdrawal.scales.firms=0.3",
    "phase.withdrawal.scales.incentives=0",
];

fn arm(base: [&str; 2], agg: &str) -> Config {
    small(&[base[0], base[1], agg])
}

const NO_INCENTIVES: [&str; 2] = [
    "phase.withdrawal.scales.firms=1",
    "phase.withdrawal.scales.incentives=0",
];

/// Ending the incentives after the push (mobilisation kept) leaves fewer plants in the
/// park, and more so when the park's productivity depends on its tenants: each plant that
/// leaves or does not come lowers the others' returns.
#[test]
fn ending_incentives_stalls_the_park_and_agglomeration_deepens_it() {
    let loss = |agg: &str| -> Vec<f64> {
        let a = plants(&arm(CONTINUITY, agg));
        let b = plants(&arm(NO_INCENTIVES, agg));
        a.iter().zip(&b).map(|(x, y)| y[0] - x[0]).collect()
    };
    let flat = loss("firms.agglomeration=0");
    let park = loss("firms.agglomeration=0.3");
    let (d, h) = xiezuo::stats::mean_ci(&flat);
    eprintln!("plants at the end, incentives ended − kept: {d:+.2} ± {h:.2}");
    assert!(d + h < 0.0, "{d} ± {h}");
    let deeper: Vec<f64> = park.iter().zip(&flat).map(|(p, f)| p - f).collect();
    let (d, h) = xiezuo::stats::mean_ci(&deeper);
    eprintln!("agglomeration 0.3 − 0: {d:+.2} ± {h:.2}");
    assert!(d + h < 0.0, "{d} ± {h}");
    // Off is off: without agglomeration its half-size changes nothing.
    assert_eq!(
        plants(&arm(NO_INCENTIVES, "firms.agglomeration=0")),
        plants(&small(&[
            NO_INCENTIVES[0],
            NO_INCENTIVES[1],
            "firms.agglomeration_half=50"
        ]))
    );
}

#[test]
#[ignore = "measurement: cargo test --release --test enclaves -- --ignored --nocapture"]
fn cliff_measured() {
    for agg in ["firms.agglomeration=0", "firms.agglomeration=0.3"] {
        let (a, b) = (plants(&arm(CONTINUITY, agg)), plants(&arm(CLIFF, agg)));
        eprintln!(
            "{agg}: continuity plants at end {:.1}",
            a.iter().map(|v| v[0]).sum::<f64>() / a.len() as f64
        );
        print_effects(
            &["plants at the end", "exits per plant 2021–25"],
            &a,
            &b,
            &a,
        );
        let m = |c: &Config| {
            west_means(
                c,
                2021,
                2025,
                &[
                    |m| m.relapses_per_household,
                    |m| m.poverty_rate,
                    |m| m.mean_income,
                ],
            )
        };
        let (x, y) = (m(&arm(CONTINUITY, agg)), m(&arm(CLIFF, agg)));
        print_effects(&["relapses/hh", "poverty", "income"], &x, &y, &x);
    }
    // The incentives alone.
    let only = NO_INCENTIVES;
    for agg in ["firms.agglomeration=0", "firms.agglomeration=0.3"] {
        let (a, b) = (plants(&arm(CONTINUITY, agg)), plants(&arm(only, agg)));
        eprintln!("{agg}: incentives ended, mobilisation kept");
        print_effects(
            &["plants at the end", "exits per plant 2021–25"],
            &a,
            &b,
            &a,
        );
    }
    let _ = paired;
}
