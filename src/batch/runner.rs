//! Running a batch: the run list on disk, runs in parallel with outputs written as each
//! finishes (so memory is bounded by the runs in flight), failures recorded, resume,
//! extension, shards, merging and summaries across replicates.
//!
//! Layout of a batch directory:
//! - `batch.json` — the batch's [`Fingerprint`]: what makes two invocations the same batch
//!   (name, master seed, program version, horizon cap, kept outputs, swept keys, the
//!   resolved scenarios) and the run list (count and hash of the run keys);
//! - `runs.parquet` — the run list: run_id, run_key, scenario, point, replicate, seed, swept
//!   values;
//! - `parts/<table>/part-<run_key>.parquet` — one file per run and kept table, written under
//!   a temporary name and renamed, each row carrying run_key, scenario, replicate and the
//!   swept values (so `pl.read_parquet("DIR/parts/metrics/*.parquet")` reads them all);
//! - `failed/run-<run_key>.txt` — the error of a run that failed;
//! - after `merge`: `<table>.parquet` — all parts in run order, one file per table, each row
//!   carrying run_id, scenario, point, replicate and the swept values.
//!
//! Run keys and seeds derive from what a run is (scenario label, swept values, replicate),
//! never from its position, so a batch file that adds replicates, grid values, list entries,
//! Sobol samples or scenarios *extends* the batch: `--resume` runs only the new runs, and the
//! merged tables equal those of the extended file run from scratch.

use std::collections::BTreeSet;
use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::batch::experiment::{fnv1a, value_text, Experiment, Keep, RunSpec, TABLES};
use crate::batch::keep;
use crate::output::{self, read_parquet, Format, OutputError, TableRecorder};

/// Errors of the batch layer (a failed run is not one: it is recorded and the batch goes on).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The directory holds another batch, or shards of different batches were to be merged.
    #[error("{0}")]
    Conflict(String),
    /// Merging found missing or duplicated runs.
    #[error("{0}")]
    Incomplete(String),
    /// Writing or reading failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A sensitivity analysis cannot be computed (what is missing and how to fix it).
    #[error("{0}")]
    Analysis(String),
}

fn table_err(path: &Path) -> impl Fn(PolarsError) -> OutputError + '_ {
    move |e| OutputError::Table {
        path: path.to_path_buf(),
        source: e,
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> OutputError + '_ {
    move |e| OutputError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Options of `xiezuo batch`.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Batch directory.
    pub out: PathBuf,
    /// Runs in parallel (default: all cores).
    pub jobs: Option<usize>,
    /// Continue a batch in a directory that already holds some of its runs (or an earlier
    /// version of it that this batch file extends).
    pub resume: bool,
    /// `(k, n)`: run only runs with `run_id % n == k`.
    pub shard: Option<(u32, u32)>,
    /// Batch text (its hash is recorded in `batch.json`, for information only).
    pub text: String,
}

/// What a batch invocation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Runs in the whole batch.
    pub total: usize,
    /// Runs in this invocation's shard.
    pub selected: usize,
    /// Runs found already done (resume).
    pub skipped: usize,
    /// Runs completed now.
    pub done: usize,
    /// Runs failed now.
    pub failed: usize,
    /// Runs of the earlier version of the batch, when this invocation extended it.
    pub extended_from: Option<usize>,
}

/// Version of the layout of batch directories; 2 since run keys and seeds derive from
/// content (format 1 derived them from positions in the run list).
pub const FORMAT: u32 = 2;

/// A swept key as fingerprinted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweptKey {
    /// Scenario key.
    pub key: String,
    /// Sampled values rounded to integers.
    pub integer: bool,
}

/// A scenario as fingerprinted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioPrint {
    /// Label.
    pub label: String,
    /// Fingerprint of its resolved document.
    pub resolved: String,
}

/// The content of `batch.json`. Two batch files are *the same batch* when every field but
/// `file_hash` is equal; the second *extends* the first when `format`, `batch`, `version`,
/// `seed`, `years`, `output`, `method` and `swept` are equal, every scenario of the first is
/// in the second with the same `resolved` fingerprint, and every run of the first (by run
/// key) is a run of the second; anything else is *a different batch*.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// Batch name.
    pub batch: String,
    /// Program version (model numbers may change between versions).
    pub version: String,
    /// Master seed.
    pub seed: u64,
    /// Horizon cap in years.
    pub years: Option<u32>,
    /// Kept outputs.
    pub output: Keep,
    /// Sweep method.
    pub method: String,
    /// Swept keys, in order.
    pub swept: Vec<SweptKey>,
    /// Scenarios, in order.
    pub scenarios: Vec<ScenarioPrint>,
    /// Number of runs.
    pub runs: usize,
    /// FNV-1a 64 of the run keys in run-list order.
    pub run_list: String,
    /// FNV-1a 64 of the batch file's text (information only: comments and layout do not
    /// make another batch).
    pub file_hash: String,
}

fn run_list_hash<'a>(keys: impl Iterator<Item = &'a str>) -> String {
    let mut bytes = Vec::new();
    for k in keys {
        bytes.extend_from_slice(k.as_bytes());
        bytes.push(b'\n');
    }
    format!("{:016x}", fnv1a(&bytes))
}

/// How a batch directory's batch relates to the one about to run or merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// The same batch.
    Same,
    /// The new batch extends the existing one (adds runs, keeps every existing run).
    Extends,
    /// A different batch; the reason names what differs.
    Different(String),
}

impl Fingerprint {
    /// The fingerprint of `exp` with run list `runs` (`text`: the batch file's text).
    pub fn of(exp: &Experiment, text: &str, runs: &[RunSpec]) -> Fingerprint {
        Fingerprint {
            format: FORMAT,
            batch: exp.name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            seed: exp.seed,
            years: exp.years,
            output: exp.keep.clone(),
            method: format!("{:?}", exp.method).to_lowercase(),
            swept: exp
                .params
                .iter()
                .map(|p| SweptKey {
                    key: p.key.clone(),
                    integer: p.integer,
                })
                .collect(),
            scenarios: exp
                .scenarios
                .iter()
                .map(|s| ScenarioPrint {
                    label: s.label.clone(),
                    resolved: s.resolved.clone(),
                })
                .collect(),
            runs: runs.len(),
            run_list: run_list_hash(
                runs.iter()
                    .map(|r| r.key_hex())
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
            ),
            file_hash: format!("{:016x}", fnv1a(text.as_bytes())),
        }
    }

    /// `batch.json` text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Reads `batch.json` of `dir`; the error says why it cannot be used.
    pub fn read(dir: &Path) -> Result<Fingerprint, String> {
        let p = dir.join("batch.json");
        let text = fs::read_to_string(&p).map_err(|e| {
            format!(
                "{} cannot be read ({e}): not a batch directory",
                p.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|_| {
            format!(
                "{} was written by an earlier version of xiezuo (batch format 1, whose run ids and seeds came from positions in the run list) or is damaged",
                p.display()
            )
        })
    }

    /// The first field (other than the run list) in which `self` (existing) and `new`
    /// differ so that `new` cannot extend `self`, as a sentence; `None` when none does.
    pub fn identity_difference(&self, new: &Fingerprint) -> Option<String> {
        let d = |what: &str, a: String, b: String| {
            Some(format!("{what}: {a} in batch.json, {b} in the batch file"))
        };
        if self.format != new.format {
            return d(
                "batch format",
                self.format.to_string(),
                new.format.to_string(),
            );
        }
        if self.version != new.version {
            return d("xiezuo version", self.version.clone(), new.version.clone());
        }
        if self.batch != new.batch {
            return d(
                "batch name",
                format!("`{}`", self.batch),
                format!("`{}`", new.batch),
            );
        }
        if self.seed != new.seed {
            return d("master seed", self.seed.to_string(), new.seed.to_string());
        }
        if self.years != new.years {
            let y = |y: Option<u32>| y.map_or("none".to_string(), |y| y.to_string());
            return d("horizon cap `years`", y(self.years), y(new.years));
        }
        if self.output != new.output {
            return d(
                "kept outputs [output]",
                format!("{:?}", self.output),
                format!("{:?}", new.output),
            );
        }
        if self.method != new.method {
            return d("sweep method", self.method.clone(), new.method.clone());
        }
        if self.swept != new.swept {
            let keys = |s: &[SweptKey]| {
                s.iter()
                    .map(|k| format!("{}{}", k.key, if k.integer { " (integer)" } else { "" }))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return d("swept keys", keys(&self.swept), keys(&new.swept));
        }
        for s in &self.scenarios {
            match new.scenarios.iter().find(|n| n.label == s.label) {
                None => {
                    return Some(format!(
                        "scenario `{}` is in batch.json but not in the batch file",
                        s.label
                    ))
                }
                Some(n) if n.resolved != s.resolved => {
                    return Some(format!(
                        "scenario `{}` resolves differently (its file, built-in, `set` overrides or a file it extends changed)",
                        s.label
                    ))
                }
                _ => {}
            }
        }
        None
    }

    /// How `new` relates to `self`, the fingerprint found in `dir` (whose `runs.parquet`
    /// lists the existing runs).
    pub fn relation(&self, new: &Fingerprint, dir: &Path, new_keys: &BTreeSet<String>) -> Relation {
        if let Some(why) = self.identity_difference(new) {
            return Relation::Different(why);
        }
        let same_scenarios = self.scenarios == new.scenarios;
        if same_scenarios && self.runs == new.runs && self.run_list == new.run_list {
            return Relation::Same;
        }
        let old = match run_keys(dir) {
            Ok(k) => k,
            Err(e) => {
                return Relation::Different(format!("the existing run list cannot be read: {e}"))
            }
        };
        let on_disk = run_list_hash(old.iter().map(String::as_str));
        if on_disk == new.run_list {
            // Another shard of the extended batch has just written its run list.
            return Relation::Extends;
        }
        if on_disk != self.run_list {
            return Relation::Different(format!(
                "{} does not match its batch.json",
                dir.join("runs.parquet").display()
            ));
        }
        let missing = old.iter().filter(|k| !new_keys.contains(*k)).count();
        if missing > 0 {
            return Relation::Different(format!(
                "{missing} of the {} existing runs are not runs of the batch file (fewer replicates, scenarios or sweep values, other lhs/sobol bounds or a new lhs sample); a batch can only be extended",
                old.len()
            ));
        }
        Relation::Extends
    }
}

/// Run keys of `dir/runs.parquet`, in run-list order.
fn run_keys(dir: &Path) -> Result<Vec<String>, OutputError> {
    let p = dir.join("runs.parquet");
    let df = read_parquet(&p)?;
    Ok(df
        .column("run_key")
        .and_then(|c| c.str().cloned())
        .map_err(table_err(&p))?
        .iter()
        .map(|k| k.unwrap_or("").to_string())
        .collect())
}

/// Name of the column holding a swept key's value.
pub fn param_column(key: &str) -> String {
    format!("param.{key}")
}

fn run_list_frame(exp: &Experiment, runs: &[RunSpec]) -> PolarsResult<DataFrame> {
    let mut cols = vec![
        Column::new(
            "run_id".into(),
            runs.iter().map(|r| r.run_id).collect::<Vec<u32>>(),
        ),
        Column::new(
            "run_key".into(),
            runs.iter().map(|r| r.key_hex()).collect::<Vec<String>>(),
        ),
        Column::new(
            "scenario".into(),
            runs.iter()
                .map(|r| exp.scenarios[r.scenario].label.clone())
                .collect::<Vec<String>>(),
        ),
        Column::new(
            "point".into(),
            runs.iter().map(|r| r.point as u32).collect::<Vec<u32>>(),
        ),
        Column::new(
            "replicate".into(),
            runs.iter().map(|r| r.replicate).collect::<Vec<u32>>(),
        ),
        Column::new(
            "seed".into(),
            runs.iter().map(|r| r.seed).collect::<Vec<u64>>(),
        ),
    ];
    for (j, p) in exp.params.iter().enumerate() {
        cols.push(param_values(
            &param_column(&p.key),
            runs.iter().map(|r| &exp.points[r.point][j]),
        ));
    }
    DataFrame::new_infer_height(cols)
}

/// A column of swept values: f64 when every value is numeric, text otherwise.
fn param_values<'a>(name: &str, values: impl Iterator<Item = &'a toml::Value> + Clone) -> Column {
    let numeric: Option<Vec<f64>> = values
        .clone()
        .map(|v| match v {
            toml::Value::Float(f) => Some(*f),
            toml::Value::Integer(i) => Some(*i as f64),
            _ => None,
        })
        .collect();
    match numeric {
        Some(v) => Column::new(name.into(), v),
        None => Column::new(name.into(), values.map(value_text).collect::<Vec<String>>()),
    }
}

fn part_path(out: &Path, table: &str, key: &str) -> PathBuf {
    out.join("parts")
        .join(table)
        .join(format!("part-{key}.parquet"))
}

fn failed_path(out: &Path, key: &str) -> PathBuf {
    out.join("failed").join(format!("run-{key}.txt"))
}

/// Whether a run has left a complete result (all kept tables) or a failure record.
fn finished(tables: &[String], out: &Path, key: &str) -> bool {
    failed_path(out, key).exists() || tables.iter().all(|t| part_path(out, t, key).exists())
}

/// Hooks of a batch run in-process (the Python module): a report after every finished run,
/// and a cancel flag that stops taking new runs (runs in flight finish; `resume` continues
/// the batch later).
#[derive(Default)]
pub struct BatchControl<'a> {
    /// Called with (runs finished or failed in this invocation, runs it has to do).
    pub progress: Option<&'a (dyn Fn(usize, usize) + Sync)>,
    /// Once set, no further run starts.
    pub cancel: Option<&'a AtomicBool>,
}

/// Runs (the selected part of) a batch.
pub fn run_batch(exp: &Experiment, opts: &BatchOptions) -> Result<BatchReport, BatchError> {
    run_batch_with(exp, opts, &BatchControl::default())
}

/// [`run_batch`] with progress reports and cancellation.
pub fn run_batch_with(
    exp: &Experiment,
    opts: &BatchOptions,
    ctl: &BatchControl,
) -> Result<BatchReport, BatchError> {
    let out = &opts.out;
    let runs = exp.runs();
    let print = Fingerprint::of(exp, &opts.text, &runs);
    // Entries a batch directory may hold before its batch.json appears: a concurrent shard
    // may be creating the layout right now.
    let ours = |name: &str| {
        name.starts_with('.') || ["parts", "failed", "runs.parquet", "batch.json"].contains(&name)
    };
    let entries: Vec<String> = match fs::read_dir(out) {
        Ok(d) => d
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect(),
        Err(_) => Vec::new(),
    };
    let mut extended_from = None;
    if !entries.is_empty() {
        if !out.join("batch.json").exists() {
            if !(opts.shard.is_some() && entries.iter().all(|e| ours(e))) {
                return Err(BatchError::Conflict(format!(
                    "{} exists, is not empty and is not a batch directory; choose another --out",
                    out.display()
                )));
            }
        } else {
            let existing = Fingerprint::read(out)
                .map_err(|why| BatchError::Conflict(format!("{why}; choose another --out")))?;
            let keys: BTreeSet<String> = runs.iter().map(|r| r.key_hex()).collect();
            match existing.relation(&print, out, &keys) {
                Relation::Same => {
                    if !opts.resume && opts.shard.is_none() {
                        return Err(BatchError::Conflict(format!(
                            "{} already holds this batch; pass --resume to finish its missing runs",
                            out.display()
                        )));
                    }
                }
                Relation::Extends => {
                    if !opts.resume && opts.shard.is_none() {
                        return Err(BatchError::Conflict(format!(
                            "{} holds a batch of {} runs that this batch file extends to {}; pass --resume to run only the new runs",
                            out.display(),
                            existing.runs,
                            print.runs
                        )));
                    }
                    extended_from = Some(existing.runs);
                }
                Relation::Different(why) => {
                    return Err(BatchError::Conflict(format!(
                        "{} holds a different batch ({why}); choose another --out",
                        out.display()
                    )))
                }
            }
        }
    }
    for dir in exp
        .keep
        .tables
        .iter()
        .map(|t| out.join("parts").join(t))
        .chain([out.join("failed")])
    {
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    }
    if extended_from.is_some() {
        // Merged tables and summaries of the earlier version are stale now.
        for name in TABLES.iter().copied().chain(["summary"]) {
            let p = out.join(format!("{name}.parquet"));
            match fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_err(&p)(e).into())
                }
                _ => {}
            }
        }
    }
    let mut list = run_list_frame(exp, &runs).map_err(table_err(out))?;
    output::write_frame(out, "runs", &mut list, Format::Parquet)?;
    output::write_text(out, "batch.json", &print.to_json())?;

    let selected: Vec<&RunSpec> = runs
        .iter()
        .filter(|r| opts.shard.is_none_or(|(k, n)| r.run_id % n == k))
        .collect();
    let todo: Vec<&RunSpec> = selected
        .iter()
        .copied()
        .filter(|r| !finished(&exp.keep.tables, out, &r.key_hex()))
        .collect();
    let mut report = BatchReport {
        total: runs.len(),
        selected: selected.len(),
        skipped: selected.len() - todo.len(),
        extended_from,
        ..BatchReport::default()
    };
    let progress = Progress::new(todo.len());
    let done = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let first_error: Mutex<Option<OutputError>> = Mutex::new(None);
    // `jobs` worker threads pull runs from a shared counter; each runs its runs one at a
    // time inside its own one-thread rayon pool, so a run's inner parallel loops never
    // steal another run (no unbounded nesting, at most `jobs` runs in memory).
    let jobs = opts
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(todo.len().max(1)) {
            scope.spawn(|| {
                let pool = match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
                    Ok(p) => p,
                    Err(e) => {
                        if let Ok(mut g) = first_error.lock() {
                            g.get_or_insert(OutputError::Io {
                                path: out.clone(),
                                source: std::io::Error::other(e.to_string()),
                            });
                        }
                        return;
                    }
                };
                loop {
                    if ctl.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                        break;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(run) = todo.get(i) else { break };
                    match pool.install(|| execute_run(exp, run, out)) {
                        Ok(None) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Some(_)) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut g) = first_error.lock() {
                                g.get_or_insert(e);
                            }
                        }
                    }
                    let (d, f) = (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
                    progress.tick(d, f);
                    if let Some(report) = ctl.progress {
                        report(d + f, todo.len());
                    }
                }
            });
        }
    });
    progress.finish(done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e.into());
    }
    report.done = done.into_inner();
    report.failed = failed.into_inner();
    Ok(report)
}

/// Records a failed run under `failed/` and returns its message.
fn record_failure(
    exp: &Experiment,
    run: &RunSpec,
    out: &Path,
    why: &str,
) -> Result<Option<String>, OutputError> {
    let msg = format!(
        "run {} (key {}, scenario `{}`, point {}{}, replicate {}): {why}\n",
        run.run_id,
        run.key_hex(),
        exp.scenarios[run.scenario].label,
        run.point,
        if exp.params.is_empty() {
            String::new()
        } else {
            format!(" [{}]", exp.overrides(&exp.points[run.point]).join(", "))
        },
        run.replicate
    );
    let p = failed_path(out, &run.key_hex());
    output::write_text(
        p.parent().expect("has parent"),
        p.file_name().and_then(|f| f.to_str()).expect("utf-8"),
        &msg,
    )?;
    Ok(Some(msg))
}

/// Runs one batch run; returns `Ok(Some(message))` if the run failed (recorded on disk):
/// its configuration did not load (the batch checks every point before running, so this
/// happens only if a scenario file changed meanwhile) or the run panicked.
fn execute_run(exp: &Experiment, run: &RunSpec, out: &Path) -> Result<Option<String>, OutputError> {
    let loaded = match exp.configure(run) {
        Ok(l) => l,
        Err(e) => return record_failure(exp, run, out, &e.to_string()),
    };
    let cfg = &loaded.config;
    let panel = exp.keep.tables.iter().any(|t| t == "households");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut rec = TableRecorder::new(cfg, panel);
        if exp.keep.yearly {
            rec = rec.distribution_at_year_ends(cfg);
        }
        crate::model::run::run(cfg, &mut rec);
        keep::select(cfg, &rec, &exp.keep)
    }));
    let rec = match result {
        Ok(rec) => rec,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            return record_failure(exp, run, out, &format!("the run panicked: {what}"));
        }
    };
    let key = run.key_hex();
    for table in &exp.keep.tables {
        let df = match table.as_str() {
            "metrics" => output::metrics_frame(cfg, &rec.metrics),
            "flows" => output::flows_frame(cfg, &rec.flows),
            "households" => output::panel_frame(cfg, &rec.panel_rows),
            _ => output::links_frame(cfg, &rec.links),
        };
        let path = part_path(out, table, &key);
        let mut df = df.map_err(table_err(&path))?;
        add_run_columns(&mut df, exp, run).map_err(table_err(&path))?;
        output::write_frame(
            path.parent().expect("has parent"),
            &format!("part-{key}"),
            &mut df,
            Format::Parquet,
        )?;
    }
    Ok(None)
}

/// Columns that say which run a part's rows belong to, all derived from the run's content
/// (so a part stays valid when the batch is extended): run_key, scenario, replicate and the
/// swept values. `merge` adds run_id and point, positions in the final run list.
fn add_run_columns(df: &mut DataFrame, exp: &Experiment, run: &RunSpec) -> PolarsResult<()> {
    let n = df.height();
    df.with_column(Column::new("run_key".into(), vec![run.key_hex(); n]))?;
    df.with_column(Column::new(
        "scenario".into(),
        vec![exp.scenarios[run.scenario].label.clone(); n],
    ))?;
    df.with_column(Column::new("replicate".into(), vec![run.replicate; n]))?;
    for (j, p) in exp.params.iter().enumerate() {
        let v = &exp.points[run.point][j];
        df.with_column(param_values(
            &param_column(&p.key),
            std::iter::repeat_n(v, n),
        ))?;
    }
    Ok(())
}

/// Progress: an indicatif bar on a terminal, plain log lines every 10 s otherwise.
struct Progress {
    total: usize,
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    last: Mutex<Instant>,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} runs  {msg}  {per_sec}  ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Progress {
            total,
            bar,
            start: Instant::now(),
            last: Mutex::new(Instant::now()),
        }
    }

    fn tick(&self, done: usize, failed: usize) {
        match &self.bar {
            Some(b) => {
                b.set_position((done + failed) as u64);
                b.set_message(format!("{failed} failed"));
            }
            None => {
                if let Ok(mut last) = self.last.lock() {
                    if last.elapsed() >= Duration::from_secs(10) {
                        *last = Instant::now();
                        eprintln!("{}", self.line(done, failed));
                    }
                }
            }
        }
    }

    fn line(&self, done: usize, failed: usize) -> String {
        let t = self.start.elapsed().as_secs_f64();
        let n = done + failed;
        let rate = if t > 0.0 { n as f64 / t } else { 0.0 };
        let eta = if rate > 0.0 {
            (self.total - n) as f64 / rate
        } else {
            f64::NAN
        };
        format!(
            "batch: {n}/{} runs ({failed} failed), {rate:.2} runs/s, ETA {eta:.0} s",
            self.total
        )
    }

    fn finish(&self, done: usize, failed: usize) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        eprintln!("{}", self.line(done, failed));
    }
}

/// Merges a batch directory (and optionally shard directories into it): checks that every
/// shard holds the same batch (its `batch.json`, or an earlier version that the batch
/// extends), that every run of `runs.parquet` is present exactly once (as a result or a
/// recorded failure), and writes one `<table>.parquet` per kept table with all runs in run
/// order.
pub fn merge(out: &Path, shards: &[PathBuf]) -> Result<(usize, usize), BatchError> {
    let print = Fingerprint::read(out).map_err(BatchError::Conflict)?;
    let runs_path = out.join("runs.parquet");
    let runs = read_parquet(&runs_path)?;
    let e = table_err(&runs_path);
    let ids: Vec<u32> = runs
        .column("run_id")
        .and_then(|c| c.u32().cloned())
        .map_err(&e)?
        .iter()
        .map(|x| x.unwrap_or(0))
        .collect();
    let points: Vec<u32> = runs
        .column("point")
        .and_then(|c| c.u32().cloned())
        .map_err(&e)?
        .iter()
        .map(|x| x.unwrap_or(0))
        .collect();
    let keys = run_keys(out)?;
    if run_list_hash(keys.iter().map(String::as_str)) != print.run_list {
        return Err(BatchError::Conflict(format!(
            "{} does not match {} (run the batch again with --resume to rewrite it)",
            runs_path.display(),
            out.join("batch.json").display()
        )));
    }
    // Every shard must hold this batch (or an earlier version it extends) before anything
    // is copied.
    let key_set: BTreeSet<String> = keys.iter().cloned().collect();
    for s in shards {
        let theirs = Fingerprint::read(s)
            .map_err(|why| BatchError::Conflict(format!("shard {}: {why}", s.display())))?;
        match theirs.relation(&print, s, &key_set) {
            Relation::Same | Relation::Extends => {}
            Relation::Different(why) => {
                return Err(BatchError::Conflict(format!(
                    "shard {} holds a different batch than {} ({}); nothing was merged",
                    s.display(),
                    out.display(),
                    why.replace("in batch.json", "in the shard")
                        .replace("in the batch file", "in the batch directory")
                )))
            }
        }
    }
    // Bring shard directories' parts into the batch directory, refusing duplicates.
    for s in shards {
        for sub in ["parts", "failed"] {
            let src = s.join(sub);
            if !src.exists() {
                continue;
            }
            for entry in walk(&src)? {
                let rel = entry
                    .strip_prefix(s)
                    .map_err(|_| BatchError::Incomplete(format!("bad path {}", entry.display())))?;
                let dst = out.join(rel);
                if dst.exists() {
                    if fs::read(&dst).map_err(io_err(&dst))?
                        != fs::read(&entry).map_err(io_err(&entry))?
                    {
                        return Err(BatchError::Incomplete(format!(
                            "{} is present twice with different contents ({} and {})",
                            rel.display(),
                            dst.display(),
                            entry.display()
                        )));
                    }
                    continue;
                }
                let parent = dst.parent().expect("has parent");
                fs::create_dir_all(parent).map_err(io_err(parent))?;
                fs::copy(&entry, &dst).map_err(io_err(&dst))?;
            }
        }
    }
    let tables = &print.output.tables;
    let mut missing = Vec::new();
    let mut both = Vec::new();
    let mut failed = 0;
    for (id, key) in ids.iter().zip(&keys) {
        let f = failed_path(out, key).exists();
        let ok = tables.iter().all(|t| part_path(out, t, key).exists());
        match (ok, f) {
            (true, true) => both.push(*id),
            (false, false) => missing.push(*id),
            (false, true) => failed += 1,
            _ => {}
        }
    }
    if !missing.is_empty() || !both.is_empty() {
        return Err(BatchError::Incomplete(format!(
            "{} runs missing{}{}",
            missing.len(),
            if missing.is_empty() {
                String::new()
            } else {
                format!(" (run ids {})", short_list(&missing))
            },
            if both.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} runs both succeeded and failed (ids {})",
                    both.len(),
                    short_list(&both)
                )
            }
        )));
    }
    for t in tables {
        let mut merged: Option<DataFrame> = None;
        for ((&id, key), &point) in ids.iter().zip(&keys).zip(&points) {
            let p = part_path(out, t, key);
            if !p.exists() {
                continue;
            }
            let df = with_positions(read_parquet(&p)?, id, point).map_err(table_err(&p))?;
            match &mut merged {
                None => merged = Some(df),
                Some(m) => {
                    m.vstack_mut(&df).map_err(table_err(&p))?;
                }
            }
        }
        if let Some(mut m) = merged {
            m.rechunk_mut();
            output::write_frame(out, t, &mut m, Format::Parquet)?;
        }
    }
    Ok((ids.len() - failed, failed))
}

/// A part's rows with `run_key` replaced by the run's `run_id` and `point` inserted after
/// `scenario` (both positions in the batch's final run list).
fn with_positions(df: DataFrame, run_id: u32, point: u32) -> PolarsResult<DataFrame> {
    let n = df.height();
    let mut cols = Vec::with_capacity(df.width() + 1);
    for c in df.columns() {
        match c.name().as_str() {
            "run_key" => cols.push(Column::new("run_id".into(), vec![run_id; n])),
            "scenario" => {
                cols.push(c.clone());
                cols.push(Column::new("point".into(), vec![point; n]));
            }
            _ => cols.push(c.clone()),
        }
    }
    DataFrame::new(n, cols)
}

fn short_list(ids: &[u32]) -> String {
    let mut s: Vec<String> = ids.iter().take(10).map(|i| i.to_string()).collect();
    if ids.len() > 10 {
        s.push("…".into());
    }
    s.join(", ")
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, OutputError> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(io_err(dir))? {
        let p = e.map_err(io_err(dir))?.path();
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else if !p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Summarises a merged batch: mean, 95% CI half-width and count across replicates of every
/// numeric measure, per scenario, point, tick and region; written as `summary.parquet`
/// (long format: one row per scenario, point, tick, region and measure, with the point's
/// swept values and the tick's date; groups in sorted key order).
pub fn summarize(out: &Path) -> Result<PathBuf, BatchError> {
    let path = out.join("metrics.parquet");
    if !path.exists() {
        return Err(BatchError::Incomplete(format!(
            "{} not found: run `xiezuo merge {}` first (the batch must keep the metrics table)",
            path.display(),
            out.display()
        )));
    }
    let df = read_parquet(&path)?;
    let e = table_err(&path);
    let scen = df
        .column("scenario")
        .and_then(|c| c.str().cloned())
        .map_err(&e)?;
    let point = df
        .column("point")
        .and_then(|c| c.u32().cloned())
        .map_err(&e)?;
    let tick = df
        .column("tick")
        .and_then(|c| c.u32().cloned())
        .map_err(&e)?;
    let region = df
        .column("region")
        .and_then(|c| c.str().cloned())
        .map_err(&e)?;
    let skip = ["tick", "run_id", "point", "replicate", "households"];
    let measures: Vec<String> = df
        .columns()
        .iter()
        .filter(|c| {
            c.dtype() == &DataType::Float64
                && !skip.contains(&c.name().as_str())
                && !c.name().starts_with("param.")
        })
        .map(|c| c.name().to_string())
        .collect();
    let values: Vec<Float64Chunked> = measures
        .iter()
        .map(|m| df.column(m).and_then(|c| c.f64().cloned()))
        .collect::<PolarsResult<_>>()
        .map_err(&e)?;
    // Group rows by (scenario, point, tick, region), in sorted key order.
    let mut groups: std::collections::BTreeMap<(String, u32, u32, String), Vec<usize>> =
        std::collections::BTreeMap::new();
    for i in 0..df.height() {
        let key = (
            scen.get(i).unwrap_or("").to_string(),
            point.get(i).unwrap_or(0),
            tick.get(i).unwrap_or(0),
            region.get(i).unwrap_or("").to_string(),
        );
        groups.entry(key).or_default().push(i);
    }
    let (mut c_s, mut c_p, mut c_t, mut c_r, mut c_m, mut c_mean, mut c_ci, mut c_n) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    // For each summary row, a row of the group (for its date and swept values).
    let mut first: Vec<IdxSize> = Vec::new();
    for ((s, p, t, r), rows) in &groups {
        for (m, v) in measures.iter().zip(&values) {
            let xs: Vec<f64> = rows
                .iter()
                .filter_map(|&i| v.get(i))
                .filter(|x| x.is_finite())
                .collect();
            let (mean, ci) = crate::stats::mean_ci(&xs);
            c_s.push(s.clone());
            c_p.push(*p);
            c_t.push(*t);
            c_r.push(r.clone());
            c_m.push(m.clone());
            c_mean.push(mean);
            c_ci.push(ci);
            c_n.push(xs.len() as u32);
            first.push(rows[0] as IdxSize);
        }
    }
    let take = IdxCa::from_vec("idx".into(), first);
    let mut cols = vec![
        Column::new("scenario".into(), c_s),
        Column::new("point".into(), c_p),
    ];
    for c in df.columns() {
        if c.name().starts_with("param.") {
            cols.push(c.take(&take).map_err(&e)?);
        }
    }
    cols.push(Column::new("tick".into(), c_t));
    if let Ok(d) = df.column("date") {
        cols.push(d.take(&take).map_err(&e)?);
    }
    cols.extend([
        Column::new("region".into(), c_r),
        Column::new("measure".into(), c_m),
        Column::new("mean".into(), c_mean),
        Column::new("ci95".into(), c_ci),
        Column::new("n".into(), c_n),
    ]);
    let mut sum = DataFrame::new_infer_height(cols).map_err(&e)?;
    Ok(output::write_frame(
        out,
        "summary",
        &mut sum,
        Format::Parquet,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(extra: &str) -> Experiment {
        let text = format!(
            "name = \"u\"\nyears = 1\nreplicates = 2\n[[scenario]]\nbuiltin = \"one_way_aid.toml\"\nlabel = \"one\"\nset = [\"region.Upland.households=300\", \"region.Coastal.households=100\"]\n[sweep]\nmethod = \"list\"\n[[sweep.param]]\nkey = \"policy.leakage\"\nvalues = [0.0, 0.2]\n{extra}"
        );
        Experiment::from_str("u.toml", &text, None).unwrap()
    }

    #[test]
    fn a_run_that_fails_is_recorded_and_the_batch_goes_on() {
        // Every point is checked when the batch file is read; a run can still fail if its
        // configuration stops loading afterwards (a point made invalid here by hand).
        let mut exp = small("");
        exp.points[1][0] = toml::Value::Float(1.5);
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("b");
        let opts = BatchOptions {
            out: out.clone(),
            jobs: Some(2),
            resume: false,
            shard: None,
            text: String::new(),
        };
        let r = run_batch(&exp, &opts).unwrap();
        assert_eq!((r.total, r.done, r.failed), (4, 2, 2));
        let failures: Vec<_> = fs::read_dir(out.join("failed")).unwrap().collect();
        assert_eq!(failures.len(), 2);
        let msg = fs::read_to_string(failures[0].as_ref().unwrap().path()).unwrap();
        assert!(
            msg.contains("policy.leakage") && msg.contains("scenario `one`"),
            "{msg}"
        );
        assert_eq!(merge(&out, &[]).unwrap(), (2, 2));
    }

    #[test]
    fn run_keys_and_seeds_follow_content_not_position() {
        let a = small("");
        let text = "name = \"u\"\nyears = 1\nreplicates = 3\n[[scenario]]\nbuiltin = \"two_way_market.toml\"\nlabel = \"two\"\nset = [\"region.Upland.households=300\", \"region.Coastal.households=100\"]\n[[scenario]]\nbuiltin = \"one_way_aid.toml\"\nlabel = \"one\"\nset = [\"region.Upland.households=300\", \"region.Coastal.households=100\"]\n[sweep]\nmethod = \"list\"\n[[sweep.param]]\nkey = \"policy.leakage\"\nvalues = [0.1, 0.2, 0.0]\n";
        let b = Experiment::from_str("v.toml", text, None).unwrap();
        let rb = b.runs();
        for r in a.runs() {
            // Same scenario label, swept values and replicate: same key and seed, wherever
            // the run sits in the other list.
            let same = rb
                .iter()
                .find(|x| {
                    b.scenarios[x.scenario].label == a.scenarios[r.scenario].label
                        && b.points[x.point] == a.points[r.point]
                        && x.replicate == r.replicate
                })
                .unwrap();
            assert_eq!((same.key, same.seed), (r.key, r.seed));
            assert_ne!(same.run_id, r.run_id);
        }
        let keys: BTreeSet<u64> = rb.iter().map(|r| r.key).collect();
        let seeds: BTreeSet<u64> = rb.iter().map(|r| r.seed).collect();
        assert_eq!((keys.len(), seeds.len()), (rb.len(), rb.len()));
    }

    #[test]
    fn a_point_listed_twice_gives_distinct_runs() {
        let text = "name = \"u\"\nyears = 1\n[[scenario]]\nbuiltin = \"one_way_aid.toml\"\n[sweep]\nmethod = \"list\"\n[[sweep.param]]\nkey = \"policy.leakage\"\nvalues = [0.2, 0.2]\n";
        let e = Experiment::from_str("w.toml", text, None).unwrap();
        let r = e.runs();
        assert_eq!(r.len(), 2);
        assert_ne!(r[0].key, r[1].key);
        assert_ne!(r[0].seed, r[1].seed);
    }

    #[test]
    fn fingerprints_tell_extensions_from_different_batches() {
        let a = small("");
        let fa = Fingerprint::of(&a, "", &a.runs());
        let mut b = a.clone();
        b.replicates = 3;
        let fb = Fingerprint::of(&b, "", &b.runs());
        assert_eq!(fa.identity_difference(&fb), None);
        assert_ne!(fa.run_list, fb.run_list);
        let mut c = a.clone();
        c.seed = 2;
        let fc = Fingerprint::of(&c, "", &c.runs());
        assert!(fa
            .identity_difference(&fc)
            .is_some_and(|w| w.contains("master seed")));
        let mut d = a.clone();
        d.keep.yearly = true;
        let fd = Fingerprint::of(&d, "", &d.runs());
        assert!(fa
            .identity_difference(&fd)
            .is_some_and(|w| w.contains("[output]")));
        // The text of the batch file is recorded but is not identity.
        let fe = Fingerprint::of(&a, "# comment", &a.runs());
        assert_eq!(fa.identity_difference(&fe), None);
        assert_eq!(fa.run_list, fe.run_list);
    }
}
