//! Applications for the money measures (M8, M10, M18): an enterprise applies (eligibility is
//! checked first; an ineligible application is refused with the evaluation), a regulator
//! approves with a grant (M18 within the financing cap of the text) or rejects with a reason,
//! and each caller lists what it may see — the regulators everything, an enterprise its own.

use crate::records::{Application, ApplicationStatus, Decision, NewApplication, Refusal};
use crate::{
    find_measure, is_money_measure, listing_scope, measure_id, own_enterprise, parse_as_of,
    require_signed_in, PolicyError, PolicyService, Result,
};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use yuepin_domain::{Caller, Yuan};
use yuepin_policy::model::Scalar;
use yuepin_policy::Outcome;
use yuepin_store::{Actor, Store};

/// Applications listed at most.
const APPLICATIONS: i64 = 500;
/// An enterprise's applications shown on its 政策匹配 page at most.
const APPLICATIONS_OF_ONE: i64 = 100;

/// An application as the API and the page form send it.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplyInput {
    /// Enterprise code; enterprise users may omit it (their own).
    #[serde(default)]
    pub uscc: String,
    pub measure: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub as_of: String,
}

/// A regulator's decision as the API and the page form send it.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionInput {
    /// `approve` or `reject`.
    pub decision: String,
    #[serde(default)]
    pub reason: String,
    /// The amount granted (required to approve), e.g. "50万元".
    #[serde(default)]
    pub amount: String,
    /// Budget year of the grant (default: this year).
    #[serde(default)]
    pub year: Option<i64>,
}

/// A positive amount of money in fen.
fn parse_money(field: &'static str, s: &str) -> Result<i64> {
    let y = Yuan::parse(s).map_err(|mut e| {
        e.field = field;
        PolicyError::Domain(e)
    })?;
    if y.fen() <= 0 {
        return Err(PolicyError::NotPositive { field });
    }
    Ok(y.fen())
}

/// Normalises the reference of a payment: a standard's code (M8), an award (M10), financing (M18).
pub(crate) fn normalise_reference(measure: &str, reference: &str) -> String {
    let r: String = reference.split_whitespace().collect::<Vec<_>>().join(" ");
    if measure == "M8" {
        r.to_uppercase()
    } else {
        r
    }
}

/// The default reference for an offer's application where the platform can name it: the award
/// held on the as-of date (M10), or the enterprise's financing in the as-of year (M18). M8
/// needs the standard's code from the enterprise.
pub(crate) async fn default_reference(
    store: &Store,
    enterprise_id: i64,
    uscc: &str,
    measure: &str,
    as_of: NaiveDate,
) -> Result<Option<String>> {
    Ok(match measure {
        "M18" => Some(format!("{uscc}:quality-financing:{}", as_of.year())),
        "M10" => {
            let rec = yuepin_enterprises_service::EnterprisesService::new(store.clone())
                .enterprise_by_id(enterprise_id)
                .await?;
            rec.enterprise
                .designations
                .iter()
                .filter(|d| d.active_on(as_of))
                .find(|d| {
                    matches!(
                        d.kind.code(),
                        "china_quality_award"
                            | "china_quality_award_nomination"
                            | "guangdong_quality_award"
                    )
                })
                .map(|d| format!("{uscc}:{}:{}", d.kind.code(), d.awarded_on))
        }
        _ => None,
    })
}

impl PolicyService {
    /// An enterprise user applies for a money measure for its own enterprise; the platform
    /// checks eligibility first.
    pub async fn apply(&self, caller: &Caller, input: ApplyInput) -> Result<Application> {
        let own = own_enterprise(caller)?;
        let set = self.set();
        let mi = find_measure(set, &input.measure)?;
        if !is_money_measure(set, mi) {
            return Err(PolicyError::NotMoneyMeasure {
                measure: input.measure.trim().to_string(),
            });
        }
        if !input.uscc.trim().is_empty() {
            let id = self.enterprise_id_of(&input.uscc).await?;
            caller.require_enterprise(id)?;
        }
        let as_of = parse_as_of(Some(&input.as_of))?;
        let (ef, evals) = self.enterprise_evaluations(own, as_of).await?;
        let key = &set.measures()[mi].key;
        let ev = evals.iter().find(|e| &e.measure == key);
        if let Some(ev) = ev.filter(|e| !matches!(e.outcome, Outcome::Eligible)) {
            return Err(PolicyError::NotEligible(Refusal {
                measure: key.clone(),
                evaluation: Box::new(ev.clone()),
            }));
        }
        let mid = measure_id(key).to_string();
        let reference = match input.reference.trim() {
            "" => default_reference(&self.store, own, &ef.uscc, &mid, as_of)
                .await?
                .ok_or(PolicyError::Required { field: "reference" })?,
            r => normalise_reference(&mid, r),
        };
        let amount = match input.amount.trim() {
            "" => None,
            a => Some(parse_money("amount", a)?),
        };
        self.write_application(
            Actor::from(caller),
            &NewApplication {
                enterprise_id: own,
                measure: key.clone(),
                reference: reference.chars().take(200).collect(),
                offer_id: None,
                amount_requested_fen: amount,
                note: input.note.chars().take(1000).collect(),
            },
        )
        .await
    }

    /// A regulator approves (recording the grant) or rejects (with a reason) an application.
    pub async fn decide(
        &self,
        caller: &Caller,
        id: i64,
        input: DecisionInput,
    ) -> Result<Application> {
        caller.require_administrator()?;
        let reason: String = input.reason.trim().chars().take(1000).collect();
        let today = yuepin_domain::china_today();
        let decision = match input.decision.trim() {
            "approve" => {
                let app = self
                    .application_row(id)
                    .await?
                    .ok_or(PolicyError::UnknownApplication(id))?;
                let amount = match input.amount.trim() {
                    "" => app
                        .amount_requested_fen
                        .ok_or(PolicyError::Required { field: "amount" })?,
                    a => parse_money("amount", a)?,
                };
                // M18: the financing cap of the text (dated parameter).
                if measure_id(&app.measure) == "M18" {
                    let snap = self.engine().snapshot(today);
                    if let Some(Scalar::Money(cap)) = snap.parameter_value("m18_financing_cap") {
                        if amount > cap {
                            return Err(PolicyError::OverCap { cap_fen: cap });
                        }
                    }
                }
                let year = input.year.unwrap_or_else(|| i64::from(today.year()));
                if !(2000..=2100).contains(&year) {
                    return Err(PolicyError::InvalidYear(year));
                }
                Decision::Approve {
                    amount_fen: amount,
                    year,
                    reason,
                }
            }
            "reject" => {
                if reason.is_empty() {
                    return Err(PolicyError::Required { field: "reason" });
                }
                Decision::Reject { reason }
            }
            other => {
                return Err(PolicyError::Choice {
                    field: "decision",
                    value: other.to_string(),
                    allowed: &["approve", "reject"],
                });
            }
        };
        self.write_decision(Actor::from(caller), id, &decision)
            .await
    }

    /// Applications the caller may see, newest first: every enterprise's for regulators, an
    /// enterprise user's own. `status` filters (an unknown status matches nothing).
    pub async fn applications(
        &self,
        caller: &Caller,
        status: Option<&str>,
    ) -> Result<Vec<Application>> {
        let scope = listing_scope(caller)?;
        let status = match status {
            None => None,
            Some(s) => match ApplicationStatus::parse(s) {
                Some(st) => Some(st),
                None => return Ok(vec![]),
            },
        };
        Ok(self.application_rows(scope, status, APPLICATIONS).await?)
    }

    /// One enterprise's applications (its 政策匹配 page): its own users' and the regulators'.
    pub async fn applications_of(
        &self,
        caller: &Caller,
        enterprise_id: i64,
    ) -> Result<Vec<Application>> {
        caller.require_enterprise(enterprise_id)?;
        Ok(self
            .application_rows(Some(enterprise_id), None, APPLICATIONS_OF_ONE)
            .await?)
    }

    /// One application. Someone else's looks like a missing one.
    pub async fn application(&self, caller: &Caller, id: i64) -> Result<Application> {
        require_signed_in(caller)?;
        self.application_row(id)
            .await?
            .filter(|a| caller.can_read_enterprise(a.enterprise_id))
            .ok_or(PolicyError::UnknownApplication(id))
    }
}
