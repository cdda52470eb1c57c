//! Words for charts: the title, unit and scale of each measure, region titles, and file
//! names made from scenario and region names (sanitised, and kept distinct).

/// How a measure's values read on an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A share, drawn as a percentage (values × 100).
    Percent,
    /// Yuan.
    Money,
    /// A count of households, workers, posts.
    Count,
    /// An index or ratio without unit.
    Index,
}

/// What a measure is called on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricInfo {
    /// Title, in words (e.g. "Relapse rate").
    pub title: String,
    /// Axis label with the unit (e.g. "% of exited households per year").
    pub axis: String,
    /// Factor from stored values to the axis (100 for percentages).
    pub scale: f64,
    /// How ticks are written.
    pub kind: Kind,
    /// Recorded only at the annual status assessment (the year's last tick).
    pub annual: bool,
}

/// Measures recorded only at the annual status assessment (the year's last tick): the
/// transition rates and counts, zero on every other tick.
pub const ANNUAL_MEASURES: [&str; 12] = [
    "relapse_rate",
    "exit_rate",
    "entry_rate",
    "relapses",
    "exits",
    "relapses_per_household",
    "exit_survival_1y",
    "exit_survival_3y",
    "exit_survival_5y",
    "registered_relapses",
    "registered_relapse_rate",
    "removed_from_risk",
];

/// The title, unit and scale of a metrics column (a readable fallback for unknown ones).
pub fn metric_info(metric: &str) -> MetricInfo {
    use Kind::*;
    let (title, axis, kind): (String, &str, Kind) = match metric {
        "households" => ("Households".into(), "households", Count),
        "poverty_rate" => ("Poverty rate".into(), "% of households", Percent),
        "poverty_gap" => (
            "Poverty gap (FGT1)".into(),
            "mean shortfall, share of the poverty line",
            Index,
        ),
        "poverty_severity" => (
            "Poverty severity (FGT2)".into(),
            "mean squared shortfall",
            Index,
        ),
        "poor_households" => ("Poor households".into(), "households", Count),
        "exit_rate" => (
            "Exits from poverty".into(),
            "% of poor households, per year",
            Percent,
        ),
        "relapse_rate" => (
            "Return to poverty (relapse rate)".into(),
            "% of exited households, per year",
            Percent,
        ),
        "entry_rate" => (
            "Entry into poverty".into(),
            "% of never-poor households, per year",
            Percent,
        ),
        "relapses" => ("Relapses".into(), "households per year", Count),
        "exits" => ("Exits from poverty".into(), "households per year", Count),
        "relapses_per_household" => (
            "Relapses per household".into(),
            "% of households, per year",
            Percent,
        ),
        "relapses_cum" => ("Relapses since the start".into(), "relapses", Count),
        "relapses_cum_per_household" => (
            "Relapses since the start per household".into(),
            "relapses per 100 households",
            Percent,
        ),
        "exit_survival_1y" => (
            "Exits surviving one year".into(),
            "% of exits still out of poverty",
            Percent,
        ),
        "exit_survival_3y" => (
            "Exits surviving three years".into(),
            "% of exits still out of poverty (period life table)",
            Percent,
        ),
        "exit_survival_5y" => (
            "Exits surviving five years".into(),
            "% of exits still out of poverty (period life table)",
            Percent,
        ),
        "registered_relapses" => (
            "Registered returns to poverty".into(),
            "households per year",
            Count,
        ),
        "registered_relapse_rate" => (
            "Registered return to poverty".into(),
            "% of exited households, per year",
            Percent,
        ),
        "monitored_households" => (
            "Households monitored as at risk".into(),
            "households",
            Count,
        ),
        "monitored_share" => (
            "Households monitored as at risk".into(),
            "% of households",
            Percent,
        ),
        "identified" => (
            "Households newly identified as at risk".into(),
            "households per tick",
            Count,
        ),
        "insured_share" => (
            "Households with anti-return insurance".into(),
            "% of households",
            Percent,
        ),
        "removed_from_risk" => (
            "Households removed from risk".into(),
            "households per year",
            Count,
        ),
        "relapsed_cum_share" => (
            "Ever relapsed among ever exited".into(),
            "% of households ever exited",
            Percent,
        ),
        "ever_exited" => ("Households ever exited".into(), "households", Count),
        "ever_relapsed" => ("Households ever relapsed".into(), "households", Count),
        "vulnerability_share" => (
            "Vulnerable non-poor households".into(),
            "% of households",
            Percent,
        ),
        "mean_vulnerability" => ("Mean probability of being poor".into(), "%", Percent),
        "mean_income" => (
            "Mean income".into(),
            "yuan per person per year (2020 prices)",
            Money,
        ),
        "median_income" => (
            "Median income".into(),
            "yuan per person per year (2020 prices)",
            Money,
        ),
        "gini" => ("Gini coefficient of income".into(), "Gini", Index),
        "theil_region" => ("Theil index of income".into(), "Theil", Index),
        "theil" => ("Theil index, all households".into(), "Theil", Index),
        "theil_within" => ("Theil index within regions".into(), "Theil", Index),
        "theil_between" => ("Theil index between regions".into(), "Theil", Index),
        "east_west_ratio" => ("East/west mean income ratio".into(), "ratio", Index),
        "transfer_income_share" => (
            "Income from transfers, social cash and reserve top-ups".into(),
            "% of income",
            Percent,
        ),
        "migrants" => ("Migrant workers".into(), "workers", Count),
        "local_jobs" => ("Local jobs".into(), "jobs", Count),
        "welfare_posts" => ("Public-welfare posts".into(), "posts", Count),
        "mean_skill" => ("Mean skill".into(), "skill index", Index),
        "mean_effort" => ("Mean effort".into(), "effort index", Index),
        "elders" => ("Members of pension age".into(), "persons", Count),
        "placed_migrants" => (
            "Migrants placed by labour cooperation".into(),
            "workers",
            Count,
        ),
        "placed_tenure" => ("Tenure of placed migrants".into(), "years", Index),
        "migrant_mean_age" => ("Mean age of migrants".into(), "years", Index),
        "local_mean_age" => ("Mean age of local employees".into(), "years", Index),
        "price_index" => ("Consumer price index".into(), "start year = 1", Index),
        "mean_income_current" => (
            "Mean income, current prices".into(),
            "yuan per person per year (each year's prices)",
            Money,
        ),
        m if m.starts_with("share_") => (
            format!("Income share: {}", words(&m["share_".len()..])),
            "% of income",
            Percent,
        ),
        m => {
            let t = words(m);
            let kind = if m.ends_with("_rate") || m.ends_with("_share") {
                Percent
            } else {
                Index
            };
            (capitalise(&t), if kind == Percent { "%" } else { "" }, kind)
        }
    };
    MetricInfo {
        title,
        axis: axis.to_string(),
        scale: if kind == Kind::Percent { 100.0 } else { 1.0 },
        kind,
        annual: ANNUAL_MEASURES.contains(&metric),
    }
}

fn words(s: &str) -> String {
    s.replace('_', " ")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Groups the integer digits of a formatted number by thousands: `-1234567.5` →
/// `-1,234,567.5`.
pub fn thousands(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, ""), |(i, f)| (i, f));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{frac}")
    }
}

/// A parameter value in words: `0.3`, `5,000`, `500 m`, `1.5 bn` (six significant
/// decimals at most in millions and billions).
pub fn number(v: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    let a = v.abs();
    if !v.is_finite() {
        format!("{v}")
    } else if a >= 1e9 {
        format!("{} bn", trim(format!("{:.6}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{} m", trim(format!("{:.6}", v / 1e6)))
    } else if v == v.trunc() {
        thousands(&format!("{v:.0}"))
    } else {
        format!("{v}")
    }
}

/// Title of the rows of a region or aggregate.
pub fn region_title(region: &str) -> String {
    match region {
        "WEST" => "western households".into(),
        "EAST" => "eastern households".into(),
        "ALL" => "all households".into(),
        r => r.to_string(),
    }
}

/// A file-name-safe form of `name`: letters (any script) and digits kept, every run of
/// other characters (spaces, apostrophes, slashes, dots) one `_`, at most 48 characters.
pub fn sanitise(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() || c == '-' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out: String = out.trim_matches('_').chars().take(48).collect();
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        "unnamed".into()
    } else {
        out
    }
}

fn fnv1a(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// File stems for `names`, one per name and distinct for distinct names: the sanitised
/// name, followed by `-` and 8 hex digits of a hash of the name itself when two names
/// sanitise alike (ignoring case, for case-insensitive file systems). Deterministic: a
/// name's stem depends only on the names it collides with.
pub fn file_stems(names: &[&str]) -> Vec<String> {
    let base: Vec<String> = names.iter().map(|n| sanitise(n)).collect();
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let key = base[i].to_lowercase();
            let clash = names
                .iter()
                .enumerate()
                .any(|(j, m)| m != n && base[j].to_lowercase() == key);
            if clash {
                format!("{}-{:08x}", base[i], fnv1a(n))
            } else {
                base[i].clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_readable_safe_and_distinct() {
        let names = [
            "Chun'an",
            "Chun an",
            "Inner Mongolia",
            "inner_mongolia",
            "甘肃",
            "甘肃省",
            "../../x",
            "",
            "Upland",
            "Upland",
        ];
        let stems = file_stems(&names);
        for s in &stems {
            assert!(
                !s.contains('/') && !s.contains('\\') && !s.contains("..") && !s.is_empty(),
                "{s}"
            );
            assert!(!s.contains(' ') && !s.contains('\''), "{s}");
        }
        // Distinct names get distinct stems (also ignoring case); equal names equal stems.
        for i in 0..names.len() {
            for j in 0..names.len() {
                let same = stems[i].to_lowercase() == stems[j].to_lowercase();
                assert_eq!(same, names[i] == names[j], "{:?} {:?}", names[i], names[j]);
            }
        }
        assert_eq!(stems[4], "甘肃");
        assert_eq!(stems[8], "Upland");
        assert!(stems[0].starts_with("Chun_an-"));
        assert!(stems[2].starts_with("Inner_Mongolia-"));
        // Deterministic and independent of order.
        let again = file_stems(&["Inner Mongolia", "Chun'an", "inner_mongolia"]);
        assert_eq!(again[0], stems[2]);
        assert_eq!(again[1], "Chun_an");
    }

    #[test]
    fn numbers_read_as_words() {
        assert_eq!(number(1.5e9), "1.5 bn");
        assert_eq!(number(5e8), "500 m");
        assert_eq!(number(0.3), "0.3");
        assert_eq!(number(5000.0), "5,000");
        assert_eq!(number(-1_234_567.0), "-1.234567 m");
        assert_eq!(thousands("-1234567.50"), "-1,234,567.50");
    }

    #[test]
    fn measures_have_words_and_units() {
        let r = metric_info("relapse_rate");
        assert!(r.annual && r.scale == 100.0 && !r.title.contains('_'));
        let m = metric_info("mean_income");
        assert_eq!(m.kind, Kind::Money);
        assert!(m.axis.contains("yuan"));
        assert_eq!(metric_info("share_wage").title, "Income share: wage");
        assert!(!metric_info("some_new_rate").title.contains('_'));
    }
}
