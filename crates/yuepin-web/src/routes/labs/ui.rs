//! Pages of the labs module: the one-stop catalogue and availability search (public), an
//! instrument's page with prices and the booking form, the enterprise's bookings and orders,
//! the lab console (calendar, approvals, order queue, verification, report issue), the
//! regulator's utilisation dashboard with server-drawn SVG charts, and the public report
//! verification page with its QR code. Forms post back with the session's CSRF token.

use super::{
    do_book, do_booking_action, do_order_action, labs_err, my_enterprise, slot_query, staff_lab,
    to_part, AvailabilityQuery, PartInput,
};
use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::page::{page_error, render, urlencode, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use yuepin_domain::{Role, Yuan};
use yuepin_labs::{BookingState, OrderState, ReportStatus};
use yuepin_store::labs::{china_now, BookingRecord, OrderAction, OrderRecord, TestResults};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/labs", get(index))
        .route("/labs/search", get(search))
        .route("/labs/instruments/{id}", get(instrument_page))
        .route("/labs/book", post(book_form))
        .route("/labs/waitlist", post(waitlist_form))
        .route("/labs/my", get(my_page))
        .route("/labs/bookings/{id}/{action}", post(booking_form))
        .route("/labs/orders", post(order_create_form))
        .route("/labs/orders/{id}/act", post(order_form))
        .route("/labs/lab", get(lab_page))
        .route("/labs/dashboard", get(dashboard))
        .route("/labs/reports/{number}", get(report_page))
}

fn fmt_dt(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn money(y: Yuan) -> String {
    format!("¥{y}")
}

fn back(path: &str, msg: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}msg={}", urlencode(msg))).into_response()
}

fn safe_back(s: &str, default: &str) -> String {
    if s.starts_with("/labs") && !s.starts_with("//") {
        s.to_string()
    } else {
        default.to_string()
    }
}

#[derive(Deserialize, Default)]
struct MsgQuery {
    #[serde(default)]
    msg: String,
}

// ---------------------------------------------------------------- index / search

struct ServiceRow {
    id: i64,
    lab: String,
    item: String,
    mode: String,
    price: String,
    days: u16,
}

struct AreaGroup {
    name: String,
    services: Vec<ServiceRow>,
}

#[derive(Template)]
#[template(path = "labs/index.html")]
struct IndexPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    items: Vec<String>,
    cities: Vec<(String, String)>,
    areas: Vec<AreaGroup>,
    labs: Vec<(i64, String, String, String, String)>,
    is_enterprise: bool,
}

async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<MsgQuery>,
) -> Response {
    let r: WebResult<IndexPage> = async {
        let labs = state.store.labs().await?;
        let services = state.store.services(None).await?;
        let lab_name = |id: i64| {
            labs.iter()
                .find(|l| l.id == id)
                .map(|l| l.lab.name.clone())
                .unwrap_or_default()
        };
        let mut areas: Vec<AreaGroup> = Vec::new();
        for area in [
            yuepin_labs::ServiceArea::Metrology,
            yuepin_labs::ServiceArea::Standards,
            yuepin_labs::ServiceArea::Testing,
            yuepin_labs::ServiceArea::Certification,
            yuepin_labs::ServiceArea::Reliability,
        ] {
            let rows: Vec<ServiceRow> = services
                .iter()
                .filter(|s| s.service.area == area)
                .map(|s| ServiceRow {
                    id: s.id,
                    lab: lab_name(s.lab_id),
                    item: s.service.method.item.to_string(),
                    mode: match s.service.mode {
                        yuepin_labs::ServiceMode::OutsourcedExperiment => {
                            auth.tr.t("实验外包", "Outsourced experiment").to_string()
                        }
                        yuepin_labs::ServiceMode::TestingOnBehalf => {
                            auth.tr.t("代检代测", "Testing on behalf").to_string()
                        }
                    },
                    price: money(s.service.price_per_sample),
                    days: s.service.turnaround_days,
                })
                .collect();
            areas.push(AreaGroup {
                name: format!(
                    "{} {}",
                    area.name_zh(),
                    if auth.tr.is_en() {
                        format!("({area:?})")
                    } else {
                        String::new()
                    }
                ),
                services: rows,
            });
        }
        Ok(IndexPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            msg: q.msg.clone(),
            items: state.store.instrument_items().await?,
            cities: yuepin_domain::reference::cities()
                .iter()
                .map(|c| (c.code.clone(), c.name_zh.clone()))
                .collect(),
            areas,
            labs: labs
                .iter()
                .map(|l| {
                    (
                        l.id,
                        l.lab.name.clone(),
                        l.lab.city.city().name_zh.clone(),
                        l.lab
                            .cma
                            .as_ref()
                            .map(|c| c.to_string())
                            .unwrap_or_default(),
                        l.lab
                            .cnas
                            .as_ref()
                            .map(|c| c.to_string())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
            is_enterprise: auth
                .user
                .as_ref()
                .is_some_and(|u| u.role == Role::Enterprise),
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

struct SlotRow {
    instrument_id: i64,
    instrument: String,
    lab: String,
    city: String,
    free: String,
    start: String,
    start_value: String,
    price: String,
    approval: bool,
    qualification: String,
}

/// A combined slot: when (shown), the instruments (id, name), the start (form value).
type CombinedRow = (String, Vec<(i64, String)>, String);

#[derive(Template)]
#[template(path = "labs/search.html")]
struct SearchPage {
    tr: Tr,
    c: Chrome,
    item: String,
    city: String,
    from: String,
    to: String,
    minutes: u32,
    slots: Vec<SlotRow>,
    combined: Vec<CombinedRow>,
    minutes_value: i64,
    is_enterprise: bool,
}

async fn search(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<AvailabilityQuery>,
) -> Response {
    let r: WebResult<SearchPage> = async {
        let (items, sq) = slot_query(&q)?;
        let mut slots = Vec::new();
        let mut combined = Vec::new();
        if items.len() > 1 {
            for c in state.store.search_combined_slots(&items, &sq).await? {
                let mut parts = Vec::new();
                for id in &c.instruments {
                    let inst = state.store.instrument(id.0 as i64).await?;
                    parts.push((inst.id, inst.instrument.name.clone()));
                }
                combined.push((
                    fmt_dt(c.range.start()),
                    parts,
                    c.range.start().format("%Y-%m-%dT%H:%M").to_string(),
                ));
            }
        } else {
            for h in state.store.search_slots(&sq).await? {
                slots.push(SlotRow {
                    instrument_id: h.instrument.id,
                    instrument: format!(
                        "{} ({} {})",
                        h.instrument.instrument.name,
                        h.instrument.instrument.maker,
                        h.instrument.instrument.model
                    ),
                    lab: h.lab_name.clone(),
                    city: h.instrument.instrument.city.city().name_zh.clone(),
                    free: format!(
                        "{} – {}",
                        fmt_dt(h.slot.free.start()),
                        fmt_dt(h.slot.free.end())
                    ),
                    start: fmt_dt(h.slot.earliest.start()),
                    start_value: h.slot.earliest.start().format("%Y-%m-%dT%H:%M").to_string(),
                    price: h.quote.as_ref().map(|q| money(q.total)).unwrap_or_default(),
                    approval: h.instrument.requires_approval,
                    qualification: h
                        .instrument
                        .instrument
                        .operator_qualification
                        .as_ref()
                        .map(|q| q.to_string())
                        .unwrap_or_default(),
                });
            }
        }
        Ok(SearchPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            item: q.item.clone(),
            city: q.city.clone(),
            from: q.from.clone(),
            to: q.to.clone(),
            minutes: sq.duration_minutes,
            minutes_value: i64::from(sq.duration_minutes),
            slots,
            combined,
            is_enterprise: auth
                .user
                .as_ref()
                .is_some_and(|u| u.role == Role::Enterprise),
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

// ---------------------------------------------------------------- instrument

#[derive(Template)]
#[template(path = "labs/instrument.html")]
struct InstrumentPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    id: i64,
    name: String,
    lab: String,
    facts: Vec<(String, String)>,
    items: Vec<String>,
    accessories: Vec<(String, String)>,
    busy: Vec<String>,
    blackouts: Vec<String>,
    services: Vec<(i64, String, String)>,
    is_enterprise: bool,
    default_start: String,
}

async fn instrument_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Response {
    let r: WebResult<InstrumentPage> = async {
        let rec = state.store.instrument(id).await?;
        let lab = state.store.lab(rec.lab_id).await?;
        let i = &rec.instrument;
        let tr = auth.tr;
        let now = china_now();
        let (from, to) = (
            now.and_utc().timestamp() / 60,
            now.and_utc().timestamp() / 60 + 14 * 1440,
        );
        let busy = state
            .store
            .busy_of(id, from, to)
            .await?
            .iter()
            .map(|r| format!("{} – {}", fmt_dt(r.start()), fmt_dt(r.end())))
            .collect();
        let items: Vec<String> = i
            .test_methods
            .iter()
            .map(|m| {
                let stds: Vec<String> = m.standards.iter().map(|s| s.to_string()).collect();
                format!("{} ({})", m.item, stds.join(", "))
            })
            .collect();
        let services = state
            .store
            .services(Some(rec.lab_id))
            .await?
            .into_iter()
            .filter(|s| i.tests(&s.service.method.item))
            .map(|s| {
                (
                    s.id,
                    s.service.method.item.to_string(),
                    money(s.service.price_per_sample),
                )
            })
            .collect();
        Ok(InstrumentPage {
            tr,
            c: Chrome::new(&auth, &state),
            msg: q.msg.clone(),
            id,
            name: i.name.clone(),
            lab: lab.lab.name.clone(),
            facts: vec![
                (
                    tr.t("型号", "Model").into(),
                    format!("{} {}", i.maker, i.model),
                ),
                (
                    tr.t("购置价", "Purchase price").into(),
                    money(i.purchase_price),
                ),
                (
                    tr.t("地点", "Location").into(),
                    format!("{} · {}", i.city.city().name_zh, i.location),
                ),
                (
                    tr.t("功能", "Capabilities").into(),
                    i.capabilities.join("、"),
                ),
                (
                    tr.t("高峰价/小时", "Peak price per hour").into(),
                    money(i.tariff.peak_hourly),
                ),
                (
                    tr.t("低谷价/小时", "Off-peak price per hour").into(),
                    money(i.tariff.off_peak_hourly),
                ),
                (
                    tr.t("自主操作资质", "Operator qualification").into(),
                    i.operator_qualification
                        .as_ref()
                        .map(|q| q.to_string())
                        .unwrap_or_else(|| tr.t("无要求", "none").into()),
                ),
                (
                    tr.t("需审核", "Owner approval").into(),
                    if rec.requires_approval {
                        tr.t("是", "yes")
                    } else {
                        tr.t("否", "no")
                    }
                    .into(),
                ),
            ],
            items,
            accessories: i
                .accessories
                .iter()
                .map(|a| (a.name.clone(), money(a.hourly)))
                .collect(),
            busy,
            blackouts: state
                .store
                .blackouts_of(id)
                .await?
                .iter()
                .map(|b| {
                    format!(
                        "{} – {}: {}",
                        fmt_dt(b.range.start()),
                        fmt_dt(b.range.end()),
                        b.reason
                    )
                })
                .collect(),
            services,
            is_enterprise: auth
                .user
                .as_ref()
                .is_some_and(|u| u.role == Role::Enterprise),
            default_start: (now + chrono::Duration::days(2))
                .date()
                .and_hms_opt(9, 0, 0)
                .unwrap_or(now)
                .format("%Y-%m-%dT%H:%M")
                .to_string(),
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

#[derive(Deserialize)]
struct BookForm {
    #[serde(default)]
    csrf: String,
    /// One or several instrument ids (comma-separated for a combined booking).
    instruments: String,
    start: String,
    minutes: i64,
    #[serde(default)]
    self_operated: Option<String>,
    #[serde(default)]
    back: String,
}

async fn book_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<BookForm>,
) -> Response {
    let r: WebResult<Vec<BookingRecord>> = async {
        auth.require_user()?;
        auth.check_csrf(Some(&f.csrf))?;
        let mut parts = Vec::new();
        for id in f.instruments.split(',').filter(|s| !s.trim().is_empty()) {
            let instrument_id = id
                .trim()
                .parse()
                .map_err(|_| WebError::field("instruments", "仪器编号无效 (bad instrument id)"))?;
            parts.push(to_part(&PartInput {
                instrument_id,
                start: f.start.clone(),
                end: None,
                minutes: Some(f.minutes),
                self_operated: f.self_operated.is_some(),
                accessories: vec![],
            })?);
        }
        do_book(&state, &auth, parts).await
    }
    .await;
    match r {
        Ok(made) => back(
            "/labs/my",
            &format!(
                "{} #{}",
                auth.tr.t("预约成功", "Booked"),
                made.iter()
                    .map(|b| b.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", #")
            ),
        ),
        Err(WebError::Unauthenticated) => {
            page_error(WebError::Unauthenticated, &auth, &state, &uri)
        }
        Err(e) => back(&safe_back(&f.back, "/labs"), &e.message()),
    }
}

#[derive(Deserialize)]
struct WaitForm {
    #[serde(default)]
    csrf: String,
    instrument_id: i64,
    start: String,
    minutes: i64,
}

async fn waitlist_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<WaitForm>,
) -> Response {
    let r: WebResult<i64> = async {
        auth.check_csrf(Some(&f.csrf))?;
        let (eid, _) = my_enterprise(&state, &auth).await?;
        let range = super::parse_range(&f.start, None, Some(f.minutes))?;
        state
            .store
            .join_waitlist(
                auth.actor(),
                eid,
                f.instrument_id,
                range,
                false,
                china_now(),
            )
            .await
            .map_err(labs_err)
    }
    .await;
    match r {
        Ok(_) => back("/labs/my", auth.tr.t("已加入候补", "Joined the waitlist")),
        Err(WebError::Unauthenticated) => {
            page_error(WebError::Unauthenticated, &auth, &state, &uri)
        }
        Err(e) => back(
            &format!("/labs/instruments/{}", f.instrument_id),
            &e.message(),
        ),
    }
}

// ---------------------------------------------------------------- enterprise

struct BookingRow {
    id: i64,
    instrument: String,
    when: String,
    state: String,
    price: String,
    fee: String,
    can_cancel: bool,
    held: bool,
}

fn booking_row(b: &BookingRecord) -> BookingRow {
    BookingRow {
        id: b.id,
        instrument: b.instrument_name.clone(),
        when: format!("{} – {}", fmt_dt(b.starts_at), b.ends_at.format("%H:%M")),
        state: format!("{} ({})", b.state.name_zh(), b.state.name()),
        price: money(b.price),
        fee: if b.fee > Yuan::ZERO {
            money(b.fee)
        } else {
            String::new()
        },
        can_cancel: matches!(
            b.state,
            BookingState::Requested | BookingState::PendingApproval | BookingState::Confirmed
        ),
        held: b.state == BookingState::Held,
    }
}

struct OrderRow {
    id: i64,
    item: String,
    enterprise: String,
    samples: i64,
    state: String,
    state_code: String,
    quoted: String,
    report: String,
    results: String,
}

fn order_row(o: &OrderRecord) -> OrderRow {
    let report = match &o.state {
        OrderState::ReportIssued { report, .. }
        | OrderState::ReportRevoked { report, .. }
        | OrderState::ReportReplaced { report, .. } => report.to_string(),
        OrderState::Retest { previous, .. } => previous.to_string(),
        _ => String::new(),
    };
    OrderRow {
        id: o.id,
        item: o.item.clone(),
        enterprise: o.enterprise_name.clone(),
        samples: o.samples,
        state: format!("{} ({})", o.state.name_zh(), o.state.name()),
        state_code: o.state.name().to_string(),
        quoted: o.quoted.map(money).unwrap_or_default(),
        report,
        results: o
            .results
            .as_ref()
            .map(|r| {
                format!(
                    "{}{}",
                    if r.passed { "合格" } else { "不合格" },
                    if r.failed_items.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", r.failed_items.join("、"))
                    }
                )
            })
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "labs/my.html")]
struct MyPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    uscc: String,
    bookings: Vec<BookingRow>,
    orders: Vec<OrderRow>,
    waitlist: Vec<(String, String, String)>,
    savings: Vec<(String, String, String, String, String)>,
    total_saving: String,
}

async fn my_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<MsgQuery>,
) -> Response {
    let r: WebResult<MyPage> = async {
        let (eid, uscc) = my_enterprise(&state, &auth).await?;
        let bookings = state.store.bookings_of_enterprise(eid).await?;
        let orders = state.store.orders_of_enterprise(eid).await?;
        let savings = state.store.savings_of(eid, crate::today()).await?;
        let total: i64 = savings.iter().map(|s| s.savings.saving.fen()).sum();
        Ok(MyPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            msg: q.msg.clone(),
            uscc: uscc.to_string(),
            bookings: bookings.iter().map(booking_row).collect(),
            orders: orders.iter().map(order_row).collect(),
            waitlist: state
                .store
                .waitlist_of_enterprise(eid)
                .await?
                .iter()
                .map(|w| {
                    (
                        format!("#{}", w.instrument_id),
                        format!("{} – {}", fmt_dt(w.starts_at), w.ends_at.format("%H:%M")),
                        w.state.clone(),
                    )
                })
                .collect(),
            savings: savings
                .iter()
                .map(|s| {
                    (
                        s.instrument_name.clone(),
                        format!("{:.1}", s.hours),
                        money(s.savings.shared_spend),
                        money(s.savings.annual_ownership_cost),
                        money(s.savings.saving),
                    )
                })
                .collect(),
            total_saving: money(Yuan::from_fen(total)),
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
    #[serde(default)]
    back: String,
}

async fn booking_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<ActionForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        do_booking_action(&state, &auth, id, &action).await
    }
    .await;
    let dest = safe_back(&f.back, "/labs/my");
    match r {
        Ok(b) => back(&dest, &format!("#{}: {}", b.id, b.state.name_zh())),
        Err(WebError::Unauthenticated) => {
            page_error(WebError::Unauthenticated, &auth, &state, &uri)
        }
        Err(e) => back(&dest, &e.message()),
    }
}

#[derive(Deserialize)]
struct OrderCreateForm {
    #[serde(default)]
    csrf: String,
    service_id: i64,
    samples: i64,
    #[serde(default)]
    note: String,
}

async fn order_create_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<OrderCreateForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        let (eid, _) = my_enterprise(&state, &auth).await?;
        state
            .store
            .create_order(auth.actor(), eid, f.service_id, f.samples, &f.note)
            .await
            .map_err(labs_err)
    }
    .await;
    match r {
        Ok(o) => back(
            "/labs/my",
            &format!("{} #{}", auth.tr.t("已委托", "Order placed"), o.id),
        ),
        Err(WebError::Unauthenticated) => {
            page_error(WebError::Unauthenticated, &auth, &state, &uri)
        }
        Err(e) => back("/labs", &e.message()),
    }
}

#[derive(Deserialize)]
struct OrderForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    passed: String,
    #[serde(default)]
    failed_items: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    back: String,
}

async fn order_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<OrderForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        let action = match f.action.as_str() {
            "quote" => OrderAction::Quote {
                amount: Yuan::parse(&f.amount).map_err(|e| WebError::field("amount", e.reason))?,
            },
            "accept" => OrderAction::Accept,
            "decline" => OrderAction::Decline,
            "cancel" => OrderAction::Cancel,
            "receive_sample" => OrderAction::ReceiveSample,
            "start_testing" => OrderAction::StartTesting,
            "record_results" => OrderAction::RecordResults {
                results: TestResults {
                    passed: f.passed == "1",
                    failed_items: f
                        .failed_items
                        .split([',', '，', '、'])
                        .map(|s| s.trim().chars().take(100).collect::<String>())
                        .filter(|s| !s.is_empty())
                        .take(50)
                        .collect(),
                    summary: f.summary.chars().take(1000).collect(),
                },
            },
            "verify" => OrderAction::Verify,
            "return_for_rework" => OrderAction::ReturnForRework,
            "issue_report" => OrderAction::IssueReport,
            "request_retest" => OrderAction::RequestRetest,
            "revoke_report" => OrderAction::RevokeReport {
                reason: f.reason.clone(),
            },
            other => return Err(WebError::BadRequest(format!("unknown action {other}"))),
        };
        do_order_action(&state, &auth, id, action).await
    }
    .await;
    let dest = safe_back(&f.back, "/labs/my");
    match r {
        Ok(o) => back(&dest, &format!("#{}: {}", o.id, o.state.name_zh())),
        Err(WebError::Unauthenticated) => {
            page_error(WebError::Unauthenticated, &auth, &state, &uri)
        }
        Err(e) => back(&dest, &e.message()),
    }
}

// ---------------------------------------------------------------- lab console

struct CalendarDay {
    day: String,
    bookings: Vec<CalendarRow>,
}

struct CalendarRow {
    id: i64,
    instrument: String,
    when: String,
    who: String,
    state: String,
    pending: bool,
    confirmed: bool,
    checked_in: bool,
}

#[derive(Template)]
#[template(path = "labs/lab.html")]
struct LabPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    lab: String,
    days: Vec<CalendarDay>,
    /// Each order with whether the current user is its tester.
    orders: Vec<(OrderRow, bool)>,
    instruments: Vec<(i64, String, String)>,
}

async fn lab_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<MsgQuery>,
) -> Response {
    let r: WebResult<LabPage> = async {
        let lab_id = staff_lab(&state, &auth).await?;
        let me = auth.require_user()?.id;
        let lab = state.store.lab(lab_id).await?;
        let from = crate::today().and_hms_opt(0, 0, 0).unwrap_or_default();
        let to = from + chrono::Duration::days(14);
        let mut days: Vec<CalendarDay> = Vec::new();
        for b in state.store.bookings_of_lab(lab_id, from, to).await? {
            let day = b.starts_at.format("%Y-%m-%d %a").to_string();
            let row = CalendarRow {
                id: b.id,
                instrument: b.instrument_name.clone(),
                when: format!(
                    "{}–{}",
                    b.starts_at.format("%H:%M"),
                    b.ends_at.format("%H:%M")
                ),
                who: b
                    .enterprise_uscc
                    .clone()
                    .unwrap_or_else(|| auth.tr.t("内部使用", "internal use").into()),
                state: format!("{} ({})", b.state.name_zh(), b.state.name()),
                pending: b.state == BookingState::PendingApproval,
                confirmed: b.state == BookingState::Confirmed,
                checked_in: b.state == BookingState::CheckedIn,
            };
            match days.last_mut() {
                Some(d) if d.day == day => d.bookings.push(row),
                _ => days.push(CalendarDay {
                    day,
                    bookings: vec![row],
                }),
            }
        }
        let orders = state
            .store
            .orders_of_lab(lab_id)
            .await?
            .iter()
            .map(|o| (order_row(o), o.tester_id == Some(me)))
            .collect();
        let instruments = state
            .store
            .instruments_of_lab(lab_id)
            .await?
            .iter()
            .map(|i| (i.id, i.instrument.name.clone(), i.instrument.model.clone()))
            .collect();
        Ok(LabPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            msg: q.msg.clone(),
            lab: lab.lab.name,
            days,
            orders,
            instruments,
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

// ---------------------------------------------------------------- regulator dashboard

struct Bar {
    label: String,
    y: i64,
    width: i64,
    width2: i64,
    value: String,
}

#[derive(Template)]
#[template(path = "labs/dashboard.html")]
struct DashboardPage {
    tr: Tr,
    c: Chrome,
    year: i32,
    instruments: usize,
    used_hours: String,
    outside_hours: String,
    utilisation: String,
    sharing: String,
    bars: Vec<Bar>,
    lab_bars: Vec<Bar>,
    chart_height: i64,
    lab_chart_height: i64,
    rows: Vec<(String, String, String, String, String, String)>,
}

fn pct(bp: i64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

#[derive(Deserialize, Default)]
struct YearQ {
    #[serde(default)]
    year: Option<i32>,
}

async fn dashboard(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<YearQ>,
) -> Response {
    let r: WebResult<DashboardPage> = async {
        auth.require_role(&[Role::Regulator])?;
        let year = q
            .year
            .filter(|y| (2000..=2100).contains(y))
            .unwrap_or_else(|| chrono::Datelike::year(&crate::today()));
        let mut list = state.store.utilisation_of(year, None).await?;
        let (mut avail, mut used, mut outside) = (0i64, 0i64, 0i64);
        let mut per_lab: std::collections::BTreeMap<String, (i64, i64, i64)> = Default::default();
        for u in &list {
            avail += u.utilisation.available_minutes;
            used += u.utilisation.used_minutes;
            outside += u.utilisation.outside_minutes;
            let e = per_lab.entry(u.lab_name.clone()).or_default();
            e.0 += u.utilisation.available_minutes;
            e.1 += u.utilisation.used_minutes;
            e.2 += u.utilisation.outside_minutes;
        }
        let bp = |a: i64, b: i64| if b > 0 { a * 10_000 / b } else { 0 };
        list.sort_by_key(|u| std::cmp::Reverse(u.utilisation.used_minutes));
        let bars: Vec<Bar> = list
            .iter()
            .take(15)
            .enumerate()
            .map(|(i, u)| Bar {
                label: u.instrument_name.chars().take(14).collect(),
                y: i as i64 * 22,
                width: (u.utilisation.utilisation_bp * 300 / 10_000).clamp(0, 300),
                width2: (u.utilisation.sharing_rate_bp * 300 / 10_000).clamp(0, 300),
                value: format!(
                    "{} / {}",
                    pct(u.utilisation.utilisation_bp),
                    pct(u.utilisation.sharing_rate_bp)
                ),
            })
            .collect();
        let lab_bars: Vec<Bar> = per_lab
            .iter()
            .enumerate()
            .map(|(i, (name, (a, u, o)))| Bar {
                label: name.chars().take(14).collect(),
                y: i as i64 * 22,
                width: (bp(*u, *a) * 300 / 10_000).clamp(0, 300),
                width2: (bp(*o, *u) * 300 / 10_000).clamp(0, 300),
                value: format!("{:.0} h", *u as f64 / 60.0),
            })
            .collect();
        Ok(DashboardPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            year,
            instruments: list.len(),
            used_hours: format!("{:.1}", used as f64 / 60.0),
            outside_hours: format!("{:.1}", outside as f64 / 60.0),
            utilisation: pct(bp(used, avail)),
            sharing: pct(bp(outside, used)),
            chart_height: bars.len() as i64 * 22 + 10,
            lab_chart_height: lab_bars.len() as i64 * 22 + 10,
            bars,
            lab_bars,
            rows: list
                .iter()
                .take(200)
                .map(|u| {
                    (
                        u.instrument_name.clone(),
                        u.lab_name.clone(),
                        format!("{:.1}", u.utilisation.available_minutes as f64 / 60.0),
                        format!("{:.1}", u.utilisation.used_minutes as f64 / 60.0),
                        pct(u.utilisation.utilisation_bp),
                        pct(u.utilisation.sharing_rate_bp),
                    )
                })
                .collect(),
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

// ---------------------------------------------------------------- report verification

#[derive(Template)]
#[template(path = "labs/report.html")]
struct ReportPage {
    tr: Tr,
    c: Chrome,
    number: String,
    status: String,
    status_class: String,
    lab: String,
    enterprise: String,
    item: String,
    issued_on: String,
    result: String,
    qr: String,
}

async fn report_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(number): Path<String>,
) -> Response {
    let r: WebResult<ReportPage> = async {
        let n = yuepin_labs::ReportNumber::parse(&number)
            .map_err(|_| WebError::NotFound(format!("报告 {number} 不存在 (no such report)")))?;
        let rep = state.store.report(&n.to_string()).await?;
        let url = format!("{}/labs/reports/{}", state.config.public_url, rep.number);
        let qr = yuepin_code::qr::qr_svg(&url, 4).unwrap_or_default();
        let qr = match qr.find("<svg") {
            Some(i) => qr[i..].to_string(),
            None => String::new(),
        };
        Ok(ReportPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            number: rep.number.clone(),
            status: format!("{} ({})", rep.status.describe_zh(), rep.status.name()),
            status_class: match rep.status {
                ReportStatus::Valid => "ok".into(),
                _ => "bad".into(),
            },
            lab: rep.lab_name,
            enterprise: rep.enterprise_name,
            item: rep.item,
            issued_on: rep.issued_on,
            result: if rep.results.passed {
                auth.tr.t("合格", "Pass").into()
            } else {
                format!(
                    "{}: {}",
                    auth.tr.t("不合格", "Fail"),
                    rep.results.failed_items.join("、")
                )
            },
            qr,
        })
    }
    .await;
    match r {
        Ok(p) => render(&p, &auth, &uri),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}
