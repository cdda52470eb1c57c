//! Labour cooperation style (001; ODD §7.4 steps 5–7): public-welfare posts pay now and
//! teach nothing; training raises the trainee's skill, which lasts and raises wages and
//! placements. C12: training-oriented labour cooperation beats welfare posts for durable
//! exits. Same budget: the allocation moves 0.25 of net aid between the two.

mod common;

use common::{paired, small, west_means};

#[test]
#[ignore = "a measurement for the notes: cargo test --release --test labour_style -- --ignored --nocapture"]
fn posts_versus_training_measurement() {
    let measures: [fn(&xiezuo::model::metrics::Measures) -> f64; 4] = [
        |m| m.relapses_per_household,
        |m| m.poverty_rate,
        |m| m.mean_skill,
        |m| m.exit_survival_3y,
    ];
    for base in ["one_way_aid.toml", "two_way_market.toml"] {
        let posts = [
            "policy.allocation.welfare_posts=0.3",
            "policy.allocation.training=0.05",
        ];
        let training = [
            "policy.allocation.welfare_posts=0.05",
            "policy.allocation.training=0.3",
        ];
        for (from, to) in [(2016, 2020), (2021, i32::MAX)] {
            let mut p: Vec<&str> = posts.to_vec();
            let mut t: Vec<&str> = training.to_vec();
            // two_way_market's own allocation differs: take the 0.25 from industry there.
            if base == "two_way_market.toml" {
                p.push("policy.allocation.industry=0.2");
                t.push("policy.allocation.industry=0.2");
                p.push("policy.allocation.transfers=0.1");
                t.push("policy.allocation.transfers=0.1");
                p.push("policy.allocation.infrastructure=0.15");
                t.push("policy.allocation.infrastructure=0.15");
                p.push("policy.allocation.reserve=0.2");
                t.push("policy.allocation.reserve=0.2");
            }
            let a = west_means(&small(base, &p), from, to, &measures);
            let b = west_means(&small(base, &t), from, to, &measures);
            for (k, what) in ["relapses/hh", "poverty", "mean skill", "exit survival 3y"]
                .iter()
                .enumerate()
            {
                let (d, h) = paired(&a, &b, k);
                eprintln!("{base} {from}–: training − posts: {what} {d:+.5} ± {h:.5}");
            }
        }
    }
}
