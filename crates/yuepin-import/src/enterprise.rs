//! Enterprise rows: identity, region, industry, capital, staff, founding date, listing,
//! designations (`code@awarded~expires; …`) and yearly revenue columns.

use crate::columns::{enterprise as c, Binding};
use crate::error::FileError;
use crate::fast;
use crate::rows::{Cells, Record};
use yuepin_domain::{
    Designation, DesignationKind, Division, DomainError, Enterprise, Financials, Listing,
    RegionCode, Uscc, Yuan,
};

impl Record for Enterprise {
    const DATASET: &'static str = "enterprises";

    fn bind(headers: &[String]) -> Result<Binding, FileError> {
        Binding::bind(Self::DATASET, c::SPECS, true, headers)
    }

    fn parse(cells: &mut Cells<'_>) -> Option<Self> {
        let uscc = cells.parse_with(c::USCC, Uscc::parse);
        let name = cells.parse_with(c::NAME, Enterprise::check_name);
        let region = cells.parse_with(c::REGION, RegionCode::parse);
        let division = cells.parse_with(c::DIVISION, Division::parse);
        let registered_capital = cells.parse_with(c::REGISTERED_CAPITAL, |s| {
            if s.is_empty() {
                Ok(Yuan::ZERO)
            } else {
                non_negative(fast::yuan(s)?, "registered_capital")
            }
        });
        let employees = cells.parse_with(c::EMPLOYEES, parse_employees);
        let founded_on = cells.parse_with(c::FOUNDED_ON, |s| fast::date("founded_on", s));
        let listing = cells.parse_with(c::LISTING, str::parse::<Listing>);
        let designations = cells.parse_with(c::DESIGNATIONS, parse_designations);
        let financials = parse_financials(cells);
        Some(Enterprise {
            uscc: uscc?,
            name: name?,
            region: region?,
            division: division?,
            registered_capital: registered_capital?,
            employees: employees?,
            founded_on: founded_on?,
            listing: listing?,
            designations: designations?,
            financials: financials?,
        })
    }

    fn natural_key(&self) -> String {
        self.uscc.to_string()
    }

    fn key_column(&self) -> usize {
        c::USCC
    }
}

fn non_negative(y: Yuan, field: &'static str) -> Result<Yuan, DomainError> {
    if y < Yuan::ZERO {
        Err(DomainError::new(
            field,
            format!("不能为负数 (must not be negative: {y})"),
        ))
    } else {
        Ok(y)
    }
}

/// Head count; empty means unknown and is stored as 0. "1,200" and "1200人" are accepted.
fn parse_employees(s: &str) -> Result<u32, DomainError> {
    let digits: String = s
        .trim_end_matches('人')
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' '))
        .collect();
    if digits.is_empty() {
        return Ok(0);
    }
    digits.parse().map_err(|_| {
        DomainError::new(
            "employees",
            format!("从业人员应为非负整数 (must be a whole number of people, got {s:?})"),
        )
    })
}

/// `little_giant@2022-07-01~2025-06-30; 高新技术企业@2021-12-01` — separators `;` or `；`, expiry optional.
pub fn parse_designations(s: &str) -> Result<Vec<Designation>, DomainError> {
    let mut out = Vec::new();
    for part in s
        .split([';', '；'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (kind, dates) = part.split_once(['@', '＠']).ok_or_else(|| {
            DomainError::new(
                "designations",
                format!(
                    "{part:?} 缺少认定日期，格式为 类型@认定日期~到期日期 (missing date: write kind@awarded~expires)"
                ),
            )
        })?;
        let kind: DesignationKind = fast::designation_kind(kind)
            .map_err(|e: DomainError| DomainError::new("designations", e.reason))?;
        let (awarded, expires) = match dates.split_once(['~', '～']) {
            Some((a, e)) => (a, Some(e)),
            None => (dates, None),
        };
        let awarded_on = fast::date("designations", awarded)?;
        let expires_on = expires
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| fast::date("designations", e))
            .transpose()?;
        if expires_on.is_some_and(|e| e < awarded_on) {
            return Err(DomainError::new(
                "designations",
                format!("{part:?} 到期日期早于认定日期 (expires before it was awarded)"),
            ));
        }
        out.push(Designation {
            kind,
            awarded_on,
            expires_on,
        });
    }
    Ok(out)
}

/// The `code@awarded~expires; …` text that [`parse_designations`] reads.
pub fn format_designations(designations: &[Designation]) -> String {
    designations
        .iter()
        .map(|d| match d.expires_on {
            Some(e) => format!("{}@{}~{}", d.kind.code(), d.awarded_on, e),
            None => format!("{}@{}", d.kind.code(), d.awarded_on),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn parse_financials(cells: &mut Cells<'_>) -> Option<Vec<Financials>> {
    let mut out = Vec::new();
    let mut ok = true;
    let columns: Vec<(i32, Option<usize>, Option<usize>)> = cells
        .binding
        .revenue
        .iter()
        .map(|(y, (china, world))| (*y, *china, *world))
        .collect();
    for (year, china_col, world_col) in columns {
        let china = cells.text_at(china_col);
        let world = cells.text_at(world_col);
        if china.is_empty() && world.is_empty() {
            continue;
        }
        let china_value = if china.is_empty() {
            if let Some(pos) = world_col {
                cells.fail_at(
                    pos,
                    format!("填写了{year}年全球营业收入但缺少境内营业收入 (world revenue given without China revenue for {year})"),
                );
            }
            None
        } else {
            match fast::yuan(china).and_then(|y| non_negative(y, "revenue")) {
                Ok(y) => Some(y),
                Err(e) => {
                    if let Some(pos) = china_col {
                        cells.fail_at(pos, e.reason);
                    }
                    None
                }
            }
        };
        let world_value = if world.is_empty() {
            Some(None)
        } else {
            match fast::yuan(world).and_then(|y| non_negative(y, "revenue")) {
                Ok(y) => Some(Some(y)),
                Err(e) => {
                    if let Some(pos) = world_col {
                        cells.fail_at(pos, e.reason);
                    }
                    None
                }
            }
        };
        match (china_value, world_value) {
            (Some(revenue_china), Some(revenue_world)) => out.push(Financials {
                year,
                revenue_china,
                revenue_world,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(out)
}
