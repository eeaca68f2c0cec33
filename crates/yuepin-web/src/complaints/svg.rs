//! The dashboard's charts, drawn on the server as SVG (pages work without JavaScript): the
//! daily trend with its 7-day mean, and the city × division heat map linking to the lists.

use super::views::division_name;
use crate::i18n::Tr;
use chrono::NaiveDate;
use std::collections::HashMap;
use yuepin_domain::reference;

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Daily counts as a bar-and-line SVG, with the 7-day mean.
pub fn trend_svg(series: &[(NaiveDate, i64)], tr: &Tr) -> String {
    let (w, h, pad) = (720.0, 220.0, 30.0);
    let n = series.len().max(1) as f64;
    let max = series.iter().map(|s| s.1).max().unwrap_or(0).max(1) as f64;
    let x = |i: usize| pad + (w - 2.0 * pad) * (i as f64 + 0.5) / n;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v / max;
    let mut out = format!(
        r#"<svg id="trend-chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg" style="max-width:720px;background:#fff">"#,
        tr.t("每日投诉量趋势", "Daily complaints")
    );
    out.push_str(&format!(
        r##"<line x1="{pad}" y1="{}" x2="{}" y2="{}" stroke="#999"/><text x="2" y="{}" font-size="11">{}</text><text x="2" y="{}" font-size="11">0</text>"##,
        h - pad, w - pad, h - pad, pad, max as i64, h - pad
    ));
    let bw = ((w - 2.0 * pad) / n * 0.8).max(0.5);
    for (i, (d, v)) in series.iter().enumerate() {
        out.push_str(&format!(
            r##"<rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#f3b3b6"><title>{d}: {v}</title></rect>"##,
            x(i) - bw / 2.0,
            y(*v as f64),
            (h - pad) - y(*v as f64)
        ));
    }
    let mut pts = Vec::new();
    for i in 0..series.len() {
        let lo = i.saturating_sub(6);
        let mean = series[lo..=i].iter().map(|s| s.1 as f64).sum::<f64>() / (i - lo + 1) as f64;
        pts.push(format!("{:.1},{:.1}", x(i), y(mean)));
    }
    out.push_str(&format!(
        r##"<polyline points="{}" fill="none" stroke="#b5121b" stroke-width="2"/>"##,
        pts.join(" ")
    ));
    if let (Some(first), Some(last)) = (series.first(), series.last()) {
        out.push_str(&format!(
            r#"<text x="{pad}" y="{}" font-size="11">{}</text><text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>"#,
            h - 8.0,
            first.0,
            w - pad,
            h - 8.0,
            last.0
        ));
    }
    out.push_str("</svg>");
    out
}

/// City × division heat map (counts, colour on a square-root scale).
pub fn heatmap_svg(cells: &HashMap<(String, i64), i64>, tr: &Tr) -> String {
    let cities = reference::cities();
    let divs: Vec<u8> = (13..=43).collect();
    let (cw, ch, left, top) = (20.0, 16.0, 60.0, 30.0);
    let w = left + cw * divs.len() as f64 + 10.0;
    let h = top + ch * cities.len() as f64 + 10.0;
    let max = cells.values().copied().max().unwrap_or(0).max(1) as f64;
    let mut out = format!(
        r#"<svg id="heatmap" viewBox="0 0 {w} {h}" width="100%" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" style="max-width:{w}px;background:#fff">"#,
        tr.t("地市×行业热力图", "City × industry heat map")
    );
    for (j, d) in divs.iter().enumerate() {
        out.push_str(&format!(
            r#"<text x="{:.1}" y="{}" font-size="9" text-anchor="middle">{d}</text>"#,
            left + cw * (j as f64 + 0.5),
            top - 6.0
        ));
    }
    for (i, c) in cities.iter().enumerate() {
        let name = if tr.is_en() {
            c.name_en.as_str()
        } else {
            c.short_zh()
        };
        out.push_str(&format!(
            r#"<text x="{}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"#,
            left - 4.0,
            top + ch * (i as f64 + 0.75),
            esc(name)
        ));
        for (j, d) in divs.iter().enumerate() {
            let v = cells
                .get(&(c.code.clone(), i64::from(*d)))
                .copied()
                .unwrap_or(0);
            let t = (v as f64 / max).sqrt();
            let (r, g, b) = (
                (255.0 - t * (255.0 - 181.0)) as u8,
                (255.0 - t * (255.0 - 18.0)) as u8,
                (255.0 - t * (255.0 - 27.0)) as u8,
            );
            out.push_str(&format!(
                r##"<a href="/complaints/list?city={}&amp;division={d}"><rect x="{:.1}" y="{:.1}" width="{}" height="{}" fill="rgb({r},{g},{b})" stroke="#eee"><title>{} · {d} {}: {v}</title></rect></a>"##,
                c.code,
                left + cw * j as f64,
                top + ch * i as f64,
                cw,
                ch,
                esc(name),
                esc(&division_name(i64::from(*d)))
            ));
        }
    }
    out.push_str("</svg>");
    out
}
