//! Shapes of the portal's JSON answers that handlers build with `json!`, for the OpenAPI
//! document only (never constructed, hence `dead_code` allowed).
#![allow(dead_code)]

use utoipa::ToSchema;

/// The policy with its 29 measures.
#[derive(ToSchema)]
pub(super) struct MeasuresTable {
    policy: PolicyInfo,
    measures: Vec<MeasureEntry>,
}

#[derive(ToSchema)]
pub(super) struct PolicyInfo {
    number: String,
    title_zh: String,
    title_en: String,
    effective_from: chrono::NaiveDate,
    effective_until: chrono::NaiveDate,
}

#[derive(ToSchema)]
#[schema(as = ReferenceMeasure)]
pub(super) struct MeasureEntry {
    number: u8,
    title_zh: String,
    group: u8,
    group_zh: String,
    responsible_units: Vec<String>,
    shared: bool,
    clause: Option<String>,
}

/// One designation kind (专精特新, 单项冠军, …).
#[derive(ToSchema)]
pub(super) struct DesignationEntry {
    code: String,
    name_zh: String,
    name_en: String,
}
