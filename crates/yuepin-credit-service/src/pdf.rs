//! The credit report as PDF (A4, Chinese with English labels) through the platform's one PDF
//! module, `yuepin-pdf`: the header (enterprise, credit code, bank, consent, fetch, range),
//! the grade with each factor's contribution and records, the consented sections, and the
//! tax notice. `pdftotext` recovers the text (the module writes ToUnicode maps).

use crate::error::{CreditError, CreditResult};
use crate::records::{CreditReport, ReportLine};
use yuepin_credit::rating::Factor;
use yuepin_pdf::{mm, wrap, PageSize, Pdf};

/// The factor's name in the report (zh / en).
fn factor_name(f: Factor) -> &'static str {
    match f {
        Factor::InspectionPassed => "监督抽查合格 inspections passed",
        Factor::Certification => "有效认证 certifications",
        Factor::Award => "质量奖项 awards",
        Factor::Designation => "资质认定 designations",
        Factor::StandardLed => "主导标准 standards led",
        Factor::LabReport => "检验检测报告 lab reports",
        Factor::InspectionFailed => "抽查不合格 inspections failed",
        Factor::Penalty => "行政处罚 penalties",
        Factor::SeriousPenalty => "严重违法失信 serious penalties",
        Factor::Recall => "缺陷召回 recalls",
        Factor::Complaint => "消费投诉 complaints",
        Factor::PublishedWarning => "消费警示 published warnings",
        Factor::CodeRevocation => "粤品通码撤销 code revocations",
        Factor::CounterfeitSignal => "仿冒信号 counterfeit signals",
    }
}

/// The report's lines, in order (heading lines start with `#`).
fn lines(r: &CreditReport) -> Vec<String> {
    let mut out = vec![
        "#质量信用报告 Quality credit report".to_string(),
        format!("企业 Enterprise: {}", r.enterprise_name),
        format!("统一社会信用代码 Credit code: {}", r.enterprise),
        format!("报告接收方 Bank: {} (#{})", r.bank.name, r.bank.org_id),
        format!("授权编号 Consent: {}", r.consent_id),
        format!(
            "第 {} 次调用，共 {} 次 Fetch {} of {}",
            r.fetch_no, r.max_fetches, r.fetch_no, r.max_fetches
        ),
        format!("获取时间 Fetched at: {}", r.fetched_at),
        format!("数据区间 Data range: {} 至 {}", r.data_from, r.data_to),
        format!(
            "数据类别 Categories: {}",
            r.categories
                .iter()
                .map(|c| c.code())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    if let Some(g) = &r.grade {
        out.push(format!(
            "#信用等级 Grade: {}  评分 Score: {:.1}  (模型 model {} {}, {})",
            g.grade, g.score, g.model, g.model_version, g.as_of
        ));
        for c in &g.contributions {
            let records: Vec<&str> = c.records.iter().map(|x| x.record.as_str()).collect();
            out.push(format!(
                "{}: {:+.2}{}  [{}]",
                factor_name(c.factor),
                c.points,
                if c.capped {
                    " (已达上限 capped)"
                } else {
                    ""
                },
                records.join(", ")
            ));
        }
    }
    let section = |out: &mut Vec<String>, title: &str, items: &Option<Vec<ReportLine>>| {
        if let Some(items) = items {
            out.push(format!("#{title}"));
            if items.is_empty() {
                out.push("无记录 none".into());
            }
            for l in items {
                out.push(format!("{} {} {}", l.date, l.summary, l.record));
            }
        }
    };
    section(&mut out, "监督抽查 Inspections", &r.inspections);
    section(
        &mut out,
        "认证、奖项与认定 Certifications, awards, designations",
        &r.certifications_awards,
    );
    if let Some(n) = r.complaints_12m {
        out.push("#投诉与警示 Complaints and warnings".into());
        out.push(format!("近12个月投诉 Complaints in 12 months: {n}"));
    }
    section(&mut out, "消费警示 Published warnings", &r.warnings);
    section(&mut out, "检验检测报告 Lab reports", &r.lab_reports);
    if !r.unavailable.is_empty() {
        out.push(format!(
            "暂无数据的类别 Not yet available: {}",
            r.unavailable
                .iter()
                .map(|c| c.code())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push("#涉税信息 Tax information".into());
    out.push(
        "本报告不含涉税信息。如需纳税信用等信息，请经企业授权，通过税务部门“银税互动”渠道获取。"
            .into(),
    );
    out.push("This report carries no tax data; obtain it through the tax authority's official channel with the enterprise's authorisation.".into());
    out.push("本报告由粤品通平台签名（COSE_Sign1 / Ed25519），其调用记录已写入可验证日志。".into());
    out
}

/// Renders the report as PDF bytes.
pub fn render(r: &CreditReport) -> CreditResult<Vec<u8>> {
    let err = |e: yuepin_pdf::PdfError| CreditError::Pdf(e.to_string());
    let mut pdf = Pdf::new(&format!("质量信用报告 {}", r.enterprise_name)).map_err(err)?;
    let (margin, width) = (mm(18.0), PageSize::A4.width - 2.0 * mm(18.0));
    let bottom = PageSize::A4.height - mm(18.0);
    // Lay out every line first: (size, text), then cut into pages.
    let mut laid: Vec<(f32, String)> = Vec::new();
    for line in lines(r) {
        let (size, text) = match line.strip_prefix('#') {
            Some(h) => (13.0, h.to_string()),
            None => (9.5, line),
        };
        for part in wrap(&text, size, width) {
            laid.push((size, part));
        }
    }
    let mut pages: Vec<Vec<(f32, f32, String)>> = vec![Vec::new()];
    let mut y = margin;
    for (size, text) in laid {
        let step = size * 1.6;
        if y + step > bottom {
            pages.push(Vec::new());
            y = margin;
        }
        y += step;
        if let Some(p) = pages.last_mut() {
            p.push((y, size, text));
        }
    }
    for page in pages {
        pdf.page(PageSize::A4, |c| {
            for (y, size, text) in &page {
                c.text(margin, *y, *size, text);
            }
        })
        .map_err(err)?;
    }
    pdf.finish().map_err(err)
}
