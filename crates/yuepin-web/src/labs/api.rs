//! The labs JSON API under `/api/v1/labs` and the two ICS feeds under `/labs`: request
//! parsing, one service call, the response shape. Who may do what is the service's decision.

use super::input::{
    build_instrument, build_lab, build_service, city, lab_field, parse_range, slot_query, to_part,
    AvailabilityQuery, InstrumentInput, LabInput, PartInput, ServiceInput,
};
use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use yuepin_domain::{Denied, Uscc};
use yuepin_labs::{HeldQualification, Qualification, TestItem};
use yuepin_labs_service::{BookingAction, FeedTarget, LabsError, OrderAction};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/labs", get(list_labs).post(create_lab))
        .route("/api/v1/labs/one-stop", get(one_stop))
        .route("/api/v1/labs/availability", get(availability))
        .route("/api/v1/labs/instruments", get(list_instruments))
        .route("/api/v1/labs/instruments/{id}", get(get_instrument))
        .route(
            "/api/v1/labs/instruments/{id}/blackouts",
            post(create_blackout),
        )
        .route("/api/v1/labs/services", get(list_services))
        .route("/api/v1/labs/qualifications", post(grant_qualification))
        .route(
            "/api/v1/labs/bookings",
            get(my_bookings).post(create_booking),
        )
        .route("/api/v1/labs/bookings/{id}", get(get_booking))
        .route("/api/v1/labs/bookings/{id}/invoice", get(booking_invoice))
        .route("/api/v1/labs/bookings/{id}/{action}", post(booking_action))
        .route(
            "/api/v1/labs/waitlist",
            get(my_waitlist).post(join_waitlist),
        )
        .route("/api/v1/labs/orders", get(my_orders).post(create_order))
        .route("/api/v1/labs/orders/{id}", get(get_order))
        .route("/api/v1/labs/orders/{id}/invoice", get(order_invoice))
        .route("/api/v1/labs/orders/{id}/actions", post(order_action))
        .route("/api/v1/labs/reports/{number}", get(verify_report))
        .route("/api/v1/labs/savings", get(savings))
        .route("/api/v1/labs/utilisation", get(utilisation))
        .route("/api/v1/labs/feeds", post(create_feed))
        .route("/api/v1/labs/sweep", post(sweep))
        .route("/api/v1/labs/{id}", get(get_lab))
        .route("/api/v1/labs/{id}/staff", post(bind_staff))
        .route("/api/v1/labs/{id}/instruments", post(create_instrument))
        .route("/api/v1/labs/{id}/services", post(create_service))
        .route("/api/v1/labs/{id}/bookings", get(lab_bookings))
        .route("/api/v1/labs/{id}/orders", get(lab_orders))
        .route(
            "/labs/instruments/{id}/calendar.ics",
            get(instrument_calendar),
        )
        .route(
            "/labs/enterprises/{uscc}/calendar.ics",
            get(enterprise_calendar),
        )
}

fn created(v: Value) -> Response {
    (StatusCode::CREATED, Json(v)).into_response()
}

/// A booking action named in the path ("cancel", "check_in", …).
pub(super) fn booking_action_named(action: &str) -> WebResult<BookingAction> {
    BookingAction::parse(action)
        .ok_or_else(|| WebError::NotFound(format!("未知操作 {action} (no such action)")))
}

// ---------------------------------------------------------------- catalogue

async fn list_labs(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let labs = state.modules.labs.labs(&auth.caller()).await?;
    Ok(Json(json!({"labs": labs})))
}

async fn get_lab(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let d = state.modules.labs.lab_detail(&auth.caller(), id).await?;
    Ok(Json(json!(d)))
}

async fn create_lab(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<LabInput>,
) -> WebResult<Response> {
    let caller = auth.caller();
    // Refused before the body is looked at (the service checks again when creating).
    caller.require_administrator()?;
    let (code, lab) = build_lab(&input)?;
    let lab = state.modules.labs.create_lab(&caller, &code, &lab).await?;
    Ok(created(json!(lab)))
}

#[derive(Deserialize)]
struct StaffInput {
    username: String,
}

async fn bind_staff(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<StaffInput>,
) -> WebResult<Json<Value>> {
    let b = state
        .modules
        .labs
        .bind_staff(&auth.caller(), id, input.username.trim())
        .await?;
    Ok(Json(json!(b)))
}

async fn create_instrument(
    State(state): State<AppState>,
    auth: Auth,
    Path(lab_id): Path<i64>,
    ApiJson(input): ApiJson<InstrumentInput>,
) -> WebResult<Response> {
    let caller = auth.caller();
    let labs = &state.modules.labs;
    let lab = labs.lab_for_management(&caller, lab_id).await?;
    let inst = build_instrument(&lab.lab, &input)?;
    let rec = labs
        .save_instrument(&caller, lab_id, input.id, &inst, input.requires_approval)
        .await?;
    Ok(created(json!(rec)))
}

async fn create_service(
    State(state): State<AppState>,
    auth: Auth,
    Path(lab_id): Path<i64>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> WebResult<Response> {
    let caller = auth.caller();
    let labs = &state.modules.labs;
    let lab = labs.lab_for_management(&caller, lab_id).await?;
    let id = input.id;
    let svc = build_service(&lab.lab, input)?;
    let rec = labs.save_service(&caller, lab_id, id, &svc).await?;
    Ok(created(json!(rec)))
}

#[derive(Deserialize)]
struct FindQuery {
    #[serde(default)]
    item: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    lab: Option<i64>,
}

async fn list_instruments(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FindQuery>,
) -> WebResult<Json<Value>> {
    let item = if q.item.trim().is_empty() {
        None
    } else {
        Some(lab_field(TestItem::parse(&q.item))?)
    };
    let list = state
        .modules
        .labs
        .find_instruments(&auth.caller(), item.as_ref(), city(&q.city)?.as_ref(), 200)
        .await?;
    Ok(Json(json!({"instruments": list})))
}

async fn get_instrument(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let caller = auth.caller();
    let inst = state.modules.labs.instrument(&caller, id).await?;
    let blackouts = state.modules.labs.blackouts_of(&caller, id).await?;
    Ok(Json(json!({"instrument": inst, "blackouts": blackouts})))
}

async fn list_services(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FindQuery>,
) -> WebResult<Json<Value>> {
    let services = state.modules.labs.services(&auth.caller(), q.lab).await?;
    Ok(Json(json!({"services": services})))
}

async fn one_stop(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FindQuery>,
) -> WebResult<Json<Value>> {
    let city = city(&q.city)?;
    let view = state
        .modules
        .labs
        .one_stop(&auth.caller(), city.as_ref())
        .await?;
    let areas: Vec<Value> = view
        .areas
        .iter()
        .map(|(area, list)| json!({"area": area, "name_zh": area.name_zh(), "services": list}))
        .collect();
    Ok(Json(json!({"areas": areas})))
}

async fn availability(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AvailabilityQuery>,
) -> WebResult<Json<Value>> {
    let (items, sq) = slot_query(&q)?;
    let caller = auth.caller();
    if items.len() > 1 {
        let combined = state
            .modules
            .labs
            .search_combined_slots(&caller, &items, &sq)
            .await?;
        return Ok(Json(json!({"combined": combined})));
    }
    let hits = state.modules.labs.search_slots(&caller, &sq).await?;
    let slots: Vec<Value> = hits
        .iter()
        .map(|h| {
            json!({
                "instrument_id": h.instrument.id, "instrument": h.instrument.instrument.name,
                "model": h.instrument.instrument.model, "lab_id": h.instrument.lab_id, "lab": h.lab_name,
                "city": h.instrument.instrument.city.city().name_zh,
                "free": h.slot.free, "earliest": h.slot.earliest,
                "price": h.quote.as_ref().map(|q| q.total),
                "requires_approval": h.instrument.requires_approval,
                "operator_qualification": h.instrument.instrument.operator_qualification,
            })
        })
        .collect();
    Ok(Json(json!({"slots": slots})))
}

#[derive(Deserialize)]
struct BlackoutInput {
    start: String,
    end: String,
    reason: String,
}

async fn create_blackout(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<BlackoutInput>,
) -> WebResult<Response> {
    let caller = auth.caller();
    let labs = &state.modules.labs;
    // Who may is decided before the body is looked at, as for every lab management call.
    labs.instrument_for_management(&caller, id).await?;
    let range = parse_range(&input.start, Some(&input.end), None)?;
    let bid = labs.add_blackout(&caller, id, range, &input.reason).await?;
    Ok(created(json!({"id": bid})))
}

#[derive(Deserialize)]
struct QualificationInput {
    uscc: String,
    qualification: String,
    valid_until: String,
}

async fn grant_qualification(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<QualificationInput>,
) -> WebResult<Json<Value>> {
    let caller = auth.caller();
    // Refused before the body is looked at (the service checks again when granting).
    state.modules.labs.require_granter(&caller).await?;
    let uscc = Uscc::parse(&input.uscc)?;
    let held = HeldQualification {
        qualification: lab_field(Qualification::parse(&input.qualification))?,
        valid_until: yuepin_domain::parse_date("valid_until", &input.valid_until)?,
    };
    let g = state
        .modules
        .labs
        .grant_qualification(&caller, &uscc, &held)
        .await?;
    Ok(Json(json!(g)))
}

// ---------------------------------------------------------------- bookings

#[derive(Deserialize)]
struct BookingInput {
    parts: Vec<PartInput>,
}

async fn create_booking(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<BookingInput>,
) -> WebResult<Response> {
    auth.require_user()?;
    let parts = input
        .parts
        .iter()
        .map(to_part)
        .collect::<WebResult<Vec<_>>>()?;
    let made = state.modules.labs.book(&auth.caller(), &parts).await?;
    Ok(created(json!({"bookings": made})))
}

async fn my_bookings(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let list = state.modules.labs.my_bookings(&auth.caller()).await?;
    Ok(Json(json!({"bookings": list})))
}

async fn get_booking(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let b = state.modules.labs.booking(&auth.caller(), id).await?;
    Ok(Json(json!(b)))
}

async fn booking_invoice(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let inv = state
        .modules
        .labs
        .booking_invoice(&auth.caller(), id)
        .await?;
    Ok(Json(json!({"booking_id": inv.id, "invoice": inv.invoice})))
}

async fn booking_action(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, action)): Path<(i64, String)>,
) -> WebResult<Json<Value>> {
    let action = booking_action_named(&action)?;
    let b = state
        .modules
        .labs
        .booking_action(&auth.caller(), id, action)
        .await?;
    Ok(Json(json!(b)))
}

#[derive(Deserialize)]
struct WaitInput {
    instrument_id: i64,
    start: String,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    minutes: Option<i64>,
    #[serde(default)]
    self_operated: bool,
}

async fn join_waitlist(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<WaitInput>,
) -> WebResult<Response> {
    auth.require_user()?;
    let range = parse_range(&input.start, input.end.as_deref(), input.minutes)?;
    let id = state
        .modules
        .labs
        .join_waitlist(
            &auth.caller(),
            input.instrument_id,
            range,
            input.self_operated,
        )
        .await?;
    Ok(created(json!({"id": id})))
}

async fn my_waitlist(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let list = state.modules.labs.my_waitlist(&auth.caller()).await?;
    Ok(Json(json!({"waitlist": list})))
}

#[derive(Deserialize)]
struct CalendarQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    days: Option<i64>,
}

async fn lab_bookings(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<CalendarQuery>,
) -> WebResult<Json<Value>> {
    let from = if q.from.trim().is_empty() {
        crate::today()
    } else {
        yuepin_domain::parse_date("from", &q.from)?
    };
    let list = state
        .modules
        .labs
        .bookings_of_lab(&auth.caller(), id, from, q.days.unwrap_or(14))
        .await?;
    Ok(Json(json!({"bookings": list})))
}

// ---------------------------------------------------------------- orders and reports

#[derive(Deserialize)]
struct OrderInput {
    service_id: i64,
    samples: i64,
    #[serde(default)]
    note: String,
}

async fn create_order(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<OrderInput>,
) -> WebResult<Response> {
    let o = state
        .modules
        .labs
        .create_order(&auth.caller(), input.service_id, input.samples, &input.note)
        .await?;
    Ok(created(json!(o)))
}

async fn my_orders(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let orders = state.modules.labs.my_orders(&auth.caller()).await?;
    Ok(Json(json!({"orders": orders})))
}

async fn lab_orders(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let orders = state.modules.labs.orders_of_lab(&auth.caller(), id).await?;
    Ok(Json(json!({"orders": orders})))
}

async fn get_order(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let d = state.modules.labs.order_detail(&auth.caller(), id).await?;
    Ok(Json(json!(d)))
}

async fn order_invoice(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let inv = state.modules.labs.order_invoice(&auth.caller(), id).await?;
    Ok(Json(json!({"order_id": inv.id, "invoice": inv.invoice})))
}

async fn order_action(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(action): ApiJson<OrderAction>,
) -> WebResult<Json<Value>> {
    let d = state
        .modules
        .labs
        .order_action(&auth.caller(), id, action)
        .await?;
    Ok(Json(json!(d)))
}

/// Public: what the QR on a report opens.
async fn verify_report(
    State(state): State<AppState>,
    auth: Auth,
    Path(number): Path<String>,
) -> WebResult<Json<Value>> {
    let n = yuepin_labs::ReportNumber::parse(&number)
        .map_err(|e| WebError::field("number", e.reason))?;
    let r = state.modules.labs.report(&auth.caller(), &n).await?;
    Ok(Json(json!({
        "number": r.number, "status": r.status, "status_zh": r.status.describe_zh(),
        "lab": r.lab_name, "enterprise": r.enterprise_name, "item": r.item,
        "issued_on": r.issued_on, "round": r.round, "passed": r.results.passed,
    })))
}

// ---------------------------------------------------------------- costs, utilisation, feeds

#[derive(Deserialize)]
struct SavingsQuery {
    #[serde(default)]
    uscc: String,
}

async fn savings(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SavingsQuery>,
) -> WebResult<Json<Value>> {
    let uscc = if q.uscc.trim().is_empty() {
        None
    } else {
        Some(Uscc::parse(&q.uscc)?)
    };
    let report = state
        .modules
        .labs
        .savings(&auth.caller(), uscc.as_ref())
        .await?;
    Ok(Json(json!(report)))
}

#[derive(Deserialize)]
struct YearQuery {
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    lab: Option<i64>,
}

async fn utilisation(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<YearQuery>,
) -> WebResult<Json<Value>> {
    let caller = auth.caller();
    // Refused before the year is looked at (the service decides which labs the caller sees).
    caller.require_role(&[yuepin_domain::Role::Regulator, yuepin_domain::Role::Lab])?;
    let year = q
        .year
        .unwrap_or_else(|| chrono::Datelike::year(&crate::today()));
    if !(2000..=2100).contains(&year) {
        return Err(WebError::field("year", "2000–2100"));
    }
    let list = state.modules.labs.utilisation(&caller, year, q.lab).await?;
    Ok(Json(json!({"year": year, "instruments": list})))
}

#[derive(Deserialize)]
struct FeedInput {
    kind: String,
    #[serde(default)]
    id: Option<i64>,
}

async fn create_feed(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<FeedInput>,
) -> WebResult<Response> {
    let caller = auth.caller();
    let labs = &state.modules.labs;
    let grant = match yuepin_labs_service::FeedKind::parse(&input.kind) {
        Some(yuepin_labs_service::FeedKind::Instrument) => {
            let id = input
                .id
                .ok_or_else(|| WebError::field("id", "需要仪器编号 (instrument id)"))?;
            labs.create_instrument_feed(&caller, id).await?
        }
        Some(yuepin_labs_service::FeedKind::Enterprise) => {
            labs.create_enterprise_feed(&caller).await?
        }
        None => return Err(WebError::field("kind", "instrument 或 enterprise")),
    };
    let path = match &grant.target {
        FeedTarget::Instrument(id) => format!("/labs/instruments/{id}/calendar.ics"),
        FeedTarget::Enterprise(uscc) => format!("/labs/enterprises/{uscc}/calendar.ics"),
    };
    let path = format!("{path}?token={}", grant.token);
    Ok(created(
        json!({"url": format!("{}{path}", state.config.public_url), "path": path}),
    ))
}

async fn sweep(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let s = state.modules.labs.sweep(&auth.caller()).await?;
    Ok(Json(json!(s)))
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn ics(body: String) -> Response {
    (
        [
            ("content-type", "text/calendar; charset=utf-8"),
            ("cache-control", "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// An instrument's feed: any signed-in user (it names no enterprise) or a feed token.
async fn instrument_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<TokenQuery>,
) -> WebResult<Response> {
    let body = state
        .modules
        .labs
        .instrument_calendar(&auth.caller(), id, &q.token)
        .await?;
    Ok(ics(body))
}

/// An enterprise's feed: its own users, the regulator, or a feed token.
async fn enterprise_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    Query(q): Query<TokenQuery>,
) -> WebResult<Response> {
    let uscc = Uscc::parse(&uscc)?;
    let body = state
        .modules
        .labs
        .enterprise_calendar(&auth.caller(), &uscc, &q.token)
        .await
        .map_err(|e| match e {
            LabsError::Denied(Denied::OtherEnterprise) => {
                WebError::Forbidden("无权访问该日历 (not your calendar)".into())
            }
            e => e.into(),
        })?;
    Ok(ics(body))
}
