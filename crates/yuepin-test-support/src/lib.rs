//! What every database-backed test needs: a fresh, migrated database on the backend under test
//! (a temporary SQLite file by default, a new PostgreSQL database on the server named by
//! `YUEPIN_TEST_DATABASE_URL`), test credit codes, and a minimal enterprise. Service tests use
//! it without the router, so the same test runs on both backends.

use rand::Rng;
use yuepin_domain::{Caller, Role};
use yuepin_store::Store;

/// A migrated database that lives as long as this value (its SQLite directory is removed on
/// drop; PostgreSQL test databases are dropped by `scripts/test` before the next run).
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("url", &self.url).finish()
    }
}

/// The backend the tests run on: `Some(server URL)` for PostgreSQL.
pub fn postgres_server() -> Option<String> {
    std::env::var("YUEPIN_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh database URL on the backend under test (created, not yet migrated).
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match postgres_server() {
        Some(server) => fresh_postgres(&server).await,
        None => format!("sqlite://{}", dir.join("test.db").display()),
    }
}

impl TestDb {
    /// Connects to a fresh database and runs the migrations.
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = fresh_database_url(dir.path()).await;
        let store = Store::connect(&url)
            .await
            .expect("connect to the test database");
        TestDb { store, url, dir }
    }
}

/// Creates a new, empty database on the PostgreSQL server and returns its URL.
pub async fn fresh_postgres(server: &str) -> String {
    use sqlx::Connection;
    let suffix: String = rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(12)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect();
    let name = format!("yp_t_{suffix}");
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .expect("connect to PostgreSQL");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let base = match server.rfind('/') {
        Some(i) if i > "postgres://".len() => &server[..i],
        _ => server,
    };
    format!("{base}/{name}")
}

/// A valid credit code (GB 32100) built from a small number, for test enterprises.
pub fn uscc(n: u32) -> String {
    yuepin_domain::Uscc::assemble("91", "440300", &format!("{n:08}"))
        .expect("a valid test credit code")
        .to_string()
}

/// The JSON of a Shenzhen electronics enterprise, as the API and the importers accept it.
pub fn enterprise_json(code: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "uscc": code, "name": name, "region": "深圳", "division": "39",
        "registered_capital": "5000万", "employees": 320, "founded_on": "2012-05-18",
        "listing": "unlisted",
        "designations": [{"kind": "little_giant", "awarded_on": "2022-07-01", "expires_on": "2025-06-30"},
                         {"kind": "high_tech", "awarded_on": "2024-12-01"}],
        "financials": [{"year": 2025, "revenue_china": "20亿元", "revenue_world": "25.5亿"}]
    })
}

/// Callers for service tests.
pub fn regulator() -> Caller {
    Caller::user(1, "regulator", Role::Regulator, None, None)
}
pub fn enterprise_user(enterprise_id: i64) -> Caller {
    Caller::user(
        100 + enterprise_id,
        &format!("ent{enterprise_id}"),
        Role::Enterprise,
        Some(enterprise_id),
        None,
    )
}
pub fn user_with_role(role: Role) -> Caller {
    Caller::user(50, role.as_str(), role, None, None)
}
