//! Costs and use: what sharing saved an enterprise against buying, utilisation and sharing
//! rate per instrument (measure 4's indicators), the regulator's dashboard, and the two role
//! overviews (an enterprise's own bookings/orders/waitlist/savings, a lab's console).

use crate::records::{
    Dashboard, EnterpriseLabs, InstrumentRecord, InstrumentSavings, InstrumentUtilisation,
    LabConsole, SavingsReport,
};
use crate::store::{instrument_from_row, minute_of, range_of};
use crate::{LabsError, LabsResult, LabsService};
use chrono::{Duration, NaiveDate};
use sqlx::Row;
use std::collections::HashMap;
use yuepin_domain::{Caller, Role, Uscc, Yuan};
use yuepin_labs::{OwnershipAssumptions, TimeRange, UsageRecord};
use yuepin_store::StoreError;

impl LabsService {
    /// Savings of the caller's enterprise (`uscc` = None) or of the enterprise `uscc`, which
    /// the caller must be allowed to read.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn savings(&self, caller: &Caller, uscc: Option<&Uscc>) -> LabsResult<SavingsReport> {
        let enterprise_id = match uscc {
            None => Self::own_enterprise(caller)?,
            // Someone else's enterprise and a missing one give the same answer; signed-out
            // callers learn neither.
            Some(uscc) => {
                use yuepin_enterprises_service::EnterprisesError as E;
                match self.registry().enterprise(caller, uscc.as_str()).await {
                    Ok(e) => e.id,
                    Err(E::Denied(d)) => return Err(d.into()),
                    Err(E::Store(s)) => return Err(s.into()),
                    Err(_) => {
                        return Err(LabsError::NotFound {
                            entity: "enterprise",
                            key: uscc.to_string(),
                        })
                    }
                }
            }
        };
        self.savings_of(caller, enterprise_id, yuepin_domain::china_today())
            .await
    }

    /// What sharing saved an enterprise over the 365 days before `today`, per instrument used,
    /// against buying each instrument (documented assumptions in `OwnershipAssumptions`).
    async fn savings_of(
        &self,
        caller: &Caller,
        enterprise_id: i64,
        today: NaiveDate,
    ) -> LabsResult<SavingsReport> {
        let to = today.and_hms_opt(0, 0, 0).unwrap_or_default();
        let from = to - Duration::days(365);
        let rows = sqlx::query(
            "SELECT instrument_id, start_min, end_min, price_fen FROM lab_bookings WHERE enterprise_id = $1 \
             AND state IN ('confirmed', 'checked_in', 'completed') AND start_min >= $2 AND start_min < $3",
        )
        .bind(enterprise_id)
        .bind(minute_of(from))
        .bind(minute_of(to) + 366 * 1440)
        .fetch_all(self.store.pool())
        .await?;
        let mut per: HashMap<i64, (i64, i64)> = HashMap::new();
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let minutes = r.try_get::<i64, _>(2)? - r.try_get::<i64, _>(1)?;
            let e = per.entry(id).or_default();
            e.0 += minutes;
            e.1 += r.try_get::<i64, _>(3)?;
        }
        let mut instruments = Vec::new();
        let mut ids: Vec<i64> = per.keys().copied().collect();
        ids.sort_unstable();
        let assumptions = OwnershipAssumptions::default();
        for id in ids {
            let (minutes, spend) = per[&id];
            let inst = self.instrument(caller, id).await?;
            instruments.push(InstrumentSavings {
                instrument_id: id,
                instrument_name: inst.instrument.name.clone(),
                hours: minutes as f64 / 60.0,
                savings: yuepin_labs::ownership_savings(
                    inst.instrument.purchase_price,
                    &assumptions,
                    Yuan::from_fen(spend),
                    inst.instrument.tariff.peak_hourly,
                ),
            });
        }
        let total: i64 = instruments.iter().map(|s| s.savings.saving.fen()).sum();
        let spend: i64 = instruments
            .iter()
            .map(|s| s.savings.shared_spend.fen())
            .sum();
        Ok(SavingsReport {
            instruments,
            total_saving: Yuan::from_fen(total),
            total_spend: Yuan::from_fen(spend),
            assumptions,
        })
    }

    /// Utilisation and sharing rate per instrument for `year`: a lab account sees its own
    /// lab's instruments (whatever `lab` says), administrators every lab or the one asked for.
    pub async fn utilisation(
        &self,
        caller: &Caller,
        year: i32,
        lab: Option<i64>,
    ) -> LabsResult<Vec<InstrumentUtilisation>> {
        caller.require_role(&[Role::Regulator, Role::Lab])?;
        let lab = if caller.role() == Some(Role::Lab) {
            Some(self.staff_lab(caller).await?)
        } else {
            lab
        };
        self.utilisation_of(caller, year, lab).await
    }

    /// The regulator's dashboard for `year`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dashboard(&self, caller: &Caller, year: i32) -> LabsResult<Dashboard> {
        caller.require_administrator()?;
        Ok(Dashboard::new(
            year,
            self.utilisation_of(caller, year, None).await?,
        ))
    }

    /// Usage is checked-in/completed time; outside = used by enterprises (not the lab itself).
    async fn utilisation_of(
        &self,
        caller: &Caller,
        year: i32,
        lab_id: Option<i64>,
    ) -> LabsResult<Vec<InstrumentUtilisation>> {
        let bounds = |y: i32| {
            NaiveDate::from_ymd_opt(y, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(minute_of)
                .ok_or_else(|| StoreError::NotFound(format!("year {year}")))
        };
        let (ys, ye) = (bounds(year)?, bounds(year + 1)?);
        let lab = lab_id.unwrap_or(0);
        let instruments: Vec<InstrumentRecord> =
            sqlx::query("SELECT * FROM lab_instruments WHERE ($1 = 0 OR lab_id = $1) ORDER BY id")
                .bind(lab)
                .fetch_all(self.store.pool())
                .await?
                .iter()
                .map(instrument_from_row)
                .collect::<yuepin_store::Result<_>>()?;
        let mut usage: HashMap<i64, Vec<UsageRecord>> = HashMap::new();
        for r in sqlx::query(
            "SELECT b.instrument_id, b.start_min, b.end_min, b.enterprise_id FROM lab_bookings b JOIN lab_instruments i ON i.id = b.instrument_id \
             WHERE ($1 = 0 OR i.lab_id = $1) AND b.state IN ('checked_in', 'completed') AND b.start_min < $2 AND b.end_min > $3",
        )
        .bind(lab)
        .bind(ye)
        .bind(ys)
        .fetch_all(self.store.pool())
        .await?
        {
            usage.entry(r.try_get(0)?).or_default().push(UsageRecord {
                range: range_of(r.try_get(1)?, r.try_get(2)?)?,
                outside_user: r.try_get::<Option<i64>, _>(3)?.is_some(),
            });
        }
        let mut blackouts: HashMap<i64, Vec<TimeRange>> = HashMap::new();
        for r in sqlx::query(
            "SELECT k.instrument_id, k.start_min, k.end_min FROM lab_blackouts k JOIN lab_instruments i ON i.id = k.instrument_id \
             WHERE ($1 = 0 OR i.lab_id = $1) AND k.start_min < $2 AND k.end_min > $3",
        )
        .bind(lab)
        .bind(ye)
        .bind(ys)
        .fetch_all(self.store.pool())
        .await?
        {
            blackouts
                .entry(r.try_get(0)?)
                .or_default()
                .push(range_of(r.try_get(1)?, r.try_get(2)?)?);
        }
        let lab_names = self.lab_names(caller).await?;
        Ok(instruments
            .into_iter()
            .map(|i| InstrumentUtilisation {
                instrument_id: i.id,
                instrument_name: i.instrument.name.clone(),
                lab_id: i.lab_id,
                lab_name: lab_names.get(&i.lab_id).cloned().unwrap_or_default(),
                utilisation: yuepin_labs::utilisation(
                    year,
                    &i.instrument.opening_hours,
                    blackouts.get(&i.id).map(Vec::as_slice).unwrap_or(&[]),
                    usage.get(&i.id).map(Vec::as_slice).unwrap_or(&[]),
                ),
            })
            .collect())
    }

    /// The caller's enterprise's labs overview: bookings, orders, waitlist, savings.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise_labs(&self, caller: &Caller) -> LabsResult<EnterpriseLabs> {
        let (id, uscc) = self.own_enterprise_uscc(caller).await?;
        Ok(EnterpriseLabs {
            enterprise_id: id,
            uscc,
            bookings: self.bookings_of_enterprise(id).await?,
            orders: self.orders_where("o.enterprise_id", id).await?,
            waitlist: self.waitlist_of_enterprise(id).await?,
            savings: self
                .savings_of(caller, id, yuepin_domain::china_today())
                .await?,
        })
    }

    /// A lab account's console: its lab's next 14 days, order queue and instruments.
    pub async fn lab_console(&self, caller: &Caller) -> LabsResult<LabConsole> {
        let lab_id = self.staff_lab(caller).await?;
        Ok(LabConsole {
            lab: self.lab(caller, lab_id).await?,
            bookings: self
                .bookings_of_lab(caller, lab_id, yuepin_domain::china_today(), 14)
                .await?,
            orders: self.orders_where("o.lab_id", lab_id).await?,
            instruments: self.instruments_of_lab(caller, lab_id).await?,
        })
    }
}
