//! Property tests: evaluation never panics on arbitrary facts and dates; threshold rules are
//! monotone; Undetermined happens exactly when a needed fact is missing, and a determined
//! outcome never changes when the missing facts are filled in.

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;
use yuepin_policy::*;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::new(&PolicySet::builtin(), &ParamOverrides::new()).unwrap())
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("20亿元"),
            Just("4亿"),
            Just("39"),
            Just("little_giant"),
            Just("2024-01-01"),
            Just("international"),
            Just("lead"),
            Just("92233720368547758.07"),
            Just("-1")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(Value::from)
    })
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0i64..4000)
        .prop_map(|d| NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + chrono::Days::new(d as u64))
}

const DESIGNATIONS: [&str; 10] = [
    "little_giant",
    "performance_excellence",
    "national_single_champion",
    "guangdong_quality_award",
    "above_scale",
    "chain_leader",
    "china_quality_award",
    "ip_whitelist",
    "provincial_srdi_sme",
    "high_tech",
];

/// Enterprise facts where each fact is independently present or missing.
fn enterprise() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop::collection::vec(
            prop::sample::select(&DESIGNATIONS[..]),
            0..4,
        )),
        prop::option::of(10u8..50),
        prop::option::of(0i64..3),
        prop::option::of(0i64..3),
        prop::option::of(0i64..3),
        prop::option::of(prop::sample::select(vec![
            "unlisted",
            "star",
            "neeq",
            "main_board",
        ])),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(ds, div, failed, penalties, standards, listing, foreign)| {
                let mut m = serde_json::Map::new();
                let mut put = |k: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        m.insert(k.into(), v);
                    }
                };
                put("designations", ds.map(Value::from));
                put("division", div.map(|d| Value::from(format!("{d:02}"))));
                put("failed_inspections_12m", failed.map(Value::from));
                put("serious_penalties_12m", penalties.map(Value::from));
                put("international_standards_led", standards.map(Value::from));
                put("listing", listing.map(Value::from));
                put("foreign_invested", foreign.map(Value::from));
                Value::Object(m)
            },
        )
}

fn yi(fen_yi_tenths: &[i64]) -> Value {
    Value::from(
        fen_yi_tenths
            .iter()
            .map(|t| Value::from((t * 10_000_000).to_string()))
            .collect::<Vec<_>>(),
    )
}

/// Merger facts: turnovers in tenths of 亿 so thresholds are hit exactly often.
fn merger() -> impl Strategy<Value = Value> {
    (
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(0i64..300, 0..4)),
        prop::option::of(prop::collection::vec(0i64..1200, 0..4)),
    )
        .prop_map(|(manuf, china, world)| {
            let mut m = serde_json::Map::new();
            if let Some(b) = manuf {
                m.insert("involves_manufacturing".into(), b.into());
            }
            if let Some(c) = china {
                m.insert("parties_revenue_china".into(), yi(&c));
            }
            if let Some(w) = world {
                m.insert("parties_revenue_world".into(), yi(&w));
            }
            Value::Object(m)
        })
}

fn all_facts(subject: SubjectKind, partial: &Value, filler: &Value) -> Value {
    let mut full = filler.as_object().cloned().unwrap_or_default();
    if let Some(p) = partial.as_object() {
        for (k, v) in p {
            full.insert(k.clone(), v.clone());
        }
    }
    let _ = subject;
    Value::Object(full)
}

fn check_determinacy(
    subject: SubjectKind,
    partial: Value,
    filler: Value,
    as_of: NaiveDate,
) -> Result<(), TestCaseError> {
    let e = engine();
    let set = e.policy_set();
    let facts = Facts::from_json(subject, partial.clone()).unwrap();
    let full = Facts::from_json(subject, all_facts(subject, &partial, &filler)).unwrap();
    let (row, full_row) = (e.row(&facts).unwrap(), e.row(&full).unwrap());
    let snap = e.snapshot(as_of);
    for (i, m) in set.measures().iter().enumerate() {
        if m.rule(subject).is_none() {
            continue;
        }
        let eval = snap.explain(i, &row).unwrap();
        let completed = snap.outcome(i, &full_row);
        // A set fact with codes nobody records (实施卓越绩效管理) may leave a complete row open.
        let unrecorded = |name: &str| set.fact(subject, name).is_some_and(|d| d.unrecorded != 0);
        if completed == OutcomeKind::Undetermined {
            let why = snap.explain(i, &full_row).unwrap();
            if let Outcome::Undetermined { missing } = &why.outcome {
                prop_assert!(
                    missing.iter().all(|f| unrecorded(&f.fact)),
                    "{} undetermined with every fact present",
                    m.key
                );
            }
        }
        match &eval.outcome {
            Outcome::Undetermined { missing } => {
                prop_assert!(!missing.is_empty());
                for f in missing {
                    prop_assert!(
                        unrecorded(&f.fact) || !partial.as_object().unwrap().contains_key(&f.fact),
                        "{} listed present fact {}",
                        m.key,
                        f.fact
                    );
                }
            }
            determined => prop_assert_eq!(
                determined.kind(),
                completed,
                "{}: filling missing facts changed a determined outcome",
                m.key
            ),
        }
        prop_assert_eq!(eval.outcome.kind(), snap.outcome(i, &row));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn evaluation_never_panics(kind in 0usize..5, values in prop::collection::vec(any_json(), 0..6), as_of in date()) {
        let e = engine();
        let subject = SubjectKind::ALL[kind];
        let names: Vec<String> = e.policy_set().facts_of(subject).map(|f| f.name.clone()).collect();
        let mut obj = serde_json::Map::new();
        for (i, v) in values.into_iter().enumerate() {
            obj.insert(names[i % names.len()].clone(), v);
        }
        let facts = Facts::from_json(subject, Value::Object(obj)).unwrap();
        if let Ok(row) = e.row(&facts) {
            let snap = e.snapshot(as_of);
            for (i, m) in e.policy_set().measures().iter().enumerate() {
                let _ = snap.outcome(i, &row);
                if m.rule(subject).is_some() {
                    let eval = snap.explain(i, &row).unwrap();
                    prop_assert!(serde_json::to_string(&eval).is_ok());
                }
            }
            let _ = e.match_all(subject, as_of, [&row]);
        }
    }

    #[test]
    fn enterprise_undetermined_iff_needed_fact_missing(partial in enterprise(), filler in enterprise(), as_of in date()) {
        // The filler supplies every fact so the completed row has nothing missing.
        let filler = all_facts(SubjectKind::Enterprise, &filler, &json!({
            "designations": ["above_scale"], "division": "39", "failed_inspections_12m": 0,
            "serious_penalties_12m": 0, "international_standards_led": 1, "listing": "unlisted", "foreign_invested": false
        }));
        check_determinacy(SubjectKind::Enterprise, partial, filler, as_of)?;
    }

    #[test]
    fn merger_undetermined_iff_needed_fact_missing(partial in merger(), filler in merger(), as_of in date()) {
        let filler = all_facts(SubjectKind::Merger, &filler, &json!({
            "involves_manufacturing": true, "parties_revenue_china": ["1"], "parties_revenue_world": ["1"]
        }));
        check_determinacy(SubjectKind::Merger, partial, filler, as_of)?;
    }

    #[test]
    fn lowering_the_m16_threshold_never_removes_eligibility(
        china in prop::collection::vec(0i64..300, 0..4),
        world in prop::collection::vec(0i64..1200, 0..4),
        lo in 0i64..400, extra in 0i64..100,
    ) {
        let set = PolicySet::builtin();
        let at = |t: i64| {
            let e = Engine::new(&set, &ParamOverrides::new().set("m16_combined_china", &(t * 10_000_000).to_string())).unwrap();
            let facts = Facts::from_json(SubjectKind::Merger, json!({"involves_manufacturing": true, "parties_revenue_china": yi(&china), "parties_revenue_world": yi(&world)})).unwrap();
            e.evaluate("M16", &facts, "2024-06-01".parse().unwrap()).unwrap().outcome.kind()
        };
        if at(lo + extra) == OutcomeKind::Eligible {
            prop_assert_eq!(at(lo), OutcomeKind::Eligible);
        }
    }

    #[test]
    fn raising_a_party_turnover_never_removes_eligibility(
        china in prop::collection::vec(0i64..300, 1..4),
        world in prop::collection::vec(0i64..1200, 0..4),
        which in 0usize..4, raise in 0i64..100,
    ) {
        let e = engine();
        let eval = |c: &[i64]| {
            let facts = Facts::from_json(SubjectKind::Merger, json!({"involves_manufacturing": true, "parties_revenue_china": yi(c), "parties_revenue_world": yi(&world)})).unwrap();
            e.evaluate("M16", &facts, "2024-06-01".parse().unwrap()).unwrap().outcome.kind()
        };
        let mut raised = china.clone();
        let i = which % raised.len();
        raised[i] += raise;
        if eval(&china) == OutcomeKind::Eligible {
            prop_assert_eq!(eval(&raised), OutcomeKind::Eligible);
        }
    }
}

/// Every definite outcome over `facts`, by measure.
fn outcomes(facts: &Value, as_of: NaiveDate) -> Vec<OutcomeKind> {
    let e = engine();
    let f = Facts::from_json(SubjectKind::Enterprise, facts.clone()).unwrap();
    let row = e.row(&f).unwrap();
    let snap = e.snapshot(as_of);
    (0..e.policy_set().measures().len())
        .map(|i| snap.outcome(i, &row))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Unknown is never no: removing a fact (a key, or an unrecorded code from a set) can turn
    /// a definite outcome into Undetermined, never into the opposite outcome.
    #[test]
    fn removing_a_fact_never_flips_a_definite_outcome(
        partial in enterprise(),
        which in 0usize..16,
        as_of in date(),
    ) {
        let before = outcomes(&partial, as_of);
        let obj = partial.as_object().unwrap();
        let mut fewer = vec![];
        if !obj.is_empty() {
            let key = obj.keys().nth(which % obj.len()).unwrap().clone();
            let mut o = obj.clone();
            o.remove(&key);
            fewer.push(Value::Object(o));
        }
        if let Some(ds) = obj.get("designations").and_then(|d| d.as_array()) {
            let mut o = obj.clone();
            let kept: Vec<Value> = ds.iter().filter(|d| *d != "performance_excellence").cloned().collect();
            o.insert("designations".into(), Value::from(kept));
            fewer.push(Value::Object(o));
        }
        for f in fewer {
            for (i, (b, a)) in before.iter().zip(outcomes(&f, as_of)).enumerate() {
                let definite = matches!(b, OutcomeKind::Eligible | OutcomeKind::NotEligible);
                if definite {
                    prop_assert!(
                        a == *b || a == OutcomeKind::Undetermined,
                        "measure #{i}: {b:?} became {a:?} after removing a fact from {partial} → {f}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_champion_whose_performance_excellence_nobody_recorded_is_undetermined() {
    let e = engine();
    let m18 = e.policy_set().find_measure("M18").unwrap();
    let f = Facts::from_json(
        SubjectKind::Enterprise,
        json!({"designations": ["national_single_champion"]}),
    )
    .unwrap();
    let eval = e
        .snapshot(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap())
        .explain(m18, &e.row(&f).unwrap())
        .unwrap();
    match eval.outcome {
        Outcome::Undetermined { missing } => {
            assert_eq!(missing[0].fact, "designations");
            assert_eq!(missing[0].needed_by.zh, "实施卓越绩效管理");
        }
        other => panic!("{other:?}"),
    }
}
