//! The complaints capability's typed records: complaints as stored (with masking), filters and
//! aggregate cells, alarms and detection runs, warnings with their evidence, named enterprises
//! and comments. Statuses, methods, levels and sources are enums parsed when a row is read (a
//! value that no longer parses is `StoreError::Corrupt`); the JSON the API sends is the same
//! as when these fields were strings (`serialize_with` keeps the stored spelling).

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize, Serializer};
use yuepin_complaints::{
    mask_complainant, scrub_text, Alarm, Category, Channel, Complainant, ComplaintKind,
    DetectorConfig, Level, Method, Period, ProblemType,
};
use yuepin_domain::{Division, RegionCode};

// ───────────────────────────── complaints ─────────────────────────────

/// Where a complaint's category and division came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LabelsSource {
    /// The imported file had them.
    Input,
    /// The classifier filled them in at import.
    Classifier,
    /// A regulator corrected them; re-imports keep them.
    Regulator,
    /// Neither the file nor the classifier gave any.
    None,
}

impl LabelsSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Classifier => "classifier",
            Self::Regulator => "regulator",
            Self::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Input, Self::Classifier, Self::Regulator, Self::None]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One stored complaint. `complainant` is the raw personal data: only a regulator's view of the
/// record itself gets it; every other read is [`ComplaintRecord::masked`].
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintRecord {
    pub id: i64,
    pub ext_id: String,
    /// `YYYY-MM-DDTHH:MM:SS`, China time as received.
    pub received_at: String,
    pub day: NaiveDate,
    pub channel: Channel,
    pub kind: ComplaintKind,
    pub region: RegionCode,
    /// The prefecture-level city of `region`.
    pub city: RegionCode,
    pub enterprise_id: Option<i64>,
    pub enterprise_uscc: Option<String>,
    pub enterprise_name: Option<String>,
    pub category: Option<Category>,
    #[serde(serialize_with = "division_number")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub division: Option<Division>,
    pub labels_source: LabelsSource,
    pub problem: ProblemType,
    pub amount_fen: Option<i64>,
    pub text: String,
    pub complainant: Complainant,
    pub masked: bool,
}

impl ComplaintRecord {
    /// Personal data masked and the free text scrubbed of ID numbers and phone numbers.
    pub fn masked(mut self) -> Self {
        if !self.masked {
            self.complainant = mask_complainant(&self.complainant);
            self.text = scrub_text(&self.text);
            self.masked = true;
        }
        self
    }
}

/// Filters shared by lists, aggregates, exports and alarm drill-downs (all optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComplaintFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Matched on the complaint's city: a district code selects its whole city.
    pub city: Option<RegionCode>,
    pub division: Option<Division>,
    pub category: Option<Category>,
    pub problem: Option<ProblemType>,
    pub enterprise_id: Option<i64>,
}

/// A dimension to count by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountDim {
    City,
    Division,
    Category,
    Problem,
    Enterprise,
}

impl CountDim {
    /// `city`, `division`, `category`, `problem`, `enterprise` (or `enterprise_id`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "city" => Self::City,
            "division" => Self::Division,
            "category" => Self::Category,
            "problem" => Self::Problem,
            "enterprise" | "enterprise_id" => Self::Enterprise,
            _ => return None,
        })
    }
    pub(crate) fn column(self) -> &'static str {
        match self {
            Self::City => "city",
            Self::Division => "division",
            Self::Category => "category",
            Self::Problem => "problem",
            Self::Enterprise => "enterprise_id",
        }
    }
}

/// The time grain of an aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Day,
    /// ISO weeks, keyed by their Monday.
    Week,
    /// Keyed `YYYY-MM`.
    Month,
    /// No time axis.
    All,
}

impl Grain {
    /// `day` (or empty), `week`, `month`, `all`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            "all" => Self::All,
            _ => return None,
        })
    }
}

/// One group-by row, keyed by the stored codes (city code, division number, category key,
/// problem name): cells are sorted and exported by these.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CountRow {
    pub day: Option<String>,
    pub city: Option<String>,
    pub division: Option<i64>,
    pub category: Option<String>,
    pub problem: Option<String>,
    pub enterprise_id: Option<i64>,
    pub n: i64,
}

/// One aggregate cell: a period (day, Monday of the ISO week, `YYYY-MM`, or "" for all) and
/// the requested dimensions.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AggRow {
    pub period: String,
    pub city: Option<String>,
    pub division: Option<i64>,
    pub category: Option<String>,
    pub problem: Option<String>,
    pub enterprise_id: Option<i64>,
    pub n: i64,
}

/// An enterprise among the most complained about: (id when linked, USCC, name, count).
#[derive(Debug, Clone, PartialEq)]
pub struct TopEnterprise {
    pub enterprise_id: Option<i64>,
    pub uscc: Option<String>,
    pub name: String,
    pub n: i64,
}

// ───────────────────────────── detection ─────────────────────────────

/// One stored alarm.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlarmRecord {
    pub id: i64,
    pub run_id: i64,
    #[serde(serialize_with = "method_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub method: Method,
    #[serde(serialize_with = "level_text")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub level: Level,
    pub city: RegionCode,
    /// `None` when the series is not per division (stored and sent as 0).
    #[serde(serialize_with = "division_or_zero")]
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub division: Option<Division>,
    /// `None` when the series is not per category (stored and sent as "").
    #[serde(serialize_with = "category_or_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub category: Option<Category>,
    pub period_start: NaiveDate,
    pub period_days: i64,
    pub observed: f64,
    pub expected: f64,
    pub threshold: f64,
    pub p_value: f64,
    pub q_value: f64,
    pub significant: bool,
}

impl AlarmRecord {
    pub fn period_end(&self) -> NaiveDate {
        self.period_start + Duration::days(self.period_days - 1)
    }
    /// The drill-down filter: the series over the evidence window (7 days ending with the period).
    pub fn filter(&self) -> ComplaintFilter {
        let end = self.period_end();
        ComplaintFilter {
            from: Some(end - Duration::days(6)),
            to: Some(end),
            city: Some(self.city.clone()),
            division: self.division,
            category: self.category,
            ..ComplaintFilter::default()
        }
    }
    /// The series an alarm belongs to, as stored on warnings (`level:city:division:category`,
    /// with 0 and "" for absent parts): one draft per series.
    pub fn series_key(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.level.as_str(),
            self.city,
            self.division.map_or(0, |d| d.code()),
            self.category.map_or("", |c| c.info().key.as_str())
        )
    }
    pub fn ratio(&self) -> f64 {
        if self.expected > 0.0 {
            self.observed / self.expected
        } else {
            self.observed
        }
    }
    /// The library's alarm (for roll-up).
    pub fn to_alarm(&self) -> Option<Alarm> {
        Some(Alarm {
            method: self.method,
            level: self.level,
            region: self.city.clone(),
            division: self.division,
            category: self.category,
            period: Period {
                start: self.period_start,
                days: u8::try_from(self.period_days).ok()?,
            },
            observed: self.observed,
            expected: self.expected,
            threshold: self.threshold,
            p_value: self.p_value,
            // not stored: the classic p-value and the scan window are evidence detail only
            p_classic: f64::NAN,
            window_days: 1,
            q_value: self.q_value,
            significant: self.significant,
        })
    }
}

/// What a detection run did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DetectReport {
    pub run_id: i64,
    pub as_of: String,
    pub from: String,
    pub complaints: u64,
    pub alarms: u64,
    pub significant: u64,
    pub drafts_created: u64,
    pub read_millis: u64,
    pub detect_millis: u64,
    pub write_millis: u64,
}

/// Options of a detection run.
#[derive(Debug, Clone)]
pub struct DetectOptions {
    pub as_of: NaiveDate,
    /// Days of history loaded (default 4 years).
    pub history_days: i64,
    /// Alarms reported (and BH-tested) for the last this many days (1–366; default 28).
    pub report_days: i64,
    /// Turn significant alarms into draft warnings.
    pub draft_warnings: bool,
    /// The detectors and their parameters (default: the pooled ratio scan); stored on the run.
    pub config: DetectorConfig,
}

impl DetectOptions {
    pub fn new(as_of: NaiveDate) -> Self {
        Self {
            as_of,
            history_days: 4 * 365 + 1,
            report_days: 28,
            draft_warnings: true,
            config: DetectorConfig::default(),
        }
    }
}

/// The latest detection run.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectRun {
    pub id: i64,
    pub as_of: String,
    pub ran_at: String,
    pub series_alarms: i64,
    pub significant: i64,
    /// The configuration the run used (`None` for runs stored before it was recorded).
    pub config: Option<DetectorConfig>,
}

// ───────────────────────────── warnings ─────────────────────────────

/// Where a consumer warning is in its workflow: draft → approved (the named enterprises'
/// comment window) → published; withdrawn at any point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WarningStatus {
    Draft,
    Approved,
    Published,
    Withdrawn,
}

impl WarningStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Approved => "approved",
            Self::Published => "published",
            Self::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Approved,
            Self::Published,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// 消费提示 (a tip) or 消费警示 (an alert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Tip,
    Alert,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tip => "tip",
            Self::Alert => "alert",
        }
    }
    /// The stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tip" => Some(Self::Tip),
            "alert" => Some(Self::Alert),
            _ => None,
        }
    }
    /// As a regulator types it: `tip`/`提示` (or nothing: a tip), `alert`/`警示`.
    pub fn parse_input(s: &str) -> Option<Self> {
        match s.trim() {
            "" | "tip" | "提示" => Some(Self::Tip),
            "alert" | "警示" => Some(Self::Alert),
            _ => None,
        }
    }
}

/// Evidence attached to a warning (stored as JSON, shown on every view of the warning).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub alarm_id: i64,
    /// The leading alarm's method, by its usual name ("EARS C1").
    pub method: String,
    pub methods: Vec<String>,
    pub observed: f64,
    pub expected: f64,
    pub threshold: f64,
    pub p_value: f64,
    pub q_value: f64,
    pub period_start: String,
    pub period_end: String,
    pub window_from: String,
    pub window_to: String,
    pub city: String,
    pub city_name: String,
    pub division: Option<i64>,
    pub division_name: String,
    pub category: Option<String>,
    pub category_name: String,
    pub window_complaints: i64,
    pub leading_enterprises: Vec<EvidenceEnterprise>,
    pub problem_types: Vec<(String, i64)>,
    /// Masked samples: complainant data masked and texts scrubbed.
    pub samples: Vec<EvidenceSample>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceEnterprise {
    pub enterprise_id: Option<i64>,
    pub uscc: Option<String>,
    pub name: String,
    pub complaints: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceSample {
    pub ext_id: String,
    pub day: String,
    pub problem: String,
    pub text: String,
    pub complainant_name: Option<String>,
    pub complainant_phone: Option<String>,
}

/// A warning with its evidence, named enterprises and comments.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarningRecord {
    pub id: i64,
    pub alarm_id: Option<i64>,
    pub status: WarningStatus,
    pub severity: Severity,
    pub title: String,
    pub body: String,
    pub evidence: Evidence,
    pub comment_deadline: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub approved_at: Option<String>,
    /// Who approved: `None` in every view but an administrator's.
    pub approved_by: Option<String>,
    pub published_at: Option<String>,
    pub enterprises: Vec<NamedEnterprise>,
    pub comments: Vec<WarningComment>,
}

impl WarningRecord {
    /// Approved and the deadline (an RFC 3339 UTC text, compared as text) not reached at `now`.
    pub fn window_open(&self, now: &str) -> bool {
        self.status == WarningStatus::Approved
            && self.comment_deadline.as_deref().is_some_and(|d| now < d)
    }
    /// Does the warning name this enterprise?
    pub fn names(&self, enterprise_id: i64) -> bool {
        self.enterprises
            .iter()
            .any(|e| e.enterprise_id == enterprise_id)
    }
    /// What non-administrators see: no audit details on who approved or wrote comments.
    pub(crate) fn redacted(mut self) -> Self {
        self.approved_by = None;
        self.comments
            .iter_mut()
            .for_each(|c| c.author = String::new());
        self
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamedEnterprise {
    pub enterprise_id: i64,
    pub uscc: String,
    pub name: String,
    pub complaints: i64,
    pub notified_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarningComment {
    pub id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    /// The audit name of the account that commented ("" outside administrators' views).
    pub author: String,
    pub body: String,
    pub created_at: String,
}

/// A short public reference to a published warning (for quality files).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarningRef {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    pub published_at: String,
}

/// Which warnings a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningScope {
    /// Administrators: everything.
    All,
    /// The public: published only.
    Published,
    /// An enterprise: warnings naming it once approved (comment window) or published.
    Enterprise(i64),
}

/// A regulator's edit of a warning's text (validated by the service).
#[derive(Debug, Clone, Default)]
pub struct WarningEdit {
    pub title: String,
    pub body: String,
    /// As typed: see [`Severity::parse_input`].
    pub severity: String,
}

// ───────────────────────────── serde helpers ─────────────────────────────

fn method_text<S: Serializer>(m: &Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

fn level_text<S: Serializer>(l: &Level, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(l.as_str())
}

fn division_number<S: Serializer>(d: &Option<Division>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&i64::from(d.code())),
        None => s.serialize_none(),
    }
}

fn division_or_zero<S: Serializer>(d: &Option<Division>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(d.map_or(0, |d| i64::from(d.code())))
}

fn category_or_empty<S: Serializer>(c: &Option<Category>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.map_or("", |c| c.info().key.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_spellings_round_trip() {
        for s in ["draft", "approved", "published", "withdrawn"] {
            assert_eq!(WarningStatus::parse(s).unwrap().as_str(), s);
            assert_eq!(
                serde_json::to_value(WarningStatus::parse(s).unwrap()).unwrap(),
                s
            );
        }
        for s in ["input", "classifier", "regulator", "none"] {
            assert_eq!(
                serde_json::to_value(LabelsSource::parse(s).unwrap()).unwrap(),
                s
            );
        }
        assert_eq!(Severity::parse_input(" 警示 "), Some(Severity::Alert));
        assert_eq!(Severity::parse_input(""), Some(Severity::Tip));
        assert_eq!(Severity::parse_input("urgent"), None);
    }

    #[test]
    fn alarm_json_keeps_the_stored_spelling() {
        let a = AlarmRecord {
            id: 1,
            run_id: 2,
            method: Method::Farrington,
            level: Level::CityCategory,
            city: RegionCode::parse("深圳").unwrap(),
            division: None,
            category: Some(Category::parse("e_bike").unwrap()),
            period_start: NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            period_days: 7,
            observed: 30.0,
            expected: 10.0,
            threshold: 18.0,
            p_value: 0.001,
            q_value: 0.01,
            significant: true,
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["method"], "farrington_flexible");
        assert_eq!(v["level"], "category");
        assert_eq!(v["city"], "440300");
        assert_eq!(v["division"], 0);
        assert_eq!(v["category"], "e_bike");
        assert_eq!(v["period_start"], "2026-11-16");
        assert_eq!(a.series_key(), "category:440300:0:e_bike");
        assert_eq!(a.period_end().to_string(), "2026-11-22");
        assert_eq!(
            a.filter().from,
            Some(NaiveDate::from_ymd_opt(2026, 11, 16).unwrap())
        );
    }
}
