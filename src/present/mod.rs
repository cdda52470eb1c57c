//! Presentation of finished outputs: reading run, comparison and batch directories back
//! ([`data`]), drawing charts ([`chart`]) and the self-contained HTML report ([`report`]).

pub mod chart;
pub mod data;
pub mod report;
