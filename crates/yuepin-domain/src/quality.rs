//! Quality events on an enterprise or one of its products. Together they make the enterprise's
//! quality credit file (质量信用档案): inspections, certifications, awards, standards work, penalties.

use crate::{DomainError, StandardCode, Uscc, Yuan};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InspectionResult {
    Pass,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StandardLevel {
    International,
    National,
    Industry,
    Local,
    Group,
    /// 湾区标准 (Guangdong–Hong Kong–Macao Greater Bay Area standards).
    BayArea,
    Enterprise,
}

impl StandardLevel {
    pub const ALL: [StandardLevel; 7] = [
        StandardLevel::International,
        StandardLevel::National,
        StandardLevel::Industry,
        StandardLevel::Local,
        StandardLevel::Group,
        StandardLevel::BayArea,
        StandardLevel::Enterprise,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            StandardLevel::International => "international",
            StandardLevel::National => "national",
            StandardLevel::Industry => "industry",
            StandardLevel::Local => "local",
            StandardLevel::Group => "group",
            StandardLevel::BayArea => "bay_area",
            StandardLevel::Enterprise => "enterprise",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            StandardLevel::International => "国际标准",
            StandardLevel::National => "国家标准",
            StandardLevel::Industry => "行业标准",
            StandardLevel::Local => "地方标准",
            StandardLevel::Group => "团体标准",
            StandardLevel::BayArea => "湾区标准",
            StandardLevel::Enterprise => "企业标准",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StandardRole {
    /// 主导 (led the drafting).
    Lead,
    /// 参与 (took part).
    Participant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Certification {
    /// Scheme, e.g. CCC, ISO 9001, ISO 14001, IATF 16949.
    pub scheme: String,
    pub number: String,
    pub issuer: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

/// What happened, with the fields each kind needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QualityEventKind {
    Inspection {
        agency: String,
        report_no: String,
        result: InspectionResult,
        /// The items that failed (不合格项目), empty when passed.
        failed_items: Vec<String>,
    },
    Certification(Certification),
    Award {
        name: String,
        /// national / provincial / city / industry.
        level: String,
    },
    Standard {
        code: StandardCode,
        level: StandardLevel,
        role: StandardRole,
    },
    Penalty {
        authority: String,
        decision_no: String,
        amount: Yuan,
        /// 严重违法失信 or a penalty classified as serious.
        serious: bool,
        reason: String,
    },
}

impl QualityEventKind {
    pub fn code(&self) -> &'static str {
        match self {
            QualityEventKind::Inspection { .. } => "inspection",
            QualityEventKind::Certification(_) => "certification",
            QualityEventKind::Award { .. } => "award",
            QualityEventKind::Standard { .. } => "standard",
            QualityEventKind::Penalty { .. } => "penalty",
        }
    }
    pub fn name_zh(&self) -> &'static str {
        match self {
            QualityEventKind::Inspection { .. } => "监督抽查/检验",
            QualityEventKind::Certification(_) => "认证",
            QualityEventKind::Award { .. } => "获奖",
            QualityEventKind::Standard { .. } => "标准制修订",
            QualityEventKind::Penalty { .. } => "行政处罚",
        }
    }
}

/// Longest failed-item list an inspection may carry.
pub const MAX_FAILED_ITEMS: usize = 50;
/// Longest agency, report or certificate number, issuer, award name or level, authority,
/// decision number and failed item.
pub const MAX_EVENT_TEXT: usize = 100;
/// Longest certification scheme.
pub const MAX_SCHEME: usize = 50;
/// Longest penalty reason.
pub const MAX_PENALTY_REASON: usize = 500;

impl QualityEventKind {
    /// The text bounds every way in holds, the importer's columns and the API alike
    /// ([`MAX_EVENT_TEXT`], [`MAX_SCHEME`], [`MAX_PENALTY_REASON`], [`MAX_FAILED_ITEMS`]).
    pub fn check_text(&self) -> Result<(), DomainError> {
        fn within(field: &'static str, s: &str, max: usize) -> Result<(), DomainError> {
            let chars = s.chars().count();
            if chars > max {
                return Err(DomainError::new(
                    field,
                    format!("超过{max}个字符 (longer than {max} characters)"),
                ));
            }
            Ok(())
        }
        match self {
            QualityEventKind::Inspection {
                agency,
                report_no,
                failed_items,
                ..
            } => {
                within("agency", agency, MAX_EVENT_TEXT)?;
                within("report_no", report_no, MAX_EVENT_TEXT)?;
                if failed_items.len() > MAX_FAILED_ITEMS {
                    return Err(DomainError::new(
                        "failed_items",
                        format!(
                            "不合格项目超过{MAX_FAILED_ITEMS}项 (more than {MAX_FAILED_ITEMS} items)"
                        ),
                    ));
                }
                failed_items
                    .iter()
                    .try_for_each(|item| within("failed_items", item, MAX_EVENT_TEXT))
            }
            QualityEventKind::Certification(c) => {
                within("scheme", &c.scheme, MAX_SCHEME)?;
                within("number", &c.number, MAX_EVENT_TEXT)?;
                within("issuer", &c.issuer, MAX_EVENT_TEXT)
            }
            QualityEventKind::Award { name, level } => {
                within("name", name, MAX_EVENT_TEXT)?;
                within("level", level, MAX_EVENT_TEXT)
            }
            QualityEventKind::Standard { .. } => Ok(()),
            QualityEventKind::Penalty {
                authority,
                decision_no,
                reason,
                ..
            } => {
                within("authority", authority, MAX_EVENT_TEXT)?;
                within("decision_no", decision_no, MAX_EVENT_TEXT)?;
                within("reason", reason, MAX_PENALTY_REASON)
            }
        }
    }
}

impl QualityEvent {
    /// The key under which re-imports and re-submissions update instead of duplicating:
    /// inspection by report number, certification by scheme and number, award by name and date,
    /// standard by code, penalty by decision number.
    pub fn natural_key(&self) -> String {
        match &self.kind {
            QualityEventKind::Inspection { report_no, .. } => format!("inspection:{report_no}"),
            QualityEventKind::Certification(c) => {
                format!("certification:{}:{}", c.scheme, c.number)
            }
            QualityEventKind::Award { name, .. } => format!("award:{name}:{}", self.date),
            QualityEventKind::Standard { code, .. } => format!("standard:{code}"),
            QualityEventKind::Penalty { decision_no, .. } => format!("penalty:{decision_no}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityEvent {
    pub enterprise: Uscc,
    /// The product's id when the event concerns one product.
    pub product_id: Option<i64>,
    pub date: NaiveDate,
    #[serde(flatten)]
    pub kind: QualityEventKind,
}

impl FromStr for StandardLevel {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StandardLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s.trim() || l.name_zh() == s.trim())
            .ok_or_else(|| {
                DomainError::new(
                    "level",
                    format!("未知标准级别 {s:?} (unknown standard level)"),
                )
            })
    }
}

impl FromStr for StandardRole {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "lead" | "主导" => Ok(StandardRole::Lead),
            "participant" | "参与" => Ok(StandardRole::Participant),
            other => Err(DomainError::new(
                "role",
                format!("应为 lead/主导 或 participant/参与, 实际 {other:?}"),
            )),
        }
    }
}

impl FromStr for InspectionResult {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "pass" | "合格" => Ok(InspectionResult::Pass),
            "fail" | "不合格" => Ok(InspectionResult::Fail),
            other => Err(DomainError::new(
                "result",
                format!("应为 合格/pass 或 不合格/fail, 实际 {other:?}"),
            )),
        }
    }
}
