//! Batches as a user runs them: determinism across jobs and shards, resume after SIGKILL,
//! failed runs recorded while the batch goes on, merge checks.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xiezuo"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A small batch: 2 scenarios × 3 points × 2 replicates = 12 runs.
fn batch_file(dir: &Path, households: u32, extra_point: &str) -> PathBuf {
    let p = dir.join("b.toml");
    let text = format!(
        r#"name = "t"
seed = 11
replicates = 2
years = 3

[[scenario]]
builtin = "one_way_aid.toml"
label = "one"
set = ["region.Upland.households={households}", "region.Coastal.households=300"]

[[scenario]]
builtin = "two_way_market.toml"
label = "two"
set = ["region.Upland.households={households}", "region.Coastal.households=300"]

[sweep]
method = "list"
[[sweep.param]]
key = "policy.leakage"
values = [0.0, 0.2{extra_point}]
[[sweep.param]]
key = "households.dependency"
values = [0.3, 0.6, 0.9]

[output]
tables = ["metrics", "links"]
"#
    );
    std::fs::write(&p, text).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn jobs_and_shards_give_identical_merged_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let f = batch_file(tmp.path(), 1500, ", 0.4");
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let c = tmp.path().join("c");
    ok(&["batch", s(&f), "--out", s(&a), "--jobs", "1"]);
    ok(&["merge", s(&a)]);
    ok(&["batch", s(&f), "--out", s(&b), "--jobs", "2"]);
    ok(&["merge", s(&b)]);
    for k in 0..3 {
        ok(&[
            "batch",
            s(&f),
            "--out",
            s(&c),
            "--shard",
            &format!("{k}/3"),
            "--jobs",
            "1",
        ]);
    }
    ok(&["merge", s(&c)]);
    for t in ["metrics.parquet", "links.parquet", "runs.parquet"] {
        let ra = std::fs::read(a.join(t)).unwrap();
        assert!(ra.len() > 1000, "{t} is too small");
        assert!(
            ra == std::fs::read(b.join(t)).unwrap(),
            "{t}: --jobs 1 and --jobs 2 differ"
        );
        assert!(
            ra == std::fs::read(c.join(t)).unwrap(),
            "{t}: unsharded and 3 shards differ"
        );
    }
    // Summaries across replicates.
    let out = ok(&["summarize", s(&a)]);
    assert!(out.contains("summary.parquet"));
    assert!(a.join("summary.parquet").metadata().unwrap().len() > 1000);
}

/// Runs whose every kept table (metrics and links) has been written.
fn count_parts(dir: &Path) -> usize {
    let ids = |t: &str| -> std::collections::BTreeSet<String> {
        std::fs::read_dir(dir.join("parts").join(t))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| n.starts_with("part-") && n.ends_with(".parquet"))
                    .collect()
            })
            .unwrap_or_default()
    };
    ids("metrics").intersection(&ids("links")).count()
}

#[test]
fn resume_after_sigkill_matches_an_uninterrupted_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let f = batch_file(tmp.path(), 20_000, ", 0.4");
    let full = tmp.path().join("full");
    ok(&["batch", s(&f), "--out", s(&full), "--jobs", "2"]);
    ok(&["merge", s(&full)]);
    let cut = tmp.path().join("cut");
    let mut child = bin()
        .args(["batch", s(&f), "--out", s(&cut), "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while count_parts(&cut) < 2 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = count_parts(&cut);
    assert!(
        (2..12).contains(&before),
        "the batch should have been killed mid-way ({before} of 12 runs done)"
    );
    // Merging an unfinished batch reports the missing runs.
    let m = run(&["merge", s(&cut)]);
    assert!(!m.status.success() && String::from_utf8_lossy(&m.stderr).contains("missing"));
    // Without --resume the directory is refused; with it only missing runs run.
    let again = run(&["batch", s(&f), "--out", s(&cut)]);
    assert_eq!(again.status.code(), Some(2));
    let out = ok(&["batch", s(&f), "--out", s(&cut), "--resume"]);
    assert!(out.contains(&format!("{before} already done")), "{out}");
    ok(&["merge", s(&cut)]);
    for t in ["metrics.parquet", "links.parquet"] {
        assert!(
            std::fs::read(full.join(t)).unwrap() == std::fs::read(cut.join(t)).unwrap(),
            "{t} differs after resume"
        );
    }
}

#[test]
fn an_out_of_range_sweep_value_is_exit_2_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    // Leakage 1.5 is out of range: every point is loaded before the first run.
    let f = batch_file(tmp.path(), 800, ", 1.5");
    let d = tmp.path().join("d");
    let out = run(&["batch", s(&f), "--out", s(&d)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // File, line and key of the batch file; the point and the scenario's own message.
    assert!(
        err.contains(&format!("{}:20: key `sweep.param[0].values`", f.display())),
        "{err}"
    );
    assert!(
        err.contains("sweep point 3 of 3")
            && err.contains("policy.leakage=1.5")
            && err.contains("scenario `one`")
            && err.contains("nothing was run"),
        "{err}"
    );
    assert!(!d.exists(), "nothing may be written");
    // An unknown swept key likewise.
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("households.dependency", "households.dependancy");
    std::fs::write(&f, text).unwrap();
    let out = run(&["batch", s(&f), "--out", s(&d)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("households.dependancy"), "{err}");
    assert!(!d.exists(), "nothing may be written");
}

#[test]
fn batch_sizes_are_bounded_with_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("big.toml");
    let base = "name = \"x\"\n[[scenario]]\nbuiltin = \"one_way_aid.toml\"\n[[scenario]]\nbuiltin = \"two_way_market.toml\"\n";
    let cases: [(&str, &str, &str); 5] = [
        ("replicates = 1000000000\n", "2: key `replicates`", "[1, 100000]"),
        ("years = 0\n", "2: key `years`", "[1, 200]"),
        ("replicates = 60000\n[sweep]\nmethod = \"grid\"\n[[sweep.param]]\nkey = \"policy.leakage\"\nvalues = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]\n",
            "key `replicates`", "2 scenarios × 10 points × 60000 replicates = 1200000 runs; a batch has at most 1000000 runs"),
        ("[sweep]\nmethod = \"grid\"\n[[sweep.param]]\nkey = \"policy.leakage\"\nrange = [0.0, 1e300, 1.0]\n", "key `sweep.param[0].range`", "too many"),
        ("[sweep]\nmethod = \"grid\"\n[[sweep.param]]\nkey = \"policy.leakage\"\nrange = [0.0, 0.999, 0.001]\n[[sweep.param]]\nkey = \"households.dependency\"\nrange = [0.0, 0.999, 0.001]\n[[sweep.param]]\nkey = \"policy.dividend_share\"\nrange = [0.0, 0.999, 0.001]\n",
            "key `sweep.param`", "at most 1000000"),
    ];
    for (extra, key, msg) in cases {
        // Top-level keys go before the first table.
        let text = match extra.split_once("[sweep]") {
            Some((top, sweep)) => format!("{top}{base}[sweep]{sweep}"),
            None => format!("{extra}{base}"),
        };
        let text = text.replacen("name = \"x\"\n", "", 1);
        std::fs::write(&f, format!("name = \"x\"\n{text}")).unwrap();
        let d = tmp.path().join("o");
        let out = run(&["batch", s(&f), "--out", s(&d)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra}: {err}");
        assert!(
            err.contains(&f.display().to_string()) && err.contains(key) && err.contains(msg),
            "{extra}: {err}"
        );
        assert!(!d.exists());
    }
}

#[test]
fn bad_batch_files_are_rejected_with_exit_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.toml");
    std::fs::write(&f, "name = \"x\"\n[[scenario]]\nbuiltin = \"one_way_aid.toml\"\n[sweep]\nmethod = \"grd\"\n[[sweep.param]]\nkey = \"policy.leakage\"\nvalues = [0.1]\n").unwrap();
    let out = run(&["batch", s(&f), "--out", s(&tmp.path().join("o"))]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sweep.method") && err.contains("grid, list, lhs, sobol"),
        "{err}"
    );
    let shard = run(&[
        "batch",
        s(&f),
        "--out",
        s(&tmp.path().join("o")),
        "--shard",
        "3/3",
    ]);
    assert_eq!(shard.status.code(), Some(2));
}

/// A batch keeping metrics and flows, yearly or every tick.
fn yearly_batch_file(dir: &Path, yearly: bool) -> PathBuf {
    let p = dir.join(format!("y{yearly}.toml"));
    let text = format!(
        r#"name = "yearly"
seed = 3
replicates = 2
years = 4

[[scenario]]
builtin = "one_way_aid.toml"
label = "one"
set = ["region.Upland.households=1200", "region.Coastal.households=300"]

[[scenario]]
builtin = "two_way_market.toml"
label = "two"
set = ["region.Upland.households=1200", "region.Coastal.households=300"]

[sweep]
method = "grid"
[[sweep.param]]
key = "link[0].channels.fiscal_aid"
values = [0.5e9, 1.0e9]

[output]
tables = ["metrics", "flows"]
yearly = {yearly}
"#
    );
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_key_table_of_a_yearly_batch_equals_that_of_the_same_runs_kept_monthly() {
    use xiezuo::present::{data, report};
    let tmp = tempfile::tempdir().unwrap();
    let mut tables = Vec::new();
    for yearly in [false, true] {
        let f = yearly_batch_file(tmp.path(), yearly);
        let d = tmp.path().join(format!("out{yearly}"));
        ok(&["batch", s(&f), "--out", s(&d), "--jobs", "2"]);
        ok(&["merge", s(&d)]);
        let metrics = data::read_table(&d, "metrics").unwrap();
        let flows = data::read_table(&d, "flows").unwrap();
        if yearly {
            // One row per year and scope: 4 years.
            let ticks: std::collections::BTreeSet<u32> = metrics[0]
                .df
                .column("tick")
                .unwrap()
                .u32()
                .unwrap()
                .iter()
                .flatten()
                .collect();
            assert_eq!(ticks.into_iter().collect::<Vec<_>>(), vec![11, 23, 35, 47]);
        }
        tables.push(report::key_table(&metrics, &flows).unwrap());
    }
    let (monthly, yearly) = (&tables[0], &tables[1]);
    assert_eq!(monthly.len(), 4, "2 scenarios × 2 points");
    assert_eq!(monthly.len(), yearly.len());
    for (m, y) in monthly.iter().zip(yearly) {
        assert_eq!(m.label, y.label);
        assert_eq!(m.n, y.n);
        for ((name, mm, mh), (_, ym, yh)) in m.values.iter().zip(&y.values) {
            let close = |a: f64, b: f64| {
                (a.is_nan() && b.is_nan())
                    || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
            };
            assert!(
                close(*mm, *ym) && close(*mh, *yh),
                "{} {name}: monthly {mm} ± {mh}, yearly {ym} ± {yh}",
                m.label
            );
        }
        // The measures the old yearly reports got 12× too small are defined here.
        let aid = m.values.iter().find(|v| v.0.starts_with("aid")).unwrap().1;
        assert!(
            aid.is_finite() && aid > 0.0,
            "{}: aid per exit {aid}",
            m.label
        );
    }
}

#[test]
fn every_shipped_experiment_file_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let exp = xiezuo::batch::experiment::Experiment::load(&p);
            assert!(exp.is_ok(), "{}: {}", p.display(), exp.err().unwrap());
            n += 1;
        }
    }
    assert!(n >= 4, "{n} experiment files");
}
