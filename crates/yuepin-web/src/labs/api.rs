//! The labs JSON API under `/api/v1/labs` and the two ICS feeds under `/labs`: request
//! parsing, one service call, the response shape. Who may do what is the service's decision.

use super::input::{
    build_instrument, build_lab, build_service, city, lab_field, parse_range, slot_query, to_part,
    AvailabilityQuery, InstrumentInput, LabInput, PartInput, ServiceInput,
};
use super::schema::{
    BookingInvoice, BookingsResponse, Created, FeedCreated, InstrumentDetail, InstrumentsResponse,
    LabsResponse, OneStopResponse, OrderInvoice, OrdersResponse, ReportCheck, ServicesResponse,
    SlotsResponse, UtilisationResponse, WaitlistResponse,
};
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::openapi::{E400, E401, E403, E404, E409};
use crate::AppState;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use yuepin_domain::{Denied, Uscc};
use yuepin_labs::{HeldQualification, Qualification, TestItem};
use yuepin_labs_service::{
    BookingAction, BookingRecord, FeedTarget, GrantedQualification, InstrumentRecord, LabDetail,
    LabRecord, LabsError, OrderAction, OrderDetail, SavingsReport, ServiceRecord, StaffBinding,
    SweepSummary,
};

/// The labs capability's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_labs,
    create_lab,
    one_stop,
    availability,
    list_instruments,
    get_instrument,
    create_blackout,
    list_services,
    grant_qualification,
    my_bookings,
    create_booking,
    get_booking,
    booking_invoice,
    booking_action,
    my_waitlist,
    join_waitlist,
    my_orders,
    create_order,
    get_order,
    order_invoice,
    order_action,
    verify_report,
    savings,
    utilisation,
    create_feed,
    sweep,
    get_lab,
    bind_staff,
    create_instrument,
    create_service,
    lab_bookings,
    lab_orders
))]
pub struct ApiDoc;

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

/// The shared laboratories.
#[utoipa::path(
    get, path = "/api/v1/labs", tag = "labs", operation_id = "list_labs",
    responses((status = 200, description = "Labs", body = LabsResponse), E401)
)]
async fn list_labs(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let labs = state.modules.labs.labs(&auth.caller()).await?;
    Ok(Json(json!({"labs": labs})))
}

/// One lab with its instruments, services and staff.
#[utoipa::path(
    get, path = "/api/v1/labs/{id}", tag = "labs", operation_id = "get_lab",
    params(("id" = i64, Path, description = "Lab id")),
    responses((status = 200, description = "The lab", body = LabDetail), E401, E404)
)]
async fn get_lab(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let d = state.modules.labs.lab_detail(&auth.caller(), id).await?;
    Ok(Json(json!(d)))
}

/// Registers a lab (administrators).
#[utoipa::path(
    post, path = "/api/v1/labs", tag = "labs", operation_id = "create_lab",
    request_body = LabInput,
    responses((status = 201, description = "The new lab", body = LabRecord), E400, E401, E403, E409)
)]
async fn create_lab(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<LabInput>,
) -> WebResult<Response> {
    let caller = auth.caller();
    // Refused before the body is looked at (the service checks again when creating).
    caller.require_administrator()?;
    let (code, lab) = build_lab(&input)?;
    let lab = state.modules.labs.create_lab(&caller, &code, &lab).await?;
    Ok(created(json!(lab)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct StaffInput {
    username: String,
}

/// Binds a user account to the lab as staff.
#[utoipa::path(
    post, path = "/api/v1/labs/{id}/staff", tag = "labs", operation_id = "bind_lab_staff",
    params(("id" = i64, Path, description = "Lab id")),
    request_body = StaffInput,
    responses((status = 200, description = "The binding", body = StaffBinding), E400, E401, E403, E404, E409)
)]
async fn bind_staff(
    Cx { state, auth }: Cx,
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

/// Adds or (with id) updates an instrument of the lab.
#[utoipa::path(
    post, path = "/api/v1/labs/{id}/instruments", tag = "labs", operation_id = "save_instrument",
    params(("id" = i64, Path, description = "Lab id")),
    request_body = InstrumentInput,
    responses((status = 201, description = "The instrument", body = InstrumentRecord), E400, E401, E403, E404, E409)
)]
async fn create_instrument(
    Cx { state, auth }: Cx,
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

/// Adds or (with id) updates a testing service of the lab.
#[utoipa::path(
    post, path = "/api/v1/labs/{id}/services", tag = "labs", operation_id = "save_service",
    params(("id" = i64, Path, description = "Lab id")),
    request_body = ServiceInput,
    responses((status = 201, description = "The service", body = ServiceRecord), E400, E401, E403, E404, E409)
)]
async fn create_service(
    Cx { state, auth }: Cx,
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

#[derive(Deserialize, utoipa::IntoParams)]
struct FindQuery {
    #[serde(default)]
    item: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    lab: Option<i64>,
}

/// Instruments, optionally by test item and city.
#[utoipa::path(
    get, path = "/api/v1/labs/instruments", tag = "labs", operation_id = "list_instruments",
    params(("item" = Option<String>, Query, description = "Test item to look for"), ("city" = Option<String>, Query, description = "City code"), ("lab" = Option<i64>, Query, description = "Lab id")),
    responses((status = 200, description = "Instruments", body = InstrumentsResponse), E400, E401)
)]
async fn list_instruments(
    Cx { state, auth }: Cx,
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

/// One instrument with its blackouts.
#[utoipa::path(
    get, path = "/api/v1/labs/instruments/{id}", tag = "labs", operation_id = "get_instrument",
    params(("id" = i64, Path, description = "Instrument id")),
    responses((status = 200, description = "The instrument", body = InstrumentDetail), E401, E404)
)]
async fn get_instrument(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let caller = auth.caller();
    let inst = state.modules.labs.instrument(&caller, id).await?;
    let blackouts = state.modules.labs.blackouts_of(&caller, id).await?;
    Ok(Json(json!({"instrument": inst, "blackouts": blackouts})))
}

/// Testing services, optionally of one lab.
#[utoipa::path(
    get, path = "/api/v1/labs/services", tag = "labs", operation_id = "list_lab_services",
    params(("item" = Option<String>, Query, description = "Test item to look for"), ("city" = Option<String>, Query, description = "City code"), ("lab" = Option<i64>, Query, description = "Lab id")),
    responses((status = 200, description = "Services", body = ServicesResponse), E401)
)]
async fn list_services(
    Cx { state, auth }: Cx,
    Query(q): Query<FindQuery>,
) -> WebResult<Json<Value>> {
    let services = state.modules.labs.services(&auth.caller(), q.lab).await?;
    Ok(Json(json!({"services": services})))
}

/// The one-stop service catalogue by area.
#[utoipa::path(
    get, path = "/api/v1/labs/one-stop", tag = "labs", operation_id = "one_stop_services",
    params(("item" = Option<String>, Query, description = "Test item to look for"), ("city" = Option<String>, Query, description = "City code"), ("lab" = Option<i64>, Query, description = "Lab id")),
    responses((status = 200, description = "Areas with their services", body = OneStopResponse), E400, E401)
)]
async fn one_stop(Cx { state, auth }: Cx, Query(q): Query<FindQuery>) -> WebResult<Json<Value>> {
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

/// Free slots for one test item, or combined slots for several.
#[utoipa::path(
    get, path = "/api/v1/labs/availability", tag = "labs", operation_id = "lab_availability",
    params(AvailabilityQuery),
    responses((status = 200, description = "Slots (or combined slots)", body = SlotsResponse), E400, E401)
)]
async fn availability(
    Cx { state, auth }: Cx,
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

#[derive(Deserialize, utoipa::ToSchema)]
struct BlackoutInput {
    start: String,
    end: String,
    reason: String,
}

/// Blocks an instrument for a time range (lab staff).
#[utoipa::path(
    post, path = "/api/v1/labs/instruments/{id}/blackouts", tag = "labs", operation_id = "create_blackout",
    params(("id" = i64, Path, description = "Instrument id")),
    request_body = BlackoutInput,
    responses((status = 201, description = "The blackout id", body = Created), E400, E401, E403, E404, E409)
)]
async fn create_blackout(
    Cx { state, auth }: Cx,
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

#[derive(Deserialize, utoipa::ToSchema)]
struct QualificationInput {
    uscc: String,
    qualification: String,
    valid_until: String,
}

/// Records an operator qualification held by an enterprise.
#[utoipa::path(
    post, path = "/api/v1/labs/qualifications", tag = "labs", operation_id = "grant_qualification",
    request_body = QualificationInput,
    responses((status = 200, description = "The qualification", body = GrantedQualification), E400, E401, E403, E404)
)]
async fn grant_qualification(
    Cx { state, auth }: Cx,
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

#[derive(Deserialize, utoipa::ToSchema)]
struct BookingInput {
    parts: Vec<PartInput>,
}

/// Books one or more instrument slots (enterprise users).
#[utoipa::path(
    post, path = "/api/v1/labs/bookings", tag = "labs", operation_id = "create_booking",
    request_body = BookingInput,
    responses((status = 201, description = "The bookings", body = BookingsResponse), E400, E401, E403, E404, E409)
)]
async fn create_booking(
    Cx { state, auth }: Cx,
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

/// The caller's bookings.
#[utoipa::path(
    get, path = "/api/v1/labs/bookings", tag = "labs", operation_id = "my_bookings",
    responses((status = 200, description = "Bookings", body = BookingsResponse), E401, E403)
)]
async fn my_bookings(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let list = state.modules.labs.my_bookings(&auth.caller()).await?;
    Ok(Json(json!({"bookings": list})))
}

/// One booking.
#[utoipa::path(
    get, path = "/api/v1/labs/bookings/{id}", tag = "labs", operation_id = "get_booking",
    params(("id" = i64, Path, description = "Booking id")),
    responses((status = 200, description = "The booking", body = BookingRecord), E401, E403, E404)
)]
async fn get_booking(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let b = state.modules.labs.booking(&auth.caller(), id).await?;
    Ok(Json(json!(b)))
}

/// The invoice of a booking.
#[utoipa::path(
    get, path = "/api/v1/labs/bookings/{id}/invoice", tag = "labs", operation_id = "booking_invoice",
    params(("id" = i64, Path, description = "Booking id")),
    responses((status = 200, description = "The invoice", body = BookingInvoice), E401, E403, E404, E409)
)]
async fn booking_invoice(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let inv = state
        .modules
        .labs
        .booking_invoice(&auth.caller(), id)
        .await?;
    Ok(Json(json!({"booking_id": inv.id, "invoice": inv.invoice})))
}

/// Acts on a booking: cancel, approve, reject, check_in, complete or no_show.
#[utoipa::path(
    post, path = "/api/v1/labs/bookings/{id}/{action}", tag = "labs", operation_id = "booking_action",
    params(("id" = i64, Path, description = "Booking id"), ("action" = String, Path, description = "cancel, approve, reject, check_in, complete, no_show")),
    responses((status = 200, description = "The booking", body = BookingRecord), E400, E401, E403, E404, E409)
)]
async fn booking_action(
    Cx { state, auth }: Cx,
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

#[derive(Deserialize, utoipa::ToSchema)]
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

/// Joins the waiting list of an instrument for a time range.
#[utoipa::path(
    post, path = "/api/v1/labs/waitlist", tag = "labs", operation_id = "join_waitlist",
    request_body = WaitInput,
    responses((status = 201, description = "The waiting-list entry id", body = Created), E400, E401, E403, E404, E409)
)]
async fn join_waitlist(
    Cx { state, auth }: Cx,
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

/// The caller's waiting-list entries.
#[utoipa::path(
    get, path = "/api/v1/labs/waitlist", tag = "labs", operation_id = "my_waitlist",
    responses((status = 200, description = "Entries", body = WaitlistResponse), E401, E403)
)]
async fn my_waitlist(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let list = state.modules.labs.my_waitlist(&auth.caller()).await?;
    Ok(Json(json!({"waitlist": list})))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct CalendarQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    days: Option<i64>,
}

/// A lab's bookings from a day (lab staff, regulators).
#[utoipa::path(
    get, path = "/api/v1/labs/{id}/bookings", tag = "labs", operation_id = "lab_bookings",
    params(("id" = i64, Path, description = "Lab id"), ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (default today)"), ("days" = Option<i64>, Query, description = "How many days (default 14)")),
    responses((status = 200, description = "Bookings", body = BookingsResponse), E400, E401, E403, E404)
)]
async fn lab_bookings(
    Cx { state, auth }: Cx,
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

#[derive(Deserialize, utoipa::ToSchema)]
struct OrderInput {
    service_id: i64,
    samples: i64,
    #[serde(default)]
    note: String,
}

/// Orders a testing service (enterprise users).
#[utoipa::path(
    post, path = "/api/v1/labs/orders", tag = "labs", operation_id = "create_order",
    request_body = OrderInput,
    responses((status = 201, description = "The order", body = yuepin_labs_service::OrderRecord), E400, E401, E403, E404, E409)
)]
async fn create_order(
    Cx { state, auth }: Cx,
    ApiJson(input): ApiJson<OrderInput>,
) -> WebResult<Response> {
    let o = state
        .modules
        .labs
        .create_order(&auth.caller(), input.service_id, input.samples, &input.note)
        .await?;
    Ok(created(json!(o)))
}

/// The caller's orders.
#[utoipa::path(
    get, path = "/api/v1/labs/orders", tag = "labs", operation_id = "my_orders",
    responses((status = 200, description = "Orders", body = OrdersResponse), E401, E403)
)]
async fn my_orders(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
    let orders = state.modules.labs.my_orders(&auth.caller()).await?;
    Ok(Json(json!({"orders": orders})))
}

/// A lab's orders.
#[utoipa::path(
    get, path = "/api/v1/labs/{id}/orders", tag = "labs", operation_id = "lab_orders",
    params(("id" = i64, Path, description = "Lab id")),
    responses((status = 200, description = "Orders", body = OrdersResponse), E401, E403, E404)
)]
async fn lab_orders(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let orders = state.modules.labs.orders_of_lab(&auth.caller(), id).await?;
    Ok(Json(json!({"orders": orders})))
}

/// One order with its history and reports.
#[utoipa::path(
    get, path = "/api/v1/labs/orders/{id}", tag = "labs", operation_id = "get_order",
    params(("id" = i64, Path, description = "Order id")),
    responses((status = 200, description = "The order", body = OrderDetail), E401, E403, E404)
)]
async fn get_order(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let d = state.modules.labs.order_detail(&auth.caller(), id).await?;
    Ok(Json(json!(d)))
}

/// The invoice of an order.
#[utoipa::path(
    get, path = "/api/v1/labs/orders/{id}/invoice", tag = "labs", operation_id = "order_invoice",
    params(("id" = i64, Path, description = "Order id")),
    responses((status = 200, description = "The invoice", body = OrderInvoice), E401, E403, E404, E409)
)]
async fn order_invoice(Cx { state, auth }: Cx, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let inv = state.modules.labs.order_invoice(&auth.caller(), id).await?;
    Ok(Json(json!({"order_id": inv.id, "invoice": inv.invoice})))
}

/// Moves an order on (accept, receive samples, report, …).
#[utoipa::path(
    post, path = "/api/v1/labs/orders/{id}/actions", tag = "labs", operation_id = "order_action",
    params(("id" = i64, Path, description = "Order id")),
    request_body = OrderAction,
    responses((status = 200, description = "The order", body = OrderDetail), E400, E401, E403, E404, E409)
)]
async fn order_action(
    Cx { state, auth }: Cx,
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportTokenQuery {
    /// The report's verification token, from its printed link; without the right one the
    /// answer is the same 404 as for an unknown number.
    #[serde(default)]
    token: String,
}

/// Checks a test report by number and token (public: what the QR on a report opens).
#[utoipa::path(
    get, path = "/api/v1/labs/reports/{number}", tag = "labs", operation_id = "verify_report",
    security(()),
    params(("number" = String, Path, description = "Report number", example = "YP-GDQTC-20261126-0042"), ReportTokenQuery),
    responses((status = 200, description = "The report", body = ReportCheck), E400, E404)
)]
async fn verify_report(
    Cx { state, auth }: Cx,
    Path(number): Path<String>,
    Query(q): Query<ReportTokenQuery>,
) -> WebResult<Json<Value>> {
    let n = yuepin_labs::ReportNumber::parse(&number)
        .map_err(|e| WebError::field("number", e.reason))?;
    let r = state
        .modules
        .labs
        .report(&auth.caller(), &n, &q.token)
        .await?;
    Ok(Json(json!({
        "number": r.number, "status": r.status, "status_zh": r.status.describe_zh(),
        "lab": r.lab_name, "enterprise": r.enterprise_name, "item": r.item,
        "issued_on": r.issued_on, "round": r.round, "passed": r.results.passed,
    })))
}

// ---------------------------------------------------------------- costs, utilisation, feeds

#[derive(Deserialize, utoipa::IntoParams)]
struct SavingsQuery {
    #[serde(default)]
    uscc: String,
}

/// What the caller's enterprise (or one given by uscc) saved through the shared labs.
#[utoipa::path(
    get, path = "/api/v1/labs/savings", tag = "labs", operation_id = "lab_savings",
    params(("uscc" = Option<String>, Query, description = "Enterprise credit code (administrators)")),
    responses((status = 200, description = "The savings report", body = SavingsReport), E400, E401, E403, E404)
)]
async fn savings(Cx { state, auth }: Cx, Query(q): Query<SavingsQuery>) -> WebResult<Json<Value>> {
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

#[derive(Deserialize, utoipa::IntoParams)]
struct YearQuery {
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    lab: Option<i64>,
}

/// Instrument utilisation over a year.
#[utoipa::path(
    get, path = "/api/v1/labs/utilisation", tag = "labs", operation_id = "lab_utilisation",
    params(("year" = Option<i32>, Query, description = "Year (default this year)"), ("lab" = Option<i64>, Query, description = "Lab id")),
    responses((status = 200, description = "Utilisation", body = UtilisationResponse), E400, E401, E403)
)]
async fn utilisation(Cx { state, auth }: Cx, Query(q): Query<YearQuery>) -> WebResult<Json<Value>> {
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

#[derive(Deserialize, utoipa::ToSchema)]
struct FeedInput {
    kind: String,
    #[serde(default)]
    id: Option<i64>,
}

/// Creates a tokenised ICS calendar feed of an instrument or the caller's enterprise.
#[utoipa::path(
    post, path = "/api/v1/labs/feeds", tag = "labs", operation_id = "create_calendar_feed",
    request_body = FeedInput,
    responses((status = 201, description = "The feed URL", body = FeedCreated), E400, E401, E403, E404)
)]
async fn create_feed(
    Cx { state, auth }: Cx,
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

/// Expires stale holds and no-shows now (administrators).
#[utoipa::path(
    post, path = "/api/v1/labs/sweep", tag = "labs", operation_id = "labs_sweep",
    responses((status = 200, description = "What the sweep did", body = SweepSummary), E401, E403)
)]
async fn sweep(Cx { state, auth }: Cx) -> WebResult<Json<Value>> {
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
    Cx { state, auth }: Cx,
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
    Cx { state, auth }: Cx,
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
