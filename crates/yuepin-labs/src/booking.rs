//! The booking lifecycle as an explicit state machine (after LibreBooking's approval flow and
//! the check-in/no-show rules of China's instrument-sharing platforms):
//!
//! ```text
//! held ──accept_hold──▶ requested ──submit──▶ pending_approval ──approve──▶ confirmed
//!  │                       │ └──submit (no approval needed)──────────────────▲   │
//!  └─hold_expired/decline─▶ released           reject ▶ rejected              check_in / grace_expired
//!                                   cancel (before check-in) ▶ cancelled       ▼          ▼
//!                                                               checked_in ─check_out─▶ completed   no_show
//! ```

use crate::catalogue::InstrumentId;
use crate::error::IllegalTransition;
use crate::time::TimeRange;
use serde::{Deserialize, Serialize};
use std::fmt;
use yuepin_domain::{Uscc, Yuan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct BookingId(pub u64);

impl fmt::Display for BookingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// A waitlisted enterprise has been offered a freed slot for a limited time.
    Held,
    Requested,
    PendingApproval,
    Confirmed,
    CheckedIn,
    Completed,
    Cancelled,
    NoShow,
    Rejected,
    /// A hold that lapsed or was declined; the slot goes to the next in line.
    Released,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingEvent {
    AcceptHold,
    DeclineHold,
    HoldExpired,
    /// Rules passed; approval needed or not depends on the instrument's policy.
    Submit {
        requires_approval: bool,
    },
    Approve,
    Reject,
    Cancel,
    CheckIn,
    CheckOut,
    /// The no-show grace period (15 min by default) passed without a check-in.
    GraceExpired,
}

impl BookingState {
    pub const ALL: [BookingState; 10] = [
        Self::Held,
        Self::Requested,
        Self::PendingApproval,
        Self::Confirmed,
        Self::CheckedIn,
        Self::Completed,
        Self::Cancelled,
        Self::NoShow,
        Self::Rejected,
        Self::Released,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Requested => "requested",
            Self::PendingApproval => "pending_approval",
            Self::Confirmed => "confirmed",
            Self::CheckedIn => "checked_in",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::NoShow => "no_show",
            Self::Rejected => "rejected",
            Self::Released => "released",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Held => "候补保留中",
            Self::Requested => "已提交",
            Self::PendingApproval => "待审核",
            Self::Confirmed => "已确认",
            Self::CheckedIn => "已签到",
            Self::Completed => "已完成",
            Self::Cancelled => "已取消",
            Self::NoShow => "爽约",
            Self::Rejected => "已驳回",
            Self::Released => "已释放",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Cancelled | Self::NoShow | Self::Rejected | Self::Released
        )
    }

    /// Whether a booking in this state occupies the instrument (for conflict checks and the
    /// database exclusion constraint). Completed bookings keep their time: it was used.
    pub fn blocks_instrument(self) -> bool {
        matches!(
            self,
            Self::Held
                | Self::Requested
                | Self::PendingApproval
                | Self::Confirmed
                | Self::CheckedIn
                | Self::Completed
        )
    }
}

impl BookingEvent {
    pub fn name(self) -> &'static str {
        match self {
            Self::AcceptHold => "accept_hold",
            Self::DeclineHold => "decline_hold",
            Self::HoldExpired => "hold_expired",
            Self::Submit { .. } => "submit",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Cancel => "cancel",
            Self::CheckIn => "check_in",
            Self::CheckOut => "check_out",
            Self::GraceExpired => "grace_expired",
        }
    }
}

/// The one place booking states change.
pub fn transition(
    state: BookingState,
    event: BookingEvent,
) -> Result<BookingState, IllegalTransition> {
    use BookingEvent as E;
    use BookingState as S;
    let next = match (state, event) {
        (S::Held, E::AcceptHold) => S::Requested,
        (S::Held, E::DeclineHold | E::HoldExpired) => S::Released,
        (S::Requested, E::Submit { requires_approval }) => {
            if requires_approval {
                S::PendingApproval
            } else {
                S::Confirmed
            }
        }
        (S::PendingApproval, E::Approve) => S::Confirmed,
        (S::Requested | S::PendingApproval, E::Reject) => S::Rejected,
        (S::Requested | S::PendingApproval | S::Confirmed, E::Cancel) => S::Cancelled,
        (S::Confirmed, E::CheckIn) => S::CheckedIn,
        (S::Confirmed, E::GraceExpired) => S::NoShow,
        (S::CheckedIn, E::CheckOut) => S::Completed,
        (s, _) => {
            return Err(IllegalTransition {
                state: s.name(),
                event: event.name(),
                reason: if s.is_terminal() {
                    "预约已结束 (the booking is closed)"
                } else {
                    "当前状态不接受该操作 (not allowed in this state)"
                },
            })
        }
    };
    Ok(next)
}

/// A booking as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Booking {
    pub id: BookingId,
    pub instrument: InstrumentId,
    pub enterprise: Uscc,
    pub range: TimeRange,
    pub self_operated: bool,
    pub state: BookingState,
    /// The quoted price at booking time (prices are fixed on the booking, as in LibreBooking).
    pub price: Yuan,
}

impl Booking {
    pub fn apply(&mut self, event: BookingEvent) -> Result<BookingState, IllegalTransition> {
        self.state = transition(self.state, event)?;
        Ok(self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn events() -> impl Strategy<Value = BookingEvent> {
        prop_oneof![
            Just(BookingEvent::AcceptHold),
            Just(BookingEvent::DeclineHold),
            Just(BookingEvent::HoldExpired),
            any::<bool>().prop_map(|requires_approval| BookingEvent::Submit { requires_approval }),
            Just(BookingEvent::Approve),
            Just(BookingEvent::Reject),
            Just(BookingEvent::Cancel),
            Just(BookingEvent::CheckIn),
            Just(BookingEvent::CheckOut),
            Just(BookingEvent::GraceExpired),
        ]
    }

    #[test]
    fn happy_path_with_approval() {
        let mut s = BookingState::Requested;
        for e in [
            BookingEvent::Submit {
                requires_approval: true,
            },
            BookingEvent::Approve,
            BookingEvent::CheckIn,
            BookingEvent::CheckOut,
        ] {
            s = transition(s, e).unwrap();
        }
        assert_eq!(s, BookingState::Completed);
        let err = transition(s, BookingEvent::Cancel).unwrap_err();
        assert_eq!(err.state, "completed");
        assert!(transition(BookingState::CheckedIn, BookingEvent::Cancel).is_err());
    }

    proptest! {
        #[test]
        fn no_illegal_state_reachable(start in prop::sample::select(BookingState::ALL.to_vec()),
                                      seq in prop::collection::vec(events(), 0..30)) {
            let mut s = start;
            let mut checked_in = s == BookingState::CheckedIn;
            for e in seq {
                if let Ok(next) = transition(s, e) {
                    prop_assert!(!s.is_terminal(), "left terminal state {:?}", s);
                    if next == BookingState::Completed { prop_assert!(checked_in); }
                    if next == BookingState::NoShow { prop_assert_eq!(s, BookingState::Confirmed); }
                    if next == BookingState::Cancelled { prop_assert!(s != BookingState::CheckedIn); }
                    checked_in |= next == BookingState::CheckedIn;
                    s = next;
                }
            }
        }
    }
}
