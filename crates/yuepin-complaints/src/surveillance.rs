//! Shared pieces of the surge detectors: the per-time-point [`Outcome`], the Poisson CUSUM
//! (Lucas 1985), Benjamini–Hochberg FDR control, and day-of-week adjustment of daily series.

use crate::calibrate::window_p;
use crate::stats::pois_sf_at_least;
use serde::{Deserialize, Serialize};

/// What a detector says about one time point of one series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SurveillanceOutcome))]
pub struct Outcome {
    /// 0-based position in the series.
    pub index: usize,
    pub observed: f64,
    /// Baseline expectation (EARS: baseline mean; Farrington: exp(η₀); CUSUM: in-control mean).
    pub expected: f64,
    /// Alarm threshold (R's `upperbound`); NaN where the method gives none.
    pub upperbound: f64,
    /// `observed > upperbound` (never true when the threshold is NaN).
    pub alarm: bool,
    /// One-sided p-value of the observation under the method's classic model, as R reports or
    /// implies it (EARS: normal tail; CUSUM: Poisson tail at m₀; Farrington: NB plug-in tail).
    /// Kept for fidelity; it is not calibrated for sparse counts.
    pub p_value: f64,
    /// Calibrated p-value for counts (see [`crate::calibrate`]): under the null P(p ≤ α) ≤ α.
    /// This is the p-value BH and the reported evidence use. NaN if undefined.
    #[serde(default = "nan")]
    pub p_count: f64,
    /// Days summed into `observed` / `expected` / `upperbound` (1 unless a window scan).
    #[serde(default = "one")]
    pub window: u8,
}

fn nan() -> f64 {
    f64::NAN
}
fn one() -> u8 {
    1
}

impl Outcome {
    pub(crate) fn new(
        index: usize,
        observed: f64,
        expected: f64,
        upperbound: f64,
        p_value: f64,
    ) -> Self {
        Self {
            index,
            observed,
            expected,
            upperbound,
            alarm: observed > upperbound,
            p_value,
            p_count: f64::NAN,
            window: 1,
        }
    }
}

/// Poisson CUSUM (Lucas 1985) with a moving in-control mean.
///
/// The in-control mean m₀ at t is the mean of `baseline` values ending `guard` periods before t
/// (floored at `min_mean` so that sparse series do not alarm on a single case). The reference
/// value is k = (m₁ − m₀)/(ln m₁ − ln m₀) with m₁ = `shift`·m₀, the statistic
/// S_t = max(0, S_{t−1} + x_t − k), an alarm is raised when S_t > h, and S is reset to 0 after an
/// alarm. The upperbound reported is the count that would have raised an alarm: h + k − S_{t−1}.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CusumParams {
    pub baseline: usize,
    pub guard: usize,
    /// Out-of-control multiple of the mean to detect quickly (default 2: a doubling).
    pub shift: f64,
    /// Decision interval h, in units of counts (default 4).
    pub h: f64,
    pub min_mean: f64,
    /// Run on day-of-week adjusted counts inside `detect_all`.
    pub weekday_adjust: bool,
    /// No alarm unless the day's count is at least this.
    pub min_count: f64,
}

impl Default for CusumParams {
    fn default() -> Self {
        Self {
            baseline: 28,
            guard: 7,
            shift: 2.0,
            h: 4.0,
            min_mean: 0.5,
            weekday_adjust: true,
            min_count: 0.0,
        }
    }
}

pub fn cusum(observed: &[f64], prm: &CusumParams) -> Vec<Outcome> {
    let first = prm.baseline + prm.guard;
    let mut out = Vec::with_capacity(observed.len().saturating_sub(first));
    if prm.baseline == 0 || !(prm.shift > 1.0) || observed.len() <= first {
        return out;
    }
    let mut window: f64 = observed[..prm.baseline].iter().sum();
    let mut s = 0.0;
    for (t, &x) in observed.iter().enumerate().skip(first) {
        // window covers [t - guard - baseline, t - guard)
        if t > first {
            window += observed[t - prm.guard - 1] - observed[t - prm.guard - 1 - prm.baseline];
        }
        let m0 = (window / prm.baseline as f64).max(prm.min_mean);
        let m1 = prm.shift * m0;
        let k = (m1 - m0) / (m1.ln() - m0.ln());
        let upper = prm.h + k - s;
        let next = (s + x - k).max(0.0);
        let mut o = Outcome::new(t, x, m0, upper, pois_sf_at_least(x, m0));
        o.p_count = window_p(observed, None, t..t + 1, t - first..t - prm.guard);
        o.alarm = next > prm.h && x >= prm.min_count;
        s = if o.alarm { 0.0 } else { next };
        out.push(o);
    }
    out
}

/// Benjamini–Hochberg step-up: returns the BH-adjusted p-values (q-values) in input order.
/// NaN p-values are treated as 1 and count towards m.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    let clean = |p: f64| if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) };
    order.sort_by(|&a, &b| clean(p_values[a]).total_cmp(&clean(p_values[b])));
    let mut q = vec![1.0; m];
    let mut running = 1.0_f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adjusted = clean(p_values[i]) * m as f64 / (rank + 1) as f64;
        running = running.min(adjusted);
        q[i] = running;
    }
    q
}

/// Which hypotheses BH rejects at level `fdr`.
pub fn bh_reject(p_values: &[f64], fdr: f64) -> Vec<bool> {
    benjamini_hochberg(p_values)
        .into_iter()
        .map(|q| q <= fdr)
        .collect()
}

/// Multiplicative day-of-week factors f_d (mean 1 over the week), estimated from a reference
/// daily series (normally the province-wide total) over the `weeks` full weeks before `t`.
/// `weekday_of_index0` is the weekday (0 = Monday) of index 0.
pub fn weekday_factors(
    reference: &[f64],
    t: usize,
    weeks: usize,
    weekday_of_index0: usize,
) -> [f64; 7] {
    let mut sums = [0.0; 7];
    let start = t.saturating_sub(weeks * 7);
    for (i, v) in reference.iter().enumerate().take(t).skip(start) {
        sums[(i + weekday_of_index0) % 7] += v;
    }
    let total: f64 = sums.iter().sum();
    if total <= 0.0 || t - start < 7 {
        return [1.0; 7];
    }
    let mut f = [1.0; 7];
    for d in 0..7 {
        f[d] = (sums[d] * 7.0 / total).max(0.05);
    }
    f
}

/// Divides each day's count by its weekday factor, with factors re-estimated every 7 days from
/// the trailing `weeks` weeks of `reference` (so no future data is used).
pub fn adjust_day_of_week(
    series: &[f64],
    reference: &[f64],
    weeks: usize,
    weekday_of_index0: usize,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(series.len());
    let mut factors = [1.0; 7];
    for (t, &x) in series.iter().enumerate() {
        if t % 7 == 0 {
            factors = weekday_factors(reference, t, weeks, weekday_of_index0);
        }
        out.push(x / factors[(t + weekday_of_index0) % 7]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bh_matches_r_p_adjust() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.5), "BH") = 0.025 0.05 0.05 0.025 0.5
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005, 0.5]);
        let want = [0.025, 0.05, 0.05, 0.025, 0.5];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        assert_eq!(bh_reject(&[0.01, f64::NAN], 0.05), vec![true, false]);
    }

    #[test]
    fn cusum_detects_level_shift() {
        let mut x = vec![3.0; 60];
        for v in &mut x[50..] {
            *v = 9.0;
        }
        let out = cusum(&x, &CusumParams::default());
        assert!(out.iter().filter(|o| o.index < 50).all(|o| !o.alarm));
        assert!(out.iter().any(|o| o.index >= 50 && o.alarm));
    }

    #[test]
    fn weekday_adjustment_flattens_weekly_pattern() {
        let pattern = [10.0, 10.0, 10.0, 10.0, 10.0, 4.0, 2.0];
        let x: Vec<f64> = (0..70).map(|i| pattern[i % 7]).collect();
        let adj = adjust_day_of_week(&x, &x, 4, 0);
        let tail = &adj[35..];
        let (lo, hi) = tail
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        assert!((hi - lo).abs() < 1e-9, "{tail:?}");
    }
}
