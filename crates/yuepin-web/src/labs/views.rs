//! The labs pages' templates (`templates/labs/`) and their view models: what each page shows,
//! formatted for the reader's language from the service's records.

use crate::i18n::Tr;
use crate::page::Chrome;
use askama::Template;
use yuepin_domain::Yuan;
use yuepin_labs::{BookingState, OrderState, ReportStatus, ServiceArea, ServiceMode};
use yuepin_labs_service::{
    BookingRecord, Catalogue, Dashboard, EnterpriseLabs, InstrumentDetail, LabConsole, OrderRecord,
    ReportRecord, SlotHit, WaitState,
};

/// A state in the page's language: its Chinese name, or in English its code in words.
pub(super) fn state_word(tr: Tr, zh: &str, code: &str) -> String {
    if tr.is_en() {
        code.replace('_', " ")
    } else {
        zh.to_string()
    }
}

/// A calendar day as people write it: 12月3日 周四 / Thu 3 Dec.
pub(super) fn day_label(tr: Tr, d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    const WEEK: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    if tr.is_en() {
        d.format("%a %-d %b %Y").to_string()
    } else {
        let wd = WEEK[d.weekday().num_days_from_monday() as usize];
        format!("{}年{}月{}日 {wd}", d.year(), d.month(), d.day())
    }
}

pub(super) fn fmt_dt(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The `datetime-local` form value of an instant.
pub(super) fn form_dt(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// A price as read in both languages: "¥1,234.50" (grouped, two decimals).
pub(super) fn money(y: Yuan) -> String {
    format!("¥{}", y.grouped())
}

fn pct(bp: i64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

// ---------------------------------------------------------------- index / search

pub(super) struct ServiceRow {
    id: i64,
    lab: String,
    item: String,
    mode: String,
    price: String,
    days: u16,
}

pub(super) struct AreaGroup {
    name: String,
    services: Vec<ServiceRow>,
}

#[derive(Template)]
#[template(path = "labs/index.html")]
pub(super) struct IndexPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    items: Vec<String>,
    cities: Vec<(String, String)>,
    areas: Vec<AreaGroup>,
    labs: Vec<(i64, String, String, String, String)>,
    is_enterprise: bool,
}

impl IndexPage {
    pub(super) fn new(tr: Tr, c: Chrome, msg: String, cat: Catalogue, is_enterprise: bool) -> Self {
        let lab_name = |id: i64| {
            cat.labs
                .iter()
                .find(|l| l.id == id)
                .map(|l| l.lab.name.clone())
                .unwrap_or_default()
        };
        let areas = [
            ServiceArea::Metrology,
            ServiceArea::Standards,
            ServiceArea::Testing,
            ServiceArea::Certification,
            ServiceArea::Reliability,
        ]
        .into_iter()
        .map(|area| AreaGroup {
            name: format!(
                "{} {}",
                area.name_zh(),
                if tr.is_en() {
                    format!("({area:?})")
                } else {
                    String::new()
                }
            ),
            services: cat
                .services
                .iter()
                .filter(|s| s.service.area == area)
                .map(|s| ServiceRow {
                    id: s.id,
                    lab: lab_name(s.lab_id),
                    item: s.service.method.item.to_string(),
                    mode: match s.service.mode {
                        ServiceMode::OutsourcedExperiment => {
                            tr.t("实验外包", "Outsourced experiment").to_string()
                        }
                        ServiceMode::TestingOnBehalf => {
                            tr.t("代检代测", "Testing on behalf").to_string()
                        }
                    },
                    price: money(s.service.price_per_sample),
                    days: s.service.turnaround_days,
                })
                .collect(),
        })
        .collect();
        let labs = cat
            .labs
            .iter()
            .map(|l| {
                (
                    l.id,
                    l.lab.name.clone(),
                    l.lab.city.city().name_zh.clone(),
                    l.lab
                        .cma
                        .as_ref()
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                    l.lab
                        .cnas
                        .as_ref()
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                )
            })
            .collect();
        Self {
            tr,
            c,
            msg,
            items: cat.items,
            cities: yuepin_domain::reference::cities()
                .iter()
                .map(|c| (c.code.clone(), c.name_zh.clone()))
                .collect(),
            areas,
            labs,
            is_enterprise,
        }
    }
}

pub(super) struct SlotRow {
    instrument_id: i64,
    instrument: String,
    lab: String,
    city: String,
    free: String,
    start: String,
    start_value: String,
    price: String,
    approval: bool,
    qualification: String,
}

impl From<&SlotHit> for SlotRow {
    fn from(h: &SlotHit) -> Self {
        let i = &h.instrument.instrument;
        SlotRow {
            instrument_id: h.instrument.id,
            instrument: format!("{} ({} {})", i.name, i.maker, i.model),
            lab: h.lab_name.clone(),
            city: i.city.city().name_zh.clone(),
            free: format!(
                "{} – {}",
                fmt_dt(h.slot.free.start()),
                fmt_dt(h.slot.free.end())
            ),
            start: fmt_dt(h.slot.earliest.start()),
            start_value: form_dt(h.slot.earliest.start()),
            price: h.quote.as_ref().map(|q| money(q.total)).unwrap_or_default(),
            approval: h.instrument.requires_approval,
            qualification: i
                .operator_qualification
                .as_ref()
                .map(|q| q.to_string())
                .unwrap_or_default(),
        }
    }
}

/// A combined slot: when (shown), the instruments (id, name), the start (form value).
pub(super) type CombinedRow = (String, Vec<(i64, String)>, String);

#[derive(Template)]
#[template(path = "labs/search.html")]
pub(super) struct SearchPage {
    pub tr: Tr,
    pub c: Chrome,
    pub item: String,
    pub city: String,
    pub from: String,
    pub to: String,
    pub minutes: u32,
    pub slots: Vec<SlotRow>,
    pub combined: Vec<CombinedRow>,
    pub minutes_value: i64,
    pub is_enterprise: bool,
}

// ---------------------------------------------------------------- instrument

#[derive(Template)]
#[template(path = "labs/instrument.html")]
pub(super) struct InstrumentPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    id: i64,
    name: String,
    lab: String,
    facts: Vec<(String, String)>,
    items: Vec<String>,
    accessories: Vec<(String, String)>,
    busy: Vec<String>,
    blackouts: Vec<String>,
    services: Vec<(i64, String, String)>,
    is_enterprise: bool,
    default_start: String,
}

impl InstrumentPage {
    pub(super) fn new(
        tr: Tr,
        c: Chrome,
        msg: String,
        d: InstrumentDetail,
        is_enterprise: bool,
    ) -> Self {
        let rec = &d.instrument;
        let i = &rec.instrument;
        let yes_no = |b: bool| {
            if b {
                tr.t("是", "yes")
            } else {
                tr.t("否", "no")
            }
        };
        Self {
            tr,
            c,
            msg,
            id: rec.id,
            name: i.name.clone(),
            lab: d.lab.lab.name.clone(),
            facts: vec![
                (
                    tr.t("型号", "Model").into(),
                    format!("{} {}", i.maker, i.model),
                ),
                (
                    tr.t("购置价", "Purchase price").into(),
                    money(i.purchase_price),
                ),
                (
                    tr.t("地点", "Location").into(),
                    format!("{} · {}", i.city.city().name_zh, i.location),
                ),
                (
                    tr.t("功能", "Capabilities").into(),
                    i.capabilities.join("、"),
                ),
                (
                    tr.t("高峰价/小时", "Peak price per hour").into(),
                    money(i.tariff.peak_hourly),
                ),
                (
                    tr.t("低谷价/小时", "Off-peak price per hour").into(),
                    money(i.tariff.off_peak_hourly),
                ),
                (
                    tr.t("自主操作资质", "Operator qualification").into(),
                    i.operator_qualification
                        .as_ref()
                        .map(|q| q.to_string())
                        .unwrap_or_else(|| tr.t("无要求", "none").into()),
                ),
                (
                    tr.t("需审核", "Owner approval").into(),
                    yes_no(rec.requires_approval).into(),
                ),
            ],
            items: i
                .test_methods
                .iter()
                .map(|m| {
                    let stds: Vec<String> = m.standards.iter().map(|s| s.to_string()).collect();
                    format!("{} ({})", m.item, stds.join(", "))
                })
                .collect(),
            accessories: i
                .accessories
                .iter()
                .map(|a| (a.name.clone(), money(a.hourly)))
                .collect(),
            busy: d
                .busy
                .iter()
                .map(|r| format!("{} – {}", fmt_dt(r.start()), fmt_dt(r.end())))
                .collect(),
            blackouts: d
                .blackouts
                .iter()
                .map(|b| {
                    format!(
                        "{} – {}: {}",
                        fmt_dt(b.range.start()),
                        fmt_dt(b.range.end()),
                        b.reason
                    )
                })
                .collect(),
            services: d
                .services
                .iter()
                .map(|s| {
                    (
                        s.id,
                        s.service.method.item.to_string(),
                        money(s.service.price_per_sample),
                    )
                })
                .collect(),
            is_enterprise,
            // The form suggests 09:00 the day after tomorrow.
            default_start: form_dt(
                (d.now + chrono::Duration::days(2))
                    .date()
                    .and_hms_opt(9, 0, 0)
                    .unwrap_or(d.now),
            ),
        }
    }
}

// ---------------------------------------------------------------- enterprise

pub(super) struct BookingRow {
    id: i64,
    instrument: String,
    when: String,
    state: String,
    price: String,
    fee: String,
    can_cancel: bool,
    held: bool,
}

fn booking_row(tr: Tr, b: &BookingRecord) -> BookingRow {
    BookingRow {
        id: b.id,
        instrument: b.instrument_name.clone(),
        when: format!("{} – {}", fmt_dt(b.starts_at), b.ends_at.format("%H:%M")),
        state: state_word(tr, b.state.name_zh(), b.state.name()),
        price: money(b.price),
        fee: if b.fee > Yuan::ZERO {
            money(b.fee)
        } else {
            String::new()
        },
        can_cancel: matches!(
            b.state,
            BookingState::Requested | BookingState::PendingApproval | BookingState::Confirmed
        ),
        held: b.state == BookingState::Held,
    }
}

pub(super) struct OrderRow {
    id: i64,
    item: String,
    enterprise: String,
    samples: i64,
    state: String,
    state_code: String,
    quoted: String,
    report: String,
    /// The report's public link (number and verification token), empty without a report.
    report_href: String,
    results: String,
}

fn order_row(tr: Tr, o: &OrderRecord) -> OrderRow {
    let report = match &o.state {
        OrderState::ReportIssued { report, .. }
        | OrderState::ReportRevoked { report, .. }
        | OrderState::ReportReplaced { report, .. } => report.to_string(),
        OrderState::Retest { previous, .. } => previous.to_string(),
        _ => String::new(),
    };
    OrderRow {
        id: o.id,
        item: o.item.clone(),
        enterprise: o.enterprise_name.clone(),
        samples: o.samples,
        state: state_word(tr, o.state.name_zh(), o.state.name()),
        state_code: o.state.name().to_string(),
        quoted: o.quoted.map(money).unwrap_or_default(),
        report_href: match &o.report_token {
            Some(t) if !report.is_empty() => super::pages::report_link("", &report, t),
            _ => String::new(),
        },
        report,
        results: o
            .results
            .as_ref()
            .map(|r| {
                format!(
                    "{}{}",
                    if r.passed { "合格" } else { "不合格" },
                    if r.failed_items.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", r.failed_items.join("、"))
                    }
                )
            })
            .unwrap_or_default(),
    }
}

/// Bookings on one page of `/labs/my`.
pub(super) const BOOKINGS_PER_PAGE: usize = 20;

#[derive(Template)]
#[template(path = "labs/my.html")]
pub(super) struct MyPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    uscc: String,
    /// One page of bookings: those still to happen first, then the newest.
    bookings: Vec<BookingRow>,
    /// 1-based page of the bookings, the page count and the total.
    page: usize,
    pages: usize,
    total_bookings: usize,
    orders: Vec<OrderRow>,
    waitlist: Vec<(String, String, String)>,
    savings: Vec<(String, String, String, String, String)>,
    total_saving: String,
}

impl MyPage {
    pub(super) fn new(tr: Tr, c: Chrome, msg: String, e: EnterpriseLabs, page: usize) -> Self {
        let mut bookings: Vec<&BookingRecord> = e.bookings.iter().collect();
        // What still needs the user (requested, confirmed, held…) before history; newest first.
        bookings.sort_by_key(|b| {
            let done = matches!(
                b.state,
                BookingState::Completed
                    | BookingState::Cancelled
                    | BookingState::NoShow
                    | BookingState::Rejected
                    | BookingState::Released
            );
            (done, std::cmp::Reverse(b.starts_at))
        });
        let total_bookings = bookings.len();
        let pages = total_bookings.div_ceil(BOOKINGS_PER_PAGE).max(1);
        let page = page.clamp(1, pages);
        Self {
            tr,
            c,
            msg,
            uscc: e.uscc.to_string(),
            bookings: bookings
                .into_iter()
                .skip((page - 1) * BOOKINGS_PER_PAGE)
                .take(BOOKINGS_PER_PAGE)
                .map(|b| booking_row(tr, b))
                .collect(),
            page,
            pages,
            total_bookings,
            orders: e.orders.iter().map(|o| order_row(tr, o)).collect(),
            waitlist: e
                .waitlist
                .iter()
                .map(|w| {
                    (
                        format!("#{}", w.instrument_id),
                        format!("{} – {}", fmt_dt(w.starts_at), w.ends_at.format("%H:%M")),
                        wait_state_name(tr, w.state),
                    )
                })
                .collect(),
            savings: e
                .savings
                .instruments
                .iter()
                .map(|s| {
                    (
                        s.instrument_name.clone(),
                        format!("{:.1}", s.hours),
                        money(s.savings.shared_spend),
                        money(s.savings.annual_ownership_cost),
                        money(s.savings.saving),
                    )
                })
                .collect(),
            total_saving: money(e.savings.total_saving),
        }
    }
}

// ---------------------------------------------------------------- lab console

pub(super) struct CalendarDay {
    day: String,
    bookings: Vec<CalendarRow>,
}

pub(super) struct CalendarRow {
    id: i64,
    instrument: String,
    when: String,
    who: String,
    state: String,
    pending: bool,
    confirmed: bool,
    checked_in: bool,
}

#[derive(Template)]
#[template(path = "labs/lab.html")]
pub(super) struct LabPage {
    tr: Tr,
    c: Chrome,
    msg: String,
    lab: String,
    days: Vec<CalendarDay>,
    /// Each order with whether the current user is its tester.
    orders: Vec<(OrderRow, bool)>,
    instruments: Vec<(i64, String, String)>,
    /// The first day of the last 92 days (the history download).
    past_from: String,
}

impl LabPage {
    /// `me` is the signed-in staff member (the tester sees "record results", others "verify").
    pub(super) fn new(tr: Tr, c: Chrome, msg: String, console: LabConsole, me: i64) -> Self {
        let mut days: Vec<CalendarDay> = Vec::new();
        for b in &console.bookings {
            let day = day_label(tr, b.starts_at.date());
            let row = CalendarRow {
                id: b.id,
                instrument: b.instrument_name.clone(),
                when: format!(
                    "{}–{}",
                    b.starts_at.format("%H:%M"),
                    b.ends_at.format("%H:%M")
                ),
                who: b
                    .enterprise_name
                    .clone()
                    .or_else(|| b.enterprise_uscc.as_ref().map(|u| u.to_string()))
                    .unwrap_or_else(|| tr.t("内部使用", "internal use").into()),
                state: state_word(tr, b.state.name_zh(), b.state.name()),
                pending: b.state == BookingState::PendingApproval,
                confirmed: b.state == BookingState::Confirmed,
                checked_in: b.state == BookingState::CheckedIn,
            };
            match days.last_mut() {
                Some(d) if d.day == day => d.bookings.push(row),
                _ => days.push(CalendarDay {
                    day,
                    bookings: vec![row],
                }),
            }
        }
        Self {
            tr,
            c,
            msg,
            lab: console.lab.lab.name.clone(),
            days,
            past_from: (crate::today() - chrono::Duration::days(92)).to_string(),
            orders: console
                .orders
                .iter()
                .map(|o| (order_row(tr, o), o.tester_id == Some(me)))
                .collect(),
            instruments: console
                .instruments
                .iter()
                .map(|i| (i.id, i.instrument.name.clone(), i.instrument.model.clone()))
                .collect(),
        }
    }
}

// ---------------------------------------------------------------- regulator dashboard

/// One bar pair of a chart: y offset, widths (0–300 px) and the label at its end.
pub(super) struct Bar {
    label: String,
    y: i64,
    width: i64,
    width2: i64,
    value: String,
}

/// Bar width for a share in basis points.
fn width(bp: i64) -> i64 {
    (bp * 300 / 10_000).clamp(0, 300)
}

#[derive(Template)]
#[template(path = "labs/dashboard.html")]
pub(super) struct DashboardPage {
    tr: Tr,
    c: Chrome,
    year: i32,
    instruments: usize,
    used_hours: String,
    outside_hours: String,
    utilisation: String,
    sharing: String,
    bars: Vec<Bar>,
    lab_bars: Vec<Bar>,
    chart_height: i64,
    lab_chart_height: i64,
    rows: Vec<(String, String, String, String, String, String)>,
}

impl DashboardPage {
    pub(super) fn new(tr: Tr, c: Chrome, d: Dashboard) -> Self {
        let bars: Vec<Bar> = d
            .instruments
            .iter()
            .take(15)
            .enumerate()
            .map(|(i, u)| Bar {
                label: u.instrument_name.chars().take(14).collect(),
                y: i as i64 * 22,
                width: width(u.utilisation.utilisation_bp),
                width2: width(u.utilisation.sharing_rate_bp),
                value: format!(
                    "{} / {}",
                    pct(u.utilisation.utilisation_bp),
                    pct(u.utilisation.sharing_rate_bp)
                ),
            })
            .collect();
        let lab_bars: Vec<Bar> = d
            .labs
            .iter()
            .enumerate()
            .map(|(i, (name, t))| Bar {
                label: name.chars().take(14).collect(),
                y: i as i64 * 22,
                width: width(t.utilisation_bp()),
                width2: width(t.sharing_rate_bp()),
                value: format!("{:.0} h", t.used_minutes as f64 / 60.0),
            })
            .collect();
        Self {
            tr,
            c,
            year: d.year,
            instruments: d.instruments.len(),
            used_hours: format!("{:.1}", d.totals.used_minutes as f64 / 60.0),
            outside_hours: format!("{:.1}", d.totals.outside_minutes as f64 / 60.0),
            utilisation: pct(d.totals.utilisation_bp()),
            sharing: pct(d.totals.sharing_rate_bp()),
            chart_height: bars.len() as i64 * 22 + 10,
            lab_chart_height: lab_bars.len() as i64 * 22 + 10,
            bars,
            lab_bars,
            rows: d
                .instruments
                .iter()
                .take(200)
                .map(|u| {
                    (
                        u.instrument_name.clone(),
                        u.lab_name.clone(),
                        format!("{:.1}", u.utilisation.available_minutes as f64 / 60.0),
                        format!("{:.1}", u.utilisation.used_minutes as f64 / 60.0),
                        pct(u.utilisation.utilisation_bp),
                        pct(u.utilisation.sharing_rate_bp),
                    )
                })
                .collect(),
        }
    }
}

// ---------------------------------------------------------------- report verification

#[derive(Template)]
#[template(path = "labs/report.html")]
pub(super) struct ReportPage {
    tr: Tr,
    c: Chrome,
    number: String,
    status: String,
    status_class: String,
    lab: String,
    enterprise: String,
    item: String,
    issued_on: String,
    result: String,
    qr: String,
}

impl ReportPage {
    /// `qr` is the inline SVG of the report's public URL.
    pub(super) fn new(tr: Tr, c: Chrome, rep: ReportRecord, qr: String) -> Self {
        Self {
            tr,
            c,
            number: rep.number.clone(),
            status: state_word(tr, &rep.status.describe_zh(), rep.status.name()),
            status_class: match rep.status {
                ReportStatus::Valid => "ok".into(),
                _ => "bad".into(),
            },
            lab: rep.lab_name,
            enterprise: rep.enterprise_name,
            item: rep.item,
            issued_on: rep.issued_on.to_string(),
            result: if rep.results.passed {
                tr.t("合格", "Pass").into()
            } else {
                format!(
                    "{}: {}",
                    tr.t("不合格", "Fail"),
                    rep.results.failed_items.join("、")
                )
            },
            qr,
        }
    }
}

/// A waitlist entry's state in the page's language.
pub fn wait_state_name(tr: Tr, s: WaitState) -> String {
    match s {
        WaitState::Waiting => tr.t("候补中", "Waiting"),
        WaitState::Offered => tr.t("已为您保留空档，待确认", "Slot held for you"),
        WaitState::Booked => tr.t("已转为预约", "Booked"),
        WaitState::Declined => tr.t("已放弃", "Declined"),
        WaitState::Expired => tr.t("已过期", "Expired"),
    }
    .to_string()
}
