//! Calibration and targets files: their TOML formats, parsed and validated into
//! [`Calibration`] and [`Targets`] before anything runs; every error names the file, line
//! and key, and the allowed values.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::batch::experiment::{line_of, ExperimentError};
use crate::model::config::Config;
use crate::output::recorder::{LinkRows, MarketRows, MetricsRows};
use crate::output::tables::{links_frame, markets_frame, metrics_frame};
use crate::scenario::{self, Loaded};
use crate::stats::abc::{Prior, Settings};

/// The tables a target can read: the run's outputs under the names a user sees.
pub const TARGET_TABLES: [&str; 4] = ["metrics", "flows", "markets", "links"];

/// How a target turns a year of ticks into one number.
pub const AGGREGATES: [&str; 3] = ["year_end", "year_sum", "year_mean"];

/// Priors a parameter may have.
pub const PRIORS: [&str; 2] = ["uniform", "log_uniform"];

/// Largest population of an ABC generation.
pub const MAX_POPULATION: usize = 100_000;

/// One fact to fit (or to predict, when held out).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Identifier (unique in the file).
    pub name: String,
    /// Output table: one of [`TARGET_TABLES`].
    pub table: String,
    /// Column of the table (for `flows`, the channel).
    pub measure: String,
    /// Scope: a region name, `WEST`, `EAST` or `ALL` (markets and links sum over the
    /// scope's regions; flows over the links whose western region is in it).
    pub region: String,
    /// Calendar year.
    pub year: i32,
    /// One of [`AGGREGATES`].
    pub aggregate: String,
    /// Multiplies the model value before comparison (e.g. persons per household).
    pub scale: f64,
    /// The official figure.
    pub value: f64,
    /// Its uncertainty (one standard deviation), in the figure's units.
    pub sigma: f64,
    /// Why that σ: the source's precision and the gap between its definition and the model's.
    pub justification: String,
    /// Where the figure comes from.
    pub source: String,
    /// Held out of the fit: predicted, not fitted (the out-of-sample check).
    pub holdout: bool,
    /// A difference in differences: the control scope and the base year. The target's value
    /// is then `ln(v(region, year) / v(region, base)) − ln(v(control, year) / v(control,
    /// base))` (`scale` cancels), e.g. paired against unpaired counties' income growth.
    pub did: Option<Did>,
}

/// The control arm of a difference-in-differences target.
#[derive(Debug, Clone, PartialEq)]
pub struct Did {
    /// Control scope (as `region`: a region name, `WEST`, `EAST`, `ALL`, `PAIRED`,
    /// `UNPAIRED`).
    pub control: String,
    /// The year the growth is measured from (before the target's `year`).
    pub base_year: i32,
}

/// A targets file: facts about one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    /// Path as given.
    pub file: String,
    /// Text (fingerprinted).
    pub text: String,
    /// The facts, in file order.
    pub targets: Vec<Target>,
}

/// One free parameter: a scenario key with a prior.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// Scenario key, as for `--set` (e.g. `households.income_noise`, `defaults.west.growth`).
    pub key: String,
    /// The prior.
    pub prior: Prior,
    /// Why these bounds.
    pub note: String,
}

/// A validated calibration file.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Path as given.
    pub file: String,
    /// Text (fingerprinted).
    pub text: String,
    /// Name (labels outputs).
    pub name: String,
    /// Scenario: a file path (resolved against the calibration file's folder) or `builtin:NAME`.
    pub scenario: PathBuf,
    /// Fixed overrides applied to every run, before the parameters.
    pub set: Vec<String>,
    /// Share of each region's simulated households kept (weights raised to keep the totals).
    pub scale: f64,
    /// Runs per candidate (their mean is the candidate's summary).
    pub replicates: u32,
    /// Candidates evaluated at a time (parallel within a batch).
    pub batch: usize,
    /// ABC-SMC settings (population, generations, tolerance schedule, seed).
    pub abc: Settings,
    /// Free parameters.
    pub parameters: Vec<Parameter>,
    /// The facts.
    pub targets: Targets,
    /// The scenario with the fixed overrides and the downscaling (validation and ranges).
    pub base: Loaded,
    /// The downscaling overrides (`region.NAME.households`, `region.NAME.weight`).
    pub scale_set: Vec<String>,
    /// The resolved scenario with every parameter at its lower bound: what the runs of the
    /// calibration depend on besides the parameters, so that writing calibrated values into
    /// the scenario does not change the calibration's fingerprint.
    pub pinned: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    #[serde(default)]
    #[allow(dead_code)]
    scenario: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    target: Vec<RawTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: String,
    #[serde(default = "d_table")]
    table: String,
    measure: String,
    #[serde(default = "d_region")]
    region: String,
    year: i32,
    #[serde(default = "d_aggregate")]
    aggregate: String,
    #[serde(default = "d_one")]
    scale: f64,
    value: f64,
    sigma: f64,
    justification: String,
    source: String,
    #[serde(default)]
    holdout: bool,
    #[serde(default)]
    control: Option<String>,
    #[serde(default)]
    base_year: Option<i32>,
}

/// Default table of a target (and of a claim's measure): `metrics`.
pub(crate) fn d_table() -> String {
    "metrics".into()
}
/// Default scope: the western side.
pub(crate) fn d_region() -> String {
    "WEST".into()
}
/// Default reduction of a year's ticks: the year's last tick.
pub(crate) fn d_aggregate() -> String {
    "year_end".into()
}
fn d_one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalibration {
    name: String,
    scenario: String,
    targets: String,
    #[serde(default)]
    set: Vec<String>,
    #[serde(default = "d_one")]
    scale: f64,
    #[serde(default = "d_reps")]
    replicates: u32,
    #[serde(default = "d_seed")]
    seed: u64,
    #[serde(default = "d_batch")]
    batch: usize,
    #[serde(default)]
    abc: RawAbc,
    parameter: Vec<RawParameter>,
}

fn d_reps() -> u32 {
    1
}
fn d_seed() -> u64 {
    1
}
fn d_batch() -> usize {
    32
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAbc {
    population: usize,
    generations: usize,
    quantile: f64,
    min_epsilon: f64,
    min_acceptance: f64,
    max_evaluations: usize,
}

impl Default for RawAbc {
    fn default() -> Self {
        RawAbc {
            population: 100,
            generations: 6,
            quantile: 0.5,
            min_epsilon: 0.0,
            min_acceptance: 0.02,
            max_evaluations: 20_000,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    key: String,
    #[serde(default = "d_prior")]
    prior: String,
    low: f64,
    high: f64,
    #[serde(default)]
    note: String,
}

fn d_prior() -> String {
    "uniform".into()
}

/// Reads a TOML file into `T`, naming the file, line and key of any error (shared by the
/// calibration, targets and claim files).
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, ExperimentError> {
    let value: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ExperimentError::File {
            file: format!(
                "{file}:{}",
                e.span()
                    .map(|s| scenario::line_of(text, s.start))
                    .unwrap_or(0)
            ),
            message: format!("TOML syntax error: {}", e.message().trim()),
        })?;
    serde_path_to_error::deserialize(toml::Value::Table(value)).map_err(|e| {
        let key = e.path().to_string();
        ExperimentError::Invalid {
            file: file.to_string(),
            line: line_of(text, &key),
            key,
            message: e
                .inner()
                .to_string()
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
        }
    })
}

fn read(path: &Path) -> Result<String, ExperimentError> {
    std::fs::read_to_string(path).map_err(|e| ExperimentError::File {
        file: path.display().to_string(),
        message: format!("cannot read: {e}"),
    })
}

impl Targets {
    /// Reads and validates a targets file (names, tables, aggregates, values and σ; the
    /// measures, scopes and years are checked against the scenario by [`Calibration::load`]).
    pub fn load(path: &Path) -> Result<Targets, ExperimentError> {
        let text = read(path)?;
        Self::from_str(&path.display().to_string(), &text)
    }

    /// [`load`](Self::load) from text; `file` labels errors.
    pub fn from_str(file: &str, text: &str) -> Result<Targets, ExperimentError> {
        let raw: RawTargets = parse(file, text)?;
        let invalid = |key: String, message: String| ExperimentError::Invalid {
            file: file.to_string(),
            line: line_of(text, &key),
            key,
            message,
        };
        if raw.target.is_empty() {
            return Err(invalid(
                "target".into(),
                "list at least one [[target]]".into(),
            ));
        }
        let mut out = Vec::new();
        for (i, t) in raw.target.into_iter().enumerate() {
            let k = |f: &str| format!("target[{i}].{f}");
            if t.name.is_empty()
                || !t
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(invalid(
                    k("name"),
                    format!(
                        "`{}`: use letters, digits and `_` only (it names a column)",
                        t.name
                    ),
                ));
            }
            if out.iter().any(|o: &Target| o.name == t.name) {
                return Err(invalid(
                    k("name"),
                    format!("`{}` is used by another target", t.name),
                ));
            }
            if !TARGET_TABLES.contains(&t.table.as_str()) {
                return Err(invalid(
                    k("table"),
                    format!(
                        "`{}` is not a table a target can read; allowed: {}",
                        t.table,
                        TARGET_TABLES.join(", ")
                    ),
                ));
            }
            if !AGGREGATES.contains(&t.aggregate.as_str()) {
                return Err(invalid(
                    k("aggregate"),
                    format!("`{}`; allowed: {}", t.aggregate, AGGREGATES.join(", ")),
                ));
            }
            if !t.value.is_finite() {
                return Err(invalid(k("value"), "must be a finite number".into()));
            }
            if !(t.sigma.is_finite() && t.sigma > 0.0) {
                return Err(invalid(
                    k("sigma"),
                    format!(
                        "must be a positive number (one standard deviation, in the figure's units), got {}",
                        t.sigma
                    ),
                ));
            }
            if !(t.scale.is_finite() && t.scale != 0.0) {
                return Err(invalid(
                    k("scale"),
                    format!("must be a non-zero number, got {}", t.scale),
                ));
            }
            for (f, v) in [("justification", &t.justification), ("source", &t.source)] {
                if v.trim().is_empty() {
                    return Err(invalid(
                        k(f),
                        "must say something: every figure needs its source and the reason for its σ".into(),
                    ));
                }
            }
            let did = match (t.control, t.base_year) {
                (None, None) => None,
                (Some(control), Some(base_year)) => {
                    if base_year >= t.year {
                        return Err(invalid(
                            k("base_year"),
                            format!(
                                "{base_year} must come before the target's year {}: the growth is measured from it",
                                t.year
                            ),
                        ));
                    }
                    Some(Did { control, base_year })
                }
                (Some(_), None) => {
                    return Err(invalid(
                        k("control"),
                        "a difference in differences needs `base_year` too (the year growth is measured from)".into(),
                    ))
                }
                (None, Some(_)) => {
                    return Err(invalid(
                        k("base_year"),
                        "a difference in differences needs `control` too (the control scope, e.g. UNPAIRED)".into(),
                    ))
                }
            };
            out.push(Target {
                name: t.name,
                table: t.table,
                measure: t.measure,
                region: t.region,
                year: t.year,
                aggregate: t.aggregate,
                scale: t.scale,
                value: t.value,
                sigma: t.sigma,
                justification: t.justification,
                source: t.source,
                holdout: t.holdout,
                did,
            });
        }
        if out.iter().all(|t| t.holdout) {
            return Err(invalid(
                "target".into(),
                "every target is held out: leave at least one to fit".into(),
            ));
        }
        Ok(Targets {
            file: file.to_string(),
            text: text.to_string(),
            targets: out,
        })
    }
}

impl Calibration {
    /// Reads and validates a calibration file, its targets file and its scenario: every
    /// parameter is loaded at both ends of its range, every target's measure, scope and year
    /// is checked against the scenario, so that a bad key is an error before anything runs.
    pub fn load(path: &Path) -> Result<Calibration, ExperimentError> {
        let text = read(path)?;
        Self::from_str(&path.display().to_string(), &text, path.parent())
    }

    /// [`load`](Self::load) from text; `dir` resolves relative paths.
    pub fn from_str(
        file: &str,
        text: &str,
        dir: Option<&Path>,
    ) -> Result<Calibration, ExperimentError> {
        let raw: RawCalibration = parse(file, text)?;
        let invalid = |key: &str, message: String| ExperimentError::Invalid {
            file: file.to_string(),
            line: line_of(text, key),
            key: key.to_string(),
            message,
        };
        let resolve = |p: &str| match dir {
            Some(d) if Path::new(p).is_relative() && !p.starts_with(scenario::BUILTIN_PREFIX) => {
                d.join(p)
            }
            _ => PathBuf::from(p),
        };
        if !(raw.scale > 0.0 && raw.scale <= 1.0) {
            return Err(invalid(
                "scale",
                format!(
                    "must be in (0, 1] (the share of simulated households kept), got {}",
                    raw.scale
                ),
            ));
        }
        if raw.replicates == 0 || raw.replicates > 1000 {
            return Err(invalid(
                "replicates",
                format!("must be in [1, 1000], got {}", raw.replicates),
            ));
        }
        if raw.batch == 0 || raw.batch > 100_000 {
            return Err(invalid(
                "batch",
                format!("must be in [1, 100000], got {}", raw.batch),
            ));
        }
        let a = &raw.abc;
        if !(2..=MAX_POPULATION).contains(&a.population) {
            return Err(invalid(
                "abc.population",
                format!("must be in [2, {MAX_POPULATION}], got {}", a.population),
            ));
        }
        if !(1..=100).contains(&a.generations) {
            return Err(invalid(
                "abc.generations",
                format!("must be in [1, 100], got {}", a.generations),
            ));
        }
        if !(a.quantile > 0.0 && a.quantile < 1.0) {
            return Err(invalid(
                "abc.quantile",
                format!("must be in (0, 1), got {}", a.quantile),
            ));
        }
        if !(a.min_epsilon >= 0.0 && a.min_epsilon.is_finite()) {
            return Err(invalid(
                "abc.min_epsilon",
                format!("must be a number ≥ 0, got {}", a.min_epsilon),
            ));
        }
        if !(0.0..1.0).contains(&a.min_acceptance) {
            return Err(invalid(
                "abc.min_acceptance",
                format!("must be in [0, 1), got {}", a.min_acceptance),
            ));
        }
        if a.max_evaluations < a.population {
            return Err(invalid(
                "abc.max_evaluations",
                format!(
                    "must be at least the population ({}), got {}",
                    a.population, a.max_evaluations
                ),
            ));
        }
        if raw.parameter.is_empty() {
            return Err(invalid(
                "parameter",
                "list at least one [[parameter]] with key, low and high".into(),
            ));
        }
        let mut parameters = Vec::new();
        for (i, p) in raw.parameter.iter().enumerate() {
            let k = |f: &str| format!("parameter[{i}].{f}");
            if parameters.iter().any(|o: &Parameter| o.key == p.key) {
                return Err(invalid(
                    &k("key"),
                    format!("`{}` is calibrated twice", p.key),
                ));
            }
            if !(p.low.is_finite() && p.high.is_finite() && p.low < p.high) {
                return Err(invalid(
                    &k("high"),
                    format!(
                        "need finite bounds with low < high, got [{}, {}]",
                        p.low, p.high
                    ),
                ));
            }
            let prior = match p.prior.as_str() {
                "uniform" => Prior::Uniform {
                    low: p.low,
                    high: p.high,
                },
                "log_uniform" => {
                    if p.low <= 0.0 {
                        return Err(invalid(
                            &k("low"),
                            format!("a log-uniform prior needs low > 0, got {}", p.low),
                        ));
                    }
                    Prior::LogUniform {
                        low: p.low,
                        high: p.high,
                    }
                }
                other => {
                    return Err(invalid(
                        &k("prior"),
                        format!("`{other}`; allowed: {}", PRIORS.join(", ")),
                    ))
                }
            };
            parameters.push(Parameter {
                key: p.key.clone(),
                prior,
                note: p.note.clone(),
            });
        }
        let scenario_path = resolve(&raw.scenario);
        let scen_err = |key: &str, e: scenario::ScenarioError| {
            invalid(key, format!("the scenario does not load: {e}"))
        };
        let first = scenario::load(&scenario_path, &raw.set).map_err(|e| scen_err("set", e))?;
        let scale_set = downscale(&first, raw.scale);
        let mut set = raw.set.clone();
        set.extend(scale_set.iter().cloned());
        let base = scenario::load(&scenario_path, &set).map_err(|e| scen_err("scale", e))?;
        for (i, p) in parameters.iter().enumerate() {
            let (lo, hi) = match p.prior {
                Prior::Uniform { low, high } | Prior::LogUniform { low, high } => (low, high),
            };
            for v in [lo, hi] {
                let mut s = set.clone();
                s.push(format!("{}={}", p.key, v));
                scenario::load(&scenario_path, &s).map_err(|e| {
                    invalid(
                        &format!("parameter[{i}].key"),
                        format!("`{}` = {v} does not load: {e}", p.key),
                    )
                })?;
            }
        }
        let mut low_set = set.clone();
        for p in &parameters {
            let (Prior::Uniform { low, .. } | Prior::LogUniform { low, .. }) = p.prior;
            low_set.push(format!("{}={}", p.key, low));
        }
        let pinned = scenario::load(&scenario_path, &low_set)
            .map_err(|e| scen_err("parameter", e))?
            .resolved;
        let targets_path = resolve(&raw.targets);
        let targets = Targets::load(&targets_path)?;
        check_targets(&targets, &base)?;
        let abc = Settings {
            population: a.population,
            generations: a.generations,
            quantile: a.quantile,
            min_epsilon: a.min_epsilon,
            min_acceptance: a.min_acceptance,
            max_evaluations: a.max_evaluations,
            seed: raw.seed,
        };
        Ok(Calibration {
            file: file.to_string(),
            text: text.to_string(),
            name: raw.name,
            scenario: scenario_path,
            set: raw.set,
            scale: raw.scale,
            replicates: raw.replicates,
            batch: raw.batch,
            abc,
            parameters,
            targets,
            base,
            scale_set,
            pinned,
        })
    }

    /// Every override of a candidate: the fixed ones, the downscaling, then the parameters.
    pub fn overrides(&self, theta: &[f64]) -> Vec<String> {
        let mut s = self.set.clone();
        s.extend(self.scale_set.iter().cloned());
        for (p, v) in self.parameters.iter().zip(theta) {
            s.push(format!("{}={}", p.key, v));
        }
        s
    }
}

/// The overrides that keep `scale` of each region's simulated households (at least 200, or
/// all of them if fewer) and raise its weight so that the real population is unchanged.
pub fn downscale(l: &Loaded, scale: f64) -> Vec<String> {
    if scale >= 1.0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for r in &l.config.regions {
        let n = r.households;
        let kept = ((n as f64 * scale).round() as u32).max(200).min(n);
        if kept == n {
            continue;
        }
        let weight = r.weight * n as f64 / kept as f64;
        out.push(format!("region.{}.households={kept}", r.name));
        out.push(format!("region.{}.weight={weight}", r.name));
    }
    out
}

/// The numeric columns a target of each table can name (metrics and markets, links), or the
/// channels (flows).
pub fn measures(cfg: &Config, table: &str) -> Vec<String> {
    use crate::model::flows::Channel;
    match table {
        "flows" => Channel::ALL
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        _ => numeric_columns(cfg, table),
    }
}

/// The numeric columns of `table` (`metrics`, `markets` or `links`), as a target names them.
pub fn numeric_columns(cfg: &Config, table: &str) -> Vec<String> {
    let df = match table {
        "metrics" => metrics_frame(cfg, &MetricsRows::default()),
        "markets" => markets_frame(cfg, &MarketRows::default()),
        "links" => links_frame(cfg, &LinkRows::default()),
        _ => return Vec::new(),
    };
    let Ok(df) = df else { return Vec::new() };
    df.columns()
        .iter()
        .filter(|c| c.dtype().is_float() && c.name().as_str() != "ticks_per_year")
        .map(|c| c.name().to_string())
        .collect()
}

fn check_targets(t: &Targets, base: &Loaded) -> Result<(), ExperimentError> {
    let cfg = &base.config;
    let invalid = |key: String, message: String| ExperimentError::Invalid {
        file: t.file.clone(),
        line: line_of(&t.text, &key),
        key,
        message,
    };
    let first = cfg.calendar.date(0).year;
    let last = cfg.calendar.date(cfg.calendar.ticks.saturating_sub(1)).year;
    for (i, g) in t.targets.iter().enumerate() {
        let k = |f: &str| format!("target[{i}].{f}");
        let allowed = measures(cfg, &g.table);
        if !allowed.contains(&g.measure) {
            return Err(invalid(
                k("measure"),
                format!(
                    "`{}` is not a {} of the `{}` table; allowed: {}",
                    g.measure,
                    if g.table == "flows" {
                        "channel"
                    } else {
                        "numeric column"
                    },
                    g.table,
                    allowed.join(", ")
                ),
            ));
        }
        let mut scoped = vec![("region", &g.region)];
        if let Some(d) = &g.did {
            scoped.push(("control", &d.control));
        }
        for (key, scope) in scoped {
            if let Some(message) = scope_error(cfg, &g.table, &g.measure, scope) {
                return Err(invalid(k(key), message));
            }
        }
        if g.table == "metrics"
            && g.aggregate == "year_sum"
            && !SUMMABLE.contains(&g.measure.as_str())
        {
            return Err(invalid(
                k("aggregate"),
                format!(
                    "`year_sum` of `{}` adds up a stock or a rate; use year_end or year_mean (year_sum suits the counts {})",
                    g.measure,
                    SUMMABLE.join(", ")
                ),
            ));
        }
        let mut years = vec![("year", g.year)];
        if let Some(d) = &g.did {
            years.push(("base_year", d.base_year));
        }
        for (key, year) in years {
            if year < first || year > last {
                return Err(invalid(
                    k(key),
                    format!(
                        "{year} is outside the scenario's horizon {first}–{last} (after the calibration's `set`)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Scopes that group western regions by pairing: `PAIRED`, the western ends of at least one
/// link of the scenario (at any time), and `UNPAIRED`, the western regions of none.
pub const GROUPS: [&str; 2] = ["PAIRED", "UNPAIRED"];

/// Metrics columns that are means over households, so that a group's value is the mean of its
/// regions' values weighted by their (real) households.
pub const GROUP_MEANS: [&str; 4] = [
    "mean_income",
    "poverty_rate",
    "poverty_gap",
    "poverty_severity",
];

/// Every scope a target of `cfg` can name: `WEST`, `EAST`, `ALL`, the [`GROUPS`] and the
/// region names.
pub fn scopes(cfg: &Config) -> Vec<String> {
    let mut scopes: Vec<String> = ["WEST", "EAST", "ALL"]
        .iter()
        .chain(GROUPS.iter())
        .map(|s| s.to_string())
        .collect();
    scopes.extend(cfg.regions.iter().map(|r| r.name.clone()));
    scopes
}

/// Why `scope` cannot scope `measure` of `table` in `cfg` (an unknown name, or a group of
/// regions whose `metrics` rows cannot be combined), or `None` when it can.
pub fn scope_error(cfg: &Config, table: &str, measure: &str, scope: &str) -> Option<String> {
    let scopes = scopes(cfg);
    if !scopes.iter().any(|s| s == scope) {
        return Some(format!(
            "`{scope}` is not a scope of the scenario; allowed: {}",
            scopes.join(", ")
        ));
    }
    if table == "metrics"
        && GROUPS.contains(&scope)
        && !GROUP_MEANS.contains(&measure)
        && !SUMMABLE.contains(&measure)
    {
        return Some(format!(
            "`{scope}` combines regions' `metrics` rows, which it can do for the means {} (weighted by households) and the counts {} (added up), not for `{measure}`",
            GROUP_MEANS.join(", "),
            SUMMABLE.join(", "),
        ));
    }
    None
}

/// Metrics columns that are counts within a tick, so that a year's sum means something.
pub const SUMMABLE: [&str; 6] = [
    "relapses",
    "exits",
    "relapses_per_household",
    "registered_relapses",
    "identified",
    "removed_from_risk",
];
