//! Storage of the policy engine (issue 4): enterprise facts read from the platform in batches
//! (streaming by id, three queries per batch), match runs with their stored outcomes, offers
//! awaiting the enterprise's confirmation (免申即享 意愿确认), in-app notifications, applications
//! and grants (the same standard or award is never paid twice: a unique (measure, reference)
//! key, reported as a [`StoreError::Conflict`]), and grant totals.

use crate::{now_text, Actor, Change, Result, Store, StoreError};
use chrono::{Months, NaiveDate};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use yuepin_domain::{QualityEventKind, StandardLevel, StandardRole, Yuan};
use yuepin_policy::model::FactDef;
use yuepin_policy::{FactRow, FactValue, Facts, PolicySet, SubjectKind};

/// One enterprise's facts as the platform knows them on an as-of date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnterpriseFacts {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub city: String,
    pub division: i64,
    pub employees: i64,
    pub registered_capital_fen: i64,
    pub founded_on: String,
    pub listing: String,
    /// Designations held on the as-of date.
    pub designations: Vec<String>,
    /// The previous fiscal year's revenue (year of as-of − 1), when reported.
    pub revenue_china_fen: Option<i64>,
    pub revenue_world_fen: Option<i64>,
    /// International standards the enterprise led, released on or before as-of.
    pub international_standards_led: i64,
    /// Certification schemes valid on as-of.
    pub certifications: Vec<String>,
    /// Failed inspections dated in (as-of − 12 months, as-of].
    pub failed_inspections_12m: i64,
    /// Serious penalties dated in (as-of − 12 months, as-of].
    pub serious_penalties_12m: i64,
}

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
            .with(
                "international_standards_led",
                self.international_standards_led,
            )
            .with("certifications", self.certifications.clone())
            .with("failed_inspections_12m", self.failed_inspections_12m)
            .with("serious_penalties_12m", self.serious_penalties_12m);
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
        put(
            "international_standards_led",
            FactValue::Int(f.international_standards_led),
        );
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

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// The first day of the 12-month look-back window ending on `as_of`.
pub fn window_start(as_of: NaiveDate) -> NaiveDate {
    as_of
        .checked_sub_months(Months::new(12))
        .and_then(|d| d.succ_opt())
        .unwrap_or(as_of)
}

impl Store {
    /// Loads a batch of enterprises' facts as of `as_of` (two queries on one connection). On a
    /// SQLite file this reads through rusqlite on a blocking thread (see `native_sqlite`).
    pub async fn policy_facts(
        &self,
        as_of: NaiveDate,
        scope: FactScope,
    ) -> Result<Vec<EnterpriseFacts>> {
        if let Some(path) = self.sqlite_file.clone() {
            let setup = self.dialect.connection_setup();
            return crate::native_sqlite::with_connection(path, setup, move |conn| {
                load_facts_native(conn, as_of, scope)
            })
            .await;
        }
        let mut conn = self.pool.acquire().await?;
        load_facts(&mut conn, self.dialect.name() == "sqlite", as_of, scope).await
    }

    /// One enterprise's facts (NotFound when absent).
    pub async fn policy_enterprise_facts(
        &self,
        as_of: NaiveDate,
        id: i64,
    ) -> Result<EnterpriseFacts> {
        self.policy_facts(as_of, FactScope::One(id))
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("enterprise #{id}")))
    }
}

/// The facts query: enterprises with the previous year's financials and the designations held
/// on as-of as one comma-joined column. Parameters: 1 the previous year, 2 the id bound
/// (`> after` or `= id`), 3 the limit, 4 the as-of day; `ph` spells a numbered placeholder.
fn facts_sql(sqlite: bool, scope: &FactScope, ph: fn(usize) -> String) -> String {
    let agg = if sqlite {
        "group_concat(d.kind, ',')"
    } else {
        "string_agg(d.kind, ',' ORDER BY d.kind)"
    };
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
        "SELECT enterprise_id, event_date, data FROM quality_events WHERE enterprise_id >= {} AND enterprise_id <= {} \
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
                f.international_standards_led += 1;
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

async fn load_facts(
    conn: &mut AnyConnection,
    sqlite: bool,
    as_of: NaiveDate,
    scope: FactScope,
) -> Result<Vec<EnterpriseFacts>> {
    use chrono::Datelike;
    let day = as_of.to_string();
    let (bound, limit) = scope_binds(&scope);
    let rows = sqlx::query(&facts_sql(sqlite, &scope, |i| format!("${i}")))
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
            fold_event(&mut out[i], as_of, &since, &date, &data)?;
        }
    }
    Ok(out)
}

/// [`load_facts`] through rusqlite: typed reads by column index, no per-value conversion.
fn load_facts_native(
    conn: &mut rusqlite::Connection,
    as_of: NaiveDate,
    scope: FactScope,
) -> Result<Vec<EnterpriseFacts>> {
    use crate::native_sqlite::native;
    use chrono::Datelike;
    let day = as_of.to_string();
    let (bound, limit) = scope_binds(&scope);
    let mut stmt = conn
        .prepare(&facts_sql(true, &scope, |i| format!("?{i}")))
        .map_err(native)?;
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
            fold_event(&mut out[i], as_of, &since, &date, &data)?;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Match runs, stored outcomes, offers and notifications.

/// One stored cell: an enterprise's outcome for a measure (eligible or undetermined).
#[derive(Debug, Clone, Serialize)]
pub struct MatchCell {
    pub enterprise_id: i64,
    /// Measure key, `gd-2023-74/M18`.
    pub measure: String,
    pub outcome: String,
    /// JSON list of the facts behind the outcome (missing facts when undetermined).
    pub reasons: String,
    pub amount_fen: Option<i64>,
}

/// A notification to write for an enterprise.
#[derive(Debug, Clone, Serialize)]
pub struct NewNotification {
    pub enterprise_id: i64,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: String,
}

/// Everything one match run writes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewMatchRun {
    pub as_of: String,
    pub overrides: serde_json::Value,
    pub enterprises: i64,
    pub evaluations: i64,
    /// (measure key, outcome, count) for every outcome seen.
    pub counts: Vec<(String, String, i64)>,
    pub cells: Vec<MatchCell>,
    /// (enterprise id, measure key, amount) of offers to make.
    pub offers: Vec<(i64, String, Option<i64>)>,
    pub notifications: Vec<NewNotification>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatchRun {
    pub id: i64,
    pub as_of: String,
    pub overrides: serde_json::Value,
    pub enterprises: i64,
    pub evaluations: i64,
    pub eligible: i64,
    pub undetermined: i64,
    pub notified: i64,
    pub created_at: String,
    pub created_by: String,
}

fn run_from_row(r: &AnyRow) -> Result<MatchRun> {
    Ok(MatchRun {
        id: r.try_get("id")?,
        as_of: r.try_get("as_of")?,
        overrides: serde_json::from_str(&r.try_get::<String, _>("overrides")?)
            .unwrap_or(serde_json::Value::Null),
        enterprises: r.try_get("enterprises")?,
        evaluations: r.try_get("evaluations")?,
        eligible: r.try_get("eligible")?,
        undetermined: r.try_get("undetermined")?,
        notified: r.try_get("notified")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
    })
}

/// An enterprise listed under a measure in a run.
#[derive(Debug, Clone, Serialize)]
pub struct MeasureListing {
    pub enterprise_id: i64,
    pub uscc: String,
    pub name: String,
    pub city: String,
    pub division: i64,
    pub outcome: String,
    pub reasons: serde_json::Value,
    pub amount_fen: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub id: i64,
    pub enterprise_id: i64,
    pub measure: String,
    pub run_id: i64,
    pub as_of: String,
    /// offered, confirmed or declined.
    pub status: String,
    pub amount_fen: Option<i64>,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
}

fn offer_from_row(r: &AnyRow) -> Result<Offer> {
    Ok(Offer {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        measure: r.try_get("measure")?,
        run_id: r.try_get("run_id")?,
        as_of: r.try_get("as_of")?,
        status: r.try_get("status")?,
        amount_fen: r.try_get("amount_fen")?,
        created_at: r.try_get("created_at")?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: i64,
    pub enterprise_id: i64,
    pub run_id: Option<i64>,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// An application for a money measure, from the enterprise or from a confirmed offer.
#[derive(Debug, Clone, Serialize)]
pub struct Application {
    pub id: i64,
    pub enterprise_id: i64,
    pub uscc: String,
    pub enterprise_name: String,
    pub city: String,
    pub measure: String,
    /// What is being paid for: the standard's code (M8), the award (M10), the financing (M18).
    pub reference: String,
    pub offer_id: Option<i64>,
    pub amount_requested_fen: Option<i64>,
    pub note: String,
    /// submitted, approved or rejected.
    pub status: String,
    pub reason: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub grant: Option<Grant>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewApplication {
    pub enterprise_id: i64,
    pub measure: String,
    pub reference: String,
    pub offer_id: Option<i64>,
    pub amount_requested_fen: Option<i64>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    pub id: i64,
    pub application_id: i64,
    pub enterprise_id: i64,
    pub measure: String,
    pub reference: String,
    pub amount_fen: i64,
    pub city: String,
    pub year: i64,
    pub granted_at: String,
    pub granted_by: String,
}

fn grant_from_row(r: &AnyRow) -> Result<Grant> {
    Ok(Grant {
        id: r.try_get("id")?,
        application_id: r.try_get("application_id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        measure: r.try_get("measure")?,
        reference: r.try_get("reference")?,
        amount_fen: r.try_get("amount_fen")?,
        city: r.try_get("city")?,
        year: r.try_get("year")?,
        granted_at: r.try_get("granted_at")?,
        granted_by: r.try_get("granted_by")?,
    })
}

/// Grant totals for one (measure, city, year).
#[derive(Debug, Clone, Serialize)]
pub struct GrantTotal {
    pub measure: String,
    pub city: String,
    pub year: i64,
    pub grants: i64,
    pub amount_fen: i64,
}

/// The regulator's decision on an application.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Approve and record a grant of this amount in this year.
    Approve {
        amount_fen: i64,
        year: i64,
        reason: String,
    },
    Reject {
        reason: String,
    },
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || {
                let m = db.message().to_lowercase();
                m.contains("unique") || m.contains("duplicate key")
            }
        }
        _ => false,
    }
}

const APP_COLS: &str = "a.id, a.enterprise_id, e.uscc, e.name AS enterprise_name, e.city, a.measure, a.reference, a.offer_id, \
    a.amount_requested_fen, a.note, a.status, a.reason, a.created_at, a.created_by, a.decided_at, a.decided_by";

async fn application_on(conn: &mut AnyConnection, id: i64) -> Result<Application> {
    let r = sqlx::query(&format!(
        "SELECT {APP_COLS} FROM policy_applications a JOIN enterprises e ON e.id = a.enterprise_id WHERE a.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("application #{id}")))?;
    let mut a = app_from_row(&r)?;
    a.grant = sqlx::query("SELECT * FROM policy_grants WHERE application_id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(grant_from_row)
        .transpose()?;
    Ok(a)
}

fn app_from_row(r: &AnyRow) -> Result<Application> {
    Ok(Application {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        uscc: r.try_get("uscc")?,
        enterprise_name: r.try_get("enterprise_name")?,
        city: r.try_get("city")?,
        measure: r.try_get("measure")?,
        reference: r.try_get("reference")?,
        offer_id: r.try_get("offer_id")?,
        amount_requested_fen: r.try_get("amount_requested_fen")?,
        note: r.try_get("note")?,
        status: r.try_get("status")?,
        reason: r.try_get("reason")?,
        created_at: r.try_get("created_at")?,
        created_by: r.try_get("created_by")?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
        grant: None,
    })
}

fn paid_twice(measure: &str, reference: &str) -> StoreError {
    StoreError::Conflict(format!(
        "{measure} 的 {reference:?} 已经发放过资金,同一标准或奖项不重复资助 (already paid: the same standard or award is never paid twice)"
    ))
}

/// Checks that nothing has been paid, and nothing else is pending, for (measure, reference).
async fn check_not_paid(
    conn: &mut AnyConnection,
    measure: &str,
    reference: &str,
    except_application: Option<i64>,
) -> Result<()> {
    if sqlx::query("SELECT id FROM policy_grants WHERE measure = $1 AND reference = $2")
        .bind(measure)
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?
        .is_some()
    {
        return Err(paid_twice(measure, reference));
    }
    let pending = sqlx::query(
        "SELECT id FROM policy_applications WHERE measure = $1 AND reference = $2 AND status = 'submitted' AND id <> $3",
    )
    .bind(measure)
    .bind(reference)
    .bind(except_application.unwrap_or(-1))
    .fetch_optional(&mut *conn)
    .await?;
    if except_application.is_none() && pending.is_some() {
        return Err(StoreError::Conflict(format!(
            "{measure} 的 {reference:?} 已有待审核的申请 (an application for it is already pending)"
        )));
    }
    Ok(())
}

impl Store {
    /// Writes a match run: the run, per-measure counts, stored cells, offers (refreshing open
    /// ones) and notifications, in one audited transaction. Returns the run id.
    pub async fn policy_save_match(&self, actor: Actor, run: &NewMatchRun) -> Result<i64> {
        let eligible = run.cells.iter().filter(|c| c.outcome == "eligible").count() as i64;
        let undetermined = run.cells.len() as i64 - eligible;
        let now = now_text();
        let mut w = self.begin_write(actor.clone()).await?;
        let run_id: i64 = sqlx::query(
            "INSERT INTO policy_match_runs (as_of, overrides, enterprises, evaluations, eligible, undetermined, notified, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&run.as_of)
        .bind(run.overrides.to_string())
        .bind(run.enterprises)
        .bind(run.evaluations)
        .bind(eligible)
        .bind(undetermined)
        .bind(run.notifications.len() as i64)
        .bind(&now)
        .bind(&actor.0)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        for part in run.counts.chunks(300) {
            let values = crate::dialect::values_sql(self.dialect, part.len(), 4);
            let sql = format!(
                "INSERT INTO policy_match_counts (run_id, measure, outcome, n) VALUES {}",
                values
            );
            let mut q = sqlx::query(&sql);
            for (m, o, n) in part {
                q = q.bind(run_id).bind(m).bind(o).bind(*n);
            }
            q.execute(&mut *w.tx).await?;
        }
        for part in run.cells.chunks(400) {
            let values = crate::dialect::values_sql(self.dialect, part.len(), 6);
            let sql = format!(
                "INSERT INTO policy_match_results (run_id, enterprise_id, measure, outcome, reasons, amount_fen) VALUES {}",
                values
            );
            let mut q = sqlx::query(&sql);
            for c in part {
                q = q
                    .bind(run_id)
                    .bind(c.enterprise_id)
                    .bind(&c.measure)
                    .bind(&c.outcome)
                    .bind(&c.reasons)
                    .bind(c.amount_fen);
            }
            q.execute(&mut *w.tx).await?;
        }
        for part in run.offers.chunks(400) {
            let values = crate::dialect::values_sql(self.dialect, part.len(), 7);
            let sql = format!(
                "INSERT INTO policy_offers (enterprise_id, measure, run_id, as_of, status, amount_fen, created_at) VALUES {} \
                 ON CONFLICT (enterprise_id, measure) DO UPDATE SET run_id = excluded.run_id, as_of = excluded.as_of, \
                 amount_fen = excluded.amount_fen WHERE policy_offers.status = 'offered'",
                values
            );
            let mut q = sqlx::query(&sql);
            for (e, m, amount) in part {
                q = q
                    .bind(*e)
                    .bind(m)
                    .bind(run_id)
                    .bind(&run.as_of)
                    .bind("offered")
                    .bind(*amount)
                    .bind(&now);
            }
            q.execute(&mut *w.tx).await?;
        }
        for part in run.notifications.chunks(300) {
            let values = crate::dialect::values_sql(self.dialect, part.len(), 9);
            let sql = format!(
                "INSERT INTO policy_notifications (enterprise_id, run_id, title_zh, title_en, body_zh, body_en, link, created_at, read_at) VALUES {}",
                values
            );
            let mut q = sqlx::query(&sql);
            for n in part {
                q = q
                    .bind(n.enterprise_id)
                    .bind(run_id)
                    .bind(&n.title_zh)
                    .bind(&n.title_en)
                    .bind(&n.body_zh)
                    .bind(&n.body_en)
                    .bind(&n.link)
                    .bind(&now)
                    .bind(None::<String>);
            }
            q.execute(&mut *w.tx).await?;
        }
        w.record(
            Change::new("match", "policy_match_run", run_id).after(serde_json::json!({
                "as_of": run.as_of, "overrides": run.overrides, "enterprises": run.enterprises,
                "evaluations": run.evaluations, "eligible": eligible, "undetermined": undetermined,
                "offers": run.offers.len(), "notifications": run.notifications.len(),
            })),
        );
        self.commit(w).await?;
        Ok(run_id)
    }

    pub async fn policy_latest_run(&self) -> Result<Option<MatchRun>> {
        sqlx::query("SELECT * FROM policy_match_runs ORDER BY id DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(run_from_row)
            .transpose()
    }

    pub async fn policy_run(&self, id: i64) -> Result<MatchRun> {
        let r = sqlx::query("SELECT * FROM policy_match_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("match run #{id}")))?;
        run_from_row(&r)
    }

    pub async fn policy_runs(&self, limit: i64) -> Result<Vec<MatchRun>> {
        sqlx::query("SELECT * FROM policy_match_runs ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(run_from_row)
            .collect()
    }

    /// (measure, outcome, count) of a run.
    pub async fn policy_run_counts(&self, run_id: i64) -> Result<Vec<(String, String, i64)>> {
        sqlx::query("SELECT measure, outcome, n FROM policy_match_counts WHERE run_id = $1 ORDER BY measure, outcome")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("measure")?, r.try_get("outcome")?, r.try_get("n")?)))
            .collect()
    }

    /// An enterprise's stored cells in a run.
    pub async fn policy_results_of(
        &self,
        run_id: i64,
        enterprise_id: i64,
    ) -> Result<Vec<MatchCell>> {
        sqlx::query(
            "SELECT enterprise_id, measure, outcome, reasons, amount_fen FROM policy_match_results \
             WHERE run_id = $1 AND enterprise_id = $2 ORDER BY measure",
        )
        .bind(run_id)
        .bind(enterprise_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(MatchCell {
                enterprise_id: r.try_get("enterprise_id")?,
                measure: r.try_get("measure")?,
                outcome: r.try_get("outcome")?,
                reasons: r.try_get("reasons")?,
                amount_fen: r.try_get("amount_fen")?,
            })
        })
        .collect()
    }

    /// Enterprises with `outcome` for `measure` in a run, in id order (`limit` ≤ 0: all).
    pub async fn policy_measure_listing(
        &self,
        run_id: i64,
        measure: &str,
        outcome: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<MeasureListing>> {
        let limit = if limit <= 0 { i64::MAX } else { limit };
        sqlx::query(
            "SELECT r.enterprise_id, e.uscc, e.name, e.city, e.division, r.outcome, r.reasons, r.amount_fen \
             FROM policy_match_results r JOIN enterprises e ON e.id = r.enterprise_id \
             WHERE r.run_id = $1 AND r.measure = $2 AND r.outcome = $3 ORDER BY r.enterprise_id LIMIT $4 OFFSET $5",
        )
        .bind(run_id)
        .bind(measure)
        .bind(outcome)
        .bind(limit)
        .bind(offset.max(0))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(MeasureListing {
                enterprise_id: r.try_get("enterprise_id")?,
                uscc: r.try_get("uscc")?,
                name: r.try_get("name")?,
                city: r.try_get("city")?,
                division: r.try_get("division")?,
                outcome: r.try_get("outcome")?,
                reasons: serde_json::from_str(&r.try_get::<String, _>("reasons")?)
                    .unwrap_or(serde_json::Value::Null),
                amount_fen: r.try_get("amount_fen")?,
            })
        })
        .collect()
    }

    pub async fn policy_offers_of(&self, enterprise_id: i64) -> Result<Vec<Offer>> {
        sqlx::query("SELECT * FROM policy_offers WHERE enterprise_id = $1 ORDER BY id")
            .bind(enterprise_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(offer_from_row)
            .collect()
    }

    pub async fn policy_offer(&self, id: i64) -> Result<Offer> {
        let r = sqlx::query("SELECT * FROM policy_offers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("offer #{id}")))?;
        offer_from_row(&r)
    }

    /// The enterprise's answer to an offer (意愿确认). Only an open offer can be answered; a
    /// confirmation may open an application (money measures) in the same transaction.
    pub async fn policy_answer_offer(
        &self,
        actor: Actor,
        offer_id: i64,
        confirm: bool,
        application: Option<NewApplication>,
    ) -> Result<(Offer, Option<Application>)> {
        let mut w = self.begin_write(actor.clone()).await?;
        let before = sqlx::query("SELECT * FROM policy_offers WHERE id = $1")
            .bind(offer_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("offer #{offer_id}")))?;
        let before = offer_from_row(&before)?;
        if before.status != "offered" {
            return Err(StoreError::Conflict(format!(
                "该事项已处理({}) (offer already answered: {})",
                before.status, before.status
            )));
        }
        let status = if confirm { "confirmed" } else { "declined" };
        let now = now_text();
        sqlx::query(
            "UPDATE policy_offers SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4",
        )
        .bind(status)
        .bind(&now)
        .bind(&actor.0)
        .bind(offer_id)
        .execute(&mut *w.tx)
        .await?;
        let mut after = before.clone();
        after.status = status.into();
        after.decided_at = Some(now);
        after.decided_by = Some(actor.0.clone());
        w.record(
            Change::new(
                if confirm { "confirm" } else { "decline" },
                "policy_offer",
                offer_id,
            )
            .before(&before)
            .after(&after),
        );
        let app = match (confirm, application) {
            (true, Some(a)) => Some(insert_application(&mut w, &actor, &a).await?),
            _ => None,
        };
        self.commit(w).await?;
        Ok((after, app))
    }

    pub async fn policy_notifications_of(
        &self,
        enterprise_id: i64,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        sqlx::query(
            "SELECT * FROM policy_notifications WHERE enterprise_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(enterprise_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Notification {
                id: r.try_get("id")?,
                enterprise_id: r.try_get("enterprise_id")?,
                run_id: r.try_get("run_id")?,
                title_zh: r.try_get("title_zh")?,
                title_en: r.try_get("title_en")?,
                body_zh: r.try_get("body_zh")?,
                body_en: r.try_get("body_en")?,
                link: r.try_get("link")?,
                created_at: r.try_get("created_at")?,
                read_at: r.try_get("read_at")?,
            })
        })
        .collect()
    }

    /// Marks an enterprise's notifications read (all of them, or one).
    pub async fn policy_mark_read(
        &self,
        actor: Actor,
        enterprise_id: i64,
        id: Option<i64>,
    ) -> Result<u64> {
        let mut w = self.begin_write(actor).await?;
        let done = sqlx::query(
            "UPDATE policy_notifications SET read_at = $1 WHERE enterprise_id = $2 AND read_at IS NULL AND ($3 < 0 OR id = $3)",
        )
        .bind(now_text())
        .bind(enterprise_id)
        .bind(id.unwrap_or(-1))
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        w.record(Change::new(
            "read",
            "policy_notification",
            id.map(|i| i.to_string())
                .unwrap_or_else(|| format!("enterprise:{enterprise_id}")),
        ));
        self.commit(w).await?;
        Ok(done)
    }

    // -----------------------------------------------------------------------------------------
    // Applications and grants.

    pub async fn policy_apply(&self, actor: Actor, a: &NewApplication) -> Result<Application> {
        let mut w = self.begin_write(actor.clone()).await?;
        let app = insert_application(&mut w, &actor, a).await?;
        self.commit(w).await?;
        Ok(app)
    }

    pub async fn policy_application(&self, id: i64) -> Result<Application> {
        let mut conn = self.pool.acquire().await?;
        application_on(&mut conn, id).await
    }

    /// Applications, newest first; `enterprise_id` scopes to one enterprise, `status` filters.
    pub async fn policy_applications(
        &self,
        enterprise_id: Option<i64>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Application>> {
        let rows = sqlx::query(&format!(
            "SELECT {APP_COLS} FROM policy_applications a JOIN enterprises e ON e.id = a.enterprise_id \
             WHERE ($1 < 0 OR a.enterprise_id = $1) AND ($2 = '' OR a.status = $2) ORDER BY a.id DESC LIMIT $3"
        ))
        .bind(enterprise_id.unwrap_or(-1))
        .bind(status.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut apps: Vec<Application> = rows.iter().map(app_from_row).collect::<Result<_>>()?;
        if apps.is_empty() {
            return Ok(apps);
        }
        let grants: HashMap<i64, Grant> = sqlx::query(
            "SELECT g.* FROM policy_grants g JOIN policy_applications a ON a.id = g.application_id \
             WHERE ($1 < 0 OR a.enterprise_id = $1)",
        )
        .bind(enterprise_id.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| grant_from_row(r).map(|g| (g.application_id, g)))
        .collect::<Result<_>>()?;
        for a in &mut apps {
            a.grant = grants.get(&a.id).cloned();
        }
        Ok(apps)
    }

    /// The regulator's decision. Approving records the grant; the unique (measure, reference)
    /// key refuses a second payment for the same standard or award.
    pub async fn policy_decide(
        &self,
        actor: Actor,
        application_id: i64,
        decision: &Decision,
    ) -> Result<Application> {
        let mut w = self.begin_write(actor.clone()).await?;
        let before = application_on(&mut w.tx, application_id).await?;
        if before.status != "submitted" {
            return Err(StoreError::Conflict(format!(
                "申请已处理({}) (application already decided: {})",
                before.status, before.status
            )));
        }
        let now = now_text();
        let (status, reason) = match decision {
            Decision::Approve { reason, .. } => ("approved", reason),
            Decision::Reject { reason } => ("rejected", reason),
        };
        if let Decision::Approve {
            amount_fen, year, ..
        } = decision
        {
            check_not_paid(
                &mut w.tx,
                &before.measure,
                &before.reference,
                Some(application_id),
            )
            .await?;
            let inserted = sqlx::query(
                "INSERT INTO policy_grants (application_id, enterprise_id, measure, reference, amount_fen, city, year, granted_at, granted_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(application_id)
            .bind(before.enterprise_id)
            .bind(&before.measure)
            .bind(&before.reference)
            .bind(*amount_fen)
            .bind(&before.city)
            .bind(*year)
            .bind(&now)
            .bind(&actor.0)
            .fetch_one(&mut *w.tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(paid_twice(&before.measure, &before.reference));
                }
                Err(e) => return Err(e.into()),
            }
        }
        sqlx::query(
            "UPDATE policy_applications SET status = $1, reason = $2, decided_at = $3, decided_by = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(reason)
        .bind(&now)
        .bind(&actor.0)
        .bind(application_id)
        .execute(&mut *w.tx)
        .await?;
        let after = application_on(&mut w.tx, application_id).await?;
        w.record(
            Change::new(status, "policy_application", application_id)
                .before(&before)
                .after(&after),
        );
        self.commit(w).await?;
        Ok(after)
    }

    /// Grants, newest first.
    pub async fn policy_grants(
        &self,
        enterprise_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Grant>> {
        sqlx::query("SELECT * FROM policy_grants WHERE ($1 < 0 OR enterprise_id = $1) ORDER BY id DESC LIMIT $2")
            .bind(enterprise_id.unwrap_or(-1))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(grant_from_row)
            .collect()
    }

    /// Totals by measure, city and year.
    pub async fn policy_grant_totals(&self) -> Result<Vec<GrantTotal>> {
        sqlx::query(
            "SELECT measure, city, year, COUNT(*) AS grants, CAST(SUM(amount_fen) AS BIGINT) AS amount_fen \
             FROM policy_grants GROUP BY measure, city, year ORDER BY measure, city, year",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(GrantTotal {
                measure: r.try_get("measure")?,
                city: r.try_get("city")?,
                year: r.try_get("year")?,
                grants: r.try_get("grants")?,
                amount_fen: r.try_get("amount_fen")?,
            })
        })
        .collect()
    }
}

async fn insert_application(
    w: &mut crate::WriteTx,
    actor: &Actor,
    a: &NewApplication,
) -> Result<Application> {
    check_not_paid(&mut w.tx, &a.measure, &a.reference, None).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO policy_applications (enterprise_id, measure, reference, offer_id, amount_requested_fen, note, status, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, 'submitted', $7, $8) RETURNING id",
    )
    .bind(a.enterprise_id)
    .bind(&a.measure)
    .bind(&a.reference)
    .bind(a.offer_id)
    .bind(a.amount_requested_fen)
    .bind(&a.note)
    .bind(now_text())
    .bind(&actor.0)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get(0)?;
    let app = application_on(&mut w.tx, id).await?;
    w.record(Change::new("apply", "policy_application", id).after(&app));
    Ok(app)
}
