//! Social participation (002, 000; ODD §7.3.3): donations of charities, firms and
//! volunteers, scaled by mobilisation platforms, pay health services (which cover part of
//! households' medical costs) and cash help to households at risk. C7: higher social
//! participation lowers return to poverty under shocks.

mod common;

use common::{paired, small, west_means};

#[test]
#[ignore = "a measurement for the notes: cargo test --release --test social -- --ignored --nocapture"]
fn social_participation_measurement() {
    let measures: [fn(&xiezuo::model::metrics::Measures) -> f64; 4] = [
        |m| m.relapses_per_household,
        |m| m.relapse_rate,
        |m| m.poverty_rate,
        |m| m.exit_rate,
    ];
    for base in ["one_way_aid.toml", "two_way_market.toml"] {
        let arm = |set: &[&str]| west_means(&small(base, set), 2021, i32::MAX, &measures);
        for health in ["0.5", "1.0", "0.0"] {
            let share = format!("social.health_share={health}");
            let low = arm(&["link[0].channels.social_donations=1e8", &share]);
            let high = arm(&[
                "link[0].channels.social_donations=1e8",
                "social.mobilisation=4",
                &share,
            ]);
            for (k, what) in ["relapses/hh", "relapse rate", "poverty", "exit rate"]
                .iter()
                .enumerate()
            {
                let (d, h) = paired(&low, &high, k);
                eprintln!(
                    "{base} health share {health}: mobilisation 4 − 1, 2021–: {what} {d:+.5} ± {h:.5}"
                );
            }
        }
    }
}
