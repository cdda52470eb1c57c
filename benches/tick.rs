//! Household-steps per second of the full tick (all agent kinds) at 100k and 1M households.
//!
//! Run with `cargo bench --bench tick`. Each iteration is one `engine::step` of the
//! `two_way_market` scenario (monthly ticks) scaled to the given number of western households.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use xiezuo::model::engine::{step, Scratch};
use xiezuo::model::recorder::NullRecorder;
use xiezuo::model::rng::Streams;
use xiezuo::model::world::World;
use xiezuo::scenario::load_builtin;

fn bench_tick(c: &mut Criterion) {
    let mut group = c.benchmark_group("tick");
    group.sample_size(10);
    for n in [100_000u32, 1_000_000] {
        let east = n / 5;
        let cfg = load_builtin(
            "two_way_market.toml",
            &[
                format!("region.Upland.households={n}"),
                format!("region.Coastal.households={east}"),
            ],
        )
        .expect("valid")
        .config;
        let streams = Streams::new(cfg.seed);
        let mut world = World::new(&cfg, &streams);
        let mut scratch = Scratch::default();
        let mut rec = NullRecorder;
        group.throughput(Throughput::Elements((n + east) as u64));
        group.bench_function(format!("{}_households", n + east), |b| {
            b.iter(|| {
                if world.tick >= cfg.calendar.ticks {
                    world = World::new(&cfg, &streams);
                }
                step(&mut world, &cfg, &streams, &mut scratch, &mut rec);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_tick);
criterion_main!(benches);
