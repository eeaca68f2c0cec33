//! The registry's pages and API: the enterprise directory, each enterprise's page and quality
//! file, products and quality events. Service errors become web errors here.

mod api;
mod identity;
mod pages;
mod schema;
mod views;

pub use api::ApiDoc;
pub use identity::ApiDoc as IdentityApiDoc;

pub use pages::ListQuery;
pub use views::describe_event;

use crate::error::WebError;
use crate::AppState;
use axum::routing::{get, post};
use axum::Router;
use yuepin_enterprises_service::{EnterprisesError, Invalid};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/enterprises", get(pages::enterprise_list))
        .route("/enterprises.csv", get(pages::directory_csv))
        .route("/enterprises.xlsx", get(pages::directory_xlsx))
        .route(
            "/enterprises/identity-changes",
            get(identity::changes_page).post(identity::request_change),
        )
        .route(
            "/enterprises/identity-changes/{id}/decide",
            post(identity::decide_form),
        )
        .route("/api/v1/identity-changes", get(identity::list_changes))
        .route("/api/v1/identity-changes/{id}", get(identity::get_change))
        .route(
            "/api/v1/identity-changes/{id}/approve",
            post(identity::approve_change),
        )
        .route(
            "/api/v1/identity-changes/{id}/reject",
            post(identity::reject_change),
        )
        .route("/enterprises/{uscc}", get(pages::enterprise_page))
        .route(
            "/api/v1/enterprises",
            get(api::search).post(api::create_enterprise),
        )
        .route(
            "/api/v1/enterprises/{uscc}",
            get(api::get_enterprise).put(api::update_enterprise),
        )
        .route(
            "/api/v1/enterprises/{uscc}/quality-file",
            get(api::quality_file),
        )
        .route(
            "/api/v1/enterprises/{uscc}/products",
            get(api::list_products).post(api::create_product),
        )
        .route(
            "/api/v1/enterprises/{uscc}/events",
            get(api::list_events).post(api::create_event),
        )
        .route(
            "/api/v1/products/{id}",
            get(api::get_product)
                .put(api::update_product)
                .delete(api::delete_product),
        )
}

fn invalid_message(reason: &Invalid) -> String {
    match reason {
        Invalid::UsccCannotChange => {
            "统一社会信用代码不可修改 (the credit code cannot change)".into()
        }
        Invalid::ModelCannotChange => {
            "型号不可修改，请新建产品 (model cannot change; create a new product)".into()
        }
        Invalid::NoSuchProduct => "产品不存在 (no such product)".into(),
        Invalid::ProductOfAnotherEnterprise => {
            "产品不属于该企业 (product of another enterprise)".into()
        }
        Invalid::UnknownCity(c) => format!("未知地市 {c:?} (unknown city)"),
        Invalid::Username => "用户名为3-40位字母、数字或._- (3-40 letters, digits or ._-)".into(),
        Invalid::Password(p) => password_message(*p).into(),
        Invalid::WrongPassword => "当前密码错误 (the current password is wrong)".into(),
        Invalid::SamePassword => {
            "新密码不能与当前密码相同 (the new password is the current one)".into()
        }
        Invalid::TokenDays => "有效期为1至365天 (a token lives 1 to 365 days)".into(),
        Invalid::EnterpriseRequired => {
            "企业用户必须绑定企业 (enterprise users belong to an enterprise)".into()
        }
        Invalid::EnterpriseNotAllowed => "仅企业用户绑定企业 (only enterprise users)".into(),
        Invalid::NoSuchEnterprise => "企业不存在 (no such enterprise)".into(),
        Invalid::Negative => "不能为负数 (must not be negative)".into(),
        Invalid::Required => "必填 (required)".into(),
        Invalid::TooLong(n) => format!("不能超过{n}个字符 (at most {n} characters)"),
        Invalid::ControlCharacter => "含有控制字符 (contains a control character)".into(),
        Invalid::AlreadyDecided => "该申请已处理 (already decided)".into(),
    }
}

/// The password rules' refusals (ASVS 6.2), worded.
pub(crate) fn password_message(p: yuepin_store::passwords::PasswordProblem) -> &'static str {
    use yuepin_store::passwords::PasswordProblem;
    match p {
        PasswordProblem::TooShort => "密码至少8个字符 (at least 8 characters)",
        PasswordProblem::TooLong => "密码最多128个字符 (at most 128 characters)",
        PasswordProblem::Common => {
            "该密码过于常见，请换一个 (one of the most common passwords; choose another)"
        }
    }
}

impl From<EnterprisesError> for WebError {
    fn from(e: EnterprisesError) -> Self {
        match e {
            EnterprisesError::Denied(d) => d.into(),
            EnterprisesError::NoSuchEnterprise(u) => {
                WebError::NotFound(format!("企业 {u} 不存在 (no such enterprise)"))
            }
            EnterprisesError::NoSuchProduct(id) => {
                WebError::NotFound(format!("产品 #{id} 不存在 (no such product)"))
            }
            EnterprisesError::EnterpriseExists(u) => {
                WebError::Conflict(format!("企业 {u} 已存在 (already exists)"))
            }
            EnterprisesError::ModelExists(m) => {
                WebError::Conflict(format!("型号 {m} 已存在 (model exists)"))
            }
            EnterprisesError::WrongCredentials => {
                WebError::BadRequest("用户名或密码错误 (wrong username or password)".into())
            }
            EnterprisesError::Throttled { retry_after_secs } => {
                WebError::TooManyAttempts(retry_after_secs)
            }
            EnterprisesError::NoSuchIdentityChange(id) => {
                WebError::NotFound(format!("变更申请 #{id} 不存在 (no such change request)"))
            }
            EnterprisesError::NoSuchToken(id) => {
                WebError::NotFound(format!("令牌 #{id} 不存在 (no such token)"))
            }
            EnterprisesError::WrongCode | EnterprisesError::ChallengeExpired => {
                crate::accounts::second_factor_error(&e)
            }
            EnterprisesError::TotpNotPending | EnterprisesError::TotpEnrolled => {
                crate::accounts::second_factor_error(&e)
            }
            EnterprisesError::NoSuchUser(u) => {
                WebError::NotFound(format!("用户 {u} 不存在 (no such account)"))
            }
            EnterprisesError::UsernameTaken(u) => {
                WebError::Conflict(format!("用户名已存在 (username {u} is taken)"))
            }
            EnterprisesError::Invalid { field, reason } => {
                WebError::field(field, invalid_message(&reason))
            }
            // An operator's problem (the key file is missing or another one), not the user's.
            EnterprisesError::NoTotpKey | EnterprisesError::Seal(_) => {
                WebError::Internal(e.to_string())
            }
            EnterprisesError::Domain(d) => d.into(),
            EnterprisesError::Store(s) => s.into(),
        }
    }
}
