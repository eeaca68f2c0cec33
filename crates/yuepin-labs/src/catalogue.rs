//! The catalogue of shared testing resources: labs with their CMA/CNAS accreditation, the
//! instruments they rent out by the hour (分时租赁), the services they perform for others
//! (实验外包, 代检代测) and the five service areas of the one-stop view (measure 4).

use crate::error::LabError;
use crate::pricing::Tariff;
use crate::time::WeeklySchedule;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use yuepin_domain::{RegionCode, StandardCode, Yuan};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub u64);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}
id_type!(
    /// A lab's database id.
    LabId
);
id_type!(
    /// An instrument's database id.
    InstrumentId
);
id_type!(
    /// A service's database id.
    ServiceId
);

/// CNAS laboratory accreditation number, normalised to "CNAS L1234" (L plus 4–5 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CnasNumber(String);

yuepin_domain::openapi_string!(
    CnasNumber,
    "CNAS laboratory accreditation number",
    "CNAS L1234",
    pattern = "^CNAS L[0-9]{4,5}$"
);

impl CnasNumber {
    /// Accepts "CNAS L1234", "CNASL1234", "cnas l12345" and the bare "L1234".
    pub fn parse(input: &str) -> Result<Self, LabError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let rest = compact.strip_prefix("CNAS").unwrap_or(&compact);
        let digits = rest.strip_prefix('L').unwrap_or("");
        if (4..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(format!("CNAS L{digits}")))
        } else {
            Err(LabError::new(
                "cnas",
                format!("无法识别的 CNAS 认可号 {:?} (expected CNAS L followed by 4–5 digits, e.g. CNAS L1234)", input.trim()),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// CMA (检验检测机构资质认定) certificate number: 12 digits. The first two are the year of
/// issue and the next two the province (19 = Guangdong in the current numbering), but older
/// certificates differ, so only the shape is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CmaNumber(String);

yuepin_domain::openapi_string!(CmaNumber, "CMA certificate number", "201919000123");

impl CmaNumber {
    pub fn parse(input: &str) -> Result<Self, LabError> {
        let s: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        let s = s.strip_prefix("CMA").unwrap_or(&s);
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_string()))
        } else {
            Err(LabError::new(
                "cma",
                format!(
                    "无法识别的 CMA 证书编号 {:?} (expected 12 digits, e.g. 201919123456)",
                    input.trim()
                ),
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_conversions {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = LabError;
            fn try_from(s: String) -> Result<Self, LabError> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
string_conversions!(CnasNumber);
string_conversions!(CmaNumber);
string_conversions!(TestItem);
string_conversions!(Qualification);

/// A test item (检测项目) such as "盐雾试验" or "重金属含量"; trimmed, internal whitespace
/// collapsed, 1–100 characters. Used as the search key, so equal spellings compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TestItem(String);

yuepin_domain::openapi_string!(
    TestItem,
    "Test item (检测项目), 1–100 characters",
    "盐雾试验"
);

impl TestItem {
    pub fn parse(input: &str) -> Result<Self, LabError> {
        let s = input.split_whitespace().collect::<Vec<_>>().join(" ");
        let len = s.chars().count();
        if len == 0 || len > 100 {
            return Err(LabError::new(
                "test_item",
                format!(
                    "检测项目名称须为 1–100 个字符 (test item must be 1–100 characters): {input:?}"
                ),
            ));
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An operator qualification an instrument demands for self-operation (e.g. "X射线辐射安全").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Qualification(String);

yuepin_domain::openapi_string!(Qualification, "Operator qualification", "X射线辐射安全");

impl Qualification {
    pub fn parse(input: &str) -> Result<Self, LabError> {
        let s = input.trim();
        if s.is_empty() || s.chars().count() > 100 {
            return Err(LabError::new(
                "qualification",
                format!(
                    "资格名称须为 1–100 个字符 (qualification must be 1–100 characters): {input:?}"
                ),
            ));
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A qualification an operator holds, valid up to and including `valid_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldQualification {
    pub qualification: Qualification,
    pub valid_until: NaiveDate,
}

/// The five quality-infrastructure areas that measure 4 asks to serve "one-stop".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceArea {
    Metrology,
    Standards,
    Testing,
    Certification,
    Reliability,
}

impl ServiceArea {
    pub const ALL: [ServiceArea; 5] = [
        Self::Metrology,
        Self::Standards,
        Self::Testing,
        Self::Certification,
        Self::Reliability,
    ];
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Metrology => "计量",
            Self::Standards => "标准",
            Self::Testing => "检验检测",
            Self::Certification => "认证",
            Self::Reliability => "可靠性",
        }
    }
}

/// How a lab performs a service for an enterprise (measure 3's 实验外包 / 代检代测).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    /// 实验外包: the enterprise designs the experiment, the lab runs it.
    OutsourcedExperiment,
    /// 代检代测: the lab tests the enterprise's samples to a standard and issues a report.
    TestingOnBehalf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub person: String,
    pub phone: String,
    pub email: Option<String>,
}

/// A test item together with the standards the lab or instrument tests it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestMethod {
    pub item: TestItem,
    pub standards: Vec<StandardCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lab {
    pub id: LabId,
    pub name: String,
    pub cma: Option<CmaNumber>,
    pub cnas: Option<CnasNumber>,
    /// Accredited scope: what the CMA/CNAS certificates cover.
    pub scope: Vec<TestMethod>,
    pub areas: Vec<ServiceArea>,
    pub city: RegionCode,
    pub contact: Contact,
    pub opening_hours: WeeklySchedule,
}

impl Lab {
    /// Reports carrying the CMA mark need a CMA certificate; CNAS is optional (international
    /// recognition). A lab with neither may still rent out instruments.
    pub fn may_issue_reports(&self) -> bool {
        self.cma.is_some()
    }
    pub fn accredited_for(&self, item: &TestItem) -> bool {
        self.scope.iter().any(|m| &m.item == item)
    }
}

/// An accessory rented together with an instrument, charged per booked hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accessory {
    pub name: String,
    pub hourly: Yuan,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Instrument {
    pub id: InstrumentId,
    pub lab: LabId,
    pub name: String,
    pub model: String,
    pub maker: String,
    pub purchase_price: Yuan,
    pub purchased_on: NaiveDate,
    /// Room/building, shown on bookings and calendar entries.
    pub location: String,
    /// Where the instrument stands (usually the lab's city; a district code is allowed).
    pub city: RegionCode,
    pub capabilities: Vec<String>,
    pub test_methods: Vec<TestMethod>,
    pub tariff: Tariff,
    pub accessories: Vec<Accessory>,
    /// Needed to operate it oneself; `None` means any trained user may.
    pub operator_qualification: Option<Qualification>,
    pub opening_hours: WeeklySchedule,
}

impl Instrument {
    pub fn tests(&self, item: &TestItem) -> bool {
        self.test_methods.iter().any(|m| &m.item == item)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    pub id: ServiceId,
    pub lab: LabId,
    pub area: ServiceArea,
    pub mode: ServiceMode,
    pub method: TestMethod,
    pub price_per_sample: Yuan,
    pub turnaround_days: u16,
}

/// The one-stop view (measure 4): services offered in a city (all cities if `None`), grouped
/// by area in the fixed order metrology, standards, testing, certification, reliability.
pub fn one_stop<'a>(
    labs: &[Lab],
    services: &'a [Service],
    city: Option<&RegionCode>,
) -> BTreeMap<ServiceArea, Vec<&'a Service>> {
    let lab_city: BTreeMap<LabId, &str> = labs
        .iter()
        .map(|l| (l.id, l.city.city().code.as_str()))
        .collect();
    let wanted = city.map(|c| c.city().code.as_str());
    let mut out: BTreeMap<ServiceArea, Vec<&Service>> = BTreeMap::new();
    for s in services {
        let here = lab_city.get(&s.lab).copied();
        if wanted.is_none() || (here.is_some() && here == wanted) {
            out.entry(s.area).or_default().push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accreditation_numbers() {
        assert_eq!(
            CnasNumber::parse("CNAS L1234").unwrap().as_str(),
            "CNAS L1234"
        );
        assert_eq!(
            CnasNumber::parse("cnasl12345").unwrap().as_str(),
            "CNAS L12345"
        );
        assert_eq!(CnasNumber::parse("L0567").unwrap().as_str(), "CNAS L0567");
        for bad in [
            "CNAS 1234",
            "CNAS L12",
            "CNAS L123456",
            "CNAS LABCD",
            "",
            "C1234",
        ] {
            assert!(CnasNumber::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            CmaNumber::parse("2019 1912 3456").unwrap().as_str(),
            "201919123456"
        );
        for bad in ["20191912345", "2019191234567", "20191912345x", ""] {
            assert!(CmaNumber::parse(bad).is_err(), "{bad}");
        }
        let e = CmaNumber::parse("123").unwrap_err();
        assert_eq!(e.field, "cma");
        assert!(e.reason.contains("12 digits"));
    }

    #[test]
    fn test_items_normalise() {
        assert_eq!(
            TestItem::parse("  中性 盐雾\t试验 ").unwrap(),
            TestItem::parse("中性 盐雾 试验").unwrap()
        );
        assert!(TestItem::parse("   ").is_err());
        assert!(TestItem::parse(&"测".repeat(101)).is_err());
    }
}
