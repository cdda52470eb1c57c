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

/// Per replicate: yearly relapses per household, poverty and mean skill after withdrawal.
fn after(set: &[&str]) -> Vec<Vec<f64>> {
    west_means(
        &small("one_way_aid.toml", set),
        2021,
        2025,
        &[
            |m| m.relapses_per_household,
            |m| m.poverty_rate,
            |m| m.mean_skill,
        ],
    )
}

const POSTS: [&str; 2] = [
    "policy.allocation.welfare_posts=0.3",
    "policy.allocation.training=0.05",
];
const TRAINING: [&str; 2] = [
    "policy.allocation.welfare_posts=0.05",
    "policy.allocation.training=0.3",
];

fn during(set: &[&str]) -> Vec<Vec<f64>> {
    west_means(
        &small("one_way_aid.toml", set),
        2016,
        2020,
        &[|m| m.poverty_rate],
    )
}

/// The two styles on `one_way_aid` with the same budget: welfare posts pay now (less
/// poverty while aid lasts), training leaves skill that lasts after the aid is gone.
#[test]
fn posts_pay_now_and_training_lasts() {
    let (d, h) = paired(&during(&POSTS), &during(&TRAINING), 0);
    eprintln!("2016–20 poverty, training − posts: {d:+.5} ± {h:.5}");
    assert!(d - h > 0.0, "{d} ± {h}");
    let (d, h) = paired(&after(&POSTS), &after(&TRAINING), 2);
    assert!(d - h > 0.0, "skill after withdrawal {d} ± {h}");
}

/// C12's relapse count after withdrawal, with the skill gain and without it (ablation): in
/// the model training's lower relapse count after withdrawal does not come from skill
/// (measured: −0.00104 ± 0.00087 with the default gain, −0.00109 ± 0.00084 with none): posts
/// lift households over the line while they last, and they relapse when the posts end.
#[test]
#[ignore = "a measurement for the notes: cargo test --release --test labour_style -- --ignored --nocapture"]
fn relapses_with_and_without_skill() {
    for gain in ["0.15", "0.0"] {
        let g = format!("policy.training_skill_gain={gain}");
        let p = after(&[POSTS[0], POSTS[1], &g]);
        let t = after(&[TRAINING[0], TRAINING[1], &g]);
        for (k, what) in ["relapses/hh", "poverty", "skill"].iter().enumerate() {
            let (d, h) = paired(&p, &t, k);
            eprintln!("gain {gain}: training − posts 2021–25 {what} {d:+.5} ± {h:.5}");
        }
    }
}
