//! Scenario files: TOML (with `extends` and `--set` overrides) to a validated [`Config`](crate::model::config::Config).
//!
//! Loading happens in three steps: [`source`] reads every file of the `extends` chain,
//! merges them and remembers which file and line every key came from; serde turns the
//! merged document into typed raw values; [`validate`] checks ranges, names and dates and
//! builds the [`Config`](crate::model::config::Config). Every error names the file, line and key, and the allowed values.

pub mod error;
pub mod source;
pub mod validate;

use std::path::Path;

pub use error::ScenarioError;
pub use source::{builtin, line_of, BUILTIN};
pub use validate::Loaded;
pub use validate::{FORMAT_CHANGES, FORMAT_VERSION};

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

/// Loads a built-in scenario by file name (e.g. `"one_way_aid.toml"`).
pub fn load_builtin(name: &str, overrides: &[String]) -> Result<Loaded, ScenarioError> {
    let text = builtin(name).ok_or_else(|| ScenarioError::Io {
        file: format!("builtin:{name}"),
        message: format!(
            "no built-in scenario of that name; built-in scenarios are: {}",
            BUILTIN
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    load_str(&format!("builtin:{name}"), text, None, overrides)
}
