//! `xiezuo calibrate`: fits a scenario's free parameters to official figures by
//! approximate Bayesian computation with sequential Monte Carlo ([`crate::stats::abc`]),
//! on downscaled runs with replicates, resumable generation by generation, and reports the
//! posterior, the fit of every target (held-out facts predicted) and which parameters the
//! data constrain. See `docs/CALIBRATION.md`.
//!
//! - [`spec`]: the calibration and targets files, validated before anything runs.
//! - [`summary`]: what a run says about each target, read from the user-facing tables.
//! - this module: candidates evaluated in parallel (results independent of the thread
//!   count), the generations written after each one (`generations.parquet`, `.csv`) so that
//!   `--resume` continues where a stopped calibration ended, and the final tables.

pub mod spec;
pub mod summary;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;

use crate::batch::experiment::fnv1a;
use crate::model::rng::mix;
use crate::model::run::{run_with, Control};
use crate::model::time::YearMonth;
use crate::output::{self, Format, OutputError, TableRecorder};
use crate::scenario;
use crate::stats::abc::{self, Candidate, Generation, Particle, Prior, Sampler};

pub use spec::{Calibration, Parameter, Target, Targets};

/// Errors of a calibration run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// The output directory holds another calibration (or something else).
    #[error("{0}")]
    Conflict(String),
    /// Writing or reading the outputs failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The sampler refused its input.
    #[error("ABC-SMC: {0}")]
    Abc(String),
}

/// The file that identifies a calibration directory (its inputs' fingerprint).
const IDENTITY: &str = "calibration.json";

/// Fingerprint of a calibration's inputs: FNV-1a 64, in hex, of what decides its numbers —
/// the calibration file and the targets file as parsed TOML without their prose (comments,
/// `note`, `source`, `justification`, `description`), and the resolved scenario with the
/// fixed overrides, the downscaling and the parameters pinned at their lower bounds (so that
/// calibrated values written into the scenario leave it unchanged).
/// `docs/CALIBRATION.md` records it beside each fit so that a check can tell when the
/// inputs changed and the fit must be re-run.
pub fn fingerprint(c: &Calibration) -> String {
    hash_inputs(c, &[])
}

/// What a resumed calibration must share with the one in its directory: the
/// [`fingerprint`] without the stopping rules (`abc.generations`, `abc.min_epsilon`,
/// `abc.min_acceptance`), which decide only how many generations run, so that raising
/// `generations` and passing `--resume` continues a finished calibration.
pub fn identity(c: &Calibration) -> String {
    hash_inputs(c, &["generations", "min_epsilon", "min_acceptance"])
}

/// `doc` without the prose keys, at any depth, and without the `[abc]` keys in `abc_skip`.
fn without_prose(doc: &toml::Table, abc_skip: &[&str]) -> toml::Table {
    fn strip(v: &mut toml::Value) {
        match v {
            toml::Value::Table(t) => {
                for k in ["note", "source", "justification", "description"] {
                    t.remove(k);
                }
                for (_, x) in t.iter_mut() {
                    strip(x);
                }
            }
            toml::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = toml::Value::Table(doc.clone());
    strip(&mut v);
    let toml::Value::Table(mut t) = v else {
        return toml::Table::new();
    };
    if let Some(toml::Value::Table(abc)) = t.get_mut("abc") {
        for k in abc_skip {
            abc.remove(*k);
        }
    }
    t
}

fn hash_inputs(c: &Calibration, abc_skip: &[&str]) -> String {
    let parsed = |text: &str| -> String {
        let doc: toml::Table = text.parse().unwrap_or_default();
        toml::to_string(&without_prose(&doc, abc_skip)).unwrap_or_default()
    };
    let mut bytes = parsed(&c.text).into_bytes();
    bytes.push(0x1f);
    bytes.extend_from_slice(parsed(&c.targets.text).as_bytes());
    bytes.push(0x1f);
    bytes.extend_from_slice(toml::to_string(&c.pinned).unwrap_or_default().as_bytes());
    format!("{:016x}", fnv1a(&bytes))
}

/// The seed of replicate `r` of candidate `index` of generation `g`: a function of the
/// calibration's seed and of what the run is for, never of the thread that runs it.
pub fn run_seed(seed: u64, g: usize, index: u64, r: u32) -> u64 {
    mix(mix(seed) ^ mix(((g as u64) << 40) ^ index) ^ mix(0x5eed_0000 + r as u64))
}

/// One line of progress: a generation finished.
#[derive(Debug, Clone)]
pub struct GenerationDone {
    /// Generation index.
    pub index: usize,
    /// Its tolerance.
    pub epsilon: f64,
    /// Candidates needed to fill it.
    pub evaluations: usize,
    /// Accepted / evaluations.
    pub acceptance: f64,
    /// Effective sample size.
    pub ess: f64,
    /// Whether it filled its population.
    pub complete: bool,
}

/// Options of [`run`].
pub struct Options<'a> {
    /// Output directory.
    pub out: PathBuf,
    /// Continue a stopped calibration in `out`.
    pub resume: bool,
    /// Called after each generation.
    pub progress: Option<&'a (dyn Fn(&GenerationDone) + Sync)>,
    /// Called after each evaluated candidate (for a progress bar).
    pub tick: Option<&'a (dyn Fn() + Sync)>,
}

/// A parameter's posterior.
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorRow {
    /// Scenario key.
    pub key: String,
    /// `uniform` or `log_uniform`.
    pub prior: String,
    /// Prior bounds.
    pub low: f64,
    /// Prior bounds.
    pub high: f64,
    /// Weighted mean.
    pub mean: f64,
    /// Weighted sd.
    pub sd: f64,
    /// 2.5% quantile.
    pub q025: f64,
    /// Median (the calibrated value).
    pub q50: f64,
    /// 97.5% quantile.
    pub q975: f64,
    /// Posterior sd over prior sd (in the prior's uniform scale).
    pub sd_ratio: f64,
    /// Value in the accepted particle closest to the targets.
    pub best: f64,
}

impl PosteriorRow {
    /// Whether the data constrain the parameter: its posterior sd is below half the prior's.
    pub fn constrained(&self) -> bool {
        self.sd_ratio < 0.5
    }
}

/// A target's fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitRow {
    /// The target.
    pub target: Target,
    /// Posterior predictive median of the model value.
    pub model: f64,
    /// Its 2.5% quantile.
    pub low: f64,
    /// Its 97.5% quantile.
    pub high: f64,
}

impl FitRow {
    /// Model median over the official value (NaN when that is 0, e.g. "no effect").
    pub fn ratio(&self) -> f64 {
        if self.target.value == 0.0 {
            return f64::NAN;
        }
        self.model / self.target.value
    }
    /// (model − official) / σ.
    pub fn z(&self) -> f64 {
        (self.model - self.target.value) / self.target.sigma
    }
    /// Within the target's σ, or within ±25% of it (the acceptance rule for fitted
    /// facts; ±50% for held-out ones).
    pub fn acceptable(&self) -> bool {
        let band = if self.target.holdout { 0.5 } else { 0.25 };
        self.z().abs() <= 1.0 || (self.ratio() - 1.0).abs() <= band
    }
}

/// What a calibration produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Every generation, resumed ones included.
    pub generations: Vec<Generation>,
    /// The posterior of each parameter (from the last generation).
    pub posterior: Vec<PosteriorRow>,
    /// The fit of each target (from the last generation).
    pub fit: Vec<FitRow>,
    /// Simulation runs made in this invocation.
    pub runs: usize,
    /// Inputs' fingerprint.
    pub fingerprint: String,
}

/// The ticks a candidate's run needs: up to the end of the last target year (the model is
/// causal, so a shorter run gives the same values).
fn needed_ticks(c: &Calibration) -> u32 {
    let cal = &c.base.config.calendar;
    let last = c.targets.targets.iter().map(|t| t.year).max().unwrap_or(0);
    cal.tick_of(YearMonth {
        year: last + 1,
        month: 1,
    })
    .unwrap_or(cal.ticks)
    .min(cal.ticks)
}

/// Evaluates one candidate: the mean over replicates of each target's value, or `None` when
/// the scenario does not load at these parameters or a run fails.
pub fn evaluate(c: &Calibration, cand: &Candidate, ticks: u32) -> Option<Vec<f64>> {
    let loaded = scenario::load(&c.scenario, &c.overrides(&cand.theta)).ok()?;
    let mut cfg = loaded.config;
    cfg.calendar.ticks = ticks.min(cfg.calendar.ticks);
    let n = c.targets.targets.len();
    let mut sums = vec![0.0; n];
    // The distribution measures (Φ, the histogram) only where a target reads them.
    let lean = !summary::needs_distribution_every_tick(&c.targets.targets);
    for r in 0..c.replicates {
        cfg.seed = run_seed(c.abc.seed, cand.generation, cand.index, r);
        let mut rec = TableRecorder::new(&cfg, false);
        if lean {
            rec = rec.distribution_at_year_ends(&cfg);
        }
        run_with(&cfg, &mut rec, &Control::none()).ok()?;
        for (s, t) in sums.iter_mut().zip(&c.targets.targets) {
            *s += summary::evaluate(&cfg, &rec, t);
        }
    }
    Some(sums.into_iter().map(|s| s / c.replicates as f64).collect())
}

/// Runs (or resumes) a calibration and writes its outputs into `opts.out`.
pub fn run(c: &Calibration, opts: &Options) -> Result<Outcome, CalibrateError> {
    let fp = fingerprint(c);
    let id = identity(c);
    let dir = &opts.out;
    let mut resume = Vec::new();
    if opts.resume && dir.join(IDENTITY).is_file() {
        let have = std::fs::read_to_string(dir.join(IDENTITY)).unwrap_or_default();
        if !have.contains(&format!("\"identity\": \"{id}\"")) {
            return Err(CalibrateError::Conflict(format!(
                "{} holds a calibration of other inputs (the calibration file, its targets or its scenario changed); use another --out",
                dir.display()
            )));
        }
        let g = dir.join("generations.parquet");
        if g.is_file() {
            resume = read_generations(&output::read_parquet(&g)?, c)?;
        }
    } else {
        output::prepare_dir(dir, false)?;
        let identity = format!(
            "{{\n  \"calibration\": \"{}\",\n  \"identity\": \"{id}\",\n  \"xiezuo\": \"{}\"\n}}\n",
            c.name,
            env!("CARGO_PKG_VERSION")
        );
        output::write_text(dir, IDENTITY, &identity)?;
    }
    let priors: Vec<Prior> = c.parameters.iter().map(|p| p.prior).collect();
    let values: Vec<f64> = c.targets.targets.iter().map(|t| t.value).collect();
    let sigma: Vec<f64> = c.targets.targets.iter().map(|t| t.sigma).collect();
    let used: Vec<bool> = c.targets.targets.iter().map(|t| !t.holdout).collect();
    let sampler = Sampler::new(&priors, &c.abc, &values, &sigma, &used)
        .map_err(|e| CalibrateError::Abc(e.to_string()))?;
    let ticks = needed_ticks(c);
    let runs = std::sync::atomic::AtomicUsize::new(0);
    let mut eval = |cands: &[Candidate]| -> Vec<Option<Vec<f64>>> {
        cands
            .par_iter()
            .map(|cand| {
                let v = evaluate(c, cand, ticks);
                runs.fetch_add(c.replicates as usize, std::sync::atomic::Ordering::Relaxed);
                if let Some(f) = opts.tick {
                    f();
                }
                v
            })
            .collect()
    };
    let mut write_err: Option<CalibrateError> = None;
    let mut so_far: Vec<Generation> = resume.clone();
    let mut on_generation = |g: &Generation| {
        so_far.push(g.clone());
        if write_err.is_none() {
            if let Err(e) = write_generations(dir, c, &so_far) {
                write_err = Some(e);
            }
        }
        if let Some(f) = opts.progress {
            f(&GenerationDone {
                index: g.index,
                epsilon: g.epsilon,
                evaluations: g.evaluations,
                acceptance: g.acceptance(),
                ess: g.ess(),
                complete: g.complete,
            });
        }
    };
    let generations = sampler
        .run(resume, c.batch, &mut eval, &mut on_generation)
        .map_err(|e| CalibrateError::Abc(e.to_string()))?;
    if let Some(e) = write_err {
        return Err(e);
    }
    let last = generations
        .iter()
        .rev()
        .find(|g| g.complete)
        .or(generations.last())
        .ok_or_else(|| CalibrateError::Abc("no generation was produced".into()))?;
    let posterior = posterior_rows(c, last);
    let fit = fit_rows(c, last);
    let outcome = Outcome {
        generations: generations.clone(),
        posterior,
        fit,
        runs: runs.into_inner(),
        fingerprint: fp,
    };
    write_results(dir, c, &outcome)?;
    Ok(outcome)
}

fn posterior_rows(c: &Calibration, g: &Generation) -> Vec<PosteriorRow> {
    let priors: Vec<Prior> = c.parameters.iter().map(|p| p.prior).collect();
    let post = abc::posterior(g, &priors);
    let best = g
        .particles
        .iter()
        .min_by(|a, b| a.distance.total_cmp(&b.distance));
    c.parameters
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let (kind, low, high) = match p.prior {
                Prior::Uniform { low, high } => ("uniform", low, high),
                Prior::LogUniform { low, high } => ("log_uniform", low, high),
            };
            PosteriorRow {
                key: p.key.clone(),
                prior: kind.into(),
                low,
                high,
                mean: post.mean[j],
                sd: post.sd[j],
                q025: post.q025[j],
                q50: post.q50[j],
                q975: post.q975[j],
                sd_ratio: post.sd_ratio[j],
                best: best.map(|b| b.theta[j]).unwrap_or(f64::NAN),
            }
        })
        .collect()
}

fn fit_rows(c: &Calibration, g: &Generation) -> Vec<FitRow> {
    c.targets
        .targets
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let (low, model, high) = abc::predictive(g, k);
            FitRow {
                target: t.clone(),
                model,
                low,
                high,
            }
        })
        .collect()
}

fn param_col(key: &str) -> String {
    format!("param.{key}")
}

fn target_col(name: &str) -> String {
    format!("target.{name}")
}

/// Every particle of every generation, one row each.
fn generations_frame(c: &Calibration, gens: &[Generation]) -> PolarsResult<DataFrame> {
    let rows: Vec<(&Generation, usize, &Particle)> = gens
        .iter()
        .flat_map(|g| g.particles.iter().enumerate().map(move |(i, p)| (g, i, p)))
        .collect();
    let mut cols = vec![
        Column::new(
            "generation".into(),
            rows.iter().map(|r| r.0.index as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "epsilon".into(),
            rows.iter().map(|r| r.0.epsilon).collect::<Vec<_>>(),
        ),
        Column::new(
            "evaluations".into(),
            rows.iter()
                .map(|r| r.0.evaluations as u64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "failures".into(),
            rows.iter().map(|r| r.0.failures as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "complete".into(),
            rows.iter().map(|r| r.0.complete).collect::<Vec<_>>(),
        ),
        Column::new(
            "particle".into(),
            rows.iter().map(|r| r.1 as u32).collect::<Vec<_>>(),
        ),
        Column::new(
            "weight".into(),
            rows.iter().map(|r| r.2.weight).collect::<Vec<_>>(),
        ),
        Column::new(
            "distance".into(),
            rows.iter().map(|r| r.2.distance).collect::<Vec<_>>(),
        ),
    ];
    for (j, p) in c.parameters.iter().enumerate() {
        cols.push(Column::new(
            param_col(&p.key).into(),
            rows.iter().map(|r| r.2.theta[j]).collect::<Vec<_>>(),
        ));
    }
    for (k, t) in c.targets.targets.iter().enumerate() {
        cols.push(Column::new(
            target_col(&t.name).into(),
            rows.iter().map(|r| r.2.summaries[k]).collect::<Vec<_>>(),
        ));
    }
    DataFrame::new_infer_height(cols)
}

fn write_generations(
    dir: &Path,
    c: &Calibration,
    gens: &[Generation],
) -> Result<(), CalibrateError> {
    let mut df = generations_frame(c, gens).map_err(|e| OutputError::Table {
        path: dir.join("generations.parquet"),
        source: e,
    })?;
    output::write_frame(dir, "generations", &mut df, Format::Parquet)?;
    output::write_frame(dir, "generations", &mut df, Format::Csv)?;
    Ok(())
}

/// Rebuilds the generations stored by [`write_generations`] (exactly: Parquet keeps every
/// bit of the floats).
fn read_generations(df: &DataFrame, c: &Calibration) -> Result<Vec<Generation>, CalibrateError> {
    let bad = |what: String| {
        CalibrateError::Conflict(format!(
            "generations.parquet cannot be resumed ({what}); use another --out"
        ))
    };
    let u = |name: &str| -> Result<Vec<u64>, CalibrateError> {
        let col = df
            .column(name)
            .map_err(|e| bad(e.to_string()))?
            .cast(&DataType::UInt64)
            .map_err(|e| bad(e.to_string()))?;
        let ca = col.u64().map_err(|e| bad(e.to_string()))?;
        Ok((0..ca.len()).map(|i| ca.get(i).unwrap_or(0)).collect())
    };
    let f = |name: &str| -> Result<Vec<f64>, CalibrateError> {
        let col = df.column(name).map_err(|e| bad(e.to_string()))?;
        let ca = col.f64().map_err(|e| bad(e.to_string()))?;
        Ok((0..ca.len())
            .map(|i| ca.get(i).unwrap_or(f64::NAN))
            .collect())
    };
    let gen = u("generation")?;
    let eps = f("epsilon")?;
    let evals = u("evaluations")?;
    let fails = u("failures")?;
    let complete_col = df.column("complete").map_err(|e| bad(e.to_string()))?;
    let complete_ca = complete_col.bool().map_err(|e| bad(e.to_string()))?;
    let complete: Vec<bool> = (0..complete_ca.len())
        .map(|i| complete_ca.get(i).unwrap_or(false))
        .collect();
    let weight = f("weight")?;
    let dist = f("distance")?;
    let thetas: Vec<Vec<f64>> = c
        .parameters
        .iter()
        .map(|p| f(&param_col(&p.key)))
        .collect::<Result<_, _>>()?;
    let sums: Vec<Vec<f64>> = c
        .targets
        .targets
        .iter()
        .map(|t| f(&target_col(&t.name)))
        .collect::<Result<_, _>>()?;
    let mut out: Vec<Generation> = Vec::new();
    for i in 0..gen.len() {
        let g = gen[i] as usize;
        if out.last().map(|x| x.index) != Some(g) {
            out.push(Generation {
                index: g,
                epsilon: eps[i],
                particles: Vec::new(),
                evaluations: evals[i] as usize,
                failures: fails[i] as usize,
                complete: complete[i],
            });
        }
        if let Some(last) = out.last_mut() {
            last.particles.push(Particle {
                theta: thetas.iter().map(|v| v[i]).collect(),
                weight: weight[i],
                distance: dist[i],
                summaries: sums.iter().map(|v| v[i]).collect(),
            });
        }
    }
    Ok(out)
}

fn posterior_frame(rows: &[PosteriorRow], notes: &[&str]) -> PolarsResult<DataFrame> {
    let s = |f: &dyn Fn(&PosteriorRow) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let x = |f: &dyn Fn(&PosteriorRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    DataFrame::new_infer_height(vec![
        Column::new("parameter".into(), s(&|r| r.key.clone())),
        Column::new("prior".into(), s(&|r| r.prior.clone())),
        Column::new("low".into(), x(&|r| r.low)),
        Column::new("high".into(), x(&|r| r.high)),
        Column::new("mean".into(), x(&|r| r.mean)),
        Column::new("sd".into(), x(&|r| r.sd)),
        Column::new("q025".into(), x(&|r| r.q025)),
        Column::new("median".into(), x(&|r| r.q50)),
        Column::new("q975".into(), x(&|r| r.q975)),
        Column::new("sd_ratio".into(), x(&|r| r.sd_ratio)),
        Column::new(
            "constrained".into(),
            rows.iter().map(|r| r.constrained()).collect::<Vec<_>>(),
        ),
        Column::new("best".into(), x(&|r| r.best)),
        Column::new(
            "note".into(),
            notes.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
        ),
    ])
}

fn fit_frame(rows: &[FitRow]) -> PolarsResult<DataFrame> {
    let s = |f: &dyn Fn(&FitRow) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let x = |f: &dyn Fn(&FitRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    DataFrame::new_infer_height(vec![
        Column::new("target".into(), s(&|r| r.target.name.clone())),
        Column::new("table".into(), s(&|r| r.target.table.clone())),
        Column::new("measure".into(), s(&|r| r.target.measure.clone())),
        Column::new("region".into(), s(&|r| r.target.region.clone())),
        Column::new(
            "year".into(),
            rows.iter().map(|r| r.target.year).collect::<Vec<_>>(),
        ),
        Column::new(
            "holdout".into(),
            rows.iter().map(|r| r.target.holdout).collect::<Vec<_>>(),
        ),
        Column::new("official".into(), x(&|r| r.target.value)),
        Column::new("sigma".into(), x(&|r| r.target.sigma)),
        Column::new("model".into(), x(&|r| r.model)),
        Column::new("model_low".into(), x(&|r| r.low)),
        Column::new("model_high".into(), x(&|r| r.high)),
        Column::new("ratio".into(), x(&|r| r.ratio())),
        Column::new("z".into(), x(&|r| r.z())),
        Column::new(
            "acceptable".into(),
            rows.iter().map(|r| r.acceptable()).collect::<Vec<_>>(),
        ),
        Column::new("source".into(), s(&|r| r.target.source.clone())),
    ])
}

fn write_results(dir: &Path, c: &Calibration, o: &Outcome) -> Result<(), CalibrateError> {
    let table = |stem: &str, df: PolarsResult<DataFrame>| -> Result<(), CalibrateError> {
        let mut df = df.map_err(|e| OutputError::Table {
            path: dir.join(format!("{stem}.parquet")),
            source: e,
        })?;
        output::write_frame(dir, stem, &mut df, Format::Parquet)?;
        output::write_frame(dir, stem, &mut df, Format::Csv)?;
        Ok(())
    };
    let notes: Vec<&str> = c.parameters.iter().map(|p| p.note.as_str()).collect();
    table("posterior", posterior_frame(&o.posterior, &notes))?;
    table("fit", fit_frame(&o.fit))?;
    let set: String = o
        .posterior
        .iter()
        .map(|r| format!("{}={}\n", r.key, significant(r.q50, 4)))
        .collect();
    output::write_text(dir, "calibrated.set", &set)?;
    output::write_text(dir, "fit.md", &markdown(c, o))?;
    // The accepted sets alone (the posterior's generation), for `xiezuo claims --accepted`.
    if let Some(last) = o
        .generations
        .iter()
        .rev()
        .find(|g| g.complete)
        .or(o.generations.last())
    {
        let mut df =
            generations_frame(c, std::slice::from_ref(last)).map_err(|e| OutputError::Table {
                path: dir.join("accepted.csv"),
                source: e,
            })?;
        output::write_frame(dir, "accepted", &mut df, Format::Csv)?;
    }
    Ok(())
}

/// `x` rounded to `digits` significant digits (for the calibrated values a scenario file
/// carries: more digits than the posterior supports would be false precision).
pub fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let p = digits - 1 - x.abs().log10().floor() as i32;
    let f = 10f64.powi(p);
    (x * f).round() / f
}

fn num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let a = x.abs();
    if a >= 1e5 {
        format!("{:.3e}", x)
    } else if a >= 100.0 {
        format!("{:.0}", x)
    } else if a >= 1.0 {
        format!("{:.3}", x)
    } else {
        format!("{:.4}", x)
    }
}

/// The Markdown block `docs/CALIBRATION.md` carries for this calibration: the fingerprint of
/// its inputs, the run's size, the posterior and the fit table. Generated, not hand-edited.
pub fn markdown(c: &Calibration, o: &Outcome) -> String {
    let mut s = String::new();
    let last = o
        .generations
        .iter()
        .rev()
        .find(|g| g.complete)
        .or(o.generations.last());
    let evals: usize = o.generations.iter().map(|g| g.evaluations).sum();
    let _ = writeln!(s, "fingerprint: `{}`\n", o.fingerprint);
    let _ = writeln!(
        s,
        "Command: `xiezuo calibrate {} --out DIR`. Scenario `{}` at {} of its simulated households, {} replicate(s) per candidate; ABC-SMC population {}, {} generation(s), {} candidates evaluated{}.\n",
        c.file,
        c.scenario.display(),
        c.scale,
        c.replicates,
        c.abc.population,
        o.generations.len(),
        evals,
        last.map(|g| format!(
            "; final tolerance ε = {} (root mean square of the fitted targets' z-scores), ESS {:.0}",
            num(g.epsilon),
            g.ess()
        ))
        .unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "| parameter | prior | posterior median [95%] | sd ratio | constrained |\n| --- | --- | --- | --- | --- |"
    );
    for r in &o.posterior {
        let _ = writeln!(
            s,
            "| `{}` | {} [{}, {}] | {} [{}, {}] | {:.2} | {} |",
            r.key,
            r.prior,
            num(r.low),
            num(r.high),
            num(r.q50),
            num(r.q025),
            num(r.q975),
            r.sd_ratio,
            if r.constrained() { "yes" } else { "no" }
        );
    }
    let _ = writeln!(
        s,
        "\n| target | year | official (σ) | model median [95%] | ratio | z | ok |\n| --- | --- | --- | --- | --- | --- | --- |"
    );
    for r in &o.fit {
        let t = &r.target;
        let _ = writeln!(
            s,
            "| `{}`{} | {} | {} ({}) | {} [{}, {}] | {} | {:+.1} | {} |",
            t.name,
            if t.holdout { " (held out)" } else { "" },
            match &t.did {
                Some(d) => format!("{}→{} vs {}", d.base_year, t.year, d.control),
                None => t.year.to_string(),
            },
            num(t.value),
            num(t.sigma),
            num(r.model),
            num(r.low),
            num(r.high),
            if t.value == 0.0 {
                "–".to_string()
            } else {
                format!("{:.2}", r.ratio())
            },
            r.z(),
            if r.acceptable() { "yes" } else { "no" }
        );
    }
    s
}

/// Puts `block` into the Markdown file `path` between the lines
/// `<!-- calibration:NAME -->` and `<!-- /calibration:NAME -->` (appended, with its markers,
/// when they are missing; the file is created when it does not exist).
pub fn update_doc(path: &Path, name: &str, block: &str) -> Result<(), CalibrateError> {
    let open = format!("<!-- calibration:{name} -->");
    let close = format!("<!-- /calibration:{name} -->");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (text.find(&open), text.find(&close)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{open}\n{block}{}", &text[..a], &text[b..])
        }
        _ => format!(
            "{text}{}{open}\n{block}{close}\n",
            if text.is_empty() || text.ends_with("\n\n") {
                ""
            } else {
                "\n"
            }
        ),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "CALIBRATION.md".into());
    output::write_text(dir, &name, &new)?;
    Ok(())
}

/// The fingerprint recorded in `text` (a Markdown file) for calibration `name`, if any.
pub fn recorded_fingerprint(text: &str, name: &str) -> Option<String> {
    let open = format!("<!-- calibration:{name} -->");
    let a = text.find(&open)?;
    let rest = &text[a + open.len()..];
    let f = rest.find("fingerprint: `")?;
    let v = &rest[f + "fingerprint: `".len()..];
    Some(v[..v.find('`')?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(edit: &dyn Fn(&str) -> String) -> Calibration {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("calibration");
        let file = root.join("china_2021_pairings.toml");
        let text = std::fs::read_to_string(&file).expect("calibration file");
        Calibration::from_str("china_2021_pairings.toml", &edit(&text), Some(&root))
            .expect("valid calibration")
    }

    #[test]
    fn the_fingerprint_follows_what_decides_the_numbers_not_the_prose() {
        let base = shipped(&|t| t.to_string());
        let prose = shipped(&|t| {
            format!(
                "# another comment\n{}",
                t.replace("note = \"", "note = \"reworded: ")
            )
        });
        assert_eq!(fingerprint(&base), fingerprint(&prose));
        let seed = shipped(&|t| t.replace("seed = 2021", "seed = 2022"));
        assert_ne!(fingerprint(&base), fingerprint(&seed));
        let bound = shipped(&|t| t.replace("high = 0.5\n", "high = 0.6\n"));
        assert_ne!(fingerprint(&base), fingerprint(&bound));
        // The stopping rules belong to the fingerprint but not to the identity, so that a
        // finished calibration can be resumed with more generations.
        let longer = shipped(&|t| {
            t.lines()
                .map(|l| match l.strip_prefix("generations = ") {
                    Some(n) => format!("generations = {}", n.trim().parse::<u32>().unwrap() + 2),
                    None => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
        assert_ne!(fingerprint(&base), fingerprint(&longer));
        assert_eq!(identity(&base), identity(&longer));
    }

    #[test]
    fn year_end_distribution_changes_no_target_value() {
        let c = shipped(&|t| t.to_string());
        // The shipped targets read no distribution measure over a year: runs skip them.
        assert!(!summary::needs_distribution_every_tick(&c.targets.targets));
        let mut year_mean = c.targets.targets.clone();
        year_mean[0].table = "metrics".into();
        year_mean[0].measure = "gini".into();
        year_mean[0].aggregate = "year_mean".into();
        assert!(summary::needs_distribution_every_tick(&year_mean));
        // A small run: every target (and a year-end Gini) is the same with the lean recorder.
        let mut set = c.set.clone();
        set.extend(spec::downscale(&c.base, 0.02));
        let mut cfg = scenario::load(&c.scenario, &set).expect("loads").config;
        cfg.calendar.ticks = needed_ticks(&c);
        let mut full = TableRecorder::new(&cfg, false);
        run_with(&cfg, &mut full, &Control::none()).expect("runs");
        let mut lean = TableRecorder::new(&cfg, false).distribution_at_year_ends(&cfg);
        run_with(&cfg, &mut lean, &Control::none()).expect("runs");
        let mut targets = c.targets.targets.clone();
        let mut gini = targets[0].clone();
        gini.table = "metrics".into();
        gini.measure = "gini".into();
        gini.region = "WEST".into();
        gini.aggregate = "year_end".into();
        targets.push(gini);
        for t in &targets {
            let (a, b) = (
                summary::evaluate(&cfg, &full, t),
                summary::evaluate(&cfg, &lean, t),
            );
            assert!(a.to_bits() == b.to_bits(), "{}: {a} vs {b}", t.name);
        }
        assert!(summary::evaluate(&cfg, &lean, targets.last().unwrap()) > 0.0);
    }

    #[test]
    fn markdown_blocks_are_replaced_in_place_and_read_back() {
        let tmp = std::env::temp_dir().join(format!("xiezuo-doc-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).expect("dir");
        let f = tmp.join("CAL.md");
        std::fs::write(
            &f,
            "# Title\n\n<!-- calibration:a -->\nold\n<!-- /calibration:a -->\ntail\n",
        )
        .expect("write");
        update_doc(&f, "a", "fingerprint: `0123`\nnew\n").expect("update");
        update_doc(&f, "b", "fingerprint: `4567`\n").expect("append");
        let text = std::fs::read_to_string(&f).expect("read");
        assert!(text.starts_with("# Title\n\n<!-- calibration:a -->\nfingerprint: `0123`\nnew\n<!-- /calibration:a -->\ntail\n"), "{text}");
        assert!(!text.contains("old"));
        assert_eq!(recorded_fingerprint(&text, "a").as_deref(), Some("0123"));
        assert_eq!(recorded_fingerprint(&text, "b").as_deref(), Some("4567"));
        assert_eq!(recorded_fingerprint(&text, "c"), None);
        let _ = std::fs::remove_dir_all(&tmp);
    }

    #[test]
    fn significant_digits() {
        assert_eq!(significant(0.486_04, 3), 0.486);
        assert_eq!(significant(110.37, 2), 110.0);
        assert_eq!(significant(-0.001_234_5, 2), -0.0012);
        assert_eq!(significant(0.0, 4), 0.0);
    }
}
