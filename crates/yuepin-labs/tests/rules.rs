//! Booking rule tests: each rule's acceptance and rejection, recurrence, combined bookings,
//! cancellation fees, no-show blacklisting and the waitlist.

mod common;
use chrono::NaiveDate;
use common::*;
use yuepin_domain::Yuan;
use yuepin_labs::*;

const NOW: &str = "2026-11-26 10:00"; // a Thursday

fn qualified() -> Vec<HeldQualification> {
    vec![HeldQualification {
        qualification: Qualification::parse("ICP-MS 上岗证").unwrap(),
        valid_until: NaiveDate::from_ymd_opt(2027, 12, 31).unwrap(),
    }]
}

struct World {
    inst: Instrument,
    blackouts: Vec<Blackout>,
    booked: Vec<TimeRange>,
    mine: Vec<TimeRange>,
    no_shows: Vec<chrono::NaiveDateTime>,
    quals: Vec<HeldQualification>,
}

impl World {
    fn new() -> Self {
        Self {
            inst: instrument(1, "重金属含量", "深圳"),
            blackouts: vec![Blackout {
                range: range("2026-12-10 08:00", "2026-12-11 22:00"),
                reason: "年度计量校准".into(),
            }],
            booked: vec![range("2026-12-01 14:00", "2026-12-01 16:00")],
            mine: vec![],
            no_shows: vec![],
            quals: qualified(),
        }
    }
    fn ctx(&self) -> BookingContext<'_> {
        BookingContext {
            instrument: &self.inst,
            blackouts: &self.blackouts,
            instrument_bookings: &self.booked,
            enterprise_bookings: &self.mine,
            enterprise_no_shows: &self.no_shows,
            operator_qualifications: &self.quals,
        }
    }
    fn check(&self, r: TimeRange, self_operated: bool) -> Result<Quote, BookingRejection> {
        let req = BookingRequest {
            instrument: self.inst.id,
            enterprise: enterprise(),
            range: r,
            self_operated,
        };
        check_booking(&BookingPolicy::default(), &req, &self.ctx(), at(NOW))
    }
}

#[test]
fn accepts_and_prices_a_valid_booking() {
    let w = World::new();
    let q = w
        .check(range("2026-12-01 17:00", "2026-12-01 19:00"), true)
        .unwrap();
    assert_eq!((q.peak_minutes, q.off_peak_minutes), (60, 60));
    assert_eq!(q.total, Yuan::parse("680").unwrap());
}

#[test]
fn each_rule_rejects() {
    let w = World::new();
    use BookingRejection as R;
    type Expect = fn(&BookingRejection) -> bool;
    let cases: Vec<(TimeRange, Expect)> = vec![
        (range("2026-11-26 09:00", "2026-11-26 10:00"), |e| {
            matches!(e, R::InPast { .. })
        }),
        (range("2026-11-26 10:30", "2026-11-26 11:00"), |e| {
            matches!(e, R::TooSoon { .. })
        }),
        (range("2027-02-01 09:00", "2027-02-01 10:00"), |e| {
            matches!(e, R::TooFarAhead { .. })
        }),
        (range("2026-12-01 09:15", "2026-12-01 10:15"), |e| {
            matches!(
                e,
                R::OffGrid {
                    granularity_minutes: 30
                }
            )
        }),
        (range("2026-12-01 09:00", "2026-12-01 20:30"), |e| {
            matches!(e, R::TooLong { .. })
        }),
        (range("2026-12-05 09:00", "2026-12-05 10:00"), |e| {
            matches!(e, R::OutsideOpeningHours)
        }),
        (range("2026-12-01 11:30", "2026-12-01 14:00"), |e| {
            matches!(e, R::OutsideOpeningHours)
        }),
        (range("2026-12-10 09:00", "2026-12-10 10:00"), |e| {
            matches!(e, R::Blackout { .. })
        }),
        (range("2026-12-01 15:00", "2026-12-01 17:00"), |e| {
            matches!(e, R::Conflict { .. })
        }),
    ];
    for (r, expected) in cases {
        let err = w.check(r, false).unwrap_err();
        assert!(expected(&err), "{r}: got {err}");
        let msg = err.to_string();
        assert!(
            msg.contains('(') && msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "bilingual: {msg}"
        );
    }
}

#[test]
fn too_short_and_quota() {
    let mut w = World::new();
    let policy = BookingPolicy {
        min_duration_minutes: 60,
        ..BookingPolicy::default()
    };
    let req = BookingRequest {
        instrument: w.inst.id,
        enterprise: enterprise(),
        range: range("2026-12-02 09:00", "2026-12-02 09:30"),
        self_operated: false,
    };
    assert!(matches!(
        check_booking(&policy, &req, &w.ctx(), at(NOW)),
        Err(BookingRejection::TooShort { min_minutes: 60 })
    ));
    // 19 h already booked this week (Mon 30 Nov – Sun 6 Dec); 2 more exceed the 20 h quota.
    w.mine = vec![
        range("2026-11-30 08:30", "2026-11-30 12:00"),
        range("2026-11-30 13:30", "2026-11-30 21:00"),
        range("2026-12-02 13:30", "2026-12-02 21:00"),
        range("2026-12-03 08:30", "2026-12-03 09:00"),
    ];
    let err = w
        .check(range("2026-12-04 09:00", "2026-12-04 11:00"), false)
        .unwrap_err();
    assert!(
        matches!(
            err,
            BookingRejection::WeeklyQuotaExceeded {
                used_minutes: 1140,
                requested_minutes: 120,
                ..
            }
        ),
        "{err}"
    );
    assert!(w
        .check(range("2026-12-04 09:00", "2026-12-04 10:00"), false)
        .is_ok());
    // Next week is a fresh week.
    assert!(w
        .check(range("2026-12-07 09:00", "2026-12-07 11:00"), false)
        .is_ok());
}

#[test]
fn monthly_quota() {
    let mut w = World::new();
    // 59 h in December on other days/weeks.
    w.mine = (0..59)
        .map(|h| {
            let start = at("2026-12-14 00:00") + chrono::Duration::hours(h);
            TimeRange::starting_at(start, 60).unwrap()
        })
        .collect();
    let policy = BookingPolicy {
        weekly_quota_minutes: None,
        ..BookingPolicy::default()
    };
    let req = BookingRequest {
        instrument: w.inst.id,
        enterprise: enterprise(),
        range: range("2026-12-02 09:00", "2026-12-02 11:00"),
        self_operated: false,
    };
    assert!(matches!(
        check_booking(&policy, &req, &w.ctx(), at(NOW)),
        Err(BookingRejection::MonthlyQuotaExceeded { .. })
    ));
}

#[test]
fn operator_qualification_suggests_testing_on_behalf() {
    let mut w = World::new();
    w.quals.clear();
    let err = w
        .check(range("2026-12-01 09:00", "2026-12-01 10:00"), true)
        .unwrap_err();
    assert!(matches!(err, BookingRejection::OperatorNotQualified { .. }));
    assert!(err.to_string().contains("代检代测"));
    // Operated by lab staff instead: fine.
    assert!(w
        .check(range("2026-12-01 09:00", "2026-12-01 10:00"), false)
        .is_ok());
    // An expired certificate does not count.
    w.quals = vec![HeldQualification {
        qualification: Qualification::parse("ICP-MS 上岗证").unwrap(),
        valid_until: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
    }];
    assert!(w
        .check(range("2026-12-01 09:00", "2026-12-01 10:00"), true)
        .is_err());
}

#[test]
fn blacklist_after_three_no_shows_in_90_days() {
    let p = BookingPolicy::default();
    let two = [at("2026-09-01 09:00"), at("2026-11-01 09:00")];
    assert_eq!(blacklisted_until(&p, &two, at(NOW)), None);
    let spread = [
        at("2026-05-01 09:00"),
        at("2026-08-15 09:00"),
        at("2026-11-01 09:00"),
    ];
    assert_eq!(blacklisted_until(&p, &spread, at(NOW)), None);
    let three = [
        at("2026-11-01 09:00"),
        at("2026-09-01 09:00"),
        at("2026-10-01 09:00"),
    ];
    assert_eq!(
        blacklisted_until(&p, &three, at(NOW)),
        Some(at("2027-01-30 09:00"))
    );
    assert_eq!(blacklisted_until(&p, &three, at("2027-01-30 09:00")), None);
    let mut w = World::new();
    w.no_shows = three.to_vec();
    assert!(matches!(
        w.check(range("2026-12-01 09:00", "2026-12-01 10:00"), false),
        Err(BookingRejection::Blacklisted { .. })
    ));
    assert!(!no_show_due(
        &p,
        at("2026-12-01 09:00"),
        at("2026-12-01 09:14")
    ));
    assert!(no_show_due(
        &p,
        at("2026-12-01 09:00"),
        at("2026-12-01 09:15")
    ));
}

#[test]
fn cancellation_fees() {
    let p = BookingPolicy::default();
    let total = Yuan::parse("680").unwrap();
    let start = at("2026-12-01 09:00");
    assert_eq!(
        cancellation_fee(&p, total, start, at("2026-11-30 08:59")),
        Yuan::ZERO
    );
    assert_eq!(
        cancellation_fee(&p, total, start, at("2026-11-30 09:00")),
        Yuan::parse("340").unwrap()
    );
    assert_eq!(
        cancellation_fee(&p, total, start, at("2026-12-01 09:00")),
        total
    );
}

#[test]
fn weekly_recurrence() {
    let w = World::new();
    let p = BookingPolicy::default();
    let first = range("2026-11-24 14:00", "2026-11-24 16:00");
    let occurrences = expand_weekly(&p, &first, 1, 4).unwrap();
    assert_eq!(
        occurrences[3],
        range("2026-12-15 14:00", "2026-12-15 16:00")
    );
    assert!(expand_weekly(&p, &first, 1, 0).is_err());
    assert!(expand_weekly(&p, &first, 1, 53).is_err());
    let req = BookingRequest {
        instrument: w.inst.id,
        enterprise: enterprise(),
        range: first,
        self_operated: false,
    };
    let results = check_recurring(&p, &req, &occurrences, &w.ctx(), at(NOW));
    let ok: Vec<bool> = results.iter().map(|(_, r)| r.is_ok()).collect();
    // 24 Nov is past, 1 Dec conflicts, 8 and 15 Dec are fine.
    assert_eq!(ok, [false, false, true, true]);
}

#[test]
fn combined_booking_is_all_or_nothing() {
    let w = World::new();
    let mut other = instrument(2, "样品前处理", "深圳");
    other.operator_qualification = None;
    let ctx2 = BookingContext {
        instrument: &other,
        instrument_bookings: &[],
        ..w.ctx()
    };
    let p = BookingPolicy::default();
    let req = |id, r| BookingRequest {
        instrument: InstrumentId(id),
        enterprise: enterprise(),
        range: r,
        self_operated: true,
    };
    let good = range("2026-12-02 09:00", "2026-12-02 11:00");
    let quotes = check_combined(
        &p,
        &[(req(1, good), w.ctx()), (req(2, good), ctx2)],
        at(NOW),
    )
    .unwrap();
    assert_eq!(quotes.len(), 2);
    let clash = range("2026-12-01 15:00", "2026-12-01 17:00");
    let err = check_combined(
        &p,
        &[(req(2, clash), ctx2), (req(1, clash), w.ctx())],
        at(NOW),
    )
    .unwrap_err();
    assert_eq!(err.instrument, InstrumentId(1));
    let dup = check_combined(
        &p,
        &[(req(1, good), w.ctx()), (req(1, good), w.ctx())],
        at(NOW),
    )
    .unwrap_err();
    assert_eq!(dup.reason, BookingRejection::DuplicateInstrument);
}

#[test]
fn waitlist_hold_passes_to_next_in_line() {
    let mut wl = Waitlist::new(InstrumentId(1));
    let wanted = range("2026-12-01 14:00", "2026-12-01 15:00");
    assert_eq!(wl.join(enterprise(), wanted, at(NOW)).unwrap(), 1);
    assert!(wl.join(enterprise(), wanted, at(NOW)).is_err());
    assert_eq!(wl.join(other_enterprise(), wanted, at(NOW)).unwrap(), 2);
    let freed = range("2026-12-01 14:00", "2026-12-01 16:00");
    let hold = wl.offer(freed, 30, at(NOW)).unwrap();
    assert_eq!(hold.enterprise, enterprise());
    assert_eq!(hold.expires_at, at("2026-11-26 10:30"));
    // Too late to accept; the hold lapses and the next in line gets it.
    assert!(matches!(
        wl.accept(&enterprise(), at("2026-11-26 10:30")),
        Err(WaitlistError::HoldExpired(_))
    ));
    let next = wl.expire(30, at("2026-11-26 10:31"));
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].enterprise, other_enterprise());
    assert_eq!(
        wl.accept(&other_enterprise(), at("2026-11-26 10:40"))
            .unwrap(),
        wanted
    );
    assert!(wl.holds().is_empty() && wl.queue().is_empty());
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers(s in "\\PC{0,30}") {
            let _ = DailyWindow::parse(&s);
            let _ = CnasNumber::parse(&s);
            let _ = CmaNumber::parse(&s);
            let _ = TestItem::parse(&s);
            let _ = LabCode::parse(&s);
        }

        #[test]
        fn check_booking_on_extreme_times(start in -200_000_000_000i64..200_000_000_000, len in 1i64..100_000, now_off in -1_000_000i64..1_000_000) {
            let Some(start) = chrono::DateTime::from_timestamp(start * 60, 0).map(|d| d.naive_utc()) else { return Ok(()) };
            let Ok(r) = TimeRange::starting_at(start, len) else { return Ok(()) };
            let now = start.checked_add_signed(chrono::Duration::minutes(now_off)).unwrap_or(start);
            let w = World::new();
            let req = BookingRequest { instrument: w.inst.id, enterprise: enterprise(), range: r, self_operated: true };
            let _ = check_booking(&BookingPolicy::default(), &req, &w.ctx(), now);
            let _ = cancellation_fee(&BookingPolicy::default(), Yuan::from_yuan(100), start, now);
            let _ = blacklisted_until(&BookingPolicy::default(), &[start, start, start], now);
        }
    }
}
