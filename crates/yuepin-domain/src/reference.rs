//! Reference tables compiled into the binary: Guangdong's 21 prefecture-level cities (GB/T 2260),
//! the GB/T 4754-2017 manufacturing divisions 13–43, and the 29 measures of 粤市监〔2023〕74号.
//! Source CSVs are copied from `shared/reference/` into `data/` so the binary never reads them.

use chrono::NaiveDate;
use serde::Serialize;
use std::sync::OnceLock;

const CITIES_CSV: &str = include_str!("../data/guangdong-cities.csv");
const DIVISIONS_CSV: &str = include_str!("../data/manufacturing-divisions-gbt4754-2017.csv");
const MEASURES_CSV: &str = include_str!("../data/measures.csv");
/// The cleaned policy text, from which clauses are cited.
pub const POLICY_TEXT_ZH: &str = include_str!("../data/measures-zh.txt");

/// The policy document this platform implements.
pub const POLICY_NUMBER: &str = "粤市监〔2023〕74号";
pub const POLICY_TITLE_ZH: &str = "广东省全面提升制造业质量品牌水平的若干政策措施";
pub const POLICY_TITLE_EN: &str =
    "Measures to comprehensively raise the quality and brand level of manufacturing in Guangdong";

/// First day in force (the issue date, 2023-10-12).
pub fn policy_effective_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 10, 12).expect("valid date")
}

/// Last day in force: three years counted from 2023-10-12 end on 2026-10-11.
pub fn policy_effective_until() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 11).expect("valid date")
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct City {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

impl City {
    /// The name without its 市 suffix, as people often write it ("东莞").
    pub fn short_zh(&self) -> &str {
        self.name_zh.strip_suffix('市').unwrap_or(&self.name_zh)
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DivisionInfo {
    pub code: u8,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureInfo {
    pub number: u8,
    pub title_zh: String,
    pub group_zh: String,
    /// 1-based group number (一 … 五).
    pub group: u8,
    pub responsible_units: Vec<String>,
    /// `true` when the units share the work (按职责分工负责), `false` when one unit leads.
    pub shared: bool,
}

fn rows(csv_text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.expect("embedded reference CSV is well-formed"))
        .collect()
}

pub fn cities() -> &'static [City] {
    static CELL: OnceLock<Vec<City>> = OnceLock::new();
    CELL.get_or_init(|| {
        rows(CITIES_CSV)
            .into_iter()
            .map(|r| City {
                code: r[0].to_string(),
                name_zh: r[1].to_string(),
                name_en: r[2].to_string(),
            })
            .collect()
    })
}

pub fn divisions() -> &'static [DivisionInfo] {
    static CELL: OnceLock<Vec<DivisionInfo>> = OnceLock::new();
    CELL.get_or_init(|| {
        rows(DIVISIONS_CSV)
            .into_iter()
            .map(|r| DivisionInfo {
                code: r[0].parse().expect("division number"),
                name_zh: r[1].to_string(),
                name_en: r[2].to_string(),
            })
            .collect()
    })
}

pub fn measures() -> &'static [MeasureInfo] {
    static CELL: OnceLock<Vec<MeasureInfo>> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut groups: Vec<String> = Vec::new();
        rows(MEASURES_CSV)
            .into_iter()
            .map(|r| {
                let group_zh = r[2].to_string();
                if !groups.contains(&group_zh) {
                    groups.push(group_zh.clone());
                }
                MeasureInfo {
                    number: r[0].parse().expect("measure number"),
                    title_zh: r[1].to_string(),
                    group: groups.iter().position(|g| *g == group_zh).unwrap_or(0) as u8 + 1,
                    group_zh,
                    responsible_units: r[3].split('|').map(str::to_string).collect(),
                    shared: &r[4] == "shared",
                }
            })
            .collect()
    })
}

/// Looks a city up by GB/T 2260 code, Chinese name with or without 市, or English name.
pub fn find_city(input: &str) -> Option<&'static City> {
    let s = input.trim();
    cities().iter().find(|c| {
        c.code == s || c.name_zh == s || c.short_zh() == s || c.name_en.eq_ignore_ascii_case(s)
    })
}

pub fn find_division(code: u8) -> Option<&'static DivisionInfo> {
    divisions().iter().find(|d| d.code == code)
}

/// The clause text of measure `n` from the policy, e.g. "16.降低制造业企业交易制度性成本。…".
pub fn measure_clause(n: u8) -> Option<&'static str> {
    let prefix = format!("{n}.");
    POLICY_TEXT_ZH
        .lines()
        .find(|l| l.starts_with(&prefix))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_complete() {
        assert_eq!(cities().len(), 21);
        assert_eq!(divisions().len(), 31);
        assert_eq!(measures().len(), 29);
        assert_eq!(measures()[28].group, 5);
        assert!(measures()[15]
            .responsible_units
            .contains(&"省市场监管局".to_string()));
        assert!(!measures()[15].shared);
        assert!(measure_clause(16).unwrap().contains("20亿元"));
    }

    #[test]
    fn city_lookup_by_any_name() {
        for q in ["东莞", "东莞市", "441900", "Dongguan"] {
            assert_eq!(find_city(q).unwrap().code, "441900");
        }
        assert!(find_city("北京").is_none());
    }

    #[test]
    fn validity_is_three_years() {
        assert_eq!(policy_effective_until().to_string(), "2026-10-11");
    }
}
