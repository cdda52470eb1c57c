//! Domestic social protection (issue 9 item 5, ODD §7.4 step 24): the minimum livelihood
//! guarantee (低保) is means-tested, bounded by its quota, paid by the centre, and lowers
//! poverty; switched off, it pays nothing.

use xiezuo::batch::replicate::run_one;
use xiezuo::output::compare::yearly;

/// Mean over the run's years of the western (poverty rate, dibao share of households,
/// dibao share of income, NBS transfer share).
fn west(sets: &[&str]) -> (f64, f64, f64, f64) {
    let s: Vec<String> = sets.iter().map(|x| x.to_string()).collect();
    let cfg = xiezuo::scenario::load_builtin("baseline_no_pairing.toml", &s)
        .unwrap()
        .config;
    let res = run_one(&cfg, false);
    let years = yearly(&cfg, &res.recorder);
    let pov = years.iter().map(|y| y.poverty_rate).sum::<f64>() / years.len() as f64;
    let m = &res.recorder.metrics;
    let tpy = cfg.calendar.ticks_per_year();
    let rows: Vec<_> = (0..m.tick.len())
        .filter(|&i| m.region[i] == "WEST" && (m.tick[i] + 1) % tpy == 0)
        .map(|i| m.m[i])
        .collect();
    let n = rows.len() as f64;
    let dibao = rows.iter().map(|x| x.dibao_share).sum::<f64>() / n;
    let i = xiezuo::model::accum::COMPONENTS
        .iter()
        .position(|c| *c == "dibao")
        .unwrap();
    let income = rows.iter().map(|x| x.component_shares[i]).sum::<f64>() / n;
    let nbs = rows.iter().map(|x| x.transfer_share_nbs).sum::<f64>() / n;
    (pov, dibao, income, nbs)
}

#[test]
fn the_dibao_lowers_poverty_within_its_quota_and_stops_when_switched_off() {
    let (pov_on, share_on, income_on, nbs_on) = west(&[]);
    let (pov_off, share_off, income_off, nbs_off) = west(&["protection.dibao_ratio=0"]);
    assert_eq!(share_off, 0.0);
    assert_eq!(income_off, 0.0);
    assert!(income_on > 0.01, "dibao share of income {income_on}");
    assert!(nbs_on > nbs_off);
    assert!(
        pov_on < pov_off - 0.01,
        "poverty with the dibao {pov_on} vs without {pov_off}"
    );
    // The quota binds: about the covered share of households, within the means test's
    // errors.
    assert!(
        (0.04..0.12).contains(&share_on),
        "dibao households {share_on} for a quota of 0.071"
    );
    // A larger quota covers more households.
    let (_, share_big, _, _) = west(&["protection.dibao_coverage=0.2"]);
    assert!(share_big > share_on + 0.05, "{share_big} vs {share_on}");
}

#[test]
fn a_perfect_means_test_covers_no_more_than_the_quota() {
    let (_, share, _, _) = west(&["protection.dibao_assessment_error=0"]);
    // Without assessment errors the recipients are the households below the quota's
    // cut-off on own income (histogram bins: a little slack).
    assert!(share <= 0.071 + 0.01, "dibao households {share}");
    assert!(share > 0.05, "dibao households {share}");
}
