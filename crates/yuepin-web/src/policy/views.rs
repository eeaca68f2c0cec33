//! The policy pages' view models and template structs: evaluations with their reasons and
//! clauses in the page's language, offers, applications, and one struct per template under
//! `templates/policy/`.

use crate::i18n::Tr;
use crate::page::Chrome;
use askama::Template;
use yuepin_domain::Yuan;
use yuepin_policy::{Evaluation, Outcome, PolicySet};
use yuepin_policy_service::{
    measure_id, outcome_code, Application, ApplicationStatus, WhatIfReport,
};

/// An amount for display, "—" when there is none.
pub(super) fn money_text(fen: Option<i64>) -> String {
    fen.map(|f| Yuan::from_fen(f).to_zh())
        .unwrap_or_else(|| "—".into())
}

/// One failed condition or missing fact, in the page's language.
pub struct ReasonView {
    pub text: String,
    pub detail: String,
    pub clause: String,
}

/// One measure's evaluation for a page.
pub struct EvalView {
    pub id: String,
    pub number: u16,
    pub title: String,
    pub outcome: String,
    pub outcome_label: String,
    pub programme: bool,
    pub reasons: Vec<ReasonView>,
    pub benefits: Vec<String>,
    pub units: String,
}

pub(super) fn eval_view(set: &PolicySet, e: &Evaluation, tr: Tr) -> EvalView {
    let l = |x: &yuepin_policy::Label| tr.t(&x.zh, &x.en).to_string();
    let reasons = match &e.outcome {
        Outcome::NotEligible { failed } => failed
            .iter()
            .map(|c| ReasonView {
                text: l(&c.label),
                detail: format!(
                    "{}{} {} {}",
                    c.fact_label
                        .as_ref()
                        .map(|f| format!("{}: ", l(f)))
                        .unwrap_or_default(),
                    c.value.clone().unwrap_or_else(|| "—".into()),
                    c.op,
                    c.threshold.clone().unwrap_or_default()
                ),
                clause: c.clause.quote.clone(),
            })
            .collect(),
        Outcome::Undetermined { missing } => missing
            .iter()
            .map(|x| ReasonView {
                text: format!("{}{}", tr.t("请提供:", "Provide: "), l(&x.label)),
                detail: format!("{} ({})", x.fact, l(&x.needed_by)),
                clause: x.clause.quote.clone(),
            })
            .collect(),
        Outcome::NotInForce { reason, in_force } => vec![ReasonView {
            text: l(reason),
            detail: format!("{} — {}", in_force.from, in_force.until),
            clause: String::new(),
        }],
        Outcome::Conflict { conflicts } => conflicts
            .iter()
            .map(|c| ReasonView {
                text: l(&c.reason),
                detail: c.with.join(", "),
                clause: String::new(),
            })
            .collect(),
        Outcome::Eligible => vec![],
    };
    let number = set
        .find_measure(&e.measure)
        .map(|i| set.measures()[i].number)
        .unwrap_or(0);
    EvalView {
        id: measure_id(&e.measure).to_string(),
        number,
        title: l(&e.title),
        outcome: outcome_code(e.outcome.kind()).into(),
        outcome_label: l(&e.outcome_label),
        programme: e.programme,
        reasons,
        benefits: e
            .benefits
            .iter()
            .map(|b| match &b.amount {
                Some(a) => format!(
                    "{} ({}{})",
                    l(&b.label),
                    if b.is_cap {
                        tr.t("最高", "up to ")
                    } else {
                        ""
                    },
                    a
                ),
                None => l(&b.label),
            })
            .collect(),
        units: e.responsible.units.join("、"),
    }
}

/// An offer on the enterprise's 政策匹配 page.
pub struct OfferView {
    pub id: i64,
    pub measure: String,
    pub status: String,
    /// The status in the page's language (过期 when an unanswered offer is past its date).
    pub status_text: String,
    /// Last day to confirm, and whether it can still be answered.
    pub expires_on: String,
    pub open: bool,
    pub amount: String,
    pub as_of: String,
    pub needs_reference: bool,
}

/// One application row.
pub struct AppView {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub measure: String,
    pub reference: String,
    pub requested: String,
    pub status: String,
    /// The status in words (the pages never show the code).
    pub status_zh: &'static str,
    pub status_en: &'static str,
    pub reason: String,
    pub granted: String,
    /// The stored evidence: the server's evaluation date, the pack and version, the outcome
    /// and its reasons, and the facts used — as they were when the application was filed.
    pub evaluated_on: String,
    pub evidence_pack: String,
    pub evidence_outcome_zh: String,
    pub evidence_outcome_en: String,
    pub evidence_reasons: Vec<String>,
    pub evidence_facts: String,
}

/// What an application's stored evidence says, for the page.
fn evidence_view(e: Option<&serde_json::Value>) -> (String, String, String, Vec<String>, String) {
    let Some(e) = e else {
        return Default::default();
    };
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let pack = format!(
        "{} {} ({})",
        s(&e["pack"]["number"]),
        s(&e["pack"]["id"]),
        s(&e["pack"]["version"])
    );
    let ev = &e["evaluation"];
    let reasons = ev["failed"]
        .as_array()
        .or_else(|| ev["conditions"].as_array())
        .map(|a| {
            a.iter()
                .map(|c| format!("{} 「{}」", s(&c["label"]["zh"]), s(&c["clause"]["quote"])))
                .collect()
        })
        .unwrap_or_default();
    let facts = e["facts"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(t) => format!("{k}={t}"),
                    other => format!("{k}={other}"),
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    (
        pack,
        s(&ev["outcome_label"]["zh"]),
        s(&ev["outcome_label"]["en"]),
        reasons,
        facts,
    )
}

pub(super) fn app_view(a: &Application) -> AppView {
    let (evidence_pack, evidence_outcome_zh, evidence_outcome_en, evidence_reasons, evidence_facts) =
        evidence_view(a.evidence.as_ref());
    AppView {
        id: a.id,
        uscc: a.uscc.to_string(),
        name: a.enterprise_name.clone(),
        measure: measure_id(&a.measure).to_string(),
        reference: a.reference.clone(),
        requested: money_text(a.amount_requested_fen),
        status: a.status.as_str().to_string(),
        status_zh: match a.status {
            ApplicationStatus::Submitted => "待审核",
            ApplicationStatus::Approved => "已批准",
            ApplicationStatus::Rejected => "已驳回",
        },
        status_en: match a.status {
            ApplicationStatus::Submitted => "Submitted",
            ApplicationStatus::Approved => "Approved",
            ApplicationStatus::Rejected => "Rejected",
        },
        evaluated_on: a.evaluated_on.map(|d| d.to_string()).unwrap_or_default(),
        evidence_pack,
        evidence_outcome_zh,
        evidence_outcome_en,
        evidence_reasons,
        evidence_facts,
        reason: a.reason.clone().unwrap_or_default(),
        granted: a
            .grant
            .as_ref()
            .map(|g| format!("{} ({})", Yuan::from_fen(g.amount_fen).to_zh(), g.year))
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "policy/index.html")]
pub(super) struct IndexPage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) regulator: bool,
    pub(super) today: String,
    pub(super) runs: Vec<(i64, String, i64, i64, i64, i64, String)>,
    /// (id, number, title, programme, subjects, eligible, undetermined, status in words).
    pub(super) measures: Vec<(String, u16, String, bool, String, i64, i64, String)>,
    pub(super) own: String,
}

#[derive(Template)]
#[template(path = "policy/enterprise.html")]
pub(super) struct EnterpriseMatchPage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) uscc: String,
    pub(super) name: String,
    pub(super) as_of: String,
    pub(super) run_note: String,
    pub(super) facts: Vec<(String, String)>,
    pub(super) eligible: Vec<EvalView>,
    pub(super) undetermined: Vec<EvalView>,
    pub(super) not_eligible: Vec<EvalView>,
    pub(super) other: Vec<EvalView>,
    pub(super) offers: Vec<OfferView>,
    pub(super) applications: Vec<AppView>,
    pub(super) is_enterprise: bool,
    pub(super) money_measures: Vec<String>,
}

pub struct FieldView {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub value: String,
    pub options: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "policy/check.html")]
pub(super) struct CheckPage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) subject: String,
    pub(super) subjects: Vec<(String, String)>,
    pub(super) as_of: String,
    pub(super) fields: Vec<FieldView>,
    pub(super) results: Vec<EvalView>,
    pub(super) error: String,
    pub(super) checked: bool,
}

#[derive(Template)]
#[template(path = "policy/measure.html")]
pub(super) struct MeasureListPage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) id: String,
    pub(super) title: String,
    pub(super) clause: String,
    pub(super) run: String,
    pub(super) run_id: i64,
    pub(super) outcome: String,
    pub(super) items: Vec<(String, String, String, String, String)>,
    pub(super) page: i64,
    pub(super) has_next: bool,
}

#[derive(Template)]
#[template(path = "policy/whatif.html")]
pub(super) struct WhatIfPage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) as_of: String,
    pub(super) params: Vec<(String, String, String, String)>,
    pub(super) report: Option<WhatIfReport>,
    pub(super) delta: String,
    pub(super) error: String,
}

impl WhatIfPage {
    fn fen(&self, v: &i64) -> String {
        Yuan::from_fen(*v).to_zh()
    }
}

#[derive(Template)]
#[template(path = "policy/notifications.html")]
pub(super) struct NotificationsPage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) items: Vec<(String, String, String, bool)>,
}

#[derive(Template)]
#[template(path = "policy/applications.html")]
pub(super) struct ApplicationsPage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) regulator: bool,
    /// `?status=…` of the page, for the download links.
    pub(super) status_query: String,
    pub(super) export_max: i64,
    pub(super) items: Vec<AppView>,
}

#[derive(Template)]
#[template(path = "policy/grants.html")]
pub(super) struct GrantsPage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) rows: Vec<(String, String, i64, i64, String)>,
    pub(super) by_measure: Vec<(String, i64, String)>,
    pub(super) by_city: Vec<(String, i64, String)>,
    pub(super) by_year: Vec<(String, i64, String)>,
    pub(super) total: String,
    pub(super) grants: i64,
    /// SVG bars of the amount by city: (label, width %, amount).
    pub(super) bars: Vec<(String, f64, String, usize, f64)>,
}
