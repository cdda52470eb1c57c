//! Household members as agents: each member's age, job, tenure and skill, in one fixed-size
//! record per household (the column `World::members`, ODD §7.2 "Members").
//!
//! A household has at most [`MAX_MEMBERS`] members; slot `i < size` is member `i`, slots at
//! and beyond the size are unused (age 0, job [`job::NONE`], skill 1). The household step
//! (ODD §7.4 part 1) moves each working member between jobs and trains one member at a
//! time; the year end (§7.4 part 8) ages them. The household record keeps the counts
//! (`workers`, `elders`, `local`, `migrants`, `posts`) and the mean skill that the rest of
//! the model reads, always equal to what the slots say ([`Members::counts`]).

/// Most members a household has (the cap on household size).
pub const MAX_MEMBERS: usize = 8;

/// Job codes stored in [`Members::job`].
pub mod job {
    /// Not working: a child below the working age, or an elder past the farm-exit age.
    pub const NONE: u8 = 0;
    /// Working on the household's farm (the fallback of every worker without a wage job).
    pub const FARM: u8 = 1;
    /// Employed by a firm of the home region (local firms, cooperatives, relocated plants).
    pub const LOCAL: u8 = 2;
    /// Migrant placed in the east through labour cooperation (劳务协作).
    pub const PLACED: u8 = 3;
    /// Migrant who left on their own.
    pub const MIGRANT: u8 = 4;
    /// On a public-welfare post (公益岗位).
    pub const POST: u8 = 5;
    /// Names, indexed by code.
    pub const NAMES: [&str; 6] = ["none", "farm", "local", "placed", "migrant", "post"];

    /// Whether a code is a wage job (left at retirement).
    #[inline]
    pub fn is_wage(j: u8) -> bool {
        j >= LOCAL
    }

    /// Whether a code means working away (placed or on one's own).
    #[inline]
    pub fn is_away(j: u8) -> bool {
        j == PLACED || j == MIGRANT
    }
}

/// The members of one household: one entry per slot.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Members {
    /// Skill of each member (wage multiplier, 1 = untrained).
    pub skill: [f32; MAX_MEMBERS],
    /// Age in completed years.
    pub age: [u8; MAX_MEMBERS],
    /// Job (see [`job`]).
    pub job: [u8; MAX_MEMBERS],
    /// Ticks in the current job (or on the farm), saturating at 255.
    pub tenure: [u8; MAX_MEMBERS],
}

impl Default for Members {
    fn default() -> Members {
        Members {
            skill: [1.0; MAX_MEMBERS],
            age: [0; MAX_MEMBERS],
            job: [job::NONE; MAX_MEMBERS],
            tenure: [0; MAX_MEMBERS],
        }
    }
}

/// What the slots of one household add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Members with a job code other than [`job::NONE`].
    pub workers: u8,
    /// Members in local jobs.
    pub local: u8,
    /// Members working away (placed or on their own).
    pub migrants: u8,
    /// Of those, members placed through labour cooperation.
    pub placed: u8,
    /// Members on welfare posts.
    pub posts: u8,
    /// Mean skill of the workers (1 with none).
    pub skill: f32,
}

impl Counts {
    /// Counts one member with job `j`; returns whether it is a worker (job not *none*).
    #[inline(always)]
    pub fn add(&mut self, j: u8) -> bool {
        match j {
            job::NONE => return false,
            job::LOCAL => self.local += 1,
            job::PLACED => {
                self.migrants += 1;
                self.placed += 1;
            }
            job::MIGRANT => self.migrants += 1,
            job::POST => self.posts += 1,
            _ => {}
        }
        self.workers += 1;
        true
    }

    /// Sets the mean skill from the workers' skill sum (1 with no worker).
    #[inline(always)]
    pub fn finish(&mut self, skill_sum: f32) {
        self.skill = if self.workers > 0 {
            skill_sum / self.workers as f32
        } else {
            1.0
        };
    }
}

impl Members {
    /// The counts of the first `size` slots.
    #[inline]
    pub fn counts(&self, size: u8) -> Counts {
        let mut c = Counts::default();
        let mut skill = 0.0f32;
        for i in 0..size as usize {
            if c.add(self.job[i]) {
                skill += self.skill[i];
            }
        }
        c.finish(skill);
        c
    }

    /// Whether member `i` looks for a wage job: on the farm and below `retirement_age`.
    #[inline]
    pub fn seeks(&self, i: usize, retirement_age: u8) -> bool {
        self.job[i] == job::FARM && self.age[i] < retirement_age
    }

    /// Members of the first `size` slots who look for a wage job, and the sum of their skill.
    pub fn seekers(&self, size: u8, retirement_age: u8) -> (u8, f32) {
        let (mut n, mut s) = (0u8, 0.0f32);
        for i in 0..size as usize {
            if self.seeks(i, retirement_age) {
                n += 1;
                s += self.skill[i];
            }
        }
        (n, s)
    }

    /// Whether member `i` can be trained: of working age, below `retirement_age` and at home
    /// (on the farm, in a local job or on a post).
    #[inline]
    pub fn trainable(&self, i: usize, retirement_age: u8) -> bool {
        let j = self.job[i];
        j != job::NONE && !job::is_away(j) && self.age[i] < retirement_age
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_slots() {
        let mut m = Members::default();
        m.job[..6].copy_from_slice(&[
            job::FARM,
            job::LOCAL,
            job::PLACED,
            job::MIGRANT,
            job::POST,
            job::NONE,
        ]);
        m.skill[1] = 2.0;
        m.age[..6].copy_from_slice(&[30, 40, 25, 35, 50, 70]);
        let c = m.counts(6);
        assert_eq!(
            (c.workers, c.local, c.migrants, c.placed, c.posts),
            (5, 1, 2, 1, 1)
        );
        assert!((c.skill - 1.2).abs() < 1e-6);
        // Only slots below the size count.
        assert_eq!(m.counts(2).workers, 2);
        assert_eq!(m.seekers(6, 60), (1, 1.0));
        assert!(m.trainable(1, 60) && !m.trainable(2, 60) && !m.trainable(5, 60));
        m.age[0] = 60;
        assert_eq!(m.seekers(6, 60).0, 0);
    }
}
