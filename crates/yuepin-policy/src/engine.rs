//! Evaluation: resolves dated parameters and what is in force on a date ([`Snapshot`]), evaluates
//! compiled rule trees in three-valued logic over [`FactRow`]s (true / false / unknown, so a
//! missing fact is never read as false), explains outcomes on demand, and matches many subjects
//! against every measure at once (免申即享).
//! tidy: long-file — the evaluator, its compiled node types and the bulk matcher share private
//! representations on the hot path (9 M evaluations per CPU-second); splitting them would
//! widen those types' visibility for no reader's gain.

use crate::facts::{FactError, FactRow, FactValue, Facts};
use crate::model::*;
use crate::pack::parse_scalar;
use chrono::NaiveDate;
use serde::Serialize;
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::sync::Arc;
use yuepin_domain::Yuan;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("parameter override {name:?}: no such parameter")]
    UnknownParameter { name: String },
    #[error("parameter override {name:?}: {reason}")]
    InvalidOverride { name: String, reason: String },
    #[error("measure {0:?}: no such measure (use M16 or gd-2023-74/M16)")]
    UnknownMeasure(String),
    #[error("measure {measure}: has no eligibility rule for subject kind {subject}")]
    NotApplicable {
        measure: String,
        subject: SubjectKind,
    },
    #[error(transparent)]
    Facts(#[from] FactError),
}

/// Parameter values that replace the pack's dated values on every date (for 政策沙盘).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParamOverrides {
    values: BTreeMap<String, String>,
}

impl ParamOverrides {
    pub fn new() -> Self {
        Self::default()
    }
    /// `value` is written as in packs: "15亿元", "3", "2024-01-01".
    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.values.insert(name.to_string(), value.to_string());
        self
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// The five outcomes, compactly, for bulk matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum OutcomeKind {
    Eligible,
    NotEligible,
    Undetermined,
    NotInForce,
    Conflict,
    /// The measure has no rule for this subject kind.
    NotApplicable,
}

impl OutcomeKind {
    pub fn label(self) -> Label {
        let (zh, en) = match self {
            OutcomeKind::Eligible => ("符合条件", "Eligible"),
            OutcomeKind::NotEligible => ("不符合条件", "Not eligible"),
            OutcomeKind::Undetermined => ("信息不足，无法判定", "Undetermined (facts missing)"),
            OutcomeKind::NotInForce => ("政策未生效或已失效", "Not in force"),
            OutcomeKind::Conflict => ("规则冲突", "Conflicting rules"),
            OutcomeKind::NotApplicable => ("不适用", "Not applicable"),
        };
        Label::new(zh, en)
    }
}

/// Where a condition comes from: document, measure and the verbatim quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Citation {
    pub document: String,
    pub measure: String,
    pub quote: String,
}

/// A condition that did not hold: the fact, its value, the threshold and the clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Condition {
    pub label: Label,
    pub fact: Option<String>,
    pub fact_label: Option<Label>,
    pub value: Option<String>,
    pub op: String,
    pub threshold: Option<String>,
    pub parameter: Option<String>,
    pub clause: Citation,
}

/// A fact (or parameter value) whose absence leaves the outcome open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MissingFact {
    /// The fact name, or `parameter:<name>` when a threshold has no value on the date.
    pub fact: String,
    pub label: Label,
    pub needed_by: Label,
    pub clause: Citation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConflictInfo {
    pub reason: Label,
    /// Other measures involved (keys), or parameters with two values on one date.
    pub with: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Eligible,
    NotEligible { failed: Vec<Condition> },
    Undetermined { missing: Vec<MissingFact> },
    NotInForce { reason: Label, in_force: Period },
    Conflict { conflicts: Vec<ConflictInfo> },
}

impl Outcome {
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Eligible => OutcomeKind::Eligible,
            Outcome::NotEligible { .. } => OutcomeKind::NotEligible,
            Outcome::Undetermined { .. } => OutcomeKind::Undetermined,
            Outcome::NotInForce { .. } => OutcomeKind::NotInForce,
            Outcome::Conflict { .. } => OutcomeKind::Conflict,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BenefitView {
    pub kind: BenefitKind,
    pub kind_label: Label,
    pub label: Label,
    pub clause: Citation,
    /// Whole fen, where the text (or a what-if parameter) gives a figure.
    pub amount_fen: Option<i64>,
    /// The same, as "1亿元".
    pub amount: Option<String>,
    pub is_cap: bool,
}

/// A full, explained evaluation of one measure for one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evaluation {
    pub measure: String,
    pub document: String,
    pub title: Label,
    pub subject: SubjectKind,
    pub as_of: NaiveDate,
    pub programme: bool,
    pub responsible: Responsibility,
    pub outcome_label: Label,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub benefits: Vec<BenefitView>,
}

/// A policy set compiled for evaluation, with parameter overrides applied.
#[derive(Debug, Clone)]
pub struct Engine {
    set: Arc<PolicySet>,
    overrides: Vec<Option<Scalar>>,
    /// Parameters each measure's rules and benefits use.
    measure_params: Vec<Vec<u16>>,
}

#[derive(Debug, Clone)]
enum MeasureState {
    InForce,
    NotInForce { reason: Label, in_force: Period },
    Conflict(Vec<ConflictInfo>),
}

/// Everything fixed for one as-of date: parameter values and which measures are in force.
#[derive(Debug, Clone)]
pub struct Snapshot<'e> {
    engine: &'e Engine,
    as_of: NaiveDate,
    params: Vec<Option<Scalar>>,
    states: Vec<MeasureState>,
    /// Groups of in-force measures sharing a topic (contradictions become conflicts).
    topics: Vec<Vec<MeasureIdx>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    False,
    True,
    Unknown,
}

impl Engine {
    pub fn new(set: &PolicySet, overrides: &ParamOverrides) -> Result<Self, EngineError> {
        let mut values = vec![None; set.parameters.len()];
        for (name, text) in overrides.iter() {
            let (idx, p) = set
                .parameter(name)
                .ok_or_else(|| EngineError::UnknownParameter { name: name.into() })?;
            let v = parse_scalar(p.ty, text).map_err(|reason| EngineError::InvalidOverride {
                name: name.into(),
                reason,
            })?;
            values[idx as usize] = Some(v);
        }
        let measure_params = set.measures.iter().map(params_used).collect();
        Ok(Self {
            set: Arc::new(set.clone()),
            overrides: values,
            measure_params,
        })
    }

    pub fn policy_set(&self) -> &PolicySet {
        &self.set
    }

    /// The unrecorded codes of a set fact (see [`crate::model::FactDef::unrecorded`]).
    fn unrecorded(&self, subject: SubjectKind, fact: FactId) -> u128 {
        self.set.fact_def(subject, fact).map_or(0, |d| d.unrecorded)
    }

    /// Types and interns request facts for this engine.
    pub fn row(&self, facts: &Facts) -> Result<FactRow, FactError> {
        facts.to_row(&self.set)
    }

    pub fn snapshot(&self, as_of: NaiveDate) -> Snapshot<'_> {
        let set = &*self.set;
        let mut params = Vec::with_capacity(set.parameters.len());
        let mut param_conflict = Vec::with_capacity(set.parameters.len());
        for (i, p) in set.parameters.iter().enumerate() {
            if let Some(v) = self.overrides.get(i).copied().flatten() {
                params.push(Some(v));
                param_conflict.push(false);
                continue;
            }
            let current: Vec<&DatedValue> = match p.values.iter().rev().find(|v| v.from <= as_of) {
                Some(latest) => p.values.iter().filter(|v| v.from == latest.from).collect(),
                None => Vec::new(),
            };
            params.push(current.first().and_then(|v| v.value));
            param_conflict.push(current.len() > 1);
        }
        let superseded_by = |m: &Measure| -> Option<&Measure> {
            set.measures.iter().find(|other| {
                other.supersedes.contains(&m.key)
                    && other.in_force.contains(as_of)
                    && set.packs[other.pack].in_force.contains(as_of)
            })
        };
        let states: Vec<MeasureState> = set
            .measures
            .iter()
            .enumerate()
            .map(|(mi, m)| {
                let pack = &set.packs[m.pack];
                if !pack.in_force.contains(as_of) {
                    return MeasureState::NotInForce {
                        reason: Label::new(
                            format!(
                                "{}有效期为{}至{}",
                                pack.number, pack.in_force.from, pack.in_force.until
                            ),
                            format!(
                                "{} is in force from {} to {}",
                                pack.number, pack.in_force.from, pack.in_force.until
                            ),
                        ),
                        in_force: pack.in_force,
                    };
                }
                if !m.in_force.contains(as_of) {
                    return MeasureState::NotInForce {
                        reason: Label::new(
                            format!("本措施有效期为{}至{}", m.in_force.from, m.in_force.until),
                            format!(
                                "this measure is in force from {} to {}",
                                m.in_force.from, m.in_force.until
                            ),
                        ),
                        in_force: m.in_force,
                    };
                }
                if let Some(newer) = superseded_by(m) {
                    return MeasureState::NotInForce {
                        reason: Label::new(
                            format!("已被{}取代", newer.key),
                            format!("superseded by {}", newer.key),
                        ),
                        in_force: m.in_force,
                    };
                }
                let conflicted: Vec<String> = self.measure_params[mi]
                    .iter()
                    .filter(|p| param_conflict[**p as usize])
                    .map(|p| set.parameters[*p as usize].name.clone())
                    .collect();
                if !conflicted.is_empty() {
                    return MeasureState::Conflict(vec![ConflictInfo {
                        reason: Label::new(
                            "参数在同一日期有两个取值",
                            "a parameter has two values dated the same day",
                        ),
                        with: conflicted,
                    }]);
                }
                MeasureState::InForce
            })
            .collect();
        let mut by_topic: BTreeMap<&str, Vec<MeasureIdx>> = BTreeMap::new();
        for (i, m) in set.measures.iter().enumerate() {
            if let (Some(t), MeasureState::InForce) = (&m.topic, &states[i]) {
                by_topic.entry(t.as_str()).or_default().push(i);
            }
        }
        let topics = by_topic.into_values().filter(|g| g.len() > 1).collect();
        Snapshot {
            engine: self,
            as_of,
            params,
            states,
            topics,
        }
    }

    /// Evaluates one measure (`M16` or `gd-2023-74/M16`) for request facts, with explanation.
    pub fn evaluate(
        &self,
        measure: &str,
        facts: &Facts,
        as_of: NaiveDate,
    ) -> Result<Evaluation, EngineError> {
        let idx = self
            .set
            .find_measure(measure)
            .ok_or_else(|| EngineError::UnknownMeasure(measure.to_string()))?;
        let row = self.row(facts)?;
        let snap = self.snapshot(as_of);
        if self.set.measures[idx].rule(row.subject).is_none() {
            return Err(EngineError::NotApplicable {
                measure: self.set.measures[idx].key.clone(),
                subject: row.subject,
            });
        }
        snap.explain(idx, &row)
            .ok_or_else(|| EngineError::UnknownMeasure(measure.to_string()))
    }

    /// Evaluates every measure with a rule for `subject` over all `rows` (免申即享). Outcomes are
    /// compact; call [`Snapshot::explain`] for the reasons behind any cell.
    pub fn match_all<I, R>(&self, subject: SubjectKind, as_of: NaiveDate, rows: I) -> MatchResult
    where
        I: IntoIterator<Item = R>,
        R: Borrow<FactRow>,
    {
        let snap = self.snapshot(as_of);
        let measures: Vec<MeasureIdx> = self
            .set
            .measures
            .iter()
            .enumerate()
            .filter(|(_, m)| m.rule(subject).is_some())
            .map(|(i, _)| i)
            .collect();
        let mut outcomes = Vec::new();
        let mut count = 0usize;
        let mut scratch = Vec::with_capacity(measures.len());
        for row in rows {
            snap.outcomes_into(&measures, row.borrow(), &mut scratch);
            outcomes.extend_from_slice(&scratch);
            count += 1;
        }
        MatchResult {
            as_of,
            subject,
            measures: measures
                .iter()
                .map(|i| self.set.measures[*i].key.clone())
                .collect(),
            measure_indices: measures,
            outcomes,
            rows: count,
        }
    }
}

fn params_used(m: &Measure) -> Vec<u16> {
    let mut out = Vec::new();
    let mut add = |o: &Operand| {
        if let Operand::Param(p) = o {
            out.push(*p)
        }
    };
    for r in &m.rules {
        for n in &r.nodes {
            match &n.op {
                NodeOp::Compare { rhs, .. } => add(rhs),
                NodeOp::CountAtLeast {
                    filter, at_least, ..
                } => {
                    add(at_least);
                    if let CountFilter::Where { rhs, .. } = filter {
                        add(rhs)
                    }
                }
                _ => {}
            }
        }
    }
    for b in &m.benefits {
        if let Some(Amount::Param { param, .. }) = &b.amount {
            out.push(*param);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Outcomes of a bulk match: `rows × measures`, row-major.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchResult {
    pub as_of: NaiveDate,
    pub subject: SubjectKind,
    /// Column keys (`gd-2023-74/M16`).
    pub measures: Vec<String>,
    /// Column indices into [`PolicySet::measures`].
    pub measure_indices: Vec<MeasureIdx>,
    pub outcomes: Vec<OutcomeKind>,
    pub rows: usize,
}

impl MatchResult {
    pub fn row(&self, r: usize) -> &[OutcomeKind] {
        let w = self.measures.len();
        self.outcomes.get(r * w..(r + 1) * w).unwrap_or(&[])
    }
    /// How many subjects got each outcome, per measure column.
    pub fn counts(&self, col: usize) -> BTreeMap<OutcomeKind, usize> {
        let mut out = BTreeMap::new();
        for r in 0..self.rows {
            if let Some(k) = self.row(r).get(col) {
                *out.entry(*k).or_insert(0) += 1;
            }
        }
        out
    }
}

impl PartialOrd for OutcomeKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OutcomeKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

fn and(a: Tri, b: Tri) -> Tri {
    match (a, b) {
        (Tri::False, _) | (_, Tri::False) => Tri::False,
        (Tri::True, Tri::True) => Tri::True,
        _ => Tri::Unknown,
    }
}
fn or(a: Tri, b: Tri) -> Tri {
    match (a, b) {
        (Tri::True, _) | (_, Tri::True) => Tri::True,
        (Tri::False, Tri::False) => Tri::False,
        _ => Tri::Unknown,
    }
}

impl<'e> Snapshot<'e> {
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }
    pub fn engine(&self) -> &'e Engine {
        self.engine
    }
    /// A parameter's value in force on this date (after overrides).
    pub fn parameter_value(&self, name: &str) -> Option<Scalar> {
        let (i, _) = self.engine.set.parameter(name)?;
        self.params.get(i as usize).copied().flatten()
    }

    fn operand(&self, o: Operand) -> Option<Scalar> {
        match o {
            Operand::Literal(s) => Some(s),
            Operand::Param(p) => self.params.get(p as usize).copied().flatten(),
        }
    }

    /// The outcome of one measure for one row, without explanation (the hot path).
    pub fn outcome(&self, m: MeasureIdx, row: &FactRow) -> OutcomeKind {
        let kind = self.raw_outcome(m, row);
        if kind == OutcomeKind::Eligible || kind == OutcomeKind::NotEligible {
            if let Some(group) = self.topics.iter().find(|g| g.contains(&m)) {
                if self.topic_disagrees(group, row) {
                    return OutcomeKind::Conflict;
                }
            }
        }
        kind
    }

    fn outcomes_into(&self, measures: &[MeasureIdx], row: &FactRow, out: &mut Vec<OutcomeKind>) {
        out.clear();
        out.extend(measures.iter().map(|m| self.raw_outcome(*m, row)));
        for group in &self.topics {
            let mut seen = [false; 2];
            for (col, m) in measures.iter().enumerate() {
                if group.contains(m) {
                    match out[col] {
                        OutcomeKind::Eligible => seen[0] = true,
                        OutcomeKind::NotEligible => seen[1] = true,
                        _ => {}
                    }
                }
            }
            if seen == [true, true] {
                for (col, m) in measures.iter().enumerate() {
                    if group.contains(m)
                        && matches!(out[col], OutcomeKind::Eligible | OutcomeKind::NotEligible)
                    {
                        out[col] = OutcomeKind::Conflict;
                    }
                }
            }
        }
    }

    fn topic_disagrees(&self, group: &[MeasureIdx], row: &FactRow) -> bool {
        let kinds: Vec<OutcomeKind> = group.iter().map(|m| self.raw_outcome(*m, row)).collect();
        kinds.contains(&OutcomeKind::Eligible) && kinds.contains(&OutcomeKind::NotEligible)
    }

    fn raw_outcome(&self, m: MeasureIdx, row: &FactRow) -> OutcomeKind {
        match self.states.get(m) {
            Some(MeasureState::InForce) => {}
            Some(MeasureState::NotInForce { .. }) => return OutcomeKind::NotInForce,
            Some(MeasureState::Conflict(_)) => return OutcomeKind::Conflict,
            None => return OutcomeKind::NotApplicable,
        }
        let Some(rule) = self
            .engine
            .set
            .measures
            .get(m)
            .and_then(|x| x.rule(row.subject))
        else {
            return OutcomeKind::NotApplicable;
        };
        match self.eval(&rule.nodes, 0, row) {
            Tri::True => OutcomeKind::Eligible,
            Tri::False => OutcomeKind::NotEligible,
            Tri::Unknown => OutcomeKind::Undetermined,
        }
    }

    fn eval(&self, nodes: &[Node], i: u32, row: &FactRow) -> Tri {
        let Some(node) = nodes.get(i as usize) else {
            return Tri::Unknown;
        };
        match &node.op {
            NodeOp::All(children) => {
                let mut acc = Tri::True;
                for c in children {
                    acc = and(acc, self.eval(nodes, *c, row));
                    if acc == Tri::False {
                        break;
                    }
                }
                acc
            }
            NodeOp::Any(children) => {
                let mut acc = Tri::False;
                for c in children {
                    acc = or(acc, self.eval(nodes, *c, row));
                    if acc == Tri::True {
                        break;
                    }
                }
                acc
            }
            NodeOp::Not(c) => match self.eval(nodes, *c, row) {
                Tri::True => Tri::False,
                Tri::False => Tri::True,
                Tri::Unknown => Tri::Unknown,
            },
            NodeOp::Compare { fact, of, op, rhs } => {
                let (Some(left), Some(right)) =
                    (aggregate(row.get(*fact), *of), self.operand(*rhs))
                else {
                    return Tri::Unknown;
                };
                compare(left, *op, right)
            }
            NodeOp::InSet { fact, mask } => match row.get(*fact) {
                FactValue::Code(c) => tri(*c < 128 && mask & (1u128 << *c) != 0),
                FactValue::Set(bits) if bits & mask != 0 => Tri::True,
                // Codes nobody records authoritatively: their absence is not a "no".
                FactValue::Set(_) if mask & !self.engine.unrecorded(row.subject, *fact) == 0 => {
                    Tri::Unknown
                }
                FactValue::Set(_) => Tri::False,
                _ => Tri::Unknown,
            },
            NodeOp::CountAtLeast {
                fact,
                filter,
                at_least,
            } => {
                let Some(Scalar::Int(n)) = self.operand(*at_least) else {
                    return Tri::Unknown;
                };
                let count = match (row.get(*fact), filter) {
                    (FactValue::Set(bits), CountFilter::Codes(mask)) => {
                        i64::from((bits & mask).count_ones())
                    }
                    (FactValue::MoneyList(list), CountFilter::Where { op, rhs }) => {
                        let Some(Scalar::Money(t)) = self.operand(*rhs) else {
                            return Tri::Unknown;
                        };
                        list.iter().filter(|v| op.holds(**v, t)).count() as i64
                    }
                    _ => return Tri::Unknown,
                };
                tri(count >= n)
            }
            NodeOp::DateWithin { fact, from, until } => match row.get(*fact) {
                FactValue::Date(d) => {
                    tri(from.is_none_or(|f| f <= *d) && until.is_none_or(|u| *d <= u))
                }
                _ => Tri::Unknown,
            },
        }
    }

    /// The outcome plus its reasons as rule-node indices, written into a reused buffer without
    /// allocating: the failed leaf conditions when NotEligible, the undetermined leaves when
    /// Undetermined. [`Snapshot::explain`] renders the same reasons with labels and values.
    pub fn outcome_with_reasons(
        &self,
        m: MeasureIdx,
        row: &FactRow,
        reasons: &mut Vec<u32>,
    ) -> OutcomeKind {
        reasons.clear();
        let kind = self.outcome(m, row);
        if let (OutcomeKind::NotEligible | OutcomeKind::Undetermined, Some(rule)) = (
            kind,
            self.engine
                .set
                .measures
                .get(m)
                .and_then(|x| x.rule(row.subject)),
        ) {
            let want = if kind == OutcomeKind::NotEligible {
                Tri::False
            } else {
                Tri::Unknown
            };
            self.reason_nodes(&rule.nodes, 0, row, want, reasons);
        }
        kind
    }

    fn reason_nodes(&self, nodes: &[Node], i: u32, row: &FactRow, want: Tri, out: &mut Vec<u32>) {
        let Some(node) = nodes.get(i as usize) else {
            return;
        };
        match &node.op {
            NodeOp::All(children) | NodeOp::Any(children) => {
                for c in children {
                    if self.eval(nodes, *c, row) == want {
                        self.reason_nodes(nodes, *c, row, want, out);
                    }
                }
            }
            NodeOp::Not(c) if want == Tri::Unknown => self.reason_nodes(nodes, *c, row, want, out),
            _ => out.push(i),
        }
    }

    /// The full, explained evaluation of measure `m` for `row` (`None` for an unknown index).
    pub fn explain(&self, m: MeasureIdx, row: &FactRow) -> Option<Evaluation> {
        let set = &*self.engine.set;
        let measure = set.measures.get(m)?;
        let pack = &set.packs[measure.pack];
        let outcome = match self.states.get(m) {
            Some(MeasureState::NotInForce { reason, in_force }) => Outcome::NotInForce {
                reason: reason.clone(),
                in_force: *in_force,
            },
            Some(MeasureState::Conflict(c)) => Outcome::Conflict {
                conflicts: c.clone(),
            },
            _ => match measure.rule(row.subject) {
                None => Outcome::NotInForce {
                    reason: Label::new(
                        "本措施不适用于此类主体",
                        "this measure has no rule for this kind of subject",
                    ),
                    in_force: measure.in_force,
                },
                Some(rule) => self.explain_rule(m, rule, row),
            },
        };
        let benefits = measure
            .benefits
            .iter()
            .map(|b| {
                let amount_fen = self.benefit_amount(b, row);
                BenefitView {
                    kind: b.kind,
                    kind_label: b.kind.label(),
                    label: b.label.clone(),
                    clause: self.cite(measure, &b.clause),
                    amount_fen,
                    amount: amount_fen.map(|f| Yuan::from_fen(f).to_zh()),
                    is_cap: matches!(
                        b.amount,
                        Some(Amount::Param {
                            basis: AmountBasis::Cap,
                            ..
                        })
                    ),
                }
            })
            .collect();
        Some(Evaluation {
            measure: measure.key.clone(),
            document: pack.number.clone(),
            title: measure.title.clone(),
            subject: row.subject,
            as_of: self.as_of,
            programme: measure.programme,
            responsible: measure.responsible.clone(),
            outcome_label: outcome.kind().label(),
            outcome,
            benefits,
        })
    }

    fn explain_rule(&self, m: MeasureIdx, rule: &Rule, row: &FactRow) -> Outcome {
        let set = &*self.engine.set;
        let measure = &set.measures[m];
        match self.eval(&rule.nodes, 0, row) {
            Tri::True | Tri::False
                if self
                    .topics
                    .iter()
                    .any(|g| g.contains(&m) && self.topic_disagrees(g, row)) =>
            {
                let group = self
                    .topics
                    .iter()
                    .find(|g| g.contains(&m))
                    .cloned()
                    .unwrap_or_default();
                Outcome::Conflict {
                    conflicts: vec![ConflictInfo {
                        reason: Label::new(
                            format!("同一事项(\"{}\")的多项现行措施结论相反", measure.topic.clone().unwrap_or_default()),
                            format!("measures in force on the same topic {:?} give contradictory outcomes", measure.topic.clone().unwrap_or_default()),
                        ),
                        with: group.iter().filter(|o| **o != m).map(|o| set.measures[*o].key.clone()).collect(),
                    }],
                }
            }
            Tri::True => Outcome::Eligible,
            Tri::False => {
                let mut failed = Vec::new();
                self.collect_failed(measure, rule, 0, row, &mut failed);
                Outcome::NotEligible { failed }
            }
            Tri::Unknown => {
                let mut missing = Vec::new();
                self.collect_missing(measure, rule, 0, row, &mut missing);
                missing.dedup_by(|a, b| a.fact == b.fact && a.needed_by == b.needed_by);
                Outcome::Undetermined { missing }
            }
        }
    }

    fn cite(&self, measure: &Measure, quote: &str) -> Citation {
        Citation {
            document: self.engine.set.packs[measure.pack].number.clone(),
            measure: measure.key.clone(),
            quote: quote.to_string(),
        }
    }

    fn collect_failed(
        &self,
        measure: &Measure,
        rule: &Rule,
        i: u32,
        row: &FactRow,
        out: &mut Vec<Condition>,
    ) {
        let Some(node) = rule.nodes.get(i as usize) else {
            return;
        };
        match &node.op {
            NodeOp::All(children) | NodeOp::Any(children) => {
                for c in children {
                    if self.eval(&rule.nodes, *c, row) == Tri::False {
                        self.collect_failed(measure, rule, *c, row, out);
                    }
                }
            }
            NodeOp::Not(c) => {
                let mut inner = self.describe(measure, rule, *c, row);
                inner.label = node.label.clone();
                inner.clause = self.cite(measure, &node.clause);
                inner.op = format!("not({})", inner.op);
                out.push(inner);
            }
            _ => out.push(self.describe(measure, rule, i, row)),
        }
    }

    fn collect_missing(
        &self,
        measure: &Measure,
        rule: &Rule,
        i: u32,
        row: &FactRow,
        out: &mut Vec<MissingFact>,
    ) {
        let Some(node) = rule.nodes.get(i as usize) else {
            return;
        };
        let set = &*self.engine.set;
        match &node.op {
            NodeOp::All(children) | NodeOp::Any(children) => {
                for c in children {
                    if self.eval(&rule.nodes, *c, row) == Tri::Unknown {
                        self.collect_missing(measure, rule, *c, row, out);
                    }
                }
            }
            NodeOp::Not(c) => self.collect_missing(measure, rule, *c, row, out),
            op => {
                let (fact, params) = leaf_fact_and_params(op);
                let def = set.fact_def(row.subject, fact);
                let mut push = |name: String, label: Label| {
                    out.push(MissingFact {
                        fact: name,
                        label,
                        needed_by: node.label.clone(),
                        clause: self.cite(measure, &node.clause),
                    })
                };
                let value = row.get(fact);
                let type_ok = def.is_some_and(|d| value_fits(d.ty, value));
                let mut pushed = false;
                for p in params {
                    if self.params.get(p as usize).copied().flatten().is_none() {
                        let pd = &set.parameters[p as usize];
                        push(format!("parameter:{}", pd.name), pd.label.clone());
                        pushed = true;
                    }
                }
                // A present but unusable value (wrong type, overflowing sum) counts as missing too.
                if !type_ok || !pushed {
                    if let Some(d) = def {
                        push(d.name.clone(), d.label.clone());
                    }
                }
            }
        }
    }

    fn describe(&self, measure: &Measure, rule: &Rule, i: u32, row: &FactRow) -> Condition {
        let set = &*self.engine.set;
        let node = &rule.nodes[i as usize];
        let mut c = Condition {
            label: node.label.clone(),
            fact: None,
            fact_label: None,
            value: None,
            op: String::new(),
            threshold: None,
            parameter: None,
            clause: self.cite(measure, &node.clause),
        };
        let param_name = |o: &Operand| match o {
            Operand::Param(p) => set.parameters.get(*p as usize).map(|p| p.name.clone()),
            Operand::Literal(_) => None,
        };
        let show = |o: &Operand| self.operand(*o).map(Scalar::display);
        match &node.op {
            NodeOp::All(_) | NodeOp::Any(_) | NodeOp::Not(_) => {
                c.op = match node.op {
                    NodeOp::All(_) => "all",
                    NodeOp::Any(_) => "any",
                    _ => "not",
                }
                .into();
                c.value = Some(format!("{:?}", self.eval(&rule.nodes, i, row)).to_lowercase());
                return c;
            }
            NodeOp::Compare { fact, of, op, rhs } => {
                c.op = match of {
                    Aggregate::Value => op.symbol().to_string(),
                    other => format!("{}{}", format!("{other:?}").to_lowercase(), op.symbol()),
                };
                c.value = aggregate(row.get(*fact), *of).map(Scalar::display);
                c.threshold = show(rhs);
                c.parameter = param_name(rhs);
                self.fill_fact(&mut c, row.subject, *fact);
            }
            NodeOp::InSet { fact, mask } => {
                c.op = "∈".into();
                c.value = Some(self.show_value(row.subject, *fact, row.get(*fact)));
                c.threshold = Some(self.show_codes(row.subject, *fact, *mask));
                self.fill_fact(&mut c, row.subject, *fact);
            }
            NodeOp::CountAtLeast {
                fact,
                filter,
                at_least,
            } => {
                let count = match (row.get(*fact), filter) {
                    (FactValue::Set(bits), CountFilter::Codes(mask)) => {
                        Some(i64::from((bits & mask).count_ones()))
                    }
                    (FactValue::MoneyList(list), CountFilter::Where { op, rhs }) => {
                        match self.operand(*rhs) {
                            Some(Scalar::Money(t)) => {
                                Some(list.iter().filter(|v| op.holds(**v, t)).count() as i64)
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                };
                let what = match filter {
                    CountFilter::Codes(mask) => {
                        format!("count of {}", self.show_codes(row.subject, *fact, *mask))
                    }
                    CountFilter::Where { op, rhs } => {
                        c.parameter = param_name(rhs);
                        format!(
                            "count of elements {} {}",
                            op.symbol(),
                            show(rhs).unwrap_or_default()
                        )
                    }
                };
                c.op = format!("{what} ≥");
                c.value = Some(format!(
                    "{} ({})",
                    count.map(|n| n.to_string()).unwrap_or_default(),
                    self.show_value(row.subject, *fact, row.get(*fact))
                ));
                c.threshold = show(at_least);
                if c.parameter.is_none() {
                    c.parameter = param_name(at_least);
                }
                self.fill_fact(&mut c, row.subject, *fact);
            }
            NodeOp::DateWithin { fact, from, until } => {
                c.op = "within".into();
                c.value = Some(self.show_value(row.subject, *fact, row.get(*fact)));
                c.threshold = Some(format!(
                    "[{}, {}]",
                    from.map(|d| d.to_string()).unwrap_or_else(|| "…".into()),
                    until.map(|d| d.to_string()).unwrap_or_else(|| "…".into())
                ));
                self.fill_fact(&mut c, row.subject, *fact);
            }
        }
        c
    }

    fn fill_fact(&self, c: &mut Condition, subject: SubjectKind, fact: FactId) {
        if let Some(d) = self.engine.set.fact_def(subject, fact) {
            c.fact = Some(d.name.clone());
            c.fact_label = Some(d.label.clone());
        }
    }

    fn show_codes(&self, subject: SubjectKind, fact: FactId, mask: u128) -> String {
        let Some(d) = self.engine.set.fact_def(subject, fact) else {
            return String::new();
        };
        let codes: Vec<&str> = d
            .domain
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < 128 && mask & (1u128 << i) != 0)
            .map(|(_, c)| c.as_str())
            .collect();
        format!("{{{}}}", codes.join(", "))
    }

    fn show_value(&self, subject: SubjectKind, fact: FactId, v: &FactValue) -> String {
        match v {
            FactValue::Missing => "(missing)".into(),
            FactValue::Bool(b) => b.to_string(),
            FactValue::Int(i) => i.to_string(),
            FactValue::Money(f) => Yuan::from_fen(*f).to_zh(),
            FactValue::Date(d) => d.to_string(),
            FactValue::Code(c) => self
                .engine
                .set
                .fact_def(subject, fact)
                .and_then(|d| d.domain.get(*c as usize).cloned())
                .unwrap_or_else(|| "(other)".into()),
            FactValue::Set(bits) => self.show_codes(subject, fact, *bits),
            FactValue::MoneyList(list) => format!(
                "[{}]",
                list.iter()
                    .map(|f| Yuan::from_fen(*f).to_zh())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The yuan figure of a benefit for this subject, where one can be computed.
    pub fn benefit_amount(&self, b: &Benefit, row: &FactRow) -> Option<i64> {
        match b.amount.as_ref()? {
            Amount::Param { param, per, .. } => {
                let Scalar::Money(each) = self.params.get(*param as usize).copied().flatten()?
                else {
                    return None;
                };
                match per {
                    Some((subject, fact)) if *subject == row.subject => match row.get(*fact) {
                        FactValue::Int(n) if *n >= 0 => each.checked_mul(*n),
                        _ => None,
                    },
                    _ => Some(each),
                }
            }
            Amount::FromFact { subject, fact } if *subject == row.subject => match row.get(*fact) {
                FactValue::Money(v) => Some(*v),
                _ => None,
            },
            Amount::FromFact { .. } => None,
        }
    }
}

fn tri(b: bool) -> Tri {
    if b {
        Tri::True
    } else {
        Tri::False
    }
}

fn value_fits(ty: FactType, v: &FactValue) -> bool {
    matches!(
        (ty, v),
        (FactType::Bool, FactValue::Bool(_))
            | (FactType::Int, FactValue::Int(_))
            | (FactType::Money, FactValue::Money(_))
            | (FactType::Date, FactValue::Date(_))
            | (FactType::Code, FactValue::Code(_))
            | (FactType::Set, FactValue::Set(_))
            | (FactType::MoneyList, FactValue::MoneyList(_))
    )
}

fn leaf_fact_and_params(op: &NodeOp) -> (FactId, Vec<u16>) {
    let p = |o: &Operand| match o {
        Operand::Param(p) => Some(*p),
        Operand::Literal(_) => None,
    };
    match op {
        NodeOp::Compare { fact, rhs, .. } => (*fact, p(rhs).into_iter().collect()),
        NodeOp::InSet { fact, .. } | NodeOp::DateWithin { fact, .. } => (*fact, Vec::new()),
        NodeOp::CountAtLeast {
            fact,
            filter,
            at_least,
        } => {
            let mut v: Vec<u16> = p(at_least).into_iter().collect();
            if let CountFilter::Where { rhs, .. } = filter {
                v.extend(p(rhs));
            }
            (*fact, v)
        }
        NodeOp::All(_) | NodeOp::Any(_) | NodeOp::Not(_) => (FactId(u16::MAX), Vec::new()),
    }
}

/// Reduces a fact value for comparison; `None` when missing or of the wrong shape.
fn aggregate(v: &FactValue, of: Aggregate) -> Option<Scalar> {
    Some(match (of, v) {
        (Aggregate::Value, FactValue::Bool(b)) => Scalar::Bool(*b),
        (Aggregate::Value, FactValue::Int(i)) => Scalar::Int(*i),
        (Aggregate::Value, FactValue::Money(m)) => Scalar::Money(*m),
        (Aggregate::Value, FactValue::Date(d)) => Scalar::Date(*d),
        (Aggregate::Sum, FactValue::MoneyList(l)) => {
            Scalar::Money(l.iter().try_fold(0i64, |a, b| a.checked_add(*b))?)
        }
        (Aggregate::Max, FactValue::MoneyList(l)) => Scalar::Money(*l.iter().max()?),
        (Aggregate::Min, FactValue::MoneyList(l)) => Scalar::Money(*l.iter().min()?),
        (Aggregate::Count, FactValue::MoneyList(l)) => Scalar::Int(l.len() as i64),
        (Aggregate::Count, FactValue::Set(bits)) => Scalar::Int(i64::from(bits.count_ones())),
        _ => return None,
    })
}

fn compare(left: Scalar, op: CmpOp, right: Scalar) -> Tri {
    match (left, right) {
        (Scalar::Int(a), Scalar::Int(b)) | (Scalar::Money(a), Scalar::Money(b)) => {
            tri(op.holds(a, b))
        }
        (Scalar::Date(a), Scalar::Date(b)) => tri(op.holds(a, b)),
        (Scalar::Bool(a), Scalar::Bool(b)) => tri(op.holds(a, b)),
        _ => Tri::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kleene_logic_never_reads_unknown_as_false() {
        use Tri::*;
        assert_eq!(and(True, Unknown), Unknown);
        assert_eq!(and(False, Unknown), False);
        assert_eq!(or(True, Unknown), True);
        assert_eq!(or(False, Unknown), Unknown);
        assert_eq!(
            compare(Scalar::Money(1), CmpOp::Gt, Scalar::Int(0)),
            Unknown
        );
        assert_eq!(
            compare(
                Scalar::Money(200_000_000_001),
                CmpOp::Gt,
                Scalar::Money(200_000_000_000)
            ),
            True
        );
        assert_eq!(
            compare(
                Scalar::Money(200_000_000_000),
                CmpOp::Gt,
                Scalar::Money(200_000_000_000)
            ),
            False
        );
        assert_eq!(
            aggregate(
                &FactValue::MoneyList(vec![i64::MAX, 1].into()),
                Aggregate::Sum
            ),
            None
        );
        assert_eq!(
            aggregate(&FactValue::MoneyList(Vec::new().into()), Aggregate::Max),
            None
        );
    }
}
