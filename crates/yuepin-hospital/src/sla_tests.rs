//! SLA clock tests: hand-computed cases across weekends, holidays, 调休 working Saturdays and
//! Sundays, lunch breaks and pauses (standard hours 08:30–12:00 and 13:30–17:30, 450 minutes a
//! day), and properties against a minute-by-minute count.

use super::*;
use chrono::NaiveDate;
use proptest::prelude::*;

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn with<R>(f: impl FnOnce(SlaClock<'_>) -> R) -> R {
    let cal = Calendar::builtin();
    let hours = BusinessHours::standard();
    f(SlaClock::new(&cal, &hours))
}

fn due(start: &str, minutes: i64, pauses: &[Pause]) -> NaiveDateTime {
    with(|c| c.due(t(start), minutes, pauses).unwrap())
}

#[test]
fn a_weekend_is_skipped() {
    // Friday 17:00 + 120 min: 30 on Friday, 90 from Monday 08:30.
    assert_eq!(due("2026-03-06 17:00", 120, &[]), t("2026-03-09 10:00"));
    // Opened on a Saturday evening: the clock starts on Monday morning.
    assert_eq!(due("2026-03-07 20:00", 30, &[]), t("2026-03-09 09:00"));
}

#[test]
fn the_lunch_break_is_skipped() {
    assert_eq!(due("2026-03-02 11:50", 20, &[]), t("2026-03-02 13:40"));
    // Ending exactly at the end of a window is due at that instant.
    assert_eq!(due("2026-03-02 08:30", 210, &[]), t("2026-03-02 12:00"));
}

#[test]
fn spring_festival_2024_with_its_adjusted_sunday() {
    // Friday 9 Feb 16:00 + 480 min: 90 on Friday; 10–17 Feb off; Sunday 18 Feb is worked
    // (调休): 210 in the morning, 180 from 13:30, due 16:30.
    assert_eq!(due("2024-02-09 16:00", 480, &[]), t("2024-02-18 16:30"));
}

#[test]
fn an_adjusted_saturday_2025() {
    // Friday 7 Feb 17:00 + 60 min: 30 on Friday, Saturday 8 Feb is worked (调休).
    assert_eq!(due("2025-02-07 17:00", 60, &[]), t("2025-02-08 09:00"));
    // An ordinary Saturday is not.
    assert_eq!(due("2025-03-07 17:00", 60, &[]), t("2025-03-10 09:00"));
}

#[test]
fn national_day_2025() {
    // Tuesday 30 Sep 10:00 + 960 min: 360 that day; 1–8 Oct off; 450 on Thursday 9 Oct;
    // 150 on Friday 10 Oct: due 11:00.
    assert_eq!(due("2025-09-30 10:00", 960, &[]), t("2025-10-10 11:00"));
}

#[test]
fn a_pause_stops_the_clock() {
    // Monday 2 Mar 09:00 + 480 min, waiting for the enterprise from Monday 10:00 to Wednesday
    // 14:00: 60 on Monday, 210 on Wednesday afternoon, 210 on Thursday morning.
    let p = [Pause {
        from: t("2026-03-02 10:00"),
        to: Some(t("2026-03-04 14:00")),
    }];
    assert_eq!(due("2026-03-02 09:00", 480, &p), t("2026-03-05 12:00"));
    with(|c| {
        assert_eq!(
            c.elapsed_seconds(t("2026-03-02 09:00"), t("2026-03-05 12:00"), &p),
            480 * 60
        );
        // An open pause: no due instant, the state is paused.
        let open = [Pause {
            from: t("2026-03-02 10:00"),
            to: None,
        }];
        assert_eq!(c.due(t("2026-03-02 09:00"), 480, &open), None);
        let s = c.evaluate(
            t("2026-03-02 09:00"),
            480,
            None,
            &open,
            t("2026-03-10 09:00"),
        );
        assert_eq!(
            (s.state, s.elapsed_minutes, s.due_at),
            (TargetState::Paused, 60, None)
        );
    });
}

#[test]
fn target_states() {
    with(|c| {
        let start = t("2026-03-02 09:00");
        // 480 min: 420 on Monday (09:00–12:00 and 13:30–17:30), 60 on Tuesday: 09:30.
        assert_eq!(c.due(start, 480, &[]), Some(t("2026-03-03 09:30")));
        let at = |now: &str| c.evaluate(start, 480, None, &[], t(now)).state;
        assert_eq!(at("2026-03-02 10:00"), TargetState::OnTrack);
        // 120 min left (a quarter of 480): due soon; a minute earlier on track.
        assert_eq!(at("2026-03-02 16:29"), TargetState::OnTrack);
        assert_eq!(at("2026-03-02 16:30"), TargetState::DueSoon);
        assert_eq!(at("2026-03-03 09:30"), TargetState::Breached);
        let done = |d: &str| {
            c.evaluate(start, 480, Some(t(d)), &[], t("2026-04-01 09:00"))
                .state
        };
        assert_eq!(done("2026-03-03 09:29"), TargetState::Met);
        assert_eq!(done("2026-03-03 09:31"), TargetState::Breached);
        // Breached before a pause stays breached.
        let late = [Pause {
            from: t("2026-03-04 09:00"),
            to: None,
        }];
        assert_eq!(
            c.evaluate(start, 480, None, &late, t("2026-03-05 09:00"))
                .state,
            TargetState::Breached
        );
    });
}

#[test]
fn a_year_not_loaded_is_flagged() {
    with(|c| {
        // Thursday 31 Dec 2026 17:00 + 60 min: 2027 is not loaded, so Friday 1 Jan 2027 counts
        // as a working day, and the figure says the calendar is missing.
        let s = c.evaluate(t("2026-12-31 17:00"), 60, None, &[], t("2026-12-31 17:10"));
        assert_eq!(s.due_at, Some(t("2027-01-01 09:00")));
        assert!(s.calendar_missing);
        let s = c.evaluate(t("2026-03-02 09:00"), 60, None, &[], t("2026-03-02 09:10"));
        assert!(!s.calendar_missing);
    });
}

/// The oracle: count minute by minute whether the clock runs.
fn brute_minutes(
    c: &SlaClock<'_>,
    from: NaiveDateTime,
    to: NaiveDateTime,
    pauses: &[Pause],
) -> i64 {
    let mut n = 0;
    let mut m = from;
    while m < to {
        let working = c.calendar.is_working_day(m.date())
            && c.hours
                .windows()
                .iter()
                .any(|(a, b)| m.time() >= *a && m.time() < *b);
        let paused = pauses
            .iter()
            .any(|p| m >= p.from && p.to.is_none_or(|e| m < e));
        if working && !paused {
            n += 1;
        }
        m += TimeDelta::minutes(1);
    }
    n
}

fn instant() -> impl Strategy<Value = NaiveDateTime> {
    // Minutes from 2023-01-01 into 2026 (holidays of every loaded year are hit).
    (0i64..4 * 365 * 24 * 60).prop_map(|m| {
        NaiveDate::from_ymd_opt(2023, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            + TimeDelta::minutes(m)
    })
}

fn pauses_after(start: NaiveDateTime) -> impl Strategy<Value = Vec<Pause>> {
    proptest::collection::vec((0i64..6 * 24 * 60, 0i64..3 * 24 * 60), 0..3).prop_map(move |v| {
        v.into_iter()
            .map(|(off, len)| Pause {
                from: start + TimeDelta::minutes(off),
                to: Some(start + TimeDelta::minutes(off + len)),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Elapsed working time equals the minute-by-minute count, with pauses.
    #[test]
    fn elapsed_matches_a_minute_count(start in instant(), span in 0i64..8 * 24 * 60) {
        with(|c| {
            let end = start + TimeDelta::minutes(span);
            let pauses = [Pause { from: start + TimeDelta::minutes(span / 3), to: Some(start + TimeDelta::minutes(span / 2)) }];
            prop_assert_eq!(c.elapsed_seconds(start, end, &pauses) / 60, brute_minutes(&c, start, end, &pauses));
            prop_assert_eq!(c.elapsed_seconds(start, end, &[]) / 60, brute_minutes(&c, start, end, &[]));
            Ok(())
        })?;
    }

    /// `due` inverts `elapsed`: the clock has run exactly the target at the due instant, and
    /// a longer target is never due earlier.
    #[test]
    fn due_inverts_elapsed(start in instant(), minutes in 0i64..5000) {
        with(|c| {
            let d = c.due(start, minutes, &[]).unwrap();
            prop_assert_eq!(c.elapsed_seconds(start, d, &[]), minutes * 60);
            prop_assert!(c.due(start, minutes + 1, &[]).unwrap() > d);
            Ok(())
        })?;
    }

    /// Pauses never bring a due instant forward, and `due` still inverts `elapsed` with them.
    #[test]
    fn pauses_only_delay(
        (start, pauses) in instant().prop_flat_map(|s| (Just(s), pauses_after(s))),
        minutes in 1i64..3000,
    ) {
        with(|c| {
            let plain = c.due(start, minutes, &[]).unwrap();
            let paused = c.due(start, minutes, &pauses).unwrap();
            prop_assert!(paused >= plain);
            prop_assert_eq!(c.elapsed_seconds(start, paused, &pauses), minutes * 60);
            Ok(())
        })?;
    }

    /// Splitting a span adds up.
    #[test]
    fn elapsed_is_additive(start in instant(), a in 0i64..20000, b in 0i64..20000) {
        with(|c| {
            let m = start + TimeDelta::minutes(a);
            let e = m + TimeDelta::minutes(b);
            prop_assert_eq!(
                c.elapsed_seconds(start, m, &[]) + c.elapsed_seconds(m, e, &[]),
                c.elapsed_seconds(start, e, &[])
            );
            Ok(())
        })?;
    }
}
