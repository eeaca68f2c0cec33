//! Enterprise search: a name keyword (any substring of two or more characters, via the bigram
//! index, confirmed by LIKE), a USCC (exact or prefix), and filters by city, division and
//! designation held on a date. Pages are keyset-free offsets with a capped count, so a broad
//! query never counts millions of rows.

use crate::{Result, Store};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub q: String,
    pub city: Option<String>,
    pub division: Option<u8>,
    pub designation: Option<String>,
    /// Designations are matched when held on this date (YYYY-MM-DD).
    pub as_of: String,
    /// Restricts results to these enterprise ids (tenant scoping); `None` = no restriction.
    pub only_ids: Option<Vec<i64>>,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseSummary {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub region: String,
    pub city: String,
    pub division: i64,
    pub employees: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchPage {
    pub items: Vec<EnterpriseSummary>,
    pub page: u32,
    pub per_page: u32,
    /// Matches counted up to `COUNT_CAP`; `total_capped` says the real number is larger.
    pub total: i64,
    pub total_capped: bool,
}

pub const COUNT_CAP: i64 = 1_000;

/// Designations held by at most this many rows are searched from the designation index (an
/// id list); commoner ones are probed per enterprise, which finds a page after few rows.
const RARE_DESIGNATION: i64 = 50_000;

/// Cached row counts per designation kind.
#[derive(Debug, Default)]
pub struct DesignationCounts {
    at: Option<std::time::Instant>,
    counts: std::collections::HashMap<String, i64>,
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The index terms a keyword must contain: its bigrams, or for one character a prefix term.
pub fn query_grams(q: &str) -> Vec<String> {
    let chars: Vec<char> = q
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    match chars.len() {
        0 => vec![],
        1 => vec![format!("{}*", chars[0])],
        _ => {
            let mut g: Vec<String> = chars.windows(2).map(|w| w.iter().collect()).collect();
            g.sort();
            g.dedup();
            g
        }
    }
}

fn bound<'q>(
    sql: &'q str,
    texts: &'q [String],
    ints: &'q [(usize, i64)],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for b in texts {
        query = query.bind(b.as_str());
    }
    for (_, v) in ints {
        query = query.bind(*v);
    }
    query
}

impl Store {
    /// Rows of designation `kind`, from a cache refreshed every five minutes.
    async fn designation_count(&self, kind: &str) -> Result<i64> {
        {
            let cache = self
                .designation_counts
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if cache.at.is_some_and(|t| t.elapsed().as_secs() < 300) {
                return Ok(cache.counts.get(kind).copied().unwrap_or(0));
            }
        }
        let rows = sqlx::query("SELECT kind, COUNT(*) AS n FROM designations GROUP BY kind")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = std::collections::HashMap::new();
        for r in &rows {
            counts.insert(r.try_get::<String, _>("kind")?, r.try_get::<i64, _>("n")?);
        }
        let n = counts.get(kind).copied().unwrap_or(0);
        let mut cache = self
            .designation_counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *cache = DesignationCounts {
            at: Some(std::time::Instant::now()),
            counts,
        };
        Ok(n)
    }

    pub async fn search_enterprises(&self, sq: &SearchQuery) -> Result<SearchPage> {
        let mut conds: Vec<String> = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let mut int_binds: Vec<(usize, i64)> = Vec::new();
        fn next(v: String, binds: &mut Vec<String>) -> usize {
            binds.push(v);
            binds.len()
        }
        let q = sq.q.trim();
        let looks_like_uscc = q.len() >= 6
            && q.len() <= 18
            && q.bytes().all(|b| b.is_ascii_alphanumeric())
            && q.bytes().any(|b| b.is_ascii_digit());
        if looks_like_uscc {
            // A range, not LIKE: SQLite's LIKE is case-insensitive and cannot use the index.
            let prefix = q.to_ascii_uppercase();
            let lo = next(prefix.clone(), &mut binds);
            let hi = next(format!("{prefix}~"), &mut binds);
            conds.push(format!("e.uscc >= ${lo} AND e.uscc < ${hi}"));
        } else if !q.is_empty() {
            let grams = query_grams(q);
            let gq = self.dialect.grams_query(&grams);
            // Two characters are one bigram: the index match is already exact.
            let index_is_exact =
                !gq.is_empty() && q.chars().filter(|c| c.is_alphanumeric()).count() == 2;
            if !gq.is_empty() {
                let n = next(gq, &mut binds);
                conds.push(self.dialect.grams_match_sql(n));
            }
            if !index_is_exact {
                let n = next(format!("%{}%", like_escape(q)), &mut binds);
                conds.push(format!("e.name LIKE ${n} ESCAPE '\\'"));
            }
        }
        if let Some(city) = &sq.city {
            let n = next(city.clone(), &mut binds);
            conds.push(format!("e.city = ${n}"));
        }
        if let Some(d) = &sq.designation {
            let rare = self.designation_count(d).await? <= RARE_DESIGNATION;
            let k = next(d.clone(), &mut binds);
            let a = next(sq.as_of.clone(), &mut binds);
            conds.push(if rare {
                format!(
                    "e.id IN (SELECT d.enterprise_id FROM designations d WHERE d.kind = ${k} AND d.awarded_on <= ${a} AND (d.expires_on IS NULL OR d.expires_on >= ${a}))"
                )
            } else {
                format!(
                    "EXISTS (SELECT 1 FROM designations d WHERE d.enterprise_id = e.id AND d.kind = ${k} AND d.awarded_on <= ${a} AND (d.expires_on IS NULL OR d.expires_on >= ${a}))"
                )
            });
        }
        // Integer parameters are numbered after the text ones.
        let mut n_int = binds.len();
        if let Some(div) = sq.division {
            n_int += 1;
            int_binds.push((n_int, i64::from(div)));
            conds.push(format!("e.division = ${n_int}"));
        }
        if let Some(ids) = &sq.only_ids {
            if ids.is_empty() {
                conds.push("1 = 0".into());
            } else {
                let mut ps = Vec::new();
                for id in ids {
                    n_int += 1;
                    int_binds.push((n_int, *id));
                    ps.push(format!("${n_int}"));
                }
                conds.push(format!("e.id IN ({})", ps.join(",")));
            }
        }
        let where_sql = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        // Code searches list in code order, which their index yields without sorting.
        let order = if looks_like_uscc { "e.uscc" } else { "e.id" };
        let per_page = sq.per_page.clamp(1, 200);
        let offset = i64::from(sq.page.saturating_sub(1)) * i64::from(per_page);
        let list_sql = format!(
            "SELECT e.id, e.uscc, e.name, e.region, e.city, e.division, e.employees FROM enterprises e {where_sql} ORDER BY {order} LIMIT {per_page} OFFSET {offset}"
        );
        let count_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM enterprises e {where_sql} LIMIT {}) t",
            COUNT_CAP + 1
        );
        let rows = bound(&list_sql, &binds, &int_binds)
            .fetch_all(&self.pool)
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(EnterpriseSummary {
                    id: r.try_get("id")?,
                    uscc: r.try_get("uscc")?,
                    name: r.try_get("name")?,
                    region: r.try_get("region")?,
                    city: r.try_get("city")?,
                    division: r.try_get("division")?,
                    employees: r.try_get("employees")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // Skip the count when the page itself shows everything.
        let total = if sq.page <= 1 && (items.len() as u32) < per_page {
            items.len() as i64
        } else {
            bound(&count_sql, &binds, &int_binds)
                .fetch_one(&self.pool)
                .await?
                .try_get::<i64, _>(0)?
        };
        Ok(SearchPage {
            items,
            page: sq.page.max(1),
            per_page,
            total: total.min(COUNT_CAP),
            total_capped: total > COUNT_CAP,
        })
    }
}
