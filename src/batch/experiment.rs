//! Batch files: scenarios, a sweep over scenario keys, replicates and a master seed, turned
//! into a stable, enumerated list of runs. Each run's seed derives from the master seed, the
//! scenario, the parameter point and the replicate index, never from who runs it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::rng::{mix, Purpose, Streams};
use crate::scenario::{self, Loaded, ScenarioError};
use crate::stats::sensitivity;

/// A batch file that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExperimentError {
    /// The file cannot be read or parsed.
    #[error("{file}: {message}")]
    File {
        /// Batch file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A key is wrong.
    #[error("{file}:{line}: key `{key}`: {message}")]
    Invalid {
        /// Batch file.
        file: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// Key path.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiment {
    name: String,
    #[serde(default = "d_seed")]
    seed: u64,
    #[serde(default = "d_reps")]
    replicates: u32,
    #[serde(default)]
    years: Option<u32>,
    scenario: Vec<RawScenario>,
    #[serde(default)]
    sweep: Option<RawSweep>,
    #[serde(default)]
    output: Keep,
    #[serde(default)]
    sensitivity: Option<SensitivitySpec>,
}

fn d_seed() -> u64 {
    1
}
fn d_reps() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    builtin: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    set: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    #[serde(default = "d_method")]
    method: String,
    #[serde(default)]
    samples: Option<u32>,
    #[serde(default)]
    levels: Option<u32>,
    param: Vec<RawParam>,
}

/// `[sensitivity]`: what `xiezuo sensitivity` computes indices of.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivitySpec {
    /// The outputs: a measure of one scope, averaged over a window of years.
    pub outputs: Vec<OutputSpec>,
    /// Bootstrap resamples for the 95% intervals.
    #[serde(default = "d_resamples")]
    pub resamples: u32,
}

fn d_resamples() -> u32 {
    1000
}

/// One output of a sensitivity analysis: the mean over the years `from..=to` of a measure's
/// year-end values in one scope, averaged over replicates.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// A `metrics` column (e.g. `relapse_rate`, `poverty_rate`, `mean_income`).
    pub measure: String,
    /// A region name, `WEST`, `EAST` or `ALL`.
    #[serde(default = "d_scope")]
    pub region: String,
    /// First calendar year of the window.
    pub from: i32,
    /// Last calendar year of the window (inclusive).
    pub to: i32,
}

fn d_scope() -> String {
    "WEST".into()
}

fn d_method() -> String {
    "grid".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    key: String,
    #[serde(default)]
    values: Option<Vec<toml::Value>>,
    #[serde(default)]
    range: Option<[f64; 3]>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    integer: bool,
}

/// Which outputs each run keeps (so that big batches stay small on disk).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Keep {
    /// Tables to keep: any of `metrics`, `flows`, `links`, `households` (the yearly panel).
    pub tables: Vec<String>,
    /// One row per year: flows summed over the year, stocks and rates at the year end
    /// (see [`keep`](crate::batch::keep)).
    pub yearly: bool,
    /// Keep only these scopes in `metrics` (region names, `EAST`, `WEST`, `ALL`) and the
    /// households of these regions (or sides) in `households`; empty = all.
    pub regions: Vec<String>,
}

impl Default for Keep {
    fn default() -> Self {
        Keep {
            tables: vec!["metrics".into()],
            yearly: false,
            regions: Vec::new(),
        }
    }
}

/// Allowed table names.
pub const TABLES: [&str; 4] = ["metrics", "flows", "links", "households"];

/// How sweep points are generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Full factorial grid of every parameter's values.
    Grid,
    /// The i-th value of every parameter (lists of equal length).
    List,
    /// Latin hypercube over [min, max] per parameter.
    Lhs,
    /// Owen-scrambled Sobol sequence over [min, max] per parameter.
    Sobol,
    /// Saltelli's design for Sobol indices: `samples` base points, each a block of `d + 2`
    /// points (A, B, AB₁ … AB_d) over [min, max] (`stats::sensitivity::saltelli_design`).
    Saltelli,
    /// Morris trajectories for elementary effects: `samples` trajectories of `d + 1` points
    /// on a `levels`-level grid over [min, max] (`stats::sensitivity::morris_design`).
    Morris,
}

impl Method {
    /// Allowed names.
    pub const NAMES: [&str; 6] = ["grid", "list", "lhs", "sobol", "saltelli", "morris"];

    /// Whether the method's points are a sensitivity design (`xiezuo sensitivity`).
    pub fn is_sensitivity(self) -> bool {
        matches!(self, Method::Saltelli | Method::Morris)
    }
}

/// One swept scenario key.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Scenario key path (as for `--set`).
    pub key: String,
    /// Explicit values (grid, list).
    pub values: Vec<toml::Value>,
    /// Bounds (lhs, sobol).
    pub bounds: (f64, f64),
    /// Round sampled values to integers.
    pub integer: bool,
}

/// One scenario of a batch.
#[derive(Debug, Clone)]
pub struct ScenarioSpec {
    /// Label used in outputs.
    pub label: String,
    /// Where the scenario comes from.
    pub source: Source,
    /// Overrides applied to every run of this scenario.
    pub set: Vec<String>,
    /// Fingerprint (16 hex digits) of the resolved scenario (after `extends` and `set`,
    /// without `run.seed` and `run.replicates`, which a batch does not use): a batch whose
    /// scenario resolves differently is a different batch.
    pub resolved: String,
}

/// Where a scenario comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A file (absolute or relative to the batch file).
    File(PathBuf),
    /// A built-in scenario.
    Builtin(String),
}

/// A validated batch.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// Name.
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// Replicates per scenario and point.
    pub replicates: u32,
    /// Optional horizon cap in years.
    pub years: Option<u32>,
    /// Scenarios.
    pub scenarios: Vec<ScenarioSpec>,
    /// Sweep method and parameters (empty = one point with no overrides).
    pub method: Method,
    /// Swept parameters.
    pub params: Vec<Param>,
    /// Points: for each, one value per parameter.
    pub points: Vec<Vec<toml::Value>>,
    /// The points in the unit cube (sampled methods; empty for grid and list).
    pub unit_points: Vec<Vec<f64>>,
    /// What `xiezuo sensitivity` computes (`[sensitivity]`), if given.
    pub sensitivity: Option<SensitivitySpec>,
    /// Outputs kept.
    pub keep: Keep,
}

/// One run of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the run list of this batch file (scenario, then point, then replicate).
    pub run_id: u32,
    /// Content key of the run: derived from the scenario label, the swept values (and their
    /// occurrence, for a point listed twice) and the replicate index, never from positions,
    /// so a run keeps its key, seed and files when the batch is extended.
    pub key: u64,
    /// Scenario index.
    pub scenario: usize,
    /// Point index.
    pub point: usize,
    /// Replicate index.
    pub replicate: u32,
    /// Seed of the run.
    pub seed: u64,
}

impl RunSpec {
    /// The run key as 16 hex digits (part and failure file names, `run_key` columns).
    pub fn key_hex(&self) -> String {
        format!("{:016x}", self.key)
    }
}

/// Most replicates per scenario and point.
pub const MAX_REPLICATES: u32 = 100_000;
/// Most runs in one batch (scenarios × points × replicates).
pub const MAX_RUNS: u64 = 1_000_000;
/// Longest horizon cap `years` (the longest scenario horizon).
pub const MAX_YEARS: u32 = 200;
/// Most sweep points.
pub const MAX_POINTS: usize = 1_000_000;
/// Most values generated by one `range`.
pub const MAX_VALUES: usize = 100_000;

/// FNV-1a 64 of bytes.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// 1-based line of `key` (a path such as `sweep.param[1].values`) in a batch file's text,
/// 0 when not found: the header of the array-of-tables element or table, then the key.
pub fn line_of(text: &str, key: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    // Segments with their array index, e.g. [("sweep", None), ("param", Some(1)), ("values", None)].
    let mut segs: Vec<(String, Option<usize>)> = Vec::new();
    for part in key.split('.') {
        let (name, idx) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !name.is_empty() {
            segs.push((name.to_string(), idx));
        }
    }
    let compact = |l: &str| l.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let is_header = |l: &str| l.trim_start().starts_with('[');
    // Start after the header of the deepest table named by the path.
    let mut start = 0;
    let mut rest = segs.len();
    let mut found_header = false;
    for cut in (1..=segs.len()).rev() {
        let path: Vec<&str> = segs[..cut].iter().map(|(n, _)| n.as_str()).collect();
        let path = path.join(".");
        let (header, nth) = match segs[cut - 1].1 {
            Some(i) => (format!("[[{path}]]"), i),
            None => (format!("[{path}]"), 0),
        };
        let mut seen = 0;
        if let Some(i) = lines.iter().position(|l| {
            let hit = compact(l) == header;
            if hit {
                seen += 1;
            }
            hit && seen == nth + 1
        }) {
            start = i;
            rest = cut;
            found_header = true;
            break;
        }
    }
    if found_header && rest == segs.len() {
        return start + 1;
    }
    let want = segs
        .get(if found_header { rest } else { 0 })
        .map(|(n, _)| n.as_str())
        .unwrap_or(key);
    let last = segs.last().map(|(n, _)| n.as_str()).unwrap_or(key);
    let from = if found_header { start + 1 } else { 0 };
    for (i, l) in lines.iter().enumerate().skip(from) {
        if i > from && found_header && is_header(l) {
            break;
        }
        let c = compact(l);
        if c.starts_with(&format!("{want}=")) || c.starts_with(&format!("{want}.")) {
            return i + 1;
        }
    }
    // Fallback: the first line that starts with the key's last name.
    lines
        .iter()
        .position(|l| l.trim_start().starts_with(last))
        .map(|i| i + 1)
        .unwrap_or(if found_header { start + 1 } else { 0 })
}

impl Experiment {
    /// Reads and validates a batch file: every scenario is loaded, and every sweep point of
    /// every scenario is loaded and checked (scenario loading only, no run), so that a bad
    /// key or value is an error before anything runs.
    pub fn load(path: &Path) -> Result<Experiment, ExperimentError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::File {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Self::from_str(&file, &text, path.parent())
    }

    /// Validates a batch from text (`dir` resolves relative scenario files).
    pub fn from_str(
        file: &str,
        text: &str,
        dir: Option<&Path>,
    ) -> Result<Experiment, ExperimentError> {
        let exp = Self::parse(file, text, dir)?;
        exp.check_points(&|key: &str, message: String| ExperimentError::Invalid {
            file: file.to_string(),
            line: line_of(text, key),
            key: key.to_string(),
            message,
        })?;
        Ok(exp)
    }

    /// [`from_str`](Self::from_str) without loading every sweep point.
    fn parse(file: &str, text: &str, dir: Option<&Path>) -> Result<Experiment, ExperimentError> {
        let invalid = |key: &str, message: String| ExperimentError::Invalid {
            file: file.to_string(),
            line: line_of(text, key),
            key: key.to_string(),
            message,
        };
        let value: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ExperimentError::File {
                    file: format!(
                        "{file}:{}",
                        e.span()
                            .map(|s| crate::scenario::line_of(text, s.start))
                            .unwrap_or(0)
                    ),
                    message: format!("TOML syntax error: {}", e.message().trim()),
                })?;
        let raw: RawExperiment = serde_path_to_error::deserialize(toml::Value::Table(value))
            .map_err(|e| {
                let path = e.path().to_string();
                invalid(
                    &path,
                    e.inner()
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string(),
                )
            })?;
        if raw.replicates == 0 || raw.replicates > MAX_REPLICATES {
            return Err(invalid(
                "replicates",
                format!("must be in [1, {MAX_REPLICATES}], got {}", raw.replicates),
            ));
        }
        if let Some(y) = raw.years {
            if y == 0 || y > MAX_YEARS {
                return Err(invalid(
                    "years",
                    format!(
                        "must be in [1, {MAX_YEARS}] (a horizon cap in whole years), got {y}; leave it out to run each scenario's own horizon"
                    ),
                ));
            }
        }
        if raw.scenario.is_empty() {
            return Err(invalid(
                "scenario",
                "at least one [[scenario]] is required".into(),
            ));
        }
        for t in &raw.output.tables {
            if !TABLES.contains(&t.as_str()) {
                return Err(invalid(
                    "output.tables",
                    format!("`{t}` is not a table; allowed: {}", TABLES.join(", ")),
                ));
            }
        }
        if raw.output.tables.is_empty() {
            return Err(invalid(
                "output.tables",
                format!("keep at least one table; allowed: {}", TABLES.join(", ")),
            ));
        }
        // The run count is checked before any point is generated.
        let scenarios_n = raw.scenario.len() as u64;
        let replicates = raw.replicates as u64;
        let too_many = |points: u64| -> Option<ExperimentError> {
            let runs = scenarios_n
                .saturating_mul(points)
                .saturating_mul(replicates);
            (runs > MAX_RUNS).then(|| {
                invalid(
                    "replicates",
                    format!(
                        "{scenarios_n} scenarios × {points} points × {replicates} replicates = {runs} runs; a batch has at most {MAX_RUNS} runs (split it into several batches)"
                    ),
                )
            })
        };
        let (method, params, points, unit_points) = match &raw.sweep {
            None => {
                if let Some(e) = too_many(1) {
                    return Err(e);
                }
                (Method::Grid, Vec::new(), vec![Vec::new()], Vec::new())
            }
            Some(sw) => sweep_points(sw, raw.seed, &invalid, &too_many)?,
        };
        if let Some(sens) = &raw.sensitivity {
            if !method.is_sensitivity() {
                return Err(invalid(
                    "sensitivity",
                    "needs a sensitivity design: [sweep] method = \"saltelli\" (Sobol indices) or \"morris\" (elementary effects)".into(),
                ));
            }
            if sens.outputs.is_empty() {
                return Err(invalid(
                    "sensitivity.outputs",
                    "list at least one output, e.g. { measure = \"relapse_rate\", region = \"WEST\", from = 2021, to = 2025 }".into(),
                ));
            }
            for (i, o) in sens.outputs.iter().enumerate() {
                if o.from > o.to {
                    return Err(invalid(
                        &format!("sensitivity.outputs[{i}].to"),
                        format!("must be at least `from` ({}), got {}", o.from, o.to),
                    ));
                }
            }
            if !(10..=100_000).contains(&sens.resamples) {
                return Err(invalid(
                    "sensitivity.resamples",
                    format!("must be in [10, 100000], got {}", sens.resamples),
                ));
            }
        }
        let mut scenarios: Vec<ScenarioSpec> = Vec::new();
        for (i, s) in raw.scenario.iter().enumerate() {
            let source = match (&s.file, &s.builtin) {
                (Some(f), None) => Source::File(match dir {
                    Some(d) if Path::new(f).is_relative() => d.join(f),
                    _ => PathBuf::from(f),
                }),
                (None, Some(b)) => Source::Builtin(b.clone()),
                _ => {
                    return Err(invalid(
                        &format!("scenario[{i}]"),
                        "give exactly one of `file` or `builtin`".into(),
                    ))
                }
            };
            let label = s.label.clone().unwrap_or_else(|| match &source {
                Source::File(p) => p
                    .file_stem()
                    .map(|x| x.to_string_lossy().to_string())
                    .unwrap_or_default(),
                Source::Builtin(b) => b
                    .trim_start_matches("builtin:")
                    .trim_end_matches(".toml")
                    .to_string(),
            });
            if label.is_empty() {
                return Err(invalid(
                    &format!("scenario[{i}].label"),
                    "the label must not be empty".into(),
                ));
            }
            if scenarios.iter().any(|o| o.label == label) {
                return Err(invalid(
                    &format!("scenario[{i}].label"),
                    format!("duplicate scenario label `{label}`"),
                ));
            }
            let mut spec = ScenarioSpec {
                label,
                source,
                set: s.set.clone(),
                resolved: String::new(),
            };
            let loaded = spec.load(&[]).map_err(|e| {
                invalid(
                    &format!("scenario[{i}]"),
                    format!("scenario does not load: {e}"),
                )
            })?;
            spec.resolved = resolved_fingerprint(&loaded);
            scenarios.push(spec);
        }
        // Kept scopes must exist in some scenario.
        for r in &raw.output.regions {
            let known = ["WEST", "EAST", "ALL"].contains(&r.as_str())
                || scenarios.iter().any(|s| {
                    s.load(&[])
                        .map(|l| l.config.regions.iter().any(|g| g.name == *r))
                        .unwrap_or(false)
                });
            if !known {
                return Err(invalid(
                    "output.regions",
                    format!(
                        "`{r}` is neither WEST, EAST, ALL nor a region of any scenario of this batch"
                    ),
                ));
            }
        }
        let exp = Experiment {
            name: raw.name,
            seed: raw.seed,
            replicates: raw.replicates,
            years: raw.years,
            scenarios,
            method,
            params,
            points,
            unit_points,
            sensitivity: raw.sensitivity,
            keep: raw.output,
        };
        if let Some(sens) = &exp.sensitivity {
            if !exp.keep.tables.iter().any(|t| t == "metrics") {
                return Err(invalid(
                    "output.tables",
                    "a sensitivity analysis reads the metrics table: keep \"metrics\"".into(),
                ));
            }
            for (i, o) in sens.outputs.iter().enumerate() {
                if !exp.keep.regions.is_empty() && !exp.keep.regions.contains(&o.region) {
                    return Err(invalid(
                        &format!("sensitivity.outputs[{i}].region"),
                        format!(
                            "`{}` is not among the kept regions (output.regions: {})",
                            o.region,
                            exp.keep.regions.join(", ")
                        ),
                    ));
                }
            }
        }
        let mut keys: Vec<u64> = exp.runs().iter().map(|r| r.key).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(invalid(
                "sweep",
                "two runs have the same content key (a hash collision); change the seed or a label"
                    .into(),
            ));
        }
        Ok(exp)
    }

    /// Loads every sweep point of every scenario (in parallel; scenario loading only) and
    /// reports the first that does not load, in run-list order.
    fn check_points(
        &self,
        invalid: &(dyn Fn(&str, String) -> ExperimentError + Sync),
    ) -> Result<(), ExperimentError> {
        use rayon::prelude::*;
        let n = self.points.len();
        let jobs: Vec<(usize, usize)> = (0..self.scenarios.len())
            .flat_map(|s| (0..n).map(move |p| (s, p)))
            .collect();
        if jobs.len() > 2_000 {
            eprintln!(
                "batch: checking {} scenario configurations ({} scenarios × {n} points) before running",
                jobs.len(),
                self.scenarios.len()
            );
        }
        let first = jobs.par_iter().find_map_first(|&(si, pi)| {
            let s = &self.scenarios[si];
            s.load(&self.overrides(&self.points[pi]))
                .err()
                .map(|e| (si, pi, e))
        });
        let Some((si, pi, e)) = first else {
            return Ok(());
        };
        let msg = e.to_string();
        // Name the swept key the scenario error is about (else the first one).
        let k = self
            .params
            .iter()
            .position(|p| msg.contains(&format!("`{}`", p.key)) || msg.contains(&p.key))
            .unwrap_or(0);
        let values = self.overrides(&self.points[pi]).join(", ");
        let what = if self.points.len() == 1 && self.params.is_empty() {
            "the scenario".to_string()
        } else {
            format!("sweep point {} of {n} ({values})", pi + 1)
        };
        let key = if self.params.is_empty() {
            format!("scenario[{si}]")
        } else if matches!(self.method, Method::Lhs | Method::Sobol) {
            format!("sweep.param[{k}].min")
        } else {
            format!("sweep.param[{k}].values")
        };
        Err(invalid(
            &key,
            format!(
                "{what} does not load for scenario `{}`, so nothing was run: {msg}",
                self.scenarios[si].label
            ),
        ))
    }

    /// `--set` style overrides of point `p`.
    pub fn overrides(&self, p: &[toml::Value]) -> Vec<String> {
        self.params
            .iter()
            .zip(p)
            .map(|(param, v)| format!("{}={}", param.key, value_text(v)))
            .collect()
    }

    /// The stable run list: scenario-major, then point, then replicate. Each run's key and
    /// seed derive from its content (see [`RunSpec::key`]).
    pub fn runs(&self) -> Vec<RunSpec> {
        let master = Streams::new(self.seed);
        // Occurrence of each point's values among the points before it (0 for the first).
        let mut seen: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        let words: Vec<(String, u64)> = self
            .points
            .iter()
            .map(|p| {
                let text: String = self
                    .overrides(p)
                    .iter()
                    .map(|o| format!("\u{1f}{o}"))
                    .collect();
                let c = seen.entry(text.clone()).or_insert(0);
                let occ = *c;
                *c += 1;
                (text, occ)
            })
            .collect();
        let mut out =
            Vec::with_capacity(self.scenarios.len() * words.len() * self.replicates as usize);
        // Sensitivity designs use common random numbers within a Saltelli block or a Morris
        // trajectory: the seed derives from the block's word (label and block index), so
        // the points of a block differ only by their parameters (ODD §7.2).
        let group = match self.method {
            Method::Saltelli => self.params.len() + 2,
            Method::Morris => self.params.len() + 1,
            _ => 0,
        };
        for (si, s) in self.scenarios.iter().enumerate() {
            for (pi, (text, occ)) in words.iter().enumerate() {
                let a = point_word(&s.label, text, *occ);
                let seed_word = match pi.checked_div(group) {
                    Some(b) => point_word(&s.label, &format!("\u{1f}block={b}"), 0),
                    None => a,
                };
                for r in 0..self.replicates {
                    let k = master.key(Purpose::Run, seed_word, r as u64);
                    out.push(RunSpec {
                        run_id: out.len() as u32,
                        key: mix(mix(a) ^ r as u64),
                        scenario: si,
                        point: pi,
                        replicate: r,
                        seed: u64::from_le_bytes(k[..8].try_into().expect("8 bytes")),
                    });
                }
            }
        }
        out
    }

    /// The fully configured scenario of one run (overrides, seed, horizon cap).
    pub fn configure(&self, run: &RunSpec) -> Result<Loaded, ScenarioError> {
        let s = &self.scenarios[run.scenario];
        let mut l = s.load(&self.overrides(&self.points[run.point]))?;
        l.config.seed = run.seed;
        if let Some(y) = self.years {
            let cal = &mut l.config.calendar;
            cal.ticks = cal.ticks.min(y.saturating_mul(cal.ticks_per_year()));
        }
        Ok(l)
    }
}

/// The word that identifies a point of a scenario: FNV-1a 64 of the label followed, for
/// each swept key, by a unit separator (U+001F) and `key=value`, XOR `mix(occurrence)`.
fn point_word(label: &str, values: &str, occurrence: u64) -> u64 {
    let mut bytes = label.as_bytes().to_vec();
    bytes.extend_from_slice(values.as_bytes());
    fnv1a(&bytes) ^ mix(occurrence)
}

/// Fingerprint of a loaded scenario's resolved document, without the keys a batch
/// replaces (`run.seed`, `run.replicates`).
fn resolved_fingerprint(l: &Loaded) -> String {
    let mut doc = l.resolved.clone();
    if let Some(toml::Value::Table(run)) = doc.get_mut("run") {
        run.remove("seed");
        run.remove("replicates");
    }
    let text = toml::to_string(&doc).unwrap_or_default();
    format!("{:016x}", fnv1a(text.as_bytes()))
}

impl ScenarioSpec {
    /// Loads the scenario with its own overrides plus `extra`.
    pub fn load(&self, extra: &[String]) -> Result<Loaded, ScenarioError> {
        let mut set = self.set.clone();
        set.extend_from_slice(extra);
        match &self.source {
            Source::File(p) => scenario::load_file(p, &set),
            Source::Builtin(b) => scenario::load_builtin(b, &set),
        }
    }
}

/// TOML text of a value, for `--set`.
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

type Points = (Method, Vec<Param>, Vec<Vec<toml::Value>>, Vec<Vec<f64>>);

fn sweep_points(
    sw: &RawSweep,
    seed: u64,
    invalid: &dyn Fn(&str, String) -> ExperimentError,
    too_many: &dyn Fn(u64) -> Option<ExperimentError>,
) -> Result<Points, ExperimentError> {
    let method = match sw.method.as_str() {
        "grid" => Method::Grid,
        "list" => Method::List,
        "lhs" => Method::Lhs,
        "sobol" => Method::Sobol,
        "saltelli" => Method::Saltelli,
        "morris" => Method::Morris,
        m => {
            return Err(invalid(
                "sweep.method",
                format!(
                    "`{m}` is not allowed; allowed values: {}",
                    Method::NAMES.join(", ")
                ),
            ))
        }
    };
    if sw.param.is_empty() {
        return Err(invalid(
            "sweep.param",
            "at least one [[sweep.param]] is required".into(),
        ));
    }
    let mut params = Vec::new();
    for (i, p) in sw.param.iter().enumerate() {
        let k = |f: &str| format!("sweep.param[{i}].{f}");
        if let Some(j) = sw.param[..i].iter().position(|q| q.key == p.key) {
            return Err(invalid(
                &k("key"),
                format!("`{}` is already swept by sweep.param[{j}]", p.key),
            ));
        }
        let values: Vec<toml::Value> = match (&p.values, &p.range) {
            (Some(v), None) => v.clone(),
            (None, Some([a, b, step])) => {
                if !(step.is_finite() && *step > 0.0 && a.is_finite() && b.is_finite() && b >= a) {
                    return Err(invalid(
                        &k("range"),
                        "write range = [start, stop, step] with step > 0 and stop ≥ start".into(),
                    ));
                }
                let n = ((b - a) / step + 1e-9).floor() + 1.0;
                if n.is_nan() || n > MAX_VALUES as f64 {
                    return Err(invalid(
                        &k("range"),
                        format!("too many values: more than {MAX_VALUES}"),
                    ));
                }
                let n = n as usize;
                (0..n)
                    .map(|j| toml::Value::Float(a + j as f64 * step))
                    .collect()
            }
            (None, None) => Vec::new(),
            (Some(_), Some(_)) => {
                return Err(invalid(
                    &k("values"),
                    "give `values` or `range`, not both".into(),
                ))
            }
        };
        let bounds = (p.min.unwrap_or(f64::NAN), p.max.unwrap_or(f64::NAN));
        match method {
            Method::Grid | Method::List => {
                if values.is_empty() {
                    return Err(invalid(
                        &k("values"),
                        format!("method `{}` needs `values` or `range`", sw.method),
                    ));
                }
            }
            Method::Lhs | Method::Sobol | Method::Saltelli | Method::Morris => {
                if !(bounds.0.is_finite() && bounds.1.is_finite() && bounds.1 >= bounds.0) {
                    return Err(invalid(
                        &k("min"),
                        format!("method `{}` needs finite `min` ≤ `max`", sw.method),
                    ));
                }
                if method.is_sensitivity() && p.integer {
                    return Err(invalid(
                        &k("integer"),
                        format!(
                            "method `{}` needs continuous parameters: rounding would break its design",
                            sw.method
                        ),
                    ));
                }
            }
        }
        params.push(Param {
            key: p.key.clone(),
            values,
            bounds,
            integer: p.integer,
        });
    }
    let points = match method {
        Method::Grid => {
            let total = params
                .iter()
                .fold(1usize, |n, p| n.saturating_mul(p.values.len()));
            if total > MAX_POINTS {
                return Err(invalid(
                    "sweep.param",
                    format!(
                        "the grid has {total} points ({}); at most {MAX_POINTS}",
                        params
                            .iter()
                            .map(|p| p.values.len().to_string())
                            .collect::<Vec<_>>()
                            .join(" × ")
                    ),
                ));
            }
            if let Some(e) = too_many(total as u64) {
                return Err(e);
            }
            let mut pts: Vec<Vec<toml::Value>> = vec![Vec::new()];
            for p in &params {
                let mut next = Vec::with_capacity(pts.len() * p.values.len());
                for pt in &pts {
                    for v in &p.values {
                        let mut q = pt.clone();
                        q.push(v.clone());
                        next.push(q);
                    }
                }
                pts = next;
                if pts.len() > MAX_POINTS {
                    return Err(invalid(
                        "sweep.param",
                        format!("the grid has more than {MAX_POINTS} points"),
                    ));
                }
            }
            pts
        }
        Method::List => {
            let n = params[0].values.len();
            if let Some(e) = too_many(n as u64) {
                return Err(e);
            }
            if let Some((i, _)) = params.iter().enumerate().find(|(_, p)| p.values.len() != n) {
                return Err(invalid(
                    &format!("sweep.param[{i}].values"),
                    format!("method `list` needs lists of equal length ({n})"),
                ));
            }
            (0..n)
                .map(|j| params.iter().map(|p| p.values[j].clone()).collect())
                .collect()
        }
        Method::Lhs | Method::Sobol | Method::Saltelli | Method::Morris => {
            let n = sw.samples.ok_or_else(|| {
                invalid(
                    "sweep.samples",
                    format!("method `{}` needs `samples`", sw.method),
                )
            })? as usize;
            let d = params.len();
            // Points per sample: one, or a Saltelli block (d + 2), or a Morris trajectory (d + 1).
            let per = match method {
                Method::Saltelli => d + 2,
                Method::Morris => d + 1,
                _ => 1,
            };
            if n == 0 || n.saturating_mul(per) > MAX_POINTS {
                return Err(invalid(
                    "sweep.samples",
                    format!(
                        "must be in [1, {}] ({per} points each), got {n}",
                        MAX_POINTS / per
                    ),
                ));
            }
            if let Some(e) = too_many((n * per) as u64) {
                return Err(e);
            }
            let levels = sw.levels.unwrap_or(4) as usize;
            if sw.levels.is_some() && method != Method::Morris {
                return Err(invalid(
                    "sweep.levels",
                    "only method `morris` has grid levels".into(),
                ));
            }
            let unit = match method {
                Method::Lhs => latin_hypercube(n, d, seed),
                Method::Sobol => sobol(n, d, seed),
                Method::Saltelli => sensitivity::saltelli_design(n, d, sobol_seed(seed))
                    .map_err(|e| invalid("sweep.samples", e.to_string()))?,
                _ => sensitivity::morris_design(n, d, levels, morris_seed(seed))
                    .map_err(|e| invalid("sweep.levels", e.to_string()))?,
            };
            let points = unit
                .iter()
                .map(|u| {
                    params
                        .iter()
                        .zip(u)
                        .map(|(p, x)| {
                            let v = p.bounds.0 + x * (p.bounds.1 - p.bounds.0);
                            if p.integer {
                                toml::Value::Integer(v.round() as i64)
                            } else {
                                toml::Value::Float(v)
                            }
                        })
                        .collect()
                })
                .collect();
            return Ok((method, params, points, unit));
        }
    };
    Ok((method, params, points, Vec::new()))
}

/// Latin hypercube sample of `n` points in `[0,1)^d`: each dimension's strata are permuted
/// by a Fisher–Yates shuffle from the stream `(Sweep, dimension, 0)` and jittered within.
pub fn latin_hypercube(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    use rand::Rng;
    let streams = Streams::new(seed);
    let mut pts = vec![vec![0.0; d]; n];
    for j in 0..d {
        let mut rng = streams.stream(Purpose::Sweep, j as u64, 0);
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let k = rng.random_range(0..=i);
            perm.swap(i, k);
        }
        for (i, pt) in pts.iter_mut().enumerate() {
            pt[j] = (perm[i] as f64 + rng.random::<f64>()) / n as f64;
        }
    }
    pts
}

/// The 32-bit sobol_burley seed of a batch seed `s`: `(s ⊕ (s ≫ 32))` truncated.
pub fn sobol_seed(s: u64) -> u32 {
    (s ^ (s >> 32)) as u32
}

/// The seed of a batch's Morris trajectories: the first 8 bytes (little-endian) of the
/// stream key `(Sweep, 0, 1)` of the batch seed.
pub fn morris_seed(s: u64) -> u64 {
    let k = Streams::new(s).key(Purpose::Sweep, 0, 1);
    u64::from_le_bytes([k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]])
}

/// `n` points of an Owen-scrambled Sobol sequence in `[0,1)^d` (sobol_burley, seeded).
pub fn sobol(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let s = sobol_seed(seed);
    (0..n)
        .map(|i| {
            (0..d)
                .map(|j| sobol_burley::sample(i as u32, j as u32, s) as f64)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_finds_keys_in_arrays_of_tables() {
        let text = "name = \"x\"\nreplicates = 2\n\n[[scenario]]\nbuiltin = \"a\"\n\n[[scenario]]\nlabel = \"b\"\n\n[sweep]\nmethod = \"grid\"\n[[sweep.param]]\nkey = \"a\"\nvalues = [1]\n[[sweep.param]]\nkey = \"b\"\nvalues = [2]\n\n[output]\ntables = [\"metrics\"]\n";
        assert_eq!(line_of(text, "replicates"), 2);
        assert_eq!(line_of(text, "scenario[1]"), 7);
        assert_eq!(line_of(text, "scenario[1].label"), 8);
        assert_eq!(line_of(text, "sweep.method"), 11);
        assert_eq!(line_of(text, "sweep.param[0].values"), 14);
        assert_eq!(line_of(text, "sweep.param[1].values"), 17);
        assert_eq!(line_of(text, "output.tables"), 20);
    }

    #[test]
    fn sobol_points_are_a_prefix_of_longer_designs() {
        assert_eq!(sobol(8, 3, 7), sobol(16, 3, 7)[..8].to_vec());
    }

    #[test]
    fn lhs_has_one_point_per_stratum() {
        let pts = latin_hypercube(10, 3, 5);
        for j in 0..3 {
            let mut strata: Vec<usize> = pts.iter().map(|p| (p[j] * 10.0) as usize).collect();
            strata.sort();
            assert_eq!(strata, (0..10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn sobol_points_are_in_the_unit_cube_and_spread() {
        let pts = sobol(64, 2, 1);
        assert!(pts
            .iter()
            .all(|p| p.iter().all(|&x| (0.0..1.0).contains(&x))));
        let low = pts.iter().filter(|p| p[0] < 0.5).count();
        assert_eq!(low, 32);
    }
}
