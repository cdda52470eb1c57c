//! The schema of scenario keys: one declarative table giving, for every key a scenario file
//! may set, its type, default, unit, allowed range and a one-line description.
//!
//! It is the single source of these facts: the parameter structs of [`crate::model::config`]
//! take their defaults from it, `scenario::validate` checks ranges against it, `xiezuo keys`
//! prints it, and a test holds `docs/ODD.md` §7.10 to it. Pure data: no I/O.
//!
//! Keys inside arrays are written with the array's name and no index (`region.weight`,
//! `link.channels.fiscal_aid`, `phase.scales.market`, `shock.severity`).
//!
//! Bounds are plausibility bounds as well as validity bounds: every accepted value runs in
//! bounded memory and time and gives finite outputs (money up to 10¹² yuan a year per link,
//! wages up to 10⁶ yuan a year, weights up to 10⁶ real households per simulated one).

/// The type of a key's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A real number.
    Number,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Bool,
    /// Free text.
    Text,
    /// A month, `"YYYY-MM"`.
    Date,
    /// One of a fixed list of names.
    Choice(&'static [&'static str]),
    /// A list of region names.
    Regions,
    /// A table of other keys.
    Table,
}

impl Kind {
    /// Short name for tables and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Number => "number",
            Kind::Integer => "integer",
            Kind::Bool => "bool",
            Kind::Text => "string",
            Kind::Date => "date",
            Kind::Choice(_) => "choice",
            Kind::Regions => "region names",
            Kind::Table => "table",
        }
    }
}

/// A key's default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Default {
    /// The scenario must set it.
    Required,
    /// A number (also used for whole numbers).
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A text value.
    Text(&'static str),
    /// Absent unless set; the text says what absence means.
    Absent(&'static str),
}

/// One key of the scenario format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeySpec {
    /// Dotted path, array elements without index (`region.weight`).
    pub key: &'static str,
    /// Type of the value.
    pub kind: Kind,
    /// Default.
    pub default: Default,
    /// Unit or meaning of the number.
    pub unit: &'static str,
    /// Smallest allowed value (numbers), if any.
    pub min: Option<f64>,
    /// Largest allowed value (numbers), if any.
    pub max: Option<f64>,
    /// Whether `min` itself is excluded (`> min`).
    pub min_open: bool,
    /// A rule the range alone does not say (checked by the validator), or "".
    pub rule: &'static str,
    /// One-line description.
    pub doc: &'static str,
}

impl KeySpec {
    /// The allowed values as text: the range (`[0, 1]`, `> 0`, `(0, 1e6]`), the choices,
    /// and any further rule.
    pub fn allowed(&self) -> String {
        let mut s = match self.kind {
            Kind::Choice(names) => names.join(" \\| "),
            _ => match (self.min, self.max) {
                (Some(lo), Some(hi)) => format!(
                    "{}{}, {}]",
                    if self.min_open { "(" } else { "[" },
                    fmt_num(lo),
                    fmt_num(hi)
                ),
                (Some(lo), None) => {
                    format!("{} {}", if self.min_open { ">" } else { "≥" }, fmt_num(lo))
                }
                (None, Some(hi)) => format!("≤ {}", fmt_num(hi)),
                (None, None) => String::new(),
            },
        };
        if !self.rule.is_empty() {
            if !s.is_empty() {
                s.push_str("; ");
            }
            s.push_str(self.rule);
        }
        s
    }

    /// The default as text.
    pub fn default_text(&self) -> String {
        match self.default {
            Default::Required => "required".into(),
            Default::Number(v) => fmt_num(v),
            Default::Bool(b) => b.to_string(),
            Default::Text(t) => format!("`\"{t}\"`"),
            Default::Absent(what) => what.into(),
        }
    }

    /// Whether `v` is inside the key's static range.
    pub fn admits(&self, v: f64) -> bool {
        v.is_finite()
            && self
                .min
                .is_none_or(|lo| if self.min_open { v > lo } else { v >= lo })
            && self.max.is_none_or(|hi| v <= hi)
    }

    /// The row of this key in the Markdown table of ODD §7.10 (and `xiezuo keys --markdown`).
    pub fn markdown_row(&self) -> String {
        format!(
            "| `{}` | {} | {} | {} | {} |",
            self.key,
            self.default_text(),
            self.unit,
            self.allowed(),
            self.doc
        )
    }
}

/// Formats a number for tables: whole numbers below a million with thousands separators,
/// larger powers of ten as `1e12`, others as the shortest decimal.
pub fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if a >= 1e6 {
        let e = a.log10().floor() as i32;
        let m = v / 10f64.powi(e);
        let m = (m * 1000.0).round() / 1000.0;
        return format!("{m}e{e}");
    }
    if v.fract() == 0.0 {
        let i = a as u64;
        let digits = i.to_string();
        let mut out = String::new();
        for (k, ch) in digits.chars().enumerate() {
            if k > 0 && (digits.len() - k) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        return if v < 0.0 { format!("−{out}") } else { out };
    }
    let s = format!("{v}");
    s.replace('-', "−")
}

const fn spec(key: &'static str, kind: Kind, default: Default, unit: &'static str) -> KeySpec {
    KeySpec {
        key,
        kind,
        default,
        unit,
        min: None,
        max: None,
        min_open: false,
        rule: "",
        doc: "",
    }
}

impl KeySpec {
    const fn range(mut self, lo: f64, hi: f64) -> Self {
        self.min = Some(lo);
        self.max = Some(hi);
        self
    }
    const fn above(mut self, lo: f64, hi: f64) -> Self {
        self.min = Some(lo);
        self.max = Some(hi);
        self.min_open = true;
        self
    }
    const fn rule(mut self, rule: &'static str) -> Self {
        self.rule = rule;
        self
    }
    const fn doc(mut self, doc: &'static str) -> Self {
        self.doc = doc;
        self
    }
}

/// A number with a default.
const fn num(key: &'static str, d: f64, unit: &'static str) -> KeySpec {
    spec(key, Kind::Number, Default::Number(d), unit)
}
/// A required number.
const fn req(key: &'static str, unit: &'static str) -> KeySpec {
    spec(key, Kind::Number, Default::Required, unit)
}
/// A whole number with a default.
const fn int(key: &'static str, d: f64, unit: &'static str) -> KeySpec {
    spec(key, Kind::Integer, Default::Number(d), unit)
}
/// A share or probability in [0, 1] with a default.
const fn share(key: &'static str, d: f64, unit: &'static str) -> KeySpec {
    num(key, d, unit).range(0.0, 1.0)
}
/// A phase multiplier in [0, 100], default 1.
const fn scale(key: &'static str, doc: &'static str) -> KeySpec {
    num(key, 1.0, "multiplier").range(0.0, 100.0).doc(doc)
}

/// Upper bound on money amounts per year along one link or of one parameter, yuan.
pub const MAX_MONEY: f64 = 1e12;
/// Upper bound on wages and incomes, yuan per person or worker per year.
pub const MAX_WAGE: f64 = 1e6;
/// Upper bound on a region's sampling weight (real households per simulated household).
pub const MAX_WEIGHT: f64 = 1e6;
/// Upper bound on a region's simulated households.
pub const MAX_REGION_HOUSEHOLDS: f64 = 50_000_000.0;
/// Upper bound on simulated households over all regions of a scenario.
pub const MAX_TOTAL_HOUSEHOLDS: u64 = 100_000_000;

/// Allowed time steps.
pub const STEPS: &[&str] = &["month", "quarter", "year"];
/// Allowed sides.
pub const SIDES: &[&str] = &["east", "west"];
/// Allowed values of `protection.insurance_scope`.
pub const INSURANCE_SCOPES: &[&str] = &["registered", "all"];
/// Allowed values of `protection.registration`.
pub const REGISTRATIONS: &[&str] = &["identified", "after_help"];
/// Allowed values of `centre.protective_use`.
pub const PROTECTIVE_USES: &[&str] = &["reserve", "transfers", "both"];
/// Allowed values of `social.targeting`.
pub const SOCIAL_TARGETS: &[&str] = &["at_risk", "shocked"];
/// Allowed shock kinds.
pub const SHOCKS: &[&str] = &["pandemic", "price_collapse", "disaster"];

/// Every key of the scenario format, grouped as in ODD §7.10.
pub const KEYS: &[KeySpec] = &[
    // 7.10.1 Top level, time and run.
    spec("name", Kind::Text, Default::Required, "string")
        .rule("1–64 characters; letters (any script), digits, space and `_ - . ' ( ) + · （ ） 、 &`; not only dots")
        .doc("Scenario name: labels outputs and names the scenario's folder in `compare`"),
    int("format", 2.0, "scenario format version")
        .range(1.0, 2.0)
        .doc("Format the file was written for; an older one loads with a note of what changed"),
    spec("description", Kind::Text, Default::Text(""), "string").doc("Free text"),
    spec("extends", Kind::Text, Default::Absent("none"), "file or `builtin:NAME`")
        .doc("Start from another scenario and override its keys (built-ins first when included from a built-in)"),
    spec("time.start", Kind::Date, Default::Required, "`\"YYYY-MM\"` or `\"YYYY\"`")
        .rule("year 1900–2200")
        .doc("First month simulated (tick 0)"),
    spec("time.years", Kind::Integer, Default::Required, "years")
        .range(1.0, 200.0)
        .doc("Horizon"),
    spec("time.step", Kind::Choice(STEPS), Default::Text("month"), "tick length")
        .doc("Length of a tick"),
    int("time.burn_in_years", 2.0, "years")
        .range(0.0, 50.0)
        .doc("Household dynamics run this long before tick 0, with no cooperation"),
    int("run.seed", 1.0, "u64")
        .doc("Master seed (`--seed` replaces it; `scenario.resolved.toml` records the one used)"),
    int("run.replicates", 5.0, "runs")
        .range(1.0, 10_000.0)
        .doc("Replicates used by `compare`"),
    spec("defaults.east", Kind::Table, Default::Absent("none"), "table of region keys")
        .doc("Keys copied into every eastern region that lacks them"),
    spec("defaults.west", Kind::Table, Default::Absent("none"), "table of region keys")
        .doc("Keys copied into every western region that lacks them"),
    // 7.10.2 Regions.
    spec("region.name", Kind::Text, Default::Required, "string")
        .rule("1–64 characters as for `name`; unique; not `ALL`, `EAST` or `WEST` (the aggregate rows)")
        .doc("Region name"),
    spec("region.side", Kind::Choice(SIDES), Default::Required, "side")
        .doc("Richer, aid-giving east or poorer, aid-receiving west"),
    spec("region.households", Kind::Integer, Default::Required, "simulated households")
        .range(1.0, MAX_REGION_HOUSEHOLDS)
        .rule("at most 100,000,000 over all regions")
        .doc("Simulated households of the region"),
    num("region.weight", 1.0, "real households per simulated household")
        .above(0.0, MAX_WEIGHT)
        .doc("Sampling weight"),
    num("region.household_size", 3.2, "mean persons")
        .range(1.0, 8.0)
        .doc("Sizes are 1 + Poisson(mean − 1), capped at 8"),
    num("region.workers_per_household", 1.8, "mean members aged 16–59")
        .range(1.0, 8.0)
        .rule("at most `household_size`")
        .doc("Workers are 1 + Binomial, capped by size"),
    req("region.income_median", "yuan/person/year")
        .above(0.0, MAX_WAGE)
        .doc("Median initial per-capita income (2020 prices)"),
    num("region.income_sigma", 0.55, "log sd")
        .range(0.0, 3.0)
        .doc("Dispersion of initial income"),
    num("region.migrants_per_100", 15.0, "per 100 workers")
        .range(0.0, 100.0)
        .rule("at most 100 − `local_jobs_per_100`")
        .doc("Workers who are migrants in the east at the start"),
    num("region.local_jobs_per_100", 10.0, "per 100 workers")
        .range(0.0, 100.0)
        .doc("Local firm jobs at the start"),
    req("region.wage", "yuan/worker/year at skill 1")
        .range(0.0, MAX_WAGE)
        .doc("Local wage"),
    num("region.migrant_wage_month", 4541.0, "yuan/month at skill 1")
        .range(0.0, MAX_WAGE / 12.0)
        .doc("Wage a migrant from this region earns in the east"),
    spec("region.base_migration", Kind::Number, Default::Absent("the steady-state rate of the initial migrant stock (ODD §7.2)"), "per year")
        .range(0.0, 1.0)
        .doc("Probability that an idle worker migrates on their own"),
    share("region.credibility", 0.6, "share")
        .doc("Share of promised firm incentives the local government delivers"),
    share("region.infrastructure", 0.4, "index").doc("Initial infrastructure index"),
    share("region.digital_access", 0.3, "index")
        .doc("Digital access (scales market reach by 0.5 + 0.5 · it)"),
    share("region.transport_cost", 0.15, "share of exported value")
        .doc("Transport cost to eastern markets"),
    num("region.labour_productivity", 1.6, "value added per worker / wage")
        .above(0.0, 100.0)
        .doc("Value added per local firm worker relative to the wage"),
    num("region.growth", 0.0, "per year")
        .range(-0.5, 0.5)
        .doc("Real background growth of farm output and wages (local and migrant). Calibrated scenarios: 0.061, national rural disposable income 2016–2020 (+8.5% a year nominal, NBS, BRIEF §7) deflated by the CPI (+2.3% a year, NBS)"),
    // 7.10.3 Links.
    spec("link.east", Kind::Text, Default::Required, "region name")
        .rule("an eastern region")
        .doc("Giving side of the pairing"),
    spec("link.west", Kind::Text, Default::Required, "region name")
        .rule("a western region")
        .doc("Receiving side of the pairing"),
    spec("link.start", Kind::Date, Default::Absent("`time.start`"), "`YYYY-MM`")
        .rule("inside the horizon")
        .doc("First month the link operates"),
    spec("link.end", Kind::Date, Default::Absent("none (horizon)"), "`YYYY-MM`, exclusive")
        .rule("after `start`")
        .doc("First month the link no longer operates"),
    num("link.channels.fiscal_aid", 0.0, "yuan/year")
        .range(0.0, MAX_MONEY)
        .doc("Fiscal aid, eastern to western government"),
    num("link.channels.social_donations", 0.0, "yuan/year")
        .range(0.0, MAX_MONEY)
        .doc("Donations of charities, firms and volunteers"),
    num("link.channels.procurement", 0.0, "yuan/year")
        .range(0.0, MAX_MONEY)
        .doc("Consumption-aid purchases of western products (extra revenue over farm value)"),
    share("link.channels.market_access", 0.0, "share of farm produce")
        .doc("Share of western farm produce reaching eastern markets"),
    num("link.channels.labour_demand", 0.0, "workers (stock)")
        .range(0.0, 1e8)
        .doc("Eastern jobs offered to western workers through labour cooperation"),
    num("link.channels.training_places", 0.0, "trainees/year")
        .range(0.0, 1e8)
        .doc("Training places funded by the eastern side"),
    num("link.channels.talent_to_west", 0.0, "person-months/year")
        .range(0.0, 1e8)
        .doc("Cadres and technicians sent east → west"),
    num("link.channels.talent_to_east", 0.0, "person-months/year")
        .range(0.0, 1e8)
        .doc("Western cadres seconded west → east"),
    num("link.channels.firm_mobilisation", 0.0, "candidate firms/year")
        .range(0.0, 1e5)
        .doc("Eastern firms the eastern government mobilises to consider investing"),
    // 7.10.4 Phases and shocks.
    spec("phase.name", Kind::Text, Default::Required, "string").doc("Phase name shown in outputs"),
    spec("phase.start", Kind::Date, Default::Required, "`YYYY-MM`")
        .rule("inside the horizon")
        .doc("First month of the phase (it lasts until the next phase)"),
    scale("phase.scales.fiscal_aid", "Multiplies `fiscal_aid`"),
    scale("phase.scales.social", "Multiplies `social_donations`"),
    scale("phase.scales.procurement", "Multiplies `procurement`"),
    scale("phase.scales.market", "Multiplies `market_access`"),
    scale("phase.scales.labour", "Multiplies `labour_demand`"),
    scale("phase.scales.training", "Multiplies `training_places`"),
    scale("phase.scales.talent", "Multiplies both talent channels"),
    scale("phase.scales.firms", "Multiplies `firm_mobilisation`"),
    scale("phase.scales.incentives", "Multiplies `policy.promised_incentive` (tax, land and finance incentives to eastern plants; a policy cliff can cut them, 004)"),
    spec("shock.kind", Kind::Choice(SHOCKS), Default::Required, "kind")
        .doc("Pandemic (migrants return, demand falls), price collapse, or disaster"),
    spec("shock.start", Kind::Date, Default::Required, "`YYYY-MM`")
        .rule("inside the horizon")
        .doc("First month of the shock"),
    int("shock.months", 6.0, "months (rounded up to whole ticks)")
        .range(1.0, 2400.0)
        .doc("Duration"),
    req("shock.severity", "share").range(0.0, 1.0).doc("Severity"),
    spec("shock.regions", Kind::Regions, Default::Absent("all western regions"), "region names")
        .rule("existing regions")
        .doc("Regions hit"),
    // 7.10.5 Parameter groups.
    num("poverty.line", 4000.0, "yuan/person/year (2,300 at 2010 prices)")
        .above(0.0, MAX_WAGE)
        .doc("Poverty line"),
    share("poverty.vulnerability_threshold", 0.5, "probability")
        .doc("A non-poor household is vulnerable above this probability of being poor"),
    num("poverty.memory_years", 2.0, "years")
        .range(0.1, 50.0)
        .doc("Memory of a household's own income mean and volatility"),
    share("policy.allocation.transfers", 0.4, "share of net aid")
        .rule("the six shares sum to 1 ± 1e−6")
        .doc("Cash transfers to registered-poor households"),
    share("policy.allocation.welfare_posts", 0.2, "share of net aid")
        .rule("the six shares sum to 1 ± 1e−6")
        .doc("Public-welfare posts (公益岗位)"),
    share("policy.allocation.industry", 0.2, "share of net aid")
        .rule("the six shares sum to 1 ± 1e−6")
        .doc("Collective industry projects (cooperatives)"),
    share("policy.allocation.training", 0.1, "share of net aid").rule("the six shares sum to 1 ± 1e−6")
        .doc("Vocational training"),
    share("policy.allocation.infrastructure", 0.1, "share of net aid")
        .rule("the six shares sum to 1 ± 1e−6")
        .doc("Roads, logistics, irrigation, digital"),
    share("policy.allocation.reserve", 0.0, "share of net aid")
        .rule("the six shares sum to 1 ± 1e−6")
        .doc("Anti-return-to-poverty reserve fund"),
    num("policy.supervision", 0.0, "share of new aid receipts")
        .range(0.0, 0.5)
        .doc("Spent on supervising the aid funds (资金监管: audits, a tracking platform, third-party checks, 002) before they are allocated; it lowers the leakage rate (ODD §7.3.4). 0 switches it off"),
    share("policy.supervision_effect", 0.3, "share of leakage")
        .doc("Largest proportional cut in leakage that supervision can buy: Olken (2007, JPE 115) found that raising the audit probability from 4% to 100% cut missing expenditure from 27.7% by about 8 points, 29%"),
    num("policy.supervision_half", 0.02, "share of new aid receipts")
        .range(1e-4, 0.5)
        .doc("Supervision spending at which leakage falls by half the largest cut (an estimate, uncalibrated)"),
    share("policy.leakage", 0.1, "share of available aid lost")
        .doc("Diversion and false claims"),
    num("policy.welfare_post_wage", 6000.0, "yuan/post/year")
        .above(0.0, MAX_WAGE)
        .doc("Wage of a public-welfare post"),
    num("policy.training_cost", 3000.0, "yuan per place")
        .above(0.0, 1e7)
        .doc("Cost of one training place"),
    num("policy.training_skill_gain", 0.15, "skill per course")
        .range(0.0, 5.0)
        .doc("Skill gained by the trained member from one course"),
    num("policy.infrastructure_cost", 2.0e5, "yuan per +0.01 per 1,000 real households")
        .above(0.0, MAX_MONEY)
        .doc("Cost of raising the infrastructure index"),
    num("policy.project_size", 2.0e6, "yuan per project")
        .range(1e4, MAX_MONEY)
        .doc("Size of one collective industry project"),
    share("policy.project_failure", 0.15, "probability")
        .doc("Probability that a collective project fails at launch (aborted, 烂尾), whatever its fit"),
    share("policy.project_mismatch", 0.0, "share of productivity")
        .doc("Project–need matching (000): a launched collective project's productivity is `1 − project_mismatch · (1 − knowledge) · U`, U uniform, where knowledge is what its region's partners know of local needs; badly matched projects make losses and close, and their capital is lost. 0 switches matching off (every project has productivity 1)"),
    spec("policy.joint_research", Kind::Bool, Default::Bool(false), "bool")
        .doc("Whether eastern governments run joint research and communication with their partners (联合调研, joint meetings, cadre exchange; 000): it builds each link's knowledge of local needs, at `costs.joint_research` per eastern region a year, shared among its partners"),
    share("policy.research_learning", 0.5, "share of the knowledge gap per year")
        .doc("Knowledge of local needs an eastern government's research gains a year with one partner; with `n` active partners each link gains `1/n` of it (effort spread over criss-cross pairings, 001); stylised, uncalibrated"),
    share("policy.knowledge_decay", 0.1, "per year, compounded per tick")
        .doc("Loss of a link's knowledge of local needs (cadres rotate, needs change); a new link starts with none, so re-pairing loses it; stylised, uncalibrated"),
    share("policy.guaranteed_return", 0.0, "per year, on initial capital")
        .doc("Benefit linkage: guaranteed return on collective capital paid to members"),
    share("policy.dividend_share", 0.0, "share of profit above the guarantee")
        .doc("Benefit linkage: share of cooperative profits paid to members"),
    share("policy.guarantee_pool", 0.1, "share of project money")
        .doc("Set aside as the cooperative's guarantee pool; the guaranteed return is paid from profit, then the pool, and fails when both fall short"),
    num("policy.support_years_after_exit", 1.0, "years")
        .range(0.0, 50.0)
        .doc("Years of transfer eligibility after exit"),
    share("policy.promised_incentive", 0.03, "share of capital per year")
        .doc("Incentives promised to eastern investors (tax, land, credit)"),
    share("households.dependency", 0.5, "effort per unit transfer share")
        .doc("Effort lost to dependency on transfers (等、靠、要)"),
    share("households.effort_adjust", 0.5, "share of the gap per year")
        .doc("Speed at which effort adjusts toward its target"),
    num("households.income_noise", 0.25, "coefficient of variation of a year's sum (§7.1)")
        .range(0.0, 2.0)
        .doc("Transitory farm-income shock"),
    share("households.illness_prob", 0.08, "per household-year").doc("Serious illness"),
    num("households.illness_cost", 0.3, "× annual household income")
        .range(0.0, 10.0)
        .doc("Medical cost of an illness (at least the line × size)"),
    num("households.illness_months", 3.0, "months")
        .range(0.0, 120.0)
        .doc("Months a sick worker cannot work"),
    share("households.disaster_prob", 0.05, "per household-year")
        .doc("Idiosyncratic farm disaster"),
    share("households.disaster_loss", 0.5, "share of farm output for a year")
        .doc("Farm output lost in a disaster"),
    share("households.saving_rate", 0.15, "share of income above the line")
        .doc("Saving out of income above the line"),
    share("households.skill_decay", 0.03, "per year, toward 1")
        .doc("Depreciation of unused skill"),
    share("households.remittance_share", 0.45, "share of migrant wage")
        .doc("Remittances sent home"),
    share("households.job_separation", 0.1, "per year").doc("Separation rate of local jobs"),
    share("households.migrant_return", 0.12, "per year").doc("Return rate of migrants"),
    num("households.first_year_separation", 1.0, "× the separation rate")
        .range(0.0, 20.0)
        .doc("Separation rate of a local job or a placement in its first year, relative to later years (turnover falls with tenure, Farber 1994); stylised, uncalibrated: 1 = tenure does not matter"),
    num("households.migration_age_gradient", 0.0, "per year of age")
        .range(-1.0, 1.0)
        .doc("γ: the migration propensity of a member of age a is e^{−γa}, normalised to mean 1 over the working ages"),
    num("firms.firm_capital", 2.0e7, "yuan per eastern firm")
        .range(1e4, MAX_MONEY)
        .doc("Capital an eastern firm brings"),
    num("firms.capital_per_job", 1.0e5, "yuan of capital per job")
        .range(1e3, 1e9)
        .doc("Jobs = capital / this"),
    share("firms.depreciation", 0.06, "per year").doc("Depreciation of firm capital"),
    num("firms.hurdle_return", 0.06, "per year")
        .range(-1.0, 1.0)
        .doc("Return eastern firms require"),
    num("firms.patience_years", 2.0, "years")
        .range(0.0, 50.0)
        .doc("Years below the hurdle before an eastern firm leaves"),
    num("firms.entry_slope", 40.0, "per unit return gap")
        .range(0.0, 1000.0)
        .doc("Slope of the entry decision in the expected-return gap"),
    num("firms.market_candidates", 1.0, "investors per active link-year")
        .range(0.0, 1e4)
        .doc("Eastern investors who consider a plant on market terms, without mobilisation (uncalibrated)"),
    share("firms.linked_profit_share", 0.1, "share of eastern firm profit")
        .doc("Paid to members under benefit linkage (`dividend_share > 0` or `guaranteed_return > 0`)"),
    num("firms.talent_productivity", 0.2, "per unit talent index")
        .range(0.0, 10.0)
        .doc("Firm productivity from talent"),
    num("firms.infra_productivity", 0.3, "per unit infrastructure gain")
        .range(0.0, 10.0)
        .doc("Firm productivity from infrastructure"),
    share("firms.export_share", 0.5, "share of output")
        .doc("Share of firm output sold in eastern markets"),
    num("firms.agglomeration", 0.0, "productivity gain of a full park")
        .range(0.0, 10.0)
        .doc("The eastern plants a link brings share one enclave park (飞地园区, 004): each plant's productivity is multiplied by `1 + agglomeration · n/(n + agglomeration_half)`, `n` the link's plants (suppliers, shared services and a labour pool). 0 switches it off (stylised, uncalibrated)"),
    num("firms.agglomeration_half", 5.0, "plants")
        .above(0.0, 1e6)
        .doc("Plants in a link's park that give half the agglomeration gain"),
    share("firms.productivity_persistence", 0.885, "per year")
        .doc("Persistence ρ of eastern plants' log productivity, AR(1): ρ = 0.885, σ = 0.15 for plants (Cooper & Haltiwanger 2006, US manufacturing; uncalibrated for China)"),
    num("firms.productivity_shock", 0.15, "log sd per year")
        .range(0.0, 2.0)
        .doc("Yearly innovation σ of eastern plants' log productivity (entrants draw from the stationary distribution, log sd σ/√(1 − ρ²)); 0: all plants alike"),
    share("firms.incumbent_weight", 0.5, "weight on incumbents' realised returns")
        .doc("Learning from incumbents: an entrant's expected return is this weight × the realised return of its link's plants + the rest × its own market calculation (stylised, uncalibrated)"),
    num("firms.mobilisation_tolerance", 0.03, "per year, below the hurdle")
        .range(0.0, 2.0)
        .doc("Mobilised candidates enter on market terms only once the realised return of the link's plants is this far below the hurdle (stylised, uncalibrated)"),
    num("market.price_flexibility", 0.5, "elasticity of price to demand/supply")
        .range(0.0, 5.0)
        .doc("Price of firm products rises as (demand/capacity)^this when demand exceeds capacity"),
    num("market.reach_demand", 0.5, "share of tick-0 demand per unit reach")
        .range(0.0, 100.0)
        .doc("Demand for the region's firm products that market channels add (uncalibrated)"),
    share("market.east_demand", 0.005, "share of eastern household income")
        .doc("Eastern orders for the output of plants relocated west (uncalibrated)"),
    num("market.east_premium", 0.35, "price premium before transport")
        .range(0.0, 10.0)
        .doc("Premium of eastern markets over farm-gate prices"),
    num("market.infra_farm_effect", 0.3, "per unit infrastructure gain")
        .range(0.0, 10.0)
        .doc("Farm output from infrastructure"),
    num("market.talent_farm_effect", 0.15, "per unit talent index")
        .range(0.0, 10.0)
        .doc("Farm output from talent"),
    num("market.talent_half", 2.0, "person-months per 1,000 real households")
        .above(0.0, 1e6)
        .doc("Talent stock giving a talent index of 0.5"),
    share("market.talent_decay", 0.3, "per year, compounded per tick")
        .doc("Decay of the talent stock"),
    num("market.secondment_learning", 0.02, "credibility per year per person-month/year per 1,000 real households")
        .range(0.0, 10.0)
        .doc("Credibility western cadres learn in the east"),
    share("market.infra_decay", 0.02, "per year, compounded per tick")
        .doc("Decay of the infrastructure index's improvement above its initial value"),
    spec("centre.assessment", Kind::Bool, Default::Bool(true), "bool")
        .doc("Whether the centre's annual assessment (考核) runs"),
    share("centre.initial_delivery", 0.8, "share")
        .doc("Initial share of committed eastern inputs delivered"),
    share("centre.accountability", 0.5, "share of the gap per assessment")
        .doc("Delivery gap closed after each assessment"),
    share("centre.drift", 0.2, "per year")
        .doc("Drift of delivery toward `initial_delivery` without assessment"),
    share("centre.outcome_weight", 0.0, "share of the score")
        .doc("Weight of the outcome indicator (registered returns to poverty per household in the western partner) in each pair's annual score; the rest is the input indicator (reported delivery). 0: inputs only, the 2019 method; 002 proposes adding return to poverty"),
    num("centre.relapse_tolerance", 0.05, "registered relapses per household per year")
        .above(0.0, 1.0)
        .doc("Relapses per household a year at which the outcome score is 0 (it falls linearly from 1 at none); stylised, uncalibrated"),
    share("centre.reallocation", 0.5, "share of industry and infrastructure funds")
        .doc("Most of its industry and infrastructure allocation a western government moves to protective uses in the next year when its outcome score is 0 (in proportion to `outcome_weight · (1 − score)`); stylised, uncalibrated"),
    spec("centre.protective_use", Kind::Choice(PROTECTIVE_USES), Default::Text("reserve"), "where reallocated funds go")
        .doc("`reserve`: the anti-return risk reserve fund (防返贫风险储备金, 003), the instrument of the consolidation period; `transfers`: transfers to eligible households; `both`: in proportion to their allocation shares"),
    share("centre.gaming", 0.0, "share of the delivery gap")
        .doc("Share of its undelivered inputs an eastern government reports as delivered (inflated input indicators, 001, 002); it lowers the pressure of the input indicator, not the inputs themselves"),
    share("centre.third_party", 0.0, "share of gaming detected")
        .doc("Intensity of third-party evaluation (第三方评估): the share of inflated reports it detects; it costs `costs.evaluation` × this per pair a year, paid by the centre"),
    num("social.mobilisation", 1.0, "multiplier")
        .range(0.0, 100.0)
        .doc("Multiplier on declared donations (platforms, volunteer matching)"),
    share("social.health_share", 0.5, "share of donations")
        .doc("Spent on health services; the rest is cash help (to households at risk or to shocked households, `targeting`)"),
    spec("social.targeting", Kind::Choice(SOCIAL_TARGETS), Default::Text("at_risk"), "who gets cash help")
        .doc("`at_risk`: households poor or vulnerable at the start of the tick, an equal amount each (status-targeted); `shocked`: households hit by illness or a disaster this tick, in proportion to the share of the tick they are hit (emergency relief, 救急难), at most the poverty line's income for that share, whatever their status"),
    share("social.platform", 0.0, "share of donations kept outside aid phases")
        .doc("Volunteer-matching and donation platforms (002, 000) keep this share of the declared donations flowing when a phase scales `social` down: the donations are `declared · mobilisation · (s + platform · (1 − s))` with `s` the phase's social scale; 0: donations follow the aid phases"),
    num("costs.placement", 1500.0, "yuan per worker placed")
        .range(0.0, MAX_WAGE)
        .doc("What the eastern government spends to place one western worker through labour cooperation (job fairs, transport and job-stabilisation subsidies, 稳岗补贴); an estimate, so that the labour channel has a price in budget comparisons"),
    share("costs.market_access", 0.02, "yuan per yuan of produce sold east")
        .doc("What the eastern government spends per yuan of western produce reaching its markets through the market channel (platforms, logistics and promotion subsidies); an estimate: the e-commerce-into-villages programme (电子商务进农村综合示范) put up to 20 m yuan into a county over two to three years, about 2% of what a county sells east here"),
    num("costs.talent", 15000.0, "yuan per person-month")
        .range(0.0, MAX_WAGE)
        .doc("What one person-month of talent exchange (either direction) costs the eastern government: salary, allowances and hosting; about 180,000 yuan a year for a seconded cadre (an estimate)"),
    share("costs.investment_promotion", 0.01, "share of capital invested")
        .doc("What the eastern government spends to mobilise an eastern firm's investment in the west (investment promotion, 招商), per yuan of capital the firm brings; an estimate"),
    num("costs.coordination", 0.0, "yuan per link per year")
        .range(0.0, 1e12)
        .doc("Fixed cost of running one pairing link's aid programme (liaison office, joint meetings, reporting), taken out of the link's delivered fiscal aid before it reaches the western government; more links for the same aid cost more (001). 0: not priced (the default, so that shipped single-link comparisons are unchanged); the pairing scenarios use 2 m yuan, an estimate"),
    num("costs.joint_research", 1.0e6, "yuan per eastern region per year")
        .range(0.0, 1e12)
        .doc("What an eastern government's joint research with its partners costs a year when `policy.joint_research` is on (survey teams, joint meetings, cadre visits); an estimate"),
    num("costs.evaluation", 1.0e6, "yuan per pair per year at full intensity")
        .range(0.0, 1e12)
        .doc("What a full third-party evaluation of one pair costs the centre a year (survey teams, household checks); an estimate: provincial contracts for the evaluation of poverty exits ran to a few million yuan"),
    num("protection.dibao_ratio", 1.49, "× poverty line")
        .range(0.0, 10.0)
        .doc("Rural minimum livelihood guarantee (低保) standard; 0 switches it off. End-2020: 5,962 yuan (MCA) over the ≈4,000-yuan line in 2020 prices (NBS), BRIEF §7"),
    share("protection.dibao_coverage", 0.071, "share of households")
        .doc("Quota: most households the dibao covers. End-2020: 36.21 m recipients (MCA) over 509.79 m rural residents (NBS, 2020 census)"),
    num("protection.dibao_assessment_error", 0.3, "log sd")
        .range(0.0, 3.0)
        .doc("Error of the means test's income assessment: inclusion and exclusion errors (uncalibrated)"),
    num("protection.pension", 2088.0, "yuan per person aged ≥ retirement age per year")
        .range(0.0, MAX_WAGE)
        .doc("Urban-rural residents' basic pension (城乡居民基本养老保险). 2020: 335.5 bn yuan paid to 160.68 m recipients, 174 yuan a month (MOHRSS statistical communiqué 2020)"),
    num("protection.pension_contribution", 100.0, "yuan per worker per year")
        .range(0.0, MAX_WAGE)
        .doc("Pension contribution of working-age members: the lowest tier of the scheme (State Council 2014 No. 8); dibao households pay none"),
    num("protection.medical_premium", 280.0, "yuan per person per year")
        .range(0.0, MAX_WAGE)
        .doc("Residents' medical insurance premium, individual part, 2020 (NHSA and MOF 2020 No. 24); dibao households pay none"),
    share("protection.medical_reimbursement", 0.7, "share of medical costs")
        .doc("Reimbursed by residents' medical insurance: the policy-range inpatient rate of 2020, 70.0% (NHSA statistical bulletin 2020); the share of all costs is lower (calibrate)"),
    num("protection.farm_subsidy", 800.0, "yuan per household per year")
        .range(0.0, MAX_WAGE)
        .doc("Agricultural support subsidy (耕地地力保护补贴): about 120 yuan per mu × 6.8 mu contracted per rural household; an estimate, not an official total (verify)"),
    share("protection.monitoring_detection", 0.0, "share per year")
        .doc("Dynamic monitoring for return to poverty (防返贫动态监测, 002, 003): yearly probability that a household meeting a criterion (income below the monitoring line, or a severe shock) is identified as at risk; identified households are eligible for targeted support like the registered poor. 0 switches monitoring off (uncalibrated)"),
    num("protection.monitoring_line", 1.5, "× poverty line")
        .range(0.0, 10.0)
        .doc("Monitoring line: households whose trailing-year income falls below it are candidates, and identified ones are removed from risk at an assessment above it. 2021: 6,000 yuan per person (national monitoring guidance) over the ≈4,000-yuan line in 2020 prices"),
    spec("protection.monitoring_dibao", Kind::Bool, Default::Bool(true), "bool")
        .doc("Whether identified households whose assessed own income is below the dibao standard receive it outside the quota (将符合条件的监测对象纳入低保, 应保尽保: the 2021 monitoring guidance); the centre pays"),
    share("protection.monitoring_shock", 0.1, "share of annual income")
        .doc("A tick's out-of-pocket medical cost above this share of the household's annual income, or a household disaster, makes it a candidate (突发严重困难户); 0.1 is the SDG 3.8.2 threshold of catastrophic health spending"),
    num("protection.assistance_cap", 0.0, "yuan per household per year")
        .range(0.0, MAX_WAGE)
        .doc("Temporary assistance (临时救助) to households the monitoring identified: while identified, a household whose trailing year falls below the poverty line is paid the gap at once, as a grant, at most this much between two assessments (a yearly budget per household, whatever the tick length); the region's treasury pays. 0 switches it off. County rules cap one grant at a few months of the dibao standard, about 2,000–6,000 yuan a household (an estimate)"),
    num("protection.insurance_premium", 0.0, "yuan per insured person per year")
        .range(0.0, MAX_WAGE)
        .doc("County-wide anti-return-to-poverty insurance (防返贫保险, 县域统保, 003): premium the region's treasury pays an insurer for each insured person; insured households hit by illness or disaster whose year falls below the insured line are paid the gap, up to the cap. 0 switches it off"),
    num("protection.insurance_line", 1.5, "× poverty line")
        .range(0.0, 10.0)
        .doc("Insured line (防贫线): the insurer pays a shocked insured household the gap between it and the household's trailing-year income; 1.5× the line is the common choice of county schemes (an estimate)"),
    num("protection.insurance_cap", 20000.0, "yuan per household per year")
        .range(0.0, MAX_WAGE)
        .doc("Most the insurer pays one household for a year under shock (an estimate: county schemes cap payouts at 10,000–50,000 yuan)"),
    spec("protection.insurance_scope", Kind::Choice(INSURANCE_SCOPES), Default::Text("registered"), "who is insured")
        .doc("`registered`: the households ever registered poor and those the monitoring identified (脱贫人口及监测对象应保尽保, 003); `all`: every household of the region"),
    spec("protection.registration", Kind::Choice(REGISTRATIONS), Default::Text("identified"), "when a relapse is registered")
        .doc("When the registration counts an exited household's fall below the line as a return to poverty (返贫): `identified`, at the assessment if the monitoring has identified it by the end of that tick; `after_help`, at the assessment only if it was identified before that tick (monitored and helped, and still poor), while one identified at the assessment itself becomes a monitoring subject and is registered at the next assessment if it is still poor then (the 2021 monitoring guidance: identified households are helped first, 先帮扶后认定). Without monitoring every relapse is registered"),
    num("demography.elder_share", 0.2381, "share of persons")
        .range(0.0, 1.0)
        .doc("Persons aged 60 or more at the start (rural China 23.81%, 2020 census); the rest of the non-workers are children"),
    int("demography.working_age", 16.0, "years")
        .range(0.0, 30.0)
        .doc("Age at which a member becomes a worker (joins the farm)"),
    int("demography.retirement_age", 60.0, "years")
        .range(31.0, 100.0)
        .doc("Age at which a worker leaves wage work (local, migrant, post) and draws the pension (the scheme's pensionable age)"),
    int("demography.farm_exit_age", 70.0, "years")
        .range(31.0, 110.0)
        .rule("at least `retirement_age`")
        .doc("Age at which a member stops farming: rural elders farm past 60 (Pang, de Brauw & Rozelle 2004); stylised, uncalibrated"),
    num("demography.modal_age", 83.7, "years")
        .range(30.0, 120.0)
        .doc("Gompertz mortality μ(a) = β·e^{β(a − M)}: modal age at death M; 83.7 with β = 0.1 gives life expectancy 77.9 (China 2020, NHC)"),
    num("demography.mortality_slope", 0.1, "per year")
        .above(0.0, 1.0)
        .doc("Gompertz slope β (human adult mortality doubles about every 7 years)"),
    spec("demography.ageing", Kind::Bool, Default::Bool(true), "bool")
        .doc("Whether members age, die and are replaced by newborns at each year's end (off: ages stay as drawn)"),
    num("prices.inflation", 0.0, "per year")
        .range(-0.5, 1.0)
        .doc("Consumer price inflation: the deflator of the `_current` measures (money is in constant prices of the start year). Calibrated scenarios: CPI 2021–2024, +0.9, +2.0, +0.2, +0.2% (NBS), mean 0.0083"),
];

/// The spec of `key` (array elements without index: `region.weight`).
pub fn get(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.key == key)
}

/// The numeric default of `key`. Panics if the key has none: a programming error caught
/// by the unit test `every_numeric_default_is_readable`.
pub fn default_f64(key: &str) -> f64 {
    match get(key).map(|k| k.default) {
        Some(Default::Number(v)) => v,
        Some(Default::Bool(b)) => b as u8 as f64,
        _ => panic!("schema: `{key}` has no numeric default"),
    }
}

/// The boolean default of `key`.
pub fn default_bool(key: &str) -> bool {
    match get(key).map(|k| k.default) {
        Some(Default::Bool(b)) => b,
        _ => panic!("schema: `{key}` has no boolean default"),
    }
}

/// The subsections of ODD §7.10, by number: 1 top level, time and run; 2 regions; 3 links;
/// 4 phases and shocks; 5 parameter groups.
pub const SECTIONS: [(u8, &str); 5] = [
    (1, "Top level, time and run"),
    (2, "Regions (`[[region]]`)"),
    (3, "Links (`[[link]]`)"),
    (4, "Phases (`[[phase]]`) and shocks (`[[shock]]`)"),
    (5, "Parameter groups"),
];

/// The subsection of ODD §7.10 that lists `key`.
pub fn section_of(key: &str) -> u8 {
    match key.split('.').next().unwrap_or("") {
        "region" => 2,
        "link" => 3,
        "phase" | "shock" => 4,
        "name" | "description" | "extends" | "time" | "run" | "defaults" => 1,
        _ => 5,
    }
}

/// The Markdown table of the keys of ODD §7.10.`section` (all keys for 0).
pub fn markdown(section: u8) -> String {
    let mut s = String::from(
        "| key | default | unit | allowed | meaning |\n| --- | --- | --- | --- | --- |\n",
    );
    for k in KEYS
        .iter()
        .filter(|k| section == 0 || section_of(k.key) == section)
    {
        s.push_str(&k.markdown_row());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_described() {
        for (i, k) in KEYS.iter().enumerate() {
            assert!(
                !KEYS[..i].iter().any(|o| o.key == k.key),
                "duplicate {}",
                k.key
            );
            assert!(!k.doc.is_empty(), "{} has no description", k.key);
            if let (Some(lo), Some(hi)) = (k.min, k.max) {
                assert!(lo < hi, "{}: empty range", k.key);
            }
            if let Default::Number(d) = k.default {
                assert!(
                    k.min.is_none() && k.max.is_none() || k.admits(d),
                    "{}: default {d} outside its own range",
                    k.key
                );
            }
        }
    }

    #[test]
    fn every_numeric_default_is_readable() {
        for k in KEYS {
            if let Default::Number(_) = k.default {
                assert!(default_f64(k.key).is_finite());
            }
        }
    }

    #[test]
    fn ranges_read_as_text() {
        assert_eq!(get("policy.leakage").unwrap().allowed(), "[0, 1]");
        assert_eq!(get("region.weight").unwrap().allowed(), "(0, 1e6]");
        assert_eq!(fmt_num(4000.0), "4,000");
        assert_eq!(fmt_num(2.0e7), "2e7");
        assert_eq!(fmt_num(-0.5), "−0.5");
        assert!(get("region.weight").unwrap().admits(1.0));
        assert!(!get("region.weight").unwrap().admits(0.0));
        assert!(!get("region.weight").unwrap().admits(f64::NAN));
    }
}
