//! The page form extractor ([`PageForm`]): `axum::Form` with the same text rules as the JSON
//! API (ASVS 2.2.1): a value holding a control character other than tab and line breaks,
//! U+FFFD, or more than `MAX_TEXT_CHARS` characters is refused with the field's name before
//! the form is decoded, and every refusal is an error page in the page's language (axum's own
//! rejection is English plain text).

use crate::cx::Cx;
use crate::error::{FieldError, WebError};
use crate::page::page_error;
use crate::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// A decoded `application/x-www-form-urlencoded` body whose every value is acceptable text.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let result = async {
            if !form_content_type(&parts.headers) {
                return Err(WebError::BadRequest(
                    "请求须为表单 (expected a form: application/x-www-form-urlencoded)".into(),
                ));
            }
            // The body limit layer has wrapped the body; going over it is an error here.
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|_| WebError::PayloadTooLarge)?;
            decode(&bytes)
        }
        .await;
        match result {
            Ok(value) => Ok(PageForm(value)),
            Err(e) => {
                // Only a refused form needs the caller, for the error page's language.
                let uri = parts.uri.clone();
                Err(match Cx::from_request_parts(&mut parts, state).await {
                    Ok(cx) => page_error(e, &cx.auth, &cx.state, &uri),
                    Err(auth_error) => auth_error.into_response(),
                })
            }
        }
    }
}

fn form_content_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Checks every name and value, then decodes the form into `T`, naming the field at fault.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    for (name, value) in form_urlencoded::parse(bytes) {
        let problem = yuepin_domain::text::text_problem(&name)
            .or_else(|| yuepin_domain::text::text_problem(&value));
        if let Some(message) = problem {
            return Err(WebError::Invalid(vec![FieldError {
                field: field_name(&name),
                message,
            }]));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| inner.strip_prefix(p))
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), named) {
            (".", Some(name)) => name.to_string(),
            (".", None) => "form".to_string(),
            (p, _) => p.to_string(),
        };
        WebError::Invalid(vec![FieldError {
            field,
            message: format!("缺少或无法识别 (missing or not understood: {inner})"),
        }])
    })
}

/// A field's name as it may be shown: bounded, and without the characters that were refused.
fn field_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !c.is_control() && *c != '\u{FFFD}')
        .take(64)
        .collect();
    if clean.is_empty() {
        "form".to_string()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Form {
        name: String,
        note: Option<String>,
    }

    fn refused(bytes: &[u8]) -> (String, String) {
        match decode::<Form>(bytes) {
            Err(WebError::Invalid(errs)) => (errs[0].field.clone(), errs[0].message.clone()),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn control_characters_length_and_missing_fields_are_named() {
        let form: Form = decode(b"name=%E7%B2%A4%E5%93%81&note=a%0D%0Ab").unwrap();
        assert_eq!(
            (form.name.as_str(), form.note.as_deref()),
            ("粤品", Some("a\r\nb"))
        );
        let (field, why) = refused(b"name=a%00b");
        assert_eq!(field, "name");
        assert!(why.contains("U+0000"), "{why}");
        let long = format!("name=x&note={}", "y".repeat(40_000));
        let (field, why) = refused(long.as_bytes());
        assert_eq!(field, "note");
        assert!(why.contains("40000"), "{why}");
        let (field, why) = refused(b"note=x");
        assert_eq!(field, "name");
        assert!(why.contains("missing field"), "{why}");
        let (field, _) = refused(b"na%1Bme=x");
        assert_eq!(field, "name");
    }
}
