//! Column sets of the three importable datasets and the matching of a file's header row against
//! them: English or Chinese names, case/spacing-insensitive, plus the yearly revenue columns.

use crate::error::FileError;
use std::collections::BTreeMap;

/// One accepted column: canonical English name, Chinese name, extra aliases.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub en: &'static str,
    pub zh: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

const fn col(en: &'static str, zh: &'static str, aliases: &'static [&'static str]) -> ColumnSpec {
    ColumnSpec {
        en,
        zh,
        aliases,
        required: false,
    }
}

const fn req(en: &'static str, zh: &'static str, aliases: &'static [&'static str]) -> ColumnSpec {
    ColumnSpec {
        en,
        zh,
        aliases,
        required: true,
    }
}

const USCC_ALIASES: &[&str] = &["信用代码", "社会信用代码", "统一代码", "credit_code"];

pub mod enterprise {
    use super::*;
    pub const USCC: usize = 0;
    pub const NAME: usize = 1;
    pub const REGION: usize = 2;
    pub const DIVISION: usize = 3;
    pub const REGISTERED_CAPITAL: usize = 4;
    pub const EMPLOYEES: usize = 5;
    pub const FOUNDED_ON: usize = 6;
    pub const LISTING: usize = 7;
    pub const DESIGNATIONS: usize = 8;
    pub const SPECS: &[ColumnSpec] = &[
        req("uscc", "统一社会信用代码", USCC_ALIASES),
        req("name", "企业名称", &["名称", "enterprise_name"]),
        req(
            "region",
            "地区",
            &["所在地区", "行政区划", "所在地", "city"],
        ),
        req(
            "division",
            "行业大类",
            &["行业", "国民经济行业", "行业代码", "industry"],
        ),
        col("registered_capital", "注册资本", &["capital"]),
        col(
            "employees",
            "从业人员",
            &["从业人数", "员工人数", "从业人员数", "职工人数", "staff"],
        ),
        req("founded_on", "成立日期", &["founded", "成立时间"]),
        col("listing", "上市情况", &["上市状态", "上市板块"]),
        col(
            "designations",
            "认定",
            &["荣誉资质", "资质荣誉", "认定情况"],
        ),
    ];
}

pub mod product {
    use super::*;
    pub const USCC: usize = 0;
    pub const NAME: usize = 1;
    pub const BRAND: usize = 2;
    pub const MODEL: usize = 3;
    pub const GTIN: usize = 4;
    pub const CATEGORY: usize = 5;
    pub const STANDARD: usize = 6;
    pub const SPECS: &[ColumnSpec] = &[
        req("uscc", "统一社会信用代码", USCC_ALIASES),
        req("name", "产品名称", &["名称", "product_name"]),
        col("brand", "品牌", &["商标"]),
        req("model", "型号", &["规格型号", "型号规格"]),
        col("gtin", "商品条码", &["条码", "条形码", "barcode"]),
        req("category", "产品类别", &["类别", "产品种类"]),
        col("standard", "执行标准", &["标准", "产品标准"]),
    ];
}

pub mod event {
    use super::*;
    pub const USCC: usize = 0;
    pub const PRODUCT_MODEL: usize = 1;
    pub const DATE: usize = 2;
    pub const KIND: usize = 3;
    pub const AGENCY: usize = 4;
    pub const REPORT_NO: usize = 5;
    pub const RESULT: usize = 6;
    pub const FAILED_ITEMS: usize = 7;
    pub const SCHEME: usize = 8;
    pub const NUMBER: usize = 9;
    pub const ISSUER: usize = 10;
    pub const VALID_FROM: usize = 11;
    pub const VALID_UNTIL: usize = 12;
    pub const AWARD_NAME: usize = 13;
    pub const AWARD_LEVEL: usize = 14;
    pub const STANDARD_CODE: usize = 15;
    pub const STANDARD_LEVEL: usize = 16;
    pub const ROLE: usize = 17;
    pub const AUTHORITY: usize = 18;
    pub const DECISION_NO: usize = 19;
    pub const AMOUNT: usize = 20;
    pub const SERIOUS: usize = 21;
    pub const REASON: usize = 22;
    pub const SPECS: &[ColumnSpec] = &[
        req("uscc", "统一社会信用代码", USCC_ALIASES),
        col("product_model", "产品型号", &["型号", "规格型号"]),
        req("date", "日期", &["事件日期", "发生日期"]),
        req("kind", "类型", &["事件类型", "类别"]),
        col("agency", "检验机构", &["抽查机构", "承检机构"]),
        col("report_no", "报告编号", &["检验报告编号"]),
        col("result", "检验结果", &["结果", "结论"]),
        col("failed_items", "不合格项目", &[]),
        col("scheme", "认证项目", &["认证类型", "认证名称"]),
        col("number", "证书编号", &["证书号"]),
        col("issuer", "发证机构", &["认证机构"]),
        col("valid_from", "有效期起", &["发证日期"]),
        col("valid_until", "有效期至", &["有效期止", "到期日期"]),
        col("award_name", "奖项名称", &["award"]),
        col("award_level", "奖项级别", &[]),
        col("standard_code", "标准号", &["标准编号"]),
        col("standard_level", "标准级别", &["标准层级"]),
        col("role", "参与方式", &["角色", "标准角色"]),
        col("authority", "处罚机关", &["执法机关"]),
        col("decision_no", "处罚决定书文号", &["决定书文号", "文号"]),
        col("amount", "罚没金额", &["罚款金额", "金额"]),
        col("serious", "是否严重", &["严重违法", "严重"]),
        col("reason", "处罚事由", &["违法事实", "事由"]),
    ];
}

/// Normalises a header cell: BOM, surrounding spaces, required-markers (*) dropped; ASCII lower-cased;
/// spaces and hyphens become underscores.
pub fn normalize(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .trim()
        .trim_matches(['*', '＊'])
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' | '\u{3000}' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn matches(spec: &ColumnSpec, normalized: &str) -> bool {
    spec.en == normalized
        || spec.zh == normalized
        || spec.aliases.iter().any(|a| normalize(a) == normalized)
}

/// Which yearly revenue column a header is: `revenue_china_2024`, `营业收入_境内_2024`, …
fn revenue_column(normalized: &str) -> Option<(i32, bool)> {
    const FORMS: [(&str, bool); 4] = [
        ("revenue_china_", false),
        ("营业收入_境内_", false),
        ("revenue_world_", true),
        ("营业收入_全球_", true),
    ];
    FORMS.iter().find_map(|(prefix, world)| {
        let year = normalized.strip_prefix(prefix)?;
        let year: i32 = year.strip_suffix('年').unwrap_or(year).parse().ok()?;
        (1900..=2100).contains(&year).then_some((year, *world))
    })
}

/// A file's header row bound to a column set: where each known column is, under the name the
/// file uses.
#[derive(Debug, Clone)]
pub struct Binding {
    /// Position in the record of each spec column, by spec index.
    pub index: Vec<Option<usize>>,
    /// The header cells as the file wrote them (for error messages).
    pub file_names: Vec<String>,
    /// Yearly revenue columns: year → (China column, world column).
    pub revenue: BTreeMap<i32, (Option<usize>, Option<usize>)>,
    pub specs: &'static [ColumnSpec],
}

impl Binding {
    pub fn bind(
        dataset: &'static str,
        specs: &'static [ColumnSpec],
        allow_revenue: bool,
        headers: &[String],
    ) -> Result<Self, FileError> {
        let mut index = vec![None; specs.len()];
        let mut revenue: BTreeMap<i32, (Option<usize>, Option<usize>)> = BTreeMap::new();
        let mut unknown = Vec::new();
        let mut duplicated = Vec::new();
        for (pos, raw) in headers.iter().enumerate() {
            let norm = normalize(raw);
            if norm.is_empty() {
                // Excel often leaves trailing empty header cells; they carry no column.
                continue;
            }
            if let Some(spec_pos) = specs.iter().position(|s| matches(s, &norm)) {
                if index[spec_pos].replace(pos).is_some() {
                    duplicated.push(raw.trim().to_string());
                }
            } else if let Some((year, world)) = revenue_column(&norm).filter(|_| allow_revenue) {
                let entry = revenue.entry(year).or_default();
                let slot = if world { &mut entry.1 } else { &mut entry.0 };
                if slot.replace(pos).is_some() {
                    duplicated.push(raw.trim().to_string());
                }
            } else {
                unknown.push(raw.trim().to_string());
            }
        }
        let missing: Vec<String> = specs
            .iter()
            .zip(&index)
            .filter(|(s, i)| s.required && i.is_none())
            .map(|(s, _)| format!("{} ({})", s.en, s.zh))
            .collect();
        if !missing.is_empty() || !unknown.is_empty() || !duplicated.is_empty() {
            let mut expected: Vec<String> = specs
                .iter()
                .map(|s| format!("{}{} ({})", s.en, if s.required { "*" } else { "" }, s.zh))
                .collect();
            if allow_revenue {
                expected.push("revenue_china_YYYY (营业收入_境内_YYYY)".into());
                expected.push("revenue_world_YYYY (营业收入_全球_YYYY)".into());
            }
            return Err(FileError::Columns {
                dataset,
                missing,
                unknown,
                duplicated,
                expected,
            });
        }
        Ok(Self {
            index,
            file_names: headers.iter().map(|h| normalize_display(h)).collect(),
            revenue,
            specs,
        })
    }

    /// The column's name as the file writes it, or the canonical name when the file lacks it.
    pub fn name(&self, spec: usize) -> &str {
        match self.index[spec] {
            Some(pos) => &self.file_names[pos],
            None => self.specs[spec].en,
        }
    }

    pub fn name_at(&self, pos: usize) -> &str {
        self.file_names.get(pos).map_or("", String::as_str)
    }
}

fn normalize_display(h: &str) -> String {
    h.trim_start_matches('\u{feff}').trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_english_and_revenue_headers() {
        let headers: Vec<String> = [
            "\u{feff}统一社会信用代码",
            "Name",
            "地区",
            "行业大类",
            "成立日期",
            "营业收入_境内_2024",
            "revenue_world_2024",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let b = Binding::bind("enterprises", enterprise::SPECS, true, &headers).unwrap();
        assert_eq!(b.index[enterprise::USCC], Some(0));
        assert_eq!(b.name(enterprise::USCC), "统一社会信用代码");
        assert_eq!(b.revenue[&2024], (Some(5), Some(6)));
    }

    #[test]
    fn missing_and_unknown_columns_are_listed() {
        let headers = vec!["uscc".to_string(), "colour".to_string()];
        let e = Binding::bind("enterprises", enterprise::SPECS, true, &headers).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("name (企业名称)"), "{msg}");
        assert!(msg.contains("colour"), "{msg}");
        assert!(msg.contains("revenue_china_YYYY"), "{msg}");
    }
}
