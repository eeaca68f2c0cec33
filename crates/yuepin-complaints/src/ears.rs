//! EARS C1, C2 and C3 exactly as `surveillance::earsC` (R package surveillance 1.20) computes
//! them: C1 uses the 7 values before t, C2 the 7 values before a 2-day guard band, C3 adds the
//! positive parts of the two previous C2 statistics (each minus 1) to today's. `min_sigma` floors
//! the baseline standard deviation so that sparse (all-zero) baselines still give a threshold.

use crate::calibrate::window_p;
use crate::stats::{normal_quantile, normal_sf};
use crate::surveillance::Outcome;

/// Which EARS variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EarsMethod {
    C1,
    C2,
    C3,
}

/// Parameters of `earsC`; [`EarsParams::new`] gives the package defaults for a method.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EarsParams {
    pub method: EarsMethod,
    /// Number of baseline days (≥ 3; default 7).
    pub baseline: usize,
    /// Floor for the baseline standard deviation (`minSigma`, default 0).
    pub min_sigma: f64,
    /// Significance level: 0.001 for C1/C2, 0.025 for C3 (package defaults).
    pub alpha: f64,
    /// Run on day-of-week adjusted counts inside `detect_all` (ignored by [`ears`] itself).
    pub weekday_adjust: bool,
    /// No alarm unless the day's count is at least this (0 = R's behaviour).
    pub min_count: f64,
}

impl EarsParams {
    pub fn new(method: EarsMethod) -> Self {
        Self {
            method,
            baseline: 7,
            min_sigma: 0.0,
            alpha: match method {
                EarsMethod::C3 => 0.025,
                _ => 0.001,
            },
            weekday_adjust: true,
            min_count: 0.0,
        }
    }
    /// The first (0-based) time index that gets a result: `earsC`'s default range start.
    pub fn first_index(&self) -> usize {
        match self.method {
            EarsMethod::C1 => self.baseline,
            EarsMethod::C2 => self.baseline + 2,
            EarsMethod::C3 => self.baseline + 4,
        }
    }
}

/// Mean and sample standard deviation (n − 1, as R's `sd`) of a slice.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>();
    (mean, (ss / (n - 1.0)).sqrt())
}

/// Baseline (mean, floored sd) for time `t` with the given lag of the most recent value used.
fn baseline_at(
    observed: &[f64],
    t: usize,
    baseline: usize,
    nearest_lag: usize,
    min_sigma: f64,
) -> (f64, f64) {
    let end = t + 1 - nearest_lag; // exclusive
    let (mean, sd) = mean_sd(&observed[end - baseline..end]);
    (mean, sd.max(min_sigma))
}

/// Runs EARS on one series. Returns one [`Outcome`] per time index from
/// [`EarsParams::first_index`] to the end (empty if the series is too short or `baseline < 3`).
/// Like R, a zero baseline sd with `min_sigma = 0` gives an infinite/NaN statistic; the alarm is
/// then `false` where R reports `NA`.
pub fn ears(observed: &[f64], params: &EarsParams) -> Vec<Outcome> {
    let first = params.first_index();
    if params.baseline < 3 || observed.len() <= first || !(params.min_sigma >= 0.0) {
        return Vec::new();
    }
    let z_alpha = normal_quantile(1.0 - params.alpha);
    let b = params.baseline;
    let ms = params.min_sigma;
    let mut out = Vec::with_capacity(observed.len() - first);
    match params.method {
        EarsMethod::C1 | EarsMethod::C2 => {
            let lag = if params.method == EarsMethod::C1 {
                1
            } else {
                3
            };
            for (t, &x) in observed.iter().enumerate().skip(first) {
                let (mean, sd) = baseline_at(observed, t, b, lag, ms);
                let upper = mean + z_alpha * sd;
                let z = (x - mean) / sd;
                let mut o = Outcome::new(t, x, mean, upper, normal_sf(z));
                o.alarm &= x >= params.min_count;
                // calibrated: today's count against the same baseline days, conditionally
                o.p_count = window_p(observed, None, t..t + 1, t + 1 - lag - b..t + 1 - lag);
                out.push(o);
            }
        }
        EarsMethod::C3 => {
            let c2 = |t: usize| {
                let (mean, sd) = baseline_at(observed, t, b, 3, ms);
                ((observed[t] - mean) / sd, mean, sd)
            };
            for (t, &x) in observed.iter().enumerate().skip(first) {
                let lag2 = fmax0(c2(t - 2).0 - 1.0);
                let lag1 = fmax0(c2(t - 1).0 - 1.0);
                let (z, mean, sd) = c2(t);
                // R: pmax(0, x + sd * (zAlpha - (lag2 + lag1)))
                let upper = fmax0(x + sd * (z_alpha - (lag2 + lag1)));
                // The C3 statistic exceeds its cut-off iff z + lag1 + lag2 > zAlpha; we report
                // the normal tail of that sum as an (approximate) p-value for FDR ranking.
                let mut o = Outcome::new(t, x, mean, upper, normal_sf(z + lag1 + lag2));
                o.alarm &= x >= params.min_count;
                // calibrated: the 3-day sum C3 accumulates, against the 7 days before the
                // guard band of its first day
                o.p_count = window_p(observed, None, t - 2..t + 1, t - 4 - b..t - 4);
                out.push(o);
            }
        }
    }
    out
}

/// `pmax(0, v)` keeping NaN as NaN like R does.
fn fmax0(v: f64) -> f64 {
    if v.is_nan() {
        v
    } else {
        v.max(0.0)
    }
}

pub fn ears_c1(observed: &[f64]) -> Vec<Outcome> {
    ears(observed, &EarsParams::new(EarsMethod::C1))
}
pub fn ears_c2(observed: &[f64]) -> Vec<Outcome> {
    ears(observed, &EarsParams::new(EarsMethod::C2))
}
pub fn ears_c3(observed: &[f64]) -> Vec<Outcome> {
    ears(observed, &EarsParams::new(EarsMethod::C3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c1_on_flat_series_with_spike() {
        let mut x = vec![2.0, 3.0, 2.0, 3.0, 2.0, 3.0, 2.0, 30.0];
        let out = ears_c1(&x);
        assert_eq!(out.len(), 1);
        assert!(out[0].alarm);
        x[7] = 3.0;
        assert!(!ears_c1(&x)[0].alarm);
    }

    #[test]
    fn short_or_degenerate_input_never_panics() {
        assert!(ears_c3(&[]).is_empty());
        assert!(ears_c2(&[1.0; 9]).is_empty());
        let zeros = vec![0.0; 20];
        for o in ears_c3(&zeros) {
            assert!(!o.alarm);
        }
        let p = EarsParams {
            min_sigma: 0.5,
            ..EarsParams::new(EarsMethod::C2)
        };
        let mut sparse = vec![0.0; 20];
        sparse[15] = 2.0;
        assert!(ears(&sparse, &p).iter().any(|o| o.alarm));
    }
}
