//! The policy module's typed records: what the store reads back (match runs, stored outcomes,
//! offers, notifications, applications, grants, totals) and what a match run writes. Statuses
//! are enums stored as their snake_case text; their JSON is that same text, as the API has
//! always shown it. Credit codes and regions are parsed when a row is read, so a bad stored
//! value surfaces as `StoreError::Corrupt` instead of travelling on.

use chrono::NaiveDate;
use serde::Serialize;
use yuepin_domain::{RegionCode, Uscc};
use yuepin_policy::{Evaluation, OutcomeKind};
use yuepin_store::{corrupt, StoreError};

/// An outcome's stored code ("eligible", "not_eligible", …), the same text as its JSON.
pub fn outcome_code(k: OutcomeKind) -> &'static str {
    match k {
        OutcomeKind::Eligible => "eligible",
        OutcomeKind::NotEligible => "not_eligible",
        OutcomeKind::Undetermined => "undetermined",
        OutcomeKind::NotInForce => "not_in_force",
        OutcomeKind::Conflict => "conflict",
        OutcomeKind::NotApplicable => "not_applicable",
    }
}

/// Every outcome, in the engine's discriminant order (`OutcomeKind as usize` indexes it).
pub const OUTCOMES: [OutcomeKind; 6] = [
    OutcomeKind::Eligible,
    OutcomeKind::NotEligible,
    OutcomeKind::Undetermined,
    OutcomeKind::NotInForce,
    OutcomeKind::Conflict,
    OutcomeKind::NotApplicable,
];

/// The outcome with this stored code.
pub fn parse_outcome(s: &str) -> Option<OutcomeKind> {
    OUTCOMES.into_iter().find(|k| outcome_code(*k) == s)
}

pub(crate) fn stored_outcome(s: &str) -> Result<OutcomeKind, StoreError> {
    parse_outcome(s).ok_or_else(|| corrupt(format!("unknown policy outcome {s:?}")))
}

pub(crate) fn stored_date(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| corrupt(format!("date {s:?}: {e}")))
}

pub(crate) fn stored_uscc(s: &str) -> Result<Uscc, StoreError> {
    Uscc::parse(s).map_err(|e| corrupt(format!("credit code {s:?}: {}", e.reason)))
}

pub(crate) fn stored_region(s: &str) -> Result<RegionCode, StoreError> {
    RegionCode::parse(s).map_err(|e| corrupt(format!("region {s:?}: {}", e.reason)))
}

/// Where an offer (免申即享) stands: made by a match run, then answered by the enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Offered,
    Confirmed,
    Declined,
}

impl OfferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Offered => "offered",
            OfferStatus::Confirmed => "confirmed",
            OfferStatus::Declined => "declined",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Offered, Self::Confirmed, Self::Declined]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for OfferStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an application for a money measure stands: submitted, then decided by a regulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Submitted,
    Approved,
    Rejected,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Submitted, Self::Approved, Self::Rejected]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One enterprise's facts as the platform knows them on an as-of date.
///
/// Kept as the raw column values on purpose: a full match reads this for every enterprise
/// (a million rows in the benchmark) and hands the values to the engine as codes, which
/// compares them against the pack's domains; re-parsing each row's region and credit code
/// would only slow the bulk path down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseFacts {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub city: String,
    pub division: i64,
    pub employees: i64,
    pub registered_capital_fen: i64,
    pub founded_on: String,
    pub listing: String,
    /// Designations held on the as-of date.
    pub designations: Vec<String>,
    /// The previous fiscal year's revenue (year of as-of − 1), when reported.
    pub revenue_china_fen: Option<i64>,
    pub revenue_world_fen: Option<i64>,
    /// International standards the enterprise led, released on or before as-of, confirmed by
    /// a responsible unit or from an official source (money rules read only these).
    pub international_standards_led: i64,
    /// Such standards the enterprise declared itself, 待核实 until confirmed: while there are
    /// some and no confirmed one, the count is unknown (Undetermined), never "0".
    pub declared_standards: i64,
    /// Certification schemes valid on as-of.
    pub certifications: Vec<String>,
    /// Failed inspections dated in (as-of − 12 months, as-of].
    pub failed_inspections_12m: i64,
    /// Serious penalties dated in (as-of − 12 months, as-of].
    pub serious_penalties_12m: i64,
}

/// Where a fact comes from: only confirmed and official facts decide money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Declared by the enterprise itself (待核实).
    Declared,
    /// Entered or confirmed by a responsible unit (a regulator, a lab, a regulator's import).
    Confirmed,
    /// From an official source (a registry).
    Official,
}

impl Provenance {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "declared" => Some(Self::Declared),
            "confirmed" => Some(Self::Confirmed),
            "official" => Some(Self::Official),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Declared => "declared",
            Self::Confirmed => "confirmed",
            Self::Official => "official",
        }
    }
    /// Whether a rule deciding money may read the fact.
    pub fn counts_for_money(self) -> bool {
        self != Self::Declared
    }
}

/// A standard the enterprise drafted or revised, as the platform holds it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StandardRecord {
    pub id: i64,
    pub code: String,
    pub level: String,
    pub role: String,
    pub event_date: NaiveDate,
    pub provenance: Provenance,
}

/// One stored cell: an enterprise's outcome for a measure (eligible or undetermined).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchCell {
    pub enterprise_id: i64,
    /// Measure key, `gd-2023-74/M18`.
    pub measure: String,
    pub outcome: OutcomeKind,
    /// JSON list of the facts behind the outcome (missing facts when undetermined).
    pub reasons: String,
    pub amount_fen: Option<i64>,
}

/// A notification to write for an enterprise.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewNotification {
    pub enterprise_id: i64,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: String,
}

/// Everything one match run writes.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewMatchRun {
    pub as_of: String,
    pub overrides: serde_json::Value,
    pub enterprises: i64,
    pub evaluations: i64,
    /// (measure key, outcome, count) for every outcome seen.
    pub counts: Vec<(String, OutcomeKind, i64)>,
    pub cells: Vec<MatchCell>,
    /// (enterprise id, measure key, amount) of offers to make.
    pub offers: Vec<(i64, String, Option<i64>)>,
    pub notifications: Vec<NewNotification>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchRun {
    pub id: i64,
    pub as_of: NaiveDate,
    pub overrides: serde_json::Value,
    pub enterprises: i64,
    pub evaluations: i64,
    pub eligible: i64,
    pub undetermined: i64,
    pub notified: i64,
    pub created_at: String,
    pub created_by: String,
}

/// How many enterprises had one outcome for one measure in a run.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunCount {
    pub measure: String,
    pub outcome: OutcomeKind,
    pub count: i64,
}

/// An enterprise listed under a measure in a run.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureListing {
    pub enterprise_id: i64,
    pub uscc: Uscc,
    pub name: String,
    pub city: RegionCode,
    pub division: i64,
    pub outcome: OutcomeKind,
    pub reasons: serde_json::Value,
    pub amount_fen: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offer {
    pub id: i64,
    pub enterprise_id: i64,
    pub measure: String,
    pub run_id: i64,
    pub as_of: NaiveDate,
    /// Last day it can be confirmed: [`crate::OFFER_VALID_DAYS`] after the match's date.
    pub expires_on: NaiveDate,
    pub status: OfferStatus,
    pub amount_fen: Option<i64>,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    pub enterprise_id: i64,
    pub run_id: Option<i64>,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// An application for a money measure, from the enterprise or from a confirmed offer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Application {
    pub id: i64,
    pub enterprise_id: i64,
    pub uscc: Uscc,
    pub enterprise_name: String,
    pub city: RegionCode,
    pub measure: String,
    /// What is being paid for: the standard's code (M8), the award (M10), the financing (M18).
    pub reference: String,
    pub offer_id: Option<i64>,
    pub amount_requested_fen: Option<i64>,
    pub note: String,
    pub status: ApplicationStatus,
    pub reason: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    /// What the payment is for, derived from platform facts and scoped to the enterprise
    /// (`award:<code>:<awarded on>`, `standard:<record id>`, `period:<year>`).
    pub payment_key: String,
    /// The period over which a capped amount adds up (the year of the filing date).
    pub period: String,
    /// The server's date the eligibility was evaluated as of (`None` for older rows).
    pub evaluated_on: Option<chrono::NaiveDate>,
    /// What the decision was based on, as stored then: facts used, pack id and version, the
    /// rule's result with reasons. Later pack changes never rewrite it.
    pub evidence: Option<serde_json::Value>,
    pub grant: Option<Grant>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApplication {
    pub enterprise_id: i64,
    pub measure: String,
    pub reference: String,
    pub offer_id: Option<i64>,
    pub amount_requested_fen: Option<i64>,
    pub note: String,
    pub payment_key: String,
    pub period: String,
    pub evaluated_on: chrono::NaiveDate,
    pub evidence: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub id: i64,
    pub application_id: i64,
    pub enterprise_id: i64,
    pub measure: String,
    pub reference: String,
    pub amount_fen: i64,
    pub city: RegionCode,
    pub year: i64,
    pub granted_at: String,
    pub granted_by: String,
}

/// Grant totals for one (measure, city, year).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantTotal {
    pub measure: String,
    pub city: RegionCode,
    pub year: i64,
    pub grants: i64,
    pub amount_fen: i64,
}

/// The regulator's decision on an application.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Approve and record a grant of this amount in this year.
    Approve {
        amount_fen: i64,
        year: i64,
        reason: String,
        /// The cumulative cap of the measure for the enterprise and period, if any.
        cap_fen: Option<i64>,
        /// Several grants may share the application's payment key (a financing line's loans,
        /// their total capped); otherwise the key is paid once.
        repeatable: bool,
    },
    Reject {
        reason: String,
    },
}

impl Decision {
    /// The application's status after this decision.
    pub fn status(&self) -> ApplicationStatus {
        match self {
            Decision::Approve { .. } => ApplicationStatus::Approved,
            Decision::Reject { .. } => ApplicationStatus::Rejected,
        }
    }
}

/// The enterprise's answer to an offer (意愿确认).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Confirm,
    Decline,
}

impl Answer {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "confirm" => Some(Answer::Confirm),
            "decline" => Some(Answer::Decline),
            _ => None,
        }
    }
}

/// Why an application was refused before it was stored: the measure's evaluation for the
/// enterprise (its failed conditions or missing facts), for the caller to word.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub measure: String,
    pub evaluation: Box<Evaluation>,
}
