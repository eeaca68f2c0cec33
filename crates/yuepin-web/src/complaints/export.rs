//! Exports for regulators: the complaints of a filter (masked, at most 100 000 rows) or its
//! counts, as CSV (UTF-8 with BOM, spreadsheet formulas neutralised) or XLSX, written by the
//! platform's one table writer (`crate::export`).

use super::schema::Filter;
use super::{svc, FilterQuery};
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::export::{city_name, download, Format, Table};
use crate::i18n::{Lang, Tr};
use crate::openapi::{E400, E401, E403};
use crate::AppState;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use yuepin_domain::Yuan;

/// Exports complaints, aggregates or alarms as CSV or XLSX (administrators).
#[utoipa::path(
    get, path = "/api/v1/complaints/export", tag = "complaints", operation_id = "export_complaints",
    params(Filter, ("format" = Option<String>, Query, description = "csv (default) or xlsx"), ("lang" = Option<String>, Query, description = "zh (default: Chinese headers and values) or en"), ("what" = Option<String>, Query, description = "complaints (default), aggregates or alarms")),
    responses((status = 200, description = "The export", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), E400, E401, E403)
)]
pub(super) async fn export(Cx { state, auth }: Cx, Query(q): Query<FilterQuery>) -> Response {
    match export_inner(&state, &auth, q).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

const EXPORT_LIMIT: i64 = 100_000;

async fn export_inner(state: &AppState, auth: &Auth, q: FilterQuery) -> WebResult<Response> {
    let caller = auth.caller();
    caller.require_administrator()?;
    let f = q.filter()?;
    let tr = Tr {
        lang: match q.lang.trim() {
            "" | "zh" => Lang::Zh,
            "en" => Lang::En,
            other => {
                return Err(WebError::field(
                    "lang",
                    format!("应为 zh 或 en (lang must be zh or en): {other:?}"),
                ))
            }
        },
    };
    let en = tr.is_en();
    let format = match q.format.as_str() {
        "" | "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        other => {
            return Err(WebError::field(
                "format",
                format!("应为 csv 或 xlsx (format must be csv or xlsx): {other:?}"),
            ))
        }
    };
    let table = match q.what.as_str() {
        "" | "complaints" => {
            let (list, _) = svc(state).search(&caller, &f, EXPORT_LIMIT, 0).await?;
            let mut t = Table::new(
                tr,
                "complaints",
                ("投诉", "complaints"),
                &[
                    ("编号", "id"),
                    ("受理时间", "received at"),
                    ("渠道", "channel"),
                    ("类型", "kind"),
                    ("地区代码", "region code"),
                    ("地市", "city"),
                    ("被投诉企业信用代码", "enterprise credit code"),
                    ("被投诉企业", "enterprise"),
                    ("产品类别", "category"),
                    ("行业", "division"),
                    ("问题类型", "problem"),
                    ("涉及金额（元）", "amount (yuan)"),
                    ("内容", "text"),
                    ("投诉人姓名", "complainant name"),
                    ("投诉人电话", "complainant phone"),
                    ("投诉人证件号", "complainant ID number"),
                    ("投诉人地址", "complainant address"),
                ],
            );
            // Masked by the service.
            for c in list {
                let channel = super::views::channel_names(c.channel);
                let kind = match c.kind {
                    yuepin_complaints::ComplaintKind::Complaint => ("投诉", "complaint"),
                    yuepin_complaints::ComplaintKind::Report => ("举报", "report"),
                };
                t.push(vec![
                    c.ext_id.into(),
                    c.received_at.replace('T', " ").into(),
                    tr.t(channel.0, channel.1).into(),
                    tr.t(kind.0, kind.1).into(),
                    c.region.to_string().into(),
                    city_name(tr, c.city.as_str()).into(),
                    c.enterprise_uscc.into(),
                    c.enterprise_name.into(),
                    c.category
                        .map(|k| {
                            let i = k.info();
                            if en {
                                i.key.clone()
                            } else {
                                i.name_zh.clone()
                            }
                        })
                        .into(),
                    c.division
                        .map(|d| {
                            if en {
                                d.code().to_string()
                            } else {
                                format!("{} {}", d.code(), d.info().name_zh)
                            }
                        })
                        .into(),
                    if en {
                        c.problem.as_str()
                    } else {
                        c.problem.name_zh()
                    }
                    .into(),
                    c.amount_fen.map(Yuan::from_fen).into(),
                    c.text.into(),
                    c.complainant.name.into(),
                    c.complainant.phone.into(),
                    c.complainant.id_number.into(),
                    c.complainant.address.into(),
                ]);
            }
            t
        }
        "counts" => {
            let rows = svc(state)
                .aggregate(&caller, &f, &q.dims()?, q.grain()?)
                .await?;
            let mut t = Table::new(
                tr,
                "complaints",
                ("投诉件数", "complaint counts"),
                &[
                    ("时段", "period"),
                    ("地市代码", "city"),
                    ("行业", "division"),
                    ("产品类别", "category"),
                    ("问题类型", "problem"),
                    ("企业编号", "enterprise_id"),
                    ("件数", "n"),
                ],
            );
            for r in rows {
                t.push(vec![
                    r.period.into(),
                    r.city.into(),
                    r.division.map(|d| d.to_string()).into(),
                    r.category.into(),
                    r.problem.into(),
                    r.enterprise_id.map(|d| d.to_string()).into(),
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
    download(table, format).await
}
