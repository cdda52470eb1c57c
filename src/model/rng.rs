//! Reproducible random streams keyed by purpose, never by thread.
//!
//! Every random draw in the model comes from a ChaCha8 stream whose 256-bit seed is
//! derived from `(master seed, purpose, a, b)` with SplitMix64, where `a` and `b` are what
//! the stream is for (region, agent block, tick, link…). Which thread runs a block
//! therefore never changes a number. `docs/ODD.md` §7 gives the derivation exactly.

use rand::rand_core::block::BlockRngCore;
use rand::SeedableRng;
use rand_chacha::{ChaCha8Core, ChaCha8Rng};

/// Four ChaCha8 keystream blocks (rand_chacha's result buffer).
type Blocks4 = <ChaCha8Core as BlockRngCore>::Results;

/// What a stream is used for. The discriminant enters the seed derivation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Initial household population: (region, block).
    Init = 1,
    /// Household phase of a tick: (region·2^32 + block, tick).
    Households = 2,
    /// Collective project launches: (region, tick).
    Projects = 3,
    /// Eastern firm entry decisions: (link, tick).
    FirmEntry = 4,
    /// Replicate seeds: (replicate, 0).
    Replicate = 5,
    /// Household phase of a burn-in tick: (region·2^32 + block, burn-in tick).
    BurnIn = 6,
    /// Seeds of batch runs: (hash of scenario label ⊕ mixed point index, replicate).
    Run = 7,
    /// Latin-hypercube sweeps: (dimension, 0).
    Sweep = 8,
    /// Members' year end (ageing, death, birth): (region·2^32 + block, year counted from
    /// the start of the burn-in).
    Demography = 9,
    /// Eastern plants' productivity shocks at a year end: (0, tick).
    FirmShocks = 10,
}

/// SplitMix64 step (Steele, Lea & Flood 2014): the standard 64-bit mixer.
#[inline]
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The SplitMix64 output for state `x` (one step from `x`): a bijective 64-bit mixer.
#[inline]
pub fn mix(x: u64) -> u64 {
    let mut s = x;
    splitmix64(&mut s)
}

/// The run's random-stream factory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streams {
    /// Master seed of the run.
    pub seed: u64,
}

impl Streams {
    /// Streams of a run with this master seed.
    pub fn new(seed: u64) -> Streams {
        Streams { seed }
    }

    /// The 32-byte ChaCha seed for `(purpose, a, b)`.
    pub fn key(&self, purpose: Purpose, a: u64, b: u64) -> [u8; 32] {
        // Absorb each word into a hash chained through the SplitMix64 finaliser:
        // h ← mix(h ⊕ word), starting from h = mix(seed).
        let mut h = mix(self.seed);
        h = mix(h ^ purpose as u64);
        h = mix(h ^ a);
        h = mix(h ^ b);
        let mut s = h;
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&splitmix64(&mut s).to_le_bytes());
        }
        out
    }

    /// A fresh stream for `(purpose, a, b)`.
    pub fn stream(&self, purpose: Purpose, a: u64, b: u64) -> ChaCha8Rng {
        ChaCha8Rng::from_seed(self.key(purpose, a, b))
    }

    /// The household cells of stream `(purpose, a, b)` (ODD §7.2).
    pub fn cells(&self, purpose: Purpose, a: u64, b: u64) -> Cells {
        Cells {
            core: ChaCha8Core::from_seed(self.key(purpose, a, b)),
            buf: Blocks4::default(),
            next: 4,
        }
    }

    /// The master seed of replicate `r` of a scenario with master seed `self.seed`.
    pub fn replicate_seed(&self, r: u64) -> u64 {
        let k = self.key(Purpose::Replicate, r, 0);
        u64::from_le_bytes(k[..8].try_into().expect("8 bytes"))
    }
}

/// Words in a household's draw cell (ODD §7.2): one ChaCha8 keystream block.
pub const CELL: usize = 16;

/// A household's draws for one tick (ODD §7.2, §7.4): household `j` of a block takes
/// keystream block `j` of the block's stream, 16 words, whether it uses them or not, so that
/// no household's draws depend on what another household drew.
pub type Cell = [u32; CELL];

/// The fixed use of each word of a [`Cell`] (ODD §7.4, draw table). Words `0 … 7` are the
/// members' labour words, member `i` in word `i`.
pub mod slot {
    /// Training (and the trainee).
    pub const TRAIN: usize = 8;
    /// Illness (and its onset within the tick).
    pub const ILL: usize = 9;
    /// Idiosyncratic disaster (and its onset).
    pub const DISASTER: usize = 10;
    /// Farm-income noise (a standard normal).
    pub const NOISE: usize = 11;
    /// Monitoring: identification of a candidate.
    pub const DETECT: usize = 12;
    /// Monitoring: the dibao test at identification (a standard normal).
    pub const DETECT_TEST: usize = 13;
    /// The yearly dibao means test (a standard normal).
    pub const MEANS_TEST: usize = 14;
}

/// A household block's cells in order: cell `j` is keystream block `j` of the ChaCha8 stream
/// `(purpose, a, b)`, the same words as [`Streams::stream`] gives 16 at a time, generated four
/// blocks at a time without the per-word bookkeeping of a `BlockRng`.
#[derive(Debug, Clone)]
pub struct Cells {
    core: ChaCha8Core,
    buf: Blocks4,
    next: usize,
}

impl Cells {
    /// The next household's cell.
    #[inline(always)]
    pub fn next_cell(&mut self) -> Cell {
        if self.next == 4 {
            self.core.generate(&mut self.buf);
            self.next = 0;
        }
        let words: &[u32] = self.buf.as_ref();
        let c: Cell = words[CELL * self.next..CELL * (self.next + 1)]
            .try_into()
            .expect("16 words");
        self.next += 1;
        c
    }
}

/// The f32 uniform on [0, 1) of one word: `(w ≫ 8) · 2⁻²⁴` (rand's convention).
#[inline(always)]
pub fn uniform(w: u32) -> f32 {
    (w >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// The standard normal of one word by inversion, in f32: `Φ⁻¹(p)` at the midpoint
/// `p = (k + ½) · 2⁻²⁴` of the word's top 24 bits `k = w ≫ 8`, by Wichura's Algorithm AS 241
/// PPND7 (Applied Statistics 37(3), 1988, 477–484; about 7 significant digits, the precision
/// of an f32). `q = p − ½ = (2k + 1 − 2²⁴) · 2⁻²⁵` and `min(p, 1 − p) = ½ − |q|` are exact in
/// f32, so `normal(!w) = −normal(w)` exactly and the value lies within ±5.42 (the smallest
/// tail probability is 2⁻²⁵, so PPND7's third branch, `r > 5`, is never reached). Horner's
/// scheme, no fused multiply-add; `ln` and `sqrt` are the f32 library functions (ODD §7.2).
#[inline(always)]
#[allow(clippy::excessive_precision)] // AS 241's coefficients as printed, rounded to f32
pub fn normal(w: u32) -> f32 {
    let m = 2 * (w >> 8) as i32 + 1 - (1 << 24);
    let q = m as f32 * (1.0 / 33_554_432.0);
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        let a = ((59.109_374_720 * r + 159.291_132_02) * r + 50.434_271_938) * r + 3.387_132_717_9;
        let b = ((67.187_563_600 * r + 78.757_757_664) * r + 17.895_169_469) * r + 1.0;
        return q * a / b;
    }
    let r = (-(0.5 - q.abs()).ln()).sqrt() - 1.6;
    let c = ((0.170_238_211_03 * r + 1.306_728_481_6) * r + 2.756_815_390_0) * r + 1.423_437_277_7;
    let d = (0.120_211_329_75 * r + 0.737_001_642_50) * r + 1.0;
    let v = c / d;
    if q < 0.0 {
        -v
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_differ_by_every_key_part() {
        let s = Streams::new(7);
        let base = s.key(Purpose::Households, 1, 2);
        assert_ne!(base, s.key(Purpose::Households, 1, 3));
        assert_ne!(base, s.key(Purpose::Households, 2, 2));
        assert_ne!(base, s.key(Purpose::Init, 1, 2));
        assert_ne!(base, Streams::new(8).key(Purpose::Households, 1, 2));
        assert_eq!(base, s.key(Purpose::Households, 1, 2));
    }

    #[test]
    fn keys_do_not_collide_across_blocks_ticks_and_purposes() {
        let s = Streams::new(20160101);
        let mut keys = std::collections::BTreeSet::new();
        let mut n = 0;
        for purpose in [
            Purpose::Init,
            Purpose::Households,
            Purpose::Projects,
            Purpose::FirmEntry,
            Purpose::BurnIn,
        ] {
            for region in 0..4u64 {
                for block in 0..16u64 {
                    for tick in 0..64u64 {
                        keys.insert(s.key(purpose, (region << 32) | block, tick));
                        n += 1;
                    }
                }
            }
        }
        assert_eq!(
            keys.len(),
            n,
            "distinct (purpose, a, b) must give distinct keys"
        );
    }

    #[test]
    fn stream_is_reproducible() {
        let s = Streams::new(42);
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(s.stream(Purpose::Init, 0, 0), |r, _| Some(r.random()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(s.stream(Purpose::Init, 0, 0), |r, _| Some(r.random()))
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn household_j_takes_keystream_block_j() {
        use rand::RngCore;
        let s = Streams::new(9);
        let mut cells = s.cells(Purpose::Households, (2 << 32) | 5, 17);
        let cells: Vec<Cell> = (0..7).map(|_| cells.next_cell()).collect();
        for (j, c) in cells.iter().enumerate() {
            let mut direct = s.stream(Purpose::Households, (2 << 32) | 5, 17);
            direct.set_word_pos(16 * j as u128);
            let words: Vec<u32> = (0..CELL).map(|_| direct.next_u32()).collect();
            assert_eq!(&words[..], &c[..], "cell {j}");
        }
    }

    #[test]
    fn one_word_normals_are_quantiles_to_seven_digits() {
        // Φ⁻¹ at the word's midpoint, to 16 digits (Python's NormalDist, AS 241 PPND16): p = (k + ½)/2²⁴.
        for (k, z) in [
            (1u32 << 23, 7.470_334_394_666_561e-8),
            (0, -5.419_983_174_916_869),
            (16_352_544, 1.954_646_677_911_372),
            (16_760, -3.090_528_350_246_457_6),
        ] {
            let v = normal(k << 8) as f64;
            assert!(
                (v - z).abs() <= 4e-7 * z.abs().max(1.0),
                "k {k}: {v} vs {z}"
            );
        }
    }

    #[test]
    fn one_word_normals_are_symmetric_and_standard() {
        assert_eq!(normal(0), -normal(u32::MAX));
        assert!(normal(0) < -5.41 && normal(0) > -5.43, "{}", normal(0));
        assert_eq!(normal(1 << 31), -normal((1 << 31) - 1));
        // Moments over an even grid of words (exact quantiles of the discrete uniform).
        let n = 1u64 << 20;
        let (mut m1, mut m2) = (0.0f64, 0.0f64);
        for k in 0..n {
            let z = normal((k << 12) as u32 + 2048) as f64;
            m1 += z;
            m2 += z * z;
        }
        let (m1, m2) = (m1 / n as f64, m2 / n as f64);
        assert!(m1.abs() < 1e-6, "mean {m1}");
        assert!((m2 - 1.0).abs() < 1e-3, "variance {m2}");
        assert_eq!(uniform(0), 0.0);
        assert!(uniform(u32::MAX) < 1.0);
    }
}
