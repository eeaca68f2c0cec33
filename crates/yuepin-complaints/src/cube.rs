//! Integer-coded, columnar in-memory aggregation of complaints: one compact column per
//! dimension (day, city, division, category, problem type, enterprise), group-by counts at day /
//! ISO week / month grain, dense per-series matrices for the detectors, rates per 100 000
//! residents, top-N and trends. Group-bys run on both cores with `rayon`.

use crate::model::{Category, Complaint, ProblemType};
use chrono::{Datelike, Duration, NaiveDate};
use rayon::prelude::*;
use std::collections::HashMap;
use yuepin_domain::{reference, Division, RegionCode};

/// Sentinel for "unknown" in u8-coded columns.
pub const UNKNOWN: u8 = u8::MAX;
/// Sentinel for "no enterprise".
pub const NO_ENTERPRISE: u32 = u32::MAX;
/// Number of GB/T 4754 manufacturing divisions (13–43).
pub const DIVISIONS: usize = 31;

/// Index of a city in `reference::cities()` (0–20).
pub fn city_index(region: &RegionCode) -> Option<u8> {
    let code = region.city().code.as_str();
    reference::cities()
        .iter()
        .position(|c| c.code == code)
        .map(|i| i as u8)
}

/// Division code 13–43 → 0–30.
pub fn division_index(d: Division) -> u8 {
    d.code().saturating_sub(13)
}

/// 0–30 → division.
pub fn division_from_index(i: u8) -> Option<Division> {
    Division::parse(&(u32::from(i) + 13).to_string()).ok()
}

/// Resident population (2020 seventh national census, rounded; see docs) by city index.
pub fn city_population(city: u8) -> Option<u64> {
    // Order follows reference::cities() (GB/T 2260 code order 440100 … 445300).
    const BY_CODE: [(&str, u64); 21] = [
        ("440100", 18_676_605),
        ("440200", 2_855_131),
        ("440300", 17_560_061),
        ("440400", 2_439_585),
        ("440500", 5_502_031),
        ("440600", 9_498_863),
        ("440700", 4_798_090),
        ("440800", 6_981_236),
        ("440900", 6_174_050),
        ("441200", 4_113_594),
        ("441300", 6_042_852),
        ("441400", 3_873_239),
        ("441500", 2_672_819),
        ("441600", 2_837_686),
        ("441700", 2_602_959),
        ("441800", 3_969_473),
        ("441900", 10_466_625),
        ("442000", 4_418_060),
        ("445100", 2_568_387),
        ("445200", 5_577_814),
        ("445300", 2_383_350),
    ];
    let code = &reference::cities().get(city as usize)?.code;
    BY_CODE.iter().find(|(c, _)| c == code).map(|(_, p)| *p)
}

/// Time granularity of a group-by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TimeGrain {
    Day,
    /// ISO week, keyed by its Monday.
    IsoWeek,
    Month,
}

/// A dimension to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    City,
    Division,
    Category,
    Problem,
    Enterprise,
}

/// One group-by cell: period start date plus the requested dimension values (others `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    pub period: NaiveDate,
    pub city: Option<u8>,
    pub division: Option<u8>,
    pub category: Option<u8>,
    pub problem: Option<u8>,
    pub enterprise: Option<u32>,
}

/// A complaint reduced to integer codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodedComplaint {
    /// Days since the cube's start date.
    pub day: u16,
    pub city: u8,
    pub division: u8,
    pub category: u8,
    pub problem: u8,
    pub enterprise: u32,
}

/// Why a complaint could not enter the cube.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CubeError {
    #[error("complaint {id}: received {date} is outside the cube's range {start}..={end}")]
    OutOfRange {
        id: String,
        date: NaiveDate,
        start: NaiveDate,
        end: NaiveDate,
    },
}

/// The columnar store.
#[derive(Debug, Clone)]
pub struct Cube {
    start: NaiveDate,
    days: usize,
    day: Vec<u16>,
    city: Vec<u8>,
    division: Vec<u8>,
    category: Vec<u8>,
    problem: Vec<u8>,
    enterprise: Vec<u32>,
    enterprise_ids: HashMap<String, u32>,
    enterprise_names: Vec<String>,
}

impl Cube {
    /// An empty cube for days `start..=end` (at most 65 535 days).
    pub fn new(start: NaiveDate, end: NaiveDate) -> Self {
        let days = ((end - start).num_days() + 1).clamp(0, i64::from(u16::MAX)) as usize;
        Self {
            start,
            days,
            day: Vec::new(),
            city: Vec::new(),
            division: Vec::new(),
            category: Vec::new(),
            problem: Vec::new(),
            enterprise: Vec::new(),
            enterprise_ids: HashMap::new(),
            enterprise_names: Vec::new(),
        }
    }
    pub fn start(&self) -> NaiveDate {
        self.start
    }
    pub fn days(&self) -> usize {
        self.days
    }
    pub fn len(&self) -> usize {
        self.day.len()
    }
    pub fn is_empty(&self) -> bool {
        self.day.is_empty()
    }
    pub fn date_of(&self, day: usize) -> NaiveDate {
        self.start + Duration::days(day as i64)
    }
    pub fn enterprise_name(&self, id: u32) -> Option<&str> {
        self.enterprise_names.get(id as usize).map(String::as_str)
    }

    /// Interns an enterprise key (USCC, else name).
    pub fn enterprise_id(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.enterprise_ids.get(key) {
            return id;
        }
        let id = self.enterprise_names.len() as u32;
        self.enterprise_names.push(key.to_string());
        self.enterprise_ids.insert(key.to_string(), id);
        id
    }

    /// Adds a parsed complaint (classify it first so division/category are filled).
    pub fn push(&mut self, c: &Complaint) -> Result<(), CubeError> {
        let date = c.received_at.date();
        let offset = (date - self.start).num_days();
        if offset < 0 || offset as usize >= self.days {
            return Err(CubeError::OutOfRange {
                id: c.id.to_string(),
                date,
                start: self.start,
                end: self.date_of(self.days.saturating_sub(1)),
            });
        }
        let enterprise = match (&c.enterprise_uscc, &c.enterprise_name) {
            (Some(u), _) => self.enterprise_id(u.as_str()),
            (None, Some(n)) => self.enterprise_id(n),
            _ => NO_ENTERPRISE,
        };
        let division = c.division.or(c.category.map(Category::division));
        self.push_coded(CodedComplaint {
            day: offset as u16,
            city: city_index(&c.region).unwrap_or(UNKNOWN),
            division: division.map_or(UNKNOWN, division_index),
            category: c.category.map_or(UNKNOWN, |c| c.index() as u8),
            problem: c.problem.index() as u8,
            enterprise,
        });
        Ok(())
    }

    /// Fast path for already-coded records (generator, store reloads).
    pub fn push_coded(&mut self, c: CodedComplaint) {
        if usize::from(c.day) >= self.days {
            return;
        }
        self.day.push(c.day);
        self.city.push(c.city);
        self.division.push(c.division);
        self.category.push(c.category);
        self.problem.push(c.problem);
        self.enterprise.push(c.enterprise);
    }

    /// Period index and start date for a day at a grain.
    fn period_of(&self, grain: TimeGrain, day: u16) -> NaiveDate {
        let date = self.date_of(day as usize);
        match grain {
            TimeGrain::Day => date,
            TimeGrain::IsoWeek => {
                date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
            }
            TimeGrain::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// Group-by count over the requested dimensions at a time grain, in parallel. Rows whose
    /// requested dimension is unknown are grouped under `Some(UNKNOWN)`.
    ///
    /// The coded dimensions are small integers, so unless the enterprise is a dimension the
    /// cells are counted in a dense array (period × the values each dimension actually takes)
    /// per thread and summed; only non-empty cells are returned. Wider keys fall back to hash
    /// maps.
    pub fn counts(&self, grain: TimeGrain, dims: &[Dim]) -> Vec<(CellKey, u64)> {
        // The period of every day, and (periods only grow with the day) their numbering.
        let periods: Vec<NaiveDate> = (0..self.days)
            .map(|d| self.period_of(grain, d as u16))
            .collect();
        let mut period_starts: Vec<NaiveDate> = Vec::new();
        let period_index: Vec<u32> = periods
            .iter()
            .map(|p| {
                if period_starts.last() != Some(p) {
                    period_starts.push(*p);
                }
                (period_starts.len() - 1) as u32
            })
            .collect();
        const DENSE_CELLS: usize = 1 << 22;
        let columns: Option<Vec<CodedColumn>> = dims
            .iter()
            .map(|d| self.small_column(*d).map(|col| CodedColumn::new(*d, col)))
            .collect();
        if let Some(columns) = columns {
            let cells = columns.iter().fold(period_starts.len().max(1), |n, c| {
                n.saturating_mul(c.values.len().max(1))
            });
            if cells <= DENSE_CELLS {
                return self.dense_counts(&period_index, &period_starts, &columns, cells);
            }
        }
        self.hashed_counts(&periods, dims)
    }

    /// The `u8` column of a coded dimension (`None` for the enterprise).
    fn small_column(&self, d: Dim) -> Option<&[u8]> {
        match d {
            Dim::City => Some(&self.city),
            Dim::Division => Some(&self.division),
            Dim::Category => Some(&self.category),
            Dim::Problem => Some(&self.problem),
            Dim::Enterprise => None,
        }
    }

    fn dense_counts(
        &self,
        period_index: &[u32],
        period_starts: &[NaiveDate],
        columns: &[CodedColumn],
        cells: usize,
    ) -> Vec<(CellKey, u64)> {
        let chunk = 1 << 16;
        let n = self.len();
        let totals = (0..n.div_ceil(chunk))
            .into_par_iter()
            .fold(
                || vec![0u32; cells],
                |mut acc, c| {
                    for i in c * chunk..((c + 1) * chunk).min(n) {
                        let mut cell = period_index[self.day[i] as usize] as usize;
                        for col in columns {
                            cell = cell * col.values.len() + col.position(i);
                        }
                        acc[cell] += 1;
                    }
                    acc
                },
            )
            .reduce(
                || vec![0u32; cells],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        let mut out = Vec::new();
        for (cell, &count) in totals.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let mut rest = cell;
            let mut key = CellKey {
                period: period_starts[0],
                city: None,
                division: None,
                category: None,
                problem: None,
                enterprise: None,
            };
            for col in columns.iter().rev() {
                let v = Some(col.values[rest % col.values.len()]);
                rest /= col.values.len();
                match col.dim {
                    Dim::City => key.city = v,
                    Dim::Division => key.division = v,
                    Dim::Category => key.category = v,
                    Dim::Problem => key.problem = v,
                    Dim::Enterprise => {}
                }
            }
            key.period = period_starts[rest];
            out.push((key, u64::from(count)));
        }
        out.sort_unstable();
        out
    }

    fn hashed_counts(&self, periods: &[NaiveDate], dims: &[Dim]) -> Vec<(CellKey, u64)> {
        let has = |d: Dim| dims.contains(&d);
        let chunk = 1 << 16;
        let merged = (0..self.len())
            .into_par_iter()
            .step_by(chunk)
            .map(|from| {
                let mut map: HashMap<CellKey, u64> = HashMap::new();
                for i in from..(from + chunk).min(self.len()) {
                    let key = CellKey {
                        period: periods[self.day[i] as usize],
                        city: has(Dim::City).then_some(self.city[i]),
                        division: has(Dim::Division).then_some(self.division[i]),
                        category: has(Dim::Category).then_some(self.category[i]),
                        problem: has(Dim::Problem).then_some(self.problem[i]),
                        enterprise: has(Dim::Enterprise).then_some(self.enterprise[i]),
                    };
                    *map.entry(key).or_default() += 1;
                }
                map
            })
            .reduce(HashMap::new, |mut a, b| {
                for (k, v) in b {
                    *a.entry(k).or_default() += v;
                }
                a
            });
        let mut out: Vec<(CellKey, u64)> = merged.into_iter().collect();
        out.sort_unstable();
        out
    }

    /// Dense daily counts, one row of `days` per series, where `series_of` maps a record
    /// index to a series number below `n_series` (or `None` to skip). Parallel over chunks.
    pub fn daily_matrix(
        &self,
        n_series: usize,
        series_of: impl Fn(&Self, usize) -> Option<usize> + Sync,
    ) -> Vec<Vec<f64>> {
        let days = self.days;
        let chunk = 1 << 18;
        let flat = (0..self.len())
            .into_par_iter()
            .step_by(chunk)
            .map(|from| {
                let mut m = vec![0u32; n_series * days];
                for i in from..(from + chunk).min(self.len()) {
                    if let Some(s) = series_of(self, i).filter(|s| *s < n_series) {
                        m[s * days + self.day[i] as usize] += 1;
                    }
                }
                m
            })
            .reduce(
                || vec![0u32; n_series * days],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        flat.chunks(days.max(1))
            .take(n_series)
            .map(|row| row.iter().map(|&v| f64::from(v)).collect())
            .collect()
    }

    pub fn city_of(&self, i: usize) -> u8 {
        self.city[i]
    }
    pub fn division_of(&self, i: usize) -> u8 {
        self.division[i]
    }
    pub fn category_of(&self, i: usize) -> u8 {
        self.category[i]
    }
    pub fn problem_of(&self, i: usize) -> u8 {
        self.problem[i]
    }

    /// Complaints per 100 000 residents by city over days `from..to`.
    pub fn rate_per_100k_by_city(&self, from: usize, to: usize) -> Vec<(RegionCode, u64, f64)> {
        let mut counts = [0u64; 21];
        for i in 0..self.len() {
            let d = self.day[i] as usize;
            if d >= from && d < to {
                if let Some(c) = counts.get_mut(self.city[i] as usize) {
                    *c += 1;
                }
            }
        }
        (0..21u8)
            .filter_map(|c| {
                let region = RegionCode::parse(&reference::cities().get(c as usize)?.code).ok()?;
                let pop = city_population(c)? as f64;
                Some((
                    region,
                    counts[c as usize],
                    counts[c as usize] as f64 * 1e5 / pop,
                ))
            })
            .collect()
    }

    /// Top-N values of one dimension by count within days `from..to`.
    pub fn top_n(&self, dim: Dim, from: usize, to: usize, n: usize) -> Vec<(u32, u64)> {
        let mut counts: HashMap<u32, u64> = HashMap::new();
        for i in 0..self.len() {
            let d = self.day[i] as usize;
            if d < from || d >= to {
                continue;
            }
            let v = match dim {
                Dim::City => u32::from(self.city[i]),
                Dim::Division => u32::from(self.division[i]),
                Dim::Category => u32::from(self.category[i]),
                Dim::Problem => u32::from(self.problem[i]),
                Dim::Enterprise => self.enterprise[i],
            };
            if v != u32::from(UNKNOWN) && v != NO_ENTERPRISE {
                *counts.entry(v).or_default() += 1;
            }
        }
        let mut v: Vec<(u32, u64)> = counts.into_iter().collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

/// Trend of a series: ratio of the last `window` periods to the `window` before them and the
/// least-squares slope (per period) over the last `2·window`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    pub recent: f64,
    pub previous: f64,
    pub ratio: f64,
    pub slope: f64,
}

pub fn trend(series: &[f64], window: usize) -> Option<Trend> {
    if window == 0 || series.len() < 2 * window {
        return None;
    }
    let tail = &series[series.len() - 2 * window..];
    let previous: f64 = tail[..window].iter().sum();
    let recent: f64 = tail[window..].iter().sum();
    let n = tail.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = tail.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in tail.iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    Some(Trend {
        recent,
        previous,
        ratio: if previous > 0.0 {
            recent / previous
        } else {
            f64::INFINITY
        },
        slope: sxy / sxx,
    })
}

/// Sums a daily series into ISO weeks. Returns the weekly series and the index of the first
/// day used (the first Monday); the trailing partial week is dropped.
pub fn daily_to_weekly(daily: &[f64], start: NaiveDate) -> (Vec<f64>, usize) {
    let first_monday = (7 - start.weekday().num_days_from_monday() as usize) % 7;
    let weekly = daily
        .get(first_monday..)
        .unwrap_or(&[])
        .chunks_exact(7)
        .map(|w| w.iter().sum())
        .collect();
    (weekly, first_monday)
}

/// The problem type for a coded index.
pub fn problem_from_index(i: u8) -> Option<ProblemType> {
    ProblemType::ALL.get(i as usize).copied()
}

/// A `u8` dimension column with the distinct values it takes (ascending) and each value's
/// position among them: the dense counter's axis for that dimension.
struct CodedColumn<'a> {
    dim: Dim,
    col: &'a [u8],
    position_of: [u16; 256],
    values: Vec<u8>,
}

impl<'a> CodedColumn<'a> {
    fn new(dim: Dim, col: &'a [u8]) -> Self {
        let mut seen = [false; 256];
        for &v in col {
            seen[usize::from(v)] = true;
        }
        let mut position_of = [0u16; 256];
        let mut values = Vec::new();
        for (v, present) in seen.iter().enumerate() {
            if *present {
                position_of[v] = values.len() as u16;
                values.push(v as u8);
            }
        }
        Self {
            dim,
            col,
            position_of,
            values,
        }
    }

    /// Row `i`'s position on this axis.
    fn position(&self, i: usize) -> usize {
        usize::from(self.position_of[usize::from(self.col[i])])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The dense counter and the hash-map counter agree on every grain and dimension set.
        #[test]
        fn dense_and_hashed_counts_agree(
            rows in proptest::collection::vec((0u16..800, 0u8..4, proptest::prop_oneof![0u8..31, proptest::strategy::Just(UNKNOWN)], 0u8..3, 0u8..2), 0..400),
            dims_mask in 0u8..16,
            grain in 0u8..3,
        ) {
            let start = NaiveDate::from_ymd_opt(2023, 12, 25).unwrap();
            let mut cube = Cube::new(start, start + Duration::days(799));
            for (day, city, division, category, problem) in rows {
                cube.push_coded(CodedComplaint { day, city, division, category, problem, enterprise: NO_ENTERPRISE });
            }
            let dims: Vec<Dim> = [Dim::City, Dim::Division, Dim::Category, Dim::Problem]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| dims_mask & (1 << i) != 0)
                .map(|(_, d)| d)
                .collect();
            let grain = [TimeGrain::Day, TimeGrain::IsoWeek, TimeGrain::Month][grain as usize];
            let periods: Vec<NaiveDate> = (0..cube.days).map(|d| cube.period_of(grain, d as u16)).collect();
            proptest::prop_assert_eq!(cube.counts(grain, &dims), cube.hashed_counts(&periods, &dims));
        }
    }

    #[test]
    fn group_by_week_and_city() {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let mut cube = Cube::new(start, NaiveDate::from_ymd_opt(2024, 12, 31).unwrap());
        for day in [0u16, 1, 6, 7, 40] {
            cube.push_coded(CodedComplaint {
                day,
                city: 2,
                division: 25,
                category: 0,
                problem: 0,
                enterprise: NO_ENTERPRISE,
            });
        }
        let weekly = cube.counts(TimeGrain::IsoWeek, &[Dim::City]);
        assert_eq!(weekly[0].1, 3);
        assert_eq!(weekly[0].0.city, Some(2));
        assert_eq!(cube.counts(TimeGrain::Month, &[]).len(), 2);
        let m = cube.daily_matrix(21, |c, i| Some(c.city_of(i) as usize));
        assert_eq!(m[2].iter().sum::<f64>(), 5.0);
        let (w, first) = daily_to_weekly(&m[2], start);
        assert_eq!((w[0], first), (3.0, 0));
        assert_eq!(cube.top_n(Dim::City, 0, 366, 5), vec![(2, 5)]);
        assert!(city_population(0).unwrap() > 18_000_000);
        assert!(trend(&[1.0, 1.0, 2.0, 4.0], 2).unwrap().ratio == 3.0);
    }
}
