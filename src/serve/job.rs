//! One exploration job of `xiezuo serve`: replicates of arms A and B run in a background
//! thread with common seeds, and after every pair the yearly comparison (means, 95%
//! intervals, B − A) and the flows along the links are updated so that the page can draw
//! them while the rest runs. A job
//! is cancelled when a newer one starts; its runs stop at their next tick.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::batch::replicate::run_controlled;
use crate::model::config::Config;
use crate::model::flows::{Channel, Flow};
use crate::model::rng::Streams;
use crate::model::run::Control;
use crate::output::compare::{compare, yearly, CompareRow, YearRow};
use crate::output::recorder::FlowRows;
use crate::scenario::Loaded;

/// Per arm, the flows along its links so far: the mean over finished replicates of each
/// channel's yearly total (all links), and of each link's horizon total per flow kind.
#[derive(Debug, Clone, Default)]
pub struct Flows {
    /// `[channel][year]`: sum over replicates of the channel's total over the year.
    pub yearly: Vec<Vec<f64>>,
    /// `[link][flow kind]`: sum over replicates of the link's total over the horizon.
    pub links: Vec<[f64; 4]>,
    /// Replicates added.
    pub n: u32,
}

impl Flows {
    fn new(cfg: &Config) -> Flows {
        let years = cfg.calendar.ticks.div_ceil(cfg.calendar.ticks_per_year()) as usize;
        Flows {
            yearly: vec![vec![0.0; years]; Channel::ALL.len()],
            links: vec![[0.0; 4]; cfg.links.len()],
            n: 0,
        }
    }

    /// Adds one run's flows (stocks, such as the migrant stock, are left out: a sum of a
    /// stock over ticks means nothing).
    fn add(&mut self, cfg: &Config, rows: &FlowRows) {
        for i in 0..rows.tick.len() {
            let ch = rows.channel[i];
            if ch == Channel::MigrantStock {
                continue;
            }
            let c = Channel::ALL.iter().position(|x| *x == ch).unwrap_or(0);
            let y = cfg.calendar.year_index(rows.tick[i]) as usize;
            if let Some(v) = self.yearly[c].get_mut(y) {
                *v += rows.amount[i];
            }
            let k = match ch.kind().0 {
                Flow::Capital => 0,
                Flow::Labour => 1,
                Flow::Talent => 2,
                Flow::Products => 3,
            };
            if let Some(l) = self.links.get_mut(rows.link[i] as usize) {
                l[k] += rows.amount[i];
            }
        }
        self.n += 1;
    }
}

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
    /// Flows of arm A and B so far.
    pub flows: [Flows; 2],
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
            flows: [Flows::new(&arms[0].config), Flows::new(&arms[1].config)],
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
                    st.flows[0].add(&a, &ra.recorder.flows);
                    st.flows[1].add(&b, &rb.recorder.flows);
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
