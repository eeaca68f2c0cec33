//! Farrington-flexible as `surveillance::farringtonFlexible` computes it, with the Noufaily et al.
//! (2013) settings as defaults: quasi-Poisson GLM with time trend fitted by IRLS (R's `glm.fit`
//! algorithm: start μ = y + 0.1, deviance-change convergence 1e-8, at most 25 iterations),
//! 10-level seasonal factor (`noPeriods = 10`), the last 26 weeks left out, Anscombe-residual
//! reweighting above 2.58, trend kept only when significant (`pThresholdTrend`), `b ≥ 3` and
//! not extrapolating, and the negative-binomial plug-in threshold (`thresholdMethod = "nbPlugin"`).
//! The series is indexed by position (R's `epochAsDate = FALSE`), `freq` periods per year.

use crate::stats::{
    nbinom_quantile, nbinom_sf_at_least, pois_quantile, pois_sf_at_least, t_two_sided_p,
};
use crate::surveillance::Outcome;

/// Control parameters of `farringtonFlexible` (only the nbPlugin threshold is implemented).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FarringtonParams {
    /// Years back (`b`).
    pub b: usize,
    /// Half-window around each reference week (`w`).
    pub w: usize,
    /// Periods per year (`freq`: 52 weekly, 12 monthly).
    pub freq: usize,
    pub reweight: bool,
    pub weights_threshold: f64,
    pub alpha: f64,
    /// Fit a time trend (`trend = TRUE`, i.e. `glmWithTrend`).
    pub trend: bool,
    pub p_threshold_trend: f64,
    /// `limit54`: no alarm unless at least `.0` cases in the last `.1` periods.
    pub limit54: (f64, usize),
    pub no_periods: usize,
    pub past_weeks_not_included: usize,
}

impl FarringtonParams {
    /// The settings of Noufaily et al. (2013) as used in the brief and the R oracle.
    pub fn noufaily() -> Self {
        Self {
            b: 5,
            w: 3,
            freq: 52,
            reweight: true,
            weights_threshold: 2.58,
            alpha: 0.05,
            trend: true,
            p_threshold_trend: 1.0,
            limit54: (5.0, 4),
            no_periods: 10,
            past_weeks_not_included: 26,
        }
    }
    /// First 0-based index evaluated: R's default `range` start `freq*b + w + 1` (1-based).
    pub fn first_index(&self) -> usize {
        self.freq * self.b + self.w
    }
}

impl Default for FarringtonParams {
    fn default() -> Self {
        Self::noufaily()
    }
}

/// A fitted quasi-Poisson GLM, keeping what `summary.glm`, `hatvalues` and `predict` need.
struct GlmFit {
    beta: Vec<f64>,
    mu: Vec<f64>,
    /// Working weights of the last IRLS iteration (R's `model$weights`).
    working: Vec<f64>,
    /// (XᵀWX)⁻¹ at those weights (R's `cov.unscaled`), row-major p×p.
    cov_unscaled: Vec<f64>,
    converged: bool,
    /// Pearson dispersion `sum(w·r²)/df.residual` as `summary.glm` reports it.
    dispersion: f64,
    df_residual: f64,
}

/// Inverts a small symmetric positive-definite matrix by Cholesky; `None` if not PD.
fn spd_inverse(a: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= l[i * p + k] * l[j * p + k];
            }
            if i == j {
                if !(s > 1e-12 * a[i * p + i].abs().max(1e-300)) {
                    return None;
                }
                l[i * p + i] = s.sqrt();
            } else {
                l[i * p + j] = s / l[j * p + j];
            }
        }
    }
    // inverse of L, then (L⁻¹)ᵀ L⁻¹
    let mut linv = vec![0.0; p * p];
    for i in 0..p {
        linv[i * p + i] = 1.0 / l[i * p + i];
        for j in 0..i {
            let mut s = 0.0;
            for k in j..i {
                s -= l[i * p + k] * linv[k * p + j];
            }
            linv[i * p + j] = s / l[i * p + i];
        }
    }
    let mut inv = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let mut s = 0.0;
            for k in i..p {
                s += linv[k * p + i] * linv[k * p + j];
            }
            inv[i * p + j] = s;
            inv[j * p + i] = s;
        }
    }
    Some(inv)
}

fn poisson_deviance(y: &[f64], mu: &[f64], prior: &[f64]) -> f64 {
    y.iter()
        .zip(mu)
        .zip(prior)
        .map(|((&y, &m), &w)| {
            let ylogy = if y > 0.0 { y * (y / m).ln() } else { 0.0 };
            2.0 * w * (ylogy - (y - m))
        })
        .sum()
}

/// IRLS for a log-link quasi-Poisson GLM, following R's `glm.fit`.
fn fit_glm(x: &[f64], p: usize, y: &[f64], prior: &[f64]) -> Option<GlmFit> {
    let n = y.len();
    if n <= p {
        return None;
    }
    let mut mu: Vec<f64> = y.iter().map(|v| v + 0.1).collect();
    let mut eta: Vec<f64> = mu.iter().map(|m| m.ln()).collect();
    let mut dev_old = poisson_deviance(y, &mu, prior);
    let mut beta = vec![0.0; p];
    let mut working = vec![0.0; n];
    let mut cov = vec![0.0; p * p];
    let mut converged = false;
    let mut xtwx = vec![0.0; p * p];
    let mut xtwz = vec![0.0; p];
    for _iteration in 0..25 {
        xtwx.iter_mut().for_each(|v| *v = 0.0);
        xtwz.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..n {
            let w = prior[i] * mu[i];
            working[i] = w;
            let z = eta[i] + (y[i] - mu[i]) / mu[i];
            let row = &x[i * p..(i + 1) * p];
            for a in 0..p {
                let wa = w * row[a];
                xtwz[a] += wa * z;
                for b in 0..=a {
                    xtwx[a * p + b] += wa * row[b];
                }
            }
        }
        for a in 0..p {
            for b in 0..a {
                xtwx[b * p + a] = xtwx[a * p + b];
            }
        }
        cov = spd_inverse(&xtwx, p)?;
        for a in 0..p {
            beta[a] = (0..p).map(|b| cov[a * p + b] * xtwz[b]).sum();
        }
        for i in 0..n {
            let row = &x[i * p..(i + 1) * p];
            eta[i] = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
            mu[i] = eta[i].exp();
        }
        let dev = poisson_deviance(y, &mu, prior);
        if !dev.is_finite() {
            return None;
        }
        if (dev - dev_old).abs() / (dev.abs() + 0.1) < 1e-8 {
            converged = true;
            break;
        }
        dev_old = dev;
    }
    let df_residual = (n - p) as f64;
    let pearson: f64 = (0..n)
        .map(|i| {
            let r = (y[i] - mu[i]) / mu[i];
            working[i] * r * r
        })
        .sum();
    Some(GlmFit {
        beta,
        mu,
        working,
        cov_unscaled: cov,
        converged,
        dispersion: pearson / df_residual,
        df_residual,
    })
}

/// The reference data for one time point: design matrix, response, and prediction row.
struct GlmData {
    y: Vec<f64>,
    wtime: Vec<f64>,
    /// Seasonal factor level per observation (1..=no_periods), or 0 when not used.
    group: Vec<usize>,
    levels: Vec<usize>,
}

impl GlmData {
    /// Builds the design (intercept, optional wtime, dummies for all but the first level).
    fn design(&self, with_trend: bool) -> (Vec<f64>, usize) {
        let p = 1 + usize::from(with_trend) + self.levels.len().saturating_sub(1);
        let mut x = Vec::with_capacity(self.y.len() * p);
        for i in 0..self.y.len() {
            x.push(1.0);
            if with_trend {
                x.push(self.wtime[i]);
            }
            for level in self.levels.iter().skip(1) {
                x.push(if self.group[i] == *level { 1.0 } else { 0.0 });
            }
        }
        (x, p)
    }
    fn prediction_row(&self, with_trend: bool, wtime_now: f64, level_now: usize) -> Vec<f64> {
        let mut row = vec![1.0];
        if with_trend {
            row.push(wtime_now);
        }
        for level in self.levels.iter().skip(1) {
            row.push(if *level == level_now { 1.0 } else { 0.0 });
        }
        row
    }
}

/// R's `blocks()` + `algo.farrington.data.glm` for 1-based time point `k`.
fn reference_data(observed: &[f64], k: usize, prm: &FarringtonParams) -> Option<GlmData> {
    let n = observed.len();
    let (w, p, freq) = (prm.w, prm.no_periods.max(1), prm.freq);
    // factor per 1-based index; 0 = NA
    let mut factor = vec![0usize; n + 1];
    let oldest = k.checked_sub(prm.b * freq + w)?;
    if oldest < 1 {
        return None;
    }
    for f in &mut factor[k - w..=k] {
        *f = p;
    }
    for i in 1..=prm.b {
        let ref_week = k - i * freq;
        let newer_ref = k - (i - 1) * freq;
        for f in &mut factor[ref_week - w..=ref_week + w] {
            *f = p;
        }
        if p != 1 {
            let period = newer_ref.checked_sub(2 * w + 1 + ref_week)?;
            if period < p - 1 {
                // R stops ("Number of factors too big!") or assigns reversed ranges here.
                return None;
            }
            let (len, rest) = (period / (p - 1), period % (p - 1));
            let mut start = ref_week + w + 1;
            for j in 1..p {
                let block = len + usize::from(j <= rest);
                for f in &mut factor[start..start + block] {
                    *f = j;
                }
                start += block;
            }
        }
    }
    let excluded_from = k.saturating_sub(prm.past_weeks_not_included).max(1);
    for f in &mut factor[excluded_from..=k] {
        *f = 0;
    }
    let mut data = GlmData {
        y: Vec::new(),
        wtime: Vec::new(),
        group: Vec::new(),
        levels: Vec::new(),
    };
    for (idx, &f) in factor.iter().enumerate().skip(1) {
        let y = observed[idx - 1];
        if f != 0 && y.is_finite() {
            data.y.push(y);
            data.wtime.push(idx as f64);
            data.group.push(if p == 1 { 0 } else { f });
        }
    }
    if p != 1 {
        let mut levels = data.group.clone();
        levels.sort_unstable();
        levels.dedup();
        data.levels = levels;
    }
    Some(data)
}

/// A fitted model ready for prediction (`fitFun` result).
struct FlexibleModel {
    fit: GlmFit,
    with_trend: bool,
    phi: f64,
}

/// `algo.farrington.fitGLM.flexible`.
fn fit_flexible(data: &GlmData, trend: bool, prm: &FarringtonParams) -> Option<FlexibleModel> {
    let ones = vec![1.0; data.y.len()];
    let mut with_trend = trend;
    let (mut x, mut p) = data.design(with_trend);
    let mut fit = fit_glm(&x, p, &data.y, &ones)?;
    if !fit.converged {
        if with_trend {
            with_trend = false;
            (x, p) = data.design(false);
            fit = fit_glm(&x, p, &data.y, &ones)?;
        }
        if !fit.converged {
            return None;
        }
    }
    let mut phi = fit.dispersion.max(1.0);
    if prm.reweight {
        let omega = anscombe_weights(&fit, &x, p, &data.y, phi, prm.weights_threshold);
        fit = fit_glm(&x, p, &data.y, &omega)?;
        phi = fit.dispersion.max(1.0);
    }
    Some(FlexibleModel {
        fit,
        with_trend,
        phi,
    })
}

/// `anscombe.residuals` then `algo.farrington.assign.weights`.
fn anscombe_weights(
    fit: &GlmFit,
    x: &[f64],
    p: usize,
    y: &[f64],
    phi: f64,
    threshold: f64,
) -> Vec<f64> {
    let s: Vec<f64> = (0..y.len())
        .map(|i| {
            let row = &x[i * p..(i + 1) * p];
            let mut h = 0.0;
            for a in 0..p {
                for b in 0..p {
                    h += row[a] * fit.cov_unscaled[a * p + b] * row[b];
                }
            }
            h *= fit.working[i];
            let mu = fit.mu[i];
            let a = 1.5 * (y[i].powf(2.0 / 3.0) * mu.powf(-1.0 / 6.0) - mu.sqrt());
            a / (phi * (1.0 - h)).sqrt()
        })
        .collect();
    let denom: f64 = s
        .iter()
        .map(|&v| if v > threshold { v.powi(-2) } else { 1.0 })
        .sum();
    let gamma = s.len() as f64 / denom;
    s.iter()
        .map(|&v| {
            if v > threshold {
                gamma * v.powi(-2)
            } else {
                gamma
            }
        })
        .collect()
}

fn linear_predictor(beta: &[f64], row: &[f64]) -> f64 {
    beta.iter().zip(row).map(|(a, b)| a * b).sum()
}

/// Runs Farrington-flexible (nbPlugin threshold) on one series; one [`Outcome`] per index from
/// [`FarringtonParams::first_index`]. Time points where no model converges are omitted
/// (R reports NA there).
pub fn farrington_flexible(observed: &[f64], prm: &FarringtonParams) -> Vec<Outcome> {
    let mut out = Vec::new();
    if prm.freq == 0 || prm.b == 0 || prm.no_periods == 0 {
        return out;
    }
    for t in prm.first_index()..observed.len() {
        if let Some(o) = farrington_at(observed, t, prm) {
            out.push(o);
        }
    }
    out
}

/// One time point (0-based `t`) of [`farrington_flexible`].
pub fn farrington_at(observed: &[f64], t: usize, prm: &FarringtonParams) -> Option<Outcome> {
    let k = t + 1;
    let y_now = *observed.get(t)?;
    let data = reference_data(observed, k, prm)?;
    let level_now = if prm.no_periods == 1 {
        0
    } else {
        prm.no_periods
    };
    if prm.no_periods != 1 && !data.levels.contains(&level_now) {
        return None;
    }
    let mut model = fit_flexible(&data, prm.trend, prm)?;
    if model.with_trend {
        let row = data.prediction_row(true, k as f64, level_now);
        let fit_now = linear_predictor(&model.fit.beta, &row).exp();
        let se = (model.fit.dispersion * model.fit.cov_unscaled[p_index_of_trend(&model)]).sqrt();
        let p_trend = t_two_sided_p(model.fit.beta[1] / se, model.fit.df_residual);
        let significant = p_trend < prm.p_threshold_trend;
        let max_y = data.y.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let do_trend = prm.b >= 3 && significant && fit_now <= max_y;
        if !do_trend {
            model = fit_flexible(&data, false, prm)?;
        }
    }
    let row = data.prediction_row(model.with_trend, k as f64, level_now);
    let eta0 = linear_predictor(&model.fit.beta, &row);
    let mu0 = eta0.exp();
    let phi = model.phi;
    let (upper, prob) = if mu0.is_infinite() {
        (f64::NAN, f64::NAN)
    } else if phi > 1.0 {
        let size = mu0 / (phi - 1.0);
        (
            nbinom_quantile(1.0 - prm.alpha, size, 1.0 / phi),
            nbinom_sf_at_least(y_now, size, 1.0 / phi),
        )
    } else {
        (
            pois_quantile(1.0 - prm.alpha, mu0),
            pois_sf_at_least(y_now, mu0),
        )
    };
    // Calibrated: NB predictive tail that adds the estimation variance of η₀ to the quasi-
    // Poisson variance (Var y = φμ₀ + μ₀²·Var η₀, Var η₀ = φ·xᵀ(XᵀWX)⁻¹x), so the p-value
    // does not pretend μ₀ is known.
    let p_count = if mu0.is_finite() && mu0 > 0.0 {
        let p = row.len();
        let c = &model.fit.cov_unscaled;
        let quad: f64 = (0..p)
            .map(|i| (0..p).map(|j| row[i] * c[i * p + j] * row[j]).sum::<f64>())
            .sum();
        let var_eta = model.fit.dispersion.max(1.0) * quad.max(0.0);
        let var_y = phi.max(1.0) * mu0 + mu0 * mu0 * var_eta;
        if var_y > mu0 * (1.0 + 1e-9) {
            let size = mu0 * mu0 / (var_y - mu0);
            nbinom_sf_at_least(y_now, size, size / (size + mu0))
        } else {
            pois_sf_at_least(y_now, mu0)
        }
    } else {
        f64::NAN
    };
    let window_start = (k + 1).saturating_sub(prm.limit54.1).max(1);
    let recent: f64 = observed[window_start - 1..k].iter().sum();
    let enough_cases = recent >= prm.limit54.0;
    // R's score divides by (upper − eta0) with eta0 on the link scale; alarm iff score > 1.
    let score = (y_now - eta0) / (upper - eta0);
    let alarm = enough_cases && score > 1.0 && y_now != 0.0;
    Some(Outcome {
        index: t,
        observed: y_now,
        expected: if enough_cases && !upper.is_nan() {
            mu0
        } else {
            f64::NAN
        },
        upperbound: if enough_cases { upper } else { f64::NAN },
        alarm,
        p_value: prob,
        p_count,
        window: 1,
    })
}

/// Position of the wtime variance in the row-major covariance (column 1).
fn p_index_of_trend(model: &FlexibleModel) -> usize {
    let p = model.fit.beta.len();
    p + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_series_no_alarm_then_spike_alarm() {
        let mut x: Vec<f64> = (0..320).map(|i| 10.0 + ((i * 7) % 5) as f64).collect();
        let out = farrington_flexible(&x, &FarringtonParams::noufaily());
        assert_eq!(out.len(), 320 - 263);
        assert!(out.iter().filter(|o| o.alarm).count() <= 3);
        x[319] = 60.0;
        let last = farrington_flexible(&x, &FarringtonParams::noufaily());
        assert!(last.last().map(|o| o.alarm).unwrap_or(false));
    }

    #[test]
    fn all_zero_and_short_series_do_not_panic() {
        let z = vec![0.0; 300];
        for o in farrington_flexible(&z, &FarringtonParams::noufaily()) {
            assert!(!o.alarm);
        }
        assert!(farrington_flexible(&[1.0; 10], &FarringtonParams::noufaily()).is_empty());
    }
}
