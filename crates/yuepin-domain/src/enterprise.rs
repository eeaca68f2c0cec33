//! Enterprises (市场主体), their designations (荣誉/认定) with award and expiry dates, and yearly
//! financials in exact yuan — the facts the policy's measures are conditioned on.

use crate::{Division, DomainError, RegionCode, Uscc, Yuan};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Stock-market listing status (measure 21: 股上市).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Listing {
    #[default]
    Unlisted,
    MainBoard,
    Chinext,
    Star,
    Bse,
    Neeq,
    HongKong,
    Overseas,
}

impl Listing {
    pub const ALL: [Listing; 8] = [
        Listing::Unlisted,
        Listing::MainBoard,
        Listing::Chinext,
        Listing::Star,
        Listing::Bse,
        Listing::Neeq,
        Listing::HongKong,
        Listing::Overseas,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Listing::Unlisted => "unlisted",
            Listing::MainBoard => "main_board",
            Listing::Chinext => "chinext",
            Listing::Star => "star",
            Listing::Bse => "bse",
            Listing::Neeq => "neeq",
            Listing::HongKong => "hong_kong",
            Listing::Overseas => "overseas",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Listing::Unlisted => "未上市",
            Listing::MainBoard => "主板",
            Listing::Chinext => "创业板",
            Listing::Star => "科创板",
            Listing::Bse => "北交所",
            Listing::Neeq => "新三板",
            Listing::HongKong => "港股",
            Listing::Overseas => "境外上市",
        }
    }
}

impl FromStr for Listing {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Listing::Unlisted);
        }
        Listing::ALL
            .into_iter()
            .find(|l| l.as_str() == s || l.name_zh() == s)
            .ok_or_else(|| {
                DomainError::new(
                    "listing",
                    format!("未知上市状态 {s:?} (unknown listing status)"),
                )
            })
    }
}

macro_rules! designations {
    ($($variant:ident => $code:literal, $zh:literal, $en:literal;)*) => {
        /// Recognitions an enterprise can hold; the policy's measures target holders of these.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        /// Serialised as [`DesignationKind::code`], so JSON, files and URLs spell it one way.
        pub enum DesignationKind { $(#[serde(rename = $code)] $variant,)* }

        impl DesignationKind {
            pub const ALL: &'static [DesignationKind] = &[$(DesignationKind::$variant,)*];
            /// Stable machine code used in files, URLs and policy facts.
            pub fn code(self) -> &'static str { match self { $(DesignationKind::$variant => $code,)* } }
            pub fn name_zh(self) -> &'static str { match self { $(DesignationKind::$variant => $zh,)* } }
            pub fn name_en(self) -> &'static str { match self { $(DesignationKind::$variant => $en,)* } }
        }
    };
}

designations! {
    FortuneGlobal500 => "fortune_global_500", "世界500强", "Fortune Global 500";
    ChinaTop500 => "china_top_500", "中国500强", "China Top 500";
    ChainLeader => "chain_leader", "产业链“链主”企业", "Industrial chain leader";
    NationalSingleChampion => "national_single_champion", "国家级制造业单项冠军", "National manufacturing single champion";
    LittleGiant => "little_giant", "专精特新“小巨人”企业", "Specialised and innovative 'little giant'";
    ProvincialSingleChampion => "provincial_single_champion", "省级制造业单项冠军", "Provincial manufacturing single champion";
    ProvincialTechCenter => "provincial_tech_center", "省级企业技术中心", "Provincial enterprise technology centre";
    ProvincialSrdiSme => "provincial_srdi_sme", "省级专精特新中小企业", "Provincial specialised and innovative SME";
    AboveScale => "above_scale", "规模以上工业企业", "Industrial enterprise above designated size";
    HighTech => "high_tech", "高新技术企业", "High and new technology enterprise";
    ChinaTimeHonored => "china_time_honored", "中华老字号", "China time-honoured brand";
    GuangdongTimeHonored => "guangdong_time_honored", "广东老字号", "Guangdong time-honoured brand";
    ChinaQualityAward => "china_quality_award", "中国质量奖", "China Quality Award";
    ChinaQualityAwardNomination => "china_quality_award_nomination", "中国质量奖提名奖", "China Quality Award nomination";
    GuangdongQualityAward => "guangdong_quality_award", "广东省政府质量奖", "Guangdong Government Quality Award";
    PerformanceExcellence => "performance_excellence", "实施卓越绩效管理", "Implements performance excellence";
    QualityBenchmark => "quality_benchmark", "国家“质量标杆”", "National quality benchmark";
    IpWhitelist => "ip_whitelist", "知识产权保护“白名单”", "IP protection whitelist";
}

impl FromStr for DesignationKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        DesignationKind::ALL
            .iter()
            .copied()
            .find(|d| {
                d.code() == s
                    || d.name_zh() == s
                    || d.name_zh().replace(['“', '”'], "\"") == s
                    || d.name_zh().replace(['“', '”'], "") == s
            })
            .ok_or_else(|| {
                DomainError::new(
                    "designation",
                    format!("未知认定类型 {s:?} (unknown designation)"),
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Designation {
    pub kind: DesignationKind,
    pub awarded_on: NaiveDate,
    /// `None` when the designation does not lapse.
    pub expires_on: Option<NaiveDate>,
}

impl Designation {
    /// Whether the designation is held on `date` (awarded on or before, not yet expired).
    pub fn active_on(&self, date: NaiveDate) -> bool {
        self.awarded_on <= date && self.expires_on.is_none_or(|e| date <= e)
    }
}

/// One fiscal year's operating revenue (营业收入).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Financials {
    pub year: i32,
    pub revenue_china: Yuan,
    /// Worldwide revenue, when the enterprise reports it.
    pub revenue_world: Option<Yuan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Enterprise {
    pub uscc: Uscc,
    pub name: String,
    /// City or district (GB/T 2260).
    pub region: RegionCode,
    pub division: Division,
    pub registered_capital: Yuan,
    pub employees: u32,
    pub founded_on: NaiveDate,
    pub listing: Listing,
    pub designations: Vec<Designation>,
    pub financials: Vec<Financials>,
}

impl Enterprise {
    /// Validates the free-text fields that have no newtype of their own.
    pub fn check_name(name: &str) -> Result<String, DomainError> {
        let n = name.trim();
        if n.is_empty() {
            return Err(DomainError::new(
                "name",
                "企业名称不能为空 (name is required)",
            ));
        }
        if n.chars().count() > 100 {
            return Err(DomainError::new(
                "name",
                "企业名称过长 (name longer than 100 characters)",
            ));
        }
        Ok(n.to_string())
    }

    pub fn active_designations(
        &self,
        date: NaiveDate,
    ) -> impl Iterator<Item = DesignationKind> + '_ {
        self.designations
            .iter()
            .filter(move |d| d.active_on(date))
            .map(|d| d.kind)
    }

    /// The latest fiscal year strictly before `date`'s year (上一会计年度).
    pub fn last_fiscal_year(&self, date: NaiveDate) -> Option<&Financials> {
        use chrono::Datelike;
        self.financials.iter().find(|f| f.year == date.year() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON, files and URLs must spell a designation the same way, or a value written by one
    /// path cannot be read by another (`FortuneGlobal500` once serialised as
    /// `fortune_global500` but parsed only as `fortune_global_500`).
    #[test]
    fn every_designation_serialises_as_its_code_and_parses_back() {
        for &kind in DesignationKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.code()));
            assert_eq!(
                serde_json::from_str::<DesignationKind>(&json).unwrap(),
                kind
            );
            assert_eq!(kind.code().parse::<DesignationKind>().unwrap(), kind);
        }
    }
}
