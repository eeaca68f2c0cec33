//! iCalendar (RFC 5545) feeds of bookings, per instrument and per enterprise, for subscribing
//! from Outlook, Apple/Google Calendar or WeCom. Times are written in UTC ("Z" form), so no
//! VTIMEZONE is needed; TEXT values are escaped (RFC 5545 §3.3.11) and content lines folded at
//! 75 octets without splitting a UTF-8 character (§3.1).
//!
//! Written by hand (≈100 lines) rather than with the `icalendar` crate because that crate fills
//! in DTSTAMP from the system clock and UIDs from a random generator when they are not set,
//! and this crate must stay deterministic and clock-free.

use crate::booking::{Booking, BookingState};
use crate::catalogue::{Instrument, InstrumentId};
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;
use std::fmt::Write as _;
use yuepin_domain::Uscc;

/// China Standard Time is UTC+8 all year (no daylight saving since 1991).
const CST_OFFSET_HOURS: i64 = 8;
const MAX_LINE_OCTETS: usize = 75;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Globally unique and stable across feed refreshes, e.g. "booking-42@labs.yuepin".
    pub uid: String,
    /// China Standard Time.
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    /// "TENTATIVE", "CONFIRMED" or "CANCELLED".
    pub status: &'static str,
}

fn utc_stamp(cst: NaiveDateTime) -> Option<String> {
    cst.checked_sub_signed(Duration::hours(CST_OFFSET_HOURS))
        .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
}

/// Escapes a TEXT value; other control characters are dropped (RFC 5545 forbids them).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded to at most 75 octets per physical line, with CRLF.
fn push_line(out: &mut String, line: &str) {
    let mut budget = MAX_LINE_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > budget {
            out.push_str("\r\n ");
            // The leading space of a continuation line counts towards its 75 octets.
            budget = MAX_LINE_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
}

/// A complete VCALENDAR. `dtstamp` (China Standard Time) is when the feed was generated;
/// events whose times cannot be represented are left out.
pub fn render_calendar(name: &str, events: &[CalendarEvent], dtstamp: NaiveDateTime) -> String {
    let mut out = String::new();
    let stamp = utc_stamp(dtstamp).unwrap_or_else(|| "19700101T000000Z".to_string());
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Yuepin//yuepin-labs//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        push_line(&mut out, line);
    }
    push_line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)));
    push_line(&mut out, "X-WR-TIMEZONE:Asia/Shanghai");
    for e in events {
        let (Some(start), Some(end)) = (utc_stamp(e.start), utc_stamp(e.end)) else {
            continue;
        };
        push_line(&mut out, "BEGIN:VEVENT");
        push_line(&mut out, &format!("UID:{}", escape_text(&e.uid)));
        push_line(&mut out, &format!("DTSTAMP:{stamp}"));
        push_line(&mut out, &format!("DTSTART:{start}"));
        push_line(&mut out, &format!("DTEND:{end}"));
        push_line(&mut out, &format!("SUMMARY:{}", escape_text(&e.summary)));
        if let Some(d) = &e.description {
            push_line(&mut out, &format!("DESCRIPTION:{}", escape_text(d)));
        }
        if let Some(l) = &e.location {
            push_line(&mut out, &format!("LOCATION:{}", escape_text(l)));
        }
        push_line(&mut out, &format!("STATUS:{}", e.status));
        push_line(&mut out, "END:VEVENT");
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

fn status_of(state: BookingState) -> Option<&'static str> {
    match state {
        BookingState::Held | BookingState::Requested | BookingState::PendingApproval => {
            Some("TENTATIVE")
        }
        BookingState::Confirmed | BookingState::CheckedIn | BookingState::Completed => {
            Some("CONFIRMED")
        }
        BookingState::Cancelled => Some("CANCELLED"),
        BookingState::NoShow | BookingState::Rejected | BookingState::Released => None,
    }
}

fn booking_uid(b: &Booking) -> String {
    format!("booking-{}@labs.yuepin", b.id)
}

/// Feed of one instrument's bookings. Enterprises are not named (the feed may be shared
/// with the lab's staff); cancelled bookings are kept as CANCELLED so subscribed calendars
/// remove them.
pub fn instrument_feed(
    instrument: &Instrument,
    bookings: &[Booking],
    now: NaiveDateTime,
) -> String {
    let events: Vec<CalendarEvent> = bookings
        .iter()
        .filter(|b| b.instrument == instrument.id)
        .filter_map(|b| {
            Some(CalendarEvent {
                uid: booking_uid(b),
                start: b.range.start(),
                end: b.range.end(),
                summary: format!("{}：{}", instrument.name, b.state.name_zh()),
                description: Some(format!(
                    "型号：{}\n{}",
                    instrument.model,
                    if b.self_operated {
                        "自主操作"
                    } else {
                        "由实验室人员操作"
                    }
                )),
                location: Some(instrument.location.clone()),
                status: status_of(b.state)?,
            })
        })
        .collect();
    render_calendar(
        &format!("{}（{}）预约", instrument.name, instrument.model),
        &events,
        now,
    )
}

/// Feed of one enterprise's bookings across instruments.
pub fn enterprise_feed(
    enterprise: &Uscc,
    bookings: &[Booking],
    instruments: &[Instrument],
    now: NaiveDateTime,
) -> String {
    let by_id: HashMap<InstrumentId, &Instrument> = instruments.iter().map(|i| (i.id, i)).collect();
    let events: Vec<CalendarEvent> = bookings
        .iter()
        .filter(|b| &b.enterprise == enterprise)
        .filter_map(|b| {
            let inst = by_id.get(&b.instrument)?;
            let mut description = String::new();
            let _ = write!(
                description,
                "仪器：{}（{} {}）\n状态：{}\n费用：{} 元",
                inst.name,
                inst.maker,
                inst.model,
                b.state.name_zh(),
                b.price
            );
            Some(CalendarEvent {
                uid: booking_uid(b),
                start: b.range.start(),
                end: b.range.end(),
                summary: format!("仪器预约：{}", inst.name),
                description: Some(description),
                location: Some(inst.location.clone()),
                status: status_of(b.state)?,
            })
        })
        .collect();
    render_calendar(&format!("{} 的仪器预约", enterprise.as_str()), &events, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_respects_octets_and_chars() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "检验检测认证资源共享开放".repeat(10));
        push_line(&mut out, &long);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, long);
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape_text("a,b;c\\d\ne\r\nf\u{7}"),
            "a\\,b\\;c\\\\d\\ne\\nf"
        );
    }
}
