//! The one web error type: every failure becomes a status code and either a JSON body
//! (`{"error": {...}}`) for the API or an HTML page for browsers.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use yuepin_store::StoreError;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("login required")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many attempts; retry after {0} s")]
    TooManyAttempts(u64),
    #[error("internal error")]
    Internal(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("request address too long")]
    UriTooLong,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A recent re-authentication is needed first (ASVS 7.5.3).
    #[error("re-authentication required")]
    ReauthRequired,
    /// The account must enrol its second factor before anything else.
    #[error("second factor enrolment required")]
    TotpEnrolmentRequired,
    /// The account must replace its temporary password before anything else.
    #[error("password change required")]
    PasswordChangeRequired,
    /// A page answers with a redirect (303) to a local path.
    #[error("see {0}")]
    SeeOther(String),
}

impl WebError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        WebError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Invalid(_) | WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::UriTooLong => StatusCode::URI_TOO_LONG,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::ReauthRequired => StatusCode::UNAUTHORIZED,
            WebError::TotpEnrolmentRequired | WebError::PasswordChangeRequired => {
                StatusCode::FORBIDDEN
            }
            WebError::SeeOther(_) => StatusCode::SEE_OTHER,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            WebError::Invalid(_) => "invalid_input",
            WebError::BadRequest(_) => "bad_request",
            WebError::Unauthenticated => "unauthenticated",
            WebError::Forbidden(_) => "forbidden",
            WebError::NotFound(_) => "not_found",
            WebError::Conflict(_) => "conflict",
            WebError::TooManyAttempts(_) => "too_many_attempts",
            WebError::Internal(_) => "internal",
            WebError::PayloadTooLarge => "payload_too_large",
            WebError::UriTooLong => "uri_too_long",
            WebError::MethodNotAllowed => "method_not_allowed",
            WebError::ReauthRequired => "reauth_required",
            WebError::TotpEnrolmentRequired => "totp_enrolment_required",
            WebError::PasswordChangeRequired => "password_change_required",
            WebError::SeeOther(_) => "see_other",
        }
    }

    /// The message in one language, for pages: each field's reason in the page's language.
    pub fn message_in(&self, tr: crate::i18n::Tr) -> String {
        match self {
            WebError::Invalid(errs) => errs
                .iter()
                .map(|e| format!("{}: {}", e.field, tr.pick(&e.message)))
                .collect::<Vec<_>>()
                .join("; "),
            // The page shows the reason alone: the English variant prefix ("forbidden: ") is
            // for logs and the JSON shape, and would keep `pick` from finding the Chinese.
            WebError::BadRequest(m)
            | WebError::Forbidden(m)
            | WebError::NotFound(m)
            | WebError::Conflict(m) => tr.pick(m),
            WebError::TooManyAttempts(secs) => format!(
                "{} {secs} {}",
                tr.t("尝试次数过多，请在", "Too many attempts; retry after"),
                tr.t("秒后重试", "s")
            ),
            other => tr.pick(&other.message()),
        }
    }

    /// The status line of an error page in the page's language: "403 无权访问".
    pub fn title_in(&self, tr: crate::i18n::Tr) -> String {
        let status = self.status();
        let zh = match status.as_u16() {
            400 => "输入有误",
            401 => "需要登录",
            403 => "无权访问",
            404 => "页面不存在",
            405 => "请求方法不支持",
            409 => "操作冲突",
            413 => "内容过大",
            414 => "地址过长",
            429 => "请求过于频繁",
            _ => "服务器内部错误",
        };
        let en = status.canonical_reason().unwrap_or("Error");
        format!("{} {}", status.as_u16(), tr.t(zh, en))
    }

    /// A short human message (bilingual) for the JSON error shape and logs.
    pub fn message(&self) -> String {
        match self {
            WebError::Invalid(errs) => errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            WebError::Unauthenticated => "请先登录 (please sign in)".into(),
            WebError::Internal(_) => "服务器内部错误 (internal error)".into(),
            WebError::PayloadTooLarge => format!(
                "请求体过大，上限 {} KiB (request body over {} KiB)",
                crate::BODY_LIMIT / 1024,
                crate::BODY_LIMIT / 1024
            ),
            WebError::UriTooLong => format!(
                "请求地址过长，上限 {} 字节 (request address over {} bytes)",
                crate::api_errors::MAX_URI_LEN,
                crate::api_errors::MAX_URI_LEN
            ),
            WebError::MethodNotAllowed => {
                "该地址不支持此请求方法 (method not allowed for this address)".into()
            }
            WebError::ReauthRequired => "请先重新验证身份（密码或动态验证码）后再操作 (re-authenticate with your password or a TOTP code first: POST /api/v1/auth/reauth, or a bearer token issued in the last minutes)".into(),
            WebError::TotpEnrolmentRequired => "该账号须先绑定动态验证码(/account/totp)(this account must enrol a TOTP second factor first at /account/totp)".into(),
            WebError::PasswordChangeRequired => "请先修改管理员重置的临时密码(/account/password)(change the temporary password first at /account/password)".into(),
            other => other.to_string(),
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => WebError::NotFound(what),
            StoreError::Conflict(what) => WebError::Conflict(what),
            other => {
                tracing::error!(error = %other, "store error");
                WebError::Internal(other.to_string())
            }
        }
    }
}

impl From<yuepin_domain::Denied> for WebError {
    fn from(e: yuepin_domain::Denied) -> Self {
        use yuepin_domain::Denied;
        match e {
            Denied::SignInRequired => WebError::Unauthenticated,
            Denied::Role { needs } => WebError::Forbidden(format!(
                "该操作仅限{}账号使用 (requires role {})",
                needs
                    .iter()
                    .map(|r| r.name_zh())
                    .collect::<Vec<_>>()
                    .join("、"),
                needs
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join("/"),
            )),
            Denied::OtherEnterprise => {
                WebError::Forbidden("无权访问该企业的数据 (not your enterprise)".into())
            }
            Denied::OtherOrganisation => {
                WebError::Forbidden("无权访问其他机构的数据 (not your organisation)".into())
            }
        }
    }
}

impl From<yuepin_domain::DomainError> for WebError {
    fn from(e: yuepin_domain::DomainError) -> Self {
        WebError::field(e.field, e.reason)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::SeeOther(to) = &self {
            return crate::redirect::see_other(to);
        }
        let status = self.status();
        let fields = match &self {
            WebError::Invalid(errs) => errs.clone(),
            _ => vec![],
        };
        let mut body = serde_json::json!({
            "error": { "code": self.code(), "message": self.message(), "fields": fields }
        });
        if let (WebError::Invalid(errs), Some(obj)) = (&self, body["error"].as_object_mut()) {
            if let Some(first) = errs.first() {
                obj.insert("field".into(), first.field.clone().into());
            }
        }
        let mut resp = (status, axum::Json(body)).into_response();
        if let WebError::TooManyAttempts(secs) = self {
            if let Ok(v) = secs.to_string().parse() {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}

pub type WebResult<T> = Result<T, WebError>;
