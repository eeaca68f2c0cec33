//! The registry's use cases below HTTP, on the backend under test (SQLite by default,
//! PostgreSQL when `YUEPIN_TEST_DATABASE_URL` is set): who may read and change what.

use chrono::NaiveDate;
use yuepin_domain::{
    Caller, Denied, Designation, DesignationKind, Division, Enterprise, InspectionResult, Listing,
    Product, QualityEventKind, RegionCode, Role, Uscc, Yuan,
};
use yuepin_enterprises_service::{
    EnterprisesError, EnterprisesService, IdentityChangeStatus, IdentityDecision, Invalid,
    NewAccount, NewEvent, SearchQuery,
};
use yuepin_test_support::{enterprise_user, regulator, uscc, user_with_role, TestDb};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn enterprise(n: u32, name: &str) -> Enterprise {
    Enterprise {
        uscc: Uscc::parse(&uscc(n)).unwrap(),
        name: name.into(),
        region: RegionCode::parse("深圳").unwrap(),
        division: Division::parse("39").unwrap(),
        registered_capital: Yuan::parse("5000万").unwrap(),
        employees: 320,
        founded_on: date("2012-05-18"),
        listing: Listing::Unlisted,
        designations: vec![Designation {
            kind: DesignationKind::HighTech,
            awarded_on: date("2024-12-01"),
            expires_on: None,
        }],
        financials: vec![],
    }
}

fn product(owner: &Enterprise, model: &str) -> Product {
    Product {
        enterprise: owner.uscc.clone(),
        name: "智能电饭煲".into(),
        brand: "粤品".into(),
        model: model.into(),
        gtin: None,
        category: "家用电器".into(),
        standard: None,
    }
}

async fn two_enterprises() -> (TestDb, EnterprisesService, i64, i64) {
    let db = TestDb::new().await;
    let svc = EnterprisesService::new(db.store.clone());
    let a = svc
        .create_enterprise(&regulator(), &enterprise(1, "深圳甲电子有限公司"))
        .await
        .unwrap();
    let b = svc
        .create_enterprise(&regulator(), &enterprise(2, "深圳乙电子有限公司"))
        .await
        .unwrap();
    (db, svc, a.id, b.id)
}

#[tokio::test]
async fn an_enterprise_reads_only_its_own() {
    let (_db, svc, a, _b) = two_enterprises().await;
    let me = enterprise_user(a);
    assert_eq!(svc.enterprise(&me, &uscc(1)).await.unwrap().id, a);
    for other in [uscc(2), uscc(99)] {
        // Someone else's and a missing enterprise look the same.
        assert!(matches!(
            svc.enterprise(&me, &other).await,
            Err(EnterprisesError::NoSuchEnterprise(_))
        ));
    }
    assert!(matches!(
        svc.enterprise(&regulator(), &uscc(99)).await,
        Err(EnterprisesError::NoSuchEnterprise(_))
    ));
    assert!(matches!(
        svc.enterprise(&Caller::public(), &uscc(1)).await,
        Err(EnterprisesError::Denied(Denied::SignInRequired))
    ));
    assert!(matches!(
        svc.enterprise(&user_with_role(Role::Bank), &uscc(1)).await,
        Err(EnterprisesError::NoSuchEnterprise(_))
    ));
}

#[tokio::test]
async fn only_administrators_register_and_enterprises_cannot_award_themselves() {
    let (_db, svc, a, _b) = two_enterprises().await;
    let me = enterprise_user(a);
    assert!(matches!(
        svc.create_enterprise(&me, &enterprise(3, "丙")).await,
        Err(EnterprisesError::Denied(Denied::Role { .. }))
    ));
    assert!(matches!(
        svc.create_enterprise(&regulator(), &enterprise(1, "again"))
            .await,
        Err(EnterprisesError::EnterpriseExists(_))
    ));
    let mut e = enterprise(1, "深圳甲电子股份有限公司");
    e.designations.push(Designation {
        kind: DesignationKind::LittleGiant,
        awarded_on: date("2025-01-01"),
        expires_on: None,
    });
    e.employees = 400;
    let updated = svc
        .update_enterprise(&me, &uscc(1), e.clone())
        .await
        .unwrap();
    assert_eq!(updated.record.enterprise.employees, 400, "basics apply");
    assert_eq!(
        updated.record.enterprise.designations.len(),
        1,
        "self-awarded designation dropped"
    );
    assert_ne!(
        updated.record.enterprise.name, "深圳甲电子股份有限公司",
        "the name consumers see waits for review"
    );
    assert!(updated.identity_change.is_some());
    let by_regulator = svc
        .update_enterprise(&regulator(), &uscc(1), e)
        .await
        .unwrap();
    assert_eq!(by_regulator.record.enterprise.designations.len(), 2);
    assert_eq!(
        by_regulator.record.enterprise.name,
        "深圳甲电子股份有限公司"
    );
    assert!(by_regulator.identity_change.is_none());
    let mut moved = enterprise(2, "x");
    moved.uscc = Uscc::parse(&uscc(2)).unwrap();
    assert!(matches!(
        svc.update_enterprise(&regulator(), &uscc(1), moved).await,
        Err(EnterprisesError::Invalid {
            field: "uscc",
            reason: Invalid::UsccCannotChange
        })
    ));
}

#[tokio::test]
async fn products_and_events_keep_to_their_enterprise() {
    let (_db, svc, a, b) = two_enterprises().await;
    let (me, other) = (enterprise_user(a), enterprise_user(b));
    let owner = svc.enterprise(&me, &uscc(1)).await.unwrap().enterprise;
    let p = svc
        .create_product(&me, &uscc(1), product(&owner, "YP-1"))
        .await
        .unwrap();
    assert!(matches!(
        svc.create_product(&me, &uscc(1), product(&owner, "YP-1"))
            .await,
        Err(EnterprisesError::ModelExists(_))
    ));
    // Another enterprise's product and a missing one look the same.
    assert!(matches!(
        svc.product_for(&other, p.id).await,
        Err(EnterprisesError::NoSuchProduct(_))
    ));
    assert!(matches!(
        svc.product_for(&other, p.id + 1000).await,
        Err(EnterprisesError::NoSuchProduct(_))
    ));
    assert!(svc.remove_product(&other, p.id).await.is_err());
    let inspection = QualityEventKind::Inspection {
        agency: "深圳市质检院".into(),
        report_no: "R-1".into(),
        result: InspectionResult::Pass,
        failed_items: vec![],
    };
    let event = |kind: QualityEventKind, product_id| NewEvent {
        date: date("2026-03-01"),
        product_id,
        kind,
    };
    assert!(matches!(
        svc.file_event(&me, &uscc(1), event(inspection.clone(), None))
            .await,
        Err(EnterprisesError::Denied(Denied::Role { .. }))
    ));
    let (_, key) = svc
        .file_event(
            &regulator(),
            &uscc(1),
            event(inspection.clone(), Some(p.id)),
        )
        .await
        .unwrap();
    assert!(!key.is_empty());
    assert!(matches!(
        svc.file_event(&regulator(), &uscc(2), event(inspection, Some(p.id)))
            .await,
        Err(EnterprisesError::Invalid {
            reason: Invalid::ProductOfAnotherEnterprise,
            ..
        })
    ));
    assert_eq!(svc.events(&me, &uscc(1)).await.unwrap().len(), 1);
    let file = svc
        .quality_file_of(&me, &uscc(1), date("2026-12-01"))
        .await
        .unwrap();
    assert_eq!(file.summary.inspections, 1);
    assert_eq!(file.products.len(), 1);
}

#[tokio::test]
async fn search_is_scoped_to_the_caller() {
    let (_db, svc, a, _b) = two_enterprises().await;
    let q = SearchQuery {
        q: "电子".into(),
        as_of: "2026-12-01".into(),
        page: 1,
        per_page: 20,
        ..SearchQuery::default()
    };
    assert_eq!(svc.search(&regulator(), q.clone()).await.unwrap().total, 2);
    let mine = svc.search(&enterprise_user(a), q.clone()).await.unwrap();
    assert_eq!(mine.items.len(), 1);
    assert_eq!(mine.items[0].id, a);
    assert!(matches!(
        svc.search(&user_with_role(Role::Lab), q).await,
        Err(EnterprisesError::Denied(Denied::Role { .. }))
    ));
}

#[tokio::test]
async fn accounts_are_validated_and_created_by_administrators_only() {
    let (_db, svc, a, _b) = two_enterprises().await;
    let account = |username: &str, role: &str, enterprise: Option<String>| NewAccount {
        username: username.into(),
        display_name: String::new(),
        password: "a-long-password".into(),
        role: role.into(),
        enterprise_uscc: enterprise,
    };
    assert!(matches!(
        svc.create_account(&enterprise_user(a), account("eve", "regulator", None))
            .await,
        Err(EnterprisesError::Denied(_))
    ));
    let id = svc
        .create_account(&regulator(), account("acme", "enterprise", Some(uscc(1))))
        .await
        .unwrap();
    assert!(id > 0);
    for (acc, field) in [
        (account("x", "lab", None), "username"),
        (account("acme2", "enterprise", None), "enterprise_uscc"),
        (account("lab1", "lab", Some(uscc(1))), "enterprise_uscc"),
        (
            account("ghost", "enterprise", Some(uscc(77))),
            "enterprise_uscc",
        ),
    ] {
        match svc.create_account(&regulator(), acc).await {
            Err(EnterprisesError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected an invalid {field}, got {other:?}"),
        }
    }
    let mut short = account("shorty", "lab", None);
    short.password = "short".into();
    assert!(matches!(
        svc.create_account(&regulator(), short).await,
        Err(EnterprisesError::Invalid {
            reason: Invalid::Password(yuepin_store::passwords::PasswordProblem::TooShort),
            ..
        })
    ));
    assert!(matches!(
        svc.create_account(&regulator(), account("acme", "lab", None))
            .await,
        Err(EnterprisesError::UsernameTaken(_))
    ));
    assert_eq!(svc.accounts(&regulator()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn identity_changes_wait_for_a_regulator() {
    let (_db, svc, a, b) = two_enterprises().await;
    let me = enterprise_user(a);
    let before = svc.enterprise(&me, &uscc(1)).await.unwrap().enterprise;
    // The attack of issue 17: rename to a famous brand and move to another city.
    let mut e = before.clone();
    e.name = "华为技术有限公司".into();
    e.region = RegionCode::parse("广州").unwrap();
    let u = svc
        .update_enterprise_with_reason(&me, &uscc(1), e.clone(), "营业执照变更")
        .await
        .unwrap();
    assert_eq!(u.record.enterprise.name, before.name);
    assert_eq!(u.record.enterprise.region, before.region);
    let c = u.identity_change.unwrap();
    assert_eq!(c.status, IdentityChangeStatus::Pending);
    assert_eq!(c.proposed_name, "华为技术有限公司");
    assert_eq!(c.current_name, before.name);
    assert_eq!(c.reason, "营业执照变更");
    // An unchanged identity files nothing.
    let same = svc
        .update_enterprise(&me, &uscc(1), before.clone())
        .await
        .unwrap();
    assert!(same.identity_change.is_none());
    // A second request replaces the first.
    e.name = "深圳甲新名称有限公司".into();
    let second = svc
        .update_enterprise(&me, &uscc(1), e.clone())
        .await
        .unwrap()
        .identity_change
        .unwrap();
    assert_eq!(
        svc.identity_change(&me, c.id).await.unwrap().status,
        IdentityChangeStatus::Withdrawn
    );
    // Who sees what.
    let other = enterprise_user(b);
    assert!(matches!(
        svc.identity_change(&other, second.id).await,
        Err(EnterprisesError::NoSuchIdentityChange(_))
    ));
    assert_eq!(
        svc.identity_changes(&other, None, 1, 20).await.unwrap().1,
        0
    );
    let (mine, total) = svc.identity_changes(&me, None, 1, 20).await.unwrap();
    assert_eq!((mine.len(), total), (2, 2));
    let (pending, _) = svc
        .identity_changes(&regulator(), Some(IdentityChangeStatus::Pending), 1, 20)
        .await
        .unwrap();
    assert_eq!(
        pending.iter().map(|c| c.id).collect::<Vec<_>>(),
        [second.id]
    );
    assert!(matches!(
        svc.identity_changes(&user_with_role(Role::Bank), None, 1, 20)
            .await,
        Err(EnterprisesError::Denied(_))
    ));
    // Only a regulator decides; a rejection needs a note.
    assert!(matches!(
        svc.decide_identity_change(&me, second.id, IdentityDecision::Approve, "")
            .await,
        Err(EnterprisesError::Denied(_))
    ));
    assert!(matches!(
        svc.decide_identity_change(&regulator(), second.id, IdentityDecision::Reject, " ")
            .await,
        Err(EnterprisesError::Invalid {
            field: "note",
            reason: Invalid::Required
        })
    ));
    let approved = svc
        .decide_identity_change(&regulator(), second.id, IdentityDecision::Approve, "")
        .await
        .unwrap();
    assert_eq!(approved.status, IdentityChangeStatus::Approved);
    assert!(approved.decided_by.is_some());
    let now = svc.enterprise(&me, &uscc(1)).await.unwrap().enterprise;
    assert_eq!(now.name, "深圳甲新名称有限公司");
    assert_eq!(now.region.city().name_zh, "广州市");
    assert_eq!(now.employees, before.employees, "only name and region move");
    assert!(matches!(
        svc.decide_identity_change(&regulator(), second.id, IdentityDecision::Reject, "迟到")
            .await,
        Err(EnterprisesError::Invalid {
            reason: Invalid::AlreadyDecided,
            ..
        })
    ));
    assert!(matches!(
        svc.decide_identity_change(&regulator(), c.id, IdentityDecision::Approve, "")
            .await,
        Err(EnterprisesError::Invalid {
            reason: Invalid::AlreadyDecided,
            ..
        })
    ));
}

/// The accounts list pages in the database: each page holds at most `per_page` accounts in id
/// order, a page past the end shows the last one, and only administrators list.
#[tokio::test]
async fn accounts_page_in_id_order_and_clamp_to_the_last_page() {
    let (_db, svc, a, _b) = two_enterprises().await;
    for i in 0..5 {
        svc.create_account(
            &regulator(),
            NewAccount {
                username: format!("lab{i}"),
                display_name: String::new(),
                password: "a-long-password".into(),
                role: "lab".into(),
                enterprise_uscc: None,
            },
        )
        .await
        .unwrap();
    }
    let first = svc.accounts_page(&regulator(), 1, 2).await.unwrap();
    assert_eq!((first.total, first.page, first.users.len()), (5, 1, 2));
    assert_eq!(first.users[0].username, "lab0");
    let last = svc.accounts_page(&regulator(), 99, 2).await.unwrap();
    assert_eq!((last.page, last.users.len()), (3, 1));
    assert_eq!(last.users[0].username, "lab4");
    assert!(matches!(
        svc.accounts_page(&enterprise_user(a), 1, 2).await,
        Err(EnterprisesError::Denied(_))
    ));
}
