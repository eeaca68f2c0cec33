//! The access matrix of the product hospital: an enterprise sees only its own cases; an expert
//! only the cases assigned to them, on their panel, or in a hospital they coordinate; internal
//! notes and decline reasons never reach the enterprise; other roles are refused and the
//! public must sign in. A case outside the caller's reach looks missing.

mod common;

use common::*;
use yuepin_domain::{Caller, Denied};
use yuepin_hospital_service::{CaseFilter, HospitalError, HospitalResult};

fn not_found<T>(r: HospitalResult<T>) -> bool {
    matches!(r, Err(HospitalError::NotFound { .. }))
}

async fn ids(fx: &Fx, c: &Caller) -> Vec<i64> {
    let mut v: Vec<i64> = fx
        .svc
        .cases(c, &CaseFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn who_sees_which_case() {
    let fx = setup().await;
    let s = &fx.svc;
    let ca = s
        .open_case(&fx.a, &new_case(fx.gd, "甲的问题"))
        .await
        .unwrap()
        .id;
    let cb = s
        .open_case(&fx.b, &new_case(fx.gd, "乙的问题"))
        .await
        .unwrap()
        .id;
    let cs = s
        .open_case(&fx.b, &new_case(fx.sz, "乙在深圳"))
        .await
        .unwrap()
        .id;

    assert_eq!(ids(&fx, &fx.a).await, vec![ca]);
    assert_eq!(ids(&fx, &fx.b).await, vec![cb, cs]);
    assert!(not_found(s.case(&fx.a, cb).await));
    assert!(not_found(
        s.post_message(&fx.a, cb, "看看", false, false).await
    ));
    assert!(not_found(s.reopen(&fx.a, cb, "x").await));
    // The coordinator of GD sees GD's cases, not SZ's; the others see none yet.
    assert_eq!(ids(&fx, &fx.xc[0]).await, vec![ca, cb]);
    assert!(not_found(s.case(&fx.xc[0], cs).await));
    for i in 1..4 {
        assert!(ids(&fx, &fx.xc[i]).await.is_empty(), "x{}", i + 1);
        assert!(not_found(s.case(&fx.xc[i], ca).await));
        assert!(not_found(s.assign(&fx.xc[i], ca, fx.x[i]).await));
        assert!(not_found(s.proposals(&fx.xc[i], ca).await));
    }
    assert_eq!(ids(&fx, &fx.regulator).await, vec![ca, cb, cs]);

    // Assigned: x2 sees ca; x3 only once on the panel.
    s.assign(&fx.xc[0], ca, fx.x[1]).await.unwrap();
    assert_eq!(ids(&fx, &fx.xc[1]).await, vec![ca]);
    assert!(not_found(s.decline(&fx.xc[2], ca, "不是我的").await));
    s.post_message(&fx.xc[1], ca, "您好", false, false)
        .await
        .unwrap();
    s.escalate(&fx.xc[1], ca, &[fx.x[2]], "会诊").await.unwrap();
    assert_eq!(ids(&fx, &fx.xc[2]).await, vec![ca]);
    assert!(s.case(&fx.xc[2], ca).await.unwrap().may_act_as_expert);
    // An expert of another hospital cannot join a panel.
    assert!(s.escalate(&fx.xc[1], ca, &[fx.x[3]], "会诊").await.is_err());

    // Enterprises cannot assign, or see proposals.
    assert!(not_found(s.assign(&fx.a, ca, fx.x[0]).await));
    assert!(not_found(s.proposals(&fx.a, ca).await));
}

#[tokio::test]
async fn internal_notes_never_reach_the_enterprise() {
    let fx = setup().await;
    let s = &fx.svc;
    let c = s
        .open_case(&fx.a, &new_case(fx.gd, "甲的问题"))
        .await
        .unwrap()
        .id;
    s.assign(&fx.xc[0], c, fx.x[1]).await.unwrap();
    s.decline(&fx.xc[1], c, "与该企业有利益关系").await.unwrap();
    s.assign(&fx.xc[0], c, fx.x[0]).await.unwrap();
    s.post_message(&fx.xc[0], c, "公开回复", false, false)
        .await
        .unwrap();
    s.post_message(&fx.xc[0], c, "内部备注:疑似设计缺陷", true, false)
        .await
        .unwrap();
    s.post_message(&fx.regulator, c, "监管备注", true, false)
        .await
        .unwrap();

    let mine = s.case(&fx.a, c).await.unwrap();
    assert_eq!(mine.messages.len(), 1);
    assert!(mine
        .messages
        .iter()
        .all(|m| !m.internal && !m.body.contains("内部")));
    assert!(mine
        .events
        .iter()
        .all(|e| e.event != "decline" && e.reason.is_none()));
    assert!(!mine.may_assign && !mine.may_act_as_expert && mine.may_act_as_enterprise);
    let theirs = s.case(&fx.xc[0], c).await.unwrap();
    assert_eq!(theirs.messages.len(), 3);
    assert!(theirs
        .events
        .iter()
        .any(|e| e.reason.as_deref() == Some("与该企业有利益关系")));
    // The enterprise cannot write internal notes or ask itself.
    assert!(matches!(
        s.post_message(&fx.a, c, "x", true, false).await,
        Err(HospitalError::Invalid {
            field: "internal",
            ..
        })
    ));
}

#[tokio::test]
async fn other_roles_and_the_public() {
    let fx = setup().await;
    let s = &fx.svc;
    let c = s
        .open_case(&fx.a, &new_case(fx.gd, "甲的问题"))
        .await
        .unwrap()
        .id;
    for who in [&fx.lab, &fx.bank] {
        assert!(matches!(
            s.cases(who, &CaseFilter::default()).await,
            Err(HospitalError::Denied(Denied::Role { .. }))
        ));
        assert!(matches!(
            s.case(who, c).await,
            Err(HospitalError::Denied(Denied::Role { .. }))
        ));
    }
    assert!(matches!(
        s.cases(&fx.public, &CaseFilter::default()).await,
        Err(HospitalError::Denied(Denied::SignInRequired))
    ));
    assert!(matches!(
        s.hospitals(&fx.public).await,
        Err(HospitalError::Denied(Denied::SignInRequired))
    ));
    assert!(matches!(
        s.cases(&fx.unbound, &CaseFilter::default()).await,
        Err(HospitalError::ExpertNotBound)
    ));
    // Experts and the regulator do not open cases; enterprises do not administer.
    assert!(matches!(
        s.open_case(&fx.xc[0], &new_case(fx.gd, "x")).await,
        Err(HospitalError::Denied(_))
    ));
    assert!(matches!(
        s.open_case(&fx.regulator, &new_case(fx.gd, "x")).await,
        Err(HospitalError::Denied(_))
    ));
    assert!(s
        .create_hospital(&fx.a, &hospital("ZZ", "x", "广州", "38"))
        .await
        .is_err());
    assert!(s.stats(&fx.xc[0]).await.is_err());
    assert!(s.experts(&fx.a).await.is_err());
    // The public searches the knowledge base.
    assert!(s
        .search_knowledge(&fx.public, Some("电容"), None, 10)
        .await
        .unwrap()
        .is_empty());
}
