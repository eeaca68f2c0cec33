//! A draft warning from an alarm: the evidence (the alarm's figures, the window's complaint
//! count, leading enterprises, problem types and masked samples), the severity (an alert for a
//! safety surge or three times the expected count), and the draft's title and body — the text
//! a regulator edits before approval, in Chinese because it is published as written.

use crate::records::{
    AlarmRecord, ComplaintRecord, Evidence, EvidenceEnterprise, EvidenceSample, Severity,
};
use crate::sql::{bind_all, complaint_row, top_enterprises, COMPLAINT_COLS};
use sqlx::{AnyConnection, Row};
use yuepin_complaints::ProblemType;
use yuepin_store::{corrupt, Result};

/// Leading enterprises kept in the evidence; the first three are named on the warning.
const LEADING: i64 = 5;
const NAMED: usize = 3;
/// Masked sample complaints kept in the evidence.
const SAMPLES: i64 = 5;
/// Observed / expected from which a surge is an alert rather than a tip.
const ALERT_RATIO: f64 = 3.0;

/// What the warning is about: the category, else the division, else everything.
fn subject_zh(a: &AlarmRecord) -> String {
    if let Some(c) = a.category {
        c.info().name_zh.clone()
    } else if let Some(d) = a.division {
        d.info().name_zh.clone()
    } else {
        "全部商品和服务".into()
    }
}

/// Writes a draft for `lead` (with every alarm of its series in `all` as the methods that
/// found it) and names the leading linked enterprises; returns the warning's id.
pub(crate) async fn create_draft(
    conn: &mut AnyConnection,
    lead: &AlarmRecord,
    all: &[&AlarmRecord],
    now: &str,
) -> Result<i64> {
    let f = lead.filter();
    let (clause, binds) = f.clause();
    let window_complaints: i64 = bind_all(
        sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM complaints WHERE {clause}"
        )),
        &binds,
    )
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    let leading = top_enterprises(conn, &f, LEADING).await?;
    let probs = bind_all(
        sqlx::query(&format!(
            "SELECT problem, COUNT(*) AS n FROM complaints WHERE {clause} GROUP BY problem ORDER BY n DESC, problem"
        )),
        &binds,
    )
    .fetch_all(&mut *conn)
    .await?;
    let problem_types = probs
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("problem")?,
                r.try_get::<i64, _>("n")?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let n = binds.len();
    let samples = bind_all(
        sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE {clause} ORDER BY received_at DESC, id DESC LIMIT ${}",
            n + 1
        )),
        &binds,
    )
    .bind(SAMPLES)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| complaint_row(r).map(ComplaintRecord::masked))
    .collect::<Result<Vec<_>>>()?;
    let safety = problem_types.first().is_some_and(|(p, _)| p == "safety");
    let severity = if safety || lead.ratio() >= ALERT_RATIO {
        Severity::Alert
    } else {
        Severity::Tip
    };
    let subject = subject_zh(lead);
    let city = lead.city.city().name_zh.clone();
    let title = format!(
        "关于{city}{subject}投诉明显增多的{}",
        match severity {
            Severity::Alert => "消费警示",
            Severity::Tip => "消费提示",
        }
    );
    let top_problem = problem_types
        .first()
        .and_then(|(p, _)| ProblemType::parse(p).ok())
        .map_or("其他", |p| p.name_zh());
    let window_from = f.from.map(|d| d.to_string()).unwrap_or_default();
    let window_to = f.to.map(|d| d.to_string()).unwrap_or_default();
    // One count for consumers: the complaints of the evidence window the text names, the
    // same number the public page shows and its tables add up to (the alarm's own observed and
    // expected counts cover the alarm's period and stay on the regulator's evidence page).
    let body = format!(
        "{window_from}至{window_to}，{city}市场监管部门接到的{subject}相关投诉举报共{window_complaints}件，明显多于往常，主要集中在“{top_problem}”方面。提醒广大消费者在购买和使用{subject}时注意查看产品标识、索要并保存购物凭证，发现质量安全问题及时通过12315热线或全国12315平台反映。"
    );
    let mut methods: Vec<String> = all.iter().map(|a| a.method.label().to_string()).collect();
    methods.sort();
    methods.dedup();
    let evidence = Evidence {
        alarm_id: lead.id,
        method: lead.method.label().to_string(),
        methods,
        observed: lead.observed,
        expected: lead.expected,
        threshold: lead.threshold,
        p_value: lead.p_value,
        q_value: lead.q_value,
        period_start: lead.period_start.to_string(),
        period_end: lead.period_end().to_string(),
        window_from,
        window_to,
        city: lead.city.to_string(),
        city_name: city.clone(),
        division: f.division.map(|d| i64::from(d.code())),
        division_name: f
            .division
            .map(|d| d.info().name_zh.clone())
            .unwrap_or_default(),
        category: f.category.map(|c| c.info().key.clone()),
        category_name: f
            .category
            .map(|c| c.info().name_zh.clone())
            .unwrap_or_default(),
        window_complaints,
        leading_enterprises: leading
            .iter()
            .map(|t| EvidenceEnterprise {
                enterprise_id: t.enterprise_id,
                uscc: t.uscc.clone(),
                name: t.name.clone(),
                complaints: t.n,
            })
            .collect(),
        problem_types,
        samples: samples
            .into_iter()
            .map(|s| EvidenceSample {
                ext_id: s.ext_id,
                day: s.day.to_string(),
                problem: s.problem.as_str().to_string(),
                text: s.text,
                complainant_name: s.complainant.name,
                complainant_phone: s.complainant.phone,
            })
            .collect(),
    };
    let id: i64 = sqlx::query("INSERT INTO complaint_warnings (alarm_id, status, severity, title, body, series_key, evidence, created_at, updated_at) VALUES ($1, 'draft', $2, $3, $4, $5, $6, $7, $7) RETURNING id")
        .bind(lead.id)
        .bind(severity.as_str())
        .bind(&title)
        .bind(&body)
        .bind(lead.series_key())
        .bind(serde_json::to_string(&evidence).map_err(corrupt)?)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
    for t in leading.iter().take(NAMED) {
        if let Some(eid) = t.enterprise_id {
            sqlx::query("INSERT INTO complaint_warning_enterprises (warning_id, enterprise_id, complaints) VALUES ($1, $2, $3) ON CONFLICT (warning_id, enterprise_id) DO NOTHING")
                .bind(id)
                .bind(eid)
                .bind(t.n)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(id)
}
