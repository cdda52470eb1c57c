//! Hypothesis tests: the two-sided Student-t p-value of a mean difference and Holm's
//! step-down adjustment for several tests of one claim; the two-sample Kolmogorov–Smirnov
//! test of docking (the same distribution before and after a change that moves bytes).

/// Regularised incomplete beta function `I_x(a, b)` (continued fraction, Numerical Recipes'
/// `betai`/`betacf`); accurate to about 1e−10 for the arguments a t test needs.
pub fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(x, a, b) / a
    } else {
        1.0 - front * beta_cf(1.0 - x, b, a) / b
    }
}

fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e−13).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut s = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        s += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

/// Two-sided p-value of a Student t statistic with `df` degrees of freedom.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    incomplete_beta(df / (df + t * t), 0.5 * df, 0.5)
}

/// Two-sided p-value of the paired differences `d` having mean 0 (one-sample t test). With
/// every difference equal, 1 when they are 0 and 0 otherwise; NaN with fewer than two or a
/// NaN among them.
pub fn paired_p(d: &[f64]) -> f64 {
    let n = d.len();
    if n < 2 || d.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    if var == 0.0 {
        return if mean == 0.0 { 1.0 } else { 0.0 };
    }
    t_two_sided_p(mean / (var / n as f64).sqrt(), n as f64 - 1.0)
}

/// Holm's step-down adjusted p-values (same order as `p`): the `k`-th smallest is
/// `max_{j ≤ k} min(1, (m − j + 1) · p_(j))`. A NaN p-value stays NaN and counts in `m`.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut out = vec![f64::NAN; m];
    let mut running: f64 = 0.0;
    for (k, &i) in order.iter().enumerate() {
        let adj = ((m - k) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

/// The two-sample Kolmogorov–Smirnov test: the statistic `D = sup |F_a − F_b|` of the
/// empirical distribution functions and its two-sided p-value from the Kolmogorov
/// distribution with Stephens' small-sample correction, `Q((√nₑ + 0.12 + 0.11/√nₑ) D)` with
/// `nₑ = n m / (n + m)` (Numerical Recipes §14.3). NaN values are left out; `(NaN, NaN)` if
/// either sample has none left.
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> (f64, f64) {
    let sorted = |x: &[f64]| {
        let mut v: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (a, b) = (sorted(a), sorted(b));
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return (f64::NAN, f64::NAN);
    }
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < n && j < m {
        // Step past every copy of the smaller value in both samples (ties move together).
        let x = a[i].min(b[j]);
        while i < n && a[i] <= x {
            i += 1;
        }
        while j < m && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n as f64 - j as f64 / m as f64).abs());
    }
    let ne = (n * m) as f64 / (n + m) as f64;
    let lambda = (ne.sqrt() + 0.12 + 0.11 / ne.sqrt()) * d;
    (d, kolmogorov_q(lambda))
}

/// The Kolmogorov survival function `Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}` (1 at λ = 0).
pub fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 1e-3 {
        return 1.0;
    }
    let (mut sum, mut sign) = (0.0, 1.0);
    for k in 1..=100 {
        let term = sign * 2.0 * (-2.0 * (k * k) as f64 * lambda * lambda).exp();
        sum += term;
        if term.abs() < 1e-12 * sum.abs() {
            return sum.clamp(0.0, 1.0);
        }
        sign = -sign;
    }
    // Not converged (λ very small): the distribution's mass is all above.
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::t95;

    #[test]
    fn ks_statistic_and_p_values() {
        // Tabled critical values of the Kolmogorov distribution: Q(1.358) = 0.05,
        // Q(1.628) = 0.01.
        assert!((kolmogorov_q(1.358) - 0.05).abs() < 5e-4);
        assert!((kolmogorov_q(1.628) - 0.01).abs() < 2e-4);
        assert_eq!(kolmogorov_q(0.0), 1.0);
        let a: Vec<f64> = (0..30).map(|i| i as f64).collect();
        // Identical samples: D = 0, p = 1.
        assert_eq!(ks_two_sample(&a, &a), (0.0, 1.0));
        // Disjoint samples: D = 1 and a tiny p.
        let b: Vec<f64> = (100..130).map(|i| i as f64).collect();
        let (d, p) = ks_two_sample(&a, &b);
        assert_eq!(d, 1.0);
        assert!(p < 1e-10, "{p}");
        // Shifted by 10.5: the largest gap is at 29, where F_a = 1 and 19 of the 30 shifted
        // values lie below: D = 11/30, λ = (√15 + 0.12 + 0.11/√15) · 11/30 = 1.4745,
        // p ≈ 0.026.
        let c: Vec<f64> = (10..40).map(|i| i as f64 + 0.5).collect();
        let (d, p) = ks_two_sample(&a, &c);
        assert!((d - 11.0 / 30.0).abs() < 1e-12, "{d}");
        assert!((p - kolmogorov_q(1.474_5)).abs() < 1e-4, "{p}");
        assert!(p > 0.02 && p < 0.03, "{p}");
        // Ties across samples move together; NaN values are left out.
        let (d, _) = ks_two_sample(&[1.0, 1.0, 2.0, f64::NAN], &[1.0, 2.0, 2.0]);
        assert!((d - (2.0 / 3.0 - 1.0 / 3.0)).abs() < 1e-12, "{d}");
        assert!(ks_two_sample(&[f64::NAN], &a).0.is_nan());
    }

    #[test]
    fn t_p_values_match_the_tabled_quantiles() {
        for df in [1usize, 2, 5, 10, 19, 29] {
            let p = t_two_sided_p(t95(df), df as f64);
            assert!((p - 0.05).abs() < 2e-4, "df {df}: {p}");
        }
        assert!((t_two_sided_p(0.0, 10.0) - 1.0).abs() < 1e-12);
        // Normal limit: t = 1.959964 with many degrees of freedom gives 0.05.
        assert!((t_two_sided_p(1.959_964, 1e7) - 0.05).abs() < 1e-5);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn holm_adjusts_step_down() {
        let adj = holm(&[0.01, 0.04, 0.03]);
        // Sorted 0.01, 0.03, 0.04 → 0.03, 0.06, 0.06 (monotone).
        assert!((adj[0] - 0.03).abs() < 1e-12);
        assert!((adj[2] - 0.06).abs() < 1e-12);
        assert!((adj[1] - 0.06).abs() < 1e-12);
        assert_eq!(holm(&[0.5])[0], 0.5);
        assert!(holm(&[f64::NAN, 0.02])[0].is_nan());
        assert!((holm(&[f64::NAN, 0.02])[1] - 0.04).abs() < 1e-12);
    }

    #[test]
    fn paired_p_handles_constant_differences() {
        assert_eq!(paired_p(&[0.0, 0.0, 0.0]), 1.0);
        assert_eq!(paired_p(&[0.1, 0.1]), 0.0);
        assert!(paired_p(&[1.0]).is_nan());
        let p = paired_p(&[0.1, 0.3, 0.2, 0.25, 0.15]);
        assert!(p < 0.01, "{p}");
    }
}
