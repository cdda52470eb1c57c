//! The canonical speed figure of issue 15: a whole `run` of `two_way_market` scaled to N
//! households (burn-in and horizon, the tables `xiezuo run` keeps, in memory, no files), its
//! household-steps per second, and its ratio to the minimal household kernel
//! (`common/kernel.rs`) measured in the same process, thread pool and population size (the
//! kernel before and after the run; their mean). Goal: ratio ≥ 0.5.
//!
//! `cargo bench --bench ratio -- [N] [THREADS]` (default 1,000,000 households, 2 threads).

#[path = "common/kernel.rs"]
mod kernel;

use std::time::Instant;

use xiezuo::model::run::run;
use xiezuo::model::world::World;
use xiezuo::output::TableRecorder;
use xiezuo::scenario::load_builtin;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: u32 = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let threads: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    pool.install(|| {
        // The split of benches/tick.rs: Upland 5/6, Coastal 1/6 of the households.
        let (west, east) = (n - n / 6, n / 6);
        let cfg = load_builtin(
            "two_way_market.toml",
            &[
                format!("region.Upland.households={west}"),
                format!("region.Coastal.households={east}"),
            ],
        )
        .expect("a valid scenario")
        .config;
        let hh = cfg.total_households();
        let steps = hh as f64 * (cfg.calendar.burn_in + cfg.calendar.ticks) as f64;
        let mut k = kernel::Kernel::new(hh, cfg.seed);
        let before = k.rate(2.0);
        let t0 = Instant::now();
        let mut rec = TableRecorder::new(&cfg, false);
        let world = run(&cfg, &mut rec);
        let secs = t0.elapsed().as_secs_f64();
        std::hint::black_box((&world, &rec));
        let rate = steps / secs;
        let after = k.rate(2.0);
        let kr = 0.5 * (before + after);
        println!("households             {hh}");
        println!("threads                {threads}");
        println!(
            "run                    {secs:.2} s, {:.1} M household-steps/s",
            rate / 1e6
        );
        println!(
            "kernel                 {:.1} M steps/s (before {:.1}, after {:.1})",
            kr / 1e6,
            before / 1e6,
            after / 1e6
        );
        println!("ratio                  {:.3}   (goal ≥ 0.5)", rate / kr);
        println!(
            "state bytes/household  {:.0}   (kernel 48)",
            World::population_bytes(&cfg) as f64 / hh as f64
        );
        if (before - after).abs() > 0.1 * kr {
            println!(
                "warning: the kernel's rate moved by more than 10% during the run: a noisy machine"
            );
        }
    });
}
