//! Service tests without the router, on the backend `yuepin-test-support` picks (SQLite, or
//! PostgreSQL with `YUEPIN_TEST_DATABASE_URL`): import all-or-nothing, detection on a series
//! with a surge, draft → approve → publish, the 12-month count's exact window, and refusals
//! for callers without the role or the tenant.

use chrono::{Duration, NaiveDate};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use yuepin_complaints::{
    generate, Category, DetectorConfig, GeneratorParams, Level, Method, Outbreak, PooledOverrides,
};
use yuepin_complaints_service::{
    csv_cell, AlarmFilter, AlarmRecord, ComplaintFilter, ComplaintsError, ComplaintsService,
    ExportFormat, ExportLang, ImportOptions, ImportProgress, ImportReport, Invalid, LabelsSource,
    Severity, WarningAction, WarningStatus,
};
use yuepin_domain::{Caller, Denied, Division, Enterprise, Listing, RegionCode, Role, Uscc, Yuan};
use yuepin_store::{Actor, Store};
use yuepin_test_support::{enterprise_user, regulator, uscc, user_with_role, TestDb};

const HEADER: &str = "id,received_at,channel,kind,region,enterprise_uscc,enterprise_name,category,division,problem,amount,text,complainant_name,complainant_phone,complainant_id_number,complainant_address";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

async fn import(svc: &ComplaintsService, caller: &Caller, path: &Path) -> ImportReport {
    let opts = ImportOptions::for_path(path).expect("known extension");
    svc.import(caller, path, opts, Arc::new(ImportProgress::default()))
        .await
        .expect("import runs")
}

/// A Shenzhen enterprise saved through the store (the enterprises service does not exist yet).
async fn enterprise(store: &Store, n: u32, name: &str) -> i64 {
    let e = Enterprise {
        uscc: Uscc::parse(&uscc(n)).unwrap(),
        name: name.into(),
        region: RegionCode::parse("深圳").unwrap(),
        division: Division::parse("38").unwrap(),
        registered_capital: Yuan::parse("5000万").unwrap(),
        employees: 100,
        founded_on: NaiveDate::from_ymd_opt(2012, 5, 18).unwrap(),
        listing: Listing::Unlisted,
        designations: vec![],
        financials: vec![],
    };
    let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
    yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .save_enterprise(&mut w, &e)
        .await
        .unwrap();
    store.commit(w).await.unwrap();
    yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .enterprise_by_uscc(&uscc(n))
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn import_is_all_or_nothing() {
    let db = TestDb::new().await;
    let svc = ComplaintsService::new(db.store.clone());
    let reg = regulator();
    let dir = tempfile::tempdir().unwrap();
    let good = format!(
        "{HEADER}\n\
A001,2026-10-01 09:00:00,热线,投诉,深圳,,,e_bike,,安全,,电动自行车充电时起火,张三,13812345678,,\n\
A002,2026-10-02 10:00:00,网络,投诉,东莞,,,,,质量,,新买的空调不制冷,,,,\n\
A003,2026-10-03 11:00:00,微信,举报,广州,,,cosmetics,,虚假宣传,88.5,面膜宣传美白效果虚假,,,,\n"
    );
    // One bad row (an unknown region) among good ones: nothing lands.
    let bad = format!("{good}A004,2026-10-04 12:00:00,热线,投诉,北京,,,,,质量,,地区错误,,,,\n");
    let r = import(&svc, &reg, &write(dir.path(), "bad.csv", &bad)).await;
    assert!(!r.committed);
    assert_eq!(r.error_count, 1, "{:?}", r.errors);
    assert_eq!((r.errors[0].row, r.errors[0].field.as_str()), (5, "region"));
    let (_, total) = svc
        .search(&reg, &ComplaintFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(total, 0, "a file with a bad row writes nothing");

    let r = import(&svc, &reg, &write(dir.path(), "good.csv", &good)).await;
    assert!(r.committed, "{:?}", r.errors);
    assert_eq!((r.rows, r.inserted, r.updated), (3, 3, 0));
    let (list, total) = svc
        .search(&reg, &ComplaintFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(total, 3);
    assert!(list.iter().all(|c| c.masked), "lists are masked");
    let a002 = list.iter().find(|c| c.ext_id == "A002").unwrap();
    assert_eq!(a002.labels_source, LabelsSource::Classifier);
    assert_eq!(
        a002.category,
        Some(Category::parse("air_conditioner").unwrap())
    );
    assert_eq!(a002.city.as_str(), "441900");
    // The record itself is raw for an administrator.
    let a001 = list.iter().find(|c| c.ext_id == "A001").unwrap().id;
    let raw = svc.complaint(&reg, a001).await.unwrap();
    assert_eq!(raw.complainant.phone.as_deref(), Some("13812345678"));

    // Only administrators import.
    let e = svc
        .import(
            &user_with_role(Role::Bank),
            &dir.path().join("good.csv"),
            ImportOptions::for_path(Path::new("x.csv")).unwrap(),
            Arc::new(ImportProgress::default()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ComplaintsError::Denied(Denied::Role { .. })),
        "{e:?}"
    );
}

/// 200 days of synthetic complaints with an e-bike surge in Shenzhen over the last 10 days,
/// the surge's complaints against `code`; returns the file and its last day.
fn outbreak_csv(dir: &Path, code: &str) -> (PathBuf, NaiveDate) {
    let end = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let days = 200;
    let mut params = GeneratorParams::new(end - Duration::days(days as i64 - 1), days, 40.0);
    let ob = Outbreak {
        start: end - Duration::days(9),
        end,
        region: RegionCode::parse("深圳").unwrap(),
        category: Category::parse("e_bike").unwrap(),
        extra_per_day: 8.0,
    };
    params.outbreaks = vec![ob.clone()];
    let mut out = format!("{HEADER}\n");
    for c in generate(7, params).complaints() {
        let hit = c.category == Some(ob.category)
            && c.region.city().code == "440300"
            && c.received_at.date() >= ob.start;
        let quoted = if c.text.contains([',', '"', '\n']) {
            format!("\"{}\"", c.text.replace('"', "\"\""))
        } else {
            c.text.clone()
        };
        out.push_str(
            &[
                c.id.to_string(),
                c.received_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                c.channel.as_str().into(),
                c.kind.as_str().into(),
                c.region.to_string(),
                if hit { code.to_string() } else { String::new() },
                String::new(),
                c.category.map(|k| k.info().key.clone()).unwrap_or_default(),
                c.division.map(|d| d.code().to_string()).unwrap_or_default(),
                c.problem.as_str().into(),
                String::new(),
                quoted,
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]
            .join(","),
        );
        out.push('\n');
    }
    (write(dir, "surge.csv", &out), end)
}

#[tokio::test]
async fn detection_finds_the_surge_and_a_draft_is_published() {
    let db = TestDb::new().await;
    let svc = ComplaintsService::new(db.store.clone());
    let reg = regulator();
    let ent = enterprise(&db.store, 61, "深圳市电驴科技有限公司").await;
    let dir = tempfile::tempdir().unwrap();
    let (p, end) = outbreak_csv(dir.path(), &uscc(61));
    assert!(import(&svc, &reg, &p).await.committed);

    let mut opts = svc.detect_options(&reg, None).await.unwrap();
    assert_eq!(opts.as_of, end, "as of the last complaint day");
    opts.report_days = 14;
    let run = svc.detect(&reg, &opts).await.unwrap();
    assert!(run.significant > 0 && run.drafts_created > 0, "{run:?}");
    let alarms = svc.alarms(&reg, true, 1000).await.unwrap();
    let e_bike = Category::parse("e_bike").unwrap();
    let surge = alarms
        .iter()
        .find(|a| a.city.as_str() == "440300" && a.category == Some(e_bike))
        .expect("the injected surge raises an alarm");
    assert!(surge.significant && surge.observed > surge.expected);
    assert!(svc.last_detect_run(&reg).await.unwrap().is_some());

    // The surge's draft names the enterprise; it goes draft → approved → published.
    let drafts = svc.warnings(&reg).await.unwrap();
    let w = drafts
        .iter()
        .find(|w| w.evidence.category.as_deref() == Some("e_bike") && w.evidence.city == "440300")
        .expect("a draft for the surge");
    assert_eq!(w.status, WarningStatus::Draft);
    assert!(w.names(ent));
    let e = svc.publish_warning(&reg, w.id).await.unwrap_err();
    assert!(matches!(
        e,
        ComplaintsError::WrongStatus {
            action: WarningAction::Publish,
            status: WarningStatus::Draft
        }
    ));
    let approved = svc.approve_warning(&reg, w.id, Some(0)).await.unwrap();
    assert_eq!(approved.status, WarningStatus::Approved);
    assert!(approved.enterprises[0].notified_at.is_some());
    let published = svc.publish_warning(&reg, w.id).await.unwrap();
    assert_eq!(published.status, WarningStatus::Published);
    let public = svc.published_warnings().await.unwrap();
    assert_eq!(public.len(), 1);
    assert!(
        public[0].approved_by.is_none(),
        "no audit details in public"
    );
    let refs = svc.complaint_warnings_for_enterprise(ent).await.unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].id, w.id);
    assert!(matches!(refs[0].severity, Severity::Tip | Severity::Alert));
}

#[tokio::test]
async fn complaint_count_12m_counts_exactly_the_window() {
    let db = TestDb::new().await;
    let svc = ComplaintsService::new(db.store.clone());
    let ent = enterprise(&db.store, 71, "甲公司").await;
    let other = enterprise(&db.store, 72, "乙公司").await;
    let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let row = |id: &str, day: NaiveDate, code: &str| {
        format!("{id},{day} 10:00:00,热线,投诉,深圳,{code},,,,质量,,产品质量问题,,,,\n")
    };
    let (a, b) = (uscc(71), uscc(72));
    let csv = [
        row("W1", today - Duration::days(365), &a), // one day too old
        row("W2", today - Duration::days(364), &a), // first day of the window
        row("W3", today, &a),                       // today
        row("W4", today + Duration::days(1), &a),   // after today
        row("W5", today, &b),                       // another enterprise
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    let r = import(
        &svc,
        &regulator(),
        &write(dir.path(), "w.csv", &format!("{HEADER}\n{csv}")),
    )
    .await;
    assert!(r.committed, "{:?}", r.errors);
    assert_eq!(r.linked, 5);
    assert_eq!(svc.complaint_count_12m_as_of(ent, today).await.unwrap(), 2);
    assert_eq!(
        svc.complaint_count_12m_as_of(other, today).await.unwrap(),
        1
    );
    assert_eq!(
        svc.complaint_count_12m_as_of(ent, today + Duration::days(1))
            .await
            .unwrap(),
        2,
        "the window moves: W2 leaves, W4 enters"
    );
}

#[tokio::test]
async fn callers_without_the_role_or_the_tenant_are_refused() {
    let db = TestDb::new().await;
    let svc = ComplaintsService::new(db.store.clone());
    let reg = regulator();
    let a = enterprise(&db.store, 81, "甲公司").await;
    let b = enterprise(&db.store, 82, "乙公司").await;
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "{HEADER}\nR1,2026-10-01 09:00:00,热线,投诉,深圳,{},甲公司,,,质量,,质量差,张三,13812345678,,\n",
        uscc(81)
    );
    assert!(
        import(&svc, &reg, &write(dir.path(), "r.csv", &csv))
            .await
            .committed
    );
    let (list, _) = svc
        .search(&reg, &ComplaintFilter::default(), 10, 0)
        .await
        .unwrap();
    let id = list[0].id;

    let role = |e: ComplaintsError| matches!(e, ComplaintsError::Denied(Denied::Role { .. }));
    for caller in [enterprise_user(a), user_with_role(Role::Bank)] {
        let opts = yuepin_complaints_service::DetectOptions::new(
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        );
        assert!(role(svc.detect(&caller, &opts).await.unwrap_err()));
        assert!(role(svc.publish_warning(&caller, 1).await.unwrap_err()));
        assert!(role(
            svc.approve_warning(&caller, 1, None).await.unwrap_err()
        ));
        assert!(role(
            svc.set_lexicon_term(&caller, "挂钟", None)
                .await
                .unwrap_err()
        ));
        assert!(role(svc.classifier_accuracy(&caller).await.unwrap_err()));
    }
    assert!(matches!(
        svc.detect_options(&Caller::public(), None)
            .await
            .unwrap_err(),
        ComplaintsError::Denied(Denied::SignInRequired)
    ));

    // The named enterprise reads its complaint masked; another enterprise is refused.
    let own = svc.complaint(&enterprise_user(a), id).await.unwrap();
    assert!(own.masked);
    assert_eq!(own.complainant.phone.as_deref(), Some("138****5678"));
    assert!(matches!(
        svc.complaint(&enterprise_user(b), id).await.unwrap_err(),
        ComplaintsError::Denied(Denied::OtherEnterprise)
    ));
    // An enterprise's list holds only its own complaints.
    let (_, n) = svc
        .list(&enterprise_user(b), &ComplaintFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let (_, n) = svc
        .list(&enterprise_user(a), &ComplaintFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(matches!(
        svc.list(
            &user_with_role(Role::Bank),
            &ComplaintFilter::default(),
            10,
            0
        )
        .await
        .unwrap_err(),
        ComplaintsError::Denied(Denied::Role { .. })
    ));
}

#[tokio::test]
async fn detection_runs_the_configuration_given_and_stores_it() {
    let db = TestDb::new().await;
    let svc = ComplaintsService::new(db.store.clone());
    let reg = regulator();
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = outbreak_csv(dir.path(), &uscc(62));
    assert!(import(&svc, &reg, &p).await.committed);

    // A configuration out of range is refused before anything runs.
    let mut opts = svc.detect_options(&reg, None).await.unwrap();
    opts.report_days = 14;
    opts.config.pooled.alpha = 2.0;
    assert!(matches!(
        svc.detect(&reg, &opts).await.unwrap_err(),
        ComplaintsError::Invalid { field: "config", problem: Invalid::Config(m) } if m.contains("pooled.alpha")
    ));
    assert!(svc.last_detect_run(&reg).await.unwrap().is_none());

    // Classic EARS C2 instead of the pooled scan: only its alarms, and the run says so.
    let config = DetectorConfig::from_json(
        r#"{"pooled": {"enabled": false}, "ears_c2": {"enabled": true, "min_count": 2}}"#,
    )
    .unwrap();
    opts.config = config.clone();
    opts.draft_warnings = false;
    let run = svc.detect(&reg, &opts).await.unwrap();
    assert!(run.alarms > 0, "{run:?}");
    let alarms = svc.alarms(&reg, false, 10_000).await.unwrap();
    assert!(alarms.iter().all(|a| a.method == Method::EarsC2));
    let stored = svc.last_detect_run(&reg).await.unwrap().unwrap();
    assert_eq!(stored.id, run.run_id);
    assert_eq!(stored.config, Some(config));

    // The default, with the pooled scan's α and windows overridden, is stored as run.
    let tuned = DetectorConfig::default()
        .with_pooled(&PooledOverrides {
            alpha: Some(0.01),
            windows: Some(vec![1, 3]),
            ..PooledOverrides::default()
        })
        .unwrap();
    opts.config = tuned.clone();
    svc.detect(&reg, &opts).await.unwrap();
    let stored = svc.last_detect_run(&reg).await.unwrap().unwrap();
    assert_eq!(stored.config.as_ref(), Some(&tuned));
    assert_eq!(tuned.pooled.scan_days, vec![1, 3]);
    assert!(svc
        .alarms(&reg, false, 10_000)
        .await
        .unwrap()
        .iter()
        .all(|a| a.method == Method::Pooled));
}

#[tokio::test]
async fn alarms_are_paged_filtered_counted_and_exported() {
    let db = TestDb::new().await;
    let svc = ComplaintsService::new(db.store.clone());
    let reg = regulator();
    let dir = tempfile::tempdir().unwrap();
    let (p, end) = outbreak_csv(dir.path(), &uscc(63));
    assert!(import(&svc, &reg, &p).await.committed);
    let mut opts = svc.detect_options(&reg, None).await.unwrap();
    opts.report_days = 28;
    opts.draft_warnings = false;
    opts.config = DetectorConfig::from_json(r#"{"ears_c2": {"enabled": true}}"#).unwrap();
    svc.detect(&reg, &opts).await.unwrap();
    let all = svc.alarms(&reg, false, 100_000).await.unwrap();
    assert!(all.len() > 12, "{}", all.len());

    // Pages partition the list in its order; the total is the whole count.
    let f = AlarmFilter::default();
    let p1 = svc.alarm_page(&reg, &f, 1, 5).await.unwrap();
    let p2 = svc.alarm_page(&reg, &f, 2, 5).await.unwrap();
    assert_eq!(p1.total, all.len() as i64);
    let ids: Vec<i64> = p1.alarms.iter().chain(&p2.alarms).map(|a| a.id).collect();
    let want: Vec<i64> = all.iter().take(10).map(|a| a.id).collect();
    assert_eq!(ids, want);
    let last = svc
        .alarm_page(&reg, &f, (p1.total + 4) / 5, 5)
        .await
        .unwrap();
    assert!(!last.alarms.is_empty() && last.alarms.len() <= 5);
    for (page, size) in [(1, 0), (1, 201), (0, 10)] {
        assert!(matches!(
            svc.alarm_page(&reg, &f, page, size).await.unwrap_err(),
            ComplaintsError::Invalid {
                problem: Invalid::Range { .. },
                ..
            }
        ));
    }

    // Each filter keeps exactly the alarms it names; the city by name or by code.
    let check = |f: AlarmFilter, keep: &dyn Fn(&AlarmRecord) -> bool| {
        let want = all.iter().filter(|a| keep(a)).count() as i64;
        let svc = svc.clone();
        let reg = reg.clone();
        async move {
            let got = svc.alarm_page(&reg, &f, 1, 200).await.unwrap();
            assert_eq!(got.total, want, "{f:?}");
            assert!(want > 0, "the filter {f:?} keeps something");
        }
    };
    let sz = RegionCode::parse("深圳").unwrap();
    check(
        AlarmFilter {
            method: Some(Method::EarsC2),
            ..AlarmFilter::default()
        },
        &|a| a.method == Method::EarsC2,
    )
    .await;
    check(
        AlarmFilter {
            city: Some(sz.clone()),
            level: Some(Level::CityCategory),
            ..AlarmFilter::default()
        },
        &|a| a.city.city().code == "440300" && a.level == Level::CityCategory,
    )
    .await;
    check(
        AlarmFilter {
            city: Some(RegionCode::parse("440305").unwrap()),
            ..AlarmFilter::default()
        },
        &|a| a.city.city().code == "440300",
    )
    .await;
    let div = all.iter().find_map(|a| a.division).unwrap();
    check(
        AlarmFilter {
            division: Some(div),
            significant_only: true,
            ..AlarmFilter::default()
        },
        &|a| a.division == Some(div) && a.significant,
    )
    .await;
    let (from, to) = (end - Duration::days(6), end - Duration::days(2));
    check(
        AlarmFilter {
            from: Some(from),
            to: Some(to),
            ..AlarmFilter::default()
        },
        &|a| a.period_start >= from && a.period_start <= to,
    )
    .await;

    // Exports: Chinese CSV with a header row, JSON Lines with machine keys, XLSX.
    let f = AlarmFilter {
        city: Some(sz),
        ..AlarmFilter::default()
    };
    let csv = svc
        .export_alarms(&reg, &f, ExportFormat::Csv, ExportLang::Zh)
        .await
        .unwrap();
    let text = String::from_utf8(csv.bytes).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("\u{feff}编号,时段开始,时段结束,天数,方法,层级,地市,地市代码"));
    assert_eq!(lines.clone().count(), csv.rows);
    assert_eq!(csv.rows as i64, csv.total);
    assert!(lines.all(|l| l.contains(",深圳市,440300,")), "{text}");
    let jsonl = svc
        .export_alarms(&reg, &f, ExportFormat::JsonLines, ExportLang::Zh)
        .await
        .unwrap();
    let first: serde_json::Value = serde_json::from_str(
        std::str::from_utf8(&jsonl.bytes)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["city"], "440300");
    assert!(first["method"].is_string() && first["q_value"].is_number());
    let xlsx = svc
        .export_alarms(&reg, &f, ExportFormat::Xlsx, ExportLang::En)
        .await
        .unwrap();
    assert!(xlsx.bytes.starts_with(b"PK"), "a zip container");
    assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    for (c, want) in [
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("深圳", "深圳"),
    ] {
        assert_eq!(csv_cell(c), want);
    }
    assert!(matches!(
        svc.export_alarms(&enterprise_user(1), &f, ExportFormat::Csv, ExportLang::Zh)
            .await
            .unwrap_err(),
        ComplaintsError::Denied(_)
    ));
}
