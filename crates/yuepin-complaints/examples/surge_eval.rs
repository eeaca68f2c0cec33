//! Scores detector configurations on labelled sets from the project's generator and prints a
//! Markdown table (release: `cargo run --release -p yuepin-complaints --example surge_eval --
//! [--seeds 101,202,303] [--shapes spike,bell] [--classic] [--config FILE.json]`).
//!
//! Each set: 4.2 years daily, ~6 500 complaints a day (≈ 10 M), 40 outbreaks of 5–20 days at
//! ×2–×4 on city × division series in the last year. Prints, per seed, the new default (or the
//! configuration given) and with `--classic` the R-matching methods, then the detection time
//! per 651 city × division series. `yuepin complaints evaluate` runs the same harness
//! (`evaluate_sets`) from the platform's binary.

use std::time::Instant;
use yuepin_complaints::{
    evaluate_sets, evaluation_table, DetectParams, DetectorConfig, LabelledSetParams, Shape,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seeds: Vec<u64> = value("--seeds")
        .unwrap_or_else(|| "101,202,303".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let shapes: Vec<Shape> = value("--shapes")
        .unwrap_or_else(|| "spike,bell".into())
        .split(',')
        .filter_map(Shape::parse)
        .collect();
    let params = match value("--config") {
        Some(path) => {
            let text = std::fs::read_to_string(&path).expect("read config");
            DetectorConfig::from_json(&text)
                .expect("valid config")
                .to_params()
        }
        None => DetectParams::default(),
    };
    let classic = args.iter().any(|a| a == "--classic");
    let mut rows = Vec::new();
    let mut timings = Vec::new();
    let mut configs = vec![("default", params)];
    if classic {
        configs.push(("classic", DetectParams::classic()));
    }
    for &seed in &seeds {
        for (name, params) in &configs {
            let t = Instant::now();
            let set = [LabelledSetParams::standard(seed, shapes.clone())];
            rows.extend(evaluate_sets(set, params, |seed, n| {
                eprintln!("seed {seed}: {n} complaints");
            }));
            timings.push((*name, t.elapsed().as_secs_f64()));
        }
    }
    println!("{}", evaluation_table(&rows));
    for (name, secs) in timings {
        println!(
            "build set + detect + score, 651 series × 1 533 days, report year, {name}: {secs:.2} s"
        );
    }
}
