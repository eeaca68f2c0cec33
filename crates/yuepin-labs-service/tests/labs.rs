//! The labs service without the router, on SQLite (default) or PostgreSQL
//! (`YUEPIN_TEST_DATABASE_URL`): catalogue, booking and the refusal of an overlapping one,
//! concurrent bookings of one slot with exactly one winner, an order through to its report and
//! inspection record, tenant isolation between enterprises, lab staff confined to their lab,
//! and invoice documents (bookings and orders, page data and PDF) hidden from other enterprises.

use chrono::{Duration, NaiveDateTime};
use yuepin_domain::{
    Caller, Denied, Division, Enterprise, Listing, QualityEventKind, RegionCode, Role, Uscc, Yuan,
};
use yuepin_labs::{
    BookingRejection, BookingState, Contact, Instrument, InstrumentId, Lab, LabCode, LabId,
    OrderState, ReportStatus, Service, ServiceArea, ServiceId, ServiceMode, Tariff, TestItem,
    TestMethod, TimeRange, WeeklySchedule,
};
use yuepin_labs_service::{
    BookingAction, BookingPart, LabsError, LabsService, OrderAction, Party, TestResults,
};
use yuepin_store::{Actor, Change, Store};
use yuepin_test_support::{enterprise_user, regulator, uscc, user_with_role, TestDb};

struct Fx {
    _db: TestDb,
    store: Store,
    labs: LabsService,
    lab_id: i64,
    inst: i64,
    service: i64,
    ent1: i64,
    ent2: i64,
    tester: Caller,
    verifier: Caller,
}

fn lab(code: &str) -> (LabCode, Lab) {
    (
        LabCode::parse(code).unwrap(),
        Lab {
            id: LabId(0),
            name: format!("{code} 检测中心"),
            cma: None,
            cnas: None,
            scope: vec![],
            areas: vec![ServiceArea::Testing],
            city: RegionCode::parse("广州").unwrap(),
            contact: Contact {
                person: "张工".into(),
                phone: "020-12345678".into(),
                email: None,
            },
            opening_hours: WeeklySchedule::always(),
        },
    )
}

fn instrument(item: &str) -> Instrument {
    Instrument {
        id: InstrumentId(0),
        lab: LabId(0),
        name: "盐雾试验箱".into(),
        model: "SST-1000".into(),
        maker: "某仪器公司".into(),
        purchase_price: Yuan::parse("180万").unwrap(),
        purchased_on: chrono::NaiveDate::from_ymd_opt(2021, 3, 1).unwrap(),
        location: "A栋101".into(),
        city: RegionCode::parse("广州").unwrap(),
        capabilities: vec![],
        test_methods: vec![TestMethod {
            item: TestItem::parse(item).unwrap(),
            standards: vec![],
        }],
        tariff: Tariff::flat(Yuan::parse("400").unwrap()),
        accessories: vec![],
        operator_qualification: None,
        opening_hours: WeeklySchedule::always(),
    }
}

async fn enterprise(store: &Store, n: u32) -> i64 {
    let e = Enterprise {
        uscc: Uscc::parse(&uscc(n)).unwrap(),
        name: format!("测试企业{n}有限公司"),
        region: RegionCode::parse("深圳").unwrap(),
        division: Division::parse("39").unwrap(),
        registered_capital: Yuan::parse("5000万").unwrap(),
        employees: 320,
        founded_on: chrono::NaiveDate::from_ymd_opt(2012, 5, 18).unwrap(),
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

/// A `lab` account bound to `lab_id` (by the regulator), as a caller.
async fn lab_staff(labs: &LabsService, store: &Store, name: &str, lab_id: i64) -> Caller {
    let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
    let id = store
        .create_user(&mut w, name, name, "x", Role::Lab, None)
        .await
        .unwrap();
    w.record(Change::new("create", "user", id));
    store.commit(w).await.unwrap();
    labs.bind_staff(&regulator(), lab_id, name).await.unwrap();
    Caller::user(id, name, Role::Lab, None, None)
}

async fn setup() -> Fx {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let labs = LabsService::new(store.clone());
    let (code, l) = lab("GDQTC");
    let rec = labs.create_lab(&regulator(), &code, &l).await.unwrap();
    assert_eq!(rec.code.as_str(), "GDQTC");
    let tester = lab_staff(&labs, &store, "labtester", rec.id).await;
    let verifier = lab_staff(&labs, &store, "labverifier", rec.id).await;
    let inst = labs
        .save_instrument(&tester, rec.id, None, &instrument("盐雾试验"), false)
        .await
        .unwrap();
    assert_eq!(inst.lab_id, rec.id);
    assert!(inst.active);
    let svc = Service {
        id: ServiceId(0),
        lab: LabId(rec.id as u64),
        area: ServiceArea::Testing,
        mode: ServiceMode::TestingOnBehalf,
        method: TestMethod {
            item: TestItem::parse("盐雾试验").unwrap(),
            standards: vec![],
        },
        price_per_sample: Yuan::parse("800").unwrap(),
        turnaround_days: 7,
    };
    let service = labs
        .save_service(&tester, rec.id, None, &svc)
        .await
        .unwrap();
    let ent1 = enterprise(&store, 1).await;
    let ent2 = enterprise(&store, 2).await;
    Fx {
        _db: db,
        store,
        labs,
        lab_id: rec.id,
        inst: inst.id,
        service: service.id,
        ent1,
        ent2,
        tester,
        verifier,
    }
}

/// `hour`:00 China time, `days` days from now, for `minutes`.
fn slot(inst: i64, days: i64, hour: u32, minutes: i64) -> BookingPart {
    let day = (yuepin_labs_service::now() + Duration::days(days)).date();
    let start: NaiveDateTime = day.and_hms_opt(hour, 0, 0).unwrap();
    BookingPart {
        instrument_id: inst,
        range: TimeRange::starting_at(start, minutes).unwrap(),
        self_operated: false,
        accessories: vec![],
    }
}

fn is_taken(e: &LabsError) -> bool {
    matches!(
        e,
        LabsError::DoubleBooked
            | LabsError::Rejected {
                reason: BookingRejection::Conflict { .. },
                ..
            }
    )
}

#[tokio::test]
async fn catalogue_is_public_and_managed_by_its_lab() {
    let fx = setup().await;
    let public = Caller::public();
    let labs = fx.labs.labs(&public).await.unwrap();
    assert_eq!(labs.len(), 1);
    let detail = fx.labs.lab_detail(&public, fx.lab_id).await.unwrap();
    assert_eq!(detail.instruments.len(), 1);
    assert_eq!(detail.services.len(), 1);
    let found = fx
        .labs
        .find_instruments(
            &public,
            Some(&TestItem::parse("盐雾试验").unwrap()),
            Some(&RegionCode::parse("广州").unwrap()),
            10,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    // Only administrators create labs.
    let (code, l) = lab("ENTLAB");
    let e = fx
        .labs
        .create_lab(&enterprise_user(fx.ent1), &code, &l)
        .await
        .unwrap_err();
    assert!(matches!(e, LabsError::Denied(Denied::Role { .. })), "{e:?}");
    // A lab code is taken once.
    let (code, l) = lab("GDQTC");
    let e = fx
        .labs
        .create_lab(&regulator(), &code, &l)
        .await
        .unwrap_err();
    assert!(matches!(e, LabsError::LabCodeTaken(_)), "{e:?}");
}

#[tokio::test]
async fn book_a_slot_and_an_overlapping_booking_is_refused() {
    let fx = setup().await;
    let made = fx
        .labs
        .book(&enterprise_user(fx.ent1), &[slot(fx.inst, 3, 10, 120)])
        .await
        .unwrap();
    assert_eq!(made.len(), 1);
    let b = &made[0];
    assert_eq!(b.state, BookingState::Confirmed);
    assert_eq!(b.enterprise_id, Some(fx.ent1));
    assert_eq!(b.price, Yuan::parse("800").unwrap());
    // Overlapping by an hour, from another enterprise: refused as taken.
    let e = fx
        .labs
        .book(&enterprise_user(fx.ent2), &[slot(fx.inst, 3, 11, 60)])
        .await
        .unwrap_err();
    assert!(is_taken(&e), "{e:?}");
    // Back to back is fine.
    fx.labs
        .book(&enterprise_user(fx.ent2), &[slot(fx.inst, 3, 12, 60)])
        .await
        .unwrap();
    // The lab's own use is refused in taken time as well.
    let e = fx
        .labs
        .book(&fx.tester, &[slot(fx.inst, 3, 10, 60)])
        .await
        .unwrap_err();
    assert!(is_taken(&e), "{e:?}");
    // Cancelling frees the slot again.
    let c = fx
        .labs
        .booking_action(&enterprise_user(fx.ent1), b.id, BookingAction::Cancel)
        .await
        .unwrap();
    assert_eq!(c.state, BookingState::Cancelled);
    fx.labs
        .book(&fx.tester, &[slot(fx.inst, 3, 10, 60)])
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_bookings_of_one_slot_have_exactly_one_winner() {
    let fx = setup().await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..16 {
        let labs = fx.labs.clone();
        let caller = enterprise_user(if i % 2 == 0 { fx.ent1 } else { fx.ent2 });
        let part = slot(fx.inst, 4, 10, 120);
        set.spawn(async move { labs.book(&caller, &[part]).await });
    }
    let (mut won, mut taken) = (0, 0);
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(_) => won += 1,
            Err(e) if is_taken(&e) => taken += 1,
            Err(e) => panic!("unexpected refusal: {e:?}"),
        }
    }
    assert_eq!((won, taken), (1, 15));
}

#[tokio::test]
async fn an_order_through_to_its_report_and_inspection_record() {
    let fx = setup().await;
    let customer = enterprise_user(fx.ent1);
    let o = fx
        .labs
        .create_order(&customer, fx.service, 3, "委托")
        .await
        .unwrap();
    assert_eq!(o.state, OrderState::Requested);
    let act = |caller: &Caller, action: OrderAction| {
        let labs = fx.labs.clone();
        let caller = caller.clone();
        async move { labs.order_action(&caller, o.id, action).await }
    };
    // Each side's steps are its own.
    let e = act(
        &customer,
        OrderAction::Quote {
            amount: Yuan::parse("2400").unwrap(),
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, LabsError::NotYourAction(Party::LabStaff)),
        "{e:?}"
    );
    act(
        &fx.tester,
        OrderAction::Quote {
            amount: Yuan::parse("2400").unwrap(),
        },
    )
    .await
    .unwrap();
    let e = act(&fx.tester, OrderAction::Accept).await.unwrap_err();
    assert!(
        matches!(e, LabsError::NotYourAction(Party::Customer)),
        "{e:?}"
    );
    act(&customer, OrderAction::Accept).await.unwrap();
    act(&fx.tester, OrderAction::ReceiveSample).await.unwrap();
    act(&fx.tester, OrderAction::StartTesting).await.unwrap();
    let results = TestResults {
        passed: false,
        failed_items: vec!["盐雾96h出现红锈".into()],
        summary: "不合格".into(),
    };
    let e = act(
        &fx.verifier,
        OrderAction::RecordResults {
            results: results.clone(),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, LabsError::NotTester), "{e:?}");
    act(&fx.tester, OrderAction::RecordResults { results })
        .await
        .unwrap();
    // Four eyes: the tester cannot verify.
    let e = act(&fx.tester, OrderAction::Verify).await.unwrap_err();
    assert!(matches!(e, LabsError::Illegal(_)), "{e:?}");
    act(&fx.verifier, OrderAction::Verify).await.unwrap();
    let d = act(&fx.verifier, OrderAction::IssueReport).await.unwrap();
    assert_eq!(d.reports.len(), 1);
    let number = d.reports[0].number.clone();
    assert!(
        number.starts_with("YP-GDQTC-") && number.ends_with("-0001"),
        "{number}"
    );
    assert!(matches!(d.order.state, OrderState::ReportIssued { .. }));
    // Anyone holding the number and the token may verify the report; with the number alone
    // (or a wrong token) it is as unknown as a number never issued.
    let token = d.reports[0].verify_token.clone();
    assert!(token.len() >= 22, "{token}");
    assert_eq!(d.order.report_token.as_deref(), Some(token.as_str()));
    let parsed = yuepin_labs::ReportNumber::parse(&number).unwrap();
    let never = yuepin_labs::ReportNumber::parse(&number.replace("-0001", "-0002")).unwrap();
    for (n, t) in [
        (&parsed, ""),
        (&parsed, "AAAAAAAAAAAAAAAAAAAAAA"),
        (&never, token.as_str()),
    ] {
        let e = fx.labs.report(&Caller::public(), n, t).await.unwrap_err();
        assert!(
            matches!(
                e,
                LabsError::NotFound {
                    entity: "report",
                    ..
                }
            ),
            "{e:?}"
        );
    }
    let rep = fx
        .labs
        .report(&Caller::public(), &parsed, &token)
        .await
        .unwrap();
    assert_eq!(rep.status, ReportStatus::Valid);
    assert!(!rep.results.passed);
    // The report is an inspection record in the enterprise's quality file.
    let events = yuepin_enterprises_service::EnterprisesService::new(fx.store.clone())
        .events_of(fx.ent1)
        .await
        .unwrap();
    let insp = events
        .iter()
        .find_map(|e| match &e.kind {
            QualityEventKind::Inspection {
                report_no, result, ..
            } if *report_no == number => Some(*result),
            _ => None,
        })
        .expect("an inspection event");
    assert_eq!(insp, yuepin_domain::InspectionResult::Fail);
    // Invoice: the quoted 2400 for the first round.
    let inv = fx.labs.order_invoice(&customer, o.id).await.unwrap();
    assert_eq!(inv.invoice.total, Yuan::parse("2400").unwrap());
}

#[tokio::test]
async fn an_enterprise_cannot_see_another_enterprises_bookings_or_orders() {
    let fx = setup().await;
    let own = enterprise_user(fx.ent1);
    let other = enterprise_user(fx.ent2);
    let b = fx
        .labs
        .book(&own, &[slot(fx.inst, 3, 10, 60)])
        .await
        .unwrap()[0]
        .id;
    let o = fx
        .labs
        .create_order(&own, fx.service, 1, "")
        .await
        .unwrap()
        .id;
    let hidden = |e: LabsError| matches!(e, LabsError::NotFound { .. });
    assert!(hidden(fx.labs.booking(&other, b).await.unwrap_err()));
    assert!(hidden(
        fx.labs
            .booking_action(&other, b, BookingAction::Cancel)
            .await
            .unwrap_err()
    ));
    assert!(hidden(
        fx.labs.booking_invoice(&other, b).await.unwrap_err()
    ));
    assert!(hidden(fx.labs.order(&other, o).await.unwrap_err()));
    assert!(hidden(
        fx.labs
            .order_action(&other, o, OrderAction::Cancel)
            .await
            .unwrap_err()
    ));
    // Lists are the caller's own.
    assert!(fx.labs.my_bookings(&other).await.unwrap().is_empty());
    assert!(fx.labs.my_orders(&other).await.unwrap().is_empty());
    assert_eq!(fx.labs.my_bookings(&own).await.unwrap().len(), 1);
    // Another enterprise's savings: as unknown as a code never registered.
    let e = fx
        .labs
        .savings(&other, Some(&Uscc::parse(&uscc(1)).unwrap()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            LabsError::NotFound {
                entity: "enterprise",
                ..
            }
        ),
        "{e:?}"
    );
    // Booking for another enterprise: denied.
    let e = fx
        .labs
        .book_as(
            &other,
            &yuepin_labs_service::Booker::Enterprise { id: fx.ent1 },
            &[slot(fx.inst, 5, 10, 60)],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, LabsError::Denied(Denied::OtherEnterprise)),
        "{e:?}"
    );
    // The signed-out and the wrong role.
    let e = fx.labs.booking(&Caller::public(), b).await.unwrap_err();
    assert!(
        matches!(e, LabsError::Denied(Denied::SignInRequired)),
        "{e:?}"
    );
    let e = fx
        .labs
        .my_bookings(&user_with_role(Role::Bank))
        .await
        .unwrap_err();
    assert!(matches!(e, LabsError::Denied(Denied::Role { .. })), "{e:?}");
    // The lab sees it; the regulator too.
    fx.labs.booking(&fx.tester, b).await.unwrap();
    fx.labs.order(&regulator(), o).await.unwrap();
}

#[tokio::test]
async fn a_lab_user_cannot_act_for_another_lab() {
    let fx = setup().await;
    let (code, l) = lab("SZLAB");
    let other_lab = fx.labs.create_lab(&regulator(), &code, &l).await.unwrap();
    let outsider = lab_staff(&fx.labs, &fx.store, "otherlab", other_lab.id).await;
    let other_lab_denied = |e: LabsError| matches!(e, LabsError::Denied(Denied::OtherOrganisation));
    let e = fx
        .labs
        .save_instrument(&outsider, fx.lab_id, None, &instrument("盐雾试验"), false)
        .await
        .unwrap_err();
    assert!(other_lab_denied(e));
    let e = fx
        .labs
        .orders_of_lab(&outsider, fx.lab_id)
        .await
        .unwrap_err();
    assert!(other_lab_denied(e));
    let day = yuepin_labs_service::now().date() + Duration::days(3);
    let e = fx
        .labs
        .bookings_of_lab(&outsider, fx.lab_id, day, 7)
        .await
        .unwrap_err();
    assert!(other_lab_denied(e));
    let e = fx
        .labs
        .add_blackout(
            &outsider,
            fx.inst,
            slot(fx.inst, 3, 0, 600).range,
            "年度校准",
        )
        .await
        .unwrap_err();
    assert!(other_lab_denied(e));
    // Its internal use books only its own lab's instruments.
    let e = fx
        .labs
        .book_as(
            &outsider,
            &yuepin_labs_service::Booker::Lab { lab_id: fx.lab_id },
            &[slot(fx.inst, 3, 10, 60)],
        )
        .await
        .unwrap_err();
    assert!(other_lab_denied(e));
    // The other lab's bookings and orders are hidden from it; it cannot act on them.
    let b = fx
        .labs
        .book(&enterprise_user(fx.ent1), &[slot(fx.inst, 3, 10, 60)])
        .await
        .unwrap()[0]
        .id;
    let e = fx
        .labs
        .booking_action(&outsider, b, BookingAction::Approve)
        .await
        .unwrap_err();
    assert!(matches!(e, LabsError::NotFound { .. }), "{e:?}");
    let o = fx
        .labs
        .create_order(&enterprise_user(fx.ent1), fx.service, 1, "")
        .await
        .unwrap()
        .id;
    let e = fx
        .labs
        .order_action(
            &outsider,
            o,
            OrderAction::Quote {
                amount: Yuan::parse("1").unwrap(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, LabsError::NotFound { .. }), "{e:?}");
    // Its utilisation view is its own lab's, whatever it asks for.
    let u = fx
        .labs
        .utilisation(&outsider, 2026, Some(fx.lab_id))
        .await
        .unwrap();
    assert!(u.is_empty(), "{u:?}");
    // An unbound lab account can do nothing; an enterprise cannot manage a lab.
    let e = fx
        .labs
        .my_orders(&user_with_role(Role::Lab))
        .await
        .unwrap_err();
    assert!(matches!(e, LabsError::LabNotBound), "{e:?}");
    let e = fx
        .labs
        .orders_of_lab(&enterprise_user(fx.ent1), fx.lab_id)
        .await
        .unwrap_err();
    assert!(matches!(e, LabsError::Denied(Denied::Role { .. })), "{e:?}");
    // Only administrators run the sweep or bind staff.
    let e = fx.labs.sweep(&fx.tester).await.unwrap_err();
    assert!(matches!(e, LabsError::Denied(Denied::Role { .. })), "{e:?}");
    let e = fx
        .labs
        .bind_staff(&fx.tester, other_lab.id, "labtester")
        .await
        .unwrap_err();
    assert!(matches!(e, LabsError::Denied(Denied::Role { .. })), "{e:?}");
}

#[tokio::test]
async fn waitlist_hold_and_sweep() {
    let fx = setup().await;
    let first = fx
        .labs
        .book(&enterprise_user(fx.ent1), &[slot(fx.inst, 3, 10, 120)])
        .await
        .unwrap()[0]
        .clone();
    let waiter = enterprise_user(fx.ent2);
    fx.labs
        .join_waitlist(&waiter, fx.inst, first.range().unwrap(), false)
        .await
        .unwrap();
    fx.labs
        .booking_action(&enterprise_user(fx.ent1), first.id, BookingAction::Cancel)
        .await
        .unwrap();
    let held = fx.labs.my_bookings(&waiter).await.unwrap()[0].clone();
    assert_eq!(held.state, BookingState::Held);
    assert!(held.hold_until.is_some());
    let wl = fx.labs.my_waitlist(&waiter).await.unwrap();
    assert_eq!(wl[0].state, yuepin_labs_service::WaitState::Offered);
    let b = fx
        .labs
        .booking_action(&waiter, held.id, BookingAction::AcceptHold)
        .await
        .unwrap();
    assert_eq!(b.state, BookingState::Confirmed);
    // After the grace period the sweep marks a no-show and charges it in full.
    let s = fx
        .labs
        .sweep_at(&Caller::system(), b.starts_at + Duration::minutes(20))
        .await
        .unwrap();
    assert_eq!(s.no_shows, 1);
    let b = fx.labs.booking(&waiter, b.id).await.unwrap();
    assert_eq!(b.state, BookingState::NoShow);
    assert_eq!(b.fee, b.price);
}

#[tokio::test]
async fn invoice_documents_name_lab_and_booker_and_are_hidden_from_others() {
    let fx = setup().await;
    let own = enterprise_user(fx.ent1);
    let other = enterprise_user(fx.ent2);
    let b = fx
        .labs
        .book(&own, &[slot(fx.inst, 3, 10, 60)])
        .await
        .unwrap()[0]
        .id;
    let doc = fx.labs.booking_invoice_document(&own, b).await.unwrap();
    assert_eq!(doc.lab.id, fx.lab_id);
    assert!(doc.booking.enterprise_name.is_some());
    assert_eq!(
        doc.number,
        yuepin_labs_service::invoice_number(b, doc.issued_on)
    );
    assert!(doc.invoice.total > Yuan::ZERO);
    // The lab's staff may open it; another enterprise gets "not found", PDF included.
    assert!(fx.labs.booking_invoice_pdf(&fx.tester, b).await.is_ok());
    let hidden = |e: LabsError| matches!(e, LabsError::NotFound { .. });
    assert!(hidden(
        fx.labs
            .booking_invoice_document(&other, b)
            .await
            .unwrap_err()
    ));
    assert!(hidden(
        fx.labs.booking_invoice_pdf(&other, b).await.unwrap_err()
    ));
    let (_, pdf) = fx.labs.booking_invoice_pdf(&own, b).await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let o = fx
        .labs
        .create_order(&own, fx.service, 2, "")
        .await
        .unwrap()
        .id;
    let doc = fx.labs.order_invoice_document(&own, o).await.unwrap();
    assert_eq!(doc.invoice.total, Yuan::parse("1600").unwrap());
    assert!(doc.number.starts_with("YP-LO-"));
    assert!(hidden(
        fx.labs.order_invoice_pdf(&other, o).await.unwrap_err()
    ));
}
