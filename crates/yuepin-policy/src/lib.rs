//! Yuepin's policy engine: policy packs (粤市监〔2023〕74号 and later documents) loaded from YAML
//! data, their measures' eligibility as typed rule trees citing clauses, evaluation of subjects
//! (enterprises, mergers, people, standards, instrument purchases) as of a date, proactive bulk
//! matching (免申即享) and what-if runs with overridden parameters (政策沙盘). Pure: no I/O.

pub mod engine;
pub mod facts;
pub mod model;
pub mod money;
pub mod pack;
pub mod status;
pub mod whatif;

pub use engine::{
    Condition, Engine, EngineError, Evaluation, MatchResult, MissingFact, Outcome, OutcomeKind,
    ParamOverrides, Snapshot,
};
pub use facts::{enterprise_facts, FactError, FactRow, FactValue, Facts};
pub use model::{
    Benefit, BenefitKind, Label, Measure, MeasureIdx, Pack, Parameter, Period, PolicySet,
    Responsibility, SubjectKind,
};
pub use pack::PackError;
pub use whatif::{what_if, Diff, DiffEntry};

/// The 粤市监〔2023〕74号 pack, embedded.
pub const GD_2023_74_PACK: &str = include_str!("../packs/gd-2023-74.yaml");
/// A small, clearly fictitious second pack (a later continuation notice) proving that packs load
/// side by side. Not part of [`PolicySet::builtin`].
pub const EXAMPLE_SECOND_PACK: &str =
    include_str!("../../../docs/examples/example-2026-continuation.yaml");
