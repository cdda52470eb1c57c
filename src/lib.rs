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
//! - [`cli`]: the commands; `main.rs` only maps errors to exit codes.
//!
//! Homes reserved for what comes next, beside `batch`: `claims` (the claims catalogue),
//! `sensitivity` and `calibrate`; beside `present`: `serve` (the local web page); and the
//! `python/` binding crate beside this package.

pub mod batch;
pub mod cli;
pub mod model;
pub mod output;
pub mod present;
pub mod scenario;
pub mod stats;
