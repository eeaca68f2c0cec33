//! The typed records of the labs capability as the use cases return them, and the inputs they
//! take. Stored text (states, kinds, codes, credit codes, instants) is parsed when a row is
//! read; the JSON field names and values are those the API has always sent.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use yuepin_domain::{Uscc, Yuan};
use yuepin_labs::{
    BookingState, FreeSlot, HeldQualification, Instrument, Invoice, Lab, LabCode, OrderState,
    OwnershipAssumptions, Quote, ReportStatus, Savings, Service, ServiceArea, TimeRange,
    Utilisation,
};

/// `'YYYY-MM-DD HH:MM:SS'`, the stored (and sent) text form of a China-time instant.
pub fn dt_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Parses [`dt_text`] back.
pub fn parse_dt_text(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()
}

/// Serialises instants in the [`dt_text`] form the API has always used for holds and waitlist
/// entries (not chrono's `T` form, which start and end times use).
mod dt_text_serde {
    use chrono::NaiveDateTime;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::dt_text(*t))
    }

    pub mod opt {
        use chrono::NaiveDateTime;
        use serde::Serializer;

        pub fn serialize<S: Serializer>(
            t: &Option<NaiveDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_some(&super::super::dt_text(*t)),
                None => s.serialize_none(),
            }
        }
    }
}

// ---------------------------------------------------------------- catalogue

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabRecord {
    pub id: i64,
    pub code: LabCode,
    #[serde(flatten)]
    pub lab: Lab,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstrumentRecord {
    pub id: i64,
    pub lab_id: i64,
    pub requires_approval: bool,
    pub active: bool,
    #[serde(flatten)]
    pub instrument: Instrument,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceRecord {
    pub id: i64,
    pub lab_id: i64,
    #[serde(flatten)]
    pub service: Service,
}

/// A lab with what it offers (the lab page of the API).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabDetail {
    pub lab: LabRecord,
    pub instruments: Vec<InstrumentRecord>,
    pub services: Vec<ServiceRecord>,
}

/// An instrument's page: the record, its lab, the busy time of the next 14 days, its
/// blackouts and the lab's services that test what it tests.
#[derive(Debug, Clone)]
pub struct InstrumentDetail {
    pub instrument: InstrumentRecord,
    pub lab: LabRecord,
    pub busy: Vec<TimeRange>,
    pub blackouts: Vec<yuepin_labs::Blackout>,
    pub services: Vec<ServiceRecord>,
    /// "Now" as the page was built (minute precision), for the form's default start.
    pub now: NaiveDateTime,
}

/// The one-stop view: every service area with its services, labs in a city or everywhere.
#[derive(Debug, Clone)]
pub struct OneStop {
    pub areas: Vec<(ServiceArea, Vec<Service>)>,
}

/// The public catalogue page: labs, services and the test items instruments perform.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub labs: Vec<LabRecord>,
    pub services: Vec<ServiceRecord>,
    pub items: Vec<String>,
}

/// A qualification granted to an enterprise's operators.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantedQualification {
    pub enterprise: Uscc,
    pub qualification: HeldQualification,
}

/// A lab account bound to a lab.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffBinding {
    pub user_id: i64,
    pub lab_id: i64,
}

// ---------------------------------------------------------------- bookings

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingRecord {
    pub id: i64,
    pub instrument_id: i64,
    pub instrument_name: String,
    pub lab_id: i64,
    pub lab_name: String,
    /// `None` for the lab's own (internal) use.
    pub enterprise_id: Option<i64>,
    /// The booking enterprise's registered name (`None` for internal use).
    pub enterprise_name: Option<String>,
    pub enterprise_uscc: Option<Uscc>,
    pub group_key: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub state: BookingState,
    pub self_operated: bool,
    pub accessories: Vec<String>,
    pub price: Yuan,
    pub fee: Yuan,
    #[serde(serialize_with = "dt_text_serde::opt::serialize")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub hold_until: Option<NaiveDateTime>,
    pub created_at: String,
}

impl BookingRecord {
    pub fn range(&self) -> Option<TimeRange> {
        TimeRange::new(self.starts_at, self.ends_at).ok()
    }
}

/// One part of a (possibly combined) booking request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingPart {
    pub instrument_id: i64,
    pub range: TimeRange,
    pub self_operated: bool,
    #[serde(default)]
    pub accessories: Vec<String>,
}

/// Who books: an enterprise, or the owning lab itself (internal use, no quota).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Booker {
    Enterprise { id: i64 },
    Lab { lab_id: i64 },
}

/// Actions on a booking after it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingAction {
    Cancel,
    Approve,
    Reject,
    CheckIn,
    CheckOut,
    AcceptHold,
    DeclineHold,
}

impl BookingAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::CheckIn => "check_in",
            Self::CheckOut => "check_out",
            Self::AcceptHold => "accept_hold",
            Self::DeclineHold => "decline_hold",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Cancel,
            Self::Approve,
            Self::Reject,
            Self::CheckIn,
            Self::CheckOut,
            Self::AcceptHold,
            Self::DeclineHold,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// What the periodic sweep did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SweepSummary {
    pub no_shows: usize,
    pub holds_expired: usize,
    pub offers: usize,
}

// ---------------------------------------------------------------- waitlist

/// Where a waitlist entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WaitState {
    /// In line.
    Waiting,
    /// A freed slot is held for it (see `booking_id`).
    Offered,
    /// The hold was accepted.
    Booked,
    /// The hold was declined.
    Declined,
    /// The hold lapsed, or the wanted time began before anything was freed.
    Expired,
}

impl WaitState {
    pub const ALL: [WaitState; 5] = [
        Self::Waiting,
        Self::Offered,
        Self::Booked,
        Self::Declined,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Offered => "offered",
            Self::Booked => "booked",
            Self::Declined => "declined",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitRecord {
    pub id: i64,
    pub instrument_id: i64,
    pub enterprise_id: i64,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub state: WaitState,
    pub booking_id: Option<i64>,
    #[serde(serialize_with = "dt_text_serde::serialize")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub joined_at: NaiveDateTime,
}

// ---------------------------------------------------------------- orders and reports

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestResults {
    pub passed: bool,
    #[serde(default)]
    pub failed_items: Vec<String>,
    #[serde(default)]
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderRecord {
    pub id: i64,
    pub service_id: i64,
    pub lab_id: i64,
    pub enterprise_id: i64,
    pub enterprise_uscc: Uscc,
    pub enterprise_name: String,
    pub item: String,
    pub samples: i64,
    pub note: String,
    pub state: OrderState,
    pub quoted: Option<Yuan>,
    pub tester_id: Option<i64>,
    pub verifier_id: Option<i64>,
    pub round: i64,
    pub results: Option<TestResults>,
    pub created_at: String,
    pub updated_at: String,
    /// The verification token of the order's latest report (for its public link), if any.
    pub report_token: Option<String>,
}

/// An order with its reports (one per issued round).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderDetail {
    pub order: OrderRecord,
    pub reports: Vec<ReportRecord>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportRecord {
    pub number: String,
    pub order_id: i64,
    pub lab_id: i64,
    pub lab_name: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub item: String,
    pub issued_on: NaiveDate,
    pub round: i64,
    pub results: TestResults,
    pub status: ReportStatus,
    /// The unguessable half of the public verification link (`?token=`): 128 random bits.
    pub verify_token: String,
}

/// The stored summary of a report's results (`lab_reports.result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportResult {
    Pass,
    Fail,
}

impl ReportResult {
    pub fn of(results: &TestResults) -> Self {
        if results.passed {
            Self::Pass
        } else {
            Self::Fail
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
        }
    }
}

/// Actions on an order; the person is the acting user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OrderAction {
    Quote { amount: Yuan },
    Accept,
    Decline,
    Cancel,
    ReceiveSample,
    StartTesting,
    RecordResults { results: TestResults },
    Verify,
    ReturnForRework,
    IssueReport,
    RequestRetest,
    RevokeReport { reason: String },
}

impl OrderAction {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Quote { .. } => "quote",
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Cancel => "cancel",
            Self::ReceiveSample => "receive_sample",
            Self::StartTesting => "start_testing",
            Self::RecordResults { .. } => "record_results",
            Self::Verify => "verify",
            Self::ReturnForRework => "return_for_rework",
            Self::IssueReport => "issue_report",
            Self::RequestRetest => "request_retest",
            Self::RevokeReport { .. } => "revoke_report",
        }
    }
    /// Actions the customer (enterprise) takes; all others are the lab's.
    pub fn by_customer(&self) -> bool {
        matches!(
            self,
            Self::Accept | Self::Decline | Self::Cancel | Self::RequestRetest
        )
    }
}

/// An invoice of a booking or order.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceOf {
    pub id: i64,
    pub invoice: Invoice,
}

// ---------------------------------------------------------------- availability

/// A hit of the availability search with what the page shows next to it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotHit {
    pub slot: FreeSlot,
    pub instrument: InstrumentRecord,
    pub lab_name: String,
    pub quote: Option<Quote>,
}

/// A combined slot with the names of its instruments.
#[derive(Debug, Clone)]
pub struct CombinedHit {
    pub range: TimeRange,
    /// (id, name) of each instrument, one per test item.
    pub instruments: Vec<(i64, String)>,
}

// ---------------------------------------------------------------- costs, utilisation

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstrumentSavings {
    pub instrument_id: i64,
    pub instrument_name: String,
    pub hours: f64,
    pub savings: Savings,
}

/// What sharing saved one enterprise, per instrument and in total.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavingsReport {
    pub instruments: Vec<InstrumentSavings>,
    pub total_saving: Yuan,
    pub total_spend: Yuan,
    pub assumptions: OwnershipAssumptions,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstrumentUtilisation {
    pub instrument_id: i64,
    pub instrument_name: String,
    pub lab_id: i64,
    pub lab_name: String,
    #[serde(flatten)]
    pub utilisation: Utilisation,
}

/// Minutes summed over a lab's instruments (or all of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageTotals {
    pub available_minutes: i64,
    pub used_minutes: i64,
    pub outside_minutes: i64,
}

impl UsageTotals {
    fn add(&mut self, u: &Utilisation) {
        self.available_minutes += u.available_minutes;
        self.used_minutes += u.used_minutes;
        self.outside_minutes += u.outside_minutes;
    }
    /// Used share of the available time, in basis points.
    pub fn utilisation_bp(&self) -> i64 {
        bp(self.used_minutes, self.available_minutes)
    }
    /// Share of the used time used by enterprises, in basis points.
    pub fn sharing_rate_bp(&self) -> i64 {
        bp(self.outside_minutes, self.used_minutes)
    }
}

fn bp(a: i64, b: i64) -> i64 {
    if b > 0 {
        a * 10_000 / b
    } else {
        0
    }
}

/// The regulator's dashboard for one year: instruments by used time (most first), labs by
/// name, and the totals.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub year: i32,
    pub instruments: Vec<InstrumentUtilisation>,
    pub labs: Vec<(String, UsageTotals)>,
    pub totals: UsageTotals,
}

impl Dashboard {
    pub(crate) fn new(year: i32, mut instruments: Vec<InstrumentUtilisation>) -> Self {
        let mut totals = UsageTotals::default();
        let mut labs: std::collections::BTreeMap<String, UsageTotals> = Default::default();
        for u in &instruments {
            totals.add(&u.utilisation);
            labs.entry(u.lab_name.clone())
                .or_default()
                .add(&u.utilisation);
        }
        instruments.sort_by_key(|u| std::cmp::Reverse(u.utilisation.used_minutes));
        Self {
            year,
            instruments,
            labs: labs.into_iter().collect(),
            totals,
        }
    }
}

/// An enterprise's own labs page: bookings, orders, waitlist and savings.
#[derive(Debug, Clone)]
pub struct EnterpriseLabs {
    pub enterprise_id: i64,
    pub uscc: Uscc,
    pub bookings: Vec<BookingRecord>,
    pub orders: Vec<OrderRecord>,
    pub waitlist: Vec<WaitRecord>,
    pub savings: SavingsReport,
}

/// A lab's console: the next 14 days of bookings, the order queue and the instruments.
#[derive(Debug, Clone)]
pub struct LabConsole {
    pub lab: LabRecord,
    pub bookings: Vec<BookingRecord>,
    pub orders: Vec<OrderRecord>,
    pub instruments: Vec<InstrumentRecord>,
}

// ---------------------------------------------------------------- feeds

/// What a calendar feed covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    Instrument,
    Enterprise,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instrument => "instrument",
            Self::Enterprise => "enterprise",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Instrument, Self::Enterprise]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A new calendar-feed token and what it opens (the caller builds the URL).
#[derive(Debug, Clone)]
pub struct FeedGrant {
    pub target: FeedTarget,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedTarget {
    Instrument(i64),
    Enterprise(Uscc),
}

// ---------------------------------------------------------------- bulk loads (CLI)

/// One lab with its instruments and services, for [`crate::LabsService::import_catalogue`].
#[derive(Debug, Clone)]
pub struct LabSeed {
    pub code: LabCode,
    pub lab: Lab,
    /// Each instrument with whether bookings need the owner's approval.
    pub instruments: Vec<(Instrument, bool)>,
    pub services: Vec<Service>,
}

/// The ids an imported lab received, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedLab {
    pub id: i64,
    pub instruments: Vec<i64>,
    pub services: Vec<i64>,
}

/// A booking that already happened (or is already settled), loaded as history rather than
/// requested through the rules.
#[derive(Debug, Clone)]
pub struct HistoryBooking {
    pub instrument_id: i64,
    pub enterprise_id: Option<i64>,
    pub range: TimeRange,
    pub state: BookingState,
    pub price: Yuan,
}
