//! Pages of the credit module: the consent dashboard (`/credit/consents`). An enterprise user
//! sees every consent it granted with its uses and status, and pauses, resumes or revokes one
//! with one click (a form posting back with the session's CSRF token, then a banner); a bank
//! user sees the consents given to its bank. Access is the service's.

use crate::auth::Auth;
use crate::error::WebResult;
use crate::flash::{self, Flash, FlashQuery};
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::Response;
use axum::middleware::from_fn;
use axum::routing::{get, post};
use axum::{Form, Router};
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
    banks: Vec<(i64, String)>,
    purposes: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    today: String,
    from: String,
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

async fn consents_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<FlashQuery>,
) -> Response {
    let caller = auth.caller();
    let bank = caller.role() == Some(Role::Bank);
    let r: WebResult<ConsentsPage> = async {
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
                .map(|b| (b.id, b.name))
                .collect()
        };
        let today = yuepin_domain::china_today();
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
            today: (today - chrono::Duration::days(1)).to_string(),
            from: (today - chrono::Duration::days(3 * 365)).to_string(),
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            msg: q.text(auth.tr),
            enterprise: !bank,
            unbound,
            rows: list.iter().map(|c| row(auth.tr, c, !bank)).collect(),
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
}

async fn consent_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActionForm>,
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
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<GrantForm>,
) -> Response {
    let r: WebResult<()> = async {
        auth.check_csrf(f.get("csrf").map(String::as_str))?;
        let terms = |e| crate::error::WebError::from(yuepin_credit_service::CreditError::Terms(e));
        let codes: Vec<&str> = f
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .filter_map(|(k, _)| k.strip_prefix("cat_"))
            .collect();
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
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}
