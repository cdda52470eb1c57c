//! Double-entry money accounts: every yuan that moves in the model moves between two of them.
//!
//! Amounts are real-scale yuan (simulated household amounts times the region's weight).
//! Balances of *source* accounts (production, eastern treasuries) go negative as they pay
//! out; *sink* accounts (leakage, depreciation, medical care) accumulate. The sum of all
//! balances is zero by construction; the conservation tests check that the stocks the
//! model keeps elsewhere (government funds, firm capital, reserve funds) equal the ledger
//! balances of their accounts.

/// Kinds of account. Regional kinds are instantiated once per region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Account {
    /// An eastern government's aid budget (fiscal aid, procurement, placement services).
    EastGov(usize),
    /// Funds a western government has received and not yet allocated or spent.
    WestGov(usize),
    /// A region's own treasury (pays firm incentives and covers reserve deficits).
    Treasury(usize),
    /// Households of a region (their income).
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
    /// Output created in a region (farm output, firm value added, migrant wages earned there).
    Production(usize),
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
}

const REGIONAL: usize = 10;
const GLOBAL: usize = 5;

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
            Account::Production(i) => 9 * r + i,
            Account::Leakage => REGIONAL * r,
            Account::FailedProjects => REGIONAL * r + 1,
            Account::Services => REGIONAL * r + 2,
            Account::Depreciation => REGIONAL * r + 3,
            Account::Medical => REGIONAL * r + 4,
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
            Account::Production(3),
            Account::Leakage,
            Account::FailedProjects,
            Account::Services,
            Account::Depreciation,
            Account::Medical,
        ];
        let mut idx: Vec<usize> = all.iter().map(|a| l.idx(*a)).collect();
        idx.sort();
        idx.dedup();
        assert_eq!(idx.len(), all.len());
    }
}
