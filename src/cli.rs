//! Command-line interface: every subcommand (`run`, `check`, `batch`, `merge`, `summarize`,
//! `sensitivity`, `calibrate`, `claims`, `plot`, `report`, `scenarios`, `compare`, `keys`,
//! `serve`). Parses arguments with clap, calls the library, prints summaries. The binary in
//! `main.rs` only maps errors to exit codes.

// The doc comments on the argument types are the `--help` text, written for a terminal:
// `[sweep]` there is a TOML table and `<id>` a placeholder, not a link or an HTML tag.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use crate::batch::replicate;
use crate::output::compare::{self, CompareRow, YearRow};
use crate::output::manifest::{manifest_json, timing_json, ScenarioEntry};
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
    /// `serve` could not start.
    #[error(transparent)]
    Serve(#[from] crate::serve::ServeError),
    /// A calibration could not run.
    #[error(transparent)]
    Calibrate(#[from] crate::batch::calibrate::CalibrateError),
}

impl CliError {
    /// Process exit code: 2 for bad input, 3 when some runs of a batch failed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Scenario(_)
            | CliError::Usage(_)
            | CliError::Experiment(_)
            | CliError::Batch(crate::batch::runner::BatchError::Conflict(_))
            | CliError::Batch(crate::batch::runner::BatchError::Analysis(_))
            | CliError::Calibrate(crate::batch::calibrate::CalibrateError::Conflict(_))
            | CliError::Calibrate(crate::batch::calibrate::CalibrateError::Output(
                OutputError::NotEmpty(_) | OutputError::BadOutDir { .. },
            ))
            | CliError::Serve(_)
            | CliError::Output(OutputError::NotEmpty(_))
            | CliError::Output(OutputError::BadOutDir { .. }) => 2,
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

/// Format of `xiezuo keys`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeysFormat {
    /// Aligned text for the terminal.
    Text,
    /// The Markdown tables of ODD §7.10.
    Markdown,
    /// JSON: an array of objects (key, type, default, unit, min, max, allowed, meaning).
    Json,
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
        /// Scenario file, or a built-in scenario as builtin:NAME (see `xiezuo scenarios`).
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
    /// Validate a scenario without running it, and list what it contains.
    Check {
        /// Scenario file, or a built-in scenario as builtin:NAME.
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
    /// Sobol indices or Morris elementary effects of a merged sensitivity batch (a batch file
    /// with [sweep] method = "saltelli" or "morris" and a [sensitivity] section).
    Sensitivity {
        /// The batch file the batch was run from.
        file: PathBuf,
        /// Merged batch directory (writes sensitivity.parquet and sensitivity.csv there).
        dir: PathBuf,
    },
    /// Fit a scenario's free parameters to official figures (ABC-SMC on downscaled runs):
    /// posterior, fit table with held-out facts, which parameters the data constrain.
    Calibrate {
        /// Calibration file (see calibration/).
        file: PathBuf,
        /// Output directory (generations, posterior, fit, calibrated.set, fit.md).
        #[arg(long)]
        out: PathBuf,
        /// Continue a stopped calibration in --out from its last finished generation.
        #[arg(long)]
        resume: bool,
        /// Also write the fit into this Markdown file (e.g. docs/CALIBRATION.md), between
        /// the calibration's markers (added at the end if missing).
        #[arg(long, value_name = "FILE")]
        doc: Option<PathBuf>,
    },
    /// Reproduce the papers' claims (claims/*.toml): each claim's paired comparison with a
    /// verdict (Holm across its measures), the same with its mechanism switched off, and
    /// whether it holds by construction.
    Claims {
        /// Claim identifiers (e.g. C1 C8); none = every claim of --dir.
        ids: Vec<String>,
        /// Folder of claim files.
        #[arg(long, default_value = "claims")]
        dir: PathBuf,
        /// Replicates per arm (default: each claim's `replicates`, or `quick_replicates`
        /// with --quick).
        #[arg(long)]
        replicates: Option<u32>,
        /// Each claim's quick replicate count (for CI).
        #[arg(long)]
        quick: bool,
        /// Also write claims.html, claims.md, claims.parquet, claims.csv and charts/ here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite --out if it holds other files.
        #[arg(long)]
        force: bool,
        /// Also check each claim's robustness over a calibration's accepted parameter sets:
        /// a `xiezuo calibrate --out` directory, its generations.parquet/.csv, or a file of
        /// calibration/accepted/.
        #[arg(long, value_name = "FILE")]
        accepted: Option<PathBuf>,
        /// Keep the claims already done in --out (results/<id>.toml computed from the same
        /// claim file, model, replicates and accepted sets), run the rest, write the tables.
        #[arg(long)]
        resume: bool,
        /// Run only the K-th of N slices of the claims (0 ≤ K < N, e.g. a SLURM array task)
        /// into --out/results/; then `--resume` with the same --out writes the tables.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Also write the generated catalogue page (e.g. docs/CLAIMS.md) with the claim
        /// files' fingerprint.
        #[arg(long, value_name = "FILE")]
        doc: Option<PathBuf>,
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
    /// List the built-in scenarios, or print one (`scenarios show NAME`) to start from.
    Scenarios {
        /// `show NAME` prints the built-in scenario's TOML.
        #[command(subcommand)]
        action: Option<ScenariosAction>,
    },
    /// Compare two scenarios over replicates (default: built-in one_way_aid vs two_way_market).
    Compare {
        /// Two scenario files or builtin:NAME (A then B); none = the built-in pair.
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
        /// Master seed of the replicate seed list shared by both scenarios (default: A's
        /// `run.seed`).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// List every scenario key with its type, default, unit, allowed range and meaning.
    Keys {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: KeysFormat,
    },
    /// Explore two scenarios live in a browser: a parameter panel, curves with 95% bands as
    /// replicates finish, and B − A (default: built-in one_way_aid vs two_way_market).
    Serve {
        /// Scenario A and B (files or builtin:NAME); none = the default comparison.
        scenarios: Vec<PathBuf>,
        /// Address to bind; the default serves this machine only.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port (0: any free port, printed).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Most simulated households per region; larger regions are downscaled (weights
        /// raised, the real population unchanged).
        #[arg(long, default_value_t = 2000)]
        households: u32,
        /// Most replicates a request may ask for.
        #[arg(long, default_value_t = 40)]
        max_replicates: u32,
    },
}

/// What `xiezuo scenarios` does besides listing.
#[derive(Debug, Subcommand)]
pub enum ScenariosAction {
    /// Print a built-in scenario's TOML (its `extends` names its parent as builtin:NAME,
    /// so the text saved as a file works anywhere).
    Show {
        /// Built-in scenario: NAME, NAME.toml or builtin:NAME.
        name: String,
    },
}

/// `xiezuo scenarios [show NAME]`.
fn scenarios_command(action: Option<ScenariosAction>) -> Result<(), CliError> {
    match action {
        None => {
            let w = scenario::BUILTIN
                .iter()
                .map(|(n, _)| n.len())
                .max()
                .unwrap_or(0);
            for (n, _) in scenario::BUILTIN {
                println!(
                    "{:<w$}  {}",
                    format!("{}{n}", scenario::BUILTIN_PREFIX),
                    scenario::builtin_description(n),
                    w = w + scenario::BUILTIN_PREFIX.len()
                );
            }
            println!("(`xiezuo scenarios show NAME` prints one; run, check, compare and extends take builtin:NAME)");
        }
        Some(ScenariosAction::Show { name }) => print!("{}", scenario::builtin_standalone(&name)?),
    }
    Ok(())
}

/// `xiezuo check`: validates and lists what the resolved scenario contains.
fn check_command(spec: &Path, set: &[String]) -> Result<(), CliError> {
    let l = scenario::load(spec, set)?;
    print_notes(&l);
    let c = &l.config;
    println!(
        "{}: ok — scenario `{}`, {} regions, {} links, {} phases, {} shocks, {} ticks of a {} from {}, {} simulated households",
        spec.display(),
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
    print!("{}", scenario::describe(&l));
    Ok(())
}

/// Shortens a run to `years` (never lengthens it).
fn truncate(l: &mut Loaded, years: Option<u32>) -> Result<(), CliError> {
    if let Some(y) = years {
        let y = std::num::NonZeroU32::new(y)
            .ok_or_else(|| CliError::Usage("--years must be at least 1".into()))?;
        l.stop_after_years(y);
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
        Command::Check { scenario, set } => check_command(&scenario, &set),
        Command::Scenarios { action } => scenarios_command(action),
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
            let mut l = scenario::load(&scenario, &set)?;
            print_notes(&l);
            truncate(&mut l, years)?;
            if let Some(s) = seed {
                l.config.seed = s;
            }
            run_command(&l, &set, &out, format_of(format), panel, force)
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
            if let Some(n) = r.extended_from {
                println!(
                    "batch `{}`: extends the batch of {n} runs in {} to {} runs",
                    exp.name,
                    out.display(),
                    r.total
                );
            }
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
        Command::Sensitivity { file, dir } => {
            let exp = crate::batch::experiment::Experiment::load(&file)?;
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let rows = crate::batch::sensitivity::analyse(&exp, &text, &dir)?;
            let p = crate::batch::sensitivity::write(&dir, &rows)?;
            print!("{}", crate::batch::sensitivity::text_table(&rows));
            println!("wrote {}", p.display());
            let charts = dir.join("sensitivity");
            let files = crate::present::sensitivity::sensitivity_charts(&charts, &rows)
                .map_err(crate::present::report::ReportError::from)?;
            println!(
                "wrote {} charts (PNG and SVG) in {}",
                files.len() / 2,
                charts.display()
            );
            Ok(())
        }
        Command::Calibrate {
            file,
            out,
            resume,
            doc,
        } => calibrate_command(&file, &out, resume, doc.as_deref()),
        Command::Claims {
            ids,
            dir,
            replicates,
            quick,
            out,
            force,
            accepted,
            resume,
            shard,
            doc,
        } => claims_command(
            &ids,
            &dir,
            replicates,
            quick,
            out.as_deref(),
            force,
            accepted.as_deref(),
            resume,
            shard.as_deref(),
            doc.as_deref(),
        ),
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
        Command::Serve {
            scenarios,
            host,
            port,
            households,
            max_replicates,
        } => {
            let scenarios = match scenarios.len() {
                0 => crate::serve::ServeOptions::default().scenarios,
                2 => [scenarios[0].clone(), scenarios[1].clone()],
                n => {
                    return Err(CliError::Usage(format!(
                        "serve takes two scenarios (A and B) or none, got {n}"
                    )))
                }
            };
            let handle = crate::serve::start(crate::serve::ServeOptions {
                scenarios,
                host,
                port,
                households,
                max_replicates,
            })?;
            println!(
                "serving {} (Ctrl-C stops); A = {}, B = {}",
                handle.url(),
                handle.scenario_names[0],
                handle.scenario_names[1]
            );
            handle.wait();
            Ok(())
        }
        Command::Keys { format } => {
            print!("{}", keys_text(format));
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
            seed,
        } => {
            let (mut a, mut b) = match scenarios.len() {
                0 => (
                    scenario::load_builtin("one_way_aid", &set)?,
                    scenario::load_builtin("two_way_market", &set)?,
                ),
                2 => (
                    scenario::load(&scenarios[0], &set)?,
                    scenario::load(&scenarios[1], &set)?,
                ),
                n => {
                    return Err(CliError::Usage(format!(
                        "compare takes zero or two scenario files, got {n}"
                    )))
                }
            };
            print_notes(&a);
            print_notes(&b);
            truncate(&mut a, years)?;
            truncate(&mut b, years)?;
            compare_command(
                &a,
                &b,
                replicates,
                seed,
                &set,
                &out,
                format_of(format),
                force,
            )
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
    set: &[String],
    out: &Path,
    format: Format,
    panel: bool,
    force: bool,
) -> Result<(), CliError> {
    output::check_out_dir(out, force)?;
    let cfg = &l.config;
    let stopped =
        |e: crate::model::run::Stopped| CliError::Usage(format!("scenario `{}`: {e}", cfg.name));
    // With `--panel` the panel is streamed into the output directory year by year (under a
    // temporary name until the run's other files are written), so memory does not grow
    // with it; without it the run keeps its tables in memory and writes them at the end.
    let (res, stream) = if panel {
        let created = !out.exists();
        output::prepare_dir(out, force)?;
        let cleanup = || {
            if created {
                let _ = std::fs::remove_dir(out);
            }
        };
        let stream =
            output::panel::PanelStream::create(out, cfg, format).inspect_err(|_| cleanup())?;
        let start = std::time::Instant::now();
        let mut rec = output::panel::StreamingRecorder::new(cfg, stream);
        let world =
            match crate::model::run::run_with(cfg, &mut rec, &crate::model::run::Control::none()) {
                Ok(w) => w,
                Err(e) => {
                    drop(rec);
                    cleanup();
                    return Err(stopped(e));
                }
            };
        let elapsed = start.elapsed();
        let (recorder, stream) = rec.into_parts();
        let stream = stream.inspect_err(|_| cleanup())?;
        let res = replicate::RunResult {
            recorder,
            world,
            elapsed,
        };
        (res, Some(stream))
    } else {
        let res = replicate::run_controlled(cfg, false, &crate::model::run::Control::none())
            .map_err(stopped)?;
        output::prepare_dir(out, force)?;
        (res, None)
    };
    output::clear_run_files(out)?;
    let mut files = output::write_run(out, cfg, &res.recorder, format)?;
    if let Some(stream) = stream {
        files.push(stream.finish()?);
    }
    output::write_text(out, "scenario.resolved.toml", &resolved_text(l))?;
    let args: Vec<String> = std::env::args().collect();
    let entry = ScenarioEntry {
        role: "run",
        config: cfg,
        files: &l.files,
        overrides: set,
        seeds: &[cfg.seed],
    };
    let counts = serde_json::json!({
        "households": res.world.households.len(),
        "firms_at_end": res.world.firms.len(),
    });
    output::write_text(
        out,
        "manifest.json",
        &manifest_json(&args, scenario::FORMAT_VERSION, &[entry], counts),
    )?;
    output::write_text(
        out,
        "timing.json",
        &timing_json(res.elapsed.as_secs_f64(), rayon::current_num_threads()),
    )?;
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

/// Prints the loader's notes (e.g. an older scenario format) on stderr.
fn print_notes(l: &Loaded) {
    for n in &l.notes {
        eprintln!("note: {n}");
    }
}

fn resolved_text(l: &Loaded) -> String {
    l.resolved_text()
}

fn year_table(rows: &[YearRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>6} {:>9} {:>9} {:>9} {:>9} {:>12} {:>8}",
        "year", "poverty", "relapse", "rel/hh", "vulnerab", "mean income", "E/W"
    );
    for r in rows {
        let relapse = if r.relapse_rate.is_nan() {
            "—".to_string()
        } else {
            format!("{:.2}%", 100.0 * r.relapse_rate)
        };
        let _ = writeln!(
            s,
            "{:>6} {:>8.2}% {:>9} {:>8.2}% {:>8.2}% {:>12.0} {:>8.2}",
            r.year,
            100.0 * r.poverty_rate,
            relapse,
            100.0 * r.relapses_per_household,
            100.0 * r.vulnerability_share,
            r.mean_income,
            r.east_west_ratio
        );
    }
    s
}

/// Runs `n` replicates of A and of B with common random numbers (replicate `i` of both
/// uses seed `i` of one list derived from `master`), writes every replicate's tables, the
/// comparison (paired and Welch intervals of B − A), the manifest and the report.
#[allow(clippy::too_many_arguments)]
fn claims_command(
    ids: &[String],
    dir: &Path,
    replicates: Option<u32>,
    quick: bool,
    out: Option<&Path>,
    force: bool,
    accepted: Option<&Path>,
    resume: bool,
    shard: Option<&str>,
    doc: Option<&Path>,
) -> Result<(), CliError> {
    use crate::batch::claims;
    let shard = shard.map(parse_shard).transpose()?;
    if (resume || shard.is_some()) && out.is_none() {
        return Err(CliError::Usage(
            "--resume and --shard keep each claim's result in --out/results/: give --out".into(),
        ));
    }
    if shard.is_some() && doc.is_some() {
        return Err(CliError::Usage(
            "--shard runs part of the catalogue: write --doc from a --resume run once every shard is done".into(),
        ));
    }
    if doc.is_some() && !ids.is_empty() {
        return Err(CliError::Usage(
            "--doc writes the whole catalogue: give no claim identifiers with it".into(),
        ));
    }
    if let Some(n) = replicates {
        if !(2..=claims::MAX_REPLICATES).contains(&n) {
            return Err(CliError::Usage(format!(
                "--replicates must be between 2 and {}, got {n}",
                claims::MAX_REPLICATES
            )));
        }
    }
    let all = claims::load_dir(dir)?;
    for id in ids {
        if !all.iter().any(|c| &c.id == id) {
            let known: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
            return Err(CliError::Usage(format!(
                "no claim `{id}` in {}; known: {}",
                dir.display(),
                known.join(", ")
            )));
        }
    }
    let accepted = accepted.map(claims::Accepted::load).transpose()?;
    let keep = resume || shard.is_some();
    if let Some(o) = out {
        // Resumed and sharded runs share their directory; a fresh one must be empty.
        output::check_out_dir(o, force || keep)?;
    }
    let chosen: Vec<&claims::Claim> = all
        .iter()
        .filter(|c| ids.is_empty() || ids.contains(&c.id))
        .collect();
    let start = Instant::now();
    let mut results = Vec::new();
    let (mut ran, mut kept) = (0, 0);
    for (i, c) in chosen.iter().enumerate() {
        if let Some((k, n)) = shard {
            if i as u32 % n != k {
                continue;
            }
        }
        let key = claims::result_key(
            c,
            claims::replicates_for(c, replicates, quick),
            quick,
            accepted.as_ref(),
        );
        let stored = match out {
            Some(o) if keep => claims::Stored::load(o, &c.id, &key),
            _ => None,
        };
        let was_kept = stored.is_some();
        let r = match stored {
            Some(r) => {
                kept += 1;
                r
            }
            None => {
                let r = claims::run(c, replicates, quick, accepted.as_ref());
                ran += 1;
                if let Some(o) = out {
                    output::prepare_dir(o, true)?;
                    claims::Stored {
                        key,
                        result: r.clone(),
                    }
                    .save(o)?;
                }
                r
            }
        };
        let off = match (&r.ablated, r.isolates()) {
            (None, _) => String::new(),
            (Some(a), Some(false)) => format!(
                "; mechanism off: {} (does not isolate it)",
                a.verdict.as_str()
            ),
            (Some(a), _) => format!("; mechanism off: {}", a.verdict.as_str()),
        };
        println!(
            "[{}/{}] {}: {}{off}; by construction: {} ({} replicates, {:.1} s{})",
            i + 1,
            chosen.len(),
            r.id,
            r.full.verdict.as_str(),
            r.construction.0,
            r.replicates,
            r.seconds,
            if was_kept {
                ", kept from an earlier run"
            } else {
                ""
            }
        );
        results.push(r);
    }
    if let (Some((k, n)), Some(o)) = (shard, out) {
        println!(
            "shard {k}/{n}: ran {ran} claim(s), kept {kept}, in {}/results/; when every shard is done: xiezuo claims --out {} --resume",
            o.display(),
            o.display()
        );
        return Ok(());
    }
    // The command line that made an output (shown on the HTML page and in docs/CLAIMS.md).
    let command = |tail: &str| -> String {
        let mut c = String::from("xiezuo claims");
        for id in ids {
            c.push_str(&format!(" {id}"));
        }
        if quick {
            c.push_str(" --quick");
        }
        if let Some(n) = replicates {
            c.push_str(&format!(" --replicates {n}"));
        }
        if let Some(a) = &accepted {
            c.push_str(&format!(" --accepted {}", a.source));
        }
        c + tail
    };
    let md = claims::markdown(&results);
    println!("\n{md}");
    println!(
        "{} claims in {:.1} s",
        results.len(),
        start.elapsed().as_secs_f64()
    );
    if let Some(o) = out {
        output::prepare_dir(o, true)?;
        output::write_text(o, "claims.md", &md)?;
        let mut df = claims::frame(&results).map_err(|e| OutputError::Table {
            path: o.join("claims"),
            source: e,
        })?;
        output::write_frame(o, "claims", &mut df, Format::Parquet)?;
        output::write_frame(o, "claims", &mut df, Format::Csv)?;
        let charts = crate::present::claims::claims_charts(&o.join("charts"), &results)
            .map_err(crate::present::report::ReportError::from)?;
        let mut tail = format!(" --out {}", o.display());
        if resume {
            tail.push_str(" --resume");
        }
        crate::present::claims::claims_html(o, &chosen, &results, &command(&tail))?;
        println!(
            "wrote {}/claims.html, claims.md, claims.parquet, claims.csv and {} charts (PNG and SVG) in charts/",
            o.display(),
            charts.len() / 2
        );
    }
    if let Some(d) = doc {
        let text = claims::page(
            &all,
            &results,
            &command(&format!(" --doc {}", d.display())),
            start.elapsed().as_secs_f64(),
            accepted.as_ref(),
        );
        let name = d
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| CliError::Usage(format!("--doc {}: not a file name", d.display())))?;
        let parent = d.parent().filter(|p| !p.as_os_str().is_empty());
        output::write_text(parent.unwrap_or(Path::new(".")), name, &text)?;
        println!("wrote {}", d.display());
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn compare_command(
    a: &Loaded,
    b: &Loaded,
    reps: Option<u32>,
    master: Option<u64>,
    set: &[String],
    out: &Path,
    format: Format,
    force: bool,
) -> Result<(), CliError> {
    let n = reps.unwrap_or(a.replicates.max(b.replicates));
    if n == 0 {
        return Err(CliError::Usage("--replicates must be at least 1".into()));
    }
    if n > MAX_COMPARE_REPLICATES {
        return Err(CliError::Usage(format!(
            "--replicates must be at most {MAX_COMPARE_REPLICATES}, got {n}"
        )));
    }
    if a.config.name == b.config.name {
        return Err(CliError::Usage(format!(
            "both scenarios are named `{}`; their outputs would share one folder. Give one of \
             them another `name` in its file (--set applies to both)",
            a.config.name
        )));
    }
    // One seed list for both arms: from --seed, else from A's run.seed.
    let master = master.unwrap_or(a.config.seed);
    let streams = crate::model::rng::Streams::new(master);
    let seeds: Vec<u64> = (0..n).map(|i| streams.replicate_seed(i as u64)).collect();
    let (mut a, mut b) = (a.clone(), b.clone());
    a.config.seed = master;
    b.config.seed = master;
    output::check_out_dir(out, force)?;
    let start = Instant::now();
    let ra = replicate::replicates_seeded(&a.config, &seeds, true);
    let rb = replicate::replicates_seeded(&b.config, &seeds, true);
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
        "compare: A = `{na}`, B = `{nb}`, {n} replicates each (seeds from {master}), {:.1} s",
        start.elapsed().as_secs_f64()
    );
    print!("{}", compare_table(&rows, na, nb));
    output::prepare_dir(out, force)?;
    output::clear_run_files(out)?;
    // Outputs: each scenario's replicate tables and the comparison.
    for (l, results) in [(&a, &ra), (&b, &rb)] {
        let dir = out.join(&l.config.name);
        output::prepare_dir(&dir, true)?;
        for (i, r) in results.iter().enumerate() {
            let rdir = dir.join(format!("rep{i}"));
            output::prepare_dir(&rdir, true)?;
            let mut cfg = l.config.clone();
            cfg.seed = seeds[i];
            output::write_run(&rdir, &cfg, &r.recorder, format)?;
        }
        output::write_text(&dir, "scenario.resolved.toml", &resolved_text(l))?;
    }
    let mut df = crate::output::compare_frame(&rows, na, nb).map_err(|e| OutputError::Table {
        path: out.join("comparison"),
        source: e,
    })?;
    let path = output::write_frame(out, "comparison", &mut df, format)?;
    let args: Vec<String> = std::env::args().collect();
    let entries = [
        ScenarioEntry {
            role: "A",
            config: &a.config,
            files: &a.files,
            overrides: set,
            seeds: &seeds,
        },
        ScenarioEntry {
            role: "B",
            config: &b.config,
            files: &b.files,
            overrides: set,
            seeds: &seeds,
        },
    ];
    let counts = serde_json::json!({
        "replicates": n,
        "master_seed": master,
        "households": [ra[0].world.households.len(), rb[0].world.households.len()],
        "difference_interval": "paired (common random numbers); Welch kept as diff_ci95_welch",
    });
    output::write_text(
        out,
        "manifest.json",
        &manifest_json(&args, scenario::FORMAT_VERSION, &entries, counts),
    )?;
    output::write_text(
        out,
        "timing.json",
        &timing_json(start.elapsed().as_secs_f64(), rayon::current_num_threads()),
    )?;
    println!(
        "wrote {} and per-replicate tables under {}",
        path.display(),
        out.display()
    );
    let report = crate::present::report::write_report(out)?;
    println!("charts: {}/report/*.png (and .svg, .csv)", out.display());
    println!("report: {}", report.display());
    Ok(())
}

/// Most replicates `compare` runs (each keeps its tables in memory until written).
const MAX_COMPARE_REPLICATES: u32 = 1000;

fn compare_table(rows: &[CompareRow], a: &str, b: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "western relapse rate (per year) and poverty rate, mean ± 95% CI half-width across replicates;");
    let _ = writeln!(
        s,
        "B − A: paired interval (common random numbers: replicate i of A and of B share seed i)"
    );
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

/// The schema of scenario keys in the format asked for (`xiezuo keys`).
fn keys_text(format: KeysFormat) -> String {
    use crate::model::schema::{self, Default, KEYS, SECTIONS};
    match format {
        KeysFormat::Markdown => {
            let mut s = String::new();
            for (n, title) in SECTIONS {
                s.push_str(&format!(
                    "#### 7.10.{n} {title}\n\n{}\n",
                    schema::markdown(n)
                ));
            }
            s
        }
        KeysFormat::Json => {
            let rows: Vec<serde_json::Value> = KEYS
                .iter()
                .map(|k| {
                    let default = match k.default {
                        Default::Required => serde_json::Value::Null,
                        Default::Number(v) => serde_json::json!(v),
                        Default::Bool(b) => serde_json::json!(b),
                        Default::Text(t) => serde_json::json!(t),
                        Default::Absent(_) => serde_json::Value::Null,
                    };
                    let choices = match k.kind {
                        schema::Kind::Choice(c) => serde_json::json!(c),
                        _ => serde_json::Value::Null,
                    };
                    serde_json::json!({
                        "key": k.key,
                        "type": k.kind.as_str(),
                        "required": k.default == Default::Required,
                        "default": default,
                        "default_text": k.default_text(),
                        "unit": k.unit,
                        "min": k.min,
                        "max": k.max,
                        "min_exclusive": k.min_open,
                        "choices": choices,
                        "allowed": k.allowed(),
                        "meaning": k.doc,
                    })
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&rows).unwrap_or_default();
            s.push('\n');
            s
        }
        KeysFormat::Text => {
            let w = KEYS.iter().map(|k| k.key.len()).max().unwrap_or(0);
            let mut s = String::new();
            for k in KEYS {
                s.push_str(&format!(
                    "{:w$}  {:<9} {:<14} {}\n{:w$}  {}{}\n",
                    k.key,
                    k.kind.as_str(),
                    k.default_text().replace('`', ""),
                    k.allowed().replace("\\|", "|"),
                    "",
                    k.doc,
                    if k.unit.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", k.unit.replace('`', ""))
                    },
                ));
            }
            s
        }
    }
}

/// `xiezuo calibrate`: validates, runs (or resumes) the calibration with a progress line per
/// generation, prints the posterior and the fit, and optionally updates a Markdown file.
fn calibrate_command(
    file: &Path,
    out: &Path,
    resume: bool,
    doc: Option<&Path>,
) -> Result<(), CliError> {
    use crate::batch::calibrate;
    let c = calibrate::Calibration::load(file)?;
    if let Some(d) = doc {
        if d.exists() && !d.is_file() {
            return Err(CliError::Usage(format!(
                "--doc {}: not a file",
                d.display()
            )));
        }
    }
    println!(
        "calibrating `{}`: {} parameters, {} targets ({} held out), population {}, up to {} generations",
        c.name,
        c.parameters.len(),
        c.targets.targets.len(),
        c.targets.targets.iter().filter(|t| t.holdout).count(),
        c.abc.population,
        c.abc.generations
    );
    let start = Instant::now();
    let progress = |g: &calibrate::GenerationDone| {
        println!(
            "generation {}: ε = {:.4}, {} candidates, acceptance {:.3}, ESS {:.0}{} ({:.0} s)",
            g.index,
            g.epsilon,
            g.evaluations,
            g.acceptance,
            g.ess,
            if g.complete {
                ""
            } else {
                ", INCOMPLETE (max_evaluations reached)"
            },
            start.elapsed().as_secs_f64()
        );
    };
    let opts = calibrate::Options {
        out: out.to_path_buf(),
        resume,
        progress: Some(&progress),
        tick: None,
    };
    let o = calibrate::run(&c, &opts)?;
    print!("{}", calibrate::markdown(&c, &o));
    println!(
        "{} runs in {:.0} s; wrote {}",
        o.runs,
        start.elapsed().as_secs_f64(),
        out.display()
    );
    if let Some(d) = doc {
        calibrate::update_doc(d, &c.name, &calibrate::markdown(&c, &o))?;
        println!("updated {}", d.display());
    }
    Ok(())
}
