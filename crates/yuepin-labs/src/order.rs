//! One lifecycle for outsourced experiments (实验外包) and testing on behalf (代检代测),
//! following SENAITE LIMS (sample → analysis → verification → publication, with retests and
//! invalidation):
//!
//! ```text
//! requested ─quote─▶ quoted ─accept─▶ accepted ─receive_sample─▶ sample_received ─start_testing─▶ testing
//!   decline/cancel ▶ declined/cancelled                                                    │ verify (verifier ≠ tester)
//!                                                                                          ▼
//!   retest ◀─request_retest── report_issued ◀──issue_report── results_verified ─return_for_rework─▶ testing
//!     └─start_testing─▶ testing …      ├─revoke_report─▶ report_revoked (final)
//!                                      └─replace_report─▶ report_replaced (final)
//! ```
//!
//! The four-eyes rule is enforced by the transition: a verifier equal to the tester is refused.

use crate::catalogue::ServiceId;
use crate::error::IllegalTransition;
use crate::report::ReportNumber;
use serde::{Deserialize, Serialize};
use std::fmt;
use yuepin_domain::{Uscc, Yuan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct OrderId(pub u64);

/// A lab staff member (tester, verifier, signatory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct PersonId(pub u64);

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OrderState {
    Requested,
    Quoted {
        amount: Yuan,
    },
    Accepted,
    SampleReceived,
    /// `round` counts test runs (1 = first, 2 = first retest, …); `previous` is the report a
    /// retest will supersede.
    Testing {
        tester: PersonId,
        round: u32,
        previous: Option<ReportNumber>,
    },
    ResultsVerified {
        tester: PersonId,
        verifier: PersonId,
        round: u32,
        previous: Option<ReportNumber>,
    },
    /// When `replaces` is set, the store marks that older report `Replaced { by: report }`.
    ReportIssued {
        report: ReportNumber,
        replaces: Option<ReportNumber>,
        round: u32,
    },
    Retest {
        previous: ReportNumber,
        round: u32,
    },
    ReportRevoked {
        report: ReportNumber,
        reason: String,
    },
    ReportReplaced {
        report: ReportNumber,
        by: ReportNumber,
    },
    Declined,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum OrderEvent {
    Quote { amount: Yuan },
    Accept,
    Decline,
    Cancel,
    ReceiveSample,
    StartTesting { tester: PersonId },
    Verify { verifier: PersonId },
    ReturnForRework,
    IssueReport { report: ReportNumber },
    RequestRetest,
    RevokeReport { reason: String },
    ReplaceReport { by: ReportNumber },
}

impl OrderState {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Quoted { .. } => "quoted",
            Self::Accepted => "accepted",
            Self::SampleReceived => "sample_received",
            Self::Testing { .. } => "testing",
            Self::ResultsVerified { .. } => "results_verified",
            Self::ReportIssued { .. } => "report_issued",
            Self::Retest { .. } => "retest",
            Self::ReportRevoked { .. } => "report_revoked",
            Self::ReportReplaced { .. } => "report_replaced",
            Self::Declined => "declined",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn name_zh(&self) -> &'static str {
        match self {
            Self::Requested => "已委托",
            Self::Quoted { .. } => "已报价",
            Self::Accepted => "已接受",
            Self::SampleReceived => "已收样",
            Self::Testing { .. } => "检测中",
            Self::ResultsVerified { .. } => "结果已审核",
            Self::ReportIssued { .. } => "报告已签发",
            Self::Retest { .. } => "待复检",
            Self::ReportRevoked { .. } => "报告已撤销",
            Self::ReportReplaced { .. } => "报告已替换",
            Self::Declined => "已拒绝报价",
            Self::Cancelled => "已取消",
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::ReportRevoked { .. }
                | Self::ReportReplaced { .. }
                | Self::Declined
                | Self::Cancelled
        )
    }
}

impl OrderEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Quote { .. } => "quote",
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Cancel => "cancel",
            Self::ReceiveSample => "receive_sample",
            Self::StartTesting { .. } => "start_testing",
            Self::Verify { .. } => "verify",
            Self::ReturnForRework => "return_for_rework",
            Self::IssueReport { .. } => "issue_report",
            Self::RequestRetest => "request_retest",
            Self::RevokeReport { .. } => "revoke_report",
            Self::ReplaceReport { .. } => "replace_report",
        }
    }
}

/// The one place order states change.
pub fn transition(state: OrderState, event: OrderEvent) -> Result<OrderState, IllegalTransition> {
    use OrderEvent as E;
    use OrderState as S;
    let illegal = |s: &OrderState, e: &OrderEvent, reason: &'static str| IllegalTransition {
        state: s.name(),
        event: e.name(),
        reason,
    };
    let next = match (state, event) {
        (S::Requested | S::Quoted { .. }, E::Quote { amount }) => {
            if amount < Yuan::ZERO {
                return Err(illegal(
                    &S::Requested,
                    &E::Quote { amount },
                    "报价不能为负 (a quote cannot be negative)",
                ));
            }
            S::Quoted { amount }
        }
        (S::Quoted { .. }, E::Accept) => S::Accepted,
        (S::Requested | S::Quoted { .. }, E::Decline) => S::Declined,
        (S::Requested | S::Quoted { .. } | S::Accepted | S::SampleReceived, E::Cancel) => {
            S::Cancelled
        }
        (S::Accepted, E::ReceiveSample) => S::SampleReceived,
        (S::SampleReceived, E::StartTesting { tester }) => S::Testing {
            tester,
            round: 1,
            previous: None,
        },
        (S::Retest { previous, round }, E::StartTesting { tester }) => S::Testing {
            tester,
            round,
            previous: Some(previous),
        },
        (
            S::Testing {
                tester,
                round,
                previous,
            },
            E::Verify { verifier },
        ) => {
            if verifier == tester {
                return Err(IllegalTransition {
                    state: "testing",
                    event: "verify",
                    reason: "审核人不得为检测人 (the verifier must be a different person from the tester)",
                });
            }
            S::ResultsVerified {
                tester,
                verifier,
                round,
                previous,
            }
        }
        (
            S::ResultsVerified {
                tester,
                round,
                previous,
                ..
            },
            E::ReturnForRework,
        ) => S::Testing {
            tester,
            round,
            previous,
        },
        (
            S::ResultsVerified {
                round, previous, ..
            },
            E::IssueReport { report },
        ) => {
            if previous.as_ref() == Some(&report) {
                return Err(IllegalTransition {
                    state: "results_verified",
                    event: "issue_report",
                    reason: "复检报告须使用新编号 (a retest report needs a new number)",
                });
            }
            S::ReportIssued {
                report,
                replaces: previous,
                round,
            }
        }
        (S::ReportIssued { report, round, .. }, E::RequestRetest) => S::Retest {
            previous: report,
            round: round.saturating_add(1),
        },
        (S::ReportIssued { report, .. }, E::RevokeReport { reason }) => {
            S::ReportRevoked { report, reason }
        }
        (S::ReportIssued { report, .. }, E::ReplaceReport { by }) => {
            if by == report {
                return Err(IllegalTransition {
                    state: "report_issued",
                    event: "replace_report",
                    reason: "替代报告须使用新编号 (the replacement needs a new number)",
                });
            }
            S::ReportReplaced { report, by }
        }
        (s, e) => {
            return Err(illegal(
                &s,
                &e,
                if s.is_terminal() {
                    "委托已结束 (the order is closed)"
                } else {
                    "当前状态不接受该操作 (not allowed in this state)"
                },
            ))
        }
    };
    Ok(next)
}

/// An order for outsourced experiments or testing on behalf, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: OrderId,
    pub service: ServiceId,
    pub enterprise: Uscc,
    pub samples: u32,
    pub state: OrderState,
}

impl Order {
    /// Applies an event; on error the order is unchanged.
    pub fn apply(&mut self, event: OrderEvent) -> Result<&OrderState, IllegalTransition> {
        self.state = transition(self.state.clone(), event)?;
        Ok(&self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn report(seq: u32) -> ReportNumber {
        ReportNumber::parse(&format!("YP-GDQTC-20261126-{seq:04}")).unwrap()
    }

    fn events() -> impl Strategy<Value = OrderEvent> {
        prop_oneof![
            (0i64..100_000).prop_map(|f| OrderEvent::Quote {
                amount: Yuan::from_fen(f)
            }),
            Just(OrderEvent::Accept),
            Just(OrderEvent::Decline),
            Just(OrderEvent::Cancel),
            Just(OrderEvent::ReceiveSample),
            (1u64..4).prop_map(|p| OrderEvent::StartTesting {
                tester: PersonId(p)
            }),
            (1u64..4).prop_map(|p| OrderEvent::Verify {
                verifier: PersonId(p)
            }),
            Just(OrderEvent::ReturnForRework),
            (1u32..6).prop_map(|s| OrderEvent::IssueReport { report: report(s) }),
            Just(OrderEvent::RequestRetest),
            Just(OrderEvent::RevokeReport {
                reason: "样品信息有误".into()
            }),
            (1u32..6).prop_map(|s| OrderEvent::ReplaceReport { by: report(s) }),
        ]
    }

    #[test]
    fn full_lifecycle_with_retest() {
        let mut s = OrderState::Requested;
        for e in [
            OrderEvent::Quote {
                amount: Yuan::from_yuan(800),
            },
            OrderEvent::Accept,
            OrderEvent::ReceiveSample,
            OrderEvent::StartTesting {
                tester: PersonId(1),
            },
        ] {
            s = transition(s, e).unwrap();
        }
        let err = transition(
            s.clone(),
            OrderEvent::Verify {
                verifier: PersonId(1),
            },
        )
        .unwrap_err();
        assert!(err.reason.contains("verifier"));
        s = transition(
            s,
            OrderEvent::Verify {
                verifier: PersonId(2),
            },
        )
        .unwrap();
        s = transition(s, OrderEvent::IssueReport { report: report(1) }).unwrap();
        s = transition(s, OrderEvent::RequestRetest).unwrap();
        s = transition(
            s,
            OrderEvent::StartTesting {
                tester: PersonId(3),
            },
        )
        .unwrap();
        s = transition(
            s,
            OrderEvent::Verify {
                verifier: PersonId(2),
            },
        )
        .unwrap();
        assert!(transition(s.clone(), OrderEvent::IssueReport { report: report(1) }).is_err());
        s = transition(s, OrderEvent::IssueReport { report: report(2) }).unwrap();
        assert_eq!(
            s,
            OrderState::ReportIssued {
                report: report(2),
                replaces: Some(report(1)),
                round: 2
            }
        );
        s = transition(
            s,
            OrderEvent::RevokeReport {
                reason: "伪造".into(),
            },
        )
        .unwrap();
        assert!(s.is_terminal());
        assert!(transition(s, OrderEvent::RequestRetest).is_err());
    }

    proptest! {
        #[test]
        fn invariants_hold_on_every_path(seq in prop::collection::vec(events(), 0..40)) {
            let mut s = OrderState::Requested;
            let mut last_round = 0u32;
            for e in seq {
                let before = s.clone();
                if let Ok(next) = transition(s.clone(), e.clone()) {
                    prop_assert!(!before.is_terminal(), "left terminal state {:?}", before);
                    match &next {
                        OrderState::ResultsVerified { tester, verifier, .. } => {
                            prop_assert_ne!(tester, verifier);
                        }
                        OrderState::ReportIssued { report, replaces, round } => {
                            let was_verified = matches!(before, OrderState::ResultsVerified { .. });
                            prop_assert!(was_verified);
                            prop_assert!(replaces.as_ref() != Some(report));
                            prop_assert!(*round >= last_round);
                        }
                        OrderState::ReportReplaced { report, by } => prop_assert_ne!(report, by),
                        _ => {}
                    }
                    if let OrderState::Testing { round, .. } = &next {
                        prop_assert!(*round >= last_round);
                        last_round = *round;
                    }
                    s = next;
                }
                if let OrderState::ReportRevoked { .. } = before {
                    prop_assert_eq!(&s, &before, "a revoked report must stay revoked");
                }
            }
        }
    }
}
