//! Benchmark (run with `cargo bench -p yuepin-policy`): proactive matching of 1,000,000
//! synthetic enterprises against every enterprise measure, explanations, single-check latency,
//! and the M16 merger rule over 1,000,000 synthetic mergers (the OpenFisca comparison workload).

use std::time::{Duration, Instant};
use yuepin_policy::*;

/// Deterministic xorshift so runs are comparable (no I/O, no clock-seeded randomness).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn fact(set: &PolicySet, subject: SubjectKind, name: &str) -> (model::FactId, Vec<String>) {
    let d = set.fact(subject, name).expect("fact");
    (d.id, d.domain.clone())
}

fn enterprises(set: &PolicySet, n: usize, rng: &mut Rng) -> Vec<FactRow> {
    let (des, des_domain) = fact(set, SubjectKind::Enterprise, "designations");
    let (div, div_domain) = fact(set, SubjectKind::Enterprise, "division");
    let (listing, listing_domain) = fact(set, SubjectKind::Enterprise, "listing");
    let (city, city_domain) = fact(set, SubjectKind::Enterprise, "city");
    let ints = [
        "employees",
        "international_standards_led",
        "failed_inspections_12m",
        "serious_penalties_12m",
    ]
    .map(|f| fact(set, SubjectKind::Enterprise, f).0);
    let (rev, _) = fact(set, SubjectKind::Enterprise, "revenue_china");
    (0..n)
        .map(|_| {
            let mut row = FactRow::empty(set, SubjectKind::Enterprise);
            let mut bits = 0u128;
            for _ in 0..rng.below(4) {
                bits |= 1 << rng.below(des_domain.len() as u64);
            }
            row.set(des, FactValue::Set(bits));
            row.set(
                div,
                FactValue::Code(rng.below(div_domain.len() as u64) as u16),
            );
            row.set(
                city,
                FactValue::Code(rng.below(city_domain.len() as u64) as u16),
            );
            row.set(
                listing,
                FactValue::Code(rng.below(listing_domain.len() as u64) as u16),
            );
            row.set(ints[0], FactValue::Int(rng.below(5000) as i64));
            row.set(ints[1], FactValue::Int(rng.below(3) as i64));
            row.set(ints[2], FactValue::Int((rng.below(10) / 8) as i64));
            row.set(ints[3], FactValue::Int((rng.below(20) / 19) as i64));
            row.set(
                rev,
                FactValue::Money((rng.below(50_000) as i64) * 1_000_000),
            );
            // foreign_invested is left missing on purpose: M23 comes out undetermined.
            row
        })
        .collect()
}

/// Parties' turnover in fen: 2–4 parties, 0–15亿 in China each, world 1–3× China.
fn merger_turnovers(rng: &mut Rng) -> (Vec<i64>, Vec<i64>) {
    let parties = 3;
    let china: Vec<i64> = (0..parties)
        .map(|_| rng.below(1_500_000) as i64 * 100_000)
        .collect();
    let world = china
        .iter()
        .map(|c| c + c * (rng.below(3) as i64))
        .collect();
    (china, world)
}

fn mergers(set: &PolicySet, n: usize, rng: &mut Rng) -> Vec<FactRow> {
    let (m, _) = fact(set, SubjectKind::Merger, "involves_manufacturing");
    let (c, _) = fact(set, SubjectKind::Merger, "parties_revenue_china");
    let (w, _) = fact(set, SubjectKind::Merger, "parties_revenue_world");
    (0..n)
        .map(|_| {
            let (china, world) = merger_turnovers(rng);
            let mut row = FactRow::empty(set, SubjectKind::Merger);
            row.set(m, FactValue::Bool(true));
            row.set(c, FactValue::MoneyList(china.into_boxed_slice()));
            row.set(w, FactValue::MoneyList(world.into_boxed_slice()));
            row
        })
        .collect()
}

fn per_sec(count: usize, d: Duration) -> f64 {
    count as f64 / d.as_secs_f64()
}

fn main() {
    let set = PolicySet::builtin();
    let engine = Engine::new(&set, &ParamOverrides::new()).expect("engine");
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).expect("date");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let n = 1_000_000;

    let t = Instant::now();
    let rows = enterprises(&set, n, &mut rng);
    println!("generated {n} enterprise rows in {:.2?}", t.elapsed());

    let t = Instant::now();
    let result = engine.match_all(SubjectKind::Enterprise, as_of, &rows);
    let took = t.elapsed();
    let evals = result.rows * result.measures.len();
    println!(
        "match_all: {} enterprises x {} measures = {evals} rule evaluations in {took:.2?} -> {:.2} M evaluations/s (1 core)",
        result.rows,
        result.measures.len(),
        per_sec(evals, took) / 1e6
    );
    for (col, key) in result
        .measures
        .iter()
        .enumerate()
        .filter(|(_, k)| k.ends_with("/M18") || k.ends_with("/M1") || k.ends_with("/M23"))
    {
        println!("  {key}: {:?}", result.counts(col));
    }

    // Outcomes with their reasons (failed / undetermined condition nodes) for every cell.
    let snap = engine.snapshot(as_of);
    let mut reasons = Vec::new();
    let (mut reason_count, t) = (0usize, Instant::now());
    for row in &rows {
        for &m in &result.measure_indices {
            std::hint::black_box(snap.outcome_with_reasons(m, row, &mut reasons));
            reason_count += reasons.len();
        }
    }
    let took = t.elapsed();
    println!(
        "outcome_with_reasons: {evals} evaluations with reasons ({reason_count} reason nodes) in {took:.2?} -> {:.2} M/s",
        per_sec(evals, took) / 1e6
    );

    // Full rendered explanations (labels, values, thresholds, clauses) for every cell of 20,000 rows.
    let sample = 20_000;
    let t = Instant::now();
    let mut bytes = 0usize;
    for row in &rows[..sample] {
        for &m in &result.measure_indices {
            let eval = snap.explain(m, row).expect("measure");
            bytes += eval.benefits.len();
        }
    }
    let took = t.elapsed();
    let explained = sample * result.measure_indices.len();
    println!(
        "explain: {explained} explained evaluations in {took:.2?} -> {:.2} M/s ({bytes})",
        per_sec(explained, took) / 1e6
    );

    // Single check as the web layer does it: JSON facts -> row -> snapshot -> explained result.
    let mut latencies = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let (china, world) = merger_turnovers(&mut rng);
        let facts = Facts::new(SubjectKind::Merger)
            .with("involves_manufacturing", true)
            .with(
                "parties_revenue_china",
                china
                    .iter()
                    .map(|f| format!("{}.{:02}", f / 100, f % 100))
                    .collect::<Vec<_>>(),
            )
            .with(
                "parties_revenue_world",
                world
                    .iter()
                    .map(|f| format!("{}.{:02}", f / 100, f % 100))
                    .collect::<Vec<_>>(),
            );
        let t = Instant::now();
        let eval = engine.evaluate("M16", &facts, as_of).expect("evaluate");
        let json = serde_json::to_string(&eval).expect("json");
        latencies.push(t.elapsed());
        std::hint::black_box(json);
    }
    latencies.sort();
    println!(
        "single check (M16, JSON facts in, JSON out): p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
        latencies[latencies.len() - 1]
    );

    // OpenFisca comparison workload: the M16 rule over 1,000,000 mergers of 3 parties.
    drop(rows);
    let t = Instant::now();
    let merger_rows = mergers(&set, n, &mut rng);
    println!(
        "generated {n} merger rows (building FactRows) in {:.2?}",
        t.elapsed()
    );
    let t = Instant::now();
    let result = engine.match_all(SubjectKind::Merger, as_of, &merger_rows);
    let took = t.elapsed();
    println!(
        "M16 over {} mergers (3 parties each): {took:.2?} -> {:.2} M mergers/s; {:?}",
        result.rows,
        per_sec(result.rows, took) / 1e6,
        result.counts(0)
    );
}
