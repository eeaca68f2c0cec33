//! The OpenAPI 3.1 document of `/api/v1`, generated from the code with utoipa: each capability
//! module annotates its handlers with `#[utoipa::path]` and collects them in its own
//! `ApiDoc`; [`document`] merges those under one info block, the security schemes of
//! [`crate::auth`] and the one error schema [`ErrorBody`]. `tests/api/openapi.rs` checks that
//! every `/api/v1` route of the routers is documented, and nothing else.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

/// Every error answer of the API (`WebError`'s `IntoResponse` in `crate::error`).
#[derive(serde::Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "invalid_input", "message": "uscc: 校验位错误",
    "fields": [{"field": "uscc", "message": "校验位错误"}], "field": "uscc"}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable kind of the error.
    pub code: ErrorCode,
    /// Bilingual (zh-CN, English) human message.
    pub message: String,
    /// Every invalid field (empty unless `code` is `invalid_input`).
    pub fields: Vec<crate::error::FieldError>,
    /// The first invalid field; present only when `code` is `invalid_input`.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `WebError::code()`.
#[derive(serde::Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    TooManyAttempts,
    Internal,
    PayloadTooLarge,
    UriTooLong,
    MethodNotAllowed,
    ReauthRequired,
    TotpEnrolmentRequired,
    PasswordChangeRequired,
}

fn error_response(status: u16, description: &str) -> BTreeMap<String, RefOr<Response>> {
    let content = Content::new(Some(Ref::from_schema_name("ErrorBody")));
    let response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content)
        .build();
    BTreeMap::from([(status.to_string(), RefOr::T(response))])
}

macro_rules! error_responses {
    ($($name:ident = $status:literal, $description:literal;)*) => {$(
        #[doc = $description]
        pub struct $name;
        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                error_response($status, $description)
            }
        }
    )*};
}

error_responses! {
    E400 = 400, "Invalid input (`invalid_input`, with the fields) or a malformed body (`bad_request`)";
    E401 = 401, "Sign-in required (`unauthenticated`)";
    E403 = 403, "The caller's role or tenant does not allow this (`forbidden`)";
    E404 = 404, "No such record (`not_found`)";
    E409 = 409, "Conflicts with the current state (`conflict`)";
    E429 = 429, "Too many failed attempts; see the Retry-After header (`too_many_attempts`)";
}

/// The session cookie of the pages and the bearer API tokens (`crate::auth`).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "API token from POST /api/v1/auth/token (`yp_…`), sent as `Authorization: Bearer …`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Page session cookie; unsafe methods also need the X-CSRF-Token header",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "粤品通 Yuepin API",
        description = "JSON API of the Yuepin platform for 粤市监〔2023〕74号. Generated from the code; \
            every `/api/v1` route is documented (checked by `tests/api/openapi.rs`). \
            Anonymous callers may use the public operations; the others need a bearer token or the page session.",
        license(name = "Apache-2.0"),
    ),
    servers((url = "/")),
    security(("bearer" = []), ("session" = []), ()),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "portal", description = "Reference tables and this document"),
        (name = "accounts", description = "Identity, API tokens, accounts and the audit log"),
        (name = "enterprises", description = "The enterprise registry: enterprises, quality files, products, quality events"),
        (name = "codes", description = "粤品通 product quality credit codes"),
        (name = "policy", description = "The policy engine: measures, matching, offers, applications and grants"),
        (name = "complaints", description = "Complaints, alarms, the lexicon and consumer warnings"),
        (name = "labs", description = "Shared laboratories: instruments, services, bookings and orders"),
        (name = "credit", description = "Quality credit: grades, consents for banks, credit reports and the Merkle log"),
        (name = "hospital", description = "Product hospital: hospitals, experts, cases with SLA clocks, the knowledge base"),
    ),
)]
struct Base;

/// The whole document: the base merged with every capability's `ApiDoc`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    for part in [
        crate::portal::ApiDoc::openapi(),
        crate::accounts::ApiDoc::openapi(),
        crate::enterprises::ApiDoc::openapi(),
        crate::enterprises::IdentityApiDoc::openapi(),
        crate::codes::ApiDoc::openapi(),
        crate::policy::ApiDoc::openapi(),
        crate::complaints::ApiDoc::openapi(),
        crate::labs::ApiDoc::openapi(),
        crate::credit::ApiDoc::openapi(),
        crate::hospital::ApiDoc::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

/// The document as served, built once.
pub static JSON: LazyLock<String> = LazyLock::new(|| {
    document()
        .to_json()
        .expect("the OpenAPI document serialises")
});

/// The `{uscc}` path parameter of the enterprise routes, described once for all of them.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // read by the OpenAPI derive only; handlers take `Path<String>`
pub struct UsccPath {
    /// 统一社会信用代码 of the enterprise
    #[param(example = "91440300708461136A")]
    uscc: String,
}
