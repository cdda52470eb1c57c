//! Experiments on the model: batch files and their sweeps ([`experiment`]), single runs and
//! replicates ([`replicate`]), the batch runner with its resume, shards, merge and
//! summaries ([`runner`]), the sensitivity analysis of a merged batch ([`sensitivity`]), and
//! the calibration of a scenario to official figures ([`calibrate`]).

pub mod calibrate;
pub mod claims;
pub mod experiment;
pub mod keep;
pub mod replicate;
pub mod runner;
pub mod sensitivity;
