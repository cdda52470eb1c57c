//! Double-entry money accounts: every yuan that moves in the model moves between two of them.
//!
//! Amounts are real-scale yuan (simulated household amounts times the region's weight).
//! Accounts are *internal* (the agents' own money: households' savings, firms, western
//! governments' funds, treasuries, social pools, reserve funds) or *external* (the parts of
//! the world the model does not simulate, where money comes from or goes to: the rest of the
//! economy, the central government, eastern public budgets, donors and investors, and the
//! sinks for services, medical care, depreciation, leakage and failed projects). Only
//! external accounts may create or absorb money: an internal balance never ends a tick below
//! zero (a treasury short of money borrows from the centre, a documented flow), so money
//! cannot appear from nowhere inside the model. The sum of all balances is zero by
//! construction; the conservation tests check both rules, and that the stocks the model keeps
//! elsewhere (households' savings, firm capital, funds) equal the ledger balances.

/// Kinds of account. Regional kinds are instantiated once per region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Account {
    /// An eastern government's aid budget (fiscal aid, procurement, placement services).
    EastGov(usize),
    /// Funds a western government has received and not yet allocated or spent.
    WestGov(usize),
    /// A region's own treasury (pays firm incentives and covers reserve deficits).
    Treasury(usize),
    /// Households of a region: their savings (income in, consumption and medical costs out).
    Households(usize),
    /// Social organisations of an eastern region (donations).
    Social(usize),
    /// Social help pool in a western region (cash help and health services).
    SocialPool(usize),
    /// Anti-return-to-poverty reserve fund of a western region.
    Reserve(usize),
    /// Firms located in a region (their capital and cash).
    Firms(usize),
    /// Owners of eastern firms, by eastern region (investment out, profits back).
    EastOwners(usize),
    /// The rest of the economy as seen from a region (external): buyers of its farm produce
    /// and firms' output outside the modelled channels, sellers of what its households
    /// consume, employers of its own migrants (for an eastern region: of the migrants it
    /// hosts), and the source of the households' initial wealth.
    Economy(usize),
    /// The central government (external): lends to treasuries that would otherwise end a
    /// tick overdrawn.
    Centre,
    /// Diverted and misused aid.
    Leakage,
    /// Funds sunk in failed projects.
    FailedProjects,
    /// Training, infrastructure and other services bought by governments.
    Services,
    /// Capital used up by firms.
    Depreciation,
    /// Medical care paid by households and health services.
    Medical,
    /// Insurers of the anti-return-to-poverty insurance (external): premiums in, claims
    /// out; their underwriting result is their business, not the model's.
    Insurer,
}

const REGIONAL: usize = 10;
const GLOBAL: usize = 7;

impl Account {
    /// Whether the account stands for a part of the world outside the model (a documented
    /// source or sink of money) rather than for agents' own money.
    pub fn is_external(self) -> bool {
        matches!(
            self,
            Account::EastGov(_)
                | Account::Social(_)
                | Account::EastOwners(_)
                | Account::Economy(_)
                | Account::Centre
                | Account::Leakage
                | Account::FailedProjects
                | Account::Services
                | Account::Depreciation
                | Account::Medical
                | Account::Insurer
        )
    }

    /// Name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Account::EastGov(_) => "east_gov",
            Account::WestGov(_) => "west_gov",
            Account::Treasury(_) => "treasury",
            Account::Households(_) => "households",
            Account::Social(_) => "social",
            Account::SocialPool(_) => "social_pool",
            Account::Reserve(_) => "reserve",
            Account::Firms(_) => "firms",
            Account::EastOwners(_) => "east_owners",
            Account::Economy(_) => "economy",
            Account::Centre => "centre",
            Account::Leakage => "leakage",
            Account::FailedProjects => "failed_projects",
            Account::Services => "services",
            Account::Depreciation => "depreciation",
            Account::Medical => "medical",
            Account::Insurer => "insurer",
        }
    }

    /// The region of a regional account.
    pub fn region(self) -> Option<usize> {
        match self {
            Account::EastGov(i)
            | Account::WestGov(i)
            | Account::Treasury(i)
            | Account::Households(i)
            | Account::Social(i)
            | Account::SocialPool(i)
            | Account::Reserve(i)
            | Account::Firms(i)
            | Account::EastOwners(i)
            | Account::Economy(i) => Some(i),
            _ => None,
        }
    }
}

/// The accounts of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Ledger {
    regions: usize,
    bal: Vec<f64>,
}

impl Ledger {
    /// Accounts for `regions` regions, all at zero.
    pub fn new(regions: usize) -> Ledger {
        Ledger {
            regions,
            bal: vec![0.0; regions * REGIONAL + GLOBAL],
        }
    }

    fn idx(&self, a: Account) -> usize {
        let r = self.regions;
        match a {
            Account::EastGov(i) => i,
            Account::WestGov(i) => r + i,
            Account::Treasury(i) => 2 * r + i,
            Account::Households(i) => 3 * r + i,
            Account::Social(i) => 4 * r + i,
            Account::SocialPool(i) => 5 * r + i,
            Account::Reserve(i) => 6 * r + i,
            Account::Firms(i) => 7 * r + i,
            Account::EastOwners(i) => 8 * r + i,
            Account::Economy(i) => 9 * r + i,
            Account::Leakage => REGIONAL * r,
            Account::FailedProjects => REGIONAL * r + 1,
            Account::Services => REGIONAL * r + 2,
            Account::Depreciation => REGIONAL * r + 3,
            Account::Medical => REGIONAL * r + 4,
            Account::Centre => REGIONAL * r + 5,
            Account::Insurer => REGIONAL * r + 6,
        }
    }

    /// Moves `amount` yuan from one account to another (a negative amount moves it back).
    #[inline]
    pub fn transfer(&mut self, from: Account, to: Account, amount: f64) {
        let (f, t) = (self.idx(from), self.idx(to));
        self.bal[f] -= amount;
        self.bal[t] += amount;
    }

    /// Balance of an account.
    pub fn balance(&self, a: Account) -> f64 {
        self.bal[self.idx(a)]
    }

    /// Sum of all balances (zero up to rounding).
    pub fn total(&self) -> f64 {
        self.bal.iter().sum()
    }

    /// Every account of the ledger, regional ones region by region in kind order, then the
    /// global ones.
    pub fn accounts(&self) -> impl Iterator<Item = Account> + '_ {
        let kinds: [fn(usize) -> Account; REGIONAL] = [
            Account::EastGov,
            Account::WestGov,
            Account::Treasury,
            Account::Households,
            Account::Social,
            Account::SocialPool,
            Account::Reserve,
            Account::Firms,
            Account::EastOwners,
            Account::Economy,
        ];
        (0..self.regions)
            .flat_map(move |r| kinds.into_iter().map(move |k| k(r)))
            .chain([
                Account::Centre,
                Account::Leakage,
                Account::FailedProjects,
                Account::Services,
                Account::Depreciation,
                Account::Medical,
                Account::Insurer,
            ])
    }

    /// Sum of absolute balances (the scale against which rounding is judged).
    pub fn scale(&self) -> f64 {
        self.bal.iter().map(|b| b.abs()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_balance() {
        let mut l = Ledger::new(3);
        l.transfer(Account::EastGov(0), Account::WestGov(2), 100.0);
        l.transfer(Account::WestGov(2), Account::Leakage, 10.0);
        assert_eq!(l.balance(Account::WestGov(2)), 90.0);
        assert_eq!(l.balance(Account::EastGov(0)), -100.0);
        assert_eq!(l.balance(Account::Leakage), 10.0);
        assert_eq!(l.total(), 0.0);
    }

    #[test]
    fn accounts_do_not_alias() {
        let l = Ledger::new(4);
        let all = [
            Account::EastGov(3),
            Account::WestGov(3),
            Account::Treasury(3),
            Account::Households(3),
            Account::Social(3),
            Account::SocialPool(3),
            Account::Reserve(3),
            Account::Firms(3),
            Account::EastOwners(3),
            Account::Economy(3),
            Account::Centre,
            Account::Leakage,
            Account::FailedProjects,
            Account::Services,
            Account::Depreciation,
            Account::Medical,
            Account::Insurer,
        ];
        let mut idx: Vec<usize> = all.iter().map(|a| l.idx(*a)).collect();
        idx.sort();
        idx.dedup();
        assert_eq!(idx.len(), all.len());
        // `accounts` lists each index once.
        let mut every: Vec<usize> = l.accounts().map(|a| l.idx(a)).collect();
        assert_eq!(every.len(), 4 * REGIONAL + GLOBAL);
        every.sort();
        every.dedup();
        assert_eq!(every.len(), 4 * REGIONAL + GLOBAL);
    }
}
