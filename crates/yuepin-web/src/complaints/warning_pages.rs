//! Warning pages: the workflow list and page (regulators edit, approve, publish, withdraw;
//! named enterprises comment while the window is open), the public list and page, and the
//! Atom feed of published warnings.

use super::views::{
    evidence_view, severity_en, severity_zh, status_zh, warning_row, WarningPage, WarningsPage,
};
use super::{page, svc};
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::form::PageForm;
use crate::page::{form_post, render, Chrome};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use yuepin_complaints_service::{ComplaintsService, WarningEdit, COMMENT_DAYS_DEFAULT};

pub(super) async fn warnings_page(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let r = async {
        let list = svc(&state).workflow_warnings(&auth.caller()).await?;
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

async fn warning_view(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    id: i64,
    public: bool,
) -> WebResult<Response> {
    let caller = auth.caller();
    let w = if public {
        svc(state).published_warning(id).await?
    } else {
        svc(state).warning(&caller, id).await?
    };
    let now = yuepin_store::now_text();
    let p = WarningPage {
        tr: auth.tr,
        c: Chrome::new(auth, state),
        ev: evidence_view(&w),
        status_key: w.status.as_str(),
        severity_key: w.severity.as_str(),
        status: if auth.tr.is_en() {
            w.status.as_str().to_string()
        } else {
            status_zh(w.status).to_string()
        },
        severity: auth
            .tr
            .t(severity_zh(w.severity), severity_en(w.severity))
            .to_string(),
        paragraphs: w
            .body
            .split('\n')
            .map(str::to_string)
            .filter(|s| !s.trim().is_empty())
            .collect(),
        is_regulator: auth.is_regulator() && !public,
        can_comment: !public && ComplaintsService::may_comment(&caller, &w, &now),
        w,
        public,
        comment_days: COMMENT_DAYS_DEFAULT,
    };
    Ok(render(&p, auth, uri))
}

pub(super) async fn warning_page(
    Cx { state, auth }: Cx,
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

pub(super) async fn public_warning_page(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
) -> Response {
    let r = warning_view(&state, &auth, &uri, id, true).await;
    page(r, &auth, &state, &uri)
}

pub(super) async fn public_list_page(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let r = async {
        let list = svc(&state).published_warnings().await?;
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

pub(super) async fn warning_action_form(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path((id, action)): Path<(i64, String)>,
    PageForm(f): PageForm<HashMap<String, String>>,
) -> Response {
    let action = async {
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        let caller = auth.caller();
        let svc = svc(&state);
        match action.as_str() {
            "edit" => {
                let edit = WarningEdit {
                    title: get("title"),
                    body: get("body"),
                    severity: get("severity"),
                };
                svc.edit_warning(&caller, id, &edit).await?;
            }
            "approve" => {
                let days = get("comment_days").trim().parse::<i64>().ok();
                svc.approve_warning(&caller, id, days).await?;
            }
            "publish" => {
                svc.publish_warning(&caller, id).await?;
            }
            "withdraw" => {
                svc.withdraw_warning(&caller, id).await?;
            }
            "comment" => {
                svc.comment_warning(&caller, id, &get("body")).await?;
            }
            _ => return Err(WebError::NotFound(format!("no action {action}"))),
        }
        Ok(format!("/complaints/warnings/{id}"))
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

fn xml_esc(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}'))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) async fn atom_feed(State(state): State<AppState>) -> Response {
    let list = match svc(&state).published_warnings().await {
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
            w.severity.as_str(),
            severity_zh(w.severity),
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
