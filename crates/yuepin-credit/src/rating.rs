//! The quality credit rating: a dated, versioned model (weights, caps, decay half-lives, grade
//! thresholds) read from a TOML data file, and [`grade`], which turns an enterprise's dated
//! facts into a score from 0 to 100, a grade A–D, and each factor's contribution with the
//! records behind it.
//!
//! A factor's contribution is `sign × min(cap, Σ |points| × 0.5^(age / half_life))`: every
//! record counts less as it ages, no factor outweighs its cap, and adding a negative record
//! never raises the score. The score is `base + Σ contributions`, clamped to 0..=100 and
//! rounded to one decimal; the grade compares the rounded score with the thresholds.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The model in force, compiled in.
pub const MODEL_2026: &str = include_str!("../models/quality-credit-2026.toml");

/// What a record says about the enterprise, as the model weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    InspectionPassed,
    Certification,
    Award,
    Designation,
    StandardLed,
    LabReport,
    InspectionFailed,
    Penalty,
    SeriousPenalty,
    Recall,
    Complaint,
    PublishedWarning,
    CodeRevocation,
    CounterfeitSignal,
}

impl Factor {
    pub const ALL: [Factor; 14] = [
        Factor::InspectionPassed,
        Factor::Certification,
        Factor::Award,
        Factor::Designation,
        Factor::StandardLed,
        Factor::LabReport,
        Factor::InspectionFailed,
        Factor::Penalty,
        Factor::SeriousPenalty,
        Factor::Recall,
        Factor::Complaint,
        Factor::PublishedWarning,
        Factor::CodeRevocation,
        Factor::CounterfeitSignal,
    ];

    /// The key in the model file.
    pub fn key(self) -> &'static str {
        match self {
            Factor::InspectionPassed => "inspection_passed",
            Factor::Certification => "certification",
            Factor::Award => "award",
            Factor::Designation => "designation",
            Factor::StandardLed => "standard_led",
            Factor::LabReport => "lab_report",
            Factor::InspectionFailed => "inspection_failed",
            Factor::Penalty => "penalty",
            Factor::SeriousPenalty => "serious_penalty",
            Factor::Recall => "recall",
            Factor::Complaint => "complaint",
            Factor::PublishedWarning => "published_warning",
            Factor::CodeRevocation => "code_revocation",
            Factor::CounterfeitSignal => "counterfeit_signal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == s)
    }

    /// Whether its records raise the score (the model's points must have this sign).
    pub fn is_positive(self) -> bool {
        matches!(
            self,
            Factor::InspectionPassed
                | Factor::Certification
                | Factor::Award
                | Factor::Designation
                | Factor::StandardLed
                | Factor::LabReport
        )
    }
}

/// A grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Grade {
    A,
    B,
    C,
    D,
}

impl Grade {
    pub fn letter(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Grade::A, Grade::B, Grade::C, Grade::D]
            .into_iter()
            .find(|g| g.letter() == s)
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.letter())
    }
}

/// One factor's weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactorRule {
    /// Points per fresh record (signed).
    pub points: f64,
    /// The most the factor can add or take away.
    pub cap: f64,
    /// Days after which a record counts half.
    pub half_life_days: u32,
}

/// Grade thresholds (lowest score of each grade).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thresholds {
    pub a: f64,
    pub b: f64,
    pub c: f64,
}

/// A parsed, validated model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub name: String,
    pub version: String,
    pub effective_from: NaiveDate,
    pub base: f64,
    pub thresholds: Thresholds,
    pub factors: BTreeMap<Factor, FactorRule>,
}

/// What is wrong with a model file, by key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model key {key}: {problem}")]
pub struct ModelError {
    /// The dotted key (`factors.penalty.cap`), or `""` for the file as a whole.
    pub key: String,
    pub problem: ModelProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelProblem {
    #[error("not TOML: {0}")]
    Syntax(String),
    #[error("missing")]
    Missing,
    #[error("unknown key")]
    Unknown,
    #[error("wrong type, expected {0}")]
    Type(&'static str),
    #[error("out of range")]
    Range,
    #[error("points have the wrong sign for this factor")]
    Sign,
    #[error("thresholds must fall: grade_a > grade_b > grade_c")]
    Order,
}

fn err(key: impl Into<String>, problem: ModelProblem) -> ModelError {
    ModelError {
        key: key.into(),
        problem,
    }
}

fn number(t: &toml::Table, prefix: &str, name: &str) -> Result<f64, ModelError> {
    let key = format!("{prefix}{name}");
    let v = match t.get(name) {
        None => return Err(err(key, ModelProblem::Missing)),
        Some(toml::Value::Float(f)) => *f,
        Some(toml::Value::Integer(i)) => *i as f64,
        Some(_) => return Err(err(key, ModelProblem::Type("a number"))),
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(err(key, ModelProblem::Range))
    }
}

fn text<'a>(t: &'a toml::Table, name: &str) -> Result<&'a str, ModelError> {
    match t.get(name) {
        None => Err(err(name, ModelProblem::Missing)),
        Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(err(name, ModelProblem::Type("a non-empty string"))),
    }
}

fn table<'a>(t: &'a toml::Table, key: &str, name: &str) -> Result<&'a toml::Table, ModelError> {
    match t.get(name) {
        None => Err(err(key, ModelProblem::Missing)),
        Some(toml::Value::Table(t)) => Ok(t),
        Some(_) => Err(err(key, ModelProblem::Type("a table"))),
    }
}

fn only(t: &toml::Table, prefix: &str, allowed: &[&str]) -> Result<(), ModelError> {
    match t.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(err(format!("{prefix}{k}"), ModelProblem::Unknown)),
        None => Ok(()),
    }
}

impl Model {
    /// The compiled-in model in force.
    pub fn current() -> Self {
        // The compiled-in file is checked by a test.
        Self::parse(MODEL_2026).unwrap_or_else(|e| panic!("compiled-in model: {e}"))
    }

    /// Parses and validates a model file.
    pub fn parse(src: &str) -> Result<Self, ModelError> {
        let t: toml::Table = src
            .parse()
            .map_err(|e: toml::de::Error| err("", ModelProblem::Syntax(e.message().to_string())))?;
        only(
            &t,
            "",
            &[
                "model",
                "version",
                "effective_from",
                "base",
                "grades",
                "factors",
            ],
        )?;
        let name = text(&t, "model")?.to_string();
        let version = text(&t, "version")?.to_string();
        let effective_from = match t.get("effective_from") {
            None => return Err(err("effective_from", ModelProblem::Missing)),
            Some(toml::Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| err("effective_from", ModelProblem::Type("a date YYYY-MM-DD")))?,
            Some(toml::Value::Datetime(d)) => NaiveDate::parse_from_str(&d.to_string(), "%Y-%m-%d")
                .map_err(|_| err("effective_from", ModelProblem::Type("a date YYYY-MM-DD")))?,
            Some(_) => return Err(err("effective_from", ModelProblem::Type("a date"))),
        };
        let base = number(&t, "", "base")?;
        if !(0.0..=100.0).contains(&base) {
            return Err(err("base", ModelProblem::Range));
        }
        let g = table(&t, "grades", "grades")?;
        only(g, "grades.", &["grade_a", "grade_b", "grade_c"])?;
        let thresholds = Thresholds {
            a: number(g, "grades.", "grade_a")?,
            b: number(g, "grades.", "grade_b")?,
            c: number(g, "grades.", "grade_c")?,
        };
        for (k, v) in [
            ("grades.grade_a", thresholds.a),
            ("grades.grade_b", thresholds.b),
            ("grades.grade_c", thresholds.c),
        ] {
            if !(0.0..=100.0).contains(&v) {
                return Err(err(k, ModelProblem::Range));
            }
        }
        if !(thresholds.a > thresholds.b && thresholds.b > thresholds.c) {
            return Err(err("grades", ModelProblem::Order));
        }
        let f = table(&t, "factors", "factors")?;
        if let Some(k) = f.keys().find(|k| Factor::parse(k).is_none()) {
            return Err(err(format!("factors.{k}"), ModelProblem::Unknown));
        }
        let mut factors = BTreeMap::new();
        for factor in Factor::ALL {
            let prefix = format!("factors.{}.", factor.key());
            let ft = table(f, &format!("factors.{}", factor.key()), factor.key())?;
            only(ft, &prefix, &["points", "cap", "half_life_days"])?;
            let points = number(ft, &prefix, "points")?;
            if points == 0.0 || (points > 0.0) != factor.is_positive() {
                return Err(err(format!("{prefix}points"), ModelProblem::Sign));
            }
            let cap = number(ft, &prefix, "cap")?;
            if !(cap > 0.0 && cap <= 100.0) {
                return Err(err(format!("{prefix}cap"), ModelProblem::Range));
            }
            let half_life_days = match ft.get("half_life_days") {
                None => {
                    return Err(err(
                        format!("{prefix}half_life_days"),
                        ModelProblem::Missing,
                    ))
                }
                Some(toml::Value::Integer(i)) if (1..=36_500).contains(i) => *i as u32,
                Some(toml::Value::Integer(_)) => {
                    return Err(err(format!("{prefix}half_life_days"), ModelProblem::Range))
                }
                Some(_) => {
                    return Err(err(
                        format!("{prefix}half_life_days"),
                        ModelProblem::Type("a whole number of days"),
                    ))
                }
            };
            factors.insert(
                factor,
                FactorRule {
                    points,
                    cap,
                    half_life_days,
                },
            );
        }
        Ok(Self {
            name,
            version,
            effective_from,
            base,
            thresholds,
            factors,
        })
    }

    /// The grade of a (rounded) score.
    pub fn grade_of(&self, score: f64) -> Grade {
        if score >= self.thresholds.a {
            Grade::A
        } else if score >= self.thresholds.b {
            Grade::B
        } else if score >= self.thresholds.c {
            Grade::C
        } else {
            Grade::D
        }
    }
}

/// One dated record as a factor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fact {
    pub factor: Factor,
    /// Which record: `event:12`, `warning:3`, `complaints:2026-11` …
    pub record: String,
    pub date: NaiveDate,
}

/// A record's weight in its factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordWeight {
    pub record: String,
    pub date: NaiveDate,
    /// `0.5^(age / half_life)`, 1 for a record of today (or a future date).
    pub weight: f64,
}

/// One factor's share of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contribution {
    pub factor: Factor,
    /// Signed points after decay and cap, rounded to two decimals for display
    /// (the score uses the unrounded value).
    pub points: f64,
    /// Whether the cap cut it.
    pub capped: bool,
    pub records: Vec<RecordWeight>,
}

/// A computed grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grading {
    pub model: String,
    pub model_version: String,
    pub as_of: NaiveDate,
    /// 0 to 100, one decimal.
    pub score: f64,
    pub grade: Grade,
    /// Every factor with at least one record, in the model's order.
    pub contributions: Vec<Contribution>,
}

/// `0.5^(age / half_life)` (1 for a record dated today or later).
pub fn decay(half_life_days: u32, record: NaiveDate, today: NaiveDate) -> f64 {
    let age = (today - record).num_days().max(0) as f64;
    0.5f64.powf(age / f64::from(half_life_days.max(1)))
}

/// Grades the facts as of `today` under `model`.
pub fn grade(model: &Model, facts: &[Fact], today: NaiveDate) -> Grading {
    let mut by_factor: BTreeMap<Factor, Vec<&Fact>> = BTreeMap::new();
    for f in facts {
        by_factor.entry(f.factor).or_default().push(f);
    }
    let mut total = model.base;
    let mut contributions = Vec::new();
    for factor in Factor::ALL {
        let Some(list) = by_factor.get(&factor) else {
            continue;
        };
        let Some(rule) = model.factors.get(&factor) else {
            continue;
        };
        let mut records: Vec<RecordWeight> = list
            .iter()
            .map(|f| RecordWeight {
                record: f.record.clone(),
                date: f.date,
                weight: decay(rule.half_life_days, f.date, today),
            })
            .collect();
        records.sort_by(|a, b| b.date.cmp(&a.date).then(a.record.cmp(&b.record)));
        let raw: f64 = records.iter().map(|r| r.weight).sum::<f64>() * rule.points.abs();
        let capped = raw > rule.cap;
        let magnitude = raw.min(rule.cap);
        let signed = if factor.is_positive() {
            magnitude
        } else {
            -magnitude
        };
        total += signed;
        contributions.push(Contribution {
            factor,
            points: (signed * 100.0).round() / 100.0,
            capped,
            records,
        });
    }
    let score = (total.clamp(0.0, 100.0) * 10.0).round() / 10.0;
    Grading {
        model: model.name.clone(),
        model_version: model.version.clone(),
        as_of: today,
        score,
        grade: model.grade_of(score),
        contributions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_compiled_in_model_parses() {
        let m = Model::current();
        assert_eq!(m.version, "2026.1");
        assert_eq!(m.factors.len(), Factor::ALL.len());
        assert_eq!(m.grade_of(85.0), Grade::A);
        assert_eq!(m.grade_of(84.9), Grade::B);
        assert_eq!(m.grade_of(54.9), Grade::D);
    }

    #[test]
    fn errors_name_the_key() {
        let broken = MODEL_2026.replace("points = -5.0", "points = 5.0");
        assert_eq!(
            Model::parse(&broken).unwrap_err(),
            err("factors.penalty.points", ModelProblem::Sign)
        );
        let broken = MODEL_2026.replace("[factors.recall]", "[factors.recal]");
        assert_eq!(
            Model::parse(&broken).unwrap_err(),
            err("factors.recal", ModelProblem::Unknown)
        );
        let broken = MODEL_2026.replace("grade_b = 70.0", "grade_b = 90.0");
        assert_eq!(
            Model::parse(&broken).unwrap_err(),
            err("grades", ModelProblem::Order)
        );
        let broken = MODEL_2026.replace("half_life_days = 365\n", "half_life_days = \"a\"\n");
        assert_eq!(
            Model::parse(&broken).unwrap_err().key,
            "factors.complaint.half_life_days"
        );
        let broken = MODEL_2026.replace("base = 60.0", "");
        assert_eq!(
            Model::parse(&broken).unwrap_err(),
            err("base", ModelProblem::Missing)
        );
        assert!(matches!(
            Model::parse("model = ").unwrap_err().problem,
            ModelProblem::Syntax(_)
        ));
    }

    #[test]
    fn a_worked_example() {
        let m = Model::current();
        let today = d("2026-12-01");
        let facts = vec![
            Fact {
                factor: Factor::InspectionPassed,
                record: "event:1".into(),
                date: today,
            },
            Fact {
                factor: Factor::Penalty,
                record: "event:2".into(),
                date: d("2023-12-02"), // 1095 days: counts half.
            },
        ];
        let g = grade(&m, &facts, today);
        // 60 + 1.5 - 2.5
        assert_eq!(g.score, 59.0);
        assert_eq!(g.grade, Grade::C);
        assert_eq!(g.contributions.len(), 2);
        assert_eq!(g.contributions[1].points, -2.5);
        assert_eq!(g.contributions[1].records[0].record, "event:2");
        assert!((g.contributions[1].records[0].weight - 0.5).abs() < 1e-12);
    }

    #[test]
    fn caps_hold() {
        let m = Model::current();
        let today = d("2026-12-01");
        let facts: Vec<_> = (0..100)
            .map(|i| Fact {
                factor: Factor::SeriousPenalty,
                record: format!("event:{i}"),
                date: today,
            })
            .collect();
        let g = grade(&m, &facts, today);
        assert_eq!(g.score, 20.0);
        assert!(g.contributions[0].capped);
        assert_eq!(g.grade, Grade::D);
    }
}
