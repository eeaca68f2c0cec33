//! Tests of the synthetic data: determinism, coverage of every city and division, realistic
//! proportions, and that everything generated survives export → import unchanged.

use std::collections::BTreeSet;
use std::io::Cursor;
use yuepin_demo::*;
use yuepin_domain::{reference, DesignationKind, Enterprise, Product};
use yuepin_import::{
    export_csv, export_xlsx, import_all, EventRecord, HeaderLanguage, ImportOptions,
};

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let a = generate(7, 300);
    assert_eq!(a, generate(7, 300));
    assert_ne!(a.enterprises, generate(8, 300).enterprises);
    // The streaming generator yields the same enterprises as `generate`.
    let streamed: Vec<Enterprise> = enterprises(7, 300).collect();
    assert_eq!(streamed, a.enterprises);
    let mut csv_a = Vec::new();
    let mut csv_b = Vec::new();
    write_enterprises_csv(&mut csv_a, 3, 200).unwrap();
    write_enterprises_csv(&mut csv_b, 3, 200).unwrap();
    assert_eq!(csv_a, csv_b);
}

#[test]
fn every_city_and_division_with_realistic_proportions() {
    let data = generate(2026, 2000);
    let cities: BTreeSet<&str> = data
        .enterprises
        .iter()
        .map(|e| e.region.city().code.as_str())
        .collect();
    assert_eq!(cities.len(), reference::cities().len());
    let divisions: BTreeSet<u8> = data.enterprises.iter().map(|e| e.division.code()).collect();
    assert_eq!(divisions, (13..=43).collect());

    let n = data.enterprises.len() as f64;
    let share = |kind: DesignationKind| {
        data.enterprises
            .iter()
            .filter(|e| e.designations.iter().any(|d| d.kind == kind))
            .count() as f64
            / n
    };
    let above = share(DesignationKind::AboveScale);
    assert!((0.18..0.35).contains(&above), "above scale {above}");
    let high_tech = share(DesignationKind::HighTech);
    assert!((0.1..0.2).contains(&high_tech), "high tech {high_tech}");
    assert!(share(DesignationKind::LittleGiant) < 0.03);

    let shenzhen = data
        .enterprises
        .iter()
        .filter(|e| e.region.as_str() == "440300")
        .count();
    let yunfu = data
        .enterprises
        .iter()
        .filter(|e| e.region.as_str() == "445300")
        .count();
    assert!(shenzhen > 10 * yunfu, "{shenzhen} vs {yunfu}");

    // Measure 16 candidates: China revenue in 2025 above 20亿, and parties above 4亿.
    let revenue_2025 = |e: &Enterprise| {
        e.financials
            .iter()
            .find(|f| f.year == 2025)
            .map(|f| f.revenue_china.fen() / 100)
    };
    let over_20yi = data
        .enterprises
        .iter()
        .filter(|e| revenue_2025(e).is_some_and(|r| r > 2_000_000_000))
        .count();
    let over_4yi = data
        .enterprises
        .iter()
        .filter(|e| revenue_2025(e).is_some_and(|r| r > 400_000_000))
        .count();
    assert!((12..100).contains(&over_20yi), "{over_20yi} above 20亿");
    assert!(over_4yi >= 30, "{over_4yi} above 4亿");

    // Products: 1–5 per enterprise, most with GTINs under 690–693.
    assert!(data.products.len() >= data.enterprises.len());
    let with_gtin: Vec<_> = data
        .products
        .iter()
        .filter_map(|p| p.gtin.as_ref())
        .collect();
    assert!(with_gtin.len() as f64 > 0.75 * data.products.len() as f64);
    assert!(with_gtin
        .iter()
        .all(|g| ["690", "691", "692", "693"].contains(&&g.as_str()[..3])));
    let unique: BTreeSet<&str> = with_gtin.iter().map(|g| g.as_str()).collect();
    assert_eq!(unique.len(), with_gtin.len());

    // Inspections: 5–8% fail.
    let inspections: Vec<_> = data
        .events
        .iter()
        .filter_map(|r| match &r.event.kind {
            yuepin_domain::QualityEventKind::Inspection { result, .. } => Some(*result),
            _ => None,
        })
        .collect();
    let fails = inspections
        .iter()
        .filter(|r| **r == yuepin_domain::InspectionResult::Fail)
        .count();
    let rate = fails as f64 / inspections.len() as f64;
    assert!((0.03..0.1).contains(&rate), "fail rate {rate}");
    assert!(data.events.iter().all(|r| r.event.date <= data_date()));

    for e in &data.enterprises {
        for word in ["华为", "美的", "格力", "比亚迪", "腾讯"] {
            assert!(!e.name.contains(word), "{}", e.name);
        }
    }
}

#[test]
fn everything_round_trips_through_the_importer() {
    let data = generate(11, 1500);
    for language in [HeaderLanguage::English, HeaderLanguage::Chinese] {
        let csv = export_csv(Vec::new(), &data.enterprises, language).unwrap();
        let back: Vec<Enterprise> = import_all(Cursor::new(csv), ImportOptions::default()).unwrap();
        assert_eq!(back, data.enterprises);
        let csv = export_csv(Vec::new(), &data.products, language).unwrap();
        let back: Vec<Product> = import_all(Cursor::new(csv), ImportOptions::default()).unwrap();
        assert_eq!(back, data.products);
        let csv = export_csv(Vec::new(), &data.events, language).unwrap();
        let back: Vec<EventRecord> =
            import_all(Cursor::new(csv), ImportOptions::default()).unwrap();
        assert_eq!(back, data.events);
    }
    let small = generate(12, 200);
    let xlsx = export_xlsx(Vec::new(), &small.enterprises, HeaderLanguage::Chinese).unwrap();
    let back: Vec<Enterprise> = import_all(Cursor::new(xlsx), ImportOptions::default()).unwrap();
    assert_eq!(back, small.enterprises);
    let xlsx = export_xlsx(Vec::new(), &small.events, HeaderLanguage::English).unwrap();
    let back: Vec<EventRecord> = import_all(Cursor::new(xlsx), ImportOptions::default()).unwrap();
    assert_eq!(back, small.events);

    // The streaming benchmark writer produces an importable file.
    let csv = write_enterprises_csv(Vec::new(), 5, 500).unwrap();
    let back: Vec<Enterprise> = import_all(Cursor::new(csv), ImportOptions::default()).unwrap();
    assert_eq!(back, enterprises(5, 500).collect::<Vec<_>>());
}
