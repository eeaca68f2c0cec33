//! Exports for regulators: the complaints of a filter (masked, at most 100 000 rows) or its
//! counts, as CSV (UTF-8 with BOM, spreadsheet formulas neutralised) or XLSX, through
//! `crate::export`: headers and values in the reader's language (Chinese unless `lang=en`):
//! channels, kinds, regions, industries, categories and problems in words, amounts in 元.

use super::schema::Filter;
use super::{svc, FilterQuery};
use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::export::{city_name, division_name, Format, Table};
use crate::i18n::Tr;
use crate::openapi::{E400, E401, E403};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use yuepin_complaints::{Category, Channel, ComplaintKind, ProblemType};
use yuepin_domain::Yuan;

/// Exports complaints, aggregates or alarms as CSV or XLSX (administrators).
#[utoipa::path(
    get, path = "/api/v1/complaints/export", tag = "complaints", operation_id = "export_complaints",
    params(Filter, ("format" = Option<String>, Query, description = "csv (default) or xlsx"), ("what" = Option<String>, Query, description = "complaints (default), aggregates or alarms")),
    responses((status = 200, description = "The export", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), E400, E401, E403)
)]
pub(super) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> Response {
    match export_inner(&state, &auth, q).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

const EXPORT_LIMIT: i64 = 100_000;

fn channel_word(tr: Tr, c: Channel) -> &'static str {
    match c {
        Channel::Hotline => tr.t("12315热线", "12315 hotline"),
        Channel::Platform => tr.t("全国12315平台", "12315 platform"),
        Channel::Wechat => tr.t("微信", "WeChat"),
        Channel::Letter => tr.t("来信", "letter"),
        Channel::Visit => tr.t("来访", "visit"),
        Channel::Other => tr.t("其他", "other"),
    }
}

fn kind_word(tr: Tr, k: ComplaintKind) -> &'static str {
    match k {
        ComplaintKind::Complaint => tr.t("投诉", "complaint"),
        ComplaintKind::Report => tr.t("举报", "report"),
    }
}

fn category_word(tr: Tr, key: &str) -> String {
    match Category::parse(key) {
        Ok(c) if !tr.is_en() => c.info().name_zh.clone(),
        Ok(c) => c.info().key.replace('_', " "),
        Err(_) => key.to_string(),
    }
}

fn problem_word(tr: Tr, p: ProblemType) -> String {
    if tr.is_en() {
        p.as_str().replace('_', " ")
    } else {
        p.name_zh().to_string()
    }
}

/// A received-at stamp (`YYYY-MM-DDTHH:MM:SS`, China time) as 2026-12-01 17:37.
fn received(s: &str) -> String {
    s.get(..16).unwrap_or(s).replacen('T', " ", 1)
}

async fn export_inner(state: &AppState, auth: &Auth, q: FilterQuery) -> WebResult<Response> {
    let caller = auth.caller();
    caller.require_administrator()?;
    let tr = auth.tr;
    let f = q.filter()?;
    let t = match q.what.as_str() {
        "" | "complaints" => {
            let (list, total) = svc(state).search(&caller, &f, EXPORT_LIMIT, 0).await?;
            let mut t = Table::new(
                tr,
                "complaints",
                ("投诉举报", "complaints"),
                &[
                    ("编号", "Number"),
                    ("受理时间", "Received at"),
                    ("渠道", "Channel"),
                    ("类型", "Kind"),
                    ("地区", "Region"),
                    ("地市", "City"),
                    ("被投诉企业统一社会信用代码", "Enterprise credit code"),
                    ("被投诉企业", "Enterprise"),
                    ("产品类别", "Category"),
                    ("行业", "Industry"),
                    ("问题类型", "Problem"),
                    ("涉及金额（元）", "Amount (yuan)"),
                    ("内容", "Text"),
                    ("投诉人", "Complainant"),
                    ("电话", "Phone"),
                    ("证件号码", "ID number"),
                    ("地址", "Address"),
                ],
            );
            let rows = list.len();
            for c in list {
                // Masked by the service.
                t.push(vec![
                    c.ext_id.into(),
                    received(&c.received_at).into(),
                    channel_word(tr, c.channel).into(),
                    kind_word(tr, c.kind).into(),
                    city_name(tr, c.region.as_str()).into(),
                    city_name(tr, c.city.as_str()).into(),
                    c.enterprise_uscc.into(),
                    c.enterprise_name.into(),
                    c.category.map(|k| category_word(tr, &k.info().key)).into(),
                    c.division
                        .map(|d| division_name(tr, i64::from(d.code())))
                        .into(),
                    problem_word(tr, c.problem).into(),
                    c.amount_fen.map(Yuan::from_fen).into(),
                    c.text.into(),
                    c.complainant.name.into(),
                    c.complainant.phone.into(),
                    c.complainant.id_number.into(),
                    c.complainant.address.into(),
                ]);
            }
            if (rows as i64) < total {
                t.capped(
                    tr,
                    (
                        "请按时段、地市、行业或产品类别缩小范围后再导出。",
                        "Narrow by period, city, industry or category and export again.",
                    ),
                );
            }
            t
        }
        "counts" => {
            let rows = svc(state)
                .aggregate(&caller, &f, &q.dims()?, q.grain()?)
                .await?;
            let mut t = Table::new(
                tr,
                "complaint-counts",
                ("投诉统计", "counts"),
                &[
                    ("时段", "Period"),
                    ("地市", "City"),
                    ("行业", "Industry"),
                    ("产品类别", "Category"),
                    ("问题类型", "Problem"),
                    ("企业编号", "Enterprise id"),
                    ("件数", "Count"),
                ],
            );
            for r in rows {
                t.push(vec![
                    r.period.into(),
                    r.city.map(|c| city_name(tr, &c)).into(),
                    r.division.map(|d| division_name(tr, d)).into(),
                    r.category.map(|c| category_word(tr, &c)).into(),
                    r.problem
                        .map(|p| ProblemType::parse(&p).map_or(p, |x| problem_word(tr, x)))
                        .into(),
                    r.enterprise_id.into(),
                    r.n.into(),
                ]);
            }
            t
        }
        other => {
            return Err(WebError::field(
                "what",
                format!("应为 complaints 或 counts (what must be complaints or counts): {other:?}"),
            ));
        }
    };
    match q.format.as_str() {
        "" | "csv" => crate::export::download(t, Format::Csv).await,
        "xlsx" => crate::export::download(t, Format::Xlsx).await,
        other => Err(WebError::field(
            "format",
            format!("应为 csv 或 xlsx (format must be csv or xlsx): {other:?}"),
        )),
    }
}
