//! Property tests: money and people are conserved, whatever the parameters. Money: the books
//! balance; no internal account (agents' own money) ends a tick below zero, so only the
//! documented external accounts create or absorb money; the stocks kept outside the ledger
//! (firm capital, households' savings, social funds) equal their accounts; households never
//! consume a negative amount.

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
    ) {
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
        o.push(format!("run.seed={seed}"));
        let cfg = small(o);
        let streams = Streams::new(cfg.seed);
        let mut w = World::new(&cfg, &streams);
        xiezuo::model::engine::burn_in(&mut w, &cfg, &streams);
        let workers0: u64 = w.households.iter().map(|h| h.workers as u64).sum();
        let n0 = w.households.len();
        let mut scratch = Scratch::default();
        let mut rec = NullRecorder;
        while w.tick < cfg.calendar.ticks {
            step(&mut w, &cfg, &streams, &mut scratch, &mut rec);
            // Double entry: the books balance.
            let scale = w.ledger.scale().max(1.0);
            prop_assert!(w.ledger.total().abs() <= 1e-9 * scale, "ledger total {}", w.ledger.total());
            // Stocks kept outside the ledger match it.
            for (r, rs) in w.regions.iter().enumerate() {
                let k: f64 = (0..w.firms.len()).filter(|&i| w.firms.region[i] as usize == r).map(|i| w.firms.capital[i] + w.firms.pool[i]).sum();
                let books = w.ledger.balance(Account::Firms(r));
                let kept = k + rs.project_pipeline + rs.dividend_pool;
                prop_assert!((books - kept).abs() <= 1e-6 * scale, "region {r}: firm account {books} vs capital+guarantee pools+pipeline+dividend pool {kept}");
                prop_assert!(w.ledger.balance(Account::Reserve(r)) >= -1e-6 * scale);
                // Households' account is their savings, and they consumed a non-negative amount.
                let savings: f64 = w.households[rs.range.clone()].iter().map(|h| h.savings as f64).sum::<f64>() * cfg.regions[r].weight;
                let hh = w.ledger.balance(Account::Households(r));
                prop_assert!((hh - savings).abs() <= 1e-6 * scale, "region {r}: households' account {hh} vs savings {savings}");
                prop_assert!(rs.consumption >= -1e-6 * scale, "region {r}: consumption {}", rs.consumption);
                // The social pool is its two funds.
                let pool = w.ledger.balance(Account::SocialPool(r));
                prop_assert!((pool - rs.social_cash_fund - rs.health_fund).abs() <= 1e-6 * scale, "region {r}: social pool {pool} vs funds");
                prop_assert!(rs.debt >= 0.0);
            }
            // Only external accounts may be overdrawn: nothing inside the model creates money.
            for a in w.ledger.accounts() {
                if !a.is_external() {
                    prop_assert!(w.ledger.balance(a) >= -1e-6 * scale, "internal account {a:?} overdrawn: {}", w.ledger.balance(a));
                }
            }
            // People: nobody appears or disappears; every worker is in exactly one place.
            prop_assert_eq!(w.households.len(), n0);
            let workers: u64 = w.households.iter().map(|h| h.workers as u64).sum();
            prop_assert_eq!(workers, workers0);
            for h in &w.households {
                prop_assert!(h.local as u16 + h.migrants as u16 + h.posts as u16 <= h.workers as u16);
            }
        }
    }
}
