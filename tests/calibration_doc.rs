//! `docs/CALIBRATION.md` carries, for each calibration file in `calibration/`, a generated
//! fit block with the fingerprint of the calibration's inputs (the file, its targets, its
//! resolved scenario). This test recomputes each fingerprint and fails when the inputs
//! changed without the fit being re-run (`xiezuo calibrate FILE --out DIR --doc
//! docs/CALIBRATION.md`). It checks the fingerprint, not the numbers.

use std::path::Path;

use xiezuo::batch::calibrate::{fingerprint, recorded_fingerprint, Calibration};

#[test]
fn every_shipped_calibration_has_an_up_to_date_fit_block() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc =
        std::fs::read_to_string(root.join("docs/CALIBRATION.md")).expect("docs/CALIBRATION.md");
    let mut files: Vec<_> = std::fs::read_dir(root.join("calibration"))
        .expect("calibration/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no calibration files");
    let mut missing = Vec::new();
    for f in &files {
        let c = Calibration::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let want = fingerprint(&c);
        match recorded_fingerprint(&doc, &c.name) {
            Some(have) if have == want => {}
            Some(have) => missing.push(format!(
                "{}: docs/CALIBRATION.md records inputs {have}, the inputs are now {want}",
                f.display()
            )),
            None => missing.push(format!(
                "{}: docs/CALIBRATION.md has no fit block for `{}`",
                f.display(),
                c.name
            )),
        }
    }
    assert!(
        missing.is_empty(),
        "re-run each with `xiezuo calibrate FILE --out DIR --doc docs/CALIBRATION.md`:\n{}",
        missing.join("\n")
    );
}
