//! Routes of the complaints module (measure 22): the regulator's 12315 dashboard (trend and
//! city × division heat map as server-drawn SVG, top-N, alarms with drill-down to masked
//! complaints, CSV/XLSX exports), label corrections and lexicon, the warning workflow
//! (draft → approve with an enterprise comment window → publish), the public warning pages and
//! Atom feed, and the JSON API under `/api/v1/complaints`.
//!
//! Privacy: only a regulator looking at one complaint record (`/complaints/c/{id}`,
//! `GET /api/v1/complaints/{id}`) sees the complainant's raw data; every list, drill-down,
//! export, warning and enterprise view is masked.

use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::input::ApiJson;
use crate::page::{page_error, render, urlencode, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use yuepin_complaints::{roll_up, Category, Classifier, ProblemType, Target};
use yuepin_domain::{reference, Division, RegionCode, Role};
use yuepin_store::complaints::{
    category_name, city_name, division_name, iso_week_start, AlarmRecord, ComplaintFilter,
    ComplaintRecord, DetectOptions, WarningRecord, WarningScope, WorkflowError,
    COMMENT_DAYS_DEFAULT,
};

/// Long-lived state: the classifier with the stored lexicon applied (rebuilt when it changes).
#[derive(Default)]
pub struct ModuleState {
    classifier: tokio::sync::Mutex<Option<(String, Arc<Classifier>)>>,
}

impl std::fmt::Debug for ModuleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("complaints::ModuleState").finish()
    }
}

impl ModuleState {
    pub fn new(_config: &crate::WebConfig) -> Self {
        Self::default()
    }

    async fn classifier(&self, state: &AppState) -> WebResult<Arc<Classifier>> {
        let version = state.store.lexicon_version().await?;
        let mut guard = self.classifier.lock().await;
        if let Some((v, c)) = guard.as_ref() {
            if *v == version {
                return Ok(c.clone());
            }
        }
        let overrides = state.store.lexicon_overrides().await?;
        let c = tokio::task::spawn_blocking(move || {
            let mut c = Classifier::new();
            c.apply_overrides(&overrides);
            c
        })
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
        let c = Arc::new(c);
        *guard = Some((version, c.clone()));
        Ok(c)
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        // pages
        .route("/complaints", get(dashboard_page))
        .route("/complaints/list", get(list_page))
        .route("/complaints/c/{id}", get(record_page))
        .route("/complaints/c/{id}/labels", post(labels_form))
        .route("/complaints/alarms", get(alarms_page))
        .route("/complaints/alarms/{id}", get(alarm_page))
        .route("/complaints/alarms/{id}/warning", post(alarm_warning_form))
        .route("/complaints/detect", post(detect_form))
        .route("/complaints/lexicon", get(lexicon_page).post(lexicon_form))
        .route("/complaints/warnings", get(warnings_page))
        .route("/complaints/warnings/{id}", get(warning_page))
        .route(
            "/complaints/warnings/{id}/{action}",
            post(warning_action_form),
        )
        .route("/complaints/export", get(export))
        .route("/warnings", get(public_list_page))
        .route("/warnings.atom", get(atom_feed))
        .route("/warnings/{id}", get(public_warning_page))
        // API
        .route("/api/v1/complaints", get(api_list))
        .route("/api/v1/complaints/aggregates", get(api_aggregates))
        .route("/api/v1/complaints/top", get(api_top))
        .route("/api/v1/complaints/heatmap", get(api_heatmap))
        .route("/api/v1/complaints/alarms", get(api_alarms))
        .route("/api/v1/complaints/alarms/{id}", get(api_alarm))
        .route(
            "/api/v1/complaints/alarms/{id}/warning",
            post(api_alarm_warning),
        )
        .route("/api/v1/complaints/detect", post(api_detect))
        .route(
            "/api/v1/complaints/lexicon",
            get(api_lexicon).post(api_lexicon_set),
        )
        .route("/api/v1/complaints/accuracy", get(api_accuracy))
        .route("/api/v1/complaints/export", get(export))
        .route("/api/v1/complaints/warnings", get(api_warnings))
        .route(
            "/api/v1/complaints/warnings/{id}",
            get(api_warning).put(api_warning_edit),
        )
        .route(
            "/api/v1/complaints/warnings/{id}/approve",
            post(api_warning_approve),
        )
        .route(
            "/api/v1/complaints/warnings/{id}/comments",
            post(api_warning_comment),
        )
        .route(
            "/api/v1/complaints/warnings/{id}/publish",
            post(api_warning_publish),
        )
        .route(
            "/api/v1/complaints/warnings/{id}/withdraw",
            post(api_warning_withdraw),
        )
        .route("/api/v1/complaints/{id}", get(api_complaint))
        .route("/api/v1/complaints/{id}/labels", put(api_labels))
        .route("/api/v1/public/warnings", get(api_public_warnings))
}

// ───────────────────────────── helpers ─────────────────────────────

fn wf(e: WorkflowError) -> WebError {
    match e {
        WorkflowError::Store(s) => s.into(),
        WorkflowError::State(m) => WebError::Conflict(m),
    }
}

fn page(r: WebResult<Response>, auth: &Auth, state: &AppState, uri: &Uri) -> Response {
    r.unwrap_or_else(|e| page_error(e, auth, state, uri))
}

fn regulator(auth: &Auth) -> WebResult<()> {
    auth.require_role(&[Role::Regulator]).map(|_| ())
}

/// Filters as typed in a query string.
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

impl FilterQuery {
    fn filter(&self) -> WebResult<ComplaintFilter> {
        let mut f = ComplaintFilter {
            from: parse_day("from", &self.from)?,
            to: parse_day("to", &self.to)?,
            ..ComplaintFilter::default()
        };
        if !self.city.trim().is_empty() {
            f.city = Some(RegionCode::parse(&self.city)?.city().code.clone());
        }
        if !self.division.trim().is_empty() {
            f.division = Some(i64::from(Division::parse(&self.division)?.code()));
        }
        if !self.category.trim().is_empty() {
            let c = Category::parse(&self.category)
                .map_err(|e| WebError::field("category", e.reason))?;
            f.category = Some(c.info().key.clone());
        }
        if !self.problem.trim().is_empty() {
            let p = ProblemType::parse(&self.problem)
                .map_err(|e| WebError::field("problem", e.reason))?;
            f.problem = Some(p.as_str().to_string());
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
}

fn filter_query_string(f: &ComplaintFilter) -> String {
    let mut parts = Vec::new();
    if let Some(d) = f.from {
        parts.push(format!("from={d}"));
    }
    if let Some(d) = f.to {
        parts.push(format!("to={d}"));
    }
    if let Some(c) = &f.city {
        parts.push(format!("city={c}"));
    }
    if let Some(d) = f.division {
        parts.push(format!("division={d}"));
    }
    if let Some(c) = &f.category {
        parts.push(format!("category={}", urlencode(c)));
    }
    if let Some(p) = &f.problem {
        parts.push(format!("problem={p}"));
    }
    if let Some(e) = f.enterprise_id {
        parts.push(format!("enterprise={e}"));
    }
    parts.join("&")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A masked complaint as shown in lists and API answers.
fn masked_json(c: ComplaintRecord) -> serde_json::Value {
    serde_json::to_value(c.masked()).unwrap_or_default()
}

/// Default window: the 90 days up to the last stored complaint.
async fn default_window(state: &AppState, f: &mut ComplaintFilter) -> WebResult<()> {
    if f.to.is_none() {
        f.to = Some(match state.store.complaint_span().await? {
            Some((_, last)) => last,
            None => crate::today(),
        });
    }
    if f.from.is_none() {
        f.from = f.to.map(|t| t - Duration::days(89));
    }
    Ok(())
}

// ───────────────────────────── charts (SVG) ─────────────────────────────

/// Daily counts as a bar-and-line SVG, with the 7-day mean.
fn trend_svg(series: &[(NaiveDate, i64)], tr: &Tr) -> String {
    let (w, h, pad) = (720.0, 220.0, 30.0);
    let n = series.len().max(1) as f64;
    let max = series.iter().map(|s| s.1).max().unwrap_or(0).max(1) as f64;
    let x = |i: usize| pad + (w - 2.0 * pad) * (i as f64 + 0.5) / n;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v / max;
    let mut out = format!(
        r#"<svg id="trend-chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg" style="max-width:720px;background:#fff">"#,
        tr.t("每日投诉量趋势", "Daily complaints")
    );
    out.push_str(&format!(
        r##"<line x1="{pad}" y1="{}" x2="{}" y2="{}" stroke="#999"/><text x="2" y="{}" font-size="11">{}</text><text x="2" y="{}" font-size="11">0</text>"##,
        h - pad, w - pad, h - pad, pad, max as i64, h - pad
    ));
    let bw = ((w - 2.0 * pad) / n * 0.8).max(0.5);
    for (i, (d, v)) in series.iter().enumerate() {
        out.push_str(&format!(
            r##"<rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#f3b3b6"><title>{d}: {v}</title></rect>"##,
            x(i) - bw / 2.0,
            y(*v as f64),
            (h - pad) - y(*v as f64)
        ));
    }
    let mut pts = Vec::new();
    for i in 0..series.len() {
        let lo = i.saturating_sub(6);
        let mean = series[lo..=i].iter().map(|s| s.1 as f64).sum::<f64>() / (i - lo + 1) as f64;
        pts.push(format!("{:.1},{:.1}", x(i), y(mean)));
    }
    out.push_str(&format!(
        r##"<polyline points="{}" fill="none" stroke="#b5121b" stroke-width="2"/>"##,
        pts.join(" ")
    ));
    if let (Some(first), Some(last)) = (series.first(), series.last()) {
        out.push_str(&format!(
            r#"<text x="{pad}" y="{}" font-size="11">{}</text><text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>"#,
            h - 8.0,
            first.0,
            w - pad,
            h - 8.0,
            last.0
        ));
    }
    out.push_str("</svg>");
    out
}

/// City × division heat map (counts, colour on a square-root scale).
fn heatmap_svg(cells: &HashMap<(String, i64), i64>, tr: &Tr) -> String {
    let cities = reference::cities();
    let divs: Vec<u8> = (13..=43).collect();
    let (cw, ch, left, top) = (20.0, 16.0, 60.0, 30.0);
    let w = left + cw * divs.len() as f64 + 10.0;
    let h = top + ch * cities.len() as f64 + 10.0;
    let max = cells.values().copied().max().unwrap_or(0).max(1) as f64;
    let mut out = format!(
        r#"<svg id="heatmap" viewBox="0 0 {w} {h}" width="100%" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" style="max-width:{w}px;background:#fff">"#,
        tr.t("地市×行业热力图", "City × industry heat map")
    );
    for (j, d) in divs.iter().enumerate() {
        out.push_str(&format!(
            r#"<text x="{:.1}" y="{}" font-size="9" text-anchor="middle">{d}</text>"#,
            left + cw * (j as f64 + 0.5),
            top - 6.0
        ));
    }
    for (i, c) in cities.iter().enumerate() {
        let name = if tr.is_en() {
            c.name_en.as_str()
        } else {
            c.short_zh()
        };
        out.push_str(&format!(
            r#"<text x="{}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"#,
            left - 4.0,
            top + ch * (i as f64 + 0.75),
            esc(name)
        ));
        for (j, d) in divs.iter().enumerate() {
            let v = cells
                .get(&(c.code.clone(), i64::from(*d)))
                .copied()
                .unwrap_or(0);
            let t = (v as f64 / max).sqrt();
            let (r, g, b) = (
                (255.0 - t * (255.0 - 181.0)) as u8,
                (255.0 - t * (255.0 - 18.0)) as u8,
                (255.0 - t * (255.0 - 27.0)) as u8,
            );
            out.push_str(&format!(
                r##"<a href="/complaints/list?city={}&amp;division={d}"><rect x="{:.1}" y="{:.1}" width="{}" height="{}" fill="rgb({r},{g},{b})" stroke="#eee"><title>{} · {d} {}: {v}</title></rect></a>"##,
                c.code,
                left + cw * j as f64,
                top + ch * i as f64,
                cw,
                ch,
                esc(name),
                esc(&division_name(i64::from(*d)))
            ));
        }
    }
    out.push_str("</svg>");
    out
}

// ───────────────────────────── dashboard ─────────────────────────────

struct TopRow {
    label: String,
    link: String,
    n: i64,
    extra: String,
}

#[derive(Template)]
#[template(path = "complaints/dashboard.html")]
struct DashboardPage {
    tr: Tr,
    c: Chrome,
    from: String,
    to: String,
    total: i64,
    trend: String,
    heatmap: String,
    top_categories: Vec<TopRow>,
    top_cities: Vec<TopRow>,
    top_enterprises: Vec<TopRow>,
    top_problems: Vec<TopRow>,
    alarms: usize,
    last_run: String,
    qs: String,
}

async fn dashboard_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<FilterQuery>,
) -> Response {
    let r = dashboard(&state, &auth, &uri, q).await;
    page(r, &auth, &state, &uri)
}

async fn daily_series(state: &AppState, f: &ComplaintFilter) -> WebResult<Vec<(NaiveDate, i64)>> {
    let rows = state.store.complaint_counts(f, &[], true).await?;
    let by: HashMap<String, i64> = rows
        .into_iter()
        .filter_map(|r| Some((r.day?, r.n)))
        .collect();
    let (Some(from), Some(to)) = (f.from, f.to) else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    let mut d = from;
    while d <= to && out.len() < 3000 {
        out.push((d, by.get(&d.to_string()).copied().unwrap_or(0)));
        d += Duration::days(1);
    }
    Ok(out)
}

async fn dashboard(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    q: FilterQuery,
) -> WebResult<Response> {
    regulator(auth)?;
    let tr = auth.tr;
    let mut f = q.filter()?;
    default_window(state, &mut f).await?;
    let series = daily_series(state, &f).await?;
    let total: i64 = series.iter().map(|s| s.1).sum();
    let heat = state
        .store
        .complaint_counts(&f, &["city", "division"], false)
        .await?;
    let cells: HashMap<(String, i64), i64> = heat
        .iter()
        .filter_map(|r| Some(((r.city.clone()?, r.division?), r.n)))
        .collect();
    let qs = filter_query_string(&f);
    let top = |rows: Vec<yuepin_store::complaints::CountRow>,
               key: &dyn Fn(
        &yuepin_store::complaints::CountRow,
    ) -> Option<(String, String, String)>| {
        let mut v: Vec<TopRow> = rows
            .iter()
            .filter_map(|r| {
                let (label, link, extra) = key(r)?;
                Some(TopRow {
                    label,
                    link,
                    n: r.n,
                    extra,
                })
            })
            .collect();
        v.sort_by(|a, b| b.n.cmp(&a.n).then(a.label.cmp(&b.label)));
        v.truncate(10);
        v
    };
    let top_categories = top(
        state
            .store
            .complaint_counts(&f, &["category"], false)
            .await?,
        &|r| {
            let k = r.category.clone()?;
            Some((
                category_name(&k),
                format!("/complaints/list?{qs}&category={k}"),
                String::new(),
            ))
        },
    );
    let days = series.len().max(1) as f64;
    let top_cities = top(
        state.store.complaint_counts(&f, &["city"], false).await?,
        &|r| {
            let c = r.city.clone()?;
            let idx = reference::cities().iter().position(|x| x.code == c)?;
            let pop = yuepin_complaints::city_population(idx as u8).unwrap_or(0) as f64;
            let rate = if pop > 0.0 {
                r.n as f64 / pop * 100_000.0 * 365.0 / days
            } else {
                0.0
            };
            let name = if tr.is_en() {
                yuepin_store::complaints::city_name_en(&c).to_string()
            } else {
                city_name(&c).to_string()
            };
            Some((
                name,
                format!("/complaints/list?{qs}&city={c}"),
                format!("{rate:.1}"),
            ))
        },
    );
    let top_problems = top(
        state
            .store
            .complaint_counts(&f, &["problem"], false)
            .await?,
        &|r| {
            let p = r.problem.clone()?;
            let name = ProblemType::parse(&p).map_or("其他", |x| x.name_zh());
            Some((
                if tr.is_en() {
                    p.clone()
                } else {
                    name.to_string()
                },
                format!("/complaints/list?{qs}&problem={p}"),
                String::new(),
            ))
        },
    );
    let top_enterprises = state
        .store
        .complaint_top_enterprises(&f, 10)
        .await?
        .into_iter()
        .map(|(id, uscc, name, n)| TopRow {
            label: name,
            link: id
                .map(|i| format!("/complaints/list?{qs}&enterprise={i}"))
                .unwrap_or_default(),
            n,
            extra: uscc.unwrap_or_default(),
        })
        .collect();
    let alarms = state.store.complaint_alarms(true, 10_000).await?.len();
    let last_run = state
        .store
        .last_detect_run()
        .await?
        .map(|(id, as_of, at, n, sig)| format!("#{id} · {as_of} · {at} · {n} / {sig}"))
        .unwrap_or_default();
    let p = DashboardPage {
        tr,
        c: Chrome::new(auth, state),
        from: f.from.map(|d| d.to_string()).unwrap_or_default(),
        to: f.to.map(|d| d.to_string()).unwrap_or_default(),
        total,
        trend: trend_svg(&series, &tr),
        heatmap: heatmap_svg(&cells, &tr),
        top_categories,
        top_cities,
        top_enterprises,
        top_problems,
        alarms,
        last_run,
        qs,
    };
    Ok(render(&p, auth, uri))
}

// ───────────────────────────── lists and records ─────────────────────────────

struct ListRow {
    id: i64,
    ext_id: String,
    day: String,
    city: String,
    subject: String,
    problem: String,
    enterprise: String,
    text: String,
    person: String,
}

fn list_row(c: ComplaintRecord) -> ListRow {
    let c = c.masked();
    ListRow {
        id: c.id,
        ext_id: c.ext_id.clone(),
        day: c.day.clone(),
        city: c.city_name().to_string(),
        subject: format!("{} {}", c.category_name(), c.division_name())
            .trim()
            .to_string(),
        problem: c.problem_name().to_string(),
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
struct ListPage {
    tr: Tr,
    c: Chrome,
    heading: String,
    total: i64,
    rows: Vec<ListRow>,
    qs: String,
    page: i64,
    has_next: bool,
}

async fn list_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<FilterQuery>,
) -> Response {
    let r = async {
        regulator(&auth)?;
        let f = q.filter()?;
        let pg = q.page.unwrap_or(1).clamp(1, 100_000);
        let (rows, total) = state.store.complaints(&f, 50, (pg - 1) * 50).await?;
        let p = ListPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            heading: describe_filter(&f),
            total,
            has_next: pg * 50 < total,
            rows: rows.into_iter().map(list_row).collect(),
            qs: filter_query_string(&f),
            page: pg,
        };
        Ok(render(&p, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

fn describe_filter(f: &ComplaintFilter) -> String {
    let mut parts = Vec::new();
    if let Some(c) = &f.city {
        parts.push(city_name(c).to_string());
    }
    if let Some(d) = f.division {
        parts.push(format!("{d} {}", division_name(d)));
    }
    if let Some(c) = &f.category {
        parts.push(category_name(c));
    }
    if let Some(p) = &f.problem {
        parts.push(
            ProblemType::parse(p)
                .map_or("其他", |x| x.name_zh())
                .to_string(),
        );
    }
    if let (Some(a), Some(b)) = (f.from, f.to) {
        parts.push(format!("{a} – {b}"));
    }
    parts.join(" · ")
}

#[derive(Template)]
#[template(path = "complaints/record.html")]
struct RecordPage {
    tr: Tr,
    c: Chrome,
    r: ComplaintRecord,
    categories: Vec<(String, String)>,
    divisions: Vec<(u8, String)>,
    is_regulator: bool,
}

async fn record_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
) -> Response {
    let r = async {
        let rec = readable_complaint(&state, &auth, id).await?;
        let p = RecordPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            is_regulator: auth.is_regulator(),
            r: rec,
            categories: yuepin_complaints::categories()
                .iter()
                .map(|c| (c.key.clone(), c.name_zh.clone()))
                .collect(),
            divisions: reference::divisions()
                .iter()
                .map(|d| (d.code, d.name_zh.clone()))
                .collect(),
        };
        Ok(render(&p, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

/// The record: raw for regulators; masked for the enterprise it names; nobody else.
async fn readable_complaint(state: &AppState, auth: &Auth, id: i64) -> WebResult<ComplaintRecord> {
    auth.require_user()?;
    let rec = state.store.complaint(id).await?;
    if auth.is_regulator() {
        return Ok(rec);
    }
    match rec.enterprise_id {
        Some(e)
            if auth.can_read_enterprise(e)
                && auth
                    .user
                    .as_ref()
                    .is_some_and(|u| u.role == Role::Enterprise) =>
        {
            Ok(rec.masked())
        }
        _ => Err(WebError::Forbidden(
            "无权查看该投诉 (not your complaint)".into(),
        )),
    }
}

#[derive(Debug, Deserialize)]
struct LabelsInput {
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    division: Option<String>,
}

async fn correct_labels(
    state: &AppState,
    auth: &Auth,
    id: i64,
    input: &LabelsInput,
) -> WebResult<ComplaintRecord> {
    regulator(auth)?;
    let category = match input.category.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => {
            Some(Category::parse(s).map_err(|e| WebError::field("category", e.reason))?)
        }
        _ => None,
    };
    let division = match input.division.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Some(Division::parse(s)?),
        _ => None,
    };
    if category.is_none() && division.is_none() {
        return Err(WebError::field(
            "category",
            "请给出产品类别或行业 (give a category or a division)",
        ));
    }
    if let (Some(c), Some(d)) = (category, division) {
        if c.division() != d {
            return Err(WebError::field(
                "division",
                format!(
                    "类别“{}”属于行业{} (category belongs to division {})",
                    c.info().name_zh,
                    c.division().code(),
                    c.division().code()
                ),
            ));
        }
    }
    Ok(state
        .store
        .correct_complaint_labels(id, category, division, auth.actor())
        .await?)
}

async fn labels_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let r = async {
        auth.check_csrf(f.get("csrf").map(String::as_str))?;
        let input = LabelsInput {
            category: f.get("category").cloned(),
            division: f.get("division").cloned(),
        };
        correct_labels(&state, &auth, id, &input).await?;
        Ok(Redirect::to(&format!("/complaints/c/{id}")).into_response())
    }
    .await;
    page(r, &auth, &state, &uri)
}

// ───────────────────────────── alarms ─────────────────────────────

struct AlarmRow {
    id: i64,
    method: String,
    level: String,
    city: String,
    subject: String,
    period: String,
    observed: String,
    expected: String,
    threshold: String,
    p: String,
    q: String,
    significant: bool,
}

fn alarm_row(a: &AlarmRecord) -> AlarmRow {
    AlarmRow {
        id: a.id,
        method: a.method_name().to_string(),
        level: a.level.clone(),
        city: a.city_name().to_string(),
        subject: a.subject_zh(),
        period: if a.period_days > 1 {
            format!("{} – {}", a.period_start, a.period_end())
        } else {
            a.period_start.clone()
        },
        observed: format!("{:.0}", a.observed),
        expected: format!("{:.1}", a.expected),
        threshold: format!("{:.1}", a.threshold),
        p: format!("{:.2e}", a.p_value),
        q: format!("{:.2e}", a.q_value),
        significant: a.significant,
    }
}

struct RollupRow {
    city: String,
    period: String,
    city_alarms: usize,
    divisions: String,
}

#[derive(Template)]
#[template(path = "complaints/alarms.html")]
struct AlarmsPage {
    tr: Tr,
    c: Chrome,
    rows: Vec<AlarmRow>,
    rollup: Vec<RollupRow>,
    all: bool,
    last_run: String,
}

async fn alarms_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<FilterQuery>,
) -> Response {
    let r = async {
        regulator(&auth)?;
        let all = q.all == "1";
        let alarms = state.store.complaint_alarms(!all, 2000).await?;
        let lib: Vec<_> = alarms
            .iter()
            .filter(|a| a.significant)
            .filter_map(AlarmRecord::to_alarm)
            .collect();
        let rollup = roll_up(&lib)
            .into_iter()
            .take(50)
            .map(|r| RollupRow {
                city: city_name(&r.region.city().code).to_string(),
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
            })
            .collect();
        let p = AlarmsPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            rows: alarms.iter().map(alarm_row).collect(),
            rollup,
            all,
            last_run: state
                .store
                .last_detect_run()
                .await?
                .map(|(id, as_of, at, n, sig)| {
                    format!("#{id} · as of {as_of} · {at} · {n} / {sig}")
                })
                .unwrap_or_default(),
        };
        Ok(render(&p, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

#[derive(Template)]
#[template(path = "complaints/alarm.html")]
struct AlarmPage {
    tr: Tr,
    c: Chrome,
    a: AlarmRow,
    rows: Vec<ListRow>,
    total: i64,
    qs: String,
    window: String,
}

async fn alarm_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
) -> Response {
    let r = async {
        regulator(&auth)?;
        let a = state.store.complaint_alarm(id).await?;
        let f = a.filter();
        let (rows, total) = state.store.complaints(&f, 100, 0).await?;
        let p = AlarmPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            a: alarm_row(&a),
            rows: rows.into_iter().map(list_row).collect(),
            total,
            qs: filter_query_string(&f),
            window: describe_filter(&f),
        };
        Ok(render(&p, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

async fn alarm_warning_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let r = async {
        auth.check_csrf(f.get("csrf").map(String::as_str))?;
        regulator(&auth)?;
        let wid = state
            .store
            .draft_warning_from_alarm(id, auth.actor())
            .await?;
        Ok(Redirect::to(&format!("/complaints/warnings/{wid}")).into_response())
    }
    .await;
    page(r, &auth, &state, &uri)
}

async fn run_detect(
    state: &AppState,
    auth: &Auth,
    as_of: Option<NaiveDate>,
    report_days: Option<i64>,
) -> WebResult<yuepin_store::complaints::DetectReport> {
    regulator(auth)?;
    let as_of = match as_of {
        Some(d) => d,
        None => match state.store.complaint_span().await? {
            Some((_, last)) => last,
            None => {
                return Err(WebError::Conflict(
                    "尚无投诉数据 (no complaints stored)".into(),
                ));
            }
        },
    };
    let mut opts = DetectOptions::new(as_of);
    opts.report_days = report_days.unwrap_or(28).clamp(1, 366);
    Ok(state
        .store
        .detect_complaint_alarms(&opts, auth.actor())
        .await?)
}

async fn detect_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let r = async {
        auth.check_csrf(f.get("csrf").map(String::as_str))?;
        let as_of = parse_day("as_of", f.get("as_of").map_or("", String::as_str))?;
        run_detect(&state, &auth, as_of, None).await?;
        Ok(Redirect::to("/complaints/alarms").into_response())
    }
    .await;
    page(r, &auth, &state, &uri)
}

// ───────────────────────────── lexicon & accuracy ─────────────────────────────

#[derive(Debug, Clone, serde::Serialize)]
struct AccuracyOut {
    labelled_set: usize,
    labelled_category: f64,
    labelled_division: f64,
    corrected: usize,
    corrected_category: f64,
    corrected_division: f64,
}

async fn accuracy(state: &AppState) -> WebResult<AccuracyOut> {
    let c = state.modules.complaints.classifier(state).await?;
    let corrected = state.store.labelled_complaints().await?;
    tokio::task::spawn_blocking(move || {
        let set = yuepin_complaints::labelled_set();
        let (mut cat, mut div) = (0usize, 0usize);
        for (text, category, division) in &set {
            let got = c.classify(text);
            cat += usize::from(got.category == Some(*category));
            div += usize::from(got.division == Some(*division));
        }
        let (mut ccat, mut cdiv) = (0usize, 0usize);
        for (text, category, division) in &corrected {
            let got = c.classify(text);
            ccat += usize::from(got.category.map(|k| k.info().key.clone()) == *category);
            cdiv += usize::from(got.division.map(|d| i64::from(d.code())) == *division);
        }
        let ratio = |a: usize, n: usize| if n == 0 { 0.0 } else { a as f64 / n as f64 };
        AccuracyOut {
            labelled_set: set.len(),
            labelled_category: ratio(cat, set.len()),
            labelled_division: ratio(div, set.len()),
            corrected: corrected.len(),
            corrected_category: ratio(ccat, corrected.len()),
            corrected_division: ratio(cdiv, corrected.len()),
        }
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))
}

#[derive(Template)]
#[template(path = "complaints/lexicon.html")]
struct LexiconPage {
    tr: Tr,
    c: Chrome,
    terms: Vec<(String, String)>,
    acc: AccuracyOut,
    categories: Vec<(String, String)>,
}

fn target_label(t: &Option<Target>) -> String {
    match t {
        Some(Target::Category(c)) => format!("{} ({})", c.info().name_zh, c.info().key),
        Some(Target::Division(d)) => format!("{} {}", d.code(), d.info().name_zh),
        None => "—".into(),
    }
}

async fn lexicon_page(State(state): State<AppState>, auth: Auth, uri: Uri) -> Response {
    let r = async {
        regulator(&auth)?;
        let terms = state
            .store
            .lexicon_overrides()
            .await?
            .into_iter()
            .map(|o| (o.term.clone(), target_label(&o.target)))
            .collect();
        let p = LexiconPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            terms,
            acc: accuracy(&state).await?,
            categories: yuepin_complaints::categories()
                .iter()
                .map(|c| (c.key.clone(), c.name_zh.clone()))
                .collect(),
        };
        Ok(render(&p, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

#[derive(Debug, Deserialize)]
struct TermInput {
    term: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    division: Option<String>,
    #[serde(default)]
    remove: bool,
}

async fn set_term(state: &AppState, auth: &Auth, input: &TermInput) -> WebResult<()> {
    regulator(auth)?;
    let term = input.term.trim();
    if term.is_empty() || term.chars().count() > 20 || term.chars().any(char::is_control) {
        return Err(WebError::field(
            "term",
            "词条应为1–20个字符 (a term is 1–20 characters)",
        ));
    }
    let target = if input.remove {
        None
    } else {
        let cat = input
            .category
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let div = input
            .division
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        Some(match (cat, div) {
            (Some(c), None) => Target::Category(
                Category::parse(c).map_err(|e| WebError::field("category", e.reason))?,
            ),
            (None, Some(d)) => Target::Division(Division::parse(d)?),
            _ => {
                return Err(WebError::field(
                    "category",
                    "请只给出产品类别或行业之一 (give exactly one of category or division)",
                ));
            }
        })
    };
    state
        .store
        .set_lexicon_term(term, target, auth.actor())
        .await?;
    Ok(())
}

async fn lexicon_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let r = async {
        auth.check_csrf(f.get("csrf").map(String::as_str))?;
        let input = TermInput {
            term: f.get("term").cloned().unwrap_or_default(),
            category: f.get("category").cloned(),
            division: f.get("division").cloned(),
            remove: f.get("remove").is_some_and(|v| v == "1"),
        };
        set_term(&state, &auth, &input).await?;
        Ok(Redirect::to("/complaints/lexicon").into_response())
    }
    .await;
    page(r, &auth, &state, &uri)
}

// ───────────────────────────── warnings ─────────────────────────────

/// Warnings the caller may see: regulators all; enterprises those naming them once approved;
/// everyone else (and everyone on public pages) published ones.
async fn readable_warning(
    state: &AppState,
    auth: &Auth,
    id: i64,
    public: bool,
) -> WebResult<WarningRecord> {
    let w = state.store.complaint_warning(id).await?;
    if w.status == "published" {
        return Ok(w);
    }
    let hidden = || WebError::NotFound(format!("警示 {id} 不存在 (no warning {id})"));
    if public {
        return Err(hidden());
    }
    if auth.is_regulator() {
        return Ok(w);
    }
    if let Some(u) = &auth.user {
        if u.role == Role::Enterprise
            && w.status == "approved"
            && w.enterprises
                .iter()
                .any(|e| Some(e.enterprise_id) == u.enterprise_id)
        {
            return Ok(w);
        }
    }
    Err(hidden())
}

/// What non-regulators see: no audit details on who approved.
fn public_json(mut w: WarningRecord, regulator: bool) -> serde_json::Value {
    if !regulator {
        w.approved_by = None;
        w.comments.iter_mut().for_each(|c| c.author = String::new());
    }
    serde_json::to_value(w).unwrap_or_default()
}

struct WarningRow {
    id: i64,
    title: String,
    status: String,
    severity: String,
    date: String,
    deadline: String,
}

fn warning_row(w: &WarningRecord, tr: &Tr) -> WarningRow {
    WarningRow {
        id: w.id,
        title: w.title.clone(),
        status: if tr.is_en() {
            w.status.clone()
        } else {
            w.status_zh().to_string()
        },
        severity: tr.t(w.severity_zh(), w.severity_en()).to_string(),
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
struct WarningsPage {
    tr: Tr,
    c: Chrome,
    rows: Vec<WarningRow>,
    public: bool,
}

async fn warnings_page(State(state): State<AppState>, auth: Auth, uri: Uri) -> Response {
    let r = async {
        let u = auth.require_user()?;
        let scope = match u.role {
            Role::Regulator => WarningScope::All,
            Role::Enterprise => WarningScope::Enterprise(u.enterprise_id.unwrap_or(-1)),
            _ => {
                return Err(WebError::Forbidden(
                    "仅监管人员和企业可查看 (regulators and enterprises only)".into(),
                ));
            }
        };
        let list = state.store.complaint_warnings(scope).await?;
        let p = WarningsPage {
            tr: auth.tr,
            rows: list.iter().map(|w| warning_row(w, &auth.tr)).collect(),
            c: Chrome::new(&auth, &state),
            public: false,
        };
        Ok(render(&p, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

struct EvidenceView {
    method: String,
    methods: String,
    observed: String,
    expected: String,
    threshold: String,
    p: String,
    q: String,
    period: String,
    window: String,
    region: String,
    subject: String,
    window_complaints: i64,
    enterprises: Vec<(String, String, i64)>,
    problems: Vec<(String, i64)>,
    samples: Vec<(String, String, String, String)>,
}

fn evidence_view(w: &WarningRecord) -> EvidenceView {
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
            .map(|(p, n)| {
                (
                    ProblemType::parse(p)
                        .map_or("其他", |x| x.name_zh())
                        .to_string(),
                    *n,
                )
            })
            .collect(),
        samples: e
            .samples
            .iter()
            .map(|s| {
                (
                    s.day.clone(),
                    ProblemType::parse(&s.problem)
                        .map_or("其他", |x| x.name_zh())
                        .to_string(),
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
struct WarningPage {
    tr: Tr,
    c: Chrome,
    w: WarningRecord,
    ev: EvidenceView,
    status: String,
    severity: String,
    is_regulator: bool,
    can_comment: bool,
    public: bool,
    comment_days: i64,
    paragraphs: Vec<String>,
}

async fn warning_view(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    id: i64,
    public: bool,
) -> WebResult<Response> {
    let w = readable_warning(state, auth, id, public).await?;
    let is_regulator = auth.is_regulator() && !public;
    let now = yuepin_store::now_text();
    let can_comment = !public
        && w.window_open(&now)
        && auth.user.as_ref().is_some_and(|u| {
            u.role == Role::Enterprise
                && w.enterprises
                    .iter()
                    .any(|e| Some(e.enterprise_id) == u.enterprise_id)
        });
    let p = WarningPage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        ev: evidence_view(&w),
        status: if auth.tr.is_en() {
            w.status.clone()
        } else {
            w.status_zh().to_string()
        },
        severity: auth.tr.t(w.severity_zh(), w.severity_en()).to_string(),
        paragraphs: w
            .body
            .split('\n')
            .map(str::to_string)
            .filter(|s| !s.trim().is_empty())
            .collect(),
        w,
        is_regulator,
        can_comment,
        public,
        comment_days: COMMENT_DAYS_DEFAULT,
    };
    Ok(render(&p, auth, uri))
}

async fn warning_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
) -> Response {
    let r = async {
        auth.require_user()?;
        warning_view(&state, &auth, &uri, id, false).await
    }
    .await;
    page(r, &auth, &state, &uri)
}

async fn public_warning_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
) -> Response {
    let r = warning_view(&state, &auth, &uri, id, true).await;
    page(r, &auth, &state, &uri)
}

async fn public_list_page(State(state): State<AppState>, auth: Auth, uri: Uri) -> Response {
    let r = async {
        let list = state
            .store
            .complaint_warnings(WarningScope::Published)
            .await?;
        let p = WarningsPage {
            tr: auth.tr,
            rows: list.iter().map(|w| warning_row(w, &auth.tr)).collect(),
            c: Chrome::new(&auth, &state),
            public: true,
        };
        Ok(render(&p, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

#[derive(Debug, Deserialize, Default)]
struct WarningEdit {
    title: String,
    body: String,
    #[serde(default)]
    severity: String,
}

#[derive(Debug, Deserialize, Default)]
struct ApproveInput {
    #[serde(default)]
    comment_days: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
struct CommentInput {
    body: String,
}

async fn edit_warning(
    state: &AppState,
    auth: &Auth,
    id: i64,
    e: &WarningEdit,
) -> WebResult<WarningRecord> {
    regulator(auth)?;
    let title = e.title.trim();
    let body = e.body.trim();
    let severity = match e.severity.trim() {
        "" | "tip" | "提示" => "tip",
        "alert" | "警示" => "alert",
        _ => {
            return Err(WebError::field(
                "severity",
                "应为 tip 或 alert (must be tip or alert)",
            ));
        }
    };
    if title.is_empty() || title.chars().count() > 200 {
        return Err(WebError::field(
            "title",
            "标题应为1–200个字符 (title is 1–200 characters)",
        ));
    }
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(WebError::field(
            "body",
            "正文应为1–10000个字符 (body is 1–10 000 characters)",
        ));
    }
    state
        .store
        .edit_complaint_warning(id, title, body, severity, auth.actor())
        .await
        .map_err(wf)
}

async fn approve_warning(
    state: &AppState,
    auth: &Auth,
    id: i64,
    days: Option<i64>,
) -> WebResult<WarningRecord> {
    regulator(auth)?;
    let days = days.unwrap_or(COMMENT_DAYS_DEFAULT);
    if !(0..=30).contains(&days) {
        return Err(WebError::field(
            "comment_days",
            "意见期为0–30天 (comment window is 0–30 days)",
        ));
    }
    state
        .store
        .approve_complaint_warning(id, days, auth.actor())
        .await
        .map_err(wf)
}

async fn comment_warning(
    state: &AppState,
    auth: &Auth,
    id: i64,
    body: &str,
) -> WebResult<WarningRecord> {
    let u = auth.require_role(&[Role::Enterprise])?;
    let eid = u
        .enterprise_id
        .ok_or_else(|| WebError::Forbidden("账户未关联企业 (account has no enterprise)".into()))?;
    // Only warnings the enterprise may see (hidden otherwise).
    readable_warning(state, auth, id, false).await?;
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 5000 {
        return Err(WebError::field(
            "body",
            "意见应为1–5000个字符 (a comment is 1–5000 characters)",
        ));
    }
    state
        .store
        .comment_complaint_warning(id, eid, body, auth.actor())
        .await
        .map_err(wf)
}

async fn warning_action_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let r = async {
        auth.check_csrf(f.get("csrf").map(String::as_str))?;
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        match action.as_str() {
            "edit" => {
                edit_warning(
                    &state,
                    &auth,
                    id,
                    &WarningEdit {
                        title: get("title"),
                        body: get("body"),
                        severity: get("severity"),
                    },
                )
                .await?;
            }
            "approve" => {
                let days = get("comment_days").trim().parse::<i64>().ok();
                approve_warning(&state, &auth, id, days).await?;
            }
            "publish" => {
                regulator(&auth)?;
                state
                    .store
                    .publish_complaint_warning(id, auth.actor())
                    .await
                    .map_err(wf)?;
            }
            "withdraw" => {
                regulator(&auth)?;
                state
                    .store
                    .withdraw_complaint_warning(id, auth.actor())
                    .await
                    .map_err(wf)?;
            }
            "comment" => {
                comment_warning(&state, &auth, id, &get("body")).await?;
            }
            _ => return Err(WebError::NotFound(format!("no action {action}"))),
        }
        Ok(Redirect::to(&format!("/complaints/warnings/{id}")).into_response())
    }
    .await;
    page(r, &auth, &state, &uri)
}

fn xml_esc(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}'))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn atom_feed(State(state): State<AppState>) -> Response {
    let list = match state
        .store
        .complaint_warnings(WarningScope::Published)
        .await
    {
        Ok(l) => l,
        Err(e) => return WebError::from(e).into_response(),
    };
    let base = state.config.public_url.trim_end_matches('/');
    let updated = list
        .iter()
        .filter_map(|w| w.published_at.clone())
        .max()
        .unwrap_or_else(|| "2023-10-12T00:00:00.000Z".into());
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">\n",
    );
    x.push_str(&format!(
        "<title>广东省消费提示与警示 (Guangdong consumer warnings)</title>\n<id>{base}/warnings</id>\n<updated>{updated}</updated>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{base}/warnings.atom\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{base}/warnings\"/>\n<author><name>广东省市场监督管理局 (12315)</name></author>\n"
    ));
    for w in &list {
        let at = w.published_at.clone().unwrap_or_else(|| updated.clone());
        x.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>{base}/warnings/{}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{base}/warnings/{}\"/>\n<published>{at}</published>\n<updated>{}</updated>\n<category term=\"{}\" label=\"{}\"/>\n<summary type=\"text\">{}</summary>\n</entry>\n",
            xml_esc(&w.title),
            w.id,
            w.id,
            w.updated_at.clone().max(at.clone()),
            w.severity,
            w.severity_zh(),
            xml_esc(&w.body)
        ));
    }
    x.push_str("</feed>\n");
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        x,
    )
        .into_response()
}

// ───────────────────────────── exports ─────────────────────────────

async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> Response {
    match export_inner(&state, &auth, q).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

const EXPORT_LIMIT: i64 = 100_000;

async fn export_inner(state: &AppState, auth: &Auth, q: FilterQuery) -> WebResult<Response> {
    regulator(auth)?;
    let f = q.filter()?;
    let (header_row, rows): (Vec<&str>, Vec<Vec<String>>) = match q.what.as_str() {
        "" | "complaints" => {
            let (list, _) = state.store.complaints(&f, EXPORT_LIMIT, 0).await?;
            (
                vec![
                    "id",
                    "received_at",
                    "channel",
                    "kind",
                    "region",
                    "city",
                    "enterprise_uscc",
                    "enterprise_name",
                    "category",
                    "division",
                    "problem",
                    "amount_fen",
                    "text",
                    "complainant_name",
                    "complainant_phone",
                    "complainant_id_number",
                    "complainant_address",
                ],
                list.into_iter()
                    .map(|c| {
                        let c = c.masked();
                        vec![
                            c.ext_id.clone(),
                            c.received_at.clone(),
                            c.channel.clone(),
                            c.kind.clone(),
                            c.region.clone(),
                            c.city.clone(),
                            c.enterprise_uscc.clone().unwrap_or_default(),
                            c.enterprise_name.clone().unwrap_or_default(),
                            c.category.clone().unwrap_or_default(),
                            c.division.map(|d| d.to_string()).unwrap_or_default(),
                            c.problem.clone(),
                            c.amount_fen.map(|a| a.to_string()).unwrap_or_default(),
                            c.text.clone(),
                            c.complainant.name.clone().unwrap_or_default(),
                            c.complainant.phone.clone().unwrap_or_default(),
                            c.complainant.id_number.clone().unwrap_or_default(),
                            c.complainant.address.clone().unwrap_or_default(),
                        ]
                    })
                    .collect(),
            )
        }
        "counts" => {
            let rows = aggregate(state, &f, &q).await?;
            (
                vec![
                    "period",
                    "city",
                    "division",
                    "category",
                    "problem",
                    "enterprise_id",
                    "n",
                ],
                rows.into_iter()
                    .map(|r| {
                        vec![
                            r.period,
                            r.city.unwrap_or_default(),
                            r.division.map(|d| d.to_string()).unwrap_or_default(),
                            r.category.unwrap_or_default(),
                            r.problem.unwrap_or_default(),
                            r.enterprise_id.map(|d| d.to_string()).unwrap_or_default(),
                            r.n.to_string(),
                        ]
                    })
                    .collect(),
            )
        }
        other => {
            return Err(WebError::field(
                "what",
                format!("应为 complaints 或 counts (what must be complaints or counts): {other:?}"),
            ));
        }
    };
    match q.format.as_str() {
        "" | "csv" => {
            let mut out = String::from("\u{feff}");
            let line = |cells: &[String], out: &mut String| {
                let s: Vec<String> = cells
                    .iter()
                    .map(|c| {
                        // Neutralise spreadsheet formulas.
                        let c = if c.starts_with(['=', '+', '-', '@']) && c.parse::<f64>().is_err()
                        {
                            format!("'{c}")
                        } else {
                            c.clone()
                        };
                        if c.contains([',', '"', '\n', '\r']) {
                            format!("\"{}\"", c.replace('"', "\"\""))
                        } else {
                            c
                        }
                    })
                    .collect();
                out.push_str(&s.join(","));
                out.push_str("\r\n");
            };
            line(
                &header_row.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                &mut out,
            );
            for r in &rows {
                line(r, &mut out);
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"complaints.csv\"".to_string(),
                    ),
                ],
                out,
            )
                .into_response())
        }
        "xlsx" => {
            let bytes = tokio::task::spawn_blocking(
                move || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
                    let mut book = rust_xlsxwriter::Workbook::new();
                    let sheet = book.add_worksheet();
                    for (j, h) in header_row.iter().enumerate() {
                        sheet.write_string(0, j as u16, *h)?;
                    }
                    for (i, r) in rows.iter().enumerate() {
                        for (j, c) in r.iter().enumerate() {
                            sheet.write_string(i as u32 + 1, j as u16, c)?;
                        }
                    }
                    book.save_to_buffer()
                },
            )
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?
            .map_err(|e| WebError::Internal(e.to_string()))?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"complaints.xlsx\"".to_string(),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        other => Err(WebError::field(
            "format",
            format!("应为 csv 或 xlsx (format must be csv or xlsx): {other:?}"),
        )),
    }
}

// ───────────────────────────── API ─────────────────────────────

#[derive(Debug, serde::Serialize)]
struct AggRow {
    period: String,
    city: Option<String>,
    division: Option<i64>,
    category: Option<String>,
    problem: Option<String>,
    enterprise_id: Option<i64>,
    n: i64,
}

/// Counts by day / ISO week / month (`grain`) × any of city, division, category, problem,
/// enterprise (`by`, comma-separated).
async fn aggregate(
    state: &AppState,
    f: &ComplaintFilter,
    q: &FilterQuery,
) -> WebResult<Vec<AggRow>> {
    let mut by = Vec::new();
    for part in q.by.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        by.push(match part {
            "city" => "city",
            "division" => "division",
            "category" => "category",
            "problem" => "problem",
            "enterprise" | "enterprise_id" => "enterprise_id",
            other => return Err(WebError::field("by", format!("未知维度 {other:?} (unknown dimension; use city, division, category, problem, enterprise)"))),
        });
    }
    let grain = match q.grain.as_str() {
        "" | "day" => 0,
        "week" => 1,
        "month" => 2,
        "all" => 3,
        other => {
            return Err(WebError::field(
                "grain",
                format!(
                    "应为 day/week/month/all (grain must be day, week, month or all): {other:?}"
                ),
            ));
        }
    };
    let rows = state.store.complaint_counts(f, &by, grain != 3).await?;
    let mut acc: BTreeMap<
        (
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<i64>,
        ),
        i64,
    > = BTreeMap::new();
    for r in rows {
        let period = match (grain, r.day.as_deref()) {
            (3, _) | (_, None) => String::new(),
            (0, Some(d)) => d.to_string(),
            (1, Some(d)) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(|d| iso_week_start(d).to_string())
                .unwrap_or_default(),
            (_, Some(d)) => d.chars().take(7).collect(),
        };
        *acc.entry((
            period,
            r.city,
            r.division,
            r.category,
            r.problem,
            r.enterprise_id,
        ))
        .or_default() += r.n;
    }
    Ok(acc
        .into_iter()
        .map(
            |((period, city, division, category, problem, enterprise_id), n)| AggRow {
                period,
                city,
                division,
                category,
                problem,
                enterprise_id,
                n,
            },
        )
        .collect())
}

async fn api_aggregates(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    regulator(&auth)?;
    let f = q.filter()?;
    let rows = aggregate(&state, &f, &q).await?;
    Ok(Json(serde_json::json!({ "cells": rows })))
}

async fn api_top(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    regulator(&auth)?;
    let f = q.filter()?;
    let n = q.n.unwrap_or(10).clamp(1, 100);
    if q.dim == "enterprise" {
        let list = state.store.complaint_top_enterprises(&f, n).await?;
        return Ok(Json(
            serde_json::json!({"dim": "enterprise", "items": list.into_iter().map(|(id, uscc, name, n)| serde_json::json!({"enterprise_id": id, "uscc": uscc, "name": name, "n": n})).collect::<Vec<_>>()}),
        ));
    }
    let col = match q.dim.as_str() {
        "city" | "division" | "category" | "problem" => q.dim.as_str(),
        other => {
            return Err(WebError::field(
                "dim",
                format!("未知维度 {other:?} (use city, division, category, problem or enterprise)"),
            ));
        }
    };
    let mut rows = state.store.complaint_counts(&f, &[col], false).await?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.n));
    rows.truncate(n as usize);
    let items: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            let key = r
                .city
                .clone()
                .or(r.division.map(|d| d.to_string()))
                .or(r.category.clone())
                .or(r.problem.clone());
            let mut v = serde_json::json!({"key": key, "n": r.n});
            if let Some(c) = &r.city {
                v["name"] = city_name(c).into();
                if let Some(idx) = reference::cities().iter().position(|x| &x.code == c) {
                    if let Some(pop) = yuepin_complaints::city_population(idx as u8) {
                        v["per_100k"] = (r.n as f64 / pop as f64 * 100_000.0).into();
                    }
                }
            }
            if let Some(d) = r.division {
                v["name"] = division_name(d).into();
            }
            if let Some(c) = &r.category {
                v["name"] = category_name(c).into();
            }
            v
        })
        .collect();
    Ok(Json(serde_json::json!({"dim": col, "items": items})))
}

async fn api_heatmap(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    regulator(&auth)?;
    let mut f = q.filter()?;
    default_window(&state, &mut f).await?;
    let rows = state
        .store
        .complaint_counts(&f, &["city", "division"], false)
        .await?;
    Ok(Json(serde_json::json!({
        "from": f.from, "to": f.to,
        "cells": rows.into_iter().map(|r| serde_json::json!({"city": r.city, "division": r.division, "n": r.n})).collect::<Vec<_>>()
    })))
}

async fn api_list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    let u = auth.require_user()?;
    let mut f = q.filter()?;
    match u.role {
        Role::Regulator => {}
        Role::Enterprise => {
            // An enterprise sees only complaints about itself (masked).
            f.enterprise_id = Some(u.enterprise_id.unwrap_or(-1));
        }
        _ => {
            return Err(WebError::Forbidden(
                "仅监管人员和企业可查看 (regulators and enterprises only)".into(),
            ));
        }
    }
    let pg = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let (list, total) = state.store.complaints(&f, 100, (pg - 1) * 100).await?;
    Ok(Json(serde_json::json!({
        "total": total, "page": pg,
        "items": list.into_iter().map(masked_json).collect::<Vec<_>>()
    })))
}

async fn api_complaint(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<ComplaintRecord>> {
    Ok(Json(readable_complaint(&state, &auth, id).await?))
}

async fn api_labels(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<LabelsInput>,
) -> WebResult<Json<ComplaintRecord>> {
    Ok(Json(correct_labels(&state, &auth, id, &input).await?))
}

async fn api_alarms(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<FilterQuery>,
) -> WebResult<Json<serde_json::Value>> {
    regulator(&auth)?;
    let list = state.store.complaint_alarms(q.all != "1", 5000).await?;
    let lib: Vec<_> = list
        .iter()
        .filter(|a| a.significant)
        .filter_map(AlarmRecord::to_alarm)
        .collect();
    Ok(Json(
        serde_json::json!({"alarms": list, "rollup": roll_up(&lib)}),
    ))
}

async fn api_alarm(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    regulator(&auth)?;
    let a = state.store.complaint_alarm(id).await?;
    let (list, total) = state.store.complaints(&a.filter(), 100, 0).await?;
    Ok(Json(serde_json::json!({
        "alarm": a, "complaints_total": total,
        "complaints": list.into_iter().map(masked_json).collect::<Vec<_>>()
    })))
}

async fn api_alarm_warning(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<(StatusCode, Json<serde_json::Value>)> {
    regulator(&auth)?;
    let wid = state
        .store
        .draft_warning_from_alarm(id, auth.actor())
        .await?;
    let w = state.store.complaint_warning(wid).await?;
    Ok((StatusCode::CREATED, Json(public_json(w, true))))
}

#[derive(Debug, Deserialize, Default)]
struct DetectInput {
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    report_days: Option<i64>,
}

async fn api_detect(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<DetectInput>,
) -> WebResult<Json<yuepin_store::complaints::DetectReport>> {
    let as_of = parse_day("as_of", input.as_of.as_deref().unwrap_or(""))?;
    Ok(Json(
        run_detect(&state, &auth, as_of, input.report_days).await?,
    ))
}

async fn api_lexicon(
    State(state): State<AppState>,
    auth: Auth,
) -> WebResult<Json<serde_json::Value>> {
    regulator(&auth)?;
    let terms = state.store.lexicon_overrides().await?;
    Ok(Json(serde_json::json!({"terms": terms})))
}

async fn api_lexicon_set(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<TermInput>,
) -> WebResult<(StatusCode, Json<serde_json::Value>)> {
    set_term(&state, &auth, &input).await?;
    let c = state.modules.complaints.classifier(&state).await?;
    let probe = c.classify(input.term.trim());
    Ok((
        StatusCode::CREATED,
        Json(
            serde_json::json!({"term": input.term.trim(), "classifies_as": {
            "category": probe.category.map(|k| k.info().key.clone()),
            "division": probe.division.map(|d| d.code())}}),
        ),
    ))
}

async fn api_accuracy(State(state): State<AppState>, auth: Auth) -> WebResult<Json<AccuracyOut>> {
    regulator(&auth)?;
    Ok(Json(accuracy(&state).await?))
}

async fn api_warnings(
    State(state): State<AppState>,
    auth: Auth,
) -> WebResult<Json<serde_json::Value>> {
    let u = auth.require_user()?;
    let scope = match u.role {
        Role::Regulator => WarningScope::All,
        Role::Enterprise => WarningScope::Enterprise(u.enterprise_id.unwrap_or(-1)),
        _ => WarningScope::Published,
    };
    let reg = auth.is_regulator();
    let list = state.store.complaint_warnings(scope).await?;
    Ok(Json(
        serde_json::json!({"warnings": list.into_iter().map(|w| public_json(w, reg)).collect::<Vec<_>>()}),
    ))
}

async fn api_public_warnings(State(state): State<AppState>) -> WebResult<Json<serde_json::Value>> {
    let list = state
        .store
        .complaint_warnings(WarningScope::Published)
        .await?;
    Ok(Json(
        serde_json::json!({"warnings": list.into_iter().map(|w| public_json(w, false)).collect::<Vec<_>>()}),
    ))
}

async fn api_warning(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    let w = readable_warning(&state, &auth, id, false).await?;
    Ok(Json(public_json(w, auth.is_regulator())))
}

async fn api_warning_edit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(e): ApiJson<WarningEdit>,
) -> WebResult<Json<serde_json::Value>> {
    Ok(Json(public_json(
        edit_warning(&state, &auth, id, &e).await?,
        true,
    )))
}

async fn api_warning_approve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(a): ApiJson<ApproveInput>,
) -> WebResult<Json<serde_json::Value>> {
    Ok(Json(public_json(
        approve_warning(&state, &auth, id, a.comment_days).await?,
        true,
    )))
}

async fn api_warning_comment(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<CommentInput>,
) -> WebResult<(StatusCode, Json<serde_json::Value>)> {
    let w = comment_warning(&state, &auth, id, &c.body).await?;
    Ok((StatusCode::CREATED, Json(public_json(w, false))))
}

async fn api_warning_publish(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    regulator(&auth)?;
    let w = state
        .store
        .publish_complaint_warning(id, auth.actor())
        .await
        .map_err(wf)?;
    Ok(Json(public_json(w, true)))
}

async fn api_warning_withdraw(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<serde_json::Value>> {
    regulator(&auth)?;
    let w = state
        .store
        .withdraw_complaint_warning(id, auth.actor())
        .await
        .map_err(wf)?;
    Ok(Json(public_json(w, true)))
}
