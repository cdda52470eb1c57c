//! Output: the recorder that keeps every row of a run ([`recorder`]), the tables built from
//! it ([`tables`]), comparison rows ([`compare`]), and the writers for Parquet/CSV, the resolved
//! scenario and the manifest. Files are written under a temporary name and renamed.

pub mod compare;
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
    compare_frame, days_since_epoch, flows_frame, links_frame, metrics_frame, panel_frame,
};

/// Errors of the output layer.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output directory exists and is not empty.
    #[error("output directory {0} exists and is not empty; choose another --out or pass --force")]
    NotEmpty(PathBuf),
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

/// Prepares an output directory: refuses a non-empty one unless `force`.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), OutputError> {
    if dir.exists() {
        let non_empty = fs::read_dir(dir)
            .map_err(|e| OutputError::Io {
                path: dir.into(),
                source: e,
            })?
            .next()
            .is_some();
        if non_empty && !force {
            return Err(OutputError::NotEmpty(dir.into()));
        }
    }
    fs::create_dir_all(dir).map_err(|e| OutputError::Io {
        path: dir.into(),
        source: e,
    })
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
    fs::rename(&tmp, &path).map_err(|e| OutputError::Io {
        path: path.clone(),
        source: e,
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
    f.write_all(text.as_bytes()).map_err(io)?;
    drop(f);
    fs::rename(&tmp, &path).map_err(|e| OutputError::Io {
        path: path.clone(),
        source: e,
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
    if rec.panel {
        let mut p = panel_frame(cfg, &rec.panel_rows).map_err(table("households"))?;
        out.push(write_frame(dir, "households", &mut p, format)?);
    }
    Ok(out)
}
