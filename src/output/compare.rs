//! Comparison rows: yearly headline numbers of a run (western poverty, relapse, …) and their
//! per-year comparison across the replicates of two scenarios.

use crate::model::config::Config;
use crate::model::ledger::Account;
use crate::output::recorder::TableRecorder;
use crate::stats::{mean_ci, paired_diff_ci, welch_diff_ci};

/// One year's headline numbers for the western side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YearRow {
    /// Calendar year of the year's last tick.
    pub year: i32,
    /// Western poverty headcount ratio at the year end.
    pub poverty_rate: f64,
    /// Western relapses during the year over households exited at the year's start
    /// (NaN when none had exited).
    pub relapse_rate: f64,
    /// Western relapses during the year per household at the year end (a count: unlike the
    /// rate, its denominator does not grow when support lifts households over the line).
    pub relapses_per_household: f64,
    /// Western vulnerability share at the year end.
    pub vulnerability_share: f64,
    /// Western mean per-capita income at the year end.
    pub mean_income: f64,
    /// East/west mean income ratio at the year end.
    pub east_west_ratio: f64,
    /// Share of western income from transfers at the year end.
    pub transfer_income_share: f64,
    /// Yuan the eastern governments spent during the year: fiscal aid, procurement,
    /// training and the prices of placements, market access, talent and investment
    /// promotion (the fall of their `EastGov` accounts, ODD §7.7).
    pub east_public: f64,
    /// Net yuan eastern firms' owners put in during the year: capital invested less
    /// profits repatriated and capital taken back (negative when the west pays the east).
    pub east_private: f64,
    /// Yuan donated during the year by social organisations.
    pub donations: f64,
    /// `east_public + east_private + donations`: what the pairing mobilised in the year.
    pub resources: f64,
    /// Outcome per yuan: western households that have exited and never relapsed by the
    /// year end (real scale) per 100 m yuan of resources mobilised since the start (NaN when
    /// none were, or when the accounts were not recorded).
    pub sustained_exits_per_100m: f64,
}

/// Names of the [`YearRow`] measures, in order.
pub const YEAR_MEASURES: [&str; 12] = [
    "poverty_rate",
    "relapse_rate",
    "relapses_per_household",
    "vulnerability_share",
    "mean_income",
    "east_west_ratio",
    "transfer_income_share",
    "east_public",
    "east_private",
    "donations",
    "resources",
    "sustained_exits_per_100m",
];

impl YearRow {
    /// The measures in [`YEAR_MEASURES`] order.
    pub fn values(&self) -> [f64; 12] {
        [
            self.poverty_rate,
            self.relapse_rate,
            self.relapses_per_household,
            self.vulnerability_share,
            self.mean_income,
            self.east_west_ratio,
            self.transfer_income_share,
            self.east_public,
            self.east_private,
            self.donations,
            self.resources,
            self.sustained_exits_per_100m,
        ]
    }
}

/// Yearly summary of a run from its recorded metrics (rows `WEST` and `ALL`).
pub fn yearly(cfg: &Config, rec: &TableRecorder) -> Vec<YearRow> {
    let tpy = cfg.calendar.ticks_per_year();
    let m = &rec.metrics;
    let mut out = Vec::new();
    let years = cfg.calendar.ticks / tpy;
    let sources = sources_by_year(cfg, rec);
    let mut cumulative = 0.0;
    for y in 0..years {
        let first = y * tpy;
        let last = first + tpy - 1;
        let mut relapses = 0.0;
        let mut exited_first = 0.0;
        let mut end = None;
        let mut ratio = f64::NAN;
        for i in 0..m.tick.len() {
            let t = m.tick[i];
            if t < first || t > last {
                continue;
            }
            if m.region[i] == "WEST" {
                relapses += m.m[i].relapses;
                if t == first {
                    exited_first = m.m[i].exited_start;
                }
                if t == last {
                    end = Some(m.m[i]);
                }
            }
            if m.region[i] == "ALL" && t == last {
                ratio = m.sys[i].map(|s| s.east_west_ratio).unwrap_or(f64::NAN);
            }
        }
        if let Some(e) = end {
            let [east_public, east_private, donations] = sources[y as usize];
            cumulative += east_public + east_private + donations;
            out.push(YearRow {
                year: cfg.calendar.date(last).year,
                poverty_rate: e.poverty_rate,
                // Undefined (NaN) in a year that starts with no exited household at risk.
                relapse_rate: if exited_first > 0.0 {
                    relapses / exited_first
                } else {
                    f64::NAN
                },
                relapses_per_household: if e.households > 0.0 {
                    relapses / e.households
                } else {
                    f64::NAN
                },
                vulnerability_share: e.vulnerability_share,
                mean_income: e.mean_income,
                east_west_ratio: ratio,
                transfer_income_share: e.transfer_income_share,
                east_public,
                east_private,
                donations,
                resources: east_public + east_private + donations,
                sustained_exits_per_100m: if cumulative > 0.0 {
                    (e.ever_exited - e.ever_relapsed) / cumulative * 1e8
                } else {
                    f64::NAN
                },
            });
        }
    }
    out
}

/// Per year, what the eastern governments, eastern firms' owners and social organisations
/// put in: the fall of the sums of their (external) `EastGov`, `EastOwners` and `Social`
/// accounts from one year end to the next (they start the run at zero); NaN when the
/// accounts were not recorded.
fn sources_by_year(cfg: &Config, rec: &TableRecorder) -> Vec<[f64; 3]> {
    let tpy = cfg.calendar.ticks_per_year();
    let years = (cfg.calendar.ticks / tpy) as usize;
    let acc = &rec.accounts;
    if acc.tick.is_empty() {
        // Not recorded (a batch that keeps no accounts): unknown, not zero.
        return vec![[f64::NAN; 3]; years];
    }
    let mut end = vec![[0.0f64; 3]; years];
    for i in 0..acc.tick.len() {
        let t = acc.tick[i];
        if (t + 1) % tpy != 0 {
            continue;
        }
        let k = match acc.account[i] {
            Account::EastGov(_) => 0,
            Account::EastOwners(_) => 1,
            Account::Social(_) => 2,
            _ => continue,
        };
        if let Some(row) = end.get_mut((t / tpy) as usize) {
            row[k] += acc.balance[i];
        }
    }
    let mut prev = [0.0; 3];
    end.iter()
        .map(|b| {
            let spent = [prev[0] - b[0], prev[1] - b[1], prev[2] - b[2]];
            prev = *b;
            spent
        })
        .collect()
}

/// Per-year comparison of one measure between two scenarios run with common random
/// numbers (replicate `i` of both scenarios uses the same seed).
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// Year.
    pub year: i32,
    /// Measure name.
    pub measure: &'static str,
    /// Mean and CI half-width in scenario A.
    pub a: (f64, f64),
    /// Mean and CI half-width in scenario B.
    pub b: (f64, f64),
    /// Mean of B − A and the half-width of its paired 95% interval (Student t on the
    /// replicate-by-replicate differences): the interval to use with common random numbers.
    pub diff: (f64, f64),
    /// Half-width of the unpaired (Welch) 95% interval of B − A, kept for comparison: it
    /// ignores the pairing and is wider when replicates are positively correlated.
    pub diff_welch: f64,
}

/// Compares yearly summaries of replicates of A and B; replicate `i` of A is paired with
/// replicate `i` of B (same seed). Years are paired by index.
pub fn compare(a: &[Vec<YearRow>], b: &[Vec<YearRow>]) -> Vec<CompareRow> {
    let mut out = Vec::new();
    let years = a
        .first()
        .map(|r| r.len())
        .unwrap_or(0)
        .min(b.first().map(|r| r.len()).unwrap_or(0));
    for y in 0..years {
        for (k, name) in YEAR_MEASURES.iter().enumerate() {
            let xa: Vec<f64> = a.iter().map(|r| r[y].values()[k]).collect();
            let xb: Vec<f64> = b.iter().map(|r| r[y].values()[k]).collect();
            out.push(CompareRow {
                year: a[0][y].year,
                measure: name,
                a: mean_ci(&xa),
                b: mean_ci(&xb),
                diff: paired_diff_ci(&xa, &xb),
                diff_welch: welch_diff_ci(&xa, &xb).1,
            });
        }
    }
    out
}
