//! Experiments on the model: batch files and their sweeps ([`experiment`]), single runs and
//! replicates ([`replicate`]), and the batch runner with its resume, shards, merge and
//! summaries ([`runner`]).

pub mod experiment;
pub mod keep;
pub mod replicate;
pub mod runner;
