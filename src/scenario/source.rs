//! Reading scenario files: the `extends` chain, merging, `--set` overrides, and the origin
//! (file and line) of every key so that later errors can point at it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::{Table, Value};

use super::error::{suggest, Location, ScenarioError};

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

/// The top-level arrays that `extends` merges element by element, by identity (see
/// [`Ident`]); every other array is replaced as a whole by the child's.
pub const KEYED_ARRAYS: [&str; 4] = ["region", "link", "phase", "shock"];

/// A merged scenario document with the origin of each key path.
#[derive(Debug, Clone)]
pub struct Document {
    /// The merged table (without `extends`, `replace` and `remove`).
    pub table: Table,
    /// Origin of every key path (`region[0].households` → file, line).
    pub origins: BTreeMap<String, Location>,
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
            origins: BTreeMap::new(),
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
                at: Location {
                    file: chain[chain.len() - 2].clone(),
                    line: None,
                },
                chain: chain.join(" -> "),
            });
        }
        chain.push(label.to_string());
        let lines = LineIndex::new(text);
        let mut table: Table = text.parse::<Table>().map_err(|e| ScenarioError::Syntax {
            at: Location {
                file: label.to_string(),
                line: e.span().map(|s| lines.line(s.start)),
            },
            message: e.message().trim().to_string(),
        })?;
        let mut origins = BTreeMap::new();
        if let Ok(spanned) = DeTable::parse(text) {
            collect_origins(label, &lines, "", spanned.get_ref(), &mut origins);
        }
        let here = |key: &str| {
            origins.get(key).cloned().unwrap_or(Location {
                file: label.to_string(),
                line: None,
            })
        };
        if let Some(ext) = table.remove("extends") {
            let at = here("extends");
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
        let replace = take_replace(&mut table, &here)?;
        for key in &replace {
            if !table.contains_key(key) {
                // `replace = ["shock"]` with no [[shock]] here: the list becomes empty.
                self.table.remove(key);
                remove_subtree(&mut self.origins, key);
            }
        }
        let keyed: Vec<(String, Value)> = KEYED_ARRAYS
            .iter()
            .filter_map(|k| table.remove(*k).map(|v| (k.to_string(), v)))
            .collect();
        merge(&mut self.table, table, "", &mut self.origins, &origins);
        for (key, over) in keyed {
            let base = self.table.remove(&key);
            let merged = merge_keyed(
                &key,
                base,
                over,
                replace.contains(&key),
                &mut self.origins,
                &origins,
                label,
            )?;
            self.table.insert(key, merged);
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
        remove_subtree(&mut self.origins, &resolved);
        self.origins.insert(
            resolved,
            Location {
                file: format!("--set {}", shorten(arg)),
                line: None,
            },
        );
        Ok(())
    }

    /// The origin of `path`, or of its nearest ancestor that has one.
    pub fn locate(&self, path: &str) -> Location {
        let mut p = path.to_string();
        loop {
            if let Some(l) = self.origins.get(&p) {
                return l.clone();
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => break,
            }
        }
        Location {
            file: self.files.last().cloned().unwrap_or_default(),
            line: None,
        }
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

/// Takes the top-level `replace = ["link", ...]` directive out of a file's table.
fn take_replace(
    table: &mut Table,
    here: &dyn Fn(&str) -> Location,
) -> Result<Vec<String>, ScenarioError> {
    let Some(v) = table.remove("replace") else {
        return Ok(Vec::new());
    };
    let allowed = KEYED_ARRAYS.join(", ");
    let bad = |key: String, message: String| ScenarioError::Invalid {
        at: here(&key),
        key,
        message,
    };
    let Value::Array(items) = v else {
        return Err(bad(
            "replace".into(),
            format!(
                "expected a list of array names, e.g. replace = [\"link\"]; allowed: {allowed}"
            ),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = format!("replace[{i}]");
        match item.as_str() {
            Some(s) if KEYED_ARRAYS.contains(&s) => out.push(s.to_string()),
            Some(s) => {
                let hint = suggest(s, KEYED_ARRAYS)
                    .map(|h| format!(" (did you mean `{h}`?)"))
                    .unwrap_or_default();
                return Err(bad(
                    key,
                    format!("`{s}` is not a list that extends merges{hint}; allowed: {allowed}"),
                ));
            }
            None => {
                return Err(bad(
                    key,
                    format!("expected the name of a list in quotes; allowed: {allowed}"),
                ))
            }
        }
    }
    Ok(out)
}

/// What identifies an element of a merged array across the files of an `extends` chain.
///
/// * `region`, `phase`: its `name`;
/// * `link`: its `name` when it has one, otherwise its (`east`, `west`) pair;
/// * `shock`: its `name` when it has one, otherwise its `kind` and `start` (as written).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ident {
    /// A `name`.
    Name(String),
    /// An unnamed link's (east, west) pair.
    Pair(String, String),
    /// An unnamed shock's (kind, start).
    Dated(String, String),
}

impl std::fmt::Display for Ident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ident::Name(n) => write!(f, "name = \"{n}\""),
            Ident::Pair(e, w) => write!(f, "east = \"{e}\", west = \"{w}\""),
            Ident::Dated(k, s) => write!(f, "kind = \"{k}\", start = \"{s}\""),
        }
    }
}

impl Ident {
    /// The identity of an element of the array `key`, if it has the keys that make one.
    pub fn of(key: &str, elem: &Table) -> Option<Ident> {
        let s = |k: &str| elem.get(k).and_then(Value::as_str).map(str::to_string);
        if let Some(v) = elem.get("name") {
            return v.as_str().map(|n| Ident::Name(n.to_string()));
        }
        match key {
            "link" => Some(Ident::Pair(s("east")?, s("west")?)),
            "shock" => Some(Ident::Dated(s("kind")?, s("start")?)),
            _ => None,
        }
    }

    /// The derived identity (pair or kind and start) of an element, even when it is named.
    fn derived(key: &str, elem: &Table) -> Option<Ident> {
        let s = |k: &str| elem.get(k).and_then(Value::as_str).map(str::to_string);
        match key {
            "link" => Some(Ident::Pair(s("east")?, s("west")?)),
            "shock" => Some(Ident::Dated(s("kind")?, s("start")?)),
            _ => None,
        }
    }

    /// Keys that may make up the identity of an element of `key`.
    fn keys(key: &str) -> &'static [&'static str] {
        match key {
            "link" => &["name", "east", "west"],
            "shock" => &["name", "kind", "start"],
            _ => &["name"],
        }
    }
}

/// One element of a merged array and the origins of its keys (paths relative to it; `""`
/// is the element itself).
struct Elem {
    value: Value,
    origins: BTreeMap<String, Location>,
}

/// Splits the origins under `key[i]` into one map per element (paths relative to it).
fn element_origins(
    origins: &BTreeMap<String, Location>,
    key: &str,
    n: usize,
) -> Vec<BTreeMap<String, Location>> {
    let pre = format!("{key}[");
    let mut out: Vec<BTreeMap<String, Location>> = (0..n).map(|_| BTreeMap::new()).collect();
    for (k, loc) in origins
        .range(pre.clone()..)
        .take_while(|(k, _)| k.starts_with(&pre))
    {
        let rest = &k[pre.len()..];
        let Some(end) = rest.find(']') else { continue };
        let Ok(i) = rest[..end].parse::<usize>() else {
            continue;
        };
        let suffix = &rest[end + 1..];
        let suffix = suffix.strip_prefix('.').unwrap_or(suffix);
        if let Some(m) = out.get_mut(i) {
            m.insert(suffix.to_string(), loc.clone());
        }
    }
    out
}

/// Removes the origins of every element of the array `key` (`key[…`), keeping `key`'s own.
fn remove_elements(origins: &mut BTreeMap<String, Location>, key: &str) {
    let pre = format!("{key}[");
    let keys: Vec<String> = origins
        .range(pre.clone()..)
        .take_while(|(k, _)| k.starts_with(&pre))
        .map(|(k, _)| k.clone())
        .collect();
    for k in keys {
        origins.remove(&k);
    }
}

/// Merges the child's array `key` into the parent's by identity (see [`Ident`]): same
/// identity, the child's keys override (tables key by key); new identity, appended in the
/// child's order; `remove = true` drops the parent's element; `replace` drops the parent's
/// whole list first.
fn merge_keyed(
    key: &str,
    base: Option<Value>,
    over: Value,
    replace: bool,
    origins: &mut BTreeMap<String, Location>,
    new: &BTreeMap<String, Location>,
    file: &str,
) -> Result<Value, ScenarioError> {
    let Value::Array(child) = over else {
        // Not a list: replaced as a whole (validation reports the wrong type).
        remove_subtree(origins, key);
        copy_subtree(new, origins, key);
        return Ok(over);
    };
    let mut parent: Vec<Option<Elem>> = match base {
        Some(Value::Array(items)) if !replace => {
            let o = element_origins(origins, key, items.len());
            remove_elements(origins, key);
            items
                .into_iter()
                .zip(o)
                .map(|(value, origins)| Some(Elem { value, origins }))
                .collect()
        }
        _ => {
            remove_subtree(origins, key);
            Vec::new()
        }
    };
    if let Some(l) = new.get(key) {
        origins.entry(key.to_string()).or_insert_with(|| l.clone());
    }
    let child_origins = element_origins(new, key, child.len());
    let mut by_ident: HashMap<Ident, usize> = HashMap::new();
    let mut named_by_derived: HashMap<Ident, String> = HashMap::new();
    for (i, e) in parent.iter().enumerate() {
        let Some(Value::Table(t)) = e.as_ref().map(|e| &e.value) else {
            continue;
        };
        if let Some(id) = Ident::of(key, t) {
            by_ident.entry(id.clone()).or_insert(i);
            if let (Ident::Name(n), Some(d)) = (&id, Ident::derived(key, t)) {
                named_by_derived.entry(d).or_insert_with(|| n.clone());
            }
        }
    }
    let mut seen: HashMap<Ident, usize> = HashMap::new();
    let mut appended: Vec<Elem> = Vec::new();
    for (j, (value, eo)) in child.into_iter().zip(child_origins).enumerate() {
        let path = format!("{key}[{j}]");
        let err = |eo: &BTreeMap<String, Location>, sub: &str, message: String| {
            elem_err(eo, file, &path, sub, message)
        };
        let Value::Table(mut t) = value else {
            appended.push(Elem { value, origins: eo });
            continue;
        };
        let mut eo = eo;
        let remove = match t.remove("remove") {
            None => false,
            Some(Value::Boolean(b)) => {
                eo.remove("remove");
                b
            }
            Some(_) => {
                return Err(err(
                    &eo,
                    "remove",
                    "expected `remove = true` (drops the parent's element with this identity)"
                        .into(),
                ))
            }
        };
        let Some(id) = Ident::of(key, &t) else {
            if remove {
                return Err(err(
                    &eo,
                    "remove",
                    format!(
                        "`remove = true` needs the element's identity to find it: {}",
                        ident_help(key)
                    ),
                ));
            }
            // No identity (e.g. a region without a name): appended; validation reports it.
            appended.push(Elem {
                value: Value::Table(t),
                origins: eo,
            });
            continue;
        };
        if let Some(&first) = seen.get(&id) {
            return Err(err(
                    &eo,
                "",
                format!(
                    "two elements of `{key}` in this file have the same identity ({id}), also {key}[{first}]; {}",
                    ident_help(key)
                ),
            ));
        }
        seen.insert(id.clone(), j);
        let hint_named = || {
            named_by_derived.get(&id).map(|n| {
                format!(
                    "; the parent's {key} with {id} is named `{n}`: add name = \"{n}\" to refer to it"
                )
            })
        };
        if remove {
            if replace {
                return Err(err(
                    &eo,
                    "remove",
                    format!("`remove = true` has nothing to remove: `replace` drops the parent's whole `{key}` list"),
                ));
            }
            if let Some(extra) = t.keys().find(|k| !Ident::keys(key).contains(&k.as_str())) {
                return Err(err(
                    &eo,
                    extra,
                    format!(
                        "an element with `remove = true` carries only its identity ({}); drop `{extra}`",
                        Ident::keys(key).join(", ")
                    ),
                ));
            }
            match by_ident.get(&id).copied() {
                Some(i) if parent[i].is_some() => parent[i] = None,
                _ => {
                    return Err(err(
                        &eo,
                        "remove",
                        format!(
                            "no `{key}` with {id} in the files this one extends{}; they have: {}",
                            hint_named().unwrap_or_default(),
                            list_idents(key, &parent)
                        ),
                    ))
                }
            }
            continue;
        }
        match by_ident.get(&id).and_then(|&i| parent[i].as_mut()) {
            Some(Elem {
                value: Value::Table(pt),
                origins: po,
            }) => merge(pt, t, "", po, &eo),
            _ => {
                if let (Ident::Pair(..) | Ident::Dated(..), Some(h)) = (&id, hint_named()) {
                    return Err(err(
                        &eo,
                        "",
                        format!("this {key} has no name{h}, or another name to add a second {key}"),
                    ));
                }
                appended.push(Elem {
                    value: Value::Table(t),
                    origins: eo,
                });
            }
        }
    }
    let mut items = Vec::with_capacity(parent.len() + appended.len());
    for (i, e) in parent.into_iter().flatten().chain(appended).enumerate() {
        for (suffix, loc) in e.origins {
            let p = if suffix.is_empty() {
                format!("{key}[{i}]")
            } else if suffix.starts_with('[') {
                format!("{key}[{i}]{suffix}")
            } else {
                format!("{key}[{i}].{suffix}")
            };
            origins.insert(p, loc);
        }
        items.push(e.value);
    }
    Ok(Value::Array(items))
}

/// An error about element `path` (or its key `sub`) of a file, located by the element's
/// origins.
fn elem_err(
    eo: &BTreeMap<String, Location>,
    file: &str,
    path: &str,
    sub: &str,
    message: String,
) -> ScenarioError {
    let at = eo
        .get(sub)
        .or_else(|| eo.get(""))
        .cloned()
        .unwrap_or(Location {
            file: file.to_string(),
            line: None,
        });
    ScenarioError::Invalid {
        at,
        key: if sub.is_empty() {
            path.to_string()
        } else {
            format!("{path}.{sub}")
        },
        message,
    }
}

/// How elements of `key` are identified, for messages.
fn ident_help(key: &str) -> String {
    match key {
        "link" => {
            "a link is identified by its `name`, or by `east` and `west` when it has none".into()
        }
        "shock" => {
            "a shock is identified by its `name`, or by `kind` and `start` when it has none".into()
        }
        _ => format!("an element of `{key}` is identified by its `name`"),
    }
}

/// The identities of the parent's remaining elements, for messages.
fn list_idents(key: &str, parent: &[Option<Elem>]) -> String {
    let v: Vec<String> = parent
        .iter()
        .flatten()
        .filter_map(|e| e.value.as_table().and_then(|t| Ident::of(key, t)))
        .map(|i| format!("({i})"))
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// Subtree helpers on origin maps: a path's subtree is the path itself and every path
/// below it (`path.…` or `path[…`). Keys sharing a prefix are contiguous in a `BTreeMap`,
/// so each helper costs the size of the subtree, not of the map.
fn subtree<'a>(
    origins: &'a BTreeMap<String, Location>,
    path: &'a str,
) -> impl Iterator<Item = (&'a String, &'a Location)> + 'a {
    origins
        .range(path.to_string()..)
        .take_while(move |(k, _)| k.starts_with(path))
        .filter(move |(k, _)| {
            k.len() == path.len() || matches!(k.as_bytes()[path.len()], b'.' | b'[')
        })
}

fn remove_subtree(origins: &mut BTreeMap<String, Location>, path: &str) {
    let keys: Vec<String> = subtree(origins, path).map(|(k, _)| k.clone()).collect();
    for k in keys {
        origins.remove(&k);
    }
}

fn copy_subtree(
    from: &BTreeMap<String, Location>,
    to: &mut BTreeMap<String, Location>,
    path: &str,
) {
    for (k, l) in subtree(from, path) {
        to.insert(k.clone(), l.clone());
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

/// Start offsets of the lines of a text, built in one pass, so that the line of any byte
/// offset is a binary search (origin tracking stays linear in the size of the file).
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text` (one pass over its bytes).
    pub fn new(text: &str) -> LineIndex {
        #[cfg(test)]
        SCANNED.with(|s| s.set(s.get() + text.len()));
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line of byte offset `pos`.
    pub fn line(&self, pos: usize) -> usize {
        self.starts.partition_point(|&s| s <= pos)
    }
}

#[cfg(test)]
thread_local! {
    /// Bytes of scenario text scanned for line numbers (tests check it stays linear).
    static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// 1-based line of byte offset `pos` (one scan of the text up to `pos`: for a single
/// look-up; use [`LineIndex`] for many).
pub fn line_of(text: &str, pos: usize) -> usize {
    #[cfg(test)]
    SCANNED.with(|s| s.set(s.get() + pos.min(text.len())));
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn collect_origins(
    file: &str,
    lines: &LineIndex,
    prefix: &str,
    table: &DeTable<'_>,
    out: &mut BTreeMap<String, Location>,
) {
    for (k, v) in table.iter() {
        let mut path = prefix.to_string();
        push_key(&mut path, k.get_ref());
        let loc = Location {
            file: file.to_string(),
            line: Some(lines.line(k.span().start)),
        };
        out.insert(path.clone(), loc);
        collect_value(file, lines, &path, v.get_ref(), out);
    }
}

fn collect_value(
    file: &str,
    lines: &LineIndex,
    path: &str,
    v: &DeValue<'_>,
    out: &mut BTreeMap<String, Location>,
) {
    match v {
        DeValue::Table(t) => collect_origins(file, lines, path, t, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.insert(
                    p.clone(),
                    Location {
                        file: file.to_string(),
                        line: Some(lines.line(item.span().start)),
                    },
                );
                collect_value(file, lines, &p, item.get_ref(), out);
            }
        }
        _ => {}
    }
}

/// Merges `over` into `base`: tables merge key by key, everything else (arrays included)
/// is replaced. Origins of replaced subtrees are replaced too. (The top-level arrays of
/// [`KEYED_ARRAYS`] are merged by [`merge_keyed`] instead.)
fn merge(
    base: &mut Table,
    over: Table,
    prefix: &str,
    origins: &mut BTreeMap<String, Location>,
    new: &BTreeMap<String, Location>,
) {
    for (k, v) in over {
        let mut path = prefix.to_string();
        push_key(&mut path, &k);
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => {
                if let Some(l) = new.get(&path) {
                    origins.entry(path.clone()).or_insert_with(|| l.clone());
                }
                merge(b, o, &path, origins, new);
            }
            (old, v) => {
                if old.is_some() {
                    remove_subtree(origins, &path);
                }
                copy_subtree(new, origins, &path);
                base.insert(k, v);
            }
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
}
