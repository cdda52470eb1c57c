//! `xiezuo._native`: the native half of the Python module `xiezuo` (python/xiezuo/ is the
//! other half). It loads scenarios, runs them and batches through the library's run API
//! (the same functions the command line calls, so results are identical), and hands every
//! table to Python as a polars DataFrame through the Arrow C stream interface: the columns
//! cross without a copy and without pyarrow. The GIL is released while a simulation runs;
//! progress reaches a Python callback at tick (run) or run (batch) boundaries, and an
//! exception in the callback, or Ctrl-C, stops the simulation at the next boundary.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

use polars::prelude::*;
use polars_arrow::array::StructArray;
use polars_arrow::ffi::{export_iterator, ArrowArrayStream};
use polars_arrow::record_batch::RecordBatch;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};

use xiezuo::batch::replicate;
use xiezuo::model::config::Config;
use xiezuo::model::run::{Control, Progress, Stopped};
use xiezuo::output::{self, compare as cmp, tables};
use xiezuo::scenario::{self as scen, Loaded};

create_exception!(
    xiezuo,
    XiezuoError,
    PyException,
    "An error of xiezuo: a bad scenario, batch or value (the message is the command line's: file, line, key and the allowed values)."
);
create_exception!(
    xiezuo,
    Cancelled,
    XiezuoError,
    "A simulation stopped before its end (its progress callback raised, or Ctrl-C)."
);

fn err(e: impl std::fmt::Display) -> PyErr {
    XiezuoError::new_err(e.to_string())
}

/// `df` as an Arrow C stream: one struct array per aligned chunk (the columns' buffers are
/// shared, not copied).
fn df_to_arrow_stream(mut df: DataFrame) -> PolarsResult<ArrowArrayStream> {
    polars_ensure!(df.width() > 0, InvalidOperation: "cannot export a frame without columns");
    df.align_chunks_par();
    let compat = CompatLevel::newest();
    let fields: Vec<ArrowField> = df.schema().to_arrow(compat).into_iter_values().collect();
    let dtype = ArrowDataType::Struct(fields);
    let batches: Vec<RecordBatch> = df.iter_chunks(compat, false).collect();
    let item = dtype.clone();
    let iter = batches.into_iter().map(move |rb| {
        let height = rb.height();
        Ok(Box::new(StructArray::new(
            item.clone(),
            height,
            rb.into_arrays(),
            None,
        )) as ArrayRef)
    });
    Ok(export_iterator(
        Box::new(iter),
        ArrowField::new(PlSmallStr::EMPTY, dtype, false),
    ))
}

/// A table on its way to Python: implements the Arrow PyCapsule stream interface, which
/// `polars.DataFrame(...)` reads.
#[pyclass(frozen, name = "ArrowTable", module = "xiezuo._native")]
struct ArrowTable {
    df: DataFrame,
}

#[pymethods]
impl ArrowTable {
    /// The Arrow C stream of the table (the PyCapsule interface).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let stream = df_to_arrow_stream(self.df.clone()).map_err(err)?;
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }
}

/// A polars.DataFrame holding `df`'s columns.
fn to_polars<'py>(py: Python<'py>, df: DataFrame) -> PyResult<Bound<'py, PyAny>> {
    if df.width() == 0 {
        return py.import("polars")?.getattr("DataFrame")?.call0();
    }
    py.import("polars")?
        .getattr("DataFrame")?
        .call1((ArrowTable { df },))
}

/// A validated scenario: a built-in (`builtin:NAME`) or a file, with overrides applied.
#[pyclass(frozen, name = "Scenario", module = "xiezuo")]
struct Scenario {
    loaded: Loaded,
}

#[pymethods]
impl Scenario {
    /// Its name (`name` in the file).
    #[getter]
    fn name(&self) -> String {
        self.loaded.config.name.clone()
    }
    /// The seed its runs use (`run.seed`, or the one given).
    #[getter]
    fn seed(&self) -> u64 {
        self.loaded.config.seed
    }
    /// Simulated households over all regions.
    #[getter]
    fn households(&self) -> u64 {
        self.loaded
            .config
            .regions
            .iter()
            .map(|r| r.households as u64)
            .sum()
    }
    /// Ticks it runs (after any `years` limit).
    #[getter]
    fn ticks(&self) -> u32 {
        self.loaded.config.calendar.ticks
    }
    /// Replicates it asks for (`run.replicates`).
    #[getter]
    fn replicates(&self) -> u32 {
        self.loaded.replicates
    }
    /// The fully resolved scenario as TOML (what `run` writes as scenario.resolved.toml);
    /// saved to a file it runs again with `xiezuo run FILE` to the same results (give the
    /// same `years` if the horizon was cut: the file notes it).
    #[getter]
    fn toml(&self) -> String {
        self.loaded.resolved_text()
    }
    /// Notes that did not stop loading (e.g. an older scenario format).
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.loaded.notes.clone()
    }
    fn __repr__(&self) -> String {
        let c = &self.loaded.config;
        format!(
            "<xiezuo.Scenario `{}`: {} regions, {} links, {} ticks, {} households, seed {}>",
            c.name,
            c.regions.len(),
            c.links.len(),
            c.calendar.ticks,
            self.households(),
            c.seed
        )
    }
}

/// Loads and validates a scenario (`builtin:NAME` or a path) with `key=value` overrides, a
/// seed and a horizon in years.
#[pyfunction]
#[pyo3(signature = (spec, set=Vec::new(), seed=None, years=None))]
fn scenario(
    spec: PathBuf,
    set: Vec<String>,
    seed: Option<u64>,
    years: Option<u32>,
) -> PyResult<Scenario> {
    let loaded = scen::load(&spec, &set).map_err(err)?;
    derive(&Scenario { loaded }, seed, years)
}

/// The same scenario with another seed and/or a shorter horizon in years.
#[pyfunction]
#[pyo3(signature = (scenario, seed=None, years=None))]
fn derive(scenario: &Scenario, seed: Option<u64>, years: Option<u32>) -> PyResult<Scenario> {
    let mut loaded = scenario.loaded.clone();
    if let Some(y) = years {
        let y = std::num::NonZeroU32::new(y).ok_or_else(|| err("years must be at least 1"))?;
        loaded.stop_after_years(y);
    }
    if let Some(s) = seed {
        loaded.config.seed = s;
    }
    Ok(Scenario { loaded })
}

/// Calls `f` with the GIL released, passing it a cancel flag and a progress reporter that
/// calls `callback(done, total)` (with the GIL); the flag is set when the callback raises
/// or Ctrl-C arrives, and that exception is raised after `f` returns.
fn with_progress<T: Send>(
    py: Python<'_>,
    callback: Option<Py<PyAny>>,
    f: impl FnOnce(&AtomicBool, &(dyn Fn(Progress) + Sync)) -> T + Send,
) -> PyResult<T> {
    let cancel = AtomicBool::new(false);
    let failure: Mutex<Option<PyErr>> = Mutex::new(None);
    let report = |p: Progress| {
        Python::attach(|py| {
            let r = py.check_signals().and_then(|_| match &callback {
                Some(cb) => cb.call1(py, (p.done, p.total)).map(|_| ()),
                None => Ok(()),
            });
            if let Err(e) = r {
                if let Ok(mut slot) = failure.lock() {
                    slot.get_or_insert(e);
                }
                cancel.store(true, Ordering::Relaxed);
            }
        })
    };
    let out = py.detach(|| f(&cancel, &report));
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(out)
}

/// Runs a scenario once; returns its tables by name (metrics, flows, links, markets,
/// accounts, and households with `panel`), each a polars.DataFrame equal to the command
/// line's Parquet file.
#[pyfunction]
#[pyo3(signature = (scenario, panel=false, progress=None))]
fn run<'py>(
    py: Python<'py>,
    scenario: &Scenario,
    panel: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let cfg = &scenario.loaded.config;
    let res = with_progress(py, progress, |cancel, report| {
        let ctl = Control::default().with_cancel(cancel).with_progress(report);
        replicate::run_controlled(cfg, panel, &ctl)
    })?
    .map_err(|e| Cancelled::new_err(e.to_string()))?;
    let rec = &res.recorder;
    let mut frames: Vec<(&str, PolarsResult<DataFrame>)> = vec![
        ("metrics", tables::metrics_frame(cfg, &rec.metrics)),
        ("flows", tables::flows_frame(cfg, &rec.flows)),
        ("links", tables::links_frame(cfg, &rec.links)),
        ("markets", tables::markets_frame(cfg, &rec.markets)),
        ("accounts", tables::accounts_frame(cfg, &rec.accounts)),
    ];
    if panel {
        frames.push(("households", tables::panel_frame(cfg, &rec.panel_rows)));
    }
    let out = PyDict::new(py);
    for (name, df) in frames {
        out.set_item(name, to_polars(py, df.map_err(err)?)?)?;
    }
    Ok(out)
}

/// Compares two scenarios over `replicates` paired runs (common seeds from `seed`, else
/// A's), as `xiezuo compare`: the yearly table of both arms' means and B − A with 95%
/// intervals (the command line's comparison.parquet).
#[pyfunction]
#[pyo3(signature = (a, b, replicates=20, seed=None, progress=None))]
fn compare<'py>(
    py: Python<'py>,
    a: &Scenario,
    b: &Scenario,
    replicates: u32,
    seed: Option<u64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    if !(1..=100_000).contains(&replicates) {
        return Err(err(format!(
            "replicates must be between 1 and 100000, got {replicates}"
        )));
    }
    let master = seed.unwrap_or(a.loaded.config.seed);
    let streams = xiezuo::model::rng::Streams::new(master);
    let seeds: Vec<u64> = (0..replicates)
        .map(|i| streams.replicate_seed(i as u64))
        .collect();
    let (mut ca, mut cb) = (a.loaded.config.clone(), b.loaded.config.clone());
    ca.seed = master;
    cb.seed = master;
    let n = seeds.len() as u32;
    // Progress: runs finished over both arms (the runs go in parallel); a cancel stops
    // every run at its next tick.
    let rows = with_progress(py, progress, |cancel, report| {
        let done = AtomicU32::new(0);
        let ctl = Control::default().with_cancel(cancel);
        let arm = |cfg: &Config| -> Result<Vec<Vec<cmp::YearRow>>, Stopped> {
            replicate::replicates_controlled(cfg, &seeds, false, &ctl, |r| {
                report(Progress {
                    done: done.fetch_add(1, Ordering::Relaxed) + 1,
                    total: 2 * n,
                    burn_in: false,
                });
                cmp::yearly(cfg, &r.recorder)
            })
        };
        Ok::<_, Stopped>(cmp::compare(&arm(&ca)?, &arm(&cb)?))
    })?
    .map_err(|e| Cancelled::new_err(e.to_string()))?;
    let df = output::compare_frame(&rows, &ca.name, &cb.name).map_err(err)?;
    to_polars(py, df)
}

/// Runs a batch file into `out` as `xiezuo batch` (parallel, resumable), then merges it
/// (`xiezuo merge`); returns (runs in the batch, run now, failed). `progress(done, total)`
/// is called after every run; if it raises (or on Ctrl-C) no further run starts and the
/// exception propagates (`resume=True` continues later). The tables are then read with
/// `xiezuo.read(out)`.
#[pyfunction]
#[pyo3(signature = (file, out, jobs=None, resume=false, progress=None))]
fn batch(
    py: Python<'_>,
    file: PathBuf,
    out: PathBuf,
    jobs: Option<usize>,
    resume: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<(usize, usize, usize)> {
    let exp = xiezuo::batch::experiment::Experiment::load(&file).map_err(err)?;
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let opts = xiezuo::batch::runner::BatchOptions {
        out: out.clone(),
        jobs,
        resume,
        shard: None,
        text,
    };
    let report = with_progress(py, progress, |cancel, report| {
        let each = |done: usize, total: usize| {
            report(Progress {
                done: done as u32,
                total: total as u32,
                burn_in: false,
            })
        };
        let ctl = xiezuo::batch::runner::BatchControl {
            progress: Some(&each),
            cancel: Some(cancel),
        };
        xiezuo::batch::runner::run_batch_with(&exp, &opts, &ctl)
    })?
    .map_err(err)?;
    py.detach(|| xiezuo::batch::runner::merge(&out, &[]))
        .map_err(err)?;
    Ok((report.total, report.done, report.failed))
}

/// The built-in scenarios: (name, description) pairs.
#[pyfunction]
fn scenarios() -> Vec<(String, String)> {
    scen::BUILTIN
        .iter()
        .map(|(n, _)| (n.to_string(), scen::builtin_description(n).to_string()))
        .collect()
}

/// Every scenario key with its type, default, unit, allowed values and meaning (the same
/// schema the validator and ODD §7.10 use), as a polars.DataFrame.
#[pyfunction]
fn keys(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    use xiezuo::model::schema::KEYS;
    let col = |name: &str, v: Vec<String>| Column::new(name.into(), v);
    let df = DataFrame::new_infer_height(vec![
        col("key", KEYS.iter().map(|k| k.key.to_string()).collect()),
        col(
            "type",
            KEYS.iter().map(|k| k.kind.as_str().to_string()).collect(),
        ),
        col("default", KEYS.iter().map(|k| k.default_text()).collect()),
        col("unit", KEYS.iter().map(|k| k.unit.to_string()).collect()),
        Column::new("min".into(), KEYS.iter().map(|k| k.min).collect::<Vec<_>>()),
        Column::new("max".into(), KEYS.iter().map(|k| k.max).collect::<Vec<_>>()),
        col("allowed", KEYS.iter().map(|k| k.allowed()).collect()),
        col("meaning", KEYS.iter().map(|k| k.doc.to_string()).collect()),
    ])
    .map_err(err)?;
    to_polars(py, df)
}

/// The module `xiezuo._native`.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("XiezuoError", m.py().get_type::<XiezuoError>())?;
    m.add("Cancelled", m.py().get_type::<Cancelled>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Scenario>()?;
    m.add_class::<ArrowTable>()?;
    m.add_function(wrap_pyfunction!(scenario, m)?)?;
    m.add_function(wrap_pyfunction!(derive, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(batch, m)?)?;
    m.add_function(wrap_pyfunction!(scenarios, m)?)?;
    m.add_function(wrap_pyfunction!(keys, m)?)?;
    Ok(())
}
