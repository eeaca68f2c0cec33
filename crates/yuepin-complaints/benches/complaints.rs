//! Benchmarks (release, `cargo bench -p yuepin-complaints`): 10 M generated complaints over 4
//! years → cube → all alarms (21 cities × 31 divisions; the default pooled ratio scan, and the
//! classic daily EARS C1–C3 + CUSUM, weekly Farrington-flexible); in-memory aggregation
//! throughput; CSV parse throughput. Also writes the CSV used by `bench-peers/duckdb_agg.py` to /tmp for the DuckDB comparison.

use chrono::{Duration, NaiveDate};
use std::time::Instant;
use yuepin_complaints::{
    detect_all, generate, ComplaintParser, Cube, DetectParams, Dim, Format, GeneratorParams, Level,
    TimeGrain,
};

const CSV_PATH: &str = "/tmp/yuepin-complaints-bench.csv";

fn main() {
    let start = NaiveDate::from_ymd_opt(2022, 1, 3).expect("date");
    let days = 4 * 364 + 1;
    // mean_daily chosen so that ~10 M complaints are drawn over 4 years.
    let data = generate(
        2026,
        GeneratorParams {
            random_outbreaks: 200,
            ..GeneratorParams::new(start, days, 7_100.0)
        },
    );

    let t = Instant::now();
    let mut cube = Cube::new(start, start + Duration::days(days as i64 - 1));
    data.coded().for_each(|c| cube.push_coded(c));
    let gen_s = t.elapsed().as_secs_f64();
    println!("generate+load: {} complaints in {gen_s:.2} s", cube.len());

    let t = Instant::now();
    let a = cube.counts(TimeGrain::Day, &[Dim::City, Dim::Division]);
    let s1 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let b = cube.counts(TimeGrain::Month, &[Dim::City, Dim::Category, Dim::Problem]);
    let s2 = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let m = cube.daily_matrix(21 * 31, |c, i| {
        Some(c.city_of(i) as usize * 31 + c.division_of(i) as usize)
    });
    let s3 = t.elapsed().as_secs_f64();
    let n = cube.len() as f64;
    println!(
        "group-by day×city×division: {} cells, {s1:.3} s, {:.1} M rows/s",
        a.len(),
        n / s1 / 1e6
    );
    println!(
        "group-by month×city×category×problem: {} cells, {s2:.3} s, {:.1} M rows/s",
        b.len(),
        n / s2 / 1e6
    );
    println!(
        "dense daily matrix city×division: {} series, {s3:.3} s, {:.1} M rows/s",
        m.len(),
        n / s3 / 1e6
    );

    let t = Instant::now();
    let prm = DetectParams {
        levels: vec![Level::CityDivision],
        ..DetectParams::default()
    };
    let alarms = detect_all(&cube, &prm);
    let det_s = t.elapsed().as_secs_f64();
    println!(
        "detect_all default (city×division, pooled ratio scan, all days): {det_s:.2} s, {} alarms ({} BH-significant)",
        alarms.len(),
        alarms.iter().filter(|a| a.significant).count()
    );
    let t = Instant::now();
    let classic = detect_all(
        &cube,
        &DetectParams {
            levels: vec![Level::CityDivision],
            ..DetectParams::classic()
        },
    );
    println!(
        "detect_all classic (city×division, EARS C1–C3 + CUSUM daily, Farrington b=3 weekly): {:.2} s, {} alarms ({} BH-significant)",
        t.elapsed().as_secs_f64(),
        classic.len(),
        classic.iter().filter(|a| a.significant).count()
    );
    println!("TOTAL aggregate+detect: {:.2} s", s3 + det_s);

    // CSV: 1 M rows with texts, written once, then parsed.
    let rows = 1_000_000usize;
    let t = Instant::now();
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows * 200));
    w.write_record([
        "id",
        "received_at",
        "channel",
        "kind",
        "region",
        "category",
        "division",
        "problem",
        "amount",
        "text",
    ])
    .expect("write");
    for c in data.complaints().take(rows) {
        w.write_record([
            c.id.as_str(),
            &c.received_at.to_string(),
            c.channel.as_str(),
            c.kind.as_str(),
            c.region.as_str(),
            &c.category.map(|c| c.info().key.clone()).unwrap_or_default(),
            &c.division.map(|d| d.code().to_string()).unwrap_or_default(),
            c.problem.as_str(),
            &c.amount.map(|a| a.to_string()).unwrap_or_default(),
            &c.text,
        ])
        .expect("write");
    }
    let bytes = w.into_inner().expect("flush");
    println!(
        "csv written: {rows} rows, {:.0} MB in {:.2} s",
        bytes.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    if let Err(e) = std::fs::write(CSV_PATH, &bytes) {
        println!("could not write {CSV_PATH}: {e}");
    }

    let t = Instant::now();
    let mut ok = 0usize;
    for r in ComplaintParser::new(Format::Csv)
        .parse(&bytes[..])
        .expect("header")
    {
        ok += usize::from(r.is_ok());
    }
    let ps = t.elapsed().as_secs_f64();
    println!(
        "csv parse: {ok} rows in {ps:.2} s = {:.0} rows/s ({:.0} MB/s)",
        ok as f64 / ps,
        bytes.len() as f64 / ps / 1e6
    );

    // Same aggregation DuckDB runs: parse CSV + count by month × region × division.
    let t = Instant::now();
    let mut cube2 = Cube::new(start, start + Duration::days(days as i64 - 1));
    for c in ComplaintParser::new(Format::Csv)
        .parse(&bytes[..])
        .expect("header")
        .flatten()
    {
        let _ = cube2.push(&c);
    }
    let cells = cube2.counts(TimeGrain::Month, &[Dim::City, Dim::Division]);
    let agg_s = t.elapsed().as_secs_f64();
    println!(
        "parse+aggregate month×city×division from CSV: {} cells in {agg_s:.2} s",
        cells.len()
    );
    let t = Instant::now();
    let cells = cube2.counts(TimeGrain::Month, &[Dim::City, Dim::Division]);
    println!(
        "aggregate only (already in cube): {} cells in {:.4} s",
        cells.len(),
        t.elapsed().as_secs_f64()
    );
}
