//! Where a browser may be sent next: only local paths (an allow-list by shape, ASVS 5.0
//! 3.x / 5.1.5), written into `Location` so that building the header can never fail.
//!
//! A target from a form or a query (`next`, `back`) is followed only when it is a path on this
//! host: one leading `/` (not `//`, which browsers read as another host), no backslash (read
//! as `/`), no control character (browsers drop TAB, CR and LF from URLs, so `/\t/evil.com`
//! would become `//evil.com`), at most [`MAX_LEN`] bytes. Non-ASCII characters and spaces are
//! percent-encoded, so the result is always a valid header value.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The longest redirect target followed.
pub const MAX_LEN: usize = 2048;

/// `s` as a local path safe to redirect to, or `None`.
pub fn local_path(s: &str) -> Option<String> {
    let shaped = s.starts_with('/')
        && !s.starts_with("//")
        && s.len() <= MAX_LEN
        && !s.chars().any(|c| c == '\\' || c.is_control());
    shaped.then(|| encode(s))
}

/// `s` when it is a local path under `prefix` (the path itself, or below it), else `default`.
pub fn local_under(s: &str, prefix: &str, default: &str) -> String {
    local_path(s)
        .filter(|p| {
            p.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
        })
        .unwrap_or_else(|| default.to_string())
}

/// Percent-encodes what a header value or a URL may not carry raw (non-ASCII, space, `"`,
/// `<`, `>`, `` ` ``), keeping everything else (including existing `%XX` escapes).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() && !matches!(c, ' ' | '"' | '<' | '>' | '`') {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A 303 See Other to `target`, or to `/` when `target` is not a local path (never a 500).
pub fn see_other(target: &str) -> Response {
    let path = local_path(target).unwrap_or_else(|| "/".into());
    let value = HeaderValue::from_str(&path).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_pass() {
        for ok in ["/", "/enterprises", "/labs/my?x=1", "/a/%2F/b", "/.//x"] {
            assert_eq!(local_path(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "enterprises",
            "//evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "/\t/evil.com",
            "/\r\nSet-Cookie: x=1",
            "/\n/evil.com",
            "/\u{7f}",
            "/\u{85}x",
            "https://evil.com",
            " /x",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(local_path(&format!("/{}", "a".repeat(MAX_LEN))), None);
    }

    #[test]
    fn non_ascii_is_encoded() {
        assert_eq!(
            local_path("/enterprises?q=华为 x").as_deref(),
            Some("/enterprises?q=%E5%8D%8E%E4%B8%BA%20x")
        );
    }

    #[test]
    fn under_a_prefix() {
        assert_eq!(local_under("/labs/my", "/labs", "/d"), "/labs/my");
        assert_eq!(local_under("/labs", "/labs", "/d"), "/labs");
        assert_eq!(local_under("/labsevil", "/labs", "/d"), "/d");
        assert_eq!(local_under("/labs\r\n", "/labs", "/d"), "/d");
        assert_eq!(local_under("/enterprises", "/labs", "/d"), "/d");
    }
}
