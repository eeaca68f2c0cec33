//! Use cases of issuing codes: a series and its first codes, the operator granting a series
//! directly, choosing the series a CLI issue draws on, and issuing signed codes of a series
//! with the active key of the ring. The batch spec (resolver, subject, lot, date) is built here
//! for the web and the CLI alike.

use crate::error::{CodesError, Entity, Result};
use crate::records::{CodeRecord, SeriesRecord};
use crate::store::{queries, writes};
use crate::CodesService;
use chrono::NaiveDate;
use rand::{CryptoRng, RngCore};
use serde::Serialize;
use yuepin_code::{BatchSpec, IssuedCode, Resolver, LIST_CAPACITY};
use yuepin_domain::{Caller, Role};
use yuepin_enterprises_service::ProductRecord;
use yuepin_store::Actor;

/// A series with its first codes (the API's series view).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesDetail {
    pub series: SeriesRecord,
    /// The product the series is for.
    pub product: ProductRecord,
    pub first_codes: Vec<CodeRecord>,
}

/// Which series a CLI issue draws on.
#[derive(Debug, Clone)]
pub enum SeriesChoice {
    /// This approved series.
    Id(i64),
    /// A new series granted by the operator for exactly this issue, with the reason (audited).
    Grant { reason: String },
    /// The newest approved series of the product and lot with room for the codes.
    NewestWithRoom,
}

/// Codes just issued, with what a label needs.
#[derive(Debug, Clone)]
pub struct Issued {
    pub series: SeriesRecord,
    pub product: ProductRecord,
    /// The signing key's id.
    pub kid: String,
    pub codes: Vec<IssuedCode>,
}

/// The batch spec for a product's codes on `resolver`: GS1 subject when the product has a GTIN,
/// else the platform's product id.
pub fn batch_spec(
    resolver: &Resolver,
    product: &ProductRecord,
    lot: Option<&str>,
    today: NaiveDate,
) -> Result<BatchSpec> {
    let subject = match &product.product.gtin {
        Some(g) => yuepin_code::Subject::Gtin(g.clone()),
        None => {
            yuepin_code::Subject::Product(yuepin_code::ProductId::parse(&product.id.to_string())?)
        }
    };
    Ok(BatchSpec {
        resolver: resolver.clone(),
        subject,
        lot: lot
            .map(yuepin_code::Lot::parse)
            .transpose()
            .map_err(|source| CodesError::Field {
                field: "lot",
                source,
            })?,
        issued_on: today,
    })
}

impl CodesService {
    /// A series the caller may see (its own enterprise's, any for the regulator).
    pub(crate) async fn readable_series(&self, caller: &Caller, id: i64) -> Result<SeriesRecord> {
        caller.require_role(&[Role::Enterprise, Role::Regulator])?;
        let series = queries::series(&self.store, id).await?;
        if !caller.can_read_enterprise(series.enterprise_id) {
            return Err(CodesError::NotFound {
                entity: Entity::Series,
                id,
            });
        }
        Ok(series)
    }

    /// A series with its first 20 codes.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn series(&self, caller: &Caller, id: i64) -> Result<SeriesDetail> {
        let series = self.readable_series(caller, id).await?;
        let first_codes = queries::codes_of_series(&self.store, id, 0, 20).await?;
        let product = self.registry().product(series.product_id).await?;
        Ok(SeriesDetail {
            series,
            product,
            first_codes,
        })
    }

    /// Creates an approved series without an application (the operator), audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn grant_series(
        &self,
        caller: &Caller,
        product_id: i64,
        lot: Option<&str>,
        quantity: i64,
        reason: &str,
    ) -> Result<SeriesRecord> {
        caller.require_administrator()?;
        let product = self.registry().product(product_id).await?;
        let id = writes::grant_series(
            &self.store,
            Actor::from(caller),
            product.enterprise_id,
            product_id,
            lot,
            quantity,
            reason,
        )
        .await?;
        queries::series(&self.store, id).await
    }

    /// The series an operator's issue of `count` codes of a product and lot draws on.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn series_for_issue(
        &self,
        caller: &Caller,
        product_id: i64,
        lot: Option<&str>,
        count: usize,
        choice: SeriesChoice,
    ) -> Result<SeriesRecord> {
        caller.require_administrator()?;
        let product = self.registry().product(product_id).await?;
        let series = match choice {
            SeriesChoice::Id(id) => queries::series(&self.store, id).await?,
            SeriesChoice::Grant { reason } => {
                self.grant_series(caller, product.id, lot, count as i64, &reason)
                    .await?
            }
            SeriesChoice::NewestWithRoom => queries::series_of_product(&self.store, product.id)
                .await?
                .into_iter()
                .find(|s| s.lot.as_deref() == lot && s.quantity - s.issued >= count as i64)
                .ok_or_else(|| CodesError::NoSeriesWithRoom {
                    product_id,
                    lot: lot.map(str::to_string),
                    count,
                })?,
        };
        if series.product_id != product.id || series.lot.as_deref() != lot {
            return Err(CodesError::SeriesMismatch {
                series_id: series.id,
                product_id: series.product_id,
                lot: series.lot,
            });
        }
        Ok(series)
    }

    /// Issues `count` signed codes of a series (its enterprise or the regulator), at most
    /// `max_per_call` at once (the web answers with the whole CSV, the CLI streams to a file;
    /// never more than one status list holds).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn issue(
        &self,
        caller: &Caller,
        series_id: i64,
        count: usize,
        max_per_call: usize,
        rng: &mut (impl RngCore + CryptoRng + Send),
    ) -> Result<Issued> {
        let series = self.readable_series(caller, series_id).await?;
        let max = max_per_call.min(LIST_CAPACITY as usize);
        if !(1..=max).contains(&count) {
            return Err(CodesError::Count { max });
        }
        let product = self.registry().product(series.product_id).await?;
        let loaded = self.loaded()?;
        let spec = batch_spec(
            self.resolver()?,
            &product,
            series.lot.as_deref(),
            yuepin_domain::china_today(),
        )?;
        let key = loaded.ring.active()?;
        let codes = writes::issue_codes(
            &self.store,
            Actor::from(caller),
            series_id,
            count,
            &spec,
            key,
            rng,
        )
        .await?;
        let series = queries::series(&self.store, series_id).await?;
        Ok(Issued {
            series,
            product,
            kid: key.kid().as_str().to_string(),
            codes,
        })
    }
}
