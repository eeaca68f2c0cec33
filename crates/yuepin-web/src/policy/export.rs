//! The XLSX of the enterprises listed under a measure in a match run (all of them, not one
//! page), for the regulator's offline work: headers, outcomes, cities and industries in the
//! reader's language (Chinese unless `lang=en`), amounts as numbers in 元. The rows come from
//! the service's listing.

use super::api::ListingQuery;
use super::service;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::export::{city_name, division_name};
use crate::i18n::Tr;
use crate::openapi::{E400, E401, E403, E404};
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use yuepin_domain::Yuan;
use yuepin_policy::OutcomeKind;
use yuepin_policy_service::outcome_code;

/// The enterprises of one measure in a run as an XLSX workbook.
#[utoipa::path(
    get, path = "/api/v1/policy/measures/{id}/export.xlsx", tag = "policy", operation_id = "policy_measure_export",
    params(("id" = String, Path, description = "Measure key or id"), ListingQuery),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), E400, E401, E403, E404)
)]
pub(super) async fn export_xlsx(
    Cx { state, auth }: Cx,
    Path(id): Path<String>,
    Query(q): Query<ListingQuery>,
) -> WebResult<Response> {
    use rust_xlsxwriter::{Format, Workbook};
    let svc = service(&state);
    let l = svc
        .measure_listing(&auth.caller(), &id, q.run, q.outcome.as_deref(), q.page, 0)
        .await?;
    let m = &svc.set().measures()[l.measure];
    let tr = auth.tr;
    let outcome = outcome_code(l.outcome);
    let xerr = |e: rust_xlsxwriter::XlsxError| WebError::Internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let ws = wb.add_worksheet();
    ws.set_name(m.id.as_str()).map_err(xerr)?;
    ws.write_string(
        0,
        0,
        format!(
            "{} {} — {}（{} {}）",
            m.id,
            tr.t(&m.title.zh, &m.title.en),
            outcome_word(tr, l.outcome),
            tr.t("评估日期", "as of"),
            l.run.as_of
        ),
    )
    .map_err(xerr)?;
    let headers = [
        ("统一社会信用代码", "Credit code"),
        ("企业名称", "Name"),
        ("地市", "City"),
        ("行业", "Industry"),
        ("结果", "Outcome"),
        ("待补充事实", "Facts to provide"),
        ("金额（元）", "Amount (yuan)"),
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, tr.t(h.0, h.1), &bold)
            .map_err(xerr)?;
    }
    for (i, it) in l.items.iter().enumerate() {
        let r = (i + 2) as u32;
        ws.write_string(r, 0, it.uscc.as_str()).map_err(xerr)?;
        ws.write_string(r, 1, yuepin_domain::text::escape_cell(&it.name))
            .map_err(xerr)?;
        ws.write_string(r, 2, city_name(tr, it.city.as_str()))
            .map_err(xerr)?;
        ws.write_string(
            r,
            3,
            format!("{:02} {}", it.division, division_name(tr, it.division)),
        )
        .map_err(xerr)?;
        ws.write_string(r, 4, outcome_word(tr, it.outcome))
            .map_err(xerr)?;
        let missing = it
            .reasons
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(tr.t("、", ", "))
            })
            .unwrap_or_default();
        ws.write_string(r, 5, yuepin_domain::text::escape_cell(&missing))
            .map_err(xerr)?;
        if let Some(fen) = it.amount_fen {
            let v: f64 = format!("{:.2}", Yuan::from_fen(fen).decimal())
                .parse()
                .unwrap_or_default();
            ws.write_number_with_format(r, 6, v, &money).map_err(xerr)?;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    let name = format!("policy-{}-{}-run{}.xlsx", m.id, outcome, l.run.id);
    Ok((
        [
            (
                "content-type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                "content-disposition",
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// An outcome in words in the reader's language.
fn outcome_word(tr: Tr, k: OutcomeKind) -> &'static str {
    match k {
        OutcomeKind::Eligible => tr.t("符合", "eligible"),
        OutcomeKind::NotEligible => tr.t("不符合", "not eligible"),
        OutcomeKind::Undetermined => tr.t("待补充事实", "facts to provide"),
        OutcomeKind::NotInForce => tr.t("不在有效期内", "not in force"),
        OutcomeKind::Conflict => tr.t("规则冲突", "conflicting rules"),
        OutcomeKind::NotApplicable => tr.t("不适用", "not applicable"),
    }
}
