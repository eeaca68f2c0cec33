//! The routes the router sources register, read from `src/**/*.rs` (every `.route("…", …)`
//! call with its method routers), for the checks that must cover every route: the OpenAPI
//! document (`openapi.rs`) and the access matrix (`access_matrix.rs`).

use std::collections::BTreeSet;
use std::path::Path;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text of the call whose `(` is at `open`, up to its matching `)` (string literals and
/// char literals skipped; good enough for router code).
fn call_args(src: &str, open: usize) -> &str {
    let bytes = src.as_bytes();
    let (mut depth, mut i, mut in_str) = (0usize, open, false);
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return &src[open + 1..i];
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    panic!("unbalanced .route( call")
}

/// Method routers named in a `.route(...)` call: `get(` `post(` … not part of a longer name.
fn methods_in(args: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for m in METHODS {
        let pat = format!("{m}(");
        let mut from = 0;
        while let Some(pos) = args[from..].find(&pat) {
            let at = from + pos;
            let prev = args[..at].chars().next_back();
            if !prev.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                found.push(m);
            }
            from = at + pat.len();
        }
    }
    found
}

/// Every (method, path) registered by a `.route("…", …)` call in `src/` whose path `keep`
/// accepts.
pub(crate) fn source_routes(keep: impl Fn(&str) -> bool) -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut routes = BTreeSet::new();
    for file in files {
        let src = std::fs::read_to_string(&file).unwrap();
        let mut from = 0;
        while let Some(pos) = src[from..].find(".route(") {
            let open = from + pos + ".route".len();
            from = open;
            let args = call_args(&src, open);
            let Some(path) = args
                .trim_start()
                .strip_prefix('"')
                .and_then(|rest| rest.split('"').next())
            else {
                continue;
            };
            if !keep(path) {
                continue;
            }
            let methods = methods_in(args);
            assert!(
                !methods.is_empty(),
                "{}: no method router found for {path}",
                file.display()
            );
            for m in methods {
                routes.insert((m.to_string(), path.to_string()));
            }
        }
    }
    routes
}
