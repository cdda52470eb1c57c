//! Output: the recorder that keeps every row of a run ([`recorder`]), the tables built from
//! it ([`tables`]), comparison rows ([`compare`]), and the writers for Parquet/CSV, the resolved
//! scenario and the manifest. Files are written under a temporary name and renamed.

pub mod compare;
pub mod manifest;
pub mod panel;
pub mod recorder;
pub mod tables;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::model::config::Config;
pub use compare::{CompareRow, YearRow};
pub use recorder::TableRecorder;
pub use tables::{
    accounts_frame, compare_frame, days_since_epoch, flows_frame, links_frame, markets_frame,
    metrics_frame, panel_frame,
};

/// Errors of the output layer.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output directory exists and is not empty.
    #[error("output directory {0} exists and is not empty; choose another --out or pass --force")]
    NotEmpty(PathBuf),
    /// The output path cannot be an output directory (a file, or a parent that is a file
    /// or cannot be created).
    #[error("--out {path}: {reason}")]
    BadOutDir {
        /// The path given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Table building or writing failed.
    #[error("{path}: {source}")]
    Table {
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        source: PolarsError,
    },
}

/// Table file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Apache Parquet (default).
    #[default]
    Parquet,
    /// Comma-separated values.
    Csv,
}

impl Format {
    /// File extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

/// Checks that `dir` can be an output directory, without creating anything: it is a
/// directory or does not exist, it is empty unless `force`, and its nearest existing
/// ancestor is a directory. Call it before a run so that bad arguments cost no work and
/// leave nothing behind.
pub fn check_out_dir(dir: &Path, force: bool) -> Result<(), OutputError> {
    let bad = |reason: &str| OutputError::BadOutDir {
        path: dir.into(),
        reason: reason.into(),
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(bad("exists and is not a directory"));
        }
        let non_empty = fs::read_dir(dir)
            .map_err(|e| bad(&e.to_string()))?
            .next()
            .is_some();
        if non_empty && !force {
            return Err(OutputError::NotEmpty(dir.into()));
        }
        return Ok(());
    }
    let mut up = dir.parent();
    while let Some(p) = up {
        if p.as_os_str().is_empty() || p.exists() {
            if !p.as_os_str().is_empty() && !p.is_dir() {
                return Err(bad(&format!("{} is not a directory", p.display())));
            }
            break;
        }
        up = p.parent();
    }
    Ok(())
}

/// Prepares an output directory: [`check_out_dir`], then creates it (with its parents).
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), OutputError> {
    check_out_dir(dir, force)?;
    fs::create_dir_all(dir).map_err(|e| OutputError::BadOutDir {
        path: dir.into(),
        reason: format!("cannot be created: {e}"),
    })
}

/// Files a run writes into its directory (tables in either format, the resolved scenario,
/// manifests, charts and report folders).
pub const RUN_FILES: [&str; 16] = [
    "accounts.parquet",
    "accounts.csv",
    "markets.parquet",
    "markets.csv",
    "metrics.parquet",
    "metrics.csv",
    "flows.parquet",
    "flows.csv",
    "links.parquet",
    "links.csv",
    "households.parquet",
    "households.csv",
    "scenario.resolved.toml",
    "manifest.json",
    "timing.json",
    "comparison.parquet",
];

/// Removes what an earlier run or comparison left in `dir` (the files in [`RUN_FILES`],
/// `comparison.csv`, the `report/` and `charts/` folders, and the scenario folders of a
/// comparison, i.e. subfolders holding a `scenario.resolved.toml`), so that `--force` never
/// leaves a stale table beside new ones. Other files are left alone.
pub fn clear_run_files(dir: &Path) -> Result<(), OutputError> {
    let io = |p: PathBuf| move |e: std::io::Error| OutputError::Io { path: p, source: e };
    for f in RUN_FILES.iter().chain(["comparison.csv"].iter()) {
        let p = dir.join(f);
        if p.is_file() {
            fs::remove_file(&p).map_err(io(p.clone()))?;
        }
    }
    let mut dirs: Vec<PathBuf> = ["report", "charts"].iter().map(|d| dir.join(d)).collect();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && p.join("scenario.resolved.toml").is_file() {
                dirs.push(p);
            }
        }
    }
    for p in dirs {
        if p.is_dir() {
            fs::remove_dir_all(&p).map_err(io(p.clone()))?;
        }
    }
    Ok(())
}

/// Writes a frame as `dir/stem.ext` via a temporary file (named with the process id, so
/// concurrent writers of the same file never share one) and a rename.
pub fn write_frame(
    dir: &Path,
    stem: &str,
    df: &mut DataFrame,
    format: Format,
) -> Result<PathBuf, OutputError> {
    let path = dir.join(format!("{stem}.{}", format.ext()));
    let tmp = dir.join(format!(
        ".{stem}.{}.{}.tmp",
        format.ext(),
        std::process::id()
    ));
    let io = |e: std::io::Error| OutputError::Io {
        path: tmp.clone(),
        source: e,
    };
    let file = fs::File::create(&tmp).map_err(io)?;
    let res = match format {
        Format::Parquet => ParquetWriter::new(file).finish(df).map(|_| ()),
        Format::Csv => CsvWriter::new(file).finish(df),
    };
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(OutputError::Table { path, source: e });
    }
    fs::rename(&tmp, &path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        OutputError::Io {
            path: path.clone(),
            source: e,
        }
    })?;
    Ok(path)
}

/// Writes a text file via a temporary file and a rename.
pub fn write_text(dir: &Path, name: &str, text: &str) -> Result<PathBuf, OutputError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let io = |e: std::io::Error| OutputError::Io {
        path: tmp.clone(),
        source: e,
    };
    let mut f = fs::File::create(&tmp).map_err(io)?;
    // On a full disk the write fails: remove the temporary rather than leave it behind.
    if let Err(e) = f.write_all(text.as_bytes()).and_then(|_| f.sync_data()) {
        drop(f);
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    drop(f);
    fs::rename(&tmp, &path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        OutputError::Io {
            path: path.clone(),
            source: e,
        }
    })?;
    Ok(path)
}

/// Reads a Parquet file into a frame.
pub fn read_parquet(path: &Path) -> Result<DataFrame, OutputError> {
    let f = fs::File::open(path).map_err(|e| OutputError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    ParquetReader::new(f)
        .finish()
        .map_err(|e| OutputError::Table {
            path: path.to_path_buf(),
            source: e,
        })
}

/// Writes every table of a finished run into `dir`.
pub fn write_run(
    dir: &Path,
    cfg: &Config,
    rec: &TableRecorder,
    format: Format,
) -> Result<Vec<PathBuf>, OutputError> {
    fn table(path: &'static str) -> impl Fn(PolarsError) -> OutputError {
        move |e| OutputError::Table {
            path: PathBuf::from(path),
            source: e,
        }
    }
    let mut out = Vec::new();
    let mut m = metrics_frame(cfg, &rec.metrics).map_err(table("metrics"))?;
    out.push(write_frame(dir, "metrics", &mut m, format)?);
    let mut f = flows_frame(cfg, &rec.flows).map_err(table("flows"))?;
    out.push(write_frame(dir, "flows", &mut f, format)?);
    let mut l = links_frame(cfg, &rec.links).map_err(table("links"))?;
    out.push(write_frame(dir, "links", &mut l, format)?);
    let mut k = markets_frame(cfg, &rec.markets).map_err(table("markets"))?;
    out.push(write_frame(dir, "markets", &mut k, format)?);
    let mut a = accounts_frame(cfg, &rec.accounts).map_err(table("accounts"))?;
    out.push(write_frame(dir, "accounts", &mut a, format)?);
    if rec.panel {
        let mut p = panel_frame(cfg, &rec.panel_rows).map_err(table("households"))?;
        out.push(write_frame(dir, "households", &mut p, format)?);
    }
    Ok(out)
}
