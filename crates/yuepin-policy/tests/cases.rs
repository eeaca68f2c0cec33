//! Runs every YAML test case under `tests/cases/`: each names an as-of date, a measure, a
//! subject kind and its facts, and the expected outcome with its failed conditions or missing
//! facts (and optionally parameter overrides, extra packs and the expected benefit amount).

use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeSet;
use yuepin_domain::Yuan;
use yuepin_policy::{Engine, Facts, Outcome, OutcomeKind, ParamOverrides, PolicySet, SubjectKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    as_of: NaiveDate,
    measure: String,
    subject: SubjectKind,
    #[serde(default)]
    facts: serde_json::Map<String, serde_json::Value>,
    expect: OutcomeKind,
    #[serde(default)]
    failed: Option<Vec<String>>,
    #[serde(default)]
    missing: Option<Vec<String>>,
    #[serde(default)]
    overrides: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    packs: Vec<String>,
    /// Expected sum of the benefit amounts shown for the subject.
    #[serde(default)]
    amount: Option<String>,
}

fn extra_pack(name: &str) -> (String, String) {
    match name {
        "example" => (
            "example-2026-continuation.yaml".into(),
            yuepin_policy::EXAMPLE_SECOND_PACK.into(),
        ),
        other => {
            let path = format!("{}/tests/packs/{other}", env!("CARGO_MANIFEST_DIR"));
            (
                other.into(),
                std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
            )
        }
    }
}

fn run(case: &Case) -> Result<(), String> {
    let mut set = PolicySet::builtin();
    for p in &case.packs {
        let (file, text) = extra_pack(p);
        set.load_str(&file, &text).map_err(|e| e.to_string())?;
    }
    let overrides = case
        .overrides
        .iter()
        .fold(ParamOverrides::new(), |o, (k, v)| o.set(k, v));
    let engine = Engine::new(&set, &overrides).map_err(|e| e.to_string())?;
    let facts = Facts::from_json(case.subject, serde_json::Value::Object(case.facts.clone()))
        .map_err(|e| e.to_string())?;
    let eval = engine
        .evaluate(&case.measure, &facts, case.as_of)
        .map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&eval).unwrap_or_default();
    if eval.outcome.kind() != case.expect {
        return Err(format!("expected {:?}, got {json}", case.expect));
    }
    // The bulk path must agree with the explained path.
    let row = engine.row(&facts).map_err(|e| e.to_string())?;
    let idx = set.find_measure(&case.measure).ok_or("measure")?;
    let fast = engine.snapshot(case.as_of).outcome(idx, &row);
    if fast != case.expect {
        return Err(format!("fast path gave {fast:?}"));
    }
    if let Some(want) = &case.failed {
        let Outcome::NotEligible { failed } = &eval.outcome else {
            return Err("`failed` given but outcome is not not_eligible".into());
        };
        let got: BTreeSet<String> = failed.iter().filter_map(|c| c.fact.clone()).collect();
        let want: BTreeSet<String> = want.iter().cloned().collect();
        if got != want {
            return Err(format!("failed facts {got:?} != expected {want:?}: {json}"));
        }
        for c in failed {
            if c.clause.quote.is_empty() || c.threshold.is_none() {
                return Err(format!("failed condition lacks clause or threshold: {c:?}"));
            }
        }
    }
    if let Some(want) = &case.missing {
        let Outcome::Undetermined { missing } = &eval.outcome else {
            return Err("`missing` given but outcome is not undetermined".into());
        };
        let got: BTreeSet<String> = missing.iter().map(|m| m.fact.clone()).collect();
        let want: BTreeSet<String> = want.iter().cloned().collect();
        if got != want {
            return Err(format!("missing facts {got:?} != expected {want:?}"));
        }
    }
    if let Some(amount) = &case.amount {
        let want = Yuan::parse(amount).map_err(|e| e.to_string())?.fen();
        let got: i64 = eval.benefits.iter().filter_map(|b| b.amount_fen).sum();
        if got != want {
            return Err(format!("benefit amount {got} fen != expected {want} fen"));
        }
    }
    Ok(())
}

#[test]
fn yaml_cases() {
    let dir = format!("{}/tests/cases", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("cases dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let (mut total, mut failures) = (0, Vec::new());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read case file");
        let cases: Vec<Case> =
            serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in cases {
            total += 1;
            if let Err(why) = run(&case) {
                failures.push(format!("{} / {}: {why}", file.display(), case.name));
            }
        }
    }
    println!("{total} YAML cases run");
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
