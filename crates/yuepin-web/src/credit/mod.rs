//! Quality credit (measures 6, 18, 19, 24) over HTTP: the JSON API under `/api/v1/credit`
//! (`api.rs`, answers in `views.rs`), the consent dashboard page (`pages.rs`) and the wording of the service's errors as statuses and
//! bilingual messages. Access is the service's: handlers pass the caller and show what comes
//! back (banks reach enterprise data only here, under a live consent of their own).

mod api;
mod pages;
mod views;

pub use api::ApiDoc;

use crate::error::WebError;
use crate::AppState;
use axum::Router;
use yuepin_credit::{FetchRefused, TermsError};
use yuepin_credit_service::CreditError;

pub fn router() -> Router<AppState> {
    api::router().merge(pages::router())
}

fn terms_error(e: TermsError) -> WebError {
    let (field, msg) = match e {
        TermsError::Purpose(p) => ("purpose", format!("未知用途 {p} (unknown purpose)")),
        TermsError::Category(c) => ("categories", format!("未知数据类别 {c} (unknown category)")),
        TermsError::TaxNeverShared => (
            "categories",
            "涉税数据不经本平台提供，请通过税务部门“银税互动”渠道获取 (tax data is never shared here; use the official tax channel)".into(),
        ),
        TermsError::NoCategories => ("categories", "至少选择一类数据 (choose at least one category)".into()),
        TermsError::DateRange => ("data_to", "结束日期早于开始日期 (the range ends before it starts)".into()),
        TermsError::FutureRange => ("data_to", "数据区间不能晚于今天 (the range may not end after today)".into()),
        TermsError::MaxFetches => ("max_fetches", format!("调用次数应为1至{} (1 to {} fetches)", yuepin_credit::consent::MAX_FETCHES, yuepin_credit::consent::MAX_FETCHES)),
        TermsError::Interval => ("min_interval_minutes", "间隔应为0至43200分钟 (0 to 43,200 minutes)".into()),
        TermsError::Retention => ("retention_days", "保存期限应为1至1830天 (1 to 1,830 days)".into()),
        TermsError::Validity => ("valid_days", "有效期应为1至366天 (1 to 366 days)".into()),
        TermsError::ConsentId => ("id", "授权编号格式不正确 (malformed consent id)".into()),
    };
    WebError::field(field, msg)
}

impl From<CreditError> for WebError {
    fn from(e: CreditError) -> Self {
        match e {
            CreditError::Denied(d) => d.into(),
            CreditError::Store(e) => e.into(),
            CreditError::NotFound { entity, key } => WebError::NotFound(format!("{entity} {key}")),
            CreditError::Terms(t) => terms_error(t),
            CreditError::Refused(r) => match r {
                FetchRefused::TooSoon { next_at } => {
                    let wait = (next_at - yuepin_domain::china_now()).num_seconds().max(1);
                    WebError::TooManyAttempts(wait as u64)
                }
                FetchRefused::Revoked => {
                    WebError::Forbidden("授权已撤回 (the consent is revoked)".into())
                }
                FetchRefused::Paused => {
                    WebError::Forbidden("授权已暂停 (the consent is paused)".into())
                }
                FetchRefused::Expired => {
                    WebError::Forbidden("授权已过期 (the consent has expired)".into())
                }
                FetchRefused::Exhausted => WebError::Forbidden(
                    "授权调用次数已用完 (every allowed fetch has been used)".into(),
                ),
                FetchRefused::Category { category } => WebError::Forbidden(format!(
                    "未获授权的数据类别 {} (category not consented)",
                    category.code()
                )),
                FetchRefused::Range => WebError::Forbidden(
                    "所请求的数据区间超出授权范围 (the range is outside the consent)".into(),
                ),
            },
            CreditError::Illegal(t) => WebError::Conflict(format!("当前状态不能执行该操作 ({t})")),
            CreditError::Proof(p) => WebError::BadRequest(format!("无法生成证明 ({p})")),
            CreditError::BankNotBound => WebError::Forbidden(
                "该银行账户尚未绑定银行机构 (the bank account is not bound to a bank)".into(),
            ),
            CreditError::NoEnterprise => {
                WebError::Forbidden("该账户未绑定企业 (the account has no enterprise)".into())
            }
            CreditError::BankCodeTaken(c) => {
                WebError::Conflict(format!("银行代码 {c} 已存在 (bank code {c} is taken)"))
            }
            CreditError::Invalid(field) => WebError::field(field, "取值无效 (invalid value)"),
            CreditError::NotBankAccount(u) => WebError::field(
                "username",
                format!("{u} 不是银行账户 ({u} is not a bank account)"),
            ),
            CreditError::Key(e) | CreditError::QualityFile(e) | CreditError::Pdf(e) => {
                WebError::Internal(e)
            }
        }
    }
}
