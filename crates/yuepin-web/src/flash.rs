//! The banner after a form's redirect. The address names one of a fixed set of message keys
//! (`?msg=booked`) and at most a few record numbers (`&ref=12,13`); the text comes from here,
//! in the page's language, so no text from an address ever appears on a page (a link such as
//! `/labs?msg=请拨打…` shows nothing).

use crate::i18n::Tr;
use axum::response::Response;
use serde::Deserialize;

/// What a form did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flash {
    Booked,
    Waitlisted,
    BookingUpdated,
    OrderPlaced,
    OrderUpdated,
    ApplicationFiled,
    ApplicationDecided,
    /// The reference is the number of codes whose status changed.
    StatusChanged,
    IdentityRequested,
    IdentityApproved,
    IdentityRejected,
    /// A consent was paused, resumed or revoked (credit).
    ConsentUpdated,
    /// An enterprise granted a bank a consent (credit).
    ConsentGranted,
    /// A declared fact was confirmed by the responsible unit.
    FactConfirmed,
}

const ALL: [Flash; 14] = [
    Flash::Booked,
    Flash::Waitlisted,
    Flash::BookingUpdated,
    Flash::OrderPlaced,
    Flash::OrderUpdated,
    Flash::ApplicationFiled,
    Flash::ApplicationDecided,
    Flash::StatusChanged,
    Flash::IdentityRequested,
    Flash::IdentityApproved,
    Flash::IdentityRejected,
    Flash::ConsentUpdated,
    Flash::ConsentGranted,
    Flash::FactConfirmed,
];

/// At most this many record numbers are shown.
const MAX_REFS: usize = 10;

impl Flash {
    pub fn key(self) -> &'static str {
        match self {
            Flash::Booked => "booked",
            Flash::Waitlisted => "waitlisted",
            Flash::BookingUpdated => "booking_updated",
            Flash::OrderPlaced => "order_placed",
            Flash::OrderUpdated => "order_updated",
            Flash::ApplicationFiled => "application_filed",
            Flash::ApplicationDecided => "application_decided",
            Flash::StatusChanged => "status_changed",
            Flash::IdentityRequested => "identity_requested",
            Flash::IdentityApproved => "identity_approved",
            Flash::IdentityRejected => "identity_rejected",
            Flash::FactConfirmed => "fact_confirmed",
            Flash::ConsentUpdated => "consent_updated",
            Flash::ConsentGranted => "consent_granted",
        }
    }

    pub fn parse(key: &str) -> Option<Flash> {
        ALL.into_iter().find(|f| f.key() == key)
    }

    fn text(self, tr: Tr, refs: &[u64]) -> String {
        let numbers = refs
            .iter()
            .map(|n| format!("#{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let (zh, en) = match self {
            Flash::Booked => ("预约成功", "Booked"),
            Flash::Waitlisted => ("已加入候补", "Joined the waitlist"),
            Flash::BookingUpdated => ("预约已更新", "Booking updated"),
            Flash::OrderPlaced => ("已委托", "Order placed"),
            Flash::OrderUpdated => ("委托已更新", "Order updated"),
            Flash::ApplicationFiled => ("已提交申请", "Application filed"),
            Flash::ApplicationDecided => ("申请已处理", "Application decided"),
            Flash::IdentityRequested => (
                "变更申请已提交，待监管部门审核；审核通过前扫码页仍显示原名称和地区",
                "Change requested; until a regulator approves it, scans show the current name and region",
            ),
            Flash::IdentityApproved => ("变更已核准并生效", "Change approved and applied"),
            Flash::IdentityRejected => ("变更申请已驳回", "Change request rejected"),
            Flash::FactConfirmed => ("已核实，该事实现可用于资金类规则", "Confirmed; money rules now use the fact"),
            Flash::ConsentUpdated => ("授权已更新", "Consent updated"),
            Flash::ConsentGranted => ("授权已签发", "Consent granted"),
            Flash::StatusChanged => {
                let n = refs.first().copied().unwrap_or(0);
                return match tr.is_en() {
                    true => format!("Status changed: {n} code(s)"),
                    false => format!("状态已更改：{n} 个码"),
                };
            }
        };
        let head = tr.t(zh, en);
        if numbers.is_empty() {
            head.to_string()
        } else {
            format!("{head} {numbers}")
        }
    }
}

/// A 303 to `path` (a local path, `crate::redirect`) naming `flash` and `refs`.
pub fn redirect(path: &str, flash: Flash, refs: &[i64]) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut to = format!("{path}{sep}msg={}", flash.key());
    let refs: Vec<String> = refs.iter().take(MAX_REFS).map(i64::to_string).collect();
    if !refs.is_empty() {
        to.push_str("&ref=");
        to.push_str(&refs.join(","));
    }
    crate::redirect::see_other(&to)
}

/// The query of a page that shows the banner.
#[derive(Debug, Deserialize, Default)]
pub struct FlashQuery {
    #[serde(default)]
    msg: String,
    #[serde(default, rename = "ref")]
    refs: String,
}

impl FlashQuery {
    /// The banner's text in the page's language; empty for no or an unknown key.
    pub fn text(&self, tr: Tr) -> String {
        let Some(flash) = Flash::parse(&self.msg) else {
            return String::new();
        };
        let refs: Vec<u64> = self
            .refs
            .split(',')
            .filter_map(|s| s.parse().ok())
            .take(MAX_REFS)
            .collect();
        flash.text(tr, &refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn q(msg: &str, refs: &str) -> FlashQuery {
        FlashQuery {
            msg: msg.into(),
            refs: refs.into(),
        }
    }

    #[test]
    fn only_known_keys_and_numbers_are_shown() {
        let zh = Tr { lang: Lang::Zh };
        let en = Tr { lang: Lang::En };
        assert_eq!(q("booked", "12,13").text(zh), "预约成功 #12, #13");
        assert_eq!(q("booked", "12,<b>x</b>").text(en), "Booked #12");
        assert_eq!(q("请拨打400-123", "").text(zh), "");
        assert_eq!(
            q("status_changed", "3").text(en),
            "Status changed: 3 code(s)"
        );
        for f in ALL {
            assert_eq!(Flash::parse(f.key()), Some(f));
        }
    }
}
