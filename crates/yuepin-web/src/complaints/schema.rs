//! Shapes of the complaints API's query filters and of the JSON answers that handlers build
//! with `json!`, for the OpenAPI document only (never constructed, hence `dead_code` allowed).
#![allow(dead_code)]

use chrono::NaiveDate;
use utoipa::{IntoParams, ToSchema};
use yuepin_complaints::{CityRollup, TermOverride};
use yuepin_complaints_service::{AggRow, AlarmRecord, ComplaintRecord, WarningRecord};
use yuepin_domain::Division;

/// The complaint filter of `FilterQuery::filter` (every field optional).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Filter {
    /// First day, YYYY-MM-DD.
    from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD.
    to: Option<NaiveDate>,
    /// City or district code (a district selects its whole city).
    city: Option<String>,
    /// Manufacturing division, two digits.
    division: Option<String>,
    /// Product category key.
    category: Option<String>,
    /// Problem type.
    problem: Option<String>,
    /// Enterprise credit code.
    enterprise: Option<String>,
}

#[derive(ToSchema)]
pub(super) struct AggregatesResponse {
    cells: Vec<AggRow>,
}

#[derive(ToSchema)]
pub(super) struct TopResponse {
    /// The dimension ranked.
    dim: String,
    items: Vec<TopItem>,
}

/// One ranked item: `key`/`name` (and `per_100k` for cities), or the enterprise fields.
#[derive(ToSchema)]
pub(super) struct TopItem {
    n: i64,
    key: Option<String>,
    name: Option<String>,
    /// Complaints per 100,000 residents (cities only).
    per_100k: Option<f64>,
    enterprise_id: Option<i64>,
    uscc: Option<String>,
}

#[derive(ToSchema)]
pub(super) struct HeatmapResponse {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    cells: Vec<HeatCell>,
}

#[derive(ToSchema)]
pub(super) struct HeatCell {
    city: Option<String>,
    division: Option<Division>,
    n: i64,
}

#[derive(ToSchema)]
pub(super) struct ComplaintList {
    total: i64,
    page: i64,
    items: Vec<ComplaintRecord>,
}

#[derive(ToSchema)]
pub(super) struct AlarmsResponse {
    alarms: Vec<AlarmRecord>,
    /// The city → division → category roll-up of the significant alarms in `alarms`.
    rollup: Vec<CityRollup>,
    /// Alarms matching the filter, over all pages.
    total: i64,
    page: i64,
    page_size: i64,
}

/// The alarm list's filter and paging (every field optional).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AlarmParams {
    /// pooled_scan, ears_c1, ears_c2, ears_c3, farrington_flexible or cusum.
    method: Option<String>,
    /// city (city totals), division (city × division) or category (city × category).
    level: Option<String>,
    /// City name (深圳, 深圳市) or any GB/T 2260 code of it.
    city: Option<String>,
    /// Manufacturing division, two digits.
    division: Option<String>,
    /// Periods starting on or after this day, YYYY-MM-DD.
    from: Option<NaiveDate>,
    /// Periods starting on or before this day, YYYY-MM-DD.
    to: Option<NaiveDate>,
    /// 1 to include alarms that are not BH-significant.
    all: Option<String>,
    /// Page, from 1 (default 1 when page_size is given).
    page: Option<i64>,
    /// Alarms per page, 1–200 (default 200 when page is given; without both, the first 5,000).
    page_size: Option<i64>,
}

#[derive(ToSchema)]
pub(super) struct AlarmDetail {
    alarm: AlarmRecord,
    complaints_total: i64,
    /// Masked, newest first.
    complaints: Vec<ComplaintRecord>,
}

#[derive(ToSchema)]
pub(super) struct LexiconResponse {
    terms: Vec<TermOverride>,
}

#[derive(ToSchema)]
pub(super) struct TermSet {
    term: String,
    classifies_as: TermClass,
}

#[derive(ToSchema)]
pub(super) struct TermClass {
    category: Option<String>,
    division: Option<u8>,
}

#[derive(ToSchema)]
pub(super) struct WarningsResponse {
    warnings: Vec<WarningRecord>,
}
