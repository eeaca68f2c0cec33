//! Hospitals and experts: the regulator registers product hospitals (institution, city,
//! specialities, capacity, business hours; SLA targets per priority, set by the regulator or
//! the hospital's coordinator) and experts bound to `expert` accounts with their hospital
//! memberships. Signed-in users list hospitals (an enterprise picks one to open a case).

use crate::access::{require_signed_in, Viewer};
use crate::error::{HospitalError, HospitalResult, Invalid};
use crate::records::{ExpertRecord, HospitalRecord, NewExpert, NewHospital, SlaTarget};
use crate::store::{self, ExpertRow, HospitalRow};
use crate::HospitalService;
use sqlx::AnyConnection;
use yuepin_domain::{Caller, Division, RegionCode, Role};
use yuepin_hospital::BusinessHours;
use yuepin_store::{Actor, Change};

/// Trimmed text of 1..=`max` characters without control characters.
pub(crate) fn text(field: &'static str, s: &str, max: usize) -> HospitalResult<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(HospitalError::invalid(field, Invalid::Missing));
    }
    if t.chars().count() > max {
        return Err(HospitalError::invalid(field, Invalid::TooLong));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(HospitalError::invalid(field, Invalid::Malformed));
    }
    Ok(t.to_string())
}

pub(crate) fn divisions(field: &'static str, s: &str) -> HospitalResult<Vec<Division>> {
    let mut out: Vec<Division> = s
        .split([';', ' ', ',', '、'])
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            Division::parse(p.trim()).map_err(|_| HospitalError::invalid(field, Invalid::Unknown))
        })
        .collect::<HospitalResult<_>>()?;
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(HospitalError::invalid(field, Invalid::Missing));
    }
    Ok(out)
}

pub(crate) fn city(field: &'static str, s: &str) -> HospitalResult<RegionCode> {
    RegionCode::parse(s).map_err(|_| HospitalError::invalid(field, Invalid::Unknown))
}

/// A new hospital's values, checked.
pub(crate) struct CheckedHospital {
    pub code: String,
    pub name: String,
    pub institution: String,
    pub city: RegionCode,
    pub divisions: Vec<Division>,
    pub capacity: i64,
    pub hours: BusinessHours,
}

pub(crate) fn check_hospital(h: &NewHospital) -> HospitalResult<CheckedHospital> {
    let code = h.code.trim().to_string();
    if !(2..=20).contains(&code.len())
        || !code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(HospitalError::invalid("code", Invalid::Malformed));
    }
    if !(1..=10_000).contains(&h.capacity) {
        return Err(HospitalError::invalid("capacity", Invalid::OutOfRange));
    }
    Ok(CheckedHospital {
        code,
        name: text("name", &h.name, 100)?,
        institution: text("institution", &h.institution, 100)?,
        city: city("city", &h.city)?,
        divisions: divisions("divisions", &h.divisions)?,
        capacity: h.capacity,
        hours: BusinessHours::parse(&h.business_hours)
            .map_err(|_| HospitalError::invalid("business_hours", Invalid::Malformed))?,
    })
}

pub(crate) async fn insert_checked_hospital(
    conn: &mut AnyConnection,
    h: &CheckedHospital,
) -> HospitalResult<i64> {
    if store::hospital_id_by_code(conn, &h.code).await?.is_some() {
        return Err(HospitalError::invalid("code", Invalid::Taken));
    }
    let hours = h.hours.to_string();
    Ok(store::insert_hospital(
        conn,
        &HospitalRow {
            code: &h.code,
            name: &h.name,
            institution: &h.institution,
            city: &h.city,
            divisions: &h.divisions,
            capacity: h.capacity,
            business_hours: &hours,
        },
    )
    .await?)
}

/// A new expert's values, checked (the account looked up beforehand).
pub(crate) struct CheckedExpert {
    pub user_id: i64,
    pub name: String,
    pub divisions: Vec<Division>,
    pub qualifications: Vec<String>,
    pub city: RegionCode,
    pub max_load: i64,
    /// Hospital codes with the coordinator flag.
    pub hospitals: Vec<(String, bool)>,
}

pub(crate) fn check_expert(x: &NewExpert, user_id: i64) -> HospitalResult<CheckedExpert> {
    if !(1..=100).contains(&x.max_load) {
        return Err(HospitalError::invalid("max_load", Invalid::OutOfRange));
    }
    let qualifications = x
        .qualifications
        .split(';')
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| text("qualifications", q, 100))
        .collect::<HospitalResult<Vec<_>>>()?;
    let hospitals: Vec<(String, bool)> = x
        .hospitals
        .split(';')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| match h.strip_suffix('*') {
            Some(code) => (code.to_string(), true),
            None => (h.to_string(), false),
        })
        .collect();
    if hospitals.is_empty() {
        return Err(HospitalError::invalid("hospitals", Invalid::Missing));
    }
    Ok(CheckedExpert {
        user_id,
        name: text("name", &x.name, 50)?,
        divisions: divisions("divisions", &x.divisions)?,
        qualifications,
        city: city("city", &x.city)?,
        max_load: x.max_load,
        hospitals,
    })
}

pub(crate) async fn insert_checked_expert(
    conn: &mut AnyConnection,
    x: &CheckedExpert,
) -> HospitalResult<i64> {
    if store::expert_by_user(conn, x.user_id).await?.is_some() {
        return Err(HospitalError::invalid("username", Invalid::Taken));
    }
    let mut ids = Vec::new();
    for (code, coord) in &x.hospitals {
        let id = store::hospital_id_by_code(conn, code)
            .await?
            .ok_or_else(|| HospitalError::invalid("hospitals", Invalid::Unknown))?;
        ids.push((id, *coord));
    }
    let id = store::insert_expert(
        conn,
        &ExpertRow {
            user_id: x.user_id,
            name: &x.name,
            divisions: &x.divisions,
            qualifications: &x.qualifications,
            city: &x.city,
            max_load: x.max_load,
        },
    )
    .await?;
    for (h, coord) in ids {
        store::add_member(conn, h, id, coord).await?;
    }
    Ok(id)
}

impl HospitalService {
    /// The `expert` account's user id (looked up before a write: no second connection in one).
    pub(crate) async fn expert_user_id(&self, username: &str) -> HospitalResult<i64> {
        let user = self
            .store
            .user_by_username(username.trim())
            .await?
            .ok_or_else(|| HospitalError::invalid("username", Invalid::Unknown))?;
        if user.role != Role::Expert {
            return Err(HospitalError::invalid("username", Invalid::NotExpert));
        }
        Ok(user.id)
    }

    /// Registers a product hospital with the default SLA targets (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_hospital(
        &self,
        caller: &Caller,
        h: &NewHospital,
    ) -> HospitalResult<HospitalRecord> {
        caller.require_administrator()?;
        let checked = check_hospital(h)?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id = insert_checked_hospital(w.conn(), &checked).await?;
        w.record(
            Change::new("create", "hospital", id).after(serde_json::json!({
                "code": checked.code, "name": checked.name, "city": checked.city.as_str(),
            })),
        );
        let rec = store::hospital(w.conn(), id).await?;
        self.store.commit(w).await?;
        rec.ok_or_else(|| HospitalError::missing("hospital", id))
    }

    /// Every hospital (any signed-in caller).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn hospitals(&self, caller: &Caller) -> HospitalResult<Vec<HospitalRecord>> {
        require_signed_in(caller)?;
        let mut conn = self.store.pool().acquire().await?;
        Ok(store::hospitals(&mut conn).await?)
    }

    /// Sets one priority's targets (the regulator or the hospital's coordinator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_sla_target(
        &self,
        caller: &Caller,
        hospital_id: i64,
        target: SlaTarget,
    ) -> HospitalResult<HospitalRecord> {
        let range = 1..=(365 * 24 * 60);
        if !range.contains(&target.first_response_minutes) {
            return Err(HospitalError::invalid(
                "first_response_minutes",
                Invalid::OutOfRange,
            ));
        }
        if !range.contains(&target.resolution_minutes)
            || target.resolution_minutes < target.first_response_minutes
        {
            return Err(HospitalError::invalid(
                "resolution_minutes",
                Invalid::OutOfRange,
            ));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let viewer = self.viewer_on(w.conn(), caller).await?;
        if store::hospital(w.conn(), hospital_id).await?.is_none()
            || !viewer.coordinates(hospital_id)
        {
            return Err(HospitalError::missing("hospital", hospital_id));
        }
        store::set_target(w.conn(), hospital_id, &target).await?;
        w.record(Change::new("update", "hospital_sla_target", hospital_id).after(target));
        let rec = store::hospital(w.conn(), hospital_id).await?;
        self.store.commit(w).await?;
        rec.ok_or_else(|| HospitalError::missing("hospital", hospital_id))
    }

    /// Registers an expert for an `expert` account (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_expert(
        &self,
        caller: &Caller,
        x: &NewExpert,
    ) -> HospitalResult<ExpertRecord> {
        caller.require_administrator()?;
        let uid = self.expert_user_id(&x.username).await?;
        let checked = check_expert(x, uid)?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id = insert_checked_expert(w.conn(), &checked).await?;
        w.record(
            Change::new("create", "hospital_expert", id).after(serde_json::json!({
                "user_id": uid, "name": checked.name,
            })),
        );
        let rec = store::expert(w.conn(), id).await?;
        self.store.commit(w).await?;
        rec.ok_or_else(|| HospitalError::missing("expert", id))
    }

    /// Every expert with their load (administrators and experts: a coordinator reassigns).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn experts(&self, caller: &Caller) -> HospitalResult<Vec<ExpertRecord>> {
        let mut conn = self.store.pool().acquire().await?;
        match self.viewer_on(&mut conn, caller).await? {
            Viewer::Enterprise(_) => Err(yuepin_domain::Denied::Role {
                needs: vec![Role::Regulator, Role::Expert],
            }
            .into()),
            _ => Ok(store::experts(&mut conn).await?),
        }
    }

    /// The calling expert's own record.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn me(&self, caller: &Caller) -> HospitalResult<ExpertRecord> {
        caller.require_role(&[Role::Expert])?;
        let mut conn = self.store.pool().acquire().await?;
        match self.viewer_on(&mut conn, caller).await? {
            Viewer::Expert(x) => Ok(x),
            _ => Err(HospitalError::ExpertNotBound),
        }
    }
}
