//! Money integrity below HTTP, on the backend under test: what a payment is for derives from
//! platform facts scoped to the enterprise (20 parallel applications with different free-text
//! references for one award make one grant; one enterprise never blocks another), caps add up
//! per enterprise, measure and period (exactly at the cap passes, one yuan over is refused),
//! a standard an enterprise declares for itself decides no money until a regulator confirms
//! it, the application window of the pack holds on the policy's first and last day, and an
//! export of applications and grants is scoped to the caller.

use serde_json::json;
use yuepin_domain::{Enterprise, QualityEventKind};
use yuepin_enterprises_service::{EnterprisesService, NewEvent};
use yuepin_policy::OutcomeKind;
use yuepin_policy_service::{ApplyInput, DecisionInput, PolicyError, PolicyService};
use yuepin_store::{Actor, Store};
use yuepin_test_support::{enterprise_user, regulator, uscc, TestDb};

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// Eligible for M18 and M10 on 2025-03-01 (little giant + performance excellence; a
/// provincial quality award from 2024-05-01 that does not lapse).
fn awarded(code: &str, name: &str) -> Enterprise {
    serde_json::from_value(json!({
        "uscc": code, "name": name, "region": "深圳", "division": "39",
        "registered_capital": "5000万", "employees": 320, "founded_on": "2012-05-18",
        "listing": "unlisted",
        "designations": [
            {"kind": "little_giant", "awarded_on": "2022-07-01", "expires_on": "2025-06-30"},
            {"kind": "performance_excellence", "awarded_on": "2023-01-01"},
            {"kind": "guangdong_quality_award", "awarded_on": "2024-05-01"}],
        "financials": [{"year": 2024, "revenue_china": "20亿元", "revenue_world": "25.5亿"}]
    }))
    .unwrap()
}

async fn save(store: &Store, e: &Enterprise) -> i64 {
    let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
    let id = EnterprisesService::new(store.clone())
        .save_enterprise(&mut w, e)
        .await
        .unwrap();
    store.commit(w).await.unwrap();
    id
}

fn apply(measure: &str, reference: &str) -> ApplyInput {
    ApplyInput {
        measure: measure.into(),
        reference: reference.into(),
        ..Default::default()
    }
}

fn approve(amount: &str) -> DecisionInput {
    DecisionInput {
        decision: "approve".into(),
        amount: amount.into(),
        year: Some(2025),
        ..Default::default()
    }
}

async fn grant_count(store: &Store, enterprise_id: i64) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM policy_grants WHERE enterprise_id = $1")
        .bind(enterprise_id)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn twenty_parallel_applications_for_one_award_make_one_grant() {
    let db = TestDb::new().await;
    let a = save(&db.store, &awarded(&uscc(201), "深圳市甲有限公司")).await;
    let b = save(&db.store, &awarded(&uscc(202), "深圳市乙有限公司")).await;
    let svc = PolicyService::new(db.store.clone()).with_today(day("2025-03-01"));
    let ua = enterprise_user(a);
    let tasks: Vec<_> = (1..=20)
        .map(|i| {
            let (svc, ua) = (svc.clone(), ua.clone());
            tokio::spawn(async move { svc.apply(&ua, apply("M10", &format!("award-{i}"))).await })
        })
        .collect();
    let mut ok = vec![];
    for t in tasks {
        match t.await.unwrap() {
            Ok(app) => ok.push(app),
            Err(PolicyError::ApplicationPending { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(ok.len(), 1, "one open application per award");
    let app = &ok[0];
    assert_eq!(app.payment_key, "award:guangdong_quality_award:2024-05-01");
    svc.decide(&regulator(), app.id, approve("30万元"))
        .await
        .unwrap();
    for i in 1..=20 {
        assert!(matches!(
            svc.apply(&ua, apply("M10", &format!("award-{i}"))).await,
            Err(PolicyError::AlreadyPaid { .. })
        ));
    }
    assert_eq!(grant_count(&db.store, a).await, 1);
    // The other enterprise's own award is its own: A's payment never blocks B.
    let ub = enterprise_user(b);
    let bapp = svc.apply(&ub, apply("M10", "award-1")).await.unwrap();
    svc.decide(&regulator(), bapp.id, approve("30万元"))
        .await
        .unwrap();
    assert_eq!(grant_count(&db.store, b).await, 1);
}

#[tokio::test]
async fn cumulative_cap_at_its_boundary() {
    let db = TestDb::new().await;
    let a = save(&db.store, &awarded(&uscc(211), "深圳市丙有限公司")).await;
    let svc = PolicyService::new(db.store.clone()).with_today(day("2025-03-01"));
    let ua = enterprise_user(a);
    // Free-text references make no new key: the financing line is (enterprise, M18, 2025).
    let first = svc.apply(&ua, apply("M18", "loan-1")).await.unwrap();
    assert_eq!(first.payment_key, "period:2025");
    assert!(matches!(
        svc.apply(&ua, apply("M18", "loan-2")).await,
        Err(PolicyError::ApplicationPending { .. })
    ));
    svc.decide(&regulator(), first.id, approve("6000万元"))
        .await
        .unwrap();
    // A second loan: 1 yuan over the cumulative 1亿 is refused, exactly at it passes.
    let second = svc.apply(&ua, apply("M18", "loan-2")).await.unwrap();
    assert!(matches!(
        svc.decide(&regulator(), second.id, approve("40000001"))
            .await,
        Err(PolicyError::OverCap {
            cap_fen: 10_000_000_000,
            already_fen: 6_000_000_000
        })
    ));
    svc.decide(&regulator(), second.id, approve("4000万元"))
        .await
        .unwrap();
    let third = svc.apply(&ua, apply("M18", "loan-3")).await.unwrap();
    assert!(matches!(
        svc.decide(&regulator(), third.id, approve("1")).await,
        Err(PolicyError::OverCap {
            already_fen: 10_000_000_000,
            ..
        })
    ));
    let total: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(amount_fen) AS BIGINT) FROM policy_grants WHERE enterprise_id = $1",
    )
    .bind(a)
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(total, 10_000_000_000);
    // Concurrent decisions on the open application: one grant at most, the cap still holds.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let svc = svc.clone();
            let id = third.id;
            tokio::spawn(async move { svc.decide(&regulator(), id, approve("1")).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_err());
    }
    assert_eq!(grant_count(&db.store, a).await, 2);
}

#[tokio::test]
async fn a_self_declared_standard_is_not_m8_eligible_until_confirmed() {
    let db = TestDb::new().await;
    let code = uscc(221);
    let a = save(&db.store, &awarded(&code, "深圳市丁有限公司")).await;
    let svc = PolicyService::new(db.store.clone()).with_today(day("2025-03-01"));
    let ua = enterprise_user(a);
    let kind: QualityEventKind = serde_json::from_value(
        json!({"kind": "standard", "code": "ISO 12345", "level": "international", "role": "lead"}),
    )
    .unwrap();
    let (event, _) = EnterprisesService::new(db.store.clone())
        .file_event(
            &ua,
            &code,
            NewEvent {
                date: day("2024-11-01"),
                product_id: None,
                kind,
            },
        )
        .await
        .unwrap();
    // Declared: the count is unknown (待核实), so M8 is undetermined, and no application.
    let m8 = |svc: &PolicyService| {
        let svc = svc.clone();
        let ua = ua.clone();
        async move {
            let (_, evals) = svc
                .enterprise_matches(&ua, &uscc(221), None)
                .await
                .map(|m| {
                    let all: Vec<_> = m
                        .eligible
                        .into_iter()
                        .chain(m.undetermined)
                        .chain(m.not_eligible)
                        .collect();
                    ((), all)
                })
                .unwrap();
            evals
                .into_iter()
                .find(|e| e.measure == "gd-2023-74/M8")
                .unwrap()
                .outcome
                .kind()
        }
    };
    assert_eq!(m8(&svc).await, OutcomeKind::Undetermined);
    assert!(matches!(
        svc.apply(&ua, apply("M8", "ISO 12345")).await,
        Err(PolicyError::NotEligible(_))
    ));
    let standards = svc.standards_of(&ua, &code).await.unwrap();
    assert_eq!(standards.len(), 1);
    assert_eq!(standards[0].provenance.as_str(), "declared");
    // Only a regulator confirms.
    assert!(svc.confirm_standard(&ua, event).await.is_err());
    let confirmed = svc.confirm_standard(&regulator(), event).await.unwrap();
    assert_eq!(confirmed.provenance.as_str(), "confirmed");
    assert_eq!(m8(&svc).await, OutcomeKind::Eligible);
    // Three spellings of one standard are one payment key.
    let app = svc.apply(&ua, apply("M8", "iso12345")).await.unwrap();
    assert_eq!(app.payment_key, format!("standard:{event}"));
    assert!(matches!(
        svc.apply(&ua, apply("M8", "ISO 12345:2026")).await,
        Err(PolicyError::ApplicationPending { .. })
    ));
    assert!(matches!(
        svc.apply(&ua, apply("M8", "ISO 99999")).await,
        Err(PolicyError::NoPayableRecord { field: "reference" })
    ));
    svc.decide(&regulator(), app.id, approve("50万元"))
        .await
        .unwrap();
    assert!(matches!(
        svc.apply(&ua, apply("M8", "ISO12345")).await,
        Err(PolicyError::AlreadyPaid { .. })
    ));
    // Re-declaring it makes it 待核实 again.
    let kind: QualityEventKind = serde_json::from_value(
        json!({"kind": "standard", "code": "ISO 12345", "level": "international", "role": "lead"}),
    )
    .unwrap();
    EnterprisesService::new(db.store.clone())
        .file_event(
            &ua,
            &code,
            NewEvent {
                date: day("2024-11-02"),
                product_id: None,
                kind,
            },
        )
        .await
        .unwrap();
    assert_eq!(m8(&svc).await, OutcomeKind::Undetermined);
}

#[tokio::test]
async fn the_application_window_on_the_policys_first_and_last_day() {
    let db = TestDb::new().await;
    let code = uscc(231);
    let mut e = awarded(&code, "深圳市戊有限公司");
    // A provincial quality award held since before the policy.
    e.designations
        .retain(|d| d.kind.code() == "guangdong_quality_award");
    e.designations[0].awarded_on = day("2023-05-01");
    let a = save(&db.store, &e).await;
    let ua = enterprise_user(a);
    let on = |d: &str| PolicyService::new(db.store.clone()).with_today(day(d));
    match on("2023-10-11").apply(&ua, apply("M10", "")).await {
        Err(PolicyError::OutsideWindow { first_day, .. }) => {
            assert_eq!(first_day, day("2023-10-12"))
        }
        other => panic!("{other:?}"),
    }
    let first = on("2023-10-12").apply(&ua, apply("M10", "")).await.unwrap();
    assert_eq!(first.evaluated_on, Some(day("2023-10-12")));
    on("2023-10-12")
        .decide(
            &regulator(),
            first.id,
            DecisionInput {
                decision: "reject".into(),
                reason: "材料不全".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let last = on("2026-10-11").apply(&ua, apply("M10", "")).await.unwrap();
    match on("2026-10-12").apply(&ua, apply("M10", "")).await {
        Err(PolicyError::OutsideWindow {
            measure,
            last_day,
            successor,
            ..
        }) => {
            assert_eq!(measure, "gd-2023-74/M10");
            assert_eq!(last_day, day("2026-10-11"));
            assert_eq!(successor, None);
        }
        other => panic!("{other:?}"),
    }
    // Filed inside the window, decided after it closed: the decision stands on the filing.
    let decided = on("2026-12-01")
        .decide(&regulator(), last.id, approve("30万元"))
        .await
        .unwrap();
    assert!(decided.grant.is_some());
    assert_eq!(decided.evaluated_on, Some(day("2026-10-11")));
    let ev = decided.evidence.unwrap();
    assert_eq!(ev["pack"]["id"], "gd-2023-74");
    assert_eq!(ev["evaluation"]["outcome"], "eligible");
    assert!(ev["facts"]["designations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "guangdong_quality_award"));
}

#[tokio::test]
async fn an_export_lists_everything_for_regulators_and_its_own_for_an_enterprise() {
    let db = TestDb::new().await;
    let a = save(&db.store, &awarded(&uscc(241), "深圳市戊有限公司")).await;
    let b = save(&db.store, &awarded(&uscc(242), "深圳市己有限公司")).await;
    let svc = PolicyService::new(db.store.clone()).with_today(day("2025-03-01"));
    let (ua, ub) = (enterprise_user(a), enterprise_user(b));
    let app = svc.apply(&ua, apply("M10", "")).await.unwrap();
    svc.apply(&ub, apply("M10", "")).await.unwrap();
    svc.decide(&regulator(), app.id, approve("30万元"))
        .await
        .unwrap();
    let (all, more) = svc
        .applications_for_export(&regulator(), None)
        .await
        .unwrap();
    assert_eq!((all.len(), more), (2, false));
    let (approved, _) = svc
        .applications_for_export(&regulator(), Some("approved"))
        .await
        .unwrap();
    assert_eq!(approved.len(), 1);
    assert_eq!(
        approved[0].grant.as_ref().map(|g| g.amount_fen),
        Some(30_000_000)
    );
    let (own, _) = svc.applications_for_export(&ub, None).await.unwrap();
    assert!(own.iter().all(|x| x.enterprise_id == b) && own.len() == 1);
    let bank = yuepin_test_support::user_with_role(yuepin_domain::Role::Bank);
    assert!(svc.applications_for_export(&bank, None).await.is_err());
}
