//! SQL shared by the use cases: the complaint columns and their typed reading, the filter's
//! WHERE clause with its binds, the top-enterprises query, and parsing stored codes back into
//! types (a value that no longer parses is `StoreError::Corrupt`).

use crate::records::{ComplaintFilter, ComplaintRecord, LabelsSource, TopEnterprise};
use chrono::NaiveDate;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use yuepin_complaints::{Category, Channel, Complainant, ComplaintKind, ProblemType};
use yuepin_domain::{Division, RegionCode};
use yuepin_store::{corrupt, Result};

pub(crate) const COMPLAINT_COLS: &str = "id, ext_id, received_at, day, channel, kind, region, city, enterprise_id, enterprise_uscc, enterprise_name, category, division, labels_source, problem, amount_fen, text, complainant_name, complainant_phone, complainant_id_number, complainant_address";

/// Parses a stored text column with `parse`, or reports the table, column and value as corrupt.
pub(crate) fn parsed<T>(r: &AnyRow, col: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T> {
    let s: String = r.try_get(col)?;
    parse(&s).ok_or_else(|| corrupt(format!("complaints column {col}: {s:?}")))
}

/// As [`parsed`] for a nullable column.
pub(crate) fn parsed_opt<T>(
    r: &AnyRow,
    col: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>> {
    match r.try_get::<Option<String>, _>(col)? {
        None => Ok(None),
        Some(s) => parse(&s)
            .map(Some)
            .ok_or_else(|| corrupt(format!("complaints column {col}: {s:?}"))),
    }
}

pub(crate) fn region(s: &str) -> Option<RegionCode> {
    RegionCode::parse(s).ok()
}

pub(crate) fn category(s: &str) -> Option<Category> {
    Category::parse(s).ok()
}

pub(crate) fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A stored division number (13–43).
pub(crate) fn division_of(code: i64) -> Result<Division> {
    u8::try_from(code)
        .ok()
        .and_then(|c| Division::parse(&c.to_string()).ok())
        .ok_or_else(|| corrupt(format!("division {code}")))
}

pub(crate) fn complaint_row(r: &AnyRow) -> Result<ComplaintRecord> {
    Ok(ComplaintRecord {
        id: r.try_get("id")?,
        ext_id: r.try_get("ext_id")?,
        received_at: r.try_get("received_at")?,
        day: parsed(r, "day", day)?,
        channel: parsed(r, "channel", |s| Channel::parse(s).ok())?,
        kind: parsed(r, "kind", |s| ComplaintKind::parse(s).ok())?,
        region: parsed(r, "region", region)?,
        city: parsed(r, "city", region)?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_uscc: r.try_get("enterprise_uscc")?,
        enterprise_name: r.try_get("enterprise_name")?,
        category: parsed_opt(r, "category", category)?,
        division: r
            .try_get::<Option<i64>, _>("division")?
            .map(division_of)
            .transpose()?,
        labels_source: parsed(r, "labels_source", LabelsSource::parse)?,
        problem: parsed(r, "problem", |s| ProblemType::parse(s).ok())?,
        amount_fen: r.try_get("amount_fen")?,
        text: r.try_get("text")?,
        complainant: Complainant {
            name: r.try_get("complainant_name")?,
            phone: r.try_get("complainant_phone")?,
            id_number: r.try_get("complainant_id_number")?,
            address: r.try_get("complainant_address")?,
        },
        masked: false,
    })
}

/// A value bound into a filter clause.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

impl ComplaintFilter {
    /// The WHERE clause (`$1…$n`) and its binds, in order.
    pub(crate) fn clause(&self) -> (String, Vec<Bind>) {
        let mut parts = vec!["1 = 1".to_string()];
        let mut binds = Vec::new();
        let mut push = |sql: &str, b: Bind, binds: &mut Vec<Bind>| {
            binds.push(b);
            parts.push(sql.replace('?', &format!("${}", binds.len())));
        };
        if let Some(d) = self.from {
            push("day >= ?", Bind::Text(d.to_string()), &mut binds);
        }
        if let Some(d) = self.to {
            push("day <= ?", Bind::Text(d.to_string()), &mut binds);
        }
        if let Some(c) = &self.city {
            push("city = ?", Bind::Text(c.city().code.clone()), &mut binds);
        }
        if let Some(d) = self.division {
            push("division = ?", Bind::Int(i64::from(d.code())), &mut binds);
        }
        if let Some(c) = self.category {
            push("category = ?", Bind::Text(c.info().key.clone()), &mut binds);
        }
        if let Some(p) = self.problem {
            push("problem = ?", Bind::Text(p.as_str().into()), &mut binds);
        }
        if let Some(e) = self.enterprise_id {
            push("enterprise_id = ?", Bind::Int(e), &mut binds);
        }
        (parts.join(" AND "), binds)
    }
}

pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

/// The `n` enterprises with most complaints in the filter (named in the complaint, linked or
/// not), most first.
pub(crate) async fn top_enterprises(
    conn: &mut AnyConnection,
    f: &ComplaintFilter,
    n: i64,
) -> Result<Vec<TopEnterprise>> {
    let (clause, binds) = f.clause();
    let sql = format!(
        "SELECT enterprise_id, enterprise_uscc, COALESCE(enterprise_name, enterprise_uscc) AS name, COUNT(*) AS n FROM complaints WHERE {clause} AND (enterprise_uscc IS NOT NULL OR enterprise_name IS NOT NULL) GROUP BY enterprise_id, enterprise_uscc, COALESCE(enterprise_name, enterprise_uscc) ORDER BY n DESC, name LIMIT ${}",
        binds.len() + 1
    );
    let rows = bind_all(sqlx::query(&sql), &binds)
        .bind(n)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(TopEnterprise {
                enterprise_id: r.try_get("enterprise_id")?,
                uscc: r.try_get("enterprise_uscc")?,
                name: r.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                n: r.try_get("n")?,
            })
        })
        .collect()
}
