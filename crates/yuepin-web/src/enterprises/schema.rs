//! Shapes of the registry API's JSON answers that handlers build with `json!`, for the
//! OpenAPI document only (never constructed, hence `dead_code` allowed).
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;
use yuepin_complaints_service::WarningRef;
use yuepin_enterprises_service::QualityFile;

/// The quality file with the complaints capability's figures.
#[derive(Serialize, ToSchema)]
pub(super) struct QualityFileResponse {
    #[serde(flatten)]
    file: QualityFile,
    /// Complaints about the enterprise in the last 12 months.
    complaints_last_12_months: i64,
    /// Published consumer warnings naming the enterprise.
    warnings: Vec<WarningRef>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct EventCreated {
    id: i64,
    /// The event's natural key (what makes a re-import idempotent).
    natural_key: String,
}
