//! Reading scenario files: the `extends` chain, merging, `--set` overrides, and the origin
//! (file and line) of every key so that later errors can point at it.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::DeTable;
use toml::{Table, Value};

use super::error::{suggest, Location, ScenarioError};
use super::merge::{merge_keyed, merge_tables, take_replace, KEYED_ARRAYS};
use super::origins::{LineIndex, Node, Origins};

/// Scenarios compiled into the binary (so every command works from any directory), by
/// canonical name: a scenario file names one as `builtin:NAME` (`builtin:NAME.toml` is
/// accepted too).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "baseline_no_pairing",
        include_str!("../../scenarios/baseline_no_pairing.toml"),
    ),
    (
        "one_way_aid",
        include_str!("../../scenarios/one_way_aid.toml"),
    ),
    (
        "two_way_market",
        include_str!("../../scenarios/two_way_market.toml"),
    ),
    (
        "two_way_budget_neutral",
        include_str!("../../scenarios/two_way_budget_neutral.toml"),
    ),
    (
        "china_2021_pairings",
        include_str!("../../scenarios/china_2021_pairings.toml"),
    ),
    (
        "zhejiang_mountain_sea",
        include_str!("../../scenarios/zhejiang_mountain_sea.toml"),
    ),
];

/// Prefix that names a built-in scenario wherever a scenario file is expected.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// The canonical name of a built-in scenario given as `NAME`, `NAME.toml`, `builtin:NAME`
/// or `builtin:NAME.toml`, if there is one.
pub fn builtin_name(name: &str) -> Option<&'static str> {
    let name = name.strip_prefix(BUILTIN_PREFIX).unwrap_or(name);
    let name = name.strip_suffix(".toml").unwrap_or(name);
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(n, _)| *n)
}

/// The text of a built-in scenario (any form [`builtin_name`] accepts).
pub fn builtin(name: &str) -> Option<&'static str> {
    let name = builtin_name(name)?;
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The text of a built-in scenario, or an error listing the built-ins (with a suggestion).
pub fn builtin_or_err(name: &str) -> Result<(&'static str, &'static str), ScenarioError> {
    match builtin_name(name) {
        Some(n) => Ok((n, builtin(n).unwrap_or_default())),
        None => {
            let bare = name.strip_prefix(BUILTIN_PREFIX).unwrap_or(name);
            let bare = bare.strip_suffix(".toml").unwrap_or(bare);
            let hint = suggest(bare, BUILTIN.iter().map(|(n, _)| *n))
                .map(|s| format!(" (did you mean `{BUILTIN_PREFIX}{s}`?)"))
                .unwrap_or_default();
            Err(ScenarioError::UnknownBuiltin {
                name: name.to_string(),
                message: format!(
                    "no built-in scenario of that name{hint}; built-in scenarios are: {}",
                    BUILTIN
                        .iter()
                        .map(|(n, _)| format!("{BUILTIN_PREFIX}{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
        }
    }
}

/// The one-line `description` of a built-in scenario's own file (empty when it has none).
pub fn builtin_description(name: &str) -> String {
    builtin(name)
        .and_then(|t| t.parse::<Table>().ok())
        .and_then(|t| {
            t.get("description")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// A built-in scenario's text as a file that works anywhere: an `extends` of another
/// built-in by its file name (`extends = "baseline_no_pairing.toml"`) is rewritten to the
/// `builtin:` form, so that the text saved next to the user's files still finds its parent.
pub fn builtin_standalone(name: &str) -> Result<String, ScenarioError> {
    let (_, text) = builtin_or_err(name)?;
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let rewritten = line
            .trim_start()
            .strip_prefix("extends")
            .and_then(|rest| rest.trim_start().strip_prefix('='))
            .and_then(|v| {
                let v = v.trim().strip_prefix('"')?.split('"').next()?;
                builtin_name(v).filter(|_| !v.starts_with(BUILTIN_PREFIX))
            });
        match rewritten {
            Some(parent) => {
                out.push_str(&format!("extends = \"{BUILTIN_PREFIX}{parent}\"\n"));
            }
            None => out.push_str(line),
        }
    }
    Ok(out)
}

/// Deepest `extends` chain accepted, counting the scenario file itself: a chain of more
/// files is an error (exit 2) naming the file whose `extends` goes one level too deep.
pub const MAX_EXTENDS_DEPTH: usize = 32;

/// Most segments in a `--set` key path (`region.Upland.households` has 3; an index such as
/// `[0]` counts as one). No scenario key is deeper than 5.
pub const MAX_KEY_SEGMENTS: usize = 64;

/// A merged scenario document with the origin of each key path.
#[derive(Debug, Clone)]
pub struct Document {
    /// The merged table (without `extends`, `replace` and `remove`).
    pub table: Table,
    /// Origin of every key path (`region[0].households` → file, line).
    pub origins: Origins,
    /// Files read, base first.
    pub files: Vec<String>,
}

impl Document {
    /// Loads `path` and its `extends` chain, then applies overrides.
    pub fn load_path(path: &Path, overrides: &[String]) -> Result<Document, ScenarioError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Io {
            file: label.clone(),
            message: e.to_string(),
        })?;
        Self::load_text(&label, &text, path.parent(), overrides)
    }

    /// Loads a scenario from text.
    pub fn load_text(
        label: &str,
        text: &str,
        dir: Option<&Path>,
        overrides: &[String],
    ) -> Result<Document, ScenarioError> {
        let mut doc = Document {
            table: Table::new(),
            origins: Origins::default(),
            files: Vec::new(),
        };
        let mut chain = Vec::new();
        doc.absorb(label, text, dir, &mut chain)?;
        for arg in overrides {
            doc.apply_override(arg)?;
        }
        Ok(doc)
    }

    /// Reads one file: first its base (if it extends one), then its own keys over it.
    fn absorb(
        &mut self,
        label: &str,
        text: &str,
        dir: Option<&Path>,
        chain: &mut Vec<String>,
    ) -> Result<(), ScenarioError> {
        if chain.iter().any(|c| c == label) {
            chain.push(label.to_string());
            return Err(ScenarioError::Cycle {
                at: Location::file(&chain[chain.len() - 2]),
                chain: chain.join(" -> "),
            });
        }
        chain.push(label.to_string());
        let lines = LineIndex::new(text);
        let syntax = |e: toml::de::Error| ScenarioError::Syntax {
            at: Location {
                file: label.into(),
                line: e.span().map(|s| lines.line(s.start)),
            },
            message: e.message().trim().to_string(),
        };
        // One parse: the spanned tree gives the origins, then becomes the plain table.
        let spanned = DeTable::parse(text).map_err(syntax)?;
        let mut origins = Node::of_file(label, &lines, spanned.get_ref());
        let mut table =
            Table::deserialize(toml::de::Deserializer::from(spanned)).map_err(syntax)?;
        drop(lines);
        if let Some(ext) = table.remove("extends") {
            let at = origins
                .keys
                .remove("extends")
                .and_then(|n| n.at)
                .unwrap_or_else(|| Location::file(label));
            let Value::String(name) = ext else {
                return Err(ScenarioError::Invalid {
                    at,
                    key: "extends".into(),
                    message: "expected a file name string, e.g. extends = \"one_way_aid.toml\" or extends = \"builtin:one_way_aid\""
                        .into(),
                });
            };
            if chain.len() >= MAX_EXTENDS_DEPTH {
                return Err(ScenarioError::Invalid {
                    at,
                    key: "extends".into(),
                    message: format!(
                        "the extends chain is deeper than {MAX_EXTENDS_DEPTH} files (the limit): {} -> {name}",
                        chain_text(chain)
                    ),
                });
            }
            let (base_label, base_text, base_dir) =
                resolve(&name, label, dir).map_err(|message| ScenarioError::Invalid {
                    at: at.clone(),
                    key: "extends".into(),
                    message,
                })?;
            self.absorb(&base_label, &base_text, base_dir.as_deref(), chain)?;
        }
        chain.pop();
        let replace = take_replace(&mut table, &origins, label)?;
        origins.keys.remove("replace");
        let root = &mut self.origins.root;
        for key in &replace {
            if !table.contains_key(key) {
                // `replace = ["shock"]` with no [[shock]] here: the list becomes empty.
                self.table.remove(key);
                root.keys.remove(key);
            }
        }
        let keyed: Vec<(String, Value, Node)> = KEYED_ARRAYS
            .iter()
            .filter_map(|k| {
                let v = table.remove(*k)?;
                Some((
                    k.to_string(),
                    v,
                    origins.keys.remove(*k).unwrap_or_default(),
                ))
            })
            .collect();
        merge_tables(&mut self.table, root, table, origins);
        for (key, over, no) in keyed {
            let base = self
                .table
                .remove(&key)
                .map(|v| (v, root.keys.remove(&key).unwrap_or_default()));
            let (merged, node) = merge_keyed(&key, base, over, no, replace.contains(&key), label)?;
            self.table.insert(key.clone(), merged);
            root.keys.insert(key, node);
        }
        self.files.push(label.to_string());
        Ok(())
    }

    /// Applies one `key.path=value` override.
    fn apply_override(&mut self, arg: &str) -> Result<(), ScenarioError> {
        let bad = |message: String| ScenarioError::Override {
            arg: shorten(arg),
            message,
        };
        let (path, raw) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected key.path=value, e.g. --set time.years=5".into()))?;
        let segments = split_path(path.trim()).map_err(bad)?;
        if segments.is_empty() {
            return Err(bad("empty key path".into()));
        }
        if segments.len() > MAX_KEY_SEGMENTS {
            return Err(bad(format!(
                "the key path has {} segments; at most {MAX_KEY_SEGMENTS} are allowed (scenario keys are at most 5 deep)",
                segments.len()
            )));
        }
        let value = parse_value(raw.trim());
        let mut cur: &mut Table = &mut self.table;
        let mut resolved = String::new();
        let n = segments.len();
        let mut i = 0;
        while i < n {
            let seg = &segments[i];
            let last = i == n - 1;
            match seg {
                Seg::Key(k) => {
                    if last {
                        push_key(&mut resolved, k);
                        cur.insert(k.clone(), value.clone());
                        break;
                    }
                    let entry = cur
                        .entry(k.clone())
                        .or_insert_with(|| Value::Table(Table::new()));
                    push_key(&mut resolved, k);
                    match entry {
                        Value::Table(t) => {
                            cur = t;
                            i += 1;
                        }
                        Value::Array(items) => {
                            // Next segment selects an element by index or by its `name`.
                            let next = &segments[i + 1];
                            let idx = match next {
                                Seg::Index(j) => *j,
                                Seg::Key(name) => items
                                    .iter()
                                    .position(|v| {
                                        v.get("name").and_then(Value::as_str) == Some(name.as_str())
                                    })
                                    .ok_or_else(|| {
                                        let names: Vec<&str> = items
                                            .iter()
                                            .filter_map(|v| v.get("name").and_then(Value::as_str))
                                            .collect();
                                        bad(format!(
                                            "`{k}` has no element named `{name}`; names are: {}",
                                            names.join(", ")
                                        ))
                                    })?,
                            };
                            let len = items.len();
                            let item = items.get_mut(idx).ok_or_else(|| {
                                bad(format!(
                                    "`{k}` has {len} elements; index {idx} is out of range"
                                ))
                            })?;
                            resolved.push_str(&format!("[{idx}]"));
                            if i + 1 == n - 1 {
                                *item = value.clone();
                                break;
                            }
                            match item {
                                Value::Table(t) => cur = t,
                                _ => return Err(bad(format!("`{resolved}` is not a table"))),
                            }
                            i += 2;
                        }
                        _ => return Err(bad(format!("`{resolved}` is a value, not a table"))),
                    }
                }
                Seg::Index(_) => {
                    return Err(bad(
                        "an index must follow an array key, e.g. region[0].households".into(),
                    ))
                }
            }
        }
        // Overridden keys (and anything below them) now come from the command line.
        self.origins
            .insert(resolved, Location::file(&format!("--set {}", shorten(arg))));
        Ok(())
    }

    /// The origin of `path`, or of its nearest ancestor that has one.
    pub fn locate(&self, path: &str) -> Location {
        self.origins
            .nearest(path)
            .cloned()
            .unwrap_or_else(|| Location::file(self.files.last().map_or("", String::as_str)))
    }
}

/// An `extends` chain for a message: every file when short, else the ends.
fn chain_text(chain: &[String]) -> String {
    if chain.len() <= 6 {
        return chain.join(" -> ");
    }
    format!(
        "{} -> ... ({} more) ... -> {}",
        chain[..3].join(" -> "),
        chain.len() - 6,
        chain[chain.len() - 3..].join(" -> ")
    )
}

/// A command-line argument for a message: cut after 80 characters.
fn shorten(arg: &str) -> String {
    match arg.char_indices().nth(80) {
        Some((i, _)) => format!("{}… ({} bytes)", &arg[..i], arg.len()),
        None => arg.to_string(),
    }
}

fn push_key(path: &mut String, k: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(k);
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn split_path(path: &str) -> Result<Vec<Seg>, String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty() && rest.is_empty() {
            return Err(format!("empty segment in key path `{path}`"));
        }
        if !key.is_empty() {
            match key.parse::<usize>() {
                Ok(i) if !out.is_empty() => out.push(Seg::Index(i)),
                _ => out.push(Seg::Key(key.to_string())),
            }
        }
        let mut r = rest;
        while let Some(stripped) = r.strip_prefix('[') {
            let end = stripped
                .find(']')
                .ok_or_else(|| format!("unclosed `[` in `{path}`"))?;
            let idx: usize = stripped[..end]
                .parse()
                .map_err(|_| format!("`{}` is not an index in `{path}`", &stripped[..end]))?;
            out.push(Seg::Index(idx));
            r = &stripped[end + 1..];
        }
        if !r.is_empty() {
            return Err(format!("unexpected `{r}` in key path `{path}`"));
        }
    }
    Ok(out)
}

fn parse_value(raw: &str) -> Value {
    match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) => t.remove("v").unwrap_or(Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    }
}

/// Finds the text of an `extends` target: `builtin:NAME` names a built-in scenario from
/// anywhere; a plain file name is a built-in when the including file is built in (or has no
/// directory), otherwise a file relative to the including file's directory.
fn resolve(
    name: &str,
    from: &str,
    dir: Option<&Path>,
) -> Result<(String, String, Option<PathBuf>), String> {
    if name.starts_with(BUILTIN_PREFIX) {
        let (n, t) = builtin_or_err(name).map_err(|e| match e {
            ScenarioError::UnknownBuiltin { message, .. } => format!("`{name}`: {message}"),
            other => other.to_string(),
        })?;
        return Ok((format!("{BUILTIN_PREFIX}{n}"), t.to_string(), None));
    }
    if from.starts_with(BUILTIN_PREFIX) || dir.is_none() {
        if let Some(n) = builtin_name(name) {
            let t = builtin(n).unwrap_or_default();
            return Ok((format!("{BUILTIN_PREFIX}{n}"), t.to_string(), None));
        }
    }
    let path = match dir {
        Some(d) => d.join(name),
        None => PathBuf::from(name),
    };
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok((
            path.display().to_string(),
            t,
            path.parent().map(Path::to_path_buf),
        )),
        Err(e) => {
            let hint = builtin_name(name)
                .map(|n| {
                    format!(" (for the built-in scenario write extends = \"{BUILTIN_PREFIX}{n}\")")
                })
                .unwrap_or_default();
            Err(format!("cannot read `{}`: {e}{hint}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_paths() {
        assert_eq!(
            split_path("region[2].households").unwrap(),
            vec![
                Seg::Key("region".into()),
                Seg::Index(2),
                Seg::Key("households".into())
            ]
        );
        assert_eq!(
            split_path("region.West.households").unwrap(),
            vec![
                Seg::Key("region".into()),
                Seg::Key("West".into()),
                Seg::Key("households".into())
            ]
        );
        assert!(split_path("a[x]").is_err());
    }

    #[test]
    fn origins_track_lines_and_overrides() {
        let text = "name = \"x\"\n[time]\nstart = \"2016-01\"\n\n[[region]]\nname = \"A\"\nhouseholds = 5\n";
        let mut d = Document::load_text("a.toml", text, None, &[]).unwrap();
        assert_eq!(d.locate("time.start").line, Some(3));
        assert_eq!(d.locate("region[0].households").line, Some(7));
        assert_eq!(
            d.locate("region[0].wage").line,
            Some(5).or(d.locate("region[0]").line)
        );
        d.apply_override("region.A.households=9").unwrap();
        assert_eq!(d.table["region"][0]["households"].as_integer(), Some(9));
        assert!(d.locate("region[0].households").file.starts_with("--set"));
        assert!(d.apply_override("region.B.households=9").is_err());
    }

    #[test]
    fn origin_tracking_scans_the_text_a_constant_number_of_times() {
        // 20,000 array items, each with an origin: a scan from the start for every key (the
        // old `line_of` per key) would read the text about 10,000 times over.
        let mut text = String::from("name = \"x\"\nlist = [\n");
        for i in 0..20_000 {
            text.push_str(&format!("  {i},\n"));
        }
        text.push_str("]\n");
        crate::scenario::origins::SCANNED.with(|s| s.set(0));
        let d = Document::load_text("big.toml", &text, None, &[]).unwrap();
        let scanned = crate::scenario::origins::SCANNED.with(|s| s.get());
        assert!(
            scanned <= 2 * text.len(),
            "scanned {scanned} bytes of a {}-byte text",
            text.len()
        );
        assert_eq!(d.locate("list[19999]").line, Some(20_002));
        assert_eq!(d.locate("list[0]").line, Some(3));
    }

    #[test]
    fn overrides_with_too_many_segments_are_refused() {
        let mut d = Document::load_text("a.toml", "name = \"x\"\n", None, &[]).unwrap();
        let long = vec!["a"; MAX_KEY_SEGMENTS + 1].join(".") + "=1";
        let e = d.apply_override(&long).unwrap_err().to_string();
        assert!(e.contains("at most 64"), "{e}");
        let ok = vec!["a"; MAX_KEY_SEGMENTS].join(".") + "=1";
        assert!(d.apply_override(&ok).is_ok());
    }

    #[test]
    fn builtin_names_in_every_form() {
        for n in [
            "one_way_aid",
            "one_way_aid.toml",
            "builtin:one_way_aid",
            "builtin:one_way_aid.toml",
        ] {
            assert_eq!(builtin_name(n), Some("one_way_aid"), "{n}");
        }
        assert_eq!(builtin_name("builtin:nope"), None);
        let e = builtin_or_err("builtin:one_way").unwrap_err().to_string();
        assert!(e.contains("did you mean `builtin:one_way_aid`"), "{e}");
        let t = builtin_standalone("one_way_aid").unwrap();
        assert!(t.contains("extends = \"builtin:baseline_no_pairing\"\n"));
        assert!(!t.contains("baseline_no_pairing.toml\""));
    }
}
