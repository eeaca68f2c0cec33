//! The one harness of the CLI tests: a `yuepin` process on a test's own database (a temporary
//! SQLite file, or a fresh PostgreSQL database when `YUEPIN_TEST_DATABASE_URL` names a server)
//! and data directory, with helpers that run it and assert on the outcome.

#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A test's database and data directory (removed when dropped).
pub struct Cli {
    pub dir: tempfile::TempDir,
    pub url: String,
}

/// A database URL of the test's own: a new PostgreSQL database named `yp_t_<tag>_…` on the
/// server of `YUEPIN_TEST_DATABASE_URL` (dropped by `scripts/test` before the next run), or a
/// SQLite file in `dir`.
pub fn fresh_db_url(dir: &Path, tag: &str) -> String {
    match std::env::var("YUEPIN_TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let name = format!(
                "yp_t_{tag}_{}_{:x}",
                std::process::id(),
                nanos % 0xffff_ffff
            );
            let out = Command::new("psql")
                .args([
                    "-q",
                    "-d",
                    &server,
                    "-c",
                    &format!("CREATE DATABASE {name}"),
                ])
                .output()
                .expect("psql");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let base = &server[..server.rfind('/').unwrap()];
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}", dir.join("cli.db").display()),
    }
}

impl Cli {
    /// A new database tagged `tag` (in PostgreSQL database names) and data directory.
    pub fn new(tag: &str) -> Cli {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_db_url(dir.path(), tag);
        Cli { dir, url }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// Writes `contents` to a file in the test's directory and returns its path as text.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_input(args, None)
    }
    /// Runs `yuepin args…` with `stdin` (if any) written to its standard input.
    pub fn run_with_input(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yuepin"));
        cmd.args(args)
            .env("YUEPIN_DATABASE_URL", &self.url)
            .env("YUEPIN_DATA_DIR", self.dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }
    /// Runs and asserts success; the standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "yuepin {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Runs and asserts failure; the standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "yuepin {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}
