//! `xiezuo claims` as a user runs it: a claim with its mechanism on and off, a claim file
//! with a typo, an unknown claim.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xiezuo"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_claim_is_supported_and_its_ablation_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("claims");
    let o = bin()
        .current_dir(root())
        .args(["claims", "C8", "--quick", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Insurance lowers relapses and poverty; with payouts capped at 0 it changes nothing.
    assert!(
        stdout.contains("C8: supported; mechanism off: inconclusive"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(out.join("claims.csv")).unwrap();
    assert!(csv.lines().count() == 5, "{csv}");
    assert!(out.join("charts/C8.png").exists() && out.join("charts/C8.svg").exists());
    assert!(std::fs::read_to_string(out.join("claims.md"))
        .unwrap()
        .contains("| C8 | supported | inconclusive | "));
    // The HTML page: the verdict beside the by-construction label, the sources, the chart
    // embedded (self-contained).
    let html = std::fs::read_to_string(out.join("claims.html")).unwrap();
    let row = html
        .split("<tr>")
        .find(|r| r.contains("href=\"#C8\""))
        .expect("a summary row for C8");
    assert!(
        row.contains("<td class=\"sup\">supported</td><td class=\"no\">no</td>")
            || row.contains("<td class=\"sup\">supported</td><td class=\"partly\">partly</td>")
            || row.contains("<td class=\"sup\">supported</td><td class=\"yes\">yes</td>"),
        "{row}"
    );
    assert!(html.contains("003_") && html.contains("data:image/png;base64,"));
    assert!(html.contains("xiezuo claims C8 --quick --out"));
}

#[test]
fn a_typo_names_the_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("claims/C8.toml"))
        .unwrap()
        .replace("expect = \"lower\"", "expect = \"lowr\"")
        .replace(
            "../scenarios",
            &root().join("scenarios").display().to_string(),
        );
    std::fs::write(tmp.path().join("C8.toml"), &text).unwrap();
    let o = bin()
        .args(["claims", "--dir", tmp.path().to_str().unwrap(), "--quick"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let line = text.lines().position(|l| l.contains("lowr")).unwrap() + 1;
    assert!(
        err.contains(&format!("C8.toml:{line}: key `measure[0].expect`")),
        "{err}"
    );
    assert!(err.contains("allowed: lower, higher"), "{err}");
    // A measure the tables do not have lists the allowed ones.
    std::fs::write(
        tmp.path().join("C8.toml"),
        text.replace("lowr", "lower")
            .replace("\"poverty_rate\"", "\"poverty_rat\""),
    )
    .unwrap();
    let o = bin()
        .args(["claims", "--dir", tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("key `measure[1].measure`") && err.contains("poverty_gap"),
        "{err}"
    );
}

#[test]
fn an_unknown_claim_is_refused() {
    let o = bin()
        .current_dir(root())
        .args(["claims", "C99", "--quick"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no claim `C99`") && err.contains("C1, C2, C3"),
        "{err}"
    );
}

#[test]
fn the_catalogue_page_is_current() {
    let claims = xiezuo::batch::claims::load_dir(&root().join("claims")).unwrap();
    let page = std::fs::read_to_string(root().join("docs/CLAIMS.md")).expect("docs/CLAIMS.md");
    let digest = xiezuo::batch::claims::model_digest();
    assert!(
        digest.len() == 16 && digest.chars().all(|c| c.is_ascii_hexdigit()),
        "{digest}"
    );
    // The accepted sets it was generated with, if any, are in the fingerprint too.
    let accepted = xiezuo::batch::claims::recorded_accepted(&page).map(|f| {
        xiezuo::batch::claims::Accepted::load(&root().join(&f))
            .unwrap_or_else(|e| panic!("docs/CLAIMS.md names accepted sets {f}: {e}"))
    });
    assert_eq!(
        xiezuo::batch::claims::recorded_fingerprint(&page),
        Some(xiezuo::batch::claims::fingerprint(&claims, accepted.as_ref())),
        "claims/*.toml or the model changed: regenerate with `cargo run --release -- claims --accepted calibration/accepted/china_2021_pairings.csv --doc docs/CLAIMS.md`"
    );
    // Every claim of the files has its section.
    for c in &claims {
        assert!(page.contains(&format!("### {}: ", c.id)), "{}", c.id);
    }
}

#[test]
fn c1_is_decomposed_by_channel() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c1");
    let o = bin()
        .current_dir(root())
        .args(["claims", "C1", "--quick", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("claims.md")).unwrap();
    assert!(md.contains("| part off | measure |"), "{md}");
    let csv = std::fs::read_to_string(out.join("claims.csv")).unwrap();
    // Two measures for the comparison, the ablation and each of the nine parts.
    assert_eq!(csv.lines().count(), 1 + 2 * (2 + 9), "{csv}");
    assert!(csv.contains("without market access,"), "{csv}");
    assert!(out.join("claims.parquet").exists());
}

#[test]
fn shards_and_resume_give_the_tables_of_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (sharded, whole) = (tmp.path().join("sharded"), tmp.path().join("whole"));
    let run = |extra: &[&str], out: &std::path::Path| {
        let mut args = vec!["claims", "C6", "C8", "C4_flows", "--quick", "--out"];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        let o = bin().current_dir(root()).args(&args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let s0 = run(&["--shard", "0/2"], &sharded);
    assert!(
        s0.contains("ran 2 claim(s)") && !sharded.join("claims.md").exists(),
        "{s0}"
    );
    run(&["--shard", "1/2"], &sharded);
    let resumed = run(&["--resume"], &sharded);
    assert_eq!(
        resumed.matches("kept from an earlier run").count(),
        3,
        "{resumed}"
    );
    run(&[], &whole);
    for f in ["claims.md", "claims.csv"] {
        assert_eq!(
            std::fs::read(sharded.join(f)).unwrap(),
            std::fs::read(whole.join(f)).unwrap(),
            "{f}"
        );
    }
    // A stored result computed with other replicates is stale: run again.
    let again = run(&["--resume", "--replicates", "3"], &sharded);
    assert!(!again.contains("kept from an earlier run"), "{again}");
    // --shard without --out, or with --doc, is a usage error.
    let o = bin()
        .current_dir(root())
        .args(["claims", "--quick", "--shard", "0/2"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("give --out"));
}
