//! Invoice, savings and utilisation tests.

mod common;
use common::*;
use yuepin_domain::Yuan;
use yuepin_labs::*;

fn y(s: &str) -> Yuan {
    Yuan::parse(s).unwrap()
}

#[test]
fn booking_invoice_lines_add_up() {
    let inst = instrument(1, "重金属含量", "深圳");
    let inv = booking_invoice(
        &inst,
        &range("2026-12-01 17:30", "2026-12-01 19:00"),
        &["自动进样器", "不存在"],
    )
    .unwrap();
    let amounts: Vec<Yuan> = inv.lines.iter().map(|l| l.amount).collect();
    assert_eq!(amounts, vec![y("200"), y("280"), y("75")]);
    assert_eq!(inv.lines[0].quantity, "0.5 小时");
    assert_eq!(inv.total, y("555"));
}

#[test]
fn order_invoice_with_retest() {
    let service = Service {
        id: ServiceId(1),
        lab: LabId(1),
        area: ServiceArea::Testing,
        mode: ServiceMode::TestingOnBehalf,
        method: TestMethod {
            item: TestItem::parse("中性盐雾试验").unwrap(),
            standards: vec![],
        },
        price_per_sample: y("350.5"),
        turnaround_days: 7,
    };
    let inv = order_invoice(&service, 3, 1).unwrap();
    assert_eq!(inv.lines.len(), 2);
    assert_eq!(inv.total, y("2103"));
    assert_eq!(order_invoice(&service, 3, 0).unwrap().total, y("1051.5"));
}

#[test]
fn savings_against_buying() {
    let s = ownership_savings(
        y("180万"),
        &OwnershipAssumptions::default(),
        y("3.2万"),
        y("400"),
    );
    assert_eq!(s.annual_depreciation, y("171000"));
    assert_eq!(s.annual_maintenance, y("90000"));
    assert_eq!(s.annual_ownership_cost, y("261000"));
    assert_eq!(s.saving, y("229000"));
    assert_eq!(s.break_even_hours, Some(652));
    let heavy = ownership_savings(
        y("10万"),
        &OwnershipAssumptions::default(),
        y("5万"),
        Yuan::ZERO,
    );
    assert!(heavy.saving < Yuan::ZERO);
    assert_eq!(heavy.break_even_hours, None);
}

#[test]
fn utilisation_and_sharing_rate() {
    // Always open, 2026 has 365 days; a week of maintenance; 100 h used, 60 h by outsiders.
    let opening = WeeklySchedule::always();
    let blackouts = [
        range("2026-03-01 00:00", "2026-03-08 00:00"),
        range("2026-03-05 00:00", "2026-03-06 00:00"), // overlaps: counted once
        range("2025-12-31 00:00", "2026-01-01 00:00"), // outside the year
    ];
    let usage = [
        UsageRecord {
            range: range("2026-05-01 00:00", "2026-05-03 12:00"),
            outside_user: true,
        },
        UsageRecord {
            range: range("2026-06-01 00:00", "2026-06-02 16:00"),
            outside_user: false,
        },
        UsageRecord {
            range: range("2026-12-31 12:00", "2027-01-01 12:00"),
            outside_user: false,
        },
    ];
    let u = utilisation(2026, &opening, &blackouts, &usage);
    assert_eq!(u.available_minutes, (365 - 7) * 24 * 60);
    assert_eq!(u.used_minutes, (60 + 40 + 12) * 60);
    assert_eq!(u.outside_minutes, 60 * 60);
    assert_eq!(u.sharing_rate_bp, 5357); // 60 / 112 h = 53.57 %
    assert_eq!(u.utilisation_bp, 130); // 112 / 8592 h = 1.30 %
    assert!(u.meets_hours_benchmark(100));
    assert!(!u.meets_hours_benchmark(200));
    let office = utilisation(2026, &office_hours(), &[], &[]);
    assert_eq!(office.available_minutes, 261 * 11 * 60); // 261 weekdays × 11 h
    assert_eq!(office.sharing_rate_bp, 0);
}

#[test]
fn one_stop_groups_by_area() {
    use yuepin_labs::catalogue::one_stop;
    let lab = |id, city: &str| Lab {
        id: LabId(id),
        name: "实验室".into(),
        cma: Some(CmaNumber::parse("201919123456").unwrap()),
        cnas: Some(CnasNumber::parse("CNAS L1234").unwrap()),
        scope: vec![],
        areas: vec![ServiceArea::Testing],
        city: yuepin_domain::RegionCode::parse(city).unwrap(),
        contact: Contact {
            person: "张工".into(),
            phone: "020-12345678".into(),
            email: None,
        },
        opening_hours: office_hours(),
    };
    let svc = |id, lab, area| Service {
        id: ServiceId(id),
        lab: LabId(lab),
        area,
        mode: ServiceMode::TestingOnBehalf,
        method: TestMethod {
            item: TestItem::parse("x").unwrap(),
            standards: vec![],
        },
        price_per_sample: y("1"),
        turnaround_days: 1,
    };
    let labs = [lab(1, "深圳"), lab(2, "广州")];
    let services = [
        svc(1, 1, ServiceArea::Reliability),
        svc(2, 1, ServiceArea::Metrology),
        svc(3, 2, ServiceArea::Testing),
    ];
    let sz = one_stop(
        &labs,
        &services,
        Some(&yuepin_domain::RegionCode::parse("440305").unwrap()),
    );
    assert_eq!(
        sz.keys().copied().collect::<Vec<_>>(),
        vec![ServiceArea::Metrology, ServiceArea::Reliability]
    );
    assert_eq!(one_stop(&labs, &services, None).len(), 3);
    assert!(labs[0].may_issue_reports());
}
