//! Members as agents (issue 9 item 2, ODD §2.1 "Members", §7.4 part 1): placements are told
//! apart from own migration and counted as a stock, members past the retirement age hold
//! no wage job, the propensity to migrate can depend on age, and a first-year separation
//! hazard above later ones churns placements.

use xiezuo::batch::replicate::{run_one, RunResult};
use xiezuo::model::config::Config;
use xiezuo::model::flows::Channel;
use xiezuo::model::metrics::Measures;

fn run(builtin: &str, sets: &[&str]) -> (Config, RunResult) {
    let s: Vec<String> = sets.iter().map(|x| x.to_string()).collect();
    let cfg = xiezuo::scenario::load_builtin(builtin, &s).unwrap().config;
    let res = run_one(&cfg, false);
    (cfg, res)
}

/// The western rows of the year-end ticks, measure `f`.
fn west(cfg: &Config, res: &RunResult, f: impl Fn(&Measures) -> f64) -> Vec<f64> {
    let m = &res.recorder.metrics;
    let tpy = cfg.calendar.ticks_per_year();
    (0..m.tick.len())
        .filter(|&i| m.region[i] == "WEST" && (m.tick[i] + 1) % tpy == 0)
        .map(|i| f(&m.m[i]))
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn placements_are_a_counted_stock_apart_from_own_migration() {
    let (cfg, res) = run("two_way_market.toml", &[]);
    let placed = west(&cfg, &res, |x| x.placed_migrants);
    let migrants = west(&cfg, &res, |x| x.migrants);
    assert!(placed.iter().all(|&p| p > 0.0), "placed {placed:?}");
    for (p, m) in placed.iter().zip(&migrants) {
        assert!(p < m, "placed {p} of {m} migrants");
    }
    // The stock fills the cooperation demand (60,000 eastern jobs) and no more.
    let last = *placed.last().unwrap();
    assert!(
        (30_000.0..=61_000.0).contains(&last),
        "placed migrants {last} for a demand of 60,000"
    );
    // Placements last: their mean tenure grows while demand holds.
    let tenure = west(&cfg, &res, |x| x.placed_tenure);
    assert!(tenure[4] > tenure[0] + 1.0, "tenure {tenure:?}");
    // Without labour cooperation nobody is placed, but members still migrate.
    let (cfg0, res0) = run("baseline_no_pairing.toml", &[]);
    assert!(west(&cfg0, &res0, |x| x.placed_migrants)
        .iter()
        .all(|&p| p == 0.0));
    assert!(mean(&west(&cfg0, &res0, |x| x.migrants)) > 0.0);
}

#[test]
fn the_propensity_to_migrate_can_fall_with_age() {
    let (cfg, res) = run("baseline_no_pairing.toml", &[]);
    let (cfg_g, res_g) = run(
        "baseline_no_pairing.toml",
        &["households.migration_age_gradient=0.08"],
    );
    let age = mean(&west(&cfg, &res, |x| x.migrant_mean_age));
    let age_g = mean(&west(&cfg_g, &res_g, |x| x.migrant_mean_age));
    let local_g = mean(&west(&cfg_g, &res_g, |x| x.local_mean_age));
    // With no gradient migrants are as old as working-age members on average (uniform
    // 16–59, mean ≈ 38); with one they are younger, and local employees older.
    assert!((35.0..42.0).contains(&age), "migrants' mean age {age}");
    assert!(age_g < age - 3.0, "{age_g} vs {age}");
    assert!(local_g > age_g + 3.0, "local {local_g} vs migrants {age_g}");
    // The normalisation keeps the number of migrants about where it was.
    let n = mean(&west(&cfg, &res, |x| x.migrants));
    let n_g = mean(&west(&cfg_g, &res_g, |x| x.migrants));
    assert!((n_g / n - 1.0).abs() < 0.2, "migrants {n_g} vs {n}");
}

#[test]
fn a_first_year_separation_hazard_churns_placements() {
    let (_, res) = run("two_way_market.toml", &[]);
    let (_, res_c) = run(
        "two_way_market.toml",
        &["households.first_year_separation=5"],
    );
    // Five times the separation hazard in a placement's (and a local job's) first year:
    // more placements end early and are refilled, so more migrants return home.
    let returns = |res: &RunResult| -> f64 {
        let f = &res.recorder.flows;
        (0..f.channel.len())
            .filter(|&i| f.channel[i] == Channel::Returns)
            .map(|i| f.amount[i])
            .sum()
    };
    let (r, r_c) = (returns(&res), returns(&res_c));
    assert!(r_c > 1.1 * r, "returns {r_c} vs {r}");
}

/// Household draws are fixed words of each household's own keystream block (ODD §7.2): what
/// one household draws never moves another's numbers. Household 0 of the first block is made
/// to draw nothing in the labour step (every member without work); after one tick every
/// other household of the block has the same members, jobs, tenure and skill, and its farm
/// noise and shocks are the same. With households drawing in turn from one stream, the
/// second household's words would shift and this would fail.
#[test]
fn one_households_draws_do_not_move_anothers() {
    use xiezuo::model::agents::members::job;
    use xiezuo::model::engine::{step, Scratch};
    use xiezuo::model::recorder::NullRecorder;
    use xiezuo::model::rng::Streams;
    use xiezuo::model::world::{World, BLOCK};
    let sets = [
        "region.Upland.households=3000".to_string(),
        "region.Coastal.households=500".to_string(),
    ];
    let cfg = xiezuo::scenario::load_builtin("two_way_market.toml", &sets)
        .unwrap()
        .config;
    let streams = Streams::new(cfg.seed);
    let mut a = World::new(&cfg, &streams);
    xiezuo::model::engine::burn_in(&mut a, &cfg, &streams);
    let mut b = a.clone();
    let n = b.households[0].size as usize;
    let before = b.members[0].job;
    b.members[0].job[..n].fill(job::NONE);
    assert_ne!(
        before, b.members[0].job,
        "household 0 had members at work or seeking"
    );
    for w in [&mut a, &mut b] {
        step(
            w,
            &cfg,
            &streams,
            &mut Scratch::default(),
            &mut NullRecorder,
        );
    }
    let block = BLOCK.min(a.regions[0].range.len());
    assert_ne!(
        a.members[0], b.members[0],
        "the change to household 0 took effect"
    );
    for i in 1..block {
        assert_eq!(a.members[i], b.members[i], "members of household {i}");
        let (x, y) = (&a.households[i], &b.households[i]);
        assert_eq!(
            (x.sick_ticks, x.disaster_ticks, x.farm_base, x.effort),
            (y.sick_ticks, y.disaster_ticks, y.farm_base, y.effort),
            "household {i}"
        );
    }
}
