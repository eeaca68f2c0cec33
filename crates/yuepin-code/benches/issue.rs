//! Benchmark: issue 100,000 signed codes (40-char resolver, GTIN, 20-char lot) into an in-memory CSV.
//! Target ≥ 100,000 codes/s. Run with `cargo bench -p yuepin-code --bench issue`.

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::time::Instant;
use yuepin_code::*;
use yuepin_domain::Gtin;

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let key = PrivateKey::generate(Kid::parse("k1").unwrap(), &mut rng);
    let spec = BatchSpec {
        resolver: Resolver::parse("qr-resolver.quality-code.gdamr.gov.cn.cn").unwrap(),
        subject: Subject::Gtin(Gtin::parse("6901234567892").unwrap()),
        lot: Some(Lot::parse("20261126GZ0012345678").unwrap()),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
    };
    let count = 100_000;
    // Baseline: one raw Ed25519 signature over a URI-sized message, single thread.
    let raw = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let message = [b'x'; 220];
    let started = Instant::now();
    for _ in 0..20_000 {
        std::hint::black_box(ed25519_dalek::Signer::sign(
            &raw,
            std::hint::black_box(&message),
        ));
    }
    let per_sign = started.elapsed().as_secs_f64() / 20_000.0;
    println!(
        "raw ed25519 sign: {:.1} µs each = {:.0}/s per core",
        per_sign * 1e6,
        1.0 / per_sign
    );
    for round in 1..=3 {
        let mut allocator = IndexAllocator::new(round).unwrap();
        let mut out = Vec::with_capacity(count * 260);
        let started = Instant::now();
        issue_batch(&spec, &key, count, &mut allocator, &mut rng, &mut out).unwrap();
        let elapsed = started.elapsed();
        println!(
            "issue round {round}: {count} codes in {:.3} s = {:.0} codes/s ({} threads, {} CSV bytes)",
            elapsed.as_secs_f64(),
            count as f64 / elapsed.as_secs_f64(),
            rayon::current_num_threads(),
            out.len()
        );
    }
}
