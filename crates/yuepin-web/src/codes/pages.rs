//! The codes pages: the home page (an enterprise's application form and series, the
//! regulator's queue, overview and status form), the form posts (apply, decide, change status;
//! each redirects back with a banner key, `crate::flash`) and the counterfeit signals page.

use super::views::{describe_evidence, CodesPage, SignalsPage};
use super::StatusRequest;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::flash::{self, Flash, FlashQuery};
use crate::form::PageForm;
use crate::page::{page_error, render, Chrome};
use axum::extract::{Path, Query};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use yuepin_codes_service::ApplyRequest;

pub(super) async fn home(
    Cx { state, auth }: Cx,
    uri: Uri,
    Query(q): Query<FlashQuery>,
) -> Response {
    let result: WebResult<Response> = async {
        let home = state.modules.codes.home(&auth.caller()).await?;
        let page = CodesPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            regulator: home.regulator,
            apps: home.applications,
            products: home.products,
            series: home.series,
            counts: home.counts,
            samples: home.samples,
            message: q.text(auth.tr),
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

#[derive(Deserialize)]
pub(super) struct ApplyForm {
    #[serde(default)]
    csrf: String,
    product_id: String,
    #[serde(default)]
    lot: String,
    quantity: String,
    #[serde(default)]
    note: String,
}

/// Back to the codes page with the outcome's banner (`crate::flash`).
fn back(flash: Flash, refs: &[i64]) -> Response {
    flash::redirect("/codes", flash, refs)
}

pub(super) async fn apply(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<ApplyForm>,
) -> Response {
    let result: WebResult<Response> =
        async {
            auth.check_csrf(Some(&f.csrf))?;
            let req =
                ApplyRequest {
                    product_id: f.product_id.trim().parse().map_err(|_| {
                        WebError::field("product_id", "请选择产品 (choose a product)")
                    })?,
                    lot: Some(f.lot),
                    quantity: f.quantity.trim().parse().map_err(|_| {
                        WebError::field("quantity", "须为整数 (must be a whole number)")
                    })?,
                    note: f.note,
                };
            let app = state.modules.codes.apply(&auth.caller(), req).await?;
            Ok(back(Flash::ApplicationFiled, &[app.id]))
        }
        .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

#[derive(Deserialize)]
pub(super) struct DecideForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn decide(
    Cx { state, auth }: Cx,
    uri: Uri,
    Path(id): Path<i64>,
    PageForm(f): PageForm<DecideForm>,
) -> Response {
    let result: WebResult<Response> = async {
        auth.check_csrf(Some(&f.csrf))?;
        let approve = f.decision == "approve";
        // Approving from the queue needs no typed reason; rejecting does.
        let reason = if f.reason.trim().is_empty() && approve {
            "同意 (approved)".to_string()
        } else {
            f.reason
        };
        let app = state
            .modules
            .codes
            .decide(&auth.caller(), id, approve, &reason)
            .await?;
        Ok(back(Flash::ApplicationDecided, &[app.id]))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

#[derive(Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    csrf: String,
    scope: String,
    action: String,
    #[serde(default)]
    reason: String,
    /// The code's URI, the product id or the enterprise's credit code, by scope.
    #[serde(default)]
    target: String,
    #[serde(default)]
    lot: String,
}

pub(super) async fn status(
    Cx { state, auth }: Cx,
    uri: Uri,
    PageForm(f): PageForm<StatusForm>,
) -> Response {
    let result: WebResult<Response> = async {
        auth.check_csrf(Some(&f.csrf))?;
        let target = f.target.trim().to_string();
        let (target, status) = StatusRequest {
            scope: &f.scope,
            action: &f.action,
            code_id: None,
            uri: (f.scope == "code").then(|| target.clone()),
            product_id: matches!(f.scope.as_str(), "lot" | "product")
                .then(|| target.parse().ok())
                .flatten(),
            lot: Some(f.lot.clone()),
            uscc: (f.scope == "enterprise").then(|| target.clone()),
        }
        .parse()?;
        let out = state
            .modules
            .codes
            .change_status(&auth.caller(), target, status, &f.reason)
            .await?;
        Ok(back(
            Flash::StatusChanged,
            &[i64::try_from(out.changed).unwrap_or(i64::MAX)],
        ))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

pub(super) async fn signals(Cx { state, auth }: Cx, uri: Uri) -> Response {
    let result: WebResult<Response> = async {
        let signals = state.modules.codes.signals(&auth.caller()).await?;
        let flags = signals
            .flags
            .into_iter()
            .map(|f| {
                let evidence = describe_evidence(&f.evidence, auth.tr);
                (f, evidence)
            })
            .collect();
        let page = SignalsPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            flags,
            rule: signals.rule,
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}
