//! Command-line interface: `run`, `check` and `compare`. Parses arguments with clap, calls
//! the library, prints summaries. The binary in `main.rs` only maps errors to exit codes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use crate::batch::replicate;
use crate::output::compare::{self, CompareRow, YearRow};
use crate::output::{self, Format, OutputError};
use crate::scenario::{self, Loaded, ScenarioError};

/// Errors the CLI reports. Bad input (exit code 2) is told apart from failures (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Writing outputs failed (or the output directory is not empty).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Arguments are inconsistent.
    #[error("{0}")]
    Usage(String),
    /// The batch file is invalid.
    #[error(transparent)]
    Experiment(#[from] crate::batch::experiment::ExperimentError),
    /// A batch could not run or merge.
    #[error(transparent)]
    Batch(#[from] crate::batch::runner::BatchError),
    /// Some runs of a batch failed (each is recorded in the batch's `failed/`).
    #[error("{failed} of {total} runs failed; see {dir}/failed/")]
    RunsFailed {
        /// Failed runs.
        failed: usize,
        /// Runs attempted.
        total: usize,
        /// Batch directory.
        dir: String,
    },
    /// Charts or the report could not be made.
    #[error(transparent)]
    Report(#[from] crate::present::report::ReportError),
}

impl CliError {
    /// Process exit code: 2 for bad input, 3 when some runs of a batch failed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Scenario(_)
            | CliError::Usage(_)
            | CliError::Experiment(_)
            | CliError::Batch(crate::batch::runner::BatchError::Conflict(_))
            | CliError::Output(OutputError::NotEmpty(_)) => 2,
            CliError::RunsFailed { .. } => 3,
            _ => 1,
        }
    }
}

/// xiezuo (协作): agent-based simulator of East–West cooperation and return to poverty.
#[derive(Debug, Parser)]
#[command(name = "xiezuo", version, about, long_about = None)]
pub struct Cli {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output table format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Apache Parquet.
    Parquet,
    /// CSV.
    Csv,
}

/// Grouping of curves.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ByArg {
    /// One curve per scenario (and swept point).
    Scenario,
    /// Small multiples: one panel per western region, one curve per scenario.
    Region,
    /// Small multiples: one panel per scenario, one curve per swept point (batches).
    Point,
}

/// The y scale of small multiples.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum YScaleArg {
    /// One y scale for every panel (comparable at a glance).
    Shared,
    /// Each panel its own y scale (shows the shape of small series).
    Free,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario and write its outputs.
    Run {
        /// Scenario file.
        scenario: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Override a scenario key, e.g. --set time.years=5 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Table format.
        #[arg(long, value_enum, default_value = "parquet")]
        format: FormatArg,
        /// Also write the yearly household panel (households.parquet).
        #[arg(long)]
        panel: bool,
        /// Write into a non-empty output directory.
        #[arg(long)]
        force: bool,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Stop after this many years (the scenario's dates are still checked against its
        /// own horizon).
        #[arg(long)]
        years: Option<u32>,
    },
    /// Validate a scenario without running it.
    Check {
        /// Scenario file.
        scenario: PathBuf,
        /// Override a scenario key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Run a batch file: scenarios × sweep points × replicates, in parallel, resumable.
    Batch {
        /// Batch file (see experiments/).
        file: PathBuf,
        /// Batch directory.
        #[arg(long)]
        out: PathBuf,
        /// Runs in parallel (default: all cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Finish the missing runs of an interrupted batch.
        #[arg(long)]
        resume: bool,
        /// Run only the K-th of N disjoint slices of the run list (K in 0..N), e.g. 3/40.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
    },
    /// Merge a batch directory (and shard directories into it) into one table per output.
    Merge {
        /// Batch directory (holds runs.parquet).
        dir: PathBuf,
        /// Shard directories to bring in (when shards wrote to separate directories).
        shards: Vec<PathBuf>,
    },
    /// Mean and 95% CI across replicates per scenario, point, tick and region.
    Summarize {
        /// Merged batch directory.
        dir: PathBuf,
    },
    /// Chart one measure over time with 95% bands across replicates.
    Plot {
        /// A run, comparison or merged batch directory.
        dir: PathBuf,
        /// Measure (a metrics column, e.g. relapse_rate, poverty_rate, mean_income).
        #[arg(long, default_value = "relapse_rate")]
        metric: String,
        /// One curve per scenario, one panel per region, or one panel per scenario.
        #[arg(long, value_enum, default_value = "scenario")]
        by: ByArg,
        /// Rows to plot with --by scenario or point: a region name, WEST (default), EAST or
        /// ALL. The region goes into the default file name.
        #[arg(long)]
        region: Option<String>,
        /// Small multiples (--by region or point) share one y scale, or each has its own.
        #[arg(long, value_enum, default_value = "shared")]
        y_scale: YScaleArg,
        /// Output file stem (default DIR/charts/METRIC[_REGION]_by_BY); .png, .svg and .csv
        /// are written.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a self-contained HTML report (DIR/report/index.html) with all charts.
    Report {
        /// A run, comparison or merged batch directory.
        dir: PathBuf,
    },
    /// Compare two scenarios over replicates (default: built-in one_way_aid vs two_way_market).
    Compare {
        /// Two scenario files (A then B); none = the built-in pair.
        scenarios: Vec<PathBuf>,
        /// Replicates per scenario (default: the scenarios' run.replicates).
        #[arg(long)]
        replicates: Option<u32>,
        /// Output directory.
        #[arg(long, default_value = "out/compare")]
        out: PathBuf,
        /// Override a key in both scenarios (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Table format.
        #[arg(long, value_enum, default_value = "parquet")]
        format: FormatArg,
        /// Write into a non-empty output directory.
        #[arg(long)]
        force: bool,
        /// Stop after this many years.
        #[arg(long)]
        years: Option<u32>,
    },
}

/// Shortens a run to `years` (never lengthens it).
fn truncate(l: &mut Loaded, years: Option<u32>) -> Result<(), CliError> {
    if let Some(y) = years {
        if y == 0 {
            return Err(CliError::Usage("--years must be at least 1".into()));
        }
        let cal = &mut l.config.calendar;
        cal.ticks = cal.ticks.min(y.saturating_mul(cal.ticks_per_year()));
    }
    Ok(())
}

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Parquet => Format::Parquet,
        FormatArg::Csv => Format::Csv,
    }
}

/// Runs the CLI with parsed arguments; returns the text to print.
pub fn execute(cli: Cli) -> Result<(), CliError> {
    if let Some(n) = cli.threads {
        if n == 0 {
            return Err(CliError::Usage("--threads must be at least 1".into()));
        }
        // A global pool can only be built once per process; ignore "already built".
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    match cli.command {
        Command::Check { scenario, set } => {
            let l = scenario::load_file(&scenario, &set)?;
            let c = &l.config;
            println!(
                "{}: ok — scenario `{}`, {} regions, {} links, {} phases, {} shocks, {} ticks of a {} from {}, {} simulated households",
                scenario.display(),
                c.name,
                c.regions.len(),
                c.links.len(),
                c.phases.len(),
                c.shocks.len(),
                c.calendar.ticks,
                c.calendar.step.as_str(),
                c.calendar.start,
                c.total_households()
            );
            Ok(())
        }
        Command::Run {
            scenario,
            out,
            set,
            format,
            panel,
            force,
            seed,
            years,
        } => {
            let mut l = scenario::load_file(&scenario, &set)?;
            truncate(&mut l, years)?;
            if let Some(s) = seed {
                l.config.seed = s;
            }
            run_command(&l, &out, format_of(format), panel, force)
        }
        Command::Batch {
            file,
            out,
            jobs,
            resume,
            shard,
        } => {
            let exp = crate::batch::experiment::Experiment::load(&file)?;
            let shard = match shard {
                None => None,
                Some(s) => Some(parse_shard(&s)?),
            };
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let opts = crate::batch::runner::BatchOptions {
                out: out.clone(),
                jobs,
                resume,
                shard,
                text,
            };
            let r = crate::batch::runner::run_batch(&exp, &opts)?;
            println!(
                "batch `{}`: {} runs in all, {} in this {}; {} already done, {} ran, {} failed",
                exp.name,
                r.total,
                r.selected,
                if shard.is_some() {
                    "shard"
                } else {
                    "invocation"
                },
                r.skipped,
                r.done,
                r.failed
            );
            if r.failed > 0 {
                return Err(CliError::RunsFailed {
                    failed: r.failed,
                    total: r.done + r.failed,
                    dir: out.display().to_string(),
                });
            }
            Ok(())
        }
        Command::Merge { dir, shards } => {
            let (ok, failed) = crate::batch::runner::merge(&dir, &shards)?;
            println!(
                "merged {} runs ({ok} succeeded, {failed} failed) into {}",
                ok + failed,
                dir.display()
            );
            Ok(())
        }
        Command::Summarize { dir } => {
            let p = crate::batch::runner::summarize(&dir)?;
            println!("wrote {}", p.display());
            Ok(())
        }
        Command::Plot {
            dir,
            metric,
            by,
            region,
            y_scale,
            out,
        } => {
            use crate::present::report::{By, PlotOptions, ReportError};
            let by = match by {
                ByArg::Scenario => By::Scenario,
                ByArg::Region => By::Region,
                ByArg::Point => By::Point,
            };
            let opts = PlotOptions {
                by,
                region,
                shared_y: matches!(y_scale, YScaleArg::Shared),
            };
            let files = crate::present::report::plot_metric(&dir, &metric, &opts, out.as_deref())
                .map_err(|e| match e {
                ReportError::Usage(m)
                | ReportError::Data(crate::present::data::DataError::Missing(m)) => {
                    CliError::Usage(m)
                }
                e => CliError::Report(e),
            })?;
            for f in files {
                println!("wrote {}", f.display());
            }
            Ok(())
        }
        Command::Report { dir } => {
            use crate::present::report::ReportError;
            let p = crate::present::report::write_report(&dir).map_err(|e| match e {
                ReportError::Usage(m)
                | ReportError::Data(crate::present::data::DataError::Missing(m)) => {
                    CliError::Usage(m)
                }
                e => CliError::Report(e),
            })?;
            println!("wrote {}", p.display());
            Ok(())
        }
        Command::Compare {
            scenarios,
            replicates,
            out,
            set,
            format,
            force,
            years,
        } => {
            let (mut a, mut b) = match scenarios.len() {
                0 => (
                    scenario::load_builtin("one_way_aid.toml", &set)?,
                    scenario::load_builtin("two_way_market.toml", &set)?,
                ),
                2 => (
                    scenario::load_file(&scenarios[0], &set)?,
                    scenario::load_file(&scenarios[1], &set)?,
                ),
                n => {
                    return Err(CliError::Usage(format!(
                        "compare takes zero or two scenario files, got {n}"
                    )))
                }
            };
            truncate(&mut a, years)?;
            truncate(&mut b, years)?;
            compare_command(&a, &b, replicates, &out, format_of(format), force)
        }
    }
}

fn parse_shard(s: &str) -> Result<(u32, u32), CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--shard {s}: expected K/N with 0 ≤ K < N, e.g. --shard 3/40"
        ))
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (u32, u32) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

fn run_command(
    l: &Loaded,
    out: &Path,
    format: Format,
    panel: bool,
    force: bool,
) -> Result<(), CliError> {
    output::prepare_dir(out, force)?;
    let cfg = &l.config;
    let res = replicate::run_one(cfg, panel);
    let files = output::write_run(out, cfg, &res.recorder, format)?;
    output::write_text(out, "scenario.resolved.toml", &resolved_text(l))?;
    let manifest = manifest(
        l,
        &[cfg.seed],
        res.elapsed.as_secs_f64(),
        res.world.households.len(),
        res.world.firms.len(),
    );
    output::write_text(out, "manifest.json", &manifest)?;
    let rows = compare::yearly(cfg, &res.recorder);
    println!(
        "scenario `{}` ({} households, seed {}), {:.2} s",
        cfg.name,
        cfg.total_households(),
        cfg.seed,
        res.elapsed.as_secs_f64()
    );
    print!("{}", year_table(&rows));
    println!(
        "wrote {} tables, scenario.resolved.toml and manifest.json to {}",
        files.len(),
        out.display()
    );
    Ok(())
}

fn resolved_text(l: &Loaded) -> String {
    // Reflect command-line changes that bypass the document (--seed, --years).
    let mut doc = l.resolved.clone();
    let run = doc
        .entry("run")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(t) = run.as_table_mut() {
        t.insert("seed".into(), toml::Value::Integer(l.config.seed as i64));
    }
    let cal = &l.config.calendar;
    let note = if cal.ticks % cal.ticks_per_year() == 0
        && doc
            .get("time")
            .and_then(|t| t.get("years"))
            .and_then(|y| y.as_integer())
            != Some((cal.ticks / cal.ticks_per_year()) as i64)
    {
        format!(
            "# Run stopped after {} years (--years); dates are checked against time.years below.\n",
            cal.ticks / cal.ticks_per_year()
        )
    } else {
        String::new()
    };
    let body = note + &toml::to_string(&doc).unwrap_or_default();
    format!(
        "# Fully resolved scenario `{}` (from {}).\n{body}",
        l.config.name,
        l.files.join(" <- ")
    )
}

fn manifest(l: &Loaded, seeds: &[u64], wall: f64, households: usize, firms: usize) -> String {
    let v = serde_json::json!({
        "program": "xiezuo",
        "version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("XIEZUO_GIT_COMMIT"),
        "scenario": l.config.name,
        "files": l.files,
        "seeds": seeds,
        "ticks": l.config.calendar.ticks,
        "step": l.config.calendar.step.as_str(),
        "start": l.config.calendar.start.to_string(),
        "wall_time_seconds": wall,
        "households": households,
        "firms_at_end": firms,
        "regions": l.config.regions.len(),
        "links": l.config.links.len(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn year_table(rows: &[YearRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>6} {:>9} {:>9} {:>9} {:>12} {:>8}",
        "year", "poverty", "relapse", "vulnerab", "mean income", "E/W"
    );
    for r in rows {
        let relapse = if r.relapse_rate.is_nan() {
            "—".to_string()
        } else {
            format!("{:.2}%", 100.0 * r.relapse_rate)
        };
        let _ = writeln!(
            s,
            "{:>6} {:>8.2}% {:>9} {:>8.2}% {:>12.0} {:>8.2}",
            r.year,
            100.0 * r.poverty_rate,
            relapse,
            100.0 * r.vulnerability_share,
            r.mean_income,
            r.east_west_ratio
        );
    }
    s
}

fn compare_command(
    a: &Loaded,
    b: &Loaded,
    reps: Option<u32>,
    out: &Path,
    format: Format,
    force: bool,
) -> Result<(), CliError> {
    let n = reps.unwrap_or(a.replicates.max(b.replicates));
    if n == 0 {
        return Err(CliError::Usage("--replicates must be at least 1".into()));
    }
    output::prepare_dir(out, force)?;
    let start = Instant::now();
    let ra = replicate::replicates(&a.config, n, true);
    let rb = replicate::replicates(&b.config, n, true);
    let ya: Vec<Vec<YearRow>> = ra
        .iter()
        .map(|r| compare::yearly(&a.config, &r.recorder))
        .collect();
    let yb: Vec<Vec<YearRow>> = rb
        .iter()
        .map(|r| compare::yearly(&b.config, &r.recorder))
        .collect();
    let rows = compare::compare(&ya, &yb);
    let (na, nb) = (&a.config.name, &b.config.name);
    println!(
        "compare: A = `{na}`, B = `{nb}`, {n} replicates each, {:.1} s",
        start.elapsed().as_secs_f64()
    );
    print!("{}", compare_table(&rows, na, nb));
    // Outputs: each scenario's replicate tables and the comparison.
    for (l, results) in [(a, &ra), (b, &rb)] {
        let dir = out.join(&l.config.name);
        output::prepare_dir(&dir, true)?;
        for (i, r) in results.iter().enumerate() {
            let rdir = dir.join(format!("rep{i}"));
            output::prepare_dir(&rdir, true)?;
            output::write_run(
                &rdir,
                &replicate::replicate_config(&l.config, i as u32),
                &r.recorder,
                format,
            )?;
        }
        output::write_text(&dir, "scenario.resolved.toml", &resolved_text(l))?;
    }
    let mut df = crate::output::compare_frame(&rows, na, nb).map_err(|e| OutputError::Table {
        path: out.join("comparison"),
        source: e,
    })?;
    let path = output::write_frame(out, "comparison", &mut df, format)?;
    let seeds: Vec<u64> = (0..n)
        .map(|i| replicate::replicate_config(&a.config, i).seed)
        .collect();
    output::write_text(
        out,
        "manifest.json",
        &manifest(
            a,
            &seeds,
            start.elapsed().as_secs_f64(),
            ra[0].world.households.len(),
            ra[0].world.firms.len(),
        ),
    )?;
    println!(
        "wrote {} and per-replicate tables under {}",
        path.display(),
        out.display()
    );
    if format == Format::Parquet {
        let report = crate::present::report::write_report(out)?;
        println!("charts: {}/report/*.png (and .svg, .csv)", out.display());
        println!("report: {}", report.display());
    } else {
        println!(
            "charts and report are drawn from Parquet outputs; rerun without --format csv for them"
        );
    }
    Ok(())
}

fn compare_table(rows: &[CompareRow], a: &str, b: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "western relapse rate (per year) and poverty rate, mean ± 95% CI half-width across replicates");
    let _ = writeln!(
        s,
        "{:>6} | {:>17} {:>17} {:>17} | {:>15} {:>15} {:>15}",
        "year",
        format!("relapse {}", short(a)),
        format!("relapse {}", short(b)),
        "B − A",
        format!("poverty {}", short(a)),
        format!("poverty {}", short(b)),
        "B − A"
    );
    let years: Vec<i32> = {
        let mut y: Vec<i32> = rows.iter().map(|r| r.year).collect();
        y.dedup();
        y
    };
    let pct = |(m, h): (f64, f64)| {
        if m.is_nan() {
            "—".to_string()
        } else {
            format!("{:.2}±{:.2}%", 100.0 * m, 100.0 * h)
        }
    };
    for y in years {
        let get = |m: &str| rows.iter().find(|r| r.year == y && r.measure == m).cloned();
        if let (Some(rel), Some(pov)) = (get("relapse_rate"), get("poverty_rate")) {
            let _ = writeln!(
                s,
                "{:>6} | {:>17} {:>17} {:>17} | {:>15} {:>15} {:>15}",
                y,
                pct(rel.a),
                pct(rel.b),
                pct(rel.diff),
                pct(pov.a),
                pct(pov.b),
                pct(pov.diff)
            );
        }
    }
    s
}

fn short(s: &str) -> String {
    s.chars().take(8).collect()
}
