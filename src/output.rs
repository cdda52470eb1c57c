//! Output tables: a [`Recorder`] that collects rows, and writers for Parquet/CSV, the
//! resolved scenario and the manifest. Files are written under a temporary name and renamed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::agents::household::{flags, status, Household};
use crate::config::{Config, Side};
use crate::metrics::{Channel, LinkReport, Measures, Recorder, Scope, SystemMeasures, COMPONENTS};
use crate::time::{Tick, YearMonth};

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

/// Days since 1970-01-01 of the first day of a month (proleptic Gregorian).
pub fn days_since_epoch(ym: YearMonth) -> i32 {
    // Howard Hinnant's days_from_civil.
    let (y, m, d) = (
        ym.year as i64 - if ym.month <= 2 { 1 } else { 0 },
        ym.month as i64,
        1i64,
    );
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// Collected metrics rows (one per tick and scope).
#[derive(Debug, Default, Clone)]
pub struct MetricsRows {
    /// Tick.
    pub tick: Vec<u32>,
    /// Scope label: region name, `EAST`, `WEST` or `ALL`.
    pub region: Vec<String>,
    /// Side label: `east`, `west` or `all`.
    pub side: Vec<&'static str>,
    /// Measures.
    pub m: Vec<Measures>,
    /// System measures (ALL rows only).
    pub sys: Vec<Option<SystemMeasures>>,
}

/// Collected flow rows.
#[derive(Debug, Default, Clone)]
pub struct FlowRows {
    /// Tick.
    pub tick: Vec<u32>,
    /// Link index.
    pub link: Vec<u32>,
    /// Channel.
    pub channel: Vec<Channel>,
    /// Real-scale amount.
    pub amount: Vec<f64>,
}

/// Collected link rows.
#[derive(Debug, Default, Clone)]
pub struct LinkRows {
    /// Tick.
    pub tick: Vec<u32>,
    /// Link index.
    pub link: Vec<u32>,
    /// Report.
    pub r: Vec<LinkReport>,
}

/// Collected yearly household panel.
#[derive(Debug, Default, Clone)]
pub struct PanelRows {
    /// Tick of the year end.
    pub tick: Vec<u32>,
    /// Household index.
    pub household: Vec<u32>,
    /// Region index.
    pub region: Vec<u16>,
    /// Status code.
    pub status: Vec<u8>,
    /// Flags.
    pub flags: Vec<u8>,
    /// Trailing per-capita income.
    pub income: Vec<f32>,
    /// Last exit tick + 1 (0 = never).
    pub last_exit: Vec<u16>,
}

/// A recorder that keeps every row in memory for writing at the end of a run.
#[derive(Debug, Default, Clone)]
pub struct TableRecorder {
    /// Region names by index.
    pub region_names: Vec<String>,
    /// Region sides by index.
    pub sides: Vec<Side>,
    /// Metrics rows.
    pub metrics: MetricsRows,
    /// Flow rows.
    pub flows: FlowRows,
    /// Link rows.
    pub links: LinkRows,
    /// Panel rows (only when `panel` is on).
    pub panel_rows: PanelRows,
    /// Whether to collect the household panel.
    pub panel: bool,
}

impl TableRecorder {
    /// A recorder for `cfg`, with rows pre-reserved for the whole horizon.
    pub fn new(cfg: &Config, panel: bool) -> TableRecorder {
        let ticks = cfg.calendar.ticks as usize;
        let scopes = cfg.regions.len() + 3;
        let mut r = TableRecorder {
            region_names: cfg.regions.iter().map(|r| r.name.clone()).collect(),
            sides: cfg.regions.iter().map(|r| r.side).collect(),
            panel,
            ..TableRecorder::default()
        };
        r.metrics.tick.reserve(ticks * scopes);
        r.metrics.m.reserve(ticks * scopes);
        r.flows
            .amount
            .reserve(ticks * cfg.links.len() * Channel::ALL.len());
        r
    }
}

impl Recorder for TableRecorder {
    fn measures(&mut self, t: Tick, scope: Scope, m: &Measures, sys: Option<&SystemMeasures>) {
        let (name, side) = match scope {
            Scope::Region(i) => (self.region_names[i].clone(), self.sides[i].as_str()),
            Scope::Side(Side::East) => ("EAST".to_string(), "east"),
            Scope::Side(Side::West) => ("WEST".to_string(), "west"),
            Scope::All => ("ALL".to_string(), "all"),
        };
        self.metrics.tick.push(t);
        self.metrics.region.push(name);
        self.metrics.side.push(side);
        self.metrics.m.push(*m);
        self.metrics.sys.push(sys.copied());
    }

    fn flow(&mut self, t: Tick, link: usize, channel: Channel, amount: f64) {
        self.flows.tick.push(t);
        self.flows.link.push(link as u32);
        self.flows.channel.push(channel);
        self.flows.amount.push(amount);
    }

    fn link(&mut self, t: Tick, link: usize, r: &LinkReport) {
        self.links.tick.push(t);
        self.links.link.push(link as u32);
        self.links.r.push(*r);
    }

    fn wants_panel(&self) -> bool {
        self.panel
    }

    fn panel(&mut self, t: Tick, households: &[Household]) {
        let p = &mut self.panel_rows;
        for (i, h) in households.iter().enumerate() {
            p.tick.push(t);
            p.household.push(i as u32);
            p.region.push(h.region);
            p.status.push(h.status);
            p.flags.push(h.flags);
            p.income.push(h.trailing);
            p.last_exit.push(h.last_exit);
        }
    }
}

fn date_col(name: &str, cfg: &Config, ticks: &[u32]) -> Column {
    let days: Vec<i32> = ticks
        .iter()
        .map(|&t| days_since_epoch(cfg.calendar.date(t)))
        .collect();
    Column::new(name.into(), days)
        .cast(&DataType::Date)
        .expect("i32 casts to Date")
}

/// Builds the metrics table.
pub fn metrics_frame(cfg: &Config, rows: &MetricsRows) -> PolarsResult<DataFrame> {
    let m = &rows.m;
    let col = |name: &str, f: &dyn Fn(&Measures) -> f64| {
        Column::new(name.into(), m.iter().map(f).collect::<Vec<f64>>())
    };
    let sys = |name: &str, f: &dyn Fn(&SystemMeasures) -> f64| {
        Column::new(
            name.into(),
            rows.sys
                .iter()
                .map(|s| s.as_ref().map(f))
                .collect::<Vec<Option<f64>>>(),
        )
    };
    let mut cols = vec![
        Column::new("tick".into(), rows.tick.clone()),
        date_col("date", cfg, &rows.tick),
        Column::new("region".into(), rows.region.clone()),
        Column::new(
            "side".into(),
            rows.side
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<String>>(),
        ),
        col("households", &|x| x.households),
        col("poverty_rate", &|x| x.poverty_rate),
        col("poverty_gap", &|x| x.poverty_gap),
        col("poverty_severity", &|x| x.poverty_severity),
        col("poor_households", &|x| x.poor),
        col("exit_rate", &|x| x.exit_rate),
        col("relapse_rate", &|x| x.relapse_rate),
        col("relapses", &|x| x.relapses),
        col("relapsed_cum_share", &|x| x.relapsed_cum_share),
        col("exits", &|x| x.exits),
        col("ever_exited", &|x| x.ever_exited),
        col("ever_relapsed", &|x| x.ever_relapsed),
        col("entry_rate", &|x| x.entry_rate),
        col("vulnerability_share", &|x| x.vulnerability_share),
        col("mean_vulnerability", &|x| x.mean_vulnerability),
        col("mean_income", &|x| x.mean_income),
        col("median_income", &|x| x.median_income),
        col("gini", &|x| x.gini),
        col("theil_region", &|x| x.theil),
        col("transfer_income_share", &|x| x.transfer_income_share),
    ];
    for (i, c) in COMPONENTS.iter().enumerate() {
        cols.push(col(&format!("share_{c}"), &|x| x.component_shares[i]));
    }
    cols.extend([
        col("migrants", &|x| x.migrants),
        col("local_jobs", &|x| x.local_jobs),
        col("welfare_posts", &|x| x.welfare_posts),
        col("mean_skill", &|x| x.mean_skill),
        col("mean_effort", &|x| x.mean_effort),
        sys("theil", &|s| s.theil),
        sys("theil_within", &|s| s.theil_within),
        sys("theil_between", &|s| s.theil_between),
        sys("east_west_ratio", &|s| s.east_west_ratio),
    ]);
    DataFrame::new_infer_height(cols)
}

/// Builds the flows table.
pub fn flows_frame(cfg: &Config, rows: &FlowRows) -> PolarsResult<DataFrame> {
    let name = |i: usize| cfg.regions[i].name.clone();
    let east: Vec<String> = rows
        .link
        .iter()
        .map(|&l| name(cfg.links[l as usize].east))
        .collect();
    let west: Vec<String> = rows
        .link
        .iter()
        .map(|&l| name(cfg.links[l as usize].west))
        .collect();
    let kind: Vec<_> = rows.channel.iter().map(|c| c.kind()).collect();
    DataFrame::new_infer_height(vec![
        Column::new("tick".into(), rows.tick.clone()),
        date_col("date", cfg, &rows.tick),
        Column::new("link".into(), rows.link.clone()),
        Column::new("east".into(), east),
        Column::new("west".into(), west),
        Column::new(
            "flow".into(),
            kind.iter().map(|(f, _)| f.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new(
            "channel".into(),
            rows.channel
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            "direction".into(),
            kind.iter().map(|(_, d)| d.as_str()).collect::<Vec<&str>>(),
        ),
        Column::new("amount".into(), rows.amount.clone()),
        Column::new(
            "unit".into(),
            kind.iter().map(|(f, _)| f.unit()).collect::<Vec<&str>>(),
        ),
    ])
}

/// Builds the link table (assessment and eastern gains).
pub fn links_frame(cfg: &Config, rows: &LinkRows) -> PolarsResult<DataFrame> {
    let name = |i: usize| cfg.regions[i].name.clone();
    let r = &rows.r;
    let col = |n: &str, f: &dyn Fn(&LinkReport) -> f64| {
        Column::new(n.into(), r.iter().map(f).collect::<Vec<f64>>())
    };
    DataFrame::new_infer_height(vec![
        Column::new("tick".into(), rows.tick.clone()),
        date_col("date", cfg, &rows.tick),
        Column::new("link".into(), rows.link.clone()),
        Column::new(
            "east".into(),
            rows.link
                .iter()
                .map(|&l| name(cfg.links[l as usize].east))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "west".into(),
            rows.link
                .iter()
                .map(|&l| name(cfg.links[l as usize].west))
                .collect::<Vec<_>>(),
        ),
        col("delivery", &|x| x.delivery),
        col("east_firms", &|x| x.east_firms),
        col("east_firm_capital", &|x| x.east_firm_capital),
        col("east_firm_return", &|x| x.east_firm_return),
        col("labour_filled", &|x| x.labour_filled),
    ])
}

/// Builds the household panel table.
pub fn panel_frame(cfg: &Config, rows: &PanelRows) -> PolarsResult<DataFrame> {
    let tpy = cfg.calendar.ticks_per_year();
    DataFrame::new_infer_height(vec![
        Column::new("tick".into(), rows.tick.clone()),
        date_col("date", cfg, &rows.tick),
        Column::new(
            "year".into(),
            rows.tick
                .iter()
                .map(|&t| cfg.calendar.date(t).year)
                .collect::<Vec<i32>>(),
        ),
        Column::new("household".into(), rows.household.clone()),
        Column::new(
            "region".into(),
            rows.region
                .iter()
                .map(|&r| cfg.regions[r as usize].name.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "status".into(),
            rows.status
                .iter()
                .map(|&s| status::NAMES[s as usize])
                .collect::<Vec<&str>>(),
        ),
        Column::new(
            "poor".into(),
            rows.status
                .iter()
                .map(|&s| status::is_poor(s))
                .collect::<Vec<bool>>(),
        ),
        Column::new(
            "ever_exited".into(),
            rows.flags
                .iter()
                .map(|&f| f & flags::EVER_EXITED != 0)
                .collect::<Vec<bool>>(),
        ),
        Column::new(
            "ever_relapsed".into(),
            rows.flags
                .iter()
                .map(|&f| f & flags::EVER_RELAPSED != 0)
                .collect::<Vec<bool>>(),
        ),
        Column::new(
            "income".into(),
            rows.income.iter().map(|&y| y as f64).collect::<Vec<f64>>(),
        ),
        Column::new(
            "last_exit_tick".into(),
            rows.last_exit
                .iter()
                .map(|&e| if e == 0 { None } else { Some(e as u32 - 1) })
                .collect::<Vec<Option<u32>>>(),
        ),
        Column::new("ticks_per_year".into(), vec![tpy; rows.tick.len()]),
    ])
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

/// Builds the comparison table (one row per year and measure).
pub fn compare_frame(
    rows: &[crate::batch::CompareRow],
    a: &str,
    b: &str,
) -> PolarsResult<DataFrame> {
    let f = |g: &dyn Fn(&crate::batch::CompareRow) -> f64| rows.iter().map(g).collect::<Vec<f64>>();
    DataFrame::new_infer_height(vec![
        Column::new(
            "year".into(),
            rows.iter().map(|r| r.year).collect::<Vec<i32>>(),
        ),
        Column::new(
            "measure".into(),
            rows.iter().map(|r| r.measure).collect::<Vec<&str>>(),
        ),
        Column::new("scenario_a".into(), vec![a; rows.len()]),
        Column::new("scenario_b".into(), vec![b; rows.len()]),
        Column::new("a_mean".into(), f(&|r| r.a.0)),
        Column::new("a_ci95".into(), f(&|r| r.a.1)),
        Column::new("b_mean".into(), f(&|r| r.b.0)),
        Column::new("b_ci95".into(), f(&|r| r.b.1)),
        Column::new("diff_mean".into(), f(&|r| r.diff.0)),
        Column::new("diff_ci95".into(), f(&|r| r.diff.1)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days() {
        assert_eq!(
            days_since_epoch(YearMonth {
                year: 1970,
                month: 1
            }),
            0
        );
        assert_eq!(
            days_since_epoch(YearMonth {
                year: 2000,
                month: 3
            }),
            11_017
        );
        assert_eq!(
            days_since_epoch(YearMonth {
                year: 2016,
                month: 1
            }),
            16_801
        );
    }
}
