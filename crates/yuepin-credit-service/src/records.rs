//! The credit capability's records: banks, consents as stored (terms, state, usage, signed
//! artefact) with their events, fetch requests and the credit report a bank receives, the
//! grade history, and the Merkle log's entries, proofs and verification outcome.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use yuepin_credit::{
    BankRef, Categories, ConsentId, DataCategory, DateRange, Grading, State, Status, Terms,
};
use yuepin_domain::Uscc;

/// Stored China-time instants: `2026-12-02T13:48:49`.
pub(crate) const DT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

pub(crate) fn dt_text(t: NaiveDateTime) -> String {
    t.format(DT_FORMAT).to_string()
}

pub(crate) fn parse_dt(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, DT_FORMAT).ok()
}

/// A bank organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BankRecord {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// What happened to a consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentEventKind {
    Grant,
    Pause,
    Resume,
    Revoke,
    Fetch,
}

impl ConsentEventKind {
    pub const ALL: [ConsentEventKind; 5] = [
        ConsentEventKind::Grant,
        ConsentEventKind::Pause,
        ConsentEventKind::Resume,
        ConsentEventKind::Revoke,
        ConsentEventKind::Fetch,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ConsentEventKind::Grant => "grant",
            ConsentEventKind::Pause => "pause",
            ConsentEventKind::Resume => "resume",
            ConsentEventKind::Revoke => "revoke",
            ConsentEventKind::Fetch => "fetch",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// One event of a consent, with its place in the Merkle log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentEventRecord {
    pub event: ConsentEventKind,
    /// The audit name of who did it.
    pub actor: String,
    pub at: NaiveDateTime,
    pub log_index: u64,
}

/// A consent as stored, with its status at the time it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentRecord {
    pub id: ConsentId,
    pub enterprise_id: i64,
    pub enterprise_uscc: Uscc,
    pub enterprise_name: String,
    pub bank: BankRef,
    pub terms: Terms,
    pub state: State,
    /// The status at read time (`expired` once the expiry has passed).
    pub status: Status,
    pub fetches_used: u32,
    pub last_fetch_at: Option<NaiveDateTime>,
    /// The key that signed the artefact.
    pub kid: String,
    /// The signed artefact (base64url of a tagged COSE_Sign1).
    pub artefact: String,
    pub created_at: String,
    pub events: Vec<ConsentEventRecord>,
}

impl ConsentRecord {
    /// The pure consent, for the state machine.
    pub fn consent(&self) -> yuepin_credit::Consent {
        yuepin_credit::Consent {
            id: self.id.clone(),
            enterprise: self.enterprise_uscc.clone(),
            bank: self.bank.clone(),
            terms: self.terms.clone(),
            state: self.state,
            fetches_used: self.fetches_used,
            last_fetch_at: self.last_fetch_at,
        }
    }
}

/// What a bank asks a report to contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    pub categories: Categories,
    pub range: DateRange,
}

/// One quality-file record in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportLine {
    /// `event:12`, `designation:little_giant`, `warning:3`.
    pub record: String,
    pub date: NaiveDate,
    /// The record's kind code (`inspection`, `certification`, `award`, `designation`, …).
    pub kind: String,
    /// Its main text (agency and result, scheme and number, award name, warning title).
    pub summary: String,
}

/// Where tax information comes from instead (a code: the report never carries tax data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaxNotice {
    /// Tax data is obtained through the official tax channel (银税互动), with the
    /// enterprise's authorisation given there; see `docs/credit.md`.
    OfficialTaxChannel,
}

/// The credit report a bank receives under a consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditReport {
    pub ver: String,
    pub consent_id: ConsentId,
    pub enterprise: Uscc,
    pub enterprise_name: String,
    pub bank: BankRef,
    /// RFC 3339, China time.
    pub fetched_at: String,
    /// Which use of the consent this is (1-based) and how many it allows.
    pub fetch_no: u32,
    pub max_fetches: u32,
    pub categories: Vec<DataCategory>,
    pub data_from: NaiveDate,
    pub data_to: NaiveDate,
    /// Only with the `grade` category.
    pub grade: Option<Grading>,
    /// Only with `inspections`.
    pub inspections: Option<Vec<ReportLine>>,
    /// Only with `certifications_awards` (designations included).
    pub certifications_awards: Option<Vec<ReportLine>>,
    /// Only with `complaints_warnings`: complaints in the 12 months to the fetch day.
    pub complaints_12m: Option<i64>,
    pub warnings: Option<Vec<ReportLine>>,
    /// Only with `lab_reports`.
    pub lab_reports: Option<Vec<ReportLine>>,
    /// Categories consented and asked for that the platform cannot fill yet.
    pub unavailable: Vec<DataCategory>,
    pub tax: TaxNotice,
}

/// A fetched report: the report, its JSON bytes as signed, the COSE_Sign1 over them and the
/// log entry that records the fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedReport {
    pub report: CreditReport,
    pub json: String,
    pub signed: String,
    pub report_sha256: String,
    pub log_index: u64,
}

/// A stored grade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradeRecord {
    pub id: i64,
    pub enterprise_id: i64,
    pub grading: Grading,
    pub facts_sha256: String,
    pub log_index: u64,
    pub created_at: String,
}

/// What a log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    ConsentGranted,
    ConsentPaused,
    ConsentResumed,
    ConsentRevoked,
    ReportFetched,
    GradeChanged,
}

impl LogKind {
    pub const ALL: [LogKind; 6] = [
        LogKind::ConsentGranted,
        LogKind::ConsentPaused,
        LogKind::ConsentResumed,
        LogKind::ConsentRevoked,
        LogKind::ReportFetched,
        LogKind::GradeChanged,
    ];
    pub fn code(self) -> &'static str {
        match self {
            LogKind::ConsentGranted => "consent_granted",
            LogKind::ConsentPaused => "consent_paused",
            LogKind::ConsentResumed => "consent_resumed",
            LogKind::ConsentRevoked => "consent_revoked",
            LogKind::ReportFetched => "report_fetched",
            LogKind::GradeChanged => "grade_changed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// One entry of the Merkle log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogEntry {
    pub index: u64,
    pub kind: LogKind,
    /// The exact bytes hashed into the leaf (UTF-8 JSON).
    pub entry: String,
    /// `SHA-256(0x00 || entry)`, hex.
    pub leaf_hash: String,
}

/// An inclusion proof of one entry in the tree of `tree_size` signed by `checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InclusionProof {
    pub entry: LogEntry,
    pub tree_size: u64,
    /// Audit path, hex, leaf side first.
    pub proof: Vec<String>,
    /// The signed checkpoint (C2SP note text) of `tree_size`.
    pub checkpoint: String,
}

/// A consistency proof between two tree sizes, with the newer size's signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub proof: Vec<String>,
    pub checkpoint: String,
}

/// The first thing wrong with the stored log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum LogProblem {
    /// An index is missing (an entry deleted) or out of order.
    Gap { index: u64 },
    /// The entry's text no longer hashes to its stored leaf hash (altered).
    LeafMismatch { index: u64 },
    /// The head says `head` entries, the table holds `rows`.
    Size { head: u64, rows: u64 },
    /// A stored checkpoint's root is not the root of the entries it covers, or its signature
    /// fails.
    Checkpoint { size: u64 },
}

/// What `verify_log` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogVerification {
    pub size: u64,
    pub checkpoints: u64,
    pub problem: Option<LogProblem>,
}
