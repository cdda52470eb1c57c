//! Household members' ages: the initial age structure, and ageing, death and replacement
//! births at each year's end (ODD §7.2 "Households", §7.4 part 8).
//!
//! Ages live in the members' record ([`Members`]) and advance once a year. A household's
//! `workers` are its members aged in `[working_age, farm_exit_age)` and its `elders` those at
//! or above `retirement_age` (they draw the pension): members between the retirement age
//! and the farm-exit age leave wage work but keep farming, as rural elders do (Pang, de
//! Brauw & Rozelle 2004, "Working until you drop"). The yearly pass keeps both counts equal
//! to what the ages say. Deaths follow Gompertz's law and each death is
//! replaced by a newborn in the same household, so household sizes, and the population,
//! are constant.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::model::agents::household::Household;
use crate::model::agents::members::{job, Members, MAX_MEMBERS};
use crate::model::config::DemographyParams;
/// Oldest age: a member who reaches it dies at the next year's end.
pub const MAX_AGE: u8 = 110;

/// Initial ages of one household's members; entries at and beyond its size are unused (0).
pub type Ages = [u8; MAX_MEMBERS];

/// The life table and the age thresholds, derived once from [`DemographyParams`].
#[derive(Debug, Clone, PartialEq)]
pub struct LifeTable {
    /// Probability of dying within the year at each completed age:
    /// `q(a) = 1 − exp(−(e^{β(a+1−M)} − e^{β(a−M)}))`, and 1 at [`MAX_AGE`].
    pub q: [f32; MAX_AGE as usize + 1],
    /// Cumulative distribution of an elder's initial age over `retirement_age..=MAX_AGE`,
    /// proportional to survival `S(a + ½)` (the stationary age density of a constant
    /// population): `elder_cdf[i]` is `P(age ≤ retirement_age + i)`.
    pub elder_cdf: Vec<f64>,
    /// Age at which a member becomes a worker.
    pub working_age: u8,
    /// Age at which a worker leaves wage work and draws the pension.
    pub retirement_age: u8,
    /// Age at which a member stops farming (at least the retirement age).
    pub farm_exit_age: u8,
}

impl LifeTable {
    /// The table of the parameters.
    pub fn new(p: &DemographyParams) -> LifeTable {
        let (m, b) = (p.modal_age, p.mortality_slope);
        let cum_hazard = |a: f64| (b * (a - m)).exp();
        let mut q = [1.0f32; MAX_AGE as usize + 1];
        for (a, qa) in q.iter_mut().enumerate().take(MAX_AGE as usize) {
            let a = a as f64;
            *qa = (1.0 - (-(cum_hazard(a + 1.0) - cum_hazard(a))).exp()) as f32;
        }
        let r = p.retirement_age.min(MAX_AGE);
        let mut elder_cdf = Vec::with_capacity((MAX_AGE - r) as usize + 1);
        let mut total = 0.0;
        for a in r..=MAX_AGE {
            // S(a + ½) / S(retirement_age), from the cumulative hazard e^{β(a−M)}.
            total += (cum_hazard(r as f64) - cum_hazard(a as f64 + 0.5)).exp();
            elder_cdf.push(total);
        }
        for c in elder_cdf.iter_mut() {
            *c /= total;
        }
        LifeTable {
            q,
            elder_cdf,
            working_age: p.working_age,
            retirement_age: r,
            farm_exit_age: p.farm_exit_age.clamp(r, MAX_AGE),
        }
    }

    /// An elder's initial age for a uniform draw `u`: the first age whose cumulative
    /// probability exceeds `u`.
    pub fn elder_age(&self, u: f64) -> u8 {
        let i = self.elder_cdf.partition_point(|&c| c <= u);
        (self.retirement_age as usize + i.min(self.elder_cdf.len() - 1)) as u8
    }
}

/// The probability that a member who is not a worker is an elder, such that elders are
/// `elder_share` of all persons on average: `elder_share · size / (size − workers)` with the
/// region's mean household size and workers, capped at 1 (and 1 when there are no children
/// because the working age is 0).
pub fn elder_probability(p: &DemographyParams, size: f64, workers: f64) -> f64 {
    if p.working_age == 0 {
        return 1.0;
    }
    let nonworkers = size - workers;
    if nonworkers <= 1e-9 {
        return 0.0;
    }
    (p.elder_share * size / nonworkers).clamp(0.0, 1.0)
}

/// Draws the initial ages of a household of `size` with `workers` members of working age
/// (ODD §7.2): those uniform over `working_age..retirement_age`, each other member an elder
/// with probability `p_elder` (age from [`LifeTable::elder_age`]) or else a child uniform
/// over `0..working_age`. Two draws per other member, one per working-age member, in member
/// order. Returns the ages and the number of elders; elders below the farm-exit age are
/// farm workers too (the caller adds them to `workers`, see [`farming_elders`]).
pub fn initial_ages(
    rng: &mut ChaCha8Rng,
    t: &LifeTable,
    size: u8,
    workers: u8,
    p_elder: f64,
) -> (Ages, u8) {
    let mut ages = [0u8; MAX_MEMBERS];
    let mut elders = 0;
    let span = (t.retirement_age - t.working_age) as f64;
    for (i, a) in ages.iter_mut().enumerate().take(size as usize) {
        if i < workers as usize {
            let u: f64 = rng.random();
            *a = t.working_age + ((u * span) as u8).min(t.retirement_age - t.working_age - 1);
        } else {
            let u: f64 = rng.random();
            let v: f64 = rng.random();
            if u < p_elder {
                *a = t.elder_age(v);
                elders += 1;
            } else {
                *a = ((v * t.working_age as f64) as u8).min(t.working_age.saturating_sub(1));
            }
        }
    }
    (ages, elders)
}

/// Elders among `ages[..size]` who still farm (below the farm-exit age).
pub fn farming_elders(t: &LifeTable, ages: &Ages, size: u8) -> u8 {
    ages[..size as usize]
        .iter()
        .filter(|&&a| a >= t.retirement_age && a < t.farm_exit_age)
        .count() as u8
}

/// What one block's year-end pass did (simulated households, not weighted).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Deaths (each replaced by a birth).
    pub deaths: f64,
    /// Members who reached the working age.
    pub came_of_age: f64,
    /// Members who reached the retirement age.
    pub retired: f64,
    /// Members who reached the farm-exit age.
    pub stopped_farming: f64,
    /// Workers who left a local job, a migrant job or a post by death or retirement.
    pub left_jobs: f64,
}

impl Tally {
    /// Adds another tally.
    pub fn add(&mut self, o: &Tally) {
        self.deaths += o.deaths;
        self.came_of_age += o.came_of_age;
        self.retired += o.retired;
        self.stopped_farming += o.stopped_farming;
        self.left_jobs += o.left_jobs;
    }
}

/// One household's year end (ODD §7.4 part 8): for each member in order, one draw decides
/// death (`u < q(age)`); the dead are replaced by a newborn of age 0 (no job, skill 1); the
/// living age by a year. A member who reaches the working age joins the farm with skill 1;
/// one who reaches the retirement age draws the pension and leaves a wage job (local,
/// placed, own migration, post) for the farm; one who reaches the farm-exit age stops
/// working. The household's counts are then set from its members.
pub fn year_end(
    h: &mut Household,
    m: &mut Members,
    t: &LifeTable,
    rng: &mut ChaCha8Rng,
    tally: &mut Tally,
) {
    let mut elders = 0u8;
    for i in 0..(h.size as usize).min(MAX_MEMBERS) {
        let a = m.age[i];
        let u: f32 = rng.random();
        if u < t.q[a as usize] {
            tally.deaths += 1.0;
            if job::is_wage(m.job[i]) {
                tally.left_jobs += 1.0;
            }
            m.age[i] = 0;
            m.skill[i] = 1.0;
            m.tenure[i] = 0;
            m.job[i] = if t.working_age == 0 {
                tally.came_of_age += 1.0;
                job::FARM
            } else {
                job::NONE
            };
        } else {
            let next = (a + 1).min(MAX_AGE);
            if a < t.working_age && next >= t.working_age {
                tally.came_of_age += 1.0;
                m.job[i] = job::FARM;
                m.skill[i] = 1.0;
                m.tenure[i] = 0;
            }
            if a < t.retirement_age && next >= t.retirement_age {
                tally.retired += 1.0;
                if job::is_wage(m.job[i]) {
                    tally.left_jobs += 1.0;
                    m.job[i] = job::FARM;
                    m.tenure[i] = 0;
                }
            }
            if a < t.farm_exit_age && next >= t.farm_exit_age && a >= t.working_age {
                tally.stopped_farming += 1.0;
                m.job[i] = job::NONE;
                m.tenure[i] = 0;
            }
            m.age[i] = next;
        }
        if m.age[i] >= t.retirement_age {
            elders += 1;
        }
    }
    h.elders = elders;
    h.set_counts(&m.counts(h.size));
}

/// The members' record of a household with initial `ages` (from [`initial_ages`]) whose
/// first `local` working-age members hold local jobs and the next `migrants` work away
/// (on their own): every member aged in `[working_age, farm_exit_age)` works, the others
/// farm; initial jobs have a year's tenure (`tenure` ticks).
pub fn initial_members(
    t: &LifeTable,
    ages: &Ages,
    size: u8,
    local: u8,
    migrants: u8,
    tenure: u8,
) -> Members {
    let mut m = Members {
        age: *ages,
        ..Members::default()
    };
    let mut k = 0u8;
    for (i, &a) in ages
        .iter()
        .enumerate()
        .take((size as usize).min(MAX_MEMBERS))
    {
        if a < t.working_age || a >= t.farm_exit_age {
            continue;
        }
        m.tenure[i] = tenure;
        m.job[i] = if a >= t.retirement_age {
            job::FARM
        } else {
            k += 1;
            if k <= local {
                job::LOCAL
            } else if k <= local + migrants {
                job::MIGRANT
            } else {
                job::FARM
            }
        };
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::Distribution;

    fn params() -> DemographyParams {
        DemographyParams::default()
    }

    #[test]
    fn life_table_gives_the_cited_life_expectancy() {
        let t = LifeTable::new(&params());
        // e0 ≈ Σ_a S(a + 1) + ½ with S from the yearly death probabilities.
        let mut s = 1.0f64;
        let mut e0 = 0.5;
        for a in 0..=MAX_AGE as usize {
            s *= 1.0 - t.q[a] as f64;
            e0 += s;
        }
        assert!((e0 - 77.9).abs() < 0.5, "e0 = {e0}");
        assert!(t.q[20] < 0.001 && t.q[80] > 0.03 && t.q[MAX_AGE as usize] == 1.0);
        assert!((t.elder_cdf.last().unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(t.elder_age(0.0), 60);
        assert!(t.elder_age(0.5) > 65 && t.elder_age(0.5) < 80);
    }

    #[test]
    fn ages_agree_with_counts_and_population_is_kept() {
        let p = params();
        let t = LifeTable::new(&p);
        let pe = elder_probability(&p, 3.2, 1.8);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut tally = Tally::default();
        for size in 1..=8u8 {
            for workers in 1..=size {
                let (ages, elders) = initial_ages(&mut rng, &t, size, workers, pe);
                let mut m = initial_members(&t, &ages, size, workers / 2, workers - workers / 2, 1);
                let mut h = Household {
                    size,
                    elders,
                    ..Household::default()
                };
                h.set_counts(&m.counts(size));
                assert_eq!((h.local, h.migrants), (workers / 2, workers - workers / 2));
                for _ in 0..60 {
                    year_end(&mut h, &mut m, &t, &mut rng, &mut tally);
                    let ages = &m.age[..size as usize];
                    let w = ages
                        .iter()
                        .filter(|&&a| a >= t.working_age && a < t.farm_exit_age)
                        .count() as u8;
                    let e = ages.iter().filter(|&&a| a >= t.retirement_age).count() as u8;
                    assert_eq!((h.workers, h.elders), (w, e));
                    assert!(h.local + h.migrants + h.posts <= h.workers);
                    assert!(m.age[size as usize..].iter().all(|&a| a == 0));
                    for i in 0..size as usize {
                        // No member past the retirement age holds a wage job.
                        assert!(m.age[i] < t.retirement_age || !job::is_wage(m.job[i]));
                    }
                }
            }
        }
        assert!(tally.deaths > 0.0 && tally.retired > 0.0 && tally.came_of_age > 0.0);
    }

    #[test]
    fn initial_structure_is_near_stationary() {
        // Mean shares of children, workers and elders after 30 years stay within 3 points
        // of the initial ones for the default household (3.2 persons, 1.8 workers).
        let p = params();
        let t = LifeTable::new(&p);
        let pe = elder_probability(&p, 3.2, 1.8);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut tally = Tally::default();
        let mut pop: Vec<(Household, Members)> = Vec::new();
        // Sizes and working-age members drawn as in `World::new` (ODD §5.2 steps 2–3).
        let extra = rand_distr::Poisson::new(2.2).unwrap();
        for _ in 0..20_000 {
            let size = (1 + extra.sample(&mut rng) as u8).min(8);
            let workers = 1 + rand_distr::Binomial::new(size as u64 - 1, 0.8 / 2.2)
                .unwrap()
                .sample(&mut rng) as u8;
            let (ages, elders) = initial_ages(&mut rng, &t, size, workers, pe);
            let m = initial_members(&t, &ages, size, 0, 0, 1);
            let mut h = Household {
                size,
                elders,
                ..Household::default()
            };
            h.set_counts(&m.counts(size));
            pop.push((h, m));
        }
        let shares = |pop: &[(Household, Members)]| {
            let n: f64 = pop.iter().map(|(h, _)| h.size as f64).sum();
            let w: f64 = pop.iter().map(|(h, _)| h.workers as f64).sum();
            let e: f64 = pop.iter().map(|(h, _)| h.elders as f64).sum();
            (w / n, e / n)
        };
        let (w0, e0) = shares(&pop);
        for _ in 0..30 {
            for (h, a) in pop.iter_mut() {
                year_end(h, a, &t, &mut rng, &mut tally);
            }
        }
        let (w1, e1) = shares(&pop);
        assert!(
            (w1 - w0).abs() < 0.03 && (e1 - e0).abs() < 0.03,
            "{w0} {e0} → {w1} {e1}"
        );
    }
}
