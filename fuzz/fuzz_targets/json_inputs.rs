//! JSON that clients send: request facts of a policy check for every subject kind (then
//! matched against every measure) and a detector configuration; decoded or refused naming the
//! field, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use yuepin_policy::{Engine, Facts, ParamOverrides, PolicySet, SubjectKind};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(&PolicySet::builtin(), &ParamOverrides::default()).expect("built-in pack")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = yuepin_complaints::DetectorConfig::from_json(text);
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let day = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).expect("a day");
    for subject in [
        SubjectKind::Enterprise,
        SubjectKind::Merger,
        SubjectKind::Person,
        SubjectKind::Standard,
        SubjectKind::InstrumentPurchase,
    ] {
        if let Ok(facts) = Facts::from_json(subject, value.clone()) {
            if let Ok(row) = engine().row(&facts) {
                let _ = engine().match_all(subject, day, [row]);
            }
        }
    }
});
