//! The registry's use cases with their access rules: regulators administer every enterprise;
//! an enterprise user reads and edits its own (but cannot award itself designations, or file
//! inspections and penalties, which are the regulator's findings); other roles see nothing
//! here. Someone else's enterprise and a missing one look the same to non-administrators, so
//! nobody can probe which credit codes exist.

use crate::error::{EnterprisesError, Invalid, Result};
use crate::records::{EnterpriseRecord, EventRecord, ProductRecord, QualityFile};
use crate::store::search::{SearchPage, SearchQuery};
use crate::EnterprisesService;
use chrono::NaiveDate;
use yuepin_domain::{Caller, Denied, Enterprise, Product, QualityEvent, QualityEventKind, Role};
use yuepin_store::{Actor, StoreError};

/// What an update did: the stored record and, when an enterprise user asked for another name
/// or region, the pending request for review.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseUpdate {
    #[serde(flatten)]
    pub record: EnterpriseRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_change: Option<crate::identity::IdentityChange>,
}

/// A quality event as filed: the service checks who may file it and that its product belongs
/// to the enterprise.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub date: NaiveDate,
    pub product_id: Option<i64>,
    pub kind: QualityEventKind,
}

impl EnterprisesService {
    /// Loads an enterprise the caller may read.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise(&self, caller: &Caller, uscc: &str) -> Result<EnterpriseRecord> {
        if caller.role().is_none() && !caller.is_administrator() {
            return Err(Denied::SignInRequired.into());
        }
        // Someone else's enterprise and a missing one give the same answer (no probing for
        // which credit codes exist).
        let missing = || EnterprisesError::NoSuchEnterprise(uscc.trim().to_string());
        match self.enterprise_by_uscc(uscc.trim()).await {
            Ok(rec) if caller.can_read_enterprise(rec.id) => Ok(rec),
            Ok(_) | Err(StoreError::NotFound(_)) => Err(missing()),
            Err(e) => Err(e.into()),
        }
    }

    /// Registers a new enterprise (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_enterprise(
        &self,
        caller: &Caller,
        e: &Enterprise,
    ) -> Result<EnterpriseRecord> {
        caller.require_administrator()?;
        check_amounts(e)?;
        if self.enterprise_by_uscc(e.uscc.as_str()).await.is_ok() {
            return Err(EnterprisesError::EnterpriseExists(e.uscc.to_string()));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.save_enterprise(&mut w, e).await?;
        self.store.commit(w).await?;
        Ok(self.enterprise_by_uscc(e.uscc.as_str()).await?)
    }

    /// Updates an enterprise's basics. The credit code cannot change; designations are
    /// awarded by government, so an enterprise user's update keeps the stored ones; and the
    /// name and region that consumers see change for an enterprise user only through review:
    /// its update keeps the stored ones and files a request (`identity.rs`), returned beside
    /// the record. Regulators' updates apply at once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_enterprise(
        &self,
        caller: &Caller,
        uscc: &str,
        e: Enterprise,
    ) -> Result<EnterpriseUpdate> {
        self.update_enterprise_with_reason(caller, uscc, e, "")
            .await
    }

    /// [`EnterprisesService::update_enterprise`] with the reason for a name or region change.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_enterprise_with_reason(
        &self,
        caller: &Caller,
        uscc: &str,
        mut e: Enterprise,
        reason: &str,
    ) -> Result<EnterpriseUpdate> {
        let existing = self.enterprise(caller, uscc).await?;
        check_amounts(&e)?;
        if e.uscc != existing.enterprise.uscc {
            return Err(EnterprisesError::invalid("uscc", Invalid::UsccCannotChange));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let mut identity_change = None;
        if !caller.is_administrator() {
            e.designations = existing.enterprise.designations.clone();
            identity_change = self
                .file_identity_change(&mut w, caller, &existing, &e, reason)
                .await?;
            e.name = existing.enterprise.name.clone();
            e.region = existing.enterprise.region.clone();
        }
        self.save_enterprise(&mut w, &e).await?;
        self.store.commit(w).await?;
        let identity_change = match identity_change {
            Some(id) => Some(self.identity_change(caller, id).await?),
            None => None,
        };
        Ok(EnterpriseUpdate {
            record: self.enterprise_by_id(existing.id).await?,
            identity_change,
        })
    }

    /// Searches the directory. Regulators search all enterprises, an enterprise user finds only
    /// its own; the directory is not open to other roles.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn search(&self, caller: &Caller, mut q: SearchQuery) -> Result<SearchPage> {
        q.only_ids = if caller.is_administrator() {
            None
        } else if caller.role() == Some(Role::Enterprise) {
            Some(caller.enterprise_id().into_iter().collect())
        } else if caller.role().is_none() {
            return Err(Denied::SignInRequired.into());
        } else {
            return Err(Denied::Role {
                needs: vec![Role::Regulator, Role::Enterprise],
            }
            .into());
        };
        Ok(self.search_enterprises(&q).await?)
    }

    /// The quality credit file as of `today` (its complaint figures come from the complaints
    /// capability, which the caller adds).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn quality_file_of(
        &self,
        caller: &Caller,
        uscc: &str,
        today: NaiveDate,
    ) -> Result<QualityFile> {
        let rec = self.enterprise(caller, uscc).await?;
        Ok(self.quality_file(rec.id, today).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn products(&self, caller: &Caller, uscc: &str) -> Result<Vec<ProductRecord>> {
        let rec = self.enterprise(caller, uscc).await?;
        Ok(self.products_of(rec.id).await?)
    }

    /// Adds a product to the enterprise named by `uscc` (the product's own enterprise field is
    /// set from it). A model exists once per enterprise.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_product(
        &self,
        caller: &Caller,
        uscc: &str,
        mut p: Product,
    ) -> Result<ProductRecord> {
        let rec = self.enterprise(caller, uscc).await?;
        p.enterprise = rec.enterprise.uscc.clone();
        if self.product_by_model(rec.id, &p.model).await?.is_some() {
            return Err(EnterprisesError::ModelExists(p.model));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id = self.save_product(&mut w, rec.id, &p).await?;
        self.store.commit(w).await?;
        Ok(self.product(id).await?)
    }

    /// A product the caller may read; someone else's and a missing one look the same.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn product_for(&self, caller: &Caller, id: i64) -> Result<ProductRecord> {
        // The role first, before any lookup; then another enterprise's product and a missing
        // one are the same `NoSuchProduct` (no probing for which ids exist).
        caller.require_role(&[Role::Enterprise])?;
        match self.product(id).await {
            Ok(p) if caller.can_read_enterprise(p.enterprise_id) => Ok(p),
            Ok(_) | Err(StoreError::NotFound(_)) => Err(EnterprisesError::NoSuchProduct(id)),
            Err(e) => Err(e.into()),
        }
    }

    /// Updates a product; its model is its identity and cannot change.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn update_product(
        &self,
        caller: &Caller,
        id: i64,
        mut p: Product,
    ) -> Result<ProductRecord> {
        let existing = self.product_for(caller, id).await?;
        p.enterprise = existing.product.enterprise.clone();
        if p.model != existing.product.model {
            return Err(EnterprisesError::invalid(
                "model",
                Invalid::ModelCannotChange,
            ));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.save_product(&mut w, existing.enterprise_id, &p)
            .await?;
        self.store.commit(w).await?;
        Ok(self.product(id).await?)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn remove_product(&self, caller: &Caller, id: i64) -> Result<()> {
        self.product_for(caller, id).await?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.delete_product(&mut w, id).await?;
        self.store.commit(w).await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn events(&self, caller: &Caller, uscc: &str) -> Result<Vec<EventRecord>> {
        let rec = self.enterprise(caller, uscc).await?;
        Ok(self.events_of(rec.id).await?)
    }

    /// Files a quality event. Inspections and penalties are the regulator's findings;
    /// enterprises may file the rest for themselves. Returns (id, natural key).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn file_event(
        &self,
        caller: &Caller,
        uscc: &str,
        input: NewEvent,
    ) -> Result<(i64, String)> {
        let rec = self.enterprise(caller, uscc).await?;
        let official = matches!(
            input.kind,
            QualityEventKind::Inspection { .. } | QualityEventKind::Penalty { .. }
        );
        if official {
            caller.require_administrator()?;
        }
        input.kind.check_text()?;
        if let Some(pid) = input.product_id {
            let p = self
                .product(pid)
                .await
                .map_err(|_| EnterprisesError::invalid("product_id", Invalid::NoSuchProduct))?;
            if p.enterprise_id != rec.id {
                return Err(EnterprisesError::invalid(
                    "product_id",
                    Invalid::ProductOfAnotherEnterprise,
                ));
            }
        }
        let event = QualityEvent {
            enterprise: rec.enterprise.uscc.clone(),
            product_id: input.product_id,
            date: input.date,
            kind: input.kind,
        };
        let key = event.natural_key();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let id = self
            .save_event(
                &mut w,
                rec.id,
                event.product_id,
                event.date,
                &key,
                &event.kind,
            )
            .await?;
        // An enterprise's own entry is a declaration, whatever it claims to be.
        if !caller.is_administrator() {
            self.mark_event_declared(&mut w, id).await?;
        }
        self.store.commit(w).await?;
        Ok((id, key))
    }
}

/// Registered capital and revenue are never negative (ASVS 2.2.1); the importer refuses them
/// by row and column, the API by field.
fn check_amounts(e: &Enterprise) -> Result<()> {
    if e.registered_capital.is_negative() {
        return Err(EnterprisesError::invalid(
            "registered_capital",
            Invalid::Negative,
        ));
    }
    for f in &e.financials {
        if f.revenue_china.is_negative() || f.revenue_world.is_some_and(|y| y.is_negative()) {
            return Err(EnterprisesError::invalid("financials", Invalid::Negative));
        }
    }
    Ok(())
}
