//! Errors of the scenario layer: each names the file, line and key it concerns.

use std::fmt;
use std::sync::Arc;

/// Where in the input an error was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// File name as given (or `builtin:NAME`, or `--set`); shared by every key of a file.
    pub file: Arc<str>,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

impl Location {
    /// A whole file (no line).
    pub fn file(file: &str) -> Location {
        Location {
            file: file.into(),
            line: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}", self.file, l),
            None => write!(f, "{}", self.file),
        }
    }
}

/// A scenario that cannot be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("{file}: cannot read scenario: {message}")]
    Io {
        /// File name.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// The file is not valid TOML.
    #[error("{at}: TOML syntax error: {message}")]
    Syntax {
        /// Where.
        at: Location,
        /// Parser message.
        message: String,
    },
    /// A key has a wrong type, an out-of-range value, or does not exist.
    #[error("{at}: key `{key}`: {message}")]
    Invalid {
        /// Where.
        at: Location,
        /// Dotted key path, e.g. `region[1].households`.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// `extends` files include each other.
    #[error("{at}: key `extends`: cycle in extends chain: {chain}")]
    Cycle {
        /// Where the cycle closes.
        at: Location,
        /// The chain, `a.toml -> b.toml -> a.toml`.
        chain: String,
    },
    /// `builtin:NAME` names no built-in scenario.
    #[error("builtin:{}: {message}", name.strip_prefix("builtin:").unwrap_or(name))]
    UnknownBuiltin {
        /// The name as given.
        name: String,
        /// What is wrong, the built-in scenarios and a suggestion.
        message: String,
    },
    /// A `--set` override is malformed or points nowhere.
    #[error("--set {arg}: {message}")]
    Override {
        /// The argument as given.
        arg: String,
        /// What is wrong.
        message: String,
    },
}

/// "did you mean" suggestion among `candidates` (Jaro–Winkler ≥ 0.8).
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let s = strsim::jaro_winkler(word, c);
        if s >= 0.8 && best.is_none_or(|(_, b)| s > b) {
            best = Some((c, s));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            suggest("housholds", ["households", "weight"]),
            Some("households")
        );
        assert_eq!(suggest("zzz", ["households", "weight"]), None);
    }
}
