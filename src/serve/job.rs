//! One exploration job of `xiezuo serve`: replicates of arms A and B run in a background
//! thread with common seeds, and after every pair the yearly comparison (means, 95%
//! intervals, B − A) is recomputed so that the page can draw it while the rest runs. A job
//! is cancelled when a newer one starts; its runs stop at their next tick.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::batch::replicate::run_controlled;
use crate::model::rng::Streams;
use crate::model::run::Control;
use crate::output::compare::{compare, yearly, CompareRow, YearRow};
use crate::scenario::Loaded;

/// What the page polls: progress and the comparison so far.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Replicate pairs finished.
    pub done: u32,
    /// Replicate pairs asked for.
    pub total: u32,
    /// Whether the job ended (all pairs done, or cancelled).
    pub finished: bool,
    /// Whether it was cancelled (by a newer request).
    pub cancelled: bool,
    /// The comparison of the pairs done so far (empty before the first).
    pub rows: Vec<CompareRow>,
}

/// A running or finished job.
#[derive(Debug)]
pub struct Job {
    /// Identifier (increasing).
    pub id: u64,
    /// Arm A and B as run (overrides and downscaling applied).
    pub arms: [Loaded; 2],
    /// The master seed of the common seed list.
    pub seed: u64,
    cancel: Arc<AtomicBool>,
    state: Arc<Mutex<Snapshot>>,
}

impl Job {
    /// Starts `replicates` pairs of `arms` in a background thread.
    pub fn start(id: u64, arms: [Loaded; 2], replicates: u32) -> Job {
        let seed = arms[0].config.seed;
        let cancel = Arc::new(AtomicBool::new(false));
        let state = Arc::new(Mutex::new(Snapshot {
            total: replicates,
            ..Snapshot::default()
        }));
        let job = Job {
            id,
            arms,
            seed,
            cancel: cancel.clone(),
            state: state.clone(),
        };
        let (a, b) = (job.arms[0].config.clone(), job.arms[1].config.clone());
        std::thread::spawn(move || {
            let streams = Streams::new(seed);
            let ctl = Control::default().with_cancel(&cancel);
            let (mut ya, mut yb): (Vec<Vec<YearRow>>, Vec<Vec<YearRow>>) = (vec![], vec![]);
            let mut cancelled = false;
            for i in 0..replicates {
                let s = streams.replicate_seed(i as u64);
                let (mut ca, mut cb) = (a.clone(), b.clone());
                ca.seed = s;
                cb.seed = s;
                let (ra, rb) = rayon::join(
                    || run_controlled(&ca, false, &ctl),
                    || run_controlled(&cb, false, &ctl),
                );
                let (Ok(ra), Ok(rb)) = (ra, rb) else {
                    cancelled = true;
                    break;
                };
                ya.push(yearly(&a, &ra.recorder));
                yb.push(yearly(&b, &rb.recorder));
                let rows = compare(&ya, &yb);
                if let Ok(mut st) = state.lock() {
                    st.done = i + 1;
                    st.rows = rows;
                }
                if cancel.load(Ordering::Relaxed) {
                    cancelled = i + 1 < replicates;
                    break;
                }
            }
            if let Ok(mut st) = state.lock() {
                st.finished = true;
                st.cancelled = cancelled;
            }
        });
        job
    }

    /// Stops the job's runs at their next tick.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Progress and the comparison so far.
    pub fn snapshot(&self) -> Snapshot {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
