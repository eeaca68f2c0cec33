//! Tidy: the architecture's checkable invariants (ARCHITECTURE.md, "Invariants"), read off the
//! source tree itself so that they stay true:
//! - the store core depends on no capability crate (pure or service);
//! - the CLI does not reach into the web crate's routes;
//! - the web crate reaches capability logic through services, not through capability SQL;
//! - every Rust source file opens with a `//!` comment;
//! - no source file passes 1,000 lines unless its first lines say why (`tidy: long-file`);
//! - Chinese text on pages takes full-width punctuation.

use std::path::{Path, PathBuf};

const MAX_LINES: usize = 1_000;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        if p.is_dir() {
            if name != "target" && !name.to_string_lossy().starts_with('.') {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn all_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates"), &mut files);
    files.sort();
    assert!(files.len() > 50, "found only {} source files", files.len());
    files
}

fn relative(p: &Path) -> String {
    p.strip_prefix(workspace())
        .unwrap_or(p)
        .display()
        .to_string()
}

/// The capability crates: the pure ones and their services.
fn capability_crates() -> Vec<String> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(workspace().join("crates"))
        .expect("crates/")
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_capability = matches!(
            name.as_str(),
            "yuepin-code" | "yuepin-policy" | "yuepin-complaints" | "yuepin-labs"
        ) || name.ends_with("-service");
        if is_capability {
            names.push(name);
        }
    }
    names
}

fn dependency_names(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).expect("Cargo.toml");
    let mut in_deps = false;
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line.contains("dependencies");
            continue;
        }
        if in_deps {
            if let Some((name, _)) = line.split_once('=') {
                let name = name.trim().trim_end_matches(".workspace").to_string();
                if !name.starts_with('#') && !name.is_empty() {
                    names.push(name);
                }
            }
        }
    }
    names
}

#[test]
fn the_store_core_depends_on_no_capability() {
    let deps = dependency_names(&workspace().join("crates/yuepin-store/Cargo.toml"));
    let bad: Vec<_> = capability_crates()
        .into_iter()
        .filter(|c| deps.contains(c))
        .collect();
    assert!(
        bad.is_empty(),
        "crates/yuepin-store depends on capability crates {bad:?}"
    );
}

#[test]
fn the_cli_does_not_import_web_routes() {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates/yuepin/src"), &mut files);
    let bad: Vec<_> = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .contains("yuepin_web::routes")
        })
        .map(|f| relative(f))
        .collect();
    assert!(bad.is_empty(), "the CLI imports web routes in {bad:?}");
}

#[test]
fn every_source_file_opens_with_a_module_comment() {
    let bad: Vec<_> = all_sources()
        .into_iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|f| relative(&f))
        .collect();
    assert!(
        bad.is_empty(),
        "files without a leading //! comment: {bad:?}"
    );
}

#[test]
fn no_source_file_is_long_without_a_reason() {
    let bad: Vec<_> = all_sources()
        .into_iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let lines = text.lines().count();
            let head: String = text.lines().take(15).collect::<Vec<_>>().join("\n");
            (lines > MAX_LINES && !head.contains("tidy: long-file"))
                .then(|| format!("{} ({lines} lines)", relative(&f)))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "files over {MAX_LINES} lines without a `tidy: long-file` reason at the top: {bad:?}"
    );
}

#[test]
fn the_web_crate_holds_no_sql() {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates/yuepin-web/src"), &mut files);
    let bad: Vec<_> = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .contains("sqlx::query")
        })
        .map(|f| relative(f))
        .collect();
    assert!(bad.is_empty(), "SQL in the web crate: {bad:?}");
}

/// Chinese text on pages takes full-width punctuation (GB/T 15834; issue 16): in the web
/// crate's templates and sources no ASCII comma, colon or semicolon stands between two Chinese
/// characters, and no ASCII parenthesis pair opens right after a Chinese character around
/// Chinese text. (CSV headers are not page text: a line holding `\u{feff}`, and a Rust line
/// with no string literal on it, are passed over.)
#[test]
fn chinese_text_on_pages_has_full_width_punctuation() {
    let han = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
    let mut files = Vec::new();
    rust_files(&workspace().join("crates/yuepin-web/src"), &mut files);
    let templates = workspace().join("crates/yuepin-web/templates");
    let mut stack = vec![templates];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "html") {
                files.push(p);
            }
        }
    }
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let rust = f.extension().is_some_and(|x| x == "rs");
            if line.contains("\\u{feff}") || (rust && !line.contains('"')) {
                continue;
            }
            let chars: Vec<char> = line.chars().collect();
            for i in 1..chars.len().saturating_sub(1) {
                let (a, c, b) = (chars[i - 1], chars[i], chars[i + 1]);
                let ascii_between = matches!(c, ',' | ':' | ';') && han(a) && han(b);
                let paren = c == '(' && han(a) && {
                    let inner: String = chars[i + 1..].iter().take_while(|&&x| x != ')').collect();
                    inner.chars().any(han) && !inner.contains('"') && !inner.contains('(')
                };
                if ascii_between || paren {
                    bad.push(format!(
                        "{}:{}: …{}…",
                        relative(f),
                        n + 1,
                        chars[i.saturating_sub(6)..(i + 6).min(chars.len())]
                            .iter()
                            .collect::<String>()
                    ));
                    break;
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "ASCII punctuation in Chinese text:\n{}",
        bad.join("\n")
    );
}
