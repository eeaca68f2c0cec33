//! Shared testing resources (measures 3 and 4) over HTTP: the JSON API under `/api/v1/labs`
//! (`api.rs`), the pages under `/labs` (`pages.rs`, view models in `views.rs`), request
//! parsing (`input.rs`), and the wording of the service's errors as statuses and bilingual
//! messages. Access is the service's: handlers pass the caller and show what comes back.

mod api;
mod input;
mod invoice;
mod pages;
mod schema;
mod views;

pub use api::ApiDoc;

use crate::error::WebError;
use crate::AppState;
use axum::Router;
use yuepin_domain::Denied;
use yuepin_labs_service::{Invalid, LabsError, Party};

pub fn router() -> Router<AppState> {
    api::router()
        .merge(pages::router())
        .merge(invoice::router())
}

impl From<LabsError> for WebError {
    fn from(e: LabsError) -> Self {
        match e {
            LabsError::Denied(Denied::OtherOrganisation) => {
                WebError::Forbidden("只能管理本实验室 (you may manage only your own lab)".into())
            }
            LabsError::Denied(d) => d.into(),
            LabsError::Store(e) => e.into(),
            LabsError::NotFound { entity, key } => WebError::NotFound(format!("{entity} {key}")),
            LabsError::Rejected { part, reason } => {
                let msg = reason.to_string();
                if matches!(reason, yuepin_labs::BookingRejection::Conflict { .. }) {
                    WebError::Conflict(msg)
                } else {
                    let field = match part {
                        Some(i) => format!("parts[{i}]"),
                        None => "booking".into(),
                    };
                    WebError::field(&field, msg)
                }
            }
            LabsError::DoubleBooked => WebError::Conflict(
                "该时段已被他人预约 (the slot was just booked by someone else)".into(),
            ),
            LabsError::Illegal(t) => WebError::Conflict(t.to_string()),
            LabsError::NotTesting { state } => WebError::Conflict(format!(
                "状态 {state} 不能执行 record_results：只能在检测中录入结果 (results are recorded while testing)"
            )),
            LabsError::Invalid(Invalid::BlackoutReason) => {
                WebError::field("reason", "须说明原因 (a reason is required)")
            }
            LabsError::Invalid(Invalid::Negative(field)) => {
                WebError::field(field, "不能为负数 (must not be negative)")
            }
            LabsError::Invalid(Invalid::QualificationValidity { latest }) => WebError::field(
                "valid_until",
                format!("有效期须在今天至 {latest} 之间（最长三年） (valid from today for at most three years, until {latest})"),
            ),
            LabsError::Invalid(Invalid::QualificationNotOurs) => WebError::Forbidden(
                "只能授予本实验室仪器所需的操作资格 (a lab grants only the qualifications its own instruments demand)".into(),
            ),
            LabsError::Invalid(i) => WebError::BadRequest(match i {
                Invalid::PartCount => "一次预约1至10台仪器 (book 1 to 10 instruments at once)".into(),
                Invalid::InstrumentInactive(id) => {
                    format!("仪器 {id} 已停用 (instrument is inactive)")
                }
                Invalid::CheckInTooEarly => {
                    "最早可在开始前30分钟签到 (check-in opens 30 minutes before the start)".into()
                }
                Invalid::WaitInPast => {
                    "候补时段须在未来 (the wanted time must be in the future)".into()
                }
                Invalid::AlreadyWaiting => {
                    "已在该仪器的候补队列中 (already on this instrument's waitlist)".into()
                }
                Invalid::SampleCount => "样品数量应为1至10000 (1 to 10,000 samples)".into(),
                Invalid::NoResults => "尚未录入检测结果 (no results recorded yet)".into(),
                Invalid::RevokeReason => "撤销须说明理由 (a reason is required)".into(),
                Invalid::ReportNumber(e) => e,
                Invalid::BlackoutReason => "须说明原因 (a reason is required)".into(),
                Invalid::Negative(_) => "不能为负数 (must not be negative)".into(),
                Invalid::QualificationValidity { .. } | Invalid::QualificationNotOurs => {
                    "资格授予无效 (invalid qualification grant)".into()
                }
            }),
            LabsError::LabCodeTaken(code) => {
                WebError::Conflict(format!("实验室代码 {code} 已存在 (lab code {code} is taken)"))
            }
            LabsError::NotLabAccount(_) => WebError::Conflict(
                "只有实验室账户可绑定实验室 (only lab accounts can be bound to a lab)".into(),
            ),
            LabsError::LabNotBound => WebError::Forbidden(
                "该实验室账户尚未绑定实验室 (this lab account is not bound to a lab)".into(),
            ),
            LabsError::NoEnterprise => {
                WebError::Forbidden("账户未绑定企业 (account has no enterprise)".into())
            }
            LabsError::NotYourAction(party) => WebError::Forbidden(
                match party {
                    Party::Lab => "该操作由实验室执行 (this action is the lab's)",
                    Party::Customer => "该操作由委托企业执行 (this action is the customer's)",
                    Party::LabStaff => "该操作由实验室人员执行 (this action is the lab staff's)",
                }
                .into(),
            ),
            LabsError::NotTester => WebError::Forbidden(
                "只有检测人员可录入结果 (only the tester records results)".into(),
            ),
            LabsError::NotOwnInstrument => WebError::Forbidden(
                "只能为本实验室的仪器登记内部使用 (internal use only on your own lab's instruments)"
                    .into(),
            ),
        }
    }
}
