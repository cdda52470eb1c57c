//! Batch files: scenarios, a sweep over scenario keys, replicates and a master seed, turned
//! into a stable, enumerated list of runs. Each run's seed derives from the master seed, the
//! scenario, the parameter point and the replicate index, never from who runs it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::rng::{splitmix64, Purpose, Streams};
use crate::scenario::{self, Loaded, ScenarioError};

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
    param: Vec<RawParam>,
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
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
}

impl Method {
    /// Allowed names.
    pub const NAMES: [&str; 4] = ["grid", "list", "lhs", "sobol"];
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
    /// The loaded base scenario (before sweep overrides), for validation and display.
    pub source: Source,
    /// Overrides applied to every run of this scenario.
    pub set: Vec<String>,
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
    /// Outputs kept.
    pub keep: Keep,
}

/// One run of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the stable run list.
    pub run_id: u32,
    /// Scenario index.
    pub scenario: usize,
    /// Point index.
    pub point: usize,
    /// Replicate index.
    pub replicate: u32,
    /// Seed of the run.
    pub seed: u64,
}

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

impl Experiment {
    /// Reads and validates a batch file; every scenario is loaded once to check it.
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
        let line_of = |key: &str| -> usize {
            let last = key
                .rsplit(['.', ']', '['])
                .find(|s| !s.is_empty() && s.parse::<usize>().is_err())
                .unwrap_or(key);
            text.lines()
                .position(|l| l.trim_start().starts_with(last))
                .map(|i| i + 1)
                .unwrap_or(0)
        };
        let invalid = |key: &str, message: String| ExperimentError::Invalid {
            file: file.to_string(),
            line: line_of(key),
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
        if raw.replicates == 0 {
            return Err(invalid("replicates", "must be at least 1".into()));
        }
        if raw.scenario.is_empty() {
            return Err(invalid(
                "scenario",
                "at least one [[scenario]] is required".into(),
            ));
        }
        let mut scenarios = Vec::new();
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
                Source::Builtin(b) => b.trim_end_matches(".toml").to_string(),
            });
            if scenarios.iter().any(|o: &ScenarioSpec| o.label == label) {
                return Err(invalid(
                    &format!("scenario[{i}].label"),
                    format!("duplicate scenario label `{label}`"),
                ));
            }
            let spec = ScenarioSpec {
                label,
                source,
                set: s.set.clone(),
            };
            spec.load(&[]).map_err(|e| {
                invalid(
                    &format!("scenario[{i}]"),
                    format!("scenario does not load: {e}"),
                )
            })?;
            scenarios.push(spec);
        }
        let (method, params, points) = match &raw.sweep {
            None => (Method::Grid, Vec::new(), vec![Vec::new()]),
            Some(sw) => sweep_points(sw, raw.seed, &invalid)?,
        };
        for t in &raw.output.tables {
            if !TABLES.contains(&t.as_str()) {
                return Err(invalid(
                    "output.tables",
                    format!("`{t}` is not a table; allowed: {}", TABLES.join(", ")),
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
            keep: raw.output,
        };
        // Every parameter point must at least parse as overrides of every scenario; invalid
        // values are allowed (they become failed runs) but unknown keys are not.
        for (si, s) in exp.scenarios.iter().enumerate() {
            if let Some(p) = exp.points.first() {
                if let Err(e) = s.load(&exp.overrides(p)) {
                    if let ScenarioError::Override { .. } = e {
                        return Err(invalid(
                            &format!("scenario[{si}]"),
                            format!("sweep keys do not apply: {e}"),
                        ));
                    }
                }
            }
        }
        Ok(exp)
    }

    /// `--set` style overrides of point `p`.
    pub fn overrides(&self, p: &[toml::Value]) -> Vec<String> {
        self.params
            .iter()
            .zip(p)
            .map(|(param, v)| format!("{}={}", param.key, value_text(v)))
            .collect()
    }

    /// The stable run list: scenario-major, then point, then replicate.
    pub fn runs(&self) -> Vec<RunSpec> {
        let master = Streams::new(self.seed);
        let mut out = Vec::new();
        for (si, s) in self.scenarios.iter().enumerate() {
            for pi in 0..self.points.len() {
                for r in 0..self.replicates {
                    let mut a = fnv1a(&s.label);
                    a ^= splitmix64(&mut (pi as u64));
                    let k = master.key(Purpose::Run, a, r as u64);
                    out.push(RunSpec {
                        run_id: out.len() as u32,
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

type Points = (Method, Vec<Param>, Vec<Vec<toml::Value>>);

fn sweep_points(
    sw: &RawSweep,
    seed: u64,
    invalid: &dyn Fn(&str, String) -> ExperimentError,
) -> Result<Points, ExperimentError> {
    let method = match sw.method.as_str() {
        "grid" => Method::Grid,
        "list" => Method::List,
        "lhs" => Method::Lhs,
        "sobol" => Method::Sobol,
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
        let values: Vec<toml::Value> = match (&p.values, &p.range) {
            (Some(v), None) => v.clone(),
            (None, Some([a, b, step])) => {
                if !(step.is_finite() && *step > 0.0 && a.is_finite() && b.is_finite() && b >= a) {
                    return Err(invalid(
                        &k("range"),
                        "write range = [start, stop, step] with step > 0 and stop ≥ start".into(),
                    ));
                }
                let n = ((b - a) / step + 1e-9).floor() as usize + 1;
                if n > 100_000 {
                    return Err(invalid(
                        &k("range"),
                        format!("{n} values is too many (at most 100000)"),
                    ));
                }
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
            Method::Lhs | Method::Sobol => {
                if !(bounds.0.is_finite() && bounds.1.is_finite() && bounds.1 >= bounds.0) {
                    return Err(invalid(
                        &k("min"),
                        format!("method `{}` needs finite `min` ≤ `max`", sw.method),
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
                if pts.len() > 1_000_000 {
                    return Err(invalid(
                        "sweep.param",
                        "the grid has more than 1,000,000 points".into(),
                    ));
                }
            }
            pts
        }
        Method::List => {
            let n = params[0].values.len();
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
        Method::Lhs | Method::Sobol => {
            let n = sw.samples.ok_or_else(|| {
                invalid(
                    "sweep.samples",
                    format!("method `{}` needs `samples`", sw.method),
                )
            })? as usize;
            if n == 0 || n > 1_000_000 {
                return Err(invalid(
                    "sweep.samples",
                    format!("must be in [1, 1000000], got {n}"),
                ));
            }
            let unit = if method == Method::Lhs {
                latin_hypercube(n, params.len(), seed)
            } else {
                sobol(n, params.len(), seed)
            };
            unit.into_iter()
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
                .collect()
        }
    };
    Ok((method, params, points))
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

/// `n` points of an Owen-scrambled Sobol sequence in `[0,1)^d` (sobol_burley, seeded).
pub fn sobol(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let s = (seed ^ (seed >> 32)) as u32;
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
