//! Black-box tests of the complaints module: import (good, bad, duplicate, GBK, JSON Lines,
//! XLSX), detection storing alarms and drafts, the warning workflow with the enterprise comment
//! window, the public page and Atom feed, masking everywhere outside the record, tenant
//! isolation, label corrections and the lexicon.

use crate::helpers::{uscc, TestApp};
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use yuepin_complaints::{generate, Category, GeneratorParams, Outbreak};
use yuepin_complaints_service::{
    ComplaintsService, DetectOptions, ImportOptions, ImportProgress, ImportReport,
};
use yuepin_domain::Caller;
use yuepin_domain::RegionCode;

const HEADER: &str = "id,received_at,channel,kind,region,enterprise_uscc,enterprise_name,category,division,problem,amount,text,complainant_name,complainant_phone,complainant_id_number,complainant_address";

pub(crate) async fn import(app: &TestApp, path: &Path) -> ImportReport {
    let opts = ImportOptions::for_path(path).expect("known extension");
    ComplaintsService::new(app.store.clone())
        .import(
            &Caller::cli("test"),
            path,
            opts,
            Arc::new(ImportProgress::default()),
        )
        .await
        .expect("import runs")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn small_csv(code: &str) -> String {
    format!(
        "{HEADER}\n\
C001,2026-10-01 09:00:00,热线,投诉,深圳,{code},深圳市澜汐电子科技有限公司,e_bike,,安全,2999,电动自行车充电时电池起火冒烟,张三丰,13812345678,440305199001011234,广东省深圳市南山区科技园1号\n\
C002,2026-10-02 10:00:00,网络,投诉,东莞市,,,,,质量,,新买的空调不制冷，联系电话13900001111,李四,13900001111,,\n\
C003,2026/10/3 11:00,微信,举报,441900,,某商店,cosmetics,,虚假宣传,88.5,面膜宣传美白效果虚假,王五,,,\n"
    )
}

#[tokio::test]
async fn import_links_classifies_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let code = uscc(11);
    app.create_enterprise(&reg, &code, "深圳市澜汐电子科技有限公司")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "good.csv", &small_csv(&code));
    let r = import(&app, &p).await;
    assert!(r.committed, "{:?}", r.errors);
    assert_eq!((r.rows, r.inserted, r.updated), (3, 3, 0));
    assert_eq!(r.linked, 1);
    assert!(
        r.classified >= 1,
        "C002 has no labels: the classifier fills them"
    );

    let list = app.get("/api/v1/complaints", Some(&reg)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    let c002 = items.iter().find(|c| c["ext_id"] == "C002").unwrap();
    assert_eq!(c002["category"], "air_conditioner");
    assert_eq!(c002["division"], 38);
    assert_eq!(c002["labels_source"], "classifier");
    assert_eq!(c002["city"], "441900");

    // Same file again: updates, never duplicates.
    let again = import(&app, &p).await;
    assert!(again.committed);
    assert_eq!((again.inserted, again.updated), (0, 3));
    // Changed content for an existing id updates it.
    let changed = small_csv(&code).replace("面膜宣传美白效果虚假", "面膜宣传祛斑效果虚假");
    let p2 = write(dir.path(), "changed.csv", &changed);
    assert!(import(&app, &p2).await.committed);
    let list = app.get("/api/v1/complaints", Some(&reg)).await.json();
    assert_eq!(list["total"], 3);
    assert!(list.to_string().contains("祛斑"));

    // JSON Lines with the same ids also updates.
    let jsonl = r#"{"id":"C003","received_at":"2026-10-03 11:00:00","kind":"举报","region":"东莞","category":"化妆品","problem":"虚假宣传","text":"面膜广告夸大"}
{"id":"C004","received_at":"2026-10-04","kind":"投诉","region":"440106","problem":"质量","text":"买的洗衣机漏水"}
"#;
    let p3 = write(dir.path(), "more.jsonl", jsonl);
    let r3 = import(&app, &p3).await;
    assert!(r3.committed, "{:?}", r3.errors);
    assert_eq!((r3.inserted, r3.updated), (1, 1));

    // XLSX.
    let xlsx = dir.path().join("one.xlsx");
    {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (j, h) in ["编号", "受理时间", "类型", "地区", "内容", "问题类型"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, j as u16, *h).unwrap();
        }
        for (j, v) in [
            "X001",
            "2026-10-05 08:00:00",
            "投诉",
            "佛山",
            "电热水器漏电",
            "安全",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(1, j as u16, *v).unwrap();
        }
        book.save(&xlsx).unwrap();
    }
    let r4 = import(&app, &xlsx).await;
    assert!(r4.committed, "{:?}", r4.errors);
    assert_eq!(r4.inserted, 1);
    assert_eq!(
        app.get("/api/v1/complaints", Some(&reg)).await.json()["total"],
        5
    );
}

#[tokio::test]
async fn bad_rows_are_reported_by_row_and_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = format!(
        "{HEADER}\n\
B001,2026-10-01 09:00:00,热线,投诉,深圳,,,,,质量,,好的一行,,,,\n\
B002,昨天,热线,投诉,深圳,,,,,质量,,日期错误,,,,\n\
B003,2026-10-01 09:00:00,热线,投诉,北京,,,,,质量,,地区错误,,,,\n\
B001,2026-10-01 09:00:00,热线,投诉,深圳,,,,,质量,,重复编号,,,,\n"
    );
    let p = write(dir.path(), "bad.csv", &bad);
    let r = import(&app, &p).await;
    assert!(!r.committed);
    assert_eq!(r.error_count, 3, "{:?}", r.errors);
    let fields: Vec<(u64, &str)> = r.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert!(fields.contains(&(3, "received_at")), "{fields:?}");
    assert!(fields.contains(&(4, "region")), "{fields:?}");
    assert!(fields.contains(&(5, "id")), "{fields:?}");
    assert_eq!(
        app.get("/api/v1/complaints", Some(&reg)).await.json()["total"],
        0
    );

    // Missing required column: a file-level error, nothing written.
    let p = write(dir.path(), "nocol.csv", "id,received_at\nA,2026-10-01\n");
    let opts = ImportOptions::for_path(&p).unwrap();
    let e = ComplaintsService::new(app.store.clone())
        .import(
            &Caller::cli("test"),
            &p,
            opts,
            Arc::new(ImportProgress::default()),
        )
        .await
        .expect_err("missing columns");
    assert!(
        e.to_string().contains("region") || e.to_string().contains("kind"),
        "{e}"
    );
    assert_eq!(
        app.get("/api/v1/complaints", Some(&reg)).await.json()["total"],
        0
    );
}

#[tokio::test]
async fn gbk_files_import() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEADER}\nG001,2026-10-01 09:00:00,电话,投诉,广州,,,,,质量,,购买的冰箱不制冷,赵六,13600000000,,\n"
    );
    let (bytes, _, _) = encoding_rs::GBK.encode(&text);
    let p = dir.path().join("gbk.csv");
    std::fs::write(&p, &bytes).unwrap();
    let r = import(&app, &p).await;
    assert!(r.committed, "{:?}", r.errors);
    let one = app.get("/api/v1/complaints", Some(&reg)).await.json();
    assert_eq!(one["items"][0]["category"], "refrigerator");
    assert!(one["items"][0]["text"].as_str().unwrap().contains("冰箱"));
}

#[tokio::test]
async fn masking_and_tenant_isolation() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let (a, b) = (uscc(21), uscc(22));
    app.create_enterprise(&reg, &a, "甲公司").await;
    app.create_enterprise(&reg, &b, "乙公司").await;
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "m.csv", &small_csv(&a));
    assert!(import(&app, &p).await.committed);
    let ent_a = app.user_token("ent-a", "enterprise", Some(&a)).await;
    let ent_b = app.user_token("ent-b", "enterprise", Some(&b)).await;

    // Regulator's list is masked; the record itself is raw.
    let list = app.get("/api/v1/complaints", Some(&reg)).await.text();
    assert!(
        !list.contains("13812345678")
            && !list.contains("张三丰")
            && !list.contains("440305199001011234")
    );
    assert!(list.contains("138****5678"), "{list}");
    assert!(
        !list.contains("13900001111"),
        "phone numbers inside texts are scrubbed"
    );
    let id = app.get("/api/v1/complaints", Some(&reg)).await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ext_id"] == "C001")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let raw = app
        .get(&format!("/api/v1/complaints/{id}"), Some(&reg))
        .await;
    assert_eq!(raw.json()["complainant"]["name"], "张三丰");
    assert_eq!(raw.json()["complainant"]["phone"], "13812345678");
    let page = app.get(&format!("/complaints/c/{id}"), Some(&reg)).await;
    let html = page.text();
    assert!(html.contains("13812345678"));
    assert!(
        !html.contains(">hotline") && !html.contains("(classifier)") && !html.contains("(input)")
    );
    // Each raw read is audited (issue 17 item 10): two reads, two rows, no personal data in them.
    let log = app
        .get("/api/v1/audit?entity=complaint&entity_id=C001", Some(&reg))
        .await;
    let entries = log.json();
    let reads: Vec<_> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "read_personal_data")
        .collect();
    assert_eq!(reads.len(), 2, "{entries}");
    assert!(!log.text().contains("13812345678"));

    // The enterprise named sees its complaint, masked; the other enterprise nothing.
    let own = app
        .get(&format!("/api/v1/complaints/{id}"), Some(&ent_a))
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.json()["complainant"]["name"], "张**");
    assert!(!own.text().contains("13812345678"));
    let own_list = app.get("/api/v1/complaints", Some(&ent_a)).await.json();
    assert_eq!(
        own_list["total"], 1,
        "an enterprise lists only its own complaints"
    );
    assert_eq!(
        app.get(&format!("/api/v1/complaints/{id}"), Some(&ent_b))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/complaints", Some(&ent_b)).await.json()["total"],
        0
    );
    // The public: nothing.
    assert_eq!(
        app.get(&format!("/api/v1/complaints/{id}"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/complaints", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Analytics and exports are for regulators, and exports are masked.
    assert_eq!(
        app.get("/api/v1/complaints/aggregates", Some(&ent_a))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/complaints/export?format=csv", Some(&ent_a))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let csv = app
        .get("/api/v1/complaints/export?format=csv", Some(&reg))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let csv = csv.text();
    assert!(
        csv.contains("C001")
            && csv.contains("张**")
            && !csv.contains("13812345678")
            && !csv.contains("张三丰")
    );
    // Chinese headers and values by default (issue 16 item 4), English on request.
    assert!(csv.starts_with("\u{feff}编号,受理时间,渠道,类型"), "{csv}");
    assert!(csv.contains("深圳市") && !csv.contains("amount_fen"));
    let en = app
        .get("/api/v1/complaints/export?format=csv&lang=en", Some(&reg))
        .await
        .text();
    assert!(
        en.contains("id,received at,channel,kind") && en.contains("Shenzhen"),
        "{en}"
    );
    assert_eq!(
        app.get("/api/v1/complaints/export?format=csv&lang=fr", Some(&reg))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let xlsx = app
        .get("/api/v1/complaints/export?format=xlsx", Some(&reg))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with(b"PK"));
    let counts = app
        .get(
            "/api/v1/complaints/export?format=csv&what=counts&grain=month&by=city",
            Some(&reg),
        )
        .await;
    assert!(
        counts.text().contains("2026-10,440300") && counts.text().contains("时段,地市代码"),
        "{}",
        counts.text()
    );
}

#[tokio::test]
async fn aggregates_top_and_pages() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "a.csv", &small_csv(&uscc(31)));
    assert!(import(&app, &p).await.committed);
    let agg = app
        .get(
            "/api/v1/complaints/aggregates?grain=week&by=city,division",
            Some(&reg),
        )
        .await;
    assert_eq!(agg.status, StatusCode::OK, "{}", agg.text());
    let cells = agg.json()["cells"].as_array().unwrap().clone();
    let total: i64 = cells.iter().map(|c| c["n"].as_i64().unwrap()).sum();
    assert_eq!(total, 3);
    assert!(cells
        .iter()
        .any(|c| c["period"] == "2026-09-28" && c["city"] == "441900"));
    let bad = app
        .get("/api/v1/complaints/aggregates?by=colour", Some(&reg))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["field"], "by");
    let top = app
        .get("/api/v1/complaints/top?dim=city&n=1", Some(&reg))
        .await
        .json();
    assert_eq!(top["items"][0]["key"], "441900");
    assert!(top["items"][0]["per_100k"].as_f64().unwrap() > 0.0);
    let heat = app
        .get(
            "/api/v1/complaints/heatmap?from=2026-09-01&to=2026-10-31",
            Some(&reg),
        )
        .await;
    assert_eq!(heat.json()["cells"].as_array().unwrap().len(), 3);
    let dash = app.get("/complaints", Some(&reg)).await;
    assert_eq!(dash.status, StatusCode::OK);
    let html = dash.text();
    assert!(html.contains("<svg id=\"trend-chart\"") && html.contains("<svg id=\"heatmap\""));
    let en = app.get("/complaints?lang=en", Some(&reg)).await.text();
    assert!(en.contains("City × industry division heat map"));
    let list = app.get("/complaints/list?city=东莞", Some(&reg)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text().contains("C002") && !list.text().contains("C001"));
    assert!(!list.text().contains("13900001111"));
    // Pages are regulator-only.
    let ent = app.user_token("b31", "bank", None).await;
    assert_eq!(
        app.get("/complaints", Some(&ent)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn corrections_and_lexicon_feed_later_classification() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "l.csv",
        &format!("{HEADER}\nL001,2026-10-01,电话,投诉,广州,,,,,质量,,家里挂的挂钟走时不准,,,,\n"),
    );
    assert!(import(&app, &p).await.committed);
    let id = app.get("/api/v1/complaints", Some(&reg)).await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let put = app
        .send_json(
            "PUT",
            &format!("/api/v1/complaints/{id}/labels"),
            Some(&reg),
            &json!({"category": "clock_watch"}),
        )
        .await;
    // Category keys come from the shipped table; use one that exists if clock_watch does not.
    let cat = if put.status == StatusCode::OK {
        "clock_watch".to_string()
    } else {
        assert_eq!(put.json()["error"]["field"], "category");
        yuepin_complaints::categories()[0].key.clone()
    };
    let put = app
        .send_json(
            "PUT",
            &format!("/api/v1/complaints/{id}/labels"),
            Some(&reg),
            &json!({"category": cat}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(put.json()["labels_source"], "regulator");
    // Mismatched category and division are refused.
    let bad = app
        .send_json(
            "PUT",
            &format!("/api/v1/complaints/{id}/labels"),
            Some(&reg),
            &json!({"category": "air_conditioner", "division": "13"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // A re-import does not overwrite the regulator's labels.
    assert!(import(&app, &p).await.committed);
    assert_eq!(
        app.get(&format!("/api/v1/complaints/{id}"), Some(&reg))
            .await
            .json()["category"],
        cat.as_str()
    );

    // A new term changes later classification.
    let add = app
        .post(
            "/api/v1/complaints/lexicon",
            Some(&reg),
            &json!({"term": "挂钟", "category": cat}),
        )
        .await;
    assert_eq!(add.status, StatusCode::CREATED, "{}", add.text());
    assert_eq!(add.json()["classifies_as"]["category"], cat.as_str());
    let p2 = write(
        dir.path(),
        "l2.csv",
        &format!("{HEADER}\nL002,2026-10-02,电话,投诉,广州,,,,,质量,,新买的挂钟坏了,,,,\n"),
    );
    assert!(import(&app, &p2).await.committed);
    let items = app.get("/api/v1/complaints", Some(&reg)).await.json();
    let l2 = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ext_id"] == "L002")
        .unwrap()
        .clone();
    assert_eq!(l2["category"], cat.as_str());
    let acc = app
        .get("/api/v1/complaints/accuracy", Some(&reg))
        .await
        .json();
    assert_eq!(acc["labelled_set"], 300);
    assert!(acc["labelled_category"].as_f64().unwrap() > 0.85);
    assert_eq!(acc["corrected"], 1);
    assert_eq!(acc["corrected_category"], 1.0);
    let page = app.get("/complaints/lexicon", Some(&reg)).await;
    assert!(page.text().contains("挂钟"));
    let ent = app.user_token("b41", "bank", None).await;
    assert_eq!(
        app.post(
            "/api/v1/complaints/lexicon",
            Some(&ent),
            &json!({"term": "x", "division": "13"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

/// Synthetic data with an e-bike outbreak in Shenzhen over the last 10 days, the outbreak's
/// complaints against `code`; returns the last day.
pub(crate) fn outbreak_csv(dir: &Path, code: &str) -> (PathBuf, NaiveDate) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let days = 200;
    let start = end - Duration::days(days as i64 - 1);
    let mut params = GeneratorParams::new(start, days, 40.0);
    params.personal_data = true;
    let ob = Outbreak {
        start: end - Duration::days(9),
        end,
        region: RegionCode::parse("深圳").unwrap(),
        category: Category::parse("e_bike").unwrap(),
        extra_per_day: 8.0,
    };
    params.outbreaks = vec![ob.clone()];
    let g = generate(7, params);
    let mut out = String::from(HEADER);
    out.push('\n');
    for c in g.complaints() {
        let day = c.received_at.date();
        let hit =
            c.category == Some(ob.category) && c.region.city().code == "440300" && day >= ob.start;
        let f = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        out.push_str(
            &[
                c.id.to_string(),
                c.received_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                c.channel.as_str().into(),
                c.kind.as_str().into(),
                c.region.to_string(),
                if hit { code.to_string() } else { String::new() },
                if hit {
                    "深圳市电驴科技有限公司".into()
                } else {
                    String::new()
                },
                c.category.map(|k| k.info().key.clone()).unwrap_or_default(),
                c.division.map(|d| d.code().to_string()).unwrap_or_default(),
                c.problem.as_str().into(),
                String::new(),
                f(&c.text),
                c.complainant.name.clone().unwrap_or_default(),
                c.complainant.phone.clone().unwrap_or_default(),
                c.complainant.id_number.clone().unwrap_or_default(),
                f(&c.complainant.address.clone().unwrap_or_default()),
            ]
            .join(","),
        );
        out.push('\n');
    }
    (write(dir, "synthetic.csv", &out), end)
}

#[tokio::test]
async fn detection_warning_workflow_public_page_and_feed() {
    let app = TestApp::spawn().await;
    let reg = app.regulator().await;
    let (a, b) = (uscc(51), uscc(52));
    let ent_a_id = app
        .create_enterprise(&reg, &a, "深圳市电驴科技有限公司")
        .await["id"]
        .as_i64()
        .unwrap();
    app.create_enterprise(&reg, &b, "乙公司").await;
    let dir = tempfile::tempdir().unwrap();
    let (p, end) = outbreak_csv(dir.path(), &a);
    let r = import(&app, &p).await;
    assert!(r.committed, "{:?}", r.errors.first());
    assert!(r.rows > 5000);

    let mut opts = DetectOptions::new(end);
    opts.report_days = 14;
    let run = ComplaintsService::new(app.store.clone())
        .detect(&Caller::cli("test"), &opts)
        .await
        .unwrap();
    assert!(run.alarms > 0 && run.significant > 0, "{run:?}");
    assert!(run.drafts_created > 0);
    let alarms = app
        .get("/api/v1/complaints/alarms", Some(&reg))
        .await
        .json();
    let list = alarms["alarms"].as_array().unwrap();
    assert!(list.iter().all(|a| a["significant"] == true));
    assert!(
        list.iter()
            .any(|a| a["city"] == "440300" && a["category"] == "e_bike"),
        "the injected outbreak is found"
    );
    assert!(!alarms["rollup"].as_array().unwrap().is_empty());
    let alarm_id = list.iter().find(|a| a["category"] == "e_bike").unwrap()["id"]
        .as_i64()
        .unwrap();
    let drill = app
        .get(&format!("/api/v1/complaints/alarms/{alarm_id}"), Some(&reg))
        .await
        .json();
    assert!(drill["complaints_total"].as_i64().unwrap() > 0);
    for c in drill["complaints"].as_array().unwrap() {
        if let Some(p) = c["complainant"]["phone"].as_str() {
            assert!(p.contains('*'), "drill-down is masked: {p}");
        }
    }
    // The regulator's pages show the operating point of the run in force, in words.
    let page = app.get("/complaints/alarms", Some(&reg)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("合并比值扫描"), "method named");
    assert!(html.contains("α = 0.001 / 序列·日"), "α per series-day");
    assert!(html.contains("窗口 1、3、7 天") && html.contains("至少 3 件投诉"));
    assert!(
        html.contains("误报 0.468–0.532 次 / 1000 序列·日"),
        "measured rate"
    );
    let dash = app.get("/complaints", Some(&reg)).await.text();
    assert!(dash.contains("α = 0.001 / 序列·日"));
    crate::complaint_alarms::paging_filters_and_downloads(&app, &reg, &alarms).await;
    assert_eq!(
        app.get(&format!("/complaints/alarms/{alarm_id}"), Some(&reg))
            .await
            .status,
        StatusCode::OK
    );

    // The e-bike draft names enterprise A with evidence.
    let ws = app
        .get("/api/v1/complaints/warnings", Some(&reg))
        .await
        .json();
    let w = ws["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["evidence"]["category"] == "e_bike" && w["evidence"]["city"] == "440300")
        .expect("draft for the outbreak")
        .clone();
    let wid = w["id"].as_i64().unwrap();
    assert_eq!(w["status"], "draft");
    let ev = &w["evidence"];
    for k in [
        "observed",
        "expected",
        "threshold",
        "method",
        "p_value",
        "period_start",
        "leading_enterprises",
        "problem_types",
        "samples",
    ] {
        assert!(!ev[k].is_null(), "evidence has {k}");
    }
    assert_eq!(ev["leading_enterprises"][0]["uscc"], a.as_str());
    assert_eq!(w["enterprises"][0]["enterprise_id"], ent_a_id);
    for s in ev["samples"].as_array().unwrap() {
        if let Some(p) = s["complainant_phone"].as_str() {
            assert!(p.contains('*'), "sample phones masked: {p}");
        }
    }

    let ent_a = app.user_token("ent-a", "enterprise", Some(&a)).await;
    let ent_b = app.user_token("ent-b", "enterprise", Some(&b)).await;
    // Drafts are invisible to enterprises and the public.
    assert_eq!(
        app.get(&format!("/api/v1/complaints/warnings/{wid}"), Some(&ent_a))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/warnings/{wid}"), None).await.status,
        StatusCode::NOT_FOUND
    );
    // Not yet approved: publishing is refused; enterprises cannot edit.
    assert_eq!(
        app.post(
            &format!("/api/v1/complaints/warnings/{wid}/publish"),
            Some(&reg),
            &json!({})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    // One count (issue 16 item 8): the drafted text names the evidence window's complaints,
    // the number the page shows for that window.
    let draft = app
        .get(&format!("/api/v1/complaints/warnings/{wid}"), Some(&reg))
        .await
        .json();
    let n = draft["evidence"]["window_complaints"].as_i64().unwrap();
    let body = draft["body"].as_str().unwrap();
    assert!(body.contains(&format!("共{n}件")), "{body}");
    assert!(
        !body.contains("约"),
        "no statistics in consumer text: {body}"
    );
    let page = app
        .get(&format!("/complaints/warnings/{wid}"), Some(&reg))
        .await
        .text();
    assert!(
        page.contains(&format!(" {n} 件</td>")),
        "the page shows the same count"
    );
    let edit = app.send_json("PUT", &format!("/api/v1/complaints/warnings/{wid}"), Some(&reg),
        &json!({"title": "关于深圳市电动自行车充电安全的消费警示", "body": "近期投诉增多,请注意充电安全。", "severity": "alert"})).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.text());
    assert_eq!(
        app.send_json(
            "PUT",
            &format!("/api/v1/complaints/warnings/{wid}"),
            Some(&ent_a),
            &json!({"title": "x", "body": "y"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let approved = app
        .post(
            &format!("/api/v1/complaints/warnings/{wid}/approve"),
            Some(&reg),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text());
    assert!(approved.json()["comment_deadline"].is_string());
    assert!(approved.json()["enterprises"][0]["notified_at"].is_string());
    // Window open: publication waits for the named enterprise.
    let early = app
        .post(
            &format!("/api/v1/complaints/warnings/{wid}/publish"),
            Some(&reg),
            &json!({}),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text());
    // A is notified and sees it; B does not.
    let mine = app
        .get("/api/v1/complaints/warnings", Some(&ent_a))
        .await
        .json();
    assert!(mine["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == wid));
    assert_eq!(
        app.get("/api/v1/complaints/warnings", Some(&ent_b))
            .await
            .json()["warnings"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.get(&format!("/api/v1/complaints/warnings/{wid}"), Some(&ent_b))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/complaints/warnings/{wid}/comments"),
            Some(&ent_b),
            &json!({"body": "与我无关"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let page = app
        .get(&format!("/complaints/warnings/{wid}"), Some(&ent_a))
        .await;
    assert!(page.text().contains("comment-form"));
    let c = app
        .post(
            &format!("/api/v1/complaints/warnings/{wid}/comments"),
            Some(&ent_a),
            &json!({"body": "我司已召回相关批次充电器。"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text());
    // Every named enterprise has commented: publication may proceed.
    let published = app
        .post(
            &format!("/api/v1/complaints/warnings/{wid}/publish"),
            Some(&reg),
            &json!({}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text());
    assert_eq!(published.json()["status"], "published");
    // Comments after publication are refused.
    assert_eq!(
        app.post(
            &format!("/api/v1/complaints/warnings/{wid}/comments"),
            Some(&ent_a),
            &json!({"body": "再补充"})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );

    // Public page, public API and Atom feed (no login).
    let public = app.get("/warnings", None).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public
        .text()
        .contains("关于深圳市电动自行车充电安全的消费警示"));
    let one = app.get(&format!("/warnings/{wid}"), None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(!one.text().contains("comment-form") && !one.text().contains("regulator"));
    let api = app.get("/api/v1/public/warnings", None).await.json();
    assert_eq!(api["warnings"].as_array().unwrap().len(), 1);
    assert!(api["warnings"][0]["approved_by"].is_null());
    let feed = app.get("/warnings.atom", None).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(feed.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let entries = parse_atom(&feed.text());
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "关于深圳市电动自行车充电安全的消费警示");
    assert!(entries[0].1.ends_with(&format!("/warnings/{wid}")));

    // The named enterprise's quality file lists it; the 12-month count is exposed.
    let refs = ComplaintsService::new(app.store.clone())
        .complaint_warnings_for_enterprise(ent_a_id)
        .await
        .unwrap();
    assert_eq!(refs.len(), 1);
    assert!(
        ComplaintsService::new(app.store.clone())
            .complaint_count_12m_as_of(ent_a_id, end)
            .await
            .unwrap()
            > 0
    );

    // A second draft approved with a zero-day window: comments are refused, publication is not.
    let other = app
        .post(
            &format!("/api/v1/complaints/alarms/{alarm_id}/warning"),
            Some(&reg),
            &json!({}),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text());
    let w2 = other.json()["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/complaints/warnings/{w2}/approve"),
        Some(&reg),
        &json!({"comment_days": 0}),
    )
    .await;
    assert_eq!(
        app.post(
            &format!("/api/v1/complaints/warnings/{w2}/comments"),
            Some(&ent_a),
            &json!({"body": "迟到"})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/complaints/warnings/{w2}/publish"),
            Some(&reg),
            &json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        parse_atom(&app.get("/warnings.atom", None).await.text()).len(),
        2
    );
    // Invalid window.
    let w3 = app
        .post(
            &format!("/api/v1/complaints/alarms/{alarm_id}/warning"),
            Some(&reg),
            &json!({}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.post(
            &format!("/api/v1/complaints/warnings/{w3}/approve"),
            Some(&reg),
            &json!({"comment_days": 99})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    // A re-run keeps alarms that warnings refer to.
    ComplaintsService::new(app.store.clone())
        .detect(&Caller::cli("test"), &opts)
        .await
        .unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/complaints/alarms/{alarm_id}"), Some(&reg))
            .await
            .status,
        StatusCode::OK
    );
}

/// Parses an Atom 1.0 document strictly enough: root `feed` in the Atom namespace with `id`,
/// `title`, `updated`, and per entry `title`, `id`, `updated`. Returns (title, id) per entry.
fn parse_atom(xml: &str) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    let mut cur: Option<(String, String, bool)> = None;
    let mut feed_fields = std::collections::HashSet::new();
    let mut root_ns = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if stack.is_empty() {
                    assert_eq!(name, "feed");
                    root_ns = e.attributes().flatten().any(|a| {
                        a.key.as_ref() == b"xmlns"
                            && a.value.as_ref() == b"http://www.w3.org/2005/Atom"
                    });
                }
                if name == "entry" {
                    cur = Some((String::new(), String::new(), false));
                }
                stack.push(name);
            }
            Event::Text(t) => {
                let text = t.unescape().unwrap().into_owned();
                let path: Vec<&str> = stack.iter().map(String::as_str).collect();
                match path.as_slice() {
                    ["feed", f] => {
                        feed_fields.insert(f.to_string());
                    }
                    ["feed", "entry", "title"] => cur.as_mut().unwrap().0 = text,
                    ["feed", "entry", "id"] => cur.as_mut().unwrap().1 = text,
                    ["feed", "entry", "updated"] => {
                        assert!(
                            chrono::DateTime::parse_from_rfc3339(&text).is_ok(),
                            "{text}"
                        );
                        cur.as_mut().unwrap().2 = true;
                    }
                    _ => {}
                }
            }
            Event::End(_) if stack.pop().as_deref() == Some("entry") => {
                let (t, i, u) = cur.take().unwrap();
                assert!(
                    !t.is_empty() && !i.is_empty() && u,
                    "entry has title, id and updated"
                );
                entries.push((t, i));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(root_ns, "Atom namespace");
    for f in ["id", "title", "updated"] {
        assert!(feed_fields.contains(f), "feed has {f}");
    }
    entries
}
