//! Invoices of bookings and orders as pages and PDFs, and the bookings as downloads (issue #16
//! item 9): `/labs/orders/{id}/invoice[.pdf]` for testing orders, and
//! `/labs/bookings/{id}/invoice` (the lab, the booker, the instrument, the time, accessories,
//! the lines in 元 with a total, the invoice number and date), `…/invoice.pdf` (the same on
//! A4, laid out by `yuepin-labs-service` on `yuepin-pdf`), and the bookings of the
//! enterprise's page (`/labs/my/bookings.csv|.xlsx`) and of the lab console
//! (`/labs/lab/bookings.csv|.xlsx?from=&days=`) as CSV or XLSX in the reader's language.
//! Access is the service's: someone else's booking is a missing one.

use super::views::{fmt_dt, state_word};
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::export::{china_time, yes_no, Cell, Format, Table};
use crate::i18n::Tr;
use crate::page::{page_or_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use yuepin_labs_service::{
    invoice_number, BookingInvoiceDocument, BookingRecord, OrderInvoiceDocument,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/labs/bookings/{id}/invoice", get(invoice_page))
        .route("/labs/bookings/{id}/invoice.pdf", get(invoice_pdf))
        .route("/labs/orders/{id}/invoice", get(order_invoice_page))
        .route("/labs/orders/{id}/invoice.pdf", get(order_invoice_pdf))
        .route("/labs/my/bookings.csv", get(my_csv))
        .route("/labs/my/bookings.xlsx", get(my_xlsx))
        .route("/labs/lab/bookings.csv", get(lab_csv))
        .route("/labs/lab/bookings.xlsx", get(lab_xlsx))
}

/// One line of the invoice as the page shows it.
pub(super) struct LineView {
    description: String,
    quantity: String,
    unit_price: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "labs/invoice.html")]
pub(super) struct InvoicePage {
    tr: Tr,
    c: Chrome,
    /// The heading (a booking's instrument time or an order's testing).
    heading: String,
    number: String,
    issued_on: String,
    /// Who and what: (label, value), values with an optional second line.
    details: Vec<(String, String, String)>,
    lines: Vec<LineView>,
    total: String,
    pdf_href: String,
    /// Where "back" goes: the enterprise's page or the lab console.
    back: &'static str,
}

fn yuan(y: yuepin_domain::Yuan, tr: Tr) -> String {
    if tr.is_en() {
        format!("¥{}", y.grouped())
    } else {
        format!("{}元", y.grouped())
    }
}

fn lines_of(invoice: &yuepin_labs::Invoice, tr: Tr) -> Vec<LineView> {
    invoice
        .lines
        .iter()
        .map(|l| LineView {
            description: l.description.clone(),
            quantity: l.quantity.clone(),
            unit_price: yuan(l.unit_price, tr),
            amount: yuan(l.amount, tr),
        })
        .collect()
}

fn back_of(auth: &Auth) -> &'static str {
    if auth
        .user
        .as_ref()
        .is_some_and(|u| u.role == yuepin_domain::Role::Lab)
    {
        "/labs/lab"
    } else {
        "/labs/my"
    }
}

fn detail(tr: Tr, label: (&str, &str), value: String, more: String) -> (String, String, String) {
    (tr.t(label.0, label.1).to_string(), value, more)
}

fn booking_page(doc: BookingInvoiceDocument, auth: &Auth, state: &AppState) -> InvoicePage {
    let tr = auth.tr;
    let b = &doc.booking;
    let mut details = vec![
        detail(tr, ("预约号", "Booking"), b.id.to_string(), String::new()),
        detail(
            tr,
            ("收款方（实验室）", "Payee (lab)"),
            doc.lab.lab.name.clone(),
            format!(
                "{} {}",
                doc.lab.lab.contact.person, doc.lab.lab.contact.phone
            ),
        ),
        detail(
            tr,
            ("付款方（预约企业）", "Payer (booked by)"),
            b.enterprise_name
                .clone()
                .unwrap_or_else(|| tr.t("实验室内部使用", "the lab's own use").to_string()),
            b.enterprise_uscc
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_default(),
        ),
        detail(
            tr,
            ("仪器", "Instrument"),
            format!("{}（{}）", b.instrument_name, doc.instrument_model),
            String::new(),
        ),
        detail(
            tr,
            ("使用时间（北京时间）", "Time (China time)"),
            format!("{} – {}", fmt_dt(b.starts_at), b.ends_at.format("%H:%M")),
            String::new(),
        ),
        detail(
            tr,
            ("状态", "Status"),
            state_word(tr, b.state.name_zh(), b.state.name()),
            if b.self_operated {
                tr.t("自主操作", "self-operated").to_string()
            } else {
                String::new()
            },
        ),
    ];
    if !b.accessories.is_empty() {
        details.push(detail(
            tr,
            ("附件", "Accessories"),
            b.accessories.join("、"),
            String::new(),
        ));
    }
    InvoicePage {
        tr,
        c: Chrome::new(auth, state),
        heading: tr
            .t("共享仪器使用费结算单", "Instrument time invoice")
            .to_string(),
        number: doc.number.clone(),
        issued_on: doc.issued_on.to_string(),
        details,
        lines: lines_of(&doc.invoice, tr),
        total: yuan(doc.invoice.total, tr),
        pdf_href: format!("/labs/bookings/{}/invoice.pdf", b.id),
        back: back_of(auth),
    }
}

fn order_page(doc: OrderInvoiceDocument, auth: &Auth, state: &AppState) -> InvoicePage {
    let tr = auth.tr;
    let o = &doc.order;
    InvoicePage {
        tr,
        c: Chrome::new(auth, state),
        heading: tr
            .t("委托检测费用结算单", "Testing order invoice")
            .to_string(),
        number: doc.number.clone(),
        issued_on: doc.issued_on.to_string(),
        details: vec![
            detail(tr, ("委托号", "Order"), o.id.to_string(), String::new()),
            detail(
                tr,
                ("收款方（实验室）", "Payee (lab)"),
                doc.lab.lab.name.clone(),
                format!(
                    "{} {}",
                    doc.lab.lab.contact.person, doc.lab.lab.contact.phone
                ),
            ),
            detail(
                tr,
                ("付款方（委托企业）", "Payer (customer)"),
                o.enterprise_name.clone(),
                o.enterprise_uscc.to_string(),
            ),
            detail(tr, ("检测项目", "Test item"), o.item.clone(), String::new()),
            detail(
                tr,
                ("样品数", "Samples"),
                o.samples.to_string(),
                String::new(),
            ),
            detail(
                tr,
                ("状态", "Status"),
                state_word(tr, o.state.name_zh(), o.state.name()),
                String::new(),
            ),
        ],
        lines: lines_of(&doc.invoice, tr),
        total: yuan(doc.invoice.total, tr),
        pdf_href: format!("/labs/orders/{}/invoice.pdf", o.id),
        back: back_of(auth),
    }
}

fn pdf_response(number: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"invoice-{number}.pdf\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn order_invoice_page(Cx { state, auth }: Cx, uri: Uri, Path(id): Path<i64>) -> Response {
    let doc = state
        .modules
        .labs
        .order_invoice_document(&auth.caller(), id)
        .await;
    let r = doc.map(|d| render(&order_page(d, &auth, &state), &auth, &uri));
    page_or_error(r.map_err(WebError::from), &auth, &state, &uri)
}

async fn order_invoice_pdf(Cx { state, auth }: Cx, uri: Uri, Path(id): Path<i64>) -> Response {
    let pdf = state
        .modules
        .labs
        .order_invoice_pdf(&auth.caller(), id)
        .await;
    let r = pdf.map(|(d, bytes)| pdf_response(&d.number, bytes));
    page_or_error(r.map_err(WebError::from), &auth, &state, &uri)
}

async fn invoice_page(Cx { state, auth }: Cx, uri: Uri, Path(id): Path<i64>) -> Response {
    let doc = state
        .modules
        .labs
        .booking_invoice_document(&auth.caller(), id)
        .await;
    let r = doc.map(|d| render(&booking_page(d, &auth, &state), &auth, &uri));
    page_or_error(r.map_err(WebError::from), &auth, &state, &uri)
}

async fn invoice_pdf(Cx { state, auth }: Cx, uri: Uri, Path(id): Path<i64>) -> Response {
    let pdf = state
        .modules
        .labs
        .booking_invoice_pdf(&auth.caller(), id)
        .await;
    let r = pdf.map(|(d, bytes)| pdf_response(&d.number, bytes));
    page_or_error(r.map_err(WebError::from), &auth, &state, &uri)
}

/// Most bookings the services list (the enterprise's latest 500, a lab's 2,000 of a window).
const ENTERPRISE_LIST_MAX: usize = 500;
const LAB_LIST_MAX: usize = 2_000;

fn bookings_table(tr: Tr, file: &str, bookings: &[BookingRecord]) -> Table {
    let mut t = Table::new(
        tr,
        file,
        ("预约", "bookings"),
        &[
            ("预约号", "Booking"),
            ("结算单号", "Invoice number"),
            ("实验室", "Lab"),
            ("仪器", "Instrument"),
            ("预约企业", "Booked by"),
            ("统一社会信用代码", "Credit code"),
            ("开始时间", "Starts"),
            ("结束时间", "Ends"),
            ("状态", "Status"),
            ("自主操作", "Self-operated"),
            ("附件", "Accessories"),
            ("费用（元）", "Price (yuan)"),
            ("取消或爽约费（元）", "Cancellation or no-show fee (yuan)"),
            ("预约时间", "Booked at"),
        ],
    );
    for b in bookings {
        t.push(vec![
            b.id.into(),
            invoice_number(b.id, b.ends_at.date()).into(),
            b.lab_name.clone().into(),
            b.instrument_name.clone().into(),
            b.enterprise_name
                .clone()
                .unwrap_or_else(|| tr.t("内部使用", "internal use").to_string())
                .into(),
            b.enterprise_uscc.as_ref().map(|u| u.to_string()).into(),
            fmt_dt(b.starts_at).into(),
            fmt_dt(b.ends_at).into(),
            state_word(tr, b.state.name_zh(), b.state.name()).into(),
            yes_no(tr, b.self_operated).into(),
            b.accessories
                .join(if tr.is_en() { "; " } else { "、" })
                .into(),
            Cell::Money(b.price),
            Cell::Money(b.fee),
            china_time(&b.created_at).into(),
        ]);
    }
    t
}

async fn my_download(state: AppState, auth: Auth, uri: Uri, format: Format) -> Response {
    let r: WebResult<Response> = async {
        let tr = auth.tr;
        let bookings = state.modules.labs.my_bookings(&auth.caller()).await?;
        let mut t = bookings_table(tr, "my-bookings", &bookings);
        if bookings.len() >= ENTERPRISE_LIST_MAX {
            t.capped(
                tr,
                (
                    "更早的预约见日历订阅（ICS）。",
                    "Older bookings are in the calendar feed (ICS).",
                ),
            );
        }
        crate::export::download(t, format).await
    }
    .await;
    page_or_error(r, &auth, &state, &uri)
}

async fn my_csv(Cx { state, auth }: Cx, uri: Uri) -> Response {
    my_download(state, auth, uri, Format::Csv).await
}

async fn my_xlsx(Cx { state, auth }: Cx, uri: Uri) -> Response {
    my_download(state, auth, uri, Format::Xlsx).await
}

/// The lab console's window: from a day (default today) for a number of days (default 14,
/// at most 92).
#[derive(Deserialize, Default)]
struct WindowQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    days: String,
}

async fn lab_download(
    state: AppState,
    auth: Auth,
    uri: Uri,
    q: WindowQuery,
    format: Format,
) -> Response {
    let r: WebResult<Response> = async {
        let tr = auth.tr;
        let caller = auth.caller();
        let from = match q.from.trim() {
            "" => crate::today(),
            s => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                WebError::field(
                    "from",
                    tr.t("日期格式为 2026-12-01", "a date such as 2026-12-01"),
                )
            })?,
        };
        let days = match q.days.trim() {
            "" => 14,
            s => s
                .parse::<i64>()
                .ok()
                .filter(|d| (1..=92).contains(d))
                .ok_or_else(|| WebError::field("days", tr.t("天数为1至92", "1 to 92 days")))?,
        };
        let console = state.modules.labs.lab_console(&caller).await?;
        let bookings = state
            .modules
            .labs
            .bookings_of_lab(&caller, console.lab.id, from, days)
            .await?;
        let mut t = bookings_table(tr, "lab-bookings", &bookings);
        if bookings.len() >= LAB_LIST_MAX {
            t.capped(
                tr,
                (
                    "请缩短时间段后再导出。",
                    "Export a shorter window (from, days).",
                ),
            );
        }
        crate::export::download(t, format).await
    }
    .await;
    page_or_error(r, &auth, &state, &uri)
}

async fn lab_csv(Cx { state, auth }: Cx, uri: Uri, Query(q): Query<WindowQuery>) -> Response {
    lab_download(state, auth, uri, q, Format::Csv).await
}

async fn lab_xlsx(Cx { state, auth }: Cx, uri: Uri, Query(q): Query<WindowQuery>) -> Response {
    lab_download(state, auth, uri, q, Format::Xlsx).await
}
