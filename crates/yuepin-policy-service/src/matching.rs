//! Proactive matching (免申即享): every enterprise in the store against every measure as of a
//! date, streamed in batches; the run stores eligible and undetermined cells with their
//! reasons and per-measure counts of every outcome, makes offers for eligible entitlements and
//! notifies each enterprise with something eligible. Then the regulator's reads of runs and
//! of the enterprises listed under a measure (the page, the API and the XLSX export).

use crate::records::{
    outcome_code, MatchCell, MatchRun, MeasureListing, NewMatchRun, NewNotification, RunCount,
    OUTCOMES,
};
use crate::{engine_with, find_measure, measures_for, FactScope, PolicyError, PolicyService};
use crate::{Result, BATCH};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;
use yuepin_domain::Caller;
use yuepin_policy::{MeasureIdx, Outcome, OutcomeKind, SubjectKind};
use yuepin_store::Actor;

/// What a stored match run did, with timings.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchReport {
    pub run_id: i64,
    pub as_of: NaiveDate,
    pub enterprises: i64,
    pub measures: usize,
    pub evaluations: i64,
    pub eligible: i64,
    pub undetermined: i64,
    pub offers: usize,
    pub notified: usize,
    /// measure key → outcome → count.
    pub counts: BTreeMap<String, BTreeMap<String, i64>>,
    pub load_secs: f64,
    pub eval_secs: f64,
    pub store_secs: f64,
}

/// A match as the API and the page form ask it: a date (default today) and optional
/// parameter overrides (a what-if run that is stored).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchInput {
    #[serde(default)]
    pub as_of: Option<String>,
    #[serde(default)]
    pub overrides: BTreeMap<String, String>,
}

/// One page (or all) of the enterprises with an outcome for a measure in a run.
#[derive(Debug, Clone)]
pub struct Listing {
    pub run: MatchRun,
    pub measure: MeasureIdx,
    pub outcome: OutcomeKind,
    pub items: Vec<MeasureListing>,
}

impl PolicyService {
    /// [`PolicyService::run_match`] with the date still to parse (after the access check).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn match_request(&self, caller: &Caller, input: MatchInput) -> Result<MatchReport> {
        caller.require_administrator()?;
        let as_of = self.as_of(input.as_of.as_deref())?;
        self.run_match(caller, as_of, &input.overrides).await
    }

    /// Matches every enterprise in the store as of `as_of` (administrators only), with
    /// optional parameter overrides (a stored what-if), and stores the outcomes. Offers and
    /// notifications are made only by a run as of the server's date ([`PolicyService::today`]):
    /// a run as of another day is a stored analysis and makes nobody an offer.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn run_match(
        &self,
        caller: &Caller,
        as_of: NaiveDate,
        overrides: &BTreeMap<String, String>,
    ) -> Result<MatchReport> {
        caller.require_administrator()?;
        let engine = engine_with(self.set(), overrides)?;
        let set = engine.policy_set();
        let snap = engine.snapshot(as_of);
        let index = self.index();
        let cols = measures_for(set, SubjectKind::Enterprise);
        let live = as_of == self.today();
        let mut counts = vec![[0i64; 6]; cols.len()];
        let mut run = NewMatchRun {
            as_of: as_of.to_string(),
            overrides: json!(overrides),
            ..Default::default()
        };
        let (mut load, mut eval) = (0f64, 0f64);
        let mut after = 0i64;
        let mut reasons = Vec::new();
        loop {
            let t = Instant::now();
            let batch = self
                .load_facts(
                    as_of,
                    FactScope::After {
                        after,
                        limit: BATCH,
                    },
                )
                .await?;
            load += t.elapsed().as_secs_f64();
            let Some(last) = batch.last() else { break };
            after = last.id;
            let t = Instant::now();
            for ef in &batch {
                let row = index.row(ef);
                run.enterprises += 1;
                let mut eligible = Vec::new();
                let mut offers = 0usize;
                for (c, &mi) in cols.iter().enumerate() {
                    let kind = snap.outcome_with_reasons(mi, &row, &mut reasons);
                    counts[c][kind as usize] += 1;
                    run.evaluations += 1;
                    let measure = &set.measures()[mi];
                    match kind {
                        OutcomeKind::Eligible => {
                            let amount = measure
                                .benefits
                                .iter()
                                .filter_map(|b| snap.benefit_amount(b, &row))
                                .reduce(|a, b| a.saturating_add(b));
                            run.cells.push(MatchCell {
                                enterprise_id: ef.id,
                                measure: measure.key.clone(),
                                outcome: OutcomeKind::Eligible,
                                reasons: "[]".into(),
                                amount_fen: amount,
                            });
                            eligible.push(measure.id.clone());
                            if live && !measure.programme && !measure.benefits.is_empty() {
                                run.offers.push((ef.id, measure.key.clone(), amount));
                                offers += 1;
                            }
                        }
                        OutcomeKind::Undetermined => {
                            let missing: Vec<String> =
                                match snap.explain(mi, &row).map(|e| e.outcome) {
                                    Some(Outcome::Undetermined { missing }) => {
                                        missing.into_iter().map(|x| x.fact).collect()
                                    }
                                    _ => vec![],
                                };
                            run.cells.push(MatchCell {
                                enterprise_id: ef.id,
                                measure: measure.key.clone(),
                                outcome: OutcomeKind::Undetermined,
                                reasons: json!(missing).to_string(),
                                amount_fen: None,
                            });
                        }
                        _ => {}
                    }
                }
                if live && !eligible.is_empty() {
                    run.notifications.push(match_notification(
                        ef.id, &ef.uscc, as_of, &eligible, offers,
                    ));
                }
            }
            eval += t.elapsed().as_secs_f64();
        }
        for (c, &mi) in cols.iter().enumerate() {
            for (k, n) in counts[c].iter().enumerate() {
                if *n > 0 {
                    run.counts
                        .push((set.measures()[mi].key.clone(), OUTCOMES[k], *n));
                }
            }
        }
        let t = Instant::now();
        let run_id = self.save_match(Actor::from(caller), &run).await?;
        let store_secs = t.elapsed().as_secs_f64();
        yuepin_metrics::policy_evaluations(run.evaluations.max(0) as u64);
        let mut by_measure: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for (mk, o, n) in &run.counts {
            by_measure
                .entry(mk.clone())
                .or_default()
                .insert(outcome_code(*o).to_string(), *n);
        }
        let eligible = run
            .cells
            .iter()
            .filter(|c| c.outcome == OutcomeKind::Eligible)
            .count() as i64;
        Ok(MatchReport {
            run_id,
            as_of,
            enterprises: run.enterprises,
            measures: cols.len(),
            evaluations: run.evaluations,
            eligible,
            undetermined: run.cells.len() as i64 - eligible,
            offers: run.offers.len(),
            notified: run.notifications.len(),
            counts: by_measure,
            load_secs: load,
            eval_secs: eval,
            store_secs,
        })
    }

    /// The latest match runs (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn runs(&self, caller: &Caller, limit: i64) -> Result<Vec<MatchRun>> {
        caller.require_administrator()?;
        Ok(self.run_rows(limit).await?)
    }

    /// One run with its per-measure outcome counts (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn run(&self, caller: &Caller, id: i64) -> Result<(MatchRun, Vec<RunCount>)> {
        caller.require_administrator()?;
        let run = self.run_row(id).await?.ok_or(PolicyError::UnknownRun(id))?;
        Ok((run, self.run_count_rows(id).await?))
    }

    /// The per-measure outcome counts of a run (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn run_counts(&self, caller: &Caller, run_id: i64) -> Result<Vec<RunCount>> {
        caller.require_administrator()?;
        Ok(self.run_count_rows(run_id).await?)
    }

    /// An enterprise's stored cells (eligible, undetermined) in a run: its own users' and the
    /// regulators' to read.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn results_of(
        &self,
        caller: &Caller,
        run_id: i64,
        enterprise_id: i64,
    ) -> Result<Vec<MatchCell>> {
        caller.require_enterprise(enterprise_id)?;
        Ok(self.result_rows(run_id, enterprise_id).await?)
    }

    /// The enterprises with `outcome` (eligible, the default, or undetermined) for a measure
    /// in a run (default: the latest), page `page` (from 1) of `page_size` (≤ 0: all of them,
    /// for the export). Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn measure_listing(
        &self,
        caller: &Caller,
        measure: &str,
        run: Option<i64>,
        outcome: Option<&str>,
        page: Option<i64>,
        page_size: i64,
    ) -> Result<Listing> {
        caller.require_administrator()?;
        let mi = find_measure(self.set(), measure)?;
        let run = match run {
            Some(r) => self.run_row(r).await?.ok_or(PolicyError::UnknownRun(r))?,
            None => self
                .latest_run_row()
                .await?
                .ok_or(PolicyError::NoMatchRun)?,
        };
        let outcome = match outcome.map(str::trim) {
            None | Some("") | Some("eligible") => OutcomeKind::Eligible,
            Some("undetermined") => OutcomeKind::Undetermined,
            Some(other) => {
                return Err(PolicyError::Choice {
                    field: "outcome",
                    value: other.to_string(),
                    allowed: &["eligible", "undetermined"],
                })
            }
        };
        let page = page.unwrap_or(1).clamp(1, 1_000_000);
        let items = self
            .listing_rows(
                run.id,
                &self.set().measures()[mi].key,
                outcome,
                (page - 1) * page_size.max(0),
                page_size,
            )
            .await?;
        Ok(Listing {
            run,
            measure: mi,
            outcome,
            items,
        })
    }
}

/// The in-app notice of a match run for an enterprise with eligible measures. The text is the
/// notice itself, stored as sent (both languages), not a message of this service.
fn match_notification(
    enterprise_id: i64,
    uscc: &str,
    as_of: NaiveDate,
    eligible: &[String],
    offers: usize,
) -> NewNotification {
    NewNotification {
        enterprise_id,
        title_zh: format!("政策匹配结果({as_of}):符合{}项措施", eligible.len()),
        title_en: format!(
            "Policy match ({as_of}): eligible for {} measures",
            eligible.len()
        ),
        body_zh: format!(
            "根据平台数据，贵企业符合措施 {}。其中{}项可免申即享，请于{}前在“政策匹配”页面确认意愿后办理。",
            eligible.join("、"),
            offers,
            as_of + chrono::Duration::days(crate::OFFER_VALID_DAYS)
        ),
        body_en: format!(
            "From the platform's data your enterprise is eligible for {}. {} can be granted without applying: confirm your intent on the Policy match page by {}.",
            eligible.join(", "),
            offers,
            as_of + chrono::Duration::days(crate::OFFER_VALID_DAYS)
        ),
        link: format!("/policy/enterprises/{uscc}"),
    }
}
