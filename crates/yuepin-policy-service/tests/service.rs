//! The policy service below HTTP, on the backend under test (SQLite by default, PostgreSQL when
//! `YUEPIN_TEST_DATABASE_URL` names a server): one enterprise's facts evaluated, a full match
//! run with its counts, an offer answered by its enterprise, an application submitted and
//! decided by a regulator, grant totals — and the refusals: an enterprise caller never reaches
//! another enterprise's match, offers or applications, and only regulators decide.

use serde_json::json;
use std::collections::BTreeMap;
use yuepin_domain::{Caller, Denied, Enterprise, Role};
use yuepin_policy::{Facts, OutcomeKind, SubjectKind};
use yuepin_policy_service::{
    AnswerInput, ApplicationStatus, ApplyInput, CheckRequest, DecisionInput, OfferStatus,
    PolicyError, PolicyService,
};
use yuepin_store::Actor;
use yuepin_test_support::{enterprise_user, regulator, uscc, user_with_role, TestDb};

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

/// An enterprise eligible for M18 (little giant + performance excellence) and M10 (provincial
/// quality award) on 2025-03-01, in Shenzhen.
fn awarded_enterprise(code: &str, name: &str) -> Enterprise {
    serde_json::from_value(json!({
        "uscc": code, "name": name, "region": "深圳", "division": "39",
        "registered_capital": "5000万", "employees": 320, "founded_on": "2012-05-18",
        "listing": "unlisted",
        "designations": [
            {"kind": "little_giant", "awarded_on": "2022-07-01", "expires_on": "2025-06-30"},
            {"kind": "performance_excellence", "awarded_on": "2023-01-01"},
            {"kind": "guangdong_quality_award", "awarded_on": "2024-05-01"}],
        "financials": [{"year": 2024, "revenue_china": "20亿元", "revenue_world": "25.5亿"}]
    }))
    .unwrap()
}

struct Fixture {
    _db: TestDb,
    svc: PolicyService,
    /// (id, credit code) of enterprises A and B.
    a: (i64, String),
    b: (i64, String),
}

async fn fixture() -> Fixture {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let mut ids = vec![];
    for (n, name) in [
        (101, "深圳市甲质量科技有限公司"),
        (102, "深圳市乙电子有限公司"),
    ] {
        let code = uscc(n);
        let mut w = store.begin_write(Actor::cli("test")).await.unwrap();
        let id = yuepin_enterprises_service::EnterprisesService::new(store.clone())
            .save_enterprise(&mut w, &awarded_enterprise(&code, name))
            .await
            .unwrap();
        store.commit(w).await.unwrap();
        ids.push((id, code));
    }
    let b = ids.pop().unwrap();
    let a = ids.pop().unwrap();
    Fixture {
        _db: db,
        // The server's date for these tests: the policy in force, the little giant still held.
        svc: PolicyService::new(store).with_today(day("2025-03-01")),
        a,
        b,
    }
}

fn denied(r: Result<impl std::fmt::Debug, PolicyError>) -> Denied {
    match r {
        Err(PolicyError::Denied(d)) => d,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn check_request(enterprise: &str, measure: &str) -> CheckRequest {
    CheckRequest {
        subject: SubjectKind::Enterprise,
        facts: Default::default(),
        as_of: day("2025-03-01"),
        measure: Some(measure.into()),
        enterprise: Some(enterprise.into()),
    }
}

#[tokio::test]
async fn evaluates_one_enterprises_facts() {
    let f = fixture().await;
    let own = enterprise_user(f.a.0);
    let checked = f
        .svc
        .check(&own, check_request(&f.a.1, "M18"))
        .await
        .unwrap();
    assert_eq!(checked.enterprise.as_ref().unwrap().0, f.a.1);
    assert_eq!(checked.evaluations.len(), 1);
    assert_eq!(checked.evaluations[0].outcome.kind(), OutcomeKind::Eligible);
    // Request facts merged over the platform's win: no longer a little giant → not eligible.
    let mut req = check_request(&f.a.1, "M18");
    req.facts
        .insert("designations".into(), json!(["performance_excellence"]));
    let checked = f.svc.check(&regulator(), req).await.unwrap();
    assert_ne!(checked.evaluations[0].outcome.kind(), OutcomeKind::Eligible);

    // The full picture: M18 and M10 eligible, something undetermined and not eligible.
    let m = f
        .svc
        .enterprise_matches(&own, &f.a.1, Some("2025-03-01"))
        .await
        .unwrap();
    let keys: Vec<&str> = m.eligible.iter().map(|e| e.measure.as_str()).collect();
    assert!(
        keys.contains(&"gd-2023-74/M18") && keys.contains(&"gd-2023-74/M10"),
        "{keys:?}"
    );
    assert!(!m.undetermined.is_empty() && !m.not_eligible.is_empty());
    assert!(m.latest_run.is_none() && m.offers.is_empty());

    // Request facts of another subject kind: M16's "超过20亿元" is strict.
    let merger = |china: [&str; 2]| {
        Facts::from_json(
            SubjectKind::Merger,
            json!({"parties_revenue_china": china, "parties_revenue_world": ["50亿元", "20亿元"],
                   "involves_manufacturing": true}),
        )
        .unwrap()
    };
    let at = f
        .svc
        .evaluate(&merger(["14亿元", "6亿元"]), day("2025-01-01"), Some("M16"))
        .unwrap();
    assert_eq!(at[0].outcome.kind(), OutcomeKind::NotEligible);
    let over = f
        .svc
        .evaluate(
            &merger(["14亿元", "6.01亿元"]),
            day("2025-01-01"),
            Some("M16"),
        )
        .unwrap();
    assert_eq!(over[0].outcome.kind(), OutcomeKind::Eligible);
    // A measure without a rule for the subject, and an unknown measure.
    assert!(matches!(
        f.svc
            .evaluate(&merger(["1亿元", "1亿元"]), day("2025-01-01"), Some("M18")),
        Err(PolicyError::NoRuleForSubject { .. })
    ));
    assert!(matches!(
        f.svc
            .check(&regulator(), check_request(&f.a.1, "M99"))
            .await,
        Err(PolicyError::UnknownMeasure { .. })
    ));
}

#[tokio::test]
async fn a_full_match_run_with_its_counts() {
    let f = fixture().await;
    let none = BTreeMap::new();
    assert!(matches!(
        denied(
            f.svc
                .run_match(&enterprise_user(f.a.0), day("2025-03-01"), &none)
                .await
        ),
        Denied::Role { .. }
    ));
    let report = f
        .svc
        .run_match(&regulator(), day("2025-03-01"), &none)
        .await
        .unwrap();
    assert_eq!(report.enterprises, 2);
    assert_eq!(report.notified, 2);
    assert_eq!(report.counts["gd-2023-74/M18"]["eligible"], 2);
    assert_eq!(report.counts["gd-2023-74/M10"]["eligible"], 2);
    assert!(report.eligible >= 4 && report.offers >= 4, "{report:?}");
    // Every enterprise has one outcome per measure.
    let per_measure: i64 = report.counts["gd-2023-74/M18"].values().sum();
    assert_eq!(per_measure, 2);
    assert_eq!(
        report.evaluations,
        report.enterprises * report.measures as i64
    );

    let runs = f.svc.runs(&regulator(), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, report.run_id);
    assert_eq!(runs[0].as_of, day("2025-03-01"));
    let (run, counts) = f.svc.run(&regulator(), report.run_id).await.unwrap();
    assert_eq!(run.eligible, report.eligible);
    assert!(counts.iter().any(|c| c.measure == "gd-2023-74/M18"
        && c.outcome == OutcomeKind::Eligible
        && c.count == 2));
    let listing = f
        .svc
        .measure_listing(&regulator(), "M18", None, None, None, 100)
        .await
        .unwrap();
    let codes: Vec<String> = listing.items.iter().map(|i| i.uscc.to_string()).collect();
    assert_eq!(codes, vec![f.a.1.clone(), f.b.1.clone()]);
    assert_eq!(listing.items[0].amount_fen, Some(10_000_000_000));
    assert_eq!(listing.items[0].city.as_str(), "440300");
    // The enterprise's stored cells and notification.
    let cells = f
        .svc
        .results_of(&enterprise_user(f.a.0), run.id, f.a.0)
        .await
        .unwrap();
    assert!(cells
        .iter()
        .any(|c| c.measure == "gd-2023-74/M18" && c.outcome == OutcomeKind::Eligible));
    let notes = f.svc.notifications(&enterprise_user(f.a.0)).await.unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].body_zh.contains("M18"));
    assert_eq!(
        f.svc
            .mark_notifications_read(&enterprise_user(f.a.0))
            .await
            .unwrap(),
        1
    );
    // Listings and runs are the regulator's.
    assert!(matches!(
        denied(
            f.svc
                .measure_listing(&enterprise_user(f.a.0), "M18", None, None, None, 100)
                .await
        ),
        Denied::Role { .. }
    ));
    assert!(matches!(
        denied(f.svc.runs(&enterprise_user(f.a.0), 10).await),
        Denied::Role { .. }
    ));
}

/// An offer can be confirmed for 60 days after the match's date (the notification names the
/// day); on the 61st the confirmation is refused and opens no application, while declining
/// still works.
#[tokio::test]
async fn an_offer_expires_sixty_days_after_its_match() {
    let f = fixture().await;
    f.svc
        .run_match(&regulator(), day("2025-03-01"), &BTreeMap::new())
        .await
        .unwrap();
    let ua = enterprise_user(f.a.0);
    let offers = f.svc.offers(&ua, None).await.unwrap();
    let m18 = offers
        .iter()
        .find(|o| o.measure == "gd-2023-74/M18")
        .unwrap();
    assert_eq!(m18.expires_on, day("2025-04-30"));
    let note = &f.svc.notifications(&ua).await.unwrap()[0];
    assert!(
        note.body_zh.contains("请于2025-04-30前"),
        "{}",
        note.body_zh
    );
    let confirm = AnswerInput {
        decision: "confirm".into(),
        reference: String::new(),
    };
    let late = f.svc.clone().with_today(day("2025-05-01"));
    assert!(matches!(
        late.answer_offer(&ua, m18.id, confirm.clone()).await,
        Err(PolicyError::OfferExpired { expired_on, .. }) if expired_on == day("2025-04-30")
    ));
    assert!(late.applications_of(&ua, f.a.0).await.unwrap().is_empty());
    let declined = late
        .answer_offer(
            &ua,
            m18.id,
            AnswerInput {
                decision: "decline".into(),
                reference: String::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(declined.offer.status, OfferStatus::Declined);
}

#[tokio::test]
async fn an_offer_answered_by_its_enterprise() {
    let f = fixture().await;
    f.svc
        .run_match(&regulator(), day("2025-03-01"), &BTreeMap::new())
        .await
        .unwrap();
    let (ua, ub) = (enterprise_user(f.a.0), enterprise_user(f.b.0));
    let offers = f.svc.offers(&ua, None).await.unwrap();
    assert!(offers.iter().all(|o| o.enterprise_id == f.a.0));
    assert!(offers.iter().all(|o| o.status == OfferStatus::Offered));
    let m18 = offers
        .iter()
        .find(|o| o.measure == "gd-2023-74/M18")
        .unwrap()
        .id;
    // A regulator names the enterprise; an enterprise user always sees its own.
    let reg_view = f.svc.offers(&regulator(), Some(&f.a.1)).await.unwrap();
    assert_eq!(reg_view.len(), offers.len());
    assert!(matches!(
        f.svc.offers(&regulator(), None).await,
        Err(PolicyError::Required {
            field: "enterprise"
        })
    ));
    let own_only = f.svc.offers(&ub, Some(&f.a.1)).await.unwrap();
    assert!(own_only.iter().all(|o| o.enterprise_id == f.b.0));

    let confirm = || AnswerInput {
        decision: "confirm".into(),
        reference: String::new(),
    };
    // Someone else's offer looks missing; the regulator does not answer for the enterprise.
    assert!(matches!(
        f.svc.answer_offer(&ub, m18, confirm()).await,
        Err(PolicyError::UnknownOffer(id)) if id == m18
    ));
    assert!(matches!(
        denied(f.svc.answer_offer(&regulator(), m18, confirm()).await),
        Denied::Role { .. }
    ));
    assert!(matches!(
        f.svc
            .answer_offer(
                &ua,
                m18,
                AnswerInput {
                    decision: "maybe".into(),
                    reference: String::new()
                }
            )
            .await,
        Err(PolicyError::Choice {
            field: "decision",
            ..
        })
    ));
    let answered = f.svc.answer_offer(&ua, m18, confirm()).await.unwrap();
    assert_eq!(answered.offer.status, OfferStatus::Confirmed);
    assert_eq!(
        answered.offer.decided_by.as_deref(),
        Some(ua.actor.as_str())
    );
    let app = answered.application.unwrap();
    assert_eq!(app.status, ApplicationStatus::Submitted);
    assert_eq!(app.offer_id, Some(m18));
    assert_eq!(app.reference, format!("{}:quality-financing:2025", f.a.1));
    // JSON as the API has always shown it.
    let j = serde_json::to_value(&app).unwrap();
    assert_eq!(j["status"], "submitted");
    assert_eq!(j["uscc"], f.a.1.as_str());
    assert_eq!(j["city"], "440300");
    assert!(matches!(
        f.svc
            .answer_offer(
                &ua,
                m18,
                AnswerInput {
                    decision: "decline".into(),
                    reference: String::new()
                }
            )
            .await,
        Err(PolicyError::OfferAnswered(OfferStatus::Confirmed))
    ));
}

#[tokio::test]
async fn an_application_decided_by_a_regulator_and_grant_totals() {
    let f = fixture().await;
    let (ua, ub) = (enterprise_user(f.a.0), enterprise_user(f.b.0));
    let apply = |measure: &str| ApplyInput {
        measure: measure.into(),
        ..Default::default()
    };
    let m10 = f.svc.apply(&ua, apply("M10")).await.unwrap();
    assert_eq!(m10.status, ApplicationStatus::Submitted);
    assert!(m10.reference.contains("guangdong_quality_award"));
    assert!(matches!(
        f.svc.apply(&ua, apply("M10")).await,
        Err(PolicyError::ApplicationPending { .. })
    ));
    // Not a money measure; not eligible (with the evaluation); someone else's enterprise.
    assert!(matches!(
        f.svc.apply(&ua, apply("M16")).await,
        Err(PolicyError::NotMoneyMeasure { .. })
    ));
    let mut m8 = apply("M8");
    m8.reference = "ISO 12345:2024".into();
    match f.svc.apply(&ua, m8).await {
        Err(PolicyError::NotEligible(r)) => assert_eq!(r.measure, "gd-2023-74/M8"),
        other => panic!("{other:?}"),
    }
    let mut for_a = apply("M18");
    for_a.uscc = f.a.1.clone();
    assert_eq!(
        denied(f.svc.apply(&ub, for_a).await),
        Denied::OtherEnterprise
    );
    assert!(matches!(
        denied(f.svc.apply(&regulator(), apply("M18")).await),
        Denied::Role { .. }
    ));

    let approve = |amount: &str| DecisionInput {
        decision: "approve".into(),
        amount: amount.into(),
        year: Some(2025),
        ..Default::default()
    };
    // Only regulators decide; a rejection needs a reason.
    assert!(matches!(
        denied(f.svc.decide(&ua, m10.id, approve("30万元")).await),
        Denied::Role { .. }
    ));
    assert!(matches!(
        f.svc
            .decide(
                &regulator(),
                m10.id,
                DecisionInput {
                    decision: "reject".into(),
                    ..Default::default()
                }
            )
            .await,
        Err(PolicyError::Required { field: "reason" })
    ));
    let decided = f
        .svc
        .decide(&regulator(), m10.id, approve("30万元"))
        .await
        .unwrap();
    assert_eq!(decided.status, ApplicationStatus::Approved);
    assert_eq!(decided.grant.as_ref().unwrap().amount_fen, 30_000_000);
    assert!(matches!(
        f.svc.decide(&regulator(), m10.id, approve("30万元")).await,
        Err(PolicyError::ApplicationDecided(ApplicationStatus::Approved))
    ));
    // The same award is never paid twice.
    assert!(matches!(
        f.svc.apply(&ua, apply("M10")).await,
        Err(PolicyError::AlreadyPaid { .. })
    ));
    // M18 within the cap (1亿 of the text), for B.
    let m18 = f.svc.apply(&ub, apply("M18")).await.unwrap();
    assert!(matches!(
        f.svc.decide(&regulator(), m18.id, approve("1.5亿元")).await,
        Err(PolicyError::OverCap {
            cap_fen: 10_000_000_000,
            already_fen: 0
        })
    ));
    f.svc
        .decide(&regulator(), m18.id, approve("5000万元"))
        .await
        .unwrap();

    let t = f.svc.grant_totals(&regulator()).await.unwrap();
    assert_eq!(t.grants, 2);
    assert_eq!(t.amount_fen, 5_030_000_000);
    assert_eq!(t.by_measure["M18"], (1, 5_000_000_000));
    assert_eq!(t.by_measure["M10"], (1, 30_000_000));
    assert_eq!(t.by_city["440300"], (2, 5_030_000_000));
    assert_eq!(t.by_year[&2025], (2, 5_030_000_000));
    assert!(matches!(
        denied(f.svc.grant_totals(&ua).await),
        Denied::Role { .. }
    ));
    // Grants and applications: the regulator sees all, each enterprise its own.
    assert_eq!(f.svc.grants(&regulator()).await.unwrap().len(), 2);
    let own = f.svc.grants(&ua).await.unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].enterprise_id, f.a.0);
    assert_eq!(
        f.svc.applications(&regulator(), None).await.unwrap().len(),
        2
    );
    let approved = f
        .svc
        .applications(&regulator(), Some("approved"))
        .await
        .unwrap();
    assert_eq!(approved.len(), 2);
    assert!(f
        .svc
        .applications(&regulator(), Some("nonsense"))
        .await
        .unwrap()
        .is_empty());
    // The audit chain holds every step.
    let store = f.svc.store();
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity = 'policy_application'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(n, 4, "two applications, two decisions");
}

#[tokio::test]
async fn an_enterprise_never_reaches_another_enterprises_data() {
    let f = fixture().await;
    f.svc
        .run_match(&regulator(), day("2025-03-01"), &BTreeMap::new())
        .await
        .unwrap();
    let (ua, ub) = (enterprise_user(f.a.0), enterprise_user(f.b.0));
    // Match and check.
    // Someone else's enterprise looks the same as a missing one.
    assert!(matches!(
        f.svc.enterprise_matches(&ub, &f.a.1, None).await,
        Err(PolicyError::UnknownEnterprise { uscc }) if uscc == f.a.1
    ));
    assert_eq!(
        denied(f.svc.check(&ub, check_request(&f.a.1, "M18")).await),
        Denied::OtherEnterprise
    );
    let run = f.svc.runs(&regulator(), 1).await.unwrap()[0].id;
    assert_eq!(
        denied(f.svc.results_of(&ub, run, f.a.0).await),
        Denied::OtherEnterprise
    );
    // Applications.
    let app = f
        .svc
        .apply(
            &ua,
            ApplyInput {
                measure: "M18".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(f.svc.applications(&ub, None).await.unwrap().is_empty());
    assert!(matches!(
        f.svc.application(&ub, app.id).await,
        Err(PolicyError::UnknownApplication(_))
    ));
    assert_eq!(f.svc.application(&ua, app.id).await.unwrap().id, app.id);
    assert_eq!(
        denied(f.svc.applications_of(&ub, f.a.0).await),
        Denied::OtherEnterprise
    );
    // Offers and notifications are the caller's own.
    assert!(f
        .svc
        .offers(&ub, None)
        .await
        .unwrap()
        .iter()
        .all(|o| o.enterprise_id == f.b.0));
    assert!(f
        .svc
        .notifications(&ub)
        .await
        .unwrap()
        .iter()
        .all(|n| n.enterprise_id == f.b.0));
    // Roles without a share of the policy data, and the public.
    let bank = user_with_role(Role::Bank);
    assert!(matches!(
        denied(f.svc.offers(&bank, Some(&f.a.1)).await),
        Denied::Role { .. }
    ));
    assert!(matches!(
        denied(f.svc.applications(&bank, None).await),
        Denied::Role { .. }
    ));
    assert!(matches!(
        denied(f.svc.notifications(&regulator()).await),
        Denied::Role { .. }
    ));
    assert_eq!(
        denied(
            f.svc
                .enterprise_matches(&Caller::public(), &f.a.1, None)
                .await
        ),
        Denied::SignInRequired
    );
    // An enterprise account bound to no enterprise.
    let unbound = Caller::user(9, "unbound", Role::Enterprise, None, None);
    assert!(matches!(
        f.svc.offers(&unbound, None).await,
        Err(PolicyError::AccountWithoutEnterprise)
    ));
}

#[tokio::test]
async fn what_if_over_the_store_and_over_request_subjects() {
    let f = fixture().await;
    let overrides = BTreeMap::from([("m18_financing_cap".to_string(), "2亿元".to_string())]);
    let r = f
        .svc
        .what_if_enterprises(&regulator(), &overrides, day("2025-03-01"))
        .await
        .unwrap();
    assert_eq!(r.subjects, 2);
    assert_eq!(r.amount_delta_fen, 2 * 10_000_000_000);
    assert!(matches!(
        denied(
            f.svc
                .what_if_enterprises(&enterprise_user(f.a.0), &overrides, day("2025-03-01"))
                .await
        ),
        Denied::Role { .. }
    ));
    let input = serde_json::from_value(json!({
        "as_of": "2025-03-01", "subject": "merger", "overrides": {"m16_combined_china": "15亿元"},
        "subjects": [
            {"parties_revenue_china": ["12亿元", "6亿元"], "parties_revenue_world": ["30亿元", "20亿元"], "involves_manufacturing": true},
            {"parties_revenue_china": ["3亿元", "1亿元"], "parties_revenue_world": ["5亿元", "2亿元"], "involves_manufacturing": true}]
    }))
    .unwrap();
    let r = f.svc.what_if(&regulator(), input).await.unwrap();
    assert_eq!((r.eligible_before, r.eligible_after), (0, 1));
    assert_eq!(r.newly_eligible[0].subject, "#0");
    let bad = serde_json::from_value(json!({"overrides": {"nope": "1"}})).unwrap();
    assert!(matches!(
        f.svc.what_if(&regulator(), bad).await,
        Err(PolicyError::Engine(_))
    ));
}

/// The server's date decides every write: an enterprise cannot obtain eligibility by sending
/// a date from when the policy was in force, nor confirm an offer made then.
#[tokio::test]
async fn an_enterprise_cannot_obtain_eligibility_by_sending_a_date() {
    let f = fixture().await;
    let ua = enterprise_user(f.a.0);
    // An offer made while the policy was in force (server date 2025-03-01) …
    f.svc
        .run_match(&regulator(), day("2025-03-01"), &BTreeMap::new())
        .await
        .unwrap();
    let m18 = f
        .svc
        .offers(&ua, None)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.measure == "gd-2023-74/M18")
        .unwrap()
        .id;
    // … and the same store served after the lapse (the policy's last day was 2026-10-11).
    let lapsed = PolicyService::new(f.svc.store().clone()).with_today(day("2026-12-01"));
    let sent = ApplyInput {
        measure: "M18".into(),
        as_of: "2025-03-01".into(),
        ..Default::default()
    };
    assert!(matches!(
        lapsed.apply(&ua, sent).await,
        Err(PolicyError::ClientDate { field: "as_of" })
    ));
    match lapsed
        .apply(
            &ua,
            ApplyInput {
                measure: "M18".into(),
                ..Default::default()
            },
        )
        .await
    {
        Err(PolicyError::OutsideWindow { last_day, .. }) => {
            assert_eq!(last_day, day("2026-10-11"))
        }
        other => panic!("{other:?}"),
    }
    let confirm = AnswerInput {
        decision: "confirm".into(),
        reference: String::new(),
    };
    assert!(matches!(
        lapsed.answer_offer(&ua, m18, confirm).await,
        Err(PolicyError::OutsideWindow { .. })
    ));
    // A run as of a past day is an analysis: stored, but it makes nobody an offer.
    let report = lapsed
        .run_match(&regulator(), day("2025-03-01"), &BTreeMap::new())
        .await
        .unwrap();
    assert_eq!((report.offers, report.notified), (0, 0));
    assert!(report.eligible >= 4);
    // Read-only checks still take a date, and say which.
    let checked = lapsed
        .check(&ua, check_request(&f.a.1, "M18"))
        .await
        .unwrap();
    assert_eq!(checked.as_of, day("2025-03-01"));
    assert_eq!(checked.evaluations[0].outcome.kind(), OutcomeKind::Eligible);
    assert!(lapsed
        .applications(&regulator(), None)
        .await
        .unwrap()
        .is_empty());
}
