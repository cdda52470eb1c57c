//! Running a batch: the run list on disk, runs in parallel with outputs written as each
//! finishes (so memory is bounded by the runs in flight), failures recorded, resume,
//! shards, merging and summaries across replicates.
//!
//! Layout of a batch directory:
//! - `batch.json` — fingerprint of the batch (name, master seed, run count, text hash);
//! - `runs.parquet` — the run list: run_id, scenario, point, replicate, seed, swept values;
//! - `parts/<table>/part-<run_id>.parquet` — one file per run and kept table, written under
//!   a temporary name and renamed, each row carrying run_id, scenario, point, replicate and
//!   the swept values (so `pl.read_parquet("DIR/parts/metrics/*.parquet")` reads them all);
//! - `failed/run-<run_id>.txt` — the error of a run that failed;
//! - after `merge`: `<table>.parquet` — all parts in run order, one file per table.

use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use polars::prelude::*;

use crate::batch::experiment::{value_text, Experiment, RunSpec};
use crate::batch::keep;
use crate::output::{self, read_parquet, Format, OutputError, TableRecorder};

/// Errors of the batch layer (a failed run is not one: it is recorded and the batch goes on).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The directory holds another batch.
    #[error("{0}")]
    Conflict(String),
    /// Merging found missing or duplicated runs.
    #[error("{0}")]
    Incomplete(String),
    /// Writing or reading failed.
    #[error(transparent)]
    Output(#[from] OutputError),
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
    /// Continue a batch in a directory that already holds some of its runs.
    pub resume: bool,
    /// `(k, n)`: run only runs with `run_id % n == k`.
    pub shard: Option<(u32, u32)>,
    /// Batch text (for the fingerprint).
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
}

fn fingerprint(exp: &Experiment, text: &str, runs: usize) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    serde_json::to_string_pretty(&serde_json::json!({
        "batch": exp.name,
        "seed": exp.seed,
        "runs": runs,
        "text_hash": format!("{h:016x}"),
        "version": env!("CARGO_PKG_VERSION"),
    }))
    .unwrap_or_default()
        + "\n"
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

fn part_path(out: &Path, table: &str, run_id: u32) -> PathBuf {
    out.join("parts")
        .join(table)
        .join(format!("part-{run_id:06}.parquet"))
}

fn failed_path(out: &Path, run_id: u32) -> PathBuf {
    out.join("failed").join(format!("run-{run_id:06}.txt"))
}

/// Whether a run has left a complete result (all kept tables) or a failure record.
fn finished(exp: &Experiment, out: &Path, run_id: u32) -> bool {
    failed_path(out, run_id).exists()
        || exp
            .keep
            .tables
            .iter()
            .all(|t| part_path(out, t, run_id).exists())
}

/// Runs (the selected part of) a batch.
pub fn run_batch(exp: &Experiment, opts: &BatchOptions) -> Result<BatchReport, BatchError> {
    let out = &opts.out;
    let runs = exp.runs();
    let print = fingerprint(exp, &opts.text, runs.len());
    let marker = out.join("batch.json");
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
    if !entries.is_empty() {
        match fs::read_to_string(&marker) {
            Ok(existing) if existing == print => {
                if !opts.resume && opts.shard.is_none() {
                    return Err(BatchError::Conflict(format!(
                        "{} already holds this batch; pass --resume to finish its missing runs",
                        out.display()
                    )));
                }
            }
            Ok(_) => {
                return Err(BatchError::Conflict(format!(
                    "{} holds a different batch (batch.json differs); choose another --out",
                    out.display()
                )))
            }
            Err(_) if opts.shard.is_some() && entries.iter().all(|e| ours(e)) => {}
            Err(_) => {
                return Err(BatchError::Conflict(format!(
                    "{} exists, is not empty and is not a batch directory; choose another --out",
                    out.display()
                )))
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
    output::write_text(out, "batch.json", &print)?;
    let mut list = run_list_frame(exp, &runs).map_err(table_err(out))?;
    output::write_frame(out, "runs", &mut list, Format::Parquet)?;

    let selected: Vec<&RunSpec> = runs
        .iter()
        .filter(|r| opts.shard.is_none_or(|(k, n)| r.run_id % n == k))
        .collect();
    let todo: Vec<&RunSpec> = selected
        .iter()
        .copied()
        .filter(|r| !finished(exp, out, r.run_id))
        .collect();
    let mut report = BatchReport {
        total: runs.len(),
        selected: selected.len(),
        skipped: selected.len() - todo.len(),
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
                    progress.tick(done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
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

/// Runs one batch run; returns `Ok(Some(message))` if the run failed (recorded on disk).
fn execute_run(exp: &Experiment, run: &RunSpec, out: &Path) -> Result<Option<String>, OutputError> {
    let loaded = match exp.configure(run) {
        Ok(l) => l,
        Err(e) => {
            let msg = format!(
                "run {} (scenario `{}`, point {}, replicate {}): {e}\n",
                run.run_id, exp.scenarios[run.scenario].label, run.point, run.replicate
            );
            let p = failed_path(out, run.run_id);
            output::write_text(
                p.parent().expect("has parent"),
                p.file_name().and_then(|f| f.to_str()).expect("utf-8"),
                &msg,
            )?;
            return Ok(Some(msg));
        }
    };
    let cfg = &loaded.config;
    let panel = exp.keep.tables.iter().any(|t| t == "households");
    let mut rec = TableRecorder::new(cfg, panel);
    crate::model::run::run(cfg, &mut rec);
    let rec = keep::select(cfg, &rec, &exp.keep);
    for table in &exp.keep.tables {
        let df = match table.as_str() {
            "metrics" => output::metrics_frame(cfg, &rec.metrics),
            "flows" => output::flows_frame(cfg, &rec.flows),
            "households" => output::panel_frame(cfg, &rec.panel_rows),
            _ => output::links_frame(cfg, &rec.links),
        };
        let path = part_path(out, table, run.run_id);
        let mut df = df.map_err(table_err(&path))?;
        add_run_columns(&mut df, exp, run).map_err(table_err(&path))?;
        output::write_frame(
            path.parent().expect("has parent"),
            &format!("part-{:06}", run.run_id),
            &mut df,
            Format::Parquet,
        )?;
    }
    Ok(None)
}

fn add_run_columns(df: &mut DataFrame, exp: &Experiment, run: &RunSpec) -> PolarsResult<()> {
    let n = df.height();
    df.with_column(Column::new("run_id".into(), vec![run.run_id; n]))?;
    df.with_column(Column::new(
        "scenario".into(),
        vec![exp.scenarios[run.scenario].label.clone(); n],
    ))?;
    df.with_column(Column::new("point".into(), vec![run.point as u32; n]))?;
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
/// run of `runs.parquet` is present exactly once (as a result or a recorded failure) and
/// writes one `<table>.parquet` per kept table with all runs in run order.
pub fn merge(out: &Path, shards: &[PathBuf]) -> Result<(usize, usize), BatchError> {
    let runs_path = out.join("runs.parquet");
    let runs = read_parquet(&runs_path)?;
    let ids: Vec<u32> = runs
        .column("run_id")
        .and_then(|c| c.u32().cloned())
        .map_err(table_err(&runs_path))?
        .iter()
        .flatten()
        .collect();
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
    let tables: Vec<String> = fs::read_dir(out.join("parts"))
        .map_err(io_err(out))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    let mut missing = Vec::new();
    let mut both = Vec::new();
    let mut failed = 0;
    for &id in &ids {
        let f = failed_path(out, id).exists();
        let ok = !tables.is_empty() && tables.iter().all(|t| part_path(out, t, id).exists());
        match (ok, f) {
            (true, true) => both.push(id),
            (false, false) => missing.push(id),
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
    let mut tables_sorted = tables.clone();
    tables_sorted.sort();
    for t in &tables_sorted {
        let mut merged: Option<DataFrame> = None;
        for &id in &ids {
            let p = part_path(out, t, id);
            if !p.exists() {
                continue;
            }
            let df = read_parquet(&p)?;
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
/// (long format: one row per scenario, point, tick, region and measure).
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
        }
    }
    let mut sum = DataFrame::new_infer_height(vec![
        Column::new("scenario".into(), c_s),
        Column::new("point".into(), c_p),
        Column::new("tick".into(), c_t),
        Column::new("region".into(), c_r),
        Column::new("measure".into(), c_m),
        Column::new("mean".into(), c_mean),
        Column::new("ci95".into(), c_ci),
        Column::new("n".into(), c_n),
    ])
    .map_err(&e)?;
    Ok(output::write_frame(
        out,
        "summary",
        &mut sum,
        Format::Parquet,
    )?)
}
