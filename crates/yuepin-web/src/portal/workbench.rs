//! `/me`, the workbench a signed-in user lands on: the tasks of their role, each with what it is
//! for and a link that the role may open (see [`crate::nav`]).

use crate::cx::Cx;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::nav::{tasks, Task};
use crate::page::{page_error, render, Chrome};
use askama::Template;
use axum::http::Uri;
use axum::response::Response;

#[derive(Template)]
#[template(path = "workbench.html")]
struct WorkbenchPage {
    tr: Tr,
    c: Chrome,
    role_zh: &'static str,
    role_en: &'static str,
    tasks: Vec<Task>,
    not_open: Option<(&'static str, &'static str)>,
}

pub(super) async fn workbench(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let Some(user) = auth.user.as_ref() else {
        return page_error(WebError::Unauthenticated, &auth, &state, &uri);
    };
    let (tasks, not_open) = tasks(user.role);
    let (role_zh, role_en) = role_name(user.role);
    let page = WorkbenchPage {
        tr: auth.tr,
        c: Chrome::new(&auth, &state),
        role_zh,
        role_en,
        tasks,
        not_open,
    };
    render(&page, &auth, &uri)
}

fn role_name(role: yuepin_domain::Role) -> (&'static str, &'static str) {
    use yuepin_domain::Role;
    match role {
        Role::Regulator => ("市场监管部门", "Market regulator"),
        Role::Enterprise => ("企业", "Enterprise"),
        Role::Bank => ("银行", "Bank"),
        Role::Lab => ("检验检测机构", "Testing laboratory"),
        Role::Expert => ("质量专家", "Quality expert"),
    }
}
