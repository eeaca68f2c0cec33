//! 政策沙盘 (what-if): runs the same bulk match under overridden parameters and reports which
//! subjects become or stop being eligible, and the money difference where benefits have amounts.

use crate::engine::{Engine, EngineError, OutcomeKind, ParamOverrides, Snapshot};
use crate::facts::FactRow;
use crate::model::SubjectKind;
use chrono::NaiveDate;
use serde::Serialize;

/// One subject whose outcome for one measure changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffEntry {
    /// Index of the subject in the input rows.
    pub row: usize,
    pub measure: String,
    pub before: OutcomeKind,
    pub after: OutcomeKind,
    /// Benefit amount gained (positive) or lost (negative), in fen, where the text gives one.
    pub amount_delta_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diff {
    pub as_of: NaiveDate,
    pub subject: SubjectKind,
    pub newly_eligible: Vec<DiffEntry>,
    pub no_longer_eligible: Vec<DiffEntry>,
    /// Other changes (e.g. Undetermined → NotEligible when a parameter gained a value).
    pub other_changes: Vec<DiffEntry>,
    /// Net change of benefit amounts over all subjects, in fen.
    pub amount_delta_fen: i64,
}

fn eligible_amount(snap: &Snapshot<'_>, m: usize, row: &FactRow, kind: OutcomeKind) -> i64 {
    if kind != OutcomeKind::Eligible {
        return 0;
    }
    let measure = &snap.engine().policy_set().measures()[m];
    measure
        .benefits
        .iter()
        .filter_map(|b| snap.benefit_amount(b, row))
        .fold(0i64, |a, b| a.saturating_add(b))
}

/// Matches `rows` under `base` and under `base`'s policy set with `overrides`, and diffs.
pub fn what_if(
    base: &Engine,
    overrides: &ParamOverrides,
    subject: SubjectKind,
    as_of: NaiveDate,
    rows: &[FactRow],
) -> Result<Diff, EngineError> {
    let scenario = Engine::new(base.policy_set(), overrides)?;
    let (before, after) = (base.snapshot(as_of), scenario.snapshot(as_of));
    let measures: Vec<usize> = base
        .policy_set()
        .measures()
        .iter()
        .enumerate()
        .filter(|(_, m)| m.rule(subject).is_some())
        .map(|(i, _)| i)
        .collect();
    let mut diff = Diff {
        as_of,
        subject,
        newly_eligible: Vec::new(),
        no_longer_eligible: Vec::new(),
        other_changes: Vec::new(),
        amount_delta_fen: 0,
    };
    for (r, row) in rows.iter().enumerate() {
        if row.subject != subject {
            continue;
        }
        for &m in &measures {
            let (b, a) = (before.outcome(m, row), after.outcome(m, row));
            let delta = eligible_amount(&after, m, row, a)
                .saturating_sub(eligible_amount(&before, m, row, b));
            if a == b && delta == 0 {
                continue;
            }
            diff.amount_delta_fen = diff.amount_delta_fen.saturating_add(delta);
            let entry = DiffEntry {
                row: r,
                measure: base.policy_set().measures()[m].key.clone(),
                before: b,
                after: a,
                amount_delta_fen: delta,
            };
            match (b, a) {
                (x, OutcomeKind::Eligible) if x != OutcomeKind::Eligible => {
                    diff.newly_eligible.push(entry)
                }
                (OutcomeKind::Eligible, y) if y != OutcomeKind::Eligible => {
                    diff.no_longer_eligible.push(entry)
                }
                _ => diff.other_changes.push(entry),
            }
        }
    }
    Ok(diff)
}
