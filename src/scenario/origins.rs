//! Where every key of a merged scenario came from (file and line), as a tree shaped like
//! the document, built in time linear in the size of the files.

use std::collections::BTreeMap;

use toml::de::{DeTable, DeValue};

use super::error::Location;

/// Start offsets of the lines of a text, built in one pass, so that the line of any byte
/// offset is a binary search (origin tracking stays linear in the size of the file).
#[derive(Debug, Clone)]
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
    pub(crate) static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
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

/// The origin of one key or array element and of everything below it.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Where the key (or element) itself was written.
    pub at: Option<Location>,
    /// Keys of a table, by name.
    pub keys: BTreeMap<String, Node>,
    /// Elements of an array, by index.
    pub items: Vec<Node>,
}

impl Node {
    /// A node with a location and nothing below it.
    pub fn leaf(at: Location) -> Node {
        Node {
            at: Some(at),
            ..Node::default()
        }
    }

    /// The origins of a parsed file (`file` labels every location).
    pub fn of_file(file: &str, lines: &LineIndex, table: &DeTable<'_>) -> Node {
        let file: std::sync::Arc<str> = file.into();
        let mut n = Node::default();
        fill_table(&file, lines, table, &mut n);
        n
    }
}

fn fill_table(file: &std::sync::Arc<str>, lines: &LineIndex, table: &DeTable<'_>, n: &mut Node) {
    for (k, v) in table.iter() {
        let mut child = Node::leaf(Location {
            file: file.clone(),
            line: Some(lines.line(k.span().start)),
        });
        fill_value(file, lines, v.get_ref(), &mut child);
        n.keys.insert(k.get_ref().to_string(), child);
    }
}

fn fill_value(file: &std::sync::Arc<str>, lines: &LineIndex, v: &DeValue<'_>, n: &mut Node) {
    match v {
        DeValue::Table(t) => fill_table(file, lines, t, n),
        DeValue::Array(items) => {
            n.items.reserve(items.len());
            for item in items.iter() {
                let mut child = Node::leaf(Location {
                    file: file.clone(),
                    line: Some(lines.line(item.span().start)),
                });
                fill_value(file, lines, item.get_ref(), &mut child);
                n.items.push(child);
            }
        }
        _ => {}
    }
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `region[0].channels.fiscal_aid` into steps; `None` if it is not such a path.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut out = Vec::new();
    if path.is_empty() {
        return Some(out);
    }
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out.push(Step::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// Origins of a whole document: the file and line of every key path.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// The document's top-level table.
    pub root: Node,
}

impl Origins {
    /// The node of `path`, if it has one.
    pub fn node(&self, path: &str) -> Option<&Node> {
        let mut n = &self.root;
        for s in steps(path)? {
            n = match s {
                Step::Key(k) => n.keys.get(k)?,
                Step::Index(i) => n.items.get(i)?,
            };
        }
        Some(n)
    }

    /// The origin of exactly `path` (`region[0].households`), if known.
    pub fn get(&self, path: &str) -> Option<&Location> {
        self.node(path)?.at.as_ref()
    }

    /// The origin of `path` or of its nearest ancestor that has one.
    pub fn nearest(&self, path: &str) -> Option<&Location> {
        let mut n = &self.root;
        let mut best = n.at.as_ref();
        for s in steps(path).unwrap_or_default() {
            let next = match s {
                Step::Key(k) => n.keys.get(k),
                Step::Index(i) => n.items.get(i),
            };
            let Some(next) = next else { break };
            n = next;
            if n.at.is_some() {
                best = n.at.as_ref();
            }
        }
        best
    }

    /// Records that `path` (and everything below it) comes from `at`, replacing what was
    /// recorded under it. Missing intermediate nodes are created (array elements up to the
    /// index, without a location).
    pub fn insert(&mut self, path: impl AsRef<str>, at: Location) {
        self.set(path.as_ref(), Node::leaf(at));
    }

    /// Replaces the subtree at `path` (a path that does not parse is ignored).
    pub fn set(&mut self, path: &str, node: Node) {
        let Some(steps) = steps(path) else { return };
        let mut n = &mut self.root;
        for s in steps {
            n = match s {
                Step::Key(k) => n.keys.entry(k.to_string()).or_default(),
                Step::Index(i) => {
                    if n.items.len() <= i {
                        n.items.resize_with(i + 1, Node::default);
                    }
                    &mut n.items[i]
                }
            };
        }
        *n = node;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_agrees_with_a_scan() {
        let text = "a = 1\n\nb = [\n 2,\n 3]\nc = \"x\"";
        let idx = LineIndex::new(text);
        for pos in 0..=text.len() + 3 {
            assert_eq!(idx.line(pos), line_of(text, pos), "offset {pos}");
        }
    }

    #[test]
    fn paths_address_nodes() {
        assert_eq!(
            steps("region[2].households").unwrap(),
            vec![Step::Key("region"), Step::Index(2), Step::Key("households")]
        );
        assert_eq!(steps("a[x]"), None);
        let mut o = Origins::default();
        let at = |l| Location {
            file: "f".into(),
            line: Some(l),
        };
        o.insert("region[1].wage", at(7));
        assert_eq!(o.get("region[1].wage").and_then(|l| l.line), Some(7));
        assert_eq!(o.get("region[0]"), None);
        o.insert("region", at(2));
        assert_eq!(o.get("region[1].wage"), None, "a subtree is replaced");
        assert_eq!(o.nearest("region[1].wage").and_then(|l| l.line), Some(2));
    }
}
