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

/// Round tick values from 0 covering `max`: steps of 1, 2 or 5 × 10ⁿ, about five of them.
pub fn nice_ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(1.0);
    let top = (max / step).ceil() * step;
    (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|v| *v <= top + step / 2.0)
        .collect()
}

/// Daily counts as bars with the 7-day mean as a line: y axis with round ticks and gridlines,
/// dates along x, a legend and the axis titles.
pub fn trend_svg(series: &[(NaiveDate, i64)], tr: &Tr) -> String {
    let (w, h, left, right, top, bottom) = (720.0, 250.0, 46.0, 12.0, 28.0, 42.0);
    let n = series.len().max(1) as f64;
    let ticks = nice_ticks(series.iter().map(|s| s.1).max().unwrap_or(0) as f64);
    let max = ticks.last().copied().unwrap_or(1.0).max(1.0);
    let plot_w = w - left - right;
    let x = |i: usize| left + plot_w * (i as f64 + 0.5) / n;
    let y = |v: f64| h - bottom - (h - top - bottom) * v / max;
    let mut out = format!(
        r#"<svg id="trend-chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg" style="max-width:720px;background:#fff">"#,
        tr.t("每日投诉量趋势", "Daily complaints")
    );
    for t in &ticks {
        out.push_str(&format!(
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#eee"/><text class="tick" x="{}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
            w - right,
            left - 4.0,
            y(*t) + 3.5,
            *t as i64,
            y = y(*t)
        ));
    }
    out.push_str(&format!(
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#999"/><text x="10" y="{:.1}" font-size="10" transform="rotate(-90 10 {:.1})" text-anchor="middle">{}</text>"##,
        h - bottom,
        w - right,
        h - bottom,
        (top + h - bottom) / 2.0,
        (top + h - bottom) / 2.0,
        tr.t("投诉件数", "Complaints")
    ));
    let bw = (plot_w / n * 0.8).max(0.5);
    for (i, (d, v)) in series.iter().enumerate() {
        out.push_str(&format!(
            r##"<rect x="{:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#f3b3b6"><title>{d}: {v}</title></rect>"##,
            x(i) - bw / 2.0,
            y(*v as f64),
            (h - bottom) - y(*v as f64)
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
    // About six date labels along x, the first and the last included.
    let every = series.len().div_ceil(6).max(1);
    for (i, (d, _)) in series.iter().enumerate() {
        if i % every == 0 || i + 1 == series.len() {
            out.push_str(&format!(
                r#"<text class="tick" x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
                x(i),
                h - bottom + 14.0,
                d.format("%m-%d")
            ));
        }
    }
    out.push_str(&format!(
        r##"<g id="trend-legend" font-size="11"><rect x="{left}" y="6" width="12" height="10" fill="#f3b3b6"/><text x="{}" y="15">{}</text><line x1="{}" y1="11" x2="{}" y2="11" stroke="#b5121b" stroke-width="2"/><text x="{}" y="15">{}</text></g>"##,
        left + 16.0,
        tr.t("每日投诉量", "Complaints a day"),
        left + 120.0,
        left + 140.0,
        left + 144.0,
        tr.t("7日均值", "7-day mean"),
    ));
    out.push_str(&format!(
        r#"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
        left + plot_w / 2.0,
        h - 6.0,
        tr.t("日期（月-日）", "Date (month-day)")
    ));
    out.push_str("</svg>");
    out
}

/// City × division heat map (counts, colour on a square-root scale).
pub fn heatmap_svg(cells: &HashMap<(String, i64), i64>, tr: &Tr) -> String {
    let cities = reference::cities();
    let divs: Vec<u8> = (13..=43).collect();
    let (cw, ch, left, top) = (20.0, 16.0, 60.0, 30.0);
    let w = left + cw * divs.len() as f64 + 10.0;
    let h = top + ch * cities.len() as f64 + 44.0;
    let max = cells.values().copied().max().unwrap_or(0).max(1) as f64;
    let mut out = format!(
        r#"<svg id="heatmap" viewBox="0 0 {w} {h}" width="100%" xmlns="http://www.w3.org/2000/svg" role="group" aria-label="{}" style="max-width:{w}px;background:#fff">"#,
        tr.t("地市×行业热力图", "City × industry heat map")
    );
    out.push_str(&format!(
        r#"<text x="{left}" y="10" font-size="10">{}</text>"#,
        tr.t(
            "行业大类（GB/T 4754 代码，点击格子查看投诉）",
            "Industry division (GB/T 4754 code; a cell opens its complaints)"
        )
    ));
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
    // Legend: the colour scale from 0 to the largest cell.
    let ly = top + ch * cities.len() as f64 + 14.0;
    out.push_str(&format!(
        r#"<g id="heatmap-legend" font-size="10"><text x="{left}" y="{:.1}">{}</text>"#,
        ly + 9.0,
        tr.t("投诉件数", "Complaints")
    ));
    for k in 0..=4 {
        let t = f64::from(k) / 4.0;
        let (r, g, b) = (
            (255.0 - t * (255.0 - 181.0)) as u8,
            (255.0 - t * (255.0 - 18.0)) as u8,
            (255.0 - t * (255.0 - 27.0)) as u8,
        );
        let value = (t * t * max).round() as i64;
        let lx = left + 60.0 + 50.0 * f64::from(k);
        out.push_str(&format!(
            r##"<rect x="{lx}" y="{ly:.1}" width="14" height="12" fill="rgb({r},{g},{b})" stroke="#ccc"/><text x="{:.1}" y="{:.1}">{value}</text>"##,
            lx + 17.0,
            ly + 10.0
        ));
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(147.0), vec![0.0, 50.0, 100.0, 150.0]);
        assert_eq!(nice_ticks(9.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.0), vec![0.0, 1.0]);
        assert!(nice_ticks(6_845.0).len() >= 4);
    }

    #[test]
    fn charts_have_ticks_legends_and_titles() {
        let tr = Tr { lang: Lang::Zh };
        let start = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let series: Vec<_> = (0..30)
            .map(|i| (start + chrono::Duration::days(i), 100 + i * 2))
            .collect();
        let svg = trend_svg(&series, &tr);
        assert!(
            svg.contains("trend-legend") && svg.contains("7日均值") && svg.contains("投诉件数")
        );
        assert!(svg.matches("class=\"tick\"").count() >= 8, "{svg}");
        let mut cells = HashMap::new();
        cells.insert(("440300".to_string(), 38), 40);
        let heat = heatmap_svg(&cells, &tr);
        assert!(
            heat.contains("heatmap-legend") && heat.contains(">40<"),
            "{heat}"
        );
    }
}
