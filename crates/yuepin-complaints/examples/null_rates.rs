//! False-alarm rates of the pooled ratio scan on simulated nulls, by level and dispersion: the
//! fraction of series-days whose combined p-value is ≤ α, for α = 0.001, 0.01, 0.05 and 0.1
//! (a calibrated detector stays at or below α). The same null as `tests/calibration.rs`
//! (negative binomial counts with variance φ·μ, weekday and festival peaks shared with a
//! reference of 20× the series' mean), with many more series-days.
//!
//! `cargo run --release -p yuepin-complaints --example null_rates -- [series per cell]`

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson};
use yuepin_complaints::{pooled_scan, PooledParams};

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

fn main() {
    let per_cell: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let days = 1500;
    let alphas = [0.001, 0.01, 0.05, 0.1];
    let shape: Vec<f64> = (0..days)
        .map(|t| {
            let wd = [1.15, 1.1, 1.05, 1.05, 1.0, 0.8, 0.75][t % 7];
            let fest = if t % 365 < 10 { 1.8 } else { 1.0 };
            wd * fest
        })
        .collect();
    let prm = PooledParams {
        min_count: 0.0,
        ..PooledParams::default()
    };
    println!("level  phi   n_days   P(p≤0.001) P(p≤0.01) P(p≤0.05) P(p≤0.1)");
    for level in [0.1, 0.3, 1.0, 2.7, 5.0, 20.0, 60.0] {
        for phi in [1.0, 1.5, 2.0, 2.8, 3.0] {
            let mut rng =
                ChaCha8Rng::seed_from_u64(7 + (level * 100.0) as u64 + (phi * 10.0) as u64);
            let mut hits = [0usize; 4];
            let mut n = 0usize;
            for _ in 0..per_cell {
                let mu: Vec<f64> = shape.iter().map(|s| level * s).collect();
                let mu_ref: Vec<f64> = shape.iter().map(|s| 20.0 * level * s).collect();
                let xs = draw(&mut rng, &mu, phi);
                let reference = draw(&mut rng, &mu_ref, 1.0);
                for o in pooled_scan(&xs, &reference, &prm, 0) {
                    if o.p_count.is_nan() {
                        continue;
                    }
                    n += 1;
                    for (k, a) in alphas.iter().enumerate() {
                        if o.p_count <= *a {
                            hits[k] += 1;
                        }
                    }
                }
            }
            let r: Vec<String> = hits
                .iter()
                .map(|h| format!("{:.5}", *h as f64 / n.max(1) as f64))
                .collect();
            println!("{level:<6} {phi:<5} {n:<8} {}", r.join("    "));
        }
    }
}
