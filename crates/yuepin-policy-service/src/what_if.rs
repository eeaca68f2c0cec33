//! 政策沙盘 (what-if): the difference a set of parameter overrides makes — per measure, the
//! eligible subjects and the money before and after, and the subjects that become (or stop
//! being) eligible — over every enterprise in the store (streamed in batches) or over request
//! subjects (e.g. mergers from a file). Regulators only.

use crate::records::outcome_code;
use crate::{engine_with, measures_for, FactScope, PolicyError, PolicyService};
use crate::{Result, BATCH};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use yuepin_domain::Caller;
use yuepin_policy::{Engine, FactRow, Facts, MeasureIdx, OutcomeKind, SubjectKind};

/// One subject whose eligibility changed under the scenario.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatIfEntry {
    pub subject: String,
    pub name: String,
    pub measure: String,
    pub before: String,
    pub after: String,
    pub amount_delta_fen: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatIfMeasure {
    pub measure: String,
    pub title_zh: String,
    pub title_en: String,
    pub eligible_before: i64,
    pub eligible_after: i64,
    pub newly_eligible: i64,
    pub no_longer_eligible: i64,
    pub amount_before_fen: i64,
    pub amount_after_fen: i64,
}

/// The difference a set of parameter overrides makes.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatIfReport {
    pub as_of: NaiveDate,
    pub subject: SubjectKind,
    pub overrides: BTreeMap<String, String>,
    pub subjects: i64,
    pub measures: Vec<WhatIfMeasure>,
    /// At most [`WHAT_IF_LIST`] entries each; the counts are in `measures`.
    pub newly_eligible: Vec<WhatIfEntry>,
    pub no_longer_eligible: Vec<WhatIfEntry>,
    pub eligible_before: i64,
    pub eligible_after: i64,
    pub amount_delta_fen: i64,
}

pub const WHAT_IF_LIST: usize = 500;

struct WhatIfAcc<'a> {
    before: yuepin_policy::Snapshot<'a>,
    after: yuepin_policy::Snapshot<'a>,
    cols: Vec<MeasureIdx>,
    report: WhatIfReport,
}

impl WhatIfAcc<'_> {
    fn add(&mut self, subject: String, name: &str, row: &FactRow) {
        self.report.subjects += 1;
        let set = self.before.engine().policy_set();
        for (c, &mi) in self.cols.iter().enumerate() {
            let measure = &set.measures()[mi];
            let amount = |snap: &yuepin_policy::Snapshot<'_>, k: OutcomeKind| -> i64 {
                if k != OutcomeKind::Eligible {
                    return 0;
                }
                measure
                    .benefits
                    .iter()
                    .filter_map(|b| snap.benefit_amount(b, row))
                    .fold(0i64, |a, b| a.saturating_add(b))
            };
            let (b, a) = (self.before.outcome(mi, row), self.after.outcome(mi, row));
            let (ab, aa) = (amount(&self.before, b), amount(&self.after, a));
            let s = &mut self.report.measures[c];
            s.amount_before_fen = s.amount_before_fen.saturating_add(ab);
            s.amount_after_fen = s.amount_after_fen.saturating_add(aa);
            self.report.amount_delta_fen = self.report.amount_delta_fen.saturating_add(aa - ab);
            if b == OutcomeKind::Eligible {
                s.eligible_before += 1;
                self.report.eligible_before += 1;
            }
            if a == OutcomeKind::Eligible {
                s.eligible_after += 1;
                self.report.eligible_after += 1;
            }
            let entry = || WhatIfEntry {
                subject: subject.clone(),
                name: name.to_string(),
                measure: measure.id.clone(),
                before: outcome_code(b).into(),
                after: outcome_code(a).into(),
                amount_delta_fen: aa - ab,
            };
            if a == OutcomeKind::Eligible && b != OutcomeKind::Eligible {
                s.newly_eligible += 1;
                if self.report.newly_eligible.len() < WHAT_IF_LIST {
                    self.report.newly_eligible.push(entry());
                }
            } else if b == OutcomeKind::Eligible && a != OutcomeKind::Eligible {
                s.no_longer_eligible += 1;
                if self.report.no_longer_eligible.len() < WHAT_IF_LIST {
                    self.report.no_longer_eligible.push(entry());
                }
            }
        }
    }
}

fn what_if_acc<'a>(
    base: &'a Engine,
    scenario: &'a Engine,
    subject: SubjectKind,
    as_of: NaiveDate,
    overrides: &BTreeMap<String, String>,
) -> WhatIfAcc<'a> {
    let set = base.policy_set();
    let cols = measures_for(set, subject);
    let measures = cols
        .iter()
        .map(|&i| {
            let m = &set.measures()[i];
            WhatIfMeasure {
                measure: m.id.clone(),
                title_zh: m.title.zh.clone(),
                title_en: m.title.en.clone(),
                eligible_before: 0,
                eligible_after: 0,
                newly_eligible: 0,
                no_longer_eligible: 0,
                amount_before_fen: 0,
                amount_after_fen: 0,
            }
        })
        .collect();
    WhatIfAcc {
        before: base.snapshot(as_of),
        after: scenario.snapshot(as_of),
        cols,
        report: WhatIfReport {
            as_of,
            subject,
            overrides: overrides.clone(),
            subjects: 0,
            measures,
            newly_eligible: vec![],
            no_longer_eligible: vec![],
            eligible_before: 0,
            eligible_after: 0,
            amount_delta_fen: 0,
        },
    }
}

/// A what-if request as the API takes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatIfInput {
    #[serde(default)]
    pub as_of: Option<String>,
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
    /// Subject kind of `subjects` (default: the store's enterprises).
    #[serde(default)]
    pub subject: Option<String>,
    /// Request subjects as fact objects; absent: every enterprise in the store.
    #[serde(default)]
    pub subjects: Option<Vec<Value>>,
}

/// Request subjects at most, per what-if.
const MAX_SUBJECTS: usize = 100_000;

/// One parameter of the pack with its value on a date, for the what-if form.
#[derive(Debug, Clone)]
pub struct ParameterOnDate {
    pub name: String,
    pub measure: String,
    pub label: yuepin_policy::Label,
    /// The value's display form; `None` where the text sets no figure on that date.
    pub value: Option<String>,
}

impl PolicyService {
    /// A what-if as the API asks it: over the store's enterprises, or over request subjects
    /// of one kind (labelled `#0`, `#1`, …). At least one override.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn what_if(&self, caller: &Caller, input: WhatIfInput) -> Result<WhatIfReport> {
        caller.require_administrator()?;
        let as_of = self.as_of(input.as_of.as_deref())?;
        if input.overrides.is_empty() {
            return Err(PolicyError::Required { field: "overrides" });
        }
        match input.subjects {
            None => {
                self.what_if_enterprises(caller, &input.overrides, as_of)
                    .await
            }
            Some(list) => {
                let subject = input
                    .subject
                    .as_deref()
                    .and_then(SubjectKind::parse)
                    .ok_or(PolicyError::Required { field: "subject" })?;
                if list.len() > MAX_SUBJECTS {
                    return Err(PolicyError::TooManySubjects { max: MAX_SUBJECTS });
                }
                let subjects = list
                    .into_iter()
                    .enumerate()
                    .map(|(index, v)| {
                        Facts::from_json(subject, v)
                            .map(|f| (format!("#{index}"), f))
                            .map_err(|source| PolicyError::SubjectFacts { index, source })
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.what_if_subjects(caller, &input.overrides, subject, as_of, &subjects)
            }
        }
    }

    /// 政策沙盘 over every enterprise in the store (streamed in batches).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn what_if_enterprises(
        &self,
        caller: &Caller,
        overrides: &BTreeMap<String, String>,
        as_of: NaiveDate,
    ) -> Result<WhatIfReport> {
        caller.require_administrator()?;
        let scenario = engine_with(self.set(), overrides)?;
        let mut acc = what_if_acc(
            self.engine(),
            &scenario,
            SubjectKind::Enterprise,
            as_of,
            overrides,
        );
        let index = self.index();
        let mut after = 0i64;
        loop {
            let batch = self
                .load_facts(
                    as_of,
                    FactScope::After {
                        after,
                        limit: BATCH,
                    },
                )
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for ef in &batch {
                acc.add(ef.uscc.clone(), &ef.name, &index.row(ef));
            }
        }
        // Each subject is evaluated twice per measure: as the pack stands and under the scenario.
        yuepin_metrics::policy_evaluations(
            2 * (acc.report.subjects.max(0) as u64) * acc.report.measures.len() as u64,
        );
        Ok(acc.report)
    }

    /// 政策沙盘 over request subjects (e.g. mergers from a file): `(label, facts)` pairs.
    pub fn what_if_subjects(
        &self,
        caller: &Caller,
        overrides: &BTreeMap<String, String>,
        subject: SubjectKind,
        as_of: NaiveDate,
        subjects: &[(String, Facts)],
    ) -> Result<WhatIfReport> {
        caller.require_administrator()?;
        let scenario = engine_with(self.set(), overrides)?;
        let mut acc = what_if_acc(self.engine(), &scenario, subject, as_of, overrides);
        for (index, (label, facts)) in subjects.iter().enumerate() {
            if facts.subject != subject {
                return Err(PolicyError::SubjectKind {
                    index,
                    expected: subject,
                });
            }
            let row = self
                .engine()
                .row(facts)
                .map_err(|source| PolicyError::SubjectFacts { index, source })?;
            acc.add(label.clone(), label, &row);
        }
        // Each subject is evaluated twice per measure: as the pack stands and under the scenario.
        yuepin_metrics::policy_evaluations(
            2 * (acc.report.subjects.max(0) as u64) * acc.report.measures.len() as u64,
        );
        Ok(acc.report)
    }

    /// The pack's parameters with their values as of a date, for the what-if form
    /// (administrators only).
    pub fn parameters(
        &self,
        caller: &Caller,
        as_of: Option<&str>,
    ) -> Result<(NaiveDate, Vec<ParameterOnDate>)> {
        caller.require_administrator()?;
        let as_of = self.as_of(as_of)?;
        let snap = self.engine().snapshot(as_of);
        let list = self
            .set()
            .parameters()
            .iter()
            .map(|p| ParameterOnDate {
                name: p.name.clone(),
                measure: p.measure.clone(),
                label: p.label.clone(),
                value: snap.parameter_value(&p.name).map(|v| v.display()),
            })
            .collect();
        Ok((as_of, list))
    }
}
