//! The catalogue: labs, their instruments and services, instrument blackouts, operator
//! qualifications and the binding of lab accounts to labs. Reading the catalogue is public;
//! regulators create labs and bind staff; a lab's staff maintain its instruments and services.

use crate::records::{
    Catalogue, GrantedQualification, InstrumentDetail, InstrumentRecord, LabDetail, LabRecord,
    OneStop, ServiceRecord, StaffBinding,
};
use crate::store::{
    blackout_from_row, instrument_from_row, instrument_on, json, lab_from_row, lab_on,
    service_from_row, service_on,
};
use crate::{Invalid, LabsError, LabsResult, LabsService};
use sqlx::Row;
use std::collections::HashMap;
use yuepin_domain::{Caller, RegionCode, Role, Uscc};
use yuepin_labs::{Blackout, HeldQualification, Instrument, Lab, LabCode, Service, TimeRange};
use yuepin_store::{now_text, Actor, Change, WriteTx};

/// The longest validity of an operator qualification grant (three years).
pub const QUALIFICATION_MAX_MONTHS: u32 = 36;

impl LabsService {
    // ------------------------------------------------------------ labs

    /// Lab names by id (public, like the labs themselves).
    pub(crate) async fn lab_names(&self, caller: &Caller) -> LabsResult<HashMap<i64, String>> {
        Ok(self
            .labs(caller)
            .await?
            .into_iter()
            .map(|l| (l.id, l.lab.name))
            .collect())
    }

    /// Every lab (public).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn labs(&self, _caller: &Caller) -> LabsResult<Vec<LabRecord>> {
        Ok(sqlx::query("SELECT * FROM labs ORDER BY id")
            .fetch_all(self.store.pool())
            .await?
            .iter()
            .map(lab_from_row)
            .collect::<yuepin_store::Result<_>>()?)
    }

    /// One lab (public).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lab(&self, _caller: &Caller, id: i64) -> LabsResult<LabRecord> {
        let mut conn = self.store.pool().acquire().await?;
        lab_on(&mut conn, id).await
    }

    /// A lab by its code, as the CLI names labs (public).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lab_by_code(&self, _caller: &Caller, code: &LabCode) -> LabsResult<LabRecord> {
        let r = sqlx::query("SELECT * FROM labs WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(self.store.pool())
            .await?
            .ok_or_else(|| LabsError::NotFound {
                entity: "lab",
                key: code.as_str().to_string(),
            })?;
        Ok(lab_from_row(&r)?)
    }

    /// A lab with its instruments and services (public).
    pub async fn lab_detail(&self, caller: &Caller, id: i64) -> LabsResult<LabDetail> {
        Ok(LabDetail {
            lab: self.lab(caller, id).await?,
            instruments: self.instruments_of_lab(caller, id).await?,
            services: self.services(caller, Some(id)).await?,
        })
    }

    /// A lab the caller may manage, for building an instrument or service of it (refused before
    /// the lab is even looked up when the caller manages another lab).
    pub async fn lab_for_management(&self, caller: &Caller, id: i64) -> LabsResult<LabRecord> {
        self.require_manage_lab(caller, id).await?;
        self.lab(caller, id).await
    }

    /// Creates a lab (the id inside `lab` is ignored). Regulators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_lab(
        &self,
        caller: &Caller,
        code: &LabCode,
        lab: &Lab,
    ) -> LabsResult<LabRecord> {
        caller.require_administrator()?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id = insert_lab(&mut w, code, lab).await?;
        self.store.commit(w).await?;
        self.lab(caller, id).await
    }

    /// Replaces a lab's description (its code stays).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_lab(&self, caller: &Caller, id: i64, lab: &Lab) -> LabsResult<LabRecord> {
        self.require_manage_lab(caller, id).await?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let before = lab_on(&mut w.tx, id).await?;
        sqlx::query(
            "UPDATE labs SET name = $1, city = $2, data = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(&lab.name)
        .bind(lab.city.city().code.as_str())
        .bind(json(lab)?)
        .bind(now_text())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("update", "lab", id)
                .before(before.lab)
                .after(lab),
        );
        self.store.commit(w).await?;
        self.lab(caller, id).await
    }

    /// Binds a `lab` account to a lab (one lab per account; rebinding moves it). Regulators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn bind_staff(
        &self,
        caller: &Caller,
        lab_id: i64,
        username: &str,
    ) -> LabsResult<StaffBinding> {
        caller.require_administrator()?;
        self.lab(caller, lab_id).await?;
        // MERGE: accounts (store core)
        let user = self
            .store
            .user_by_username(username)
            .await?
            .ok_or_else(|| LabsError::NotFound {
                entity: "user",
                key: username.to_string(),
            })?;
        if user.role != Role::Lab {
            return Err(LabsError::NotLabAccount(user.username));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        sqlx::query(
            "INSERT INTO lab_staff (user_id, lab_id) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET lab_id = excluded.lab_id",
        )
        .bind(user.id)
        .bind(lab_id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("bind", "lab_staff", user.id)
                .after(serde_json::json!({"user_id": user.id, "lab_id": lab_id})),
        );
        self.store.commit(w).await?;
        Ok(StaffBinding {
            user_id: user.id,
            lab_id,
        })
    }

    // ------------------------------------------------------------ instruments

    /// One instrument (public).
    pub async fn instrument(&self, _caller: &Caller, id: i64) -> LabsResult<InstrumentRecord> {
        let mut conn = self.store.pool().acquire().await?;
        instrument_on(&mut conn, id).await
    }

    /// An instrument the caller may manage (its blackouts, its feed).
    pub async fn instrument_for_management(
        &self,
        caller: &Caller,
        id: i64,
    ) -> LabsResult<InstrumentRecord> {
        let inst = self.instrument(caller, id).await?;
        self.require_manage_lab(caller, inst.lab_id).await?;
        Ok(inst)
    }

    /// An instrument's page: prices, busy time of the next 14 days, blackouts and the lab's
    /// services for what it tests (public).
    pub async fn instrument_detail(
        &self,
        caller: &Caller,
        id: i64,
    ) -> LabsResult<InstrumentDetail> {
        let instrument = self.instrument(caller, id).await?;
        let lab = self.lab(caller, instrument.lab_id).await?;
        let now = crate::now();
        let from = crate::store::minute_of(now);
        let busy = self.busy_of(caller, id, from, from + 14 * 1440).await?;
        let services = self
            .services(caller, Some(instrument.lab_id))
            .await?
            .into_iter()
            .filter(|s| instrument.instrument.tests(&s.service.method.item))
            .collect();
        Ok(InstrumentDetail {
            blackouts: self.blackouts_of(caller, id).await?,
            instrument,
            lab,
            busy,
            services,
            now,
        })
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn instruments_of_lab(
        &self,
        _caller: &Caller,
        lab_id: i64,
    ) -> LabsResult<Vec<InstrumentRecord>> {
        Ok(
            sqlx::query("SELECT * FROM lab_instruments WHERE lab_id = $1 ORDER BY id")
                .bind(lab_id)
                .fetch_all(self.store.pool())
                .await?
                .iter()
                .map(instrument_from_row)
                .collect::<yuepin_store::Result<_>>()?,
        )
    }

    /// Active instruments performing `item` (any item when `None`) in `city` (any when
    /// `None`), at most `limit` (public).
    pub async fn find_instruments(
        &self,
        _caller: &Caller,
        item: Option<&yuepin_labs::TestItem>,
        city: Option<&RegionCode>,
        limit: i64,
    ) -> LabsResult<Vec<InstrumentRecord>> {
        let city = city.map(|c| c.city().code.clone()).unwrap_or_default();
        self.find_instruments_in(item.map(|i| i.as_str()).unwrap_or(""), &city, limit)
            .await
    }

    /// [`Self::find_instruments`] by item text and city code ("" for any).
    pub(crate) async fn find_instruments_in(
        &self,
        item: &str,
        city: &str,
        limit: i64,
    ) -> LabsResult<Vec<InstrumentRecord>> {
        let sql = if item.is_empty() {
            "SELECT * FROM lab_instruments i WHERE i.active = 1 AND ($1 = '' OR $1 = '') AND ($2 = '' OR i.city = $2) ORDER BY i.id LIMIT $3"
        } else {
            "SELECT i.* FROM lab_instrument_items t JOIN lab_instruments i ON i.id = t.instrument_id WHERE t.item = $1 AND ($2 = '' OR t.city = $2) AND i.active = 1 ORDER BY i.id LIMIT $3"
        };
        Ok(sqlx::query(sql)
            .bind(item)
            .bind(city)
            .bind(limit)
            .fetch_all(self.store.pool())
            .await?
            .iter()
            .map(instrument_from_row)
            .collect::<yuepin_store::Result<_>>()?)
    }

    /// Every test item some instrument performs, for the search form (public).
    pub async fn instrument_items(&self, _caller: &Caller) -> LabsResult<Vec<String>> {
        Ok(
            sqlx::query("SELECT DISTINCT item FROM lab_instrument_items ORDER BY item")
                .fetch_all(self.store.pool())
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?,
        )
    }

    /// Creates (`id` = None) or updates an instrument of `lab_id`.
    pub async fn save_instrument(
        &self,
        caller: &Caller,
        lab_id: i64,
        id: Option<i64>,
        inst: &Instrument,
        requires_approval: bool,
    ) -> LabsResult<InstrumentRecord> {
        self.require_manage_lab(caller, lab_id).await?;
        non_negative("purchase_price", inst.purchase_price)?;
        non_negative("peak_hourly", inst.tariff.peak_hourly)?;
        non_negative("off_peak_hourly", inst.tariff.off_peak_hourly)?;
        for a in &inst.accessories {
            non_negative("accessories", a.hourly)?;
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id = write_instrument(&mut w, lab_id, id, inst, requires_approval).await?;
        self.store.commit(w).await?;
        self.instrument(caller, id).await
    }

    // ------------------------------------------------------------ services

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn service(&self, _caller: &Caller, id: i64) -> LabsResult<ServiceRecord> {
        let mut conn = self.store.pool().acquire().await?;
        service_on(&mut conn, id).await
    }

    /// Services, optionally of one lab (public).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn services(
        &self,
        _caller: &Caller,
        lab_id: Option<i64>,
    ) -> LabsResult<Vec<ServiceRecord>> {
        Ok(
            sqlx::query("SELECT * FROM lab_services WHERE ($1 = 0 OR lab_id = $1) ORDER BY id")
                .bind(lab_id.unwrap_or(0))
                .fetch_all(self.store.pool())
                .await?
                .iter()
                .map(service_from_row)
                .collect::<yuepin_store::Result<_>>()?,
        )
    }

    /// Creates (`id` = None) or updates a service of `lab_id`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_service(
        &self,
        caller: &Caller,
        lab_id: i64,
        id: Option<i64>,
        svc: &Service,
    ) -> LabsResult<ServiceRecord> {
        self.require_manage_lab(caller, lab_id).await?;
        non_negative("price_per_sample", svc.price_per_sample)?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id = write_service(&mut w, lab_id, id, svc).await?;
        self.store.commit(w).await?;
        self.service(caller, id).await
    }

    /// The one-stop view: services by area, of labs in `city` or everywhere (public).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn one_stop(
        &self,
        caller: &Caller,
        city: Option<&RegionCode>,
    ) -> LabsResult<OneStop> {
        let labs: Vec<Lab> = self
            .labs(caller)
            .await?
            .into_iter()
            .map(|l| l.lab)
            .collect();
        let services: Vec<Service> = self
            .services(caller, None)
            .await?
            .into_iter()
            .map(|s| s.service)
            .collect();
        let grouped = yuepin_labs::catalogue::one_stop(&labs, &services, city);
        Ok(OneStop {
            areas: grouped
                .into_iter()
                .map(|(area, list)| (area, list.into_iter().cloned().collect()))
                .collect(),
        })
    }

    /// What the catalogue page lists: labs, services and the searchable test items (public).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn catalogue(&self, caller: &Caller) -> LabsResult<Catalogue> {
        Ok(Catalogue {
            labs: self.labs(caller).await?,
            services: self.services(caller, None).await?,
            items: self.instrument_items(caller).await?,
        })
    }

    // ------------------------------------------------------------ blackouts, qualifications

    /// Takes an instrument out of service for `range` (calibration, repair); returns its id.
    pub async fn add_blackout(
        &self,
        caller: &Caller,
        instrument_id: i64,
        range: TimeRange,
        reason: &str,
    ) -> LabsResult<i64> {
        self.instrument_for_management(caller, instrument_id)
            .await?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(LabsError::Invalid(Invalid::BlackoutReason));
        }
        let blackout = Blackout {
            range,
            reason: reason.chars().take(200).collect(),
        };
        let (s, e) = blackout.range.as_minutes();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO lab_blackouts (instrument_id, start_min, end_min, reason) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(instrument_id)
        .bind(s)
        .bind(e)
        .bind(&blackout.reason)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        w.record(
            Change::new("create", "lab_blackout", id)
                .after(serde_json::json!({"instrument_id": instrument_id, "blackout": blackout})),
        );
        self.store.commit(w).await?;
        Ok(id)
    }

    /// An instrument's blackouts (public: they explain why time is not bookable).
    pub async fn blackouts_of(
        &self,
        _caller: &Caller,
        instrument_id: i64,
    ) -> LabsResult<Vec<Blackout>> {
        Ok(sqlx::query("SELECT start_min, end_min, reason FROM lab_blackouts WHERE instrument_id = $1 ORDER BY start_min")
            .bind(instrument_id)
            .fetch_all(self.store.pool())
            .await?
            .iter()
            .map(blackout_from_row)
            .collect::<yuepin_store::Result<_>>()?)
    }

    /// Who grants qualifications: a bound lab account or an administrator.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn require_granter(&self, caller: &Caller) -> LabsResult<()> {
        caller.require_role(&[Role::Lab, Role::Regulator])?;
        if caller.role() == Some(Role::Lab) {
            self.staff_lab(caller).await?;
        }
        Ok(())
    }

    /// Records that an enterprise's operators hold a qualification (granted by a lab's staff
    /// or the regulator after training). A lab grants only a qualification that one of its
    /// own instruments demands (the lab that runs the instrument trains for it; another's is
    /// `QualificationNotOurs`) and the grant holds at that lab only (a regulator's grant holds
    /// at every lab), and a grant is valid from today for at most
    /// [`QUALIFICATION_MAX_MONTHS`] (`QualificationValidity` otherwise), for labs and the
    /// regulator alike.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn grant_qualification(
        &self,
        caller: &Caller,
        uscc: &Uscc,
        held: &HeldQualification,
    ) -> LabsResult<GrantedQualification> {
        self.require_granter(caller).await?;
        let today = yuepin_domain::china_today();
        let latest = today + chrono::Months::new(QUALIFICATION_MAX_MONTHS);
        if held.valid_until < today || held.valid_until > latest {
            return Err(LabsError::Invalid(Invalid::QualificationValidity {
                latest,
            }));
        }
        // The granting lab: a lab's grant holds at that lab only; the regulator's (0) at all.
        let mut granting_lab = 0;
        if caller.role() == Some(Role::Lab) {
            let lab = self.staff_lab(caller).await?;
            granting_lab = lab;
            let rows =
                sqlx::query("SELECT * FROM lab_instruments WHERE lab_id = $1 AND active = 1")
                    .bind(lab)
                    .fetch_all(self.store.pool())
                    .await?;
            let mut ours = false;
            for r in &rows {
                let i = crate::store::instrument_from_row(r)?;
                ours |= i.instrument.operator_qualification.as_ref() == Some(&held.qualification);
            }
            if !ours {
                return Err(LabsError::Invalid(Invalid::QualificationNotOurs));
            }
        }
        let e = self.registry().enterprise_by_uscc(uscc.as_str()).await?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        sqlx::query(
            "INSERT INTO lab_qualifications (enterprise_id, lab_id, qualification, valid_until) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (enterprise_id, lab_id, qualification) DO UPDATE SET valid_until = excluded.valid_until",
        )
        .bind(e.id)
        .bind(granting_lab)
        .bind(held.qualification.as_str())
        .bind(held.valid_until.to_string())
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("grant", "lab_qualification", e.id)
                .after(serde_json::json!({"enterprise_id": e.id, "lab_id": granting_lab, "qualification": held})),
        );
        self.store.commit(w).await?;
        Ok(GrantedQualification {
            enterprise: uscc.clone(),
            qualification: held.clone(),
        })
    }
}

// ---------------------------------------------------------------- writes inside a transaction

/// Inserts a lab; its code must be free.
pub(crate) async fn insert_lab(w: &mut WriteTx, code: &LabCode, lab: &Lab) -> LabsResult<i64> {
    let exists = sqlx::query("SELECT 1 FROM labs WHERE code = $1")
        .bind(code.as_str())
        .fetch_optional(&mut *w.tx)
        .await?;
    if exists.is_some() {
        return Err(LabsError::LabCodeTaken(code.as_str().to_string()));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO labs (code, name, city, data, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(code.as_str())
    .bind(&lab.name)
    .bind(lab.city.city().code.as_str())
    .bind(json(lab)?)
    .bind(now_text())
    .fetch_one(&mut *w.tx)
    .await?
    .try_get(0)?;
    w.record(Change::new("create", "lab", id).after(lab));
    Ok(id)
}

/// Creates (`id` = None) or updates an instrument of `lab_id` with its test-item index rows.
pub(crate) async fn write_instrument(
    w: &mut WriteTx,
    lab_id: i64,
    id: Option<i64>,
    inst: &Instrument,
    requires_approval: bool,
) -> LabsResult<i64> {
    let city = inst.city.city().code.clone();
    let id = match id {
        Some(id) => {
            let before = instrument_on(&mut w.tx, id).await?;
            if before.lab_id != lab_id {
                return Err(LabsError::missing("instrument", id));
            }
            sqlx::query("UPDATE lab_instruments SET name = $1, city = $2, requires_approval = $3, data = $4, updated_at = $5 WHERE id = $6")
                .bind(&inst.name)
                .bind(&city)
                .bind(i64::from(requires_approval))
                .bind(json(inst)?)
                .bind(now_text())
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            sqlx::query("DELETE FROM lab_instrument_items WHERE instrument_id = $1")
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            w.record(
                Change::new("update", "lab_instrument", id)
                    .before(before.instrument)
                    .after(inst),
            );
            id
        }
        None => {
            let id: i64 = sqlx::query(
                "INSERT INTO lab_instruments (lab_id, name, city, requires_approval, active, data, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING id",
            )
            .bind(lab_id)
            .bind(&inst.name)
            .bind(&city)
            .bind(i64::from(requires_approval))
            .bind(json(inst)?)
            .bind(now_text())
            .fetch_one(&mut *w.tx)
            .await?
            .try_get(0)?;
            w.record(Change::new("create", "lab_instrument", id).after(inst));
            id
        }
    };
    let mut items: Vec<&str> = inst.test_methods.iter().map(|m| m.item.as_str()).collect();
    items.sort_unstable();
    items.dedup();
    for item in items {
        sqlx::query(
            "INSERT INTO lab_instrument_items (item, city, instrument_id) VALUES ($1, $2, $3)",
        )
        .bind(item)
        .bind(&city)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    }
    Ok(id)
}

/// Creates (`id` = None) or updates a service of `lab_id`.
pub(crate) async fn write_service(
    w: &mut WriteTx,
    lab_id: i64,
    id: Option<i64>,
    svc: &Service,
) -> LabsResult<i64> {
    let area = serde_json::to_value(svc.area)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    match id {
        Some(id) => {
            let before = service_on(&mut w.tx, id).await?;
            if before.lab_id != lab_id {
                return Err(LabsError::missing("service", id));
            }
            sqlx::query("UPDATE lab_services SET area = $1, item = $2, data = $3, updated_at = $4 WHERE id = $5")
                .bind(&area)
                .bind(svc.method.item.as_str())
                .bind(json(svc)?)
                .bind(now_text())
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            w.record(
                Change::new("update", "lab_service", id)
                    .before(before.service)
                    .after(svc),
            );
            Ok(id)
        }
        None => {
            let id: i64 = sqlx::query(
                "INSERT INTO lab_services (lab_id, area, item, data, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(lab_id)
            .bind(&area)
            .bind(svc.method.item.as_str())
            .bind(json(svc)?)
            .bind(now_text())
            .fetch_one(&mut *w.tx)
            .await?
            .try_get(0)?;
            w.record(Change::new("create", "lab_service", id).after(svc));
            Ok(id)
        }
    }
}

/// Prices in the public catalogue are never negative (ASVS 2.2.1).
pub(crate) fn non_negative(field: &'static str, amount: yuepin_domain::Yuan) -> LabsResult<()> {
    if amount.is_negative() {
        return Err(LabsError::Invalid(Invalid::Negative(field)));
    }
    Ok(())
}
