//! Subject facts: [`Facts`] as requests and the platform supply them (names → JSON values), and
//! [`FactRow`], the interned, typed form the engine evaluates (one slot per [`FactId`]).
//! Absent facts stay [`FactValue::Missing`]: missing is never read as false.

use crate::model::Scalar;
use crate::model::{FactDef, FactId, FactType, PolicySet, SubjectKind};
use crate::pack::parse_scalar;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use yuepin_domain::{Enterprise, Yuan};

/// A fact value in the engine's form. Codes are indices into the fact's domain; sets are bit
/// masks over it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FactValue {
    #[default]
    Missing,
    Bool(bool),
    Int(i64),
    /// Whole fen.
    Money(i64),
    Date(NaiveDate),
    /// Index into the fact's domain; [`FactValue::OTHER_CODE`] for an unlisted code.
    Code(u16),
    Set(u128),
    /// Whole fen per element.
    MoneyList(Box<[i64]>),
}

impl FactValue {
    /// A code outside the fact's domain (accepted for open facts; never matches).
    pub const OTHER_CODE: u16 = u16::MAX;
}

/// One subject's facts, indexed by [`FactId`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactRow {
    pub subject: SubjectKind,
    pub values: Vec<FactValue>,
}

impl FactRow {
    /// A row with every fact missing.
    pub fn empty(set: &PolicySet, subject: SubjectKind) -> Self {
        Self {
            subject,
            values: vec![FactValue::Missing; set.fact_count(subject)],
        }
    }
    pub fn get(&self, id: FactId) -> &FactValue {
        self.values
            .get(id.0 as usize)
            .unwrap_or(&FactValue::Missing)
    }
    /// Sets a slot; out-of-range ids are ignored (the row was built for another policy set).
    pub fn set(&mut self, id: FactId, value: FactValue) {
        if let Some(slot) = self.values.get_mut(id.0 as usize) {
            *slot = value;
        }
    }
}

/// A fact that could not be read, naming the fact and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    #[error("{subject} facts must be a JSON object")]
    NotAnObject { subject: SubjectKind },
    #[error("{subject}.{fact}: unknown fact (see docs/policy.md for the vocabulary)")]
    Unknown { subject: SubjectKind, fact: String },
    #[error("{subject}.{fact}: {reason}")]
    Invalid {
        subject: SubjectKind,
        fact: String,
        reason: String,
    },
}

/// Facts about one subject as named JSON values, e.g. from a request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facts {
    pub subject: SubjectKind,
    pub values: Map<String, Value>,
}

impl Facts {
    pub fn new(subject: SubjectKind) -> Self {
        Self {
            subject,
            values: Map::new(),
        }
    }
    /// Reads a JSON object of facts (`{"revenue_china": "25亿元", "designations": [...]}`);
    /// `null` counts as missing.
    pub fn from_json(subject: SubjectKind, value: Value) -> Result<Self, FactError> {
        match value {
            Value::Object(values) => Ok(Self { subject, values }),
            _ => Err(FactError::NotAnObject { subject }),
        }
    }
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.values.insert(name.to_string(), value.into());
        self
    }

    /// Types and interns the facts against `set`'s vocabulary.
    pub fn to_row(&self, set: &PolicySet) -> Result<FactRow, FactError> {
        let mut row = FactRow::empty(set, self.subject);
        for (name, value) in &self.values {
            let def = set
                .fact(self.subject, name)
                .ok_or_else(|| FactError::Unknown {
                    subject: self.subject,
                    fact: name.clone(),
                })?;
            let typed = typed_value(def, value).map_err(|reason| FactError::Invalid {
                subject: self.subject,
                fact: name.clone(),
                reason,
            })?;
            row.set(def.id, typed);
        }
        Ok(row)
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn money(v: &Value) -> Result<i64, String> {
    let text = scalar_text(v).ok_or_else(|| format!("expected an amount, got {v}"))?;
    Yuan::parse(&text)
        .map(|y| y.fen())
        .map_err(|e| e.to_string())
}

fn code(def: &FactDef, v: &Value) -> Result<Option<u16>, String> {
    let text = scalar_text(v).ok_or_else(|| format!("expected a code, got {v}"))?;
    let text = text.trim();
    match def.domain.iter().position(|c| c == text) {
        Some(i) => Ok(Some(i as u16)),
        None if def.open => Ok(None),
        None => Err(format!("{text:?} is not one of {}", def.domain.join(", "))),
    }
}

/// Converts one JSON value into the engine form for `def`'s type.
pub(crate) fn typed_value(def: &FactDef, v: &Value) -> Result<FactValue, String> {
    if v.is_null() {
        return Ok(FactValue::Missing);
    }
    Ok(match def.ty {
        FactType::Bool => match v {
            Value::Bool(b) => FactValue::Bool(*b),
            _ => return Err(format!("expected true or false, got {v}")),
        },
        FactType::Int => match v.as_i64() {
            Some(i) => FactValue::Int(i),
            None => match v.as_str().map(|s| s.trim().parse::<i64>()) {
                Some(Ok(i)) => FactValue::Int(i),
                _ => return Err(format!("expected a whole number, got {v}")),
            },
        },
        FactType::Money => FactValue::Money(money(v)?),
        FactType::Date => {
            let text = v
                .as_str()
                .ok_or_else(|| format!("expected a date string, got {v}"))?;
            match parse_scalar(FactType::Date, text)? {
                Scalar::Date(d) => FactValue::Date(d),
                _ => return Err("expected a date".into()),
            }
        }
        FactType::Code => FactValue::Code(code(def, v)?.unwrap_or(FactValue::OTHER_CODE)),
        FactType::Set => {
            let items = v
                .as_array()
                .ok_or_else(|| format!("expected a list of codes, got {v}"))?;
            let mut bits = 0u128;
            for item in items {
                if let Some(bit) = code(def, item)? {
                    bits |= 1u128 << bit;
                }
            }
            FactValue::Set(bits)
        }
        FactType::MoneyList => {
            let items = v
                .as_array()
                .ok_or_else(|| format!("expected a list of amounts, got {v}"))?;
            let list: Result<Vec<i64>, String> = items
                .iter()
                .enumerate()
                .map(|(i, item)| money(item).map_err(|e| format!("element {i}: {e}")))
                .collect();
            FactValue::MoneyList(list?.into_boxed_slice())
        }
    })
}

/// The platform's enterprise facts as of `as_of`: active designations, division, city,
/// employees, registered capital, founding date, listing and the previous fiscal year's revenue
/// (absent when not reported). Facts the record does not hold are left out (missing).
pub fn enterprise_facts(e: &Enterprise, as_of: NaiveDate) -> Facts {
    let designations: Vec<Value> = e
        .active_designations(as_of)
        .map(|d| Value::from(d.code()))
        .collect();
    let mut f = Facts::new(SubjectKind::Enterprise)
        .with("designations", designations)
        .with("division", format!("{:02}", e.division.code()))
        .with("city", e.region.city().code.clone())
        .with("employees", e.employees)
        .with("registered_capital", e.registered_capital.to_string())
        .with("founded_on", e.founded_on.to_string())
        .with("listing", e.listing.as_str());
    if let Some(fin) = e.last_fiscal_year(as_of) {
        f = f.with("revenue_china", fin.revenue_china.to_string());
        if let Some(world) = fin.revenue_world {
            f = f.with("revenue_world", world.to_string());
        }
    }
    f
}
