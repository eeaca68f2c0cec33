//! Import throughput: a generated 1,000,000-row enterprise CSV (the demo generator's import
//! column set, five years of revenue, designations) parsed and validated on one core.

use std::io::Cursor;
use std::time::Instant;
use yuepin_domain::Enterprise;
use yuepin_import::{ImportOptions, Rows};

fn parse(label: &str, bytes: Vec<u8>, rows_expected: usize) {
    let size = bytes.len();
    let start = Instant::now();
    let rows = Rows::<Enterprise>::open(Cursor::new(bytes), ImportOptions::default()).unwrap();
    let mut ok = 0usize;
    let mut designations = 0usize;
    for row in rows {
        let e = row.unwrap_or_else(|e| panic!("{e}"));
        designations += e.designations.len();
        ok += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(ok, rows_expected);
    println!(
        "{label}: {ok} rows, {:.1} MiB, {designations} designations in {secs:.2} s = {:.0} rows/s, {:.0} MiB/s",
        size as f64 / 1048576.0,
        ok as f64 / secs,
        size as f64 / 1048576.0 / secs
    );
}

fn main() {
    let n = std::env::var("YUEPIN_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let start = Instant::now();
    let csv = yuepin_demo::write_enterprises_csv(Vec::new(), 42, n).unwrap();
    println!(
        "generated {n}-row CSV ({:.1} MiB) in {:.2} s",
        csv.len() as f64 / 1048576.0,
        start.elapsed().as_secs_f64()
    );
    let text = String::from_utf8_lossy(&csv[3..]).into_owned();
    let gbk = encoding_rs::GBK.encode(&text).0.into_owned();
    parse("UTF-8 CSV", csv, n);
    parse("GBK CSV (detected, decoded as GB18030)", gbk, n);
}
