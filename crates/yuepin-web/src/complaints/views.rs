//! The complaints pages' templates and view models: rows of lists, the record, alarms and their
//! roll-up, warnings with their evidence, and the names shown for stored codes.

use crate::i18n::Tr;
use crate::page::Chrome;
use askama::Template;
use yuepin_complaints::{
    Accuracy, Category, CityRollup, DetectorConfig, Level, Method, ProblemType, DEFAULT_MEASURED,
};
use yuepin_complaints_service::{
    AlarmRecord, ComplaintRecord, LabelsSource, Severity, WarningRecord, WarningStatus,
};
use yuepin_domain::reference;

// ───────────────────────────── operating point ─────────────────────────────

/// The detector configuration in force, in words: the method, α per series-day, the windows,
/// the minimum count, the other methods and the FDR; with the default, the measured
/// sensitivity and false-alarm rate quoted from the benchmark (`DEFAULT_MEASURED`).
pub fn operating_point(config: Option<&DetectorConfig>, tr: Tr) -> Vec<String> {
    let Some(c) = config else {
        return vec![tr
            .t(
                "尚无记录检测配置的检测运行。",
                "No detection run with a recorded configuration yet.",
            )
            .to_string()];
    };
    let mut lines = Vec::new();
    if c.pooled.enabled {
        let q = &c.pooled;
        let windows = q
            .scan_days
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("、");
        lines.push(if !tr.is_en() {
            format!(
                "方法：合并比值扫描（每个序列与其余地市同一序列之和比较，校准的条件检验）;α = {} / 序列·日（各窗口按邦费罗尼校正合并）;窗口 {windows} 天；窗口内至少 {} 件投诉；基线 {} 天，间隔 {} 天。",
                q.alpha, q.min_count, q.window, q.guard
            )
        } else {
            format!(
                "Method: pooled ratio scan (each series against the same series summed over the other cities, calibrated conditional test); α = {} per series-day (Bonferroni over the windows); windows {} days; at least {} complaints in a window; baseline {} days, guard {} days.",
                q.alpha,
                windows.replace('、', ", "),
                q.min_count,
                q.window,
                q.guard
            )
        });
    }
    let others: Vec<&str> = [
        ("EARS C1", c.ears_c1.enabled),
        ("EARS C2", c.ears_c2.enabled),
        ("EARS C3", c.ears_c3.enabled),
        ("Farrington-flexible", c.farrington.enabled),
        ("Poisson CUSUM", c.cusum.enabled),
    ]
    .into_iter()
    .filter_map(|(n, on)| on.then_some(n))
    .collect();
    if !others.is_empty() {
        lines.push(format!(
            "{}: {}",
            tr.t("另运行经典方法", "Classic methods also run"),
            others.join(", ")
        ));
    }
    lines.push(format!(
        "{} {} %",
        tr.t(
            "“显著”：错误发现率（BH 法）",
            "“Significant”: Benjamini–Hochberg false discovery rate"
        ),
        c.fdr * 100.0
    ));
    let m = DEFAULT_MEASURED;
    if c == &DetectorConfig::default() {
        lines.push(if !tr.is_en() {
            format!(
                "实测（默认配置，生成器标注集，种子 {}）:灵敏度 {:.1}–{:.1} %,中位延迟 ≤ {} 天，误报 {}–{} 次 / 1000 序列·日（来源：项目基准测试记录，{} 测定）。",
                m.seeds.map(|s| s.to_string()).join("、"),
                m.sensitivity_min * 100.0,
                m.sensitivity_max * 100.0,
                m.median_delay_max_days,
                m.false_alarms_per_1000_min,
                m.false_alarms_per_1000_max,
                m.measured_on
            )
        } else {
            format!(
                "Measured (default configuration, generator's labelled sets, seeds {}): sensitivity {:.1}–{:.1} %, median delay ≤ {} days, {}–{} false alarms per 1,000 series-days (source: {}, measured {}).",
                m.seeds.map(|s| s.to_string()).join(", "),
                m.sensitivity_min * 100.0,
                m.sensitivity_max * 100.0,
                m.median_delay_max_days,
                m.false_alarms_per_1000_min,
                m.false_alarms_per_1000_max,
                m.source,
                m.measured_on
            )
        });
    } else {
        lines.push(
            tr.t(
                "非默认配置：未实测（可用命令行的评估命令在标注集上打分）。",
                "Not the default configuration: not measured; score it with yuepin complaints evaluate --detector-config.",
            )
            .to_string(),
        );
    }
    lines
}

// ───────────────────────────── names ─────────────────────────────

/// A city's Chinese name from its code (the code itself when unknown).
pub fn city_name(code: &str) -> &str {
    reference::find_city(code).map_or(code, |c| c.name_zh.as_str())
}
pub fn city_name_en(code: &str) -> &str {
    reference::find_city(code).map_or(code, |c| c.name_en.as_str())
}
/// A category's Chinese name from its key (the key itself when unknown).
pub fn category_name(key: &str) -> String {
    Category::parse(key).map_or_else(|_| key.to_string(), |c| c.info().name_zh.clone())
}
pub fn division_name(code: i64) -> String {
    u8::try_from(code)
        .ok()
        .and_then(reference::find_division)
        .map_or_else(|| code.to_string(), |d| d.name_zh.clone())
}
pub fn problem_name(p: &str) -> &'static str {
    ProblemType::parse(p).map_or("其他", |x| x.name_zh())
}

pub fn status_zh(s: WarningStatus) -> &'static str {
    match s {
        WarningStatus::Draft => "草稿",
        WarningStatus::Approved => "已审核·征求意见中",
        WarningStatus::Published => "已发布",
        WarningStatus::Withdrawn => "已撤回",
    }
}
pub fn severity_zh(s: Severity) -> &'static str {
    match s {
        Severity::Alert => "消费警示",
        Severity::Tip => "消费提示",
    }
}
pub fn severity_en(s: Severity) -> &'static str {
    match s {
        Severity::Alert => "Consumer alert",
        Severity::Tip => "Consumer tip",
    }
}

/// What an alarm's series is about, as the regulator reads it.
fn subject_zh(a: &AlarmRecord) -> String {
    if let Some(c) = a.category {
        c.info().name_zh.clone()
    } else if let Some(d) = a.division {
        d.info().name_zh.clone()
    } else {
        "全部商品和服务".into()
    }
}

// ───────────────────────────── dashboard ─────────────────────────────

pub struct TopRow {
    pub label: String,
    pub link: String,
    pub n: i64,
    pub extra: String,
}

#[derive(Template)]
#[template(path = "complaints/dashboard.html")]
pub struct DashboardPage {
    pub tr: Tr,
    pub c: Chrome,
    pub from: String,
    pub to: String,
    pub total: i64,
    pub trend: String,
    pub heatmap: String,
    pub top_categories: Vec<TopRow>,
    pub top_cities: Vec<TopRow>,
    pub top_enterprises: Vec<TopRow>,
    pub top_problems: Vec<TopRow>,
    pub alarms: usize,
    pub last_run: String,
    /// The detector configuration of the last run, in words.
    pub operating_point: Vec<String>,
    pub qs: String,
}

// ───────────────────────────── lists and records ─────────────────────────────

pub struct ListRow {
    pub id: i64,
    pub ext_id: String,
    pub day: String,
    pub city: String,
    pub subject: String,
    pub problem: String,
    pub enterprise: String,
    pub text: String,
    pub person: String,
}

/// A list row from a (masked) complaint.
pub fn list_row(c: ComplaintRecord) -> ListRow {
    let c = c.masked();
    ListRow {
        id: c.id,
        ext_id: c.ext_id.clone(),
        day: c.day.to_string(),
        city: c.city.city().name_zh.clone(),
        subject: format!(
            "{} {}",
            c.category
                .map(|k| k.info().name_zh.clone())
                .unwrap_or_default(),
            c.division
                .map(|d| d.info().name_zh.clone())
                .unwrap_or_default()
        )
        .trim()
        .to_string(),
        problem: c.problem.name_zh().to_string(),
        enterprise: c
            .enterprise_name
            .clone()
            .or(c.enterprise_uscc.clone())
            .unwrap_or_default(),
        text: c.text.chars().take(80).collect(),
        person: [c.complainant.name.clone(), c.complainant.phone.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[derive(Template)]
#[template(path = "complaints/list.html")]
pub struct ListPage {
    pub tr: Tr,
    pub c: Chrome,
    pub heading: String,
    pub total: i64,
    pub rows: Vec<ListRow>,
    pub qs: String,
    pub page: i64,
    pub has_next: bool,
}

/// A channel's (zh, en) names.
pub fn channel_names(c: yuepin_complaints::Channel) -> (&'static str, &'static str) {
    use yuepin_complaints::Channel;
    match c {
        Channel::Hotline => ("12315热线", "12315 hotline"),
        Channel::Platform => ("全国12315平台", "12315 platform"),
        Channel::Wechat => ("微信", "WeChat"),
        Channel::Letter => ("来信", "letter"),
        Channel::Visit => ("来访", "visit"),
        Channel::Other => ("其他", "other"),
    }
}

/// One complaint as the record page shows it (raw or masked, as the service gave it).
pub struct RecordView {
    pub id: i64,
    pub ext_id: String,
    pub received_at: String,
    /// (zh, en) names, chosen by the template's language.
    pub channel: (&'static str, &'static str),
    pub kind: (&'static str, &'static str),
    pub region: String,
    pub city_name: String,
    pub enterprise_name: Option<String>,
    pub enterprise_uscc: Option<String>,
    pub category_name: String,
    pub division: Option<i64>,
    pub division_name: String,
    pub labels_source: (&'static str, &'static str),
    pub problem_name: &'static str,
    pub text: String,
    pub complainant: yuepin_complaints::Complainant,
}

impl From<ComplaintRecord> for RecordView {
    fn from(r: ComplaintRecord) -> Self {
        Self {
            id: r.id,
            ext_id: r.ext_id,
            received_at: r.received_at,
            channel: channel_names(r.channel),
            kind: match r.kind {
                yuepin_complaints::ComplaintKind::Complaint => ("投诉", "complaint"),
                yuepin_complaints::ComplaintKind::Report => ("举报", "report"),
            },
            region: r.region.to_string(),
            city_name: r.city.city().name_zh.clone(),
            enterprise_name: r.enterprise_name,
            enterprise_uscc: r.enterprise_uscc,
            category_name: r
                .category
                .map(|c| c.info().name_zh.clone())
                .unwrap_or_default(),
            division: r.division.map(|d| i64::from(d.code())),
            division_name: r
                .division
                .map(|d| d.info().name_zh.clone())
                .unwrap_or_default(),
            labels_source: match r.labels_source {
                LabelsSource::Input => ("文件所填", "from the file"),
                LabelsSource::Classifier => ("自动分类", "classifier"),
                LabelsSource::Regulator => ("监管人员更正", "corrected by a regulator"),
                LabelsSource::None => ("未分类", "unclassified"),
            },
            problem_name: r.problem.name_zh(),
            text: r.text,
            complainant: r.complainant,
        }
    }
}

#[derive(Template)]
#[template(path = "complaints/record.html")]
pub struct RecordPage {
    pub tr: Tr,
    pub c: Chrome,
    pub r: RecordView,
    pub categories: Vec<(String, String)>,
    pub divisions: Vec<(u8, String)>,
    pub is_regulator: bool,
}

// ───────────────────────────── alarms ─────────────────────────────

pub struct AlarmRow {
    pub id: i64,
    pub method: String,
    pub level: String,
    pub city: String,
    pub subject: String,
    pub period: String,
    pub observed: String,
    pub expected: String,
    pub threshold: String,
    pub p: String,
    pub q: String,
    pub significant: bool,
}

/// A surveillance method's name in the page's language (the literature's name in English;
/// in Chinese the name a regulator's statistician would write, not an English label).
pub fn method_name(m: Method, tr: Tr) -> String {
    match m {
        Method::EarsC1 => tr.t("EARS C1 法", "EARS C1"),
        Method::EarsC2 => tr.t("EARS C2 法", "EARS C2"),
        Method::EarsC3 => tr.t("EARS C3 法", "EARS C3"),
        Method::Farrington => tr.t("Farrington 灵活法", "Farrington-flexible"),
        Method::Cusum => tr.t("泊松累积和法(CUSUM)", "Poisson CUSUM"),
        Method::Pooled => tr.t("合并比值扫描", "Pooled ratio scan"),
    }
    .to_string()
}

/// A series level in the page's language.
pub fn level_name(l: Level, tr: Tr) -> String {
    match l {
        Level::City => tr.t("地市合计", "city total"),
        Level::CityDivision => tr.t("地市 × 行业", "city × division"),
        Level::CityCategory => tr.t("地市 × 产品类别", "city × category"),
    }
    .to_string()
}

pub fn alarm_row(a: &AlarmRecord, tr: Tr) -> AlarmRow {
    AlarmRow {
        id: a.id,
        method: method_name(a.method, tr),
        level: level_name(a.level, tr),
        city: a.city.city().name_zh.clone(),
        subject: subject_zh(a),
        period: if a.period_days > 1 {
            format!("{} – {}", a.period_start, a.period_end())
        } else {
            a.period_start.to_string()
        },
        observed: format!("{:.0}", a.observed),
        expected: format!("{:.1}", a.expected),
        threshold: format!("{:.1}", a.threshold),
        p: format!("{:.2e}", a.p_value),
        q: format!("{:.2e}", a.q_value),
        significant: a.significant,
    }
}

pub struct RollupRow {
    pub city: String,
    pub period: String,
    pub city_alarms: usize,
    pub divisions: String,
}

pub fn rollup_row(r: &CityRollup) -> RollupRow {
    RollupRow {
        city: r.region.city().name_zh.clone(),
        period: r.period.start.to_string(),
        city_alarms: r.city_alarms.len(),
        divisions: r
            .divisions
            .iter()
            .map(|d| {
                let cats: Vec<String> = d
                    .categories
                    .iter()
                    .filter_map(|c| c.category.map(|k| k.info().name_zh.clone()))
                    .collect();
                if cats.is_empty() {
                    format!("{} {}", d.division.code(), d.division.info().name_zh)
                } else {
                    format!(
                        "{} {} ({})",
                        d.division.code(),
                        d.division.info().name_zh,
                        cats.join("、")
                    )
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[derive(Template)]
#[template(path = "complaints/alarms.html")]
pub struct AlarmsPage {
    pub tr: Tr,
    pub c: Chrome,
    pub rows: Vec<AlarmRow>,
    pub rollup: Vec<RollupRow>,
    pub all: bool,
    pub last_run: String,
    /// The detector configuration of the last run, in words.
    pub operating_point: Vec<String>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// Links to the previous and next page ("" when none).
    pub prev: String,
    pub next: String,
    /// The filter as a query string (downloads).
    pub qs: String,
    pub f: AlarmForm,
    /// (key, label) of every method, for the filter's select.
    pub methods: Vec<(String, String)>,
}

/// The alarm filter form's values as typed.
pub struct AlarmForm {
    pub method: String,
    pub level: String,
    pub city: String,
    pub division: String,
    pub from: String,
    pub to: String,
}

#[derive(Template)]
#[template(path = "complaints/alarm.html")]
pub struct AlarmPage {
    pub tr: Tr,
    pub c: Chrome,
    pub a: AlarmRow,
    pub rows: Vec<ListRow>,
    pub total: i64,
    pub qs: String,
    pub window: String,
}

// ───────────────────────────── lexicon ─────────────────────────────

#[derive(Template)]
#[template(path = "complaints/lexicon.html")]
pub struct LexiconPage {
    pub tr: Tr,
    pub c: Chrome,
    pub terms: Vec<(String, String)>,
    pub acc: Accuracy,
    pub categories: Vec<(String, String)>,
}

// ───────────────────────────── warnings ─────────────────────────────

pub struct WarningRow {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub severity: String,
    pub date: String,
    pub deadline: String,
}

pub fn warning_row(w: &WarningRecord, tr: &Tr) -> WarningRow {
    WarningRow {
        id: w.id,
        title: w.title.clone(),
        status: if tr.is_en() {
            w.status.as_str().to_string()
        } else {
            status_zh(w.status).to_string()
        },
        severity: tr
            .t(severity_zh(w.severity), severity_en(w.severity))
            .to_string(),
        date: w
            .published_at
            .clone()
            .unwrap_or_else(|| w.created_at.clone())
            .chars()
            .take(10)
            .collect(),
        deadline: w
            .comment_deadline
            .clone()
            .unwrap_or_default()
            .chars()
            .take(16)
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "complaints/warnings.html")]
pub struct WarningsPage {
    pub tr: Tr,
    pub c: Chrome,
    pub rows: Vec<WarningRow>,
    pub public: bool,
}

pub struct EvidenceView {
    pub method: String,
    pub methods: String,
    pub observed: String,
    pub expected: String,
    pub threshold: String,
    pub p: String,
    pub q: String,
    pub period: String,
    pub window: String,
    pub region: String,
    pub subject: String,
    pub window_complaints: i64,
    pub enterprises: Vec<(String, String, i64)>,
    pub problems: Vec<(String, i64)>,
    pub samples: Vec<(String, String, String, String)>,
}

pub fn evidence_view(w: &WarningRecord) -> EvidenceView {
    let e = &w.evidence;
    EvidenceView {
        method: e.method.clone(),
        methods: e.methods.join(", "),
        observed: format!("{:.0}", e.observed),
        expected: format!("{:.1}", e.expected),
        threshold: format!("{:.1}", e.threshold),
        p: format!("{:.2e}", e.p_value),
        q: format!("{:.2e}", e.q_value),
        period: if e.period_start == e.period_end {
            e.period_start.clone()
        } else {
            format!("{} – {}", e.period_start, e.period_end)
        },
        window: format!("{} – {}", e.window_from, e.window_to),
        region: e.city_name.clone(),
        subject: [
            e.division.map(|d| format!("{d} {}", e.division_name)),
            (!e.category_name.is_empty()).then(|| e.category_name.clone()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / "),
        window_complaints: e.window_complaints,
        enterprises: e
            .leading_enterprises
            .iter()
            .map(|x| {
                (
                    x.name.clone(),
                    x.uscc.clone().unwrap_or_default(),
                    x.complaints,
                )
            })
            .collect(),
        problems: e
            .problem_types
            .iter()
            .map(|(p, n)| (problem_name(p).to_string(), *n))
            .collect(),
        samples: e
            .samples
            .iter()
            .map(|s| {
                (
                    s.day.clone(),
                    problem_name(&s.problem).to_string(),
                    s.text.clone(),
                    [s.complainant_name.clone(), s.complainant_phone.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "complaints/warning.html")]
pub struct WarningPage {
    pub tr: Tr,
    pub c: Chrome,
    pub w: WarningRecord,
    pub ev: EvidenceView,
    /// The stored status and severity, for the template's conditions.
    pub status_key: &'static str,
    pub severity_key: &'static str,
    pub status: String,
    pub severity: String,
    pub is_regulator: bool,
    pub can_comment: bool,
    pub public: bool,
    pub comment_days: i64,
    pub paragraphs: Vec<String>,
}

impl WarningPage {
    /// A stored UTC timestamp (RFC 3339) as people in China read it: 2026-12-02 01:37.
    fn china_time(&self, stamp: &str) -> String {
        china_time(stamp)
    }
}

pub use crate::page::china_time;

#[cfg(test)]
mod time_tests {
    #[test]
    fn utc_stamps_read_in_china_time() {
        assert_eq!(
            super::china_time("2026-12-01T17:37:49.945Z"),
            "2026-12-02 01:37"
        );
        assert_eq!(super::china_time("not a time"), "not a time");
    }
}
