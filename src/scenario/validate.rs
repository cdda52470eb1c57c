//! Typed raw scenario values and their validation into a [`Config`].

use serde::Deserialize;

use super::error::{suggest, ScenarioError};
use super::source::Document;
use crate::model::config::{
    CentreParams, Channels, Config, CostParams, DemographyParams, FirmParams, HouseholdParams,
    Link, MarketParams, Phase, PhaseScales, Policy, PovertyParams, PricesParams, ProtectionParams,
    Region, Shock, ShockKind, Side, SocialParams,
};
use crate::model::schema;
use crate::model::time::{Calendar, Step, YearMonth};

/// Version of the scenario format (keys and their meaning). Raised whenever a key is added,
/// removed or changes meaning; `CHANGELOG.md` lists each version's changes, and a scenario
/// that declares an older `format` is loaded with a note saying what changed.
pub const FORMAT_VERSION: u32 = 3;

/// What changed in each scenario format version, newest last.
pub const FORMAT_CHANGES: &[(u32, &str)] = &[
    (
        2,
        "numeric keys have upper bounds (money ≤ 1e12 yuan/year, wages ≤ 1e6 yuan/year, \
     weights ≤ 1e6; see `xiezuo keys`); scenario and region names are 1–64 characters of \
     letters, digits, space and _ - . ' ( ) + · （ ） 、 & (no path separators); the `format` key",
    ),
    (
        3,
        "`region.base_migration` left out means the steady-state rate of the initial migrant \
         stock (it was 0.03); households have members with ages (`[demography]`), and pensions, \
         pension contributions, medical insurance and an agricultural subsidy (`[protection]`) \
         are on by default (set them to 0 for the old behaviour); `[prices] inflation`",
    ),
];

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
    /// Notes for the user that do not stop the run (e.g. an older scenario format).
    pub notes: Vec<String>,
}

impl Loaded {
    /// Stops the run after `years` years (never later than the scenario's own horizon):
    /// the command line's `--years`.
    pub fn stop_after_years(&mut self, years: std::num::NonZeroU32) {
        let cal = &mut self.config.calendar;
        cal.ticks = cal
            .ticks
            .min(years.get().saturating_mul(cal.ticks_per_year()));
    }

    /// The fully resolved scenario as TOML text (`scenario.resolved.toml`): the merged
    /// document with the seed and scenario format actually used, and a note when the run
    /// stops before the scenario's horizon. Loading it gives the same configuration.
    pub fn resolved_text(&self) -> String {
        // Reflect changes that bypass the document (a seed or years given on the command
        // line), and record the scenario format the resolved document is written in.
        let mut doc = self.resolved.clone();
        doc.insert(
            "format".into(),
            toml::Value::Integer(super::FORMAT_VERSION as i64),
        );
        let run = doc
            .entry("run")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(t) = run.as_table_mut() {
            t.insert("seed".into(), toml::Value::Integer(self.config.seed as i64));
        }
        let cal = &self.config.calendar;
        let note = if cal.ticks % cal.ticks_per_year() == 0
            && doc
                .get("time")
                .and_then(|t| t.get("years"))
                .and_then(|y| y.as_integer())
                != Some((cal.ticks / cal.ticks_per_year()) as i64)
        {
            format!(
                "# Run stopped after {} years (--years); dates are checked against time.years below.\n",
                cal.ticks / cal.ticks_per_year()
            )
        } else {
            String::new()
        };
        let body = note + &toml::to_string(&doc).unwrap_or_default();
        format!(
            "# Fully resolved scenario `{}` (from {}).\n{body}",
            self.config.name,
            self.files.join(" <- ")
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    format: Option<u32>,
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
    #[serde(default)]
    costs: CostParams,
    #[serde(default)]
    protection: ProtectionParams,
    #[serde(default)]
    demography: DemographyParams,
    #[serde(default)]
    prices: PricesParams,
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
    schema::default_f64("time.burn_in_years") as u32
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
    schema::default_f64("run.seed") as u64
}
fn d_reps() -> u32 {
    schema::default_f64("run.replicates") as u32
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
    schema::default_f64("shock.months") as u32
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

    /// Checks `v` at `at` (e.g. `region[2].weight`) against the schema's range for `spec`
    /// (e.g. `region.weight`).
    fn key(&self, at: &str, spec: &str, v: f64) -> Result<(), ScenarioError> {
        let Some(k) = schema::get(spec) else {
            return Ok(());
        };
        if k.admits(v) {
            return Ok(());
        }
        let allowed = k.allowed();
        let range = allowed.split(';').next().unwrap_or("").trim();
        let how = if range.starts_with(['[', '(']) {
            format!("must be in {range}")
        } else {
            format!("must be {range}")
        };
        let what = if v.is_finite() {
            format!("got {v}")
        } else {
            format!("got {v}; numbers must be finite")
        };
        Err(self.err(at, format!("{how} ({}), {what}", k.unit)))
    }

    /// Checks every numeric leaf of `group` (a serialized parameter group) at
    /// `at_prefix.<leaf>` against the schema key `spec_prefix.<leaf>`.
    fn group<T: serde::Serialize>(
        &self,
        at_prefix: &str,
        spec_prefix: &str,
        group: &T,
    ) -> Result<(), ScenarioError> {
        let v = toml::Value::try_from(group).map_err(|e| self.err(at_prefix, e.to_string()))?;
        self.leaves(at_prefix, spec_prefix, &v)
    }

    fn leaves(&self, at: &str, spec: &str, v: &toml::Value) -> Result<(), ScenarioError> {
        match v {
            toml::Value::Table(t) => {
                for (k, x) in t {
                    self.leaves(&format!("{at}.{k}"), &format!("{spec}.{k}"), x)?;
                }
                Ok(())
            }
            toml::Value::Float(f) => self.key(at, spec, *f),
            toml::Value::Integer(i) => self.key(at, spec, *i as f64),
            _ => Ok(()),
        }
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

/// Checks a name that labels outputs and may name a folder (scenario and region names):
/// 1–64 characters of letters (any script), digits, space and `_ - . ' ( ) + · （ ） 、 &`, not only
/// dots, so it can never be an absolute path, climb out of an output directory with `..`,
/// or contain a path separator.
pub fn check_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if name.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if n > 64 {
        return Err(format!("must be at most 64 characters, got {n}"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || " _-.'()+·（）、&".contains(*c)))
    {
        return Err(format!(
            "`{name}` contains `{}`; names may use letters (any script), digits, space and _ - . ' ( ) + · （ ） 、 & (no path separators)",
            bad.escape_default()
        ));
    }
    if name.chars().all(|c| c == '.') || name.contains("..") {
        return Err(format!("`{name}` must not contain `..` or be only dots"));
    }
    if name != name.trim() {
        return Err(format!("`{name}` must not start or end with a space"));
    }
    Ok(())
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
    check_name(&raw.name).map_err(|m| c.err("name", m))?;
    let mut notes = Vec::new();
    if let Some(v) = raw.format {
        if v > FORMAT_VERSION || v == 0 {
            return Err(c.err(
                "format",
                format!(
                    "scenario format {v} is not known to this xiezuo (it reads formats 1 to \
                     {FORMAT_VERSION}); use a newer xiezuo or rewrite the file for format \
                     {FORMAT_VERSION}"
                ),
            ));
        }
        for (ver, what) in FORMAT_CHANGES.iter().filter(|(ver, _)| *ver > v) {
            notes.push(format!(
                "{}: written for scenario format {v}; format {ver} changed: {what}. Set \
                 `format = {FORMAT_VERSION}` once the file is checked (CHANGELOG.md)",
                doc.files.last().map(String::as_str).unwrap_or("scenario")
            ));
        }
    }

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
    c.key("time.years", "time.years", raw.time.years as f64)?;
    c.key(
        "time.burn_in_years",
        "time.burn_in_years",
        raw.time.burn_in_years as f64,
    )?;
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
    c.key(
        "run.replicates",
        "run.replicates",
        raw.run.replicates as f64,
    )?;

    // Regions. `first` maps each name to its first region (look-ups stay linear).
    let mut first: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    if raw.region.is_empty() {
        return Err(c.err("region", "at least one [[region]] is required"));
    }
    for (i, r) in raw.region.iter().enumerate() {
        let k = |f: &str| format!("region[{i}].{f}");
        check_name(&r.name).map_err(|m| c.err(&k("name"), m))?;
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
        c.group(&format!("region[{i}]"), "region", r)?;
        if r.workers_per_household > r.household_size {
            return Err(c.err(
                &k("workers_per_household"),
                format!(
                    "must be at most household_size ({}), got {}",
                    r.household_size, r.workers_per_household
                ),
            ));
        }
        if r.migrants_per_100 > 100.0 - r.local_jobs_per_100 {
            return Err(c.err(
                &k("migrants_per_100"),
                format!(
                    "must be at most 100 − local_jobs_per_100 ({}), got {}",
                    100.0 - r.local_jobs_per_100,
                    r.migrants_per_100
                ),
            ));
        }
    }
    if !raw.region.iter().any(|r| r.side == Side::West) {
        return Err(c.err(
            "region",
            "at least one western region (side = \"west\") is required: the poverty and \
             return-to-poverty measures are those of western households",
        ));
    }
    let total: u64 = raw.region.iter().map(|r| r.households as u64).sum();
    if total > schema::MAX_TOTAL_HOUSEHOLDS {
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
        c.group(&format!("link[{i}].channels"), "link.channels", ch)?;
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
        c.group(&format!("phase[{i}].scales"), "phase.scales", s)?;
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
        c.key(&k("severity"), "shock.severity", s.severity)?;
        c.key(&k("months"), "shock.months", s.months as f64)?;
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
        let start_month = (c.date(&k("start"), &s.start)?.index() - calendar.start.index()) as u32;
        shocks.push(Shock {
            kind: s.kind,
            start,
            start_month,
            months: s.months,
            months_per_tick: step.months(),
            severity: s.severity,
            regions,
        });
    }

    // Parameter groups.
    c.group("poverty", "poverty", &raw.poverty)?;
    c.group("policy", "policy", &raw.policy)?;
    let a = &raw.policy.allocation;
    let sum: f64 = a.shares().iter().sum();
    if (sum - 1.0).abs() > 1e-6 {
        return Err(c.err("policy.allocation", format!("shares must sum to 1, got {sum:.6} (transfers + welfare_posts + industry + training + infrastructure + reserve)")));
    }
    c.group("households", "households", &raw.households)?;
    c.group("firms", "firms", &raw.firms)?;
    c.group("market", "market", &raw.market)?;
    c.group("centre", "centre", &raw.centre)?;
    c.group("social", "social", &raw.social)?;
    c.group("costs", "costs", &raw.costs)?;
    c.group("protection", "protection", &raw.protection)?;
    c.group("demography", "demography", &raw.demography)?;
    if raw.demography.farm_exit_age < raw.demography.retirement_age {
        return Err(c.err(
            "demography.farm_exit_age",
            format!(
                "must be at least demography.retirement_age ({}), got {}",
                raw.demography.retirement_age, raw.demography.farm_exit_age
            ),
        ));
    }
    c.group("prices", "prices", &raw.prices)?;
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
        costs: raw.costs,
        protection: raw.protection,
        demography: raw.demography,
        prices: raw.prices,
    };
    Ok(Loaded {
        config,
        resolved: doc.table.clone(),
        replicates: raw.run.replicates,
        description: raw.description,
        files: doc.files.clone(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names_cannot_leave_the_output_directory() {
        for ok in [
            "two_way_market",
            "东西部协作·两路",
            "R&D（试点）",
            "Chun'an",
            "Inner Mongolia",
            "浙江 (山区)",
            "a.b",
            "x+y",
        ] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " ",
            "../../x",
            "/abs/x",
            "a/b",
            "a\\b",
            "..",
            ".",
            "a..b",
            "x\n",
            " lead",
            "trail ",
            &"n".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
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
