//! Presentation of finished outputs: reading run, comparison and batch directories back
//! ([`data`]), words and file names for charts ([`names`]), the embedded font ([`font`]),
//! drawing charts ([`chart`]) and the self-contained HTML report ([`report`]).

pub mod chart;
pub mod data;
pub mod font;
pub mod names;
pub mod report;
