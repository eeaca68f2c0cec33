//! 粤品通 product quality credit codes on the web: applications and approval (API and pages),
//! the published key set and root key, status lists, the public scan page at the GS1 Digital
//! Link paths (HTML, JSON, RFC 9264 linkset), revocation, and counterfeit signals.
//!
//! The scan path is hot: verified signatures and looked-up codes are cached in memory (the code
//! cache for at most [`CODE_CACHE_SECONDS`], and cleared at once by any status change made
//! through this server); scan counts are aggregated in memory and flushed in one audited
//! transaction every few seconds.

use crate::page::{page_error, render, Chrome};
use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::input::ApiJson;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};
use yuepin_code::{KeyRing, KeySet, Resolver, StatusList, Verdict};
use yuepin_domain::{reference, InspectionResult, QualityEventKind, Role};
use yuepin_store::codes::{ApplicationRecord, CodeRecord, StatusScope};
use yuepin_store::{Actor, ProductRecord, Store};

/// Time-to-live of published status lists (also their `Cache-Control: max-age`).
pub const STATUS_TTL_SECONDS: u64 = 900;
/// How long a looked-up code may be served from memory (changes made through this server
/// clear the cache at once; changes from other processes show within this time).
pub const CODE_CACHE_SECONDS: u64 = 1;
/// Scan counts are flushed to the database at least this often.
pub const SCAN_FLUSH_SECONDS: u64 = 5;
const CACHE_LIMIT: usize = 200_000;

/// The loaded key ring with its published documents.
struct Loaded {
    mtime: Option<SystemTime>,
    checked: Instant,
    ring: Arc<KeyRing>,
    key_set: Arc<KeySet>,
    signed_json: Arc<String>,
    root_json: Arc<String>,
}

/// Everything the scan page shows about a code, cached briefly.
#[derive(Clone)]
struct ScanData {
    code: CodeRecord,
    product: ProductRecord,
    enterprise_name: String,
    uscc: String,
    city_zh: String,
    city_en: String,
    inspections: Vec<(String, bool, String)>,
    certifications: Vec<String>,
    awards: Vec<String>,
    complaints: Option<i64>,
}

/// Long-lived state of this module.
pub struct ModuleState {
    keys_dir: PathBuf,
    resolver: Result<Resolver, String>,
    ring: RwLock<Option<Arc<Loaded>>>,
    init_lock: Mutex<()>,
    verified: RwLock<HashMap<String, (u64, Verdict, Option<(String, u32)>)>>,
    codes: RwLock<HashMap<(String, String), (Instant, Option<Arc<ScanData>>)>>,
    scans: Mutex<(Instant, HashMap<(i64, String, String), i64>)>,
}

impl std::fmt::Debug for ModuleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("codes::ModuleState")
            .field("keys_dir", &self.keys_dir)
            .finish()
    }
}

impl ModuleState {
    pub fn new(config: &crate::WebConfig) -> Self {
        Self {
            keys_dir: config.data_dir.join("keys"),
            resolver: Resolver::from_base_url(&config.public_url).map_err(|e| e.to_string()),
            ring: RwLock::new(None),
            init_lock: Mutex::new(()),
            verified: RwLock::new(HashMap::new()),
            codes: RwLock::new(HashMap::new()),
            scans: Mutex::new((Instant::now(), HashMap::new())),
        }
    }

    fn resolver(&self) -> WebResult<&Resolver> {
        self.resolver
            .as_ref()
            .map_err(|e| WebError::Internal(format!("public_url cannot be a code resolver: {e}")))
    }

    /// The key ring, created on first use; re-read when `keyring.json` changes (CLI rotation).
    fn loaded(&self) -> WebResult<Arc<Loaded>> {
        if let Ok(guard) = self.ring.read() {
            if let Some(l) = guard.as_ref() {
                if l.checked.elapsed() < Duration::from_secs(1) {
                    return Ok(l.clone());
                }
            }
        }
        let _init = self.init_lock.lock().map_err(|_| poisoned())?;
        let mtime = std::fs::metadata(KeyRing::meta_path(&self.keys_dir))
            .and_then(|m| m.modified())
            .ok();
        if let Ok(mut guard) = self.ring.write() {
            if let Some(l) = guard.as_ref() {
                if l.mtime.is_some() && l.mtime == mtime {
                    let fresh = Arc::new(Loaded {
                        mtime,
                        checked: Instant::now(),
                        ring: l.ring.clone(),
                        key_set: l.key_set.clone(),
                        signed_json: l.signed_json.clone(),
                        root_json: l.root_json.clone(),
                    });
                    *guard = Some(fresh.clone());
                    return Ok(fresh);
                }
            }
        }
        let issuer = self.resolver()?.base_url();
        let (ring, _created) = KeyRing::open_or_init(
            &self.keys_dir,
            &issuer,
            crate::today(),
            &mut rand::rngs::OsRng,
        )
        .map_err(|e| WebError::Internal(format!("key ring: {e}")))?;
        let key_set = ring
            .key_set()
            .map_err(|e| WebError::Internal(e.to_string()))?;
        let signed = ring
            .signed_key_set()
            .map_err(|e| WebError::Internal(e.to_string()))?;
        let root_json = serde_json::to_string_pretty(&ring.root_document()).unwrap_or_default();
        let mtime = std::fs::metadata(KeyRing::meta_path(&self.keys_dir))
            .and_then(|m| m.modified())
            .ok();
        let loaded = Arc::new(Loaded {
            mtime,
            checked: Instant::now(),
            ring: Arc::new(ring),
            key_set: Arc::new(key_set),
            signed_json: Arc::new(signed.to_json()),
            root_json: Arc::new(root_json),
        });
        if let Ok(mut guard) = self.ring.write() {
            *guard = Some(loaded.clone());
        }
        if let Ok(mut v) = self.verified.write() {
            v.clear();
        }
        Ok(loaded)
    }

    /// Forgets cached codes so the next scan reads the database (after any status change).
    pub fn invalidate_codes(&self) {
        if let Ok(mut c) = self.codes.write() {
            c.clear();
        }
    }

    fn count_scan(
        &self,
        code_id: i64,
        city: Option<&str>,
    ) -> Option<Vec<(i64, String, String, i64)>> {
        let day = crate::today().to_string();
        let mut guard = self.scans.lock().ok()?;
        *guard
            .1
            .entry((code_id, day, city.unwrap_or("").to_string()))
            .or_insert(0) += 1;
        if guard.0.elapsed() >= Duration::from_secs(SCAN_FLUSH_SECONDS) || guard.1.len() > 50_000 {
            Some(self.take_scans_locked(&mut guard))
        } else {
            None
        }
    }

    fn take_scans_locked(
        &self,
        guard: &mut (Instant, HashMap<(i64, String, String), i64>),
    ) -> Vec<(i64, String, String, i64)> {
        guard.0 = Instant::now();
        guard
            .1
            .drain()
            .map(|((c, d, city), n)| (c, d, city, n))
            .collect()
    }

    /// Writes the aggregated scan counts now (the regulator's views call this first).
    pub async fn flush_scans(&self, store: &Store) -> WebResult<usize> {
        let batch = match self.scans.lock() {
            Ok(mut g) => self.take_scans_locked(&mut g),
            Err(_) => return Err(poisoned()),
        };
        Ok(store
            .record_code_scans(Actor("system:scan-counter".into()), &batch)
            .await?)
    }
}

fn poisoned() -> WebError {
    WebError::Internal("lock poisoned".into())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/yuepin/keys.json", get(keys_json))
        .route("/.well-known/yuepin/root.json", get(root_json))
        .route("/status/{list_id}", get(status_list))
        .route("/01/{gtin}/21/{serial}", get(scan))
        .route("/01/{gtin}/10/{lot}/21/{serial}", get(scan))
        .route("/p/{id}/21/{serial}", get(scan))
        .route("/p/{id}/10/{lot}/21/{serial}", get(scan))
        .route(
            "/api/v1/codes/applications",
            get(api_list_applications).post(api_apply),
        )
        .route("/api/v1/codes/applications/{id}", get(api_application))
        .route("/api/v1/codes/applications/{id}/decision", post(api_decide))
        .route(
            "/api/v1/codes/approval-rule",
            get(api_get_rule).put(api_put_rule),
        )
        .route(
            "/api/v1/codes/signal-rule",
            get(api_get_signal_rule).put(api_put_signal_rule),
        )
        .route("/api/v1/codes/series/{id}", get(api_series))
        .route("/api/v1/codes/series/{id}/issue", post(api_issue))
        .route("/api/v1/codes/status", post(api_status))
        .route("/api/v1/codes/signals", get(api_signals))
        .route("/api/v1/codes/codes/{id}/scans", get(api_code_scans))
        .route("/codes", get(codes_page))
        .route("/codes/apply", post(page_apply))
        .route("/codes/applications/{id}/decide", post(page_decide))
        .route("/codes/status", post(page_status))
        .route("/codes/signals", get(signals_page))
}

// ---------------------------------------------------------------------------------------------
// Published documents: key set, root key, status lists.

async fn keys_json(State(state): State<AppState>) -> WebResult<Response> {
    let l = state.modules.codes.loaded()?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        l.signed_json.as_str().to_string(),
    )
        .into_response())
}

async fn root_json(State(state): State<AppState>) -> WebResult<Response> {
    let l = state.modules.codes.loaded()?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        l.root_json.as_str().to_string(),
    )
        .into_response())
}

/// Builds and signs the current status list `list_id`.
pub async fn signed_status_list(state: &AppState, list_id: i64) -> WebResult<String> {
    if !(0..i64::from(yuepin_code::status::MAX_LISTS)).contains(&list_id)
        || !state.store.code_list_exists(list_id).await?
    {
        return Err(WebError::NotFound(format!("status list {list_id}")));
    }
    let l = state.modules.codes.loaded()?;
    let mut list = StatusList::new(list_id as u32, Utc::now(), STATUS_TTL_SECONDS)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    for entry in state.store.code_list_entries(list_id).await? {
        let status = match entry.status {
            1 => yuepin_code::CodeStatus::Suspended,
            2 => yuepin_code::CodeStatus::Revoked,
            3 => yuepin_code::CodeStatus::Recalled,
            _ => yuepin_code::CodeStatus::Valid,
        };
        let r = yuepin_code::StatusRef::new(list_id as u32, entry.position)
            .map_err(|e| WebError::Internal(e.to_string()))?;
        list.set(r, status)
            .map_err(|e| WebError::Internal(e.to_string()))?;
    }
    let key = l
        .ring
        .active()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let base = state.modules.codes.resolver()?.base_url();
    Ok(list.to_signed_token(&format!("{base}/status/{list_id}"), key))
}

async fn status_list(
    State(state): State<AppState>,
    Path(list_id): Path<String>,
) -> WebResult<Response> {
    let list_id: i64 = list_id
        .parse()
        .map_err(|_| WebError::NotFound(format!("status list {list_id:?}")))?;
    let token = signed_status_list(&state, list_id).await?;
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

// ---------------------------------------------------------------------------------------------
// The scan page.

#[derive(Deserialize, Default)]
struct ScanQuery {
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

/// The verdict as shown and sent.
struct Shown {
    key: &'static str,
    status: StatusCode,
    title_zh: String,
    title_en: String,
    detail_zh: String,
    detail_en: String,
    tone: &'static str,
    reason: Option<String>,
    since: Option<String>,
    age_seconds: Option<i64>,
}

fn shown(verdict: &Verdict, code: Option<&CodeRecord>) -> Shown {
    let mk = |key, status, tz: &str, te: &str, dz: String, de: String, tone| Shown {
        key,
        status,
        title_zh: tz.into(),
        title_en: te.into(),
        detail_zh: dz,
        detail_en: de,
        tone,
        reason: None,
        since: None,
        age_seconds: None,
    };
    match verdict {
        Verdict::Valid => mk(
            "valid",
            StatusCode::OK,
            "正品 · 有效",
            "Genuine and valid",
            "签名验证通过,该码由广东省市场监管局粤品通平台签发,当前状态有效。".into(),
            "The signature verifies: this code was issued by the Yuepin platform and is currently valid.".into(),
            "ok",
        ),
        Verdict::Revoked { .. } => {
            let reason = code.and_then(|c| c.status_reason.clone());
            let since = code.and_then(|c| c.status_since.clone());
            let mut s = mk(
                "revoked",
                StatusCode::GONE,
                "已撤销",
                "Revoked",
                format!(
                    "该码已于 {} 被撤销。原因:{}",
                    since.clone().unwrap_or_else(|| "—".into()),
                    reason.clone().unwrap_or_else(|| "—".into())
                ),
                format!(
                    "This code was revoked on {}. Reason: {}",
                    since.clone().unwrap_or_else(|| "—".into()),
                    reason.clone().unwrap_or_else(|| "—".into())
                ),
                "bad",
            );
            s.reason = reason;
            s.since = since;
            s
        }
        Verdict::Suspended => {
            let reason = code.and_then(|c| c.status_reason.clone());
            let since = code.and_then(|c| c.status_since.clone());
            let mut s = mk(
                "suspended",
                StatusCode::OK,
                "已暂停",
                "Suspended",
                format!(
                    "该码自 {} 起暂停使用,原因:{}。请暂勿依赖本码信息。",
                    since.clone().unwrap_or_default(),
                    reason.clone().unwrap_or_default()
                ),
                format!(
                    "This code is suspended since {}: {}. Do not rely on it for now.",
                    since.clone().unwrap_or_default(),
                    reason.clone().unwrap_or_default()
                ),
                "warn",
            );
            s.reason = reason;
            s.since = since;
            s
        }
        Verdict::Recalled => {
            let reason = code.and_then(|c| c.status_reason.clone());
            let since = code.and_then(|c| c.status_since.clone());
            let mut s = mk(
                "recalled",
                StatusCode::OK,
                "产品已召回",
                "Product recalled",
                format!(
                    "该产品自 {} 起召回,原因:{}。请停止使用并联系生产者。",
                    since.clone().unwrap_or_default(),
                    reason.clone().unwrap_or_default()
                ),
                format!(
                    "This product is recalled since {}: {}. Stop using it and contact the producer.",
                    since.clone().unwrap_or_default(),
                    reason.clone().unwrap_or_default()
                ),
                "bad",
            );
            s.reason = reason;
            s.since = since;
            s
        }
        Verdict::SignatureInvalid | Verdict::UnknownKey => mk(
            "signature_invalid",
            StatusCode::OK,
            "签名无效 · 疑似假冒",
            "Signature invalid — possible counterfeit",
            "该码的数字签名与内容不符,可能被篡改或仿冒。请勿相信本页以外的任何信息,并向12315投诉。".into(),
            "The code's digital signature does not match its content: it may be forged or altered. Report it to 12315.".into(),
            "bad",
        ),
        Verdict::KeyWithdrawn => mk(
            "key_withdrawn",
            StatusCode::OK,
            "签发密钥已撤回",
            "Signing key withdrawn",
            "签发该码的密钥已被撤回,该码不再可信。".into(),
            "The key that signed this code was withdrawn; the code can no longer be trusted.".into(),
            "bad",
        ),
        Verdict::StatusStale { age } => {
            let mut s = mk(
                "status_stale",
                StatusCode::OK,
                "状态信息已过期",
                "Status information stale",
                format!("签名有效,但状态信息已有 {} 秒未更新。", age.num_seconds()),
                format!("The signature is valid but the status information is {} s old.", age.num_seconds()),
                "warn",
            );
            s.age_seconds = Some(age.num_seconds());
            s
        }
        Verdict::StatusUnknown => mk(
            "unknown_code",
            StatusCode::NOT_FOUND,
            "未知的码",
            "Unknown code",
            "平台上没有这个码的签发记录。".into(),
            "The platform has no record of issuing this code.".into(),
            "bad",
        ),
        Verdict::Malformed(reason) => mk(
            "malformed",
            StatusCode::BAD_REQUEST,
            "格式错误",
            "Malformed code",
            format!("这不是有效的粤品通码:{reason}"),
            format!("This is not a valid Yuepin code: {reason}"),
            "bad",
        ),
    }
}

#[derive(Template)]
#[template(path = "codes/scan.html")]
struct ScanPage {
    tr: Tr,
    c: Chrome,
    v: Shown,
    data: Option<ScanData>,
    lot: String,
    serial: String,
    path: String,
    s: String,
    cities: &'static [reference::City],
    loc_saved: bool,
}

impl ScanPage {
    fn title(&self) -> &str {
        self.tr.t(&self.v.title_zh, &self.v.title_en)
    }
    fn detail(&self) -> &str {
        self.tr.t(&self.v.detail_zh, &self.v.detail_en)
    }
}

async fn load_scan_data(store: &Store, code: CodeRecord) -> WebResult<ScanData> {
    let today = crate::today();
    let product = store.product(code.product_id).await?;
    let enterprise = store.enterprise_by_id(code.enterprise_id).await?;
    let events = store.events_of(code.enterprise_id).await?;
    let mut inspections = Vec::new();
    let mut certifications = Vec::new();
    let mut awards = Vec::new();
    for e in &events {
        match &e.kind {
            QualityEventKind::Inspection {
                agency,
                result,
                failed_items,
                ..
            } if inspections.len() < 3 => {
                let pass = *result == InspectionResult::Pass;
                inspections.push((
                    e.date.to_string(),
                    pass,
                    if pass {
                        agency.clone()
                    } else {
                        format!("{agency}: {}", failed_items.join("、"))
                    },
                ));
            }
            QualityEventKind::Certification(c)
                if c.valid_from <= today && today <= c.valid_until =>
            {
                certifications.push(format!(
                    "{} {} ({} — {})",
                    c.scheme, c.number, c.valid_from, c.valid_until
                ));
            }
            QualityEventKind::Award { name, level } => {
                awards.push(format!("{name} ({level}) {}", e.date))
            }
            _ => {}
        }
    }
    let since = today
        .checked_sub_months(chrono::Months::new(12))
        .unwrap_or(today)
        .to_string();
    let complaints = store.complaint_count(code.enterprise_id, &since).await;
    let city = enterprise.enterprise.region.city();
    Ok(ScanData {
        product,
        enterprise_name: enterprise.enterprise.name.clone(),
        uscc: enterprise.enterprise.uscc.to_string(),
        city_zh: city.name_zh.clone(),
        city_en: city.name_en.clone(),
        inspections,
        certifications,
        awards,
        complaints,
        code,
    })
}

/// Looks a code up (through the short-lived cache).
async fn lookup(state: &AppState, subject: &str, serial: &str) -> WebResult<Option<Arc<ScanData>>> {
    let m = &state.modules.codes;
    let key = (subject.to_string(), serial.to_string());
    if let Ok(cache) = m.codes.read() {
        if let Some((at, data)) = cache.get(&key) {
            if at.elapsed() < Duration::from_secs(CODE_CACHE_SECONDS) {
                return Ok(data.clone());
            }
        }
    }
    let data = match state.store.code_by_serial(subject, serial).await? {
        Some(code) => Some(Arc::new(load_scan_data(&state.store, code).await?)),
        None => None,
    };
    if let Ok(mut cache) = m.codes.write() {
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), data.clone()));
    }
    Ok(data)
}

/// Signature check of the full URI, cached per key-ring version.
fn verify_signature(m: &ModuleState, l: &Loaded, uri: &str) -> (Verdict, Option<(String, u32)>) {
    let version = l.ring.version();
    if let Ok(cache) = m.verified.read() {
        if let Some((v, verdict, details)) = cache.get(uri) {
            if *v == version {
                return (verdict.clone(), details.clone());
            }
        }
    }
    let checked = yuepin_code::verify_detailed(uri, &l.key_set, None, Utc::now());
    let details = checked
        .details
        .as_ref()
        .map(|d| (d.kid.clone(), d.claims.status.global_index()));
    let verdict = checked.verdict;
    if !matches!(verdict, Verdict::Malformed(_)) {
        if let Ok(mut cache) = m.verified.write() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(uri.to_string(), (version, verdict.clone(), details.clone()));
        }
    }
    (verdict, details)
}

async fn scan(
    State(state): State<AppState>,
    auth: Auth,
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
    let m = &state.modules.codes;
    let l = m.loaded()?;
    let resolver = m.resolver()?;
    let path = uri.path();
    let sig = q.s.clone().unwrap_or_default();
    let full = format!("{}{}?s={}", resolver.base_url(), path, sig);
    let (mut verdict, details) = if sig.is_empty() {
        (
            Verdict::Malformed("uri.query: missing ?s= signature".into()),
            None,
        )
    } else {
        verify_signature(m, &l, &full)
    };
    // What the path says (for display even when the signature fails).
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (subject, lot, serial) = match parts.as_slice() {
        [kind, id, "10", lot, "21", serial] => (
            format!("{}:{id}", if *kind == "01" { "01" } else { "p" }),
            pct(lot),
            pct(serial),
        ),
        [kind, id, "21", serial] => (
            format!("{}:{id}", if *kind == "01" { "01" } else { "p" }),
            String::new(),
            pct(serial),
        ),
        _ => (String::new(), String::new(), String::new()),
    };
    let mut data = None;
    if details.is_some() {
        let found = lookup(state, &subject, &serial).await?;
        match (found, details.as_ref()) {
            (Some(d), Some((kid, index)))
                if d.code.kid == *kid
                    && d.code.status_index == i64::from(*index)
                    && d.code.lot.clone().unwrap_or_default() == lot =>
            {
                verdict = match d.code.status {
                    1 => Verdict::Suspended,
                    2 => Verdict::Revoked {
                        reason: d.code.status_reason.clone(),
                        since: None,
                    },
                    3 => Verdict::Recalled,
                    _ => Verdict::Valid,
                };
                let city = q
                    .loc
                    .as_deref()
                    .and_then(reference::find_city)
                    .map(|c| c.code.as_str());
                if let Some(batch) = m.count_scan(d.code.id, city) {
                    let store = state.store.clone();
                    tokio::spawn(async move {
                        if let Err(e) = store
                            .record_code_scans(Actor("system:scan-counter".into()), &batch)
                            .await
                        {
                            tracing::warn!(error = %e, "flushing scan counts");
                        }
                    });
                }
                data = Some(d);
            }
            _ => verdict = Verdict::StatusUnknown,
        }
    }
    let v = shown(&verdict, data.as_ref().map(|d| &d.code));
    let link_header = format!(
        "<{}{}?s={}&linkType=linkset>; rel=\"linkset\"; type=\"application/linkset+json\"",
        resolver.base_url(),
        path,
        sig
    );
    let mut resp = match repr {
        Repr::Html => {
            let page = ScanPage {
                tr: auth.tr,
                c: Chrome::new(auth, state),
                lot,
                serial,
                path: path.to_string(),
                s: sig.clone(),
                cities: reference::cities(),
                loc_saved: q.loc.is_some(),
                data: data.map(|d| (*d).clone()),
                v,
            };
            let status = page.v.status;
            let mut r = render(&page, auth, uri);
            *r.status_mut() = status;
            r
        }
        Repr::Json => {
            let body = scan_json(&v, data.as_deref(), &full);
            (v.status, Json(body)).into_response()
        }
        Repr::Linkset => {
            let body = linkset(&full, resolver, path, &sig, &v, data.as_deref());
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

fn pct(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn scan_json(v: &Shown, data: Option<&ScanData>, uri: &str) -> Value {
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
            "status_list": format!("/status/{}", d.code.status_index / i64::from(yuepin_code::LIST_CAPACITY)),
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
    resolver: &Resolver,
    path: &str,
    sig: &str,
    v: &Shown,
    data: Option<&ScanData>,
) -> Value {
    let base = resolver.base_url();
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
            json!([{"href": format!("{base}/status/{}", d.code.status_index / i64::from(yuepin_code::LIST_CAPACITY)), "type": "application/statuslist+jwt"}]),
        );
    }
    json!({"linkset": [Value::Object(set)]})
}

// ---------------------------------------------------------------------------------------------
// API: applications and approval.

#[derive(Deserialize)]
struct ApplyInput {
    product_id: i64,
    #[serde(default)]
    lot: Option<String>,
    quantity: i64,
    #[serde(default)]
    note: String,
}

async fn apply(state: &AppState, auth: &Auth, input: ApplyInput) -> WebResult<ApplicationRecord> {
    let user = auth.require_role(&[Role::Enterprise, Role::Regulator])?;
    let product = state
        .store
        .product(input.product_id)
        .await
        .map_err(|_| WebError::field("product_id", "产品不存在 (no such product)"))?;
    if user.role == Role::Enterprise && user.enterprise_id != Some(product.enterprise_id) {
        // Same answer as for a missing product: do not reveal other tenants' products.
        return Err(WebError::field(
            "product_id",
            "产品不存在 (no such product)",
        ));
    }
    let lot = match input.lot.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l) => Some(
            yuepin_code::Lot::parse(l)
                .map_err(|e| WebError::field("lot", e.to_string()))?
                .as_str()
                .to_string(),
        ),
    };
    let rule = state.store.code_approval_rule().await?;
    if input.quantity < 1 || input.quantity > rule.max_quantity {
        return Err(WebError::field(
            "quantity",
            format!(
                "数量须为 1–{} (quantity must be 1 to {})",
                rule.max_quantity, rule.max_quantity
            ),
        ));
    }
    let note: String = input.note.trim().chars().take(500).collect();
    Ok(state
        .store
        .apply_for_codes(
            auth.actor(),
            product.enterprise_id,
            product.id,
            lot.as_deref(),
            input.quantity,
            &note,
            crate::today(),
        )
        .await?)
}

async fn api_apply(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<ApplyInput>,
) -> WebResult<Response> {
    let app = apply(&state, &auth, input).await?;
    Ok((StatusCode::CREATED, Json(json!(app))).into_response())
}

#[derive(Deserialize, Default)]
struct AppListQuery {
    #[serde(default)]
    status: String,
}

async fn visible_applications(
    state: &AppState,
    auth: &Auth,
    status: &str,
) -> WebResult<Vec<ApplicationRecord>> {
    let user = auth.require_role(&[Role::Enterprise, Role::Regulator])?;
    let scope = match user.role {
        Role::Regulator => None,
        _ => Some(user.enterprise_id.unwrap_or(-1)),
    };
    let status = match status.trim() {
        "" => None,
        s @ ("pending" | "approved" | "rejected") => Some(s),
        _ => {
            return Err(WebError::field(
                "status",
                "须为 pending/approved/rejected (must be pending, approved or rejected)",
            ))
        }
    };
    Ok(state.store.code_applications(scope, status, 500).await?)
}

async fn api_list_applications(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AppListQuery>,
) -> WebResult<Json<Value>> {
    Ok(Json(json!(
        visible_applications(&state, &auth, &q.status).await?
    )))
}

async fn readable_application(
    state: &AppState,
    auth: &Auth,
    id: i64,
) -> WebResult<ApplicationRecord> {
    auth.require_role(&[Role::Enterprise, Role::Regulator])?;
    let app = state.store.code_application(id).await?;
    if !auth.can_read_enterprise(app.enterprise_id) {
        return Err(WebError::NotFound(format!("code application #{id}")));
    }
    Ok(app)
}

async fn api_application(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    Ok(Json(json!(readable_application(&state, &auth, id).await?)))
}

#[derive(Deserialize)]
struct DecisionInput {
    approve: bool,
    #[serde(default)]
    reason: String,
}

async fn decide(
    state: &AppState,
    auth: &Auth,
    id: i64,
    input: DecisionInput,
) -> WebResult<ApplicationRecord> {
    auth.require_role(&[Role::Regulator])?;
    let reason: String = input.reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(WebError::field(
            "reason",
            "请填写理由 (a reason is required)",
        ));
    }
    Ok(state
        .store
        .decide_code_application(auth.actor(), id, input.approve, &reason)
        .await?)
}

async fn api_decide(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> WebResult<Json<Value>> {
    Ok(Json(json!(decide(&state, &auth, id, input).await?)))
}

async fn api_get_rule(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    auth.require_user()?;
    Ok(Json(json!(state.store.code_approval_rule().await?)))
}

async fn api_put_rule(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(rule): ApiJson<yuepin_store::codes::ApprovalRule>,
) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    if rule.lookback_months > 120 || rule.max_quantity < 1 {
        return Err(WebError::field(
            "lookback_months",
            "0–120 months, max_quantity ≥ 1",
        ));
    }
    state
        .store
        .set_code_setting(auth.actor(), "approval_rule", &json!(rule))
        .await?;
    Ok(Json(json!(rule)))
}

async fn api_get_signal_rule(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    Ok(Json(json!(state.store.code_signal_rule().await?)))
}

async fn api_put_signal_rule(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(rule): ApiJson<yuepin_store::codes::SignalRule>,
) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    state
        .store
        .set_code_setting(auth.actor(), "signal_rule", &json!(rule))
        .await?;
    Ok(Json(json!(rule)))
}

async fn api_series(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Enterprise, Role::Regulator])?;
    let series = state.store.code_series(id).await?;
    if !auth.can_read_enterprise(series.enterprise_id) {
        return Err(WebError::NotFound(format!("code series #{id}")));
    }
    let sample = state.store.codes_of_series(id, 20).await?;
    Ok(Json(json!({"series": series, "first_codes": sample})))
}

#[derive(Deserialize)]
struct IssueInput {
    count: i64,
}

/// The batch spec for a product's codes on this server's resolver.
pub fn batch_spec(
    resolver: &Resolver,
    product: &ProductRecord,
    lot: Option<&str>,
    today: NaiveDate,
) -> WebResult<yuepin_code::BatchSpec> {
    let subject = match &product.product.gtin {
        Some(g) => yuepin_code::Subject::Gtin(g.clone()),
        None => yuepin_code::Subject::Product(
            yuepin_code::ProductId::parse(&product.id.to_string())
                .map_err(|e| WebError::Internal(e.to_string()))?,
        ),
    };
    Ok(yuepin_code::BatchSpec {
        resolver: resolver.clone(),
        subject,
        lot: lot
            .map(yuepin_code::Lot::parse)
            .transpose()
            .map_err(|e| WebError::field("lot", e.to_string()))?,
        issued_on: today,
    })
}

/// Issues codes of an approved series (owner enterprise or regulator); answers with the CSV.
async fn api_issue(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<IssueInput>,
) -> WebResult<Response> {
    auth.require_role(&[Role::Enterprise, Role::Regulator])?;
    let series = state.store.code_series(id).await?;
    if !auth.can_read_enterprise(series.enterprise_id) {
        return Err(WebError::NotFound(format!("code series #{id}")));
    }
    if !(1..=10_000).contains(&input.count) {
        return Err(WebError::field(
            "count",
            "每次 1–10000 个,更多请用命令行 (1 to 10000 per request; use the CLI for more)",
        ));
    }
    let product = state.store.product(series.product_id).await?;
    let m = &state.modules.codes;
    let l = m.loaded()?;
    let spec = batch_spec(
        m.resolver()?,
        &product,
        series.lot.as_deref(),
        crate::today(),
    )?;
    let key = l
        .ring
        .active()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
    let codes = state
        .store
        .issue_codes(auth.actor(), id, input.count as usize, &spec, key, &mut rng)
        .await?;
    let mut csv = Vec::new();
    yuepin_code::write_csv(&codes, &mut csv).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"codes-series-{id}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Revocation.

#[derive(Deserialize)]
struct StatusInput {
    /// code / lot / product / enterprise
    scope: String,
    /// revoke / suspend / reinstate / recall
    action: String,
    #[serde(default)]
    reason: String,
    /// For scope code: the code's full URI, or its id.
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    code_id: Option<i64>,
    #[serde(default)]
    product_id: Option<i64>,
    #[serde(default)]
    lot: Option<String>,
    #[serde(default)]
    uscc: Option<String>,
}

/// Finds the stored code a full URI names (regardless of its status or signature validity).
async fn code_of_uri(state: &AppState, uri: &str) -> WebResult<CodeRecord> {
    let parsed = yuepin_code::SignedUri::parse(uri.trim())
        .map_err(|e| WebError::field("uri", e.to_string()))?;
    let subject = yuepin_store::codes::subject_key(&parsed.code.subject);
    state
        .store
        .code_by_serial(&subject, parsed.code.serial.as_str())
        .await?
        .ok_or_else(|| WebError::NotFound("未知的码 (unknown code)".into()))
}

async fn change_status(state: &AppState, auth: &Auth, input: StatusInput) -> WebResult<Value> {
    auth.require_role(&[Role::Regulator])?;
    let status = match input.action.trim() {
        "reinstate" => 0,
        "suspend" => 1,
        "revoke" => 2,
        "recall" => 3,
        _ => return Err(WebError::field(
            "action",
            "须为 revoke/suspend/reinstate/recall (must be revoke, suspend, reinstate or recall)",
        )),
    };
    let reason: String = input.reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(WebError::field(
            "reason",
            "请填写理由 (a reason is required)",
        ));
    }
    let scope = match input.scope.trim() {
        "code" => {
            let id = match (input.code_id, input.uri.as_deref()) {
                (Some(id), _) => state.store.code_by_id(id).await?.id,
                (None, Some(u)) if !u.trim().is_empty() => code_of_uri(state, u).await?.id,
                _ => {
                    return Err(WebError::field(
                        "uri",
                        "请提供码的URI (give the code's URI)",
                    ))
                }
            };
            StatusScope::Code { code_id: id }
        }
        "lot" => {
            let product_id = input
                .product_id
                .ok_or_else(|| WebError::field("product_id", "required"))?;
            let lot = input
                .lot
                .clone()
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(|| WebError::field("lot", "required"))?;
            state.store.product(product_id).await?;
            StatusScope::Lot {
                product_id,
                lot: lot.trim().to_string(),
            }
        }
        "product" => {
            let product_id = input
                .product_id
                .ok_or_else(|| WebError::field("product_id", "required"))?;
            state.store.product(product_id).await?;
            StatusScope::Product { product_id }
        }
        "enterprise" => {
            let uscc = input
                .uscc
                .clone()
                .ok_or_else(|| WebError::field("uscc", "required"))?;
            let e = state.store.enterprise_by_uscc(uscc.trim()).await?;
            StatusScope::Enterprise {
                enterprise_id: e.id,
            }
        }
        _ => {
            return Err(WebError::field(
                "scope",
                "须为 code/lot/product/enterprise (must be code, lot, product or enterprise)",
            ))
        }
    };
    let changed = state
        .store
        .set_code_status(auth.actor(), &scope, status, &reason, crate::today())
        .await?;
    state.modules.codes.invalidate_codes();
    Ok(json!({"changed": changed, "scope": scope, "action": input.action.trim(), "reason": reason}))
}

async fn api_status(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<StatusInput>,
) -> WebResult<Json<Value>> {
    Ok(Json(change_status(&state, &auth, input).await?))
}

// ---------------------------------------------------------------------------------------------
// Counterfeit signals.

async fn api_signals(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    state.modules.codes.flush_scans(&state.store).await?;
    Ok(Json(json!({
        "flags": state.store.code_flags(200).await?,
        "rule": state.store.code_signal_rule().await?,
    })))
}

async fn api_code_scans(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    state.modules.codes.flush_scans(&state.store).await?;
    let code = state.store.code_by_id(id).await?;
    Ok(Json(
        json!({"code": code, "scans": state.store.code_scans(id).await?}),
    ))
}

// ---------------------------------------------------------------------------------------------
// Pages.

#[derive(Template)]
#[template(path = "codes/home.html")]
struct CodesPage {
    tr: Tr,
    c: Chrome,
    regulator: bool,
    apps: Vec<ApplicationRecord>,
    products: Vec<ProductRecord>,
    series: Vec<yuepin_store::codes::SeriesRecord>,
    counts: [i64; 4],
    samples: Vec<CodeRecord>,
    message: String,
}

#[derive(Deserialize, Default)]
struct MsgQuery {
    #[serde(default)]
    msg: String,
}

async fn codes_page(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<MsgQuery>,
) -> Response {
    let result: WebResult<Response> = async {
        let user = auth.require_role(&[Role::Enterprise, Role::Regulator])?;
        let regulator = user.role == Role::Regulator;
        let apps = visible_applications(&state, &auth, "").await?;
        let (products, series) = match (regulator, user.enterprise_id) {
            (false, Some(eid)) => (
                state.store.products_of(eid).await?,
                state.store.code_series_of_enterprise(eid).await?,
            ),
            _ => (Vec::new(), Vec::new()),
        };
        let (counts, samples) = if regulator {
            (
                state.store.code_counts().await?,
                state.store.sample_codes(2).await?,
            )
        } else {
            ([0; 4], Vec::new())
        };
        let page = CodesPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            regulator,
            apps,
            products,
            series,
            counts,
            samples,
            message: q.msg.chars().take(200).collect(),
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

#[derive(Deserialize)]
struct ApplyForm {
    #[serde(default)]
    csrf: String,
    product_id: String,
    #[serde(default)]
    lot: String,
    quantity: String,
    #[serde(default)]
    note: String,
}

fn back(msg: &str) -> Response {
    Redirect::to(&format!("/codes?msg={}", crate::page::urlencode(msg))).into_response()
}

async fn page_apply(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<ApplyForm>,
) -> Response {
    let result: WebResult<Response> =
        async {
            auth.check_csrf(Some(&f.csrf))?;
            let input =
                ApplyInput {
                    product_id: f.product_id.trim().parse().map_err(|_| {
                        WebError::field("product_id", "请选择产品 (choose a product)")
                    })?,
                    lot: Some(f.lot),
                    quantity: f.quantity.trim().parse().map_err(|_| {
                        WebError::field("quantity", "须为整数 (must be a whole number)")
                    })?,
                    note: f.note,
                };
            let app = apply(&state, &auth, input).await?;
            Ok(back(&format!(
                "{} #{} — {}",
                auth.tr.t("已提交申请", "Application filed"),
                app.id,
                app.status
            )))
        }
        .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

#[derive(Deserialize)]
struct DecideForm {
    #[serde(default)]
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn page_decide(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    let result: WebResult<Response> = async {
        auth.check_csrf(Some(&f.csrf))?;
        let approve = f.decision == "approve";
        let reason = if f.reason.trim().is_empty() && approve {
            "同意 (approved)".to_string()
        } else {
            f.reason
        };
        let app = decide(&state, &auth, id, DecisionInput { approve, reason }).await?;
        Ok(back(&format!("#{} {}", app.id, app.status)))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    csrf: String,
    scope: String,
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    lot: String,
}

async fn page_status(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<StatusForm>,
) -> Response {
    let result: WebResult<Response> = async {
        auth.check_csrf(Some(&f.csrf))?;
        let target = f.target.trim().to_string();
        let input = StatusInput {
            scope: f.scope.clone(),
            action: f.action.clone(),
            reason: f.reason,
            uri: (f.scope == "code").then(|| target.clone()),
            code_id: None,
            product_id: matches!(f.scope.as_str(), "lot" | "product")
                .then(|| target.parse().ok())
                .flatten(),
            lot: Some(f.lot),
            uscc: (f.scope == "enterprise").then(|| target.clone()),
        };
        let out = change_status(&state, &auth, input).await?;
        Ok(back(&format!(
            "{} {} — {}",
            f.action, f.scope, out["changed"]
        )))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

#[derive(Template)]
#[template(path = "codes/signals.html")]
struct SignalsPage {
    tr: Tr,
    c: Chrome,
    flags: Vec<(yuepin_store::codes::FlagRecord, String)>,
    rule: yuepin_store::codes::SignalRule,
}

async fn signals_page(State(state): State<AppState>, auth: Auth, uri: Uri) -> Response {
    let result: WebResult<Response> = async {
        auth.require_role(&[Role::Regulator])?;
        state.modules.codes.flush_scans(&state.store).await?;
        let flags = state
            .store
            .code_flags(200)
            .await?
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
            rule: state.store.code_signal_rule().await?,
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    result.unwrap_or_else(|e| page_error(e, &auth, &state, &uri))
}

fn describe_evidence(evidence: &Value, tr: Tr) -> String {
    let mut parts = Vec::new();
    if let Some(scans) = evidence.get("scans").and_then(Value::as_i64) {
        parts.push(format!("{} {scans}", tr.t("扫码次数", "scans")));
    }
    if let Some(cities) = evidence.get("cities").and_then(Value::as_object) {
        let list: Vec<String> = cities
            .iter()
            .map(|(code, n)| {
                let name = reference::find_city(code)
                    .map(|c| tr.t(&c.name_zh, &c.name_en).to_string())
                    .unwrap_or_else(|| code.clone());
                format!("{name}×{}", n.as_i64().unwrap_or(0))
            })
            .collect();
        parts.push(format!("{}: {}", tr.t("城市", "cities"), list.join("、")));
    }
    if let Some(limit) = evidence.get("limit").and_then(Value::as_i64) {
        parts.push(format!("{} {limit}", tr.t("阈值", "limit")));
    }
    parts.join(" · ")
}
