//! Care of a case: assignment and reassignment by the coordinator (the regulator or the
//! hospital's coordinating expert), an expert's decline with a reason, the threaded
//! consultation (the expert's first public reply is the first response; asking the
//! enterprise pauses the SLA clock until it answers; internal notes stay on the hospital
//! side), escalation to a panel (集体会诊), resolution, closure with root cause, fix and
//! verification, reopening, and the enterprise's satisfaction survey.
//!
//! Each step runs through the pure state machine inside the write transaction, after the case
//! is re-read there, so two concurrent steps cannot both apply to the same state.

use crate::access::Viewer;
use crate::error::{HospitalError, HospitalResult, Invalid};
use crate::hospitals::text;
use crate::records::{CaseRecord, Closure, Side};
use crate::store::{self, MessageInsert};
use crate::HospitalService;
use chrono::NaiveDateTime;
use yuepin_domain::Caller;
use yuepin_hospital::{step, CaseEvent, CaseState, IllegalStep};
use yuepin_store::{Actor, Change, WriteTx};

/// A case step in progress: the transaction, the caller as the hospital sees them and the
/// case re-read inside the transaction.
struct Step {
    w: WriteTx,
    viewer: Viewer,
    case: CaseRecord,
    now: NaiveDateTime,
}

impl HospitalService {
    async fn begin_step(&self, caller: &Caller, id: i64) -> HospitalResult<Step> {
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let viewer = self.viewer_on(w.conn(), caller).await?;
        let case = self.visible_case_on(w.conn(), &viewer, id).await?;
        Ok(Step {
            w,
            viewer,
            case,
            now: self.clock.now(),
        })
    }

    /// Applies `event`, writes the state (and expert), the history row and the audit change,
    /// keeping the pause table in step: waiting and resolved stop the clock.
    async fn apply(
        &self,
        s: &mut Step,
        caller: &Caller,
        event: CaseEvent,
        expert_id: Option<i64>,
        reason: Option<&str>,
    ) -> HospitalResult<CaseState> {
        let from = s.case.state;
        let to = step(from, event)?;
        let stopped = |st: CaseState| st.pauses_clock() || st == CaseState::Resolved;
        let id = s.case.id;
        if stopped(from) && !stopped(to) {
            store::close_pause(s.w.conn(), id, s.now).await?;
        }
        if !stopped(from) && stopped(to) {
            store::open_pause(s.w.conn(), id, s.now).await?;
        }
        let expert = match event {
            CaseEvent::Assign => expert_id,
            CaseEvent::Decline => None,
            _ => s.case.expert_id,
        };
        store::set_state(s.w.conn(), id, to, expert, s.now).await?;
        store::insert_event(
            s.w.conn(),
            id,
            event.as_str(),
            &caller.actor,
            expert_id,
            reason,
            s.now,
        )
        .await?;
        s.w.record(
            Change::new(event.as_str(), "hospital_case", id)
                .before(serde_json::json!({"state": from.as_str(), "expert_id": s.case.expert_id}))
                .after(serde_json::json!({"state": to.as_str(), "expert_id": expert, "reason": reason})),
        );
        s.case.state = to;
        s.case.expert_id = expert;
        Ok(to)
    }

    async fn finish(&self, mut s: Step) -> HospitalResult<CaseRecord> {
        let id = s.case.id;
        let rec = store::case(s.w.conn(), id).await?;
        self.store.commit(s.w).await?;
        rec.ok_or_else(|| HospitalError::missing("case", id))
    }

    fn hidden(id: i64) -> HospitalError {
        HospitalError::missing("case", format!("#{id}"))
    }

    /// Assigns or reassigns a case to one of the hospital's experts (the coordinator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn assign(
        &self,
        caller: &Caller,
        id: i64,
        expert_id: i64,
    ) -> HospitalResult<CaseRecord> {
        let mut s = self.begin_step(caller, id).await?;
        if !s.viewer.coordinates(s.case.hospital_id) {
            return Err(Self::hidden(id));
        }
        let expert = store::expert(s.w.conn(), expert_id)
            .await?
            .filter(|x| {
                x.memberships
                    .iter()
                    .any(|m| m.hospital_id == s.case.hospital_id)
            })
            .ok_or_else(|| HospitalError::invalid("expert_id", Invalid::Unknown))?;
        if s.case.expert_id == Some(expert_id) {
            return Err(HospitalError::invalid("expert_id", Invalid::Taken));
        }
        if expert.load >= expert.max_load {
            return Err(HospitalError::invalid("expert_id", Invalid::OutOfRange));
        }
        self.apply(&mut s, caller, CaseEvent::Assign, Some(expert_id), None)
            .await?;
        store::stamp_assigned(s.w.conn(), expert_id, s.now).await?;
        self.finish(s).await
    }

    /// The assigned expert declines the case before replying, with a reason: it goes back to
    /// the coordinator's queue.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn decline(
        &self,
        caller: &Caller,
        id: i64,
        reason: &str,
    ) -> HospitalResult<CaseRecord> {
        let reason = text("reason", reason, 500)?;
        let mut s = self.begin_step(caller, id).await?;
        let me = s.viewer.expert_id();
        if me.is_none() || s.case.expert_id != me {
            return Err(Self::hidden(id));
        }
        self.apply(&mut s, caller, CaseEvent::Decline, me, Some(&reason))
            .await?;
        self.finish(s).await
    }

    /// Posts to a case's thread. The enterprise writes public messages only (an answer while
    /// the case waits for it restarts the clock). The treating expert's first public message
    /// is the first response; with `ask_enterprise` it also puts the case into waiting for the
    /// enterprise. Internal notes (hospital side only) change no state.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn post_message(
        &self,
        caller: &Caller,
        id: i64,
        body: &str,
        internal: bool,
        ask_enterprise: bool,
    ) -> HospitalResult<CaseRecord> {
        let body = text("body", body, 5000)?;
        let mut s = self.begin_step(caller, id).await?;
        if s.case.state == CaseState::Closed {
            return Err(IllegalStep {
                from: CaseState::Closed,
                event: CaseEvent::Respond,
            }
            .into());
        }
        let side = match &s.viewer {
            Viewer::Enterprise(_) => Side::Enterprise,
            v if v.treats(&s.case) => Side::Expert,
            _ => Side::Coordinator,
        };
        if side == Side::Enterprise && (internal || ask_enterprise) {
            return Err(HospitalError::invalid("internal", Invalid::OutOfRange));
        }
        if side == Side::Enterprise && s.case.state == CaseState::WaitingForEnterprise {
            self.apply(&mut s, caller, CaseEvent::EnterpriseReplies, None, None)
                .await?;
        }
        if side == Side::Expert && !internal {
            if s.case.state == CaseState::Assigned {
                self.apply(&mut s, caller, CaseEvent::Respond, None, None)
                    .await?;
            }
            if s.case.first_response_at.is_none() {
                store::set_instant(s.w.conn(), id, "first_response_at", Some(s.now)).await?;
            }
            if ask_enterprise {
                self.apply(&mut s, caller, CaseEvent::AskEnterprise, None, None)
                    .await?;
            }
        } else if ask_enterprise {
            return Err(HospitalError::invalid(
                "ask_enterprise",
                Invalid::OutOfRange,
            ));
        }
        let author = caller
            .actor
            .rsplit(':')
            .next()
            .unwrap_or(&caller.actor)
            .to_string();
        let mid = store::insert_message(
            s.w.conn(),
            &MessageInsert {
                case_id: id,
                author_user_id: caller.user_id(),
                author: &author,
                side,
                internal,
                body: &body,
                at: s.now,
            },
        )
        .await?;
        s.w.record(
            Change::new("create", "hospital_message", mid).after(serde_json::json!({
                "case_id": id, "side": side.as_str(), "internal": internal,
            })),
        );
        self.finish(s).await
    }

    /// Escalates to a panel (集体会诊): the given experts of the hospital join the case (the
    /// coordinator or the treating expert).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn escalate(
        &self,
        caller: &Caller,
        id: i64,
        panel: &[i64],
        reason: &str,
    ) -> HospitalResult<CaseRecord> {
        let reason = text("reason", reason, 500)?;
        let mut s = self.begin_step(caller, id).await?;
        if !(s.viewer.treats(&s.case) || s.viewer.coordinates(s.case.hospital_id)) {
            return Err(Self::hidden(id));
        }
        if panel.is_empty() || panel.len() > 10 {
            return Err(HospitalError::invalid("panel", Invalid::OutOfRange));
        }
        for x in panel {
            let ok = store::expert(s.w.conn(), *x).await?.is_some_and(|e| {
                e.memberships
                    .iter()
                    .any(|m| m.hospital_id == s.case.hospital_id)
            });
            if !ok || s.case.expert_id == Some(*x) {
                return Err(HospitalError::invalid("panel", Invalid::Unknown));
            }
        }
        self.apply(&mut s, caller, CaseEvent::Escalate, None, Some(&reason))
            .await?;
        for x in panel {
            store::add_panel(s.w.conn(), id, *x).await?;
        }
        store::set_panel_flag(s.w.conn(), id).await?;
        self.finish(s).await
    }

    /// Marks a case resolved (the treating expert or the coordinator); the resolution clock
    /// stops.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn resolve(&self, caller: &Caller, id: i64) -> HospitalResult<CaseRecord> {
        let mut s = self.begin_step(caller, id).await?;
        if !(s.viewer.treats(&s.case) || s.viewer.coordinates(s.case.hospital_id)) {
            return Err(Self::hidden(id));
        }
        self.apply(&mut s, caller, CaseEvent::Resolve, None, None)
            .await?;
        store::set_instant(s.w.conn(), id, "resolved_at", Some(s.now)).await?;
        self.finish(s).await
    }

    /// Closes a resolved case with root cause, fix and verification (the treating expert or
    /// the coordinator).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close(&self, caller: &Caller, id: i64, c: &Closure) -> HospitalResult<CaseRecord> {
        let closure = Closure {
            root_cause: text("root_cause", &c.root_cause, 2000)?,
            fix: text("fix", &c.fix, 2000)?,
            verification: text("verification", &c.verification, 2000)?,
        };
        let mut s = self.begin_step(caller, id).await?;
        if !(s.viewer.treats(&s.case) || s.viewer.coordinates(s.case.hospital_id)) {
            return Err(Self::hidden(id));
        }
        self.apply(&mut s, caller, CaseEvent::Close, None, None)
            .await?;
        store::set_instant(s.w.conn(), id, "closed_at", Some(s.now)).await?;
        store::set_closure(s.w.conn(), id, Some(&closure)).await?;
        self.finish(s).await
    }

    /// Reopens a resolved or closed case (its enterprise or the coordinator), with a reason;
    /// the resolution clock runs again from where it stopped.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reopen(
        &self,
        caller: &Caller,
        id: i64,
        reason: &str,
    ) -> HospitalResult<CaseRecord> {
        let reason = text("reason", reason, 500)?;
        let mut s = self.begin_step(caller, id).await?;
        let own = matches!(s.viewer, Viewer::Enterprise(_));
        if !(own || s.viewer.coordinates(s.case.hospital_id)) {
            return Err(Self::hidden(id));
        }
        self.apply(&mut s, caller, CaseEvent::Reopen, None, Some(&reason))
            .await?;
        store::set_instant(s.w.conn(), id, "resolved_at", None).await?;
        store::set_instant(s.w.conn(), id, "closed_at", None).await?;
        store::set_closure(s.w.conn(), id, None).await?;
        self.finish(s).await
    }

    /// The enterprise's satisfaction (1–5) with a closed case, once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn rate(
        &self,
        caller: &Caller,
        id: i64,
        score: i64,
        comment: &str,
    ) -> HospitalResult<CaseRecord> {
        if !(1..=5).contains(&score) {
            return Err(HospitalError::invalid("score", Invalid::OutOfRange));
        }
        let comment = comment.trim();
        if comment.chars().count() > 1000 || comment.chars().any(char::is_control) {
            return Err(HospitalError::invalid("comment", Invalid::Malformed));
        }
        let mut s = self.begin_step(caller, id).await?;
        if !matches!(s.viewer, Viewer::Enterprise(_)) {
            return Err(yuepin_domain::Denied::Role {
                needs: vec![yuepin_domain::Role::Enterprise],
            }
            .into());
        }
        if s.case.state != CaseState::Closed {
            return Err(HospitalError::invalid("score", Invalid::OutOfRange));
        }
        if s.case.satisfaction.is_some() {
            return Err(HospitalError::invalid("score", Invalid::Taken));
        }
        store::set_satisfaction(s.w.conn(), id, score, comment).await?;
        s.w.record(
            Change::new("rate", "hospital_case", id).after(serde_json::json!({"score": score})),
        );
        self.finish(s).await
    }
}
