//! Which rows a batch run keeps: with `[output] yearly = true`, one row per simulated year
//! carrying the year's *totals* of flows and the *year-end* value of stocks and assessed
//! rates; with `[output] regions`, only the listed scopes. Works on the rows of an
//! [`output::TableRecorder`](crate::output::TableRecorder) before they become tables, so every
//! column of the tables (present and future) is kept.
//!
//! Per column, a yearly row holds:
//! - `metrics`: the value at the year's last tick for every column (stocks such as
//!   `households`, `poor_households`, `ever_exited`, `migrants`; rates and shares of the
//!   population such as `poverty_rate`, `vulnerability_share`; trailing-year incomes; the
//!   transitions assessed at the year's last tick, `exit_rate`, `relapse_rate`,
//!   `entry_rate`; the income shares of that tick), except the transition counts `relapses`
//!   and `exits`, which are summed over the year (they are non-zero only at the assessment,
//!   so the sum equals the assessment's count), and `identified`, the monitoring's new
//!   identifications, which happen at any tick and are summed over the year too;
//! - `flows`: `amount` summed over the year for every channel except `migrant_stock`, a
//!   stock, which holds its year-end value (0 when the link recorded no row that tick, which
//!   happens only when every channel of the link was 0);
//! - `links`: the value at the year's last tick (delivery, firm counts and capital, return,
//!   labour filled are states, not flows);
//! - `households` (the panel): recorded only at year ends, kept as is.
//!
//! A year runs from tick `y·tpy` to `(y+1)·tpy − 1` (counted from the start, as the
//! assessment is); a yearly row carries the tick and date of the year's last tick.

use std::collections::BTreeMap;

use crate::batch::experiment::Keep;
use crate::model::config::{Config, Side};
use crate::model::flows::Channel;
use crate::output::recorder::{FlowRows, LinkRows, MetricsRows, PanelRows};
use crate::output::TableRecorder;

/// The rows of `rec` that a batch run keeps under `keep` (see the module doc).
pub fn select(cfg: &Config, rec: &TableRecorder, keep: &Keep) -> TableRecorder {
    let mut out = TableRecorder {
        region_names: rec.region_names.clone(),
        sides: rec.sides.clone(),
        panel: rec.panel,
        ..TableRecorder::default()
    };
    let (metrics, flows, links) = if keep.yearly {
        (
            yearly_metrics(cfg, &rec.metrics),
            yearly_flows(cfg, &rec.flows),
            yearly_links(cfg, &rec.links),
        )
    } else {
        (rec.metrics.clone(), rec.flows.clone(), rec.links.clone())
    };
    out.metrics = if keep.regions.is_empty() {
        metrics
    } else {
        filter_metrics(&metrics, &keep.regions)
    };
    out.flows = flows;
    out.links = links;
    out.panel_rows = if keep.regions.is_empty() {
        rec.panel_rows.clone()
    } else {
        filter_panel(cfg, &rec.panel_rows, &keep.regions)
    };
    out
}

/// The last tick of the simulated year containing `t` (the horizon's last tick for a
/// shortened final year).
fn year_end(cfg: &Config, t: u32) -> u32 {
    let tpy = cfg.calendar.ticks_per_year();
    ((t / tpy + 1) * tpy).min(cfg.calendar.ticks.max(1)) - 1
}

/// Year-end metrics rows with `relapses`, `exits` and `identified` summed over the year.
fn yearly_metrics(cfg: &Config, m: &MetricsRows) -> MetricsRows {
    let mut out = MetricsRows::default();
    // Scope → (relapses, exits, identified) since the start of the current year.
    let mut sums: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new();
    for i in 0..m.tick.len() {
        let t = m.tick[i];
        let s = sums.entry(m.region[i].as_str()).or_default();
        s.0 += m.m[i].relapses;
        s.1 += m.m[i].exits;
        s.2 += m.m[i].identified;
        if t == year_end(cfg, t) {
            let (relapses, exits, identified) =
                sums.remove(m.region[i].as_str()).unwrap_or_default();
            let mut row = m.m[i];
            row.relapses = relapses;
            row.exits = exits;
            row.identified = identified;
            out.tick.push(t);
            out.region.push(m.region[i].clone());
            out.side.push(m.side[i]);
            out.m.push(row);
            out.sys.push(m.sys[i]);
        }
    }
    out
}

/// One row per year, link and channel: the year's total (`migrant_stock`: year-end value).
fn yearly_flows(cfg: &Config, f: &FlowRows) -> FlowRows {
    let mut out = FlowRows::default();
    // (link, channel) → (sum over the year, value at the year's last tick).
    let mut year: BTreeMap<(u32, Channel), (f64, f64)> = BTreeMap::new();
    let mut current: Option<u32> = None;
    let flush = |end: u32, year: &mut BTreeMap<(u32, Channel), (f64, f64)>, out: &mut FlowRows| {
        for ((link, ch), (sum, last)) in std::mem::take(year) {
            out.tick.push(end);
            out.link.push(link);
            out.channel.push(ch);
            out.amount.push(if ch == Channel::MigrantStock {
                last
            } else {
                sum
            });
        }
    };
    for i in 0..f.tick.len() {
        let t = f.tick[i];
        let end = year_end(cfg, t);
        if current.is_some_and(|c| c != end) {
            flush(current.unwrap_or(end), &mut year, &mut out);
        }
        current = Some(end);
        let e = year.entry((f.link[i], f.channel[i])).or_insert((0.0, 0.0));
        e.0 += f.amount[i];
        if t == end {
            e.1 = f.amount[i];
        }
    }
    if let Some(end) = current {
        flush(end, &mut year, &mut out);
    }
    out
}

/// Year-end link rows.
fn yearly_links(cfg: &Config, l: &LinkRows) -> LinkRows {
    let mut out = LinkRows::default();
    for i in 0..l.tick.len() {
        let t = l.tick[i];
        if t == year_end(cfg, t) {
            out.tick.push(t);
            out.link.push(l.link[i]);
            out.r.push(l.r[i]);
        }
    }
    out
}

/// Metrics rows of the listed scopes.
fn filter_metrics(m: &MetricsRows, regions: &[String]) -> MetricsRows {
    let mut out = MetricsRows::default();
    for i in 0..m.tick.len() {
        if regions.iter().any(|r| *r == m.region[i]) {
            out.tick.push(m.tick[i]);
            out.region.push(m.region[i].clone());
            out.side.push(m.side[i]);
            out.m.push(m.m[i]);
            out.sys.push(m.sys[i]);
        }
    }
    out
}

/// Panel rows of households in the listed regions (`WEST`/`EAST`: that side; `ALL`: all).
fn filter_panel(cfg: &Config, p: &PanelRows, regions: &[String]) -> PanelRows {
    let keep_region: Vec<bool> = cfg
        .regions
        .iter()
        .map(|r| {
            regions.iter().any(|k| {
                *k == r.name
                    || k == "ALL"
                    || (k == "WEST" && r.side == Side::West)
                    || (k == "EAST" && r.side == Side::East)
            })
        })
        .collect();
    let mut out = PanelRows::default();
    for i in 0..p.tick.len() {
        if keep_region
            .get(p.region[i] as usize)
            .copied()
            .unwrap_or(false)
        {
            out.tick.push(p.tick[i]);
            out.household.push(p.household[i]);
            out.region.push(p.region[i]);
            out.status.push(p.status[i]);
            out.flags.push(p.flags[i]);
            out.income.push(p.income[i]);
            out.last_exit.push(p.last_exit[i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        let mut c = crate::scenario::load_builtin(
            "one_way_aid.toml",
            &[
                "region.Upland.households=400".into(),
                "region.Coastal.households=100".into(),
            ],
        )
        .unwrap()
        .config;
        c.calendar.ticks = 24;
        c
    }

    #[test]
    fn yearly_flows_are_year_totals_and_stocks_year_end_values() {
        let c = cfg();
        let mut rec = TableRecorder::new(&c, false);
        crate::model::run::run(&c, &mut rec);
        let keep = Keep {
            tables: vec!["flows".into()],
            yearly: true,
            regions: vec![],
        };
        let y = select(&c, &rec, &keep);
        assert!(y.flows.tick.iter().all(|&t| t == 11 || t == 23));
        for (i, &t) in y.flows.tick.iter().enumerate() {
            let (link, ch) = (y.flows.link[i], y.flows.channel[i]);
            let rows = (0..rec.flows.tick.len()).filter(|&j| {
                rec.flows.link[j] == link
                    && rec.flows.channel[j] == ch
                    && rec.flows.tick[j] / 12 == t / 12
            });
            let want = if ch == Channel::MigrantStock {
                rows.filter(|&j| rec.flows.tick[j] == t)
                    .map(|j| rec.flows.amount[j])
                    .sum::<f64>()
            } else {
                rows.map(|j| rec.flows.amount[j]).sum::<f64>()
            };
            assert!(
                (y.flows.amount[i] - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{ch:?} at {t}: {} vs {want}",
                y.flows.amount[i]
            );
        }
        let aid: f64 = (0..y.flows.tick.len())
            .filter(|&i| y.flows.channel[i] == Channel::FiscalAid)
            .map(|i| y.flows.amount[i])
            .sum();
        assert!(aid > 0.0);
    }

    #[test]
    fn yearly_metrics_keep_year_ends_and_sum_transitions() {
        let c = cfg();
        let mut rec = TableRecorder::new(&c, false);
        crate::model::run::run(&c, &mut rec);
        let keep = Keep {
            tables: vec!["metrics".into()],
            yearly: true,
            regions: vec!["WEST".into()],
        };
        let y = select(&c, &rec, &keep);
        assert_eq!(y.metrics.tick, vec![11, 23]);
        for (k, &t) in y.metrics.tick.iter().enumerate() {
            let rows: Vec<usize> = (0..rec.metrics.tick.len())
                .filter(|&j| rec.metrics.region[j] == "WEST" && rec.metrics.tick[j] / 12 == t / 12)
                .collect();
            let relapses: f64 = rows.iter().map(|&j| rec.metrics.m[j].relapses).sum();
            assert_eq!(y.metrics.m[k].relapses, relapses);
            let end = rows.iter().find(|&&j| rec.metrics.tick[j] == t).unwrap();
            assert_eq!(
                y.metrics.m[k].poverty_rate,
                rec.metrics.m[*end].poverty_rate
            );
        }
    }

    #[test]
    fn distribution_at_year_ends_changes_no_kept_row() {
        let c = cfg();
        let mut full = TableRecorder::new(&c, false);
        crate::model::run::run(&c, &mut full);
        let mut lean = TableRecorder::new(&c, false).distribution_at_year_ends(&c);
        crate::model::run::run(&c, &mut lean);
        let keep = Keep {
            tables: vec!["metrics".into()],
            yearly: true,
            regions: vec![],
        };
        let (a, b) = (select(&c, &full, &keep), select(&c, &lean, &keep));
        // Bit for bit, NaN included: every kept row is the same, distribution measures too.
        assert_eq!(format!("{:?}", a.metrics), format!("{:?}", b.metrics));
        assert!(a.metrics.m.iter().all(|m| m.median_income > 0.0));
        // The rows the yearly keep drops lack them, and nothing else.
        let mid = (0..lean.metrics.tick.len())
            .find(|&i| lean.metrics.tick[i] == 5)
            .unwrap();
        assert!(lean.metrics.m[mid].median_income.is_nan());
        assert!(lean.metrics.m[mid].mean_vulnerability.is_nan());
        assert!(full.metrics.m[mid].median_income > 0.0);
        let mut m = full.metrics.m[mid].without_distribution();
        assert_eq!(format!("{m:?}"), format!("{:?}", lean.metrics.m[mid]));
        m.households += 1.0;
        assert_ne!(format!("{m:?}"), format!("{:?}", lean.metrics.m[mid]));
    }
}
