//! Runs every detector over every series of a [`Cube`] and returns [`Alarm`]s with calibrated
//! p-values ([`crate::calibrate`]), Benjamini–Hochberg q-values on them (per method, across all
//! series × periods tested) and a roll-up from category → division → city.
//!
//! The default ([`DetectParams::default`]) is the pooled ratio scan alone ([`crate::pooled`]):
//! each series against the same series summed over the other cities, windows of 1, 3 and 7
//! days, alarm when the Bonferroni-combined p ≤ 0.001 (at most 1 false alarm per 1 000
//! series-days under the null). [`DetectParams::classic`] runs the R-matching EARS C1–C3,
//! Farrington-flexible and CUSUM as before.
//!
//! Daily series (EARS C1–C3, CUSUM) are optionally day-of-week adjusted: each day's count is
//! divided by a weekday factor estimated from the province-wide total over the previous 8 weeks
//! (re-estimated weekly, no look-ahead); thresholds are mapped back to counts by multiplying by
//! the same factor. Weekly series (ISO weeks, Monday start) go to Farrington-flexible.

use crate::calibrate::window_p;
use crate::cube::{daily_to_weekly, division_from_index, Cube, DIVISIONS, UNKNOWN};
use crate::ears::{ears, EarsMethod, EarsParams};
use crate::farrington::{farrington_at, FarringtonParams};
use crate::model::{categories, Category};
use crate::pooled::{pooled_scan, PooledParams};
use crate::surveillance::{benjamini_hochberg, cusum, weekday_factors, CusumParams, Outcome};
use chrono::{Datelike, Duration, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use yuepin_domain::{reference, Division, RegionCode};

/// Detector that raised an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Method {
    EarsC1,
    EarsC2,
    EarsC3,
    Farrington,
    Cusum,
    /// The pooled ratio scan ([`crate::pooled`]), the default detector.
    Pooled,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Self::EarsC1,
        Self::EarsC2,
        Self::EarsC3,
        Self::Farrington,
        Self::Cusum,
        Self::Pooled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EarsC1 => "ears_c1",
            Self::EarsC2 => "ears_c2",
            Self::EarsC3 => "ears_c3",
            Self::Farrington => "farrington_flexible",
            Self::Cusum => "cusum",
            Self::Pooled => "pooled_scan",
        }
    }
    /// The inverse of [`Method::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
    /// The method's usual name in the literature ("EARS C1", "Poisson CUSUM").
    pub fn label(self) -> &'static str {
        match self {
            Self::EarsC1 => "EARS C1",
            Self::EarsC2 => "EARS C2",
            Self::EarsC3 => "EARS C3",
            Self::Farrington => "Farrington-flexible",
            Self::Cusum => "Poisson CUSUM",
            Self::Pooled => "Pooled ratio scan",
        }
    }
}

/// Level of the series hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Level {
    City,
    CityDivision,
    CityCategory,
}

impl Level {
    /// The stored name of the level: `city`, `division`, `category`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::City => "city",
            Self::CityDivision => "division",
            Self::CityCategory => "category",
        }
    }
    /// The inverse of [`Level::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "city" => Some(Self::City),
            "division" => Some(Self::CityDivision),
            "category" => Some(Self::CityCategory),
            _ => None,
        }
    }
}

/// The time period an alarm refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DetectPeriod))]
pub struct Period {
    pub start: NaiveDate,
    /// 1 for a day, 7 for an ISO week.
    pub days: u8,
}

/// One alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alarm {
    pub method: Method,
    pub level: Level,
    pub region: RegionCode,
    pub division: Option<Division>,
    pub category: Option<Category>,
    pub period: Period,
    pub observed: f64,
    pub expected: f64,
    pub threshold: f64,
    /// Calibrated p-value for counts (`Outcome::p_count`; super-uniform under the null).
    pub p_value: f64,
    /// The method's classic p-value (`Outcome::p_value`: EARS normal tail, etc.), for reference.
    #[serde(default = "nan")]
    pub p_classic: f64,
    /// Days summed into observed / expected / threshold (window scans; else 1).
    #[serde(default = "one")]
    pub window_days: u8,
    /// BH-adjusted (calibrated) p-value across all series × periods tested by this method.
    pub q_value: f64,
    /// `q_value ≤ DetectParams::fdr`.
    pub significant: bool,
}

fn nan() -> f64 {
    f64::NAN
}
fn one() -> u8 {
    1
}

/// What to run. See [`crate::config::DetectorConfig`] for the serialisable form.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectParams {
    pub levels: Vec<Level>,
    pub ears: Vec<EarsParams>,
    pub farrington: Option<FarringtonParams>,
    pub cusum: Option<CusumParams>,
    pub pooled: Option<PooledParams>,
    /// Master switch for day-of-week adjustment (each EARS/CUSUM method also has its own).
    pub day_of_week_adjust: bool,
    /// FDR level for Benjamini–Hochberg.
    pub fdr: f64,
    /// Only periods starting on or after this day index are reported and enter BH.
    pub report_from_day: usize,
}

impl Default for DetectParams {
    /// The pooled ratio scan alone (see the module docs).
    fn default() -> Self {
        Self {
            levels: vec![Level::City, Level::CityDivision, Level::CityCategory],
            ears: Vec::new(),
            farrington: None,
            cusum: None,
            pooled: Some(PooledParams::default()),
            day_of_week_adjust: true,
            fdr: 0.05,
            report_from_day: 0,
        }
    }
}

impl DetectParams {
    /// The previous default: EARS C1–C3 (min σ 0.5), Farrington-flexible (b = 3), CUSUM.
    pub fn classic() -> Self {
        Self {
            levels: vec![Level::City, Level::CityDivision, Level::CityCategory],
            ears: vec![
                EarsParams {
                    min_sigma: 0.5,
                    ..EarsParams::new(EarsMethod::C1)
                },
                EarsParams {
                    min_sigma: 0.5,
                    ..EarsParams::new(EarsMethod::C2)
                },
                EarsParams {
                    min_sigma: 0.5,
                    ..EarsParams::new(EarsMethod::C3)
                },
            ],
            farrington: Some(FarringtonParams {
                b: 3,
                ..FarringtonParams::noufaily()
            }),
            cusum: Some(CusumParams::default()),
            pooled: None,
            day_of_week_adjust: true,
            fdr: 0.05,
            report_from_day: 0,
        }
    }
}

/// Identity of one series.
#[derive(Debug, Clone, Copy)]
struct SeriesId {
    level: Level,
    city: u8,
    division: Option<u8>,
    category: Option<u8>,
}

pub(crate) fn ears_method_of(m: EarsMethod) -> Method {
    match m {
        EarsMethod::C1 => Method::EarsC1,
        EarsMethod::C2 => Method::EarsC2,
        EarsMethod::C3 => Method::EarsC3,
    }
}

/// The (tested, baseline) day ranges of [`crate::calibrate::window_p`] for an EARS method at t.
fn ears_windows(e: &EarsParams, t: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let b = e.baseline;
    match e.method {
        EarsMethod::C1 => (t..t + 1, t - b..t),
        EarsMethod::C2 => (t..t + 1, t - 2 - b..t - 2),
        EarsMethod::C3 => (t - 2..t + 1, t - 4 - b..t - 4),
    }
}

/// Builds all series of the requested levels as dense daily vectors.
fn build_series(cube: &Cube, levels: &[Level]) -> Vec<(SeriesId, Vec<f64>)> {
    let n_cat = categories().len();
    let mut out = Vec::new();
    for &level in levels {
        let width = match level {
            Level::City => 1,
            Level::CityDivision => DIVISIONS,
            Level::CityCategory => n_cat,
        };
        let ids = |j: usize| match level {
            Level::City => (None, None),
            Level::CityDivision => (Some(j as u8), None),
            Level::CityCategory => (None, Some(j as u8)),
        };
        let matrix = cube.daily_matrix(21 * width, |c, i| {
            let city = c.city_of(i);
            if city == UNKNOWN {
                return None;
            }
            let j = match level {
                Level::City => 0,
                Level::CityDivision => c.division_of(i),
                Level::CityCategory => c.category_of(i),
            };
            (j != UNKNOWN && (j as usize) < width).then(|| city as usize * width + j as usize)
        });
        for (s, series) in matrix.into_iter().enumerate() {
            if series.iter().all(|v| *v == 0.0) {
                continue; // never-seen combinations carry no signal
            }
            let (division, category) = ids(s % width);
            out.push((
                SeriesId {
                    level,
                    city: (s / width) as u8,
                    division,
                    category,
                },
                series,
            ));
        }
    }
    out
}

/// Runs everything; see the module docs.
pub fn detect_all(cube: &Cube, params: &DetectParams) -> Vec<Alarm> {
    let series = build_series(cube, &params.levels);
    let start = cube.start();
    let weekday0 = start.weekday().num_days_from_monday() as usize;
    // Province-wide daily total for day-of-week factors; factors per day, no look-ahead.
    let total: Vec<f64> = {
        let m = cube.daily_matrix(1, |c, i| (c.city_of(i) != UNKNOWN).then_some(0));
        m.into_iter().next().unwrap_or_default()
    };
    let factors: Vec<f64> = (0..cube.days())
        .map(|t| {
            if params.day_of_week_adjust {
                let f = weekday_factors(&total, t - t % 7, 8, weekday0);
                f[(t + weekday0) % 7]
            } else {
                1.0
            }
        })
        .collect();
    // Pooled reference: per (level, division, category) the sum over all cities; a series'
    // reference is that sum minus itself (the other cities).
    let totals: std::collections::HashMap<(Level, Option<u8>, Option<u8>), Vec<f64>> =
        if params.pooled.is_some() {
            let mut m: std::collections::HashMap<_, Vec<f64>> = std::collections::HashMap::new();
            for (id, daily) in &series {
                let e = m
                    .entry((id.level, id.division, id.category))
                    .or_insert_with(|| vec![0.0; daily.len()]);
                for (a, b) in e.iter_mut().zip(daily) {
                    *a += b;
                }
            }
            m
        } else {
            Default::default()
        };
    // (method, series, outcome, period days) for everything tested.
    let tested: Vec<(Method, usize, Outcome, u8)> = series
        .par_iter()
        .enumerate()
        .flat_map_iter(|(s, (id, daily))| {
            let mut v: Vec<(Method, usize, Outcome, u8)> = Vec::new();
            let adjusted: Vec<f64> = daily.iter().zip(&factors).map(|(x, f)| x / f).collect();
            let scale_back = |mut o: Outcome| {
                let f = factors[o.index];
                o.observed = daily[o.index];
                o.expected *= f;
                o.upperbound *= f;
                o
            };
            let from = params.report_from_day;
            for e in &params.ears {
                let adjust = params.day_of_week_adjust && e.weekday_adjust;
                let input = if adjust { &adjusted } else { daily };
                for mut o in ears(input, e) {
                    if o.index >= from {
                        if adjust {
                            // calibrated p on raw counts with the weekday factors as exposures
                            let (now, base) = ears_windows(e, o.index);
                            o.p_count = window_p(daily, Some(&factors), now, base);
                            o = scale_back(o);
                        }
                        v.push((ears_method_of(e.method), s, o, 1));
                    }
                }
            }
            if let Some(c) = &params.cusum {
                let adjust = params.day_of_week_adjust && c.weekday_adjust;
                let input = if adjust { &adjusted } else { daily };
                for mut o in cusum(input, c) {
                    if o.index >= from {
                        if adjust {
                            let t = o.index;
                            o.p_count = window_p(
                                daily,
                                Some(&factors),
                                t..t + 1,
                                t - c.guard - c.baseline..t - c.guard,
                            );
                            o = scale_back(o);
                        }
                        v.push((Method::Cusum, s, o, 1));
                    }
                }
            }
            if let Some(pp) = &params.pooled {
                if let Some(total) = totals.get(&(id.level, id.division, id.category)) {
                    let reference: Vec<f64> = total.iter().zip(daily).map(|(t, x)| t - x).collect();
                    for o in pooled_scan(daily, &reference, pp, from) {
                        v.push((Method::Pooled, s, o, 1));
                    }
                }
            }
            if let Some(f) = &params.farrington {
                let (weekly, first_monday) = daily_to_weekly(daily, start);
                // Only weeks that can be reported are fitted (each week is an independent fit).
                let first_week = from.saturating_sub(first_monday).div_ceil(7);
                for t in f.first_index().max(first_week)..weekly.len() {
                    if let Some(mut o) = farrington_at(&weekly, t, f) {
                        o.index = first_monday + 7 * o.index;
                        v.push((Method::Farrington, s, o, 7));
                    }
                }
            }
            v
        })
        .collect();
    let mut alarms = Vec::new();
    for method in Method::ALL {
        let idx: Vec<usize> = (0..tested.len())
            .filter(|&i| tested[i].0 == method)
            .collect();
        let p: Vec<f64> = idx.iter().map(|&i| tested[i].2.p_count).collect();
        let q = benjamini_hochberg(&p);
        for (k, &i) in idx.iter().enumerate() {
            let (_, s, o, days) = tested[i];
            if !o.alarm {
                continue;
            }
            let id = series[s].0;
            let Some(region) = reference::cities()
                .get(id.city as usize)
                .and_then(|c| RegionCode::parse(&c.code).ok())
            else {
                continue;
            };
            let category = id.category.and_then(|c| Category::from_index(c as usize));
            alarms.push(Alarm {
                method,
                level: id.level,
                region,
                division: id
                    .division
                    .and_then(division_from_index)
                    .or(category.map(Category::division)),
                category,
                period: Period {
                    start: start + Duration::days(o.index as i64),
                    days,
                },
                observed: o.observed,
                expected: o.expected,
                threshold: o.upperbound,
                p_value: o.p_count,
                p_classic: o.p_value,
                window_days: o.window,
                q_value: q[k],
                significant: q[k] <= params.fdr,
            });
        }
    }
    alarms
}

/// Alarms of one city in one period, organised city → division → category.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CityRollup {
    pub region: RegionCode,
    pub period: Period,
    /// Alarms on the city total.
    pub city_alarms: Vec<Alarm>,
    pub divisions: Vec<DivisionRollup>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DivisionRollup {
    pub division: Division,
    /// Alarms on the city × division series itself.
    pub alarms: Vec<Alarm>,
    /// Alarms on category series of this division.
    pub categories: Vec<Alarm>,
}

/// Groups alarms by (city, period) and nests them: a category alarm appears under its division
/// even when the division series itself did not alarm, so a reader sees where a city's signal
/// comes from. Sorted by period then region.
pub fn roll_up(alarms: &[Alarm]) -> Vec<CityRollup> {
    use std::collections::BTreeMap;
    let mut by_city: BTreeMap<(Period, String), CityRollup> = BTreeMap::new();
    for a in alarms {
        let entry = by_city
            .entry((a.period, a.region.as_str().to_string()))
            .or_insert_with(|| CityRollup {
                region: a.region.clone(),
                period: a.period,
                city_alarms: Vec::new(),
                divisions: Vec::new(),
            });
        let Some(division) = a.division else {
            entry.city_alarms.push(a.clone());
            continue;
        };
        let pos = match entry.divisions.iter().position(|d| d.division == division) {
            Some(p) => p,
            None => {
                entry.divisions.push(DivisionRollup {
                    division,
                    alarms: Vec::new(),
                    categories: Vec::new(),
                });
                entry.divisions.len() - 1
            }
        };
        if a.category.is_some() {
            entry.divisions[pos].categories.push(a.clone());
        } else {
            entry.divisions[pos].alarms.push(a.clone());
        }
    }
    by_city.into_values().collect()
}
