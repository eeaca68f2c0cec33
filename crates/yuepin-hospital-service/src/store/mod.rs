//! The product-hospital tables as SQL: row mapping (stored text parsed into typed records; a
//! value that no longer parses is `StoreError::Corrupt`) and reads and writes on a given
//! connection, so that inside a writing transaction they go through its connection.

use crate::records::{
    dt_text, parse_dt, CaseRecord, Closure, EventRecord, ExpertRecord, HospitalRecord,
    KnowledgeRecord, LinkKind, Membership, MessageRecord, Priority, Side, SlaTarget,
};
use chrono::NaiveDateTime;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use yuepin_domain::{Division, RegionCode};
use yuepin_hospital::{CaseState, Pause};
use yuepin_store::{corrupt, get_opt_text, Result};

fn dt_of(s: &str) -> Result<NaiveDateTime> {
    parse_dt(s).ok_or_else(|| corrupt(format!("instant {s}")))
}

fn opt_dt(r: &AnyRow, col: &str) -> Result<Option<NaiveDateTime>> {
    get_opt_text(r, col)?.map(|s| dt_of(&s)).transpose()
}

fn opt_i64(r: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(r.try_get::<Option<i64>, _>(col)?)
}

/// Divisions stored as `38;39`.
pub(crate) fn divisions_text(d: &[Division]) -> String {
    d.iter()
        .map(|d| format!("{:02}", d.code()))
        .collect::<Vec<_>>()
        .join(";")
}

fn divisions_of(s: &str) -> Result<Vec<Division>> {
    s.split(';')
        .filter(|p| !p.is_empty())
        .map(|p| Division::parse(p).map_err(|_| corrupt(format!("division {p}"))))
        .collect()
}

fn region_of(s: &str) -> Result<RegionCode> {
    RegionCode::parse(s).map_err(|_| corrupt(format!("region {s}")))
}

// ---------------------------------------------------------------- hospitals

pub(crate) struct HospitalRow<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub institution: &'a str,
    pub city: &'a RegionCode,
    pub divisions: &'a [Division],
    pub capacity: i64,
    pub business_hours: &'a str,
}

pub(crate) async fn insert_hospital(conn: &mut AnyConnection, h: &HospitalRow<'_>) -> Result<i64> {
    let id: i64 = sqlx::query(
        "INSERT INTO hospital_hospitals (code, name, institution, city, divisions, capacity, business_hours, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(h.code)
    .bind(h.name)
    .bind(h.institution)
    .bind(h.city.as_str())
    .bind(divisions_text(h.divisions))
    .bind(h.capacity)
    .bind(h.business_hours)
    .bind(yuepin_store::now_text())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    for p in Priority::ALL {
        let (first, resolution) = p.default_targets();
        set_target(
            conn,
            id,
            &SlaTarget {
                priority: p,
                first_response_minutes: first,
                resolution_minutes: resolution,
            },
        )
        .await?;
    }
    Ok(id)
}

pub(crate) async fn set_target(
    conn: &mut AnyConnection,
    hospital_id: i64,
    t: &SlaTarget,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO hospital_sla_targets (hospital_id, priority, first_response_minutes, resolution_minutes) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (hospital_id, priority) DO UPDATE SET \
         first_response_minutes = excluded.first_response_minutes, resolution_minutes = excluded.resolution_minutes",
    )
    .bind(hospital_id)
    .bind(t.priority.as_str())
    .bind(t.first_response_minutes)
    .bind(t.resolution_minutes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn hospital_id_by_code(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT id FROM hospital_hospitals WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?,
    )
}

pub(crate) async fn hospitals(conn: &mut AnyConnection) -> Result<Vec<HospitalRecord>> {
    let rows = sqlx::query(
        "SELECT id, code, name, institution, city, divisions, capacity, business_hours FROM hospital_hospitals ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut targets: HashMap<i64, Vec<SlaTarget>> = HashMap::new();
    for r in sqlx::query(
        "SELECT hospital_id, priority, first_response_minutes, resolution_minutes FROM hospital_sla_targets",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let p: String = r.try_get("priority")?;
        targets
            .entry(r.try_get("hospital_id")?)
            .or_default()
            .push(SlaTarget {
                priority: Priority::parse(&p).ok_or_else(|| corrupt(format!("priority {p}")))?,
                first_response_minutes: r.try_get("first_response_minutes")?,
                resolution_minutes: r.try_get("resolution_minutes")?,
            });
    }
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let mut t = targets.remove(&id).unwrap_or_default();
            t.sort_by_key(|t| t.priority);
            Ok(HospitalRecord {
                id,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                institution: r.try_get("institution")?,
                city: region_of(&r.try_get::<String, _>("city")?)?,
                divisions: divisions_of(&r.try_get::<String, _>("divisions")?)?,
                capacity: r.try_get("capacity")?,
                business_hours: r.try_get("business_hours")?,
                targets: t,
            })
        })
        .collect()
}

pub(crate) async fn hospital(conn: &mut AnyConnection, id: i64) -> Result<Option<HospitalRecord>> {
    Ok(hospitals(conn).await?.into_iter().find(|h| h.id == id))
}

// ---------------------------------------------------------------- experts

pub(crate) struct ExpertRow<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub divisions: &'a [Division],
    pub qualifications: &'a [String],
    pub city: &'a RegionCode,
    pub max_load: i64,
}

pub(crate) async fn insert_expert(conn: &mut AnyConnection, x: &ExpertRow<'_>) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO hospital_experts (user_id, name, divisions, qualifications, city, max_load, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(x.user_id)
    .bind(x.name)
    .bind(divisions_text(x.divisions))
    .bind(x.qualifications.join(";"))
    .bind(x.city.as_str())
    .bind(x.max_load)
    .bind(yuepin_store::now_text())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}

pub(crate) async fn add_member(
    conn: &mut AnyConnection,
    hospital_id: i64,
    expert_id: i64,
    coordinator: bool,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO hospital_members (hospital_id, expert_id, coordinator) VALUES ($1, $2, $3) \
         ON CONFLICT (hospital_id, expert_id) DO UPDATE SET coordinator = excluded.coordinator",
    )
    .bind(hospital_id)
    .bind(expert_id)
    .bind(i64::from(coordinator))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const EXPERT_SQL: &str = "SELECT x.id, x.user_id, u.username, x.name, x.divisions, x.qualifications, x.city, x.max_load, \
     (SELECT COUNT(*) FROM hospital_cases c WHERE c.expert_id = x.id AND c.state IN ('assigned', 'in_consultation', 'waiting_for_enterprise')) AS load \
     FROM hospital_experts x JOIN users u ON u.id = x.user_id";

async fn experts_where(
    conn: &mut AnyConnection,
    cond: &str,
    arg: Option<i64>,
) -> Result<Vec<ExpertRecord>> {
    let sql = format!("{EXPERT_SQL} {cond} ORDER BY x.id");
    let mut q = sqlx::query(&sql);
    if let Some(a) = arg {
        q = q.bind(a);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let mut members: HashMap<i64, Vec<Membership>> = HashMap::new();
    for r in sqlx::query(
        "SELECT m.expert_id, m.hospital_id, m.coordinator, h.code, h.name FROM hospital_members m \
         JOIN hospital_hospitals h ON h.id = m.hospital_id ORDER BY m.hospital_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        members
            .entry(r.try_get("expert_id")?)
            .or_default()
            .push(Membership {
                hospital_id: r.try_get("hospital_id")?,
                hospital_code: r.try_get("code")?,
                hospital_name: r.try_get("name")?,
                coordinator: r.try_get::<i64, _>("coordinator")? == 1,
            });
    }
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            let quals: String = r.try_get("qualifications")?;
            Ok(ExpertRecord {
                id,
                user_id: r.try_get("user_id")?,
                username: r.try_get("username")?,
                name: r.try_get("name")?,
                divisions: divisions_of(&r.try_get::<String, _>("divisions")?)?,
                qualifications: quals
                    .split(';')
                    .filter(|q| !q.is_empty())
                    .map(str::to_string)
                    .collect(),
                city: region_of(&r.try_get::<String, _>("city")?)?,
                max_load: r.try_get("max_load")?,
                load: r.try_get("load")?,
                memberships: members.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

pub(crate) async fn experts(conn: &mut AnyConnection) -> Result<Vec<ExpertRecord>> {
    experts_where(conn, "", None).await
}

pub(crate) async fn expert(conn: &mut AnyConnection, id: i64) -> Result<Option<ExpertRecord>> {
    Ok(experts_where(conn, "WHERE x.id = $1", Some(id))
        .await?
        .pop())
}

pub(crate) async fn expert_by_user(
    conn: &mut AnyConnection,
    user_id: i64,
) -> Result<Option<ExpertRecord>> {
    Ok(experts_where(conn, "WHERE x.user_id = $1", Some(user_id))
        .await?
        .pop())
}

pub(crate) async fn last_assigned(conn: &mut AnyConnection) -> Result<HashMap<i64, NaiveDateTime>> {
    let mut out = HashMap::new();
    for r in sqlx::query(
        "SELECT id, last_assigned_at FROM hospital_experts WHERE last_assigned_at IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        if let Some(t) = opt_dt(&r, "last_assigned_at")? {
            out.insert(r.try_get::<i64, _>("id")?, t);
        }
    }
    Ok(out)
}

pub(crate) async fn stamp_assigned(
    conn: &mut AnyConnection,
    expert_id: i64,
    at: NaiveDateTime,
) -> Result<()> {
    sqlx::query("UPDATE hospital_experts SET last_assigned_at = $1 WHERE id = $2")
        .bind(dt_text(at))
        .bind(expert_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- cases

pub(crate) struct CaseInsert<'a> {
    pub enterprise_id: i64,
    pub hospital_id: i64,
    pub title: &'a str,
    pub product: &'a str,
    pub problem_type: &'a str,
    pub description: &'a str,
    pub division: Division,
    pub priority: Priority,
    pub on_site: bool,
    pub link: Option<(LinkKind, i64)>,
    pub at: NaiveDateTime,
}

pub(crate) async fn insert_case(conn: &mut AnyConnection, c: &CaseInsert<'_>) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO hospital_cases (enterprise_id, hospital_id, title, product, problem_type, description, division, priority, on_site, link_kind, link_id, state, opened_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'opened', $12, $12) RETURNING id",
    )
    .bind(c.enterprise_id)
    .bind(c.hospital_id)
    .bind(c.title)
    .bind(c.product)
    .bind(c.problem_type)
    .bind(c.description)
    .bind(format!("{:02}", c.division.code()))
    .bind(c.priority.as_str())
    .bind(i64::from(c.on_site))
    .bind(c.link.map(|(k, _)| k.as_str().to_string()))
    .bind(c.link.map(|(_, id)| id))
    .bind(dt_text(c.at))
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}

const CASE_SQL: &str = "SELECT c.id, c.enterprise_id, e.name AS enterprise_name, c.hospital_id, h.name AS hospital_name, \
     c.title, c.product, c.problem_type, c.description, c.division, c.priority, c.on_site, c.link_kind, c.link_id, c.state, \
     c.expert_id, x.name AS expert_name, c.opened_at, c.first_response_at, c.resolved_at, c.closed_at, \
     c.root_cause, c.fix, c.verification, c.satisfaction \
     FROM hospital_cases c JOIN enterprises e ON e.id = c.enterprise_id \
     JOIN hospital_hospitals h ON h.id = c.hospital_id LEFT JOIN hospital_experts x ON x.id = c.expert_id";

fn case_from_row(r: &AnyRow) -> Result<CaseRecord> {
    let text = |c: &str| -> Result<String> { Ok(r.try_get::<String, _>(c)?) };
    let state = text("state")?;
    let priority = text("priority")?;
    let division = text("division")?;
    let link_kind = get_opt_text(r, "link_kind")?
        .map(|k| LinkKind::parse(&k).ok_or_else(|| corrupt(format!("link kind {k}"))))
        .transpose()?;
    let closure = match (
        get_opt_text(r, "root_cause")?,
        get_opt_text(r, "fix")?,
        get_opt_text(r, "verification")?,
    ) {
        (Some(root_cause), Some(fix), Some(verification)) => Some(Closure {
            root_cause,
            fix,
            verification,
        }),
        _ => None,
    };
    Ok(CaseRecord {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: text("enterprise_name")?,
        hospital_id: r.try_get("hospital_id")?,
        hospital_name: text("hospital_name")?,
        title: text("title")?,
        product: text("product")?,
        problem_type: text("problem_type")?,
        description: text("description")?,
        division: Division::parse(&division)
            .map_err(|_| corrupt(format!("division {division}")))?,
        priority: Priority::parse(&priority)
            .ok_or_else(|| corrupt(format!("priority {priority}")))?,
        on_site: r.try_get::<i64, _>("on_site")? == 1,
        link_kind,
        link_id: opt_i64(r, "link_id")?,
        state: CaseState::parse(&state).ok_or_else(|| corrupt(format!("case state {state}")))?,
        expert_id: opt_i64(r, "expert_id")?,
        expert_name: get_opt_text(r, "expert_name")?,
        panel: Vec::new(),
        opened_at: dt_of(&text("opened_at")?)?,
        first_response_at: opt_dt(r, "first_response_at")?,
        resolved_at: opt_dt(r, "resolved_at")?,
        closed_at: opt_dt(r, "closed_at")?,
        closure,
        satisfaction: opt_i64(r, "satisfaction")?,
        sla: Vec::new(),
    })
}

/// Which cases a query may return.
pub(crate) enum Scope {
    All,
    Enterprise(i64),
    /// Assigned to the expert, on their panel, or in a hospital they coordinate.
    Expert(i64),
}

pub(crate) async fn cases(
    conn: &mut AnyConnection,
    scope: &Scope,
    state: Option<CaseState>,
    hospital_id: Option<i64>,
    limit: i64,
) -> Result<Vec<CaseRecord>> {
    let mut sql = format!("{CASE_SQL} WHERE 1 = 1");
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    let scope_arg = match scope {
        Scope::All => None,
        Scope::Enterprise(e) => {
            sql.push_str(&format!(" AND c.enterprise_id = ${}", next()));
            Some(*e)
        }
        Scope::Expert(x) => {
            let i = next();
            sql.push_str(&format!(
                " AND (c.expert_id = ${i} OR c.id IN (SELECT case_id FROM hospital_case_panel WHERE expert_id = ${i}) \
                 OR c.hospital_id IN (SELECT hospital_id FROM hospital_members WHERE expert_id = ${i} AND coordinator = 1))"
            ));
            Some(*x)
        }
    };
    if state.is_some() {
        sql.push_str(&format!(" AND c.state = ${}", next()));
    }
    if hospital_id.is_some() {
        sql.push_str(&format!(" AND c.hospital_id = ${}", next()));
    }
    sql.push_str(&format!(" ORDER BY c.id DESC LIMIT {}", limit.max(1)));
    let mut q = sqlx::query(&sql);
    if let Some(a) = scope_arg {
        q = q.bind(a);
    }
    if let Some(s) = state {
        q = q.bind(s.as_str());
    }
    if let Some(h) = hospital_id {
        q = q.bind(h);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let mut out: Vec<CaseRecord> = rows.iter().map(case_from_row).collect::<Result<_>>()?;
    let panels = panels(conn).await?;
    for c in &mut out {
        c.panel = panels.get(&c.id).cloned().unwrap_or_default();
    }
    Ok(out)
}

pub(crate) async fn case(conn: &mut AnyConnection, id: i64) -> Result<Option<CaseRecord>> {
    let sql = format!("{CASE_SQL} WHERE c.id = $1");
    let Some(r) = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut c = case_from_row(&r)?;
    c.panel = panel_of(conn, id).await?;
    Ok(Some(c))
}

async fn panels(conn: &mut AnyConnection) -> Result<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in sqlx::query(
        "SELECT case_id, expert_id FROM hospital_case_panel ORDER BY case_id, expert_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        out.entry(r.try_get("case_id")?)
            .or_default()
            .push(r.try_get("expert_id")?);
    }
    Ok(out)
}

pub(crate) async fn panel_of(conn: &mut AnyConnection, case_id: i64) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT expert_id FROM hospital_case_panel WHERE case_id = $1 ORDER BY expert_id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
}

pub(crate) async fn add_panel(
    conn: &mut AnyConnection,
    case_id: i64,
    expert_id: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO hospital_case_panel (case_id, expert_id) VALUES ($1, $2) ON CONFLICT (case_id, expert_id) DO NOTHING")
        .bind(case_id)
        .bind(expert_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes a case's state and its assigned expert.
pub(crate) async fn set_state(
    conn: &mut AnyConnection,
    id: i64,
    state: CaseState,
    expert_id: Option<i64>,
    at: NaiveDateTime,
) -> Result<()> {
    sqlx::query(
        "UPDATE hospital_cases SET state = $1, expert_id = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(state.as_str())
    .bind(expert_id)
    .bind(dt_text(at))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets one instant column (`first_response_at`, `resolved_at`, `closed_at`) or clears it.
pub(crate) async fn set_instant(
    conn: &mut AnyConnection,
    id: i64,
    column: &'static str,
    at: Option<NaiveDateTime>,
) -> Result<()> {
    debug_assert!(matches!(
        column,
        "first_response_at" | "resolved_at" | "closed_at"
    ));
    sqlx::query(&format!(
        "UPDATE hospital_cases SET {column} = $1 WHERE id = $2"
    ))
    .bind(at.map(dt_text))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn set_closure(
    conn: &mut AnyConnection,
    id: i64,
    c: Option<&Closure>,
) -> Result<()> {
    sqlx::query(
        "UPDATE hospital_cases SET root_cause = $1, fix = $2, verification = $3 WHERE id = $4",
    )
    .bind(c.map(|c| c.root_cause.clone()))
    .bind(c.map(|c| c.fix.clone()))
    .bind(c.map(|c| c.verification.clone()))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn set_panel_flag(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE hospital_cases SET panel = 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) async fn set_satisfaction(
    conn: &mut AnyConnection,
    id: i64,
    score: i64,
    comment: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE hospital_cases SET satisfaction = $1, satisfaction_comment = $2 WHERE id = $3",
    )
    .bind(score)
    .bind(comment)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- pauses

pub(crate) async fn open_pause(
    conn: &mut AnyConnection,
    case_id: i64,
    at: NaiveDateTime,
) -> Result<()> {
    sqlx::query("INSERT INTO hospital_pauses (case_id, paused_at) VALUES ($1, $2)")
        .bind(case_id)
        .bind(dt_text(at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) async fn close_pause(
    conn: &mut AnyConnection,
    case_id: i64,
    at: NaiveDateTime,
) -> Result<()> {
    sqlx::query(
        "UPDATE hospital_pauses SET resumed_at = $1 WHERE case_id = $2 AND resumed_at IS NULL",
    )
    .bind(dt_text(at))
    .bind(case_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Every case's pauses (for lists and statistics).
pub(crate) async fn all_pauses(conn: &mut AnyConnection) -> Result<HashMap<i64, Vec<Pause>>> {
    let mut out: HashMap<i64, Vec<Pause>> = HashMap::new();
    for r in sqlx::query("SELECT case_id, paused_at, resumed_at FROM hospital_pauses ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        out.entry(r.try_get("case_id")?).or_default().push(Pause {
            from: dt_of(&r.try_get::<String, _>("paused_at")?)?,
            to: opt_dt(&r, "resumed_at")?,
        });
    }
    Ok(out)
}

pub(crate) async fn pauses_of(conn: &mut AnyConnection, case_id: i64) -> Result<Vec<Pause>> {
    let rows = sqlx::query(
        "SELECT paused_at, resumed_at FROM hospital_pauses WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Pause {
                from: dt_of(&r.try_get::<String, _>("paused_at")?)?,
                to: opt_dt(r, "resumed_at")?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------- thread and history

pub(crate) struct MessageInsert<'a> {
    pub case_id: i64,
    pub author_user_id: Option<i64>,
    pub author: &'a str,
    pub side: Side,
    pub internal: bool,
    pub body: &'a str,
    pub at: NaiveDateTime,
}

pub(crate) async fn insert_message(conn: &mut AnyConnection, m: &MessageInsert<'_>) -> Result<i64> {
    Ok(sqlx::query(
        "INSERT INTO hospital_messages (case_id, author_user_id, author, side, internal, body, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(m.case_id)
    .bind(m.author_user_id)
    .bind(m.author)
    .bind(m.side.as_str())
    .bind(i64::from(m.internal))
    .bind(m.body)
    .bind(dt_text(m.at))
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?)
}

/// A case's messages; internal notes only when `with_internal` (never for the enterprise:
/// the filter is in the SQL, so they are not even read).
pub(crate) async fn messages(
    conn: &mut AnyConnection,
    case_id: i64,
    with_internal: bool,
) -> Result<Vec<MessageRecord>> {
    let sql = if with_internal {
        "SELECT id, author, side, internal, body, at FROM hospital_messages WHERE case_id = $1 ORDER BY id"
    } else {
        "SELECT id, author, side, internal, body, at FROM hospital_messages WHERE case_id = $1 AND internal = 0 ORDER BY id"
    };
    let rows = sqlx::query(sql).bind(case_id).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            let side: String = r.try_get("side")?;
            Ok(MessageRecord {
                id: r.try_get("id")?,
                author: r.try_get("author")?,
                side: Side::parse(&side).ok_or_else(|| corrupt(format!("side {side}")))?,
                internal: r.try_get::<i64, _>("internal")? == 1,
                body: r.try_get("body")?,
                at: dt_of(&r.try_get::<String, _>("at")?)?,
            })
        })
        .collect()
}

pub(crate) async fn insert_event(
    conn: &mut AnyConnection,
    case_id: i64,
    event: &str,
    actor: &str,
    expert_id: Option<i64>,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO hospital_events (case_id, event, actor, expert_id, reason, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(case_id)
    .bind(event)
    .bind(actor)
    .bind(expert_id)
    .bind(reason.map(str::to_string))
    .bind(dt_text(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn events(conn: &mut AnyConnection, case_id: i64) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query("SELECT event, actor, expert_id, reason, at FROM hospital_events WHERE case_id = $1 ORDER BY id")
        .bind(case_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(EventRecord {
                event: r.try_get("event")?,
                actor: r.try_get("actor")?,
                expert_id: opt_i64(r, "expert_id")?,
                reason: get_opt_text(r, "reason")?,
                at: dt_of(&r.try_get::<String, _>("at")?)?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------- knowledge base

pub(crate) async fn upsert_knowledge(
    conn: &mut AnyConnection,
    k: &KnowledgeRecord,
    at: NaiveDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO hospital_knowledge (case_id, title, problem, cause, fix, division, status, proposed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7) ON CONFLICT (case_id) DO UPDATE SET \
         title = excluded.title, problem = excluded.problem, cause = excluded.cause, fix = excluded.fix, \
         status = 'proposed', proposed_at = excluded.proposed_at, approved_at = NULL",
    )
    .bind(k.case_id)
    .bind(&k.title)
    .bind(&k.problem)
    .bind(&k.cause)
    .bind(&k.fix)
    .bind(format!("{:02}", k.division.code()))
    .bind(dt_text(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn approve_knowledge(
    conn: &mut AnyConnection,
    case_id: i64,
    at: NaiveDateTime,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE hospital_knowledge SET status = 'approved', approved_at = $1 WHERE case_id = $2",
    )
    .bind(dt_text(at))
    .bind(case_id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

fn knowledge_from_row(r: &AnyRow) -> Result<KnowledgeRecord> {
    let division: String = r.try_get("division")?;
    Ok(KnowledgeRecord {
        case_id: r.try_get("case_id")?,
        title: r.try_get("title")?,
        problem: r.try_get("problem")?,
        cause: r.try_get("cause")?,
        fix: r.try_get("fix")?,
        division: Division::parse(&division)
            .map_err(|_| corrupt(format!("division {division}")))?,
        approved: r.try_get::<String, _>("status")? == "approved",
        approved_at: opt_dt(r, "approved_at")?,
    })
}

/// Approved entries matching a substring (any of title, problem, cause, fix) and a division.
/// `LIKE` with `ESCAPE`, so `%` and `_` in the query match themselves.
pub(crate) async fn search_knowledge(
    conn: &mut AnyConnection,
    q: Option<&str>,
    division: Option<Division>,
    status: &str,
    limit: i64,
) -> Result<Vec<KnowledgeRecord>> {
    let mut sql = String::from(
        "SELECT case_id, title, problem, cause, fix, division, status, approved_at FROM hospital_knowledge WHERE status = $1",
    );
    let mut n = 1;
    let pattern = q.map(|q| {
        let esc: String = q
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        format!("%{esc}%")
    });
    if pattern.is_some() {
        n += 1;
        sql.push_str(&format!(
            " AND (title LIKE ${n} ESCAPE '\\' OR problem LIKE ${n} ESCAPE '\\' OR cause LIKE ${n} ESCAPE '\\' OR fix LIKE ${n} ESCAPE '\\')"
        ));
    }
    if division.is_some() {
        n += 1;
        sql.push_str(&format!(" AND division = ${n}"));
    }
    sql.push_str(&format!(" ORDER BY case_id DESC LIMIT {}", limit.max(1)));
    let mut query = sqlx::query(&sql).bind(status);
    if let Some(p) = pattern {
        query = query.bind(p);
    }
    if let Some(d) = division {
        query = query.bind(format!("{:02}", d.code()));
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(knowledge_from_row).collect()
}

pub(crate) async fn knowledge(
    conn: &mut AnyConnection,
    case_id: i64,
) -> Result<Option<KnowledgeRecord>> {
    sqlx::query("SELECT case_id, title, problem, cause, fix, division, status, approved_at FROM hospital_knowledge WHERE case_id = $1")
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(knowledge_from_row)
        .transpose()
}
