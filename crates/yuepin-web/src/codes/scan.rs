//! The public face of the codes: the published key set and root key, the signed status lists,
//! and the scan of a code at its GS1 Digital Link path in three representations (HTML page,
//! JSON verdict, RFC 9264 linkset), chosen by `?format=`/`?linkType=` or the `Accept` header.

use super::views::{issued_elsewhere, shown, ScanPage, ScanView, Shown};
use crate::auth::Auth;
use crate::cx::Cx;
use crate::error::{WebError, WebResult};
use crate::page::{page_error, render, Chrome};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use yuepin_codes_service::STATUS_TTL_SECONDS;
use yuepin_domain::reference;

pub(super) async fn keys_json(State(state): State<AppState>) -> WebResult<Response> {
    let doc = state.modules.codes.key_set_json()?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        doc.as_str().to_string(),
    )
        .into_response())
}

pub(super) async fn root_json(State(state): State<AppState>) -> WebResult<Response> {
    let doc = state.modules.codes.root_json()?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        doc.as_str().to_string(),
    )
        .into_response())
}

pub(super) async fn status_list(
    State(state): State<AppState>,
    Path(list_id): Path<String>,
) -> WebResult<Response> {
    let list_id: i64 = list_id
        .parse()
        .map_err(|_| WebError::NotFound(format!("status list {list_id:?}")))?;
    let token = state.modules.codes.signed_status_list(list_id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/statuslist+jwt".to_string(),
            ),
            (
                header::CACHE_CONTROL,
                format!("public, max-age={STATUS_TTL_SECONDS}"),
            ),
        ],
        token,
    )
        .into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct ScanQuery {
    #[serde(default)]
    s: Option<String>,
    #[serde(default)]
    loc: Option<String>,
    #[serde(default, rename = "linkType")]
    link_type: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Repr {
    Html,
    Json,
    Linkset,
}

fn representation(q: &ScanQuery, headers: &HeaderMap) -> Repr {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if q.link_type.as_deref() == Some("linkset")
        || q.link_type.as_deref() == Some("all")
        || accept.contains("application/linkset+json")
    {
        Repr::Linkset
    } else if q.format.as_deref() == Some("json")
        || (accept.contains("application/json") && !accept.contains("text/html"))
    {
        Repr::Json
    } else {
        Repr::Html
    }
}

pub(super) async fn scan(
    Cx { state, auth }: Cx,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<ScanQuery>,
) -> Response {
    let repr = representation(&q, &headers);
    match scan_inner(&state, &auth, &uri, &q, repr).await {
        Ok(resp) => resp,
        Err(e) if repr == Repr::Html => page_error(e, &auth, &state, &uri),
        Err(e) => e.into_response(),
    }
}

async fn scan_inner(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    q: &ScanQuery,
    repr: Repr,
) -> WebResult<Response> {
    let codes = &state.modules.codes;
    let path = uri.path();
    let sig = q.s.clone().unwrap_or_default();
    let client = Some(auth.client_ip.as_str());
    let scanned = codes.scan(path, &sig, q.loc.as_deref(), client).await?;
    let base = codes.resolver()?.base_url();
    let data = scanned.data.as_deref().map(ScanView::from);
    let mut v = shown(&scanned.verdict, data.as_ref().map(|d| &d.code));
    if let Some(other) = scanned.issued_for.as_deref() {
        v = issued_elsewhere(v, other);
    }
    let link_header = format!(
        "<{base}{path}?s={sig}&linkType=linkset>; rel=\"linkset\"; type=\"application/linkset+json\""
    );
    let mut resp = match repr {
        Repr::Html => {
            let page = ScanPage {
                tr: auth.tr,
                c: Chrome::minimal(auth, state),
                lot: scanned.lot,
                serial: scanned.serial,
                path: path.to_string(),
                s: sig.clone(),
                cities: reference::cities(),
                loc_saved: q.loc.is_some(),
                data,
                v,
            };
            let status = page.v.status;
            let mut r = render(&page, auth, uri);
            *r.status_mut() = status;
            r
        }
        Repr::Json => {
            let mut body = scan_json(&v, data.as_ref(), &scanned.uri);
            if let Some(other) = &scanned.issued_for {
                body["issued_for"] = json!(other);
            }
            (v.status, Json(body)).into_response()
        }
        Repr::Linkset => {
            let body = linkset(&scanned.uri, &base, path, &sig, &v, data.as_ref());
            let mut r = (v.status, body.to_string()).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/linkset+json"),
            );
            r
        }
    };
    if let Ok(value) = link_header.parse() {
        resp.headers_mut().insert(header::LINK, value);
    }
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp.headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(resp)
}

fn scan_json(v: &Shown, data: Option<&ScanView>, uri: &str) -> Value {
    let mut body = json!({
        "uri": uri,
        "verdict": v.key,
        "title": {"zh": v.title_zh, "en": v.title_en},
        "detail": {"zh": v.detail_zh, "en": v.detail_en},
        "reason": v.reason,
        "since": v.since,
        "status_age_seconds": v.age_seconds,
        "complain": {"phone": "12315", "url": "https://www.12315.cn/"},
    });
    if let Some(d) = data {
        body["code"] = json!({
            "serial": d.code.serial, "lot": d.code.lot, "issued_on": d.code.issued_on,
            "kid": d.code.kid, "status_index": d.code.status_index,
            "status_list": format!("/status/{}", d.code.list_id()),
        });
        body["product"] = json!({
            "name": d.product.product.name, "brand": d.product.product.brand,
            "model": d.product.product.model, "gtin": d.product.product.gtin,
            "category": d.product.product.category, "standard": d.product.product.standard,
        });
        body["producer"] = json!({
            "name": d.enterprise_name, "uscc": d.uscc, "city": {"zh": d.city_zh, "en": d.city_en},
        });
        body["quality"] = json!({
            "latest_inspections": d.inspections.iter().map(|(date, pass, by)| json!({"date": date, "result": if *pass {"pass"} else {"fail"}, "detail": by})).collect::<Vec<_>>(),
            "certifications_valid_today": d.certifications,
            "awards": d.awards,
            "complaints_last_12_months": d.complaints,
        });
    }
    body
}

fn linkset(
    anchor: &str,
    base: &str,
    path: &str,
    sig: &str,
    v: &Shown,
    data: Option<&ScanView>,
) -> Value {
    let page = format!("{base}{path}?s={sig}");
    let title = data
        .map(|d| d.product.product.name.clone())
        .unwrap_or_else(|| v.title_zh.clone());
    let mut set = serde_json::Map::new();
    set.insert("anchor".into(), json!(anchor));
    set.insert(
        "https://gs1.org/voc/defaultLink".into(),
        json!([{"href": page, "title": title, "type": "text/html", "hreflang": ["zh-CN", "en"]}]),
    );
    set.insert(
        "https://gs1.org/voc/pip".into(),
        json!([{"href": page, "title": format!("{title} · 产品信息"), "type": "text/html", "hreflang": ["zh-CN", "en"]}]),
    );
    set.insert(
        "https://gs1.org/voc/verificationService".into(),
        json!([{"href": format!("{page}&format=json"), "title": "粤品通验证结果 (verdict)", "type": "application/json"}]),
    );
    set.insert(
        "https://gs1.org/voc/certificationInfo".into(),
        json!([{"href": format!("{page}#quality"), "title": "质量信用档案 (quality credit summary)", "type": "text/html"}]),
    );
    set.insert(
        "https://gs1.org/voc/customerSupport".into(),
        json!([{"href": "https://www.12315.cn/", "title": "12315 投诉举报 (complaints)", "type": "text/html"}]),
    );
    if v.key == "recalled" {
        set.insert(
            "https://gs1.org/voc/recallStatus".into(),
            json!([{"href": page, "title": v.detail_zh, "type": "text/html"}]),
        );
    }
    if let Some(d) = data {
        set.insert(
            "https://gs1.org/voc/statusList".into(),
            json!([{"href": format!("{base}/status/{}", d.code.list_id()), "type": "application/statuslist+jwt"}]),
        );
    }
    json!({"linkset": [Value::Object(set)]})
}
