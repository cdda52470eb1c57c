//! The validated model configuration: what the core reads. Built only by `scenario`.
//!
//! Parameter groups are plain numeric structs with documented defaults; they derive
//! `Deserialize` so the scenario layer can read them straight from TOML, but nothing
//! here touches files. Every value in a [`Config`] has passed validation, so the tick
//! loop never has to check it again.

use serde::{Deserialize, Serialize};

use crate::model::schema::{self, default_f64 as d};
use crate::model::time::{Calendar, Tick};

/// Which side of a pairing a region is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Richer, aid-giving side (eastern provinces, coastal counties).
    East,
    /// Poorer, aid-receiving side (western provinces, mountain counties).
    West,
}

impl Side {
    /// Lower-case name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::East => "east",
            Side::West => "west",
        }
    }
}

/// A region: name, side and numeric parameters (the `[[region]]` tables of a scenario).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Display name (unique).
    pub name: String,
    /// East or west.
    pub side: Side,
    /// Simulated households.
    pub households: u32,
    /// Real households each simulated household stands for (sampling weight).
    #[serde(default = "one")]
    pub weight: f64,
    /// Mean persons per household (sizes are 1 + Poisson(mean − 1), capped at 8).
    #[serde(default = "d_hh_size")]
    pub household_size: f64,
    /// Mean working-age members per household (1 + Binomial, capped by size).
    #[serde(default = "d_workers")]
    pub workers_per_household: f64,
    /// Median initial per-capita income, yuan/person/year (2020 prices).
    pub income_median: f64,
    /// Log standard deviation of the initial income distribution.
    #[serde(default = "d_sigma")]
    pub income_sigma: f64,
    /// Workers per 100 who are migrants in the east at the start.
    #[serde(default = "d_migrants")]
    pub migrants_per_100: f64,
    /// Local wage, yuan/worker/year, for a worker of skill 1.
    pub wage: f64,
    /// Monthly wage a migrant from this region earns in the east (yuan/month, skill 1).
    #[serde(default = "d_migrant_wage")]
    pub migrant_wage_month: f64,
    /// Annual probability that an idle worker migrates on their own (without placement);
    /// absent: the steady-state rate of the initial stock (see [`Region::migration_rate`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_migration: Option<f64>,
    /// Share of promised firm incentives the local government actually delivers, in \[0,1\].
    #[serde(default = "d_credibility")]
    pub credibility: f64,
    /// Initial infrastructure index in \[0,1\].
    #[serde(default = "d_infra")]
    pub infrastructure: f64,
    /// Digital access in \[0,1\] (scales e-commerce market channels).
    #[serde(default = "d_digital")]
    pub digital_access: f64,
    /// Transport cost to eastern markets as a share of product value, in \[0,1\].
    #[serde(default = "d_transport")]
    pub transport_cost: f64,
    /// Value added per local firm worker per year relative to the region's wage (> 0).
    #[serde(default = "d_labour_productivity")]
    pub labour_productivity: f64,
    /// Annual real growth of farm productivity and wages (local and migrant).
    #[serde(default)]
    pub growth: f64,
    /// Local firm jobs per 100 workers at start (pre-existing local firms).
    #[serde(default = "d_local_jobs")]
    pub local_jobs_per_100: f64,
}

impl Region {
    /// The region's growth factor at tick `t` with `tpy` ticks a year, to the middle of the
    /// tick: `(1 + growth)^((t + ½)/tpy)`. Wages, farm output and the capital a job needs
    /// grow with it (ODD §7.5, §7.6.1).
    pub fn growth_factor(&self, t: u32, tpy: u32) -> f64 {
        (1.0 + self.growth).powf((t as f64 + 0.5) / tpy as f64)
    }

    /// Capital deepening per tick with `tpy` ticks a year, `max((1 + growth)^(1/tpy) − 1, 0)`
    /// (ODD §7.6.1).
    pub fn deepening(&self, tpy: u32) -> f64 {
        ((1.0 + self.growth).powf(1.0 / tpy as f64) - 1.0).max(0.0)
    }

    /// The annual probability that an idle worker migrates on their own: `base_migration`
    /// if set, else the rate at which the initial migrant stock is a steady state of
    /// spontaneous migration, return and retirement (ODD §7.2): with hazards
    /// `h = −ln(1 − p)`, `h_b · (1 − l − m) = (h_r + h_a) · m` for the initial shares `m` of
    /// migrants and `l` of local jobs among working-age members, the return rate `r` and
    /// `h_a` the rate at which migrants reach the retirement age (`retiring`, per year).
    pub fn migration_rate(&self, migrant_return: f64, retiring: f64) -> f64 {
        if let Some(b) = self.base_migration {
            return b;
        }
        let m = self.migrants_per_100 / 100.0;
        let idle = 1.0 - self.local_jobs_per_100 / 100.0 - m;
        if m <= 0.0 {
            return 0.0;
        }
        if idle <= 1e-9 || migrant_return >= 1.0 {
            return 1.0;
        }
        let h_r = -(1.0 - migrant_return).ln() + retiring.max(0.0);
        (1.0 - (-h_r * m / idle).exp()).clamp(0.0, 1.0)
    }
}

fn one() -> f64 {
    d("region.weight")
}
fn d_hh_size() -> f64 {
    d("region.household_size")
}
fn d_workers() -> f64 {
    d("region.workers_per_household")
}
fn d_sigma() -> f64 {
    d("region.income_sigma")
}
fn d_migrants() -> f64 {
    d("region.migrants_per_100")
}
fn d_migrant_wage() -> f64 {
    d("region.migrant_wage_month")
}
fn d_credibility() -> f64 {
    d("region.credibility")
}
fn d_infra() -> f64 {
    d("region.infrastructure")
}
fn d_digital() -> f64 {
    d("region.digital_access")
}
fn d_transport() -> f64 {
    d("region.transport_cost")
}
fn d_labour_productivity() -> f64 {
    d("region.labour_productivity")
}
fn d_local_jobs() -> f64 {
    d("region.local_jobs_per_100")
}

/// Annual channel intensities along one pairing link (real-scale amounts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Channels {
    /// Fiscal aid from the eastern to the western government, yuan/year.
    pub fiscal_aid: f64,
    /// Social donations (charities, firms, volunteers), yuan/year.
    pub social_donations: f64,
    /// Consumption-aid procurement of western products by eastern buyers, yuan/year.
    pub procurement: f64,
    /// Market-channel reach in \[0,1\]: share of western farm produce that can be sold
    /// in eastern markets (e-commerce, branding, distribution).
    pub market_access: f64,
    /// Eastern jobs offered to western workers through labour cooperation (stock, workers).
    pub labour_demand: f64,
    /// Training places funded directly by the eastern side, trainees/year.
    pub training_places: f64,
    /// Cadre and technician person-months sent east → west per year.
    pub talent_to_west: f64,
    /// Western cadre person-months seconded west → east per year.
    pub talent_to_east: f64,
    /// Eastern firms the eastern government mobilises to consider investing, firms/year.
    pub firm_mobilisation: f64,
}

/// A pairing link between an eastern and a western region.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Index of the eastern region.
    pub east: usize,
    /// Index of the western region.
    pub west: usize,
    /// First tick the link is active.
    pub start: Tick,
    /// First tick the link is no longer active (exclusive); `None` = until the horizon.
    pub end: Option<Tick>,
    /// Annual intensities at scale 1.
    pub channels: Channels,
}

impl Link {
    /// Whether the link operates at tick `t`.
    pub fn active(&self, t: Tick) -> bool {
        t >= self.start && self.end.is_none_or(|e| t < e)
    }
}

/// Multipliers applied to link channels from a phase's start until the next phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhaseScales {
    /// Multiplies `fiscal_aid`.
    pub fiscal_aid: f64,
    /// Multiplies `social_donations`.
    pub social: f64,
    /// Multiplies `procurement`.
    pub procurement: f64,
    /// Multiplies `market_access`.
    pub market: f64,
    /// Multiplies `labour_demand` (eastern jobs offered through labour cooperation).
    pub labour: f64,
    /// Multiplies `training_places` (training paid by the eastern side).
    pub training: f64,
    /// Multiplies both talent channels.
    pub talent: f64,
    /// Multiplies `firm_mobilisation`.
    pub firms: f64,
    /// Multiplies the promised incentives to eastern plants.
    pub incentives: f64,
}

impl Default for PhaseScales {
    fn default() -> Self {
        PhaseScales {
            fiscal_aid: d("phase.scales.fiscal_aid"),
            social: d("phase.scales.social"),
            procurement: d("phase.scales.procurement"),
            market: d("phase.scales.market"),
            labour: d("phase.scales.labour"),
            training: d("phase.scales.training"),
            talent: d("phase.scales.talent"),
            firms: d("phase.scales.firms"),
            incentives: d("phase.scales.incentives"),
        }
    }
}

/// A policy phase: from `start` on, channel scales change.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Name shown in outputs (e.g. "withdrawal").
    pub name: String,
    /// First tick of the phase.
    pub start: Tick,
    /// Channel multipliers.
    pub scales: PhaseScales,
}

/// Kinds of common (covariate) shocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShockKind {
    /// Migrants return, eastern labour demand and local firm sales fall.
    Pandemic,
    /// Farm-gate prices fall.
    PriceCollapse,
    /// Farm output and assets are destroyed (flood, drought, earthquake).
    Disaster,
}

impl ShockKind {
    /// Allowed names, for error messages.
    pub const NAMES: &'static [&'static str] = &["pandemic", "price_collapse", "disaster"];
}

/// A common shock declared in the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Shock {
    /// What kind of shock.
    pub kind: ShockKind,
    /// First tick the shock touches.
    pub start: Tick,
    /// First month of the shock, counted from the calendar's start month.
    pub start_month: u32,
    /// Length in months (≥ 1).
    pub months: u32,
    /// Months per tick of the calendar.
    pub months_per_tick: u32,
    /// Severity in \[0,1\].
    pub severity: f64,
    /// Regions hit (indices); all western regions when the scenario gives none.
    pub regions: Vec<usize>,
}

impl Shock {
    /// The share of tick `t`'s months the shock covers, in \[0,1\]: a shock of a few
    /// months hits a yearly tick with that share of its severity, so that its effect does
    /// not depend on the tick length (ODD §7.3.1).
    pub fn coverage(&self, t: Tick) -> f64 {
        let mpt = self.months_per_tick as u64;
        let (a, b) = (t as u64 * mpt, (t as u64 + 1) * mpt);
        let (s, e) = (
            self.start_month as u64,
            self.start_month as u64 + self.months as u64,
        );
        let overlap = b.min(e).saturating_sub(a.max(s));
        overlap as f64 / mpt as f64
    }
}

/// How a western government splits the aid it receives (shares of the net amount, sum 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Allocation {
    /// Unconditional cash transfers to registered-poor households.
    pub transfers: f64,
    /// Public-welfare posts (公益岗位) paying a fixed wage to poor households' workers.
    pub welfare_posts: f64,
    /// Collective industry projects (cooperatives) whose returns can be shared with villagers.
    pub industry: f64,
    /// Vocational training places.
    pub training: f64,
    /// Infrastructure (roads, logistics, irrigation, digital).
    pub infrastructure: f64,
    /// Anti-return-to-poverty reserve fund that tops up shocked households.
    pub reserve: f64,
}

impl Default for Allocation {
    fn default() -> Self {
        Allocation {
            transfers: d("policy.allocation.transfers"),
            welfare_posts: d("policy.allocation.welfare_posts"),
            industry: d("policy.allocation.industry"),
            training: d("policy.allocation.training"),
            infrastructure: d("policy.allocation.infrastructure"),
            reserve: d("policy.allocation.reserve"),
        }
    }
}

impl Allocation {
    /// The shares in a fixed order: transfers, posts, industry, training, infra, reserve.
    pub fn shares(&self) -> [f64; 6] {
        [
            self.transfers,
            self.welfare_posts,
            self.industry,
            self.training,
            self.infrastructure,
            self.reserve,
        ]
    }
}

/// Western-government policy instruments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Split of received aid.
    pub allocation: Allocation,
    /// Share of received aid lost to diversion and false claims, in \[0,1\].
    pub leakage: f64,
    /// Share of new aid receipts spent on supervising the funds.
    pub supervision: f64,
    /// Largest proportional cut in leakage supervision can buy.
    pub supervision_effect: f64,
    /// Supervision share at which leakage falls by half the largest cut.
    pub supervision_half: f64,
    /// Wage of a public-welfare post, yuan/year.
    pub welfare_post_wage: f64,
    /// Cost of one training place, yuan.
    pub training_cost: f64,
    /// Skill gained by one training course (skill multiplies wages; base 1).
    pub training_skill_gain: f64,
    /// Yuan of infrastructure spending per +0.01 of the infrastructure index
    /// (per 1,000 real households of the region).
    pub infrastructure_cost: f64,
    /// Size of one collective industry project, yuan (real scale).
    pub project_size: f64,
    /// Probability that a collective project fails at launch (aborted, whatever its fit).
    pub project_failure: f64,
    /// Productivity a launched project loses at worst for lack of knowledge of local needs.
    pub project_mismatch: f64,
    /// Whether eastern governments run joint research with their partners.
    pub joint_research: bool,
    /// Knowledge of local needs research gains a year with one partner (share of the gap).
    pub research_learning: f64,
    /// Yearly loss of a link's knowledge of local needs.
    pub knowledge_decay: f64,
    /// Benefit linkage: guaranteed annual return on collective capital paid to villagers.
    pub guaranteed_return: f64,
    /// Benefit linkage: share of project profits paid to member villagers as dividends.
    pub dividend_share: f64,
    /// Share of a collective project's money set aside as its guarantee pool, from which the
    /// guaranteed return is paid when profit falls short (ODD §7.6.3).
    pub guarantee_pool: f64,
    /// Whether registered-poor status keeps transfers flowing after exit until re-assessment
    /// ("transition period" support): households stay eligible for this many years after exit.
    pub support_years_after_exit: f64,
    /// Firm incentives promised to investors (tax, land, credit), share of capital per year.
    pub promised_incentive: f64,
}

impl Policy {
    /// The leakage rate after supervision (ODD §7.3.4): `leakage · (1 − effect · s/(s + half))`
    /// with `s = supervision`; `leakage` when there is none.
    pub fn leakage_rate(&self) -> f64 {
        let s = self.supervision;
        self.leakage * (1.0 - self.supervision_effect * s / (s + self.supervision_half))
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allocation: Allocation::default(),
            leakage: d("policy.leakage"),
            supervision: d("policy.supervision"),
            supervision_effect: d("policy.supervision_effect"),
            supervision_half: d("policy.supervision_half"),
            welfare_post_wage: d("policy.welfare_post_wage"),
            training_cost: d("policy.training_cost"),
            training_skill_gain: d("policy.training_skill_gain"),
            infrastructure_cost: d("policy.infrastructure_cost"),
            project_size: d("policy.project_size"),
            project_failure: d("policy.project_failure"),
            project_mismatch: d("policy.project_mismatch"),
            joint_research: schema::default_bool("policy.joint_research"),
            research_learning: d("policy.research_learning"),
            knowledge_decay: d("policy.knowledge_decay"),
            guaranteed_return: d("policy.guaranteed_return"),
            dividend_share: d("policy.dividend_share"),
            guarantee_pool: d("policy.guarantee_pool"),
            support_years_after_exit: d("policy.support_years_after_exit"),
            promised_incentive: d("policy.promised_incentive"),
        }
    }
}

/// Villager household behaviour and idiosyncratic shocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HouseholdParams {
    /// Dependency effect: effort falls by this much times the transfer share of income (the 等、靠、要 attitude of 000_5b91215dcf67bf5e.txt).
    pub dependency: f64,
    /// Speed (per year) at which effort adjusts toward its target, in \[0,1\].
    pub effort_adjust: f64,
    /// Standard deviation of the transitory log-income shock per year.
    pub income_noise: f64,
    /// Annual probability of a serious illness in the household.
    pub illness_prob: f64,
    /// Medical cost of an illness as a share of the household's annual income.
    pub illness_cost: f64,
    /// Months a sick worker cannot work.
    pub illness_months: f64,
    /// Annual probability of an idiosyncratic farm disaster (crop loss, livestock death).
    pub disaster_prob: f64,
    /// Share of a year's farm income lost in an idiosyncratic disaster.
    pub disaster_loss: f64,
    /// Share of income above the poverty line saved each period.
    pub saving_rate: f64,
    /// Annual decay of skill toward 1 (depreciation of unused training).
    pub skill_decay: f64,
    /// Share of a migrant's wage sent home as remittances.
    pub remittance_share: f64,
    /// Annual separation rate of local firm jobs.
    pub job_separation: f64,
    /// Annual rate at which migrants return home.
    pub migrant_return: f64,
    /// Multiplier on the separation probability of a local job or a labour-cooperation
    /// placement in its first year (1: tenure does not matter).
    pub first_year_separation: f64,
    /// Decline of the migration propensity per year of age (γ in `e^{−γ·age}`, normalised
    /// to mean 1 over the working ages; 0: age does not matter).
    pub migration_age_gradient: f64,
}

impl Default for HouseholdParams {
    fn default() -> Self {
        HouseholdParams {
            dependency: d("households.dependency"),
            effort_adjust: d("households.effort_adjust"),
            income_noise: d("households.income_noise"),
            illness_prob: d("households.illness_prob"),
            illness_cost: d("households.illness_cost"),
            illness_months: d("households.illness_months"),
            disaster_prob: d("households.disaster_prob"),
            disaster_loss: d("households.disaster_loss"),
            saving_rate: d("households.saving_rate"),
            skill_decay: d("households.skill_decay"),
            remittance_share: d("households.remittance_share"),
            job_separation: d("households.job_separation"),
            migrant_return: d("households.migrant_return"),
            first_year_separation: d("households.first_year_separation"),
            migration_age_gradient: d("households.migration_age_gradient"),
        }
    }
}

/// Firm behaviour (eastern investors and western cooperatives).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirmParams {
    /// Capital an eastern firm brings, yuan (real scale).
    pub firm_capital: f64,
    /// Capital per job, yuan (real scale): jobs = capital / this.
    pub capital_per_job: f64,
    /// Annual depreciation of firm capital.
    pub depreciation: f64,
    /// Return on capital eastern firms require (their opportunity cost at home).
    pub hurdle_return: f64,
    /// Years of returns below the hurdle before an eastern firm leaves.
    pub patience_years: f64,
    /// Logistic slope of the entry decision in the expected-return gap.
    pub entry_slope: f64,
    /// Eastern investors per link-year who consider a plant on market terms, without
    /// mobilisation (ODD §7.6.2).
    pub market_candidates: f64,
    /// Share of eastern firm profits paid to villagers under benefit linkage
    /// (land and asset rents, dividends), when benefit linkage is on
    /// (`policy.dividend_share > 0` or `policy.guaranteed_return > 0`).
    pub linked_profit_share: f64,
    /// Productivity boost of firms per unit of the talent index.
    pub talent_productivity: f64,
    /// Productivity boost of firms per unit of the infrastructure index.
    pub infra_productivity: f64,
    /// Share of firm output sold in eastern markets (the rest is sold locally).
    pub export_share: f64,
    /// Persistence ρ of eastern plants' log productivity (AR(1), per year).
    pub productivity_persistence: f64,
    /// Standard deviation σ of the yearly innovation of eastern plants' log productivity
    /// (0: every plant has productivity 1).
    pub productivity_shock: f64,
    /// Weight an entrant gives the realised returns of the plants already on its link
    /// against its own market calculation (learning from incumbents; ODD §7.6.2).
    pub incumbent_weight: f64,
    /// How far below the hurdle the realised returns of a link's plants may sit before
    /// the partner government can no longer persuade mobilised candidates (ODD §7.6.2).
    pub mobilisation_tolerance: f64,
    /// Productivity gain of a link's plants when their enclave park is full.
    pub agglomeration: f64,
    /// Plants in a park that give half the agglomeration gain.
    pub agglomeration_half: f64,
}

impl FirmParams {
    /// The productivity multiplier of a plant in a park of `plants` plants (ODD §7.6.3).
    pub fn agglomeration_factor(&self, plants: f64) -> f64 {
        if self.agglomeration > 0.0 {
            1.0 + self.agglomeration * plants / (plants + self.agglomeration_half)
        } else {
            1.0
        }
    }
}

impl Default for FirmParams {
    fn default() -> Self {
        FirmParams {
            firm_capital: d("firms.firm_capital"),
            capital_per_job: d("firms.capital_per_job"),
            depreciation: d("firms.depreciation"),
            hurdle_return: d("firms.hurdle_return"),
            patience_years: d("firms.patience_years"),
            entry_slope: d("firms.entry_slope"),
            market_candidates: d("firms.market_candidates"),
            linked_profit_share: d("firms.linked_profit_share"),
            talent_productivity: d("firms.talent_productivity"),
            infra_productivity: d("firms.infra_productivity"),
            export_share: d("firms.export_share"),
            productivity_persistence: d("firms.productivity_persistence"),
            productivity_shock: d("firms.productivity_shock"),
            incumbent_weight: d("firms.incumbent_weight"),
            mobilisation_tolerance: d("firms.mobilisation_tolerance"),
            agglomeration: d("firms.agglomeration"),
            agglomeration_half: d("firms.agglomeration_half"),
        }
    }
}

/// Farm and market parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketParams {
    /// Price premium of eastern markets over local farm-gate prices, before transport cost.
    pub east_premium: f64,
    /// Farm productivity gain per unit of the infrastructure index.
    pub infra_farm_effect: f64,
    /// Farm productivity gain per unit of the talent index (technicians, agronomists).
    pub talent_farm_effect: f64,
    /// Person-months of talent in a region (per 1,000 real households) that give a
    /// talent index of 0.5.
    pub talent_half: f64,
    /// Annual decay of the talent stock.
    pub talent_decay: f64,
    /// Credibility gained per year per unit of west→east secondment intensity
    /// (person-months per 1,000 real households): western cadres learn from the east.
    pub secondment_learning: f64,
    /// Annual depreciation of the infrastructure index.
    pub infra_decay: f64,
    /// Price response of the regional product market to excess demand: `p = max(1, D/S)^η`.
    pub price_flexibility: f64,
    /// Demand for a region's firm products added per unit of market reach, as a share of
    /// the tick-0 demand (e-commerce, brands, quality certification; ODD §7.6.6).
    pub reach_demand: f64,
    /// Share of an eastern region's household income spent on the output of plants its
    /// firms relocated west (their own orders; ODD §7.6.6).
    pub east_demand: f64,
}

impl Default for MarketParams {
    fn default() -> Self {
        MarketParams {
            east_premium: d("market.east_premium"),
            price_flexibility: d("market.price_flexibility"),
            reach_demand: d("market.reach_demand"),
            east_demand: d("market.east_demand"),
            infra_farm_effect: d("market.infra_farm_effect"),
            talent_farm_effect: d("market.talent_farm_effect"),
            talent_half: d("market.talent_half"),
            talent_decay: d("market.talent_decay"),
            secondment_learning: d("market.secondment_learning"),
            infra_decay: d("market.infra_decay"),
        }
    }
}

/// Central-government assessment of pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CentreParams {
    /// Whether the annual assessment (考核) runs.
    pub assessment: bool,
    /// Initial share of committed eastern inputs actually delivered, in \[0,1\].
    pub initial_delivery: f64,
    /// Share of the delivery gap closed after each annual assessment (accountability).
    pub accountability: f64,
    /// Annual drift of delivery toward `initial_delivery` when there is no assessment.
    pub drift: f64,
    /// Weight of the outcome indicator (registered relapses per household of the western
    /// partner) in a pair's score; the rest is the input indicator (reported delivery).
    pub outcome_weight: f64,
    /// Registered relapses per household a year at which the outcome score is 0.
    pub relapse_tolerance: f64,
    /// Most of its industry and infrastructure allocation a western government moves to
    /// transfers and the reserve when its outcome score is 0.
    pub reallocation: f64,
    /// Where a western government moves the funds it reallocates.
    pub protective_use: ProtectiveUse,
    /// Share of its delivery gap an eastern government reports as delivered.
    pub gaming: f64,
    /// Share of inflated reports third-party evaluation detects (its intensity).
    pub third_party: f64,
}

impl CentreParams {
    /// The share of its undelivered inputs a pair reports as delivered after third-party
    /// evaluation (ODD §7.3.5).
    pub fn undetected_gaming(&self) -> f64 {
        self.gaming * (1.0 - self.third_party)
    }
}

impl Default for CentreParams {
    fn default() -> Self {
        CentreParams {
            assessment: schema::default_bool("centre.assessment"),
            initial_delivery: d("centre.initial_delivery"),
            accountability: d("centre.accountability"),
            drift: d("centre.drift"),
            outcome_weight: d("centre.outcome_weight"),
            relapse_tolerance: d("centre.relapse_tolerance"),
            reallocation: d("centre.reallocation"),
            protective_use: ProtectiveUse::Reserve,
            gaming: d("centre.gaming"),
            third_party: d("centre.third_party"),
        }
    }
}

/// Where a western government moves the industry and infrastructure funds it reallocates
/// after a poor outcome score (ODD §7.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtectiveUse {
    /// The anti-return risk reserve fund (003).
    Reserve,
    /// Transfers to eligible households.
    Transfers,
    /// Both, in proportion to their allocation shares (all to transfers if both are 0).
    Both,
}

/// Social organisations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SocialParams {
    /// Mobilisation multiplier on declared donations (platforms, volunteer matching).
    pub mobilisation: f64,
    /// Share of donations spent on health services (reduces medical costs); the rest is cash
    /// help.
    pub health_share: f64,
    /// Who gets the cash help.
    pub targeting: SocialTargeting,
    /// Share of declared donations platforms keep flowing when a phase scales them down.
    pub platform: f64,
}

/// Who gets the social organisations' cash help (ODD §7.4 step 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocialTargeting {
    /// Households poor or vulnerable at the start of the tick, an equal amount each.
    AtRisk,
    /// Households hit by illness or a disaster this tick, in proportion to the shock.
    Shocked,
}

impl Default for SocialParams {
    fn default() -> Self {
        SocialParams {
            mobilisation: d("social.mobilisation"),
            health_share: d("social.health_share"),
            targeting: SocialTargeting::AtRisk,
            platform: d("social.platform"),
        }
    }
}

/// What governments spend on channels that move no aid money of their own (ODD §7.7): their
/// price in budget comparisons. Paid to services by the eastern government (the centre for
/// evaluation); they change no agent's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostParams {
    /// Yuan per western worker placed through labour cooperation.
    pub placement: f64,
    /// Yuan per yuan of western produce sold east through the market channel.
    pub market_access: f64,
    /// Yuan per person-month of talent exchange.
    pub talent: f64,
    /// Yuan per yuan of capital an eastern firm brings west.
    pub investment_promotion: f64,
    /// Yuan a year of fixed cost per active link, taken out of its delivered fiscal aid.
    pub coordination: f64,
    /// Yuan a year an eastern government's joint research costs.
    pub joint_research: f64,
    /// Yuan a year a full third-party evaluation of one pair costs the centre.
    pub evaluation: f64,
}

impl Default for CostParams {
    fn default() -> Self {
        CostParams {
            placement: d("costs.placement"),
            market_access: d("costs.market_access"),
            talent: d("costs.talent"),
            investment_promotion: d("costs.investment_promotion"),
            coordination: d("costs.coordination"),
            joint_research: d("costs.joint_research"),
            evaluation: d("costs.evaluation"),
        }
    }
}

/// Domestic social protection, independent of pairing (ODD §7.4 step 24).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtectionParams {
    /// Dibao standard as a multiple of the poverty line (0: no dibao).
    pub dibao_ratio: f64,
    /// Most households the dibao covers (the quota), as a share of the region's households.
    pub dibao_coverage: f64,
    /// Log sd of the means test's error in assessing a household's income.
    pub dibao_assessment_error: f64,
    /// Basic pension, yuan per member at or above the retirement age per year.
    pub pension: f64,
    /// Pension contribution, yuan per worker per year (none on the dibao).
    pub pension_contribution: f64,
    /// Medical insurance premium, yuan per person per year (none on the dibao).
    pub medical_premium: f64,
    /// Share of medical costs reimbursed by medical insurance.
    pub medical_reimbursement: f64,
    /// Agricultural subsidy, yuan per household per year.
    pub farm_subsidy: f64,
    /// Yearly probability that a household meeting a monitoring criterion is identified as
    /// at risk (0: no dynamic monitoring).
    pub monitoring_detection: f64,
    /// Monitoring line as a multiple of the poverty line.
    pub monitoring_line: f64,
    /// Out-of-pocket medical cost in a tick, as a share of annual income, that makes a
    /// household a monitoring candidate.
    pub monitoring_shock: f64,
    /// Whether identified households below the dibao standard get it outside the quota.
    pub monitoring_dibao: bool,
    /// Temporary assistance to identified households below the line, most yuan per household
    /// per year (0: none).
    pub assistance_cap: f64,
    /// Anti-return insurance premium, yuan per insured person per year, paid by the region's
    /// treasury (0: no insurance).
    pub insurance_premium: f64,
    /// Insured line as a multiple of the poverty line.
    pub insurance_line: f64,
    /// Most the insurer pays one household for a year under shock, yuan.
    pub insurance_cap: f64,
    /// Who is insured.
    pub insurance_scope: InsuranceScope,
    /// When a relapse of a monitored household is registered.
    pub registration: Registration,
}

/// When the registration counts a relapse (返贫) of a household the monitoring identified
/// (ODD §7.4 step 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// At the assessment, if the household is identified by the end of that tick.
    Identified,
    /// At the assessment if it was identified before that tick (its help failed); one
    /// identified only at that tick is registered at the next assessment if still poor.
    AfterHelp,
}

/// Who the county-wide anti-return insurance covers (ODD §7.4 step 20a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsuranceScope {
    /// Households ever registered poor and those the monitoring identified (003).
    Registered,
    /// Every household of the region.
    All,
}

impl Default for ProtectionParams {
    fn default() -> Self {
        ProtectionParams {
            dibao_ratio: d("protection.dibao_ratio"),
            dibao_coverage: d("protection.dibao_coverage"),
            dibao_assessment_error: d("protection.dibao_assessment_error"),
            pension: d("protection.pension"),
            pension_contribution: d("protection.pension_contribution"),
            medical_premium: d("protection.medical_premium"),
            medical_reimbursement: d("protection.medical_reimbursement"),
            farm_subsidy: d("protection.farm_subsidy"),
            monitoring_detection: d("protection.monitoring_detection"),
            monitoring_line: d("protection.monitoring_line"),
            monitoring_shock: d("protection.monitoring_shock"),
            monitoring_dibao: schema::default_bool("protection.monitoring_dibao"),
            assistance_cap: d("protection.assistance_cap"),
            insurance_premium: d("protection.insurance_premium"),
            insurance_line: d("protection.insurance_line"),
            insurance_cap: d("protection.insurance_cap"),
            insurance_scope: InsuranceScope::Registered,
            registration: Registration::Identified,
        }
    }
}

/// Household members' ages (ODD §7.2 and §7.4 part 8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemographyParams {
    /// Share of persons at or above the retirement age at the start.
    pub elder_share: f64,
    /// Age at which a member becomes a worker.
    pub working_age: u8,
    /// Age at which a worker leaves wage work and draws the pension.
    pub retirement_age: u8,
    /// Age at which a member stops farming.
    pub farm_exit_age: u8,
    /// Gompertz modal age at death, years.
    pub modal_age: f64,
    /// Gompertz slope, per year.
    pub mortality_slope: f64,
    /// Whether members age, die and are replaced at each year's end.
    pub ageing: bool,
}

impl Default for DemographyParams {
    fn default() -> Self {
        DemographyParams {
            elder_share: d("demography.elder_share"),
            working_age: d("demography.working_age") as u8,
            retirement_age: d("demography.retirement_age") as u8,
            farm_exit_age: d("demography.farm_exit_age") as u8,
            modal_age: d("demography.modal_age"),
            mortality_slope: d("demography.mortality_slope"),
            ageing: crate::model::schema::default_bool("demography.ageing"),
        }
    }
}

/// Prices (ODD §7.9): the deflator of the measures given in each year's prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PricesParams {
    /// Consumer price inflation per year.
    pub inflation: f64,
}

impl Default for PricesParams {
    fn default() -> Self {
        PricesParams {
            inflation: d("prices.inflation"),
        }
    }
}

/// Poverty line and measurement settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PovertyParams {
    /// Poverty line, yuan/person/year in 2020 prices (the 2010 line of 2,300 yuan ≈ 4,000).
    pub line: f64,
    /// A non-poor household is vulnerable if its probability of being poor exceeds this.
    pub vulnerability_threshold: f64,
    /// Memory, in years, of the household's own income mean and volatility.
    pub memory_years: f64,
}

impl Default for PovertyParams {
    fn default() -> Self {
        PovertyParams {
            line: d("poverty.line"),
            vulnerability_threshold: d("poverty.vulnerability_threshold"),
            memory_years: d("poverty.memory_years"),
        }
    }
}

/// The validated configuration of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Scenario name.
    pub name: String,
    /// Master seed of the run.
    pub seed: u64,
    /// Calendar: start, step and horizon.
    pub calendar: Calendar,
    /// Regions, east and west.
    pub regions: Vec<Region>,
    /// Pairing links.
    pub links: Vec<Link>,
    /// Policy phases sorted by start (the first starts at tick 0).
    pub phases: Vec<Phase>,
    /// Common shocks.
    pub shocks: Vec<Shock>,
    /// Poverty measurement.
    pub poverty: PovertyParams,
    /// Western-government policy.
    pub policy: Policy,
    /// Household behaviour.
    pub households: HouseholdParams,
    /// Firm behaviour.
    pub firms: FirmParams,
    /// Farm and market parameters.
    pub market: MarketParams,
    /// Central government.
    pub centre: CentreParams,
    /// Social organisations.
    pub social: SocialParams,
    /// Prices of the channels that move no aid money of their own.
    pub costs: CostParams,
    /// Domestic social protection.
    pub protection: ProtectionParams,
    /// Household members' ages.
    pub demography: DemographyParams,
    /// Prices.
    pub prices: PricesParams,
}

impl Config {
    /// The phase in force at tick `t`.
    pub fn phase_at(&self, t: Tick) -> &Phase {
        let i = self.phases.partition_point(|p| p.start <= t);
        &self.phases[i.saturating_sub(1)]
    }

    /// Total simulated households.
    pub fn total_households(&self) -> usize {
        self.regions.iter().map(|r| r.households as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervision_lowers_leakage_along_a_saturating_curve() {
        let mut p = Policy {
            leakage: 0.4,
            ..Policy::default()
        };
        assert_eq!(p.leakage_rate(), 0.4, "no supervision, no change");
        p.supervision = p.supervision_half;
        let half = 0.4 * (1.0 - p.supervision_effect / 2.0);
        assert!((p.leakage_rate() - half).abs() < 1e-12);
        p.supervision = 0.5;
        let most = p.leakage_rate();
        assert!(most < half && most > 0.4 * (1.0 - p.supervision_effect));
    }
}
