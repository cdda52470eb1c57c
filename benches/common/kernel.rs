//! The minimal household kernel (issue 15): the floor the model's speed is reported against.
//! FROZEN: changing it changes every reported ratio. A 48-byte record (the size of the
//! model's `Household`), 8 fields, 2 f32 draws per step from ChaCha8 streams keyed like the
//! household phase (purpose, block, tick), blocks of `BLOCK` households, rayon over blocks,
//! block accumulators merged in block order: what any household step must at least do.

use rand::Rng;
use rayon::prelude::*;
use xiezuo::model::rng::{Purpose, Streams};
use xiezuo::model::world::BLOCK;

/// One record: 8 fields used, padded to 48 bytes like `Household`.
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct Rec {
    income: f32,
    savings: f32,
    skill: f32,
    effort: f32,
    trailing: f32,
    log_mean: f32,
    status: u32,
    flags: u32,
    _pad: [u32; 4],
}
const _: () = assert!(std::mem::size_of::<Rec>() == 48);

/// A block's (and the merged) accumulator.
#[derive(Clone, Copy, Default, Debug)]
pub struct Acc {
    /// Records stepped.
    pub n: u64,
    /// Records below the line.
    pub poor: u64,
    /// Sum of this tick's incomes.
    pub income: f64,
    /// Sum of savings.
    pub savings: f64,
}

/// The kernel's population and streams.
pub struct Kernel {
    pop: Vec<Rec>,
    blocks: Vec<Acc>,
    streams: Streams,
    /// Ticks stepped.
    pub tick: u32,
}

impl Kernel {
    /// `n` records.
    pub fn new(n: usize, seed: u64) -> Kernel {
        let pop = (0..n)
            .map(|i| Rec {
                income: 4000.0 + (i % 97) as f32 * 50.0,
                savings: 500.0,
                skill: 1.0,
                effort: 1.0,
                trailing: 4000.0 + (i % 89) as f32 * 60.0,
                ..Rec::default()
            })
            .collect();
        Kernel {
            pop,
            blocks: vec![Acc::default(); n.div_ceil(BLOCK)],
            streams: Streams::new(seed),
            tick: 0,
        }
    }

    /// One tick: every record is stepped once; returns the merged accumulator.
    #[inline(never)]
    pub fn step(&mut self) -> Acc {
        let (streams, t) = (&self.streams, self.tick as u64);
        self.pop
            .par_chunks_mut(BLOCK)
            .zip(self.blocks.par_iter_mut())
            .enumerate()
            .for_each(|(b, (hs, acc))| {
                let mut rng = streams.stream(Purpose::Households, b as u64, t);
                let mut a = Acc::default();
                for h in hs {
                    let u1: f32 = rng.random();
                    let u2: f32 = rng.random();
                    let y = h.skill * h.effort * (0.75 + 0.5 * u1) * 1000.0;
                    h.income = y;
                    h.savings = 0.9 * h.savings + 0.1 * y;
                    h.trailing += (y * 12.0 - h.trailing) * (1.0 / 24.0);
                    h.log_mean += 0.1 * (h.trailing - h.log_mean);
                    h.effort = (h.effort + 0.01 * (u2 - 0.5)).clamp(0.0, 1.0);
                    let poor = h.trailing < 4000.0;
                    h.status = poor as u32;
                    h.flags |= (poor as u32) << 1;
                    a.n += 1;
                    a.poor += poor as u64;
                    a.income += y as f64;
                    a.savings += h.savings as f64;
                }
                *acc = a;
            });
        self.tick += 1;
        let mut m = Acc::default();
        for a in &self.blocks {
            m.n += a.n;
            m.poor += a.poor;
            m.income += a.income;
            m.savings += a.savings;
        }
        m
    }

    /// Steps per second over at least `min_secs` (whole ticks), after one warm-up tick.
    pub fn rate(&mut self, min_secs: f64) -> f64 {
        std::hint::black_box(self.step());
        let t0 = std::time::Instant::now();
        let mut ticks = 0u64;
        while ticks == 0 || t0.elapsed().as_secs_f64() < min_secs {
            std::hint::black_box(self.step());
            ticks += 1;
        }
        (ticks * self.pop.len() as u64) as f64 / t0.elapsed().as_secs_f64()
    }
}
