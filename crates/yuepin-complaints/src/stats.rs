//! Distribution functions the detectors need, matching R's `qnorm`, `qnbinom`, `qpois`,
//! `pnbinom`, `ppois` and `pt` semantics (quantile = smallest x with CDF ≥ p). Built on the
//! special functions of `statrs` (regularised incomplete beta/gamma, normal, Student t).

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use statrs::function::beta::checked_beta_reg;
use statrs::function::gamma::{checked_gamma_lr, checked_gamma_ur, ln_gamma};

// statrs' unchecked special functions panic outside their domain; these wrappers return NaN.
fn beta_reg(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    checked_beta_reg(a, b, x).unwrap_or(f64::NAN)
}
fn gamma_ur(a: f64, x: f64) -> f64 {
    checked_gamma_ur(a, x).unwrap_or(f64::NAN)
}
fn gamma_lr(a: f64, x: f64) -> f64 {
    checked_gamma_lr(a, x).unwrap_or(f64::NAN)
}

/// Standard normal quantile (R `qnorm`).
pub fn normal_quantile(p: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// Upper tail of the standard normal, P(Z > z); NaN stays NaN.
pub fn normal_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.sf(z),
        Err(_) => f64::NAN,
    }
}

/// Two-sided Student-t p-value 2·P(T > |t|) with `df` degrees of freedom (R `2*pt(-|t|, df)`).
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() || df <= 0.0 {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => 2.0 * d.cdf(-t.abs()),
        Err(_) => f64::NAN,
    }
}

/// P(X ≤ x) for the negative binomial with R's (size, prob) parametrisation.
pub fn nbinom_cdf(x: f64, size: f64, prob: f64) -> f64 {
    if x.is_nan() || !(size > 0.0) {
        return f64::NAN;
    }
    if x < 0.0 {
        return 0.0;
    }
    let x = x.floor();
    beta_reg(size, x + 1.0, prob)
}

/// P(X ≥ y) = `pnbinom(y - 1, size, prob, lower.tail = FALSE)`.
pub fn nbinom_sf_at_least(y: f64, size: f64, prob: f64) -> f64 {
    if y.is_nan() {
        return f64::NAN;
    }
    if y.floor() <= 0.0 {
        return 1.0;
    }
    // 1 - I_prob(size, y) = I_{1-prob}(y, size), computed directly to keep tail precision.
    beta_reg(y.floor(), size, 1.0 - prob)
}

/// P(X ≥ k) for X ~ Binomial(k + rest, p), i.e. I_p(k, rest + 1), in the continuous form that
/// also accepts non-integer `k` and `rest` (quasi-Poisson scaled counts). 1 if k ≤ 0.
pub fn binom_sf_at_least_cont(k: f64, rest: f64, p: f64) -> f64 {
    if k.is_nan() || rest.is_nan() || p.is_nan() {
        return f64::NAN;
    }
    if k <= 0.0 {
        return 1.0;
    }
    beta_reg(k, rest.max(0.0) + 1.0, p)
}

/// P(X ≥ x) for X ~ BetaBinomial(n, a, b), by summing the point probabilities from `x` away
/// from the mode (or 1 − the lower tail when `x` is below the mean), so the far upper tail keeps
/// its relative precision. `x` and `n` are rounded down to whole counts; NaN outside the domain.
///
/// This is the exact conditional law of X given X + S = n when X and S are independent negative
/// binomials with a common probability (quasi-Poisson counts with dispersion φ: size = μ/(φ−1)).
pub fn betabinom_sf_at_least(x: f64, n: f64, a: f64, b: f64) -> f64 {
    if x.is_nan() || n.is_nan() || !(a > 0.0) || !(b > 0.0) || n < 0.0 {
        return f64::NAN;
    }
    let (x, n) = (x.floor(), n.floor());
    if x <= 0.0 {
        return 1.0;
    }
    if x > n {
        return 0.0;
    }
    let ln_pmf = |k: f64| ln_choose(n, k) + ln_beta(k + a, n - k + b) - ln_beta(a, b);
    // pmf(k+1) / pmf(k) = (n − k)(k + a) / ((k + 1)(n − k − 1 + b))
    let ratio_up = |k: f64| (n - k) * (k + a) / ((k + 1.0) * (n - k - 1.0 + b));
    let mean = n * a / (a + b);
    if x >= mean {
        let mut term = ln_pmf(x).exp();
        let mut sum = term;
        let mut k = x;
        while k < n && term > sum * 1e-17 {
            term *= ratio_up(k);
            sum += term;
            k += 1.0;
        }
        sum.min(1.0)
    } else {
        let mut k = x - 1.0;
        let mut term = ln_pmf(k).exp();
        let mut lower = term;
        while k > 0.0 && term > lower * 1e-17 {
            term /= ratio_up(k - 1.0);
            lower += term;
            k -= 1.0;
        }
        (1.0 - lower).clamp(0.0, 1.0)
    }
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

fn ln_choose(n: f64, k: f64) -> f64 {
    ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
}

/// P(X ≤ x) for Poisson(mu).
pub fn pois_cdf(x: f64, mu: f64) -> f64 {
    if x.is_nan() || mu.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 0.0;
    }
    if mu <= 0.0 {
        return 1.0;
    }
    gamma_ur(x.floor() + 1.0, mu)
}

/// P(X ≥ y) for Poisson(mu) = `ppois(y - 1, mu, lower.tail = FALSE)`.
pub fn pois_sf_at_least(y: f64, mu: f64) -> f64 {
    if y.is_nan() || mu.is_nan() {
        return f64::NAN;
    }
    if y.floor() <= 0.0 {
        return 1.0;
    }
    if mu <= 0.0 {
        return 0.0;
    }
    gamma_lr(y.floor(), mu)
}

/// Smallest integer x ≥ 0 with `cdf(x) ≥ p`, using R's fuzz `p·(1 − 64ε)`. `guess` seeds the
/// search; exponential bracketing then bisection keeps it O(log) in the answer.
fn discrete_quantile(p: f64, guess: f64, cdf: impl Fn(f64) -> f64) -> f64 {
    if p.is_nan() {
        return f64::NAN;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let target = p * (1.0 - 64.0 * f64::EPSILON);
    if cdf(0.0).is_nan() {
        return f64::NAN;
    }
    let mut lo = 0.0_f64; // invariant: answer ≥ lo
    let mut hi = guess.max(1.0).floor();
    if cdf(0.0) >= target {
        return 0.0;
    }
    while !(cdf(hi) >= target) {
        lo = hi;
        hi *= 2.0;
        if hi > 1e15 {
            return f64::INFINITY;
        }
    }
    // now cdf(hi) ≥ target and cdf(lo) < target (lo = 0 checked above)
    while hi - lo > 1.0 {
        let mid = ((lo + hi) / 2.0).floor();
        if cdf(mid) >= target || cdf(mid).is_nan() {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// R `qnbinom(p, size, prob)`.
pub fn nbinom_quantile(p: f64, size: f64, prob: f64) -> f64 {
    if !(size > 0.0 && prob > 0.0 && prob <= 1.0) {
        return f64::NAN;
    }
    let mean = size * (1.0 - prob) / prob;
    let sd = (mean / prob).sqrt();
    discrete_quantile(p, mean + 3.0 * sd, |x| nbinom_cdf(x, size, prob))
}

/// R `qpois(p, mu)`.
pub fn pois_quantile(p: f64, mu: f64) -> f64 {
    if !(mu >= 0.0) {
        return f64::NAN;
    }
    if mu == 0.0 {
        return 0.0;
    }
    discrete_quantile(p, mu + 3.0 * mu.sqrt(), |x| pois_cdf(x, mu))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_binomial_tail_matches_direct_sums_and_tends_to_the_binomial() {
        // Direct sum of the point probabilities, from the Beta functions.
        let direct = |x: u32, n: u32, a: f64, b: f64| -> f64 {
            (x..=n)
                .map(|k| {
                    let (k, n) = (f64::from(k), f64::from(n));
                    (ln_choose(n, k) + ln_beta(k + a, n - k + b) - ln_beta(a, b)).exp()
                })
                .sum()
        };
        for (n, a, b) in [
            (10, 0.5, 4.5),
            (40, 2.0, 30.0),
            (7, 0.05, 0.9),
            (200, 13.0, 170.0),
        ] {
            for x in 0..=n {
                let got = betabinom_sf_at_least(f64::from(x), f64::from(n), a, b);
                let want = direct(x, n, a, b).min(1.0);
                assert!(
                    (got - want).abs() <= 1e-9 * want.max(1e-300) + 1e-13,
                    "{n} {a} {b} {x}: {got} vs {want}"
                );
            }
        }
        // a, b → ∞ with a/(a+b) = p fixed: the binomial tail.
        let p = binom_sf_at_least_cont(9.0, 21.0, 0.1);
        let bb = betabinom_sf_at_least(9.0, 30.0, 0.1e7, 0.9e7);
        assert!((bb / p - 1.0).abs() < 1e-3, "{bb} vs {p}");
        assert!(betabinom_sf_at_least(31.0, 30.0, 1.0, 1.0) == 0.0);
        assert!(betabinom_sf_at_least(3.0, 30.0, 0.0, 1.0).is_nan());
    }

    #[test]
    fn matches_r_reference_values() {
        // Values printed by R 4.2: qnbinom(0.95, 5, 0.4) = 16; qpois(0.95, 3.2) = 6;
        // pnbinom(9, 5, 0.4, lower=FALSE) = 0.2792569872; ppois(5, 3.2, lower=FALSE) = 0.1054081055
        assert_eq!(nbinom_quantile(0.95, 5.0, 0.4), 16.0);
        assert_eq!(pois_quantile(0.95, 3.2), 6.0);
        assert!((nbinom_sf_at_least(10.0, 5.0, 0.4) - 0.2792569872).abs() < 1e-6);
        assert!((pois_sf_at_least(6.0, 3.2) - 0.1054081055).abs() < 1e-6);
        assert!((normal_quantile(0.999) - 3.090232).abs() < 1e-6);
        // out-of-domain input never panics
        assert_eq!(pois_sf_at_least(0.4, 2.0), 1.0);
        assert!(nbinom_quantile(0.95, f64::NAN, 0.5).is_nan());
        assert!(
            pois_sf_at_least(3.0, f64::INFINITY).is_nan()
                || pois_sf_at_least(3.0, f64::INFINITY) >= 0.0
        );
    }
}
