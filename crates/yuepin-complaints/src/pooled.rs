//! The default detector: a pooled ratio scan. Each series (say 深圳 × 家用电器) is compared with
//! its reference — the same division (or category, or total) in all *other* cities — so
//! everything the province shares (weekday pattern, 3·15, 618, 双11, Spring Festival, summer
//! air-conditioners, long-term trend) cancels out without being modelled. Under the null the
//! series' share of series + reference is stable, and the exact conditional test of
//! [`crate::calibrate`] applies with the reference counts as exposures:
//!
//! for each window length k in `windows` (evidence over consecutive days), the sum X of the
//! last k days is tested against the sum S over `baseline` days that end `guard` days before
//! the window starts: X | X + S ~ Bin(X + S, R_now / (R_now + R_base)), with a quasi-Poisson
//! dispersion φ ≥ 1 estimated from the baseline days. The K window p-values are combined by
//! Bonferroni (p = min(1, K · min_k p_k)), so the combined p is still super-uniform, and the
//! alarm rule `p ≤ alpha` has an honest error rate: at most `alpha` false alarms per
//! series-day under the null. A window alarms only if X ≥ `min_count` (ESSENCE-style minimum).

use crate::calibrate::{conditional_p_counts, pearson_dispersion};
use crate::surveillance::Outcome;
use serde::{Deserialize, Serialize};

/// Parameters of [`pooled_scan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PooledParams {
    /// Baseline days (taken as many as exist, at least `min_baseline`).
    pub baseline: usize,
    pub min_baseline: usize,
    /// Days between the baseline and the tested window (keeps a rising outbreak out of it).
    pub guard: usize,
    /// Window lengths scanned, in days.
    pub windows: Vec<usize>,
    /// Per series-day false-alarm bound (the alarm rule is combined p ≤ alpha).
    pub alpha: f64,
    /// Minimum complaints in the window for an alarm.
    pub min_count: f64,
    /// Cap on the estimated dispersion φ.
    pub max_dispersion: f64,
}

impl Default for PooledParams {
    fn default() -> Self {
        Self {
            baseline: 84,
            min_baseline: 28,
            guard: 7,
            windows: vec![1, 3, 7],
            alpha: 0.001,
            min_count: 3.0,
            max_dispersion: 10.0,
        }
    }
}

fn prefix(v: &[f64]) -> Vec<f64> {
    let mut p = Vec::with_capacity(v.len() + 1);
    p.push(0.0);
    let mut acc = 0.0;
    for x in v {
        acc += x;
        p.push(acc);
    }
    p
}

/// Scans `series` against `reference` (same length) for every t ≥ `from`. Each [`Outcome`]
/// refers to day t; `observed`, `expected` and `upperbound` are the sums over the winning
/// window (`window` days ending at t), `p_count` and `p_value` the combined p-value;
/// `upperbound` is NaN where the combined p-value is ≥ 0.05.
pub fn pooled_scan(
    series: &[f64],
    reference: &[f64],
    prm: &PooledParams,
    from: usize,
) -> Vec<Outcome> {
    let n = series.len().min(reference.len());
    let kmax = prm.windows.iter().copied().max().unwrap_or(1).max(1);
    let first = (prm.min_baseline + prm.guard + kmax - 1).max(from);
    let mut out = Vec::new();
    if n <= first || prm.windows.is_empty() {
        return out;
    }
    let px = prefix(&series[..n]);
    let pr = prefix(&reference[..n]);
    let n_windows = prm.windows.len() as f64;
    for t in first..n {
        let mut best: Option<(f64, usize, f64, f64, f64, f64, f64)> = None;
        for &k in &prm.windows {
            let k = k.max(1);
            let now_lo = t + 1 - k;
            let base_hi = now_lo - prm.guard;
            let base_lo = base_hi.saturating_sub(prm.baseline);
            let x = px[t + 1] - px[now_lo];
            let r_now = pr[t + 1] - pr[now_lo];
            let s = px[base_hi] - px[base_lo];
            let r_base = pr[base_hi] - pr[base_lo];
            if !(r_now > 0.0 && r_base > 0.0) {
                continue;
            }
            let phi = pearson_dispersion(
                &series[base_lo..base_hi],
                &reference[base_lo..base_hi],
                prm.max_dispersion,
            );
            let p = if x >= prm.min_count {
                conditional_p_counts(x, s, r_now, r_base, phi)
            } else {
                1.0
            };
            if best.is_none_or(|b| p < b.0) {
                best = Some((p, k, x, s, r_now, r_base, phi));
            }
        }
        let Some((p, k, x, s, r_now, r_base, phi)) = best else {
            continue;
        };
        let combined = (p * n_windows).min(1.0);
        let expected = s * r_now / r_base;
        let alarm = combined <= prm.alpha;
        // Threshold of the winning window: smallest X with combined p ≤ alpha (and ≥ min_count),
        // computed only where it is of interest (combined p < 0.05) to keep the scan cheap.
        let upper = if combined < 0.05 {
            threshold(s, r_now, r_base, phi, prm.alpha / n_windows).max(prm.min_count)
        } else {
            f64::NAN
        };
        out.push(Outcome {
            index: t,
            observed: x,
            expected,
            upperbound: upper,
            alarm,
            p_value: combined,
            p_count: combined,
            window: k.min(255) as u8,
        });
    }
    out
}

/// Smallest integer x with P(X ≥ x | X + s) ≤ level under the window's null (the same test as
/// the p-value).
fn threshold(s: f64, r_now: f64, r_base: f64, phi: f64, level: f64) -> f64 {
    let p_at = |x: f64| conditional_p_counts(x, s, r_now, r_base, phi);
    let prob = r_now / (r_now + r_base);
    let mut hi = (s * prob / (1.0 - prob)).ceil().max(1.0);
    while p_at(hi) > level {
        hi *= 2.0;
        if hi > 1e9 {
            return f64::INFINITY;
        }
    }
    let mut lo = 0.0;
    while hi - lo > 1.0 {
        let mid = ((lo + hi) / 2.0).floor();
        if p_at(mid) <= level {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_peaks_cancel_and_local_surges_alarm() {
        // reference doubles on "festival" days; the series follows it: no alarm
        let reference: Vec<f64> = (0..200)
            .map(|t| if t % 50 < 5 { 200.0 } else { 100.0 })
            .collect();
        let mut series: Vec<f64> = reference.iter().map(|r| r / 10.0).collect();
        let quiet = pooled_scan(&series, &reference, &PooledParams::default(), 0);
        assert!(!quiet.is_empty());
        assert!(quiet.iter().all(|o| !o.alarm));
        // a local tripling for 5 days alarms within two days
        for v in &mut series[180..185] {
            *v *= 3.0;
        }
        let out = pooled_scan(&series, &reference, &PooledParams::default(), 0);
        let first = out.iter().find(|o| o.alarm).map(|o| o.index);
        assert!(matches!(first, Some(180..=181)), "{first:?}");
        let o = out.iter().find(|o| o.index == 180).unwrap();
        assert!(o.alarm && o.observed >= o.upperbound, "{o:?}");
    }

    #[test]
    fn short_series_and_zero_reference_are_skipped() {
        assert!(pooled_scan(&[1.0; 10], &[5.0; 10], &PooledParams::default(), 0).is_empty());
        let out = pooled_scan(&[1.0; 100], &[0.0; 100], &PooledParams::default(), 0);
        assert!(out.is_empty());
    }
}
