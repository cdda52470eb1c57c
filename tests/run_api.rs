//! The library run API: a controlled run gives the same numbers as an uncontrolled one,
//! reports progress at every tick boundary (burn-in included), and stops at a tick boundary
//! when its cancel flag is set.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

use xiezuo::batch::replicate::{run_controlled, run_one};
use xiezuo::model::run::{run_with, Cancelled, Control, Progress, Stopped};
use xiezuo::output::compare::yearly;

fn small() -> xiezuo::model::config::Config {
    let l = xiezuo::scenario::load_builtin(
        "two_way_market.toml",
        &[
            "region.Upland.households=3000".into(),
            "region.Coastal.households=500".into(),
        ],
    )
    .unwrap();
    let mut cfg = l.config;
    // Three simulated years (the scenario's own dates stay valid; this is what --years does).
    cfg.calendar.ticks = 3 * cfg.calendar.ticks_per_year();
    cfg
}

#[test]
fn progress_is_reported_at_every_tick_and_results_do_not_change() {
    let cfg = small();
    let seen = Mutex::new(Vec::<Progress>::new());
    let f = |p: Progress| seen.lock().unwrap().push(p);
    let ctl = Control::none().with_progress(&f);
    let a = run_controlled(&cfg, false, &ctl).unwrap();
    let b = run_one(&cfg, false);
    let seen = seen.into_inner().unwrap();
    let total = cfg.calendar.burn_in + cfg.calendar.ticks;
    assert_eq!(
        seen.len() as u32,
        total + 1,
        "once before the first tick, then per tick"
    );
    assert!(seen.iter().all(|p| p.total == total));
    assert_eq!(seen.first().unwrap().done, 0);
    assert_eq!(seen.last().unwrap().done, total);
    assert!(seen.windows(2).all(|w| w[1].done == w[0].done + 1));
    assert_eq!(
        seen.iter().filter(|p| p.burn_in).count() as u32,
        cfg.calendar.burn_in
    );
    // Debug text compares NaN (an undefined first-year relapse rate) as equal.
    assert_eq!(
        format!("{:?}", yearly(&cfg, &a.recorder)),
        format!("{:?}", yearly(&cfg, &b.recorder))
    );
    assert_eq!(a.world, b.world);
}

#[test]
fn a_cancelled_run_stops_at_a_tick_boundary() {
    let cfg = small();
    let cancel = AtomicBool::new(false);
    let ticks = AtomicU32::new(0);
    // Ask for cancellation once 30 ticks are done; the run must stop right there.
    let f = |p: Progress| {
        ticks.store(p.done, Ordering::Relaxed);
        if p.done == 30 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let ctl = Control::none().with_cancel(&cancel).with_progress(&f);
    let mut rec = xiezuo::model::recorder::NullRecorder;
    let err = run_with(&cfg, &mut rec, &ctl).unwrap_err();
    assert_eq!(
        err,
        Stopped::Cancelled(Cancelled {
            done: 30,
            total: cfg.calendar.burn_in + cfg.calendar.ticks
        })
    );
    assert_eq!(ticks.load(Ordering::Relaxed), 30);
    // A flag set before the start stops the run before its first tick.
    let set = AtomicBool::new(true);
    let err = run_with(&cfg, &mut rec, &Control::none().with_cancel(&set)).unwrap_err();
    assert!(matches!(err, Stopped::Cancelled(Cancelled { done: 0, .. })));
}
