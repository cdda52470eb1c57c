//! The recorder that keeps every row of a run in memory (`TableRecorder`): metrics, flows,
//! link reports and the optional household panel, as columns ready to become tables.

use crate::model::agents::household::Household;
use crate::model::config::{Config, Side};
use crate::model::flows::Channel;
use crate::model::ledger::{Account, Ledger};
use crate::model::metrics::{Measures, Scope, SystemMeasures};
use crate::model::recorder::{LinkReport, MarketReport, Recorder};
use crate::model::time::Tick;

/// Collected metrics rows (one per tick and scope).
#[derive(Debug, Default, Clone)]
pub struct MetricsRows {
    /// Tick.
    pub tick: Vec<u32>,
    /// Scope label: region name, `EAST`, `WEST` or `ALL`.
    pub region: Vec<String>,
    /// Side label: `east`, `west` or `all`.
    pub side: Vec<&'static str>,
    /// Measures.
    pub m: Vec<Measures>,
    /// System measures (ALL rows only).
    pub sys: Vec<Option<SystemMeasures>>,
}

/// Collected flow rows.
#[derive(Debug, Default, Clone)]
pub struct FlowRows {
    /// Tick.
    pub tick: Vec<u32>,
    /// Link index.
    pub link: Vec<u32>,
    /// Channel.
    pub channel: Vec<Channel>,
    /// Real-scale amount.
    pub amount: Vec<f64>,
}

/// Collected link rows.
#[derive(Debug, Default, Clone)]
pub struct LinkRows {
    /// Tick.
    pub tick: Vec<u32>,
    /// Link index.
    pub link: Vec<u32>,
    /// Report.
    pub r: Vec<LinkReport>,
}

/// Collected market rows (one per tick and region).
#[derive(Debug, Default, Clone)]
pub struct MarketRows {
    /// Tick.
    pub tick: Vec<u32>,
    /// Region index.
    pub region: Vec<u16>,
    /// Report.
    pub r: Vec<MarketReport>,
}

/// Collected account balances (one row per tick and account).
#[derive(Debug, Default, Clone)]
pub struct AccountRows {
    /// Tick.
    pub tick: Vec<u32>,
    /// Account.
    pub account: Vec<Account>,
    /// Balance at the end of the tick (real yuan).
    pub balance: Vec<f64>,
}

/// Collected yearly household panel.
#[derive(Debug, Default, Clone)]
pub struct PanelRows {
    /// Tick of the year end.
    pub tick: Vec<u32>,
    /// Household index.
    pub household: Vec<u32>,
    /// Region index.
    pub region: Vec<u16>,
    /// Status code.
    pub status: Vec<u8>,
    /// Flags.
    pub flags: Vec<u8>,
    /// Trailing per-capita income.
    pub income: Vec<f32>,
    /// Last exit tick + 1 (0 = never).
    pub last_exit: Vec<u16>,
}

/// A recorder that keeps every row in memory for writing at the end of a run.
#[derive(Debug, Default, Clone)]
pub struct TableRecorder {
    /// Region names by index.
    pub region_names: Vec<String>,
    /// Region sides by index.
    pub sides: Vec<Side>,
    /// Metrics rows.
    pub metrics: MetricsRows,
    /// Flow rows.
    pub flows: FlowRows,
    /// Link rows.
    pub links: LinkRows,
    /// Account balances, every tick.
    pub accounts: AccountRows,
    /// Firm and product-market state by region, every tick.
    pub markets: MarketRows,
    /// Panel rows (only when `panel` is on).
    pub panel_rows: PanelRows,
    /// Whether to collect the household panel.
    pub panel: bool,
    /// When set to (ticks per year, ticks), the distribution measures are computed at year
    /// ends and the horizon's last tick only (the other ticks' rows hold NaN for them): for
    /// runs whose rows are reduced to yearly rows ([`TableRecorder::distribution_at_year_ends`]).
    pub distribution_every: Option<(u32, u32)>,
}

impl TableRecorder {
    /// A recorder for `cfg`, with rows pre-reserved for the whole horizon.
    pub fn new(cfg: &Config, panel: bool) -> TableRecorder {
        let ticks = cfg.calendar.ticks as usize;
        let scopes = cfg.regions.len() + 3;
        let mut r = TableRecorder {
            region_names: cfg.regions.iter().map(|r| r.name.clone()).collect(),
            sides: cfg.regions.iter().map(|r| r.side).collect(),
            panel,
            ..TableRecorder::default()
        };
        r.metrics.tick.reserve(ticks * scopes);
        r.metrics.m.reserve(ticks * scopes);
        r.flows
            .amount
            .reserve(ticks * cfg.links.len() * Channel::ALL.len());
        r
    }
}

impl TableRecorder {
    /// Asks the engine for the distribution measures (mean vulnerability, median income,
    /// Gini, Theil) at year ends only: a batch that keeps yearly rows drops the others, and
    /// the step skips their cost (Φ, the histogram) on the other ticks. The simulation and
    /// every other measure are unchanged.
    pub fn distribution_at_year_ends(mut self, cfg: &Config) -> TableRecorder {
        self.distribution_every = Some((cfg.calendar.ticks_per_year(), cfg.calendar.ticks));
        self
    }
}

impl Recorder for TableRecorder {
    fn wants_distribution(&self, t: Tick) -> bool {
        match self.distribution_every {
            Some((tpy, ticks)) => (t + 1) % tpy == 0 || t + 1 >= ticks,
            None => true,
        }
    }

    fn measures(&mut self, t: Tick, scope: Scope, m: &Measures, sys: Option<&SystemMeasures>) {
        let (name, side) = match scope {
            Scope::Region(i) => (self.region_names[i].clone(), self.sides[i].as_str()),
            Scope::Side(Side::East) => ("EAST".to_string(), "east"),
            Scope::Side(Side::West) => ("WEST".to_string(), "west"),
            Scope::All => ("ALL".to_string(), "all"),
        };
        self.metrics.tick.push(t);
        self.metrics.region.push(name);
        self.metrics.side.push(side);
        self.metrics.m.push(*m);
        self.metrics.sys.push(sys.copied());
    }

    fn flow(&mut self, t: Tick, link: usize, channel: Channel, amount: f64) {
        self.flows.tick.push(t);
        self.flows.link.push(link as u32);
        self.flows.channel.push(channel);
        self.flows.amount.push(amount);
    }

    fn link(&mut self, t: Tick, link: usize, r: &LinkReport) {
        self.links.tick.push(t);
        self.links.link.push(link as u32);
        self.links.r.push(*r);
    }

    fn market(&mut self, t: Tick, region: usize, r: &MarketReport) {
        self.markets.tick.push(t);
        self.markets.region.push(region as u16);
        self.markets.r.push(*r);
    }

    fn accounts(&mut self, t: Tick, ledger: &Ledger) {
        for a in ledger.accounts() {
            self.accounts.tick.push(t);
            self.accounts.account.push(a);
            self.accounts.balance.push(ledger.balance(a));
        }
    }

    fn wants_panel(&self) -> bool {
        self.panel
    }

    fn panel(&mut self, t: Tick, households: &[Household]) {
        let p = &mut self.panel_rows;
        for (i, h) in households.iter().enumerate() {
            p.tick.push(t);
            p.household.push(i as u32);
            p.region.push(h.region);
            p.status.push(h.status);
            p.flags.push(h.flags);
            p.income.push(h.trailing);
            p.last_exit.push(h.last_exit);
        }
    }
}
