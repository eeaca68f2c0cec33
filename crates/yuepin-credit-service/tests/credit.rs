//! The credit service without the router, on SQLite (default) or PostgreSQL
//! (`YUEPIN_TEST_DATABASE_URL`): granting a consent and verifying its signed artefact with the
//! published key, fetch limits (categories, range, count, interval, expiry), pause, resume and
//! revoke, exact counting under N parallel fetches, grades with history, and the Merkle log:
//! inclusion and consistency proofs against signed checkpoints, and detection of an altered,
//! deleted or reordered entry.

mod common;

use base64::Engine as _;
use common::*;
use yuepin_credit::merkle::{self, Hash};
use yuepin_credit::{Artefact, Categories, DateRange, FetchRefused, State, Status};
use yuepin_credit_service::{CreditError, FetchRequest, LogProblem, TaxNotice};
use yuepin_domain::{InspectionResult, QualityEventKind};

/// The text of a PDF through poppler's `pdftotext` (`None`, with a notice, when it is not
/// installed; under `CI` a missing tool fails).
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = std::env::temp_dir().join(format!(
        "yp-credit-pdf-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        _ if std::env::var_os("CI").is_some() => panic!("pdftotext is missing under CI"),
        _ => {
            eprintln!("NOTICE: pdftotext not installed; PDF text not checked");
            None
        }
    }
}

fn platform_key(fx: &Fx) -> ed25519_dalek::VerifyingKey {
    let jwks = fx.credit.published_keys().unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(x)
        .unwrap();
    ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().unwrap()).unwrap()
}

#[tokio::test]
async fn a_granted_consent_is_signed_and_listed_for_both_parties() {
    let fx = setup().await;
    let c = fx
        .credit
        .grant_consent(&fx.a, fx.bank_x, &terms(3, 30))
        .await
        .unwrap();
    assert_eq!(c.status, Status::Active);
    assert_eq!(c.enterprise_id, fx.ent_a);
    assert_eq!(
        c.terms.expires_at,
        c.terms.granted_at + chrono::Duration::days(30)
    );
    let art = Artefact::verify(&c.artefact, &c.kid, &platform_key(&fx)).unwrap();
    assert_eq!(art.consent_id, c.id);
    assert_eq!(art.bank.org_id, fx.bank_x);
    assert_eq!(art.max_fetches, 3);
    assert_eq!(art.enterprise.as_str(), fx.uscc_a);

    let mine = fx.credit.my_consents(&fx.a).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].events.len(), 1);
    assert!(fx.credit.my_consents(&fx.b).await.unwrap().is_empty());
    assert_eq!(fx.credit.bank_consents(&fx.x).await.unwrap().len(), 1);
    assert!(fx.credit.bank_consents(&fx.y).await.unwrap().is_empty());
}

#[tokio::test]
async fn fetches_keep_to_the_terms() {
    let fx = setup().await;
    let c = fx
        .credit
        .grant_consent(&fx.a, fx.bank_x, &terms(2, 30))
        .await
        .unwrap();
    // Not consented: lab reports.
    let lab = FetchRequest {
        categories: Categories::parse(["lab_reports"]).unwrap(),
        range: fetch().range,
    };
    assert!(matches!(
        fx.credit.fetch_report(&fx.x, &c.id, &lab).await,
        Err(CreditError::Refused(FetchRefused::Category { .. }))
    ));
    let wide = FetchRequest {
        categories: fetch().categories,
        range: DateRange::new(d("2020-01-01"), d("2026-11-30")).unwrap(),
    };
    assert!(matches!(
        fx.credit.fetch_report(&fx.x, &c.id, &wide).await,
        Err(CreditError::Refused(FetchRefused::Range))
    ));

    let r = fx
        .credit
        .fetch_report(&fx.x, &c.id, &fetch())
        .await
        .unwrap();
    assert_eq!(r.report.fetch_no, 1);
    assert_eq!(r.report.tax, TaxNotice::OfficialTaxChannel);
    assert!(r.report.grade.is_some());
    assert_eq!(r.report.inspections.as_ref().unwrap().len(), 2);
    assert!(r.report.lab_reports.is_none(), "not asked, not shown");
    assert!(r.report.complaints_12m.is_none(), "consented but not asked");
    // "tax" appears only as the notice's key and value, never as data.
    assert_eq!(r.json.matches("tax").count(), 2, "{}", r.json);
    // The signed report verifies and its hash is in the log entry.
    let payload = yuepin_credit::verify_json(&r.signed, "C1", &platform_key(&fx)).unwrap();
    assert_eq!(payload, r.json.as_bytes());
    let entries = fx.credit.my_log_entries(&fx.x).await.unwrap();
    let fetched = entries.iter().find(|e| e.index == r.log_index).unwrap();
    assert!(fetched.entry.contains(&r.report_sha256));

    // The PDF carries the same report in Chinese (pdftotext recovers it).
    let pdf = yuepin_credit_service::pdf::render(&r.report).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    if let Some(text) = pdftotext(&pdf) {
        if std::env::var_os("YUEPIN_SHOW_PDF").is_some() {
            eprintln!("{text}");
        }
        for want in [
            "质量信用报告",
            "测试企业1有限公司",
            "工商银行广东省分行",
            "银税互动",
            c.id.as_str(),
        ] {
            assert!(text.contains(want), "{want} missing from:\n{text}");
        }
    }

    let r2 = fx
        .credit
        .fetch_report(&fx.x, &c.id, &fetch())
        .await
        .unwrap();
    assert_eq!(r2.report.fetch_no, 2);
    assert!(matches!(
        fx.credit.fetch_report(&fx.x, &c.id, &fetch()).await,
        Err(CreditError::Refused(FetchRefused::Exhausted))
    ));
    let after = fx.credit.consent(&fx.a, &c.id).await.unwrap();
    assert_eq!(after.fetches_used, 2);
    assert_eq!(after.state, State::Exhausted);
    assert_eq!(after.events.len(), 3);
}

#[tokio::test]
async fn interval_pause_resume_revoke_and_expiry() {
    let fx = setup().await;
    let mut t = terms(10, 3);
    t.min_interval_minutes = 60;
    let c = fx.credit.grant_consent(&fx.a, fx.bank_x, &t).await.unwrap();
    fx.credit
        .fetch_report(&fx.x, &c.id, &fetch())
        .await
        .unwrap();
    assert!(matches!(
        fx.credit.fetch_report(&fx.x, &c.id, &fetch()).await,
        Err(CreditError::Refused(FetchRefused::TooSoon { .. }))
    ));
    fx.credit.clock().advance(chrono::Duration::minutes(61));
    let p = fx.credit.pause_consent(&fx.a, &c.id).await.unwrap();
    assert_eq!(p.status, Status::Paused);
    assert!(matches!(
        fx.credit.fetch_report(&fx.x, &c.id, &fetch()).await,
        Err(CreditError::Refused(FetchRefused::Paused))
    ));
    assert!(matches!(
        fx.credit.pause_consent(&fx.a, &c.id).await,
        Err(CreditError::Illegal(_))
    ));
    fx.credit.resume_consent(&fx.a, &c.id).await.unwrap();
    fx.credit
        .fetch_report(&fx.x, &c.id, &fetch())
        .await
        .unwrap();
    fx.credit.clock().advance(chrono::Duration::days(3));
    assert_eq!(
        fx.credit.consent(&fx.x, &c.id).await.unwrap().status,
        Status::Expired
    );
    assert!(matches!(
        fx.credit.fetch_report(&fx.x, &c.id, &fetch()).await,
        Err(CreditError::Refused(FetchRefused::Expired))
    ));
    assert!(matches!(
        fx.credit.resume_consent(&fx.a, &c.id).await,
        Err(CreditError::Illegal(_))
    ));

    let c2 = fx
        .credit
        .grant_consent(&fx.a, fx.bank_x, &terms(5, 30))
        .await
        .unwrap();
    let r = fx.credit.revoke_consent(&fx.a, &c2.id).await.unwrap();
    assert_eq!(r.status, Status::Revoked);
    assert!(matches!(
        fx.credit.fetch_report(&fx.x, &c2.id, &fetch()).await,
        Err(CreditError::Refused(FetchRefused::Revoked))
    ));
    assert!(matches!(
        fx.credit.resume_consent(&fx.a, &c2.id).await,
        Err(CreditError::Illegal(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_fetches_use_exactly_the_allowed_count() {
    const K: u32 = 4;
    const N: usize = 16;
    let fx = setup().await;
    let c = fx
        .credit
        .grant_consent(&fx.a, fx.bank_x, &terms(K, 30))
        .await
        .unwrap();
    // Grade once first, so the parallel fetches race only on the consent.
    fx.credit.grade(&fx.a, &fx.uscc_a).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..N {
        let credit = fx.credit.clone();
        let x = fx.x.clone();
        let id = c.id.clone();
        tasks.spawn(async move { credit.fetch_report(&x, &id, &fetch()).await });
    }
    let (mut ok, mut exhausted) = (0u32, 0usize);
    let mut fetch_nos = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(rep) => {
                ok += 1;
                fetch_nos.push(rep.report.fetch_no);
            }
            Err(CreditError::Refused(FetchRefused::Exhausted)) => exhausted += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(ok, K);
    assert_eq!(exhausted, N - K as usize);
    fetch_nos.sort();
    assert_eq!(fetch_nos, (1..=K).collect::<Vec<_>>());
    let after = fx.credit.consent(&fx.a, &c.id).await.unwrap();
    assert_eq!(after.fetches_used, K);
    assert_eq!(after.state, State::Exhausted);
    let v = fx.credit.verify_log(&fx.regulator).await.unwrap();
    assert_eq!(v.problem, None);
}

#[tokio::test]
async fn grades_are_explained_and_kept_with_history() {
    let fx = setup().await;
    let g1 = fx.credit.grade(&fx.a, &fx.uscc_a).await.unwrap();
    assert_eq!(g1.grading.contributions.len(), 1);
    assert_eq!(g1.grading.contributions[0].records.len(), 2);
    // Same file: no new row.
    let again = fx.credit.grade(&fx.regulator, &fx.uscc_a).await.unwrap();
    assert_eq!(again.id, g1.id);
    event(
        &fx.store,
        fx.ent_a,
        "2026-11-01",
        "penalty:粤市监罚〔2026〕1号",
        QualityEventKind::Penalty {
            authority: "广东省市场监督管理局".into(),
            decision_no: "粤市监罚〔2026〕1号".into(),
            amount: yuepin_domain::Yuan::parse("5万").unwrap(),
            serious: true,
            reason: "产品质量不合格".into(),
        },
    )
    .await;
    event(
        &fx.store,
        fx.ent_a,
        "2026-10-01",
        "inspection:SZ-2026-050",
        inspection("SZ-2026-050", InspectionResult::Fail),
    )
    .await;
    let g2 = fx.credit.grade(&fx.a, &fx.uscc_a).await.unwrap();
    assert!(g2.grading.score < g1.grading.score);
    assert_ne!(g2.id, g1.id);
    let history = fx.credit.grade_history(&fx.a, &fx.uscc_a).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].id, g2.id);
    // Each grade change is in the log, as the enterprise's entry.
    let mine = fx.credit.my_log_entries(&fx.a).await.unwrap();
    assert_eq!(
        mine.iter()
            .filter(|e| e.entry.contains("grade_changed"))
            .count(),
        2
    );
}

fn hashes(v: &[String]) -> Vec<Hash> {
    v.iter().map(|h| Hash::from_hex(h).unwrap()).collect()
}

#[tokio::test]
async fn proofs_verify_against_signed_checkpoints_and_tampering_is_found() {
    let fx = setup().await;
    let key = platform_key(&fx);
    let c = fx
        .credit
        .grant_consent(&fx.a, fx.bank_x, &terms(5, 30))
        .await
        .unwrap();
    fx.credit
        .fetch_report(&fx.x, &c.id, &fetch())
        .await
        .unwrap();
    // The bank keeps this checkpoint as a witness.
    let old =
        yuepin_credit::checkpoint::open(&fx.credit.checkpoint(&fx.x).await.unwrap(), &key).unwrap();
    let cy = fx
        .credit
        .grant_consent(&fx.b, fx.bank_y, &terms(5, 30))
        .await
        .unwrap();
    fx.credit.pause_consent(&fx.a, &c.id).await.unwrap();
    fx.credit
        .fetch_report(&fx.y, &cy.id, &fetch())
        .await
        .unwrap();

    // Every entry of bank X proves inclusion in the current signed tree.
    let entries = fx.credit.my_log_entries(&fx.x).await.unwrap();
    assert_eq!(entries.len(), 3, "grant, fetch, pause");
    for e in &entries {
        let p = fx
            .credit
            .inclusion_proof(&fx.x, e.index, None)
            .await
            .unwrap();
        let cp = yuepin_credit::checkpoint::open(&p.checkpoint, &key).unwrap();
        assert_eq!(cp.size, p.tree_size);
        let leaf = merkle::leaf_hash(p.entry.entry.as_bytes());
        assert_eq!(leaf.to_hex(), p.entry.leaf_hash);
        merkle::verify_inclusion(e.index, cp.size, &leaf, &hashes(&p.proof), &cp.root).unwrap();
    }
    // The old checkpoint is consistent with the new one.
    let cons = fx
        .credit
        .consistency_proof(&fx.x, old.size, None)
        .await
        .unwrap();
    let new = yuepin_credit::checkpoint::open(&cons.checkpoint, &key).unwrap();
    assert!(new.size > old.size);
    merkle::verify_consistency(
        old.size,
        new.size,
        &old.root,
        &new.root,
        &hashes(&cons.proof),
    )
    .unwrap();
    assert_eq!(
        fx.credit.verify_log(&fx.regulator).await.unwrap().problem,
        None
    );

    // Altered entry.
    let pool = fx.store.pool();
    let original: String = sqlx::Row::get(
        &sqlx::query("SELECT entry FROM credit_log WHERE idx = 1")
            .fetch_one(pool)
            .await
            .unwrap(),
        0,
    );
    sqlx::query("UPDATE credit_log SET entry = $1 WHERE idx = 1")
        .bind(original.replacen('{', "{ ", 1))
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        fx.credit.verify_log(&fx.regulator).await.unwrap().problem,
        Some(LogProblem::LeafMismatch { index: 1 })
    );
    // Altered entry with its leaf hash recomputed: the checkpoint no longer matches.
    let altered: String = sqlx::Row::get(
        &sqlx::query("SELECT entry FROM credit_log WHERE idx = 1")
            .fetch_one(pool)
            .await
            .unwrap(),
        0,
    );
    sqlx::query("UPDATE credit_log SET leaf_hash = $1 WHERE idx = 1")
        .bind(merkle::leaf_hash(altered.as_bytes()).to_hex())
        .execute(pool)
        .await
        .unwrap();
    assert!(matches!(
        fx.credit.verify_log(&fx.regulator).await.unwrap().problem,
        Some(LogProblem::Checkpoint { .. })
    ));
    sqlx::query("UPDATE credit_log SET entry = $1, leaf_hash = $2 WHERE idx = 1")
        .bind(&original)
        .bind(merkle::leaf_hash(original.as_bytes()).to_hex())
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        fx.credit.verify_log(&fx.regulator).await.unwrap().problem,
        None
    );

    // Reordered entries (both rows swapped, hashes and all): the checkpoints catch it.
    let rows = sqlx::query(
        "SELECT idx, entry, leaf_hash FROM credit_log WHERE idx IN (0, 1) ORDER BY idx",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let get = |i: usize, c: usize| -> String { sqlx::Row::get(&rows[i], c) };
    for (to, from) in [(0usize, 1usize), (1, 0)] {
        sqlx::query("UPDATE credit_log SET entry = $1, leaf_hash = $2 WHERE idx = $3")
            .bind(get(from, 1))
            .bind(get(from, 2))
            .bind(to as i64)
            .execute(pool)
            .await
            .unwrap();
    }
    assert!(matches!(
        fx.credit.verify_log(&fx.regulator).await.unwrap().problem,
        Some(LogProblem::Checkpoint { .. })
    ));
    for (to, from) in [(0usize, 0usize), (1, 1)] {
        sqlx::query("UPDATE credit_log SET entry = $1, leaf_hash = $2 WHERE idx = $3")
            .bind(get(from, 1))
            .bind(get(from, 2))
            .bind(to as i64)
            .execute(pool)
            .await
            .unwrap();
    }
    assert_eq!(
        fx.credit.verify_log(&fx.regulator).await.unwrap().problem,
        None
    );

    // A deleted entry.
    sqlx::query("DELETE FROM credit_log WHERE idx = 2")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        fx.credit.verify_log(&fx.regulator).await.unwrap().problem,
        Some(LogProblem::Gap { index: 2 })
    );
}
