//! The consent state machine by property: random sequences of pause, resume, revoke and fetch
//! at advancing times. Revoked is terminal; a consent is exhausted after exactly
//! `max_fetches` fetches and never fetches more; nothing is fetched after expiry or while
//! paused; the status is always one the rules allow.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use yuepin_credit::consent::*;
use yuepin_domain::Uscc;

fn start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 1)
        .unwrap()
        .and_hms_opt(9, 30, 0)
        .unwrap()
}

fn consent(max_fetches: u32, interval: u32, valid_days: u32) -> Consent {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let terms = Terms::grant(
        &TermsRequest {
            purpose: Purpose::CreditReview,
            categories: Categories::parse(["grade", "inspections", "lab_reports"]).unwrap(),
            data_range: DateRange::new(d(2023, 1, 1), d(2026, 11, 30)).unwrap(),
            max_fetches,
            min_interval_minutes: interval,
            retention_days: 30,
            valid_days,
        },
        start(),
    )
    .unwrap();
    Consent::new(
        ConsentId::from_random([1; 16]),
        Uscc::assemble("91", "440300", "00000042").unwrap(),
        BankRef {
            org_id: 9,
            name: "测试银行".into(),
        },
        terms,
    )
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Pause,
    Resume,
    Revoke,
    Fetch,
}

fn step() -> impl Strategy<Value = (Step, u32)> {
    (
        prop_oneof![
            1 => Just(Step::Pause),
            1 => Just(Step::Resume),
            1 => Just(Step::Revoke),
            5 => Just(Step::Fetch),
        ],
        // Minutes to wait before the step (up to about four days).
        0u32..6000,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_rules_hold_over_any_sequence(
        max in 1u32..8,
        interval in 0u32..600,
        valid_days in 1u32..20,
        steps in prop::collection::vec(step(), 0..60),
    ) {
        let mut c = consent(max, interval, valid_days);
        let cats = Categories::parse(["grade"]).unwrap();
        let range = DateRange::new(
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        ).unwrap();
        let mut now = start();
        let mut succeeded = 0u32;
        let mut revoked = false;
        for (s, wait) in steps {
            now += Duration::minutes(i64::from(wait));
            let before = c.status_at(now);
            match s {
                Step::Fetch => {
                    let r = c.record_fetch(now, &cats, &range);
                    match before {
                        Status::Active => {}
                        Status::Paused => prop_assert_eq!(r, Err(FetchRefused::Paused)),
                        Status::Expired => prop_assert_eq!(r, Err(FetchRefused::Expired)),
                        Status::Revoked => prop_assert_eq!(r, Err(FetchRefused::Revoked)),
                        Status::Exhausted => prop_assert_eq!(r, Err(FetchRefused::Exhausted)),
                    }
                    if r.is_ok() {
                        prop_assert!(now < c.terms.expires_at);
                        succeeded += 1;
                    }
                }
                Step::Pause => {
                    let r = c.apply(Event::Pause, now);
                    prop_assert_eq!(r.is_ok(), before == Status::Active);
                }
                Step::Resume => {
                    let r = c.apply(Event::Resume, now);
                    prop_assert_eq!(r.is_ok(), before == Status::Paused);
                }
                Step::Revoke => {
                    let r = c.apply(Event::Revoke, now);
                    prop_assert_eq!(r.is_ok(), !before.is_final());
                    if r.is_ok() { revoked = true; }
                }
            }
            if revoked {
                prop_assert_eq!(c.status_at(now), Status::Revoked, "revoked is terminal");
            }
            prop_assert!(succeeded <= max);
            prop_assert_eq!(c.fetches_used, succeeded);
            prop_assert_eq!(c.status_at(now) == Status::Exhausted, succeeded == max && !revoked);
        }
    }

    #[test]
    fn exactly_max_fetches_succeed_when_nothing_else_happens(max in 1u32..20, extra in 0u32..10) {
        let mut c = consent(max, 0, 30);
        let cats = Categories::parse(["inspections", "grade"]).unwrap();
        let range = DateRange::new(
            NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        ).unwrap();
        let mut ok = 0;
        for i in 0..(max + extra) {
            if c.record_fetch(start() + Duration::minutes(i64::from(i)), &cats, &range).is_ok() {
                ok += 1;
            }
        }
        prop_assert_eq!(ok, max);
        prop_assert_eq!(c.state, State::Exhausted);
    }
}
