//! Poverty, return-to-poverty, vulnerability and inequality measures, and the `Recorder`
//! through which the engine reports them. Pure arithmetic: no I/O, no formatting.

use crate::config::Side;
use crate::time::Tick;

/// Income components, in the order of [`BlockAcc::components`].
pub const COMPONENTS: [&str; 9] = [
    "farm",
    "procurement",
    "wage",
    "welfare_post",
    "remittance",
    "transfer",
    "dividend",
    "social",
    "reserve",
];

/// Components that count as transfer (dependency) income: transfers, social cash, reserve.
pub const TRANSFER_COMPONENTS: [usize; 3] = [5, 7, 8];

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

    /// Median by linear interpolation of the log-income within the median bin.
    pub fn median(&self) -> f64 {
        let total: f64 = self.count.iter().sum();
        if total <= 0.0 {
            return f64::NAN;
        }
        let half = total / 2.0;
        let mut cum = 0.0;
        for b in 0..BINS {
            let c = self.count[b];
            if cum + c >= half && c > 0.0 {
                let frac = (half - cum) / c;
                let w = (LN_HI - LN_LO) / BINS as f64;
                return (LN_LO + w * (b as f64 + frac)).exp();
            }
            cum += c;
        }
        f64::NAN
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
    /// Σ income components this tick (household totals, see [`COMPONENTS`]).
    pub components: [f64; 9],
    /// Σ medical costs incurred.
    pub medical: f64,
    /// Σ medical costs covered by health services.
    pub medical_covered: f64,
    /// Σ medical costs (claims on health services).
    pub medical_claims: f64,
    /// Σ shortfalls below the line of shocked households (claims on the reserve).
    pub reserve_claims: f64,
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
    /// Workers placed east through labour cooperation.
    pub placed: f64,
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
            exited_start, never_poor_start, exits, relapses, entries, ever_exited, ever_relapsed,
            vulnerable, vuln_sum, income, income_ylny, medical, medical_covered, medical_claims,
            reserve_claims, local, migrants, posts, seekers_se, post_seekers, train_eligible,
            placed, migrated, returned, trained, farm_value, skill, effort, savings,
            eligible_next, at_risk_next, members_next);
        self.components = [0.0; 9];
        self.hist.clear();
    }

    /// Adds `o` with weight `w` (the region's sampling weight when aggregating to real scale).
    pub fn merge(&mut self, o: &BlockAcc, w: f64) {
        add_fields!(self, o, w; n, persons, workers, poor, gap, gap2, nonpoor, poor_start,
            exited_start, never_poor_start, exits, relapses, entries, ever_exited, ever_relapsed,
            vulnerable, vuln_sum, income, income_ylny, medical, medical_covered, medical_claims,
            reserve_claims, local, migrants, posts, seekers_se, post_seekers, train_eligible,
            placed, migrated, returned, trained, farm_value, skill, effort, savings,
            eligible_next, at_risk_next, members_next);
        for i in 0..self.components.len() {
            self.components[i] += w * o.components[i];
        }
        self.hist.merge(&o.hist, w);
    }

    /// Mean trailing per-capita income.
    pub fn mean_income(&self) -> f64 {
        ratio(self.income, self.n)
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
    /// Share of this tick's income from transfers, social cash and reserve top-ups.
    pub transfer_income_share: f64,
    /// Share of each income component (see [`COMPONENTS`]).
    pub component_shares: [f64; 9],
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
}

impl Measures {
    /// Computes the measures of a real-scale accumulator.
    pub fn from_acc(a: &BlockAcc) -> Measures {
        let total: f64 = a.components.iter().sum();
        let mut shares = [0.0; 9];
        for (s, c) in shares.iter_mut().zip(a.components.iter()) {
            *s = ratio(*c, total);
        }
        let transfer: f64 = TRANSFER_COMPONENTS.iter().map(|&i| a.components[i]).sum();
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
            component_shares: shares,
            migrants: a.migrants,
            local_jobs: a.local,
            welfare_posts: a.posts,
            mean_skill: ratio(a.skill, a.n),
            mean_effort: ratio(a.effort, a.n),
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

/// Flow kinds along a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flow {
    /// Money.
    Capital,
    /// Workers.
    Labour,
    /// Person-months of cadres and technicians.
    Talent,
    /// Value of goods.
    Products,
}

impl Flow {
    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Capital => "capital",
            Flow::Labour => "labour",
            Flow::Talent => "talent",
            Flow::Products => "products",
        }
    }

    /// Unit in outputs.
    pub fn unit(self) -> &'static str {
        match self {
            Flow::Capital | Flow::Products => "yuan",
            Flow::Labour => "workers",
            Flow::Talent => "person_months",
        }
    }
}

/// Direction of a flow along a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// East to west.
    EastToWest,
    /// West to east.
    WestToEast,
}

impl Direction {
    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::EastToWest => "east_to_west",
            Direction::WestToEast => "west_to_east",
        }
    }
}

/// One recorded flow channel (each has a fixed flow kind and direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// Fiscal aid, government to government.
    FiscalAid,
    /// Social donations.
    Donations,
    /// Eastern firm investment.
    Investment,
    /// Profits repatriated by eastern firms.
    Profits,
    /// Capital withdrawn by exiting eastern firms.
    Disinvestment,
    /// Western workers placed east through labour cooperation (new placements).
    Placements,
    /// Western workers migrated on their own (new, attributed to links by share).
    Migration,
    /// Migrants returning home.
    Returns,
    /// Stock of western migrants in the east.
    MigrantStock,
    /// Remittances migrants in the east send home (money moves east → west).
    Remittances,
    /// Cadres and technicians sent east → west.
    TalentToWest,
    /// Western cadres seconded west → east.
    TalentToEast,
    /// Consumption-aid procurement by eastern buyers.
    Procurement,
    /// Farm produce sold in eastern markets through market channels.
    MarketSales,
    /// Output of western firms sold in eastern markets.
    FirmSales,
}

impl Channel {
    /// Every channel, in output order.
    pub const ALL: [Channel; 15] = [
        Channel::FiscalAid,
        Channel::Donations,
        Channel::Investment,
        Channel::Profits,
        Channel::Disinvestment,
        Channel::Placements,
        Channel::Migration,
        Channel::Returns,
        Channel::MigrantStock,
        Channel::Remittances,
        Channel::TalentToWest,
        Channel::TalentToEast,
        Channel::Procurement,
        Channel::MarketSales,
        Channel::FirmSales,
    ];

    /// Flow kind and direction of the channel.
    pub fn kind(self) -> (Flow, Direction) {
        use Direction::*;
        match self {
            Channel::FiscalAid
            | Channel::Donations
            | Channel::Investment
            | Channel::Remittances => (Flow::Capital, EastToWest),
            Channel::Profits | Channel::Disinvestment => (Flow::Capital, WestToEast),
            Channel::Placements | Channel::Migration | Channel::MigrantStock => {
                (Flow::Labour, WestToEast)
            }
            Channel::Returns => (Flow::Labour, EastToWest),
            Channel::TalentToWest => (Flow::Talent, EastToWest),
            Channel::TalentToEast => (Flow::Talent, WestToEast),
            Channel::Procurement | Channel::MarketSales | Channel::FirmSales => {
                (Flow::Products, WestToEast)
            }
        }
    }

    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::FiscalAid => "fiscal_aid",
            Channel::Donations => "donations",
            Channel::Investment => "investment",
            Channel::Profits => "profits",
            Channel::Disinvestment => "disinvestment",
            Channel::Placements => "placements",
            Channel::Migration => "migration",
            Channel::Returns => "returns",
            Channel::MigrantStock => "migrant_stock",
            Channel::Remittances => "remittances",
            Channel::TalentToWest => "talent_to_west",
            Channel::TalentToEast => "talent_to_east",
            Channel::Procurement => "procurement",
            Channel::MarketSales => "market_sales",
            Channel::FirmSales => "firm_sales",
        }
    }
}

/// Per-link state reported each tick alongside flows (eastern gains and assessment).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkReport {
    /// Share of committed inputs delivered.
    pub delivery: f64,
    /// Eastern firms from this link's east region operating in its west region.
    pub east_firms: f64,
    /// Capital of those firms (yuan).
    pub east_firm_capital: f64,
    /// Their mean annualised return on capital.
    pub east_firm_return: f64,
    /// Labour demand through cooperation filled by western migrants (share).
    pub labour_filled: f64,
}

/// Where the engine reports what happened. Implemented outside the core (output layer,
/// tests); every method has a default that ignores the report.
pub trait Recorder {
    /// Measures of one scope at tick `t` (called for every region, each side and all).
    fn measures(&mut self, _t: Tick, _scope: Scope, _m: &Measures, _sys: Option<&SystemMeasures>) {}
    /// One flow along link `link` at tick `t` (real-scale amount).
    fn flow(&mut self, _t: Tick, _link: usize, _channel: Channel, _amount: f64) {}
    /// Link-level report at tick `t`.
    fn link(&mut self, _t: Tick, _link: usize, _r: &LinkReport) {}
    /// Whether the recorder wants the yearly household panel (called once per year end).
    fn wants_panel(&self) -> bool {
        false
    }
    /// The household population at a year end (only if `wants_panel`).
    fn panel(&mut self, _t: Tick, _households: &[crate::agents::household::Household]) {}
}

/// A recorder that ignores everything (benchmarks).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullRecorder;

impl Recorder for NullRecorder {}

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
    fn money_flows_point_the_way_money_moves() {
        assert_eq!(
            Channel::Remittances.kind(),
            (Flow::Capital, Direction::EastToWest)
        );
        assert_eq!(
            Channel::Profits.kind(),
            (Flow::Capital, Direction::WestToEast)
        );
        assert_eq!(
            Channel::FiscalAid.kind(),
            (Flow::Capital, Direction::EastToWest)
        );
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
