//! Scenario files as a user writes them: `extends` merging arrays by identity (with
//! `remove` and `replace`), what `check` lists, built-in scenarios named from anywhere,
//! bounds on `extends` chains and `--set` paths, and large files.

use std::path::Path;
use std::process::{Command, Output};

use xiezuo::scenario::{self, Loaded};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xiezuo"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

const SHIPPED: [&str; 6] = [
    "baseline_no_pairing",
    "one_way_aid",
    "two_way_market",
    "two_way_budget_neutral",
    "china_2021_pairings",
    "zhejiang_mountain_sea",
];

/// A temporary directory, removed when dropped; derefs to its path.
struct Dir(tempfile::TempDir);

impl std::ops::Deref for Dir {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

/// Writes files into a fresh temporary directory and returns it.
fn files(list: &[(&str, &str)]) -> Dir {
    let dir = Dir(tempfile::tempdir().unwrap());
    for (name, text) in list {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

/// Loads `name` in `dir` through the library.
fn load(dir: &Path, name: &str) -> Result<Loaded, scenario::ScenarioError> {
    scenario::load_file(&dir.join(name), &[])
}

/// `check` on a file; returns (exit code, stdout, stderr).
fn check(path: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["check", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = run(&args);
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "panic: {err}");
    (o.status.code(), stdout(&o), err)
}

fn names(l: &Loaded, key: &str) -> Vec<String> {
    l.resolved[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e.get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The shipped scenarios resolve exactly as before identity merging.
// ---------------------------------------------------------------------------------------

/// `tests/data/resolved/NAME.toml` were written by the replace-the-whole-array merge that
/// came before identity merging; the shipped scenarios re-declare their parents' links and
/// phases, so both merges must give the same documents (files and built-ins alike).
#[test]
fn shipped_scenarios_resolve_exactly_as_before() {
    for n in SHIPPED {
        let want =
            std::fs::read_to_string(root().join(format!("tests/data/resolved/{n}.toml"))).unwrap();
        let file = scenario::load_file(&root().join(format!("scenarios/{n}.toml")), &[])
            .unwrap_or_else(|e| panic!("{n}: {e}"));
        if std::env::var_os("XIEZUO_BLESS").is_some() {
            // A deliberate change of a shipped scenario's content (not of the merge) rewrites
            // the expected documents: `XIEZUO_BLESS=1 cargo test --release --test
            // scenario_files`, then review the diff.
            let path = root().join(format!("tests/data/resolved/{n}.toml"));
            std::fs::write(path, toml::to_string(&file.resolved).unwrap()).unwrap();
            continue;
        }
        assert_eq!(toml::to_string(&file.resolved).unwrap(), want, "{n} (file)");
        let built_in = scenario::load_builtin(n, &[]).unwrap();
        assert_eq!(
            toml::to_string(&built_in.resolved).unwrap(),
            want,
            "{n} (builtin)"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Identity merging.
// ---------------------------------------------------------------------------------------

/// A child of two_way_market (from its file on disk).
fn child_of_two_way(body: &str) -> String {
    format!(
        "extends = \"{}\"\nname = \"child\"\n{body}",
        root().join("scenarios/two_way_market.toml").display()
    )
}

#[test]
fn a_child_that_adds_a_phase_keeps_the_parents_phases() {
    let dir = files(&[(
        "c.toml",
        &child_of_two_way(
            "[[phase]]\nname = \"recovery\"\nstart = \"2023-01\"\n[phase.scales]\nfiscal_aid = 0.5\n",
        ),
    )]);
    let l = load(&dir, "c.toml").unwrap();
    assert_eq!(names(&l, "phase"), ["aid", "withdrawal", "recovery"]);
    let w = &l.resolved["phase"][1]["scales"];
    assert_eq!(w["fiscal_aid"].as_float(), Some(0.0));
    assert_eq!(w["market"].as_float(), Some(1.0));
    let starts: Vec<u32> = l.config.phases.iter().map(|p| p.start).collect();
    assert_eq!(starts, [0, 60, 84]);
    // `check` lists them with their dates.
    let (code, out, err) = check(&dir.join("c.toml"), &[]);
    assert_eq!(code, Some(0), "{err}");
    for want in [
        "withdrawal  from 2021-01",
        "recovery    from 2023-01",
        "aid         from 2016-01",
    ] {
        assert!(out.contains(want), "missing `{want}`:\n{out}");
    }
}

#[test]
fn a_child_that_adds_a_link_keeps_the_parents_link_and_channels() {
    let body = "[[region]]\nname = \"Hill\"\nside = \"west\"\nhouseholds = 500\nincome_median = 6000.0\nwage = 20000.0\n\n[[link]]\neast = \"Coastal\"\nwest = \"Hill\"\nstart = \"2018-01\"\n[link.channels]\nfiscal_aid = 1.0e8\n";
    let dir = files(&[("c.toml", &child_of_two_way(body))]);
    let l = load(&dir, "c.toml").unwrap();
    assert_eq!(names(&l, "region"), ["Upland", "Coastal", "Hill"]);
    let links = &l.config.links;
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].channels.market_access, 0.5);
    assert_eq!(links[0].channels.labour_demand, 60000.0);
    assert_eq!(links[0].channels.fiscal_aid, 1.5e9);
    assert_eq!(links[1].channels.fiscal_aid, 1.0e8);
    assert_eq!(links[1].start, 24);
    let (code, out, _) = check(&dir.join("c.toml"), &[]);
    assert_eq!(code, Some(0));
    assert!(out.contains("Coastal → Upland"), "{out}");
    assert!(
        out.contains("Coastal → Hill") && out.contains("from 2018-01"),
        "{out}"
    );
    assert!(out.contains("Hill") && out.contains("west") && out.contains("500 households"));
}

#[test]
fn same_identity_overrides_key_by_key() {
    let body = "[[link]]\neast = \"Coastal\"\nwest = \"Upland\"\n[link.channels]\nfiscal_aid = 2.0e9\n\n[[phase]]\nname = \"withdrawal\"\nstart = \"2022-01\"\n\n[[region]]\nname = \"Upland\"\nhouseholds = 3000\n\n[[shock]]\nkind = \"pandemic\"\nstart = \"2022-02\"\nseverity = 0.5\n";
    let dir = files(&[("c.toml", &child_of_two_way(body))]);
    let l = load(&dir, "c.toml").unwrap();
    let c = &l.config;
    assert_eq!(c.links.len(), 1);
    assert_eq!(c.links[0].channels.fiscal_aid, 2.0e9);
    assert_eq!(
        c.links[0].channels.market_access, 0.5,
        "other channels kept"
    );
    assert_eq!(c.links[0].start, 0, "start kept");
    assert_eq!(names(&l, "phase"), ["aid", "withdrawal"]);
    assert_eq!(c.phases[1].start, 72);
    assert_eq!(c.phases[1].scales.market, 1.0, "scales kept");
    assert_eq!(c.regions[0].households, 3000);
    assert_eq!(c.regions[0].wage, 24000.0, "other region keys kept");
    assert_eq!(c.shocks.len(), 2);
    assert_eq!(c.shocks[0].severity, 0.5);
    assert_eq!(c.shocks[0].months, 6, "months kept");
}

#[test]
fn remove_drops_one_element_and_replace_the_whole_list() {
    let body = "[[phase]]\nname = \"withdrawal\"\nremove = true\n\n[[shock]]\nkind = \"disaster\"\nstart = \"2023-07\"\nremove = true\n";
    let dir = files(&[("c.toml", &child_of_two_way(body))]);
    let l = load(&dir, "c.toml").unwrap();
    assert_eq!(names(&l, "phase"), ["aid"]);
    assert_eq!(l.config.shocks.len(), 1);
    assert!(!toml::to_string(&l.resolved).unwrap().contains("remove"));

    // replace: the child's list only; a replaced list the child leaves out is empty.
    let body = "replace = [\"link\", \"shock\"]\n[[link]]\neast = \"Coastal\"\nwest = \"Upland\"\nstart = \"2019-01\"\n[link.channels]\nprocurement = 1.0e8\n";
    let dir = files(&[("c.toml", &child_of_two_way(body))]);
    let l = load(&dir, "c.toml").unwrap();
    let c = &l.config;
    assert_eq!(c.links.len(), 1);
    assert_eq!(
        c.links[0].channels.fiscal_aid, 0.0,
        "parent's channels gone"
    );
    assert_eq!(c.links[0].channels.procurement, 1.0e8);
    assert!(c.shocks.is_empty());
    assert_eq!(names(&l, "phase"), ["aid", "withdrawal"], "not replaced");
    assert!(!toml::to_string(&l.resolved).unwrap().contains("replace"));
    let (code, out, _) = check(&dir.join("c.toml"), &[]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("shocks (0)") && out.contains("links (1)"),
        "{out}"
    );
}

const PARENT: &str = r#"name = "p"
[time]
start = "2016-01"
years = 5
[[region]]
name = "E"
side = "east"
households = 50
income_median = 20000.0
wage = 50000.0
[[region]]
name = "W"
side = "west"
households = 100
income_median = 6000.0
wage = 20000.0
"#;

#[test]
fn named_links_and_shocks_merge_by_name() {
    let parent = format!(
        "{PARENT}{}",
        r#"[[link]]
name = "early"
east = "E"
west = "W"
end = "2018-01"
[link.channels]
fiscal_aid = 1.0e7
[[link]]
name = "late"
east = "E"
west = "W"
start = "2018-01"
[link.channels]
fiscal_aid = 2.0e7
[[shock]]
name = "flood"
kind = "disaster"
start = "2017-07"
severity = 0.2
"#
    );
    let child = "extends = \"p.toml\"\nname = \"c\"\n[[link]]\nname = \"late\"\n[link.channels]\nmarket_access = 0.3\n[[shock]]\nname = \"flood\"\nseverity = 0.6\n";
    let dir = files(&[("p.toml", &parent), ("c.toml", child)]);
    let l = load(&dir, "c.toml").unwrap();
    let c = &l.config;
    assert_eq!(c.links.len(), 2);
    assert_eq!(c.links[1].channels.fiscal_aid, 2.0e7);
    assert_eq!(c.links[1].channels.market_access, 0.3);
    assert_eq!(c.links[0].channels.market_access, 0.0);
    assert_eq!(c.shocks.len(), 1);
    assert_eq!(c.shocks[0].severity, 0.6);
    // --set addresses a named link too.
    let l = scenario::load_file(
        &dir.join("c.toml"),
        &["link.early.channels.fiscal_aid=3e7".into()],
    )
    .unwrap();
    assert_eq!(l.config.links[0].channels.fiscal_aid, 3.0e7);
    // An unnamed link with a named parent link's pair must say which it means.
    let dir2 = files(&[
        ("p.toml", &parent),
        (
            "c.toml",
            "extends = \"p.toml\"\nname = \"c\"\n\n[[link]]\neast = \"E\"\nwest = \"W\"\n",
        ),
    ]);
    let (code, _, err) = check(&dir2.join("c.toml"), &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("c.toml:4") && err.contains("link[0]") && err.contains("named `early`"),
        "{err}"
    );
}

#[test]
fn errors_in_merged_elements_point_at_the_file_and_line_that_wrote_them() {
    let parent = format!(
        "{PARENT}{}",
        "[[phase]]\nname = \"a\"\nstart = \"2017-01\"\n[[phase]]\nname = \"b\"\nstart = \"2018-01\"\n[phase.scales]\nmarket = 500.0\n"
    );
    let market_line = parent
        .lines()
        .position(|l| l.starts_with("market"))
        .unwrap()
        + 1;
    // The child removes phase `a`: phase `b` becomes phase[0], its bad key is the parent's.
    let child = "extends = \"p.toml\"\nname = \"c\"\n\n[[phase]]\nname = \"a\"\nremove = true\n";
    let dir = files(&[("p.toml", &parent), ("c.toml", child)]);
    let (code, _, err) = check(&dir.join("c.toml"), &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(&format!("p.toml:{market_line}")) && err.contains("phase[0].scales.market"),
        "{err}"
    );
    // A key the child overrides is located in the child.
    let child = "extends = \"p.toml\"\nname = \"c\"\n\n[[phase]]\nname = \"b\"\n[phase.scales]\nmarket = 1.0\nfiscal_aid = -1.0\n";
    let dir = files(&[("p.toml", &parent), ("c.toml", child)]);
    let (code, _, err) = check(&dir.join("c.toml"), &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("c.toml:8") && err.contains("phase[1].scales.fiscal_aid"),
        "{err}"
    );
}

#[test]
fn misused_merge_directives_are_located_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[[phase]]\nname = \"nope\"\nremove = true\n",
            "c.toml:5",
            "no `phase` with name = \"nope\"",
        ),
        (
            "[[phase]]\nname = \"aid\"\nremove = true\nstart = \"2016-01\"\n",
            "phase[0].start",
            "carries only its identity",
        ),
        (
            "[[phase]]\nname = \"aid\"\nremove = \"yes\"\n",
            "phase[0].remove",
            "expected `remove = true`",
        ),
        ("replace = [\"links\"]\n", "replace[0]", "did you mean `link`"),
        ("replace = \"link\"\n", "c.toml:3", "expected a list"),
        (
            "replace = [\"phase\"]\n[[phase]]\nname = \"aid\"\nremove = true\n",
            "phase[0].remove",
            "nothing to remove",
        ),
        (
            "[[phase]]\nname = \"x\"\nstart = \"2017-01\"\n[[phase]]\nname = \"x\"\nstart = \"2018-01\"\n",
            "phase[1]",
            "duplicate phase name `x`",
        ),
        (
            "[[shock]]\nkind = \"pandemic\"\nstart = \"2019-01\"\nseverity = 0.1\n[[shock]]\nkind = \"pandemic\"\nstart = \"2019-01\"\nseverity = 0.2\n",
            "shock[1]",
            "give them distinct names",
        ),
        (
            "[[link]]\nwest = \"Upland\"\nremove = true\n",
            "link[0].remove",
            "identified by its `name`, or by `east` and `west`",
        ),
    ];
    for (body, place, what) in cases {
        let dir = files(&[("c.toml", &child_of_two_way(body))]);
        let (code, _, err) = check(&dir.join("c.toml"), &[]);
        assert_eq!(code, Some(2), "{body}: {err}");
        assert!(
            err.contains(place) && err.contains(what),
            "{body}: expected `{place}` and `{what}` in:\n{err}"
        );
        assert!(err.contains("c.toml"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------
// `check` lists what the resolved scenario contains.
// ---------------------------------------------------------------------------------------

#[test]
fn check_lists_regions_links_phases_and_shocks() {
    let (code, out, err) = check(&root().join("scenarios/zhejiang_mountain_sea.toml"), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("regions (48):"), "{out}");
    assert!(out.contains("links (22):"), "{out}");
    assert!(
        out.contains("Yueqing → Pingyang") && out.contains("to 2024-08"),
        "{out}"
    );
    assert!(
        out.contains("cliff") && out.contains("from 2021-01"),
        "{out}"
    );
    assert!(
        out.contains("pandemic") && out.contains("from 2020-02, 6 months"),
        "{out}"
    );
    let chun = out
        .lines()
        .find(|l| l.trim_start().starts_with("Chun'an"))
        .unwrap();
    assert!(
        chun.contains("west") && chun.contains("households"),
        "{chun}"
    );
}

// ---------------------------------------------------------------------------------------
// Built-in scenarios from anywhere.
// ---------------------------------------------------------------------------------------

#[test]
fn builtins_are_named_as_builtin_name_everywhere() {
    for spec in ["builtin:one_way_aid", "builtin:one_way_aid.toml"] {
        let o = run(&["check", spec]);
        assert!(o.status.success(), "{spec}: {}", stderr(&o));
        assert!(stdout(&o).contains("scenario `one_way_aid`"));
    }
    // Unknown: exit 2, a suggestion and the list.
    let o = run(&["check", "builtin:two_way_markte"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("did you mean `builtin:two_way_market`"),
        "{err}"
    );
    assert!(err.contains("builtin:zhejiang_mountain_sea"), "{err}");
    assert!(!err.contains("panicked"));

    // run and compare.
    let tmp = tempfile::tempdir().unwrap();
    let small = [
        "--set",
        "region.Upland.households=400",
        "--set",
        "region.Coastal.households=100",
    ];
    let out = tmp.path().join("run");
    let mut args = vec![
        "run",
        "builtin:two_way_market",
        "--years",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&small);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let resolved = std::fs::read_to_string(out.join("scenario.resolved.toml")).unwrap();
    assert!(resolved.contains("builtin:two_way_market"), "{resolved}");
    let cmp = tmp.path().join("cmp");
    let mut args = vec![
        "compare",
        "builtin:baseline_no_pairing",
        "builtin:one_way_aid.toml",
        "--replicates",
        "2",
        "--years",
        "1",
        "--format",
        "csv",
        "--out",
        cmp.to_str().unwrap(),
    ];
    args.extend_from_slice(&small);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("`baseline_no_pairing`") && stdout(&o).contains("`one_way_aid`"));

    // extends from a file anywhere.
    let dir = files(&[(
        "mine.toml",
        "extends = \"builtin:two_way_market\"\nname = \"mine\"\n[policy]\nleakage = 0.2\n",
    )]);
    let l = load(&dir, "mine.toml").unwrap();
    assert_eq!(l.config.policy.leakage, 0.2);
    assert_eq!(l.config.links[0].channels.market_access, 0.5);
    assert_eq!(
        l.files,
        [
            "builtin:baseline_no_pairing",
            "builtin:one_way_aid",
            "builtin:two_way_market",
            dir.join("mine.toml").to_str().unwrap()
        ]
    );
    let dir = files(&[("bad.toml", "extends = \"builtin:nope\"\nname = \"x\"\n")]);
    let (code, _, err) = check(&dir.join("bad.toml"), &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("bad.toml:1") && err.contains("built-in scenarios are"),
        "{err}"
    );
    // The old form in batch files keeps working.
    assert!(scenario::load_builtin("one_way_aid.toml", &[]).is_ok());
}

#[test]
fn scenarios_lists_the_builtins_and_show_prints_a_standalone_file() {
    let o = run(&["scenarios"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for n in SHIPPED {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("builtin:{n} ")))
            .unwrap_or_else(|| panic!("{n} not listed:\n{out}"));
        assert!(
            line.split_whitespace().count() > 3,
            "no description: {line}"
        );
    }
    let o = run(&["scenarios", "show", "two_way_market"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.contains("extends = \"builtin:one_way_aid\""), "{text}");
    // Saved next to nothing else, the text checks and resolves as the built-in does.
    let dir = files(&[("copy.toml", &text)]);
    let copy = load(&dir, "copy.toml").unwrap();
    let orig = scenario::load_builtin("two_way_market", &[]).unwrap();
    assert_eq!(copy.resolved, orig.resolved);
    let o = run(&["scenarios", "show", "builtin:one_way_aid.toml"]);
    assert!(o.status.success());
    let o = run(&["scenarios", "show", "one_way"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `builtin:one_way_aid`"));
}

// ---------------------------------------------------------------------------------------
// Bounds.
// ---------------------------------------------------------------------------------------

/// A chain c1 -> c2 -> ... -> cN -> the built-in baseline.
fn chain(n: usize) -> Dir {
    let dir = Dir(tempfile::tempdir().unwrap());
    for i in 1..=n {
        let next = if i == n {
            "builtin:baseline_no_pairing".to_string()
        } else {
            format!("c{}.toml", i + 1)
        };
        std::fs::write(
            dir.join(format!("c{i}.toml")),
            format!("extends = \"{next}\"\nname = \"c{i}\"\n"),
        )
        .unwrap();
    }
    dir
}

#[test]
fn extends_chains_are_bounded() {
    // 31 files plus the built-in: 32, the limit.
    let dir = chain(scenario::MAX_EXTENDS_DEPTH - 1);
    let (code, _, err) = check(&dir.join("c1.toml"), &[]);
    assert_eq!(code, Some(0), "{err}");
    // 20,000 files (once a stack overflow): exit 2 naming the file one level too deep.
    let dir = chain(20_000);
    let (code, _, err) = check(&dir.join("c1.toml"), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("c32.toml:1") && err.contains("deeper than 32 files"),
        "{err}"
    );
}

#[test]
fn set_paths_are_bounded() {
    let deep = vec!["a"; 60_000].join(".") + "=1";
    let (code, _, err) = check(
        &root().join("scenarios/one_way_aid.toml"),
        &["--set", &deep],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("60000 segments") && err.contains("at most 64"),
        "{err}"
    );
    assert!(
        err.len() < 1000,
        "the argument is shortened: {} bytes",
        err.len()
    );
    let ok = vec!["a"; 64].join(".") + "=1";
    let (code, _, err) = check(&root().join("scenarios/one_way_aid.toml"), &["--set", &ok]);
    assert_eq!(code, Some(2), "an unknown key, not a path too long");
    assert!(err.contains("unknown key"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Large files.
// ---------------------------------------------------------------------------------------

#[test]
fn a_several_megabyte_scenario_loads() {
    // 20,000 regions and a shock whose region list has 200,000 entries: about 4 MB.
    let mut text = String::from("name = \"big\"\n[time]\nstart = \"2016-01\"\nyears = 2\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "\n[[region]]\nname = \"R{i}\"\nside = \"{}\"\nhouseholds = 1\nincome_median = 7000.0\nwage = 24000.0\n",
            if i % 2 == 0 { "west" } else { "east" }
        ));
    }
    text.push_str(
        "\n[[shock]]\nkind = \"disaster\"\nstart = \"2017-01\"\nseverity = 0.1\nregions = [\n",
    );
    for i in 0..200_000 {
        text.push_str(&format!("  \"R{}\",\n", (i % 10_000) * 2));
    }
    text.push_str("]\n");
    assert!(text.len() > 3_000_000, "{} bytes", text.len());
    let dir = files(&[("big.toml", &text)]);
    let l = load(&dir, "big.toml").unwrap();
    assert_eq!(l.config.regions.len(), 20_000);
    assert_eq!(l.config.shocks[0].regions.len(), 200_000);
    // An error deep in the file still names its line.
    let bad = text.replace("  \"R19998\",\n]", "  \"Nowhere\",\n]");
    let lines = bad.lines().count();
    let dir = files(&[("big.toml", &bad)]);
    let err = load(&dir, "big.toml").unwrap_err().to_string();
    assert!(
        err.contains(&format!("big.toml:{}", lines - 1))
            && err.contains("shock[0].regions[199999]"),
        "{err}"
    );
}
