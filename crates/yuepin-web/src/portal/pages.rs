//! The home page (the policy, its validity and the measures by group) and the measure pages.

use crate::cx::Cx;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::page::{page_error, render, Chrome};
use askama::Template;
use axum::extract::Path;
use axum::http::Uri;
use axum::response::Response;
use yuepin_domain::reference::{self, MeasureInfo};

struct Group {
    numeral: &'static str,
    title: String,
    measures: Vec<&'static MeasureInfo>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    tr: Tr,
    c: Chrome,
    number: &'static str,
    title_zh: &'static str,
    title_en: &'static str,
    from: String,
    until: String,
    today: String,
    in_force: bool,
    issuers: &'static str,
    groups: Vec<Group>,
}

pub const ISSUING_UNITS: &str = "省市场监管局、省发展改革委、省科技厅、省工业和信息化厅、省财政厅、省人力资源社会保障厅、省商务厅、省文化和旅游厅、省国资委、省地方金融监管局、省政务服务数据管理局、国家税务总局广东省税务局、中国人民银行广东省分行、国家金融监督管理总局广东监管局";

pub(super) async fn home(Cx { state, auth }: Cx, uri: Uri) -> Response {
    const NUMERALS: [&str; 5] = ["一", "二", "三", "四", "五"];
    let mut groups: Vec<Group> = Vec::new();
    for m in reference::measures() {
        let idx = usize::from(m.group) - 1;
        if groups.len() <= idx {
            groups.push(Group {
                numeral: NUMERALS.get(idx).copied().unwrap_or(""),
                title: m.group_zh.clone(),
                measures: vec![],
            });
        }
        groups[idx].measures.push(m);
    }
    let today = state.modules.policy.today();
    let page = HomePage {
        tr: auth.tr,
        c: Chrome::new(&auth, &state),
        number: reference::POLICY_NUMBER,
        title_zh: reference::POLICY_TITLE_ZH,
        title_en: reference::POLICY_TITLE_EN,
        from: reference::policy_effective_from().to_string(),
        until: reference::policy_effective_until().to_string(),
        today: today.to_string(),
        in_force: reference::policy_effective_from() <= today
            && today <= reference::policy_effective_until(),
        issuers: ISSUING_UNITS,
        groups,
    };
    render(&page, &auth, &uri)
}

#[derive(Template)]
#[template(path = "measure.html")]
struct MeasurePage {
    tr: Tr,
    c: Chrome,
    m: &'static MeasureInfo,
    clause: &'static str,
    /// 有效 / 将于…失效 / 已于…失效 / 已由《…》替代, on the server's date.
    status_zh: String,
    status_en: String,
}

pub(super) async fn measure(Cx { state, auth }: Cx, uri: Uri, Path(n): Path<String>) -> Response {
    let found = n
        .parse::<u8>()
        .ok()
        .and_then(|n| reference::measures().iter().find(|m| m.number == n));
    match found {
        Some(m) => {
            let policy = &state.modules.policy;
            let set = policy.set();
            let status = set
                .measures()
                .iter()
                .position(|x| x.pack == 0 && x.number == u16::from(m.number))
                .and_then(|i| yuepin_policy::status::measure_status(set, i, policy.today()))
                .map(|s| s.label())
                .unwrap_or_else(|| yuepin_policy::Label::new("", ""));
            let page = MeasurePage {
                status_zh: status.zh,
                status_en: status.en,
                tr: auth.tr,
                c: Chrome::new(&auth, &state),
                m,
                clause: reference::measure_clause(m.number).unwrap_or(""),
            };
            render(&page, &auth, &uri)
        }
        None => page_error(
            WebError::NotFound(format!("措施 {n} 不存在 (no measure {n})")),
            &auth,
            &state,
            &uri,
        ),
    }
}
