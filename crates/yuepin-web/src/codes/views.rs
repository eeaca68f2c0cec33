//! What the codes pages show: the verdict as worded for people (titles, details, tone, HTTP
//! status), the scan page's view of a code's data, the templates of the scan page, the codes
//! home page and the counterfeit signals page, and the wording of a flag's evidence.

use crate::i18n::Tr;
use crate::page::Chrome;
use askama::Template;
use axum::http::StatusCode;
use serde_json::Value;
use yuepin_code::{CodeStatus, Verdict};
use yuepin_codes_service::{
    ApplicationRecord, ApplicationStatus, CodeRecord, FlagRecord, ScanData, SeriesRecord,
    SignalRule, StatusCounts,
};
use yuepin_domain::reference;
use yuepin_enterprises_service::ProductRecord;

/// The verdict as shown and sent.
pub(super) struct Shown {
    pub key: &'static str,
    pub status: StatusCode,
    pub title_zh: String,
    pub title_en: String,
    pub detail_zh: String,
    pub detail_en: String,
    pub tone: &'static str,
    pub reason: Option<String>,
    pub since: Option<String>,
    pub age_seconds: Option<i64>,
}

pub(super) fn shown(verdict: &Verdict, code: Option<&CodeRecord>) -> Shown {
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
    let reason = code.and_then(|c| c.status_reason.clone());
    let since = code.and_then(|c| c.status_since.map(|d| d.to_string()));
    match verdict {
        Verdict::Valid => mk(
            "valid",
            StatusCode::OK,
            "正品 · 有效",
            "Genuine and valid",
            "签名验证通过，该码由广东省市场监管局粤品通平台签发，当前状态有效。".into(),
            "The signature verifies: this code was issued by the Yuepin platform and is currently valid.".into(),
            "ok",
        ),
        Verdict::Revoked { .. } => {
            let mut s = mk(
                "revoked",
                StatusCode::GONE,
                "已撤销",
                "Revoked",
                format!(
                    "该码已于 {} 被撤销。原因：{}",
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
            let mut s = mk(
                "suspended",
                StatusCode::OK,
                "已暂停",
                "Suspended",
                format!(
                    "该码自 {} 起暂停使用，原因：{}。请暂勿依赖本码信息。",
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
            let mut s = mk(
                "recalled",
                StatusCode::OK,
                "产品已召回",
                "Product recalled",
                format!(
                    "该产品自 {} 起召回，原因：{}。请停止使用并联系生产者。",
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
            "该码的数字签名与内容不符，可能被篡改或仿冒。请勿相信本页以外的任何信息，并向12315投诉。".into(),
            "The code's digital signature does not match its content: it may be forged or altered. Report it to 12315.".into(),
            "bad",
        ),
        Verdict::KeyWithdrawn => mk(
            "key_withdrawn",
            StatusCode::OK,
            "签发密钥已撤回",
            "Signing key withdrawn",
            "签发该码的密钥已被撤回，该码不再可信。".into(),
            "The key that signed this code was withdrawn; the code can no longer be trusted.".into(),
            "bad",
        ),
        Verdict::StatusStale { age } => {
            let mut s = mk(
                "status_stale",
                StatusCode::OK,
                "状态信息已过期",
                "Status information stale",
                format!("签名有效，但状态信息已有 {} 秒未更新。", age.num_seconds()),
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
            format!("这不是有效的粤品通码：{reason}"),
            format!("This is not a valid Yuepin code: {reason}"),
            "bad",
        ),
    }
}

/// A genuine code that verified against the platform address it was issued for, not this
/// server's current one (a demo started on another port, a moved domain): never "counterfeit".
/// A valid code gets its own verdict; other statuses keep theirs with the address named.
pub(super) fn issued_elsewhere(mut v: Shown, issued_for: &str) -> Shown {
    let note_zh = format!(
        "该码签发时的核验网址是 {issued_for},与您现在打开的网址不同；码的签名与状态已按签发网址核对。"
    );
    let note_en = format!(
        "This code was issued for {issued_for}, not the address you opened; its signature and status were checked against that address."
    );
    if v.key == "valid" {
        v.key = "valid_other_address";
        v.title_zh = "正品 · 签发网址不同".into();
        v.title_en = "Genuine — issued for another address".into();
        v.detail_zh = format!("{note_zh}当前状态有效。如对购买渠道有疑问，可拨打12315。");
        v.detail_en = format!(
            "{note_en} It is currently valid. If you doubt where you bought it, call 12315."
        );
        v.tone = "warn";
    } else {
        v.detail_zh = format!("{}{note_zh}", v.detail_zh);
        v.detail_en = format!("{} {note_en}", v.detail_en);
    }
    v
}

/// A code's scan data as the scan page and its JSON word it.
#[derive(Clone)]
pub(super) struct ScanView {
    pub code: CodeRecord,
    pub product: ProductRecord,
    pub enterprise_name: String,
    pub uscc: String,
    pub city_zh: String,
    pub city_en: String,
    /// (date, passed, agency or "agency: failed items").
    pub inspections: Vec<(String, bool, String)>,
    pub certifications: Vec<String>,
    pub awards: Vec<String>,
    pub complaints: i64,
}

impl From<&ScanData> for ScanView {
    fn from(d: &ScanData) -> Self {
        Self {
            code: d.code.clone(),
            product: d.product.clone(),
            enterprise_name: d.enterprise_name.clone(),
            uscc: d.uscc.clone(),
            city_zh: d.city.name_zh.clone(),
            city_en: d.city.name_en.clone(),
            inspections: d
                .inspections
                .iter()
                .map(|i| {
                    let detail = if i.pass {
                        i.agency.clone()
                    } else {
                        format!("{}: {}", i.agency, i.failed_items.join("、"))
                    };
                    (i.date.to_string(), i.pass, detail)
                })
                .collect(),
            certifications: d
                .certifications
                .iter()
                .map(|c| {
                    format!(
                        "{} {} ({} — {})",
                        c.scheme, c.number, c.valid_from, c.valid_until
                    )
                })
                .collect(),
            awards: d
                .awards
                .iter()
                .map(|a| format!("{} ({}) {}", a.name, a.level, a.date))
                .collect(),
            complaints: d.complaints_12m,
        }
    }
}

#[derive(Template)]
#[template(path = "codes/scan.html")]
pub(super) struct ScanPage {
    pub tr: Tr,
    pub c: Chrome,
    pub v: Shown,
    pub data: Option<ScanView>,
    pub lot: String,
    pub serial: String,
    pub path: String,
    pub s: String,
    pub cities: &'static [reference::City],
    pub loc_saved: bool,
}

impl ScanPage {
    fn title(&self) -> &str {
        self.tr.t(&self.v.title_zh, &self.v.title_en)
    }
    fn detail(&self) -> &str {
        self.tr.t(&self.v.detail_zh, &self.v.detail_en)
    }
}

#[derive(Template)]
#[template(path = "codes/home.html")]
pub(super) struct CodesPage {
    pub tr: Tr,
    pub c: Chrome,
    pub regulator: bool,
    pub apps: Vec<ApplicationRecord>,
    pub products: Vec<ProductRecord>,
    pub series: Vec<SeriesRecord>,
    pub counts: StatusCounts,
    pub samples: Vec<CodeRecord>,
    pub message: String,
}

impl CodesPage {
    fn is_pending(&self, a: &ApplicationRecord) -> bool {
        a.status == ApplicationStatus::Pending
    }
    /// An application's status in the page's language.
    fn app_status(&self, a: &ApplicationRecord) -> &'static str {
        match a.status {
            ApplicationStatus::Pending => self.tr.t("待审核", "pending"),
            ApplicationStatus::Approved => self.tr.t("已批准", "approved"),
            ApplicationStatus::Rejected => self.tr.t("已驳回", "rejected"),
        }
    }
    /// The status word of a sample code.
    fn status_word(&self, s: &CodeRecord) -> &'static str {
        match s.status {
            CodeStatus::Valid => self.tr.t("有效", "valid"),
            CodeStatus::Suspended => self.tr.t("暂停", "suspended"),
            CodeStatus::Revoked => self.tr.t("撤销", "revoked"),
            CodeStatus::Recalled => self.tr.t("召回", "recalled"),
        }
    }
}

/// One downloadable part of a series (at most `LABELS_PER_FILE` codes).
pub(super) struct Part {
    pub from: usize,
    pub to: usize,
}

#[derive(Template)]
#[template(path = "codes/series.html")]
pub(super) struct SeriesPage {
    pub tr: Tr,
    pub c: Chrome,
    pub detail: yuepin_codes_service::SeriesDetail,
    pub remaining: i64,
    /// Largest count one issue on the web may ask for.
    pub max_count: i64,
    /// The issue form's count as typed (kept after an error).
    pub count: String,
    pub error: Option<String>,
    /// Codes just issued (after a successful issue).
    pub issued_now: Option<usize>,
    pub parts: Vec<Part>,
    /// Percentage of the approved quantity issued (for the progress bar).
    pub percent: i64,
}

impl SeriesPage {
    fn status_word(&self, s: &CodeRecord) -> &'static str {
        match s.status {
            CodeStatus::Valid => self.tr.t("有效", "valid"),
            CodeStatus::Suspended => self.tr.t("暂停", "suspended"),
            CodeStatus::Revoked => self.tr.t("撤销", "revoked"),
            CodeStatus::Recalled => self.tr.t("召回", "recalled"),
        }
    }
}

#[derive(Template)]
#[template(path = "codes/signals.html")]
pub(super) struct SignalsPage {
    pub tr: Tr,
    pub c: Chrome,
    pub flags: Vec<(FlagRecord, String)>,
    pub rule: SignalRule,
}

/// A flag's evidence in words: scans, cities with their counts, the rule's limit.
pub(super) fn describe_evidence(evidence: &Value, tr: Tr) -> String {
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
