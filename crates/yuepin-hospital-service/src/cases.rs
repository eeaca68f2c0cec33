//! Opening and reading cases: an enterprise opens a case with a hospital (product, problem
//! type, description, priority, optionally a failed inspection in its own quality file or a
//! complaint naming it); callers list and read the cases they may see, each with its SLA
//! targets evaluated now on the hospital's business hours and the holiday calendar; a
//! coordinator asks routing for proposals.

use crate::access::Viewer;
use crate::error::{HospitalError, HospitalResult, Invalid};
use crate::hospitals::text;
use crate::records::{
    CaseDetail, CaseFilter, CaseRecord, HospitalRecord, LinkKind, NewCase, ProposalView, SlaView,
    TargetKind,
};
use crate::store::{self, CaseInsert};
use crate::HospitalService;
use chrono::NaiveDateTime;
use std::collections::HashMap;
use yuepin_domain::{Caller, Division, InspectionResult, QualityEventKind};
use yuepin_hospital::{BusinessHours, Candidate, CaseState, Need, Pause, SlaClock};
use yuepin_store::{corrupt, Actor, Change};

impl HospitalService {
    /// The SLA targets of one case at `now`.
    pub(crate) fn sla_of(
        &self,
        case: &CaseRecord,
        hospital: &HospitalRecord,
        pauses: &[Pause],
        now: NaiveDateTime,
    ) -> HospitalResult<Vec<SlaView>> {
        let hours = BusinessHours::parse(&hospital.business_hours)
            .map_err(|e| HospitalError::Store(corrupt(e)))?;
        let clock = SlaClock::new(&self.calendar, &hours);
        let Some(t) = hospital
            .targets
            .iter()
            .find(|t| t.priority == case.priority)
        else {
            return Ok(Vec::new());
        };
        let view = |target, minutes, done| {
            let s = clock.evaluate(case.opened_at, minutes, done, pauses, now);
            SlaView {
                target,
                state: s.state,
                elapsed_minutes: s.elapsed_minutes,
                target_minutes: s.target_minutes,
                due_at: s.due_at,
                calendar_missing: s.calendar_missing,
            }
        };
        Ok(vec![
            view(
                TargetKind::FirstResponse,
                t.first_response_minutes,
                case.first_response_at,
            ),
            view(
                TargetKind::Resolution,
                t.resolution_minutes,
                case.resolved_at,
            ),
        ])
    }

    /// Checks the optional link: a failed inspection in the enterprise's own file, or a
    /// complaint naming the enterprise (read through their owning services).
    async fn check_link(
        &self,
        enterprise_id: i64,
        c: &NewCase,
    ) -> HospitalResult<Option<(LinkKind, i64)>> {
        let (kind, id) = match (c.link_kind, c.link_id) {
            (None, None) => return Ok(None),
            (Some(k), Some(id)) => (k, id),
            _ => return Err(HospitalError::invalid("link_id", Invalid::Missing)),
        };
        let own = match kind {
            LinkKind::Inspection => self
                .registry
                .events_of(enterprise_id)
                .await?
                .iter()
                .any(|e| {
                    e.id == id
                        && matches!(
                            e.kind,
                            QualityEventKind::Inspection {
                                result: InspectionResult::Fail,
                                ..
                            }
                        )
                }),
            LinkKind::Complaint => self
                .complaints
                .complaint(&Caller::system(), id)
                .await
                .map(|r| r.enterprise_id == Some(enterprise_id))
                .unwrap_or(false),
        };
        if own {
            Ok(Some((kind, id)))
        } else {
            Err(HospitalError::invalid("link_id", Invalid::NotOwn))
        }
    }

    /// Opens a case (enterprise users, for their own enterprise).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_case(&self, caller: &Caller, c: &NewCase) -> HospitalResult<CaseRecord> {
        let enterprise_id = {
            let mut conn = self.store.pool().acquire().await?;
            match self.viewer_on(&mut conn, caller).await? {
                Viewer::Enterprise(e) => e,
                _ => {
                    return Err(yuepin_domain::Denied::Role {
                        needs: vec![yuepin_domain::Role::Enterprise],
                    }
                    .into())
                }
            }
        };
        let title = text("title", &c.title, 100)?;
        let product = text("product", &c.product, 100)?;
        let problem_type = text("problem_type", &c.problem_type, 50)?;
        let description = text("description", &c.description, 5000)?;
        let division = match c
            .division
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            Some(d) => Division::parse(d)
                .map_err(|_| HospitalError::invalid("division", Invalid::Unknown))?,
            None => {
                self.registry
                    .enterprise_by_id(enterprise_id)
                    .await?
                    .enterprise
                    .division
            }
        };
        let link = self.check_link(enterprise_id, c).await?;
        let now = self.clock.now();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        if store::hospital(w.conn(), c.hospital_id).await?.is_none() {
            return Err(HospitalError::invalid("hospital_id", Invalid::Unknown));
        }
        let id = store::insert_case(
            w.conn(),
            &CaseInsert {
                enterprise_id,
                hospital_id: c.hospital_id,
                title: &title,
                product: &product,
                problem_type: &problem_type,
                description: &description,
                division,
                priority: c.priority,
                on_site: c.on_site,
                link,
                at: now,
            },
        )
        .await?;
        store::insert_event(w.conn(), id, "open", &caller.actor, None, None, now).await?;
        w.record(
            Change::new("create", "hospital_case", id).after(serde_json::json!({
                "enterprise_id": enterprise_id, "hospital_id": c.hospital_id, "title": title,
                "priority": c.priority.as_str(),
            })),
        );
        let rec = store::case(w.conn(), id).await?;
        self.store.commit(w).await?;
        let mut rec = rec.ok_or_else(|| HospitalError::missing("case", id))?;
        let mut conn = self.store.pool().acquire().await?;
        if let Some(h) = store::hospital(&mut conn, rec.hospital_id).await? {
            rec.sla = self.sla_of(&rec, &h, &[], now)?;
        }
        Ok(rec)
    }

    /// The cases the caller may see, newest first (at most 500), with their SLA states.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn cases(&self, caller: &Caller, f: &CaseFilter) -> HospitalResult<Vec<CaseRecord>> {
        let state = match f.state.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                CaseState::parse(s)
                    .ok_or_else(|| HospitalError::invalid("state", Invalid::Unknown))?,
            ),
            None => None,
        };
        let mut conn = self.store.pool().acquire().await?;
        let viewer = self.viewer_on(&mut conn, caller).await?;
        let mut out = store::cases(&mut conn, &viewer.scope(), state, f.hospital_id, 500).await?;
        let hospitals: HashMap<i64, HospitalRecord> = store::hospitals(&mut conn)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        let pauses = store::all_pauses(&mut conn).await?;
        let now = self.clock.now();
        for c in &mut out {
            if let Some(h) = hospitals.get(&c.hospital_id) {
                let p = pauses.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
                c.sla = self.sla_of(c, h, p, now)?;
            }
        }
        Ok(out)
    }

    /// One case with its thread (internal notes only for the hospital side) and history.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn case(&self, caller: &Caller, id: i64) -> HospitalResult<CaseDetail> {
        let mut conn = self.store.pool().acquire().await?;
        let viewer = self.viewer_on(&mut conn, caller).await?;
        let mut case = self.visible_case_on(&mut conn, &viewer, id).await?;
        let hospital = store::hospital(&mut conn, case.hospital_id)
            .await?
            .ok_or_else(|| HospitalError::missing("hospital", case.hospital_id))?;
        let pauses = store::pauses_of(&mut conn, id).await?;
        case.sla = self.sla_of(&case, &hospital, &pauses, self.clock.now())?;
        let messages = store::messages(&mut conn, id, viewer.sees_internal()).await?;
        let events = if viewer.sees_internal() {
            store::events(&mut conn, id).await?
        } else {
            // The enterprise sees what happened, not the declines and their reasons.
            store::events(&mut conn, id)
                .await?
                .into_iter()
                .filter(|e| e.event != "decline")
                .map(|mut e| {
                    e.reason = None;
                    e
                })
                .collect()
        };
        Ok(CaseDetail {
            may_assign: viewer.coordinates(case.hospital_id),
            may_act_as_expert: viewer.treats(&case),
            may_act_as_enterprise: matches!(viewer, Viewer::Enterprise(_)),
            case,
            messages,
            events,
        })
    }

    /// Routing proposals for a case: the hospital's experts by speciality, city and load,
    /// with reasons; round-robin among equals (the regulator or the hospital's coordinator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn proposals(&self, caller: &Caller, id: i64) -> HospitalResult<Vec<ProposalView>> {
        let mut conn = self.store.pool().acquire().await?;
        let viewer = self.viewer_on(&mut conn, caller).await?;
        let case = self.visible_case_on(&mut conn, &viewer, id).await?;
        if !viewer.coordinates(case.hospital_id) {
            return Err(HospitalError::missing("case", format!("#{id}")));
        }
        let city = self
            .registry
            .enterprise_by_id(case.enterprise_id)
            .await?
            .enterprise
            .region;
        let experts = store::experts(&mut conn).await?;
        let last = store::last_assigned(&mut conn).await?;
        let candidates: Vec<Candidate> = experts
            .iter()
            .filter(|x| {
                x.memberships
                    .iter()
                    .any(|m| m.hospital_id == case.hospital_id)
            })
            .filter(|x| case.expert_id != Some(x.id))
            .map(|x| Candidate {
                expert_id: x.id,
                divisions: x.divisions.clone(),
                city: x.city.clone(),
                qualifications: x.qualifications.len(),
                load: u32::try_from(x.load).unwrap_or(u32::MAX),
                max_load: u32::try_from(x.max_load).unwrap_or(u32::MAX),
                last_assigned_at: last.get(&x.id).copied(),
            })
            .collect();
        let need = Need {
            division: case.division,
            city,
            on_site: case.on_site,
        };
        let names: HashMap<i64, String> = experts.into_iter().map(|x| (x.id, x.name)).collect();
        Ok(yuepin_hospital::propose(&need, &candidates)
            .into_iter()
            .map(|p| ProposalView {
                expert_name: names.get(&p.expert_id).cloned().unwrap_or_default(),
                expert_id: p.expert_id,
                score: p.score,
                reasons: p.reasons,
            })
            .collect())
    }
}
