//! The registry's records: an enterprise as stored (with its id), its products and quality
//! events, the quality credit file (质量信用档案) with its computed summary, and what an import did.

use chrono::NaiveDate;
use serde::Serialize;
use yuepin_domain::{Enterprise, Product, QualityEventKind};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseRecord {
    pub id: i64,
    #[serde(flatten)]
    pub enterprise: Enterprise,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductRecord {
    pub id: i64,
    pub enterprise_id: i64,
    #[serde(flatten)]
    pub product: Product,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventRecord {
    pub id: i64,
    pub enterprise_id: i64,
    pub product_id: Option<i64>,
    pub date: NaiveDate,
    pub natural_key: String,
    #[serde(flatten)]
    pub kind: QualityEventKind,
}

/// The enterprise's quality credit file (质量信用档案) with a computed summary.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityFile {
    pub enterprise: EnterpriseRecord,
    pub products: Vec<ProductRecord>,
    pub events: Vec<EventRecord>,
    pub summary: QualitySummary,
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualitySummary {
    pub inspections: usize,
    pub inspections_failed: usize,
    pub certifications_valid: usize,
    pub awards: usize,
    pub standards_led: usize,
    pub standards_international_led: usize,
    pub penalties: usize,
    pub serious_penalties: usize,
}

/// Rows per multi-row statement in imports.
pub const IMPORT_BATCH: usize = 500;

/// What an import did, for the CLI and the audit log.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub rows: usize,
    pub inserted: usize,
    pub updated: usize,
}

/// Counts the quality file's figures; certifications count when valid on `today`.
pub fn summarize(events: &[EventRecord], today: NaiveDate) -> QualitySummary {
    use yuepin_domain::{InspectionResult, StandardLevel, StandardRole};
    let mut s = QualitySummary::default();
    for e in events {
        match &e.kind {
            QualityEventKind::Inspection { result, .. } => {
                s.inspections += 1;
                if *result == InspectionResult::Fail {
                    s.inspections_failed += 1;
                }
            }
            QualityEventKind::Certification(c) => {
                if c.valid_from <= today && today <= c.valid_until {
                    s.certifications_valid += 1;
                }
            }
            QualityEventKind::Award { .. } => s.awards += 1,
            QualityEventKind::Standard { level, role, .. } => {
                if *role == StandardRole::Lead {
                    s.standards_led += 1;
                    if *level == StandardLevel::International {
                        s.standards_international_led += 1;
                    }
                }
            }
            QualityEventKind::Penalty { serious, .. } => {
                s.penalties += 1;
                if *serious {
                    s.serious_penalties += 1;
                }
            }
        }
    }
    s
}
