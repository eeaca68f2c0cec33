//! The enterprise directory (search with filters, paged) and each enterprise's page with its
//! quality credit file.

use super::views;
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::export::{Format, Table};
use crate::page::{page_error, render, urlencode, Chrome};
use crate::AppState;
use axum::extract::{Path, Query};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use yuepin_domain::reference;
use yuepin_domain::DesignationKind;
use yuepin_enterprises_service::SearchQuery;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    /// Parses the filters (bad values are field errors); the service scopes them to the
    /// caller's tenant.
    pub fn to_search(&self) -> WebResult<SearchQuery> {
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
            only_ids: None,
            page: self.page.unwrap_or(1).clamp(1, 10_000),
            per_page: self.per_page.unwrap_or(20),
        })
    }
}

pub(super) async fn enterprise_list(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(lq): Query<ListQuery>,
) -> Response {
    let result: WebResult<Response> = async {
        let sq = lq.to_search()?;
        let page = state
            .modules
            .enterprises
            .search(&auth.caller(), sq.clone())
            .await?;
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
        let filter = format!(
            "q={}&city={}&division={}&designation={}",
            urlencode(&lq.q),
            sq.city.as_deref().unwrap_or_default(),
            sq.division.map(|d| format!("{d:02}")).unwrap_or_default(),
            sq.designation.as_deref().unwrap_or_default()
        );
        let t = views::ListPage {
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
            export_query: filter,
            export_max: DIRECTORY_EXPORT_MAX,
            total: page.total,
            capped: page.total_capped,
            page: page.page,
            prev_link: link(page.page.saturating_sub(1).max(1)),
            next_link: link(page.page + 1),
            items: page
                .items
                .into_iter()
                .map(|e| views::row_of(e, auth.tr))
                .collect(),
        };
        Ok(render(&t, &auth, &uri))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

pub(super) async fn enterprise_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(uscc): Path<String>,
) -> Response {
    let result: WebResult<Response> = async {
        let today = crate::today();
        let file = state
            .modules
            .enterprises
            .quality_file_of(&auth.caller(), &uscc, today)
            .await?;
        let enterprise_id = file.enterprise.id;
        let e = file.enterprise.enterprise;
        let tr = auth.tr;
        let city = e.region.city();
        let t = views::EnterprisePage {
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
                .map(|d| views::DesignationRow {
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
                        views::describe_event(&ev.kind, tr),
                    )
                })
                .collect(),
            products: file.products,
            complaints_12m: state
                .modules
                .complaints
                .complaint_count_12m_as_of(enterprise_id, today)
                .await?,
            warnings: state
                .modules
                .complaints
                .complaint_warnings_for_enterprise(enterprise_id)
                .await?,
            e,
        };
        Ok(render(&t, &auth, &uri))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

/// Rows one directory export holds at most (the page's filters narrow it).
pub(super) const DIRECTORY_EXPORT_MAX: usize = 5_000;

/// `/enterprises.csv` and `/enterprises.xlsx`: the directory's matches for the page's filters
/// (every page, at most [`DIRECTORY_EXPORT_MAX`]), headers and values in the reader's
/// language. The service scopes the search to the caller (an enterprise user sees its own).
pub(super) async fn directory_export(
    state: AppState,
    auth: Auth,
    uri: Uri,
    lq: ListQuery,
    format: Format,
) -> Response {
    let result: WebResult<Response> = async {
        let tr = auth.tr;
        let caller = auth.caller();
        let mut sq = lq.to_search()?;
        sq.per_page = 200;
        let mut t = Table::new(
            tr,
            "enterprises",
            ("企业名录", "enterprises"),
            &[
                ("统一社会信用代码", "Credit code"),
                ("企业名称", "Name"),
                ("地市", "City"),
                ("行业代码", "Industry code"),
                ("行业", "Industry"),
                ("从业人数", "Employees"),
            ],
        );
        let mut more = false;
        for page in 1.. {
            sq.page = page;
            let found = state
                .modules
                .enterprises
                .search(&caller, sq.clone())
                .await?;
            let last = found.items.len() < sq.per_page as usize;
            for e in found.items {
                if t.rows.len() == DIRECTORY_EXPORT_MAX {
                    more = true;
                    break;
                }
                t.push(vec![
                    e.uscc.into(),
                    e.name.into(),
                    crate::export::city_name(tr, &e.city).into(),
                    format!("{:02}", e.division).into(),
                    crate::export::division_name(tr, e.division).into(),
                    e.employees.into(),
                ]);
            }
            if last || more {
                break;
            }
        }
        if more {
            t.capped(
                tr,
                (
                    "请按名称、地市、行业或认定缩小范围后再导出。",
                    "Narrow by name, city, industry or designation and export again.",
                ),
            );
        }
        crate::export::download(t, format).await
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

pub(super) async fn directory_csv(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(lq): Query<ListQuery>,
) -> Response {
    directory_export(state, auth, uri, lq, Format::Csv).await
}

pub(super) async fn directory_xlsx(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(lq): Query<ListQuery>,
) -> Response {
    directory_export(state, auth, uri, lq, Format::Xlsx).await
}
