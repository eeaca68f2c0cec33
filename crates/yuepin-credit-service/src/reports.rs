//! Credit reports: a bank fetches one only under a live consent of its own and within its
//! limits (categories, data range, count, interval, expiry). The consent row is locked in
//! the writing transaction, the pure state machine decides, and the count, the fetch row, the
//! consent event, the Merkle log entry (with the report's SHA-256) and the audit entry are
//! written together — so N parallel fetches on a consent of K uses give exactly K reports.
//!
//! The report holds only the consented and asked-for categories, each limited to the asked
//! date range, and never tax data: it points to the official tax channel instead.

use crate::consents::china_rfc3339;
use crate::error::{CreditError, CreditResult};
use crate::records::{
    ConsentEventKind, CreditReport, FetchRequest, FetchedReport, LogKind, ReportLine, TaxNotice,
};
use crate::{store, CreditService};
use sha2::{Digest, Sha256};
use yuepin_credit::{ConsentId, DataCategory};
use yuepin_domain::{Caller, InspectionResult, QualityEventKind};
use yuepin_store::{Actor, Change};

/// The report format version.
pub const REPORT_VERSION: &str = "yuepin.credit.report/1";

fn is_lab_report(report_no: &str) -> bool {
    yuepin_labs::ReportNumber::parse(report_no).is_ok()
}

impl CreditService {
    /// Fetches a credit report under consent `id` (bank users of the consent's bank only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn fetch_report(
        &self,
        caller: &Caller,
        id: &ConsentId,
        req: &FetchRequest,
    ) -> CreditResult<FetchedReport> {
        let bank_id = self.staff_bank(caller).await?;
        let now = self.clock.now();
        // A first look without the lock: refuse early, before assembling the report.
        let rec = {
            let mut conn = self.store.pool().acquire().await?;
            match store::consent_on(&mut conn, id, now).await? {
                Some(rec) if rec.bank.org_id == bank_id => rec,
                _ => return Err(CreditError::missing("consent", id)),
            }
        };
        rec.consent()
            .check_fetch(now, &req.categories, &req.range)
            .map_err(CreditError::Refused)?;
        let mut report = self.assemble(caller, &rec, req, now).await?;

        let key = self.keys.key()?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let locked = match store::lock_consent(w.conn(), id, now).await? {
            Some(rec) if rec.bank.org_id == bank_id => rec,
            _ => return Err(CreditError::missing("consent", id)),
        };
        let mut consent = locked.consent();
        consent
            .record_fetch(now, &req.categories, &req.range)
            .map_err(CreditError::Refused)?;
        store::save_usage(w.conn(), &consent).await?;
        report.fetch_no = consent.fetches_used;
        let json = serde_json::to_string(&report).map_err(yuepin_store::corrupt)?;
        let signed = yuepin_credit::sign_json(json.as_bytes(), &key);
        let report_sha256 = hex::encode(Sha256::digest(json.as_bytes()));
        let categories: Vec<&str> = req.categories.iter().map(DataCategory::code).collect();
        let entry = serde_json::json!({
            "kind": LogKind::ReportFetched.code(),
            "consent": id.as_str(),
            "enterprise": locked.enterprise_uscc.as_str(),
            "bank": bank_id,
            "at": china_rfc3339(now),
            "fetch_no": consent.fetches_used,
            "categories": categories,
            "data_from": req.range.from().to_string(),
            "data_to": req.range.to().to_string(),
            "report_sha256": report_sha256,
        })
        .to_string();
        let index = store::append_log(
            w.conn(),
            LogKind::ReportFetched,
            &entry,
            Some(bank_id),
            Some(locked.enterprise_id),
            Some(id),
        )
        .await?;
        store::insert_fetch(
            w.conn(),
            id,
            bank_id,
            consent.fetches_used,
            now,
            &categories.join(","),
            (req.range.from(), req.range.to()),
            &report_sha256,
            index,
        )
        .await?;
        store::insert_event(
            w.conn(),
            id,
            ConsentEventKind::Fetch,
            &caller.actor,
            now,
            index,
        )
        .await?;
        w.record(
            Change::new("fetch", "credit_consent", id.as_str()).after(serde_json::json!({
                "fetch_no": consent.fetches_used, "state": consent.state.code(),
                "report_sha256": report_sha256, "log_index": index
            })),
        );
        self.store.commit(w).await?;
        Ok(FetchedReport {
            report,
            json,
            signed,
            report_sha256,
            log_index: index,
        })
    }

    /// The report's content from the quality file, limited to the asked categories and range.
    async fn assemble(
        &self,
        caller: &Caller,
        rec: &crate::records::ConsentRecord,
        req: &FetchRequest,
        now: chrono::NaiveDateTime,
    ) -> CreditResult<CreditReport> {
        let today = now.date();
        let wants = |c| req.categories.contains(c);
        let in_range = |d| req.range.contains(d);
        let enterprise = self.registry.enterprise_by_id(rec.enterprise_id).await?;
        let events = self.registry.events_of(rec.enterprise_id).await?;
        let line = |e: &yuepin_enterprises_service::EventRecord, summary: String| ReportLine {
            record: format!("event:{}", e.id),
            date: e.date,
            kind: e.kind.code().to_string(),
            summary,
        };
        let mut inspections = Vec::new();
        let mut certs = Vec::new();
        let mut labs = Vec::new();
        for e in events.iter().filter(|e| in_range(e.date)) {
            match &e.kind {
                QualityEventKind::Inspection {
                    agency,
                    report_no,
                    result,
                    ..
                } => {
                    let r = match result {
                        InspectionResult::Pass => "pass",
                        InspectionResult::Fail => "fail",
                    };
                    let l = line(e, format!("{agency} {report_no} {r}"));
                    if is_lab_report(report_no) {
                        labs.push(l);
                    } else {
                        inspections.push(l);
                    }
                }
                QualityEventKind::Certification(c) => {
                    certs.push(line(e, format!("{} {} {}", c.scheme, c.number, c.issuer)))
                }
                QualityEventKind::Award { name, level } => {
                    certs.push(line(e, format!("{name} ({level})")))
                }
                _ => {}
            }
        }
        for d in &enterprise.enterprise.designations {
            if in_range(d.awarded_on) {
                certs.push(ReportLine {
                    record: format!("designation:{}", d.kind.code()),
                    date: d.awarded_on,
                    kind: "designation".into(),
                    summary: d.kind.code().to_string(),
                });
            }
        }
        let (complaints_12m, warnings) = if wants(DataCategory::ComplaintsWarnings) {
            let n = self
                .complaints
                .complaint_count_12m_as_of(rec.enterprise_id, today)
                .await?;
            let w = self
                .complaints
                .complaint_warnings_for_enterprise(rec.enterprise_id)
                .await?
                .into_iter()
                .filter_map(|w| {
                    let date =
                        chrono::NaiveDate::parse_from_str(w.published_at.get(..10)?, "%Y-%m-%d")
                            .ok()?;
                    in_range(date).then(|| ReportLine {
                        record: format!("warning:{}", w.id),
                        date,
                        kind: "published_warning".into(),
                        summary: w.title,
                    })
                })
                .collect();
            (Some(n), Some(w))
        } else {
            (None, None)
        };
        let grade = if wants(DataCategory::Grade) {
            Some(
                self.refresh_grade(rec.enterprise_id, Actor::from(caller))
                    .await?
                    .grading,
            )
        } else {
            None
        };
        let unavailable = [DataCategory::CodesCounterfeit, DataCategory::Financing]
            .into_iter()
            .filter(|c| wants(*c))
            .collect();
        Ok(CreditReport {
            ver: REPORT_VERSION.to_string(),
            consent_id: rec.id.clone(),
            enterprise: rec.enterprise_uscc.clone(),
            enterprise_name: rec.enterprise_name.clone(),
            bank: rec.bank.clone(),
            fetched_at: china_rfc3339(now),
            fetch_no: 0,
            max_fetches: rec.terms.max_fetches,
            categories: req.categories.iter().collect(),
            data_from: req.range.from(),
            data_to: req.range.to(),
            grade,
            inspections: wants(DataCategory::Inspections).then_some(inspections),
            certifications_awards: wants(DataCategory::CertificationsAwards).then_some(certs),
            complaints_12m,
            warnings,
            lab_reports: wants(DataCategory::LabReports).then_some(labs),
            unavailable,
            tax: TaxNotice::OfficialTaxChannel,
        })
    }
}
