//! Firms: eastern investors, western local firms and village cooperatives, as columns.
//!
//! Firms are real-scale agents (one record per real firm, capital in real yuan). Entry and
//! exit are decided during a tick but queued as [`FirmChange`]s and applied at the tick
//! boundary, so every firm sees the same population within a tick.

use rand::Rng;
use rand_distr::{Distribution, Poisson};

use crate::model::config::{Config, PhaseScales};
use crate::model::firms::{FirmChange, FirmKind, MAX_FIRMS_PER_REGION, MAX_NEW_FIRMS_PER_TICK};
use crate::model::flows::Channel;
use crate::model::ledger::Account;
use crate::model::rng::{Purpose, Streams};
use crate::model::time::Tick;
use crate::model::world::World;

/// Annualised return on capital of a firm in a region, per unit of capital:
/// `fill × (A·λ·(1 − x·τ)·(1 − π/2) − 1) · w·s / k − δ + ι·c`, see ODD §7.6.
#[allow(clippy::too_many_arguments)]
pub fn return_rate(
    fill: f64,
    productivity: f64,
    labour_productivity: f64,
    export_share: f64,
    transport: f64,
    pandemic: f64,
    wage_per_worker: f64,
    capital_per_job: f64,
    depreciation: f64,
    incentive: f64,
) -> f64 {
    let margin = productivity
        * labour_productivity
        * (1.0 - export_share * transport)
        * (1.0 - 0.5 * pandemic)
        - 1.0;
    fill * margin * wage_per_worker / capital_per_job - depreciation + incentive
}

/// Region-level firm conditions used by both incumbents and entrants.
fn region_productivity(world: &World, cfg: &Config, r: usize) -> f64 {
    let rs = &world.regions[r];
    let p0 = cfg.regions[r].infrastructure;
    1.0 + cfg.firms.talent_productivity * rs.talent_index
        + cfg.firms.infra_productivity * (rs.infrastructure - p0)
}

fn effective_transport(world: &World, cfg: &Config, r: usize) -> f64 {
    cfg.regions[r].transport_cost * (1.0 - 0.5 * world.regions[r].infrastructure)
}

/// Before the household phase: each region's local labour demand, and eastern firms'
/// entry decisions along each active link (queued for the tick boundary).
pub fn plan(world: &mut World, cfg: &Config, scales: &PhaseScales, streams: &Streams, t: Tick) {
    let fp = &cfg.firms;
    let tpy = cfg.calendar.ticks_per_year() as f64;
    plan_demand(world, cfg);
    for (li, link) in cfg.links.iter().enumerate() {
        if !link.active(t) {
            continue;
        }
        let lambda =
            link.channels.firm_mobilisation * scales.firms * world.links[li].delivery / tpy;
        if lambda <= 0.0 {
            continue;
        }
        let mut rng = streams.stream(Purpose::FirmEntry, li as u64, t as u64);
        let candidates = Poisson::new(lambda)
            .map(|d| d.sample(&mut rng) as u64)
            .unwrap_or(0);
        if candidates == 0 {
            continue;
        }
        let w = link.west;
        let expected = expected_return(world, cfg, w);
        let p_enter = 1.0 / (1.0 + (-fp.entry_slope * (expected - fp.hurdle_return)).exp());
        for _ in 0..candidates {
            let rs = &world.regions[w];
            if rs.queued_entries >= MAX_NEW_FIRMS_PER_TICK
                || rs.firm_count + rs.queued_entries >= MAX_FIRMS_PER_REGION
            {
                break;
            }
            if rng.random::<f64>() < p_enter {
                world.regions[w].queued_entries += 1;
                world.pending.push(FirmChange::Enter {
                    region: w as u16,
                    link: li as u32,
                    kind: FirmKind::East,
                    capital: fp.firm_capital,
                    expected_return: expected,
                });
            }
        }
    }
}

/// Each region's local labour demand: Σ capital / capital per job, less half the pandemic
/// severity.
pub fn plan_demand(world: &mut World, cfg: &Config) {
    for rs in world.regions.iter_mut() {
        rs.job_demand = 0.0;
    }
    for i in 0..world.firms.len() {
        let r = world.firms.region[i] as usize;
        let pandemic = world.regions[r].pandemic;
        world.regions[r].job_demand +=
            world.firms.capital[i] / cfg.firms.capital_per_job * (1.0 - 0.5 * pandemic);
    }
}

/// Whether benefit linkage is on (a guaranteed return or a dividend share is set).
pub fn linkage_on(cfg: &Config) -> bool {
    cfg.policy.dividend_share > 0.0 || cfg.policy.guaranteed_return > 0.0
}

/// The return an eastern firm expects from a new plant in region `r` (ODD §7.6).
pub fn expected_return(world: &World, cfg: &Config, r: usize) -> f64 {
    let rs = &world.regions[r];
    let fp = &cfg.firms;
    let p = &cfg.regions[r];
    let new_jobs = fp.firm_capital / fp.capital_per_job;
    // Labour the region could supply: current local workers plus idle seekers.
    let supply = rs.acc.local + rs.acc.seekers_se;
    let fill = (supply / (rs.job_demand + new_jobs).max(1e-9)).min(1.0);
    let skill = if rs.acc.n > 0.0 {
        rs.acc.skill / rs.acc.n
    } else {
        1.0
    };
    let linkage = if linkage_on(cfg) {
        fp.linked_profit_share
    } else {
        0.0
    };
    let growth =
        (1.0 + p.growth).powf((world.tick as f64 + 0.5) / cfg.calendar.ticks_per_year() as f64);
    let r = return_rate(
        fill,
        region_productivity(world, cfg, r),
        p.labour_productivity,
        fp.export_share,
        effective_transport(world, cfg, r),
        rs.pandemic,
        growth * p.wage * skill,
        fp.capital_per_job,
        fp.depreciation,
        cfg.policy.promised_incentive * rs.credibility,
    );
    if r > 0.0 {
        r * (1.0 - linkage)
    } else {
        r
    }
}

/// After the household phase: firms produce with the workers they actually employ, pay
/// wages, receive incentives actually delivered, share profits under benefit linkage
/// (003), repatriate the rest east, and decide whether to leave (queued).
pub fn produce(world: &mut World, cfg: &Config) {
    let fp = &cfg.firms;
    let pol = &cfg.policy;
    let tpy = cfg.calendar.ticks_per_year() as f64;
    let linkage_on = linkage_on(cfg);
    let memory = 1.0 / tpy;
    for i in 0..world.firms.len() {
        let r = world.firms.region[i] as usize;
        let (wage_bill, demand, pandemic, credibility) = {
            let rs = &world.regions[r];
            (
                rs.acc.components[2],
                rs.job_demand,
                rs.pandemic,
                rs.credibility,
            )
        };
        let k = world.firms.capital[i];
        let my_demand = k / fp.capital_per_job * (1.0 - 0.5 * pandemic);
        let share = if demand > 0.0 {
            my_demand / demand
        } else {
            0.0
        };
        let wages = share * wage_bill;
        let lp = cfg.regions[r].labour_productivity;
        let transport = effective_transport(world, cfg, r);
        let gross_va = wages * lp * region_productivity(world, cfg, r);
        let va = gross_va * (1.0 - fp.export_share * transport) * (1.0 - 0.5 * pandemic);
        let depreciation = fp.depreciation * k / tpy;
        let kind = world.firms.kind[i];
        let incentive = if kind == FirmKind::East {
            pol.promised_incentive * credibility * k / tpy
        } else {
            0.0
        };
        let l = &mut world.ledger;
        l.transfer(Account::Economy(r), Account::Firms(r), va);
        l.transfer(Account::Firms(r), Account::Depreciation, depreciation);
        l.transfer(Account::Treasury(r), Account::Firms(r), incentive);
        // Wages were paid to households in the household phase; settle them here.
        l.transfer(Account::Firms(r), Account::Households(r), wages);
        let profit = va - wages - depreciation + incentive;
        let link = world.firms.link[i];
        let mut retained = profit;
        match kind {
            FirmKind::Cooperative => {
                if linkage_on {
                    let guaranteed = pol.guaranteed_return * world.firms.initial_capital[i] / tpy;
                    let pay = guaranteed + pol.dividend_share * (profit - guaranteed).max(0.0);
                    world.regions[r].dividend_pool += pay;
                    retained -= pay;
                }
            }
            FirmKind::East => {
                if linkage_on && profit > 0.0 {
                    let pay = fp.linked_profit_share * profit;
                    world.regions[r].dividend_pool += pay;
                    retained -= pay;
                }
                if retained > 0.0 {
                    let e = cfg.links[link as usize].east;
                    world
                        .ledger
                        .transfer(Account::Firms(r), Account::EastOwners(e), retained);
                    world.flows.add(link as usize, Channel::Profits, retained);
                    retained = 0.0;
                }
            }
            FirmKind::Local => {
                // The local sector replaces depreciation out of its gross margin (profit is
                // already net of it) and pays the positive remainder to local owners.
                if retained > 0.0 {
                    world
                        .ledger
                        .transfer(Account::Firms(r), Account::Treasury(r), retained);
                    retained = 0.0;
                }
            }
        }
        // Exported output (products flow), attributed to the firm's link or by market share.
        let exports = gross_va * fp.export_share;
        if kind == FirmKind::East {
            world.flows.add(link as usize, Channel::FirmSales, exports);
        } else {
            for (li, l) in cfg.links.iter().enumerate() {
                if l.west == r && world.links[li].market_share > 0.0 {
                    world.flows.add(
                        li,
                        Channel::FirmSales,
                        exports * world.links[li].market_share,
                    );
                }
            }
        }
        if k + retained < 0.0 {
            // Capital cannot go negative: the owners cover the rest of the loss (eastern owners
            // for eastern firms, the local treasury for local firms and cooperatives).
            let payer = if kind == FirmKind::East {
                Account::EastOwners(cfg.links[link as usize].east)
            } else {
                Account::Treasury(r)
            };
            world
                .ledger
                .transfer(payer, Account::Firms(r), -(k + retained));
            retained = -k;
        }
        let k_new = k + retained;
        world.firms.capital[i] = k_new;
        let ret = if k > 0.0 { profit * tpy / k } else { -1.0 };
        let avg = &mut world.firms.avg_return[i];
        *avg += memory * (ret - *avg);
        match kind {
            FirmKind::East => {
                if *avg < fp.hurdle_return {
                    world.firms.low_ticks[i] += 1;
                } else {
                    world.firms.low_ticks[i] = 0;
                }
                if world.firms.low_ticks[i] as f64 >= fp.patience_years * tpy {
                    world.pending.push(FirmChange::Exit(i));
                }
            }
            FirmKind::Cooperative => {
                if k_new < 0.2 * world.firms.initial_capital[i] {
                    world.pending.push(FirmChange::Exit(i));
                }
            }
            FirmKind::Local => {}
        }
    }
}

/// Applies queued entries and exits at the tick boundary (exits first, then entries in
/// queue order) and moves the capital involved.
pub fn apply_changes(world: &mut World, cfg: &Config) {
    for rs in world.regions.iter_mut() {
        rs.queued_entries = 0;
    }
    if world.pending.is_empty() {
        return;
    }
    let mut exits: Vec<usize> = Vec::new();
    for ch in &world.pending {
        if let FirmChange::Exit(i) = *ch {
            exits.push(i);
        }
    }
    exits.sort_unstable();
    exits.dedup();
    for &i in &exits {
        let r = world.firms.region[i] as usize;
        let k = world.firms.capital[i];
        match world.firms.kind[i] {
            FirmKind::East => {
                let li = world.firms.link[i] as usize;
                world.ledger.transfer(
                    Account::Firms(r),
                    Account::EastOwners(cfg.links[li].east),
                    k,
                );
                world.flows.add(li, Channel::Disinvestment, k);
            }
            _ => world
                .ledger
                .transfer(Account::Firms(r), Account::Treasury(r), k),
        }
    }
    world.firms.remove_sorted(&exits);
    let pending = std::mem::take(&mut world.pending);
    for ch in &pending {
        if let FirmChange::Enter {
            region,
            link,
            kind,
            capital,
            expected_return,
        } = *ch
        {
            if kind == FirmKind::East {
                let li = link as usize;
                world.ledger.transfer(
                    Account::EastOwners(cfg.links[li].east),
                    Account::Firms(region as usize),
                    capital,
                );
                world.flows.add(li, Channel::Investment, capital);
            }
            // Cooperative capital is already in the region's firm account (industry funds).
            world
                .firms
                .push(region, link, kind, capital, expected_return);
        }
    }
    world.pending = pending;
    world.pending.clear();
    for rs in world.regions.iter_mut() {
        rs.firm_count = 0;
    }
    for &r in &world.firms.region {
        world.regions[r as usize].firm_count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_rises_with_productivity_and_incentives() {
        let base = return_rate(1.0, 1.0, 1.6, 0.5, 0.15, 0.0, 24000.0, 1e5, 0.05, 0.0);
        assert!(return_rate(1.0, 1.2, 1.6, 0.5, 0.15, 0.0, 24000.0, 1e5, 0.05, 0.0) > base);
        assert!(return_rate(1.0, 1.0, 1.6, 0.5, 0.15, 0.0, 24000.0, 1e5, 0.05, 0.02) > base);
        assert!(return_rate(0.5, 1.0, 1.6, 0.5, 0.15, 0.0, 24000.0, 1e5, 0.05, 0.0) < base);
    }
}
