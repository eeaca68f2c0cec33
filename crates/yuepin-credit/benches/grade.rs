//! Grading throughput of the pure model: `grade()` over 1,000,000 synthetic enterprises of
//! 0–40 dated facts each (the mix of a provincial registry: mostly inspections and
//! certifications, few penalties), one thread. Prints the rate. The store-backed benchmark
//! (reading the facts through the owning services) is not built yet.
//!
//! `cargo bench -p yuepin-credit --bench grade [-- N]`

use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use std::time::Instant;
use yuepin_credit::rating::{grade, Fact, Factor, Model};

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let model = Model::current();
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(74);
    let weights = [
        (Factor::InspectionPassed, 30),
        (Factor::Certification, 20),
        (Factor::Complaint, 20),
        (Factor::Award, 5),
        (Factor::Designation, 5),
        (Factor::StandardLed, 4),
        (Factor::LabReport, 6),
        (Factor::InspectionFailed, 5),
        (Factor::Penalty, 3),
        (Factor::PublishedWarning, 1),
        (Factor::SeriousPenalty, 1),
    ];
    let total: u32 = weights.iter().map(|w| w.1).sum();
    let mut facts = Vec::with_capacity(40);
    let (mut generated, mut scored) = (0usize, 0.0f64);
    let mut grades = [0usize; 4];
    let mut elapsed = std::time::Duration::ZERO;
    for e in 0..n {
        facts.clear();
        for k in 0..rng.gen_range(0..=40) {
            let mut pick = rng.gen_range(0..total);
            let factor = weights
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .map(|w| w.0)
                .unwrap_or(Factor::InspectionPassed);
            facts.push(Fact {
                factor,
                record: format!("event:{e}:{k}"),
                date: today - Duration::days(rng.gen_range(0..3650)),
            });
        }
        generated += facts.len();
        let t = Instant::now();
        let g = grade(&model, &facts, today);
        elapsed += t.elapsed();
        scored += g.score;
        grades[g.grade as usize] += 1;
    }
    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "graded {n} enterprises ({generated} facts) in {:.2} s: {rate:.0} enterprises/s; mean score {:.1}; A/B/C/D = {:?}",
        elapsed.as_secs_f64(),
        scored / n as f64,
        grades
    );
}
