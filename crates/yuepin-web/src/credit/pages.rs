//! Pages of the credit module: the consent dashboard (`/credit/consents`). An enterprise user
//! sees every consent it granted with its uses and status, and pauses, resumes or revokes one
//! with one click (a form posting back with the session's CSRF token, then a banner); a bank
//! user sees the consents given to its bank. Access is the service's.

use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::flash::{self, Flash, FlashQuery};
use crate::form::PageForm;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::Uri;
use axum::middleware::from_fn;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use yuepin_credit::{Categories, DataCategory, DateRange, Purpose, Status, TermsRequest};
use yuepin_credit_service::ConsentRecord;
use yuepin_domain::Role;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/credit/consents",
            get(consents_page)
                .post(grant_form)
                .route_layer(from_fn(crate::reauth::guard)),
        )
        .route(
            "/credit/consents/{id}/{action}",
            post(consent_form).layer(from_fn(crate::reauth::guard)),
        )
}

struct Row {
    id: String,
    party: String,
    purpose: &'static str,
    categories: String,
    used: String,
    status: &'static str,
    expires: String,
    /// (action path segment, button label).
    actions: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "credit/consents.html")]
struct ConsentsPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    enterprise: bool,
    /// A bank account no bank has been bound to yet.
    unbound: bool,
    rows: Vec<Row>,
    /// The grant form (enterprise users): banks (id, name), purposes and categories
    /// (code, label), and the default data range.
    banks: Vec<(String, String)>,
    purposes: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    /// The grant form's values: the defaults, or what was posted when it was refused.
    f: GrantValues,
    /// Why a posted grant was refused, in the page's language (empty when none was).
    error: String,
}

/// The grant form's fields as typed.
struct GrantValues {
    bank_id: String,
    purpose: String,
    categories: Vec<String>,
    data_from: String,
    data_to: String,
    max_fetches: String,
    min_interval_minutes: String,
    retention_days: String,
    valid_days: String,
}

impl GrantValues {
    /// The defaults: the last three years of data up to yesterday (the server's date), three
    /// fetches, kept 90 days, valid 30.
    fn defaults() -> Self {
        let today = yuepin_domain::china_today();
        GrantValues {
            bank_id: String::new(),
            purpose: String::new(),
            categories: Vec::new(),
            data_from: (today - chrono::Duration::days(3 * 365)).to_string(),
            data_to: (today - chrono::Duration::days(1)).to_string(),
            max_fetches: "3".into(),
            min_interval_minutes: "0".into(),
            retention_days: "90".into(),
            valid_days: "30".into(),
        }
    }

    fn posted(f: &GrantForm) -> Self {
        let v = |k: &str| f.get(k).cloned().unwrap_or_default();
        GrantValues {
            bank_id: v("bank_id"),
            purpose: v("purpose"),
            categories: posted_categories(f)
                .into_iter()
                .map(str::to_string)
                .collect(),
            data_from: v("data_from"),
            data_to: v("data_to"),
            max_fetches: v("max_fetches"),
            min_interval_minutes: v("min_interval_minutes"),
            retention_days: v("retention_days"),
            valid_days: v("valid_days"),
        }
    }

    fn checked(&self, code: &str) -> bool {
        self.categories.iter().any(|c| c == code)
    }
}

/// The category codes ticked on a posted grant form.
fn posted_categories(f: &GrantForm) -> Vec<&str> {
    f.iter()
        .filter(|(_, v)| !v.is_empty())
        .filter_map(|(k, _)| k.strip_prefix("cat_"))
        .collect()
}

/// A grant form field's label, for an error that names it.
fn field_label(tr: Tr, field: &str) -> &str {
    match field {
        "bank_id" => tr.t("银行", "Bank"),
        "purpose" => tr.t("用途", "Purpose"),
        "categories" => tr.t("数据类别", "Categories"),
        "data_from" => tr.t("数据起始", "Data from"),
        "data_to" | "data_range" => tr.t("数据截止", "Data to"),
        "max_fetches" => tr.t("调用次数上限", "Max fetches"),
        "min_interval_minutes" => tr.t("最短间隔（分钟）", "Min interval (minutes)"),
        "retention_days" => tr.t("银行保存天数", "Bank may keep (days)"),
        "valid_days" => tr.t("有效天数", "Valid (days)"),
        other => other,
    }
}

/// A refusal in the page's language, each field by its label.
fn refusal(tr: Tr, e: &crate::error::WebError) -> String {
    match e {
        crate::error::WebError::Invalid(errs) => errs
            .iter()
            .map(|x| {
                let sep = tr.t("：", ": ");
                format!("{}{sep}{}", field_label(tr, &x.field), tr.pick(&x.message))
            })
            .collect::<Vec<_>>()
            .join(tr.t("；", "; ")),
        other => other.message_in(tr),
    }
}

fn category_label(tr: Tr, c: DataCategory) -> &'static str {
    match c {
        DataCategory::Grade => tr.t("信用等级与因素", "Grade and factors"),
        DataCategory::Inspections => tr.t("监督抽查", "Inspections"),
        DataCategory::CertificationsAwards => {
            tr.t("认证、奖项与认定", "Certifications, awards, designations")
        }
        DataCategory::ComplaintsWarnings => tr.t("投诉与消费警示", "Complaints and warnings"),
        DataCategory::CodesCounterfeit => {
            tr.t("粤品通码与仿冒信号", "Codes and counterfeit signals")
        }
        DataCategory::LabReports => tr.t("检验检测报告", "Lab reports"),
        DataCategory::Financing => tr.t("融资记录", "Financing records"),
    }
}

fn purpose(tr: Tr, p: Purpose) -> &'static str {
    match p {
        Purpose::QualityLoan => tr.t("质量贷申请", "Quality loan application"),
        Purpose::CreditReview => tr.t("授信审查", "Credit review"),
        Purpose::IpPledgeLoan => tr.t("知识产权质押融资", "IP-pledge loan"),
    }
}

fn status(tr: Tr, s: Status) -> &'static str {
    match s {
        Status::Active => tr.t("有效", "Active"),
        Status::Paused => tr.t("已暂停", "Paused"),
        Status::Revoked => tr.t("已撤回", "Revoked"),
        Status::Expired => tr.t("已过期", "Expired"),
        Status::Exhausted => tr.t("次数已用完", "Used up"),
    }
}

fn row(tr: Tr, c: &ConsentRecord, enterprise: bool) -> Row {
    let mut actions = Vec::new();
    match c.status {
        Status::Active => {
            actions.push(("pause", tr.t("暂停", "Pause")));
            actions.push(("revoke", tr.t("撤回", "Revoke")));
        }
        Status::Paused => {
            actions.push(("resume", tr.t("恢复", "Resume")));
            actions.push(("revoke", tr.t("撤回", "Revoke")));
        }
        Status::Exhausted => actions.push(("revoke", tr.t("撤回", "Revoke"))),
        Status::Revoked | Status::Expired => {}
    }
    Row {
        id: c.id.to_string(),
        party: if enterprise {
            c.bank.name.clone()
        } else {
            format!("{} ({})", c.enterprise_name, c.enterprise_uscc)
        },
        purpose: purpose(tr, c.terms.purpose),
        categories: c
            .terms
            .categories
            .iter()
            .map(|x| category_label(tr, x))
            .collect::<Vec<_>>()
            .join(tr.t("、", ", ")),
        used: format!("{}/{}", c.fetches_used, c.terms.max_fetches),
        status: status(tr, c.status),
        expires: c.terms.expires_at.format("%Y-%m-%d %H:%M").to_string(),
        actions,
    }
}

async fn consents_page(Cx { state, auth }: Cx, uri: Uri, Query(q): Query<FlashQuery>) -> Response {
    let msg = q.text(auth.tr);
    match consents_view(&state, &auth, msg, GrantValues::defaults(), String::new()).await {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

/// The dashboard with the grant form holding `f` (and `error`, when a grant was refused).
async fn consents_view(
    state: &AppState,
    auth: &Auth,
    msg: String,
    f: GrantValues,
    error: String,
) -> WebResult<ConsentsPage> {
    let caller = auth.caller();
    let bank = caller.role() == Some(Role::Bank);
    let credit = &state.modules.credit;
    let (list, unbound) = if bank {
        match credit.bank_consents(&caller).await {
            // A bank account not yet bound to its bank sees an empty dashboard saying so.
            Err(yuepin_credit_service::CreditError::BankNotBound) => (Vec::new(), true),
            r => (r?, false),
        }
    } else {
        (credit.my_consents(&caller).await?, false)
    };
    let banks = if bank {
        Vec::new()
    } else {
        credit
            .banks(&caller)
            .await?
            .into_iter()
            .map(|b| (b.id.to_string(), b.name))
            .collect()
    };
    Ok(ConsentsPage {
        banks,
        purposes: Purpose::ALL
            .into_iter()
            .map(|p| (p.code(), purpose(auth.tr, p)))
            .collect(),
        categories: DataCategory::ALL
            .into_iter()
            .map(|c| (c.code(), category_label(auth.tr, c)))
            .collect(),
        f,
        error,
        tr: auth.tr,
        c: Chrome::new(auth, state),
        msg,
        enterprise: !bank,
        unbound,
        rows: list.iter().map(|c| row(auth.tr, c, !bank)).collect(),
    })
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
}

async fn consent_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path((id, action)): Path<(String, String)>,
    PageForm(f): PageForm<ActionForm>,
) -> Response {
    let r: WebResult<()> = async {
        auth.check_csrf(Some(&f.csrf))?;
        let id = yuepin_credit::ConsentId::parse(&id)
            .map_err(|_| crate::error::WebError::NotFound(format!("consent {id}")))?;
        let credit = &state.modules.credit;
        let caller = auth.caller();
        match action.as_str() {
            "pause" => credit.pause_consent(&caller, &id).await?,
            "resume" => credit.resume_consent(&caller, &id).await?,
            "revoke" => credit.revoke_consent(&caller, &id).await?,
            _ => {
                return Err(crate::error::WebError::NotFound(format!(
                    "未知操作 {action} (no such action)"
                )))
            }
        };
        Ok(())
    }
    .await;
    match r {
        Ok(()) => flash::redirect("/credit/consents", Flash::ConsentUpdated, &[]),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

/// The grant form's fields by name: categories come as one checkbox each (`cat_<code>`),
/// since a form posts repeated names that the form extractor does not collect.
type GrantForm = std::collections::HashMap<String, String>;

/// A form number, or the field's error.
fn number<T: std::str::FromStr>(
    f: &GrantForm,
    name: &'static str,
    default: Option<T>,
) -> WebResult<T> {
    match f.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse()
            .map_err(|_| crate::error::WebError::field(name, "须为整数 (a whole number)")),
        None => default.ok_or_else(|| crate::error::WebError::field(name, "必填 (required)")),
    }
}

fn date(f: &GrantForm, name: &'static str) -> WebResult<chrono::NaiveDate> {
    f.get(name)
        .and_then(|v| chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok())
        .ok_or_else(|| crate::error::WebError::field(name, "须为日期 YYYY-MM-DD (a date)"))
}

async fn grant_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<GrantForm>,
) -> Response {
    let r: WebResult<()> = async {
        auth.check_csrf(f.get("csrf").map(String::as_str))?;
        let terms = |e| crate::error::WebError::from(yuepin_credit_service::CreditError::Terms(e));
        let codes = posted_categories(&f);
        let req = TermsRequest {
            purpose: Purpose::parse(f.get("purpose").map(String::as_str).unwrap_or(""))
                .map_err(terms)?,
            categories: Categories::parse(codes).map_err(terms)?,
            data_range: DateRange::new(date(&f, "data_from")?, date(&f, "data_to")?)
                .map_err(terms)?,
            max_fetches: number(&f, "max_fetches", None)?,
            min_interval_minutes: number(&f, "min_interval_minutes", Some(0))?,
            retention_days: number(&f, "retention_days", None)?,
            valid_days: number(&f, "valid_days", None)?,
        };
        let bank_id: i64 = number(&f, "bank_id", None)?;
        state
            .modules
            .credit
            .grant_consent(&auth.caller(), bank_id, &req)
            .await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => flash::redirect("/credit/consents", Flash::ConsentGranted, &[]),
        // A refused grant comes back on the dashboard with what was typed and the reason by
        // field; access and CSRF refusals are error pages.
        Err(e @ (WebError::Invalid(_) | WebError::BadRequest(_) | WebError::Conflict(_))) => {
            let error = refusal(auth.tr, &e);
            match consents_view(&state, &auth, String::new(), GrantValues::posted(&f), error).await
            {
                Ok(p) => {
                    let mut resp = render(&p, &auth, &uri);
                    *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
                    resp
                }
                Err(e) => page_error(e, &auth, &state, &uri),
            }
        }
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}
