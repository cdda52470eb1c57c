//! The model description and the code change together. One schema of scenario keys
//! (`model::schema`) gives every key's type, default, unit, range and meaning:
//! - every parameter of the code's parameter structs has a schema entry with the code's
//!   default (so the validator checks its range, and `xiezuo keys` lists it);
//! - `docs/ODD.md` §7.10 is exactly the schema's tables (`xiezuo keys --format markdown`).

use std::collections::BTreeMap;

use xiezuo::model::config::{
    CentreParams, Channels, FirmParams, HouseholdParams, MarketParams, PhaseScales, Policy,
    PovertyParams, Region, SocialParams,
};
use xiezuo::model::schema;

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

#[test]
fn odd_parameter_tables_are_the_schema() {
    let odd = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ODD.md"))
        .expect("docs/ODD.md");
    for (n, title) in schema::SECTIONS {
        let heading = format!("#### 7.10.{n} {title}\n\n");
        let at = odd
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/ODD.md lacks the heading `#### 7.10.{n} {title}`"));
        let body = &odd[at + heading.len()..];
        let end = body.find("\n#").unwrap_or(body.len());
        let got = body[..end].trim_end();
        let want = schema::markdown(n);
        assert_eq!(
            got,
            want.trim_end(),
            "docs/ODD.md §7.10.{n} differs from the schema; regenerate it with \
             `xiezuo keys --format markdown`"
        );
    }
}

#[test]
fn every_default_in_the_code_is_the_schemas() {
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
        (
            "link.channels",
            toml::Value::try_from(Channels::default()).unwrap(),
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
    let mut checked = 0;
    for (key, value) in &code {
        let want = match value {
            toml::Value::Float(f) => *f,
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Boolean(b) => *b as u8 as f64,
            _ => continue,
        };
        let spec_key =
            if ["phase.scales"].iter().any(|p| key.starts_with(p)) || schema::get(key).is_some() {
                key.clone()
            } else {
                format!("region.{key}")
            };
        let spec = schema::get(&spec_key).unwrap_or_else(|| {
            panic!("parameter `{key}` (default {want}) has no entry in model::schema::KEYS")
        });
        let got = match spec.default {
            schema::Default::Number(v) => v,
            schema::Default::Bool(b) => b as u8 as f64,
            other => panic!("schema gives `{spec_key}` the default {other:?}, not a value"),
        };
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "the schema says `{spec_key}` defaults to {got}, the code to {want}"
        );
        checked += 1;
    }
    assert!(checked >= 70, "only {checked} defaults checked");
}
