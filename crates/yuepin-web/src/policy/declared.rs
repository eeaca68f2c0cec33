//! The responsible unit's work list of declared facts (issue 11 item 6): every enterprise's
//! self-declared standards (待核实), paged, each confirmed with one button. Rules that decide
//! money read only confirmed facts, so this page is where a declaration becomes usable.

use crate::cx::Cx;
use crate::flash::{self, Flash, FlashQuery};
use crate::form::PageForm;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use yuepin_domain::{StandardLevel, StandardRole};
use yuepin_policy_service::DeclaredStandard;

const PER_PAGE: i64 = 20;

pub(super) struct Row {
    id: i64,
    uscc: String,
    enterprise: String,
    code: String,
    level: String,
    role: String,
    date: String,
}

fn level_name(tr: Tr, stored: &str) -> String {
    StandardLevel::ALL
        .into_iter()
        .find(|l| l.as_str() == stored)
        .map_or_else(
            || stored.to_string(),
            |l| {
                if tr.is_en() {
                    format!("{} standard", l.as_str().replace('_', " "))
                } else {
                    l.name_zh().to_string()
                }
            },
        )
}

fn role_name(tr: Tr, stored: &str) -> String {
    let role = serde_json::from_value::<StandardRole>(serde_json::Value::String(stored.into()));
    match role {
        Ok(StandardRole::Lead) => tr.t("主导制定", "led").to_string(),
        Ok(StandardRole::Participant) => tr.t("参与制定", "took part").to_string(),
        Err(_) => stored.to_string(),
    }
}

fn row(tr: Tr, d: &DeclaredStandard) -> Row {
    Row {
        id: d.standard.id,
        uscc: d.uscc.clone(),
        enterprise: d.enterprise_name.clone(),
        code: d.standard.code.clone(),
        level: level_name(tr, &d.standard.level),
        role: role_name(tr, &d.standard.role),
        date: d.standard.event_date.to_string(),
    }
}

#[derive(Template)]
#[template(path = "policy/declared.html")]
pub(super) struct DeclaredPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    prev: String,
    next: String,
}

#[derive(Deserialize, Default)]
pub(super) struct PageQuery {
    #[serde(default)]
    page: Option<i64>,
    #[serde(flatten)]
    flash: FlashQuery,
}

pub(super) async fn declared_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<PageQuery>,
) -> Response {
    let tr = auth.tr;
    let page = q.page.unwrap_or(1).max(1);
    match state
        .modules
        .policy
        .declared_standards(&auth.caller(), page, PER_PAGE)
        .await
    {
        Ok((list, total)) => {
            let pager = crate::page::Pager::new(page, total, PER_PAGE, |n| {
                format!("/policy/declared?page={n}")
            });
            let view = DeclaredPage {
                tr,
                c: Chrome::new(&auth, &state),
                msg: q.flash.text(tr),
                rows: list.iter().map(|d| row(tr, d)).collect(),
                total,
                page,
                pages: pager.pages,
                prev: pager.prev,
                next: pager.next,
            };
            render(&view, &auth, &uri)
        }
        Err(e) => page_error(e.into(), &auth, &state, &uri),
    }
}

#[derive(Deserialize, Default)]
pub(super) struct ConfirmInput {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn confirm(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<ConfirmInput>,
) -> Response {
    if let Err(e) = auth.check_csrf(Some(&f.csrf)) {
        return page_error(e, &auth, &state, &uri);
    }
    match state
        .modules
        .policy
        .confirm_standard(&auth.caller(), id)
        .await
    {
        Ok(_) => flash::redirect("/policy/declared", Flash::FactConfirmed, &[id]),
        Err(e) => page_error(e.into(), &auth, &state, &uri),
    }
}
