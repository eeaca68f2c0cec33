//! Shapes of the labs API's JSON answers that handlers build with `json!`, for the OpenAPI
//! document only (never constructed, hence `dead_code` allowed).
#![allow(dead_code)]

use chrono::NaiveDate;
use utoipa::ToSchema;
use yuepin_domain::Yuan;
use yuepin_labs::{Blackout, CombinedSlot, Invoice, Service, ServiceArea};
use yuepin_labs_service::{
    BookingRecord, InstrumentRecord, InstrumentUtilisation, LabRecord, OrderRecord, ServiceRecord,
    WaitRecord,
};

/// The id of a created record.
#[derive(ToSchema)]
pub(super) struct Created {
    id: i64,
}

#[derive(ToSchema)]
pub(super) struct LabsResponse {
    labs: Vec<LabRecord>,
}

#[derive(ToSchema)]
pub(super) struct InstrumentsResponse {
    instruments: Vec<InstrumentRecord>,
}

#[derive(ToSchema)]
pub(super) struct InstrumentDetail {
    instrument: InstrumentRecord,
    blackouts: Vec<Blackout>,
}

#[derive(ToSchema)]
pub(super) struct ServicesResponse {
    services: Vec<ServiceRecord>,
}

#[derive(ToSchema)]
pub(super) struct OneStopResponse {
    areas: Vec<OneStopArea>,
}

#[derive(ToSchema)]
pub(super) struct OneStopArea {
    area: ServiceArea,
    name_zh: String,
    services: Vec<Service>,
}

/// `slots` for one test item; `combined` (and no `slots`) when several items were asked for.
#[derive(ToSchema)]
pub(super) struct SlotsResponse {
    slots: Option<Vec<SlotRow>>,
    combined: Option<Vec<CombinedSlot>>,
}

#[derive(ToSchema)]
pub(super) struct SlotRow {
    instrument_id: i64,
    instrument: String,
    model: String,
    lab_id: i64,
    lab: String,
    city: String,
    /// Free minutes in the window.
    free: i64,
    earliest: Option<chrono::NaiveDateTime>,
    price: Option<Yuan>,
    requires_approval: bool,
    operator_qualification: Option<String>,
}

#[derive(ToSchema)]
pub(super) struct BookingsResponse {
    bookings: Vec<BookingRecord>,
}

#[derive(ToSchema)]
pub(super) struct BookingInvoice {
    booking_id: i64,
    invoice: Invoice,
}

#[derive(ToSchema)]
pub(super) struct WaitlistResponse {
    waitlist: Vec<WaitRecord>,
}

#[derive(ToSchema)]
pub(super) struct OrdersResponse {
    orders: Vec<OrderRecord>,
}

#[derive(ToSchema)]
pub(super) struct OrderInvoice {
    order_id: i64,
    invoice: Invoice,
}

#[derive(ToSchema)]
pub(super) struct ReportCheck {
    number: String,
    /// valid, replaced or revoked (with details).
    status: serde_json::Value,
    status_zh: String,
    lab: String,
    enterprise: String,
    item: String,
    issued_on: NaiveDate,
    round: i64,
    passed: bool,
}

#[derive(ToSchema)]
pub(super) struct UtilisationResponse {
    year: i32,
    instruments: Vec<InstrumentUtilisation>,
}

#[derive(ToSchema)]
pub(super) struct FeedCreated {
    /// Absolute feed URL (with the token).
    url: String,
    /// The same, as a path.
    path: String,
}
