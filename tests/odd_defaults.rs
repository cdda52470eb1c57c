//! The model description and the code change together: every parameter with a default in
//! the code is listed in `docs/ODD.md` §7.10 with that same default.

use std::collections::BTreeMap;

use xiezuo::model::config::{
    CentreParams, FirmParams, HouseholdParams, MarketParams, PhaseScales, Policy, PovertyParams,
    Region, SocialParams,
};

fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, toml::Value>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                flatten(&format!("{prefix}.{k}"), x, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// `key → default cell` from every `| \`key\` | default | ...` row of the ODD.
fn documented() -> BTreeMap<String, String> {
    let odd = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ODD.md"))
        .expect("docs/ODD.md");
    let mut out = BTreeMap::new();
    for line in odd.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3 {
            out.insert(cells[1].trim_matches('`').to_string(), cells[2].to_string());
        }
    }
    out
}

fn parse_cell(cell: &str) -> Option<f64> {
    let first = cell.split(['(', ' ']).next()?.replace(',', "");
    match first.as_str() {
        "true" => Some(1.0),
        "false" => Some(0.0),
        s => s.parse().ok(),
    }
}

#[test]
fn every_default_is_documented_with_its_value() {
    let mut code = BTreeMap::new();
    let groups: Vec<(&str, toml::Value)> = vec![
        (
            "poverty",
            toml::Value::try_from(PovertyParams::default()).unwrap(),
        ),
        ("policy", toml::Value::try_from(Policy::default()).unwrap()),
        (
            "households",
            toml::Value::try_from(HouseholdParams::default()).unwrap(),
        ),
        (
            "firms",
            toml::Value::try_from(FirmParams::default()).unwrap(),
        ),
        (
            "market",
            toml::Value::try_from(MarketParams::default()).unwrap(),
        ),
        (
            "centre",
            toml::Value::try_from(CentreParams::default()).unwrap(),
        ),
        (
            "social",
            toml::Value::try_from(SocialParams::default()).unwrap(),
        ),
        (
            "phase.scales",
            toml::Value::try_from(PhaseScales::default()).unwrap(),
        ),
    ];
    for (prefix, v) in &groups {
        flatten(prefix, v, &mut code);
    }
    // Region defaults: a region with only its required keys.
    let region: Region = toml::from_str(
        "name = \"x\"\nside = \"west\"\nhouseholds = 1\nincome_median = 1.0\nwage = 1.0\n",
    )
    .unwrap();
    let mut regions = BTreeMap::new();
    flatten("r", &toml::Value::try_from(region).unwrap(), &mut regions);
    for (k, v) in regions {
        let key = k.trim_start_matches("r.").to_string();
        if !["name", "side", "households", "income_median", "wage"].contains(&key.as_str()) {
            code.insert(key, v);
        }
    }
    let docs = documented();
    let mut checked = 0;
    for (key, value) in &code {
        let want = match value {
            toml::Value::Float(f) => *f,
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Boolean(b) => *b as u8 as f64,
            _ => continue,
        };
        let cell = docs.get(key).unwrap_or_else(|| {
            panic!("parameter `{key}` (default {want}) is missing from docs/ODD.md §7.10")
        });
        let got = parse_cell(cell).unwrap_or_else(|| {
            panic!("docs/ODD.md gives `{key}` the default `{cell}`, not a number")
        });
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "docs/ODD.md says `{key}` defaults to {got}, the code to {want}"
        );
        checked += 1;
    }
    assert!(checked >= 70, "only {checked} defaults checked");
}
