//! Account pages: `/account/tokens` (the user's own API tokens, never their values: create
//! one, shown once, revoke one) and `/account/users` (administrators: disable or re-enable an
//! account, which ends its sessions and tokens; reset its password to a temporary one that
//! must be changed at the next sign-in; reset its second factor).

use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::form::PageForm;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;

struct TokenRow {
    id: i64,
    name: String,
    created: String,
    expires: String,
    status: &'static str,
    live: bool,
}

#[derive(Template)]
#[template(path = "account_tokens.html")]
struct TokensPage {
    tr: Tr,
    c: Chrome,
    error: String,
    new_token: String,
    tokens: Vec<TokenRow>,
}

fn day(ts: &str) -> String {
    ts.get(..16).unwrap_or(ts).replace('T', " ")
}

async fn tokens_page(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    status: StatusCode,
    error: String,
    new_token: String,
) -> Response {
    let r: WebResult<Vec<TokenRow>> = async {
        auth.require_user()?;
        let now = yuepin_store::now_text();
        let list = state.modules.enterprises.my_tokens(&auth.caller()).await?;
        Ok(list
            .into_iter()
            .map(|t| {
                let expired = t.expires_at.as_str() <= now.as_str();
                TokenRow {
                    id: t.id,
                    name: t.name,
                    created: day(&t.created_at),
                    expires: day(&t.expires_at),
                    status: if t.revoked {
                        auth.tr.t("已撤销", "Revoked")
                    } else if expired {
                        auth.tr.t("已过期", "Expired")
                    } else {
                        auth.tr.t("有效", "Active")
                    },
                    live: !t.revoked && !expired,
                }
            })
            .collect())
    }
    .await;
    match r {
        Ok(tokens) => {
            let p = TokensPage {
                tr: auth.tr,
                c: Chrome::new(auth, state),
                error,
                new_token,
                tokens,
            };
            let mut resp = render(&p, auth, uri);
            *resp.status_mut() = status;
            resp
        }
        Err(e) => page_error(e, auth, state, uri),
    }
}

pub(super) async fn tokens(Cx { state, auth }: Cx, uri: Uri) -> Response {
    tokens_page(
        &state,
        &auth,
        &uri,
        StatusCode::OK,
        String::new(),
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct NewTokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    days: String,
}

pub(super) async fn create_token(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<NewTokenForm>,
) -> Response {
    let r: WebResult<String> = async {
        let me = auth.require_user()?.id;
        auth.check_csrf(Some(&f.csrf))?;
        let days = match f.days.trim() {
            "" => None,
            d => Some(d.parse::<i64>().map_err(|_| {
                WebError::field(
                    "days",
                    auth.tr.t("须为1到365的整数", "a whole number, 1 to 365"),
                )
            })?),
        };
        Ok(state
            .modules
            .enterprises
            .issue_token(&auth.caller(), me, &f.name, days)
            .await?
            .token)
    }
    .await;
    match r {
        Ok(token) => {
            tokens_page(
                &state,
                &auth,
                &uri,
                StatusCode::CREATED,
                String::new(),
                token,
            )
            .await
        }
        Err(e @ WebError::Invalid(_)) => {
            tokens_page(&state, &auth, &uri, e.status(), e.message(), String::new()).await
        }
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn revoke_token(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Response {
    let r: WebResult<()> = async {
        auth.require_user()?;
        auth.check_csrf(Some(&f.csrf))?;
        state
            .modules
            .enterprises
            .revoke_token(&auth.caller(), id)
            .await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => {
            tokens_page(
                &state,
                &auth,
                &uri,
                StatusCode::OK,
                String::new(),
                String::new(),
            )
            .await
        }
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}

struct UserRow {
    username: String,
    display_name: String,
    role: &'static str,
    status: &'static str,
    totp: &'static str,
    actions: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "account_users.html")]
struct UsersPage {
    tr: Tr,
    c: Chrome,
    error: String,
    notice: String,
    temp_password: String,
    users: Vec<UserRow>,
    total: i64,
    page: i64,
    pages: i64,
    prev: String,
    next: String,
}

/// Accounts shown on one page of the users list.
const USERS_PER_PAGE: i64 = 50;

async fn users_page(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    page: i64,
    notice: String,
    temp_password: String,
) -> Response {
    let tr = auth.tr;
    let r = state
        .modules
        .enterprises
        .accounts_page(&auth.caller(), page, USERS_PER_PAGE)
        .await;
    let list = match r {
        Ok(l) => l,
        Err(e) => return page_error(e.into(), auth, state, uri),
    };
    let pager = crate::page::Pager::new(list.page, list.total, USERS_PER_PAGE, |n| {
        format!("/account/users?page={n}")
    });
    let users = list
        .users
        .into_iter()
        .map(|u| {
            let mut actions = vec![];
            if u.disabled {
                actions.push(("enable", tr.t("启用", "Enable")));
            } else {
                actions.push(("disable", tr.t("停用", "Disable")));
            }
            actions.push(("reset-password", tr.t("重置密码", "Reset password")));
            if u.totp_enabled {
                actions.push(("reset-totp", tr.t("重置双重验证", "Reset 2-step")));
            }
            UserRow {
                role: if tr.lang == crate::i18n::Lang::En {
                    u.role.as_str()
                } else {
                    u.role.name_zh()
                },
                status: if u.disabled {
                    tr.t("已停用", "Disabled")
                } else {
                    tr.t("正常", "Active")
                },
                totp: if u.totp_enabled {
                    tr.t("已开启", "On")
                } else {
                    tr.t("未开启", "Off")
                },
                username: u.username,
                display_name: u.display_name,
                actions,
            }
        })
        .collect();
    let p = UsersPage {
        tr,
        c: Chrome::new(auth, state),
        error: String::new(),
        notice,
        temp_password,
        users,
        total: list.total,
        page: list.page,
        pages: pager.pages,
        prev: pager.prev,
        next: pager.next,
    };
    render(&p, auth, uri)
}

pub(super) async fn users(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<crate::page::PageQuery>,
) -> Response {
    if let Err(e) = auth.require_user() {
        return page_error(e, &auth, &state, &uri);
    }
    let page = q.page.map_or(1, |p| i64::try_from(p).unwrap_or(i64::MAX));
    users_page(&state, &auth, &uri, page, String::new(), String::new()).await
}

pub(super) async fn user_action(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path((username, action)): Path<(String, String)>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Response {
    let tr = auth.tr;
    let r: WebResult<(String, String)> = async {
        auth.require_user()?;
        auth.check_csrf(Some(&f.csrf))?;
        let s = &state.modules.enterprises;
        let c = auth.caller();
        Ok(match action.as_str() {
            "disable" => {
                s.disable_user(&c, &username).await?;
                (
                    format!(
                        "{} {username}",
                        tr.t(
                            "已停用，会话与令牌已结束：",
                            "Disabled; sessions and tokens ended:"
                        )
                    ),
                    String::new(),
                )
            }
            "enable" => {
                s.enable_user(&c, &username).await?;
                (
                    format!("{} {username}", tr.t("已启用：", "Enabled:")),
                    String::new(),
                )
            }
            "reset-password" => {
                let temp = s.reset_password(&c, &username).await?;
                (
                    format!("{} {username}", tr.t("已重置密码：", "Password reset:")),
                    temp,
                )
            }
            "reset-totp" => {
                s.reset_totp(&c, &username).await?;
                (
                    format!(
                        "{} {username}",
                        tr.t(
                            "已重置双重验证，下次登录须重新绑定：",
                            "2-step reset; enrols again at the next sign-in:"
                        )
                    ),
                    String::new(),
                )
            }
            _ => {
                return Err(WebError::NotFound(format!(
                    "{} 不存在 (no such page)",
                    uri.path()
                )))
            }
        })
    }
    .await;
    match r {
        Ok((notice, temp)) => users_page(&state, &auth, &uri, 1, notice, temp).await,
        Err(e) => page_error(e, &auth, &state, &uri),
    }
}
