//! xiezuo (协作): an agent-based simulator of East–West and mountain–sea cooperation.
//!
//! Layers, inner to outer (see `docs/ARCHITECTURE.md`):
//! - core: [`time`], [`config`], [`rng`], [`ledger`], [`world`], [`agents`], [`engine`],
//!   [`metrics`], [`survival`] — no I/O, no polars, plotters, indicatif or clap;
//! - [`scenario`]: TOML files to a validated [`config::Config`]; [`experiment`]: batch files
//!   to a run list;
//! - edges: [`output`] (tables), [`batch`] (replicates, comparisons, batch runs, merge,
//!   summaries), [`plot`] (charts), [`report`] (HTML report), [`cli`] (commands).

pub mod agents;
pub mod batch;
pub mod cli;
pub mod config;
pub mod engine;
pub mod experiment;
pub mod ledger;
pub mod metrics;
pub mod output;
pub mod plot;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod survival;
pub mod time;
pub mod world;
