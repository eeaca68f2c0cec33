//! Typed records of the product hospital: statuses are enums, regions and divisions domain
//! types, instants China time (`YYYY-MM-DD HH:MM:SS`, no offset: China has one).

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use yuepin_domain::{Division, RegionCode};
use yuepin_hospital::{CaseState, Reason, TargetState};

pub(crate) const DT_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

pub(crate) fn dt_text(t: NaiveDateTime) -> String {
    t.format(DT_FORMAT).to_string()
}

pub(crate) fn parse_dt(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, DT_FORMAT).ok()
}

/// A case's priority: each hospital sets its SLA targets per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Urgent,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }
    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s.trim())
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Priority::Urgent => "紧急",
            Priority::High => "高",
            Priority::Normal => "普通",
            Priority::Low => "低",
        }
    }
    pub fn name_en(self) -> &'static str {
        match self {
            Priority::Urgent => "Urgent",
            Priority::High => "High",
            Priority::Normal => "Normal",
            Priority::Low => "Low",
        }
    }
    /// The targets a new hospital starts with (working minutes: first response, resolution).
    pub fn default_targets(self) -> (i64, i64) {
        match self {
            Priority::Urgent => (60, 2 * 450),
            Priority::High => (4 * 60, 5 * 450),
            Priority::Normal => (450, 10 * 450),
            Priority::Low => (2 * 450, 20 * 450),
        }
    }
}

/// One hospital's targets for one priority, in working minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaTarget {
    pub priority: Priority,
    pub first_response_minutes: i64,
    pub resolution_minutes: i64,
}

/// A product hospital (产品医院).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HospitalRecord {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The institution behind it (a testing institute, a university, an association).
    pub institution: String,
    pub city: RegionCode,
    /// Specialities: GB/T 4754-2017 divisions.
    pub divisions: Vec<Division>,
    /// Cases it takes at once.
    pub capacity: i64,
    /// `08:30-12:00,13:30-17:30`.
    pub business_hours: String,
    pub targets: Vec<SlaTarget>,
}

/// A new hospital (also one row of the hospitals CSV).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewHospital {
    pub code: String,
    pub name: String,
    pub institution: String,
    pub city: String,
    /// Divisions separated by `;` or spaces (`38;39`).
    pub divisions: String,
    pub capacity: i64,
    pub business_hours: String,
}

/// A membership of an expert in a hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    pub hospital_id: i64,
    pub hospital_code: String,
    pub hospital_name: String,
    /// The expert coordinates the hospital's cases (assigns, reassigns, approves).
    pub coordinator: bool,
}

/// An expert, bound to one `expert` account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExpertRecord {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub divisions: Vec<Division>,
    pub qualifications: Vec<String>,
    pub city: RegionCode,
    pub max_load: i64,
    /// Cases held now (assigned, in consultation, waiting for the enterprise).
    pub load: i64,
    pub memberships: Vec<Membership>,
}

/// A new expert (also one row of the experts CSV).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewExpert {
    /// An existing account with the `expert` role.
    pub username: String,
    pub name: String,
    pub divisions: String,
    /// Separated by `;`.
    pub qualifications: String,
    pub city: String,
    pub max_load: i64,
    /// Hospital codes separated by `;`, a trailing `*` marks the coordinator (`GDQI*;SZU`).
    pub hospitals: String,
}

/// What a case is linked to: a failed inspection in the enterprise's quality file, or a
/// complaint naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Inspection,
    Complaint,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Inspection => "inspection",
            LinkKind::Complaint => "complaint",
        }
    }
    pub fn parse(s: &str) -> Option<LinkKind> {
        match s {
            "inspection" => Some(LinkKind::Inspection),
            "complaint" => Some(LinkKind::Complaint),
            _ => None,
        }
    }
}

/// What an enterprise sends to open a case.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewCase {
    pub hospital_id: i64,
    pub title: String,
    pub product: String,
    /// 质量问题类型, e.g. 不合格整改, 工艺改进, 标准咨询.
    pub problem_type: String,
    pub description: String,
    /// The division of the problem; the enterprise's own when absent.
    #[serde(default)]
    pub division: Option<String>,
    pub priority: Priority,
    #[serde(default)]
    pub on_site: bool,
    #[serde(default)]
    pub link_kind: Option<LinkKind>,
    #[serde(default)]
    pub link_id: Option<i64>,
}

/// Which SLA target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    FirstResponse,
    Resolution,
}

/// One SLA target of a case, evaluated now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaView {
    pub target: TargetKind,
    pub state: TargetState,
    pub elapsed_minutes: i64,
    pub target_minutes: i64,
    pub due_at: Option<NaiveDateTime>,
    /// Part of the span lies in a year the holiday calendar has not loaded (counted as the
    /// plain week).
    pub calendar_missing: bool,
}

/// Closure: what was wrong, what was done, how it was verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Closure {
    pub root_cause: String,
    pub fix: String,
    pub verification: String,
}

/// A case as its reader may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseRecord {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub hospital_id: i64,
    pub hospital_name: String,
    pub title: String,
    pub product: String,
    pub problem_type: String,
    pub description: String,
    pub division: Division,
    pub priority: Priority,
    pub on_site: bool,
    pub link_kind: Option<LinkKind>,
    pub link_id: Option<i64>,
    pub state: CaseState,
    pub expert_id: Option<i64>,
    pub expert_name: Option<String>,
    /// Panel members (集体会诊) besides the assigned expert.
    pub panel: Vec<i64>,
    pub opened_at: NaiveDateTime,
    pub first_response_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub closure: Option<Closure>,
    pub satisfaction: Option<i64>,
    pub sla: Vec<SlaView>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Enterprise,
    Expert,
    Coordinator,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Enterprise => "enterprise",
            Side::Expert => "expert",
            Side::Coordinator => "coordinator",
        }
    }
    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "enterprise" => Some(Side::Enterprise),
            "expert" => Some(Side::Expert),
            "coordinator" => Some(Side::Coordinator),
            _ => None,
        }
    }
}

/// One message of a case's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageRecord {
    pub id: i64,
    pub author: String,
    pub side: Side,
    /// An internal note: never shown to the enterprise.
    pub internal: bool,
    pub body: String,
    pub at: NaiveDateTime,
}

/// One step of a case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventRecord {
    pub event: String,
    pub actor: String,
    pub expert_id: Option<i64>,
    pub reason: Option<String>,
    pub at: NaiveDateTime,
}

/// A case with its thread and history, as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseDetail {
    pub case: CaseRecord,
    pub messages: Vec<MessageRecord>,
    pub events: Vec<EventRecord>,
    /// What the caller may do: assign (coordinator), reply as expert, reply as enterprise.
    pub may_assign: bool,
    pub may_act_as_expert: bool,
    pub may_act_as_enterprise: bool,
}

/// A routing proposal with the expert's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposalView {
    pub expert_id: i64,
    pub expert_name: String,
    pub score: i32,
    pub reasons: Vec<Reason>,
}

/// What the caller's list of cases shows (filters the server applies within what the caller
/// may see).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CaseFilter {
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub hospital_id: Option<i64>,
}

/// A knowledge-base entry: an anonymised solution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KnowledgeRecord {
    pub case_id: i64,
    pub title: String,
    pub problem: String,
    pub cause: String,
    pub fix: String,
    pub division: Division,
    pub approved: bool,
    pub approved_at: Option<NaiveDateTime>,
}

/// What an expert writes to propose a solved case for the knowledge base (anonymised: no
/// enterprise name).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewKnowledge {
    pub title: String,
    pub problem: String,
    pub cause: String,
    pub fix: String,
}

/// Figures per hospital or expert.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsRow {
    pub id: i64,
    pub name: String,
    pub cases: i64,
    pub open: i64,
    pub closed: i64,
    /// First responses within target, of those due or done.
    pub first_response_met: i64,
    pub first_response_counted: i64,
    pub resolution_met: i64,
    pub resolution_counted: i64,
    /// Mean working minutes to first response.
    pub mean_first_response_minutes: Option<f64>,
    pub satisfaction_mean: Option<f64>,
    pub satisfaction_count: i64,
}

/// The regulator's statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub hospitals: Vec<StatsRow>,
    pub experts: Vec<StatsRow>,
    pub calendar_years: Vec<i32>,
}

/// A summary of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub rows: usize,
}
