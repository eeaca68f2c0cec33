//! The fixture both credit test binaries share: a fresh database on the backend under test,
//! two enterprises with quality events, two banks with one bound user each, and the callers
//! of every role.

#![allow(dead_code)]

use chrono::NaiveDate;
use yuepin_credit::{Categories, DateRange, Purpose, TermsRequest};
use yuepin_credit_service::CreditService;
use yuepin_domain::{
    Caller, Division, Enterprise, InspectionResult, Listing, QualityEventKind, RegionCode, Role,
    Uscc, Yuan,
};
use yuepin_store::{Actor, Change, Store};
use yuepin_test_support::{enterprise_user, regulator, uscc, user_with_role, TestDb};

pub struct Fx {
    pub db: TestDb,
    pub store: Store,
    pub credit: CreditService,
    pub ent_a: i64,
    pub ent_b: i64,
    pub uscc_a: String,
    pub uscc_b: String,
    pub bank_x: i64,
    pub bank_y: i64,
    pub a: Caller,
    pub b: Caller,
    pub x: Caller,
    pub y: Caller,
    pub lab: Caller,
    pub expert: Caller,
    pub regulator: Caller,
    pub public: Caller,
    /// A `bank` account bound to no bank.
    pub unbound: Caller,
}

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn enterprise(store: &Store, n: u32) -> i64 {
    let e = Enterprise {
        uscc: Uscc::parse(&uscc(n)).unwrap(),
        name: format!("测试企业{n}有限公司"),
        region: RegionCode::parse("深圳").unwrap(),
        division: Division::parse("39").unwrap(),
        registered_capital: Yuan::parse("5000万").unwrap(),
        employees: 320,
        founded_on: d("2012-05-18"),
        listing: Listing::Unlisted,
        designations: vec![],
        financials: vec![],
    };
    let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
    let id = yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .save_enterprise(&mut w, &e)
        .await
        .unwrap();
    store.commit(w).await.unwrap();
    id
}

/// Files a quality event for an enterprise (as the regulator's import would).
pub async fn event(
    store: &Store,
    enterprise_id: i64,
    date: &str,
    key: &str,
    kind: QualityEventKind,
) {
    let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
    yuepin_enterprises_service::EnterprisesService::new(store.clone())
        .save_event(&mut w, enterprise_id, None, d(date), key, &kind)
        .await
        .unwrap();
    w.record(Change::new("create", "quality_event", key));
    store.commit(w).await.unwrap();
}

pub fn inspection(no: &str, result: InspectionResult) -> QualityEventKind {
    QualityEventKind::Inspection {
        agency: "深圳市市场监督管理局".into(),
        report_no: no.into(),
        result,
        failed_items: vec![],
    }
}

async fn user(store: &Store, name: &str, role: Role) -> i64 {
    let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
    let id = store
        .create_user(&mut w, name, name, "x", role, None)
        .await
        .unwrap();
    w.record(Change::new("create", "user", id));
    store.commit(w).await.unwrap();
    id
}

pub async fn setup() -> Fx {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let credit = CreditService::new(store.clone(), db.dir.path().join("credit-keys"));
    let ent_a = enterprise(&store, 1).await;
    let ent_b = enterprise(&store, 2).await;
    event(
        &store,
        ent_a,
        "2026-06-01",
        "inspection:SZ-2026-001",
        inspection("SZ-2026-001", InspectionResult::Pass),
    )
    .await;
    event(
        &store,
        ent_a,
        "2025-03-01",
        "inspection:SZ-2025-017",
        inspection("SZ-2025-017", InspectionResult::Pass),
    )
    .await;
    event(
        &store,
        ent_b,
        "2026-05-01",
        "inspection:SZ-2026-099",
        inspection("SZ-2026-099", InspectionResult::Fail),
    )
    .await;
    let reg = regulator();
    let bx = credit
        .create_bank(&reg, "ICBC-GD", "工商银行广东省分行")
        .await
        .unwrap();
    let by = credit
        .create_bank(&reg, "CMB-SZ", "招商银行深圳分行")
        .await
        .unwrap();
    let xid = user(&store, "bankx", Role::Bank).await;
    let yid = user(&store, "banky", Role::Bank).await;
    let uid = user(&store, "bankz", Role::Bank).await;
    credit.bind_bank_staff(&reg, bx.id, "bankx").await.unwrap();
    credit.bind_bank_staff(&reg, by.id, "banky").await.unwrap();
    Fx {
        uscc_a: uscc(1),
        uscc_b: uscc(2),
        a: enterprise_user(ent_a),
        b: enterprise_user(ent_b),
        x: Caller::user(xid, "bankx", Role::Bank, None, None),
        y: Caller::user(yid, "banky", Role::Bank, None, None),
        unbound: Caller::user(uid, "bankz", Role::Bank, None, None),
        lab: user_with_role(Role::Lab),
        expert: user_with_role(Role::Expert),
        regulator: reg,
        public: Caller::public(),
        bank_x: bx.id,
        bank_y: by.id,
        ent_a,
        ent_b,
        credit,
        store,
        db,
    }
}

/// Terms for tests: grade and inspections over 2024 to yesterday-ish.
pub fn terms(max_fetches: u32, valid_days: u32) -> TermsRequest {
    TermsRequest {
        purpose: Purpose::QualityLoan,
        categories: Categories::parse(["grade", "inspections", "complaints_warnings"]).unwrap(),
        data_range: DateRange::new(d("2024-01-01"), d("2026-11-30")).unwrap(),
        max_fetches,
        min_interval_minutes: 0,
        retention_days: 90,
        valid_days,
    }
}

/// A fetch of grade and inspections over 2025–2026.
pub fn fetch() -> yuepin_credit_service::FetchRequest {
    yuepin_credit_service::FetchRequest {
        categories: Categories::parse(["grade", "inspections"]).unwrap(),
        range: DateRange::new(d("2025-01-01"), d("2026-11-30")).unwrap(),
    }
}
