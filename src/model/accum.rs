//! The household-phase accumulator: what a block of households did in one tick (sums and a
//! log-income histogram), merged in block order into region, side and system totals. The
//! household step writes it; [`crate::model::metrics`] turns it into measures.

/// Income components, in the order of [`BlockAcc::components`].
pub const COMPONENTS: [&str; 15] = [
    "farm",
    "procurement",
    "wage",
    "welfare_post",
    "remittance",
    "transfer",
    "dividend",
    "social",
    "reserve",
    "dibao",
    "pension",
    "farm_subsidy",
    "medical_insurance",
    "anti_return_insurance",
    "assistance",
];

/// Components that count as transfer (dependency) income: transfers, social cash, reserve,
/// dibao, anti-return insurance payouts, temporary assistance.
pub const TRANSFER_COMPONENTS: [usize; 6] = [5, 7, 8, 9, 13, 14];

/// Components that are transfer income on the NBS definition (转移性收入): remittances of
/// members working away, aid transfers, social cash, reserve top-ups, dibao, pensions,
/// agricultural subsidies, reimbursed medical costs, anti-return insurance payouts and
/// temporary assistance.
/// Transfer *net* income (转移净收入) subtracts the contributions paid (see
/// [`BlockAcc::contributions`]).
pub const NBS_TRANSFER_COMPONENTS: [usize; 10] = [4, 5, 7, 8, 9, 10, 11, 12, 13, 14];

/// Years since exit over which the survival of exits is followed (ODD §7.9): exited
/// households at the assessment are at risk in duration year `k = 1..=EXIT_YEARS`.
pub const EXIT_YEARS: usize = 5;

const BINS: usize = 640;
const LN_LO: f64 = 3.912_023_005_428_146; // ln 50
const LN_HI: f64 = 14.508_657_738_524_219; // ln 2,000,000

/// Log-spaced income histogram (counts and income sums per bin) for medians and Gini.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Weighted counts per bin.
    pub count: Box<[f64; BINS]>,
    /// Weighted income sums per bin.
    pub sum: Box<[f64; BINS]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            count: Box::new([0.0; BINS]),
            sum: Box::new([0.0; BINS]),
        }
    }
}

impl Histogram {
    /// Bin of income `y` (clamped to the end bins).
    #[inline]
    pub fn bin(y: f64) -> usize {
        let f = (y.max(1.0).ln() - LN_LO) / (LN_HI - LN_LO) * BINS as f64;
        (f.max(0.0) as usize).min(BINS - 1)
    }

    /// Adds one household with income `y`.
    #[inline]
    pub fn add(&mut self, y: f64) {
        self.add_ln(y, y.max(1.0).ln());
    }

    /// Adds one household with income `y` whose logarithm `ln_y` is already known.
    #[inline]
    pub fn add_ln(&mut self, y: f64, ln_y: f64) {
        let f = (ln_y - LN_LO) / (LN_HI - LN_LO) * BINS as f64;
        let b = (f.max(0.0) as usize).min(BINS - 1);
        self.count[b] += 1.0;
        self.sum[b] += y;
    }

    /// Adds `other` with weight `w`.
    pub fn merge(&mut self, other: &Histogram, w: f64) {
        for b in 0..BINS {
            self.count[b] += w * other.count[b];
            self.sum[b] += w * other.sum[b];
        }
    }

    /// Zeroes the histogram.
    pub fn clear(&mut self) {
        self.count.fill(0.0);
        self.sum.fill(0.0);
    }

    /// The income below which a share `q` of the households lie, by linear interpolation of
    /// the log-income within the bin (NaN if empty; 0 for `q ≤ 0`).
    pub fn quantile(&self, q: f64) -> f64 {
        let total: f64 = self.count.iter().sum();
        if total <= 0.0 {
            return f64::NAN;
        }
        if q <= 0.0 {
            return 0.0;
        }
        let target = q.min(1.0) * total;
        let mut cum = 0.0;
        for b in 0..BINS {
            let c = self.count[b];
            if cum + c >= target && c > 0.0 {
                let frac = (target - cum) / c;
                let w = (LN_HI - LN_LO) / BINS as f64;
                return (LN_LO + w * (b as f64 + frac)).exp();
            }
            cum += c;
        }
        LN_HI.exp()
    }

    /// Median by linear interpolation of the log-income within the median bin.
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// Gini coefficient from the Lorenz curve of the binned data (equal incomes within a bin).
    pub fn gini(&self) -> f64 {
        let n: f64 = self.count.iter().sum();
        let s: f64 = self.sum.iter().sum();
        if n <= 0.0 || s <= 0.0 {
            return f64::NAN;
        }
        // Area under the Lorenz curve by trapezoids over bins.
        let (mut cum_l, mut area) = (0.0, 0.0);
        for b in 0..BINS {
            if self.count[b] == 0.0 {
                continue;
            }
            let p = self.count[b] / n;
            let l = self.sum[b] / s;
            area += p * (2.0 * cum_l + l) / 2.0;
            cum_l += l;
        }
        1.0 - 2.0 * area
    }
}

/// What one block of households did in one tick (simulated-household units).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockAcc {
    /// Households.
    pub n: f64,
    /// Persons.
    pub persons: f64,
    /// Working-age members.
    pub workers: f64,
    /// Poor at the end of the tick.
    pub poor: f64,
    /// Σ poverty gap ratio.
    pub gap: f64,
    /// Σ squared poverty gap ratio.
    pub gap2: f64,
    /// Non-poor at the end of the tick.
    pub nonpoor: f64,
    /// Poor (never exited or relapsed) at the start of the tick.
    pub poor_start: f64,
    /// Exited (at risk of relapse) at the start of the tick.
    pub exited_start: f64,
    /// Never poor at the start of the tick.
    pub never_poor_start: f64,
    /// Exits this tick.
    pub exits: f64,
    /// Relapses this tick.
    pub relapses: f64,
    /// New entries (never poor → poor) this tick.
    pub entries: f64,
    /// Relapse events since tick 0 (carried across ticks by the region's state and set
    /// after the block merge; real scale in region and aggregate accumulators).
    pub relapses_cum: f64,
    /// Exited households at risk at the year-end assessment, by years since their exit
    /// (index `k − 1` for `k = 1..=`[`EXIT_YEARS`]).
    pub exit_at_risk: [f64; EXIT_YEARS],
    /// Of those, the households that relapsed at the assessment.
    pub exit_relapses: [f64; EXIT_YEARS],
    /// Of `relapses`, those registered (by the monitoring when it runs, else all).
    pub registered_relapses: f64,
    /// Households identified as at risk by the monitoring at the end of the tick.
    pub monitored: f64,
    /// Households newly identified this tick.
    pub identified: f64,
    /// Households removed from risk this tick.
    pub removed: f64,
    /// Households that have ever exited.
    pub ever_exited: f64,
    /// Households that have ever relapsed.
    pub ever_relapsed: f64,
    /// Vulnerable non-poor households.
    pub vulnerable: f64,
    /// Σ vulnerability probability over non-poor households.
    pub vuln_sum: f64,
    /// Σ trailing per-capita income.
    pub income: f64,
    /// Σ y ln y of trailing per-capita income (Theil).
    pub income_ylny: f64,
    /// Income histogram.
    pub hist: Histogram,
    /// Households' own income (trailing income less the dibao) at the dibao means test;
    /// filled on means-test ticks only.
    pub own_hist: Histogram,
    /// Σ income components this tick (household totals, see [`COMPONENTS`]).
    pub components: [f64; COMPONENTS.len()],
    /// Σ pension contributions and medical insurance premiums paid this tick.
    pub contributions: f64,
    /// Members at or above the retirement age.
    pub elders: f64,
    /// Σ medical costs incurred.
    pub medical: f64,
    /// Σ medical costs covered by health services.
    pub medical_covered: f64,
    /// Σ medical costs (claims on health services).
    pub medical_claims: f64,
    /// Σ shortfalls below the line of shocked households (claims on the reserve).
    pub reserve_claims: f64,
    /// Σ shares of the tick households were hit by illness or a disaster (`shocked`).
    pub shocked: f64,
    /// Households covered by the anti-return insurance this tick.
    pub insured: f64,
    /// Persons in them (the premium's base).
    pub insured_persons: f64,
    /// Workers in local jobs.
    pub local: f64,
    /// Migrant workers.
    pub migrants: f64,
    /// Workers on welfare posts.
    pub posts: f64,
    /// Σ skill×effort of idle workers before matching.
    pub seekers_se: f64,
    /// Idle workers of eligible households before matching.
    pub post_seekers: f64,
    /// Non-migrant workers (training-eligible).
    pub train_eligible: f64,
    /// Workers placed east through labour cooperation this tick.
    pub placed: f64,
    /// Placed migrants at the end of the tick (the stock, ODD §7.4 step 8).
    pub placed_stock: f64,
    /// Σ tenure of placed migrants at the end of the tick, years.
    pub placed_tenure: f64,
    /// Σ age of members working away at the end of the tick.
    pub away_age: f64,
    /// Σ age of members in local jobs at the end of the tick.
    pub local_age: f64,
    /// Σ skill of members in local jobs at the end of the tick.
    pub local_skill: f64,
    /// Workers who migrated on their own.
    pub migrated: f64,
    /// Migrants who returned.
    pub returned: f64,
    /// Households with a worker trained.
    pub trained: f64,
    /// Σ farm output value this tick.
    pub farm_value: f64,
    /// Σ household mean skill.
    pub skill: f64,
    /// Σ effort.
    pub effort: f64,
    /// Σ savings.
    pub savings: f64,
    /// Households eligible for transfers next tick.
    pub eligible_next: f64,
    /// Households at risk next tick (poor or vulnerable).
    pub at_risk_next: f64,
    /// Member (ever-poor) households next tick.
    pub members_next: f64,
    /// Households receiving the dibao (after this tick's means test, if any).
    pub dibao_recipients: f64,
}

macro_rules! zero_fields {
    ($self:ident; $($f:ident),*) => { $( $self.$f = 0.0; )* };
}

macro_rules! add_fields {
    ($self:ident, $o:ident, $w:ident; $($f:ident),*) => { $( $self.$f += $w * $o.$f; )* };
}

impl BlockAcc {
    /// Zeroes the accumulator, keeping its allocation.
    pub fn reset(&mut self) {
        zero_fields!(self; n, persons, workers, poor, gap, gap2, nonpoor, poor_start,
            exited_start, never_poor_start, exits, relapses, relapses_cum, entries, ever_exited, ever_relapsed,
            registered_relapses, monitored, identified, removed,
            vulnerable, vuln_sum, income, income_ylny, medical, medical_covered, medical_claims,
            reserve_claims, shocked, insured, insured_persons, local, migrants, posts, seekers_se, post_seekers, train_eligible,
            placed, migrated, returned, trained, farm_value, skill, effort, savings,
            eligible_next, at_risk_next, members_next, dibao_recipients, contributions,
            elders, placed_stock, placed_tenure, away_age, local_age, local_skill);
        self.components = [0.0; COMPONENTS.len()];
        self.exit_at_risk = [0.0; EXIT_YEARS];
        self.exit_relapses = [0.0; EXIT_YEARS];
        self.hist.clear();
        self.own_hist.clear();
    }

    /// Adds `o` with weight `w` (the region's sampling weight when aggregating to real scale).
    pub fn merge(&mut self, o: &BlockAcc, w: f64) {
        add_fields!(self, o, w; n, persons, workers, poor, gap, gap2, nonpoor, poor_start,
            exited_start, never_poor_start, exits, relapses, relapses_cum, entries, ever_exited, ever_relapsed,
            registered_relapses, monitored, identified, removed,
            vulnerable, vuln_sum, income, income_ylny, medical, medical_covered, medical_claims,
            reserve_claims, shocked, insured, insured_persons, local, migrants, posts, seekers_se, post_seekers, train_eligible,
            placed, migrated, returned, trained, farm_value, skill, effort, savings,
            eligible_next, at_risk_next, members_next, dibao_recipients, contributions,
            elders, placed_stock, placed_tenure, away_age, local_age, local_skill);
        for i in 0..self.components.len() {
            self.components[i] += w * o.components[i];
        }
        for k in 0..EXIT_YEARS {
            self.exit_at_risk[k] += w * o.exit_at_risk[k];
            self.exit_relapses[k] += w * o.exit_relapses[k];
        }
        self.hist.merge(&o.hist, w);
        self.own_hist.merge(&o.own_hist, w);
    }

    /// Mean trailing per-capita income.
    pub fn mean_income(&self) -> f64 {
        ratio(self.income, self.n)
    }

    /// Period (life-table) survival of exits to `years` years after the exit: the product
    /// over duration years `k = 1..=years` of `1 − relapses_k / at_risk_k`, from this
    /// assessment's duration-specific relapse hazards (the share of a cohort of exits that
    /// would still be out of poverty after `years` years if those hazards held). NaN when
    /// some duration year has nobody at risk (always, outside the year-end assessment).
    pub fn exit_survival(&self, years: usize) -> f64 {
        let mut s = 1.0;
        for k in 0..years.min(EXIT_YEARS) {
            let n = self.exit_at_risk[k];
            if n <= 0.0 {
                return f64::NAN;
            }
            s *= 1.0 - self.exit_relapses[k] / n;
        }
        s
    }

    /// Theil T index: (Σ y ln y)/(N μ) − ln μ.
    pub fn theil(&self) -> f64 {
        let mu = self.mean_income();
        if mu.is_nan() || mu <= 0.0 {
            return f64::NAN;
        }
        self.income_ylny / (self.n * mu) - mu.ln()
    }
}

/// `a / b`, or 0 when `b` is 0.
#[inline]
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// `a / b`, or NaN (undefined) when `b` is 0: used for transition rates, which have no
/// meaning when nobody is at risk (e.g. relapse before anyone has exited).
#[inline]
pub fn defined(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_of_equal_incomes_is_zero_and_of_unequal_is_positive() {
        let mut h = Histogram::default();
        for _ in 0..100 {
            h.add(5000.0);
        }
        assert!(h.gini().abs() < 1e-9);
        let mut h2 = Histogram::default();
        for i in 1..=1000 {
            h2.add(i as f64 * 100.0);
        }
        // Uniform on [100, 100000]: Gini = 1/3.
        assert!((h2.gini() - 1.0 / 3.0).abs() < 0.01, "{}", h2.gini());
    }

    #[test]
    fn median_is_close() {
        let mut h = Histogram::default();
        for i in 1..=999 {
            h.add(i as f64 * 10.0);
        }
        let m = h.median();
        assert!((m / 5000.0 - 1.0).abs() < 0.02, "{m}");
    }

    #[test]
    fn exit_survival_is_the_product_of_duration_hazards() {
        let mut a = BlockAcc::default();
        assert!(a.exit_survival(1).is_nan());
        a.exit_at_risk = [100.0, 50.0, 40.0, 0.0, 0.0];
        a.exit_relapses = [20.0, 5.0, 2.0, 0.0, 0.0];
        assert!((a.exit_survival(1) - 0.8).abs() < 1e-12);
        assert!((a.exit_survival(3) - 0.8 * 0.9 * 0.95).abs() < 1e-12);
        // Nobody at risk four years after an exit: the five-year survival is undefined.
        assert!(a.exit_survival(5).is_nan());
        // Merging weights both counts, so the hazards (and the survival) do not move.
        let mut b = BlockAcc::default();
        b.merge(&a, 3.0);
        assert_eq!(b.exit_survival(3), a.exit_survival(3));
        b.reset();
        assert_eq!(b, BlockAcc::default());
    }

    #[test]
    fn reset_zeroes_everything() {
        let mut a = BlockAcc {
            n: 3.0,
            members_next: 1.0,
            ..BlockAcc::default()
        };
        a.components[4] = 2.0;
        a.hist.add(5000.0);
        a.reset();
        assert_eq!(a, BlockAcc::default());
    }
}
