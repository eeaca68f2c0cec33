//! Shared testing resources (measures 3 and 4): the catalogue and one-stop view, availability
//! search, time-share bookings (single and combined, waitlist, approval, cancellation, check-in),
//! outsourced-testing orders with verifiable reports, invoices, savings, utilisation, ICS feeds —
//! as JSON under `/api/v1/labs` and as pages under `/labs` for enterprises, labs and regulators.
//!
//! Access: the catalogue, availability and report verification are public; an enterprise user
//! sees and changes only its own bookings and orders; a `lab` account (bound to one lab through
//! `lab_staff`) manages only its own lab; the regulator administers everything.

mod ui;

use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::input::ApiJson;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::{json, Value};
use yuepin_domain::{RegionCode, Role, StandardCode, Uscc, Yuan};
use yuepin_labs::{
    Accessory, Blackout, CmaNumber, CnasNumber, Contact, DailyWindow, HeldQualification,
    Instrument, InstrumentId, Lab, LabCode, LabId, Qualification, Service, ServiceArea, ServiceId,
    ServiceMode, SlotQuery, Tariff, TestItem, TestMethod, TimeRange, WeeklySchedule,
};
use yuepin_store::labs::{
    china_now, Booker, BookingAction, BookingPart, BookingRecord, LabsError, OrderAction,
    OrderRecord,
};

/// Long-lived state of this module, built once at start-up.
#[derive(Debug, Default)]
pub struct ModuleState {}

impl ModuleState {
    pub fn new(_config: &crate::WebConfig) -> Self {
        Self::default()
    }
}

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
        .merge(ui::router())
}

// ---------------------------------------------------------------- helpers

pub(crate) fn labs_err(e: LabsError) -> WebError {
    match e {
        LabsError::Store(e) => e.into(),
        LabsError::Rejected { part, reason } => {
            let msg = reason.to_string();
            if matches!(reason, yuepin_labs::BookingRejection::Conflict { .. }) {
                WebError::Conflict(msg)
            } else {
                let field = match part {
                    Some(i) => format!("parts[{i}]"),
                    None => "booking".into(),
                };
                WebError::field(&field, msg)
            }
        }
        LabsError::DoubleBooked => WebError::Conflict(e.to_string()),
        LabsError::Illegal(t) => WebError::Conflict(t.to_string()),
        LabsError::Invalid(m) => WebError::BadRequest(m),
        LabsError::Forbidden(m) => WebError::Forbidden(m),
    }
}

/// Parses "2026-12-01T09:00", "2026-12-01 09:00" or with seconds (China time).
pub(crate) fn parse_time(field: &str, s: &str) -> WebResult<NaiveDateTime> {
    let s = s.trim();
    for f in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t);
        }
    }
    Err(WebError::field(
        field,
        "时间格式应为 YYYY-MM-DD HH:MM (expected YYYY-MM-DD HH:MM, China time)",
    ))
}

pub(crate) fn parse_range(
    start: &str,
    end: Option<&str>,
    minutes: Option<i64>,
) -> WebResult<TimeRange> {
    let s = parse_time("start", start)?;
    let r = match (end.filter(|e| !e.trim().is_empty()), minutes) {
        (Some(e), _) => TimeRange::new(s, parse_time("end", e)?),
        (None, Some(m)) if (1..=24 * 60 * 92).contains(&m) => TimeRange::starting_at(s, m),
        _ => {
            return Err(WebError::field(
                "end",
                "需要结束时间或时长 (end or minutes required)",
            ))
        }
    };
    r.map_err(|e| WebError::field("end", e.reason))
}

/// "weekdays 08:30-12:00,13:30-17:30", "daily 08:00-22:00", "always" (or the JSON form).
pub(crate) fn parse_schedule(field: &str, v: &Value) -> WebResult<WeeklySchedule> {
    if let Some(s) = v.as_str() {
        let s = s.trim();
        if s == "always" {
            return Ok(WeeklySchedule::always());
        }
        let (kind, rest) = s.split_once(' ').unwrap_or(("weekdays", s));
        let windows = rest
            .split(',')
            .map(|w| DailyWindow::parse(w.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| WebError::field(field, e.reason))?;
        let r = match kind {
            "weekdays" => WeeklySchedule::weekdays(&windows),
            "daily" => WeeklySchedule::every_day(&windows),
            _ => return Err(WebError::field(field, "应为 weekdays/daily/always (expected weekdays HH:MM-HH:MM, daily HH:MM-HH:MM or always)")),
        };
        r.map_err(|e| WebError::field(field, e.reason))
    } else {
        serde_json::from_value(v.clone()).map_err(|e| WebError::field(field, e.to_string()))
    }
}

fn yuan(field: &str, s: &str) -> WebResult<Yuan> {
    Yuan::parse(s).map_err(|e| WebError::field(field, e.reason))
}

fn lab_field<T>(r: Result<T, yuepin_labs::LabError>) -> WebResult<T> {
    r.map_err(|e| WebError::field(e.field, e.reason))
}

/// The lab a `lab` account works for (403 when the account is not bound).
pub(crate) async fn staff_lab(state: &AppState, auth: &Auth) -> WebResult<i64> {
    let u = auth.require_role(&[Role::Lab])?;
    state.store.staff_lab(u.id).await?.ok_or_else(|| {
        WebError::Forbidden(
            "该实验室账户尚未绑定实验室 (this lab account is not bound to a lab)".into(),
        )
    })
}

/// Regulators manage every lab; a lab account only its own.
pub(crate) async fn require_manage_lab(
    state: &AppState,
    auth: &Auth,
    lab_id: i64,
) -> WebResult<()> {
    let u = auth.require_user()?;
    match u.role {
        Role::Regulator => Ok(()),
        Role::Lab if staff_lab(state, auth).await? == lab_id => Ok(()),
        _ => Err(WebError::Forbidden(
            "只能管理本实验室 (you may manage only your own lab)".into(),
        )),
    }
}

/// The enterprise of an enterprise user: (id, credit code).
pub(crate) async fn my_enterprise(state: &AppState, auth: &Auth) -> WebResult<(i64, Uscc)> {
    let u = auth.require_role(&[Role::Enterprise])?;
    let id = u
        .enterprise_id
        .ok_or_else(|| WebError::Forbidden("账户未绑定企业 (account has no enterprise)".into()))?;
    let e = state.store.enterprise_by_id(id).await?;
    Ok((id, e.enterprise.uscc))
}

/// Who may see a booking: its enterprise, the owning lab's staff, the regulator.
pub(crate) async fn require_see_booking(
    state: &AppState,
    auth: &Auth,
    b: &BookingRecord,
) -> WebResult<()> {
    let u = auth.require_user()?;
    let ok = match u.role {
        Role::Regulator => true,
        Role::Enterprise => b.enterprise_id.is_some() && u.enterprise_id == b.enterprise_id,
        Role::Lab => state.store.staff_lab(u.id).await? == Some(b.lab_id),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(WebError::NotFound(format!("booking #{}", b.id)))
    }
}

pub(crate) async fn require_see_order(
    state: &AppState,
    auth: &Auth,
    o: &OrderRecord,
) -> WebResult<()> {
    let u = auth.require_user()?;
    let ok = match u.role {
        Role::Regulator => true,
        Role::Enterprise => u.enterprise_id == Some(o.enterprise_id),
        Role::Lab => state.store.staff_lab(u.id).await? == Some(o.lab_id),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(WebError::NotFound(format!("order #{}", o.id)))
    }
}

/// Performs a booking action after checking who may take it.
pub(crate) async fn do_booking_action(
    state: &AppState,
    auth: &Auth,
    id: i64,
    action: &str,
) -> WebResult<BookingRecord> {
    let action: BookingAction = serde_json::from_value(json!(action))
        .map_err(|_| WebError::NotFound(format!("未知操作 {action} (no such action)")))?;
    let b = state.store.booking(id).await?;
    require_see_booking(state, auth, &b).await?;
    let role = auth.require_user()?.role;
    let allowed = match action {
        BookingAction::Cancel => true,
        BookingAction::AcceptHold | BookingAction::DeclineHold => role == Role::Enterprise,
        _ => matches!(role, Role::Lab | Role::Regulator),
    };
    if !allowed {
        return Err(WebError::Forbidden(
            "该操作由实验室执行 (this action is the lab's)".into(),
        ));
    }
    state
        .store
        .booking_action(auth.actor(), id, action, china_now())
        .await
        .map_err(labs_err)
}

pub(crate) async fn do_order_action(
    state: &AppState,
    auth: &Auth,
    id: i64,
    action: OrderAction,
) -> WebResult<OrderRecord> {
    let o = state.store.order(id).await?;
    require_see_order(state, auth, &o).await?;
    let u = auth.require_user()?;
    let ok = if action.by_customer() {
        u.role == Role::Enterprise
            || (u.role == Role::Regulator && matches!(action, OrderAction::Cancel))
    } else {
        u.role == Role::Lab
    };
    if !ok {
        return Err(WebError::Forbidden(if action.by_customer() {
            "该操作由委托企业执行 (this action is the customer's)".into()
        } else {
            "该操作由实验室人员执行 (this action is the lab staff's)".into()
        }));
    }
    state
        .store
        .order_action(auth.actor(), id, u.id, action, crate::today())
        .await
        .map_err(labs_err)
}

/// Book for the caller: an enterprise for itself, a lab account for internal use.
pub(crate) async fn do_book(
    state: &AppState,
    auth: &Auth,
    parts: Vec<BookingPart>,
) -> WebResult<Vec<BookingRecord>> {
    let u = auth.require_user()?;
    let booker = match u.role {
        Role::Enterprise => {
            let (id, uscc) = my_enterprise(state, auth).await?;
            Booker::Enterprise { id, uscc }
        }
        Role::Lab => Booker::Lab {
            lab_id: staff_lab(state, auth).await?,
        },
        _ => {
            return Err(WebError::Forbidden(
                "仅企业或实验室账户可预约 (enterprise or lab accounts book instruments)".into(),
            ))
        }
    };
    state
        .store
        .book(auth.actor(), &booker, &parts, china_now())
        .await
        .map_err(labs_err)
}

// ---------------------------------------------------------------- catalogue API

async fn list_labs(State(state): State<AppState>) -> WebResult<Json<Value>> {
    let labs = state.store.labs().await?;
    Ok(Json(json!({"labs": labs})))
}

async fn get_lab(State(state): State<AppState>, Path(id): Path<i64>) -> WebResult<Json<Value>> {
    let lab = state.store.lab(id).await?;
    let instruments = state.store.instruments_of_lab(id).await?;
    let services = state.store.services(Some(id)).await?;
    Ok(Json(
        json!({"lab": lab, "instruments": instruments, "services": services}),
    ))
}

#[derive(Deserialize)]
pub(crate) struct LabInput {
    code: String,
    name: String,
    #[serde(default)]
    cma: Option<String>,
    #[serde(default)]
    cnas: Option<String>,
    #[serde(default)]
    scope: Vec<TestMethod>,
    #[serde(default)]
    areas: Vec<ServiceArea>,
    city: String,
    contact: Contact,
    opening_hours: Value,
}

pub(crate) fn build_lab(input: &LabInput) -> WebResult<(LabCode, Lab)> {
    let code = lab_field(LabCode::parse(&input.code))?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(WebError::field(
            "name",
            "名称应为1至100个字符 (1–100 characters)",
        ));
    }
    let cma = match input.cma.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(lab_field(CmaNumber::parse(s))?),
        None => None,
    };
    let cnas = match input.cnas.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(lab_field(CnasNumber::parse(s))?),
        None => None,
    };
    let city = RegionCode::parse(&input.city).map_err(|e| WebError::field("city", e.reason))?;
    Ok((
        code,
        Lab {
            id: LabId(0),
            name: name.to_string(),
            cma,
            cnas,
            scope: input.scope.clone(),
            areas: input.areas.clone(),
            city,
            contact: input.contact.clone(),
            opening_hours: parse_schedule("opening_hours", &input.opening_hours)?,
        },
    ))
}

async fn create_lab(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<LabInput>,
) -> WebResult<Response> {
    auth.require_role(&[Role::Regulator])?;
    let (code, lab) = build_lab(&input)?;
    let mut w = state.store.begin_write(auth.actor()).await?;
    let id = state.store.create_lab(&mut w, &code, &lab).await?;
    state.store.commit(w).await?;
    let lab = state.store.lab(id).await?;
    Ok((StatusCode::CREATED, Json(json!(lab))).into_response())
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
    auth.require_role(&[Role::Regulator])?;
    state.store.lab(id).await?;
    let user = state
        .store
        .user_by_username(input.username.trim())
        .await?
        .ok_or_else(|| WebError::NotFound(format!("user {}", input.username)))?;
    let mut w = state.store.begin_write(auth.actor()).await?;
    state.store.bind_lab_staff(&mut w, user.id, id).await?;
    state.store.commit(w).await?;
    Ok(Json(json!({"user_id": user.id, "lab_id": id})))
}

#[derive(Deserialize)]
pub(crate) struct InstrumentInput {
    #[serde(default)]
    pub id: Option<i64>,
    pub name: String,
    pub model: String,
    pub maker: String,
    pub purchase_price: String,
    pub purchased_on: String,
    pub location: String,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    pub test_methods: Vec<TestMethod>,
    pub peak_hourly: String,
    #[serde(default)]
    pub off_peak_hourly: Option<String>,
    #[serde(default)]
    pub peak_hours: Option<Value>,
    #[serde(default)]
    pub accessories: Vec<AccessoryInput>,
    #[serde(default)]
    pub operator_qualification: Option<String>,
    #[serde(default)]
    pub opening_hours: Option<Value>,
    #[serde(default)]
    pub requires_approval: bool,
}

#[derive(Deserialize)]
pub(crate) struct AccessoryInput {
    pub name: String,
    pub hourly: String,
}

pub(crate) fn build_instrument(lab: &Lab, input: &InstrumentInput) -> WebResult<Instrument> {
    let text = |field: &str, s: &str, max: usize| -> WebResult<String> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > max {
            Err(WebError::field(
                field,
                format!("应为1至{max}个字符 (1–{max} characters)"),
            ))
        } else {
            Ok(s.to_string())
        }
    };
    if input.test_methods.is_empty() {
        return Err(WebError::field(
            "test_methods",
            "至少一个检测项目 (at least one test item)",
        ));
    }
    let peak = yuan("peak_hourly", &input.peak_hourly)?;
    let off_peak = match input.off_peak_hourly.as_deref() {
        Some(s) if !s.trim().is_empty() => yuan("off_peak_hourly", s)?,
        _ => peak,
    };
    if peak < Yuan::ZERO || off_peak < Yuan::ZERO {
        return Err(WebError::field(
            "peak_hourly",
            "价格不能为负 (prices cannot be negative)",
        ));
    }
    let tariff = match &input.peak_hours {
        Some(v) => Tariff {
            peak_hourly: peak,
            off_peak_hourly: off_peak,
            peak: parse_schedule("peak_hours", v)?,
        },
        None => Tariff::flat(peak),
    };
    let mut accessories = Vec::new();
    for (i, a) in input.accessories.iter().enumerate() {
        accessories.push(Accessory {
            name: text(&format!("accessories[{i}].name"), &a.name, 60)?,
            hourly: yuan(&format!("accessories[{i}].hourly"), &a.hourly)?,
        });
    }
    Ok(Instrument {
        id: InstrumentId(0),
        lab: lab.id,
        name: text("name", &input.name, 100)?,
        model: text("model", &input.model, 60)?,
        maker: text("maker", &input.maker, 100)?,
        purchase_price: yuan("purchase_price", &input.purchase_price)?,
        purchased_on: yuepin_domain::parse_date("purchased_on", &input.purchased_on)?,
        location: text("location", &input.location, 100)?,
        city: match input.city.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(c) => RegionCode::parse(c).map_err(|e| WebError::field("city", e.reason))?,
            None => lab.city.clone(),
        },
        capabilities: input
            .capabilities
            .iter()
            .map(|c| c.trim().chars().take(100).collect())
            .filter(|c: &String| !c.is_empty())
            .take(50)
            .collect(),
        test_methods: input.test_methods.clone(),
        tariff,
        accessories,
        operator_qualification: match input.operator_qualification.as_deref() {
            Some(q) if !q.trim().is_empty() => Some(lab_field(Qualification::parse(q))?),
            _ => None,
        },
        opening_hours: match &input.opening_hours {
            Some(v) => parse_schedule("opening_hours", v)?,
            None => lab.opening_hours.clone(),
        },
    })
}

async fn create_instrument(
    State(state): State<AppState>,
    auth: Auth,
    Path(lab_id): Path<i64>,
    ApiJson(input): ApiJson<InstrumentInput>,
) -> WebResult<Response> {
    require_manage_lab(&state, &auth, lab_id).await?;
    let lab = state.store.lab(lab_id).await?;
    let inst = build_instrument(&lab.lab, &input)?;
    let mut w = state.store.begin_write(auth.actor()).await?;
    let id = state
        .store
        .save_instrument(&mut w, lab_id, input.id, &inst, input.requires_approval)
        .await?;
    state.store.commit(w).await?;
    let rec = state.store.instrument(id).await?;
    Ok((StatusCode::CREATED, Json(json!(rec))).into_response())
}

#[derive(Deserialize)]
struct ServiceInput {
    #[serde(default)]
    id: Option<i64>,
    area: ServiceArea,
    mode: ServiceMode,
    item: String,
    #[serde(default)]
    standards: Vec<StandardCode>,
    price_per_sample: String,
    turnaround_days: u16,
}

async fn create_service(
    State(state): State<AppState>,
    auth: Auth,
    Path(lab_id): Path<i64>,
    ApiJson(input): ApiJson<ServiceInput>,
) -> WebResult<Response> {
    require_manage_lab(&state, &auth, lab_id).await?;
    let lab = state.store.lab(lab_id).await?;
    if !(1..=365).contains(&input.turnaround_days) {
        return Err(WebError::field(
            "turnaround_days",
            "1至365天 (1 to 365 days)",
        ));
    }
    let svc = Service {
        id: ServiceId(0),
        lab: lab.lab.id,
        area: input.area,
        mode: input.mode,
        method: TestMethod {
            item: lab_field(TestItem::parse(&input.item))?,
            standards: input.standards,
        },
        price_per_sample: yuan("price_per_sample", &input.price_per_sample)?,
        turnaround_days: input.turnaround_days,
    };
    let mut w = state.store.begin_write(auth.actor()).await?;
    let id = state
        .store
        .save_service(&mut w, lab_id, input.id, &svc)
        .await?;
    state.store.commit(w).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!(state.store.service(id).await?)),
    )
        .into_response())
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

fn city_code(s: &str) -> WebResult<String> {
    if s.trim().is_empty() {
        return Ok(String::new());
    }
    RegionCode::parse(s)
        .map(|c| c.city().code.clone())
        .map_err(|e| WebError::field("city", e.reason))
}

async fn list_instruments(
    State(state): State<AppState>,
    Query(q): Query<FindQuery>,
) -> WebResult<Json<Value>> {
    let item = if q.item.trim().is_empty() {
        String::new()
    } else {
        lab_field(TestItem::parse(&q.item))?.as_str().to_string()
    };
    let list = state
        .store
        .find_instruments(&item, &city_code(&q.city)?, 200)
        .await?;
    Ok(Json(json!({"instruments": list})))
}

async fn get_instrument(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let inst = state.store.instrument(id).await?;
    let blackouts = state.store.blackouts_of(id).await?;
    Ok(Json(json!({"instrument": inst, "blackouts": blackouts})))
}

async fn list_services(
    State(state): State<AppState>,
    Query(q): Query<FindQuery>,
) -> WebResult<Json<Value>> {
    Ok(Json(
        json!({"services": state.store.services(q.lab).await?}),
    ))
}

async fn one_stop(
    State(state): State<AppState>,
    Query(q): Query<FindQuery>,
) -> WebResult<Json<Value>> {
    let labs = state.store.labs().await?;
    let services = state.store.services(None).await?;
    let city = if q.city.trim().is_empty() {
        None
    } else {
        Some(RegionCode::parse(&q.city).map_err(|e| WebError::field("city", e.reason))?)
    };
    let lab_list: Vec<Lab> = labs.iter().map(|l| l.lab.clone()).collect();
    let svc_list: Vec<Service> = services.iter().map(|s| s.service.clone()).collect();
    let grouped = yuepin_labs::catalogue::one_stop(&lab_list, &svc_list, city.as_ref());
    let areas: Vec<Value> = grouped
        .iter()
        .map(|(area, list)| json!({"area": area, "name_zh": area.name_zh(), "services": list}))
        .collect();
    Ok(Json(json!({"areas": areas})))
}

#[derive(Deserialize)]
pub(crate) struct AvailabilityQuery {
    #[serde(default)]
    pub item: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub minutes: Option<u32>,
    #[serde(default)]
    pub limit: Option<usize>,
}

pub(crate) fn slot_query(q: &AvailabilityQuery) -> WebResult<(Vec<TestItem>, SlotQuery)> {
    let items = q
        .item
        .split([',', '，'])
        .filter(|s| !s.trim().is_empty())
        .map(TestItem::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| WebError::field("item", e.reason))?;
    if items.is_empty() || items.len() > 5 {
        return Err(WebError::field(
            "item",
            "需要1至5个检测项目 (1 to 5 test items)",
        ));
    }
    let now = china_now();
    let from = if q.from.trim().is_empty() {
        now
    } else if let Ok(d) = NaiveDate::parse_from_str(q.from.trim(), "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).unwrap_or(now).max(now)
    } else {
        parse_time("from", &q.from)?
    };
    let to = if q.to.trim().is_empty() {
        from + chrono::Duration::days(14)
    } else if let Ok(d) = NaiveDate::parse_from_str(q.to.trim(), "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).unwrap_or(from) + chrono::Duration::days(1)
    } else {
        parse_time("to", &q.to)?
    };
    if to <= from || (to - from).num_days() > yuepin_store::labs::MAX_SEARCH_DAYS {
        return Err(WebError::field(
            "to",
            "查询范围应为1分钟至92天 (window must be 1 minute to 92 days)",
        ));
    }
    let window = TimeRange::new(from, to).map_err(|e| WebError::field("to", e.reason))?;
    let minutes = q.minutes.unwrap_or(120);
    if !(30..=24 * 60).contains(&minutes) {
        return Err(WebError::field(
            "minutes",
            "时长30至1440分钟 (30 to 1440 minutes)",
        ));
    }
    let city = if q.city.trim().is_empty() {
        None
    } else {
        Some(RegionCode::parse(&q.city).map_err(|e| WebError::field("city", e.reason))?)
    };
    Ok((
        items.clone(),
        SlotQuery {
            test_item: items[0].clone(),
            city,
            window,
            duration_minutes: minutes,
            granularity_minutes: 30,
            limit: q.limit.unwrap_or(50).clamp(1, 500),
        },
    ))
}

async fn availability(
    State(state): State<AppState>,
    Query(q): Query<AvailabilityQuery>,
) -> WebResult<Json<Value>> {
    let (items, sq) = slot_query(&q)?;
    if items.len() > 1 {
        let combined = state.store.search_combined_slots(&items, &sq).await?;
        return Ok(Json(json!({"combined": combined})));
    }
    let hits = state.store.search_slots(&sq).await?;
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
    let inst = state.store.instrument(id).await?;
    require_manage_lab(&state, &auth, inst.lab_id).await?;
    let range = parse_range(&input.start, Some(&input.end), None)?;
    let reason = input.reason.trim();
    if reason.is_empty() {
        return Err(WebError::field(
            "reason",
            "须说明原因 (a reason is required)",
        ));
    }
    let mut w = state.store.begin_write(auth.actor()).await?;
    let bid = state
        .store
        .add_blackout(
            &mut w,
            id,
            &Blackout {
                range,
                reason: reason.chars().take(200).collect(),
            },
        )
        .await?;
    state.store.commit(w).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": bid}))).into_response())
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
    let u = auth.require_role(&[Role::Lab, Role::Regulator])?;
    if u.role == Role::Lab {
        staff_lab(&state, &auth).await?;
    }
    let uscc = Uscc::parse(&input.uscc)?;
    let e = state.store.enterprise_by_uscc(uscc.as_str()).await?;
    let held = HeldQualification {
        qualification: lab_field(Qualification::parse(&input.qualification))?,
        valid_until: yuepin_domain::parse_date("valid_until", &input.valid_until)?,
    };
    let mut w = state.store.begin_write(auth.actor()).await?;
    state.store.grant_qualification(&mut w, e.id, &held).await?;
    state.store.commit(w).await?;
    Ok(Json(json!({"enterprise": uscc, "qualification": held})))
}

// ---------------------------------------------------------------- bookings API

#[derive(Deserialize)]
pub(crate) struct PartInput {
    pub instrument_id: i64,
    pub start: String,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub minutes: Option<i64>,
    #[serde(default)]
    pub self_operated: bool,
    #[serde(default)]
    pub accessories: Vec<String>,
}

#[derive(Deserialize)]
struct BookingInput {
    parts: Vec<PartInput>,
}

pub(crate) fn to_part(p: &PartInput) -> WebResult<BookingPart> {
    Ok(BookingPart {
        instrument_id: p.instrument_id,
        range: parse_range(&p.start, p.end.as_deref(), p.minutes)?,
        self_operated: p.self_operated,
        accessories: p.accessories.iter().take(10).cloned().collect(),
    })
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
    let made = do_book(&state, &auth, parts).await?;
    Ok((StatusCode::CREATED, Json(json!({"bookings": made}))).into_response())
}

async fn my_bookings(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let (id, _) = my_enterprise(&state, &auth).await?;
    Ok(Json(
        json!({"bookings": state.store.bookings_of_enterprise(id).await?}),
    ))
}

async fn get_booking(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let b = state.store.booking(id).await?;
    require_see_booking(&state, &auth, &b).await?;
    Ok(Json(json!(b)))
}

async fn booking_invoice(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let b = state.store.booking(id).await?;
    require_see_booking(&state, &auth, &b).await?;
    let inv = state.store.booking_invoice(id).await.map_err(labs_err)?;
    Ok(Json(json!({"booking_id": id, "invoice": inv})))
}

async fn booking_action(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, action)): Path<(i64, String)>,
) -> WebResult<Json<Value>> {
    let b = do_booking_action(&state, &auth, id, &action).await?;
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
    let (eid, _) = my_enterprise(&state, &auth).await?;
    let range = parse_range(&input.start, input.end.as_deref(), input.minutes)?;
    let id = state
        .store
        .join_waitlist(
            auth.actor(),
            eid,
            input.instrument_id,
            range,
            input.self_operated,
            china_now(),
        )
        .await
        .map_err(labs_err)?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

async fn my_waitlist(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let (id, _) = my_enterprise(&state, &auth).await?;
    Ok(Json(
        json!({"waitlist": state.store.waitlist_of_enterprise(id).await?}),
    ))
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
    require_manage_lab(&state, &auth, id).await?;
    let from = if q.from.trim().is_empty() {
        crate::today()
    } else {
        yuepin_domain::parse_date("from", &q.from)?
    };
    let from = from.and_hms_opt(0, 0, 0).unwrap_or_default();
    let to = from + chrono::Duration::days(q.days.unwrap_or(14).clamp(1, 92));
    Ok(Json(
        json!({"bookings": state.store.bookings_of_lab(id, from, to).await?}),
    ))
}

// ---------------------------------------------------------------- orders API

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
    let (eid, _) = my_enterprise(&state, &auth).await?;
    let o = state
        .store
        .create_order(
            auth.actor(),
            eid,
            input.service_id,
            input.samples,
            &input.note,
        )
        .await
        .map_err(labs_err)?;
    Ok((StatusCode::CREATED, Json(json!(o))).into_response())
}

async fn my_orders(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let u = auth.require_user()?;
    let orders = match u.role {
        Role::Lab => {
            let lab = staff_lab(&state, &auth).await?;
            state.store.orders_of_lab(lab).await?
        }
        _ => {
            let (id, _) = my_enterprise(&state, &auth).await?;
            state.store.orders_of_enterprise(id).await?
        }
    };
    Ok(Json(json!({"orders": orders})))
}

async fn lab_orders(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    require_manage_lab(&state, &auth, id).await?;
    Ok(Json(
        json!({"orders": state.store.orders_of_lab(id).await?}),
    ))
}

async fn get_order(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let o = state.store.order(id).await?;
    require_see_order(&state, &auth, &o).await?;
    let reports = state.store.reports_of_order(id).await?;
    Ok(Json(json!({"order": o, "reports": reports})))
}

async fn order_invoice(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    let o = state.store.order(id).await?;
    require_see_order(&state, &auth, &o).await?;
    let inv = state.store.order_invoice(id).await.map_err(labs_err)?;
    Ok(Json(json!({"order_id": id, "invoice": inv})))
}

async fn order_action(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(action): ApiJson<OrderAction>,
) -> WebResult<Json<Value>> {
    let o = do_order_action(&state, &auth, id, action).await?;
    let reports = state.store.reports_of_order(id).await?;
    Ok(Json(json!({"order": o, "reports": reports})))
}

/// Public: what the QR on a report opens.
async fn verify_report(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> WebResult<Json<Value>> {
    let n = yuepin_labs::ReportNumber::parse(&number)
        .map_err(|e| WebError::field("number", e.reason))?;
    let r = state.store.report(&n.to_string()).await?;
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
    let eid = if q.uscc.trim().is_empty() {
        my_enterprise(&state, &auth).await?.0
    } else {
        let e = state
            .store
            .enterprise_by_uscc(Uscc::parse(&q.uscc)?.as_str())
            .await?;
        auth.require_read_enterprise(e.id)?;
        e.id
    };
    let list = state.store.savings_of(eid, crate::today()).await?;
    let total: i64 = list.iter().map(|s| s.savings.saving.fen()).sum();
    let spend: i64 = list.iter().map(|s| s.savings.shared_spend.fen()).sum();
    Ok(Json(json!({
        "instruments": list, "total_saving": Yuan::from_fen(total), "total_spend": Yuan::from_fen(spend),
        "assumptions": yuepin_labs::OwnershipAssumptions::default(),
    })))
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
    let u = auth.require_role(&[Role::Regulator, Role::Lab])?;
    let lab = if u.role == Role::Lab {
        Some(staff_lab(&state, &auth).await?)
    } else {
        q.lab
    };
    let year = q
        .year
        .unwrap_or_else(|| chrono::Datelike::year(&crate::today()));
    if !(2000..=2100).contains(&year) {
        return Err(WebError::field("year", "2000–2100"));
    }
    let list = state.store.utilisation_of(year, lab).await?;
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
    let (kind, ref_id, path) = match input.kind.as_str() {
        "instrument" => {
            let id = input
                .id
                .ok_or_else(|| WebError::field("id", "需要仪器编号 (instrument id)"))?;
            let inst = state.store.instrument(id).await?;
            require_manage_lab(&state, &auth, inst.lab_id).await?;
            (
                "instrument",
                id,
                format!("/labs/instruments/{id}/calendar.ics"),
            )
        }
        "enterprise" => {
            let (id, uscc) = my_enterprise(&state, &auth).await?;
            (
                "enterprise",
                id,
                format!("/labs/enterprises/{uscc}/calendar.ics"),
            )
        }
        _ => return Err(WebError::field("kind", "instrument 或 enterprise")),
    };
    let token = crate::auth::random_token(24);
    let mut w = state.store.begin_write(auth.actor()).await?;
    state
        .store
        .create_feed_token(&mut w, kind, ref_id, &token)
        .await?;
    state.store.commit(w).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"url": format!("{}{path}?token={token}", state.config.public_url), "path": format!("{path}?token={token}")})),
    )
        .into_response())
}

async fn sweep(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    let s = state
        .store
        .labs_sweep(auth.actor(), china_now())
        .await
        .map_err(labs_err)?;
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
    let ok = auth.user.is_some()
        || (!q.token.is_empty()
            && state
                .store
                .feed_token_valid("instrument", id, &q.token)
                .await?);
    if !ok {
        return Err(WebError::Unauthenticated);
    }
    Ok(ics(state
        .store
        .instrument_calendar(id, china_now())
        .await?))
}

/// An enterprise's feed: its own users, the regulator, or a feed token.
async fn enterprise_calendar(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    Query(q): Query<TokenQuery>,
) -> WebResult<Response> {
    let uscc = Uscc::parse(&uscc)?;
    let e = state.store.enterprise_by_uscc(uscc.as_str()).await?;
    let ok = auth.can_read_enterprise(e.id)
        || (!q.token.is_empty()
            && state
                .store
                .feed_token_valid("enterprise", e.id, &q.token)
                .await?);
    if !ok {
        return Err(if auth.user.is_some() {
            WebError::Forbidden("无权访问该日历 (not your calendar)".into())
        } else {
            WebError::Unauthenticated
        });
    }
    Ok(ics(state
        .store
        .enterprise_calendar(e.id, &uscc, china_now())
        .await?))
}
