//! Pack-level tests: the embedded pack matches the reference policy text, the validity period is
//! derived exactly, a second pack loads beside it, load errors name file/line/field, and the
//! bulk match, explanations, what-if and domain adapter work end to end.

use chrono::NaiveDate;
use yuepin_domain::reference;
use yuepin_policy::model::Period;
use yuepin_policy::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn builtin_pack_matches_reference_text_and_units() {
    let set = PolicySet::builtin();
    assert_eq!(set.packs().len(), 1);
    assert_eq!(set.packs()[0].number, reference::POLICY_NUMBER);
    assert_eq!(set.measures().len(), 29);
    for (m, info) in set.measures().iter().zip(reference::measures()) {
        assert_eq!(u16::from(info.number), m.number);
        assert_eq!(m.id, format!("M{}", info.number));
        assert_eq!(
            Some(m.clause_text.as_str()),
            reference::measure_clause(info.number),
            "{}",
            m.id
        );
        assert_eq!(m.title.zh, info.title_zh);
        assert_eq!(m.group, info.group, "{}", m.id);
        assert_eq!(m.responsible.units, info.responsible_units, "{}", m.id);
        assert_eq!(m.responsible.lead, !info.shared, "{}", m.id);
        assert!(!m.rules.is_empty() && !m.benefits.is_empty(), "{}", m.id);
        for rule in &m.rules {
            for node in &rule.nodes {
                assert!(m.clause_text.contains(&node.clause));
                assert!(!node.label.zh.is_empty() && !node.label.en.is_empty());
            }
        }
    }
    assert!(reference::POLICY_TEXT_ZH.contains(&set.packs()[0].validity_clause));
}

#[test]
fn validity_is_three_years_ending_2026_10_11() {
    let set = PolicySet::builtin();
    let p = set.packs()[0].in_force;
    assert_eq!(p.from, d("2023-10-12"));
    assert_eq!(p.until, d("2026-10-11"));
    assert_eq!(p.from, reference::policy_effective_from());
    assert_eq!(p.until, reference::policy_effective_until());
    assert!(!p.contains(d("2023-10-11")) && p.contains(d("2023-10-12")));
    assert!(p.contains(d("2026-10-11")) && !p.contains(d("2026-10-12")));
    // A leap-day start ends on the last day of February.
    assert_eq!(
        Period::for_years(d("2024-02-29"), 1).unwrap().until,
        d("2025-02-28")
    );
}

#[test]
fn second_pack_loads_beside_the_first() {
    let mut set = PolicySet::builtin();
    set.load_str("example.yaml", EXAMPLE_SECOND_PACK).unwrap();
    assert_eq!(set.packs().len(), 2);
    assert_eq!(set.measures().len(), 30);
    assert!(set.packs()[1].example);
    assert_eq!(set.packs()[1].in_force.until, d("2027-10-11"));
    // Loading the same document twice is refused and leaves the set unchanged.
    let err = set.load_str("again.yaml", EXAMPLE_SECOND_PACK).unwrap_err();
    assert!(err.to_string().contains("already loaded"), "{err}");
    assert_eq!(set.packs().len(), 2);
    // "M1" is now ambiguous; keys are not.
    assert!(set.find_measure("M1").is_none());
    assert!(set.find_measure("example-2026-continuation/M1").is_some());
}

const BAD_FACT: &str = "pack:
  id: bad
  number: X
  title: {zh: 甲, en: A}
  issuing_units: [甲]
  issued_on: 2024-01-01
  validity: {from: 2024-01-01, years: 1, clause: 一年}
measures:
  - id: M1
    number: 1
    group: 1
    title: {zh: 甲, en: A}
    clause_text: 1.营业额超过1亿元。
    responsible: {mode: lead, units: [甲]}
    eligibility:
      enterprise:
        clause: 营业额超过1亿元
        label: {zh: 营业额, en: Revenue}
        compare: {fact: revenue_chna, op: gt, value: 1亿元}
";

#[test]
fn load_errors_name_file_line_and_field() {
    let mut set = PolicySet::builtin();
    match set.load_str("bad.yaml", BAD_FACT).unwrap_err() {
        PackError::Invalid {
            file,
            line,
            field,
            reason,
        } => {
            assert_eq!(file, "bad.yaml");
            assert_eq!(line, 19);
            assert_eq!(field, "measures.M1.eligibility.enterprise.fact");
            assert!(reason.contains("revenue_chna"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let misquoted = BAD_FACT
        .replace("fact: revenue_chna", "fact: revenue_china")
        .replace("clause: 营业额超过1亿元", "clause: 营业额超过2亿元");
    let err = set
        .load_str("bad.yaml", &misquoted)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("bad.yaml:17: measures.M1.eligibility.enterprise.clause"),
        "{err}"
    );
    let wrong_type = BAD_FACT.replace("fact: revenue_chna", "fact: employees");
    let err = set
        .load_str("bad.yaml", &wrong_type)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad.yaml:19") && err.contains("whole number"),
        "{err}"
    );
    let syntax = BAD_FACT.replace("op: gt", "op: greater");
    match set.load_str("bad.yaml", &syntax).unwrap_err() {
        PackError::Syntax {
            file,
            line,
            message,
            ..
        } => {
            assert_eq!(file, "bad.yaml");
            assert_eq!(line, 19);
            assert!(message.contains("measures[0].eligibility"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(set.packs().len(), 1);
}

fn merger(china: &[&str], world: &[&str]) -> FactRow {
    let set = PolicySet::builtin();
    Facts::new(SubjectKind::Merger)
        .with("involves_manufacturing", true)
        .with("parties_revenue_china", china.to_vec())
        .with("parties_revenue_world", world.to_vec())
        .to_row(&set)
        .unwrap()
}

#[test]
fn evaluation_json_has_labels_values_thresholds_and_clauses() {
    let engine = Engine::new(&PolicySet::builtin(), &ParamOverrides::new()).unwrap();
    let facts = Facts::from_json(
        SubjectKind::Merger,
        serde_json::json!({"involves_manufacturing": true, "parties_revenue_china": ["10亿元", "10亿元"], "parties_revenue_world": ["10亿元", "10亿元"]}),
    )
    .unwrap();
    let eval = engine.evaluate("M16", &facts, d("2024-01-01")).unwrap();
    let json = serde_json::to_value(&eval).unwrap();
    assert_eq!(json["outcome"], "not_eligible");
    assert_eq!(json["outcome_label"]["zh"], "不符合条件");
    assert_eq!(json["document"], "粤市监〔2023〕74号");
    let first = &json["failed"][0];
    assert_eq!(first["fact"], "parties_revenue_china");
    assert_eq!(first["value"], "20亿元");
    assert_eq!(first["threshold"], "20亿元");
    assert_eq!(first["parameter"], "m16_combined_china");
    assert_eq!(
        first["clause"]["quote"],
        "在中国境内的营业额合计超过20亿元人民币"
    );
    assert!(first["label"]["en"]
        .as_str()
        .unwrap()
        .contains("Combined China"));
    // Errors name the fact and the reason.
    let bad = Facts::new(SubjectKind::Merger).with("parties_revenue_china", vec!["lots"]);
    let err = engine
        .evaluate("M16", &bad, d("2024-01-01"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("merger.parties_revenue_china: element 0"),
        "{err}"
    );
    let unknown = Facts::new(SubjectKind::Merger).with("turnover", 1);
    assert!(engine.evaluate("M16", &unknown, d("2024-01-01")).is_err());
    assert!(matches!(
        engine.evaluate("M16", &Facts::new(SubjectKind::Person), d("2024-01-01")),
        Err(EngineError::NotApplicable { .. })
    ));
}

#[test]
fn match_all_and_what_if() {
    let set = PolicySet::builtin();
    let engine = Engine::new(&set, &ParamOverrides::new()).unwrap();
    let rows = vec![
        merger(&["10亿元", "8亿元"], &["10亿元", "8亿元"]), // 18亿: newly eligible at 15亿
        merger(&["30亿元", "5亿元"], &["30亿元", "5亿元"]), // eligible either way
        merger(&["14亿元", "0.5亿元"], &["14亿元", "1亿元"]), // never: one party over 4亿
    ];
    let result = engine.match_all(SubjectKind::Merger, d("2024-06-01"), &rows);
    assert_eq!(result.rows, 3);
    assert_eq!(result.measures, vec!["gd-2023-74/M16".to_string()]);
    assert_eq!(result.row(0), &[OutcomeKind::NotEligible]);
    assert_eq!(result.row(1), &[OutcomeKind::Eligible]);
    let explained = engine
        .snapshot(d("2024-06-01"))
        .explain(result.measure_indices[0], &rows[2])
        .unwrap();
    assert_eq!(explained.outcome.kind(), OutcomeKind::NotEligible);

    let diff = what_if(
        &engine,
        &ParamOverrides::new().set("m16_combined_china", "15亿元"),
        SubjectKind::Merger,
        d("2024-06-01"),
        &rows,
    )
    .unwrap();
    assert_eq!(diff.newly_eligible.len(), 1);
    assert_eq!(diff.newly_eligible[0].row, 0);
    assert!(diff.no_longer_eligible.is_empty());

    // Money difference: raising the M18 cap to 2亿 adds 1亿 per eligible enterprise.
    let ents: Vec<FactRow> = [
        vec!["little_giant", "performance_excellence"],
        vec!["little_giant"],
        vec!["guangdong_quality_award", "performance_excellence"],
    ]
    .into_iter()
    .map(|ds| {
        Facts::new(SubjectKind::Enterprise)
            .with("designations", ds)
            .to_row(&set)
            .unwrap()
    })
    .collect();
    let diff = what_if(
        &engine,
        &ParamOverrides::new().set("m18_financing_cap", "2亿元"),
        SubjectKind::Enterprise,
        d("2024-06-01"),
        &ents,
    )
    .unwrap();
    assert_eq!(diff.amount_delta_fen, 2 * 100_000_000 * 100);
    assert!(diff.newly_eligible.is_empty() && diff.no_longer_eligible.is_empty());
    assert_eq!(diff.other_changes.len(), 2);
    // Raising a threshold removes eligibility.
    let diff = what_if(
        &engine,
        &ParamOverrides::new().set("m16_combined_china", "40亿元"),
        SubjectKind::Merger,
        d("2024-06-01"),
        &rows,
    )
    .unwrap();
    assert_eq!(diff.no_longer_eligible.len(), 1);
    assert!(Engine::new(&set, &ParamOverrides::new().set("nope", "1")).is_err());
    assert!(Engine::new(
        &set,
        &ParamOverrides::new().set("m16_combined_china", "abc")
    )
    .is_err());
}

#[test]
fn enterprise_facts_from_domain_record() {
    use yuepin_domain::*;
    let e = Enterprise {
        uscc: Uscc::parse("91440300708461136T").unwrap(),
        name: "测试制造有限公司".into(),
        region: RegionCode::parse("440305").unwrap(),
        division: Division::parse("39").unwrap(),
        registered_capital: Yuan::parse("5000万元").unwrap(),
        employees: 320,
        founded_on: d("2010-05-01"),
        listing: Listing::Unlisted,
        designations: vec![
            Designation {
                kind: DesignationKind::LittleGiant,
                awarded_on: d("2022-07-01"),
                expires_on: Some(d("2025-06-30")),
            },
            Designation {
                kind: DesignationKind::PerformanceExcellence,
                awarded_on: d("2021-01-01"),
                expires_on: None,
            },
        ],
        financials: vec![Financials {
            year: 2023,
            revenue_china: Yuan::parse("8亿元").unwrap(),
            revenue_world: None,
        }],
    };
    let engine = Engine::new(&PolicySet::builtin(), &ParamOverrides::new()).unwrap();
    let at = |date: &str| {
        let facts = enterprise_facts(&e, d(date));
        engine
            .evaluate("M18", &facts, d(date))
            .unwrap()
            .outcome
            .kind()
    };
    assert_eq!(at("2024-06-01"), OutcomeKind::Eligible);
    // The little-giant designation lapsed on 2025-06-30.
    assert_eq!(at("2025-07-01"), OutcomeKind::NotEligible);
    let facts = enterprise_facts(&e, d("2024-06-01"));
    assert_eq!(facts.values["city"], "440300");
    assert_eq!(facts.values["revenue_china"], "800000000");
}
