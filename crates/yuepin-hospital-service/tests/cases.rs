//! Case life cycles through the service on the backend under test: routing with reasons and
//! round-robin, decline, first response, waiting for the enterprise (SLA paused), panel,
//! resolution, closure, survey, reopen; SLA figures on the holiday calendar; the knowledge
//! base; imports; statistics.

mod common;

use common::*;
use yuepin_domain::Division;
use yuepin_hospital_service::{
    CaseFilter, CaseState, Closure, HospitalError, Invalid, LinkKind, NewKnowledge, Priority,
    SlaTarget, TargetKind, TargetState,
};

fn closure() -> Closure {
    Closure {
        root_cause: "电源滤波电容选型偏小,传导骚扰超标".into(),
        fix: "更换X电容并增加共模电感".into(),
        verification: "复测传导骚扰合格,报告 SZ-2026-101".into(),
    }
}

fn sla(c: &yuepin_hospital_service::CaseRecord, k: TargetKind) -> TargetState {
    c.sla.iter().find(|s| s.target == k).unwrap().state
}

#[tokio::test]
async fn a_case_from_opening_to_the_knowledge_base() {
    let fx = setup().await;
    let s = &fx.svc;
    let mut nc = new_case(fx.gd, "插座电磁兼容不合格整改");
    nc.link_kind = Some(LinkKind::Inspection);
    nc.link_id = Some(fx.insp_a);
    let c = s.open_case(&fx.a, &nc).await.unwrap();
    assert_eq!(c.state, CaseState::Opened);
    assert_eq!(c.division, Division::parse("39").unwrap());
    assert_eq!(c.sla.len(), 2);

    // Routing: specialists of the hospital; the one in the enterprise's city first; the
    // other hospital's expert is not proposed.
    let p = s.proposals(&fx.xc[0], c.id).await.unwrap();
    let ids: Vec<i64> = p.iter().map(|p| p.expert_id).collect();
    assert_eq!(ids, vec![fx.x[0], fx.x[1], fx.x[2]]);
    assert!(!p[0].reasons.is_empty());

    // x2 is assigned and declines with a reason: back to opened.
    let c = s.assign(&fx.xc[0], c.id, fx.x[1]).await.unwrap();
    assert_eq!((c.state, c.expert_id), (CaseState::Assigned, Some(fx.x[1])));
    let c = s
        .decline(&fx.xc[1], c.id, "本周出差,无法响应")
        .await
        .unwrap();
    assert_eq!((c.state, c.expert_id), (CaseState::Opened, None));
    let c = s.assign(&fx.regulator, c.id, fx.x[0]).await.unwrap();

    // First response, asking the enterprise: the resolution clock pauses.
    let c = s
        .post_message(&fx.xc[0], c.id, "请提供整改前后的电路图", false, true)
        .await
        .unwrap();
    assert_eq!(c.state, CaseState::WaitingForEnterprise);
    let d = s.case(&fx.xc[0], c.id).await.unwrap();
    assert_eq!(sla(&d.case, TargetKind::FirstResponse), TargetState::Met);
    assert_eq!(sla(&d.case, TargetKind::Resolution), TargetState::Paused);
    let c = s
        .post_message(&fx.a, c.id, "电路图已上传", false, false)
        .await
        .unwrap();
    assert_eq!(c.state, CaseState::InConsultation);
    s.post_message(&fx.xc[0], c.id, "企业配合度高", true, false)
        .await
        .unwrap();

    // Panel, resolution, closure, survey.
    let c = s
        .escalate(&fx.xc[0], c.id, &[fx.x[2]], "需要结构专家会诊")
        .await
        .unwrap();
    assert_eq!(c.panel, vec![fx.x[2]]);
    assert!(s.resolve(&fx.xc[2], c.id).await.is_ok());
    let c = s.close(&fx.xc[0], c.id, &closure()).await.unwrap();
    assert_eq!(c.state, CaseState::Closed);
    assert_eq!(c.closure, Some(closure()));
    let c = s.rate(&fx.a, c.id, 5, "专家很专业").await.unwrap();
    assert_eq!(c.satisfaction, Some(5));
    assert!(matches!(
        s.rate(&fx.a, c.id, 4, "").await,
        Err(HospitalError::Invalid {
            field: "score",
            reason: Invalid::Taken
        })
    ));

    // Knowledge base: naming the enterprise is refused; anonymised, approved, searchable.
    let named = NewKnowledge {
        title: "深圳市甲电子插座整改".into(),
        problem: "传导骚扰超标".into(),
        cause: "滤波电容偏小".into(),
        fix: "更换X电容".into(),
    };
    assert!(matches!(
        s.propose_knowledge(&fx.xc[0], c.id, &named).await,
        Err(HospitalError::Invalid {
            field: "title",
            reason: Invalid::Identifying
        })
    ));
    let k = NewKnowledge {
        title: "智能插座传导骚扰超标整改".into(),
        ..named
    };
    s.propose_knowledge(&fx.xc[0], c.id, &k).await.unwrap();
    assert!(s
        .search_knowledge(&fx.public, Some("骚扰"), None, 20)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.pending_knowledge(&fx.xc[0]).await.unwrap().len(), 1);
    s.approve_knowledge(&fx.xc[0], c.id).await.unwrap();
    let found = s
        .search_knowledge(&fx.public, Some("X电容"), None, 20)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let d39 = Division::parse("39").ok();
    let d38 = Division::parse("38").ok();
    assert_eq!(
        s.search_knowledge(&fx.public, Some("骚扰"), d39, 20)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(s
        .search_knowledge(&fx.public, Some("骚扰"), d38, 20)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .search_knowledge(&fx.public, Some("100%"), None, 20)
        .await
        .unwrap()
        .is_empty());

    // Statistics.
    let st = s.stats(&fx.regulator).await.unwrap();
    let h = st.hospitals.iter().find(|h| h.id == fx.gd).unwrap();
    assert_eq!((h.cases, h.closed, h.satisfaction_mean), (1, 1, Some(5.0)));
    assert_eq!((h.first_response_met, h.first_response_counted), (1, 1));
    let x1 = st.experts.iter().find(|e| e.id == fx.x[0]).unwrap();
    assert_eq!(x1.cases, 1);
    assert_eq!(st.calendar_years, vec![2023, 2024, 2025, 2026]);
}

#[tokio::test]
async fn reopen_and_illegal_steps() {
    let fx = setup().await;
    let s = &fx.svc;
    let c = s
        .open_case(&fx.a, &new_case(fx.gd, "外壳开裂"))
        .await
        .unwrap();
    assert!(matches!(
        s.resolve(&fx.regulator, c.id).await,
        Err(HospitalError::Illegal(_))
    ));
    assert!(matches!(
        s.rate(&fx.a, c.id, 5, "").await,
        Err(HospitalError::Invalid { field: "score", .. })
    ));
    s.assign(&fx.xc[0], c.id, fx.x[0]).await.unwrap();
    s.post_message(&fx.xc[0], c.id, "收到", false, false)
        .await
        .unwrap();
    s.resolve(&fx.xc[0], c.id).await.unwrap();
    s.close(&fx.xc[0], c.id, &closure()).await.unwrap();
    let c = s.reopen(&fx.a, c.id, "问题复现").await.unwrap();
    assert_eq!(c.state, CaseState::InConsultation);
    assert_eq!((c.closure, c.resolved_at), (None, None));
    assert!(matches!(
        s.close(&fx.xc[0], c.id, &closure()).await,
        Err(HospitalError::Illegal(_))
    ));
    // Messages on a closed case are refused; a full expert cannot be assigned.
    assert!(matches!(
        s.assign(&fx.xc[0], c.id, fx.x[3]).await,
        Err(HospitalError::Invalid {
            field: "expert_id",
            ..
        })
    ));
}

#[tokio::test]
async fn links_must_be_the_enterprises_own_failed_inspection() {
    let fx = setup().await;
    let mut nc = new_case(fx.gd, "整改");
    nc.link_kind = Some(LinkKind::Inspection);
    nc.link_id = Some(fx.insp_b);
    assert!(matches!(
        fx.svc.open_case(&fx.a, &nc).await,
        Err(HospitalError::Invalid {
            field: "link_id",
            reason: Invalid::NotOwn
        })
    ));
    nc.link_id = None;
    assert!(matches!(
        fx.svc.open_case(&fx.a, &nc).await,
        Err(HospitalError::Invalid {
            field: "link_id",
            reason: Invalid::Missing
        })
    ));
}

#[tokio::test]
async fn sla_on_the_calendar_with_the_service_clock() {
    let fx = setup().await;
    let s = &fx.svc;
    // Friday 13 Feb 2026 17:00, urgent (60 working minutes to first response): 30 minutes on
    // Friday, then Saturday 14 Feb is an adjusted working day (调休): due 09:00.
    s.clock().set(t("2026-02-13 17:00"));
    let mut nc = new_case(fx.gd, "紧急质量问题");
    nc.priority = Priority::Urgent;
    let c = s.open_case(&fx.a, &nc).await.unwrap();
    let fr = c
        .sla
        .iter()
        .find(|v| v.target == TargetKind::FirstResponse)
        .unwrap();
    let due = fr.due_at.unwrap();
    assert!(
        (due - t("2026-02-14 09:00")).num_seconds().abs() <= 2,
        "{due}"
    );
    assert!(!fr.calendar_missing);
    // 50 working minutes later (Saturday 08:50): due soon; at 09:10 breached.
    s.clock().set(t("2026-02-14 08:50"));
    let l = s.cases(&fx.a, &CaseFilter::default()).await.unwrap();
    assert_eq!(sla(&l[0], TargetKind::FirstResponse), TargetState::DueSoon);
    s.clock().set(t("2026-02-14 09:10"));
    let l = s.cases(&fx.a, &CaseFilter::default()).await.unwrap();
    assert_eq!(sla(&l[0], TargetKind::FirstResponse), TargetState::Breached);

    // A hospital sets its own targets; a case opened late in 2026 runs into 2027, which is
    // not loaded: flagged.
    s.set_sla_target(
        &fx.xc[0],
        fx.gd,
        SlaTarget {
            priority: Priority::Normal,
            first_response_minutes: 30,
            resolution_minutes: 600,
        },
    )
    .await
    .unwrap();
    assert!(s
        .set_sla_target(
            &fx.xc[3],
            fx.gd,
            SlaTarget {
                priority: Priority::Normal,
                first_response_minutes: 30,
                resolution_minutes: 600
            }
        )
        .await
        .is_err());
    s.clock().set(t("2026-12-31 17:00"));
    let c = s.open_case(&fx.a, &new_case(fx.gd, "跨年")).await.unwrap();
    // First response (30 min) falls due on 31 Dec at 17:30; the resolution (600) in 2027.
    let missing = |c: &yuepin_hospital_service::CaseRecord, k| {
        c.sla
            .iter()
            .find(|v| v.target == k)
            .unwrap()
            .calendar_missing
    };
    assert!(!missing(&c, TargetKind::FirstResponse));
    assert!(missing(&c, TargetKind::Resolution));
    let s2 = s
        .clone()
        .with_calendar_text("2027-01-01,year,,测试\n2027-01-01,off,元旦,测试\n")
        .unwrap();
    let c = s2.case(&fx.a, c.id).await.unwrap().case;
    assert!(c.sla.iter().all(|v| !v.calendar_missing));
}

#[tokio::test]
async fn imports_are_all_or_nothing() {
    let fx = setup().await;
    let s = &fx.svc;
    let bad = "code,name,institution,city,divisions,capacity,business_hours\n\
               FSQI,佛山家电产品医院,佛山检验院,佛山,38,20,08:30-12:00\n\
               ZHQI,珠海产品医院,珠海检验院,火星,38,20,08:30-12:00\n\
               GDQI,重复,某院,广州,99,20,bad\n";
    let Err(HospitalError::Import(errs)) = s.import_hospitals(&fx.regulator, bad.as_bytes()).await
    else {
        panic!("expected import errors");
    };
    let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(got, vec![(3, "city"), (4, "divisions")]);
    assert_eq!(s.hospitals(&fx.regulator).await.unwrap().len(), 2);
    let good = "code,name,institution,city,divisions,capacity,business_hours\n\
                FSQI,佛山家电产品医院,佛山检验院,佛山,38,20,08:30-12:00\n\
                ZHQI,珠海产品医院,珠海检验院,珠海,38;39,20,09:00-18:00\n";
    assert_eq!(
        s.import_hospitals(&fx.regulator, good.as_bytes())
            .await
            .unwrap()
            .rows,
        2
    );
    assert!(matches!(
        s.import_hospitals(&fx.regulator, good.as_bytes()).await,
        Err(HospitalError::Import(_))
    ));
    assert!(s.import_hospitals(&fx.a, good.as_bytes()).await.is_err());

    user(&fx.store, "y1", yuepin_domain::Role::Expert).await;
    user(&fx.store, "labuser", yuepin_domain::Role::Lab).await;
    let bad = "username,name,divisions,qualifications,city,max_load,hospitals\n\
               y1,孙工,38,高级工程师,佛山,3,FSQI*\n\
               nobody,某人,38,,佛山,3,FSQI\n\
               labuser,某人,38,,佛山,3,FSQI\n";
    let Err(HospitalError::Import(errs)) = s.import_experts(&fx.regulator, bad.as_bytes()).await
    else {
        panic!("expected import errors");
    };
    let got: Vec<(usize, Invalid)> = errs.iter().map(|e| (e.row, e.reason)).collect();
    assert_eq!(got, vec![(3, Invalid::Unknown), (4, Invalid::NotExpert)]);
    let good = "username,name,divisions,qualifications,city,max_load,hospitals\n\
                y1,孙工,38,高级工程师;注册质量工程师,佛山,3,FSQI*;GDQI\n";
    assert_eq!(
        s.import_experts(&fx.regulator, good.as_bytes())
            .await
            .unwrap()
            .rows,
        1
    );
    let y1 = s
        .experts(&fx.regulator)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.username == "y1")
        .unwrap();
    assert_eq!(y1.memberships.len(), 2);
    assert!(y1
        .memberships
        .iter()
        .any(|m| m.hospital_code == "FSQI" && m.coordinator));
    assert_eq!(y1.qualifications.len(), 2);
}

#[tokio::test]
async fn equals_are_assigned_in_turn() {
    let fx = setup().await;
    let s = &fx.svc;
    // Two equal specialists in 深圳 at SZQI: x4 and x5. Each takes a case and declines it, so
    // their loads stay equal and only the turn decides.
    let uid = user(&fx.store, "x5", yuepin_domain::Role::Expert).await;
    let x5c = yuepin_domain::Caller::user(uid, "x5", yuepin_domain::Role::Expert, None, None);
    let x5 = s
        .create_expert(
            &fx.regulator,
            &yuepin_hospital_service::NewExpert {
                username: "x5".into(),
                name: "周工".into(),
                divisions: "39".into(),
                qualifications: "高级工程师".into(),
                city: "深圳".into(),
                max_load: 5,
                hospitals: "SZQI".into(),
            },
        )
        .await
        .unwrap()
        .id;
    let mut firsts = Vec::new();
    for i in 0..4 {
        let c = s
            .open_case(&fx.a, &new_case(fx.sz, &format!("问题{i}")))
            .await
            .unwrap();
        let top = s.proposals(&fx.regulator, c.id).await.unwrap()[0].expert_id;
        firsts.push(top);
        s.assign(&fx.regulator, c.id, top).await.unwrap();
        let who = if top == x5 { &x5c } else { &fx.xc[3] };
        s.decline(who, c.id, "测试轮转").await.unwrap();
        s.clock().advance(chrono::Duration::minutes(1));
    }
    assert_eq!(firsts, vec![fx.x[3], x5, fx.x[3], x5]);
}
