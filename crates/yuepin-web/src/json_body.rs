//! The API's JSON body extractor ([`ApiJson`]): every rejection is our JSON error, worded for
//! the client and naming where the body went wrong (the field's path, the line and column),
//! never a Rust type (serde's "expected struct TokenRequest" becomes "expected an object").
//! Strings holding NUL or another control character (tab and line breaks aside), U+FFFD, or
//! more than `MAX_TEXT_CHARS` characters are refused with their field's path before the body
//! is decoded (ASVS 2.2.1; `yuepin_domain::text::text_problem`).

use crate::error::{FieldError, WebError};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

/// `Json<T>` with errors in our format: a wrong content type or malformed JSON is
/// `bad_request`, a well-formed body with a wrong or missing field is `invalid_input` with
/// that field, a body over the limit is `payload_too_large`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = WebError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(WebError::BadRequest(
                "请求须为JSON (expected a JSON body with Content-Type: application/json)".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => WebError::PayloadTooLarge,
                _ => WebError::BadRequest("无法读取请求体 (could not read the body)".into()),
            }
        })?;
        decode(&bytes).map(ApiJson)
    }
}

fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Decodes a JSON body, reporting the first problem as [`WebError`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    // Malformed JSON is reported as such even where a wrong type comes first.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| data_error(".", e))?;
    if let Some((field, message)) = problem_in(&value, String::new()) {
        return Err(WebError::Invalid(vec![FieldError { field, message }]));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        data_error(&path, e.into_inner())
    })?;
    de.end().map_err(|e| data_error(".", e))?;
    Ok(value)
}

/// The path (`parts[0].model`) of the first string or key that is not acceptable text (a
/// control character other than tab and line breaks, U+FFFD, too long), with the reason.
fn problem_in(value: &serde_json::Value, path: String) -> Option<(String, String)> {
    use serde_json::Value;
    use yuepin_domain::text::text_problem;
    let named = |path: &str| {
        if path.is_empty() {
            "body".to_string()
        } else {
            path.to_string()
        }
    };
    match value {
        Value::String(s) => text_problem(s).map(|r| (named(&path), r)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| problem_in(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            match text_problem(k) {
                Some(r) => Some((named(&path), r)),
                None => problem_in(v, p),
            }
        }),
        _ => None,
    }
}

fn data_error(path: &str, e: serde_json::Error) -> WebError {
    let message = plain(&e.to_string());
    match e.classify() {
        Category::Data => {
            let named = ["missing field `", "unknown field `"]
                .iter()
                .find_map(|p| message.strip_prefix(p))
                .and_then(|rest| rest.split('`').next());
            let field = match (path, named) {
                (".", Some(name)) => name.to_string(),
                (".", None) => "body".to_string(),
                (p, Some(name)) => format!("{p}.{name}"),
                (p, None) => p.to_string(),
            };
            WebError::Invalid(vec![FieldError {
                field,
                message: format!("取值无效 ({message})"),
            }])
        }
        Category::Syntax | Category::Eof | Category::Io => WebError::BadRequest(format!(
            "请求体不是有效的JSON (invalid JSON body: {message})"
        )),
    }
}

/// serde's wording with Rust's type names replaced by JSON's.
pub fn plain(message: &str) -> String {
    let mut out = message.to_string();
    for (rust, json) in [
        ("internally tagged enum ", "one of the documented values"),
        ("adjacently tagged enum ", "one of the documented values"),
        ("untagged enum ", "one of the documented shapes"),
        ("struct variant ", "an object"),
        ("tuple variant ", "an array"),
        ("tuple struct ", "an array"),
        ("unit struct ", "null"),
        ("newtype struct ", "a value"),
        ("struct ", "an object"),
        ("enum ", "one of the documented values"),
    ] {
        out = replace_named(&out, rust, json);
    }
    for (rust, json) in [
        ("expected a borrowed string", "expected a string"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected an object"),
        ("expected option", "expected a value or null"),
        ("expected unit", "expected null"),
        ("invalid type: map", "invalid type: object"),
        ("invalid type: sequence", "invalid type: array"),
        ("invalid type: unit value", "invalid type: null"),
    ] {
        out = out.replace(rust, json);
    }
    for int in [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    ] {
        out = replace_word(&out, &format!("expected {int}"), "expected an integer");
    }
    for float in ["f32", "f64"] {
        out = replace_word(&out, &format!("expected {float}"), "expected a number");
    }
    replace_word(&out, "expected char", "expected one character")
}

/// Replaces `<kind><RustName>` (a name made of letters, digits, `_`, `:`, `<`, `>`) with
/// `json`, wherever `kind` starts a word.
fn replace_named(s: &str, kind: &str, json: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(kind) {
        let at_word = rest[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        out.push_str(&rest[..i]);
        let after = &rest[i + kind.len()..];
        let name_len = after
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '<' | '>')))
            .unwrap_or(after.len());
        if at_word && name_len > 0 {
            out.push_str(json);
            rest = &after[name_len..];
        } else {
            out.push_str(kind);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Replaces `word` where it is not followed by a letter or digit.
fn replace_word(s: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(word) {
        let after = &rest[i + word.len()..];
        out.push_str(&rest[..i]);
        if after.chars().next().is_some_and(char::is_alphanumeric) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_names_become_json_kinds() {
        assert_eq!(
            plain("invalid type: string \"x\", expected struct TokenRequest at line 1 column 3"),
            "invalid type: string \"x\", expected an object at line 1 column 3"
        );
        assert_eq!(
            plain("invalid value: integer `-1`, expected u32 at line 1 column 9"),
            "invalid value: integer `-1`, expected an integer at line 1 column 9"
        );
        assert_eq!(
            plain("invalid type: map, expected internally tagged enum OrderAction"),
            "invalid type: object, expected one of the documented values"
        );
        assert_eq!(plain("expected u32x"), "expected u32x");
        assert_eq!(plain("a construct thing"), "a construct thing");
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        parts: Vec<Part>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Part {
        minutes: u32,
    }

    fn field_of(body: &str) -> (String, String) {
        match decode::<Input>(body.as_bytes()) {
            Err(WebError::Invalid(f)) => (f[0].field.clone(), f[0].message.clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let (f, m) = field_of(r#"{"name": "a", "parts": [{"minutes": "x"}]}"#);
        assert_eq!(f, "parts[0].minutes");
        assert!(m.contains("expected an integer at line 1 column"), "{m}");
        assert_eq!(field_of(r#"{"parts": []}"#).0, "name");
        assert_eq!(
            field_of(r#"{"name": "a", "parts": [{}]}"#).0,
            "parts[0].minutes"
        );
        let (f, m) = field_of(r#""x""#);
        assert_eq!(f, "body");
        assert!(!m.contains("Input"), "{m}");
        assert!(matches!(
            decode::<Input>(b"{\"name\": "),
            Err(WebError::BadRequest(m)) if m.contains("line 1 column")
        ));
        assert!(matches!(
            decode::<Input>(br#"{"name": "a", "parts": []} x"#),
            Err(WebError::BadRequest(_))
        ));
    }
}
