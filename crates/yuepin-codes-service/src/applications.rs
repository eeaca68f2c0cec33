//! Use cases of applying for codes: the approval and signal rules, the pre-check, filing an
//! application (auto-approved when the rule says so), the regulator's decision, the lists an
//! enterprise and the regulator see, and the codes home page's data.
//!
//! Access: enterprise users apply for and read their own enterprise's applications only; a
//! product or application of another enterprise answers exactly like a missing one
//! ([`CodesError::NoSuchProduct`], [`CodesError::NotFound`]), so nobody can probe which exist.
//! Deciding and changing the rules are the regulator's (administrators').

use crate::error::{CodesError, Entity, Result};
use crate::records::{
    ApplicationRecord, ApplicationStatus, ApprovalRule, CodeRecord, Precheck, SeriesRecord,
    SignalRule, StatusCounts,
};
use crate::store::{queries, writes, APPROVAL_RULE, SIGNAL_RULE};
use crate::{require_signed_in, required_reason, CodesService, TEXT_LIMIT};
use yuepin_domain::{Caller, Role};
use yuepin_enterprises_service::ProductRecord;
use yuepin_store::{Actor, StoreError};

/// The roles that take part in applying for codes (administrators always may).
const APPLICANTS: &[Role] = &[Role::Enterprise, Role::Regulator];
/// Most applications a list shows.
const LIST_LIMIT: i64 = 500;

/// What an enterprise asks for.
#[derive(Debug, Clone, Default)]
pub struct ApplyRequest {
    pub product_id: i64,
    /// Blank means "no lot".
    pub lot: Option<String>,
    pub quantity: i64,
    pub note: String,
}

/// What the codes home page shows the caller.
#[derive(Debug, Clone)]
pub struct CodesHome {
    /// The caller administers codes (sees the queue, counts, samples and status form).
    pub regulator: bool,
    pub applications: Vec<ApplicationRecord>,
    /// An enterprise user's products (to apply for) and approved series.
    pub products: Vec<ProductRecord>,
    pub series: Vec<SeriesRecord>,
    /// The regulator's overview: codes by status and a few codes of each status.
    pub counts: StatusCounts,
    pub samples: Vec<CodeRecord>,
}

impl CodesService {
    /// The approval rule (any signed-in caller may read it).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn approval_rule(&self, caller: &Caller) -> Result<ApprovalRule> {
        require_signed_in(caller)?;
        queries::approval_rule(&self.store).await
    }

    /// Replaces the approval rule (regulator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_approval_rule(
        &self,
        caller: &Caller,
        rule: ApprovalRule,
    ) -> Result<ApprovalRule> {
        caller.require_administrator()?;
        if rule.lookback_months > 120 || rule.max_quantity < 1 {
            return Err(CodesError::ApprovalRuleRange);
        }
        let value = serde_json::to_value(&rule).map_err(yuepin_store::corrupt)?;
        writes::set_setting(&self.store, Actor::from(caller), APPROVAL_RULE, &value).await?;
        Ok(rule)
    }

    /// The counterfeit-signal rule (regulator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn signal_rule(&self, caller: &Caller) -> Result<SignalRule> {
        caller.require_administrator()?;
        queries::signal_rule(&self.store).await
    }

    /// Replaces the counterfeit-signal rule (regulator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_signal_rule(&self, caller: &Caller, rule: SignalRule) -> Result<SignalRule> {
        caller.require_administrator()?;
        for (field, value) in [
            ("max_cities_per_day", rule.max_cities_per_day),
            ("max_scans_per_day", rule.max_scans_per_day),
            ("max_cities_per_30_days", rule.max_cities_per_30_days),
        ] {
            if !(1..=crate::MAX_SIGNAL_THRESHOLD).contains(&value) {
                return Err(CodesError::SignalRuleRange {
                    field,
                    max: crate::MAX_SIGNAL_THRESHOLD,
                });
            }
        }
        let value = serde_json::to_value(&rule).map_err(yuepin_store::corrupt)?;
        writes::set_setting(&self.store, Actor::from(caller), SIGNAL_RULE, &value).await?;
        Ok(rule)
    }

    /// A product the caller may apply for: its own enterprise's (any, for administrators).
    async fn own_product(&self, caller: &Caller, product_id: i64) -> Result<ProductRecord> {
        let product = match self.registry().product(product_id).await {
            Ok(p) => p,
            Err(StoreError::NotFound(_)) => return Err(CodesError::NoSuchProduct { product_id }),
            Err(e) => return Err(e.into()),
        };
        if !caller.can_read_enterprise(product.enterprise_id) {
            // Same answer as for a missing product: do not reveal other tenants' products.
            return Err(CodesError::NoSuchProduct { product_id });
        }
        Ok(product)
    }

    /// The pre-check an application for `product_id` would get today.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn precheck(&self, caller: &Caller, product_id: i64) -> Result<Precheck> {
        caller.require_role(APPLICANTS)?;
        let product = self.own_product(caller, product_id).await?;
        self.precheck_of(&product, &queries::approval_rule(&self.store).await?)
            .await
    }

    async fn precheck_of(&self, product: &ProductRecord, rule: &ApprovalRule) -> Result<Precheck> {
        let events = self.registry().events_of(product.enterprise_id).await?;
        Ok(crate::precheck::evaluate_rule(
            rule,
            &events,
            product.id,
            yuepin_domain::china_today(),
        ))
    }

    /// Files an application for codes of one of the caller's products, pre-checked; approved at
    /// once (as `system:auto-approve`) when the rule auto-approves and the pre-check passes.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn apply(&self, caller: &Caller, req: ApplyRequest) -> Result<ApplicationRecord> {
        caller.require_role(APPLICANTS)?;
        let product = self.own_product(caller, req.product_id).await?;
        let lot = match req.lot.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(l) => Some(
                yuepin_code::Lot::parse(l)
                    .map_err(|source| CodesError::Field {
                        field: "lot",
                        source,
                    })?
                    .as_str()
                    .to_string(),
            ),
        };
        let rule = queries::approval_rule(&self.store).await?;
        if req.quantity < 1 || req.quantity > rule.max_quantity {
            return Err(CodesError::Quantity {
                max: rule.max_quantity,
            });
        }
        let note: String = req.note.trim().chars().take(TEXT_LIMIT).collect();
        let precheck = self.precheck_of(&product, &rule).await?;
        let auto = precheck.ok && precheck.rule.auto_approve;
        let id = writes::insert_application(
            &self.store,
            Actor::from(caller),
            writes::NewApplication {
                enterprise_id: product.enterprise_id,
                product_id: product.id,
                lot: lot.as_deref(),
                quantity: req.quantity,
                note: &note,
                precheck: &precheck,
            },
            auto,
        )
        .await?;
        queries::application(&self.store, id).await
    }

    /// The applications the caller may see, newest first: all for the regulator, its own
    /// enterprise's for an enterprise user; optionally in one status.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn applications(
        &self,
        caller: &Caller,
        status: Option<ApplicationStatus>,
    ) -> Result<Vec<ApplicationRecord>> {
        caller.require_role(APPLICANTS)?;
        let scope = if caller.is_administrator() {
            None
        } else {
            // An enterprise account not bound to an enterprise sees nothing.
            Some(caller.enterprise_id().unwrap_or(-1))
        };
        queries::applications(&self.store, scope, status, LIST_LIMIT).await
    }

    /// One application, if the caller may see it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn application(&self, caller: &Caller, id: i64) -> Result<ApplicationRecord> {
        caller.require_role(APPLICANTS)?;
        let app = queries::application(&self.store, id).await?;
        if !caller.can_read_enterprise(app.enterprise_id) {
            return Err(CodesError::NotFound {
                entity: Entity::Application,
                id,
            });
        }
        Ok(app)
    }

    /// Approves (creating the series) or rejects a pending application, with a reason.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decide(
        &self,
        caller: &Caller,
        id: i64,
        approve: bool,
        reason: &str,
    ) -> Result<ApplicationRecord> {
        caller.require_administrator()?;
        let reason = required_reason(reason)?;
        writes::decide(&self.store, Actor::from(caller), id, approve, &reason).await?;
        queries::application(&self.store, id).await
    }

    /// The codes home page: the caller's applications, an enterprise user's products and
    /// series, the regulator's counts and sample codes.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn home(&self, caller: &Caller) -> Result<CodesHome> {
        caller.require_role(APPLICANTS)?;
        let regulator = caller.is_administrator();
        let applications = self.applications(caller, None).await?;
        let (products, series) = match (regulator, caller.enterprise_id()) {
            (false, Some(eid)) => (
                self.registry().products_of(eid).await?,
                queries::series_of_enterprise(&self.store, eid).await?,
            ),
            _ => (Vec::new(), Vec::new()),
        };
        let (counts, samples) = if regulator {
            (
                queries::code_counts(&self.store).await?,
                queries::sample_codes(&self.store, 2, &self.resolver()?.base_url()).await?,
            )
        } else {
            (StatusCounts::default(), Vec::new())
        };
        Ok(CodesHome {
            regulator,
            applications,
            products,
            series,
            counts,
            samples,
        })
    }
}
