//! The fixture the hospital test binaries share: a fresh database on the backend under test,
//! two enterprises (each with a failed inspection), two hospitals, four experts (one the
//! coordinator of the first hospital) and the callers of every role.

#![allow(dead_code)]

use chrono::{NaiveDate, NaiveDateTime};
use yuepin_domain::{
    Caller, Division, Enterprise, InspectionResult, Listing, QualityEventKind, RegionCode, Role,
    Uscc, Yuan,
};
use yuepin_hospital_service::{HospitalService, NewCase, NewExpert, NewHospital, Priority};
use yuepin_store::{Actor, Change, Store};
use yuepin_test_support::{enterprise_user, regulator, uscc, user_with_role, TestDb};

pub struct Fx {
    pub db: TestDb,
    pub store: Store,
    pub svc: HospitalService,
    pub ent_a: i64,
    pub ent_b: i64,
    /// The failed inspections of A and B (quality event ids).
    pub insp_a: i64,
    pub insp_b: i64,
    pub gd: i64,
    pub sz: i64,
    /// x1 coordinates GD (深圳, 39); x2 GD (广州, 39); x3 GD (深圳, 38); x4 SZ only (深圳, 39).
    pub x: [i64; 4],
    pub xc: [Caller; 4],
    pub a: Caller,
    pub b: Caller,
    pub regulator: Caller,
    pub lab: Caller,
    pub bank: Caller,
    pub public: Caller,
    /// An `expert` account with no expert record.
    pub unbound: Caller,
}

pub fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

async fn enterprise(store: &Store, n: u32, name: &str) -> i64 {
    let e = Enterprise {
        uscc: Uscc::parse(&uscc(n)).unwrap(),
        name: name.into(),
        region: RegionCode::parse("440306").unwrap(),
        division: Division::parse("39").unwrap(),
        registered_capital: Yuan::parse("5000万").unwrap(),
        employees: 320,
        founded_on: NaiveDate::from_ymd_opt(2012, 5, 18).unwrap(),
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

async fn failed_inspection(store: &Store, enterprise_id: i64, no: &str) -> i64 {
    let reg = yuepin_enterprises_service::EnterprisesService::new(store.clone());
    let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
    let kind = QualityEventKind::Inspection {
        agency: "深圳市市场监督管理局".into(),
        report_no: no.into(),
        result: InspectionResult::Fail,
        failed_items: vec!["电磁兼容".into()],
    };
    reg.save_event(
        &mut w,
        enterprise_id,
        None,
        NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        &format!("inspection:{no}"),
        &kind,
    )
    .await
    .unwrap();
    w.record(Change::new("create", "quality_event", no));
    store.commit(w).await.unwrap();
    reg.events_of(enterprise_id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.natural_key == format!("inspection:{no}"))
        .unwrap()
        .id
}

pub async fn user(store: &Store, name: &str, role: Role) -> i64 {
    let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
    let id = store
        .create_user(&mut w, name, name, "x", role, None)
        .await
        .unwrap();
    w.record(Change::new("create", "user", id));
    store.commit(w).await.unwrap();
    id
}

pub fn hospital(code: &str, name: &str, city: &str, divisions: &str) -> NewHospital {
    NewHospital {
        code: code.into(),
        name: name.into(),
        institution: "广东产品质量监督检验研究院".into(),
        city: city.into(),
        divisions: divisions.into(),
        capacity: 50,
        business_hours: "08:30-12:00,13:30-17:30".into(),
    }
}

pub fn new_case(hospital_id: i64, title: &str) -> NewCase {
    NewCase {
        hospital_id,
        title: title.into(),
        product: "智能插座".into(),
        problem_type: "不合格整改".into(),
        description: "监督抽查电磁兼容项目不合格,需要整改方案".into(),
        division: None,
        priority: Priority::Normal,
        on_site: false,
        link_kind: None,
        link_id: None,
    }
}

pub async fn setup() -> Fx {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let svc = HospitalService::new(store.clone());
    let ent_a = enterprise(&store, 1, "深圳市甲电子有限公司").await;
    let ent_b = enterprise(&store, 2, "深圳市乙电器有限公司").await;
    let insp_a = failed_inspection(&store, ent_a, "SZ-2026-001").await;
    let insp_b = failed_inspection(&store, ent_b, "SZ-2026-002").await;
    let reg = regulator();
    let gd = svc
        .create_hospital(&reg, &hospital("GDQI", "广东电子产品医院", "广州", "38;39"))
        .await
        .unwrap()
        .id;
    let sz = svc
        .create_hospital(&reg, &hospital("SZQI", "深圳电器产品医院", "深圳", "39"))
        .await
        .unwrap()
        .id;
    let specs = [
        ("x1", "陈工", "39", "深圳", "GDQI*"),
        ("x2", "李工", "39", "广州", "GDQI"),
        ("x3", "王工", "38", "深圳", "GDQI"),
        ("x4", "赵工", "39", "深圳", "SZQI"),
    ];
    let mut x = [0i64; 4];
    let mut xc = Vec::new();
    for (i, (u, name, div, city, hosp)) in specs.into_iter().enumerate() {
        let uid = user(&store, u, Role::Expert).await;
        x[i] = svc
            .create_expert(
                &reg,
                &NewExpert {
                    username: u.into(),
                    name: name.into(),
                    divisions: div.into(),
                    qualifications: "高级工程师".into(),
                    city: city.into(),
                    max_load: 5,
                    hospitals: hosp.into(),
                },
            )
            .await
            .unwrap()
            .id;
        xc.push(Caller::user(uid, u, Role::Expert, None, None));
    }
    let nid = user(&store, "x9", Role::Expert).await;
    Fx {
        a: enterprise_user(ent_a),
        b: enterprise_user(ent_b),
        regulator: reg,
        lab: user_with_role(Role::Lab),
        bank: user_with_role(Role::Bank),
        public: Caller::public(),
        unbound: Caller::user(nid, "x9", Role::Expert, None, None),
        xc: xc.try_into().unwrap(),
        x,
        gd,
        sz,
        ent_a,
        ent_b,
        insp_a,
        insp_b,
        svc,
        store,
        db,
    }
}
