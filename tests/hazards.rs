//! Poverty dynamics (BRIEF §7; Imai & You 2011): the hazards of leaving poverty and of
//! falling back fall with the time already spent in the state. Measured on the yearly
//! household panel of `baseline_no_pairing`: spells are counted from the first observed
//! change of a household's state (poor or not at the year end), so their durations are known.

use xiezuo::batch::replicate::run_one;

#[test]
fn exit_and_reentry_hazards_fall_with_spell_duration() {
    let cfg = xiezuo::scenario::load_builtin("baseline_no_pairing.toml", &[])
        .unwrap()
        .config;
    let res = run_one(&cfg, true);
    let p = &res.recorder.panel_rows;
    let n = cfg.total_households();
    let years = p.tick.len() / n;
    assert!(years >= 8, "a ten-year panel");
    let line = cfg.poverty.line as f32;
    // [duration] → (at risk, events), for exits (poor spells) and re-entries (non-poor).
    let mut exit = [(0u32, 0u32); 12];
    let mut reentry = [(0u32, 0u32); 12];
    for h in 0..n {
        let poor = |y: usize| {
            let i = y * n + h;
            assert_eq!(p.household[i] as usize, h);
            p.income[i] < line
        };
        let mut dur: Option<usize> = None;
        for y in 1..years {
            let (before, now) = (poor(y - 1), poor(y));
            if let Some(d) = dur {
                let cell = if before {
                    &mut exit[d.min(11)]
                } else {
                    &mut reentry[d.min(11)]
                };
                cell.0 += 1;
                if now != before {
                    cell.1 += 1;
                    dur = Some(1);
                } else {
                    dur = Some(d + 1);
                }
            } else if now != before {
                dur = Some(1);
            }
        }
    }
    let hazard = |c: (u32, u32)| c.1 as f64 / c.0.max(1) as f64;
    for (name, h) in [("exit", &exit), ("re-entry", &reentry)] {
        assert!(
            h[3].0 >= 200,
            "{name}: too few at risk at 3 years ({})",
            h[3].0
        );
        let (h1, h2, h3) = (hazard(h[1]), hazard(h[2]), hazard(h[3]));
        assert!(
            h1 > h2 && h2 > h3,
            "{name} hazard should fall with duration: {h1:.3} {h2:.3} {h3:.3}"
        );
        assert!(h1 > 1.3 * h3, "{name}: {h1:.3} vs {h3:.3}");
    }
}
