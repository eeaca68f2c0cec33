//! The web layer's request-body decoders, as a client can call them: `ApiJson`'s JSON decoder
//! (the text rule by path, then serde with the field named) and `PageForm`'s form decoder,
//! into free-form and typed targets. Never a panic; a body that decodes holds only acceptable
//! text (no control character, no U+FFFD, no string over the length bound).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use yuepin_domain::text::text_problem;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Typed {
    name: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    count: i64,
    #[serde(default)]
    on: bool,
    #[serde(default)]
    parts: Vec<HashMap<String, String>>,
}

fn all_text_ok(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => text_problem(s).is_none(),
        serde_json::Value::Array(items) => items.iter().all(all_text_ok),
        serde_json::Value::Object(map) => map
            .iter()
            .all(|(k, v)| text_problem(k).is_none() && all_text_ok(v)),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = yuepin_web::json_body::decode::<serde_json::Value>(data) {
        assert!(all_text_ok(&v), "a decoded body holds refused text");
    }
    let _ = yuepin_web::json_body::decode::<Typed>(data);
    let _ = yuepin_web::json_body::decode::<yuepin_domain::QualityEvent>(data);
    if let Ok(form) = yuepin_web::form::decode::<HashMap<String, String>>(data) {
        assert!(
            form.iter()
                .all(|(k, v)| text_problem(k).is_none() && text_problem(v).is_none()),
            "a decoded form holds refused text"
        );
    }
    let _ = yuepin_web::form::decode::<Typed>(data);
});
