//! The codes service without the router, on the backend under test (SQLite by default,
//! PostgreSQL with `YUEPIN_TEST_DATABASE_URL`): apply → pre-check → approve → series → issue
//! → scan and look up → revoke, suspend, reinstate → status list; tenant isolation; role
//! refusals; the pre-check's blocks and auto-approval; scan counts of two replicas adding up;
//! and the scan page's complaint count being the complaints module's definition.

use rand::SeedableRng;
use yuepin_code::{CodeStatus, Verdict};
use yuepin_codes_service::{
    ApplicationStatus, ApplyRequest, ApprovalRule, CodesError, CodesService, Entity, FindingCode,
    StatusScope, StatusTarget,
};
use yuepin_domain::{Caller, Denied, Enterprise, Gtin, Product, QualityEventKind, Role};
use yuepin_store::{Actor, Change, Store};
use yuepin_test_support::{
    enterprise_json, enterprise_user, regulator, uscc, user_with_role, TestDb,
};

struct Ent {
    id: i64,
    uscc: String,
    product_id: i64,
    caller: Caller,
}

/// An enterprise with one product (with a GTIN when `gtin` is given).
async fn enterprise(store: &Store, n: u32, gtin: Option<&str>) -> Ent {
    let code = uscc(n);
    let e: Enterprise = serde_json::from_value(enterprise_json(
        &code,
        &format!("佛山市粤品{n}电器有限公司"),
    ))
    .expect("test enterprise");
    let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
    let id = yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .save_enterprise(&mut w, &e)
        .await
        .unwrap();
    let product = Product {
        enterprise: e.uscc.clone(),
        name: "智能电饭煲".into(),
        brand: "粤禾".into(),
        model: format!("RC-{n}"),
        gtin: gtin.map(|g| Gtin::parse(g).unwrap()),
        category: "家用电器".into(),
        standard: None,
    };
    let product_id = yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .save_product(&mut w, id, &product)
        .await
        .unwrap();
    w.record(Change::new("create", "enterprise", &code));
    store.commit(w).await.unwrap();
    Ent {
        id,
        uscc: code,
        product_id,
        caller: enterprise_user(id),
    }
}

fn service(db: &TestDb) -> CodesService {
    CodesService::new(
        db.store.clone(),
        db.dir.path().join("keys"),
        "http://127.0.0.1:8080",
    )
}

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(7)
}

/// The path and signature of a code URI, as the web layer hands them to `scan`.
fn path_and_sig(uri: &str) -> (String, String) {
    let rest = uri.split_once("://").unwrap().1;
    let path_q = &rest[rest.find('/').unwrap()..];
    let (path, q) = path_q.split_once("?s=").unwrap();
    (path.to_string(), q.to_string())
}

async fn scan(
    codes: &CodesService,
    uri: &str,
    city: Option<&str>,
) -> yuepin_codes_service::Scanned {
    let (path, sig) = path_and_sig(uri);
    codes.scan(&path, &sig, city, None).await.unwrap()
}

fn apply_req(product_id: i64, lot: Option<&str>, quantity: i64) -> ApplyRequest {
    ApplyRequest {
        product_id,
        lot: lot.map(str::to_string),
        quantity,
        note: String::new(),
    }
}

/// Applies, approves and issues `count` codes; returns their URIs.
async fn issued(codes: &CodesService, e: &Ent, lot: Option<&str>, count: usize) -> Vec<String> {
    let app = codes
        .apply(&e.caller, apply_req(e.product_id, lot, count as i64))
        .await
        .unwrap();
    let app = codes
        .decide(&regulator(), app.id, true, "记录良好")
        .await
        .unwrap();
    let out = codes
        .issue(&e.caller, app.series_id.unwrap(), count, 100, &mut rng())
        .await
        .unwrap();
    out.codes.into_iter().map(|c| c.uri).collect()
}

#[tokio::test]
async fn apply_approve_issue_look_up_revoke_and_publish_status_lists() {
    let db = TestDb::new().await;
    let codes = service(&db);
    let e = enterprise(&db.store, 1, Some("06901234567892")).await;

    let pre = codes.precheck(&e.caller, e.product_id).await.unwrap();
    assert!(pre.ok && pre.findings.is_empty());
    let app = codes
        .apply(&e.caller, apply_req(e.product_id, Some(" L1 "), 5))
        .await
        .unwrap();
    assert_eq!(app.status, ApplicationStatus::Pending);
    assert_eq!(app.lot.as_deref(), Some("L1"));
    assert!(app.precheck.ok);
    assert!(matches!(
        codes.decide(&regulator(), app.id, true, "  ").await,
        Err(CodesError::ReasonRequired)
    ));
    let approved = codes
        .decide(&regulator(), app.id, true, "记录良好")
        .await
        .unwrap();
    assert_eq!(approved.status, ApplicationStatus::Approved);
    assert!(matches!(
        codes.decide(&regulator(), app.id, false, "again").await,
        Err(CodesError::AlreadyDecided {
            status: ApplicationStatus::Approved,
            ..
        })
    ));
    let series_id = approved.series_id.unwrap();
    let listed = codes
        .applications(&e.caller, Some(ApplicationStatus::Approved))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);

    // Issue 3 of 5, then more than remain is refused.
    assert!(matches!(
        codes.issue(&e.caller, series_id, 0, 100, &mut rng()).await,
        Err(CodesError::Count { max: 100 })
    ));
    let out = codes
        .issue(&e.caller, series_id, 3, 100, &mut rng())
        .await
        .unwrap();
    assert_eq!(out.codes.len(), 3);
    assert_eq!(out.series.issued, 3);
    assert!(matches!(
        codes.issue(&e.caller, series_id, 3, 100, &mut rng()).await,
        Err(CodesError::SeriesExhausted { remaining: 2, .. })
    ));
    let detail = codes.series(&e.caller, series_id).await.unwrap();
    assert_eq!(detail.first_codes.len(), 3);
    assert!(detail
        .first_codes
        .iter()
        .all(|c| c.status == CodeStatus::Valid));
    let uris: Vec<String> = out.codes.iter().map(|c| c.uri.clone()).collect();

    // Look up by scan: genuine and valid, with the producer and the quality summary.
    let s = scan(&codes, &uris[0], None).await;
    assert_eq!(s.verdict, Verdict::Valid);
    let data = s.data.unwrap();
    assert_eq!(data.uscc, e.uscc);
    assert_eq!(data.complaints_12m, 0);
    assert_eq!(s.lot, "L1");
    let code = codes.code_by_uri(&regulator(), &uris[0]).await.unwrap();
    assert_eq!(code.id, data.code.id);

    // A lot: suspended, then reinstated (which clears reason and date).
    let lot = |lot: &str| StatusTarget::Lot {
        product_id: Some(e.product_id),
        lot: Some(lot.into()),
    };
    let n = codes
        .change_status(&regulator(), lot("L1"), CodeStatus::Suspended, "复检中")
        .await
        .unwrap();
    assert_eq!(n.changed, 3);
    assert_eq!(
        scan(&codes, &uris[1], None).await.verdict,
        Verdict::Suspended
    );
    let n = codes
        .change_status(&regulator(), lot("L1"), CodeStatus::Valid, "复检合格")
        .await
        .unwrap();
    assert_eq!(n.changed, 3);
    let back = codes.code_by_uri(&regulator(), &uris[1]).await.unwrap();
    assert_eq!(
        (back.status, back.status_reason, back.status_since),
        (CodeStatus::Valid, None, None)
    );

    // Revoke one code: the next scan says so, with the reason; the others stay valid.
    let changed = codes
        .change_status(
            &regulator(),
            StatusTarget::Code {
                code_id: None,
                uri: Some(uris[0].clone()),
            },
            CodeStatus::Revoked,
            "标签被盗用",
        )
        .await
        .unwrap();
    assert_eq!(changed.changed, 1);
    assert_eq!(changed.scope, StatusScope::Code { code_id: code.id });
    assert_eq!(changed.action, "revoke");
    match scan(&codes, &uris[0], None).await.verdict {
        Verdict::Revoked { reason, .. } => assert_eq!(reason.as_deref(), Some("标签被盗用")),
        other => panic!("{other:?}"),
    }
    let revoked = codes.code_by_uri(&regulator(), &uris[0]).await.unwrap();
    assert_eq!(revoked.status, CodeStatus::Revoked);
    assert_eq!(revoked.status_since, Some(yuepin_domain::china_today()));
    assert_eq!(scan(&codes, &uris[1], None).await.verdict, Verdict::Valid);
    // One more by id: recalled.
    codes
        .change_status(
            &regulator(),
            StatusTarget::Code {
                code_id: Some(back.id),
                uri: None,
            },
            CodeStatus::Recalled,
            "召回",
        )
        .await
        .unwrap();
    let counts = codes.status_counts(&regulator()).await.unwrap();
    assert_eq!(
        (
            counts.valid,
            counts.revoked,
            counts.recalled,
            counts.suspended
        ),
        (1, 1, 1, 0)
    );
    assert!(matches!(
        codes
            .change_status(
                &regulator(),
                StatusTarget::Enterprise { uscc: None },
                CodeStatus::Revoked,
                "x"
            )
            .await,
        Err(CodesError::Required { field: "uscc" })
    ));

    // The status list carries the non-valid entries, signed: the offline library reads them.
    let key_set = yuepin_code::SignedKeySet::from_json_verified(
        codes.key_set_json().unwrap().as_bytes(),
        &serde_json::from_str::<yuepin_code::RootKeyDocument>(&codes.root_json().unwrap())
            .unwrap()
            .verifying_key()
            .unwrap(),
    )
    .unwrap();
    let token = codes.signed_status_list(code.list_id()).await.unwrap();
    let list = yuepin_code::StatusList::from_signed_token(&token, &key_set).unwrap();
    let now = chrono::Utc::now();
    assert!(matches!(
        yuepin_code::verify(&uris[0], &key_set, Some(&list), now),
        Verdict::Revoked { .. }
    ));
    assert_eq!(
        yuepin_code::verify(&uris[1], &key_set, Some(&list), now),
        Verdict::Recalled
    );
    assert_eq!(
        yuepin_code::verify(&uris[2], &key_set, Some(&list), now),
        Verdict::Valid
    );
    assert!(matches!(
        codes.signed_status_list(code.list_id() + 1).await,
        Err(CodesError::NoStatusList { .. })
    ));
}

#[tokio::test]
async fn enterprise_callers_reach_only_their_own_codes() {
    let db = TestDb::new().await;
    let codes = service(&db);
    let a = enterprise(&db.store, 2, None).await;
    let b = enterprise(&db.store, 3, None).await;

    // B cannot apply for, or pre-check, A's product: the same answer as a missing product.
    assert!(matches!(
        codes.apply(&b.caller, apply_req(a.product_id, None, 3)).await,
        Err(CodesError::NoSuchProduct { product_id }) if product_id == a.product_id
    ));
    assert!(matches!(
        codes.apply(&b.caller, apply_req(999_999, None, 3)).await,
        Err(CodesError::NoSuchProduct { .. })
    ));
    assert!(matches!(
        codes.precheck(&b.caller, a.product_id).await,
        Err(CodesError::NoSuchProduct { .. })
    ));
    let app = codes
        .apply(&a.caller, apply_req(a.product_id, None, 3))
        .await
        .unwrap();
    assert!(matches!(
        codes.application(&b.caller, app.id).await,
        Err(CodesError::NotFound {
            entity: Entity::Application,
            ..
        })
    ));
    assert!(codes
        .applications(&b.caller, None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(codes.applications(&a.caller, None).await.unwrap().len(), 1);
    assert_eq!(
        codes.applications(&regulator(), None).await.unwrap().len(),
        1
    );

    let series_id = codes
        .decide(&regulator(), app.id, true, "ok")
        .await
        .unwrap()
        .series_id
        .unwrap();
    assert!(matches!(
        codes.series(&b.caller, series_id).await,
        Err(CodesError::NotFound {
            entity: Entity::Series,
            ..
        })
    ));
    assert!(matches!(
        codes.issue(&b.caller, series_id, 1, 100, &mut rng()).await,
        Err(CodesError::NotFound {
            entity: Entity::Series,
            ..
        })
    ));
    let home = codes.home(&b.caller).await.unwrap();
    assert!(!home.regulator && home.applications.is_empty() && home.series.is_empty());
    assert_eq!(home.products.len(), 1);
    assert_eq!(home.products[0].id, b.product_id);

    // A's codes, issued by A, are on A's page only.
    let uris = issued(&codes, &a, None, 2).await;
    assert!(uris[0].contains(&format!("/p/{}/21/", a.product_id)));
    assert_eq!(codes.home(&a.caller).await.unwrap().series.len(), 2);
    assert!(codes.home(&b.caller).await.unwrap().series.is_empty());
}

fn role_denied<T>(r: Result<T, CodesError>) -> bool {
    matches!(r, Err(CodesError::Denied(Denied::Role { .. })))
}

#[tokio::test]
async fn wrong_roles_are_denied() {
    let db = TestDb::new().await;
    let codes = service(&db);
    let e = enterprise(&db.store, 4, None).await;

    let lab = user_with_role(Role::Lab);
    let bank = user_with_role(Role::Bank);
    assert!(role_denied(
        codes.apply(&lab, apply_req(e.product_id, None, 1)).await
    ));
    assert!(role_denied(codes.applications(&bank, None).await));
    assert!(role_denied(codes.home(&bank).await.map(|_| ())));
    let app = codes
        .apply(&e.caller, apply_req(e.product_id, None, 1))
        .await
        .unwrap();
    assert!(role_denied(
        codes.decide(&e.caller, app.id, true, "x").await
    ));
    assert!(role_denied(
        codes
            .set_approval_rule(&e.caller, ApprovalRule::default())
            .await
    ));
    assert!(role_denied(codes.signal_rule(&e.caller).await));
    assert!(role_denied(
        codes
            .change_status(
                &e.caller,
                StatusTarget::Enterprise {
                    uscc: Some(e.uscc.clone())
                },
                CodeStatus::Revoked,
                "x",
            )
            .await
    ));
    assert!(role_denied(codes.signals(&e.caller).await.map(|_| ())));
    assert!(role_denied(
        codes.code_scans(&e.caller, 1).await.map(|_| ())
    ));
    assert!(role_denied(codes.status_counts(&e.caller).await));
    assert!(role_denied(
        codes
            .grant_series(&e.caller, e.product_id, None, 5, "x")
            .await
    ));
    // Any signed-in caller reads the approval rule; the public must sign in for everything
    // but the scan and the published documents.
    assert!(codes.approval_rule(&lab).await.is_ok());
    assert!(matches!(
        codes.approval_rule(&Caller::public()).await,
        Err(CodesError::Denied(Denied::SignInRequired))
    ));
    assert!(matches!(
        codes
            .apply(&Caller::public(), apply_req(e.product_id, None, 1))
            .await,
        Err(CodesError::Denied(Denied::SignInRequired))
    ));
    assert!(codes.key_set_json().is_ok());
    // The operator at the command line administers like the regulator.
    assert!(codes.status_counts(&Caller::cli("test")).await.is_ok());
}

#[tokio::test]
async fn precheck_blocks_unresolved_failures_and_the_rule_auto_approves() {
    let db = TestDb::new().await;
    let codes = service(&db);
    let e = enterprise(&db.store, 5, None).await;
    let rule = ApprovalRule {
        auto_approve: true,
        ..ApprovalRule::default()
    };
    codes.set_approval_rule(&regulator(), rule).await.unwrap();
    assert!(codes.approval_rule(&e.caller).await.unwrap().auto_approve);
    assert!(matches!(
        codes
            .set_approval_rule(
                &regulator(),
                ApprovalRule {
                    lookback_months: 121,
                    ..ApprovalRule::default()
                }
            )
            .await,
        Err(CodesError::ApprovalRuleRange)
    ));
    assert!(matches!(
        codes
            .apply(&e.caller, apply_req(e.product_id, None, 2_000_000))
            .await,
        Err(CodesError::Quantity { max: 1_000_000 })
    ));
    assert!(matches!(
        codes
            .apply(&e.caller, apply_req(e.product_id, Some("批号 1"), 1))
            .await,
        Err(CodesError::Field { field: "lot", .. })
    ));

    let day = yuepin_domain::china_today() - chrono::Days::new(60);
    let fail = QualityEventKind::Inspection {
        agency: "广东省产品质量监督检验研究院".into(),
        report_no: "GDQ-1".into(),
        result: yuepin_domain::InspectionResult::Fail,
        failed_items: vec!["电气安全".into()],
    };
    let mut w = db.store.begin_write(Actor::cli("test")).await.unwrap();
    yuepin_enterprises_service::EnterprisesService::new(db.store.clone())
        .save_event(
            &mut w,
            e.id,
            Some(e.product_id),
            day,
            "inspection:GDQ-1",
            &fail,
        )
        .await
        .unwrap();
    w.record(Change::new("create", "event", "GDQ-1"));
    db.store.commit(w).await.unwrap();

    let blocked = codes
        .apply(&e.caller, apply_req(e.product_id, None, 3))
        .await
        .unwrap();
    assert_eq!(blocked.status, ApplicationStatus::Pending);
    assert!(!blocked.precheck.ok);
    assert_eq!(
        blocked.precheck.findings[0].code,
        FindingCode::UnresolvedFailedInspection
    );

    let pass = QualityEventKind::Inspection {
        agency: "广东省产品质量监督检验研究院".into(),
        report_no: "GDQ-2".into(),
        result: yuepin_domain::InspectionResult::Pass,
        failed_items: vec![],
    };
    let mut w = db.store.begin_write(Actor::cli("test")).await.unwrap();
    yuepin_enterprises_service::EnterprisesService::new(db.store.clone())
        .save_event(
            &mut w,
            e.id,
            Some(e.product_id),
            day + chrono::Days::new(20),
            "inspection:GDQ-2",
            &pass,
        )
        .await
        .unwrap();
    w.record(Change::new("create", "event", "GDQ-2"));
    db.store.commit(w).await.unwrap();
    let auto = codes
        .apply(&e.caller, apply_req(e.product_id, None, 3))
        .await
        .unwrap();
    assert_eq!(auto.status, ApplicationStatus::Approved);
    assert!(auto.auto_approved && auto.series_id.is_some());
    assert_eq!(auto.decided_by.as_deref(), Some("system:auto-approve"));
}

#[tokio::test]
async fn scan_counts_of_two_replicas_add_up_and_raise_flags() {
    let db = TestDb::new().await;
    // Two services over one database and one key directory, as two `yuepin serve` would be.
    let e = enterprise(&db.store, 6, Some("06901234567892")).await;
    let uris = issued(&service(&db), &e, None, 1).await;
    // Made just before scanning, so that neither flushes on its own (5 s interval) meanwhile.
    let one = service(&db);
    let two = service(&db);
    for city in ["440100", "440300"] {
        scan(&one, &uris[0], Some(city)).await;
    }
    for city in ["440300", "440600", "深圳"] {
        scan(&two, &uris[0], Some(city)).await;
    }
    // Nothing is flushed yet (the interval has not passed).
    let code_id = two.code_by_uri(&regulator(), &uris[0]).await.unwrap().id;
    let total = |scans: &yuepin_codes_service::CodeScans| -> i64 {
        scans.scans.iter().map(|s| s.scans).sum()
    };
    let first = one.code_scans(&regulator(), code_id).await.unwrap();
    assert_eq!(total(&first), 2, "replica one's own counts only");
    let both = two.code_scans(&regulator(), code_id).await.unwrap();
    assert_eq!(total(&both), 5, "both flushes added up");
    let shenzhen = both
        .scans
        .iter()
        .find(|s| s.city.as_ref().map(|c| c.as_str()) == Some("440300"))
        .unwrap();
    assert_eq!(shenzhen.scans, 3);
    // Three cities on one day break the default rule (more than two).
    let signals = one.signals(&regulator()).await.unwrap();
    let flag = signals
        .flags
        .iter()
        .find(|f| f.kind == yuepin_codes_service::FlagKind::ManyCitiesDay)
        .expect("a many-cities flag");
    assert_eq!(flag.code_id, code_id);
    assert_eq!(flag.evidence["cities"].as_object().unwrap().len(), 3);
    // Flushing again adds nothing twice.
    one.flush_scans().await.unwrap();
    two.flush_scans().await.unwrap();
    assert_eq!(
        total(&one.code_scans(&regulator(), code_id).await.unwrap()),
        5
    );
}

#[tokio::test]
async fn the_scan_counts_complaints_as_the_complaints_module_does() {
    let db = TestDb::new().await;
    let codes = service(&db);
    let e = enterprise(&db.store, 7, Some("06901234567892")).await;
    let uris = issued(&codes, &e, None, 1).await;
    let today = yuepin_domain::china_today();
    for (i, days_ago) in [30u64, 400, 364].into_iter().enumerate() {
        let day = (today - chrono::Days::new(days_ago)).to_string();
        sqlx::query(
            "INSERT INTO complaints (ext_id, received_at, day, channel, kind, region, city, enterprise_id, labels_source, problem, text, updated_at) VALUES ($1, $2, $3, 'hotline', 'complaint', '440300', '440300', $4, 'rule', 'quality', '电饭煲漏电', $2)",
        )
        .bind(format!("T-{i}"))
        .bind(format!("{day}T10:00:00.000Z"))
        .bind(day)
        .bind(e.id)
        .execute(db.store.pool())
        .await
        .unwrap();
    }
    let expected = yuepin_complaints_service::ComplaintsService::new(db.store.clone())
        .complaint_count_12m_as_of(e.id, today)
        .await
        .unwrap();
    assert_eq!(expected, 2);
    let s = scan(&codes, &uris[0], None).await;
    assert_eq!(s.data.unwrap().complaints_12m, expected);
}
