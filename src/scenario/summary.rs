//! What a resolved scenario contains, as text for `xiezuo check`: regions, links, phases
//! with their dates, shocks.

use std::fmt::Write as _;

use super::validate::Loaded;
use crate::model::config::ShockKind;

/// Shock regions listed in full up to this many; longer lists are cut with a count.
const SHOCK_REGIONS_SHOWN: usize = 8;

/// Lists what the resolved scenario contains: every region (name, side, simulated
/// households), link (east → west, start, end), phase (name, start) and shock (kind,
/// start, months, severity, regions hit). Dates are the calendar's `YYYY-MM`.
pub fn describe(l: &Loaded) -> String {
    let c = &l.config;
    let cal = &c.calendar;
    let mut s = String::new();
    let _ = writeln!(s, "files: {}", l.files.join(" <- "));
    let width = c
        .regions
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    let _ = writeln!(s, "regions ({}):", c.regions.len());
    for r in &c.regions {
        let _ = writeln!(
            s,
            "  {:<width$}  {:<4}  {:>9} households",
            r.name,
            r.side.as_str(),
            r.households
        );
    }
    let link_names: Vec<Option<String>> = l
        .resolved
        .get("link")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .map(|e| e.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let _ = writeln!(s, "links ({}):", c.links.len());
    for (i, k) in c.links.iter().enumerate() {
        let pair = format!("{} → {}", c.regions[k.east].name, c.regions[k.west].name);
        let _ = write!(
            s,
            "  {pair:<w$}  from {}",
            cal.date(k.start),
            w = 2 * width + 3
        );
        if let Some(e) = k.end {
            let _ = write!(s, " to {}", cal.date(e));
        }
        if let Some(Some(n)) = link_names.get(i) {
            let _ = write!(s, "  (name `{n}`)");
        }
        s.push('\n');
    }
    let _ = writeln!(s, "phases ({}):", c.phases.len());
    let pw = c
        .phases
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0);
    for p in &c.phases {
        let _ = writeln!(s, "  {:<pw$}  from {}", p.name, cal.date(p.start));
    }
    let _ = writeln!(s, "shocks ({}):", c.shocks.len());
    for sh in &c.shocks {
        let kind = match sh.kind {
            ShockKind::Pandemic => "pandemic",
            ShockKind::PriceCollapse => "price_collapse",
            ShockKind::Disaster => "disaster",
        };
        let mut names: Vec<&str> = sh
            .regions
            .iter()
            .take(SHOCK_REGIONS_SHOWN)
            .map(|&r| c.regions[r].name.as_str())
            .collect();
        let more = sh.regions.len().saturating_sub(SHOCK_REGIONS_SHOWN);
        let extra = format!("… ({} in all)", sh.regions.len());
        if more > 0 {
            names.push(&extra);
        }
        let _ = writeln!(
            s,
            "  {kind:<14}  from {}, {} months, severity {}, regions {}",
            crate::model::time::YearMonth::from_index(cal.start.index() + sh.start_month as i64),
            sh.months,
            sh.severity,
            names.join(", ")
        );
    }
    s
}
