//! Pairing structure (001; ODD §7.3.2): one-to-one whole-region pairing (整域性) against
//! criss-cross pairing (穿花式) with the same total of every channel, and the 2021
//! re-pairing from one to the other (`scenarios/pairing/`). The patterns differ through
//! three things the model does not fix in advance: each link's fixed coordination cost
//! comes out of its aid; an eastern government's joint research is shared among its
//! partners, so each criss-cross link learns its partner's needs more slowly and its
//! projects fit worse; and eastern firms decide entry link by link, on half the
//! mobilisation and with half the incumbents to learn from.

mod common;

use std::path::PathBuf;

use common::{paired, print_effects, west_means, REPS};
use xiezuo::batch::replicate::replicates;
use xiezuo::model::config::Config;

fn load(name: &str, set: &[&str]) -> Config {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/pairing")
        .join(name);
    let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    xiezuo::scenario::load_file(&path, &set)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

/// Per replicate: western cooperatives closed per cooperative launched over the run.
fn closures(cfg: &Config) -> Vec<Vec<f64>> {
    replicates(cfg, REPS, false)
        .iter()
        .map(|r| {
            let m = &r.recorder.markets;
            let (mut entries, mut exits) = (0.0, 0.0);
            for i in 0..m.tick.len() {
                if cfg.regions[m.region[i] as usize].side == xiezuo::model::config::Side::West {
                    entries += m.r[i].coop_entries;
                    exits += m.r[i].coop_exits;
                }
            }
            vec![exits / entries.max(1.0)]
        })
        .collect()
}

fn outcomes(cfg: &Config, from: i32, to: i32) -> Vec<Vec<f64>> {
    west_means(
        cfg,
        from,
        to,
        &[
            |m| m.relapses_per_household,
            |m| m.poverty_rate,
            |m| m.mean_income,
        ],
    )
}

#[test]
fn whole_region_pairing_closes_fewer_projects_through_joint_research() {
    let (d, h) = paired(
        &closures(&load("criss_cross.toml", &[])),
        &closures(&load("whole_region.toml", &[])),
        0,
    );
    eprintln!("closed per launched, whole − criss: {d:+.4} ± {h:.4}");
    assert!(d + h < 0.0, "{d} ± {h}");
    // Ablation: without joint research neither pattern knows local needs, and the patterns
    // close the same share of projects.
    let off = ["policy.joint_research=false"];
    let (d0, h0) = paired(
        &closures(&load("criss_cross.toml", &off)),
        &closures(&load("whole_region.toml", &off)),
        0,
    );
    eprintln!("without research: {d0:+.4} ± {h0:.4}");
    assert!(d0.abs() < 0.1 * d.abs(), "{d0} ± {h0}");
}

#[test]
#[ignore = "measurement: cargo test --release --test pairing -- --ignored --nocapture"]
fn patterns_measured() {
    let names = ["relapses per household", "poverty", "mean income"];
    for set in [
        &[][..],
        &["policy.joint_research=false"][..],
        &["policy.project_mismatch=0"][..],
    ] {
        eprintln!("== {set:?}");
        let criss = load("criss_cross.toml", set);
        let whole = load("whole_region.toml", set);
        let rep = load("repaired.toml", set);
        let (d, h) = paired(&closures(&criss), &closures(&whole), 0);
        eprintln!("closed per launched, whole − criss: {d:+.4} ± {h:.4}");
        let (d, h) = paired(&closures(&criss), &closures(&rep), 0);
        eprintln!("closed per launched, repaired − criss: {d:+.4} ± {h:.4}");
        for (a, b) in [(2016, 2020), (2021, 2025)] {
            eprintln!("{a}–{b}: whole − criss; repaired − criss");
            print_effects(
                &names,
                &outcomes(&criss, a, b),
                &outcomes(&whole, a, b),
                &outcomes(&rep, a, b),
            );
        }
    }
}
