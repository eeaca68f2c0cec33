//! The approval pre-check: the configurable rule applied to an enterprise's quality events for
//! one product. Pure: the use case reads the rule and the events and stores the result with
//! the application.

use crate::records::{ApprovalRule, Finding, FindingCode, Precheck};
use chrono::NaiveDate;
use yuepin_domain::{InspectionResult, QualityEventKind};
use yuepin_enterprises_service::EventRecord;

/// Evaluates the approval rule on an enterprise's quality events for one product as of `today`.
pub fn evaluate_rule(
    rule: &ApprovalRule,
    events: &[EventRecord],
    product_id: i64,
    today: NaiveDate,
) -> Precheck {
    let since = today
        .checked_sub_months(chrono::Months::new(rule.lookback_months))
        .unwrap_or(NaiveDate::MIN);
    let concerns = |p: Option<i64>| p.is_none() || p == Some(product_id);
    let mut findings = Vec::new();
    for e in events {
        if e.date < since || e.date > today {
            continue;
        }
        match &e.kind {
            QualityEventKind::Inspection {
                result: InspectionResult::Fail,
                report_no,
                ..
            } if rule.block_unresolved_failed_inspection && concerns(e.product_id) => {
                let resolved = events.iter().any(|later| {
                    later.product_id == e.product_id
                        && later.date > e.date
                        && matches!(
                            later.kind,
                            QualityEventKind::Inspection {
                                result: InspectionResult::Pass,
                                ..
                            }
                        )
                });
                if !resolved {
                    findings.push(Finding {
                        code: FindingCode::UnresolvedFailedInspection,
                        zh: format!("{} 监督抽查不合格(报告 {report_no}),其后无合格记录", e.date),
                        en: format!(
                            "failed inspection on {} (report {report_no}) with no later pass",
                            e.date
                        ),
                        date: e.date,
                    });
                }
            }
            QualityEventKind::Penalty {
                serious: true,
                decision_no,
                ..
            } if rule.block_serious_penalty => {
                findings.push(Finding {
                    code: FindingCode::SeriousPenalty,
                    zh: format!("{} 受到严重行政处罚(决定书 {decision_no})", e.date),
                    en: format!("serious penalty on {} (decision {decision_no})", e.date),
                    date: e.date,
                });
            }
            _ => {}
        }
    }
    Precheck {
        ok: findings.is_empty(),
        findings,
        rule: rule.clone(),
        as_of: today,
    }
}
