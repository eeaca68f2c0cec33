//! Downloads of the applications and grants pages (issue #16 item 9): `/policy/applications`
//! and `/policy/grants` as CSV or XLSX, Chinese headers and values unless `?lang=en`. The rows
//! come from `PolicyService::applications_for_export` with the caller: a regulator gets every
//! application, an enterprise its own (grants are the approved applications' payments).

use super::api::EnterpriseQuery;
use super::service;
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::WebResult;
use crate::export::{china_time, city_name, Cell, Format, Table};
use crate::i18n::Tr;
use crate::page::page_or_error;
use crate::AppState;
use axum::extract::Query;
use axum::http::Uri;
use axum::response::Response;
use yuepin_domain::{DesignationKind, Yuan};
use yuepin_policy_service::{measure_id, Application, ApplicationStatus, PolicyService};

fn status_word(tr: Tr, s: ApplicationStatus) -> &'static str {
    match s {
        ApplicationStatus::Submitted => tr.t("待审核", "submitted"),
        ApplicationStatus::Approved => tr.t("已批准", "approved"),
        ApplicationStatus::Rejected => tr.t("已驳回", "rejected"),
    }
}

/// "M18 融资贴息…": the measure's id and title in the reader's language.
fn measure_name(svc: &PolicyService, tr: Tr, key: &str) -> String {
    let id = measure_id(key);
    svc.set()
        .measures()
        .iter()
        .find(|m| m.key == key)
        .map(|m| format!("{id} {}", tr.t(&m.title.zh, &m.title.en)))
        .unwrap_or_else(|| id.to_string())
}

/// What is paid for, in words: designation codes inside a reference (`…:guangdong_quality_award:2024-05-01`)
/// by name, the parts separated by spaces.
fn reference_words(tr: Tr, reference: &str) -> String {
    if !reference.contains(':') {
        return reference.to_string();
    }
    reference
        .split(':')
        .map(|part| match part.parse::<DesignationKind>() {
            Ok(d) => tr.t(d.name_zh(), d.name_en()).to_string(),
            Err(_) => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const NARROW: (&str, &str) = (
    "请按状态（待审核、已批准、已驳回）分别导出。",
    "Export each status (submitted, approved, rejected) separately.",
);

fn applications_table(svc: &PolicyService, tr: Tr, apps: &[Application], more: bool) -> Table {
    let mut t = Table::new(
        tr,
        "applications",
        ("资金申请", "applications"),
        &[
            ("申请编号", "Application"),
            ("统一社会信用代码", "Credit code"),
            ("企业名称", "Enterprise"),
            ("地市", "City"),
            ("措施", "Measure"),
            ("资助对象", "Paid for"),
            ("申请金额（元）", "Requested (yuan)"),
            ("状态", "Status"),
            ("审核意见", "Reason"),
            ("申请时间", "Applied at"),
            ("审核时间", "Decided at"),
            ("发放金额（元）", "Granted (yuan)"),
            ("发放年度", "Grant year"),
        ],
    );
    for a in apps {
        t.push(vec![
            a.id.into(),
            a.uscc.to_string().into(),
            a.enterprise_name.clone().into(),
            city_name(tr, a.city.as_str()).into(),
            measure_name(svc, tr, &a.measure).into(),
            reference_words(tr, &a.reference).into(),
            a.amount_requested_fen.map(Yuan::from_fen).into(),
            status_word(tr, a.status).into(),
            a.reason.clone().into(),
            china_time(&a.created_at).into(),
            a.decided_at.as_deref().map(china_time).into(),
            a.grant
                .as_ref()
                .map(|g| Yuan::from_fen(g.amount_fen))
                .into(),
            a.grant.as_ref().map(|g| g.year).into(),
        ]);
    }
    if more {
        t.capped(tr, NARROW);
    }
    t
}

fn grants_table(svc: &PolicyService, tr: Tr, apps: &[Application], more: bool) -> Table {
    let mut t = Table::new(
        tr,
        "grants",
        ("资金发放", "grants"),
        &[
            ("发放编号", "Grant"),
            ("申请编号", "Application"),
            ("统一社会信用代码", "Credit code"),
            ("企业名称", "Enterprise"),
            ("地市", "City"),
            ("措施", "Measure"),
            ("资助对象", "Paid for"),
            ("年度", "Year"),
            ("金额（元）", "Amount (yuan)"),
            ("发放时间", "Granted at"),
        ],
    );
    for a in apps {
        let Some(g) = &a.grant else { continue };
        t.push(vec![
            g.id.into(),
            a.id.into(),
            a.uscc.to_string().into(),
            a.enterprise_name.clone().into(),
            city_name(tr, g.city.as_str()).into(),
            measure_name(svc, tr, &g.measure).into(),
            reference_words(tr, &g.reference).into(),
            g.year.into(),
            Cell::Money(Yuan::from_fen(g.amount_fen)),
            china_time(&g.granted_at).into(),
        ]);
    }
    if more {
        t.capped(
            tr,
            (
                "更早的发放请在资金统计页按措施和年度核对。",
                "Check older grants against the totals by measure and year.",
            ),
        );
    }
    t
}

async fn download(
    state: AppState,
    auth: Auth,
    uri: Uri,
    status: Option<String>,
    grants: bool,
    format: Format,
) -> Response {
    let r: WebResult<Response> = async {
        let svc = service(&state);
        let status = if grants {
            Some("approved".to_string())
        } else {
            status.filter(|s| !s.trim().is_empty())
        };
        let (apps, more) = svc
            .applications_for_export(&auth.caller(), status.as_deref())
            .await?;
        let t = if grants {
            grants_table(svc, auth.tr, &apps, more)
        } else {
            applications_table(svc, auth.tr, &apps, more)
        };
        crate::export::download(t, format).await
    }
    .await;
    page_or_error(r, &auth, &state, &uri)
}

pub(super) async fn applications_csv(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<EnterpriseQuery>,
) -> Response {
    download(state, auth, uri, q.status, false, Format::Csv).await
}

pub(super) async fn applications_xlsx(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<EnterpriseQuery>,
) -> Response {
    download(state, auth, uri, q.status, false, Format::Xlsx).await
}

pub(super) async fn grants_csv(Cx { state, auth }: Cx, uri: Uri) -> Response {
    download(state, auth, uri, None, true, Format::Csv).await
}

pub(super) async fn grants_xlsx(Cx { state, auth }: Cx, uri: Uri) -> Response {
    download(state, auth, uri, None, true, Format::Xlsx).await
}
