//! Generator throughput: the streaming enterprise generator at 1M and 2M enterprises, and the
//! full `generate` (enterprises + products + events) at 100k.

use std::time::Instant;

fn main() {
    for n in [1_000_000usize, 2_000_000] {
        let start = Instant::now();
        let mut designations = 0usize;
        for e in yuepin_demo::enterprises(42, n) {
            designations += e.designations.len();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "enterprises({n}): {secs:.2} s = {:.0} enterprises/s ({designations} designations)",
            n as f64 / secs
        );
    }
    let start = Instant::now();
    let data = yuepin_demo::generate(42, 100_000);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "generate(100000): {} enterprises, {} products, {} events in {secs:.2} s",
        data.enterprises.len(),
        data.products.len(),
        data.events.len()
    );
    let start = Instant::now();
    let csv = yuepin_demo::write_enterprises_csv(Vec::new(), 42, 1_000_000).unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "write_enterprises_csv(1000000): {:.1} MiB in {secs:.2} s = {:.0} rows/s",
        csv.len() as f64 / 1048576.0,
        1e6 / secs
    );
}
