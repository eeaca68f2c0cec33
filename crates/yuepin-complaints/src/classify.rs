//! Fills in missing product category and industry division from complaint text: the text is
//! segmented with `jieba-rs`, and segments are looked up in a lexicon mapping terms to a product
//! category (which implies its GB/T 4754 division) or directly to a division. The seed lexicon is
//! compiled in (`data/categories.csv`, `data/division-terms.csv`); regulators' corrections are
//! applied at run time with [`Classifier::set_term`] / [`Classifier::remove_term`] and can be
//! exported with [`Classifier::overrides`] for the platform to persist.

use crate::model::{categories, Category, Complaint};
use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use yuepin_domain::Division;

const DIVISION_TERMS_CSV: &str = include_str!("../data/division-terms.csv");

/// What a lexicon term points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Target {
    Category(Category),
    Division(Division),
}

impl Target {
    fn division(self) -> Division {
        match self {
            Self::Category(c) => c.division(),
            Self::Division(d) => d,
        }
    }
}

/// A run-time lexicon change (`target = None` removes the term).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TermOverride {
    pub term: String,
    pub target: Option<Target>,
}

/// The classifier's answer for one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub category: Option<Category>,
    pub division: Option<Division>,
    /// Share of the matched score that went to the chosen division (0–1).
    pub confidence: f64,
    pub matched_terms: Vec<String>,
}

/// Lexicon-based text classifier (construct once; building the jieba dictionary takes ~0.2 s).
pub struct Classifier {
    jieba: Jieba,
    terms: HashMap<String, Target>,
    overrides: Vec<TermOverride>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("terms", &self.terms.len())
            .finish()
    }
}

impl Default for Classifier {
    fn default() -> Self {
        Self::new()
    }
}

/// Word frequency given to lexicon terms so jieba keeps them as single segments.
const TERM_FREQ: usize = 200_000;

impl Classifier {
    /// The compiled seed lexicon. Category terms take precedence over division terms when
    /// both lists contain the same word; within categories the first listed wins.
    pub fn new() -> Self {
        let mut c = Self {
            jieba: Jieba::new(),
            terms: HashMap::new(),
            overrides: Vec::new(),
        };
        for (i, info) in categories().iter().enumerate() {
            let Some(cat) = Category::from_index(i) else {
                continue;
            };
            for t in &info.terms {
                c.insert_seed(t, Target::Category(cat));
            }
        }
        for record in csv::Reader::from_reader(DIVISION_TERMS_CSV.as_bytes())
            .records()
            .flatten()
        {
            let (Some(code), Some(terms)) = (record.get(0), record.get(1)) else {
                continue;
            };
            let Ok(div) = Division::parse(code) else {
                continue;
            };
            for t in terms.split('|') {
                c.insert_seed(t, Target::Division(div));
            }
        }
        c
    }

    fn insert_seed(&mut self, term: &str, target: Target) {
        let term = term.trim();
        if term.is_empty() || self.terms.contains_key(term) {
            return;
        }
        self.jieba.add_word(term, Some(TERM_FREQ), None);
        self.terms.insert(term.to_string(), target);
    }

    /// Adds or re-points a term (a regulator's correction); recorded in [`Self::overrides`].
    pub fn set_term(&mut self, term: &str, target: Target) {
        let term = term.trim();
        if term.is_empty() {
            return;
        }
        self.jieba.add_word(term, Some(TERM_FREQ), None);
        self.terms.insert(term.to_string(), target);
        self.overrides.push(TermOverride {
            term: term.to_string(),
            target: Some(target),
        });
    }

    /// Stops a term from counting.
    pub fn remove_term(&mut self, term: &str) {
        let term = term.trim();
        self.terms.remove(term);
        self.overrides.push(TermOverride {
            term: term.to_string(),
            target: None,
        });
    }

    /// Replays persisted overrides in order.
    pub fn apply_overrides(&mut self, overrides: &[TermOverride]) {
        for o in overrides {
            match o.target {
                Some(t) => self.set_term(&o.term, t),
                None => self.remove_term(&o.term),
            }
        }
    }

    /// All run-time changes since construction, in order, for persistence.
    pub fn overrides(&self) -> &[TermOverride] {
        &self.overrides
    }

    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Classifies a text. Each matched term scores its length in characters (longer terms are
    /// more specific) for its category and that category's division, or for its division.
    pub fn classify(&self, text: &str) -> Classification {
        let mut category_score: HashMap<Category, f64> = HashMap::new();
        let mut division_score: HashMap<Division, f64> = HashMap::new();
        let mut matched = Vec::new();
        for word in self.jieba.cut(text, false) {
            if let Some(&target) = self.terms.get(word) {
                let w = word.chars().count() as f64;
                *division_score.entry(target.division()).or_default() += w;
                if let Target::Category(c) = target {
                    *category_score.entry(c).or_default() += w;
                }
                matched.push(word.to_string());
            }
        }
        let total: f64 = division_score.values().sum();
        // Ties break towards the lower code / index so results are deterministic.
        let division = division_score
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(d, _)| *d);
        let category = category_score
            .iter()
            .filter(|(c, _)| Some(c.division()) == division)
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(c, _)| *c);
        let confidence = division.map_or(0.0, |d| division_score[&d] / total);
        Classification {
            category,
            division,
            confidence,
            matched_terms: matched,
        }
    }

    /// Fills `category` and/or `division` when missing; a known category also fixes a missing
    /// division. Returns whether anything was filled.
    pub fn fill_missing(&self, complaint: &mut Complaint) -> bool {
        if complaint.division.is_none() {
            if let Some(c) = complaint.category {
                complaint.division = Some(c.division());
                return true;
            }
        }
        if complaint.category.is_some() && complaint.division.is_some() {
            return false;
        }
        let found = self.classify(&complaint.text);
        let mut changed = false;
        if complaint.division.is_none() {
            complaint.division = found.division;
            changed |= found.division.is_some();
        }
        if complaint.category.is_none()
            && found.category.map(Category::division) == complaint.division
        {
            complaint.category = found.category;
            changed |= found.category.is_some();
        }
        changed
    }
}

const LABELLED_CSV: &str = include_str!("../tests/data/labelled.csv");

/// The shipped labelled set (`tests/data/labelled.csv`, 300 texts): `(text, category, division)`.
/// The platform reports the current lexicon's accuracy on it next to the accuracy on
/// regulator-corrected complaints.
pub fn labelled_set() -> Vec<(String, Category, Division)> {
    csv::Reader::from_reader(LABELLED_CSV.as_bytes())
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            Some((
                r.get(0)?.to_string(),
                Category::parse(r.get(1)?).ok()?,
                Division::parse(r.get(2)?).ok()?,
            ))
        })
        .collect()
}

/// How well a classifier reproduces known labels: on the shipped labelled set and on the
/// complaints regulators corrected. One definition, used by the web page and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accuracy {
    /// Texts in the shipped labelled set.
    pub labelled_set: usize,
    pub labelled_category: f64,
    pub labelled_division: f64,
    /// Regulator-corrected complaints.
    pub corrected: usize,
    pub corrected_category: f64,
    pub corrected_division: f64,
}

/// Share of right answers of `classifier` on [`labelled_set`] and on `corrected` (text and the
/// regulator's category / division, either of which may be absent: an absent label counts as
/// right when the classifier also finds none). An empty set scores 0.
pub fn accuracy(
    classifier: &Classifier,
    corrected: &[(String, Option<Category>, Option<Division>)],
) -> Accuracy {
    let set = labelled_set();
    let (mut cat, mut div) = (0usize, 0usize);
    for (text, category, division) in &set {
        let got = classifier.classify(text);
        cat += usize::from(got.category == Some(*category));
        div += usize::from(got.division == Some(*division));
    }
    let (mut ccat, mut cdiv) = (0usize, 0usize);
    for (text, category, division) in corrected {
        let got = classifier.classify(text);
        ccat += usize::from(got.category == *category);
        cdiv += usize::from(got.division == *division);
    }
    let ratio = |a: usize, n: usize| if n == 0 { 0.0 } else { a as f64 / n as f64 };
    Accuracy {
        labelled_set: set.len(),
        labelled_category: ratio(cat, set.len()),
        labelled_division: ratio(div, set.len()),
        corrected: corrected.len(),
        corrected_category: ratio(ccat, corrected.len()),
        corrected_division: ratio(cdiv, corrected.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_and_accepts_corrections() {
        let mut c = Classifier::new();
        let r = c.classify("上周买的格力空调外机噪音很大，制冷效果差");
        assert_eq!(
            r.category.map(|c| c.info().key.as_str()),
            Some("air_conditioner")
        );
        assert_eq!(r.division.map(Division::code), Some(38));
        let r = c.classify("孩子玩的积木有小零件脱落");
        assert_eq!(r.category.map(|c| c.info().key.as_str()), Some("toy"));
        assert_eq!(c.classify("今天天气不错").division, None);
        let kettle = Category::parse("kitchen_appliance").unwrap();
        c.set_term("养生壶", Target::Category(kettle));
        assert_eq!(c.classify("养生壶底部漏水").category, Some(kettle));
        c.remove_term("养生壶");
        assert_eq!(c.classify("养生壶底部漏水").category, None);
        assert_eq!(c.overrides().len(), 2);
    }
}
