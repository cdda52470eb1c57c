//! Global sensitivity analysis: Saltelli designs with Sobol first-order and total indices, Morris elementary-effects designs and statistics, bootstrap intervals, and analytic test functions (Ishigami, Sobol g-function).
//!
//! Designs are generated in the unit hypercube; the caller maps each point onto the model's
//! parameter ranges, evaluates the model, and passes the outputs back in design order.
//! Non-finite outputs (NaN or ±∞) are tolerated: the affected Saltelli block or Morris
//! trajectory is dropped and the number used is reported.

use std::fmt;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Largest number of parameters `saltelli_design` supports (the Sobol generator has 256 dimensions, two per parameter).
pub const MAX_SALTELLI_DIMENSIONS: usize = (sobol_burley::NUM_DIMENSIONS / 2) as usize;

/// Largest number of base points `saltelli_design` supports (the Sobol generator supports 2^16 points).
pub const MAX_SALTELLI_SAMPLES: usize = 1 << 16;

/// Errors reported by the sensitivity-analysis routines when their input cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum SensitivityError {
    /// The number of parameters `d` was zero.
    ZeroDimensions,
    /// The number of base points (Saltelli `n`) or trajectories (Morris `r`) was zero.
    ZeroSamples,
    /// More parameters were requested than the design generator supports.
    TooManyDimensions {
        /// Requested number of parameters.
        d: usize,
        /// Largest supported number of parameters.
        max: usize,
    },
    /// More base points or trajectories were requested than the design generator supports.
    TooManySamples {
        /// Requested number of base points or trajectories.
        n: usize,
        /// Largest supported number.
        max: usize,
    },
    /// The output vector does not have the length the design implies.
    WrongOutputLength {
        /// Length of the output vector that was passed.
        got: usize,
        /// Size of one block (Saltelli: `d + 2`) or trajectory (Morris: `d + 1`).
        group: usize,
        /// Number of design points passed alongside the outputs, if any.
        points: Option<usize>,
    },
    /// The Morris grid level count was odd or smaller than 2.
    InvalidLevels(usize),
    /// The Morris design points are not a valid set of one-at-a-time trajectories.
    InvalidDesign(String),
    /// Every block (Saltelli) or trajectory (Morris) contained a non-finite output.
    AllOutputsNonFinite {
        /// Number of blocks or trajectories, all of which were dropped.
        groups: usize,
    },
    /// The model outputs at the A and B points do not vary, so indices are undefined.
    ZeroVariance,
}

impl fmt::Display for SensitivityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroDimensions => write!(
                f,
                "the number of parameters d is 0; at least one parameter is needed"
            ),
            Self::ZeroSamples => write!(
                f,
                "the number of base points / trajectories is 0; request at least one (Sobol: a few thousand, Morris: 10-50)"
            ),
            Self::TooManyDimensions { d, max } => write!(
                f,
                "{d} parameters requested but at most {max} are supported; reduce the number of parameters (e.g. screen with Morris first)"
            ),
            Self::TooManySamples { n, max } => write!(
                f,
                "{n} base points / trajectories requested but at most {max} are supported; use a smaller sample"
            ),
            Self::WrongOutputLength { got, group, points } => {
                write!(
                    f,
                    "got {got} outputs, but the count must be a positive multiple of {group} (one output per design point, in design order)"
                )?;
                if let Some(p) = points {
                    write!(f, " and equal to the number of design points ({p})")?;
                }
                Ok(())
            }
            Self::InvalidLevels(p) => write!(
                f,
                "Morris grid must have an even number of levels >= 2, got {p}; 4 is the usual choice"
            ),
            Self::InvalidDesign(msg) => write!(
                f,
                "the points are not a Morris design with the given d: {msg}; pass the points returned by morris_design unchanged"
            ),
            Self::AllOutputsNonFinite { groups } => write!(
                f,
                "all {groups} blocks/trajectories contain a NaN or infinite output, nothing is left to estimate from; check the model on the design points"
            ),
            Self::ZeroVariance => write!(
                f,
                "the model output does not vary over the sample (variance is zero), so sensitivity indices are undefined; check that the output depends on the parameters"
            ),
        }
    }
}

impl std::error::Error for SensitivityError {}

/// A point estimate with a bootstrap 95% percentile interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Estimate from the full sample.
    pub estimate: f64,
    /// 2.5% bootstrap percentile.
    pub low: f64,
    /// 97.5% bootstrap percentile.
    pub high: f64,
}

/// Sobol first-order and total indices with bootstrap intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct SobolIndices {
    /// First-order index per parameter (Saltelli et al. 2010 estimator).
    pub first: Vec<Interval>,
    /// Total index per parameter (Jansen 1999 estimator).
    pub total: Vec<Interval>,
    /// Output variance estimated from all f(A) and f(B) values of the used blocks.
    pub variance: f64,
    /// Number of base blocks used.
    pub blocks_used: usize,
    /// Number of base blocks dropped because an output was NaN or infinite.
    pub blocks_dropped: usize,
}

/// Morris elementary-effects statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct MorrisIndices {
    /// Mean elementary effect per parameter.
    pub mu: Vec<f64>,
    /// Mean absolute elementary effect per parameter, with a bootstrap interval over trajectories.
    pub mu_star: Vec<Interval>,
    /// Standard deviation of the elementary effects per parameter (n − 1 denominator; NaN with one trajectory).
    pub sigma: Vec<f64>,
    /// Number of trajectories used (those without NaN or infinite outputs).
    pub trajectories_used: usize,
}

/// Saltelli design for `d` parameters and `n` base points.
///
/// The matrices A and B are the first and last `d` columns of an Owen-scrambled Sobol
/// sequence in [0,1)^(2d) (`sobol_burley::sample(i, j, seed)` for point `i`, dimension `j`),
/// and AB_i is A with column i taken from B. Rows are returned block by block: for each base
/// point k in 0..n the `d + 2` rows A_k, B_k, AB_1k, ..., AB_dk, so a prefix of whole blocks
/// is the design for a smaller `n` (resumable batches). Every coordinate lies in [0,1).
///
/// Errors: `d == 0`, `n == 0`, `d > MAX_SALTELLI_DIMENSIONS`, `n > MAX_SALTELLI_SAMPLES`.
pub fn saltelli_design(n: usize, d: usize, seed: u32) -> Result<Vec<Vec<f64>>, SensitivityError> {
    if d == 0 {
        return Err(SensitivityError::ZeroDimensions);
    }
    if n == 0 {
        return Err(SensitivityError::ZeroSamples);
    }
    if d > MAX_SALTELLI_DIMENSIONS {
        return Err(SensitivityError::TooManyDimensions {
            d,
            max: MAX_SALTELLI_DIMENSIONS,
        });
    }
    if n > MAX_SALTELLI_SAMPLES {
        return Err(SensitivityError::TooManySamples {
            n,
            max: MAX_SALTELLI_SAMPLES,
        });
    }
    let mut rows = Vec::with_capacity(n * (d + 2));
    // Bounds above guarantee i < 2^16 and j < 256, so the casts are lossless.
    for i in 0..n as u32 {
        let a: Vec<f64> = (0..d as u32)
            .map(|j| f64::from(sobol_burley::sample(i, j, seed)))
            .collect();
        let b: Vec<f64> = (0..d as u32)
            .map(|j| f64::from(sobol_burley::sample(i, d as u32 + j, seed)))
            .collect();
        rows.push(a.clone());
        rows.push(b.clone());
        for col in 0..d {
            let mut ab = a.clone();
            ab[col] = b[col];
            rows.push(ab);
        }
    }
    Ok(rows)
}

/// Per-block quantities of the Sobol estimators, centred for a stable variance.
struct SobolTerms {
    d: usize,
    /// Number of usable blocks.
    m: usize,
    /// Per block: (f(A) − c) + (f(B) − c) with c the full-sample mean.
    s1: Vec<f64>,
    /// Per block: (f(A) − c)² + (f(B) − c)².
    s2: Vec<f64>,
    /// Per block and parameter: f(B)·(f(AB_i) − f(A)).
    first: Vec<f64>,
    /// Per block and parameter: (f(A) − f(AB_i))² / 2.
    total: Vec<f64>,
}

impl SobolTerms {
    /// First-order indices, total indices and variance over the given block indices
    /// (with repetition); `None` if the variance vanishes.
    fn estimate(&self, blocks: &[usize]) -> Option<(Vec<f64>, Vec<f64>, f64)> {
        let d = self.d;
        let count = blocks.len() as f64;
        let (mut s1, mut s2) = (0.0, 0.0);
        let mut first = vec![0.0; d];
        let mut total = vec![0.0; d];
        for &k in blocks {
            s1 += self.s1[k];
            s2 += self.s2[k];
            let row = k * d;
            for i in 0..d {
                first[i] += self.first[row + i];
                total[i] += self.total[row + i];
            }
        }
        let values = 2.0 * count;
        let variance = ((s2 - s1 * s1 / values) / values).max(0.0);
        if !variance_is_positive(variance, s2 / values) {
            return None;
        }
        for v in first.iter_mut().chain(total.iter_mut()) {
            *v /= count * variance;
        }
        Some((first, total, variance))
    }
}

/// Whether a variance is distinguishable from rounding noise, given the mean square about the
/// reference point it was computed from.
fn variance_is_positive(variance: f64, mean_square: f64) -> bool {
    variance.is_finite() && variance > mean_square * (1e3 * f64::EPSILON).powi(2)
}

/// First-order and total Sobol indices from outputs `y` in the order of [`saltelli_design`].
///
/// `y.len()` must be `n * (d + 2)`. First order uses the Saltelli et al. (2010) estimator
/// S_i = mean((f(B) − c)(f(AB_i) − f(A))) / V with f(B) centred on c, the mean of all f(A)
/// and f(B) (unbiased, since f(AB_i) and f(A) share their distribution, and stable when the
/// outputs' mean is large against their spread), total the Jansen (1999) estimator
/// ST_i = mean((f(A) − f(AB_i))²) / 2 / V, with V the variance (1/(2n) denominator) of all
/// f(A) and f(B) values together. Intervals are bootstrap 95% percentile intervals from
/// `resamples` resamples of the base blocks with replacement, drawn from
/// `ChaCha8Rng::seed_from_u64(seed)`; with `resamples == 0` they collapse to the estimate.
/// Blocks containing a NaN or infinite output are dropped and counted.
///
/// Errors: `d == 0`, wrong `y` length, every block dropped, zero output variance.
pub fn sobol_indices(
    y: &[f64],
    d: usize,
    resamples: usize,
    seed: u64,
) -> Result<SobolIndices, SensitivityError> {
    if d == 0 {
        return Err(SensitivityError::ZeroDimensions);
    }
    let group = d.saturating_add(2);
    if y.is_empty() || y.len() % group != 0 {
        return Err(SensitivityError::WrongOutputLength {
            got: y.len(),
            group,
            points: None,
        });
    }
    let blocks_total = y.len() / group;
    let usable: Vec<&[f64]> = y
        .chunks_exact(group)
        .filter(|block| block.iter().all(|v| v.is_finite()))
        .collect();
    let m = usable.len();
    if m == 0 {
        return Err(SensitivityError::AllOutputsNonFinite {
            groups: blocks_total,
        });
    }
    let centre = usable.iter().map(|b| b[0] + b[1]).sum::<f64>() / (2 * m) as f64;
    let mut terms = SobolTerms {
        d,
        m,
        s1: Vec::with_capacity(m),
        s2: Vec::with_capacity(m),
        first: Vec::with_capacity(m * d),
        total: Vec::with_capacity(m * d),
    };
    for block in &usable {
        let (fa, fb) = (block[0], block[1]);
        let (ca, cb) = (fa - centre, fb - centre);
        terms.s1.push(ca + cb);
        terms.s2.push(ca * ca + cb * cb);
        for &fab in &block[2..] {
            // f(B) centred on the mean of the A and B outputs: the same expectation (f(AB_i)
            // and f(A) have the same distribution), far less variance when the outputs'
            // mean is large against their spread (a rate near 0.1 varying by 0.01).
            terms.first.push(cb * (fab - fa));
            terms.total.push(0.5 * (fa - fab) * (fa - fab));
        }
    }
    let all: Vec<usize> = (0..m).collect();
    let (first, total, variance) = terms.estimate(&all).ok_or(SensitivityError::ZeroVariance)?;

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boot_first = vec![Vec::with_capacity(resamples); d];
    let mut boot_total = vec![Vec::with_capacity(resamples); d];
    let mut pick = vec![0usize; terms.m];
    for _ in 0..resamples {
        for p in pick.iter_mut() {
            *p = rng.random_range(0..terms.m);
        }
        // A resample with vanishing variance has undefined indices and is skipped.
        if let Some((f, t, _)) = terms.estimate(&pick) {
            for i in 0..d {
                boot_first[i].push(f[i]);
                boot_total[i].push(t[i]);
            }
        }
    }
    Ok(SobolIndices {
        first: first
            .iter()
            .zip(boot_first)
            .map(|(&e, s)| percentile_interval(e, s))
            .collect(),
        total: total
            .iter()
            .zip(boot_total)
            .map(|(&e, s)| percentile_interval(e, s))
            .collect(),
        variance,
        blocks_used: m,
        blocks_dropped: blocks_total - m,
    })
}

/// 95% percentile interval of the finite bootstrap values (linear interpolation between order
/// statistics); collapses to the estimate if there are none.
fn percentile_interval(estimate: f64, mut samples: Vec<f64>) -> Interval {
    samples.retain(|v| v.is_finite());
    if samples.is_empty() {
        return Interval {
            estimate,
            low: estimate,
            high: estimate,
        };
    }
    samples.sort_by(f64::total_cmp);
    Interval {
        estimate,
        low: quantile_sorted(&samples, 0.025),
        high: quantile_sorted(&samples, 0.975),
    }
}

/// Quantile `q` of a non-empty sorted slice (Hyndman–Fan type 7).
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Morris design: `r` trajectories of `d + 1` points each on a `levels`-level grid in \[0,1\]^d.
///
/// `levels` must be even (4 is the usual choice); the step is Δ = p / (2(p − 1)). Each
/// trajectory starts from a random grid point, then moves every coordinate once, in a random
/// order and with a random direction, by ±Δ (Morris 1991; Campolongo et al. 2007 without the
/// trajectory optimisation). Randomness comes from `ChaCha8Rng::seed_from_u64(seed)`. Points
/// are returned trajectory by trajectory; all coordinates are grid values in \[0,1\].
///
/// Errors: `d == 0`, `r == 0`, odd `levels` or `levels < 2`, design size overflowing `usize`.
pub fn morris_design(
    r: usize,
    d: usize,
    levels: usize,
    seed: u64,
) -> Result<Vec<Vec<f64>>, SensitivityError> {
    if d == 0 {
        return Err(SensitivityError::ZeroDimensions);
    }
    if r == 0 {
        return Err(SensitivityError::ZeroSamples);
    }
    if levels < 2 || levels % 2 != 0 {
        return Err(SensitivityError::InvalidLevels(levels));
    }
    let too_many = SensitivityError::TooManySamples {
        n: r,
        max: usize::MAX / d.saturating_add(1),
    };
    let total = d
        .checked_add(1)
        .and_then(|g| r.checked_mul(g))
        .ok_or_else(|| too_many.clone())?;
    let half = levels / 2;
    let scale = (levels - 1) as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut points = Vec::new();
    points.try_reserve_exact(total).map_err(|_| too_many)?;
    let mut order: Vec<usize> = (0..d).collect();
    for _ in 0..r {
        // Level index of each coordinate; a step of ±Δ is a shift of ±levels/2 levels.
        // The base level is in the lower half so base + half stays on the grid; a coordinate
        // that moves down starts in the upper half.
        let mut level = Vec::with_capacity(d);
        let mut up = Vec::with_capacity(d);
        for _ in 0..d {
            let base = rng.random_range(0..half);
            let goes_up = rng.random_bool(0.5);
            level.push(if goes_up { base } else { base + half });
            up.push(goes_up);
        }
        order.shuffle(&mut rng);
        let to_point = |lv: &[usize]| lv.iter().map(|&l| l as f64 / scale).collect::<Vec<f64>>();
        points.push(to_point(&level));
        for &j in &order {
            if up[j] {
                level[j] += half;
            } else {
                level[j] -= half;
            }
            points.push(to_point(&level));
        }
    }
    Ok(points)
}

/// Morris elementary-effects statistics from the design `points` (as returned by
/// [`morris_design`]) and outputs `y` in the same order (`y.len() == points.len() == r (d + 1)`).
///
/// Each step of a trajectory gives the elementary effect of the coordinate it moves,
/// (y_{k+1} − y_k) / (x_{k+1,i} − x_{k,i}). For every parameter: `mu` (mean EE), `mu_star`
/// (mean |EE|, with a bootstrap 95% percentile interval from `resamples` resamples of the
/// trajectories drawn from `ChaCha8Rng::seed_from_u64(seed)`), `sigma` (standard deviation of
/// EE with n − 1 denominator, NaN when only one trajectory is used). Trajectories with a NaN
/// or infinite output are dropped.
///
/// Errors: `d == 0`, wrong lengths, points that are not one-at-a-time trajectories moving
/// every coordinate exactly once, every trajectory dropped.
pub fn morris_indices(
    points: &[Vec<f64>],
    y: &[f64],
    d: usize,
    resamples: usize,
    seed: u64,
) -> Result<MorrisIndices, SensitivityError> {
    if d == 0 {
        return Err(SensitivityError::ZeroDimensions);
    }
    let group = d.saturating_add(1);
    if y.is_empty() || y.len() % group != 0 || y.len() != points.len() {
        return Err(SensitivityError::WrongOutputLength {
            got: y.len(),
            group,
            points: Some(points.len()),
        });
    }
    let r = y.len() / group;
    // Per used trajectory: elementary effect of each parameter.
    let mut effects: Vec<Vec<f64>> = Vec::with_capacity(r);
    for (t, (traj, ys)) in points
        .chunks_exact(group)
        .zip(y.chunks_exact(group))
        .enumerate()
    {
        let mut ee = vec![f64::NAN; d];
        let mut seen = vec![false; d];
        for (k, pair) in traj.windows(2).enumerate() {
            let (p0, p1) = (&pair[0], &pair[1]);
            if p0.len() != d || p1.len() != d {
                return Err(SensitivityError::InvalidDesign(format!(
                    "trajectory {t}, point {}: expected {d} coordinates",
                    if p0.len() != d { k } else { k + 1 }
                )));
            }
            if p0.iter().chain(p1.iter()).any(|v| !v.is_finite()) {
                return Err(SensitivityError::InvalidDesign(format!(
                    "trajectory {t}, step {k}: a coordinate is not finite"
                )));
            }
            let mut moved = (0..d).filter(|&i| p0[i] != p1[i]);
            let j = match (moved.next(), moved.next()) {
                (Some(j), None) => j,
                _ => {
                    return Err(SensitivityError::InvalidDesign(format!(
                        "trajectory {t}, step {k}: consecutive points must differ in exactly one coordinate"
                    )));
                }
            };
            if seen[j] {
                return Err(SensitivityError::InvalidDesign(format!(
                    "trajectory {t}: coordinate {j} moves more than once"
                )));
            }
            seen[j] = true;
            ee[j] = (ys[k + 1] - ys[k]) / (p1[j] - p0[j]);
        }
        if ys.iter().all(|v| v.is_finite()) && ee.iter().all(|v| v.is_finite()) {
            effects.push(ee);
        }
    }
    let used = effects.len();
    if used == 0 {
        return Err(SensitivityError::AllOutputsNonFinite { groups: r });
    }
    let n = used as f64;
    let mut mu = vec![0.0; d];
    let mut abs_mean = vec![0.0; d];
    for ee in &effects {
        for i in 0..d {
            mu[i] += ee[i] / n;
            abs_mean[i] += ee[i].abs() / n;
        }
    }
    let sigma: Vec<f64> = (0..d)
        .map(|i| {
            if used < 2 {
                f64::NAN
            } else {
                let ss: f64 = effects.iter().map(|ee| (ee[i] - mu[i]).powi(2)).sum();
                (ss / (n - 1.0)).sqrt()
            }
        })
        .collect();

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boot = vec![Vec::with_capacity(resamples); d];
    let mut sums = vec![0.0; d];
    for _ in 0..resamples {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for _ in 0..used {
            let ee = &effects[rng.random_range(0..used)];
            for i in 0..d {
                sums[i] += ee[i].abs();
            }
        }
        for i in 0..d {
            boot[i].push(sums[i] / n);
        }
    }
    Ok(MorrisIndices {
        mu,
        mu_star: abs_mean
            .iter()
            .zip(boot)
            .map(|(&e, s)| percentile_interval(e, s))
            .collect(),
        sigma,
        trajectories_used: used,
    })
}

/// The Ishigami function sin x1 + 7 sin² x2 + 0.1 x3⁴ sin x1 on [−π, π]^3 (a = 7, b = 0.1).
///
/// Returns NaN if `x.len() != 3`.
pub fn ishigami(x: &[f64]) -> f64 {
    const A: f64 = 7.0;
    const B: f64 = 0.1;
    match x {
        [x1, x2, x3] => x1.sin() + A * x2.sin().powi(2) + B * x3.powi(4) * x1.sin(),
        _ => f64::NAN,
    }
}

/// Analytic (first-order, total) Sobol indices of [`ishigami`] with a = 7, b = 0.1
/// (Ishigami & Homma 1990): first ≈ (0.3139, 0.4424, 0), total ≈ (0.5576, 0.4424, 0.2437).
pub fn ishigami_indices() -> (Vec<f64>, Vec<f64>) {
    use std::f64::consts::PI;
    const A: f64 = 7.0;
    const B: f64 = 0.1;
    let pi4 = PI.powi(4);
    let pi8 = PI.powi(8);
    let v1 = 0.5 * (1.0 + B * pi4 / 5.0).powi(2);
    let v2 = A * A / 8.0;
    let v13 = B * B * pi8 * 8.0 / 225.0;
    let v = v1 + v2 + v13;
    (
        vec![v1 / v, v2 / v, 0.0],
        vec![(v1 + v13) / v, v2 / v, v13 / v],
    )
}

/// The Sobol g-function Π_i (|4 x_i − 2| + a_i) / (1 + a_i) on \[0,1\]^d with coefficients `a`.
///
/// Returns NaN if `x.len() != a.len()`. Coefficients should satisfy a_i > −1 (usually a_i ≥ 0).
pub fn g_function(x: &[f64], a: &[f64]) -> f64 {
    if x.len() != a.len() {
        return f64::NAN;
    }
    x.iter()
        .zip(a)
        .map(|(&xi, &ai)| ((4.0 * xi - 2.0).abs() + ai) / (1.0 + ai))
        .product()
}

/// Analytic (first-order, total) Sobol indices of [`g_function`] with coefficients `a`:
/// V_i = 1 / (3 (1 + a_i)²), V = Π(1 + V_i) − 1, S_i = V_i / V, ST_i = V_i Π_{j≠i}(1 + V_j) / V.
///
/// Entries are non-finite if some a_i = −1 or the total variance V is zero.
pub fn g_function_indices(a: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let vi: Vec<f64> = a
        .iter()
        .map(|&ai| 1.0 / (3.0 * (1.0 + ai).powi(2)))
        .collect();
    let prod: f64 = vi.iter().map(|v| 1.0 + v).product();
    let v = prod - 1.0;
    let first = vi.iter().map(|x| x / v).collect();
    let total = vi.iter().map(|x| x * (prod / (1.0 + x)) / v).collect();
    (first, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const N: usize = 4096;
    const RESAMPLES: usize = 500;

    fn check_against(name: &str, est: &[Interval], truth: &[f64]) {
        for (i, (e, &t)) in est.iter().zip(truth).enumerate() {
            assert!(
                e.low <= e.estimate && e.estimate <= e.high,
                "{name}[{i}]: {e:?}"
            );
            assert!(
                e.low - 0.02 <= t && t <= e.high + 0.02,
                "{name}[{i}]: analytic {t} outside widened interval {e:?}"
            );
            assert!(
                (e.estimate - t).abs() < 0.05,
                "{name}[{i}]: estimate {} vs analytic {t}",
                e.estimate
            );
        }
    }

    fn ishigami_outputs(n: usize, seed: u32) -> Vec<f64> {
        saltelli_design(n, 3, seed)
            .unwrap()
            .iter()
            .map(|u| {
                let x: Vec<f64> = u.iter().map(|v| -PI + 2.0 * PI * v).collect();
                ishigami(&x)
            })
            .collect()
    }

    const G_A: [f64; 6] = [0.0, 1.0, 4.5, 9.0, 99.0, 99.0];

    #[test]
    fn analytic_reference_values() {
        let (s, st) = ishigami_indices();
        let want_s = [0.3139, 0.4424, 0.0];
        let want_st = [0.5576, 0.4424, 0.2437];
        for i in 0..3 {
            assert!((s[i] - want_s[i]).abs() < 1e-4, "S{i} = {}", s[i]);
            assert!((st[i] - want_st[i]).abs() < 1e-4, "ST{i} = {}", st[i]);
        }
        let (s, st) = g_function_indices(&G_A);
        // a = 0 dominates; a = 99 parameters are negligible; ST >= S.
        assert!(s[0] > 0.7 && s[4] < 1e-4);
        assert!(s.iter().zip(&st).all(|(a, b)| a <= b));
        // One-parameter g-function is purely additive.
        let (s1, st1) = g_function_indices(&[2.0]);
        assert!((s1[0] - 1.0).abs() < 1e-12 && (st1[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn sobol_ishigami() {
        let y = ishigami_outputs(N, 7);
        let r = sobol_indices(&y, 3, RESAMPLES, 11).unwrap();
        let (s, st) = ishigami_indices();
        check_against("S", &r.first, &s);
        check_against("ST", &r.total, &st);
        assert_eq!((r.blocks_used, r.blocks_dropped), (N, 0));
        let v_true = 49.0 / 8.0 + 0.1 * PI.powi(4) / 5.0 + 0.01 * PI.powi(8) / 18.0 + 0.5;
        assert!(
            (r.variance / v_true - 1.0).abs() < 0.05,
            "V = {}",
            r.variance
        );
    }

    #[test]
    fn sobol_g_function() {
        let y: Vec<f64> = saltelli_design(N, G_A.len(), 3)
            .unwrap()
            .iter()
            .map(|x| g_function(x, &G_A))
            .collect();
        let r = sobol_indices(&y, G_A.len(), RESAMPLES, 5).unwrap();
        let (s, st) = g_function_indices(&G_A);
        check_against("S", &r.first, &s);
        check_against("ST", &r.total, &st);
    }

    /// A model output is often a rate whose mean is large against its spread; the first-order
    /// estimator must not depend on that offset (uncentred, its error grows with it).
    #[test]
    fn first_order_does_not_depend_on_the_outputs_mean() {
        let y: Vec<f64> = saltelli_design(N, G_A.len(), 3)
            .unwrap()
            .iter()
            .map(|x| 1000.0 + g_function(x, &G_A))
            .collect();
        let r = sobol_indices(&y, G_A.len(), RESAMPLES, 5).unwrap();
        let (s, _) = g_function_indices(&G_A);
        for (e, t) in r.first.iter().zip(&s) {
            assert!((e.estimate - t).abs() < 0.05, "S {} vs {t}", e.estimate);
            assert!(e.high - e.low < 0.3, "interval {:?}", e);
        }
    }

    #[test]
    fn sobol_drops_nan_blocks_and_is_deterministic() {
        let mut y = ishigami_outputs(1024, 1);
        y[0] = f64::NAN; // block 0
        y[5 * 7 + 4] = f64::NAN; // block 7
        y[5 * 9 + 2] = f64::INFINITY; // block 9
        let r = sobol_indices(&y, 3, 100, 2).unwrap();
        assert_eq!((r.blocks_used, r.blocks_dropped), (1021, 3));
        assert!(r
            .first
            .iter()
            .chain(&r.total)
            .all(|i| i.estimate.is_finite()));
        assert_eq!(r, sobol_indices(&y, 3, 100, 2).unwrap());
        let no_boot = sobol_indices(&y, 3, 0, 2).unwrap();
        assert!(no_boot
            .first
            .iter()
            .all(|i| i.low == i.estimate && i.high == i.estimate));
    }

    #[test]
    fn saltelli_design_structure_and_prefix() {
        let d = 4;
        let big = saltelli_design(64, d, 9).unwrap();
        let small = saltelli_design(24, d, 9).unwrap();
        assert_eq!(big.len(), 64 * (d + 2));
        assert_eq!(&big[..small.len()], &small[..]);
        for block in big.chunks_exact(d + 2) {
            let (a, b) = (&block[0], &block[1]);
            for (i, ab) in block[2..].iter().enumerate() {
                for j in 0..d {
                    assert_eq!(ab[j], if j == i { b[j] } else { a[j] });
                }
            }
        }
        assert!(big.iter().flatten().all(|&v| (0.0..1.0).contains(&v)));
        assert_ne!(big, saltelli_design(64, d, 10).unwrap());
    }

    #[test]
    fn morris_design_structure() {
        for levels in [2, 4, 6] {
            let (r, d) = (20, 5);
            let pts = morris_design(r, d, levels, 42).unwrap();
            assert_eq!(pts.len(), r * (d + 1));
            let delta = levels as f64 / (2.0 * (levels - 1) as f64);
            assert!(pts.iter().flatten().all(|&v| (0.0..=1.0).contains(&v)));
            for traj in pts.chunks_exact(d + 1) {
                let mut seen = vec![false; d];
                for pair in traj.windows(2) {
                    let diff: Vec<usize> = (0..d).filter(|&i| pair[0][i] != pair[1][i]).collect();
                    assert_eq!(diff.len(), 1);
                    let j = diff[0];
                    assert!(((pair[1][j] - pair[0][j]).abs() - delta).abs() < 1e-12);
                    assert!(!seen[j]);
                    seen[j] = true;
                }
            }
            assert_eq!(pts, morris_design(r, d, levels, 42).unwrap());
        }
    }

    #[test]
    fn morris_g_function_ranking() {
        let d = G_A.len();
        let pts = morris_design(100, d, 4, 2024).unwrap();
        let y: Vec<f64> = pts.iter().map(|x| g_function(x, &G_A)).collect();
        let m = morris_indices(&pts, &y, d, RESAMPLES, 1).unwrap();
        assert_eq!(m.trajectories_used, 100);
        let ms: Vec<f64> = m.mu_star.iter().map(|i| i.estimate).collect();
        assert!(ms[0] > ms[1] && ms[1] > ms[2], "mu_star = {ms:?}");
        let largest = ms.iter().cloned().fold(f64::MIN, f64::max);
        assert!(
            ms[4] < 0.05 * largest && ms[5] < 0.05 * largest,
            "mu_star = {ms:?}"
        );
        for (i, iv) in m.mu_star.iter().enumerate() {
            assert!(iv.low <= iv.estimate && iv.estimate <= iv.high);
            assert!(m.mu[i].abs() <= iv.estimate + 1e-12 && m.sigma[i] >= 0.0);
        }
    }

    #[test]
    fn morris_linear_model_exact() {
        // y = 3 x0 - 2 x1 + 0 x2: every EE is exact, sigma is zero.
        let pts = morris_design(10, 3, 4, 3).unwrap();
        let mut y: Vec<f64> = pts.iter().map(|x| 3.0 * x[0] - 2.0 * x[1]).collect();
        y[4 * 3 + 1] = f64::NAN; // trajectory 3 dropped
        let m = morris_indices(&pts, &y, 3, 50, 0).unwrap();
        assert_eq!(m.trajectories_used, 9);
        for (i, want) in [3.0, -2.0, 0.0].into_iter().enumerate() {
            assert!((m.mu[i] - want).abs() < 1e-9);
            assert!((m.mu_star[i].estimate - want.abs()).abs() < 1e-9);
            assert!(m.sigma[i] < 1e-9);
        }
    }

    #[test]
    fn errors() {
        use SensitivityError as E;
        assert_eq!(saltelli_design(10, 0, 0), Err(E::ZeroDimensions));
        assert_eq!(saltelli_design(0, 3, 0), Err(E::ZeroSamples));
        assert!(matches!(
            saltelli_design(10, 129, 0),
            Err(E::TooManyDimensions { .. })
        ));
        assert!(matches!(
            saltelli_design(65537, 1, 0),
            Err(E::TooManySamples { .. })
        ));
        assert!(saltelli_design(1, 128, 0).is_ok());

        assert_eq!(sobol_indices(&[1.0; 5], 0, 10, 0), Err(E::ZeroDimensions));
        assert!(matches!(
            sobol_indices(&[1.0; 6], 3, 10, 0),
            Err(E::WrongOutputLength { .. })
        ));
        assert!(matches!(
            sobol_indices(&[], 3, 10, 0),
            Err(E::WrongOutputLength { .. })
        ));
        assert_eq!(
            sobol_indices(&[f64::NAN; 10], 3, 10, 0),
            Err(E::AllOutputsNonFinite { groups: 2 })
        );
        assert_eq!(sobol_indices(&[0.1; 50], 3, 10, 0), Err(E::ZeroVariance));

        assert_eq!(morris_design(5, 0, 4, 0), Err(E::ZeroDimensions));
        assert_eq!(morris_design(0, 3, 4, 0), Err(E::ZeroSamples));
        assert_eq!(morris_design(5, 3, 3, 0), Err(E::InvalidLevels(3)));
        assert_eq!(morris_design(5, 3, 0, 0), Err(E::InvalidLevels(0)));
        assert!(matches!(
            morris_design(usize::MAX, 3, 4, 0),
            Err(E::TooManySamples { .. })
        ));
        assert!(matches!(
            morris_design(usize::MAX / 8, 3, 4, 0),
            Err(E::TooManySamples { .. })
        ));
        assert!(matches!(
            sobol_indices(&[1.0; 4], usize::MAX, 1, 0),
            Err(E::WrongOutputLength { .. })
        ));
        assert!(matches!(
            morris_indices(&[], &[], usize::MAX, 1, 0),
            Err(E::WrongOutputLength { .. })
        ));

        let pts = morris_design(3, 2, 4, 0).unwrap();
        let y = vec![1.0; pts.len()];
        assert_eq!(morris_indices(&pts, &y, 0, 10, 0), Err(E::ZeroDimensions));
        assert!(matches!(
            morris_indices(&pts, &y[1..], 2, 10, 0),
            Err(E::WrongOutputLength { .. })
        ));
        let twice = vec![vec![0.0, 0.0], vec![2.0 / 3.0, 0.0], vec![0.0, 0.0]];
        assert!(matches!(
            morris_indices(&twice, &y[..3], 2, 10, 0),
            Err(E::InvalidDesign(_))
        ));
        let short = vec![vec![0.0, 0.0], vec![2.0 / 3.0], vec![2.0 / 3.0, 2.0 / 3.0]];
        assert!(matches!(
            morris_indices(&short, &y[..3], 2, 10, 0),
            Err(E::InvalidDesign(_))
        ));
        let mut bad = pts.clone();
        bad[1] = bad[0].clone();
        assert!(matches!(
            morris_indices(&bad, &y, 2, 10, 0),
            Err(E::InvalidDesign(_))
        ));
        assert_eq!(
            morris_indices(&pts, &[f64::NAN; 9], 2, 10, 0),
            Err(E::AllOutputsNonFinite { groups: 3 })
        );
        // Every error renders a non-empty message.
        for e in [
            E::ZeroDimensions,
            E::ZeroSamples,
            E::TooManyDimensions { d: 1, max: 0 },
            E::TooManySamples { n: 1, max: 0 },
            E::WrongOutputLength {
                got: 1,
                group: 2,
                points: Some(3),
            },
            E::InvalidLevels(3),
            E::InvalidDesign("x".into()),
            E::AllOutputsNonFinite { groups: 1 },
            E::ZeroVariance,
        ] {
            assert!(!e.to_string().is_empty());
        }
    }
}
