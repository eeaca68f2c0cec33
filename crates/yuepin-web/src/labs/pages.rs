//! Pages of the labs module: the one-stop catalogue and availability search (public), an
//! instrument's page with prices and the booking form, the enterprise's bookings and orders,
//! the lab console (calendar, approvals, order queue, verification, report issue), the
//! regulator's utilisation dashboard with server-drawn SVG charts, and the public report
//! verification page with its QR code. Forms post back with the session's CSRF token and
//! redirect with a banner key (`crate::flash`); a refused form answers the error page.

use super::api::booking_action_named;
use super::input::{parse_range, slot_query, to_part, AvailabilityQuery, PartInput};
use super::views::{
    fmt_dt, form_dt, DashboardPage, IndexPage, InstrumentPage, LabPage, MyPage, ReportPage,
    SearchPage, SlotRow,
};
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::flash::{self, Flash, FlashQuery};
use crate::form::PageForm;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use yuepin_domain::{Role, Yuan};
use yuepin_labs_service::{OrderAction, TestResults};

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

/// Where a form may send the browser back to: only our own labs pages, as local paths
/// (`crate::redirect`: no control characters, so no header can fail to build).
fn safe_back(s: &str, default: &str) -> String {
    crate::redirect::local_under(s, "/labs", default)
}

/// A page, or the error page (the sign-in redirect when signed out).
fn page(r: WebResult<impl Template>, auth: &Auth, state: &AppState, uri: &Uri) -> Response {
    match r {
        Ok(p) => render(&p, auth, uri),
        Err(e) => page_error(e, auth, state, uri),
    }
}

/// After a form: back to the page it names with the outcome's banner key and record numbers
/// (`crate::flash`), or the error page (the sign-in redirect when signed out).
fn after_form<T>(
    r: WebResult<T>,
    ok: impl FnOnce(T) -> (String, Flash, Vec<i64>),
    auth: &Auth,
    state: &AppState,
    uri: &Uri,
) -> Response {
    match r {
        Ok(v) => {
            let (dest, flash, refs) = ok(v);
            flash::redirect(&dest, flash, &refs)
        }
        Err(e) => page_error(e, auth, state, uri),
    }
}

fn is_enterprise(auth: &Auth) -> bool {
    auth.user
        .as_ref()
        .is_some_and(|u| u.role == Role::Enterprise)
}

// ---------------------------------------------------------------- index / search

async fn index(Cx { state, auth }: Cx, uri: Uri, Query(q): Query<FlashQuery>) -> Response {
    let r: WebResult<IndexPage> = async {
        let cat = state.modules.labs.catalogue(&auth.caller()).await?;
        Ok(IndexPage::new(
            auth.tr,
            Chrome::new(&auth, &state),
            q.text(auth.tr),
            cat,
            is_enterprise(&auth),
        ))
    }
    .await;
    page(r, &auth, &state, &uri)
}

async fn search(Cx { state, auth }: Cx, uri: Uri, Query(q): Query<AvailabilityQuery>) -> Response {
    let r: WebResult<SearchPage> = async {
        let (items, sq) = slot_query(&q)?;
        let caller = auth.caller();
        let labs = &state.modules.labs;
        let mut slots = Vec::new();
        let mut combined = Vec::new();
        if items.len() > 1 {
            for c in labs.search_combined_named(&caller, &items, &sq).await? {
                combined.push((
                    fmt_dt(c.range.start()),
                    c.instruments,
                    form_dt(c.range.start()),
                ));
            }
        } else {
            slots = labs
                .search_slots(&caller, &sq)
                .await?
                .iter()
                .map(SlotRow::from)
                .collect();
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
            is_enterprise: is_enterprise(&auth),
        })
    }
    .await;
    page(r, &auth, &state, &uri)
}

// ---------------------------------------------------------------- instrument

async fn instrument_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Response {
    let r: WebResult<InstrumentPage> = async {
        let d = state
            .modules
            .labs
            .instrument_detail(&auth.caller(), id)
            .await?;
        Ok(InstrumentPage::new(
            auth.tr,
            Chrome::new(&auth, &state),
            q.text(auth.tr),
            d,
            is_enterprise(&auth),
        ))
    }
    .await;
    page(r, &auth, &state, &uri)
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
}

async fn book_form(Cx { state, auth }: Cx, uri: Uri, PageForm(f): PageForm<BookForm>) -> Response {
    let r = async {
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
        Ok(state.modules.labs.book(&auth.caller(), &parts).await?)
    }
    .await;
    let ok = |made: Vec<yuepin_labs_service::BookingRecord>| {
        let ids = made.iter().map(|b| b.id).collect();
        ("/labs/my".to_string(), Flash::Booked, ids)
    };
    after_form(r, ok, &auth, &state, &uri)
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
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<WaitForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        auth.require_user()?;
        let range = parse_range(&f.start, None, Some(f.minutes))?;
        Ok(state
            .modules
            .labs
            .join_waitlist(&auth.caller(), f.instrument_id, range, false)
            .await?)
    }
    .await;
    let ok = |_: i64| ("/labs/my".to_string(), Flash::Waitlisted, vec![]);
    after_form(r, ok, &auth, &state, &uri)
}

// ---------------------------------------------------------------- enterprise

async fn my_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<FlashQuery>,
    Query(p): Query<crate::page::PageQuery>,
) -> Response {
    let r: WebResult<MyPage> = async {
        let e = state.modules.labs.enterprise_labs(&auth.caller()).await?;
        Ok(MyPage::new(
            auth.tr,
            Chrome::new(&auth, &state),
            q.text(auth.tr),
            e,
            p.page.unwrap_or(1),
        ))
    }
    .await;
    page(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

async fn booking_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path((id, action)): Path<(i64, String)>,
    PageForm(f): PageForm<ActionForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        let action = booking_action_named(&action)?;
        Ok(state
            .modules
            .labs
            .booking_action(&auth.caller(), id, action)
            .await?)
    }
    .await;
    let dest = safe_back(&f.back, "/labs/my");
    let ok = |b: yuepin_labs_service::BookingRecord| (dest, Flash::BookingUpdated, vec![b.id]);
    after_form(r, ok, &auth, &state, &uri)
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
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<OrderCreateForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        Ok(state
            .modules
            .labs
            .create_order(&auth.caller(), f.service_id, f.samples, &f.note)
            .await?)
    }
    .await;
    let ok = |o: yuepin_labs_service::OrderRecord| {
        ("/labs/my".to_string(), Flash::OrderPlaced, vec![o.id])
    };
    after_form(r, ok, &auth, &state, &uri)
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

/// The order action a lab console or "my" page form names.
fn order_action_of(f: &OrderForm) -> WebResult<OrderAction> {
    Ok(match f.action.as_str() {
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
    })
}

async fn order_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<OrderForm>,
) -> Response {
    let r = async {
        auth.check_csrf(Some(&f.csrf))?;
        let action = order_action_of(&f)?;
        Ok(state
            .modules
            .labs
            .order_action(&auth.caller(), id, action)
            .await?)
    }
    .await;
    let dest = safe_back(&f.back, "/labs/my");
    let ok = |d: yuepin_labs_service::OrderDetail| (dest, Flash::OrderUpdated, vec![d.order.id]);
    after_form(r, ok, &auth, &state, &uri)
}

// ---------------------------------------------------------------- lab console

async fn lab_page(Cx { state, auth }: Cx, uri: Uri, Query(q): Query<FlashQuery>) -> Response {
    let caller = auth.caller();
    let console = match state.modules.labs.lab_console(&caller).await {
        Err(yuepin_labs_service::LabsError::LabNotBound) => {
            return crate::page::notice(
                &auth,
                &state,
                &uri,
                ("本机构", "My lab"),
                (
                    "您的账户尚未绑定检验检测机构。请联系省市场监管局的平台管理员，将账户绑定到本机构后即可发布仪器、处理预约和出具报告。",
                    "Your account is not bound to a laboratory yet. Ask the platform administrator at the provincial market regulator to bind it; then you can publish instruments, handle bookings and issue reports.",
                ),
            )
        }
        other => other,
    };
    let r: WebResult<LabPage> = async {
        let console = console?;
        Ok(LabPage::new(
            auth.tr,
            Chrome::new(&auth, &state),
            q.text(auth.tr),
            console,
            caller.user_id().unwrap_or_default(),
        ))
    }
    .await;
    page(r, &auth, &state, &uri)
}

// ---------------------------------------------------------------- regulator dashboard

#[derive(Deserialize, Default)]
struct YearQ {
    #[serde(default)]
    year: Option<i32>,
}

async fn dashboard(Cx { state, auth }: Cx, uri: Uri, Query(q): Query<YearQ>) -> Response {
    let r: WebResult<DashboardPage> = async {
        let year = q
            .year
            .filter(|y| (2000..=2100).contains(y))
            .unwrap_or_else(|| chrono::Datelike::year(&crate::today()));
        let d = state.modules.labs.dashboard(&auth.caller(), year).await?;
        Ok(DashboardPage::new(auth.tr, Chrome::new(&auth, &state), d))
    }
    .await;
    page(r, &auth, &state, &uri)
}

// ---------------------------------------------------------------- report verification

#[derive(Deserialize)]
pub(super) struct ReportTokenQ {
    #[serde(default)]
    token: String,
}

/// The public verification link printed on a report: its number and its token.
pub(super) fn report_link(base: &str, number: &str, token: &str) -> String {
    format!("{base}/labs/reports/{number}?token={token}")
}

async fn report_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(number): Path<String>,
    Query(q): Query<ReportTokenQ>,
) -> Response {
    let r: WebResult<ReportPage> = async {
        let n = yuepin_labs::ReportNumber::parse(&number)
            .map_err(|_| WebError::NotFound(format!("报告 {number} 不存在 (no such report)")))?;
        let rep = state
            .modules
            .labs
            .report(&auth.caller(), &n, &q.token)
            .await?;
        let url = report_link(&state.config.public_url, &rep.number, &rep.verify_token);
        let qr = yuepin_code::qr::qr_svg(&url, 4).unwrap_or_default();
        // The page embeds the SVG element itself, without the XML prologue.
        let qr = match qr.find("<svg") {
            Some(i) => qr[i..].to_string(),
            None => String::new(),
        };
        Ok(ReportPage::new(
            auth.tr,
            Chrome::new(&auth, &state),
            rep,
            qr,
        ))
    }
    .await;
    page(r, &auth, &state, &uri)
}
