//! Money measures as pack data: what a measure that pays money pays for (a standard, an award,
//! a loan), how the amount is set (fixed, capped, per item, left to the regulator), who may
//! apply (enterprise, person, organisation), the application window (by default the
//! measure's period; a yearly 申报通知 may set a deadline) and the period over which caps add
//! up. No code names a measure: the service reads these fields. Pure: no I/O.

use crate::model::{FactType, Label, Period, SubjectKind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a payment is for; decides how the platform derives its payment key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaysFor {
    /// One payment per confirmed standard record of the applicant (M8).
    Standard,
    /// One payment per award record held by the applicant (M10).
    Award,
    /// A financing line per applicant and period: several loans, their total capped (M18).
    Loan,
}

impl PaysFor {
    pub fn label(self) -> Label {
        match self {
            PaysFor::Standard => Label::new("标准", "a standard"),
            PaysFor::Award => Label::new("奖项", "an award"),
            PaysFor::Loan => Label::new("贷款/融资", "a loan"),
        }
    }
}

/// How the amount of a payment is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AmountRule {
    /// The parameter's value, exactly.
    Fixed,
    /// Up to the parameter's value, cumulative per applicant, measure and period.
    Capped,
    /// The parameter's value per item paid for.
    PerItem,
    /// The text gives no figure: the regulator sets it.
    Regulator,
}

impl AmountRule {
    pub fn label(self) -> Label {
        match self {
            AmountRule::Fixed => Label::new("定额", "fixed"),
            AmountRule::Capped => Label::new("有上限(累计)", "capped (cumulative)"),
            AmountRule::PerItem => Label::new("按项", "per item"),
            AmountRule::Regulator => Label::new("由主管部门确定", "set by the regulator"),
        }
    }
}

/// Who may apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Applicant {
    Enterprise,
    Person,
    Organisation,
}

/// The period over which a capped amount adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CapPeriod {
    /// The calendar year of the server's date when applying.
    #[default]
    Year,
    /// The measure's whole period in force.
    Measure,
}

/// A money measure's application data, validated at load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyRule {
    pub pays_for: PaysFor,
    pub amount: AmountRule,
    /// Index into the set's parameters (the figure or the cap), where the rule needs one.
    pub param: Option<u16>,
    pub applicants: Vec<Applicant>,
    /// What counts as a payable record: award designation codes, or standard `level:role`.
    pub records: Vec<String>,
    /// Days on which applications are accepted (inclusive).
    pub window: Period,
    /// The clause the window comes from, verbatim from the measure's or the pack's text.
    pub window_clause: String,
    pub period: CapPeriod,
}

impl MoneyRule {
    /// The cap period's key for an application filed on `day` in a measure in force `in_force`.
    pub fn period_key(&self, day: NaiveDate, in_force: Period) -> String {
        use chrono::Datelike;
        match self.period {
            CapPeriod::Year => day.year().to_string(),
            CapPeriod::Measure => format!("{}..{}", in_force.from, in_force.until),
        }
    }
}

/// `money:` of a measure in a pack file.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct MoneyDoc {
    pays_for: PaysFor,
    amount: AmountDoc,
    applicants: Vec<Applicant>,
    #[serde(default)]
    records: Vec<String>,
    #[serde(default)]
    window: Option<WindowDoc>,
    #[serde(default)]
    period: CapPeriod,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct AmountDoc {
    rule: AmountRule,
    #[serde(default)]
    param: Option<String>,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct WindowDoc {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    until: Option<String>,
    clause: String,
}

/// What `build` needs from the set being loaded.
pub(crate) struct MoneyCtx<'a> {
    pub in_force: Period,
    /// The measure's clause text and the pack's validity clause: the window clause quotes one.
    pub texts: [&'a str; 2],
    pub validity_clause: &'a str,
    /// (index, type) of a parameter by name.
    pub param: &'a dyn Fn(&str) -> Option<(u16, FactType)>,
    /// The codes of a fact's vocabulary (designations, standard level/role).
    pub domain: &'a dyn Fn(SubjectKind, &str) -> Vec<String>,
}

/// Validates a `money:` block: (field suffix, reason) on error.
pub(crate) fn build(doc: &MoneyDoc, cx: &MoneyCtx<'_>) -> Result<MoneyRule, (String, String)> {
    let bad = |f: &str, r: String| Err((f.to_string(), r));
    if doc.applicants.is_empty() {
        return bad("money.applicants", "at least one applicant kind".into());
    }
    let param = match (&doc.amount.param, doc.amount.rule) {
        (None, AmountRule::Regulator) => None,
        (None, rule) => {
            return bad(
                "money.amount.param",
                format!("rule {rule:?} needs a money parameter"),
            )
        }
        (Some(p), _) => match (cx.param)(p) {
            Some((i, FactType::Money)) => Some(i),
            Some(_) => return bad("money.amount.param", format!("{p:?} is not money")),
            None => return bad("money.amount.param", format!("unknown parameter {p:?}")),
        },
    };
    match doc.pays_for {
        PaysFor::Award => {
            let known = (cx.domain)(SubjectKind::Enterprise, "designations");
            if doc.records.is_empty() {
                return bad(
                    "money.records",
                    "name the award designations paid for".into(),
                );
            }
            if let Some(r) = doc.records.iter().find(|r| !known.contains(r)) {
                return bad("money.records", format!("unknown designation {r:?}"));
            }
        }
        PaysFor::Standard => {
            let levels = (cx.domain)(SubjectKind::Standard, "level");
            let roles = (cx.domain)(SubjectKind::Standard, "role");
            if doc.records.is_empty() {
                return bad(
                    "money.records",
                    "name the standards paid for (level:role)".into(),
                );
            }
            for r in &doc.records {
                let ok = r.split_once(':').is_some_and(|(l, o)| {
                    levels.iter().any(|x| x == l) && roles.iter().any(|x| x == o)
                });
                if !ok {
                    return bad("money.records", format!("{r:?} is not level:role"));
                }
            }
        }
        PaysFor::Loan => {
            if !doc.records.is_empty() {
                return bad("money.records", "a loan names no records".into());
            }
        }
    }
    let (window, window_clause) = match &doc.window {
        None => (cx.in_force, cx.validity_clause.to_string()),
        Some(w) => {
            if !cx.texts.iter().any(|t| t.contains(&w.clause)) {
                return bad(
                    "money.window.clause",
                    format!("{:?} is not quoted verbatim from the clause", w.clause),
                );
            }
            let day = |f: &str, s: &Option<String>, d: NaiveDate| match s {
                None => Ok(d),
                Some(s) => yuepin_domain::parse_date("date", s)
                    .map_err(|e| (format!("money.window.{f}"), e.to_string())),
            };
            let p = Period {
                from: day("from", &w.from, cx.in_force.from)?,
                until: day("until", &w.until, cx.in_force.until)?,
            };
            if p.until < p.from {
                return bad("money.window.until", "before the window's first day".into());
            }
            if p.from < cx.in_force.from {
                return bad(
                    "money.window.from",
                    format!("before the measure is in force ({})", cx.in_force.from),
                );
            }
            (p, w.clause.clone())
        }
    };
    Ok(MoneyRule {
        pays_for: doc.pays_for,
        amount: doc.amount.rule,
        param,
        applicants: doc.applicants.clone(),
        records: doc.records.clone(),
        window,
        window_clause,
        period: doc.period,
    })
}
