//! Flows along pairing links: the four kinds (capital, labour, talent, products), their
//! direction and the named channels the engine records per link and tick.

/// Flow kinds along a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flow {
    /// Money.
    Capital,
    /// Workers.
    Labour,
    /// Person-months of cadres and technicians.
    Talent,
    /// Value of goods.
    Products,
}

impl Flow {
    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Capital => "capital",
            Flow::Labour => "labour",
            Flow::Talent => "talent",
            Flow::Products => "products",
        }
    }

    /// Unit in outputs.
    pub fn unit(self) -> &'static str {
        match self {
            Flow::Capital | Flow::Products => "yuan",
            Flow::Labour => "workers",
            Flow::Talent => "person_months",
        }
    }
}

/// Direction of a flow along a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// East to west.
    EastToWest,
    /// West to east.
    WestToEast,
}

impl Direction {
    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::EastToWest => "east_to_west",
            Direction::WestToEast => "west_to_east",
        }
    }
}

/// One recorded flow channel (each has a fixed flow kind and direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// Fiscal aid, government to government.
    FiscalAid,
    /// Social donations.
    Donations,
    /// Eastern firm investment.
    Investment,
    /// Profits repatriated by eastern firms.
    Profits,
    /// Capital withdrawn by exiting eastern firms.
    Disinvestment,
    /// Western workers placed east through labour cooperation (new placements).
    Placements,
    /// Western workers migrated on their own (new, attributed to links by share).
    Migration,
    /// Migrants returning home.
    Returns,
    /// Stock of western migrants in the east.
    MigrantStock,
    /// Remittances migrants in the east send home (money moves east → west).
    Remittances,
    /// Cadres and technicians sent east → west.
    TalentToWest,
    /// Western cadres seconded west → east.
    TalentToEast,
    /// Consumption-aid procurement by eastern buyers.
    Procurement,
    /// Farm produce sold in eastern markets through market channels.
    MarketSales,
    /// Output of western firms sold in eastern markets.
    FirmSales,
}

impl Channel {
    /// Every channel, in output order.
    pub const ALL: [Channel; 15] = [
        Channel::FiscalAid,
        Channel::Donations,
        Channel::Investment,
        Channel::Profits,
        Channel::Disinvestment,
        Channel::Placements,
        Channel::Migration,
        Channel::Returns,
        Channel::MigrantStock,
        Channel::Remittances,
        Channel::TalentToWest,
        Channel::TalentToEast,
        Channel::Procurement,
        Channel::MarketSales,
        Channel::FirmSales,
    ];

    /// Flow kind and direction of the channel.
    pub fn kind(self) -> (Flow, Direction) {
        use Direction::*;
        match self {
            Channel::FiscalAid
            | Channel::Donations
            | Channel::Investment
            | Channel::Remittances => (Flow::Capital, EastToWest),
            Channel::Profits | Channel::Disinvestment => (Flow::Capital, WestToEast),
            Channel::Placements | Channel::Migration | Channel::MigrantStock => {
                (Flow::Labour, WestToEast)
            }
            Channel::Returns => (Flow::Labour, EastToWest),
            Channel::TalentToWest => (Flow::Talent, EastToWest),
            Channel::TalentToEast => (Flow::Talent, WestToEast),
            Channel::Procurement | Channel::MarketSales | Channel::FirmSales => {
                (Flow::Products, WestToEast)
            }
        }
    }

    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::FiscalAid => "fiscal_aid",
            Channel::Donations => "donations",
            Channel::Investment => "investment",
            Channel::Profits => "profits",
            Channel::Disinvestment => "disinvestment",
            Channel::Placements => "placements",
            Channel::Migration => "migration",
            Channel::Returns => "returns",
            Channel::MigrantStock => "migrant_stock",
            Channel::Remittances => "remittances",
            Channel::TalentToWest => "talent_to_west",
            Channel::TalentToEast => "talent_to_east",
            Channel::Procurement => "procurement",
            Channel::MarketSales => "market_sales",
            Channel::FirmSales => "firm_sales",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_flows_point_the_way_money_moves() {
        assert_eq!(
            Channel::Remittances.kind(),
            (Flow::Capital, Direction::EastToWest)
        );
        assert_eq!(
            Channel::Profits.kind(),
            (Flow::Capital, Direction::WestToEast)
        );
        assert_eq!(
            Channel::FiscalAid.kind(),
            (Flow::Capital, Direction::EastToWest)
        );
    }
}
