//! `yuepin hospital …`: the product hospital from the command line. Import hospitals and
//! experts from CSV (all-or-nothing, each refused value with its row and field), list
//! hospitals, experts and cases, check a holiday calendar file before placing it in
//! `{data_dir}/hospital-calendar/` (where `serve` loads it: a new year needs no release), and
//! show which years are loaded.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use yuepin_domain::Caller;
use yuepin_hospital_service::{CaseFilter, HospitalError, HospitalService};

#[derive(Subcommand)]
pub enum Command {
    /// Imports hospitals: code,name,institution,city,divisions,capacity,business_hours.
    ImportHospitals {
        #[command(flatten)]
        db: crate::config::DbArgs,
        file: PathBuf,
    },
    /// Imports experts: username,name,divisions,qualifications,city,max_load,hospitals
    /// (the accounts must exist with the expert role; `CODE*` marks the coordinator).
    ImportExperts {
        #[command(flatten)]
        db: crate::config::DbArgs,
        file: PathBuf,
    },
    /// Lists the hospitals with their SLA targets.
    Hospitals {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Lists the experts with their load.
    Experts {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Lists the cases with their state and SLA targets.
    Cases {
        #[command(flatten)]
        db: crate::config::DbArgs,
        /// Only cases in this state (opened, assigned, in_consultation, …).
        #[arg(long)]
        state: Option<String>,
    },
    /// Checks a holiday calendar file (date,kind,name,notice) and prints the years it declares.
    CheckCalendar { file: PathBuf },
    /// Prints the calendar years loaded (compiled in and from `{data_dir}/hospital-calendar/`).
    Calendar {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
}

/// The hospital service of a data directory, with its extra calendar files.
pub fn service(store: yuepin_store::Store, data_dir: &Path) -> Result<HospitalService> {
    Ok(HospitalService::new(store).with_calendar_dir(data_dir)?)
}

async fn open(db: &crate::config::DbArgs) -> Result<HospitalService> {
    let s = db.resolve()?;
    service(s.connect().await?, &s.data_dir)
}

/// Words an import failure for the operator: one line per refused value.
fn import_result(r: Result<yuepin_hospital_service::ImportSummary, HospitalError>) -> Result<()> {
    match r {
        Ok(s) => {
            println!("imported {} rows", s.rows);
            Ok(())
        }
        Err(HospitalError::Import(errs)) => {
            for e in &errs {
                eprintln!("row {}, {}: {:?}", e.row, e.field, e.reason);
            }
            bail!("{} errors; nothing imported", errs.len())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn run(cmd: Command) -> Result<()> {
    let cli = Caller::cli;
    match cmd {
        Command::ImportHospitals { db, file } => {
            let data = std::fs::read(&file).with_context(|| file.display().to_string())?;
            import_result(
                open(&db)
                    .await?
                    .import_hospitals(&cli("hospital-import"), &data)
                    .await,
            )?;
        }
        Command::ImportExperts { db, file } => {
            let data = std::fs::read(&file).with_context(|| file.display().to_string())?;
            import_result(
                open(&db)
                    .await?
                    .import_experts(&cli("hospital-import"), &data)
                    .await,
            )?;
        }
        Command::Hospitals { db } => {
            for h in open(&db).await?.hospitals(&cli("hospital-list")).await? {
                let targets: Vec<String> = h
                    .targets
                    .iter()
                    .map(|t| {
                        format!(
                            "{}={}/{}",
                            t.priority.as_str(),
                            t.first_response_minutes,
                            t.resolution_minutes
                        )
                    })
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    h.id,
                    h.code,
                    h.name,
                    h.city,
                    h.business_hours,
                    targets.join(" ")
                );
            }
        }
        Command::Experts { db } => {
            for x in open(&db).await?.experts(&cli("hospital-list")).await? {
                let hs: Vec<String> = x
                    .memberships
                    .iter()
                    .map(|m| {
                        format!(
                            "{}{}",
                            m.hospital_code,
                            if m.coordinator { "*" } else { "" }
                        )
                    })
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}\tload {}/{}\t{}",
                    x.id,
                    x.username,
                    x.name,
                    x.city,
                    x.load,
                    x.max_load,
                    hs.join(";")
                );
            }
        }
        Command::Cases { db, state } => {
            let f = CaseFilter {
                state,
                hospital_id: None,
            };
            for c in open(&db).await?.cases(&cli("hospital-list"), &f).await? {
                let sla: Vec<String> = c
                    .sla
                    .iter()
                    .map(|s| {
                        format!(
                            "{:?}:{} {}/{}min{}",
                            s.target,
                            s.state.as_str(),
                            s.elapsed_minutes,
                            s.target_minutes,
                            if s.calendar_missing {
                                " (calendar missing)"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect();
                println!(
                    "#{}\t{}\t{}\t{}\t{}",
                    c.id,
                    c.state,
                    c.hospital_name,
                    c.title,
                    sla.join(" ")
                );
            }
        }
        Command::CheckCalendar { file } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| file.display().to_string())?;
            let cal = yuepin_hospital::Calendar::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            for (y, notice) in cal.years() {
                println!("{y}\t{notice}");
            }
        }
        Command::Calendar { db } => {
            let s = db.resolve()?;
            let svc = HospitalService::new(s.connect().await?).with_calendar_dir(&s.data_dir)?;
            for (y, notice) in svc.calendar().years() {
                println!("{y}\t{notice}");
            }
            println!("years not listed count Monday–Friday as working days and flag SLA figures \"calendar missing\"");
        }
    }
    Ok(())
}

const DEMO_HOSPITALS: &str = r#"code,name,institution,city,divisions,capacity,business_hours
GD-EE,广东电子电器产品医院(演示),广东省产品质量监督检验研究院(虚构),广州,38;39;40,60,"08:30-12:00,13:30-17:30"
SZ-HOME,深圳智能家居产品医院(演示),深圳市质量技术服务中心(虚构),深圳,38;39;21;29,40,"09:00-12:00,13:30-18:00"
FS-TEX,佛山纺织服装产品医院(演示),佛山市纺织品检测中心(虚构),佛山,17;18;19,30,"08:30-12:00,14:00-17:30"
"#;

const DEMO_EXPERTS: &str = "username,name,divisions,qualifications,city,max_load,hospitals
expert,陈立新(演示),38;39;40,正高级工程师;全国电工电子产品标准化技术委员会委员,广州,8,GD-EE*;SZ-HOME
expert-li,李慧敏(演示),39;40,高级工程师;注册质量工程师,深圳,6,GD-EE;SZ-HOME*
expert-wang,王振华(演示),38;29,高级工程师,东莞,6,GD-EE;SZ-HOME
expert-zhao,赵雅琴(演示),17;18;19,正高级工程师;纺织品检验师,佛山,6,FS-TEX*
";

/// The demo's product hospital: three fictitious hospitals, four experts (the `expert` demo
/// account coordinates the first), and cases of the demo enterprise in every state, opened
/// on dates in the past so the SLA targets show each of their states.
pub async fn seed_demo(store: &yuepin_store::Store, data_dir: &Path) -> Result<()> {
    use yuepin_domain::Role;
    use yuepin_hospital_service::{Closure, NewCase, NewKnowledge, Priority};
    let registry = yuepin_enterprises_service::EnterprisesService::new(store.clone());
    let op = Caller::cli("demo");
    for (user, name) in [
        ("expert-li", "李慧敏(演示专家)"),
        ("expert-wang", "王振华(演示专家)"),
        ("expert-zhao", "赵雅琴(演示专家)"),
    ] {
        registry
            .create_account(
                &op,
                yuepin_enterprises_service::NewAccount {
                    username: user.into(),
                    display_name: name.into(),
                    password: format!("demo-{user}-2023-only"),
                    role: "expert".into(),
                    enterprise_uscc: None,
                },
            )
            .await
            .with_context(|| format!("creating demo account {user}"))?;
    }
    let svc = service(store.clone(), data_dir)?;
    svc.import_hospitals(&op, DEMO_HOSPITALS.as_bytes()).await?;
    svc.import_experts(&op, DEMO_EXPERTS.as_bytes()).await?;
    let user = |name: &'static str| async move {
        store
            .user_by_username(name)
            .await?
            .with_context(|| format!("demo account {name}"))
    };
    let e = user("enterprise").await?;
    let ent = Caller::user(e.id, &e.username, Role::Enterprise, e.enterprise_id, None);
    let callers = {
        let mut v = Vec::new();
        for n in ["expert", "expert-li"] {
            let u = user(n).await?;
            v.push(Caller::user(u.id, &u.username, Role::Expert, None, None));
        }
        v
    };
    let (chen, li) = (&callers[0], &callers[1]);
    let hospitals = svc.hospitals(&op).await?;
    let gd = hospitals
        .iter()
        .find(|h| h.code == "GD-EE")
        .context("GD-EE")?
        .id;
    let sz = hospitals
        .iter()
        .find(|h| h.code == "SZ-HOME")
        .context("SZ-HOME")?
        .id;
    let experts = svc.experts(&op).await?;
    let xid = |u: &str| {
        experts
            .iter()
            .find(|x| x.username == u)
            .map(|x| x.id)
            .context("demo expert")
    };
    let case = |h: i64, title: &str, product: &str, kind: &str, desc: &str, p: Priority| NewCase {
        hospital_id: h,
        title: title.into(),
        product: product.into(),
        problem_type: kind.into(),
        description: desc.into(),
        division: None,
        priority: p,
        on_site: false,
        link_kind: None,
        link_id: None,
    };
    let clock = svc.clock().clone();
    let at = |days: i64, h: u32| {
        let d = yuepin_domain::china_today() - chrono::Duration::days(days);
        d.and_hms_opt(h, 0, 0).unwrap_or_default()
    };
    // Closed, rated, in the knowledge base.
    clock.set(at(30, 9));
    let c = svc
        .open_case(
            &ent,
            &case(
                gd,
                "电源适配器温升超标整改",
                "电源适配器",
                "不合格整改",
                "省级监督抽查中温升项目不合格，需要分析原因并制定整改方案。",
                Priority::High,
            ),
        )
        .await?;
    svc.assign(chen, c.id, xid("expert")?).await?;
    clock.set(at(30, 10));
    svc.post_message(
        chen,
        c.id,
        "请提供变压器规格书和温升测试数据。",
        false,
        true,
    )
    .await?;
    clock.set(at(29, 15));
    svc.post_message(
        &ent,
        c.id,
        "规格书与测试数据已整理，见附件说明。",
        false,
        false,
    )
    .await?;
    svc.post_message(
        chen,
        c.id,
        "初步判断为变压器线径偏小，建议复核。",
        true,
        false,
    )
    .await?;
    clock.set(at(27, 11));
    svc.resolve(chen, c.id).await?;
    svc.close(
        chen,
        c.id,
        &Closure {
            root_cause: "变压器绕组线径偏小，满载时铜损过大".into(),
            fix: "绕组线径由0.35mm改为0.45mm,并增加散热孔".into(),
            verification: "委托检验机构复测温升合格(演示报告 DEMO-2026-118)".into(),
        },
    )
    .await?;
    svc.rate(&ent, c.id, 5, "专家响应及时，整改方案可行")
        .await?;
    svc.propose_knowledge(
        chen,
        c.id,
        &NewKnowledge {
            title: "电源适配器温升超标的整改".into(),
            problem: "电源适配器在监督抽查中温升项目不合格".into(),
            cause: "变压器绕组线径偏小，满载铜损过大".into(),
            fix: "加大绕组线径并增加散热孔，复测合格".into(),
        },
    )
    .await?;
    svc.approve_knowledge(chen, c.id).await?;
    // Resolved, awaiting closure.
    clock.set(at(12, 9));
    let c = svc
        .open_case(
            &ent,
            &case(
                gd,
                "插座插套保持力不足",
                "转换插座",
                "工艺改进",
                "出厂检验发现部分批次插套保持力偏低。",
                Priority::Normal,
            ),
        )
        .await?;
    svc.assign(chen, c.id, xid("expert")?).await?;
    clock.set(at(11, 10));
    svc.post_message(
        chen,
        c.id,
        "建议调整插套材料硬度并增加热处理工序。",
        false,
        false,
    )
    .await?;
    clock.set(at(8, 16));
    svc.resolve(chen, c.id).await?;
    // Waiting for the enterprise (paused clock), after a panel escalation.
    clock.set(at(6, 9));
    let c = svc
        .open_case(
            &ent,
            &case(
                sz,
                "智能门锁电磁兼容整改",
                "智能门锁",
                "不合格整改",
                "辐射骚扰测试超标，需要会诊。",
                Priority::High,
            ),
        )
        .await?;
    svc.assign(li, c.id, xid("expert-li")?).await?;
    clock.set(at(6, 11));
    svc.post_message(li, c.id, "收到，先请结构专家一起会诊。", false, false)
        .await?;
    svc.escalate(li, c.id, &[xid("expert-wang")?], "涉及结构屏蔽设计")
        .await?;
    svc.post_message(li, c.id, "请提供PCB布板图和外壳屏蔽方案。", false, true)
        .await?;
    // In consultation, first response done.
    clock.set(at(2, 9));
    let c = svc
        .open_case(
            &ent,
            &case(
                gd,
                "电热水壶标识说明不规范",
                "电热水壶",
                "标准咨询",
                "请专家指导GB 4706.19相关标识要求。",
                Priority::Low,
            ),
        )
        .await?;
    svc.assign(chen, c.id, xid("expert")?).await?;
    clock.set(at(2, 14));
    svc.post_message(
        chen,
        c.id,
        "我们先核对铭牌与说明书的必备内容。",
        false,
        false,
    )
    .await?;
    // Assigned, waiting for the first response (urgent: breached).
    clock.set(at(1, 9));
    let c = svc
        .open_case(
            &ent,
            &case(
                gd,
                "批量召回风险评估",
                "电暖器",
                "风险评估",
                "收到消费者投诉，需紧急评估是否存在安全隐患。",
                Priority::Urgent,
            ),
        )
        .await?;
    svc.assign(chen, c.id, xid("expert-wang")?).await?;
    // Opened, not yet assigned.
    clock.set(yuepin_domain::china_now() - chrono::Duration::hours(1));
    svc.open_case(
        &ent,
        &case(
            sz,
            "扫地机器人电池续航下降",
            "扫地机器人",
            "质量问题诊断",
            "用户反映使用三个月后续航明显下降。",
            Priority::Normal,
        ),
    )
    .await?;
    Ok(())
}
