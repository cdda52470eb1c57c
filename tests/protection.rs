//! Domestic social protection (issue 9 item 5, ODD §7.4 step 24): the minimum livelihood
//! guarantee (低保) is means-tested, bounded by its quota, paid by the centre, and lowers
//! poverty; switched off, it pays nothing.

use xiezuo::batch::replicate::run_one;
use xiezuo::model::metrics::Measures;
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
    let i = share_of("dibao");
    let mean = |f: &dyn Fn(&Measures) -> f64| west_year_ends(&cfg, &res, f);
    (
        pov,
        mean(&|x| x.dibao_share),
        mean(&|x| x.component_shares[i]),
        mean(&|x| x.transfer_share_nbs),
    )
}

/// Mean of `f` over the western rows of the year-end ticks of a run.
fn west_year_ends(
    cfg: &xiezuo::model::config::Config,
    res: &xiezuo::batch::replicate::RunResult,
    f: &dyn Fn(&Measures) -> f64,
) -> f64 {
    let m = &res.recorder.metrics;
    let tpy = cfg.calendar.ticks_per_year();
    let v: Vec<f64> = (0..m.tick.len())
        .filter(|&i| m.region[i] == "WEST" && (m.tick[i] + 1) % tpy == 0)
        .map(|i| f(&m.m[i]))
        .collect();
    v.iter().sum::<f64>() / v.len() as f64
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

/// Mean over the run's year ends of a western measure picked by `f`.
fn west_mean(sets: &[&str], f: impl Fn(&Measures) -> f64) -> f64 {
    let s: Vec<String> = sets.iter().map(|x| x.to_string()).collect();
    let cfg = xiezuo::scenario::load_builtin("baseline_no_pairing.toml", &s)
        .unwrap()
        .config;
    let res = run_one(&cfg, false);
    west_year_ends(&cfg, &res, &f)
}

fn share_of(name: &str) -> usize {
    xiezuo::model::accum::COMPONENTS
        .iter()
        .position(|c| *c == name)
        .unwrap()
}

/// Pensions, the farm subsidy and medical insurance (ODD §7.4 step 18) are paid as cited:
/// the pension share of income is what elders × pension give, each component is zero when
/// its key is, and together they raise the NBS transfer share.
#[test]
fn pensions_subsidies_and_insurance_pay_what_their_keys_say() {
    let p = share_of("pension");
    let s = share_of("farm_subsidy");
    let i = share_of("medical_insurance");
    let on = west_mean(&[], |m| m.component_shares[p]);
    assert!(on > 0.02, "pension share {on}");
    // The pension bill over the income bill: elders × 2,088 over households × mean income ×
    // mean size, at the start (mean income is per person: 3.2 persons per household).
    let elders = west_mean(&[], |m| m.elders / m.households);
    let income = west_mean(&[], |m| m.mean_income);
    let expect = elders * 2088.0 / (income * 3.2);
    assert!(
        (on / expect - 1.0).abs() < 0.25,
        "pension share {on} vs elders × pension / income {expect}"
    );
    assert!(
        (0.15..0.40).contains(&(elders / 3.2)),
        "elders per person {}",
        elders / 3.2
    );
    let off = [
        "protection.pension=0",
        "protection.farm_subsidy=0",
        "protection.medical_reimbursement=0",
        "protection.medical_premium=0",
        "protection.pension_contribution=0",
    ];
    assert_eq!(west_mean(&off, |m| m.component_shares[p]), 0.0);
    assert_eq!(west_mean(&off, |m| m.component_shares[s]), 0.0);
    assert_eq!(west_mean(&off, |m| m.component_shares[i]), 0.0);
    assert!(west_mean(&[], |m| m.component_shares[s]) > 0.0);
    assert!(west_mean(&[], |m| m.component_shares[i]) > 0.0);
    let nbs_on = west_mean(&[], |m| m.transfer_share_nbs);
    let nbs_off = west_mean(&off, |m| m.transfer_share_nbs);
    assert!(
        nbs_on > nbs_off + 0.03,
        "NBS transfer share {nbs_on} vs {nbs_off}"
    );
}

/// The counterfactual stands still for the right reasons (issue 9 item 6): with no shocks,
/// no cooperation and the migration rate left to its steady-state default, the western
/// migrant stock drifts by less than 1% a year; with a rate far from it, it drifts more.
#[test]
fn migrant_stocks_start_at_their_steady_state() {
    let text = include_str!("../scenarios/baseline_no_pairing.toml");
    let calm = &text[..text.find("[[shock]]").unwrap()];
    let drift = |extra: &str| {
        let cfg = xiezuo::scenario::load_str("calm.toml", &format!("{calm}{extra}"), None, &[])
            .unwrap()
            .config;
        let res = run_one(&cfg, false);
        let m = &res.recorder.metrics;
        let tpy = cfg.calendar.ticks_per_year();
        let v: Vec<f64> = (0..m.tick.len())
            .filter(|&i| m.region[i] == "WEST" && (m.tick[i] + 1) % tpy == 0)
            .map(|i| m.m[i].migrants)
            .collect();
        // Mean yearly change over the run, from a log-linear fit's end points.
        ((v[v.len() - 1] / v[0]).ln() / (v.len() - 1) as f64).abs()
    };
    let steady = drift("");
    assert!(steady < 0.01, "migrant stock drifts {steady} a year");
    let off = drift("\n[defaults.west]\nbase_migration = 0.06\n");
    assert!(
        off > 0.02,
        "a rate far from the steady state drifts only {off} a year"
    );
}
