//! Golden digests: every shipped scenario, run through the library API, must report exactly
//! the numbers recorded in `tests/golden/digests.txt` (a hash of every measure, flow and link
//! report of every tick, with the panel at each year end). A refactoring that must not change
//! results (a file moved, a function split into sub-steps) keeps them; a deliberate model
//! change updates them with `XIEZUO_BLESS=1 cargo test --release --test golden` and says
//! so in its commit.

use std::fmt::Write as _;
use std::path::Path;

use xiezuo::model::agents::household::Household;
use xiezuo::model::flows::Channel;
use xiezuo::model::metrics::{Measures, Scope, SystemMeasures};
use xiezuo::model::recorder::{LinkReport, Recorder};
use xiezuo::model::time::Tick;

/// FNV-1a over the `Debug` text of every report (f64 `Debug` is exact: shortest round trip).
struct Digest {
    h: u64,
    buf: String,
}

impl Digest {
    fn new() -> Digest {
        Digest {
            h: 0xcbf2_9ce4_8422_2325,
            buf: String::new(),
        }
    }
    fn eat(&mut self) {
        for b in self.buf.bytes() {
            self.h ^= b as u64;
            self.h = self.h.wrapping_mul(0x100_0000_01b3);
        }
        self.buf.clear();
    }
}

impl Recorder for Digest {
    fn measures(&mut self, t: Tick, scope: Scope, m: &Measures, sys: Option<&SystemMeasures>) {
        let _ = write!(self.buf, "{t}{scope:?}{m:?}{sys:?}");
        self.eat();
    }
    fn flow(&mut self, t: Tick, link: usize, channel: Channel, amount: f64) {
        let _ = write!(self.buf, "{t}{link}{channel:?}{amount:?}");
        self.eat();
    }
    fn link(&mut self, t: Tick, link: usize, r: &LinkReport) {
        let _ = write!(self.buf, "{t}{link}{r:?}");
        self.eat();
    }
    fn wants_panel(&self) -> bool {
        true
    }
    fn panel(&mut self, t: Tick, households: &[Household]) {
        for h in households {
            let _ = write!(self.buf, "{t}{h:?}");
            self.eat();
        }
    }
}

#[test]
fn shipped_scenarios_reproduce_their_golden_digests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(root.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut got = String::new();
    for n in &names {
        let l = xiezuo::scenario::load_file(&root.join(format!("scenarios/{n}.toml")), &[])
            .unwrap_or_else(|e| panic!("{n}: {e}"));
        let mut d = Digest::new();
        let w = xiezuo::model::run::run(&l.config, &mut d);
        // The final state too: every household record and the ledger.
        let _ = write!(d.buf, "{:?}{:?}", w.ledger, w.firms);
        d.eat();
        let _ = writeln!(got, "{n} {:016x}", d.h);
    }
    let path = root.join("tests/golden/digests.txt");
    if std::env::var_os("XIEZUO_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        got, want,
        "results changed; if the change is deliberate, run \
         XIEZUO_BLESS=1 cargo test --release --test golden and commit tests/golden/digests.txt"
    );
}
