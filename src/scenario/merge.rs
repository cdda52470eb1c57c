//! How `extends` lays a file over its parent: tables key by key; the arrays `region`,
//! `link`, `phase` and `shock` element by element, by identity ([`Ident`]); the
//! directives `remove = true` (in an element) and `replace = [...]` (at the top).

use std::collections::BTreeMap;

use toml::{Table, Value};

use super::error::{suggest, Location, ScenarioError};
use super::origins::Node;

/// The top-level arrays that `extends` merges element by element, by identity (see
/// [`Ident`]); every other array is replaced as a whole by the child's.
pub const KEYED_ARRAYS: [&str; 4] = ["region", "link", "phase", "shock"];

/// What identifies an element of a merged array across the files of an `extends` chain.
///
/// * `region`, `phase`: its `name`;
/// * `link`: its `name` when it has one, otherwise its (`east`, `west`) pair;
/// * `shock`: its `name` when it has one, otherwise its `kind` and `start` (as written).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
        match elem.get("name") {
            Some(v) => v.as_str().map(|n| Ident::Name(n.to_string())),
            None => Self::derived(key, elem),
        }
    }

    /// The derived identity (pair, or kind and start) of a link or shock, even a named one.
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

    /// How elements of `key` are identified, for messages.
    fn help(key: &str) -> String {
        match key {
            "link" => {
                "a link is identified by its `name`, or by `east` and `west` when it has none"
                    .into()
            }
            "shock" => {
                "a shock is identified by its `name`, or by `kind` and `start` when it has none"
                    .into()
            }
            _ => format!("an element of `{key}` is identified by its `name`"),
        }
    }
}

/// Merges `over` into `base`: tables merge key by key, everything else (arrays included)
/// is replaced, and so are the origins of what is replaced.
pub fn merge_tables(base: &mut Table, bo: &mut Node, over: Table, mut no: Node) {
    for (k, v) in over {
        let child = no.keys.remove(&k).unwrap_or_default();
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => {
                let n = bo.keys.entry(k).or_default();
                if n.at.is_none() {
                    n.at = child.at.clone();
                }
                merge_tables(b, n, o, child);
            }
            (_, v) => {
                base.insert(k.clone(), v);
                bo.keys.insert(k, child);
            }
        }
    }
}

/// Takes the top-level `replace = ["link", ...]` directive out of a file's table: the
/// arrays whose parent list the file replaces as a whole.
pub fn take_replace(
    table: &mut Table,
    no: &Node,
    file: &str,
) -> Result<Vec<String>, ScenarioError> {
    let Some(v) = table.remove("replace") else {
        return Ok(Vec::new());
    };
    let node = no.keys.get("replace");
    let allowed = KEYED_ARRAYS.join(", ");
    let bad = |i: Option<usize>, message: String| {
        let at = i
            .and_then(|i| node.and_then(|n| n.items.get(i)))
            .and_then(|n| n.at.clone())
            .or_else(|| node.and_then(|n| n.at.clone()))
            .unwrap_or_else(|| Location::file(file));
        ScenarioError::Invalid {
            at,
            key: match i {
                Some(i) => format!("replace[{i}]"),
                None => "replace".into(),
            },
            message,
        }
    };
    let Value::Array(items) = v else {
        return Err(bad(
            None,
            format!(
                "expected a list of array names, e.g. replace = [\"link\"]; allowed: {allowed}"
            ),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) if KEYED_ARRAYS.contains(&s) => out.push(s.to_string()),
            Some(s) => {
                let hint = suggest(s, KEYED_ARRAYS)
                    .map(|h| format!(" (did you mean `{h}`?)"))
                    .unwrap_or_default();
                return Err(bad(
                    Some(i),
                    format!("`{s}` is not a list that extends merges{hint}; allowed: {allowed}"),
                ));
            }
            None => {
                return Err(bad(
                    Some(i),
                    format!("expected the name of a list in quotes; allowed: {allowed}"),
                ))
            }
        }
    }
    Ok(out)
}

/// One element of a merged array with its origins.
struct Elem {
    value: Value,
    node: Node,
}

/// Merges the child's array `key` (`over`, origins `no`) into the parent's (`base`, origins
/// `bo`) by identity (see [`Ident`]): same identity, the child's keys override (tables key
/// by key); new identity, appended after the parent's elements in the child's order;
/// `remove = true` drops the parent's element; `replace` drops the parent's whole list
/// first. Returns the merged array and its origins.
pub fn merge_keyed(
    key: &str,
    base: Option<(Value, Node)>,
    over: Value,
    no: Node,
    replace: bool,
    file: &str,
) -> Result<(Value, Node), ScenarioError> {
    let Value::Array(child) = over else {
        // Not a list: replaced as a whole (validation reports the wrong type).
        return Ok((over, no));
    };
    let (mut parent, mut node): (Vec<Option<Elem>>, Node) = match base {
        Some((Value::Array(items), mut bn)) if !replace => {
            let nodes = std::mem::take(&mut bn.items);
            let mut nodes = nodes.into_iter();
            let parent = items
                .into_iter()
                .map(|value| {
                    Some(Elem {
                        value,
                        node: nodes.next().unwrap_or_default(),
                    })
                })
                .collect();
            (parent, bn)
        }
        _ => (Vec::new(), Node::default()),
    };
    if node.at.is_none() {
        node.at = no.at.clone();
    }
    let mut by_ident: BTreeMap<Ident, usize> = BTreeMap::new();
    let mut named_by_derived: BTreeMap<Ident, String> = BTreeMap::new();
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
    let mut seen: BTreeMap<Ident, usize> = BTreeMap::new();
    let mut appended: Vec<Elem> = Vec::new();
    let mut child_nodes = no.items.into_iter();
    for (j, value) in child.into_iter().enumerate() {
        let mut en = child_nodes.next().unwrap_or_default();
        let path = format!("{key}[{j}]");
        let err = |en: &Node, sub: &str, message: String| {
            let at = en
                .keys
                .get(sub)
                .and_then(|n| n.at.clone())
                .or_else(|| en.at.clone())
                .unwrap_or_else(|| Location::file(file));
            ScenarioError::Invalid {
                at,
                key: if sub.is_empty() {
                    path.clone()
                } else {
                    format!("{path}.{sub}")
                },
                message,
            }
        };
        let Value::Table(mut t) = value else {
            appended.push(Elem { value, node: en });
            continue;
        };
        let remove = match t.remove("remove") {
            None => false,
            Some(Value::Boolean(b)) => {
                if !b {
                    en.keys.remove("remove");
                }
                b
            }
            Some(_) => {
                return Err(err(
                    &en,
                    "remove",
                    "expected `remove = true` (drops the parent's element with this identity)"
                        .into(),
                ))
            }
        };
        let Some(id) = Ident::of(key, &t) else {
            if remove {
                return Err(err(
                    &en,
                    "remove",
                    format!(
                        "`remove = true` needs the element's identity to find it: {}",
                        Ident::help(key)
                    ),
                ));
            }
            // No identity (e.g. a region without a name): appended; validation reports it.
            appended.push(Elem {
                value: Value::Table(t),
                node: en,
            });
            continue;
        };
        if let Some(&first) = seen.get(&id) {
            let message = match &id {
                Ident::Name(n) if key == "region" || key == "phase" => {
                    format!("duplicate {key} name `{n}` (also {key}[{first}] in this file)")
                }
                _ => format!(
                    "two elements of `{key}` in this file have the same identity ({id}), also {key}[{first}]; {}, so give them distinct names",
                    Ident::help(key)
                ),
            };
            return Err(err(&en, "", message));
        }
        seen.insert(id.clone(), j);
        let hint_named = named_by_derived.get(&id).map(|n| {
            format!(
                "; the parent's {key} with {id} is named `{n}`: add name = \"{n}\" to refer to it"
            )
        });
        if remove {
            if replace {
                return Err(err(
                    &en,
                    "remove",
                    format!("`remove = true` has nothing to remove: `replace` drops the parent's whole `{key}` list"),
                ));
            }
            if let Some(extra) = t.keys().find(|k| !Ident::keys(key).contains(&k.as_str())) {
                return Err(err(
                    &en,
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
                        &en,
                        "remove",
                        format!(
                            "no `{key}` with {id} in the files this one extends{}; they have: {}",
                            hint_named.unwrap_or_default(),
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
                node: pn,
            }) => merge_tables(pt, pn, t, en),
            _ => {
                if let (Ident::Pair(..) | Ident::Dated(..), Some(h)) = (&id, hint_named) {
                    return Err(err(
                        &en,
                        "",
                        format!("this {key} has no name{h}, or another name to add a second {key}"),
                    ));
                }
                appended.push(Elem {
                    value: Value::Table(t),
                    node: en,
                });
            }
        }
    }
    let mut items = Vec::with_capacity(parent.len() + appended.len());
    node.items.clear();
    for e in parent.into_iter().flatten().chain(appended) {
        items.push(e.value);
        node.items.push(e.node);
    }
    Ok((Value::Array(items), node))
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
