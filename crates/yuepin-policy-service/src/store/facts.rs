//! Enterprise facts as of a date, read from the platform's tables in batches (streaming by id:
//! the enterprises with the previous year's financials and the designations held, then their
//! quality events), and the [`FactIndex`] that turns them into engine rows without JSON. On a
//! SQLite file the read goes through rusqlite on a blocking thread (see
//! `yuepin_store::native_sqlite`): a full match reads every enterprise.

use crate::records::EnterpriseFacts;
use crate::PolicyService;
use chrono::{Months, NaiveDate};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use yuepin_domain::{Caller, QualityEventKind, StandardLevel, StandardRole, Yuan};
use yuepin_policy::model::FactDef;
use yuepin_policy::{FactRow, FactValue, Facts, PolicySet, SubjectKind};
use yuepin_store::{corrupt, Dialect, Result, StoreError};

impl EnterpriseFacts {
    /// The named form (for requests, display and merging request-supplied facts).
    pub fn to_facts(&self) -> Facts {
        let money = |fen: i64| Yuan::from_fen(fen).to_string();
        let mut f = Facts::new(SubjectKind::Enterprise)
            .with("designations", self.designations.clone())
            .with("division", format!("{:02}", self.division))
            .with("city", self.city.clone())
            .with("employees", self.employees)
            .with("registered_capital", money(self.registered_capital_fen))
            .with("founded_on", self.founded_on.clone())
            .with("listing", self.listing.clone())
            .with("certifications", self.certifications.clone())
            .with("failed_inspections_12m", self.failed_inspections_12m)
            .with("serious_penalties_12m", self.serious_penalties_12m);
        if self.international_standards_led > 0 || self.declared_standards == 0 {
            f = f.with(
                "international_standards_led",
                self.international_standards_led,
            );
        }
        if let Some(v) = self.revenue_china_fen {
            f = f.with("revenue_china", money(v));
        }
        if let Some(v) = self.revenue_world_fen {
            f = f.with("revenue_world", money(v));
        }
        f
    }
}

/// The enterprise fact vocabulary of a policy set, resolved once, to build [`FactRow`]s
/// directly (no JSON) in bulk. Produces the same row as `to_facts().to_row(set)`.
#[derive(Debug, Clone)]
pub struct FactIndex {
    width: usize,
    defs: HashMap<&'static str, FactDef>,
    /// The division domain as numbers ("13" → 13), index = code.
    divisions: Vec<Option<i64>>,
}

const ENTERPRISE_FACTS: [&str; 13] = [
    "designations",
    "division",
    "city",
    "employees",
    "registered_capital",
    "founded_on",
    "listing",
    "revenue_china",
    "revenue_world",
    "international_standards_led",
    "certifications",
    "failed_inspections_12m",
    "serious_penalties_12m",
];

impl FactIndex {
    pub fn new(set: &PolicySet) -> Self {
        let defs = ENTERPRISE_FACTS
            .iter()
            .filter_map(|n| {
                set.fact(SubjectKind::Enterprise, n)
                    .map(|d| (*n, d.clone()))
            })
            .collect();
        let divisions = set
            .fact(SubjectKind::Enterprise, "division")
            .map(|d| d.domain.iter().map(|c| c.parse().ok()).collect())
            .unwrap_or_default();
        Self {
            width: set.fact_count(SubjectKind::Enterprise),
            defs,
            divisions,
        }
    }

    fn code(def: &FactDef, s: &str) -> FactValue {
        FactValue::Code(
            def.domain
                .iter()
                .position(|c| c == s)
                .map(|i| i as u16)
                .unwrap_or(FactValue::OTHER_CODE),
        )
    }

    fn set_of<'a>(def: &FactDef, items: impl Iterator<Item = &'a String>) -> FactValue {
        let mut bits = 0u128;
        for s in items {
            if let Some(i) = def.domain.iter().position(|c| c == s) {
                bits |= 1u128 << i;
            }
        }
        FactValue::Set(bits)
    }

    /// The engine row for these facts.
    pub fn row(&self, f: &EnterpriseFacts) -> FactRow {
        let mut row = FactRow {
            subject: SubjectKind::Enterprise,
            values: vec![FactValue::Missing; self.width],
        };
        let mut put = |name: &str, v: FactValue| {
            if let Some(d) = self.defs.get(name) {
                row.set(d.id, v);
            }
        };
        if let Some(d) = self.defs.get("designations") {
            put("designations", Self::set_of(d, f.designations.iter()));
        }
        if let Some(d) = self.defs.get("certifications") {
            put("certifications", Self::set_of(d, f.certifications.iter()));
        }
        if self.defs.contains_key("division") {
            let code = self
                .divisions
                .iter()
                .position(|c| *c == Some(f.division))
                .map(|i| i as u16)
                .unwrap_or(FactValue::OTHER_CODE);
            put("division", FactValue::Code(code));
        }
        if let Some(d) = self.defs.get("city") {
            put("city", Self::code(d, &f.city));
        }
        if let Some(d) = self.defs.get("listing") {
            put("listing", Self::code(d, &f.listing));
        }
        put("employees", FactValue::Int(f.employees));
        put(
            "registered_capital",
            FactValue::Money(f.registered_capital_fen),
        );
        if let Ok(d) = NaiveDate::parse_from_str(&f.founded_on, "%Y-%m-%d") {
            put("founded_on", FactValue::Date(d));
        }
        if let Some(v) = f.revenue_china_fen {
            put("revenue_china", FactValue::Money(v));
        }
        if let Some(v) = f.revenue_world_fen {
            put("revenue_world", FactValue::Money(v));
        }
        // Declared-only standards leave the count unknown (待核实), never 0.
        if f.international_standards_led > 0 || f.declared_standards == 0 {
            put(
                "international_standards_led",
                FactValue::Int(f.international_standards_led),
            );
        }
        put(
            "failed_inspections_12m",
            FactValue::Int(f.failed_inspections_12m),
        );
        put(
            "serious_penalties_12m",
            FactValue::Int(f.serious_penalties_12m),
        );
        row
    }
}

/// Which enterprises to load.
#[derive(Debug, Clone, Copy)]
pub enum FactScope {
    /// Up to `limit` enterprises with id greater than `after`, in id order.
    After {
        after: i64,
        limit: i64,
    },
    One(i64),
}

/// The first day of the 12-month look-back window ending on `as_of`.
pub fn window_start(as_of: NaiveDate) -> NaiveDate {
    as_of
        .checked_sub_months(Months::new(12))
        .and_then(|d| d.succ_opt())
        .unwrap_or(as_of)
}

impl PolicyService {
    /// A batch of enterprises' facts as of `as_of`, for bulk work outside the service (the
    /// CLI's benchmark streams them itself): administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn facts(
        &self,
        caller: &Caller,
        as_of: NaiveDate,
        scope: FactScope,
    ) -> crate::Result<Vec<EnterpriseFacts>> {
        caller.require_administrator()?;
        Ok(self.load_facts(as_of, scope).await?)
    }

    /// Loads a batch of enterprises' facts as of `as_of` (two queries on one connection). On a
    /// SQLite file this reads through rusqlite on a blocking thread (see `native_sqlite`).
    pub(crate) async fn load_facts(
        &self,
        as_of: NaiveDate,
        scope: FactScope,
    ) -> Result<Vec<EnterpriseFacts>> {
        let store = &self.store;
        if let Some(path) = store.sqlite_file().map(|p| p.to_path_buf()) {
            let dialect = store.dialect();
            let setup = dialect.connection_setup();
            let sql = facts_sql(dialect, &scope, |i| format!("?{i}"));
            return yuepin_store::native_sqlite::with_connection(path, setup, move |conn| {
                read_facts_native(conn, &sql, as_of, scope)
            })
            .await;
        }
        let mut conn = store.pool().acquire().await?;
        let sql = facts_sql(store.dialect(), &scope, |i| format!("${i}"));
        read_facts(&mut conn, &sql, as_of, scope).await
    }

    /// One enterprise's facts (NotFound when absent).
    pub(crate) async fn load_enterprise_facts(
        &self,
        as_of: NaiveDate,
        id: i64,
    ) -> Result<EnterpriseFacts> {
        self.load_facts(as_of, FactScope::One(id))
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("enterprise #{id}")))
    }
}

/// The facts query: enterprises with the previous year's financials and the designations held
/// on as-of as one comma-joined column. Parameters: 1 the previous year, 2 the id bound
/// (`> after` or `= id`), 3 the limit, 4 the as-of day; `ph` spells a numbered placeholder
/// (numbered, not the dialect's anonymous `?`: the as-of day is used twice).
fn facts_sql(dialect: &dyn Dialect, scope: &FactScope, ph: fn(usize) -> String) -> String {
    let agg = dialect.comma_list_sql("d.kind");
    let id_cond = match scope {
        FactScope::After { .. } => format!("e.id > {}", ph(2)),
        FactScope::One(_) => format!("e.id = {}", ph(2)),
    };
    format!(
        "SELECT e.id, e.uscc, e.name, e.city, e.division, e.employees, e.registered_capital_fen, e.founded_on, e.listing, \
         f.revenue_china_fen, f.revenue_world_fen, \
         (SELECT {agg} FROM designations d WHERE d.enterprise_id = e.id AND d.awarded_on <= {p4} \
          AND (d.expires_on IS NULL OR d.expires_on >= {p4})) AS held \
         FROM enterprises e LEFT JOIN financials f ON f.enterprise_id = e.id AND f.year = {p1} \
         WHERE {id_cond} ORDER BY e.id LIMIT {p3}",
        p1 = ph(1),
        p3 = ph(3),
        p4 = ph(4),
    )
}

/// The quality events that feed facts, for enterprises with ids in [lo, hi] (1 lo, 2 hi, 3 as-of).
fn events_sql(ph: fn(usize) -> String) -> String {
    format!(
        "SELECT enterprise_id, event_date, data, provenance FROM quality_events WHERE enterprise_id >= {} AND enterprise_id <= {} \
         AND event_date <= {} AND kind IN ('inspection', 'certification', 'standard', 'penalty') ORDER BY enterprise_id, id",
        ph(1),
        ph(2),
        ph(3)
    )
}

fn scope_binds(scope: &FactScope) -> (i64, i64) {
    match *scope {
        FactScope::After { after, limit } => (after, limit),
        FactScope::One(id) => (id, 1),
    }
}

fn held_designations(held: Option<String>) -> Vec<String> {
    held.map(|h| {
        let mut v: Vec<String> = h.split(',').map(str::to_string).collect();
        v.sort();
        v
    })
    .unwrap_or_default()
}

/// Folds one quality event (its date and JSON data) into the facts it feeds.
fn fold_event(
    f: &mut EnterpriseFacts,
    as_of: NaiveDate,
    since: &str,
    date: &str,
    data: &str,
    provenance: &str,
) -> Result<()> {
    let recent = date >= since;
    let kind: QualityEventKind = serde_json::from_str(data).map_err(corrupt)?;
    match kind {
        QualityEventKind::Inspection { result, .. } => {
            if recent && result == yuepin_domain::InspectionResult::Fail {
                f.failed_inspections_12m += 1;
            }
        }
        QualityEventKind::Penalty { serious, .. } => {
            if recent && serious {
                f.serious_penalties_12m += 1;
            }
        }
        QualityEventKind::Standard { level, role, .. } => {
            if level == StandardLevel::International && role == StandardRole::Lead {
                if provenance == "declared" {
                    f.declared_standards += 1;
                } else {
                    f.international_standards_led += 1;
                }
            }
        }
        QualityEventKind::Certification(c) => {
            if c.valid_from <= as_of
                && as_of <= c.valid_until
                && !f.certifications.contains(&c.scheme)
            {
                f.certifications.push(c.scheme);
            }
        }
        QualityEventKind::Award { .. } => {}
    }
    Ok(())
}

async fn read_facts(
    conn: &mut AnyConnection,
    sql: &str,
    as_of: NaiveDate,
    scope: FactScope,
) -> Result<Vec<EnterpriseFacts>> {
    use chrono::Datelike;
    let day = as_of.to_string();
    let (bound, limit) = scope_binds(&scope);
    let rows = sqlx::query(sql)
        .bind(i64::from(as_of.year() - 1))
        .bind(bound)
        .bind(limit)
        .bind(&day)
        .fetch_all(&mut *conn)
        .await?;
    let mut out: Vec<EnterpriseFacts> = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(EnterpriseFacts {
            id: r.try_get("id")?,
            uscc: r.try_get("uscc")?,
            name: r.try_get("name")?,
            city: r.try_get("city")?,
            division: r.try_get("division")?,
            employees: r.try_get("employees")?,
            registered_capital_fen: r.try_get("registered_capital_fen")?,
            founded_on: r.try_get("founded_on")?,
            listing: r.try_get("listing")?,
            designations: held_designations(r.try_get("held")?),
            revenue_china_fen: r.try_get("revenue_china_fen")?,
            revenue_world_fen: r.try_get("revenue_world_fen")?,
            international_standards_led: 0,
            declared_standards: 0,
            certifications: Vec::new(),
            failed_inspections_12m: 0,
            serious_penalties_12m: 0,
        });
    }
    let (Some(lo), Some(hi)) = (out.first().map(|e| e.id), out.last().map(|e| e.id)) else {
        return Ok(out);
    };
    let pos: HashMap<i64, usize> = out.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let since = window_start(as_of).to_string();
    for ev in sqlx::query(&events_sql(|i| format!("${i}")))
        .bind(lo)
        .bind(hi)
        .bind(&day)
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some(&i) = pos.get(&ev.try_get::<i64, _>("enterprise_id")?) {
            let date: String = ev.try_get("event_date")?;
            let data: String = ev.try_get("data")?;
            let provenance: String = ev.try_get("provenance")?;
            fold_event(&mut out[i], as_of, &since, &date, &data, &provenance)?;
        }
    }
    Ok(out)
}

/// [`read_facts`] through rusqlite: typed reads by column index, no per-value conversion.
fn read_facts_native(
    conn: &mut rusqlite::Connection,
    sql: &str,
    as_of: NaiveDate,
    scope: FactScope,
) -> Result<Vec<EnterpriseFacts>> {
    use chrono::Datelike;
    use yuepin_store::native_sqlite::native;
    let day = as_of.to_string();
    let (bound, limit) = scope_binds(&scope);
    let mut stmt = conn.prepare(sql).map_err(native)?;
    let mut out: Vec<EnterpriseFacts> = Vec::with_capacity(limit.clamp(0, 100_000) as usize);
    let mut rows = stmt
        .query(rusqlite::params![
            i64::from(as_of.year() - 1),
            bound,
            limit,
            day
        ])
        .map_err(native)?;
    while let Some(r) = rows.next().map_err(native)? {
        out.push(EnterpriseFacts {
            id: r.get(0).map_err(native)?,
            uscc: r.get(1).map_err(native)?,
            name: r.get(2).map_err(native)?,
            city: r.get(3).map_err(native)?,
            division: r.get(4).map_err(native)?,
            employees: r.get(5).map_err(native)?,
            registered_capital_fen: r.get(6).map_err(native)?,
            founded_on: r.get(7).map_err(native)?,
            listing: r.get(8).map_err(native)?,
            revenue_china_fen: r.get(9).map_err(native)?,
            revenue_world_fen: r.get(10).map_err(native)?,
            designations: held_designations(r.get(11).map_err(native)?),
            international_standards_led: 0,
            declared_standards: 0,
            certifications: Vec::new(),
            failed_inspections_12m: 0,
            serious_penalties_12m: 0,
        });
    }
    drop(rows);
    let (Some(lo), Some(hi)) = (out.first().map(|e| e.id), out.last().map(|e| e.id)) else {
        return Ok(out);
    };
    let pos: HashMap<i64, usize> = out.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let since = window_start(as_of).to_string();
    let mut stmt = conn
        .prepare(&events_sql(|i| format!("?{i}")))
        .map_err(native)?;
    let mut rows = stmt.query(rusqlite::params![lo, hi, day]).map_err(native)?;
    while let Some(ev) = rows.next().map_err(native)? {
        if let Some(&i) = pos.get(&ev.get::<_, i64>(0).map_err(native)?) {
            let date: String = ev.get(1).map_err(native)?;
            let data: String = ev.get(2).map_err(native)?;
            let provenance: String = ev.get(3).map_err(native)?;
            fold_event(&mut out[i], as_of, &since, &date, &data, &provenance)?;
        }
    }
    Ok(out)
}
