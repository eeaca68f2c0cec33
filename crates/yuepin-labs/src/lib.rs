//! Shared testing resources for Guangdong's manufacturers (粤市监〔2023〕74号 measures 3 and 4):
//! the lab/instrument/service catalogue, booking rules for time-share rental (分时租赁), the
//! booking and outsourced-testing order lifecycles, availability search across instruments,
//! invoices, savings and sharing-rate statistics, iCalendar feeds and report verification.
//!
//! Pure domain logic: no files, network, database or clock. Every function that needs "now"
//! takes it as an argument. All times are China Standard Time (UTC+8, no daylight saving) as
//! `chrono::NaiveDateTime` at whole-minute precision.

pub mod availability;
pub mod booking;
pub mod catalogue;
pub mod costs;
pub mod error;
pub mod ics;
pub mod order;
pub mod pricing;
pub mod report;
pub mod rules;
pub mod time;
pub mod waitlist;

pub use availability::{AvailabilityIndex, BookingConflict, CombinedSlot, FreeSlot, SlotQuery};
pub use booking::{Booking, BookingEvent, BookingId, BookingState};
pub use catalogue::{
    Accessory, CmaNumber, CnasNumber, Contact, HeldQualification, Instrument, InstrumentId, Lab,
    LabId, Qualification, Service, ServiceArea, ServiceId, ServiceMode, TestItem, TestMethod,
};
pub use costs::{
    booking_invoice, fee_invoice, order_invoice, ownership_savings, utilisation, Invoice,
    InvoiceLine, OwnershipAssumptions, Savings, UsageRecord, Utilisation,
};
pub use error::{BookingRejection, IllegalTransition, LabError};
pub use ics::{enterprise_feed, instrument_feed, render_calendar, CalendarEvent};
pub use order::{Order, OrderEvent, OrderId, OrderState, PersonId};
pub use pricing::{quote, Quote, Tariff};
pub use report::{LabCode, ReportNumber, ReportStatus, ReportStatusEvent};
pub use rules::{
    blacklisted_until, cancellation_fee, check_booking, check_combined, check_recurring,
    check_self_operation, expand_weekly, no_show_due, Blackout, BookingContext, BookingPolicy,
    BookingRequest, CombinedRejection,
};
pub use time::{DailyWindow, TimeRange, WeeklySchedule};
pub use waitlist::{Hold, WaitEntry, Waitlist, WaitlistError};
