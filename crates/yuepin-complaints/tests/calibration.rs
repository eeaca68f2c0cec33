//! Calibration property tests: on simulated null series (Poisson and over-dispersed negative
//! binomial with φ ≤ 3, φ ≤ 1.5 below 0.5 a day; sparse to busy), every method's calibrated p-value (`Outcome::p_count`) is
//! super-uniform: P(p ≤ α) ≤ α + tolerance at α = 0.001, 0.01, 0.05 and 0.1. The classic EARS
//! normal-tail p-value is shown to fail the same check on sparse series (the reason for #18).

use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson};
use yuepin_complaints::{
    cusum, ears, farrington_flexible, pooled_scan, CusumParams, EarsMethod, EarsParams,
    FarringtonParams, Outcome, PooledParams,
};

const ALPHAS: [f64; 4] = [0.001, 0.01, 0.05, 0.1];

/// Null counts with mean `mu[t]` and dispersion `phi` (1 = Poisson; else NB via gamma mixing).
fn draw(rng: &mut ChaCha8Rng, mu: &[f64], phi: f64) -> Vec<f64> {
    mu.iter()
        .map(|&m| {
            let lambda = if phi > 1.0 {
                let shape = m / (phi - 1.0);
                Gamma::new(shape, m / shape).map_or(m, |g| g.sample(rng))
            } else {
                m
            };
            Poisson::new(lambda.max(1e-12)).map_or(0.0, |p| p.sample(rng))
        })
        .collect()
}

/// Fraction of p-values ≤ α for each α, and the count.
fn rejection_rates(p: &[f64]) -> ([f64; 4], usize) {
    let n = p.len();
    let mut r = [0.0; 4];
    for (k, a) in ALPHAS.iter().enumerate() {
        r[k] = p.iter().filter(|v| **v <= *a).count() as f64 / n.max(1) as f64;
    }
    (r, n)
}

/// α + a binomial allowance (4 sd at an effective sample of n / 4, for the overlap of windows)
/// + 10 % of α for the quasi-Poisson approximation.
fn tolerance(alpha: f64, n: usize) -> f64 {
    let n_eff = (n as f64 / 4.0).max(1.0);
    alpha * 1.1 + 4.0 * (alpha * (1.0 - alpha) / n_eff).sqrt()
}

fn check(name: &str, p: &[f64]) -> Result<(), TestCaseError> {
    let p: Vec<f64> = p.iter().copied().filter(|v| !v.is_nan()).collect();
    let (rates, n) = rejection_rates(&p);
    prop_assert!(n > 500, "{name}: only {n} p-values");
    for (k, a) in ALPHAS.iter().enumerate() {
        prop_assert!(
            rates[k] <= tolerance(*a, n),
            "{name}: P(p ≤ {a}) = {} > {} (n = {n})",
            rates[k],
            tolerance(*a, n)
        );
    }
    Ok(())
}

fn p_counts(o: &[Outcome]) -> Vec<f64> {
    o.iter().map(|o| o.p_count).collect()
}

/// Twelve cases from a fixed seed, so that CI judges the same sample every run: a statistical
/// bound checked on fresh random cases fails now and then by chance alone (240 comparisons a
/// run at about 4 sd each). Set `PROPTEST_RNG_SEED` to draw other cases; the
/// `null_rates` example measures the rates on 40,000+ series-days per cell.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(12);
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(18);
    }
    config
}

proptest! {
    #![proptest_config(config())]

    /// EARS C1–C3 and CUSUM on stationary daily nulls; the pooled scan on a series that shares
    /// its reference's seasonality and weekday pattern (its null).
    #[test]
    fn calibrated_p_values_are_super_uniform_under_the_null(
        seed in any::<u64>(),
        (level, phi) in prop_oneof![
            // sparse: Poisson or mild over-dispersion (the quasi-Poisson scaling is not a
            // good model of negative binomials with size ≪ 1, see docs/yuepin-complaints.md)
            (0.05f64..0.5, prop_oneof![Just(1.0f64), 1.0f64..1.5]),
            (0.5f64..5.0, prop_oneof![Just(1.0f64), 1.0f64..3.0]),
            (5.0f64..60.0, prop_oneof![Just(1.0f64), 1.0f64..3.0]),
        ],
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let days = 1500;
        let (mut e1, mut e2, mut e3, mut cu, mut po) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..4 {
            let flat = vec![level; days];
            let x = draw(&mut rng, &flat, phi);
            e1.extend(p_counts(&ears(&x, &EarsParams::new(EarsMethod::C1))));
            e2.extend(p_counts(&ears(&x, &EarsParams::new(EarsMethod::C2))));
            e3.extend(p_counts(&ears(&x, &EarsParams::new(EarsMethod::C3))));
            cu.extend(p_counts(&cusum(&x, &CusumParams::default())));
            // pooled: reference = 20× the series' mean, both with weekday and festival peaks
            let shape: Vec<f64> = (0..days)
                .map(|t| {
                    let wd = [1.15, 1.1, 1.05, 1.05, 1.0, 0.8, 0.75][t % 7];
                    let fest = if t % 365 < 10 { 1.8 } else { 1.0 };
                    wd * fest
                })
                .collect();
            let mu: Vec<f64> = shape.iter().map(|s| level * s).collect();
            let mu_ref: Vec<f64> = shape.iter().map(|s| 20.0 * level * s).collect();
            let xs = draw(&mut rng, &mu, phi);
            let reference = draw(&mut rng, &mu_ref, 1.0);
            let prm = PooledParams { min_count: 0.0, ..PooledParams::default() };
            po.extend(p_counts(&pooled_scan(&xs, &reference, &prm, 0)));
        }
        check("ears_c1", &e1)?;
        check("ears_c2", &e2)?;
        check("ears_c3", &e3)?;
        check("cusum", &cu)?;
        check("pooled_scan", &po)?;
    }

    /// Farrington-flexible on weekly nulls (5 years, 52 weeks a year, yearly seasonality).
    #[test]
    fn farrington_calibrated_p_values_are_super_uniform(
        seed in any::<u64>(),
        level in prop_oneof![2.0f64..10.0, 10.0f64..80.0],
        phi in prop_oneof![Just(1.0f64), 1.0f64..2.5],
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let weeks = 52 * 6;
        let prm = FarringtonParams::noufaily();
        let mut p = Vec::new();
        for _ in 0..6 {
            let mu: Vec<f64> = (0..weeks)
                .map(|w| level * (1.0 + 0.3 * (2.0 * std::f64::consts::PI * w as f64 / 52.0).sin()))
                .collect();
            let x = draw(&mut rng, &mu, phi);
            p.extend(p_counts(&farrington_flexible(&x, &prm)));
        }
        let p: Vec<f64> = p.into_iter().filter(|v| !v.is_nan()).collect();
        let (rates, n) = rejection_rates(&p);
        prop_assert!(n > 200, "only {n}");
        // fewer points: allow 5 sd at α ≥ 0.01 (α = 0.001 has too few points to test)
        for (k, a) in ALPHAS.iter().enumerate().skip(1) {
            let tol = a * 1.1 + 5.0 * (a * (1.0 - a) / (n as f64 / 2.0)).sqrt();
            prop_assert!(rates[k] <= tol, "farrington: P(p ≤ {a}) = {} > {tol} (n = {n})", rates[k]);
        }
    }
}

/// Why #18 exists: on a sparse series the classic EARS normal-tail p-value rejects far more
/// often than α, while the calibrated one does not.
#[test]
fn classic_ears_p_values_are_not_calibrated_on_sparse_counts() {
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    let x = draw(&mut rng, &vec![0.3; 5000], 1.0);
    let prm = EarsParams {
        min_sigma: 0.5,
        ..EarsParams::new(EarsMethod::C2)
    };
    let out = ears(&x, &prm);
    let classic: Vec<f64> = out.iter().map(|o| o.p_value).collect();
    let (rates, _) = rejection_rates(&classic);
    assert!(rates[0] > 0.01, "classic P(p ≤ 0.001) = {}", rates[0]);
    let (cal, _) = rejection_rates(&p_counts(&out));
    assert!(cal[0] <= 0.001 && cal[2] <= 0.05, "{cal:?}");
}
