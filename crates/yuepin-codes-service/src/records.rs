//! The typed records of the codes capability: applications with their pre-check, series, issued
//! codes, counterfeit flags and scan counts, and the two configurable rules. Statuses and kinds
//! are enums parsed when rows are read (a bad stored value is `StoreError::Corrupt`); their JSON
//! is exactly what the API has always sent (`status` of a code is its 2-bit number, an
//! application's status a lower-case word), because black-box clients read it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, Serializer};
use yuepin_code::CodeStatus;
use yuepin_domain::RegionCode;
use yuepin_store::StoreError;

/// The configurable approval rule applied to every application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalRule {
    /// How far back the rule looks, in months.
    pub lookback_months: u32,
    /// Block when a failed inspection of the product (or of the enterprise as a whole) in the
    /// window has no later passed inspection.
    pub block_unresolved_failed_inspection: bool,
    /// Block when the enterprise has a serious penalty in the window.
    pub block_serious_penalty: bool,
    /// Approve at once (as "system") when the pre-check passes.
    pub auto_approve: bool,
    /// Largest quantity one application may ask for.
    pub max_quantity: i64,
}

impl Default for ApprovalRule {
    fn default() -> Self {
        Self {
            lookback_months: 12,
            block_unresolved_failed_inspection: true,
            block_serious_penalty: true,
            auto_approve: false,
            max_quantity: 1_000_000,
        }
    }
}

/// When a code's scans look like copies of one label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SignalRule {
    /// Flag when one code is scanned in more distinct cities than this on one day.
    pub max_cities_per_day: i64,
    /// Flag when one code is scanned more often than this on one day.
    pub max_scans_per_day: i64,
    /// Flag when one code is scanned in more distinct cities than this within 30 days.
    pub max_cities_per_30_days: i64,
}

impl Default for SignalRule {
    fn default() -> Self {
        Self {
            max_cities_per_day: 2,
            max_scans_per_day: 30,
            max_cities_per_30_days: 4,
        }
    }
}

/// What a pre-check finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    UnresolvedFailedInspection,
    SeriousPenalty,
}

/// One finding of the pre-check. The bilingual sentences are part of the stored pre-check
/// (`code_applications.precheck_json`, written when the application is filed and sent by the
/// API as stored), so they are made here and not by a user interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub code: FindingCode,
    pub zh: String,
    pub en: String,
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Precheck {
    pub ok: bool,
    pub findings: Vec<Finding>,
    pub rule: ApprovalRule,
    pub as_of: NaiveDate,
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", schema(as = CodeApplicationStatus))]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Rejected,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "approved" => Some(Self::Approved),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
    pub(crate) fn from_db(s: &str) -> Result<Self, StoreError> {
        Self::parse(s).ok_or_else(|| yuepin_store::corrupt(format!("application status {s:?}")))
    }
}

impl std::fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationRecord {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub uscc: String,
    pub product_id: i64,
    pub product_name: String,
    pub lot: Option<String>,
    pub quantity: i64,
    pub note: String,
    pub status: ApplicationStatus,
    pub precheck: Precheck,
    pub decision_reason: Option<String>,
    pub auto_approved: bool,
    pub applied_by: String,
    pub applied_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub series_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesRecord {
    pub id: i64,
    pub application_id: Option<i64>,
    pub enterprise_id: i64,
    pub product_id: i64,
    pub lot: Option<String>,
    pub quantity: i64,
    pub issued: i64,
    pub created_at: String,
}

/// A code's status as stored (`codes.status`, the same 2-bit value as in the status list).
pub(crate) fn status_to_db(s: CodeStatus) -> i64 {
    s as i64
}

pub(crate) fn status_from_db(v: i64) -> Result<CodeStatus, StoreError> {
    match v {
        0 => Ok(CodeStatus::Valid),
        1 => Ok(CodeStatus::Suspended),
        2 => Ok(CodeStatus::Revoked),
        3 => Ok(CodeStatus::Recalled),
        other => Err(yuepin_store::corrupt(format!("code status {other}"))),
    }
}

/// The API has always sent a code's status as its number (0 valid … 3 recalled).
fn status_number<S: Serializer>(s: &CodeStatus, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_i64(status_to_db(*s))
}

/// The words of a status change, as the API and the CLI take them and the audit log records them.
pub fn status_action(s: CodeStatus) -> &'static str {
    match s {
        CodeStatus::Valid => "reinstate",
        CodeStatus::Suspended => "suspend",
        CodeStatus::Revoked => "revoke",
        CodeStatus::Recalled => "recall",
    }
}

/// A status's name (`valid`, `suspended`, `revoked`, `recalled`).
pub fn status_name(s: CodeStatus) -> &'static str {
    match s {
        CodeStatus::Valid => "valid",
        CodeStatus::Suspended => "suspended",
        CodeStatus::Revoked => "revoked",
        CodeStatus::Recalled => "recalled",
    }
}

/// The status an action word sets (`reinstate`, `suspend`, `revoke`, `recall`).
pub fn parse_status_action(action: &str) -> Option<CodeStatus> {
    [
        CodeStatus::Valid,
        CodeStatus::Suspended,
        CodeStatus::Revoked,
        CodeStatus::Recalled,
    ]
    .into_iter()
    .find(|s| status_action(*s) == action)
}

/// An issued code as stored.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeRecord {
    pub id: i64,
    pub series_id: i64,
    pub enterprise_id: i64,
    pub product_id: i64,
    /// `01:{gtin14}` or `p:{product-id}` (see [`subject_key`]).
    pub subject: String,
    pub lot: Option<String>,
    pub serial: String,
    pub status_index: i64,
    pub kid: String,
    pub issued_on: NaiveDate,
    pub uri: String,
    #[serde(serialize_with = "status_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub status: CodeStatus,
    pub status_reason: Option<String>,
    pub status_since: Option<NaiveDate>,
}

impl CodeRecord {
    /// The status list this code's status lives in.
    pub fn list_id(&self) -> i64 {
        self.status_index / i64::from(yuepin_code::LIST_CAPACITY)
    }
}

/// The subject column for a product: `01:{gtin14}` or `p:{product id}`.
pub fn subject_key(subject: &yuepin_code::Subject) -> String {
    match subject {
        yuepin_code::Subject::Gtin(g) => format!("01:{}", g.to_gtin14()),
        yuepin_code::Subject::Product(p) => format!("p:{}", p.as_str()),
    }
}

/// Which codes a status change applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum StatusScope {
    Code { code_id: i64 },
    Lot { product_id: i64, lot: String },
    Product { product_id: i64 },
    Enterprise { enterprise_id: i64 },
}

/// Which counterfeit signal a flag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FlagKind {
    /// More distinct cities on one day than the rule allows.
    #[serde(rename = "many_cities_day")]
    ManyCitiesDay,
    /// More scans on one day than the rule allows.
    #[serde(rename = "many_scans_day")]
    ManyScansDay,
    /// More distinct cities within 30 days than the rule allows.
    #[serde(rename = "many_cities_30d")]
    ManyCities30d,
}

impl FlagKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManyCitiesDay => "many_cities_day",
            Self::ManyScansDay => "many_scans_day",
            Self::ManyCities30d => "many_cities_30d",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::ManyCitiesDay, Self::ManyScansDay, Self::ManyCities30d]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for FlagKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A counterfeit signal for the regulator.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagRecord {
    pub id: i64,
    pub code_id: i64,
    pub day: NaiveDate,
    pub kind: FlagKind,
    /// What the rule saw: `day` or `from`/`to`, `scans`, `cities` (city code → scans), `limit`.
    pub evidence: serde_json::Value,
    pub created_at: String,
    pub serial: String,
    pub uri: String,
    pub product_name: String,
    pub enterprise_name: String,
    #[serde(serialize_with = "status_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub status: CodeStatus,
}

/// The API sends a scan without a shared city as `""`.
fn city_or_empty<S: Serializer>(c: &Option<RegionCode>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(c.as_ref().map(RegionCode::as_str).unwrap_or(""))
}

/// Scan counts of one code on one day in one city (`None`: the scanner did not share it).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanRow {
    pub day: NaiveDate,
    #[serde(serialize_with = "city_or_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub city: Option<RegionCode>,
    pub scans: i64,
}

/// A status-list entry that is not "valid".
#[derive(Debug, Clone, Copy)]
pub struct ListEntry {
    pub position: u32,
    pub status: CodeStatus,
}

/// Issued codes by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    pub valid: i64,
    pub suspended: i64,
    pub revoked: i64,
    pub recalled: i64,
}

impl StatusCounts {
    pub(crate) fn slot(&mut self, s: CodeStatus) -> &mut i64 {
        match s {
            CodeStatus::Valid => &mut self.valid,
            CodeStatus::Suspended => &mut self.suspended,
            CodeStatus::Revoked => &mut self.revoked,
            CodeStatus::Recalled => &mut self.recalled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_stored_and_spoken_forms() {
        for n in 0..4 {
            let s = status_from_db(n).unwrap();
            assert_eq!(status_to_db(s), n);
            assert_eq!(parse_status_action(status_action(s)), Some(s));
        }
        assert!(status_from_db(4).is_err());
        assert_eq!(parse_status_action("delete"), None);
        for s in ["pending", "approved", "rejected"] {
            assert_eq!(ApplicationStatus::parse(s).unwrap().as_str(), s);
        }
        for k in ["many_cities_day", "many_scans_day", "many_cities_30d"] {
            let kind = FlagKind::parse(k).unwrap();
            assert_eq!(serde_json::to_value(kind).unwrap(), k);
        }
    }

    #[test]
    fn json_keeps_the_numbers_and_empty_cities_the_api_always_sent() {
        let row = ScanRow {
            day: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            city: None,
            scans: 3,
        };
        assert_eq!(
            serde_json::to_value(&row).unwrap(),
            serde_json::json!({"day": "2026-01-02", "city": "", "scans": 3})
        );
    }
}
