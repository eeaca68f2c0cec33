//! `yuepin codes …` end to end on a data directory seeded with synthetic data: batch issue with CSV, QR images and the A4 label sheet, offline verification against the
//! exported key set and status list, revocation, key rotation and withdrawal, key-file modes.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yuepin"))
        .args(args)
        .env_remove("YUEPIN_DATABASE_URL")
        .env("YUEPIN_DATA_DIR", dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "yuepin {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn verify(dir: &Path, uri: &str, keys: &str, status: Option<&str>) -> (bool, String) {
    let mut args = vec![
        "codes",
        "verify",
        uri,
        "--keys",
        keys,
        "--root",
        "root.json",
    ];
    if let Some(s) = status {
        args.extend(["--status", s]);
    }
    let full: Vec<String> = args
        .iter()
        .map(|a| {
            if a.ends_with(".json") || a.ends_with(".jwt") {
                dir.join(a).display().to_string()
            } else {
                a.to_string()
            }
        })
        .collect();
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    let out = run(dir, &refs);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn issue_verify_revoke_rotate_withdraw() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let d = dir.display().to_string();
    // Base data straight into the data directory's SQLite database (the CLI's default).
    let url = format!("sqlite://{d}/yuepin.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = yuepin_store::Store::connect(&url).await.unwrap();
        let data = yuepin_demo::generate(2023, 20);
        let actor = yuepin_store::Actor::cli("test");
        yuepin_enterprises_service::EnterprisesService::new(store.clone())
            .import_enterprises(actor.clone(), &data.enterprises, "t", |_| {})
            .await
            .unwrap();
        yuepin_enterprises_service::EnterprisesService::new(store.clone())
            .import_products(actor, &data.products, "t", |_| {})
            .await
            .unwrap()
            .unwrap();
    });
    ok(dir, &["codes", "keys", "init"]);

    let p = |n: &str| dir.join(n).display().to_string();
    ok(
        dir,
        &[
            "codes",
            "keys",
            "export",
            "--out",
            &p("keys.json"),
            "--root-out",
            &p("root.json"),
        ],
    );
    let keys_text = std::fs::read_to_string(dir.join("keys.json")).unwrap();
    assert!(!keys_text.contains("seed") && keys_text.contains("\"kid\": \"A\""));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for f in ["root.key", "code-A.key"] {
            let mode = std::fs::metadata(dir.join("keys").join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }

    let out = ok(
        dir,
        &[
            "codes",
            "issue",
            "--product",
            "1",
            "--count",
            "3",
            "--lot",
            "L7",
            "--grant",
            "CLI test",
            "--out",
            &p("codes.csv"),
            "--qr-dir",
            &p("qr"),
            "--pdf",
            &p("labels.pdf"),
        ],
    );
    assert!(out.contains("issued 3 codes"), "{out}");
    let csv = std::fs::read_to_string(dir.join("codes.csv")).unwrap();
    let uris: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(uris.len(), 3);
    assert_eq!(std::fs::read_dir(dir.join("qr")).unwrap().count(), 6);
    assert!(std::fs::read(dir.join("labels.pdf"))
        .unwrap()
        .starts_with(b"%PDF"));

    let (ok_no_status, text) = verify(dir, &uris[0], "keys.json", None);
    assert!(ok_no_status && text.contains("status unknown"), "{text}");
    ok(dir, &["codes", "status-list", "0", "--out", &p("s.jwt")]);
    let (good, text) = verify(dir, &uris[0], "keys.json", Some("s.jwt"));
    assert!(good && text.starts_with("valid"), "{text}");
    let mut tampered = uris[0].replace("/L7/", "/L8/");
    let (good, text) = verify(dir, &tampered, "keys.json", Some("s.jwt"));
    assert!(!good && text.starts_with("signature-invalid"), "{text}");
    tampered = "https://example.com/01/123".into();
    let (_, text) = verify(dir, &tampered, "keys.json", None);
    assert!(text.starts_with("malformed"), "{text}");

    ok(
        dir,
        &[
            "codes",
            "status",
            "revoke",
            "--uri",
            &uris[0],
            "--reason",
            "labels stolen",
        ],
    );
    ok(dir, &["codes", "status-list", "0", "--out", &p("s.jwt")]);
    let (good, text) = verify(dir, &uris[0], "keys.json", Some("s.jwt"));
    assert!(!good && text.starts_with("revoked"), "{text}");
    let (good, _) = verify(dir, &uris[1], "keys.json", Some("s.jwt"));
    assert!(good);

    // Rotation: the retired key's codes keep verifying; new codes use the new key.
    let rotated = ok(dir, &["codes", "keys", "rotate"]);
    assert!(rotated.contains("new active key B"), "{rotated}");
    ok(dir, &["codes", "keys", "export", "--out", &p("keys2.json")]);
    ok(dir, &["codes", "status-list", "0", "--out", &p("s2.jwt")]);
    let (good, text) = verify(dir, &uris[1], "keys2.json", Some("s2.jwt"));
    assert!(good, "{text}");
    ok(
        dir,
        &[
            "codes",
            "issue",
            "--product",
            "1",
            "--count",
            "1",
            "--grant",
            "after rotation",
            "--out",
            &p("new.csv"),
        ],
    );
    assert!(std::fs::read_to_string(dir.join("new.csv"))
        .unwrap()
        .contains(",B\n"));

    // Withdrawal: its codes stop verifying.
    ok(
        dir,
        &["codes", "keys", "withdraw", "A", "--reason", "compromised"],
    );
    assert!(!dir.join("keys").join("code-A.key").exists());
    ok(dir, &["codes", "keys", "export", "--out", &p("keys3.json")]);
    let (good, text) = verify(dir, &uris[1], "keys3.json", None);
    assert!(!good && text.starts_with("key-withdrawn"), "{text}");
    let list = ok(dir, &["codes", "keys", "list"]);
    assert!(
        list.contains("withdrawn") && list.contains("retired") || list.contains("active"),
        "{list}"
    );
    assert!(run(dir, &["audit", "verify"]).status.success());
}
