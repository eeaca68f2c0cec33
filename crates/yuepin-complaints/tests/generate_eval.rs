//! Generator determinism and detector evaluation on generated data with injected outbreaks.

use chrono::NaiveDate;
use yuepin_complaints::{
    detect_all, evaluate, generate, roll_up, Classifier, Cube, DetectParams, GeneratorParams,
    Method,
};

fn params() -> GeneratorParams {
    let start = NaiveDate::from_ymd_opt(2022, 1, 3).unwrap();
    GeneratorParams {
        random_outbreaks: 40,
        outbreaks_from_day: 3 * 364 + 26 * 7,
        ..GeneratorParams::new(start, 4 * 364, 400.0)
    }
}

#[test]
fn generator_is_deterministic_and_classifiable() {
    let a = generate(42, params());
    let b = generate(42, params());
    assert_eq!(a.outbreaks, b.outbreaks);
    let first_a: Vec<_> = a.complaints().take(200).collect();
    let first_b: Vec<_> = b.complaints().take(200).collect();
    assert_eq!(first_a, first_b);
    let classifier = Classifier::new();
    let mut filled = 0;
    for mut c in first_a.into_iter().filter(|c| c.category.is_none()) {
        let truth = generate(42, params())
            .complaints()
            .find(|x| x.id == c.id)
            .unwrap();
        assert!(truth.category.is_none());
        if classifier.fill_missing(&mut c) && c.division.is_some() {
            filled += 1;
        }
    }
    assert!(filled > 0);
}

#[test]
fn detectors_find_injected_outbreaks() {
    let data = generate(42, params());
    let prm = DetectParams {
        report_from_day: 364 * 3 + 26 * 7,
        ..DetectParams::classic()
    };
    let scores = evaluate(&data, &prm);
    for s in &scores {
        println!(
            "{:<20} outbreaks={} detected={} sensitivity={:.2} fpr={:.4} median_delay={:.1}d",
            s.method.as_str(),
            s.outbreaks,
            s.detected,
            s.sensitivity,
            s.false_positive_rate,
            s.median_days_to_detection
        );
    }
    let get = |m: Method| scores.iter().find(|s| s.method == m).unwrap();
    assert!(get(Method::EarsC3).sensitivity >= 0.8);
    assert!(get(Method::Farrington).sensitivity >= 0.7);
    assert!(get(Method::EarsC1).false_positive_rate < 0.05);

    // Roll-up on a smaller run (EARS only) to keep the debug-mode test quick.
    let small = generate(
        5,
        GeneratorParams {
            random_outbreaks: 5,
            outbreaks_from_day: 60,
            ..GeneratorParams::new(data.params.start, 180, 300.0)
        },
    );
    let mut cube = Cube::new(
        small.params.start,
        small.params.start + chrono::Duration::days(179),
    );
    small.coded().for_each(|c| cube.push_coded(c));
    let alarms = detect_all(
        &cube,
        &DetectParams {
            farrington: None,
            ..DetectParams::classic()
        },
    );
    let rolled = roll_up(&alarms);
    assert!(!rolled.is_empty());
    assert!(alarms.iter().any(|a| a.significant));
}
