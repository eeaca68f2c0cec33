//! The complaint record (投诉/举报) and its small closed vocabularies: channel, kind, problem
//! type and product category. Every field is parsed once at the boundary; downstream code
//! (classification, aggregation, detection) never re-validates.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;
use yuepin_domain::{Division, RegionCode, Uscc, Yuan};

/// Why a vocabulary value was rejected; the ingest parser attaches the row and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValueError {
    pub field: &'static str,
    pub reason: String,
}

impl ValueError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// A complaint id as issued by the 12315 platform: non-empty, at most 64 visible characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintId(String);

impl ComplaintId {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ValueError::new("id", "编号为空 (id is empty)"));
        }
        if s.chars().count() > 64 || s.chars().any(char::is_control) {
            return Err(ValueError::new(
                "id",
                format!(
                    "编号 {s:?} 过长或含控制字符 (id longer than 64 chars or has control chars)"
                ),
            ));
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ComplaintId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the complaint reached the regulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 12315 热线电话
    Hotline,
    /// 全国12315平台 (web / app)
    Platform,
    /// 微信公众号 / 小程序
    Wechat,
    /// 来信
    Letter,
    /// 来访
    Visit,
    /// 其他 (e.g. 12345 转办)
    Other,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Self::Hotline,
        Self::Platform,
        Self::Wechat,
        Self::Letter,
        Self::Visit,
        Self::Other,
    ];
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        Ok(match s.to_ascii_lowercase().as_str() {
            "hotline" | "电话" | "热线" | "12315热线" | "12315" => Self::Hotline,
            "platform" | "网络" | "平台" | "全国12315平台" | "web" | "app" => Self::Platform,
            "wechat" | "微信" => Self::Wechat,
            "letter" | "来信" | "信函" => Self::Letter,
            "visit" | "来访" | "走访" => Self::Visit,
            "other" | "其他" | "12345" | "12345转办" | "" => Self::Other,
            _ => {
                return Err(ValueError::new(
                    "channel",
                    format!("未知渠道 {s:?} (expected hotline/platform/wechat/letter/visit/other or 电话/网络/微信/来信/来访/其他)"),
                ))
            }
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hotline => "hotline",
            Self::Platform => "platform",
            Self::Wechat => "wechat",
            Self::Letter => "letter",
            Self::Visit => "visit",
            Self::Other => "other",
        }
    }
}

/// 投诉 (a consumer dispute asking for redress) or 举报 (a report of an illegal act).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintKind {
    Complaint,
    Report,
}

impl ComplaintKind {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        match s.to_ascii_lowercase().as_str() {
            "complaint" | "投诉" => Ok(Self::Complaint),
            "report" | "举报" => Ok(Self::Report),
            _ => Err(ValueError::new(
                "kind",
                format!("未知类型 {s:?} (expected 投诉/complaint or 举报/report)"),
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Complaint => "complaint",
            Self::Report => "report",
        }
    }
}

/// What went wrong, in the coarse classes used for 12315 statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProblemType {
    /// 质量问题
    Quality,
    /// 安全隐患 (injury, fire, explosion)
    Safety,
    /// 虚假宣传
    FalseAdvertising,
    /// 售后服务
    AfterSales,
    /// 合同纠纷 (refunds, delivery)
    Contract,
    /// 价格问题
    Price,
    /// 假冒伪劣 / 侵权
    Counterfeit,
    /// 标签标识
    Labeling,
    /// 其他
    Other,
}

impl ProblemType {
    pub const ALL: [ProblemType; 9] = [
        Self::Quality,
        Self::Safety,
        Self::FalseAdvertising,
        Self::AfterSales,
        Self::Contract,
        Self::Price,
        Self::Counterfeit,
        Self::Labeling,
        Self::Other,
    ];
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        Ok(match s.to_ascii_lowercase().as_str() {
            "quality" | "质量" | "质量问题" => Self::Quality,
            "safety" | "安全" | "安全隐患" | "安全问题" => Self::Safety,
            "false_advertising" | "虚假宣传" => Self::FalseAdvertising,
            "after_sales" | "售后" | "售后服务" => Self::AfterSales,
            "contract" | "合同" | "合同纠纷" => Self::Contract,
            "price" | "价格" | "价格问题" => Self::Price,
            "counterfeit" | "假冒" | "假冒伪劣" | "侵权" => Self::Counterfeit,
            "labeling" | "标签" | "标签标识" | "标识" => Self::Labeling,
            "other" | "其他" | "" => Self::Other,
            _ => {
                return Err(ValueError::new(
                    "problem",
                    format!("未知问题类型 {s:?} (expected e.g. 质量/安全/虚假宣传/售后/合同/价格/假冒/标签/其他)"),
                ))
            }
        })
    }
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quality => "quality",
            Self::Safety => "safety",
            Self::FalseAdvertising => "false_advertising",
            Self::AfterSales => "after_sales",
            Self::Contract => "contract",
            Self::Price => "price",
            Self::Counterfeit => "counterfeit",
            Self::Labeling => "labeling",
            Self::Other => "other",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Quality => "质量问题",
            Self::Safety => "安全隐患",
            Self::FalseAdvertising => "虚假宣传",
            Self::AfterSales => "售后服务",
            Self::Contract => "合同纠纷",
            Self::Price => "价格问题",
            Self::Counterfeit => "假冒伪劣",
            Self::Labeling => "标签标识",
            Self::Other => "其他",
        }
    }
}

/// One consumer product category from the compiled table `data/categories.csv`.
#[derive(Debug, Clone)]
pub struct CategoryInfo {
    pub key: String,
    pub name_zh: String,
    pub division: Division,
    /// Seed lexicon terms; the classifier may extend them at run time.
    pub terms: Vec<String>,
}

const CATEGORIES_CSV: &str = include_str!("../data/categories.csv");

/// The compiled category table. Parsed once; a malformed embedded table is a build defect
/// caught by the unit test `category_table_is_well_formed`.
pub fn categories() -> &'static [CategoryInfo] {
    static CELL: OnceLock<Vec<CategoryInfo>> = OnceLock::new();
    CELL.get_or_init(|| {
        csv::Reader::from_reader(CATEGORIES_CSV.as_bytes())
            .records()
            .filter_map(Result::ok)
            .filter_map(|r| {
                Some(CategoryInfo {
                    key: r.get(0)?.to_string(),
                    name_zh: r.get(1)?.to_string(),
                    division: Division::parse(r.get(2)?).ok()?,
                    terms: r.get(3)?.split('|').map(str::to_string).collect(),
                })
            })
            .collect()
    })
}

/// A product category, stored as its index into [`categories`] so aggregation stays integer-coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category(u8);

yuepin_domain::openapi_string!(
    Category,
    "Product category key from the complaint taxonomy",
    "household_appliances"
);

impl Category {
    /// Accepts the English key (`air_conditioner`) or the Chinese name (`空调`).
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        categories()
            .iter()
            .position(|c| c.key == s || c.name_zh == s)
            .map(|i| Self(i as u8))
            .ok_or_else(|| {
                ValueError::new(
                    "category",
                    format!("未知产品类别 {s:?} (not in the category table; see docs/complaints-import.md)"),
                )
            })
    }
    pub fn from_index(index: usize) -> Option<Self> {
        (index < categories().len()).then_some(Self(index as u8))
    }
    pub fn index(self) -> usize {
        self.0 as usize
    }
    pub fn info(self) -> &'static CategoryInfo {
        &categories()[self.0 as usize]
    }
    pub fn division(self) -> Division {
        self.info().division
    }
    pub fn all() -> impl Iterator<Item = Category> {
        (0..categories().len()).map(|i| Self(i as u8))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.info().name_zh)
    }
}

impl Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.info().key)
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The complainant's personal data (个人信息). Kept apart so it can be masked or dropped whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Complainant {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub address: Option<String>,
}

/// One 12315 complaint or report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Complaint {
    pub id: ComplaintId,
    pub received_at: NaiveDateTime,
    pub channel: Channel,
    pub kind: ComplaintKind,
    /// City or district (GB/T 2260) where the complaint is handled.
    pub region: RegionCode,
    pub enterprise_uscc: Option<Uscc>,
    pub enterprise_name: Option<String>,
    pub category: Option<Category>,
    pub division: Option<Division>,
    pub problem: ProblemType,
    pub amount: Option<Yuan>,
    pub text: String,
    pub complainant: Complainant,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_table_is_well_formed() {
        let n = CATEGORIES_CSV
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .count();
        assert_eq!(categories().len(), n, "every category row parses");
        assert!((30..=60).contains(&n));
        assert_eq!(Category::parse("空调").unwrap().division().code(), 38);
        assert_eq!(
            Category::parse("e_bike").unwrap().info().name_zh,
            "电动自行车"
        );
        assert!(Category::parse("火箭").is_err());
    }

    #[test]
    fn vocabularies_parse_chinese_and_english() {
        assert_eq!(Channel::parse("微信").unwrap(), Channel::Wechat);
        assert_eq!(ComplaintKind::parse("举报").unwrap(), ComplaintKind::Report);
        assert_eq!(
            ProblemType::parse("虚假宣传").unwrap(),
            ProblemType::FalseAdvertising
        );
        assert!(ProblemType::parse("xyz").is_err());
        assert!(ComplaintId::parse("  ").is_err());
    }
}
