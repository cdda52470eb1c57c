//! The centre's assessment (考核, 001, 002; ODD §7.3.5): input indicators that eastern
//! governments can inflate (gaming) and third-party evaluation that detects it; an outcome
//! indicator (registered returns to poverty) that moves the pressure on delivery and the
//! western governments' allocation toward the anti-return reserve fund.
//!
//! The first half of C4 ("assessment with accountability raises flows") holds by
//! construction without gaming (the assessment closes a share of the delivery gap); with
//! gaming it holds only as far as third-party evaluation detects the inflated reports. The
//! second half ("adding return to poverty to the indicators lowers relapse") is the
//! simulation's: it depends on whether what the western governments reallocate to does
//! better than the industry and infrastructure it comes from.

mod common;

use common::{print_effects, small as builtin, west_means};
use xiezuo::batch::replicate::run_one;
use xiezuo::model::config::Config;
use xiezuo::model::ledger::Account;

fn small(set: &[&str]) -> Config {
    builtin("one_way_aid.toml", set)
}

/// Eastern public money that left the partner over the run (delivered aid and its costs),
/// the link's final delivery, and what the centre spent on services (evaluation).
fn delivered(set: &[&str]) -> (f64, f64, f64) {
    let cfg = small(set);
    let r = run_one(&cfg, false);
    let east = cfg
        .regions
        .iter()
        .position(|r| r.name == "Coastal")
        .unwrap();
    (
        -r.world.ledger.balance(Account::EastGov(east)),
        r.world.links[0].delivery,
        -r.world.ledger.balance(Account::Centre),
    )
}

#[test]
fn gaming_blunts_the_assessment_and_evaluation_restores_it() {
    let (honest, d_honest, centre) = delivered(&[]);
    let (gamed, d_gamed, _) = delivered(&["centre.gaming=0.9"]);
    let (off, d_off, _) = delivered(&["centre.assessment=false"]);
    let (checked, d_checked, centre_checked) =
        delivered(&["centre.gaming=0.9", "centre.third_party=1.0"]);
    eprintln!("delivery: honest {d_honest:.4}, gamed {d_gamed:.4}, off {d_off:.4}, checked {d_checked:.4}");
    // Assessment raises delivery (by construction) ...
    assert!(honest > off && d_honest > 0.99, "{honest} {off} {d_honest}");
    // ... but inflated reports take most of the pressure off: a tenth of the honest rise.
    assert!(
        gamed > off && gamed < off + 0.2 * (honest - off),
        "{gamed} {off} {honest}"
    );
    // Full third-party evaluation detects every inflated report: delivery is the honest
    // pair's, and the centre pays 1 m yuan a pair a year for it (one pair, assessed every
    // year of 2016–2025 while the link is active, aid or not).
    assert_eq!(d_checked, d_honest);
    assert!((checked - honest).abs() < 1e-6 * honest);
    let cost = centre_checked - centre;
    assert!((cost - 10.0e6).abs() < 1.0, "evaluation cost {cost}");
}

/// Per replicate: mean yearly relapses per household and poverty rate while aid flows.
fn during(cfg: &Config) -> Vec<Vec<f64>> {
    west_means(
        cfg,
        2016,
        2020,
        &[|m| m.relapses_per_household, |m| m.poverty_rate],
    )
}

#[test]
fn an_outcome_indicator_moves_funds_to_the_reserve_and_lowers_relapse_while_aid_lasts() {
    let off = during(&small(&[]));
    let on = during(&small(&[
        "centre.outcome_weight=1.0",
        "centre.reallocation=1.0",
    ]));
    // Off is off: without the outcome indicator its other keys change nothing.
    let same = during(&small(&[
        "centre.reallocation=1.0",
        "centre.relapse_tolerance=0.001",
        "centre.protective_use=transfers",
    ]));
    print_effects(
        &["relapses per household", "poverty rate"],
        &off,
        &on,
        &same,
    );
    let (d, h) = common::paired(&off, &on, 0);
    assert!(d + h < 0.0, "relapses per household {d} ± {h}");
    assert_eq!(off, same, "off is off");
}

#[test]
#[ignore = "measurement"]
fn outcome_indicator_in_both_designs() {
    for name in ["one_way_aid.toml", "two_way_market.toml"] {
        for (from, to) in [(2016, 2020), (2021, 2025)] {
            let m = |set: &[&str]| {
                west_means(
                    &builtin(name, set),
                    from,
                    to,
                    &[|m| m.relapses_per_household, |m| m.poverty_rate],
                )
            };
            let off = m(&[]);
            let on = m(&["centre.outcome_weight=0.5"]);
            eprintln!("{name} {from}–{to}, outcome weight 0.5 − 0:");
            print_effects(&["relapses per household", "poverty rate"], &off, &on, &off);
        }
    }
}
