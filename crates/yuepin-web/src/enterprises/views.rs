//! The directory's and the enterprise page's view models, and one line per quality event.

use crate::i18n::Tr;
use crate::page::Chrome;
use askama::Template;
use yuepin_domain::reference::{self, City, DivisionInfo};
use yuepin_domain::QualityEventKind;
use yuepin_enterprises_service::EnterpriseSummary;

pub(super) struct Row {
    pub(super) uscc: String,
    pub(super) name: String,
    pub(super) city_name: String,
    pub(super) division: i64,
    pub(super) division_name: String,
    pub(super) employees: i64,
}

#[derive(Template)]
#[template(path = "enterprises.html")]
pub(super) struct ListPage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) q: String,
    pub(super) city: String,
    pub(super) division: String,
    pub(super) designation: String,
    pub(super) cities: &'static [City],
    pub(super) divisions: &'static [DivisionInfo],
    pub(super) designation_options: Vec<(&'static str, &'static str, &'static str)>,
    pub(super) items: Vec<Row>,
    pub(super) total: i64,
    pub(super) capped: bool,
    pub(super) page: u32,
    pub(super) has_next: bool,
    /// The filters as a query string, for the download links.
    pub(super) export_query: String,
    pub(super) export_max: usize,
    pub(super) prev_link: String,
    pub(super) next_link: String,
}

pub(super) fn row_of(e: EnterpriseSummary, tr: Tr) -> Row {
    let city_name = reference::find_city(&e.city)
        .map(|c| tr.t(&c.name_zh, &c.name_en).to_string())
        .unwrap_or_default();
    let division_name = reference::find_division(e.division as u8)
        .map(|d| tr.t(&d.name_zh, &d.name_en).to_string())
        .unwrap_or_default();
    Row {
        uscc: e.uscc,
        name: e.name,
        city_name,
        division: e.division,
        division_name,
        employees: e.employees,
    }
}

pub(super) struct DesignationRow {
    pub(super) name_zh: &'static str,
    pub(super) name_en: &'static str,
    pub(super) awarded_on: String,
    pub(super) expires_on: String,
    pub(super) active: bool,
}

#[derive(Template)]
#[template(path = "enterprise.html")]
pub(super) struct EnterprisePage {
    pub(super) tr: Tr,
    pub(super) c: Chrome,
    pub(super) e: yuepin_domain::Enterprise,
    pub(super) city_name: String,
    pub(super) division_name: String,
    pub(super) capital: String,
    pub(super) listing: String,
    pub(super) designations: Vec<DesignationRow>,
    pub(super) financials: Vec<(i32, String, String)>,
    pub(super) s: yuepin_enterprises_service::QualitySummary,
    pub(super) events: Vec<(String, String, String)>,
    pub(super) products: Vec<yuepin_enterprises_service::ProductRecord>,
    pub(super) complaints_12m: i64,
    pub(super) warnings: Vec<yuepin_complaints_service::WarningRef>,
}

/// One line describing a quality event, for tables.
pub fn describe_event(kind: &QualityEventKind, tr: Tr) -> String {
    match kind {
        QualityEventKind::Inspection {
            agency,
            report_no,
            result,
            failed_items,
        } => {
            let verdict = match result {
                yuepin_domain::InspectionResult::Pass => tr.t("合格", "pass").to_string(),
                yuepin_domain::InspectionResult::Fail => {
                    format!("{}: {}", tr.t("不合格", "FAIL"), failed_items.join("、"))
                }
            };
            format!("{agency} {report_no} — {verdict}")
        }
        QualityEventKind::Certification(c) => format!(
            "{} {} ({}) {} — {}",
            c.scheme, c.number, c.issuer, c.valid_from, c.valid_until
        ),
        QualityEventKind::Award { name, level } => format!("{name} ({level})"),
        QualityEventKind::Standard { code, level, role } => format!(
            "{code} {} {}",
            level.name_zh(),
            match role {
                yuepin_domain::StandardRole::Lead => tr.t("主导", "led"),
                yuepin_domain::StandardRole::Participant => tr.t("参与", "took part"),
            }
        ),
        QualityEventKind::Penalty {
            authority,
            decision_no,
            amount,
            serious,
            reason,
        } => format!(
            "{authority} {decision_no} {reason} {}{}",
            amount.to_zh(),
            if *serious {
                tr.t(" (严重)", " (serious)")
            } else {
                ""
            }
        ),
    }
}
