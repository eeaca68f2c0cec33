//! Benchmark: availability search over 10,000 instruments with a year of bookings (p50/p99 per
//! search, single item and combined pairs), and booking-conflict check throughput under
//! contention on one instrument and spread across many. Run: `cargo bench -p yuepin-labs`.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};
use yuepin_domain::{RegionCode, Yuan};
use yuepin_labs::*;

const INSTRUMENTS: u64 = 10_000;
const TEST_ITEMS: u64 = 50;
const QUERIES: usize = 2_000;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const CITIES: [&str; 21] = [
    "440100", "440200", "440300", "440400", "440500", "440600", "440700", "440800", "440900",
    "441200", "441300", "441400", "441500", "441600", "441700", "441800", "441900", "442000",
    "445100", "445200", "445300",
];

fn item(i: u64) -> TestItem {
    TestItem::parse(&format!("检测项目{i:02}")).expect("valid item")
}

fn instruments(rng: &mut Rng) -> Vec<Instrument> {
    let office = WeeklySchedule::weekdays(&[
        DailyWindow::parse("08:30-12:00").expect("window"),
        DailyWindow::parse("13:30-21:00").expect("window"),
    ])
    .expect("schedule");
    (0..INSTRUMENTS)
        .map(|id| Instrument {
            id: InstrumentId(id),
            lab: LabId(id / 10),
            name: format!("仪器{id}"),
            model: "M".into(),
            maker: "K".into(),
            purchase_price: Yuan::from_yuan(1_000_000),
            purchased_on: NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
            location: "L".into(),
            city: RegionCode::parse(CITIES[(id % 21) as usize]).expect("city"),
            capabilities: vec![],
            test_methods: (0..2)
                .map(|k| TestMethod {
                    item: item((id + k * 17) % TEST_ITEMS),
                    standards: vec![],
                })
                .collect(),
            tariff: Tariff::flat(Yuan::from_yuan(300)),
            accessories: vec![],
            operator_qualification: None,
            opening_hours: if rng.below(5) == 0 {
                WeeklySchedule::always()
            } else {
                office.clone()
            },
        })
        .collect()
}

fn year_of_bookings(rng: &mut Rng) -> Vec<(InstrumentId, TimeRange)> {
    let jan1 = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let mut out = Vec::new();
    for id in 0..INSTRUMENTS {
        for day in 0..365 {
            let date = jan1 + Duration::days(day);
            // Morning, afternoon and evening blocks, each booked with probability 1/2.
            for (start_h, max_h) in [(9, 3), (14, 3), (18, 3)] {
                if rng.below(2) == 0 {
                    let start = date.and_hms_opt(start_h, 0, 0).expect("time");
                    let hours = 1 + rng.below(max_h) as i64;
                    let r = TimeRange::starting_at(start, hours * 60).expect("range");
                    out.push((InstrumentId(id), r));
                }
            }
        }
    }
    out
}

fn percentile(sorted: &[StdDuration], p: f64) -> StdDuration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn report(name: &str, mut times: Vec<StdDuration>) {
    times.sort();
    println!(
        "{name:<44} n={:<6} p50={:>9.3?} p99={:>9.3?} max={:>9.3?}",
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
}

fn random_window(rng: &mut Rng, days: i64) -> TimeRange {
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
        + Duration::days(rng.below(365 - days as u64) as i64);
    let start: NaiveDateTime = start.and_hms_opt(0, 0, 0).expect("time");
    TimeRange::starting_at(start, days * 24 * 60).expect("window")
}

fn main() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let insts = instruments(&mut rng);
    let bookings = year_of_bookings(&mut rng);
    let n_bookings = bookings.len();
    let t = Instant::now();
    let (index, rejected) = AvailabilityIndex::with_bookings(&insts, bookings);
    println!(
        "index build: {} instruments, {} bookings ({} rejected) in {:.2?}",
        index.len(),
        n_bookings,
        rejected.len(),
        t.elapsed()
    );

    for (label, days, with_city) in [
        ("search 14-day window, city filter", 14, true),
        ("search 14-day window, whole province", 14, false),
        ("search 60-day window, whole province", 60, false),
    ] {
        let mut times = Vec::with_capacity(QUERIES);
        for _ in 0..QUERIES {
            let q = SlotQuery {
                test_item: item(rng.below(TEST_ITEMS)),
                city: with_city
                    .then(|| RegionCode::parse(CITIES[rng.below(21) as usize]).expect("city")),
                window: random_window(&mut rng, days),
                duration_minutes: 60 * (1 + rng.below(4) as u32),
                granularity_minutes: 30,
                limit: 20,
            };
            let t = Instant::now();
            black_box(index.search(black_box(&q)));
            times.push(t.elapsed());
        }
        report(label, times);
    }

    let mut times = Vec::with_capacity(QUERIES);
    for _ in 0..QUERIES {
        let a = rng.below(TEST_ITEMS);
        let items = [
            item(a),
            item((a + 1 + rng.below(TEST_ITEMS - 1)) % TEST_ITEMS),
        ];
        let window = random_window(&mut rng, 14);
        let t = Instant::now();
        black_box(index.search_combined(&items, None, &window, 120, 30, 10));
        times.push(t.elapsed());
    }
    report("combined pair, 14-day window, province", times);

    // Conflict checks: contention on one instrument (most attempts collide).
    let mut one = AvailabilityIndex::new(&insts[..1]);
    let attempts = 200_000;
    let (mut ok, t) = (0u32, Instant::now());
    for _ in 0..attempts {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1)
            .expect("date")
            .and_hms_opt(0, 0, 0)
            .expect("t")
            + Duration::minutes(30 * rng.below(365 * 48) as i64);
        let r = TimeRange::starting_at(start, 30 * (1 + rng.below(8) as i64)).expect("range");
        ok += u32::from(one.try_book(InstrumentId(0), &r).is_ok());
    }
    let el = t.elapsed();
    println!(
        "try_book, one instrument: {attempts} attempts, {ok} accepted, {:.0} ops/s ({:.0} ns/op)",
        attempts as f64 / el.as_secs_f64(),
        el.as_nanos() as f64 / attempts as f64
    );

    // Across many: the full index (≈5.5 M bookings), random instruments.
    let mut many = index;
    let (mut ok, t) = (0u32, Instant::now());
    for _ in 0..attempts {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1)
            .expect("date")
            .and_hms_opt(0, 0, 0)
            .expect("t")
            + Duration::minutes(30 * rng.below(365 * 48) as i64);
        let r = TimeRange::starting_at(start, 30 * (1 + rng.below(8) as i64)).expect("range");
        ok += u32::from(
            many.try_book(InstrumentId(rng.below(INSTRUMENTS)), &r)
                .is_ok(),
        );
    }
    let el = t.elapsed();
    println!(
        "try_book, 10k instruments: {attempts} attempts, {ok} accepted, {:.0} ops/s ({:.0} ns/op)",
        attempts as f64 / el.as_secs_f64(),
        el.as_nanos() as f64 / attempts as f64
    );
    let (mut conflicts, t) = (0u32, Instant::now());
    for _ in 0..attempts {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1)
            .expect("date")
            .and_hms_opt(0, 0, 0)
            .expect("t")
            + Duration::minutes(30 * rng.below(365 * 48) as i64);
        let r = TimeRange::starting_at(start, 60).expect("range");
        if let Ok(Some(_)) = many.conflict(InstrumentId(rng.below(INSTRUMENTS)), &r) {
            conflicts += 1;
        }
    }
    let el = t.elapsed();
    println!(
        "conflict query (read-only), 10k instruments: {attempts} checks, {conflicts} conflicts, {:.0} ns/op",
        el.as_nanos() as f64 / attempts as f64
    );
}
