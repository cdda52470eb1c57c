//! Scenario files: TOML (with `extends` and `--set` overrides) to a validated [`Config`](crate::model::config::Config).
//!
//! Loading happens in three steps: [`source`] reads every file of the `extends` chain,
//! merges them (arrays of regions, links, phases and shocks element by element, by
//! identity) and remembers which file and line every key came from; serde turns the
//! merged document into typed raw values; [`validate`] checks ranges, names and dates and
//! builds the [`Config`](crate::model::config::Config). Every error names the file, line and key, and the allowed values.

pub mod error;
pub mod merge;
pub mod origins;
pub mod source;
pub mod summary;
pub mod validate;

use std::path::Path;

pub use error::ScenarioError;
pub use origins::line_of;
pub use source::{
    builtin, builtin_description, builtin_name, builtin_standalone, BUILTIN, BUILTIN_PREFIX,
    MAX_EXTENDS_DEPTH, MAX_KEY_SEGMENTS,
};
pub use summary::describe;
pub use validate::Loaded;
pub use validate::{FORMAT_CHANGES, FORMAT_VERSION};

/// Loads a scenario named on a command line: `builtin:NAME` (or `builtin:NAME.toml`) is a
/// built-in scenario, anything else a file on disk.
pub fn load(spec: &Path, overrides: &[String]) -> Result<Loaded, ScenarioError> {
    match spec.to_str().filter(|s| s.starts_with(BUILTIN_PREFIX)) {
        Some(name) => load_builtin(name, overrides),
        None => load_file(spec, overrides),
    }
}

/// Loads a scenario file from disk, applying `key.path=value` overrides.
pub fn load_file(path: &Path, overrides: &[String]) -> Result<Loaded, ScenarioError> {
    let doc = source::Document::load_path(path, overrides)?;
    validate::build(doc)
}

/// Loads a scenario from text (e.g. a built-in scenario). `name` labels errors; `extends`
/// is resolved among the built-in scenarios first, then relative to `base_dir`.
pub fn load_str(
    name: &str,
    text: &str,
    base_dir: Option<&Path>,
    overrides: &[String],
) -> Result<Loaded, ScenarioError> {
    let doc = source::Document::load_text(name, text, base_dir, overrides)?;
    validate::build(doc)
}

/// Loads a built-in scenario by name: `one_way_aid`, `one_way_aid.toml`,
/// `builtin:one_way_aid` and `builtin:one_way_aid.toml` are the same. An unknown name is an
/// error listing the built-in scenarios (with a suggestion).
pub fn load_builtin(name: &str, overrides: &[String]) -> Result<Loaded, ScenarioError> {
    let (name, text) = source::builtin_or_err(name)?;
    load_str(&format!("{BUILTIN_PREFIX}{name}"), text, None, overrides)
}
