//! Labelled evaluation sets and the scoring harness behind `complaints evaluate`.
//!
//! [`LabelledSet`]: the project's generator ([`crate::generate`]) for the base volume, plus
//! `outbreaks` multiplicative outbreaks on city × division series in the last `scored_days`:
//! 5–20 days, peak ×2–×4, of a chosen [`Shape`]. Each complaint of the target series on an
//! outbreak day is joined by Poisson(f(t) − 1) copies, so the series' mean is multiplied by
//! f(t). Outbreak cities are drawn by the generator's city weights, divisions through a
//! uniformly drawn category (as the generator draws its own outbreaks).
//!
//! [`score_config`] runs [`detect_all`] at city × division level over the scored days and scores
//! every method, raw alarms and BH-significant ones, and the union of all methods:
//! an outbreak is found if its series alarms on a day in [start, end + 6]; delay = first such
//! alarm day − start; false alarms = alarms on series-days outside every outbreak's
//! [start, end + 6], per 1 000 series-days (21 × 31 series × scored days). Weekly alarms count
//! on the week's last day (when the week is complete).

use crate::cube::{division_index, Cube, DIVISIONS};
use crate::detect::{detect_all, Alarm, DetectParams, Level, Method};
use crate::generate::{city_weights, generate, Generated, GeneratorParams};
use crate::model::{categories, Category};
use chrono::{Duration, NaiveDate};
use rand::distributions::{Distribution, WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Poisson;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Time profile of an outbreak's multiplier, from 1 to the peak factor F.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// F on every day.
    Flat,
    /// Linear rise from 1 + (F − 1)/L to F on the last day.
    Ramp,
    /// F on the first day, then exponential decay (time constant L/3).
    Spike,
    /// Half-sine: rises to F in the middle, falls back.
    Bell,
}

impl Shape {
    pub const ALL: [Shape; 4] = [Shape::Flat, Shape::Ramp, Shape::Spike, Shape::Bell];
    /// The shape's key (`flat`, `ramp`, `spike`, `bell`).
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Flat => "flat",
            Shape::Ramp => "ramp",
            Shape::Spike => "spike",
            Shape::Bell => "bell",
        }
    }
    /// A shape from its key (case-insensitive, trimmed).
    pub fn parse(s: &str) -> Option<Shape> {
        let s = s.trim().to_ascii_lowercase();
        Shape::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The multiplier on day `i` (0-based) of an outbreak of `len` days with peak `peak`.
    pub fn factor(self, i: usize, len: usize, peak: f64) -> f64 {
        let (i, l) = (i as f64, len.max(1) as f64);
        let s = match self {
            Shape::Flat => 1.0,
            Shape::Ramp => (i + 1.0) / l,
            Shape::Spike => (-i / (l / 3.0)).exp(),
            Shape::Bell => (std::f64::consts::PI * (i + 0.5) / l).sin(),
        };
        1.0 + (peak - 1.0) * s
    }
}

/// What a labelled set holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledSetParams {
    pub seed: u64,
    pub start: NaiveDate,
    pub days: usize,
    pub mean_daily: f64,
    pub outbreaks: usize,
    pub min_days: usize,
    pub max_days: usize,
    pub min_factor: f64,
    pub max_factor: f64,
    /// Shapes drawn uniformly per outbreak.
    pub shapes: Vec<Shape>,
    /// Outbreaks lie in, and scoring covers, the last `scored_days` days.
    pub scored_days: usize,
}

impl LabelledSetParams {
    /// The set: 4.2 years daily from 2022-01-03 at ~6 500 complaints a day (≈ 10 M),
    /// 40 outbreaks of 5–20 days at ×2–×4 in the last year.
    pub fn standard(seed: u64, shapes: Vec<Shape>) -> Self {
        Self {
            seed,
            start: NaiveDate::from_ymd_opt(2022, 1, 3).expect("valid date"),
            days: 1533,
            mean_daily: 6500.0,
            outbreaks: 40,
            min_days: 5,
            max_days: 20,
            min_factor: 2.0,
            max_factor: 4.0,
            shapes,
            scored_days: 364,
        }
    }

    /// A small set for smoke tests and quick looks (seconds, not minutes): 240 days from
    /// 2022-01-03 at ~1 500 complaints a day (≈ 0.36 M), 10 outbreaks of 5–20 days at ×2–×4 in
    /// the last 91 days. Its figures are noisier than the standard set's; do not report them.
    pub fn small(seed: u64, shapes: Vec<Shape>) -> Self {
        Self {
            days: 240,
            mean_daily: 1500.0,
            outbreaks: 10,
            scored_days: 91,
            ..Self::standard(seed, shapes)
        }
    }
}

/// One injected outbreak (day indices from the set's start; `end` inclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurgeOutbreak {
    pub start: usize,
    pub end: usize,
    pub city: u8,
    pub division: u8,
    pub peak: f64,
    pub shape: Shape,
}

/// A labelled set: base data and outbreak ground truth.
#[derive(Debug, Clone)]
pub struct LabelledSet {
    pub params: LabelledSetParams,
    pub base: Generated,
    pub outbreaks: Vec<SurgeOutbreak>,
}

impl LabelledSet {
    pub fn new(params: LabelledSetParams) -> Self {
        let base = generate(
            params.seed,
            GeneratorParams::new(params.start, params.days, params.mean_daily),
        );
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed ^ 0x5eed_f5e7);
        let cw = WeightedIndex::new(city_weights()).expect("positive weights");
        let n_cat = categories().len();
        let first = params.days.saturating_sub(params.scored_days);
        let shapes = if params.shapes.is_empty() {
            vec![Shape::Flat]
        } else {
            params.shapes.clone()
        };
        let outbreaks = (0..params.outbreaks)
            .filter_map(|_| {
                let len = rng.gen_range(params.min_days..=params.max_days.max(params.min_days));
                let latest = params.days.checked_sub(len)?;
                let start = rng.gen_range(first.min(latest)..=latest);
                let city = cw.sample(&mut rng) as u8;
                let category = Category::from_index(rng.gen_range(0..n_cat))?;
                let peak = rng.gen_range(params.min_factor..=params.max_factor);
                let shape = shapes[rng.gen_range(0..shapes.len())];
                Some(SurgeOutbreak {
                    start,
                    end: start + len - 1,
                    city,
                    division: division_index(category.division()),
                    peak,
                    shape,
                })
            })
            .collect();
        Self {
            params,
            base,
            outbreaks,
        }
    }

    /// The set as a cube: the base records plus the outbreaks' extra copies.
    pub fn cube(&self) -> Cube {
        let p = &self.params;
        let mut cube = Cube::new(p.start, p.start + Duration::days(p.days as i64 - 1));
        let mut by_series: HashMap<(u16, u8, u8), f64> = HashMap::new();
        for o in &self.outbreaks {
            for d in o.start..=o.end {
                let f = o.shape.factor(d - o.start, o.end - o.start + 1, o.peak);
                *by_series
                    .entry((d as u16, o.city, o.division))
                    .or_insert(1.0) *= f;
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed ^ 0xc0de_cafe);
        for c in self.base.coded() {
            cube.push_coded(c);
            if let Some(f) = by_series.get(&(c.day, c.city, c.division)) {
                let extra = Poisson::new((f - 1.0).max(1e-9))
                    .map(|d| d.sample(&mut rng) as usize)
                    .unwrap_or(0);
                for _ in 0..extra {
                    cube.push_coded(c);
                }
            }
        }
        cube
    }

    /// First scored day index.
    pub fn scored_from(&self) -> usize {
        self.params.days.saturating_sub(self.params.scored_days)
    }
}

/// Scores of one method (or combination) on one labelled set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// `pooled_scan`, `ears_c2`, … ; `+bh` when only BH-significant alarms count; `combined`.
    pub name: String,
    pub outbreaks: usize,
    pub detected: usize,
    pub sensitivity: f64,
    /// Median days from start to first alarm (detected outbreaks; NaN if none).
    pub median_delay: f64,
    pub false_alarms: usize,
    pub false_alarms_per_1000: f64,
}

/// Scores the alarms on (series, day) pairs against the outbreaks.
pub fn score_alarms(name: &str, set: &LabelledSet, alarm_days: &HashSet<(u8, u8, usize)>) -> Score {
    let mut delays = Vec::new();
    let mut covered: HashSet<(u8, u8, usize)> = HashSet::new();
    for o in &set.outbreaks {
        for d in o.start..=o.end + 6 {
            covered.insert((o.city, o.division, d));
        }
        let first = (o.start..=o.end + 6).find(|d| alarm_days.contains(&(o.city, o.division, *d)));
        if let Some(d) = first {
            delays.push((d - o.start) as f64);
        }
    }
    let from = set.scored_from();
    let false_alarms = alarm_days
        .iter()
        .filter(|k| k.2 >= from && !covered.contains(k))
        .count();
    delays.sort_by(f64::total_cmp);
    let median_delay = match delays.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => delays[n / 2],
        n => (delays[n / 2 - 1] + delays[n / 2]) / 2.0,
    };
    let series_days = (21 * DIVISIONS * set.params.scored_days) as f64;
    Score {
        name: name.to_string(),
        outbreaks: set.outbreaks.len(),
        detected: delays.len(),
        sensitivity: delays.len() as f64 / set.outbreaks.len().max(1) as f64,
        median_delay,
        false_alarms,
        false_alarms_per_1000: false_alarms as f64 * 1000.0 / series_days,
    }
}

fn alarm_day(a: &Alarm, start: NaiveDate) -> usize {
    ((a.period.start - start).num_days() + i64::from(a.period.days) - 1).max(0) as usize
}

/// Runs `params` at city × division level over the scored days of `cube` (built from `set`)
/// and scores each method (raw and `+bh`) and the union of all methods' raw alarms.
pub fn score_config(set: &LabelledSet, cube: &Cube, params: &DetectParams) -> Vec<Score> {
    let prm = DetectParams {
        levels: vec![Level::CityDivision],
        report_from_day: set.scored_from(),
        ..params.clone()
    };
    let alarms = detect_all(cube, &prm);
    let start = set.params.start;
    let key = |a: &Alarm| -> Option<(u8, u8, usize)> {
        let city = crate::cube::city_index(&a.region)?;
        let division = division_index(a.division?);
        Some((city, division, alarm_day(a, start)))
    };
    let mut out = Vec::new();
    let mut all: HashSet<(u8, u8, usize)> = HashSet::new();
    let mut methods = 0;
    for m in Method::ALL {
        let mine: Vec<&Alarm> = alarms.iter().filter(|a| a.method == m).collect();
        let enabled = match m {
            Method::EarsC1 | Method::EarsC2 | Method::EarsC3 => prm
                .ears
                .iter()
                .any(|e| crate::detect::ears_method_of(e.method) == m),
            Method::Farrington => prm.farrington.is_some(),
            Method::Cusum => prm.cusum.is_some(),
            Method::Pooled => prm.pooled.is_some(),
        };
        if !enabled {
            continue;
        }
        methods += 1;
        let raw: HashSet<_> = mine.iter().filter_map(|a| key(a)).collect();
        let bh: HashSet<_> = mine
            .iter()
            .filter(|a| a.significant)
            .filter_map(|a| key(a))
            .collect();
        all.extend(raw.iter().copied());
        out.push(score_alarms(m.as_str(), set, &raw));
        out.push(score_alarms(&format!("{}+bh", m.as_str()), set, &bh));
    }
    if methods > 1 {
        out.push(score_alarms("combined", set, &all));
    }
    out
}

/// One row of an evaluation: a score on the set of `seed` with outbreak `shapes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationRow {
    pub seed: u64,
    /// The shapes' keys joined by commas (`spike,bell`).
    pub shapes: String,
    pub score: Score,
}

/// Builds each labelled set in turn (one in memory at a time), runs `params` on it and returns
/// every score, seed by seed: what `yuepin complaints evaluate` and the `surge_eval` example
/// print. `on_set` is told each set's seed and complaint count before it is scored.
pub fn evaluate_sets(
    sets: impl IntoIterator<Item = LabelledSetParams>,
    params: &DetectParams,
    mut on_set: impl FnMut(u64, usize),
) -> Vec<EvaluationRow> {
    let mut rows = Vec::new();
    for p in sets {
        let shapes = p
            .shapes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let seed = p.seed;
        let set = LabelledSet::new(p);
        let cube = set.cube();
        on_set(seed, cube.len());
        for score in score_config(&set, &cube, params) {
            rows.push(EvaluationRow {
                seed,
                shapes: shapes.clone(),
                score,
            });
        }
    }
    rows
}

/// The default detector's measured operating point, quoted on the regulator's pages next to
/// the configuration in force. Source: `docs/benchmarks/yuepin-complaints.md`, "Surge detection
/// quality (issue #18), 2026-12-01": `surge_eval --seeds 101,202,303 --shapes spike,bell`, the
/// standard labelled sets (not used while the defaults were set). Valid only while the run's
/// configuration equals `DetectorConfig::default()`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeasuredOperatingPoint {
    pub seeds: [u64; 3],
    pub sensitivity_min: f64,
    pub sensitivity_max: f64,
    pub median_delay_max_days: f64,
    pub false_alarms_per_1000_min: f64,
    pub false_alarms_per_1000_max: f64,
    /// Where the figures come from (a path in the repository).
    pub source: &'static str,
    /// The day the table was measured.
    pub measured_on: &'static str,
}

/// See [`MeasuredOperatingPoint`].
pub const DEFAULT_MEASURED: MeasuredOperatingPoint = MeasuredOperatingPoint {
    seeds: [101, 202, 303],
    sensitivity_min: 0.925,
    sensitivity_max: 0.975,
    median_delay_max_days: 1.0,
    false_alarms_per_1000_min: 0.468,
    false_alarms_per_1000_max: 0.532,
    source: "docs/benchmarks/yuepin-complaints.md",
    measured_on: "2026-12-01",
};

/// Renders evaluation rows as a Markdown table (see [`markdown_table`]).
pub fn evaluation_table(rows: &[EvaluationRow]) -> String {
    let rows: Vec<(u64, &str, Score)> = rows
        .iter()
        .map(|r| (r.seed, r.shapes.as_str(), r.score.clone()))
        .collect();
    markdown_table(&rows)
}

/// Renders scores as a Markdown table (one row per score, seed in the first column).
pub fn markdown_table(rows: &[(u64, &str, Score)]) -> String {
    let mut s = String::from(
        "| seed | shapes | method | sensitivity | median delay (d) | false alarms / 1,000 series-days | detected / outbreaks |\n|---|---|---|---|---|---|---|\n",
    );
    for (seed, shapes, r) in rows {
        s.push_str(&format!(
            "| {seed} | {shapes} | {} | {:.3} | {} | {:.3} | {}/{} |\n",
            r.name,
            r.sensitivity,
            if r.median_delay.is_nan() {
                "–".to_string()
            } else {
                format!("{:.1}", r.median_delay)
            },
            r.false_alarms_per_1000,
            r.detected,
            r.outbreaks
        ));
    }
    s
}
