//! The claims catalogue: one TOML file per claim of the papers (`claims/`), each comparing two
//! arms with common random numbers on several measures, with a verdict (Holm across the
//! claim's measures), the same comparison with the claim's mechanism switched off (the
//! ablation) and the claim's own label of what holds by construction.
//!
//! A claim file reads as follows (every key is checked at load; errors name the file, line
//! and key):
//!
//! ```toml
//! id = "C7"
//! statement = "Higher social participation lowers return-to-poverty under shocks"
//! sources = ["002_22c6ac024ef827cc.txt", "000_5b91215dcf67bf5e.txt"]
//! construction = "no"          # no | partly | yes
//! construction_note = "…"      # why
//! rule = "all"                 # all | any | primary: how the measures' verdicts combine
//! replicates = 20
//! quick_replicates = 5
//!
//! [a]                          # arm A (the reference)
//! scenario = "builtin:one_way_aid"
//! set = ["social.mobilisation=1"]
//! [b]                          # arm B (the claim says how B differs from A)
//! scenario = "builtin:one_way_aid"
//! set = ["social.mobilisation=4"]
//! [both]
//! set = ["region.Upland.households=5000", …]   # applied to both arms
//!
//! [[measure]]
//! measure = "relapses_per_household"   # a column of `table` (default metrics)
//! region = "WEST"                      # default WEST
//! aggregate = "year_sum"               # year_end | year_sum | year_mean (default year_end)
//! from = 2021                          # years, inclusive; the measure is the mean over them
//! to = 2025
//! expect = "lower"                     # B − A: lower | higher
//!
//! [ablation]                   # the mechanism switched off: in both arms (set), or in one
//! set = ["social.targeting=at_risk"]   # (set_a, set_b)
//!
//! [[uncertain]]                # optional: robustness over a Latin hypercube of these
//! key = "households.illness_prob"      # (robustness_points, robustness_replicates)
//! low = 0.04
//! high = 0.12
//!
//! [[decompose]]                # optional: B with one part switched off, the rest kept
//! name = "market access"
//! set_b = ["link[0].channels.market_access=0.0"]
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::{Column, CsvReadOptions, DataFrame, DataType, PolarsResult, SerReader};
use serde::{Deserialize, Serialize};

use crate::batch::calibrate::spec::{
    d_aggregate, d_region, d_table, measures, parse, scope_error, AGGREGATES, TARGET_TABLES,
};
use crate::batch::calibrate::summary::evaluate;
use crate::batch::calibrate::Target;
use crate::batch::experiment::{line_of, ExperimentError};
use crate::batch::replicate::{replicates_seeded, RunResult};
use crate::model::config::Config;
use crate::model::rng::Streams;
use crate::scenario::{self, Loaded};
use crate::stats::mean_ci;
use crate::stats::testing::{holm, paired_p};

/// Significance level of a claim's measures after Holm's adjustment.
pub const ALPHA: f64 = 0.05;
/// Most replicates a claim may ask for.
pub const MAX_REPLICATES: u32 = 10_000;

/// What the comparison says about a measure or a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significant (after Holm) in the expected direction.
    Supported,
    /// Significant in the opposite direction.
    Contradicted,
    /// Neither.
    Inconclusive,
}

impl Verdict {
    /// Lower-case name for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Contradicted => "contradicted",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// How a claim's measures combine into its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Supported if every measure is; contradicted if any is.
    All,
    /// Supported if some measure is and none is contradicted; contradicted if some is and
    /// none is supported.
    Any,
    /// The first measure decides; the others are reported.
    Primary,
}

/// The direction of `B − A` the claim expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// B lower than A.
    Lower,
    /// B higher than A.
    Higher,
}

/// One measure a claim is judged on.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimMeasure {
    /// What is read from a run (its `year` is replaced by each year of the window).
    pub target: Target,
    /// First year of the window.
    pub from: i32,
    /// Last year of the window.
    pub to: i32,
    /// Expected sign of `B − A`.
    pub expect: Expect,
}

impl ClaimMeasure {
    /// Label for tables: measure, scope and window.
    pub fn label(&self) -> String {
        format!(
            "{} ({}, {}, {}–{})",
            self.target.measure, self.target.region, self.target.aggregate, self.from, self.to
        )
    }

    /// The measure in one run: the mean over the window's years of the target's value.
    pub fn value(&self, cfg: &Config, run: &RunResult) -> f64 {
        let mut t = self.target.clone();
        let mut sum = 0.0;
        for y in self.from..=self.to {
            t.year = y;
            sum += evaluate(cfg, &run.recorder, &t);
        }
        sum / (self.to - self.from + 1) as f64
    }
}

/// A claim file, validated.
#[derive(Debug, Clone)]
pub struct Claim {
    /// Identifier (`C1` …).
    pub id: String,
    /// The claim as the papers make it.
    pub statement: String,
    /// Source papers by file name.
    pub sources: Vec<String>,
    /// Whether the effect follows mechanically from an input: `no`, `partly` or `yes`.
    pub construction: String,
    /// Why.
    pub construction_note: String,
    /// How measures combine.
    pub rule: Rule,
    /// Replicates per arm.
    pub replicates: u32,
    /// Replicates per arm in quick mode.
    pub quick_replicates: u32,
    /// Arm A, loaded with its and the common overrides.
    pub a: Loaded,
    /// Arm B.
    pub b: Loaded,
    /// Arms A and B with the ablation's overrides added (None without an ablation).
    pub ablated: Option<(Loaded, Loaded)>,
    /// The ablation's overrides (the mechanism switched off; `A: `/`B: ` mark one arm's).
    pub ablation: Vec<String>,
    /// The measures.
    pub measures: Vec<ClaimMeasure>,
    /// Decomposition: B with one part (a channel) switched off, by name.
    pub decompose: Vec<(String, Loaded)>,
    /// Uncertain parameters for robustness: key, low, high.
    pub uncertain: Vec<(String, f64, f64)>,
    /// Latin-hypercube points of the robustness check.
    pub robustness_points: u32,
    /// Paired replicates per point.
    pub robustness_replicates: u32,
    /// Overrides of both arms (kept to rebuild the arms at each robustness point).
    pub both: Vec<String>,
    /// Arm A's scenario and own overrides, and B's.
    pub arms: [(PathBuf, Vec<String>); 2],
    /// The file it came from.
    pub file: PathBuf,
    /// Its text.
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaim {
    id: String,
    statement: String,
    #[serde(default)]
    sources: Vec<String>,
    construction: String,
    #[serde(default)]
    construction_note: String,
    #[serde(default = "d_rule")]
    rule: String,
    #[serde(default = "d_reps")]
    replicates: u32,
    #[serde(default = "d_quick")]
    quick_replicates: u32,
    a: RawArm,
    b: RawArm,
    #[serde(default)]
    both: RawSet,
    measure: Vec<RawMeasure>,
    #[serde(default)]
    ablation: Option<RawAblation>,
    #[serde(default)]
    decompose: Vec<RawPart>,
    #[serde(default)]
    uncertain: Vec<RawUncertain>,
    #[serde(default = "d_points")]
    robustness_points: u32,
    #[serde(default = "d_point_reps")]
    robustness_replicates: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUncertain {
    key: String,
    low: f64,
    high: f64,
}

fn d_points() -> u32 {
    8
}
fn d_point_reps() -> u32 {
    5
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    name: String,
    set_b: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAblation {
    #[serde(default)]
    set: Vec<String>,
    #[serde(default)]
    set_a: Vec<String>,
    #[serde(default)]
    set_b: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArm {
    scenario: String,
    #[serde(default)]
    set: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    #[serde(default)]
    set: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    measure: String,
    #[serde(default = "d_table")]
    table: String,
    #[serde(default = "d_region")]
    region: String,
    #[serde(default = "d_aggregate")]
    aggregate: String,
    from: i32,
    to: i32,
    expect: String,
}

fn d_rule() -> String {
    "all".into()
}
fn d_reps() -> u32 {
    20
}
fn d_quick() -> u32 {
    5
}

/// Allowed values of `construction`.
pub const CONSTRUCTION: [&str; 3] = ["no", "partly", "yes"];
/// Allowed values of `rule`.
pub const RULES: [&str; 3] = ["all", "any", "primary"];

impl Claim {
    /// Reads and validates a claim file: its keys, its arms' scenarios (relative paths are
    /// relative to the file) with their overrides, and its measures against the scenarios.
    pub fn load(path: &Path) -> Result<Claim, ExperimentError> {
        let text = std::fs::read_to_string(path).map_err(|e| ExperimentError::File {
            file: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        Self::from_str(path, &text)
    }

    /// [`load`](Self::load) from text; `path` labels errors and anchors relative scenarios.
    pub fn from_str(path: &Path, text: &str) -> Result<Claim, ExperimentError> {
        let file = path.display().to_string();
        let raw: RawClaim = parse(&file, text)?;
        let invalid = |key: &str, message: String| ExperimentError::Invalid {
            file: file.clone(),
            line: line_of(text, key),
            key: key.to_string(),
            message,
        };
        if raw.id.is_empty()
            || !raw
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                "id",
                format!("`{}`: letters, digits and _ only", raw.id),
            ));
        }
        if !CONSTRUCTION.contains(&raw.construction.as_str()) {
            return Err(invalid(
                "construction",
                format!(
                    "`{}`; allowed: {}",
                    raw.construction,
                    CONSTRUCTION.join(", ")
                ),
            ));
        }
        let rule = match raw.rule.as_str() {
            "all" => Rule::All,
            "any" => Rule::Any,
            "primary" => Rule::Primary,
            other => {
                return Err(invalid(
                    "rule",
                    format!("`{other}`; allowed: {}", RULES.join(", ")),
                ))
            }
        };
        for (key, n) in [
            ("replicates", raw.replicates),
            ("quick_replicates", raw.quick_replicates),
        ] {
            if !(2..=MAX_REPLICATES).contains(&n) {
                return Err(invalid(
                    key,
                    format!("{n}; allowed: 2 to {MAX_REPLICATES} (a paired interval needs two)"),
                ));
            }
        }
        if raw.measure.is_empty() {
            return Err(invalid("measure", "list at least one [[measure]]".into()));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let load = |key: &str, arm: &RawArm, extra: &[String]| -> Result<Loaded, ExperimentError> {
            let mut set = raw.both.set.clone();
            set.extend(arm.set.iter().cloned());
            set.extend(extra.iter().cloned());
            let spec = if arm.scenario.starts_with("builtin:") {
                PathBuf::from(&arm.scenario)
            } else {
                dir.join(&arm.scenario)
            };
            scenario::load(&spec, &set).map_err(|e| invalid(key, e.to_string()))
        };
        let a = load("a.scenario", &raw.a, &[])?;
        let b = load("b.scenario", &raw.b, &[])?;
        let ab = raw.ablation.unwrap_or_default();
        let mut ablation = ab.set.clone();
        ablation.extend(ab.set_a.iter().map(|s| format!("A: {s}")));
        ablation.extend(ab.set_b.iter().map(|s| format!("B: {s}")));
        let ablated = if ablation.is_empty() {
            None
        } else {
            let with = |only: &[String]| -> Vec<String> {
                let mut v = ab.set.clone();
                v.extend(only.iter().cloned());
                v
            };
            Some((
                load("ablation", &raw.a, &with(&ab.set_a))?,
                load("ablation", &raw.b, &with(&ab.set_b))?,
            ))
        };
        let mut uncertain = Vec::new();
        for (i, u) in raw.uncertain.iter().enumerate() {
            let key = format!("uncertain[{i}].key");
            if !(u.low.is_finite() && u.high.is_finite() && u.low < u.high) {
                return Err(invalid(
                    &format!("uncertain[{i}].low"),
                    format!("low {} must be below high {}", u.low, u.high),
                ));
            }
            // Both ends must load in both arms: the key exists and the values are allowed.
            for v in [u.low, u.high] {
                let set = [format!("{}={v}", u.key)];
                load(&key, &raw.a, &set)?;
                load(&key, &raw.b, &set)?;
            }
            uncertain.push((u.key.clone(), u.low, u.high));
        }
        if !(2..=1000).contains(&raw.robustness_points) {
            return Err(invalid(
                "robustness_points",
                format!("{}; allowed: 2 to 1000", raw.robustness_points),
            ));
        }
        if !(2..=MAX_REPLICATES).contains(&raw.robustness_replicates) {
            return Err(invalid(
                "robustness_replicates",
                format!(
                    "{}; allowed: 2 to {MAX_REPLICATES}",
                    raw.robustness_replicates
                ),
            ));
        }
        let spec = |arm: &RawArm| -> PathBuf {
            if arm.scenario.starts_with("builtin:") {
                PathBuf::from(&arm.scenario)
            } else {
                dir.join(&arm.scenario)
            }
        };
        let arms = [
            (spec(&raw.a), raw.a.set.clone()),
            (spec(&raw.b), raw.b.set.clone()),
        ];
        let mut decompose = Vec::new();
        for (i, part) in raw.decompose.iter().enumerate() {
            let key = format!("decompose[{i}].set_b");
            decompose.push((part.name.clone(), load(&key, &raw.b, &part.set_b)?));
        }
        let mut ms = Vec::new();
        for (i, m) in raw.measure.into_iter().enumerate() {
            let k = |f: &str| format!("measure[{i}].{f}");
            if !TARGET_TABLES.contains(&m.table.as_str()) {
                return Err(invalid(
                    &k("table"),
                    format!("`{}`; allowed: {}", m.table, TARGET_TABLES.join(", ")),
                ));
            }
            let allowed = measures(&a.config, &m.table);
            if !allowed.contains(&m.measure) {
                return Err(invalid(
                    &k("measure"),
                    format!(
                        "`{}` is not a measure of the `{}` table; allowed: {}",
                        m.measure,
                        m.table,
                        allowed.join(", ")
                    ),
                ));
            }
            if let Some(message) = scope_error(&a.config, &m.table, &m.measure, &m.region) {
                return Err(invalid(&k("region"), message));
            }
            if !AGGREGATES.contains(&m.aggregate.as_str()) {
                return Err(invalid(
                    &k("aggregate"),
                    format!("`{}`; allowed: {}", m.aggregate, AGGREGATES.join(", ")),
                ));
            }
            let expect = match m.expect.as_str() {
                "lower" => Expect::Lower,
                "higher" => Expect::Higher,
                other => {
                    return Err(invalid(
                        &k("expect"),
                        format!("`{other}`; allowed: lower, higher (the sign of B − A)"),
                    ))
                }
            };
            for l in [&a, &b] {
                let cal = &l.config.calendar;
                let first = cal.date(0).year;
                let last = cal.date(cal.ticks.saturating_sub(1)).year;
                if m.from > m.to || m.from < first || m.to > last {
                    return Err(invalid(
                        &k("from"),
                        format!(
                            "window {}–{} is not inside `{}`'s years {first}–{last}",
                            m.from, m.to, l.config.name
                        ),
                    ));
                }
            }
            ms.push(ClaimMeasure {
                target: Target {
                    name: format!("{}_{i}", raw.id),
                    table: m.table,
                    measure: m.measure,
                    region: m.region,
                    year: m.from,
                    aggregate: m.aggregate,
                    scale: 1.0,
                    value: 0.0,
                    sigma: 1.0,
                    justification: String::new(),
                    source: String::new(),
                    holdout: false,
                    did: None,
                },
                from: m.from,
                to: m.to,
                expect,
            });
        }
        Ok(Claim {
            id: raw.id,
            statement: raw.statement,
            sources: raw.sources,
            construction: raw.construction,
            construction_note: raw.construction_note,
            rule,
            replicates: raw.replicates,
            quick_replicates: raw.quick_replicates,
            a,
            b,
            ablated,
            ablation,
            measures: ms,
            decompose,
            uncertain,
            robustness_points: raw.robustness_points,
            robustness_replicates: raw.robustness_replicates,
            both: raw.both.set.clone(),
            arms,
            file: path.to_path_buf(),
            text: text.to_string(),
        })
    }
}

/// Every `*.toml` claim file of `dir`, ordered by identifier (C2 before C10).
pub fn load_dir(dir: &Path) -> Result<Vec<Claim>, ExperimentError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ExperimentError::File {
        file: dir.display().to_string(),
        message: format!(
            "cannot read the claims folder: {e} (run from the repository, or give --dir)"
        ),
    })?;
    let files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    let mut claims = files
        .iter()
        .map(|f| Claim::load(f))
        .collect::<Result<Vec<Claim>, _>>()?;
    // C2 before C10, C4 before C4_flows: by the leading letters, then the number after
    // them, then the whole identifier.
    claims.sort_by_key(|c| {
        let letters: String = c.id.chars().take_while(|ch| !ch.is_ascii_digit()).collect();
        let digits: String = c.id[letters.len()..]
            .chars()
            .take_while(|ch| ch.is_ascii_digit())
            .collect();
        (
            letters,
            digits.parse::<u64>().unwrap_or(u64::MAX),
            c.id.clone(),
        )
    });
    Ok(claims)
}

/// The fingerprint of a set of claims: FNV-1a of their files' texts in identifier order,
/// with the package version and the [`model_digest`], recorded in `docs/CLAIMS.md` and
/// checked by a test (it checks the inputs, not the numbers).
pub fn fingerprint(claims: &[Claim], accepted: Option<&Accepted>) -> String {
    let mut bytes = env!("CARGO_PKG_VERSION").as_bytes().to_vec();
    bytes.push(0x1f);
    bytes.extend_from_slice(model_digest().as_bytes());
    for c in claims {
        bytes.push(0x1f);
        bytes.extend_from_slice(c.text.as_bytes());
    }
    if let Some(a) = accepted {
        bytes.push(0x1e);
        bytes.extend_from_slice(a.digest.as_bytes());
    }
    format!("{:016x}", crate::batch::experiment::fnv1a(&bytes))
}

/// The model's version as it behaves: FNV-1a of the measures of a short fixed run (the
/// built-in `two_way_market` with 400 western and 100 eastern households, its own seed). Any change to the model's numbers changes it, so a claims page generated by an
/// older model no longer matches.
pub fn model_digest() -> String {
    let set: Vec<String> = [
        "region.Upland.households=400",
        "region.Upland.weight=2500",
        "region.Coastal.households=100",
        "region.Coastal.weight=4000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    match scenario::load_builtin("two_way_market", &set) {
        Ok(l) => {
            let run = crate::batch::replicate::run_one(&l.config, false);
            let text = format!("{:?}", run.recorder.metrics.m);
            format!("{:016x}", crate::batch::experiment::fnv1a(text.as_bytes()))
        }
        Err(e) => format!("unavailable: {e}"),
    }
}

/// The fingerprint a claims page records (the first code span after "fingerprint"), if any.
pub fn recorded_fingerprint(page: &str) -> Option<String> {
    // The first code span after the word "fingerprint".
    let f = page.find("fingerprint")?;
    let rest = &page[f..];
    let v = &rest[rest.find('`')? + 1..];
    Some(v[..v.find('`')?].to_string())
}

/// The accepted-sets file a claims page was generated with (the code span after
/// "Accepted sets:"), if any.
pub fn recorded_accepted(page: &str) -> Option<String> {
    let f = page.find("Accepted sets:")?;
    let rest = &page[f..];
    let v = &rest[rest.find('`')? + 1..];
    Some(v[..v.find('`')?].to_string())
}

/// The generated page `docs/CLAIMS.md`: what the command is, how to read it, the claim
/// files' fingerprint (with the accepted sets', if any), then [`markdown`].
pub fn page(
    claims: &[Claim],
    results: &[ClaimResult],
    command: &str,
    seconds: f64,
    accepted: Option<&Accepted>,
) -> String {
    let sets = accepted
        .map(|a| {
            format!(
                " Accepted sets: `{}` (the parameter sets a calibration accepted, in the \
                 fingerprint too): each claim's robustness is also checked over sets drawn from \
                 them by weight, added to both arms except for keys the claim sets itself.",
                a.source
            )
        })
        .unwrap_or_default();
    format!(
        "# The claims catalogue\n\n\
         Generated by `{command}` ({:.0} s on the machine that ran it); do not edit by hand. \
         Claim files: `claims/*.toml`; fingerprint of the files and the model: `{}` (xiezuo {}, \
         model digest `{}`); a test fails when either changes and this page was not \
         regenerated.{sets}\n\n\
         Each claim compares two arms with common random numbers (replicate `i` of both arms \
         has the same seed) on the measures its file names, each the mean over a window of \
         years of the western side. A measure is **supported** when the paired difference \
         B − A has the claimed sign and its two-sided p-value, Holm-adjusted across the \
         claim's measures, is below {ALPHA}; **contradicted** when significant the other \
         way; else **inconclusive**. The claim's `rule` combines them (`all`, `any` or \
         `primary`). *With the mechanism off* is the same comparison with the claim's \
         ablation overrides: a claim still supported there does not isolate the mechanism \
         it names. *By construction* is the claim file's own label (`no`, `partly`, `yes`) \
         of how much of the effect follows mechanically from an input, explained under \
         each claim.\n\n{}",
        seconds,
        fingerprint(claims, accepted),
        env!("CARGO_PKG_VERSION"),
        model_digest(),
        markdown(results)
    )
}

/// One measure's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureResult {
    /// The measure's label.
    pub label: String,
    /// Expected direction.
    pub expect: Expect,
    /// Mean of A and of B.
    pub mean_a: f64,
    /// Mean of B.
    pub mean_b: f64,
    /// Mean of the paired differences B − A.
    pub diff: f64,
    /// Half-width of their 95% interval.
    pub ci95: f64,
    /// Two-sided p-value (paired t).
    pub p: f64,
    /// Holm-adjusted across the claim's measures.
    pub p_holm: f64,
    /// The measure's verdict.
    pub verdict: Verdict,
}

/// One comparison (full, or ablated): its measures and combined verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Per measure.
    pub measures: Vec<MeasureResult>,
    /// Combined.
    pub verdict: Verdict,
}

/// A claim's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    /// Identifier.
    pub id: String,
    /// Statement.
    pub statement: String,
    /// `no`, `partly` or `yes`, and why.
    pub construction: (String, String),
    /// Replicates per arm.
    pub replicates: u32,
    /// The comparison.
    pub full: Comparison,
    /// With the mechanism switched off.
    pub ablated: Option<Comparison>,
    /// Per decomposition part: its name and the comparison with it switched off in B.
    pub parts: Vec<(String, Comparison)>,
    /// Robustness over the uncertain parameters (None without any).
    pub robustness: Option<Robustness>,
    /// Robustness over a calibration's accepted parameter sets (None unless asked for).
    pub posterior: Option<Robustness>,
    /// Seconds.
    pub seconds: f64,
}

impl ClaimResult {
    /// Whether the comparison isolates the mechanism: false when the claim is still
    /// supported with its mechanism switched off; None without an ablation or support.
    pub fn isolates(&self) -> Option<bool> {
        let ab = self.ablated.as_ref()?;
        if self.full.verdict != Verdict::Supported {
            return None;
        }
        Some(ab.verdict != Verdict::Supported)
    }
}

/// One measure judged: the mean paired difference, its 95% half-width, its p-value before
/// and after Holm's adjustment, and its verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judged {
    /// Mean of B − A.
    pub diff: f64,
    /// Half-width of its 95% interval.
    pub ci95: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Holm-adjusted.
    pub p_holm: f64,
    /// Verdict.
    pub verdict: Verdict,
}

/// The verdict of each measure from its paired differences, with Holm across them, and
/// the claim's verdict by `rule`.
pub fn judge(diffs: &[Vec<f64>], expect: &[Expect], rule: Rule) -> (Vec<Judged>, Verdict) {
    let ps: Vec<f64> = diffs.iter().map(|d| paired_p(d)).collect();
    let adj = holm(&ps);
    let per: Vec<Judged> = diffs
        .iter()
        .zip(expect)
        .enumerate()
        .map(|(k, (d, e))| {
            let (mean, ci) = mean_ci(d);
            let v = if adj[k].is_nan() || adj[k] >= ALPHA || mean == 0.0 {
                Verdict::Inconclusive
            } else if (mean < 0.0) == (*e == Expect::Lower) {
                Verdict::Supported
            } else {
                Verdict::Contradicted
            };
            Judged {
                diff: mean,
                ci95: ci,
                p: ps[k],
                p_holm: adj[k],
                verdict: v,
            }
        })
        .collect();
    let count = |v: Verdict| per.iter().filter(|x| x.verdict == v).count();
    let (sup, con) = (count(Verdict::Supported), count(Verdict::Contradicted));
    let verdict = match rule {
        Rule::Primary => per
            .first()
            .map(|x| x.verdict)
            .unwrap_or(Verdict::Inconclusive),
        Rule::All if sup == per.len() => Verdict::Supported,
        Rule::All if con > 0 => Verdict::Contradicted,
        Rule::Any if sup > 0 && con == 0 => Verdict::Supported,
        Rule::Any if con > 0 && sup == 0 => Verdict::Contradicted,
        _ => Verdict::Inconclusive,
    };
    (per, verdict)
}

/// Per measure, per replicate: the measure in each run of `arm` with the seed list of `a`
/// (common random numbers: one seed list for every arm of a claim, from A's run seed).
fn arm_values(claim: &Claim, a: &Loaded, arm: &Loaded, n: u32) -> Vec<Vec<f64>> {
    let streams = Streams::new(a.config.seed);
    let seeds: Vec<u64> = (0..n).map(|i| streams.replicate_seed(i as u64)).collect();
    let runs = replicates_seeded(&arm.config, &seeds, false);
    claim
        .measures
        .iter()
        .map(|m| runs.iter().map(|r| m.value(&arm.config, r)).collect())
        .collect()
}

fn compare_arms(claim: &Claim, a: &Loaded, b: &Loaded, n: u32) -> Comparison {
    let va = arm_values(claim, a, a, n);
    compare_values(claim, &va, &arm_values(claim, a, b, n))
}

fn compare_values(claim: &Claim, va: &[Vec<f64>], vb: &[Vec<f64>]) -> Comparison {
    let mut diffs = Vec::new();
    let mut means = Vec::new();
    for (xa, xb) in va.iter().zip(vb) {
        means.push((mean_ci(xa).0, mean_ci(xb).0));
        diffs.push(xa.iter().zip(xb).map(|(x, y)| y - x).collect::<Vec<f64>>());
    }
    let expect: Vec<Expect> = claim.measures.iter().map(|m| m.expect).collect();
    let (per, verdict) = judge(&diffs, &expect, claim.rule);
    Comparison {
        measures: claim
            .measures
            .iter()
            .zip(per)
            .zip(means)
            .map(|((m, j), (mean_a, mean_b))| MeasureResult {
                label: m.label(),
                expect: m.expect,
                mean_a,
                mean_b,
                diff: j.diff,
                ci95: j.ci95,
                p: j.p,
                p_holm: j.p_holm,
                verdict: j.verdict,
            })
            .collect(),
        verdict,
    }
}

/// Replicates per arm of a claim: `replicates` if given, else the claim's quick count when
/// `quick`, else its own.
pub fn replicates_for(claim: &Claim, replicates: Option<u32>, quick: bool) -> u32 {
    replicates.unwrap_or(if quick {
        claim.quick_replicates
    } else {
        claim.replicates
    })
}

/// What a stored claim result was computed from: FNV-1a of the claim file, the model
/// digest, the replicates, the quick flag and the accepted sets' digest. A result stored
/// under another key is stale and is run again.
pub fn result_key(
    claim: &Claim,
    replicates: u32,
    quick: bool,
    accepted: Option<&Accepted>,
) -> String {
    let mut bytes = claim.text.as_bytes().to_vec();
    bytes.push(0x1f);
    bytes.extend_from_slice(model_digest().as_bytes());
    bytes.extend_from_slice(format!("\x1f{replicates}\x1f{quick}\x1f").as_bytes());
    if let Some(a) = accepted {
        bytes.extend_from_slice(a.digest.as_bytes());
    }
    format!("{:016x}", crate::batch::experiment::fnv1a(&bytes))
}

/// A claim result as stored in `OUT/results/<id>.toml` (`xiezuo claims --out`), so that
/// `--resume` and `--shard` runs can be combined without running a claim twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    /// [`result_key`] of what it was computed from.
    pub key: String,
    /// The result.
    pub result: ClaimResult,
}

impl Stored {
    /// The file a claim's result is stored in under `out`.
    pub fn path(out: &Path, id: &str) -> PathBuf {
        out.join("results").join(format!("{id}.toml"))
    }

    /// The stored result of `id` under `out` if it exists, parses and has `key`.
    pub fn load(out: &Path, id: &str, key: &str) -> Option<ClaimResult> {
        let text = std::fs::read_to_string(Self::path(out, id)).ok()?;
        let s: Stored = toml::from_str(&text).ok()?;
        (s.key == key).then_some(s.result)
    }

    /// Writes it (atomically: a temporary file renamed).
    pub fn save(&self, out: &Path) -> Result<PathBuf, crate::output::OutputError> {
        let dir = out.join("results");
        std::fs::create_dir_all(&dir).map_err(|e| crate::output::OutputError::Io {
            path: dir.clone(),
            source: e,
        })?;
        let text = toml::to_string(self).map_err(|e| crate::output::OutputError::Io {
            path: dir.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        crate::output::write_text(&dir, &format!("{}.toml", self.result.id), &text)
    }
}

/// Runs a claim: the comparison and, if the claim has one, its ablation, with `replicates`
/// per arm (the claim's own, or its quick count when `quick`, unless given); its robustness
/// over its uncertain parameters and, given `accepted`, over a calibration's accepted sets.
pub fn run(
    claim: &Claim,
    replicates: Option<u32>,
    quick: bool,
    accepted: Option<&Accepted>,
) -> ClaimResult {
    let start = Instant::now();
    let n = replicates_for(claim, replicates, quick);
    let va = arm_values(claim, &claim.a, &claim.a, n);
    let full = compare_values(claim, &va, &arm_values(claim, &claim.a, &claim.b, n));
    let ablated = claim
        .ablated
        .as_ref()
        .map(|(a, b)| compare_arms(claim, a, b, n));
    let parts = claim
        .decompose
        .iter()
        .map(|(name, b)| {
            let vb = arm_values(claim, &claim.a, b, n);
            (name.clone(), compare_values(claim, &va, &vb))
        })
        .collect();
    ClaimResult {
        id: claim.id.clone(),
        statement: claim.statement.clone(),
        construction: (claim.construction.clone(), claim.construction_note.clone()),
        replicates: n,
        full,
        ablated,
        parts,
        robustness: robustness(claim, quick),
        posterior: accepted.map(|a| posterior_robustness(claim, a, quick)),
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Robustness of a claim's first measure over a Latin hypercube of its uncertain
/// parameters: at each point both arms run with the point's values and a few paired
/// replicates; the share of points whose mean effect has the claimed sign, and each
/// parameter's rank correlation with the effect (which parameters flip it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Robustness {
    /// Points of the design.
    pub points: usize,
    /// Paired replicates per point.
    pub replicates: u32,
    /// Share of points with the claimed sign.
    pub share: f64,
    /// Per parameter: key, range, Spearman correlation of its value with the effect.
    pub parameters: Vec<(String, f64, f64, f64)>,
}

impl Robustness {
    /// The sentence that leads the robustness table, in three parts (before the share, the
    /// share, after it), so that the Markdown page and the HTML page say the same with their
    /// own emphasis and escaping. `title` names the design, `points` its points.
    pub fn lead(&self, title: &str, points: &str) -> [String; 3] {
        [
            format!(
                "{title} ({} {points} × {} paired replicates, first measure): the effect has the claimed sign at ",
                self.points, self.replicates
            ),
            format!("{:.0}%", 100.0 * self.share),
            " of the points. Rank correlation of each parameter with the effect: where the \
             claim expects B − A < 0, ρ > 0 means that raising the parameter pushes the effect \
             toward a flip (ρ < 0 where it expects > 0):"
                .to_string(),
        ]
    }

    /// The table's header.
    pub const HEADER: [&'static str; 3] = ["parameter", "range", "Spearman ρ with B − A"];

    /// The table's rows: parameter key, range, correlation, as text.
    pub fn rows(&self) -> Vec<[String; 3]> {
        self.parameters
            .iter()
            .map(|(k, lo, hi, rho)| {
                [
                    k.clone(),
                    format!("{} – {}", num(*lo), num(*hi)),
                    format!("{rho:+.2}"),
                ]
            })
            .collect()
    }
}

/// Latin-hypercube design: `n` points in `[0,1)^d`, one per stratum of each axis, from a
/// stream keyed by what it is for (the claim's identifier), never by thread.
pub fn latin_hypercube(n: usize, d: usize, key: u64) -> Vec<Vec<f64>> {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(key);
    // One axis at a time: a random permutation of the strata, a uniform within each.
    let axes: Vec<Vec<f64>> = (0..d)
        .map(|_| {
            let mut perm: Vec<usize> = (0..n).collect();
            perm.shuffle(&mut rng);
            perm.iter()
                .map(|p| (*p as f64 + rng.random::<f64>()) / n as f64)
                .collect()
        })
        .collect();
    (0..n)
        .map(|i| axes.iter().map(|a| a[i]).collect())
        .collect()
}

/// Spearman rank correlation (average ranks for ties; NaN if either side is constant).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            for k in i..=j {
                r[idx[k]] = (i + j) as f64 / 2.0;
            }
            i = j + 1;
        }
        r
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

/// The mean paired effect B − A on the claim's first measure with `set` added to both arms
/// (NaN if an arm does not load).
fn effect_at(claim: &Claim, set: &[String], reps: u32) -> f64 {
    let arm = |i: usize| -> Option<Loaded> {
        let (spec, own) = &claim.arms[i];
        let mut all = claim.both.clone();
        all.extend(own.iter().cloned());
        all.extend(set.iter().cloned());
        scenario::load(spec, &all).ok()
    };
    let (Some(a), Some(b)) = (arm(0), arm(1)) else {
        return f64::NAN;
    };
    let va = arm_values(claim, &a, &a, reps);
    let vb = arm_values(claim, &a, &b, reps);
    let d: Vec<f64> = va[0].iter().zip(&vb[0]).map(|(x, y)| y - x).collect();
    mean_ci(&d).0
}

/// The share of `effects` with the claimed sign, and each parameter's range and rank
/// correlation with the effect.
fn summarise(
    claim: &Claim,
    reps: u32,
    keys: &[(String, f64, f64)],
    values: &[Vec<f64>],
    effects: &[f64],
) -> Robustness {
    let m = &claim.measures[0];
    let good = effects
        .iter()
        .filter(|e| match m.expect {
            Expect::Lower => **e < 0.0,
            Expect::Higher => **e > 0.0,
        })
        .count();
    Robustness {
        points: effects.len(),
        replicates: reps,
        share: good as f64 / effects.len().max(1) as f64,
        parameters: keys
            .iter()
            .zip(values)
            .map(|((k, lo, hi), v)| (k.clone(), *lo, *hi, spearman(v, effects)))
            .collect(),
    }
}

/// Points and paired replicates per point of a robustness check.
fn robustness_size(claim: &Claim, quick: bool) -> (usize, u32) {
    if quick {
        (4, 2)
    } else {
        (
            claim.robustness_points as usize,
            claim.robustness_replicates,
        )
    }
}

fn robustness(claim: &Claim, quick: bool) -> Option<Robustness> {
    if claim.uncertain.is_empty() {
        return None;
    }
    let (n, reps) = robustness_size(claim, quick);
    let key = crate::batch::experiment::fnv1a(claim.id.as_bytes());
    let design = latin_hypercube(n, claim.uncertain.len(), key);
    let mut effects = Vec::with_capacity(n);
    let mut values = vec![Vec::with_capacity(n); claim.uncertain.len()];
    for u in &design {
        let mut set = Vec::new();
        for (j, (k, lo, hi)) in claim.uncertain.iter().enumerate() {
            let v = lo + (hi - lo) * u[j];
            values[j].push(v);
            set.push(format!("{k}={v}"));
        }
        // Both ends of every range were loaded at validation, so a point loads too.
        effects.push(effect_at(claim, &set, reps));
    }
    Some(summarise(claim, reps, &claim.uncertain, &values, &effects))
}

/// Robustness over a calibration's accepted parameter sets: as many sets as the claim's
/// robustness points, drawn from the accepted particles in proportion to their weights
/// (systematic resampling, offset from a stream keyed by the claim), each set added to both
/// arms unless the claim sets that key itself; the ranges reported are those of the sets
/// drawn.
fn posterior_robustness(claim: &Claim, accepted: &Accepted, quick: bool) -> Robustness {
    let (n, reps) = robustness_size(claim, quick);
    let key = crate::batch::experiment::fnv1a(format!("{}/accepted", claim.id).as_bytes());
    let chosen = accepted.resample(n, key);
    // A key the claim sets itself (in either arm or both) keeps the claim's value: the
    // comparison is what the claim is about.
    let own: Vec<&str> = claim
        .both
        .iter()
        .chain(claim.arms.iter().flat_map(|(_, set)| set.iter()))
        .filter_map(|s| s.split('=').next())
        .map(str::trim)
        .collect();
    let used: Vec<usize> = (0..accepted.keys.len())
        .filter(|&j| !own.contains(&accepted.keys[j].as_str()))
        .collect();
    let mut values = vec![Vec::with_capacity(n); used.len()];
    let mut effects = Vec::with_capacity(n);
    for &i in &chosen {
        let set: Vec<String> = used
            .iter()
            .map(|&j| format!("{}={}", accepted.keys[j], accepted.sets[i][j]))
            .collect();
        for (slot, &j) in used.iter().enumerate() {
            values[slot].push(accepted.sets[i][j]);
        }
        effects.push(effect_at(claim, &set, reps));
    }
    let ranges: Vec<(String, f64, f64)> = used
        .iter()
        .map(|&j| &accepted.keys[j])
        .zip(&values)
        .map(|(k, v)| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (k.clone(), lo, hi)
        })
        .collect();
    summarise(claim, reps, &ranges, &values, &effects)
}

/// The parameter sets a calibration accepted (`xiezuo calibrate`): the particles of the
/// last generation of its `generations.parquet` (or `.csv`), or of a file with the same
/// `weight` and `param.KEY` columns such as `calibration/accepted/*.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The file they came from.
    pub source: String,
    /// The calibrated keys.
    pub keys: Vec<String>,
    /// Per particle, its values in `keys` order.
    pub sets: Vec<Vec<f64>>,
    /// Per particle, its weight (normalised to sum to 1).
    pub weights: Vec<f64>,
    /// FNV-1a of the file's bytes (in the claims page's fingerprint).
    pub digest: String,
}

impl Accepted {
    /// Reads `path`: a calibration's output directory, or a Parquet or CSV file.
    pub fn load(path: &Path) -> Result<Accepted, ExperimentError> {
        let file = if path.is_dir() {
            path.join("generations.parquet")
        } else {
            path.to_path_buf()
        };
        let err = |message: String| ExperimentError::File {
            file: file.display().to_string(),
            message,
        };
        let df = if file.extension().is_some_and(|e| e == "parquet") {
            crate::output::read_parquet(&file).map_err(|e| err(e.to_string()))?
        } else {
            CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(None)
                .try_into_reader_with_file_path(Some(file.clone()))
                .and_then(|r| r.finish())
                .map_err(|e| err(format!("cannot read it as CSV: {e}")))?
        };
        let floats = |name: &str| -> Result<Vec<f64>, ExperimentError> {
            let col = df
                .column(name)
                .and_then(|c| c.cast(&DataType::Float64))
                .map_err(|e| err(format!("column `{name}`: {e}")))?;
            let ca = col.f64().map_err(|e| err(e.to_string()))?;
            Ok((0..ca.len())
                .map(|i| ca.get(i).unwrap_or(f64::NAN))
                .collect())
        };
        let keys: Vec<String> = df
            .get_column_names()
            .iter()
            .filter_map(|c| c.as_str().strip_prefix("param.").map(str::to_string))
            .collect();
        if keys.is_empty() {
            return Err(err(
                "no `param.KEY` column: give a calibration's output directory, its generations.parquet or .csv, or a file of calibration/accepted/".into(),
            ));
        }
        let weight = floats("weight")?;
        // The last generation only, when the file holds several.
        let rows: Vec<usize> = if df.column("generation").is_ok() {
            let g = floats("generation")?;
            let last = g.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (0..g.len()).filter(|&i| g[i] == last).collect()
        } else {
            (0..weight.len()).collect()
        };
        let cols: Vec<Vec<f64>> = keys
            .iter()
            .map(|k| floats(&format!("param.{k}")))
            .collect::<Result<_, _>>()?;
        let total: f64 = rows.iter().map(|&i| weight[i]).sum();
        if rows.is_empty()
            || !total.is_finite()
            || total <= 0.0
            || rows.iter().any(|&i| weight[i].is_nan() || weight[i] < 0.0)
        {
            return Err(err(
                "no particle with a positive weight (the `weight` column)".into(),
            ));
        }
        let sets: Vec<Vec<f64>> = rows
            .iter()
            .map(|&i| cols.iter().map(|c| c[i]).collect())
            .collect();
        if sets.iter().flatten().any(|v| !v.is_finite()) {
            return Err(err("a parameter value is missing or not finite".into()));
        }
        let bytes = std::fs::read(&file).map_err(|e| err(e.to_string()))?;
        Ok(Accepted {
            digest: format!("{:016x}", crate::batch::experiment::fnv1a(&bytes)),
            source: path.display().to_string(),
            keys,
            sets,
            weights: rows.iter().map(|&i| weight[i] / total).collect(),
        })
    }

    /// `n` particle indices drawn in proportion to the weights by systematic resampling:
    /// the points `(u + j)/n`, `j = 0 … n − 1`, with one uniform `u` from a stream keyed by
    /// `key`, located in the cumulative weights.
    pub fn resample(&self, n: usize, key: u64) -> Vec<usize> {
        use rand::{Rng, SeedableRng};
        let u: f64 = rand_chacha::ChaCha8Rng::seed_from_u64(key).random();
        let mut out = Vec::with_capacity(n);
        let (mut i, mut cum) = (0, self.weights[0]);
        for j in 0..n {
            let x = (u + j as f64) / n as f64;
            while x > cum && i + 1 < self.weights.len() {
                i += 1;
                cum += self.weights[i];
            }
            out.push(i);
        }
        out
    }
}

/// A parameter value with at most four decimals, trailing zeros dropped.
pub fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// "83% of 8 points", or "—".
pub fn share_text(rb: Option<&Robustness>) -> String {
    rb.map(|rb| format!("{:.0}% of {} points", 100.0 * rb.share, rb.points))
        .unwrap_or_else(|| "—".into())
}

/// One robustness check as a paragraph and a table of the parameters' rank correlations.
fn robustness_md(s: &mut String, title: &str, points: &str, rb: &Robustness) {
    let [before, share, after] = rb.lead(title, points);
    let [k, range, rho] = Robustness::HEADER;
    s.push_str(&format!(
        "{before}**{share}**{after}\n\n| {k} | {range} | {rho} |\n| --- | --- | --- |\n"
    ));
    for [k, range, rho] in rb.rows() {
        s.push_str(&format!("| `{k}` | {range} | {rho} |\n"));
    }
    s.push('\n');
}

/// The results as a Markdown page: a summary table (claim, verdict, ablation, by
/// construction), then each claim's measures.
pub fn markdown(results: &[ClaimResult]) -> String {
    let mut s = String::new();
    let posterior = results.iter().any(|r| r.posterior.is_some());
    s.push_str("| claim | verdict | with the mechanism off | robustness (claimed sign) |");
    if posterior {
        s.push_str(" over accepted sets |");
    }
    s.push_str(" by construction | replicates |\n| --- | --- | --- | --- |");
    if posterior {
        s.push_str(" --- |");
    }
    s.push_str(" --- | --- |\n");
    for r in results {
        let off = match (&r.ablated, r.isolates()) {
            (None, _) => "no ablation".to_string(),
            (Some(a), Some(false)) => {
                format!("{} — does not isolate the mechanism", a.verdict.as_str())
            }
            (Some(a), _) => a.verdict.as_str().to_string(),
        };
        let robust = share_text(r.robustness.as_ref());
        s.push_str(&format!(
            "| {} | {} | {} | {} |",
            r.id,
            r.full.verdict.as_str(),
            off,
            robust
        ));
        if posterior {
            s.push_str(&format!(" {} |", share_text(r.posterior.as_ref())));
        }
        s.push_str(&format!(" {} | {} |\n", r.construction.0, r.replicates));
    }
    for r in results {
        s.push_str(&format!("\n### {}: {}\n\n", r.id, r.statement));
        if !r.construction.1.is_empty() {
            s.push_str(&format!(
                "By construction: **{}**. {}\n\n",
                r.construction.0, r.construction.1
            ));
        }
        for (name, c) in [
            ("comparison", Some(&r.full)),
            ("mechanism off", r.ablated.as_ref()),
        ] {
            let Some(c) = c else { continue };
            s.push_str(&format!(
                "{name}: **{}**\n\n| measure | expect B − A | A | B | B − A | 95% CI | p (Holm) | verdict |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
                c.verdict.as_str()
            ));
            for m in &c.measures {
                s.push_str(&format!(
                    "| {} | {} | {:.5} | {:.5} | {:+.5} | ± {:.5} | {:.3} | {} |\n",
                    m.label,
                    if m.expect == Expect::Lower {
                        "< 0"
                    } else {
                        "> 0"
                    },
                    m.mean_a,
                    m.mean_b,
                    m.diff,
                    m.ci95,
                    m.p_holm,
                    m.verdict.as_str()
                ));
            }
            s.push('\n');
        }
        if let Some(rb) = &r.robustness {
            robustness_md(&mut s, "Robustness", "Latin-hypercube points", rb);
        }
        if let Some(rb) = &r.posterior {
            robustness_md(
                &mut s,
                "Robustness over a calibration's accepted parameter sets",
                "sets drawn by weight",
                rb,
            );
        }
        if !r.parts.is_empty() {
            s.push_str(
                "Decomposition: B with one part switched off, the rest kept; the share of B − A \
                 it carries is `1 − (B − A with the part off) / (B − A)`.\n\n| part off | measure | B − A | 95% CI | share of the effect it carries |\n| --- | --- | --- | --- | --- |\n",
            );
            for (name, c) in &r.parts {
                for (m, full) in c.measures.iter().zip(&r.full.measures) {
                    s.push_str(&format!(
                        "| {name} | {} | {:+.5} | ± {:.5} | {:.0}% |\n",
                        m.label,
                        m.diff,
                        m.ci95,
                        100.0 * (1.0 - m.diff / full.diff)
                    ));
                }
            }
            s.push('\n');
        }
    }
    s
}

/// The results as a table: one row per claim, comparison (`full`, `ablated` or `without
/// PART`) and measure, with the claim's verdict, label and replicates (written as
/// `claims.parquet` and `claims.csv`).
pub fn frame(results: &[ClaimResult]) -> PolarsResult<DataFrame> {
    let mut claim = Vec::new();
    let mut comparison = Vec::new();
    let mut measure = Vec::new();
    let mut expect = Vec::new();
    let mut num: [Vec<f64>; 6] = Default::default();
    let mut verdict = Vec::new();
    let mut claim_verdict = Vec::new();
    let mut construction = Vec::new();
    let mut replicates = Vec::new();
    for r in results {
        let mut comparisons: Vec<(String, &Comparison)> = vec![("full".into(), &r.full)];
        if let Some(a) = &r.ablated {
            comparisons.push(("ablated".into(), a));
        }
        for (name, c) in &r.parts {
            comparisons.push((format!("without {name}"), c));
        }
        for (name, c) in comparisons {
            for m in &c.measures {
                claim.push(r.id.clone());
                comparison.push(name.clone());
                measure.push(m.label.clone());
                expect.push(if m.expect == Expect::Lower {
                    "lower"
                } else {
                    "higher"
                });
                for (col, v) in num
                    .iter_mut()
                    .zip([m.mean_a, m.mean_b, m.diff, m.ci95, m.p, m.p_holm])
                {
                    col.push(v);
                }
                verdict.push(m.verdict.as_str());
                claim_verdict.push(c.verdict.as_str());
                construction.push(r.construction.0.clone());
                replicates.push(r.replicates);
            }
        }
    }
    let [mean_a, mean_b, diff, ci95, p, p_holm] = num;
    DataFrame::new_infer_height(vec![
        Column::new("claim".into(), claim),
        Column::new("comparison".into(), comparison),
        Column::new("measure".into(), measure),
        Column::new("expect".into(), expect),
        Column::new("mean_a".into(), mean_a),
        Column::new("mean_b".into(), mean_b),
        Column::new("diff".into(), diff),
        Column::new("ci95".into(), ci95),
        Column::new("p".into(), p),
        Column::new("p_holm".into(), p_holm),
        Column::new("verdict".into(), verdict),
        Column::new("claim_verdict".into(), claim_verdict),
        Column::new("construction".into(), construction),
        Column::new("replicates".into(), replicates),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_sets_are_the_last_generation_drawn_by_weight() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("generations.csv");
        std::fs::write(
            &f,
            "generation,weight,param.households.income_noise,param.policy.leakage\n\
             0,1.0,0.9,0.9\n1,2.0,0.1,0.2\n1,1.0,0.3,0.4\n1,1.0,0.5,0.6\n",
        )
        .unwrap();
        let a = Accepted::load(&f).unwrap();
        assert_eq!(a.keys, ["households.income_noise", "policy.leakage"]);
        assert_eq!(a.sets, [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]);
        assert_eq!(a.weights, [0.5, 0.25, 0.25]);
        // Systematic resampling: each particle drawn ⌊n·w⌋ or ⌈n·w⌉ times, in order.
        for key in 0..20 {
            let idx = a.resample(4, key);
            assert_eq!(idx, [0, 0, 1, 2], "key {key}");
        }
        let counts = |key| {
            let idx = a.resample(10, key);
            (0..3)
                .map(|i| idx.iter().filter(|&&j| j == i).count())
                .collect::<Vec<_>>()
        };
        for key in 0..20 {
            let c = counts(key);
            assert!(
                (5..=5).contains(&c[0]) && (2..=3).contains(&c[1]) && c.iter().sum::<usize>() == 10,
                "{c:?}"
            );
        }
        // Not a calibration's file: an error that names it.
        let g = dir.path().join("other.csv");
        std::fs::write(&g, "weight,x\n1,2\n").unwrap();
        let e = Accepted::load(&g).unwrap_err().to_string();
        assert!(e.contains("other.csv") && e.contains("param.KEY"), "{e}");
    }

    fn around(mean: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| mean + 0.01 * ((i % 5) as f64 - 2.0))
            .collect()
    }

    #[test]
    fn latin_hypercube_fills_every_stratum_once() {
        let x = latin_hypercube(10, 3, 7);
        assert_eq!(x, latin_hypercube(10, 3, 7), "keyed, reproducible");
        for j in 0..3 {
            let mut strata: Vec<usize> = x.iter().map(|p| (p[j] * 10.0) as usize).collect();
            strata.sort();
            assert_eq!(strata, (0..10).collect::<Vec<_>>());
        }
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 5.0, 9.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn verdicts_follow_the_sign_and_holm() {
        let lower = [Expect::Lower, Expect::Lower];
        // A clear fall on both: supported.
        let (_, v) = judge(&[around(-0.1, 20), around(-0.05, 20)], &lower, Rule::All);
        assert_eq!(v, Verdict::Supported);
        // A clear rise on one: contradicted under `all`, and `any` says contradicted too
        // when nothing supports.
        let (per, v) = judge(&[around(0.1, 20), around(0.0, 20)], &lower, Rule::All);
        assert_eq!(per[0].verdict, Verdict::Contradicted);
        assert_eq!(per[1].verdict, Verdict::Inconclusive);
        assert_eq!(v, Verdict::Contradicted);
        // Mixed: `any` is inconclusive, `primary` follows the first.
        let mixed = [around(-0.1, 20), around(0.1, 20)];
        assert_eq!(judge(&mixed, &lower, Rule::Any).1, Verdict::Inconclusive);
        assert_eq!(judge(&mixed, &lower, Rule::Primary).1, Verdict::Supported);
        // Holm: p = 0.03 alone is significant, with a second test of p = 0.5 it is not
        // (0.03 · 2 = 0.06).
        let d = |t: f64| -> Vec<f64> {
            // Differences with mean m and sd 1 over 20 values: t = m·√20.
            let m = t / 20f64.sqrt();
            (0..20)
                .map(|i| m + if i % 2 == 0 { 1.0 } else { -1.0 } * (20.0f64 / 19.0).sqrt())
                .collect()
        };
        let p3 = crate::stats::testing::paired_p(&d(-2.33));
        assert!(p3 > 0.02 && p3 < 0.04, "{p3}");
        assert_eq!(
            judge(&[d(-2.33)], &[Expect::Lower], Rule::All).1,
            Verdict::Supported
        );
        let (per, _) = judge(&[d(-2.33), d(0.7)], &lower, Rule::Any);
        assert_eq!(per[0].verdict, Verdict::Inconclusive);
    }
}
