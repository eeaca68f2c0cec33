//! The quality credit grade: facts gathered from the quality file through its owning services
//! (events and designations from `EnterprisesService`, complaints and published warnings from
//! `ComplaintsService`), graded by the compiled-in model, stored with history whenever the
//! facts, the model version or the grade change (each change also goes into the Merkle log).
//!
//! Sources not yet open to other capabilities are not guessed: recalls have no record type
//! yet, and the codes service offers no per-enterprise revocation or counterfeit-signal read,
//! so those factors stay empty (the report lists `codes_counterfeit` as unavailable).
//! Complaints come as the one 12-month count (`complaint_count_12m_as_of`), each counted
//! complaint dated at the window's middle.

use crate::error::CreditResult;
use crate::records::{GradeRecord, LogKind};
use crate::{store, CreditService};
use chrono::{Duration, NaiveDate};
use sha2::{Digest, Sha256};
use yuepin_credit::rating::{grade, Fact, Factor, Model};
use yuepin_domain::{Caller, InspectionResult, QualityEventKind, StandardRole};
use yuepin_store::{Actor, Change};

impl CreditService {
    /// The facts the model weighs, from the quality file as of `today`, with the record ids.
    pub(crate) async fn facts_of(
        &self,
        enterprise_id: i64,
        today: NaiveDate,
    ) -> CreditResult<Vec<Fact>> {
        let enterprise = self.registry.enterprise_by_id(enterprise_id).await?;
        let events = self.registry.events_of(enterprise_id).await?;
        let mut facts = Vec::new();
        for e in events.iter().filter(|e| e.date <= today) {
            let record = format!("event:{}", e.id);
            let factor = match &e.kind {
                QualityEventKind::Inspection {
                    report_no, result, ..
                } => {
                    let lab_report = yuepin_labs::ReportNumber::parse(report_no).is_ok();
                    match (result, lab_report) {
                        (InspectionResult::Pass, true) => Factor::LabReport,
                        (InspectionResult::Pass, false) => Factor::InspectionPassed,
                        (InspectionResult::Fail, _) => Factor::InspectionFailed,
                    }
                }
                QualityEventKind::Certification(c) => {
                    if !(c.valid_from <= today && today <= c.valid_until) {
                        continue;
                    }
                    Factor::Certification
                }
                QualityEventKind::Award { .. } => Factor::Award,
                QualityEventKind::Standard { role, .. } => {
                    if *role != StandardRole::Lead {
                        continue;
                    }
                    Factor::StandardLed
                }
                QualityEventKind::Penalty { serious, .. } => {
                    if *serious {
                        Factor::SeriousPenalty
                    } else {
                        Factor::Penalty
                    }
                }
            };
            facts.push(Fact {
                factor,
                record,
                date: e.date,
            });
        }
        for d in &enterprise.enterprise.designations {
            if d.active_on(today) {
                facts.push(Fact {
                    factor: Factor::Designation,
                    record: format!("designation:{}", d.kind.code()),
                    date: d.awarded_on,
                });
            }
        }
        let complaints = self
            .complaints
            .complaint_count_12m_as_of(enterprise_id, today)
            .await?;
        let mid = today - Duration::days(182);
        for i in 0..complaints {
            facts.push(Fact {
                factor: Factor::Complaint,
                record: format!("complaints_12m:{}", i + 1),
                date: mid,
            });
        }
        for w in self
            .complaints
            .complaint_warnings_for_enterprise(enterprise_id)
            .await?
        {
            let date = w
                .published_at
                .get(..10)
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .unwrap_or(today);
            facts.push(Fact {
                factor: Factor::PublishedWarning,
                record: format!("warning:{}", w.id),
                date,
            });
        }
        Ok(facts)
    }

    /// Grades the enterprise now and stores the grade when the facts, the model or the grade
    /// changed since the last stored one; returns the current stored grade.
    pub(crate) async fn refresh_grade(
        &self,
        enterprise_id: i64,
        actor: Actor,
    ) -> CreditResult<GradeRecord> {
        let today = self.clock.now().date();
        let model = Model::current();
        let facts = self.facts_of(enterprise_id, today).await?;
        let g = grade(&model, &facts, today);
        let facts_sha256 = hex::encode(Sha256::digest(
            serde_json::to_vec(&facts).unwrap_or_default(),
        ));
        let uscc = self
            .registry
            .enterprise_by_id(enterprise_id)
            .await?
            .enterprise
            .uscc;
        let mut w = self.store.begin_write(actor).await?;
        store::lock_log(w.conn()).await?;
        if let Some(last) = store::latest_grade_on(w.conn(), enterprise_id).await? {
            if last.facts_sha256 == facts_sha256
                && last.grading.model_version == g.model_version
                && last.grading.grade == g.grade
            {
                // Nothing to record; the transaction is dropped unwritten.
                return Ok(last);
            }
        }
        let entry = serde_json::json!({
            "kind": LogKind::GradeChanged.code(),
            "enterprise": uscc.as_str(),
            "as_of": today.to_string(),
            "model_version": g.model_version,
            "grade": g.grade.letter(),
            "score": g.score,
            "facts_sha256": facts_sha256,
        })
        .to_string();
        let index = store::append_log(
            w.conn(),
            LogKind::GradeChanged,
            &entry,
            None,
            Some(enterprise_id),
            None,
        )
        .await?;
        let id = store::insert_grade(w.conn(), enterprise_id, &g, &facts_sha256, index).await?;
        w.record(
            Change::new("grade", "credit_grade", id).after(serde_json::json!({
                "enterprise_id": enterprise_id, "grade": g.grade.letter(), "score": g.score,
                "model_version": g.model_version, "log_index": index
            })),
        );
        self.store.commit(w).await?;
        let mut conn = self.store.pool().acquire().await?;
        store::latest_grade_on(&mut conn, enterprise_id)
            .await?
            .ok_or_else(|| crate::CreditError::missing("grade", enterprise_id))
    }

    /// The enterprise's current grade, recomputed from its quality file (its own enterprise
    /// for an enterprise user; any for administrators; banks get grades only in reports).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn grade(&self, caller: &Caller, uscc: &str) -> CreditResult<GradeRecord> {
        let rec = self.registry.enterprise(caller, uscc).await?;
        self.refresh_grade(rec.id, Actor::from(caller)).await
    }

    /// The stored grades of an enterprise, newest first (same access as [`Self::grade`]).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn grade_history(
        &self,
        caller: &Caller,
        uscc: &str,
    ) -> CreditResult<Vec<GradeRecord>> {
        let rec = self.registry.enterprise(caller, uscc).await?;
        let mut conn = self.store.pool().acquire().await?;
        Ok(store::grades_on(&mut conn, rec.id).await?)
    }
}
