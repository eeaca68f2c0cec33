//! The regulator's complaint pages: the dashboard (trend, heat map, top lists), filtered
//! lists, one record with its label correction form, alarms with their roll-up and drill-down,
//! the detection form, and the lexicon with the classifier's accuracy.

use super::svg::{heatmap_svg, trend_svg};
use super::views::{
    alarm_row, category_name, city_name, city_name_en, list_row, method_name, operating_point,
    rollup_row, AlarmForm, AlarmPage, AlarmsPage, DashboardPage, LexiconPage, ListPage, RecordPage,
    TopRow,
};
use super::{
    describe_filter, filter_query_string, page, parse_category, parse_day, parse_division, svc,
    FilterQuery,
};
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::WebResult;
use crate::form::PageForm;
use crate::page::{form_post, render, urlencode, Chrome};
use crate::AppState;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use yuepin_complaints::{Method, Target};
use yuepin_complaints_service::{
    alarm_rollup, check_term, term_target, CountDim, CountRow, DetectRun, ExportFormat, ExportLang,
};
use yuepin_domain::reference;

const LIST_PAGE_ROWS: i64 = 50;
const ALARM_ROWS: i64 = 100;

fn run_line(r: Option<DetectRun>, as_of_word: &str) -> String {
    r.map(|r| {
        format!(
            "#{} · {as_of_word}{} · {} · {} / {}",
            r.id,
            r.as_of,
            super::views::china_time(&r.ran_at),
            r.series_alarms,
            r.significant
        )
    })
    .unwrap_or_default()
}

pub(super) async fn dashboard_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<FilterQuery>,
) -> Response {
    let r = dashboard(&state, &auth, &uri, q).await;
    page(r, &auth, &state, &uri)
}

/// The ten largest rows of a count, labelled by `key` (label, link, extra).
fn top(
    rows: Vec<CountRow>,
    key: &dyn Fn(&CountRow) -> Option<(String, String, String)>,
) -> Vec<TopRow> {
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
}

async fn dashboard(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    q: FilterQuery,
) -> WebResult<Response> {
    let caller = auth.caller();
    let svc = svc(state);
    // Access first, then the filter's parsing errors.
    caller.require_administrator()?;
    let tr = auth.tr;
    let mut f = q.filter()?;
    svc.default_window(&caller, &mut f).await?;
    let series = svc.daily_series(&caller, &f).await?;
    let total: i64 = series.iter().map(|s| s.1).sum();
    let heat = svc
        .counts(&caller, &f, &[CountDim::City, CountDim::Division], false)
        .await?;
    let cells: HashMap<(String, i64), i64> = heat
        .iter()
        .filter_map(|r| Some(((r.city.clone()?, r.division?), r.n)))
        .collect();
    let qs = filter_query_string(&f);
    let top_categories = top(
        svc.counts(&caller, &f, &[CountDim::Category], false)
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
        svc.counts(&caller, &f, &[CountDim::City], false).await?,
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
                city_name_en(&c).to_string()
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
        svc.counts(&caller, &f, &[CountDim::Problem], false).await?,
        &|r| {
            let p = r.problem.clone()?;
            let name = super::views::problem_name(&p);
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
    let top_enterprises = svc
        .top_enterprises(&caller, &f, 10)
        .await?
        .into_iter()
        .map(|t| TopRow {
            label: t.name,
            link: t
                .enterprise_id
                .map(|i| format!("/complaints/list?{qs}&enterprise={i}"))
                .unwrap_or_default(),
            n: t.n,
            extra: t.uscc.unwrap_or_default(),
        })
        .collect();
    let alarms = svc.alarms(&caller, true, 10_000).await?.len();
    let run = svc.last_detect_run(&caller).await?;
    let operating_point = operating_point(run.as_ref().and_then(|r| r.config.as_ref()), tr);
    let last_run = run_line(run, "");
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
        operating_point,
        qs,
    };
    Ok(render(&p, auth, uri))
}

pub(super) async fn list_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<FilterQuery>,
) -> Response {
    let r = async {
        let caller = auth.caller();
        caller.require_administrator()?;
        let f = q.filter()?;
        let pg = q.page.unwrap_or(1).clamp(1, 100_000);
        let (rows, total) = svc(&state)
            .search(&caller, &f, LIST_PAGE_ROWS, (pg - 1) * LIST_PAGE_ROWS)
            .await?;
        let p = ListPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            heading: describe_filter(&f),
            total,
            has_next: pg * LIST_PAGE_ROWS < total,
            rows: rows.into_iter().map(list_row).collect(),
            qs: filter_query_string(&f),
            page: pg,
        };
        Ok(render(&p, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

pub(super) async fn record_page(Cx { state, auth }: Cx, uri: Uri, Path(id): Path<i64>) -> Response {
    let r = async {
        let rec = svc(&state).complaint(&auth.caller(), id).await?;
        let p = RecordPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            is_regulator: auth.is_regulator(),
            r: rec.into(),
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

pub(super) async fn labels_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<HashMap<String, String>>,
) -> Response {
    let action = async {
        let caller = auth.caller();
        caller.require_administrator()?;
        let category = parse_category(f.get("category").map(String::as_str))?;
        let division = parse_division(f.get("division").map(String::as_str))?;
        svc(&state)
            .correct_labels(&caller, id, category, division)
            .await?;
        Ok(format!("/complaints/c/{id}"))
    };
    form_post(
        &auth,
        &state,
        &uri,
        f.get("csrf").map(String::as_str),
        action,
    )
    .await
}

/// Alarms per page on the regulator's alarm list.
const ALARMS_PAGE_ROWS: i64 = 50;

pub(super) async fn alarms_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<FilterQuery>,
) -> Response {
    let r = async {
        let caller = auth.caller();
        let all = q.all == "1";
        let f = q.alarm_filter()?;
        let page_no = q.page.unwrap_or(1).max(1);
        let p = svc(&state)
            .alarm_page(&caller, &f, page_no, ALARMS_PAGE_ROWS)
            .await?;
        let run = svc(&state).last_detect_run(&caller).await?;
        let rollup = alarm_rollup(&p.alarms)
            .iter()
            .take(50)
            .map(rollup_row)
            .collect();
        let qs = alarm_query_string(&q);
        let pages = ((p.total + ALARMS_PAGE_ROWS - 1) / ALARMS_PAGE_ROWS).max(1);
        let link = |n: i64| format!("/complaints/alarms?{qs}&page={n}");
        let page = AlarmsPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            rows: p.alarms.iter().map(|a| alarm_row(a, auth.tr)).collect(),
            rollup,
            all,
            operating_point: operating_point(run.as_ref().and_then(|r| r.config.as_ref()), auth.tr),
            last_run: run_line(run, auth.tr.t("截至 ", "as of ")),
            total: p.total,
            page: page_no,
            pages,
            prev: if page_no > 1 {
                link(page_no - 1)
            } else {
                String::new()
            },
            next: if page_no < pages {
                link(page_no + 1)
            } else {
                String::new()
            },
            qs,
            f: AlarmForm {
                method: q.method.trim().to_string(),
                level: q.level.trim().to_string(),
                city: q.city.trim().to_string(),
                division: q.division.trim().to_string(),
                from: q.from.trim().to_string(),
                to: q.to.trim().to_string(),
            },
            methods: Method::ALL
                .iter()
                .map(|m| (m.as_str().to_string(), method_name(*m, auth.tr)))
                .collect(),
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

/// The alarm filter as typed, for links (paging, downloads).
fn alarm_query_string(q: &FilterQuery) -> String {
    [
        ("method", &q.method),
        ("level", &q.level),
        ("city", &q.city),
        ("division", &q.division),
        ("from", &q.from),
        ("to", &q.to),
        ("all", &q.all),
    ]
    .iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| format!("{k}={}", urlencode(v.trim())))
    .collect::<Vec<_>>()
    .join("&")
}

/// `/complaints/alarms.csv`: the alarms of the page's filter (every page), Chinese headers.
pub(super) async fn alarms_csv(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<FilterQuery>,
) -> Response {
    alarms_download(state, auth, uri, q, ExportFormat::Csv).await
}

/// `/complaints/alarms.xlsx`: as the CSV, one sheet.
pub(super) async fn alarms_xlsx(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<FilterQuery>,
) -> Response {
    alarms_download(state, auth, uri, q, ExportFormat::Xlsx).await
}

async fn alarms_download(
    state: AppState,
    auth: Auth,
    uri: Uri,
    q: FilterQuery,
    format: ExportFormat,
) -> Response {
    let r = async {
        let lang = if auth.tr.is_en() {
            ExportLang::En
        } else {
            ExportLang::Zh
        };
        let e = svc(&state)
            .export_alarms(&auth.caller(), &q.alarm_filter()?, format, lang)
            .await?;
        let (kind, name) = match format {
            ExportFormat::Xlsx => (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "alarms.xlsx",
            ),
            _ => ("text/csv; charset=utf-8", "alarms.csv"),
        };
        Ok((
            [
                (header::CONTENT_TYPE, kind.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            e.bytes,
        )
            .into_response())
    }
    .await;
    page(r, &auth, &state, &uri)
}

pub(super) async fn alarm_page(Cx { state, auth }: Cx, uri: Uri, Path(id): Path<i64>) -> Response {
    let r = async {
        let d = svc(&state)
            .alarm_drill_down(&auth.caller(), id, ALARM_ROWS)
            .await?;
        let f = d.alarm.filter();
        let p = AlarmPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            a: alarm_row(&d.alarm, auth.tr),
            rows: d.complaints.into_iter().map(list_row).collect(),
            total: d.complaints_total,
            qs: filter_query_string(&f),
            window: describe_filter(&f),
        };
        Ok(render(&p, &auth, &uri))
    }
    .await;
    page(r, &auth, &state, &uri)
}

pub(super) async fn alarm_warning_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<HashMap<String, String>>,
) -> Response {
    let action = async {
        let w = svc(&state)
            .draft_warning_from_alarm(&auth.caller(), id)
            .await?;
        Ok(format!("/complaints/warnings/{}", w.id))
    };
    form_post(
        &auth,
        &state,
        &uri,
        f.get("csrf").map(String::as_str),
        action,
    )
    .await
}

pub(super) async fn detect_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<HashMap<String, String>>,
) -> Response {
    let action = async {
        let caller = auth.caller();
        caller.require_administrator()?;
        let as_of = parse_day("as_of", f.get("as_of").map_or("", String::as_str))?;
        let opts = svc(&state).detect_options(&caller, as_of).await?;
        svc(&state).detect(&caller, &opts).await?;
        Ok("/complaints/alarms".to_string())
    };
    form_post(
        &auth,
        &state,
        &uri,
        f.get("csrf").map(String::as_str),
        action,
    )
    .await
}

fn target_label(t: &Option<Target>) -> String {
    match t {
        Some(Target::Category(c)) => format!("{} ({})", c.info().name_zh, c.info().key),
        Some(Target::Division(d)) => format!("{} {}", d.code(), d.info().name_zh),
        None => "—".into(),
    }
}

pub(super) async fn lexicon_page(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let r = async {
        let caller = auth.caller();
        let terms = svc(&state)
            .lexicon_terms(&caller)
            .await?
            .into_iter()
            .map(|o| (o.term.clone(), target_label(&o.target)))
            .collect();
        let p = LexiconPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            terms,
            acc: svc(&state).classifier_accuracy(&caller).await?,
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

pub(super) async fn lexicon_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<HashMap<String, String>>,
) -> Response {
    let action = async {
        let caller = auth.caller();
        caller.require_administrator()?;
        let term = f.get("term").cloned().unwrap_or_default();
        // The term is checked before its target, so a bad term is what gets reported.
        check_term(&term)?;
        let target = if f.get("remove").is_some_and(|v| v == "1") {
            None
        } else {
            Some(term_target(
                f.get("category").map(String::as_str),
                f.get("division").map(String::as_str),
            )?)
        };
        svc(&state).set_lexicon_term(&caller, &term, target).await?;
        Ok("/complaints/lexicon".to_string())
    };
    form_post(
        &auth,
        &state,
        &uri,
        f.get("csrf").map(String::as_str),
        action,
    )
    .await
}
