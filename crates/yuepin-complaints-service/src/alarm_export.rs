//! Alarm exports: the alarms of an [`AlarmFilter`] (at most [`ALARM_EXPORT_MAX`] rows, newest
//! period first) as CSV (UTF-8 with BOM, cells that a spreadsheet would read as a formula
//! prefixed with `'`), XLSX or JSON Lines. CSV and XLSX carry a documented column set with
//! Chinese (default) or English headers and values, like the import crate's column sets;
//! JSON Lines the records' machine keys (the API's `AlarmRecord`).

use crate::alarms::AlarmFilter;
use crate::error::{ComplaintsError, Invalid, Result};
use crate::records::AlarmRecord;
use crate::ComplaintsService;
use yuepin_complaints::{Level, Method};
use yuepin_domain::Caller;
use yuepin_store::corrupt;

/// Most rows one export holds.
pub const ALARM_EXPORT_MAX: i64 = 100_000;

/// The file format of an alarm export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    JsonLines,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            "jsonl" | "jsonlines" | "ndjson" => Ok(Self::JsonLines),
            other => Err(ComplaintsError::invalid(
                "format",
                Invalid::Unknown {
                    value: other.into(),
                    expected: &["csv", "xlsx", "jsonl"],
                },
            )),
        }
    }
}

/// The language of CSV and XLSX headers and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportLang {
    #[default]
    Zh,
    En,
}

impl ExportLang {
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "zh" | "zh-cn" => Ok(Self::Zh),
            "en" => Ok(Self::En),
            other => Err(ComplaintsError::invalid(
                "lang",
                Invalid::Unknown {
                    value: other.into(),
                    expected: &["zh", "en"],
                },
            )),
        }
    }
}

/// An export: the bytes and how many alarms they hold.
#[derive(Debug, Clone)]
pub struct AlarmExport {
    pub bytes: Vec<u8>,
    pub rows: usize,
    /// Alarms matching the filter (more than `rows` when the export was capped).
    pub total: i64,
}

const HEADERS_ZH: [&str; 16] = [
    "编号",
    "时段开始",
    "时段结束",
    "天数",
    "方法",
    "层级",
    "地市",
    "地市代码",
    "行业",
    "行业代码",
    "产品类别",
    "观测",
    "期望",
    "阈值",
    "p值",
    "q值",
];
const HEADERS_EN: [&str; 16] = [
    "id",
    "period_start",
    "period_end",
    "days",
    "method",
    "level",
    "city",
    "city_code",
    "division",
    "division_code",
    "category",
    "observed",
    "expected",
    "threshold",
    "p_value",
    "q_value",
];

fn method_zh(m: Method) -> &'static str {
    match m {
        Method::EarsC1 => "EARS C1",
        Method::EarsC2 => "EARS C2",
        Method::EarsC3 => "EARS C3",
        Method::Farrington => "Farrington 灵活法",
        Method::Cusum => "泊松 CUSUM",
        Method::Pooled => "合并比值扫描",
    }
}

fn level_name(l: Level, lang: ExportLang) -> &'static str {
    match (l, lang) {
        (Level::City, ExportLang::Zh) => "地市合计",
        (Level::CityDivision, ExportLang::Zh) => "地市 × 行业",
        (Level::CityCategory, ExportLang::Zh) => "地市 × 产品类别",
        (Level::City, ExportLang::En) => "city total",
        (Level::CityDivision, ExportLang::En) => "city × division",
        (Level::CityCategory, ExportLang::En) => "city × category",
    }
}

/// One alarm as the export's cells (16, in header order, plus "significant").
fn cells(a: &AlarmRecord, lang: ExportLang) -> Vec<String> {
    let zh = lang == ExportLang::Zh;
    let city = a.city.city();
    vec![
        a.id.to_string(),
        a.period_start.to_string(),
        a.period_end().to_string(),
        a.period_days.to_string(),
        if zh {
            method_zh(a.method).into()
        } else {
            a.method.label().into()
        },
        level_name(a.level, lang).into(),
        if zh {
            city.name_zh.clone()
        } else {
            city.name_en.clone()
        },
        city.code.clone(),
        a.division
            .map(|d| {
                if zh {
                    d.info().name_zh.clone()
                } else {
                    d.info().name_en.clone()
                }
            })
            .unwrap_or_default(),
        a.division.map(|d| d.code().to_string()).unwrap_or_default(),
        a.category
            .map(|c| {
                if zh {
                    c.info().name_zh.clone()
                } else {
                    c.info().key.clone()
                }
            })
            .unwrap_or_default(),
        format!("{:.0}", a.observed),
        format!("{:.2}", a.expected),
        format!("{:.2}", a.threshold),
        format!("{:.3e}", a.p_value),
        format!("{:.3e}", a.q_value),
        match (a.significant, zh) {
            (true, true) => "是".into(),
            (false, true) => "否".into(),
            (s, false) => s.to_string(),
        },
    ]
}

/// A CSV cell: a leading `=`, `+`, `-` or `@` gets a `'` so no spreadsheet runs it as a
/// formula (OWASP CSV injection); quoted when it holds a comma, quote or line break.
pub fn csv_cell(c: &str) -> String {
    let c = if c.starts_with(['=', '+', '-', '@']) {
        format!("'{c}")
    } else {
        c.to_string()
    };
    if c.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c
    }
}

fn headers(lang: ExportLang) -> Vec<&'static str> {
    let (h, sig) = match lang {
        ExportLang::Zh => (HEADERS_ZH, "显著"),
        ExportLang::En => (HEADERS_EN, "significant"),
    };
    h.into_iter().chain([sig]).collect()
}

/// Writes alarms in `format` (pure; the service's export and tests call it).
pub fn write_alarms(
    alarms: &[AlarmRecord],
    format: ExportFormat,
    lang: ExportLang,
) -> Result<Vec<u8>> {
    match format {
        ExportFormat::Csv => {
            let mut out = String::from("\u{feff}");
            let line = |cells: &[String], out: &mut String| {
                let s: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                out.push_str(&s.join(","));
                out.push_str("\r\n");
            };
            let h: Vec<String> = headers(lang).iter().map(|s| s.to_string()).collect();
            line(&h, &mut out);
            for a in alarms {
                line(&cells(a, lang), &mut out);
            }
            Ok(out.into_bytes())
        }
        ExportFormat::JsonLines => {
            let mut out = Vec::new();
            for a in alarms {
                serde_json::to_writer(&mut out, a)
                    .map_err(|e| corrupt(format!("alarm as JSON: {e}")))?;
                out.push(b'\n');
            }
            Ok(out)
        }
        ExportFormat::Xlsx => {
            let xlsx = |e: rust_xlsxwriter::XlsxError| corrupt(format!("writing XLSX: {e}"));
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet
                .set_name(if lang == ExportLang::Zh {
                    "预警信号"
                } else {
                    "alarms"
                })
                .map_err(xlsx)?;
            for (j, h) in headers(lang).iter().enumerate() {
                sheet.write_string(0, j as u16, *h).map_err(xlsx)?;
            }
            for (i, a) in alarms.iter().enumerate() {
                let row = i as u32 + 1;
                for (j, c) in cells(a, lang).iter().enumerate() {
                    // Counts as numbers; every other cell as text (never a formula).
                    match (j, c.parse::<f64>()) {
                        (0 | 3 | 11 | 12 | 13 | 14 | 15, Ok(v)) => {
                            sheet.write_number(row, j as u16, v).map_err(xlsx)?
                        }
                        _ => sheet.write_string(row, j as u16, c).map_err(xlsx)?,
                    };
                }
            }
            book.save_to_buffer().map_err(xlsx).map_err(Into::into)
        }
    }
}

impl ComplaintsService {
    /// The alarms matching `filter` (at most [`ALARM_EXPORT_MAX`], newest period first) as a
    /// file. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn export_alarms(
        &self,
        caller: &Caller,
        filter: &AlarmFilter,
        format: ExportFormat,
        lang: ExportLang,
    ) -> Result<AlarmExport> {
        let (alarms, total) = self
            .alarms_matching(caller, filter, ALARM_EXPORT_MAX)
            .await?;
        let rows = alarms.len();
        let bytes = tokio::task::spawn_blocking(move || write_alarms(&alarms, format, lang))
            .await
            .map_err(|e| corrupt(format!("export thread: {e}")))??;
        Ok(AlarmExport { bytes, rows, total })
    }
}
