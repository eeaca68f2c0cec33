//! Quality-event rows (inspection, certification, award, standard, penalty) with their
//! kind-specific columns, the optional product link by model, and each kind's natural key.

use crate::columns::{event as c, Binding};
use crate::error::FileError;
use crate::rows::{Cells, Record};
use chrono::NaiveDate;
use yuepin_domain::product::required_text;
use yuepin_domain::quality::{MAX_EVENT_TEXT, MAX_PENALTY_REASON, MAX_SCHEME};
use yuepin_domain::{
    Certification, DomainError, InspectionResult, QualityEvent, QualityEventKind, StandardCode,
    StandardLevel, StandardRole, Uscc, Yuan,
};

/// A quality event as a file carries it: the product is named by its model number (the
/// database id is unknown to a spreadsheet), so `event.product_id` is always `None` here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub event: QualityEvent,
    /// Model (型号) of one of the enterprise's products, when the event concerns a product.
    pub product_model: Option<String>,
}

/// The identity of an event, so that a re-import updates instead of duplicating:
/// inspection → report number; certification → scheme + number; award → enterprise + name +
/// date; standard → enterprise + standard code; penalty → decision number.
pub fn event_natural_key(event: &QualityEvent) -> String {
    event.natural_key()
}

/// Award levels accepted, canonical code first.
const AWARD_LEVELS: [(&str, &[&str]); 4] = [
    ("national", &["国家级", "国家"]),
    ("provincial", &["省级", "省"]),
    ("city", &["市级", "市"]),
    ("industry", &["行业", "行业级"]),
];

pub fn parse_award_level(s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    AWARD_LEVELS
        .iter()
        .find(|(code, zh)| *code == s || zh.contains(&s))
        .map(|(code, _)| (*code).to_string())
        .ok_or_else(|| {
            DomainError::new(
                "award_level",
                format!(
                    "应为 national/国家级、provincial/省级、city/市级 或 industry/行业, 实际 {s:?}"
                ),
            )
        })
}

fn parse_kind(s: &str) -> Result<&'static str, DomainError> {
    let kind = match s.trim() {
        "inspection" | "监督抽查/检验" | "监督抽查" | "抽查" | "检验" | "抽检" => "inspection",
        "certification" | "认证" => "certification",
        "award" | "获奖" | "奖项" => "award",
        "standard" | "标准制修订" | "标准" => "standard",
        "penalty" | "行政处罚" | "处罚" => "penalty",
        other => {
            return Err(DomainError::new(
                "kind",
                format!(
                    "未知事件类型 {other:?} (unknown kind: inspection/监督抽查, certification/认证, award/获奖, standard/标准, penalty/行政处罚)"
                ),
            ))
        }
    };
    Ok(kind)
}

fn parse_bool(s: &str) -> Result<bool, DomainError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "n" | "0" | "否" => Ok(false),
        "true" | "yes" | "y" | "1" | "是" => Ok(true),
        other => Err(DomainError::new(
            "serious",
            format!("应为 是/否 (expected yes/no, got {other:?})"),
        )),
    }
}

/// `不合格项目` split on `;`, `；` or `、`.
pub fn parse_failed_items(s: &str) -> Vec<String> {
    s.split([';', '；', '、'])
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(str::to_string)
        .collect()
}

fn text(cells: &mut Cells<'_>, column: usize, max: usize) -> Option<String> {
    let field = c::SPECS[column].en;
    cells.parse_with(column, |s| required_text(field, s, max))
}

fn date(cells: &mut Cells<'_>, column: usize) -> Option<NaiveDate> {
    let field = c::SPECS[column].en;
    cells.parse_with(column, |s| crate::fast::date(field, s))
}

fn parse_kind_fields(cells: &mut Cells<'_>, kind: &str) -> Option<QualityEventKind> {
    match kind {
        "inspection" => {
            let agency = text(cells, c::AGENCY, MAX_EVENT_TEXT);
            let report_no = text(cells, c::REPORT_NO, MAX_EVENT_TEXT);
            let result = cells.parse_with(c::RESULT, str::parse::<InspectionResult>);
            let failed_items = parse_failed_items(cells.text(c::FAILED_ITEMS));
            if result == Some(InspectionResult::Pass) && !failed_items.is_empty() {
                cells.fail(
                    c::FAILED_ITEMS,
                    "结果为合格但填写了不合格项目 (result is pass but failed items are listed)",
                );
                return None;
            }
            let kind = QualityEventKind::Inspection {
                agency: agency?,
                report_no: report_no?,
                result: result?,
                failed_items,
            };
            // The failed items' bounds are the domain's (the other columns are bounded above).
            cells.check(c::FAILED_ITEMS, kind.check_text())?;
            Some(kind)
        }
        "certification" => {
            let scheme = text(cells, c::SCHEME, MAX_SCHEME);
            let number = text(cells, c::NUMBER, MAX_EVENT_TEXT);
            let issuer = text(cells, c::ISSUER, MAX_EVENT_TEXT);
            let valid_from = date(cells, c::VALID_FROM);
            let valid_until = date(cells, c::VALID_UNTIL);
            if let (Some(from), Some(until)) = (valid_from, valid_until) {
                if until < from {
                    cells.fail(
                        c::VALID_UNTIL,
                        format!("有效期至早于有效期起 (valid_until {until} is before valid_from {from})"),
                    );
                    return None;
                }
            }
            Some(QualityEventKind::Certification(Certification {
                scheme: scheme?,
                number: number?,
                issuer: issuer?,
                valid_from: valid_from?,
                valid_until: valid_until?,
            }))
        }
        "award" => {
            let name = text(cells, c::AWARD_NAME, MAX_EVENT_TEXT);
            let level = cells.parse_with(c::AWARD_LEVEL, parse_award_level);
            Some(QualityEventKind::Award {
                name: name?,
                level: level?,
            })
        }
        "standard" => {
            let code = cells.parse_with(c::STANDARD_CODE, StandardCode::parse);
            let level = cells.parse_with(c::STANDARD_LEVEL, str::parse::<StandardLevel>);
            let role = cells.parse_with(c::ROLE, str::parse::<StandardRole>);
            Some(QualityEventKind::Standard {
                code: code?,
                level: level?,
                role: role?,
            })
        }
        _ => {
            let authority = text(cells, c::AUTHORITY, MAX_EVENT_TEXT);
            let decision_no = text(cells, c::DECISION_NO, MAX_EVENT_TEXT);
            let amount = cells.parse_with(c::AMOUNT, |s| {
                let y = if s.is_empty() {
                    Yuan::ZERO
                } else {
                    Yuan::parse(s)?
                };
                if y < Yuan::ZERO {
                    return Err(DomainError::new(
                        "amount",
                        "不能为负数 (must not be negative)",
                    ));
                }
                Ok(y)
            });
            let serious = cells.parse_with(c::SERIOUS, parse_bool);
            let reason = text(cells, c::REASON, MAX_PENALTY_REASON);
            Some(QualityEventKind::Penalty {
                authority: authority?,
                decision_no: decision_no?,
                amount: amount?,
                serious: serious?,
                reason: reason?,
            })
        }
    }
}

impl Record for EventRecord {
    const DATASET: &'static str = "events";

    fn bind(headers: &[String]) -> Result<Binding, FileError> {
        Binding::bind(Self::DATASET, c::SPECS, false, headers)
    }

    fn parse(cells: &mut Cells<'_>) -> Option<Self> {
        let enterprise = cells.parse_with(c::USCC, Uscc::parse);
        let model = cells.text(c::PRODUCT_MODEL);
        let product_model = match model.chars().count() {
            0 => Some(None),
            1..=100 => Some(Some(model.to_string())),
            _ => {
                cells.fail(
                    c::PRODUCT_MODEL,
                    "超过100个字符 (longer than 100 characters)",
                );
                None
            }
        };
        let date = date(cells, c::DATE);
        let kind = cells.parse_with(c::KIND, parse_kind);
        let fields = kind.and_then(|k| parse_kind_fields(cells, k));
        Some(EventRecord {
            event: QualityEvent {
                enterprise: enterprise?,
                product_id: None,
                date: date?,
                kind: fields?,
            },
            product_model: product_model?,
        })
    }

    /// An event is stored under its enterprise (`quality_events` is unique on enterprise and
    /// key), so two enterprises may hold the same standard code or report number in one file.
    fn natural_key(&self) -> String {
        format!(
            "{}:{}",
            self.event.enterprise,
            event_natural_key(&self.event)
        )
    }

    fn key_column(&self) -> usize {
        match &self.event.kind {
            QualityEventKind::Inspection { .. } => c::REPORT_NO,
            QualityEventKind::Certification(_) => c::NUMBER,
            QualityEventKind::Award { .. } => c::AWARD_NAME,
            QualityEventKind::Standard { .. } => c::STANDARD_CODE,
            QualityEventKind::Penalty { .. } => c::DECISION_NO,
        }
    }
}
