//! Architecture ("tidy") tests, in the spirit of rust-analyzer's: the folder tree is the
//! layering of `docs/ARCHITECTURE.md`, and these tests keep it so. They read the sources as
//! text (no build of anything), so a violation fails with the file and line to fix:
//! - the core (`src/model/`) imports no edge crate (polars, plotters, indicatif, clap,
//!   toml), does no file I/O (`std::fs`) and imports no outer module, outside `#[cfg(test)]`;
//! - every layer imports only the layers inside it;
//! - no two files import each other, directly or through a circle;
//! - every source file starts with a `//!` line saying what it owns.
//!
//! Doc comments and comments are not imports: a doc link to an outer module is allowed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its module path (`model::world`; `` for lib.rs).
fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap().with_extension("");
            let mut segs: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                segs.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                segs.pop();
            }
            (p, segs.join("::"))
        })
        .collect()
}

/// The code of a file without comments, doc comments, string literals and the trailing
/// `#[cfg(test)]` module, as (line number, text) pairs.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        // Drop string literals and trailing comments (good enough for this code base:
        // no raw strings with quotes inside code that imports).
        let mut s = String::new();
        let mut in_str = false;
        let mut prev = ' ';
        let chars: Vec<char> = line.chars().collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            if in_str {
                if c == '"' && prev != '\\' {
                    in_str = false;
                }
                prev = if prev == '\\' && c == '\\' { ' ' } else { c };
            } else if c == '"' {
                in_str = true;
                prev = ' ';
            } else if c == '/' && chars.get(k + 1) == Some(&'/') {
                break;
            } else if c == '\'' && chars.get(k + 2) == Some(&'\'') {
                k += 2; // a char literal such as '"'
            } else {
                s.push(c);
            }
            k += 1;
        }
        out.push((i + 1, s));
    }
    out
}

/// Module paths a line refers to: `crate::a::b`, `super::a`, `self::a`, and the
/// leaves of `use` trees such as `use crate::model::{a::X, b::{Y, Z}}`.
fn referenced_paths(
    module: &str,
    is_mod_file: bool,
    children: &BTreeSet<String>,
    code: &str,
) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let here: Vec<String> = if module.is_empty() {
        vec![]
    } else {
        module.split("::").map(String::from).collect()
    };
    // Directory module of this file: a mod.rs is its own directory, a leaf file its parent.
    let dir: Vec<String> = if is_mod_file {
        here.clone()
    } else {
        here[..here.len().saturating_sub(1)].to_vec()
    };
    let tokens = tokenize(code);
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let start: Option<Vec<String>> = match t.as_str() {
            "crate" => Some(vec![]),
            "super" => Some(dir[..dir.len().saturating_sub(1)].to_vec()),
            "self" => Some(dir.clone()),
            _ => None,
        };
        if let Some(base) = start {
            if tokens.get(i + 1).map(String::as_str) == Some("::") {
                let mut j = i + 2;
                let mut path = base;
                expand(&tokens, &mut j, &mut path, &mut out);
                i = j;
                continue;
            }
        }
        // `use child::X` or `child::f()` inside a mod.rs: a relative path into a child
        // module (any `name::` not preceded by `::` that names a module of this directory).
        if is_mod_file
            && tokens.get(i + 1).map(String::as_str) == Some("::")
            && (i == 0 || tokens[i - 1] != "::")
            && children.contains(t)
        {
            let mut path = dir.clone();
            path.push(t.clone());
            out.push(path);
        }
        i += 1;
    }
    out
}

fn tokenize(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let cs: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_alphanumeric() || c == '_' {
            let s = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(cs[s..i].iter().collect());
            continue;
        }
        if c == ':' && cs.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
            continue;
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
        i += 1;
    }
    out
}

/// Follows `a::b::{c, d::e}` from `tokens[*j]`, pushing every full path.
fn expand(tokens: &[String], j: &mut usize, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    loop {
        match tokens.get(*j).map(String::as_str) {
            Some("{") => {
                *j += 1;
                loop {
                    let mut sub = path.clone();
                    expand(tokens, j, &mut sub, out);
                    match tokens.get(*j).map(String::as_str) {
                        Some(",") => *j += 1,
                        Some("}") => {
                            *j += 1;
                            return;
                        }
                        _ => return,
                    }
                    if tokens.get(*j).map(String::as_str) == Some("}") {
                        *j += 1;
                        return;
                    }
                }
            }
            Some(t)
                if t.chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_') =>
            {
                path.push(t.to_string());
                *j += 1;
                if tokens.get(*j).map(String::as_str) == Some("::") {
                    *j += 1;
                    continue;
                }
                out.push(path.clone());
                return;
            }
            _ => {
                out.push(path.clone());
                return;
            }
        }
    }
}

/// The file a module path lands in: the longest prefix that is a module.
fn resolve<'a>(path: &[String], modules: &'a BTreeMap<String, PathBuf>) -> Option<&'a str> {
    (0..=path.len()).rev().find_map(|k| {
        let key = path[..k].join("::");
        modules.get_key_value(&key).map(|(k, _)| k.as_str())
    })
}

/// The layer of a module: its first path segment.
fn layer(module: &str) -> &str {
    module.split("::").next().unwrap_or("")
}

/// Layers from the inside out; a layer may import only the layers before it.
const LAYERS: [&str; 8] = [
    "model", "stats", "scenario", "output", "batch", "present", "serve", "cli",
];

struct Graph {
    modules: BTreeMap<String, PathBuf>,
    /// file module → (imported module, line)
    edges: BTreeMap<String, BTreeMap<String, usize>>,
}

fn graph() -> Graph {
    let files = sources();
    let modules: BTreeMap<String, PathBuf> =
        files.iter().map(|(p, m)| (m.clone(), p.clone())).collect();
    let mut edges: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (p, m) in &files {
        let text = fs::read_to_string(p).unwrap();
        let is_mod = matches!(
            p.file_stem().and_then(|s| s.to_str()),
            Some("mod" | "lib" | "main")
        );
        let e = edges.entry(m.clone()).or_default();
        // Child modules declared here (`mod x;` / `pub mod x;`).
        let children: BTreeSet<String> = text
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let l = l.strip_prefix("pub ").unwrap_or(l);
                l.strip_prefix("mod ")?.strip_suffix(';').map(String::from)
            })
            .collect();
        for (line, code) in code_lines(&text) {
            for path in referenced_paths(m, is_mod, &children, &code) {
                if let Some(target) = resolve(&path, &modules) {
                    if target != m && !target.is_empty() {
                        e.entry(target.to_string()).or_insert(line);
                    }
                }
            }
        }
    }
    Graph { modules, edges }
}

#[test]
fn the_core_does_no_io_and_knows_no_edge() {
    const FORBIDDEN: [&str; 11] = [
        "polars",
        "plotters",
        "indicatif",
        "clap",
        "toml",
        "std::fs",
        "fs::",
        "File::",
        "println!",
        "eprintln!",
        "anyhow",
    ];
    let mut bad = Vec::new();
    for (p, m) in sources() {
        if layer(&m) != "model" {
            continue;
        }
        let text = fs::read_to_string(&p).unwrap();
        for (line, code) in code_lines(&text) {
            for f in FORBIDDEN {
                if code.contains(f) {
                    bad.push(format!("{}:{line}: `{f}` in the core", p.display()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "the core must do no I/O:\n{}",
        bad.join("\n")
    );
}

#[test]
fn layers_import_only_inner_layers() {
    let g = graph();
    let mut bad = Vec::new();
    for (from, tos) in &g.edges {
        let lf = layer(from);
        let Some(rf) = LAYERS.iter().position(|l| *l == lf) else {
            continue;
        };
        for (to, line) in tos {
            let lt = layer(to);
            if lt == lf {
                continue;
            }
            match LAYERS.iter().position(|l| *l == lt) {
                Some(rt) if rt < rf => {}
                _ => bad.push(format!(
                    "{}:{line}: `{from}` (layer {lf}) imports `{to}` (layer {lt})",
                    g.modules[from].display()
                )),
            }
        }
    }
    // stats is pure: it may not use the model either.
    for (from, tos) in &g.edges {
        if layer(from) == "stats" {
            for (to, line) in tos {
                if layer(to) != "stats" {
                    bad.push(format!(
                        "{}:{line}: stats imports `{to}`",
                        g.modules[from].display()
                    ));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the layering of docs/ARCHITECTURE.md:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other() {
    let g = graph();
    // Tarjan-free check: depth-first search for a back edge, reporting the circle.
    let nodes: Vec<&String> = g.modules.keys().collect();
    let mut state: BTreeMap<&str, u8> = BTreeMap::new(); // 1 = on stack, 2 = done
    let mut circles = BTreeSet::new();
    fn dfs<'a>(
        n: &'a str,
        g: &'a Graph,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        circles: &mut BTreeSet<String>,
    ) {
        state.insert(n, 1);
        stack.push(n);
        if let Some(tos) = g.edges.get(n) {
            for to in tos.keys() {
                match state.get(to.as_str()) {
                    Some(1) => {
                        let k = stack.iter().position(|s| *s == to).unwrap();
                        let mut c: Vec<&str> = stack[k..].to_vec();
                        c.push(to);
                        circles.insert(c.join(" → "));
                    }
                    Some(_) => {}
                    None => dfs(to, g, state, stack, circles),
                }
            }
        }
        stack.pop();
        state.insert(n, 2);
    }
    for n in nodes {
        if !state.contains_key(n.as_str()) {
            dfs(n, &g, &mut state, &mut Vec::new(), &mut circles);
        }
    }
    assert!(
        circles.is_empty(),
        "files that import each other:\n{}",
        circles.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn every_file_says_what_it_owns() {
    let mut dirs = vec![
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches"),
    ];
    let mut files: Vec<PathBuf> = sources().into_iter().map(|(p, _)| p).collect();
    for d in dirs.drain(..) {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let missing: Vec<String> = files
        .iter()
        .filter(|p| {
            !fs::read_to_string(p)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading `//!` line saying what they own:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_checker_sees_imports() {
    // The parser itself: a nested use tree, a path in an expression, a doc link.
    let code = "use crate::model::{world::World, agents::{firm, household::Household}};";
    let none = BTreeSet::new();
    let paths = referenced_paths("output::tables", false, &none, code);
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert!(
        joined.contains(&"model::world::World".to_string()),
        "{joined:?}"
    );
    assert!(
        joined.contains(&"model::agents::firm".to_string()),
        "{joined:?}"
    );
    assert!(
        joined.contains(&"model::agents::household::Household".to_string()),
        "{joined:?}"
    );
    let lines = code_lines("/// [`crate::cli`]\nlet x = crate::batch::run(); // crate::present\n");
    assert_eq!(lines.len(), 1);
    let p = referenced_paths("model::engine", false, &none, &lines[0].1);
    assert_eq!(p, vec![vec!["batch".to_string(), "run".to_string()]]);
    let kids: BTreeSet<String> = ["compare".to_string(), "tables".to_string()].into();
    let s = referenced_paths(
        "output",
        true,
        &kids,
        "pub use compare::{CompareRow, YearRow};",
    );
    assert!(
        s.contains(&vec!["output".to_string(), "compare".to_string()]),
        "{s:?}"
    );
    let s = referenced_paths("output", true, &kids, "let df = tables::metrics_frame(x);");
    assert_eq!(s, vec![vec!["output".to_string(), "tables".to_string()]]);
}

#[test]
fn no_randomly_keyed_hash_maps() {
    // Iteration order must never depend on a random hasher: maps and sets are BTreeMap /
    // BTreeSet (or a fixed hasher, which nothing needs yet).
    let mut bad = Vec::new();
    for (p, _) in sources() {
        let text = fs::read_to_string(&p).unwrap();
        for (line, code) in code_lines(&text) {
            if code.contains("HashMap") || code.contains("HashSet") {
                bad.push(format!("{}:{line}", p.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "hash maps keyed by a random hasher:\n{}",
        bad.join("\n")
    );
}
