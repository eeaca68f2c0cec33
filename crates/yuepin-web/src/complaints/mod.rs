//! The web face of the complaints module (measure 22): the regulator's 12315 dashboard, lists,
//! records, alarms, lexicon and warning workflow pages (`pages`, `warning_pages`), the public
//! warning pages and Atom feed, CSV/XLSX exports (`export`), server-drawn SVG charts (`svg`),
//! and the JSON API under `/api/v1/complaints` (`api`). The use cases, access rules and
//! masking live in `yuepin-complaints-service`; this module parses requests, words errors and
//! renders.

mod api;
mod export;
mod pages;
mod schema;
mod svg;
mod views;
mod warning_pages;

/// The complaints capability's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api::list,
    api::aggregates,
    api::top,
    api::heatmap,
    api::alarms,
    api::alarm,
    api::alarm_warning,
    api::detect,
    api::lexicon,
    api::lexicon_set,
    api::accuracy,
    export::export,
    api::warnings,
    api::warning,
    api::warning_edit,
    api::warning_approve,
    api::warning_comment,
    api::warning_publish,
    api::warning_withdraw,
    api::complaint,
    api::labels,
    api::public_warnings
))]
pub struct ApiDoc;

use crate::error::{WebError, WebResult};
use crate::page::urlencode;
use crate::AppState;
use axum::routing::{get, post, put};
use axum::Router;
use chrono::NaiveDate;
use serde::Deserialize;
use yuepin_complaints::{Category, Level, Method, ProblemType};
use yuepin_complaints_service::{
    AlarmFilter, ComplaintFilter, ComplaintsError, ComplaintsService, CountDim, Grain, Invalid,
    WarningAction,
};
use yuepin_domain::{Division, RegionCode};

pub fn router() -> Router<AppState> {
    Router::new()
        // pages
        .route("/complaints", get(pages::dashboard_page))
        .route("/complaints/list", get(pages::list_page))
        .route("/complaints/c/{id}", get(pages::record_page))
        .route("/complaints/c/{id}/labels", post(pages::labels_form))
        .route("/complaints/alarms", get(pages::alarms_page))
        .route("/complaints/alarms.csv", get(pages::alarms_csv))
        .route("/complaints/alarms.xlsx", get(pages::alarms_xlsx))
        .route("/complaints/alarms/{id}", get(pages::alarm_page))
        .route(
            "/complaints/alarms/{id}/warning",
            post(pages::alarm_warning_form),
        )
        .route("/complaints/detect", post(pages::detect_form))
        .route(
            "/complaints/lexicon",
            get(pages::lexicon_page).post(pages::lexicon_form),
        )
        .route("/complaints/warnings", get(warning_pages::warnings_page))
        .route(
            "/complaints/warnings/{id}",
            get(warning_pages::warning_page),
        )
        .route(
            "/complaints/warnings/{id}/{action}",
            post(warning_pages::warning_action_form),
        )
        .route("/complaints/export", get(export::export))
        .route("/warnings", get(warning_pages::public_list_page))
        .route("/warnings.atom", get(warning_pages::atom_feed))
        .route("/warnings/{id}", get(warning_pages::public_warning_page))
        // API
        .route("/api/v1/complaints", get(api::list))
        .route("/api/v1/complaints/aggregates", get(api::aggregates))
        .route("/api/v1/complaints/top", get(api::top))
        .route("/api/v1/complaints/heatmap", get(api::heatmap))
        .route("/api/v1/complaints/alarms", get(api::alarms))
        .route("/api/v1/complaints/alarms/{id}", get(api::alarm))
        .route(
            "/api/v1/complaints/alarms/{id}/warning",
            post(api::alarm_warning),
        )
        .route("/api/v1/complaints/detect", post(api::detect))
        .route(
            "/api/v1/complaints/lexicon",
            get(api::lexicon).post(api::lexicon_set),
        )
        .route("/api/v1/complaints/accuracy", get(api::accuracy))
        .route("/api/v1/complaints/export", get(export::export))
        .route("/api/v1/complaints/warnings", get(api::warnings))
        .route(
            "/api/v1/complaints/warnings/{id}",
            get(api::warning).put(api::warning_edit),
        )
        .route(
            "/api/v1/complaints/warnings/{id}/approve",
            post(api::warning_approve),
        )
        .route(
            "/api/v1/complaints/warnings/{id}/comments",
            post(api::warning_comment),
        )
        .route(
            "/api/v1/complaints/warnings/{id}/publish",
            post(api::warning_publish),
        )
        .route(
            "/api/v1/complaints/warnings/{id}/withdraw",
            post(api::warning_withdraw),
        )
        .route("/api/v1/complaints/{id}", get(api::complaint))
        .route("/api/v1/complaints/{id}/labels", put(api::labels))
        .route("/api/v1/public/warnings", get(api::public_warnings))
}

impl From<ComplaintsError> for WebError {
    fn from(e: ComplaintsError) -> Self {
        use ComplaintsError as E;
        match e {
            E::Denied(d) => d.into(),
            E::Store(s) => s.into(),
            E::Ingest(i) => WebError::BadRequest(i.to_string()),
            E::Io { path, source } => {
                WebError::Internal(format!("reading {}: {source}", path.display()))
            }
            E::UnknownFormat(f) => WebError::field(
                "format",
                format!("不支持的文件类型 {f:?} (unsupported file type: use .csv, .jsonl or .xlsx)"),
            ),
            E::NotFound { what, id } => {
                let zh = match what {
                    "complaint" => "投诉",
                    "alarm" => "告警",
                    "warning" => "警示",
                    _ => "记录",
                };
                WebError::NotFound(format!("{zh} {id} 不存在 (no {what} {id})"))
            }
            E::Invalid { field, problem } => WebError::field(field, invalid_message(field, &problem)),
            E::Value(v) => WebError::field(v.field, v.reason),
            E::Domain(d) => WebError::field(d.field, d.reason),
            E::WrongStatus { action, status } => {
                let s = status.as_str();
                WebError::Conflict(match action {
                    WarningAction::Edit => format!(
                        "已{}的警示不能修改 (a {s} warning cannot be edited)",
                        views::status_zh(status)
                    ),
                    WarningAction::Approve => {
                        format!("只有草稿可以审核 (only drafts can be approved; this one is {s})")
                    }
                    WarningAction::Publish => format!(
                        "只有已审核的警示可以发布 (only approved warnings can be published; this one is {s})"
                    ),
                    WarningAction::Withdraw => "已撤回 (already withdrawn)".into(),
                })
            }
            E::WindowClosed => {
                WebError::Conflict("意见征求期未开放或已结束 (the comment window is not open)".into())
            }
            E::WindowOpen { deadline } => WebError::Conflict(format!(
                "企业意见征求期至 {deadline} 结束，尚有企业未反馈 (the enterprises' comment window runs until {deadline})"
            )),
            E::NoComplaints => WebError::Conflict("尚无投诉数据 (no complaints stored)".into()),
        }
    }
}

/// The words for a refused input value, per field.
fn invalid_message(field: &str, problem: &Invalid) -> String {
    match (field, problem) {
        ("term", Invalid::Length { min, max }) => {
            format!("词条应为{min}–{max}个字符 (a term is {min}–{max} characters)")
        }
        ("title", Invalid::Length { min, max }) => {
            format!("标题应为{min}–{max}个字符 (title is {min}–{max} characters)")
        }
        ("body", Invalid::Length { max: 10_000, .. }) => {
            "正文应为1–10000个字符 (body is 1–10 000 characters)".into()
        }
        ("body", Invalid::Length { min, max }) => {
            format!("意见应为{min}–{max}个字符 (a comment is {min}–{max} characters)")
        }
        (_, Invalid::Length { min, max }) => {
            format!("长度应为{min}–{max}个字符 (must be {min}–{max} characters)")
        }
        ("comment_days", Invalid::Range { min, max }) => {
            format!("意见期为{min}–{max}天 (comment window is {min}–{max} days)")
        }
        (_, Invalid::Range { min, max }) => format!("应在{min}–{max}之间 (must be {min}–{max})"),
        (_, Invalid::NeedCategoryOrDivision) => {
            "请给出产品类别或行业 (give a category or a division)".into()
        }
        (_, Invalid::ExactlyOneOfCategoryOrDivision) => {
            "请只给出产品类别或行业之一 (give exactly one of category or division)".into()
        }
        (_, Invalid::CategoryInOtherDivision { category, division }) => {
            format!("类别“{category}”属于行业{division} (category belongs to division {division})")
        }
        ("severity", Invalid::Unknown { .. }) => "应为 tip 或 alert (must be tip or alert)".into(),
        (_, Invalid::Config(m)) => format!("检测配置有误 (invalid detector configuration): {m}"),
        (_, Invalid::Unknown { value, expected }) => format!(
            "应为 {} (must be one of {}): {value:?}",
            expected.join("/"),
            expected.join(", ")
        ),
    }
}

/// The service behind every handler here.
fn svc(state: &AppState) -> &ComplaintsService {
    &state.modules.complaints
}

use crate::page::page_or_error as page;

/// Filters and options as typed in a query string.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct FilterQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    division: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    problem: String,
    #[serde(default)]
    enterprise: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    grain: String,
    #[serde(default)]
    by: String,
    #[serde(default)]
    dim: String,
    #[serde(default)]
    n: Option<i64>,
    #[serde(default)]
    format: String,
    #[serde(default)]
    what: String,
    #[serde(default)]
    all: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    page_size: Option<i64>,
    /// Exports: zh (default) or en headers and values.
    #[serde(default)]
    lang: String,
}

fn parse_day(field: &str, s: &str) -> WebResult<Option<NaiveDate>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            WebError::field(
                field,
                format!("日期格式应为YYYY-MM-DD (date must be YYYY-MM-DD): {s:?}"),
            )
        })
}

/// An optional category from a form or query field.
fn parse_category(s: Option<&str>) -> WebResult<Option<Category>> {
    match s.map(str::trim) {
        Some(s) if !s.is_empty() => Ok(Some(
            Category::parse(s).map_err(|e| WebError::field("category", e.reason))?,
        )),
        _ => Ok(None),
    }
}

/// An optional division from a form or query field.
fn parse_division(s: Option<&str>) -> WebResult<Option<Division>> {
    match s.map(str::trim) {
        Some(s) if !s.is_empty() => Ok(Some(Division::parse(s)?)),
        _ => Ok(None),
    }
}

impl FilterQuery {
    fn filter(&self) -> WebResult<ComplaintFilter> {
        // Fields in the order they are checked (the first bad one is reported).
        let mut f = ComplaintFilter {
            from: parse_day("from", &self.from)?,
            to: parse_day("to", &self.to)?,
            ..ComplaintFilter::default()
        };
        if !self.city.trim().is_empty() {
            f.city = Some(RegionCode::parse(&self.city)?);
        }
        f.division = parse_division(Some(&self.division))?;
        f.category = parse_category(Some(&self.category))?;
        if !self.problem.trim().is_empty() {
            f.problem = Some(
                ProblemType::parse(&self.problem)
                    .map_err(|e| WebError::field("problem", e.reason))?,
            );
        }
        if !self.enterprise.trim().is_empty() {
            f.enterprise_id = Some(self.enterprise.trim().parse().map_err(|_| {
                WebError::field(
                    "enterprise",
                    "企业编号应为数字 (enterprise id must be a number)",
                )
            })?);
        }
        Ok(f)
    }

    /// The alarm filter: method, level, city (name or GB/T 2260 code), division, period
    /// range; significant only unless `all=1`.
    fn alarm_filter(&self) -> WebResult<AlarmFilter> {
        let mut f = AlarmFilter {
            from: parse_day("from", &self.from)?,
            to: parse_day("to", &self.to)?,
            significant_only: self.all != "1",
            ..AlarmFilter::default()
        };
        let method = self.method.trim();
        if !method.is_empty() {
            f.method = Some(Method::parse(method).ok_or_else(|| {
                WebError::field(
                    "method",
                    format!("未知方法 {method:?} (unknown method; use pooled_scan, ears_c1, ears_c2, ears_c3, farrington_flexible or cusum)"),
                )
            })?);
        }
        let level = self.level.trim();
        if !level.is_empty() {
            f.level = Some(Level::parse(level).ok_or_else(|| {
                WebError::field(
                    "level",
                    format!("未知层级 {level:?} (unknown level; use city, division or category)"),
                )
            })?);
        }
        if !self.city.trim().is_empty() {
            f.city = Some(RegionCode::parse(self.city.trim())?);
        }
        f.division = parse_division(Some(&self.division))?;
        Ok(f)
    }

    /// The `by` dimensions (comma-separated).
    fn dims(&self) -> WebResult<Vec<CountDim>> {
        self.by
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|part| {
                CountDim::parse(part).ok_or_else(|| {
                    WebError::field("by", format!("未知维度 {part:?} (unknown dimension; use city, division, category, problem, enterprise)"))
                })
            })
            .collect()
    }

    fn grain(&self) -> WebResult<Grain> {
        Grain::parse(&self.grain).ok_or_else(|| {
            WebError::field(
                "grain",
                format!(
                    "应为 day/week/month/all (grain must be day, week, month or all): {:?}",
                    self.grain
                ),
            )
        })
    }
}

/// The query string that reproduces a filter (for links and exports).
fn filter_query_string(f: &ComplaintFilter) -> String {
    let mut parts = Vec::new();
    if let Some(d) = f.from {
        parts.push(format!("from={d}"));
    }
    if let Some(d) = f.to {
        parts.push(format!("to={d}"));
    }
    if let Some(c) = &f.city {
        parts.push(format!("city={}", c.city().code));
    }
    if let Some(d) = f.division {
        parts.push(format!("division={}", d.code()));
    }
    if let Some(c) = f.category {
        parts.push(format!("category={}", urlencode(&c.info().key)));
    }
    if let Some(p) = f.problem {
        parts.push(format!("problem={}", p.as_str()));
    }
    if let Some(e) = f.enterprise_id {
        parts.push(format!("enterprise={e}"));
    }
    parts.join("&")
}

/// A filter as a heading: city · division · category · problem · window.
fn describe_filter(f: &ComplaintFilter) -> String {
    let mut parts = Vec::new();
    if let Some(c) = &f.city {
        parts.push(c.city().name_zh.clone());
    }
    if let Some(d) = f.division {
        parts.push(format!("{} {}", d.code(), d.info().name_zh));
    }
    if let Some(c) = f.category {
        parts.push(c.info().name_zh.clone());
    }
    if let Some(p) = f.problem {
        parts.push(p.name_zh().to_string());
    }
    if let (Some(a), Some(b)) = (f.from, f.to) {
        parts.push(format!("{a} – {b}"));
    }
    parts.join(" · ")
}
