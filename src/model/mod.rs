//! The simulation core: state, rules, schedule and measures. No I/O, and no knowledge of
//! polars, plotters, indicatif, clap, toml or files (checked by `tests/architecture.rs`).
//!
//! Inside out: [`time`] and [`config`] (the validated input), [`rng`] (streams keyed by
//! purpose), [`ledger`] (money), the state ([`agents::household::Household`] records,
//! [`firms`], [`world`]), the agents' rules ([`agents`]), the schedule ([`engine`]) and the
//! run API ([`run`]); what a tick produces is summed in [`accum`], turned into [`metrics`],
//! [`flows`] and link reports, and handed to a [`recorder::Recorder`].

pub mod accum;
pub mod agents;
pub mod config;
pub mod engine;
pub mod firms;
pub mod flows;
pub mod ledger;
pub mod metrics;
pub mod recorder;
pub mod rng;
pub mod run;
pub mod schema;
pub mod time;
pub mod world;
