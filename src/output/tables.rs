//! Tables of a run as polars frames: metrics, flows, links, the household panel and the
//! comparison table. Dates are derived here from the calendar (the core keeps ticks).

use polars::prelude::*;

use crate::model::accum::COMPONENTS;
use crate::model::agents::household::{flags, status};
use crate::model::config::Config;
use crate::model::metrics::{Measures, SystemMeasures};
use crate::model::recorder::{LinkReport, MarketReport};
use crate::model::time::YearMonth;
use crate::output::compare::CompareRow;
use crate::output::recorder::{
    AccountRows, FlowRows, LinkRows, MarketRows, MetricsRows, PanelRows,
};

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

fn date_col(name: &str, cfg: &Config, ticks: &[u32]) -> Column {
    let days: Vec<i32> = ticks
        .iter()
        .map(|&t| days_since_epoch(cfg.calendar.date(t)))
        .collect();
    Column::new(name.into(), days)
        .cast(&DataType::Date)
        .expect("i32 casts to Date")
}

/// Civil (year, month) of days since 1970-01-01: the inverse of [`days_since_epoch`]
/// (Hinnant's `civil_from_days`).
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
        col("relapses_per_household", &|x| x.relapses_per_household),
        col("relapses_cum", &|x| x.relapses_cum),
        col("relapses_cum_per_household", &|x| {
            x.relapses_cum_per_household
        }),
        col("exit_survival_1y", &|x| x.exit_survival_1y),
        col("exit_survival_3y", &|x| x.exit_survival_3y),
        col("exit_survival_5y", &|x| x.exit_survival_5y),
        col("registered_relapses", &|x| x.registered_relapses),
        col("registered_relapse_rate", &|x| x.registered_relapse_rate),
        col("monitored_households", &|x| x.monitored_households),
        col("monitored_share", &|x| x.monitored_share),
        col("identified", &|x| x.identified),
        col("removed_from_risk", &|x| x.removed_from_risk),
        col("insured_share", &|x| x.insured_share),
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
        col("transfer_share_nbs", &|x| x.transfer_share_nbs),
        col("dibao_share", &|x| x.dibao_share),
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
        col("elders", &|x| x.elders),
        col("placed_migrants", &|x| x.placed_migrants),
        col("placed_tenure", &|x| x.placed_tenure),
        col("migrant_mean_age", &|x| x.migrant_mean_age),
        col("local_mean_age", &|x| x.local_mean_age),
        col("price_index", &|x| x.price_index),
        col("mean_income_current", &|x| x.mean_income_current),
        sys("theil", &|s| s.theil),
        sys("theil_within", &|s| s.theil_within),
        sys("theil_between", &|s| s.theil_between),
        sys("east_west_ratio", &|s| s.east_west_ratio),
    ]);
    // The step, stored so that readers never guess it from the spacing of dates (a yearly
    // batch keeps one row per year of a monthly run): a tick `t` is the year's last, i.e.
    // carries the annual assessment, when `(t + 1) % ticks_per_year == 0`.
    cols.push(Column::new(
        "ticks_per_year".into(),
        vec![cfg.calendar.ticks_per_year(); rows.tick.len()],
    ));
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
            "monitored".into(),
            rows.flags
                .iter()
                .map(|&f| f & flags::MONITORED != 0)
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
/// Builds the markets table: each region's product market and firm population, every tick
/// (ODD §7.6.6, §7.9).
pub fn markets_frame(cfg: &Config, rows: &MarketRows) -> PolarsResult<DataFrame> {
    let col = |n: &str, f: &dyn Fn(&MarketReport) -> f64| {
        Column::new(n.into(), rows.r.iter().map(f).collect::<Vec<f64>>())
    };
    DataFrame::new_infer_height(vec![
        Column::new("tick".into(), rows.tick.clone()),
        date_col("date", cfg, &rows.tick),
        Column::new(
            "region".into(),
            rows.region
                .iter()
                .map(|&r| cfg.regions[r as usize].name.as_str())
                .collect::<Vec<_>>(),
        ),
        col("demand", &|x| x.demand),
        col("supply", &|x| x.supply),
        col("utilisation", &|x| x.utilisation),
        col("price", &|x| x.price),
        col("export_demand", &|x| x.export_demand),
        col("export_supply", &|x| x.export_supply),
        col("export_utilisation", &|x| x.export_utilisation),
        col("export_price", &|x| x.export_price),
        col("east_firms", &|x| x.east_firms),
        col("cooperatives", &|x| x.cooperatives),
        col("east_capital", &|x| x.east_capital),
        col("coop_capital", &|x| x.coop_capital),
        col("local_capital", &|x| x.local_capital),
        col("guarantee_pools", &|x| x.guarantee_pools),
        col("east_entries", &|x| x.east_entries),
        col("east_exits", &|x| x.east_exits),
        col("coop_entries", &|x| x.coop_entries),
        col("coop_exits", &|x| x.coop_exits),
        col("guarantee_paid", &|x| x.guarantee_paid),
        col("guarantee_unpaid", &|x| x.guarantee_unpaid),
        col("local_disinvestment", &|x| x.local_disinvestment),
        col("local_expansion", &|x| x.local_expansion),
    ])
}

/// Builds the accounts table: every account's balance at the end of every tick and its
/// change over the tick (NaN on the first tick), with whether it is external (a documented
/// source or sink of money outside the model) and its region (empty for global accounts).
pub fn accounts_frame(cfg: &Config, rows: &AccountRows) -> PolarsResult<DataFrame> {
    let n = rows.tick.len();
    let per_tick = rows
        .tick
        .iter()
        .take_while(|&&t| Some(&t) == rows.tick.first())
        .count();
    let change: Vec<f64> = (0..n)
        .map(|i| {
            if i >= per_tick {
                rows.balance[i] - rows.balance[i - per_tick]
            } else {
                f64::NAN
            }
        })
        .collect();
    let region: Vec<&str> = rows
        .account
        .iter()
        .map(|a| {
            a.region()
                .and_then(|r| cfg.regions.get(r))
                .map(|r| r.name.as_str())
                .unwrap_or("")
        })
        .collect();
    DataFrame::new_infer_height(vec![
        Column::new("tick".into(), rows.tick.clone()),
        date_col("date", cfg, &rows.tick),
        Column::new(
            "account".into(),
            rows.account.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        ),
        Column::new("region".into(), region),
        Column::new(
            "external".into(),
            rows.account
                .iter()
                .map(|a| a.is_external())
                .collect::<Vec<_>>(),
        ),
        Column::new("balance".into(), rows.balance.clone()),
        Column::new("change".into(), change),
    ])
}

/// Builds the comparison table (one row per year and measure).
pub fn compare_frame(rows: &[CompareRow], a: &str, b: &str) -> PolarsResult<DataFrame> {
    let f = |g: &dyn Fn(&CompareRow) -> f64| rows.iter().map(g).collect::<Vec<f64>>();
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
        Column::new("diff_ci95_welch".into(), f(&|r| r.diff_welch)),
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
