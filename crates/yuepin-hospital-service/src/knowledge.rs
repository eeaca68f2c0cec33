//! The knowledge base: the treating expert writes up a closed case anonymised (no enterprise
//! name or credit code in any field), the hospital's coordinator approves it, and approved
//! entries are public and searchable by any Chinese substring of title, problem, cause or fix,
//! filterable by GB/T 4754 division.

use crate::access::Viewer;
use crate::error::{HospitalError, HospitalResult, Invalid};
use crate::hospitals::text;
use crate::records::{KnowledgeRecord, NewKnowledge};
use crate::store;
use crate::HospitalService;
use yuepin_domain::{Caller, Division};
use yuepin_hospital::CaseState;
use yuepin_store::{Actor, Change};

impl HospitalService {
    /// Proposes a closed case for the knowledge base (the treating expert or the coordinator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn propose_knowledge(
        &self,
        caller: &Caller,
        id: i64,
        k: &NewKnowledge,
    ) -> HospitalResult<KnowledgeRecord> {
        let title = text("title", &k.title, 100)?;
        let problem = text("problem", &k.problem, 2000)?;
        let cause = text("cause", &k.cause, 2000)?;
        let fix = text("fix", &k.fix, 2000)?;
        let mut conn = self.store.pool().acquire().await?;
        let viewer = self.viewer_on(&mut conn, caller).await?;
        let case = self.visible_case_on(&mut conn, &viewer, id).await?;
        drop(conn);
        if !(viewer.treats(&case) || viewer.coordinates(case.hospital_id)) {
            return Err(HospitalError::missing("case", format!("#{id}")));
        }
        if case.state != CaseState::Closed {
            return Err(HospitalError::invalid("case", Invalid::OutOfRange));
        }
        let ent = self
            .registry
            .enterprise_by_id(case.enterprise_id)
            .await?
            .enterprise;
        let short = ent
            .name
            .trim_end_matches("有限公司")
            .trim_end_matches("股份");
        for (field, v) in [
            ("title", &title),
            ("problem", &problem),
            ("cause", &cause),
            ("fix", &fix),
        ] {
            if v.contains(&ent.name)
                || (short.chars().count() >= 2 && v.contains(short))
                || v.contains(ent.uscc.as_str())
            {
                return Err(HospitalError::invalid(field, Invalid::Identifying));
            }
        }
        let rec = KnowledgeRecord {
            case_id: id,
            title,
            problem,
            cause,
            fix,
            division: case.division,
            approved: false,
            approved_at: None,
        };
        let now = self.clock.now();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        store::upsert_knowledge(w.conn(), &rec, now).await?;
        w.record(
            Change::new("propose", "hospital_knowledge", id)
                .after(serde_json::json!({"title": rec.title})),
        );
        self.store.commit(w).await?;
        Ok(rec)
    }

    /// Approves a proposed entry: it becomes public (the hospital's coordinator or regulator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn approve_knowledge(
        &self,
        caller: &Caller,
        id: i64,
    ) -> HospitalResult<KnowledgeRecord> {
        let now = self.clock.now();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let viewer = self.viewer_on(w.conn(), caller).await?;
        let case = self.visible_case_on(w.conn(), &viewer, id).await?;
        if !viewer.coordinates(case.hospital_id) {
            return Err(HospitalError::missing("case", format!("#{id}")));
        }
        if !store::approve_knowledge(w.conn(), id, now).await? {
            return Err(HospitalError::missing("knowledge", format!("#{id}")));
        }
        w.record(Change::new("approve", "hospital_knowledge", id));
        let rec = store::knowledge(w.conn(), id).await?;
        self.store.commit(w).await?;
        rec.ok_or_else(|| HospitalError::missing("knowledge", format!("#{id}")))
    }

    /// Entries waiting for approval in the hospitals the caller coordinates.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn pending_knowledge(&self, caller: &Caller) -> HospitalResult<Vec<KnowledgeRecord>> {
        let mut conn = self.store.pool().acquire().await?;
        let viewer = self.viewer_on(&mut conn, caller).await?;
        if matches!(viewer, Viewer::Enterprise(_)) {
            return Ok(Vec::new());
        }
        let pending = store::search_knowledge(&mut conn, None, None, "proposed", 500).await?;
        let mut out = Vec::new();
        for k in pending {
            if let Some(c) = store::case(&mut conn, k.case_id).await? {
                if viewer.coordinates(c.hospital_id) {
                    out.push(k);
                }
            }
        }
        Ok(out)
    }

    /// Searches the public knowledge base (anyone, signed in or not): approved entries whose
    /// title, problem, cause or fix contains `q`, in `division` if given, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn search_knowledge(
        &self,
        _caller: &Caller,
        q: Option<&str>,
        division: Option<Division>,
        limit: i64,
    ) -> HospitalResult<Vec<KnowledgeRecord>> {
        let q = q.map(str::trim).filter(|q| !q.is_empty());
        if q.is_some_and(|q| q.chars().count() > 50 || q.chars().any(char::is_control)) {
            return Err(HospitalError::invalid("q", Invalid::Malformed));
        }
        let mut conn = self.store.pool().acquire().await?;
        Ok(
            store::search_knowledge(&mut conn, q, division, "approved", limit.clamp(1, 200))
                .await?,
        )
    }
}
