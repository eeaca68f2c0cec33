//! The case state machine. An enterprise opens a case; it is assigned to an expert (routing
//! proposes, the coordinator chooses or reassigns); the expert's first reply starts the
//! consultation, which goes back and forth with waiting for the enterprise (the SLA clock
//! pauses there); it may be escalated to a panel (集体会诊); it is resolved, then closed with
//! root cause, fix and verification; a resolved or closed case can be reopened.
//!
//! ```text
//! opened ──assign──▶ assigned ──respond──▶ in_consultation ⇄ waiting_for_enterprise
//!    ▲                  │ decline                │ resolve            │ resolve
//!    └──────────────────┘                        ▼                    ▼
//!                                  resolved ──close──▶ closed ──reopen──▶ in_consultation
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Opened,
    Assigned,
    InConsultation,
    WaitingForEnterprise,
    Resolved,
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 6] = [
        CaseState::Opened,
        CaseState::Assigned,
        CaseState::InConsultation,
        CaseState::WaitingForEnterprise,
        CaseState::Resolved,
        CaseState::Closed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Opened => "opened",
            CaseState::Assigned => "assigned",
            CaseState::InConsultation => "in_consultation",
            CaseState::WaitingForEnterprise => "waiting_for_enterprise",
            CaseState::Resolved => "resolved",
            CaseState::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|c| c.as_str() == s)
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            CaseState::Opened => "待分派",
            CaseState::Assigned => "已分派",
            CaseState::InConsultation => "诊断中",
            CaseState::WaitingForEnterprise => "待企业回复",
            CaseState::Resolved => "已解决",
            CaseState::Closed => "已结案",
        }
    }
    pub fn name_en(self) -> &'static str {
        match self {
            CaseState::Opened => "Opened",
            CaseState::Assigned => "Assigned",
            CaseState::InConsultation => "In consultation",
            CaseState::WaitingForEnterprise => "Waiting for enterprise",
            CaseState::Resolved => "Resolved",
            CaseState::Closed => "Closed",
        }
    }
    /// Does the case hold an expert (and count towards the expert's load)?
    pub fn is_active(self) -> bool {
        matches!(
            self,
            CaseState::Assigned | CaseState::InConsultation | CaseState::WaitingForEnterprise
        )
    }
    /// Does the SLA clock stand still?
    pub fn pauses_clock(self) -> bool {
        self == CaseState::WaitingForEnterprise
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseEvent {
    /// An expert is assigned (first assignment, or a reassignment keeping the phase).
    Assign,
    /// The assigned expert declines (with a reason) before replying: back to the queue.
    Decline,
    /// The expert's first public reply.
    Respond,
    /// The expert asks the enterprise for something: the clock pauses.
    AskEnterprise,
    /// The enterprise answers: the clock runs again.
    EnterpriseReplies,
    /// Escalation to a panel of experts (集体会诊).
    Escalate,
    Resolve,
    /// Closure with root cause, fix and verification.
    Close,
    Reopen,
}

impl CaseEvent {
    pub const ALL: [CaseEvent; 9] = [
        CaseEvent::Assign,
        CaseEvent::Decline,
        CaseEvent::Respond,
        CaseEvent::AskEnterprise,
        CaseEvent::EnterpriseReplies,
        CaseEvent::Escalate,
        CaseEvent::Resolve,
        CaseEvent::Close,
        CaseEvent::Reopen,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            CaseEvent::Assign => "assign",
            CaseEvent::Decline => "decline",
            CaseEvent::Respond => "respond",
            CaseEvent::AskEnterprise => "ask_enterprise",
            CaseEvent::EnterpriseReplies => "enterprise_replies",
            CaseEvent::Escalate => "escalate",
            CaseEvent::Resolve => "resolve",
            CaseEvent::Close => "close",
            CaseEvent::Reopen => "reopen",
        }
    }
    pub fn parse(s: &str) -> Option<CaseEvent> {
        CaseEvent::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A step the machine does not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("a case {from} cannot {event:?}")]
pub struct IllegalStep {
    pub from: CaseState,
    pub event: CaseEvent,
}

/// The state after `event`, or why not.
pub fn step(from: CaseState, event: CaseEvent) -> Result<CaseState, IllegalStep> {
    use CaseEvent as E;
    use CaseState as S;
    let to = match (from, event) {
        (S::Opened, E::Assign) => S::Assigned,
        (s @ (S::Assigned | S::InConsultation | S::WaitingForEnterprise), E::Assign) => s,
        (S::Assigned, E::Decline) => S::Opened,
        (S::Assigned | S::InConsultation, E::Respond) => S::InConsultation,
        (S::InConsultation, E::AskEnterprise) => S::WaitingForEnterprise,
        (S::WaitingForEnterprise, E::EnterpriseReplies) => S::InConsultation,
        (S::Assigned | S::InConsultation | S::WaitingForEnterprise, E::Escalate) => {
            S::InConsultation
        }
        (S::InConsultation | S::WaitingForEnterprise, E::Resolve) => S::Resolved,
        (S::Resolved, E::Close) => S::Closed,
        (S::Resolved | S::Closed, E::Reopen) => S::InConsultation,
        _ => return Err(IllegalStep { from, event }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, VecDeque};

    /// A case as the service keeps it, driven only through [`step`].
    #[derive(Debug, Default)]
    struct Model {
        expert: Option<u32>,
        panel: bool,
        paused: bool,
        closure: bool,
        first_response: bool,
    }

    fn apply(state: CaseState, m: &mut Model, e: CaseEvent, n: u32) -> CaseState {
        match step(state, e) {
            Err(_) => state,
            Ok(to) => {
                match e {
                    CaseEvent::Assign => m.expert = Some(n),
                    CaseEvent::Decline => m.expert = None,
                    CaseEvent::Respond => m.first_response = true,
                    CaseEvent::Escalate => m.panel = true,
                    CaseEvent::Close => m.closure = true,
                    CaseEvent::Reopen => m.closure = false,
                    _ => {}
                }
                m.paused = to.pauses_clock();
                to
            }
        }
    }

    fn event() -> impl Strategy<Value = CaseEvent> {
        (0..CaseEvent::ALL.len()).prop_map(|i| CaseEvent::ALL[i])
    }

    proptest! {
        /// Whatever happens: a case without an expert is only ever opened, an opened one has
        /// none; closed cases carry their closure; the clock pauses exactly while waiting;
        /// waiting and resolution come only after an expert replied or a panel sat.
        #[test]
        fn invariants_hold_along_any_history(events in proptest::collection::vec((event(), 0u32..5), 0..60)) {
            let mut s = CaseState::Opened;
            let mut m = Model::default();
            for (e, n) in events {
                s = apply(s, &mut m, e, n);
                prop_assert_eq!(s == CaseState::Opened, m.expert.is_none());
                prop_assert_eq!(s == CaseState::Closed, m.closure);
                prop_assert_eq!(s == CaseState::WaitingForEnterprise, m.paused);
                if matches!(s, CaseState::InConsultation | CaseState::WaitingForEnterprise | CaseState::Resolved | CaseState::Closed) {
                    prop_assert!(m.first_response || m.panel);
                }
                prop_assert_eq!(CaseState::parse(s.as_str()), Some(s));
            }
        }
    }

    /// From every state a case can still be closed, and every state is reachable from opened.
    #[test]
    fn every_state_reachable_and_closable() {
        let reach = |from: CaseState| {
            let mut seen = BTreeSet::from([from]);
            let mut q = VecDeque::from([from]);
            while let Some(s) = q.pop_front() {
                for e in CaseEvent::ALL {
                    if let Ok(t) = step(s, e) {
                        if seen.insert(t) {
                            q.push_back(t);
                        }
                    }
                }
            }
            seen
        };
        assert_eq!(reach(CaseState::Opened).len(), CaseState::ALL.len());
        for s in CaseState::ALL {
            assert!(reach(s).contains(&CaseState::Closed), "{s}");
        }
    }

    #[test]
    fn some_steps() {
        use CaseEvent as E;
        use CaseState as S;
        assert_eq!(step(S::Opened, E::Assign), Ok(S::Assigned));
        assert_eq!(step(S::Assigned, E::Decline), Ok(S::Opened));
        assert!(step(S::InConsultation, E::Decline).is_err());
        assert!(step(S::Opened, E::Resolve).is_err());
        assert!(step(S::Closed, E::Close).is_err());
        assert_eq!(step(S::Closed, E::Reopen), Ok(S::InConsultation));
        assert_eq!(
            step(S::WaitingForEnterprise, E::Assign),
            Ok(S::WaitingForEnterprise)
        );
    }
}
