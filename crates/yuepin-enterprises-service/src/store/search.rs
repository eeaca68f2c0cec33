//! Enterprise search: a name keyword (any substring of two or more characters, via the bigram
//! index, confirmed by LIKE), a USCC (exact or prefix), and filters by city, division and
//! designation held on a date. Pages are keyset-free offsets with a capped count, so a broad
//! query never counts millions of rows.

use crate::EnterprisesService;
use serde::Serialize;
use sqlx::Row;
use yuepin_store::Result;

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchPage {
    pub items: Vec<EnterpriseSummary>,
    pub page: u32,
    pub per_page: u32,
    /// Matches counted up to `COUNT_CAP`; `total_capped` says the real number is larger.
    pub total: i64,
    pub total_capped: bool,
}

pub const COUNT_CAP: i64 = 1_000;

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
    persistent: bool,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql).persistent(persistent);
    for b in texts {
        query = query.bind(b.as_str());
    }
    for (_, v) in ints {
        query = query.bind(*v);
    }
    query
}

impl EnterprisesService {
    /// The planner's estimate of how many enterprises a search matches (see
    /// `Dialect::bounded_name_search`); `None` where the dialect has no estimate.
    async fn estimated_rows(
        &self,
        from: &str,
        where_sql: &str,
        binds: &[String],
        int_binds: &[(usize, i64)],
    ) -> Result<Option<i64>> {
        let select = format!("SELECT 1 FROM {from} {where_sql}");
        let Some(sql) = self.store.dialect().estimate_rows_sql(&select) else {
            return Ok(None);
        };
        let plan: String = bound(&sql, binds, int_binds, false)
            .fetch_one(self.store.pool())
            .await?
            .try_get(0)?;
        // The top line reads e.g. "Bitmap Heap Scan on enterprises e  (cost=… rows=3400 width=4)".
        Ok(plan
            .split("rows=")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok()))
    }

    #[tracing::instrument(level = "debug", skip_all)]
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
            let gq = self.store.dialect().grams_query(&grams);
            // Two characters are one bigram: the index match is already exact.
            let index_is_exact =
                !gq.is_empty() && q.chars().filter(|c| c.is_alphanumeric()).count() == 2;
            if !gq.is_empty() {
                let n = next(gq, &mut binds);
                conds.push(self.store.dialect().grams_match_sql(n));
            }
            if !index_is_exact {
                let n = next(format!("%{}%", like_escape(q)), &mut binds);
                conds.push(format!("e.name LIKE ${n} ESCAPE '\\'"));
            }
        }
        // A designation filter drives the query from the designation index (by kind, or by
        // kind and city: each designation row carries its enterprise's city, kept in step by a
        // trigger), which is already in enterprise order: the first page and the capped count
        // read a short index range instead of probing every enterprise. Of several awards of
        // the kind held on the date, only the latest one counts (no duplicates).
        let designation_driven = sq.designation.is_some();
        let mut city_cond = String::new();
        if let Some(city) = &sq.city {
            let n = next(city.clone(), &mut binds);
            let table = if designation_driven { "d" } else { "e" };
            city_cond = format!("{table}.city = ${n} AND ");
            conds.push(format!("{table}.city = ${n}"));
        }
        // The join is its own condition: a count with no condition on the enterprise itself
        // leaves it out (every designation has its enterprise: a foreign key).
        const JOIN: &str = "e.id = d.enterprise_id";
        let mut held = None;
        if let Some(d) = &sq.designation {
            let k = next(d.clone(), &mut binds);
            let a = next(sq.as_of.clone(), &mut binds);
            let h = format!(
                "d.kind = ${k} AND d.awarded_on <= ${a} AND (d.expires_on IS NULL OR d.expires_on >= ${a})"
            );
            conds.push(JOIN.into());
            conds.push(format!(
                "{h} AND NOT EXISTS (SELECT 1 FROM designations d2 WHERE d2.enterprise_id = d.enterprise_id AND d2.kind = d.kind \
                 AND d2.awarded_on > d.awarded_on AND d2.awarded_on <= ${a} AND (d2.expires_on IS NULL OR d2.expires_on >= ${a}))"
            ));
            held = Some(h);
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
        // Code searches list in code order, which their index yields without sorting; designation
        // searches in the designation index's enterprise order (the same as id order).
        let order = if looks_like_uscc {
            "e.uscc"
        } else if designation_driven {
            "d.enterprise_id"
        } else {
            "e.id"
        };
        // SQLite keeps the left table of a CROSS JOIN outermost.
        let from = if designation_driven {
            "designations d CROSS JOIN enterprises e"
        } else {
            "enterprises e"
        };
        let per_page = sq.per_page.clamp(1, 200);
        let offset = i64::from(sq.page.saturating_sub(1)) * i64::from(per_page);
        let list_sql = format!(
            "SELECT e.id, e.uscc, e.name, e.region, e.city, e.division, e.employees FROM {from} {where_sql} ORDER BY {order} LIMIT {per_page} OFFSET {offset}"
        );
        let designations_alone =
            designation_driven && q.is_empty() && sq.division.is_none() && sq.only_ids.is_none();
        let count_sql = if let (true, Some(held)) = (designations_alone, &held) {
            // The holders in enterprise order straight from the designation index (DISTINCT
            // over it needs no sort): no probe per award for a later one, no enterprise rows.
            format!(
                "SELECT COUNT(*) FROM (SELECT DISTINCT d.enterprise_id FROM designations d WHERE {city_cond}{held} LIMIT {}) t",
                COUNT_CAP + 1
            )
        } else {
            format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {from} {where_sql} LIMIT {}) t",
                COUNT_CAP + 1
            )
        };
        let bounded = if q.is_empty() || looks_like_uscc {
            None
        } else {
            self.store.dialect().bounded_name_search()
        };
        // See `Dialect::bounded_name_search`: where it bounds name searches, every search is
        // planned with its own parameters.
        let persistent = self.store.dialect().bounded_name_search().is_none();
        let summary = |r: &sqlx::any::AnyRow| -> Result<EnterpriseSummary> {
            Ok(EnterpriseSummary {
                id: r.try_get("id")?,
                uscc: r.try_get("uscc")?,
                name: r.try_get("name")?,
                region: r.try_get("region")?,
                city: r.try_get("city")?,
                division: r.try_get("division")?,
                employees: r.try_get("employees")?,
            })
        };
        let mut known_total = None;
        let bounded = match bounded {
            Some(limit) => {
                let estimate = self
                    .estimated_rows(from, &where_sql, &binds, &int_binds)
                    .await?;
                estimate.filter(|n| *n <= limit).map(|_| limit)
            }
            None => None,
        };
        if let Some(limit) = bounded {
            // The matches (up to the bound) through the name index, counted, and the page
            // sorted out of them: one statement, whichever page is asked for.
            let sql = format!(
                "WITH m AS MATERIALIZED (SELECT e.id FROM {from} {where_sql} LIMIT {}) \
                 SELECT n.total, p.id, p.uscc, p.name, p.region, p.city, p.division, p.employees \
                 FROM (SELECT COUNT(*) AS total FROM m) n LEFT JOIN LATERAL \
                 (SELECT e.id, e.uscc, e.name, e.region, e.city, e.division, e.employees \
                 FROM (SELECT id FROM m ORDER BY id LIMIT {per_page} OFFSET {offset}) x \
                 JOIN enterprises e ON e.id = x.id ORDER BY e.id) p ON true",
                limit + 1
            );
            let rows = bound(&sql, &binds, &int_binds, persistent)
                .fetch_all(self.store.pool())
                .await?;
            let total: i64 = match rows.first() {
                Some(r) => r.try_get("total")?,
                None => 0,
            };
            if total <= limit {
                let mut items = Vec::with_capacity(rows.len());
                for r in &rows {
                    if r.try_get::<Option<i64>, _>("id")?.is_some() {
                        items.push(summary(r)?);
                    }
                }
                return Ok(SearchPage {
                    items,
                    page: sq.page.max(1),
                    per_page,
                    total: total.min(COUNT_CAP),
                    total_capped: total > COUNT_CAP,
                });
            }
            // More matches than the bound: dense enough for the walk in id order below.
            known_total = Some(total);
        }
        let rows = bound(&list_sql, &binds, &int_binds, persistent)
            .fetch_all(self.store.pool())
            .await?;
        let items = rows.iter().map(summary).collect::<Result<Vec<_>>>()?;
        // Skip the count when the page itself shows everything.
        let total = if let Some(total) = known_total {
            total
        } else if sq.page <= 1 && (items.len() as u32) < per_page {
            items.len() as i64
        } else {
            bound(&count_sql, &binds, &int_binds, persistent)
                .fetch_one(self.store.pool())
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
