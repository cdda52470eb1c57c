//! The library run API shared by every front end (CLI, batches, claims, calibration, the
//! web page, the Python module): one call runs a validated [`Config`] from a fresh world to
//! its horizon into a [`Recorder`], under a [`Control`] handle that can cancel the run and
//! observe its progress at tick boundaries. No I/O: a front end that wants the results kept
//! in memory passes a recorder that keeps them (`output::TableRecorder`).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::config::Config;
use crate::model::engine::{self, Scratch};
use crate::model::recorder::Recorder;
use crate::model::rng::Streams;
use crate::model::time::Tick;
use crate::model::world::{OutOfMemory, World};

/// Where a run stands, reported at each tick boundary (burn-in included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Ticks completed, burn-in ticks first.
    pub done: u32,
    /// Ticks in the whole run: burn-in plus simulated ticks.
    pub total: u32,
    /// Whether the run is still in its burn-in.
    pub burn_in: bool,
}

/// A run stopped by its [`Control`] before its horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("run cancelled after {done} of {total} ticks")]
pub struct Cancelled {
    /// Ticks completed when the cancellation was seen (burn-in included).
    pub done: u32,
    /// Ticks the run would have taken.
    pub total: u32,
}

/// Why a run did not reach its horizon: it was cancelled, or its population could not be
/// allocated (the only failure a validated configuration can still meet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Stopped {
    /// The control handle's cancel flag was set.
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
    /// The machine could not allocate the population.
    #[error(transparent)]
    OutOfMemory(#[from] OutOfMemory),
}

/// The control handle of a run: an optional cancel flag and an optional progress
/// callback, both consulted only at tick boundaries (never inside the household phase), so
/// they cannot change a result; a run either completes with the same outputs as an
/// uncontrolled one or stops with [`Cancelled`].
#[derive(Default, Clone, Copy)]
pub struct Control<'a> {
    cancel: Option<&'a AtomicBool>,
    progress: Option<&'a (dyn Fn(Progress) + Sync)>,
}

impl std::fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancel", &self.cancel)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl<'a> Control<'a> {
    /// No cancellation, no progress reports.
    pub fn none() -> Control<'static> {
        Control::default()
    }

    /// Stops the run at the next tick boundary once `flag` is set.
    pub fn with_cancel(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Calls `f` after every tick (burn-in included).
    pub fn with_progress(mut self, f: &'a (dyn Fn(Progress) + Sync)) -> Self {
        self.progress = Some(f);
        self
    }

    fn check(&self, p: Progress) -> Result<(), Cancelled> {
        if let Some(f) = self.progress {
            f(p);
        }
        match self.cancel {
            Some(c) if c.load(Ordering::Relaxed) && p.done < p.total => Err(Cancelled {
                done: p.done,
                total: p.total,
            }),
            _ => Ok(()),
        }
    }
}

/// Runs `cfg` from a fresh world through its burn-in and `cfg.calendar.ticks` ticks,
/// reporting into `rec`, and returns the final state. Panics if the population cannot be
/// allocated; front ends that take populations from users call [`run_with`].
pub fn run(cfg: &Config, rec: &mut dyn Recorder) -> World {
    match run_with(cfg, rec, &Control::none()) {
        Ok(w) => w,
        Err(e) => panic!("{e}"),
    }
}

/// [`run`] under a control handle: the cancel flag is checked and progress reported before
/// the first tick and after every tick, burn-in included.
pub fn run_with(cfg: &Config, rec: &mut dyn Recorder, ctl: &Control) -> Result<World, Stopped> {
    let streams = Streams::new(cfg.seed);
    let mut world = World::try_new(cfg, &streams)?;
    let burn = cfg.calendar.burn_in;
    let total = burn.saturating_add(cfg.calendar.ticks);
    let at = |done: u32| Progress {
        done,
        total,
        burn_in: done < burn,
    };
    ctl.check(at(0))?;
    for k in 0..burn {
        engine::burn_in_step(&mut world, cfg, &streams, k);
        ctl.check(at(k + 1))?;
    }
    engine::register_after_burn_in(&mut world, cfg);
    let mut scratch = Scratch::default();
    while world.tick < cfg.calendar.ticks {
        engine::step(&mut world, cfg, &streams, &mut scratch, rec);
        ctl.check(at(burn + world.tick as Tick))?;
    }
    Ok(world)
}
