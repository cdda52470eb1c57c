//! County-wide anti-return-to-poverty insurance (防返贫保险, 县域统保, 003; ODD §7.4 step 20a):
//! the region's treasury pays an insurer a premium per insured person; an insured household
//! hit by illness or disaster whose trailing year falls below the insured line is paid the
//! gap, capped. Unlike the reserve fund, the insurer pays every claim whatever it has
//! collected, so the risk is pooled beyond the year's premiums.

mod common;

use common::{paired, print_effects, small, west_means};
use xiezuo::batch::replicate::run_one;
use xiezuo::model::config::Config;
use xiezuo::model::ledger::Account;

/// Per replicate: mean yearly relapses per household, poverty rate and insured share of the
/// western side over the years from `from`.
fn outcomes(cfg: &Config, from: i32) -> Vec<Vec<f64>> {
    west_means(
        cfg,
        from,
        i32::MAX,
        &[
            |m| m.relapses_per_household,
            |m| m.poverty_rate,
            |m| m.insured_share,
        ],
    )
}

fn payout_share(res: &xiezuo::batch::replicate::RunResult) -> f64 {
    let m = &res.recorder.metrics;
    let k = xiezuo::model::accum::COMPONENTS
        .iter()
        .position(|c| *c == "anti_return_insurance")
        .unwrap();
    (0..m.tick.len())
        .filter(|&i| m.region[i] == "WEST")
        .map(|i| m.m[i].component_shares[k])
        .sum()
}

#[test]
fn the_treasury_pays_the_premiums_and_the_insurer_the_claims() {
    let at = |premium: f64, extra: &[&str]| {
        let mut set = vec![format!("protection.insurance_premium={premium}")];
        set.extend(extra.iter().map(|s| s.to_string()));
        let set: Vec<&str> = set.iter().map(|s| s.as_str()).collect();
        run_one(&small("one_way_aid.toml", &set), false)
    };
    let low = at(50.0, &[]);
    let high = at(200.0, &[]);
    // The premium is the treasury's cost: what households get does not depend on it.
    // (Debug text: the measures hold NaN where undefined.)
    assert_eq!(
        format!("{:?}", low.recorder.metrics.m),
        format!("{:?}", high.recorder.metrics.m)
    );
    assert!(payout_share(&low) > 0.0, "claims are paid");
    // Insurer's balance = premium × insured person-years − claims, the same claims in both.
    let (bl, bh) = (
        low.world.ledger.balance(Account::Insurer),
        high.world.ledger.balance(Account::Insurer),
    );
    let person_years = (bh - bl) / 150.0;
    let claims = 50.0 * person_years - bl;
    assert!(
        person_years > 0.0 && claims > 0.0,
        "{person_years} {claims}"
    );
    // All households insured: more insured, more claims.
    let all = at(50.0, &["protection.insurance_scope=\"all\""]);
    let share = |r: &xiezuo::batch::replicate::RunResult| -> f64 {
        r.recorder.metrics.m.iter().map(|x| x.insured_share).sum()
    };
    assert!(share(&all) > share(&low));
    assert!(payout_share(&all) > payout_share(&low));
    // Off: no one insured, nothing paid, the insurer's account untouched.
    let off = run_one(&small("one_way_aid.toml", &[]), false);
    assert_eq!(off.world.ledger.balance(Account::Insurer), 0.0);
    assert_eq!(payout_share(&off), 0.0);
    assert!(off
        .recorder
        .metrics
        .m
        .iter()
        .all(|x| x.insured_share == 0.0));
}

#[test]
fn insurance_lowers_relapse_after_shocks() {
    // C8 (003): county-wide insurance of the registered and the identified cuts the relapses
    // that illness and disasters cause, after aid has stopped (2021 on in one_way_aid).
    let off = outcomes(&small("one_way_aid.toml", &[]), 2016);
    let on = outcomes(
        &small("one_way_aid.toml", &["protection.insurance_premium=100"]),
        2016,
    );
    // Off, the mechanism's other keys must not matter.
    let same = outcomes(
        &small(
            "one_way_aid.toml",
            &[
                "protection.insurance_line=3.0",
                "protection.insurance_cap=100000",
                "protection.insurance_scope=\"all\"",
            ],
        ),
        2016,
    );
    print_effects(
        &["relapses per household", "poverty rate", "insured share"],
        &off,
        &on,
        &same,
    );
    let (d, h) = paired(&off, &on, 0);
    assert!(d + h < 0.0, "relapses per household, on − off: {d} ± {h}");
    let (d, h) = paired(&off, &on, 1);
    assert!(d + h < 0.0, "poverty rate, on − off: {d} ± {h}");
    assert_eq!(off, same, "off is off");
}
