//! Typed raw scenario values and their validation into a [`Config`].

use serde::Deserialize;

use super::error::{suggest, ScenarioError};
use super::source::Document;
use crate::model::config::{
    CentreParams, Channels, Config, FirmParams, HouseholdParams, Link, MarketParams, Phase,
    PhaseScales, Policy, PovertyParams, Region, Shock, ShockKind, Side, SocialParams,
};
use crate::model::time::{Calendar, Step, YearMonth};

/// A loaded scenario: the validated configuration plus what produced it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated configuration.
    pub config: Config,
    /// The merged document after `extends` and `--set` (written as `scenario.resolved.toml`).
    pub resolved: toml::Table,
    /// Replicates requested by the scenario (`run.replicates`).
    pub replicates: u32,
    /// Description text.
    pub description: String,
    /// Files read, in `extends` order (base first).
    pub files: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    description: String,
    time: RawTime,
    #[serde(default)]
    run: RawRun,
    #[serde(default)]
    defaults: Option<toml::Table>,
    region: Vec<Region>,
    #[serde(default)]
    link: Vec<RawLink>,
    #[serde(default)]
    phase: Vec<RawPhase>,
    #[serde(default)]
    shock: Vec<RawShock>,
    #[serde(default)]
    poverty: PovertyParams,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    households: HouseholdParams,
    #[serde(default)]
    firms: FirmParams,
    #[serde(default)]
    market: MarketParams,
    #[serde(default)]
    centre: CentreParams,
    #[serde(default)]
    social: SocialParams,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTime {
    start: String,
    years: u32,
    #[serde(default = "d_step")]
    step: String,
    #[serde(default = "d_burn_in")]
    burn_in_years: u32,
}

fn d_burn_in() -> u32 {
    2
}

fn d_step() -> String {
    "month".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRun {
    #[serde(default = "d_seed")]
    seed: u64,
    #[serde(default = "d_reps")]
    replicates: u32,
}

impl Default for RawRun {
    fn default() -> Self {
        RawRun {
            seed: d_seed(),
            replicates: d_reps(),
        }
    }
}

fn d_seed() -> u64 {
    1
}
fn d_reps() -> u32 {
    5
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    /// Optional; identifies the link when `extends` merges (scenario::source).
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
    east: String,
    west: String,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    channels: Channels,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    name: String,
    start: String,
    #[serde(default)]
    scales: PhaseScales,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShock {
    /// Optional; identifies the shock when `extends` merges (scenario::source).
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
    kind: ShockKind,
    start: String,
    #[serde(default = "d_months")]
    months: u32,
    severity: f64,
    #[serde(default)]
    regions: Vec<String>,
}

fn d_months() -> u32 {
    6
}

/// Collects validation errors with their key paths.
struct Checker<'a> {
    doc: &'a Document,
}

impl Checker<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            at: self.doc.locate(key),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn range(&self, key: &str, v: f64, lo: f64, hi: f64) -> Result<(), ScenarioError> {
        if !v.is_finite() {
            return Err(self.err(
                key,
                format!("must be a finite number in [{lo}, {hi}], got {v}"),
            ));
        }
        if v < lo || v > hi {
            return Err(self.err(key, format!("must be in [{lo}, {hi}], got {v}")));
        }
        Ok(())
    }

    fn prob(&self, key: &str, v: f64) -> Result<(), ScenarioError> {
        self.range(key, v, 0.0, 1.0)
    }

    fn nonneg(&self, key: &str, v: f64) -> Result<(), ScenarioError> {
        self.range(key, v, 0.0, f64::MAX)
    }

    fn positive(&self, key: &str, v: f64) -> Result<(), ScenarioError> {
        self.nonneg(key, v)?;
        if v == 0.0 {
            return Err(self.err(key, "must be greater than 0"));
        }
        Ok(())
    }

    fn date(&self, key: &str, s: &str) -> Result<YearMonth, ScenarioError> {
        YearMonth::parse(s).ok_or_else(|| {
            self.err(
                key,
                format!("`{s}` is not a date; write \"YYYY-MM\", e.g. \"2021-01\""),
            )
        })
    }
}

/// Applies `[defaults.east]` / `[defaults.west]` to every region of that side (keys the
/// region does not set itself), recording where each copied key came from.
fn apply_region_defaults(doc: &mut Document) {
    let Some(toml::Value::Table(defaults)) = doc.table.get("defaults").cloned() else {
        return;
    };
    let Some(toml::Value::Array(regions)) = doc.table.get_mut("region") else {
        return;
    };
    for (i, r) in regions.iter_mut().enumerate() {
        let Some(rt) = r.as_table_mut() else { continue };
        let side = rt
            .get("side")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let Some(toml::Value::Table(d)) = defaults.get(&side) else {
            continue;
        };
        for (k, v) in d {
            if !rt.contains_key(k) {
                rt.insert(k.clone(), v.clone());
                let from = doc.origins.get(&format!("defaults.{side}.{k}")).cloned();
                if let Some(l) = from {
                    doc.origins.insert(format!("region[{i}].{k}"), l);
                }
            }
        }
    }
}

/// Turns a serde error at `path` into a message naming the key and allowed values.
fn serde_error(doc: &Document, path: &str, message: &str) -> ScenarioError {
    let message = message.lines().next().unwrap_or("").trim();
    // serde: "unknown field `x`, expected one of `a`, `b`" / "expected `a` or `b`".
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or("");
        let allowed: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let key = if path.ends_with(field) {
            path.to_string()
        } else if path.is_empty() || path == "." {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        let hint = suggest(field, allowed.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return ScenarioError::Invalid {
            at: doc.locate(&key),
            key,
            message: format!(
                "unknown key{hint}; allowed keys here: {}",
                allowed.join(", ")
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let variant = rest.split('`').next().unwrap_or("");
        let allowed: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let hint = suggest(variant, allowed.iter().copied())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return ScenarioError::Invalid {
            at: doc.locate(path),
            key: path.to_string(),
            message: format!(
                "`{variant}` is not allowed{hint}; allowed values: {}",
                allowed.join(", ")
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        let key = if path.is_empty() || path == "." {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        return ScenarioError::Invalid {
            at: doc.locate(path),
            key,
            message: "required key is missing".into(),
        };
    }
    let key = if path == "." {
        String::new()
    } else {
        path.to_string()
    };
    ScenarioError::Invalid {
        at: doc.locate(&key),
        key,
        message: message.to_string(),
    }
}

/// Validates a merged document into a [`Loaded`] scenario.
pub fn build(mut doc: Document) -> Result<Loaded, ScenarioError> {
    apply_region_defaults(&mut doc);
    let value = toml::Value::Table(doc.table.clone());
    let raw: RawScenario = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.inner().to_string();
        serde_error(&doc, &path, msg.trim())
    })?;
    let c = Checker { doc: &doc };

    // Time.
    let step = Step::parse(&raw.time.step).ok_or_else(|| {
        c.err(
            "time.step",
            format!(
                "`{}` is not allowed; allowed values: {}",
                raw.time.step,
                Step::NAMES.join(", ")
            ),
        )
    })?;
    let start = c.date("time.start", &raw.time.start)?;
    if raw.time.years == 0 || raw.time.years > 200 {
        return Err(c.err(
            "time.years",
            format!("must be in [1, 200], got {}", raw.time.years),
        ));
    }
    if raw.time.burn_in_years > 50 {
        return Err(c.err(
            "time.burn_in_years",
            format!("must be in [0, 50], got {}", raw.time.burn_in_years),
        ));
    }
    let calendar = Calendar {
        start,
        step,
        ticks: raw.time.years * 12 / step.months(),
        burn_in: raw.time.burn_in_years * 12 / step.months(),
    };
    let end = calendar.date(calendar.ticks);
    let tick_in_horizon = |key: &str, s: &str| -> Result<u32, ScenarioError> {
        let ym = c.date(key, s)?;
        match calendar.tick_of(ym) {
            Some(t) if t < calendar.ticks => Ok(t),
            _ => Err(c.err(
                key,
                format!("{ym} is outside the horizon {start} to {} (exclusive)", end),
            )),
        }
    };
    if raw.run.replicates == 0 {
        return Err(c.err("run.replicates", "must be at least 1"));
    }

    // Regions. `first` maps each name to its first region (look-ups stay linear).
    let mut first: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    if raw.region.is_empty() {
        return Err(c.err("region", "at least one [[region]] is required"));
    }
    for (i, r) in raw.region.iter().enumerate() {
        let k = |f: &str| format!("region[{i}].{f}");
        if r.name.trim().is_empty() {
            return Err(c.err(&k("name"), "must not be empty"));
        }
        if ["ALL", "EAST", "WEST"].contains(&r.name.as_str()) {
            return Err(c.err(&k("name"), format!("`{}` is reserved for the aggregate rows of the outputs (ALL, EAST, WEST); choose another name", r.name)));
        }
        if let Some(&j) = first.get(r.name.as_str()) {
            return Err(c.err(
                &k("name"),
                format!("duplicate region name `{}` (also region[{j}])", r.name),
            ));
        }
        first.insert(&r.name, i);
        if r.households == 0 || r.households > 50_000_000 {
            return Err(c.err(
                &k("households"),
                format!(
                    "must be in [1, 50000000] simulated households, got {}",
                    r.households
                ),
            ));
        }
        c.positive(&k("weight"), r.weight)?;
        c.range(&k("household_size"), r.household_size, 1.0, 8.0)?;
        c.range(
            &k("workers_per_household"),
            r.workers_per_household,
            1.0,
            r.household_size.max(1.0),
        )?;
        c.positive(&k("income_median"), r.income_median)?;
        c.range(&k("income_sigma"), r.income_sigma, 0.0, 3.0)?;
        c.nonneg(&k("wage"), r.wage)?;
        c.nonneg(&k("migrant_wage_month"), r.migrant_wage_month)?;
        c.prob(&k("base_migration"), r.base_migration)?;
        c.prob(&k("credibility"), r.credibility)?;
        c.prob(&k("infrastructure"), r.infrastructure)?;
        c.prob(&k("digital_access"), r.digital_access)?;
        c.prob(&k("transport_cost"), r.transport_cost)?;
        c.positive(&k("labour_productivity"), r.labour_productivity)?;
        c.range(&k("growth"), r.growth, -0.5, 0.5)?;
        c.range(&k("local_jobs_per_100"), r.local_jobs_per_100, 0.0, 100.0)?;
        c.range(
            &k("migrants_per_100"),
            r.migrants_per_100,
            0.0,
            100.0 - r.local_jobs_per_100,
        )?;
    }
    let total: u64 = raw.region.iter().map(|r| r.households as u64).sum();
    if total > 100_000_000 {
        return Err(c.err("region", format!("{total} simulated households in all; at most 100000000 fit in memory (about 92 bytes each)")));
    }
    let names: Vec<&str> = raw.region.iter().map(|r| r.name.as_str()).collect();
    let find = |key: &str, name: &str, side: Option<Side>| -> Result<usize, ScenarioError> {
        match first.get(name).copied() {
            Some(i) => {
                if let Some(s) = side {
                    if raw.region[i].side != s {
                        return Err(c.err(
                            key,
                            format!(
                                "region `{name}` is on the {} side; this key needs a {} region",
                                raw.region[i].side.as_str(),
                                s.as_str()
                            ),
                        ));
                    }
                }
                Ok(i)
            }
            None => {
                let hint = suggest(name, names.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                Err(c.err(
                    key,
                    format!(
                        "no region named `{name}`{hint}; regions are: {}",
                        names.join(", ")
                    ),
                ))
            }
        }
    };

    // Links.
    let mut links = Vec::new();
    for (i, l) in raw.link.iter().enumerate() {
        let k = |f: &str| format!("link[{i}].{f}");
        let east = find(&k("east"), &l.east, Some(Side::East))?;
        let west = find(&k("west"), &l.west, Some(Side::West))?;
        let start = match &l.start {
            Some(s) => tick_in_horizon(&k("start"), s)?,
            None => 0,
        };
        let end = match &l.end {
            Some(s) => {
                let ym = c.date(&k("end"), s)?;
                let t = calendar
                    .tick_of(ym)
                    .ok_or_else(|| c.err(&k("end"), format!("{ym} is before the start {start}")))?;
                if t <= start {
                    return Err(c.err(
                        &k("end"),
                        format!("must be after the link's start ({})", calendar.date(start)),
                    ));
                }
                Some(t)
            }
            None => None,
        };
        let ch = &l.channels;
        let kc = |f: &str| format!("link[{i}].channels.{f}");
        c.nonneg(&kc("fiscal_aid"), ch.fiscal_aid)?;
        c.nonneg(&kc("social_donations"), ch.social_donations)?;
        c.nonneg(&kc("procurement"), ch.procurement)?;
        c.prob(&kc("market_access"), ch.market_access)?;
        c.nonneg(&kc("labour_demand"), ch.labour_demand)?;
        c.nonneg(&kc("training_places"), ch.training_places)?;
        c.nonneg(&kc("talent_to_west"), ch.talent_to_west)?;
        c.nonneg(&kc("talent_to_east"), ch.talent_to_east)?;
        c.nonneg(&kc("firm_mobilisation"), ch.firm_mobilisation)?;
        links.push(Link {
            east,
            west,
            start,
            end,
            channels: ch.clone(),
        });
    }

    // Phases.
    let mut phases = Vec::new();
    for (i, p) in raw.phase.iter().enumerate() {
        let start = tick_in_horizon(&format!("phase[{i}].start"), &p.start)?;
        let s = &p.scales;
        for (f, v) in [
            ("fiscal_aid", s.fiscal_aid),
            ("social", s.social),
            ("procurement", s.procurement),
            ("market", s.market),
            ("labour", s.labour),
            ("training", s.training),
            ("talent", s.talent),
            ("firms", s.firms),
        ] {
            c.range(&format!("phase[{i}].scales.{f}"), v, 0.0, 100.0)?;
        }
        phases.push(Phase {
            name: p.name.clone(),
            start,
            scales: s.clone(),
        });
    }
    phases.sort_by_key(|p| p.start);
    if phases.first().is_none_or(|p| p.start > 0) {
        phases.insert(
            0,
            Phase {
                name: "baseline".into(),
                start: 0,
                scales: PhaseScales::default(),
            },
        );
    }

    // Shocks.
    let mut shocks = Vec::new();
    for (i, s) in raw.shock.iter().enumerate() {
        let k = |f: &str| format!("shock[{i}].{f}");
        let start = tick_in_horizon(&k("start"), &s.start)?;
        c.prob(&k("severity"), s.severity)?;
        if s.months == 0 || s.months > 12 * 200 {
            return Err(c.err(
                &k("months"),
                format!("must be in [1, 2400], got {}", s.months),
            ));
        }
        let regions = if s.regions.is_empty() {
            (0..raw.region.len())
                .filter(|&r| raw.region[r].side == Side::West)
                .collect()
        } else {
            s.regions
                .iter()
                .enumerate()
                .map(|(j, n)| find(&format!("shock[{i}].regions[{j}]"), n, None))
                .collect::<Result<Vec<_>, _>>()?
        };
        shocks.push(Shock {
            kind: s.kind,
            start,
            duration: s.months.div_ceil(step.months()),
            severity: s.severity,
            regions,
        });
    }

    // Parameter groups.
    let pv = &raw.poverty;
    c.positive("poverty.line", pv.line)?;
    c.prob(
        "poverty.vulnerability_threshold",
        pv.vulnerability_threshold,
    )?;
    c.range("poverty.memory_years", pv.memory_years, 0.1, 50.0)?;
    let pol = &raw.policy;
    let a = &pol.allocation;
    for (f, v) in [
        ("transfers", a.transfers),
        ("welfare_posts", a.welfare_posts),
        ("industry", a.industry),
        ("training", a.training),
        ("infrastructure", a.infrastructure),
        ("reserve", a.reserve),
    ] {
        c.prob(&format!("policy.allocation.{f}"), v)?;
    }
    let sum: f64 = a.shares().iter().sum();
    if (sum - 1.0).abs() > 1e-6 {
        return Err(c.err("policy.allocation", format!("shares must sum to 1, got {sum:.6} (transfers + welfare_posts + industry + training + infrastructure + reserve)")));
    }
    c.prob("policy.leakage", pol.leakage)?;
    c.positive("policy.welfare_post_wage", pol.welfare_post_wage)?;
    c.positive("policy.training_cost", pol.training_cost)?;
    c.range(
        "policy.training_skill_gain",
        pol.training_skill_gain,
        0.0,
        5.0,
    )?;
    c.positive("policy.infrastructure_cost", pol.infrastructure_cost)?;
    c.positive("policy.project_size", pol.project_size)?;
    c.prob("policy.project_failure", pol.project_failure)?;
    c.range("policy.guaranteed_return", pol.guaranteed_return, 0.0, 1.0)?;
    c.prob("policy.dividend_share", pol.dividend_share)?;
    c.range(
        "policy.support_years_after_exit",
        pol.support_years_after_exit,
        0.0,
        50.0,
    )?;
    c.range(
        "policy.promised_incentive",
        pol.promised_incentive,
        0.0,
        1.0,
    )?;
    let h = &raw.households;
    c.range("households.dependency", h.dependency, 0.0, 1.0)?;
    c.prob("households.effort_adjust", h.effort_adjust)?;
    c.range("households.income_noise", h.income_noise, 0.0, 2.0)?;
    c.prob("households.illness_prob", h.illness_prob)?;
    c.range("households.illness_cost", h.illness_cost, 0.0, 10.0)?;
    c.range("households.illness_months", h.illness_months, 0.0, 120.0)?;
    c.prob("households.disaster_prob", h.disaster_prob)?;
    c.prob("households.disaster_loss", h.disaster_loss)?;
    c.prob("households.saving_rate", h.saving_rate)?;
    c.prob("households.skill_decay", h.skill_decay)?;
    c.prob("households.remittance_share", h.remittance_share)?;
    c.prob("households.job_separation", h.job_separation)?;
    c.prob("households.migrant_return", h.migrant_return)?;
    let f = &raw.firms;
    c.positive("firms.firm_capital", f.firm_capital)?;
    c.positive("firms.capital_per_job", f.capital_per_job)?;
    c.prob("firms.depreciation", f.depreciation)?;
    c.range("firms.hurdle_return", f.hurdle_return, -1.0, 1.0)?;
    c.range("firms.patience_years", f.patience_years, 0.0, 50.0)?;
    c.range("firms.entry_slope", f.entry_slope, 0.0, 1000.0)?;
    c.prob("firms.linked_profit_share", f.linked_profit_share)?;
    c.range(
        "firms.talent_productivity",
        f.talent_productivity,
        0.0,
        10.0,
    )?;
    c.range("firms.infra_productivity", f.infra_productivity, 0.0, 10.0)?;
    c.prob("firms.export_share", f.export_share)?;
    let m = &raw.market;
    c.range("market.east_premium", m.east_premium, 0.0, 10.0)?;
    c.range("market.infra_farm_effect", m.infra_farm_effect, 0.0, 10.0)?;
    c.range("market.talent_farm_effect", m.talent_farm_effect, 0.0, 10.0)?;
    c.positive("market.talent_half", m.talent_half)?;
    c.prob("market.talent_decay", m.talent_decay)?;
    c.range(
        "market.secondment_learning",
        m.secondment_learning,
        0.0,
        10.0,
    )?;
    c.prob("market.infra_decay", m.infra_decay)?;
    let ce = &raw.centre;
    c.prob("centre.initial_delivery", ce.initial_delivery)?;
    c.prob("centre.accountability", ce.accountability)?;
    c.prob("centre.drift", ce.drift)?;
    let so = &raw.social;
    c.range("social.mobilisation", so.mobilisation, 0.0, 100.0)?;
    c.prob("social.health_share", so.health_share)?;
    if raw
        .defaults
        .as_ref()
        .is_some_and(|d| d.keys().any(|k| k != "east" && k != "west"))
    {
        let bad = raw
            .defaults
            .as_ref()
            .and_then(|d| d.keys().find(|k| *k != "east" && *k != "west"))
            .cloned()
            .unwrap_or_default();
        return Err(c.err(
            &format!("defaults.{bad}"),
            "unknown key; allowed keys here: east, west",
        ));
    }

    let config = Config {
        name: raw.name.clone(),
        seed: raw.run.seed,
        calendar,
        regions: raw.region,
        links,
        phases,
        shocks,
        poverty: raw.poverty,
        policy: raw.policy,
        households: raw.households,
        firms: raw.firms,
        market: raw.market,
        centre: raw.centre,
        social: raw.social,
    };
    Ok(Loaded {
        config,
        resolved: doc.table.clone(),
        replicates: raw.run.replicates,
        description: raw.description,
        files: doc.files.clone(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn shipped_stylised_scenarios_load() {
        for name in [
            "baseline_no_pairing.toml",
            "one_way_aid.toml",
            "two_way_market.toml",
        ] {
            let l =
                crate::scenario::load_builtin(name, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(l.config.calendar.ticks > 0);
        }
    }
}
