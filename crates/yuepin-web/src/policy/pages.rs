//! The policy pages under `/policy/…`: the home with the latest runs and measures, the check
//! form for request subjects, an enterprise's 政策匹配 page with its offers and applications,
//! the regulator's per-measure listing, what-if, notifications, applications and grants, and
//! the forms that post to them (CSRF-checked, then redirected).

use super::api::{AsOfQuery, EnterpriseQuery, ListingQuery};
use super::service;
use super::views::*;
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::WebResult;
use crate::form::PageForm;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use axum::extract::{Path, Query};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use yuepin_domain::{reference, Yuan};
use yuepin_policy::model::FactType;
use yuepin_policy::{Facts, SubjectKind};
use yuepin_policy_service::{
    measure_id, outcome_code, AnswerInput, ApplyInput, DecisionInput, MatchInput, PolicyError,
};

fn wrap(r: WebResult<Response>, auth: &Auth, state: &AppState, uri: &Uri) -> Response {
    r.unwrap_or_else(|e| page_error(e, auth, state, uri))
}

pub(super) async fn index(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let r = async {
        let tr = auth.tr;
        let svc = service(&state);
        let caller = auth.caller();
        let regulator = auth.is_regulator();
        let mut runs = vec![];
        let mut counts: HashMap<(String, String), i64> = HashMap::new();
        if regulator {
            let list = svc.runs(&caller, 10).await?;
            if let Some(latest) = list.first() {
                for c in svc.run_counts(&caller, latest.id).await? {
                    counts.insert((c.measure, outcome_code(c.outcome).to_string()), c.count);
                }
            }
            runs = list
                .into_iter()
                .map(|r| {
                    (
                        r.id,
                        r.as_of.to_string(),
                        r.enterprises,
                        r.evaluations,
                        r.eligible,
                        r.undetermined,
                        r.created_at.chars().take(16).collect(),
                    )
                })
                .collect();
        }
        let own = svc.own_enterprise_code(&caller).await?.unwrap_or_default();
        let measures = svc
            .set()
            .measures()
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let status = yuepin_policy::status::measure_status(svc.set(), i, svc.today())
                    .map(|s| {
                        let l = s.label();
                        tr.t(&l.zh, &l.en).to_string()
                    })
                    .unwrap_or_default();
                let g = |o: &str| {
                    counts
                        .get(&(x.key.clone(), o.to_string()))
                        .copied()
                        .unwrap_or(0)
                };
                (
                    x.id.clone(),
                    x.number,
                    tr.t(&x.title.zh, &x.title.en).to_string(),
                    x.programme,
                    {
                        let mut kinds: Vec<_> = x.rules.iter().map(|r| r.subject).collect();
                        kinds.dedup();
                        kinds
                            .iter()
                            .map(|k| {
                                let l = k.label();
                                tr.t(&l.zh, &l.en).to_string()
                            })
                            .collect::<Vec<_>>()
                            .join(tr.t("、", ", "))
                    },
                    g("eligible"),
                    g("undetermined"),
                    status,
                )
            })
            .collect();
        let page = IndexPage {
            tr,
            c: Chrome::new(&auth, &state),
            regulator,
            today: svc.today().to_string(),
            runs,
            measures,
            own,
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

pub(super) async fn enterprise(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(uscc): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> Response {
    let r = async {
        let tr = auth.tr;
        let svc = service(&state);
        let caller = auth.caller();
        let set = svc.set();
        let r = svc
            .enterprise_matches(&caller, &uscc, q.as_of.as_deref())
            .await?;
        let is_enterprise = auth
            .user
            .as_ref()
            .is_some_and(|u| u.role == yuepin_domain::Role::Enterprise);
        let apps = svc.applications_of(&caller, r.enterprise_id).await?;
        let labels: HashMap<&str, &yuepin_policy::Label> = set
            .facts_of(SubjectKind::Enterprise)
            .map(|f| (f.name.as_str(), &f.label))
            .collect();
        let page = EnterpriseMatchPage {
            tr,
            c: Chrome::new(&auth, &state),
            uscc: r.uscc.clone(),
            name: r.name.clone(),
            as_of: r.as_of.to_string(),
            run_note: match &r.latest_run {
                Some(run) => format!("#{} ({})", run.id, run.as_of),
                None => String::new(),
            },
            facts: r
                .facts
                .iter()
                .map(|(k, v)| {
                    let label = labels
                        .get(k.as_str())
                        .map(|l| tr.t(&l.zh, &l.en).to_string())
                        .unwrap_or_else(|| k.clone());
                    let value = match v {
                        Value::String(s) => code_word(tr, s),
                        Value::Array(a) => a
                            .iter()
                            .map(|x| {
                                x.as_str()
                                    .map_or_else(|| x.to_string(), |s| code_word(tr, s))
                            })
                            .collect::<Vec<_>>()
                            .join(tr.t("、", ", ")),
                        other => other.to_string(),
                    };
                    (label, value)
                })
                .collect(),
            eligible: r.eligible.iter().map(|e| eval_view(set, e, tr)).collect(),
            undetermined: r
                .undetermined
                .iter()
                .map(|e| eval_view(set, e, tr))
                .collect(),
            not_eligible: r
                .not_eligible
                .iter()
                .map(|e| eval_view(set, e, tr))
                .collect(),
            other: r.other.iter().map(|e| eval_view(set, e, tr)).collect(),
            offers: r
                .offers
                .iter()
                .map(|o| {
                    let mid = measure_id(&o.measure).to_string();
                    let set = svc.set();
                    let needs_reference = set
                        .find_measure(&o.measure)
                        .and_then(|i| set.measures()[i].money.as_ref())
                        .is_some_and(|m| m.pays_for == yuepin_policy::money::PaysFor::Standard);
                    let expired = svc.today() > o.expires_on;
                    let open = o.status == yuepin_policy_service::OfferStatus::Offered && !expired;
                    let status_text = match o.status {
                        yuepin_policy_service::OfferStatus::Offered if expired => {
                            tr.t("已过期", "expired")
                        }
                        yuepin_policy_service::OfferStatus::Offered => {
                            tr.t("待确认", "awaiting you")
                        }
                        yuepin_policy_service::OfferStatus::Confirmed => {
                            tr.t("已确认", "confirmed")
                        }
                        yuepin_policy_service::OfferStatus::Declined => tr.t("已放弃", "declined"),
                    };
                    OfferView {
                        id: o.id,
                        needs_reference,
                        measure: mid,
                        status: o.status.as_str().to_string(),
                        status_text: status_text.to_string(),
                        expires_on: o.expires_on.to_string(),
                        open,
                        amount: money_text(o.amount_fen),
                        as_of: o.as_of.to_string(),
                    }
                })
                .collect(),
            applications: apps.iter().map(app_view).collect(),
            is_enterprise,
            money_measures: svc
                .set()
                .measures()
                .iter()
                .filter(|m| m.money.is_some())
                .map(|m| m.id.clone())
                .collect(),
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

/// The check form (GET): fields generated from the subject kind's fact vocabulary; facts
/// left empty are missing (never read as false).
pub(super) async fn check(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let tr = auth.tr;
    let svc = service(&state);
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let subject = SubjectKind::parse(&get("subject")).unwrap_or(SubjectKind::Merger);
    let as_of_text = get("as_of");
    let checked = q.iter().any(|(k, _)| k == "check");
    let mut facts = Map::new();
    let mut fields = vec![];
    let mut error = String::new();
    for def in svc.set().facts_of(subject) {
        let key = format!("f.{}", def.name);
        let values: Vec<String> = q
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.trim().to_string())
            .collect();
        let first = values.first().cloned().unwrap_or_default();
        let kind = match def.ty {
            FactType::Bool => "bool",
            FactType::Int => "int",
            FactType::Money => "money",
            FactType::Date => "date",
            FactType::Code => "code",
            FactType::Set => "set",
            FactType::MoneyList => "money_list",
        };
        let value = match def.ty {
            FactType::Bool => match first.as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            FactType::Set => {
                let v: Vec<Value> = values
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::from(s.as_str()))
                    .collect();
                (!v.is_empty()
                    || values.iter().any(|s| s.is_empty())
                        && q.iter().any(|(k, _)| k == &format!("{key}.none")))
                .then_some(Value::Array(v))
            }
            FactType::MoneyList => (!first.is_empty()).then(|| {
                Value::Array(
                    first
                        .split([',', ',', ';', ' '])
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| Value::from(s.trim()))
                        .collect(),
                )
            }),
            _ => (!first.is_empty()).then(|| Value::from(first.clone())),
        };
        if let Some(v) = value {
            facts.insert(def.name.clone(), v);
        }
        fields.push(FieldView {
            name: def.name.clone(),
            label: tr.t(&def.label.zh, &def.label.en).to_string(),
            kind: kind.into(),
            options: def
                .domain
                .iter()
                .map(|d| (d.clone(), values.contains(d)))
                .collect(),
            value: first,
        });
    }
    let mut results = vec![];
    if checked {
        let outcome = svc.as_of(Some(&as_of_text)).and_then(|as_of| {
            let f = Facts::from_json(subject, Value::Object(facts)).map_err(PolicyError::from)?;
            svc.evaluate(&f, as_of, None)
        });
        match outcome {
            Ok(list) => results = list.iter().map(|e| eval_view(svc.set(), e, tr)).collect(),
            Err(e) => error = crate::error::WebError::from(e).message(),
        }
    }
    let page = CheckPage {
        tr,
        c: Chrome::new(&auth, &state),
        subject: subject.code().into(),
        subjects: SubjectKind::ALL
            .iter()
            .filter(|k| **k != SubjectKind::Enterprise)
            .map(|k| {
                (
                    k.code().to_string(),
                    tr.t(&k.label().zh, &k.label().en).to_string(),
                )
            })
            .collect(),
        as_of: if as_of_text.is_empty() {
            svc.today().to_string()
        } else {
            as_of_text
        },
        fields,
        results,
        error,
        checked,
    };
    render(&page, &auth, &uri)
}

pub(super) async fn measure(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<String>,
    Query(q): Query<ListingQuery>,
) -> Response {
    let r = async {
        let tr = auth.tr;
        let per = 100;
        let svc = service(&state);
        let l = svc
            .measure_listing(
                &auth.caller(),
                &id,
                q.run,
                q.outcome.as_deref(),
                q.page,
                per,
            )
            .await?;
        let m = &svc.set().measures()[l.measure];
        let items = l
            .items
            .iter()
            .map(|it| {
                let city = reference::find_city(it.city.as_str())
                    .map(|c| tr.t(&c.name_zh, &c.name_en).to_string())
                    .unwrap_or_else(|| it.city.to_string());
                let missing = it
                    .reasons
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                (
                    it.uscc.to_string(),
                    it.name.clone(),
                    city,
                    missing,
                    money_text(it.amount_fen),
                )
            })
            .collect::<Vec<_>>();
        let page = MeasureListPage {
            tr,
            c: Chrome::new(&auth, &state),
            id: m.id.clone(),
            title: tr.t(&m.title.zh, &m.title.en).to_string(),
            clause: m.clause_text.clone(),
            run: format!("#{} ({})", l.run.id, l.run.as_of),
            run_id: l.run.id,
            outcome: outcome_code(l.outcome).to_string(),
            has_next: items.len() as i64 == per,
            items,
            page: q.page.unwrap_or(1).max(1),
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

pub(super) async fn what_if(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let r = async {
        let tr = auth.tr;
        let svc = service(&state);
        let caller = auth.caller();
        let get = |k: &str| {
            q.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let (as_of, parameters) = svc.parameters(&caller, Some(&get("as_of")))?;
        let mut overrides = BTreeMap::new();
        let params = parameters
            .into_iter()
            .map(|p| {
                let v = get(&format!("p.{}", p.name));
                if !v.is_empty() {
                    overrides.insert(p.name.clone(), v.clone());
                }
                (
                    p.name,
                    format!("{} {}", p.measure, tr.t(&p.label.zh, &p.label.en)),
                    p.value
                        .unwrap_or_else(|| tr.t("(未定额)", "(no figure)").into()),
                    v,
                )
            })
            .collect();
        let (mut report, mut error) = (None, String::new());
        if !overrides.is_empty() {
            match svc.what_if_enterprises(&caller, &overrides, as_of).await {
                Ok(r) => report = Some(r),
                Err(e) => error = crate::error::WebError::from(e).message(),
            }
        }
        let delta = report
            .as_ref()
            .map(|r| Yuan::from_fen(r.amount_delta_fen).to_zh())
            .unwrap_or_default();
        let page = WhatIfPage {
            tr,
            c: Chrome::new(&auth, &state),
            as_of: as_of.to_string(),
            params,
            report,
            delta,
            error,
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
pub(super) struct CsrfAsOf {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    as_of: String,
}

pub(super) async fn run_match(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<CsrfAsOf>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        service(&state)
            .match_request(
                &auth.caller(),
                MatchInput {
                    as_of: Some(f.as_of),
                    overrides: BTreeMap::new(),
                },
            )
            .await?;
        Ok(Redirect::to("/policy").into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

pub(super) async fn notifications(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let r = async {
        let tr = auth.tr;
        let items = service(&state)
            .notifications(&auth.caller())
            .await?
            .into_iter()
            .map(|n| {
                (
                    format!(
                        "{} · {}",
                        n.created_at.chars().take(10).collect::<String>(),
                        tr.t(&n.title_zh, &n.title_en)
                    ),
                    tr.t(&n.body_zh, &n.body_en).to_string(),
                    n.link,
                    n.read_at.is_none(),
                )
            })
            .collect();
        Ok(render(
            &NotificationsPage {
                tr,
                c: Chrome::new(&auth, &state),
                items,
            },
            &auth,
            &uri,
        ))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
pub(super) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn read_notifications(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<CsrfOnly>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        service(&state)
            .mark_notifications_read(&auth.caller())
            .await?;
        Ok(Redirect::to("/policy/notifications").into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reference: String,
}

pub(super) async fn answer_offer(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<AnswerForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        let svc = service(&state);
        let caller = auth.caller();
        svc.answer_offer(
            &caller,
            id,
            AnswerInput {
                decision: f.decision,
                reference: f.reference,
            },
        )
        .await?;
        let own = svc.own_enterprise_code(&caller).await?.unwrap_or_default();
        Ok(Redirect::to(&format!("/policy/enterprises/{own}")).into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
pub(super) struct ApplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    measure: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn apply(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<ApplyForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        let app = service(&state)
            .apply(
                &auth.caller(),
                ApplyInput {
                    uscc: String::new(),
                    measure: f.measure,
                    reference: f.reference,
                    amount: f.amount,
                    note: f.note,
                    as_of: String::new(),
                },
            )
            .await?;
        Ok(Redirect::to(&format!("/policy/enterprises/{}", app.uscc)).into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

pub(super) async fn applications(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<EnterpriseQuery>,
) -> Response {
    let r = async {
        let list = service(&state)
            .applications(
                &auth.caller(),
                q.status.as_deref().filter(|s| !s.is_empty()),
            )
            .await?;
        let page = ApplicationsPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            regulator: auth.is_regulator(),
            status_query: q
                .status
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| format!("?status={}", crate::page::urlencode(s)))
                .unwrap_or_default(),
            export_max: yuepin_policy_service::APPLICATION_EXPORT_MAX,
            items: list.iter().map(app_view).collect(),
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
pub(super) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    amount: String,
}

pub(super) async fn decide(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<DecisionForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        service(&state)
            .decide(
                &auth.caller(),
                id,
                DecisionInput {
                    decision: f.decision,
                    reason: f.reason,
                    amount: f.amount,
                    year: None,
                },
            )
            .await?;
        Ok(Redirect::to("/policy/applications").into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

pub(super) async fn grants(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let r = async {
        let tr = auth.tr;
        let t = service(&state).grant_totals(&auth.caller()).await?;
        let city = |c: &str| {
            reference::find_city(c)
                .map(|x| tr.t(&x.name_zh, &x.name_en).to_string())
                .unwrap_or_else(|| c.to_string())
        };
        let max = t.by_city.values().map(|v| v.1).max().unwrap_or(1).max(1) as f64;
        let page = GrantsPage {
            tr,
            c: Chrome::new(&auth, &state),
            rows: t
                .rows
                .iter()
                .map(|r| {
                    (
                        measure_id(&r.measure).to_string(),
                        city(r.city.as_str()),
                        r.year,
                        r.grants,
                        Yuan::from_fen(r.amount_fen).to_zh(),
                    )
                })
                .collect(),
            by_measure: t
                .by_measure
                .iter()
                .map(|(k, v)| (k.clone(), v.0, Yuan::from_fen(v.1).to_zh()))
                .collect(),
            by_city: t
                .by_city
                .iter()
                .map(|(k, v)| (city(k), v.0, Yuan::from_fen(v.1).to_zh()))
                .collect(),
            by_year: t
                .by_year
                .iter()
                .map(|(k, v)| (k.to_string(), v.0, Yuan::from_fen(v.1).to_zh()))
                .collect(),
            bars: t
                .by_city
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    let w = (v.1 as f64 / max * 70.0).max(0.5);
                    (
                        city(k),
                        w,
                        Yuan::from_fen(v.1).to_zh(),
                        i * 22 + 4,
                        w + 23.0,
                    )
                })
                .collect(),
            total: Yuan::from_fen(t.amount_fen).to_zh(),
            grants: t.grants,
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

/// A fact's code value in words (designations, listing status); other values as they are.
fn code_word(tr: crate::i18n::Tr, code: &str) -> String {
    if let Ok(d) = code.parse::<yuepin_domain::DesignationKind>() {
        return tr.t(d.name_zh(), d.name_en()).to_string();
    }
    if let Some(l) = yuepin_domain::Listing::ALL
        .into_iter()
        .find(|l| l.as_str() == code)
    {
        return if tr.is_en() {
            code.replace('_', " ")
        } else {
            l.name_zh().to_string()
        };
    }
    code.to_string()
}
