//! 粤品通 product quality credit codes on the web: the routes (applications and approval as API
//! and pages, the published key set and root key, status lists, the public scan page at the
//! GS1 Digital Link paths as HTML, JSON and RFC 9264 linkset, revocation, counterfeit signals)
//! and the wording of the codes service's errors. The use cases, access checks and the scan
//! path's caches live in `yuepin_codes_service::CodesService` (`state.modules.codes`).

mod api;
mod pages;
mod scan;
mod series;
mod views;

pub use api::ApiDoc;

use crate::error::WebError;
use crate::AppState;
use axum::routing::{get, post};
use axum::Router;
use yuepin_code::CodeStatus;
use yuepin_codes_service::{parse_status_action, CodesError, StatusTarget};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/yuepin/keys.json", get(scan::keys_json))
        .route("/.well-known/yuepin/root.json", get(scan::root_json))
        .route("/status/{list_id}", get(scan::status_list))
        .route("/01/{gtin}/21/{serial}", get(scan::scan))
        .route("/01/{gtin}/10/{lot}/21/{serial}", get(scan::scan))
        .route("/p/{id}/21/{serial}", get(scan::scan))
        .route("/p/{id}/10/{lot}/21/{serial}", get(scan::scan))
        .route(
            "/api/v1/codes/applications",
            get(api::list_applications).post(api::apply),
        )
        .route("/api/v1/codes/applications/{id}", get(api::application))
        .route(
            "/api/v1/codes/applications/{id}/decision",
            post(api::decide),
        )
        .route(
            "/api/v1/codes/approval-rule",
            get(api::get_rule).put(api::put_rule),
        )
        .route(
            "/api/v1/codes/signal-rule",
            get(api::get_signal_rule).put(api::put_signal_rule),
        )
        .route("/api/v1/codes/series/{id}", get(api::series))
        .route("/api/v1/codes/series/{id}/issue", post(api::issue))
        .route("/api/v1/codes/status", post(api::status))
        .route("/api/v1/codes/signals", get(api::signals))
        .route("/api/v1/codes/codes/{id}/scans", get(api::code_scans))
        .route("/codes", get(pages::home))
        .route("/codes/apply", post(pages::apply))
        .route("/codes/applications/{id}/decide", post(pages::decide))
        .route("/codes/status", post(pages::status))
        .route("/codes/signals", get(pages::signals))
        .route("/codes/series/{id}", get(series::show))
        .route("/codes/series/{id}/issue", post(series::issue))
        .route("/codes/series/{id}/labels.pdf", get(series::labels_pdf))
        .route("/codes/series/{id}/codes.csv", get(series::codes_csv))
        .route("/codes/series/{id}/codes.xlsx", get(series::codes_xlsx))
}

/// Codes issued per API request at most (the answer is the whole CSV); the CLI issues more.
const WEB_ISSUE_LIMIT: usize = 10_000;

impl From<CodesError> for WebError {
    fn from(e: CodesError) -> Self {
        match e {
            CodesError::Denied(d) => d.into(),
            CodesError::Store(s) => s.into(),
            CodesError::NoSuchProduct { .. } => {
                WebError::field("product_id", "产品不存在 (no such product)")
            }
            CodesError::NotFound { entity, id } => {
                WebError::NotFound(format!("{} #{id}", entity.as_str()))
            }
            CodesError::UnknownCode => WebError::NotFound("未知的码 (unknown code)".into()),
            CodesError::ScanRateLimited { retry_after_secs } => {
                WebError::TooManyAttempts(retry_after_secs)
            }
            CodesError::NoStatusList { list_id } => {
                WebError::NotFound(format!("status list {list_id}"))
            }
            CodesError::Field { field, source } => WebError::field(field, source.to_string()),
            CodesError::Required { field: "uri" } => {
                WebError::field("uri", "请提供码的URI (give the code's URI)")
            }
            CodesError::Required { field } => WebError::field(field, "required"),
            CodesError::Quantity { max } => WebError::field(
                "quantity",
                format!("数量须为 1–{max} (quantity must be 1 to {max})"),
            ),
            CodesError::Count { max } => WebError::field(
                "count",
                format!(
                    "每次 1–{max} 个，更多请用命令行 (1 to {max} per request; use the CLI for more)"
                ),
            ),
            CodesError::ReasonRequired => {
                WebError::field("reason", "请填写理由 (a reason is required)")
            }
            CodesError::ApprovalRuleRange => {
                WebError::field("lookback_months", "0–120 months, max_quantity ≥ 1")
            }
            CodesError::SignalRuleRange { field, max } => WebError::field(
                field,
                format!("须为 1 到 {max} 的整数 (a whole number from 1 to {max})"),
            ),
            CodesError::AlreadyDecided { id, status } => {
                WebError::Conflict(format!("application #{id} is already {status}"))
            }
            CodesError::SeriesExhausted {
                series_id,
                remaining,
                requested,
            } => WebError::Conflict(format!(
                "series #{series_id} allows {remaining} more code(s), {requested} requested"
            )),
            e @ (CodesError::NoSeriesWithRoom { .. } | CodesError::SeriesMismatch { .. }) => {
                WebError::Conflict(e.to_string())
            }
            CodesError::PublicUrl { source, .. } => {
                WebError::Internal(format!("public_url cannot be a code resolver: {source}"))
            }
            e @ (CodesError::KeyRing(_)
            | CodesError::Code(_)
            | CodesError::Poisoned
            | CodesError::Labels(_)) => {
                tracing::error!(error = %e, "codes service");
                WebError::Internal(e.to_string())
            }
        }
    }
}

/// A status change as the API and the page form name it: the action word and the scope word
/// with the fields the scope uses.
pub(super) struct StatusRequest<'a> {
    pub scope: &'a str,
    pub action: &'a str,
    pub code_id: Option<i64>,
    pub uri: Option<String>,
    pub product_id: Option<i64>,
    pub lot: Option<String>,
    pub uscc: Option<String>,
}

impl StatusRequest<'_> {
    fn parse(self) -> Result<(StatusTarget, CodeStatus), WebError> {
        let status = parse_status_action(self.action.trim()).ok_or_else(|| {
            WebError::field(
                "action",
                "须为 revoke/suspend/reinstate/recall (must be revoke, suspend, reinstate or recall)",
            )
        })?;
        let target =
            match self.scope.trim() {
                "code" => StatusTarget::Code {
                    code_id: self.code_id,
                    uri: self.uri,
                },
                "lot" => StatusTarget::Lot {
                    product_id: self.product_id,
                    lot: self.lot,
                },
                "product" => StatusTarget::Product {
                    product_id: self.product_id,
                },
                "enterprise" => StatusTarget::Enterprise { uscc: self.uscc },
                _ => return Err(WebError::field(
                    "scope",
                    "须为 code/lot/product/enterprise (must be code, lot, product or enterprise)",
                )),
            };
        Ok((target, status))
    }
}
