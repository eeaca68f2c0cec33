//! Money and statistics: invoice lines for instrument time and testing orders, what an
//! enterprise saves by renting instead of buying, and yearly utilisation and sharing rates per
//! instrument (following the logic of China's 大型科研仪器开放共享评价考核: effective machine
//! hours, hours of service to outside users, and their share). Assumptions: docs/yuepin-labs.md.

use crate::catalogue::{Instrument, Service};
use crate::error::{sum_yuan, BookingRejection};
use crate::pricing::{prorate, quote, round_div};
use crate::time::{TimeRange, WeeklySchedule};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use yuepin_domain::Yuan;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceLine {
    /// Chinese description as printed on the invoice.
    pub description: String,
    /// Human-readable quantity with unit, e.g. "1.5 小时", "3 个样品".
    pub quantity: String,
    pub unit_price: Yuan,
    pub amount: Yuan,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invoice {
    pub lines: Vec<InvoiceLine>,
    pub total: Yuan,
}

impl Invoice {
    fn from_lines(lines: Vec<InvoiceLine>) -> Result<Self, BookingRejection> {
        let total = sum_yuan(lines.iter().map(|l| l.amount))
            .ok_or(BookingRejection::AmountOverflow { what: "invoice" })?;
        Ok(Self { lines, total })
    }
}

fn hours_label(minutes: i64) -> String {
    let whole = minutes / 60;
    match minutes % 60 {
        0 => format!("{whole} 小时"),
        30 => format!("{whole}.5 小时"),
        m => format!("{whole} 小时 {m} 分钟"),
    }
}

/// Lines for instrument time (peak and off-peak separately) plus the named accessories,
/// each charged for the whole booked duration. Unknown accessory names are ignored.
pub fn booking_invoice(
    instrument: &Instrument,
    range: &TimeRange,
    accessory_names: &[&str],
) -> Result<Invoice, BookingRejection> {
    let q = quote(&instrument.tariff, range)?;
    let mut lines = Vec::new();
    if q.peak_minutes > 0 {
        lines.push(InvoiceLine {
            description: format!("{}（{}）机时·高峰", instrument.name, instrument.model),
            quantity: hours_label(q.peak_minutes),
            unit_price: instrument.tariff.peak_hourly,
            amount: q.peak_amount,
        });
    }
    if q.off_peak_minutes > 0 {
        lines.push(InvoiceLine {
            description: format!("{}（{}）机时·低谷", instrument.name, instrument.model),
            quantity: hours_label(q.off_peak_minutes),
            unit_price: instrument.tariff.off_peak_hourly,
            amount: q.off_peak_amount,
        });
    }
    for name in accessory_names {
        if let Some(acc) = instrument.accessories.iter().find(|a| a.name == *name) {
            lines.push(InvoiceLine {
                description: format!("附件：{}", acc.name),
                quantity: hours_label(range.minutes()),
                unit_price: acc.hourly,
                amount: prorate(acc.hourly, range.minutes())
                    .ok_or(BookingRejection::AmountOverflow { what: "accessory" })?,
            });
        }
    }
    Invoice::from_lines(lines)
}

/// A single-line invoice for a late-cancellation or no-show fee.
pub fn fee_invoice(description_zh: &str, amount: Yuan) -> Invoice {
    Invoice {
        lines: vec![InvoiceLine {
            description: description_zh.to_string(),
            quantity: "1 次".to_string(),
            unit_price: amount,
            amount,
        }],
        total: amount,
    }
}

/// Testing-on-behalf / outsourced experiment: samples × price per sample, plus retest rounds
/// the customer pays for (retests caused by the lab's own error are not charged — the caller
/// passes only chargeable ones).
pub fn order_invoice(
    service: &Service,
    samples: u32,
    chargeable_retests: u32,
) -> Result<Invoice, BookingRejection> {
    let per_sample = service.price_per_sample;
    let times = |n: u32| {
        per_sample
            .fen()
            .checked_mul(i64::from(n))
            .map(Yuan::from_fen)
            .ok_or(BookingRejection::AmountOverflow { what: "order" })
    };
    let mut lines = vec![InvoiceLine {
        description: format!("检测费：{}", service.method.item),
        quantity: format!("{samples} 个样品"),
        unit_price: per_sample,
        amount: times(samples)?,
    }];
    if chargeable_retests > 0 {
        let n = samples.saturating_mul(chargeable_retests);
        lines.push(InvoiceLine {
            description: format!("复检费：{}", service.method.item),
            quantity: format!("{n} 个样品次"),
            unit_price: per_sample,
            amount: times(n)?,
        });
    }
    Invoice::from_lines(lines)
}

/// How the cost of owning an instrument is estimated (documented defaults: straight-line
/// depreciation over 10 years to 5 % residual value, plus 5 % of the price a year for
/// maintenance, calibration and service contracts; operator wages and floor space excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnershipAssumptions {
    pub service_life_years: u32,
    pub residual_value_percent: u8,
    pub annual_maintenance_percent: u8,
}

impl Default for OwnershipAssumptions {
    fn default() -> Self {
        Self {
            service_life_years: 10,
            residual_value_percent: 5,
            annual_maintenance_percent: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Savings {
    pub annual_depreciation: Yuan,
    pub annual_maintenance: Yuan,
    pub annual_ownership_cost: Yuan,
    pub shared_spend: Yuan,
    /// Ownership cost minus what the enterprise paid for shared use; negative when buying
    /// would have been cheaper.
    pub saving: Yuan,
    /// Booked hours a year above which owning becomes cheaper, at the given hourly price.
    pub break_even_hours: Option<i64>,
}

/// An enterprise's yearly saving from renting an instrument costing `purchase_price` instead
/// of buying it, given what it spent on shared use that year.
pub fn ownership_savings(
    purchase_price: Yuan,
    assumptions: &OwnershipAssumptions,
    annual_shared_spend: Yuan,
    hourly_price: Yuan,
) -> Savings {
    let price = i128::from(purchase_price.fen());
    let life = i128::from(assumptions.service_life_years.max(1));
    let depreciable =
        price * i128::from(100u8.saturating_sub(assumptions.residual_value_percent.min(100)));
    let fen = |v: Option<i128>| Yuan::from_fen(v.and_then(|v| i64::try_from(v).ok()).unwrap_or(0));
    let annual_depreciation = fen(round_div(depreciable, 100 * life));
    let annual_maintenance = fen(round_div(
        price * i128::from(assumptions.annual_maintenance_percent),
        100,
    ));
    let annual_ownership_cost = Yuan::from_fen(
        annual_depreciation
            .fen()
            .saturating_add(annual_maintenance.fen()),
    );
    let saving = Yuan::from_fen(
        annual_ownership_cost
            .fen()
            .saturating_sub(annual_shared_spend.fen()),
    );
    let break_even_hours =
        (hourly_price.fen() > 0).then(|| annual_ownership_cost.fen() / hourly_price.fen());
    Savings {
        annual_depreciation,
        annual_maintenance,
        annual_ownership_cost,
        shared_spend: annual_shared_spend,
        saving,
        break_even_hours,
    }
}

/// One completed use of an instrument: a checked-in booking, or the lab's own use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageRecord {
    pub range: TimeRange,
    /// Used by someone outside the owning lab's institution (对外服务).
    pub outside_user: bool,
}

/// A year's figures for one instrument. Rates are in basis points (1/100 of a percent) so
/// they stay exact; divide by 100 for percent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Utilisation {
    pub year: i32,
    /// Opening hours in the year minus blackout (maintenance) time.
    pub available_minutes: i64,
    /// 有效工作机时: minutes actually used (no-shows and cancellations are not usage).
    pub used_minutes: i64,
    /// 对外服务机时: the part of used time for outside users.
    pub outside_minutes: i64,
    /// used / available.
    pub utilisation_bp: i64,
    /// Sharing rate (共享率) = outside / used.
    pub sharing_rate_bp: i64,
}

impl Utilisation {
    /// Whether the instrument meets a yearly effective-hours benchmark (evaluation schemes set
    /// one per instrument class; the threshold is the caller's).
    pub fn meets_hours_benchmark(&self, hours: i64) -> bool {
        self.used_minutes >= hours.saturating_mul(60)
    }
}

fn bp(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    round_div(i128::from(part) * 10_000, i128::from(whole))
        .and_then(|v| i64::try_from(v).ok())
        .unwrap_or(0)
}

/// Utilisation for calendar `year`. Usage and blackouts outside the year are clipped away;
/// overlapping blackouts are counted once.
pub fn utilisation(
    year: i32,
    opening: &WeeklySchedule,
    blackouts: &[TimeRange],
    usage: &[UsageRecord],
) -> Utilisation {
    let bounds = NaiveDate::from_ymd_opt(year, 1, 1)
        .zip(NaiveDate::from_ymd_opt(year.saturating_add(1), 1, 1))
        .and_then(|(a, b)| {
            TimeRange::new(a.and_time(NaiveTime::MIN), b.and_time(NaiveTime::MIN)).ok()
        });
    let Some(year_range) = bounds else {
        return Utilisation {
            year,
            available_minutes: 0,
            used_minutes: 0,
            outside_minutes: 0,
            utilisation_bp: 0,
            sharing_rate_bp: 0,
        };
    };
    let mut clipped: Vec<(chrono::NaiveDateTime, chrono::NaiveDateTime)> = blackouts
        .iter()
        .filter(|b| b.overlaps(&year_range))
        .map(|b| {
            (
                b.start().max(year_range.start()),
                b.end().min(year_range.end()),
            )
        })
        .collect();
    clipped.sort();
    let mut merged: Vec<(chrono::NaiveDateTime, chrono::NaiveDateTime)> = Vec::new();
    for (s, e) in clipped {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let blacked_out: i64 = merged
        .iter()
        .filter_map(|&(s, e)| TimeRange::new(s, e).ok())
        .map(|r| opening.open_minutes_within(&r))
        .sum();
    let available_minutes = opening.open_minutes_within(&year_range) - blacked_out;
    let used_minutes: i64 = usage
        .iter()
        .map(|u| u.range.overlap_minutes(&year_range))
        .sum();
    let outside_minutes: i64 = usage
        .iter()
        .filter(|u| u.outside_user)
        .map(|u| u.range.overlap_minutes(&year_range))
        .sum();
    Utilisation {
        year,
        available_minutes,
        used_minutes,
        outside_minutes,
        utilisation_bp: bp(used_minutes, available_minutes),
        sharing_rate_bp: bp(outside_minutes, used_minutes),
    }
}
