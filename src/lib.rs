//! xiezuo (协作): an agent-based simulator of East–West and mountain–sea cooperation.
//!
//! The folders are the layers (see `docs/ARCHITECTURE.md`); each depends only on those
//! listed before it:
//! - [`model`]: the simulation core (state, agents' rules, schedule, measures, the run API);
//!   no I/O and no polars, plotters, indicatif, clap or toml;
//! - [`stats`]: pure statistics (intervals, differences, survival) shared by every front end;
//! - [`scenario`]: TOML scenario files to a validated [`model::config::Config`];
//! - [`output`]: the recorder that keeps rows, Parquet/CSV writers, comparison rows;
//! - [`batch`]: batch files and sweeps, replicates, the parallel runner, merge, summaries;
//! - [`present`]: reading outputs back, charts and the HTML report;
//! - [`serve`]: `xiezuo serve`, the local web page that explores two scenarios live;
//! - [`cli`]: the commands; `main.rs` only maps errors to exit codes.
//!
//! The `python/` binding crate, beside this package, is a front end like `cli`.

pub mod batch;
pub mod cli;
pub mod model;
pub mod output;
pub mod present;
pub mod scenario;
pub mod serve;
pub mod stats;
