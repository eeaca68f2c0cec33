//! The evaluation harness: exact scoring rules on hand-made alarms, and a small labelled set on
//! which the default detector finds most outbreaks with few false alarms while classic EARS C2
//! (the old default's noisiest method) raises many more.

use std::collections::HashSet;
use yuepin_complaints::{
    score_alarms, score_config, DetectParams, EarsMethod, EarsParams, LabelledSet,
    LabelledSetParams, Shape, SurgeOutbreak,
};

fn small(seed: u64) -> LabelledSetParams {
    LabelledSetParams {
        days: 300,
        mean_daily: 3000.0,
        outbreaks: 12,
        scored_days: 120,
        ..LabelledSetParams::standard(seed, vec![Shape::Flat, Shape::Bell])
    }
}

#[test]
fn scoring_rules_window_delay_and_false_alarms() {
    let mut set = LabelledSet::new(LabelledSetParams {
        outbreaks: 0,
        ..small(1)
    });
    let ob = |start, end, city| SurgeOutbreak {
        start,
        end,
        city,
        division: 3,
        peak: 3.0,
        shape: Shape::Flat,
    };
    set.outbreaks = vec![ob(200, 209, 0), ob(250, 254, 1), ob(260, 264, 2)];
    let alarms: HashSet<(u8, u8, usize)> = [
        (0, 3, 199), // before the start: a false alarm
        (0, 3, 202), // found, delay 2
        (0, 3, 205), // later alarm of the same outbreak: neither
        (1, 3, 260), // end + 6 = 260: found, delay 10
        (2, 3, 271), // end + 7: too late, a false alarm; outbreak 3 missed
        (5, 7, 100), // before the scored days (from 180): ignored
    ]
    .into_iter()
    .collect();
    let s = score_alarms("x", &set, &alarms);
    assert_eq!((s.outbreaks, s.detected), (3, 2));
    assert!((s.sensitivity - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(s.median_delay, 6.0);
    assert_eq!(s.false_alarms, 2);
    assert!((s.false_alarms_per_1000 - 2000.0 / (21.0 * 31.0 * 120.0)).abs() < 1e-12);
}

#[test]
fn default_detector_on_a_small_labelled_set() {
    let set = LabelledSet::new(small(7));
    assert_eq!(set.outbreaks.len(), 12);
    assert!(set.outbreaks.iter().all(|o| o.start >= 180 && o.end < 300));
    let cube = set.cube();
    let scores = score_config(&set, &cube, &DetectParams::default());
    let names: Vec<&str> = scores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["pooled_scan", "pooled_scan+bh"]);
    let pooled = &scores[0];
    assert!(pooled.sensitivity >= 0.6, "{pooled:?}");
    assert!(pooled.false_alarms_per_1000 <= 2.0, "{pooled:?}");
    assert!(pooled.median_delay <= 3.0, "{pooled:?}");
    let c2 = DetectParams {
        ears: vec![EarsParams {
            min_sigma: 0.5,
            ..EarsParams::new(EarsMethod::C2)
        }],
        pooled: None,
        ..DetectParams::classic()
    };
    let old = score_config(
        &set,
        &cube,
        &DetectParams {
            farrington: None,
            cusum: None,
            ..c2
        },
    );
    assert_eq!(old[0].name, "ears_c2");
    assert!(
        old[0].false_alarms_per_1000 > 5.0 * pooled.false_alarms_per_1000.max(0.1),
        "{old:?} vs {pooled:?}"
    );
}
