//! The explicit step: advances a caller-owned [`World`] by one tick under a [`Config`],
//! drawing from [`Streams`] and reporting into a [`Recorder`]. The numbered phases below are
//! the twelve phases of the schedule in ODD §3.

use rayon::prelude::*;

use crate::model::accum::BlockAcc;
use crate::model::agents::demography::{self, Tally};
use crate::model::agents::household::{self, Rates, StepParams};
use crate::model::agents::{firm, government};
use crate::model::config::{
    Config, InsuranceScope, Registration, ShockKind, Side, SocialTargeting,
};
use crate::model::firms::FirmKind;
use crate::model::flows::Channel;
use crate::model::ledger::Account;
use crate::model::metrics::{theil_decomposition, Measures, Scope, SystemMeasures};
use crate::model::recorder::{LinkReport, MarketReport, Recorder};
use crate::model::rng::{Purpose, Streams};
use crate::model::time::Tick;
use crate::model::world::{World, BLOCK};

/// Households whose draws (`household::Draws`: cell and noise factor) are prepared together
/// before they are stepped, and whose tails (`household::step_tail`) run together after
/// (64 × 68 bytes of draws on the stack).
const RUN: usize = 64;

/// Scratch space reused across ticks so the step does not allocate.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    east: BlockAcc,
    west: BlockAcc,
    all: BlockAcc,
    /// Per link: plants, Σ capital, Σ capital × return (one pass over the firms).
    links: Vec<[f64; 3]>,
    /// Per region: the firm counts and capital of its market report.
    markets: Vec<MarketReport>,
}

/// Advances the world by one tick.
pub fn step(
    world: &mut World,
    cfg: &Config,
    streams: &Streams,
    scratch: &mut Scratch,
    rec: &mut dyn Recorder,
) {
    let t = world.tick;
    world.refresh_growth(cfg);
    let phase = cfg.phase_at(t).scales.clone();

    // 1. Common shocks in force.
    for rs in world.regions.iter_mut() {
        rs.pandemic = 0.0;
        rs.price_collapse = 0.0;
        rs.disaster = 0.0;
        rs.disaster_cover = 0.0;
    }
    for s in cfg.shocks.iter() {
        // A shock covering part of a tick's months hits with that share of its severity.
        let coverage = s.coverage(t);
        if coverage <= 0.0 {
            continue;
        }
        for &r in &s.regions {
            let rs = &mut world.regions[r];
            let slot = match s.kind {
                ShockKind::Pandemic => &mut rs.pandemic,
                ShockKind::PriceCollapse => &mut rs.price_collapse,
                ShockKind::Disaster => &mut rs.disaster,
            };
            *slot = (*slot + s.severity * coverage).min(1.0);
            if s.kind == ShockKind::Disaster {
                rs.disaster_cover = rs.disaster_cover.max(coverage);
            }
        }
    }

    // 2–4. Eastern governments deliver, social organisations donate, western governments allocate.
    government::east_deliver(world, cfg, &phase, t);
    government::social_donate(world, cfg, &phase, t);
    government::west_allocate(world, cfg, streams, t);

    // 5. Firms plan: labour demand and entry decisions.
    firm::plan(world, cfg, &phase, streams, t);

    // 6. Markets set this tick's household rates from last tick's counts.
    set_rates(world, cfg);

    // 7. Household phase, in parallel over fixed blocks with block-keyed streams.
    let mut params = step_params(cfg, t);
    params.distribution = rec.wants_distribution(t);
    household_phase(world, cfg, streams, Purpose::Households, t, &params);
    for rs in world.regions.iter_mut() {
        rs.relapses_cum += rs.acc.relapses;
        rs.relapses_year += rs.acc.registered_relapses;
        rs.acc.relapses_cum = rs.relapses_cum;
    }
    if params.means_test {
        dibao_quota(world, cfg);
    }

    // 8. Settle household money flows in the ledger and record labour and product flows.
    settle_households(world, cfg, t);

    // 9. Firms produce, pay, share profits and decide exits.
    firm::produce(world, cfg, &phase);

    // 10. Year end: the centre's assessment.
    if cfg.calendar.is_year_end(t) {
        government::centre_assess(world, cfg, t);
        if rec.wants_panel() {
            rec.panel(t, &world.households);
        }
    }

    // 11. Structural changes at the tick boundary (firm entries and exits; at the year's
    // end, members age, die and are born); households consume; treasuries borrow.
    firm::apply_changes(world, cfg);
    if cfg.calendar.is_year_end(t) {
        let tpy = cfg.calendar.ticks_per_year();
        demography_phase(world, cfg, streams, cfg.calendar.burn_in / tpy + t / tpy);
        firm::productivity_shocks(world, cfg, streams, t);
    }
    settle_tick(world);

    // 12. Report measures, flows and link state.
    report(world, cfg, t, params.distribution, scratch, rec);
    world.flows.clear();
    world.tick += 1;
}

/// Advances every household by one tick, in parallel over fixed blocks of [`BLOCK`]
/// households within each region, each block drawing from the stream
/// `(purpose, region·2³² + block, key)`; block accumulators are merged in block order. The
/// blocks of all regions share one pool (a region with few blocks does not leave threads
/// idle); which thread runs a block changes nothing.
pub fn household_phase(
    world: &mut World,
    cfg: &Config,
    streams: &Streams,
    purpose: Purpose,
    key: Tick,
    params: &StepParams,
) {
    let tpy = params.tpy as usize;
    let World {
        regions,
        households,
        members,
        rings,
        vuln_z,
        ..
    } = world;
    // Regions hold consecutive ranges of households, in region order.
    let (mut hh, mut ms, mut rg, mut vz) = (
        households.as_mut_slice(),
        members.as_mut_slice(),
        rings.as_mut_slice(),
        vuln_z.as_mut_slice(),
    );
    rayon::scope(|scope| {
        let mut offset = 0;
        for (ri, rs) in regions.iter_mut().enumerate() {
            let n = rs.range.len();
            debug_assert_eq!(rs.range.start, offset);
            offset += n;
            let (h, rest) = std::mem::take(&mut hh).split_at_mut(n);
            hh = rest;
            let (m, rest) = std::mem::take(&mut ms).split_at_mut(n);
            ms = rest;
            let (r, rest) = std::mem::take(&mut rg).split_at_mut(n * tpy);
            rg = rest;
            let (z, rest) = std::mem::take(&mut vz).split_at_mut(n);
            vz = rest;
            let rates = rs.rates;
            let blocks = &mut rs.blocks;
            scope.spawn(move |_| {
                blocks
                    .par_iter_mut()
                    .zip(h.par_chunks_mut(BLOCK))
                    .zip(m.par_chunks_mut(BLOCK))
                    .zip(r.par_chunks_mut(BLOCK * tpy))
                    .zip(z.par_chunks_mut(BLOCK))
                    .enumerate()
                    .for_each(|(b, ((((acc, hs), ms), ring), zs))| {
                        acc.reset();
                        let mut cells =
                            streams.cells(purpose, ((ri as u64) << 32) | b as u64, key as u64);
                        // Runs of RUN households: their cells and noise factors first (they
                        // depend on the cells alone), then the households in order, then
                        // their tails (`household::step_tail`).
                        let mut draws = [household::Draws::default(); RUN];
                        for (((hs, ms), ring), zs) in hs
                            .chunks_mut(RUN)
                            .zip(ms.chunks_mut(RUN))
                            .zip(ring.chunks_mut(RUN * tpy))
                            .zip(zs.chunks_mut(RUN))
                        {
                            for d in draws.iter_mut().take(hs.len()) {
                                *d = household::Draws::new(cells.next_cell(), params);
                            }
                            for (((h, m), r), d) in hs
                                .iter_mut()
                                .zip(ms.iter_mut())
                                .zip(ring.chunks_exact_mut(tpy))
                                .zip(draws.iter())
                            {
                                household::step(h, m, r, &rates, params, d, acc);
                            }
                            for (h, z) in hs.iter_mut().zip(zs.iter_mut()) {
                                *z = household::step_tail(h, params, acc);
                            }
                        }
                        // Nothing in the model reads `vuln_sum`: only the measures do.
                        if params.distribution {
                            household::add_vulnerability(zs, acc);
                        }
                    });
            });
        }
    });
    for (ri, rs) in regions.iter_mut().enumerate() {
        let w = cfg.regions[ri].weight;
        rs.acc.reset();
        for b in &rs.blocks {
            rs.acc.merge(b, w);
        }
    }
}

/// Members' year end (ODD §7.4 part 8) for every household, in parallel over the same
/// blocks as the household phase, each block drawing from the stream
/// `(Demography, region·2³² + block, year)` where `year` counts from the start of the
/// burn-in. Does nothing when `demography.ageing` is off.
pub fn demography_phase(world: &mut World, cfg: &Config, streams: &Streams, year: u32) {
    if !cfg.demography.ageing {
        return;
    }
    let life = &world.life;
    for (ri, rs) in world.regions.iter_mut().enumerate() {
        let range = rs.range.clone();
        let hh = &mut world.households[range.clone()];
        let members = &mut world.members[range];
        rs.demography_blocks
            .par_iter_mut()
            .zip(hh.par_chunks_mut(BLOCK))
            .zip(members.par_chunks_mut(BLOCK))
            .enumerate()
            .for_each(|(b, ((tally, hs), ags))| {
                let mut rng = streams.stream(
                    Purpose::Demography,
                    ((ri as u64) << 32) | b as u64,
                    year as u64,
                );
                *tally = Tally::default();
                for (h, m) in hs.iter_mut().zip(ags.iter_mut()) {
                    demography::year_end(h, m, life, &mut rng, tally);
                }
            });
        for t in &rs.demography_blocks {
            rs.demography.add(t);
        }
    }
}

/// Burn-in: runs the household phase for `cfg.calendar.burn_in` ticks with no cooperation,
/// no shocks and no recording, so that incomes, savings, jobs and migration settle into the
/// model's own dynamics before tick 0; then registers each household as poor or never poor
/// from its trailing-year income. Firms and accounts are left as initialised.
///
/// The same as [`burn_in_step`] for `k` in `0..burn_in`, then [`register_after_burn_in`].
pub fn burn_in(world: &mut World, cfg: &Config, streams: &Streams) {
    for k in 0..cfg.calendar.burn_in {
        burn_in_step(world, cfg, streams, k);
    }
    register_after_burn_in(world, cfg);
}

/// Burn-in tick `k`: local labour demand, rates, and the household phase on the
/// `BurnIn` streams, with no assessment.
pub fn burn_in_step(world: &mut World, cfg: &Config, streams: &Streams, k: Tick) {
    world.refresh_growth(cfg);
    firm::plan_demand(world, cfg);
    set_rates(world, cfg);
    let mut params = step_params(cfg, k);
    params.assess = false;
    params.means_test = (k + 1) % params.tpy == 0;
    // Monitoring starts with the horizon (its flags would be cleared at registration).
    params.p_detect = 0.0;
    // So does the anti-return insurance (no accounts are settled in the burn-in).
    params.ins_line = 0.0;
    // The burn-in reports nothing.
    params.distribution = false;
    household_phase(world, cfg, streams, Purpose::BurnIn, k, &params);
    if params.means_test {
        dibao_quota(world, cfg);
        demography_phase(world, cfg, streams, k / params.tpy);
    }
}

/// Ends the burn-in: registers each household as poor or never poor from its trailing-year
/// income (keeping the vulnerability flag) and recounts the registration totals.
pub fn register_after_burn_in(world: &mut World, cfg: &Config) {
    let line = cfg.poverty.line as f32;
    for h in world.households.iter_mut() {
        let poor = h.trailing < line;
        h.status = if poor {
            household::status::POOR
        } else {
            household::status::NEVER_POOR
        };
        let vulnerable = h.flags & household::flags::VULNERABLE;
        h.flags = vulnerable | if poor { household::flags::EVER_POOR } else { 0 };
        h.last_exit = 0;
    }
    if cfg.calendar.burn_in > 0 {
        world.recount_registration(cfg, 0);
    }
    // Households' savings at tick 0 enter the books as wealth from the rest of the economy.
    for (ri, rs) in world.regions.iter().enumerate() {
        let w = cfg.regions[ri].weight;
        let savings: f64 = world.households[rs.range.clone()]
            .iter()
            .map(|h| h.savings as f64)
            .sum::<f64>()
            * w;
        let hh = Account::Households(ri);
        let have = world.ledger.balance(hh);
        world
            .ledger
            .transfer(Account::Economy(ri), hh, savings - have);
    }
}

/// After a means test: each region's dibao quota cut-off for the next test, the
/// `dibao_coverage` quantile of the own incomes just assessed (ODD §7.5).
fn dibao_quota(world: &mut World, cfg: &Config) {
    let c = cfg.protection.dibao_coverage;
    for rs in world.regions.iter_mut() {
        let q = rs.acc.own_hist.quantile(c);
        rs.dibao_threshold = if c >= 1.0 || q.is_nan() {
            f64::INFINITY
        } else {
            q
        };
    }
}

/// Household-step parameters of tick `t`.
pub fn step_params(cfg: &Config, t: Tick) -> StepParams {
    let cal = &cfg.calendar;
    let tpy = cal.ticks_per_year();
    let hp = &cfg.households;
    StepParams {
        tick: t,
        tpy,
        line: cfg.poverty.line as f32,
        dibao_standard: (cfg.protection.dibao_ratio * cfg.poverty.line) as f32,
        dibao_error: cfg.protection.dibao_assessment_error as f32,
        ln_line: cfg.poverty.line.ln() as f32,
        vuln_z: inverse_norm_cdf(cfg.poverty.vulnerability_threshold) as f32,
        memory_weight: (1.0 / (cfg.poverty.memory_years * tpy as f64)).min(1.0) as f32,
        support_ticks: (cfg.policy.support_years_after_exit * tpy as f64).round() as u32,
        p_ill: cal.per_tick_prob(hp.illness_prob) as f32,
        // Fractional: an illness covers the same months whatever the tick length (§7.4 step 11).
        ill_len: (hp.illness_months / cal.step.months() as f64).min(254.0) as f32,
        ill_cost: hp.illness_cost as f32,
        p_disaster: cal.per_tick_prob(hp.disaster_prob) as f32,
        disaster_loss: hp.disaster_loss as f32,
        // Per-tick log sd such that a year's sum of the tick shocks has the coefficient of
        // variation `income_noise` whatever the tick length: e^{σ²} − 1 = tpy · c².
        noise: (1.0 + tpy as f64 * hp.income_noise * hp.income_noise)
            .ln()
            .sqrt() as f32,
        saving_rate: hp.saving_rate as f32,
        dependency: hp.dependency as f32,
        effort_adjust: (1.0 - (1.0 - hp.effort_adjust).powf(1.0 / tpy as f64)) as f32,
        skill_decay: (1.0 - (1.0 - hp.skill_decay).powf(1.0 / tpy as f64)) as f32,
        skill_gain: cfg.policy.training_skill_gain as f32,
        retirement_age: world_retirement_age(cfg),
        first_year_separation: hp.first_year_separation as f32,
        migration_age: migration_age_profile(cfg),
        pension: (cfg.protection.pension / tpy as f64) as f32,
        farm_subsidy: (cfg.protection.farm_subsidy / tpy as f64) as f32,
        premium: (cfg.protection.medical_premium / tpy as f64) as f32,
        contribution: (cfg.protection.pension_contribution / tpy as f64) as f32,
        reimbursement: cfg.protection.medical_reimbursement as f32,
        assess: cal.is_year_end(t),
        means_test: cal.is_year_end(t),
        p_detect: cal.per_tick_prob(cfg.protection.monitoring_detection) as f32,
        monitor_line: (cfg.protection.monitoring_line * cfg.poverty.line) as f32,
        monitor_shock: cfg.protection.monitoring_shock as f32,
        monitor_dibao: cfg.protection.monitoring_dibao,
        ins_line: if cfg.protection.insurance_premium > 0.0 {
            (cfg.protection.insurance_line * cfg.poverty.line) as f32
        } else {
            0.0
        },
        ins_cap: cfg.protection.insurance_cap as f32,
        ins_all: cfg.protection.insurance_scope == InsuranceScope::All,
        after_help: cfg.protection.registration == Registration::AfterHelp,
        assist_cap: cfg.protection.assistance_cap as f32,
        social_shocked: cfg.social.targeting == SocialTargeting::Shocked,
        distribution: true,
    }
}

/// The rate (per year) at which working-age members reach the retirement age when ages are
/// uniform over the working ages, `1/(retirement_age − working_age)`; 0 without ageing.
fn retiring_rate(cfg: &Config) -> f64 {
    let span = world_retirement_age(cfg) as f64 - cfg.demography.working_age as f64;
    if cfg.demography.ageing && span > 0.0 {
        1.0 / span
    } else {
        0.0
    }
}

/// The age at which members leave wage work, as the life table clamps it.
fn world_retirement_age(cfg: &Config) -> u8 {
    cfg.demography
        .retirement_age
        .min(crate::model::agents::demography::MAX_AGE)
}

/// Relative migration propensity by age (ODD §7.4 step 3): `e^{−γa}` over its mean across
/// the working ages `working_age..retirement_age` (so that it averages 1 over a uniform age
/// distribution and leaves the aggregate rate as calibrated), 1 outside them; γ is
/// `households.migration_age_gradient`.
pub fn migration_age_profile(cfg: &Config) -> [f32; 128] {
    let g = cfg.households.migration_age_gradient;
    let (lo, hi) = (
        cfg.demography.working_age as usize,
        (world_retirement_age(cfg) as usize).min(128),
    );
    let mut f = [1.0f32; 128];
    if g == 0.0 || hi <= lo {
        return f;
    }
    let mean = (lo..hi).map(|a| (-g * a as f64).exp()).sum::<f64>() / (hi - lo) as f64;
    for (a, x) in f.iter_mut().enumerate().take(hi).skip(lo) {
        *x = ((-g * a as f64).exp() / mean) as f32;
    }
    f
}

/// Φ⁻¹(p) by bisection on [`household::norm_cdf`] (±∞ at 1 and 0).
pub fn inverse_norm_cdf(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let (mut lo, mut hi) = (-40.0, 40.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if household::norm_cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

fn frac(a: f64, b: f64) -> f32 {
    if b > 0.0 {
        (a / b).clamp(0.0, 1.0) as f32
    } else {
        0.0
    }
}

/// Amount per household: `amount` and `households` are both real scale, and a simulated
/// household receives what one real household receives.
fn per_hh(amount: f64, households: f64) -> f32 {
    if households > 0.0 {
        (amount / households) as f32
    } else {
        0.0
    }
}

/// Sets every region's household rates for this tick from last tick's (real-scale) counts.
fn set_rates(world: &mut World, cfg: &Config) {
    let world_tick = world.tick;
    let cal = &cfg.calendar;
    let tpy = cal.ticks_per_year() as f64;
    let hp = &cfg.households;
    let mp = &cfg.market;
    let retiring = retiring_rate(cfg);
    for (ri, rs) in world.regions.iter_mut().enumerate() {
        let p = &cfg.regions[ri];
        let a = &rs.acc;
        let infra_gain = mp.infra_farm_effect * (rs.infrastructure - p.infrastructure);
        let transport = p.transport_cost * (1.0 - 0.5 * rs.infrastructure);
        let price = 1.0 + rs.market_reach * (mp.east_premium - transport).max(0.0);
        // Growth to the middle of the tick, so that a tick's level is its average whatever
        // the tick length.
        let growth = p.growth_factor(world_tick, cal.ticks_per_year());
        let farm_mult = growth
            * (1.0 + infra_gain + mp.talent_farm_effect * rs.talent_index)
            * price
            * (1.0 - rs.price_collapse);
        // Local jobs: vacancies over skill×effort-weighted seekers.
        // Vacancies include the jobs this tick's separations will free, so that a worker
        // who loses a job can be rehired within the tick (the lag is then one matching round,
        // not one tick, whatever the tick length).
        let sep = cal.per_tick_prob(hp.job_separation);
        let vacancies = (rs.job_demand - a.local * (1.0 - sep)).max(0.0);
        let excess = (a.local - rs.job_demand).max(0.0);
        // Labour cooperation: openings are demand not yet filled by the migrant stock.
        let coop_demand = rs.coop_labour_demand * (1.0 - rs.pandemic);
        let openings = (coop_demand - rs.coop_migrants).max(0.0);
        let training_places = rs.west_training_places + rs.east_training_places;
        let post_wage = cfg.policy.welfare_post_wage / tpy;
        let fund = world.ledger.balance(Account::Reserve(ri));
        let reserve_ratio = if a.reserve_claims > 0.0 {
            frac(fund, a.reserve_claims)
        } else if fund > 0.0 {
            1.0
        } else {
            0.0
        };
        rs.rates = Rates {
            farm_mult: farm_mult as f32,
            procurement_rate: frac(rs.procurement_budget, a.farm_value).min(0.5),
            wage: (growth * p.wage / tpy) as f32,
            remittance: (growth * p.migrant_wage_month * 12.0 / tpy
                * hp.remittance_share
                * (1.0 - 0.5 * rs.pandemic)) as f32,
            post_wage: post_wage as f32,
            p_job: frac(vacancies, a.seekers_se),
            p_job_loss: (sep + (1.0 - sep) * frac(excess, a.local) as f64) as f32,
            p_place: frac(openings, a.seekers_se),
            p_migrate: cal
                .per_tick_prob(p.migration_rate(hp.migrant_return, retiring) * (1.0 - rs.pandemic))
                as f32,
            p_return: cal.per_tick_prob((hp.migrant_return + rs.pandemic).min(1.0)) as f32,
            p_post: frac((rs.post_capacity - a.posts).max(0.0), a.post_seekers),
            p_post_loss: frac((a.posts - rs.post_capacity).max(0.0), a.posts),
            p_train: frac(training_places, a.train_eligible),
            transfer: per_hh(rs.transfer_budget, a.eligible_next),
            social_cash: if cfg.social.targeting == SocialTargeting::Shocked {
                per_hh(rs.social_cash_budget, a.shocked)
            } else {
                per_hh(rs.social_cash_budget, a.at_risk_next)
            },
            // Cover what the health fund can pay of last tick's claims; with no claims last
            // tick, full cover if the fund has money (any excess is paid by the treasury).
            health_cover: if a.medical_claims > 0.0 {
                frac(rs.health_fund, a.medical_claims)
            } else if rs.health_fund > 0.0 {
                1.0
            } else {
                0.0
            },
            dividend: per_hh(rs.dividend_pool, a.members_next),
            reserve_ratio,
            common_disaster: (1.0 - rs.disaster) as f32,
            common_disaster_cover: rs.disaster_cover as f32,
            dibao_threshold: rs.dibao_threshold.min(f32::MAX as f64) as f32,
        };
    }
}

/// Moves the household phase's money through the ledger and records labour, remittance
/// and product flows along links.
fn settle_households(world: &mut World, cfg: &Config, t: Tick) {
    for ri in 0..world.regions.len() {
        let rs = &mut world.regions[ri];
        rs.coop_migrants = rs.acc.placed_stock;
        let a = &rs.acc;
        let c = a.components;
        let l = &mut world.ledger;
        let hh = Account::Households(ri);
        l.transfer(Account::Economy(ri), hh, c[0]);
        // Wages (c[2]) are settled by firms in `firm::produce`, except in a region with no
        // labour demand left, where the last tick's jobs are paid out of local production.
        if rs.job_demand <= 0.0 {
            l.transfer(Account::Economy(ri), hh, c[2]);
        }
        l.transfer(Account::WestGov(ri), hh, c[3]);
        l.transfer(Account::WestGov(ri), hh, c[5]);
        l.transfer(Account::Firms(ri), hh, c[6]);
        rs.dividend_pool -= c[6];
        l.transfer(Account::SocialPool(ri), hh, c[7]);
        rs.social_cash_fund -= c[7];
        rs.social_cash_budget = 0.0;
        l.transfer(Account::Reserve(ri), hh, c[8]);
        // The anti-return insurance: the insurer pays the claims, the region's treasury the
        // premiums of the persons insured this tick (县域统保, ODD §7.7).
        l.transfer(Account::Insurer, hh, c[13]);
        // Temporary assistance to identified households, from the treasury (civil affairs).
        l.transfer(Account::Treasury(ri), hh, c[14]);
        l.transfer(
            Account::Treasury(ri),
            Account::Insurer,
            a.insured_persons * cfg.protection.insurance_premium
                / cfg.calendar.ticks_per_year() as f64,
        );
        // The dibao, pensions, agricultural subsidies and medical insurance are paid by the
        // central government (external, ODD §2.6), which also receives the contributions.
        l.transfer(Account::Centre, hh, c[9]);
        l.transfer(Account::Centre, hh, c[10]);
        l.transfer(Account::Centre, hh, c[11]);
        l.transfer(Account::Centre, hh, c[12]);
        l.transfer(hh, Account::Centre, a.contributions);
        // Medical care: covered part from the social pool's health services, rest by households.
        l.transfer(Account::SocialPool(ri), Account::Medical, a.medical_covered);
        l.transfer(hh, Account::Medical, a.medical - a.medical_covered);
        rs.health_fund -= a.medical_covered;
        // Funds that paid more than they held (help was promised on last tick's counts) are
        // made good by the region's treasury, which borrows at the tick's end if it must.
        for (fund, part) in [
            (&mut rs.social_cash_fund, Account::SocialPool(ri)),
            (&mut rs.health_fund, Account::SocialPool(ri)),
        ] {
            if *fund < 0.0 {
                l.transfer(Account::Treasury(ri), part, -*fund);
                *fund = 0.0;
            }
        }
        let res = l.balance(Account::Reserve(ri));
        if res < 0.0 {
            l.transfer(Account::Treasury(ri), Account::Reserve(ri), -res);
        }
        // Training: cost of places used, split between western and eastern funding.
        let places = rs.west_training_places + rs.east_training_places;
        let cost = a.trained * cfg.policy.training_cost;
        let west_part = if places > 0.0 {
            rs.west_training_places / places
        } else {
            0.0
        };
        l.transfer(Account::WestGov(ri), Account::Services, cost * west_part);
        // Posts, transfers and training are paid whatever the aid fund holds (posts end
        // only gradually): the treasury makes good an overdrawn fund.
        let wg = l.balance(Account::WestGov(ri));
        if wg < 0.0 {
            l.transfer(Account::Treasury(ri), Account::WestGov(ri), -wg);
        }
        // Products, remittances and labour along links.
        let farm_sales = c[0] * rs.market_reach;
        let mut east_share_total = 0.0;
        for (li, link) in cfg.links.iter().enumerate() {
            if link.west != ri || !link.active(t) {
                continue;
            }
            let ls = &world.links[li];
            let e = link.east;
            let proc = c[1] * ls.procurement_share;
            l.transfer(Account::EastGov(e), hh, proc);
            world.flows.add(li, Channel::Procurement, proc);
            let sales = farm_sales * ls.market_share;
            world.flows.add(li, Channel::MarketSales, sales);
            // The market channel's price: platforms, logistics, promotion (ODD §7.7).
            l.transfer(
                Account::EastGov(e),
                Account::Services,
                sales * cfg.costs.market_access,
            );
            let east_train = cost * (1.0 - west_part) * cfg.links[li].channels.training_places
                / cfg
                    .links
                    .iter()
                    .filter(|k| k.west == ri && k.active(t))
                    .map(|k| k.channels.training_places)
                    .sum::<f64>()
                    .max(1e-12);
            l.transfer(Account::EastGov(e), Account::Services, east_train);
            // Labour: placements follow cooperation demand shares; own migration and
            // remittances follow them too, or split evenly when no link has labour demand.
            let n_links = cfg
                .links
                .iter()
                .filter(|k| k.west == ri && k.active(t))
                .count() as f64;
            let s = if rs.coop_labour_demand > 0.0 {
                ls.labour_share
            } else {
                1.0 / n_links
            };
            east_share_total += s;
            world.flows.add(li, Channel::Placements, a.placed * s);
            // Placement services: the labour channel's price.
            l.transfer(
                Account::EastGov(e),
                Account::Services,
                a.placed * s * cfg.costs.placement,
            );
            world.flows.add(li, Channel::Migration, a.migrated * s);
            world.flows.add(li, Channel::Returns, a.returned * s);
            world.flows.add(li, Channel::MigrantStock, a.migrants * s);
            world.flows.add(li, Channel::Remittances, c[4] * s);
            l.transfer(Account::Economy(e), hh, c[4] * s);
        }
        // Remittances not attributable to a link (no partner) come from the east at large,
        // booked against the region's own production account.
        l.transfer(Account::Economy(ri), hh, c[4] * (1.0 - east_share_total));
        // Procurement budget not used returns to the eastern governments implicitly (never paid).
    }
}

/// End of the tick's money: households consume what they neither saved nor paid for medical
/// care (their account then holds exactly their savings); a treasury that ends the tick
/// overdrawn borrows the deficit from the centre (its debt grows), and one with money and
/// debt repays what it can.
fn settle_tick(world: &mut World) {
    for ri in 0..world.regions.len() {
        let rs = &mut world.regions[ri];
        let l = &mut world.ledger;
        let hh = Account::Households(ri);
        rs.consumption = l.balance(hh) - rs.acc.savings;
        l.transfer(hh, Account::Economy(ri), rs.consumption);
        let tr = l.balance(Account::Treasury(ri));
        if tr < 0.0 {
            l.transfer(Account::Centre, Account::Treasury(ri), -tr);
            rs.debt -= tr;
        } else if rs.debt > 0.0 {
            let repay = tr.min(rs.debt);
            l.transfer(Account::Treasury(ri), Account::Centre, repay);
            rs.debt -= repay;
        }
    }
}

/// Reports the tick's measures (with the distribution measures NaN unless `distribution`),
/// flows, link and market state and accounts.
fn report(
    world: &World,
    cfg: &Config,
    t: Tick,
    distribution: bool,
    s: &mut Scratch,
    rec: &mut dyn Recorder,
) {
    let measures = |a: &BlockAcc, pi: f64| {
        let m = Measures::from_acc(a).with_prices(pi);
        if distribution {
            m
        } else {
            m.without_distribution()
        }
    };
    s.east.reset();
    s.west.reset();
    s.all.reset();
    // The deflator at the tick's mid-point, 1 in the start year's prices (ODD §7.9).
    let pi =
        (1.0 + cfg.prices.inflation).powf((t as f64 + 0.5) / cfg.calendar.ticks_per_year() as f64);
    for (ri, rs) in world.regions.iter().enumerate() {
        rec.measures(t, Scope::Region(ri), &measures(&rs.acc, pi), None);
        match cfg.regions[ri].side {
            Side::East => s.east.merge(&rs.acc, 1.0),
            Side::West => s.west.merge(&rs.acc, 1.0),
        }
        s.all.merge(&rs.acc, 1.0);
    }
    // A side without regions has no aggregate: its row is left out rather than reported
    // as zeros (validation requires at least one western region).
    if s.east.n > 0.0 {
        rec.measures(t, Scope::Side(Side::East), &measures(&s.east, pi), None);
    }
    rec.measures(t, Scope::Side(Side::West), &measures(&s.west, pi), None);
    let (theil, within, between) = if distribution {
        theil_decomposition(&[&s.east, &s.west], &s.all)
    } else {
        (f64::NAN, f64::NAN, f64::NAN)
    };
    let sys = SystemMeasures {
        theil,
        theil_within: within,
        theil_between: between,
        east_west_ratio: if s.west.n > 0.0 && s.east.n > 0.0 {
            s.east.mean_income() / s.west.mean_income()
        } else {
            f64::NAN
        },
    };
    rec.measures(t, Scope::All, &measures(&s.all, pi), Some(&sys));
    for (li, link) in cfg.links.iter().enumerate() {
        if link.active(t) || world.flows.amount[li].iter().any(|&x| x != 0.0) {
            for ch in Channel::ALL {
                rec.flow(t, li, ch, world.flows.amount[li][ch as usize]);
            }
        }
    }
    // Firm sums by link and by region, each in one pass over the firms (per link and per
    // region, the additions come in firm order, as a pass per link or region would make).
    let f = &world.firms;
    s.links.clear();
    s.links.resize(cfg.links.len(), [0.0; 3]);
    s.markets.clear();
    s.markets
        .resize(world.regions.len(), MarketReport::default());
    for i in 0..f.len() {
        if let Some(l) = s.links.get_mut(f.link[i] as usize) {
            l[0] += 1.0;
            l[1] += f.capital[i];
            l[2] += f.avg_return[i] * f.capital[i];
        }
        let m = &mut s.markets[f.region[i] as usize];
        match f.kind[i] {
            FirmKind::East => {
                m.east_firms += 1.0;
                m.east_capital += f.capital[i];
            }
            FirmKind::Cooperative => {
                m.cooperatives += 1.0;
                m.coop_capital += f.capital[i];
                m.guarantee_pools += f.pool[i];
            }
            FirmKind::Local => m.local_capital += f.capital[i],
        }
    }
    for (li, link) in cfg.links.iter().enumerate() {
        let [n, k, ret] = s.links[li];
        let rs = &world.regions[link.west];
        let demand = link.channels.labour_demand;
        let filled = if rs.coop_labour_demand > 0.0 && demand > 0.0 {
            (rs.coop_migrants / rs.coop_labour_demand).min(1.0)
        } else {
            0.0
        };
        rec.link(
            t,
            li,
            &LinkReport {
                delivery: world.links[li].delivery,
                east_firms: n,
                east_firm_capital: k,
                east_firm_return: if k > 0.0 { ret / k } else { 0.0 },
                labour_filled: filled,
            },
        );
    }
    for (ri, rs) in world.regions.iter().enumerate() {
        let firms = &s.markets[ri];
        let m = MarketReport {
            demand: rs.market_demand,
            supply: rs.market_supply,
            utilisation: rs.utilisation,
            price: rs.price,
            export_demand: rs.export_demand,
            export_supply: rs.export_supply,
            export_utilisation: rs.export_utilisation,
            export_price: rs.export_price,
            east_entries: rs.east_entries as f64,
            east_exits: rs.east_exits as f64,
            coop_entries: rs.coop_entries as f64,
            coop_exits: rs.coop_exits as f64,
            guarantee_paid: rs.guarantee_paid,
            guarantee_unpaid: rs.guarantee_unpaid,
            local_disinvestment: rs.local_disinvestment,
            local_expansion: rs.local_expansion,
            east_firms: firms.east_firms,
            east_capital: firms.east_capital,
            cooperatives: firms.cooperatives,
            coop_capital: firms.coop_capital,
            guarantee_pools: firms.guarantee_pools,
            local_capital: firms.local_capital,
        };
        rec.market(t, ri, &m);
    }
    rec.accounts(t, &world.ledger);
}
