//! Governments: eastern delivery of aid along links, western allocation of what arrives,
//! and the centre's annual assessment of each pair.
//!
//! Sources: pairing and inputs (001_82bc27cfea89b29a.txt); fund allocation, leakage and the
//! missing legal basis for horizontal transfers (002_22c6ac024ef827cc.txt); assessment with
//! accountability (001, 000_5b91215dcf67bf5e.txt); welfare posts vs training
//! (001, 002); risk reserve fund (003_01d5afcbef5ce2ae.txt).

use rand::Rng;

use crate::model::config::{CentreParams, Config, PhaseScales, ProtectiveUse, Side};
use crate::model::firms::{FirmChange, FirmKind, MAX_FIRMS_PER_REGION, MAX_NEW_FIRMS_PER_TICK};
use crate::model::flows::Channel;
use crate::model::ledger::Account;
use crate::model::rng::{Purpose, Streams};
use crate::model::time::Tick;
use crate::model::world::{RegionState, World};

/// Eastern governments (and their societies) deliver this tick's inputs along every active
/// link: fiscal aid, procurement budgets, labour demand, training places and talent.
pub fn east_deliver(world: &mut World, cfg: &Config, scales: &PhaseScales, t: Tick) {
    let tpy = cfg.calendar.ticks_per_year() as f64;
    let pol = &cfg.policy;
    for rs in world.regions.iter_mut() {
        rs.coop_labour_demand = 0.0;
        rs.procurement_budget = 0.0;
        rs.east_training_places = 0.0;
        rs.market_reach = 0.0;
        rs.partners = 0;
    }
    for link in cfg.links.iter().filter(|l| l.active(t)) {
        world.regions[link.east].partners += 1;
        world.regions[link.west].partners += 1;
    }
    let keep = (1.0 - pol.knowledge_decay).powf(1.0 / tpy);
    for (li, link) in cfg.links.iter().enumerate() {
        let ls = &mut world.links[li];
        ls.fiscal_aid = 0.0;
        if !link.active(t) {
            ls.labour_share = 0.0;
            ls.market_share = 0.0;
            ls.procurement_share = 0.0;
            continue;
        }
        let c = &link.channels;
        let d = ls.delivery;
        let w = link.west;
        // Knowledge of the partner's needs: joint research (its eastern government's effort
        // shared among its partners) closes part of the gap; it decays (ODD §7.3.2).
        if pol.joint_research {
            let n = world.regions[link.east].partners.max(1) as f64;
            let gain = 1.0 - (1.0 - pol.research_learning / n).powf(1.0 / tpy);
            ls.knowledge += gain * (1.0 - ls.knowledge);
        }
        ls.knowledge *= keep;
        // The link's fixed coordination cost comes out of its delivered aid.
        let committed = c.fiscal_aid * scales.fiscal_aid * d / tpy;
        let overhead = (cfg.costs.coordination / tpy).min(committed);
        world
            .ledger
            .transfer(Account::EastGov(link.east), Account::Services, overhead);
        let aid = committed - overhead;
        ls.fiscal_aid = aid;
        world
            .ledger
            .transfer(Account::EastGov(link.east), Account::WestGov(w), aid);
        world.flows.add(li, Channel::FiscalAid, aid);
        let rs = &mut world.regions[w];
        let labour = c.labour_demand * scales.labour * d;
        rs.coop_labour_demand += labour;
        ls.labour_share = labour;
        let proc = c.procurement * scales.procurement * d / tpy;
        rs.procurement_budget += proc;
        ls.procurement_share = proc;
        rs.east_training_places += c.training_places * scales.training * d / tpy;
        let reach = c.market_access * scales.market;
        rs.market_reach += reach;
        ls.market_share = reach;
        let to_west = c.talent_to_west * scales.talent / tpy;
        let to_east = c.talent_to_east * scales.talent / tpy;
        rs.talent_stock += to_west;
        let per_1000 = to_east / (rs.real_households / 1000.0).max(1e-9);
        rs.credibility = (rs.credibility + cfg.market.secondment_learning * per_1000).min(1.0);
        world.flows.add(li, Channel::TalentToWest, to_west);
        world.flows.add(li, Channel::TalentToEast, to_east);
        // Salaries, allowances and hosting of the exchange, paid by the east (ODD §7.7).
        world.ledger.transfer(
            Account::EastGov(link.east),
            Account::Services,
            (to_west + to_east) * cfg.costs.talent,
        );
    }
    // Normalise link shares within each western region (the region totals are the sums of
    // the links' contributions accumulated above).
    for (li, link) in cfg.links.iter().enumerate() {
        let rs = &world.regions[link.west];
        let ls = &mut world.links[li];
        ls.labour_share = share(ls.labour_share, rs.coop_labour_demand);
        ls.market_share = share(ls.market_share, rs.market_reach);
        ls.procurement_share = share(ls.procurement_share, rs.procurement_budget);
    }
    // Joint research is paid by each eastern government with partners; each western
    // region's knowledge is the aid-weighted mean of its active links' (kept from the last
    // tick with aid when none arrives).
    for ri in 0..world.regions.len() {
        let rs = &world.regions[ri];
        if pol.joint_research && rs.partners > 0 && cfg.regions[ri].side == Side::East {
            world.ledger.transfer(
                Account::EastGov(ri),
                Account::Services,
                cfg.costs.joint_research / tpy,
            );
        }
        let (mut sum, mut weight) = (0.0, 0.0);
        for (l, ls) in cfg.links.iter().zip(&world.links) {
            if l.west == ri && ls.fiscal_aid > 0.0 {
                sum += ls.fiscal_aid * ls.knowledge;
                weight += ls.fiscal_aid;
            }
        }
        if weight > 0.0 {
            world.regions[ri].knowledge = sum / weight;
        }
    }
    for (ri, rs) in world.regions.iter_mut().enumerate() {
        let digital = cfg.regions[ri].digital_access;
        rs.market_reach = rs.market_reach.min(1.0) * (0.5 + 0.5 * digital);
        rs.talent_stock *= (1.0 - cfg.market.talent_decay).powf(1.0 / tpy);
        let half = cfg.market.talent_half * rs.real_households / 1000.0;
        rs.talent_index = rs.talent_stock / (rs.talent_stock + half.max(1e-9));
    }
}

fn share(x: f64, total: f64) -> f64 {
    if total > 0.0 {
        x / total
    } else {
        0.0
    }
}

/// Western governments allocate what they received (this tick plus a twelfth of any carried
/// balance per month) across transfers, welfare posts, collective industry, training,
/// infrastructure and the reserve fund, after leakage.
pub fn west_allocate(world: &mut World, cfg: &Config, streams: &Streams, t: Tick) {
    let tpy = cfg.calendar.ticks_per_year() as f64;
    let pol = &cfg.policy;
    let base = pol.allocation.shares();
    for ri in 0..world.regions.len() {
        let [s_tr, s_post, s_ind, s_train, s_infra, s_res] = shifted(
            base,
            world.regions[ri].protective_shift,
            cfg.centre.protective_use,
        );
        let received: f64 = world
            .links
            .iter()
            .zip(cfg.links.iter())
            .filter(|(_, l)| l.west == ri)
            .map(|(s, _)| s.fiscal_aid)
            .sum();
        let balance = world.ledger.balance(Account::WestGov(ri));
        // Spend this tick's receipts plus 1/tpy of what was carried from earlier ticks.
        let carried = (balance - received).max(0.0);
        let available = (received + carried / tpy).min(balance.max(0.0));
        // Supervision and leakage hit new receipts once; carried funds have already been
        // through them. Supervision is paid first and lowers the leakage rate (ODD §7.3.4).
        let fresh = available.min(received);
        let supervision = fresh * pol.supervision;
        world
            .ledger
            .transfer(Account::WestGov(ri), Account::Services, supervision);
        let leak = fresh * pol.leakage_rate();
        world
            .ledger
            .transfer(Account::WestGov(ri), Account::Leakage, leak);
        let net = available - supervision - leak;
        let rs = &mut world.regions[ri];
        rs.transfer_budget = net * s_tr;
        rs.post_capacity = net * s_post / (pol.welfare_post_wage / tpy);
        rs.west_training_places = net * s_train / pol.training_cost;
        // Infrastructure: spending raises the index; the index depreciates.
        let infra = net * s_infra;
        world
            .ledger
            .transfer(Account::WestGov(ri), Account::Services, infra);
        let per_point = pol.infrastructure_cost * rs.real_households / 1000.0;
        let base = cfg.regions[ri].infrastructure;
        rs.infrastructure = (base
            + (rs.infrastructure - base) * (1.0 - cfg.market.infra_decay).powf(1.0 / tpy)
            + 0.01 * infra / per_point.max(1e-9))
        .min(1.0);
        // Reserve fund.
        let reserve = net * s_res;
        world
            .ledger
            .transfer(Account::WestGov(ri), Account::Reserve(ri), reserve);
        // Collective industry: funds accumulate until a project can be launched.
        let industry = net * s_ind;
        world
            .ledger
            .transfer(Account::WestGov(ri), Account::Firms(ri), industry);
        rs.project_pipeline += industry;
        if rs.project_pipeline >= pol.project_size {
            let mut rng = streams.stream(Purpose::Projects, ri as u64, t as u64);
            // At most MAX_NEW_FIRMS_PER_TICK launches a tick and MAX_FIRMS_PER_REGION firms;
            // funds beyond stay in the pipeline for later ticks.
            while rs.project_pipeline >= pol.project_size
                && rs.queued_entries < MAX_NEW_FIRMS_PER_TICK
                && rs.firm_count + rs.queued_entries < MAX_FIRMS_PER_REGION
            {
                rs.queued_entries += 1;
                rs.project_pipeline -= pol.project_size;
                if rng.random::<f64>() < pol.project_failure {
                    world.ledger.transfer(
                        Account::Firms(ri),
                        Account::FailedProjects,
                        pol.project_size,
                    );
                } else {
                    // Project–need matching (000): a project chosen with little knowledge
                    // of local needs may fit badly and produce less (ODD §7.3.4).
                    let productivity = if pol.project_mismatch > 0.0 {
                        let u: f64 = rng.random();
                        1.0 - pol.project_mismatch * (1.0 - rs.knowledge) * u
                    } else {
                        1.0
                    };
                    world.pending.push(FirmChange::Enter {
                        region: ri as u16,
                        link: u32::MAX,
                        kind: FirmKind::Cooperative,
                        capital: pol.project_size * (1.0 - pol.guarantee_pool),
                        pool: pol.project_size * pol.guarantee_pool,
                        expected_return: cfg.firms.hurdle_return,
                        productivity,
                    });
                }
            }
        }
    }
}

/// The allocation shares after a western government moves the share `shift` of its
/// industry and infrastructure funds to its protective use (ODD §7.3.4).
fn shifted(shares: [f64; 6], shift: f64, to: ProtectiveUse) -> [f64; 6] {
    let [tr, post, ind, train, infra, res] = shares;
    if shift <= 0.0 {
        return shares;
    }
    let moved = shift * (ind + infra);
    let (to_tr, to_res) = match to {
        ProtectiveUse::Reserve => (0.0, moved),
        ProtectiveUse::Transfers => (moved, 0.0),
        ProtectiveUse::Both if tr + res > 0.0 => {
            (moved * tr / (tr + res), moved * res / (tr + res))
        }
        ProtectiveUse::Both => (moved, 0.0),
    };
    [
        tr + to_tr,
        post,
        ind * (1.0 - shift),
        train,
        infra * (1.0 - shift),
        res + to_res,
    ]
}

/// Social organisations of each eastern region donate to their western partners: a share
/// for health services, the rest as cash help to households at risk (002, 000).
pub fn social_donate(world: &mut World, cfg: &Config, scales: &PhaseScales, t: Tick) {
    let tpy = cfg.calendar.ticks_per_year() as f64;
    // This tick's cash budget: its cash donations plus 1/tpy of the cash carried from
    // earlier ticks (unspent help comes back, ODD §9.6); health donations join the health fund.
    for rs in world.regions.iter_mut() {
        rs.social_cash_budget = rs.social_cash_fund / tpy;
    }
    for (li, link) in cfg.links.iter().enumerate() {
        if !link.active(t) {
            continue;
        }
        // Platforms keep the share `platform` of declared giving outside aid phases.
        let s = scales.social + cfg.social.platform * (1.0 - scales.social);
        let amount = link.channels.social_donations * s * cfg.social.mobilisation / tpy;
        world.ledger.transfer(
            Account::Social(link.east),
            Account::SocialPool(link.west),
            amount,
        );
        world.flows.add(li, Channel::Donations, amount);
        let rs = &mut world.regions[link.west];
        let cash = amount * (1.0 - cfg.social.health_share);
        rs.health_fund += amount - cash;
        rs.social_cash_fund += cash;
        rs.social_cash_budget += cash;
    }
}

/// Year end: the centre scores each active pair on its indicators (reported delivery of
/// inputs and, with `outcome_weight`, registered relapses in the western partner) and holds
/// it to account, closing part of the score's gap; without assessment delivery drifts back.
/// Third-party evaluation (paid by the centre) detects part of the inflated reports; the
/// western governments' outcome scores set next year's shift of their allocation toward
/// transfers and the reserve (ODD §7.3.5).
pub fn centre_assess(world: &mut World, cfg: &Config, t: Tick) {
    let c = &cfg.centre;
    let gamed = c.undetected_gaming();
    let mut evaluated = 0.0;
    for (li, link) in cfg.links.iter().enumerate() {
        if !link.active(t) {
            continue;
        }
        let outcome = outcome_score(&world.regions[link.west], c);
        let ls = &mut world.links[li];
        if c.assessment {
            let reported = ls.delivery + gamed * (1.0 - ls.delivery);
            let score = (1.0 - c.outcome_weight) * reported + c.outcome_weight * outcome;
            ls.delivery += c.accountability * (1.0 - score);
            evaluated += 1.0;
        } else {
            ls.delivery += c.drift * (c.initial_delivery - ls.delivery);
        }
        ls.delivery = ls.delivery.clamp(0.0, 1.0);
    }
    world.ledger.transfer(
        Account::Centre,
        Account::Services,
        evaluated * c.third_party * cfg.costs.evaluation,
    );
    for rs in world.regions.iter_mut() {
        rs.protective_shift = if c.assessment {
            c.reallocation * c.outcome_weight * (1.0 - outcome_score(rs, c))
        } else {
            0.0
        };
        rs.relapses_year = 0.0;
    }
}

/// The outcome indicator's score of a region: 1 without registered relapses since the
/// last assessment, falling linearly to 0 at `relapse_tolerance` per household.
fn outcome_score(rs: &RegionState, c: &CentreParams) -> f64 {
    let per_household = rs.relapses_year / rs.real_households.max(1e-9);
    (1.0 - per_household / c.relapse_tolerance).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::shifted;
    use crate::model::config::ProtectiveUse;

    #[test]
    fn a_shift_moves_industry_and_infrastructure_to_transfers_and_reserve() {
        let base = [0.2, 0.1, 0.4, 0.1, 0.1, 0.1];
        assert_eq!(shifted(base, 0.0, ProtectiveUse::Both), base);
        let s = shifted(base, 0.5, ProtectiveUse::Both);
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((s[2] - 0.2).abs() < 1e-12 && (s[4] - 0.05).abs() < 1e-12);
        // 0.25 moved, two thirds to transfers (0.2 of 0.3) and a third to the reserve.
        assert!((s[0] - (0.2 + 0.25 * 2.0 / 3.0)).abs() < 1e-12);
        assert!((s[5] - (0.1 + 0.25 / 3.0)).abs() < 1e-12);
        let none = shifted([0.0, 0.5, 0.5, 0.0, 0.0, 0.0], 1.0, ProtectiveUse::Both);
        assert_eq!(none, [0.5, 0.5, 0.0, 0.0, 0.0, 0.0]);
        let r = shifted(base, 0.5, ProtectiveUse::Reserve);
        assert_eq!(r[0], 0.2);
        assert!((r[5] - 0.35).abs() < 1e-12);
        let t = shifted(base, 0.5, ProtectiveUse::Transfers);
        assert!((t[0] - 0.45).abs() < 1e-12 && t[5] == 0.1);
    }
}
