//! `yuepin labs …`: status, the periodic sweep (no-shows, lapsed waitlist holds), binding a lab
//! account to a lab, and the benchmarks (availability search over many instruments with a year
//! of bookings; booking throughput under contention). `seed_demo` adds labs, instruments,
//! services, bookings, orders and an issued report to the demo data.

use anyhow::{anyhow, Context, Result};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use clap::Subcommand;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use yuepin_domain::{RegionCode, StandardCode, Yuan};
use yuepin_labs::{
    Accessory, Contact, DailyWindow, Instrument, InstrumentId, Lab, LabCode, LabId, Qualification,
    Service, ServiceArea, ServiceId, ServiceMode, SlotQuery, Tariff, TestItem, TestMethod,
    TimeRange, WeeklySchedule,
};
use yuepin_store::labs::{china_now, Booker, BookingPart, OrderAction, TestResults};
use yuepin_store::{Actor, Change, Store};

#[derive(Subcommand)]
pub enum Command {
    /// Counts of labs, instruments, services, bookings and orders.
    Status {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Marks no-shows (charging the fee, releasing the slot to the waitlist) and releases lapsed
    /// waitlist holds. Run every few minutes (cron/systemd timer).
    Sweep {
        #[command(flatten)]
        db: crate::config::DbArgs,
    },
    /// Binds a `lab` account to a lab (by lab code).
    BindStaff {
        #[command(flatten)]
        db: crate::config::DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long)]
        lab: String,
    },
    /// Benchmarks on a fresh database: availability search over many instruments with a year
    /// of bookings (p50/p99), then booking throughput on one instrument and across many.
    Bench {
        /// Database URL (default: a temporary SQLite file). Use an EMPTY PostgreSQL database.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 10_000)]
        instruments: usize,
        /// Bookings per instrument over the year.
        #[arg(long, default_value_t = 100)]
        bookings_per_instrument: usize,
        #[arg(long, default_value_t = 500)]
        queries: usize,
        /// Concurrent booking tasks.
        #[arg(long, default_value_t = 16)]
        tasks: usize,
        /// Booking attempts per task.
        #[arg(long, default_value_t = 50)]
        attempts: usize,
    },
}

pub async fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Status { db } => {
            let store = db.resolve()?.connect().await?;
            for t in [
                "labs",
                "lab_instruments",
                "lab_services",
                "lab_bookings",
                "lab_orders",
                "lab_reports",
            ] {
                let n: i64 = sqlx_count(&store, t).await?;
                println!("{t}: {n}");
            }
            println!("backend: {}", store.backend_name());
            Ok(())
        }
        Command::Sweep { db } => {
            let store = db.resolve()?.connect().await?;
            let s = store
                .labs_sweep(Actor::cli("labs-sweep"), china_now())
                .await
                .map_err(|e| anyhow!("{e}"))?;
            println!("{}", serde_json::to_string(&s)?);
            Ok(())
        }
        Command::BindStaff { db, username, lab } => {
            let store = db.resolve()?.connect().await?;
            let user = store
                .user_by_username(&username)
                .await?
                .ok_or_else(|| anyhow!("no user {username}"))?;
            let lab = store
                .labs()
                .await?
                .into_iter()
                .find(|l| l.code == lab.to_uppercase())
                .ok_or_else(|| anyhow!("no lab with code {lab}"))?;
            let mut w = store.begin_write(Actor::cli("labs")).await?;
            store.bind_lab_staff(&mut w, user.id, lab.id).await?;
            store.commit(w).await?;
            println!("{username} → {} ({})", lab.lab.name, lab.code);
            Ok(())
        }
        Command::Bench {
            database_url,
            instruments,
            bookings_per_instrument,
            queries,
            tasks,
            attempts,
        } => {
            bench(
                database_url,
                instruments,
                bookings_per_instrument,
                queries,
                tasks,
                attempts,
            )
            .await
        }
    }
}

async fn sqlx_count(store: &Store, table: &str) -> Result<i64> {
    use sqlx::Row;
    let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(store.pool())
        .await?;
    Ok(row.try_get(0)?)
}

// ---------------------------------------------------------------- demo data

const CITIES: [&str; 5] = ["广州", "深圳", "佛山", "东莞", "珠海"];
const ITEMS: [(&str, &str, &str); 10] = [
    ("盐雾试验", "GB/T 10125-2021", "盐雾试验箱"),
    ("重金属含量", "GB/T 26125-2011", "电感耦合等离子体质谱仪"),
    ("微观形貌", "GB/T 16594-2008", "扫描电子显微镜"),
    ("高低温试验", "GB/T 2423.1-2008", "高低温试验箱"),
    ("振动试验", "GB/T 2423.10-2019", "电动振动台"),
    ("电磁兼容", "GB/T 17626.2-2018", "静电放电发生器"),
    ("拉伸性能", "GB/T 228.1-2021", "万能材料试验机"),
    ("成分分析", "GB/T 11170-2008", "直读光谱仪"),
    ("尺寸测量", "GB/T 1958-2017", "三坐标测量机"),
    ("噪声测量", "GB/T 3768-2017", "声级计"),
];

fn schedule(s: &str) -> Result<WeeklySchedule> {
    let windows = s
        .split(',')
        .map(DailyWindow::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("{e}"))?;
    WeeklySchedule::weekdays(&windows).map_err(|e| anyhow!("{e}"))
}

fn method(item: &str, std: &str) -> Result<TestMethod> {
    Ok(TestMethod {
        item: TestItem::parse(item).map_err(|e| anyhow!("{e}"))?,
        standards: vec![StandardCode::parse(std)?],
    })
}

fn demo_instrument(lab: &Lab, k: usize, price_wan: i64) -> Result<Instrument> {
    let (item, std, name) = ITEMS[k % ITEMS.len()];
    Ok(Instrument {
        id: InstrumentId(0),
        lab: lab.id,
        name: format!("{name} {}", k / ITEMS.len() + 1),
        model: format!("YP-{:04}", 1000 + k),
        maker: ["岛津", "安捷伦", "赛默飞", "蔡司", "苏试"][k % 5].to_string(),
        purchase_price: Yuan::from_fen(price_wan * 1_000_000),
        purchased_on: NaiveDate::from_ymd_opt(2018 + (k % 6) as i32, 3, 1).unwrap_or_default(),
        location: format!("{}栋{}室", ["A", "B", "C"][k % 3], 101 + k),
        city: lab.city.clone(),
        capabilities: vec![item.to_string()],
        test_methods: vec![method(item, std)?],
        tariff: Tariff {
            peak_hourly: Yuan::from_fen((price_wan / 5 + 100) * 100),
            off_peak_hourly: Yuan::from_fen((price_wan / 5 + 60) * 100),
            peak: schedule("08:30-17:30")?,
        },
        accessories: vec![Accessory {
            name: "样品夹具".into(),
            hourly: Yuan::from_fen(2_000),
        }],
        operator_qualification: (k % 4 == 2)
            .then(|| Qualification::parse("大型仪器上岗证"))
            .transpose()
            .map_err(|e| anyhow!("{e}"))?,
        opening_hours: schedule("08:00-12:00,13:00-21:00")?,
    })
}

/// Adds this module's demo data to a freshly seeded demo store.
pub async fn seed_demo(store: &Store, _data_dir: &std::path::Path) -> Result<()> {
    let actor = Actor::cli("demo-labs");
    let mut lab_ids = Vec::new();
    let mut w = store.begin_write(actor.clone()).await?;
    for (n, city) in CITIES.iter().enumerate() {
        let code = ["GDQTC", "SZIQA", "FSMT", "DGTEST", "ZHREL"][n];
        let lab = Lab {
            id: LabId(0),
            name: format!(
                "{}{}",
                city,
                [
                    "质量技术检测中心",
                    "计量检测研究院",
                    "标准化与检测中心",
                    "产品质量监督检验所",
                    "可靠性试验中心"
                ][n]
            ),
            cma: Some(
                yuepin_labs::CmaNumber::parse(&format!("2019190{:05}", 10_000 + n))
                    .map_err(|e| anyhow!("{e}"))?,
            ),
            cnas: Some(
                yuepin_labs::CnasNumber::parse(&format!("CNAS L{}", 1234 + n * 1111))
                    .map_err(|e| anyhow!("{e}"))?,
            ),
            scope: ITEMS
                .iter()
                .map(|(i, s, _)| method(i, s))
                .collect::<Result<_>>()?,
            areas: vec![
                ServiceArea::Testing,
                [
                    ServiceArea::Metrology,
                    ServiceArea::Standards,
                    ServiceArea::Certification,
                    ServiceArea::Reliability,
                    ServiceArea::Testing,
                ][n],
            ],
            city: RegionCode::parse(city)?,
            contact: Contact {
                person: "王工".into(),
                phone: format!("020-8{:07}", 1_234_567 + n),
                email: None,
            },
            opening_hours: schedule("08:00-12:00,13:00-21:00")?,
        };
        let code = LabCode::parse(code).map_err(|e| anyhow!("{e}"))?;
        let id = store.create_lab(&mut w, &code, &lab).await?;
        let mut lab = lab;
        lab.id = LabId(id as u64);
        for k in 0..10 {
            let inst = demo_instrument(&lab, k + n, 20 + ((k * 37 + n * 11) % 180) as i64)?;
            store
                .save_instrument(&mut w, id, None, &inst, k % 5 == 4)
                .await?;
        }
        for (k, (item, std, _)) in ITEMS.iter().enumerate().skip(n).take(4) {
            let area = [
                ServiceArea::Testing,
                ServiceArea::Metrology,
                ServiceArea::Standards,
                ServiceArea::Certification,
                ServiceArea::Reliability,
            ][(k + n) % 5];
            let svc = Service {
                id: ServiceId(0),
                lab: lab.id,
                area,
                mode: if k % 2 == 0 {
                    ServiceMode::TestingOnBehalf
                } else {
                    ServiceMode::OutsourcedExperiment
                },
                method: method(item, std)?,
                price_per_sample: Yuan::from_fen((300 + 150 * k as i64) * 100),
                turnaround_days: 5 + k as u16,
            };
            store.save_service(&mut w, id, None, &svc).await?;
        }
        lab_ids.push(id);
    }
    if let Some(user) = store.user_by_username("lab").await? {
        store.bind_lab_staff(&mut w, user.id, lab_ids[0]).await?;
    }
    w.record(Change::new("seed", "labs", "demo").after(serde_json::json!({"labs": lab_ids.len()})));
    store.commit(w).await?;

    // A second lab account to verify what the demo `lab` account tests (four eyes).
    let Some(ent_user) = store.user_by_username("enterprise").await? else {
        return Ok(());
    };
    let Some(eid) = ent_user.enterprise_id else {
        return Ok(());
    };
    let uscc = store.enterprise_by_id(eid).await?.enterprise.uscc;
    let booker = Booker::Enterprise { id: eid, uscc };
    let now = china_now();
    let instruments = store.instruments_of_lab(lab_ids[0]).await?;
    // Upcoming bookings on the next weekdays.
    let mut day = now.date() + Duration::days(1);
    let mut made = 0;
    while made < 6 {
        if chrono::Datelike::weekday(&day).num_days_from_monday() < 5 {
            let inst = &instruments[made % instruments.len()];
            if inst.instrument.operator_qualification.is_none() {
                let start = day.and_hms_opt([9, 13, 15][made % 3], 0, 0).unwrap_or(now);
                let part = BookingPart {
                    instrument_id: inst.id,
                    range: TimeRange::starting_at(start, 120).map_err(|e| anyhow!("{e}"))?,
                    self_operated: true,
                    accessories: vec![],
                };
                store
                    .book(actor.clone(), &booker, &[part], now)
                    .await
                    .map_err(|e| anyhow!("demo booking: {e}"))?;
            }
            made += 1;
        }
        day += Duration::days(1);
    }
    // Past usage for the utilisation dashboard (completed, inserted as history).
    seed_history(store, &lab_ids, eid, now).await?;
    // Orders: one at each stage, one with an issued report.
    let services = store.services(Some(lab_ids[0])).await?;
    let lab_user = store
        .user_by_username("lab")
        .await?
        .map(|u| u.id)
        .unwrap_or(0);
    let verifier = lab_user + 1_000_000; // a verifier id distinct from the tester (audit names the actor)
    let today = (chrono::Utc::now() + Duration::hours(8)).date_naive();
    let steps: [&[OrderAction]; 3] = [
        &[],
        &[OrderAction::Quote {
            amount: Yuan::from_fen(240_000),
        }],
        &[
            OrderAction::Quote {
                amount: Yuan::from_fen(240_000),
            },
            OrderAction::Accept,
            OrderAction::ReceiveSample,
            OrderAction::StartTesting,
            OrderAction::RecordResults {
                results: TestResults {
                    passed: true,
                    failed_items: vec![],
                    summary: "全部项目合格".into(),
                },
            },
            OrderAction::Verify,
            OrderAction::IssueReport,
        ],
    ];
    for (i, list) in steps.iter().enumerate() {
        let svc = &services[i % services.len()];
        let o = store
            .create_order(actor.clone(), eid, svc.id, 3, "演示委托")
            .await
            .map_err(|e| anyhow!("{e}"))?;
        for a in list.iter() {
            let person = if matches!(a, OrderAction::Verify | OrderAction::IssueReport) {
                verifier
            } else {
                lab_user
            };
            store
                .order_action(actor.clone(), o.id, person, a.clone(), today)
                .await
                .map_err(|e| anyhow!("demo order {}: {e}", a.name()))?;
        }
    }
    Ok(())
}

/// Completed bookings over the past months (raw inserts: history, not new requests).
async fn seed_history(store: &Store, lab_ids: &[i64], eid: i64, now: NaiveDateTime) -> Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(74);
    let mut w = store.begin_write(Actor::cli("demo-labs")).await?;
    let mut n = 0;
    for lab in lab_ids {
        for inst in store.instruments_of_lab(*lab).await? {
            let mut t = (now - Duration::days(120))
                .date()
                .and_hms_opt(9, 0, 0)
                .unwrap_or(now);
            while t < now - Duration::days(1) {
                let hours = rng.gen_range(1..=4);
                let outside = rng.gen_bool(0.7);
                let (s, e) = (
                    t.and_utc().timestamp() / 60,
                    t.and_utc().timestamp() / 60 + hours * 60,
                );
                sqlx::query("INSERT INTO lab_bookings (instrument_id, enterprise_id, group_key, start_min, end_min, starts_at, ends_at, state, self_operated, price_fen, created_at, updated_at) VALUES ($1, $2, 'history', $3, $4, $5, $6, 'completed', 0, $7, $8, $8)")
                    .bind(inst.id)
                    .bind(outside.then_some(eid))
                    .bind(s)
                    .bind(e)
                    .bind(yuepin_store::labs::dt_text(t))
                    .bind(yuepin_store::labs::dt_text(t + Duration::hours(hours)))
                    .bind(inst.instrument.tariff.peak_hourly.fen() * hours)
                    .bind(yuepin_store::now_text())
                    .execute(&mut *w.tx)
                    .await?;
                n += 1;
                t += Duration::days(rng.gen_range(1..=4));
            }
        }
    }
    w.record(Change::new("seed", "lab_booking", "history").after(serde_json::json!({"rows": n})));
    store.commit(w).await?;
    Ok(())
}

// ---------------------------------------------------------------- benchmarks

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    super::bench::percentile(sorted, p)
}

async fn bench(
    url: Option<String>,
    n: usize,
    per: usize,
    queries: usize,
    tasks: usize,
    attempts: usize,
) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("yuepin-labs-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    let store = Store::connect(&url).await.context("connecting")?;
    println!(
        "backend: {} · {n} instruments · {per} bookings each over a year",
        store.backend_name()
    );
    let cities: Vec<String> = yuepin_domain::reference::cities()
        .iter()
        .map(|c| c.name_zh.clone())
        .collect();
    let items: Vec<String> = (0..100).map(|i| format!("检测项目{i:03}")).collect();
    let t0 = Instant::now();
    let mut w = store.begin_write(Actor::cli("labs-bench")).await?;
    let mut lab_ids = Vec::new();
    for (c, city) in cities.iter().enumerate() {
        let lab = Lab {
            id: LabId(0),
            name: format!("{city}基准实验室"),
            cma: None,
            cnas: None,
            scope: vec![],
            areas: vec![ServiceArea::Testing],
            city: RegionCode::parse(city)?,
            contact: Contact {
                person: "x".into(),
                phone: "x".into(),
                email: None,
            },
            opening_hours: WeeklySchedule::always(),
        };
        let id = store
            .create_lab(
                &mut w,
                &LabCode::parse(&format!("B{c:03}")).map_err(|e| anyhow!("{e}"))?,
                &lab,
            )
            .await?;
        lab_ids.push((id, lab));
    }
    let year_start = NaiveDate::from_ymd_opt(2027, 1, 1)
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2023);
    let mut inst_ids = Vec::with_capacity(n);
    for k in 0..n {
        let (lab_id, lab) = &lab_ids[k % lab_ids.len()];
        let mut inst = demo_instrument(lab, k, 50)?;
        inst.test_methods = vec![TestMethod {
            item: TestItem::parse(&items[k % items.len()]).map_err(|e| anyhow!("{e}"))?,
            standards: vec![],
        }];
        inst.opening_hours = WeeklySchedule::every_day(&[
            DailyWindow::parse("08:00-12:00").map_err(|e| anyhow!("{e}"))?,
            DailyWindow::parse("13:00-21:00").map_err(|e| anyhow!("{e}"))?,
        ])
        .map_err(|e| anyhow!("{e}"))?;
        inst.operator_qualification = None;
        let id = store
            .save_instrument(&mut w, *lab_id, None, &inst, false)
            .await?;
        inst_ids.push(id);
        // A year of bookings: `per` non-overlapping 1–4 h bookings at random days/hours.
        let mut rows = Vec::with_capacity(per);
        let step = 365 * 1440 / per.max(1) as i64;
        for b in 0..per as i64 {
            let day_start = year_start.and_utc().timestamp() / 60 + b * step;
            let s = day_start - day_start.rem_euclid(1440) + 8 * 60 + 30 * rng.gen_range(0..8);
            let e = s + 60 * rng.gen_range(1..=4);
            if rows.last().is_some_and(|&(_, pe)| s < pe) {
                continue;
            }
            rows.push((s, e));
        }
        for chunk in rows.chunks(200) {
            let mut sql = String::from("INSERT INTO lab_bookings (instrument_id, enterprise_id, group_key, start_min, end_min, starts_at, ends_at, state, self_operated, price_fen, created_at, updated_at) VALUES ");
            for (i, (s, e)) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "({id}, NULL, 'bench', {s}, {e}, 'x', 'x', 'confirmed', 0, 0, 'x', 'x')"
                ));
            }
            sqlx::query(&sql).execute(&mut *w.tx).await?;
        }
    }
    w.record(Change::new("bench", "labs", "seed").after(serde_json::json!({"instruments": n})));
    store.commit(w).await?;
    if store.backend_name() == "postgres" {
        // What autovacuum would do shortly after a bulk load; measured plans need statistics.
        sqlx::query("ANALYZE").execute(store.pool()).await?;
    }
    println!("seeded in {:.1} s", t0.elapsed().as_secs_f64());

    // Availability search: random item, city (half the queries), 14-day window in the year.
    let mut times = Vec::with_capacity(queries);
    let mut hits = 0usize;
    for _ in 0..queries {
        let item =
            TestItem::parse(&items[rng.gen_range(0..items.len())]).map_err(|e| anyhow!("{e}"))?;
        let city = rng
            .gen_bool(0.5)
            .then(|| RegionCode::parse(&cities[rng.gen_range(0..cities.len())]))
            .transpose()?;
        let start = year_start + Duration::days(rng.gen_range(0..340));
        let q = SlotQuery {
            test_item: item,
            city,
            window: TimeRange::new(start, start + Duration::days(14))
                .map_err(|e| anyhow!("{e}"))?,
            duration_minutes: 120,
            granularity_minutes: 30,
            limit: 50,
        };
        let t = Instant::now();
        hits += store.search_slots(&q).await?.len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "availability search: {queries} queries, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} slots returned)",
        pct(&times, 0.5),
        pct(&times, 0.99),
        pct(&times, 1.0),
        hits
    );

    // Booking throughput: every task books random 1 h slots on one instrument / across many.
    for (label, many) in [
        ("one instrument (contention)", false),
        ("many instruments", true),
    ] {
        let t = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        let base = (china_now() + Duration::days(3))
            .date()
            .and_hms_opt(8, 0, 0)
            .unwrap_or_default();
        for task in 0..tasks {
            let store = store.clone();
            let ids = inst_ids.clone();
            let lab_ids: Vec<i64> = lab_ids.iter().map(|l| l.0).collect();
            set.spawn(async move {
                let mut rng = rand::rngs::StdRng::seed_from_u64(task as u64);
                let (mut ok, mut conflict, mut other) = (0usize, 0usize, 0usize);
                for _ in 0..attempts {
                    let idx = if many { rng.gen_range(0..ids.len()) } else { 0 };
                    let inst = ids[idx];
                    let lab = lab_ids[idx % lab_ids.len()];
                    let day = rng.gen_range(0..40);
                    let slot = rng.gen_range(0..8);
                    let start = base
                        + Duration::days(day)
                        + Duration::hours(if slot < 4 { slot } else { slot + 1 });
                    let Ok(range) = TimeRange::starting_at(start, 60) else {
                        continue;
                    };
                    let part = BookingPart {
                        instrument_id: inst,
                        range,
                        self_operated: false,
                        accessories: vec![],
                    };
                    match store
                        .book(
                            Actor::cli("bench"),
                            &Booker::Lab { lab_id: lab },
                            &[part],
                            china_now(),
                        )
                        .await
                    {
                        Ok(_) => ok += 1,
                        Err(yuepin_store::labs::LabsError::DoubleBooked)
                        | Err(yuepin_store::labs::LabsError::Rejected {
                            reason: yuepin_labs::BookingRejection::Conflict { .. },
                            ..
                        }) => conflict += 1,
                        Err(_) => other += 1,
                    }
                }
                (ok, conflict, other)
            });
        }
        let (mut ok, mut conflict, mut other) = (0, 0, 0);
        while let Some(r) = set.join_next().await {
            let (a, b, c) = r?;
            ok += a;
            conflict += b;
            other += c;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "booking, {label}: {tasks} tasks × {attempts} attempts in {secs:.2} s → {:.0} attempts/s, {ok} booked ({:.0}/s), {conflict} refused as taken, {other} other refusals/errors",
            (tasks * attempts) as f64 / secs,
            ok as f64 / secs
        );
    }
    if url.starts_with("sqlite://") {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
