//! The state of one run: households, firms, region and link state, accounts. Owned by the
//! caller and advanced by [`crate::model::engine::step`].

use std::ops::Range;

use rand::Rng;
use rand_distr::{Binomial, Distribution, Poisson, StandardNormal};

use crate::model::accum::BlockAcc;
use crate::model::agents::demography::{
    elder_probability, initial_ages, initial_members, LifeTable, Tally,
};
use crate::model::agents::household::{flags, status, Household, Rates};
use crate::model::agents::members::Members;
use crate::model::config::{Config, Side};
use crate::model::firms::{FirmChange, FirmKind, Firms};
use crate::model::flows::Channel;
use crate::model::ledger::Ledger;
use crate::model::rng::{Purpose, Streams};
use crate::model::time::Tick;

/// Households per block: the unit of parallel work and of random-stream keying.
pub const BLOCK: usize = 2048;

/// Dynamic state of one region.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionState {
    /// Households of this region (indices into `World::households`).
    pub range: Range<usize>,
    /// Members' year-end events since the start of the burn-in (simulated scale).
    pub demography: Tally,
    /// Per-block tallies of the last year end (merged in block order).
    pub demography_blocks: Vec<Tally>,
    /// Real households (simulated × weight).
    pub real_households: f64,
    /// The region's growth factor `(1 + growth)^((t + ½)/tpy)` at tick `growth_tick`: a
    /// cache of [`crate::model::config::Region::growth_factor`], which the firm loops need for
    /// every plant every tick (refreshed by [`World::refresh_growth`]; the same number).
    pub growth_now: f64,
    /// The tick `growth_now` is for (`u32::MAX` before the first refresh).
    pub growth_tick: Tick,
    /// Capital deepening per tick, `max((1 + growth)^(1/tpy) − 1, 0)` (ODD §7.6.1).
    pub deepening: f64,
    /// Registered relapse events since tick 0 (real scale; the burn-in's are not counted).
    pub relapses_cum: f64,
    /// Registered relapse events since the last assessment (real scale), the centre's
    /// outcome indicator (ODD §7.3.5).
    pub relapses_year: f64,
    /// Share of its industry and infrastructure allocation the western government moves to
    /// transfers and the reserve this year, set by the last assessment (ODD §7.3.5).
    pub protective_shift: f64,
    /// Infrastructure index in \[0,1\].
    pub infrastructure: f64,
    /// Talent stock, person-months.
    pub talent_stock: f64,
    /// Talent index in [0,1).
    pub talent_index: f64,
    /// Credibility of promised incentives in \[0,1\].
    pub credibility: f64,
    /// Active links of the region this tick (its partners), counted by `east_deliver`.
    pub partners: u32,
    /// Knowledge of local needs behind this tick's projects: the fiscal-aid-weighted mean of
    /// its active links' knowledge (ODD §7.3.2).
    pub knowledge: f64,
    /// Pending collective industry funds not yet launched as a project.
    pub project_pipeline: f64,
    /// Dividends owed to member households, paid next tick.
    pub dividend_pool: f64,
    /// Public-welfare post capacity this tick (real posts).
    pub post_capacity: f64,
    /// Migrant demand through labour cooperation (real workers).
    pub coop_labour_demand: f64,
    /// Migrants placed through labour cooperation still in the east (real workers; tracked
    /// in expectation: placements in, returns at the migrant return rate out).
    pub coop_migrants: f64,
    /// Local firm labour demand (real workers).
    pub job_demand: f64,
    /// Regional product market (ODD §7.6.6): demand for the region's firm products at base
    /// prices this tick (real yuan per tick).
    pub market_demand: f64,
    /// Full-capacity value of the output sold in the regional market this tick (real yuan
    /// per tick, base prices).
    pub market_supply: f64,
    /// Share of capacity firms use this tick, `min(1, D/S)` of last tick (1 at the start).
    pub utilisation: f64,
    /// Price of the region's firm products relative to base, `max(1, D/S)^η` of last tick.
    pub price: f64,
    /// Orders of this (eastern) region for the output of plants its firms relocated west,
    /// at base prices, this tick (real yuan per tick; ODD §7.6.6).
    pub export_demand: f64,
    /// Full-capacity value of that output this tick.
    pub export_supply: f64,
    /// The dibao quota's cut-off on own income for the next means test (per person per
    /// year; infinite before the first test).
    pub dibao_threshold: f64,
    /// Share of it sold, `min(1, D/S)` of last tick (1 at the start).
    pub export_utilisation: f64,
    /// Its price relative to base, `max(1, D/S)^η`.
    pub export_price: f64,
    /// Market demand at tick 0 (base for demand growth), set by the first production.
    pub demand_base: f64,
    /// Households' income at tick 0 (real yuan per tick), set by the first production.
    pub income_base: f64,
    /// Guaranteed returns paid to members this tick (real yuan), from profit or the pools.
    pub guarantee_paid: f64,
    /// Guaranteed returns owed but not paid this tick: profit and the pool fell short.
    pub guarantee_unpaid: f64,
    /// Eastern firms that entered at this tick's boundary.
    pub east_entries: u32,
    /// Eastern firms that left at this tick's boundary.
    pub east_exits: u32,
    /// Cooperatives launched at this tick's boundary.
    pub coop_entries: u32,
    /// Cooperatives that closed at this tick's boundary.
    pub coop_exits: u32,
    /// Local-sector capital withdrawn by its owners this tick (idle capacity not renewed).
    pub local_disinvestment: f64,
    /// Local-sector profit reinvested this tick beyond capital deepening (expansion).
    pub local_expansion: f64,
    /// Transfer budget this tick (real yuan).
    pub transfer_budget: f64,
    /// Training places this tick funded by the western government (real).
    pub west_training_places: f64,
    /// Training places this tick funded by eastern partners (real).
    pub east_training_places: f64,
    /// Social cash budget this tick (real yuan): this tick's cash donations plus a
    /// `1/tpy` share of the cash fund carried from earlier ticks.
    pub social_cash_budget: f64,
    /// Part of `SocialPool` for cash help (real yuan).
    pub social_cash_fund: f64,
    /// Part of `SocialPool` for health services (real yuan).
    pub health_fund: f64,
    /// The treasury's debt to the centre: the sum of what it borrowed to end ticks with a
    /// non-negative balance (real yuan).
    pub debt: f64,
    /// Households' consumption this tick: income less medical costs paid and savings added
    /// (real yuan).
    pub consumption: f64,
    /// Procurement budget this tick (real yuan).
    pub procurement_budget: f64,
    /// Effective market-channel reach this tick in \[0,1\].
    pub market_reach: f64,
    /// Pandemic severity this tick.
    pub pandemic: f64,
    /// Price-collapse severity this tick.
    pub price_collapse: f64,
    /// Common-disaster severity this tick.
    pub disaster: f64,
    /// Share of this tick's months under a common disaster, the largest over the shocks.
    pub disaster_cover: f64,
    /// The household-phase rates for this tick.
    pub rates: Rates,
    /// This tick's household accumulator at real scale (last tick's before the household phase).
    pub acc: BlockAcc,
    /// Per-block accumulators (simulated scale).
    pub blocks: Vec<BlockAcc>,
    /// Firms located in the region at the last tick boundary.
    pub firm_count: u32,
    /// Firm entries queued for the region during this tick (reset at the boundary).
    pub queued_entries: u32,
}

/// Dynamic state of one pairing link.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkState {
    /// Share of committed inputs actually delivered (raised by assessment).
    pub delivery: f64,
    /// Fiscal aid delivered this tick (real yuan).
    pub fiscal_aid: f64,
    /// Share of the west region's cooperation labour demand coming from this link.
    pub labour_share: f64,
    /// Share of the west region's market reach coming from this link.
    pub market_share: f64,
    /// Share of the west region's procurement coming from this link.
    pub procurement_share: f64,
    /// Eastern plants of this link (its enclave park's tenants), counted at each tick
    /// boundary (ODD §7.6.5).
    pub plants: u32,
    /// The partners' knowledge of the western region's needs in \[0,1\] (ODD §7.3.2):
    /// built by joint research, lost with time and with the link.
    pub knowledge: f64,
    /// Σ capital of the link's eastern plants, summed in firm order at the start of
    /// `firm::plan` (for the entrants' view of the incumbents, ODD §7.6.2).
    pub east_capital: f64,
    /// Σ capital × smoothed annual return of the same plants.
    pub east_capital_return: f64,
}

/// The whole state of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    /// Next tick to simulate.
    pub tick: Tick,
    /// Household records, region by region.
    pub households: Vec<Household>,
    /// Per-capita income rings, `ticks_per_year` slots per household.
    pub rings: Vec<f32>,
    /// Scratch of the household phase: each household's vulnerability z-score this tick
    /// (−∞ when it adds nothing), summed through `Φ` after its block (ODD §7.4 part 7).
    pub vuln_z: Vec<f32>,
    /// Members (age, job, tenure, skill), one record per household.
    pub members: Vec<Members>,
    /// The life table of the run's demography parameters.
    pub life: LifeTable,
    /// Region state.
    pub regions: Vec<RegionState>,
    /// Link state.
    pub links: Vec<LinkState>,
    /// Firm population.
    pub firms: Firms,
    /// Entries and exits queued for the tick boundary.
    pub pending: Vec<FirmChange>,
    /// Money accounts.
    pub ledger: Ledger,
    /// This tick's flows per link and channel (reported and zeroed each tick).
    pub flows: FlowBook,
}

/// Flows along links during one tick, summed per link and channel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowBook {
    /// `amount[link][channel as usize]`.
    pub amount: Vec<[f64; Channel::ALL.len()]>,
}

impl FlowBook {
    /// A zeroed book for `links` links.
    pub fn new(links: usize) -> FlowBook {
        FlowBook {
            amount: vec![[0.0; Channel::ALL.len()]; links],
        }
    }

    /// Adds `x` to a link's channel.
    #[inline]
    pub fn add(&mut self, link: usize, channel: Channel, x: f64) {
        self.amount[link][channel as usize] += x;
    }

    /// Zeroes every amount.
    pub fn clear(&mut self) {
        for a in &mut self.amount {
            *a = [0.0; Channel::ALL.len()];
        }
    }
}

/// The machine could not allocate the population of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "could not allocate memory for {households} simulated households (about {bytes} bytes); \
     use fewer simulated households and a larger weight (results do not depend on the count)"
)]
pub struct OutOfMemory {
    /// Simulated households asked for.
    pub households: usize,
    /// Bytes of the household records and income rings.
    pub bytes: usize,
}

impl World {
    /// Refreshes each region's cached growth factor and deepening rate for the current
    /// tick (called at the start of every tick and burn-in tick).
    pub fn refresh_growth(&mut self, cfg: &Config) {
        let tpy = cfg.calendar.ticks_per_year();
        for (rs, p) in self.regions.iter_mut().zip(cfg.regions.iter()) {
            rs.growth_now = p.growth_factor(self.tick, tpy);
            rs.growth_tick = self.tick;
            rs.deepening = p.deepening(tpy);
        }
    }

    /// Bytes of the household records and income rings of `cfg`'s population.
    pub fn population_bytes(cfg: &Config) -> usize {
        let tpy = cfg.calendar.ticks_per_year() as usize;
        cfg.total_households().saturating_mul(
            std::mem::size_of::<Household>()
                + std::mem::size_of::<Members>()
                + (tpy + 1) * std::mem::size_of::<f32>(),
        )
    }

    /// Builds the initial state (tick 0) from a validated configuration; panics if the
    /// population cannot be allocated (see [`World::try_new`]).
    pub fn new(cfg: &Config, streams: &Streams) -> World {
        match World::try_new(cfg, streams) {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds the initial state (tick 0), reserving the household records and income
    /// rings first with fallible allocation, so that a population larger than the machine
    /// can hold is an error rather than an abort.
    pub fn try_new(cfg: &Config, streams: &Streams) -> Result<World, OutOfMemory> {
        let tpy = cfg.calendar.ticks_per_year() as usize;
        let n = cfg.total_households();
        let oom = OutOfMemory {
            households: n,
            bytes: World::population_bytes(cfg),
        };
        let mut households: Vec<Household> = Vec::new();
        households.try_reserve_exact(n).map_err(|_| oom)?;
        let mut rings: Vec<f32> = Vec::new();
        rings
            .try_reserve_exact(n.saturating_mul(tpy))
            .map_err(|_| oom)?;
        let mut members: Vec<Members> = Vec::new();
        members.try_reserve_exact(n).map_err(|_| oom)?;
        let life = LifeTable::new(&cfg.demography);
        let mut regions = Vec::with_capacity(cfg.regions.len());
        let mut firms = Firms::default();
        for (ri, region) in cfg.regions.iter().enumerate() {
            let p = region;
            let start = households.len();
            let count = p.households as usize;
            let nblocks = count.div_ceil(BLOCK);
            let p_elder =
                elder_probability(&cfg.demography, p.household_size, p.workers_per_household);
            for b in 0..nblocks {
                let mut rng = streams.stream(Purpose::Init, ri as u64, b as u64);
                let lo = b * BLOCK;
                let hi = ((b + 1) * BLOCK).min(count);
                for _ in lo..hi {
                    let (h, m) = init_household(ri, region, cfg, &life, p_elder, &mut rng);
                    let per_tick = h.trailing / tpy as f32;
                    households.push(h);
                    members.push(m);
                    rings.extend(std::iter::repeat_n(per_tick, tpy));
                }
            }
            let real = count as f64 * p.weight;
            let workers_real: f64 = households[start..]
                .iter()
                .map(|h| h.workers as f64)
                .sum::<f64>()
                * p.weight;
            let local_real: f64 = households[start..]
                .iter()
                .map(|h| h.local as f64)
                .sum::<f64>()
                * p.weight;
            // The pre-existing local firm sector, sized to employ the initial local workers.
            let jobs = local_real.max(p.local_jobs_per_100 / 100.0 * workers_real);
            firms.push(
                ri as u16,
                u32::MAX,
                FirmKind::Local,
                jobs * cfg.firms.capital_per_job,
                0.0,
                0.0,
            );
            regions.push(RegionState {
                range: start..households.len(),
                real_households: real,
                infrastructure: p.infrastructure,
                credibility: p.credibility,
                utilisation: 1.0,
                price: 1.0,
                export_utilisation: 1.0,
                export_price: 1.0,
                dibao_threshold: f64::INFINITY,
                blocks: vec![BlockAcc::default(); nblocks],
                demography_blocks: vec![Tally::default(); nblocks],
                firm_count: 1,
                growth_tick: u32::MAX,
                ..RegionState::default()
            });
        }
        let links = cfg
            .links
            .iter()
            .map(|_| LinkState {
                delivery: cfg.centre.initial_delivery,
                ..LinkState::default()
            })
            .collect();
        let mut ledger = Ledger::new(cfg.regions.len());
        for (ri, _) in cfg.regions.iter().enumerate() {
            // Local firm capital is initial wealth: it enters the books from the rest of the
            // economy (the local sector's owners), like households' initial savings.
            let k: f64 = (0..firms.len())
                .filter(|&i| firms.region[i] as usize == ri)
                .map(|i| firms.capital[i])
                .sum();
            ledger.transfer(
                crate::model::ledger::Account::Economy(ri),
                crate::model::ledger::Account::Firms(ri),
                k,
            );
        }
        let mut w = World {
            tick: 0,
            vuln_z: vec![f32::NEG_INFINITY; households.len()],
            households,
            rings,
            members,
            life,
            regions,
            links,
            firms,
            pending: Vec::new(),
            ledger,
            flows: FlowBook::new(cfg.links.len()),
        };
        w.seed_accumulators(cfg);
        Ok(w)
    }

    /// Fills each region's accumulator from the initial population so that the first
    /// tick's rates (which use last tick's counts) have something to work with.
    fn seed_accumulators(&mut self, cfg: &Config) {
        let support = (cfg.policy.support_years_after_exit * cfg.calendar.ticks_per_year() as f64)
            .round() as u32;
        for (ri, rs) in self.regions.iter_mut().enumerate() {
            let w = cfg.regions[ri].weight;
            let mut a = BlockAcc::default();
            let range = rs.range.clone();
            let retirement = self.life.retirement_age;
            for (h, m) in self.households[range.clone()]
                .iter()
                .zip(&self.members[range])
            {
                let (seekers, seeker_skill) = m.seekers(h.size, retirement);
                a.n += 1.0;
                a.skill += h.skill as f64;
                a.effort += h.effort as f64;
                a.workers += h.workers as f64;
                a.local += h.local as f64;
                a.migrants += h.migrants as f64;
                a.seekers_se += (seeker_skill * h.effort) as f64;
                a.train_eligible += (0..h.size as usize)
                    .filter(|&i| m.trainable(i, retirement))
                    .count() as f64;
                if crate::model::agents::household::eligible(h, 0, support) {
                    a.eligible_next += 1.0;
                    a.post_seekers += seekers as f64;
                }
                if crate::model::agents::household::at_risk(h) {
                    a.at_risk_next += 1.0;
                }
                if h.flags & flags::EVER_POOR != 0 {
                    a.members_next += 1.0;
                }
                let farm = h.farm_workers() as f64 * h.farm_base as f64
                    / cfg.calendar.ticks_per_year() as f64;
                a.farm_value += farm;
                a.medical_claims += cfg.households.illness_prob
                    / cfg.calendar.ticks_per_year() as f64
                    * cfg.households.illness_cost
                    * (1.0 - cfg.protection.medical_reimbursement)
                    * (h.trailing * h.size as f32) as f64;
            }
            let mut real = BlockAcc::default();
            real.merge(&a, w);
            rs.acc = real;
        }
    }

    /// Recounts, from the households' current registration, the counts the next tick's
    /// rates are divided by (eligible, at-risk and member households, idle workers of
    /// eligible households), keeping the rest of each region's accumulator.
    pub fn recount_registration(&mut self, cfg: &Config, t: Tick) {
        let support = (cfg.policy.support_years_after_exit * cfg.calendar.ticks_per_year() as f64)
            .round() as u32;
        for (ri, rs) in self.regions.iter_mut().enumerate() {
            let w = cfg.regions[ri].weight;
            let (mut eligible, mut at_risk, mut members, mut post_seekers) = (0.0, 0.0, 0.0, 0.0);
            let range = rs.range.clone();
            let retirement = self.life.retirement_age;
            for (h, m) in self.households[range.clone()]
                .iter()
                .zip(&self.members[range])
            {
                if crate::model::agents::household::eligible(h, t, support) {
                    eligible += 1.0;
                    post_seekers += m.seekers(h.size, retirement).0 as f64;
                }
                if crate::model::agents::household::at_risk(h) {
                    at_risk += 1.0;
                }
                if h.flags & flags::EVER_POOR != 0 {
                    members += 1.0;
                }
            }
            rs.acc.eligible_next = eligible * w;
            rs.acc.at_risk_next = at_risk * w;
            rs.acc.members_next = members * w;
            rs.acc.post_seekers = post_seekers * w;
        }
    }

    /// Total households.
    pub fn household_count(&self) -> usize {
        self.households.len()
    }

    /// Regions of one side (indices).
    pub fn side_regions(cfg: &Config, side: Side) -> impl Iterator<Item = usize> + '_ {
        cfg.regions
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.side == side)
            .map(|(i, _)| i)
    }
}

fn init_household(
    ri: usize,
    region: &crate::model::config::Region,
    cfg: &Config,
    life: &LifeTable,
    p_elder: f64,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> (Household, Members) {
    let p = region;
    let z: f64 = rng.sample(StandardNormal);
    let y0 = p.income_median * (p.income_sigma * z).exp();
    let extra = Poisson::new((p.household_size - 1.0).max(1e-9))
        .map(|d| d.sample(rng) as u64)
        .unwrap_or(0);
    let size = (1 + extra).min(8) as u8;
    let pw = if p.household_size > 1.0 {
        ((p.workers_per_household - 1.0) / (p.household_size - 1.0)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let workers = 1 + Binomial::new(size as u64 - 1, pw)
        .map(|d| d.sample(rng) as u8)
        .unwrap_or(0);
    let mut local = 0u8;
    let mut migrants = 0u8;
    for _ in 0..workers {
        let u: f64 = rng.random();
        if u < p.local_jobs_per_100 / 100.0 {
            local += 1;
        } else if u < (p.local_jobs_per_100 + p.migrants_per_100) / 100.0 {
            migrants += 1;
        }
    }
    let (ages, elders) = initial_ages(rng, life, size, workers, p_elder);
    let tenure = tpy_u8(cfg);
    let members = initial_members(life, &ages, size, local, migrants, tenure);
    let counts = members.counts(size);
    let workers = counts.workers;
    let target = y0 * size as f64;
    // Pensions and the subsidy are part of the initial income, contributions come out of it
    // (ODD §7.2): farm income is what the rest leaves of the target.
    let pr = &cfg.protection;
    let nonfarm = local as f64 * p.wage
        + migrants as f64 * p.migrant_wage_month * 12.0 * cfg.households.remittance_share
        + elders as f64 * pr.pension
        + pr.farm_subsidy
        - size as f64 * pr.medical_premium
        - workers as f64 * pr.pension_contribution;
    let farm_workers = (workers - local - migrants) as f64;
    let farm_total = (target - nonfarm).max(0.1 * target);
    let farm_base = farm_total / farm_workers.max(1.0);
    let realised = if farm_workers > 0.0 {
        farm_total + nonfarm
    } else {
        nonfarm
    };
    let trailing = (realised / size as f64) as f32;
    let poor = trailing < cfg.poverty.line as f32;
    let init_sd = 0.5 * cfg.households.income_noise;
    let h = Household {
        farm_base: farm_base as f32,
        skill: 1.0,
        effort: 1.0,
        savings: (0.1 * realised) as f32,
        log_mean: trailing.max(1.0).ln(),
        log_var: (init_sd * init_sd) as f32,
        trailing,
        region: ri as u16,
        last_exit: 0,
        size,
        workers,
        elders,
        local,
        migrants,
        posts: 0,
        sick_ticks: 0,
        disaster_ticks: 0,
        sick_end: 0,
        disaster_end: 0,
        dibao: 0.0,
        dibao_paid: 0.0,
        assist_paid: 0.0,
        status: if poor {
            status::POOR
        } else {
            status::NEVER_POOR
        },
        flags: if poor { flags::EVER_POOR } else { 0 },
    };
    (h, members)
}

/// Initial tenure of every working member: a year's ticks (at most 255), so that initial
/// jobs are past their first year.
fn tpy_u8(cfg: &Config) -> u8 {
    cfg.calendar.ticks_per_year().min(255) as u8
}
