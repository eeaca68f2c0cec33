//! Labs request bodies and query strings as users send them (strings as typed), parsed into
//! the domain values the service takes, each bad field reported by name: times and ranges,
//! schedules, labs, instruments, services, availability queries, booking parts.

use crate::error::{WebError, WebResult};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::Value;
use yuepin_domain::{RegionCode, StandardCode, Yuan};
use yuepin_labs::{
    Accessory, CmaNumber, CnasNumber, Contact, DailyWindow, Instrument, InstrumentId, Lab, LabCode,
    LabId, Qualification, Service, ServiceArea, ServiceId, ServiceMode, SlotQuery, Tariff,
    TestItem, TestMethod, TimeRange, WeeklySchedule,
};
use yuepin_labs_service::{BookingPart, MAX_SEARCH_DAYS};

/// Parses "2026-12-01T09:00", "2026-12-01 09:00" or with seconds (China time).
pub(crate) fn parse_time(field: &str, s: &str) -> WebResult<NaiveDateTime> {
    let s = s.trim();
    for f in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t);
        }
    }
    Err(WebError::field(
        field,
        "时间格式应为 YYYY-MM-DD HH:MM (expected YYYY-MM-DD HH:MM, China time)",
    ))
}

/// A range from a start and either an end or a length in minutes (up to 92 days).
pub(crate) fn parse_range(
    start: &str,
    end: Option<&str>,
    minutes: Option<i64>,
) -> WebResult<TimeRange> {
    let s = parse_time("start", start)?;
    let r = match (end.filter(|e| !e.trim().is_empty()), minutes) {
        (Some(e), _) => TimeRange::new(s, parse_time("end", e)?),
        (None, Some(m)) if (1..=24 * 60 * 92).contains(&m) => TimeRange::starting_at(s, m),
        _ => {
            return Err(WebError::field(
                "end",
                "需要结束时间或时长 (end or minutes required)",
            ))
        }
    };
    r.map_err(|e| WebError::field("end", e.reason))
}

/// "weekdays 08:30-12:00,13:30-17:30", "daily 08:00-22:00", "always" (or the JSON form).
pub(crate) fn parse_schedule(field: &str, v: &Value) -> WebResult<WeeklySchedule> {
    if let Some(s) = v.as_str() {
        let s = s.trim();
        if s == "always" {
            return Ok(WeeklySchedule::always());
        }
        let (kind, rest) = s.split_once(' ').unwrap_or(("weekdays", s));
        let windows = rest
            .split(',')
            .map(|w| DailyWindow::parse(w.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| WebError::field(field, e.reason))?;
        let r = match kind {
            "weekdays" => WeeklySchedule::weekdays(&windows),
            "daily" => WeeklySchedule::every_day(&windows),
            _ => return Err(WebError::field(field, "应为 weekdays/daily/always (expected weekdays HH:MM-HH:MM, daily HH:MM-HH:MM or always)")),
        };
        r.map_err(|e| WebError::field(field, e.reason))
    } else {
        serde_json::from_value(v.clone()).map_err(|e| WebError::field(field, e.to_string()))
    }
}

pub(crate) fn yuan(field: &str, s: &str) -> WebResult<Yuan> {
    Yuan::parse(s).map_err(|e| WebError::field(field, e.reason))
}

pub(crate) fn lab_field<T>(r: Result<T, yuepin_labs::LabError>) -> WebResult<T> {
    r.map_err(|e| WebError::field(e.field, e.reason))
}

/// A city (any name or code GB/T 2260 knows); empty means "any".
pub(crate) fn city(s: &str) -> WebResult<Option<RegionCode>> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    RegionCode::parse(s)
        .map(Some)
        .map_err(|e| WebError::field("city", e.reason))
}

// ---------------------------------------------------------------- labs

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LabInput {
    code: String,
    name: String,
    #[serde(default)]
    cma: Option<String>,
    #[serde(default)]
    cnas: Option<String>,
    #[serde(default)]
    scope: Vec<TestMethod>,
    #[serde(default)]
    areas: Vec<ServiceArea>,
    city: String,
    contact: Contact,
    opening_hours: Value,
}

pub(crate) fn build_lab(input: &LabInput) -> WebResult<(LabCode, Lab)> {
    let code = lab_field(LabCode::parse(&input.code))?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(WebError::field(
            "name",
            "名称应为1至100个字符 (1–100 characters)",
        ));
    }
    let cma = match input.cma.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(lab_field(CmaNumber::parse(s))?),
        None => None,
    };
    let cnas = match input.cnas.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(lab_field(CnasNumber::parse(s))?),
        None => None,
    };
    let city = RegionCode::parse(&input.city).map_err(|e| WebError::field("city", e.reason))?;
    Ok((
        code,
        Lab {
            id: LabId(0),
            name: name.to_string(),
            cma,
            cnas,
            scope: input.scope.clone(),
            areas: input.areas.clone(),
            city,
            contact: input.contact.clone(),
            opening_hours: parse_schedule("opening_hours", &input.opening_hours)?,
        },
    ))
}

// ---------------------------------------------------------------- instruments

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct InstrumentInput {
    #[serde(default)]
    pub id: Option<i64>,
    pub name: String,
    pub model: String,
    pub maker: String,
    pub purchase_price: String,
    pub purchased_on: String,
    pub location: String,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    pub test_methods: Vec<TestMethod>,
    pub peak_hourly: String,
    #[serde(default)]
    pub off_peak_hourly: Option<String>,
    #[serde(default)]
    pub peak_hours: Option<Value>,
    #[serde(default)]
    pub accessories: Vec<AccessoryInput>,
    #[serde(default)]
    pub operator_qualification: Option<String>,
    #[serde(default)]
    pub opening_hours: Option<Value>,
    #[serde(default)]
    pub requires_approval: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct AccessoryInput {
    pub name: String,
    pub hourly: String,
}

/// An instrument of `lab`: its city and opening hours default to the lab's.
pub(crate) fn build_instrument(lab: &Lab, input: &InstrumentInput) -> WebResult<Instrument> {
    let text = |field: &str, s: &str, max: usize| -> WebResult<String> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > max {
            Err(WebError::field(
                field,
                format!("应为1至{max}个字符 (1–{max} characters)"),
            ))
        } else {
            Ok(s.to_string())
        }
    };
    if input.test_methods.is_empty() {
        return Err(WebError::field(
            "test_methods",
            "至少一个检测项目 (at least one test item)",
        ));
    }
    let peak = yuan("peak_hourly", &input.peak_hourly)?;
    let off_peak = match input.off_peak_hourly.as_deref() {
        Some(s) if !s.trim().is_empty() => yuan("off_peak_hourly", s)?,
        _ => peak,
    };
    if peak < Yuan::ZERO || off_peak < Yuan::ZERO {
        return Err(WebError::field(
            "peak_hourly",
            "价格不能为负 (prices cannot be negative)",
        ));
    }
    let tariff = match &input.peak_hours {
        Some(v) => Tariff {
            peak_hourly: peak,
            off_peak_hourly: off_peak,
            peak: parse_schedule("peak_hours", v)?,
        },
        None => Tariff::flat(peak),
    };
    let mut accessories = Vec::new();
    for (i, a) in input.accessories.iter().enumerate() {
        accessories.push(Accessory {
            name: text(&format!("accessories[{i}].name"), &a.name, 60)?,
            hourly: yuan(&format!("accessories[{i}].hourly"), &a.hourly)?,
        });
    }
    Ok(Instrument {
        id: InstrumentId(0),
        lab: lab.id,
        name: text("name", &input.name, 100)?,
        model: text("model", &input.model, 60)?,
        maker: text("maker", &input.maker, 100)?,
        purchase_price: yuan("purchase_price", &input.purchase_price)?,
        purchased_on: yuepin_domain::parse_date("purchased_on", &input.purchased_on)?,
        location: text("location", &input.location, 100)?,
        city: match input.city.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(c) => RegionCode::parse(c).map_err(|e| WebError::field("city", e.reason))?,
            None => lab.city.clone(),
        },
        capabilities: input
            .capabilities
            .iter()
            .map(|c| c.trim().chars().take(100).collect())
            .filter(|c: &String| !c.is_empty())
            .take(50)
            .collect(),
        test_methods: input.test_methods.clone(),
        tariff,
        accessories,
        operator_qualification: match input.operator_qualification.as_deref() {
            Some(q) if !q.trim().is_empty() => Some(lab_field(Qualification::parse(q))?),
            _ => None,
        },
        opening_hours: match &input.opening_hours {
            Some(v) => parse_schedule("opening_hours", v)?,
            None => lab.opening_hours.clone(),
        },
    })
}

// ---------------------------------------------------------------- services

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ServiceInput {
    #[serde(default)]
    pub id: Option<i64>,
    area: ServiceArea,
    mode: ServiceMode,
    item: String,
    #[serde(default)]
    standards: Vec<StandardCode>,
    price_per_sample: String,
    turnaround_days: u16,
}

pub(crate) fn build_service(lab: &Lab, input: ServiceInput) -> WebResult<Service> {
    if !(1..=365).contains(&input.turnaround_days) {
        return Err(WebError::field(
            "turnaround_days",
            "1至365天 (1 to 365 days)",
        ));
    }
    Ok(Service {
        id: ServiceId(0),
        lab: lab.id,
        area: input.area,
        mode: input.mode,
        method: TestMethod {
            item: lab_field(TestItem::parse(&input.item))?,
            standards: input.standards,
        },
        price_per_sample: yuan("price_per_sample", &input.price_per_sample)?,
        turnaround_days: input.turnaround_days,
    })
}

// ---------------------------------------------------------------- availability, bookings

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AvailabilityQuery {
    #[serde(default)]
    pub item: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub minutes: Option<u32>,
    #[serde(default)]
    pub limit: Option<usize>,
}

/// The test items (1 to 5, comma-separated) and the search: from now (or a day, never before
/// now) for 14 days by default, 2 h slots on a 30-minute grid.
pub(crate) fn slot_query(q: &AvailabilityQuery) -> WebResult<(Vec<TestItem>, SlotQuery)> {
    let items = q
        .item
        .split([',', '，'])
        .filter(|s| !s.trim().is_empty())
        .map(TestItem::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| WebError::field("item", e.reason))?;
    if items.is_empty() || items.len() > 5 {
        return Err(WebError::field(
            "item",
            "需要1至5个检测项目 (1 to 5 test items)",
        ));
    }
    let now = yuepin_labs_service::now();
    let from = if q.from.trim().is_empty() {
        now
    } else if let Ok(d) = NaiveDate::parse_from_str(q.from.trim(), "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).unwrap_or(now).max(now)
    } else {
        parse_time("from", &q.from)?
    };
    let to = if q.to.trim().is_empty() {
        from + chrono::Duration::days(14)
    } else if let Ok(d) = NaiveDate::parse_from_str(q.to.trim(), "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).unwrap_or(from) + chrono::Duration::days(1)
    } else {
        parse_time("to", &q.to)?
    };
    if to <= from || (to - from).num_days() > MAX_SEARCH_DAYS {
        return Err(WebError::field(
            "to",
            "查询范围应为1分钟至92天 (window must be 1 minute to 92 days)",
        ));
    }
    let window = TimeRange::new(from, to).map_err(|e| WebError::field("to", e.reason))?;
    let minutes = q.minutes.unwrap_or(120);
    if !(30..=24 * 60).contains(&minutes) {
        return Err(WebError::field(
            "minutes",
            "时长30至1440分钟 (30 to 1440 minutes)",
        ));
    }
    Ok((
        items.clone(),
        SlotQuery {
            test_item: items[0].clone(),
            city: city(&q.city)?,
            window,
            duration_minutes: minutes,
            granularity_minutes: 30,
            limit: q.limit.unwrap_or(50).clamp(1, 500),
        },
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct PartInput {
    pub instrument_id: i64,
    pub start: String,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub minutes: Option<i64>,
    #[serde(default)]
    pub self_operated: bool,
    #[serde(default)]
    pub accessories: Vec<String>,
}

pub(crate) fn to_part(p: &PartInput) -> WebResult<BookingPart> {
    Ok(BookingPart {
        instrument_id: p.instrument_id,
        range: parse_range(&p.start, p.end.as_deref(), p.minutes)?,
        self_operated: p.self_operated,
        accessories: p.accessories.iter().take(10).cloned().collect(),
    })
}
