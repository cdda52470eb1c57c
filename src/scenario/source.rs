//! Reading scenario files: the `extends` chain, merging, `--set` overrides, and the origin
//! (file and line) of every key so that later errors can point at it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::{Table, Value};

use super::error::{Location, ScenarioError};

/// Scenarios compiled into the binary (so `compare` works from any directory).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "baseline_no_pairing.toml",
        include_str!("../../scenarios/baseline_no_pairing.toml"),
    ),
    (
        "one_way_aid.toml",
        include_str!("../../scenarios/one_way_aid.toml"),
    ),
    (
        "two_way_market.toml",
        include_str!("../../scenarios/two_way_market.toml"),
    ),
    (
        "china_2021_pairings.toml",
        include_str!("../../scenarios/china_2021_pairings.toml"),
    ),
    (
        "zhejiang_mountain_sea.toml",
        include_str!("../../scenarios/zhejiang_mountain_sea.toml"),
    ),
];

/// The text of a built-in scenario.
pub fn builtin(name: &str) -> Option<&'static str> {
    let name = name.strip_prefix("builtin:").unwrap_or(name);
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A merged scenario document with the origin of each key path.
#[derive(Debug, Clone)]
pub struct Document {
    /// The merged table (without `extends`).
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
        let mut table: Table = text.parse::<Table>().map_err(|e| ScenarioError::Syntax {
            at: Location {
                file: label.to_string(),
                line: e.span().map(|s| line_of(text, s.start)),
            },
            message: e.message().trim().to_string(),
        })?;
        let mut origins = BTreeMap::new();
        if let Ok(spanned) = DeTable::parse(text) {
            collect_origins(label, text, "", spanned.get_ref(), &mut origins);
        }
        if let Some(ext) = table.remove("extends") {
            let at = origins.get("extends").cloned().unwrap_or(Location {
                file: label.to_string(),
                line: None,
            });
            let Value::String(name) = ext else {
                return Err(ScenarioError::Invalid {
                    at,
                    key: "extends".into(),
                    message: "expected a file name string, e.g. extends = \"one_way_aid.toml\""
                        .into(),
                });
            };
            let (base_label, base_text, base_dir) =
                resolve(&name, label, dir).map_err(|message| ScenarioError::Invalid {
                    at: at.clone(),
                    key: "extends".into(),
                    message,
                })?;
            self.absorb(&base_label, &base_text, base_dir.as_deref(), chain)?;
        }
        chain.pop();
        origins.remove("extends");
        merge(&mut self.table, table, "", &mut self.origins, &origins);
        self.files.push(label.to_string());
        Ok(())
    }

    /// Applies one `key.path=value` override.
    fn apply_override(&mut self, arg: &str) -> Result<(), ScenarioError> {
        let bad = |message: String| ScenarioError::Override {
            arg: arg.to_string(),
            message,
        };
        let (path, raw) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected key.path=value, e.g. --set time.years=5".into()))?;
        let value = parse_value(raw.trim());
        let segments = split_path(path.trim()).map_err(bad)?;
        if segments.is_empty() {
            return Err(bad("empty key path".into()));
        }
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
        let prefix = resolved.clone();
        self.origins.retain(|k, _| {
            !(k == &prefix
                || k.starts_with(&format!("{prefix}."))
                || k.starts_with(&format!("{prefix}[")))
        });
        self.origins.insert(
            resolved,
            Location {
                file: format!("--set {arg}"),
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

/// Finds the text of an `extends` target: a built-in scenario when the including file is
/// built in, otherwise a file relative to the including file's directory.
fn resolve(
    name: &str,
    from: &str,
    dir: Option<&Path>,
) -> Result<(String, String, Option<PathBuf>), String> {
    if from.starts_with("builtin:") || dir.is_none() {
        if let Some(t) = builtin(name) {
            return Ok((
                format!("builtin:{}", name.trim_start_matches("builtin:")),
                t.to_string(),
                None,
            ));
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
        Err(e) => Err(format!("cannot read `{}`: {e}", path.display())),
    }
}

/// 1-based line of byte offset `pos`.
pub fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn collect_origins(
    file: &str,
    text: &str,
    prefix: &str,
    table: &DeTable<'_>,
    out: &mut BTreeMap<String, Location>,
) {
    for (k, v) in table.iter() {
        let mut path = prefix.to_string();
        push_key(&mut path, k.get_ref());
        let loc = Location {
            file: file.to_string(),
            line: Some(line_of(text, k.span().start)),
        };
        out.insert(path.clone(), loc);
        collect_value(file, text, &path, v.get_ref(), out);
    }
}

fn collect_value(
    file: &str,
    text: &str,
    path: &str,
    v: &DeValue<'_>,
    out: &mut BTreeMap<String, Location>,
) {
    match v {
        DeValue::Table(t) => collect_origins(file, text, path, t, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.insert(
                    p.clone(),
                    Location {
                        file: file.to_string(),
                        line: Some(line_of(text, item.span().start)),
                    },
                );
                collect_value(file, text, &p, item.get_ref(), out);
            }
        }
        _ => {}
    }
}

/// Merges `over` into `base`: tables merge key by key, everything else (arrays included)
/// is replaced. Origins of replaced subtrees are replaced too.
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
            (_, v) => {
                let dot = format!("{path}.");
                let br = format!("{path}[");
                origins.retain(|p, _| !(p == &path || p.starts_with(&dot) || p.starts_with(&br)));
                for (p, l) in new.range(path.clone()..) {
                    if p == &path || p.starts_with(&dot) || p.starts_with(&br) {
                        origins.insert(p.clone(), l.clone());
                    } else if !p.starts_with(&path) {
                        break;
                    }
                }
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
