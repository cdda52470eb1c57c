//! Reading run, comparison and batch directories into curves (mean and 95% band across
//! replicates), flow series and survival spells for the charts and the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::output::read_parquet;
use crate::output::OutputError;
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

/// One table read from a directory, tagged with its scenario and replicate.
#[derive(Debug, Clone)]
pub struct Part {
    /// Scenario label.
    pub scenario: String,
    /// Replicate index (or run id within the scenario).
    pub replicate: u32,
    /// Extra series label (swept values), empty when none.
    pub point: String,
    /// The frame.
    pub df: DataFrame,
    /// Directory the part came from (for resolved scenarios).
    pub dir: PathBuf,
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
    if dir.join("metrics.parquet").exists() {
        let df = read_parquet(&dir.join("metrics.parquet"))?;
        return Ok(if df.column("run_id").is_ok() {
            Layout::Batch
        } else {
            Layout::Run
        });
    }
    if !compare_dirs(dir).is_empty() {
        return Ok(Layout::Compare);
    }
    Err(DataError::Missing(format!(
        "{} holds no metrics.parquet (a run or a merged batch) nor <scenario>/rep<i>/ directories (a comparison); for a batch, run `xiezuo merge {}` first",
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
            .filter(|(_, p)| p.join("metrics.parquet").exists())
            .collect();
        reps.sort();
        let label = scenario_name(&s);
        for (i, p) in reps {
            out.push((label.clone(), i, p));
        }
    }
    out
}

/// Reads `table` (`metrics`, `flows`, `links`, `households`) from every run in `dir`.
pub fn read_table(dir: &Path, table: &str) -> Result<Vec<Part>, DataError> {
    let file = format!("{table}.parquet");
    match layout(dir)? {
        Layout::Run => {
            let p = dir.join(&file);
            if !p.exists() {
                return Ok(Vec::new());
            }
            Ok(vec![Part {
                scenario: scenario_name(dir),
                replicate: 0,
                point: String::new(),
                df: read_parquet(&p)?,
                dir: dir.to_path_buf(),
            }])
        }
        Layout::Compare => {
            let mut out = Vec::new();
            for (label, rep, p) in compare_dirs(dir) {
                let f = p.join(&file);
                if f.exists() {
                    let scen_dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
                    out.push(Part {
                        scenario: label,
                        replicate: rep,
                        point: String::new(),
                        df: read_parquet(&f)?,
                        dir: scen_dir,
                    });
                }
            }
            Ok(out)
        }
        Layout::Batch => {
            let p = dir.join(&file);
            if !p.exists() {
                return Ok(Vec::new());
            }
            let df = read_parquet(&p)?;
            split_batch(&p, df, dir)
        }
    }
}

/// Splits a merged batch table into one part per run, labelled by scenario and swept values.
fn split_batch(path: &Path, df: DataFrame, dir: &Path) -> Result<Vec<Part>, DataError> {
    let col_err = |m: String| DataError::Column {
        path: path.to_path_buf(),
        message: m,
    };
    let run = df
        .column("run_id")
        .and_then(|c| c.u32().cloned())
        .map_err(|e| col_err(e.to_string()))?;
    let scen = df
        .column("scenario")
        .and_then(|c| c.str().cloned())
        .map_err(|e| col_err(e.to_string()))?;
    let rep = df
        .column("replicate")
        .and_then(|c| c.u32().cloned())
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
                let v = c.get(first).map(|v| v.to_string()).unwrap_or_default();
                format!(
                    "{}={}",
                    k.rsplit('.').next().unwrap_or(k),
                    v.trim_matches('"')
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let take = IdxCa::from_vec("idx".into(), idx);
        let part = df.take(&take).map_err(|e| col_err(e.to_string()))?;
        out.push(Part {
            scenario: scen.get(first).unwrap_or("").to_string(),
            replicate: rep.get(first).unwrap_or(0),
            point,
            df: part,
            dir: dir.to_path_buf(),
        });
    }
    Ok(out)
}

/// Civil (year, month) of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m)
}

/// Decimal years of a Date column (start of each tick's first month).
pub fn decimal_years(df: &DataFrame, path: &Path) -> Result<Vec<f64>, DataError> {
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
        .map(|d| {
            let (y, m) = civil_from_days(d.unwrap_or(0) as i64);
            y as f64 + (m as f64 - 1.0) / 12.0
        })
        .collect())
}

/// Measures recorded only at the annual status assessment (the year's last tick).
pub const ANNUAL_MEASURES: [&str; 3] = ["relapse_rate", "exit_rate", "entry_rate"];

/// A curve: mean and 95% band across replicates at each x.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend label.
    pub label: String,
    /// x values (decimal years).
    pub x: Vec<f64>,
    /// Means.
    pub mean: Vec<f64>,
    /// Lower band.
    pub lo: Vec<f64>,
    /// Upper band.
    pub hi: Vec<f64>,
}

/// Curves of `metric` for the rows of `region`, one per series (scenario and point).
pub fn curves(parts: &[Part], metric: &str, region: &str) -> Result<Vec<Curve>, DataError> {
    // series label → x (as integer key) → values across replicates
    let mut series: BTreeMap<String, BTreeMap<i64, Vec<f64>>> = BTreeMap::new();
    let annual = ANNUAL_MEASURES.contains(&metric);
    for p in parts {
        let path = p.dir.join("metrics.parquet");
        let err = |e: PolarsError| DataError::Column {
            path: path.clone(),
            message: e.to_string(),
        };
        let vals =
            p.df.column(metric)
                .and_then(|c| c.cast(&DataType::Float64))
                .and_then(|c| c.f64().cloned())
                .map_err(|e| DataError::Column {
                    path: path.clone(),
                    message: format!("no numeric column `{metric}` ({e})"),
                })?;
        let regions =
            p.df.column("region")
                .and_then(|c| c.str().cloned())
                .map_err(err)?;
        let ticks =
            p.df.column("tick")
                .and_then(|c| c.u32().cloned())
                .map_err(err)?;
        let xs = decimal_years(&p.df, &path)?;
        let tpy = ticks_per_year(&xs);
        let label = if p.point.is_empty() {
            p.scenario.clone()
        } else {
            format!("{} ({})", p.scenario, p.point)
        };
        let entry = series.entry(label).or_default();
        #[allow(clippy::needless_range_loop)]
        for i in 0..p.df.height() {
            if regions.get(i) != Some(region) {
                continue;
            }
            let t = ticks.get(i).unwrap_or(0);
            if annual && (t + 1) % tpy != 0 {
                continue;
            }
            if let Some(v) = vals.get(i) {
                if v.is_finite() {
                    // Annual measures are plotted at the end of their year.
                    let x = if annual {
                        xs[i] + 1.0 / tpy as f64
                    } else {
                        xs[i]
                    };
                    entry
                        .entry((x * 1200.0).round() as i64)
                        .or_default()
                        .push(v);
                }
            }
        }
    }
    Ok(series
        .into_iter()
        .filter(|(_, pts)| !pts.is_empty())
        .map(|(label, pts)| {
            let mut c = Curve {
                label,
                x: vec![],
                mean: vec![],
                lo: vec![],
                hi: vec![],
            };
            for (x, vals) in pts {
                let (m, h) = mean_ci(&vals);
                let h = if h.is_finite() { h } else { 0.0 };
                c.x.push(x as f64 / 1200.0);
                c.mean.push(m);
                c.lo.push(m - h);
                c.hi.push(m + h);
            }
            c
        })
        .collect())
}

/// Ticks per year inferred from the spacing of decimal-year dates (12, 4 or 1).
pub fn ticks_per_year(xs: &[f64]) -> u32 {
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

/// Region names (rows other than EAST/WEST/ALL) of the western side found in `parts`.
pub fn west_regions(parts: &[Part]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(p) = parts.first() {
        if let (Ok(r), Ok(s)) = (
            p.df.column("region").and_then(|c| c.str().cloned()),
            p.df.column("side").and_then(|c| c.str().cloned()),
        ) {
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

/// Spells from exit to relapse per scenario, from household panels.
pub fn spells(parts: &[Part]) -> Result<BTreeMap<String, Vec<Spell>>, DataError> {
    let mut out: BTreeMap<String, Vec<Spell>> = BTreeMap::new();
    for p in parts {
        let path = p.dir.join("households.parquet");
        let err = |e: PolarsError| DataError::Column {
            path: path.clone(),
            message: e.to_string(),
        };
        let hh =
            p.df.column("household")
                .and_then(|c| c.u32().cloned())
                .map_err(err)?;
        let tick =
            p.df.column("tick")
                .and_then(|c| c.u32().cloned())
                .map_err(err)?;
        let status =
            p.df.column("status")
                .and_then(|c| c.str().cloned())
                .map_err(err)?;
        let last_exit =
            p.df.column("last_exit_tick")
                .and_then(|c| c.u32().cloned())
                .map_err(err)?;
        let tpy =
            p.df.column("ticks_per_year")
                .and_then(|c| c.u32().cloned())
                .map_err(err)?
                .get(0)
                .unwrap_or(12) as f64;
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
        let v = out.entry(p.scenario.clone()).or_default();
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

/// Annual totals per link and channel from flow tables (mean across replicates):
/// `(link label, channel, flow, direction, unit) → year → amount`.
pub type FlowSeries = BTreeMap<(String, String, String, String, String), BTreeMap<i64, f64>>;

/// Annual flow totals per link and channel, averaged over the replicates of one scenario.
pub fn flow_series(parts: &[Part], scenario: &str) -> Result<FlowSeries, DataError> {
    let mut out: FlowSeries = BTreeMap::new();
    let mine: Vec<&Part> = parts.iter().filter(|p| p.scenario == scenario).collect();
    let n = mine.len().max(1) as f64;
    for p in mine {
        let path = p.dir.join("flows.parquet");
        let err = |e: PolarsError| DataError::Column {
            path: path.clone(),
            message: e.to_string(),
        };
        let s = |name: &str| {
            p.df.column(name)
                .and_then(|c| c.str().cloned())
                .map_err(err)
        };
        let (east, west, channel, flow, dir, unit) = (
            s("east")?,
            s("west")?,
            s("channel")?,
            s("flow")?,
            s("direction")?,
            s("unit")?,
        );
        let amount =
            p.df.column("amount")
                .and_then(|c| c.f64().cloned())
                .map_err(err)?;
        let xs = decimal_years(&p.df, &path)?;
        let tpy = ticks_per_year(&xs) as f64;
        #[allow(clippy::needless_range_loop)]
        for i in 0..p.df.height() {
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
            let year = xs[i].floor() as i64;
            // Stocks are averaged over the year, flows summed.
            let a = amount.get(i).unwrap_or(0.0) / n;
            let a = if key.1 == "migrant_stock" { a / tpy } else { a };
            *out.entry(key).or_default().entry(year).or_insert(0.0) += a;
        }
    }
    Ok(out)
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
}
