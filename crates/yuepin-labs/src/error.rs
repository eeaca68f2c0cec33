//! Error types: catalogue values that do not parse (`LabError`), booking rule rejections
//! (`BookingRejection`) and state-machine misuse (`IllegalTransition`). Messages are bilingual,
//! Chinese first, because they are shown to enterprise users and lab clerks as they are.

use chrono::NaiveDateTime;
use yuepin_domain::Yuan;

/// A catalogue or time value that could not be parsed; says which field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct LabError {
    pub field: &'static str,
    pub reason: String,
}

impl LabError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Why a booking request was refused. Each variant carries what the user needs to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingRejection {
    #[error("预约开始时间已过 (the booking starts in the past: {start})")]
    InPast { start: NaiveDateTime },
    #[error("须至少提前预约，最早可约 {earliest} (too short notice: earliest bookable start is {earliest})")]
    TooSoon { earliest: NaiveDateTime },
    #[error(
        "超出可预约期限，最晚可约 {latest} (too far ahead: latest bookable start is {latest})"
    )]
    TooFarAhead { latest: NaiveDateTime },
    #[error("预约时间须按 {granularity_minutes} 分钟对齐 (start and end must be on the {granularity_minutes}-minute grid)")]
    OffGrid { granularity_minutes: u32 },
    #[error(
        "预约时长不得少于 {min_minutes} 分钟 (duration below the minimum of {min_minutes} minutes)"
    )]
    TooShort { min_minutes: u32 },
    #[error(
        "预约时长不得超过 {max_minutes} 分钟 (duration above the maximum of {max_minutes} minutes)"
    )]
    TooLong { max_minutes: u32 },
    #[error("不在开放时间内 (outside the opening hours of the lab/instrument)")]
    OutsideOpeningHours,
    #[error(
        "该时段仪器停用：{reason} ({start} – {end}) (instrument unavailable: blackout period)"
    )]
    Blackout {
        reason: String,
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    #[error("与已有预约冲突 {start} – {end} (conflicts with an existing booking)")]
    Conflict {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    #[error("超出每周配额：本周已约 {used_minutes} 分钟，申请 {requested_minutes} 分钟，配额 {quota_minutes} 分钟 (weekly quota exceeded for the week starting {week_start})")]
    WeeklyQuotaExceeded {
        week_start: NaiveDateTime,
        used_minutes: i64,
        requested_minutes: i64,
        quota_minutes: i64,
    },
    #[error("超出每月配额：本月已约 {used_minutes} 分钟，申请 {requested_minutes} 分钟，配额 {quota_minutes} 分钟 (monthly quota exceeded for the month starting {month_start})")]
    MonthlyQuotaExceeded {
        month_start: NaiveDateTime,
        used_minutes: i64,
        requested_minutes: i64,
        quota_minutes: i64,
    },
    #[error("因多次爽约已被暂停预约至 {until} (suspended for repeated no-shows until {until})")]
    Blacklisted { until: NaiveDateTime },
    #[error("自主操作须持有「{required}」资格，建议改用代检代测服务 (self-operation requires the qualification {required:?}; use testing on behalf instead)")]
    OperatorNotQualified { required: String },
    #[error(
        "重复预约次数须在 1 到 {max} 之间 (a recurring booking must have 1 to {max} occurrences)"
    )]
    BadRecurrence { max: u32 },
    #[error(
        "组合预约须包含不同的仪器 (a combined booking must name each instrument at most once)"
    )]
    DuplicateInstrument,
    #[error("金额溢出 (amount overflow while pricing {what})")]
    AmountOverflow { what: &'static str },
}

/// An event that the current state does not accept (or whose data breaks an invariant,
/// such as a verifier who is also the tester).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("状态 {state} 不能执行 {event}：{reason}")]
pub struct IllegalTransition {
    pub state: &'static str,
    pub event: &'static str,
    pub reason: &'static str,
}

impl BookingRejection {
    pub(crate) fn overflow(what: &'static str) -> Self {
        Self::AmountOverflow { what }
    }
}

/// Sums amounts, reporting overflow instead of panicking.
pub(crate) fn sum_yuan(amounts: impl IntoIterator<Item = Yuan>) -> Option<Yuan> {
    amounts
        .into_iter()
        .try_fold(Yuan::ZERO, |acc, y| acc.checked_add(y))
}
