//! Batches as content: run keys and seeds derive from what a run is, so a finished batch
//! can be extended (more replicates, grid values, Sobol samples, scenarios) and `--resume`
//! runs only the new runs, with merged outputs equal to the extended batch run from
//! scratch; `batch.json` tells an extension from a different batch, and `merge` refuses
//! shards of a different batch. Also: the household panel and dated, labelled summaries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiezuo"))
        .args(args)
        .output()
        .expect("binary runs")
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

fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should exit 2: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const SMALL: &str = r#"set = ["region.Upland.households=600", "region.Coastal.households=200"]"#;

/// A grid batch over leakage with `values` and `replicates`.
fn grid(dir: &Path, name: &str, seed: u64, values: &str, replicates: u32, extra: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            r#"name = "ext"
seed = {seed}
replicates = {replicates}
years = 2

[[scenario]]
builtin = "one_way_aid.toml"
label = "one"
{SMALL}
{extra}
[sweep]
method = "grid"
[[sweep.param]]
key = "policy.leakage"
values = [{values}]

[output]
tables = ["metrics", "flows"]
yearly = true
"#
        ),
    )
    .unwrap();
    p
}

/// A Sobol batch with `samples` points.
fn sobol(dir: &Path, name: &str, samples: u32) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            r#"name = "sob"
seed = 9
replicates = 1
years = 2

[[scenario]]
builtin = "two_way_market.toml"
label = "two"
{SMALL}

[sweep]
method = "sobol"
samples = {samples}
[[sweep.param]]
key = "policy.leakage"
min = 0.0
max = 0.4
[[sweep.param]]
key = "households.dependency"
min = 0.2
max = 0.8

[output]
tables = ["metrics"]
"#
        ),
    )
    .unwrap();
    p
}

fn same_files(a: &Path, b: &Path, files: &[&str]) {
    for f in files {
        let x = std::fs::read(a.join(f)).unwrap_or_else(|e| panic!("{}: {e}", a.join(f).display()));
        let y = std::fs::read(b.join(f)).unwrap_or_else(|e| panic!("{}: {e}", b.join(f).display()));
        assert!(x.len() > 500, "{f} is too small");
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn an_extended_batch_runs_only_new_runs_and_merges_as_if_run_from_scratch() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // First 2 values × 1 replicate, then a value in between, a new scenario and a second
    // replicate: 2 → 3 values × 2 replicates × 2 scenarios = 12 runs.
    let small = grid(t, "small.toml", 5, "0.0, 0.3", 1, "");
    let two =
        format!("[[scenario]]\nbuiltin = \"two_way_market.toml\"\nlabel = \"two\"\n{SMALL}\n");
    let big = grid(t, "big.toml", 5, "0.0, 0.15, 0.3", 2, &two);
    let ext = t.join("ext");
    ok(&["batch", s(&small), "--out", s(&ext), "--jobs", "2"]);
    ok(&["merge", s(&ext)]);
    ok(&["summarize", s(&ext)]);

    // Without --resume the extension is refused and says what to do.
    let err = fails(&["batch", s(&big), "--out", s(&ext)]);
    assert!(err.contains("extends") && err.contains("--resume"), "{err}");
    let out = ok(&[
        "batch",
        s(&big),
        "--out",
        s(&ext),
        "--resume",
        "--jobs",
        "2",
    ]);
    assert!(
        out.contains("extends the batch of 2 runs") && out.contains("2 already done, 10 ran"),
        "{out}"
    );
    assert!(
        !ext.join("metrics.parquet").exists() && !ext.join("summary.parquet").exists(),
        "stale merged tables of the smaller batch must go"
    );
    ok(&["merge", s(&ext)]);

    let scratch = t.join("scratch");
    ok(&["batch", s(&big), "--out", s(&scratch), "--jobs", "1"]);
    ok(&["merge", s(&scratch)]);
    same_files(
        &ext,
        &scratch,
        &[
            "metrics.parquet",
            "flows.parquet",
            "runs.parquet",
            "batch.json",
        ],
    );

    // Sobol: more samples keep the first points (prefix), so 4 → 8 samples adds 4 runs.
    let s4 = sobol(t, "s4.toml", 4);
    let s8 = sobol(t, "s8.toml", 8);
    let se = t.join("sobol_ext");
    ok(&["batch", s(&s4), "--out", s(&se)]);
    let out = ok(&["batch", s(&s8), "--out", s(&se), "--resume"]);
    assert!(out.contains("4 already done, 4 ran"), "{out}");
    ok(&["merge", s(&se)]);
    let ss = t.join("sobol_scratch");
    ok(&["batch", s(&s8), "--out", s(&ss)]);
    ok(&["merge", s(&ss)]);
    same_files(&se, &ss, &["metrics.parquet", "runs.parquet"]);
}

#[test]
fn a_different_batch_is_refused_and_says_what_differs() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let a = grid(t, "a.toml", 5, "0.0, 0.3", 2, "");
    let d = t.join("d");
    ok(&["batch", s(&a), "--out", s(&d)]);
    // Comments and layout do not make another batch.
    let mut text = std::fs::read_to_string(&a).unwrap();
    text.insert_str(0, "# a comment\n\n");
    std::fs::write(&a, &text).unwrap();
    let out = ok(&["batch", s(&a), "--out", s(&d), "--resume"]);
    assert!(out.contains("4 already done, 0 ran"), "{out}");

    let cases = [
        (
            grid(t, "seed.toml", 6, "0.0, 0.3", 2, ""),
            "master seed: 5 in batch.json, 6",
        ),
        (
            grid(t, "fewer.toml", 5, "0.0, 0.3", 1, ""),
            "2 of the 4 existing runs",
        ),
        (
            grid(t, "removed.toml", 5, "0.3", 2, ""),
            "2 of the 4 existing runs",
        ),
        (
            // The scenario resolves differently: its own overrides changed.
            {
                let p = grid(t, "set.toml", 5, "0.0, 0.3", 2, "");
                let text = std::fs::read_to_string(&p)
                    .unwrap()
                    .replace("households=200", "households=250");
                std::fs::write(&p, text).unwrap();
                p
            },
            "scenario `one` resolves differently",
        ),
    ];
    for (file, why) in &cases {
        let err = fails(&["batch", s(file), "--out", s(&d), "--resume"]);
        assert!(
            err.contains("holds a different batch") && err.contains(why),
            "{}: {err}",
            file.display()
        );
    }

    // A scenario file that changes under the batch is another batch too (the fingerprint
    // covers the resolved scenarios, not only the batch file's text).
    let scen = t.join("mine.toml");
    let parent = format!("{}/scenarios/one_way_aid.toml", env!("CARGO_MANIFEST_DIR"));
    let mine = |leakage: f64| {
        format!("extends = {parent:?}\nname = \"mine\"\n[policy]\nleakage = {leakage}\n")
    };
    std::fs::write(&scen, mine(0.1)).unwrap();
    let f = t.join("file.toml");
    std::fs::write(
        &f,
        format!("name = \"f\"\nyears = 1\n[[scenario]]\nfile = \"mine.toml\"\n{SMALL}\n"),
    )
    .unwrap();
    let fd = t.join("fd");
    ok(&["batch", s(&f), "--out", s(&fd)]);
    std::fs::write(&scen, mine(0.2)).unwrap();
    let err = fails(&["batch", s(&f), "--out", s(&fd), "--resume"]);
    assert!(
        err.contains("scenario `mine` resolves differently"),
        "{err}"
    );
}

#[test]
fn merge_refuses_shards_of_another_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let a = grid(t, "a.toml", 5, "0.0, 0.3", 1, "");
    let b = grid(t, "b.toml", 7, "0.0, 0.3", 1, "");
    let (da, db, dc) = (t.join("da"), t.join("db"), t.join("dc"));
    ok(&["batch", s(&a), "--out", s(&da), "--shard", "0/2"]);
    ok(&["batch", s(&b), "--out", s(&db), "--shard", "1/2"]);
    let err = fails(&["merge", s(&da), s(&db)]);
    assert!(
        err.contains(&format!("shard {}", db.display()))
            && err.contains("master seed: 7 in the shard, 5 in the batch directory")
            && err.contains("nothing was merged"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(da.join("parts/metrics")).unwrap().count() == 1,
        "nothing may be copied"
    );
    // The right shard merges.
    ok(&["batch", s(&a), "--out", s(&dc), "--shard", "1/2"]);
    let out = ok(&["merge", s(&da), s(&dc)]);
    assert!(out.contains("2 succeeded, 0 failed"), "{out}");
    // A directory that is not a batch.
    std::fs::create_dir_all(t.join("empty")).unwrap();
    let err = fails(&["merge", s(&da), s(&t.join("empty"))]);
    assert!(err.contains("not a batch directory"), "{err}");
}

#[test]
fn batches_keep_the_household_panel_and_summaries_carry_dates_and_swept_values() {
    use polars::prelude::*;
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let f = t.join("p.toml");
    std::fs::write(
        &f,
        format!(
            r#"name = "panel"
replicates = 2
years = 3
[[scenario]]
builtin = "one_way_aid.toml"
label = "one"
{SMALL}
[sweep]
method = "list"
[[sweep.param]]
key = "policy.leakage"
values = [0.0, 0.3]
[output]
tables = ["metrics", "households"]
regions = ["WEST"]
"#
        ),
    )
    .unwrap();
    let d = t.join("d");
    ok(&["batch", s(&f), "--out", s(&d)]);
    ok(&["merge", s(&d)]);
    ok(&["summarize", s(&d)]);
    let read = |name: &str| {
        ParquetReader::new(std::fs::File::open(d.join(name)).unwrap())
            .finish()
            .unwrap()
    };
    let hh = read("households.parquet");
    // 600 western households × 3 year ends × 4 runs; no eastern household (regions = WEST).
    assert_eq!(hh.height(), 600 * 3 * 4);
    let regions = hh.column("region").unwrap().str().unwrap().clone();
    assert!(regions.iter().all(|r| r == Some("Upland")));
    for c in [
        "run_id",
        "scenario",
        "point",
        "replicate",
        "param.policy.leakage",
        "status",
    ] {
        assert!(hh.column(c).is_ok(), "households.parquet lacks {c}");
    }
    let sum = read("summary.parquet");
    let date = sum.column("date").expect("summary has dates");
    assert_eq!(date.dtype(), &DataType::Date);
    let leak = sum
        .column("param.policy.leakage")
        .expect("summary has swept values");
    let leak: Vec<f64> = leak.f64().unwrap().iter().flatten().collect();
    assert!(leak.contains(&0.0) && leak.contains(&0.3));
    // Survival charts of a batch read the panel.
    ok(&["report", s(&d)]);
    assert!(d.join("report/survival.png").exists());
}
