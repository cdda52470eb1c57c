//! The `Recorder` trait through which the engine reports measures, flows, link state and the
//! household panel; implemented outside the core (the output layer, tests, benchmarks).

use crate::model::agents::household::Household;
use crate::model::flows::Channel;
use crate::model::ledger::Ledger;
use crate::model::metrics::{Measures, Scope, SystemMeasures};
use crate::model::time::Tick;

/// Per-link state reported each tick alongside flows (eastern gains and assessment).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkReport {
    /// Share of committed inputs delivered.
    pub delivery: f64,
    /// Eastern firms from this link's east region operating in its west region.
    pub east_firms: f64,
    /// Capital of those firms (yuan).
    pub east_firm_capital: f64,
    /// Their mean annualised return on capital.
    pub east_firm_return: f64,
    /// Labour demand through cooperation filled by western migrants (share).
    pub labour_filled: f64,
}

/// Per-region firm and product-market state reported each tick (ODD §7.6.6).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MarketReport {
    /// Demand for the region's firm products at base prices, per tick (real yuan).
    pub demand: f64,
    /// Full-capacity value of the output sold in the regional market, per tick.
    pub supply: f64,
    /// Share of capacity used, `min(1, D/S)`.
    pub utilisation: f64,
    /// Price relative to base, `(D/S)^η`.
    pub price: f64,
    /// This (eastern) region's orders for the output of its firms' plants in the west, per
    /// tick at base prices.
    pub export_demand: f64,
    /// Full-capacity value of that output.
    pub export_supply: f64,
    /// Share of it sold.
    pub export_utilisation: f64,
    /// Its price relative to base.
    pub export_price: f64,
    /// Eastern plants in the region after the tick boundary.
    pub east_firms: f64,
    /// Cooperatives after the tick boundary.
    pub cooperatives: f64,
    /// Capital of eastern plants (yuan).
    pub east_capital: f64,
    /// Capital of cooperatives (yuan).
    pub coop_capital: f64,
    /// Capital of the local firm sector (yuan).
    pub local_capital: f64,
    /// Money left in the cooperatives' guarantee pools (yuan).
    pub guarantee_pools: f64,
    /// Eastern plants that entered at the tick boundary.
    pub east_entries: f64,
    /// Eastern plants that left.
    pub east_exits: f64,
    /// Cooperatives launched.
    pub coop_entries: f64,
    /// Cooperatives closed.
    pub coop_exits: f64,
    /// Guaranteed returns paid this tick (from profit or the pools).
    pub guarantee_paid: f64,
    /// Guaranteed returns owed and not paid this tick.
    pub guarantee_unpaid: f64,
    /// Local-sector capital withdrawn this tick (idle capacity not renewed).
    pub local_disinvestment: f64,
    /// Local-sector profit reinvested this tick beyond capital deepening (expansion).
    pub local_expansion: f64,
}

/// Where the engine reports what happened. Implemented outside the core (output layer,
/// tests); every method has a default that ignores the report.
pub trait Recorder {
    /// Measures of one scope at tick `t` (called for every region, each side and all).
    fn measures(&mut self, _t: Tick, _scope: Scope, _m: &Measures, _sys: Option<&SystemMeasures>) {}
    /// One flow along link `link` at tick `t` (real-scale amount).
    fn flow(&mut self, _t: Tick, _link: usize, _channel: Channel, _amount: f64) {}
    /// Link-level report at tick `t`.
    fn link(&mut self, _t: Tick, _link: usize, _r: &LinkReport) {}
    /// Firm and product-market state of region `region` at tick `t`.
    fn market(&mut self, _t: Tick, _region: usize, _r: &MarketReport) {}
    /// The accounts at the end of tick `t`, once per tick after every transfer.
    fn accounts(&mut self, _t: Tick, _ledger: &Ledger) {}
    /// Whether the measures of tick `t` must include the distribution measures (mean
    /// vulnerability, median income, Gini, Theil and its decomposition), asked once per
    /// tick before the household phase. When it answers `false` the household step skips
    /// the vulnerability probability Φ, the income histogram and Σ y ln y (nothing in the
    /// model reads them) and those fields are NaN in the measures of that tick; every other
    /// measure is unchanged, and so is the simulation. Defaults to `true`.
    fn wants_distribution(&self, _t: Tick) -> bool {
        true
    }
    /// Whether the recorder wants the yearly household panel (called once per year end).
    fn wants_panel(&self) -> bool {
        false
    }
    /// The household population at a year end (only if `wants_panel`).
    fn panel(&mut self, _t: Tick, _households: &[Household]) {}
}

/// A recorder that ignores everything (benchmarks).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullRecorder;

impl Recorder for NullRecorder {}
