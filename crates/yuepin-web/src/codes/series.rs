//! The manufacturer's code flow on the web (issue #16 item 2): a series page with its progress,
//! the issue form (the count kept and the reason shown beside it when refused), and downloads
//! of its labels (PDF: A4 sheets or 60 × 40 mm roll labels, Chinese text) and code list (CSV or
//! XLSX, status in words), in parts of `LABELS_PER_FILE` codes.

use super::views::{Part, SeriesPage};
use super::WEB_ISSUE_LIMIT;
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::export::{Cell, Format, Table};
use crate::form::PageForm;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use axum::extract::{Path, Query};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yuepin_code::CodeStatus;
use yuepin_codes_service::{CodesError, LabelLayout, SeriesFile, LABELS_PER_FILE};

#[derive(Deserialize, Default)]
pub(super) struct SeriesQuery {
    #[serde(default)]
    issued: Option<usize>,
}

async fn series_page(
    state: &AppState,
    auth: &Auth,
    id: i64,
    count: String,
    error: Option<String>,
    issued_now: Option<usize>,
) -> WebResult<SeriesPage> {
    let detail = state.modules.codes.series(&auth.caller(), id).await?;
    let issued = usize::try_from(detail.series.issued).unwrap_or(0);
    let remaining = (detail.series.quantity - detail.series.issued).max(0);
    let parts = (0..issued)
        .step_by(LABELS_PER_FILE)
        .map(|from| Part {
            from: from + 1,
            to: (from + LABELS_PER_FILE).min(issued),
        })
        .collect();
    let percent = (detail.series.issued * 100)
        .checked_div(detail.series.quantity)
        .unwrap_or(0)
        .clamp(0, 100);
    let max_count = remaining.min(WEB_ISSUE_LIMIT as i64);
    Ok(SeriesPage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        count: if count.is_empty() {
            max_count.min(100).to_string()
        } else {
            count
        },
        detail,
        remaining,
        max_count,
        error,
        issued_now,
        parts,
        percent,
    })
}

pub(super) async fn show(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<SeriesQuery>,
) -> Response {
    match series_page(&state, &auth, id, String::new(), None, q.issued).await {
        Ok(page) => render(&page, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

#[derive(Deserialize)]
pub(super) struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    count: String,
}

/// Issues codes; on success back to the series page with the count, on a refusal the page
/// again with the typed count and the reason in the page's language (422).
pub(super) async fn issue(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<IssueForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(Some(&f.csrf)) {
        return page_error(e, &auth, &state, &uri);
    }
    let tr = auth.tr;
    // A refusal the form can explain is worded here in the page's language; anything else
    // (signed out, not found) becomes the usual error page.
    let outcome: Result<usize, Result<String, WebError>> = async {
        let count: usize = f
            .count
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                Ok(tr
                    .t(
                        "数量须为不小于1的整数。",
                        "The count must be a whole number of at least 1.",
                    )
                    .to_string())
            })?;
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
        match state
            .modules
            .codes
            .issue(&auth.caller(), id, count, WEB_ISSUE_LIMIT, &mut rng)
            .await
        {
            Ok(issued) => Ok(issued.codes.len()),
            Err(CodesError::Count { max }) => Err(Ok(if !tr.is_en() {
                format!("每次可签发1至{max}个码。")
            } else {
                format!("Issue 1 to {max} codes at a time.")
            })),
            Err(CodesError::SeriesExhausted {
                remaining,
                requested,
                ..
            }) => Err(Ok(if !tr.is_en() {
                format!("本码段还可签发{remaining}个，您填写了{requested}个。")
            } else {
                format!("This series has {remaining} codes left; you asked for {requested}.")
            })),
            Err(e) => Err(Err(e.into())),
        }
    }
    .await;
    match outcome {
        Ok(n) => Redirect::to(&format!("/codes/series/{id}?issued={n}")).into_response(),
        Err(Err(e)) => page_error(e, &auth, &state, &uri),
        Err(Ok(message)) => {
            let typed: String = f.count.chars().take(12).collect();
            match series_page(&state, &auth, id, typed, Some(message), None).await {
                Ok(page) => {
                    let mut resp = render(&page, &auth, &uri);
                    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                    resp
                }
                Err(e) => page_error(e, &auth, &state, &uri),
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct DownloadQuery {
    #[serde(default)]
    layout: String,
    /// 1-based number of the first code of the part.
    #[serde(default)]
    from: Option<usize>,
}

fn attachment(file: SeriesFile, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.file_name),
            ),
        ],
        file.bytes,
    )
        .into_response()
}

pub(super) async fn labels_pdf(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<DownloadQuery>,
) -> Response {
    let result: WebResult<Response> = async {
        let layout = LabelLayout::parse(&q.layout).ok_or_else(|| {
            WebError::field(
                "layout",
                auth.tr
                    .t("版式须为 a4 或 roll", "layout must be a4 or roll"),
            )
        })?;
        let offset = q.from.unwrap_or(1).saturating_sub(1);
        let file = state
            .modules
            .codes
            .series_label_pdf(&auth.caller(), id, offset, layout)
            .await?;
        Ok(attachment(file, "application/pdf"))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

pub(super) async fn codes_csv(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<DownloadQuery>,
) -> Response {
    codes_download(state, auth, uri, id, q, Format::Csv).await
}

pub(super) async fn codes_xlsx(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<DownloadQuery>,
) -> Response {
    codes_download(state, auth, uri, id, q, Format::Xlsx).await
}

fn status_word(tr: Tr, s: CodeStatus) -> &'static str {
    match s {
        CodeStatus::Valid => tr.t("有效", "valid"),
        CodeStatus::Suspended => tr.t("暂停", "suspended"),
        CodeStatus::Revoked => tr.t("撤销", "revoked"),
        CodeStatus::Recalled => tr.t("召回", "recalled"),
    }
}

/// `/codes/series/{id}/codes.csv|.xlsx?from=N`: one part of a series (at most
/// `LABELS_PER_FILE` codes from the N-th) for a printing house: URI, product, lot, serial,
/// issue date and status in words, headers in the reader's language. The series' enterprise
/// or a regulator (the service checks); anyone else gets the missing page.
async fn codes_download(
    state: AppState,
    auth: Auth,
    uri: Uri,
    id: i64,
    q: DownloadQuery,
    format: Format,
) -> Response {
    let result: WebResult<Response> = async {
        let tr = auth.tr;
        let offset = q.from.unwrap_or(1).saturating_sub(1);
        let (labels, codes) = state
            .modules
            .codes
            .series_labels(&auth.caller(), id, offset)
            .await?;
        let mut t = Table::new(
            tr,
            format!("codes-series-{id}-{}", offset + 1),
            ("码清单", "codes"),
            &[
                ("序号", "No."),
                ("码URI", "Code URI"),
                ("产品", "Product"),
                ("生产企业", "Manufacturer"),
                ("批次", "Lot"),
                ("序列号", "Serial"),
                ("签发日期", "Issued on"),
                ("状态", "Status"),
                ("状态原因", "Status reason"),
                ("状态日期", "Status since"),
            ],
        );
        for (i, (l, c)) in labels.iter().zip(&codes).enumerate() {
            t.push(vec![
                Cell::Int((offset + i + 1) as i64),
                l.uri.clone().into(),
                l.product.clone().into(),
                l.enterprise.clone().into(),
                l.lot.clone().into(),
                l.serial.clone().into(),
                c.issued_on.to_string().into(),
                status_word(tr, c.status).into(),
                c.status_reason.clone().into(),
                c.status_since.map(|d| d.to_string()).into(),
            ]);
        }
        crate::export::download(t, format).await
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}
