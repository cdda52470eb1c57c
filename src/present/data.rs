//! Reading run, comparison and batch directories (Parquet, or CSV from `--format csv`) into
//! curves (mean and 95% band across replicates), flow series, yearly values, survival spells,
//! the comparison table and the list of failed batch runs, for the charts and the report.
//!
//! Where a value sits on the time axis (the same in every command, chart and CSV): a value
//! of a tick at the start of the tick's first month, `x = year + (month − 1)/12`; a value of
//! a year (an annual assessment, a year's flow total, a row of the yearly comparison) in the
//! middle of that year, `x = year + 0.5`, where `year` is the calendar year of the
//! assessment (the year's last tick), the year the terminal prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::output::read_parquet;
use crate::output::OutputError;
use crate::present::names::ANNUAL_MEASURES;
use crate::stats::mean_ci;
use crate::stats::survival::Spell;

/// Errors reading outputs for charts.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Nothing to plot in the directory.
    #[error("{0}")]
    Missing(String),
    /// A column is missing or of the wrong type.
    #[error("{path}: {message}")]
    Column {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Reading failed.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// What `x` means for a value of a tick (see the module doc).
pub const X_TICK: &str = "start of the tick: year + (month - 1)/12";
/// What `x` means for a value of a year (see the module doc).
pub const X_YEAR: &str = "middle of the year: year + 0.5";

/// One table read from a directory, tagged with its scenario and replicate.
#[derive(Debug, Clone)]
pub struct Part {
    /// Scenario label.
    pub scenario: String,
    /// Replicate index (or run id within the scenario).
    pub replicate: u32,
    /// Extra series label (swept values), empty when none.
    pub point: String,
    /// Swept parameters of a batch run with their numeric values (`key`, value).
    pub params: Vec<(String, f64)>,
    /// The frame.
    pub df: DataFrame,
    /// Directory the part came from (for resolved scenarios).
    pub dir: PathBuf,
    /// The file the frame was read from (for messages).
    pub file: PathBuf,
}

impl Part {
    /// Series label: the scenario, with the swept values in brackets.
    pub fn label(&self) -> String {
        if self.point.is_empty() {
            self.scenario.clone()
        } else {
            format!("{} ({})", self.scenario, self.point)
        }
    }

    fn col_err(&self, e: PolarsError) -> DataError {
        DataError::Column {
            path: self.file.clone(),
            message: e.to_string(),
        }
    }

    /// A numeric column as `f64`.
    pub fn f64s(&self, name: &str) -> Result<Float64Chunked, DataError> {
        self.df
            .column(name)
            .and_then(|c| c.cast(&DataType::Float64))
            .and_then(|c| c.f64().cloned())
            .map_err(|e| self.col_err(e))
    }

    /// A string column.
    pub fn strs(&self, name: &str) -> Result<StringChunked, DataError> {
        self.df
            .column(name)
            .and_then(|c| c.str().cloned())
            .map_err(|e| self.col_err(e))
    }

    /// An integer column as `u32`.
    pub fn u32s(&self, name: &str) -> Result<UInt32Chunked, DataError> {
        self.df
            .column(name)
            .and_then(|c| c.cast(&DataType::UInt32))
            .and_then(|c| c.u32().cloned())
            .map_err(|e| self.col_err(e))
    }

    /// Ticks per year: the stored `ticks_per_year` column; for outputs written before it
    /// existed, guessed from the spacing of dates (wrong for yearly batch rows).
    pub fn ticks_per_year(&self) -> Result<u32, DataError> {
        if self.df.column("ticks_per_year").is_ok() {
            let c = self.u32s("ticks_per_year")?;
            return Ok(c.get(0).unwrap_or(12).clamp(1, 12));
        }
        Ok(guess_ticks_per_year(&decimal_years(&self.df, &self.file)?))
    }
}

/// What kind of output directory this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One `xiezuo run`.
    Run,
    /// `xiezuo compare`: `<scenario>/rep<i>/`.
    Compare,
    /// A merged batch (`metrics.parquet` with `run_id`).
    Batch,
}

/// `dir/stem.parquet` or, failing that, `dir/stem.csv` (runs written with `--format csv`).
pub fn table_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    ["parquet", "csv"]
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .find(|p| p.is_file())
}

/// Columns that are unsigned integers in the Parquet outputs.
const U32_COLUMNS: [&str; 8] = [
    "tick",
    "link",
    "household",
    "last_exit_tick",
    "ticks_per_year",
    "run_id",
    "point",
    "replicate",
];

/// Reads a Parquet or CSV table; CSV columns get the types they have in Parquet.
pub fn read_frame(path: &Path) -> Result<DataFrame, DataError> {
    if path.extension().is_some_and(|e| e == "parquet") {
        return Ok(read_parquet(path)?);
    }
    let err = |e: PolarsError| DataError::Column {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .with_parse_options(CsvParseOptions::default().with_try_parse_dates(true))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|r| r.finish())
        .map_err(err)?;
    let mut cols = Vec::with_capacity(df.width());
    for c in df.columns() {
        let name = c.name().as_str();
        let c = if U32_COLUMNS.contains(&name) {
            c.cast(&DataType::UInt32).map_err(err)?
        } else if name == "year" {
            c.cast(&DataType::Int32).map_err(err)?
        } else if name == "date" && c.dtype() != &DataType::Date {
            c.cast(&DataType::Date).map_err(err)?
        } else if c.dtype().is_integer() {
            c.cast(&DataType::Float64).map_err(err)?
        } else {
            c.clone()
        };
        cols.push(c);
    }
    DataFrame::new_infer_height(cols).map_err(err)
}

/// The column names of a Parquet or CSV table, without reading its rows.
fn column_names(path: &Path) -> Result<Vec<String>, DataError> {
    let err = |message: String| DataError::Column {
        path: path.to_path_buf(),
        message,
    };
    if path.extension().is_some_and(|e| e == "parquet") {
        let f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let schema = ParquetReader::new(f)
            .schema()
            .map_err(|e| err(e.to_string()))?;
        Ok(schema.iter_names().map(|n| n.to_string()).collect())
    } else {
        use std::io::BufRead as _;
        let f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let mut head = String::new();
        std::io::BufReader::new(f)
            .read_line(&mut head)
            .map_err(|e| err(e.to_string()))?;
        Ok(head
            .trim_end()
            .split(',')
            .map(|c| c.trim_matches('"').to_string())
            .collect())
    }
}

fn scenario_name(dir: &Path) -> String {
    let resolved = dir.join("scenario.resolved.toml");
    std::fs::read_to_string(&resolved)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| t.get("name").and_then(|v| v.as_str()).map(str::to_string))
        .unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        })
}

/// Detects the layout of `dir`.
pub fn layout(dir: &Path) -> Result<Layout, DataError> {
    if let Some(f) = table_file(dir, "metrics") {
        return Ok(if column_names(&f)?.iter().any(|c| c == "run_id") {
            Layout::Batch
        } else {
            Layout::Run
        });
    }
    if !compare_dirs(dir).is_empty() {
        return Ok(Layout::Compare);
    }
    Err(DataError::Missing(format!(
        "{} holds no metrics.parquet or metrics.csv (a run or a merged batch) nor <scenario>/rep<i>/ directories (a comparison); for a batch, run `xiezuo merge {}` first",
        dir.display(),
        dir.display()
    )))
}

/// `(scenario label, replicate, dir)` of a comparison directory, sorted.
pub fn compare_dirs(dir: &Path) -> Vec<(String, u32, PathBuf)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut scen: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    scen.sort();
    for s in scen {
        let Ok(reps) = std::fs::read_dir(&s) else {
            continue;
        };
        let mut reps: Vec<(u32, PathBuf)> = reps
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.strip_prefix("rep")
                    .and_then(|n| n.parse::<u32>().ok())
                    .map(|i| (i, e.path()))
            })
            .filter(|(_, p)| table_file(p, "metrics").is_some())
            .collect();
        reps.sort();
        let label = scenario_name(&s);
        for (i, p) in reps {
            out.push((label.clone(), i, p));
        }
    }
    // Two folders holding scenarios of the same name are told apart by their folder names.
    let folders = |label: &str| {
        let mut f: Vec<&Path> = out
            .iter()
            .filter(|(l, _, _)| l == label)
            .filter_map(|(_, _, p)| p.parent())
            .collect();
        f.dedup();
        f.len()
    };
    let clash: Vec<bool> = out.iter().map(|(l, _, _)| folders(l) > 1).collect();
    for ((label, _, p), c) in out.iter_mut().zip(clash) {
        if c {
            if let Some(f) = p.parent().and_then(|f| f.file_name()) {
                *label = f.to_string_lossy().to_string();
            }
        }
    }
    out
}

/// Reads `table` (`metrics`, `flows`, `links`, `households`) from every run in `dir`.
pub fn read_table(dir: &Path, table: &str) -> Result<Vec<Part>, DataError> {
    match layout(dir)? {
        Layout::Run => {
            let Some(f) = table_file(dir, table) else {
                return Ok(Vec::new());
            };
            Ok(vec![Part {
                scenario: scenario_name(dir),
                replicate: 0,
                point: String::new(),
                params: Vec::new(),
                df: read_frame(&f)?,
                dir: dir.to_path_buf(),
                file: f,
            }])
        }
        Layout::Compare => {
            let mut out = Vec::new();
            for (label, rep, p) in compare_dirs(dir) {
                if let Some(f) = table_file(&p, table) {
                    let scen_dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
                    out.push(Part {
                        scenario: label,
                        replicate: rep,
                        point: String::new(),
                        params: Vec::new(),
                        df: read_frame(&f)?,
                        dir: scen_dir,
                        file: f,
                    });
                }
            }
            Ok(out)
        }
        Layout::Batch => {
            let Some(f) = table_file(dir, table) else {
                return Ok(Vec::new());
            };
            let df = read_frame(&f)?;
            split_batch(&f, df, dir)
        }
    }
}

/// Splits a merged batch table into one part per run, labelled by scenario and swept values.
fn split_batch(path: &Path, df: DataFrame, dir: &Path) -> Result<Vec<Part>, DataError> {
    let col_err = |m: String| DataError::Column {
        path: path.to_path_buf(),
        message: m,
    };
    let u32col = |name: &str| {
        df.column(name)
            .and_then(|c| c.cast(&DataType::UInt32))
            .and_then(|c| c.u32().cloned())
            .map_err(|e| col_err(e.to_string()))
    };
    let run = u32col("run_id")?;
    let rep = u32col("replicate")?;
    let scen = df
        .column("scenario")
        .and_then(|c| c.str().cloned())
        .map_err(|e| col_err(e.to_string()))?;
    let params: Vec<(String, Column)> = df
        .columns()
        .iter()
        .filter(|c| c.name().starts_with("param."))
        .map(|c| (c.name().trim_start_matches("param.").to_string(), c.clone()))
        .collect();
    let mut rows: BTreeMap<u32, Vec<IdxSize>> = BTreeMap::new();
    for (i, r) in run.iter().enumerate() {
        rows.entry(r.unwrap_or(0)).or_default().push(i as IdxSize);
    }
    let mut out = Vec::new();
    for (_, idx) in rows {
        let first = idx[0] as usize;
        let point = params
            .iter()
            .map(|(k, c)| {
                let v = match c.get(first) {
                    Ok(v) if c.dtype().is_primitive_numeric() => v
                        .extract::<f64>()
                        .map(crate::present::names::number)
                        .unwrap_or_else(|| v.to_string()),
                    Ok(v) => v.to_string(),
                    Err(_) => String::new(),
                };
                format!(
                    "{}={}",
                    k.rsplit('.').next().unwrap_or(k),
                    v.trim_matches('"')
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let values = params
            .iter()
            .filter_map(|(k, c)| {
                let v = c.cast(&DataType::Float64).ok()?.f64().ok()?.get(first)?;
                Some((k.clone(), v))
            })
            .collect();
        let take = IdxCa::from_vec("idx".into(), idx);
        let part = df.take(&take).map_err(|e| col_err(e.to_string()))?;
        out.push(Part {
            scenario: scen.get(first).unwrap_or("").to_string(),
            replicate: rep.get(first).unwrap_or(0),
            point,
            params: values,
            df: part,
            dir: dir.to_path_buf(),
            file: path.to_path_buf(),
        });
    }
    Ok(out)
}

pub use crate::output::tables::civil_from_days;

/// Calendar (year, month) of each row's Date column.
pub fn year_months(df: &DataFrame, path: &Path) -> Result<Vec<(i64, u32)>, DataError> {
    let c = df.column("date").map_err(|e| DataError::Column {
        path: path.into(),
        message: e.to_string(),
    })?;
    let days = c
        .cast(&DataType::Int32)
        .and_then(|c| c.i32().cloned())
        .map_err(|e| DataError::Column {
            path: path.into(),
            message: e.to_string(),
        })?;
    Ok(days
        .iter()
        .map(|d| civil_from_days(d.unwrap_or(0) as i64))
        .collect())
}

/// Decimal years of a Date column (start of each tick's first month).
pub fn decimal_years(df: &DataFrame, path: &Path) -> Result<Vec<f64>, DataError> {
    Ok(year_months(df, path)?
        .into_iter()
        .map(|(y, m)| y as f64 + (m as f64 - 1.0) / 12.0)
        .collect())
}

/// The x of a year's value (its middle, see the module doc).
pub fn year_x(year: i64) -> f64 {
    year as f64 + 0.5
}

/// A curve: mean and 95% band across replicates at each x.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend label.
    pub label: String,
    /// x values (decimal years, or parameter values).
    pub x: Vec<f64>,
    /// Means.
    pub mean: Vec<f64>,
    /// Lower band.
    pub lo: Vec<f64>,
    /// Upper band.
    pub hi: Vec<f64>,
    /// Replicates behind each point.
    pub n: Vec<usize>,
    /// What x means (written in the chart's CSV).
    pub x_is: String,
}

impl Curve {
    /// A curve from points `(x, values across replicates)`: mean and 95% band.
    pub fn from_samples(label: String, x_is: &str, pts: Vec<(f64, Vec<f64>)>) -> Curve {
        let mut c = Curve {
            label,
            x: vec![],
            mean: vec![],
            lo: vec![],
            hi: vec![],
            n: vec![],
            x_is: x_is.to_string(),
        };
        for (x, vals) in pts {
            let (m, h) = mean_ci(&vals);
            let h = if h.is_finite() { h } else { 0.0 };
            c.x.push(x);
            c.mean.push(m);
            c.lo.push(m - h);
            c.hi.push(m + h);
            c.n.push(vals.len());
        }
        c
    }

    /// A curve without band (lower = upper = mean).
    pub fn plain(label: String, x_is: &str, x: Vec<f64>, y: Vec<f64>) -> Curve {
        Curve {
            label,
            n: vec![1; x.len()],
            lo: y.clone(),
            hi: y.clone(),
            mean: y,
            x,
            x_is: x_is.to_string(),
        }
    }
}

/// Curves of `metric` for the rows of `region`, one per series (scenario and point).
pub fn curves(parts: &[Part], metric: &str, region: &str) -> Result<Vec<Curve>, DataError> {
    curves_by(parts, metric, region, &Part::label)
}

/// Curves of `metric` for the rows of `region`, one per distinct `label(part)`. Values of
/// a tick sit at the tick's start; annual measures (taken at the assessment, the year's
/// last tick, whatever the rows kept) in the middle of the assessed year.
pub fn curves_by(
    parts: &[Part],
    metric: &str,
    region: &str,
    label: &dyn Fn(&Part) -> String,
) -> Result<Vec<Curve>, DataError> {
    // series label → x (as integer key) → values across replicates
    let mut series: BTreeMap<String, BTreeMap<i64, Vec<f64>>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let annual = ANNUAL_MEASURES.contains(&metric);
    for p in parts {
        let vals = p.f64s(metric).map_err(|e| DataError::Column {
            path: p.file.clone(),
            message: format!("no numeric column `{metric}` ({e})"),
        })?;
        let regions = p.strs("region")?;
        let ticks = p.u32s("tick")?;
        let ym = year_months(&p.df, &p.file)?;
        let tpy = p.ticks_per_year()?;
        let l = label(p);
        if !order.contains(&l) {
            order.push(l.clone());
        }
        let entry = series.entry(l).or_default();
        for (i, &(y, m)) in ym.iter().enumerate() {
            if regions.get(i) != Some(region) {
                continue;
            }
            let t = ticks.get(i).unwrap_or(0);
            if annual && (t + 1) % tpy != 0 {
                continue;
            }
            if let Some(v) = vals.get(i) {
                if v.is_finite() {
                    let x = if annual {
                        year_x(y)
                    } else {
                        y as f64 + (m as f64 - 1.0) / 12.0
                    };
                    entry
                        .entry((x * 1200.0).round() as i64)
                        .or_default()
                        .push(v);
                }
            }
        }
    }
    let x_is = if annual { X_YEAR } else { X_TICK };
    Ok(order
        .into_iter()
        .filter_map(|label| {
            let pts = series.remove(&label)?;
            (!pts.is_empty()).then(|| {
                Curve::from_samples(
                    label,
                    x_is,
                    pts.into_iter()
                        .map(|(x, v)| (x as f64 / 1200.0, v))
                        .collect(),
                )
            })
        })
        .collect())
}

/// Ticks per year inferred from the spacing of decimal-year dates (12, 4 or 1); only for
/// outputs without the `ticks_per_year` column.
pub fn guess_ticks_per_year(xs: &[f64]) -> u32 {
    let mut d: Vec<f64> = xs
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 1e-6)
        .collect();
    d.sort_by(|a, b| a.total_cmp(b));
    match d.first() {
        Some(step) => ((1.0 / step).round() as u32).clamp(1, 12),
        None => 12,
    }
}

/// Region names (rows other than EAST/WEST/ALL) of the western side found in `parts`, in
/// order of appearance.
pub fn west_regions(parts: &[Part]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        if let (Ok(r), Ok(s)) = (p.strs("region"), p.strs("side")) {
            for i in 0..p.df.height() {
                if s.get(i) == Some("west") && r.get(i) != Some("WEST") {
                    let name = r.get(i).unwrap_or("").to_string();
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
            }
        }
    }
    out
}

/// Every value of the `region` column (regions and the EAST/WEST/ALL aggregates), in order
/// of appearance.
pub fn all_regions(parts: &[Part]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        if let Ok(r) = p.strs("region") {
            for name in r.iter().flatten() {
                if !out.iter().any(|o| o == name) {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// Numeric measure columns of a metrics part (what `plot --metric` accepts).
pub fn measure_names(parts: &[Part]) -> Vec<String> {
    let skip = [
        "tick",
        "ticks_per_year",
        "run_id",
        "point",
        "replicate",
        "link",
    ];
    parts
        .first()
        .map(|p| {
            p.df.columns()
                .iter()
                .filter(|c| c.dtype().is_float() && !skip.contains(&c.name().as_str()))
                .filter(|c| !c.name().starts_with("param."))
                .map(|c| c.name().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// One annual assessment of the western side (`WEST` rows) of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WestYear {
    /// Calendar year of the assessment (the year the terminal prints).
    pub year: i64,
    /// Tick of the assessment.
    pub tick: u32,
    /// Poverty rate at the year end.
    pub poverty_rate: f64,
    /// Relapses / exited households at the assessment (NaN when none were at risk).
    pub relapse_rate: f64,
    /// Relapses at the assessment (real-scale households).
    pub relapses: f64,
    /// Households ever relapsed / ever exited.
    pub relapsed_cum_share: f64,
    /// Vulnerability share at the year end.
    pub vulnerability_share: f64,
    /// Households ever exited.
    pub ever_exited: f64,
    /// Households ever relapsed.
    pub ever_relapsed: f64,
}

/// The annual assessments (`WEST` rows on each year's last tick) of a metrics part, in
/// tick order, plus the last row (the horizon, which may end a shortened year).
pub fn west_years(p: &Part) -> Result<(Vec<WestYear>, Option<WestYear>), DataError> {
    let region = p.strs("region")?;
    let tick = p.u32s("tick")?;
    let ym = year_months(&p.df, &p.file)?;
    let tpy = p.ticks_per_year()?;
    let get = |n: &str| -> Result<Option<Float64Chunked>, DataError> {
        if p.df.column(n).is_ok() {
            p.f64s(n).map(Some)
        } else {
            Ok(None)
        }
    };
    let cols = [
        get("poverty_rate")?,
        get("relapse_rate")?,
        get("relapses")?,
        get("relapsed_cum_share")?,
        get("vulnerability_share")?,
        get("ever_exited")?,
        get("ever_relapsed")?,
    ];
    let v = |k: usize, i: usize| cols[k].as_ref().and_then(|c| c.get(i)).unwrap_or(f64::NAN);
    let mut years = Vec::new();
    let mut last: Option<WestYear> = None;
    for (i, &(y, _)) in ym.iter().enumerate() {
        if region.get(i) != Some("WEST") {
            continue;
        }
        let t = tick.get(i).unwrap_or(0);
        let row = WestYear {
            year: y,
            tick: t,
            poverty_rate: v(0, i),
            relapse_rate: v(1, i),
            relapses: v(2, i),
            relapsed_cum_share: v(3, i),
            vulnerability_share: v(4, i),
            ever_exited: v(5, i),
            ever_relapsed: v(6, i),
        };
        if (t + 1) % tpy == 0 {
            years.push(row);
        }
        if last.is_none_or(|l| l.tick <= t) {
            last = Some(row);
        }
    }
    years.sort_by_key(|r| r.tick);
    Ok((years, last))
}

/// Spells from exit to relapse per scenario, from household panels.
pub fn spells(parts: &[Part]) -> Result<BTreeMap<String, Vec<Spell>>, DataError> {
    let mut out: BTreeMap<String, Vec<Spell>> = BTreeMap::new();
    for p in parts {
        let hh = p.u32s("household")?;
        let tick = p.u32s("tick")?;
        let status = p.strs("status")?;
        let last_exit = p.u32s("last_exit_tick")?;
        let tpy = p.u32s("ticks_per_year")?.get(0).unwrap_or(12) as f64;
        let max_tick = tick.iter().flatten().max().unwrap_or(0);
        // household → (first exit tick, first relapse tick after it)
        let mut state: BTreeMap<u32, (Option<u32>, Option<u32>)> = BTreeMap::new();
        for i in 0..p.df.height() {
            let h = hh.get(i).unwrap_or(0);
            let e = state.entry(h).or_insert((None, None));
            if e.0.is_none() {
                if let Some(x) = last_exit.get(i) {
                    e.0 = Some(x);
                }
            } else if e.1.is_none() && status.get(i) == Some("relapsed") {
                e.1 = tick.get(i);
            }
        }
        let v = out.entry(p.label()).or_default();
        for (_, (exit, relapse)) in state {
            if let Some(x) = exit {
                match relapse {
                    Some(r) => v.push(Spell {
                        duration: (r - x) as f64 / tpy,
                        event: true,
                    }),
                    None => v.push(Spell {
                        duration: (max_tick - x) as f64 / tpy,
                        event: false,
                    }),
                }
            }
        }
    }
    Ok(out)
}

/// Channels whose amounts are stocks (a level, not an amount per tick).
pub const STOCK_CHANNELS: [&str; 1] = ["migrant_stock"];

/// Annual totals per link and channel from flow tables (mean across replicates):
/// `(link label, channel, flow, direction, unit) → year → amount`.
pub type FlowSeries = BTreeMap<(String, String, String, String, String), BTreeMap<i64, f64>>;

/// Annual flow totals per link and channel, averaged over the replicates of one series
/// (`label`, see [`Part::label`]). Flows are summed over the rows of each calendar year
/// (monthly rows, or a yearly batch's one row holding the year's total); stocks take the
/// year's last row (its year-end value in both cases).
pub fn flow_series(parts: &[Part], label: &str) -> Result<FlowSeries, DataError> {
    let mut out: FlowSeries = BTreeMap::new();
    let mine: Vec<&Part> = parts.iter().filter(|p| p.label() == label).collect();
    let n = mine.len().max(1) as f64;
    for p in mine {
        let (east, west, channel, flow, dir, unit) = (
            p.strs("east")?,
            p.strs("west")?,
            p.strs("channel")?,
            p.strs("flow")?,
            p.strs("direction")?,
            p.strs("unit")?,
        );
        let amount = p.f64s("amount")?;
        let tick = p.u32s("tick")?;
        let ym = year_months(&p.df, &p.file)?;
        // key → year → (sum, tick of the last row, its amount)
        let mut acc: BTreeMap<_, BTreeMap<i64, (f64, u32, f64)>> = BTreeMap::new();
        for (i, &(year, _)) in ym.iter().enumerate() {
            let key = (
                format!(
                    "{}→{}",
                    east.get(i).unwrap_or(""),
                    west.get(i).unwrap_or("")
                ),
                channel.get(i).unwrap_or("").to_string(),
                flow.get(i).unwrap_or("").to_string(),
                dir.get(i).unwrap_or("").to_string(),
                unit.get(i).unwrap_or("").to_string(),
            );
            let a = amount.get(i).unwrap_or(0.0);
            let t = tick.get(i).unwrap_or(0);
            let e = acc
                .entry(key)
                .or_default()
                .entry(year)
                .or_insert((0.0, t, a));
            e.0 += a;
            if t >= e.1 {
                e.1 = t;
                e.2 = a;
            }
        }
        for (key, years) in acc {
            let stock = STOCK_CHANNELS.contains(&key.1.as_str());
            let o = out.entry(key).or_default();
            for (y, (sum, _, last)) in years {
                *o.entry(y).or_insert(0.0) += if stock { last } else { sum } / n;
            }
        }
    }
    Ok(out)
}

/// One row of a comparison table (`comparison.parquet` of `xiezuo compare`).
#[derive(Debug, Clone, PartialEq)]
pub struct CmpRow {
    /// Year.
    pub year: i64,
    /// Measure.
    pub measure: String,
    /// A: mean and 95% half-width.
    pub a: (f64, f64),
    /// B: mean and 95% half-width.
    pub b: (f64, f64),
    /// B − A: mean and 95% half-width (`diff_ci95`).
    pub diff: (f64, f64),
    /// Welch half-width of B − A, when the table also has the paired one.
    pub diff_welch: Option<f64>,
}

/// The comparison table of a `compare` directory: rows and the names of A and B.
pub fn comparison(dir: &Path) -> Result<Option<(Vec<CmpRow>, String, String)>, DataError> {
    let Some(f) = table_file(dir, "comparison") else {
        return Ok(None);
    };
    let df = read_frame(&f)?;
    let p = Part {
        scenario: String::new(),
        replicate: 0,
        point: String::new(),
        params: Vec::new(),
        df,
        dir: dir.to_path_buf(),
        file: f,
    };
    let year =
        p.df.column("year")
            .and_then(|c| c.cast(&DataType::Int64))
            .and_then(|c| c.i64().cloned())
            .map_err(|e| p.col_err(e))?;
    let measure = p.strs("measure")?;
    let (sa, sb) = (p.strs("scenario_a")?, p.strs("scenario_b")?);
    let f = |n: &str| p.f64s(n);
    let (am, ah, bm, bh, dm, dh) = (
        f("a_mean")?,
        f("a_ci95")?,
        f("b_mean")?,
        f("b_ci95")?,
        f("diff_mean")?,
        f("diff_ci95")?,
    );
    let welch = if p.df.column("diff_ci95_welch").is_ok() {
        Some(f("diff_ci95_welch")?)
    } else {
        None
    };
    let nan = f64::NAN;
    let rows = (0..p.df.height())
        .map(|i| CmpRow {
            year: year.get(i).unwrap_or(0),
            measure: measure.get(i).unwrap_or("").to_string(),
            a: (am.get(i).unwrap_or(nan), ah.get(i).unwrap_or(nan)),
            b: (bm.get(i).unwrap_or(nan), bh.get(i).unwrap_or(nan)),
            diff: (dm.get(i).unwrap_or(nan), dh.get(i).unwrap_or(nan)),
            diff_welch: welch.as_ref().map(|w| w.get(i).unwrap_or(nan)),
        })
        .collect();
    Ok(Some((
        rows,
        sa.get(0).unwrap_or("A").to_string(),
        sb.get(0).unwrap_or("B").to_string(),
    )))
}

/// Failed runs of a batch directory (`failed/run-<id>.txt`): run id and message, by id.
pub fn failed_runs(dir: &Path) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir.join("failed")) else {
        return out;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().to_string();
        let id = name
            .strip_prefix("run-")
            .and_then(|n| n.strip_suffix(".txt"))
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(id) = id {
            let msg = std::fs::read_to_string(e.path()).unwrap_or_default();
            out.push((id, msg.trim().to_string()));
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        use crate::model::time::YearMonth;
        use crate::output::days_since_epoch;
        for (y, m) in [(1970, 1), (2016, 1), (2020, 2), (2021, 12), (2100, 3)] {
            let d = days_since_epoch(YearMonth { year: y, month: m });
            assert_eq!(civil_from_days(d as i64), (y as i64, m));
        }
    }

    fn part(rows: &[(u32, i32, u32, f64)], tpy: Option<u32>) -> Part {
        use crate::model::time::YearMonth;
        use crate::output::days_since_epoch;
        let days: Vec<i32> = rows
            .iter()
            .map(|r| {
                days_since_epoch(YearMonth {
                    year: r.1,
                    month: r.2,
                })
            })
            .collect();
        let mut cols = vec![
            Column::new(
                "tick".into(),
                rows.iter().map(|r| r.0).collect::<Vec<u32>>(),
            ),
            Column::new("date".into(), days)
                .cast(&DataType::Date)
                .unwrap(),
            Column::new("region".into(), vec!["WEST"; rows.len()]),
            Column::new(
                "relapse_rate".into(),
                rows.iter().map(|r| r.3).collect::<Vec<f64>>(),
            ),
        ];
        if let Some(t) = tpy {
            cols.push(Column::new("ticks_per_year".into(), vec![t; rows.len()]));
        }
        Part {
            scenario: "s".into(),
            replicate: 0,
            point: String::new(),
            params: vec![],
            df: DataFrame::new_infer_height(cols).unwrap(),
            dir: PathBuf::new(),
            file: PathBuf::from("metrics.parquet"),
        }
    }

    #[test]
    fn an_assessment_sits_inside_its_year_in_monthly_and_yearly_rows() {
        // Monthly rows of 2016-2017: assessments at ticks 11 and 23 (December).
        let monthly: Vec<(u32, i32, u32, f64)> = (0..24)
            .map(|t| {
                let v = if t % 12 == 11 { 0.01 * t as f64 } else { 0.0 };
                (t, 2016 + (t / 12) as i32, t % 12 + 1, v)
            })
            .collect();
        // The same run's yearly rows (one per year, at the year's last tick).
        let yearly = vec![(11, 2016, 12, 0.11), (23, 2017, 12, 0.23)];
        let a = curves(&[part(&monthly, Some(12))], "relapse_rate", "WEST").unwrap();
        let b = curves(&[part(&yearly, Some(12))], "relapse_rate", "WEST").unwrap();
        assert_eq!(a[0].x, vec![2016.5, 2017.5]);
        assert_eq!(a[0].x, b[0].x);
        assert_eq!(a[0].mean, b[0].mean);
        assert_eq!(a[0].x_is, X_YEAR);
        // Without the stored step, yearly rows were taken for a yearly step.
        assert_eq!(part(&yearly, None).ticks_per_year().unwrap(), 1);
    }
}
