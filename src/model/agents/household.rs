//! Villager households and their workers: labour choices, shocks, income, poverty status.
//!
//! A household is a compact hot record (56 bytes), its members' record (56 bytes, see
//! [`crate::model::agents::members`]) and a ring of its last year of per-capita incomes,
//! each kept in a column of its own. The household step reads and writes nearly
//! every field of the record, so one record per household beats one column per field here;
//! the ring, the only wide part, is a column of its own.

use crate::model::rng::{normal, slot, uniform, Cell};

use crate::model::accum::{BlockAcc, EXIT_YEARS};
use crate::model::agents::members::{job, Counts, Members, MAX_MEMBERS};

/// Poverty status codes stored in [`Household::status`].
pub mod status {
    /// Never below the line since the start.
    pub const NEVER_POOR: u8 = 0;
    /// Below the line and has never exited (initially poor, or a new entrant).
    pub const POOR: u8 = 1;
    /// Was poor, now above the line.
    pub const EXITED: u8 = 2;
    /// Exited once, then fell back below the line (返贫).
    pub const RELAPSED: u8 = 3;
    /// Names, indexed by code.
    pub const NAMES: [&str; 4] = ["never_poor", "poor", "exited", "relapsed"];

    /// Whether a status code means currently poor.
    #[inline]
    pub fn is_poor(s: u8) -> bool {
        s == POOR || s == RELAPSED
    }
}

/// Bit flags stored in [`Household::flags`].
pub mod flags {
    /// Has been poor at some tick (a registered household; holds collective shares).
    pub const EVER_POOR: u8 = 1;
    /// Has exited poverty at least once.
    pub const EVER_EXITED: u8 = 2;
    /// Has relapsed at least once.
    pub const EVER_RELAPSED: u8 = 4;
    /// Was vulnerable at the end of the last tick.
    pub const VULNERABLE: u8 = 8;
    /// Identified as at risk by the dynamic monitoring (监测对象) and not yet removed.
    pub const MONITORED: u8 = 16;
    /// Relapsed at an assessment in the tick it was identified; registered as returned to
    /// poverty at the next assessment if still poor (`protection.registration = "after_help"`).
    pub const PENDING: u8 = 32;
}

/// One simulated villager household (also used, with the same rules, for eastern households).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct Household {
    /// Own-production capacity per farm worker at base conditions, yuan/year.
    pub farm_base: f32,
    /// Mean skill of the household's workers (wage multiplier, 1 = untrained); each
    /// worker's own skill is in the members' record.
    pub skill: f32,
    /// Own effort in \[0,1\]; falls with transfer dependency.
    pub effort: f32,
    /// Savings buffer, yuan.
    pub savings: f32,
    /// Exponentially weighted mean of ln(trailing annual per-capita income).
    pub log_mean: f32,
    /// Exponentially weighted variance of the same.
    pub log_var: f32,
    /// Trailing-year per-capita net income (sum of the ring), yuan/person/year.
    pub trailing: f32,
    /// Dibao benefit in force, yuan per person per year (0 = none): granted at the last
    /// means test, or when the monitoring identified the household since.
    pub dibao: f32,
    /// Dibao received since the last means test, yuan per person (what the next test
    /// deducts from the trailing year to find the household's own income).
    pub dibao_paid: f32,
    /// Temporary assistance received since the last assessment, yuan per household (the
    /// year's grants count against `protection.assistance_cap`; ODD §7.4 step 20b).
    pub assist_paid: f32,
    /// Region index.
    pub region: u16,
    /// Ticks since the start at which the household last exited poverty, plus one (0 = never).
    pub last_exit: u16,
    /// Persons.
    pub size: u8,
    /// Working-age members (ages in \[working age, retirement age)).
    pub workers: u8,
    /// Members at or above the retirement age (draw the pension).
    pub elders: u8,
    /// Workers employed by local firms.
    pub local: u8,
    /// Workers migrated east.
    pub migrants: u8,
    /// Workers on public-welfare posts.
    pub posts: u8,
    /// Ticks of illness left for one worker (0 = healthy).
    pub sick_ticks: u8,
    /// Ticks of disaster-reduced farm output left.
    pub disaster_ticks: u8,
    /// Share of the last illness tick that is still ill, × 255 (ODD §7.4 step 11).
    pub sick_end: u8,
    /// Share of the last disaster tick that is still hit, × 255 (ODD §7.4 step 12).
    pub disaster_end: u8,
    /// Poverty status (see [`status`]).
    pub status: u8,
    /// Flags (see [`flags`]).
    pub flags: u8,
}

impl Household {
    /// Workers on the farm (not employed, migrated or on a post).
    #[inline]
    pub fn farm_workers(&self) -> u8 {
        self.workers - self.local - self.migrants - self.posts
    }

    /// Sets the job counts and the mean skill from the members' counts (`elders` is set by
    /// the year end only).
    #[inline]
    pub fn set_counts(&mut self, c: &Counts) {
        self.workers = c.workers;
        self.local = c.local;
        self.migrants = c.migrants;
        self.posts = c.posts;
        self.skill = c.skill;
    }
}

/// Per-region rates and amounts for one tick, fixed before the household phase.
/// Money is per tick, in simulated-household yuan; probabilities are per tick.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    /// Multiplier on farm output (infrastructure, talent, market channels, price shocks).
    pub farm_mult: f32,
    /// Extra revenue per yuan of farm output from consumption-aid procurement.
    pub procurement_rate: f32,
    /// Local wage per unit of skill, per tick.
    pub wage: f32,
    /// Remittance per migrant per unit of skill, per tick.
    pub remittance: f32,
    /// Welfare-post wage per tick.
    pub post_wage: f32,
    /// Local job-finding probability per unit of skill×effort.
    pub p_job: f32,
    /// Probability that a local job ends.
    pub p_job_loss: f32,
    /// Placement probability (labour cooperation) per unit of skill×effort.
    pub p_place: f32,
    /// Spontaneous migration probability of an idle worker.
    pub p_migrate: f32,
    /// Return probability of a migrant.
    pub p_return: f32,
    /// Probability that an eligible idle worker gets a welfare post.
    pub p_post: f32,
    /// Probability that a welfare post ends.
    pub p_post_loss: f32,
    /// Probability that one non-migrant worker is trained this tick.
    pub p_train: f32,
    /// Transfer per eligible household.
    pub transfer: f32,
    /// Social cash help per at-risk household.
    pub social_cash: f32,
    /// Share of medical costs covered by health services.
    pub health_cover: f32,
    /// Dividend per member household (benefit linkage).
    pub dividend: f32,
    /// Share of a shocked household's shortfall below the line the reserve fund pays.
    pub reserve_ratio: f32,
    /// Multiplier on farm output from a common disaster (1 = none).
    pub common_disaster: f32,
    /// The dibao quota's income cut-off (per person per year): the `dibao_coverage` quantile
    /// of own incomes at the previous means test (ODD §7.5).
    pub dibao_threshold: f32,
    /// Share of the tick under a common disaster, in \[0,1\].
    pub common_disaster_cover: f32,
}

/// Parameters of the household step that do not vary by region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepParams {
    /// Current tick.
    pub tick: u32,
    /// Ticks per year.
    pub tpy: u32,
    /// Poverty line per person per year.
    pub line: f32,
    /// Dibao standard per person per year (0: no dibao).
    pub dibao_standard: f32,
    /// Log sd of the means test's income assessment error.
    pub dibao_error: f32,
    /// ln(line).
    pub ln_line: f32,
    /// Vulnerability threshold as a z-score: Φ⁻¹(threshold).
    pub vuln_z: f32,
    /// Weight of the newest observation in the income mean/variance.
    pub memory_weight: f32,
    /// Transfer eligibility window after exit, ticks.
    pub support_ticks: u32,
    /// Per-tick illness probability.
    pub p_ill: f32,
    /// Illness length in ticks, `illness_months / months per tick` (fractional).
    pub ill_len: f32,
    /// Medical cost as a share of annual household income.
    pub ill_cost: f32,
    /// Per-tick idiosyncratic disaster probability.
    pub p_disaster: f32,
    /// Share of farm output lost while a disaster lasts.
    pub disaster_loss: f32,
    /// Std dev of the per-tick log farm-income shock.
    pub noise: f32,
    /// Saving rate out of income above the line.
    pub saving_rate: f32,
    /// Dependency strength.
    pub dependency: f32,
    /// Per-tick effort adjustment.
    pub effort_adjust: f32,
    /// Per-tick skill decay.
    pub skill_decay: f32,
    /// Skill gain of one trained worker.
    pub skill_gain: f32,
    /// Age at which members leave wage work (they no longer seek jobs or training).
    pub retirement_age: u8,
    /// Multiplier on the separation probability of a local job or a placement in its
    /// first year (tenure below `tpy` ticks).
    pub first_year_separation: f32,
    /// Relative migration propensity by age, mean 1 over the working ages (ODD §7.4 step 3).
    pub migration_age: [f32; 128],
    /// Basic pension per elder per tick.
    pub pension: f32,
    /// Agricultural subsidy per household per tick.
    pub farm_subsidy: f32,
    /// Medical insurance premium per person per tick (not on the dibao).
    pub premium: f32,
    /// Pension contribution per worker per tick (not on the dibao).
    pub contribution: f32,
    /// Share of medical costs reimbursed by medical insurance.
    pub reimbursement: f32,
    /// Whether this tick re-assesses registered poverty status (the year's last tick).
    pub assess: bool,
    /// Whether this tick runs the dibao means test (the year's last tick, and the last tick
    /// of the burn-in so that the guarantee is in place at the start).
    pub means_test: bool,
    /// Per-tick probability that a monitoring candidate is identified (0: no monitoring).
    pub p_detect: f32,
    /// Monitoring line per person per year.
    pub monitor_line: f32,
    /// Out-of-pocket medical cost, as a share of annual income, that makes a candidate.
    pub monitor_shock: f32,
    /// Identified households below the dibao standard get it outside the quota.
    pub monitor_dibao: bool,
    /// Anti-return insurance: insured line per person per year (0: no insurance).
    pub ins_line: f32,
    /// Most the insurer pays one household for a year under shock.
    pub ins_cap: f32,
    /// Whether every household is insured (else the registered and the identified).
    pub ins_all: bool,
    /// Registration after help: a relapse of a household identified only at the assessment
    /// tick is registered at the next assessment if it is still poor then.
    pub after_help: bool,
    /// Temporary assistance to identified households: most paid to one household between two
    /// assessments, yuan (0: none).
    pub assist_cap: f32,
    /// Whether social cash help goes to shocked households (else to those at risk).
    pub social_shocked: bool,
    /// Whether this tick computes the distribution measures (the log-income histogram and
    /// Σ y ln y here; Φ after the block): false in the burn-in and on ticks whose
    /// recorder declines them ([`crate::model::recorder::Recorder::wants_distribution`]).
    /// Nothing in the model reads them, so the simulation is the same either way.
    pub distribution: bool,
}

/// Whether the household is eligible for transfers at the start of tick `t`:
/// registered poor, exited less than `support_ticks` ago, or identified as at risk by the
/// dynamic monitoring.
#[inline]
pub fn eligible(h: &Household, t: u32, support_ticks: u32) -> bool {
    status::is_poor(h.status)
        || (h.status == status::EXITED && t < h.last_exit as u32 + support_ticks)
        || h.flags & flags::MONITORED != 0
}

/// Whether the household counts as at risk for social help (poor or vulnerable).
#[inline]
pub fn at_risk(h: &Household) -> bool {
    status::is_poor(h.status) || h.flags & flags::VULNERABLE != 0
}

/// Standard normal CDF (via erfc; absolute error below 1.2e-7).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes `erfcc`, fractional error < 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// What the step needs to know about the household as it was at the start of the tick
/// (ODD §7.4, "definitions at the start of the step").
#[derive(Debug, Clone, Copy)]
struct Start {
    /// Status at the start of the tick.
    was: u8,
    /// Eligible for transfers and welfare posts (`E`).
    eligible: bool,
    /// At risk, for social help (`A`).
    at_risk: bool,
    /// Member of the collective (`M`, EVER_POOR).
    member: bool,
    /// Identified as at risk by the monitoring (MONITORED).
    monitored: bool,
    /// Covered by the anti-return insurance (`I`).
    insured: bool,
    /// Net income of the other `tpy − 1` ticks of the trailing year, household total: with
    /// this tick's net income they make the year the reserve fund judges.
    rest: f32,
}

/// What the labour transitions of this tick did: the moves, counted, and the worker-ticks
/// spent in each state.
#[derive(Debug, Clone, Copy, Default)]
struct Moves {
    placed: u8,
    migrated: u8,
    returned: u8,
    trained: bool,
    /// Worker-ticks on the farm this tick.
    farm: f32,
    /// Worker-ticks in local jobs.
    local: f32,
    /// Skill-weighted worker-ticks in local jobs.
    local_skill: f32,
    /// Skill-weighted worker-ticks away.
    away_skill: f32,
    /// Worker-ticks on posts.
    posts: f32,
}

impl Moves {
    /// Adds `w` worker-ticks of a member of skill `s` in job `j`.
    #[inline(always)]
    fn add(&mut self, j: u8, w: f32, s: f32) {
        match j {
            job::FARM => self.farm += w,
            job::LOCAL => {
                self.local += w;
                self.local_skill += w * s;
            }
            job::PLACED | job::MIGRANT => self.away_skill += w * s,
            job::POST => self.posts += w,
            _ => {}
        }
    }
}

/// This tick's idiosyncratic shocks.
#[derive(Debug, Clone, Copy, Default)]
struct Shocks {
    /// Medical cost incurred this tick (household total).
    medical: f32,
    /// The farm-income noise factor of the tick ([`Draws`]).
    noise: f32,
    /// Share of one worker's work lost to illness this tick, in \[0,1\].
    ill_lost: f32,
    /// Share of this tick under the household's own disaster, in \[0,1\].
    disaster_share: f32,
    /// Share of the tick under illness or disaster (own or common), the largest of the
    /// three: the reserve fund's claim scales with it.
    shocked: f32,
}

/// Share of this tick an ongoing episode covers, with `left` ticks left (counted down
/// already) and the last tick's stored share `end / 255`: all of it before the last tick,
/// `end / 255` in the last, nothing after.
#[inline(always)]
fn episode_share(left: u8, end: u8) -> f32 {
    match left {
        0 => 0.0,
        1 => end as f32 / 255.0,
        _ => 1.0,
    }
}

/// An episode of `len` ticks (fractional) starting at phase `o` ∈ \[0,1) of this tick
/// covers `[o, o + len)`: it touches `n = ceil(o + len)` ticks, the first for
/// `min(o + len, 1) − o` of it, the last (if another) for `q = o + len − (n − 1)`.
/// Returns `(n, share of the first tick, q × 255 rounded, at least 1)` (ODD §7.4 steps 11–12).
#[inline(always)]
fn episode(o: f32, len: f32) -> (u8, f32, u8) {
    let e = o + len;
    let n = e.ceil().clamp(1.0, 255.0);
    let q = e - (n - 1.0);
    (
        n as u8,
        e.min(1.0) - o,
        (q * 255.0).round().clamp(1.0, 255.0) as u8,
    )
}

/// This tick's income, household total, by component.
#[derive(Debug, Clone, Copy, Default)]
struct Income {
    farm: f32,
    procurement: f32,
    wage: f32,
    post: f32,
    remit: f32,
    transfer: f32,
    dividend: f32,
    social: f32,
    dibao: f32,
    pension: f32,
    farm_subsidy: f32,
    /// Medical costs reimbursed by medical insurance (income on the NBS definition; it pays
    /// the bill).
    insurance: f32,
    /// Sum of the components above.
    gross: f32,
    /// Pension contributions and medical premium paid (not on the dibao).
    contributions: f32,
    /// Medical cost covered by health services.
    covered: f32,
    /// Medical cost left to the household (after insurance and health services).
    out_of_pocket: f32,
    /// Anti-return insurance payout.
    ins_payout: f32,
    /// Reserve-fund top-up.
    topup: f32,
    /// Temporary assistance to an identified household.
    assist: f32,
    /// Net income after out-of-pocket medical costs and the top-up.
    net: f32,
}

/// The poverty measurement at the end of the tick.
#[derive(Debug, Clone, Copy)]
struct Status {
    /// Trailing-year income below the line.
    poor: bool,
}

/// Advances one household by one tick and adds what it did to the block accumulator; the
/// tick is complete once [`step_tail`] has run for it.
///
/// `m` is the household's members' record; `ring` is the household's last `tpy` per-capita
/// incomes (per tick), whose slot `t % tpy` is overwritten; `draws` holds the household's 16
/// words of this tick (ODD §7.2), each with the fixed use of §7.4's draw table, and its noise
/// factor. The sub-steps are those of ODD §7.4, in its order, but for the end of step 23, the
/// vulnerability of step 6 and their sums, which [`step_tail`] does after.
#[inline]
pub fn step(
    h: &mut Household,
    m: &mut Members,
    ring: &mut [f32],
    r: &Rates,
    p: &StepParams,
    draws: &Draws,
    acc: &mut BlockAcc,
) {
    let (cell, noise) = (&draws.cell, draws.noise);
    let start = Start {
        was: h.status,
        eligible: eligible(h, p.tick, p.support_ticks),
        at_risk: at_risk(h),
        member: h.flags & flags::EVER_POOR != 0,
        monitored: h.flags & flags::MONITORED != 0,
        insured: p.ins_line > 0.0
            && (p.ins_all || h.flags & (flags::EVER_POOR | flags::MONITORED) != 0),
        rest: (h.trailing - ring[(p.tick % p.tpy) as usize]) * h.size as f32,
    };
    let moves = labour_transitions(h, m, r, p, &start, cell, acc);
    let shocks = idiosyncratic_shocks(h, r, p, cell, noise);
    let income = tick_income(h, r, p, &start, &moves, &shocks, acc);
    adjust_effort(h, p, &income);
    update_trailing(h, ring, p, income.net);
    monitor(h, p, &shocks, &income, cell, acc);
    let status = poverty_status(h, p, &start, acc);
    means_test(h, r, p, cell, acc);
    account(h, p, &start, &moves, &shocks, &income, &status, acc);
}

/// The end of a household's tick that [`step`] leaves out (ODD §7.4 step 23's log income and
/// its exponentially weighted memory, step 6's vulnerability, and part 7's sums of them):
/// nothing else in the step reads them, so the household phase runs it over a run of
/// households after stepping them, and the long `ln` → memory → z-score chains of different
/// households overlap. The sums it adds to are added to nowhere else, in household order as
/// before, so the results are the same to the bit. Returns the z-score of the vulnerability
/// probability for [`add_vulnerability`] (−∞ when it adds nothing).
#[inline(always)]
pub fn step_tail(h: &mut Household, p: &StepParams, acc: &mut BlockAcc) -> f32 {
    let x = h.trailing.max(1.0).ln();
    let d = x - h.log_mean;
    h.log_mean += p.memory_weight * d;
    h.log_var = (1.0 - p.memory_weight) * (h.log_var + p.memory_weight * d * d);
    let poor = h.trailing < p.line;
    // Vulnerability v = Φ((ln z − m)/sd). The flag compares the z-score with Φ⁻¹(threshold);
    // Φ itself is only evaluated where it exceeds 3e-7 (z > −5) for the mean.
    let sd = h.log_var.max(1e-6).sqrt();
    let zscore = (p.ln_line - h.log_mean) / sd;
    let vulnerable = !poor && zscore > p.vuln_z;
    if vulnerable {
        h.flags |= flags::VULNERABLE;
        acc.vulnerable += 1.0;
    } else {
        h.flags &= !flags::VULNERABLE;
    }
    if at_risk(h) {
        acc.at_risk_next += 1.0;
    }
    if p.distribution {
        let y = h.trailing.max(1.0) as f64;
        acc.income_ylny += y * x as f64;
        acc.hist.add_ln(y, x as f64);
    }
    if poor || zscore <= -5.0 {
        f32::NEG_INFINITY
    } else {
        zscore
    }
}

/// A household's draws of the tick, prepared before its step: its cell (ODD §7.2) and the
/// mean-one lognormal farm-income noise factor `exp(σ·ε − σ²/2)` with `ε = N(w₁₁)` and
/// `σ = P.noise` (§7.4 steps 13 and 15). Both depend on the cell alone, so the household
/// phase prepares them for a run of households before stepping them (the `exp` calls then
/// overlap instead of sitting in each household's chain).
#[derive(Debug, Clone, Copy, Default)]
pub struct Draws {
    /// The household's 16 words of the tick.
    pub cell: Cell,
    /// The farm-income noise factor.
    pub noise: f32,
}

impl Draws {
    /// The draws of a household whose cell is `cell`.
    #[inline(always)]
    pub fn new(cell: Cell, p: &StepParams) -> Draws {
        let eps = normal(cell[slot::NOISE]);
        Draws {
            cell,
            noise: (p.noise * eps - 0.5 * p.noise * p.noise).exp(),
        }
    }
}

/// Adds the block's vulnerability probabilities to `acc.vuln_sum`, in household order:
/// `Φ(z)` of each z-score [`step_tail`] returned that is not −∞ (ODD §7.4 part 7). Kept out of the
/// step so that the households' `Φ` chains overlap (the sum and its order are the same).
#[inline]
pub fn add_vulnerability(zs: &[f32], acc: &mut BlockAcc) {
    for &z in zs {
        if z != f32::NEG_INFINITY {
            acc.vuln_sum += norm_cdf(z as f64);
        }
    }
}

/// ODD §7.4 part 1, labour transitions (steps 1–9; cell words 0–8), member by member:
/// separations (migrants return, local jobs and posts end) and matching of each member who
/// seeks a job, in one pass; training of one member; skill decay; tenure. Returns the moves
/// and the worker-ticks in each state: a member who moved counts half in the old state and
/// half in the new (moves happen on average at mid-tick, step 8).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // member columns and cell words indexed together
fn labour_transitions(
    h: &mut Household,
    m: &mut Members,
    r: &Rates,
    p: &StepParams,
    start: &Start,
    cell: &Cell,
    acc: &mut BlockAcc,
) -> Moves {
    if h.sick_ticks > 0 {
        h.sick_ticks -= 1;
    }
    let n = (h.size as usize).min(MAX_MEMBERS);
    let prev = m.job;
    let mut mv = Moves::default();
    let eligible = start.eligible;
    let (mut seekers, mut se_sum, mut home) = (0u8, 0.0f32, 0u8);
    // Steps 2–5, member by member: a member in a wage job draws whether it ends (step 2);
    // a member who then seeks a job draws its match (steps 3–5); the draw falls in one of
    // the consecutive intervals placement, local job, post, own migration, or none.
    for i in 0..n {
        let j = m.job[i];
        let mut u = uniform(cell[i]);
        if j >= job::LOCAL {
            let p_sep = match j {
                job::PLACED => r.p_return * first_year(m.tenure[i], p),
                job::MIGRANT => r.p_return,
                job::LOCAL => r.p_job_loss * first_year(m.tenure[i], p),
                _ => r.p_post_loss,
            };
            if u < p_sep {
                if job::is_away(j) {
                    mv.returned += 1;
                }
                m.job[i] = job::FARM;
                // Given U < p_sep, U / p_sep is uniform on [0, 1): the member's matching draw.
                u /= p_sep;
            }
        }
        if m.seeks(i, p.retirement_age) {
            let se = m.skill[i] * h.effort;
            seekers += 1;
            se_sum += se;
            let q_place = (r.p_place * se).min(1.0);
            let q_job = (r.p_job * se).min(1.0 - q_place);
            let q_post = if eligible {
                r.p_post.min(1.0 - q_place - q_job)
            } else {
                0.0
            };
            let q_mig = (r.p_migrate * p.migration_age[m.age[i] as usize])
                .min(1.0 - q_place - q_job - q_post);
            if u < q_place {
                mv.placed += 1;
                m.job[i] = job::PLACED;
            } else if u < q_place + q_job {
                m.job[i] = job::LOCAL;
            } else if u < q_place + q_job + q_post {
                m.job[i] = job::POST;
            } else if u < q_place + q_job + q_post + q_mig {
                mv.migrated += 1;
                m.job[i] = job::MIGRANT;
            }
        }
        if m.trainable(i, p.retirement_age) {
            home += 1;
        }
    }
    acc.seekers_se += se_sum as f64;
    if eligible {
        acc.post_seekers += seekers as f64;
    }
    // Steps 6–7, training: one draw decides whether one of the trainable members (at home,
    // below the retirement age, after matching) is trained, with probability
    // 1 − (1 − p_train)^home; the same draw, rescaled, picks which (uniformly, in member
    // order). Skill decays toward 1 (in the pass below).
    acc.train_eligible += home as f64;
    let mut trainee = usize::MAX;
    if home > 0 {
        let u = uniform(cell[slot::TRAIN]);
        let q = 1.0 - (1.0 - r.p_train).powi(home as i32);
        if u < q {
            let k = (((u / q) * home as f32) as u8).min(home - 1);
            let mut seen = 0u8;
            for i in 0..n {
                if m.trainable(i, p.retirement_age) {
                    if seen == k {
                        trainee = i;
                        break;
                    }
                    seen += 1;
                }
            }
        }
    }
    // Steps 7–9: skill, tenure, worker-ticks, the accumulator and the household's counts.
    let keep = 1.0 - p.skill_decay;
    let mut c = Counts::default();
    let mut skill_sum = 0.0f32;
    #[allow(clippy::needless_range_loop)] // four member columns indexed together
    for i in 0..n {
        let mut s = 1.0 + (m.skill[i] - 1.0) * keep;
        if i == trainee {
            s += p.skill_gain;
            mv.trained = true;
        }
        m.skill[i] = s;
        let (was, now) = (prev[i], m.job[i]);
        if was == now {
            if now != job::NONE {
                m.tenure[i] = m.tenure[i].saturating_add(1);
            }
            mv.add(now, 1.0, s);
        } else {
            m.tenure[i] = 0;
            mv.add(was, 0.5, s);
            mv.add(now, 0.5, s);
        }
        if !c.add(now) {
            continue;
        }
        skill_sum += s;
        let age = m.age[i] as f64;
        match now {
            job::LOCAL => {
                acc.local_age += age;
                acc.local_skill += s as f64;
            }
            job::PLACED => {
                acc.placed_stock += 1.0;
                acc.placed_tenure += m.tenure[i] as f64 / p.tpy as f64;
                acc.away_age += age;
            }
            job::MIGRANT => acc.away_age += age,
            _ => {}
        }
    }
    c.finish(skill_sum);
    h.set_counts(&c);
    mv
}

/// The first-year multiplier of a separation probability for a member with `tenure` ticks
/// in the job.
#[inline(always)]
fn first_year(tenure: u8, p: &StepParams) -> f32 {
    if (tenure as u32) < p.tpy {
        p.first_year_separation
    } else {
        1.0
    }
}

/// ODD §7.4 part 2, idiosyncratic shocks (steps 11–14; cell words 9–11): illness with its
/// medical cost, a household disaster, and the farm-income noise.
#[inline(always)]
fn idiosyncratic_shocks(
    h: &mut Household,
    r: &Rates,
    p: &StepParams,
    cell: &Cell,
    noise: f32,
) -> Shocks {
    let annual_income = h.trailing * h.size as f32;
    let mut medical = 0.0f32;
    // Onset phase within the tick: given u < p, u / p is uniform on [0,1), so the draw that
    // decides the event also places it in the tick (no extra draw).
    let u = uniform(cell[slot::ILL]);
    let ill_lost = if u < p.p_ill {
        let (n, first, end) = episode(u / p.p_ill, p.ill_len);
        h.sick_ticks = n;
        h.sick_end = end;
        medical = p.ill_cost * annual_income.max(p.line * h.size as f32);
        first
    } else {
        episode_share(h.sick_ticks, h.sick_end)
    };
    let u = uniform(cell[slot::DISASTER]);
    let disaster_share = if u < p.p_disaster {
        let (n, first, end) = episode(u / p.p_disaster, p.tpy as f32);
        h.disaster_ticks = n;
        h.disaster_end = end;
        first
    } else {
        episode_share(h.disaster_ticks, h.disaster_end)
    };
    let shocked = ill_lost.max(disaster_share).max(r.common_disaster_cover);
    h.disaster_ticks = h.disaster_ticks.saturating_sub(1);
    Shocks {
        medical,
        noise,
        ill_lost,
        disaster_share,
        shocked,
    }
}

/// ODD §7.4 part 3, the tick's income (steps 15–21): components, medical costs paid from
/// savings then income, the reserve-fund top-up, saving out of income above the line.
#[inline(always)]
fn tick_income(
    h: &mut Household,
    r: &Rates,
    p: &StepParams,
    start: &Start,
    moves: &Moves,
    shocks: &Shocks,
    acc: &mut BlockAcc,
) -> Income {
    let mut farm_workers = moves.farm;
    // The sick worker is a farm worker if there is one, else a local employee (of the
    // local employees' mean skill).
    let from_farm = shocks.ill_lost.min(farm_workers);
    farm_workers -= from_farm;
    let from_local = (shocks.ill_lost - from_farm).min(moves.local);
    let local_skill = if moves.local > 0.0 {
        moves.local_skill * (1.0 - from_local / moves.local)
    } else {
        0.0
    };
    let farm_mult =
        r.farm_mult * r.common_disaster * (1.0 - p.disaster_loss * shocks.disaster_share);
    let noise = shocks.noise;
    let farm = farm_workers * h.farm_base * h.effort * farm_mult * noise / p.tpy as f32;
    let procurement = farm * r.procurement_rate;
    let wage = local_skill * r.wage;
    let post = moves.posts * r.post_wage;
    let remit = moves.away_skill * r.remittance;
    let transfer = if start.eligible { r.transfer } else { 0.0 };
    let dividend = if start.member { r.dividend } else { 0.0 };
    // Social cash help: status-targeted, or emergency relief in proportion to the shock, at
    // most the line's income for the shocked share of the tick (ODD §7.4 step 16).
    let social = if p.social_shocked {
        acc.shocked += shocks.shocked as f64;
        shocks.shocked * r.social_cash.min(p.line * h.size as f32 / p.tpy as f32)
    } else if start.at_risk {
        r.social_cash
    } else {
        0.0
    };
    let dibao = h.dibao * h.size as f32 / p.tpy as f32;
    h.dibao_paid += h.dibao / p.tpy as f32;
    let pension = h.elders as f32 * p.pension;
    let farm_subsidy = p.farm_subsidy;
    // Medical insurance pays its share of the bill first; health services (aid) cover their
    // share of the rest; the household pays what is left (ODD §7.4 step 17).
    let insurance = shocks.medical * p.reimbursement;
    let covered = (shocks.medical - insurance) * r.health_cover;
    let out_of_pocket = shocks.medical - insurance - covered;
    let gross = farm
        + procurement
        + wage
        + post
        + remit
        + transfer
        + dividend
        + social
        + dibao
        + pension
        + farm_subsidy
        + insurance;
    let contributions = if h.dibao > 0.0 {
        0.0
    } else {
        h.size as f32 * p.premium + h.workers as f32 * p.contribution
    };
    let from_savings = out_of_pocket.min(h.savings);
    h.savings -= from_savings;
    let from_income = out_of_pocket - from_savings;
    let line_tick = p.line * h.size as f32 / p.tpy as f32;
    let mut net = gross - insurance - from_income - contributions;
    // The anti-return insurance pays first (ODD §7.4 step 20a): a shocked insured household
    // whose year falls below the insured line is paid the tick's share of the gap, capped.
    let mut ins_payout = 0.0;
    if start.insured && shocks.shocked > 0.0 {
        let gap = p.ins_line * h.size as f32 - (start.rest + net);
        if gap > 0.0 {
            ins_payout = shocks.shocked * gap.min(p.ins_cap) / p.tpy as f32;
            net += ins_payout;
        }
    }
    let mut topup = 0.0;
    // The reserve fund judges the trailing year (this tick's net plus the other ticks), and a
    // shocked tick claims its share of the year's shortfall: `shocked · (line − year) / tpy`,
    // so that a year's claims do not depend on the tick length (ODD §7.4 step 19). Claims are
    // counted whether or not the fund pays this tick, so that it knows what it faces.
    let line_year = p.line * h.size as f32;
    let year = start.rest + net;
    if shocks.shocked > 0.0 && year < line_year {
        let claim = shocks.shocked * (line_year - year) / p.tpy as f32;
        acc.reserve_claims += claim as f64;
        if r.reserve_ratio > 0.0 {
            topup = r.reserve_ratio * claim;
            net += topup;
        }
    }
    // Temporary assistance (ODD §7.4 step 20b): last resort for a household identified before
    // this tick whose year is still below the line, paid the gap at once within what is
    // left of the year's cap.
    let mut assist = 0.0;
    let room = p.assist_cap - h.assist_paid;
    if start.monitored && room > 0.0 {
        let gap = line_year - (start.rest + net);
        if gap > 0.0 {
            // Rounded up by 1e−5 of the line so that the year's f32 slots, summed again in
            // step 23, do not fall a few ulps short of the line the grant reached.
            assist = (gap + 1e-5 * line_year).min(room);
            h.assist_paid += assist;
            net += assist;
        }
    }
    if net > line_tick {
        h.savings += p.saving_rate * (net - line_tick);
    }
    Income {
        farm,
        procurement,
        wage,
        post,
        remit,
        transfer,
        dividend,
        social,
        dibao,
        pension,
        farm_subsidy,
        insurance,
        gross,
        contributions,
        covered,
        out_of_pocket,
        ins_payout,
        topup,
        assist,
        net,
    }
}

/// ODD §7.4 part 6b (step 24; cell word 14): the yearly means test of the minimum livelihood
/// guarantee (低保), at the assessment only. The household's own income over the year (its
/// trailing income less the benefit it received, constant since the last test) is assessed
/// with a mean-one lognormal error; below the lower of the standard and the quota's cut-off,
/// the benefit fills the assessed gap to the standard for the next year.
#[inline(always)]
fn means_test(h: &mut Household, r: &Rates, p: &StepParams, cell: &Cell, acc: &mut BlockAcc) {
    if !p.means_test || p.dibao_standard <= 0.0 {
        return;
    }
    let eps = normal(cell[slot::MEANS_TEST]);
    // The trailing year is the ticks since the last means test: the household's own income
    // is it less the benefit received over them (granted then, or since on identification).
    let own = (h.trailing - h.dibao_paid).max(0.0);
    h.dibao_paid = 0.0;
    acc.own_hist.add(own.max(1.0) as f64);
    // Identified households are covered whatever the quota (应保尽保), when so configured.
    let cutoff = if p.monitor_dibao && h.flags & flags::MONITORED != 0 {
        p.dibao_standard
    } else {
        p.dibao_standard.min(r.dibao_threshold)
    };
    h.dibao = dibao_benefit(own, p.dibao_standard, cutoff, p.dibao_error, eps);
}

/// ODD §7.4 part 4, dependency (step 22): effort drifts toward 1 − dependency × (the share
/// of transfers and social cash in gross income).
#[inline(always)]
fn adjust_effort(h: &mut Household, p: &StepParams, income: &Income) {
    let dependent = income.transfer + income.social + income.dibao;
    let share = if income.gross > 0.0 {
        (dependent / income.gross).min(1.0)
    } else {
        0.0
    };
    let target = 1.0 - p.dependency * share;
    h.effort = (h.effort + p.effort_adjust * (target - h.effort)).clamp(0.0, 1.0);
}

/// ODD §7.4 part 5 (step 23): writes this tick's per-capita income into the ring and sums
/// the trailing year (the exponentially weighted memory of its log is in [`step_tail`]).
#[inline(always)]
fn update_trailing(h: &mut Household, ring: &mut [f32], p: &StepParams, net: f32) {
    let slot = (p.tick % p.tpy) as usize;
    ring[slot] = net / h.size as f32;
    h.trailing = ring.iter().sum();
}

/// ODD §7.4 part 6: poverty measured every tick on trailing-year income; the registered
/// status (exit, relapse, entry) re-assessed at the year's last tick only (vulnerability: in
/// [`step_tail`]).
#[inline(always)]
fn poverty_status(h: &mut Household, p: &StepParams, start: &Start, acc: &mut BlockAcc) -> Status {
    let t = p.tick;
    let was = start.was;
    let poor = h.trailing < p.line;
    if p.assess {
        let new_status = match (was, poor) {
            (status::NEVER_POOR, false) => status::NEVER_POOR,
            (status::NEVER_POOR, true) => {
                acc.entries += 1.0;
                status::POOR
            }
            (status::POOR, true) => was,
            (status::RELAPSED, true) => {
                // Helped for a year and still poor: the registration now counts the relapse
                // it held over at the last assessment.
                if h.flags & flags::PENDING != 0 {
                    acc.registered_relapses += 1.0;
                    h.flags &= !flags::PENDING;
                }
                was
            }
            (status::POOR, false) | (status::RELAPSED, false) => {
                h.flags &= !flags::PENDING;
                acc.exits += 1.0;
                h.last_exit = (t + 1).min(u16::MAX as u32) as u16;
                h.flags |= flags::EVER_EXITED;
                status::EXITED
            }
            (_, true) => {
                acc.relapses += 1.0;
                // Registered only if the monitoring has identified the household; without
                // monitoring, the assessment itself registers every relapse. After help, a
                // household identified only in this tick is held over to the next assessment.
                if p.p_detect <= 0.0 || start.monitored {
                    acc.registered_relapses += 1.0;
                } else if h.flags & flags::MONITORED != 0 {
                    if p.after_help {
                        h.flags |= flags::PENDING;
                    } else {
                        acc.registered_relapses += 1.0;
                    }
                }
                h.flags |= flags::EVER_RELAPSED;
                status::RELAPSED
            }
            (_, false) => status::EXITED,
        };
        // Survival of exits: an exited household is at risk in its k-th year since the
        // exit (its exit took effect at the end of an assessment tick, so k is whole).
        if was == status::EXITED {
            let k = ((t + 1).saturating_sub(h.last_exit as u32) / p.tpy) as usize;
            if (1..=EXIT_YEARS).contains(&k) {
                acc.exit_at_risk[k - 1] += 1.0;
                if poor {
                    acc.exit_relapses[k - 1] += 1.0;
                }
            }
        }
        h.status = new_status;
        if poor {
            h.flags |= flags::EVER_POOR;
        }
        // Removal from risk (风险消除): identified before this tick, and the trailing year
        // is above the monitoring line.
        if start.monitored && h.trailing >= p.monitor_line {
            h.flags &= !flags::MONITORED;
            acc.removed += 1.0;
        }
        // A new assessment year: temporary assistance has its whole cap again.
        h.assist_paid = 0.0;
    }
    // The vulnerability (the rest of step 6) is set in `step_tail`.
    Status { poor }
}

/// ODD §7.4 part 5b, dynamic monitoring (防返贫动态监测, 002, 003; cell words 12–13): a household not
/// yet identified is a candidate if its trailing-year income is below the monitoring line,
/// or if this tick's out-of-pocket medical cost exceeds the shock share of its annual
/// income, or if a household disaster is in force; a candidate draws whether it is
/// identified this tick.
#[inline(always)]
fn monitor(
    h: &mut Household,
    p: &StepParams,
    shocks: &Shocks,
    income: &Income,
    cell: &Cell,
    acc: &mut BlockAcc,
) {
    if p.p_detect <= 0.0 || h.flags & flags::MONITORED != 0 {
        return;
    }
    let oop = income.out_of_pocket;
    let annual = h.trailing * h.size as f32;
    let candidate = h.trailing < p.monitor_line
        || (oop > 0.0 && oop >= p.monitor_shock * annual)
        || shocks.disaster_share > 0.0;
    if candidate && uniform(cell[slot::DETECT]) < p.p_detect {
        h.flags |= flags::MONITORED;
        acc.identified += 1.0;
        // Eligible monitoring subjects enter the dibao when identified (纳入低保, the 2021
        // guidance), not at the next yearly test: one not on it is means-tested now on its
        // trailing year (cell word 13). At the assessment tick the yearly test follows anyway.
        if p.monitor_dibao && p.dibao_standard > 0.0 && h.dibao == 0.0 && !p.means_test {
            let eps = normal(cell[slot::DETECT_TEST]);
            h.dibao = dibao_benefit(
                h.trailing.max(0.0),
                p.dibao_standard,
                p.dibao_standard,
                p.dibao_error,
                eps,
            );
        }
    }
}

/// The dibao benefit of a household whose own income per person is `own`, assessed with the
/// mean-one lognormal error `exp(e·ε − e²/2)`: the assessed gap to the standard if the
/// assessed income is below `cutoff`, else 0.
#[inline(always)]
fn dibao_benefit(own: f32, standard: f32, cutoff: f32, e: f32, eps: f32) -> f32 {
    let assessed = own * (e * eps - 0.5 * e * e).exp();
    if assessed < cutoff {
        standard - assessed
    } else {
        0.0
    }
}

/// ODD §7.4 part 7, accounting into the block accumulator (simulated scale).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn account(
    h: &Household,
    p: &StepParams,
    start: &Start,
    moves: &Moves,
    shocks: &Shocks,
    income: &Income,
    st: &Status,
    acc: &mut BlockAcc,
) {
    let t = p.tick;
    acc.n += 1.0;
    match start.was {
        status::NEVER_POOR => acc.never_poor_start += 1.0,
        status::EXITED => acc.exited_start += 1.0,
        _ => acc.poor_start += 1.0,
    }
    if st.poor {
        let g = ((p.line - h.trailing) / p.line).clamp(0.0, 1.0) as f64;
        acc.poor += 1.0;
        acc.gap += g;
        acc.gap2 += g * g;
    } else {
        acc.nonpoor += 1.0;
    }
    if h.flags & flags::EVER_EXITED != 0 {
        acc.ever_exited += 1.0;
    }
    if h.flags & flags::EVER_RELAPSED != 0 {
        acc.ever_relapsed += 1.0;
    }
    if h.flags & flags::MONITORED != 0 {
        acc.monitored += 1.0;
    }
    acc.income += h.trailing.max(1.0) as f64;
    let comps = &mut acc.components;
    comps[0] += income.farm as f64;
    comps[1] += income.procurement as f64;
    comps[2] += income.wage as f64;
    comps[3] += income.post as f64;
    comps[4] += income.remit as f64;
    comps[5] += income.transfer as f64;
    comps[6] += income.dividend as f64;
    comps[7] += income.social as f64;
    comps[8] += income.topup as f64;
    comps[9] += income.dibao as f64;
    comps[10] += income.pension as f64;
    comps[11] += income.farm_subsidy as f64;
    comps[12] += income.insurance as f64;
    comps[13] += income.ins_payout as f64;
    comps[14] += income.assist as f64;
    if start.insured {
        acc.insured += 1.0;
        acc.insured_persons += h.size as f64;
    }
    acc.contributions += income.contributions as f64;
    if h.dibao > 0.0 {
        acc.dibao_recipients += 1.0;
    }
    acc.medical += shocks.medical as f64;
    acc.medical_covered += income.covered as f64;
    acc.medical_claims += (shocks.medical - income.insurance) as f64;
    acc.elders += h.elders as f64;
    acc.local += h.local as f64;
    acc.migrants += h.migrants as f64;
    acc.posts += h.posts as f64;
    acc.workers += h.workers as f64;
    acc.persons += h.size as f64;
    acc.placed += moves.placed as f64;
    acc.migrated += moves.migrated as f64;
    acc.returned += moves.returned as f64;
    acc.trained += moves.trained as u8 as f64;
    acc.farm_value += income.farm as f64;
    acc.skill += h.skill as f64;
    acc.effort += h.effort as f64;
    acc.savings += h.savings as f64;
    if eligible(h, t + 1, p.support_ticks) {
        acc.eligible_next += 1.0;
    }
    if h.flags & flags::EVER_POOR != 0 {
        acc.members_next += 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_cdf_matches_known_values() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((norm_cdf(1.959_963_985) - 0.975).abs() < 1e-6);
        assert!((norm_cdf(-1.0) - 0.158_655_254).abs() < 1e-6);
    }

    fn params() -> StepParams {
        StepParams {
            tick: 0,
            tpy: 12,
            line: 4000.0,
            dibao_standard: 0.0,
            dibao_error: 0.0,
            ln_line: 4000f32.ln(),
            vuln_z: 0.0,
            memory_weight: 0.1,
            support_ticks: 12,
            p_ill: 0.0,
            ill_len: 3.0,
            ill_cost: 0.0,
            p_disaster: 0.0,
            disaster_loss: 0.0,
            noise: 0.0,
            saving_rate: 0.0,
            dependency: 0.0,
            effort_adjust: 0.0,
            skill_decay: 0.0,
            skill_gain: 0.5,
            retirement_age: 60,
            first_year_separation: 1.0,
            migration_age: [1.0; 128],
            pension: 0.0,
            farm_subsidy: 0.0,
            premium: 0.0,
            contribution: 0.0,
            reimbursement: 0.0,
            assess: false,
            means_test: false,
            p_detect: 0.0,
            monitor_line: 6000.0,
            monitor_shock: 0.1,
            monitor_dibao: true,
            ins_line: 0.0,
            ins_cap: 0.0,
            ins_all: false,
            after_help: false,
            assist_cap: 0.0,
            social_shocked: false,
            distribution: true,
        }
    }

    /// A household of four: members aged 30, 45 and 65 on the farm, a child of 10.
    fn family() -> (Household, Members) {
        let mut m = Members::default();
        m.age[..4].copy_from_slice(&[30, 45, 65, 10]);
        m.job[..4].copy_from_slice(&[job::FARM, job::FARM, job::FARM, job::NONE]);
        let mut h = Household {
            size: 4,
            effort: 1.0,
            farm_base: 5000.0,
            trailing: 5000.0,
            ..Household::default()
        };
        h.set_counts(&m.counts(4));
        (h, m)
    }

    /// A cell of draws from a seeded stream (its first keystream block).
    fn test_cell(seed: u64) -> Cell {
        crate::model::rng::Streams::new(seed)
            .cells(crate::model::rng::Purpose::Households, 0, 0)
            .next_cell()
    }

    /// Draws of a cell from a seeded stream, with no farm-income noise.
    fn test_draws(seed: u64) -> Draws {
        Draws {
            cell: test_cell(seed),
            noise: 1.0,
        }
    }

    fn one_step(h: &mut Household, m: &mut Members, r: &Rates) {
        let mut ring = [h.trailing / 12.0; 12];
        let mut acc = BlockAcc::default();
        step(h, m, &mut ring, r, &params(), &test_draws(3), &mut acc);
    }

    #[test]
    fn members_past_the_retirement_age_are_not_hired() {
        let (mut h, mut m) = family();
        let r = Rates {
            p_job: 1.0,
            wage: 100.0,
            ..Rates::default()
        };
        one_step(&mut h, &mut m, &r);
        assert_eq!(m.job[..4], [job::LOCAL, job::LOCAL, job::FARM, job::NONE]);
        assert_eq!((h.workers, h.local), (3, 2));
        assert_eq!(m.tenure[..3], [0, 0, 1]);
    }

    #[test]
    fn training_raises_the_trainees_own_skill() {
        let (mut h, mut m) = family();
        let r = Rates {
            p_train: 1.0,
            ..Rates::default()
        };
        one_step(&mut h, &mut m, &r);
        // One trainable member (aged 30 or 45) gains the full 0.5; nobody else changes.
        let gained: Vec<usize> = (0..4).filter(|&i| m.skill[i] > 1.0).collect();
        assert_eq!(gained.len(), 1);
        assert!(gained[0] < 2, "trainee {gained:?}");
        assert!((m.skill[gained[0]] - 1.5).abs() < 1e-6);
        assert!((h.skill - 1.5 / 3.0 - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn wages_follow_the_skill_of_the_member_employed() {
        // Two households, each with one local employee, of skill 1 and 2: the second earns
        // twice the wage.
        let r = Rates {
            wage: 100.0,
            ..Rates::default()
        };
        let mut income = [0.0f64; 2];
        for (k, skill) in [1.0f32, 2.0].into_iter().enumerate() {
            let (mut h, mut m) = family();
            m.job[0] = job::LOCAL;
            m.tenure[0] = 50;
            m.skill[0] = skill;
            h.set_counts(&m.counts(4));
            let mut ring = [h.trailing / 12.0; 12];
            let mut acc = BlockAcc::default();
            step(
                &mut h,
                &mut m,
                &mut ring,
                &r,
                &params(),
                &test_draws(3),
                &mut acc,
            );
            income[k] = acc.components[2];
        }
        assert!((income[0] - 100.0).abs() < 1e-3, "{income:?}");
        assert!((income[1] - 200.0).abs() < 1e-3, "{income:?}");
    }

    #[test]
    fn temporary_assistance_pays_at_most_its_cap_between_two_assessments() {
        // An identified household with no income: the gap to the line is far above the cap.
        let (mut h, mut m) = family();
        h.farm_base = 0.0;
        h.trailing = 0.0;
        h.flags |= flags::MONITORED;
        let mut ring = [0.0f32; 12];
        let r = Rates::default();
        let mut p = StepParams {
            assist_cap: 3000.0,
            ..params()
        };
        let mut seed = 5;
        let mut paid = |p: &StepParams, h: &mut Household, m: &mut Members| {
            let mut acc = BlockAcc::default();
            seed += 1;
            step(h, m, &mut ring, &r, p, &test_draws(seed), &mut acc);
            acc.components[14]
        };
        // The whole cap at once, then nothing until the next assessment year.
        assert_eq!(paid(&p, &mut h, &mut m), 3000.0);
        assert_eq!(paid(&p, &mut h, &mut m), 0.0);
        p.assess = true;
        assert_eq!(paid(&p, &mut h, &mut m), 0.0);
        assert_eq!(h.assist_paid, 0.0, "the assessment starts a new year");
        p.assess = false;
        assert_eq!(paid(&p, &mut h, &mut m), 3000.0);
        // Not identified: nothing.
        h.flags &= !flags::MONITORED;
        h.assist_paid = 0.0;
        assert_eq!(paid(&p, &mut h, &mut m), 0.0);
    }

    #[test]
    fn record_is_compact() {
        assert!(std::mem::size_of::<Household>() <= 56);
        assert_eq!(std::mem::size_of::<Members>(), 56);
    }

    #[test]
    fn eligibility_window_after_exit() {
        let mut h = Household {
            status: status::EXITED,
            last_exit: 10,
            ..Default::default()
        };
        // exited during tick 9 (last_exit = 10); a 12-tick window covers ticks 10..=21
        assert!(eligible(&h, 21, 12));
        assert!(!eligible(&h, 22, 12));
        h.status = status::RELAPSED;
        assert!(eligible(&h, 100, 0));
        // A never-poor household identified by the monitoring is eligible too.
        h.status = status::NEVER_POOR;
        assert!(!eligible(&h, 100, 12));
        h.flags |= flags::MONITORED;
        assert!(eligible(&h, 100, 12));
    }

    /// `after_help`: a relapse in the tick of identification is held over (PENDING) and
    /// registered at the next assessment only if the household is still poor; one
    /// identified before the assessment is registered at once; `identified` registers both.
    #[test]
    fn registration_after_help_holds_over_the_newly_identified() {
        let assess = |after_help: bool, trailing: f32, h: &mut Household, monitored: bool| {
            let p = StepParams {
                assess: true,
                p_detect: 0.5,
                after_help,
                ..params()
            };
            let start = Start {
                was: h.status,
                eligible: false,
                at_risk: false,
                member: true,
                monitored,
                insured: false,
                rest: 0.0,
            };
            h.trailing = trailing;
            let mut acc = BlockAcc::default();
            poverty_status(h, &p, &start, &mut acc);
            (acc.relapses, acc.registered_relapses)
        };
        let exited = || Household {
            status: status::EXITED,
            flags: flags::MONITORED | flags::EVER_POOR | flags::EVER_EXITED,
            size: 3,
            ..Default::default()
        };
        // Identified in this tick (MONITORED now, not at the start).
        let mut h = exited();
        assert_eq!(assess(false, 3000.0, &mut h, false), (1.0, 1.0));
        let mut h = exited();
        assert_eq!(assess(true, 3000.0, &mut h, false), (1.0, 0.0));
        assert!(h.flags & flags::PENDING != 0 && h.status == status::RELAPSED);
        // A year later, still poor: registered now, once.
        assert_eq!(assess(true, 3500.0, &mut h, true), (0.0, 1.0));
        assert_eq!(h.flags & flags::PENDING, 0);
        assert_eq!(assess(true, 3500.0, &mut h, true), (0.0, 0.0));
        // Or lifted by the help: an exit, never registered.
        let mut h = exited();
        assess(true, 3000.0, &mut h, false);
        assert_eq!(assess(true, 4500.0, &mut h, true), (0.0, 0.0));
        assert_eq!((h.status, h.flags & flags::PENDING), (status::EXITED, 0));
        // Identified before the assessment: registered at once under either rule.
        let mut h = exited();
        assert_eq!(assess(true, 3000.0, &mut h, true), (1.0, 1.0));
        // Not identified at all: the registration does not see it.
        let mut h = exited();
        h.flags &= !flags::MONITORED;
        assert_eq!(assess(true, 3000.0, &mut h, false), (1.0, 0.0));
    }

    /// An identified household not on the dibao is means-tested at once and paid from the
    /// next tick; the yearly test then deducts only what it received.
    #[test]
    fn identification_grants_the_dibao_and_the_test_deducts_what_was_paid() {
        let p = StepParams {
            p_detect: 1.0,
            dibao_standard: 6000.0,
            ..params()
        };
        let (mut h, _) = family();
        h.trailing = 2000.0;
        let mut acc = BlockAcc::default();
        let cell = test_cell(1);
        monitor(
            &mut h,
            &p,
            &Shocks::default(),
            &Income::default(),
            &cell,
            &mut acc,
        );
        // No assessment error: the benefit fills the gap to the standard.
        assert_eq!(h.dibao, 4000.0);
        // Already on it: identification does not re-test.
        let (mut g, _) = family();
        g.trailing = 2000.0;
        g.dibao = 100.0;
        monitor(
            &mut g,
            &p,
            &Shocks::default(),
            &Income::default(),
            &cell,
            &mut acc,
        );
        assert_eq!(g.dibao, 100.0);
        // Paid for 3 ticks before the yearly test: 1,000 a person received, which the test
        // deducts from the trailing year (3,000: own income 2,000, so the gap stays 4,000).
        h.dibao_paid = 3.0 * 4000.0 / 12.0;
        h.trailing = 3000.0;
        let test = StepParams {
            means_test: true,
            ..p
        };
        let r = Rates {
            dibao_threshold: 1e9,
            ..Default::default()
        };
        means_test(&mut h, &r, &test, &cell, &mut acc);
        assert_eq!((h.dibao, h.dibao_paid), (4000.0, 0.0));
    }

    #[test]
    fn monitoring_identifies_only_candidates() {
        let p = StepParams {
            p_detect: 1.0,
            ..params()
        };
        let (mut h, _) = family();
        let mut acc = BlockAcc::default();
        let cell = test_cell(5);
        // Above the monitoring line (6,000) and no shock: not identified, even with
        // identification certain.
        h.trailing = 7000.0;
        monitor(
            &mut h,
            &p,
            &Shocks::default(),
            &Income::default(),
            &cell,
            &mut acc,
        );
        assert_eq!(h.flags & flags::MONITORED, 0);
        // A catastrophic medical bill (3,800 out of pocket, above 10% of the 28,000 a year)
        // makes it a candidate.
        let bill = Shocks {
            medical: 5000.0,
            ..Shocks::default()
        };
        let paid = Income {
            insurance: 1200.0,
            out_of_pocket: 3800.0,
            ..Income::default()
        };
        monitor(&mut h, &p, &bill, &paid, &cell, &mut acc);
        assert!(h.flags & flags::MONITORED != 0 && acc.identified == 1.0);
        // Monitoring off: nobody is identified.
        let (mut h, _) = family();
        h.trailing = 100.0;
        monitor(&mut h, &params(), &bill, &paid, &cell, &mut acc);
        assert_eq!(h.flags & flags::MONITORED, 0);
    }
}
