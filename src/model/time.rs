//! Integer ticks and the calendar that maps them to year-months.

use std::fmt;

/// A tick index (0-based). Ticks are integers; dates are derived, never stored in the core.
pub type Tick = u32;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    /// Year, e.g. 2016.
    pub year: i32,
    /// Month 1–12.
    pub month: u32,
}

impl YearMonth {
    /// Parse `"YYYY-MM"` (or `"YYYY"`, meaning January).
    pub fn parse(s: &str) -> Option<YearMonth> {
        let s = s.trim();
        let (y, m) = match s.split_once('-') {
            Some((y, m)) => (y, m),
            None => (s, "1"),
        };
        let year: i32 = y.parse().ok()?;
        let month: u32 = m.parse().ok()?;
        if !(1..=12).contains(&month) || !(1900..=2200).contains(&year) {
            return None;
        }
        Some(YearMonth { year, month })
    }

    /// Months since year 0 (monotone index).
    pub fn index(self) -> i64 {
        self.year as i64 * 12 + (self.month as i64 - 1)
    }

    /// Inverse of [`YearMonth::index`].
    pub fn from_index(i: i64) -> YearMonth {
        YearMonth {
            year: i.div_euclid(12) as i32,
            month: (i.rem_euclid(12) + 1) as u32,
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Length of a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One month (12 ticks a year).
    Month,
    /// One quarter (4 ticks a year).
    Quarter,
    /// One year.
    Year,
}

impl Step {
    /// Allowed names, for error messages.
    pub const NAMES: &'static [&'static str] = &["month", "quarter", "year"];

    /// Parse a step name.
    pub fn parse(s: &str) -> Option<Step> {
        match s {
            "month" => Some(Step::Month),
            "quarter" => Some(Step::Quarter),
            "year" => Some(Step::Year),
            _ => None,
        }
    }

    /// Months per tick.
    pub fn months(self) -> u32 {
        match self {
            Step::Month => 1,
            Step::Quarter => 3,
            Step::Year => 12,
        }
    }

    /// Name.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Month => "month",
            Step::Quarter => "quarter",
            Step::Year => "year",
        }
    }
}

/// Start, step and horizon of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    /// Month of tick 0.
    pub start: YearMonth,
    /// Tick length.
    pub step: Step,
    /// Number of ticks simulated.
    pub ticks: Tick,
    /// Burn-in ticks run before tick 0 (households only, no cooperation, not recorded).
    pub burn_in: Tick,
}

impl Calendar {
    /// Ticks per year (12, 4 or 1).
    pub fn ticks_per_year(&self) -> u32 {
        12 / self.step.months()
    }

    /// The first month of tick `t`.
    pub fn date(&self, t: Tick) -> YearMonth {
        YearMonth::from_index(self.start.index() + (t * self.step.months()) as i64)
    }

    /// The tick containing month `ym`, if it is at or after the start (may be ≥ horizon).
    pub fn tick_of(&self, ym: YearMonth) -> Option<Tick> {
        let d = ym.index() - self.start.index();
        if d < 0 {
            None
        } else {
            Some((d / self.step.months() as i64) as Tick)
        }
    }

    /// Whether tick `t` is the last tick of a simulated year (counted from the start).
    pub fn is_year_end(&self, t: Tick) -> bool {
        (t + 1) % self.ticks_per_year() == 0
    }

    /// Year index (0-based from the start) of tick `t`.
    pub fn year_index(&self, t: Tick) -> u32 {
        t / self.ticks_per_year()
    }

    /// Converts an annual probability to a per-tick probability.
    pub fn per_tick_prob(&self, annual: f64) -> f64 {
        1.0 - (1.0 - annual.clamp(0.0, 1.0)).powf(1.0 / self.ticks_per_year() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_roll_over_years() {
        let c = Calendar {
            start: YearMonth::parse("2016-11").unwrap(),
            step: Step::Month,
            ticks: 24,
            burn_in: 0,
        };
        assert_eq!(c.date(0).to_string(), "2016-11");
        assert_eq!(c.date(2).to_string(), "2017-01");
        assert_eq!(c.tick_of(YearMonth::parse("2017-01").unwrap()), Some(2));
        assert_eq!(c.tick_of(YearMonth::parse("2016-01").unwrap()), None);
    }

    #[test]
    fn quarters() {
        let c = Calendar {
            start: YearMonth::parse("2016-01").unwrap(),
            step: Step::Quarter,
            ticks: 8,
            burn_in: 0,
        };
        assert_eq!(c.ticks_per_year(), 4);
        assert_eq!(c.date(5).to_string(), "2017-04");
        assert_eq!(c.tick_of(YearMonth::parse("2017-05").unwrap()), Some(5));
        assert!(c.is_year_end(3) && !c.is_year_end(4));
    }

    #[test]
    fn parse_rejects_bad_months() {
        assert!(YearMonth::parse("2016-13").is_none());
        assert!(YearMonth::parse("20x6-01").is_none());
        assert_eq!(
            YearMonth::parse("2020"),
            Some(YearMonth {
                year: 2020,
                month: 1
            })
        );
    }

    #[test]
    fn per_tick_prob_compounds_to_annual() {
        let c = Calendar {
            start: YearMonth::parse("2016-01").unwrap(),
            step: Step::Month,
            ticks: 1,
            burn_in: 0,
        };
        let p = c.per_tick_prob(0.2);
        assert!(((1.0 - p).powi(12) - 0.8).abs() < 1e-12);
    }
}
