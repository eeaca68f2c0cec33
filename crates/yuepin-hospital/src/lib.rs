//! Product hospital (产品医院, 粤市监〔2023〕74号 measure 6): the pure rules behind expert help
//! for enterprises with quality problems. The business calendar with Chinese public holidays
//! and 调休 working days as dated data ([`calendar`]), business hours ([`hours`]), SLA clocks
//! in working minutes that pause while the case waits for the enterprise ([`sla`]), the case
//! state machine ([`case`]) and expert routing with reasons and round-robin ([`routing`]).
//! No I/O: the service crate loads calendar files and stored cases and calls these.

pub mod calendar;
pub mod case;
pub mod hours;
pub mod routing;
pub mod sla;

pub use calendar::{Calendar, CalendarError, DayKind};
pub use case::{step, CaseEvent, CaseState, IllegalStep};
pub use hours::BusinessHours;
pub use routing::{propose, Candidate, Need, Proposal, Reason};
pub use sla::{Pause, SlaClock, TargetState, TargetStatus};
