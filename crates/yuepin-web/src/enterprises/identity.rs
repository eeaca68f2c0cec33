//! Reviewed identity changes on the web (issue 17 item 4): the API (`/api/v1/identity-changes`)
//! and the page `/enterprises/identity-changes`, where an enterprise user asks for a new name or
//! region and a regulator approves or rejects. The service decides who may do what; this file
//! words its refusals in the page's language and keeps the typed input on a refused form.

use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::flash::{self, Flash, FlashQuery};
use crate::form::PageForm;
use crate::i18n::Tr;
use crate::input::ApiJson;
use crate::openapi::{E400, E401, E403, E404};
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use yuepin_domain::{reference, RegionCode, Role};
use yuepin_enterprises_service::{
    EnterprisesError, IdentityChange, IdentityChangeStatus, IdentityDecision, Invalid,
};

#[derive(utoipa::OpenApi)]
#[openapi(paths(list_changes, get_change, approve_change, reject_change))]
pub struct ApiDoc;

/// Rows per page of the list.
const PER_PAGE: i64 = 20;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ChangesQuery {
    /// pending, approved, rejected or withdrawn (default: all on the API, pending on the page).
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

fn parse_status(s: Option<&str>) -> WebResult<Option<IdentityChangeStatus>> {
    match s.map(str::trim).unwrap_or("") {
        "" | "all" => Ok(None),
        v => IdentityChangeStatus::parse(v).map(Some).ok_or_else(|| {
            WebError::field(
                "status",
                format!("状态应为 pending/approved/rejected/withdrawn (status): {v:?}"),
            )
        }),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ChangesPage {
    changes: Vec<IdentityChange>,
    total: i64,
    page: i64,
    per_page: i64,
}

/// Identity change requests: every enterprise's for regulators, the own enterprise's for an
/// enterprise user; newest first.
#[utoipa::path(
    get, path = "/api/v1/identity-changes", tag = "enterprises", operation_id = "list_identity_changes",
    params(ChangesQuery),
    responses((status = 200, description = "One page of requests", body = ChangesPage), E400, E401, E403)
)]
pub(super) async fn list_changes(
    Cx { state, auth }: Cx,
    Query(q): Query<ChangesQuery>,
) -> WebResult<Json<ChangesPage>> {
    let status = parse_status(q.status.as_deref())?;
    let page = q.page.unwrap_or(1).max(1);
    let per_page = q.per_page.unwrap_or(PER_PAGE).clamp(1, 200);
    let (changes, total) = state
        .modules
        .enterprises
        .identity_changes(&auth.caller(), status, page, per_page)
        .await?;
    Ok(Json(ChangesPage {
        changes,
        total,
        page,
        per_page,
    }))
}

/// One request (someone else's looks missing).
#[utoipa::path(
    get, path = "/api/v1/identity-changes/{id}", tag = "enterprises", operation_id = "get_identity_change",
    params(("id" = i64, Path, description = "Request number")),
    responses((status = 200, description = "The request", body = IdentityChange), E401, E403, E404)
)]
pub(super) async fn get_change(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
) -> WebResult<Json<IdentityChange>> {
    Ok(Json(
        state
            .modules
            .enterprises
            .identity_change(&auth.caller(), id)
            .await?,
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub(super) struct DecisionInput {
    /// Required to reject; kept with the decision.
    #[serde(default)]
    note: String,
}

/// Approves a pending request: the name and region are applied (regulators).
#[utoipa::path(
    post, path = "/api/v1/identity-changes/{id}/approve", tag = "enterprises", operation_id = "approve_identity_change",
    params(("id" = i64, Path, description = "Request number")),
    request_body = DecisionInput,
    responses((status = 200, description = "The decided request", body = IdentityChange), E400, E401, E403, E404)
)]
pub(super) async fn approve_change(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> WebResult<Json<IdentityChange>> {
    decide(&state, &auth, id, IdentityDecision::Approve, &input.note).await
}

/// Rejects a pending request with a note (regulators).
#[utoipa::path(
    post, path = "/api/v1/identity-changes/{id}/reject", tag = "enterprises", operation_id = "reject_identity_change",
    params(("id" = i64, Path, description = "Request number")),
    request_body = DecisionInput,
    responses((status = 200, description = "The decided request", body = IdentityChange), E400, E401, E403, E404)
)]
pub(super) async fn reject_change(
    Cx { state, auth }: Cx,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> WebResult<Json<IdentityChange>> {
    decide(&state, &auth, id, IdentityDecision::Reject, &input.note).await
}

async fn decide(
    state: &AppState,
    auth: &Auth,
    id: i64,
    decision: IdentityDecision,
    note: &str,
) -> WebResult<Json<IdentityChange>> {
    Ok(Json(
        state
            .modules
            .enterprises
            .decide_identity_change(&auth.caller(), id, decision, note)
            .await?,
    ))
}

// ───────────────────────────── the page ─────────────────────────────

pub(super) fn status_name(tr: Tr, s: IdentityChangeStatus) -> &'static str {
    match s {
        IdentityChangeStatus::Pending => tr.t("待审核", "Pending review"),
        IdentityChangeStatus::Approved => tr.t("已核准", "Approved"),
        IdentityChangeStatus::Rejected => tr.t("已驳回", "Rejected"),
        IdentityChangeStatus::Withdrawn => tr.t("已被新申请取代", "Replaced by a newer request"),
    }
}

fn city_label(tr: Tr, r: &RegionCode) -> String {
    crate::export::city_name(tr, r.as_str())
}

pub(super) struct Row {
    id: i64,
    uscc: String,
    current: String,
    proposed: String,
    reason: String,
    status: String,
    when: String,
    note: String,
    pending: bool,
}

fn row(tr: Tr, c: &IdentityChange) -> Row {
    let when = c.decided_at.as_deref().unwrap_or(&c.requested_at);
    Row {
        id: c.id,
        uscc: c.uscc.clone(),
        current: format!("{} · {}", c.current_name, city_label(tr, &c.current_region)),
        proposed: format!(
            "{} · {}",
            c.proposed_name,
            city_label(tr, &c.proposed_region)
        ),
        reason: c.reason.clone(),
        status: status_name(tr, c.status).to_string(),
        when: crate::page::china_time(when),
        note: c.note.clone().unwrap_or_default(),
        pending: c.status == IdentityChangeStatus::Pending,
    }
}

/// The enterprise's request form, as typed.
pub(super) struct RequestForm {
    current_name: String,
    current_city: String,
    name: String,
    region: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "identity_changes.html")]
pub(super) struct ChangesPageView {
    tr: Tr,
    c: Chrome,
    msg: String,
    error: Option<String>,
    is_regulator: bool,
    status: String,
    statuses: Vec<(String, String)>,
    form: Option<RequestForm>,
    cities: Vec<(String, String)>,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    prev: String,
    next: String,
}

#[derive(Deserialize, Default)]
pub(super) struct PageQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    page: Option<i64>,
    #[serde(flatten)]
    flash: FlashQuery,
}

/// What the form was given, to show again after a refusal.
#[derive(Deserialize, Default)]
pub(super) struct RequestInput {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    reason: String,
}

async fn view(
    state: &AppState,
    auth: &Auth,
    q: &PageQuery,
    typed: Option<&RequestInput>,
    error: Option<String>,
) -> WebResult<ChangesPageView> {
    let tr = auth.tr;
    let caller = auth.caller();
    let is_regulator = caller.is_administrator();
    // The regulator's page opens on what waits for a decision.
    let status_text = q
        .status
        .clone()
        .unwrap_or_else(|| if is_regulator { "pending" } else { "all" }.into());
    let status = parse_status(Some(&status_text))?;
    let page = q.page.unwrap_or(1).max(1);
    let (changes, total) = state
        .modules
        .enterprises
        .identity_changes(&caller, status, page, PER_PAGE)
        .await?;
    let form = match (caller.role(), caller.enterprise_id()) {
        (Some(Role::Enterprise), Some(id)) => {
            let rec = state
                .modules
                .enterprises
                .enterprise_by_id(id)
                .await
                .map_err(EnterprisesError::from)?;
            let e = rec.enterprise;
            Some(RequestForm {
                current_city: city_label(tr, &e.region),
                name: typed.map_or_else(|| e.name.clone(), |t| t.name.clone()),
                region: typed.map_or_else(|| e.region.city().code.clone(), |t| t.region.clone()),
                reason: typed.map(|t| t.reason.clone()).unwrap_or_default(),
                current_name: e.name,
            })
        }
        _ => None,
    };
    let pager = crate::page::Pager::new(page, total, PER_PAGE, |n| {
        format!("/enterprises/identity-changes?status={status_text}&page={n}")
    });
    let mut statuses = vec![("all".to_string(), tr.t("全部", "All").to_string())];
    statuses.extend(
        IdentityChangeStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), status_name(tr, *s).to_string())),
    );
    Ok(ChangesPageView {
        tr,
        c: Chrome::new(auth, state),
        msg: q.flash.text(tr),
        error,
        is_regulator,
        status: status_text.clone(),
        statuses,
        form,
        cities: reference::cities()
            .iter()
            .map(|c| (c.code.clone(), tr.t(&c.name_zh, &c.name_en).to_string()))
            .collect(),
        rows: changes.iter().map(|c| row(tr, c)).collect(),
        total,
        page,
        pages: pager.pages,
        prev: pager.prev,
        next: pager.next,
    })
}

pub(super) async fn changes_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<PageQuery>,
) -> Response {
    match view(&state, &auth, &q, None, None).await {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

/// A refusal of the request form in the page's language, or `None` for errors the usual
/// error page shows (signed out, not allowed).
fn form_problem(tr: Tr, e: &EnterprisesError) -> Option<String> {
    let (zh, en) = match e {
        EnterprisesError::Domain(d) => {
            return Some(match d.field {
                "name" => tr
                    .t(
                        "请填写新名称（不超过100个字符）。",
                        "Give the new name (at most 100 characters).",
                    )
                    .to_string(),
                "region" => tr.t("请选择所在地区。", "Choose the region.").to_string(),
                _ => d.to_string(),
            })
        }
        EnterprisesError::Invalid { reason, .. } => match reason {
            Invalid::TooLong(n) => {
                return Some(if tr.is_en() {
                    format!("The reason is longer than {n} characters.")
                } else {
                    format!("变更原因不能超过{n}个字符。")
                })
            }
            Invalid::ControlCharacter => (
                "变更原因含有不可见的控制字符。",
                "The reason contains an invisible control character.",
            ),
            _ => return None,
        },
        _ => return None,
    };
    Some(tr.t(zh, en).to_string())
}

/// An enterprise user asks for a new name or region: the stored values stay until a regulator
/// approves. A refused form comes back with what was typed (422).
pub(super) async fn request_change(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<RequestInput>,
) -> Response {
    if let Err(e) = auth.check_csrf(Some(&f.csrf)) {
        return page_error(e, &auth, &state, &uri);
    }
    let caller = auth.caller();
    let outcome: Result<Option<i64>, EnterprisesError> = async {
        let Some(id) = caller.enterprise_id() else {
            return Err(yuepin_domain::Denied::Role {
                needs: vec![Role::Enterprise],
            }
            .into());
        };
        let svc = &state.modules.enterprises;
        let mut e = svc.enterprise_by_id(id).await?.enterprise;
        e.name = yuepin_domain::Enterprise::check_name(&f.name)?;
        e.region = RegionCode::parse(f.region.trim())?;
        let uscc = e.uscc.to_string();
        let u = svc
            .update_enterprise_with_reason(&caller, &uscc, e, &f.reason)
            .await?;
        Ok(u.identity_change.map(|c| c.id))
    }
    .await;
    match outcome {
        Ok(Some(id)) => flash::redirect(
            "/enterprises/identity-changes",
            Flash::IdentityRequested,
            &[id],
        ),
        Ok(None) => crate::redirect::see_other("/enterprises/identity-changes"),
        Err(e) => match form_problem(auth.tr, &e) {
            Some(message) => {
                let mut typed = f;
                typed.name = typed.name.chars().take(200).collect();
                typed.reason = typed.reason.chars().take(1000).collect();
                match view(
                    &state,
                    &auth,
                    &PageQuery::default(),
                    Some(&typed),
                    Some(message),
                )
                .await
                {
                    Ok(p) => {
                        let mut resp = render(&p, &auth, &uri);
                        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                        resp
                    }
                    Err(e) => page_error(e, &auth, &state, &uri),
                }
            }
            None => page_error(e.into(), &auth, &state, &uri),
        },
    }
}

#[derive(Deserialize, Default)]
pub(super) struct DecideInput {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// The regulator's approve / reject buttons.
pub(super) async fn decide_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<DecideInput>,
) -> Response {
    if let Err(e) = auth.check_csrf(Some(&f.csrf)) {
        return page_error(e, &auth, &state, &uri);
    }
    let decision = match f.decision.as_str() {
        "approve" => IdentityDecision::Approve,
        "reject" => IdentityDecision::Reject,
        _ => {
            let e = WebError::field("decision", "应为 approve 或 reject (approve or reject)");
            return page_error(e, &auth, &state, &uri);
        }
    };
    match state
        .modules
        .enterprises
        .decide_identity_change(&auth.caller(), id, decision, &f.note)
        .await
    {
        Ok(_) => flash::redirect(
            "/enterprises/identity-changes",
            match decision {
                IdentityDecision::Approve => Flash::IdentityApproved,
                IdentityDecision::Reject => Flash::IdentityRejected,
            },
            &[id],
        ),
        Err(e) => page_error(e.into(), &auth, &state, &uri),
    }
    .into_response()
}
