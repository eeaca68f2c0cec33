//! Eligibility with reasons: request facts for any subject kind (open to everyone: the facts
//! come with the request), an enterprise's facts from the platform with request facts merged
//! over them (its own users and regulators), and an enterprise's full picture — what it
//! qualifies for, might qualify for (with the facts to provide) and why not.

use crate::records::{EnterpriseFacts, MatchRun, Offer};
use crate::{find_measure, measures_for, require_signed_in, PolicyError, PolicyService, Result};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};
use yuepin_domain::Caller;
use yuepin_policy::{Evaluation, Facts, Outcome, SubjectKind};

/// A check: request facts of a subject kind, or (with `enterprise`) an enterprise's platform
/// facts with the request facts merged over them.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    pub subject: SubjectKind,
    pub facts: Map<String, Value>,
    pub as_of: NaiveDate,
    /// One measure (M16 or its key); `None`: every measure with a rule for the subject.
    pub measure: Option<String>,
    /// An enterprise's credit code: its facts from the platform.
    pub enterprise: Option<String>,
}

/// What a check evaluated.
#[derive(Debug, Clone)]
pub struct Checked {
    pub as_of: NaiveDate,
    pub subject: SubjectKind,
    /// The enterprise's credit code and name, when its platform facts were used.
    pub enterprise: Option<(String, String)>,
    /// The facts evaluated (platform facts merged with the request's).
    pub facts: Facts,
    pub evaluations: Vec<Evaluation>,
}

/// What an enterprise qualifies for, might qualify for (with the facts to provide) and why not.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseMatches {
    #[serde(skip)]
    pub enterprise_id: i64,
    pub uscc: String,
    pub name: String,
    pub as_of: NaiveDate,
    pub facts: Map<String, Value>,
    pub eligible: Vec<Evaluation>,
    pub undetermined: Vec<Evaluation>,
    pub not_eligible: Vec<Evaluation>,
    pub other: Vec<Evaluation>,
    pub latest_run: Option<MatchRun>,
    pub offers: Vec<Offer>,
}

impl EnterpriseFacts {
    /// Merges request-supplied facts over the platform's (request wins).
    pub fn merged(&self, extra: Option<&Map<String, Value>>) -> Facts {
        let mut f = self.to_facts();
        if let Some(extra) = extra {
            for (k, v) in extra {
                f.values.insert(k.clone(), v.clone());
            }
        }
        f
    }
}

impl PolicyService {
    /// Evaluates facts for one measure or all measures of the subject kind. Reads nothing
    /// stored, so anyone may: the facts are the caller's own.
    pub fn evaluate(
        &self,
        facts: &Facts,
        as_of: NaiveDate,
        measure: Option<&str>,
    ) -> Result<Vec<Evaluation>> {
        let engine = self.engine();
        let set = self.set();
        let row = engine.row(facts)?;
        let snap = engine.snapshot(as_of);
        let list = match measure.map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) => {
                let i = find_measure(set, id)?;
                if set.measures()[i].rule(facts.subject).is_none() {
                    return Err(PolicyError::NoRuleForSubject {
                        measure: id.to_string(),
                        subject: facts.subject,
                    });
                }
                vec![i]
            }
            None => measures_for(set, facts.subject),
        };
        let evaluations: Vec<Evaluation> = list
            .into_iter()
            .filter_map(|i| snap.explain(i, &row))
            .collect();
        yuepin_metrics::policy_evaluations(evaluations.len() as u64);
        Ok(evaluations)
    }

    /// A check (see [`CheckRequest`]). An enterprise's platform facts are its own users' and
    /// the regulators' to use.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn check(&self, caller: &Caller, req: CheckRequest) -> Result<Checked> {
        let measure = req.measure.as_deref();
        if let Some(code) = req.enterprise.as_deref().filter(|s| !s.trim().is_empty()) {
            if req.subject != SubjectKind::Enterprise {
                return Err(PolicyError::EnterpriseSubjectOnly);
            }
            let id = self.enterprise_id_of(code).await?;
            caller.require_enterprise(id)?;
            let ef = self.load_enterprise_facts(req.as_of, id).await?;
            let facts = ef.merged(Some(&req.facts));
            let evaluations = self.evaluate(&facts, req.as_of, measure)?;
            return Ok(Checked {
                as_of: req.as_of,
                subject: req.subject,
                enterprise: Some((ef.uscc, ef.name)),
                facts,
                evaluations,
            });
        }
        let facts = Facts::from_json(req.subject, Value::Object(req.facts))?;
        let evaluations = self.evaluate(&facts, req.as_of, measure)?;
        Ok(Checked {
            as_of: req.as_of,
            subject: req.subject,
            enterprise: None,
            facts,
            evaluations,
        })
    }

    /// Every measure with an enterprise rule, explained, for one enterprise (no access check:
    /// callers in this crate have made it).
    pub(crate) async fn enterprise_evaluations(
        &self,
        enterprise_id: i64,
        as_of: NaiveDate,
    ) -> Result<(EnterpriseFacts, Vec<Evaluation>)> {
        let ef = self.load_enterprise_facts(as_of, enterprise_id).await?;
        let row = self.index().row(&ef);
        let snap = self.engine().snapshot(as_of);
        let evals = measures_for(self.set(), SubjectKind::Enterprise)
            .into_iter()
            .filter_map(|i| snap.explain(i, &row))
            .collect::<Vec<_>>();
        yuepin_metrics::policy_evaluations(evals.len() as u64);
        Ok((ef, evals))
    }

    /// An enterprise's full picture as of a date (default: the latest match run's, so the
    /// page shows what the offers were based on), with its offers.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise_matches(
        &self,
        caller: &Caller,
        uscc: &str,
        as_of: Option<&str>,
    ) -> Result<EnterpriseMatches> {
        require_signed_in(caller)?;
        let id = self.enterprise_id_of(uscc).await?;
        if !caller.can_read_enterprise(id) {
            // Someone else's enterprise looks the same as a missing one.
            return Err(PolicyError::UnknownEnterprise {
                uscc: uscc.to_string(),
            });
        }
        let latest = self.latest_run_row().await?;
        let as_of = match as_of.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => self.as_of(Some(s))?,
            // What holds on the server's date, whatever date the latest run was made as of.
            None => self.today(),
        };
        let (ef, evals) = self.enterprise_evaluations(id, as_of).await?;
        let mut out = EnterpriseMatches {
            enterprise_id: id,
            uscc: ef.uscc.clone(),
            name: ef.name.clone(),
            as_of,
            facts: ef.to_facts().values,
            eligible: vec![],
            undetermined: vec![],
            not_eligible: vec![],
            other: vec![],
            latest_run: latest,
            offers: self.offer_rows_of(id).await?,
        };
        for e in evals {
            match e.outcome {
                Outcome::Eligible => out.eligible.push(e),
                Outcome::Undetermined { .. } => out.undetermined.push(e),
                Outcome::NotEligible { .. } => out.not_eligible.push(e),
                _ => out.other.push(e),
            }
        }
        Ok(out)
    }
}
