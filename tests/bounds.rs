//! Every accepted value runs in bounded memory and time and gives finite outputs: each
//! numeric key of the schema is set, one at a time, to its minimum and to its maximum on a
//! small (1,000 western households) two-way scenario; the run must complete with every
//! reported number finite (transition rates may be NaN, "undefined", by documented
//! convention) and the firm population within its documented caps. A value the validator
//! refuses must be refused with a located error, and only by a rule across keys (e.g.
//! `workers_per_household ≤ household_size`, shares summing to 1), never by a range.

use xiezuo::model::agents::household::Household;
use xiezuo::model::firms::MAX_FIRMS_PER_REGION;
use xiezuo::model::flows::Channel;
use xiezuo::model::metrics::{Measures, Scope, SystemMeasures};
use xiezuo::model::recorder::{LinkReport, Recorder};
use xiezuo::model::schema::{Kind, KEYS};
use xiezuo::model::time::Tick;

/// Records the first non-finite number it is shown.
#[derive(Default)]
struct Finite {
    bad: Option<String>,
}

impl Finite {
    fn check(&mut self, what: &str, v: f64) {
        if !v.is_finite() && self.bad.is_none() {
            self.bad = Some(format!("{what} = {v}"));
        }
    }
}

impl Recorder for Finite {
    fn measures(&mut self, t: Tick, _s: Scope, m: &Measures, sys: Option<&SystemMeasures>) {
        // NaN is the documented value of a transition rate with nobody at risk.
        // So is a survival of exits with nobody at risk in some year since the exit.
        let rates = [
            m.exit_rate,
            m.relapse_rate,
            m.entry_rate,
            m.exit_survival_1y,
            m.exit_survival_3y,
            m.exit_survival_5y,
        ];
        for r in rates {
            if !r.is_nan() {
                self.check(&format!("tick {t} rate"), r);
            }
        }
        let rest = [
            m.households,
            m.poverty_rate,
            m.poverty_gap,
            m.poverty_severity,
            m.poor,
            m.exited_start,
            m.relapses,
            m.relapses_per_household,
            m.relapses_cum,
            m.relapses_cum_per_household,
            m.relapsed_cum_share,
            m.exits,
            m.ever_exited,
            m.ever_relapsed,
            m.vulnerability_share,
            m.mean_vulnerability,
            m.mean_income,
            m.median_income,
            m.gini,
            m.transfer_income_share,
            m.migrants,
            m.local_jobs,
            m.welfare_posts,
            m.mean_skill,
            m.mean_effort,
        ];
        for (i, v) in rest.iter().enumerate() {
            self.check(&format!("tick {t} measure #{i}"), *v);
        }
        for (i, v) in m.component_shares.iter().enumerate() {
            self.check(&format!("tick {t} component share #{i}"), *v);
        }
        if let Some(s) = sys {
            for v in [s.theil, s.theil_within, s.theil_between, s.east_west_ratio] {
                if m.households > 0.0 {
                    self.check(&format!("tick {t} system measure"), v);
                }
            }
        }
    }
    fn flow(&mut self, t: Tick, link: usize, channel: Channel, amount: f64) {
        self.check(&format!("tick {t} link {link} {channel:?}"), amount);
    }
    fn link(&mut self, t: Tick, link: usize, r: &LinkReport) {
        for v in [
            r.delivery,
            r.east_firms,
            r.east_firm_capital,
            r.east_firm_return,
            r.labour_filled,
        ] {
            self.check(&format!("tick {t} link {link} report"), v);
        }
    }
    fn wants_panel(&self) -> bool {
        true
    }
    fn panel(&mut self, t: Tick, households: &[Household]) {
        for h in households {
            for v in [
                h.trailing, h.savings, h.skill, h.effort, h.log_mean, h.log_var,
            ] {
                self.check(&format!("tick {t} household"), v as f64);
            }
        }
    }
}

/// Where a schema key lives in the test scenario (one or more concrete paths).
fn paths(key: &str) -> Vec<String> {
    let (head, rest) = key.split_once('.').unwrap_or((key, ""));
    match head {
        "region" => vec![format!("region[0].{rest}"), format!("region[1].{rest}")],
        "link" => vec![format!("link[0].{rest}")],
        "phase" => vec![format!("phase[0].{rest}"), format!("phase[1].{rest}")],
        "shock" => vec![format!("shock[0].{rest}"), format!("shock[1].{rest}")],
        _ => vec![key.to_string()],
    }
}

fn value_text(k: Kind, v: f64) -> String {
    match k {
        Kind::Integer => format!("{}", v as i64),
        _ => format!("{v:?}"),
    }
}

#[test]
fn every_key_at_its_bounds_runs_finite_and_bounded() {
    let base = [
        "region.Upland.households=1000".to_string(),
        "region.Coastal.households=200".to_string(),
    ];
    let mut ran = 0;
    let mut refused = Vec::new();
    for k in KEYS {
        if !matches!(k.kind, Kind::Number | Kind::Integer) {
            continue;
        }
        // The population keys are what "a 1,000-household scenario" fixes; the seed and
        // replicate count do not enter a run; the format is checked elsewhere.
        if [
            "region.households",
            "run.seed",
            "run.replicates",
            "format",
            "time.start",
        ]
        .contains(&k.key)
        {
            continue;
        }
        let (Some(lo), Some(hi)) = (k.min, k.max) else {
            panic!("{}: a numeric key without both bounds", k.key);
        };
        let lo = if k.min_open {
            // The smallest value above an open bound that the schema admits.
            if lo == 0.0 {
                1e-9 * hi.max(1.0)
            } else {
                lo * (1.0 + 1e-9)
            }
        } else {
            lo
        };
        for v in [lo, hi] {
            let mut set = base.to_vec();
            for p in paths(k.key) {
                set.push(format!("{p}={}", value_text(k.kind, v)));
            }
            let loaded = match xiezuo::scenario::load_builtin("two_way_market.toml", &set) {
                Ok(l) => l,
                Err(e) => {
                    let msg = e.to_string();
                    // Only a rule across keys (not a range) may refuse an in-range value.
                    assert!(
                        !msg.contains("must be in") && !msg.contains("must be ≥"),
                        "{} = {v} is inside its range but was refused: {msg}",
                        k.key
                    );
                    assert!(
                        msg.contains("builtin:") || msg.contains(".toml:") || msg.contains("--set"),
                        "refusal is not located: {msg}"
                    );
                    refused.push(format!("{} = {v}", k.key));
                    continue;
                }
            };
            let mut rec = Finite::default();
            let world = xiezuo::model::run::run(&loaded.config, &mut rec);
            if let Some(bad) = rec.bad {
                panic!("{} = {v}: non-finite output: {bad}", k.key);
            }
            for r in 0..loaded.config.regions.len() {
                let n = world
                    .firms
                    .region
                    .iter()
                    .filter(|&&x| x as usize == r)
                    .count();
                assert!(
                    n as u32 <= MAX_FIRMS_PER_REGION,
                    "{} = {v}: {n} firms",
                    k.key
                );
            }
            for x in world.firms.capital.iter() {
                assert!(x.is_finite(), "{} = {v}: firm capital {x}", k.key);
            }
            ran += 1;
        }
    }
    assert!(ran > 150, "only {ran} runs; refused: {refused:?}");
}
