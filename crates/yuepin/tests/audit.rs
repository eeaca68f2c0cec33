//! Issue 17 item 5 end to end: `yuepin audit checkpoint` writes a signed checkpoint (the witness
//! copy) with a key outside the database, and `yuepin audit verify --checkpoint` catches the
//! probe's two attacks that the chain alone cannot: a row edited with every later hash and the
//! head recomputed (named by row), and the last row dropped with the head reset. On SQLite, or
//! PostgreSQL when `YUEPIN_TEST_DATABASE_URL` names a server.

mod common;
use common::Cli;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// What a database writer can do: recompute a row's hash as the chain defines it.
fn row_hash(r: &sqlx::any::AnyRow, prev: &str) -> String {
    let get = |c: &str| r.get::<Option<String>, _>(c);
    let seq: i64 = r.get("seq");
    let mut h = Sha256::new();
    for part in [
        Some(seq.to_string()),
        get("at"),
        get("actor"),
        get("action"),
        get("entity"),
        get("entity_id"),
        Some(get("before_json").unwrap_or_else(|| "\u{0}".into())),
        Some(get("after_json").unwrap_or_else(|| "\u{0}".into())),
        Some(prev.to_string()),
    ] {
        h.update(part.unwrap_or_default().as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// Edits row `seq`'s recorded change, then recomputes every later row's link and hash and the
/// head, as the probe did ("editing row 380 … gives `audit log intact`").
async fn rewrite_from(store: &yuepin_store::Store, seq: i64) {
    let pool = store.pool();
    sqlx::query("UPDATE audit_log SET after_json = '{\"name\":\"forged\"}' WHERE seq = $1")
        .bind(seq)
        .execute(pool)
        .await
        .unwrap();
    let mut prev: String = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(seq - 1)
        .fetch_optional(pool)
        .await
        .unwrap()
        .map(|r| r.get("hash"))
        .unwrap_or_else(|| "0".repeat(64));
    let rows = sqlx::query("SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq")
        .bind(seq)
        .fetch_all(pool)
        .await
        .unwrap();
    for r in &rows {
        let hash = row_hash(r, &prev);
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&hash)
            .bind(r.get::<i64, _>("seq"))
            .execute(pool)
            .await
            .unwrap();
        prev = hash;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(pool)
        .await
        .unwrap();
}

/// Drops the last row and resets the head to the one before.
async fn drop_last(store: &yuepin_store::Store) {
    let pool = store.pool();
    let last: i64 = sqlx::query("SELECT MAX(seq) AS m FROM audit_log")
        .fetch_one(pool)
        .await
        .unwrap()
        .get("m");
    let prev: String = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(last - 1)
        .fetch_one(pool)
        .await
        .unwrap()
        .get("hash");
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(last)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(last - 1)
        .bind(&prev)
        .execute(pool)
        .await
        .unwrap();
}

fn users(cli: &Cli, names: &[&str]) {
    for name in names {
        let out = cli.run_with_input(
            &[
                "admin",
                "create-user",
                "--username",
                name,
                "--role",
                "regulator",
                "--password-stdin",
            ],
            Some("a-strong-password\n"),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

async fn rows(store: &yuepin_store::Store) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("n")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_checkpoint_names_the_rewritten_row_and_dropped_rows() {
    let cli = Cli::new("auditcp");
    cli.ok(&["migrate"]);
    users(&cli, &["usera1", "usera2", "usera3", "usera4", "usera5"]);
    let cp = cli.path("witness.txt");
    let cp = cp.to_str().unwrap();
    let out = cli.run(&["audit", "checkpoint", "--out", cp]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(cp).unwrap();
    let store = yuepin_store::Store::connect(&cli.url).await.unwrap();
    let n = rows(&store).await;
    assert!(n >= 5, "{n}");
    // The witness copy: origin, size, root, time, the signature line, then the row hashes.
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "yuepin.audit");
    assert_eq!(lines[1], n.to_string());
    assert!(lines[3].starts_with("timestamp "));
    assert!(lines[5].starts_with("\u{2014} yuepin.audit "));
    assert_eq!(lines[7], format!("entries {n}"));
    // The key is a file under the data directory, never in the database.
    assert!(cli.path("audit-keys/audit-A1.key").is_file());
    let key = cli.ok(&["audit", "key"]);
    assert!(key.starts_with("yuepin.audit+"), "{key}");

    // Rows written after the checkpoint are fine.
    users(&cli, &["userb1"]);
    let ok = cli.ok(&["audit", "verify", "--checkpoint", cp]);
    assert!(
        ok.contains("intact") && ok.contains("1 written since"),
        "{ok}"
    );
    // A witness holding only the public key checks the same.
    let ok = cli.ok(&[
        "audit",
        "verify",
        "--checkpoint",
        cp,
        "--public-key",
        key.trim(),
    ]);
    assert!(ok.contains("intact"), "{ok}");

    // Attack 1: row 3 edited, every later row and the head recomputed.
    rewrite_from(&store, 3).await;
    assert!(
        cli.ok(&["audit", "verify"]).contains("intact"),
        "the chain alone is fooled"
    );
    let err = cli.fails(&["audit", "verify", "--checkpoint", cp]);
    assert!(err.contains("rewritten: row 3 differs"), "{err}");
    // The attacker cannot sign a new checkpoint without the key file, and a checkpoint of
    // another key does not verify.
    let other = cli.path("other.key");
    let forged = cli.path("forged.txt");
    let out = cli.run(&[
        "audit",
        "checkpoint",
        "--key",
        other.to_str().unwrap(),
        "--out",
        forged.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let err = cli.fails(&["audit", "verify", "--checkpoint", forged.to_str().unwrap()]);
    assert!(
        err.contains("not valid") && err.contains("no signature"),
        "{err}"
    );
    // An edited witness copy is refused as well.
    let tampered = cli.file("tampered.txt", text.replacen(&lines[9][..8], "00000000", 1));
    let err = cli.fails(&["audit", "verify", "--checkpoint", &tampered]);
    assert!(err.contains("not valid"), "{err}");

    // Attack 2, on a fresh chain: drop the last row and reset the head.
    let cli = Cli::new("auditdrop");
    cli.ok(&["migrate"]);
    users(&cli, &["userc1", "userc2", "userc3"]);
    let cp = cli.path("witness.txt");
    let cp = cp.to_str().unwrap();
    cli.ok(&["audit", "checkpoint", "--out", cp]);
    let store = yuepin_store::Store::connect(&cli.url).await.unwrap();
    let n = rows(&store).await;
    drop_last(&store).await;
    assert!(
        cli.ok(&["audit", "verify"]).contains("intact"),
        "the chain alone is fooled"
    );
    let err = cli.fails(&["audit", "verify", "--checkpoint", cp]);
    assert!(
        err.contains(&format!("covers {n} rows, the database has {}", n - 1))
            && err.contains(&format!("rows {n} to {n} were dropped")),
        "{err}"
    );
    // The note alone (a witness that keeps no row hashes) still detects it.
    let note: String = std::fs::read_to_string(cp).unwrap();
    let note = &note[..note.find("\n\nentries").unwrap() + 1];
    let note = cli.file("note.txt", note);
    let err = cli.fails(&["audit", "verify", "--checkpoint", &note]);
    assert!(err.contains("dropped"), "{err}");
}

/// `yuepin serve` signs a checkpoint by itself at start (and every
/// `--audit-checkpoint-minutes`), into `DATA_DIR/audit-checkpoints/`; the kept file verifies
/// the chain, and a chain rewritten afterwards is caught against it.
#[tokio::test]
async fn the_server_writes_checkpoints_by_itself() {
    let cli = Cli::new("auditserve");
    users(&cli, &["chief"]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_yuepin"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--audit-checkpoint-minutes",
            "60",
        ])
        .env("YUEPIN_DATABASE_URL", &cli.url)
        .env("YUEPIN_DATA_DIR", cli.dir.path())
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let latest = cli.dir.path().join("audit-checkpoints").join("latest.txt");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !latest.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(latest.exists(), "no checkpoint written by the server");
    let kept: Vec<_> = std::fs::read_dir(latest.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("checkpoint-") && n.ends_with(".txt"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let latest = latest.to_str().unwrap();
    let out = cli.ok(&["audit", "verify", "--checkpoint", latest]);
    assert!(out.contains("intact"), "{out}");
    let store = yuepin_store::Store::connect(&cli.url).await.unwrap();
    rewrite_from(&store, 1).await;
    let err = cli.fails(&["audit", "verify", "--checkpoint", latest]);
    assert!(err.contains("row 1"), "{err}");
}
