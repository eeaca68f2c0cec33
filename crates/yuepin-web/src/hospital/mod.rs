//! Product hospital (产品医院, measure 6) over HTTP: the JSON API under `/api/v1/hospital`
//! (`api.rs`), the pages for enterprises (open and follow cases), experts (my queue),
//! coordinators and the regulator (all cases, statistics with a server-drawn SVG chart) and
//! the public knowledge base (`pages.rs`, wording in `views.rs`), and the wording of the
//! service's errors. Access is the service's: handlers pass the caller and show what comes back.

mod api;
mod pages;
mod views;

pub use api::ApiDoc;

use crate::error::WebError;
use crate::AppState;
use axum::Router;
use yuepin_hospital_service::{HospitalError, Invalid};

pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

fn invalid_text(r: Invalid) -> &'static str {
    match r {
        Invalid::Missing => "必填 (required)",
        Invalid::TooLong => "过长 (too long)",
        Invalid::Malformed => "格式不正确 (malformed)",
        Invalid::OutOfRange => "超出允许范围 (out of range)",
        Invalid::Unknown => "无法识别 (unknown)",
        Invalid::Taken => "已存在或已使用 (already taken)",
        Invalid::NotOwn => "不是本企业的不合格记录 (not the enterprise's own failed record)",
        Invalid::NotExpert => "该账户不是专家账户 (not an expert account)",
        Invalid::Identifying => {
            "仍含企业名称或信用代码，请脱敏 (still names the enterprise: anonymise)"
        }
    }
}

impl From<HospitalError> for WebError {
    fn from(e: HospitalError) -> Self {
        match e {
            HospitalError::Denied(d) => d.into(),
            HospitalError::Store(e) => e.into(),
            HospitalError::NotFound { entity, key } => {
                WebError::NotFound(format!("{entity} {key}"))
            }
            HospitalError::Invalid { field, reason } => {
                WebError::field(field, invalid_text(reason))
            }
            HospitalError::Illegal(s) => WebError::Conflict(format!(
                "案件当前状态（{}）不能执行该操作 (a case {} cannot take this step)",
                s.from.name_zh(),
                s.from.name_en()
            )),
            HospitalError::ExpertNotBound => WebError::Forbidden(
                "该专家账户尚未登记为产品医院专家 (the expert account is not registered)".into(),
            ),
            HospitalError::NoEnterprise => {
                WebError::Forbidden("该账户未绑定企业 (the account has no enterprise)".into())
            }
            HospitalError::Import(errs) => WebError::Invalid(
                errs.into_iter()
                    .map(|e| crate::error::FieldError {
                        field: format!("row {} {}", e.row, e.field),
                        message: invalid_text(e.reason).to_string(),
                    })
                    .collect(),
            ),
            HospitalError::Calendar(e) => WebError::BadRequest(format!("节假日日历文件有误 ({e})")),
            HospitalError::Link(e) => WebError::Internal(e),
        }
    }
}
