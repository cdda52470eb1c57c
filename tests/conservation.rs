//! Property tests: money and people are conserved, whatever the parameters. Money: the books
//! balance; no internal account (agents' own money) ends a tick below zero, so only the
//! documented external accounts create or absorb money; the stocks kept outside the ledger
//! (firm capital, households' savings, social funds) equal their accounts; households never
//! consume a negative amount. Checked over overrides of `two_way_market` and over random
//! scenarios (regions, pairings, channels, policies, markets, protection, shocks, tick length).

use proptest::prelude::*;
use xiezuo::model::engine::{step, Scratch};
use xiezuo::model::ledger::Account;
use xiezuo::model::recorder::NullRecorder;
use xiezuo::model::rng::Streams;
use xiezuo::model::world::World;
use xiezuo::scenario::load_builtin;

fn small(overrides: Vec<String>) -> xiezuo::model::config::Config {
    let mut o = vec![
        "region.Upland.households=700".to_string(),
        "region.Coastal.households=150".to_string(),
        "time.years=3".to_string(),
        "phase[1].start=\"2017-07\"".to_string(),
        "shock[0].start=\"2016-06\"".to_string(),
        "shock[1].start=\"2018-03\"".to_string(),
    ];
    o.extend(overrides);
    load_builtin("two_way_market.toml", &o)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn money_and_people_are_conserved(
        seed in 0u64..1_000_000,
        leakage in 0.0f64..0.5,
        shares in proptest::collection::vec(0.0f64..1.0, 6),
        dependency in 0.0f64..1.0,
        illness in 0.0f64..0.5,
        failure in 0.0f64..1.0,
        dividend in 0.0f64..1.0,
        mobilisation in 0.0f64..200.0,
        detection in 0.0f64..1.0,
        premium in 0.0f64..300.0,
        assistance in 0.0f64..20000.0,
        // Supervision (× 0.1) and the assessment's outcome weight, gaming and third-party
        // evaluation, which moves money from the centre and shifts the allocation.
        // Then project mismatch, joint research (on above 0.5) and coordination (× 10 m);
        // the social platform share and its targeting (shocked above 0.5); agglomeration.
        more in proptest::collection::vec(0.0f64..1.0, 8),
    ) {
        let supervision = 0.1 * more[0];
        let total: f64 = shares.iter().sum::<f64>().max(1e-9);
        let s: Vec<f64> = shares.iter().map(|x| x / total).collect();
        // Make the shares sum to exactly 1 after formatting.
        let last = 1.0 - s[..5].iter().sum::<f64>();
        let names = ["transfers", "welfare_posts", "industry", "training", "infrastructure", "reserve"];
        let mut o: Vec<String> = names.iter().zip(s.iter()).take(5).map(|(n, v)| format!("policy.allocation.{n}={v:?}")).collect();
        o.push(format!("policy.allocation.reserve={:?}", last.max(0.0)));
        o.push(format!("policy.leakage={leakage:?}"));
        o.push(format!("households.dependency={dependency:?}"));
        o.push(format!("households.illness_prob={illness:?}"));
        o.push(format!("policy.project_failure={failure:?}"));
        o.push(format!("policy.dividend_share={dividend:?}"));
        o.push("policy.project_size=2.0e5".to_string());
        o.push(format!("link[0].channels.firm_mobilisation={mobilisation:?}"));
        // Protection, supervision and the assessment, which move money through the insurer,
        // the treasury, the centre and services.
        o.push(format!("protection.monitoring_detection={detection:?}"));
        o.push(format!("protection.insurance_premium={premium:?}"));
        o.push(format!("protection.assistance_cap={assistance:?}"));
        o.push(format!("policy.supervision={supervision:?}"));
        o.push(format!("centre.outcome_weight={:?}", more[1]));
        o.push(format!("centre.gaming={:?}", more[2]));
        o.push(format!("centre.third_party={:?}", more[3]));
        o.push("centre.relapse_tolerance=0.01".to_string());
        o.push(format!("policy.project_mismatch={:?}", more[4]));
        o.push(format!("policy.joint_research={}", more[4] > 0.5));
        o.push(format!("costs.coordination={:?}", 1e7 * more[5]));
        o.push(format!("social.platform={:?}", more[6]));
        o.push(format!("firms.agglomeration={:?}", more[7]));
        o.push(format!("social.targeting={}", if more[6] > 0.5 { "shocked" } else { "at_risk" }));
        o.push(format!("run.seed={seed}"));
        let cfg = small(o);
        check_run(&cfg)?;
    }
}

/// Runs `cfg` to its end and checks, after every tick, that money and people are conserved.
fn check_run(cfg: &xiezuo::model::config::Config) -> Result<(), TestCaseError> {
    let cfg = cfg.clone();
    let streams = Streams::new(cfg.seed);
    let mut w = World::new(&cfg, &streams);
    xiezuo::model::engine::burn_in(&mut w, &cfg, &streams);
    let persons0: u64 = w.households.iter().map(|h| h.size as u64).sum();
    let n0 = w.households.len();
    let mut scratch = Scratch::default();
    let mut rec = NullRecorder;
    while w.tick < cfg.calendar.ticks {
        step(&mut w, &cfg, &streams, &mut scratch, &mut rec);
        // Double entry: the books balance.
        let scale = w.ledger.scale().max(1.0);
        prop_assert!(
            w.ledger.total().abs() <= 1e-9 * scale,
            "ledger total {}",
            w.ledger.total()
        );
        // Stocks kept outside the ledger match it.
        for (r, rs) in w.regions.iter().enumerate() {
            let k: f64 = (0..w.firms.len())
                .filter(|&i| w.firms.region[i] as usize == r)
                .map(|i| w.firms.capital[i] + w.firms.pool[i])
                .sum();
            let books = w.ledger.balance(Account::Firms(r));
            let kept = k + rs.project_pipeline + rs.dividend_pool;
            prop_assert!((books - kept).abs() <= 1e-6 * scale, "region {r}: firm account {books} vs capital+guarantee pools+pipeline+dividend pool {kept}");
            prop_assert!(w.ledger.balance(Account::Reserve(r)) >= -1e-6 * scale);
            // Households' account is their savings, and they consumed a non-negative amount.
            let savings: f64 = w.households[rs.range.clone()]
                .iter()
                .map(|h| h.savings as f64)
                .sum::<f64>()
                * cfg.regions[r].weight;
            let hh = w.ledger.balance(Account::Households(r));
            prop_assert!(
                (hh - savings).abs() <= 1e-6 * scale,
                "region {r}: households' account {hh} vs savings {savings}"
            );
            prop_assert!(
                rs.consumption >= -1e-6 * scale,
                "region {r}: consumption {}",
                rs.consumption
            );
            // The social pool is its two funds.
            let pool = w.ledger.balance(Account::SocialPool(r));
            prop_assert!(
                (pool - rs.social_cash_fund - rs.health_fund).abs() <= 1e-6 * scale,
                "region {r}: social pool {pool} vs funds"
            );
            prop_assert!(rs.debt >= 0.0);
        }
        // Only external accounts may be overdrawn: nothing inside the model creates money.
        for a in w.ledger.accounts() {
            if !a.is_external() {
                prop_assert!(
                    w.ledger.balance(a) >= -1e-6 * scale,
                    "internal account {a:?} overdrawn: {}",
                    w.ledger.balance(a)
                );
            }
        }
        // People: nobody appears or disappears (a death is replaced by a birth); workers and
        // elders are what the members' ages say; every worker is in exactly one place.
        prop_assert_eq!(w.households.len(), n0);
        let persons: u64 = w.households.iter().map(|h| h.size as u64).sum();
        prop_assert_eq!(persons, persons0);
        let life = &w.life;
        for (h, m) in w.households.iter().zip(&w.members) {
            prop_assert!(h.local as u16 + h.migrants as u16 + h.posts as u16 <= h.workers as u16);
            // The household's counts are what its members' jobs say, and no member past the
            // retirement age holds a wage job.
            let c = m.counts(h.size);
            prop_assert_eq!(
                (c.workers, c.local, c.migrants, c.posts),
                (h.workers, h.local, h.migrants, h.posts)
            );
            for i in 0..h.size as usize {
                prop_assert!(m.age[i] < life.retirement_age || m.job[i] <= 1);
            }
            if cfg.demography.ageing {
                let a = &m.age[..h.size as usize];
                let working = a
                    .iter()
                    .filter(|&&x| x >= life.working_age && x < life.farm_exit_age)
                    .count();
                let old = a.iter().filter(|&&x| x >= life.retirement_age).count();
                prop_assert_eq!((h.workers as usize, h.elders as usize), (working, old));
            }
        }
    }
    Ok(())
}

/// A random scenario: 1–2 eastern and 1–3 western regions, random pairings and channels,
/// policies, protection, markets, shocks and tick length.
fn random_scenario(r: &[f64], step: &str) -> String {
    let mut i = 0usize;
    let mut next = || {
        let x = r[i % r.len()];
        i += 1;
        x
    };
    let n_east = 1 + (next() * 2.0) as usize;
    let n_west = 1 + (next() * 3.0) as usize;
    let mut t = format!(
        "name = \"random\"\n[time]\nstart = \"2016-01\"\nyears = 3\nstep = \"{step}\"\nburn_in_years = 1\n"
    );
    for e in 0..n_east {
        t += &format!(
            "[[region]]\nname = \"E{e}\"\nside = \"east\"\nhouseholds = {}\nweight = {}\nhousehold_size = 3.0\nworkers_per_household = 1.8\nincome_median = {}\nincome_sigma = 0.5\nwage = {}\ngrowth = 0.04\nmigrant_wage_month = 5368.0\nmigrants_per_100 = 0.0\nlocal_jobs_per_100 = {}\nbase_migration = 0.0\ncredibility = 0.8\ninfrastructure = 0.8\ndigital_access = 0.8\ntransport_cost = 0.05\nlabour_productivity = 1.6\n",
            100 + (next() * 200.0) as u32,
            1.0 + next() * 200.0,
            8000.0 + next() * 10000.0,
            30000.0 + next() * 20000.0,
            (next() * 40.0).round(),
        );
    }
    for w in 0..n_west {
        t += &format!(
            "[[region]]\nname = \"W{w}\"\nside = \"west\"\nhouseholds = {}\nweight = {}\nhousehold_size = 3.2\nworkers_per_household = 1.8\nincome_median = {}\nincome_sigma = 0.6\nwage = 24000.0\ngrowth = {}\nmigrant_wage_month = 4000.0\nmigrants_per_100 = {}\nlocal_jobs_per_100 = {}\nbase_migration = 0.02\ncredibility = {}\ninfrastructure = 0.3\ndigital_access = 0.3\ntransport_cost = 0.2\nlabour_productivity = {}\n",
            150 + (next() * 400.0) as u32,
            1.0 + next() * 200.0,
            3000.0 + next() * 8000.0,
            next() * 0.08 - 0.02,
            (next() * 30.0).round(),
            (next() * 30.0).round(),
            next(),
            0.8 + next() * 1.5,
        );
    }
    for w in 0..n_west {
        let e = (next() * n_east as f64) as usize % n_east;
        t += &format!(
            "[[link]]\neast = \"E{e}\"\nwest = \"W{w}\"\nstart = \"2016-0{}\"\n[link.channels]\nfiscal_aid = {}\nsocial_donations = {}\nprocurement = {}\nmarket_access = {}\nlabour_demand = {}\ntraining_places = {}\ntalent_to_west = {}\ntalent_to_east = {}\nfirm_mobilisation = {}\n",
            1 + (next() * 9.0) as u32,
            next() * 2e9,
            next() * 2e8,
            next() * 5e8,
            next(),
            next() * 50000.0,
            next() * 20000.0,
            next() * 300.0,
            next() * 300.0,
            next() * 50.0,
        );
    }
    let shares: Vec<f64> = (0..6).map(|_| next() + 1e-3).collect();
    let total: f64 = shares.iter().sum();
    let s: Vec<f64> = shares.iter().map(|x| x / total).collect();
    let last = (1.0 - s[..5].iter().sum::<f64>()).max(0.0);
    t += &format!(
        "[policy]\nleakage = {}\ndividend_share = {}\nguaranteed_return = {}\nguarantee_pool = {}\nproject_size = 2.0e5\nproject_failure = {}\npromised_incentive = {}\n[policy.allocation]\ntransfers = {:?}\nwelfare_posts = {:?}\nindustry = {:?}\ntraining = {:?}\ninfrastructure = {:?}\nreserve = {:?}\n",
        next() * 0.5,
        next(),
        next() * 0.3,
        next(),
        next(),
        next() * 0.1,
        s[0], s[1], s[2], s[3], s[4], last,
    );
    t += &format!(
        "[market]\nreach_demand = {}\nprice_flexibility = {}\neast_demand = {}\n[firms]\nmarket_candidates = {}\nhurdle_return = {}\ndepreciation = {}\n[protection]\ndibao_ratio = {}\ndibao_coverage = {}\ndibao_assessment_error = {}\n",
        next() * 3.0,
        next() * 2.0,
        next() * 0.05,
        next() * 20.0,
        next() * 0.3 - 0.1,
        next() * 0.3,
        next() * 3.0,
        next(),
        next(),
    );
    for (k, kind) in ["pandemic", "price_collapse", "disaster"]
        .iter()
        .enumerate()
    {
        if next() < 0.6 {
            t += &format!(
                "[[shock]]\nkind = \"{kind}\"\nstart = \"201{}-0{}\"\nmonths = {}\nseverity = {}\n",
                6 + k % 3,
                1 + (next() * 9.0) as u32,
                1 + (next() * 14.0) as u32,
                next(),
            );
        }
    }
    t += &format!(
        "[[phase]]\nname = \"aid\"\nstart = \"2016-01\"\n[[phase]]\nname = \"withdrawal\"\nstart = \"2017-0{}\"\n[phase.scales]\nfiscal_aid = {}\nmarket = {}\nfirms = {}\n",
        1 + (next() * 9.0) as u32,
        next(),
        next(),
        next(),
    );
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Over random scenarios (regions, pairings, channels, policies, markets, protection,
    /// shocks, tick length), no account outside the documented external ones creates money.
    #[test]
    fn random_scenarios_create_no_money(
        r in proptest::collection::vec(0.0f64..1.0, 96),
        step in prop_oneof![Just("month"), Just("quarter"), Just("year")],
        seed in 0u64..1_000_000,
    ) {
        let text = random_scenario(&r, step);
        let mut cfg = xiezuo::scenario::load_str("random.toml", &text, None, &[])
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
            .config;
        cfg.seed = seed;
        check_run(&cfg)?;
    }
}
