//! Detector parameters as data: [`DetectorConfig`] is the serialisable (serde: TOML, JSON, …)
//! form of [`DetectParams`] that the service and the CLI read from configuration. Every method
//! has its own section with an `enabled` switch, its window, significance level, weekday
//! adjustment and minimum count; missing keys take the defaults, unknown keys are errors.
//! `DetectorConfig::default()` converts to `DetectParams::default()` (the pooled ratio scan);
//! [`DetectorConfig::classic`] to `DetectParams::classic()`.

use crate::detect::{DetectParams, Level};
use crate::ears::{EarsMethod, EarsParams};
use crate::farrington::FarringtonParams;
use crate::pooled::PooledParams;
use crate::surveillance::CusumParams;
use serde::{Deserialize, Serialize};

/// One EARS variant's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarsConfig {
    pub enabled: bool,
    /// Baseline days (R `baseline`, default 7).
    pub window: usize,
    /// Significance level; `None` = the method's R default (0.001 for C1/C2, 0.025 for C3).
    pub alpha: Option<f64>,
    pub min_sigma: f64,
    pub weekday_adjust: bool,
    pub min_count: f64,
}

impl EarsConfig {
    fn of(p: &EarsParams, enabled: bool) -> Self {
        Self {
            enabled,
            window: p.baseline,
            alpha: (p.alpha != EarsParams::new(p.method).alpha).then_some(p.alpha),
            min_sigma: p.min_sigma,
            weekday_adjust: p.weekday_adjust,
            min_count: p.min_count,
        }
    }
    fn params(&self, method: EarsMethod) -> EarsParams {
        EarsParams {
            method,
            baseline: self.window,
            min_sigma: self.min_sigma,
            alpha: self.alpha.unwrap_or(EarsParams::new(method).alpha),
            weekday_adjust: self.weekday_adjust,
            min_count: self.min_count,
        }
    }
}

impl Default for EarsConfig {
    fn default() -> Self {
        Self::of(
            &EarsParams {
                min_sigma: 0.5,
                ..EarsParams::new(EarsMethod::C1)
            },
            false,
        )
    }
}

/// Farrington-flexible settings (weekly; Noufaily defaults otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FarringtonConfig {
    pub enabled: bool,
    /// Years back (`b`).
    pub b: usize,
    /// Half-window in weeks around each reference week (`w`).
    pub window: usize,
    pub alpha: f64,
    /// Minimum cases in the last 4 weeks for an alarm (`limit54[1]`).
    pub min_count: f64,
}

impl Default for FarringtonConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            b: 3,
            window: 3,
            alpha: 0.05,
            min_count: 5.0,
        }
    }
}

/// Poisson CUSUM settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CusumConfig {
    pub enabled: bool,
    /// Baseline days for the in-control mean.
    pub window: usize,
    pub guard: usize,
    pub shift: f64,
    pub h: f64,
    pub min_mean: f64,
    pub weekday_adjust: bool,
    pub min_count: f64,
}

impl Default for CusumConfig {
    fn default() -> Self {
        let c = CusumParams::default();
        Self {
            enabled: false,
            window: c.baseline,
            guard: c.guard,
            shift: c.shift,
            h: c.h,
            min_mean: c.min_mean,
            weekday_adjust: c.weekday_adjust,
            min_count: c.min_count,
        }
    }
}

/// Pooled ratio scan settings (the default detector; weekday effects cancel in the ratio).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PooledConfig {
    pub enabled: bool,
    /// Baseline days.
    pub window: usize,
    pub min_window: usize,
    pub guard: usize,
    /// Scanned window lengths (days of accumulated evidence).
    pub scan_days: Vec<usize>,
    /// False-alarm bound per series-day.
    pub alpha: f64,
    pub min_count: f64,
    pub max_dispersion: f64,
}

impl Default for PooledConfig {
    fn default() -> Self {
        let p = PooledParams::default();
        Self {
            enabled: true,
            window: p.baseline,
            min_window: p.min_baseline,
            guard: p.guard,
            scan_days: p.windows,
            alpha: p.alpha,
            min_count: p.min_count,
            max_dispersion: p.max_dispersion,
        }
    }
}

/// Command-line overrides of the pooled scan's main parameters (`None` keeps the file's or the
/// default value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PooledOverrides {
    pub alpha: Option<f64>,
    pub min_count: Option<f64>,
    /// Scanned window lengths (`scan_days`).
    pub windows: Option<Vec<usize>>,
    /// Baseline days (`window`); `min_window` is lowered to it when larger.
    pub baseline: Option<usize>,
    pub guard: Option<usize>,
}

impl PooledOverrides {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Why a configuration text was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON of the configuration's shape (unknown key, wrong type); serde's message.
    #[error("configuration does not parse: {0}")]
    Parse(String),
    /// A value out of range; the message names the key.
    #[error("configuration is invalid: {0}")]
    Invalid(String),
}

/// The whole detector configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorConfig {
    pub levels: Vec<Level>,
    /// FDR level of the Benjamini–Hochberg `significant` flag.
    pub fdr: f64,
    /// Master switch for weekday adjustment of EARS and CUSUM.
    pub weekday_adjust: bool,
    pub pooled: PooledConfig,
    pub ears_c1: EarsConfig,
    pub ears_c2: EarsConfig,
    pub ears_c3: EarsConfig,
    pub farrington: FarringtonConfig,
    pub cusum: CusumConfig,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self::from_params(&DetectParams::default())
    }
}

impl DetectorConfig {
    /// The R-matching methods of the previous default.
    pub fn classic() -> Self {
        Self::from_params(&DetectParams::classic())
    }

    /// The configuration that [`DetectorConfig::to_params`] maps back to `p` (the report window
    /// is not configuration: it comes with each run).
    pub fn from_params(p: &DetectParams) -> Self {
        let ears = |m: EarsMethod| {
            let mut d = EarsParams {
                min_sigma: 0.5,
                ..EarsParams::new(m)
            };
            let found = p.ears.iter().find(|e| e.method == m);
            if let Some(e) = found {
                d = *e;
            }
            EarsConfig::of(&d, found.is_some())
        };
        let farrington =
            p.farrington
                .map_or_else(FarringtonConfig::default, |f| FarringtonConfig {
                    enabled: true,
                    b: f.b,
                    window: f.w,
                    alpha: f.alpha,
                    min_count: f.limit54.0,
                });
        let cusum = p.cusum.map_or_else(CusumConfig::default, |c| CusumConfig {
            enabled: true,
            window: c.baseline,
            guard: c.guard,
            shift: c.shift,
            h: c.h,
            min_mean: c.min_mean,
            weekday_adjust: c.weekday_adjust,
            min_count: c.min_count,
        });
        let pooled = p.pooled.clone().map_or_else(
            || PooledConfig {
                enabled: false,
                ..PooledConfig::default()
            },
            |q| PooledConfig {
                enabled: true,
                window: q.baseline,
                min_window: q.min_baseline,
                guard: q.guard,
                scan_days: q.windows,
                alpha: q.alpha,
                min_count: q.min_count,
                max_dispersion: q.max_dispersion,
            },
        );
        Self {
            levels: p.levels.clone(),
            fdr: p.fdr,
            weekday_adjust: p.day_of_week_adjust,
            pooled,
            ears_c1: ears(EarsMethod::C1),
            ears_c2: ears(EarsMethod::C2),
            ears_c3: ears(EarsMethod::C3),
            farrington,
            cusum,
        }
    }

    /// The parameters to run (report window from day 0; set `report_from_day` per run).
    pub fn to_params(&self) -> DetectParams {
        let ears = [
            (EarsMethod::C1, &self.ears_c1),
            (EarsMethod::C2, &self.ears_c2),
            (EarsMethod::C3, &self.ears_c3),
        ]
        .into_iter()
        .filter(|(_, c)| c.enabled)
        .map(|(m, c)| c.params(m))
        .collect();
        let f = &self.farrington;
        let c = &self.cusum;
        let q = &self.pooled;
        DetectParams {
            levels: self.levels.clone(),
            ears,
            farrington: f.enabled.then(|| FarringtonParams {
                b: f.b,
                w: f.window,
                alpha: f.alpha,
                limit54: (f.min_count, 4),
                ..FarringtonParams::noufaily()
            }),
            cusum: c.enabled.then_some(CusumParams {
                baseline: c.window,
                guard: c.guard,
                shift: c.shift,
                h: c.h,
                min_mean: c.min_mean,
                weekday_adjust: c.weekday_adjust,
                min_count: c.min_count,
            }),
            pooled: q.enabled.then(|| PooledParams {
                baseline: q.window,
                min_baseline: q.min_window,
                guard: q.guard,
                windows: q.scan_days.clone(),
                alpha: q.alpha,
                min_count: q.min_count,
                max_dispersion: q.max_dispersion,
            }),
            day_of_week_adjust: self.weekday_adjust,
            fdr: self.fdr,
            report_from_day: 0,
        }
    }

    /// A configuration from JSON (missing keys take defaults, unknown keys are refused),
    /// validated.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let c: Self = serde_json::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        c.validate().map_err(ConfigError::Invalid)?;
        Ok(c)
    }

    /// The configuration with the pooled scan's overrides applied (the scan is enabled when
    /// any override is given), validated.
    pub fn with_pooled(mut self, o: &PooledOverrides) -> Result<Self, ConfigError> {
        let q = &mut self.pooled;
        if !o.is_empty() {
            q.enabled = true;
        }
        if let Some(a) = o.alpha {
            q.alpha = a;
        }
        if let Some(m) = o.min_count {
            q.min_count = m;
        }
        if let Some(w) = &o.windows {
            q.scan_days = w.clone();
        }
        if let Some(b) = o.baseline {
            q.window = b;
            q.min_window = q.min_window.min(b);
        }
        if let Some(g) = o.guard {
            q.guard = g;
        }
        self.validate().map_err(ConfigError::Invalid)?;
        Ok(self)
    }

    /// The configuration with `section.key=value` settings applied in order (e.g.
    /// `farrington.b=4`, `ears_c2.weekday_adjust=true`, `pooled.scan_days=[1,3]`, `fdr=0.01`):
    /// every parameter of every method can be set from the command line, not only the pooled
    /// scan's main ones. A value is read as JSON when it parses as JSON, as a string otherwise;
    /// unknown sections or keys are refused by name, and the result is validated.
    pub fn with_settings(self, settings: &[String]) -> Result<Self, ConfigError> {
        if settings.is_empty() {
            return Ok(self);
        }
        let mut tree =
            serde_json::to_value(&self).map_err(|e| ConfigError::Parse(e.to_string()))?;
        for setting in settings {
            let (path, raw) = setting.split_once('=').ok_or_else(|| {
                ConfigError::Parse(format!("{setting:?} is not of the form section.key=value"))
            })?;
            let value = serde_json::from_str::<serde_json::Value>(raw.trim())
                .unwrap_or_else(|_| serde_json::Value::String(raw.trim().to_string()));
            let mut node = &mut tree;
            let keys: Vec<&str> = path.trim().split('.').collect();
            for (i, key) in keys.iter().enumerate() {
                let object = node.as_object_mut().ok_or_else(|| {
                    ConfigError::Parse(format!("{path}: {} is not a section", keys[..i].join(".")))
                })?;
                if !object.contains_key(*key) {
                    return Err(ConfigError::Parse(format!("{path}: unknown key {key:?}")));
                }
                node = object.get_mut(*key).expect("checked above");
            }
            if node.is_object() {
                return Err(ConfigError::Parse(format!(
                    "{path} is a section; set one of its keys ({path}.…)"
                )));
            }
            *node = value;
        }
        let c: Self =
            serde_json::from_value(tree).map_err(|e| ConfigError::Parse(e.to_string()))?;
        c.validate().map_err(ConfigError::Invalid)?;
        Ok(c)
    }

    /// Checks ranges a configuration file could get wrong; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let unit = |name: &str, v: f64| {
            if v > 0.0 && v < 1.0 {
                Ok(())
            } else {
                Err(format!("{name} must be in (0, 1), got {v}"))
            }
        };
        unit("fdr", self.fdr)?;
        unit("pooled.alpha", self.pooled.alpha)?;
        for (name, a) in [
            ("ears_c1.alpha", self.ears_c1.alpha),
            ("ears_c2.alpha", self.ears_c2.alpha),
            ("ears_c3.alpha", self.ears_c3.alpha),
        ] {
            unit(name, a.unwrap_or(0.5))?;
        }
        unit("farrington.alpha", self.farrington.alpha)?;
        for (name, w) in [
            ("ears_c1.window", self.ears_c1.window),
            ("ears_c2.window", self.ears_c2.window),
            ("ears_c3.window", self.ears_c3.window),
        ] {
            if w < 3 {
                return Err(format!("{name} must be at least 3, got {w}"));
            }
        }
        if self.pooled.scan_days.is_empty() || self.pooled.scan_days.contains(&0) {
            return Err("pooled.scan_days must list window lengths ≥ 1".into());
        }
        if self.pooled.window < self.pooled.min_window || self.pooled.min_window == 0 {
            return Err("pooled.window must be ≥ pooled.min_window ≥ 1".into());
        }
        if !(self.pooled.min_count >= 0.0) {
            return Err(format!(
                "pooled.min_count must be ≥ 0, got {}",
                self.pooled.min_count
            ));
        }
        if !self.ears_c1.enabled
            && !self.ears_c2.enabled
            && !self.ears_c3.enabled
            && !self.farrington.enabled
            && !self.cusum.enabled
            && !self.pooled.enabled
        {
            return Err("no method is enabled".into());
        }
        if self.farrington.b == 0 {
            return Err("farrington.b must be at least 1".into());
        }
        if !(self.cusum.shift > 1.0) || !(self.cusum.h > 0.0) || self.cusum.window == 0 {
            return Err("cusum needs shift > 1, h > 0 and window ≥ 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_classic_round_trip() {
        assert_eq!(
            DetectorConfig::default().to_params(),
            DetectParams::default()
        );
        assert_eq!(
            DetectorConfig::classic().to_params(),
            DetectParams::classic()
        );
        let json = serde_json::to_string(&DetectorConfig::classic()).unwrap();
        let back: DetectorConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, DetectorConfig::classic());
    }

    #[test]
    fn partial_config_takes_defaults_and_unknown_keys_fail() {
        let c: DetectorConfig =
            serde_json::from_str(r#"{"pooled": {"alpha": 0.0005}, "ears_c2": {"enabled": true}}"#)
                .unwrap();
        let p = c.to_params();
        assert_eq!(p.pooled.unwrap().alpha, 0.0005);
        assert_eq!(p.ears.len(), 1);
        assert_eq!(p.ears[0].method, EarsMethod::C2);
        assert!(c.validate().is_ok());
        assert!(serde_json::from_str::<DetectorConfig>(r#"{"pooled": {"alfa": 1}}"#).is_err());
        let bad = DetectorConfig {
            fdr: 1.5,
            ..DetectorConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("fdr"));
    }

    #[test]
    fn settings_reach_every_method_and_name_bad_keys() {
        let c = DetectorConfig::default()
            .with_settings(&[
                "farrington.enabled=true".into(),
                "farrington.b=4".into(),
                "farrington.alpha=0.01".into(),
                "ears_c2.enabled=true".into(),
                "ears_c2.weekday_adjust=true".into(),
                "ears_c2.min_count=3".into(),
                "cusum.window=21".into(),
                "pooled.scan_days=[1,3]".into(),
                "fdr=0.01".into(),
            ])
            .unwrap();
        assert!(c.farrington.enabled);
        assert_eq!((c.farrington.b, c.farrington.alpha), (4, 0.01));
        assert!(c.ears_c2.enabled && c.ears_c2.weekday_adjust);
        assert_eq!(c.ears_c2.min_count, 3.0);
        assert_eq!(c.cusum.window, 21);
        assert_eq!(c.pooled.scan_days, vec![1, 3]);
        assert_eq!(c.fdr, 0.01);
        let p = c.to_params();
        assert_eq!(p.farrington.unwrap().b, 4);
        assert_eq!(
            DetectorConfig::default().with_settings(&[]).unwrap(),
            DetectorConfig::default()
        );
        for (bad, says) in [
            ("farington.b=4", "unknown key \"farington\""),
            ("farrington.bb=4", "unknown key \"bb\""),
            ("farrington=4", "is a section"),
            ("fdr.x=1", "fdr is not a section"),
            ("farrington.b", "section.key=value"),
        ] {
            match DetectorConfig::default().with_settings(&[bad.into()]) {
                Err(ConfigError::Parse(m)) => assert!(m.contains(says), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(matches!(
            DetectorConfig::default().with_settings(&["farrington.b=many".into()]),
            Err(ConfigError::Parse(_))
        ));
        assert!(matches!(
            DetectorConfig::default().with_settings(&["farrington.alpha=3".into()]),
            Err(ConfigError::Invalid(m)) if m.contains("farrington.alpha")
        ));
    }

    #[test]
    fn json_and_overrides() {
        let c =
            DetectorConfig::from_json(r#"{"pooled": {"alpha": 0.002, "min_count": 5}}"#).unwrap();
        assert_eq!((c.pooled.alpha, c.pooled.min_count), (0.002, 5.0));
        assert!(matches!(
            DetectorConfig::from_json(r#"{"pooled": {"alfa": 1}}"#),
            Err(ConfigError::Parse(m)) if m.contains("alfa")
        ));
        assert!(matches!(
            DetectorConfig::from_json(r#"{"pooled": {"alpha": 2}}"#),
            Err(ConfigError::Invalid(m)) if m.contains("pooled.alpha")
        ));
        // Flags override the file; an empty override changes nothing.
        let o = PooledOverrides {
            alpha: Some(0.0005),
            windows: Some(vec![1, 7]),
            baseline: Some(21),
            guard: Some(3),
            ..PooledOverrides::default()
        };
        let d = c.clone().with_pooled(&o).unwrap();
        assert_eq!(d.pooled.alpha, 0.0005);
        assert_eq!(d.pooled.min_count, 5.0, "kept from the file");
        assert_eq!(d.pooled.scan_days, vec![1, 7]);
        assert_eq!(
            (d.pooled.window, d.pooled.min_window, d.pooled.guard),
            (21, 21, 3)
        );
        assert_eq!(
            c.clone().with_pooled(&PooledOverrides::default()).unwrap(),
            c
        );
        let bad = PooledOverrides {
            windows: Some(vec![0]),
            ..PooledOverrides::default()
        };
        assert!(DetectorConfig::default().with_pooled(&bad).is_err());
        let off = DetectorConfig {
            pooled: PooledConfig {
                enabled: false,
                ..PooledConfig::default()
            },
            ..DetectorConfig::default()
        };
        assert_eq!(off.validate().unwrap_err(), "no method is enabled");
    }
}
