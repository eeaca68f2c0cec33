//! Wording and drawing for the hospital pages: states, priorities, SLA target states, message
//! sides and routing reasons in the page's language (never a raw enum or region code on a zh
//! page), and the server-drawn SVG bar chart of the statistics page.

use crate::i18n::Tr;
use yuepin_domain::RegionCode;
use yuepin_hospital::Reason;
use yuepin_hospital_service::{CaseState, Priority, Side, SlaView, TargetKind, TargetState};

pub(super) fn state(tr: Tr, s: CaseState) -> &'static str {
    tr.t(s.name_zh(), s.name_en())
}

pub(super) fn priority(tr: Tr, p: Priority) -> &'static str {
    tr.t(p.name_zh(), p.name_en())
}

pub(super) fn target(tr: Tr, k: TargetKind) -> &'static str {
    match k {
        TargetKind::FirstResponse => tr.t("首次响应", "First response"),
        TargetKind::Resolution => tr.t("解决", "Resolution"),
    }
}

pub(super) fn target_state(tr: Tr, s: TargetState) -> &'static str {
    match s {
        TargetState::OnTrack => tr.t("正常", "On track"),
        TargetState::DueSoon => tr.t("即将到期", "Due soon"),
        TargetState::Paused => tr.t(
            "已暂停（待企业回复）",
            "Paused (waiting for the enterprise)",
        ),
        TargetState::Breached => tr.t("已超时", "Breached"),
        TargetState::Met => tr.t("已达成", "Met"),
    }
}

/// The CSS class a target state is shown with.
pub(super) fn target_class(s: TargetState) -> &'static str {
    match s {
        TargetState::Breached => "bad",
        TargetState::DueSoon => "warn",
        _ => "muted",
    }
}

/// One SLA target as a line: "首次响应: 正常 (120/450 分钟, 截止 2026-03-03 09:30)".
pub(super) fn sla_line(tr: Tr, v: &SlaView) -> String {
    let due = v
        .due_at
        .map(|d| format!(", {} {}", tr.t("截止", "due"), d.format("%Y-%m-%d %H:%M")))
        .unwrap_or_default();
    let missing = if v.calendar_missing {
        tr.t(
            " (未载入该年度节假日安排，按周一至周五计算)",
            " (holiday calendar for that year not loaded: counted Mon–Fri)",
        )
    } else {
        ""
    };
    format!(
        "{}: {} ({}/{} {}{due}){missing}",
        target(tr, v.target),
        target_state(tr, v.state),
        v.elapsed_minutes,
        v.target_minutes,
        tr.t("工作分钟", "working minutes"),
    )
}

pub(super) fn side(tr: Tr, s: Side) -> &'static str {
    match s {
        Side::Enterprise => tr.t("企业", "Enterprise"),
        Side::Expert => tr.t("专家", "Expert"),
        Side::Coordinator => tr.t("医院协调员", "Coordinator"),
    }
}

fn city_name(tr: Tr, code: &str) -> String {
    match RegionCode::parse(code) {
        Ok(r) => {
            let c = r.city();
            tr.t(&c.name_zh, &c.name_en).to_string()
        }
        Err(_) => tr.t("未知地市", "unknown city").to_string(),
    }
}

pub(super) fn reason(tr: Tr, r: &Reason) -> String {
    match r {
        Reason::Division { division } => {
            match yuepin_domain::Division::parse(&division.to_string()) {
                Ok(d) => format!(
                    "{}{}",
                    tr.t("专业对口：", "speciality: "),
                    tr.t(&d.info().name_zh, &d.info().name_en)
                ),
                Err(_) => tr.t("专业对口", "speciality").to_string(),
            }
        }
        Reason::OtherDivision => tr.t("专业不完全对口", "other speciality").to_string(),
        Reason::SameCity { city } => {
            format!("{}{}", tr.t("同城：", "same city: "), city_name(tr, city))
        }
        Reason::OtherCity { city } => {
            format!("{}{}", tr.t("异地：", "other city: "), city_name(tr, city))
        }
        Reason::Qualified { count } => format!("{} {count}", tr.t("资质", "qualifications")),
        Reason::Load { load, max_load } => {
            format!("{} {load}/{max_load}", tr.t("当前负荷", "load"))
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart: one bar per (label, value, text), the text written after the bar,
/// and a value axis under the bars from 0 to `max` with ticks in `unit`.
pub(super) fn bars(
    id: &str,
    title: &str,
    rows: &[(String, f64, String)],
    max: f64,
    unit: &str,
) -> String {
    // 480 units wide: on a 360 px phone the 12-unit labels still draw at about 8 px.
    let (w, row_h, label_w) = (480.0, 26.0, 180.0);
    let axis_y = 26.0 + row_h * rows.len().max(1) as f64;
    let h = axis_y + 24.0;
    let mut out = format!(
        r#"<svg id="{id}" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg" style="max-width:{w}px;background:#fff">"#,
        esc(title)
    );
    out.push_str(&format!(
        r#"<text x="4" y="16" font-size="13">{}</text>"#,
        esc(title)
    ));
    let span = w - label_w - 80.0;
    for (i, (label, value, text)) in rows.iter().enumerate() {
        let y = 26.0 + row_h * i as f64;
        let len = if max > 0.0 {
            (value / max).clamp(0.0, 1.0) * span
        } else {
            0.0
        };
        out.push_str(&format!(
            r##"<text x="4" y="{ty}" font-size="12">{}</text><rect x="{label_w}" y="{y}" width="{len:.1}" height="18" fill="#2b6cb0"/><text x="{tx:.1}" y="{ty}" font-size="12">{}</text>"##,
            esc(label),
            esc(text),
            ty = y + 13.0,
            tx = label_w + len + 6.0,
        ));
    }
    // The value axis: a base line and five ticks, so a bar's length reads without its label.
    out.push_str(&format!(
        r##"<line x1="{label_w}" y1="{axis_y}" x2="{x2}" y2="{axis_y}" stroke="#555"/>"##,
        x2 = label_w + span
    ));
    for step in 0..=4 {
        let x = label_w + span * f64::from(step) / 4.0;
        out.push_str(&format!(
            r##"<line x1="{x:.1}" y1="{axis_y}" x2="{x:.1}" y2="{t2}" stroke="#555"/><text x="{x:.1}" y="{ty}" font-size="11" text-anchor="middle">{v}{}</text>"##,
            esc(unit),
            t2 = axis_y + 4.0,
            ty = axis_y + 16.0,
            v = (max * f64::from(step) / 4.0).round(),
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_escape_labels() {
        let s = bars(
            "c",
            "图<1>",
            &[("A&B".into(), 1.0, "100%".into())],
            1.0,
            "%",
        );
        assert!(s.contains("A&amp;B") && s.contains("图&lt;1&gt;") && s.starts_with("<svg"));
    }

    #[test]
    fn bars_have_a_value_axis_from_zero_to_max() {
        let s = bars("c", "t", &[("a".into(), 40.0, "40%".into())], 100.0, "%");
        assert!(
            s.contains(">0%</text>") && s.contains(">50%</text>") && s.contains(">100%</text>")
        );
    }
}
