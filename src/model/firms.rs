//! The firm population as columns (struct of arrays) and the structural changes queued
//! against it. State only: the firm rules that change it are in
//! [`crate::model::agents::firm`]; [`crate::model::world::World`] owns the population.

/// Most firms (eastern plants, cooperatives and the local sector) one region can hold: entries
/// beyond it are not made (a cooperative's funds stay in the project pipeline, an eastern
/// candidate does not enter). Keeps memory bounded whatever the scenario's amounts (ODD §7.6.5).
pub const MAX_FIRMS_PER_REGION: u32 = 100_000;

/// Most firm entries one region can queue in one tick (cooperative launches, failed ones
/// included, and eastern entries), so that one tick's work is bounded.
pub const MAX_NEW_FIRMS_PER_TICK: u32 = 1_000;

/// What kind of firm a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirmKind {
    /// An eastern enterprise's plant in a western region ("east enterprise + west resources").
    East,
    /// The region's pre-existing local firm sector (one aggregate record per region).
    Local,
    /// A village cooperative built from collective industry funds.
    Cooperative,
}

/// The firm population as columns (struct of arrays).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Firms {
    /// Host region.
    pub region: Vec<u16>,
    /// Link through which an eastern firm came (`u32::MAX` for local firms and cooperatives).
    pub link: Vec<u32>,
    /// Kind.
    pub kind: Vec<FirmKind>,
    /// Capital, real yuan.
    pub capital: Vec<f64>,
    /// Capital at entry.
    pub initial_capital: Vec<f64>,
    /// Exponentially weighted annualised return on capital.
    pub avg_return: Vec<f64>,
    /// Consecutive ticks with `avg_return` below the firm's exit threshold.
    pub low_ticks: Vec<u32>,
    /// A cooperative's guarantee pool: project money set aside to pay the guaranteed return
    /// when profit falls short (not invested: it employs no one). 0 for other kinds.
    pub pool: Vec<f64>,
    /// Plant productivity ψ: multiplies an eastern plant's value added (mean 1 across
    /// plants; 1 for local firms and cooperatives; ODD §7.6.7).
    pub productivity: Vec<f64>,
}

/// A structural change to apply at the tick boundary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FirmChange {
    /// A new firm.
    Enter {
        /// Host region.
        region: u16,
        /// Link (eastern firms) or `u32::MAX`.
        link: u32,
        /// Kind.
        kind: FirmKind,
        /// Capital.
        capital: f64,
        /// Guarantee pool (cooperatives; 0 otherwise).
        pool: f64,
        /// Expected return at entry (seeds `avg_return`).
        expected_return: f64,
        /// Productivity ψ (1 except for eastern plants).
        productivity: f64,
    },
    /// Firm at this index leaves.
    Exit(usize),
}

impl Firms {
    /// Number of firms.
    pub fn len(&self) -> usize {
        self.region.len()
    }

    /// Whether there are no firms.
    pub fn is_empty(&self) -> bool {
        self.region.is_empty()
    }

    /// Appends a firm with `capital` invested and `pool` set aside; its initial capital is
    /// the sum (what the guaranteed return is owed on). Productivity starts at 1 (see
    /// [`Firms::productivity`]).
    pub fn push(
        &mut self,
        region: u16,
        link: u32,
        kind: FirmKind,
        capital: f64,
        pool: f64,
        expected_return: f64,
    ) {
        self.productivity.push(1.0);
        self.region.push(region);
        self.link.push(link);
        self.kind.push(kind);
        self.capital.push(capital);
        self.initial_capital.push(capital + pool);
        self.avg_return.push(expected_return);
        self.low_ticks.push(0);
        self.pool.push(pool);
    }

    /// Removes the firms whose indices are in `exits` (sorted, unique), keeping order.
    pub fn remove_sorted(&mut self, exits: &[usize]) {
        if exits.is_empty() {
            return;
        }
        let mut keep = vec![true; self.len()];
        for &i in exits {
            keep[i] = false;
        }
        macro_rules! retain_col {
            ($($c:ident),*) => {$(
                let mut it = keep.iter();
                self.$c.retain(|_| *it.next().expect("same length"));
            )*};
        }
        retain_col!(
            region,
            link,
            kind,
            capital,
            initial_capital,
            avg_return,
            low_ticks,
            pool,
            productivity
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_keeps_order() {
        let mut f = Firms::default();
        for i in 0..5 {
            f.push(i, 0, FirmKind::East, i as f64, 0.0, 0.0);
        }
        f.remove_sorted(&[1, 3]);
        assert_eq!(f.region, vec![0, 2, 4]);
        assert_eq!(f.capital, vec![0.0, 2.0, 4.0]);
    }
}
