//! The policy engine's web face (issue 4): pages under `/policy/…` and the API under
//! `/api/v1/policy/…`. The use cases, their access rules and their SQL are in
//! `yuepin_policy_service`; this module parses requests, calls the service with the caller,
//! and renders JSON, pages and the XLSX export. Service errors become `WebError`s here, with
//! their bilingual messages.

mod api;
mod declared;
mod downloads;
mod export;
mod pages;
mod schema;
mod views;

/// The policy capability's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api::measures,
    api::check,
    api::enterprise,
    api::run_match,
    api::runs,
    api::run,
    api::measure_listing,
    export::export_xlsx,
    api::what_if,
    api::offers,
    api::answer_offer,
    api::notifications,
    api::read_notifications,
    api::applications,
    api::apply,
    api::application,
    api::decide,
    api::grants,
    api::totals,
    api::standards,
    api::confirm_standard
))]
pub struct ApiDoc;

use crate::error::WebError;
use crate::AppState;
use axum::middleware::from_fn;
use axum::routing::{get, post};
use axum::Router;
use yuepin_policy::{EngineError, FactError, Outcome};
use yuepin_policy_service::{measure_id, PolicyError, PolicyService};

pub fn router() -> Router<AppState> {
    Router::new()
        // API
        .route("/api/v1/policy/measures", get(api::measures))
        .route("/api/v1/policy/check", post(api::check))
        .route("/api/v1/policy/enterprises/{uscc}", get(api::enterprise))
        .route("/api/v1/policy/match", post(api::run_match))
        .route(
            "/api/v1/policy/enterprises/{uscc}/standards",
            get(api::standards),
        )
        .route(
            "/api/v1/policy/standards/{id}/confirm",
            post(api::confirm_standard),
        )
        .route("/api/v1/policy/runs", get(api::runs))
        .route("/api/v1/policy/runs/{id}", get(api::run))
        .route(
            "/api/v1/policy/measures/{id}/enterprises",
            get(api::measure_listing),
        )
        .route(
            "/api/v1/policy/measures/{id}/export.xlsx",
            get(export::export_xlsx),
        )
        .route("/api/v1/policy/what-if", post(api::what_if))
        .route("/api/v1/policy/offers", get(api::offers))
        .route("/api/v1/policy/offers/{id}/answer", post(api::answer_offer))
        .route("/api/v1/policy/notifications", get(api::notifications))
        .route(
            "/api/v1/policy/notifications/read",
            post(api::read_notifications),
        )
        .route(
            "/api/v1/policy/applications",
            get(api::applications).post(api::apply),
        )
        .route("/api/v1/policy/applications/{id}", get(api::application))
        .route(
            "/api/v1/policy/applications/{id}/decision",
            post(api::decide).layer(from_fn(crate::reauth::guard)),
        )
        .route("/api/v1/policy/grants", get(api::grants))
        .route("/api/v1/policy/grants/totals", get(api::totals))
        // Pages
        .route("/policy", get(pages::index))
        .route("/policy/check", get(pages::check))
        .route("/policy/enterprises/{uscc}", get(pages::enterprise))
        .route("/policy/measures/{id}", get(pages::measure))
        .route(
            "/policy/measures/{id}/export.xlsx",
            get(export::export_xlsx),
        )
        .route("/policy/what-if", get(pages::what_if))
        .route("/policy/match", post(pages::run_match))
        .route("/policy/notifications", get(pages::notifications))
        .route(
            "/policy/notifications/read",
            post(pages::read_notifications),
        )
        .route("/policy/offers/{id}", post(pages::answer_offer))
        .route(
            "/policy/applications",
            get(pages::applications).post(pages::apply),
        )
        .route(
            "/policy/applications/{id}/decision",
            post(pages::decide).layer(from_fn(crate::reauth::guard)),
        )
        .route("/policy/grants", get(pages::grants))
        .route("/policy/declared", get(declared::declared_page))
        .route("/policy/declared/{id}/confirm", post(declared::confirm))
        .route("/policy/applications.csv", get(downloads::applications_csv))
        .route(
            "/policy/applications.xlsx",
            get(downloads::applications_xlsx),
        )
        .route("/policy/grants.csv", get(downloads::grants_csv))
        .route("/policy/grants.xlsx", get(downloads::grants_xlsx))
}

fn service(state: &AppState) -> &PolicyService {
    &state.modules.policy
}

fn fact_error(e: FactError) -> WebError {
    match &e {
        FactError::Unknown { fact, .. } | FactError::Invalid { fact, .. } => {
            WebError::field(&format!("facts.{fact}"), e.to_string())
        }
        FactError::NotAnObject { .. } => WebError::field("facts", e.to_string()),
    }
}

fn engine_error(e: EngineError) -> WebError {
    match e {
        EngineError::Facts(f) => fact_error(f),
        EngineError::UnknownParameter { .. } | EngineError::InvalidOverride { .. } => {
            WebError::field("overrides", e.to_string())
        }
        other => WebError::field("measure", other.to_string()),
    }
}

/// `100000` → `100,000`.
fn grouped(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl From<PolicyError> for WebError {
    fn from(e: PolicyError) -> Self {
        use yuepin_domain::Yuan;
        match e {
            PolicyError::Denied(d) => d.into(),
            PolicyError::Store(s) => s.into(),
            PolicyError::Domain(d) => d.into(),
            PolicyError::Facts(f) => fact_error(f),
            PolicyError::Engine(e) => engine_error(e),
            PolicyError::AccountWithoutEnterprise => {
                WebError::Forbidden("账号未绑定企业 (account has no enterprise)".into())
            }
            PolicyError::UnknownEnterprise { uscc } => {
                WebError::NotFound(format!("企业 {uscc} 不存在 (no such enterprise)"))
            }
            PolicyError::UnknownMeasure { id } => {
                WebError::NotFound(format!("措施 {id} 不存在 (no measure {id})"))
            }
            PolicyError::UnknownOffer(id) => WebError::NotFound(format!("offer #{id}")),
            PolicyError::UnknownApplication(id) => {
                WebError::NotFound(format!("application #{id}"))
            }
            PolicyError::UnknownFact(id) => {
                WebError::NotFound(format!("标准记录 #{id} 不存在 (no standard record #{id})"))
            }
            PolicyError::UnknownRun(id) => WebError::NotFound(format!("match run #{id}")),
            PolicyError::NoMatchRun => WebError::NotFound(
                "尚未运行政策匹配 (no match run yet: run yuepin policy match)".into(),
            ),
            PolicyError::Choice { field, allowed, .. } => {
                let message = if field == "outcome" {
                    format!("应为 {}", allowed.join(" 或 "))
                } else {
                    format!(
                        "应为 {} ({})",
                        allowed.join(" 或 "),
                        allowed.join(" or ")
                    )
                };
                WebError::field(field, message)
            }
            PolicyError::Required { field } => WebError::field(
                field,
                match field {
                    "overrides" => "至少设置一个参数 (set at least one parameter)",
                    "subject" => "请指定主体类型 (name the subject kind)",
                    "enterprise" => "请指定企业 (name the enterprise)",
                    "reference" => {
                        "请填写资助对象（如国际标准编号） (name what is paid for, e.g. the standard's code)"
                    }
                    "amount" => "请填写资助金额 (enter the amount granted)",
                    "reason" => "驳回须说明理由 (a rejection needs a reason)",
                    _ => "必填 (required)",
                },
            ),
            PolicyError::NotPositive { field } => {
                WebError::field(field, "金额必须大于0 (amount must be positive)")
            }
            PolicyError::ClientDate { field } => WebError::field(
                field,
                "申请、确认和审批按服务器的中国日期评估，不接受客户端提交的日期 (not accepted: eligibility for a write is evaluated as of the server's date in China)",
            ),
            PolicyError::InvalidYear(_) => WebError::field("year", "年份无效 (invalid year)"),
            PolicyError::EnterpriseSubjectOnly => WebError::field(
                "enterprise",
                "仅适用于企业主体 (only for subject enterprise)",
            ),
            PolicyError::NoRuleForSubject { measure, subject } => WebError::field(
                "measure",
                format!(
                    "{measure} 对{}没有资格条件 (no eligibility rule for {subject})",
                    subject.label().zh
                ),
            ),
            PolicyError::SubjectKind { index, expected } => WebError::field(
                &format!("subjects[{index}]"),
                format!("应为 {expected} (expected subject kind {expected})"),
            ),
            PolicyError::SubjectFacts { index, source } => {
                WebError::field(&format!("subjects[{index}]"), source.to_string())
            }
            PolicyError::TooManySubjects { max } => WebError::field(
                "subjects",
                format!("最多{max}个 (at most {})", grouped(max)),
            ),
            PolicyError::NotMoneyMeasure { measure } => WebError::field(
                "measure",
                format!("{measure} 不是资金类措施，无需申请 ({measure} pays no money and takes no applications)"),
            ),
            PolicyError::OutsideWindow {
                measure,
                first_day,
                last_day,
                clause,
                successor,
            } => {
                let zh_day = |d: chrono::NaiveDate| {
                    use chrono::Datelike;
                    format!("{}年{}月{}日", d.year(), d.month(), d.day())
                };
                let (succ_zh, succ_en) = match &successor {
                    Some(s) => (format!(",已由{s}替代"), format!("; replaced by {s}")),
                    None => (String::new(), String::new()),
                };
                let id = measure_id(&measure);
                WebError::field(
                    "measure",
                    format!(
                        "{id} 的申请期为{}至{}(「{clause}」),现已不受理{succ_zh} ({id} took applications from {first_day} to {last_day}, last day {last_day}; not accepted now{succ_en})",
                        zh_day(first_day),
                        zh_day(last_day),
                    ),
                )
            }
            PolicyError::NoPayableRecord { field } => WebError::field(
                field,
                "平台未找到本企业可资助的已确认记录（如已核实的主导国际标准或所获奖项） (no confirmed record of the enterprise to pay for)",
            ),
            PolicyError::Unconfirmed { field, unit } => WebError::field(
                field,
                format!("该记录由企业自行申报，待核实（核实单位：{unit}）,核实前不能申请资金 (declared by the enterprise, awaiting confirmation by {unit})"),
            ),
            PolicyError::ApplicantKind { measure, applicant } => WebError::field(
                "applicant",
                format!("{} 不受理该类申请人({applicant}) (does not take applications from {applicant})", measure_id(&measure)),
            ),
            PolicyError::NotEligible(r) => {
                let ev = &r.evaluation;
                let why: Vec<String> = match &ev.outcome {
                    Outcome::NotEligible { failed } => failed
                        .iter()
                        .map(|c| format!("{} ({})", c.label.zh, c.clause.quote))
                        .collect(),
                    Outcome::Undetermined { missing } => missing
                        .iter()
                        .map(|x| format!("缺少 {}", x.label.zh))
                        .collect(),
                    _ => vec![ev.outcome_label.zh.clone()],
                };
                WebError::field(
                    "measure",
                    format!(
                        "不符合{}的条件: {} (not eligible)",
                        measure_id(&r.measure),
                        why.join("; ")
                    ),
                )
            }
            PolicyError::OverCap {
                cap_fen,
                already_fen,
            } => {
                let cap = Yuan::from_fen(cap_fen).to_zh();
                let already = Yuan::from_fen(already_fen).to_zh();
                WebError::field(
                    "amount",
                    format!("超过额度上限{cap}(本期已发放{already}) (over the cap of {cap}; {already} already granted this period)"),
                )
            }
            PolicyError::OfferExpired { expired_on, .. } => WebError::Conflict(format!(
                "该免申即享事项已于{expired_on}过期，请重新匹配或直接申请 (the offer expired on {expired_on}: wait for the next match or apply)"
            )),
            PolicyError::OfferAnswered(s) => WebError::Conflict(format!(
                "该事项已处理({s}) (offer already answered: {s})"
            )),
            PolicyError::ApplicationDecided(s) => WebError::Conflict(format!(
                "申请已处理({s}) (application already decided: {s})"
            )),
            PolicyError::AlreadyPaid { measure, reference } => WebError::Conflict(format!(
                "{measure} 的 {reference:?} 已经发放过资金，同一标准或奖项不重复资助 (already paid: the same standard or award is never paid twice)"
            )),
            PolicyError::ApplicationPending { measure, reference } => {
                WebError::Conflict(format!(
                    "{measure} 的 {reference:?} 已有待审核的申请 (an application for it is already pending)"
                ))
            }
        }
    }
}
