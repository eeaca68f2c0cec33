//! Embeds every migration under `migrations/{sqlite,postgres}` into the crate and checks that the
//! two backends' migration lists are in lockstep (same file names, same order).

use std::{env, fs, path::Path};

fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    // Paths relative to the package and `CARGO_MANIFEST_DIR` in the generated code, not this
    // checkout's absolute paths: a target directory copied to another worktree must neither
    // miss a new migration nor embed the other checkout's files.
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations/sqlite");
    println!("cargo:rerun-if-changed=migrations/postgres");
    let sqlite = list(&root.join("sqlite"));
    let postgres = list(&root.join("postgres"));
    assert_eq!(
        sqlite, postgres,
        "SQLite and PostgreSQL migrations must be kept in lockstep"
    );
    let mut out = String::from("/// (version, name, sqlite sql, postgres sql), in order.\npub const MIGRATIONS: &[(i64, &str, &str, &str)] = &[\n");
    for name in &sqlite {
        println!("cargo:rerun-if-changed=migrations/sqlite/{name}");
        println!("cargo:rerun-if-changed=migrations/postgres/{name}");
        let version: i64 = name
            .split('_')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("migration {name} must start with a number"));
        out.push_str(&format!(
            "    ({version}, {name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/migrations/sqlite/{name}\")), include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/migrations/postgres/{name}\"))),\n"
        ));
    }
    out.push_str("];\n");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("migrations.rs"),
        out,
    )
    .unwrap();
}
