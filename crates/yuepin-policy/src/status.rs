//! Where a measure stands on a day: in force, in force but lapsing within 90 days, lapsed on a
//! day, or replaced by a named successor measure of a later pack; worded zh/en for every page
//! that shows a measure. Pure: the day is an argument.

use crate::model::{Label, MeasureIdx, PolicySet};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// Days before the last day from which a measure is shown as lapsing soon.
pub const LAPSING_SOON_DAYS: i64 = 90;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MeasureStatus {
    /// Not yet in force on the day.
    NotYet {
        from: NaiveDate,
    },
    InForce {
        until: NaiveDate,
    },
    /// In force, the last day less than 90 days away.
    LapsingSoon {
        until: NaiveDate,
    },
    Lapsed {
        until: NaiveDate,
    },
    /// A loaded measure of a later pack replaces it (from that measure's first day).
    Replaced {
        by: String,
        title: Label,
        document: String,
        from: NaiveDate,
    },
}

fn zh_day(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn en_day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

impl MeasureStatus {
    /// 有效 / 将于YYYY年M月D日失效 / 已于YYYY年M月D日失效 / 已由《…》替代, and in English.
    pub fn label(&self) -> Label {
        match self {
            MeasureStatus::NotYet { from } => Label::new(
                format!("自{}起施行", zh_day(*from)),
                format!("In force from {}", en_day(*from)),
            ),
            MeasureStatus::InForce { .. } => Label::new("有效", "In force"),
            MeasureStatus::LapsingSoon { until } => Label::new(
                format!("将于{}失效", zh_day(*until)),
                format!("Lapses after {}", en_day(*until)),
            ),
            MeasureStatus::Lapsed { until } => Label::new(
                format!("已于{}失效", zh_day(*until)),
                format!("Lapsed after {}", en_day(*until)),
            ),
            MeasureStatus::Replaced {
                title,
                document,
                from,
                ..
            } => Label::new(
                format!(
                    "已由《{}》（{document}）替代，自{}起",
                    title.zh,
                    zh_day(*from)
                ),
                format!(
                    "Replaced by “{}” ({document}) from {}",
                    title.en,
                    en_day(*from)
                ),
            ),
        }
    }

    /// Whether the measure applies on the day (in force, lapsing soon or not).
    pub fn in_force(&self) -> bool {
        matches!(
            self,
            MeasureStatus::InForce { .. } | MeasureStatus::LapsingSoon { .. }
        )
    }

    /// A CSS class name for the badge.
    pub fn class(&self) -> &'static str {
        match self {
            MeasureStatus::InForce { .. } => "in-force",
            MeasureStatus::LapsingSoon { .. } => "lapsing",
            MeasureStatus::NotYet { .. } => "not-yet",
            MeasureStatus::Lapsed { .. } | MeasureStatus::Replaced { .. } => "lapsed",
        }
    }
}

/// The status of measure `m` on `day`.
pub fn measure_status(set: &PolicySet, m: MeasureIdx, day: NaiveDate) -> Option<MeasureStatus> {
    let measure = set.measures().get(m)?;
    let p = measure.in_force;
    let successor = set
        .measures()
        .iter()
        .filter(|x| x.supersedes.contains(&measure.key))
        .find(|x| x.in_force.from <= day);
    if let Some(s) = successor {
        let pack = set.packs().get(s.pack)?;
        return Some(MeasureStatus::Replaced {
            by: s.key.clone(),
            title: s.title.clone(),
            document: pack.number.clone(),
            from: s.in_force.from,
        });
    }
    Some(if day < p.from {
        MeasureStatus::NotYet { from: p.from }
    } else if day > p.until {
        MeasureStatus::Lapsed { until: p.until }
    } else if (p.until - day).num_days() < LAPSING_SOON_DAYS {
        MeasureStatus::LapsingSoon { until: p.until }
    } else {
        MeasureStatus::InForce { until: p.until }
    })
}

/// The status of a whole pack (its document's period) on `day`, worded like a measure's.
pub fn pack_status(set: &PolicySet, pack: usize, day: NaiveDate) -> Option<MeasureStatus> {
    let p = set.packs().get(pack)?.in_force;
    Some(if day < p.from {
        MeasureStatus::NotYet { from: p.from }
    } else if day > p.until {
        MeasureStatus::Lapsed { until: p.until }
    } else if (p.until - day).num_days() < LAPSING_SOON_DAYS {
        MeasureStatus::LapsingSoon { until: p.until }
    } else {
        MeasureStatus::InForce { until: p.until }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_74_pack_on_its_first_and_last_day_and_after() {
        let set = PolicySet::builtin();
        let m = set.find_measure("M18").unwrap();
        let on = |s: &str| measure_status(&set, m, d(s)).unwrap();
        assert_eq!(on("2023-10-11").class(), "not-yet");
        assert!(on("2023-10-12").in_force());
        assert_eq!(on("2023-10-12").label().zh, "有效");
        assert_eq!(on("2026-07-14").label().zh, "将于2026年10月11日失效");
        assert_eq!(on("2026-07-13").label().zh, "有效");
        assert!(on("2026-10-11").in_force());
        assert_eq!(on("2026-10-12").label().zh, "已于2026年10月11日失效");
        assert_eq!(on("2026-12-01").label().en, "Lapsed after 11 October 2026");
        assert!(!on("2026-12-01").in_force());
    }

    #[test]
    fn a_successor_names_itself() {
        let mut set = PolicySet::builtin();
        set.load_str("example.yaml", crate::EXAMPLE_SECOND_PACK)
            .unwrap();
        let m16 = set.find_measure("gd-2023-74/M16").unwrap();
        let s = measure_status(&set, m16, d("2026-12-01")).unwrap();
        assert!(matches!(s, MeasureStatus::Replaced { .. }), "{s:?}");
        assert!(s.label().zh.starts_with("已由《"), "{}", s.label().zh);
        // Before the successor starts, the 74号 measure is only lapsing.
        let before = measure_status(&set, m16, d("2026-09-01")).unwrap();
        assert!(before.in_force());
    }
}
