//! The return-to-poverty measures beside the relapse rate (ODD §7.9): relapses per
//! household, cumulative relapses, and the period survival of exits. Each is checked against
//! an independent computation from the same run: the per-tick relapse counts, and the
//! household panel (status and exit tick of every household at every assessment). The
//! survival also shows the duration dependence that rural poverty panels find.

use std::collections::BTreeMap;

use xiezuo::batch::replicate::run_one;
use xiezuo::model::agents::household::status;
use xiezuo::model::config::Side;

fn cfg() -> xiezuo::model::config::Config {
    let l = xiezuo::scenario::load_builtin(
        "two_way_market.toml",
        &[
            "region.Upland.households=4000".into(),
            "region.Coastal.households=500".into(),
        ],
    )
    .unwrap();
    let mut cfg = l.config;
    cfg.calendar.ticks = 8 * cfg.calendar.ticks_per_year();
    cfg
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn counts_add_up_to_the_cumulative_relapses() {
    let cfg = cfg();
    let res = run_one(&cfg, false);
    let m = &res.recorder.metrics;
    let tpy = cfg.calendar.ticks_per_year();
    let mut sum = 0.0;
    let mut assessed = 0;
    for i in 0..m.tick.len() {
        if m.region[i] != "WEST" {
            continue;
        }
        let x = &m.m[i];
        sum += x.relapses;
        assert!(close(x.relapses_cum, sum), "tick {}", m.tick[i]);
        assert!(close(x.relapses_per_household, x.relapses / x.households));
        assert!(close(x.relapses_cum_per_household, sum / x.households));
        let year_end = (m.tick[i] + 1) % tpy == 0;
        if !year_end {
            assert_eq!(x.relapses, 0.0, "relapses happen at the assessment only");
            assert!(
                x.exit_survival_1y.is_nan(),
                "no survival between assessments"
            );
            continue;
        }
        if x.exit_survival_3y.is_finite() {
            assessed += 1;
            let (s1, s3) = (x.exit_survival_1y, x.exit_survival_3y);
            assert!(
                (0.0..=1.0).contains(&s3) && s3 <= s1 && s1 <= 1.0,
                "{s1} {s3}"
            );
            if x.exit_survival_5y.is_finite() {
                assert!(x.exit_survival_5y <= s3);
            }
        }
    }
    assert!(sum > 0.0, "the run has relapses to count");
    assert!(
        assessed >= 4,
        "three-year survival defined from the fourth assessment"
    );
}

#[test]
fn survival_of_exits_matches_a_life_table_from_the_panel() {
    let cfg = cfg();
    let tpy = cfg.calendar.ticks_per_year();
    let res = run_one(&cfg, true);
    let p = &res.recorder.panel_rows;
    let west = |r: u16| cfg.regions[r as usize].side == Side::West;
    assert_eq!(
        cfg.regions.iter().filter(|r| r.side == Side::West).count(),
        1,
        "one western region: the WEST survival needs no weights"
    );
    // (status, last exit) of every household at every assessment, from the panel.
    let mut at: BTreeMap<u32, Vec<(u8, u16)>> = BTreeMap::new();
    for i in 0..p.tick.len() {
        if west(p.region[i]) {
            at.entry(p.tick[i])
                .or_default()
                .push((p.status[i], p.last_exit[i]));
        }
    }
    let m = &res.recorder.metrics;
    let mut compared = 0;
    let ticks: Vec<u32> = at.keys().copied().collect();
    for w in ticks.windows(2) {
        let (before, now) = (&at[&w[0]], &at[&w[1]]);
        let t = w[1];
        // Hazard by years since the exit: at risk are the households exited at the last
        // assessment; those now relapsed are the events.
        let (mut risk, mut events) = ([0.0f64; 5], [0.0f64; 5]);
        for (b, n) in before.iter().zip(now.iter()) {
            if b.0 != status::EXITED {
                continue;
            }
            let k = ((t + 1 - b.1 as u32) / tpy) as usize;
            if (1..=5).contains(&k) {
                risk[k - 1] += 1.0;
                if n.0 == status::RELAPSED {
                    events[k - 1] += 1.0;
                }
            }
        }
        let survival = |years: usize| {
            let mut s = 1.0;
            for k in 0..years {
                if risk[k] == 0.0 {
                    return f64::NAN;
                }
                s *= 1.0 - events[k] / risk[k];
            }
            s
        };
        let row = (0..m.tick.len())
            .find(|&i| m.tick[i] == t && m.region[i] == "WEST")
            .unwrap();
        let x = &m.m[row];
        for (years, got) in [
            (1, x.exit_survival_1y),
            (3, x.exit_survival_3y),
            (5, x.exit_survival_5y),
        ] {
            let want = survival(years);
            assert!(
                (want.is_nan() && got.is_nan()) || close(want, got),
                "tick {t}: {years}-year survival {got}, panel life table {want}"
            );
        }
        if x.exit_survival_3y.is_finite() {
            compared += 1;
        }
    }
    assert!(compared >= 4, "compared {compared} assessments");
}

#[test]
fn relapse_hazards_fall_with_the_time_since_exit() {
    // The stylised fact of rural poverty panels (BRIEF §7, Imai & You 2011): the hazard of
    // re-entry falls with the time since the exit. Nothing in the model sets a hazard by
    // duration; it comes from who stays out. On the calibrated national scenario, whose
    // support does not stop at an exit (a stop would add a relapse peak when it ends).
    let cfg = xiezuo::scenario::load_builtin("china_2021_pairings.toml", &[])
        .unwrap()
        .config;
    let res = run_one(&cfg, false);
    let m = &res.recorder.metrics;
    let (mut s1, mut s3, mut s5, mut n) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..m.tick.len() {
        let x = &m.m[i];
        if m.region[i] == "WEST" && x.exit_survival_5y.is_finite() {
            s1 += x.exit_survival_1y;
            s3 += x.exit_survival_3y;
            s5 += x.exit_survival_5y;
            n += 1.0;
        }
    }
    assert!(n >= 3.0, "{n} assessments with five-year survival");
    // Mean yearly hazard in year 1, years 2–3 and years 4–5 after the exit.
    let h1 = 1.0 - s1 / n;
    let h23 = 1.0 - (s3 / s1).sqrt();
    let h45 = 1.0 - (s5 / s3).sqrt();
    assert!(
        h1 > h23 && h23 > h45 && h45 > 0.0,
        "hazards {h1:.3} (year 1), {h23:.3} (years 2–3), {h45:.3} (years 4–5)"
    );
}
