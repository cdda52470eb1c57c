//! Mechanism tests: the one-way vs two-way gap in return to poverty after withdrawal comes
//! from the named two-way mechanisms, not from anything else that differs.

use xiezuo::batch::replicate::replicates;
use xiezuo::output::compare::yearly;
use xiezuo::scenario::load_builtin;
use xiezuo::stats::mean_ci;

const REPS: u32 = 6;

/// Mean annual western relapse rate over the post-withdrawal years (2021–2025), one value
/// per replicate.
fn post_withdrawal_relapse(name: &str, overrides: &[&str]) -> Vec<f64> {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let cfg = load_builtin(name, &o)
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
    replicates(&cfg, REPS, false)
        .iter()
        .map(|r| {
            let ys = yearly(&cfg, &r.recorder);
            let post: Vec<f64> = ys
                .iter()
                .filter(|y| y.year >= 2021)
                .map(|y| y.relapse_rate)
                .collect();
            post.iter().sum::<f64>() / post.len() as f64
        })
        .collect()
}

/// Every channel that makes `two_way_market` two-way, switched off (its budget and the
/// allocation stay as they are).
const MARKET_OFF: [&str; 8] = [
    "link[0].channels.market_access=0.0",
    "link[0].channels.labour_demand=0.0",
    "link[0].channels.training_places=0.0",
    "link[0].channels.firm_mobilisation=0.0",
    "link[0].channels.talent_to_east=0.0",
    "policy.dividend_share=0.0",
    "policy.guaranteed_return=0.0",
    "policy.allocation.industry=0.0",
];

fn diff(a: &[f64], b: &[f64]) -> (f64, f64) {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    mean_ci(&d)
}

#[test]
fn relapse_gap_comes_from_market_channels() {
    let one = post_withdrawal_relapse("one_way_aid.toml", &[]);
    let two = post_withdrawal_relapse("two_way_market.toml", &[]);
    let mut off: Vec<&str> = MARKET_OFF.to_vec();
    // The industry share goes back to transfers, as in one-way aid.
    off.push("policy.allocation.transfers=0.55");
    let two_off = post_withdrawal_relapse("two_way_market.toml", &off);
    let (gap, gap_ci) = diff(&one, &two);
    let (gap_off, gap_off_ci) = diff(&one, &two_off);
    eprintln!("one-way {one:?}\ntwo-way {two:?}\ntwo-way, market channels off {two_off:?}");
    eprintln!(
        "gap one−two = {gap:.4} ± {gap_ci:.4}; with channels off = {gap_off:.4} ± {gap_off_ci:.4}"
    );
    assert!(
        gap - gap_ci > 0.0,
        "two-way should relapse less after withdrawal: gap {gap} ± {gap_ci}"
    );
    assert!(
        gap_off.abs() < gap.abs() / 2.0,
        "switching the market channels off should close most of the gap: {gap_off} vs {gap}"
    );
}
