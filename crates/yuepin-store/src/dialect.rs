//! What differs between SQLite and PostgreSQL, behind one trait; everything else is shared SQL
//! written in the common subset (`$n` placeholders, `ON CONFLICT … DO UPDATE`, `RETURNING`).

use crate::{Result, StoreError};

/// One implementation per backend, chosen by the URL scheme in [`for_url`].
pub trait Dialect: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// Statements run on every new connection.
    fn connection_setup(&self) -> &'static [&'static str];
    fn max_connections(&self) -> u32;
    fn normalize_url(&self, url: &str) -> String;
    fn begin_write_sql(&self) -> &'static str;
    /// Picks this backend's SQL out of a migration pair.
    fn migration_sql<'a>(&self, sqlite: &'a str, postgres: &'a str) -> &'a str;
    /// The `i`-th (1-based) bind placeholder of a statement whose parameters appear in binding
    /// order. SQLite gets anonymous `?`: its named-parameter lookup is linear per parameter, so
    /// `$n` costs O(n²) in statements with thousands of parameters (measured 30× slower at 5,000).
    fn ph(&self, i: usize) -> String;
    /// Statements that store the search grams of `n` enterprises at once: each binds either
    /// the ids alone or (id, space-separated grams) pairs, in input order.
    fn index_grams_sql(&self, n: usize) -> Vec<(String, GramBinds)>;
    /// A boolean SQL condition on `e.id` that holds when the enterprise's grams contain all the
    /// space-separated grams bound at placeholder `$n`.
    fn grams_match_sql(&self, n: usize) -> String;
    /// Turns query grams into what `grams_match_sql` binds.
    fn grams_query(&self, grams: &[String]) -> String;
    /// How a name search finds its page in id order. `None`: the name index already yields
    /// matches in id order (SQLite's FTS5), so `ORDER BY id LIMIT` reads only the page.
    /// `Some(bound)`: it does not (PostgreSQL's GIN index yields a bitmap), and the planner's
    /// usual plan, walking the primary key and testing every row, reads thousands of rows per
    /// result when matches are rare (a keyword and a city: ~40,000 rows for a page at 2 M).
    /// So a search the planner expects to match at most `bound` rows (`estimate_rows_sql`)
    /// collects its matches through the index and sorts them; one expected to match more is
    /// dense enough for the walk to find its page quickly. Such searches are planned with
    /// their own parameters every time (unnamed statements): how common a keyword's grams are
    /// decides the plan.
    fn bounded_name_search(&self) -> Option<i64>;
    /// A statement whose first row's first column is the planner's plan for `select`, with
    /// its estimated row count as `rows=N` (PostgreSQL's `EXPLAIN`); `None` where the planner
    /// offers none.
    fn estimate_rows_sql(&self, select: &str) -> Option<String>;
    // policy
    /// An aggregate joining a group's text values `expr` with commas (the designations an
    /// enterprise holds); callers sort the parts, SQLite's order being unspecified.
    fn comma_list_sql(&self, expr: &str) -> String;

    // labs
    /// Whether `e` is the database refusing overlapping active bookings of one instrument
    /// (the `lab_booking_overlap` trigger on SQLite, the exclusion constraint on PostgreSQL).
    fn is_booking_overlap(&self, e: &sqlx::Error) -> bool;
    /// Statements to run after a bulk load so the planner knows the new rows (PostgreSQL's
    /// `ANALYZE`, which autovacuum would run a little later; nothing on SQLite, whose plans
    /// do not use statistics unless `ANALYZE` was ever run).
    fn after_bulk_load_sql(&self) -> &'static [&'static str];
    /// How large imports write: through the native SQLite writer on the database file, or
    /// PostgreSQL's `COPY` into a staging table.
    fn bulk_load(&self) -> BulkLoad;
}

/// The bulk-write path of a backend (see [`Dialect::bulk_load`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkLoad {
    /// A rusqlite connection of its own on the database file (`crate::native_sqlite`).
    NativeSqlite,
    /// `COPY … FROM STDIN` on a dedicated connection.
    PostgresCopy,
}

/// `(p1,…,pc),(…),…` for `rows` rows of `cols` parameters bound row by row, in the dialect's
/// placeholder style: the VALUES list of a multi-row INSERT.
pub fn values_sql(d: &dyn Dialect, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 4);
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push(',');
            }
            out.push_str(&d.ph(r * cols + c + 1));
        }
        out.push(')');
    }
    out
}

/// What a grams statement binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GramBinds {
    Ids,
    Pairs,
}

/// `($1,$2),($3,$4),…` for `n` pairs, with optional casts.
fn pairs(n: usize, cast_a: &str, cast_b: &str) -> String {
    (0..n)
        .map(|i| format!("(${}{cast_a},${}{cast_b})", 2 * i + 1, 2 * i + 2))
        .collect::<Vec<_>>()
        .join(",")
}

struct Sqlite;
struct Postgres;

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn connection_setup(&self) -> &'static [&'static str] {
        &[
            // Only takes effect when the file is created (before WAL is entered): 8 KiB pages
            // make the b-trees of millions of rows shallower.
            "PRAGMA page_size = 8192",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 10000",
            "PRAGMA cache_size = -65536",
        ]
    }
    fn max_connections(&self) -> u32 {
        8
    }
    fn normalize_url(&self, url: &str) -> String {
        // Create the file when it does not exist yet.
        if url.contains("mode=") || url.contains(":memory:") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        }
    }
    fn begin_write_sql(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }
    fn ph(&self, _i: usize) -> String {
        "?".into()
    }
    fn migration_sql<'a>(&self, sqlite: &'a str, _postgres: &'a str) -> &'a str {
        sqlite
    }
    fn index_grams_sql(&self, n: usize) -> Vec<(String, GramBinds)> {
        let ids: Vec<String> = (1..=n).map(|i| self.ph(i)).collect();
        vec![
            (
                format!(
                    "DELETE FROM enterprise_fts WHERE rowid IN ({})",
                    ids.join(",")
                ),
                GramBinds::Ids,
            ),
            (
                format!(
                    "INSERT INTO enterprise_fts (rowid, grams) VALUES {}",
                    pairs(n, "", "")
                ),
                GramBinds::Pairs,
            ),
        ]
    }
    fn grams_match_sql(&self, n: usize) -> String {
        format!("e.id IN (SELECT rowid FROM enterprise_fts WHERE enterprise_fts MATCH ${n})")
    }
    fn grams_query(&self, grams: &[String]) -> String {
        // FTS5 query: each gram quoted as a string; a trailing '*' marks a one-character prefix.
        grams
            .iter()
            .map(|g| match g.strip_suffix('*') {
                Some(p) => format!("\"{}\"*", p.replace('"', "\"\"")),
                None => format!("\"{}\"", g.replace('"', "\"\"")),
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }
    fn bounded_name_search(&self) -> Option<i64> {
        None
    }
    fn estimate_rows_sql(&self, _select: &str) -> Option<String> {
        None
    }
    // policy
    fn comma_list_sql(&self, expr: &str) -> String {
        format!("group_concat({expr}, ',')")
    }

    // labs
    fn is_booking_overlap(&self, e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.message().contains("lab_booking_overlap"))
    }
    fn after_bulk_load_sql(&self) -> &'static [&'static str] {
        &[]
    }
    fn bulk_load(&self) -> BulkLoad {
        BulkLoad::NativeSqlite
    }
}

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn connection_setup(&self) -> &'static [&'static str] {
        &["SET TIME ZONE 'UTC'"]
    }
    fn max_connections(&self) -> u32 {
        16
    }
    fn normalize_url(&self, url: &str) -> String {
        url.to_string()
    }
    fn begin_write_sql(&self) -> &'static str {
        "BEGIN"
    }
    fn ph(&self, i: usize) -> String {
        format!("${i}")
    }
    fn migration_sql<'a>(&self, _sqlite: &'a str, postgres: &'a str) -> &'a str {
        postgres
    }
    fn index_grams_sql(&self, n: usize) -> Vec<(String, GramBinds)> {
        vec![(
            format!(
                "UPDATE enterprises e SET grams = string_to_array(v.g, ' ') FROM (VALUES {}) AS v(id, g) WHERE e.id = v.id",
                pairs(n, "::BIGINT", "::TEXT")
            ),
            GramBinds::Pairs,
        )]
    }
    fn grams_match_sql(&self, n: usize) -> String {
        format!("e.grams @> string_to_array(${n}, ' ')")
    }
    fn grams_query(&self, grams: &[String]) -> String {
        // Single characters are not in the array index; the LIKE post-filter handles them.
        grams
            .iter()
            .filter(|g| !g.ends_with('*'))
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    }
    fn bounded_name_search(&self) -> Option<i64> {
        // Measured at 2 M enterprises (docs/benchmarks/pg-search.md): collecting a match
        // through the index costs ~4 times a row of the walk, so the two meet near 3,000
        // matches of a keyword. Below 2,000 expected the index is used; above, the walk reads
        // at most 2 M / 2,000 × 20 = 20,000 rows. Grams outside the planner's list of the 1,000
        // most common (the rare ones, where the walk is hopeless) are estimated at 1,200.
        Some(2_000)
    }
    fn estimate_rows_sql(&self, select: &str) -> Option<String> {
        Some(format!("EXPLAIN {select}"))
    }
    // policy
    fn comma_list_sql(&self, expr: &str) -> String {
        format!("string_agg({expr}, ',' ORDER BY {expr})")
    }

    // labs
    fn is_booking_overlap(&self, e: &sqlx::Error) -> bool {
        // 23P01: exclusion_violation (the `lab_booking_no_overlap` constraint).
        matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01"))
    }
    fn after_bulk_load_sql(&self) -> &'static [&'static str] {
        &["ANALYZE"]
    }
    fn bulk_load(&self) -> BulkLoad {
        BulkLoad::PostgresCopy
    }
}

pub(crate) fn for_url(url: &str) -> Result<&'static dyn Dialect> {
    if url.starts_with("sqlite:") {
        Ok(&Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(&Postgres)
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}
