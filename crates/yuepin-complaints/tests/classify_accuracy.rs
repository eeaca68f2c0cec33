//! Accuracy of the lexicon classifier on the 300-text labelled set `tests/data/labelled.csv`
//! (built by `tests/data/make_labelled.py`). Floors are asserted; figures go to the docs.

use yuepin_complaints::Classifier;

#[test]
fn accuracy_on_labelled_set_meets_floor() {
    let classifier = Classifier::new();
    let data = include_str!("data/labelled.csv");
    let mut reader = csv::Reader::from_reader(data.as_bytes());
    let (mut n, mut cat_ok, mut div_ok) = (0usize, 0usize, 0usize);
    for record in reader.records() {
        let r = record.expect("labelled.csv is well-formed");
        let got = classifier.classify(&r[0]);
        n += 1;
        if got.category.map(|c| c.info().key.as_str()) == Some(&r[1]) {
            cat_ok += 1;
        } else {
            eprintln!(
                "miss: {} → {:?} (gold {})",
                &r[0],
                got.category.map(|c| c.info().key.clone()),
                &r[1]
            );
        }
        if got.division.map(|d| d.code().to_string()).as_deref() == Some(&r[2]) {
            div_ok += 1;
        }
    }
    let (cat_acc, div_acc) = (cat_ok as f64 / n as f64, div_ok as f64 / n as f64);
    println!("labelled set: n={n} category accuracy={cat_acc:.3} division accuracy={div_acc:.3}");
    assert!(n >= 300);
    assert!(cat_acc >= 0.85, "category accuracy {cat_acc}");
    assert!(div_acc >= 0.90, "division accuracy {div_acc}");
}
