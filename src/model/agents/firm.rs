//! Firms: eastern investors, western local firms and village cooperatives, as columns.
//!
//! Firms are real-scale agents (one record per real firm, capital in real yuan). Entry and
//! exit are decided during a tick but queued as [`FirmChange`]s and applied at the tick
//! boundary, so every firm sees the same population within a tick.

use rand::Rng;
use rand_distr::{Distribution, Poisson, StandardNormal};

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
    // The incumbents' capital and returns, every link in one pass over the firms (the
    // same sums, in the same order, as a pass per link; nothing below changes them).
    for l in world.links.iter_mut() {
        l.east_capital = 0.0;
        l.east_capital_return = 0.0;
    }
    let f = &world.firms;
    for i in 0..f.len() {
        if f.kind[i] == FirmKind::East {
            if let Some(l) = world.links.get_mut(f.link[i] as usize) {
                l.east_capital += f.capital[i];
                l.east_capital_return += f.capital[i] * f.avg_return[i];
            }
        }
    }
    for (li, link) in cfg.links.iter().enumerate() {
        if !link.active(t) {
            continue;
        }
        // Two kinds of candidates (ODD §7.6.2): mobilised by the partner government (the
        // mandate, 002) and investors who come on market terms.
        let lambda_m =
            link.channels.firm_mobilisation * scales.firms * world.links[li].delivery / tpy;
        let lambda_k = fp.market_candidates / tpy;
        if lambda_m <= 0.0 && lambda_k <= 0.0 {
            continue;
        }
        let mut rng = streams.stream(Purpose::FirmEntry, li as u64, t as u64);
        let mut poisson = |lambda: f64| {
            if lambda > 0.0 {
                Poisson::new(lambda)
                    .map(|d| d.sample(&mut rng) as u64)
                    .unwrap_or(0)
            } else {
                0
            }
        };
        let mobilised = poisson(lambda_m);
        let market = poisson(lambda_k);
        if mobilised + market == 0 {
            continue;
        }
        let w = link.west;
        // What a plant of its own would earn in the markets it sells into, with its own
        // capacity added, blended with what the link's plants actually earn (ODD §7.6.2).
        let own = expected_return(world, cfg, w, link.east, li, scales.incentives);
        let l = &world.links[li];
        let incumbents = incumbents_from(l.east_capital, l.east_capital_return, cfg);
        debug_assert_eq!(incumbents, incumbent_return(world, cfg, li));
        let expected = blend_expectation(own, incumbents, fp.incumbent_weight);
        let gap = expected - fp.hurdle_return;
        // Market candidates enter only above the hurdle. Mobilised candidates are persuaded
        // along a logistic curve (some enter below the hurdle), unless the link's plants
        // realise returns well below it: then the mandate has no pull and they decide on
        // market terms like the others.
        let p_market = market_entry(gap, fp.entry_slope);
        let p_mobilised = if mandate_persuades(incumbents, fp) {
            1.0 / (1.0 + (-fp.entry_slope * gap).exp())
        } else {
            p_market
        };
        for c in 0..mobilised + market {
            let rs = &world.regions[w];
            if rs.queued_entries >= MAX_NEW_FIRMS_PER_TICK
                || rs.firm_count + rs.queued_entries >= MAX_FIRMS_PER_REGION
            {
                break;
            }
            let p_enter = if c < mobilised { p_mobilised } else { p_market };
            if rng.random::<f64>() < p_enter {
                // The entrant's productivity, from the stationary distribution of the
                // plants' productivity process (ODD §7.6.7): one standard normal.
                let z: f64 = rng.sample(StandardNormal);
                let productivity = plant_productivity(fp, z);
                world.regions[w].queued_entries += 1;
                world.pending.push(FirmChange::Enter {
                    region: w as u16,
                    link: li as u32,
                    kind: FirmKind::East,
                    // Plants keep pace with the economy: the same jobs as a plant of
                    // `firm_capital` at the start (ODD §7.6.2).
                    capital: fp.firm_capital * cfg.regions[w].growth_factor(t, tpy as u32),
                    pool: 0.0,
                    expected_return: expected,
                    productivity,
                });
            }
        }
    }
}

/// Stationary log-sd `s = σ/√(1 − ρ²)` of the plants' productivity process (ODD §7.6.7).
fn productivity_sd(fp: &crate::model::config::FirmParams) -> f64 {
    let rho = fp.productivity_persistence;
    if rho < 1.0 {
        fp.productivity_shock / (1.0 - rho * rho).sqrt()
    } else {
        0.0
    }
}

/// An entrant's productivity for a standard normal `z`: `exp(s·z − s²/2)` (mean 1), `s` the
/// stationary log-sd.
fn plant_productivity(fp: &crate::model::config::FirmParams, z: f64) -> f64 {
    let s = productivity_sd(fp);
    (s * z - 0.5 * s * s).exp()
}

/// Year end: every eastern plant's log productivity follows the AR(1)
/// `x' = ρ x + (1 − ρ) μ + σ ε` with `μ = −s²/2` (so that ψ has mean 1 in the stationary
/// distribution), one standard normal per plant in index order from the stream
/// `(FirmShocks, 0, t)` (ODD §7.6.7).
pub fn productivity_shocks(world: &mut World, cfg: &Config, streams: &Streams, t: Tick) {
    let fp = &cfg.firms;
    if fp.productivity_shock <= 0.0 {
        return;
    }
    let s = productivity_sd(fp);
    let rho = fp.productivity_persistence;
    let mu = -0.5 * s * s;
    let mut rng = streams.stream(Purpose::FirmShocks, 0, t as u64);
    for i in 0..world.firms.len() {
        if world.firms.kind[i] != FirmKind::East {
            continue;
        }
        let e: f64 = rng.sample(StandardNormal);
        let x = world.firms.productivity[i].ln();
        world.firms.productivity[i] =
            (rho * x + (1.0 - rho) * mu + fp.productivity_shock * e).exp();
    }
}

/// Share of a firm's capacity that sells into its region's market: an eastern plant sells
/// `export_share` of its output through its own eastern orders, the rest locally; local
/// firms and cooperatives sell everything in the regional market (ODD §7.6.6).
#[inline]
pub fn market_part(kind: FirmKind, cfg: &Config) -> f64 {
    match kind {
        FirmKind::East => 1.0 - cfg.firms.export_share,
        FirmKind::Local | FirmKind::Cooperative => 1.0,
    }
}

/// Capital one job needs in region `r` this tick: `capital_per_job` grown with the region's
/// wages (capital deepening at the rate of wage growth keeps the capital–output ratio and,
/// at given sales, the return on capital constant; ODD §7.6.1).
#[inline]
fn job_capital(world: &World, cfg: &Config, r: usize) -> f64 {
    cfg.firms.capital_per_job * growth_now(world, cfg, r)
}

/// Region `r`'s capital deepening per tick: the cached value ([`World::refresh_growth`]),
/// or computed when the cache is for another tick.
#[inline]
fn deepening_now(world: &World, cfg: &Config, r: usize) -> f64 {
    let rs = &world.regions[r];
    if rs.growth_tick == world.tick {
        rs.deepening
    } else {
        cfg.regions[r].deepening(cfg.calendar.ticks_per_year())
    }
}

/// Region `r`'s growth factor at the current tick: the cached value
/// ([`World::refresh_growth`]), or computed when the cache is for another tick.
#[inline]
fn growth_now(world: &World, cfg: &Config, r: usize) -> f64 {
    let rs = &world.regions[r];
    if rs.growth_tick == world.tick {
        rs.growth_now
    } else {
        cfg.regions[r].growth_factor(world.tick, cfg.calendar.ticks_per_year())
    }
}

/// Value at base prices, per tick, of one job's output in region `r`: the wage of a worker
/// of mean skill (last tick's rate) × A·λ.
fn job_value(world: &World, cfg: &Config, r: usize) -> f64 {
    let rs = &world.regions[r];
    let skill = if rs.acc.n > 0.0 {
        rs.acc.skill / rs.acc.n
    } else {
        1.0
    };
    rs.rates.wage as f64
        * skill
        * cfg.regions[r].labour_productivity
        * region_productivity(world, cfg, r)
}

/// The eastern region whose orders an eastern plant serves (its link's east); `None` for
/// local firms and cooperatives.
#[inline]
fn orders_region(world: &World, cfg: &Config, i: usize) -> Option<usize> {
    match world.firms.kind[i] {
        FirmKind::East => Some(cfg.links[world.firms.link[i] as usize].east),
        _ => None,
    }
}

/// The two markets a firm sells in: its region's (`u`, `p`) and, for an eastern plant, its
/// home region's orders for relocated production (`ue`, `pe`; 1 and 1 otherwise).
#[derive(Debug, Clone, Copy)]
struct Sales {
    u: f64,
    p: f64,
    ue: f64,
    pe: f64,
}

impl Sales {
    fn of(world: &World, cfg: &Config, i: usize) -> Sales {
        let rs = &world.regions[world.firms.region[i] as usize];
        let (ue, pe) = match orders_region(world, cfg, i) {
            Some(e) => (
                world.regions[e].export_utilisation,
                world.regions[e].export_price,
            ),
            None => (1.0, 1.0),
        };
        Sales {
            u: rs.utilisation,
            p: rs.price,
            ue,
            pe,
        }
    }

    /// Share of capacity sold: the market part at `u`, own orders at `ue`.
    #[inline]
    fn sold(&self, m: f64) -> f64 {
        m * self.u + (1.0 - m) * self.ue
    }

    /// Value of sales per yuan of output at base prices (ODD §7.6.6).
    #[inline]
    fn price_factor(&self, m: f64) -> f64 {
        let sold = self.sold(m);
        if sold > 0.0 {
            (m * self.u * self.p + (1.0 - m) * self.ue * self.pe) / sold
        } else {
            1.0
        }
    }
}

/// Clears both markets of every region on last tick's demand and this tick's capacity
/// (after the boundary's entries and exits), then sets each region's labour demand: firms
/// employ for what they expect to sell (ODD §7.6.6). `u = min(1, D/S)`, `p = max(1, D/S)^η`
/// for the regional market (`market_demand` / `market_supply`) and for the orders of
/// relocated production (`export_demand` / `export_supply`, on the eastern home region).
pub fn plan_demand(world: &mut World, cfg: &Config) {
    for rs in world.regions.iter_mut() {
        rs.market_supply = 0.0;
        rs.export_supply = 0.0;
        rs.job_demand = 0.0;
    }
    for i in 0..world.firms.len() {
        let r = world.firms.region[i] as usize;
        let cap = world.firms.capital[i] / job_capital(world, cfg, r)
            * (1.0 - 0.5 * world.regions[r].pandemic)
            * job_value(world, cfg, r);
        let m = market_part(world.firms.kind[i], cfg);
        world.regions[r].market_supply += cap * m;
        if let Some(e) = orders_region(world, cfg, i) {
            world.regions[e].export_supply += cap * (1.0 - m);
        }
    }
    let clear = |d: f64, s: f64| post_entry(d, s, 0.0, cfg.market.price_flexibility);
    for rs in world.regions.iter_mut() {
        (rs.utilisation, rs.price) = clear(rs.market_demand, rs.market_supply);
        (rs.export_utilisation, rs.export_price) = clear(rs.export_demand, rs.export_supply);
    }
    for i in 0..world.firms.len() {
        let r = world.firms.region[i] as usize;
        let sales = Sales::of(world, cfg, i);
        world.regions[r].job_demand += firm_jobs(
            world.firms.capital[i] / job_capital(world, cfg, r),
            world.firms.kind[i],
            &sales,
            world.regions[r].pandemic,
            cfg,
        );
    }
}

/// Jobs a firm offers this tick: capacity (`capacity` jobs: capital over the capital a job
/// needs) times the share it expects to sell.
#[inline]
fn firm_jobs(capacity: f64, kind: FirmKind, sales: &Sales, pandemic: f64, cfg: &Config) -> f64 {
    capacity * (1.0 - 0.5 * pandemic) * sales.sold(market_part(kind, cfg))
}

/// Whether benefit linkage is on (a guaranteed return or a dividend share is set).
pub fn linkage_on(cfg: &Config) -> bool {
    cfg.policy.dividend_share > 0.0 || cfg.policy.guaranteed_return > 0.0
}

/// A market cleared after `added` capacity joins `supply`: utilisation `min(1, D/(S + c))`
/// and price `(D/(S + c))^η` (ratio 1 when demand or supply is 0): excess demand raises the
/// price, a glut lowers it (ODD §7.6.6). With `added = 0` it is the clearing of
/// [`plan_demand`]; with the entrant's capacity, what an entrant expects to sell.
pub fn post_entry(demand: f64, supply: f64, added: f64, eta: f64) -> (f64, f64) {
    let s = supply + added;
    let ratio = if demand > 0.0 && s > 0.0 {
        demand / s
    } else {
        1.0
    };
    (ratio.min(1.0), ratio.powf(eta))
}

/// The probability that an investor on market terms acts when the expected return beats the
/// hurdle by `gap`: `1 − exp(−entry_slope · gap)` above the hurdle, 0 at or below it. It is
/// an eastern market candidate's entry probability and the share of the profit left after
/// capital deepening that an eastern plant or the local sector reinvests to grow (ODD
/// §7.6.2, §7.6.3).
#[inline]
pub fn market_entry(gap: f64, slope: f64) -> f64 {
    if gap > 0.0 {
        1.0 - (-slope * gap).exp()
    } else {
        0.0
    }
}

/// A firm's investment out of `retained` profit (ODD §7.6.3): capital deepening first, at
/// most `deepening`, then, to expand, the share `market_entry(g)` of the rest, `g` its
/// smoothed return `avg_return` over the hurdle. Returns `(expand, deepen + expand)`.
#[inline]
fn investment(
    deepening: f64,
    retained: f64,
    avg_return: f64,
    fp: &crate::model::config::FirmParams,
) -> (f64, f64) {
    let deepen = deepening.min(retained.max(0.0));
    let g = avg_return - fp.hurdle_return;
    let expand = market_entry(g, fp.entry_slope) * (retained - deepen).max(0.0);
    (expand, deepen + expand)
}

/// What the eastern plants already on link `li` realise: the capital-weighted mean of their
/// smoothed annual returns, net of the linked profit share when benefit linkage is on (as
/// the entrant's own calculation); `None` when the link has no plants (ODD §7.6.2).
pub fn incumbent_return(world: &World, cfg: &Config, li: usize) -> Option<f64> {
    let f = &world.firms;
    let (mut k, mut kr) = (0.0, 0.0);
    for i in 0..f.len() {
        if f.link[i] == li as u32 && f.kind[i] == FirmKind::East {
            k += f.capital[i];
            kr += f.capital[i] * f.avg_return[i];
        }
    }
    incumbents_from(k, kr, cfg)
}

/// [`incumbent_return`] from the sums `k` = Σ capital and `kr` = Σ capital × return.
fn incumbents_from(k: f64, kr: f64, cfg: &Config) -> Option<f64> {
    if k <= 0.0 {
        return None;
    }
    let r = kr / k;
    Some(if r > 0.0 && linkage_on(cfg) {
        r * (1.0 - cfg.firms.linked_profit_share)
    } else {
        r
    })
}

/// An entrant's expected return: `(1 − ω) · market + ω · incumbents` with `ω =
/// incumbent_weight`; the market calculation alone when the link has no plants yet.
pub fn blend_expectation(market: f64, incumbents: Option<f64>, weight: f64) -> f64 {
    match incumbents {
        Some(r) => (1.0 - weight) * market + weight * r,
        None => market,
    }
}

/// Whether the partner government can still persuade mobilised candidates: unless the
/// link's plants realise less than `hurdle_return − mobilisation_tolerance` (a link without
/// plants has no record against it).
pub fn mandate_persuades(incumbents: Option<f64>, fp: &crate::model::config::FirmParams) -> bool {
    incumbents.is_none_or(|r| r >= fp.hurdle_return - fp.mobilisation_tolerance)
}

/// The return an eastern firm from region `e` expects from a new plant of its own in region
/// `r`, from its own market calculation: the regional market and its home region's orders
/// cleared with its own capacity and the plants already queued this tick added (ODD §7.6.2).
pub fn expected_return(
    world: &World,
    cfg: &Config,
    r: usize,
    e: usize,
    li: usize,
    incentives: f64,
) -> f64 {
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
    let growth = growth_now(world, cfg, r);
    // A plant sells what its home region's orders and the regional market take.
    let m = market_part(FirmKind::East, cfg);
    // Capacity (value per tick at base prices) of the plant and of those already queued in
    // the region this tick, as `plan_demand` will count them at the next tick.
    let plants = 1.0 + rs.queued_entries as f64;
    let cap = new_jobs * (1.0 - 0.5 * rs.pandemic) * job_value(world, cfg, r) * plants;
    let eta = cfg.market.price_flexibility;
    let (u, price) = post_entry(rs.market_demand, rs.market_supply, cap * m, eta);
    let er = &world.regions[e];
    let (ue, pe) = post_entry(er.export_demand, er.export_supply, cap * (1.0 - m), eta);
    let sales = Sales {
        u,
        p: price,
        ue,
        pe,
    };
    // The plant joins its link's park: its plants and itself (ODD §7.6.2).
    let park = fp.agglomeration_factor(world.links[li].plants as f64 + 1.0);
    let r = return_rate(
        fill * sales.sold(m),
        region_productivity(world, cfg, r) * park * sales.price_factor(m),
        p.labour_productivity,
        fp.export_share,
        effective_transport(world, cfg, r),
        rs.pandemic,
        growth * p.wage * skill,
        job_capital(world, cfg, r),
        fp.depreciation,
        cfg.policy.promised_incentive * incentives * rs.credibility,
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
pub fn produce(world: &mut World, cfg: &Config, scales: &PhaseScales) {
    let fp = &cfg.firms;
    let pol = &cfg.policy;
    let tpy = cfg.calendar.ticks_per_year() as f64;
    let linkage_on = linkage_on(cfg);
    let memory = 1.0 / tpy;
    for rs in world.regions.iter_mut() {
        rs.guarantee_paid = 0.0;
        rs.guarantee_unpaid = 0.0;
        rs.local_disinvestment = 0.0;
        rs.local_expansion = 0.0;
    }
    for i in 0..world.firms.len() {
        let r = world.firms.region[i] as usize;
        let kind = world.firms.kind[i];
        let (wage_bill, demand, pandemic, credibility, utilisation) = {
            let rs = &world.regions[r];
            (
                rs.acc.components[2],
                rs.job_demand,
                rs.pandemic,
                rs.credibility,
                rs.utilisation,
            )
        };
        let sales = Sales::of(world, cfg, i);
        let k = world.firms.capital[i];
        let k_job = job_capital(world, cfg, r);
        let my_demand = firm_jobs(k / k_job, kind, &sales, pandemic, cfg);
        // Capital deepening: what keeps the capacity the firm sells in step with wages,
        // `(G_t / G_{t−1} − 1) · k · sold`, reinvested out of profit before payouts.
        let deepening = deepening_now(world, cfg, r) * k * sales.sold(market_part(kind, cfg));
        let share = if demand > 0.0 {
            my_demand / demand
        } else {
            0.0
        };
        let wages = share * wage_bill;
        let lp = cfg.regions[r].labour_productivity;
        let transport = effective_transport(world, cfg, r);
        // Output at base prices is proportional to the labour employed; sales are valued at
        // the region's price for the market part (ODD §7.6.6). Idle capital still depreciates.
        let gross_va = wages * lp * region_productivity(world, cfg, r);
        // Eastern plants share their link's enclave park (ODD §7.6.3).
        let park = if kind == FirmKind::East {
            fp.agglomeration_factor(world.links[world.firms.link[i] as usize].plants as f64)
        } else {
            1.0
        };
        let va = gross_va
            * world.firms.productivity[i]
            * park
            * sales.price_factor(market_part(kind, cfg))
            * (1.0 - fp.export_share * transport)
            * (1.0 - 0.5 * pandemic);
        let depreciation = fp.depreciation * k / tpy;
        let incentive = if kind == FirmKind::East {
            pol.promised_incentive * scales.incentives * credibility * k / tpy
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
                    // The guarantee is paid from profit, then from the cooperative's pool;
                    // what neither covers is owed and not paid (保底收益+效益分红, 003).
                    let guaranteed = pol.guaranteed_return * world.firms.initial_capital[i] / tpy;
                    let from_profit = guaranteed.min(profit.max(0.0));
                    let short = guaranteed - from_profit;
                    let from_pool = short.min(world.firms.pool[i]);
                    world.firms.pool[i] -= from_pool;
                    let dividend = pol.dividend_share * (profit - guaranteed).max(0.0);
                    let rs = &mut world.regions[r];
                    rs.dividend_pool += from_profit + from_pool + dividend;
                    rs.guarantee_paid += from_profit + from_pool;
                    rs.guarantee_unpaid += short - from_pool;
                    retained -= from_profit + dividend;
                }
            }
            FirmKind::East => {
                if linkage_on && profit > 0.0 {
                    let pay = fp.linked_profit_share * profit;
                    world.regions[r].dividend_pool += pay;
                    retained -= pay;
                }
                // The parent reinvests in the plant as a market candidate would enter.
                let (_, invest) = investment(deepening, retained, world.firms.avg_return[i], fp);
                let repatriate = retained - invest;
                if repatriate > 0.0 {
                    let e = cfg.links[link as usize].east;
                    world
                        .ledger
                        .transfer(Account::Firms(r), Account::EastOwners(e), repatriate);
                    world.flows.add(link as usize, Channel::Profits, repatriate);
                    retained = invest;
                }
            }
            FirmKind::Local => {
                // The local sector replaces depreciation out of its gross margin (profit is
                // already net of it) and pays the positive remainder to local owners; the
                // depreciation of idle capacity is not renewed: the owners withdraw it.
                let idle = (1.0 - utilisation) * depreciation;
                // Local investors respond to returns as eastern candidates on market terms
                // do (the entry and growth of local firms; the sector is one record).
                let (expand, invest) =
                    investment(deepening, retained, world.firms.avg_return[i], fp);
                world.regions[r].local_expansion += expand;
                let pay = retained - invest;
                if pay > 0.0 {
                    world
                        .ledger
                        .transfer(Account::Firms(r), Account::Treasury(r), pay);
                    retained = invest;
                }
                if idle > 0.0 && k > idle {
                    world
                        .ledger
                        .transfer(Account::Firms(r), Account::Treasury(r), idle);
                    world.regions[r].local_disinvestment += idle;
                    retained -= idle;
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
                // Sustained losses, or capital run down, close a cooperative.
                if *avg < 0.0 {
                    world.firms.low_ticks[i] += 1;
                } else {
                    world.firms.low_ticks[i] = 0;
                }
                if k_new < 0.2 * world.firms.initial_capital[i]
                    || world.firms.low_ticks[i] as f64 >= fp.patience_years * tpy
                {
                    world.pending.push(FirmChange::Exit(i));
                }
            }
            FirmKind::Local => {}
        }
    }
    update_demand(world, cfg);
}

/// This tick's demand for each region's firm products at base prices, cleared against
/// capacity at the next tick's planning: `D = D₀ · (Y / Y₀) · (1 + reach_demand · reach)`,
/// with `Y` the households' income of the tick and `D₀`, `Y₀` the tick-0 capacity and income
/// (the market starts cleared); and each region's orders for relocated production,
/// `east_demand · Y` (ODD §7.6.6).
fn update_demand(world: &mut World, cfg: &Config) {
    for r in 0..world.regions.len() {
        if world.regions[r].demand_base <= 0.0 && world.tick == 0 {
            // Capacity at this tick's rates (planning used last tick's).
            let v = job_value(world, cfg, r);
            let s0: f64 = (0..world.firms.len())
                .filter(|&i| world.firms.region[i] as usize == r)
                .map(|i| {
                    world.firms.capital[i] / job_capital(world, cfg, r)
                        * market_part(world.firms.kind[i], cfg)
                })
                .sum::<f64>()
                * (1.0 - 0.5 * world.regions[r].pandemic)
                * v;
            let rs = &mut world.regions[r];
            rs.demand_base = s0;
            rs.income_base = rs.acc.components.iter().sum();
        }
        let rs = &mut world.regions[r];
        let income: f64 = rs.acc.components.iter().sum();
        let growth = if rs.income_base > 0.0 {
            income / rs.income_base
        } else {
            1.0
        };
        rs.market_demand =
            rs.demand_base * growth * (1.0 + cfg.market.reach_demand * rs.market_reach);
        rs.export_demand = cfg.market.east_demand * income;
    }
}

/// Applies queued entries and exits at the tick boundary (exits first, then entries in
/// queue order) and moves the capital involved.
pub fn apply_changes(world: &mut World, cfg: &Config) {
    for rs in world.regions.iter_mut() {
        rs.queued_entries = 0;
        rs.east_entries = 0;
        rs.east_exits = 0;
        rs.coop_entries = 0;
        rs.coop_exits = 0;
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
        let k = world.firms.capital[i] + world.firms.pool[i];
        match world.firms.kind[i] {
            FirmKind::East => {
                world.regions[r].east_exits += 1;
                let li = world.firms.link[i] as usize;
                world.ledger.transfer(
                    Account::Firms(r),
                    Account::EastOwners(cfg.links[li].east),
                    k,
                );
                world.flows.add(li, Channel::Disinvestment, k);
            }
            kind => {
                if kind == FirmKind::Cooperative {
                    world.regions[r].coop_exits += 1;
                }
                world
                    .ledger
                    .transfer(Account::Firms(r), Account::Treasury(r), k)
            }
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
            pool,
            expected_return,
            productivity,
        } = *ch
        {
            match kind {
                FirmKind::East => world.regions[region as usize].east_entries += 1,
                FirmKind::Cooperative => world.regions[region as usize].coop_entries += 1,
                FirmKind::Local => {}
            }
            if kind == FirmKind::East {
                let li = link as usize;
                world.ledger.transfer(
                    Account::EastOwners(cfg.links[li].east),
                    Account::Firms(region as usize),
                    capital,
                );
                world.flows.add(li, Channel::Investment, capital);
                // Investment promotion: the mobilisation channel's price (ODD §7.7).
                world.ledger.transfer(
                    Account::EastGov(cfg.links[li].east),
                    Account::Services,
                    capital * cfg.costs.investment_promotion,
                );
            }
            // Cooperative capital is already in the region's firm account (industry funds).
            world
                .firms
                .push(region, link, kind, capital, pool, expected_return);
            *world.firms.productivity.last_mut().expect("just pushed") = productivity;
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
    // Each link's enclave park: its eastern plants (ODD §7.6.5).
    for ls in world.links.iter_mut() {
        ls.plants = 0;
    }
    for (kind, &link) in world.firms.kind.iter().zip(&world.firms.link) {
        if *kind == FirmKind::East {
            world.links[link as usize].plants += 1;
        }
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

    /// More capacity in the markets an entrant sells into (incumbents' or its own) lowers
    /// what it expects to sell, and so its expected return.
    #[test]
    fn more_capacity_lowers_the_entrants_expected_return() {
        let ret = |supply: f64| {
            let (u, p) = post_entry(100.0, supply, 5.0, 0.5);
            return_rate(u, p, 1.6, 0.5, 0.15, 0.0, 24000.0, 1e5, 0.05, 0.0)
        };
        // Excess demand: the price falls as capacity is added; excess supply: utilisation.
        assert!(ret(60.0) > ret(80.0));
        assert!(ret(120.0) > ret(160.0));
        let (u, _) = post_entry(100.0, 95.0, 10.0, 0.5);
        assert!(
            (u - 100.0 / 105.0).abs() < 1e-12,
            "own capacity counted: {u}"
        );
    }

    /// A glut lowers the price as excess demand raises it (ODD §7.6.6), and investors on
    /// market terms act only above the hurdle.
    #[test]
    fn a_glut_lowers_the_price_and_investment_needs_the_hurdle() {
        let (u, p) = post_entry(50.0, 100.0, 0.0, 0.5);
        assert_eq!(u, 0.5);
        assert!((p - 0.5f64.sqrt()).abs() < 1e-12, "glut price {p}");
        let (u, p) = post_entry(200.0, 100.0, 0.0, 0.5);
        assert_eq!(u, 1.0);
        assert!((p - 2.0f64.sqrt()).abs() < 1e-12, "shortage price {p}");
        assert_eq!(post_entry(0.0, 100.0, 0.0, 0.5), (1.0, 1.0));
        assert_eq!(market_entry(0.0, 40.0), 0.0);
        assert_eq!(market_entry(-0.1, 40.0), 0.0);
        assert!((market_entry(0.05, 40.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
    }

    #[test]
    fn entrants_learn_from_incumbents_and_the_mandate_stops_at_losses() {
        assert_eq!(blend_expectation(0.1, None, 0.5), 0.1);
        assert!((blend_expectation(0.1, Some(0.0), 0.5) - 0.05).abs() < 1e-12);
        assert_eq!(blend_expectation(0.1, Some(0.0), 0.0), 0.1);
        let fp = crate::model::config::FirmParams {
            hurdle_return: 0.06,
            mobilisation_tolerance: 0.03,
            ..Default::default()
        };
        assert!(mandate_persuades(None, &fp));
        assert!(mandate_persuades(Some(0.04), &fp));
        assert!(!mandate_persuades(Some(0.02), &fp));
    }
}
