//! Single runs and replicates: one run of a validated configuration kept in memory, and
//! replicates in parallel with seeds derived from the replicate index.

use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::model::config::Config;
use crate::model::rng::Streams;
use crate::model::run::{run_with, Control, Stopped};
use crate::model::world::World;
use crate::output::TableRecorder;

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Everything recorded.
    pub recorder: TableRecorder,
    /// Final state.
    pub world: World,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs one configuration to its horizon with every row kept in memory (the household
/// panel too when `panel`). Panics if the population cannot be allocated (see
/// [`run_controlled`]).
pub fn run_one(cfg: &Config, panel: bool) -> RunResult {
    match run_controlled(cfg, panel, &Control::none()) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// [`run_one`] under a control handle (cancel flag, progress callback): the call that
/// front ends share, in memory and with no I/O.
pub fn run_controlled(cfg: &Config, panel: bool, ctl: &Control) -> Result<RunResult, Stopped> {
    let start = Instant::now();
    let mut rec = TableRecorder::new(cfg, panel);
    let world = run_with(cfg, &mut rec, ctl)?;
    Ok(RunResult {
        recorder: rec,
        world,
        elapsed: start.elapsed(),
    })
}

/// The configuration of replicate `r`: same scenario, seed derived from the master seed
/// and the replicate index (never from the thread that runs it).
pub fn replicate_config(cfg: &Config, r: u32) -> Config {
    let mut c = cfg.clone();
    c.seed = Streams::new(cfg.seed).replicate_seed(r as u64);
    c
}

/// Runs one replicate per seed in `seeds`, in parallel, results in seed-list order: the
/// way two scenarios share common random numbers (`compare`).
pub fn replicates_seeded(cfg: &Config, seeds: &[u64], panel: bool) -> Vec<RunResult> {
    match replicates_controlled(cfg, seeds, panel, &Control::none(), |r| r) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// [`replicates_seeded`] under a control handle (a cancel stops every run at its next
/// tick), reducing each finished run with `each` as soon as it ends (so a caller that keeps
/// a summary does not hold every run's tables, and can count finished runs): the results of
/// `each` in seed-list order, or the first [`Stopped`].
pub fn replicates_controlled<T: Send>(
    cfg: &Config,
    seeds: &[u64],
    panel: bool,
    ctl: &Control,
    each: impl Fn(RunResult) -> T + Sync,
) -> Result<Vec<T>, Stopped> {
    seeds
        .par_iter()
        .map(|&seed| {
            let mut c = cfg.clone();
            c.seed = seed;
            run_controlled(&c, panel, ctl).map(&each)
        })
        .collect()
}

/// Runs `n` replicates in parallel and returns their results in replicate order.
pub fn replicates(cfg: &Config, n: u32, panel: bool) -> Vec<RunResult> {
    (0..n)
        .into_par_iter()
        .map(|r| run_one(&replicate_config(cfg, r), panel))
        .collect()
}
