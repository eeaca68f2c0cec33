//! Exports for regulators: the complaints of a filter (masked, at most 100 000 rows) or its
//! counts, as CSV (UTF-8 with BOM, spreadsheet formulas neutralised) or XLSX.

use super::schema::Filter;
use super::{svc, FilterQuery};
use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::openapi::{E400, E401, E403};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Exports complaints, aggregates or alarms as CSV or XLSX (administrators).
#[utoipa::path(
    get, path = "/api/v1/complaints/export", tag = "complaints", operation_id = "export_complaints",
    params(Filter, ("format" = Option<String>, Query, description = "csv (default) or xlsx"), ("lang" = Option<String>, Query, description = "zh (default: Chinese headers and values) or en"), ("what" = Option<String>, Query, description = "complaints (default), aggregates or alarms")),
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

async fn export_inner(state: &AppState, auth: &Auth, q: FilterQuery) -> WebResult<Response> {
    let caller = auth.caller();
    caller.require_administrator()?;
    let f = q.filter()?;
    let en = match q.lang.trim() {
        "" | "zh" => false,
        "en" => true,
        other => {
            return Err(WebError::field(
                "lang",
                format!("应为 zh 或 en (lang must be zh or en): {other:?}"),
            ))
        }
    };
    let pick = |zh: &'static str, en_text: &'static str| if en { en_text } else { zh };
    let (header_row, rows): (Vec<&str>, Vec<Vec<String>>) = match q.what.as_str() {
        "" | "complaints" => {
            let (list, _) = svc(state).search(&caller, &f, EXPORT_LIMIT, 0).await?;
            (
                vec![
                    pick("编号", "id"),
                    pick("受理时间", "received at"),
                    pick("渠道", "channel"),
                    pick("类型", "kind"),
                    pick("地区代码", "region code"),
                    pick("地市", "city"),
                    pick("被投诉企业信用代码", "enterprise credit code"),
                    pick("被投诉企业", "enterprise"),
                    pick("产品类别", "category"),
                    pick("行业", "division"),
                    pick("问题类型", "problem"),
                    pick("涉及金额(元)", "amount (yuan)"),
                    pick("内容", "text"),
                    pick("投诉人姓名", "complainant name"),
                    pick("投诉人电话", "complainant phone"),
                    pick("投诉人证件号", "complainant ID number"),
                    pick("投诉人地址", "complainant address"),
                ],
                list.into_iter()
                    .map(|c| {
                        let city = c.city.city();
                        let channel = super::views::channel_names(c.channel);
                        let kind = match c.kind {
                            yuepin_complaints::ComplaintKind::Complaint => ("投诉", "complaint"),
                            yuepin_complaints::ComplaintKind::Report => ("举报", "report"),
                        };
                        // Masked by the service.
                        vec![
                            c.ext_id.clone(),
                            c.received_at.replace('T', " "),
                            pick(channel.0, channel.1).to_string(),
                            pick(kind.0, kind.1).to_string(),
                            c.region.to_string(),
                            if en {
                                city.name_en.clone()
                            } else {
                                city.name_zh.clone()
                            },
                            c.enterprise_uscc.clone().unwrap_or_default(),
                            c.enterprise_name.clone().unwrap_or_default(),
                            c.category
                                .map(|k| {
                                    let i = k.info();
                                    if en {
                                        i.key.clone()
                                    } else {
                                        i.name_zh.clone()
                                    }
                                })
                                .unwrap_or_default(),
                            c.division
                                .map(|d| {
                                    if en {
                                        d.code().to_string()
                                    } else {
                                        format!("{} {}", d.code(), d.info().name_zh)
                                    }
                                })
                                .unwrap_or_default(),
                            if en {
                                c.problem.as_str().to_string()
                            } else {
                                c.problem.name_zh().to_string()
                            },
                            c.amount_fen
                                .map(|a| format!("{}.{:02}", a / 100, (a % 100).abs()))
                                .unwrap_or_default(),
                            c.text.clone(),
                            c.complainant.name.clone().unwrap_or_default(),
                            c.complainant.phone.clone().unwrap_or_default(),
                            c.complainant.id_number.clone().unwrap_or_default(),
                            c.complainant.address.clone().unwrap_or_default(),
                        ]
                    })
                    .collect(),
            )
        }
        "counts" => {
            let rows = svc(state)
                .aggregate(&caller, &f, &q.dims()?, q.grain()?)
                .await?;
            (
                vec![
                    pick("时段", "period"),
                    pick("地市代码", "city"),
                    pick("行业", "division"),
                    pick("产品类别", "category"),
                    pick("问题类型", "problem"),
                    pick("企业编号", "enterprise_id"),
                    pick("件数", "n"),
                ],
                rows.into_iter()
                    .map(|r| {
                        vec![
                            r.period,
                            r.city.unwrap_or_default(),
                            r.division.map(|d| d.to_string()).unwrap_or_default(),
                            r.category.unwrap_or_default(),
                            r.problem.unwrap_or_default(),
                            r.enterprise_id.map(|d| d.to_string()).unwrap_or_default(),
                            r.n.to_string(),
                        ]
                    })
                    .collect(),
            )
        }
        other => {
            return Err(WebError::field(
                "what",
                format!("应为 complaints 或 counts (what must be complaints or counts): {other:?}"),
            ));
        }
    };
    match q.format.as_str() {
        "" | "csv" => {
            let mut out = String::from("\u{feff}");
            let line = |cells: &[String], out: &mut String| {
                let s: Vec<String> = cells
                    .iter()
                    .map(|c| {
                        // Neutralise spreadsheet formulas.
                        let c = if c.starts_with(['=', '+', '-', '@']) && c.parse::<f64>().is_err()
                        {
                            format!("'{c}")
                        } else {
                            c.clone()
                        };
                        if c.contains([',', '"', '\n', '\r']) {
                            format!("\"{}\"", c.replace('"', "\"\""))
                        } else {
                            c
                        }
                    })
                    .collect();
                out.push_str(&s.join(","));
                out.push_str("\r\n");
            };
            line(
                &header_row.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                &mut out,
            );
            for r in &rows {
                line(r, &mut out);
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"complaints.csv\"".to_string(),
                    ),
                ],
                out,
            )
                .into_response())
        }
        "xlsx" => {
            let bytes = tokio::task::spawn_blocking(
                move || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
                    let mut book = rust_xlsxwriter::Workbook::new();
                    let sheet = book.add_worksheet();
                    for (j, h) in header_row.iter().enumerate() {
                        sheet.write_string(0, j as u16, *h)?;
                    }
                    for (i, r) in rows.iter().enumerate() {
                        for (j, c) in r.iter().enumerate() {
                            let c = if c.parse::<f64>().is_ok() {
                                std::borrow::Cow::Borrowed(c.as_str())
                            } else {
                                yuepin_domain::text::escape_cell(c)
                            };
                            sheet.write_string(i as u32 + 1, j as u16, c)?;
                        }
                    }
                    book.save_to_buffer()
                },
            )
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?
            .map_err(|e| WebError::Internal(e.to_string()))?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"complaints.xlsx\"".to_string(),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        other => Err(WebError::field(
            "format",
            format!("应为 csv 或 xlsx (format must be csv or xlsx): {other:?}"),
        )),
    }
}
