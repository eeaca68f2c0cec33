//! Offers (免申即享) and in-app notifications: an enterprise reads its own offers (a regulator
//! names the enterprise), answers them (意愿确认; confirming a money measure opens its
//! application in the same transaction), and reads its notifications and marks them read.

use crate::records::{Answer, Application, NewApplication, Notification, Offer, Refusal};
use crate::{
    is_money_measure, own_enterprise, require_signed_in, PolicyError, PolicyService, Result,
};
use serde::{Deserialize, Serialize};
use yuepin_domain::{Caller, Denied, Role};
use yuepin_policy::Outcome;
use yuepin_store::Actor;

/// Notifications shown at most.
const NOTIFICATIONS: i64 = 200;

/// An enterprise's answer to an offer, as the API and the page form send it.
#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerInput {
    /// `confirm` or `decline`.
    pub decision: String,
    /// What is paid for, where the platform cannot name it (M8: the standard's code).
    #[serde(default)]
    pub reference: String,
}

/// The answered offer and the application a confirmation opened.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Answered {
    pub offer: Offer,
    pub application: Option<Application>,
}

impl PolicyService {
    /// An enterprise's offers: an enterprise user's own (whatever it names), or for
    /// administrators the enterprise with credit code `enterprise`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn offers(&self, caller: &Caller, enterprise: Option<&str>) -> Result<Vec<Offer>> {
        require_signed_in(caller)?;
        let id = if caller.role() == Some(Role::Enterprise) {
            own_enterprise(caller)?
        } else if caller.is_administrator() {
            match enterprise {
                Some(code) => self.enterprise_id_of(code).await?,
                None => {
                    return Err(PolicyError::Required {
                        field: "enterprise",
                    })
                }
            }
        } else {
            return Err(Denied::Role {
                needs: vec![Role::Enterprise, Role::Regulator],
            }
            .into());
        };
        Ok(self.offer_rows_of(id).await?)
    }

    /// The enterprise answers one of its offers. Someone else's offer looks like a missing
    /// one. Confirming is judged as of the server's date; confirming a money measure opens its
    /// application, with what is paid for derived from platform facts (the enterprise names a
    /// standard's code, matched against its own confirmed records).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn answer_offer(
        &self,
        caller: &Caller,
        offer_id: i64,
        input: AnswerInput,
    ) -> Result<Answered> {
        let own = own_enterprise(caller)?;
        let offer = self
            .offer_row(offer_id)
            .await?
            .filter(|o| o.enterprise_id == own)
            .ok_or(PolicyError::UnknownOffer(offer_id))?;
        let answer = Answer::parse(&input.decision).ok_or_else(|| PolicyError::Choice {
            field: "decision",
            value: input.decision.trim().to_string(),
            allowed: &["confirm", "decline"],
        })?;
        let set = self.set();
        // A confirmation is judged again as of the server's date: an offer made while the
        // measure was in force cannot be confirmed after it lapsed or the facts changed.
        let today = self.today();
        let mut application = None;
        if answer == Answer::Confirm {
            let mi =
                set.find_measure(&offer.measure)
                    .ok_or_else(|| PolicyError::UnknownMeasure {
                        id: offer.measure.clone(),
                    })?;
            let money = is_money_measure(set, mi);
            if money {
                self.check_window(mi, today)?;
            }
            // A lapsed measure says so first; then the offer's own deadline.
            if today > offer.expires_on {
                return Err(PolicyError::OfferExpired {
                    id: offer_id,
                    expired_on: offer.expires_on,
                });
            }
            let (ef, evals) = self.enterprise_evaluations(own, today).await?;
            let ev = evals
                .iter()
                .find(|e| e.measure == offer.measure)
                .ok_or_else(|| PolicyError::UnknownMeasure {
                    id: offer.measure.clone(),
                })?;
            if !matches!(ev.outcome, Outcome::Eligible) {
                return Err(PolicyError::NotEligible(Refusal {
                    measure: offer.measure.clone(),
                    evaluation: Box::new(ev.clone()),
                }));
            }
            if money {
                let target = self
                    .payment_target(own, &ef.uscc, mi, &input.reference, today)
                    .await?;
                application = Some((
                    NewApplication {
                        enterprise_id: own,
                        measure: offer.measure.clone(),
                        reference: target.reference.chars().take(200).collect(),
                        offer_id: Some(offer_id),
                        amount_requested_fen: offer.amount_fen,
                        // Stored with the application, as the note an enterprise would write.
                        note: "免申即享：企业确认意愿 (confirmed offer)".into(),
                        payment_key: target.key,
                        period: target.period,
                        evaluated_on: today,
                        evidence: self.evidence(mi, &ef, ev, today),
                    },
                    target.once,
                ));
            }
        }
        let (offer, application) = self
            .write_answer(Actor::from(caller), offer_id, answer, application)
            .await?;
        Ok(Answered { offer, application })
    }

    /// An enterprise user's notifications, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn notifications(&self, caller: &Caller) -> Result<Vec<Notification>> {
        let id = own_enterprise(caller)?;
        Ok(self.notification_rows_of(id, NOTIFICATIONS).await?)
    }

    /// Marks all of an enterprise user's notifications read; returns how many were unread.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mark_notifications_read(&self, caller: &Caller) -> Result<u64> {
        let id = own_enterprise(caller)?;
        Ok(self.write_read(Actor::from(caller), id, None).await?)
    }
}
