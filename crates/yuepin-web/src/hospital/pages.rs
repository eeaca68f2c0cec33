//! Pages of the product hospital: `/hospital` (an enterprise's cases and the form to open
//! one; an expert's queue; a coordinator's and the regulator's cases), `/hospital/cases/{id}`
//! (the case, its SLA targets, the thread and the steps the caller may take, each a form
//! posting back with the session's CSRF token), `/hospital/knowledge` (the public knowledge
//! base) and `/hospital/stats` (the regulator's figures with SVG charts). Access is the
//! service's; the page only offers what the service reports the caller may do.

use super::views;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::form::PageForm;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use std::collections::HashMap;
use yuepin_domain::{Division, Role};
use yuepin_hospital_service::{
    CaseFilter, CaseRecord, CaseState, Closure, LinkKind, NewCase, NewKnowledge, Priority,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hospital", get(cases_page))
        .route("/hospital/cases", post(open_form))
        .route("/hospital/cases/{id}", get(case_page))
        .route("/hospital/cases/{id}/{action}", post(action_form))
        .route("/hospital/knowledge", get(knowledge_page))
        .route("/hospital/stats", get(stats_page))
}

struct Row {
    id: i64,
    title: String,
    enterprise: String,
    hospital: String,
    state: &'static str,
    priority: &'static str,
    expert: String,
    sla: Vec<(String, &'static str)>,
}

fn row(tr: Tr, c: &CaseRecord) -> Row {
    Row {
        id: c.id,
        title: c.title.clone(),
        enterprise: c.enterprise_name.clone(),
        hospital: c.hospital_name.clone(),
        state: views::state(tr, c.state),
        priority: views::priority(tr, c.priority),
        expert: c
            .expert_name
            .clone()
            .unwrap_or_else(|| tr.t("待分派", "unassigned").into()),
        sla: c
            .sla
            .iter()
            .map(|v| (views::sla_line(tr, v), views::target_class(v.state)))
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "hospital/cases.html")]
struct CasesPage {
    tr: Tr,
    c: Chrome,
    heading: &'static str,
    enterprise: bool,
    unbound: bool,
    regulator: bool,
    rows: Vec<Row>,
    hospitals: Vec<(i64, String)>,
    priorities: Vec<(&'static str, &'static str)>,
    states: Vec<(&'static str, &'static str)>,
    state: String,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    state: String,
}

async fn cases_page(Cx { state, auth }: Cx, uri: Uri, Query(q): Query<ListQuery>) -> Response {
    let caller = auth.caller();
    let tr = auth.tr;
    let r: WebResult<CasesPage> = async {
        let h = &state.modules.hospital;
        let filter = CaseFilter {
            state: Some(q.state.clone()).filter(|s| !s.is_empty()),
            hospital_id: None,
        };
        // An expert account not yet registered as an expert sees an empty queue saying so.
        let (list, unbound) = match h.cases(&caller, &filter).await {
            Err(yuepin_hospital_service::HospitalError::ExpertNotBound) => (Vec::new(), true),
            r => (r?, false),
        };
        let role = caller.role();
        let enterprise = role == Some(Role::Enterprise);
        let hospitals = if enterprise {
            h.hospitals(&caller)
                .await?
                .into_iter()
                .map(|x| (x.id, x.name))
                .collect()
        } else {
            Vec::new()
        };
        Ok(CasesPage {
            heading: match role {
                Some(Role::Enterprise) => tr.t("我的产品医院问诊", "My product-hospital cases"),
                Some(Role::Expert) => tr.t("我的问诊队列", "My case queue"),
                _ => tr.t("产品医院全部问诊", "All product-hospital cases"),
            },
            enterprise,
            unbound,
            regulator: caller.is_administrator(),
            rows: list.iter().map(|c| row(tr, c)).collect(),
            hospitals,
            priorities: Priority::ALL
                .into_iter()
                .map(|p| (p.as_str(), views::priority(tr, p)))
                .collect(),
            states: CaseState::ALL
                .into_iter()
                .map(|s| (s.as_str(), views::state(tr, s)))
                .collect(),
            state: q.state.clone(),
            tr,
            c: Chrome::new(&auth, &state),
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

type FormMap = HashMap<String, String>;

fn field<'a>(f: &'a FormMap, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or("")
}

fn checked(f: &FormMap, name: &str) -> bool {
    f.get(name).is_some_and(|v| !v.is_empty())
}

fn number(f: &FormMap, name: &'static str) -> WebResult<i64> {
    field(f, name)
        .trim()
        .parse()
        .map_err(|_| WebError::field(name, "须为整数 (a whole number)"))
}

async fn open_form(Cx { state, auth }: Cx, uri: Uri, PageForm(f): PageForm<FormMap>) -> Response {
    let r: WebResult<i64> = async {
        auth.check_csrf(f.get("csrf").map(String::as_str))?;
        let link_id = field(&f, "link_id").trim();
        let nc = NewCase {
            hospital_id: number(&f, "hospital_id")?,
            title: field(&f, "title").into(),
            product: field(&f, "product").into(),
            problem_type: field(&f, "problem_type").into(),
            description: field(&f, "description").into(),
            division: None,
            priority: Priority::parse(field(&f, "priority"))
                .ok_or_else(|| WebError::field("priority", "无法识别 (unknown)"))?,
            on_site: checked(&f, "on_site"),
            link_kind: if link_id.is_empty() {
                None
            } else {
                Some(LinkKind::Inspection)
            },
            link_id: if link_id.is_empty() {
                None
            } else {
                Some(number(&f, "link_id")?)
            },
        };
        Ok(state
            .modules
            .hospital
            .open_case(&auth.caller(), &nc)
            .await?
            .id)
    }
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/hospital/cases/{id}")).into_response(),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

struct Msg {
    who: String,
    side: &'static str,
    internal: bool,
    body: String,
    at: String,
}

#[derive(Template)]
#[template(path = "hospital/case.html")]
struct CasePage {
    tr: Tr,
    c: Chrome,
    case: CaseRecord,
    state: &'static str,
    priority: &'static str,
    division: String,
    sla: Vec<(String, &'static str)>,
    messages: Vec<Msg>,
    events: Vec<(String, String, String)>,
    may_assign: bool,
    expert: bool,
    enterprise: bool,
    /// (expert id, name, score, reasons).
    proposals: Vec<(i64, String, i32, String)>,
    closed: bool,
    resolved: bool,
    assigned_only: bool,
    closure: Option<Closure>,
}

async fn case_page(Cx { state, auth }: Cx, uri: Uri, Path(id): Path<i64>) -> Response {
    let caller = auth.caller();
    let tr = auth.tr;
    let r: WebResult<CasePage> = async {
        let h = &state.modules.hospital;
        let d = h.case(&caller, id).await?;
        let proposals = if d.may_assign
            && !matches!(d.case.state, CaseState::Resolved | CaseState::Closed)
        {
            h.proposals(&caller, id)
                .await?
                .into_iter()
                .map(|p| {
                    let why: Vec<String> = p.reasons.iter().map(|r| views::reason(tr, r)).collect();
                    (
                        p.expert_id,
                        p.expert_name,
                        p.score,
                        why.join(tr.t(";", "; ")),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let c = &d.case;
        Ok(CasePage {
            state: views::state(tr, c.state),
            priority: views::priority(tr, c.priority),
            division: tr
                .t(&c.division.info().name_zh, &c.division.info().name_en)
                .to_string(),
            sla: c
                .sla
                .iter()
                .map(|v| (views::sla_line(tr, v), views::target_class(v.state)))
                .collect(),
            messages: d
                .messages
                .iter()
                .map(|m| Msg {
                    who: m.author.clone(),
                    side: views::side(tr, m.side),
                    internal: m.internal,
                    body: m.body.clone(),
                    at: m.at.format("%Y-%m-%d %H:%M").to_string(),
                })
                .collect(),
            events: d
                .events
                .iter()
                .map(|e| {
                    let name = yuepin_hospital_service::CaseEvent::parse(&e.event)
                        .map(|ev| event_name(tr, ev))
                        .unwrap_or(tr.t("立案", "opened"));
                    (
                        e.at.format("%Y-%m-%d %H:%M").to_string(),
                        name.to_string(),
                        e.reason.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            may_assign: d.may_assign,
            expert: d.may_act_as_expert,
            enterprise: d.may_act_as_enterprise,
            proposals,
            closed: c.state == CaseState::Closed,
            resolved: c.state == CaseState::Resolved,
            assigned_only: c.state == CaseState::Assigned,
            closure: c.closure.clone(),
            case: d.case,
            tr,
            c: Chrome::new(&auth, &state),
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

fn event_name(tr: Tr, e: yuepin_hospital_service::CaseEvent) -> &'static str {
    use yuepin_hospital_service::CaseEvent as E;
    match e {
        E::Assign => tr.t("分派", "assigned"),
        E::Decline => tr.t("专家婉拒", "declined"),
        E::Respond => tr.t("专家首次响应", "first response"),
        E::AskEnterprise => tr.t("请企业补充", "asked the enterprise"),
        E::EnterpriseReplies => tr.t("企业回复", "enterprise replied"),
        E::Escalate => tr.t("转集体会诊", "escalated to a panel"),
        E::Resolve => tr.t("已解决", "resolved"),
        E::Close => tr.t("结案", "closed"),
        E::Reopen => tr.t("重新打开", "reopened"),
    }
}

async fn action_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path((id, action)): Path<(i64, String)>,
    PageForm(f): PageForm<FormMap>,
) -> Response {
    let r: WebResult<()> = async {
        auth.check_csrf(f.get("csrf").map(String::as_str))?;
        let h = &state.modules.hospital;
        let caller = auth.caller();
        match action.as_str() {
            "message" => {
                h.post_message(
                    &caller,
                    id,
                    field(&f, "body"),
                    checked(&f, "internal"),
                    checked(&f, "ask"),
                )
                .await?;
            }
            "assign" => {
                h.assign(&caller, id, number(&f, "expert_id")?).await?;
            }
            "escalate" => {
                h.escalate(
                    &caller,
                    id,
                    &[number(&f, "expert_id")?],
                    field(&f, "reason"),
                )
                .await?;
            }
            "decline" => {
                h.decline(&caller, id, field(&f, "reason")).await?;
            }
            "resolve" => {
                h.resolve(&caller, id).await?;
            }
            "close" => {
                let c = Closure {
                    root_cause: field(&f, "root_cause").into(),
                    fix: field(&f, "fix").into(),
                    verification: field(&f, "verification").into(),
                };
                h.close(&caller, id, &c).await?;
            }
            "reopen" => {
                h.reopen(&caller, id, field(&f, "reason")).await?;
            }
            "rate" => {
                h.rate(&caller, id, number(&f, "score")?, field(&f, "comment"))
                    .await?;
            }
            "knowledge" => {
                let k = NewKnowledge {
                    title: field(&f, "title").into(),
                    problem: field(&f, "problem").into(),
                    cause: field(&f, "cause").into(),
                    fix: field(&f, "fix").into(),
                };
                h.propose_knowledge(&caller, id, &k).await?;
            }
            "approve" => {
                h.approve_knowledge(&caller, id).await?;
            }
            _ => {
                return Err(WebError::NotFound(format!(
                    "未知操作 {action} (no such action)"
                )))
            }
        }
        Ok(())
    }
    .await;
    match r {
        Ok(()) => Redirect::to(&format!("/hospital/cases/{id}")).into_response(),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

#[derive(Deserialize, Default)]
struct KnowledgeQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    division: String,
}

struct Entry {
    title: String,
    division: String,
    problem: String,
    cause: String,
    fix: String,
}

#[derive(Template)]
#[template(path = "hospital/knowledge.html")]
struct KnowledgePage {
    tr: Tr,
    c: Chrome,
    q: String,
    division: String,
    divisions: Vec<(String, String)>,
    entries: Vec<Entry>,
}

async fn knowledge_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<KnowledgeQuery>,
) -> Response {
    let tr = auth.tr;
    let r: WebResult<KnowledgePage> = async {
        let division = match q.division.trim() {
            "" => None,
            d => Some(
                Division::parse(d)
                    .map_err(|_| WebError::field("division", "无法识别 (unknown)"))?,
            ),
        };
        let found = state
            .modules
            .hospital
            .search_knowledge(&auth.caller(), Some(q.q.as_str()), division, 100)
            .await?;
        let name = |d: Division| tr.t(&d.info().name_zh, &d.info().name_en).to_string();
        Ok(KnowledgePage {
            divisions: (13u8..=43)
                .filter_map(|n| Division::parse(&n.to_string()).ok())
                .map(|d| (format!("{:02}", d.code()), name(d)))
                .collect(),
            entries: found
                .into_iter()
                .map(|k| Entry {
                    division: name(k.division),
                    title: k.title,
                    problem: k.problem,
                    cause: k.cause,
                    fix: k.fix,
                })
                .collect(),
            q: q.q.clone(),
            division: q.division.clone(),
            tr,
            c: Chrome::new(&auth, &state),
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

struct StatLine {
    name: String,
    cases: i64,
    open: i64,
    closed: i64,
    first_response: String,
    resolution: String,
    mean_first: String,
    satisfaction: String,
}

#[derive(Template)]
#[template(path = "hospital/stats.html")]
struct StatsPage {
    tr: Tr,
    c: Chrome,
    hospitals: Vec<StatLine>,
    experts: Vec<StatLine>,
    chart: String,
    years: String,
}

fn pct(met: i64, n: i64) -> String {
    if n == 0 {
        "—".into()
    } else {
        format!("{:.0}% ({met}/{n})", 100.0 * met as f64 / n as f64)
    }
}

fn line(r: &yuepin_hospital_service::StatsRow) -> StatLine {
    StatLine {
        name: r.name.clone(),
        cases: r.cases,
        open: r.open,
        closed: r.closed,
        first_response: pct(r.first_response_met, r.first_response_counted),
        resolution: pct(r.resolution_met, r.resolution_counted),
        mean_first: r
            .mean_first_response_minutes
            .map(|m| format!("{m:.0}"))
            .unwrap_or_else(|| "—".into()),
        satisfaction: r
            .satisfaction_mean
            .map(|s| format!("{s:.1} ({})", r.satisfaction_count))
            .unwrap_or_else(|| "—".into()),
    }
}

async fn stats_page(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let tr = auth.tr;
    let r: WebResult<StatsPage> = async {
        let s = state.modules.hospital.stats(&auth.caller()).await?;
        let rows: Vec<(String, f64, String)> = s
            .hospitals
            .iter()
            .map(|h| {
                let v = if h.first_response_counted > 0 {
                    100.0 * h.first_response_met as f64 / h.first_response_counted as f64
                } else {
                    0.0
                };
                (
                    h.name.clone(),
                    v,
                    pct(h.first_response_met, h.first_response_counted),
                )
            })
            .collect();
        Ok(StatsPage {
            chart: views::bars(
                "sla-chart",
                tr.t(
                    "各产品医院首次响应达标率",
                    "First-response SLA attainment per hospital",
                ),
                &rows,
                100.0,
                "%",
            ),
            hospitals: s.hospitals.iter().map(line).collect(),
            experts: s.experts.iter().map(line).collect(),
            years: s
                .calendar_years
                .iter()
                .map(|y| y.to_string())
                .collect::<Vec<_>>()
                .join(tr.t("、", ", ")),
            tr,
            c: Chrome::new(&auth, &state),
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}
