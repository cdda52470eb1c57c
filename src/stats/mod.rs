//! Pure statistics shared by every front end: means with 95% intervals, differences between
//! scenarios, Kaplan–Meier survival, global sensitivity (Sobol and Morris), approximate Bayesian
//! computation (ABC-SMC). No I/O and no knowledge of the model.

pub mod abc;
pub mod sensitivity;
pub mod survival;
pub mod testing;

/// Mean, and half-width of a 95% confidence interval (Student t) of `xs`.
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    if xs.iter().any(|x| x.is_nan()) {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    if n == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if n < 2.0 {
        return (mean, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, t95(n as usize - 1) * (var / n).sqrt())
}

/// Two-sided 95% Student-t quantile for `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if df == 0 {
        f64::NAN
    } else if df <= 30 {
        T[df - 1]
    } else {
        1.96 + 2.5 / df as f64
    }
}

/// Standard error of the mean of `xs` (NaN with fewer than two values).
pub fn se(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt()
}

/// Mean of `b − a` and the half-width of its paired 95% interval: Student t on the
/// differences `b[i] − a[i]` of paired observations (common random numbers: the same seed
/// for replicate `i` of both arms). NaN if the lengths differ or a value is NaN.
pub fn paired_diff_ci(a: &[f64], b: &[f64]) -> (f64, f64) {
    if a.len() != b.len() {
        return (f64::NAN, f64::NAN);
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    mean_ci(&d)
}

/// Mean of `b − a` and the half-width of the unpaired 95% interval (Welch, with
/// Welch–Satterthwaite degrees of freedom).
pub fn welch_diff_ci(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (ma, _) = mean_ci(a);
    let (mb, _) = mean_ci(b);
    let sa = se(a);
    let sb = se(b);
    let se_d = (sa * sa + sb * sb).sqrt();
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let num = (sa * sa + sb * sb).powi(2);
    let den = sa.powi(4) / (na - 1.0).max(1.0) + sb.powi(4) / (nb - 1.0).max(1.0);
    let df = if den > 0.0 {
        (num / den).floor().max(1.0) as usize
    } else {
        (a.len() + b.len()).saturating_sub(2).max(1)
    };
    (mb - ma, t95(df) * se_d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_of_constant_is_zero_and_grows_with_spread() {
        let (m, h) = mean_ci(&[2.0, 2.0, 2.0]);
        assert_eq!((m, h), (2.0, 0.0));
        let (_, h1) = mean_ci(&[1.0, 2.0, 3.0]);
        let (_, h2) = mean_ci(&[0.0, 2.0, 4.0]);
        assert!(h2 > h1 && h1 > 0.0);
    }

    #[test]
    fn pairing_removes_the_common_noise() {
        // B = A + 1 plus small noise; A itself varies a lot between replicates.
        let a = [10.0, 20.0, 30.0, 40.0, 50.0];
        let b = [11.1, 20.9, 31.0, 41.05, 50.95];
        let (d, hp) = paired_diff_ci(&a, &b);
        let (dw, hw) = welch_diff_ci(&a, &b);
        assert!((d - 1.0).abs() < 1e-9 && (dw - d).abs() < 1e-12);
        assert!(hp < 0.2, "paired half-width {hp}");
        assert!(hw > 10.0, "Welch half-width {hw}");
        assert!(paired_diff_ci(&a, &b[..4]).0.is_nan());
    }
}
