//! Use cases of code status: revoking, suspending, reinstating or recalling one code, a lot, a
//! product or every code of an enterprise (the regulator's); the signed status lists offline
//! verifiers cache (public); counts by status; and the audit entries of key-ring events made by
//! the operator's key commands.

use crate::error::{CodesError, Result};
use crate::records::{status_action, subject_key, CodeRecord, StatusCounts, StatusScope};
use crate::store::{queries, writes};
use crate::{required_reason, CodesService, STATUS_TTL_SECONDS};
use serde::Serialize;
use yuepin_code::{CodeStatus, StatusList, StatusRef};
use yuepin_domain::Caller;
use yuepin_store::{Actor, Change};

/// Which codes a status change is for, as a request names them. The fields a scope needs are
/// checked here ([`CodesError::Required`]) after the caller's role, so a refused caller learns
/// nothing from its input.
#[derive(Debug, Clone)]
pub enum StatusTarget {
    /// One code by id, or else by its full URI.
    Code {
        code_id: Option<i64>,
        uri: Option<String>,
    },
    Lot {
        product_id: Option<i64>,
        lot: Option<String>,
    },
    Product {
        product_id: Option<i64>,
    },
    /// Every code of the enterprise with this credit code.
    Enterprise {
        uscc: Option<String>,
    },
}

/// What a status change did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChanged {
    pub changed: u64,
    pub scope: StatusScope,
    /// The action word (`revoke`, `suspend`, `reinstate`, `recall`).
    pub action: &'static str,
    pub reason: String,
}

/// Key-ring events recorded in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    Create,
    Rotate,
    Withdraw,
}

impl KeyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAction::Create => "create",
            KeyAction::Rotate => "rotate",
            KeyAction::Withdraw => "withdraw",
        }
    }
}

fn given(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl CodesService {
    /// The stored code a full URI names, whatever its status or the validity of its signature.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn code_by_uri(&self, caller: &Caller, uri: &str) -> Result<CodeRecord> {
        caller.require_administrator()?;
        self.code_of_uri(uri).await
    }

    async fn code_of_uri(&self, uri: &str) -> Result<CodeRecord> {
        let parsed =
            yuepin_code::SignedUri::parse(uri.trim()).map_err(|source| CodesError::Field {
                field: "uri",
                source,
            })?;
        let subject = subject_key(&parsed.code.subject);
        queries::code_by_serial(&self.store, &subject, parsed.code.serial.as_str())
            .await?
            .ok_or(CodesError::UnknownCode)
    }

    async fn resolve_target(&self, target: StatusTarget) -> Result<StatusScope> {
        Ok(match target {
            StatusTarget::Code { code_id, uri } => {
                let id = match (code_id, given(uri)) {
                    (Some(id), _) => queries::code_by_id(&self.store, id).await?.id,
                    (None, Some(u)) => self.code_of_uri(&u).await?.id,
                    (None, None) => return Err(CodesError::Required { field: "uri" }),
                };
                StatusScope::Code { code_id: id }
            }
            StatusTarget::Lot { product_id, lot } => {
                let product_id = product_id.ok_or(CodesError::Required {
                    field: "product_id",
                })?;
                let lot = given(lot).ok_or(CodesError::Required { field: "lot" })?;
                self.registry().product(product_id).await?;
                StatusScope::Lot { product_id, lot }
            }
            StatusTarget::Product { product_id } => {
                let product_id = product_id.ok_or(CodesError::Required {
                    field: "product_id",
                })?;
                self.registry().product(product_id).await?;
                StatusScope::Product { product_id }
            }
            StatusTarget::Enterprise { uscc } => {
                let uscc = given(uscc).ok_or(CodesError::Required { field: "uscc" })?;
                let e = self.registry().enterprise_by_uscc(&uscc).await?;
                StatusScope::Enterprise {
                    enterprise_id: e.id,
                }
            }
        })
    }

    /// Sets the status of the target's codes (regulator) with a reason, audited; the very next
    /// scan through this service shows it (the code cache is cleared).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn change_status(
        &self,
        caller: &Caller,
        target: StatusTarget,
        status: CodeStatus,
        reason: &str,
    ) -> Result<StatusChanged> {
        caller.require_administrator()?;
        let reason = required_reason(reason)?;
        let scope = self.resolve_target(target).await?;
        let changed = writes::set_status(
            &self.store,
            Actor::from(caller),
            &scope,
            status,
            &reason,
            yuepin_domain::china_today(),
        )
        .await?;
        self.state.forget_codes();
        Ok(StatusChanged {
            changed,
            scope,
            action: status_action(status),
            reason,
        })
    }

    /// The current status list `list_id`, signed with the active key (public: it is what
    /// offline verifiers fetch).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn signed_status_list(&self, list_id: i64) -> Result<String> {
        if !(0..i64::from(yuepin_code::status::MAX_LISTS)).contains(&list_id)
            || !queries::list_exists(&self.store, list_id).await?
        {
            return Err(CodesError::NoStatusList { list_id });
        }
        let loaded = self.loaded()?;
        let mut list = StatusList::new(list_id as u32, chrono::Utc::now(), STATUS_TTL_SECONDS)?;
        for entry in queries::list_entries(&self.store, list_id).await? {
            list.set(
                StatusRef::new(list_id as u32, entry.position)?,
                entry.status,
            )?;
        }
        let base = self.resolver()?.base_url();
        Ok(list.to_signed_token(&format!("{base}/status/{list_id}"), loaded.ring.active()?))
    }

    /// Issued codes by status (regulator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn status_counts(&self, caller: &Caller) -> Result<StatusCounts> {
        caller.require_administrator()?;
        queries::code_counts(&self.store).await
    }

    /// Records a key-ring event made outside the database (the operator's key commands).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_key_event(
        &self,
        caller: &Caller,
        action: KeyAction,
        kid: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        caller.require_administrator()?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        w.record(Change::new(action.as_str(), "code_key", kid).after(detail));
        Ok(self.store.commit(w).await?)
    }
}
