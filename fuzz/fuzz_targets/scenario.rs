//! Fuzz target: any input to the scenario loader gives a config or an error, never a panic;
//! a config that loads survives a short run.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mut loaded) = xiezuo::scenario::load_str("fuzz.toml", text, None, &[]) {
        // Keep runs small: cap households and ticks.
        let c = &mut loaded.config;
        if c.total_households() <= 5_000 {
            c.calendar.ticks = c.calendar.ticks.min(3);
            c.calendar.burn_in = c.calendar.burn_in.min(1);
            let mut rec = xiezuo::model::metrics::NullRecorder;
            let _ = xiezuo::model::run::run(c, &mut rec);
        }
    }
});
