//! Run manifests. `manifest.json` says what was run, and only that: the program and its
//! output and scenario format versions, the command line, and every scenario with the files
//! it was read from, its `--set` overrides, horizon and every seed used; two identical runs
//! write byte-identical manifests. What varies between identical runs (wall time, thread
//! count) goes to `timing.json` beside it (ODD §9.11).

use serde_json::{json, Value};

use crate::model::config::Config;

/// Version of the output layout (tables, their columns, manifests). Raised whenever a
/// column or file changes meaning; `CHANGELOG.md` lists each version's changes.
pub const OUTPUT_FORMAT_VERSION: u32 = 3;

/// One scenario of a run or comparison, as the manifest records it.
#[derive(Debug, Clone)]
pub struct ScenarioEntry<'a> {
    /// Its role: `run`, `A` or `B`.
    pub role: &'a str,
    /// The validated configuration (name, horizon).
    pub config: &'a Config,
    /// Files of its `extends` chain, base first (`builtin:NAME` for built-ins).
    pub files: &'a [String],
    /// The `--set` overrides applied, in order.
    pub overrides: &'a [String],
    /// The seed of every replicate run, in replicate order.
    pub seeds: &'a [u64],
}

/// The command line as recorded: the program's arguments without `--threads N`, which
/// cannot change a result (it is recorded in `timing.json`).
pub fn recorded_command(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut skip = false;
    for (i, a) in args.iter().enumerate() {
        if i == 0 {
            // The program as invoked (a path that depends on the machine): its name only.
            out.push("xiezuo".to_string());
            continue;
        }
        if skip {
            skip = false;
            continue;
        }
        if a == "--threads" {
            skip = true;
            continue;
        }
        if a.starts_with("--threads=") {
            continue;
        }
        out.push(a.clone());
    }
    out
}

/// `manifest.json`: what was run. `extra` holds command-specific counts (households,
/// firms at the end, replicates).
pub fn manifest_json(
    command: &[String],
    scenario_format: u32,
    scenarios: &[ScenarioEntry],
    extra: Value,
) -> String {
    let scen: Vec<Value> = scenarios
        .iter()
        .map(|s| {
            let c = s.config;
            json!({
                "role": s.role,
                "name": c.name,
                "files": s.files,
                "set": s.overrides,
                "seeds": s.seeds,
                "start": c.calendar.start.to_string(),
                "step": c.calendar.step.as_str(),
                "ticks": c.calendar.ticks,
                "burn_in_ticks": c.calendar.burn_in,
                "regions": c.regions.len(),
                "links": c.links.len(),
                "resolved": format!("{}/scenario.resolved.toml", if s.role == "run" { "." } else { &c.name }),
            })
        })
        .collect();
    let v = json!({
        "program": "xiezuo",
        "version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("XIEZUO_GIT_COMMIT"),
        "output_format": OUTPUT_FORMAT_VERSION,
        "scenario_format": scenario_format,
        "command": recorded_command(command),
        "scenarios": scen,
        "counts": extra,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// `timing.json`: what differs between identical runs.
pub fn timing_json(wall_seconds: f64, threads: usize) -> String {
    let v = json!({
        "wall_time_seconds": wall_seconds,
        "threads": threads,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_not_part_of_what_was_run() {
        let args: Vec<String> = [
            "./t/xiezuo",
            "--threads",
            "2",
            "run",
            "a.toml",
            "--threads=3",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(recorded_command(&args), vec!["xiezuo", "run", "a.toml"]);
    }
}
