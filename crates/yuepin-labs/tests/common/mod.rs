//! Shared fixtures for the integration tests: a Shenzhen salt-spray chamber and an ICP-MS.
#![allow(dead_code)]

use chrono::{NaiveDate, NaiveDateTime};
use yuepin_domain::{RegionCode, StandardCode, Uscc, Yuan};
use yuepin_labs::*;

pub fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

pub fn range(a: &str, b: &str) -> TimeRange {
    TimeRange::new(at(a), at(b)).unwrap()
}

pub fn enterprise() -> Uscc {
    Uscc::parse("91440300708461136T").unwrap()
}
pub fn other_enterprise() -> Uscc {
    Uscc::parse("914403001922038216").unwrap()
}

pub fn office_hours() -> WeeklySchedule {
    WeeklySchedule::weekdays(&[
        DailyWindow::parse("08:30-12:00").unwrap(),
        DailyWindow::parse("13:30-21:00").unwrap(),
    ])
    .unwrap()
}

pub fn instrument(id: u64, item: &str, city: &str) -> Instrument {
    Instrument {
        id: InstrumentId(id),
        lab: LabId(1),
        name: "电感耦合等离子体质谱仪".into(),
        model: "iCAP RQ".into(),
        maker: "Thermo Fisher".into(),
        purchase_price: Yuan::parse("180万").unwrap(),
        purchased_on: NaiveDate::from_ymd_opt(2021, 5, 1).unwrap(),
        location: "广东省质检院 3 号楼 201".into(),
        city: RegionCode::parse(city).unwrap(),
        capabilities: vec!["痕量元素分析".into()],
        test_methods: vec![TestMethod {
            item: TestItem::parse(item).unwrap(),
            standards: vec![StandardCode::parse("GB/T 26125-2011").unwrap()],
        }],
        tariff: Tariff {
            peak_hourly: Yuan::parse("400").unwrap(),
            off_peak_hourly: Yuan::parse("280").unwrap(),
            peak: WeeklySchedule::weekdays(&[DailyWindow::parse("09:00-18:00").unwrap()]).unwrap(),
        },
        accessories: vec![Accessory {
            name: "自动进样器".into(),
            hourly: Yuan::parse("50").unwrap(),
        }],
        operator_qualification: Some(Qualification::parse("ICP-MS 上岗证").unwrap()),
        opening_hours: office_hours(),
    }
}
