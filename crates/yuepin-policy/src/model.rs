//! The loaded, validated form of policy packs: documents, measures, fact vocabulary, dated
//! parameters and rule trees, all addressed by small indices so the engine can evaluate fast.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use yuepin_domain::Yuan;

/// A text in Chinese (authoritative) and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub zh: String,
    pub en: String,
}

impl Label {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// An inclusive range of days a document, measure or value is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    pub from: NaiveDate,
    /// Last day in force (inclusive).
    pub until: NaiveDate,
}

impl Period {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.until
    }

    /// "From `from` for `years` years": the last day is the day before the same date `years`
    /// later (2023-10-12 + 3 years → last day 2026-10-11). Feb 29 starts end on Feb 28.
    pub fn for_years(from: NaiveDate, years: u32) -> Option<Self> {
        use chrono::Datelike;
        let year = from.year().checked_add(i32::try_from(years).ok()?)?;
        let end_exclusive = NaiveDate::from_ymd_opt(year, from.month(), from.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))?;
        Some(Self {
            from,
            until: end_exclusive.pred_opt()?,
        })
    }
}

/// The kinds of subject a condition can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Enterprise,
    /// A concentration of undertakings (经营者集中): its parties and their turnovers (M16).
    Merger,
    /// A natural person, e.g. a researcher (M28) or an award-winning individual (M10).
    Person,
    /// A standard being drafted or revised (M8).
    Standard,
    /// A purchase of metrology instruments (M9).
    InstrumentPurchase,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 5] = [
        SubjectKind::Enterprise,
        SubjectKind::Merger,
        SubjectKind::Person,
        SubjectKind::Standard,
        SubjectKind::InstrumentPurchase,
    ];
    pub fn code(self) -> &'static str {
        match self {
            SubjectKind::Enterprise => "enterprise",
            SubjectKind::Merger => "merger",
            SubjectKind::Person => "person",
            SubjectKind::Standard => "standard",
            SubjectKind::InstrumentPurchase => "instrument_purchase",
        }
    }
    pub fn label(self) -> Label {
        let (zh, en) = match self {
            SubjectKind::Enterprise => ("企业", "Enterprise"),
            SubjectKind::Merger => ("经营者集中(并购)", "Merger"),
            SubjectKind::Person => ("个人", "Person"),
            SubjectKind::Standard => ("标准", "Standard"),
            SubjectKind::InstrumentPurchase => ("计量器具购置", "Metrology-instrument purchase"),
        };
        Label::new(zh, en)
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s.trim())
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Index of a fact in its subject kind's [`crate::FactRow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactId(pub u16);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FactType {
    Bool,
    Int,
    /// Exact yuan, held as whole fen.
    Money,
    Date,
    /// One code out of a vocabulary (a city, a division, a listing status).
    Code,
    /// A set of codes (designations, certifications).
    Set,
    /// A list of amounts (each merger party's turnover).
    MoneyList,
}

/// Most distinct codes a code or set fact can have (set values are 128-bit masks).
pub const MAX_CODES: usize = 128;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactDef {
    pub subject: SubjectKind,
    pub id: FactId,
    pub name: String,
    pub ty: FactType,
    pub label: Label,
    /// Known codes of a code/set fact; a code's index here is its bit.
    pub domain: Vec<String>,
    /// Whether codes outside `domain` are accepted (and never match) rather than rejected.
    pub open: bool,
    /// Codes of a set fact the platform does not hold authoritatively (bit mask over
    /// `domain`): a set without them does not show they are absent, so a test that needs only
    /// such codes is Undetermined, never "no" (e.g. 实施卓越绩效管理, which no registry records).
    pub unrecorded: u128,
}

/// A typed constant: a literal in a rule or a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    /// Whole fen.
    Money(i64),
    Date(NaiveDate),
}

impl Scalar {
    pub fn ty(self) -> FactType {
        match self {
            Scalar::Bool(_) => FactType::Bool,
            Scalar::Int(_) => FactType::Int,
            Scalar::Money(_) => FactType::Money,
            Scalar::Date(_) => FactType::Date,
        }
    }
    /// Human form: money as "20亿元".
    pub fn display(self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Money(fen) => Yuan::from_fen(fen).to_zh(),
            Scalar::Date(d) => d.to_string(),
        }
    }
}

/// A dated value of a named threshold: a revision is a new dated value, never an edit.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatedValue {
    pub from: NaiveDate,
    /// `None` when the text names the benefit but gives no figure (给予一定的资金资助).
    pub value: Option<Scalar>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Parameter {
    pub name: String,
    pub ty: FactType,
    pub label: Label,
    pub pack: usize,
    pub measure: String,
    pub clause: String,
    pub values: Vec<DatedValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Ge => "≥",
            CmpOp::Lt => "<",
            CmpOp::Le => "≤",
            CmpOp::Eq => "=",
            CmpOp::Ne => "≠",
        }
    }
    pub fn holds<T: Ord>(self, left: T, right: T) -> bool {
        match self {
            CmpOp::Gt => left > right,
            CmpOp::Ge => left >= right,
            CmpOp::Lt => left < right,
            CmpOp::Le => left <= right,
            CmpOp::Eq => left == right,
            CmpOp::Ne => left != right,
        }
    }
}

/// How a list fact is reduced before comparing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    #[default]
    Value,
    Sum,
    Count,
    Max,
    Min,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Operand {
    Literal(Scalar),
    /// Index into [`PolicySet::parameters`].
    Param(u16),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CountFilter {
    /// Members of a set fact among these codes (bit mask over the fact's domain).
    Codes(u128),
    /// Elements of a money list satisfying `op rhs`.
    Where { op: CmpOp, rhs: Operand },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NodeOp {
    All(Vec<u32>),
    Any(Vec<u32>),
    Not(u32),
    Compare {
        fact: FactId,
        of: Aggregate,
        op: CmpOp,
        rhs: Operand,
    },
    /// A code fact is one of, or a set fact contains any of, the codes in `mask`.
    InSet {
        fact: FactId,
        mask: u128,
    },
    CountAtLeast {
        fact: FactId,
        filter: CountFilter,
        at_least: Operand,
    },
    /// A date fact lies within `[from, until]` (both inclusive, either open).
    DateWithin {
        fact: FactId,
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
    },
}

/// One node of an eligibility tree: what it checks, its label and the clause it cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Node {
    pub op: NodeOp,
    pub label: Label,
    /// A verbatim quote from the measure's clause text (checked at load).
    pub clause: String,
}

/// A measure's eligibility for one subject kind: a flat arena of nodes, root at index 0.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rule {
    pub subject: SubjectKind,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BenefitKind {
    Subsidy,
    Financing,
    Tax,
    PriorityChannel,
    Service,
    Recognition,
}

impl BenefitKind {
    pub fn label(self) -> Label {
        let (zh, en) = match self {
            BenefitKind::Subsidy => ("资金资助", "Subsidy"),
            BenefitKind::Financing => ("融资支持", "Financing"),
            BenefitKind::Tax => ("税收优惠", "Tax"),
            BenefitKind::PriorityChannel => ("绿色通道/快捷通道", "Priority channel"),
            BenefitKind::Service => ("服务", "Service"),
            BenefitKind::Recognition => ("荣誉/培育", "Recognition"),
        };
        Label::new(zh, en)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AmountBasis {
    /// "最高可达": an upper bound.
    Cap,
    /// A fixed grant.
    Fixed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Amount {
    /// A parameter's money value, times an optional count fact (每主导制修定一项…).
    Param {
        param: u16,
        basis: AmountBasis,
        per: Option<(SubjectKind, FactId)>,
    },
    /// The subject's own money fact (e.g. the purchase price deducted at once).
    FromFact { subject: SubjectKind, fact: FactId },
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Benefit {
    pub kind: BenefitKind,
    pub label: Label,
    pub clause: String,
    /// The yuan figure, where the text gives one (or a parameter was set for a what-if).
    pub amount: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Responsibility {
    /// `true`: one unit leads (负责); `false`: units share by duty (按职责分工负责).
    pub lead: bool,
    pub units: Vec<String>,
}

pub type MeasureIdx = usize;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measure {
    pub pack: usize,
    /// Id within the pack, e.g. `M16`.
    pub id: String,
    /// Globally unique key, `<pack id>/<measure id>`.
    pub key: String,
    pub number: u16,
    pub group: u8,
    pub title: Label,
    pub clause_text: String,
    pub responsible: Responsibility,
    /// A programme measure: eligibility means "targeted by", not an entitlement.
    pub programme: bool,
    pub topic: Option<String>,
    pub supersedes: Vec<String>,
    pub in_force: Period,
    pub benefits: Vec<Benefit>,
    /// Present for a measure that pays money and takes applications.
    pub money: Option<crate::money::MoneyRule>,
    pub rules: Vec<Rule>,
}

impl Measure {
    pub fn rule(&self, subject: SubjectKind) -> Option<&Rule> {
        self.rules.iter().find(|r| r.subject == subject)
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pack {
    pub id: String,
    pub file: String,
    /// Document number, e.g. 粤市监〔2023〕74号.
    pub number: String,
    pub title: Label,
    pub issuing_units: Vec<String>,
    pub issued_on: NaiveDate,
    pub in_force: Period,
    pub validity_clause: String,
    /// Marked as an illustration, not a real document.
    pub example: bool,
    /// The pack's version: the header's `version`, or a digest of the file's text, so an
    /// application's stored evidence names exactly the rules it was judged by.
    pub version: String,
}

/// All loaded packs with their merged fact vocabulary and parameters.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicySet {
    pub(crate) packs: Vec<Pack>,
    pub(crate) measures: Vec<Measure>,
    pub(crate) parameters: Vec<Parameter>,
    pub(crate) facts: Vec<FactDef>,
}

impl PolicySet {
    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }
    pub fn measures(&self) -> &[Measure] {
        &self.measures
    }
    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }
    /// The fact vocabulary of every subject kind.
    pub fn facts(&self) -> &[FactDef] {
        &self.facts
    }
    pub fn facts_of(&self, subject: SubjectKind) -> impl Iterator<Item = &FactDef> {
        self.facts.iter().filter(move |f| f.subject == subject)
    }
    pub fn fact(&self, subject: SubjectKind, name: &str) -> Option<&FactDef> {
        self.facts
            .iter()
            .find(|f| f.subject == subject && f.name == name)
    }
    pub(crate) fn fact_def(&self, subject: SubjectKind, id: FactId) -> Option<&FactDef> {
        self.facts_of(subject).find(|f| f.id == id)
    }
    pub fn parameter(&self, name: &str) -> Option<(u16, &Parameter)> {
        self.parameters
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == name)
            .map(|(i, p)| (i as u16, p))
    }
    /// A measure by key (`gd-2023-74/M16`) or, when unambiguous, by id (`M16`).
    pub fn find_measure(&self, key_or_id: &str) -> Option<MeasureIdx> {
        if let Some(i) = self.measures.iter().position(|m| m.key == key_or_id) {
            return Some(i);
        }
        let mut by_id = self
            .measures
            .iter()
            .enumerate()
            .filter(|(_, m)| m.id == key_or_id);
        match (by_id.next(), by_id.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }
    pub fn fact_count(&self, subject: SubjectKind) -> usize {
        self.facts_of(subject).count()
    }
}
