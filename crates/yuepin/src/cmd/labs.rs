//! `yuepin labs …`: status, the periodic sweep (no-shows, lapsed waitlist holds), binding a lab
//! account to a lab, and the benchmarks (availability search over many instruments with a year
//! of bookings; booking throughput under contention). `seed_demo` adds labs, instruments,
//! services, bookings, orders and an issued report to the demo data.

use anyhow::{anyhow, Context, Result};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use clap::Subcommand;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use yuepin_domain::{Caller, RegionCode, StandardCode, Yuan};
use yuepin_labs::{
    Accessory, BookingState, Contact, DailyWindow, Instrument, InstrumentId, Lab, LabCode, LabId,
    Qualification, Service, ServiceArea, ServiceId, ServiceMode, SlotQuery, Tariff, TestItem,
    TestMethod, TimeRange, WeeklySchedule,
};
use yuepin_labs_service::{
    Booker, BookingPart, HistoryBooking, LabSeed, LabsError, LabsService, OrderAction, TestResults,
};
use yuepin_store::Store;

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
            let labs = LabsService::new(db.resolve()?.connect().await?);
            for (t, n) in labs.table_counts(&Caller::cli("labs-status")).await? {
                println!("{t}: {n}");
            }
            println!("backend: {}", labs.store().backend_name());
            Ok(())
        }
        Command::Sweep { db } => {
            let labs = LabsService::new(db.resolve()?.connect().await?);
            let s = labs.sweep(&Caller::cli("labs-sweep")).await?;
            println!("{}", serde_json::to_string(&s)?);
            Ok(())
        }
        Command::BindStaff { db, username, lab } => {
            let labs = LabsService::new(db.resolve()?.connect().await?);
            let caller = Caller::cli("labs");
            if labs.account(&caller, &username).await?.is_none() {
                return Err(anyhow!("no user {username}"));
            }
            let code = LabCode::parse(&lab).map_err(|_| anyhow!("no lab with code {lab}"))?;
            let lab = match labs.lab_by_code(&caller, &code).await {
                Err(LabsError::NotFound { .. }) => return Err(anyhow!("no lab with code {lab}")),
                other => other?,
            };
            labs.bind_staff(&caller, lab.id, &username).await?;
            println!("{username} → {} ({})", lab.lab.name, lab.code.as_str());
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

/// The demo labs: one per city, ten instruments and four services each.
fn demo_catalogue() -> Result<Vec<LabSeed>> {
    let mut seeds = Vec::new();
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
        let mut instruments = Vec::new();
        for k in 0..10 {
            let inst = demo_instrument(&lab, k + n, 20 + ((k * 37 + n * 11) % 180) as i64)?;
            instruments.push((inst, k % 5 == 4));
        }
        let mut services = Vec::new();
        for (k, (item, std, _)) in ITEMS.iter().enumerate().skip(n).take(4) {
            let area = [
                ServiceArea::Testing,
                ServiceArea::Metrology,
                ServiceArea::Standards,
                ServiceArea::Certification,
                ServiceArea::Reliability,
            ][(k + n) % 5];
            services.push(Service {
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
            });
        }
        seeds.push(LabSeed {
            code: LabCode::parse(code).map_err(|e| anyhow!("{e}"))?,
            lab,
            instruments,
            services,
        });
    }
    Ok(seeds)
}

/// Adds this module's demo data to a freshly seeded demo store.
pub async fn seed_demo(store: &Store, _data_dir: &std::path::Path) -> Result<()> {
    let labs = LabsService::new(store.clone());
    let caller = Caller::cli("demo-labs");
    let lab_ids: Vec<i64> = labs
        .import_catalogue(&caller, &demo_catalogue()?)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    let lab_user = labs.account(&caller, "lab").await?;
    if lab_user.is_some() {
        labs.bind_staff(&caller, lab_ids[0], "lab").await?;
    }

    let Some(ent_user) = labs.account(&caller, "enterprise").await? else {
        return Ok(());
    };
    let Some(eid) = ent_user.enterprise_id else {
        return Ok(());
    };
    let booker = Booker::Enterprise { id: eid };
    let now = yuepin_labs_service::now();
    let instruments = labs.instruments_of_lab(&caller, lab_ids[0]).await?;
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
                labs.book_as(&caller, &booker, &[part])
                    .await
                    .map_err(|e| anyhow!("demo booking: {e}"))?;
            }
            made += 1;
        }
        day += Duration::days(1);
    }
    // Past usage for the utilisation dashboard (completed, loaded as history).
    seed_history(&labs, &caller, &lab_ids, eid, now).await?;
    // Orders: one at each stage, one with an issued report.
    let services = labs.services(&caller, Some(lab_ids[0])).await?;
    let lab_user = lab_user.map(|u| u.id).unwrap_or(0);
    let verifier = lab_user + 1_000_000; // a verifier id distinct from the tester (audit names the actor)
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
        let o = labs
            .create_order_for(&caller, eid, svc.id, 3, "演示委托")
            .await?;
        for a in list.iter() {
            let person = if matches!(a, OrderAction::Verify | OrderAction::IssueReport) {
                verifier
            } else {
                lab_user
            };
            labs.order_action_by(&caller, o.id, person, a.clone())
                .await
                .map_err(|e| anyhow!("demo order {}: {e}", a.name()))?;
        }
    }
    Ok(())
}

/// Completed bookings over the past months (history, not new requests).
async fn seed_history(
    labs: &LabsService,
    caller: &Caller,
    lab_ids: &[i64],
    eid: i64,
    now: NaiveDateTime,
) -> Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(74);
    let mut rows = Vec::new();
    for lab in lab_ids {
        for inst in labs.instruments_of_lab(caller, *lab).await? {
            let mut t = (now - Duration::days(120))
                .date()
                .and_hms_opt(9, 0, 0)
                .unwrap_or(now);
            while t < now - Duration::days(1) {
                let hours = rng.gen_range(1..=4);
                let outside = rng.gen_bool(0.7);
                rows.push(HistoryBooking {
                    instrument_id: inst.id,
                    enterprise_id: outside.then_some(eid),
                    range: TimeRange::starting_at(t, hours * 60).map_err(|e| anyhow!("{e}"))?,
                    state: BookingState::Completed,
                    price: Yuan::from_fen(inst.instrument.tariff.peak_hourly.fen() * hours),
                });
                t += Duration::days(rng.gen_range(1..=4));
            }
        }
    }
    labs.import_history(caller, "history", &rows).await?;
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
    let labs = LabsService::new(store.clone());
    let caller = Caller::cli("labs-bench");
    let cities: Vec<String> = yuepin_domain::reference::cities()
        .iter()
        .map(|c| c.name_zh.clone())
        .collect();
    let items: Vec<String> = (0..100).map(|i| format!("检测项目{i:03}")).collect();
    let t0 = Instant::now();
    let mut seeds = Vec::new();
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
        seeds.push(LabSeed {
            code: LabCode::parse(&format!("B{c:03}")).map_err(|e| anyhow!("{e}"))?,
            lab,
            instruments: Vec::new(),
            services: Vec::new(),
        });
    }
    let n_labs = seeds.len();
    // Instrument k belongs to lab k mod n_labs (the booking benchmark relies on it).
    for k in 0..n {
        let seed = &mut seeds[k % n_labs];
        let mut inst = demo_instrument(&seed.lab, k, 50)?;
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
        seed.instruments.push((inst, false));
    }
    let imported = labs.import_catalogue(&caller, &seeds).await?;
    let lab_ids: Vec<i64> = imported.iter().map(|l| l.id).collect();
    let inst_ids: Vec<i64> = (0..n)
        .map(|k| imported[k % n_labs].instruments[k / n_labs])
        .collect();
    let year_start = NaiveDate::from_ymd_opt(2027, 1, 1)
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2023);
    // A year of bookings per instrument: `per` non-overlapping 1–4 h bookings at random
    // days/hours, loaded in batches.
    let mut rows: Vec<HistoryBooking> = Vec::new();
    for &id in &inst_ids {
        let step = 365 * 1440 / per.max(1) as i64;
        let mut last_end = i64::MIN;
        for b in 0..per as i64 {
            let day_start = year_start.and_utc().timestamp() / 60 + b * step;
            let s = day_start - day_start.rem_euclid(1440) + 8 * 60 + 30 * rng.gen_range(0..8);
            let e = s + 60 * rng.gen_range(1..=4);
            if s < last_end {
                continue;
            }
            last_end = e;
            rows.push(HistoryBooking {
                instrument_id: id,
                enterprise_id: None,
                range: TimeRange::from_minutes(s, e).ok_or_else(|| anyhow!("time range"))?,
                state: BookingState::Confirmed,
                price: Yuan::ZERO,
            });
        }
        if rows.len() >= 100_000 {
            labs.import_history(&caller, "bench", &rows).await?;
            rows.clear();
        }
    }
    if !rows.is_empty() {
        labs.import_history(&caller, "bench", &rows).await?;
    }
    labs.refresh_statistics(&caller).await?;
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
        hits += labs.search_slots(&caller, &q).await?.len();
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
        let base = (yuepin_labs_service::now() + Duration::days(3))
            .date()
            .and_hms_opt(8, 0, 0)
            .unwrap_or_default();
        for task in 0..tasks {
            let labs = labs.clone();
            let ids = inst_ids.clone();
            let lab_ids = lab_ids.clone();
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
                    match labs
                        .book_as(&Caller::cli("bench"), &Booker::Lab { lab_id: lab }, &[part])
                        .await
                    {
                        Ok(_) => ok += 1,
                        Err(LabsError::DoubleBooked)
                        | Err(LabsError::Rejected {
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
