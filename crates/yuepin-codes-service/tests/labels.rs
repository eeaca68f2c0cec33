//! Label sheets and code CSVs of a series, on the backend under test, read back by independent
//! tools: poppler's `pdftotext` recovers the Chinese (粤品通, product, producer, lot, serial),
//! `pdfinfo` counts the pages (13 labels: two A4 sheets, or 13 roll labels), and zbar decodes
//! the printed QR (rasterised by `pdftoppm` at 200 dpi) back to the code's URI. Another
//! enterprise cannot download them. The tools come from Debian (poppler-utils, zbar-tools;
//! installed by `.ci/run`); without them the test fails under CI and is skipped elsewhere.

use rand::SeedableRng;
use std::process::Command;
use yuepin_codes_service::{CodesError, CodesService, LabelLayout};
use yuepin_domain::{Enterprise, Product};
use yuepin_store::{Actor, Change};
use yuepin_test_support::{enterprise_json, enterprise_user, regulator, uscc, TestDb};

fn tools() -> bool {
    let found = ["pdftotext", "pdfinfo", "pdftoppm", "zbarimg"]
        .iter()
        .all(|t| Command::new(t).arg("-h").output().is_ok());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "poppler-utils and zbar-tools are required under CI"
        );
        eprintln!("SKIP: poppler-utils or zbar-tools not installed");
    }
    found
}

/// An enterprise with one product; returns (enterprise id, product id).
async fn enterprise(db: &TestDb, n: u32, name: &str, product: &str) -> (i64, i64) {
    let code = uscc(n);
    let e: Enterprise = serde_json::from_value(enterprise_json(&code, name)).unwrap();
    let registry = yuepin_enterprises_service::EnterprisesService::new(db.store.clone());
    let mut w = db.store.begin_write(Actor::cli("test")).await.unwrap();
    let id = registry.save_enterprise(&mut w, &e).await.unwrap();
    let p = Product {
        enterprise: e.uscc.clone(),
        name: product.into(),
        brand: "粤禾".into(),
        model: format!("RC-{n}"),
        gtin: None,
        category: "家用电器".into(),
        standard: None,
    };
    let product_id = registry.save_product(&mut w, id, &p).await.unwrap();
    w.record(Change::new("create", "enterprise", &code));
    db.store.commit(w).await.unwrap();
    (id, product_id)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn label_sheets_print_chinese_and_scannable_codes() {
    if !tools() {
        return;
    }
    let db = TestDb::new().await;
    let codes = CodesService::new(
        db.store.clone(),
        db.dir.path().join("keys"),
        "http://127.0.0.1:8080",
    );
    let (eid, product) = enterprise(&db, 41, "佛山市顺德区粤禾电器有限公司", "智能电饭煲").await;
    let (other, _) = enterprise(&db, 42, "另一家企业有限公司", "电水壶").await;
    let series = codes
        .grant_series(&regulator(), product, Some("2026A12"), 20, "标签测试")
        .await
        .unwrap();
    let owner = enterprise_user(eid);
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let issued = codes
        .issue(&owner, series.id, 13, 100, &mut rng)
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    for (layout, pages) in [(LabelLayout::A4, "2"), (LabelLayout::Roll, "13")] {
        let file = codes
            .series_label_pdf(&owner, series.id, 0, layout)
            .await
            .unwrap();
        assert!(file.file_name.ends_with(".pdf"), "{}", file.file_name);
        let path = dir.path().join(&file.file_name);
        std::fs::write(&path, &file.bytes).unwrap();
        let text = run(Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(&path)
            .arg("-"));
        // A long name wraps on the narrow roll label: compare with the line breaks removed.
        let joined = text.replace('\n', "");
        for needle in [
            "粤品通",
            "智能电饭煲",
            "佛山市顺德区粤禾电器有限公司",
            "批次 2026A12",
        ] {
            assert!(
                joined.contains(needle),
                "{layout:?}: {needle} not in {text}"
            );
        }
        assert!(text.contains(issued.codes[12].serial.as_str()), "{text}");
        let info = run(Command::new("pdfinfo").arg(&path));
        let count = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
        assert_eq!(
            count.split_whitespace().nth(1),
            Some(pages),
            "{layout:?}: {info}"
        );
        // The first label's QR, printed and scanned.
        let png = dir.path().join(format!("page-{}", layout.as_str()));
        run(Command::new("pdftoppm")
            .args(["-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile"])
            .arg(&path)
            .arg(&png));
        let scanned = run(Command::new("zbarimg")
            .args(["-q", "--raw"])
            .arg(png.with_extension("png")));
        assert!(
            scanned.lines().any(|l| l == issued.codes[0].uri),
            "{layout:?}: {scanned}"
        );
    }

    let csv = codes.series_codes_csv(&owner, series.id, 0).await.unwrap();
    let text = String::from_utf8(csv.bytes).unwrap();
    assert!(
        text.starts_with("\u{feff}序号,码URI,产品,生产企业,批次,序列号,签发日期"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 14);
    assert!(text.contains(&issued.codes[3].uri));

    // Another enterprise sees no such series.
    let stranger = enterprise_user(other);
    let refused = codes
        .series_label_pdf(&stranger, series.id, 0, LabelLayout::A4)
        .await;
    assert!(
        matches!(refused, Err(CodesError::NotFound { .. })),
        "{refused:?}"
    );
    let refused = codes.series_codes_csv(&stranger, series.id, 0).await;
    assert!(
        matches!(refused, Err(CodesError::NotFound { .. })),
        "{refused:?}"
    );
}
