//! Global sensitivity analysis of a merged batch: the outputs of `[sensitivity]` read from
//! `metrics.parquet`, one value per sweep point, and their Sobol indices (method `saltelli`)
//! or Morris elementary effects (method `morris`), written as `sensitivity.parquet` and
//! `sensitivity.csv` in the batch directory.
//!
//! The estimators are those of [`crate::stats::sensitivity`]; this module only turns the
//! batch's rows into one output value per point (the mean, over replicates and over the
//! window's years, of the measure's year-end values in the output's scope) and writes the
//! indices.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::batch::experiment::{Experiment, Method, OutputSpec};
use crate::batch::runner::{BatchError, Fingerprint};
use crate::output::tables::civil_from_days;
use crate::output::{read_parquet, write_frame, Format, OutputError};
use crate::stats::sensitivity::{morris_indices, sobol_indices, Interval};

/// One index of one parameter for one scenario and output.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    /// Scenario label.
    pub scenario: String,
    /// Measure of the output.
    pub measure: String,
    /// Scope of the output.
    pub region: String,
    /// First year of the output's window.
    pub from: i32,
    /// Last year of the output's window.
    pub to: i32,
    /// `saltelli` or `morris`.
    pub method: String,
    /// The swept scenario key.
    pub parameter: String,
    /// `first`, `total` (Sobol); `mu_star`, `mu`, `sigma` (Morris).
    pub index: String,
    /// The estimate.
    pub estimate: f64,
    /// Lower end of the bootstrap 95% interval (NaN when there is none).
    pub low: f64,
    /// Upper end of the bootstrap 95% interval (NaN when there is none).
    pub high: f64,
    /// Base blocks (Sobol) or trajectories (Morris) used: those without a NaN output.
    pub used: u32,
}

impl IndexRow {
    /// Whether `other` belongs to the same scenario and output.
    pub fn same_output(&self, other: &IndexRow) -> bool {
        (
            &self.scenario,
            &self.measure,
            &self.region,
            self.from,
            self.to,
        ) == (
            &other.scenario,
            &other.measure,
            &other.region,
            other.from,
            other.to,
        )
    }

    /// The scenario and output as a heading: `scenario — measure of region, from–to (method,
    /// N base points used)`.
    pub fn heading(&self) -> String {
        format!(
            "{} — {} of {}, {}–{} ({}, {} {} used)",
            self.scenario,
            self.measure,
            self.region,
            self.from,
            self.to,
            self.method,
            self.used,
            if self.method == "saltelli" {
                "base points"
            } else {
                "trajectories"
            }
        )
    }
}

/// Computes the indices of every scenario and output of `exp`'s `[sensitivity]` from the
/// merged batch in `dir`, which must hold exactly the runs of `exp` (`text`: the batch
/// file's text, for the fingerprint).
pub fn analyse(exp: &Experiment, text: &str, dir: &Path) -> Result<Vec<IndexRow>, BatchError> {
    let spec = exp.sensitivity.as_ref().ok_or_else(|| {
        BatchError::Analysis(
            "the batch file has no [sensitivity] section: list the outputs to analyse, e.g. \
             [sensitivity] outputs = [{ measure = \"relapse_rate\", region = \"WEST\", from = \
             2021, to = 2025 }]"
                .into(),
        )
    })?;
    if !exp.method.is_sensitivity() {
        return Err(BatchError::Analysis(
            "the batch's sweep is not a sensitivity design: use [sweep] method = \"saltelli\" \
             or \"morris\""
                .into(),
        ));
    }
    let have = Fingerprint::read(dir).map_err(BatchError::Analysis)?;
    let runs = exp.runs();
    let want = Fingerprint::of(exp, text, &runs);
    if let Some(why) = have.identity_difference(&want) {
        return Err(BatchError::Analysis(format!(
            "{} holds another batch ({why})",
            dir.display()
        )));
    }
    if have.run_list != want.run_list {
        return Err(BatchError::Analysis(format!(
            "{} holds {} runs, the batch file has {}: run `xiezuo batch FILE --out {} \
             --resume`, then `xiezuo merge {}`",
            dir.display(),
            have.runs,
            want.runs,
            dir.display(),
            dir.display()
        )));
    }
    let path = dir.join("metrics.parquet");
    if !path.exists() {
        return Err(BatchError::Incomplete(format!(
            "{} not found: run the batch, then `xiezuo merge {}`",
            path.display(),
            dir.display()
        )));
    }
    let df = read_parquet(&path)?;
    let table = Table::read(&df, &path)?;
    let d = exp.params.len();
    let mut rows = Vec::new();
    for s in &exp.scenarios {
        for o in &spec.outputs {
            let y = table.outputs(&df, &path, &s.label, o, exp.points.len())?;
            let base = |parameter: &str, index: &str, iv: &Interval, used: usize| IndexRow {
                scenario: s.label.clone(),
                measure: o.measure.clone(),
                region: o.region.clone(),
                from: o.from,
                to: o.to,
                method: if exp.method == Method::Saltelli {
                    "saltelli".into()
                } else {
                    "morris".into()
                },
                parameter: parameter.to_string(),
                index: index.to_string(),
                estimate: iv.estimate,
                low: iv.low,
                high: iv.high,
                used: used as u32,
            };
            let what = |e: crate::stats::sensitivity::SensitivityError| {
                BatchError::Analysis(format!(
                    "scenario `{}`, output {} of {} {}–{}: {e}",
                    s.label, o.measure, o.region, o.from, o.to
                ))
            };
            match exp.method {
                Method::Saltelli => {
                    let r =
                        sobol_indices(&y, d, spec.resamples as usize, exp.seed).map_err(what)?;
                    for (j, p) in exp.params.iter().enumerate() {
                        rows.push(base(&p.key, "first", &r.first[j], r.blocks_used));
                        rows.push(base(&p.key, "total", &r.total[j], r.blocks_used));
                    }
                }
                _ => {
                    let r =
                        morris_indices(&exp.unit_points, &y, d, spec.resamples as usize, exp.seed)
                            .map_err(what)?;
                    let none = |v: f64| Interval {
                        estimate: v,
                        low: f64::NAN,
                        high: f64::NAN,
                    };
                    for (j, p) in exp.params.iter().enumerate() {
                        let n = r.trajectories_used;
                        rows.push(base(&p.key, "mu_star", &r.mu_star[j], n));
                        rows.push(base(&p.key, "mu", &none(r.mu[j]), n));
                        rows.push(base(&p.key, "sigma", &none(r.sigma[j]), n));
                    }
                }
            }
        }
    }
    Ok(rows)
}

/// The columns of the merged metrics table that the analysis reads.
struct Table {
    scenario: StringChunked,
    point: UInt32Chunked,
    region: StringChunked,
    year_end: Vec<bool>,
    year: Vec<i64>,
}

impl Table {
    fn read(df: &DataFrame, path: &Path) -> Result<Table, BatchError> {
        let e = |err: PolarsError| OutputError::Table {
            path: path.to_path_buf(),
            source: err,
        };
        let tick = df
            .column("tick")
            .and_then(|c| c.u32().cloned())
            .map_err(e)?;
        let tpy = df
            .column("ticks_per_year")
            .and_then(|c| c.u32().cloned())
            .map_err(e)?;
        let days = df
            .column("date")
            .and_then(|c| c.cast(&DataType::Int32))
            .and_then(|c| c.i32().cloned())
            .map_err(e)?;
        Ok(Table {
            scenario: df
                .column("scenario")
                .and_then(|c| c.str().cloned())
                .map_err(e)?,
            point: df
                .column("point")
                .and_then(|c| c.u32().cloned())
                .map_err(e)?,
            region: df
                .column("region")
                .and_then(|c| c.str().cloned())
                .map_err(e)?,
            year_end: tick
                .iter()
                .zip(tpy.iter())
                .map(|(t, n)| match (t, n) {
                    (Some(t), Some(n)) if n > 0 => (t + 1) % n == 0,
                    _ => false,
                })
                .collect(),
            year: days
                .iter()
                .map(|d| civil_from_days(d.unwrap_or(0) as i64).0)
                .collect(),
        })
    }

    /// One value per point: the mean of the measure over the year-end rows of the scenario,
    /// scope and window (all replicates); NaN for a point with no row or a NaN value.
    fn outputs(
        &self,
        df: &DataFrame,
        path: &Path,
        scenario: &str,
        o: &OutputSpec,
        points: usize,
    ) -> Result<Vec<f64>, BatchError> {
        let col = df.column(&o.measure).map_err(|_| {
            let numeric: Vec<&str> = df
                .columns()
                .iter()
                .filter(|c| c.dtype() == &DataType::Float64)
                .map(|c| c.name().as_str())
                .collect();
            BatchError::Analysis(format!(
                "`{}` is not a column of {}; measures: {}",
                o.measure,
                path.display(),
                numeric.join(", ")
            ))
        })?;
        let v = col
            .f64()
            .map_err(|err| OutputError::Table {
                path: path.to_path_buf(),
                source: err,
            })?
            .clone();
        let (mut sum, mut n) = (vec![0.0; points], vec![0u32; points]);
        for i in 0..df.height() {
            if !self.year_end[i]
                || self.scenario.get(i) != Some(scenario)
                || self.region.get(i) != Some(o.region.as_str())
                || !(o.from as i64..=o.to as i64).contains(&self.year[i])
            {
                continue;
            }
            let Some(p) = self
                .point
                .get(i)
                .map(|p| p as usize)
                .filter(|&p| p < points)
            else {
                continue;
            };
            sum[p] += v.get(i).unwrap_or(f64::NAN);
            n[p] += 1;
        }
        if n.iter().all(|&k| k == 0) {
            return Err(BatchError::Analysis(format!(
                "no year-end rows of scenario `{scenario}`, scope {} in {}–{} in {} (check the \
                 years against the scenario's horizon and the region name)",
                o.region,
                o.from,
                o.to,
                path.display()
            )));
        }
        Ok(sum
            .iter()
            .zip(&n)
            .map(|(s, &k)| if k > 0 { s / k as f64 } else { f64::NAN })
            .collect())
    }
}

/// Writes the rows as `sensitivity.parquet` and `sensitivity.csv` in `dir`; returns the
/// Parquet path.
pub fn write(dir: &Path, rows: &[IndexRow]) -> Result<PathBuf, BatchError> {
    let s = |f: &dyn Fn(&IndexRow) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let x = |f: &dyn Fn(&IndexRow) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("scenario".into(), s(&|r| r.scenario.clone())),
        Column::new("measure".into(), s(&|r| r.measure.clone())),
        Column::new("region".into(), s(&|r| r.region.clone())),
        Column::new(
            "from".into(),
            rows.iter().map(|r| r.from).collect::<Vec<i32>>(),
        ),
        Column::new("to".into(), rows.iter().map(|r| r.to).collect::<Vec<i32>>()),
        Column::new("method".into(), s(&|r| r.method.clone())),
        Column::new("parameter".into(), s(&|r| r.parameter.clone())),
        Column::new("index".into(), s(&|r| r.index.clone())),
        Column::new("estimate".into(), x(&|r| r.estimate)),
        Column::new("low".into(), x(&|r| r.low)),
        Column::new("high".into(), x(&|r| r.high)),
        Column::new(
            "used".into(),
            rows.iter().map(|r| r.used).collect::<Vec<u32>>(),
        ),
    ])
    .map_err(|e| OutputError::Table {
        path: dir.join("sensitivity.parquet"),
        source: e,
    })?;
    write_frame(dir, "sensitivity", &mut df, Format::Csv)?;
    Ok(write_frame(dir, "sensitivity", &mut df, Format::Parquet)?)
}

/// Reads back the rows [`write()`] wrote into `dir` (`sensitivity.parquet`); `Ok(None)` when
/// the directory has none (the batch was not analysed).
pub fn read(dir: &Path) -> Result<Option<Vec<IndexRow>>, BatchError> {
    let path = dir.join("sensitivity.parquet");
    if !path.is_file() {
        return Ok(None);
    }
    let df = read_parquet(&path)?;
    let table = |e: PolarsError| OutputError::Table {
        path: path.clone(),
        source: e,
    };
    let text = |n: &str| -> Result<Vec<String>, BatchError> {
        let c = df.column(n).map_err(table)?;
        let ca = c.str().map_err(table)?;
        Ok((0..ca.len())
            .map(|i| ca.get(i).unwrap_or("").to_string())
            .collect())
    };
    let float = |n: &str| -> Result<Vec<f64>, BatchError> {
        let c = df.column(n).map_err(table)?;
        let ca = c.f64().map_err(table)?;
        Ok((0..ca.len())
            .map(|i| ca.get(i).unwrap_or(f64::NAN))
            .collect())
    };
    let int = |n: &str| -> Result<Vec<i64>, BatchError> {
        let c = df
            .column(n)
            .map_err(table)?
            .cast(&DataType::Int64)
            .map_err(table)?;
        let ca = c.i64().map_err(table)?;
        Ok((0..ca.len()).map(|i| ca.get(i).unwrap_or(0)).collect())
    };
    let (scenario, measure, region) = (text("scenario")?, text("measure")?, text("region")?);
    let (from, to, used) = (int("from")?, int("to")?, int("used")?);
    let (method, parameter, index) = (text("method")?, text("parameter")?, text("index")?);
    let (estimate, low, high) = (float("estimate")?, float("low")?, float("high")?);
    Ok(Some(
        (0..df.height())
            .map(|i| IndexRow {
                scenario: scenario[i].clone(),
                measure: measure[i].clone(),
                region: region[i].clone(),
                from: from[i] as i32,
                to: to[i] as i32,
                method: method[i].clone(),
                parameter: parameter[i].clone(),
                index: index[i].clone(),
                estimate: estimate[i],
                low: low[i],
                high: high[i],
                used: used[i] as u32,
            })
            .collect(),
    ))
}

/// The rows as a plain-text table for the terminal: one block per scenario and output, one
/// line per parameter and index with its 95% interval.
pub fn text_table(rows: &[IndexRow]) -> String {
    let mut out = String::new();
    let mut last: Option<&IndexRow> = None;
    let width = rows
        .iter()
        .map(|r| r.parameter.len())
        .max()
        .unwrap_or(9)
        .max(9);
    for r in rows {
        if !last.is_some_and(|l| l.same_output(r)) {
            out.push_str(&format!("\n{}\n", r.heading()));
            last = Some(r);
        }
        let iv = if r.low.is_nan() {
            String::new()
        } else {
            format!("  [{:.4}, {:.4}]", r.low, r.high)
        };
        out.push_str(&format!(
            "  {:<width$}  {:<7}  {:>9.4}{iv}\n",
            r.parameter, r.index, r.estimate
        ));
    }
    out
}
