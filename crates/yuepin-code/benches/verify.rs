//! Benchmark: offline verification of 20,000 codes on one core, with a status list.
//! Target ≥ 20,000 codes/s per core. Run with `cargo bench -p yuepin-code --bench verify`.

use chrono::{DateTime, NaiveDate, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::time::Instant;
use yuepin_code::*;
use yuepin_domain::Gtin;

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let key = PrivateKey::generate(Kid::parse("k1").unwrap(), &mut rng);
    let keys = KeySet::new(
        "bench",
        1,
        vec![key.public(
            KeyStatus::Active,
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )],
    )
    .unwrap();
    let spec = BatchSpec {
        resolver: Resolver::parse("qr-resolver.quality-code.gdamr.gov.cn.cn").unwrap(),
        subject: Subject::Gtin(Gtin::parse("6901234567892").unwrap()),
        lot: Some(Lot::parse("20261126GZ0012345678").unwrap()),
        issued_on: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
    };
    let mut allocator = IndexAllocator::new(0).unwrap();
    let count = 20_000;
    let codes: Vec<String> = (0..count)
        .map(|_| {
            issue_one(&spec, &key, &mut allocator, &mut rng)
                .unwrap()
                .uri
        })
        .collect();
    let now: DateTime<Utc> = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
    let list = StatusList::new(0, now, 3600).unwrap();
    // Baseline: one raw Ed25519 verification, single thread.
    let raw = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let message = [b'x'; 220];
    let signature = ed25519_dalek::Signer::sign(&raw, &message);
    let public = raw.verifying_key();
    let started = Instant::now();
    for _ in 0..20_000 {
        std::hint::black_box(
            public
                .verify_strict(std::hint::black_box(&message), &signature)
                .is_ok(),
        );
    }
    let per_verify = started.elapsed().as_secs_f64() / 20_000.0;
    println!(
        "raw ed25519 verify_strict: {:.1} µs each = {:.0}/s per core",
        per_verify * 1e6,
        1.0 / per_verify
    );
    for round in 1..=3 {
        let started = Instant::now();
        let valid = codes
            .iter()
            .filter(|uri| verify(uri, &keys, Some(&list), now) == Verdict::Valid)
            .count();
        let elapsed = started.elapsed();
        assert_eq!(valid, count);
        println!(
            "verify round {round}: {count} codes in {:.3} s = {:.0} codes/s on one core",
            elapsed.as_secs_f64(),
            count as f64 / elapsed.as_secs_f64()
        );
    }
}
