//! Presentation of finished outputs: reading run, comparison and batch directories back
//! ([`data`]), words and file names for charts ([`names`]), the embedded font ([`font`]),
//! drawing charts ([`chart`]), the self-contained HTML report ([`report`]) and the charts of
//! a sensitivity analysis ([`sensitivity`]).

pub mod chart;
pub mod claims;
pub mod data;
pub mod font;
pub mod names;
pub mod report;
pub mod sensitivity;
