//! Poverty, return-to-poverty, vulnerability and inequality measures of one scope and tick,
//! computed from a real-scale accumulator. Pure arithmetic: no I/O, no formatting.

use crate::model::accum::{
    defined, ratio, BlockAcc, COMPONENTS, NBS_TRANSFER_COMPONENTS, TRANSFER_COMPONENTS,
};
use crate::model::config::Side;

/// Which rows a metrics record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One region (index).
    Region(usize),
    /// All regions of one side.
    Side(Side),
    /// All regions.
    All,
}

/// Whole-system inequality measures (only on the `All` row).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SystemMeasures {
    /// Theil T of all households.
    pub theil: f64,
    /// Within-side part: Σ_g s_g T_g.
    pub theil_within: f64,
    /// Between-side part: Σ_g s_g ln(μ_g/μ).
    pub theil_between: f64,
    /// Mean eastern over mean western per-capita income.
    pub east_west_ratio: f64,
}

/// Measures for one scope at one tick, computed from a real-scale accumulator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measures {
    /// Households (real scale).
    pub households: f64,
    /// Headcount ratio FGT0.
    pub poverty_rate: f64,
    /// Poverty gap FGT1.
    pub poverty_gap: f64,
    /// Poverty severity FGT2.
    pub poverty_severity: f64,
    /// Poor households (real scale).
    pub poor: f64,
    /// Exits / poor at start (NaN when none were poor).
    pub exit_rate: f64,
    /// Relapses / exited at start (NaN when none had exited).
    pub relapse_rate: f64,
    /// Exited households at the start of the tick (real scale; those at risk of relapse).
    pub exited_start: f64,
    /// Relapses this tick (real scale).
    pub relapses: f64,
    /// Relapses this tick per household (registered relapses happen at the year-end
    /// assessment only, so the year's sum, its assessment value, is the annual rate per
    /// household: a count measure whose denominator does not move with exits).
    pub relapses_per_household: f64,
    /// Relapse events since tick 0 (real scale; a household that relapses twice counts
    /// twice).
    pub relapses_cum: f64,
    /// Relapse events since tick 0 per household now in the scope.
    pub relapses_cum_per_household: f64,
    /// Period survival of exits one year after the exit: the share of exited households in
    /// their first year out of poverty that stay out at the assessment (NaN outside the
    /// year-end assessment or with nobody at risk).
    pub exit_survival_1y: f64,
    /// Period survival of exits to three years: the product of the assessment's relapse
    /// hazards in years 1, 2 and 3 since the exit (life-table, ODD §7.9).
    pub exit_survival_3y: f64,
    /// Period survival of exits to five years (hazards of years 1–5 since the exit).
    pub exit_survival_5y: f64,
    /// Relapses registered this tick: those of households the dynamic monitoring had
    /// identified, or all relapses when it does not run (real scale).
    pub registered_relapses: f64,
    /// Registered relapses / exited at start (NaN when none had exited).
    pub registered_relapse_rate: f64,
    /// Households identified as at risk by the monitoring (监测对象) at the end of the tick
    /// (real scale).
    pub monitored_households: f64,
    /// Of all households, the share identified as at risk.
    pub monitored_share: f64,
    /// Households newly identified this tick (real scale).
    pub identified: f64,
    /// Households removed from risk (风险消除) at this tick's assessment (real scale).
    pub removed_from_risk: f64,
    /// Of all households, the share covered by the anti-return insurance this tick.
    pub insured_share: f64,
    /// Ever relapsed / ever exited.
    pub relapsed_cum_share: f64,
    /// Exits this tick (real scale).
    pub exits: f64,
    /// Households that have ever exited (real scale).
    pub ever_exited: f64,
    /// Households that have ever relapsed (real scale).
    pub ever_relapsed: f64,
    /// New entries / never poor at start (NaN when none were never-poor).
    pub entry_rate: f64,
    /// Vulnerable non-poor / non-poor.
    pub vulnerability_share: f64,
    /// Mean vulnerability probability of non-poor households.
    pub mean_vulnerability: f64,
    /// Mean trailing per-capita income.
    pub mean_income: f64,
    /// Median trailing per-capita income.
    pub median_income: f64,
    /// Gini of trailing per-capita income.
    pub gini: f64,
    /// Theil T within this scope.
    pub theil: f64,
    /// Share of this tick's income from transfers, social cash, reserve top-ups and dibao
    /// (the income that weakens effort, §7.4 step 22).
    pub transfer_income_share: f64,
    /// Share of this tick's disposable income that is transfer net income on the NBS
    /// definition (转移净收入): the above plus remittances of members working away, pensions,
    /// agricultural subsidies and reimbursed medical costs, less pension contributions and
    /// medical premiums, over all income components less the same contributions
    /// (comparable with the 27% of poor-area rural income in 2019, BRIEF §7).
    pub transfer_share_nbs: f64,
    /// Share of households receiving the dibao.
    pub dibao_share: f64,
    /// Share of each income component (see [`crate::model::accum::COMPONENTS`]).
    pub component_shares: [f64; COMPONENTS.len()],
    /// Migrant workers (real scale).
    pub migrants: f64,
    /// Workers in local firm jobs (real scale).
    pub local_jobs: f64,
    /// Workers on welfare posts (real scale).
    pub welfare_posts: f64,
    /// Mean household skill.
    pub mean_skill: f64,
    /// Mean household effort.
    pub mean_effort: f64,
    /// Members at or above the retirement age (real scale).
    pub elders: f64,
    /// Migrants placed through labour cooperation, the stock at the end of the tick (real
    /// scale; part of `migrants`).
    pub placed_migrants: f64,
    /// Mean tenure of placed migrants in their placement, years.
    pub placed_tenure: f64,
    /// Mean age of members working away.
    pub migrant_mean_age: f64,
    /// Mean age of members in local jobs.
    pub local_mean_age: f64,
    /// Consumer price index, 1 in the start year's prices (the tick's mid-point).
    pub price_index: f64,
    /// Mean trailing per-capita income in the tick's prices (`mean_income × price_index`).
    pub mean_income_current: f64,
}

impl Measures {
    /// Sets the price index of the measures and the measures given in current prices.
    pub fn with_prices(mut self, price_index: f64) -> Measures {
        self.price_index = price_index;
        self.mean_income_current = self.mean_income * price_index;
        self
    }

    /// The measures with the distribution measures (mean vulnerability, median income, Gini,
    /// Theil) set to NaN: a tick whose recorder declined them
    /// ([`crate::model::recorder::Recorder::wants_distribution`]) did not compute them.
    pub fn without_distribution(mut self) -> Measures {
        self.mean_vulnerability = f64::NAN;
        self.median_income = f64::NAN;
        self.gini = f64::NAN;
        self.theil = f64::NAN;
        self
    }

    /// Computes the measures of a real-scale accumulator.
    pub fn from_acc(a: &BlockAcc) -> Measures {
        let total: f64 = a.components.iter().sum();
        let mut shares = [0.0; COMPONENTS.len()];
        for (s, c) in shares.iter_mut().zip(a.components.iter()) {
            *s = ratio(*c, total);
        }
        let transfer: f64 = TRANSFER_COMPONENTS.iter().map(|&i| a.components[i]).sum();
        let nbs: f64 = NBS_TRANSFER_COMPONENTS
            .iter()
            .map(|&i| a.components[i])
            .sum();
        Measures {
            households: a.n,
            poverty_rate: ratio(a.poor, a.n),
            poverty_gap: ratio(a.gap, a.n),
            poverty_severity: ratio(a.gap2, a.n),
            poor: a.poor,
            exit_rate: defined(a.exits, a.poor_start),
            relapse_rate: defined(a.relapses, a.exited_start),
            exited_start: a.exited_start,
            relapses: a.relapses,
            relapses_per_household: ratio(a.relapses, a.n),
            relapses_cum: a.relapses_cum,
            relapses_cum_per_household: ratio(a.relapses_cum, a.n),
            exit_survival_1y: a.exit_survival(1),
            exit_survival_3y: a.exit_survival(3),
            exit_survival_5y: a.exit_survival(5),
            registered_relapses: a.registered_relapses,
            registered_relapse_rate: defined(a.registered_relapses, a.exited_start),
            monitored_households: a.monitored,
            monitored_share: ratio(a.monitored, a.n),
            identified: a.identified,
            removed_from_risk: a.removed,
            insured_share: ratio(a.insured, a.n),
            relapsed_cum_share: ratio(a.ever_relapsed, a.ever_exited),
            exits: a.exits,
            ever_exited: a.ever_exited,
            ever_relapsed: a.ever_relapsed,
            entry_rate: defined(a.entries, a.never_poor_start),
            vulnerability_share: ratio(a.vulnerable, a.nonpoor),
            mean_vulnerability: ratio(a.vuln_sum, a.nonpoor),
            mean_income: a.mean_income(),
            median_income: a.hist.median(),
            gini: a.hist.gini(),
            theil: a.theil(),
            transfer_income_share: ratio(transfer, total),
            transfer_share_nbs: ratio(nbs - a.contributions, total - a.contributions),
            dibao_share: ratio(a.dibao_recipients, a.n),
            component_shares: shares,
            migrants: a.migrants,
            local_jobs: a.local,
            welfare_posts: a.posts,
            mean_skill: ratio(a.skill, a.n),
            mean_effort: ratio(a.effort, a.n),
            elders: a.elders,
            placed_migrants: a.placed_stock,
            placed_tenure: defined(a.placed_tenure, a.placed_stock),
            migrant_mean_age: defined(a.away_age, a.migrants),
            local_mean_age: defined(a.local_age, a.local),
            price_index: 1.0,
            mean_income_current: a.mean_income(),
        }
    }
}

/// Theil decomposition into within- and between-group parts for groups with accumulators.
pub fn theil_decomposition(groups: &[&BlockAcc], all: &BlockAcc) -> (f64, f64, f64) {
    let mu = all.mean_income();
    let total_income = all.income;
    let (mut within, mut between) = (0.0, 0.0);
    for g in groups {
        if g.n <= 0.0 {
            continue;
        }
        let s = g.income / total_income;
        within += s * g.theil();
        between += s * (g.mean_income() / mu).ln();
    }
    (all.theil(), within, between)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theil_decomposes_exactly() {
        let mut a = BlockAcc::default();
        let mut b = BlockAcc::default();
        for (acc, ys) in [
            (&mut a, [1000.0, 2000.0, 3000.0]),
            (&mut b, [8000.0, 9000.0, 20000.0]),
        ] {
            for y in ys {
                acc.n += 1.0;
                acc.income += y;
                acc.income_ylny += y * f64::ln(y);
            }
        }
        let mut all = BlockAcc::default();
        all.merge(&a, 1.0);
        all.merge(&b, 1.0);
        let (t, w, bt) = theil_decomposition(&[&a, &b], &all);
        assert!((t - (w + bt)).abs() < 1e-12);
        assert!(bt > 0.0 && w > 0.0);
    }
}
