//! The rating by property: the score stays within 0..=100 and its grade matches the
//! thresholds; adding a penalty (or any negative record) never raises the score; an older
//! record weighs less than the same record dated later.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use yuepin_credit::rating::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

fn fact() -> impl Strategy<Value = Fact> {
    (0..Factor::ALL.len(), 0i64..4000, 0u32..1000).prop_map(|(f, age, n)| Fact {
        factor: Factor::ALL[f],
        record: format!("event:{n}"),
        date: today() - Duration::days(age),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_score_stays_in_bounds(facts in prop::collection::vec(fact(), 0..200)) {
        let m = Model::current();
        let g = grade(&m, &facts, today());
        prop_assert!((0.0..=100.0).contains(&g.score));
        prop_assert_eq!(g.grade, m.grade_of(g.score));
        for c in &g.contributions {
            let cap = m.factors[&c.factor].cap;
            prop_assert!(c.points.abs() <= cap + 1e-9);
            let signed_right = if c.factor.is_positive() { c.points >= 0.0 } else { c.points <= 0.0 };
            prop_assert!(signed_right);
        }
        let listed: usize = g.contributions.iter().map(|c| c.records.len()).sum();
        prop_assert_eq!(listed, facts.len(), "every record is shown under its factor");
    }

    #[test]
    fn a_negative_record_never_raises_the_score(
        facts in prop::collection::vec(fact(), 0..100),
        neg in prop::sample::select(Factor::ALL.iter().copied().filter(|f| !f.is_positive()).collect::<Vec<_>>()),
        age in 0i64..4000,
    ) {
        let m = Model::current();
        let before = grade(&m, &facts, today());
        let mut more = facts.clone();
        more.push(Fact { factor: neg, record: "event:new".into(), date: today() - Duration::days(age) });
        let after = grade(&m, &more, today());
        prop_assert!(after.score <= before.score);
        prop_assert!(after.grade >= before.grade, "grades run A < B < C < D");
    }

    #[test]
    fn older_records_weigh_less(
        f in 0..Factor::ALL.len(),
        age in 0i64..3000,
        older_by in 1i64..2000,
    ) {
        let m = Model::current();
        let factor = Factor::ALL[f];
        let newer = Fact { factor, record: "event:1".into(), date: today() - Duration::days(age) };
        let older = Fact { date: newer.date - Duration::days(older_by), ..newer.clone() };
        let gn = grade(&m, std::slice::from_ref(&newer), today());
        let go = grade(&m, std::slice::from_ref(&older), today());
        let (wn, wo) = (gn.contributions[0].records[0].weight, go.contributions[0].records[0].weight);
        prop_assert!(wo < wn);
        prop_assert!(go.contributions[0].points.abs() <= gn.contributions[0].points.abs());
        if factor.is_positive() {
            prop_assert!(go.score <= gn.score);
        } else {
            prop_assert!(go.score >= gn.score);
        }
    }
}
