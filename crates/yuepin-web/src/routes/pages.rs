//! Server-rendered pages: the policy home, measures, sign-in, the enterprise directory with
//! search and filters, and each enterprise's page with its quality credit file.

use crate::auth::{self, Auth};
use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::AppState;
use crate::page::{page_error, render, urlencode, Chrome};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use yuepin_domain::reference::{self, City, DivisionInfo, MeasureInfo};
use yuepin_domain::{DesignationKind, QualityEventKind, Role};
use yuepin_store::search::EnterpriseSummary;
use yuepin_store::{ProductRecord, SearchQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/measures/{n}", get(measure))
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", post(logout))
        .route("/enterprises", get(enterprise_list))
        .route("/enterprises/{uscc}", get(enterprise_page))
}

struct Group {
    numeral: &'static str,
    title: String,
    measures: Vec<&'static MeasureInfo>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    tr: Tr,
    c: Chrome,
    number: &'static str,
    title_zh: &'static str,
    title_en: &'static str,
    from: String,
    until: String,
    today: String,
    in_force: bool,
    issuers: &'static str,
    groups: Vec<Group>,
}

pub const ISSUING_UNITS: &str = "省市场监管局、省发展改革委、省科技厅、省工业和信息化厅、省财政厅、省人力资源社会保障厅、省商务厅、省文化和旅游厅、省国资委、省地方金融监管局、省政务服务数据管理局、国家税务总局广东省税务局、中国人民银行广东省分行、国家金融监督管理总局广东监管局";

async fn home(State(state): State<AppState>, auth: Auth, uri: Uri) -> Response {
    const NUMERALS: [&str; 5] = ["一", "二", "三", "四", "五"];
    let mut groups: Vec<Group> = Vec::new();
    for m in reference::measures() {
        let idx = usize::from(m.group) - 1;
        if groups.len() <= idx {
            groups.push(Group {
                numeral: NUMERALS.get(idx).copied().unwrap_or(""),
                title: m.group_zh.clone(),
                measures: vec![],
            });
        }
        groups[idx].measures.push(m);
    }
    let today = crate::today();
    let page = HomePage {
        tr: auth.tr,
        c: Chrome::new(&auth, &state),
        number: reference::POLICY_NUMBER,
        title_zh: reference::POLICY_TITLE_ZH,
        title_en: reference::POLICY_TITLE_EN,
        from: reference::policy_effective_from().to_string(),
        until: reference::policy_effective_until().to_string(),
        today: today.to_string(),
        in_force: reference::policy_effective_from() <= today
            && today <= reference::policy_effective_until(),
        issuers: ISSUING_UNITS,
        groups,
    };
    render(&page, &auth, &uri)
}

#[derive(Template)]
#[template(path = "measure.html")]
struct MeasurePage {
    tr: Tr,
    c: Chrome,
    m: &'static MeasureInfo,
    clause: &'static str,
}

async fn measure(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(n): Path<String>,
) -> Response {
    let found = n
        .parse::<u8>()
        .ok()
        .and_then(|n| reference::measures().iter().find(|m| m.number == n));
    match found {
        Some(m) => {
            let page = MeasurePage {
                tr: auth.tr,
                c: Chrome::new(&auth, &state),
                m,
                clause: reference::measure_clause(m.number).unwrap_or(""),
            };
            render(&page, &auth, &uri)
        }
        None => page_error(
            WebError::NotFound(format!("措施 {n} 不存在 (no measure {n})")),
            &auth,
            &state,
            &uri,
        ),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    c: Chrome,
    error: String,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only same-site relative paths are followed after sign-in.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/enterprises".into()
    }
}

async fn login_form(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<NextQuery>,
) -> Response {
    let page = LoginPage {
        tr: auth.tr,
        c: Chrome::new(&auth, &state),
        error: String::new(),
        next: safe_next(&q.next),
    };
    render(&page, &auth, &uri)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_submit(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    match auth::authenticate(&state, &form.username, &form.password, &auth.client_ip).await {
        Ok(user) => match auth::start_session(&state, jar, &user).await {
            Ok(jar) => {
                let dest = match (user.role, form.next.as_str()) {
                    (_, n) if !n.is_empty() && n != "/enterprises" => safe_next(n),
                    (Role::Enterprise, _) => match state
                        .store
                        .enterprise_by_id(user.enterprise_id.unwrap_or(-1))
                        .await
                    {
                        Ok(e) => format!("/enterprises/{}", e.enterprise.uscc),
                        Err(_) => "/".into(),
                    },
                    _ => "/enterprises".into(),
                };
                (jar, Redirect::to(&dest)).into_response()
            }
            Err(e) => page_error(e, &auth, &state, &uri),
        },
        Err(e) => {
            let status = e.status();
            let page = LoginPage {
                tr: auth.tr,
                c: Chrome::new(&auth, &state),
                error: e.message(),
                next: safe_next(&form.next),
            };
            let mut resp = render(&page, &auth, &uri);
            *resp.status_mut() = if status == StatusCode::TOO_MANY_REQUESTS {
                status
            } else {
                StatusCode::UNAUTHORIZED
            };
            resp
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(Some(&f.csrf)) {
        return page_error(e, &auth, &state, &uri);
    }
    match auth::end_session(&state, jar).await {
        Ok(jar) => (jar, Redirect::to("/")).into_response(),
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub division: String,
    #[serde(default)]
    pub designation: String,
    #[serde(default)]
    pub page: Option<u32>,
    #[serde(default)]
    pub per_page: Option<u32>,
}

impl ListQuery {
    /// Parses the filters (bad values are field errors) and scopes them to the caller's tenant.
    pub async fn to_search(&self, auth: &Auth) -> WebResult<SearchQuery> {
        let user = auth.require_user()?;
        let only_ids = match user.role {
            Role::Regulator => None,
            Role::Enterprise => Some(user.enterprise_id.into_iter().collect()),
            _ => {
                return Err(WebError::Forbidden(
                    "企业目录仅对监管部门开放 (directory is for regulators)".into(),
                ))
            }
        };
        let city = match self.city.trim() {
            "" => None,
            c => Some(
                reference::find_city(c)
                    .ok_or_else(|| {
                        WebError::field("city", format!("未知地市 {c:?} (unknown city)"))
                    })?
                    .code
                    .clone(),
            ),
        };
        let division = match self.division.trim() {
            "" => None,
            d => Some(yuepin_domain::Division::parse(d)?.code()),
        };
        let designation = match self.designation.trim() {
            "" => None,
            d => Some(d.parse::<DesignationKind>()?.code().to_string()),
        };
        Ok(SearchQuery {
            q: self.q.chars().take(100).collect(),
            city,
            division,
            designation,
            as_of: crate::today().to_string(),
            only_ids,
            page: self.page.unwrap_or(1).clamp(1, 10_000),
            per_page: self.per_page.unwrap_or(20),
        })
    }
}

struct Row {
    uscc: String,
    name: String,
    city_name: String,
    division: i64,
    division_name: String,
    employees: i64,
}

#[derive(Template)]
#[template(path = "enterprises.html")]
struct ListPage {
    tr: Tr,
    c: Chrome,
    q: String,
    city: String,
    division: String,
    designation: String,
    cities: &'static [City],
    divisions: &'static [DivisionInfo],
    designation_options: Vec<(&'static str, &'static str, &'static str)>,
    items: Vec<Row>,
    total: i64,
    capped: bool,
    page: u32,
    has_next: bool,
    prev_link: String,
    next_link: String,
}

fn row_of(e: EnterpriseSummary, tr: Tr) -> Row {
    let city_name = reference::find_city(&e.city)
        .map(|c| tr.t(&c.name_zh, &c.name_en).to_string())
        .unwrap_or_default();
    let division_name = reference::find_division(e.division as u8)
        .map(|d| tr.t(&d.name_zh, &d.name_en).to_string())
        .unwrap_or_default();
    Row {
        uscc: e.uscc,
        name: e.name,
        city_name,
        division: e.division,
        division_name,
        employees: e.employees,
    }
}

async fn enterprise_list(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(lq): Query<ListQuery>,
) -> Response {
    let result: WebResult<Response> = async {
        let sq = lq.to_search(&auth).await?;
        let page = state.store.search_enterprises(&sq).await?;
        let link = |p: u32| {
            format!(
                "/enterprises?q={}&city={}&division={}&designation={}&page={p}",
                urlencode(&lq.q),
                urlencode(&lq.city),
                urlencode(&lq.division),
                urlencode(&lq.designation)
            )
        };
        let shown = i64::from(page.page) * i64::from(page.per_page);
        let t = ListPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            q: lq.q.clone(),
            city: sq.city.clone().unwrap_or_default(),
            division: sq.division.map(|d| d.to_string()).unwrap_or_default(),
            designation: sq.designation.clone().unwrap_or_default(),
            cities: reference::cities(),
            divisions: reference::divisions(),
            designation_options: DesignationKind::ALL
                .iter()
                .map(|d| (d.code(), d.name_zh(), d.name_en()))
                .collect(),
            has_next: page.total_capped || page.total > shown,
            total: page.total,
            capped: page.total_capped,
            page: page.page,
            prev_link: link(page.page.saturating_sub(1).max(1)),
            next_link: link(page.page + 1),
            items: page.items.into_iter().map(|e| row_of(e, auth.tr)).collect(),
        };
        Ok(render(&t, &auth, &uri))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

struct DesignationRow {
    name_zh: &'static str,
    name_en: &'static str,
    awarded_on: String,
    expires_on: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "enterprise.html")]
struct EnterprisePage {
    tr: Tr,
    c: Chrome,
    e: yuepin_domain::Enterprise,
    city_name: String,
    division_name: String,
    capital: String,
    listing: String,
    designations: Vec<DesignationRow>,
    financials: Vec<(i32, String, String)>,
    s: yuepin_store::enterprises::QualitySummary,
    events: Vec<(String, String, String)>,
    products: Vec<ProductRecord>,
    complaints_12m: i64,
    warnings: Vec<yuepin_complaints_service::WarningRef>,
}

/// One line describing a quality event, for tables.
pub fn describe_event(kind: &QualityEventKind, tr: Tr) -> String {
    match kind {
        QualityEventKind::Inspection {
            agency,
            report_no,
            result,
            failed_items,
        } => {
            let verdict = match result {
                yuepin_domain::InspectionResult::Pass => tr.t("合格", "pass").to_string(),
                yuepin_domain::InspectionResult::Fail => {
                    format!("{}: {}", tr.t("不合格", "FAIL"), failed_items.join("、"))
                }
            };
            format!("{agency} {report_no} — {verdict}")
        }
        QualityEventKind::Certification(c) => format!(
            "{} {} ({}) {} — {}",
            c.scheme, c.number, c.issuer, c.valid_from, c.valid_until
        ),
        QualityEventKind::Award { name, level } => format!("{name} ({level})"),
        QualityEventKind::Standard { code, level, role } => format!(
            "{code} {} {}",
            level.name_zh(),
            match role {
                yuepin_domain::StandardRole::Lead => tr.t("主导", "led"),
                yuepin_domain::StandardRole::Participant => tr.t("参与", "took part"),
            }
        ),
        QualityEventKind::Penalty {
            authority,
            decision_no,
            amount,
            serious,
            reason,
        } => format!(
            "{authority} {decision_no} {reason} {}{}",
            amount.to_zh(),
            if *serious {
                tr.t(" (严重)", " (serious)")
            } else {
                ""
            }
        ),
    }
}

async fn enterprise_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(uscc): Path<String>,
) -> Response {
    let result: WebResult<Response> = async {
        auth.require_user()?;
        let rec = state.store.enterprise_by_uscc(uscc.trim()).await?;
        auth.require_read_enterprise(rec.id)?;
        let today = crate::today();
        let file = state.store.quality_file(rec.id, today).await?;
        let e = file.enterprise.enterprise;
        let tr = auth.tr;
        let city = e.region.city();
        let t = EnterprisePage {
            tr,
            c: Chrome::new(&auth, &state),
            city_name: tr.t(&city.name_zh, &city.name_en).to_string(),
            division_name: tr
                .t(&e.division.info().name_zh, &e.division.info().name_en)
                .to_string(),
            capital: e.registered_capital.to_zh(),
            listing: if tr.is_en() {
                e.listing.as_str().to_string()
            } else {
                e.listing.name_zh().to_string()
            },
            designations: e
                .designations
                .iter()
                .map(|d| DesignationRow {
                    name_zh: d.kind.name_zh(),
                    name_en: d.kind.name_en(),
                    awarded_on: d.awarded_on.to_string(),
                    expires_on: d
                        .expires_on
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| tr.t("长期", "no expiry").into()),
                    active: d.active_on(today),
                })
                .collect(),
            financials: e
                .financials
                .iter()
                .rev()
                .map(|f| {
                    (
                        f.year,
                        f.revenue_china.to_zh(),
                        f.revenue_world
                            .map(|y| y.to_zh())
                            .unwrap_or_else(|| "—".into()),
                    )
                })
                .collect(),
            s: file.summary,
            events: file
                .events
                .iter()
                .map(|ev| {
                    (
                        ev.date.to_string(),
                        ev.kind.name_zh().to_string(),
                        describe_event(&ev.kind, tr),
                    )
                })
                .collect(),
            products: file.products,
            complaints_12m: state
                .modules
                .complaints
                .complaint_count_12m_as_of(rec.id, today)
                .await?,
            warnings: state
                .modules
                .complaints
                .complaint_warnings_for_enterprise(rec.id)
                .await?,
            e,
        };
        Ok(render(&t, &auth, &uri))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}
