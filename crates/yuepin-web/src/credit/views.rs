//! The credit API's answers: view models built from the service's records (constructed, so
//! the OpenAPI schemas they derive describe exactly what is sent).

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;
use yuepin_credit_service::{
    BankRecord, ConsentRecord, ConsistencyProof, FetchedReport, GradeRecord, InclusionProof,
    LogEntry, LogVerification,
};

#[derive(Serialize, ToSchema)]
pub(super) struct BankView {
    id: i64,
    code: String,
    name: String,
}

impl From<BankRecord> for BankView {
    fn from(b: BankRecord) -> Self {
        Self {
            id: b.id,
            code: b.code,
            name: b.name,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct BanksResponse {
    pub banks: Vec<BankView>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ConsentEventView {
    /// grant, pause, resume, revoke or fetch.
    event: String,
    at: NaiveDateTime,
    /// Index of the entry in the credit log.
    log_index: u64,
}

/// A consent with its terms, status, uses and signed artefact.
#[derive(Serialize, ToSchema)]
pub(super) struct ConsentView {
    id: String,
    enterprise_uscc: String,
    enterprise_name: String,
    bank_id: i64,
    bank_name: String,
    /// quality_loan, credit_review or ip_pledge_loan.
    purpose: String,
    categories: Vec<String>,
    data_from: NaiveDate,
    data_to: NaiveDate,
    max_fetches: u32,
    fetches_used: u32,
    min_interval_minutes: u32,
    retention_days: u32,
    /// China time.
    granted_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    last_fetch_at: Option<NaiveDateTime>,
    /// active, paused, revoked, expired or exhausted.
    status: String,
    /// Key id of the platform key that signed the artefact (see /api/v1/credit/keys).
    kid: String,
    /// The signed artefact: base64url of a tagged COSE_Sign1 (EdDSA) over the artefact JSON.
    artefact: String,
    events: Vec<ConsentEventView>,
}

impl From<ConsentRecord> for ConsentView {
    fn from(c: ConsentRecord) -> Self {
        Self {
            id: c.id.to_string(),
            enterprise_uscc: c.enterprise_uscc.to_string(),
            enterprise_name: c.enterprise_name,
            bank_id: c.bank.org_id,
            bank_name: c.bank.name,
            purpose: c.terms.purpose.code().to_string(),
            categories: c
                .terms
                .categories
                .iter()
                .map(|x| x.code().to_string())
                .collect(),
            data_from: c.terms.data_range.from(),
            data_to: c.terms.data_range.to(),
            max_fetches: c.terms.max_fetches,
            fetches_used: c.fetches_used,
            min_interval_minutes: c.terms.min_interval_minutes,
            retention_days: c.terms.retention_days,
            granted_at: c.terms.granted_at,
            expires_at: c.terms.expires_at,
            last_fetch_at: c.last_fetch_at,
            status: c.status.code().to_string(),
            kid: c.kid,
            artefact: c.artefact,
            events: c
                .events
                .into_iter()
                .map(|e| ConsentEventView {
                    event: e.event.code().to_string(),
                    at: e.at,
                    log_index: e.log_index,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct ConsentsResponse {
    pub consents: Vec<ConsentView>,
}

/// A fetched report: the report JSON, the COSE_Sign1 over exactly those bytes, its hash and
/// the log entry of the fetch.
#[derive(Serialize, ToSchema)]
pub(super) struct ReportView {
    /// The report (grade, the consented sections, `tax`: `official_tax_channel`).
    #[schema(value_type = Object)]
    report: serde_json::Value,
    /// The report's JSON text as signed.
    json: String,
    /// base64url tagged COSE_Sign1 over `json`.
    signed: String,
    report_sha256: String,
    log_index: u64,
}

impl From<FetchedReport> for ReportView {
    fn from(r: FetchedReport) -> Self {
        Self {
            report: serde_json::from_str(&r.json).unwrap_or_default(),
            json: r.json,
            signed: r.signed,
            report_sha256: r.report_sha256,
            log_index: r.log_index,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct RecordWeightView {
    record: String,
    date: NaiveDate,
    weight: f64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ContributionView {
    factor: String,
    points: f64,
    capped: bool,
    records: Vec<RecordWeightView>,
}

/// A grade with each factor's contribution and the records behind it.
#[derive(Serialize, ToSchema)]
pub(super) struct GradeView {
    id: i64,
    grade: String,
    score: f64,
    model: String,
    model_version: String,
    as_of: NaiveDate,
    contributions: Vec<ContributionView>,
    log_index: u64,
}

impl From<GradeRecord> for GradeView {
    fn from(g: GradeRecord) -> Self {
        let r = g.grading;
        Self {
            id: g.id,
            grade: r.grade.letter().to_string(),
            score: r.score,
            model: r.model,
            model_version: r.model_version,
            as_of: r.as_of,
            contributions: r
                .contributions
                .into_iter()
                .map(|c| ContributionView {
                    factor: c.factor.key().to_string(),
                    points: c.points,
                    capped: c.capped,
                    records: c
                        .records
                        .into_iter()
                        .map(|w| RecordWeightView {
                            record: w.record,
                            date: w.date,
                            weight: w.weight,
                        })
                        .collect(),
                })
                .collect(),
            log_index: g.log_index,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct GradeResponse {
    pub grade: GradeView,
    /// Earlier stored grades, newest first.
    pub history: Vec<GradeView>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct LogEntryView {
    index: u64,
    kind: String,
    /// The exact bytes hashed into the leaf (UTF-8 JSON).
    entry: String,
    leaf_hash: String,
}

impl From<LogEntry> for LogEntryView {
    fn from(e: LogEntry) -> Self {
        Self {
            index: e.index,
            kind: e.kind.code().to_string(),
            entry: e.entry,
            leaf_hash: e.leaf_hash,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct LogEntriesResponse {
    pub entries: Vec<LogEntryView>,
}

/// A signed checkpoint (C2SP tlog-checkpoint in a signed note).
#[derive(Serialize, ToSchema)]
pub(super) struct CheckpointView {
    pub checkpoint: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct InclusionView {
    entry: LogEntryView,
    tree_size: u64,
    /// Audit path, hex, leaf side first (RFC 9162 §2.1.3).
    proof: Vec<String>,
    checkpoint: String,
}

impl From<InclusionProof> for InclusionView {
    fn from(p: InclusionProof) -> Self {
        Self {
            entry: p.entry.into(),
            tree_size: p.tree_size,
            proof: p.proof,
            checkpoint: p.checkpoint,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct ConsistencyView {
    first: u64,
    second: u64,
    /// RFC 9162 §2.1.4 consistency path, hex.
    proof: Vec<String>,
    checkpoint: String,
}

impl From<ConsistencyProof> for ConsistencyView {
    fn from(p: ConsistencyProof) -> Self {
        Self {
            first: p.first,
            second: p.second,
            proof: p.proof,
            checkpoint: p.checkpoint,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct VerificationView {
    size: u64,
    checkpoints: u64,
    /// `null` when intact; otherwise gap, leaf_mismatch, size or checkpoint with its index.
    #[schema(value_type = Option<Object>)]
    problem: Option<serde_json::Value>,
}

impl From<LogVerification> for VerificationView {
    fn from(v: LogVerification) -> Self {
        Self {
            size: v.size,
            checkpoints: v.checkpoints,
            problem: v
                .problem
                .map(|p| serde_json::to_value(p).unwrap_or_default()),
        }
    }
}

/// The published credit key set.
#[derive(Serialize, ToSchema)]
pub(super) struct KeysView {
    /// JWKs (kty OKP, crv Ed25519, alg EdDSA).
    #[schema(value_type = Vec<Object>)]
    pub keys: serde_json::Value,
}
