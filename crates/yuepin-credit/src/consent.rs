//! The consent an enterprise gives a bank (modelled on the ReBIT Account Aggregator consent
//! artefact): who may fetch (one bank organisation), why (a purpose), what (data categories,
//! never tax data), which period of data, how often and how many times, how long the bank may
//! keep it, until when. The platform decides the dates ([`Terms::grant`]: granted now, expiring
//! a number of days later), and the state machine here decides every fetch.
//!
//! Statuses: the stored state is `Active`, `Paused`, `Revoked` or `Exhausted`; `Expired` is
//! derived from the clock ([`Consent::status_at`]). Revoked is terminal; a consent is exhausted
//! after exactly `max_fetches` fetches; nothing is fetched after expiry or while paused.

use chrono::{Duration, NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use yuepin_domain::Uscc;

/// Most fetches one consent can allow.
pub const MAX_FETCHES: u32 = 100;
/// Longest validity of a consent, in days.
pub const MAX_VALID_DAYS: u32 = 366;
/// Longest time a bank may keep fetched data, in days (five years).
pub const MAX_RETENTION_DAYS: u32 = 5 * 366;
/// Longest minimum interval between fetches, in minutes (30 days).
pub const MAX_INTERVAL_MINUTES: u32 = 30 * 24 * 60;

/// A consent's public id: `CST-` and 16 characters of `0-9A-Z`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConsentId(String);

yuepin_domain::openapi_string!(
    ConsentId,
    "Consent id: CST- and 16 of 0-9A-Z",
    "CST-7K2Q9M4XH3B8D1ZP",
    pattern = "^CST-[0-9A-Z]{16}$"
);

impl ConsentId {
    pub fn parse(s: &str) -> Result<Self, TermsError> {
        let ok = s.len() == 20
            && s.starts_with("CST-")
            && s[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(TermsError::ConsentId)
        }
    }

    /// A new id from 16 random values (each taken modulo 36).
    pub fn from_random(random: [u8; 16]) -> Self {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let tail: String = random
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        Self(format!("CST-{tail}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConsentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for ConsentId {
    type Error = TermsError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<ConsentId> for String {
    fn from(c: ConsentId) -> Self {
        c.0
    }
}

/// Why the bank asks (the purpose code of the artefact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A 质量贷 (quality-based loan) application.
    QualityLoan,
    /// A credit review of an existing customer.
    CreditReview,
    /// An intellectual-property pledge loan (知识产权质押融资).
    IpPledgeLoan,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [
        Purpose::QualityLoan,
        Purpose::CreditReview,
        Purpose::IpPledgeLoan,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Purpose::QualityLoan => "quality_loan",
            Purpose::CreditReview => "credit_review",
            Purpose::IpPledgeLoan => "ip_pledge_loan",
        }
    }
    pub fn parse(s: &str) -> Result<Self, TermsError> {
        Self::ALL
            .into_iter()
            .find(|p| p.code() == s)
            .ok_or_else(|| TermsError::Purpose(s.to_string()))
    }
}

/// What a report may contain. There is deliberately no tax category: tax data reaches banks
/// only through the official tax channel (see `docs/credit.md`), and parsing refuses it with
/// its own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DataCategory {
    /// The quality credit grade with its factors.
    Grade,
    /// Supervision inspections and their results.
    Inspections,
    /// Certifications, awards and designations.
    CertificationsAwards,
    /// Complaint counts and published consumer warnings.
    ComplaintsWarnings,
    /// 粤品通 code revocations and counterfeit signals.
    CodesCounterfeit,
    /// Lab reports.
    LabReports,
    /// Financing records on the platform (grants, loans).
    Financing,
}

impl DataCategory {
    pub const ALL: [DataCategory; 7] = [
        DataCategory::Grade,
        DataCategory::Inspections,
        DataCategory::CertificationsAwards,
        DataCategory::ComplaintsWarnings,
        DataCategory::CodesCounterfeit,
        DataCategory::LabReports,
        DataCategory::Financing,
    ];
    pub fn code(self) -> &'static str {
        match self {
            DataCategory::Grade => "grade",
            DataCategory::Inspections => "inspections",
            DataCategory::CertificationsAwards => "certifications_awards",
            DataCategory::ComplaintsWarnings => "complaints_warnings",
            DataCategory::CodesCounterfeit => "codes_counterfeit",
            DataCategory::LabReports => "lab_reports",
            DataCategory::Financing => "financing",
        }
    }
    /// Parses a category code; anything naming tax data is refused as such.
    pub fn parse(s: &str) -> Result<Self, TermsError> {
        let t = s.trim().to_ascii_lowercase();
        if t.contains("tax") || s.contains('税') {
            return Err(TermsError::TaxNeverShared);
        }
        Self::ALL
            .into_iter()
            .find(|c| c.code() == t)
            .ok_or_else(|| TermsError::Category(s.to_string()))
    }
}

/// A non-empty set of categories.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<DataCategory>", into = "Vec<DataCategory>")]
pub struct Categories(BTreeSet<DataCategory>);

impl Categories {
    pub fn new(items: impl IntoIterator<Item = DataCategory>) -> Result<Self, TermsError> {
        let set: BTreeSet<_> = items.into_iter().collect();
        if set.is_empty() {
            Err(TermsError::NoCategories)
        } else {
            Ok(Self(set))
        }
    }
    /// Parses category codes (see [`DataCategory::parse`]).
    pub fn parse<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Self, TermsError> {
        Self::new(
            codes
                .into_iter()
                .map(DataCategory::parse)
                .collect::<Result<Vec<_>, _>>()?,
        )
    }
    pub fn all() -> Self {
        Self(DataCategory::ALL.into_iter().collect())
    }
    pub fn contains(&self, c: DataCategory) -> bool {
        self.0.contains(&c)
    }
    pub fn iter(&self) -> impl Iterator<Item = DataCategory> + '_ {
        self.0.iter().copied()
    }
    /// The first category of `other` not in `self`.
    pub fn first_missing(&self, other: &Categories) -> Option<DataCategory> {
        other.iter().find(|c| !self.contains(*c))
    }
}

impl TryFrom<Vec<DataCategory>> for Categories {
    type Error = TermsError;
    fn try_from(v: Vec<DataCategory>) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}
impl From<Categories> for Vec<DataCategory> {
    fn from(c: Categories) -> Self {
        c.0.into_iter().collect()
    }
}

/// An inclusive range of data dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "(NaiveDate, NaiveDate)", into = "(NaiveDate, NaiveDate)")]
pub struct DateRange {
    from: NaiveDate,
    to: NaiveDate,
}

impl DateRange {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, TermsError> {
        if from <= to {
            Ok(Self { from, to })
        } else {
            Err(TermsError::DateRange)
        }
    }
    pub fn from(&self) -> NaiveDate {
        self.from
    }
    pub fn to(&self) -> NaiveDate {
        self.to
    }
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }
    pub fn covers(&self, other: &DateRange) -> bool {
        self.from <= other.from && other.to <= self.to
    }
}

impl TryFrom<(NaiveDate, NaiveDate)> for DateRange {
    type Error = TermsError;
    fn try_from((from, to): (NaiveDate, NaiveDate)) -> Result<Self, Self::Error> {
        Self::new(from, to)
    }
}
impl From<DateRange> for (NaiveDate, NaiveDate) {
    fn from(r: DateRange) -> Self {
        (r.from, r.to)
    }
}

/// What the enterprise asks for when it grants a consent (the platform picks the dates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsRequest {
    pub purpose: Purpose,
    pub categories: Categories,
    pub data_range: DateRange,
    pub max_fetches: u32,
    pub min_interval_minutes: u32,
    pub retention_days: u32,
    /// Days from the grant until the consent expires.
    pub valid_days: u32,
}

/// The terms of a granted consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub purpose: Purpose,
    pub categories: Categories,
    pub data_range: DateRange,
    pub max_fetches: u32,
    pub min_interval_minutes: u32,
    pub retention_days: u32,
    /// When it was granted (China time, whole seconds; set by the platform).
    pub granted_at: NaiveDateTime,
    /// When it expires (China time; set by the platform).
    pub expires_at: NaiveDateTime,
}

/// Why terms or one of their values are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("unknown purpose {0:?}")]
    Purpose(String),
    #[error("unknown data category {0:?}")]
    Category(String),
    /// Tax data is never passed on.
    #[error("tax data is never shared")]
    TaxNeverShared,
    #[error("no data category")]
    NoCategories,
    #[error("the data range ends before it starts")]
    DateRange,
    /// The data range reaches past the day of the grant.
    #[error("the data range ends in the future")]
    FutureRange,
    #[error("max fetches must be 1 to {MAX_FETCHES}")]
    MaxFetches,
    #[error("the interval must be 0 to {MAX_INTERVAL_MINUTES} minutes")]
    Interval,
    #[error("retention must be 1 to {MAX_RETENTION_DAYS} days")]
    Retention,
    #[error("validity must be 1 to {MAX_VALID_DAYS} days")]
    Validity,
    #[error("malformed consent id")]
    ConsentId,
}

/// Cuts an instant to whole seconds.
pub fn whole_seconds(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(0).unwrap_or(t)
}

impl Terms {
    /// The terms of a consent granted `now`: checks every bound, fixes the grant time and the
    /// expiry. The data range may not end after the day of the grant.
    pub fn grant(req: &TermsRequest, now: NaiveDateTime) -> Result<Self, TermsError> {
        if req.max_fetches == 0 || req.max_fetches > MAX_FETCHES {
            return Err(TermsError::MaxFetches);
        }
        if req.min_interval_minutes > MAX_INTERVAL_MINUTES {
            return Err(TermsError::Interval);
        }
        if req.retention_days == 0 || req.retention_days > MAX_RETENTION_DAYS {
            return Err(TermsError::Retention);
        }
        if req.valid_days == 0 || req.valid_days > MAX_VALID_DAYS {
            return Err(TermsError::Validity);
        }
        if req.data_range.to > now.date() {
            return Err(TermsError::FutureRange);
        }
        let granted_at = whole_seconds(now);
        Ok(Self {
            purpose: req.purpose,
            categories: req.categories.clone(),
            data_range: req.data_range,
            max_fetches: req.max_fetches,
            min_interval_minutes: req.min_interval_minutes,
            retention_days: req.retention_days,
            granted_at,
            expires_at: granted_at + Duration::days(i64::from(req.valid_days)),
        })
    }
}

/// The bank a consent is for: its organisation id on the platform and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BankRef {
    pub org_id: i64,
    pub name: String,
}

/// The stored state (what changes only by an event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum State {
    Active,
    Paused,
    Revoked,
    Exhausted,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Active,
        State::Paused,
        State::Revoked,
        State::Exhausted,
    ];
    pub fn code(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Paused => "paused",
            State::Revoked => "revoked",
            State::Exhausted => "exhausted",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// The status as of an instant: the stored state, or `Expired` once the expiry has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Paused,
    Revoked,
    Expired,
    Exhausted,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
            Status::Exhausted => "exhausted",
        }
    }
    /// Nothing can change it any more.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Revoked | Status::Expired)
    }
}

/// What happens to a consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Pause,
    Resume,
    Revoke,
    Fetch,
}

impl Event {
    pub fn code(self) -> &'static str {
        match self {
            Event::Pause => "pause",
            Event::Resume => "resume",
            Event::Revoke => "revoke",
            Event::Fetch => "fetch",
        }
    }
}

/// Why a fetch is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum FetchRefused {
    #[error("the consent is revoked")]
    Revoked,
    #[error("the consent is paused")]
    Paused,
    #[error("the consent has expired")]
    Expired,
    #[error("every allowed fetch has been used")]
    Exhausted,
    /// The minimum interval since the last fetch has not passed.
    #[error("too soon: the next fetch is allowed at {next_at}")]
    TooSoon { next_at: NaiveDateTime },
    #[error("category {category:?} is not consented")]
    Category { category: DataCategory },
    /// The asked data range is not within the consented one.
    #[error("the data range is outside the consent")]
    Range,
}

/// A step the state machine does not take from the current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event:?} a consent that is {from:?}")]
pub struct IllegalTransition {
    pub from: Status,
    pub event: Event,
}

/// A consent: its terms, for whom, and its usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: ConsentId,
    pub enterprise: Uscc,
    pub bank: BankRef,
    pub terms: Terms,
    pub state: State,
    pub fetches_used: u32,
    pub last_fetch_at: Option<NaiveDateTime>,
}

impl Consent {
    /// A freshly granted consent.
    pub fn new(id: ConsentId, enterprise: Uscc, bank: BankRef, terms: Terms) -> Self {
        Self {
            id,
            enterprise,
            bank,
            terms,
            state: State::Active,
            fetches_used: 0,
            last_fetch_at: None,
        }
    }

    /// The status at `now`: revoked and exhausted stay; otherwise expired once the expiry
    /// has passed; otherwise the stored state.
    pub fn status_at(&self, now: NaiveDateTime) -> Status {
        match self.state {
            State::Revoked => Status::Revoked,
            State::Exhausted => Status::Exhausted,
            _ if now >= self.terms.expires_at => Status::Expired,
            State::Paused => Status::Paused,
            State::Active => Status::Active,
        }
    }

    /// Uses left.
    pub fn remaining(&self) -> u32 {
        self.terms.max_fetches.saturating_sub(self.fetches_used)
    }

    /// Whether a fetch of `categories` over `range` is allowed at `now`.
    pub fn check_fetch(
        &self,
        now: NaiveDateTime,
        categories: &Categories,
        range: &DateRange,
    ) -> Result<(), FetchRefused> {
        match self.status_at(now) {
            Status::Revoked => return Err(FetchRefused::Revoked),
            Status::Exhausted => return Err(FetchRefused::Exhausted),
            Status::Expired => return Err(FetchRefused::Expired),
            Status::Paused => return Err(FetchRefused::Paused),
            Status::Active => {}
        }
        if let Some(category) = self.terms.categories.first_missing(categories) {
            return Err(FetchRefused::Category { category });
        }
        if !self.terms.data_range.covers(range) {
            return Err(FetchRefused::Range);
        }
        if let Some(last) = self.last_fetch_at {
            let next_at = last + Duration::minutes(i64::from(self.terms.min_interval_minutes));
            if now < next_at {
                return Err(FetchRefused::TooSoon { next_at });
            }
        }
        Ok(())
    }

    /// Counts a fetch (after [`Consent::check_fetch`]); the last allowed one exhausts it.
    pub fn record_fetch(
        &mut self,
        now: NaiveDateTime,
        categories: &Categories,
        range: &DateRange,
    ) -> Result<(), FetchRefused> {
        self.check_fetch(now, categories, range)?;
        self.fetches_used += 1;
        self.last_fetch_at = Some(whole_seconds(now));
        if self.fetches_used >= self.terms.max_fetches {
            self.state = State::Exhausted;
        }
        Ok(())
    }

    /// The state after pause, resume or revoke at `now` (a fetch goes through
    /// [`Consent::record_fetch`]).
    pub fn apply(&mut self, event: Event, now: NaiveDateTime) -> Result<State, IllegalTransition> {
        let from = self.status_at(now);
        let to = match (from, event) {
            (Status::Active, Event::Pause) => State::Paused,
            (Status::Paused, Event::Resume) => State::Active,
            (Status::Active | Status::Paused | Status::Exhausted, Event::Revoke) => State::Revoked,
            _ => return Err(IllegalTransition { from, event }),
        };
        self.state = to;
        Ok(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn req() -> TermsRequest {
        TermsRequest {
            purpose: Purpose::QualityLoan,
            categories: Categories::parse(["grade", "inspections"]).unwrap(),
            data_range: DateRange::new(d("2024-01-01"), d("2026-11-30")).unwrap(),
            max_fetches: 2,
            min_interval_minutes: 60,
            retention_days: 90,
            valid_days: 30,
        }
    }

    fn consent() -> Consent {
        let terms = Terms::grant(&req(), t("2026-12-01 10:00:00")).unwrap();
        Consent::new(
            ConsentId::from_random([7; 16]),
            Uscc::assemble("91", "440300", "00000001").unwrap(),
            BankRef {
                org_id: 1,
                name: "某银行广州分行".into(),
            },
            terms,
        )
    }

    #[test]
    fn tax_is_refused_by_name() {
        assert_eq!(DataCategory::parse("tax"), Err(TermsError::TaxNeverShared));
        assert_eq!(
            DataCategory::parse("tax_records"),
            Err(TermsError::TaxNeverShared)
        );
        assert_eq!(DataCategory::parse("纳税"), Err(TermsError::TaxNeverShared));
        assert!(matches!(
            DataCategory::parse("bogus"),
            Err(TermsError::Category(_))
        ));
    }

    #[test]
    fn the_platform_sets_the_dates() {
        let terms = Terms::grant(&req(), t("2026-12-01 10:00:00")).unwrap();
        assert_eq!(terms.expires_at, t("2026-12-31 10:00:00"));
        let mut r = req();
        r.data_range = DateRange::new(d("2026-01-01"), d("2026-12-02")).unwrap();
        assert_eq!(
            Terms::grant(&r, t("2026-12-01 10:00:00")),
            Err(TermsError::FutureRange)
        );
        r = req();
        r.max_fetches = 0;
        assert_eq!(
            Terms::grant(&r, t("2026-12-01 10:00:00")),
            Err(TermsError::MaxFetches)
        );
    }

    #[test]
    fn fetch_rules() {
        let mut c = consent();
        let cats = Categories::parse(["grade"]).unwrap();
        let range = DateRange::new(d("2025-01-01"), d("2025-12-31")).unwrap();
        let now = t("2026-12-01 11:00:00");
        assert_eq!(
            c.check_fetch(now, &Categories::parse(["lab_reports"]).unwrap(), &range),
            Err(FetchRefused::Category {
                category: DataCategory::LabReports
            })
        );
        let wide = DateRange::new(d("2023-01-01"), d("2025-12-31")).unwrap();
        assert_eq!(c.check_fetch(now, &cats, &wide), Err(FetchRefused::Range));
        c.record_fetch(now, &cats, &range).unwrap();
        assert!(matches!(
            c.check_fetch(now + Duration::minutes(59), &cats, &range),
            Err(FetchRefused::TooSoon { .. })
        ));
        c.record_fetch(now + Duration::minutes(60), &cats, &range)
            .unwrap();
        assert_eq!(c.state, State::Exhausted);
        assert_eq!(
            c.check_fetch(now + Duration::days(1), &cats, &range),
            Err(FetchRefused::Exhausted)
        );
    }

    #[test]
    fn expiry_and_transitions() {
        let mut c = consent();
        let late = t("2026-12-31 10:00:00");
        assert_eq!(c.status_at(late), Status::Expired);
        assert!(c.apply(Event::Pause, late).is_err());
        let now = t("2026-12-02 10:00:00");
        assert_eq!(c.apply(Event::Pause, now), Ok(State::Paused));
        assert!(c.apply(Event::Pause, now).is_err());
        assert_eq!(c.apply(Event::Resume, now), Ok(State::Active));
        assert_eq!(c.apply(Event::Revoke, now), Ok(State::Revoked));
        assert!(c.apply(Event::Resume, now).is_err());
    }
}
