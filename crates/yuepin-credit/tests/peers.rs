//! Checks against an independent implementation: a Python verifier (pycose, and cbor2 +
//! cryptography by hand) verifies the consent artefacts Rust signs, the signed checkpoint,
//! and — with its own RFC 9162 algorithms — our inclusion and consistency proofs. A tampered
//! artefact must fail there too. With `CI` set a missing peer fails the test; otherwise it is
//! skipped with a notice (the peers are those of `.ci/setup-yuepin-code.sh`).

use base64::Engine as _;
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use yuepin_code::{Kid, PrivateKey};
use yuepin_credit::merkle;
use yuepin_credit::*;
use yuepin_domain::Uscc;

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

fn peer_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pycose, cbor2, cryptography"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("test peer python3 with pycose, cbor2, cryptography is missing under CI");
        }
        eprintln!("NOTICE: skipping, python3 with pycose, cbor2, cryptography not installed");
    }
    ok
}

fn key() -> PrivateKey {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(20_261_202);
    PrivateKey::generate(Kid::parse("C1").unwrap(), &mut rng)
}

fn artefacts(key: &PrivateKey) -> Vec<String> {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let now = NaiveDateTime::parse_from_str("2026-12-02 13:48:49", "%Y-%m-%d %H:%M:%S").unwrap();
    Purpose::ALL
        .iter()
        .enumerate()
        .map(|(i, purpose)| {
            let terms = Terms::grant(
                &TermsRequest {
                    purpose: *purpose,
                    categories: Categories::new(DataCategory::ALL.into_iter().take(i + 2)).unwrap(),
                    data_range: DateRange::new(d("2024-01-01"), d("2026-12-01")).unwrap(),
                    max_fetches: 3 + i as u32,
                    min_interval_minutes: 60,
                    retention_days: 180,
                    valid_days: 90,
                },
                now,
            )
            .unwrap();
            let consent = Consent::new(
                ConsentId::from_random([i as u8 * 7 + 1; 16]),
                Uscc::assemble("91", "440300", &format!("{:08}", 10 + i)).unwrap(),
                BankRef {
                    org_id: 4,
                    name: "广州某银行".into(),
                },
                terms,
            );
            Artefact::of(&consent, "测试企业（深圳）有限公司").sign(key)
        })
        .collect()
}

fn job(key: &PrivateKey, artefacts: Vec<String>) -> serde_json::Value {
    let entries: Vec<Vec<u8>> = (0..13)
        .map(|i| format!("{{\"kind\":\"report_fetched\",\"n\":{i}}}").into_bytes())
        .collect();
    let leaves: Vec<merkle::Hash> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
    let root = merkle::root(&leaves);
    let t = Utc.with_ymd_and_hms(2026, 12, 2, 5, 48, 49).unwrap();
    let note = checkpoint::sign(&checkpoint::credit_checkpoint(13, root, t), key).to_text();
    let hexes = |v: Vec<merkle::Hash>| v.iter().map(|h| h.to_hex()).collect::<Vec<_>>();
    let inclusion: Vec<_> = (0..13u64)
        .map(|i| {
            serde_json::json!({"index": i, "size": 13,
                "proof": hexes(merkle::inclusion_proof(i, &leaves).unwrap())})
        })
        .collect();
    let consistency: Vec<_> = (1..=13u64)
        .map(|m| {
            serde_json::json!({"first": m, "second": 13,
                "first_root": merkle::root(&leaves[..m as usize]).to_hex(),
                "proof": hexes(merkle::consistency_proof(m, &leaves).unwrap())})
        })
        .collect();
    serde_json::json!({
        "jwk": jwk("C1", &key.verifying_key()),
        "artefacts": artefacts,
        "checkpoint": note,
        "leaves": entries.iter().map(hex::encode).collect::<Vec<_>>(),
        "inclusion": inclusion,
        "consistency": consistency,
    })
}

fn run(job: &serde_json::Value) -> (bool, String) {
    let dir = tempfile_dir();
    let path = dir.join("job.json");
    std::fs::write(&path, serde_json::to_vec(job).unwrap()).unwrap();
    let output = Command::new("python3")
        .arg(peers_dir().join("verify_credit.py"))
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        output.status.success(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "yuepin-credit-peer-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn python_verifies_artefacts_checkpoints_and_proofs() {
    if !peer_available() {
        return;
    }
    let k = key();
    let (ok, out) = run(&job(&k, artefacts(&k)));
    assert!(ok, "the Python peer refused:\n{out}");
    assert_eq!(
        out.matches("\"ok\": true").count(),
        3 + 1 + 13 + 13,
        "{out}"
    );
}

#[test]
fn python_refuses_a_tampered_artefact() {
    if !peer_available() {
        return;
    }
    let k = key();
    let mut signed = artefacts(&k);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut raw = b64.decode(&signed[0]).unwrap();
    // A byte inside the JSON payload ("max_fetches":3 becomes 4 …), signature unchanged.
    let at = raw
        .windows(15)
        .position(|w| w == b"\"max_fetches\":3")
        .unwrap()
        + 14;
    raw[at] = b'9';
    signed[0] = b64.encode(raw);
    let (ok, out) = run(&job(&k, signed));
    assert!(!ok, "a tampered artefact passed:\n{out}");
    assert!(out.contains("\"pycose\": false"), "{out}");
}
