//! Loading policy packs from YAML: the file schema, and validation that names the file, line
//! and field of every problem (unknown facts, type mismatches, citations not found verbatim in
//! the measure's clause, duplicate ids, malformed dates or amounts).
//! tidy: long-file — the YAML schema and its validator are read side by side: each schema
//! field sits next to the check that names its file, line and field.

use crate::model::*;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use yuepin_domain::Yuan;

/// Why a pack could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}:{line}: {field}: {reason}")]
    Invalid {
        file: String,
        /// 1-based; 0 when the offending text could not be located.
        line: usize,
        field: String,
        reason: String,
    },
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct PackDoc {
    pack: HeaderDoc,
    #[serde(default)]
    facts: BTreeMap<SubjectKind, BTreeMap<String, FactDoc>>,
    #[serde(default)]
    parameters: BTreeMap<String, ParamDoc>,
    measures: Vec<MeasureDoc>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct HeaderDoc {
    id: String,
    number: String,
    title: Label,
    issuing_units: Vec<String>,
    issued_on: String,
    validity: ValidityDoc,
    #[serde(default)]
    example: bool,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct ValidityDoc {
    from: String,
    #[serde(default)]
    years: Option<u32>,
    #[serde(default)]
    until: Option<String>,
    clause: String,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct FactDoc {
    #[serde(rename = "type")]
    ty: FactType,
    label: Label,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    open: bool,
    /// Set codes the platform may simply not know (see `FactDef::unrecorded`).
    #[serde(default)]
    unrecorded: Vec<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct ParamDoc {
    #[serde(rename = "type")]
    ty: FactType,
    label: Label,
    measure: String,
    clause: String,
    values: Vec<DatedValueDoc>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct DatedValueDoc {
    from: String,
    value: Option<ScalarDoc>,
}

#[derive(Deserialize, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
enum ScalarDoc {
    Bool(bool),
    Int(i64),
    Text(String),
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct MeasureDoc {
    id: String,
    number: u16,
    group: u8,
    title: Label,
    clause_text: String,
    responsible: ResponsibleDoc,
    #[serde(default)]
    programme: bool,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    supersedes: Vec<String>,
    #[serde(default)]
    in_force: Option<PeriodDoc>,
    #[serde(default)]
    benefits: Vec<BenefitDoc>,
    /// A measure that pays money and takes applications (see `money.rs`).
    #[serde(default)]
    money: Option<crate::money::MoneyDoc>,
    eligibility: BTreeMap<SubjectKind, NodeDoc>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct PeriodDoc {
    from: String,
    until: String,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct ResponsibleDoc {
    mode: ResponsibleMode,
    units: Vec<String>,
}

#[derive(Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
enum ResponsibleMode {
    Lead,
    Shared,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct BenefitDoc {
    kind: BenefitKind,
    label: Label,
    clause: String,
    #[serde(default)]
    amount: Option<AmountDoc>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct AmountDoc {
    #[serde(default)]
    param: Option<String>,
    #[serde(default)]
    basis: Option<AmountBasis>,
    /// `subject.fact` multiplying the amount.
    #[serde(default)]
    per: Option<String>,
    /// `subject.fact` whose money value is the amount.
    #[serde(default)]
    from_fact: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct NodeDoc {
    clause: String,
    label: Label,
    #[serde(default)]
    all: Option<Vec<NodeDoc>>,
    #[serde(default)]
    any: Option<Vec<NodeDoc>>,
    #[serde(default)]
    not: Option<Box<NodeDoc>>,
    #[serde(default)]
    compare: Option<CompareDoc>,
    #[serde(default)]
    in_set: Option<InSetDoc>,
    #[serde(default)]
    count_at_least: Option<CountDoc>,
    #[serde(default)]
    date_within: Option<DateWithinDoc>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct CompareDoc {
    fact: String,
    op: CmpOp,
    #[serde(default)]
    of: Aggregate,
    #[serde(default)]
    value: Option<ScalarDoc>,
    #[serde(default)]
    param: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct InSetDoc {
    fact: String,
    values: Vec<ScalarDoc>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct CountDoc {
    fact: String,
    #[serde(default)]
    n: Option<i64>,
    #[serde(default)]
    n_param: Option<String>,
    #[serde(default)]
    values: Option<Vec<ScalarDoc>>,
    #[serde(default, rename = "where")]
    where_: Option<WhereDoc>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct WhereDoc {
    op: CmpOp,
    #[serde(default)]
    value: Option<ScalarDoc>,
    #[serde(default)]
    param: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
struct DateWithinDoc {
    fact: String,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    until: Option<String>,
    /// Shorthand for the pack's own validity period (新增… during the policy).
    #[serde(default)]
    policy_validity: bool,
}

impl ScalarDoc {
    fn text(&self) -> String {
        match self {
            ScalarDoc::Bool(b) => b.to_string(),
            ScalarDoc::Int(i) => i.to_string(),
            ScalarDoc::Text(s) => s.clone(),
        }
    }
}

/// Parses a typed constant; `None` with a reason when it does not fit the type.
pub(crate) fn parse_scalar(ty: FactType, text: &str) -> Result<Scalar, String> {
    let t = text.trim();
    match ty {
        FactType::Bool => match t {
            "true" | "是" => Ok(Scalar::Bool(true)),
            "false" | "否" => Ok(Scalar::Bool(false)),
            _ => Err(format!("expected true/false, got {t:?}")),
        },
        FactType::Int => t
            .parse()
            .map(Scalar::Int)
            .map_err(|_| format!("expected a whole number, got {t:?}")),
        FactType::Money | FactType::MoneyList => Yuan::parse(t)
            .map(|y| Scalar::Money(y.fen()))
            .map_err(|e| e.to_string()),
        FactType::Date => yuepin_domain::parse_date("date", t)
            .map(Scalar::Date)
            .map_err(|e| e.to_string()),
        FactType::Code | FactType::Set => Err(format!("a {ty:?} is not a scalar")),
    }
}

/// Finds the line of `needles` matched in sequence (each after the previous), for messages.
fn locate(text: &str, needles: &[&str]) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0usize;
    let mut found = 0usize;
    for needle in needles {
        match lines
            .iter()
            .enumerate()
            .skip(at)
            .find(|(_, l)| l.contains(needle))
        {
            Some((i, _)) => {
                at = i;
                found = i + 1;
            }
            None => break,
        }
    }
    found
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

/// FNV-1a over the pack's text: a stable digest without a hashing dependency.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Ctx<'_> {
    fn err(
        &self,
        needles: &[&str],
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> PackError {
        PackError::Invalid {
            file: self.file.to_string(),
            line: locate(self.text, needles),
            field: field.into(),
            reason: reason.into(),
        }
    }
    fn date(&self, needles: &[&str], field: &str, s: &str) -> Result<NaiveDate, PackError> {
        yuepin_domain::parse_date("date", s).map_err(|e| self.err(needles, field, e.to_string()))
    }
}

impl PolicySet {
    /// The embedded 粤市监〔2023〕74号 pack.
    pub fn builtin() -> PolicySet {
        let mut set = PolicySet::default();
        // The embedded pack is tested at build time (tests/packs.rs); failing here is a bug.
        #[allow(clippy::expect_used)]
        set.load_str("gd-2023-74.yaml", crate::GD_2023_74_PACK)
            .expect("embedded pack is valid");
        set
    }

    /// Adds one pack (one policy document) beside those already loaded. On error the set is
    /// unchanged.
    pub fn load_str(&mut self, file: &str, text: &str) -> Result<(), PackError> {
        let doc: PackDoc = serde_yaml_ng::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            PackError::Syntax {
                file: file.to_string(),
                line,
                column,
                message: e.to_string(),
            }
        })?;
        let mut next = self.clone();
        next.add(&Ctx { file, text }, doc)?;
        *self = next;
        Ok(())
    }

    fn add(&mut self, cx: &Ctx<'_>, doc: PackDoc) -> Result<(), PackError> {
        let h = &doc.pack;
        if self.packs.iter().any(|p| p.id == h.id) {
            return Err(cx.err(
                &["id:"],
                "pack.id",
                format!("pack {:?} is already loaded", h.id),
            ));
        }
        let issued_on = cx.date(&["issued_on"], "pack.issued_on", &h.issued_on)?;
        let from = cx.date(
            &["validity", "from"],
            "pack.validity.from",
            &h.validity.from,
        )?;
        let in_force = match (h.validity.years, &h.validity.until) {
            (Some(years), None) => Period::for_years(from, years)
                .ok_or_else(|| cx.err(&["years"], "pack.validity.years", "out of range"))?,
            (None, Some(until)) => Period {
                from,
                until: cx.date(&["validity", "until"], "pack.validity.until", until)?,
            },
            _ => {
                return Err(cx.err(
                    &["validity"],
                    "pack.validity",
                    "give exactly one of `years` or `until`",
                ))
            }
        };
        if in_force.until < in_force.from {
            return Err(cx.err(&["validity"], "pack.validity", "ends before it starts"));
        }
        let pack_idx = self.packs.len();
        self.packs.push(Pack {
            id: h.id.clone(),
            file: cx.file.to_string(),
            number: h.number.clone(),
            title: h.title.clone(),
            issuing_units: h.issuing_units.clone(),
            issued_on,
            in_force,
            validity_clause: h.validity.clause.clone(),
            version: h
                .version
                .clone()
                .unwrap_or_else(|| format!("fnv1a-{:016x}", fnv1a(cx.text))),
            example: h.example,
        });

        for (subject, facts) in &doc.facts {
            for (name, f) in facts {
                let field = format!("facts.{subject}.{name}");
                let needles = [subject.code(), &format!("{name}:")];
                if let Some(old) = self.fact(*subject, name) {
                    if old.ty != f.ty {
                        return Err(cx.err(
                            &needles,
                            field,
                            format!("already declared as {:?} by an earlier pack", old.ty),
                        ));
                    }
                    continue;
                }
                if !f.values.is_empty() && !matches!(f.ty, FactType::Code | FactType::Set) {
                    return Err(cx.err(
                        &needles,
                        field,
                        "`values` only apply to code and set facts",
                    ));
                }
                let id = FactId(self.fact_count(*subject) as u16);
                self.facts.push(FactDef {
                    subject: *subject,
                    id,
                    name: name.clone(),
                    ty: f.ty,
                    label: f.label.clone(),
                    domain: Vec::new(),
                    open: f.open,
                    unrecorded: 0,
                });
                for v in &f.values {
                    self.intern_code(*subject, id, v)
                        .map_err(|why| cx.err(&needles, format!("{field}.values"), why))?;
                }
                if !f.unrecorded.is_empty() && f.ty != FactType::Set {
                    return Err(cx.err(
                        &needles,
                        format!("{field}.unrecorded"),
                        "`unrecorded` only applies to set facts",
                    ));
                }
                let mut bits = 0u128;
                for v in &f.unrecorded {
                    let Some(i) = f.values.iter().position(|c| c == v) else {
                        return Err(cx.err(
                            &needles,
                            format!("{field}.unrecorded"),
                            format!("{v:?} is not one of the fact's values"),
                        ));
                    };
                    bits |= 1u128 << i;
                }
                if let Some(def) = self.facts.last_mut() {
                    def.unrecorded = bits;
                }
            }
        }

        // Measures are read first (ids only) so parameters can name them.
        let mut seen_ids: Vec<&str> = Vec::new();
        for m in &doc.measures {
            if seen_ids.contains(&m.id.as_str()) {
                return Err(cx.err(
                    &[&format!("id: {}", m.id)],
                    "measures.id",
                    format!("duplicate measure id {:?}", m.id),
                ));
            }
            seen_ids.push(&m.id);
        }

        for (name, p) in &doc.parameters {
            let field = format!("parameters.{name}");
            let needles = ["parameters:", &format!("{name}:")];
            if self.parameter(name).is_some() {
                return Err(cx.err(
                    &needles,
                    field,
                    "a parameter of that name is already loaded",
                ));
            }
            let Some(measure) = doc.measures.iter().find(|m| m.id == p.measure) else {
                return Err(cx.err(
                    &needles,
                    format!("{field}.measure"),
                    format!("no measure {:?} in this pack", p.measure),
                ));
            };
            if !measure.clause_text.contains(&p.clause) {
                return Err(cx.err(
                    &needles,
                    format!("{field}.clause"),
                    format!(
                        "{:?} is not quoted verbatim from {}'s clause",
                        p.clause, p.measure
                    ),
                ));
            }
            if !matches!(
                p.ty,
                FactType::Int | FactType::Money | FactType::Date | FactType::Bool
            ) {
                return Err(cx.err(
                    &needles,
                    format!("{field}.type"),
                    "parameters are int, money, date or bool",
                ));
            }
            let mut values = Vec::new();
            for v in &p.values {
                let from = cx.date(
                    &[&format!("{name}:"), &v.from],
                    &format!("{field}.values.from"),
                    &v.from,
                )?;
                let value = match &v.value {
                    None => None,
                    Some(s) => Some(parse_scalar(p.ty, &s.text()).map_err(|why| {
                        cx.err(
                            &[&format!("{name}:"), &s.text()],
                            format!("{field}.values.value"),
                            why,
                        )
                    })?),
                };
                values.push(DatedValue { from, value });
            }
            values.sort_by_key(|v| v.from);
            self.parameters.push(Parameter {
                name: name.clone(),
                ty: p.ty,
                label: p.label.clone(),
                pack: pack_idx,
                measure: p.measure.clone(),
                clause: p.clause.clone(),
                values,
            });
        }

        for m in &doc.measures {
            let anchor = format!("id: {}", m.id);
            let field = format!("measures.{}", m.id);
            let in_force = match &m.in_force {
                None => in_force,
                Some(p) => Period {
                    from: cx.date(
                        &[&anchor, "from"],
                        &format!("{field}.in_force.from"),
                        &p.from,
                    )?,
                    until: cx.date(
                        &[&anchor, "until"],
                        &format!("{field}.in_force.until"),
                        &p.until,
                    )?,
                },
            };
            if m.responsible.units.is_empty() {
                return Err(cx.err(
                    &[&anchor, "responsible"],
                    format!("{field}.responsible.units"),
                    "at least one responsible unit",
                ));
            }
            let mut benefits = Vec::new();
            for b in &m.benefits {
                if !m.clause_text.contains(&b.clause) {
                    return Err(cx.err(
                        &[&anchor, &b.clause],
                        format!("{field}.benefits.clause"),
                        format!("{:?} is not quoted verbatim from the clause", b.clause),
                    ));
                }
                let amount = match &b.amount {
                    None => None,
                    Some(a) => Some(self.amount(cx, &anchor, &field, a)?),
                };
                benefits.push(Benefit {
                    kind: b.kind,
                    label: b.label.clone(),
                    clause: b.clause.clone(),
                    amount,
                });
            }
            if m.eligibility.is_empty() {
                return Err(cx.err(
                    &[&anchor],
                    format!("{field}.eligibility"),
                    "needs a rule for at least one subject kind",
                ));
            }
            let mut rules = Vec::new();
            for (subject, node) in &m.eligibility {
                let mut nodes = Vec::new();
                self.compile_node(
                    cx,
                    &anchor,
                    &format!("{field}.eligibility.{subject}"),
                    *subject,
                    m,
                    in_force,
                    node,
                    &mut nodes,
                )?;
                rules.push(Rule {
                    subject: *subject,
                    nodes,
                });
            }
            let money = match &m.money {
                None => None,
                Some(doc) => {
                    let param = |n: &str| self.parameter(n).map(|(i, p)| (i, p.ty));
                    let domain = |s: SubjectKind, n: &str| {
                        self.fact(s, n)
                            .map(|d| d.domain.clone())
                            .unwrap_or_default()
                    };
                    let mcx = crate::money::MoneyCtx {
                        in_force,
                        texts: [&m.clause_text, &h.validity.clause],
                        validity_clause: &h.validity.clause,
                        param: &param,
                        domain: &domain,
                    };
                    Some(crate::money::build(doc, &mcx).map_err(|(f, reason)| {
                        cx.err(&[&anchor, "money:"], format!("{field}.{f}"), reason)
                    })?)
                }
            };
            self.measures.push(Measure {
                pack: pack_idx,
                id: m.id.clone(),
                key: format!("{}/{}", h.id, m.id),
                number: m.number,
                group: m.group,
                title: m.title.clone(),
                clause_text: m.clause_text.clone(),
                responsible: Responsibility {
                    lead: m.responsible.mode == ResponsibleMode::Lead,
                    units: m.responsible.units.clone(),
                },
                programme: m.programme,
                topic: m.topic.clone(),
                supersedes: m.supersedes.clone(),
                in_force,
                benefits,
                money,
                rules,
            });
        }
        for m in &doc.measures {
            for s in &m.supersedes {
                if self.find_measure(s).is_none() {
                    return Err(cx.err(
                        &[&format!("id: {}", m.id), s],
                        format!("measures.{}.supersedes", m.id),
                        format!("no loaded measure {s:?}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn intern_code(&mut self, subject: SubjectKind, id: FactId, code: &str) -> Result<u16, String> {
        let Some(def) = self
            .facts
            .iter_mut()
            .find(|f| f.subject == subject && f.id == id)
        else {
            return Err("unknown fact".into());
        };
        if let Some(i) = def.domain.iter().position(|c| c == code) {
            return Ok(i as u16);
        }
        if def.domain.len() >= MAX_CODES {
            return Err(format!("more than {MAX_CODES} distinct codes"));
        }
        def.domain.push(code.to_string());
        Ok((def.domain.len() - 1) as u16)
    }

    fn subject_fact(
        &self,
        cx: &Ctx<'_>,
        anchor: &str,
        field: &str,
        path: &str,
    ) -> Result<(SubjectKind, FactId), PackError> {
        let (s, f) = path.split_once('.').unwrap_or(("", path));
        let subject = SubjectKind::parse(s).ok_or_else(|| {
            cx.err(
                &[anchor, path],
                field,
                format!("{path:?}: write subject.fact, e.g. standard.count"),
            )
        })?;
        let def = self
            .fact(subject, f)
            .ok_or_else(|| cx.err(&[anchor, path], field, format!("unknown fact {path:?}")))?;
        Ok((subject, def.id))
    }

    fn amount(
        &self,
        cx: &Ctx<'_>,
        anchor: &str,
        field: &str,
        a: &AmountDoc,
    ) -> Result<Amount, PackError> {
        let field = format!("{field}.benefits.amount");
        match (&a.param, &a.from_fact) {
            (Some(p), None) => {
                let (idx, param) = self.parameter(p).ok_or_else(|| {
                    cx.err(&[anchor, p], &field, format!("unknown parameter {p:?}"))
                })?;
                if param.ty != FactType::Money {
                    return Err(cx.err(&[anchor, p], &field, "amount parameters must be money"));
                }
                let per = match &a.per {
                    None => None,
                    Some(path) => {
                        let (s, id) = self.subject_fact(cx, anchor, &field, path)?;
                        if self.fact_def(s, id).map(|d| d.ty) != Some(FactType::Int) {
                            return Err(cx.err(
                                &[anchor, path],
                                &field,
                                "`per` must be an int fact",
                            ));
                        }
                        Some((s, id))
                    }
                };
                Ok(Amount::Param {
                    param: idx,
                    basis: a.basis.unwrap_or(AmountBasis::Cap),
                    per,
                })
            }
            (None, Some(path)) => {
                let (subject, fact) = self.subject_fact(cx, anchor, &field, path)?;
                if self.fact_def(subject, fact).map(|d| d.ty) != Some(FactType::Money) {
                    return Err(cx.err(
                        &[anchor, path],
                        &field,
                        "`from_fact` must be a money fact",
                    ));
                }
                Ok(Amount::FromFact { subject, fact })
            }
            _ => Err(cx.err(
                &[anchor, "amount"],
                &field,
                "give exactly one of `param` or `from_fact`",
            )),
        }
    }

    fn operand(
        &self,
        cx: &Ctx<'_>,
        needles: &[&str],
        field: &str,
        ty: FactType,
        value: &Option<ScalarDoc>,
        param: &Option<String>,
    ) -> Result<Operand, PackError> {
        match (value, param) {
            (Some(v), None) => parse_scalar(ty, &v.text())
                .map(Operand::Literal)
                .map_err(|why| cx.err(needles, format!("{field}.value"), why)),
            (None, Some(p)) => {
                let (idx, def) = self.parameter(p).ok_or_else(|| {
                    cx.err(
                        needles,
                        format!("{field}.param"),
                        format!("unknown parameter {p:?}"),
                    )
                })?;
                let want = if ty == FactType::MoneyList {
                    FactType::Money
                } else {
                    ty
                };
                if def.ty != want {
                    return Err(cx.err(
                        needles,
                        format!("{field}.param"),
                        format!("parameter {p:?} is {:?}, the fact needs {want:?}", def.ty),
                    ));
                }
                Ok(Operand::Param(idx))
            }
            _ => Err(cx.err(needles, field, "give exactly one of `value` or `param`")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn compile_node(
        &mut self,
        cx: &Ctx<'_>,
        anchor: &str,
        field: &str,
        subject: SubjectKind,
        m: &MeasureDoc,
        in_force: Period,
        n: &NodeDoc,
        out: &mut Vec<Node>,
    ) -> Result<u32, PackError> {
        let needles = [anchor, &n.clause];
        if n.clause.trim().is_empty() || !m.clause_text.contains(&n.clause) {
            return Err(cx.err(
                &[anchor, &format!("clause: {}", n.clause)],
                format!("{field}.clause"),
                format!(
                    "{:?} is not quoted verbatim from {}'s clause",
                    n.clause, m.id
                ),
            ));
        }
        if n.label.zh.trim().is_empty() || n.label.en.trim().is_empty() {
            return Err(cx.err(
                &needles,
                format!("{field}.label"),
                "both zh and en labels are required",
            ));
        }
        let ops = [
            n.all.is_some(),
            n.any.is_some(),
            n.not.is_some(),
            n.compare.is_some(),
            n.in_set.is_some(),
            n.count_at_least.is_some(),
            n.date_within.is_some(),
        ];
        if ops.iter().filter(|b| **b).count() != 1 {
            return Err(cx.err(
                &needles,
                field,
                "a node has exactly one of all/any/not/compare/in_set/count_at_least/date_within",
            ));
        }
        let me = out.len() as u32;
        out.push(Node {
            op: NodeOp::All(Vec::new()),
            label: n.label.clone(),
            clause: n.clause.clone(),
        });
        let fact = |set: &PolicySet, name: &str| -> Result<(FactId, FactType), PackError> {
            set.fact(subject, name)
                .map(|d| (d.id, d.ty))
                .ok_or_else(|| {
                    cx.err(
                        &[anchor, &format!("fact: {name}")],
                        format!("{field}.fact"),
                        format!("unknown {subject} fact {name:?}"),
                    )
                })
        };
        let op = if let Some(children) = n.all.as_ref().or(n.any.as_ref()) {
            if children.is_empty() {
                return Err(cx.err(&needles, field, "all/any needs at least one child"));
            }
            let mut ids = Vec::new();
            for (i, c) in children.iter().enumerate() {
                let kind = if n.all.is_some() { "all" } else { "any" };
                ids.push(self.compile_node(
                    cx,
                    anchor,
                    &format!("{field}.{kind}[{i}]"),
                    subject,
                    m,
                    in_force,
                    c,
                    out,
                )?);
            }
            if n.all.is_some() {
                NodeOp::All(ids)
            } else {
                NodeOp::Any(ids)
            }
        } else if let Some(c) = &n.not {
            NodeOp::Not(self.compile_node(
                cx,
                anchor,
                &format!("{field}.not"),
                subject,
                m,
                in_force,
                c,
                out,
            )?)
        } else if let Some(c) = &n.compare {
            let (id, ty) = fact(self, &c.fact)?;
            let needles = [anchor, &format!("fact: {}", c.fact)];
            let operand_ty = match (ty, c.of) {
                (FactType::MoneyList, Aggregate::Sum | Aggregate::Max | Aggregate::Min) => {
                    FactType::Money
                }
                (FactType::MoneyList | FactType::Set, Aggregate::Count) => FactType::Int,
                (
                    FactType::Bool | FactType::Int | FactType::Money | FactType::Date,
                    Aggregate::Value,
                ) => ty,
                _ => {
                    return Err(cx.err(
                        &needles,
                        format!("{field}.compare.of"),
                        format!("cannot compare a {ty:?} fact with `of: {:?}`", c.of),
                    ))
                }
            };
            let rhs = self.operand(
                cx,
                &needles,
                &format!("{field}.compare"),
                operand_ty,
                &c.value,
                &c.param,
            )?;
            NodeOp::Compare {
                fact: id,
                of: c.of,
                op: c.op,
                rhs,
            }
        } else if let Some(c) = &n.in_set {
            let (id, ty) = fact(self, &c.fact)?;
            if !matches!(ty, FactType::Code | FactType::Set) {
                return Err(cx.err(
                    &[anchor, &format!("fact: {}", c.fact)],
                    format!("{field}.in_set.fact"),
                    "in_set needs a code or set fact",
                ));
            }
            let mask = self.mask(cx, anchor, field, subject, id, &c.values)?;
            NodeOp::InSet { fact: id, mask }
        } else if let Some(c) = &n.count_at_least {
            let (id, ty) = fact(self, &c.fact)?;
            let needles = [anchor, &format!("fact: {}", c.fact)];
            let at_least = match (&c.n, &c.n_param) {
                (Some(v), None) => Operand::Literal(Scalar::Int(*v)),
                (None, p @ Some(_)) => self.operand(
                    cx,
                    &needles,
                    &format!("{field}.count_at_least"),
                    FactType::Int,
                    &None,
                    p,
                )?,
                _ => {
                    return Err(cx.err(
                        &needles,
                        format!("{field}.count_at_least"),
                        "give exactly one of `n` or `n_param`",
                    ))
                }
            };
            let filter = match (ty, &c.values, &c.where_) {
                (FactType::Set, Some(values), None) => {
                    CountFilter::Codes(self.mask(cx, anchor, field, subject, id, values)?)
                }
                (FactType::MoneyList, None, Some(w)) => CountFilter::Where {
                    op: w.op,
                    rhs: self.operand(
                        cx,
                        &needles,
                        &format!("{field}.count_at_least.where"),
                        FactType::Money,
                        &w.value,
                        &w.param,
                    )?,
                },
                _ => {
                    return Err(cx.err(
                        &needles,
                        format!("{field}.count_at_least"),
                        "a set fact takes `values`, a money_list fact takes `where`",
                    ))
                }
            };
            NodeOp::CountAtLeast {
                fact: id,
                filter,
                at_least,
            }
        } else if let Some(c) = &n.date_within {
            let (id, ty) = fact(self, &c.fact)?;
            let needles = [anchor, &format!("fact: {}", c.fact)];
            if ty != FactType::Date {
                return Err(cx.err(
                    &needles,
                    format!("{field}.date_within.fact"),
                    "date_within needs a date fact",
                ));
            }
            let (from, until) = if c.policy_validity {
                (Some(in_force.from), Some(in_force.until))
            } else {
                let d = |s: &Option<String>, f: &str| {
                    s.as_ref()
                        .map(|s| cx.date(&needles, &format!("{field}.date_within.{f}"), s))
                        .transpose()
                };
                (d(&c.from, "from")?, d(&c.until, "until")?)
            };
            NodeOp::DateWithin {
                fact: id,
                from,
                until,
            }
        } else {
            return Err(cx.err(&needles, field, "empty node"));
        };
        out[me as usize].op = op;
        Ok(me)
    }

    fn mask(
        &mut self,
        cx: &Ctx<'_>,
        anchor: &str,
        field: &str,
        subject: SubjectKind,
        id: FactId,
        values: &[ScalarDoc],
    ) -> Result<u128, PackError> {
        let open = self.fact_def(subject, id).is_some_and(|d| d.open);
        let mut mask = 0u128;
        for v in values {
            let code = v.text();
            let known = self
                .fact_def(subject, id)
                .is_some_and(|d| d.domain.contains(&code));
            if !known && !open {
                return Err(cx.err(
                    &[anchor, &code],
                    format!("{field}.values"),
                    format!("{code:?} is not a declared value of this fact"),
                ));
            }
            let bit = self
                .intern_code(subject, id, &code)
                .map_err(|why| cx.err(&[anchor, &code], format!("{field}.values"), why))?;
            mask |= 1u128 << bit;
        }
        Ok(mask)
    }
}
