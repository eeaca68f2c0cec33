//! Applications for the money measures (those with `money:` in their pack): an enterprise
//! applies on the server's date inside the measure's window (eligibility is checked first; an
//! ineligible application is refused with the evaluation), what is paid for is derived from
//! platform facts, the evidence is stored with the application, a regulator approves with a
//! grant (a capped amount adds up per enterprise, measure and period) or rejects with a
//! reason, and each caller lists what it may see — the regulators everything, an enterprise
//! its own.

use crate::records::{Application, ApplicationStatus, Decision, NewApplication, Refusal};
use crate::{
    find_measure, is_money_measure, listing_scope, no_client_date, own_enterprise,
    require_signed_in, PolicyError, PolicyService, Result,
};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use yuepin_domain::{Caller, Yuan};
use yuepin_policy::model::Scalar;
use yuepin_policy::money::{AmountRule, PaysFor};
use yuepin_policy::Outcome;
use yuepin_store::Actor;

/// Applications listed at most.
const APPLICATIONS: i64 = 500;
/// An enterprise's applications shown on its 政策匹配 page at most.
const APPLICATIONS_OF_ONE: i64 = 100;
/// Applications (and so grants) one export holds at most.
pub const APPLICATION_EXPORT_MAX: i64 = 10_000;

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

/// A standard's code as written in different hands ("ISO 12345", "iso12345", "ISO 12345:2026")
/// reduced to one form: upper case, no spaces, no edition year.
pub fn normalise_standard_code(code: &str) -> String {
    let mut c: String = code
        .chars()
        .filter(|ch| !ch.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    for sep in [':', '-', '—'] {
        if let Some((head, year)) = c.rsplit_once(sep) {
            if year.len() == 4 && year.chars().all(|d| d.is_ascii_digit()) && !head.is_empty() {
                c = head.to_string();
                break;
            }
        }
    }
    c
}

/// What an application pays for, derived from platform facts: its payment key (scoped to the
/// enterprise by the tables' keys), the period caps add up over and the reference shown.
pub(crate) struct PaymentTarget {
    pub key: String,
    pub period: String,
    pub reference: String,
    /// The key is paid once (a record); `false`: a financing line's loans add up to the cap.
    pub once: bool,
}

impl PolicyService {
    /// The payment target of an application for `measure` by enterprise `enterprise_id` on
    /// the server's date `today`. A free-text reference is used only to pick the enterprise's
    /// own confirmed standard record (normalised); it never makes a key by itself.
    pub(crate) async fn payment_target(
        &self,
        enterprise_id: i64,
        uscc: &str,
        mi: yuepin_policy::MeasureIdx,
        reference: &str,
        today: NaiveDate,
    ) -> Result<PaymentTarget> {
        let measure = &self.set().measures()[mi];
        let Some(money) = measure.money.as_ref() else {
            return Err(PolicyError::NotMoneyMeasure {
                measure: measure.id.clone(),
            });
        };
        let period = money.period_key(today, measure.in_force);
        match money.pays_for {
            PaysFor::Loan => Ok(PaymentTarget {
                key: format!("period:{period}"),
                reference: format!("{uscc}:quality-financing:{period}"),
                period,
                once: false,
            }),
            PaysFor::Award => {
                let rec = yuepin_enterprises_service::EnterprisesService::new(self.store.clone())
                    .enterprise_by_id(enterprise_id)
                    .await?;
                let d = rec
                    .enterprise
                    .designations
                    .iter()
                    .filter(|d| d.active_on(today))
                    .find(|d| money.records.iter().any(|r| r == d.kind.code()))
                    .ok_or(PolicyError::NoPayableRecord { field: "reference" })?;
                let key = format!("award:{}:{}", d.kind.code(), d.awarded_on);
                Ok(PaymentTarget {
                    reference: format!("{uscc}:{}:{}", d.kind.code(), d.awarded_on),
                    key,
                    period,
                    once: true,
                })
            }
            PaysFor::Standard => {
                let wanted = normalise_standard_code(reference);
                if wanted.is_empty() {
                    return Err(PolicyError::Required { field: "reference" });
                }
                let records = self.standard_records(enterprise_id).await?;
                let mut declared = false;
                for r in records.iter().filter(|r| {
                    normalise_standard_code(&r.code) == wanted
                        && money
                            .records
                            .iter()
                            .any(|x| *x == format!("{}:{}", r.level, r.role))
                }) {
                    if r.provenance.counts_for_money() {
                        return Ok(PaymentTarget {
                            key: format!("standard:{}", r.id),
                            reference: wanted,
                            period,
                            once: true,
                        });
                    }
                    declared = true;
                }
                if declared {
                    Err(PolicyError::Unconfirmed {
                        field: "reference",
                        unit: measure.responsible.units.join("、"),
                    })
                } else {
                    Err(PolicyError::NoPayableRecord { field: "reference" })
                }
            }
        }
    }

    /// Refuses an application outside the measure's window, naming the clause, the dates and
    /// the successor measure if a loaded pack replaces it.
    pub(crate) fn check_window(
        &self,
        mi: yuepin_policy::MeasureIdx,
        today: NaiveDate,
    ) -> Result<()> {
        let set = self.set();
        let m = &set.measures()[mi];
        let Some(money) = m.money.as_ref() else {
            return Ok(());
        };
        if money.window.contains(today) {
            return Ok(());
        }
        Err(PolicyError::OutsideWindow {
            measure: m.key.clone(),
            first_day: money.window.from,
            last_day: money.window.until,
            clause: money.window_clause.clone(),
            successor: crate::successor_of(set, mi),
        })
    }
}

impl PolicyService {
    /// An enterprise user applies for a money measure for its own enterprise; the platform
    /// checks eligibility first.
    #[tracing::instrument(level = "debug", skip_all)]
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
        no_client_date(&input.as_of)?;
        let today = self.today();
        self.check_window(mi, today)?;
        let (ef, evals) = self.enterprise_evaluations(own, today).await?;
        let key = &set.measures()[mi].key;
        let Some(ev) = evals.iter().find(|e| &e.measure == key) else {
            return Err(PolicyError::UnknownMeasure { id: key.clone() });
        };
        if !matches!(ev.outcome, Outcome::Eligible) {
            return Err(PolicyError::NotEligible(Refusal {
                measure: key.clone(),
                evaluation: Box::new(ev.clone()),
            }));
        }
        let target = self
            .payment_target(own, &ef.uscc, mi, &input.reference, today)
            .await?;
        let amount = match input.amount.trim() {
            "" => None,
            a => Some(parse_money("amount", a)?),
        };
        let evidence = self.evidence(mi, &ef, ev, today);
        self.write_application(
            Actor::from(caller),
            &NewApplication {
                enterprise_id: own,
                measure: key.clone(),
                reference: target.reference.chars().take(200).collect(),
                offer_id: None,
                amount_requested_fen: amount,
                note: input.note.chars().take(1000).collect(),
                payment_key: target.key,
                period: target.period,
                evaluated_on: today,
                evidence,
            },
            target.once,
        )
        .await
    }

    /// What an application was decided on, kept with it: the server's date, the facts used,
    /// the pack (id, number, version) and the rule's result with its reasons.
    pub(crate) fn evidence(
        &self,
        mi: yuepin_policy::MeasureIdx,
        ef: &crate::records::EnterpriseFacts,
        ev: &yuepin_policy::Evaluation,
        today: NaiveDate,
    ) -> serde_json::Value {
        let set = self.set();
        let m = &set.measures()[mi];
        let pack = &set.packs()[m.pack];
        serde_json::json!({
            "evaluated_on": today,
            "pack": {"id": pack.id, "number": pack.number, "version": pack.version},
            "measure": m.key,
            "facts": ef.to_facts().values,
            "declared_unconfirmed": ef.declared_standards,
            "evaluation": ev,
        })
    }

    /// A regulator approves (recording the grant) or rejects (with a reason) an application.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decide(
        &self,
        caller: &Caller,
        id: i64,
        input: DecisionInput,
    ) -> Result<Application> {
        caller.require_administrator()?;
        let reason: String = input.reason.trim().chars().take(1000).collect();
        let today = self.today();
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
                // The cap of the text (a dated parameter), as of the day the application was
                // evaluated: a decision after the window closed still judges it as filed.
                let set = self.set();
                let money = set
                    .find_measure(&app.measure)
                    .and_then(|mi| set.measures()[mi].money.clone());
                let on = app.evaluated_on.unwrap_or(today);
                let cap_fen = match &money {
                    Some(m) if m.amount == AmountRule::Capped => m.param.and_then(|p| {
                        let name = &set.parameters()[usize::from(p)].name;
                        match self.engine().snapshot(on).parameter_value(name) {
                            Some(Scalar::Money(cap)) => Some(cap),
                            _ => None,
                        }
                    }),
                    _ => None,
                };
                let repeatable = money.as_ref().is_some_and(|m| m.pays_for == PaysFor::Loan);
                let year = input.year.unwrap_or_else(|| i64::from(today.year()));
                if !(2000..=2100).contains(&year) {
                    return Err(PolicyError::InvalidYear(year));
                }
                Decision::Approve {
                    amount_fen: amount,
                    year,
                    reason,
                    cap_fen,
                    repeatable,
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
    #[tracing::instrument(level = "debug", skip_all)]
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

    /// The applications of an export (newest first, each with its grant): the regulators'
    /// every one, an enterprise its own, at most [`APPLICATION_EXPORT_MAX`]; `true` when more
    /// match (the export says so and how to narrow it).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn applications_for_export(
        &self,
        caller: &Caller,
        status: Option<&str>,
    ) -> Result<(Vec<Application>, bool)> {
        let scope = listing_scope(caller)?;
        let status = match status {
            None => None,
            Some(s) => match ApplicationStatus::parse(s) {
                Some(st) => Some(st),
                None => return Ok((vec![], false)),
            },
        };
        let mut rows = self
            .application_rows(scope, status, APPLICATION_EXPORT_MAX + 1)
            .await?;
        let more = rows.len() as i64 > APPLICATION_EXPORT_MAX;
        rows.truncate(APPLICATION_EXPORT_MAX as usize);
        Ok((rows, more))
    }

    /// One enterprise's applications (its 政策匹配 page): its own users' and the regulators'.
    #[tracing::instrument(level = "debug", skip_all)]
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
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn application(&self, caller: &Caller, id: i64) -> Result<Application> {
        require_signed_in(caller)?;
        self.application_row(id)
            .await?
            .filter(|a| caller.can_read_enterprise(a.enterprise_id))
            .ok_or(PolicyError::UnknownApplication(id))
    }
}
