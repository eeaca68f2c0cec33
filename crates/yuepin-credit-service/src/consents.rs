//! Consents: an enterprise grants one to a bank (the platform fixes the dates and signs the
//! artefact), lists its consents with their uses, pauses, resumes and revokes them; a bank
//! lists the consents given to it. Every change is recorded as a consent event, appended to
//! the Merkle log and audited, in one transaction.

use crate::error::{CreditError, CreditResult};
use crate::records::{dt_text, ConsentEventKind, ConsentRecord, LogKind};
use crate::{store, CreditService};
use chrono::NaiveDateTime;
use rand::RngCore;
use sha2::{Digest, Sha256};
use yuepin_credit::{Artefact, BankRef, Consent, ConsentId, Event, TermsRequest};
use yuepin_domain::{Caller, Denied, Role};
use yuepin_store::{Actor, Change};

/// RFC 3339 with the +08:00 offset, for log entries.
pub(crate) fn china_rfc3339(t: NaiveDateTime) -> String {
    format!("{}+08:00", dt_text(t))
}

impl CreditService {
    /// The enterprise grants `bank_id` a consent on `req`'s terms, effective now.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn grant_consent(
        &self,
        caller: &Caller,
        bank_id: i64,
        req: &TermsRequest,
    ) -> CreditResult<ConsentRecord> {
        let enterprise_id = Self::own_enterprise(caller)?;
        let enterprise = self.registry.enterprise_by_id(enterprise_id).await?;
        let now = self.clock.now();
        let terms = yuepin_credit::Terms::grant(req, now)?;
        let key = self.keys.key()?;
        let mut random = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let id = ConsentId::from_random(random);

        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let bank = store::bank_on(w.conn(), bank_id)
            .await?
            .ok_or_else(|| CreditError::missing("bank", format!("#{bank_id}")))?;
        let consent = Consent::new(
            id.clone(),
            enterprise.enterprise.uscc.clone(),
            BankRef {
                org_id: bank.id,
                name: bank.name.clone(),
            },
            terms.clone(),
        );
        let artefact = Artefact::of(&consent, &enterprise.enterprise.name).sign(&key);
        store::insert_consent(
            w.conn(),
            &id,
            enterprise_id,
            bank.id,
            &terms,
            key.kid().as_str(),
            &artefact,
        )
        .await?;
        let entry = serde_json::json!({
            "kind": LogKind::ConsentGranted.code(),
            "consent": id.as_str(),
            "enterprise": enterprise.enterprise.uscc.as_str(),
            "bank": bank.id,
            "at": china_rfc3339(now),
            "artefact_sha256": hex::encode(Sha256::digest(artefact.as_bytes())),
        })
        .to_string();
        let index = store::append_log(
            w.conn(),
            LogKind::ConsentGranted,
            &entry,
            Some(bank.id),
            Some(enterprise_id),
            Some(&id),
        )
        .await?;
        store::insert_event(
            w.conn(),
            &id,
            ConsentEventKind::Grant,
            &caller.actor,
            now,
            index,
        )
        .await?;
        w.record(
            Change::new("grant", "credit_consent", id.as_str()).after(serde_json::json!({
                "bank_id": bank.id, "terms": terms, "log_index": index
            })),
        );
        self.store.commit(w).await?;
        let mut conn = self.store.pool().acquire().await?;
        store::consent_on(&mut conn, &id, now)
            .await?
            .ok_or_else(|| CreditError::missing("consent", &id))
    }

    /// The caller's own enterprise's consents, newest first, with their events.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn my_consents(&self, caller: &Caller) -> CreditResult<Vec<ConsentRecord>> {
        let enterprise_id = Self::own_enterprise(caller)?;
        let mut conn = self.store.pool().acquire().await?;
        Ok(store::consents_by(&mut conn, "enterprise_id", enterprise_id, self.clock.now()).await?)
    }

    /// The consents of the enterprise named by `uscc`: its own for an enterprise user, any for
    /// administrators (read-only oversight); others are told it does not exist.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise_consents(
        &self,
        caller: &Caller,
        uscc: &str,
    ) -> CreditResult<Vec<ConsentRecord>> {
        let rec = self.registry.enterprise(caller, uscc).await?;
        let mut conn = self.store.pool().acquire().await?;
        Ok(store::consents_by(&mut conn, "enterprise_id", rec.id, self.clock.now()).await?)
    }

    /// The consents given to the caller's bank, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn bank_consents(&self, caller: &Caller) -> CreditResult<Vec<ConsentRecord>> {
        let bank_id = self.staff_bank(caller).await?;
        let mut conn = self.store.pool().acquire().await?;
        Ok(store::consents_by(&mut conn, "bank_id", bank_id, self.clock.now()).await?)
    }

    /// One consent: for its enterprise, its bank and administrators; anyone else is told it
    /// does not exist.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn consent(&self, caller: &Caller, id: &ConsentId) -> CreditResult<ConsentRecord> {
        let bank = match caller.role() {
            _ if caller.is_administrator() => None,
            Some(Role::Enterprise) => None,
            Some(Role::Bank) => Some(self.staff_bank(caller).await?),
            None => return Err(Denied::SignInRequired.into()),
            Some(_) => {
                return Err(Denied::Role {
                    needs: vec![Role::Enterprise, Role::Bank, Role::Regulator],
                }
                .into())
            }
        };
        let mut conn = self.store.pool().acquire().await?;
        let rec = store::consent_on(&mut conn, id, self.clock.now())
            .await?
            .ok_or_else(|| CreditError::missing("consent", id))?;
        let visible = caller.is_administrator()
            || match bank {
                Some(b) => rec.bank.org_id == b,
                None => caller.enterprise_id() == Some(rec.enterprise_id),
            };
        if visible {
            Ok(rec)
        } else {
            Err(CreditError::missing("consent", id))
        }
    }

    /// Pauses the enterprise's consent (no fetch until resumed).
    pub async fn pause_consent(
        &self,
        caller: &Caller,
        id: &ConsentId,
    ) -> CreditResult<ConsentRecord> {
        self.change_consent(caller, id, Event::Pause).await
    }

    /// Resumes a paused consent (until its expiry, which does not move).
    pub async fn resume_consent(
        &self,
        caller: &Caller,
        id: &ConsentId,
    ) -> CreditResult<ConsentRecord> {
        self.change_consent(caller, id, Event::Resume).await
    }

    /// Revokes the consent for good.
    pub async fn revoke_consent(
        &self,
        caller: &Caller,
        id: &ConsentId,
    ) -> CreditResult<ConsentRecord> {
        self.change_consent(caller, id, Event::Revoke).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(event = event.code()))]
    async fn change_consent(
        &self,
        caller: &Caller,
        id: &ConsentId,
        event: Event,
    ) -> CreditResult<ConsentRecord> {
        let enterprise_id = Self::own_enterprise(caller)?;
        let (kind, log_kind) = match event {
            Event::Pause => (ConsentEventKind::Pause, LogKind::ConsentPaused),
            Event::Resume => (ConsentEventKind::Resume, LogKind::ConsentResumed),
            Event::Revoke => (ConsentEventKind::Revoke, LogKind::ConsentRevoked),
            // Fetches go through `fetch_report`.
            Event::Fetch => return Err(CreditError::Invalid("event")),
        };
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let now = self.clock.now();
        let rec = match store::lock_consent(w.conn(), id, now).await? {
            Some(rec) if rec.enterprise_id == enterprise_id => rec,
            _ => return Err(CreditError::missing("consent", id)),
        };
        let mut consent = rec.consent();
        let before = consent.state;
        consent.apply(event, now).map_err(CreditError::Illegal)?;
        store::save_usage(w.conn(), &consent).await?;
        let entry = serde_json::json!({
            "kind": log_kind.code(),
            "consent": id.as_str(),
            "enterprise": rec.enterprise_uscc.as_str(),
            "bank": rec.bank.org_id,
            "at": china_rfc3339(now),
            "state": consent.state.code(),
        })
        .to_string();
        let index = store::append_log(
            w.conn(),
            log_kind,
            &entry,
            Some(rec.bank.org_id),
            Some(enterprise_id),
            Some(id),
        )
        .await?;
        store::insert_event(w.conn(), id, kind, &caller.actor, now, index).await?;
        w.record(
            Change::new(event.code(), "credit_consent", id.as_str())
                .before(serde_json::json!({"state": before.code()}))
                .after(serde_json::json!({"state": consent.state.code(), "log_index": index})),
        );
        self.store.commit(w).await?;
        let mut conn = self.store.pool().acquire().await?;
        store::consent_on(&mut conn, id, now)
            .await?
            .ok_or_else(|| CreditError::missing("consent", id))
    }
}
