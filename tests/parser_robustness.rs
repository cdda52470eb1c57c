//! The scenario loader never panics: random text and random edits of the shipped scenarios
//! give either a configuration or an error (the stable-toolchain companion of the cargo-fuzz
//! target in `fuzz/`).

use proptest::prelude::*;
use xiezuo::scenario::{load_str, BUILTIN};

fn mutate(base: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for &(pos, op, b) in edits {
        if bytes.is_empty() {
            break;
        }
        let i = pos % bytes.len();
        match op % 3 {
            0 => bytes[i] = b,
            1 => {
                bytes.remove(i);
            }
            _ => bytes.insert(i, b),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(s in "\\PC{0,400}") {
        let _ = load_str("fuzz.toml", &s, None, &[]);
    }

    #[test]
    fn edited_scenarios_never_panic(which in 0usize..3, edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 32u8..127), 1..6)) {
        let text = mutate(BUILTIN[which].1, &edits);
        if let Ok(mut l) = load_str("fuzz.toml", &text, None, &[]) {
            let c = &mut l.config;
            if c.total_households() <= 30_000 {
                c.calendar.ticks = c.calendar.ticks.min(2);
                c.calendar.burn_in = 0;
                let mut rec = xiezuo::model::recorder::NullRecorder;
                let w = xiezuo::model::run::run(c, &mut rec);
                prop_assert_eq!(w.tick, c.calendar.ticks);
            }
        }
    }

    #[test]
    fn random_overrides_never_panic(key in "[a-z_\\[\\]0-9.]{1,30}", value in "\\PC{0,12}") {
        let _ = load_str("builtin:one_way_aid.toml", BUILTIN[1].1, None, &[format!("{key}={value}")]);
    }
}
