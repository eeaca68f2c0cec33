//! The bulk enterprise import on the backend under test (the native SQLite writer, or
//! PostgreSQL's COPY into staging and the set-based move): new and stored rows counted,
//! designations and financials upserted, the name index following a rename, and nothing landing
//! from an import that fails or is abandoned — including no staging rows left on PostgreSQL.

use chrono::NaiveDate;
use sqlx::Row;
use yuepin_domain::{
    Designation, DesignationKind, Division, Enterprise, Financials, Listing, RegionCode, Uscc, Yuan,
};
use yuepin_enterprises_service::{EnterprisesService, SearchQuery};
use yuepin_store::audit::Verification;
use yuepin_store::Actor;
use yuepin_test_support::{uscc, TestDb};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn enterprise(n: u32, name: &str, city: &str) -> Enterprise {
    Enterprise {
        uscc: Uscc::parse(&uscc(n)).unwrap(),
        name: name.into(),
        region: RegionCode::parse(city).unwrap(),
        division: Division::parse("39").unwrap(),
        registered_capital: Yuan::parse("5000万").unwrap(),
        employees: n,
        founded_on: date("2012-05-18"),
        listing: Listing::Unlisted,
        designations: vec![Designation {
            kind: DesignationKind::HighTech,
            awarded_on: date("2024-12-01"),
            expires_on: Some(date("2027-11-30")),
        }],
        financials: vec![Financials {
            year: 2024,
            revenue_china: Yuan::parse("2亿").unwrap(),
            revenue_world: None,
        }],
    }
}

async fn names(svc: &EnterprisesService, q: &str) -> Vec<String> {
    svc.search_enterprises(&SearchQuery {
        q: q.into(),
        as_of: "2026-01-01".into(),
        page: 1,
        per_page: 50,
        ..SearchQuery::default()
    })
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|e| e.name)
    .collect()
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// What an import must leave behind after failing: the PostgreSQL staging table empty too.
async fn staged(db: &TestDb) -> i64 {
    if db.store.backend_name() == "postgres" {
        count(db, "SELECT COUNT(*) FROM enterprises_staging").await
    } else {
        0
    }
}

#[tokio::test]
async fn imports_count_new_and_stored_rows_and_upsert_their_parts() {
    let db = TestDb::new().await;
    let svc = EnterprisesService::new(db.store.clone());
    let first: Vec<Enterprise> = (1..=300)
        .map(|n| enterprise(n, &format!("深圳市青禾{n}号模具有限公司"), "深圳"))
        .collect();
    let s = svc
        .import_enterprises(Actor::cli("test"), &first, "one", |_| {})
        .await
        .unwrap();
    assert_eq!((s.rows, s.inserted, s.updated), (300, 300, 0));

    // The second file renames and moves one stored enterprise, adds a designation and a year
    // to it, changes a stored year, and brings one new enterprise.
    let mut moved = enterprise(7, "东莞市澜汐电子有限公司", "东莞");
    moved.designations.push(Designation {
        kind: DesignationKind::LittleGiant,
        awarded_on: date("2025-07-01"),
        expires_on: None,
    });
    moved.financials = vec![
        Financials {
            year: 2024,
            revenue_china: Yuan::parse("3亿").unwrap(),
            revenue_world: Some(Yuan::parse("4亿").unwrap()),
        },
        Financials {
            year: 2025,
            revenue_china: Yuan::parse("5亿").unwrap(),
            revenue_world: None,
        },
    ];
    let second = vec![
        moved.clone(),
        enterprise(301, "广州市北斗精密仪器有限公司", "广州"),
    ];
    let s = svc
        .import_enterprises(Actor::cli("test"), &second, "two", |_| {})
        .await
        .unwrap();
    assert_eq!((s.rows, s.inserted, s.updated), (2, 1, 1));

    let stored = svc.enterprise_by_uscc(&uscc(7)).await.unwrap().enterprise;
    assert_eq!(stored.name, moved.name);
    assert_eq!(stored.region, moved.region);
    assert_eq!(stored.designations, moved.designations);
    assert_eq!(stored.financials, moved.financials);
    assert_eq!(
        svc.enterprise_by_uscc(&uscc(301)).await.unwrap().enterprise,
        second[1]
    );
    // Designations carry their enterprise's city, for the designation + city search.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM designations d JOIN enterprises e ON e.id = d.enterprise_id WHERE d.city <> e.city"
        )
        .await,
        0
    );
    assert!(
        names(&svc, "青禾7号").await.is_empty(),
        "the old name is gone"
    );
    assert_eq!(names(&svc, "澜汐").await, vec![moved.name.clone()]);
    assert_eq!(names(&svc, "北斗精密").await.len(), 1);
    assert_eq!(names(&svc, "青禾").await.len(), 50);
    // Pages of a keyword search, with the exact total, in id order (PostgreSQL collects such
    // rare matches through the index and sorts them; SQLite's index yields them in order).
    let page = |n: u32| SearchQuery {
        q: "青禾".into(),
        city: Some("440300".into()),
        as_of: "2026-01-01".into(),
        page: n,
        per_page: 50,
        ..SearchQuery::default()
    };
    let six = svc.search_enterprises(&page(6)).await.unwrap();
    assert_eq!(
        (six.items.len(), six.total, six.total_capped),
        (49, 299, false)
    );
    assert!(six.items.windows(2).all(|w| w[0].id < w[1].id));
    let two = svc.search_enterprises(&page(2)).await.unwrap();
    assert_eq!(two.items[0].id + 1, two.items[1].id);
    assert!(two.items[49].id < six.items[0].id);
    assert!(svc
        .search_enterprises(&page(7))
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(count(&db, "SELECT COUNT(*) FROM enterprises").await, 301);
    assert_eq!(staged(&db).await, 0);
    assert!(matches!(
        db.store.audit_verify().await.unwrap(),
        Verification::Intact { .. }
    ));
}

#[tokio::test]
async fn a_failed_or_abandoned_import_writes_nothing() {
    let db = TestDb::new().await;
    let svc = EnterprisesService::new(db.store.clone());
    let base = vec![enterprise(1, "深圳市青禾模具有限公司", "深圳")];
    svc.import_enterprises(Actor::cli("test"), &base, "base", |_| {})
        .await
        .unwrap();
    let audit_rows = count(&db, "SELECT COUNT(*) FROM audit_log").await;

    // PostgreSQL: the move fails after it has updated a stored row (a credit code repeated in
    // two batches of one import meets the unique index on insert), and the rollback takes the
    // update back too. (The parser refuses repeated codes before they reach either backend; the
    // native SQLite writer would update the row twice.)
    if db.store.backend_name() == "postgres" {
        let mut import = svc
            .begin_enterprise_import(Actor::cli("test"))
            .await
            .unwrap();
        import
            .write(vec![
                enterprise(1, "深圳市改名电子有限公司", "深圳"),
                enterprise(2, "深圳市新来电子有限公司", "深圳"),
            ])
            .await
            .unwrap();
        import
            .write(vec![enterprise(2, "深圳市重复电子有限公司", "深圳")])
            .await
            .unwrap();
        assert!(import.finish("repeated").await.is_err());
        assert_eq!(count(&db, "SELECT COUNT(*) FROM enterprises").await, 1);
        assert_eq!(
            svc.enterprise_by_uscc(&uscc(1)).await.unwrap().enterprise,
            base[0]
        );
        assert!(names(&svc, "新来").await.is_empty());
        assert!(names(&svc, "改名").await.is_empty());
        assert_eq!(staged(&db).await, 0);
    }

    // Abandoned after some batches (a bad row later in the file): dropped, nothing lands.
    let mut import = svc
        .begin_enterprise_import(Actor::cli("test"))
        .await
        .unwrap();
    import
        .write(vec![enterprise(3, "深圳市半途电子有限公司", "深圳")])
        .await
        .unwrap();
    drop(import);
    // The dropped COPY (or native writer) ends on its own connection: give it a moment.
    for _ in 0..50 {
        if staged(&db).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM enterprises").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM designations").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM financials").await, 1);
    assert_eq!(staged(&db).await, 0);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit_log").await,
        audit_rows
    );
    assert!(matches!(
        db.store.audit_verify().await.unwrap(),
        Verification::Intact { .. }
    ));
}

/// The indexes and keys of the registry's tables, as the catalogue defines them (PostgreSQL).
async fn schema(db: &TestDb) -> Vec<String> {
    let sql = "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid IN ('enterprises'::regclass, 'designations'::regclass, 'financials'::regclass) \
               UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
               WHERE conrelid IN ('enterprises'::regclass, 'designations'::regclass, 'financials'::regclass) ORDER BY 1";
    sqlx::query(sql)
        .fetch_all(db.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>(0).unwrap())
        .collect()
}

/// Large imports into an almost empty registry (PostgreSQL builds its secondary indexes and
/// keys once, after the rows): the same rows and counts as any import, and every index and
/// key back as the migrations made them, enforcing again.
#[tokio::test]
async fn first_loads_land_like_any_import_and_rebuild_what_they_dropped() {
    let db = TestDb::new().await;
    let pg = db.store.backend_name() == "postgres";
    let before = if pg { schema(&db).await } else { vec![] };
    let svc = EnterprisesService::new(db.store.clone());
    let first: Vec<Enterprise> = (1..=1_200)
        .map(|n| enterprise(n, &format!("深圳市启明{n}号光电有限公司"), "深圳"))
        .collect();
    let s = svc
        .import_enterprises(Actor::cli("test"), &first, "first", |_| {})
        .await
        .unwrap();
    assert_eq!((s.rows, s.inserted, s.updated), (1_200, 1_200, 0));
    // Five times the registry, 300 of them stored: upserted, the rest new.
    let mut second: Vec<Enterprise> = (901..=6_000)
        .map(|n| enterprise(n, &format!("东莞市北辰{n}号精密有限公司"), "东莞"))
        .collect();
    second[0].designations.push(Designation {
        kind: DesignationKind::LittleGiant,
        awarded_on: date("2025-07-01"),
        expires_on: None,
    });
    let s = svc
        .import_enterprises(Actor::cli("test"), &second, "second", |_| {})
        .await
        .unwrap();
    assert_eq!((s.rows, s.inserted, s.updated), (5_100, 4_800, 300));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM enterprises").await, 6_000);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM designations").await, 6_001);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM financials").await, 6_000);
    assert_eq!(
        svc.enterprise_by_uscc(&uscc(901)).await.unwrap().enterprise,
        second[0]
    );
    assert_eq!(names(&svc, "北辰901号").await, vec![second[0].name.clone()]);
    assert!(names(&svc, "启明901号").await.is_empty());
    assert_eq!(staged(&db).await, 0);
    if pg {
        assert_eq!(
            schema(&db).await,
            before,
            "indexes and keys as the migrations made them"
        );
        // The keys enforce again: a repeated year is refused, a deleted enterprise takes its
        // designations and financials along.
        let repeat = sqlx::query(
            "INSERT INTO financials (enterprise_id, year, revenue_china_fen) SELECT enterprise_id, year, 1 FROM financials LIMIT 1",
        )
        .execute(db.store.pool())
        .await;
        assert!(repeat.is_err());
        sqlx::query("DELETE FROM enterprises WHERE uscc = $1")
            .bind(uscc(5))
            .execute(db.store.pool())
            .await
            .unwrap();
        assert_eq!(count(&db, "SELECT COUNT(*) FROM financials").await, 5_999);
    }
    assert!(matches!(
        db.store.audit_verify().await.unwrap(),
        Verification::Intact { .. }
    ));
}
